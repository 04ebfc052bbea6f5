"""The public API end to end: grad / value_and_grad / vjp / check_grads,
argument handling, dtypes, caching, generated-source properties, errors."""
import linecache
import traceback
import weakref

import numpy as np
import pytest

import s2sgrad
from s2sgrad import grad, jvp, value_and_grad, vjp

RNG = np.random.default_rng(3)
X = RNG.standard_normal((20, 3))
Y = np.sign(RNG.standard_normal(20))
W = RNG.standard_normal(3)


def loss(w, X, y, lam=0.1):
    margin = y * (X @ w)
    return np.mean(np.log1p(np.exp(-margin))) + lam * np.sum(w ** 2)


def loss_grad_by_hand(w, X, y, lam=0.1):
    margin = y * (X @ w)
    s = -1.0 / (1.0 + np.exp(margin))
    return X.T @ (s * y) / len(y) + 2 * lam * w


# ---------------------------------------------------------------- the example

def test_logistic_loss_gradient_matches_hand_written():
    np.testing.assert_allclose(grad(loss)(W, X, Y), loss_grad_by_hand(W, X, Y), rtol=1e-12)


def test_source_ir_and_wrapped():
    g = grad(loss)
    g(W, X, Y)
    assert "def loss_grad(w, X, y, lam):" in g.source
    compile(g.source, "<test>", "exec")
    assert "matmul(" in str(g.ir)
    assert g.__wrapped__ is loss
    assert g.__name__ == "loss"


@pytest.mark.parametrize("wrt,expect", [
    (1, "X"), ("lam", "lam"), ((0, 2), ("w", "y")), (("w", "lam"), ("w", "lam")), (-1, "lam")])
def test_wrt_forms(wrt, expect):
    g = grad(loss, wrt=wrt)(W, X, Y, 0.3)
    names = ["w", "X", "y", "lam"]
    args = {"w": W, "X": X, "y": Y, "lam": 0.3}
    if isinstance(expect, tuple):
        assert isinstance(g, tuple) and len(g) == len(expect)
        for gi, n in zip(g, expect):
            assert np.shape(gi) == np.shape(args[n])
    else:
        assert np.shape(g) == np.shape(args[expect])
    s2sgrad.check_grads(loss, (W, X, Y, 0.3), wrt=wrt)
    assert names  # parameter names used above


def test_decorator_with_options_and_kwargs():
    @grad(wrt=(0, 1))
    def f(a, b, scale=2.0):
        return np.sum(a * b) * scale

    ga, gb = f(np.ones(2), np.arange(2.0), scale=3.0)
    np.testing.assert_allclose(ga, [0.0, 3.0])
    np.testing.assert_allclose(gb, [3.0, 3.0])


def test_value_and_grad():
    v, g = value_and_grad(loss)(W, X, Y)
    assert v == pytest.approx(loss(W, X, Y))
    np.testing.assert_allclose(g, loss_grad_by_hand(W, X, Y))
    v, (g0, g3) = value_and_grad(loss, wrt=(0, 3))(W, X, Y, lam=0.5)
    assert g3 == pytest.approx(np.sum(W ** 2))


def test_vjp_non_scalar_output():
    def f(x, A):
        return np.tanh(A @ x)
    x, A = RNG.standard_normal(3), RNG.standard_normal((4, 3))
    out, pullback = vjp(f, wrt=(0, 1))(x, A)
    np.testing.assert_allclose(out, f(x, A))
    ct = RNG.standard_normal(4)
    gx, gA = pullback(ct)
    d = (1 - np.tanh(A @ x) ** 2) * ct
    np.testing.assert_allclose(gx, A.T @ d)
    np.testing.assert_allclose(gA, np.outer(d, x))
    # the pullback can be called again with another cotangent
    gx2, _ = pullback(2 * ct)
    np.testing.assert_allclose(gx2, 2 * gx)


# ---------------------------------------------------------------- dtypes and scalars

def test_float32_in_float32_out():
    g = grad(loss)(W.astype(np.float32), X.astype(np.float32), Y.astype(np.float32))
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, loss_grad_by_hand(W, X, Y), rtol=1e-4, atol=1e-6)


def test_python_float_gives_float():
    g = grad(lambda x: x ** 3 + 2.0 * x)(2.0)
    assert type(g) is float and g == pytest.approx(14.0)


def test_numpy_scalar_keeps_type():
    g = grad(lambda x: x * x)(np.float32(3.0))
    assert isinstance(g, np.float32) and g == pytest.approx(6.0)


def test_zero_d_array_and_size_one_output():
    g = grad(lambda x: (x * 2.0).reshape(1))(np.array(1.5))
    assert np.shape(g) == () and g == pytest.approx(2.0)


def test_repeated_use_of_a_variable():
    # gradients add at branches: d/dx (x*x + x) = 2x + 1
    assert grad(lambda x: x * x + x)(3.0) == pytest.approx(7.0)


def test_output_not_depending_on_input_gives_zeros():
    g = grad(lambda x, y: np.sum(y ** 2), wrt=0)(np.ones(3), np.ones(2))
    np.testing.assert_array_equal(g, np.zeros(3))


def test_gradient_does_not_alias_inputs():
    y = np.arange(3.0)
    g = grad(lambda x, y: np.sum(x * y))(np.ones(3), y)
    g += 1.0
    np.testing.assert_array_equal(y, np.arange(3.0))


def test_caller_arrays_unchanged():
    Xc, Wc = X.copy(), W.copy()
    grad(loss, wrt=(0, 1))(W, X, Y)
    np.testing.assert_array_equal(X, Xc)
    np.testing.assert_array_equal(W, Wc)


# ---------------------------------------------------------------- names, globals, caching

OFFSET = 1.0


def uses_global(x):
    return np.sum((x - OFFSET) ** 2)


def test_global_is_read_live():
    global OFFSET
    g = grad(uses_global)
    np.testing.assert_allclose(g(np.zeros(2)), [-2.0, -2.0])
    OFFSET = 3.0
    try:
        np.testing.assert_allclose(g(np.zeros(2)), [-6.0, -6.0])
    finally:
        OFFSET = 1.0


def test_import_spellings_resolve_to_the_same_primitive():
    import numpy
    from numpy import exp as e

    def f1(x):
        return numpy.sum(e(x))

    def f2(x):
        return np.sum(np.exp(x))
    x = RNG.standard_normal(3)
    np.testing.assert_allclose(grad(f1)(x), grad(f2)(x))


def test_compiled_once_and_cached():
    g = grad(loss)
    g(W, X, Y)
    n = len(g._cache)
    generic = g._last
    for _ in range(3):
        g(W * 2, X, Y)
    assert len(g._cache) == n and g._last is generic
    # the repeated signature runs one specialisation, compiled once
    spec = g._last_run
    src = g.source
    g(W * 3, X, Y)
    assert g._last_run is spec and g.source is src


def test_generated_source_is_deterministic():
    a = grad(loss)
    b = grad(loss)
    a(W, X, Y)
    b(W, X, Y)
    assert a.source == b.source


def test_generated_lines_in_tracebacks():
    g = grad(lambda x, A: np.sum(A @ x))
    with pytest.raises(ValueError) as info:
        g(np.ones(3), np.ones((2, 4)))
    tb = "".join(traceback.format_exception(info.type, info.value, info.tb))
    assert "<s2sgrad" in tb
    fname = [f.filename for f in traceback.extract_tb(info.tb) if f.filename.startswith("<s2s")][0]
    assert linecache.getline(fname, 2).strip() != ""


def test_comments_point_to_user_lines():
    g = grad(loss)
    g(W, X, Y)
    line = loss.__code__.co_firstlineno + 1
    assert f"test_api.py:{line}: margin = y * (X @ w)" in g.source
    assert f"adjoint of test_api.py:{line}" in g.source


# ---------------------------------------------------------------- errors

def test_non_scalar_output_points_to_vjp():
    with pytest.raises(TypeError, match="vjp"):
        grad(lambda x: x * 2.0)(np.ones(3))


def test_tuple_output_needs_has_aux():
    with pytest.raises(s2sgrad.S2SGradError, match="has_aux"):
        grad(lambda x: (np.sum(x), x))(np.ones(3))


def test_integer_argument_refused():
    with pytest.raises(TypeError, match="integer"):
        grad(lambda x: x * 2)(3)
    with pytest.raises(TypeError, match="integer"):
        grad(lambda x: np.sum(x * 2.0))(np.arange(3))


@pytest.mark.parametrize("wrt,exc", [(5, ValueError), ("nope", ValueError), (1.5, TypeError),
                                     ((0, 0), ValueError), (True, TypeError)])
def test_bad_wrt(wrt, exc):
    with pytest.raises(exc):
        grad(loss, wrt=wrt)


def test_not_callable():
    with pytest.raises(TypeError):
        grad(42)


def _unknown(x):
    return np.sum(np.packbits(x > 0) * x)


def _unresolved(x):
    return np.sum(x * not_defined_anywhere)  # noqa: F821


def _generator(x):
    yield x


async def _async(x):
    return x


@pytest.mark.parametrize("fn,cls,words", [
    (_unknown, s2sgrad.UnknownFunctionError, "packbits"),
    (_unresolved, s2sgrad.UnresolvedNameError, "not_defined_anywhere"),
    (_generator, s2sgrad.UnsupportedSyntaxError, "generator"),
    (_async, s2sgrad.UnsupportedSyntaxError, "async"),
])
def test_compile_errors_name_file_line_and_construct(fn, cls, words):
    with pytest.raises(cls) as info:
        grad(fn)(np.ones(3))
    msg = str(info.value)
    assert "test_api.py:" in msg and words in msg
    assert isinstance(info.value, s2sgrad.S2SGradError)


def test_source_not_found_says_how_to_fix():
    ns = {"np": np}
    exec("def f(x):\n    return np.sum(x * x)\n", ns)
    with pytest.raises(s2sgrad.SourceNotFoundError, match="source"):
        grad(ns["f"])(np.ones(2))


def test_unknown_method_and_attribute():
    with pytest.raises(s2sgrad.S2SGradError, match="tofile"):
        grad(lambda x: x.tofile("x"))(np.ones(2))


def test_check_grads_raises_on_a_wrong_gradient():
    from s2sgrad.check import GradientCheckError
    s2sgrad.check_grads(loss, (W, X, Y))
    # floor() has derivative 0, but over eps = 1e-4 the staircase of step 1e-6
    # looks like the identity to finite differences: the two must disagree
    with pytest.raises(GradientCheckError):
        s2sgrad.check_grads(lambda x: np.sum(np.floor(x * 1e6) / 1e6 * x), (np.ones(3) * 0.3,),
                            eps=1e-4)


def test_stop_gradient():
    from s2sgrad import stop_gradient

    def lse(z):
        m = stop_gradient(np.max(z))
        return m + np.log(np.sum(np.exp(z - m)))
    z = RNG.standard_normal(5)
    g = grad(lse)(z)
    np.testing.assert_allclose(g, np.exp(z) / np.sum(np.exp(z)))   # softmax
    assert "np.max" not in grad(lse).source.split("adjoint")[-1]
    assert grad(lambda x: stop_gradient(x) * x)(3.0) == pytest.approx(3.0)


# ---------------------------------------------------------------- the call's fast path
#
# A call whose argument signature (kinds, shapes, dtypes, keyword names) was
# seen before runs a small generated runner (api._FastCall) instead of
# binding and checking; it must give exactly what the full path gives.


def _slow(fn, *args, **kwargs):
    """What the full path returns (a fresh transformation, first call)."""
    return fn(*args, **kwargs)


@pytest.mark.parametrize("call", [
    lambda g: g(W, X, Y, 0.3),                         # a Python float
    lambda g: g(W, X, Y, np.float64(0.3)),             # a NumPy scalar
    lambda g: g(W, X, Y),                              # a default
    lambda g: g(W, X=X, y=Y, lam=0.3),                 # keywords
    lambda g: g(W, lam=0.3, y=Y, X=X),                 # keywords in another order
    lambda g: g(w=W, X=X, y=Y),                        # all by keyword, a default
])
@pytest.mark.parametrize("make", [
    lambda: grad(loss), lambda: grad(loss, wrt=(0, 3)), lambda: grad(loss, wrt="lam"),
    lambda: value_and_grad(loss), lambda: value_and_grad(loss, wrt=(0, 1)),
    lambda: grad(loss, wrt=(0,))])
def test_fast_path_gives_what_the_full_path_gives(call, make):
    want = call(make())
    g = make()
    for _ in range(3):                                 # compile, register, fast path
        got = call(g)
        assert type(got) is type(want)
        for a, b in zip(np.atleast_1d(got) if not isinstance(got, tuple) else got,
                        np.atleast_1d(want) if not isinstance(want, tuple) else want):
            for x, y in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
                assert type(x) is type(y) and np.shape(x) == np.shape(y)
                np.testing.assert_allclose(x, y, rtol=1e-13)
    assert g.__dict__.get("_fast"), "no fast path registered"


def test_fast_path_switches_signatures_and_keeps_results_fresh():
    g = grad(loss, wrt=(0, 3))
    X2, Y2 = X[:7], Y[:7]
    first = g(W, X, Y, 0.5)
    for _ in range(3):
        a = g(W, X, Y, 0.5)
        b = g(W, X2, Y2, 0.5)
        c = g(W, X2, Y2, np.float32(0.5))
        np.testing.assert_allclose(a[0], first[0], rtol=1e-14)
        assert a[0] is not first[0] and type(a[1]) is float and type(c[1]) is np.float32
        np.testing.assert_allclose(b[0], grad(loss, wrt=(0, 3))(W, X2, Y2, 0.5)[0], rtol=1e-14)
    # .source is the code the last call ran (specialised to its shapes)
    g(W, X, Y, 0.5)
    src20 = g.source
    g(W, X2, Y2, 0.5)
    src7 = g.source
    assert src7 != src20
    g(W, X, Y, 0.5)
    assert g.source == src20


def static_loop(x, n, scale=None):
    s = 0.0
    for i in range(n):
        s = s + np.sum(x * i)
    return s if scale is None else s * scale


def test_fast_path_keys_static_ints_and_none_by_value():
    g = grad(static_loop)
    x = np.ones(3)
    for n in (2, 3, 2, 3):
        np.testing.assert_allclose(g(x, n), np.full(3, n * (n - 1) / 2))
    np.testing.assert_allclose(g(x, 3, 2.0), np.full(3, 6.0))
    np.testing.assert_allclose(g(x, 3), np.full(3, 3.0))


def test_fast_path_refuses_other_kinds():
    g = grad(loss)
    g(W, X, Y)
    g(W, X, Y)
    with pytest.raises(TypeError):
        g(W, X, Y, 1, 2)                             # too many arguments: the full path's error
    with pytest.raises(s2sgrad.S2SGradError):
        g(W.astype(int), X, Y)                       # an integer argument to differentiate
    with pytest.raises(TypeError):
        g(W, X, Y, bogus=1)                          # an unknown keyword
    np.testing.assert_allclose(g(W, X, Y), loss_grad_by_hand(W, X, Y), rtol=1e-12)


def test_fast_path_wrong_call_names_the_users_function():
    # the hot runner has the user's signature: Python's own message names it
    g = grad(loss)
    g(W, X, Y)
    g(W, X, Y)
    # (loss has a default: a missing argument is reported by the general
    # path's binding, which names it too)
    with pytest.raises(TypeError, match=r"^loss\(\):? .*argument.*'X'"):
        g(W)
    with pytest.raises(TypeError, match=r"^loss\(\):? got an unexpected keyword argument 'bogus'"):
        g(W, X, Y, bogus=1)


def test_copies_of_a_transformation_run_on_their_own():
    import copy
    import gc
    # what was alive before is frozen: the collection below (which frees
    # the original, a cycle of objects made here) does not traverse the
    # whole heap of a long test session
    gc.freeze()
    try:
        _copies_run_on_their_own(copy, gc)
    finally:
        gc.unfreeze()


def _copies_run_on_their_own(copy, gc):
    g = grad(loss)
    want = loss_grad_by_hand(W, X, Y)
    np.testing.assert_allclose(g(W, X, Y), want, rtol=1e-12)
    np.testing.assert_allclose(g(W, X, Y), want, rtol=1e-12)       # hot
    g2, g3 = copy.copy(g), copy.deepcopy(g)
    assert type(g2) is not type(g) and isinstance(g2, type(g).__mro__[1])
    g4 = type(g)(loss)                               # a new transformation of its own
    assert type(g4) is type(g).__mro__[1] and g4._last is None
    np.testing.assert_allclose(g4(W, X, Y), want, rtol=1e-12)
    assert g4._last is not None
    dead = weakref.ref(g)
    del g
    gc.collect()
    assert dead() is None                            # (the original is gone)
    for h in (g2, g3, g2, g3):                       # the original gone: copies still run
        np.testing.assert_allclose(h(W, X, Y), want, rtol=1e-12)
        np.testing.assert_allclose(h(W, X[:5], Y[:5]), loss_grad_by_hand(W, X[:5], Y[:5]),
                                   rtol=1e-12)


SQUARE = True


def _maybe_squared(z):
    if SQUARE:                     # a global flag: compiled as a constant, guarded
        return z * z
    return z


def _param_named_like_a_global(w, SQUARE):
    # the parameter hides the global here; the helper reads the global
    return np.sum(_maybe_squared(w)) * SQUARE


def test_fast_path_guard_of_a_global_named_like_a_parameter():
    global SQUARE
    g = grad(_param_named_like_a_global)
    w = np.array([1.0, -2.0])
    try:
        for square in (True, True, True, False, False, True, True):
            SQUARE = square
            want = (2 * w if square else np.ones_like(w)) * 5.0
            np.testing.assert_allclose(g(w, 5.0), want, rtol=1e-13)
    finally:
        SQUARE = True


# ---------------------------------------------------------------- a value returned twice


def _twice(x):
    return x, x


def _twice_in_containers(x):
    y = x * 2.0
    return {"a": y, "b": [y, x]}


def _list_of_tuple(x):
    return list((x, x))


@pytest.mark.parametrize("f, ct, want", [
    (_twice, (1.0, 10.0), 11.0),
    (_twice_in_containers, {"a": 1.0, "b": [10.0, 100.0]}, 122.0),
    (_list_of_tuple, [1.0, 10.0], 11.0),
], ids=["tuple", "containers", "list-of-tuple"])
def test_vjp_sums_the_cotangents_of_a_value_returned_twice(f, ct, want):
    # each output's cotangent reaches the value (the autograd port found the
    # second one replacing the first)
    out, pullback = vjp(f)(1.5)
    assert pullback(ct) == want
    assert jvp(f)((1.5,), (1.0,))[1] == jax_like_tangent(f)


def jax_like_tangent(f):
    # the tangent of each output, by finite differences of f (all outputs linear in x)
    a, b = s2sgrad.pytree.flatten(f(1.0))[0], s2sgrad.pytree.flatten(f(2.0))[0]
    return s2sgrad.pytree.unflatten(s2sgrad.pytree.flatten(f(1.0))[1],
                                    [q - p for p, q in zip(a, b)])


def test_vjp_has_aux():
    def f(x, y):
        z = np.sin(x) * y
        return z, {"norm": np.sum(z ** 2), "first": z[0]}
    x, y = RNG.standard_normal(3), RNG.standard_normal(3)
    out, pullback, aux = vjp(f, wrt=(0, 1), has_aux=True)(x, y)
    np.testing.assert_allclose(out, np.sin(x) * y)
    assert set(aux) == {"norm", "first"}
    np.testing.assert_allclose(aux["norm"], np.sum((np.sin(x) * y) ** 2))
    ct = RNG.standard_normal(3)
    gx, gy = pullback(ct)
    np.testing.assert_allclose(gx, ct * np.cos(x) * y)
    np.testing.assert_allclose(gy, ct * np.sin(x))
    # without has_aux, the pair is the output and the pullback wants a pair
    out2, pb2 = vjp(f)(x, y)
    assert isinstance(out2, tuple) and len(out2) == 2
    with pytest.raises(s2sgrad.OutputError, match="has_aux=True"):
        vjp(lambda x: np.sin(x), has_aux=True)(x)


def _norm_ord(x, p=3.0):
    return np.linalg.norm(x, ord=p)


def test_fast_path_checks_the_value_of_a_static_float():
    # ord= is compiled for its value (the rule needs a constant): a call with
    # another float must not run the code compiled for the first one
    g = grad(_norm_ord)
    x = np.array([1.0, -2.0, 3.0])
    for p in (3.0, 3.0, 3.0, 2.0, 2.0, 4.0, 3.0, 3.0):
        want = np.sign(x) * np.abs(x) ** (p - 1) / np.sum(np.abs(x) ** p) ** ((p - 1) / p)
        np.testing.assert_allclose(g(x, p), want, rtol=1e-12)
        np.testing.assert_allclose(g(x, p=p), want, rtol=1e-12)
    assert g.__dict__.get("_fast")


def _sqrt_loss(x, y):
    return np.sum(np.sqrt(x) * y)             # the line an error in the hot runner names


def _counting_full_path(monkeypatch):
    """How many calls took the full path (``_GradBase._call``) so far."""
    calls = []
    full = s2sgrad.api._GradBase._call

    def counted(self, args, kwargs):
        calls.append(1)
        return full(self, args, kwargs)
    monkeypatch.setattr(s2sgrad.api._GradBase, "_call", counted)
    return calls


def test_hot_runner_inlines_the_generated_statements_and_names_the_users_line(monkeypatch):
    # a small generated function runs as the hot runner's own statements;
    # an error they raise still names the user's statement
    g = grad(_sqrt_loss)
    x, y = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 2.0])
    calls = _counting_full_path(monkeypatch)
    for _ in range(3):
        np.testing.assert_allclose(g(x, y), 0.5 * y / np.sqrt(x), rtol=1e-15)
    assert len(calls) == 1
    (entry,) = g._fast.values()
    hot = entry.source.split("def _s2s_hot")[1]
    assert "_s2s_fn(" not in hot and "np.sqrt(x" in hot                  # inlined
    line = _sqrt_loss.__code__.co_firstlineno + 1
    with np.errstate(invalid="raise", divide="raise"):
        with pytest.raises(FloatingPointError) as info:
            g(np.array([1.0, -2.0, 3.0]), y)
    assert len(calls) == 1                                  # raised by the hot runner
    note = "\n".join(getattr(info.value, "__notes__", [])) or str(info.value)
    assert f"test_api.py:{line}: return np.sum(np.sqrt(x) * y)" in note, note
    assert "fast path of _sqrt_loss" in note
    # the traceback shows the generated line
    assert "np.sqrt(x" in "".join(traceback.format_exception(info.value))
    np.testing.assert_allclose(g(x, y), 0.5 * y / np.sqrt(x), rtol=1e-15)


def test_inlining_refuses_what_the_runner_could_not_run_as_its_own():
    import types
    from s2sgrad.api import _inlinable

    def made(src):
        ns = {}
        exec(compile(src, "<test inline>", "exec"), {"np": np}, ns)
        return types.SimpleNamespace(fn=next(iter(ns.values())), source=src, filename="-")
    ok = made("def f_grad(x, y):\n    # a comment\n    t = x * y\n    return t\n")
    lines, local, free = _inlinable(ok, ["x", "y"])
    assert lines == ["# a comment", "t = x * y", "return t"] and "t" in local and free == {}
    for src in ("def f_grad(x, y):\n    x = x * y\n    return x\n",         # a parameter rebound
                "def f_grad(x, y):\n    del y\n    return x\n",             # or deleted
                "def f_grad(x, y):\n    if x:\n        return y\n    return x\n",   # two returns
                "def f_grad(x, y):\n    _s2s_ok = x\n    return y\n",          # a runner's name
                'def f_grad(x, y):\n    s = """a\nb"""\n    return x\n'):      # a string over lines
        assert _inlinable(made(src), ["x", "y"]) is None, src
    assert _inlinable(ok, ["y", "x"]) is None                                  # other parameters


class _SubArray(np.ndarray):
    pass


def test_hot_runner_still_rejects_another_shape_dtype_or_array_type(monkeypatch):
    g = grad(loss)
    want = loss_grad_by_hand(W, X, Y)
    g(W, X, Y)
    calls = _counting_full_path(monkeypatch)
    np.testing.assert_allclose(g(W, X, Y), want, rtol=1e-12)
    assert not calls
    others = [
        ((W, X[:7], Y[:7]), loss_grad_by_hand(W, X[:7], Y[:7])),            # a shape
        ((W.astype(np.float32), X, Y), None),                                # a dtype
        ((W.view(_SubArray), X, Y), want),                                   # an array subclass
        ((W, X, Y, np.float32(0.1)), None),                                  # a scalar type
    ]
    for args, expect in others:
        n = len(calls)
        got = g(*args)
        assert len(calls) == n + 1, args                   # not the runner of W, X, Y
        ref = grad(loss)(*args)
        assert type(got) is type(ref) and got.dtype == ref.dtype
        np.testing.assert_allclose(got, ref, rtol=1e-6 if ref.dtype == np.float32 else 1e-13)
        if expect is not None:
            np.testing.assert_allclose(got, expect, rtol=1e-12)
        np.testing.assert_allclose(g(W, X, Y), want, rtol=1e-12)


def test_keyword_and_numpy_scalar_calls_take_the_hot_runner(monkeypatch):
    for call in (lambda g: g(W, X=X, y=Y, lam=np.float64(0.3)),
                 lambda g: g(W, X, Y, np.float64(0.3)),
                 lambda g: g(W, y=Y, lam=0.3, X=X)):
        g = value_and_grad(loss)
        want = call(value_and_grad(loss))
        call(g)
        calls = _counting_full_path(monkeypatch)
        for _ in range(3):
            got = call(g)
            assert type(got[0]) is type(want[0])
            np.testing.assert_allclose(got[0], want[0], rtol=1e-15)
            np.testing.assert_allclose(got[1], want[1], rtol=1e-15)
        assert not calls
        monkeypatch.undo()


@pytest.mark.parametrize("lam", [np.float64(0.3), np.float32(0.3), 0.3])
def test_gradient_of_a_numpy_scalar_on_the_hot_runner(monkeypatch, lam):
    # the gradient of a NumPy-scalar argument is converted to its type by the
    # runner itself (as the full path's _fix_grad does), not by _finish
    g = grad(loss, wrt=(0, 3))
    want = grad(loss, wrt=(0, 3))(W, X, Y, lam)
    g(W, X, Y, lam)
    finished = []
    full = s2sgrad.api._GradBase._finish
    monkeypatch.setattr(s2sgrad.api._GradBase, "_finish",
                        lambda *a: finished.append(1) or full(*a))
    calls = _counting_full_path(monkeypatch)
    for _ in range(3):
        got = g(W, X, Y, lam)
        assert type(got[1]) is type(want[1]) is type(lam)
        assert got[1] == want[1]
        np.testing.assert_array_equal(got[0], want[0])
    assert not calls and not finished
    assert type(g(W, X, Y, np.float16(0.3))[1]) is np.float16          # another scalar type


def _aux_leaf(w, X, y):
    z = X @ w
    return np.mean((z - y) ** 2), z


def _aux_dict(w, X, y):
    z = X @ w
    loss = np.mean((z - y) ** 2)
    return loss, {"z": z, "loss": loss, "w": w}


def _aux_tuple(w, X, y):
    z = X @ w
    return np.mean((z - y) ** 2), (z,)


def _aux_nested(w, X, y):
    z = X @ w
    return np.mean((z - y) ** 2), {"a": [z, w], "b": 1.5}


@pytest.mark.parametrize("f", [_aux_leaf, _aux_dict, _aux_tuple, _aux_nested])
@pytest.mark.parametrize("make", [lambda f: grad(f, has_aux=True),
                                  lambda f: value_and_grad(f, has_aux=True),
                                  lambda f: grad(f, wrt=(0, 1), has_aux=True)])
def test_has_aux_on_the_hot_runner(monkeypatch, f, make):
    # (gradient, aux) built by the runner itself where aux is flat, as _finish builds it
    want = make(f)(W, X, Y)
    g = make(f)
    g(W, X, Y)
    finished = []
    full = s2sgrad.api._GradBase._finish
    monkeypatch.setattr(s2sgrad.api._GradBase, "_finish",
                        lambda *a: finished.append(1) or full(*a))
    for _ in range(3):
        got = g(W, X, Y)
        leaves_got, tree_got = s2sgrad.pytree.flatten(got)
        leaves_want, tree_want = s2sgrad.pytree.flatten(want)
        assert tree_got == tree_want
        for a, b in zip(leaves_got, leaves_want):
            assert type(a) is type(b)
            np.testing.assert_array_equal(a, b)
        if f is _aux_dict:                            # an argument returned as aux is itself
            vg = isinstance(g, s2sgrad.api.ValueAndGradFunction)
            assert (got[0][1] if vg else got[1])["w"] is W
    assert bool(finished) == (f is _aux_nested)       # a nested aux: through _finish


def test_hot_runner_guard_reads_a_global_named_like_a_generated_variable():
    # the inlined statements bind `np` privately; the guard of the user's
    # global `np` must still read the global
    import types
    fake = types.SimpleNamespace(**{k: getattr(np, k) for k in ("sum", "sin", "cos")})
    fake.sin = np.cos
    scope = {"np": np}
    src, name = "def f(x):\n    return np.sum(np.sin(x))\n", "<test_api guard of np>"
    linecache.cache[name] = (len(src), None, src.splitlines(True), name)
    exec(compile(src, name, "exec"), scope)
    g = grad(scope["f"])
    x = np.array([0.1, 0.2, 0.3])
    for _ in range(3):
        np.testing.assert_allclose(g(x), np.cos(x), rtol=1e-15)
    scope["np"] = fake                                       # np.sin is now cos
    for _ in range(2):
        np.testing.assert_allclose(g(x), -np.sin(x), rtol=1e-15)


def _appended_list(x):
    out = []
    for i in range(3):
        out.append(x * i)
    return out, np.sum(x)


def _split_one_piece(x):
    return [p * 2.0 for p in np.split(x, 1, axis=1)]


def _split_no_points(x):
    (a,) = np.array_split(x, [])
    (b,) = np.hsplit(x, 1)
    return np.sum(a * b)


def test_vjp_of_a_list_built_at_run_time():
    # a list appended to in a loop (or np.split into one piece) is one leaf of
    # the output tree; its cotangent, a list of that length, was refused
    x = np.arange(6.0).reshape(2, 3)
    out, pb = vjp(_appended_list)(x)
    assert len(out[0]) == 3
    np.testing.assert_array_equal(pb(([np.ones((2, 3))] * 3, 1.0)), np.full((2, 3), 4.0))
    with pytest.raises(ValueError, match="structure of its output"):
        pb(([np.ones((2, 3))] * 2, 1.0))
    out, pb = vjp(_split_one_piece)(x)
    np.testing.assert_array_equal(out[0], 2 * x)
    np.testing.assert_array_equal(pb([np.ones((2, 3))]), np.full((2, 3), 2.0))
    np.testing.assert_array_equal(grad(_split_no_points)(x), 2 * x)


def test_grad_of_a_numpy_callable_itself():
    # grad(np.sinc) as JAX's grad(jnp.sinc): differentiated through a wrapper
    assert grad(np.sinc)(0.0) == 0.0
    np.testing.assert_allclose(grad(grad(np.sinc))(0.0), -np.pi ** 2 / 3, rtol=1e-12)
    np.testing.assert_allclose(grad(np.arctan2, wrt=1)(1.0, 2.0), -0.2, rtol=1e-12)
    out, dot = jvp(np.sin)((0.5,), (2.0,))
    np.testing.assert_allclose(dot, 2 * np.cos(0.5), rtol=1e-12)
    assert grad(np.sinc).fn is grad(np.sinc).fn      # one wrapper per callable
