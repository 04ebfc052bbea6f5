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
    assert sum("heaviside" in ln for ln in code) == 1 and not any("where" in ln for ln in code)


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
