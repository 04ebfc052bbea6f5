"""Guards compared a tuple by ``==`` (``(True, False) == (1, 0)``) and a
float without its sign (``-0.0 == 0.0``): code compiled for one ran for the
other.  Each test changes a global, a closed-over tuple or an attribute of
an object passed as an argument between calls of one transformation and
compares the value with NumPy and the gradient with central differences."""
import math

import numpy as np
import pytest

import s2sgrad
from s2sgrad.guards import same_value

TS = (1, 0)


def _fd(f, x, *rest, eps=1e-6):
    g = np.zeros_like(x)
    for i in range(x.size):
        a, b = x.copy(), x.copy()
        a[i] += eps
        b[i] -= eps
        g[i] = (f(a, *rest) - f(b, *rest)) / (2 * eps)
    return g


def _agree(vg, f, x, *rest):
    v, g = vg(x, *rest)
    np.testing.assert_allclose(v, f(x, *rest), rtol=1e-12, atol=1e-12, err_msg="value")
    np.testing.assert_allclose(g, _fd(f, x, *rest), rtol=1e-6, atol=1e-7, err_msg="gradient")


def _index_by_item(x):
    return np.sum(x[TS[0]] * 2.0) + np.sum(x * x)


def _sign_of_item(x):
    return np.sum(x * x) * np.copysign(1.0, TS[1]) + np.sum(np.sin(x)) * TS[0]


X = np.array([0.3, -0.2, 0.9])


@pytest.mark.parametrize("f, values", [
    # x[True] adds an axis where x[1] takes an element: 0.54 was returned for 2.94
    (_index_by_item, [(1, 0), (True, False), (1, 0), (True, 0), (1, False)]),
    # np.copysign(1.0, -0.0) is -1: the value's sign was lost
    (_sign_of_item, [(1, 0.0), (1, -0.0), (1.0, 0.0), (2, -0.0), (1, 0.0)]),
])
def test_global_tuple_items_are_guarded_by_type(f, values):
    global TS
    vg = s2sgrad.value_and_grad(f)
    try:
        for v in values * 2:
            TS = v
            _agree(vg, f, X)
    finally:
        TS = (1, 0)


def _closed(ts):
    box = [ts]

    def f(x):
        t = box[0]
        return np.sum(x[t[0]] * 2.0) + np.sum(x * x)

    def g(x):
        return np.sum(x[cell[0]] * 2.0) + np.sum(x * x)
    cell = ts

    def set_cell(v):
        nonlocal cell
        cell = v
    return g, set_cell


def test_closed_over_tuple_rebound_to_bools():
    g, set_cell = _closed((1, 0))
    vg = s2sgrad.value_and_grad(g)
    for v in [(1, 0), (True, False), (1, 0), (True,), (2, 1)]:
        set_cell(v)
        _agree(vg, g, X)


class _Picker:
    def __init__(self, ts):
        self.ts = ts

    def pick(self, x):
        return x[self.ts[0]]


def _with_picker(x, cfg):
    return np.sum(cfg.pick(x) * 2.0) + np.sum(x * x)


def test_object_argument_tuple_attribute_by_type():
    """An object passed as an argument: its int and tuple attributes are
    part of the cache key (api.ObjectArg), compared as the guards do."""
    vg = s2sgrad.value_and_grad(_with_picker)
    for ts in [(1, 0), (True, False), (1, 0), (True, False), (0,)]:
        _agree(vg, _with_picker, X, _Picker(ts))


def test_same_value():
    assert same_value((1, 0), (1, 0)) and not same_value((True, False), (1, 0))
    assert not same_value((1.0, 0), (1, 0)) and not same_value(-0.0, 0.0)
    assert same_value(float("nan"), float("nan")) and same_value(0.5, 0.5)
    assert not same_value(((1, 2), 3), ((1, 2.0), 3)) and same_value(((1, 2), "a"), ((1, 2), "a"))
    assert same_value(complex(1, -0.0), complex(1, -0.0)) and not same_value(1j, complex(-0.0, 1))
    assert same_value(frozenset({1, 2}), frozenset({2, 1})) and \
        not same_value(frozenset({True}), frozenset({1}))
    assert not same_value(np.int64(1), 1) and same_value("ab", "ab")
    assert not same_value(math.inf, -math.inf)
