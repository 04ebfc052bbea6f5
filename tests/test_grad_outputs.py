"""grad of a function whose output is boolean or integer is refused, as JAX
and autograd refuse it (its zero gradient would hide a mistake); integer
inputs are refused too (InputError), as in JAX."""
import numpy as np
import pytest

import s2sgrad
from s2sgrad.errors import OutputTypeError

X = np.array([0.5, -1.0, 2.0])


def _compare(x):
    return x[0] > 0


def _count(x):
    return np.sum(x > 0)


def _cast(x):
    return np.sum(x).astype(int)


def _argmax(x):
    return np.argmax(x)


def _length(x):
    return len(x)


def _constant(x):
    return 0


@pytest.mark.parametrize("f", [_compare, _count, _cast, _argmax, _length, _constant])
@pytest.mark.parametrize("transform", [s2sgrad.grad, s2sgrad.value_and_grad])
def test_boolean_and_integer_outputs_are_refused(f, transform):
    with pytest.raises(OutputTypeError, match="real-valued"):
        transform(f)(X)
    with pytest.raises(TypeError):          # (what JAX raises, for code that catches it)
        transform(f)(X)


def _floor(x):
    return np.floor(np.sum(x))


def _zero(x):
    return np.sum(x) * 0.0


@pytest.mark.parametrize("f", [_floor, _zero])
def test_float_outputs_without_derivative_give_zeros(f):
    np.testing.assert_array_equal(s2sgrad.grad(f)(X), np.zeros(3))


def test_specialised_code_keeps_no_check_for_float_outputs():
    g = s2sgrad.grad(_zero)
    g(X)
    g(X)
    assert "check_float_output" not in g.source


def test_integer_inputs_are_refused():
    with pytest.raises(s2sgrad.InputError, match="integer"):
        s2sgrad.grad(lambda x: x * 2.0)(3)
