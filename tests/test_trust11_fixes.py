"""Regression tests for what trust11 found or made exact; each fails on
709bcd7 (refused there, or a wrong number)."""
import numpy as np
import pytest

import s2sgrad
from s2sgrad import runtime


def _fd(f, args, i, eps=1e-6):
    a = [np.array(v, dtype=float) if isinstance(v, np.ndarray) else v for v in args]
    x = a[i]
    g = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        hi, lo = [v.copy(order='K') if isinstance(v, np.ndarray) else v for v in a], \
            [v.copy(order='K') if isinstance(v, np.ndarray) else v for v in a]
        hi[i][k] += eps
        lo[i][k] -= eps
        g[k] = (f(*hi) - f(*lo)) / (2 * eps)
    return g


def _check(f, args, wrt, rtol=1e-6, atol=1e-8):
    kept = [a.copy(order='K') if isinstance(a, np.ndarray) else a for a in args]
    want = f(*[a.copy(order='K') if isinstance(a, np.ndarray) else a for a in args])
    v, g = s2sgrad.value_and_grad(f, wrt=wrt)(*args)
    np.testing.assert_allclose(v, want, rtol=1e-12, atol=1e-12)
    for w, gw in zip(wrt, g):
        np.testing.assert_allclose(gw, _fd(f, args, w), rtol=rtol, atol=atol)
    for a, k in zip(args, kept):
        np.testing.assert_array_equal(a, k)       # the caller's data unchanged


# ---------------------------------------------------------------- loop carries' layouts
# A loop carry written through a view of a transpose (B = A.T; B[1] -= x)
# is, in the generated code, a transpose of a C-ordered copy, where NumPy's
# array keeps its memory and its strides; the next step's reshape is a view
# or a copy by those strides.  On 709bcd7 such a carry was refused at run
# time (runtime.layout_checked: "another memory layout in NumPy") although
# about half of those programs were right; now the carry is copied into an
# array with NumPy's strides at the end of each step and going in, so the
# reshape decides as NumPy does.

def carry_transposed_written(x, W, n):
    A = W.T.copy()
    for t in range(n):
        A = A.T
        u = A.reshape(-1)
        u += 0.1
        B = A.T
        B[1] -= x
    return np.sum(A * np.sin(W))


def carry_reversed_reshaped(x, W, n):
    A = W.copy()
    for t in range(n):
        A = A[::-1]
        u = A.reshape(-1)
        u += 0.1
        u = A.reshape(3, 3, order='F')
        u[0] *= 2.0
    return np.sum(A * np.sin(W))


def carry_fortran_written_through_transpose(x, W, n):
    # (probe seed 9 of the loop-layout probe)
    A = np.asfortranarray(W * 1.0)
    s = 0.0
    for t in range(n):
        A.T[...] = A * 0.5
        u = A.reshape(-1)
        u[::2] *= 1.5 + x[0]
        s = s + np.sum(A.reshape(9)[:4] * A[0, 0])
    return s + np.sum(A * np.sin(W)) + np.sum(A ** 2) * 0.3 + np.sum(A[0] * x)


def carry_reversed_rows_ravel(x, W, n):
    A = W * 1.0
    for t in range(n):
        B = A[::-1, ::-1]
        B[0] = x * 2.0
        A = A.T
        u = A.ravel()
        u[1:4] *= 0.5
    return np.sum(A * np.cos(W)) + np.sum(A[0] * x)


LAYOUT_LOOPS = [carry_transposed_written, carry_reversed_reshaped,
                carry_fortran_written_through_transpose, carry_reversed_rows_ravel]


@pytest.mark.parametrize("f", LAYOUT_LOOPS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_loop_carry_with_another_layout_is_exact(f, n):
    rng = np.random.default_rng(11 + n)
    x, W = rng.normal(size=3), rng.normal(size=(3, 3))
    _check(lambda x, W: f(x, W, n), (x, W), (0, 1))


@pytest.mark.parametrize("f", LAYOUT_LOOPS, ids=lambda f: f.__name__)
def test_loop_carry_layout_fortran_and_float32_arguments(f):
    rng = np.random.default_rng(5)
    x, W = rng.normal(size=3), np.asfortranarray(rng.normal(size=(3, 3)))
    _check(lambda x, W: f(x, W, 3), (x, W), (0, 1))
    x32, W32 = x.astype(np.float32), W.astype(np.float32)
    v, (gx, gW) = s2sgrad.value_and_grad(lambda x, W: f(x, W, 2), wrt=(0, 1))(x32, W32)
    want = f(x32.copy(), W32.copy(order='K'), 2)
    assert np.asarray(v).dtype == np.asarray(want).dtype
    np.testing.assert_allclose(v, want, rtol=1e-5)
    np.testing.assert_allclose(gW, _fd(lambda x, W: f(x, W, 2), (x, W), 1), rtol=2e-3, atol=2e-3)


def test_layout_copy_has_numpy_strides():
    v = np.arange(12.0).reshape(3, 4)
    for w in (np.asfortranarray(v), v[::-1], v[:, ::-1], v.T.copy().T, np.ones((6, 8))[::2, ::2]):
        out = runtime.layout_checked(v, w, what="a loop")
        assert out.strides == w.strides and not np.may_share_memory(out, v) and \
            not np.may_share_memory(out, w)
        np.testing.assert_array_equal(out, v)
        # (the point: a reshape is a view or a copy as NumPy's would be)
        assert np.may_share_memory(out.reshape(-1), out) == np.may_share_memory(w.reshape(-1), w)
    assert runtime.layout_checked(v, v.copy()) is v
    # strides that cannot hold distinct values, or another item size: refused
    w0 = np.lib.stride_tricks.as_strided(v, shape=(3, 4), strides=(8, 8))
    with pytest.raises(ValueError, match="another memory layout"):
        runtime.layout_checked(v, w0, what="a loop")
    with pytest.raises(ValueError, match="another memory layout"):
        runtime.layout_checked(v, np.asfortranarray(v, dtype=np.float32), what="a loop")
