"""Subgradients at kinks of maximum/minimum against constants (ReLU), exact
values: the step-function form of the rule keeps the documented convention
(ties split 0.5 / 0.5) in reverse, forward and second-order derivatives."""
import numpy as np
import pytest

from s2sgrad import check_grads, grad, hessian, jvp


@pytest.mark.parametrize("f, expected", [
    (lambda x: np.sum(np.maximum(x, 0.0)), [0.0, 0.5, 1.0]),
    (lambda x: np.sum(np.maximum(0.0, x)), [0.0, 0.5, 1.0]),
    (lambda x: np.sum(np.minimum(x, 0.0)), [1.0, 0.5, 0.0]),
    (lambda x: np.sum(np.minimum(0, x) * 3.0), [3.0, 1.5, 0.0]),
    (lambda x: np.sum(np.maximum(x, x * 0.0)), [0.0, 0.5, 1.0]),   # not a constant
])
def test_relu_kink_convention(f, expected):
    x = np.array([-1.5, 0.0, 2.0])
    for _ in range(2):                     # polymorphic and specialised code
        np.testing.assert_array_equal(grad(f)(x), expected)
    _, t = jvp(f)((x,), (np.ones(3),))
    assert t == pytest.approx(sum(expected))


def test_relu_nan_input_passes_no_gradient():
    x = np.array([np.nan, 1.0])
    for _ in range(2):
        np.testing.assert_array_equal(grad(lambda x: np.sum(np.maximum(x, 0.0)))(x), [0.0, 1.0])


def test_relu_second_derivative_is_zero_and_float32_kept():
    f = lambda x: np.sum(np.maximum(x, 0.5) ** 2)            # noqa: E731
    x = np.array([0.0, 1.0, 2.0], dtype=np.float32)
    g = grad(f)(x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, [0.0, 2.0, 4.0])
    np.testing.assert_allclose(hessian(f)(x.astype(np.float64)), np.diag([0.0, 2.0, 2.0]))


def test_relu_source_is_one_step_function():
    g = grad(lambda x: np.sum(np.maximum(x * 2.0, 0.0)))
    g(np.array([1.0, -1.0]))
    code = [ln for ln in g.source.splitlines() if not ln.strip().startswith("#")]
    # g * (d >= 0) with the tie's 1/2 put back (ties_halved): the values of
    # (sign(d) + 1) * 0.5 with NaN to 0, heaviside(d, 0.5)'s, in one comparison
    assert sum(">= 0.0" in ln for ln in code) == 1 and \
        sum("ties_halved(" in ln for ln in code) == 1 and \
        not any("where" in ln or "np.sign(" in ln for ln in code)


@pytest.mark.parametrize("f", [
    lambda x: np.sum(np.maximum(x, 0.3) * x),
    lambda x: np.sum(np.minimum(-0.2, x) ** 2),
    lambda x: np.sum(np.maximum(2, x * 3.0)),
])
def test_step_function_rule_against_finite_differences(f):
    """Away from the kink, the step-function form against a constant agrees
    with central differences in both modes."""
    x = np.array([-1.3, 0.1, 0.7, 1.9])
    check_grads(f, (x,), modes=("rev", "fwd"))
    check_grads(f, (x.astype(np.float32),), modes=("rev",))


# ---------------------------------------------------------------- power at 0
# Convention (JAX/autograd): x ** 0 has derivative 0 everywhere; the
# exponent's derivative out * log(x) is 0 where the base is 0.

def _pow0(x):
    return x ** 0.0


def _pow_sum(x, y):
    return np.sum(x ** y)


def _pow_base0(y):
    return np.sum(np.power(0.0, y))


def test_power_zero_exponent_has_zero_derivative_at_zero():
    assert _pow0(0.0) == 1.0
    for x in (0.0, np.zeros(3), np.float32(0.0)):
        g = grad(_pow0)(x)
        np.testing.assert_array_equal(g, np.zeros_like(x))
        assert type(g) is type(x)
    _, t = jvp(_pow0)((0.0,), (1.0,))
    assert t == 0.0
    assert hessian(_pow0)(0.0) == 0.0


def test_power_exponent_derivative_is_zero_at_zero_base():
    y = np.array([1.0, 2.5])
    assert _pow_base0(y) == 0.0
    np.testing.assert_array_equal(grad(_pow_base0)(y), [0.0, 0.0])
    _, t = jvp(_pow_base0)((y,), (np.ones(2),))
    assert t == 0.0
    np.testing.assert_array_equal(hessian(_pow_base0)(y), np.zeros((2, 2)))


def test_power_both_operands_at_and_near_zero():
    x = np.array([0.0, 1.5, 0.0])
    y = np.array([2.0, 1.5, 3.0])
    assert _pow_sum(x, y) == pytest.approx(1.5 ** 1.5)
    gx, gy = grad(_pow_sum, wrt=(0, 1))(x, y)
    np.testing.assert_allclose(gx, [0.0, 1.5 * 1.5 ** 0.5, 0.0])
    np.testing.assert_allclose(gy, [0.0, 1.5 ** 1.5 * np.log(1.5), 0.0])
    # second order, exactly at 0: d2/dx2 x**2 = 2, d2/dx2 x**3 = 0, d2/dy2 0**y = 0
    np.testing.assert_allclose(hessian(_pow_sum, wrt=0)(x, y),
                               np.diag([2.0, 1.5 * 0.5 * 1.5 ** -0.5, 0.0]))
    hy = hessian(_pow_sum, wrt=1)(x, y)
    assert np.all(np.isfinite(hy)) and hy[0, 0] == 0.0 and hy[2, 2] == 0.0
    # near 0, against finite differences, in both modes
    for p in (0.0, 0.5, 1.0, 2.0):
        check_grads(_pow_sum, (np.array([1e-3, 0.7]), np.array([p, p + 0.1])), wrt=(0, 1),
                    modes=("rev", "fwd"))


def test_power_fractional_exponent_at_zero_is_inf_not_an_exception():
    with np.errstate(divide="ignore"):
        assert grad(lambda x: x ** 0.5)(0.0) == np.inf       # the one-sided limit, as sqrt
