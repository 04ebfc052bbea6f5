import numpy as np
import pytest

from s2sgrad import runtime

from .spec import Spec, check_spec, normal, pos, unit, distinct

SPECS = [
    Spec("add", lambda x, y: np.sum((x + y) ** 2), (normal(3, 1), normal(1, 4)), wrt=(0, 1)),
    Spec("subtract", lambda x, y: np.sum((x - y) ** 2), (normal(3, 1), normal(4)), wrt=(0, 1)),
    Spec("multiply", lambda x, y: np.sum(x * y * x), (normal(3, 4), normal(4)), wrt=(0, 1)),
    Spec("divide", lambda x, y: np.sum(x / y), (normal(3, 4), pos(3, 1)), wrt=(0, 1)),
    Spec("negative", lambda x: np.sum(-x * x), (normal(5),)),
    Spec("positive", lambda x: np.sum(+x * x), (normal(5),)),
    Spec("power", lambda x, p: np.sum(x ** p), (pos(3, 4), normal(4)), wrt=(0, 1)),
    Spec("square", lambda x: np.sum(np.square(x)), (normal(2, 3),)),
    Spec("sqrt", lambda x: np.sum(np.sqrt(x)), (pos(4),)),
    Spec("cbrt", lambda x: np.sum(np.cbrt(x)), (pos(4),)),
    Spec("reciprocal", lambda x: np.sum(np.reciprocal(x)), (pos(4),)),
    Spec("exp", lambda x: np.sum(np.exp(x)), (normal(3, 2),)),
    Spec("expm1", lambda x: np.sum(np.expm1(x)), (normal(3),)),
    Spec("exp2", lambda x: np.sum(np.exp2(x)), (normal(3),)),
    Spec("log", lambda x: np.sum(np.log(x)), (pos(3, 2),)),
    Spec("log1p", lambda x: np.sum(np.log1p(x)), (pos(3),)),
    Spec("log2", lambda x: np.sum(np.log2(x)), (pos(3),)),
    Spec("log10", lambda x: np.sum(np.log10(x)), (pos(3),)),
    Spec("logaddexp", lambda x, y: np.sum(np.logaddexp(x, y)), (normal(3, 1), normal(4)),
         wrt=(0, 1)),
    Spec("sin", lambda x: np.sum(np.sin(x)), (normal(4),)),
    Spec("cos", lambda x: np.sum(np.cos(x)), (normal(4),)),
    Spec("tan", lambda x: np.sum(np.tan(x)), (unit(4),)),
    Spec("arcsin", lambda x: np.sum(np.arcsin(x)), (unit(4),)),
    Spec("arccos", lambda x: np.sum(np.arccos(x)), (unit(4),)),
    Spec("arctan", lambda x: np.sum(np.arctan(x)), (normal(4),)),
    Spec("arctan2", lambda y, x: np.sum(np.arctan2(y, x)), (normal(3, 1), pos(4)), wrt=(0, 1)),
    Spec("sinh", lambda x: np.sum(np.sinh(x)), (normal(4),)),
    Spec("cosh", lambda x: np.sum(np.cosh(x)), (normal(4),)),
    Spec("tanh", lambda x: np.sum(np.tanh(x)), (normal(4),)),
    Spec("absolute", lambda x: np.sum(np.abs(x) * x), (distinct(5) - 2.5,)),
    Spec("maximum", lambda x, y: np.sum(np.maximum(x, y)), (distinct(3, 4), distinct(4)),
         wrt=(0, 1)),
    Spec("minimum", lambda x, y: np.sum(np.minimum(x, y)), (distinct(3, 4), distinct(4)),
         wrt=(0, 1)),
    Spec("fmax", lambda x, y: np.sum(np.fmax(x, y)), (distinct(4), distinct(4)), wrt=(0, 1)),
    Spec("fmin", lambda x, y: np.sum(np.fmin(x, y)), (distinct(4), distinct(4)), wrt=(0, 1)),
    Spec("where", lambda c, x, y: np.sum(np.where(c > 0, x, y) ** 2),
         (normal(3, 4), normal(3, 4), normal(4)), wrt=(1, 2)),
    Spec("clip", lambda x: np.sum(np.clip(x, -0.5, 0.5) ** 2), (distinct(6) / 3 - 1,)),
    # variable bounds (broadcasting against x), differentiable: the JAX port
    Spec("clip_bounds", lambda x, lo, hi: np.sum(np.clip(x, lo, hi) ** 2),
         (distinct(3, 4) / 6 - 1, -0.5 - distinct(4) / 10, 0.3 + distinct(3, 1) / 10),
         wrt=(0, 1, 2)),
    Spec("clip_bounds", lambda x, lo: np.sum(x.clip(lo) * x), (distinct(6) / 3 - 1, 0.1),
         wrt=(0, 1), id="clip_bounds-method-scalar", float32=False),
    Spec("clip_bounds", lambda x, hi: np.sum(np.clip(x, max=hi) ** 3),
         (distinct(6) / 3 - 1, distinct(6) / 4 - 0.8), wrt=(0, 1), id="clip_bounds-max-kw"),
    Spec("clip_bounds", lambda x, lo, hi: np.sum(np.clip(x, lo, hi) ** 2),
         (distinct(5) / 3 - 1, 0.6 + distinct(5) / 10, distinct(5) / 10 - 0.3),
         wrt=(0, 1, 2), id="clip_bounds-crossed"),
    Spec("remainder", lambda x, y: np.sum(x % y), (pos(4) + 3.1, pos(4)), wrt=(0, 1)),
    Spec("float", lambda x: float(np.sum(x)) * 2.0, (normal(3),)),
    Spec("sigmoid", lambda x: np.sum(runtime.sigmoid(x * 3.0)), (normal(5),)),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_elementwise(spec):
    check_spec(spec)


def test_abs_subgradient_at_zero_is_zero():
    import s2sgrad
    g = s2sgrad.grad(lambda x: np.sum(np.abs(x)))(np.array([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(g, [-1.0, 0.0, 1.0])


def test_maximum_tie_splits_equally():
    import s2sgrad
    gx, gy = s2sgrad.grad(lambda x, y: np.sum(np.maximum(x, y)), wrt=(0, 1))(
        np.array([1.0, 2.0]), np.array([1.0, 3.0]))
    np.testing.assert_array_equal(gx, [0.5, 0.0])
    np.testing.assert_array_equal(gy, [0.5, 1.0])


def test_power_second_derivative_at_zero_exponent():
    # x ** y at y = 0: d/dx is 0 (the JAX/autograd convention) and so is its own
    # derivative; the branch not taken read 0 ** -1, a NaN in the Hessian
    # (found by the autograd port's power_y0_at_0)
    import s2sgrad

    def f(x, y):
        return np.power(x, y)

    assert s2sgrad.grad(s2sgrad.grad(f))(0.0, 0.0) == 0.0
    h = s2sgrad.hessian(lambda x, y: np.sum(x ** y), wrt=0)(np.array([0.0, 1.5]),
                                                               np.array([0.0, 2.0]))
    np.testing.assert_allclose(h, np.diag([0.0, 2.0]))
