"""Dtypes (trust4): integer and boolean arrays in losses, writes that cast
(float into int, complex into float), float32 arrays written with float64
values (NumPy keeps float32 and rounds), NumPy integers that wrap, Python
ints too large for an integer array.  The value (and its dtype) is compared
with plain NumPy, the gradient with central finite differences."""
import warnings

import numpy as np
import pytest

from s2sgrad import S2SGradError, grad, value_and_grad
from tests.trust4_harness import agree

R = np.random.default_rng(5)
X = R.normal(size=5)
X32 = X.astype(np.float32)


def int_weights(x):
    return np.sum(x * np.arange(5)) + np.sum(x ** 2 * np.arange(5, dtype=np.int8))


def int_array_written_with_floats(x):
    y = np.arange(5)
    y[1:3] = x[1:3] * 10.0       # truncated: no derivative through the write
    return np.sum(y * x)


def int_array_inplace_int(x):
    y = np.arange(5)
    y *= 3
    y[0] += 7
    return np.sum(y * x) + np.sum(y) * np.sum(x)


def int8_wraps(x):
    w = np.arange(5, dtype=np.int8) * np.int8(60)     # 180, 240 wrap
    return np.sum(w * x)


def uint8_wraps(x):
    w = np.arange(5, dtype=np.uint8) - np.uint8(1)    # 255 at 0
    return np.sum(w * x)


def int32_product_wraps(x):
    n = np.int32(100000)
    return np.sum(x) * float(n * n)


def bool_mask_arith(x):
    m = x > 0
    return np.sum(m * x) + np.sum(x[m] ** 2) + np.sum(m.astype(np.float64) * x ** 3)


def bool_written(x):
    m = np.zeros(5, dtype=bool)
    m[2] = x[2] > 0
    m[3:] = x[3:] * 0.0 + 1.0        # nonzero -> True
    return np.sum(m * x) + np.sum(np.where(m, x, -x))


def astype_int_truncates(x):
    return np.sum(x.astype(int) * x) + np.sum((x * 3).astype(np.int32))


def floor_round_int_div(x):
    return np.sum(np.floor(x * 2) * x) + np.sum(np.round(x) * x) + np.sum((x // 0.5) * x)


def complex_abs2(x):
    z = x + 1j * x[::-1]
    return np.sum(np.abs(z) ** 2)


def complex_into_real_array(x):
    y = x * 1.0
    z = x * (1 + 2j)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y[1:3] = z[1:3]           # NumPy keeps the real part
    return np.sum(y * x)


def complex_real_imag(x):
    z = np.exp(1j * x) * x
    return np.sum(z.real ** 2 - z.imag) + np.sum(np.angle(z + 2.0))


def float64_global_times_float32(x):
    return np.sum(x * np.linspace(0.0, 1.0, 5))


def float32_python_float(x):
    return np.sum(x * 0.1 + x ** 2)


def float32_buffer_written_float64(x):
    y = np.zeros(5, dtype=np.float32)
    y[:] = x * 2.0
    return np.sum(y * x)


def float32_inplace_rounds(x):
    y = np.zeros(5, dtype=np.float32)
    y += 1e8
    y += 1.0                       # float32: 1e8 + 1 rounds to 1e8
    return np.sum(y) - 5e8 + np.sum(x)


def float32_setitem_rounds(x):
    y = x.astype(np.float32)
    y[0] = 1e8
    y[0] += 1.0
    return float(y[0]) - 1e8 + np.sum(x)


def float16_buffer(x):
    y = np.zeros(5, dtype=np.float16)
    y[:] = x
    return np.sum(y.astype(np.float64) * x)


def int_global_scalar_mixing(x):
    k = np.int64(3)
    return np.sum(x ** 2 * k) + np.sum(x * (k // 2))


def python_int_power(x):
    big = 2 ** 70
    return np.sum(x) * (big / 2 ** 69)


def python_int_exact(x):
    return np.sum(x) * 2 ** 64 - np.sum(x ** 2) * (10 ** 20 // 10 ** 19)


def python_int_floordiv_exact(x):
    n = 3 ** 45
    k = -(2 ** 63) - 1
    return np.sum(x * (n // 3 ** 44)) + np.sum(x) * (k % 7) + np.sum(x) * (-(2 ** 70) < -1)


def bool_sum_counts(x):
    return np.sum(x > 0) * np.sum(x) + np.count_nonzero(x < 0.5) * np.sum(x ** 2)


PROGRAMS = [
    (int_weights, (X,)), (int_array_written_with_floats, (X,)), (int_array_inplace_int, (X,)),
    (int8_wraps, (X,)), (uint8_wraps, (X,)), (int32_product_wraps, (X,)),
    (bool_mask_arith, (X,)), (bool_written, (X,)), (astype_int_truncates, (X,)),
    (floor_round_int_div, (X,)), (complex_abs2, (X,)), (complex_into_real_array, (X,)),
    (complex_real_imag, (X,)), (float64_global_times_float32, (X,)),
    (int_global_scalar_mixing, (X,)), (python_int_power, (X,)),
    (bool_sum_counts, (X,)), (float32_inplace_rounds, (X,)), (float32_setitem_rounds, (X,)),
    (python_int_exact, (X,)), (python_int_floordiv_exact, (X,)),
]


@pytest.mark.parametrize("f,args", PROGRAMS, ids=[p[0].__name__ for p in PROGRAMS])
def test_dtype_program(f, args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        agree(f, *args)


F32 = [float64_global_times_float32, float32_python_float, float32_buffer_written_float64,
       float32_inplace_rounds, float32_setitem_rounds, int_weights, bool_mask_arith]


@pytest.mark.parametrize("f", F32, ids=lambda f: f.__name__)
def test_float32_argument(f):
    """The value as NumPy computes it from a float32 argument (dtype and
    rounding); the gradient float32, close to the float64 one."""
    want = f(X32.copy())
    v, g = value_and_grad(f)(X32.copy())
    assert np.asarray(v).dtype == np.asarray(want).dtype
    np.testing.assert_allclose(v, want, rtol=1e-6)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, grad(f)(X), rtol=1e-4, atol=1e-4)


def too_big_for_int32(x):
    a = np.arange(3, dtype=np.int32) * 2 ** 40
    return np.sum(a * x[:3])


def float_added_into_int(x):
    y = np.arange(5)
    y += x                     # NumPy: cannot cast float64 to int64 in place
    return np.sum(y * x)


@pytest.mark.parametrize("f", [too_big_for_int32, float_added_into_int], ids=lambda f: f.__name__)
def test_numpy_errors_are_raised(f):
    with pytest.raises(Exception) as want:
        f(X.copy())
    with pytest.raises(Exception) as got:
        grad(f)(X)
    assert isinstance(want.value, type(got.value)) or isinstance(got.value, S2SGradError)


def test_casts_to_lower_precision_pass_the_derivative():
    """A write into a float32/float16 buffer rounds the value; its derivative
    is the identity's, as for astype (central differences cannot see through
    float16 rounding, so the gradient is checked against the formula)."""
    v, g = value_and_grad(float16_buffer)(X)
    y = X.astype(np.float16).astype(np.float64)
    np.testing.assert_allclose(v, float16_buffer(X.copy()), rtol=1e-13)
    # (y's cotangent x is in y's dtype, float16, as JAX's)
    np.testing.assert_allclose(g, y + X.astype(np.float16), rtol=1e-13)
    v, g = value_and_grad(float32_buffer_written_float64)(X)
    y = (X * 2.0).astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(v, float32_buffer_written_float64(X.copy()), rtol=1e-13)
    np.testing.assert_allclose(g, y + 2 * X, rtol=1e-7)


def test_python_ints_fold_exactly():
    """Constant Python-int arithmetic is Python's (exact), not NumPy's int64:
    s2sgrad gave np.sum(x) * 2 ** 64 = 0.0 (NumPy 1.29e19) and
    10 ** 20 // 10 ** 19 = -1 (Python 10)."""
    v, g = value_and_grad(python_int_exact)(X)
    np.testing.assert_allclose(v, python_int_exact(X), rtol=1e-13)
    np.testing.assert_allclose(g, 2.0 ** 64 - 20 * X, rtol=1e-13)
