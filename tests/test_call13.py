"""perf-call13: facts the specialiser keeps across ``if`` merges, and the
fast call path that relies on them.

* A settings dict passed as data is keyed with its None items
  (``api._data_key``), and the fast path tests ``cfg["clip"] is None``: an
  item read as None is a static None, ``cfg["clip"] is not None`` a static
  False, and the ``if`` on it becomes the branch taken
  (``specialize._Infer.cond``).  Shape facts then survive the merge, and the
  gradients are proven fresh (no run-time freshness tests).
* The reverse sweep's ``if p:`` of the forward's: each branch sees the
  forward's outputs as that branch left them (a residual ``cfg["n"]`` is an
  int there, not the join of an int and None).

Every test violates the fact on a later call (a setting changed in place,
None -> a float, an int -> a float or an array, a subclass, another shape,
dtype or key set, a view) and checks the value against plain NumPy and the
gradient against central finite differences.
"""
import collections

import numpy as np
import pytest

import s2sgrad
from tests.test_call12 import X, Y, _check_tree, _fast_sources, _fd, _params


def settings(params, X, y, cfg):
    h = np.tanh(X @ params["W1"] + params["b1"])
    r = np.sum((h @ params["W2"] + params["b2"] - y) ** 2)
    if cfg["mode"] == "mean":
        r = r / y.size
    if cfg["clip"] is not None:
        r = np.minimum(r, cfg["clip"])
    return r * cfg["scale"]


def flagged(params, X, y, cfg):
    h = np.tanh(X @ params["W1"] + params["b1"])
    r = np.sum((h @ params["W2"] + params["b2"] - y) ** 2)
    if cfg["flag"]:
        r = np.sum(r * cfg["n"])
    return r


def _check_value_and_grad(g, f, p, *rest):
    """``g`` a value_and_grad of ``f``: value vs NumPy, gradient vs differences."""
    v, got = g(p, *rest)
    np.testing.assert_allclose(v, f(p, *rest), rtol=1e-12)
    _check_tree(got, f, p, *rest)


def _specialised_source(g):
    return g._last_run.source


@pytest.mark.parametrize("mk", ["grad", "value_and_grad"])
def test_settings_none_item_prunes_the_branch(mk):
    g = getattr(s2sgrad, mk)(settings)
    p = _params()
    cfg = {"mode": "mean", "clip": None, "scale": 0.5}
    for _ in range(3):
        if mk == "grad":
            _check_tree(g(p, X, Y, cfg), settings, p, X, Y, cfg)
        else:
            _check_value_and_grad(g, settings, p, X, Y, cfg)
    src = _specialised_source(g)
    # the branch on clip is gone, and with it every shape the merge lost
    assert "np.minimum" not in src and "unbroadcast" not in src and "matmul_vjp" not in src
    (fast,) = _fast_sources(g)
    # the gradients are proven fresh: no run-time freshness tests
    assert "flags.writeable" not in fast and ".base is None" not in fast
    assert "cfg['clip'] is None" in fast
    # the fact violated: the same dict changed in place (a clip that binds,
    # one that does not, an array, an int), then None again
    for clip in (0.05, 1e6, np.array(1e6), 3, None):
        cfg["clip"] = clip
        for _ in range(2):
            if mk == "grad":
                _check_tree(g(p, X, Y, cfg), settings, p, X, Y, cfg)
            else:
                _check_value_and_grad(g, settings, p, X, Y, cfg)
    # a binding clip: the gradient is exactly zero
    cfg["clip"] = 0.01
    got = g(p, X, Y, cfg)
    got = got if mk == "grad" else got[1]
    assert all(np.all(v == 0) for v in got.values())


def test_settings_none_item_other_containers():
    g = s2sgrad.grad(settings)
    p = _params()
    base = {"mode": "sum", "clip": None, "scale": 2.0}
    for _ in range(2):
        _check_tree(g(p, X, Y, base), settings, p, X, Y, base)
    # a subclass (keyed by its type only), another key order, a float32 scale
    for cfg in (collections.OrderedDict(base), {"clip": None, "scale": 2.0, "mode": "sum"},
                dict(base, scale=np.float32(2.0)), dict(base, clip=0.5), base):
        for _ in range(2):
            _check_tree(g(p, X, Y, cfg), settings, p, X, Y, cfg)
    # other shapes and dtypes of the parameters with the same settings
    q = {k: v[..., :1].copy() if k in ("W2", "b2") else v for k, v in p.items()}
    y1 = Y[:, :1]
    for _ in range(2):
        _check_tree(g(q, X, y1, base), settings, q, X, y1, base)
    p32 = {k: v.astype(np.float32) for k, v in p.items()}
    got = g(p32, X, Y, base)
    assert all(v.dtype == np.float32 for v in got.values())
    _check_tree(got, settings, p32, X, Y, base, rtol=2e-3, atol=2e-4)


def test_settings_none_item_written_by_the_function():
    # the function sets the item itself before testing it: the test reads
    # the new value, not the call's None
    def f(w, cfg):
        cfg["clip"] = 0.5
        if cfg["clip"] is not None:
            w = np.minimum(w, cfg["clip"])
        return np.sum(w * w)

    def numpy_f(w, cfg):
        return f(w, dict(cfg))
    g = s2sgrad.value_and_grad(f)
    w = np.array([0.1, 0.9, -2.0])
    for _ in range(3):
        cfg = {"clip": None}
        v, gw = g(w, cfg)
        np.testing.assert_allclose(v, numpy_f(w, {"clip": None}), rtol=1e-12)
        np.testing.assert_allclose(gw, _fd(numpy_f, w, {"clip": None}), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("mk", ["grad", "value_and_grad"])
def test_reverse_branch_sees_the_forward_branch_residual(mk):
    g = getattr(s2sgrad, mk)(flagged)
    p = _params()
    cfg = {"flag": True, "n": 2}
    for _ in range(3):
        if mk == "grad":
            _check_tree(g(p, X, Y, cfg), flagged, p, X, Y, cfg)
        else:
            _check_value_and_grad(g, flagged, p, X, Y, cfg)
    src = _specialised_source(g)
    assert "unbroadcast" not in src and "matmul_vjp" not in src
    (fast,) = _fast_sources(g)
    assert "flags.writeable" not in fast
    # the fact violated: the flag off, n a float, a NumPy float32, a bool, an
    # array (the loss sums r * n), back to the first settings
    for change in ({"flag": False}, {"flag": True, "n": 2.5}, {"n": np.float32(3)},
                   {"n": True}, {"n": np.array([1.0, -2.0, 0.5])}, {"n": 2}):
        cfg.update(change)
        for _ in range(2):
            if mk == "grad":
                _check_tree(g(p, X, Y, cfg), flagged, p, X, Y, cfg)
            else:
                _check_value_and_grad(g, flagged, p, X, Y, cfg)


def two_ifs(w, c):
    # the same test twice in the user's code, residuals of different shapes
    if c > 0:
        a = w[:2] * c
    else:
        a = np.sum(w) * c
    b = a * 2.0
    if c > 0:
        out = np.sum(b * w[1:])
    else:
        out = b * np.sum(w ** 2)
    return out


def in_loop(w, x):
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0:
            t = w * x[i]
        else:
            t = np.sum(w ** 2)
        s = s + np.sum(t * w)
    return s


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_correlated_branches_of_run_time_tests(dtype):
    w = np.array([0.3, -1.2, 0.7], dtype=dtype)
    tol = dict(rtol=1e-6, atol=1e-8) if dtype == np.float64 else dict(rtol=2e-3, atol=1e-3)
    g = s2sgrad.value_and_grad(two_ifs)
    for c in (1.5, 1.5, -0.5, -0.5, 2.0, np.float64(-1.0), np.float64(1.0), 3, -3):
        v, gw = g(w, c)
        np.testing.assert_allclose(v, two_ifs(w, c), rtol=1e-5)
        np.testing.assert_allclose(gw, _fd(two_ifs, w.astype(np.float64), c), **tol)
        assert gw.dtype == dtype
    h = s2sgrad.value_and_grad(in_loop)
    for x in ([1.0, -1.0, 2.0, -0.5], [1.0, -1.0, 2.0, -0.5], [-1.0, -1.0, 3.0, 0.5],
              [2.0] * 4, [-2.0] * 4, [0.5, -0.5]):
        x = np.array(x)
        v, gw = h(w, x)
        np.testing.assert_allclose(v, in_loop(w, x), rtol=1e-5)
        np.testing.assert_allclose(gw, _fd(in_loop, w.astype(np.float64), x), **tol)


def test_broadcast_and_python_scalars_through_the_pruned_branch():
    def f(w, b, cfg):
        z = w * b
        if cfg["shift"] is not None:
            z = z + cfg["shift"]
        if cfg["w"] is None:
            z = z * cfg["k"]
        return np.sum(z * z)
    g = s2sgrad.grad(f, wrt=(0, 1))
    w = np.array([[0.5, -1.0, 2.0]])
    for b, cfg in [(np.array([1.0, 2.0, 3.0]), {"shift": None, "w": None, "k": 2}),
                   (np.array([1.0, 2.0, 3.0]), {"shift": None, "w": None, "k": 2}),
                   (0.5, {"shift": None, "w": None, "k": 2}),
                   (0.5, {"shift": None, "w": None, "k": 2}),
                   (np.float64(0.5), {"shift": None, "w": 1.0, "k": 2.0}),
                   (np.array([[1.0], [2.0]]), {"shift": np.ones(3), "w": None, "k": 1.5}),
                   (np.array([[1.0], [2.0]]), {"shift": 1, "w": None, "k": 1.5})]:
        for _ in range(2):
            gw, gb = g(w, b, cfg)
            np.testing.assert_allclose(gw, _fd(lambda x: f(x, b, cfg), w), rtol=1e-6)
            want_b = _fd(lambda x: f(w, x, cfg), np.asarray(b, dtype=np.float64))
            np.testing.assert_allclose(gb, want_b, rtol=1e-6)
            assert type(gb) is type(b) if not isinstance(b, np.ndarray) else gb.shape == b.shape


def test_view_arguments_on_the_proven_path():
    # a view of a larger array passes the shape test: the gradient is still
    # a fresh array, never the argument's memory
    g = s2sgrad.grad(settings)
    p = _params()
    cfg = {"mode": "mean", "clip": None, "scale": 0.5}
    for _ in range(2):
        g(p, X, Y, cfg)
    big = np.random.default_rng(3).normal(size=(6, 8))
    q = dict(p, W1=big[:3, ::2], b1=big[4, :4])
    for _ in range(2):
        got = g(q, X, Y, cfg)
        _check_tree(got, settings, q, X, Y, cfg)
        assert not any(np.shares_memory(v, big) for v in got.values())
        assert got["W1"].flags.writeable and got["W1"].base is None


# ---------------------------------------------------------------- settings sweep


def sweep_a(w, cfg):
    z = w * 1.5
    if cfg["a"] is not None:
        z = z * cfg["a"]
    if cfg["b"] is None:
        z = np.sin(z)
    else:
        z = z + cfg["b"]
    if cfg["c"]:
        z = z ** 2
    return np.sum(z)


def sweep_b(w, cfg):
    s = np.sum(w)
    if cfg["a"] is not None:
        t = w * cfg["a"]
    else:
        t = s * w[0]
    out = np.sum(t * w)
    if cfg["a"] is not None:
        out = out + np.sum(t)
    if cfg["b"] is not None and cfg["c"]:
        out = out * cfg["b"]
    return np.sum(out)


def sweep_c(w, cfg):
    h = w
    for i in range(3):
        if cfg["b"] is None:
            h = np.tanh(h)
        else:
            h = h * cfg["b"] + 0.1
        if cfg["a"] is None:
            h = h + i
    return np.sum(h * h)


_AS = [None, 2.0, 3, np.array([1.0, 2.0, 3.0]), np.float32(0.5)]
_BS = [None, 0.5, np.array([0.1, 0.2, 0.3])]
_CS = [True, False, 0, 2]


@pytest.mark.parametrize("f", [sweep_a, sweep_b, sweep_c])
def test_settings_sweep_one_dict_changed_in_place(f):
    # one transformed function, one settings dict changed in place from call
    # to call (every None/float/int/array/bool change the key must see)
    rng = np.random.default_rng(13)
    g = s2sgrad.value_and_grad(f)
    w = np.array([0.4, -0.7, 1.1])
    cfg = {"a": None, "b": None, "c": True}
    for k in range(24):
        cfg["a"] = _AS[rng.integers(len(_AS))]
        cfg["b"] = _BS[rng.integers(len(_BS))]
        cfg["c"] = _CS[rng.integers(len(_CS))]
        for _ in range(2):
            v, gw = g(w, cfg)
            np.testing.assert_allclose(v, f(w, cfg), rtol=1e-12)
            np.testing.assert_allclose(gw, _fd(f, w, cfg), rtol=1e-6, atol=1e-7)
            assert gw.dtype == np.float64 and gw.shape == w.shape


# ---------------------------------------------------------------- defaults inlined


def with_defaults(w, x, lam=0.1, shift=np.zeros(3)):
    return np.sum(np.tanh(x @ (w - shift)) ** 2) + lam * np.sum(w ** 2)


def test_runner_with_defaults_is_inlined_and_rechecked():
    g = s2sgrad.value_and_grad(with_defaults, wrt=(0, 2))
    rng = np.random.default_rng(5)
    w, x = rng.normal(size=3), rng.normal(size=(4, 3))

    def check(*args, **kwargs):
        v, (gw, glam) = g(*args, **kwargs)
        call = lambda w_, lam_: with_defaults(w_, x, lam_, *args[3:], **{
            k: a for k, a in kwargs.items() if k != "lam"})
        lam = kwargs.get("lam", args[2] if len(args) > 2 else with_defaults.__defaults__[0])
        np.testing.assert_allclose(v, call(args[0], lam), rtol=1e-12)
        np.testing.assert_allclose(gw, _fd(lambda w_: call(w_, lam), args[0]), rtol=1e-6)
        np.testing.assert_allclose(glam, _fd(lambda l_: call(args[0], l_),
                                             np.asarray(lam, dtype=np.float64)), rtol=1e-6)
        assert type(glam) is type(lam) if not isinstance(lam, np.ndarray) else \
            glam.shape == lam.shape
    for _ in range(3):
        check(w, x)
    (src,) = _fast_sources(g)
    # the generated function's statements are the runner's own (no call)
    assert "_s2s_fn(" not in src.split("def _s2s_hot")[1] and "np.tanh" in src
    # the facts violated: lam passed (float, NumPy float32, 0-d array, int),
    # by keyword and by position, shift passed, the defaults rebound
    for kw in ({"lam": 0.5}, {"lam": np.float32(0.5)}, {"lam": np.array(0.5)},
               {"shift": np.ones(3)}, {}):
        for _ in range(2):
            check(w, x, **kw)
    with pytest.raises(TypeError, match="integer type"):     # (an int is refused)
        g(w, x, lam=2)
    for _ in range(2):
        check(w, x, 0.7)
        check(w, x, 0.7, np.ones(3))
    old = with_defaults.__defaults__
    try:
        with_defaults.__defaults__ = (0.25, np.full(3, 0.5))
        for _ in range(2):
            check(w, x)
        with_defaults.__defaults__ = (np.full(3, 0.5),)     # lam has no default now
        with pytest.raises(TypeError, match="lam"):
            g(w, x)
    finally:
        with_defaults.__defaults__ = old
    for _ in range(2):
        check(w, x)
    with pytest.raises(TypeError):
        g(w)
