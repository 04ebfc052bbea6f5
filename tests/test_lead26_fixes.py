"""Lead's fixes at the session 26 merge, each with the program that was a
silently wrong number (or a crash) before.

* ``W = A[k]`` with ``k`` known only at run time (a NumPy integer argument, a
  key argument of a dict passed as data, ``idx[0]``, a key out of a run-time
  list): NumPy returns a view when ``k`` is an integer (a key), a copy when
  it is an index array (``np.argmin(x)``: an integer without ``axis=``, an
  array with one).  The IR took it for a copy, so a write through ``W``
  never reached ``A`` (6.0 for NumPy's 9.0).  Now the two may share memory
  in a way known at run time only: a write into either while the other is
  live is refused with the line.
* A write into an item of a dict (or list) passed as data copies the
  container: ``dict.copy()`` takes no memory order (a TypeError at run time
  after the layout13 merge, never a number); an item that may be an array or
  a list is copied in its own order when it is an array (F-ordered leaves
  were a wrong number on 7ed9f94).
"""
import copy

import numpy as np
import pytest

import s2sgrad


def _value(f, *args):
    want = f(*copy.deepcopy(args))
    v, _ = s2sgrad.value_and_grad(f)(*args)
    return v, want


def key_argument(x, p, k):
    W = p[k]
    W[0] = W[0] * 2.0
    return np.sum(p[k] @ x)


def keys_of_data_dict(x, p):
    for k in p:
        W = p[k]
        W[0] *= 2.0
    return np.sum(p["W"] @ x)


def numpy_int_row(x, A, k):
    W = A[k]
    W[0] = W[0] * 2.0
    return np.sum(A @ x)


def row_of_item(x, A, idx):
    W = A[idx[0]]
    W *= 2.0
    return np.sum(A @ x)


def list_item_by_numpy_int(x, L, k):
    W = L[k]
    W[0] = W[0] * 2.0
    return np.sum(L[0] @ x)


@pytest.mark.parametrize("f,args", [
    (key_argument, (np.ones(3), {"W": np.ones((2, 3))}, "W")),
    (keys_of_data_dict, (np.ones(3), {"W": np.ones((2, 3))})),
    (numpy_int_row, (np.ones(3), np.ones((4, 2, 3)), np.int64(1))),
    (row_of_item, (np.arange(3.0), np.ones((4, 3)), np.array([1, 2]))),
    (list_item_by_numpy_int, (np.ones(3), [np.ones((2, 3))], np.int64(0))),
], ids=lambda v: getattr(v, "__name__", ""))
def test_write_through_a_run_time_index_is_refused_not_lost(f, args):
    with pytest.raises(s2sgrad.S2SGradError, match="may or may not change") as info:
        s2sgrad.value_and_grad(f)(*args)
    assert "test_lead26_fixes.py" in str(info.value)


def test_python_int_key_and_computed_rows_stay_exact():
    # a Python int is a compile-time constant: the view is known
    v, want = _value(list_item_by_numpy_int, np.ones(3), [np.ones((2, 3))], 0)
    np.testing.assert_allclose(v, want, rtol=1e-12)
    # (trade-off: an index-array argument, A[idx] with idx = np.array([1, 2]),
    # is now refused the same way: a data argument may be either)
    with pytest.raises(s2sgrad.S2SGradError, match="may or may not change"):
        s2sgrad.value_and_grad(numpy_int_row)(np.ones(3), np.ones((4, 2, 3)), np.array([1, 2]))


def dict_leaf_written_then_reshaped(x, p):
    W = p["W"]
    W[0] += x
    B = W * 2.0
    u = B.reshape(9)
    u[0] += 1.0
    return np.sum(np.sin(B) * x) + np.sum(W)


@pytest.mark.parametrize("order", ["C", "F"])
def test_item_of_a_data_dict_keeps_its_memory_order(order):
    rng = np.random.default_rng(3)
    x = rng.normal(size=3)
    W = np.asarray(rng.normal(size=(3, 3)), order=order)
    p = {"W": W}
    v, g = s2sgrad.value_and_grad(dict_leaf_written_then_reshaped)(x, p)
    want = dict_leaf_written_then_reshaped(x.copy(), {"W": W.copy(order="K")})
    np.testing.assert_allclose(v, want, rtol=1e-12)
    np.testing.assert_array_equal(p["W"], W)          # the caller's dict untouched
    h = 1e-6
    fd = np.array([(dict_leaf_written_then_reshaped(x + h * e, {"W": W.copy(order="K")}) -
                    dict_leaf_written_then_reshaped(x - h * e, {"W": W.copy(order="K")})) / (2 * h)
                   for e in np.eye(3)])
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)


def write_into_dict_item(x, p):
    W = p["W"]
    W[0] = W[0] * 2.0
    return np.sum(np.tanh(W @ x + p["b"]))


def test_write_into_a_dict_passed_as_data_copies_the_dict():
    p = {"W": np.ones((2, 3)), "b": np.ones(2)}
    v, want = _value(write_into_dict_item, np.ones(3), p)
    np.testing.assert_allclose(v, want, rtol=1e-12)
    assert p["W"][0, 0] == 1.0


def row_by_argmin_written(x, A):
    B = A * 1.0
    k = np.argmin(x)
    r = B[k]
    r += 1.0
    return np.sum(B @ x)


def test_row_by_computed_index_written_in_place_is_refused():
    # (12.0 for NumPy's 15.0 before: k = np.argmin(x) may be an integer or,
    # with axis=, an array; the write through B[k] was lost)
    with pytest.raises(s2sgrad.S2SGradError, match="may or may not change") as info:
        s2sgrad.value_and_grad(row_by_argmin_written)(np.arange(3.0), np.ones((4, 3)))
    assert "test_lead26_fixes.py" in str(info.value)


def row_by_int_of_argmin(x, A):
    B = A * 1.0
    k = int(np.argmin(x))
    r = B[k]
    r += 1.0
    return np.sum(B @ x)


def test_row_by_python_int_index_stays_exact():
    v, want = _value(row_by_int_of_argmin, np.arange(3.0) - 1.0, np.ones((4, 3)))
    np.testing.assert_allclose(v, want, rtol=1e-12)
