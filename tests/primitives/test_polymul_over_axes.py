"""np.polymul (np.convolve of the coefficients, leading zeros refused at run
time), np.polydiv (the remainder's length checked at run
time) and np.apply_over_axes (the passes unrolled; the axis put back by
``axes_kept``): values against NumPy, derivatives against finite
differences."""
import numpy as np
import pytest

import s2sgrad

from .spec import Spec, check_spec, normal

W4 = normal(4)


def _polymul(a, b):
    return np.sum(np.polymul(a, b) ** 2)


def _polymul_list_scalar(a):
    # a list literal, a Python scalar, and a used twice
    return np.sum(np.polymul([1.0, 2.0], a) * W4) + np.sum(np.polymul(a, 3.0) * a)


def _polydiv(u, v):
    q, r = np.polydiv(u, v)
    return np.sum(q ** 2) + np.sum(r * np.arange(1.0, r.shape[0] + 1))


def _polydiv_quotient(u):
    # only the quotient used, a Python-list divisor, u used again
    return np.sum(np.polydiv(u, [2.0, 0.5])[0] * u[:3])


def _over_axes_sum(x):
    return np.sum(np.apply_over_axes(np.sum, x, [0, 2]) ** 2)


def _over_axes_keepdims_lambda(x):
    # func keeps the axis itself; the result broadcasts against x
    return np.sum(np.apply_over_axes(lambda a, ax: np.mean(a ** 2, axis=ax, keepdims=True),
                                     x, (1,)) * x)


def _over_axes_negative(x):
    return np.sum(np.apply_over_axes(np.max, x, [-1, 0]) ** 3)


SPECS = [
    Spec(("polymul", "poly_coefficients"), _polymul, (normal(3), normal(2)), wrt=(0, 1),
         id="polymul"),
    Spec(("polymul", "poly_coefficients"), _polymul_list_scalar, (normal(3),),
         id="polymul-list-scalar"),
    Spec("polydiv", _polydiv, (normal(5), normal(3)), wrt=(0, 1), id="polydiv"),
    Spec("polydiv", _polydiv, (normal(4), normal(1)), wrt=(0, 1), id="polydiv-constant"),
    Spec("polydiv", _polydiv, (normal(2), normal(4)), wrt=(0, 1), id="polydiv-shorter"),
    Spec("polydiv", _polydiv_quotient, (normal(4),), id="polydiv-quotient"),
    Spec("axes_kept", _over_axes_sum, (normal(2, 3, 4),), id="apply_over_axes-sum"),
    Spec("axes_kept", _over_axes_keepdims_lambda, (normal(2, 3, 4),),
         id="apply_over_axes-keepdims-lambda"),
    Spec("axes_kept", _over_axes_negative, (normal(2, 3, 4),), id="apply_over_axes-negative"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_polymul_over_axes(spec):
    check_spec(spec)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_values_are_numpys(spec):
    v, _ = s2sgrad.value_and_grad(spec.fn, wrt=spec.wrt)(*spec.args)
    assert v == pytest.approx(spec.fn(*spec.args), rel=1e-13)


def test_polymul_leading_zero_is_refused_at_run_time():
    g = s2sgrad.grad(_polymul)
    with pytest.raises(ValueError, match="leading coefficient is 0"):
        g(np.array([0.0, 1.0, 2.0]), normal(2))
    # a single zero coefficient is no trim: NumPy's value
    assert g(np.array([0.0]), normal(2)).shape == (1,)


def _over_axes_wrong_rank(x):
    return np.sum(np.apply_over_axes(lambda a, ax: np.sum(a), x, [0]))


def test_apply_over_axes_wrong_rank_is_numpys_error():
    with pytest.raises(ValueError, match="correct shape"):
        s2sgrad.grad(_over_axes_wrong_rank)(normal(2, 3))


def test_polydiv_short_remainder_is_refused_at_run_time():
    # x^3 + x + 1 = x (x^2 + 1) + 1: NumPy drops the remainder's leading 0
    with pytest.raises(ValueError, match="remainder has 1 coefficients instead of 2"):
        s2sgrad.grad(_polydiv)(np.array([1.0, 0.0, 1.0, 1.0]), np.array([1.0, 0.0, 1.0]))
    # an exact division by a linear factor keeps NumPy's [0.]
    g = s2sgrad.grad(_polydiv)(np.array([1.0, 2.0, 1.0]), np.array([1.0, 1.0]))
    assert g.shape == (3,)


def test_polydiv_second_derivative_is_refused():
    with pytest.raises(s2sgrad.S2SGradError):
        s2sgrad.hessian(_polydiv_quotient)(normal(4))
