"""perf-call12: the fast call path of ``grad`` must stay sound.

A differentiated dict that the user's function reads only as
``params[<constant>]`` is tested on the fast path by its number of keys
(every compiled key is then read) and its gradient is returned as a copy of
the call's dict: the tests below check that calls with the keys in another
order, with another key set of the same size, with a dict subclass, with
leaves of another shape or dtype, and with a function that iterates the
dict (where the order matters), all give the values of plain NumPy and the
gradients of central finite differences, with the gradient's keys in the
call's order.  Settings dicts passed as data are mutated in place between
calls (values, types 1 / 1.0 / True, None, key order, subclasses): every
call must see the current settings.
"""
import collections

import numpy as np
import pytest

import s2sgrad
from s2sgrad import api

RNG = np.random.default_rng(12)


def _fd_tree(f, params, *rest, eps=1e-6):
    """Central differences of the scalar ``f(params, *rest)`` in every leaf
    of the (flat) dict ``params``."""
    out = {}
    for k, v in params.items():
        v = np.asarray(v, dtype=np.float64)
        g = np.zeros_like(v)
        for i in np.ndindex(v.shape):
            p, m = dict(params), dict(params)
            vp, vm = v.copy(), v.copy()
            vp[i] += eps
            vm[i] -= eps
            p[k], m[k] = vp, vm
            g[i] = (f(p, *rest) - f(m, *rest)) / (2 * eps)
        out[k] = g
    return out


def _fd(f, x, *rest, eps=1e-6):
    g = np.zeros_like(x, dtype=np.float64)
    for i in np.ndindex(x.shape):
        xp, xm = x.astype(np.float64), x.astype(np.float64)
        xp[i] += eps
        xm[i] -= eps
        g[i] = (f(xp, *rest) - f(xm, *rest)) / (2 * eps)
    return g


def mlp(params, X, y):
    h = np.tanh(X @ params["W1"] + params["b1"])
    return np.sum((h @ params["W2"] + params["b2"] - y) ** 2)


def mlp_iter(params, X, y):
    # the order of the dict's values decides which array is used where
    ws = list(params.values())
    h = np.tanh(X @ ws[0] + ws[1])
    return np.sum((h @ ws[2] + ws[3] - y) ** 2)


def _params(dtype=np.float64):
    return {"W1": RNG.normal(size=(3, 4)).astype(dtype), "b1": RNG.normal(size=4).astype(dtype),
            "W2": RNG.normal(size=(4, 2)).astype(dtype), "b2": RNG.normal(size=2).astype(dtype)}


X = RNG.normal(size=(5, 3))
Y = RNG.normal(size=(5, 2))


def _check_tree(got, f, params, *rest, rtol=1e-6, atol=1e-7):
    want = _fd_tree(f, params, *rest)
    assert type(got) is dict
    assert list(got) == list(params)             # the call's key order
    for k in params:
        assert got[k].shape == np.shape(params[k])
        assert got[k].dtype == np.asarray(params[k]).dtype
        np.testing.assert_allclose(got[k], want[k], rtol=rtol, atol=atol)
        assert got[k] is not params[k]


def _fast_sources(g):
    return [e.source for e in g.__dict__.get("_fast", {}).values()]


def test_bykey_dict_uses_count_of_keys_and_copy():
    g = s2sgrad.grad(mlp)
    p = _params()
    g(p, X, Y)
    g(p, X, Y)
    (src,) = _fast_sources(g)
    # the fast path is the by-key form: its number of keys, the result a copy
    assert "_s2s_len(params) == 4" in src and "params.copy()" in src
    assert "_s2s_tuple(params)" not in src


def test_iterated_dict_keeps_the_key_order_test():
    g = s2sgrad.grad(mlp_iter)
    p = _params()
    _check_tree(g(p, X, Y), mlp_iter, p, X, Y)
    _check_tree(g(p, X, Y), mlp_iter, p, X, Y)
    (src,) = _fast_sources(g)
    assert "_s2s_tuple(params) == _s2s_K" in src and "_s2s_len(params)" not in src
    # another order: other arrays in other places (shapes allowing it)
    q = {"W1": RNG.normal(size=(3, 4)), "b1": RNG.normal(size=4),
         "W2": RNG.normal(size=(4, 2)), "b2": RNG.normal(size=2)}
    for _ in range(2):
        _check_tree(g(q, X, Y), mlp_iter, q, X, Y)


def test_iterated_dict_reordered_same_shapes():
    # every value of the same shape: a reordered dict passes every shape test,
    # only the order test tells the calls apart
    def f(params, x):
        a, b, c = params.values()
        return np.sum(np.sin(a * x) * b + c ** 3)
    g = s2sgrad.grad(f)
    x = RNG.normal(size=3)
    p = {"a": RNG.normal(size=3), "b": RNG.normal(size=3), "c": RNG.normal(size=3)}
    for _ in range(3):
        _check_tree(g(p, x), f, p, x)
    for order in (("c", "a", "b"), ("b", "c", "a"), ("a", "b", "c")):
        q = {k: p[k] for k in order}
        for _ in range(2):
            _check_tree(g(q, x), f, q, x)


@pytest.mark.parametrize("mk", ["grad", "value_and_grad"])
def test_bykey_dict_reordered_keys(mk):
    g = getattr(s2sgrad, mk)(mlp)
    p = _params()
    for _ in range(3):
        r = g(p, X, Y)
        grads = r if mk == "grad" else r[1]
        if mk == "value_and_grad":
            np.testing.assert_allclose(r[0], mlp(p, X, Y), rtol=1e-12)
        _check_tree(grads, mlp, p, X, Y)
    for order in (("b2", "W2", "W1", "b1"), ("b1", "W1", "b2", "W2")):
        q = {k: p[k] * 1.5 for k in order}
        for _ in range(2):
            r = g(q, X, Y)
            grads = r if mk == "grad" else r[1]
            _check_tree(grads, mlp, q, X, Y)
        r = g(p, X, Y)
        _check_tree(r if mk == "grad" else r[1], mlp, p, X, Y)


def test_bykey_dict_other_keys_same_count():
    g = s2sgrad.grad(mlp)
    p = _params()
    g(p, X, Y)
    g(p, X, Y)
    q = dict(p)
    del q["b2"]
    q["c"] = np.ones(2)          # four keys, one of them not read
    with pytest.raises(Exception, match="b2"):
        g(q, X, Y)
    # an extra key (not read by the function): differentiated too, gradient 0
    # (p's runner made the hot one first: it must not take this call)
    r = dict(p, extra=np.ones(3))
    for _ in range(2):
        g(p, X, Y)
        g(p, X, Y)
        got = g(r, X, Y)
        assert list(got) == list(r)
        np.testing.assert_array_equal(got["extra"], np.zeros(3))
        _check_tree({k: got[k] for k in p}, mlp, p, X, Y)
    _check_tree(g(p, X, Y), mlp, p, X, Y)


def test_bykey_dict_mutated_in_place_between_calls():
    g = s2sgrad.grad(mlp)
    p = _params()
    for _ in range(2):
        _check_tree(g(p, X, Y), mlp, p, X, Y)
    p["W1"] = RNG.normal(size=(3, 4))            # same kind: the fast path
    _check_tree(g(p, X, Y), mlp, p, X, Y)
    p["b1"] = np.float64(0.3)                    # a NumPy scalar leaf
    got = g(p, X, Y)
    assert type(got["b1"]) is np.float64
    np.testing.assert_allclose(got["b1"], _fd_tree(mlp, p, X, Y)["b1"], rtol=1e-6)
    p["b1"] = RNG.normal(size=4).astype(np.float32)   # another dtype
    got = g(p, X, Y)
    assert got["b1"].dtype == np.float32
    p["b1"] = RNG.normal(size=(1, 4))                 # another shape (broadcast)
    for _ in range(2):
        _check_tree(g(p, X, Y), mlp, p, X, Y)
    p.pop("b1")
    p["b1"] = RNG.normal(size=4)                      # re-inserted: another order
    for _ in range(2):
        got = g(p, X, Y)
        assert list(got) == ["W1", "W2", "b2", "b1"]
        _check_tree(got, mlp, p, X, Y)


def test_bykey_dict_subclasses_take_their_own_path():
    g = s2sgrad.grad(mlp)
    p = _params()
    g(p, X, Y)
    g(p, X, Y)
    od = collections.OrderedDict((k, p[k]) for k in ("b2", "W1", "W2", "b1"))
    for _ in range(2):
        got = g(od, X, Y)
        assert list(got) == list(od)
        _check_tree(dict(got), mlp, dict(od), X, Y)

    class Plain(dict):
        pass
    for _ in range(2):
        _check_tree(g(Plain(p), X, Y), mlp, p, X, Y)


def test_differentiated_subclass_with_its_own_reads_is_refused():
    # its reads are not its entries: the gradient with respect to the values
    # read (what flattening gave) is not one with respect to the dict (it
    # was silently half the true one here)
    class Params(dict):
        def __getitem__(self, k):
            return dict.__getitem__(self, k) * 2.0

    class Rows(list):
        def __iter__(self):
            return iter([2.0 * v for v in list.__iter__(self)])

    def f(params, x):
        return np.sum(params["w"] ** 2 * x)

    def h(rows, x):
        return np.sum(rows[0] * x)
    x = np.ones(3)
    g = s2sgrad.grad(f)
    np.testing.assert_allclose(g({"w": np.ones(3)}, x)["w"], 2.0 * np.ones(3))
    for _ in range(2):
        with pytest.raises(s2sgrad.S2SGradError, match="__getitem__"):
            g(Params(w=np.ones(3)), x)
        with pytest.raises(s2sgrad.S2SGradError, match="__iter__"):
            s2sgrad.grad(h)(Rows([np.ones(3)]), x)
        with pytest.raises(s2sgrad.S2SGradError, match="__getitem__"):
            g({"w": np.ones(3), "sub": [Params(a=np.ones(2))]}, x)


def test_float32_and_repeated_leaf():
    def f(params, x):
        return np.sum(params["w"] * x + params["w"] ** 2 * params["s"])
    g = s2sgrad.grad(f)
    x = RNG.normal(size=3)
    for dt in (np.float64, np.float32):
        p = {"w": RNG.normal(size=3).astype(dt), "s": 0.7}
        for _ in range(2):
            got = g(p, x)
            assert got["w"].dtype == dt and type(got["s"]) is float
            want = _fd_tree(f, {"w": p["w"].astype(np.float64), "s": p["s"]}, x)
            tol = 1e-6 if dt is np.float64 else 1e-4
            np.testing.assert_allclose(got["w"], want["w"], rtol=tol, atol=tol)
            np.testing.assert_allclose(got["s"], want["s"], rtol=tol, atol=tol)
        q = {"s": 0.7, "w": p["w"]}                 # reordered, float leaf first
        for _ in range(2):
            got = g(q, x)
            assert list(got) == ["s", "w"]


# ---------------------------------------------------------------- settings


def settings_loss(w, x, cfg):
    r = np.sum((x @ w) ** 2)
    if cfg["mode"] == "mean":
        r = r / x.shape[0]
    if cfg["clip"] is not None:
        r = np.minimum(r, cfg["clip"])
    return r * cfg["scale"] + cfg["n"] * np.sum(w)


def _settings_plain(w, x, cfg):
    return settings_loss(w, x, cfg)


@pytest.mark.parametrize("mk", ["grad", "value_and_grad"])
def test_settings_mutated_in_place(mk):
    g = getattr(s2sgrad, mk)(settings_loss)
    w, x = RNG.normal(size=3), RNG.normal(size=(4, 3))
    cfg = {"mode": "mean", "clip": None, "scale": 0.5, "n": 1}
    changes = [("scale", 2.0), ("mode", "sum"), ("clip", 0.25), ("clip", None),
               ("n", 1.0), ("n", True), ("n", 2), ("n", np.float64(3.0)), ("mode", "mean"),
               ("scale", 1), ("scale", False)]
    for key, val in [(None, None)] + changes:
        if key is not None:
            cfg[key] = val
        for _ in range(2):
            r = g(w, x, cfg)
            grad = r if mk == "grad" else r[1]
            if mk == "value_and_grad":
                np.testing.assert_allclose(r[0], settings_loss(w, x, cfg), rtol=1e-12)
            np.testing.assert_allclose(grad, _fd(lambda v: settings_loss(v, x, cfg), w),
                                       rtol=1e-6, atol=1e-7)


def test_settings_key_order_and_subclass():
    g = s2sgrad.grad(settings_loss)
    w, x = RNG.normal(size=3), RNG.normal(size=(4, 3))
    cfgs = [{"mode": "mean", "clip": None, "scale": 0.5, "n": 1},
            {"n": 1, "scale": 0.5, "clip": None, "mode": "mean"},
            {"n": 2, "scale": 0.5, "clip": 0.1, "mode": "sum"},
            collections.OrderedDict(mode="sum", clip=None, scale=3.0, n=0),
            collections.defaultdict(lambda: None, mode="mean", scale=1.5, n=1)]
    for cfg in cfgs + cfgs[::-1]:
        for _ in range(2):
            np.testing.assert_allclose(g(w, x, cfg), _fd(lambda v: settings_loss(v, x, cfg), w),
                                       rtol=1e-6, atol=1e-7)


def test_settings_dict_with_array_mutated():
    def f(w, cfg):
        return np.sum(w * cfg["a"]) * cfg["k"]
    g = s2sgrad.grad(f)
    w = RNG.normal(size=3)
    cfg = {"a": RNG.normal(size=3), "k": 2.0}
    for val in (None, RNG.normal(size=3), np.ones(3, np.float32), 3.0):
        if val is not None:
            cfg["a"] = val
        for _ in range(2):
            got = g(w, cfg)
            np.testing.assert_allclose(got, np.broadcast_to(np.asarray(cfg["a"], np.float64) *
                                                            cfg["k"], (3,)), rtol=1e-6)


def test_fast_path_never_answers_another_shape():
    g = s2sgrad.grad(mlp)
    for n in (5, 2, 5, 7, 2):
        x, y = RNG.normal(size=(n, 3)), RNG.normal(size=(n, 2))
        p = _params()
        for _ in range(2):
            _check_tree(g(p, x, y), mlp, p, x, y)


def test_read_by_constant_keys_proof():
    # the syntax-tree proof the by-key form rests on
    def a(p, x):
        return p["w"] * x
    def b(p, x):
        return sum(p[k] for k in p) * x
    def c(p, x):
        q = p
        return q["w"] * x
    def d(p, x):
        return p.get("w") * x
    def e(p, x):
        return locals()["p"]["w"] * x
    assert api._read_by_constant_keys(a, "p")
    for fn in (b, c, d, e):
        assert not api._read_by_constant_keys(fn, "p")


def test_checked_runner_fallback_keeps_the_call_key_order():
    # an unspecialised runner (a settings dict) whose two gradients are one
    # array (d(a + b)): its run-time test fails, _s2s_finish copies one of
    # them -- and must give the dict the call's key order
    def f(params, cfg):
        r = np.sum(params["a"] + params["b"] * 0.0 + params["c"] ** 2)
        if cfg["flag"]:
            r = r * cfg["n"]
        return r
    g = s2sgrad.grad(f)
    p = {"a": RNG.normal(size=3), "b": RNG.normal(size=3), "c": RNG.normal(size=3)}
    cfg = {"flag": True, "n": 2}
    finished = []
    base = g._finish

    def spy(*a, **k):
        finished.append(1)
        return base(*a, **k)
    g._finish = spy
    for order in (("a", "b", "c"), ("c", "a", "b"), ("b", "c", "a"), ("a", "b", "c")):
        q = {k: p[k] for k in order}
        for n in (2, 3):
            cfg["n"] = n
            for _ in range(2):
                got = g(q, cfg)
                assert list(got) == list(order)
                want = _fd_tree(f, q, cfg)
                for k in q:
                    np.testing.assert_allclose(got[k], want[k], rtol=1e-6, atol=1e-7)
                ids = {id(v) for v in got.values()}
                assert len(ids) == 3 and not any(got[k] is q[k] for k in q)
    assert finished          # (the fallback ran)
    # every order was served by the one runner (the by-key test), so its
    # fallback, not the general path, gave the orders above
    assert len(g.__dict__["_fast"]) == 1 and "_s2s_len(params) == 3" in _fast_sources(g)[0]


def test_regroup_gives_the_call_key_order():
    td = s2sgrad.pytree.flatten({"a": 1.0, "b": 2.0})[1]
    out = api._regroup([10.0, 20.0], [0], [("p", {"b": 0.0, "a": 0.0})], {"p": ("tree", td)})
    assert list(out[0]) == ["b", "a"] and out[0] == {"a": 10.0, "b": 20.0}


@pytest.mark.parametrize("mk", ["grad", "value_and_grad"])
def test_bykey_dict_with_aux_and_two_wrt(mk):
    def f(params, x):
        z = np.tanh(x @ params["w"] + params["b"])
        return np.sum(z ** 2), z

    def loss(params, x):
        return f(params, x)[0]
    x = RNG.normal(size=(4, 3))
    p = {"w": RNG.normal(size=3), "b": RNG.normal(size=())}
    g = getattr(s2sgrad, mk)(f, has_aux=True)
    g2 = getattr(s2sgrad, mk)(lambda params, x: f(params, x)[0], wrt=(0, 1))
    for q in (p, {"b": p["b"], "w": p["w"]}, p):
        for _ in range(2):
            r = g(q, x)
            grads, aux = (r[1], r[0][1]) if mk == "value_and_grad" else r
            if mk == "value_and_grad":
                np.testing.assert_allclose(r[0][0], loss(q, x), rtol=1e-12)
            np.testing.assert_allclose(aux, np.tanh(x @ q["w"] + q["b"]), rtol=1e-12)
            _check_tree(grads, loss, q, x)
            r2 = g2(q, x)
            gp, gx = r2[1] if mk == "value_and_grad" else r2
            _check_tree(gp, loss, q, x)
            np.testing.assert_allclose(gx, _fd(lambda v: loss(q, v), x), rtol=1e-6, atol=1e-7)


def test_settings_item_type_changes_follow_numpy_promotion():
    # the specialisation knows a setting's type (int, float, np.float64,
    # np.float32, bool): a runner made for one type must not answer another
    def f(w, cfg):
        return np.sum(np.sin(w) * cfg["k"]) + cfg["k"] * np.sum(w ** 2)
    vg = s2sgrad.value_and_grad(f)
    w = RNG.normal(size=4).astype(np.float32)
    cfg = {"k": 2}
    for k in (2, 2.0, np.float64(2.0), np.float32(2.0), True, 2, np.float16(2.0), 3.5):
        cfg["k"] = k
        for _ in range(2):
            v, gw = vg(w, cfg)
            want = f(w, cfg)
            assert np.asarray(v).dtype == np.asarray(want).dtype, (k, v, want)
            np.testing.assert_allclose(v, want, rtol=1e-6)
            assert gw.dtype == np.float32
            np.testing.assert_allclose(gw, _fd(lambda u: f(u, cfg), w.astype(np.float64)),
                                       rtol=2e-3, atol=2e-3)


def test_settings_item_type_branch_is_refused_every_call():
    # a branch on a setting's type cannot be compiled (the item is read when
    # the code runs): refused with the line, on every call and every type
    def f(w, cfg):
        k = cfg["k"]
        if isinstance(k, bool):
            return np.sum(w ** 2)
        return np.sum(np.sin(w)) * k
    g = s2sgrad.grad(f)
    w = RNG.normal(size=3)
    for k in (True, 1, 1.0, True):
        for _ in range(2):
            with pytest.raises(s2sgrad.S2SGradError, match="isinstance"):
                g(w, {"k": k})
