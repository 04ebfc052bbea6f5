"""Port cases the earlier ports did not cover (ports13), by upstream source.

* PyTorch ``test/test_autograd.py`` and ``test/test_view_ops.py`` in-place
  and view semantics, as the NumPy programs they are: in-place updates of
  views of a copy of a leaf, views of views (slices of slices, transposes of
  slices, ``swapaxes``/``moveaxis``/``expand_dims``/``squeeze``/``ravel``/
  ``reshape`` views, ``np.split`` pieces, rows met by iterating), a view
  saved for backward (read by a later operation) and then modified in place,
  the output of ``exp``/``tanh``/``sigmoid`` (saved by torch for backward)
  modified in place (torch raises its version-counter error; NumPy gives a
  number, which we must give), ``x[idx] op= y`` chains with basic, fancy
  and boolean indices, fancy indexing that copies (``y[[0, 1]][0] = v``
  does not write ``y``), overlapping ``y[1:] += y[:-1]`` (NumPy reads the
  old values), ``out=`` into a view, ``copyto``/``putmask`` with ``where``,
  a helper that writes into its argument, views that stay read-only in
  NumPy (``sliding_window_view``, ``broadcast_to``) read only;
* JAX ``tests/lax_numpy_indexing_test.py`` gradients: basic, advanced and
  mixed indexing (advanced indices split by a slice move to the front),
  ``Ellipsis`` and ``None``, negative and out-of-order indices, boolean
  masks (0-d and full), repeated fancy indices in reads and in the
  ``.at[].add/set/mul/min/max`` updates (written ``np.add.at``,
  ``setitem`` -- the last write wins --, ``np.multiply.at``,
  ``np.minimum.at``/``np.maximum.at``), ``take``/``put`` with
  ``mode='wrap'``/``'clip'``, ``take_along_axis``/``put_along_axis``;
* JAX ``tests/lax_numpy_einsum_test.py``: repeated indices (diagonals,
  traces, ``iij``), implicit outputs (alphabetical order: ``'ba'`` is a
  transpose), ellipsis broadcasting, one-operand sums, the same operand
  twice, ``optimize=`` paths, three and four operands;
* JAX ``tests/lax_numpy_reducers_test.py``: ``where=`` with ``initial=``,
  ``keepdims``, ``dtype=`` (float32 accumulation of float64 data and back),
  nan-reducers on rows with NaNs, ``ptp``, cumulative reductions with
  ``dtype=``, selections by ``argmax``/``argmin``;
* every NumPy callable s2sgrad supports whose result may share memory with
  its argument (found by scanning them all with ``np.shares_memory``):
  ``x.mT``, one-operand ``einsum``, ``np.diag`` of a matrix,
  ``trim_zeros``, ``linalg.diagonal``, ``diff(n=0)``, ``polyder``/
  ``polyint`` with 0, ``x.conj()`` of a real array, ``real_if_close``,
  ``atleast_1d`` of a NumPy scalar (a copy), no-op transposes and flips,
  rows read out of run-time lists; kept across loops and branches;
* PyTorch ``test_autograd``'s checkpoint tests: checkpointed steps that
  update their state in place (the pullback must leave its cotangent
  argument alone);
* autograd ``tests/test_scipy.py``: ``logsumexp`` with ``b=``/
  ``return_sign``, ``softmax``/``log_softmax``, ``multigammaln``,
  Bessel functions of integer and array orders, ``xlog1py``, ``entr``/
  ``rel_entr``/``kl_div``, ``norm.logcdf`` tails, ``t``/``chi2``/``beta``/
  ``gamma``/``dirichlet``/``poisson`` in data and parameters,
  ``multivariate_normal`` ``logpdf``/``pdf``/``entropy``,
  ``scipy.signal.convolve``/``correlate2d``, ``sqrtm``/``logm``/
  ``solve_triangular``/``solve_sylvester``/``cho_solve``;
* autograd ``tests/test_complex.py`` and NumPy dtype edges: ``real``/
  ``imag``/``conj``/``abs``/``angle`` of complex intermediates, float32
  and float16 inputs mixed with Python floats and ints (the gradient is in
  the input's dtype; checked in :mod:`test_ports13_port`).

The facts (which programs, which points, which keyword arguments) are the
upstream tests'; the code is ours.
"""
from __future__ import annotations

import textwrap

import numpy as np

from .harness import source_case

RNG = np.random.default_rng(20261205)

NP = "import numpy as np"


def R(*shape):
    return RNG.standard_normal(shape)


def U(lo, hi, *shape):
    return RNG.uniform(lo, hi, shape)


def Dist(*shape):
    """Values with no ties and no value near another or near 0."""
    n = int(np.prod(shape))
    return ((RNG.permutation(n) * 0.37 + RNG.uniform(0, 0.1, n)).reshape(shape) - 0.15 * n) * 0.5


class _Area:
    def __init__(self, area, header=NP):
        self.area, self.header, self.out = area, header, []

    def __call__(self, name, src, args, wrt=(0,), header=None, **kw):
        if not src.lstrip().startswith(("def ", "import", "from")):
            params = ", ".join("abcdefgh"[:len(args)])
            src = f"def f({params}):\n    return {src}\n"
        self.out.append(source_case(self.area, name, src, args, wrt,
                                    header=header or self.header, **kw))


# ------------------------------------------------------------------ test_view_ops / test_autograd


def view_cases():
    s = _Area("views")
    s("slice_of_copy_scaled", """
def f(x):
    y = x.copy()
    v = y[1:]
    v *= 2.0
    return y * x
""", (R(5),))
    s("view_of_view", """
def f(x):
    y = x * 1.0
    v = y[1:]
    w = v[::2]
    w += np.sin(x[:2])
    return y * y
""", (R(5),))
    s("transpose_of_slice", """
def f(x):
    y = x.copy()
    v = y[:, 1:].T
    v[0] *= 3.0
    v[1] += x[:, 0]
    return y ** 2
""", (R(3, 3),))
    s("transpose_row_write", """
def f(x):
    y = np.tanh(x)
    y.T[1] = x[0] * 2.0
    return np.sum(y * x)
""", (R(3, 3),))
    s("swapaxes_view", """
def f(x):
    y = x * 2.0
    s = np.swapaxes(y, 0, 2)
    s[0] -= x[:, :, 0].T
    return y * x
""", (R(2, 3, 2),))
    s("moveaxis_view", """
def f(x):
    y = x + 0.0
    m = np.moveaxis(y, 0, -1)
    m[..., 1] *= x[1]
    return y
""", (R(2, 3),))
    s("expand_dims_view", """
def f(x):
    y = np.exp(x)
    e = np.expand_dims(y, 0)
    e[0, 1] = 7.0 * x[2]
    return y
""", (R(3),))
    s("newaxis_view", """
def f(x):
    y = x ** 2
    e = y[:, None]
    e[:, 0] += x[::-1]
    return y
""", (R(4),))
    s("squeeze_view", """
def f(x):
    y = x.reshape(1, 4) * 1.5
    q = y.squeeze()
    q[2] *= x[0]
    return y
""", (R(4),))
    s("ravel_view_write", """
def f(x):
    y = x * x
    r = y.ravel()
    r[::2] += 1.0
    r[1] *= x[0, 0]
    return y
""", (R(2, 3),))
    s("reshape_view_write", """
def f(x):
    y = np.sin(x)
    r = y.reshape(3, 2)
    r[:, 0] = r[:, 1] * 2.0
    return y
""", (R(2, 3),))
    s("transpose_reshape_copy", """
def f(x):
    y = np.sin(x)
    r = y.T.reshape(6)
    r[0] = 100.0
    return y + r[1:3].sum()
""", (R(2, 3),))
    s("ravel_of_transpose_copy", """
def f(x):
    y = x * 3.0
    r = y.T.ravel()
    r *= 2.0
    return y * r[0]
""", (R(2, 3),))
    s("split_pieces", """
def f(x):
    y = x * 1.0
    a, b = np.split(y, 2)
    a *= b
    b += 1.0
    return y
""", (R(4),))
    s("array_split_rows", """
def f(x):
    y = np.cos(x)
    parts = np.array_split(y, 3, axis=1)  # (2, 2), (2, 2), (2, 1)
    parts[1] *= 2.0
    parts[2][:] = parts[0][:, :1] ** 2
    return y
""", (R(2, 5),))
    s("iterate_rows_inplace", """
def f(x):
    y = x.copy()
    for row in y:
        row *= row[0]
    return y
""", (R(3, 2),))
    s("list_of_row_views", """
def f(x):
    y = x + 1.0
    rows = [y[i] for i in range(3)]
    rows[0] *= 2.0
    rows[2] += rows[0]
    return y
""", (R(3, 2),))
    s("view_saved_then_modified", """
def f(x):
    y = x * 2.0
    v = y[0]
    a = np.sin(v)
    y[0] *= 3.0
    return a + v
""", (R(2, 3),))
    s("exp_output_modified", """
def f(x):
    y = np.exp(x)
    z = y * x
    y += 1.0
    return z * y
""", (R(4),))
    s("tanh_output_view_modified", """
def f(x):
    y = np.tanh(x)
    v = y[1:]
    w = v * v
    v *= 0.5
    return np.sum(w) + np.sum(y)
""", (R(4),))
    s("sigmoid_output_clamped", """
def f(x):
    y = 1.0 / (1.0 + np.exp(-x))
    s = y.sum()
    y[y > 0.5] = 0.5
    return s * y
""", (np.array([-1.3, 0.4, 1.1, -0.2]),))
    s("fancy_index_copy_not_written", """
def f(x):
    y = x * 1.0
    y[[0, 1]][0] = 100.0
    y[np.array([True, False, True])][0] = 50.0
    return y * x
""", (R(3),))
    s("slice_then_fancy_write", """
def f(x):
    y = x * 1.0
    y[1:][[0, 2]] = np.cos(x[:2])
    return y
""", (R(4),))
    s("fancy_then_slice_write", """
def f(x):
    y = x * 1.0
    y[[0, 2, 3]][1:] = 9.0
    return y
""", (R(4),))
    s("idx_chain_ops", """
def f(x, w):
    y = x * 1.0
    y[1] += w[0]
    y[[0, 2]] *= w[1:]
    y[y < 0.0] -= w[0] ** 2
    y[1:3] /= 2.0 + w[2]
    return y
""", (Dist(4), U(0.5, 1.0, 3)), wrt=(0, 1))
    s("repeated_fancy_iadd", """
def f(x, w):
    y = x * 1.0
    y[[0, 1, 0]] += w
    return y
""", (R(3), R(3)), wrt=(0, 1))
    s("repeated_fancy_setitem", """
def f(x, w):
    y = x * 1.0
    y[[2, 0, 2]] = w
    return y
""", (R(3), R(3)), wrt=(0, 1))
    s("overlap_shift_iadd", """
def f(x):
    y = x * 1.0
    y[1:] += y[:-1]
    return y
""", (R(5),))
    s("overlap_transpose_iadd", """
def f(x):
    y = x * 1.0
    y += y.T
    return y
""", (R(3, 3),))
    s("overlap_reverse_assign", """
def f(x):
    y = x * 2.0
    y[:] = y[::-1]
    return y * x
""", (R(5),))
    s("ufunc_out_view", """
def f(x):
    y = x * 1.0
    np.multiply(y[:-1], y[1:], out=y[1:])
    return y
""", (R(5),))
    s("ufunc_out_strided", """
def f(x):
    y = np.zeros(6)
    np.sin(x, out=y[::2])
    np.add(y[::2], x, out=y[1::2])
    return y
""", (R(3),))
    s("copyto_where", """
def f(x, w):
    y = x * 1.0
    np.copyto(y, w, where=x > 0)
    return y * w
""", (Dist(5), R(5)), wrt=(0, 1))
    s("putmask", """
def f(x, w):
    y = x ** 2
    np.putmask(y, x < 0, w)
    return y
""", (Dist(4), R(4)), wrt=(0, 1))
    s("helper_writes_argument", """
def scale_tail(a, c):
    a[1:] *= c
    return None


def f(x, c):
    y = x * 1.0
    scale_tail(y, c)
    scale_tail(y[::2], c)
    return y
""", (R(5), 0.7), wrt=(0, 1))
    s("helper_returns_view", """
def tail(a):
    return a[1:]


def f(x):
    y = np.sin(x)
    t = tail(tail(y))
    t += x[:2]
    return y
""", (R(4),))
    s("asarray_is_same", """
def f(x):
    y = x * 2.0
    z = np.asarray(y)
    z[0] = x[1]
    w = np.array(y)
    w[1] = 0.0
    return y + w
""", (R(3),))
    s("view_method_and_ellipsis", """
def f(x):
    y = x + 0.5
    v = y.view()
    v[0] = 3.0 * x[1]
    e = y[...]
    e *= 2.0
    return y
""", (R(3),))
    s("flip_views_write", """
def f(x):
    y = x * 1.0
    np.flip(y, 0)[0] += x[0]
    np.fliplr(y)[:, 0] *= 2.0
    np.rot90(y)[0, 1] = x[1, 1] ** 2
    return y
""", (R(3, 3),))
    s("diag_einsum_view", """
def f(x):
    y = x * 1.0
    d = np.einsum('ii->i', y)
    d *= 2.0
    return y
""", (R(3, 3),))
    s("fill_diagonal", """
def f(x, w):
    y = x * 1.0
    np.fill_diagonal(y, w)
    return y
""", (R(3, 3), R(3)), wrt=(0, 1))
    s("diag_indices_iadd", """
def f(x):
    y = x * 1.0
    i = np.diag_indices(3)
    y[i] += np.diagonal(x) ** 2
    return y
""", (R(3, 3),))
    s("sliding_window_read", """
def f(x):
    y = np.exp(x)
    w = np.lib.stride_tricks.sliding_window_view(y, 3)
    s = w * np.array([1.0, -2.0, 0.5])
    y[0] = 0.0
    return s.sum(axis=1) + w[:, 0]
""", (R(6),))
    s("broadcast_to_read", """
def f(x):
    y = x * 2.0
    b = np.broadcast_to(y, (3, 4))
    z = b * np.arange(3.0)[:, None]
    y[1] = 10.0
    return z + b
""", (R(4),))
    s("unfold_like_windows", """
def f(x):
    y = x * 1.0
    w = np.lib.stride_tricks.sliding_window_view(y, (2, 2))
    m = w.max(axis=(-1, -2))
    y[0, 0] = -5.0
    return m * w[..., 0, 0]
""", (Dist(3, 3),))
    s("nested_slice_assign_chain", """
def f(x):
    y = np.zeros((4, 4))
    y[1:3, 1:3] = x
    y[1:3][:, 2] *= x[:, 0]
    y[::3, ::3] = y[1:3, 1:3] * 2.0
    return y
""", (R(2, 2),))
    s("augassign_alias_name", """
def f(x):
    y = x * 1.0
    a = y
    a += 1.0
    a = a * 2.0
    a += 1.0
    return y + a
""", (R(3),))
    s("real_view_write", """
def f(x):
    y = x * 1.0
    r = y.real
    r *= 3.0
    return y
""", (R(3),))
    s("flat_write", """
def f(x):
    y = x * 1.0
    y.flat[::2] = x.flat[1::2] if False else 0.5 * y.flat[::2]
    return y
""", (R(2, 3),))
    s("setitem_broadcast_row", """
def f(x, w):
    y = np.zeros((3, 4)) + x
    y[:, 1:3] = w[:, None]
    y[1] += w[0]
    return y
""", (R(4), R(3)), wrt=(0, 1))
    s("column_of_fortran_copy", """
def f(x):
    y = np.asfortranarray(x * 1.0)
    c = y[:, 0]
    c *= 2.0
    return y
""", (R(3, 2),))
    s("inplace_grad_accumulate_loop", """
def f(x):
    acc = np.zeros_like(x)
    for k in range(3):
        v = acc[k:]
        v += x[: x.shape[0] - k] * (k + 1)
    return acc
""", (R(4),))
    return s.out


# NumPy functions whose result is a view of their operand (or the operand
# itself): a write into the operand after the call is seen through the
# result (test_view_ops' "view semantics" of every view op)
_VIEW_FNS = {
    "T": ("y.T", (3, 3)), "mT": ("y.mT", (3, 3)),
    "matrix_transpose": ("np.matrix_transpose(y)", (3, 3)),
    "linalg_matrix_transpose": ("np.linalg.matrix_transpose(y)", (3, 3)),
    "permute_dims": ("np.permute_dims(y, (1, 0))", (3, 3)),
    "diag_of_matrix": ("np.diag(y)", (3, 3)), "diag_offset": ("np.diag(y, 1)", (3, 3)),
    "diagonal": ("np.diagonal(y, 1)", (3, 3)), "diagonal_method": ("y.diagonal()", (3, 3)),
    "linalg_diagonal": ("np.linalg.diagonal(y)", (3, 3)),
    "unstack": ("np.unstack(y)[1]", (3, 3)), "unstack_axis": ("np.unstack(y, axis=1)[0]", (3, 3)),
    "trim_zeros": ("np.trim_zeros(y)", (5,)),
    "einsum_diag": ("np.einsum('ii->i', y)", (3, 3)), "einsum_T": ("np.einsum('ij->ji', y)", (3, 3)),
    "einsum_same": ("np.einsum('ij', y)", (3, 3)), "einsum_implicit_T": ("np.einsum('ji', y)", (3, 3)),
    "einsum_optimize": ("np.einsum('ii->i', y, optimize=True)", (3, 3)),
    "einsum_ellipsis": ("np.einsum('...ii->...i', y)", (2, 3, 3)),
    "einsum_sublists": ("np.einsum(y, [0, 0], [0])", (3, 3)),
    "einsum_trace_copy": ("np.einsum('ii', y)", (3, 3)),
    "einsum_sum_copy": ("np.einsum('ij->i', y)", (3, 3)),
    "rollaxis": ("np.rollaxis(y, 1)", (2, 3)), "flipud": ("np.flipud(y)", (3, 3)),
    "swapaxes_method": ("y.swapaxes(0, 1)", (2, 3)), "real": ("np.real(y)", (3,)),
    "real_attr": ("y.real", (3,)), "atleast_2d": ("np.atleast_2d(y)", (3,)),
    "atleast_3d": ("np.atleast_3d(y)", (3,)), "reshape_F": ("y.reshape(6, order='F')", (2, 3)),
    "broadcast_arrays": ("np.broadcast_arrays(y, np.ones((2, 3)))[0]", (3,)),
    "broadcast_to": ("np.broadcast_to(y, (2, 3))", (3,)),
    "hsplit": ("np.hsplit(y, 2)[1]", (2, 4)), "vsplit": ("np.vsplit(y, 2)[0]", (4, 2)),
    "dsplit": ("np.dsplit(y, 2)[1]", (2, 2, 2)), "split_at": ("np.split(y, [1, 3])[1]", (5,)),
    "sliding_window": ("np.lib.stride_tricks.sliding_window_view(y, 2)", (4,)),
    "sliding_window_axis": ("np.lib.stride_tricks.sliding_window_view(y, 2, axis=1)", (2, 3)),
    "nan_to_num_in_place": ("np.nan_to_num(y, copy=False)", (3,)),
    "nan_to_num_copy": ("np.nan_to_num(y)", (3,)),
    "squeeze_axis": ("np.squeeze(y, axis=0)", (1, 3)),
    "expand_dims_tuple": ("np.expand_dims(y, (0, 2))", (3,)),
    "ellipsis_newaxis": ("y[..., None, 1:]", (2, 3)), "negative_step": ("y[::-2]", (5,)),
    "last_row": ("y[-1]", (3, 2)), "astype_no_copy": ("y.astype(np.float64, copy=False)", (3,)),
    "asarray_dtype": ("np.asarray(y, dtype=np.float64)", (3,)),
    "ascontiguousarray": ("np.ascontiguousarray(y)", (3,)),
    "asfortranarray_T": ("np.asfortranarray(y.T)", (2, 3)), "T_T": ("y.T.T", (2, 3)),
    "transpose_axes": ("y.transpose(1, 0, 2)", (2, 3, 2)),
    "moveaxis_lists": ("np.moveaxis(y, [0, 1], [-1, -2])", (2, 3, 2)),
    "flat_slice_copy": ("y.flat[:]", (2, 3)), "copy_method": ("y.copy()", (3,)),
    "flatten_copy": ("y.flatten()", (2, 3)),
    "compress_copy": ("np.compress([True, False, True], y)", (3,)),
}


def view_fn_cases():
    out = []
    for name, (expr, shape) in _VIEW_FNS.items():
        for how, write in (("scaled", "y *= 2.0"),
                           ("item", "y[(0,) * y.ndim] = 7.0 * x[(0,) * x.ndim]")):
            src = f"def f(x):\n    y = x * 1.0\n    r = {expr}\n    {write}\n    return r * 1.5\n"
            out.append(source_case("viewfns", f"{name}_{how}", src, (R(*shape),)))
    # written through: a transpose of the last two axes, a diagonal of a matrix built by np.diag
    out.append(source_case("viewfns", "mT_written", """
def f(x):
    y = x * 1.0
    y.mT[..., 0] *= x[..., 0, :] ** 2
    np.matrix_transpose(y)[0, 1] += 1.0
    return y
""", (R(2, 3, 3),)))
    out.append(source_case("viewfns", "diag_built_written", """
def f(v):
    D = np.diag(v * 2.0)
    D[0, 1] = v[1]
    D[2] *= v[0]
    return D @ v
""", (R(3),)))
    return out


# ------------------------------------------------------------------ lax_numpy_indexing_test


def indexing_cases():
    s = _Area("indexing")
    A = R(3, 4, 5)
    for name, idx in [
        ("int", "1"), ("neg_int", "-1"), ("slice", "1:3"), ("neg_slice", "-3:-1"),
        ("step_slice", "::2"), ("neg_step", "::-1"), ("ellipsis_int", "..., 2"),
        ("int_ellipsis", "0, ..."), ("newaxis", "None, 1"), ("newaxis_ellipsis", "..., None"),
        ("mixed_basic", "1:, None, ::-2, 3"), ("empty_slice", "1:1"),
        ("tuple_ints", "(1, 2)"), ("fancy_1d", "[2, 0, 2]"), ("fancy_neg", "[-1, 0, -3]"),
        ("fancy_out_of_order", "[2, 1, 0], :, [4, 0, 2]"),
        ("fancy_2d", "np.array([[0, 1], [2, 2]])"),
        ("fancy_split_by_slice", "[0, 2], :, [1, 3]"),
        ("fancy_adjacent", ":, [0, 3], [1, 4]"),
        ("fancy_and_int", "[0, 1, 1], 2"), ("fancy_int_split", "1, :, [0, 4]"),
        ("fancy_broadcast", "np.array([[0], [2]]), np.array([1, 3])"),
        ("fancy_newaxis", "None, [1, 0]"), ("fancy_ellipsis", "..., [4, 4, 0]"),
        ("bool_full", "A_MASK"), ("bool_first_axis", "np.array([True, False, True])"),
        ("bool_and_slice", "np.array([True, False, True]), 1:3"),
        ("bool_0d_true", "np.True_"), ("bool_0d_false", "np.False_"),
        ("bool_last_axis", "..., np.array([True, False, False, True, True])"),
        ("int_array_0d", "np.array(2)"), ("empty_fancy", "np.array([], dtype=int)"),
    ]:
        src = f"def f(a):\n    A_MASK = a > 0.2\n    return np.sin(a)[{idx}] * 2.0\n"
        s(f"read_{name}", src, (A,))
    # scatter updates: jnp's x.at[idx].op(y) as NumPy writes
    for name, idx, vshape in [("int", "1", (4, 5)), ("slice", "1:", (2, 4, 5)),
                              ("fancy_repeated", "[0, 2, 0]", (3, 4, 5)),
                              ("fancy_2axes", "[0, 2, 0], [1, 1, 1]", (3, 5)),
                              ("fancy_split", "[2, 2], :, [0, 0]", (2, 4)),
                              ("neg", "-1, -2", (5,)), ("ellipsis", "..., [3, 3]", (3, 4, 2))]:
        at = {"1:": "slice(1, None)", "[2, 2], :, [0, 0]": "([2, 2], slice(None), [0, 0])",
              "..., [3, 3]": "(Ellipsis, [3, 3])"}.get(idx, f"({idx})")
        s(f"at_add_{name}", f"def f(a, v):\n    y = a * 1.0\n    np.add.at(y, {at}, v)\n"
          f"    return y\n", (A, R(*vshape)), wrt=(0, 1))
        s(f"at_mul_{name}", f"def f(a, v):\n    y = a * 1.0\n    np.multiply.at(y, {at}, v)\n"
          f"    return y\n", (A, U(0.5, 1.5, *vshape)), wrt=(0, 1))
        s(f"at_set_{name}", f"def f(a, v):\n    y = a * 1.0\n    y[{idx}] = v\n    return y\n",
          (A, R(*vshape)), wrt=(0, 1))
        s(f"at_iadd_{name}", f"def f(a, v):\n    y = a * 1.0\n    y[{idx}] += v\n    return y\n",
          (A, R(*vshape)), wrt=(0, 1))
    s("at_max_repeated", """
def f(a, v):
    y = a * 1.0
    np.maximum.at(y, [0, 3, 0, 1], v)
    return y
""", (Dist(5), Dist(4)), wrt=(0, 1))
    s("at_min_repeated", """
def f(a, v):
    y = a * 1.0
    np.minimum.at(y, ([1, 1, 0], [2, 2, 0]), v)
    return y
""", (Dist(2, 3), Dist(3)), wrt=(0, 1))
    s("at_subtract_divide", """
def f(a, v):
    y = a * 1.0
    np.subtract.at(y, [1, 1, 3], v)
    np.divide.at(y, [0, 2], v[:2])
    return y
""", (R(4), U(1.0, 2.0, 3)), wrt=(0, 1))
    s("at_add_scalar_value", """
def f(a, c):
    y = a * 1.0
    np.add.at(y, [0, 0, 2], c)
    return y * a
""", (R(3), 0.7), wrt=(0, 1))
    s("put_wrap", """
def f(a, v):
    y = a * 1.0
    np.put(y, [1, 7, -1], v, mode='wrap')
    return y
""", (R(2, 3), R(3)), wrt=(0, 1))
    s("put_clip", """
def f(a, v):
    y = a * 1.0
    np.put(y, [-4, 2, 9], v, mode='clip')
    return y
""", (R(5), R(3)), wrt=(0, 1))
    s("put_repeated_last_wins", """
def f(a, v):
    y = a * 1.0
    np.put(y, [1, 1, 3], v)
    return y
""", (R(5), R(3)), wrt=(0, 1))
    s("put_short_values_cycle", """
def f(a, v):
    y = a * 1.0
    np.put(y, [0, 1, 2, 3], v)
    return y
""", (R(5), R(2)), wrt=(0, 1))
    for mode in ("wrap", "clip"):
        s(f"take_{mode}", f"np.take(np.exp(a), [-7, 0, 5, 11], axis=1, mode='{mode}')", (R(2, 5),))
        s(f"take_flat_{mode}", f"np.take(a ** 2, [[0, 13], [-2, 3]], mode='{mode}')", (R(2, 5),))
    s("take_along_axis_neg", """
def f(a):
    i = np.argsort(a, axis=1)[:, ::-1]
    return np.take_along_axis(a, i - a.shape[1], axis=1)
""", (Dist(3, 4),))
    s("take_along_axis_none", "np.take_along_axis(a, np.array([3, 0, 3]), axis=None) * a[0, 0]",
      (R(2, 3),))
    s("put_along_axis_repeated", """
def f(a, v):
    y = a * 1.0
    np.put_along_axis(y, np.array([[0, 0], [2, 1]]), v, axis=1)
    return y
""", (R(2, 3), R(2, 2)), wrt=(0, 1))
    s("put_along_axis_broadcast_value", """
def f(a, c):
    y = np.sin(a)
    np.put_along_axis(y, np.argmax(a, axis=0)[None], c, axis=0)
    return y
""", (Dist(3, 4), 0.3), wrt=(0, 1))
    s("setitem_fancy_broadcast_value", """
def f(a, v):
    y = a * 1.0
    y[[0, 2], 1:] = v
    return y
""", (R(3, 4), R(3)), wrt=(0, 1))
    s("setitem_bool_scalar_value", """
def f(a, c):
    y = a * 1.0
    y[a > 0] = c
    return y * a
""", (Dist(3, 3), 0.25), wrt=(0, 1))
    s("setitem_bool_array_value", """
def f(a, v):
    y = a * 1.0
    m = np.array([True, False, True, True])
    y[m] = v
    return y
""", (R(4), R(3)), wrt=(0, 1))
    s("getitem_then_setitem_same_fancy", """
def f(a):
    y = a * 1.0
    i = [2, 0, 2]
    y[i] = y[i] * 3.0
    return y
""", (R(4),))
    s("index_with_computed_int", """
def f(a):
    k = int(np.argmax(a))
    return a[k] * a[k - 1] + a[-k]
""", (Dist(5),))
    s("index_tuple_variable", """
def f(a):
    idx = (slice(None), [1, 0], None)
    return a[idx] ** 2
""", (R(2, 3),))
    s("nonzero_index", "a[np.nonzero(a > 0)] * 2.0", (Dist(3, 3),))
    s("where_one_arg_index", "np.sum(a[np.where(a < 0)] ** 2)", (Dist(3, 3),))
    s("ix_", "a[np.ix_([0, 2], [3, 1, 1])] * a[1, 1]", (R(3, 4),))
    s("diag_indices", "a[np.diag_indices(3)] * 2.0", (R(3, 3),))
    s("tril_indices", "a[np.tril_indices(3, -1)] ** 2", (R(3, 3),))
    return s.out


# ------------------------------------------------------------------ lax_numpy_einsum_test


def einsum_cases():
    s = _Area("einsum")
    one = [("ii", (3, 3)), ("ii->i", (3, 3)), ("iij->j", (2, 2, 3)), ("iji->j", (2, 3, 2)),
           ("ij->", (2, 3)), ("ij->j", (2, 3)), ("ba", (2, 3)), ("ijk->kij", (2, 3, 2)),
           ("...ii->...", (2, 3, 3)), ("i...->...", (3, 2)), ("iii->i", (2, 2, 2)),
           ("ijji->", (2, 3, 3, 2)), ("jii->ij", (2, 3, 3))]
    for spec, shape in one:
        label = spec.replace("->", "_to_").replace("...", "E") or "empty"
        s(f"one_{label}", f"np.einsum('{spec}', np.sin(a)) * 1.0", (R(*shape),))
    two = [("i,i", (3,), (3,)), ("i,i->i", (3,), (3,)), ("i,j->ij", (3,), (2,)),
           ("ij,jk", (2, 3), (3, 2)), ("ij,jk->ki", (2, 3), (3, 4)),
           ("ij,ij->", (2, 3), (2, 3)), ("ij,ji->", (2, 3), (3, 2)),
           ("ii,i->i", (3, 3), (3,)), ("ij,kj->ikj", (2, 3), (4, 3)),
           ("...ij,...jk->...ik", (2, 2, 3), (3, 2)), ("...i,...i->...", (2, 3), (1, 3)),
           ("bij,bjk->bik", (2, 2, 3), (2, 3, 2)), ("i,ii->", (3,), (3, 3)),
           ("ijk,k->ij", (2, 3, 4), (4,)), ("ab,ba", (3, 2), (2, 3)),
           ("i...,i...->...", (3, 2), (3, 1))]
    for spec, sa, sb in two:
        label = spec.replace("->", "_to_").replace("...", "E").replace(",", "_")
        s(f"two_{label}", f"np.einsum('{spec}', a, b)", (R(*sa), R(*sb)), wrt=(0, 1))
    s("same_operand_twice", "np.einsum('ij,ij->i', a, a)", (R(3, 2),))
    s("same_operand_transposed", "np.einsum('ij,ji->', a, a)", (R(3, 3),))
    for opt in ("True", "'greedy'", "'optimal'", "False"):
        s(f"three_optimize_{opt.strip(chr(39))}",
          f"np.einsum('ij,jk,kl->il', a, b, c, optimize={opt})",
          (R(2, 3), R(3, 4), R(4, 2)), wrt=(0, 1, 2))
    s("four_operands_chain", "np.einsum('i,ij,jk,k->', a, b, c, d, optimize=True)",
      (R(2), R(2, 3), R(3, 2), R(2)), wrt=(0, 1, 2, 3))
    s("sublist_form", "np.einsum(a, [0, 1], b, [1, 2], [0, 2])", (R(2, 3), R(3, 2)),
      wrt=(0, 1))
    s("sublist_ellipsis", "np.einsum(a, [Ellipsis, 0], b, [0, Ellipsis])", (R(2, 3), R(3, 2)),
      wrt=(0, 1))
    s("scalar_operand", "np.einsum('i,->i', a, b)", (R(3), 0.7), wrt=(0, 1))
    s("spaces_in_spec", "np.einsum(' ij , jk -> ik ', a, b)", (R(2, 3), R(3, 2)), wrt=(0, 1))
    s("float32_operands", "np.einsum('ij,j->i', a, b)",
      (R(2, 3).astype(np.float32), R(3).astype(np.float32)), wrt=(0, 1), rtol=1e-3, atol=1e-4)
    s("complex_operand", "np.real(np.einsum('ij,j->i', a, b * (1 + 2j)))", (R(2, 3), R(3)),
      wrt=(0, 1))
    return s.out


# ------------------------------------------------------------------ lax_numpy_reducers_test


def reducer_cases():
    s = _Area("reducers")
    M = Dist(3, 4)
    W = np.array([[True, False, True, True], [False, False, True, False],
                  [True, True, True, False]])
    for fn in ("sum", "prod", "mean", "var", "std", "max", "min", "nansum", "nanprod",
               "nanmean", "nanmax", "nanmin", "nanvar", "nanstd"):
        ini = ", initial=-5.0" if fn in ("max", "min", "nanmax", "nanmin") else ""
        if fn in ("min", "nanmin"):
            ini = ", initial=5.0"
        s(f"{fn}_where_axis1", f"def f(a, w):\n    return np.{fn}(a, axis=1, where=w{ini})\n",
          (M, W))
        s(f"{fn}_where_keepdims", f"def f(a, w):\n    return np.{fn}(a * 1.5, axis=0, where=w, "
          f"keepdims=True{ini})\n", (M, W))
    for fn, ini in (("sum", 2.0), ("prod", 0.5), ("max", 0.1), ("min", -0.1)):
        s(f"{fn}_initial_axis0", f"np.{fn}(a, axis=0, initial={ini})", (M,))
        s(f"{fn}_initial_all", f"np.{fn}(a, initial={ini})", (M,))
        s(f"{fn}_initial_wins", f"np.{fn}(a * 0.01, axis=1, initial={ini * 100})", (M,))
    s("max_where_all_false_row_initial", """
def f(a):
    w = np.array([[True, True], [False, False]])
    return np.max(a, axis=1, where=w, initial=-1.0)
""", (Dist(2, 2),))
    # (float32 results of float64 data: differences of a float32 function, hence the tolerance)
    s("sum_dtype_float32", "np.sum(a, axis=0, dtype=np.float32)", (M,), rtol=5e-3, atol=1e-3)
    s("mean_dtype_float64_of_f32", "np.mean(a, axis=1, dtype=np.float64)",
      (M.astype(np.float32),), rtol=1e-4, atol=1e-5)
    s("cumsum_dtype_float32", "np.cumsum(a, axis=1, dtype=np.float32)", (M,), rtol=5e-3,
      atol=1e-3)
    s("cumprod_dtype", "np.cumprod(a, axis=0, dtype=np.float64)", (M.astype(np.float32),),
      rtol=1e-4, atol=1e-5)
    s("nancumsum_with_nan", """
def f(a):
    y = a * 1.0
    y[0, 1] = np.nan
    return np.nancumsum(y, axis=1)
""", (M,))
    s("nancumprod_with_nan", """
def f(a):
    y = a * 1.0
    y[1, 0] = np.nan
    return np.nancumprod(y, axis=0)
""", (M,))
    for fn in ("nanmax", "nanmin", "nanmean", "nansum", "nanargmax_take", "nanmedian", "nanvar"):
        body = ("np.take_along_axis(y, np.nanargmax(y, axis=1)[:, None], axis=1)"
                if fn == "nanargmax_take" else f"np.{fn}(y, axis=1)")
        s(f"{fn}_nan_rows", f"""
def f(a):
    y = a * 1.0
    y[0, 2] = np.nan
    y[2, :3] = np.nan
    return {body}
""", (M,))
    s("nanmax_all_nan_row", """
def f(a):
    y = a * 1.0
    y[1] = np.nan
    return np.nan_to_num(np.nanmax(y, axis=1)) + np.nansum(y, axis=1)
""", (M,))
    s("ptp_axis", "np.ptp(a, axis=1)", (M,))
    s("ptp_keepdims", "np.ptp(a * a, axis=0, keepdims=True)", (M,))
    s("ptp_all", "np.ptp(a)", (M,))
    s("argmax_select", "a[np.arange(3), np.argmax(a, axis=1)] * 2.0", (M,))
    s("argmin_take_along", "np.take_along_axis(np.exp(a), np.argmin(a, axis=0)[None], axis=0)",
      (M,))
    s("argmax_keepdims", "np.take_along_axis(a, np.argmax(a, axis=1, keepdims=True), axis=1)",
      (M,))
    s("argmax_flat", "a.flat[np.argmax(a)] * a[0, 0]", (M,))
    s("max_keepdims_neg_axis", "a - np.max(a, axis=-1, keepdims=True)", (M,))
    s("amax_tuple_axis", "np.amax(a, axis=(0, 2))", (Dist(2, 3, 2),))
    s("sum_empty_axis_tuple", "np.sum(a, axis=())", (M,))
    s("all_any_gates", "a * np.all(a > -10, axis=1, keepdims=True) + np.any(a > 1.0)", (M,))
    s("count_nonzero_scale", "np.sum(a) / np.count_nonzero(a > 0)", (M,))
    s("logsumexp_where", """
def f(a, w):
    m = np.max(a, axis=1, where=w, initial=-np.inf, keepdims=True)
    return np.log(np.sum(np.exp(a - m), axis=1, where=w)) + m[:, 0]
""", (M, W))
    s("average_weights_keepdims", "np.average(a, axis=1, weights=np.arange(1.0, 5.0), "
      "keepdims=True)", (M,))
    s("median_keepdims", "np.median(a, axis=0, keepdims=True)", (M,))
    s("quantile_method", "np.quantile(a, [0.25, 0.8], axis=1, method='nearest')", (M,))
    s("percentile_midpoint", "np.percentile(a, 40.0, axis=0, method='midpoint')", (M,))
    return s.out


# ------------------------------------------------------------------ test_complex / dtypes


def complex_cases():
    s = _Area("complex")
    s("real_of_product", "np.real(a * (1.0 + 2.0j) * a)", (R(3),))
    s("imag_of_exp", "np.imag(np.exp(1j * a))", (R(3),))
    s("abs_of_complex", "np.abs(a + 1j * b)", (R(3), R(3)), wrt=(0, 1))
    s("angle_of_complex", "np.angle(a + 1j * b)", (U(0.5, 1.5, 3), R(3)), wrt=(0, 1))
    s("conj_product", "np.real(np.conj(a) * a)", (R(3) + 1j * R(3),))
    s("complex_arg_abs2", "np.abs(a) ** 2", (R(3) + 1j * R(3),))
    s("complex_arg_real_imag", "np.real(a) * np.imag(a) + np.real(a ** 2)", (R(3) + 1j * R(3),))
    s("complex_matmul", "a @ b", (R(2, 3) + 1j * R(2, 3), R(3) - 0.5j * R(3)), wrt=(0, 1))
    s("complex_sum_of_squares", "np.sum(a * a)", (R(4) + 1j * R(4),))
    s("complex_exp_log", "np.log(np.exp(a) + 2.0)", (R(3) * 0.3 + 0.2j * R(3),))
    s("complex_div", "a / (b + 2.0)", (R(3) + 1j * R(3), U(0.5, 1.0, 3) + 0.5j), wrt=(0, 1))
    s("complex_setitem", """
def f(a):
    y = np.zeros(3, dtype=complex)
    y[1:] = a[:2] * 1j
    y[0] += a[2]
    return y
""", (R(3) + 1j * R(3),))
    s("real_part_view_of_complex_read", """
def f(a):
    y = a * 1.0
    r = y.real
    i = y.imag
    return r * i
""", (R(3) + 1j * R(3),))
    s("complex_fft_power", "np.abs(np.fft.fft(a)) ** 2", (R(4),))
    return s.out


def dtype_cases():
    s = _Area("dtypes")
    F32 = R(3).astype(np.float32)
    F16 = R(3).astype(np.float16)
    for label, x, tol in (("f32", F32, 1e-3), ("f16", F16, 3e-2)):
        s(f"{label}_times_python_float", "a * 0.1 + 2.5", (x,), rtol=tol, atol=tol)
        s(f"{label}_pow_python_int", "a ** 3 - 2 * a", (x,), rtol=tol, atol=tol)
        s(f"{label}_div_python_int", "1 / (a * a + 1)", (x,), rtol=tol, atol=tol)
        s(f"{label}_exp_sum", "np.sum(np.exp(a * 0.5))", (x,), rtol=tol, atol=tol)
        s(f"{label}_with_f64_scalar", "a * np.float64(0.5) + np.sin(a)", (x,), rtol=tol,
          atol=tol)
        s(f"{label}_mean_var", "np.mean(a) + np.var(a)", (x,), rtol=tol, atol=tol)
        s(f"{label}_where_const", "np.where(a > 0, a, 0.01 * a)", (x,), rtol=tol, atol=tol)
        s(f"{label}_inplace_python_float", "def f(a):\n    y = a * 1.0\n    y *= 0.3\n"
          "    y += 1.0\n    return y\n", (x,), rtol=tol, atol=tol)
        s(f"{label}_setitem_python_float", "def f(a):\n    y = a * 2\n    y[0] = 0.25\n"
          "    return y * a\n", (x,), rtol=tol, atol=tol)
        s(f"{label}_astype_f64", "a.astype(np.float64) ** 2", (x,), rtol=tol, atol=tol)
        s(f"{label}_mixed_with_f64_array", "a * b", (x, R(3)), wrt=(0, 1), rtol=tol, atol=tol)
    s("int_array_times_float", "a * b.astype(float)", (R(3), np.array([1, 2, 3])))
    s("int_array_power_float", "b ** a", (R(3), np.array([1, 2, 3])))
    s("bool_times_float", "a * (a > 0)", (Dist(4),))
    s("f32_matmul_f32", "a @ b", (R(2, 3).astype(np.float32), R(3, 2).astype(np.float32)),
      wrt=(0, 1), rtol=1e-3, atol=1e-4)
    s("f32_0d_array", "a * 3.0 + np.float32(1.5) * a ** 2", (np.array(0.7, dtype=np.float32),),
      rtol=1e-3, atol=1e-4)
    s("f32_numpy_scalar", "a * 3.0 + a ** 2", (np.float32(0.7),), rtol=1e-3, atol=1e-4)
    return s.out


# ------------------------------------------------------------------ in-place methods and overlaps

# test_autograd's in-place checks as NumPy programs on y = x * 1.0: in-place
# methods (sort, fill, put, partition), out= aliasing its own input, the
# overlapping updates NumPy resolves by buffering, swaps through views, and
# views kept across loops while their base is written.
_INPLACE = {
 "sort_method": "y.sort()\n    return y * x",
 "sort_axis0": "Y = y.reshape(2, 3)\n    Y.sort(axis=0)\n    return y",
 "fill": "v = y[1:]\n    v.fill(0.5)\n    return y * x",
 "put_method": "y.put([0, 2], x[:2] ** 2)\n    return y",
 "clip_out_self": "y.clip(-0.5, 0.5, out=y)\n    return y * x",
 "partition": "y.partition(2)\n    return y[:2] * 1.0",
 "cumsum_out_self": "np.cumsum(y, out=y)\n    return y",
 "add_out_reversed": "np.add(y, y[::-1], out=y)\n    return y",
 "iadd_reversed": "y += y[::-1]\n    return y",
 "shift_assign": "y[1:] = y[:-1]\n    return y * x",
 "shift_assign_back": "y[:-1] = y[1:]\n    return y * x",
 "copyto_overlap": "np.copyto(y[1:], y[:-1])\n    return y",
 "fancy_iadd_self": "y[[0, 0, 1]] += y[:3]\n    return y",
 "fancy_set_self": "y[[1, 0]] = y[[0, 1]]\n    return y",
 "swap_tuple": "y[0], y[1] = y[1], y[0]\n    return y * x",
 "swap_rows_views": "Y = y.reshape(2, 3)\n    Y[0], Y[1] = Y[1], Y[0].copy()\n    return y",
 "swap_rows_views_nocopy": "Y = y.reshape(2, 3)\n    Y[0], Y[1] = Y[1], Y[0]\n    return y",
 "imul_view_of_view_T": "Y = y.reshape(2, 3)\n    Y.T[::2] *= x[:3, None] if False else 2.0\n    return y",
 "matmul_inplace": "Y = y.reshape(2, 3)\n    Z = Y[:, :2].copy()\n    Z @= np.array([[1.0, 2.0], [0.5, -1.0]])\n    return Z",
 "ipow": "v = y[::2]\n    v **= 2\n    return y",
 "ifloordiv_mod": "v = y[1:3]\n    v %= 0.7\n    return y",
 "itruediv_by_view": "y /= (2.0 + y[0] ** 2)\n    return y",
 "imul_by_own_elem": "y *= y[2]\n    return y",
 "iadd_broadcast_row": "Y = y.reshape(2, 3)\n    Y += Y[0]\n    return y",
 "iadd_broadcast_col": "Y = y.reshape(2, 3)\n    Y -= Y[:, :1]\n    return y",
 "ufunc_at_view": "np.add.at(y[::2], [0, 0, 1], x[:3])\n    return y",
 "negative_out_view": "np.negative(y[:3], out=y[3:])\n    return y * x",
 "where_out": "np.multiply(y, 3.0, out=y, where=y > 0)\n    return y",
 "ravel_view_then_T_write": "r = y.ravel()\n    Y = r.reshape(2, 3)\n    Y.T[0] = 9.0 * x[0]\n    return y + r",
 "expand_then_squeeze_write": "e = np.expand_dims(y, 0).squeeze(0)\n    e[1] = x[1] ** 2\n    return y",
 "view_in_loop": "for k in range(3):\n        v = y[k:k + 2]\n        v *= 1.5\n    return y",
 "view_kept_across_loop": "v = y[2:]\n    for k in range(3):\n        y[k] += v[k]\n    return y",
 "diag_read_in_loop": "Y = y.reshape(2, 3)\n    d = np.diagonal(Y)\n    for k in range(2):\n        Y[k, k] *= 2.0\n    return d * 1.0",
 "mT_kept_in_loop": "Y = y.reshape(2, 3)\n    t = Y.mT\n    for k in range(2):\n        Y[k] += t[k, 0]\n    return y",
 "einsum_view_kept_loop": "Y = y.reshape(2, 3)[:, :2].copy()\n    d = np.einsum('ii->i', Y)\n    for k in range(2):\n        Y[k] *= 2.0 + k\n    return d * 1.0",
 "sliding_in_loop": "w = np.lib.stride_tricks.sliding_window_view(y, 2)\n    for k in range(2):\n        y[k + 1] = w[k].sum()\n    return y",
}


def inplace_cases():
    out = []
    for name, body in _INPLACE.items():
        src = f"def f(x):\n    y = x * 1.0\n    {body}\n"
        out.append(source_case("inplace", name, src, (Dist(6),)))
    return out


# the views above kept across loops and branches, returned by helpers, and
# np.diag whose operand is a matrix or a vector only at run time
_VIEW_LOOPS = {
 "diag_matrix_loop": ("def f(x):\n    Y = x * 1.0\n    d = np.diag(Y)\n    for k in range(3):\n        Y[k] *= 1.0 + 0.5 * k\n        Y[k, k] += d[k - 1]\n    return d * Y[0]\n", (3, 3)),
 "diag_vector_loop": ("def f(x):\n    v = x * 1.0\n    D = np.diag(v)\n    for k in range(3):\n        v[k] = v[k] ** 2\n        D[k] += v\n    return D\n", (3,)),
 "diag_branch": ("def f(x):\n    Y = x * 1.0\n    d = np.diag(Y, -1)\n    if np.sum(x) > 0:\n        Y *= 2.0\n    else:\n        Y -= 1.0\n    return d + Y[1:, 0]\n", (3, 3)),
 "diag_runtime_ndim": ("def f(x, flag):\n    Y = x * 1.0 if flag else x[0] * 1.0\n    d = np.diag(Y)\n    Y[0] *= 3.0\n    return d * 1.0\n", None),
 "mT_view_in_helper": ("def g(a):\n    return a.mT\n\n\ndef f(x):\n    Y = x * 1.0\n    t = g(Y)\n    t[0] *= 2.0\n    Y[1, 0] = 5.0\n    return t + Y\n", (3, 3)),
 "einsum_view_helper": ("def g(a):\n    return np.einsum('ij->ji', a)\n\n\ndef f(x):\n    Y = x * 1.0\n    t = g(Y)\n    Y[0] *= 3.0\n    return t * x.T\n", (2, 3)),
 "sliding_loop_written": ("def f(x):\n    y = x * 1.0\n    w = np.lib.stride_tricks.sliding_window_view(y, 3)\n    acc = 0.0\n    for k in range(w.shape[0]):\n        acc = acc + np.sum(w[k] * np.array([1.0, -1.0, 0.5]))\n        y[k] = acc\n    return y\n", (6,)),
 "trim_loop": ("def f(x):\n    y = np.concatenate([np.zeros(2), x, np.zeros(1)])\n    t = np.trim_zeros(y)\n    for k in range(2):\n        y[2 + k] *= 3.0\n    return t * 1.0\n", (3,)),
}


def view_loop_cases():
    out = []
    for name, (src, shape) in _VIEW_LOOPS.items():
        if shape is None:
            out.append(source_case("viewloops", name + "_2d", src, (R(3, 3), True)))
            out.append(source_case("viewloops", name + "_1d", src, (R(3, 3), False)))
        else:
            out.append(source_case("viewloops", name, src, (R(*shape),)))
    return out


# the spellings that return their operand itself or a view of it in some
# cases only (x.conj() of a real x, np.real_if_close, np.atleast_1d of a
# NumPy scalar), no-op transposes and flips, and rows read out of lists
_VIEW_FNS2 = {
    "conj_method": ("y.conj()", (3,)), "conjugate_method": ("y.conjugate()", (3,)),
    "np_conj": ("np.conj(y)", (3,)), "real_if_close": ("np.real_if_close(y)", (3,)),
    "reshape_same": ("y.reshape(y.shape)", (2, 3)), "reshape_m1": ("y.reshape(-1)", (2, 3)),
    "np_ravel": ("np.ravel(y)", (2, 3)), "squeeze_noop": ("y.squeeze()", (2, 3)),
    "transpose_1d": ("np.transpose(y)", (3,)), "T_1d": ("y.T", (3,)),
    "asanyarray": ("np.asanyarray(y)", (3,)), "swapaxes_same": ("y.swapaxes(0, 0)", (2, 3)),
    "colon": ("y[:]", (3,)), "flip_empty_axes": ("np.flip(y, axis=())", (3,)),
    "atleast_1d_of_item": ("np.atleast_1d(y[0])", (3,)),
    "expand_dims_no_axes": ("np.expand_dims(y, axis=())", (3,)),
    "expand_dims_of_item": ("np.expand_dims(y[1], 0)", (3,)),
    "moveaxis_same": ("np.moveaxis(y, 0, 0)", (2, 3)), "rollaxis_same": ("np.rollaxis(y, 0)", (2, 3)),
    "rot90_k0": ("np.rot90(y, 0)", (2, 3)), "rot90_k4": ("np.rot90(y, 4)", (2, 3)),
    "rot90_k2": ("np.rot90(y, 2)", (2, 3)), "flip_axis_tuple": ("np.flip(y, (0, 1))", (2, 3)),
    "astype_same_no_copy": ("y.astype(y.dtype, copy=False)", (3,)),
    "view_of_T": ("y.T.view()", (2, 3)), "dict_of_view": ("{'a': y[1:]}['a']", (3,)),
    "tuple_of_view": ("(y[1:], 0)[0]", (3,)), "none_ellipsis_none": ("y[None, ..., None]", (3,)),
    "split_sections_last": ("np.split(y, 3)[2]", (3,)),
    "array_split_uneven": ("np.array_split(y, 2)[1]", (3,)),
    "unstack_first": ("np.unstack(y)[0]", (2, 3)),
    "meshgrid_no_copy": ("np.meshgrid(y, y, copy=False)[0]", (3,)),
    "broadcast_arrays_second": ("np.broadcast_arrays(np.ones((2, 1)), y)[1]", (3,)),
    "diagflat_copy": ("np.diagflat(y)", (3,)), "diagonal_neg": ("np.diagonal(y, -1)", (3, 3)),
    "diff_n0": ("np.diff(y, 0)", (4,)), "diff_n0_axis": ("np.diff(y, n=0, axis=0)", (2, 3)),
    "polyder_m0": ("np.polyder(y, 0)", (4,)), "polyint_m0": ("np.polyint(y, 0)", (4,)),
    "matrix_power_1": ("np.linalg.matrix_power(y, 1)", (3, 3)),
    "list_comp_rows": ("[r for r in y][1]", (2, 3)),
    "zip_rows": ("[a for a, b in zip(y, y)][0]", (2, 3)),
    "enumerate_rows": ("[r for i, r in enumerate(y)][1]", (2, 3)),
}


def view_fn2_cases():
    out = []
    for name, (expr, shape) in _VIEW_FNS2.items():
        for how, write in (("scaled", "y *= 2.0"),
                           ("item", "y[(0,) * y.ndim] = 7.0 * x[(0,) * x.ndim]")):
            src = f"def f(x):\n    y = x * 1.0\n    r = {expr}\n    {write}\n    return r * 1.5\n"
            out.append(source_case("viewfns2", f"{name}_{how}", src, (R(*shape),)))
    for name, expr in (("conj_method_written", "y.conj()"),
                       ("conjugate_method_written", "y.conjugate()")):
        for label, x in (("real", R(3)), ("complex", R(3) + 1j * R(3))):
            out.append(source_case("viewfns2", f"{name}_{label}", f"""
def f(x):
    y = x * 1.0
    r = {expr}
    r *= 2.0
    return y * 1.5 + r
""", (x,)))
    return out


# ------------------------------------------------------------------ autograd test_scipy


SCIPY = ("import numpy as np\nimport scipy.special as sp\nimport scipy.stats as st\n"
         "import scipy.signal as sg\nimport scipy.linalg as sl")


def _scipy_programs():
    R = lambda *s: RNG.standard_normal(s)          # noqa: E731 (as the probe wrote them)
    U = lambda lo, hi, *s: RNG.uniform(lo, hi, s)  # noqa: E731
    progs = [
     ("lse_return_sign", "def f(a, b):\n    r, s = sp.logsumexp(a, b=b, return_sign=True)\n    return r * s\n", (R(4), np.array([1.0, -2.0, 0.5, 0.3])), (0,)),
     ("lse_b_axis_keepdims", "def f(a, b):\n    return sp.logsumexp(a, axis=1, b=b, keepdims=True)\n", (R(2, 3), U(0.5, 2, 2, 3)), (0, 1)),
     ("lse_b_zero_entry", "def f(a):\n    return sp.logsumexp(a, b=np.array([1.0, 0.0, 2.0]))\n", (R(3),), (0,)),
     ("softmax_axis", "def f(a):\n    return sp.softmax(a, axis=0)\n", (R(3, 2),), (0,)),
     ("log_softmax_axis", "def f(a):\n    return sp.log_softmax(a, axis=-1)\n", (R(3, 2),), (0,)),
     ("multigammaln", "def f(a):\n    return sp.multigammaln(a, 3)\n", (U(2.5, 4, 3),), (0,)),
     ("gammasgn_times", "def f(a):\n    return sp.gammasgn(a) * sp.gammaln(a)\n", (U(-2.9, -2.1, 3),), (0,)),
     ("rgamma", "def f(a):\n    return sp.rgamma(a)\n", (U(0.5, 3, 3),), (0,)),
     ("ive_negative", "def f(a):\n    return sp.ive(1.5, a)\n", (U(0.2, 3, 3),), (0,)),
     ("iv_int_order", "def f(a):\n    return sp.iv(np.array([0, 1, 2]), a)\n", (U(0.2, 3, 3),), (0,)),
     ("jn_int_orders", "def f(a):\n    return sp.jn(np.array([0, 1, 3]), a)\n", (U(0.2, 3, 3),), (0,)),
     ("yn", "def f(a):\n    return sp.yn(2, a)\n", (U(0.5, 3, 3),), (0,)),
     ("xlog1py", "def f(a, b):\n    return sp.xlog1py(a, b)\n", (R(3), U(-0.5, 2, 3)), (0, 1)),
     ("xlogy_zero", "def f(a, b):\n    return sp.xlogy(a * 0.0, b) + sp.xlogy(a, b)\n", (R(3), U(0.5, 2, 3)), (0, 1)),
     ("entr", "def f(a):\n    return sp.entr(a)\n", (U(0.1, 2, 3),), (0,)),
     ("rel_entr", "def f(a, b):\n    return sp.rel_entr(a, b)\n", (U(0.1, 2, 3), U(0.1, 2, 3)), (0, 1)),
     ("kl_div", "def f(a, b):\n    return sp.kl_div(a, b)\n", (U(0.1, 2, 3), U(0.1, 2, 3)), (0, 1)),
     ("logit_expit", "def f(a):\n    return sp.logit(sp.expit(a) * 0.5 + 0.25)\n", (R(3),), (0,)),
     ("expit_extreme", "def f(a):\n    return sp.expit(a * 300.0)\n", (R(3),), (0,)),
     ("log_expit", "def f(a):\n    return sp.log_expit(a * 50.0)\n", (R(3),), (0,)),
     ("erfcinv", "def f(a):\n    return sp.erfcinv(a)\n", (U(0.2, 1.8, 3),), (0,)),
     ("polygamma_orders", "def f(a):\n    return sp.polygamma(np.array([0, 1, 2]), a)\n", (U(0.5, 3, 3),), (0,)),
     ("beta_betaln", "def f(a, b):\n    return sp.beta(a, b) + sp.betaln(a, b)\n", (U(0.5, 3, 3), U(0.5, 3, 3)), (0, 1)),
     ("gammainc_both", "def f(a, x):\n    return sp.gammainc(a, x) + sp.gammaincc(a, x)\n", (U(1, 3, 3), U(0.5, 3, 3)), (1,)),
     ("norm_logcdf_tail", "def f(a):\n    return st.norm.logcdf(a * 10.0 - 20.0)\n", (R(3),), (0,)),
     ("norm_logsf_tail", "def f(a):\n    return st.norm.logsf(a + 15.0, loc=1.0, scale=2.0)\n", (R(3),), (0,)),
     ("t_logpdf_df", "def f(x, df):\n    return st.t.logpdf(x, df, loc=0.5, scale=2.0)\n", (R(3), U(1, 5, 3)), (0, 1)),
     ("mvn_logpdf_mean_cov", "def f(x, m, c):\n    return st.multivariate_normal.logpdf(x, m, c @ c.T + np.eye(2))\n", (R(4, 2), R(2), R(2, 2)), (0, 1, 2)),
     ("mvn_entropy", "def f(c):\n    return st.multivariate_normal.entropy(np.zeros(2), c @ c.T + np.eye(2))\n", (R(2, 2),), (0,)),
     ("mvn_pdf", "def f(x, m):\n    return st.multivariate_normal.pdf(x, m, np.eye(2) * 2.0)\n", (R(3, 2), R(2)), (0, 1)),
     ("dirichlet_logpdf", "def f(x, a):\n    return st.dirichlet.logpdf(x, a)\n", (np.array([0.2, 0.3, 0.5]), U(0.5, 3, 3)), (1,)),
     ("poisson_logpmf_mu", "def f(mu):\n    return st.poisson.logpmf(np.array([0, 2, 5]), mu)\n", (U(0.5, 4, 3),), (0,)),
     ("chi2_logpdf", "def f(x, df):\n    return st.chi2.logpdf(x, df)\n", (U(0.5, 4, 3), U(1, 5, 3)), (0, 1)),
     ("beta_logpdf", "def f(x, a, b):\n    return st.beta.logpdf(x, a, b)\n", (U(0.1, 0.9, 3), U(0.5, 3, 3), U(0.5, 3, 3)), (0, 1, 2)),
     ("gamma_logpdf_scale", "def f(x, a):\n    return st.gamma.logpdf(x, a, scale=2.0)\n", (U(0.5, 3, 3), U(0.5, 3, 3)), (0, 1)),
     ("convolve_full", "def f(a, b):\n    return sg.convolve(a, b)\n", (R(5), R(3)), (0, 1)),
     ("convolve_valid_2d", "def f(a, b):\n    return sg.convolve(a, b, mode='valid')\n", (R(4, 5), R(2, 3)), (0, 1)),
     ("convolve_same_axes", "def f(a, b):\n    return sg.convolve(a, b, mode='same', method='direct')\n", (R(3, 4), R(3, 2)), (0, 1)),
     ("fftconvolve_axes", "def f(a, b):\n    return sg.fftconvolve(a, b, axes=1)\n", (R(2, 5), R(2, 3)), (0, 1)),
     ("correlate2d", "def f(a, b):\n    return sg.correlate2d(a, b, mode='same')\n", (R(3, 4), R(2, 2)), (0, 1)),
     ("sqrtm", "def f(a):\n    return sl.sqrtm(a @ a.T + np.eye(3)).real\n", (R(3, 3),), (0,)),
     ("solve_triangular_lower", "def f(a, b):\n    return sl.solve_triangular(np.tril(a) + 3.0 * np.eye(3), b, lower=True)\n", (R(3, 3), R(3, 2)), (0, 1)),
     ("solve_sylvester", "def f(a, q):\n    return sl.solve_sylvester(a + 4.0 * np.eye(3), -a.T + 4.0 * np.eye(3), q)\n", (R(3, 3), R(3, 3)), (0, 1)),
     ("cho_solve", "def f(a, b):\n    c = sl.cho_factor(a @ a.T + np.eye(3))\n    return sl.cho_solve(c, b)\n", (R(3, 3), R(3)), (0, 1)),
     ("expm_frechet_like", "def f(a):\n    return sl.expm(a * 0.5)\n", (R(3, 3),), (0,)),
     ("logm", "def f(a):\n    return sl.logm(a @ a.T + np.eye(3)).real\n", (R(3, 3),), (0,)),
    ]
    return progs


def scipy_cases():
    return [source_case("scipy", n, src, args, wrt, header=SCIPY)
            for n, src, args, wrt in _scipy_programs()]


# ------------------------------------------------------------------ lists of views

# rows of y held by a list (a comprehension, an append loop, a literal, a
# dict, unpacking), y then written while the list is read
_LIST_VIEWS = {
 "comp_iter": "rows = [r for r in y]",
 "comp_index": "rows = [y[i] for i in range(2)]",
 "comp_index_len": "rows = [y[i] for i in range(len(y))]",
 "loop_append_iter": "rows = []\n    for r in y:\n        rows.append(r)",
 "loop_append_index": "rows = []\n    for i in range(y.shape[0]):\n        rows.append(y[i])",
 "list_literal": "rows = [y[0], y[1]]",
 "tuple_literal": "rows = (y[0], y[1])",
 "comp_slices": "rows = [y[i:i + 1] for i in range(2)]",
 "comp_T": "rows = [c for c in y.T]",
 "enumerate": "rows = [r for i, r in enumerate(y)]",
 "dict_comp": "rows = {i: y[i] for i in range(2)}",
 "unpack": "a, b = y\n    rows = [a, b]",
 "star_unpack": "a, *rest = y\n    rows = [a] + rest",
}


def list_view_cases():
    out = []
    for name, body in _LIST_VIEWS.items():
        for how, write in (("scaled", "y *= 2.0"), ("row1", "y[1] += x[0]")):
            src = (f"def f(x):\n    y = x * 1.0\n    {body}\n    {write}\n"
                   f"    return rows[1] * 1.5 + rows[0]\n")
            out.append(source_case("listviews", f"{name}_{how}", src, (R(2, 3),)))
    return out


# ------------------------------------------------------------------ test_autograd checkpoint

CKPT = "import numpy as np\nimport s2sgrad"


def checkpoint_cases():
    R = lambda *s: RNG.standard_normal(s)          # noqa: E731
    progs = {
     "ckpt_helper_writes_view": ("""
    @s2sgrad.checkpoint
    def step(h, w):
        g = h * 1.0
        g[1:] += np.tanh(w * g[:-1])
        return g
    
    
    def f(x, w):
        h = x * 1.0
        for t in range(3):
            h = step(h, w)
        return h
    """, (R(4), 0.7), (0, 1)),
     "ckpt_view_of_carry": ("""
    @s2sgrad.checkpoint
    def step(h):
        v = h.T
        v[0] = np.sin(v[0])
        return h
    
    
    def f(x):
        h = x * 1.0
        for t in range(2):
            h = step(h)
            h = h * 1.1
        return h
    """, (R(3, 3),), (0,)),
     "ckpt_policy_dots_inplace": ("""
    @s2sgrad.checkpoint(policy="save_dots")
    def layer(a, W):
        z = a @ W
        z[z < 0] *= 0.1
        return z
    
    
    def f(x, W):
        a = x
        for t in range(2):
            a = layer(a, W)
        return a
    """, (R(2, 3), R(3, 3)), (0, 1)),
    }
    return [source_case("checkpoint", n, textwrap.dedent(src), args, wrt, header=CKPT)
            for n, (src, args, wrt) in progs.items()]


# views written through inside while/for loops and branches (x and -x)
def loop_view2_cases():
    R = lambda *s: RNG.standard_normal(s)          # noqa: E731
    progs = {
     "while_view_scale": ("def f(x):\n    y = np.abs(x) + 0.5\n    v = y[1:]\n    k = 0\n    while np.sum(y) < 10.0 and k < 20:\n        v *= 1.5\n        k += 1\n    return y\n", (R(4),)),
     "while_T_write": ("def f(x):\n    y = x * 1.0\n    t = y.T\n    k = 0\n    while k < 3:\n        t[0] += y[:, 1] * 0.5\n        k += 1\n    return y\n", (R(3, 3),)),
     "for_view_rebind": ("def f(x):\n    y = x * 1.0\n    v = y[::2]\n    for k in range(3):\n        v *= 0.9\n        v = y[1::2] if k % 2 == 0 else y[::2]\n    return y\n", (R(6),)),
     "for_mT_accumulate": ("def f(x):\n    y = x * 1.0\n    for k in range(2):\n        y.mT[...] += y * 0.1\n    return y\n", (R(3, 3),)),
     "for_diag_einsum_read": ("def f(x):\n    y = x * 1.0\n    d = np.einsum('ii->i', y)\n    acc = 0.0\n    for k in range(3):\n        acc = acc + d * (k + 1)\n        y[k, k] = np.sin(y[k, k])\n    return acc\n", (R(3, 3),)),
     "branch_view_choice": ("def f(x):\n    y = x * 1.0\n    if x[0] > 0:\n        v = y[1:]\n    else:\n        v = y[:-1]\n    v *= 2.0\n    return y\n", (R(4),)),
     "branch_mT_choice": ("def f(x):\n    y = x * 1.0\n    t = y.mT if x[0, 0] > 0 else y\n    t[0] += 1.0\n    return y * x\n", (R(3, 3),)),
     "nested_loop_views": ("def f(x):\n    y = x * 1.0\n    for i in range(2):\n        r = y[i]\n        for j in range(3):\n            r[j] = r[j] * 0.5 + r[(j + 1) % 3]\n    return y\n", (R(2, 3),)),
     "loop_sliding_window": ("def f(x):\n    y = x * 1.0\n    for k in range(2):\n        w = np.lib.stride_tricks.sliding_window_view(y, 2)\n        y[1:] = w.sum(axis=1) * 0.5\n    return y\n", (R(5),)),
     "loop_diag_write_then_read": ("def f(x):\n    y = x * 1.0\n    d = np.diag(y)\n    s = 0.0\n    for k in range(3):\n        y *= 1.1\n        s = s + np.sum(d)\n    return s\n", (R(3, 3),)),
    }
    out = []
    for n, (src, args) in progs.items():
        out.append(source_case("loopviews2", n, src, args))
        out.append(source_case("loopviews2", n + "_neg", src, tuple(-a for a in args)))
    return out


# the cyclic and repeated forms of JAX's .at[].set/.add written with NumPy's
# writers (putmask/place/put cycle short values; fill_diagonal wraps)
def put_cases():
    R = lambda *s: RNG.standard_normal(s)          # noqa: E731
    progs = {
     "putmask_cycle": ("def f(x, v):\n    y = x * 1.0\n    np.putmask(y, x > 0, v)\n    return y\n", (np.array([0.5, -0.3, 0.7, 0.9, -0.1, 0.2]), R(2))),
     "place_cycle": ("def f(x, v):\n    y = x * 1.0\n    np.place(y, x > 0, v)\n    return y\n", (np.array([0.5, -0.3, 0.7, 0.9, -0.1, 0.2]), R(3))),
     "put_cycle": ("def f(x, v):\n    y = x * 1.0\n    np.put(y, [0, 2, 4, 5], v)\n    return y\n", (R(6), R(3))),
     "copyto_broadcast_where": ("def f(x, v):\n    y = x * 1.0\n    np.copyto(y, v, where=x > 0)\n    return y\n", (np.array([[0.5, -0.3, 0.7], [0.9, -0.1, 0.2]]), R(3))),
     "fill_diagonal_wrap": ("def f(x, v):\n    y = x * 1.0\n    np.fill_diagonal(y, v, wrap=True)\n    return y\n", (R(7, 3), R(3))),
     "fill_diagonal_scalar_tall": ("def f(x, c):\n    y = x * 1.0\n    np.fill_diagonal(y, c)\n    return y\n", (R(5, 3), 0.3)),
     "put_along_axis_none": ("def f(x, v):\n    y = x * 1.0\n    np.put_along_axis(y, np.array([4, 0, 4]), v, axis=None)\n    return y\n", (R(2, 3), R(3))),
     "setitem_fancy_2d_repeat": ("def f(x, v):\n    y = x * 1.0\n    y[[0, 0, 1], [1, 1, 2]] = v\n    return y\n", (R(2, 3), R(3))),
     "iadd_fancy_2d_repeat": ("def f(x, v):\n    y = x * 1.0\n    y[[0, 0, 1], [1, 1, 2]] += v\n    return y\n", (R(2, 3), R(3))),
     "add_at_2d_repeat": ("def f(x, v):\n    y = x * 1.0\n    np.add.at(y, ([0, 0, 1], [1, 1, 2]), v)\n    return y\n", (R(2, 3), R(3))),
     "bool_mask_2d_on_3d": ("def f(x, v):\n    y = x * 1.0\n    m = np.array([[True, False, True], [False, True, False]])\n    y[m] = v\n    return y\n", (R(2, 3, 2), R(3, 2))),
    }
    return [source_case("puts", n, src, args, (0, 1)) for n, (src, args) in progs.items()]


ALL = {
    "views": view_cases,
    "viewfns": view_fn_cases,
    "indexing": indexing_cases,
    "einsum": einsum_cases,
    "reducers": reducer_cases,
    "complex": complex_cases,
    "dtypes": dtype_cases,
    "inplace": inplace_cases,
    "viewloops": view_loop_cases,
    "viewfns2": view_fn2_cases,
    "scipy": scipy_cases,
    "listviews": list_view_cases,
    "checkpoint": checkpoint_cases,
    "loopviews2": loop_view2_cases,
    "puts": put_cases,
}
