"""perf-call15: two cuts of the fast call path of ``grad`` (issue 10, call
overhead), each tested where its fact fails on a later call.

1. A single gradient that the alias model proves new memory (a ufunc's
   result: ``_fresh_grads``) is returned after testing only its kind (exact
   ndarray, shape, dtype) -- not ``base is None``, ``flags.writeable`` (which
   builds an object per call) and ``is not`` each argument: ~850 instructions
   less per call.  A gradient that is not proven so (a broadcast view,
   ``unreduce``) keeps the full test.
2. A global that the guards test by name (``np``) and that the inlined
   generated body reads as its free variable of that name is renamed in the
   body (``_s2s_Gnp``, :func:`s2sgrad.api._free_renamed`): the guard reads the
   user's global with ``LOAD_GLOBAL`` instead of a dictionary read (~280
   instructions less).  The renaming happens only where the syntax trees
   prove it renames ``Name`` nodes and nothing else.

Every test compares the value with plain NumPy and the gradient with central
finite differences (float64), on the fast path and after a fact it relies on
is violated on a later call (another shape or dtype, an ndarray subclass, a
view, a read-only or non-native byte order array, a 0-d array vs a Python
float, float vs int vs bool, the global ``np`` rebound or deleted), and checks
that the result is a fresh writeable array sharing no memory with the
arguments or globals, and that the user's arguments are unmodified.
"""
import copy
import types

import numpy as np
import pytest

import s2sgrad
from s2sgrad import api

SCALE = np.array([1.5, -0.5, 2.0])
S = 0.75


def loss(w):
    # the gradient: a ufunc's result (fresh), its shape known only at run time
    # (SCALE is a global array: the specialisation does not fix its shape)
    return np.sum(np.tanh(w) * SCALE)


def loss_view(w):
    # the gradient: unreduce(S, w), a read-only broadcast view
    return np.sum(w) * S


def loss_np(w):
    h = np.tanh(w) * 0.5
    return np.sum(np.exp(h) * SCALE)


def _numgrad(f, w, eps=1e-6):
    w = np.asarray(w, dtype=np.float64)
    g = np.zeros_like(w)
    for i in np.ndindex(w.shape):
        a, b = w.copy(), w.copy()
        a[i] += eps
        b[i] -= eps
        g[i] = (f(a) - f(b)) / (2 * eps)
    return g


def _check(gf, f, w, rtol=1e-6, atol=1e-8, calls=3):
    """``calls`` calls of ``gf(w)`` (the first compiles, the later ones take
    the fast path): gradient vs finite differences, of the argument's kind,
    fresh and writeable, the argument unmodified; and value_and_grad's value
    vs the function itself."""
    before = copy.deepcopy(w)
    for _ in range(calls):
        r = gf(w)
        if isinstance(w, np.ndarray):
            assert type(r) is np.ndarray and r.shape == w.shape and r.dtype == w.dtype
            assert r.flags.writeable
            assert not np.shares_memory(r, w)
            assert not np.shares_memory(r, SCALE)
        else:
            assert type(r) is type(np.asarray(w).dtype.type(0)) or type(r) is type(w) or \
                isinstance(r, (float, np.floating))
        np.testing.assert_allclose(np.asarray(r, dtype=np.float64), _numgrad(f, w),
                                   rtol=rtol, atol=atol)
        if isinstance(w, np.ndarray):
            np.testing.assert_array_equal(w, before)
            assert w.dtype == before.dtype and w.shape == before.shape
        else:
            assert w == before
    v, r2 = s2sgrad.value_and_grad(f)(w)
    np.testing.assert_allclose(v, f(np.asarray(w, dtype=np.float64) if not isinstance(w, np.ndarray)
                                     else w), rtol=1e-5)
    return r


@pytest.fixture(autouse=True)
def _restore():
    global SCALE, S, np
    saved = SCALE, S, np
    yield
    SCALE, S, np = saved


def _runner_text(g):
    import linecache
    return "".join(linecache.getlines(type(g).__call__.__code__.co_filename))


# ------------------------------------------------------ 1. fresh single gradient


def test_fresh_gradient_tests_only_its_kind():
    g = s2sgrad.grad(loss)
    w = np.linspace(-1, 1, 3)
    _check(g, loss, w)
    entry = next(iter(g._fast.values()))
    assert "_s2s_r.dtype is _s2s_rt" in entry.source
    assert "flags.writeable" not in entry.source and "_s2s_r.base" not in entry.source
    assert api._fresh_grads(entry.sc.func, 1) == [True]


def test_view_gradient_keeps_the_full_test():
    global S
    g = s2sgrad.grad(loss_view)
    w = np.linspace(-1, 1, 4)
    for s in (0.75, -2.0, 3):
        S = s
        r = _check(g, loss_view, w)
        assert r.flags.writeable and r.flags.owndata
        r[0] = 123.0                      # a copy: the next call is not touched
        np.testing.assert_allclose(g(w), np.full(4, float(s)))
    entry = next(iter(g._fast.values()))
    assert "flags.writeable" in entry.source and "_s2s_r.base is None" in entry.source


@pytest.mark.parametrize("second", [
    "shape", "dtype32", "subclass", "view", "readonly", "byteorder", "fortran",
])
def test_fresh_gradient_violations_on_the_second_call(second):
    global SCALE
    g = s2sgrad.grad(loss)
    w = np.linspace(-1, 1, 3)
    _check(g, loss, w)
    if second == "shape":
        SCALE = np.ones((2, 3)) * [[1.0], [2.0]]        # the gradient is summed
        _check(g, loss, w)
        w2 = np.linspace(-1, 1, 6).reshape(2, 3)
        _check(g, loss, w2)
    elif second == "dtype32":
        w2 = w.astype(np.float32)
        r = _check(g, loss, w2, rtol=2e-3, atol=1e-4)
        assert r.dtype == np.float32
        SCALE = SCALE.astype(np.float32)
        _check(g, loss, w2, rtol=2e-3, atol=1e-4)
    elif second == "subclass":
        class Sub(np.ndarray):
            pass
        w2 = w.copy().view(Sub)
        r = g(w2)
        np.testing.assert_allclose(np.asarray(r), _numgrad(loss, np.asarray(w2)), rtol=1e-6)
        assert not np.shares_memory(r, w2)
    elif second == "view":
        base = np.linspace(-1, 1, 6)
        w2 = base[::2]
        _check(g, loss, w2)
        np.testing.assert_array_equal(base, np.linspace(-1, 1, 6))
    elif second == "readonly":
        w2 = w.copy()
        w2.flags.writeable = False
        r = _check(g, loss, w2)
        assert r.flags.writeable
    elif second == "byteorder":
        w2 = w.astype(">f8")
        r = g(w2)
        np.testing.assert_allclose(r, _numgrad(loss, w2.astype(np.float64)), rtol=1e-6)
        assert r.shape == w2.shape and not np.shares_memory(r, w2)
        np.testing.assert_array_equal(w2, w)
    elif second == "fortran":
        SCALE = np.asfortranarray(np.ones((3, 3)) * [[1.0], [2.0], [-1.0]])
        w2 = np.asfortranarray(np.linspace(-1, 1, 9).reshape(3, 3))
        _check(g, loss, w2)
    _check(g, loss, w)                  # and back: the first signature again


def test_fresh_gradient_scalar_kinds():
    # a Python float, int, bool and a 0-d array where an array was compiled
    g = s2sgrad.grad(lambda w: np.sum(np.tanh(w) * 2.0))
    f = lambda w: np.sum(np.tanh(w) * 2.0)  # noqa: E731
    w = np.linspace(-1, 1, 3)
    _check(g, f, w)
    r = g(0.3)
    assert type(r) is float
    np.testing.assert_allclose(r, _numgrad(f, np.array(0.3)), rtol=1e-6)
    r = g(np.array(0.3))
    assert isinstance(r, (np.ndarray, np.floating)) and np.shape(r) == ()
    np.testing.assert_allclose(r, _numgrad(f, np.array(0.3)), rtol=1e-6)
    for bad in (1, True):
        with pytest.raises(Exception):
            g(bad)                      # an int is not differentiable: refused, not a number
    _check(g, f, w)


def test_fresh_gradient_is_a_new_array_each_call():
    g = s2sgrad.grad(loss)
    w = np.linspace(-1, 1, 3)
    r1 = g(w)
    r2 = g(w)
    r3 = g(w)
    assert r2 is not r3 and not np.shares_memory(r2, r3)
    r2[:] = 99.0
    np.testing.assert_allclose(r3, r1)
    np.testing.assert_allclose(g(w), r1)


# ------------------------------------------------------ 2. the np guard renamed


def test_np_guard_reads_the_global_and_body_is_renamed():
    g = s2sgrad.grad(loss_np)
    w = np.linspace(-1, 1, 3)
    _check(g, loss_np, w)
    text = _runner_text(g)
    assert "_s2s_Gnp.exp(" in text or "_s2s_Gnp." in text
    assert "['np']" not in text                 # no dictionary read of the global
    assert "np is _s2g_e" in text               # the guard: LOAD_GLOBAL np
    # the comments (the user's lines) are untouched
    assert "# test_call15.py" in text and "np.tanh(w)" in text


def test_np_global_rebound_between_calls():
    global np
    g = s2sgrad.grad(loss_np)
    w = np.linspace(-1, 1, 3)
    _check(g, loss_np, w)
    real = np
    # a module-like namespace whose tanh is sin: the function now means sin
    fake = types.SimpleNamespace(**{k: getattr(real, k) for k in ("sum", "exp", "ndarray")})
    fake.tanh = real.sin
    np = fake
    try:
        r = g(w)
        want = real.array([(real.exp(real.sin(x) * 0.5) * 0.5 * real.cos(x)) for x in w]) * SCALE
        real.testing.assert_allclose(r, want, rtol=1e-10)
        r = g(w)
        real.testing.assert_allclose(r, want, rtol=1e-10)
    finally:
        np = real
    _check(g, loss_np, w)


def test_np_global_deleted_between_calls():
    global np
    g = s2sgrad.grad(loss_np)
    w = np.linspace(-1, 1, 3)
    _check(g, loss_np, w)
    real = np
    del globals()["np"]
    try:
        # (as the general path: the name the user's line reads, named)
        with pytest.raises((NameError, s2sgrad.errors.S2SGradError), match="'np'"):
            g(w)
    finally:
        np = real
    _check(g, loss_np, w)


def _renamed(lines, name="np", local=frozenset()):
    GL = {name: object()}

    class _P:
        root = ("global", GL, name)
    free = {name: GL[name], "other": 1}
    return api._free_renamed((list(lines), set(local) | {name}, free), [(_P, None)], GL, set())


def test_free_renamed_only_names():
    lines = ["# np.tanh(w) in a comment: kept", "h = np.tanh(x)  # np here too",
             "s = 'np'", "t = x.np", "return np.sum(h) + t"]
    out, local, free = _renamed(lines)
    assert out == ["# np.tanh(w) in a comment: kept", "h = _s2s_Gnp.tanh(x)  # np here too",
                   "s = 'np'", "t = x.np", "return _s2s_Gnp.sum(h) + t"]
    assert "_s2s_Gnp" in free and "np" not in free and "_s2s_Gnp" in local and "np" not in local


@pytest.mark.parametrize("line", ["y = f(np=1)", "g = lambda np: np", "def k(np):\n    return np",
                                  "import numpy as np", "global np"])
def test_free_renamed_refuses_other_uses(line):
    lines = ["h = np.tanh(x)"] + line.split("\n") + ["return np.sum(h)"]
    out, local, free = _renamed(lines)
    assert out == lines and "np" in free and "_s2s_Gnp" not in free


def test_free_renamed_keeps_the_source_map_lines():
    lines = ["if c:", "    h = np.tanh(x)", "else:", "    h = np.sin(x)", "return np.sum(h)"]
    out, _, _ = _renamed(lines)
    assert len(out) == len(lines)
    assert out[1] == "    h = _s2s_Gnp.tanh(x)" and out[3] == "    h = _s2s_Gnp.sin(x)"


def test_dict_params_fast_path_with_renamed_np():
    def mlp(params, X, y):
        h = np.tanh(X @ params["W1"] + params["b1"])
        return np.sum((h @ params["W2"] + params["b2"] - y) ** 2)

    rng = np.random.default_rng(15)
    P = {"W1": rng.normal(size=(3, 4)), "b1": rng.normal(size=4),
         "W2": rng.normal(size=(4, 2)), "b2": rng.normal(size=2)}
    X, Y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    g = s2sgrad.grad(mlp)
    saved = copy.deepcopy(P)
    for _ in range(3):
        r = g(P, X, Y)
        assert list(r) == list(P)
        for k in P:
            def fk(v, k=k):
                return mlp(dict(P, **{k: v}), X, Y)
            np.testing.assert_allclose(r[k], _numgrad(fk, P[k]), rtol=1e-5, atol=1e-7)
            assert not np.shares_memory(r[k], P[k])
        for k in P:
            np.testing.assert_array_equal(P[k], saved[k])
    assert "_s2s_Gnp" in _runner_text(g)
    # keys in another order, a float32 leaf, a missing key: still right
    P2 = {k: P[k] for k in ("b2", "W2", "b1", "W1")}
    r = g(P2, X, Y)
    assert list(r) == list(P2)
    np.testing.assert_allclose(r["W1"], g(P, X, Y)["W1"], rtol=1e-12)
    P3 = dict(P, b1=P["b1"].astype(np.float32))
    r = g(P3, X, Y)
    assert r["b1"].dtype == np.float32
    with pytest.raises((KeyError, s2sgrad.errors.S2SGradError), match="b1"):
        g({k: P[k] for k in ("W1", "W2", "b2")}, X, Y)
    r = g(P, X, Y)                      # and the first signature again
    np.testing.assert_allclose(r["b2"], g(P2, X, Y)["b2"], rtol=1e-12)


# ------------------------------------------------------ 1b. a loop's carry


def loop_loss(w, n):
    h = w
    for _ in range(n):
        h = np.sin(h) * SCALE
    return np.sum(h * 2.0)


def loop_sum(w, n):
    # the gradient's carry starts as unreduce(1.0, w): a read-only broadcast view
    h = w
    for _ in range(n):
        h = np.sin(h)
    return np.sum(h)


def _loop_grad(f, w, n):
    return _numgrad(lambda v: f(v, n), w)


def test_loop_carried_gradient_tests_only_its_kind():
    g = s2sgrad.grad(loop_loss)
    w = np.linspace(-1, 1, 3)
    for n in (2, 2, 2, 3, 3, 3):
        r = g(w, n)
        assert r.flags.writeable and not np.shares_memory(r, w)
        np.testing.assert_allclose(r, _loop_grad(loop_loss, w, n), rtol=1e-6, atol=1e-8)
    entry = g._fast[next(k for k in g._fast)]
    assert "flags.writeable" not in entry.source
    assert api._fresh_grads(entry.sc.func, 1, loops=True) == [True]
    # the violations: other shapes (SCALE grows: the gradient is summed), dtype, a view
    global SCALE
    SCALE = np.ones((2, 3)) * [[1.0], [2.0]]
    r = g(w, 2)
    np.testing.assert_allclose(r, _loop_grad(loop_loss, w, 2), rtol=1e-6, atol=1e-8)
    SCALE = np.array([1.5, -0.5, 2.0])
    w32 = w.astype(np.float32)
    r = g(w32, 2)
    assert r.dtype == np.float32
    np.testing.assert_allclose(r, _loop_grad(loop_loss, w, 2), rtol=2e-3, atol=1e-4)
    base = np.linspace(-1, 1, 6)
    r = g(base[::2], 2)
    np.testing.assert_allclose(r, _loop_grad(loop_loss, base[::2].copy(), 2), rtol=1e-6)
    np.testing.assert_array_equal(base, np.linspace(-1, 1, 6))
    assert not np.shares_memory(r, base)


@pytest.mark.parametrize("count", [int, np.int64])
def test_loop_carry_from_a_view_keeps_the_full_test(count):
    g = s2sgrad.grad(loop_sum)
    w = np.linspace(-1, 1, 4)
    for n in (0, 0, 0, 2, 2, 2, 0, 0, 1):
        r = g(w, count(n))
        assert type(r) is np.ndarray and r.shape == w.shape and r.dtype == w.dtype
        assert r.flags.writeable and not np.shares_memory(r, w)
        np.testing.assert_allclose(r, _loop_grad(loop_sum, w, n), rtol=1e-6, atol=1e-8)
        r[:] = 7.0                      # a copy of its own: the next call is untouched
    for entry in g._fast.values():
        if not api._fresh_grads(entry.sc.func, 1, loops=True)[0]:
            assert "flags.writeable" in entry.source or "_s2s_finish" in entry.source
