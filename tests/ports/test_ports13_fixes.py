"""Regressions found by the ports13 cases and probes (each fails on 7ed9f94).

**NumPy functions that return a view were lowered as copies**, so a write
into the operand after the call was not seen through the result (PyTorch's
``test_view_ops``: every view op must see its base's in-place updates; here
as NumPy programs ``r = F(y); y *= 2; return r``).  Value and derivative
were silently NumPy's *before* the write:

* ``x.mT``, ``np.matrix_transpose``, ``np.linalg.matrix_transpose``: now a
  :class:`~s2sgrad.alias.Permute` view (its own inverse), so writes through
  them (``y.mT[..., 0] *= v``) reach ``y`` too (``lower/aliasing.record_view``);
* ``np.einsum`` with one operand and no label summed (``'ii->i'``,
  ``'ij->ji'``, implicit ``'ji'``, ellipsis, sublists, ``optimize=True``):
  NumPy returns a writable view; now a view the base's writes are seen
  through, and a write through it is refused naming the line
  (``aliasing._einsum_is_view``);
* ``np.lib.stride_tricks.sliding_window_view``, ``np.trim_zeros`` and
  ``np.linalg.diagonal``, composites (``expand``) that returned before the
  view was recorded: ``sliding_window_view`` and ``diagonal`` were listed as
  views, but only primitives lowered as one equation reached
  ``record_view`` (``lower/calls.apply``); their operand is a keyword of the
  binding (no ``/`` in the signature), now found by name;
* ``np.diag(A)`` of a matrix: a read-only view of its diagonal, of a
  vector a new matrix -- which one is known at run time: the view is
  conditional (``ReadOnly(shares=np.may_share_memory(...))``) and a write
  into ``np.diag(v)`` detaches it (NumPy refuses that write when it is a view);
* ``np.nan_to_num(y, copy=False)`` writes into ``y`` and returns it: now
  refused naming the line (it was a copy).

**More results that are the operand itself (or a view of it) in NumPy**
(found by a second probe of every spelling that may return its operand):

* ``x.conj()`` / ``x.conjugate()`` of a real array return ``x`` itself
  (``np.conj(x)``, a ufunc, copies): ``r = y.conj(); y *= 2`` left ``r``
  unchanged, and ``r *= 2`` did not reach ``y``.  The methods are now
  lowered as ``conj_if_complex`` (``x`` itself when real) with a view
  decided at run time (``lower/calls.apply``, ``aliasing.record_view``);
* ``np.real_if_close(y)`` returns ``y`` itself (or ``y.real``) when it keeps
  it: a view known at run time, re-derived after a write into ``y``;
  a write through it is refused;
* ``np.diff(a, n=0)``, ``np.polyder(p, 0)``, ``np.polyint(p, 0)`` return
  their operand itself (found by a scan of every supported NumPy callable
  for results sharing memory with the argument): now a view of it (decided
  at run time when the count is not a constant);
* ``np.atleast_1d/2d/3d``, ``np.expand_dims``, ``np.squeeze`` of a NumPy
  scalar (``y[0]`` of a 1-d ``y``) make a new array, but were recorded as
  views of it, so ``r = np.atleast_1d(y[0]); y *= 2`` doubled ``r``: now
  a view only when the operand is known to be an array, else decided at run
  time.

**An array read out of a list built at run time, once the list was dead,
did not see writes into the array whose view the list held**:
``rows = [r for r in y]; r1 = rows[1]; y *= 2.0; return r1`` (also
``rows.pop()``, ``for r in rows: last = r``, an ``append`` loop) gave the
old row (4.5 for NumPy's 9.0).  The check of writes into ``y`` whose dead
view a run-time list holds looked at the list only (dead); it now also
looks at the arrays read out of run-time lists (``alias._check_read_from``:
which list an item came from is not kept through loops and branches, so
any such item that may still be read refuses the write, naming the line).

**A checkpointed loop's pullback wrote into the caller's cotangent**
(PyTorch test_autograd's checkpoint tests, with a step updating its state
in place): ``out, pb = vjp(f)(x, w); pb(u)`` set ``u[1:]`` to 0 -- the
steps of ``schedules.checkpoint_backward`` update the cotangents in place,
and those of the final state were the pullback's argument itself.  The
gradient of that call was right, but ``u`` changed (s2sgrad never changes
the caller's arrays), so a second ``pb(u)`` with the same array, or any use
of ``u`` afterwards, was wrong (the port's finite differences, taken with
``u``, gave 0).  Cause: code generation let the step function write into
its cotangent parameter when the value passed in was owned -- and for the
loop's carry (``h_bar_1``) it asked only what the loop body returns, not
what the loop starts from (the caller's ``u``: a write into a carry in the
body itself copies it on entry, a write inside a step function does not).
``codegen._entry_owned`` now asks both; with a seed of its own
(``grad``) the step still writes in place.

**``s2sgrad.stop_gradient(y)`` is ``y`` itself when the function runs as
Python**, so ``s = stop_gradient(y); y *= 2; return s * x`` returns twice the
value s2sgrad gave: now a view of ``y`` (re-derived, still without a
derivative, after a write into ``y``); a write through it is refused.

**A reduction with ``initial=`` was taken as linear by the peephole pass**
(JAX's ``lax_numpy_reducers_test`` checks ``initial=`` with every
reducer): ``np.sum(a * 0.01, axis=1, initial=200.0)`` had its scalar
factor pulled out of the sum, ``0.01 * np.sum(a, initial=200.0)``: 2.03 for
NumPy's 200.03, and ``np.sum(-a, initial=1.0)`` became ``-np.sum(a,
initial=1.0)``.  ``initial=`` adds a constant, so the sum is affine in its
operand; ``peephole._linear_use`` now requires no ``initial=`` as it
required no ``dtype=``.
"""
from __future__ import annotations

import numpy as np
import pytest

import s2sgrad
from s2sgrad import checkpoint, stop_gradient

pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning")]


def _fd_vjp(f, x, u, h=1e-6):
    g = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        e = np.zeros(x.shape)
        e[i] = h
        g[i] = (np.sum(u * f(x + e)) - np.sum(u * f(x - e))) / (2 * h)
    return g


def _check(f, x, dtype=np.float64):
    x = x.astype(dtype)
    want = f(x.copy())
    out, pb = s2sgrad.vjp(f)(x)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert out.shape == want.shape and np.allclose(out, want, rtol=tol, atol=tol), (out, want)
    u = np.random.default_rng(0).standard_normal(want.shape)
    g = pb(u)
    assert g.dtype == dtype
    ref = _fd_vjp(f, x.astype(np.float64), u)
    assert np.allclose(g, ref, rtol=1e-3 if dtype == np.float32 else 1e-6, atol=1e-6), (g, ref)
    v = np.random.default_rng(1).standard_normal(x.shape).astype(dtype)
    out2, dot = s2sgrad.jvp(f)((x,), (v,))
    assert np.allclose(out2, want, rtol=tol, atol=tol)
    assert np.allclose(np.sum(u * dot), np.sum(g * v), rtol=1e-4 if dtype == np.float32 else 1e-9)


def mT_then_scaled(x):
    y = x * 1.0
    r = y.mT
    y *= 2.0
    return r * 1.5


def matrix_transpose_then_item(x):
    y = x * 1.0
    r = np.matrix_transpose(y)
    y[0, 0] = 7.0 * x[0, 0]
    return r * 1.5


def linalg_matrix_transpose_then_scaled(x):
    y = np.sin(x)
    r = np.linalg.matrix_transpose(y)
    y *= x
    return r


def mT_written(x):
    y = x * 1.0
    y.mT[..., 0] *= x[..., 0, :] ** 2
    np.matrix_transpose(y)[0, 1] += 1.0
    return y


def einsum_diag_then_scaled(x):
    y = x * 1.0
    d = np.einsum('ii->i', y)
    y *= 2.0
    return d * 1.5


def einsum_transpose_then_item(x):
    y = x * 1.0
    t = np.einsum('ij->ji', y)
    y[0, 1] = x[1, 0] ** 2
    return t


def einsum_implicit_then_scaled(x):
    y = np.exp(x)
    t = np.einsum('ji', y)
    y *= x
    return t


def einsum_ellipsis_optimize(x):
    y = x * 1.0
    d = np.einsum('...ii->...i', y, optimize=True)
    y[0] *= 3.0
    return d


def einsum_trace_is_copy(x):
    y = x * 1.0
    d = np.einsum('ii', y) + np.einsum('ij->i', y)
    y *= 2.0
    return d * y[0]


def sliding_window_then_scaled(x):
    y = x * 1.0
    w = np.lib.stride_tricks.sliding_window_view(y, 3)
    y *= 2.0
    return w.sum(axis=1)


def sliding_window_axis_then_item(x):
    y = np.exp(x)
    w = np.lib.stride_tricks.sliding_window_view(y, 2, axis=1)
    y[0, 0] = 0.0
    return w[..., 0] + w[..., 1]


def trim_zeros_then_scaled(x):
    y = x * 1.0
    t = np.trim_zeros(y)
    y *= 2.0
    return t


def linalg_diagonal_then_item(x):
    y = x * 1.0
    d = np.linalg.diagonal(y)
    y[0, 0] = 7.0 * x[0, 0]
    return d * 1.5


def diag_of_matrix_then_scaled(x):
    y = x * 1.0
    d = np.diag(y)
    y *= 2.0
    return d * 1.5


def diag_offset_then_item(x):
    y = x * 1.0
    d = np.diag(y, 1)
    y[0, 1] = x[1, 1] ** 2
    return d


@pytest.mark.parametrize("f, shape", [
    (mT_then_scaled, (3, 3)), (matrix_transpose_then_item, (2, 3)),
    (linalg_matrix_transpose_then_scaled, (2, 3, 2)), (mT_written, (2, 3, 3)),
    (einsum_diag_then_scaled, (3, 3)), (einsum_transpose_then_item, (2, 3)),
    (einsum_implicit_then_scaled, (3, 2)), (einsum_ellipsis_optimize, (2, 3, 3)),
    (einsum_trace_is_copy, (3, 3)),
    (sliding_window_then_scaled, (6,)), (sliding_window_axis_then_item, (2, 4)),
    (trim_zeros_then_scaled, (5,)), (linalg_diagonal_then_item, (2, 3, 3)),
    (diag_of_matrix_then_scaled, (3, 3)), (diag_offset_then_item, (3, 3)),
], ids=lambda v: getattr(v, "__name__", str(v)))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_view_sees_later_write(f, shape, dtype):
    x = np.random.default_rng(sum(shape)).standard_normal(shape)
    _check(f, x, dtype)


def diag_built_then_written(v):
    D = np.diag(v * 2.0)
    D[0, 1] = v[1]
    D[2] *= v[0]
    return D @ v


def diag_built_from_python_scalar_ops(v):
    D = np.diag(v) + 0.5
    D[1] += 1.0
    d = np.diag(D)
    D[0, 0] = 3.0
    return d * v


@pytest.mark.parametrize("f", [diag_built_then_written, diag_built_from_python_scalar_ops])
def test_diag_of_vector_is_a_new_matrix(f):
    # np.diag of a 1-d array builds a matrix: writing into it is fine, and it
    # is not a view of v (the conditional view is detached when written)
    _check(f, np.array([0.7, -1.3, 2.1]))


def einsum_view_written(x):
    y = x * 1.0
    d = np.einsum('ii->i', y)
    d *= 2.0
    return y


def nan_to_num_in_place(x):
    y = x * 1.0
    r = np.nan_to_num(y, copy=False)
    y *= 2.0
    return r


@pytest.mark.parametrize("f, what", [
    (einsum_view_written, "writing through the result of np.einsum"),
    (nan_to_num_in_place, r"np.nan_to_num\(x, copy=False\)"),
])
def test_refused_with_line(f, what):
    with pytest.raises(s2sgrad.S2SGradError, match=what) as info:
        s2sgrad.vjp(f)(np.eye(3) + 0.5)
    assert "test_ports13_fixes.py" in str(info.value)


def einsum_view_read_only(x):
    y = np.cos(x)
    d = np.einsum('ii->i', y)
    return np.sum(d * np.diag(y))


def test_einsum_view_without_writes_unchanged():
    x = np.array([[0.3, -0.2], [1.1, 0.4]])
    v, g = s2sgrad.value_and_grad(einsum_view_read_only)(x)
    assert np.isclose(v, einsum_view_read_only(x))
    assert np.allclose(g, _fd_vjp(einsum_view_read_only, x, 1.0), rtol=1e-6, atol=1e-9)


def sum_scaled_initial(a):
    return np.sum(a * 0.01, axis=1, initial=200.0)


def sum_negated_initial(a):
    return np.sum(-a, initial=1.0) * a


def mean_of_scaled_sums(a):
    return np.sum(0.5 * a, axis=0, initial=3.0) + np.prod(a * 2.0, axis=0, initial=0.5) + \
        np.max(a * 2.0, axis=0, initial=100.0)


def sum_scaled_initial_where(a):
    w = a > 0
    return np.sum(a * 3.0, axis=1, where=w, initial=-1.0) + np.sum(a * 3.0, where=w)


@pytest.mark.parametrize("f", [sum_scaled_initial, sum_negated_initial, mean_of_scaled_sums,
                               sum_scaled_initial_where])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_reduction_initial_is_not_linear(f, dtype):
    _check(f, np.array([[0.3, -1.2, 2.0], [0.7, 0.25, -0.4]]), dtype)


def conj_method_then_scaled(x):
    y = x * 1.0
    r = y.conj()
    y *= 2.0
    return r * 1.5


def conjugate_method_written(x):
    y = x * 1.0
    r = y.conjugate()
    r *= 2.0
    return y * 1.5 + r


def real_if_close_then_item(x):
    y = x * 1.0
    r = np.real_if_close(y)
    y[0] = 7.0 * x[0]
    return r * 1.5


def atleast_1d_of_item(x):
    y = x * 1.0
    r = np.atleast_1d(y[0])
    e = np.expand_dims(y[1], 0)
    y *= 2.0
    return r * e + y


@pytest.mark.parametrize("f", [conj_method_then_scaled, conjugate_method_written,
                               real_if_close_then_item, atleast_1d_of_item])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_operand_itself_or_new(f, dtype):
    _check(f, np.array([0.7, -1.3, 2.1]), dtype)


@pytest.mark.parametrize("f", [conj_method_then_scaled, conjugate_method_written,
                               real_if_close_then_item])
def test_operand_itself_or_new_complex(f):
    x = np.array([0.7 + 0.2j, -1.3 + 1e-20j, 2.1 - 0.5j])
    want = f(x.copy())
    out, pb = s2sgrad.vjp(f)(x)
    assert np.allclose(out, want, rtol=1e-12, atol=1e-12)
    u = np.random.default_rng(0).standard_normal(want.shape)
    g = pb(u)
    v = np.random.default_rng(1).standard_normal(x.shape) + 1j
    h = 1e-6
    fd = (np.sum(np.real(u * f(x + h * v))) - np.sum(np.real(u * f(x - h * v)))) / (2 * h)
    assert np.isclose(np.sum(np.real(g * v)), fd, rtol=1e-6, atol=1e-8)


def list_item_after_list_dead(x):
    y = x * 1.0
    rows = [r for r in y]
    r1 = rows[1]
    y *= 2.0
    return r1 * 1.5


def popped_after_list_dead(x):
    y = x * 1.0
    rows = []
    for i in range(2):
        rows.append(y[i])
    last = rows.pop()
    y *= 2.0
    return last * 1.5


def loop_item_after_list_dead(x):
    y = x * 1.0
    rows = [r for r in y]
    last = rows[0]
    for r in rows:
        last = r
    y[1] += x[0]
    return last * 1.5


@pytest.mark.parametrize("f", [list_item_after_list_dead, popped_after_list_dead,
                               loop_item_after_list_dead])
def test_list_item_of_written_array_refused(f):
    with pytest.raises(s2sgrad.S2SGradError, match="may or may not change") as info:
        s2sgrad.vjp(f)(np.arange(6.0).reshape(2, 3))
    assert "test_ports13_fixes.py" in str(info.value)


def list_items_stacked_before_write(x):
    y = x * 1.0
    rows = [r for r in y]
    s = np.stack(rows)
    r0 = np.stack(rows)[0]
    y *= 2.0
    return s * 1.5 + y


def test_list_items_copied_before_write_unchanged():
    # the list's arrays were copied (stacked) before the write: still supported
    x = np.arange(6.0).reshape(2, 3)
    _check(list_items_stacked_before_write, x)


def diff_n0_then_scaled(x):
    y = x * 1.0
    r = np.diff(y, 0)
    y *= 2.0
    return r * 1.5


def diff_n0_written(x):
    y = np.sin(x)
    r = np.diff(y, n=0, axis=0)
    r[1] *= x[0]
    return y


def polyder_polyint_m0(x):
    y = x * 1.0
    a = np.polyder(y, 0)
    b = np.polyint(y, 0)
    y[0] = 7.0 * x[0]
    return a * b


def diff_n1_is_a_copy(x):
    y = x * 1.0
    r = np.diff(y, 1)
    y *= 2.0
    return r * 1.5


@pytest.mark.parametrize("f", [diff_n0_then_scaled, diff_n0_written, polyder_polyint_m0,
                               diff_n1_is_a_copy])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_count_zero_returns_operand(f, dtype):
    _check(f, np.array([0.7, -1.3, 2.1, 0.4]), dtype)


@checkpoint
def _ckpt_step(h, w):
    g = h * 1.0
    g[1:] += np.tanh(w * g[:-1])
    return g


def checkpointed_loop(x, w):
    h = x * 1.0
    for t in range(3):
        h = _ckpt_step(h, w)
    return h


@checkpoint(policy="save_dots")
def _ckpt_layer(a, W):
    z = a @ W
    z[z < 0] *= 0.1
    return z


def checkpointed_layers(x, W):
    a = x
    for t in range(2):
        a = _ckpt_layer(a, W)
    return a


@pytest.mark.parametrize("f, args", [
    (checkpointed_loop, (np.array([0.3, -0.5, 0.8, 0.1]), 0.7)),
    (checkpointed_layers, (np.array([[0.3, -0.5, 0.8], [0.1, 0.4, -0.9]]),
                           np.array([[0.5, -0.2, 0.1], [0.3, 0.8, -0.6], [-0.4, 0.2, 0.9]]))),
])
def test_checkpoint_pullback_leaves_cotangent_alone(f, args):
    out, pb = s2sgrad.vjp(f, wrt=(0, 1))(*args)
    assert np.allclose(out, f(*args))
    u = np.random.default_rng(3).standard_normal(out.shape)
    before = u.copy()
    g1 = pb(u)
    assert np.array_equal(u, before)
    g2 = pb(u)
    for a, b in zip(g1, g2):
        assert np.array_equal(a, b)
    # <u, J v> by differences, v in both arguments
    rng = np.random.default_rng(4)
    v = [rng.standard_normal(np.shape(a)) for a in args]
    h = 1e-6

    def moved(t):
        return f(*[a + t * d if isinstance(a, np.ndarray) else a + t * float(d)
                   for a, d in zip(args, v)])
    fd = np.sum(u * (moved(h) - moved(-h))) / (2 * h)
    got = sum(np.sum(np.asarray(gi) * vi) for gi, vi in zip(g1, v))
    assert np.isclose(got, fd, rtol=1e-6, atol=1e-8), (got, fd)


def stop_gradient_sees_write(x):
    y = x * 1.0
    s = stop_gradient(y)
    y *= 2.0
    return s * x


def stop_gradient_of_view_sees_write(x):
    y = x * 1.0
    s = stop_gradient(y[1:])
    y[1] = 5.0 * x[0]
    return s * x[1:] + y[1:]


@pytest.mark.parametrize("f, grad_of", [
    # d/dx of (2 x) * x with the first factor held: 2 x
    (stop_gradient_sees_write, lambda x: 2.0 * x),
    # s = [5 x0, x2] held; the sum's gradient: x[1:] part of s, plus y[1:]
    (stop_gradient_of_view_sees_write,
     lambda x: np.array([5.0, 5.0 * x[0], x[2] + 1.0])),
])
def test_stop_gradient_is_the_array_itself(f, grad_of):
    x = np.array([0.7, -1.3, 2.1])
    v, g = s2sgrad.value_and_grad(lambda x: np.sum(f(x)))(x)
    assert np.isclose(v, np.sum(f(x.copy())))
    assert np.allclose(g, grad_of(x))


def stop_gradient_written_through(x):
    y = x * 1.0
    s = stop_gradient(y)
    s *= 2.0
    return y


def test_write_through_stop_gradient_refused():
    with pytest.raises(s2sgrad.S2SGradError, match="stop_gradient") as info:
        s2sgrad.vjp(stop_gradient_written_through)(np.ones(3))
    assert "test_ports13_fixes.py" in str(info.value)
