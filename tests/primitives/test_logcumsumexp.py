"""np.logaddexp.accumulate (torch.logcumsumexp, JAX's cumlogsumexp): values
vs NumPy, gradients vs central differences (SPECS: float64, float32, the
jvp/vjp identity) along every axis, with wide-range inputs where a shifted
cumsum would underflow; the second derivative is refused clearly."""
import numpy as np
import pytest

import s2sgrad
import s2sgrad.runtime as rt

from .spec import Spec, check_spec, normal

W34 = normal(3, 4)
X34 = normal(3, 4)


def _lcse_axis1(x):
    return np.sum(np.logaddexp.accumulate(x, axis=1) * W34)


def _lcse_default(x):
    return np.sum(np.sin(np.logaddexp.accumulate(x)) * W34)


def _lcse_vector(x):
    y = np.logaddexp.accumulate(2.0 * x[0])       # a Python scalar, a reused input
    return np.sum(y * x[1]) + y[-1]


def _lcse_wide(x):
    # entries 1000 apart: exp(x - max) underflows, NumPy's accumulate does not
    return np.sum(np.logaddexp.accumulate(x + np.array([-1000.0, 0.0, 3.0, -2000.0]),
                                          axis=-1) * W34)


SPECS = [
    Spec("logaddexp_accumulate", _lcse_axis1, (normal(3, 4),), id="lcse-axis1"),
    Spec("logaddexp_accumulate", _lcse_default, (normal(3, 4),), id="lcse-axis0"),
    Spec("logaddexp_accumulate", _lcse_vector, (normal(2, 5),), id="lcse-vector-reused"),
    Spec("logaddexp_accumulate", _lcse_wide, (normal(3, 4),), id="lcse-wide-range"),
    Spec("logaddexp_accumulate_tangent",
         lambda t: np.sum(rt.logaddexp_accumulate_tangent(
             t, X34, np.logaddexp.accumulate(X34, axis=1), axis=1) * W34), (normal(3, 4),)),
    Spec("logaddexp_accumulate_adjoint",
         lambda g: np.sum(rt.logaddexp_accumulate_adjoint(
             g, X34, np.logaddexp.accumulate(X34), axis=0) ** 2), (normal(3, 4),)),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_spec(spec):
    """float64 central differences (both modes) and float32 gradients."""
    check_spec(spec)


def test_value_is_numpys():
    def f(x):
        return np.logaddexp.accumulate(x, axis=1)

    x = normal(3, 4) * 100.0
    out, pullback = s2sgrad.vjp(f)(x)
    np.testing.assert_array_equal(out, np.logaddexp.accumulate(x, axis=1))
    # the cotangent of the last entry of each row is softmax of the row
    g = np.zeros_like(x)
    g[:, -1] = 1.0
    sm = np.exp(x - np.logaddexp.reduce(x, axis=1, keepdims=True))
    np.testing.assert_allclose(pullback(g), sm, atol=1e-12)


def test_second_derivative():
    """The helpers differentiate in x and out too (they were data, and a
    second derivative was refused): the Hessian against differences of the
    gradient, along and across the accumulated axis."""
    def f(x):
        return np.sum(np.logaddexp.accumulate(x) ** 2)

    def f2(x):
        return np.sum(np.sin(np.logaddexp.accumulate(x, axis=1)))

    for fn, x in ((f, normal(3)), (f2, normal(2, 3))):
        H = s2sgrad.hessian(fn)(x)
        g = s2sgrad.grad(fn)
        h = 1e-6
        fd = np.stack([(g(x + h * e.reshape(x.shape)) - g(x - h * e.reshape(x.shape))) / (2 * h)
                       for e in np.eye(x.size)], axis=-1).reshape(x.shape + x.shape)
        np.testing.assert_allclose(H, fd, rtol=1e-6, atol=1e-8)
