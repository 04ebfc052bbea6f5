"""The call's fast path for containers of parameters (``api._FastCall``):
``grad(loss)(params, X, y)`` with ``params`` a dict (list, tuple, nested,
OrderedDict) of arrays and scalars runs a generated runner that checks the
container's type, keys in order, length and every leaf's kind, and rebuilds
the gradient container.  It must give exactly what the full path gives --
values and gradients compared with NumPy and central differences -- and take
the full path whenever the container differs from the compiled one."""
import collections

import numpy as np
import pytest

import s2sgrad
from s2sgrad import grad, value_and_grad

RNG = np.random.default_rng(7)
X = RNG.standard_normal((6, 3))
Y = RNG.standard_normal((6, 2))


def params0():
    return {"W1": RNG.standard_normal((3, 4)), "b1": RNG.standard_normal(4),
            "W2": RNG.standard_normal((4, 2)), "b2": RNG.standard_normal(2)}


def mlp(params, X, y):
    h = np.tanh(X @ params["W1"] + params["b1"])
    z = h @ params["W2"] + params["b2"]
    return np.mean((z - y) ** 2)


def mlp_np(params, X, y):
    h = np.tanh(X @ params["W1"] + params["b1"])
    return np.mean((h @ params["W2"] + params["b2"] - y) ** 2)


def mlp_aux(params, X, y):
    h = np.tanh(X @ params["W1"] + params["b1"])
    z = h @ params["W2"] + params["b2"]
    return np.mean((z - y) ** 2), np.sum(h)


def mlp_reg(params, X, y, lam=0.1):
    h = np.tanh(X @ params["W1"] + params["b1"])
    z = h @ params["W2"] + params["b2"]
    return np.mean((z - y) ** 2) + lam * params["s"] * np.sum(params["W1"] ** 2)


def nested(params, X):
    h = np.tanh(X @ params["l1"]["W"] + params["l1"]["b"])
    return np.sum((h @ params["l2"]["W"]) ** 2) * params["scale"]


def layers(ws, X):
    h = X
    for w in ws:
        h = np.tanh(h @ w)
    return np.sum(h ** 2)


def pair(wb, X):
    w, b = wb
    return np.sum(np.sin(X @ w + b))


def fd_grad(f, params, *rest, eps=1e-6):
    """Central differences of ``f`` in every leaf of the container ``params``
    (dict, list or tuple; nested dicts)."""
    def leaves(p, path=()):
        items = p.items() if isinstance(p, dict) else enumerate(p)
        for k, v in items:
            if isinstance(v, (dict, list, tuple)):
                yield from leaves(v, path + (k,))
            else:
                yield path + (k,), v

    def put(p, path, v):
        if len(path) == 1:
            if isinstance(p, tuple):
                return tuple(v if i == path[0] else x for i, x in enumerate(p))
            q = p.copy()
            q[path[0]] = v
            return q
        q = p.copy() if not isinstance(p, tuple) else list(p)
        q[path[0]] = put(p[path[0]], path[1:], v)
        return tuple(q) if isinstance(p, tuple) else q

    out = {}
    for path, v in leaves(params):
        a = np.array(v, dtype=float)
        g = np.zeros_like(a)
        for i in np.ndindex(a.shape):
            up, dn = a.copy(), a.copy()
            up[i] += eps
            dn[i] -= eps
            fu = f(put(params, path, up if a.ndim else float(up)), *rest)
            fd = f(put(params, path, dn if a.ndim else float(dn)), *rest)
            g[i] = (fu - fd) / (2 * eps)
        out[path] = g
    return out


def check_tree(got, want_fd, path=()):
    items = got.items() if isinstance(got, dict) else enumerate(got)
    for k, v in items:
        if isinstance(v, (dict, list, tuple)):
            check_tree(v, want_fd, path + (k,))
        else:
            np.testing.assert_allclose(v, want_fd[path + (k,)], rtol=1e-6, atol=1e-8)


def same(a, b):
    """``a`` and ``b`` equal in structure, container types, keys in order,
    leaf types, shapes, dtypes and values."""
    assert type(a) is type(b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            same(x, y)
    else:
        assert np.shape(a) == np.shape(b) and getattr(a, "dtype", None) == getattr(b, "dtype", None)
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=0)


def hot(g):
    """Whether calling ``g`` runs a fast runner (api._GradBase._set_hot)."""
    return "__call__" in type(g).__dict__


def run_both(make, *args, **kwargs):
    """The full path's answer (a fresh transformation's first call) and a
    transformation called three times (compile, register, fast path)."""
    want = make()(*args, **kwargs)
    g = make()
    for _ in range(3):
        got = g(*args, **kwargs)
        same(got, want)
    return g, got


STRUCTS = {
    "dict": (mlp, lambda: (params0(), X, Y)),
    "dict, float leaf": (mlp_reg, lambda: (dict(params0(), s=0.7), X, Y)),
    "dict, np.float64 leaf": (mlp_reg, lambda: (dict(params0(), s=np.float64(0.7)), X, Y)),
    "dict, np.float32 leaf": (mlp_reg, lambda: (dict(params0(), s=np.float32(0.7)), X, Y)),
    "nested dict": (nested, lambda: ({"l1": {"W": RNG.standard_normal((3, 4)),
                                             "b": RNG.standard_normal(4)},
                                      "l2": {"W": RNG.standard_normal((4, 2))},
                                      "scale": 1.5}, X)),
    "list": (layers, lambda: ([RNG.standard_normal((3, 4)), RNG.standard_normal((4, 2))], X)),
    "tuple": (pair, lambda: ((RNG.standard_normal((3, 2)), RNG.standard_normal(2)), X)),
    "OrderedDict": (mlp, lambda: (collections.OrderedDict(params0()), X, Y)),
}


@pytest.mark.parametrize("name", list(STRUCTS))
def test_container_fast_path_gives_the_full_paths_values_and_gradients(name):
    f, make_args = STRUCTS[name]
    args = make_args()
    g, got = run_both(lambda: grad(f), *args)
    assert hot(g), "the container call did not get a fast runner"
    check_tree(got, fd_grad(f, *args))
    # value_and_grad: the value is the function's
    vg, (v, gv) = run_both(lambda: value_and_grad(f), *args)
    assert hot(vg)
    assert v == pytest.approx(f(*args), rel=1e-13)
    same(gv, got)
    # gradients with respect to the container and the data
    g2, (gp, gx) = run_both(lambda: grad(f, wrt=(0, 1)), *args)
    assert hot(g2)
    same(gp, got)
    assert gx.shape == X.shape


def test_container_fast_path_has_aux_keywords_and_defaults():
    p = params0()
    g, (gr, aux) = run_both(lambda: grad(mlp_aux, has_aux=True), p, X, Y)
    assert hot(g)
    check_tree(gr, fd_grad(lambda q, a, b: mlp_aux(q, a, b)[0], p, X, Y))
    assert aux == pytest.approx(mlp_aux(p, X, Y)[1], rel=1e-13)
    q = dict(p, s=0.5)
    for call in (lambda g: g(q, X, Y), lambda g: g(q, X, Y, 0.3), lambda g: g(q, X, y=Y, lam=0.3),
                 lambda g: g(params=q, y=Y, X=X), lambda g: g(q, X, Y, lam=np.float64(0.3))):
        want = call(grad(mlp_reg))
        g = grad(mlp_reg)
        for _ in range(3):
            same(call(g), want)
        assert g.__dict__.get("_fast"), "no fast path registered"
    check_tree(grad(mlp_reg)(q, X, Y, lam=0.3), fd_grad(lambda a, b, c: mlp_reg(a, b, c, 0.3), q, X, Y))


def test_container_changed_between_calls_takes_the_right_path():
    g = grad(mlp)
    p = params0()
    for _ in range(3):
        g(p, X, Y)
    assert hot(g)

    def check(params):
        got = g(params, X, Y)
        same(got, grad(mlp)(params, X, Y))          # a fresh transformation: the full path
        check_tree(got, fd_grad(mlp, params, X, Y))
        return got

    # a key added (unused: its gradient is zero), then removed again
    extra = dict(p, c=np.ones(3))
    got = check(extra)
    assert list(got) == ["W1", "b1", "W2", "b2", "c"] and not got["c"].any()
    got = check(p)
    assert list(got) == ["W1", "b1", "W2", "b2"]
    # the same keys in another order: the gradient in the call's order
    rev = {k: p[k] for k in reversed(list(p))}
    assert list(check(rev)) == list(reversed(list(p)))
    # a leaf replaced by another shape, another dtype
    check(dict(p, b1=RNG.standard_normal((1, 4))))
    got32 = g(dict(p, W1=p["W1"].astype(np.float32)), X, Y)
    assert got32["W1"].dtype == np.float32 and got32["b1"].dtype == np.float64
    # a leaf changed in place (values): the numbers follow
    p["W2"][0, 0] += 1.0
    check(p)
    # a leaf's shape changed in place: a.shape = ...
    q = params0()
    check(q)
    q["b1"].shape = (1, 4)
    check(q)
    # the same array under two keys: two gradients, each its own array
    w = RNG.standard_normal((3, 4))
    twice = {"W1": w, "b1": p["b1"], "W2": p["W2"], "b2": p["b2"]}

    def shared(params, X, y):
        return mlp(params, X, y) + np.sum(params["V"] * params["W1"])
    gs = grad(shared)
    both = dict(twice, V=w)
    for _ in range(3):
        got = gs(both, X, Y)
        same(got, grad(shared)(both, X, Y))
        check_tree(got, fd_grad(shared, both, X, Y))
        assert not np.shares_memory(got["V"], got["W1"]) and not np.shares_memory(got["V"], w)
    # a dict's subclass: the full path (its methods may differ); same numbers
    class Params(dict):
        pass
    sub = Params(p)
    got = check(sub)
    assert type(got) is dict
    # an OrderedDict: a plain dict back, as the full path gives
    od = collections.OrderedDict(p)
    assert type(check(od)) is dict


def test_containers_are_fresh_and_mutations_by_the_user_are_seen():
    g = grad(mlp)
    p = params0()
    first = g(p, X, Y)
    a = g(p, X, Y)
    b = g(p, X, Y)
    assert hot(g)
    assert a is not b and all(a[k] is not b[k] for k in a)
    for k in p:
        assert not np.shares_memory(a[k], p[k])
    # the user changes the returned gradient and the parameters' dict itself
    a["W1"][...] = 0.0
    a["new"] = 1.0
    same(g(p, X, Y), first)
    p["W1"] = p["W1"] - 0.1 * first["W1"]               # an SGD step: a new array, same kind
    got = g(p, X, Y)
    same(got, grad(mlp)(p, X, Y))
    del p["b2"]
    with pytest.raises(s2sgrad.S2SGradError, match="'b2'"):   # compiling for it names the key
        g(p, X, Y)


def test_list_and_tuple_lengths_and_kinds_are_checked():
    g = grad(layers)
    ws = [RNG.standard_normal((3, 4)), RNG.standard_normal((4, 2))]
    for _ in range(3):
        g(ws, X)
    longer = ws + [RNG.standard_normal((2, 2))]
    got = g(longer, X)
    assert len(got) == 3
    check_tree(got, fd_grad(layers, longer, X))
    got = g(tuple(ws), X)                               # a tuple: a tuple back
    assert type(got) is tuple
    check_tree(got, fd_grad(layers, tuple(ws), X))
    got = g(ws, X)
    assert type(got) is list
    check_tree(got, fd_grad(layers, ws, X))



def mixed_defaults(params, w, lam, n, shift=0.0, tag=None):
    """Every kind of parameter of a runner with defaults: a container, an
    array, a float, a static int, a float default, a None default."""
    s = np.sum((X @ params["W"] - shift) ** 2) + lam * np.sum(w ** 2)
    for _ in range(n):
        s = s + np.sum(params["b"] * w[:2])
    return s if tag is None else 2.0 * s


@pytest.mark.parametrize("missing", ["params", "w", "lam", "n"])
def test_hot_runner_with_defaults_reports_a_missing_argument_of_any_kind(missing):
    # a parameter not passed is bound to the runner's marker, which no kind
    # test accepts: the general path runs and raises Python's own TypeError
    # naming the parameter, and nothing is returned from the fast path
    p = {"W": RNG.standard_normal((3, 2)), "b": RNG.standard_normal(2)}
    w = RNG.standard_normal(3)
    g = grad(mixed_defaults, wrt=("params", "w", "lam"))
    full = dict(params=p, w=w, lam=0.5, n=2)
    want = g(**full)
    g(**full)
    kw = {k: v for k, v in full.items() if k != missing}
    with pytest.raises(TypeError, match=f"'{missing}'"):
        g(**kw)
    # the runner still answers the full call, with the values of the full path
    got = g(**full)
    np.testing.assert_array_equal(got[0]["W"], want[0]["W"])
    np.testing.assert_array_equal(got[0]["b"], want[0]["b"])
    np.testing.assert_array_equal(got[1], want[1])
    assert got[2] == want[2] and type(got[2]) is float
    # and against central differences (the float's gradient)
    h = 1e-6
    fd = (mixed_defaults(p, w, 0.5 + h, 2) - mixed_defaults(p, w, 0.5 - h, 2)) / (2 * h)
    np.testing.assert_allclose(got[2], fd, rtol=1e-6)
    fd_w = np.array([(mixed_defaults(p, w + h * e, 0.5, 2) - mixed_defaults(p, w - h * e, 0.5, 2))
                     / (2 * h) for e in np.eye(3)])
    np.testing.assert_allclose(got[1], fd_w, rtol=1e-6)
    # a default passed explicitly (and a None default given a value) goes on working
    np.testing.assert_allclose(g(p, w, 0.5, 2, 0.0, None)[1], want[1], rtol=1e-12)
    np.testing.assert_allclose(g(p, w, 0.5, 2, tag="x")[1], 2 * want[1], rtol=1e-12)
