"""Containers of parameters on the call's fast path (``api._FastCall``), for
every kind the call-overhead benchmark measures: a dict, a nested dict, a
dict with a float leaf and arguments by keyword, a list and a tuple of
parameters, a tuple of arrays passed by keyword, and a dict of int/bool
settings passed as data.  Values are compared with plain NumPy, gradients
with central differences (float64) and float32 gives float32 gradients close
to float64's; repeated calls with changing structure, key order, dtypes and
shapes give the right answer; a returned gradient is never changed by the
next call and never shares memory with an argument."""
import collections

import numpy as np
import pytest

import s2sgrad
from s2sgrad import grad, value_and_grad

RNG = np.random.default_rng(9)
X = RNG.standard_normal((5, 3))
Y = RNG.standard_normal((5, 2))


def mlp(params, X, y):
    h = np.tanh(X @ params["W1"] + params["b1"])
    return np.sum((h @ params["W2"] + params["b2"] - y) ** 2)


def mlp_reg(params, X, y, lam=0.1):
    return mlp(params, X, y) + lam * params["s"] * np.sum(params["W1"] ** 2)


def nested(params, X):
    h = np.tanh(X @ params["l1"]["W"] + params["l1"]["b"])
    return np.sum((h @ params["l2"]["W"] + params["l2"]["b"]) ** 2)


def layers(ws, X):
    h = X
    for w in ws:
        h = np.tanh(h @ w)
    return np.sum(h ** 2)


def pair(wb, X):
    w, b = wb
    return np.sum(np.sin(X @ w + b))


def ordered(params, X):
    # reads the dict in its order: the compiled code depends on the key order
    h = X
    for w in params.values():
        h = np.tanh(h @ w)
    return np.sum(h)


def mlp_cfg(params, X, y, cfg):
    r = mlp(params, X, y)
    if cfg["flag"]:
        r = r * cfg["n"]
    return r


def mlp_p(dtype=np.float64):
    return {"W1": RNG.standard_normal((3, 4)).astype(dtype), "b1": RNG.standard_normal(4).astype(dtype),
            "W2": RNG.standard_normal((4, 2)).astype(dtype), "b2": RNG.standard_normal(2).astype(dtype)}


def nested_p(dtype=np.float64):
    return {"l1": {"W": RNG.standard_normal((3, 4)).astype(dtype), "b": RNG.standard_normal(4).astype(dtype)},
            "l2": {"W": RNG.standard_normal((4, 2)).astype(dtype), "b": RNG.standard_normal(2).astype(dtype)}}


def ws_p(dtype=np.float64):
    return [RNG.standard_normal((3, 4)).astype(dtype), RNG.standard_normal((4, 4)).astype(dtype),
            RNG.standard_normal((4, 2)).astype(dtype)]


# name -> (function, make (args, kwargs) for a dtype); the container is the first parameter
CASES = {
    "dict": (mlp, lambda dt: ((mlp_p(dt), X.astype(dt), Y.astype(dt)), {})),
    "nested dict": (nested, lambda dt: ((nested_p(dt), X.astype(dt)), {})),
    "dict+float leaf, keywords": (mlp_reg, lambda dt: ((dict(mlp_p(dt), s=0.5), X.astype(dt)),
                                                       {"y": Y.astype(dt), "lam": np.float64(0.1)})),
    "dict+np.float64 leaf": (mlp_reg, lambda dt: ((dict(mlp_p(dt), s=np.float64(0.5)), X.astype(dt),
                                                   Y.astype(dt)), {})),
    "list": (layers, lambda dt: ((ws_p(dt), X.astype(dt)), {})),
    "tuple": (layers, lambda dt: ((tuple(ws_p(dt)), X.astype(dt)), {})),
    "tuple by keyword": (pair, lambda dt: ((), {"wb": (RNG.standard_normal((3, 2)).astype(dt),
                                                       RNG.standard_normal(2).astype(dt)),
                                                "X": X.astype(dt)})),
    "dict + int/bool cfg": (mlp_cfg, lambda dt: ((mlp_p(dt), X.astype(dt), Y.astype(dt),
                                                  {"flag": True, "n": 3}), {})),
}


def container(args, kwargs):
    return args[0] if args else kwargs["wb"]


def with_container(args, kwargs, c):
    if args:
        return (c,) + tuple(args[1:]), kwargs
    return args, dict(kwargs, wb=c)


def leaf_items(c, path=()):
    items = c.items() if isinstance(c, dict) else enumerate(c)
    for k, v in items:
        if isinstance(v, (dict, list, tuple)):
            yield from leaf_items(v, path + (k,))
        else:
            yield path + (k,), v


def replaced(c, path, v):
    if not path:
        return v
    if isinstance(c, dict):
        return {k: replaced(x, path[1:], v) if k == path[0] else x for k, x in c.items()}
    out = [replaced(x, path[1:], v) if i == path[0] else x for i, x in enumerate(c)]
    return tuple(out) if isinstance(c, tuple) else out


def at(c, path):
    for k in path:
        c = c[k]
    return c


def fd(f, args, kwargs, eps=1e-6):
    """Central differences of f in every leaf of the container."""
    c = container(args, kwargs)
    out = {}
    for path, v in leaf_items(c):
        a = np.array(v, dtype=float)
        g = np.zeros_like(a)
        for i in np.ndindex(a.shape):
            up, dn = a.copy(), a.copy()
            up[i] += eps
            dn[i] -= eps
            vals = []
            for x in (up, dn):
                xa, xk = with_container(args, kwargs, replaced(c, path, x if a.ndim else float(x)))
                vals.append(f(*xa, **xk))
            g[i] = (vals[0] - vals[1]) / (2 * eps)
        out[path] = g
    return out


def same_structure(got, c):
    """The gradient has the container's type (a dict for an OrderedDict, as
    the full path gives), keys in the call's order and each leaf's kind."""
    if isinstance(c, dict):
        assert type(got) is dict and list(got) == list(c)
        for k in c:
            same_structure(got[k], c[k])
    elif isinstance(c, (list, tuple)):
        assert type(got) is type(c) and len(got) == len(c)
        for a, b in zip(got, c):
            same_structure(a, b)
    elif isinstance(c, np.ndarray):
        assert type(got) is np.ndarray and got.shape == c.shape and got.dtype == c.dtype
    else:
        assert type(got) is type(c)


def hot(g):
    return "__call__" in type(g).__dict__


@pytest.mark.parametrize("name", list(CASES))
def test_values_and_gradients_float64(name):
    f, make = CASES[name]
    args, kwargs = make(np.float64)
    c = container(args, kwargs)
    want_v = f(*args, **kwargs)
    want_g = fd(f, args, kwargs)
    vg = value_and_grad(f)
    g = grad(f)
    for _ in range(4):                  # compile, register, then the fast runner
        v, gv = vg(*args, **kwargs)
        gg = g(*args, **kwargs)
        assert v == pytest.approx(want_v, rel=1e-12)
        for got in (gv, gg):
            same_structure(got, c)
            for path, x in leaf_items(c):
                np.testing.assert_allclose(at(got, path), want_g[path], rtol=1e-6, atol=1e-8)
                assert not np.shares_memory(at(got, path), x)
    assert hot(g) and hot(vg), "the container call did not get a fast runner"


@pytest.mark.parametrize("name", list(CASES))
def test_float32_gives_float32_close_to_float64(name):
    f, make = CASES[name]
    args, kwargs = make(np.float32)
    c = container(args, kwargs)
    a64 = tuple(np.asarray(a, np.float64) if isinstance(a, np.ndarray) else a for a in args)
    k64 = {k: np.asarray(v, np.float64) if isinstance(v, np.ndarray) else v
           for k, v in kwargs.items()}
    c64 = c
    for path, x in leaf_items(c):
        if isinstance(x, np.ndarray):
            c64 = replaced(c64, path, x.astype(np.float64))
    a64, k64 = with_container(a64, k64, c64)
    g = grad(f)
    want = grad(f)(*a64, **k64)
    for _ in range(3):
        got = g(*args, **kwargs)
        same_structure(got, c)
        for path, x in leaf_items(c):
            np.testing.assert_allclose(np.asarray(at(got, path), np.float64), at(want, path),
                                       rtol=2e-3, atol=2e-4)


@pytest.mark.parametrize("name", ["dict", "nested dict", "list", "tuple by keyword"])
def test_returned_gradient_is_fresh_and_not_changed_by_the_next_call(name):
    f, make = CASES[name]
    args, kwargs = make(np.float64)
    g = grad(f)
    first = g(*args, **kwargs)
    keep = [np.array(x, copy=True) for _, x in leaf_items(first)]
    second = g(*args, **kwargs)
    third = g(*args, **kwargs)
    assert hot(g)
    for (_, a), (_, b), k in zip(leaf_items(second), leaf_items(third), keep):
        assert a is not b and not np.shares_memory(a, b)
        np.testing.assert_array_equal(a, k)
    # the user writes into a returned gradient: the next call is not affected
    for _, a in leaf_items(third):
        a[...] = 123.0
    for (_, a), k in zip(leaf_items(g(*args, **kwargs)), keep):
        np.testing.assert_array_equal(a, k)
    for (_, a), k in zip(leaf_items(first), keep):
        np.testing.assert_array_equal(a, k)


def test_key_order_changes_follow_the_call_and_the_compiled_order():
    # a function that reads the dict in its order: another order is another
    # function of the leaves, so the runner must not answer it
    p = {"a": RNG.standard_normal((3, 4)), "b": RNG.standard_normal((4, 4)),
         "c": RNG.standard_normal((4, 3))}
    q = {"c": RNG.standard_normal((3, 4)), "b": p["b"], "a": RNG.standard_normal((4, 3))}
    g = grad(ordered)
    for params in (p, p, p, q, q, p, q):
        got = g(params, X)
        assert list(got) == list(params)
        want = fd(ordered, (params, X), {})
        for k in params:
            np.testing.assert_allclose(got[k], want[(k,)], rtol=1e-6, atol=1e-8)
    # an OrderedDict reordered in place between calls
    od = collections.OrderedDict(p)
    g = grad(ordered)
    for _ in range(3):
        g(od, X)
    od["c"] = RNG.standard_normal((4, 3))
    od.move_to_end("a")        # now b, c, a: shapes (4,4), (4,3), (3,4) do not chain
    with pytest.raises(ValueError):
        g(od, X)
    od = collections.OrderedDict([("a", p["a"]), ("b", p["b"]), ("c", p["c"])])
    for _ in range(3):
        got = g(od, X)
    assert type(got) is dict and list(got) == ["a", "b", "c"]
    want = fd(ordered, (dict(od), X), {})
    for k in od:
        np.testing.assert_allclose(got[k], want[(k,)], rtol=1e-6, atol=1e-8)


def test_structure_and_kind_changes_between_calls():
    g = grad(mlp_reg)
    p = dict(mlp_p(), s=0.5)
    for _ in range(3):
        g(p, X, y=Y, lam=np.float64(0.1))
    assert hot(g)

    def check(params, **kw):
        got = g(params, X, y=Y, **kw)
        full = grad(mlp_reg)(params, X, y=Y, **kw)
        same_structure(got, params)
        want = fd(lambda q, X, y: mlp_reg(q, X, y, **kw), (params, X, Y), {})
        for path, _ in leaf_items(params):
            np.testing.assert_allclose(at(got, path), at(full, path), rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(at(got, path), want[path], rtol=1e-6, atol=1e-8)
        return got

    check(p, lam=np.float64(0.1))
    check(dict(p, s=np.array(0.5)), lam=np.float64(0.1))        # the float leaf becomes an array
    check(dict(p, s=np.float64(0.5)), lam=0.2)                  # a NumPy scalar leaf, a float
    check(dict(p, b1=RNG.standard_normal((1, 4))), lam=np.float64(0.1))     # another shape
    got = check(dict(p, W2=p["W2"].astype(np.float32)), lam=np.float64(0.1))
    assert got["W2"].dtype == np.float32
    check(dict(p, extra=np.ones(2)), lam=np.float64(0.1))        # a key more (unused)
    check(p, lam=np.float64(0.1))
    # the dict changed in place: a new array under a key, then a key removed
    p["W1"] = RNG.standard_normal((3, 4))
    check(p, lam=np.float64(0.1))
    del p["b2"]
    with pytest.raises(s2sgrad.S2SGradError, match="'b2'"):
        g(p, X, y=Y, lam=np.float64(0.1))


def test_the_same_array_twice_in_a_container():
    w = RNG.standard_normal((3, 3))
    ws = [w, w, RNG.standard_normal((3, 2))]
    g = grad(layers)
    for _ in range(3):
        got = g(ws, X)
    assert hot(g)
    assert not np.shares_memory(got[0], got[1]) and not np.shares_memory(got[0], w)
    want = fd(layers, (ws, X), {})
    for k in range(3):
        np.testing.assert_allclose(got[k], want[(k,)], rtol=1e-6, atol=1e-8)
    # the d/dw through both uses is the sum of the two leaves' gradients
    def tied(w, v, X):
        return layers([w, w, v], X)
    np.testing.assert_allclose(got[0] + got[1], grad(tied)(w, ws[2], X), rtol=1e-12)


def test_int_bool_settings_dict_changes_are_seen():
    g = grad(mlp_cfg)
    p = mlp_p()
    base = grad(mlp)(p, X, Y)
    for cfg, scale in (({"flag": True, "n": 3}, 3), ({"flag": True, "n": 3}, 3),
                       ({"flag": False, "n": 3}, 1), ({"flag": True, "n": 2}, 2),
                       ({"flag": True, "n": 3}, 3)):
        got = g(p, X, Y, cfg)
        for k in p:
            np.testing.assert_allclose(got[k], scale * base[k], rtol=1e-12)
    cfg = {"flag": True, "n": 3}
    g(p, X, Y, cfg)
    cfg["n"] = 5                           # changed in place between calls
    got = g(p, X, Y, cfg)
    np.testing.assert_allclose(got["W1"], 5 * base["W1"], rtol=1e-12)


def test_an_int_leaf_of_a_differentiated_dict_is_refused_clearly():
    g = grad(mlp_reg)
    p = dict(mlp_p(), s=0.5)
    for _ in range(3):
        g(p, X, Y)
    with pytest.raises(s2sgrad.S2SGradError, match="'params'.*integer"):
        g(dict(p, s=1), X, Y)
    with pytest.raises(s2sgrad.S2SGradError, match="'params'.*boolean"):
        g(dict(p, s=True), X, Y)
    got = g(p, X, Y)                        # and the fast runner still answers
    want = fd(mlp_reg, (p, X, Y), {})
    np.testing.assert_allclose(got["s"], want[("s",)], rtol=1e-6)
    assert type(got["s"]) is float
