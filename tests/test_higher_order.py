"""Higher-order derivatives: composed transformations, hvp, hessian, jacobian."""
import ast

import numpy as np
import pytest

import s2sgrad
from s2sgrad import grad, hessian, hvp, jacobian, jvp, value_and_grad, vjp

RNG = np.random.default_rng(11)


def fd_jacobian(f, x, eps=1e-6):
    """Central-difference Jacobian of f at the array x: out.shape + x.shape."""
    x = np.asarray(x, dtype=np.float64)
    out = np.asarray(f(x))
    J = np.empty(out.shape + (x.size,))
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = eps
        e = e.reshape(x.shape)
        J[..., k] = (np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * eps)
    return J.reshape(out.shape + x.shape)


# ---------------------------------------------------------------- grad of grad


def x_sin_x(x):
    return x * np.sin(x)


@pytest.mark.parametrize("x", [-2.0, -0.5, 0.0, 0.3, 1.0, 2.7])
def test_grad_of_grad_closed_form(x):
    d2 = grad(grad(x_sin_x))
    assert d2(x) == pytest.approx(2 * np.cos(x) - x * np.sin(x), rel=1e-12, abs=1e-14)
    assert isinstance(d2(x), float)


@pytest.mark.parametrize("x", [-1.3, 0.4, 2.0])
def test_third_derivative(x):
    d3 = grad(grad(grad(x_sin_x)))
    assert d3(x) == pytest.approx(-3 * np.sin(x) - x * np.cos(x), rel=1e-12, abs=1e-14)


def test_grad_of_grad_lambda_and_arrays():
    d2 = grad(grad(lambda x: x * np.sin(x)))
    assert d2(0.7) == pytest.approx(2 * np.cos(0.7) - 0.7 * np.sin(0.7))
    # elementwise second derivative through a sum
    x = RNG.standard_normal(5)
    g2 = jacobian(grad(x_sin_sum))(x)
    np.testing.assert_allclose(g2, np.diag(2 * np.cos(x) - x * np.sin(x)), rtol=1e-12,
                               atol=1e-15)


def x_sin_sum(x):
    return np.sum(x * np.sin(x))


def test_grad_of_grad_source():
    d2 = grad(grad(x_sin_x))
    d2(1.0)
    src = d2.source
    ast.parse(src)
    assert src.startswith("def x_sin_x_grad_grad(x):")
    assert "_bar_bar" in d2.generic_source             # the adjoint of an adjoint
    assert "# adjoint of test_higher_order.py:" in src
    # specialised: 2 cos x - x sin x, the chain's factors gathered
    assert src.count(" = ") <= 6, src


def test_value_and_grad_of_grad():
    v, g = value_and_grad(grad(lambda x: x ** 3))(2.0)
    assert v == pytest.approx(12.0) and g == pytest.approx(12.0)


def test_grad_of_value_and_grad_with_aux():
    # grad(f, has_aux=True) of a value_and_grad: (value, grad) -> loss + aux
    f = value_and_grad(x_sin_x)
    d2, d1 = grad(f, has_aux=True)(0.9)
    assert d1 == pytest.approx(np.sin(0.9) + 0.9 * np.cos(0.9))
    assert d2 == pytest.approx(d1)   # d/dx of the value is the first derivative


def xy_poly(x, y):
    return x ** 2 * y ** 3 + np.sin(x * y)


def test_mixed_second_derivatives_via_wrt():
    for x, y in [(0.5, 0.7), (-1.1, 0.3)]:
        dxy = grad(grad(xy_poly, wrt=0), wrt=1)(x, y)
        dyx = grad(grad(xy_poly, wrt=1), wrt=0)(x, y)
        exact = 6 * x * y ** 2 + np.cos(x * y) - x * y * np.sin(x * y)
        assert dxy == pytest.approx(exact, rel=1e-12)
        assert dyx == pytest.approx(exact, rel=1e-12)
        dxx = grad(grad(xy_poly, wrt="x"), wrt="x")(x, y)
        assert dxx == pytest.approx(2 * y ** 3 - y ** 2 * np.sin(x * y), rel=1e-12)
        H = hessian(xy_poly, wrt=(0, 1))(x, y)
        assert H[0][1] == pytest.approx(exact, rel=1e-12)
        assert H[1][0] == pytest.approx(exact, rel=1e-12)
        assert H[0][0] == pytest.approx(dxx, rel=1e-12)


def test_grad_of_tuple_wrt_grad():
    # grad(f, wrt=(0, 1)) returns a tuple: vjp can differentiate it further
    x, y = RNG.standard_normal(3), RNG.standard_normal(3)

    def f(x, y):
        return np.sum(x ** 2 * y)
    (gx, gy), pullback = vjp(grad(f, wrt=(0, 1)))(x, y)
    np.testing.assert_allclose(gx, 2 * x * y)
    u = (np.ones(3), np.zeros(3))
    np.testing.assert_allclose(pullback(u), 2 * y)     # d/dx of <gx, 1>


# ---------------------------------------------------------------- hessian


def rosen_like(x, A):
    z = A @ x
    return np.sum(np.log1p(np.exp(z))) + 0.25 * np.sum(x ** 4) + x[0] * x[1] * np.sum(x)


def test_hessian_vs_finite_differences_of_gradient():
    x, A = RNG.standard_normal(5), RNG.standard_normal((7, 5))
    H = hessian(rosen_like)(x, A)
    assert H.shape == (5, 5)
    g = grad(rosen_like)
    H_fd = fd_jacobian(lambda x: g(x, A), x)
    np.testing.assert_allclose(H, H_fd, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(H, H.T, rtol=1e-12, atol=1e-12)


def matrix_arg(W):
    return np.sum(np.tanh(W) ** 2) + np.sum(W[0] * W[1])


def test_hessian_of_matrix_argument_shape():
    W = RNG.standard_normal((2, 3))
    H = hessian(matrix_arg)(W)
    assert H.shape == (2, 3, 2, 3)
    H_fd = fd_jacobian(lambda W: grad(matrix_arg)(W), W)
    np.testing.assert_allclose(H, H_fd, rtol=1e-6, atol=1e-7)


def dict_loss(p, x):
    return np.sum(np.tanh(x @ p["W"] + p["b"]) ** 2)


def test_hessian_of_pytree_is_nested():
    p = {"W": RNG.standard_normal((3, 2)), "b": RNG.standard_normal(2)}
    x = RNG.standard_normal((4, 3))
    H = hessian(dict_loss)(p, x)
    assert set(H) == {"W", "b"} and set(H["W"]) == {"W", "b"}
    assert H["W"]["b"].shape == (3, 2, 2)
    assert H["b"]["W"].shape == (2, 3, 2)
    np.testing.assert_allclose(H["W"]["b"], np.transpose(H["b"]["W"], (1, 2, 0)), atol=1e-12)
    Hbb = fd_jacobian(lambda b: grad(dict_loss)({"W": p["W"], "b": b}, x)["b"], p["b"])
    np.testing.assert_allclose(H["b"]["b"], Hbb, rtol=1e-6, atol=1e-7)


def test_hessian_float32_and_scalar():
    x = RNG.standard_normal(4).astype(np.float32)
    H = hessian(lambda x: np.sum(x ** 3))(x)
    assert H.dtype == np.float32
    np.testing.assert_allclose(H, np.diag(6 * x), rtol=1e-6)
    assert hessian(x_sin_x)(0.3) == pytest.approx(2 * np.cos(0.3) - 0.3 * np.sin(0.3))
    assert isinstance(hessian(x_sin_x)(0.3), float)


def test_hessian_source_and_errors():
    h = hessian(rosen_like)
    h(np.ones(3), np.ones((2, 3)))
    ast.parse(h.source)
    assert "x_bar_dot" in h.source or "_dot" in h.source
    with pytest.raises(s2sgrad.OutputError, match="scalar"):
        hessian(lambda x: (x, x))(np.ones(2))
    with pytest.raises(s2sgrad.InputError):
        hessian(rosen_like)(np.ones(3, dtype=int), np.ones((2, 3)))


# ---------------------------------------------------------------- hvp


def logistic_loss(w, X, y, lam):
    z = X @ w
    return np.mean(np.logaddexp(0.0, z) - y * z) + lam * np.sum(w ** 2)


def test_hvp_of_logistic_regression_vs_explicit_hessian():
    n, d, lam = 50, 6, 0.1
    X = RNG.standard_normal((n, d))
    y = (RNG.uniform(size=n) < 0.5).astype(float)
    w = RNG.standard_normal(d)
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    H = X.T @ np.diag(p * (1 - p)) @ X / n + 2 * lam * np.eye(d)
    f_hvp = hvp(logistic_loss)
    for _ in range(3):
        v = RNG.standard_normal(d)
        np.testing.assert_allclose(f_hvp((w, X, y, lam), v), H @ v, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hessian(logistic_loss)(w, X, y, lam), H, rtol=1e-10,
                               atol=1e-12)
    src = f_hvp.source
    ast.parse(src)
    assert "w_dot" in src and "w_bar_dot" in src
    assert "# tangent of test_higher_order.py:" in src


def test_hvp_tuple_wrt_and_kwargs():
    x, y = 0.4, 1.3
    hx, hy = hvp(xy_poly, wrt=(0, 1))((x,), (1.0, 0.0), y=y)
    H = hessian(xy_poly, wrt=(0, 1))(x, y)
    assert hx == pytest.approx(H[0][0]) and hy == pytest.approx(H[1][0])
    with pytest.raises(ValueError, match="shape"):
        hvp(logistic_loss)((np.ones(3), np.ones((2, 3)), np.ones(2), 0.1), np.ones(4))


def test_hvp_equals_jvp_of_grad():
    x, A, v = RNG.standard_normal(4), RNG.standard_normal((3, 4)), RNG.standard_normal(4)
    _, hv = jvp(grad(rosen_like))((x, A), (v,))
    np.testing.assert_allclose(hvp(rosen_like)((x, A), v), hv, rtol=1e-12)


# ---------------------------------------------------------------- jacobian


def vec_fn(x, B):
    return np.tanh(B @ x)[:, None] * np.exp(x[:2])[None, :]      # shape (m, 2)


@pytest.mark.parametrize("mode", ["forward", "reverse", "auto"])
@pytest.mark.parametrize("m", [2, 7])
def test_jacobian_modes_vs_finite_differences(mode, m):
    x, B = RNG.standard_normal(4), RNG.standard_normal((m, 4))
    J = jacobian(vec_fn, mode=mode)(x, B)
    assert J.shape == (m, 2, 4)
    np.testing.assert_allclose(J, fd_jacobian(lambda x: vec_fn(x, B), x), rtol=1e-6,
                               atol=1e-8)


def test_jacobian_auto_picks_fewer_passes():
    x = RNG.standard_normal(6)
    wide = jacobian(lambda x: np.sum(x ** 2, keepdims=True))    # 1 output, 6 inputs
    wide(x)
    assert any(k[0] == "reverse" for k in wide._cache)
    tall = jacobian(lambda x: np.outer(x, x))                   # 36 outputs, 6 inputs
    J = tall(x)
    assert not any(k[0] == "reverse" for k in tall._cache)
    np.testing.assert_allclose(J, jacobian(lambda x: np.outer(x, x), mode="reverse")(x))


def two_outputs(x, y):
    return x * y, np.sum(x) * y[:2]


def test_jacobian_tuple_wrt_and_tuple_outputs():
    x, y = RNG.standard_normal(3), RNG.standard_normal(3)
    for mode in ("forward", "reverse"):
        J = jacobian(two_outputs, wrt=(0, 1), mode=mode)(x, y)
        (J0x, J0y), (J1x, J1y) = J
        np.testing.assert_allclose(J0x, np.diag(y))
        np.testing.assert_allclose(J0y, np.diag(x))
        np.testing.assert_allclose(J1x, np.outer(y[:2], np.ones(3)))
        np.testing.assert_allclose(J1y, np.sum(x) * np.eye(3)[:2])


def test_jacobian_of_grad_is_hessian():
    x, A = RNG.standard_normal(4), RNG.standard_normal((3, 4))
    for mode in ("forward", "reverse"):
        np.testing.assert_allclose(jacobian(grad(rosen_like), mode=mode)(x, A),
                                   hessian(rosen_like)(x, A), rtol=1e-10, atol=1e-12)


def test_jacobian_scalar_in_scalar_out_and_errors():
    assert jacobian(x_sin_x)(0.5) == pytest.approx(np.sin(0.5) + 0.5 * np.cos(0.5))
    with pytest.raises(ValueError, match="mode"):
        jacobian(x_sin_x, mode="sideways")
    # a Hessian (Jacobian) is differentiated through a function calling it
    # (api._basis_wrapper): here the third derivative of x sin x
    assert grad(hessian(x_sin_x))(0.5) == pytest.approx(-3 * np.sin(0.5) - 0.5 * np.cos(0.5))

    def star(*xs):
        return xs[0] * np.sin(xs[0])
    with pytest.raises(s2sgrad.S2SGradError, match="HessianFunction"):
        grad(hessian(star))          # (*args: no wrapper signature to write)


def loop_sum(x):
    s = 0.0
    for i in range(3):
        s = s + np.sin(x[i]) * x[i]
    return s


def test_second_derivatives_through_a_loop():
    """grad of grad, reverse-over-reverse and forward-over-reverse all go
    through the loop (stacks are differentiated too) and agree."""
    x = RNG.standard_normal(3)
    g = grad(loop_sum)(x)
    np.testing.assert_allclose(g, np.sin(x) + x * np.cos(x))
    exact = np.diag(2 * np.cos(x) - x * np.sin(x))
    np.testing.assert_allclose(jacobian(grad(loop_sum), mode="reverse")(x), exact, atol=1e-12)
    np.testing.assert_allclose(jacobian(grad(loop_sum), mode="forward")(x), exact, atol=1e-12)
    np.testing.assert_allclose(hessian(loop_sum)(x), exact, atol=1e-12)


def test_jvp_has_aux():
    def f(x, s):
        y = np.tanh(x) * s
        return y, (np.sum(y), x.shape[0])
    x, t = RNG.standard_normal(4), RNG.standard_normal(4)
    out, out_dot, aux = jvp(f, has_aux=True)((x, 2.0), (t,))
    np.testing.assert_allclose(out, np.tanh(x) * 2.0)
    np.testing.assert_allclose(out_dot, (1 - np.tanh(x) ** 2) * 2.0 * t)
    np.testing.assert_allclose(aux[0], np.sum(np.tanh(x) * 2.0))
    assert aux[1] == 4
    assert "_dot" in jvp(f, has_aux=True).source
    with pytest.raises(s2sgrad.OutputError, match="has_aux=True"):
        jvp(lambda x: np.sin(x), has_aux=True)((x,), (t,))


def test_hessp_has_scipys_signature():
    def rosen(x, a):
        return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (a - x[:-1]) ** 2)
    x, p = RNG.standard_normal(5), RNG.standard_normal(5)
    hp = s2sgrad.hessp(rosen)
    np.testing.assert_allclose(hp(x, p, 1.0), hessian(rosen)(x, 1.0) @ p, rtol=1e-12)
    np.testing.assert_allclose(hp(x, p, 1.0), hvp(rosen)((x, 1.0), p), rtol=1e-12)
    scipy_optimize = pytest.importorskip("scipy.optimize")
    res = scipy_optimize.minimize(rosen, np.full(5, 0.5), args=(1.0,), jac=grad(rosen),
                                  hessp=hp, method="trust-ncg", options={"gtol": 1e-10})
    np.testing.assert_allclose(res.x, np.ones(5), atol=1e-6)


# ------------------------------------------------ nested gradients through FFTs (torch port)

W_FFT = np.cos(np.arange(1.0, 16.0)).reshape(5, 3)


def _fft_loss(x):
    return np.real(np.sum(W_FFT * np.fft.fft2(x * x)))


def _rfft_loss(x):
    return np.real(np.sum(W_FFT[:3] * np.fft.rfft(x, axis=0)))


def _grad_fft(x):
    return grad(_fft_loss)(x)


def _grad_rfft(x):
    return grad(_rfft_loss)(x) * x


def _vjp_fft(x):
    _, pb = vjp(_fft_loss)(x)
    return pb(1.0)


def test_nested_grad_of_real_argument_is_real():
    # the inner gradient reaches the real x through a complex FFT: its imaginary
    # part pairs with no direction and was kept inside (grad(grad(...)) returned a
    # complex value where calling the function returns a real one)
    x = RNG.standard_normal((5, 3))
    for fn in (_grad_fft, _vjp_fft):
        expected = fn(x)
        assert expected.dtype == np.float64
        out, pb = vjp(fn)(x)
        assert out.dtype == np.float64
        np.testing.assert_allclose(out, expected, rtol=1e-12)
        u = RNG.standard_normal(out.shape)
        J = fd_jacobian(fn, x)
        np.testing.assert_allclose(pb(u), np.tensordot(u, J, axes=2), rtol=1e-6, atol=1e-8)


def test_forward_over_reverse_of_fft_with_constant_cotangent():
    # fft_vjp's cotangent input is a constant (the loss's weights): its tangent is
    # zero, and the rule emitted fft_vjp(None, ...) (an error at run time)
    x = RNG.standard_normal((5, 3))
    v = RNG.standard_normal((5, 3))
    for fn in (_grad_fft, _grad_rfft):
        out, dot = jvp(fn)((x,), (v,))
        J = fd_jacobian(fn, x)
        np.testing.assert_allclose(dot, np.tensordot(J, v, axes=2), rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(hvp(_fft_loss)((x,), v), np.tensordot(
            fd_jacobian(_grad_fft, x), v, axes=2), rtol=1e-6, atol=1e-8)


def test_nested_grad_keeps_argument_dtype():
    # the top-level gradient of a float32 argument is float32 (api._fix_grad); a
    # gradient taken inside a differentiated function was float64 where float64
    # constants met it, so vjp(f) returned another dtype than calling f
    x = RNG.standard_normal((5, 3)).astype(np.float32)
    for fn in (_grad_fft, _vjp_fft):
        expected = fn(x)
        assert expected.dtype == np.float32
        out, pb = vjp(fn)(x)
        assert out.dtype == np.float32
        np.testing.assert_allclose(out, expected, rtol=1e-5)
        _, dot = jvp(fn)((x,), (np.ones_like(x),))
        assert dot.dtype == np.float32


# grad of a function calling grad(f), where f calls jacobian(jacobian(fun)):
# the first derivative's reversed loops collect their factors on a terms
# stack that only unzip reads; reversing that program again popped the
# terms stack's adjoint, which nothing pushed ("pop from empty list" in the
# generated code).  Nothing flows back through unzip, so the pushed values'
# cotangent is 0.

def _jj_fun(x):
    return np.sin(np.outer(x, x)) + np.cos(np.dot(x, x))


def _jj_f(x):
    return np.sum(np.sin(s2sgrad.jacobian(s2sgrad.jacobian(_jj_fun))(x)))


_jj_grad = s2sgrad.grad(_jj_f)
_JJ_C = np.array([0.4, 1.3])


def _jj_rr(x):
    return np.sum(_jj_grad(x) * _JJ_C)


def test_grad_of_grad_through_a_nested_jacobian():
    x = np.array([0.3, -0.7])
    v, g = s2sgrad.value_and_grad(_jj_rr)(x)
    assert v == pytest.approx(np.sum(_jj_grad(x) * _JJ_C), rel=1e-12)
    eps = 1e-5
    fd = np.array([(_jj_rr(x + eps * e) - _jj_rr(x - eps * e)) / (2 * eps) for e in np.eye(2)])
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(g, s2sgrad.hessian(_jj_f)(x) @ _JJ_C, rtol=1e-9, atol=1e-9)
