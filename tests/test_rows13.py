"""Weight gradients of matrix products in a loop added up per step
(tapes._Tapes._accumulate_products) when the hoisted factor arrays would be
large beside the weights -- the GRU row of benchmarks/bench_core.py, 1.22x
hand before (four 1.6 MB factor arrays page-faulted in each call), and the
codegen rule that writes such an accumulation into its carry's buffer
(``acc += p``).  Each program: value vs plain NumPy, gradient vs central
differences (float64, along random directions: the programs are large on
purpose), float32, a Python float, a variable used twice, both sides of the
product (``x @ W`` and ``W @ h``); small programs (below the size test) and
weights large beside the rows (the RNN rows) keep the stacked factors."""
import re

import numpy as np
import pytest

from s2sgrad import api, grad, value_and_grad

rng = np.random.default_rng(1324)


@pytest.fixture(autouse=True)
def _first(monkeypatch):
    monkeypatch.setattr(api, "SPECIALIZE", "first")


def _sig(a):
    return 1.0 / (1.0 + np.exp(-a))


def gru(Wz, Uz, Wr, Ur, Wn, Un, xs, h0, target):
    h = h0
    for t in range(xs.shape[0]):
        x = xs[t]
        z = 1.0 / (1.0 + np.exp(-(x @ Wz + h @ Uz)))
        r = 1.0 / (1.0 + np.exp(-(x @ Wr + h @ Ur)))
        c = np.tanh(x @ Wn + (r * h) @ Un)
        h = (1.0 - z) * c + z * h
    return 0.5 * np.sum((h - target) ** 2)


def gated_cols(Wa, Wb, xs, h0, s):
    """States as columns (``W @ h``: the other side of the product), a Python
    float ``s``, the row ``x`` read twice."""
    h = h0
    for t in range(xs.shape[0]):
        x = xs[t]
        a = np.tanh(Wa @ h + s * x)
        b = _sig(Wb @ h - x)
        h = a * b + (1.0 - b) * h
    return np.sum(h * h) + s * np.sum(h)


def _gru_args(T, H, n_in, B, dtype=np.float64):
    Ws = []
    for _ in range(3):
        Ws.append(rng.standard_normal((n_in, H)) / np.sqrt(n_in))
        Ws.append(rng.standard_normal((H, H)) / np.sqrt(H))
    xs = rng.standard_normal((T, B, n_in))
    h0 = 0.1 * rng.standard_normal((B, H))
    target = 0.5 * rng.standard_normal((B, H))
    return tuple(a.astype(dtype) for a in Ws + [xs, h0, target])


def _cols_args(T, H, B):
    Wa = rng.standard_normal((H, H)) / np.sqrt(H)
    Wb = rng.standard_normal((H, H)) / np.sqrt(H)
    xs = rng.standard_normal((T, H, B))
    h0 = 0.1 * rng.standard_normal((H, B))
    return Wa, Wb, xs, h0, 0.7


def _check_fd(f, args, wrt, got, eps=1e-6, tol=1e-6, dirs=3):
    """<grad, v> against the central difference of f along random v."""
    for _ in range(dirs):
        vs = [rng.standard_normal(np.shape(args[k])) for k in wrt]
        up, dn = list(args), list(args)
        for k, v in zip(wrt, vs):
            up[k] = args[k] + eps * v
            dn[k] = args[k] - eps * v
        num = (f(*up) - f(*dn)) / (2 * eps)
        ana = sum(float(np.sum(g * v)) for g, v in zip(got, vs))
        assert abs(num - ana) <= tol * max(1.0, abs(num)), (num, ana)


def _accumulated(src) -> bool:
    """Per-step accumulation into a carry (``_t0 += _t19``) and no stacked
    factor product after the loop."""
    return re.search(r"^\s+\w+ \+= \w+T @ \w+$|^\s+\w+ \+= _t\d+$", src, re.M) is not None and \
        "matmul_vjp" not in src and "steps" not in src


def test_gru_large_accumulates_per_step():
    args = _gru_args(T=12, H=96, n_in=24, B=128)      # 12 x 128 x 96 x 8 B = 1.2 MB per factor
    wrt = (0, 1, 2, 3, 4, 5)
    g = value_and_grad(gru, wrt=wrt)
    for _ in range(2):
        v, got = g(*args)
        np.testing.assert_allclose(v, gru(*args), rtol=1e-13)
        for k, a in zip(wrt, got):
            assert a.shape == args[k].shape and a.dtype == np.float64
        _check_fd(gru, args, wrt, got)
    assert _accumulated(g.source), g.source
    # the same numbers as the stacked form (up to the order of the sum)
    small = grad(gru, wrt=wrt)
    ref = small(*[a.copy() for a in args])
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_gru_large_float32():
    args = _gru_args(T=12, H=96, n_in=24, B=128, dtype=np.float32)
    wrt = (0, 1, 2, 3, 4, 5)
    g = grad(gru, wrt=wrt)
    got = g(*args)
    assert _accumulated(g.source), g.source
    ref = grad(gru, wrt=wrt)(*[a.astype(np.float64) for a in args])
    for a, b in zip(got, ref):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-4)


def test_columns_python_float_and_repeated_row():
    args = _cols_args(T=10, H=48, B=320)               # 10 x 48 x 320 x 8 B = 1.2 MB
    wrt = (0, 1)
    g = value_and_grad(gated_cols, wrt=wrt)
    for _ in range(2):
        v, got = g(*args)
        np.testing.assert_allclose(v, gated_cols(*args), rtol=1e-13)
        _check_fd(gated_cols, args, wrt, got)
    assert _accumulated(g.source), g.source
    # the gradient with respect to the Python float too (it joins no product)
    g2 = grad(gated_cols, wrt=(0, 4))
    got2 = g2(*args)
    assert isinstance(got2[1], float) or np.ndim(got2[1]) == 0
    num = (gated_cols(*args[:4], args[4] + 1e-6) - gated_cols(*args[:4], args[4] - 1e-6)) / 2e-6
    np.testing.assert_allclose(float(got2[1]), num, rtol=1e-6)
    np.testing.assert_allclose(got2[0], got[0], rtol=1e-12, atol=1e-14)


def test_small_keeps_stacked_factors():
    # 6 x 8 x 16 x 8 B per factor: heap memory, one product after the loop
    args = _gru_args(T=6, H=16, n_in=5, B=8)
    wrt = (0, 1, 2, 3, 4, 5)
    g = value_and_grad(gru, wrt=wrt)
    v, got = g(*args)
    np.testing.assert_allclose(v, gru(*args), rtol=1e-13)
    _check_fd(gru, args, wrt, got)
    assert not _accumulated(g.source), g.source


def test_large_weights_keep_stacked_factors():
    # the RNN rows' shape: one factor array, weights many times its row
    def rnn(Wh, Wx, xs, h0):
        h = h0
        for t in range(xs.shape[0]):
            h = np.tanh(Wh @ h + Wx @ xs[t])
        return np.sum(h ** 2)
    H, B, T = 256, 8, 80                            # 80 x 256 x 8 x 8 B = 1.3 MB
    args = (rng.standard_normal((H, H)) / 16, rng.standard_normal((H, 4)) / 2,
            rng.standard_normal((T, 4, B)), 0.1 * rng.standard_normal((H, B)))
    g = value_and_grad(rnn, wrt=(0, 1))
    v, got = g(*args)
    np.testing.assert_allclose(v, rnn(*args), rtol=1e-12)
    _check_fd(rnn, args, (0, 1), got)
    assert not _accumulated(g.source), g.source


# ---------------------------------------------------------------- ReLU's cotangent
#
# maximum(x, c) / minimum(x, c) against a finite constant: the cotangent is
# g * (d >= 0) with the tie's 1/2 put back where d == 0 (runtime.ties_halved),
# bit for bit the former g * step(d), step(d) = fmax((sign(d) + 1) * 0.5, 0).

EDGE = np.array([0.0, -0.0, np.nan, 1.5, -1.5, np.inf, -np.inf, 5e-324, -5e-324, 2.0, -3.0, 0.0])
WEIGHTS = np.array([3.3, -2.2, 1.0, np.inf, np.inf, np.nan, -np.inf, 5e-324, 7.0, -0.0, 1e308,
                    -np.inf])


def _step(d):
    return np.fmax((np.sign(d) + 1.0) * 0.5, 0.0)


def _bits_equal(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
    ints = {2: np.int16, 4: np.int32, 8: np.int64}[a.dtype.itemsize]
    np.testing.assert_array_equal(a.view(ints), b.view(ints))


@pytest.mark.parametrize("spelling", ["max_x0", "max_0x", "min_x0", "min_0x", "max_xc"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_relu_cotangent_bits_at_edges(spelling, dtype):
    c = 0.75 if spelling == "max_xc" else 0.0
    f = {"max_x0": lambda x, w: np.sum(w * np.maximum(x, 0.0)),
         "max_0x": lambda x, w: np.sum(w * np.maximum(0.0, x)),
         "min_x0": lambda x, w: np.sum(w * np.minimum(x, 0.0)),
         "min_0x": lambda x, w: np.sum(w * np.minimum(0.0, x)),
         "max_xc": lambda x, w: np.sum(w * np.maximum(x, 0.75))}[spelling]
    x = (EDGE + c).astype(dtype)
    with np.errstate(over="ignore"):
        w = WEIGHTS.astype(dtype)
    with np.errstate(all="ignore"):
        got = grad(f, wrt=0)(x, w)
        d = x - dtype(c) if spelling.startswith("max") else dtype(c) - x
        want = w * _step(d).astype(dtype)
    _bits_equal(got, want)


def test_relu_mlp_value_and_fd():
    def net(W1, b1, W2, X, lam=1e-3):
        H = np.maximum(X @ W1 + b1, 0.0)
        return np.sum(np.tanh(H @ W2)) + lam * np.sum(W1 * W1) + np.sum(np.maximum(H, 0.0))
    X = rng.standard_normal((40, 6))
    args = (rng.standard_normal((6, 9)), 0.1 * rng.standard_normal(9),     # b1 broadcast
            rng.standard_normal((9, 3)), X)
    g = value_and_grad(net, wrt=(0, 1, 2))
    for _ in range(2):
        v, got = g(*args, lam=0.01)                    # a Python float, by keyword
        np.testing.assert_allclose(v, net(*args, lam=0.01), rtol=1e-13)
        _check_fd(lambda *a: net(*a, lam=0.01), args, (0, 1, 2), got)
    assert "ties_halved" in g.source and "np.sign" not in g.source, g.source


def test_relu_exact_ties_get_half():
    # rows of X that make X @ W1 + b1 exactly 0: the documented 1/2 there
    def f(W1, b1, X):
        return np.sum(np.maximum(X @ W1 + b1, 0.0))
    W1 = np.array([[1.0, -2.0], [0.5, 4.0]])
    b1 = np.array([0.0, 1.0])
    X = np.array([[0.0, 0.0], [1.0, 0.0], [-1.0, 0.0], [0.0, -0.25]])
    gW, gb = grad(f, wrt=(0, 1))(W1, b1, X)
    pre = X @ W1 + b1
    s = _step(pre)
    np.testing.assert_array_equal(gb, s.sum(axis=0))
    np.testing.assert_array_equal(gW, X.T @ s)
    assert 0.5 in s                                    # (a tie is exercised)


def test_relu_repeated_use_and_scalar():
    def f(x, s):
        r = np.maximum(x, 0.0)
        return np.sum(r * x) + np.maximum(s, 0.0) * np.sum(r)
    x = np.array([-1.0, 0.0, 2.0, 3.5, -0.0])
    for s in (1.5, -2.0, 0.0):
        gx, gs = grad(f, wrt=(0, 1))(x, s)
        step = _step(x)
        np.testing.assert_allclose(gx, step * x + np.maximum(x, 0.0) +
                                   max(s, 0.0) * step, rtol=1e-15)
        np.testing.assert_allclose(gs, float(_step(np.float64(s))) * np.sum(np.maximum(x, 0.0)),
                                   rtol=1e-15)


def test_relu_second_order():
    # hvp through the ReLU: ties_halved is linear in its first operand
    def f(x):
        return np.sum(np.maximum(x, 0.0) ** 3)
    x = np.array([-1.0, 0.5, 2.0, 0.0])
    h = grad(lambda y: np.sum(grad(f)(y) * np.array([1.0, 2.0, 3.0, 4.0])))(x)
    np.testing.assert_allclose(h, 6 * np.maximum(x, 0.0) * np.array([1.0, 2.0, 3.0, 4.0]) *
                               (x > 0), rtol=1e-14)


# ---------------------------------------------------------------- a factor out of a sum
#
# peephole._sum_factors: np.sum(a * v, axis) as np.sum(a, axis) * v when v
# has no dimension along the summed axes (the Gaussian mixture's adjoint).
# Within 2 gamma_n |v| sum |a| of the per-term form (README).

def gmm(mu, log_s, logits, X):
    d = X.shape[1]
    lw = logits - np.log(np.sum(np.exp(logits - np.max(logits)))) - np.max(logits)
    D2 = np.sum(X ** 2, axis=1)[:, None] - 2.0 * X @ mu.T + np.sum(mu ** 2, axis=1)
    L = lw - d * log_s - 0.5 * d * np.log(2 * np.pi) - 0.5 * D2 * np.exp(-2.0 * log_s)
    m = np.max(L, axis=1, keepdims=True)
    ll = np.log(np.sum(np.exp(L - m), axis=1)) + m[:, 0]
    return -np.mean(ll)


def _gmm_args(n, d, k, dtype=np.float64):
    return tuple(a.astype(dtype) for a in (
        rng.standard_normal((k, d)), 0.1 * rng.standard_normal(k),
        0.1 * rng.standard_normal(k), rng.standard_normal((n, d))))


def test_gmm_sum_factor_value_fd_and_shared_sum():
    args = _gmm_args(300, 3, 5)
    g = value_and_grad(gmm, wrt=(0, 1, 2))
    for _ in range(2):
        v, got = g(*args)
        np.testing.assert_allclose(v, gmm(*args), rtol=1e-13)
        _check_fd(gmm, args, (0, 1, 2), got, dirs=4)
    src = g.source
    # the responsibilities summed over the samples once (shared by logits and
    # mu: was a second sum of their product with a per-component factor)
    summed = re.findall(r"= (\w+)\.sum\(axis=0\)", src)
    assert len(summed) == 3 and len(set(summed)) == 3, src


def test_gmm_sum_factor_float32():
    args = _gmm_args(300, 3, 5, np.float32)
    got = grad(gmm, wrt=(0, 1, 2))(*args)
    ref = grad(gmm, wrt=(0, 1, 2))(*[a.astype(np.float64) for a in args])
    for a, b in zip(got, ref):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("case", ["cols", "cols_keepdims", "lead2", "python_scalar", "rows"])
def test_sum_factor_bound(case):
    n, k = 2000, 7
    A = rng.standard_normal((n, k)) * np.exp(rng.standard_normal((n, k)))
    w = rng.standard_normal(k)
    if case == "cols":
        f = lambda a, v: np.sum(np.sum(a * v, axis=0) ** 2)             # noqa: E731
        args, v = (A, w), w
    elif case == "cols_keepdims":
        f = lambda a, v: np.sum(np.sum(a * v, axis=0, keepdims=True) ** 2)    # noqa: E731
        args, v = (A, w[None, :]), w[None, :]
    elif case == "lead2":
        A = A.reshape(40, 50, k)
        f = lambda a, v: np.sum(np.sum(a * v, axis=(0, 1)) ** 2)         # noqa: E731
        args, v = (A, w), w
    elif case == "python_scalar":
        f = lambda a, v: np.sum(np.sum(a * v, axis=0) ** 2) * 0.5         # noqa: E731
        args, v = (A, w), w
    else:   # v varies along the summed axis: no rewrite, the per-term sum bit for bit
        v = rng.standard_normal((n, 1))
        f = lambda a, v: np.sum(np.sum(a * v, axis=0) ** 2)             # noqa: E731
        args = (A, v)
    # d/dv of sum(s ** 2), s = sum(a * v, axis): its adjoint is sum(a * g, axis),
    # g = 2 s broadcast -- the pattern, with the cotangent as v
    gv = grad(f, wrt=1)(*args)
    axes = (0, 1) if case == "lead2" else 0
    s = np.sum(A * v, axis=axes, keepdims=(case == "cols_keepdims"))
    scale = 0.5 if case == "python_scalar" else 1.0
    gs = 2.0 * s * scale
    if case == "rows":
        np.testing.assert_allclose(gv, np.sum(A * gs, axis=1, keepdims=True), rtol=1e-12)
        return
    # the gradient of v: sum over the summed axes of A * gs -- no factor of A to move here;
    # the forward sum(a * v) is the rewritten one: its value vs NumPy's per-term sum
    val = np.sum(np.sum(A * v, axis=axes) ** 2) * scale
    np.testing.assert_allclose(value_and_grad(f, wrt=1)(*args)[0], val, rtol=1e-12)
    ga = grad(f, wrt=0)(*args)
    np.testing.assert_allclose(ga, np.broadcast_to(v * gs, A.shape), rtol=1e-12)
    np.testing.assert_allclose(gv.reshape(-1), np.sum(A * gs, axis=axes).reshape(-1) if
                               case != "lead2" else np.sum(A * gs, axis=(0, 1)), rtol=1e-12)


def test_sum_factor_within_documented_bound():
    # the rewritten forward sum against the per-term one, elementwise, with
    # the bound 2 gamma_n |v| sum |a| -- and the rewrite is visible in the source
    n, k = 5000, 6
    A = rng.standard_normal((n, k)) * 1e3
    w = rng.standard_normal(k)
    f = lambda a, v: np.sum(np.sum(a * v, axis=0) * np.arange(1.0, k + 1))     # noqa: E731
    g = value_and_grad(f, wrt=1)
    val, gv = g(A, w)
    s_terms = np.sum(A * w, axis=0)
    s_moved = np.sum(A, axis=0) * w
    u = np.finfo(np.float64).eps / 2
    gamma = n * u / (1 - n * u)
    bound = 2 * gamma * np.abs(w) * np.sum(np.abs(A), axis=0)
    assert np.all(np.abs(s_terms - s_moved) <= bound)
    np.testing.assert_allclose(val, np.sum(s_terms * np.arange(1.0, k + 1)),
                               rtol=0, atol=float(np.sum(bound * np.arange(1.0, k + 1))))
    assert re.search(r"\w+ = a\.sum\(axis=0\)|np\.sum\(a, axis=0\)", g.source), g.source


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_relu_python_float_cotangent_keeps_dtype(dtype):
    # g a Python float (s * relu(x), the seed's 1.0): g * (d >= 0) is float64,
    # the cotangent is in g * step(d)'s dtype, x's
    def f(x, s):
        return s * np.sum(np.maximum(x, 0.0)) + np.sum(np.minimum(x, 0.5))
    x = np.array([-1.0, 0.0, 0.5, 2.0, np.nan], dtype=dtype)
    with np.errstate(invalid="ignore"):
        got = grad(f)(x, 3.0)
        want = (3.0 * _step(x) + _step(np.asarray(0.5, dtype) - x)).astype(dtype)
    assert got.dtype == dtype
    _bits_equal(got, want)
