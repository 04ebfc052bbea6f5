"""Forward mode: ``s2sgrad.jvp`` and the ``jvp_func`` transformation."""
import ast
import collections

import numpy as np
import pytest

import s2sgrad
from s2sgrad import grad, jvp, vjp
from s2sgrad.check import GradientCheckError
from s2sgrad.forward import jvp_func, linearize
from s2sgrad.ir import verify
from s2sgrad.lower import lower_function

RNG = np.random.default_rng(7)


def fd_jvp(f, args, wrt, tangents, eps=1e-6, **kwargs):
    """Central differences of f along the tangents (all wrt args moved together)."""
    def moved(t):
        a = list(args)
        for w, v in zip(wrt, tangents):
            leaves, td = s2sgrad.pytree.flatten(a[w])
            vl, _ = s2sgrad.pytree.flatten(v)
            a[w] = s2sgrad.pytree.unflatten(td, [x + t * d for x, d in zip(leaves, vl)])
        return f(*a, **kwargs)
    plus, minus = moved(eps), moved(-eps)
    lp, td = s2sgrad.pytree.flatten(plus)
    lm, _ = s2sgrad.pytree.flatten(minus)
    return s2sgrad.pytree.unflatten(td, [(np.asarray(p) - np.asarray(m)) / (2 * eps)
                                         for p, m in zip(lp, lm)])


def assert_tree_close(a, b, rtol=1e-6, atol=1e-8):
    la, ta = s2sgrad.pytree.flatten(a)
    lb, tb = s2sgrad.pytree.flatten(b)
    assert ta == tb
    for x, y in zip(la, lb):
        np.testing.assert_allclose(x, y, rtol=rtol, atol=atol)


# ---------------------------------------------------------------- values


def sin_x(x):
    return x * np.sin(x)


def test_scalar_input():
    f = jvp(sin_x)
    for x in (0.3, -1.2, 2.5):
        out, dot = f((x,), (1.0,))
        assert out == pytest.approx(x * np.sin(x))
        assert dot == pytest.approx(np.sin(x) + x * np.cos(x))
        out, dot = f((x,), (2.0,))
        assert dot == pytest.approx(2 * (np.sin(x) + x * np.cos(x)))


def mlp(W, b, x):
    h = np.tanh(x @ W + b)
    return np.sum(h ** 2) / 2.0


def test_array_inputs_by_position_name_and_tuple():
    W, b, x = RNG.standard_normal((3, 4)), RNG.standard_normal(4), RNG.standard_normal((5, 3))
    dW, db = RNG.standard_normal((3, 4)), RNG.standard_normal(4)
    out, dot = jvp(mlp)((W, b, x), (dW,))
    assert out == pytest.approx(mlp(W, b, x))
    assert dot == pytest.approx(fd_jvp(mlp, (W, b, x), [0], [dW]), rel=1e-6)
    _, dot_b = jvp(mlp, wrt="b")((W, b, x), (db,))
    assert dot_b == pytest.approx(fd_jvp(mlp, (W, b, x), [1], [db]), rel=1e-6)
    _, dot_both = jvp(mlp, wrt=(0, "b"))((W, b, x), (dW, db))
    assert dot_both == pytest.approx(dot + dot_b, rel=1e-10)
    # agrees with the gradient: <grad, v>
    gW = grad(mlp)(W, b, x)
    assert dot == pytest.approx(np.sum(gW * dW), rel=1e-10)


def dict_model(params, x):
    z = x @ params["W"] + params["b"]
    return np.sum(np.log1p(np.exp(z)))


def test_pytree_inputs():
    params = {"W": RNG.standard_normal((3, 2)), "b": RNG.standard_normal(2)}
    x = RNG.standard_normal((4, 3))
    t = {"W": RNG.standard_normal((3, 2)), "b": RNG.standard_normal(2)}
    out, dot = jvp(dict_model)((params, x), (t,))
    assert out == pytest.approx(dict_model(params, x))
    assert dot == pytest.approx(fd_jvp(dict_model, (params, x), [0], [t]), rel=1e-6)


Pair = collections.namedtuple("Pair", "a b")


def pair_fn(p):
    a, b = p
    return {"u": np.sin(a) * b, "v": a + b}, a * 2.0


def test_pytree_outputs_and_namedtuples():
    p = Pair(RNG.standard_normal(3), RNG.standard_normal(3))
    t = Pair(RNG.standard_normal(3), RNG.standard_normal(3))
    out, dot = jvp(pair_fn)((p,), (t,))
    assert isinstance(dot, tuple) and isinstance(dot[0], dict)
    assert_tree_close(out, pair_fn(p))
    assert_tree_close(dot, fd_jvp(pair_fn, (p,), [0], [t]), rtol=1e-6)


def scaled(x, scale=2.0, power=2):
    return scale * x ** power


def test_kwargs_pass_through():
    x, v = RNG.uniform(0.5, 1.5, 4), RNG.standard_normal(4)
    out, dot = jvp(scaled)((x,), (v,), scale=3.0)
    np.testing.assert_allclose(out, 3.0 * x ** 2)
    np.testing.assert_allclose(dot, 6.0 * x * v)
    out, dot = jvp(scaled)((x,), (v,), power=3, scale=1.0)
    np.testing.assert_allclose(dot, 3 * x ** 2 * v)
    # differentiate an argument passed by keyword
    out, dot = jvp(scaled, wrt="scale")((x,), (1.0,), scale=3.0)
    np.testing.assert_allclose(dot, x ** 2)


def matrix_out(x, A):
    return np.tanh(A @ x)[:, None] * x[None, :]


def test_non_scalar_outputs():
    x, A, v = RNG.standard_normal(3), RNG.standard_normal((4, 3)), RNG.standard_normal(3)
    out, dot = jvp(matrix_out)((x, A), (v,))
    assert out.shape == dot.shape == (4, 3)
    np.testing.assert_allclose(dot, fd_jvp(matrix_out, (x, A), [0], [v]), rtol=1e-6,
                               atol=1e-9)
    # equals the Jacobian applied to v
    J = s2sgrad.jacobian(matrix_out)(x, A)
    np.testing.assert_allclose(dot, J @ v, rtol=1e-10, atol=1e-12)


def independent(x, y):
    return y * 2.0, x + 1.0


def test_outputs_without_tangent_are_zeros():
    x, y = RNG.standard_normal(3), RNG.standard_normal((2, 2))
    (a, b), (da, db) = jvp(independent)((x, y), (np.ones(3),))
    np.testing.assert_array_equal(da, np.zeros((2, 2)))
    np.testing.assert_array_equal(db, np.ones(3))


def identity(x):
    return x


def test_out_tangent_never_aliases_the_input_tangent():
    v = np.ones(3)
    _, dot = jvp(identity)((np.zeros(3),), (v,))
    np.testing.assert_array_equal(dot, v)
    dot[0] = 5.0
    assert v[0] == 1.0


def test_float32_keeps_dtype():
    x = RNG.standard_normal(3).astype(np.float32)
    A = RNG.standard_normal((4, 3)).astype(np.float32)
    out, dot = jvp(matrix_out)((x, A), (np.ones_like(x),))
    assert out.dtype == np.float32 and dot.dtype == np.float32
    W, b = A.T.copy(), np.zeros(4, np.float32)
    out, dot = jvp(mlp, wrt=(0, 1))((W, b, A[:2]), (np.ones_like(W), np.ones_like(b)))
    assert isinstance(dot, np.float32)
    f32 = np.float32(0.5)
    out, dot = jvp(sin_x)((f32,), (np.float32(1.0),))
    assert isinstance(dot, np.float32)


def test_shape_polymorphic_cache():
    f = jvp(mlp)
    for n in (2, 5):
        W, b, x = RNG.standard_normal((3, n)), RNG.standard_normal(n), RNG.standard_normal((4, 3))
        dW = RNG.standard_normal((3, n))
        _, dot = f((W, b, x), (dW,))
        assert dot == pytest.approx(fd_jvp(mlp, (W, b, x), [0], [dW]), rel=1e-6)
    assert len(f._cache) == 1


# ---------------------------------------------------------------- generated source


def test_source_is_python_with_tangent_names_and_comments():
    f = jvp(mlp)
    f((np.ones((3, 4)), np.ones(4), np.ones((2, 3))), (np.ones((3, 4)),))
    src = f.source
    ast.parse(src)
    assert src.startswith("def mlp_jvp(W, b, x, W_dot):")
    assert "h_dot" in src
    assert "# tangent of test_forward.py:" in src
    assert "# test_forward.py:" in src
    # the tangent of each line follows the primal statements of that line
    lines = src.splitlines()
    first_tangent = next(i for i, ln in enumerate(lines) if "# tangent of" in ln)
    assert any("np.tanh" in ln for ln in lines[:first_tangent])


def test_source_before_any_call():
    src = jvp(sin_x).source
    ast.parse(src)
    assert "x_dot" in src


def test_jvp_func_ir_is_ssa_and_linearizes():
    func = verify(lower_function(mlp, {"W": ("leaf", None), "b": ("leaf", None),
                                       "x": ("leaf", None)}))
    jf = verify(jvp_func(func, [0, 1]))
    assert len(jf.params) == 5 and len(jf.results) == 2
    assert jf.params[3].bar_of is func.params[0]
    primal, tangent, residuals = linearize(jf, 3, 1)
    verify(primal)
    verify(tangent)
    assert tangent.params[-2:] == jf.params[3:]


# ---------------------------------------------------------------- composition


def poly(x, y):
    return np.sum(np.sin(x) * y ** 2 + x ** 3)


def test_jvp_of_grad_is_hvp():
    x, y, v = RNG.standard_normal(4), RNG.standard_normal(4), RNG.standard_normal(4)
    g, hv = jvp(grad(poly))((x, y), (v,))
    np.testing.assert_allclose(g, grad(poly)(x, y))
    H = np.diag(-np.sin(x) * y ** 2 + 6 * x)
    np.testing.assert_allclose(hv, H @ v, rtol=1e-10)


def test_reverse_over_forward():
    x, y, v = RNG.standard_normal(4), RNG.standard_normal(4), RNG.standard_normal(4)
    fj = jvp(poly)
    (out, dot), pullback = vjp(fj, wrt=(0, 1))((x, y), (v,))
    assert out == pytest.approx(poly(x, y))
    (gx, gy), (gv,) = pullback((0.0, 1.0))       # d <grad f, v> / d (primals, tangents)
    H = np.diag(-np.sin(x) * y ** 2 + 6 * x)
    np.testing.assert_allclose(gx, H @ v, rtol=1e-10)
    np.testing.assert_allclose(gv, grad(poly)(x, y), rtol=1e-10)
    # grad of a JVPFunction: the output (out, out_dot) is a pair -> has_aux
    (gx2, gy2), aux = grad(fj, has_aux=True)((x, y), (v,))
    np.testing.assert_allclose(gx2, grad(poly)(x, y))
    assert aux == pytest.approx(dot)


def test_jvp_of_jvp():
    x, y, v, u = (RNG.standard_normal(3) for _ in range(4))
    fjj = jvp(jvp(poly))
    (out, dot), (dout, ddot) = fjj(((x, y), (v,)), ((u, np.zeros(3)),))
    H = np.diag(-np.sin(x) * y ** 2 + 6 * x)
    assert ddot == pytest.approx(u @ H @ v, rel=1e-10)
    assert dout == pytest.approx(grad(poly)(x, y) @ u, rel=1e-10)


# ---------------------------------------------------------------- check_grads modes


def test_check_grads_both_modes():
    x, y = RNG.standard_normal(4), RNG.standard_normal(4)
    s2sgrad.check_grads(poly, (x, y), wrt=(0, 1), modes=("rev", "fwd"))
    s2sgrad.check_grads(matrix_out, (x[:3], RNG.standard_normal((2, 3))), modes="fwd")


def test_check_grads_catches_a_wrong_jvp_rule(monkeypatch):
    from s2sgrad.primitives.core import REGISTRY
    sin = REGISTRY["sin"]
    monkeypatch.setattr(sin, "jvp", lambda em, dots, out, x: em.multiply(dots[0], 1.1))

    def f(x):
        return np.sum(np.sin(x))
    with pytest.raises(GradientCheckError, match="forward mode"):
        s2sgrad.check_grads(f, (RNG.standard_normal(3),), modes=("rev", "fwd"))


# ---------------------------------------------------------------- errors


def clip_by_x(x):  # np.clip's bounds are differentiable; sum's initial= is an option
    return np.sum(x, initial=x[0])


def reshape_by_x(x):
    return np.sum(np.reshape(x, (x[0], 3)))


def branchy(x):
    if x[0] > 0:
        x = x * 2.0
    return np.sum(x)


def loopy(x):
    s = 0.0
    for i in range(3):
        s = s + x[i] * x[i]
    return s


def test_error_keyword_operand_names_the_line():
    with pytest.raises(s2sgrad.NonDifferentiableError, match="'initial'") as exc:
        jvp(clip_by_x)((np.ones(3),), (np.ones(3),))
    assert exc.value.filename.endswith("test_forward.py")
    assert exc.value.lineno == clip_by_x.__code__.co_firstlineno + 1
    with pytest.raises(s2sgrad.NonDifferentiableError, match="'shape' argument"):
        jvp(reshape_by_x)((np.ones(3),), (np.ones(3),))


def test_control_flow_in_forward_mode():
    """Branches and loops keep their structure in the tangent code and agree
    with finite differences and with reverse mode."""
    for f in (branchy, loopy):
        for x in (np.ones(3), -np.ones(3) * 0.5):
            v = RNG.standard_normal(3)
            out, out_dot = jvp(f)((x,), (v,))
            eps = 1e-6
            fd = (f(x + eps * v) - f(x - eps * v)) / (2 * eps)
            np.testing.assert_allclose(out_dot, fd, rtol=1e-6, atol=1e-8)
            s2sgrad.check_grads(f, (x,), modes=("rev", "fwd"))
    src = jvp(loopy).source
    assert any(ln.strip().startswith("for ") for ln in src.splitlines())


def test_error_inputs():
    f = jvp(mlp)
    W, b, x = np.ones((3, 4)), np.ones(4), np.ones((2, 3))
    with pytest.raises(s2sgrad.InputError, match="integer"):
        jvp(sin_x)((1,), (1.0,))
    with pytest.raises(ValueError, match="shape"):
        f((W, b, x), (np.ones(3),))
    with pytest.raises(TypeError, match="tangents must be a tuple"):
        f((W, b, x), np.ones((3, 4)))
    with pytest.raises(TypeError, match="primals must be a tuple"):
        f(W, (np.ones((3, 4)),))
    with pytest.raises(ValueError, match="same structure"):
        jvp(dict_model)(({"W": W, "b": b}, x), (np.ones(3),))
    with pytest.raises(TypeError, match="missing"):
        f((W,), (W,))


def test_vjp_result_cannot_be_differentiated():
    with pytest.raises(s2sgrad.S2SGradError, match="VJPFunction"):
        jvp(vjp(sin_x))
