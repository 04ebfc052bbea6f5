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
