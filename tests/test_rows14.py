"""perf-rows14: the seed of a 0-d loss as a NumPy scalar of the loss's dtype
(``np.float64(1.0)``, not ``np.ones((), dtype=np.float64)``), and the
constant reshape of a reduction's adjoint as the ``x.reshape`` method.

The seed's first adjoints (``seed * lam``, ``seed / n``) are NumPy scalar
arithmetic where they were ufunc calls on a 0-d array: NEP 50 promotes a
NumPy scalar and a 0-d array alike, and a ufunc's 0-d result is a scalar
either way, so every result has the same type, dtype and bits.  The tests
compare the value with NumPy, the gradient with central differences, and
the specialised code bit for bit (values and types) with the former 0-d
array seed at the edge values (0, -0.0, NaN, inf, subnormals, float32,
float16, mixed dtypes, Python and NumPy scalars, keywords).
"""
import linecache

import numpy as np
import pytest

import s2sgrad
from s2sgrad import specialize

_COUNT = 0


def _fresh(src, name, extra=None):
    """A new function object (so nothing compiled before is reused)."""
    global _COUNT
    _COUNT += 1
    fname = f"<test_rows14 {_COUNT}>"
    linecache.cache[fname] = (len(src), None, src.splitlines(True), fname)
    ns = {"np": np}
    ns.update(extra or {})
    exec(compile(src, fname, "exec"), ns)
    return ns[name]


def _fd(f, args, i, eps=1e-6):
    x = np.array(args[i], dtype=np.float64)
    g = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[k] += eps
        xm[k] -= eps
        ap, am = list(args), list(args)
        ap[i], am[i] = xp, xm
        g[k] = (f(*ap) - f(*am)) / (2 * eps)
    return g


MLP = '''
def mlp(W1, b1, W2, b2, X, labels, lam=1e-3):
    H = np.maximum(X @ W1 + b1, 0.0)
    Z = H @ W2 + b2
    m = np.max(Z, axis=1, keepdims=True)
    lse = np.log(np.sum(np.exp(Z - m), axis=1)) + m[:, 0]
    nll = lse - Z[np.arange(X.shape[0]), labels]
    return np.mean(nll) + lam * (np.sum(W1 * W1) + np.sum(W2 * W2))
'''


def _mlp_args(dtype, n=16, d=5, h=7, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(dtype)
    labels = rng.integers(0, k, n)
    W1 = (rng.standard_normal((d, h)) / np.sqrt(d)).astype(dtype)
    b1 = (0.1 * rng.standard_normal(h)).astype(dtype)
    W2 = (rng.standard_normal((h, k)) / np.sqrt(h)).astype(dtype)
    b2 = (0.1 * rng.standard_normal(k)).astype(dtype)
    return [W1, b1, W2, b2], X, labels


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("lam", [1e-3, np.float64(0.25), 0.0])
def test_mlp_value_and_gradient(dtype, lam):
    f = _fresh(MLP, "mlp")
    params, X, labels = _mlp_args(dtype)
    vg = s2sgrad.value_and_grad(f, wrt=(0, 1, 2, 3))
    for _ in range(2):                      # the specialised second call too
        val, grads = vg(*params, X=X, labels=labels, lam=lam)
    ref = f(*params, X, labels, lam)
    assert type(val) is type(ref) and val.dtype == ref.dtype
    assert np.allclose(val, ref, rtol=1e-6 if dtype == np.float32 else 1e-13)
    p64 = [p.astype(np.float64) for p in params]
    X64 = X.astype(np.float64)
    for i, g in enumerate(grads):
        assert g.dtype == params[i].dtype and g.shape == params[i].shape
        fd = _fd(lambda *a: f(*a, X64, labels, float(lam)), p64, i)
        tol = 2e-3 if dtype == np.float32 else 1e-6
        assert np.allclose(g, fd, rtol=tol, atol=tol), (i, g, fd)


def test_mlp_source_uses_scalar_seed_and_reshape_method():
    f = _fresh(MLP, "mlp")
    params, X, labels = _mlp_args(np.float64)
    g = s2sgrad.grad(f, wrt=(0, 1, 2, 3))
    g(*params, X=X, labels=labels, lam=1e-3)
    g(*params, X=X, labels=labels, lam=1e-3)
    src = g.source
    assert "seed = np.float64(1.0)" in src
    assert "np.ones((), " not in src
    assert "np.reshape(" not in src and ".reshape((16, 1))" in src


# Programs whose seed meets a Python or NumPy scalar, arrays of other
# dtypes, and the edge values: the scalar seed must give the same bits and
# types as the former 0-d array seed.
EDGE = {
    "scaled": ("def f(w, lam):\n    return lam * np.sum(w * w)\n", 2),
    "mean_plus": ("def f(w, lam):\n    return np.mean(w) + lam * np.sum(w)\n", 2),
    "divided": ("def f(w, lam):\n    return np.sum(w) / lam\n", 2),
    "repeated": ("def f(w, lam):\n    return lam * np.sum(w) + lam * lam * np.mean(w * w)\n", 2),
    "mixed": ("def f(w, v):\n    return np.sum(w * w) + np.sum(v)\n", 2),
    "item": ("def f(w, lam):\n    return w[2] * lam + w[3]\n", 2),
    "bcast": ("def f(w, lam):\n    return np.sum(np.mean(w[:, None] * lam, axis=0))\n", 2),
}

_EDGE_VALUES = [1e-3, -0.0, 0.0, np.nan, np.inf, -np.inf, 5e-324, 1.5 * 2.0 ** -149,
                3e38, 1e300]


def _compile_both(src, wrt, args):
    """(new, old): gradients of fresh copies of ``src`` with the scalar seed
    and with the former 0-d array seed."""
    out = []
    for flag in (True, False):
        old = specialize._SCALAR_SEED
        specialize._SCALAR_SEED = flag
        try:
            g = s2sgrad.value_and_grad(_fresh(src, "f"), wrt=wrt)
            g(*args)
            g(*args)                      # specialised
        finally:
            specialize._SCALAR_SEED = old
        out.append(g)
    return out


def _same_bits(a, b, exact=True):
    """Same types, dtypes and shapes; the same bits when ``exact``, else the
    same NaN/inf positions and values within a few units in the last place
    (the peephole pass's documented regrouping of constant factors)."""
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for x, y in zip(a, b):
            _same_bits(x, y, exact)
        return
    assert type(a) is type(b), (a, b)
    if isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and np.shape(a) == np.shape(b)
    if exact:
        assert np.asarray(a).tobytes() == np.asarray(b).tobytes(), (a, b)
    else:
        x, y = np.asarray(a), np.asarray(b)
        assert np.array_equal(np.isnan(x), np.isnan(y)), (a, b)
        eps = np.finfo(x.dtype if x.dtype.kind == "f" else np.float64).eps
        assert np.allclose(x, y, rtol=8 * eps, atol=0, equal_nan=True), (a, b)


def _body(g):
    """The specialised source without its name and seed line."""
    return [ln for ln in g.source.splitlines()[1:]
            if not ln.strip().startswith(("seed =", "#"))]


@pytest.mark.parametrize("name", sorted(EDGE))
@pytest.mark.parametrize("wdtype", [np.float64, np.float32, np.float16])
@pytest.mark.parametrize("kind", ["py", "np64", "np32", "arr0"])
def test_scalar_seed_bit_for_bit(name, wdtype, kind):
    src, nargs = EDGE[name]
    rng = np.random.default_rng(1)
    w = rng.standard_normal(5).astype(wdtype)
    w[0] = 0.0
    w[1] = -0.0
    conv = {"py": float, "np64": np.float64, "np32": np.float32,
            "arr0": lambda v: np.array(v, dtype=wdtype)}[kind]
    with np.errstate(over="ignore"):
        lam0 = conv(0.7)
    if name == "mixed":
        lam0 = rng.standard_normal(3)           # float64 beside w's dtype
    new, old = _compile_both(src, (0, 1), (w, lam0))
    src_new = new.source if hasattr(new, "source") else ""
    assert "np.ones((), " not in src_new
    with np.errstate(over="ignore"):
        values = [lam0] if name == "mixed" else [conv(v) for v in _EDGE_VALUES]
    # the code after the seed is the same (the peephole pass folds the
    # scalar seed as it folded the 0-d one), so the bits must be too
    exact = _body(new) == _body(old)
    assert exact, (new.source, old.source)
    with np.errstate(all="ignore"):
        for lam in values:
            for ww in (w, w * np.asarray(np.inf, dtype=wdtype), np.full_like(w, np.nan)):
                a = new(ww, lam)
                b = old(ww, lam)
                _same_bits(a, b, exact)
                # and the value is NumPy's
                ref = _fresh(src, "f")(ww, lam)
                assert np.asarray(a[0]).tobytes() == np.asarray(ref).tobytes()
                assert type(a[0]) is type(ref)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_scalar_seed_gradients_match_finite_differences(dtype):
    for name, (src, _) in sorted(EDGE.items()):
        f = _fresh(src, "f")
        rng = np.random.default_rng(2)
        w = rng.standard_normal(4).astype(dtype)
        lam = rng.standard_normal(3) if name == "mixed" else 0.8
        g = s2sgrad.grad(f, wrt=0)
        g(w, lam)
        gw = g(w, lam)
        fd = _fd(lambda x: f(x, lam), [w.astype(np.float64)], 0)
        tol = 2e-3 if dtype == np.float32 else 1e-7
        assert gw.dtype == w.dtype
        assert np.allclose(gw, fd, rtol=tol, atol=tol), (name, gw, fd)


def test_scalar_seed_of_identity_keeps_types():
    """grad of the identity returns the seed itself: its type is what the
    former 0-d array seed gave (the API casts a gradient to the argument)."""
    f = _fresh("def f(x):\n    return x\n", "f")
    for x in (np.array(2.0), np.float64(2.0), 2.0, np.array(1.0, dtype=np.float32),
              np.float32(1.5), np.array(1.0, dtype=np.float16)):
        new, old = _compile_both("def f(x):\n    return x\n", 0, (x,))
        assert _body(new) == _body(old)
        _same_bits(new(x), old(x))
        g = s2sgrad.grad(f)
        g(x)
        r = g(x)
        assert r == 1.0 and np.asarray(r).dtype == np.asarray(x).dtype if \
            not isinstance(x, float) else r == 1.0


REDUCE = '''
def f(x, w):
    return np.sum(np.mean(x * w, axis=1) ** 2) + np.sum(np.max(x, axis=0))
'''


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_reduction_adjoint_reshape_method(dtype):
    f = _fresh(REDUCE, "f")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 4)).astype(dtype)
    w = rng.standard_normal(4).astype(dtype)
    vg = s2sgrad.value_and_grad(f, wrt=(0, 1))
    vg(x, w)
    val, (gx, gw) = vg(x, w)
    ref = f(x, w)
    assert np.allclose(val, ref, rtol=1e-5)
    assert "np.reshape(" not in vg.source
    tol = 2e-3 if dtype == np.float32 else 1e-6
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    assert np.allclose(gx, _fd(lambda a: f(a, w64), [x64], 0), rtol=tol, atol=tol)
    assert np.allclose(gw, _fd(lambda b: f(x64, b), [w64], 0), rtol=tol, atol=tol)
    assert gx.dtype == x.dtype and gw.dtype == w.dtype


# ------------------------------------------------ s2sgrad.release: large values
# released before the next large allocation (a pure reordering)

RELU2 = '''
def relu2(W1, b1, W2, X, y):
    H = np.maximum(X @ W1 + b1, 0.0)
    R = H @ W2 - y
    return 0.5 * np.mean(R * R) + 0.01 * np.sum(W1 * W1)
'''


def _relu2_args(dtype, n=2048, d=8, h=128, k=3, ties=True):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((n, d)).astype(dtype)
    if ties:
        X[:7] = 0.0                               # ties: pre-activations exactly b1 = 0 there
    W1 = rng.standard_normal((d, h)).astype(dtype) / np.sqrt(d)
    b1 = np.zeros(h, dtype=dtype)
    b1[h // 2:] = (0.1 * rng.standard_normal(h - h // 2)).astype(dtype)
    W2 = rng.standard_normal((h, k)).astype(dtype) / np.sqrt(h)
    y = rng.standard_normal((n, k)).astype(dtype)
    return W1, b1, W2, X, y


def _compile_release(src, name, args, wrt, flag):
    from s2sgrad import release
    old = release.ENABLED
    release.ENABLED = flag
    try:
        g = s2sgrad.value_and_grad(_fresh(src, name), wrt=wrt)
        g(*args)
        g(*args)
    finally:
        release.ENABLED = old
    return g


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_release_reorders_and_keeps_bits(dtype):
    args = _relu2_args(dtype)
    on = _compile_release(RELU2, "relu2", args, (0, 1, 2), True)
    off = _compile_release(RELU2, "relu2", args, (0, 1, 2), False)
    src = on.source
    # H's last product comes before the allocation of H's cotangent
    assert src.index("H.T @ ") < src.index("@ W2.T")
    assert off.source.index("H.T @ ") > off.source.index("@ W2.T")
    # the same statements, in another order
    def stmts(g):
        return sorted(ln.strip() for ln in g.source.splitlines()[1:]
                      if not ln.strip().startswith(("del ", "#")))
    assert stmts(on) == stmts(off)
    a, b = on(*args), off(*args)
    _same_bits(a, b)


def test_release_value_and_gradient():
    f = _fresh(RELU2, "relu2")
    args = _relu2_args(np.float64)
    vg = s2sgrad.value_and_grad(f, wrt=(0, 1, 2))
    vg(*args)
    val, grads = vg(*args)
    assert np.allclose(val, f(*args), rtol=1e-13)
    small = tuple(a[:40] if a.shape[0] == 2048 else a for a in args)   # FD on a slice
    vs = s2sgrad.value_and_grad(f, wrt=(0, 1, 2))
    vs(*small)
    _, gs = vs(*small)
    for i in range(3):
        fd = _fd(lambda *p: f(*p, small[3], small[4]), list(small[:3]), i)
        assert np.allclose(gs[i], fd, rtol=1e-6, atol=1e-7), i
    # the large call agrees with NumPy's own evaluation of the hand-derived gradient
    W1, b1, W2, X, y = args
    D = X @ W1 + b1
    H = np.maximum(D, 0.0)
    R = H @ W2 - y
    G = R / R.size
    dW2 = H.T @ G
    dH = G @ W2.T
    dD = dH * np.where(D > 0, 1.0, np.where(D == 0, 0.5, 0.0))
    assert np.allclose(grads[2], dW2, rtol=1e-12, atol=1e-14)
    assert np.allclose(grads[0], X.T @ dD + 0.02 * W1, rtol=1e-12, atol=1e-14)
    assert np.allclose(grads[1], dD.sum(axis=0), rtol=1e-12, atol=1e-14)


def test_release_lowers_peak_memory():
    import tracemalloc
    args = _relu2_args(np.float64, ties=False)   # (a tie copies the cotangent)
    peaks = []
    for flag in (True, False):
        g = _compile_release(RELU2, "relu2", args, (0, 1, 2), flag)
        tracemalloc.start()
        g(*args)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    # H (2 MiB) is freed before its cotangent (2 MiB) is made
    assert peaks[0] <= peaks[1] - 3 * (1 << 19), peaks


VIEWED = '''
def viewed(W1, W2, X):
    H = np.tanh(X @ W1)
    first = H[0]
    Z = H @ W2
    return np.sum(Z * Z) + np.sum(first * first)
'''

TANH2 = '''
def tanh2(W1, W2, X):
    H = np.tanh(X @ W1)
    Z = H @ W2
    return np.sum(Z * Z)
'''


@pytest.mark.parametrize("src,name", [(VIEWED, "viewed"), (TANH2, "tanh2")])
def test_release_other_programs_keep_bits(src, name):
    rng = np.random.default_rng(7)
    args = (rng.standard_normal((8, 128)) / 3, rng.standard_normal((128, 4)) / 8,
            rng.standard_normal((2048, 8)))
    on = _compile_release(src, name, args, (0, 1), True)
    off = _compile_release(src, name, args, (0, 1), False)
    _same_bits(on(*args), off(*args))
    f = _fresh(src, name)
    val, (g1, g2) = on(*args)
    assert np.allclose(val, f(*args), rtol=1e-13)
    small = (args[0], args[1], args[2][:12])
    vs = s2sgrad.value_and_grad(f, wrt=(0, 1))
    vs(*small)
    _, gs = vs(*small)
    for i in range(2):
        fd = _fd(lambda *p: f(*p, small[2]), list(small[:2]), i)
        assert np.allclose(gs[i], fd, rtol=1e-6, atol=1e-7), i
