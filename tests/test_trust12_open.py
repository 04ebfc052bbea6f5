"""Known wrong numbers, open at the end of session 25 (already on bcc0d16):
strict xfails, so the fix flips them and the suite says so.

A reshape's view-or-copy test follows the versions a write made back to
NumPy's memory (lower.aliasing.numpy_memory), but not the layout a new
value inherits from such a version through an elementwise operation: the
IR's versions are C-ordered copies where NumPy's array keeps its own strides
(an F-ordered argument; a carry written through ``A.T``).  A later reshape of
that value, written through, is then a view in one and a copy in the other.
"""
import numpy as np
import pytest

import s2sgrad


def f_argument(x, W):
    W[0] += x
    B = W * 2.0
    u = B.reshape(9)
    u[0] += 1.0
    return np.sum(np.sin(B) * x) + np.sum(W)


def f_loop(x, W, n):
    A = W.copy()
    for t in range(n):
        A = A * 0.95
        u = A.reshape(9)
        u[t % 9] += 0.1 * x[0]
        A.T[1] *= 1.05
    return np.sum(A * np.sin(W))


@pytest.mark.xfail(strict=True, reason="layout inherited through an elementwise result "
                                       "of a written F-ordered array (session 25 note)")
def test_f_ordered_argument_written_then_reshaped():
    rng = np.random.default_rng(0)
    x, W = rng.normal(size=3), np.asfortranarray(rng.normal(size=(3, 3)))
    want = f_argument(x.copy(), W.copy(order="K"))
    v, _ = s2sgrad.value_and_grad(f_argument)(x, W)
    np.testing.assert_allclose(v, want, rtol=1e-12)


@pytest.mark.xfail(strict=True, reason="a carry written through A.T is F-ordered in the "
                                       "IR (trust12 harness seed 5309; session 25 note)")
def test_carry_written_through_transpose_then_reshaped():
    rng = np.random.default_rng(0)
    x, W = rng.normal(size=4), rng.normal(size=(3, 3))
    want = f_loop(x.copy(), W.copy(), 2)
    v, _ = s2sgrad.value_and_grad(f_loop, wrt=(0, 1))(x, W, 2)
    np.testing.assert_allclose(v, want, rtol=1e-12)


def test_the_same_programs_are_right_where_the_layouts_agree():
    rng = np.random.default_rng(0)
    x, W = rng.normal(size=3), rng.normal(size=(3, 3))           # C-ordered W
    v, _ = s2sgrad.value_and_grad(f_argument)(x, W)
    np.testing.assert_allclose(v, f_argument(x.copy(), W.copy()), rtol=1e-12)
    x4 = rng.normal(size=4)
    v, _ = s2sgrad.value_and_grad(f_loop, wrt=(0, 1))(x4, W, 1)   # one step: no transpose yet
    np.testing.assert_allclose(v, f_loop(x4.copy(), W.copy(), 1), rtol=1e-12)
