"""Port cases the earlier ports did not cover (ports12), by upstream source.

* JAX ``tests/lax_control_flow_test.py`` gradients written as the Python
  loops a NumPy user writes: ``fori_loop`` carries (scalars, tuples,
  arrays updated in place), ``while_loop`` with a data-dependent exit,
  ``cond``/``switch`` inside and outside loops, ``scan`` with stacked
  outputs, reversed scans, two carries, nested loops, ``map``,
  cumulative reductions (``cumsum``/``cumprod``/``cummax``/
  ``cumlogsumexp``, reversed), Newton iterations, zero-trip loops;
* ``jax.nn`` (``tests/nn_test.py``) activations and helpers written in
  NumPy: ``softplus``, ``silu``, ``gelu`` (exact and tanh), ``celu``,
  ``selu``, ``elu``, ``relu6``, ``hard_tanh``, ``hard_silu``,
  ``sparse_plus``/``sparse_sigmoid``, ``mish``, ``squareplus``,
  ``log_sigmoid``, ``glu``, ``log_softmax``/``softmax`` with ``where=``,
  ``logsumexp`` with ``b=`` and ``where=``, ``one_hot`` (labels out of
  range too), ``standardize`` (with ``where=``), dot-product attention with
  a causal mask and a bias, overflow-safe forms at +-800;
* PyTorch ``test/test_nn.py`` / ``torch.nn.functional`` losses:
  ``cross_entropy`` (label smoothing, ``ignore_index``, class weights,
  probability targets), ``nll_loss``, ``kl_div`` (``log_target``),
  ``poisson_nll_loss`` (``log_input``, ``full``), ``gaussian_nll_loss``,
  ``huber_loss``, ``smooth_l1_loss``, ``margin_ranking_loss``,
  ``triplet_margin_loss`` (``p``, ``swap``), ``cosine_embedding_loss``,
  ``soft_margin``/``multilabel_soft_margin``/``multi_margin``,
  ``binary_cross_entropy_with_logits`` (``pos_weight``), a CTC forward
  recursion, focal and dice losses;
* PyTorch ``test_ops_gradients`` reductions: ``dim`` tuples with
  ``keepdim``, negative and empty axes, ``dtype=``, ``prod`` through zeros,
  ``var``/``std`` corrections, ``norm`` orders over axis pairs,
  ``logsumexp`` over axis tuples, ``quantile``/``median``;
* ADBench's objectives (Enzyme's and Tapenade's benchmarks) in NumPy form:
  GMM with Wishart prior, bundle adjustment (Rodrigues rotation, radial
  distortion, weight error), the two-layer LSTM next-character loss, and a
  small hand-tracking skinning residual;
* JAX ``checkify``-style NaN/inf edges, as gradients that must be finite:
  ``x ** 0``, ``0 ** y``, ``xlogy`` at 0, ``logaddexp`` with ``-inf``,
  masked softmax with ``-inf`` logits, ties of ``maximum``;
* Zygote's ``test/gradcheck.jl`` rules not reached before: ``kron``,
  ``circshift``, ``reverse``, ``permutedims``, ``repeat``, matrix powers,
  ``sqrt`` of a matrix, ``cross``, ``hypot``, ``atan(y, x)``, ``rem``,
  ``pinv``, ``logabsdet``, ``norm`` with p = 1, 3, Inf, ``foldl`` of
  products, ``accumulate``.

The facts (which functions, options and points) are the upstream tests'; the
code is ours.
"""
from __future__ import annotations

import numpy as np

from .harness import source_case

RNG = np.random.default_rng(20261204)

NP = "import numpy as np"
SP = "import numpy as np\nimport scipy.special"
SL = "import numpy as np\nimport scipy.linalg"


def R(*shape):
    return RNG.standard_normal(shape)


def U(lo, hi, *shape):
    return RNG.uniform(lo, hi, shape)


def Dist(*shape):
    """Values with no ties and no value near another or near 0."""
    n = int(np.prod(shape))
    return ((RNG.permutation(n) * 0.37 + RNG.uniform(0, 0.1, n)).reshape(shape) - 0.15 * n) * 0.5


def spd(n):
    a = R(n, n)
    return a @ a.T + n * np.eye(n)


class _Area:
    def __init__(self, area, header=NP):
        self.area, self.header, self.out = area, header, []

    def __call__(self, name, src, args, wrt=(0,), header=None, **kw):
        if not src.lstrip().startswith(("def ", "import", "from")):
            params = ", ".join("abcdefgh"[:len(args)])
            src = f"def f({params}):\n    return {src}\n"
        self.out.append(source_case(self.area, name, src, args, wrt,
                                    header=header or self.header, **kw))


class _SubArea:
    """Cases of ``area`` written with another header."""

    def __init__(self, area, header):
        self.area, self.header = area, header

    def __call__(self, name, src, args, wrt=(0,), **kw):
        self.area(name, src, args, wrt, header=self.header, **kw)


# ------------------------------------------------------------------ lax_control_flow


def control_cases():
    s = _Area("control")
    s("fori_scalar", """
def f(x):
    for i in range(5):
        x = x * 0.9 + np.sin(x) * 0.3
    return x
""", (0.7,))
    s("fori_tuple_carry", """
def f(x, y):
    a, b = x, y
    for i in range(4):
        a, b = b * 0.5 + np.cos(a), a * b * 0.3
    return a + 2.0 * b
""", (0.4, -0.8), wrt=(0, 1))
    s("fori_index_in_body", """
def f(x):
    s = x
    for i in range(1, 6):
        s = s + np.sin(i * x) / i
    return s
""", (0.3,))
    s("fori_update_slice", """
def f(x):
    out = np.zeros((4, 3))
    c = x
    for i in range(4):
        c = np.tanh(c * 1.1 + 0.1 * i)
        out[i] = c
    return out
""", (R(3),))
    s("fori_runtime_trip", """
def f(x, n):
    for i in range(n):
        x = x - 0.1 * x ** 3
    return x
""", (np.array([0.5, -0.7, 1.1]), 6))
    s("fori_zero_trip", """
def f(x, n):
    y = 2.0 * x
    for i in range(n):
        y = y * y
    return y
""", (R(3), 0))
    s("while_data_exit", """
def f(x, c):
    while x < 10.0:
        x = x * 1.5 + c
    return x
""", (0.7, 0.45), wrt=(0, 1))
    s("while_counter_and_data", """
def f(x):
    i = 0
    s = 0.0
    while i < 8 and s < 3.0:
        s = s + x * x
        i += 1
    return s * np.exp(-x)
""", (0.83,))
    s("while_array_norm", """
def f(x):
    while np.sum(x * x) < 20.0:
        x = 1.3 * x + 0.1
    return x
""", (np.array([0.31, -0.42, 0.17]),))
    s("while_tuple_carry", """
def f(a, b):
    k = 0
    while k < 5:
        a, b = a + 0.2 * np.sin(b), b - 0.2 * np.sin(a)
        k += 1
    return a * b
""", (0.9, 0.2), wrt=(0, 1))
    s("cond_scalar", """
def f(x):
    if x > 0.5:
        return np.sin(x) * x
    else:
        return np.cos(x) + x
""", (0.9,))
    s("cond_false_branch", """
def f(x):
    if x > 0.5:
        return np.sin(x) * x
    else:
        return np.cos(x) + x
""", (0.1,))
    s("cond_array_pred", """
def f(x, y):
    if np.sum(x) > 0:
        z = x * y
    else:
        z = x - y
    return np.sum(z ** 2)
""", (np.array([0.5, 0.3, -0.1]), R(3)), wrt=(0, 1))
    s("cond_in_loop", """
def f(x):
    for i in range(6):
        if x[i % 3] > 0:
            x = x * 0.8 + 0.1
        else:
            x = x + 0.3 * np.tanh(x)
    return x
""", (np.array([0.52, -0.47, 0.91]),))
    s("switch_index", """
def f(x, k):
    branches = [np.sin, np.cos, np.tanh]
    return branches[k](x) * x
""", (R(4), 2))
    s("switch_clamped", """
def f(x, k):
    fs = [lambda v: v * v, lambda v: np.exp(v), lambda v: -v]
    j = min(max(k, 0), 2)
    return fs[j](x)
""", (R(3), 5))
    s("scan_cumsum_stack", """
def f(xs):
    c = 0.0
    ys = []
    for x in xs:
        c = c + x
        ys.append(c * c)
    return np.stack(ys)
""", (R(5),))
    s("scan_rnn_two_carries", """
def f(W, xs):
    h = np.zeros(3)
    m = np.zeros(3)
    outs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        m = 0.9 * m + 0.1 * h
        outs.append(m)
    return np.sum(np.stack(outs) ** 2)
""", (R(3, 3) * 0.5, R(5, 3)), wrt=(0, 1))
    s("scan_reverse", """
def f(xs, w):
    c = np.zeros(2)
    ys = np.zeros_like(xs)
    for t in reversed(range(xs.shape[0])):
        c = np.sin(c * w + xs[t])
        ys[t] = c
    return ys
""", (R(4, 2), R(2)), wrt=(0, 1))
    s("scan_enumerate_zip", """
def f(xs, ys):
    acc = 1.0
    for i, (a, b) in enumerate(zip(xs, ys)):
        acc = acc * (1.0 + 0.1 * (i + 1) * a * b)
    return acc
""", (R(4), R(4)), wrt=(0, 1))
    s("scan_rows", """
def f(X, w):
    s = np.zeros(3)
    for row in X:
        s = s + np.exp(-row * w) * row
    return s
""", (R(4, 3), R(3)), wrt=(0, 1))
    s("scan_xs_and_params", """
def f(a, xs):
    c = 1.0
    out = np.zeros(xs.shape[0])
    for t in range(xs.shape[0]):
        c = a * c + xs[t]
        out[t] = c
    return out
""", (0.8, R(6)), wrt=(0, 1))
    s("nested_fori", """
def f(x):
    for i in range(3):
        for j in range(2):
            x = x + 0.1 * np.sin(x * (i + 1) - j)
    return x
""", (R(3),))
    s("nested_while_in_for", """
def f(x):
    for i in range(3):
        k = 0
        while k < i + 1:
            x = x * 0.7 + 0.2 * np.cos(x)
            k += 1
    return x
""", (np.array([0.3, 1.2]),))
    s("nested_loops_matrix", """
def f(A):
    n = A.shape[0]
    B = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            s = 0.0
            for k in range(n):
                s = s + A[i, k] * A[k, j]
            B[i, j] = s
    return B
""", (R(3, 3),))
    s("map_comprehension", """
def f(x):
    return np.array([np.sin(v) * v for v in x])
""", (R(5),))
    s("newton_sqrt", """
def f(a):
    x = a
    for i in range(20):
        x = 0.5 * (x + a / x)
    return x
""", (2.7,))
    s("fixed_point_while", """
def f(a):
    x = 0.0
    it = 0
    while it < 60:
        x = a * np.cos(x)
        it += 1
    return x
""", (0.6,))
    s("break_data", """
def f(x):
    s = 0.0
    for i in range(10):
        s = s + x * (i + 1)
        if s > 4.0:
            break
    return s * s
""", (0.33,))
    s("cumsum_axis", "np.cumsum(a, axis=1)", (R(3, 4),))
    s("cumsum_reverse", "np.cumsum(a[::-1])[::-1]", (R(5),))
    s("cumprod_axis0", "np.cumprod(a, axis=0)", (U(0.5, 1.5, 4, 3),))
    s("cumprod_reverse", "np.cumprod(a[:, ::-1], axis=1)[:, ::-1]", (U(0.5, 1.5, 2, 4),))
    s("cummax", "np.maximum.accumulate(a)", (Dist(6),))
    s("cummin_axis", "np.minimum.accumulate(a, axis=1)", (Dist(3, 4),))
    s("cumlogsumexp", "np.logaddexp.accumulate(a)", (R(6),))
    s("cumlogsumexp_reverse", "np.logaddexp.accumulate(a[::-1])[::-1]", (R(6),))
    s("cumsum_loop_equiv", """
def f(x):
    out = np.empty_like(x)
    c = 0.0
    for i in range(x.shape[0]):
        c = c + x[i] * x[i]
        out[i] = c
    return out
""", (R(5),))
    s("associative_scan_prod", """
def f(x):
    y = x.copy()
    k = 1
    while k < y.shape[0]:
        y[k:] = y[k:] * y[:-k].copy()
        k *= 2
    return y
""", (U(0.5, 1.5, 6),))
    s("overlap_shift_add", """
def f(x):
    a = x.copy()
    a[1:] += a[:-1]
    return a
""", (R(5),))
    s("overlap_shift_assign", """
def f(x):
    a = x.copy()
    a[1:] = a[:-1] * 2.0
    return a
""", (R(5),))
    s("overlap_reverse_assign", """
def f(x):
    a = x.copy()
    a[:] = a[::-1] + a
    return a
""", (R(5),))
    s("add_at_repeat", """
def f(x, w):
    a = np.zeros(3)
    np.add.at(a, [0, 2, 0, 0], w * x[0])
    return a * x
""", (R(3), R(4)), wrt=(0, 1))
    s("maximum_at", """
def f(x, w):
    a = x.copy()
    np.maximum.at(a, [0, 2, 0], w)
    return a
""", (np.array([0.1, 0.5, -0.3]), np.array([0.7, 0.2, 1.3])), wrt=(0, 1))
    s("loop_view_inplace", """
def f(x):
    a = x.copy()
    for i in range(3):
        v = a[i]
        v *= 2.0
        v += a[(i + 1) % 3]
    return a
""", (R(3, 2),))
    s("swap_carries", """
def f(h0, c0):
    h, c = h0, c0
    for t in range(5):
        h, c = np.tanh(c) + 0.1 * h, h * 0.9
    return h * c
""", (R(3), R(3)), wrt=(0, 1))
    s("for_else_continue", """
def f(x):
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] < 0:
            continue
        s = s + x[i] ** 2
    else:
        s = s * 2.0
    return s
""", (Dist(6),))
    s("while_else_break", """
def f(x):
    k = 0
    while k < 10:
        x = x * 1.2
        if x > 3.0:
            break
        k += 1
    else:
        x = -x
    return x
""", (0.7,))
    s("list_concat_loop_sliced", """
def f(x):
    ys = []
    for i in range(3):
        ys = ys + [x * (i + 1)]
    return np.stack(ys[::-1]) * ys[-1]
""", (R(2),))
    s("list_concat_loop", """
def f(x):
    ys = []
    for i in range(3):
        ys = ys + [x * (i + 1)]
    return np.stack(ys)[::-1] * ys[-1]
""", (R(2),))
    s("while_true_break", """
def f(x):
    k = 0
    while True:
        x = np.sin(x) + 0.5 * x
        k += 1
        if k >= 4 or np.sum(x) > 10.0:
            break
    return x
    """, (R(3),))
    s("while_zero_trips", """
def f(x):
    while np.sum(x) > 100.0:
        x = x * 0.5
    return x * x
    """, (R(3),))
    s("neg_step_range", """
def f(xs):
    c = 1.0
    out = []
    for i in range(len(xs) - 1, -1, -1):
        c = c * 0.5 + xs[i] * c
        out.append(c)
    return np.array(out)
    """, (R(4) * 0.5,))
    s("range_step_runtime", """
def f(x, n):
    s = 0.0
    for i in range(1, n, 2):
        s = s + x[i] * x[i - 1]
    return s
    """, (R(7), 7))
    s("cond_any", """
def f(x):
    if np.any(x > 1.0):
        return np.sum(x ** 2)
    return np.sum(np.exp(x))
    """, (np.array([0.5, -0.3, 1.2]),))
    s("scan_carry_is_output", """
def f(c0, xs):
    c = c0
    cs = [c]
    for x in xs:
        c = np.tanh(c * x + 0.1)
        cs.append(c)
    return c, np.stack(cs)
    """, (R(2), R(3, 2)), wrt=(0, 1))
    s("matrix_prefix_products", """
def f(ms):
    acc = np.eye(2)
    out = []
    for t in range(ms.shape[0]):
        acc = ms[t] @ acc
        out.append(acc)
    return np.stack(out)
    """, (R(4, 2, 2) * 0.7,))
    s("closure_in_loop", """
def f(w, xs):
    def cell(h, x):
        return np.tanh(w * h + x)
    h = np.zeros(2)
    for x in xs:
        h = cell(h, x)
    return h
    """, (R(2), R(3, 2)), wrt=(0, 1))
    s("map_closure", """
def f(w, X):
    g = lambda row: np.sum(np.sin(row * w))
    return np.array([g(r) for r in X])
    """, (R(3), R(4, 3)), wrt=(0, 1))
    s("flip_cumsum_axis", "np.flip(np.cumsum(np.flip(a, 1), 1), 1)", (R(2, 4),))
    s("nested_while_data", """
def f(x):
    i = 0
    while i < 3:
        j = 0
        while j < 2 and x[j] < 5.0:
            x = x * 1.3
            j += 1
        i += 1
    return x
    """, (np.array([0.3, 0.4]),))
    s("loop_returns_early", """
def f(x):
    for i in range(5):
        x = x * 1.5
        if np.max(x) > 2.0:
            return x - i
    return x
    """, (np.array([0.3, 0.4]),))
    s("loop_accumulate_tuple", """
def f(x):
    acc = (0.0, 1.0)
    for i in range(3):
        acc = (acc[0] + x[i], acc[1] * x[i])
    return acc[0] * acc[1]
    """, (R(3),))
    s("loop_dict_entries", """
def f(x):
    d = {"a": x * 1.0, "b": x * 2.0}
    for i in range(3):
        d["a"] = d["a"] + d["b"] * 0.1
        d["b"] = np.sin(d["a"])
    return d["a"] * d["b"]
    """, (R(2),))
    s("odeint_euler_while", """
def f(y0, k):
    t = 0.0
    y = y0
    while t < 1.0 - 1e-9:
        y = y + 0.1 * (-k * y)
        t = t + 0.1
    return y
    """, (R(2), 0.7), wrt=(0, 1))
    s("loop_carry_float32", """
def f(x):
    for i in range(4):
        x = x * np.float32(0.9) + np.sin(x)
    return x
""", (R(3).astype(np.float32),), rtol=2e-3, atol=1e-4)
    return s.out


# ------------------------------------------------------------------ jax.nn


NN_HELPERS = """

def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))
"""


def nn_cases():
    s = _Area("nn", header=NP + NN_HELPERS)
    x = Dist(7)            # no value at a kink (0, +-1, 6 ...)
    xs = np.array([-7.3, -3.4, -1.6, -0.7, -0.2, 0.35, 0.8, 1.9, 4.2, 6.7])
    s("softplus", "np.logaddexp(a, 0.0)", (x,))
    s("softplus_log1p", "np.log1p(np.exp(-np.abs(a))) + np.maximum(a, 0.0)", (x,))
    s("silu", "a * sigmoid(a)", (x,))
    s("gelu_exact", "0.5 * a * (1.0 + scipy.special.erf(a / np.sqrt(2.0)))", (x,),
      header=SP + NN_HELPERS)
    s("gelu_tanh", "0.5 * a * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (a + 0.044715 * a ** 3)))",
      (x,))
    s("celu", "np.maximum(a, 0.0) + np.minimum(0.0, b * (np.exp(a / b) - 1.0))", (xs, 1.3),
      wrt=(0, 1))
    s("selu", """
def f(x):
    alpha = 1.6732632423543772
    scale = 1.0507009873554805
    return scale * np.where(x > 0, x, alpha * np.expm1(x))
""", (xs,))
    s("elu", "np.where(a > 0, a, b * np.expm1(np.where(a > 0, 0.0, a)))", (xs, 0.7), wrt=(0, 1))
    s("relu6", "np.minimum(np.maximum(a, 0.0), 6.0)", (xs,))
    s("hard_tanh", "np.clip(a, -1.0, 1.0)", (xs,))
    s("hard_sigmoid", "np.minimum(np.maximum(a + 3.0, 0.0), 6.0) / 6.0", (xs,))
    s("hard_silu", "a * np.minimum(np.maximum(a + 3.0, 0.0), 6.0) / 6.0", (xs,))
    s("leaky_relu", "np.where(a >= 0, a, 0.01 * a)", (xs,))
    s("sparse_plus", """
def f(x):
    return np.where(x <= -1.0, 0.0, np.where(x >= 1.0, x, (x + 1.0) ** 2 / 4.0))
""", (xs,))
    s("sparse_sigmoid", """
def f(x):
    return np.where(x <= -1.0, 0.0, np.where(x >= 1.0, 1.0, (x + 1.0) / 2.0)) * x
""", (xs,))
    s("log_sigmoid", "-np.logaddexp(0.0, -a)", (xs,))
    s("mish", "a * np.tanh(np.logaddexp(a, 0.0))", (xs,))
    s("logsumexp_return_sign", """
def f(x, b):
    r, sgn = scipy.special.logsumexp(x, b=b, return_sign=True)
    return r * sgn
""", (R(4), np.array([1.0, -2.0, 0.5, -0.3])), header=SP)
    s("squareplus", "(a + np.sqrt(a * a + b)) / 2.0", (xs, 4.0), wrt=(0, 1))
    s("glu", """
def f(x):
    a, b = np.split(x, 2, axis=-1)
    return a * sigmoid(b)
""", (R(3, 6),))
    s("glu_axis0", """
def f(x):
    n = x.shape[0] // 2
    return x[:n] * sigmoid(x[n:])
""", (R(4, 3),))
    s("log_softmax_last", """
def f(x):
    s = x - np.max(x, axis=-1, keepdims=True)
    return s - np.log(np.sum(np.exp(s), axis=-1, keepdims=True))
""", (R(3, 5),))
    s("log_softmax_axis0", """
def f(x):
    s = x - np.max(x, axis=0, keepdims=True)
    return s - np.log(np.sum(np.exp(s), axis=0, keepdims=True))
""", (R(4, 3),))
    s("softmax_where", """
def f(x, mask):
    m = np.max(np.where(mask, x, -np.inf), axis=-1, keepdims=True)
    e = np.where(mask, np.exp(x - m), 0.0)
    return e / np.sum(e, axis=-1, keepdims=True)
""", (R(3, 4), np.array([[1, 1, 0, 1], [0, 1, 1, 1], [1, 0, 0, 1]], bool)))
    s("logsumexp_b", "scipy.special.logsumexp(a, b=b)", (R(5), U(0.2, 2.0, 5)), wrt=(0, 1),
      header=SP)
    s("logsumexp_b_axis", "scipy.special.logsumexp(a, axis=1, b=b)", (R(3, 4), U(0.2, 2, 3, 4)),
      wrt=(0, 1), header=SP)
    s("logsumexp_where", """
def f(x, mask):
    m = np.max(np.where(mask, x, -np.inf), axis=1, keepdims=True)
    return np.log(np.sum(np.exp(x - m), axis=1, where=mask)) + m[:, 0]
""", (R(3, 4), np.array([[1, 1, 0, 1], [0, 1, 1, 1], [1, 0, 0, 1]], bool)))
    s("logsumexp_scipy_keepdims", "scipy.special.logsumexp(a, axis=(0, 2), keepdims=True)",
      (R(2, 3, 2),), header=SP)
    s("one_hot_dot", """
def f(logits, labels):
    k = logits.shape[1]
    oh = (labels[:, None] == np.arange(k)[None, :]).astype(logits.dtype)
    lse = np.log(np.sum(np.exp(logits), axis=1))
    return np.sum(lse - np.sum(oh * logits, axis=1))
""", (R(4, 3), np.array([0, 2, 1, 2])))
    s("one_hot_eye", """
def f(logits, labels):
    oh = np.eye(logits.shape[1])[labels]
    return np.sum(oh * np.tanh(logits))
""", (R(4, 3), np.array([0, 2, 1, 2])))
    s("standardize", """
def f(x):
    m = np.mean(x, axis=-1, keepdims=True)
    v = np.mean(np.square(x), axis=-1, keepdims=True) - np.square(m)
    return (x - m) / np.sqrt(v + 1e-5)
""", (R(3, 5),))
    s("standardize_var", "(a - np.mean(a, axis=0)) / np.sqrt(np.var(a, axis=0) + 1e-5)",
      (R(5, 3),))
    sp = _SubArea(s, SP + NN_HELPERS)
    sp("attention_bias_mask", """
def f(q, k, v, bias):
    s = q @ k.T / np.sqrt(q.shape[-1]) + bias
    mask = np.tril(np.ones((3, 4), bool), 1)
    s = np.where(mask, s, -1e9)
    s = s - np.max(s, axis=-1, keepdims=True)
    p = np.exp(s)
    p = p / p.sum(-1, keepdims=True)
    return p @ v
    """, (R(3, 2), R(4, 2), R(4, 2), R(3, 4)), wrt=(0, 1, 2, 3))
    sp("softmax_large_logits", """
def f(z):
    z = z - np.max(z)
    e = np.exp(z)
    return e / np.sum(e)
    """, (np.array([1000.0, 999.0, 990.0]),))
    sp("one_hot_oob", """
def f(z, labels):
    oh = (labels[:, None] == np.arange(3)).astype(float)
    return np.sum(oh * scipy.special.log_softmax(z, axis=1))
    """, (R(3, 3), np.array([0, 5, 2])))
    sp("log_softmax_scipy", "scipy.special.log_softmax(a, axis=0)", (R(3, 2),))
    sp("softmax_scipy", "scipy.special.softmax(a, axis=1)", (R(3, 2),))
    sp("expit_logit", "scipy.special.expit(scipy.special.logit(a) * 2)", (U(0.1, 0.9, 4),))
    sp("log_expit", "scipy.special.log_expit(a)", (np.array([-800.0, -2.0, 0.5, 30.0]),))
    sp("softplus_np2", "np.logaddexp(0, a)", (np.array([-800.0, -2.0, 0.5, 800.0]),))
    sp("normalize_where", """
def f(x, m):
    mean = np.mean(x, axis=-1, where=m, keepdims=True)
    var = np.mean((x - mean) ** 2, axis=-1, where=m, keepdims=True)
    return np.where(m, (x - mean) / np.sqrt(var + 1e-5), 0.0)
    """, (R(2, 4), np.array([[1, 1, 0, 1], [1, 0, 1, 1]], bool)))
    sp("gelu_erfc", "0.5 * a * scipy.special.erfc(-a / np.sqrt(2))", (R(5),))
    sp("elu_expm1_large", "np.where(a > 0, a, np.expm1(a))",
       (np.array([-800.0, -2.0, 0.5, 800.0]),))
    sp("hard_swish_kink_free", "a * np.clip(a / 6 + 0.5, 0, 1)",
       (np.array([-7.0, -1.0, 0.5, 4.0]),))
    sp("celu_alpha_grad", "np.maximum(a, 0) + np.minimum(0, b * np.expm1(a / b))",
       (np.array([-3.0, -0.4, 0.5]), 0.8), wrt=(0, 1))
    s("silu_float32", "a * sigmoid(a)", (x.astype(np.float32),), rtol=1e-3, atol=1e-5)
    return s.out


# ------------------------------------------------------------------ torch.nn.functional losses


LOSS_HELPERS = """

def log_softmax(z, axis=-1):
    s = z - np.max(z, axis=axis, keepdims=True)
    return s - np.log(np.sum(np.exp(s), axis=axis, keepdims=True))


def logsig(z):
    return -np.logaddexp(0.0, -z)
"""


def loss_cases():
    s = _Area("losses", header=NP + LOSS_HELPERS)
    z = R(5, 4)
    y = np.array([0, 3, 1, 3, 2])
    y_ign = np.array([0, -100, 1, 3, -100])
    s("cross_entropy_label_smoothing", """
def f(z, y):
    eps = 0.1
    lp = log_softmax(z)
    nll = -lp[np.arange(z.shape[0]), y]
    smooth = -np.mean(lp, axis=1)
    return np.mean((1.0 - eps) * nll + eps * smooth)
""", (z, y))
    s("cross_entropy_ignore_index", """
def f(z, y):
    keep = y != -100
    yy = np.where(keep, y, 0)
    lp = log_softmax(z)
    nll = -lp[np.arange(z.shape[0]), yy]
    return np.sum(np.where(keep, nll, 0.0)) / np.sum(keep)
""", (z, y_ign))
    s("cross_entropy_ignore_smoothing", """
def f(z, y, eps):
    keep = y != -100
    yy = np.where(keep, y, 0)
    lp = log_softmax(z)
    nll = -np.take_along_axis(lp, yy[:, None], axis=1)[:, 0]
    smooth = -np.sum(lp, axis=1) / z.shape[1]
    per = (1.0 - eps) * nll + eps * smooth
    return np.sum(per * keep) / np.count_nonzero(keep)
""", (z, y_ign, 0.2), wrt=(0, 2))
    s("cross_entropy_weighted", """
def f(z, w, y):
    lp = log_softmax(z)
    wy = w[y]
    return -np.sum(wy * lp[np.arange(len(y)), y]) / np.sum(wy)
""", (z, U(0.5, 2, 4), y), wrt=(0, 1))
    s("cross_entropy_prob_target", """
def f(z, p):
    return -np.mean(np.sum(p * log_softmax(z), axis=1))
""", (z, np.exp(log_softmax_np(R(5, 4)))), wrt=(0, 1))
    s("cross_entropy_nd", """
def f(z, y):
    lp = log_softmax(z, axis=1)
    n, c, d = z.shape
    picked = lp[np.arange(n)[:, None], y, np.arange(d)[None, :]]
    return -np.mean(picked)
""", (R(2, 3, 4), np.array([[0, 2, 1, 1], [2, 2, 0, 1]])))
    s("nll_loss_sum", "-np.sum(a[np.arange(a.shape[0]), b])", (log_softmax_np(z), y))
    s("kl_div_batchmean", """
def f(inp, t):
    return np.sum(t * (np.log(t) - inp)) / inp.shape[0]
""", (log_softmax_np(R(4, 3)), np.exp(log_softmax_np(R(4, 3)))), wrt=(0, 1))
    s("kl_div_log_target", """
def f(inp, t):
    return np.mean(np.exp(t) * (t - inp))
""", (log_softmax_np(R(4, 3)), log_softmax_np(R(4, 3))), wrt=(0, 1))
    s("kl_div_zero_target", """
def f(inp, t):
    return np.sum(scipy.special.xlogy(t, t) - t * inp)
""", (log_softmax_np(R(2, 3)), np.array([[0.5, 0.5, 0.0], [0.0, 1.0, 0.0]])),
      header=SP + LOSS_HELPERS)
    s("poisson_nll_log_input", "np.mean(np.exp(a) - b * a)", (R(6), U(0, 4, 6)), wrt=(0, 1))
    s("poisson_nll_no_log", "np.mean(a - b * np.log(a + 1e-8))", (U(0.3, 3, 6), U(0, 4, 6)),
      wrt=(0, 1))
    s("poisson_nll_full", """
def f(x, t):
    loss = np.exp(x) - t * x
    st = t * np.log(t) - t + 0.5 * np.log(2.0 * np.pi * t)
    return np.mean(loss + np.where(t > 1, st, 0.0))
""", (R(6), np.array([0.0, 0.5, 1.5, 2.0, 3.0, 7.0])), wrt=(0, 1))
    s("gaussian_nll", """
def f(x, t, var):
    v = np.maximum(var, 1e-6)
    return np.mean(0.5 * (np.log(v) + (x - t) ** 2 / v))
""", (R(5), R(5), U(0.2, 2, 5)), wrt=(0, 1, 2))
    s("gaussian_nll_full_bcast", """
def f(x, t, var):
    v = np.maximum(var, 1e-6)
    return np.sum(0.5 * (np.log(v) + (x - t) ** 2 / v) + 0.5 * np.log(2 * np.pi))
""", (R(4, 3), R(4, 3), U(0.2, 2, 4, 1)), wrt=(0, 1, 2))
    d = np.array([-3.1, -1.4, -0.6, -0.1, 0.2, 0.7, 1.2, 2.9])
    s("huber", """
def f(x, t, delta):
    r = np.abs(x - t)
    return np.mean(np.where(r < delta, 0.5 * r ** 2, delta * (r - 0.5 * delta)))
""", (d, np.zeros(8), 1.0), wrt=(0, 1, 2))
    s("smooth_l1", """
def f(x, t, beta):
    r = np.abs(x - t)
    return np.sum(np.where(r < beta, 0.5 * r ** 2 / beta, r - 0.5 * beta))
""", (d, np.full(8, 0.05), 0.9), wrt=(0, 1, 2))
    s("l1_mse", "np.mean(np.abs(a - b)) + np.mean((a - b) ** 2)", (d, np.zeros(8) + 0.03),
      wrt=(0, 1))
    x1, x2 = R(6), R(6)
    yy = np.array([1.0, -1.0, 1.0, 1.0, -1.0, -1.0])
    x2 = np.where(np.abs(-yy * (x1 - x2) + 0.1) < 0.05, x2 + 0.3, x2)
    s("margin_ranking", "np.mean(np.maximum(0.0, -c * (a - b) + 0.1))", (x1, x2, yy),
      wrt=(0, 1))
    A, P, N = R(4, 5), R(4, 5), R(4, 5)
    s("triplet_p2", """
def f(a, p, n):
    dp = np.sqrt(np.sum((a - p + 1e-6) ** 2, axis=1))
    dn = np.sqrt(np.sum((a - n + 1e-6) ** 2, axis=1))
    return np.mean(np.maximum(dp - dn + 1.0, 0.0))
""", (A, P, N), wrt=(0, 1, 2))
    s("triplet_p1_swap", """
def f(a, p, n):
    dp = np.sum(np.abs(a - p + 1e-6), axis=1)
    dn = np.sum(np.abs(a - n + 1e-6), axis=1)
    ds = np.sum(np.abs(p - n + 1e-6), axis=1)
    return np.mean(np.maximum(dp - np.minimum(dn, ds) + 2.0, 0.0))
""", (A, P, N), wrt=(0, 1, 2))
    s("triplet_norm", """
def f(a, p, n):
    dp = np.linalg.norm(a - p, axis=1)
    dn = np.linalg.norm(a - n, axis=1)
    return np.sum(np.maximum(dp - dn + 1.0, 0.0))
""", (A, P, N), wrt=(0, 1, 2))
    s("cosine_embedding", """
def f(x1, x2, y):
    cos = np.sum(x1 * x2, axis=1) / np.sqrt(np.sum(x1 ** 2, axis=1) * np.sum(x2 ** 2, axis=1))
    return np.mean(np.where(y > 0, 1.0 - cos, np.maximum(0.0, cos - 0.1)))
""", (R(6, 3), R(6, 3), yy), wrt=(0, 1))
    s("hinge_embedding", "np.mean(np.where(b > 0, a, np.maximum(0.0, 1.0 - a)))",
      (np.array([0.3, 0.4, 1.7, 0.2, 0.6, 2.2]), yy))
    s("soft_margin", "np.mean(np.logaddexp(0.0, -b * a))", (R(6), yy))
    s("multilabel_soft_margin", """
def f(x, y):
    return np.mean(-np.mean(y * logsig(x) + (1 - y) * logsig(-x), axis=1))
""", (R(3, 4), np.array([[1, 0, 0, 1], [0, 0, 1, 1], [1, 1, 1, 0]], float)))
    zm = np.array([[0.3, 1.9, -0.8, 0.1], [1.2, -0.4, 0.35, 2.6], [-1.1, 0.45, 0.2, 0.0]])
    s("multi_margin_p1", """
def f(x, y, w):
    n, c = x.shape
    xy = x[np.arange(n), y][:, None]
    m = np.maximum(0.0, 1.0 - xy + x) * w[y][:, None]
    m[np.arange(n), y] = 0.0
    return np.sum(m) / (n * c)
""", (zm, np.array([1, 3, 0]), U(0.5, 2, 4)), wrt=(0, 2))
    s("multi_margin_p2", """
def f(x, y):
    n, c = x.shape
    onehot = np.arange(c)[None, :] == y[:, None]
    xy = np.sum(np.where(onehot, x, 0.0), axis=1, keepdims=True)
    m = np.where(onehot, 0.0, np.maximum(0.0, 1.0 - xy + x) ** 2)
    return np.mean(np.sum(m, axis=1) / c)
""", (zm, np.array([1, 3, 0])))
    s("bce", "-np.mean(b * np.log(a) + (1 - b) * np.log(1 - a))", (U(0.05, 0.95, 6), U(0, 1, 6)),
      wrt=(0, 1))
    s("bce_logits_pos_weight", """
def f(x, y, pw):
    lw = 1.0 + (pw - 1.0) * y
    return np.mean((1 - y) * x - lw * logsig(x))
""", (R(3, 4), U(0, 1, 3, 4), U(0.5, 3, 4)), wrt=(0, 1, 2))
    s("focal_sigmoid", """
def f(x, t):
    p = 1.0 / (1.0 + np.exp(-x))
    ce = -(t * logsig(x) + (1 - t) * logsig(-x))
    pt = p * t + (1 - p) * (1 - t)
    a = 0.25 * t + 0.75 * (1 - t)
    return np.sum(a * ce * (1 - pt) ** 2)
""", (R(8), np.array([1, 0, 0, 1, 1, 0, 1, 0], float)))
    s("dice", """
def f(x, t):
    p = 1.0 / (1.0 + np.exp(-x))
    inter = np.sum(p * t, axis=1)
    return np.mean(1.0 - (2.0 * inter + 1.0) / (np.sum(p, axis=1) + np.sum(t, axis=1) + 1.0))
""", (R(2, 6), (U(0, 1, 2, 6) > 0.5).astype(float)))
    s("ctc_forward", """
def f(logits, labels):
    lp = log_softmax(logits, axis=1)
    T = lp.shape[0]
    ext = [0]
    for l in labels:
        ext.append(int(l))
        ext.append(0)
    S = len(ext)
    alpha = np.full(S, -np.inf)
    alpha[0] = lp[0, 0]
    alpha[1] = lp[0, ext[1]]
    for t in range(1, T):
        new = np.full(S, -np.inf)
        for s in range(S):
            a = alpha[s]
            if s >= 1:
                a = np.logaddexp(a, alpha[s - 1])
            if s >= 2 and ext[s] != 0 and ext[s] != ext[s - 2]:
                a = np.logaddexp(a, alpha[s - 2])
            new[s] = a + lp[t, ext[s]]
        alpha = new
    return -np.logaddexp(alpha[S - 1], alpha[S - 2])
""", (R(6, 3), [1, 2, 2]))
    s("ctc_vectorised", """
def f(logits, ext, skip):
    lp = log_softmax(logits, axis=1)
    S = ext.shape[0]
    alpha = np.concatenate([lp[0, ext[:2]], np.full(S - 2, -np.inf)])
    for t in range(1, lp.shape[0]):
        a1 = np.concatenate([[-np.inf], alpha[:-1]])
        a2 = np.where(skip, np.concatenate([[-np.inf, -np.inf], alpha[:-2]]), -np.inf)
        alpha = np.logaddexp(np.logaddexp(alpha, a1), a2) + lp[t, ext]
    return -np.logaddexp(alpha[-1], alpha[-2])
""", (R(6, 3), np.array([0, 1, 0, 2, 0, 2, 0]),
      np.array([False, False, False, True, False, False, False])))
    return s.out


def log_softmax_np(z, axis=-1):
    s = z - np.max(z, axis=axis, keepdims=True)
    return s - np.log(np.sum(np.exp(s), axis=axis, keepdims=True))


# ------------------------------------------------------------------ reductions


def reduction_cases():
    s = _Area("reductions")
    x = Dist(2, 3, 4)
    s("sum_dims_keepdim", "np.sum(a, axis=(0, 2), keepdims=True) ** 2", (x,))
    s("sum_neg_dims", "np.sum(a * a, axis=(-1, -3))", (x,))
    s("sum_empty_axis", "np.sum(a, axis=()) * a", (x,))
    s("sum_dtype", "np.sum(a, axis=1, dtype=np.float64)", (x.astype(np.float32),),
      rtol=1e-3, atol=1e-4)
    s("mean_dtype", "np.mean(a * a, dtype=np.float64)", (x.astype(np.float32),),
      rtol=1e-3, atol=1e-4)
    s("cumsum_dtype", "np.cumsum(a, axis=0, dtype=np.float64)", (x[0].astype(np.float32),),
      rtol=1e-3, atol=1e-4)
    s("mean_dims_keepdim", "np.mean(np.sin(a), axis=(1, 2), keepdims=True) * a", (x,))
    s("prod_no_zero", "np.prod(a, axis=(0, 2))", (U(0.5, 1.5, 2, 3, 4),))
    s("prod_one_zero", "np.prod(a)", (np.array([1.3, 0.0, -0.7, 2.1]),))
    s("prod_two_zeros", "np.prod(a)", (np.array([1.3, 0.0, -0.7, 0.0]),))
    s("prod_zero_axis_keepdim", "np.prod(a, axis=1, keepdims=True)",
      (np.array([[1.3, 0.0, -0.7], [0.5, 1.2, 2.0], [0.0, 0.0, 1.1]]),))
    s("var_correction", "np.var(a, axis=(0, 2), ddof=1, keepdims=True)", (x,))
    s("std_correction0", "np.std(a, axis=1)", (x,))
    s("std_dims_ddof", "np.std(a, axis=(1, 2), ddof=1)", (x,))
    s("amax_dims", "np.max(a, axis=(0, 2))", (x,))
    s("amin_dims_keepdim", "np.min(a, axis=(1, 2), keepdims=True) * a", (x,))
    s("logsumexp_dims", "scipy.special.logsumexp(a, axis=(0, 1))", (x,),
      header="import numpy as np\nimport scipy.special")
    s("norm_fro_axes", "np.linalg.norm(a, axis=(1, 2))", (x,))
    s("norm_fro_axes_keepdims", "np.linalg.norm(a, axis=(0, 2), keepdims=True)", (x,))
    s("norm_nuc", "np.linalg.norm(a, ord='nuc')", (R(3, 4),))
    s("norm_2_matrix", "np.linalg.norm(a, ord=2)", (R(4, 3),))
    s("norm_inf_matrix", "np.linalg.norm(a, ord=np.inf)", (Dist(3, 3),))
    s("norm_1_matrix", "np.linalg.norm(a, ord=1, axis=(2, 0))", (x,))
    s("vector_norm_ord3", "np.linalg.vector_norm(a, ord=3, axis=(0, 2))", (x,))
    s("vector_norm_keepdims", "np.linalg.vector_norm(a, axis=-1, keepdims=True)", (x,))
    s("matrix_norm_batched", "np.linalg.matrix_norm(a)", (x,))
    s("quantile_linear", "np.quantile(a, 0.3, axis=1)", (Dist(3, 5),))
    s("quantile_several", "np.quantile(a, [0.1, 0.5, 0.9])", (Dist(7),))
    s("median_axis", "np.median(a, axis=(0, 1))", (x,))
    s("nanmean_dims", "np.nanmean(a * b, axis=(0, 2))", (x, np.where(x > 2.0, np.nan, 1.0)))
    s("average_weights", "np.average(a, axis=1, weights=b)", (Dist(3, 4), U(0.5, 2, 4)),
      wrt=(0, 1))
    s("ptp_axis", "np.ptp(a, axis=1)", (x,))
    s("sum_where", "np.sum(a * a, axis=1, where=b)", (x, x > 0))
    s("mean_where_keepdims", "np.mean(a, axis=(0, 2), where=b, keepdims=True)", (x, x > -1))
    s("max_initial_where", "np.max(a, axis=0, initial=-10.0, where=b)", (x, x > 0))
    s("count_weighted", "np.sum(a, axis=0) / np.count_nonzero(a > 0, axis=0)",
      (U(0.5, 2, 2, 3, 4) * np.array([[[-1.0]], [[1.0]]]),))
    s("all_axes_none_keepdims", "np.sum(a ** 2, keepdims=True)", (x,))
    s("sum_out", """
def f(x):
    buf = np.empty(3)
    np.sum(x, axis=0, out=buf)
    return buf * x[0]
""", (R(4, 3),))
    s("mean_int_data_dtype", "np.mean(b, dtype=np.float64) * a", (R(3), np.arange(4)))
    s("prod_dtype", "np.prod(a, dtype=np.float64)", (U(0.5, 1.5, 4).astype(np.float32),),
      rtol=1e-3, atol=1e-5)
    s("prod_where_initial", "np.prod(a, axis=1, where=b, initial=2.0)",
      (U(0.5, 1.5, 3, 4), U(0, 1, 3, 4) > 0.4))
    s("max_initial_dominates", "np.max(a, initial=100.0) + np.sum(a)", (R(4),))
    s("amax_where_dims", "np.max(a, axis=(0, 1), where=b, initial=-5.0)", (x, x > -1))
    s("var_ddof_large", "np.var(a, axis=0, ddof=2)", (R(3, 2),))
    s("std_where", "np.std(a, axis=1, where=b)", (x, x > -2))
    s("mean_keepdims_neg", "np.mean(a, axis=-2, keepdims=True) - a", (x,))
    s("cumprod_with_zero", "np.cumprod(a)", (np.array([1.3, 0.0, -0.7, 2.0]),))
    s("cumprod_two_zeros", "np.cumprod(a)", (np.array([1.3, 0.0, -0.7, 0.0, 2.0]),))
    s("logaddexp_reduce", "np.logaddexp.reduce(a, axis=1)", (R(3, 4),))
    s("logaddexp2_accumulate", "np.logaddexp2.accumulate(a, axis=0)", (R(3, 4),))
    s("ptp_keepdims", "np.ptp(a, axis=(0, 2), keepdims=True)", (x,))
    s("median_even", "np.median(a)", (Dist(6),))
    s("quantile_midpoint", "np.quantile(a, 0.35, method='midpoint')", (Dist(7),))
    s("quantile_nearest", "np.quantile(a, 0.35, method='nearest')", (Dist(7),))
    s("quantile_weibull", "np.quantile(a, [0.2, 0.7], method='weibull', axis=1)", (Dist(3, 6),))
    s("quantile_median_unbiased", "np.quantile(a, 0.4, method='median_unbiased')", (Dist(8),))
    s("percentile_hazen", "np.percentile(a, 30.0, method='hazen', axis=0, keepdims=True)",
      (Dist(5, 3),))
    nan_data = np.array([[1, np.nan, 1, 1], [1, 1, 1, 1], [np.nan, 1, 1, 1.0]])
    s("nanmedian_nan_data", "np.nanmedian(a * b, axis=1)", (Dist(3, 4), nan_data))
    s("nanquantile_nan_data", "np.nanquantile(a * b, 0.3)", (Dist(3, 4), nan_data))
    s("nanpercentile_nan_data", "np.nanpercentile(a / b, [20.0, 70.0], axis=0)",
      (Dist(3, 4), nan_data))
    s("nanmax_nan_data", "np.nanmax(a * b, axis=1)", (Dist(3, 4), nan_data))
    s("nancumprod_nan_data", "np.nancumprod(a * b, axis=1)", (Dist(3, 4), nan_data))
    s("average_returned", """
def f(x, w):
    avg, sw = np.average(x, axis=0, weights=w, returned=True)
    return avg * sw
""", (R(4, 2), U(0.5, 2, 4, 2)), wrt=(0, 1))
    s("trace_offset_axes", "np.trace(a, offset=1, axis1=0, axis2=2)", (x,))
    s("einsum_reduce", "np.einsum('ijk->j', a * a)", (x,))
    s("tensordot_axes", "np.tensordot(a, b, axes=([0, 2], [1, 0]))", (x, R(4, 2, 3)), wrt=(0, 1))
    s("norm_neg1_matrix", "np.linalg.norm(a, ord=-1)", (Dist(3, 3),))
    s("norm_neg2_matrix", "np.linalg.norm(a, ord=-2)", (R(3, 3),))
    s("norm_ord0", "np.linalg.norm(a, ord=0) * np.sum(a)", (R(4),))
    s("norm_ord2_vec_axis", "np.linalg.norm(a, ord=2, axis=0)", (R(4, 3),))
    s("clip_array_bounds", "np.clip(a, b, c)", (Dist(6), np.full(6, -0.34), np.full(6, 0.37)),
      wrt=(0, 1, 2))
    s("nan_to_num", "np.nan_to_num(a * b, nan=0.5, posinf=3.0, neginf=-3.0)",
      (U(0.5, 2, 4), np.array([1.0, np.nan, np.inf, -np.inf])))
    return s.out


# ------------------------------------------------------------------ ADBench


def adbench_cases():
    s = _Area("adbench")
    # GMM (ADBench gmm_objective: K components in D dimensions, icf holds the
    # log of the diagonal of the precision's Cholesky factor and the lower
    # triangle below it; Wishart prior with gamma, m)
    d, k, n = 3, 2, 5
    s("gmm_objective", """
def f(alphas, means, icf, x):
    d = x.shape[1]
    k = alphas.shape[0]
    rows, cols = np.tril_indices(d, -1)
    lse = []
    sum_qs = []
    Qs = []
    for j in range(k):
        Q = np.diag(np.exp(icf[j, :d]))
        Q[rows, cols] = icf[j, d:]
        Qs.append(Q)
        sum_qs.append(np.sum(icf[j, :d]))
    for j in range(k):
        diff = x - means[j]
        Qd = diff @ Qs[j].T
        lse.append(alphas[j] + sum_qs[j] - 0.5 * np.sum(Qd * Qd, axis=1))
    L = np.stack(lse, axis=1)
    mx = np.max(L, axis=1, keepdims=True)
    slse = np.sum(np.log(np.sum(np.exp(L - mx), axis=1)) + mx[:, 0])
    amax = np.max(alphas)
    lse_alpha = np.log(np.sum(np.exp(alphas - amax))) + amax
    gamma, m = 1.0, 0.0
    prior = 0.0
    for j in range(k):
        fro = np.sum(np.exp(icf[j, :d]) ** 2) + np.sum(icf[j, d:] ** 2)
        prior = prior + 0.5 * gamma * gamma * fro - m * sum_qs[j]
    const = -x.shape[0] * d * 0.5 * np.log(2 * np.pi)
    return const + slse - x.shape[0] * lse_alpha + prior
""", (R(k), R(k, d), R(k, d * (d + 1) // 2) * 0.3, R(n, d)), wrt=(0, 1, 2))
    s("gmm_vectorised", """
def f(alphas, means, icf, x):
    d = x.shape[1]
    k = alphas.shape[0]
    rows, cols = np.tril_indices(d, -1)
    Q = np.zeros((k, d, d))
    Q[:, np.arange(d), np.arange(d)] = np.exp(icf[:, :d])
    Q[:, rows, cols] = icf[:, d:]
    diff = x[:, None, :] - means[None, :, :]
    Qd = np.einsum('kij,nkj->nki', Q, diff)
    L = alphas + np.sum(icf[:, :d], axis=1) - 0.5 * np.sum(Qd ** 2, axis=2)
    slse = np.sum(scipy.special.logsumexp(L, axis=1))
    return slse - x.shape[0] * scipy.special.logsumexp(alphas) + 0.5 * np.sum(Q ** 2)
""", (R(k), R(k, d), R(k, d * (d + 1) // 2) * 0.3, R(n, d)), wrt=(0, 1, 2),
      header="import numpy as np\nimport scipy.special")
    # bundle adjustment (ADBench ba: cam = [rot(3) angle-axis, C(3), f, x0(2), kappa(2)])
    s("ba_objective", """
def rodrigues(rot, X):
    theta = np.sqrt(np.sum(rot * rot))
    w = rot / theta
    ct, st = np.cos(theta), np.sin(theta)
    cross = np.cross(w, X)
    wdotx = np.sum(w * X, axis=-1, keepdims=True)
    return X * ct + cross * st + w * wdotx * (1.0 - ct)


def f(cams, X, w, obs, cidx, pidx):
    res = []
    for i in range(obs.shape[0]):
        cam = cams[cidx[i]]
        Xcam = rodrigues(cam[0:3], X[pidx[i]] - cam[3:6])
        p = -Xcam[:2] / Xcam[2]
        r2 = np.sum(p * p)
        L = 1.0 + cam[9] * r2 + cam[10] * r2 * r2
        proj = p * L * cam[6] + cam[7:9]
        res.append(w[i] * (proj - obs[i]))
    werr = 1.0 - w * w
    return np.sum(np.stack(res) ** 2) + np.sum(werr ** 2)
""", (np.array([[0.1, -0.2, 0.3, 0.5, -0.4, -6.0, 2.0, 0.1, -0.2, 0.01, -0.001],
                [-0.3, 0.1, 0.2, -0.2, 0.3, -5.5, 1.8, -0.1, 0.0, 0.02, 0.002]]),
      R(3, 3), U(0.5, 1.5, 4), R(4, 2), np.array([0, 1, 0, 1]), np.array([0, 1, 2, 2])),
      wrt=(0, 1, 2))
    s("ba_vectorised", """
def f(cams, X, w, obs, cidx, pidx):
    C = cams[cidx]
    rot = C[:, 0:3]
    theta = np.sqrt(np.sum(rot * rot, axis=1, keepdims=True))
    ax = rot / theta
    Xc = X[pidx] - C[:, 3:6]
    ct, st = np.cos(theta), np.sin(theta)
    Xr = Xc * ct + np.cross(ax, Xc) * st + ax * np.sum(ax * Xc, axis=1, keepdims=True) * (1 - ct)
    p = -Xr[:, :2] / Xr[:, 2:3]
    r2 = np.sum(p * p, axis=1, keepdims=True)
    L = 1.0 + C[:, 9:10] * r2 + C[:, 10:11] * r2 * r2
    proj = p * L * C[:, 6:7] + C[:, 7:9]
    return np.concatenate([(w[:, None] * (proj - obs)).ravel(), 1.0 - w * w])
""", (np.array([[0.1, -0.2, 0.3, 0.5, -0.4, -6.0, 2.0, 0.1, -0.2, 0.01, -0.001],
                [-0.3, 0.1, 0.2, -0.2, 0.3, -5.5, 1.8, -0.1, 0.0, 0.02, 0.002]]),
      R(3, 3), U(0.5, 1.5, 4), R(4, 2), np.array([0, 1, 0, 1]), np.array([0, 1, 2, 2])),
      wrt=(0, 1, 2))
    # ADBench lstm: two layers, 4 gates each, extra params (in/out scale,
    # bias), loss = -sum of log softmax of the next character
    h, layers, T = 4, 2, 4
    s("lstm_objective", """
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def lstm_step(W, b, hid, cell, inp):
    h = hid.shape[0]
    g = W @ np.concatenate([inp, hid]) + b
    forget = sigmoid(g[0:h])
    ingate = sigmoid(g[h:2 * h])
    outgate = sigmoid(g[2 * h:3 * h])
    change = np.tanh(g[3 * h:4 * h])
    cell = cell * forget + ingate * change
    hid = outgate * np.tanh(cell)
    return hid, cell


def f(Ws, bs, extra, state, seq):
    nl = Ws.shape[0]
    hids = [state[0, l] for l in range(nl)]
    cells = [state[1, l] for l in range(nl)]
    total = 0.0
    for t in range(seq.shape[0] - 1):
        x = seq[t] * extra[0]
        for l in range(nl):
            hids[l], cells[l] = lstm_step(Ws[l], bs[l], hids[l], cells[l], x)
            x = hids[l]
        ypred = x * extra[1] + extra[2]
        lse = np.log(np.sum(np.exp(ypred)))
        total = total + np.sum(seq[t + 1] * (ypred - lse))
    return -total / (seq.shape[0] - 1)
""", (R(layers, 4 * h, 2 * h) * 0.4, R(layers, 4 * h) * 0.1, R(3, h) * 0.5 + 1.0,
      R(2, layers, h) * 0.3, np.eye(h)[[0, 2, 1, 3]][:T]), wrt=(0, 1, 2, 3))
    # hand tracking (ADBench hand, simplified): a chain of bones posed by
    # angle-axis rotations, vertices skinned by weights, residual to points
    s("hand_skinning", """
def rotmat(r):
    t = np.sqrt(np.sum(r * r))
    k = r / t
    K = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    return np.eye(3) + np.sin(t) * K + (1.0 - np.cos(t)) * (K @ K)


def f(theta, base, weights, offsets, targets):
    nb = theta.shape[0]
    Rs = []
    ts = []
    Rc = np.eye(3)
    tc = np.zeros(3)
    for b in range(nb):
        Rc = Rc @ rotmat(theta[b])
        tc = tc + Rc @ offsets[b]
        Rs.append(Rc)
        ts.append(tc)
    pos = np.zeros_like(base)
    for b in range(nb):
        pos = pos + weights[:, b:b + 1] * (base @ Rs[b].T + ts[b])
    return np.sum((pos - targets) ** 2)
""", (R(3, 3) * 0.5 + 0.2, R(5, 3), np.abs(R(5, 3)) / 2.0, R(3, 3), R(5, 3)), wrt=(0, 1))
    return s.out


# ------------------------------------------------------------------ checkify-style edges


def edge_cases():
    s = _Area("edges")
    s("pow_zero_exponent_at_zero", "a ** 0.0 + a", (np.array([0.0, 1.5, -2.0]),))
    s("power_zero_exponent_at_zero", "np.power(a, b) + a", (np.array([0.0, 1.5, 2.0]), 0.0))
    s("pow_zero_base_wrt_exponent", "np.power(a, b)", (np.array([0.0, 1.5, 2.0]), 1.7),
      wrt=(1,))
    s("pow_zero_base_int_exponent", "a ** 2 + a ** 3", (np.array([0.0, 1.5, -2.0]),))
    s("pow_zero_base_exponent_one", "np.power(a, b)", (np.array([0.0, 0.5]), 1.0))
    s("xlogy_zero", "scipy.special.xlogy(a, b)", (np.array([0.0, 0.5, 2.0]), U(0.5, 2, 3)),
      wrt=(1,), header=SP)
    s("xlogy_zero_both_wrt", "scipy.special.xlogy(a, b)", (np.array([0.0, 0.5, 2.0]),
                                                          U(0.5, 2, 3)), wrt=(0, 1), header=SP)
    s("logaddexp_neg_inf", "np.logaddexp(a, b)", (np.array([-np.inf, 0.3, -1.0]), R(3)),
      wrt=(1,))
    s("logaddexp_equal", "np.logaddexp(a, a)", (R(4),))
    s("logsumexp_neg_inf_entries", """
def f(x, mask):
    z = np.where(mask, x, -np.inf)
    m = np.max(z, axis=1, keepdims=True)
    return np.log(np.sum(np.exp(z - m), axis=1)) + m[:, 0]
""", (R(3, 4), np.array([[1, 0, 1, 1], [1, 1, 0, 0], [0, 0, 0, 1]], bool)))
    s("attention_neg_inf_mask", """
def f(q, k):
    s = q @ k.T
    s = s + np.triu(np.full((3, 3), -np.inf), 1)
    p = np.exp(s - np.max(s, axis=1, keepdims=True))
    p = p / np.sum(p, axis=1, keepdims=True)
    return p @ k
""", (R(3, 2), R(3, 2)), wrt=(0, 1))
    s("maximum_self_tie", "np.maximum(a, a) * a", (R(4),))
    s("minimum_self_tie", "np.minimum(a, a)", (R(4),))
    s("sqrt_of_square_plus", "np.sqrt(a * a + 1e-2)", (np.array([0.0, 1.0, -2.0]),))
    s("sinc_at_zero", "np.sinc(a)", (np.array([0.0, 0.5, -1.3]),))
    s("where_log_guard", "np.where(a > 0, np.log(np.where(a > 0, a, 1.0)), 0.0)",
      (np.array([0.0, -1.0, 2.0]),))
    s("where_div_guard", "np.where(a != 0, np.sin(a) / a, 1.0)", (np.array([0.0, 0.7, -2.0]),))
    s("where_div_guard_nonzero", "np.where(a != 0, np.sin(a) / a, 1.0)",
      (np.array([0.3, 0.7, -2.0]),))
    s("exp_underflow_product", "np.exp(-a * a) * a", (np.array([0.5, 40.0, -30.0]),))
    s("log1p_exp_large", "np.log1p(np.exp(-np.abs(a))) + np.maximum(a, 0.0)",
      (np.array([-800.0, 800.0, 0.3]),))
    s("tanh_saturated", "np.tanh(a)", (np.array([30.0, -40.0, 0.5]),))
    s("sigmoid_stable_large", "np.exp(-np.logaddexp(0.0, -a))", (np.array([-750.0, 750.0, 0.2]),))
    s("entr_positive", "np.sum(scipy.special.entr(a))", (U(0.1, 2, 4),), header=SP)
    s("xlog1py_zero", "scipy.special.xlog1py(a, b)", (np.array([0.0, 0.3]), np.array([0.2, 0.5])),
      wrt=(1,), header=SP)
    s("arcsin_clip_saturated", "np.arcsin(np.clip(a, -1.0, 1.0))",
      (np.array([-1.5, 0.3, 2.0, 0.7]),))
    s("arccos_clip_method", "np.arccos(a.clip(-1, 1))", (np.array([-1.5, 0.3, 2.0, 0.7]),))
    s("sqrt_of_where", "np.sqrt(np.where(a > 0, a, 0.0))", (np.array([-1.5, 0.3, 2.0, 0.7]),))
    s("bump_where", "np.where(a > 0, np.exp(-1.0 / a), 0.0)", (np.array([-0.5, 0.0, 0.3, 1.2]),))
    s("entropy_where_guard", "-np.sum(np.where(a > 0, a * np.log(np.where(a > 0, a, 1.0)), 0.0))",
      (np.array([0.0, 0.2, 0.8]),))
    s("nan_data_where", "np.sum(np.where(np.isnan(b), 0.0, a * b))",
      (R(4), np.array([1.0, np.nan, 2.0, np.nan])))
    s("inf_data_masked", "np.sum(np.where(np.isfinite(b), a * b, 0.0))",
      (R(4), np.array([1.0, np.inf, 2.0, -np.inf])))
    return s.out


# ------------------------------------------------------------------ Zygote gradcheck


def zygote_cases():
    s = _Area("zygote")
    s("kron", "np.kron(a, b)", (R(2, 3), R(2, 2)), wrt=(0, 1))
    s("kron_vec", "np.kron(a, b)", (R(3), R(2)), wrt=(0, 1))
    s("circshift", "np.roll(a, (1, -2), axis=(0, 1)) * a", (R(3, 4),))
    s("reverse_dims", "np.flip(a, axis=(0, 1)) * a", (R(3, 4),))
    s("permutedims", "np.transpose(a, (2, 0, 1)) ** 2", (R(2, 3, 4),))
    s("repeat_inner", "np.repeat(a, 2, axis=1) * np.arange(8.0)", (R(3, 4),))
    s("repeat_outer", "np.tile(a, (2, 3))", (R(2, 2),))
    s("matrix_power3", "np.linalg.matrix_power(a, 3)", (R(3, 3),))
    s("matrix_power_neg", "np.linalg.matrix_power(a, -2)", (R(3, 3) + 3 * np.eye(3),))
    s("sqrtm", "scipy.linalg.sqrtm(a)", (spd(3),), header=SL)
    s("cross", "np.cross(a, b)", (R(4, 3), R(4, 3)), wrt=(0, 1))
    s("hypot", "np.hypot(a, b)", (R(5), R(5)), wrt=(0, 1))
    s("atan2", "np.arctan2(a, b)", (R(5), R(5)), wrt=(0, 1))
    s("rem", "np.fmod(a, b)", (np.array([5.3, -4.1, 2.2]), np.array([2.0, 1.5, 0.7])),
      wrt=(0, 1))
    s("mod", "np.mod(a, b)", (np.array([5.3, -4.1, 2.2]), np.array([2.0, 1.5, 0.7])),
      wrt=(0, 1))
    s("pinv_wide", "np.linalg.pinv(a)", (R(2, 4),))
    s("pinv_tall", "np.linalg.pinv(a)", (R(4, 2),))
    s("logabsdet", "np.linalg.slogdet(a)[1]", (R(3, 3),))
    s("logabsdet_sign", "np.linalg.slogdet(a)[0] * np.linalg.slogdet(a)[1]", (R(3, 3),))
    s("norm_p1", "np.linalg.norm(a, 1)", (Dist(5),))
    s("norm_p3", "np.linalg.norm(a, 3)", (R(5),))
    s("norm_pinf", "np.linalg.norm(a, np.inf)", (Dist(5),))
    s("norm_pneginf", "np.linalg.norm(a, -np.inf)", (Dist(5),))
    s("norm_p_half", "np.sum(np.abs(a) ** 0.5) ** 2", (Dist(5),))
    s("foldl_matmul", """
import functools


def f(a, b, c):
    return functools.reduce(np.matmul, [a, b, c])
""", (R(2, 3), R(3, 3), R(3, 2)), wrt=(0, 1, 2))
    s("foldl_loop", """
def f(ms):
    acc = np.eye(2)
    for m in ms:
        acc = acc @ m
    return acc
""", (R(4, 2, 2),))
    s("accumulate_mul", "np.multiply.accumulate(a, axis=1)", (U(0.5, 1.5, 2, 4),))
    s("accumulate_add", "np.add.accumulate(a ** 2)", (R(5),))
    s("diag_tr", "np.trace(np.diag(a) @ b)", (R(3), R(3, 3)), wrt=(0, 1))
    s("tril_triu", "np.tril(a, -1) * 2 + np.triu(a, 1) ** 2", (R(4, 4),))
    s("dot_adjoint", "np.vdot(a, b)", (R(4), R(4)), wrt=(0, 1))
    s("clamp", "np.clip(a, -0.5, 0.5) * a", (np.array([-1.1, -0.3, 0.2, 0.9]),))
    s("var_uncorrected", "np.var(a, axis=1)", (R(3, 4),))
    s("mean_dims", "np.mean(a, axis=(0, 1))", (R(2, 3, 4),))
    s("maximum_dims", "np.max(a, axis=1)", (Dist(3, 4),))
    s("logdet_spd", "np.linalg.slogdet(a)[1]", (spd(3),))
    s("inv_solve", "np.linalg.inv(a) @ b", (R(3, 3) + 2 * np.eye(3), R(3, 2)), wrt=(0, 1))
    s("expm", "scipy.linalg.expm(a)", (R(3, 3) * 0.5,), header=SL)
    s("eigvalsh", "np.linalg.eigvalsh(a + a.T)", (R(3, 3),))
    s("svdvals", "np.linalg.svd(a, compute_uv=False)", (R(3, 4),))
    s("cholesky", "np.linalg.cholesky(a)", (spd(3),))
    return s.out


ALL = {
    "control": control_cases,
    "nn": nn_cases,
    "losses": loss_cases,
    "reductions": reduction_cases,
    "adbench": adbench_cases,
    "edges": edge_cases,
    "zygote": zygote_cases,
}
