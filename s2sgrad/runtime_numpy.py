"""Runtime helpers of NumPy's assembly, statistics and data functions.

Part of :mod:`s2sgrad.runtime` (which re-exports every name in ``__all__``),
kept in a file of its own because it is long.  Plain NumPy.  Each helper is
a primitive with its own rules (``primitives/assembly.py``,
``statistics.py``, ``data.py``), so generated code that calls it can be
differentiated again.  Helpers that only have a NumPy form (a scatter-add,
writes into a fresh buffer) refuse other array types with
:class:`~s2sgrad.runtime.ArrayKindError` rather than converting them.
"""
from __future__ import annotations

import numpy as np

from .runtime import _numpy_only, _split_like, unbroadcast

__all__: list = []


# ---------------------------------------------------------------- shape and assembly adjoints
#
# The adjoints of NumPy's assembly functions (primitives/assembly.py).  Each
# moves, copies or sums elements; each is a primitive whose own adjoint is
# the NumPy function it undoes (``untile``'s is ``np.tile``), so generated
# code stays differentiable.

__all__ += ["uncolumn_stack", "undstack", "unrepeat", "untile", "unpad", "pad_constant_adjoint",
            "unrollaxis", "undiagonal", "untake", "untake_along_axis", "undelete", "uninsert",
            "unlinspace", "partition_like", "unpartition"]


def uncolumn_stack(g, *xs):
    """The adjoint of ``np.column_stack(xs)``: 0-d and 1-d operands were
    columns (``(n, 1)``), others joined along axis 1."""
    shapes = [np.shape(x) if np.ndim(x) >= 2 else (np.size(x), 1) for x in xs]
    return _split_like(g, xs, 1, shapes)


def undstack(g, *xs):
    """The adjoint of ``np.dstack(xs)``: operands made at least 3-d, joined along axis 2."""
    return _split_like(g, xs, 2, [np.shape(np.atleast_3d(x)) for x in xs])


def _axis_of(axis, ndim):
    return axis + ndim if axis < 0 else axis


def unrepeat(g, a, repeats, axis=None):
    """The adjoint of ``np.repeat(a, repeats, axis)``: each element's copies summed."""
    shape = np.shape(a)
    g = np.asarray(g)
    ax = 0 if axis is None else _axis_of(axis, len(shape))
    n = int(np.prod(shape)) if axis is None else shape[ax]
    r = np.asarray(repeats)
    if r.size == 1:                     # the same count for every element: reshape and sum
        k = int(r.reshape(-1)[0])
        out = g.reshape(g.shape[:ax] + (n, k) + g.shape[ax + 1:]).sum(axis=ax + 1)
    else:
        _numpy_only("np.repeat with per-element counts", g, a)
        moved = np.moveaxis(g, ax, 0)
        out = np.zeros((n,) + moved.shape[1:], dtype=np.result_type(g, a))
        np.add.at(out, np.repeat(np.arange(n), r), moved)
        out = np.moveaxis(out, 0, ax)
    return np.reshape(out, shape)


def untile(g, A, reps):
    """The adjoint of ``np.tile(A, reps)``: the tiles summed (NumPy prepends
    unit axes to the shorter of ``A.shape`` and ``reps``)."""
    shape = np.shape(A)
    reps = (int(reps),) if np.ndim(reps) == 0 else tuple(int(r) for r in reps)
    d = max(len(shape), len(reps))
    s = (1,) * (d - len(shape)) + tuple(shape)
    r = (1,) * (d - len(reps)) + reps
    g = np.reshape(g, tuple(v for pair in zip(r, s) for v in pair))
    return np.reshape(g.sum(axis=tuple(range(0, 2 * d, 2))), shape)


def _pad_pairs(pad_width, ndim):
    """``pad_width`` in any of NumPy's forms as an ``(ndim, 2)`` int array."""
    if isinstance(pad_width, dict):
        pairs = np.zeros((ndim, 2), dtype=np.intp)
        for ax, w in pad_width.items():
            pairs[ax] = np.broadcast_to(np.asarray(w, dtype=np.intp), (2,))
        return pairs
    return np.broadcast_to(np.round(np.asarray(pad_width)).astype(np.intp), (ndim, 2))


def unpad(g, x, pad_width, mode="constant"):
    """The adjoint of ``np.pad(x, pad_width, mode)``: the interior of ``g``,
    plus (for ``edge``/``reflect``/``symmetric``/``wrap``) the padding's
    entries added back onto the elements they copy.  Each of those modes
    pads an axis by gathering along it, by the index map ``np.pad`` gives
    ``np.arange(n)`` itself, so the scatter uses exactly NumPy's map."""
    shape = np.shape(x)
    pairs = _pad_pairs(pad_width, len(shape))
    if mode == "constant":
        return g[tuple(slice(int(b), int(b) + n) for n, (b, _) in zip(shape, pairs))]
    _numpy_only(f"np.pad with mode={mode!r}", g)
    g = np.asarray(g)
    for ax, (n, (b, a)) in enumerate(zip(shape, pairs)):
        b, a = int(b), int(a)
        if b == 0 and a == 0:
            continue
        idx = np.pad(np.arange(n), (b, a), mode=mode)
        moved = np.moveaxis(g, ax, 0)
        out = moved[b:b + n].copy()
        np.add.at(out, np.concatenate([idx[:b], idx[b + n:]]),
                  np.concatenate([moved[:b], moved[b + n:]]))
        g = np.moveaxis(out, 0, ax)
    return g


# -- np.pad's statistic and ramp modes (maximum, minimum, mean, median,
# linear_ramp).  NumPy pads one axis after the other, each axis from the array
# padded along the axes before it; so do these helpers.  Each pad block is a
# function of a slice of that array (the first / last ``stat_length``
# entries, or the edge entry for a ramp), linear in it for mean and the ramp,
# a selection for maximum/minimum (ties split equally) and median.


def _pad_stat_pairs(v, ndim, default):
    if v is None:
        return [(default, default)] * ndim
    arr = np.asarray(v, dtype=object if default is None else float)
    return [tuple(p) for p in np.broadcast_to(arr, (ndim, 2)).tolist()]


def _pad_steps(x, pad_width, mode, stat_length, end_values):
    """The arrays before each axis's padding, with that axis's plan."""
    x = np.asarray(x)
    nd = x.ndim
    pairs = _pad_pairs(pad_width, nd)
    lens = _pad_stat_pairs(stat_length, nd, None)
    ends = _pad_stat_pairs(end_values, nd, 0.0)
    steps, cur = [], x
    for ax in range(nd):
        b, a = int(pairs[ax][0]), int(pairs[ax][1])
        steps.append((cur, ax, b, a, lens[ax], ends[ax]))
        if b or a:
            widths = [(0, 0)] * nd
            widths[ax] = (b, a)
            kw = {}
            if mode == "linear_ramp":
                ev = [(0.0, 0.0)] * nd
                ev[ax] = ends[ax]
                kw["end_values"] = ev
            elif lens[ax] != (None, None):
                sl = [(1, 1)] * nd
                sl[ax] = tuple(cur.shape[ax] if v is None else int(v) for v in lens[ax])
                kw["stat_length"] = sl
            cur = np.pad(cur, widths, mode, **kw)
    return steps


def _side_slice(n, length, first):
    L = n if length is None else max(1, min(int(length), n))
    return slice(0, L) if first else slice(n - L, n)


def _stat_weights(xs, mode, ax):
    """d stat / d xs (along axis ``ax``, keepdims) for max/min/mean; None for median."""
    if mode == "mean":
        return np.full(xs.shape, 1.0 / xs.shape[ax])
    if mode in ("maximum", "minimum"):
        m = (np.max if mode == "maximum" else np.min)(xs, axis=ax, keepdims=True)
        hit = (xs == m).astype(float)
        return hit / np.sum(hit, axis=ax, keepdims=True)
    return None


def _ramp(n, width, before):
    """The weight of the edge entry in each ramp entry (the end value's is 1 - it)."""
    w = np.arange(width) / width if width else np.zeros(0)
    return w if before else w[::-1]


def _pad_odd_matrix(n, b, a, mode):
    """The matrix of ``np.pad(., (b, a), mode, reflect_type='odd')`` on one
    lane of length ``n`` (linear: its columns are the padded unit vectors)."""
    return np.pad(np.eye(n), ((b, a), (0, 0)), mode, reflect_type="odd")


def _pad_odd(t, x, pad_width, mode, adjoint):
    shape = np.shape(x)
    pairs = _pad_pairs(pad_width, len(shape))
    order = range(len(shape))
    dtype = np.result_type(t, np.float32)
    for ax in (reversed(order) if adjoint else order):
        b, a = int(pairs[ax][0]), int(pairs[ax][1])
        if not (b or a):
            continue
        m = _pad_odd_matrix(shape[ax], b, a, mode)
        m = m.T if adjoint else m
        t = np.moveaxis(np.tensordot(m, np.moveaxis(t, ax, 0), axes=1), 0, ax).astype(dtype)
    return t


def pad_stat_tangent(t, x, pad_width, mode="mean", stat_length=None, end_values=None,
                     reflect_type=None):
    """The tangent of ``np.pad(x, pad_width, mode)`` (a statistic or ramp
    mode, or reflect/symmetric with ``reflect_type='odd'``) for the tangent
    ``t`` of ``x``."""
    _numpy_only(f"np.pad with mode={mode!r}", t, x)
    t = np.asarray(np.broadcast_to(t, np.shape(x)))
    if reflect_type == "odd":
        return _pad_odd(t, x, pad_width, mode, False)
    for cur, ax, b, a, lens, _ in _pad_steps(x, pad_width, mode, stat_length, end_values):
        if not (b or a):
            continue
        n = cur.shape[ax]
        parts = []
        for width, first, length in ((b, True, lens[0]), (a, False, lens[1])):
            if not width:
                parts.append(None)
                continue
            idx = [slice(None)] * cur.ndim
            if mode == "linear_ramp":
                idx[ax] = slice(0, 1) if first else slice(n - 1, n)
                shape = [1] * cur.ndim
                shape[ax] = width
                w = _ramp(n, width, first).reshape(shape)
                parts.append(t[tuple(idx)] * w.astype(t.dtype))
                continue
            idx[ax] = _side_slice(n, length, first)
            xs, ts = cur[tuple(idx)], t[tuple(idx)]
            w = _stat_weights(xs, mode, ax)
            if w is None:
                s = quantile_tangent(ts, xs, 0.5, axis=ax, keepdims=True)
            else:
                s = np.sum(w.astype(ts.dtype) * ts, axis=ax, keepdims=True)
            parts.append(np.repeat(s, width, axis=ax))
        t = np.concatenate([p for p in (parts[0], t, parts[1]) if p is not None], axis=ax)
    return t


def pad_stat_adjoint(g, x, pad_width, mode="mean", stat_length=None, end_values=None,
                     reflect_type=None):
    """The adjoint of :func:`pad_stat_tangent`: each pad block's cotangent
    sent back onto the entries its statistic (or ramp) reads."""
    _numpy_only(f"np.pad with mode={mode!r}", g, x)
    g = np.asarray(g)
    if reflect_type == "odd":
        # the padded shape's lanes, mapped back axis by axis (in reverse)
        return _pad_odd(g, x, pad_width, mode, True)
    steps = _pad_steps(x, pad_width, mode, stat_length, end_values)
    for cur, ax, b, a, lens, _ in reversed(steps):
        if not (b or a):
            continue
        n = cur.shape[ax]
        moved = [slice(None)] * cur.ndim
        moved[ax] = slice(b, b + n)
        out = np.array(g[tuple(moved)], dtype=np.result_type(g, np.float32))
        for width, first, length in ((b, True, lens[0]), (a, False, lens[1])):
            if not width:
                continue
            blk = [slice(None)] * cur.ndim
            blk[ax] = slice(0, b) if first else slice(b + n, b + n + a)
            gb = g[tuple(blk)]
            idx = [slice(None)] * cur.ndim
            if mode == "linear_ramp":
                shape = [1] * cur.ndim
                shape[ax] = width
                w = _ramp(n, width, first).reshape(shape)
                idx[ax] = slice(0, 1) if first else slice(n - 1, n)
                out[tuple(idx)] += np.sum(gb * w, axis=ax, keepdims=True).astype(out.dtype)
                continue
            idx[ax] = _side_slice(n, length, first)
            s = np.sum(gb, axis=ax, keepdims=True)
            xs = cur[tuple(idx)]
            w = _stat_weights(xs, mode, ax)
            if w is None:
                out[tuple(idx)] += quantile_adjoint(s, xs, 0.5, axis=ax,
                                                    keepdims=True).astype(out.dtype)
            else:
                out[tuple(idx)] += (w * s).astype(out.dtype)
        g = out
    return g


__all__ += ["pad_stat_tangent", "pad_stat_adjoint"]


def pad_constant_adjoint(g, x, constant_values, pad_width):
    """The cotangent of ``constant_values`` in ``np.pad(x, pad_width,
    constant_values=c)``: the sum of ``g`` over the entries each element of
    ``c`` fills (``np.pad`` itself says which, corners included)."""
    g = np.asarray(g)
    c = np.asarray(constant_values)
    if c.ndim == 0:
        return g.sum() - unpad(g, x, pad_width).sum()
    _numpy_only("np.pad's constant_values", g, x)
    zeros = np.zeros(np.shape(x), dtype=g.dtype)
    out = np.zeros(c.shape, dtype=g.dtype)
    for k in np.ndindex(c.shape):
        e = np.zeros(c.shape, dtype=g.dtype)
        e[k] = 1
        out[k] = np.sum(g * np.pad(zeros, pad_width, constant_values=e))
    return out


def unrollaxis(g, a, axis, start=0):
    """The adjoint of ``np.rollaxis(a, axis, start)``, which is
    ``np.moveaxis(a, axis, start')`` for NumPy's adjusted ``start'``."""
    n = np.ndim(a)
    axis = _axis_of(axis, n)
    start = _axis_of(start, n)
    if axis < start:
        start -= 1
    return np.moveaxis(g, start, axis)


def undiagonal(g, a, offset=0, axis1=0, axis2=1):
    """The adjoint of ``np.diagonal(a, offset, axis1, axis2)``: ``g`` on that
    diagonal of zeros shaped like ``a``."""
    _numpy_only("np.diagonal", g, a)
    out = np.zeros(np.shape(a), dtype=np.result_type(g, a))
    view = np.moveaxis(out, (axis1, axis2), (-2, -1))
    g = np.asarray(g)
    rows = np.arange(g.shape[-1]) + max(-offset, 0)
    view[..., rows, rows + offset] = g
    return out


def untake(g, a, indices, axis=None, mode=None):
    """The adjoint of ``np.take(a, indices, axis, mode=mode)``: a scatter-add,
    so an index taken twice receives both cotangents."""
    _numpy_only("np.take", g, a)
    shape = np.shape(a)
    if not shape:
        axis = None                  # NumPy takes a 0-d array along axis 0/-1 as if flattened
    out = np.zeros(shape, dtype=np.result_type(g, a))
    idx = np.asarray(indices)
    n = out.size if axis is None else shape[axis]
    if mode == "wrap":
        idx = idx % n
    elif mode == "clip":
        idx = np.clip(idx, 0, n - 1)
    if axis is None:
        np.add.at(out.reshape(-1), idx, g)
    else:
        np.add.at(out, (slice(None),) * _axis_of(axis, len(shape)) + (idx,), g)
    return out


def _along_axis_index(indices, shape, axis):
    """The integer-array index ``np.take_along_axis(arr, indices, axis)`` reads
    (``indices`` along ``axis``, every position of the other axes; broadcast)."""
    idx = []
    for d, n in enumerate(shape):
        if d == axis:
            idx.append(indices)
        else:
            fit = [1] * len(shape)
            fit[d] = n
            idx.append(np.arange(n).reshape(fit))
    return tuple(idx)


def untake_along_axis(g, arr, indices, axis=-1):
    """The adjoint of ``np.take_along_axis(arr, indices, axis)``: a scatter-add."""
    _numpy_only("np.take_along_axis", g, arr)
    shape = np.shape(arr)
    out = np.zeros(shape, dtype=np.result_type(g, arr))
    if axis is None:
        np.add.at(out.reshape(-1), indices, g)
        return out
    np.add.at(out, _along_axis_index(np.asarray(indices), shape, _axis_of(axis, len(shape))), g)
    return out


def undelete(g, arr, obj, axis=None):
    """The adjoint of ``np.delete(arr, obj, axis)``: ``g`` at the kept
    positions (``np.delete`` of an index range says which), zeros elsewhere."""
    _numpy_only("np.delete", g, arr)
    shape = np.shape(arr)
    if axis is None:
        out = np.zeros(int(np.prod(shape)), dtype=np.result_type(g, arr))
        out[np.delete(np.arange(out.size), obj)] = g
        return out.reshape(shape)
    ax = _axis_of(axis, len(shape))
    out = np.zeros(shape, dtype=np.result_type(g, arr))
    out[(slice(None),) * ax + (np.delete(np.arange(shape[ax]), obj),)] = g
    return out


def uninsert(g, arr, values, obj, axis=None):
    """The adjoint of ``np.insert(arr, obj, values, axis)``: (cotangent of
    ``arr``, cotangent of ``values``).  Where each element went is found by
    inserting element numbers with ``np.insert`` itself, so NumPy's rules
    (flattening for ``axis=None``, broadcasting of ``values``) are followed
    exactly; a broadcast value's copies add up."""
    _numpy_only("np.insert", g, arr, values)
    shape = np.shape(arr)
    g = np.asarray(g)
    base = np.arange(int(np.prod(shape)))
    if axis is not None:
        base = base.reshape(shape)
    vnum = np.arange(int(np.size(values))).reshape(np.shape(values))
    where_a = np.insert(base, obj, -1, axis=axis)
    where_v = np.insert(np.full(base.shape, -1), obj, vnum, axis=axis)
    ct_a = np.zeros(base.size, dtype=np.result_type(g, arr))
    m = where_a >= 0
    ct_a[where_a[m]] = g[m]
    ct_v = np.zeros(vnum.size, dtype=np.result_type(g, values))
    m = where_v >= 0
    np.add.at(ct_v, where_v[m], g[m])
    return ct_a.reshape(shape), ct_v.reshape(np.shape(values))


def unlinspace(g, start, stop, num=50, endpoint=True, axis=0):
    """The adjoint of ``np.linspace(start, stop, num, endpoint, axis=axis)``,
    which is linear in (start, stop): sample ``i`` is ``(1 - t_i) start + t_i stop``
    with ``t = np.linspace(0, 1, num, endpoint)``.  Returns (ct_start, ct_stop)."""
    g = np.asarray(g)
    dtype = g.dtype if np.issubdtype(g.dtype, np.inexact) else np.float64
    t = np.linspace(0.0, 1.0, num, endpoint=endpoint).astype(dtype)
    ax = _axis_of(axis, g.ndim)
    t = t.reshape([-1 if d == ax else 1 for d in range(g.ndim)])
    ct_stop = np.sum(g * t, axis=ax)
    return unbroadcast(np.sum(g, axis=ax) - ct_stop, start), unbroadcast(ct_stop, stop)


def _match_order(a, out, axis):
    """The permutation ``p`` with ``out == take_along_axis(a, p, axis)`` for an
    ``out`` that is a rearrangement of ``a`` (``np.partition``): equal values
    are matched in order (stable sorts of both)."""
    oa = np.argsort(a, axis=axis, kind="stable")
    oo = np.argsort(out, axis=axis, kind="stable")
    p = np.empty_like(oo)
    np.put_along_axis(p, oo, oa, axis=axis)
    return p


def partition_like(t, a, out, axis=-1):
    """``t`` rearranged the way ``out = np.partition(a, kth, axis)`` rearranged ``a``."""
    _numpy_only("np.partition", t, a)
    if axis is None:
        return np.ravel(t)[_match_order(np.ravel(a), out, 0)]
    return np.take_along_axis(np.asarray(t), _match_order(a, out, axis), axis=axis)


def unpartition(g, a, out, axis=-1):
    """The adjoint of :func:`partition_like`: each entry of ``g`` sent back to
    the element of ``a`` it came from."""
    _numpy_only("np.partition", g, a)
    res = np.zeros(np.shape(a), dtype=np.result_type(g, a))
    if axis is None:
        res.reshape(-1)[_match_order(np.ravel(a), out, 0)] = np.ravel(g)
    else:
        np.put_along_axis(res, _match_order(a, out, axis), g, axis=axis)
    return res


# ---------------------------------------------------------------- statistics adjoints
#
# Helpers of primitives/statistics.py: the adjoints of np.diff, np.gradient,
# np.trapezoid's weights, the products kron/cross/vdot/convolve/correlate,
# np.cov's data layout, and the gathers behind quantiles.

__all__ += ["require_1d", "diff_adjoint", "gradient_adjoint", "average_weights",
            "average_weights_adjoint", "trapezoid_ends",
            "trapezoid_weights", "trapezoid_weights_adjoint", "kron_vjp_a", "kron_vjp_b",
            "flat_dot", "flat_dot_vjp_a", "flat_dot_vjp_b", "cross_vjp_a", "cross_vjp_b", "convolve_vjp_a",
            "convolve_vjp_b", "correlate_vjp_a", "correlate_vjp_b", "cov_rows",
            "cov_rows_adjoint", "cov_normalization", "quantile_tangent", "quantile_adjoint"]


def require_1d(x, what=""):
    """``x`` itself, checked to be 1-d (``what`` needs it so, to know its number
    of results when compiling)."""
    if np.ndim(x) != 1:
        raise ValueError(f"s2sgrad differentiates {what} only for a 1-d array, but this one "
                         f"has shape {np.shape(x)}; pass axis= (an int or a tuple), or unpack "
                         f"the results (gy, gx = np.gradient(f)), so the number of results "
                         f"is known when compiling")
    return x


def _diff_edge(v, a, axis):
    """``prepend``/``append`` as ``np.diff`` uses it (a scalar becomes one slice)."""
    v = np.asanyarray(v)
    if v.ndim == 0:
        shape = list(np.shape(a))
        shape[axis] = 1
        v = np.broadcast_to(v, tuple(shape))
    return v


def diff_adjoint(g, a, prepend=None, append=None, n=1, axis=-1):
    """The adjoint of ``np.diff(a, n, axis, prepend=..., append=...)``: the
    cotangent of ``a``, followed by those of ``prepend``/``append`` when given."""
    _numpy_only("np.diff", g, a)
    nd = np.ndim(a)
    ax = _axis_of(axis, nd)
    g = np.array(g) if n == 0 else np.asarray(g)       # always a fresh array
    lead = (slice(None),) * ax
    for _ in range(n):                 # the adjoint of c -> c[1:] - c[:-1], in one pass
        shape = list(g.shape)
        m = shape[ax]
        shape[ax] += 1
        if m == 0:
            g = np.zeros(shape, dtype=g.dtype)
            continue
        z = np.empty(shape, dtype=g.dtype)
        # not np.negative(..., out=<strided view>): NumPy 2.4's float32 negative
        # writes to such an ``out`` (inner length 1) as if it were contiguous
        z[lead + (slice(0, 1),)] = -g[lead + (slice(0, 1),)]
        np.subtract(g[lead + (slice(None, -1),)], g[lead + (slice(1, None),)],
                    out=z[lead + (slice(1, -1),)])
        z[lead + (slice(-1, None),)] = g[lead + (slice(-1, None),)]
        g = z
    parts = [v for v in (prepend, append) if v is not None]
    if not parts:
        return g
    lens = [np.shape(_diff_edge(prepend, a, ax))[ax] if prepend is not None else 0,
            np.shape(a)[ax]]
    pieces = np.split(g, np.cumsum(lens), axis=ax)
    out = [pieces[1]]
    if prepend is not None:
        out.append(unbroadcast(pieces[0], prepend))
    if append is not None:
        out.append(unbroadcast(pieces[2], append))
    return tuple(out)


def _gradient_band(n, spacing, edge_order, dtype):
    """``coef[i, d + 2] = A[i, i + d]`` for the matrix ``A`` that ``np.gradient``
    applies along one axis of length ``n`` (every row touches at most the
    columns ``i - 2 .. i + 2``), read off ``np.gradient`` itself by probing
    with the columns of each residue mod 5."""
    idx = np.arange(n)
    coef = np.zeros((n, 5), dtype=dtype)
    for k in range(5):
        probe = (idx % 5 == k).astype(np.float64)
        p = np.gradient(probe, *spacing, edge_order=edge_order)
        for d in range(-2, 3):
            j = idx + d
            ok = (j >= 0) & (j < n) & (j % 5 == k)
            coef[ok, d + 2] = p[ok]
    return coef


def gradient_adjoint(g, f, *spacing, axis=0, edge_order=1):
    """The adjoint of ``np.gradient(f, *spacing, axis=axis, edge_order=...)``
    (one axis): ``A^T g`` for NumPy's own difference matrix ``A``."""
    _numpy_only("np.gradient", g, f)
    g = np.asarray(g)
    ax = _axis_of(axis, np.ndim(f))
    n = np.shape(f)[ax]
    dtype = np.result_type(g, f, np.float32)
    coef = _gradient_band(n, spacing, edge_order, dtype)
    gm = np.moveaxis(g, ax, -1)
    out = np.zeros(gm.shape, dtype=dtype)
    for d in range(-2, 3):           # out[j] += A[j - d, j] g[j - d]
        t = gm * coef[:, d + 2]
        if d >= 0:
            out[..., d:] += t[..., :n - d]
        else:
            out[..., :n + d] += t[..., -d:]
    return np.moveaxis(out, -1, ax)


def _average_axes(w, a, axis):
    """The axes a non-full-shaped ``np.average`` weight lies along (None: as is)."""
    if axis is None or np.shape(w) == np.shape(a):
        return None
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    return tuple(_axis_of(int(x), np.ndim(a)) for x in axes)


def average_weights(w, a, axis=None):
    """``np.average``'s weights shaped to broadcast against ``a``: weights
    given for the reduced axes only lie along them (in sorted axis order)."""
    w = np.asarray(w)
    axes = _average_axes(w, a, axis)
    if axes is None:
        return w
    w = w.transpose(np.argsort(axes))
    return w.reshape(tuple(n if d in axes else 1 for d, n in enumerate(np.shape(a))))


def average_weights_adjoint(h, w, a, axis=None):
    """The adjoint of :func:`average_weights` (``h`` shaped like its result)."""
    h = np.asarray(h)
    axes = _average_axes(w, a, axis)
    if axes is None:
        return h.reshape(np.shape(w))
    perm = np.argsort(axes)
    t = h.reshape(tuple(np.shape(w)[p] for p in perm))
    return t.transpose(np.argsort(perm))


def trapezoid_ends(y, axis=-1):
    """``np.trapezoid``'s weights for unit spacing: 1, with 1/2 at both ends of ``axis``."""
    nd = np.ndim(y)
    ax = _axis_of(axis, nd)
    n = np.shape(y)[ax]
    dtype = np.result_type(y, np.float32)
    w = np.ones(n, dtype=dtype)
    if n:
        w[0] = w[-1] = 0.5
    if n == 1:
        w[0] = 0.0
    shape = [1] * nd
    shape[ax] = n
    return w.reshape(shape)


def _trapezoid_steps(x, y, axis):
    x = np.asarray(x)
    nd = np.ndim(y)
    if x.ndim == 1:
        d = np.diff(x)
        shape = [1] * nd
        shape[_axis_of(axis, nd)] = d.shape[0]
        return d.reshape(shape), _axis_of(axis, nd)
    return np.diff(x, axis=axis), _axis_of(axis, x.ndim)


def trapezoid_weights(x, y, axis=-1):
    """``W`` with ``np.trapezoid(y, x, axis=axis) == sum(W * y, axis)``:
    ``W_i = (d_{i-1} + d_i) / 2`` for the steps ``d = diff(x)`` (linear in ``x``)."""
    d, ax = _trapezoid_steps(x, y, axis)
    lo = [(0, 0)] * d.ndim
    hi = [(0, 0)] * d.ndim
    lo[ax] = (1, 0)
    hi[ax] = (0, 1)
    return (np.pad(d, lo) + np.pad(d, hi)) * 0.5


def trapezoid_weights_adjoint(h, x, y, axis=-1):
    """The adjoint of :func:`trapezoid_weights` in ``x`` (``h`` shaped like ``W``)."""
    h = np.asarray(h)
    x = np.asarray(x)
    nd = np.ndim(y)
    ax = _axis_of(axis, nd) if x.ndim == 1 else _axis_of(axis, x.ndim)
    lead = (slice(None),) * ax
    cd = (h[lead + (slice(None, -1),)] + h[lead + (slice(1, None),)]) * 0.5
    lo = [(0, 0)] * cd.ndim
    hi = [(0, 0)] * cd.ndim
    lo[ax] = (1, 0)
    hi[ax] = (0, 1)
    cx = np.pad(cd, lo) - np.pad(cd, hi)            # the adjoint of np.diff
    return np.reshape(cx, x.shape)


def _kron_shapes(a, b):
    sa, sb = np.shape(a), np.shape(b)
    nd = max(len(sa), len(sb))
    return (1,) * (nd - len(sa)) + sa, (1,) * (nd - len(sb)) + sb, nd


def kron_vjp_a(g, a, b):
    """Cotangent of ``a`` in ``np.kron(a, b)``: each block of ``g`` against ``b``."""
    sa, sb, nd = _kron_shapes(a, b)
    G = np.reshape(g, tuple(v for pair in zip(sa, sb) for v in pair))
    t = np.tensordot(G, np.reshape(b, sb), axes=(list(range(1, 2 * nd, 2)), list(range(nd))))
    return np.reshape(t, np.shape(a))


def kron_vjp_b(g, a, b):
    """Cotangent of ``b`` in ``np.kron(a, b)``."""
    sa, sb, nd = _kron_shapes(a, b)
    G = np.reshape(g, tuple(v for pair in zip(sa, sb) for v in pair))
    t = np.tensordot(G, np.reshape(a, sa), axes=(list(range(0, 2 * nd, 2)), list(range(nd))))
    return np.reshape(t, np.shape(b))


def flat_dot(a, b):
    """``sum(ravel(a) * ravel(b))`` without conjugation: ``np.vdot(a, b)`` is
    ``flat_dot(conj(a), b)``, and this product's cotangents are plain
    transposes (the complex convention), unlike ``vdot``'s."""
    return np.dot(np.ravel(a), np.ravel(b))


def flat_dot_vjp_a(g, a, b):
    """Cotangent of ``a`` in ``flat_dot(a, b)`` (both are flattened)."""
    return np.reshape(np.multiply(g, np.ravel(b)), np.shape(a))


def flat_dot_vjp_b(g, a, b):
    """Cotangent of ``b`` in ``flat_dot(a, b)``."""
    return np.reshape(np.multiply(g, np.ravel(a)), np.shape(b))


def _cross_axes(axisa, axisb, axisc, axis, a, b):
    if axis is not None:
        axisa = axisb = axisc = axis
    return axisa, axisb, axisc


def _as_3_vectors(v, ax):
    """``v`` with 2-vectors along ``ax`` given a zero third component (as
    np.cross treats them), and whether it had 2-vectors."""
    v = np.asarray(v)
    n = v.shape[ax]
    if n == 3:
        return v, False
    if n != 2:
        raise ValueError(f"np.cross: vectors of {n} components (NumPy takes 2 or 3)")
    shape = list(v.shape)
    shape[ax] = 1
    return np.concatenate([v, np.zeros(shape, dtype=v.dtype)], axis=ax), True


def _cross_vjp(g, a, b, axisa, axisb, axisc, axis, of_a):
    """Cotangent of ``a`` (``of_a``) or ``b`` in ``np.cross(a, b, ...)``:
    ``<g, a x b> = <a, b x g> = <b, g x a>``.  2-vectors are 3-vectors with a
    zero third component (NumPy 2 deprecates them, but computes them so): the
    cotangent of a 2-vector is the first two components of the 3-vector's,
    and the scalar result of two 2-vectors is the third component of theirs."""
    axa, axb, axc = _cross_axes(axisa, axisb, axisc, axis, a, b)
    a3, a2 = _as_3_vectors(a, axa)
    b3, b2 = _as_3_vectors(b, axb)
    g = np.asarray(g)
    if a2 and b2:                       # a scalar result: the z component
        g = np.stack([np.zeros_like(g), np.zeros_like(g), g], axis=-1)
        axc = -1
    if of_a:
        ct, ax, was2, like = np.cross(b3, g, axisa=axb, axisb=axc, axisc=axa), axa, a2, a
    else:
        ct, ax, was2, like = np.cross(g, a3, axisa=axc, axisb=axa, axisc=axb), axb, b2, b
    if was2:
        ct = np.take(ct, [0, 1], axis=ax)
    return _ct_like(unbroadcast(ct, like), like)


def cross_vjp_a(g, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cotangent of ``a`` in ``np.cross(a, b, ...)``: ``<g, a x b> = <a, b x g>``."""
    return _cross_vjp(g, a, b, axisa, axisb, axisc, axis, True)


def cross_vjp_b(g, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cotangent of ``b`` in ``np.cross(a, b, ...)``: ``<g, a x b> = <b, g x a>``."""
    return _cross_vjp(g, a, b, axisa, axisb, axisc, axis, False)


def _full_cotangent(g, n, m, mode, flipped):
    """``g`` placed in the full-length result (zeros elsewhere): the window
    that ``mode`` keeps.  ``flipped``: np.correlate with ``len(v) > len(a)``,
    whose 'same' window is centred from the other end."""
    g = np.asarray(g)
    if mode == "full":
        return g
    s = min(n, m)
    off = s - 1 if mode == "valid" else ((s - 1) - (s - 1) // 2 if flipped else (s - 1) // 2)
    out = np.zeros(n + m - 1, dtype=g.dtype)
    out[off:off + g.shape[0]] = g
    return out


def _conj(x):
    return np.conjugate(x) if np.iscomplexobj(x) else x


def _ct_like(ct, x):
    """``ct`` as the cotangent of ``x``: its real part where ``x`` is real (an
    imaginary part pairs with no direction)."""
    return np.real(ct) if np.iscomplexobj(ct) and not np.iscomplexobj(x) else ct


# np.convolve and np.correlate are bilinear (np.correlate conjugates ``v``),
# and cotangents are plain transposes (the complex convention of flat_dot):
# np.correlate(g, w) is sum_k g[i + k] conj(w[k]), so transposing against
# ``v`` itself takes ``w = conj(v)``; correlate(a, v) is convolve(a,
# conj(v)[::-1]), whose cotangent in ``v`` is the conjugate of the one in
# ``conj(v)``, reversed.


def _real_1d(g, a, v):
    """Whether the three operands are real 1-d ndarrays (the common case,
    which the helpers below take without conversions or reshapes)."""
    nd = np.ndarray
    return type(g) is nd and type(a) is nd and type(v) is nd and \
        g.ndim == 1 and a.ndim == 1 and v.ndim == 1 and \
        g.dtype.kind in "fiub" and a.dtype.kind in "fiub" and v.dtype.kind in "fiub"


def _valid_cotangent(g, n, m):
    """:func:`_full_cotangent` of a 1-d ndarray ``g`` for mode 'valid'."""
    out = np.zeros(n + m - 1, dtype=g.dtype)
    off = min(n, m) - 1
    out[off:off + g.shape[0]] = g
    return out


def convolve_vjp_a(g, a, v, mode="full"):
    """Cotangent of ``a`` in ``np.convolve(a, v, mode)``."""
    if mode == "valid" and _real_1d(g, a, v):   # (the same calls, without no-op conversions)
        return np.correlate(_valid_cotangent(g, a.shape[0], v.shape[0]), v, "valid")
    _numpy_only("np.convolve", g, a, v)
    gf = _full_cotangent(g, np.size(a), np.size(v), mode, False)
    return _ct_like(np.reshape(np.correlate(gf, _conj(np.ravel(v)), "valid"), np.shape(a)), a)


def convolve_vjp_b(g, a, v, mode="full"):
    """Cotangent of ``v`` in ``np.convolve(a, v, mode)``."""
    if mode == "valid" and _real_1d(g, a, v):
        return np.correlate(_valid_cotangent(g, a.shape[0], v.shape[0]), a, "valid")
    _numpy_only("np.convolve", g, a, v)
    gf = _full_cotangent(g, np.size(a), np.size(v), mode, False)
    return _ct_like(np.reshape(np.correlate(gf, _conj(np.ravel(a)), "valid"), np.shape(v)), v)


def correlate_vjp_a(g, a, v, mode="valid"):
    """Cotangent of ``a`` in ``np.correlate(a, v, mode)`` (which is
    ``np.convolve(a, conj(v)[::-1])`` in full)."""
    _numpy_only("np.correlate", g, a, v)
    gf = _full_cotangent(g, np.size(a), np.size(v), mode, np.size(v) > np.size(a))
    return _ct_like(np.reshape(np.correlate(gf, np.ravel(v)[::-1], "valid"), np.shape(a)), a)


def correlate_vjp_b(g, a, v, mode="valid"):
    """Cotangent of ``v`` in ``np.correlate(a, v, mode)``."""
    _numpy_only("np.correlate", g, a, v)
    gf = _full_cotangent(g, np.size(a), np.size(v), mode, np.size(v) > np.size(a))
    t = _conj(np.correlate(gf, _conj(np.ravel(a)), "valid"))[::-1]
    return _ct_like(np.reshape(t, np.shape(v)), v)


def cov_rows(m, y=None, rowvar=True, dtype=None):
    """The variables-by-observations matrix ``np.cov(m, y, rowvar)`` works on."""
    _numpy_only("np.cov", m)
    m = np.asarray(m)
    if dtype is None:
        dtype = np.result_type(m, np.float64) if y is None else np.result_type(m, y, np.float64)
    X = np.array(m, ndmin=2, dtype=dtype)
    if not rowvar and m.ndim != 1:
        X = X.T
    if y is not None:
        y = np.array(y, ndmin=2, dtype=dtype)
        if not rowvar and y.shape[0] != 1:
            y = y.T
        X = np.concatenate((X, y), axis=0)
    return X


def cov_rows_adjoint(G, m, y=None, rowvar=True, dtype=None):
    """The adjoint of :func:`cov_rows`: the cotangent of ``m`` (and of ``y``)."""
    G = np.asarray(G)
    m_rows = 1 if np.ndim(m) < 2 else np.shape(m)[0 if rowvar else 1]
    if y is not None:
        G, Gy = G[:m_rows], G[m_rows:]
    if not rowvar and np.ndim(m) != 1:
        G = G.T
    ct_m = np.reshape(G, np.shape(m))
    if y is None:
        return ct_m
    if not rowvar and np.array(y, ndmin=2).shape[0] != 1:
        Gy = Gy.T
    return ct_m, np.reshape(Gy, np.shape(y))


def cov_normalization(X, bias=False, ddof=None, fweights=None, aweights=None):
    """``np.cov``'s divisor for the rows ``X``; with weights, ``(w, divisor)``
    for the product ``w`` of frequency and analytic weights."""
    if ddof is None:
        ddof = 0 if bias else 1
    w = None
    if fweights is not None:
        w = np.asarray(fweights, dtype=float)
    if aweights is not None:
        aw = np.asarray(aweights, dtype=float)
        w = aw if w is None else w * aw
    if w is None:
        fact = X.shape[1] - ddof
        return max(fact, 0.0)
    w_sum = np.sum(w)
    if ddof == 0:
        fact = w_sum
    elif aweights is None:
        fact = w_sum - ddof
    else:
        fact = w_sum - ddof * np.sum(w * np.asarray(aweights, dtype=float)) / w_sum
    return w.astype(X.dtype), max(fact, 0.0)


# -- quantiles: the value at q is (1 - gamma) s[lo] + gamma s[hi] for the
# stably sorted sample s, with (lo, hi, gamma) from NumPy's definition of
# each method (numpy/lib/_function_base_impl.py, Hyndman & Fan).

_HF_ALPHA_BETA = {"interpolated_inverted_cdf": (0.0, 1.0), "hazen": (0.5, 0.5),
                  "weibull": (0.0, 0.0), "median_unbiased": (1 / 3.0, 1 / 3.0),
                  "normal_unbiased": (3 / 8.0, 3 / 8.0)}


def _discrete_index(v, keep_lower):
    prev = np.floor(v)
    gamma = v - prev
    idx = np.where(keep_lower(gamma, v), prev, prev + 1)
    return np.maximum(idx, 0)


def _quantile_positions(n, q, method):
    """``(lo, hi, gamma)`` for samples of ``n`` values (``n`` may be an array
    of per-lane counts), broadcast over ``q`` and ``n``."""
    n = np.asarray(n)
    q = np.asarray(q)
    if method in ("lower", "higher", "nearest", "inverted_cdf", "closest_observation"):
        if method == "lower":
            idx = np.floor((n - 1) * q)
        elif method == "higher":
            idx = np.ceil((n - 1) * q)
        elif method == "nearest":
            idx = np.around((n - 1) * q)
        elif method == "inverted_cdf":
            idx = _discrete_index(n * q - 1, lambda gm, v: gm == 0)
        else:
            idx = _discrete_index(n * q - 1 - 0.5,
                                  lambda gm, v: (gm == 0) & (np.floor(v) % 2 == 1))
        idx = np.asarray(idx).astype(np.intp)
        return idx, idx, np.zeros(idx.shape)
    if method == "linear":
        v = (n - 1) * q
    elif method == "averaged_inverted_cdf":
        v = n * q - 1
    elif method == "midpoint":
        v = 0.5 * (np.floor((n - 1) * q) + np.ceil((n - 1) * q))
    elif method in _HF_ALPHA_BETA:
        alpha, beta = _HF_ALPHA_BETA[method]
        v = n * q + (alpha + q * (1 - alpha - beta)) - 1
    else:
        raise ValueError(f"{method!r} is not a valid quantile method")
    v = np.asarray(v)
    if np.issubdtype(v.dtype, np.integer):
        return v.astype(np.intp), v.astype(np.intp), np.zeros(v.shape)
    prev = np.floor(v)
    gamma = v - prev
    if method == "averaged_inverted_cdf":
        gamma = np.where(gamma == 0, 0.5, 1.0)
    elif method == "midpoint":
        gamma = np.where(v % 1 == 0, 0.0, 0.5)
    last = n - 1
    above, below = v >= last, v < 0
    lo = np.where(above, last, np.where(below, 0, prev))
    hi = np.where(above, last, np.where(below, 0, prev + 1))
    return lo.astype(np.intp), hi.astype(np.intp), gamma


def _quantile_lanes(a, axis):
    """``a`` with the reduced axes moved last and merged, and the inverse."""
    a = np.asarray(a)
    if axis is None:
        return a.reshape(1, -1)[0], a.shape, None
    nd = a.ndim
    axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    axes = tuple(sorted(_axis_of(int(x), nd) for x in axes))
    k = len(axes)
    moved = np.moveaxis(a, axes, tuple(range(nd - k, nd)))
    return moved.reshape(moved.shape[:nd - k] + (-1,)), moved.shape, axes


def _quantile_dv_dq(n, method):
    """d(virtual index)/dq of the methods whose value moves continuously with
    q (0 for the piecewise-constant ones)."""
    n = np.asarray(n, dtype=np.float64)
    if method == "linear":
        return n - 1
    if method in _HF_ALPHA_BETA:
        alpha, beta = _HF_ALPHA_BETA[method]
        return n + 1 - alpha - beta
    return np.zeros_like(n)


def _quantile_setup(a, q, axis, method, nan, percent, slope=False):
    """The stable sort order of each lane and the weights of the order
    statistics at ``lo`` and ``hi`` (``1 - gamma`` and ``gamma``; with
    ``slope``, the derivative with respect to q: ``-c`` and ``c``, ``c`` the
    virtual index's dv/dq, so ``c (s[hi] - s[lo])``, 0 where ``lo == hi``)."""
    a2, _, _ = _quantile_lanes(a, axis)
    q = np.asarray(q, dtype=np.float64 if not np.issubdtype(np.asarray(q).dtype, np.integer)
                   or percent else np.asarray(q).dtype)
    if percent:
        q = q / 100
    lanes = a2.shape[:-1]
    order = np.argsort(a2, axis=-1, kind="stable")       # NaNs last
    n = np.sum(~np.isnan(a2), axis=-1) if nan else a2.shape[-1]
    qq = q.reshape(q.shape + (1,) * len(lanes))
    lo, hi, gamma = _quantile_positions(n, qq, method)
    full = q.shape + lanes
    lo, hi = np.broadcast_to(lo, full), np.broadcast_to(hi, full)
    weight = np.ones(full)
    if nan:
        weight = np.broadcast_to(n > 0, full).astype(float)   # an all-NaN lane: no derivative
    if slope:
        c = np.broadcast_to(_quantile_dv_dq(n, method), full) * (0.01 if percent else 1.0)
        return order, lo, hi, -c * weight, c * weight, full
    gamma = np.broadcast_to(gamma, full)
    return order, lo, hi, (1 - gamma) * weight, gamma * weight, full


def _quantile_out_shape(a, q, axis, keepdims, percent):
    shape = np.shape(a)
    if axis is None:
        rest = (1,) * len(shape) if keepdims else ()
    else:
        axes = (axis,) if np.ndim(axis) == 0 else tuple(axis)
        axes = {_axis_of(int(x), len(shape)) for x in axes}
        rest = tuple(1 if d in axes else n for d, n in enumerate(shape)
                     if keepdims or d not in axes)
    return np.shape(q) + rest


def quantile_tangent(t, a, q, axis=None, method="linear", keepdims=False, nan=False,
                     percent=False, slope=False):
    """The tangent of ``np.quantile(a, q, axis, method=..., keepdims=...)``
    (``nan``: np.nanquantile; ``percent``: q in percent) for the tangent ``t`` of ``a``.
    With ``slope``: ``t``'s order statistics combined as the derivative with
    respect to ``q`` combines ``a``'s (``t = a`` gives d quantile / dq)."""
    _numpy_only("quantiles", t, a)
    order, lo, hi, w_lo, w_hi, full = _quantile_setup(a, q, axis, method, nan, percent, slope)
    t2, _, _ = _quantile_lanes(np.broadcast_to(t, np.shape(a)), axis)
    ts = np.broadcast_to(np.take_along_axis(t2, order, axis=-1), full + t2.shape[-1:])
    dtype = ts.dtype if np.issubdtype(ts.dtype, np.inexact) else np.float64
    w_hi = w_hi.astype(dtype)
    w_lo = w_lo.astype(dtype)
    v = w_lo * np.take_along_axis(ts, lo[..., None], axis=-1)[..., 0] + \
        w_hi * np.take_along_axis(ts, hi[..., None], axis=-1)[..., 0]
    return v.reshape(_quantile_out_shape(a, q, axis, keepdims, percent))


def quantile_adjoint(g, a, q, axis=None, method="linear", keepdims=False, nan=False,
                     percent=False, slope=False):
    """The adjoint of :func:`quantile_tangent`: each quantile's cotangent sent
    to the (at most two) order statistics it interpolates."""
    _numpy_only("quantiles", g, a)
    order, lo, hi, w_lo, w_hi, full = _quantile_setup(a, q, axis, method, nan, percent, slope)
    a2, moved_shape, axes = _quantile_lanes(a, axis)
    dtype = np.result_type(g, a, np.float32)
    g = np.reshape(np.asarray(g), full)
    qshape = np.shape(q)
    cs = np.zeros((int(np.prod(a2.shape[:-1])), a2.shape[-1]), dtype=dtype)
    rows = np.arange(cs.shape[0])
    for k in np.ndindex(qshape):
        gk = g[k].reshape(-1)
        cs[rows, lo[k].reshape(-1)] += (w_lo[k].reshape(-1) * gk).astype(dtype)
        cs[rows, hi[k].reshape(-1)] += (w_hi[k].reshape(-1) * gk).astype(dtype)
    ct2 = np.zeros(a2.shape, dtype=dtype)
    np.put_along_axis(ct2, order, cs.reshape(a2.shape), axis=-1)
    if axes is None:
        return ct2.reshape(np.shape(a))
    nd = np.ndim(a)
    ct = ct2.reshape(moved_shape)
    return np.moveaxis(ct, tuple(range(nd - len(axes), nd)), axes)


def lead_sum(x, q):
    """``x`` (shaped ``q.shape + rest``: one quantile per q and lane) summed
    over ``rest``: the cotangent of ``q``.  Linear in ``x``."""
    return np.sum(np.reshape(x, np.shape(q) + (-1,)), axis=-1)


def lead_broadcast(h, x):
    """``h`` (shaped like ``q``) broadcast along the trailing axes of ``x``:
    the adjoint of :func:`lead_sum`."""
    h = np.asarray(h)
    return np.broadcast_to(np.reshape(h, h.shape + (1,) * (np.ndim(x) - h.ndim)), np.shape(x))


__all__ += ["lead_sum", "lead_broadcast"]


def _unique_first(ar, equal_nan=True, sorted=True):
    """The flat index of each unique value's first occurrence, in the order
    np.unique returns the values (``sorted=`` is NumPy 2.3's; before it the
    values are always sorted)."""
    kw = {} if sorted is True else {"sorted": sorted}
    return np.unique(np.ravel(ar), return_index=True, equal_nan=equal_nan, **kw)[1]


def unique_tangent(t, ar, equal_nan=True, sorted=True):
    """The tangent of np.unique's values: ``t`` at each value's first occurrence."""
    idx = _unique_first(ar, equal_nan, sorted)
    return np.ravel(np.broadcast_to(t, np.shape(ar)))[idx]


def unique_adjoint(g, ar, equal_nan=True, sorted=True):
    """The adjoint of :func:`unique_tangent`: each unique value's cotangent
    sent to its first occurrence (0 at the repeats)."""
    idx = _unique_first(ar, equal_nan, sorted)
    out = np.zeros(np.size(ar), dtype=np.result_type(g, np.asarray(ar).dtype, np.float32))
    out[idx] = g
    return out.reshape(np.shape(ar))


__all__ += ["unique_tangent", "unique_adjoint"]


def _running_extreme_index(x, axis, minimum):
    """For np.maximum.accumulate (np.minimum: ``minimum``) along ``axis``: the
    index each output entry copies -- the latest strict new extreme at or
    before it (ties keep the earlier entry)."""
    x = np.moveaxis(np.asarray(x), axis, -1)
    acc = (np.minimum if minimum else np.maximum).accumulate(x, axis=-1)
    new = np.ones(x.shape, dtype=bool)
    if x.shape[-1] > 1:
        new[..., 1:] = (x[..., 1:] < acc[..., :-1]) if minimum else (x[..., 1:] > acc[..., :-1])
    pos = np.where(new, np.arange(x.shape[-1]), 0)
    return np.maximum.accumulate(pos, axis=-1)


def accumulate_extreme_tangent(t, x, axis=0, minimum=False):
    """The tangent of ``np.maximum.accumulate(x, axis)`` (``minimum``: of
    np.minimum's) for the tangent ``t`` of ``x``: ``t`` at the copied entries."""
    idx = _running_extreme_index(x, axis, minimum)
    tm = np.moveaxis(np.asarray(np.broadcast_to(t, np.shape(x))), axis, -1)
    return np.moveaxis(np.take_along_axis(tm, idx, axis=-1), -1, axis)


def accumulate_extreme_adjoint(g, x, axis=0, minimum=False):
    """The adjoint of :func:`accumulate_extreme_tangent`: each output's
    cotangent added onto the entry it copies."""
    idx = _running_extreme_index(x, axis, minimum)
    gm = np.moveaxis(np.asarray(g), axis, -1)
    out = np.zeros(gm.shape, dtype=np.result_type(g, np.asarray(x).dtype, np.float32))
    flat_idx = idx.reshape(-1, gm.shape[-1])
    flat_g = gm.reshape(-1, gm.shape[-1])
    flat_out = out.reshape(-1, gm.shape[-1])
    for r in range(flat_idx.shape[0]):
        np.add.at(flat_out[r], flat_idx[r], flat_g[r])
    return np.moveaxis(flat_out.reshape(gm.shape), -1, axis)


__all__ += ["accumulate_extreme_tangent", "accumulate_extreme_adjoint"]


# np.logaddexp.accumulate (torch.logcumsumexp): out_i = log sum_{j<=i} exp(x_j)
# along the axis, so d out_i = sum_{j<=i} exp(x_j - out_i) dx_j.  The kernel
# exp(x_j - out_i) (j <= i) is applied in the log domain, a positive and a
# negative part of the direction at a time, so nothing overflows or
# underflows where NumPy's own accumulate does not.


def _log_parts(v):
    with np.errstate(divide="ignore"):
        return np.log(np.maximum(v, 0)), np.log(np.maximum(-v, 0))


def logaddexp_accumulate_tangent(t, x, out, axis=0):
    """sum_{j<=i} exp(x_j - out_i) t_j along ``axis``."""
    x = np.asarray(x)
    t = np.broadcast_to(t, x.shape)
    res = np.zeros(x.shape, np.result_type(x.dtype, t.dtype, np.float32))
    with np.errstate(invalid="ignore"):
        for sign, lt in zip((1.0, -1.0), _log_parts(t)):
            res += sign * np.exp(np.logaddexp.accumulate(x + lt, axis=axis) - out)
    return res


def logaddexp_accumulate_adjoint(g, x, out, axis=0):
    """The transpose: sum_{i>=j} exp(x_j - out_i) g_i along ``axis``."""
    x = np.asarray(x)
    g = np.broadcast_to(g, x.shape)
    res = np.zeros(x.shape, np.result_type(x.dtype, g.dtype, np.float32))
    with np.errstate(invalid="ignore"):
        for sign, lg in zip((1.0, -1.0), _log_parts(g)):
            rev = np.flip(np.logaddexp.accumulate(np.flip(lg - out, axis), axis=axis), axis)
            res += sign * np.exp(rev + x)
    return res


__all__ += ["logaddexp_accumulate_tangent", "logaddexp_accumulate_adjoint"]


# ---------------------------------------------------------------- data functions (data.py)

__all__ += ["histogram_bin_index", "histogram_data_edges"]


def histogram_data_edges(bins):
    """1.0 if ``np.histogram(a, bins)`` (no ``range``) computes its edges from
    the data's min and max (``bins`` a count or a rule name), 0.0 if ``bins``
    are the edges."""
    return 1.0 if np.ndim(bins) == 0 else 0.0


def histogram_bin_index(a, edges):
    """The bin ``np.histogram`` puts each element of ``a`` in for these
    ``edges`` (the last bin is closed), -1 for elements outside (or NaN)."""
    _numpy_only("np.histogram", a)
    a = np.asarray(a)
    edges = np.asarray(edges)
    idx = np.searchsorted(edges, a, side="right") - 1
    idx = np.where(a == edges[-1], len(edges) - 2, idx)
    return np.where((a < edges[0]) | (a > edges[-1]) | np.isnan(a), -1, idx)


# ---------------------------------------------------------------- np.interp
#
# np.interp(x, xp, fp) is w_l * fp[i_l] + w_r * fp[i_r] for each x (the two
# knots around x, or one end point outside [xp[0], xp[-1]] without
# left=/right=), so its derivative in fp is a gather/scatter with these
# weights and its derivative in x is the slope of the interval x falls in.

__all__ += ["interp_weights"]


def interp_weights(x, xp, left=None, right=None):
    """``(i_l, i_r, inv, keep, c)`` for ``np.interp(x, xp, fp, left, right)``:
    with ``t = clip((x - xp[i_l]) * inv, 0, 1)`` its value is ``keep * ((1 -
    t) fp[i_l] + t fp[i_r])`` (plus ``left``/``right`` where given and x is
    outside, where ``keep`` is 0), and its derivative in ``x`` is ``(fp[i_r] -
    fp[i_l]) * c``: the slope of the interval ``[xp[i], xp[i+1])`` that x is
    in (at a knot, the interval to its right; at ``xp[-1]``, the last one),
    0 outside ``[xp[0], xp[-1]]``."""
    x = np.asarray(x, dtype=float)
    xp = np.asarray(xp, dtype=float)
    n = xp.shape[0]
    keep = np.ones(x.shape)
    if left is not None:
        keep = np.where(x < xp[0], 0.0, keep)
    if right is not None:
        keep = np.where(x > xp[-1], 0.0, keep)
    if n == 1:
        zeros = np.zeros(x.shape, dtype=np.intp)
        return zeros, zeros, np.zeros(x.shape), keep, np.zeros(x.shape)
    i = np.clip(np.searchsorted(xp, x, side="right"), 1, n - 1)
    dx = xp[i] - xp[i - 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(dx == 0, 0.0, 1.0 / np.where(dx == 0, 1.0, dx))
    inside = (x >= xp[0]) & (x <= xp[-1])
    return i - 1, i, inv, keep, np.where(inside, inv, 0.0)


__all__ += ["outer_lift"]


def outer_lift(a, b):
    """``a`` with ``ndim(b)`` axes of length 1 appended: ``ufunc.outer(a, b)``
    is ``ufunc(outer_lift(a, b), b)``."""
    return np.reshape(a, np.shape(a) + (1,) * np.ndim(b))


__all__ += ["along_axis_index"]


def along_axis_index(arr, indices, axis):
    """The integer-array index (a tuple) ``np.put_along_axis(arr, indices, v,
    axis)`` writes: ``arr[along_axis_index(arr, indices, axis)] = v``."""
    shape = np.shape(arr)
    return _along_axis_index(np.asarray(indices), shape, _axis_of(axis, len(shape)))


# ---------------------------------------------------------------- np.block, np.i0 (extras.py)


def _nest(leaves, structure):
    """The nested lists ``structure`` describes (a tuple of sub-structures, or
    None for one leaf), filled from ``leaves`` in order."""
    it = iter(leaves)

    def build(s):
        return next(it) if s is None else [build(x) for x in s]
    return build(structure)


def block(*leaves, structure=None):
    """``np.block`` of the nested lists ``structure`` describes."""
    return np.block(_nest(leaves, structure))


def unblock(g, *leaves, structure=None):
    """The adjoint of :func:`block`: the piece of ``g`` each leaf filled,
    shaped like the leaf (found by assembling the leaves' numbers)."""
    labels = np.block(_nest([np.full(np.shape(x), k, dtype=np.intp)
                             for k, x in enumerate(leaves)], structure))
    g = np.asarray(g)
    return tuple(g[labels == k].reshape(np.shape(x)) for k, x in enumerate(leaves))


def bessel_i1(x):
    """The modified Bessel function I1 (NumPy has only ``np.i0``): its power
    series sum_k (x/2)^(2k+1) / (k! (k+1)!), whose terms are all of one sign
    (no cancellation: relative accuracy near machine precision for every x),
    summed until the terms no longer change the sum."""
    x = np.asarray(x)
    dt = np.result_type(x, np.float32) if x.dtype.kind == "f" else np.float64
    xs = x.astype(dt, copy=False)
    q = (xs * 0.5) ** 2
    term = xs * 0.5
    total = term.copy()
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, 2000):
            term = term * q / (k * (k + 1))
            total = total + term
            if not np.any(np.abs(term) > np.finfo(dt).eps * np.abs(total)):
                break
    return total[()] if total.ndim == 0 else total


__all__ += ["block", "unblock", "bessel_i1"]


def index_grid(kind="mgrid", slices=()):
    """``np.mgrid[...]``/``np.ogrid[...]`` of constant ``(start, stop, step)`` triples."""
    grid = np.mgrid if kind == "mgrid" else np.ogrid
    idx = tuple(slice(*t) for t in slices)
    return grid[idx[0] if len(idx) == 1 else idx]


__all__ += ["index_grid"]


def require_ndim(x, ndim=1, what=""):
    """``x`` itself, after checking it has ``ndim`` axes (a count compiled in)."""
    if np.ndim(x) != ndim:
        raise ValueError(f"s2sgrad compiled {what} for a {ndim}-d array (one result per "
                         f"target), but this one has shape {np.shape(x)}")
    return x


__all__ += ["require_ndim"]


# ---------------------------------------------------------------- np.apply_along_axis


def along_axis_rows(x, axis=0):
    """The 1-d slices of ``x`` along ``axis`` as the rows of a 2-d array
    (in the order np.apply_along_axis visits them)."""
    x = np.asarray(x)
    m = np.moveaxis(x, axis, -1)
    return m.reshape((-1, m.shape[-1]))


def along_axis_unrows(g, x, axis=0):
    """The adjoint of :func:`along_axis_rows`: rows back to ``x``'s shape."""
    x = np.asarray(x)
    m_shape = np.moveaxis(np.empty(x.shape, dtype=bool), axis, -1).shape
    return np.moveaxis(np.reshape(g, m_shape), -1, axis)


def _along_axes(x, st, axis):
    lead = np.moveaxis(np.empty(np.shape(x), dtype=bool), axis, -1).shape[:-1]
    k = np.ndim(st) - 1
    ax = axis % np.ndim(x)
    return lead, k, ax


def along_axis_assemble(st, x, axis=0):
    """np.apply_along_axis's result from the stacked results ``st`` (one per
    row of :func:`along_axis_rows`): the results' axes replace ``axis``."""
    lead, k, ax = _along_axes(x, st, axis)
    r = np.reshape(st, lead + np.shape(st)[1:])
    return np.moveaxis(r, tuple(range(len(lead), len(lead) + k)), tuple(range(ax, ax + k)))


def along_axis_unassemble(g, st, x, axis=0):
    """The adjoint of :func:`along_axis_assemble`: ``g`` back to ``st``'s shape."""
    lead, k, ax = _along_axes(x, st, axis)
    r = np.moveaxis(g, tuple(range(ax, ax + k)), tuple(range(len(lead), len(lead) + k)))
    return np.reshape(r, np.shape(st))


__all__ += ["along_axis_rows", "along_axis_unrows", "along_axis_assemble",
            "along_axis_unassemble"]


# ---------------------------------------------------------------- np.polyadd, polyder, polyint


def poly_tail(g, a):
    """The last ``size(a)`` coefficients of ``g``, shaped like ``a`` (the
    adjoint of padding ``a`` at the front, as np.polyadd does)."""
    n = np.size(a)
    g = np.atleast_1d(g)
    return g[len(g) - n:].reshape(np.shape(a))


def poly_pad(h, like):
    """``h`` (flattened) padded with zeros at the front to ``len(like)``."""
    h = np.ravel(h)
    out = np.zeros(len(np.atleast_1d(like)), dtype=np.result_type(h, np.float32)
                   if h.dtype.kind == "f" else np.float64)
    out[len(out) - len(h):] = h
    return out


def _polyder_factors(n, m, dtype):
    i = np.arange(max(n - m, 0))
    c = np.ones(len(i), dtype=dtype)
    for j in range(m):
        c = c * (n - 1 - i - j)
    return c


def polyder_adjoint(g, p, m=1):
    """The adjoint of ``np.polyder(p, m)`` (a 1-d ``p``): ``g`` times the
    factors, then ``m`` zeros (the lowest coefficients do not reach the result)."""
    p = np.asarray(p)
    n = len(p)
    g = np.asarray(g)
    out = np.zeros(n, dtype=np.result_type(g.dtype, p.dtype))
    if n - m > 0:
        out[:n - m] = g * _polyder_factors(n, m, out.dtype)
    return out


def _polyint_weights(n, m, dtype):
    i = np.arange(n)
    w = np.ones(n, dtype=dtype)
    for s in range(m):
        w = w / (n - i + s)
    return w


def polyint_adjoint(g, p, m=1):
    """The adjoint of ``p -> np.polyint(p, m)`` (its constants aside): the
    first ``len(p)`` entries of ``g`` times the integration weights."""
    p = np.asarray(p)
    n = len(p)
    g = np.asarray(g)
    dt = np.result_type(g.dtype, p.dtype)
    return g[:n] * _polyint_weights(n, m, dt)


__all__ += ["poly_tail", "poly_pad", "polyder_adjoint", "polyint_adjoint"]


def unpack_index(x, n=1):
    """0, after checking ``x``'s first axis has length ``n`` (the number of
    names ``np.unstack(x)`` is unpacked into, compiled in)."""
    if np.ndim(x) == 0 or np.shape(x)[0] != n:
        raise ValueError(f"too many values to unpack (expected {n}): np.unstack of an axis "
                         f"of length {np.shape(x)[0] if np.ndim(x) else 0}")
    return 0


__all__ += ["unpack_index"]


_SERIES_PREFIX = {"polynomial": "poly", "chebyshev": "cheb", "legendre": "leg",
                  "hermite": "herm", "hermite_e": "herme", "laguerre": "lag"}


def series_vander(x, n=1, kind="polynomial", m=0):
    """The pseudo-Vandermonde matrix of the first ``n`` basis polynomials of
    ``np.polynomial.<kind>`` at ``x`` (NumPy's ``<kind>vander``; shape
    ``x.shape + (n,)``, a 0-d ``x`` included), or with ``m > 0`` of their
    ``m``-th derivatives (``<kind>der`` of each basis vector)."""
    mod = getattr(np.polynomial, kind)
    pre = _SERIES_PREFIX[kind]
    x = np.asarray(x)
    n = int(n)
    V = getattr(mod, pre + "vander")(x, n - 1).reshape(x.shape + (n,))
    if m == 0:
        return V
    D = np.zeros((n, n), dtype=V.dtype)
    for k in range(n):
        e = np.zeros(n)
        e[k] = 1.0
        d = getattr(mod, pre + "der")(e, m)
        D[:len(d), k] = d
    return V @ D


__all__ += ["series_vander"]


DATA_REFUSED_ERROR = ValueError        # s2sgrad.errors.DataRefusedError (runtime_prims.py)


def emath_real(x, name="sqrt", where=""):
    """Refuse ``np.emath.<name>(x)`` of real data with a negative entry: its
    result would be complex, a dtype decided by the data (NumPy's
    ``_fix_real_lt_zero``).  Complex data, NaN and non-negative entries pass."""
    if np.iscomplexobj(x):
        return
    if np.any(np.less(x, 0)):
        raise DATA_REFUSED_ERROR(f"{where}: np.emath.{name} of a negative real value: NumPy's result "
                         f"would be complex (a dtype decided by the data), which s2sgrad does "
                         f"not follow; use np.{name}(x.astype(complex)) for the complex "
                         f"branch, or np.{name} for non-negative data")


__all__ += ["emath_real"]


def fill_diagonal_index(a, wrap=False):
    """The flat positions ``np.fill_diagonal(a, val, wrap)`` writes (NumPy's rule)."""
    a = np.asarray(a)
    if a.ndim < 2:
        raise ValueError("array must be at least 2-d")
    end = None
    if a.ndim == 2:
        step = a.shape[1] + 1
        if not wrap:
            end = a.shape[1] * a.shape[1]
    else:
        if not np.all(np.diff(a.shape) == 0):
            raise ValueError("All dimensions of input must be of equal length")
        step = 1 + int(np.cumprod(a.shape[:-1]).sum())
    return np.arange(a.size)[:end:step]


__all__ += ["fill_diagonal_index"]


def poly_coefficients(a):
    """The coefficients ``np.polymul`` multiplies: ``a`` as ``np.poly1d``
    takes it (1-d), when ``poly1d`` would not trim it -- a leading zero
    coefficient makes the product's length depend on the values, which a
    derivative cannot follow: a ``ValueError`` then.  A copy."""
    a = np.atleast_1d(a)
    if a.ndim != 1:
        raise ValueError("np.polymul: polynomial must be 1d only")
    if a.shape[0] > 1 and a[0] == 0:
        raise ValueError("np.polymul: a leading coefficient is 0, so NumPy (np.poly1d) drops "
                         "it and the product is shorter; s2sgrad supports np.polymul only "
                         "with nonzero leading coefficients -- trim the zeros first, or use "
                         "np.convolve (the untrimmed product)")
    return np.array(a, copy=True)


__all__ += ["poly_coefficients"]


def axes_kept(res, a, axis):
    """One pass of ``np.apply_over_axes``: the function's result ``res`` on
    ``a`` along ``axis``, with ``axis`` put back (``np.expand_dims``) when the
    function dropped it; NumPy's error when the result has another rank."""
    res = np.asanyarray(res)
    if res.ndim == np.ndim(a):
        return res
    res = np.expand_dims(res, axis)
    if res.ndim == np.ndim(a):
        return res
    raise ValueError("function is not returning an array of the correct shape")


__all__ += ["axes_kept"]


# np.vectorize(f, signature="(m,n),(n)->(m)"): the loop dimensions of the
# operands broadcast together; each call of f gets one core slice of each.

def _gufunc_signature(signature):
    import re
    sig = signature.replace(" ", "")
    m = re.fullmatch(r"((?:\([\w,]*\),?)*)->(\([\w,]*\))", sig)
    if m is None:
        raise ValueError(f"not a generalized ufunc signature: {signature!r}")
    ins = [tuple(d for d in g.split(",") if d) for g in re.findall(r"\(([\w,]*)\)", m.group(1))]
    out = tuple(d for d in m.group(2)[1:-1].split(",") if d)
    return ins, out


def gufunc_loop_shape(*xs, signature):
    """The broadcast loop shape of the operands of ``np.vectorize(f,
    signature=...)`` (their shapes without the trailing core dimensions),
    after NumPy's checks: enough dimensions, one size per core name."""
    ins, _ = _gufunc_signature(signature)
    if len(ins) != len(xs):
        raise TypeError(f"wrong number of positional arguments: expected {len(ins)}, "
                        f"got {len(xs)}")
    sizes, loops = {}, []
    for x, core in zip(xs, ins):
        shape = np.shape(x)
        if len(shape) < len(core):
            raise ValueError(f"input with shape {shape} does not have enough dimensions for "
                             f"all core dimensions {core} of signature {signature!r}")
        for name, n in zip(core, shape[len(shape) - len(core):]):
            if sizes.setdefault(name, n) != n:
                raise ValueError(f"inconsistent size for core dimension {name!r}: "
                                 f"{n} vs {sizes[name]}")
        loops.append(shape[:len(shape) - len(core)])
    return tuple(np.broadcast_shapes(*loops))


def gufunc_rows(x, loop_shape, k):
    """``x`` broadcast to the loop shape (its ``k`` core dimensions kept) and
    flattened to one row per call: shape ``(prod(loop_shape), *core)``; a
    new array (the calls may write into their rows)."""
    core = np.shape(x)[np.ndim(x) - k:]
    return np.array(np.reshape(np.broadcast_to(x, tuple(loop_shape) + core), (-1,) + core))


def gufunc_rows_adjoint(g, x, loop_shape, k):
    """The adjoint of :func:`gufunc_rows`: the rows summed back to ``x``'s shape."""
    core = np.shape(x)[np.ndim(x) - k:]
    full = np.reshape(g, tuple(loop_shape) + core)
    lead = full.ndim - np.ndim(x)
    if lead:
        full = np.sum(full, axis=tuple(range(lead)))
    axes = tuple(i for i, (a, b) in enumerate(zip(full.shape, np.shape(x))) if a != b)
    return np.sum(full, axis=axes, keepdims=True) if axes else full


def gufunc_assemble(stacked, loop_shape):
    """The stacked results of the calls, shaped ``loop_shape + out_core``."""
    return np.reshape(stacked, tuple(loop_shape) + np.shape(stacked)[1:])


__all__ += ["gufunc_loop_shape", "gufunc_rows", "gufunc_rows_adjoint", "gufunc_assemble"]


# np.polydiv(u, v) = (q, r) with u = q v + r: for a fixed v, (q, r) is linear
# in u -- the inverse of (q, r) -> np.convolve(q, v) + r (r at the end), a
# square matrix L of size len(u) (when len(u) >= len(v) > 1); so dq, dr solve
# L [dq; dr] = du - np.convolve(q, dv), and the adjoint solves with L^T.


def _polydiv_sizes(u, v):
    m, n = np.shape(u)[0] - 1, np.shape(v)[0] - 1
    return m, n


def polydiv_qr(u, v):
    """``np.polydiv(u, v)``, when its remainder is not shorter than the
    division gives (``len(v) - 1``; 1 for a constant ``v``; ``len(u)`` when
    ``u`` is shorter): NumPy drops the remainder's leading coefficients while
    they are within 1e-8 of 0 -- the eliminated ones (zero by construction,
    often kept in float32), and then possibly real ones, whose loss makes the
    length depend on the values: a ``ValueError`` then."""
    u, v = np.atleast_1d(u), np.atleast_1d(v)
    if u.ndim != 1 or v.ndim != 1:
        raise ValueError("np.polydiv: polynomials must be 1d")
    q, r = np.polydiv(u, v)
    m, n = _polydiv_sizes(u, v)
    want = len(u) if m < n else max(n, 1)
    if r.shape[0] < want:
        raise ValueError(f"np.polydiv: the remainder has {r.shape[0]} coefficients instead of "
                         f"{want} (NumPy drops leading coefficients within 1e-8 of 0), so its "
                         f"length depends on the values; s2sgrad differentiates np.polydiv "
                         f"only when it does not")
    return q, r


def _polydiv_matrix(v, m):
    """L: column j < m - n + 1 is ``np.convolve(e_j, v)``; the last n columns
    put the remainder at the end."""
    n = v.shape[0] - 1
    L = np.zeros((m + 1, m + 1), dtype=np.result_type(v, 1.0))
    for j in range(m - n + 1):
        L[j:j + n + 1, j] = v
    for i in range(n):
        L[m - n + 1 + i, m - n + 1 + i] = 1.0
    return L


def polydiv_tangent(du, dv, q, r, u, v):
    """Tangents ``(dq, dr)`` of ``np.polydiv(u, v)`` (``du``/``dv`` None: zero)."""
    u, v = np.atleast_1d(u), np.atleast_1d(v)
    m, n = _polydiv_sizes(u, v)
    dt = np.result_type(q, r)
    if m < n:                                  # q = [0], r = u
        dr = np.zeros(r.shape, dt) if du is None else np.atleast_1d(du).astype(dt)
        return np.zeros(q.shape, dt), dr
    w = np.zeros(m + 1, dtype=np.result_type(dt, 1.0))
    if du is not None:
        w = w + np.atleast_1d(du)
    if dv is not None:
        w = w - np.convolve(q, np.atleast_1d(dv))
    z = np.linalg.solve(_polydiv_matrix(v, m), w)
    dq = z[:m - n + 1]
    # the remainder NumPy returns: the last len(r) entries of the full one,
    # whose first m - n + 1 (the eliminated ones) are zero by construction
    full = np.concatenate([np.zeros(m - n + 1), z[m - n + 1:]])
    return dq.astype(dt), full[full.shape[0] - r.shape[0]:].astype(dt)


def polydiv_adjoint(gq, gr, q, r, u, v):
    """Cotangents ``(u_bar, v_bar)`` of ``np.polydiv(u, v)`` given those of
    ``q`` and ``r`` (None: zero), shaped and typed as ``u`` and ``v``."""
    u1, v1 = np.atleast_1d(u), np.atleast_1d(v)
    m, n = _polydiv_sizes(u1, v1)
    ut, vt = np.result_type(np.asarray(u), 1.0), np.result_type(np.asarray(v), 1.0)
    if m < n:
        ub = np.zeros(u1.shape) if gr is None else np.asarray(gr, dtype=float)
        return ub.reshape(np.shape(u)).astype(ut), np.zeros(np.shape(v), vt)
    g = np.zeros(m + 1)
    if gq is not None:
        g[:m - n + 1] = gq
    if gr is not None and n > 0:
        g[m - n + 1:] = np.asarray(gr)[np.shape(gr)[0] - n:]     # (eliminated ones: zero)
    z = np.linalg.solve(_polydiv_matrix(v1, m).T, g)
    # w = du - convolve(q, dv): u_bar = z, v_bar[k] = -sum_j z[j + k] q[j]
    v_bar = -np.array([np.dot(z[k:k + len(q)], q) for k in range(n + 1)])
    return z.reshape(np.shape(u)).astype(ut), v_bar.reshape(np.shape(v)).astype(vt)


__all__ += ["polydiv_qr", "polydiv_tangent", "polydiv_adjoint"]


# ---------------------------------------------------------------- ufunc.at on a copy

__all__ += ["ufunc_at"]


def ufunc_at(y, v, idx, ufunc):
    """A copy of ``y`` with ``np.<ufunc>.at(y, idx, v)`` applied (unbuffered:
    repeated indices accumulate); ``ufunc`` is its name."""
    out = np.array(y, copy=True)
    getattr(np, ufunc).at(out, idx, v)
    return out


# ---------------------------------------------------------------- np.gradient(f)[k]

__all__ += ["gradient_pick", "gradient_pick_adjoint", "gradient_stacked",
            "gradient_stacked_adjoint"]


def _pick_spacing(spacing, nd, item):
    """The spacing operands of axis ``item`` out of ``np.gradient``'s: none or
    one for every axis, or one per axis (NumPy's rule)."""
    if len(spacing) <= 1:
        return spacing
    if len(spacing) != nd:
        raise TypeError("invalid number of arguments")      # NumPy's message
    return (spacing[item],)


def _gradient_checks(f, spacing, edge_order):
    """What ``np.gradient(f, *spacing)`` refuses along the axes not computed:
    an axis too short for ``edge_order``, coordinates of the wrong length."""
    if any(n < edge_order + 1 for n in f.shape):
        raise ValueError("Shape of array too small to calculate a numerical gradient, at "
                         "least (edge_order + 1) elements are required.")
    if len(spacing) == f.ndim:
        for d, n in zip(spacing, f.shape):
            if np.ndim(d) > 1:
                raise ValueError("distances must be either scalars or 1d")
            if np.ndim(d) == 1 and len(d) != n:
                raise ValueError("when 1d, distances must match the length of the "
                                 "corresponding dimension")


def gradient_pick(f, *spacing, item=0, edge_order=1):
    """``np.gradient(f, *spacing, edge_order=...)[item]`` without the other
    axes' derivatives: for an N-d ``f`` the derivative along axis ``item``,
    for a 1-d ``f`` (NumPy returns one array) its element ``item``."""
    f = np.asanyarray(f)
    if f.ndim == 1:
        return np.gradient(f, *spacing, edge_order=edge_order)[item]
    if not -f.ndim <= item < f.ndim:
        raise IndexError("tuple index out of range")      # as indexing NumPy's tuple
    _gradient_checks(f, spacing, edge_order)
    return np.gradient(f, *_pick_spacing(spacing, f.ndim, item), axis=item,
                       edge_order=edge_order)


def gradient_pick_adjoint(h, f, *spacing, item=0, edge_order=1):
    """The adjoint of :func:`gradient_pick` (linear in ``f``)."""
    nd = np.ndim(f)
    if nd == 1:
        g = np.zeros(np.shape(f), dtype=np.result_type(h, f, np.float32))
        g[item] = h
        return gradient_adjoint(g, f, *spacing, axis=0, edge_order=edge_order)
    return gradient_adjoint(h, f, *_pick_spacing(spacing, nd, item), axis=item,
                            edge_order=edge_order)


def gradient_stacked(f, *spacing, edge_order=1):
    """``np.stack(np.gradient(f, *spacing, edge_order=...))``: the derivatives
    along every axis stacked on a new axis 0 (a 1-d ``f``: its one array)."""
    return np.stack(np.gradient(f, *spacing, edge_order=edge_order))


def gradient_stacked_adjoint(h, f, *spacing, edge_order=1):
    """The adjoint of :func:`gradient_stacked` (linear in ``f``)."""
    nd = np.ndim(f)
    if nd == 1:
        return gradient_adjoint(h, f, *spacing, axis=0, edge_order=edge_order)
    out = None
    for k in range(nd):
        t = gradient_adjoint(h[k], f, *_pick_spacing(spacing, nd, k), axis=k,
                             edge_order=edge_order)
        out = t if out is None else out + t
    return out


# ---------------------------------------------------------------- scipy.fft's real-to-real transforms

__all__ += ["r2r", "r2r_adjoint"]


def _r2r_call(x, kind, type, n, axis, norm, orthogonalize):
    import scipy.fft as sf
    f = getattr(sf, kind)
    kw = {"type": type, "norm": norm}
    if orthogonalize is not None:
        kw["orthogonalize"] = orthogonalize
    if kind.endswith("n"):
        return f(x, s=n, axes=axis, **kw)
    return f(x, n=n, axis=axis, **kw)


def r2r(x, kind, type=2, n=None, axis=-1, norm=None, orthogonalize=None):
    """scipy.fft.<kind>(x, ...) (dct, idct, dst, idst and their n-d forms)."""
    return _r2r_call(x, kind, type, n, axis, norm, orthogonalize)


def r2r_adjoint(g, x, kind, type=2, n=None, axis=-1, norm=None, orthogonalize=None):
    """The transpose of ``r2r(., kind, ...)`` at ``x``'s shape applied to
    ``g``: along each transformed axis the matrix ``M`` SciPy's 1-d transform
    makes of ``eye(len)`` (so every type, norm and length convention is
    SciPy's), applied as ``M^T``; an n-d transform is the 1-d one along
    each axis in turn."""
    x = np.asarray(x)
    g = np.asarray(g)
    if kind.endswith("n"):
        base = kind[:-1]
        axes = tuple(range(x.ndim)) if axis is None else tuple(np.atleast_1d(axis))
        sizes = (None,) * len(axes) if n is None else tuple(np.atleast_1d(n))
        pairs = list(zip(axes, sizes))
    else:
        base = kind
        pairs = [(axis, n)]
    shape = list(x.shape)               # r2r's result: length n along each axis
    for ax, size in pairs:
        if size is not None:
            shape[ax] = int(size)
    out = np.broadcast_to(g, tuple(shape))    # (a cotangent may come as a scalar)
    for ax, size in reversed(pairs):
        m_in = x.shape[ax]
        dt = np.result_type(x.dtype, np.float32) if x.dtype.kind != "c" else x.real.dtype
        M = _r2r_call(np.eye(m_in, dtype=dt), base, type, size, 0, norm, orthogonalize)
        moved = np.moveaxis(out, ax, -1)
        out = np.moveaxis(moved @ M.astype(np.result_type(moved.dtype, M.dtype), copy=False),
                          -1, ax)
    return out.astype(np.result_type(g.dtype, x.dtype), copy=False)


# ---------------------------------------------------------------- scipy.signal's linear filters
#
# Each is linear in the signal along one axis (the coefficients are data):
# y = M x.  lfilter and sosfilt start from rest, so M is lower-triangular
# Toeplitz and M^T g = flip(M flip(g)); filtfilt, sosfiltfilt and
# savgol_filter (edge handling included) have M^T applied as the matrix the
# filter makes of the identity.

__all__ += ["filter_linear", "filter_linear_adjoint"]

_FLIP_ADJOINT = ("lfilter", "sosfilt")


def filter_linear(x, kind, axis=-1, b=None, a=None, sos=None, opts=()):
    """scipy.signal.<kind> of ``x`` along ``axis`` with coefficients b, a or
    sos and the constant options ``opts`` (key, value pairs)."""
    import scipy.signal as ss
    kw = dict(opts)
    if kind in ("lfilter", "filtfilt"):
        return getattr(ss, kind)(b, a, x, axis=axis, **kw)
    if kind in ("sosfilt", "sosfiltfilt"):
        return getattr(ss, kind)(sos, x, axis=axis, **kw)
    return ss.savgol_filter(x, axis=axis, **kw)


def filter_linear_adjoint(g, x, kind, axis=-1, b=None, a=None, sos=None, opts=()):
    """M^T g for ``filter_linear(., kind, ...)`` at ``x``'s shape."""
    x = np.asarray(x)
    g = np.broadcast_to(g, x.shape)
    if kind in _FLIP_ADJOINT:
        return np.flip(filter_linear(np.flip(g, axis), kind, axis, b, a, sos, opts), axis)
    n = x.shape[axis]
    dt = np.result_type(x.dtype, np.float32) if x.dtype.kind != "c" else x.real.dtype
    M = filter_linear(np.eye(n, dtype=dt), kind, 0, b, a, sos, opts)
    moved = np.moveaxis(g, axis, -1)
    return np.moveaxis(moved @ M, -1, axis).astype(np.result_type(g.dtype, x.dtype), copy=False)


# ---------------------------------------------------------------- session 21 (cov8) helpers

def item_ct(g, x, *args):
    """Zeros like ``x`` with ``g`` at the element ``x.item(*args)`` reads."""
    x = np.asarray(x)
    out = np.zeros(x.shape, dtype=np.result_type(x.dtype, np.asarray(g).dtype)
                   if np.iscomplexobj(g) else x.dtype)
    if not args:
        if out.size != 1:
            raise ValueError("can only convert an array of size 1 to a Python scalar")
        out.reshape(-1)[0] = g
    elif len(args) == 1 and not isinstance(args[0], tuple):
        out.reshape(-1)[args[0]] = g
    else:
        out[args[0] if len(args) == 1 else tuple(args)] = g
    return out


def trim_zeros_slice(filt, trim="fb"):
    """The slice of ``filt`` (1-d) np.trim_zeros keeps."""
    f = np.asarray(filt)
    if f.ndim != 1:
        raise ValueError("s2sgrad: np.trim_zeros is differentiated for 1-d arrays only")
    nz = np.flatnonzero(f)
    t = trim.lower()
    if nz.size == 0:
        return slice(0, 0) if ("f" in t or "b" in t) else slice(None)
    start = int(nz[0]) if "f" in t else 0
    stop = int(nz[-1]) + 1 if "b" in t else f.size
    return slice(start, stop)


def poly_jac(r):
    """d np.poly(r) / d r, as an (n, n + 1) array (row j: the derivative in r_j)."""
    r = np.asarray(r)
    if r.ndim != 1:
        raise ValueError("s2sgrad differentiates np.poly of a 1-d array of roots only; for a "
                         "matrix's characteristic polynomial use np.poly(np.linalg.eigvals(A))")
    if np.iscomplexobj(r):
        raise TypeError("s2sgrad differentiates np.poly of real roots only (NumPy returns a "
                        "real result for conjugate pairs)")
    n = r.size
    out = np.zeros((n, n + 1), dtype=np.result_type(r.dtype, np.float32))
    for j in range(n):
        out[j, 1:] = -np.poly(np.delete(r, j))
    return out


def roots_jac(p):
    """d np.roots(p) / d p, as a (len(p), n_roots) array (row k: the derivative
    in p_k): -r_i^(n-k) / p'(r_i)."""
    p = np.asarray(p)
    r = np.roots(p)
    n = p.size - 1
    powers = np.power.outer(r, np.arange(n, -1, -1)).T          # (len(p), n_roots)
    dp = np.polyval(np.polyder(p), r) if n > 0 else np.ones_like(r)
    with np.errstate(divide="ignore", invalid="ignore"):
        return -powers / dp


__all__ += ["item_ct", "trim_zeros_slice", "poly_jac", "roots_jac"]


def histogram2d_counts(x, y, xe, ye):
    """np.histogram2d's counts for the given edges."""
    return np.histogram2d(x, y, bins=(xe, ye))[0]


__all__ += ["histogram2d_counts"]


def simpson_ct(g, y, x=None, dx=1.0, axis=-1):
    """The cotangent of scipy.integrate.simpson's ``y``: ``g`` times the
    weights w_j = simpson(e_j) along ``axis`` (x 1-d or None)."""
    from scipy.integrate import simpson
    y = np.asarray(y)
    axis = axis % y.ndim
    n = y.shape[axis]
    if x is not None and np.ndim(x) != 1:
        raise ValueError("s2sgrad differentiates scipy.integrate.simpson with a 1-d x (or "
                         "none) only")
    w = simpson(np.eye(n), x=x, dx=dx, axis=-1)
    shape = [1] * y.ndim
    shape[axis] = n
    g = np.expand_dims(np.asarray(g), axis)
    out = g * w.reshape(shape)
    return np.broadcast_to(out, y.shape).astype(np.result_type(y.dtype, np.asarray(g).dtype),
                                                 copy=True)


__all__ += ["simpson_ct"]


def trim_mean_slice(a, p, axis=0):
    """The slice of the sorted values scipy.stats.trim_mean averages."""
    nobs = np.shape(a)[axis]
    lowercut = int(p * nobs)
    uppercut = nobs - lowercut
    if lowercut > uppercut:
        raise ValueError("Proportion too big.")
    return slice(lowercut, uppercut)


def require_vector(x, what=""):
    """``x`` itself; refused unless 1-d."""
    if np.ndim(x) != 1:
        raise ValueError(f"s2sgrad differentiates {what} of 1-d arrays only")
    return x


__all__ += ["trim_mean_slice", "require_vector"]


def window_index(x, w=1, axis=0):
    """``i[:, None] + j[None, :]`` for the windows of length ``w`` along ``axis``."""
    n = np.shape(x)[axis]
    if not isinstance(w, (int, np.integer)):
        raise TypeError("sliding_window_view: a window_shape computed at run time must be "
                        "an int or a tuple literal of ints")
    if w < 0 or w > n:
        raise ValueError("window shape cannot be larger than input array shape")
    return np.arange(n - w + 1)[:, None] + np.arange(w)[None, :]


def window_flat_index(x, window_shape):
    """The flat positions of ``x``'s items in NumPy's
    ``sliding_window_view(x, window_shape)`` (``axis=None``), an int array
    of the windows' shape: ``np.take(x.ravel(), index)`` is the windows."""
    pos = np.arange(np.size(x)).reshape(np.shape(x))
    return np.lib.stride_tricks.sliding_window_view(pos, window_shape).copy()


__all__ += ["window_index", "window_flat_index"]


# ---------------------------------------------------------------- ndimage.map_coordinates

def _mc_corners(shape, coords, mode):
    """For each of the 2^d corners: (clipped index tuple, weight, [d weight /
    d c_k], valid); and the 'constant' mode's inside mask."""
    import itertools
    coords = np.asarray(coords, dtype=np.result_type(coords, np.float64))
    d = len(shape)
    lo = np.floor(coords)
    fr = coords - lo
    out = []
    for bits in itertools.product((0, 1), repeat=d):
        idx, valid, ws = [], np.ones(coords.shape[1:], bool), []
        for k, b in enumerate(bits):
            i = (lo[k] + b).astype(np.intp)
            if mode == "nearest":
                ic = np.clip(i, 0, shape[k] - 1)
            else:
                valid &= (i >= 0) & (i < shape[k])
                ic = np.clip(i, 0, shape[k] - 1)
            idx.append(ic)
            ws.append(fr[k] if b else 1.0 - fr[k])
        w = np.prod(ws, axis=0)
        dws = []
        for k, b in enumerate(bits):
            others = np.prod([ws[j] for j in range(d) if j != k], axis=0) if d > 1 else 1.0
            dws.append(others if b else -others)
        out.append((tuple(idx), w, dws, valid))
    inside = np.ones(coords.shape[1:], bool)
    if mode == "constant":
        for k in range(d):
            inside &= (coords[k] >= 0) & (coords[k] <= shape[k] - 1)
    return out, inside


def _mc_check(mode, order):
    if order != 1 or mode not in ("constant", "nearest", "grid-constant"):
        raise ValueError("s2sgrad differentiates scipy.ndimage.map_coordinates with order=1 "
                         "and mode 'constant', 'grid-constant' or 'nearest' only")


def mc_grad(input, coords, order=1, mode="constant", cval=0.0):
    """The spatial gradient of map_coordinates(order=1) at the coordinates,
    (d, ...); NaN where this interpolation does not reproduce SciPy's value
    (a safety net: never a derivative of another function)."""
    _mc_check(mode, order)
    import scipy.ndimage as nd
    a = np.asarray(input)
    coords = np.asarray(coords)
    corners, inside = _mc_corners(a.shape, coords, mode)
    val = 0.0
    grad = [0.0] * a.ndim
    for idx, w, dws, valid in corners:
        v = np.where(valid, a[idx], cval if mode == "grid-constant" else 0.0)
        val = val + w * v
        for k in range(a.ndim):
            grad[k] = grad[k] + dws[k] * v
    if mode == "constant":
        val = np.where(inside, val, cval)
    grad = np.stack([np.where(inside, gk, 0.0) for gk in grad]) if a.ndim else np.zeros(0)
    ref = nd.map_coordinates(a.astype(np.float64), coords.astype(np.float64), order=1,
                             mode=mode, cval=cval)
    bad = ~np.isclose(val, ref, rtol=1e-10, atol=1e-12 * (1 + np.max(np.abs(a), initial=0)))
    grad = np.where(bad, np.nan, grad)
    return grad.astype(np.result_type(a.dtype, coords.dtype, np.float32), copy=False)


def mc_input_ct(g, input, coords, order=1, mode="constant", cval=0.0):
    """The cotangent of map_coordinates(order=1)'s input: g scattered with the
    interpolation weights."""
    _mc_check(mode, order)
    a = np.asarray(input)
    g = np.asarray(g)
    corners, inside = _mc_corners(a.shape, np.asarray(coords), mode)
    out = np.zeros(a.shape, dtype=np.result_type(a.dtype, g.dtype))
    for idx, w, dws, valid in corners:
        np.add.at(out, idx, np.where(valid & inside, g * w, 0.0))
    return out


__all__ += ["mc_grad", "mc_input_ct"]


def quantile_weighted_index(a, q, weights, axis=None, keepdims=False, nan=False,
                            percent=False):
    """For ``np.quantile(a, q, axis, weights=weights, method='inverted_cdf',
    keepdims)`` (``nan``: np.nanquantile, ``percent``: np.percentile): the
    flat index into ``a`` of the element each result is (that method
    interpolates nothing), shaped like the result.  The element is found by
    value in its lane (the first of tied ones, which are equal)."""
    a = np.asarray(a)
    fn = {(False, False): np.quantile, (False, True): np.percentile,
          (True, False): np.nanquantile, (True, True): np.nanpercentile}[(bool(nan),
                                                                          bool(percent))]
    r = fn(a, q, axis=axis, weights=weights, method="inverted_cdf", keepdims=keepdims)
    nd = a.ndim
    if axis is None:
        axes = tuple(range(nd))
    else:
        axes = tuple(sorted(ax % nd for ax in (axis if isinstance(axis, tuple) else (axis,))))
    kept = [i for i in range(nd) if i not in axes]
    qshape = np.shape(q)
    rk = np.reshape(r, qshape + tuple(1 if i in axes else a.shape[i] for i in range(nd)))
    match = (a == rk) | (np.isnan(a) & np.isnan(rk)) if a.dtype.kind in "fc" else (a == rk)
    perm = kept + list(axes)
    qn = len(qshape)
    lanes = tuple(a.shape[i] for i in kept)
    mt = match.transpose(list(range(qn)) + [qn + i for i in perm]).reshape(qshape + lanes + (-1,))
    if not np.all(mt.any(axis=-1)):
        raise ValueError("s2sgrad: np.quantile(..., weights=...): a result is not an element "
                         "of its lane; this quantile is not differentiated")
    first = mt.argmax(axis=-1)
    ids = np.arange(a.size).reshape(a.shape).transpose(perm).reshape(lanes + (-1,))
    ids = np.broadcast_to(ids, first.shape + ids.shape[-1:])
    flat = np.take_along_axis(ids, first[..., None], axis=-1)[..., 0]
    return flat.reshape(np.shape(r))


__all__ += ["quantile_weighted_index"]


def ufunc_cast(x, dtype):
    """An operand of ``np.<ufunc>(..., dtype=dtype)``: cast to the loop's
    dtype as the ufunc casts it (``casting='same_kind'``: a complex operand
    of a float loop raises, as in NumPy, instead of losing its imaginary part)."""
    a = np.asarray(x)
    dt = np.dtype(dtype)
    if not np.can_cast(a.dtype, dt, casting="same_kind"):
        raise TypeError(f"Cannot cast ufunc input from dtype('{a.dtype}') to {dt!r} with "
                        f"casting rule 'same_kind'")
    return a.astype(dt, copy=False)


__all__ += ["ufunc_cast"]


def numpy_result_dtype(name, *operands):
    """The dtype NumPy's ``name`` (``sort_complex``, ``geomspace``) gives for
    operands of these dtypes: NumPy run on tiny arrays of them (its casting
    rules exactly, not a restatement)."""
    dts = [np.result_type(a) for a in operands]
    if name == "sort_complex":
        return np.sort_complex(np.zeros(1, dtype=dts[0])).dtype
    if name == "geomspace":
        return np.geomspace(np.ones((), dtype=dts[0]), np.ones((), dtype=dts[1]), 2).dtype
    if name == "expm_frechet":
        from scipy.linalg import expm_frechet
        return expm_frechet(np.eye(1, dtype=dts[0]), np.eye(1, dtype=dts[1]),
                            compute_expm=False).dtype
    raise ValueError(f"s2sgrad: numpy_result_dtype of {name!r}")


__all__ += ["numpy_result_dtype"]


def _reduceat_segments(indices, n):
    """The input positions each output of ``np.add.reduceat(a, indices)``
    sums (along an axis of length ``n``): ``a[i_k:i_(k+1)]`` where
    ``i_k < i_(k+1)``, else ``a[i_k]`` alone; the last runs to the end."""
    idx = [int(i) for i in np.ravel(indices)]
    for i in idx:
        if not 0 <= i < n:
            raise IndexError(f"np.add.reduceat: index {i} out of bounds for an axis of {n}")
    pos, seg = [], []
    for k, i in enumerate(idx):
        end = idx[k + 1] if k + 1 < len(idx) else n
        stop = end if i < end else i + 1
        pos.extend(range(i, stop))
        seg.extend([k] * (stop - i))
    return np.asarray(pos, dtype=np.intp), np.asarray(seg, dtype=np.intp)


def add_reduceat(array, indices, axis=0, dtype=None):
    """``np.add.reduceat(array, indices, axis, dtype)`` (the value is NumPy's)."""
    return np.add.reduceat(array, indices, axis=axis, dtype=dtype)


def unreduceat(g, array, indices, axis=0, dtype=None):
    """The adjoint of ``np.add.reduceat(array, indices, axis)``: each input
    position receives the cotangent of every output whose segment holds it."""
    _numpy_only("np.add.reduceat", g, array)
    shape = np.shape(array)
    ax = _axis_of(axis, len(shape))
    pos, seg = _reduceat_segments(indices, shape[ax])
    out = np.zeros(shape, dtype=np.result_type(g, array))
    np.add.at(out, (slice(None),) * ax + (pos,), np.take(g, seg, axis=ax))
    return out


__all__ += ["add_reduceat", "unreduceat"]


def reduceat_table(array, indices, axis=0):
    """For ``np.<ufunc>.reduceat(array, indices, axis)``: the positions
    along ``axis`` of each output's segment, one row per output, padded
    with 0 to the longest segment (integers, shape ``(len(indices), L)``)."""
    ax = _axis_of(axis, np.ndim(array))
    pos, seg = _reduceat_segments(indices, np.shape(array)[ax])
    n = len(np.ravel(indices))
    counts = np.bincount(seg, minlength=n)
    table = np.zeros((n, max(int(counts.max()), 1) if n else 1), dtype=np.intp)
    col = np.arange(len(pos)) - np.repeat(np.cumsum(counts) - counts, counts)
    table[seg, col] = pos
    return table


def reduceat_mask(array, indices, axis=0):
    """The entries of :func:`reduceat_table` that are positions (not padding)."""
    ax = _axis_of(axis, np.ndim(array))
    _, seg = _reduceat_segments(indices, np.shape(array)[ax])
    n = len(np.ravel(indices))
    counts = np.bincount(seg, minlength=n)
    width = max(int(counts.max()), 1) if n else 1
    return np.arange(width)[None, :] < counts[:, None]


def reduce_identity(array, ufunc="maximum"):
    """The identity of ``np.<ufunc>`` in ``array``'s dtype (the padding of a
    reduceat's segments): -inf/+inf (the integer extremes), or 1."""
    dt = np.asarray(array).dtype
    if ufunc == "multiply":
        return np.ones((), dtype=dt)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return np.array(info.min if ufunc == "maximum" else info.max, dtype=dt)
    if dt.kind == "b":
        return np.array(ufunc != "maximum")
    return np.array(-np.inf if ufunc == "maximum" else np.inf, dtype=dt)


__all__ += ["reduceat_table", "reduceat_mask", "reduce_identity"]
