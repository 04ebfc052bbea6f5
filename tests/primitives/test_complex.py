"""Complex numbers: conj/real/imag/angle, complex abs, complex arguments and
complex intermediates, against finite differences (in the real and the
imaginary direction of each complex argument) and JAX's convention."""
import numpy as np
import pytest

import s2sgrad
import s2sgrad.runtime as rt
from s2sgrad.api import InputError

from .spec import RNG, Spec, check_spec, normal
from .test_runtime_prims import check_hvp


def cnormal(*shape):
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


Z3 = cnormal(3)
W3 = normal(3)


SPECS = [
    # non-holomorphic primitives, complex arguments
    Spec("conjugate", lambda z: np.sum(np.real(np.conj(z) * np.exp(z))), (cnormal(3),),
         id="conj-complex"),
    Spec("conjugate", lambda z: np.sum(np.imag(z.conj() * Z3)), (cnormal(3),),
         id="conj-method"),
    Spec("conjugate", lambda z: np.sum(np.real(z.conjugate() ** 2)), (cnormal(2, 3),),
         id="conjugate-method"),
    Spec("conjugate", lambda x: np.sum(np.conjugate(x) * W3), (normal(3),), id="conj-real"),
    Spec("real", lambda z: np.sum(np.sin(np.real(z * Z3))), (cnormal(3),), id="real-complex"),
    Spec("real", lambda z: np.sum(np.sin(z.real) * W3), (cnormal(3),), id="real-attr"),
    Spec("real", lambda x: np.sum(np.real(x) ** 2), (normal(3),), id="real-of-real"),
    Spec("imag", lambda z: np.sum(np.cos(np.imag(z * Z3))), (cnormal(3),), id="imag-complex"),
    Spec("imag", lambda z: np.sum(z.imag ** 3), (cnormal(2, 2),), id="imag-attr"),
    Spec("angle", lambda z: np.sum(np.angle(z) * W3), (cnormal(3),), id="angle"),
    Spec("angle", lambda z: np.sum(np.angle(z, deg=True) ** 2), (cnormal(3),), id="angle-deg"),
    Spec("absolute", lambda z: np.sum(np.abs(z) ** 3), (cnormal(2, 3),), id="abs-complex"),
    Spec("absolute", lambda z: np.sum(abs(z * Z3)), (cnormal(3),), id="abs-builtin-complex"),
    Spec("csign", lambda z: np.sum(np.real(rt.csign(z) * Z3)), (cnormal(3),),
         id="csign-complex"),
    Spec("csign", lambda x: np.sum(rt.csign(x) * x), (normal(3),), id="csign-real"),
    Spec("real_if_complex", lambda z: np.sum(np.sin(rt.real_if_complex(z * Z3))), (cnormal(3),)),
    Spec("require_real", lambda x: np.sum(np.sin(rt.require_real(x, "a test"))), (normal(3),)),
    Spec("conj_if_complex", lambda z: np.sum(np.real(rt.conj_if_complex(z) * Z3 * z)),
         (cnormal(3),)),
    # holomorphic functions of a complex argument
    Spec(("exp", "log", "multiply"), lambda z: np.sum(np.abs(np.exp(z) * np.log(z))),
         (cnormal(3) + 3.0,), id="holomorphic-exp-log"),
    Spec(("power", "sqrt"), lambda z: np.sum(np.real(z ** 3 + np.sqrt(z))), (cnormal(4) + 2.0,),
         id="holomorphic-power-sqrt"),
    Spec(("sin", "divide"), lambda z, w: np.sum(np.imag(np.sin(z) / w)), (cnormal(3), cnormal(3)),
         wrt=(0, 1), id="holomorphic-two-args"),
    Spec("matmul", lambda a, b: np.sum(np.abs(a @ b) ** 2), (cnormal(2, 3), cnormal(3, 2)),
         wrt=(0, 1), id="matmul-complex"),
    # complex values inside a real function of real arguments
    Spec(("exp", "multiply"), lambda t: np.sum(np.real(np.exp(1j * t) * Z3)), (normal(3),),
         id="exp-1j-theta"),
    Spec(("absolute", "add"), lambda x, y: np.sum(np.abs(x + 1j * y)), (normal(3), normal(3)),
         wrt=(0, 1), id="abs-of-x-plus-iy"),
    Spec("angle", lambda x, y: np.sum(np.angle(x + 1j * y) * W3), (normal(3), normal(3)),
         wrt=(0, 1), id="angle-of-x-plus-iy"),
    # var/std of complex values are real: mean(|x - mean|^2) (autograd's stat_check)
    Spec("var", lambda z: np.var(z), (cnormal(2, 3),), id="var-complex"),
    Spec("var", lambda z: np.sum(np.var(z, axis=0, keepdims=True) * W3), (cnormal(2, 3),),
         id="var-complex-axis"),
    Spec("std", lambda z: np.std(z, ddof=1), (cnormal(2, 3),), id="std-complex"),
    Spec("std", lambda z: np.sum(np.std(z, axis=0) * W3), (cnormal(2, 3),),
         id="std-complex-axis"),
    Spec("std", lambda x, y: np.std(x + 1j * y), (normal(4), normal(4)), wrt=(0, 1),
         id="std-of-x-plus-iy"),
    # real_if_close: real where NumPy drops a negligible imaginary part
    Spec("real_if_close", lambda z: np.sum(np.real_if_close(z) ** 2 * W3), (normal(3),),
         id="real_if_close-real"),
    Spec("real_if_close", lambda x: np.sum(np.real_if_close(x + 1e-20j) ** 3), (normal(3),),
         id="real_if_close-dropped"),
    Spec("real_if_close", lambda z: np.sum(np.abs(np.real_if_close(z)) ** 2), (cnormal(3),),
         id="real_if_close-kept"),
    Spec("real_like", lambda z: np.sum(rt.real_like(z * Z3, W3) * W3), (cnormal(3),)),
    Spec("grad_like", lambda z: np.sum(rt.grad_like(z * Z3, W3) * W3), (cnormal(3),)),
    Spec("grad_like", lambda z: np.sum(rt.grad_like(z * Z3, Z3) * Z3).real, (cnormal(3),),
         id="grad_like-complex"),
    # holomorphic inverse hyperbolic functions of complex values
    Spec("arcsinh", lambda z: np.sum(np.real(np.arcsinh(z) * Z3)), (cnormal(3),),
         id="arcsinh-complex"),
    Spec("arccosh", lambda z: np.sum(np.imag(np.arccosh(z + 3.0))), (cnormal(3),),
         id="arccosh-complex"),
    Spec("arctanh", lambda z: np.sum(np.abs(np.arctanh(0.3 * z))), (cnormal(3),),
         id="arctanh-complex"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_complex(spec):
    check_spec(spec)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_complex_hvp(spec):
    """Forward-over-reverse: the complex rules differentiated again."""
    check_hvp(spec)


# ---------------------------------------------------------------- the convention


def _abs2(z):
    return np.abs(z) ** 2


def test_grad_of_abs_squared_is_twice_the_conjugate():
    # JAX and autograd: grad of a real f at z returns df/dx - i df/dy
    z = cnormal(4)
    np.testing.assert_allclose(s2sgrad.grad(lambda z: np.sum(_abs2(z)))(z), 2 * np.conj(z),
                               rtol=1e-14)


def _rotate_real(x):
    return np.real(x * np.exp(1j * 1.5))


def test_grad_matches_jax_example():
    # jax.value_and_grad(lambda x: (x * jnp.exp(1j * 1.5)).real)(2.3 + 4.5j)
    # gives (-4.326032, 0.0707372+0.997495j)
    v, g = s2sgrad.value_and_grad(_rotate_real)(2.3 + 4.5j)
    assert isinstance(g, complex)
    np.testing.assert_allclose(v, -4.326031875882528, rtol=1e-12)
    np.testing.assert_allclose(g, np.exp(1.5j), rtol=1e-14)


def test_grad_of_holomorphic_complex_output_is_the_derivative():
    # a complex scalar output is seeded with 1 (as autograd; JAX's holomorphic=True)
    z = 0.3 + 0.7j
    np.testing.assert_allclose(s2sgrad.grad(lambda z: np.sin(z) * z)(z),
                               np.cos(z) * z + np.sin(z), rtol=1e-14)


def _re(z):
    return np.real(z)


def _im(z):
    return np.imag(z)


def _abs(z):
    return np.abs(z)


def _ang(z):
    return np.angle(z)


def _conj(z):
    return np.real(np.conj(z) * (1 + 2j))


@pytest.mark.parametrize("f, df", [
    (_re, lambda z: 1.0 + 0j),
    (_im, lambda z: -1j),
    (_abs, lambda z: np.conj(z) / np.abs(z)),
    (_ang, lambda z: -1j / z),
    (_conj, lambda z: 1 - 2j),
], ids=["real", "imag", "abs", "angle", "conj"])
def test_non_holomorphic_exact(f, df):
    z = 0.6 - 1.3j
    np.testing.assert_allclose(s2sgrad.grad(f)(z), df(z), rtol=1e-14)


def test_conventions_at_zero():
    # abs and angle are not differentiable at 0: both give 0 there
    z = np.array([0j, 1 + 1j])
    np.testing.assert_array_equal(s2sgrad.grad(lambda z: np.sum(np.abs(z)))(z)[0], 0)
    np.testing.assert_array_equal(s2sgrad.grad(lambda z: np.sum(np.angle(z)))(z)[0], 0)
    # angle of a real input: derivative 0 (it is 0 or pi)
    np.testing.assert_array_equal(
        s2sgrad.grad(lambda x: np.sum(np.angle(x)))(np.array([-2.0, 3.0])), [0.0, 0.0])


# ---------------------------------------------------------------- API and dtypes


def _spectral(x):
    return np.sum(np.abs(np.exp(1j * x) * (x + 2.0)) ** 2)


def test_real_argument_gets_a_real_gradient():
    x = normal(4)
    for dt in (np.float64, np.float32):
        g = s2sgrad.grad(_spectral)(x.astype(dt))
        assert g.dtype == dt
        np.testing.assert_allclose(g, 2 * (x + 2.0), rtol=1e-5)


def test_complex_argument_dtypes_preserved():
    z = cnormal(3)
    for dt in (np.complex128, np.complex64):
        g = s2sgrad.grad(lambda z: np.sum(_abs2(z)))(z.astype(dt))
        assert g.dtype == dt and g.shape == (3,)
    g = s2sgrad.grad(lambda z: _abs2(z))(1.0 + 2.0j)
    assert type(g) is complex and g == 2.0 - 4.0j
    g = s2sgrad.grad(lambda z: _abs2(z))(np.complex64(1.0 + 2.0j))
    assert type(g) is np.complex64


def test_jvp_of_complex_argument():
    z, v = cnormal(3), cnormal(3)
    out, t = s2sgrad.jvp(lambda z: np.sum(_abs2(z)))((z,), (v,))
    np.testing.assert_allclose(t, np.sum(2 * np.real(np.conj(z) * v)), rtol=1e-13)


def _sum_imag(z):
    return np.sum(np.imag(z) * W3)


def test_check_grads_catches_a_wrong_imaginary_part(monkeypatch):
    # imag's cotangent with the wrong sign (+1j g) pairs to 0 with every real
    # direction: only the imaginary direction of check_grads can catch it
    from s2sgrad.primitives.core import REGISTRY
    s2sgrad.check_grads(_sum_imag, (cnormal(3),))
    monkeypatch.setattr(REGISTRY["imag"], "vjp",
                        lambda em, g, out, x: [em.multiply(em.real_if_complex(g), 1j)])
    with pytest.raises(AssertionError, match="imaginary direction"):
        s2sgrad.check_grads(_sum_imag_2, (cnormal(3),))


def _sum_imag_2(z):     # a fresh function: nothing cached from before the patch
    return np.sum(np.imag(z) * W3)


def test_hessian_and_jacobian_refuse_complex_arguments():
    with pytest.raises(InputError, match="complex"):
        s2sgrad.hessian(lambda z: np.sum(_abs2(z)))(cnormal(2))
    with pytest.raises(InputError, match="complex"):
        s2sgrad.jacobian(lambda z: _abs2(z))(cnormal(2))


def _loop(theta):
    z = 1.0 + 0j
    for k in range(3):
        z = z * np.exp(1j * theta[k]) + theta[k]
    return np.abs(z) ** 2


def test_complex_values_in_a_loop():
    s2sgrad.check_grads(_loop, (normal(3),), modes=("rev", "fwd"))


def _complex_literal(x):
    z = x * (2 - 1j) + 1j
    return np.sum(z.real * z.imag + np.abs(z.conj()))


def test_complex_literals_and_attributes():
    x = normal(4)
    assert np.allclose(s2sgrad.value_and_grad(_complex_literal)(x)[0], _complex_literal(x))
    s2sgrad.check_grads(_complex_literal, (x,), modes=("rev", "fwd"))


def test_generated_code_for_real_inputs_has_no_complex_helpers():
    # the helpers are the identity on real values; shape-specialised code drops them
    f = s2sgrad.grad(lambda x: np.sum(np.abs(x)))
    f(normal(3))
    src = f.source
    assert "np.sign(x)" in src and "csign" not in src and "real_if_complex" not in src, src


def _casts(x):
    z = x.astype(complex) * np.exp(1j * x)
    return np.sum(np.abs(z) ** 2) + np.real(np.complex128(x[0]) * 1j) + np.sum(np.isreal(z))


def test_complex_casts_of_real_arguments():
    import warnings
    x = normal(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # no ComplexWarning from the derivative
        np.testing.assert_allclose(s2sgrad.grad(_casts)(x), 2 * x, rtol=1e-14)
    s2sgrad.check_grads(_casts, (x,), modes=("rev", "fwd"))


# ---------------------------------------------------------------- np.sign of complex values
#
# np.sign(z) = z / |z| for complex z: not piecewise constant, so the derivative 0
# that is right for real values would be silently wrong.  A differentiated
# complex operand is refused at run time; real programs pay nothing.


def _sign_loss(z):
    return np.sum(np.real(np.sign(z) * (1 + 2j)))


def _sign_in_loop(z):
    acc = 0.0
    for k in range(2):
        acc = acc + np.sum(np.imag(np.sign(z * (k + 1.0))))
    return acc


def _sign_of_data(x, z):
    return np.sum(x * np.real(np.sign(z)))


def _real_sign(x):
    return np.sum(np.sign(x) * x ** 2)


@pytest.mark.parametrize("f", [_sign_loss, _sign_in_loop], ids=["plain", "loop"])
def test_sign_of_a_differentiated_complex_value_is_refused(f):
    z = cnormal(3)
    for call in (lambda: s2sgrad.grad(f)(z), lambda: s2sgrad.jvp(f)((z,), (z,)),
                 lambda: s2sgrad.vjp(f)(z)[1](1.0)):
        with pytest.raises(TypeError, match="np.sign of real values only"):
            call()


def test_sign_of_complex_data_and_of_reals_is_differentiated():
    x, z = normal(3), cnormal(3)
    np.testing.assert_array_equal(s2sgrad.grad(_sign_of_data)(x, z), np.real(np.sign(z)))
    g = s2sgrad.grad(_real_sign)
    np.testing.assert_allclose(g(x), 2 * np.sign(x) * x, rtol=1e-15)
    assert "check_real" in g.generic_source     # checked in shape-polymorphic code ...
    assert "check_real" not in g.source         # ... and dropped once the dtype is known real
