"""Every argument mix on the call's fast path (``api._FastCall``), with each
guard kept: a dict of settings passed as data (int/bool/str/None/float
items) beside a dict of parameters; the run-time test that lets gradients
that the specialisation could not prove fresh be returned as they are
(``_FastCall._checked``); ``x is None`` of a setting read when the code runs.

Every case compares the value with plain NumPy and the gradient with central
differences (float64), and calls again with a changed setting, key set, key
order, item type, dtype and shape: each call gives that call's answer, and
returned gradients never share memory with an argument or each other."""
import numpy as np
import pytest

from s2sgrad import grad, value_and_grad

RNG = np.random.default_rng(10)
X = RNG.standard_normal((5, 3))
Y = RNG.standard_normal((5, 2))


def params(dtype=np.float64):
    return {"W1": RNG.standard_normal((3, 4)).astype(dtype),
            "b1": RNG.standard_normal(4).astype(dtype),
            "W2": RNG.standard_normal((4, 2)).astype(dtype),
            "b2": RNG.standard_normal(2).astype(dtype)}


def mlp(p, X, y):
    h = np.tanh(X @ p["W1"] + p["b1"])
    return np.sum((h @ p["W2"] + p["b2"] - y) ** 2)


def mlp_cfg(p, X, y, cfg):
    r = mlp(p, X, y)
    if cfg["flag"]:
        r = r * cfg["n"]
    return r


def mlp_settings(p, X, y, cfg):
    r = mlp(p, X, y)
    if cfg["mode"] == "mean":
        r = r / y.size
    if cfg["clip"] is not None:
        r = np.minimum(r, cfg["clip"])
    return r * cfg["scale"]


def clip_is_none(w, cfg):
    r = np.sum(w ** 2)
    if cfg["clip"] is None:
        r = r * 2.0
    return r


def hot(g):
    return "__call__" in type(g).__dict__


def fd_tree(f, p, rest, eps=1e-6):
    out = {}
    for k, v in p.items():
        g = np.zeros_like(v, dtype=float)
        for i in np.ndindex(v.shape):
            up = {kk: vv.astype(float).copy() for kk, vv in p.items()}
            dn = {kk: vv.astype(float).copy() for kk, vv in p.items()}
            up[k][i] += eps
            dn[k][i] -= eps
            g[i] = (f(up, *rest) - f(dn, *rest)) / (2 * eps)
        out[k] = g
    return out


def fd_arr(f, x, rest, eps=1e-6):
    g = np.zeros_like(x, dtype=float)
    for i in np.ndindex(x.shape):
        up, dn = x.astype(float).copy(), x.astype(float).copy()
        up[i] += eps
        dn[i] -= eps
        g[i] = (f(up, *rest) - f(dn, *rest)) / (2 * eps)
    return g


def check_tree(got, p, want, rtol=1e-6, atol=1e-8):
    assert type(got) is dict and list(got) == list(p)
    for k in p:
        assert type(got[k]) is np.ndarray and got[k].dtype == p[k].dtype
        assert got[k].shape == p[k].shape
        np.testing.assert_allclose(got[k], want[k], rtol=rtol, atol=atol)
        assert not any(np.shares_memory(got[k], v) for v in p.values())
    ks = list(got)
    for i in range(len(ks)):
        for j in range(i + 1, len(ks)):
            assert not np.shares_memory(got[ks[i]], got[ks[j]])


# ---------------------------------------------------------------- is None of a setting


def test_is_none_of_a_setting_is_tested_when_the_code_runs():
    # (was folded to False while compiling: a silently wrong gradient for clip=None)
    g = grad(clip_is_none)
    w = RNG.standard_normal(3)
    for clip in (None, 1.0, None, 2.0, None):
        for _ in range(3):
            got = g(w, {"clip": clip})
            want = fd_arr(clip_is_none, w, ({"clip": clip},))
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
            np.testing.assert_allclose(got, (4.0 if clip is None else 2.0) * w, rtol=1e-12)


def test_is_not_none_of_a_setting_with_minimum():
    def f(w, cfg):
        r = np.sum(w ** 2)
        if cfg["clip"] is not None:
            r = np.minimum(r, cfg["clip"])
        return r
    vg = value_and_grad(f)
    w = np.array([0.5, -1.0, 2.0])              # sum of squares 5.25
    for clip in (None, 10.0, 1.0, None):
        for _ in range(3):
            v, got = vg(w, {"clip": clip})
            assert v == pytest.approx(f(w, {"clip": clip}), rel=1e-12)
            np.testing.assert_allclose(got, fd_arr(f, w, ({"clip": clip},)), rtol=1e-6,
                                       atol=1e-8)


def test_is_none_of_a_list_item_and_a_tuple_item():
    def f(w, opts):
        r = np.sum(np.sin(w))
        if opts[0] is None:
            r = r * 3.0
        if opts[1] is not None:
            r = r + opts[1] * np.sum(w)
        return r
    g = grad(f)
    w = RNG.standard_normal(4)
    for opts in ([None, None], [1, 2.5], (None, 0.5), (2.0, None), [None, None]):
        for _ in range(2):
            np.testing.assert_allclose(g(w, opts), fd_arr(f, w, (opts,)), rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------- settings dicts


def test_settings_dict_takes_a_fast_runner_and_a_changed_setting_its_new_value():
    g, vg = grad(mlp_cfg), value_and_grad(mlp_cfg)
    p = params()
    for cfg in ({"flag": True, "n": 3}, {"flag": True, "n": 5}, {"flag": False, "n": 5},
                {"flag": True, "n": 2}):
        want_g = fd_tree(mlp_cfg, p, (X, Y, cfg))
        want_v = mlp_cfg(p, X, Y, cfg)
        for _ in range(3):
            check_tree(g(p, X, Y, cfg), p, want_g)
            v, gv = vg(p, X, Y, cfg)
            assert v == pytest.approx(want_v, rel=1e-12)
            check_tree(gv, p, want_g)
        assert hot(g) and hot(vg), "a settings dict did not get a fast runner"
    # the same runner serves every value of a setting (the items are read
    # when the code runs; the runner tests their types)
    runners = set(g._fast)
    g(p, X, Y, {"flag": True, "n": 7})
    assert set(g._fast) == runners


def test_settings_with_str_none_and_float_items():
    g = grad(mlp_settings)
    p = params()
    for cfg in ({"mode": "mean", "clip": None, "scale": 0.5},
                {"mode": "sum", "clip": None, "scale": 0.5},
                {"mode": "mean", "clip": 0.01, "scale": 2.0},
                {"mode": "mean", "clip": None, "scale": 1.5}):
        want = fd_tree(mlp_settings, p, (X, Y, cfg))
        for _ in range(3):
            check_tree(g(p, X, Y, cfg), p, want)
    assert hot(g)


@pytest.mark.parametrize("cfg2", [
    {"n": 3, "flag": True},                      # key order changed
    {"flag": True, "n": 3, "extra": 1},          # key set changed
    {"flag": True, "n": 2.5},                    # an int setting now a float
    {"flag": True, "n": np.float32(1.5)},        # now a NumPy scalar
    {"flag": True, "n": np.array([1.0, 2.0])},   # now an array (the result broadcasts)
    {"flag": 1, "n": 3},                         # a bool setting now an int
])
def test_changed_settings_structure_gives_that_calls_answer(cfg2):
    p = params()
    g = grad(mlp_cfg)
    cfg = {"flag": True, "n": 3}
    for _ in range(3):
        check_tree(g(p, X, Y, cfg), p, fd_tree(mlp_cfg, p, (X, Y, cfg)))
    f2 = mlp_cfg
    if isinstance(cfg2["n"], np.ndarray):
        def f2(p, X, y, cfg):                   # (grad needs a scalar: summed)
            return np.sum(mlp_cfg(p, X, y, cfg))
        g = grad(f2)
        g(p, X, Y, cfg)
        g(p, X, Y, cfg)
    for _ in range(3):
        check_tree(g(p, X, Y, cfg2), p, fd_tree(f2, p, (X, Y, cfg2)))
        check_tree(g(p, X, Y, cfg), p, fd_tree(f2, p, (X, Y, cfg)))


def test_settings_float32_params_give_float32_gradients():
    g = grad(mlp_cfg)
    p32 = params(np.float32)
    p64 = {k: v.astype(np.float64) for k, v in p32.items()}
    cfg = {"flag": True, "n": 2}
    for _ in range(3):
        got = g(p32, X.astype(np.float32), Y.astype(np.float32), cfg)
        want = g(p64, X, Y, cfg)
        for k in p32:
            assert got[k].dtype == np.float32
            np.testing.assert_allclose(got[k], want[k], rtol=2e-4, atol=2e-4)
    check_tree(g(p64, X, Y, cfg), p64, fd_tree(mlp_cfg, p64, (X, Y, cfg)))


def test_data_dict_of_arrays_and_nested_settings():
    def f(w, data):
        z = data["X"] @ w
        if data["opt"]["square"]:
            z = z ** 2
        return np.sum(z * data["opt"]["k"]) + np.sum(data["y"] * w[0])
    g = grad(f)
    w = RNG.standard_normal(3)
    for data in ({"X": X, "y": Y, "opt": {"square": True, "k": 2}},
                 {"X": X, "y": Y, "opt": {"square": False, "k": 0.5}},
                 {"X": X[:2], "y": Y, "opt": {"square": True, "k": 1}},     # another shape
                 {"X": X.astype(np.float32), "y": Y, "opt": {"square": True, "k": 1}}):
        for _ in range(3):
            got = g(w, data)
            np.testing.assert_allclose(got, fd_arr(f, w, (data,)), rtol=1e-5, atol=1e-6)
            assert got.dtype == np.float64 and not np.shares_memory(got, data["X"])
    assert hot(g)


def test_tuple_of_functions_and_matrix_in_data_keep_the_general_path():
    def f(w, ops):
        return np.sum(ops[0](w) * ops[1](w))
    g = grad(f)
    w = RNG.standard_normal(3)
    # a tuple of functions is keyed by identity (resolved while compiling)
    for ops in ((np.sin, np.cos), (np.cos, np.cos), (np.sin, np.cos)):
        for _ in range(3):
            np.testing.assert_allclose(g(w, ops), fd_arr(f, w, (ops,)), rtol=1e-6, atol=1e-8)
    # an np.matrix inside a data dict is refused on every call, hot runner or not
    h = grad(lambda w, d: np.sum(w * d["m"]))
    for _ in range(3):
        np.testing.assert_allclose(h(w, {"m": np.ones(3)}), np.ones(3))
    assert hot(h)
    with pytest.raises(Exception, match="np.matrix"):
        h(w, {"m": np.matrix(np.ones(3))})


# ---------------------------------------------------------------- the checked return


def test_gradient_that_is_an_argument_is_copied_with_several_wrt():
    def f(w, b, v):
        return np.sum(w * v) + np.sum(b)
    g = grad(f, wrt=(0, 1))
    w, b, v = RNG.standard_normal(3), RNG.standard_normal(2), RNG.standard_normal(3)
    for _ in range(4):
        gw, gb = g(w, b, v)
        np.testing.assert_allclose(gw, v, rtol=1e-12)
        np.testing.assert_allclose(gb, np.ones(2))
        assert gw is not v and not np.shares_memory(gw, v)
        gw[0] = 123.0                     # the caller's own array
        assert v[0] != 123.0


def test_gradient_that_is_an_array_in_a_data_dict_is_copied():
    def f(w, b, d):
        return np.sum(w * d["v"]) + np.sum(b * d["k"])
    g = grad(f, wrt=(0, 1))
    v = RNG.standard_normal(3)
    d = {"v": v, "k": 2}
    w, b = RNG.standard_normal(3), RNG.standard_normal(2)
    for _ in range(4):
        gw, gb = g(w, b, d)
        np.testing.assert_allclose(gw, v, rtol=1e-12)
        np.testing.assert_allclose(gb, 2.0 * np.ones(2))
        assert not np.shares_memory(gw, v) and not np.shares_memory(gw, gb)


def test_two_gradients_that_are_one_array_are_separated():
    def f(w, b, cfg):
        return np.sum((w + b) * cfg["k"])
    g = grad(f, wrt=(0, 1))
    vg = value_and_grad(f, wrt=(0, 1))
    w, b = RNG.standard_normal(3), RNG.standard_normal(3)
    for k in (2, 3.0, 2):
        for _ in range(3):
            gw, gb = g(w, b, {"k": k})
            np.testing.assert_allclose(gw, k * np.ones(3))
            np.testing.assert_allclose(gb, k * np.ones(3))
            assert not np.shares_memory(gw, gb)
            v, (gw, gb) = vg(w, b, {"k": k})
            assert v == pytest.approx(np.sum((w + b) * k), rel=1e-12)
            assert not np.shares_memory(gw, gb)


def test_value_and_grad_value_of_settings_call_is_the_loss():
    vg = value_and_grad(mlp_settings)
    p = params()
    cfg = {"mode": "sum", "clip": None, "scale": 0.25}
    for _ in range(3):
        v, gv = vg(p, X, Y, cfg)
        assert type(v) in (float, np.float64)
        assert v == pytest.approx(mlp_settings(p, X, Y, cfg), rel=1e-12)
        check_tree(gv, p, fd_tree(mlp_settings, p, (X, Y, cfg)))


def test_shape_and_dtype_changes_with_settings_take_the_checked_path():
    g = grad(mlp_cfg)
    cfg = {"flag": True, "n": 2}
    p = params()
    for _ in range(3):
        g(p, X, Y, cfg)
    p2 = {"W1": p["W1"][:2], "b1": p["b1"], "W2": p["W2"], "b2": p["b2"]}
    for _ in range(3):
        check_tree(g(p2, X[:, :2], Y, cfg), p2, fd_tree(mlp_cfg, p2, (X[:, :2], Y, cfg)))
        check_tree(g(p, X, Y, cfg), p, fd_tree(mlp_cfg, p, (X, Y, cfg)))
