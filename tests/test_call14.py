"""perf-call14: the fast call path of ``grad`` for dicts nested in a
differentiated dict.

A dict nested in a differentiated dict parameter that the user's function
reads only as ``params[<constant>][<constant>]`` (``api._constant_key_paths``)
is tested on the fast path by its number of keys -- every compiled key is
then read, so the key set is the compiled one -- instead of its keys in order
(``tuple(d) == K``, ~1,000 instructions more per nested dict), and its
gradient is a copy of the call's nested dict with the values replaced: the
call's key order at every level, as the general path gives it
(``api._in_call_order``).

Every test violates the facts on a later call (the keys of a nested dict in
another order, another key set of the same size, an extra or a missing key, a
dict subclass, a list in place of the dict, leaves of another shape or dtype,
a view, a float vs an int leaf, a dict mutated between calls, a function that
uses the nested dict whole) and checks the value against plain NumPy, the
gradient against central finite differences, the gradient's key order, and
that the user's containers are unmodified.
"""
import copy

import numpy as np
import pytest

import s2sgrad
from s2sgrad import api

RNG = np.random.default_rng(14)
X = RNG.normal(size=(5, 3))


def nested(params, X):
    h = np.tanh(X @ params["l1"]["W"] + params["l1"]["b"])
    return np.sum((h @ params["l2"]["W"] + params["l2"]["b"]) ** 2) * params["s"]


def nested_whole(params, X):
    # the nested dict used whole: its values in its order
    w, b = params["l1"].values()
    h = np.tanh(X @ w + b)
    return np.sum((h @ params["l2"]["W"] + params["l2"]["b"]) ** 2) * params["s"]


def _params(dtype=np.float64, s=0.5):
    return {"l1": {"W": RNG.normal(size=(3, 4)).astype(dtype), "b": RNG.normal(size=4).astype(dtype)},
            "l2": {"W": RNG.normal(size=(4, 2)).astype(dtype), "b": RNG.normal(size=2).astype(dtype)},
            "s": s}


def _paths(tree, pre=()):
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from _paths(v, pre + (k,))
    else:
        yield pre


def _get(tree, path):
    for k in path:
        tree = tree[k]
    return tree


def _with(tree, path, v):
    if not path:
        return v
    out = dict(tree)            # (the call's key order kept)
    out[path[0]] = _with(tree[path[0]], path[1:], v)
    return out


def _fd_nested(f, params, *rest, eps=1e-6):
    out = {}
    for path in _paths(params):
        v = np.asarray(_get(params, path), dtype=np.float64)
        g = np.zeros_like(v)
        for i in np.ndindex(v.shape):
            vp, vm = v.copy(), v.copy()
            vp[i] += eps
            vm[i] -= eps
            if v.ndim == 0:
                vp, vm = float(vp), float(vm)
            g[i] = (f(_with(params, path, vp), *rest) - f(_with(params, path, vm), *rest)) / (2 * eps)
        out[path] = g
    return out


def _key_orders(a, b):
    """Whether the dicts ``a`` and ``b`` have the same keys in the same order
    at every level."""
    if isinstance(a, dict):
        return type(b) is dict and list(a) == list(b) and all(_key_orders(a[k], b[k]) for k in a)
    return not isinstance(b, dict)


def _check(got, f, params, *rest, rtol=1e-6, atol=1e-7):
    want = _fd_nested(f, params, *rest)
    assert _key_orders(params, got)                   # the call's key order, every level
    for path, w in want.items():
        x, gx = _get(params, path), _get(got, path)
        assert type(gx) is type(x) or (type(x) is np.ndarray and type(gx) is np.ndarray)
        assert np.shape(gx) == np.shape(x)
        if type(x) is np.ndarray:
            assert gx.dtype == x.dtype and gx is not x
        np.testing.assert_allclose(gx, w, rtol=rtol, atol=atol)


def _fast_sources(g):
    return [e.source for e in g.__dict__.get("_fast", {}).values()]


def _run(g, f, p, *rest, value=False, **tol):
    before = copy.deepcopy(p)
    if value:
        v, got = g(p, *rest)
        np.testing.assert_allclose(v, f(p, *rest), rtol=1e-12)
    else:
        got = g(p, *rest)
    _check(got, f, p, *rest, **tol)
    # the user's containers unmodified
    assert _key_orders(before, p)
    for path in _paths(before):
        np.testing.assert_array_equal(_get(p, path), _get(before, path))
    return got


def test_constant_key_paths():
    def a(p, x):
        return p["l1"]["W"] * x + p["l1"]["b"] + p["s"]

    def b(p, x):
        return sum(p["l1"].values()) * x        # l1 used whole

    def c(p, x):
        return p["l1"]["W"][0] * x + p["l2"]["W"]

    def d(p, x):
        q = p["l1"]
        return q["W"] * x

    def e(p, x):
        k = "W"
        return p["l1"][k] * x                 # a key that is not a constant

    def h(p, x):
        return p["a"]["b"]["c"] * x + len(p["a"]) + p["a"]["d"]["e"]

    assert api._constant_key_paths(a, "p") == {(), ("l1",)}
    assert api._constant_key_paths(b, "p") == {()}
    assert api._constant_key_paths(c, "p") == {(), ("l1",), ("l1", "W"), ("l2",)}
    assert api._constant_key_paths(d, "p") == {()}
    assert api._constant_key_paths(e, "p") == {()}
    # a dict used whole: nothing below it is by key either (it may be iterated)
    assert api._constant_key_paths(h, "p") == {()}
    assert api._read_by_constant_keys(a, "p") and api._read_by_constant_keys(h, "p")


@pytest.mark.parametrize("mk", ["grad", "value_and_grad"])
def test_nested_dict_by_key_is_tested_by_count_and_copied(mk):
    g = getattr(s2sgrad, mk)(nested)
    p = _params()
    for _ in range(3):
        _run(g, nested, p, X, value=mk == "value_and_grad")
    (src,) = _fast_sources(g)
    assert "_s2s_len(_s2s_c1) == 2" in src and "_s2s_c1.copy()" in src
    assert "_s2s_tuple(_s2s_c" not in src
    # the nested dicts' keys in another order (each level, both), served by
    # the one runner; the gradient in the call's order
    orders = [
        {"l1": {"b": p["l1"]["b"], "W": p["l1"]["W"]}, "l2": p["l2"], "s": p["s"]},
        {"s": p["s"], "l2": {"b": p["l2"]["b"], "W": p["l2"]["W"]},
         "l1": {"b": p["l1"]["b"], "W": p["l1"]["W"]}},
        p,
    ]
    for q in orders:
        for _ in range(2):
            _run(g, nested, q, X, value=mk == "value_and_grad")
    assert len(g.__dict__["_fast"]) == 1


def test_nested_dict_violations_fall_back():
    g = s2sgrad.grad(nested)
    p = _params()
    _run(g, nested, p, X)
    _run(g, nested, p, X)
    # another key set of the same size in a nested dict: an error naming
    # the key (as the function itself raises KeyError), never a number
    q = {"l1": {"W": p["l1"]["W"], "c": p["l1"]["b"]}, "l2": p["l2"], "s": 0.5}
    with pytest.raises(KeyError):
        nested(q, X)
    with pytest.raises(Exception, match="'b'"):
        g(q, X)
    # a missing key
    q = {"l1": {"W": p["l1"]["W"]}, "l2": p["l2"], "s": 0.5}
    with pytest.raises(Exception, match="'b'"):
        g(q, X)
    # an extra key (not read: its gradient is zero)
    q = {"l1": {"W": p["l1"]["W"], "b": p["l1"]["b"], "extra": np.ones(3)}, "l2": p["l2"],
         "s": 0.5}
    got = _run(g, nested, q, X)
    np.testing.assert_array_equal(got["l1"]["extra"], np.zeros(3))
    _run(g, nested, p, X)
    # a dict subclass nested, and a list in place of the nested dict
    class D(dict):
        pass
    q = {"l1": D(p["l1"]), "l2": p["l2"], "s": 0.5}
    got = g(q, X)
    want = _fd_nested(nested, {"l1": dict(p["l1"]), "l2": p["l2"], "s": 0.5}, X)
    for path, w in want.items():
        np.testing.assert_allclose(_get(got, path), w, rtol=1e-6, atol=1e-7)
    _run(g, nested, p, X)
    # leaves of another shape, dtype; a view; a Python int / bool / np.float64 for the float
    q = {"l1": {"W": RNG.normal(size=(3, 6)), "b": RNG.normal(size=6)},
         "l2": {"W": RNG.normal(size=(6, 2)), "b": RNG.normal(size=2)}, "s": 0.5}
    _run(g, nested, q, X)
    _run(g, nested, _params(np.float32), X.astype(np.float32), rtol=2e-2, atol=2e-3)
    big = RNG.normal(size=(3, 8))
    q = {"l1": {"W": big[:, ::2], "b": p["l1"]["b"]}, "l2": p["l2"], "s": 0.5}
    _run(g, nested, q, X)
    for s in (np.float64(0.25), 0.75):
        _run(g, nested, dict(p, s=s), X)
    for s in (2, True):
        q = dict(p, s=s)
        with pytest.raises(Exception):
            g(q, X)           # an int leaf of a differentiated dict: refused
        _run(g, nested, p, X)


def test_nested_dict_mutated_between_calls():
    g = s2sgrad.grad(nested)
    p = _params()
    _run(g, nested, p, X)
    _run(g, nested, p, X)
    # the same nested dict changed in place: another array, then another shape
    p["l1"]["W"] = RNG.normal(size=(3, 4))
    _run(g, nested, p, X)
    p["l1"]["W"] = RNG.normal(size=(3, 5))
    p["l1"]["b"] = RNG.normal(size=5)
    p["l2"]["W"] = RNG.normal(size=(5, 2))
    _run(g, nested, p, X)
    # keys reinserted in another order in place
    b = p["l1"].pop("W")
    p["l1"]["W"] = b
    _run(g, nested, p, X)
    # an array changed in place (its shape attribute)
    p["l2"]["b"].shape = (1, 2)
    _run(g, nested, p, X)


def test_nested_dict_used_whole_keeps_the_key_order_test():
    g = s2sgrad.grad(nested_whole)
    p = _params()
    _run(g, nested_whole, p, X)
    _run(g, nested_whole, p, X)
    (src,) = _fast_sources(g)
    assert "_s2s_tuple(_s2s_c1) == _s2s_K1" in src and "_s2s_len(_s2s_c1)" not in src
    # another order: other arrays in other places (as the function says)
    q = {"l1": {"b": RNG.normal(size=(3, 4)), "W": RNG.normal(size=4)}, "l2": p["l2"],
         "s": 0.5}
    _run(g, nested_whole, q, X)
    _run(g, nested_whole, q, X)


def test_nested_checked_fallback_gives_the_call_key_order():
    # a runner whose gradients are tested at run time (a settings dict) and
    # whose test fails (two gradients one array: d(a + b)): _s2s_finish
    # assembles the result, in the call's key order at every level
    def f(params, cfg):
        r = np.sum(params["n"]["a"] + params["n"]["b"] * 0.0 + params["c"] ** 2)
        if cfg["flag"]:
            r = r * cfg["k"]
        return r
    g = s2sgrad.grad(f)
    a, b, c = RNG.normal(size=3), RNG.normal(size=3), RNG.normal(size=3)
    cfg = {"flag": True, "k": 2}
    for q in ({"n": {"a": a, "b": b}, "c": c}, {"c": c, "n": {"b": b, "a": a}},
              {"n": {"b": b, "a": a}, "c": c}, {"n": {"a": a, "b": b}, "c": c}):
        for k in (2, 3):
            cfg["k"] = k
            for _ in range(2):
                got = _run(g, f, q, cfg)
                assert got["n"]["a"] is not got["n"]["b"]
    assert len(g.__dict__["_fast"]) == 1


def nested_settings(params, X, cfg):
    h = np.tanh(X @ params["l1"]["W"] + params["l1"]["b"])
    r = np.sum((h @ params["l2"]["W"] + params["l2"]["b"]) ** 2) * params["s"]
    if cfg["loss"]["mode"] == "mean":
        r = r / X.shape[0]
    return r * cfg["loss"]["scale"] + cfg["reg"]["lam"] * np.sum(params["l1"]["W"] ** 2)


def test_nested_settings_dict_by_key():
    g = s2sgrad.grad(nested_settings)
    p = _params()
    cfg = {"loss": {"mode": "mean", "scale": 0.5}, "reg": {"lam": 0.1}}
    for _ in range(3):
        _run(g, nested_settings, p, X, cfg)
    (src,) = _fast_sources(g)
    # the settings dict and the dicts in it: tested by their number of keys
    assert "_s2s_len(cfg) == 2" in src
    # the nested settings' scalar items are keyed by type (api._items_key) and
    # have examples (specialize._settings_example): the shape facts survive
    assert "unbroadcast" not in g._last_run.source and "matmul_vjp" not in g._last_run.source
    assert "_s2s_len(_s2s_c10) == 2" in src and "_s2s_len(_s2s_c13) == 1" in src
    assert "_s2s_tuple(_s2s_c10)" not in src and "_s2s_tuple(_s2s_c13)" not in src
    before = len(g.__dict__["_fast"])
    # the nested settings in another order, changed in place, another type
    cfg2 = {"reg": {"lam": 0.1}, "loss": {"scale": 0.5, "mode": "mean"}}
    for _ in range(2):
        _run(g, nested_settings, p, X, cfg2)
    assert len(g.__dict__["_fast"]) == before          # (the one runner)
    for mode, scale, lam in (("sum", 0.5, 0.1), ("mean", 2.0, 0.0), ("sum", np.float64(3.0), 1),
                             ("mean", 1, True), ("mean", np.float32(0.25), 0.1)):
        cfg2["loss"]["mode"], cfg2["loss"]["scale"], cfg2["reg"]["lam"] = mode, scale, lam
        for _ in range(2):
            _run(g, nested_settings, p, X, cfg2)
    # another key set of the same size, an extra key, a subclass, a list
    bad = {"reg": {"lam": 0.1}, "loss": {"scale": 0.5, "kind": "mean"}}
    with pytest.raises(Exception, match="'mode'"):
        g(p, X, bad)
    cfg3 = {"reg": {"lam": 0.1, "unused": 3}, "loss": {"scale": 0.5, "mode": "mean"}}
    _run(g, nested_settings, p, X, cfg3)

    class D(dict):
        pass
    cfg4 = {"reg": D(lam=0.1), "loss": {"scale": 0.5, "mode": "mean"}}
    _run(g, nested_settings, p, X, cfg4)
    _run(g, nested_settings, p, X, cfg)
    cfg5 = {"reg": {"lam": np.array(0.3)}, "loss": {"scale": 0.5, "mode": "mean"}}
    _run(g, nested_settings, p, X, cfg5)
    _run(g, nested_settings, p, X, cfg)


def settings_iterated(w, cfg):
    # the nested settings dict used whole: the order of its values matters
    c = cfg["coef"]
    a, b = [c[k] for k in c]
    return np.sum(np.sin(w) * a - w ** 2 * b) * cfg["scale"]["s"]


def test_nested_settings_used_whole_keeps_the_key_order_test():
    g = s2sgrad.grad(settings_iterated)
    w = RNG.normal(size=4)
    cfg = {"coef": {"a": 2.0, "b": 0.5}, "scale": {"s": 1.5}}
    for c in (cfg, cfg, {"coef": {"b": 0.5, "a": 2.0}, "scale": {"s": 1.5}},
              {"scale": {"s": 1.5}, "coef": {"b": 2.0, "a": 0.5}}, cfg):
        for _ in range(2):
            before = copy.deepcopy(c)
            np.testing.assert_allclose(g(w, c), _fd_w(settings_iterated, w, c),
                                       rtol=1e-6, atol=1e-8)
            assert c == before and list(c["coef"]) == list(before["coef"])
    # "coef" (used whole) keeps its key-order test; "scale" is read by key
    src = _fast_sources(g)
    assert src and all("_s2s_tuple(_s2s_c2) == _s2s_K2" in s and "_s2s_len(_s2s_c5) == 1" in s
                       for s in src)


def _fd_w(f, w, *rest, eps=1e-6):
    g = np.zeros_like(w)
    for i in np.ndindex(w.shape):
        wp, wm = w.copy(), w.copy()
        wp[i] += eps
        wm[i] -= eps
        g[i] = (f(wp, *rest) - f(wm, *rest)) / (2 * eps)
    return g


# --- iterating a dict read out of a container passed as data (found while
# testing the above): it was iterated as a sequence, ``c[i]`` for i in
# range(len(c)) -- a KeyError, or with int keys silently the wrong items
# (-0.58 for -0.3487 below).  lower.control.dict_keys_of now iterates any
# value that may be a dict when the code runs through runtime.dict_keys.

def iter_item(w, cfg):
    c = cfg["coef"]
    a, b = [c[k] for k in c]
    return np.sum(np.sin(w) * a - w ** 2 * b)


def iter_item_in_loop(w, cfg):
    c = cfg["coef"]
    t = 0.0
    for j in range(2):
        for k in c:
            t = t + c[k] * np.sum(w ** (k + j + 1))
    return t


def iter_item_direct(w, cfg):
    t = 0.0
    for k in cfg["coef"]:
        t = t + cfg["coef"][k] * np.sum(w ** (k + 1))
    return t


def iter_item_in_branch(w, cfg):
    c = cfg["coef"]
    if np.sum(w) > -100:
        a, b = [c[k] for k in c]
    else:
        a, b = 0.0, 0.0
    return np.sum(np.sin(w) * a - w ** 2 * b)


def iter_list_item(w, cfg):
    t = 0.0
    for v in cfg["xs"]:
        t = t + v * np.sum(w ** 2)
    return t


def iter_in_list(w, cfgs):
    t = 0.0
    for k in cfgs[0]:
        t = t + cfgs[0][k] * np.sum(w ** (k + 1))
    return t


COEF = {1: 2.0, 0: 3.0}


def iter_global(w):
    t = 0.0
    for k in COEF:
        t = t + COEF[k] * np.sum(w ** (k + 1))
    return t


@pytest.mark.parametrize("f, cfgs", [
    (iter_item, [{"coef": {0: 1, 1: 0}}, {"coef": {1: 0, 0: 1}}, {"coef": {"a": 2.0, "b": 0.5}},
                 {"coef": {0: 1.5, 1: -2.0}}]),
    (iter_item_in_loop, [{"coef": {1: 2.0, 0: 3.0}}, {"coef": {0: 3.0, 1: 2.0}}]),
    (iter_item_direct, [{"coef": {1: 2.0, 0: 3.0}}, {"coef": {0: 3.0, 1: 2.0, 2: 0.5}}]),
    (iter_item_in_branch, [{"coef": {0: 1, 1: 0}}, {"coef": {1: 0.5, 0: 2.0}}]),
    (iter_list_item, [{"xs": [1.0, 2.0]}, {"xs": (1.0, 2.0, 3.0)}, {"xs": [0.5]}]),
    (iter_in_list, [[{1: 2.0, 0: 3.0}], [{0: 3.0, 1: 2.0}]]),
])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_iterating_a_dict_item_of_data(f, cfgs, dtype):
    w = np.array([0.3, -0.7, 0.9], dtype=dtype)
    g = s2sgrad.value_and_grad(f)
    for cfg in cfgs:
        for _ in range(2):
            before = copy.deepcopy(cfg)
            v, got = g(w, cfg)
            tol = 1e-5 if dtype == np.float32 else 1e-12
            np.testing.assert_allclose(v, f(w, cfg), rtol=tol)
            want = _fd_w(f, w.astype(np.float64), cfg)
            assert got.dtype == dtype
            np.testing.assert_allclose(got, want, rtol=1e-3 if dtype == np.float32 else 1e-6,
                                       atol=1e-4 if dtype == np.float32 else 1e-8)
            assert cfg == before and repr(cfg) == repr(before)


def test_iterating_a_global_dict_is_refused_with_the_line():
    # (a computed key into a global dict: refused, as on main, never a number)
    w = RNG.normal(size=3)
    with pytest.raises(s2sgrad.errors.S2SGradError, match="test_call14.py:.*computed key"):
        s2sgrad.value_and_grad(iter_global)(w)


def nested_clip(w, cfg):
    r = np.sum(np.sin(w) ** 2) * cfg["loss"]["scale"]
    if cfg["loss"]["clip"] is not None:
        r = np.minimum(r, cfg["loss"]["clip"])
    return r * cfg["n"]


@pytest.mark.parametrize("mk", ["grad", "value_and_grad"])
def test_nested_settings_none_and_types_changed_in_place(mk):
    # the nested settings' None items and scalar types are in the
    # specialisation key: each change takes another runner or the general path
    g = getattr(s2sgrad, mk)(nested_clip)
    w = RNG.normal(size=4)
    cfg = {"loss": {"scale": 2.0, "clip": None}, "n": 3}

    def check():
        before = copy.deepcopy(cfg)
        want = _fd_w(nested_clip, w, cfg)
        if mk == "grad":
            got = g(w, cfg)
        else:
            v, got = g(w, cfg)
            np.testing.assert_allclose(v, nested_clip(w, cfg), rtol=1e-12)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
        assert repr(cfg) == repr(before)
    for _ in range(2):
        check()
    assert "np.minimum" not in g._last_run.source
    for clip, scale, n in ((0.05, 2.0, 3), (1e6, 2.0, 3), (None, 2, 3), (None, np.float32(0.5), 3),
                           (np.array(0.1), 2.0, 3), (None, 2.0, 2.5), (0.05, True, 1), (None, 2.0, 3)):
        cfg["loss"]["clip"], cfg["loss"]["scale"], cfg["n"] = clip, scale, n
        for _ in range(2):
            check()


# --- nested settings with examples: through branches, helpers, loops


def _helper(w, c):
    return np.sum(w ** 2) * c["s"] + c["t"]
def spec_f1(w, cfg):
    c = cfg["a"] if np.sum(w) > 0 else cfg["b"]
    return np.sum(np.sin(w)) * c["s"]
def spec_f2(w, cfg):
    return _helper(w, cfg["a"]) + _helper(w, cfg["b"])
def spec_f3(w, cfg):
    r = 0.0
    for i in range(3):
        r = r + np.sum(w ** 2) * cfg["a"]["s"] * i
        if cfg["b"]["t"] is None:
            r = r * 2
    return r
def spec_f4(w, cfg):
    c = cfg["a"]
    r = np.sum(w)
    while r < 10 * c["s"]:
        r = r * 2 + c["t"]
    return r
def spec_f5(w, cfg):
    return np.sum(w * cfg["a"]["s"]) if cfg["a"]["t"] else np.sum(w)


@pytest.mark.parametrize("f, cfg", [
    (spec_f1, {"a": {"s": 2.0}, "b": {"s": 3}}),
    (spec_f2, {"a": {"s": 2.0, "t": 1}, "b": {"s": np.float32(3), "t": 0.5}}),
    (spec_f3, {"a": {"s": 2.0}, "b": {"t": None}}),
    (spec_f3, {"a": {"s": 2.0}, "b": {"t": 1.0}}),
    (spec_f4, {"a": {"s": 2.0, "t": 0.1}}),
    (spec_f5, {"a": {"s": 2.0, "t": True}}),
    (spec_f5, {"a": {"s": 2.0, "t": 0}}),
])
def test_nested_settings_through_control_flow(f, cfg):
    w = np.array([0.3, 0.7, 0.2])
    g = s2sgrad.value_and_grad(f)
    # then every float setting an int (another key: another specialisation)
    flipped = {k: {kk: int(vv) + 1 if type(vv) is float else vv for kk, vv in v.items()}
               for k, v in cfg.items()}
    for c in (cfg, cfg, flipped, flipped, cfg):
        before = repr(c)
        v, got = g(w, c)
        np.testing.assert_allclose(v, f(w, c), rtol=1e-12)
        np.testing.assert_allclose(got, _fd_w(f, w, c), rtol=1e-6, atol=1e-8)
        assert repr(c) == before


# --- an array read out of a settings dict, iterated (through runtime.dict_keys)

def rows_of_item(w, cfg):
    t = 0.0
    for row in cfg["W"]:
        t = t + np.sum(np.sin(row * w))
    return t


def rows_of_item_written(w, cfg):
    for row in cfg["W"]:
        row *= 2.0
    return np.sum(cfg["W"] @ w)


def test_rows_of_an_array_item_of_data():
    w = np.array([0.3, -0.7])
    g = s2sgrad.value_and_grad(rows_of_item)
    for W in (np.array([[1.0, 2.0], [3.0, 4.0]]), np.arange(6.0).reshape(3, 2)):
        cfg = {"W": W}
        for _ in range(2):
            v, got = g(w, cfg)
            np.testing.assert_allclose(v, rows_of_item(w, cfg), rtol=1e-12)
            np.testing.assert_allclose(got, _fd_w(rows_of_item, w, cfg), rtol=1e-6, atol=1e-8)
    # a write through the rows: the item may be anything when the code runs
    # (a dict's keys, an array): refused with the line, never a number
    cfg = {"W": np.array([[1.0, 2.0], [3.0, 4.0]])}
    with pytest.raises(s2sgrad.errors.S2SGradError, match="test_call14.py:.*writing into an array"):
        s2sgrad.value_and_grad(rows_of_item_written)(w, cfg)
    np.testing.assert_array_equal(cfg["W"], [[1.0, 2.0], [3.0, 4.0]])
