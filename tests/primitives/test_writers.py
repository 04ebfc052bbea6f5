"""Specs for NumPy's functions that write into their first argument
(primitives/mutation.py, lowered by lower/calls.py ``inplace_function``):
np.put_along_axis, np.put / y.put, np.place, np.copyto -- derivatives (a
write: the overwritten entries get nothing, the written values get theirs;
repeated positions: the last write wins), values against NumPy, aliasing
(a view of the written array sees the write) and loops."""
import numpy as np
import pytest

import s2sgrad

from .spec import Spec, check_spec, normal
from .test_runtime_prims import check_hvp

M34 = normal(3, 4)
IDX = np.array([[1], [0], [3]])
IDX2 = np.array([[1, 1], [0, 2], [3, 0]])       # a repeated position in row 0


def _wsum(y, seed=0):
    w = np.cos(np.arange(np.size(y)) * 0.7 + seed).reshape(np.shape(y))
    return np.sum(w * y)


def put_along(m, v):
    y = m * 1.0
    np.put_along_axis(y, IDX, v, axis=1)
    return _wsum(y ** 2)


def put_along_rows(m, v):
    y = np.sin(m)
    np.put_along_axis(y, np.array([[2, 0, 1, 2], [0, 1, 1, 0]]), v, axis=0)
    return _wsum(y * m)


def put_along_repeats(m, v):
    y = m.copy()
    np.put_along_axis(y, IDX2, v, 1)
    return _wsum(y ** 2)


def put_along_flat(m, v):
    y = m.copy()
    np.put_along_axis(y, np.array([5, 0, 11]), v, axis=None)
    return _wsum(y ** 2)


def put_flat(m, v):
    y = m.copy()
    np.put(y, [0, 5, -1], v)
    return _wsum(y ** 2)


def put_cycled(m, v):
    y = m + 0.0
    np.put(y, np.array([[1, 2], [7, 13]]), v, mode="wrap")
    return _wsum(y ** 3)


def put_method(m, v):
    y = m.copy()
    y.put([2, 3], v * 2.0)
    return _wsum(y ** 2)


def place(m, v):
    y = m.copy()
    np.place(y, m > 0.2, v)
    return _wsum(y ** 2)


def putmask(m, v):
    y = m.copy()
    np.putmask(y, m > 0.2, v)              # v cycled over y's flat positions
    return _wsum(y ** 2)


def putmask_full(m, v):
    y = m * 2.0
    np.putmask(y[1:], m[1:] < 0.0, v * m[:2])
    return _wsum(y ** 2)


def copyto(m, v):
    y = np.zeros_like(m)
    np.copyto(y, v * 3.0)
    return _wsum(y ** 2 + m)


def copyto_where(m, v):
    y = m.copy()
    np.copyto(y, v, where=m > 0.0)
    return _wsum(y ** 2)


def copyto_view(m, v):
    y = m.copy()
    top = y[0]
    np.copyto(top, v)           # writes into y's first row
    return _wsum(y ** 2)


def put_in_loop(m, v):
    y = m.copy()
    for i in range(3):
        np.put_along_axis(y, IDX, y[:, 2:3] * v[i], axis=1)
    return _wsum(y ** 2)


SPECS = [
    Spec("put_along_axis_update", put_along, (M34, normal(3, 1)), wrt=(0, 1)),
    Spec("put_along_axis_update", put_along, (M34, 0.7), wrt=(0, 1), id="put_along-scalar"),
    Spec("put_along_axis_update", put_along_rows, (M34, normal(2, 4)), wrt=(0, 1),
         id="put_along-axis0"),
    Spec("put_along_axis_update", put_along_repeats, (M34, normal(3, 2)), wrt=(0, 1),
         id="put_along-repeats"),
    Spec("put_along_axis_update", put_along_flat, (M34, normal(3)), wrt=(0, 1),
         id="put_along-flat"),
    Spec("put_along_axis_update", put_in_loop, (M34, normal(3)), wrt=(0, 1),
         id="put_along-loop"),
    Spec("put_update", put_flat, (M34, normal(3)), wrt=(0, 1)),
    Spec("put_update", put_cycled, (M34, normal(3)), wrt=(0, 1), id="put-cycled-wrap"),
    Spec("put_update", put_method, (M34, normal(2)), wrt=(0, 1), id="put-method"),
    Spec("place_update", place, (M34, normal(2)), wrt=(0, 1)),
    Spec("putmask_update", putmask, (M34, normal(5)), wrt=(0, 1)),
    Spec("putmask_update", putmask_full, (M34, normal(2, 4)), wrt=(0, 1), id="putmask-view"),
    Spec("copyto_update", copyto, (M34, normal(4)), wrt=(0, 1)),
    Spec("copyto_update", copyto_where, (M34, normal(3, 1)), wrt=(0, 1), id="copyto-where"),
    Spec("copyto_update", copyto_view, (M34, normal(4)), wrt=(0, 1), id="copyto-view"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_writers(spec):
    check_spec(spec)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_writers_hvp(spec):
    check_hvp(spec)


def _updated(writer):
    """The written array itself (not a loss of it), through s2sgrad and NumPy."""
    def f(m, v):
        y = m.copy()
        writer(y, m, v)
        return y
    return f


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_values_match_numpy(spec):
    value, _ = s2sgrad.vjp(spec.fn, wrt=(0, 1))(*spec.args)
    assert value == spec.fn(*spec.args)


def test_written_arrays_match_numpy():
    def f(m, v):
        y = m.copy()
        np.put_along_axis(y, IDX2, v, axis=1)
        z = m.copy()
        np.put(z, [1, 1, 4], v[0])
        w = m.copy()
        np.place(w, m < 0, v[1])
        u = np.ones((2, 3, 4), dtype=np.float32)
        np.copyto(u, m, where=m > 0)
        return y, z, w, u
    v = normal(3, 2)
    value, _ = s2sgrad.vjp(f, wrt=(0, 1))(M34, v)
    for got, want in zip(value, f(M34, v)):
        np.testing.assert_array_equal(got, want)
        assert got.dtype == want.dtype


def test_repeated_positions_last_write_wins():
    def f(v):
        y = np.zeros(4)
        np.put(y, [1, 1, 2], v)
        return np.sum(y * np.arange(1.0, 5.0))
    np.testing.assert_array_equal(s2sgrad.grad(f)(np.array([1.0, 2.0, 3.0])), [0.0, 2.0, 3.0])


def test_the_callers_array_is_not_changed():
    m = M34.copy()

    def f(m):
        np.copyto(m, 0.0)
        return np.sum(m)
    s2sgrad.grad(f)(m)
    np.testing.assert_array_equal(m, M34)


def test_writes_into_a_view_reach_the_base():
    def f(m):
        y = m * 1.0
        np.put_along_axis(y[0:1], IDX[:1], 1.0, axis=1)   # a view of y (trust4)
        return np.sum(y * m)
    v, g = s2sgrad.value_and_grad(f)(M34)
    assert v == pytest.approx(f(M34.copy()), rel=1e-13)
    s2sgrad.check_grads(f, (M34,), modes=("rev", "fwd"))


def test_refusals_name_the_call():
    def f(m):
        np.put_along_axis(np.zeros((1, 4)), IDX[:1], 1.0, axis=1)
        return np.sum(m)
    with pytest.raises(s2sgrad.S2SGradError, match=r"np\.put_along_axis.*test_writers\.py|"
                                                   r"test_writers\.py.*np\.put_along_axis"):
        s2sgrad.grad(f)(M34)
