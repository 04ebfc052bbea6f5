"""Google Tangent's test suite (and its maintained fork tangent-ad's), as
s2sgrad cases.

The facts are Tangent's (which functions, which inputs, which modes); the
code is ours.  Areas:

* ``tangent`` -- every function of Tangent's ``tests/functions.py``
  (written out as NumPy in :mod:`tangent_functions`), first order in reverse
  and forward mode (``test_reverse_mode.py``, ``test_forward_mode.py``).  As
  in Tangent's ``conftest.py`` a function's inputs come from its parameter
  names: ``a``/``b``/``c`` take ten scalars from -2 to 2, ``n`` 1 to 3, ``x``
  vectors of 3, 5 and 10 elements, ``sqm`` square matrices, the TensorFlow
  ones (``t``, ``s``, ``timage``, ``mat1``, ``boolean``...) their shapes
  (``tfe_utils.register_parametrizations``).  Every floating argument is
  differentiated (Tangent's reverse tests take the first).
* ``tangent-2nd`` -- second order of the same functions
  (``test_reverse_over_reverse.py``: ``grad(grad(f))`` of the scalar
  functions), in Tangent's three Hessian-vector-product configurations
  (reverse over reverse, forward over reverse, reverse over forward) and
  ``s2sgrad.hvp``; every function with a scalar output (Tangent: those of
  ``a``, ``b``, ``c``; here also vectors and matrices), others through a
  weighted sum of their outputs.
* ``tangent-hvp`` -- ``test_hessian_vector_products.py``: ``f_straightline``
  and ``f_calltree`` on a float32 vector of 300 with ``v = a``, as Tangent,
  and their float64 twins.
* ``tangent-demos`` -- ``tangent/demos/common_kernels.py`` (moments,
  batch normalisation, dense, relu, softmax, logsumexp, cross-entropy...)
  with ``tests/test_demos.py``'s inputs, TensorFlow ops as NumPy.
* ``tangent-ad`` -- the fork's feature tests (``test_break_continue``,
  ``test_early_returns``, ``test_list_building``, ``test_comprehensions``,
  ``test_not_and_ternary``, ``test_min_max_builtins``, ``test_enumerate``,
  ``test_augmented_subscript``, ``test_chained_assignment``,
  ``test_dict_construction``, ``test_membership_operators``,
  ``test_numpy_method_calls``, ``test_concat_stack``, ``test_feature_matrix``
  -- both its "differentiates" and its "rejected" rows: every program that
  NumPy runs must be computed right or refused with a clear message), each at
  the fork's points, first order in both modes and second order where the
  fork checks it.
"""
from __future__ import annotations

import copy
import inspect
import itertools

import numpy as np

from . import harness
from . import tangent_functions as tf
from .harness import Case, source_case

RNG = np.random.default_rng(7)
SCALARS = [-2.0, -1.5, -1.0, -0.5, -0.1, 0.1, 0.5, 1.0, 1.5, 2.0]
FIRST = ("rev", "fwd")
SECOND = ("rr", "fr", "hvp", "rf")


# ------------------------------------------------------------------ the corpus


def _values(name, short):
    """The inputs Tangent's conftest gives a parameter of this name."""
    if name in ("a", "b", "c"):
        return [2.0] if short else SCALARS
    if name == "n":
        return [1] if short else [1, 2, 3]
    if name in ("x", "t", "t1", "t2"):
        return [RNG.standard_normal(k) for k in ((3,) if short else (3, 5, 10))]
    if name == "sqm":
        return [RNG.standard_normal((k, k)) for k in ((3,) if short else (1, 3, 5))]
    if name in ("boolean", "boolean1", "boolean2"):
        return [True, False]
    if name == "s":
        return [1.0] if short else [0.0, 1.0, 2.0]
    if name in ("timage", "timage1", "timage2"):
        shapes = ((2, 3, 3, 3),) if short else ((2, 1, 1, 3), (2, 3, 3, 3), (2, 5, 5, 3))
        return [RNG.standard_normal(s) for s in shapes]
    if name in ("mat1", "mat2"):
        return [RNG.standard_normal((k, k)) for k in ((3,) if short else (1, 3, 5))]
    return None


def _positive(v):
    return np.abs(v) + 0.5


# inputs that Tangent's tests give explicitly (or that the function's domain needs)
EXPLICIT = {
    "logistic_regression": [(RNG.uniform(size=3), np.eye(5)[1], RNG.standard_normal((3, 5)),
                             RNG.standard_normal(5))],
    "rnn": [(RNG.standard_normal((3, 2)), RNG.standard_normal((2, 3)))],
    "bilinear": [(RNG.standard_normal((1, 3)), RNG.standard_normal((1, 3)),
                  RNG.standard_normal((3, 3)), RNG.standard_normal((3, 3)),
                  RNG.standard_normal((1, 3)))],
    "unpacking_args_saxpy": [((a, b, 0.5),) for a in SCALARS for b in (-1.0, 2.0)],
    "passthru_unpack": [((a, 1.5, -0.5),) for a in SCALARS],
    "dict_wrapper": [((a, b, 0.5),) for a in SCALARS for b in (-1.0, 2.0)],
    "dict_saxpy": [({"a": a, "b": b, "c": 0.5},) for a in SCALARS for b in (-1.0, 2.0)],
    "nested_dict": [({"i": {"j": 3.0, "k": 4.0}},), ({"i": {"j": -0.5, "k": 1.5}},)],
    "passthru_pack": [(a, 1.5, -0.5, i) for a in SCALARS for i in (0, 1, 2)],
    "tfe_log": [(_positive(RNG.standard_normal(k)),) for k in (3, 5, 10)],
    "tfe_rsqrt": [(_positive(RNG.standard_normal(k)),) for k in (3, 5, 10)],
    "tfe_divide": [(RNG.standard_normal(k), _positive(RNG.standard_normal(k)))
                   for k in (3, 5, 10)],
    "tfe_matmul_highdim": [(RNG.standard_normal((2, 3, 3, 3)), RNG.standard_normal((2, 3, 3, 3)),
                            b1, b2) for b1 in (True, False) for b2 in (True, False)],
    "tfe_add_bcast": [(s, RNG.standard_normal(k)) for s in (0.0, 1.0, 2.0) for k in (3, 5)],
    # the domain of arccos / arcsin is [-1, 1]
    "numpy_arccos": [(a,) for a in (-0.9, -0.5, -0.1, 0.1, 0.5, 0.9)],
    "numpy_arcsin": [(a,) for a in (-0.9, -0.5, -0.1, 0.1, 0.5, 0.9)],
}

SKIP = set(tf.OUT_OF_SCOPE) | {"mul", "add", "_inner_fn", "_nontrace_mul", "_trace_mul"}


def corpus_functions():
    out = []
    for name, f in vars(tf).items():
        if inspect.isfunction(f) and f.__module__ == tf.__name__ and name not in SKIP:
            out.append(f)
    return out


def _combos(f, short):
    if f.__name__ in EXPLICIT:
        combos = EXPLICIT[f.__name__]
        return combos[:1] if short else combos
    params = list(inspect.signature(f).parameters)
    lists = [_values(p, short) for p in params]
    if any(v is None for v in lists):
        raise ValueError(f"no inputs for {f.__name__}{params}")
    for pair in (("t1", "t2"), ("mat1", "mat2")):
        if all(p in params for p in pair):
            # two operands of one elementwise op / product: the same size
            i, j = params.index(pair[0]), params.index(pair[1])
            lists[i] = list(zip(lists[i], lists[j]))
            del lists[j]
            return [_splice(c, i, j) for c in itertools.product(*lists)]
    combos = list(itertools.product(*lists))
    if len(params) == 3 and all(p in "abc" for p in params) and not short:
        combos = [c for c in combos if c[2] == 0.5]      # a x b, c fixed: 100 not 1000
    return combos


def _splice(combo, i, j):
    """Unzip the pair at position ``i`` into positions ``i`` and ``j``."""
    out = list(combo)
    a, b = out[i]
    out[i] = a
    out.insert(j, b)
    return tuple(out)


def _wrt(args):
    return tuple(i for i, a in enumerate(args)
                 if harness._is_float_leaf(a) or isinstance(a, (tuple, list, dict)))


def _label(v):
    if isinstance(v, np.ndarray):
        return ("f32:" if v.dtype == np.float32 else "") + "x".join(map(str, v.shape))
    if isinstance(v, (tuple, dict, list)):
        return "tree"
    return repr(v)


def _name(base, args):
    return f"{base}[{','.join(_label(a) for a in args)}]"


def corpus_cases(short=False):
    cases = []
    for f in corpus_functions():
        for args in _combos(f, short):
            args = tuple(args)
            cases.append(Case("tangent", _name(f.__name__, args), None, args, _wrt(args),
                              modes=FIRST, func=f))
    return cases


def _weights(shape, k):
    n = int(np.prod(shape))
    return np.cos(np.arange(1.0, n + 1.0) * (0.7 + 0.1 * k)).reshape(shape)


def scalarized(f, args):
    """``f`` itself when its value is a real scalar, else a user-style function
    of the same parameters returning a weighted sum of its outputs (second
    order needs a scalar)."""
    out = f(*copy.deepcopy(args))
    if harness._is_scalar(out):
        return f
    outs = out if isinstance(out, tuple) else (out,)
    env = {"inner": f, "np": np}
    terms = []
    for k, o in enumerate(outs):
        env[f"W{k}"] = _weights(np.shape(o), k)
        pick = f"out[{k}]" if isinstance(out, tuple) else "out"
        terms.append(f"np.sum(W{k} * {pick})")
    params = list(inspect.signature(f).parameters)
    src = (f"def {f.__name__}_weighted({', '.join(params)}):\n"
           f"    out = inner({', '.join(params)})\n"
           f"    return {' + '.join(terms)}\n")
    return harness.load(src, f"{f.__name__}_weighted", f"<port tangent: weighted {f.__name__}>",
                        env)


# functions with no second derivative to speak of: the output is not a smooth
# function of a floating input (passthru of an integer-selected element is
# linear, still checked); none are left out at present
SECOND_SKIP = set()


def second_cases(short=False):
    cases = []
    for f in corpus_functions():
        if f.__name__ in SECOND_SKIP:
            continue
        for args in _combos(f, short):
            args = tuple(args)
            wrt = _wrt(args)
            if not wrt:
                continue
            g = scalarized(f, args)
            cases.append(Case("tangent-2nd", _name(f.__name__, args), None, args, wrt,
                              modes=SECOND, func=g))
    return cases


# ------------------------------------------------------------------ Hessian-vector products

HVP_SRC = """
def f_straightline(x):
    a = x * x * x
    b = a * x ** 2.0
    return np.sum(b)


def cube(a):
    b = a * a * a
    return b


def f_calltree(x):
    a = cube(x)
    b = a * x ** 2.0
    return np.sum(b)
"""


def hvp_cases(short=False):
    # Tangent: np.random.seed(0); a = normal(size=300).astype('float32'); v = a
    a32 = np.random.default_rng(0).normal(size=(300,)).astype("float32")
    out = []
    for fname in ("f_straightline", "f_calltree"):
        for a in (a32, a32.astype(np.float64), np.linspace(-1.5, 1.5, 7)):
            rtol = 1e-4 if a.dtype == np.float32 else 1e-5
            out.append(source_case("tangent-hvp", _name(fname, (a,)), HVP_SRC, (a,), (0,),
                                   modes=FIRST + SECOND, fname=fname, rtol=rtol))
    return out


# ------------------------------------------------------------------ demos/common_kernels.py

KERNELS = """
def moments(x, axis):
    mean = np.mean(x, axis, keepdims=True)
    variance = np.mean(np.square(x - mean), axis, keepdims=True)
    return mean, variance


def moments_1(x, axis):
    mean, var = moments(x, axis)
    return mean


def moments_2(x, axis):
    mean, var = moments(x, axis)
    return var


def moving_average(x, prev_average, momentum):
    return (prev_average - x) * momentum + x


def batch_normalization(x, mean, variance, offset, scale):
    epsilon = 1e-7
    invv = (1.0 / np.sqrt(variance + epsilon)) * scale
    return (x - mean) * invv + offset


def batch_norm(x, moving_mean, moving_variance, momentum, offset, scale, axis, update=False):
    if update:
        mean, variance = moments(x, axis)
    else:
        mean, variance = moving_mean, moving_variance
    x = batch_normalization(x, mean, variance, offset, scale)
    if update:
        moving_mean = moving_average(moving_mean, mean, momentum)
        moving_variance = moving_average(moving_variance, variance, momentum)
    return x, moving_mean, moving_variance


def relu(x):
    return np.maximum(x, np.zeros((), dtype=x.dtype))


def dense(x, w, b):
    return np.add(np.matmul(x, w), b)


def sigmoid(logits):
    return np.divide(1.0, np.add(1.0, np.exp(np.negative(logits))))


def softmax(logits):
    exp_logits = np.exp(logits)
    return exp_logits / np.sum(exp_logits, axis=-1, keepdims=True)


def logsumexp(x, axis=None, keep_dims=False):
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keep_dims))


def logsoftmax(logits):
    return logits - logsumexp(logits, axis=-1, keep_dims=True)


def softmax_crossent(logits, y):
    return -np.sum(logsoftmax(logits) * y, axis=-1)


def reduced_crossent(logits, y):
    return np.mean(softmax_crossent(logits, y))
"""


def demo_cases(short=False):
    rng = np.random.default_rng(11)
    img = rng.standard_normal((3, 5, 7, 11))
    x3 = np.array([[[1.0, 4.0]]])
    out = []

    def k(fname, args, wrt, modes=FIRST, suffix=""):
        out.append(source_case("tangent-demos", _name(fname, args) + suffix, KERNELS, args, wrt,
                               modes=modes, fname=fname))

    for axis in ([0], [1], [0, 1], None):
        # Tangent passes a list of axes; NumPy takes a tuple
        ax = None if axis is None else tuple(axis)
        k("moments_1", (img, ax), (0,), suffix=f"axis={axis}")
        k("moments_2", (img, ax), (0,), suffix=f"axis={axis}")
    k("moving_average", (1.0, 0.0, 0.5), (0, 1, 2), FIRST + SECOND)
    mean, var = np.mean(x3), np.var(x3)
    k("batch_normalization", (x3, mean, var, 0.5, 0.5), (0, 3, 4))
    for update in (True, False):
        k("batch_norm", (x3, mean, var, 0.9, 0.5, 0.5, (0, 1, 2), update), (0, 4, 5))
    k("relu", (img,), (0,))
    k("dense", (rng.standard_normal((3, 4)), rng.standard_normal((4, 5)),
                rng.standard_normal(5)), (0, 1, 2))
    k("sigmoid", (rng.standard_normal((3, 5)),), (0,))
    k("softmax", (rng.standard_normal((3, 5)),), (0,))
    k("logsumexp", (rng.standard_normal((3, 4)), -1, False), (0,))
    k("logsumexp", (rng.standard_normal((3, 4)),), (0,), FIRST + SECOND)
    k("logsoftmax", (rng.standard_normal((3, 5)),), (0,))
    y = rng.integers(0, 2, (3, 5)).astype(float)
    k("softmax_crossent", (rng.standard_normal((3, 5)), y), (0,))
    k("reduced_crossent", (rng.standard_normal((3, 5)), rng.uniform(0, 2, (3, 5))), (0,),
      FIRST + SECOND)
    return out


# ------------------------------------------------------------------ tangent-ad's feature tests

# name -> (source defining f, list of argument tuples, second order?)
AD = {}


def ad(name, src, points, second=False, modes=None):
    AD[name] = (src, points, modes or (FIRST + (SECOND if second else ())))


S3 = [(0.5,), (2.0,), (-1.5,)]

# test_break_continue.py
ad("break_in_for", """
def f(x):
    total = 0.0
    for i in range(10):
        total = total + x * x
        if i >= 2:
            break
    return total
""", S3, True)
ad("break_in_while", """
def f(x):
    total = 0.0
    i = 0
    while i < 10:
        total = total + x * x
        i = i + 1
        if i >= 3:
            break
    return total
""", S3, True)
ad("data_dependent_break", """
def f(x):
    total = 0.0
    i = 0
    while i < 50:
        total = total + x
        if total > 5.0:
            break
        i = i + 1
    return total
""", [(2.0,), (0.5,)])
ad("continue_in_for", """
def f(x):
    total = 0.0
    for i in range(6):
        if i == 2:
            continue
        total = total + x * x
    return total
""", S3, True)
ad("break_over_sequence", """
def f(x):
    total = 0.0
    for v in x:
        if v < 0.0:
            break
        total = total + v * v
    return total
""", [(np.array([1.0, 2.0, -3.0, 4.0]),)])
ad("nested_break_continue", """
def f(x):
    total = 0.0
    for i in range(4):
        for j in range(4):
            if j > i:
                break
            total = total + x * x
        if i >= 2:
            continue
        total = total + x
    return total
""", S3, True)
ad("statements_after_break_are_dead", """
def f(x):
    total = 0.0
    for i in range(5):
        if i == 3:
            break
            total = total + x * 100.0
        total = total + x
    return total
""", S3)

# test_early_returns.py
ad("return_if_else", """
def f(x):
    if x > 0:
        return x * x
    else:
        return x * 3.0
""", [(2.0,), (-2.0,)], True)
ad("return_fallthrough", """
def f(x):
    if x > 0:
        return x * x
    return x * 3.0
""", [(2.0,), (-2.0,)], True)
ad("return_code_before", """
def f(x):
    y = x * 2.0
    if x > 5:
        return y
    return y * x
""", [(3.0,), (6.0,)], True)
ad("return_elif_chain", """
def f(x):
    if x < 0:
        return -x
    elif x < 1:
        return x * x
    else:
        return x * 3.0
""", [(-2.0,), (0.5,), (2.0,)], True)
ad("return_nested_conditionals", """
def f(x):
    if x > 0:
        if x > 10:
            return x
        return x * x
    return x * 3.0
""", [(2.0,), (20.0,), (-2.0,)], True)
ad("return_sequential_ifs", """
def f(x):
    if x > 10:
        return x
    if x > 5:
        return x * x
    return x * 3.0
""", [(2.0,), (7.0,), (20.0,)], True)
ad("return_inside_for_loop", """
def f(x):
    for i in range(3):
        if i > x:
            return x
    return x * x
""", [(0.5,), (1.5,), (5.0,)], True)

# test_list_building.py
P3 = [(0.7,), (2.0,), (-1.3,)]
ad("straight_line_append", """
def f(x):
    xs = []
    xs.append(x * x)
    xs.append(3.0 * x)
    return xs[0] + xs[1]
""", P3, True)
ad("append_to_nonempty_literal", """
def f(x):
    xs = [x * 2.0]
    xs.append(x * x)
    return xs[0] * xs[1]
""", P3, True)
ad("loop_append_array", """
def f(x):
    ys = []
    for i in range(len(x)):
        ys.append(x[i] * x[i])
    s = 0.0
    for j in range(len(ys)):
        s = s + ys[j]
    return s
""", [(np.array([1.0, -2.0, 3.5]),)], True)
ad("append_then_pop", """
def f(x):
    xs = []
    xs.append(x * x)
    xs.append(2.0 * x)
    v = xs.pop()
    return v + xs[0]
""", P3, True)
ad("bare_pop", """
def f(x):
    xs = []
    xs.append(x * 3.0)
    xs.append(x * x * x)
    xs.pop()
    return xs[0]
""", P3, True)
ad("inactive_bookkeeping", """
def f(x):
    idxs = []
    idxs.append(1)
    idxs.append(0)
    return x * float(idxs[0] + 2)
""", [(2.0,)], True)
ad("list_extend", """
def f(x):
    xs = [x]
    xs.extend([x * 2.0])
    return xs[0] + xs[1]
""", P3, True)
ad("nested_list_append", """
def f(x):
    ys = [[]]
    ys[0].append(x * x)
    return ys[0][0]
""", P3, True)
ad("list_sort", """
def f(x):
    xs = [x * 2.0, x]
    xs.sort()
    return xs[0]
""", P3)

# test_comprehensions.py
ad("dictcomp_int_keys", """
def f(x):
    powers = {i: x ** i for i in range(1, 3)}
    return powers[1] + powers[2]
""", [(2.0,)], True)
ad("dictcomp_string_keys", """
def f(x):
    table = {k: x for k in ['a', 'b']}
    return table['a'] + table['b']
""", [(2.0,)])
ad("dictcomp_sum_values", """
def f(x):
    terms = {i: x * i for i in range(1, 4)}
    return sum(terms.values())
""", [(2.0,)])
ad("setcomp_membership_constant", """
def f(x):
    if x in {i for i in range(5)}:
        y = x * x
    else:
        y = x
    return y
""", [(2.0,), (9.0,)])
ad("setcomp_membership_active", """
def f(x):
    if 4.0 in {x * i for i in range(3)}:
        y = x * x
    else:
        y = x * 3.0
    return y
""", [(2.0,), (1.5,)])
ad("setcomp_over_list_literal", """
def f(x):
    if 2.0 in {c * 2 for c in [1.0, 2.0]}:
        y = x * x
    else:
        y = x
    return y
""", [(3.0,)])
ad("dictcomp_dynamic_range", """
def f(x, n=3):
    d = {i: x for i in range(n)}
    return d[0]
""", [(2.0,), (2.0, 2)])
ad("setcomp_filtered", """
def f(x):
    if x in {i for i in range(5) if i > 2}:
        y = x
    else:
        y = x * x
    return y
""", [(3.0,), (1.0,)])

# test_not_and_ternary.py
ad("not_as_value", """
def f(x):
    return not x
""", [(2.0,)])
ad("not_in_condition", """
def f(x):
    if not (x > 5):
        y = x * x
    else:
        y = x
    return y
""", [(2.0,), (8.0,)], True)
ad("not_as_flag", """
def f(x):
    flag = not (x > 0)
    if flag:
        y = x * 2
    else:
        y = x * x
    return y
""", [(-3.0,), (3.0,)], True)
ad("ternary_selects", """
def f(x):
    return x ** 2 if x > 1 else x ** 3
""", [(2.0,), (0.5,)], True)
ad("ternary_in_assignment", """
def f(x):
    y = (x * x) if x > 0 else (x * 3.0)
    return y
""", [(3.0,), (-3.0,)], True)
ad("ternary_constant_branches", """
def f(x):
    return 1.0 if x else 2.0
""", [(2.0,), (0.0,)])

# test_min_max_builtins.py
ad("max_first", "def f(x):\n    return max(x, 1.0)\n", [(2.0,)])
ad("max_second", "def f(x):\n    return max(x, 5.0)\n", [(2.0,)])
ad("max_relu", "def f(x):\n    return max(x, 0.0)\n", [(3.0,), (-2.0,)])
ad("max_two_active", "def f(x):\n    return max(x, x * 0.5)\n", [(2.0,), (-2.0,)])
ad("max_in_expression", "def f(x):\n    return max(x, 1.0) * x\n", [(2.0,)], True)
ad("min_first", "def f(x):\n    return min(x, 5.0)\n", [(2.0,)])
ad("min_second", "def f(x):\n    return min(x, 1.0)\n", [(2.0,)])
ad("min_clamp", "def f(x):\n    return min(x * x, 4.0)\n", [(1.0,), (3.0,)], True)
ad("relu_times_x", "def f(x):\n    return max(x, 0.0) * x\n",
   [(-2.0,), (-0.5,), (0.5,), (3.0,)], True)
ad("max_three_args", "def f(x):\n    return max(x, 2.0 * x, 0.5)\n", [(2.0,), (-2.0,), (0.1,)])

# test_enumerate.py
ad("enumerate_constant_list", """
def f(x):
    total = 0.0
    for i, c in enumerate([1.0, 2.0, 3.0]):
        total = total + x * c
    return total
""", [(2.0,)])
ad("enumerate_index_and_value", """
def f(x):
    total = 0.0
    for i, c in enumerate([1.0, 2.0, 3.0]):
        total = total + x * c * i
    return total
""", [(2.0,)])
ad("enumerate_active_array", """
def f(a):
    total = 0.0
    for i, v in enumerate(a):
        total = total + v * v
    return total
""", [(np.array([1.0, 2.0, 3.0]),)], True)
ad("enumerate_weighted_by_index", """
def f(a):
    total = 0.0
    for i, v in enumerate(a):
        total = total + v * i
    return total
""", [(np.array([1.0, 2.0, 3.0]),)])
ad("enumerate_start_offset", """
def f(x):
    total = 0.0
    for i, c in enumerate([1.0, 2.0], 10):
        total = total + x * i
    return total
""", [(2.0,)])

# test_augmented_subscript.py
V2 = [(np.array([1.0, 2.0]),)]
ad("augassign_element_add", "def f(a):\n    a[0] += a[1]\n    return a[0]\n", V2, True)
ad("augassign_element_mul", "def f(a):\n    a[1] *= a[0]\n    return a[1]\n", V2, True)
ad("augassign_scalar_into_element", """
def f(x):
    a = np.zeros(4)
    a[1] += x
    return np.sum(a)
""", [(2.0,)])
ad("augassign_scalar_into_slice", """
def f(x):
    a = np.zeros(4)
    a[0:2] += x
    return np.sum(a)
""", [(2.0,)])
ad("augassign_in_loop", """
def f(x):
    a = np.zeros(3)
    for i in range(3):
        a[i] += x
    return np.sum(a)
""", [(2.0,)])
ad("augassign_chained", """
def f(x):
    a = np.zeros(3)
    a[0] += x
    a[0] *= 2.0
    return np.sum(a * a)
""", [(2.0,)], True)
ad("augassign_attribute", """
def f(x):
    a = np.zeros(3)
    a.real += x
    return np.sum(a)
""", [(2.0,)])
ad("augassign_name", """
def f(x):
    total = 0.0
    total += x * x
    total += x
    return total
""", [(2.0,)], True)
ad("augassign_from_subscript", """
def f(a):
    total = 0.0
    total += a[0]
    total += a[1]
    return total * total
""", V2, True)

# test_chained_assignment.py
ad("chained_two", "def f(x):\n    a = b = x * x\n    return a + b\n", [(2.0,)], True)
ad("chained_three", "def f(x):\n    a = b = c = x ** 2\n    return a + b + c\n", [(2.0,)], True)
ad("chained_used_differently", "def f(x):\n    p = q = x\n    return p * 2 + q * 3\n",
   [(2.0,)])
ad("chained_difference", "def f(x):\n    a = b = x ** 3 + x\n    return a - b\n", [(2.0,)],
   True)
ad("chained_array_then_write", """
def f(x):
    a = b = x * 2.0
    a[0] = 5.0
    return np.sum(a * b)
""", [(np.array([1.0, -2.0, 3.0]),)], True)

# test_dict_construction.py
ad("dict_single_key", "def f(x):\n    d = {'a': x}\n    return d['a']\n", [(2.0,)])
ad("dict_multi_key", "def f(x):\n    d = {'a': x, 'b': x**2}\n    return d['a'] + d['b']\n",
   [(2.0,)], True)
ad("dict_three_keys", """
def f(x):
    d = {'p': x**3, 'q': x * 2, 'r': x}
    return d['p'] + d['q'] + d['r']
""", [(2.0,)], True)
ad("dict_named_config", """
def f(x):
    config = {'a': x, 'b': x**2}
    return config['a'] + config['b']
""", [(3.0,)])

# test_membership_operators.py
IN_TUPLE = """
def f(x):
    if x in (1.0, 2.0, 3.0):
        y = x * x
    else:
        y = x * 3.0
    return y
"""
NOT_IN_TUPLE = """
def f(x):
    if x not in (1.0, 2.0):
        y = x ** 2
    else:
        y = x * 5.0
    return y
"""
IN_LIST = """
def f(x):
    valid = [10.0, 20.0]
    if x in valid:
        y = x * x
    else:
        y = x
    return y
"""
ad("in_tuple", IN_TUPLE, [(5.0,)], True)
ad("not_in_tuple", NOT_IN_TUPLE, [(4.0,)], True)
ad("in_list_literal", IN_LIST, [(3.0,)])
# at a member the function is the member branch at one point only: differences
# say nothing there, the fork pins the branch's derivatives (value, d/dx, d2/dx2)
PINNED = {
    "in_tuple_member": (IN_TUPLE, 2.0, (4.0, 4.0, 2.0)),
    "not_in_tuple_member": (NOT_IN_TUPLE, 2.0, (10.0, 5.0, 0.0)),
    "in_list_literal_member": (IN_LIST, 10.0, (100.0, 20.0, 2.0)),
}
ad("in_as_loop_guard", """
def f(x):
    result = 0.0
    for i in range(1, 4):
        if i in (2, 3):
            result = result + x ** i
    return result
""", [(2.0,)], True)

# test_numpy_method_calls.py
C243 = np.arange(24.0).reshape(4, 2, 3)
ad("method_sum", "def f(x):\n    return (x * 2.0).sum()\n", [(np.array([1.0, 2.0, 3.0]),)])
ad("method_mean", "def f(x):\n    return (x * x).mean()\n",
   [(np.array([1.0, 2.0, 3.0, 4.0]),)], True)
ad("method_reshape_varargs", "def f(x):\n    return (x.reshape(2, 3) ** 2).sum()\n",
   [(np.arange(6.0),)], True)
ad("method_reshape_tuple", "def f(x):\n    return (x.reshape((2, 3)) * 2.0).sum()\n",
   [(np.arange(6.0),)])
ad("method_transpose_varargs", "def f(x):\n    return x.transpose(1, 0).sum()\n",
   [(np.arange(6.0).reshape(2, 3),)])
ad("method_transpose_tuple", "def f(x):\n    return (x.transpose((1, 0)) * 3.0).sum()\n",
   [(np.arange(6.0).reshape(2, 3),)])
ad("method_transpose_three_axes", """
C = np.arange(24.0).reshape(4, 2, 3)


def f(x):
    return (x.transpose(2, 0, 1) * C).sum()
""", [(np.arange(24.0).reshape(2, 3, 4),)])
ad("method_transpose_no_args", "def f(x):\n    return (x.transpose() * 4.0).sum()\n",
   [(np.arange(6.0).reshape(2, 3),)])
ad("method_squeeze", "def f(x):\n    return (x.squeeze() ** 3).sum()\n",
   [(np.arange(3.0).reshape(1, 3, 1),)], True)

# test_concat_stack.py (jax.numpy there; NumPy here)
ad("concatenate", "def f(a, b, c):\n    return np.sum(np.concatenate([a, b, c], axis=0))\n",
   [(np.array([1.0, 2.0]), np.array([3.0]), np.array([4.0, 5.0, 6.0]))])
ad("stack", "def f(a, b):\n    return np.sum(np.stack([a, b], axis=0))\n",
   [(np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0]))])
ad("concatenate_weighted", """
def f(a, b):
    joined = np.concatenate([a, b], axis=0)
    return np.sum(joined * joined)
""", [(np.array([1.0, 2.0]), np.array([3.0]))], True)
ad("concatenate_variable_list", """
def f(a, b):
    parts = [a, b]
    return np.sum(np.concatenate(parts, axis=0) ** 2)
""", [(np.array([1.0]), np.array([2.0]))], True)

# test_feature_matrix.py: the rows Tangent differentiates ...
ad("assigned_lambda", "def f(x):\n    sq = lambda y: y * y\n    return sq(x)\n", [(2.0,)], True)
ad("external_closure", """
def _make_multiplier(scale):
    def g(x):
        return x * scale
    return g


f = _make_multiplier(3.0)
""", [(2.0,)])
ad("listcomp_constant_range", """
def f(x):
    vals = [x * i for i in range(4)]
    return np.sum(vals)
""", [(2.0,)])
ad("listcomp_filtered", """
def f(x):
    vals = [x * i for i in range(4) if i > 1]
    return vals[0] * vals[1]
""", [(2.0,)], True)
ad("scatter_slice", "def f(x):\n    a = np.zeros(4)\n    a[0:2] = x\n    return np.sum(a)\n",
   [(2.0,)])
ad("scatter_scalar_index", """
def f(x):
    a = np.zeros(4)
    a[1] = x
    return np.sum(a ** 2)
""", [(2.0,)], True)
ad("chained_comparison", """
def f(x):
    if 0 < x < 10:
        return x * x
    return x
""", [(2.0,), (-1.0,), (12.0,)], True)
ad("nested_ternary", "def f(x):\n    return x * x if x > 0 else (x if x > -5 else -x)\n",
   [(2.0,), (-2.0,), (-7.0,)], True)
ad("enumerate_array_constant", """
def f(x):
    r = 0.0
    for i, v in enumerate(np.array([1.0, 2.0])):
        r = r + i * v * x
    return r
""", [(2.0,)])
ad("zip_loop", """
def f(x):
    r = 0.0
    for a, b in zip(np.array([1.0, 2.0]), np.array([3.0, 4.0])):
        r = r + a * b * x
    return r
""", [(2.0,)])
ad("fstring_assert", """
def f(x):
    assert x > 0, f"x must be positive, got {x}"
    return x * x
""", [(2.0,)], True)
ad("default_arg", "def f(x, p=2.0):\n    return x ** p\n", [(2.0,), (2.0, 3.0)], True)
# ... and the rows it rejects (s2sgrad: right or refused, never wrong)
ad("walrus", """
def f(x):
    if (y := x * 2) > 1:
        return y
    return x
""", [(2.0,), (0.2,)])
ad("raise", """
def f(x):
    if x < 0:
        raise ValueError('negative')
    return x * x
""", [(2.0,)], True)
ad("try_except", """
def f(x):
    try:
        return x * x
    except Exception:
        return x
""", [(2.0,)])
ad("nested_def", """
def f(x):
    def inner(y):
        return y * 2
    return inner(x)
""", [(2.0,)])
ad("closure_in_fn", """
def f(x):
    scale = 3.0

    def inner(y):
        return y * scale * y
    return inner(x)
""", [(2.0,)], True)
ad("recursion", """
def f(x):
    def rec(n, acc):
        if n == 0:
            return acc
        return rec(n - 1, acc + x)
    return rec(3, 0.0)
""", [(2.0,)])
# (wrt=0 names the parameter xs, the tuple of every positional argument: the
# harness's tangents and second-order seeds are per argument, so reverse only)
ad("star_args", "def f(*xs):\n    return xs[0] * xs[0]\n", [(2.0,)], modes=("rev",))
ad("varkw", "def f(x, **kw):\n    return x * x\n", [(2.0,)], True)
ad("inline_lambda", "def f(x):\n    return (lambda y: y * y)(x)\n", [(2.0,)], True)
ad("class_def", """
def f(x):
    class M:
        pass
    return x * x
""", [(2.0,)])
ad("generator_expression", "def f(x):\n    return sum(x * i for i in range(3))\n", [(2.0,)])
ad("global_stmt", """
G = 1.5


def f(x):
    global G
    return x * G
""", [(2.0,)])
ad("del_stmt", """
def f(x):
    y = x * x
    del y
    return x * 3
""", [(2.0,)])
ad("import_inside", """
def f(x):
    import math
    return math.sin(x) * x
""", [(2.0,)], True)
ad("builtin_sum", "def f(x):\n    return sum((x, x * x))\n", [(2.0,)], True)
ad("int_cast", "def f(x):\n    return float(int(x)) + x\n", [(2.5,)])
# test_classes.py: methods of plain classes (an instance made outside, read as a
# global: inlined; one made inside: refused with the advice)
ad("class_instance_global", """
from tests.ports.tangent_functions import CALC, SCALER


def f(x):
    return CALC.square_then_double(x) + CALC.combined(x) * SCALER.scale(x)
""", [(3.0,), (-1.5,)], True)
ad("class_instance_inside", """
from tests.ports.tangent_functions import SimpleCalculator


def f(x):
    calc = SimpleCalculator()
    return calc.square(x) + calc.cube(x)
""", [(2.0,)])
# test_iteration_rejected.py: loops over literal collections of active values
# and dict views (the fork rejects them: its loop variable lost the gradient)
ad("iterate_list_literal_active", """
def f(x):
    total = 0.0
    for v in [x, x * 2]:
        total = total + v * v
    return total
""", [(2.0,)], True)
ad("iterate_tuple_literal_active", """
def f(x):
    total = 0.0
    for v in (x, x * 2):
        total = total + v
    return total * x
""", [(2.0,)], True)
ad("iterate_dict_values", """
def f(x):
    d = {'a': x, 'b': x * 2}
    total = 0.0
    for v in d.values():
        total = total + v * v
    return total
""", [(2.0,)], True)
ad("iterate_dict_items", """
def f(x):
    d = {'a': x, 'b': x * 2}
    total = 0.0
    for k, v in d.items():
        total = total + v * (2.0 if k == 'a' else 3.0)
    return total
""", [(2.0,)])
ad("iterate_dict_keys", """
def f(x):
    d = {'a': x, 'b': x * 2}
    total = 0.0
    for k in d.keys():
        total = total + d[k] * d[k]
    return total
""", [(2.0,)], True)
ad("iterate_constant_list", """
def f(x):
    total = 0.0
    for c in [1.0, 2.0, 3.0]:
        total = total + x * c
    return total
""", [(2.0,)])
# test_dict_get_method.py
ad("dict_get", "def f(x):\n    d = {'a': x}\n    return d.get('a') ** 2\n", [(2.0,)], True)
ad("dict_get_default_present", "def f(x):\n    d = {'a': x * x}\n    return d.get('a', 0.0)\n",
   [(3.0,)], True)
ad("dict_get_default_missing", "def f(x):\n    d = {'a': x}\n    return d.get('b', x * 2)\n",
   [(2.0,)])
ad("dict_get_in_loop", """
def f(x):
    d = {'w': x ** 2}
    total = 0.0
    for i in range(3):
        total = total + d.get('w')
    return total
""", [(2.0,)], True)
ad("dict_get_default_parameter", """
def f(x, config={'lr': 0.5}):
    return x * config.get('lr')
""", [(2.0,)])
# test_container_outputs.py: containers in and out
A2, B2 = np.array([1.0, 2.0]), np.array([3.0, 4.0])
ad("container_tuple_input", "def f(params):\n    return np.sum(params[0] * params[1])\n",
   [((A2, B2),)], True)
ad("container_list_input", "def f(params):\n    return np.sum(params[0] + params[1] ** 2)\n",
   [([A2, B2],)], True)
ad("container_dict_input", "def f(d):\n    return np.sum(d['a'] * d['b'])\n",
   [({"a": A2, "b": B2},)], True)
ad("container_nested_input", """
def f(d):
    return np.sum(d['x'][0] * d['x'][1]) + np.sum(d['y'] ** 3)
""", [({"x": (A2, B2), "y": A2},)], True)
ad("container_loop_over_input", """
def f(params):
    s = 0.0
    for p in params:
        s = s + np.sum(p * p)
    return s
""", [((A2, B2),)], True)
ad("container_dict_output", "def f(x):\n    return {'a': x * x, 'b': 3.0 * x}\n",
   [(A2,)])
ad("container_nested_dict_output", """
def f(x):
    return {'u': [x * x, np.tanh(x)], 'v': np.sum(x * x)}
""", [(np.array([0.3, -0.7, 1.1]),)])
ad("container_list_output", "def f(x):\n    return [x * x, np.sin(x)]\n",
   [(np.array([0.5, 1.5, -0.5]),)])
ad("container_dict_in_dict_out", """
def f(d):
    return {'out': d['w'] * d['b'], 'aux': np.sum(d['w'] * d['w'])}
""", [({"w": A2, "b": B2},)])
# Python scalar code Tangent users write: the math module, abs, pow, while on values
ad("math_functions", """
import math


def f(x):
    return math.exp(math.sin(x)) + math.log(x * x + 1.0) * math.sqrt(abs(x)) + math.tanh(x)
""", [(0.7,), (-1.3,)], True)
ad("math_pow_hypot_atan2", """
import math


def f(a, b):
    return math.pow(a, 2.0) * math.hypot(a, b) + math.atan2(b, a) + pow(b, 3)
""", [(1.5, -0.5), (-2.0, 0.7)], True)
ad("while_on_value_newton", """
def f(a):
    x = a
    while abs(x * x - a) > 1e-12 * a:
        x = 0.5 * (x + a / x)
    return x
""", [(2.0,), (9.0,)], True)
ad("list_pop_front_loop", """
def f(x):
    queue = [x, 2.0 * x, x * x]
    total = 0.0
    while queue:
        v = queue.pop(0)
        total = total + v * total + v
    return total
""", [(0.5,), (-1.2,)], True)
ad("tuple_swap_loop", """
def f(a, b):
    for i in range(4):
        a, b = b, a * b + 0.1
    return a + b
""", [(0.5, 1.5), (-1.0, 0.8)], True)


def ad_cases(short=False):
    out = []
    for name, (src, points, modes) in AD.items():
        header = "import numpy as np"
        for args in (points[:1] if short else points):
            wrt = tuple(i for i, a in enumerate(args) if harness._is_float_leaf(a))
            out.append(source_case("tangent-ad", _name(name, args), src, args, wrt or (0,),
                                   header=header, modes=modes))
    return out + pinned_cases(short)


def _pinned_check(value, d1, d2):
    def check(f, args, mode):
        import s2sgrad
        if mode == "rev":
            got_v, got_d = s2sgrad.value_and_grad(f)(*args)
        elif mode == "fwd":
            got_v, got_d = s2sgrad.jvp(f)(args, (1.0,))
        else:
            got = s2sgrad.hvp(f, wrt=(0,))(args, (1.0,))[0] if mode == "hvp" else \
                s2sgrad.grad(s2sgrad.grad(f))(*args)
            if np.isclose(got, d2, rtol=1e-12, atol=1e-15):
                return "ok", ""
            return "wrong", f"second derivative {got!r}, the branch's is {d2!r}"
        if not np.isclose(got_v, value, rtol=1e-12):
            return "wrong", f"value {got_v!r} != {value!r}"
        if not np.isclose(got_d, d1, rtol=1e-12):
            return "wrong", f"derivative {got_d!r}, the branch's is {d1!r}"
        return "ok", ""
    return check


def pinned_cases(short=False):
    return [source_case("tangent-ad", f"{name}[{x!r}]", src, (x,), (0,),
                        modes=("rev", "fwd", "hvp", "rr"), custom=_pinned_check(*vals))
            for name, (src, x, vals) in PINNED.items()]


# ------------------------------------------------------------------ Zygote's features.jl

# Zygote's test/features.jl: the language features its pullbacks handle, each
# written as the Python a NumPy user would write (facts carry over, code does
# not); same checks as tangent-ad's (first order, second where smooth)
ZY = {}


def zy(name, src, points, second=False, modes=None):
    ZY[name] = (src, points, modes or (FIRST + (SECOND if second else ())))


zy("pow_while", """
def f(x, n):
    r = 1.0
    while n > 0:
        n -= 1
        r *= x
    return r
""", [(2.0, 3), (-1.5, 4)], True)
zy("pow_mutable_cell", """
def f(x, n):
    r = [1.0]
    while n > 0:
        n -= 1
        r[0] = r[0] * x
    return r[0]
""", [(2.0, 3)], True)
zy("tuple_argument", "def f(t):\n    return t[0] * t[1]\n", [((2.0, 3.0),)], True)
zy("complex_real_part", "def f(z):\n    return z.real\n", [(2.0 + 3.0j,)])
zy("complex_real_times_imag", "def f(z):\n    return z.real * z.imag\n", [(2.0 + 3.0j,)])
zy("struct_fields", """
from tests.ports.tangent_functions import Foo


def f(a, b):
    c = Foo(a, b)
    return c.a * c.b
""", [(2.0, 3.0)], True)
zy("mul_tuple", "def f(a, b):\n    c = (a, b)\n    return c[0] * c[1]\n", [(2.0, 3.0)], True)
zy("mul_lambda_closure", """
def f(x, y):
    g = lambda z: x * z
    return g(y)
""", [(2.0, 3.0)], True)
zy("varargs_product", """
def prod_all(a, *b):
    out = a
    for v in b:
        out = out * v
    return out


def f(a, b, c):
    return prod_all(a, b, c) + prod_all(a)
""", [(2.0, 3.0, -0.5)], True)
zy("keyword_only_call", """
def kwmul(*, a=1.0, b):
    return a * b


def f(a, b):
    return kwmul(a=a, b=b) + kwmul(b=b)
""", [(2.0, 3.0)], True)
zy("myprod_loop", """
def f(xs):
    s = 1.0
    for x in xs:
        s *= x
    return s
""", [(np.array([1.0, 2.0, 3.0]),)], True)
zy("mul_list", "def f(a, b):\n    xs = [a, b]\n    return xs[0] * xs[1]\n", [(2.0, 3.0)], True)
zy("dict_store", """
def f(x):
    d = {}
    d["x"] = x
    return x * d["x"]
""", [(2.0,)], True)
zy("recursion_pow", """
def pow_rec(x, n):
    return 1.0 if n == 0 else x * pow_rec(x, n - 1)


def f(x):
    return pow_rec(x, 3)
""", [(2.0,)], True)
zy("nested_derivative", """
import s2sgrad


def f(x):
    return s2sgrad.grad(np.sin)(x)
""", [(0.5,)], True)
zy("nested_derivative_closure_sum", """
import s2sgrad


def f(x):
    def inner(y):
        return x + y
    return x * s2sgrad.grad(inner)(1.0)
""", [(1.0,)], True)
# perturbation confusion: d/dx [x * d/dy (x*y)] = 2x, 8 at 4
zy("nested_derivative_closure_product", """
import s2sgrad


def f(x):
    def inner(y):
        return x * y
    return x * s2sgrad.grad(inner)(1.0)
""", [(4.0,), (-1.5,)], True)
zy("matrix_literal", "def f(x):\n    H = np.array([[1.0, x], [3.0, 4.0]])\n    return np.sum(H * H)\n",
   [(2.0,)], True)
zy("three_way_merge", """
def f(x):
    if x > 0:
        x *= 2
    elif x < 0:
        x *= 3
    return x * x
""", [(1.0,), (-1.0,)], True)
zy("tuple_of_array", "def f(x):\n    t = tuple(x)\n    return t[0] * t[1] + t[2]\n",
   [(np.array([1.0, 2.0, 3.0]),)], True)
zy("shape_is_data", "def f(x):\n    return x.shape[1] * np.sum(x ** 2)\n",
   [(np.ones((2, 3)) * 0.5,)], True)
zy("tuple_slice_sum", "def f(x, y, z):\n    return sum((x, y, z)[0:2]) * z\n", [(7.0, 8.8, 9.9)],
   True)
zy("object_attribute_set", """
class MyMutable:
    def __init__(self, value):
        self.value = value


def set_value(m, x):
    m.value = x


def f(x):
    m = MyMutable(0.0)
    set_value(m, x)
    return m.value * x
""", [(1.0,)], True)
zy("one_of_eltype", "def f(x):\n    return np.ones((), dtype=x.dtype) + 0.0 * np.sum(x)\n",
   [(np.arange(3.0),)])


def zygote_cases(short=False):
    out = []
    for name, (src, points, modes) in ZY.items():
        for args in (points[:1] if short else points):
            wrt = tuple(i for i, a in enumerate(args)
                        if harness._is_float_leaf(a) or isinstance(a, tuple))
            out.append(source_case("zygote", _name(name, args), src, args, wrt or (0,),
                                   modes=modes))
    return out


ALL = {
    "tangent": corpus_cases,
    "tangent-2nd": second_cases,
    "tangent-hvp": hvp_cases,
    "tangent-demos": demo_cases,
    "tangent-ad": ad_cases,
    "zygote": zygote_cases,
}


def all_cases(short=False, areas=None):
    out = []
    for area, make in ALL.items():
        if areas is None or area in areas:
            out += make(short)
    return out
