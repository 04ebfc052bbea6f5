"""Writes through views (trust4): slicing with steps, views of views, views
made by reshape/transpose/diagonal, ufunc ``out=``, ``np.copyto``, ``.flat``,
``np.put``/``place``/``putmask``/``fill_diagonal``, repeated indices,
overlapping copies.  Each program's value is compared with plain NumPy and
its gradient with central finite differences (tests/trust4_harness.py)."""
import numpy as np
import pytest

from tests.trust4_harness import agree, refuses

R = np.random.default_rng(4)
X6 = R.normal(size=6)
X8 = R.normal(size=8)
M34 = R.normal(size=(3, 4))
M33 = R.normal(size=(3, 3))
T234 = R.normal(size=(2, 3, 4))


def step_slice_write(x):
    y = x * 2.0
    y[::2] = x[1::2] ** 2
    return np.sum(y * x)


def neg_step_write(x):
    y = x.copy()
    y[::-2] *= 3.0
    return np.sum(np.sin(y) * x)


def neg_step_view_written(x):
    y = np.exp(x)
    v = y[::-1]
    v[0] = x[0] * 5.0
    return np.sum(y ** 2)


def view_of_view(x):
    y = x * 1.0
    a = y[1:]
    b = a[::2]
    b += 1.5 * x[:3] if b.shape[0] == 3 else 0.0
    return np.sum(y * y)


def view_of_view_negative(x):
    y = x + 0.0
    a = y[::-1]
    b = a[1:-1]
    c = b[::2]
    c *= x[:len(c)]
    return np.sum(y ** 3)


def reshape_view_write(x):
    y = x * 1.0
    m = y.reshape(2, 3)
    m[1, :] = m[0, :] * x[:3]
    return np.sum(y * x)


def ravel_of_transpose_write(m):
    y = m * 1.0
    r = y.T.ravel()           # a copy: the transpose is not contiguous
    r[0] = 100.0
    return np.sum(y * m) + np.sum(r)


def ravel_write(m):
    y = m * 1.0
    r = y.ravel()             # a view
    r[::3] = 0.0
    return np.sum(y * m)


def transpose_write(m):
    y = np.tanh(m)
    y.T[0] = m[:, 1] * 2.0
    return np.sum(y * m)


def transpose_slice_assign(m):
    y = m * 1.0
    y.T[1:, :] *= 0.5
    return np.sum(y ** 2 * m)


def swapaxes_write(t):
    y = t * 1.0
    s = np.swapaxes(y, 0, 2)
    s[0] = 1.0
    return np.sum(y * t)


def moveaxis_write(t):
    y = t ** 2
    s = np.moveaxis(y, -1, 0)
    s[1:3] *= t[0, 0, :2].reshape(2, 1, 1) if False else 2.0
    return np.sum(y * t)


def squeeze_expand_write(x):
    y = x.reshape(1, 6, 1) * 1.0
    s = np.squeeze(y)
    s[2:4] = x[:2] * x[4:]
    e = np.expand_dims(s, 0)
    e[0, 0] += 3.0
    return np.sum(y * x.reshape(1, 6, 1))


def diagonal_read_after_write(m):
    y = m * 1.0
    d = np.diagonal(y).copy()
    y[0, 0] = 5.0
    return np.sum(d * np.diagonal(y))


def diag_assign_via_index(m):
    y = m * 1.0
    i = np.arange(3)
    y[i, i] = np.diagonal(m) ** 2
    return np.sum(y * m)


def fill_diagonal(m):
    y = m * 2.0
    np.fill_diagonal(y, m[0, 0])
    return np.sum(y * m)


def fill_diagonal_nonsquare(m):
    y = m * 1.0
    np.fill_diagonal(y, 0.0)
    return np.sum(np.exp(y) * m)


def copyto_view(x):
    y = np.zeros(8)
    np.copyto(y[::2], x[:4] ** 2)
    np.copyto(y[1::2], x[4:] * 3.0)
    return np.sum(y * x)


def copyto_broadcast(m):
    y = m * 1.0
    np.copyto(y, m[0])
    return np.sum(y * m)


def ufunc_out_view(x):
    y = np.zeros(6)
    v = y[1:4]
    np.multiply(x[:3], x[3:], out=v)
    return np.sum(y * x)


def ufunc_out_self(x):
    y = x * 1.0
    np.exp(y, out=y)
    return np.sum(y)


def iadd_view_of_copy(x):
    y = x.copy()
    v = y[2:5]
    v += x[:3]
    return np.sum(y ** 2)


def iadd_overlap_shift(x):
    y = x * 1.0
    y[1:] += y[:-1]
    return np.sum(y * x)


def overlap_reverse(x):
    a = x * 1.0
    a[...] = a[::-1]
    return np.sum(a * x)


def overlap_shift_assign(x):
    a = x ** 2
    a[1:] = a[:-1]
    return np.sum(a * x)


def overlap_ufunc_out(x):
    a = x * 1.0
    np.add(a[:-1], a[1:], out=a[1:])
    return np.sum(a * x)


def views_in_loop(m):
    y = m * 1.0
    for i in range(3):
        r = y[i]
        r *= (i + 1.0)
        r[i] = m[i, i] ** 2
    return np.sum(y * m)


def view_chosen_by_branch(x, flag):
    y = x * 1.0
    if flag > 0:
        v = y[:3]
    else:
        v = y[3:]
    v *= 2.0
    return np.sum(y * x)


def views_in_list(x):
    y = x * 1.0
    parts = [y[:2], y[2:4], y[4:]]
    for k, p in enumerate(parts):
        p *= (k + 1.0)
    return np.sum(y * x)


def views_in_dict(x):
    y = x * 1.0
    d = {"head": y[:3], "tail": y[3:]}
    d["head"][0] = 7.0
    d["tail"] += 1.0
    return np.sum(y * x)


def views_in_tuple_unpacked(m):
    y = m * 1.0
    a, b = y[0], y[1:]
    a += b[0]
    b *= 0.5
    return np.sum(y * m)


def _head(a):
    return a[:2]


def _write_head(a, v):
    a[:2] = v


def view_returned_by_helper(x):
    y = x * 1.0
    h = _head(y)
    h *= 3.0
    return np.sum(y * x)


def helper_writes_view(x):
    y = x ** 2
    _write_head(y[2:], x[:2] * 4.0)
    return np.sum(y * x)


class Holder:
    def __init__(self, arr):
        self.arr = arr


def view_in_object(x):
    y = x * 1.0
    h = Holder(y[1:3])
    h.arr[:] = x[4:]
    return np.sum(y * x)


def flat_assign(m):
    y = m * 1.0
    y.flat[::5] = 0.0
    return np.sum(y * m)


def flat_assign_values(m):
    y = m * 1.0
    y.flat[[0, 3, 7]] = m[0, :3] * 2.0
    return np.sum(y * m)


def np_put(x):
    y = x * 1.0
    np.put(y, [0, 2, 5], x[1:4] ** 2)
    return np.sum(y * x)


def np_put_repeat(x):
    y = x * 1.0
    np.put(y, [1, 1, 3], x[:3])
    return np.sum(y * x)


def np_place(x):
    y = x * 1.0
    np.place(y, x > 0, x[:2] * 3.0 if False else 0.5)
    return np.sum(y * x)


def np_putmask(x):
    y = x * 1.0
    np.putmask(y, x < 0, x ** 2)
    return np.sum(y * x)


def np_putmask_cycled(m):
    y = m * 1.0
    np.putmask(y, m > 0, m[0, :3] * 2.0)     # values cycled over flat positions
    return np.sum(y ** 2)


def repeated_index_iadd(x):
    y = np.zeros(4)
    idx = np.array([0, 1, 1, 3, 3, 3])
    y[idx] += x
    return np.sum(y * np.arange(1.0, 5.0))


def repeated_index_iadd_square(x):
    y = x[:4] * 1.0
    idx = [2, 2, 0]
    y[idx] += x[3:] ** 2
    return np.sum(y ** 2)


def repeated_index_assign(x):
    y = np.zeros(4)
    y[[0, 0, 2]] = x[:3]
    return np.sum(y * x[2:])


def add_at(x):
    y = np.zeros(4)
    np.add.at(y, [0, 1, 1, 3, 3, 3], x)
    return np.sum(y ** 2)


def add_at_view(x):
    y = np.ones(8)
    np.add.at(y[::2], [0, 0, 3], x[:3] ** 2)
    return np.sum(y * x)


def bool_mask_assign(x):
    y = x * 1.0
    y[y > 0] = 0.0
    return np.sum(y * x)


def bool_mask_assign_values(x):
    y = x * 1.0
    m = x < 0.2
    y[m] = x[m] ** 2
    return np.sum(np.exp(y))


def bool_mask_iadd(m):
    y = m * 1.0
    y[m > 0] += 2.0 * m[m > 0]
    return np.sum(y * m)


def inplace_io_overlap(x):
    y = x * 1.0
    np.negative(y[::-1], out=y)
    return np.sum(y * x)


def real_view_of_real(x):
    y = x * 1.0
    r = y.real
    r[0] = 4.0
    return np.sum(y * x)


def imag_of_real_read(x):
    y = x * 1.0
    return np.sum(y.real * x) + np.sum(y.imag)


def view_as_loop_carry(x):
    y = x * 1.0
    v = y[:3]
    for _ in range(3):
        v *= 1.5
        v += x[3:]
    return np.sum(y * x)


def nested_slices_2d(m):
    y = m * 1.0
    sub = y[1:, ::2]
    sub2 = sub[:, ::-1]
    sub2[0, 0] = m[0, 0] * 3.0
    sub2[1] *= 2.0
    return np.sum(y * m)


def ellipsis_write(t):
    y = t * 1.0
    y[..., 0] = t[..., 1] * t[..., 2]
    return np.sum(y * t)


def newaxis_view_write(x):
    y = x * 1.0
    v = y[None, 2:5]
    v[0, 1] = 9.0
    return np.sum(y * x)


def integer_row_then_slice(m):
    y = m * 1.0
    row = y[1]
    row[1:3] = row[1:3] ** 2
    return np.sum(y * m)


def swap_rows(m):
    y = m * 1.0
    y[[0, 2]] = y[[2, 0]]
    return np.sum(y * np.arange(12.0).reshape(3, 4))


def swap_rows_views(m):
    y = m * 1.0
    y[0], y[2] = y[2], y[0]
    return np.sum(y * np.arange(12.0).reshape(3, 4))


def swap_rows_views_copy(m):
    y = m * 1.0
    y[0], y[2] = y[2].copy(), y[0].copy()
    return np.sum(y * np.arange(12.0).reshape(3, 4))


def cumulative_inplace(x):
    y = x * 1.0
    for i in range(1, 6):
        y[i] += y[i - 1] * 0.5
    return np.sum(y ** 2)


def view_of_argument_copy(x):
    y = np.array(x)
    y[1:3] = 0.0
    return np.sum(y * x)


def asarray_is_same(x):
    y = x * 1.0
    z = np.asarray(y)
    z[0] = 10.0
    return np.sum(y * x)


def view_method(x):
    y = x * 1.0
    z = y.view()
    z[-1] = -1.0
    return np.sum(y * x)


def reshape_minus_one_write(t):
    y = t * 1.0
    f = y.reshape(-1)
    f[::7] *= 3.0
    return np.sum(y * t)


def transpose_of_reshape(x):
    y = x * 1.0
    m = y.reshape(2, 3).T
    m[0] = 0.0
    return np.sum(y * x)


def diagonal_of_view_read(m):
    y = m * 1.0
    y[1] = y[1] * 3.0
    return np.sum(np.diagonal(y) * np.diagonal(m)) + np.trace(y)


def write_then_read_old_copy(x):
    y = x * 1.0
    old = y[:3].copy()
    y[:3] = x[3:]
    return np.sum(old * y[:3])


def write_then_read_old_view(x):
    y = x * 1.0
    old = y[:3]
    y[:3] = x[3:] ** 2
    return np.sum(old * x[:3])


def flip_write(x):
    y = x * 1.0
    f = np.flip(y)
    f[:2] = 0.0
    return np.sum(y * x)


def rot90_write(m):
    y = m * 1.0
    r = np.rot90(y)
    r[0, :] = 1.0
    return np.sum(y * m)


def atleast2d_write(x):
    y = x * 1.0
    a = np.atleast_2d(y)
    a[0, 1] = 2.0
    return np.sum(y * x)


def imul_chain_slices(x):
    y = x * 1.0
    y[::2] *= y[1::2]
    y[1::2] *= y[::2]
    return np.sum(y)


def sort_inplace(x):
    y = x * 1.0
    y.sort()
    return np.sum(y * np.arange(6.0))


def fancy_write_2d(m):
    y = m * 1.0
    y[[0, 1], [1, 2]] = m[2, :2] ** 2
    return np.sum(y * m)


def mixed_index_write(m):
    y = m * 1.0
    y[1:, [0, 3]] = 0.5 * m[:2, [1, 2]]
    return np.sum(y * m)


def where_then_write(x):
    y = np.where(x > 0, x, 0.0)
    y[0] = x[1]
    return np.sum(y * x)


def clip_out_self(x):
    y = x * 2.0
    np.clip(y, -0.5, 0.5, out=y)
    return np.sum(y * x)


def maximum_out_view(x):
    y = np.zeros(6)
    np.maximum(x[:3], x[3:], out=y[3:])
    return np.sum(y * x)


def nested_index_view_write(m):
    y = m * 1.0
    y[1][2] = m[0, 0] * 4.0          # y[1] is a view: the write reaches y
    y[2][::2] *= 3.0
    return np.sum(y * m)


def nested_index_copy_write_lost(m):
    y = m * 1.0
    y[[0, 2]][0] = 100.0             # a fancy index is a copy: y unchanged
    y[m[:, 0] > 10][...] = 5.0
    return np.sum(y * m)


def flat_read(m):
    y = np.exp(m)
    return np.sum(y.flat[::3] * m.T.flat[1:5].sum()) + y.T.flat[2]


def flat_write_of_transpose(m):
    y = m * 1.0
    t = y.T
    t.flat[[1, 5]] = m[0, :2] ** 2   # C order of the transpose
    return np.sum(y * m)


def copyto_transpose(m):
    y = np.zeros((4, 3))
    np.copyto(y.T, m * 2.0)
    return np.sum(y.T * m)


def add_at_row(m):
    y = m * 1.0
    np.add.at(y[1], [0, 0, 3], m[2, :3])
    np.subtract.at(y.T[2], [1, 1], m[0, 1])
    return np.sum(y * m)


def out_into_rows_in_loop(m):
    h = np.zeros((4, 4))
    for t in range(3):
        np.tanh(h[t] + m[t], out=h[t + 1])
    return np.sum(h[1:] * h[:-1]) + np.sum(h[-1])


def dict_view_nested_write(x):
    y = x * 1.0
    d = {"a": y[:4]}
    d["a"][1:3] = x[4:] * 2.0
    return np.sum(y * x)


PROGRAMS = [
    (step_slice_write, (X6,)), (neg_step_write, (X6,)), (neg_step_view_written, (X6,)),
    (view_of_view, (X6,)), (view_of_view_negative, (X8,)), (reshape_view_write, (X6,)),
    (ravel_of_transpose_write, (M34,)), (ravel_write, (M34,)), (transpose_write, (M34,)),
    (transpose_slice_assign, (M34,)), (swapaxes_write, (T234,)), (moveaxis_write, (T234,)),
    (squeeze_expand_write, (X6,)), (diagonal_read_after_write, (M33,)),
    (diag_assign_via_index, (M33,)), (fill_diagonal, (M33,)), (fill_diagonal_nonsquare, (M34,)),
    (copyto_view, (X8,)), (copyto_broadcast, (M34,)), (ufunc_out_view, (X6,)),
    (ufunc_out_self, (X6,)), (iadd_view_of_copy, (X6,)), (iadd_overlap_shift, (X6,)),
    (overlap_reverse, (X6,)), (overlap_shift_assign, (X6,)), (overlap_ufunc_out, (X6,)),
    (views_in_loop, (M34,)), (views_in_list, (X6,)), (views_in_dict, (X6,)),
    (views_in_tuple_unpacked, (M34,)), (view_returned_by_helper, (X6,)),
    (helper_writes_view, (X6,)), (flat_assign, (M34,)),
    (flat_assign_values, (M34,)), (np_put, (X6,)), (np_put_repeat, (X6,)), (np_place, (X6,)),
    (np_putmask, (X6,)), (np_putmask_cycled, (M34,)), (repeated_index_iadd, (X6,)), (repeated_index_iadd_square, (X6,)),
    (repeated_index_assign, (X6,)), (add_at, (X6,)), (add_at_view, (X8,)),
    (bool_mask_assign, (X6,)), (bool_mask_assign_values, (X6,)), (bool_mask_iadd, (M34,)),
    (inplace_io_overlap, (X6,)), (imag_of_real_read, (X6,)),
    (view_as_loop_carry, (X6,)), (nested_slices_2d, (M34,)), (ellipsis_write, (T234,)),
    (newaxis_view_write, (X6,)), (integer_row_then_slice, (M34,)), (swap_rows, (M34,)),
    (swap_rows_views, (M34,)), (swap_rows_views_copy, (M34,)), (cumulative_inplace, (X6,)),
    (view_of_argument_copy, (X6,)), (asarray_is_same, (X6,)), (view_method, (X6,)),
    (reshape_minus_one_write, (T234,)), (transpose_of_reshape, (X6,)),
    (diagonal_of_view_read, (M33,)), (write_then_read_old_copy, (X6,)),
    (write_then_read_old_view, (X6,)), (flip_write, (X6,)), (rot90_write, (M34,)),
    (atleast2d_write, (X6,)), (imul_chain_slices, (X6,)), (sort_inplace, (X6,)),
    (fancy_write_2d, (M33,)), (mixed_index_write, (M34,)), (where_then_write, (X6,)),
    (maximum_out_view, (X6,)),
    (nested_index_view_write, (M34,)), (nested_index_copy_write_lost, (M34,)),
    (flat_read, (M34,)), (flat_write_of_transpose, (M34,)), (copyto_transpose, (M34,)),
    (add_at_row, (M34,)), (out_into_rows_in_loop, (M34,)), (dict_view_nested_write, (X6,)),
    (clip_out_self, (X6,)),             # out= of np.clip: supported since trust5
    (view_in_object, (X6,)),            # a plain class as a record: supported since corpus13
]


@pytest.mark.parametrize("f,args", PROGRAMS, ids=[f"{p[0].__name__}-{i}" for i, p in enumerate(PROGRAMS)])
def test_view_program(f, args):
    agree(f, *args)


REFUSED = [
    # (view_chosen_by_branch: exact since trust13, tests/test_trust13_fixes.py)
    (real_view_of_real, (X6,), r"np\.real"),
]


@pytest.mark.parametrize("f,args,match", REFUSED, ids=[p[0].__name__ for p in REFUSED])
def test_view_program_refused(f, args, match):
    refuses(f, *args, match=match)
