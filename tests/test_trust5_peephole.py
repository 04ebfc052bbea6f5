"""The shared-factor rewrite of the peephole pass, a t + b t + c ->
(a + b) t + c (trust5): only when a and b add in the sum's own float dtype.
Bool cofactors add as logical or (True + True is True), small integers
wrap, float32 cofactors round to float32 before meeting a float64 factor.
Values against plain NumPy, gradients against central differences
(tests/trust4_harness.py)."""
import numpy as np
import pytest

from s2sgrad import value_and_grad
from tests.trust4_harness import agree

X = np.array([0.3, 0.5, 0.7])
M = np.array([True, False, True])


# Before the fix (values with X, M above):
#   bool_cofactors    2.9191634325 (m + b is logical or)  -> 3.8589013264 (NumPy)
#   int8_cofactors    the int8 sum 100 + 100 wrapped to -56 -> NumPy's value
#   float32_cofactors float32 rounding of a + b             -> NumPy's value
#   uint8_cofactors_all_terms gradient: the cotangents 1*a + 1*b were added
#     in uint8 once the seed of ones was dropped, 200 + 100 -> 44:
#     [-13.0029, -21.0947, -28.3456] -> [-88.6561, -143.8277, -193.2653]

def bool_cofactors(x, m):
    t = np.sin(x)
    b = x > -10
    return np.sum(m * t + b * t + x)


def bool_cofactors_broadcast(x, m):
    t = np.sin(x)[:, None] * x
    b = (x > 0)[:, None]
    return np.sum(m * t + b * t + 2.0)


def int8_cofactors(x, m):
    a = m.astype(np.int8) * np.int8(100)
    b = np.full(3, 100, dtype=np.int8)
    t = np.sin(x)
    return np.sum(a * t + b * t + x)


def uint8_cofactors_all_terms(x, m):
    a = np.full(3, 200, dtype=np.uint8)
    b = np.full(3, 100, dtype=np.uint8)
    t = np.cos(x)
    return np.sum(a * t + b * t)


def float32_cofactors(x, m):
    a = (m * 3.1).astype(np.float32)
    b = np.linspace(0.1, 0.9, 3, dtype=np.float32)
    t = np.exp(x)
    return np.sum(a * t + b * t + x)


def float_cofactors(x, m):
    a = x * 3.1
    b = np.cos(x)
    t = np.exp(x)
    return np.sum(a * t + b * t + x)


def int_and_float_cofactors(x, m):
    k = np.arange(3)
    t = np.sin(x)
    return np.sum(k * t + x * t + k)


PROGRAMS = [bool_cofactors, bool_cofactors_broadcast, int8_cofactors, uint8_cofactors_all_terms,
            float32_cofactors, float_cofactors, int_and_float_cofactors]


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_shared_factor_dtypes(f):
    agree(f, X, M, hess=True)


def test_bool_cofactors_value_before_fix():
    # the number the rewrite gave before: logical or of the masks
    v = value_and_grad(bool_cofactors)(X, M)[0]
    assert v == bool_cofactors(X, M)
    assert not np.isclose(v, 2.9191634325032334)


@pytest.mark.parametrize("f", [int8_cofactors, float32_cofactors], ids=lambda f: f.__name__)
def test_exact_value(f):
    # bitwise: the sum is not regrouped when the cofactors are not float64
    assert value_and_grad(f)(X, M)[0] == f(X, M)


def test_nan_and_inf_cofactors():
    def f(x, m):
        a = np.array([np.inf, 1.0, np.nan])
        b = np.array([-np.inf, 2.0, 0.0])
        t = np.sin(x)
        return np.sum(np.nan_to_num(a * t + b * t, nan=0.5, posinf=3.0, neginf=-3.0) + x * t)
    with np.errstate(invalid="ignore"):
        v, g = value_and_grad(f)(X, M)
        np.testing.assert_array_equal(v, f(X, M))
    np.testing.assert_allclose(g[1], np.cos(X[1]) * 3.0 + np.sin(X[1]) + X[1] * np.cos(X[1]))
