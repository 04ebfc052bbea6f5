"""Constructs users write that lower to what s2sgrad already differentiates:
ufunc ``out=`` (a write into the out array, as ``c[...] = a + b``),
``functools.partial`` of a user or NumPy function (made inside or outside
the function), and a ``for`` loop's own target read after the loop (its last
item, as in Python).  Values against NumPy, gradients against finite
differences."""
import functools
from functools import partial

import numpy as np
import pytest

import s2sgrad

RNG = np.random.default_rng(7)
X = RNG.standard_normal((3, 3))
V = RNG.standard_normal(4)


def _check(fn, x):
    v, _ = s2sgrad.value_and_grad(fn)(x)
    assert v == pytest.approx(fn(x.copy()), rel=1e-13, abs=1e-13)
    s2sgrad.check_grads(fn, (x,), modes=("rev", "fwd"))


# ---------------------------------------------------------------- ufunc out=

def _out_local(x):
    c = np.zeros_like(x)
    np.add(x, x ** 2, out=c)
    return np.sum(c * x)


def _out_itself(x):
    y = x * 2.0
    for _ in range(2):
        np.sin(y, out=y)
    return np.sum(y)


def _out_returned(x):
    c = np.empty_like(x)
    d = np.multiply(x, 3.0, out=c)       # d is c
    d[0, 0] = 5.0 * x[1, 1]              # so c sees this
    return np.sum(d * c)


def _out_view(x):
    c = np.zeros((3, 3))
    v = c[1]
    np.multiply(x[0], 2.0, out=v)        # a write into c's row
    return np.sum(c * x)


def _out_broadcast_tuple(x):
    c = np.ones((3, 3))
    np.add(x[0], 1.0, out=(c,))          # broadcast to c's shape, the tuple form
    return np.sum(c * x)


def _out_argument(x):
    np.exp(x, out=x)                     # (the caller's array is not changed)
    return np.sum(x)


def _out_none(x):
    return np.sum(np.exp(x, out=None))


@pytest.mark.parametrize("fn", [_out_local, _out_itself, _out_returned, _out_view,
                                _out_broadcast_tuple, _out_argument, _out_none])
def test_ufunc_out(fn):
    _check(fn, X)


def test_ufunc_out_leaves_the_callers_array():
    x = X.copy()
    s2sgrad.grad(_out_argument)(x)
    assert np.array_equal(x, X)


def _out_subscript(x):
    c = np.zeros((2, 3, 3))
    np.add(x, 1.0, out=c[0])          # a view: the write reaches c (trust4)
    return np.sum(c * c)


def test_ufunc_out_into_a_view():
    _check(_out_subscript, X)


def _out_call(x):
    c = np.add(x, 1.0, out=np.zeros_like(x))
    return np.sum(c)


def _out_where(x):
    c = np.zeros_like(x)
    np.add(x, 1.0, out=c, where=x > 0)
    return np.sum(c)


def test_ufunc_out_new_array_and_where():
    # out= a new array (np.zeros_like(x)) and where= with out= (session 22):
    # NumPy's values; derivative 1 where written, 0 where out keeps its value
    for f in (_out_call, _out_where):
        value, g = s2sgrad.value_and_grad(f)(X)
        assert value == f(X)
        np.testing.assert_array_equal(g, np.ones_like(X) if f is _out_call else
                                      (X > 0).astype(float))


def _out_attribute(x):
    return np.sum(np.add(x, 1.0, out=_out_attribute.buf))


_out_attribute.buf = np.zeros(4)


def test_ufunc_out_refusals():
    with pytest.raises(s2sgrad.S2SGradError, match=r"out=.*c\[\.\.\.\] = np.add"):
        s2sgrad.grad(_out_attribute)(X)


# ---------------------------------------------------------------- functools.partial

def _helper(a, b, c=1.0):
    return a * b + c


W = RNG.standard_normal(4)
PW = partial(_helper, W, c=0.5)
PP = partial(PW, c=2.0)


def _partial_lambda(x):
    g = partial(lambda u, v: u * v ** 2, x)
    return np.sum(g(x[::-1]))


def _partial_global(x):
    return np.sum(PW(x) ** 2)


def _partial_of_partial(x):
    return np.sum(PP(x))


def _partial_numpy(x):
    s = functools.partial(np.sum, axis=0, keepdims=True)
    return np.sum(s(np.outer(x, x)) ** 2)


def _partial_vectorized(x):
    return np.sum(np.vectorize(partial(_helper, 2.0))(x))


def _partial_keywords(x):
    g = functools.partial(_helper, c=x[0])
    return np.sum(g(x, b=x))             # x used three times


@pytest.mark.parametrize("fn", [_partial_lambda, _partial_global, _partial_of_partial,
                                _partial_numpy, _partial_vectorized, _partial_keywords])
def test_partial(fn):
    _check(fn, V)


def test_partial_reads_its_arrays_live():
    gf = s2sgrad.grad(_partial_global)
    before = gf(V)
    W[0] += 1.0
    try:
        after = gf(V)
        assert after == pytest.approx(s2sgrad.grad(_partial_global)(V))
        assert not np.allclose(before, after)
    finally:
        W[0] -= 1.0


# ---------------------------------------------------------------- loop targets after the loop

def _zip_target(x):
    for a, b in zip(x, x[::-1]):
        pass
    return a * b


def _enumerate_target(x):
    s = 0.0
    for i, v in enumerate(x):
        s = s + v * i
    return s * v + i


def _range_target(x):
    acc = 0.0
    for i in range(3):
        acc = acc + x[i]
    return acc * x[i]


def _target_rebound_in_body(x):
    for v in x:
        v = v * 2.0
    return v * x[0]


def _target_two_loops(x):
    for i in range(2):
        pass
    t = x[i]
    for i in range(3):
        t = t + x[i]
    return t * i


@pytest.mark.parametrize("fn", [_zip_target, _enumerate_target, _range_target,
                                _target_rebound_in_body, _target_two_loops])
def test_loop_target_after_loop(fn):
    _check(fn, V)
