"""The run-time test of the call's fast path (``api._FastCall._checked``)
with fewer identity tests: a gradient is compared (``is not``) only with the
arguments and the other gradients that were tested for its own shape and
dtype object (``api._may_be``; one of another shape or dtype is another
object), each pair of gradients once, and a generated tuple's items are
unpacked into names once.

Adversarial: every case calls a hot runner again with one checked property
changed (a gradient that *is* an argument of its shape, one of another
dtype, two gradients that are one array, an array held in a settings dict,
a dict's key order and key set, an item's type, shape and dtype, a setting's
value and type, subclasses of dict and ndarray, a 0-d array for a float) and
compares the value with plain NumPy and the gradient with central
differences (float64); returned gradients never share memory with an
argument, an array of a settings dict or each other."""
import collections

import numpy as np
import pytest

from s2sgrad import api, grad, value_and_grad

RNG = np.random.default_rng(11)
X = RNG.standard_normal((5, 3))
Y = RNG.standard_normal((5, 2))


# the same parameters and MLP as test_call10's (drawn from its generator)
from tests.test_call10 import mlp, params      # noqa: E402


def mlp_settings(p, X, y, cfg):
    r = mlp(p, X, y)
    if cfg["mode"] == "mean":
        r = r / y.size
    if cfg["clip"] is not None:
        r = np.minimum(r, cfg["clip"])
    return r * cfg["scale"]


def hot(g):
    return "__call__" in type(g).__dict__


def runner_source(g):
    return "\n".join(e.source for e in g._fast.values())


def fd_tree(f, p, rest, eps=1e-6):
    out = {}
    for k, v in p.items():
        g = np.zeros(np.shape(v))
        for i in np.ndindex(np.shape(v)):
            up = {kk: np.array(vv, dtype=float) for kk, vv in p.items()}
            dn = {kk: np.array(vv, dtype=float) for kk, vv in p.items()}
            up[k][i] += eps
            dn[k][i] -= eps
            g[i] = (f(up, *rest) - f(dn, *rest)) / (2 * eps)
        out[k] = g
    return out


def fd_args(f, args, wrt, eps=1e-6):
    out = []
    for w in wrt:
        x = np.array(args[w], dtype=float)
        g = np.zeros(x.shape)
        for i in np.ndindex(x.shape):
            up, dn = list(args), list(args)
            xu, xd = x.copy(), x.copy()
            xu[i] += eps
            xd[i] -= eps
            up[w], dn[w] = xu, xd
            g[i] = (f(*up) - f(*dn)) / (2 * eps)
        out.append(g)
    return out


def no_sharing(grads, others):
    arrays = [g for g in grads if isinstance(g, np.ndarray)]
    for k, g in enumerate(arrays):
        assert not any(np.shares_memory(g, a) for a in others if isinstance(a, np.ndarray))
        assert not any(np.shares_memory(g, h) for h in arrays[k + 1:])


def check_tree(got, p, want, others=(), rtol=1e-6, atol=1e-8):
    assert type(got) is dict and list(got) == list(p)
    for k in p:
        assert type(got[k]) is np.ndarray and got[k].dtype == np.asarray(p[k]).dtype
        assert got[k].shape == np.shape(p[k])
        np.testing.assert_allclose(got[k], want[k], rtol=rtol, atol=atol)
    no_sharing(list(got.values()), list(p.values()) + list(others))


# ---------------------------------------------------------------- fewer identity tests


def test_gradient_that_is_an_argument_of_its_shape_among_other_shapes():
    # grad w is the argument v itself (same shape and dtype: still tested);
    # b and M have other shapes (their identity tests are dropped)
    def f(w, b, v, M, cfg):
        return np.sum(w * v) + np.sum(b) * cfg["k"] + np.sum(M) * 0.0
    g = grad(f, wrt=(0, 1))
    w, b, v, M = (RNG.standard_normal(3), RNG.standard_normal(2), RNG.standard_normal(3),
                  RNG.standard_normal((2, 3)))
    for k in (1, 1, 2.5, 1, 1):
        cfg = {"k": k}
        for _ in range(3):
            gw, gb = g(w, b, v, M, cfg)
            want = fd_args(lambda *a: f(*a, cfg), (w, b, v, M), (0, 1))
            np.testing.assert_allclose(gw, want[0], rtol=1e-6, atol=1e-8)
            np.testing.assert_allclose(gb, want[1], rtol=1e-6, atol=1e-8)
            no_sharing([gw, gb], [w, b, v, M])
            gw[0] = 123.0                     # the caller's own array
            assert v[0] != 123.0
    assert hot(g)
    src = runner_source(g)
    assert " is not v" in src                 # same shape and dtype: tested
    assert " is not M" not in src             # another shape: another object


def test_gradient_that_is_an_argument_of_another_dtype_is_converted():
    def f(w, v, cfg):
        return np.sum(w * v) * cfg["k"]
    g = grad(f)
    w32, v = RNG.standard_normal(3).astype(np.float32), RNG.standard_normal(3)
    for k in (1, 1, 2, 1):
        for _ in range(3):
            got = g(w32, v, {"k": k})
            assert got.dtype == np.float32 and got.shape == (3,)
            np.testing.assert_allclose(got, k * v, rtol=1e-6)
            assert not np.shares_memory(got, v)
    # and a float64 w with the same v: the gradient is v's values, a copy
    w = w32.astype(np.float64)
    for _ in range(3):
        got = g(w, v, {"k": 1})
        np.testing.assert_allclose(got, v, rtol=1e-15)
        assert got is not v and not np.shares_memory(got, v)


def test_two_gradients_one_array_same_shape_other_args_of_other_shapes():
    def f(w, b, M, cfg):
        return np.sum((w + b) * cfg["k"]) + 0.0 * np.sum(M)
    g = grad(f, wrt=(0, 1))
    w, b, M = RNG.standard_normal(3), RNG.standard_normal(3), RNG.standard_normal((4, 4))
    for k in (2, 2, 3.0, 2):
        for _ in range(3):
            gw, gb = g(w, b, M, {"k": k})
            np.testing.assert_allclose(gw, k * np.ones(3))
            np.testing.assert_allclose(gb, k * np.ones(3))
            no_sharing([gw, gb], [w, b, M])


def test_gradient_equal_to_an_array_in_a_settings_dict_of_the_same_shape():
    def f(w, b, d):
        return np.sum(w * d["v"]) + np.sum(b * d["u"])
    g = grad(f, wrt=(0, 1))
    w, b = RNG.standard_normal(3), RNG.standard_normal((2, 2))
    d = {"v": RNG.standard_normal(3), "u": RNG.standard_normal((2, 2))}
    for _ in range(4):
        gw, gb = g(w, b, d)
        np.testing.assert_allclose(gw, d["v"], rtol=1e-15)
        np.testing.assert_allclose(gb, d["u"], rtol=1e-15)
        no_sharing([gw, gb], [w, b, d["v"], d["u"]])
    # the array in the dict replaced by one of another shape: that call's answer
    d2 = {"v": RNG.standard_normal(3), "u": RNG.standard_normal(2)}
    for _ in range(3):
        gw, gb = g(w, b, d2)
        np.testing.assert_allclose(gb, np.broadcast_to(d2["u"], (2, 2)), rtol=1e-15)
        no_sharing([gw, gb], [w, b, d2["v"], d2["u"]])


def test_settings_runner_unpacks_the_result_and_stays_exact(monkeypatch):
    g, vg = grad(mlp_settings), value_and_grad(mlp_settings)
    p = params()
    for cfg in ({"mode": "mean", "clip": None, "scale": 0.5},
                {"mode": "sum", "clip": None, "scale": 0.5},
                {"mode": "mean", "clip": 0.01, "scale": 2.0},
                {"mode": "mean", "clip": None, "scale": np.float32(1.5)},
                {"mode": "mean", "clip": None, "scale": 3},
                {"mode": "mean", "clip": None, "scale": 0.5}):
        want = fd_tree(mlp_settings, p, (X, Y, cfg))
        want_v = mlp_settings(p, X, Y, cfg)
        for _ in range(3):
            check_tree(g(p, X, Y, cfg), p, want, (X, Y))
            v, gv = vg(p, X, Y, cfg)
            assert v == pytest.approx(want_v, rel=1e-12)
            check_tree(gv, p, want, (X, Y))
    assert hot(g) and hot(vg)
    # (perf-call13: with clip None the gradients are proven fresh, no run-time
    # tests; a 0-d array setting is data of unknown shape: tested at run
    # time, and a generated function not inlined has its tuple unpacked once)
    assert "flags.writeable" not in runner_source(g)
    monkeypatch.setattr(api, "INLINE_LINES", 0)
    g = grad(mlp_settings)
    cfg = {"mode": "mean", "clip": None, "scale": np.array(0.5)}
    want = fd_tree(mlp_settings, p, (X, Y, cfg))
    for _ in range(3):
        check_tree(g(p, X, Y, cfg), p, want, (X, Y))
    assert hot(g) and "_s2s_x0" in runner_source(g)


# ---------------------------------------------------------------- adversarial changes


class MyDict(dict):
    def __getitem__(self, k):
        v = dict.__getitem__(self, k)
        return 2.0 * v if k == "scale" else v


class MyArray(np.ndarray):
    pass


def _variants(p):
    """(name, params, cfg) for one changed property each."""
    base = {"mode": "mean", "clip": None, "scale": 0.5}
    yield "same", p, base
    yield "key order", {k: p[k] for k in ("b2", "W2", "b1", "W1")}, base
    yield "settings key order", p, {"scale": 0.5, "clip": None, "mode": "mean"}
    yield "settings key set", p, dict(base, extra=1)
    yield "setting value", p, dict(base, mode="sum")
    yield "setting None to float", p, dict(base, clip=0.05)
    yield "setting float to int", p, dict(base, scale=2)
    yield "setting to bool", p, dict(base, scale=True)
    yield "setting to 0-d array", p, dict(base, scale=np.array(0.25))
    yield "setting to np.float64", p, dict(base, scale=np.float64(0.75))
    yield "item dtype", dict(p, b1=p["b1"].astype(np.float32)), base
    yield "item shape", dict(p, W1=p["W1"][:2], ), base
    yield "item float", dict(p, b2=1.5), base
    yield "item 0-d array", dict(p, b2=np.array(1.5)), base
    yield "item subclass", dict(p, W2=p["W2"].view(MyArray)), base
    yield "settings subclass", p, MyDict(mode="mean", clip=None, scale=0.5)
    yield "OrderedDict params", collections.OrderedDict(p), base


@pytest.mark.parametrize("which", [v[0] for v in _variants(params())])
def test_each_checked_property_changed_between_calls(which):
    g = grad(mlp_settings)
    p = params()
    cfg = {"mode": "mean", "clip": None, "scale": 0.5}
    want = fd_tree(mlp_settings, p, (X, Y, cfg))
    for _ in range(3):
        check_tree(g(p, X, Y, cfg), p, want, (X, Y))
    assert hot(g)
    _, p2, cfg2 = next(v for v in _variants(p) if v[0] == which)
    X2 = X[:, :2] if which == "item shape" else X

    def f(q, X, y, c):
        if isinstance(c, MyDict):
            c = {k: c[k] for k in c}
        return mlp_settings(q, X, y, c)
    want2 = fd_tree(f, {k: np.asarray(v) for k, v in p2.items()}, (X2, Y, cfg2))
    for _ in range(3):
        got = g(p2, X2, Y, cfg2)
        assert list(got) == list(p2) and type(got) is type(p2) or \
            (type(p2) is collections.OrderedDict and list(got) == list(p2))
        for k in p2:
            if isinstance(p2[k], float):
                assert type(got[k]) is float
                assert got[k] == pytest.approx(want2[k], rel=1e-6, abs=1e-8)
            else:
                assert type(got[k]) is np.ndarray and got[k].dtype == p2[k].dtype
                assert got[k].shape == p2[k].shape
                np.testing.assert_allclose(got[k], want2[k],
                                           rtol=2e-3 if got[k].dtype == np.float32 else 1e-6,
                                           atol=1e-5 if got[k].dtype == np.float32 else 1e-8)
        no_sharing([v for v in got.values()], list(p2.values()) + [X2, Y])
        # and back: the first signature's answer again
        check_tree(g(p, X, Y, cfg), p, want, (X, Y))


# ---------------------------------------------------------------- subclasses passed as data


class Plain(dict):
    pass


def clip_is_none(w, cfg):
    r = np.sum(w ** 2)
    if cfg["clip"] is None:
        r = r * 2.0
    return r * cfg["scale"]


@pytest.mark.parametrize("kind", [Plain, collections.OrderedDict, MyDict,
                                  lambda **kw: collections.defaultdict(float, **kw)])
def test_is_none_of_an_item_of_a_dict_subclass_passed_as_data(kind):
    # a dict subclass passed as data was an array leaf: 'cfg["clip"] is None'
    # folded to False while compiling, a silently wrong gradient (2w, not 4w)
    g = grad(clip_is_none)
    w = RNG.standard_normal(3)
    for clip in (None, 1.0, None, 2.0):
        cfg = kind(clip=clip, scale=0.5)
        want = fd_args(lambda w: clip_is_none(w, cfg), (w,), (0,))[0]
        for _ in range(3):
            got = g(w, cfg)
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
            np.testing.assert_allclose(
                got, (2.0 if clip is None else 1.0) * 2 * w * cfg["scale"], rtol=1e-12)


def test_get_of_a_dict_subclass_with_its_own_get_is_refused():
    class OwnGet(dict):
        def get(self, k, default=None):
            return 5.0

    def f(w, cfg):
        return np.sum(w) * cfg.get("k")
    w = np.ones(3)
    np.testing.assert_allclose(grad(f)(w, {"k": 2.0}), 2.0 * np.ones(3))
    with pytest.raises(Exception, match="get"):
        grad(f)(w, OwnGet(k=2.0))


# ---------------------------------------------------------------- a settings dict's key order


def test_key_order_of_settings_read_by_constant_keys_is_not_tested():
    g = grad(mlp_settings)
    p = params()
    orders = ({"mode": "mean", "clip": None, "scale": 0.5},
              {"scale": 0.5, "mode": "mean", "clip": None},
              {"clip": None, "scale": 2.0, "mode": "sum"},
              {"mode": "mean", "clip": 0.01, "scale": 0.5})
    for cfg in orders * 2:
        want = fd_tree(mlp_settings, p, (X, Y, cfg))
        for _ in range(2):
            check_tree(g(p, X, Y, cfg), p, want, (X, Y))
    assert hot(g)
    assert "_s2s_len(cfg) == 3" in runner_source(g)


def test_same_number_of_keys_another_key_set_takes_the_general_path():
    def f(w, cfg):
        return np.sum(w ** 2) * cfg["scale"]
    g = grad(f)
    w = RNG.standard_normal(3)
    for _ in range(3):
        np.testing.assert_allclose(g(w, {"scale": 2.0, "unused": 1}), 4.0 * w, rtol=1e-12)
    for _ in range(3):
        np.testing.assert_allclose(g(w, {"other": 1, "scale": 3.0}), 6.0 * w, rtol=1e-12)
        np.testing.assert_allclose(g(w, {"scale": 2.0, "unused": 1}), 4.0 * w, rtol=1e-12)
    with pytest.raises(KeyError):
        g(w, {"other": 1, "unused": 2})


def test_key_order_still_tested_when_the_dict_is_used_whole():
    def uses_len(w, cfg):
        return np.sum(w ** 2) * len(cfg) * cfg["a"]

    def uses_locals(w, cfg):
        s = locals()
        return np.sum(w ** 2) * cfg["a"] + 0.0 * len(s)

    def passes_on(w, cfg):
        return helper(w, cfg)

    from s2sgrad.api import _read_by_constant_keys
    assert _read_by_constant_keys(mlp_settings, "cfg")
    assert not _read_by_constant_keys(uses_len, "cfg")
    assert not _read_by_constant_keys(uses_locals, "cfg")
    assert not _read_by_constant_keys(passes_on, "cfg")
    g = grad(uses_len)
    w = RNG.standard_normal(3)
    for cfg in ({"a": 1.5, "b": 2}, {"b": 2, "a": 1.5}, {"a": 0.5, "b": 2}) * 2:
        for _ in range(2):
            np.testing.assert_allclose(g(w, cfg), fd_args(lambda w: uses_len(w, cfg), (w,),
                                                          (0,))[0], rtol=1e-6, atol=1e-8)
    assert hot(g) and "_s2s_tuple(cfg)" in runner_source(g)


def helper(w, cfg):
    return np.sum(w * cfg["a"])


def test_get_of_a_defaultdict_passed_as_data_is_not_a_subscript():
    # d[k] of a defaultdict inserts a default where d.get(k) gives None
    def f(w, cfg):
        r = np.sum(w ** 2)
        if cfg.get("clip") is None:
            r = r * 2.0
        return r
    w = RNG.standard_normal(3)
    cfg = collections.defaultdict(float)
    try:
        got = grad(f)(w, cfg)
    except Exception as exc:
        assert "get" in str(exc)
    else:
        np.testing.assert_allclose(got, 4.0 * w, rtol=1e-12)
    assert "clip" not in cfg
    od = collections.OrderedDict(clip=None)
    np.testing.assert_allclose(grad(f)(w, od), 4.0 * w, rtol=1e-12)
