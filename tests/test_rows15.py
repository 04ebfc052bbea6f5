"""perf-rows15: generated-code speed on user workloads (benchmarks/bench_core.py
--more rows added by this branch), and the mechanisms behind them:

* ``optimize.prune_stacks``: a value every step of a loop saves that is the
  same loop-invariant value (``X.T`` hoisted out of the loop, a constant) is
  read where it is by the reversed loop, not saved per step (the Adam row
  stored three copies of ``X``, 3.6x hand);
* ``specialize.direct_flags``: a gradient that is the transpose of new
  memory nothing else reads (``K_bar = np.transpose(Q.T @ S)``) is returned
  as it is, without the API's checks (the attention row: 1.5x hand at n=16,
  all of it the slow result path);
* ``np.convolve`` cotangents: the real 1-d 'valid' case calls the same
  NumPy functions without the no-op conversions, and the results count as
  new memory (``alias._FRESH_OPS``).

Each program: value vs plain NumPy, gradient vs central differences
(float64), float32, Python scalars, a variable used twice; the bench rows'
hand-written gradients vs central differences (the benchmark's self-test)
and vs s2sgrad."""
import linecache
import os
import sys

import numpy as np
import pytest

import s2sgrad

_COUNT = 0


def _fresh(src, name):
    """A new function object (so nothing compiled before is reused)."""
    global _COUNT
    _COUNT += 1
    fname = f"<test_rows15 {_COUNT}>"
    linecache.cache[fname] = (len(src), None, src.splitlines(True), fname)
    ns = {"np": np}
    exec(compile(src, fname, "exec"), ns)
    return ns[name]


def _fd(f, args, i, eps=1e-6, kw=None):
    kw = kw or {}
    x = np.array(args[i], dtype=np.float64)
    g = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[k] += eps
        xm[k] -= eps
        ap, am = list(args), list(args)
        ap[i], am[i] = (xp, xm) if np.ndim(args[i]) else (float(xp), float(xm))
        g[k] = (f(*ap, **kw) - f(*am, **kw)) / (2 * eps)
    return g


def _general(f, args, kw=None, wrt=0):
    """The gradient by the polymorphic (not shape-specialised) code."""
    from s2sgrad import api
    old, api.SPECIALIZE = api.SPECIALIZE, "never"
    try:
        return s2sgrad.grad(f, wrt=wrt)(*args, **(kw or {}))
    finally:
        api.SPECIALIZE = old


def _twice(g, *args, **kw):
    """The gradient at the second call (the shape-specialised code)."""
    g(*args, **kw)
    return g(*args, **kw)


# ------------------------------------------------------------ loop-invariant saves

ADAM = '''
def adam(w, X, y, lr=0.01, b1=0.9, b2=0.999, eps=1e-8):
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t in range(1, 4):
        g = X.T @ (X @ w - y) / X.shape[0]
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mh = m / (1 - b1 ** t)
        vh = v / (1 - b2 ** t)
        w = w - lr * mh / (np.sqrt(vh) + eps)
    return 0.5 * np.mean((X @ w - y) ** 2)
'''

# an inner loop reading X.T inside an outer one; X used twice per step
NESTED = '''
def nested(w, X, y):
    for i in range(2):
        for j in range(3):
            r = X @ w - y
            w = w - 0.05 * (X.T @ r) * (1.0 + 0.1 * np.tanh(X.T @ r))
    return np.sum((X @ w - y) ** 2)
'''


def _ls_args(dtype, n=12, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(dtype)
    y = (X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n)).astype(dtype)
    w = (0.1 * rng.standard_normal(d)).astype(dtype)
    return w, X, y


@pytest.mark.parametrize("src,name", [(ADAM, "adam"), (NESTED, "nested")])
def test_loop_invariant_saves_value_and_gradient(src, name):
    f = _fresh(src, name)
    w, X, y = _ls_args(np.float64)
    vg = s2sgrad.value_and_grad(f, wrt=(0, 1))
    vg(w, X, y)
    val, (gw, gX) = vg(w, X, y)
    assert val == f(w, X, y)
    np.testing.assert_allclose(gw, _fd(f, (w, X, y), 0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gX, _fd(f, (w, X, y), 1), rtol=1e-6, atol=1e-8)
    # the gradient with respect to w alone (X not differentiated: X.T is then
    # a loop-invariant the reversed loop reads where it is)
    g = s2sgrad.grad(f)
    gw1 = _twice(g, w, X, y)
    np.testing.assert_allclose(gw1, gw, rtol=1e-12, atol=1e-15)
    src_ = g.source
    assert "np.empty((3, 4, 12)" not in src_ and "np.empty((2, 3, 4, 12)" not in src_, src_
    if name == "adam":
        assert "tape_3[k] = " not in src_ and "_t4 = X.T" in src_, src_


def test_loop_invariant_saves_float32_and_keywords():
    f = _fresh(ADAM, "adam")
    w, X, y = _ls_args(np.float32)
    g = s2sgrad.grad(f)
    kw = {"lr": 0.02, "b1": np.float32(0.8), "eps": 1e-6}
    got = _twice(g, w, X, y, **kw)
    assert got.dtype == np.float32 and got.shape == w.shape
    ref = _fd(f, tuple(a.astype(np.float64) for a in (w, X, y)), 0, kw=kw)
    np.testing.assert_allclose(got, ref, rtol=2e-3, atol=2e-4)
    # the specialised code computes what the general code does (not bit for
    # bit: the general code multiplies in other orders, as on main)
    gen = _general(f, (w, X, y), kw)
    np.testing.assert_allclose(got, gen, rtol=1e-5, atol=1e-6)


def test_loop_invariant_saves_against_copies(monkeypatch):
    """Reading the invariant where it is against the per-step copies (the
    rewrite turned off).  Not bit for bit: a tape row was a C-ordered copy
    of the F-ordered view ``X.T``, and a product with it sums in another
    order than with ``X.T`` itself (which is what the program computes)."""
    from s2sgrad import optimize
    f = _fresh(ADAM, "adam")
    w, X, y = _ls_args(np.float64, n=30, d=6, seed=3)
    g = s2sgrad.grad(f)
    got = _twice(g, w, X, y, lr=0.1)
    assert "np.empty((3, 6, 30)" not in g.source
    monkeypatch.setattr(optimize, "_READ_INVARIANTS", False)
    f2 = _fresh(ADAM, "adam")
    g2 = s2sgrad.grad(f2)
    old = _twice(g2, w, X, y, lr=0.1)
    assert "np.empty((3, 6, 30)" in g2.source        # the copies, as before
    np.testing.assert_allclose(got, old, rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(got, _general(f, (w, X, y), {"lr": 0.1}), rtol=1e-13)


def test_prune_stacks_reads_invariant_where_it_is():
    """The IR pass itself: a push of a top-level value (and of a constant)
    is dropped and its pop becomes that value."""
    from s2sgrad import optimize
    from s2sgrad.ir import iter_eqns
    seen = {}
    orig = optimize.prune_stacks

    def spy(func):
        out = orig(func)
        seen["before"] = sum(len(e.args) - 1 for e in iter_eqns(func.body)
                             if e.prim.name == "push")
        seen["after"] = sum(len(e.args) - 1 for e in iter_eqns(out.body)
                            if e.prim.name == "push")
        return out
    f = _fresh(ADAM, "adam")
    w, X, y = _ls_args(np.float64)
    mp = pytest.MonkeyPatch()
    mp.setattr(optimize, "prune_stacks", spy)
    try:
        got = _twice(s2sgrad.grad(f), w, X, y)
    finally:
        mp.undo()
    assert seen and seen["after"] < seen["before"], seen
    np.testing.assert_allclose(got, _fd(f, (w, X, y), 0), rtol=1e-6, atol=1e-8)


# ------------------------------------------------------------ transposed results

ATTN = '''
def softmax(S):
    e = np.exp(S - np.max(S, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def attn(Q, K, V, T):
    A = softmax(Q @ K.T / np.sqrt(Q.shape[1]))
    return 0.5 * np.sum((A @ V - T) ** 2)
'''

# both cotangents are transposes of the one product: must not be one array
SHARED = '''
def shared(K, L, Q):
    return np.sum(np.tanh(Q @ K.T + Q @ L.T))
'''


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_transposed_gradient_returned_directly(dtype):
    src = ATTN.replace("def attn", "def attn_").replace("softmax(", "softmax(") + \
        "\n\ndef attn(Q, K, V, T):\n    return attn_(Q, K, V, T)\n"
    f = _fresh(src, "attn")
    rng = np.random.default_rng(5)
    Q, K, V, T = (rng.standard_normal((6, 4)).astype(dtype) for _ in range(4))
    g = s2sgrad.grad(f, wrt=(0, 1, 2))
    got = _twice(g, Q, K, V, T)
    assert "np.transpose(" in g.source        # K's cotangent: a transposed product
    args64 = tuple(a.astype(np.float64) for a in (Q, K, V, T))
    for i, gi in enumerate(got):
        assert gi.dtype == dtype and gi.shape == (6, 4)
        tol = dict(rtol=1e-6, atol=1e-8) if dtype == np.float64 else dict(rtol=2e-3, atol=2e-4)
        np.testing.assert_allclose(gi, _fd(f, args64, i), **tol)
        # the caller's own memory: no input, no other gradient
        for a in (Q, K, V, T):
            assert not np.shares_memory(gi, a)
        for gj in got[:i]:
            assert not np.shares_memory(gi, gj)
    gen = _general(f, (Q, K, V, T), wrt=(0, 1, 2))
    for a, b in zip(got, gen):
        assert np.array_equal(a, b)
    # a second call returns new arrays (the first call's results stay as they were)
    first = [x.copy() for x in got]
    again = g(Q, K, V, T)
    again[1][...] = 0.0
    assert all(np.array_equal(a, b) for a, b in zip(got, first))


def test_transposes_of_one_product_stay_two_arrays():
    f = _fresh(SHARED, "shared")
    rng = np.random.default_rng(6)
    K, L, Q = (rng.standard_normal((5, 3)) for _ in range(3))
    g = s2sgrad.grad(f, wrt=(0, 1))
    gK, gL = _twice(g, K, L, Q)
    assert not np.shares_memory(gK, gL)
    np.testing.assert_allclose(gK, _fd(f, (K, L, Q), 0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gL, _fd(f, (K, L, Q), 1), rtol=1e-6, atol=1e-8)
    gK[...] = 0.0
    assert np.any(gL != 0.0)


def test_direct_flags_transpose_rules():
    """direct_flags accepts the transpose of a product read once, not the
    transpose of an argument nor of a product read twice."""
    from s2sgrad import api

    def runner(f, args, wrt):
        g = s2sgrad.grad(f, wrt=wrt)
        _twice(g, *args)
        return g._last_run
    rng = np.random.default_rng(7)
    K, Q = rng.standard_normal((5, 3)), rng.standard_normal((4, 3))
    f = _fresh("def f(K, Q):\n    return np.sum(np.sin(Q @ K.T))\n", "f")
    assert runner(f, (K, Q), 0).__dict__.get("direct") is True
    f2 = _fresh("def f2(K, L, Q):\n    return np.sum(np.sin(Q @ K.T + Q @ L.T))\n", "f2")
    r2 = runner(f2, (K, K.copy(), Q), (0, 1))
    assert not r2.__dict__.get("direct")
    assert api is not None


# ------------------------------------------------------------ np.convolve

CONV = '''
def conv(k, x, y):
    out = np.convolve(x, k, mode=MODE)
    return 0.5 * np.sum((out - y) ** 2) + np.sum(out * k[0])
'''


@pytest.mark.parametrize("mode", ["valid", "same", "full"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_convolve_gradients(mode, dtype):
    f = _fresh(CONV.replace("MODE", repr(mode)), "conv")
    rng = np.random.default_rng(8)
    n, m = 17, 5
    x = rng.standard_normal(n).astype(dtype)
    k = rng.standard_normal(m).astype(dtype)
    y = rng.standard_normal(len(np.convolve(x, k, mode=mode))).astype(dtype)
    vg = s2sgrad.value_and_grad(f, wrt=(0, 1))
    vg(k, x, y)
    val, (gk, gx) = vg(k, x, y)
    assert val == f(k, x, y)
    assert gk.dtype == dtype and gx.dtype == dtype
    tol = dict(rtol=1e-6, atol=1e-8) if dtype == np.float64 else dict(rtol=2e-3, atol=2e-3)
    args64 = tuple(a.astype(np.float64) for a in (k, x, y))
    np.testing.assert_allclose(gk, _fd(f, args64, 0), **tol)
    np.testing.assert_allclose(gx, _fd(f, args64, 1), **tol)
    gen = _general(f, (k, x, y), wrt=(0, 1))
    assert np.array_equal(gk, gen[0]) and np.array_equal(gx, gen[1])


def test_convolve_helpers_fast_path_keeps_bits():
    """The 1-d real 'valid' path returns what the general path returns, bit
    for bit, for strided views, int operands, mixed dtypes and the edge
    values; complex operands and 'full'/'same' keep the general path."""
    from s2sgrad import runtime_numpy as rn

    def general(fn, g, a, v, mode):
        gf = rn._full_cotangent(g, np.size(a), np.size(v), mode, False)
        other = v if fn == "a" else a
        shape = np.shape(a) if fn == "a" else np.shape(v)
        x = a if fn == "a" else v
        return rn._ct_like(np.reshape(np.correlate(gf, rn._conj(np.ravel(other)), "valid"),
                                      shape), x)
    rng = np.random.default_rng(9)
    base = rng.standard_normal(40)
    edge = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, 1e308, -1e-310])
    cases = [(base[:20], base[20:25]), (base[::2], base[1:12:2]),
             (rng.integers(-3, 3, 15), rng.standard_normal(4)),
             (rng.standard_normal(9).astype(np.float32), rng.standard_normal(3)),
             (np.concatenate([edge, base[:8]]), base[30:34]), (base[:6], base[6:12])]
    for a, v in cases:
        for mode in ("valid", "same", "full"):
            out = np.convolve(a, v, mode=mode)
            g = rng.standard_normal(out.shape[0])
            if mode == "valid":
                g[:3] = [-0.0, 0.0, 1e-310][:g.shape[0]]
            for fn, helper in (("a", rn.convolve_vjp_a), ("b", rn.convolve_vjp_b)):
                got, ref = helper(g, a, v, mode=mode), general(fn, g, a, v, mode)
                assert got.dtype == ref.dtype and got.shape == ref.shape
                np.testing.assert_array_equal(got, ref)
                assert np.array_equal(np.signbit(got), np.signbit(ref))
                assert not np.shares_memory(got, g) and not np.shares_memory(got, a)
    c = base[:8] + 1j * base[8:16]
    for fn, helper in (("a", rn.convolve_vjp_a), ("b", rn.convolve_vjp_b)):
        for a, v in ((c, base[:4]), (base[:8], c[:4])):
            got, ref = helper(np.ones(5), a, v, mode="valid"), general(fn, np.ones(5), a, v, "valid")
            assert got.dtype == ref.dtype
            np.testing.assert_array_equal(got, ref)


# ------------------------------------------------------------ the benchmark rows

def _bench():
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
    import bench_core
    return bench_core


def test_bench_hand_gradients_match_finite_differences():
    b = _bench()
    assert b.self_test(b.PROBLEMS + b.MORE_PROBLEMS) == []


def test_bench_new_rows_agree_with_s2sgrad():
    """Every row this branch added, at a small size: s2sgrad's gradient is the
    hand-written one (which the test above checks against differences), with
    the arguments passed as the benchmark passes them (floats, keywords)."""
    b = _bench()
    small = {"layer norm": (8, 6), "attention": (5, 4), "conv1d": (40, 5),
             "elementwise chain float32": (50,)}
    first = [p[0] for p in b.MORE_PROBLEMS].index("log-softmax nll (z - lse)")
    for pname, loss, hand, make, sizes in b.MORE_PROBLEMS[first:]:
        size = next((v for k, v in small.items() if pname.startswith(k)), None)
        if size is None:
            size = (12, 4) + tuple(sizes[0][1][2:])
        made = make(*size, np.random.default_rng(1))
        fargs, fkw, wrt = made if len(made) == 3 else (made[0], {}, made[1])
        g = s2sgrad.grad(loss, wrt=wrt if len(wrt) > 1 else wrt[0])
        got = b._as_numpy_tuple(_twice(g, *fargs, **fkw))
        ref = b._as_numpy_tuple(hand(*fargs, **fkw))
        assert b._agrees(got, ref, 1e-9, 1e-12), pname
        # Python-float arguments keep their kind: a float's gradient is a float
        for ai, r in zip(wrt, b._as_numpy_tuple(_twice(g, *fargs, **fkw))):
            if isinstance(fargs[ai], float):
                assert r.shape == ()


# ------------------------------------------------------------ x[:, None]'s adjoint

NEWAXES = {
    "col": ("def f(z, t):\n    lse = np.log(np.sum(np.exp(z), axis=1))\n"
            "    return np.sum((z - lse[:, None]) * t)\n", (6, 3)),
    "row": ("def f(z, t):\n    m = np.mean(z, axis=0)\n"
            "    return np.sum(np.sin(z - m[None, :]) * t) + np.sum(m[None] * m[None])\n", (6, 3)),
    "mid": ("def f(z, t):\n    s = np.sum(z, axis=1)\n"
            "    return np.sum(np.tanh(s[:, None, :] * t[:, :1, None]))\n", (4, 3, 5)),
    "twice": ("def f(z, t):\n    s = np.sum(z * z, axis=1)\n"
              "    return np.sum(s[:, None] * t) + np.sum(s[:, None] ** 3)\n", (6, 3)),
}


@pytest.mark.parametrize("case", sorted(NEWAXES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_newaxis_adjoint_is_a_reshape(case, dtype):
    src, shape = NEWAXES[case]
    f = _fresh(src, "f")
    rng = np.random.default_rng(11)
    z = rng.standard_normal(shape).astype(dtype)
    t = rng.standard_normal(shape[:2]).astype(dtype)
    vg = s2sgrad.value_and_grad(f)
    vg(z, t)
    val, gz = vg(z, t)
    assert val == f(z, t) and gz.dtype == dtype and gz.shape == z.shape
    g = s2sgrad.grad(f)
    _twice(g, z, t)
    assert "index_add" not in g.source, g.source
    tol = dict(rtol=1e-6, atol=1e-8) if dtype == np.float64 else dict(rtol=3e-3, atol=3e-3)
    np.testing.assert_allclose(gz, _fd(f, (z.astype(np.float64), t.astype(np.float64)), 0),
                               **tol)
    np.testing.assert_allclose(gz, _general(f, (z, t)), rtol=1e-5 if dtype == np.float32
                               else 1e-12, atol=1e-6 if dtype == np.float32 else 1e-14)


def test_newaxis_adjoint_keeps_bits_at_edges(monkeypatch):
    """g.reshape(x.shape) for index_add(g, x, [:, None]): the same bits as
    the zeros-and-assignment it replaces, at -0.0, NaN, inf, subnormals."""
    from s2sgrad import specialize
    f = _fresh("def f(s, t):\n    return np.sum(s[:, None] * t)\n", "f")
    edge = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 5e-324, -1e-310, 1.5])
    s = np.linspace(-1, 1, 8)
    for t in (edge[:, None], -edge[:, None], edge[::-1, None].copy()):
        g = s2sgrad.grad(f)
        got = _twice(g, s, t)
        assert "index_add" not in g.source
        monkeypatch.setattr(specialize._Rewriter, "index_add_newaxes", lambda self, e, out: None)
        g2 = s2sgrad.grad(_fresh("def f(s, t):\n    return np.sum(s[:, None] * t)\n", "f"))
        ref = _twice(g2, s, t)
        monkeypatch.undo()
        assert "index_add" in g2.source
        assert got.dtype == ref.dtype
        assert np.array_equal(got.view(np.int64), ref.view(np.int64))
