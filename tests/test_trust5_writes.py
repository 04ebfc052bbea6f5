"""Writes lifted or made exact in trust5: ``out=`` of NumPy functions that
are not ufuncs (np.clip broadcasts and casts like the ufunc inside it;
np.cumsum, np.sum, ... need ``out`` of the result's shape and dtype), and
NumPy's 'same_kind' cast of np.copyto and ufunc ``out=`` (a float result
written into an int array raised in NumPy and was truncated by s2sgrad).
Values against plain NumPy, gradients against central differences, the
caller's arguments unchanged, a second call (tests/trust4_harness.py)."""
import numpy as np
import pytest

from s2sgrad import value_and_grad
from tests.trust4_harness import agree

X = np.array([0.3, 0.1, 0.7])
W = np.array([[0.5, -1.2, 0.4], [2.0, 0.3, -0.7]])


def clip_out(x):
    y = np.empty_like(x)
    r = np.clip(x * 2, -1, 1, out=y)
    return np.sum(y ** 2) + np.sum(r)          # r is y


def clip_out_view(x):
    y = np.zeros((2, 3))
    np.clip(x, 0.2, 0.5, out=y[1])
    return np.sum(y * x)


def clip_out_broadcast(x):
    y = np.zeros((2, 3))
    np.clip(x, 0.2, 0.5, out=y)               # (3,) broadcast into (2, 3), as the ufunc does
    return np.sum(y * x)


def clip_out_itself(x):
    y = x * 3.0
    np.clip(y, -1.0, 1.0, out=y)
    return np.sum(np.sin(y) * x)


def cumsum_out(x):
    y = np.empty_like(x)
    np.cumsum(x, out=y)
    return np.sum(y ** 2)


def cumsum_out_aliased(x):
    y = x * 1.0
    v = y[::-1]                                # a view of y sees the write
    np.cumsum(y, out=y)
    return np.sum(v * x)


def sum_out_rows(x):
    y = np.zeros((2,))
    np.sum(np.stack([x, x ** 2]), axis=1, out=y)
    return np.sum(y ** 2)


def cumprod_out_loop(x):
    y = np.ones(3)
    for t in range(3):
        np.cumprod(x + t * y, out=y)
    return np.sum(y)


def ufunc_out_float32(x):
    y = np.zeros(3, dtype=np.float32)
    np.multiply(x, 2.0, out=y)                 # float64 into float32: same_kind
    return np.sum(y * x)


PROGRAMS = [clip_out, clip_out_view, clip_out_broadcast, clip_out_itself, cumsum_out,
            cumsum_out_aliased, sum_out_rows, cumprod_out_loop]


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_out_of_functions(f):
    agree(f, X, hess=f is not clip_out_broadcast)


def test_out_other_shapes_second_call():
    g = value_and_grad(cumsum_out)
    for x in (X, np.linspace(-1, 1, 7), np.array([2.0])):
        v, d = g(x)
        np.testing.assert_allclose(v, cumsum_out(x.copy()), rtol=1e-12)
        np.testing.assert_allclose(d, 2 * np.cumsum(np.cumsum(x)[::-1])[::-1], rtol=1e-12)


def test_out_float32_value():
    v, g = value_and_grad(ufunc_out_float32)(X)
    assert v == ufunc_out_float32(X)
    np.testing.assert_allclose(g, 2.0 * X + np.float32(2.0 * X), rtol=1e-6)


# ----------------------------------------------------- errors where NumPy raises
# Before: value 1.2 and gradient [0, 1, 1] (the product truncated into the int
# array) where NumPy raises; now NumPy's TypeError.

def ufunc_out_int(x):
    y = np.zeros(3, dtype=np.int64)
    np.multiply(x, 2.5, out=y)
    return np.sum(x * y)


def copyto_int(x):
    y = np.zeros(3, dtype=np.int64)
    np.copyto(y, x * 2.5)
    return np.sum(x * y)


def copyto_complex_into_float(x):
    y = np.zeros(3)
    np.copyto(y, x * 1j)
    return np.sum(x * y)


def clip_out_int(x):
    y = np.zeros(3, dtype=int)
    np.clip(x, 0, 1, out=y)
    return np.sum(y * x)


@pytest.mark.parametrize("f", [ufunc_out_int, copyto_int, copyto_complex_into_float,
                               clip_out_int], ids=lambda f: f.__name__)
def test_cast_across_kinds_raises_like_numpy(f):
    with pytest.raises(TypeError):
        f(X.copy())
    with pytest.raises(TypeError, match="same_kind"):
        value_and_grad(f)(X)


def test_copyto_unsafe_casting_is_numpy():
    def f(x):
        y = np.zeros(3, dtype=np.int64)
        np.copyto(y, x * 25.0, casting="unsafe")
        return np.sum(x * y)
    agree(f, X, fwd=False)


def test_copyto_python_scalars():
    def f(x):
        y = x * 1.0
        np.copyto(y, 2)                        # int into float: allowed
        z = np.zeros(3, dtype=np.int64)
        np.copyto(z, True)
        return np.sum(y * x) + np.sum(z * x)
    agree(f, X)

    def g(x):
        z = np.zeros(3, dtype=np.int64)
        np.copyto(z, 2.5)                      # a float into an int array: NumPy raises
        return np.sum(z * x)
    with pytest.raises(TypeError):
        g(X)
    with pytest.raises(TypeError, match="same_kind"):
        value_and_grad(g)(X)


def test_out_of_another_dtype_or_shape_is_an_error_naming_the_line():
    def cumsum_int(x):
        y = np.zeros(3, dtype=int)
        np.cumsum(x, out=y)                    # NumPy: [0, 0, 1]; not followed
        return np.sum(y * x)

    def cumsum_shape(x):
        y = np.zeros((2, 3))
        np.cumsum(x, out=y)                    # NumPy raises ValueError too
        return np.sum(y * x)
    with pytest.raises(TypeError, match=r"test_trust5_writes.py:\d+: np.cumsum\(\.\.\., out="):
        value_and_grad(cumsum_int)(X)
    with pytest.raises(ValueError):
        cumsum_shape(X)
    with pytest.raises(ValueError, match=r"test_trust5_writes.py:\d+: np.cumsum"):
        value_and_grad(cumsum_shape)(X)


def test_out_none_is_no_write():
    def f(x):
        return np.sum(np.cumsum(x, out=None) ** 2)
    agree(f, X)


# ------------------------------------------------------ refusals kept, with clearer messages
# (the user's file and line, the construct, what to write instead)

def imag_augmented(x):
    z = x * (1 + 2j)
    z.imag += x
    return np.sum(np.abs(z) ** 2)


def real_assigned(x):
    z = x * (1 + 2j)
    z.real = x ** 2
    return np.sum(np.abs(z) ** 2)


def int_of_data(x):
    i = int(x[0] > 0)
    return np.sum(x) * i


def test_int_of_data_is_a_constant_with_derivative_zero():
    # int() of a computed value is data (cov9, as autograd): its value is
    # NumPy's and nothing flows back through it
    for x in (X, -X, np.array([0.0, 1.0, 2.0])):
        val, g = value_and_grad(int_of_data)(x)
        i = int(x[0] > 0)
        assert val == np.sum(x) * i
        np.testing.assert_array_equal(g, np.full_like(x, float(i)))


def shape_assigned(x):
    y = x * 2
    y.shape = (3, 1)
    return np.sum(y * x[:, None].T)


def branch_view_write(x, c):
    y = x * 1.0
    v = y[:2] if c > 0 else y[1:]
    v[...] = np.sin(v)
    return np.sum(y ** 2)


def branch_view_two_arrays_write(x, c):
    # (branch_view_write, views of one array, is exact since trust13)
    y = x * 1.0
    z = x * 2.0
    v = y[:2] if c > 0 else z[1:3]
    v[...] = np.sin(v)
    return np.sum(y ** 2) + np.sum(z)


def runtime_list_item_write(x):
    ys = [x * 1.0, x * 2.0]
    i = np.argmax(x[:2])
    ys[i][0] = 5.0
    return np.sum(ys[0] * ys[1])


@pytest.mark.parametrize("f,args,match", [
    (imag_augmented, (X,), r"'z\.imag \+= \.\.\.'.*z = z \+ 1j \* v"),
    (real_assigned, (X,), r"attribute \.real.*z = x \+ 1j \* z\.imag"),
    (shape_assigned, (X,), r"\.shape.*reshape"),
    (branch_view_two_arrays_write, (X, 1.0), r"may or may not change 'y'.*\.copy\(\)"),
    (runtime_list_item_write, (X,), r"list built at run time.*xs\[i\] = new"),
], ids=lambda p: getattr(p, "__name__", None))
def test_refusal_names_line_and_advice(f, args, match):
    from tests.trust4_harness import refuses
    err = refuses(f, *args, match=match)
    assert f"test_trust5_writes.py:{err.lineno}:" in str(err)
