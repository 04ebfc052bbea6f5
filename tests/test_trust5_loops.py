"""Loops that session 18's tapes and zip specialisation could get wrong
(trust5): writes through the items of ``zip``/``enumerate``/``reversed``
of views (``for a, b in zip(A, A[1:]): b += a * x`` changes the row read as
``a`` on the next step), loop state aliased to an argument or a global, a
loop writing in place into its carried state or a value its tape keeps, the
same array appended twice, trip counts that change between calls.  Values
against plain NumPy, gradients against central differences, jvp and the
hessian too (tests/trust4_harness.py)."""
import numpy as np
import pytest

from s2sgrad import value_and_grad
from tests.trust4_harness import agree

R = np.random.default_rng(1)
X = R.normal(size=3)
W = R.normal(size=(3, 3))
G = R.normal(size=3)


# ---------------------------------------------- writes through zip/enumerate/reversed
# Before the fix the arrays read by enumerate/zip/reversed of a view (a value
# no name holds) were not carried by the loop: a write through an item did not
# reach the items read later, and the loop read the rows of W (A = W * 1.0
# was folded away).  Values before -> after (= NumPy) with X, W above:
#   zip_prev_write      3.7053762777  -> 4.7550919501
#   zip_named_prev      5.0319544747  -> 7.4393092508
#   zip_prev_then_sum   7.5676614513  -> 12.2273221748
#   enumerate_view      7.5676614513  -> 12.2273221748
#   reversed_view       8.7265585131  -> 9.6213118248
#   zip_columns         5.6994081097  -> 4.4385021453
#   zip_argument_rows   3.7053762777  -> 4.7550919501

def zip_prev_write(x, W):
    A = W * 1.0
    s = 0.0
    for a, b in zip(A, A[1:]):
        b += a * x
        s = s + np.sum(b ** 2)
    return s


def zip_named_prev(x, W):
    A = W * 1.0
    s = 0.0
    for a, b in zip(A[1:], A):
        a += b * x
        s = s + np.sum(a ** 2)
    return s + np.sum(A)


def zip_prev_then_sum(x, W):
    A = W * 1.0
    s = 0.0
    for a, b in zip(A, A[1:]):
        b += a * x
        s = s + np.sum(b ** 2)
    return s + np.sum(A ** 2)


def enumerate_view(x, W):
    A = W * 1.0
    s = 0.0
    for i, a in enumerate(A[1:]):
        a += A[i] * x
        s = s + np.sum(a ** 2)
    return s + np.sum(A ** 2)


def reversed_view(x, W):
    A = W * 1.0
    s = 0.0
    for a in reversed(A[:2]):
        a += A[2] * x
        A[2] = a * 0.5
        s = s + np.sum(a ** 2)
    return s + np.sum(A ** 2)


def zip_columns(x, W):
    A = W * 1.0
    s = 0.0
    for a, b in zip(A.T, A.T[1:]):
        b += a * x
        s = s + np.sum(b ** 2)
    return s + np.sum(A ** 2)


def zip_argument_rows(x, W):
    s = 0.0
    for a, b in zip(W, W[1:]):       # writes into the caller's W in NumPy
        b += a * x
        s = s + np.sum(b ** 2)
    return s


def zip_enumerate_nested(x, W):
    A = W * 1.0
    s = 0.0
    for (i, a), b in zip(enumerate(A[1:]), A):
        a *= b + x * i
        s = s + np.sum(a * b)
    return s + np.sum(A)


def zip_same_array(x, W):
    A = W * 1.0
    s = 0.0
    for a, b in zip(A, A):
        a *= x
        s = s + np.sum(a * b)
    return s + np.sum(A)


def zip_two_arrays(x, W):
    A = W * 1.0
    B = W * 2.0
    s = 0.0
    for a, b in zip(A, B):
        a += b * x
        s = s + np.sum(a ** 2)
    return s + np.sum(A * B)


def zip_read_only_views(x, W):
    A = np.outer(x, x)
    s = 0.0
    for a, b in zip(A, A[::-1]):
        s = s + np.sum(np.sin(a) * b)
    return s


ZIPS = [zip_prev_write, zip_named_prev, zip_prev_then_sum, enumerate_view, reversed_view,
        zip_columns, zip_argument_rows, zip_enumerate_nested, zip_same_array, zip_two_arrays,
        zip_read_only_views]


@pytest.mark.parametrize("f", ZIPS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("wrt", [0, 1])
def test_writes_through_zip_items(f, wrt):
    agree(f, X, W, wrt=wrt, hess=True)


def test_zip_write_float32_and_other_length():
    # another shape on the second call: the held arrays follow the new length
    for shape in [(3, 3), (5, 3), (1, 3), (2, 3)]:
        w = R.normal(size=shape)
        agree(zip_prev_then_sum, X, w, wrt=1)
    w32 = W.astype(np.float32)
    v, g = value_and_grad(zip_prev_write, wrt=1)(X.astype(np.float32), w32)
    assert g.dtype == np.float32
    np.testing.assert_allclose(v, zip_prev_write(X.astype(np.float32), w32.copy()), rtol=1e-5)
    g64 = value_and_grad(zip_prev_write, wrt=1)(X, W)[1]
    np.testing.assert_allclose(g, g64, rtol=1e-3, atol=1e-4)
