"""More NumPy elementwise functions (s2sgrad/primitives/special.py): specs,
values against NumPy, and the conventions at kinks and singularities."""
import numpy as np
import pytest

import s2sgrad

from .spec import Spec, check_spec, distinct, normal, pos, unit

SPECS = [
    Spec("hypot", lambda x, y: np.sum(np.hypot(x, y)), (normal(3, 1), normal(4)), wrt=(0, 1)),
    Spec("logaddexp2", lambda x, y: np.sum(np.logaddexp2(x, y)), (normal(3, 1), normal(4)),
         wrt=(0, 1)),
    Spec("arcsinh", lambda x: np.sum(np.arcsinh(x)), (normal(4) * 3,)),
    Spec("arccosh", lambda x: np.sum(np.arccosh(x)), (pos(4) + 1.0,)),
    Spec("arctanh", lambda x: np.sum(np.arctanh(x)), (unit(4),)),
    Spec("sinc", lambda x: np.sum(np.sinc(x) * x), (normal(2, 3) * 2,)),
    Spec("sinc", lambda x: np.sum(np.sinc(x)), (normal(5) * 1e-4,), id="sinc-near-zero"),
    Spec("deg2rad", lambda x: np.sum(np.deg2rad(x) ** 2 + np.radians(x)), (normal(4) * 90,)),
    Spec("rad2deg", lambda x: np.sum(np.rad2deg(x) ** 2 + np.degrees(x)), (normal(4),)),
    Spec("fabs", lambda x: np.sum(np.fabs(x) * x), (distinct(5) - 2.5,)),
    Spec("copysign", lambda x, s: np.sum(np.copysign(x, s) ** 3), (distinct(3, 4) - 5.5,
                                                                   normal(4)), wrt=0),
    Spec("float_power", lambda x, p: np.sum(np.float_power(x, p)), (pos(3, 4), normal(4)),
         wrt=(0, 1)),
    Spec("fmod", lambda x, y: np.sum(np.fmod(x, y) ** 2), (distinct(4) - 1.55, pos(4)),
         wrt=(0, 1)),
    Spec("divmod", lambda x, y: np.sum(np.divmod(x, y)[1] ** 2 + np.divmod(x, y)[0]),
         (distinct(3, 4) + 0.3, pos(4)), wrt=(0, 1)),
    Spec("modf", lambda x: np.sum(np.modf(x)[0] ** 2 * np.modf(x)[1]), (distinct(5) + 0.25,)),
    Spec("frexp", lambda x: np.sum(np.frexp(x)[0] ** 2), (pos(4) * 10,)),
    Spec("ldexp", lambda x: np.sum(np.ldexp(x, np.arange(4)) ** 2), (normal(3, 4),)),
    Spec("nextafter", lambda x: np.sum(np.nextafter(x, 0.0) ** 2), (normal(4),)),
    Spec("nan_to_num", lambda x: np.sum(np.nan_to_num(np.log(x)) ** 2), (pos(5),)),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_special(spec):
    check_spec(spec)


def _value_and_grad(f, *args, wrt=0):
    return s2sgrad.value_and_grad(f, wrt=wrt)(*args)


def test_values_match_numpy():
    x, y = normal(3, 4), normal(4)
    p = pos(3, 4) + 1.0
    cases = [
        (lambda x, y: np.sum(np.hypot(x, y) * x), (x, y)),
        (lambda x, y: np.sum(np.logaddexp2(x, y)), (x, y)),
        (lambda x, y: np.sum(np.arcsinh(x) + np.arccosh(p) + np.arctanh(np.tanh(y))), (x, y)),
        (lambda x, y: np.sum(np.sinc(x) + np.fabs(y)), (x, y)),
        (lambda x, y: np.sum(np.copysign(x, y) * np.fmod(x, 0.7)), (x, y)),
        (lambda x, y: np.sum(np.float_power(p, y) + np.nextafter(x, y)), (x, y)),
        (lambda x, y: np.sum(np.modf(x)[0] + np.frexp(x)[0] + np.ldexp(x, 3)), (x, y)),
    ]
    for f, args in cases:
        v, _ = _value_and_grad(f, *args)
        assert v == f(*args)


def test_hypot_at_origin_has_gradient_zero():
    gx, gy = s2sgrad.grad(lambda x, y: np.sum(np.hypot(x, y)), wrt=(0, 1))(
        np.array([0.0, 3.0]), np.array([0.0, 4.0]))
    assert gx[0] == 0.0 and gy[0] == 0.0
    np.testing.assert_allclose([gx[1], gy[1]], [0.6, 0.8], rtol=1e-15)


def test_sinc_derivatives_at_zero():
    f = lambda x: np.sinc(x)  # noqa: E731
    assert s2sgrad.grad(f)(0.0) == 0.0
    d2 = s2sgrad.grad(s2sgrad.grad(f))(0.0)
    np.testing.assert_allclose(d2, -np.pi ** 2 / 3, rtol=1e-14)
    h = s2sgrad.hessian(lambda x: np.sum(np.sinc(x)))(np.array([0.0, 0.5]))
    np.testing.assert_allclose(np.diag(h)[0], -np.pi ** 2 / 3, rtol=1e-14)
    # beside the Taylor switch the derivative is continuous
    a, b = s2sgrad.grad(f)(1e-3 - 1e-12), s2sgrad.grad(f)(1e-3 + 1e-12)
    np.testing.assert_allclose(a, b, rtol=1e-8)
    np.testing.assert_allclose(a, -np.pi ** 2 * 1e-3 / 3, rtol=1e-5)


def test_inverse_hyperbolic_singular_points():
    g = s2sgrad.grad(lambda x: np.sum(np.arccosh(x)))
    with np.errstate(divide="ignore"):
        assert np.isposinf(g(np.array([1.0]))[0])
    g = s2sgrad.grad(lambda x: np.sum(np.arctanh(x)))
    with np.errstate(divide="ignore"):
        assert np.all(np.isposinf(g(np.array([1.0, -1.0]))))
    # arcsinh's derivative does not overflow for huge x
    np.testing.assert_allclose(s2sgrad.grad(lambda x: np.arcsinh(x))(1e200), 1e-200)


def test_copysign_sign_argument_is_data():
    gx, gs = s2sgrad.grad(lambda x, s: np.sum(np.copysign(x, s)), wrt=(0, 1))(
        np.array([-2.0, 3.0, 0.0, 1.0]), np.array([1.0, -1.0, 1.0, -0.0]))
    np.testing.assert_array_equal(gx, [-1.0, -1.0, 0.0, -1.0])
    np.testing.assert_array_equal(gs, [0.0, 0.0, 0.0, 0.0])


def test_nan_to_num_passes_gradient_only_where_finite():
    x = np.array([1.0, np.nan, np.inf, -np.inf, -2.0])
    v, g = _value_and_grad(lambda x: np.sum(np.nan_to_num(x, posinf=5.0, neginf=-5.0) * 3.0), x)
    assert v == np.sum(np.nan_to_num(x, posinf=5.0, neginf=-5.0) * 3.0)
    np.testing.assert_array_equal(g, [3.0, 0.0, 0.0, 0.0, 3.0])


def test_fix_and_spacing_are_data():
    g = s2sgrad.grad(lambda x: np.sum(np.fix(x) * x + np.spacing(x)))(np.array([1.5, -2.5]))
    np.testing.assert_array_equal(g, np.fix([1.5, -2.5]))


def test_float_power_value_is_float64_gradient_keeps_dtype():
    x = pos(4).astype(np.float32)
    v, g = _value_and_grad(lambda x: np.sum(np.float_power(x, 2.5)), x)
    assert v.dtype == np.float64 and g.dtype == np.float32
    np.testing.assert_allclose(g, 2.5 * x.astype(float) ** 1.5, rtol=1e-6)


def _sum_arcsinh(x):
    return np.sum(np.arcsinh(x))


def _sum_arctanh(x):
    return np.sum(np.arctanh(x))


def _sum_hypot2(x):
    return np.sum(np.hypot(x, 2.0))


def test_second_derivatives():
    x = normal(3) * 0.5
    for f, d2 in [(_sum_arcsinh, -x / (x * x + 1) ** 1.5),
                  (_sum_arctanh, 2 * x / (1 - x * x) ** 2),
                  (_sum_hypot2, 4.0 / (x * x + 4) ** 1.5)]:
        h = s2sgrad.hessian(f)(x)
        np.testing.assert_allclose(np.diag(h), d2, rtol=1e-10)
