"""Run-time helpers of *batched* generated code (see :mod:`s2sgrad.batching`).

A batched value carries one extra leading axis, the batch axis, in front of
the shape the unbatched program would give it: ``(B,) + shape``.  Unbatched
values (residuals of the primal pass, constants) have their ordinary shape.
The generated code is shape-polymorphic (ranks are not known when it is
compiled), so the few operations whose batched form depends on ranks go
through these helpers; generated code calls them as ``batch.<name>(...)``.

NumPy only, like :mod:`s2sgrad.runtime`.  ``per_example`` is the one helper
with a Python loop (over the batch): it is used only for the rare operations
that have no vectorised batch rule (``np.inner``, ``np.tensordot``, ``solve``,
sorting, ...), and for rank combinations of the matmul family that the
vectorised paths do not cover.
"""
from __future__ import annotations

import numpy as np

from . import runtime

__all__ = ["lift", "expand", "first", "all_axes", "unbroadcast", "broadcast_like", "unreduce",
           "reshape", "ravel", "transpose", "squeeze", "broadcast_to", "cumsum",
           "reverse_cumsum", "astype", "getitem", "index_add", "setitem", "matmul",
           "matmul_vjp_a", "matmul_vjp_b", "dot", "inner", "outer", "tensordot", "solve", "per_example", "per_example_n"]


def lift(a, b, b_batched=False):
    """Batched ``a`` with length-1 axes inserted after the batch axis, so that
    NumPy's right-aligned broadcasting against ``b`` (batched or not) keeps
    the batch axis first: ``a`` gets at least ``ndim(b) + 1`` axes (``ndim(b)``
    if ``b`` is batched)."""
    need = np.ndim(b) + (0 if b_batched else 1)
    a = np.asarray(a)
    if a.ndim >= need:
        return a
    return a.reshape(a.shape[:1] + (1,) * (need - a.ndim) + a.shape[1:])


def _lift_to(a, ndim):
    """Batched ``a`` padded after the batch axis to ``ndim`` axes."""
    if a.ndim >= ndim:
        return a
    return a.reshape(a.shape[:1] + (1,) * (ndim - a.ndim) + a.shape[1:])


def expand(x, like):
    """Unbatched ``x`` repeated along a new batch axis as long as ``like``'s
    (a broadcast view, no copy)."""
    x = np.asarray(x)
    return np.broadcast_to(x, np.shape(like)[:1] + x.shape)


def first(x):
    """Batch element 0: a value with the unbatched shape and dtype, for
    operands that only supply a shape (``unbroadcast(g, x)``'s ``x``)."""
    return x[0]


def all_axes(x):
    """All axes of batched ``x`` but the batch axis (a reduction's ``axis=None``)."""
    return tuple(range(1, np.ndim(x)))


def unbroadcast(g, x):
    """Batched :func:`s2sgrad.runtime.unbroadcast`: ``g`` (batched) summed down
    to ``(B,) + x.shape``."""
    g = np.asarray(g)
    shape = np.shape(x)
    gshape = g.shape[1:]
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    if lead < 0:
        return np.broadcast_to(_lift_to(g, len(shape) + 1), g.shape[:1] + shape)
    axes = tuple(range(1, 1 + lead)) + tuple(
        1 + lead + i for i, n in enumerate(shape) if n == 1 and gshape[lead + i] != 1)
    out = np.sum(g, axis=axes, keepdims=True) if axes else g
    return np.reshape(out, g.shape[:1] + shape)


def broadcast_like(t, x):
    """Batched :func:`s2sgrad.runtime.broadcast_like`: ``(B,) + x.shape``."""
    t = np.asarray(t)
    shape = np.shape(x)
    if t.shape[1:] == shape:
        return t
    return np.broadcast_to(_lift_to(t, len(shape) + 1), t.shape[:1] + shape)


def unreduce(g, x, axis=None, keepdims=False):
    """Batched :func:`s2sgrad.runtime.unreduce`."""
    g = np.asarray(g)
    shape = np.shape(x)
    if not keepdims:
        if axis is None:
            g = g.reshape(g.shape[:1] + (1,) * len(shape))
        else:
            axes = axis if isinstance(axis, tuple) else (axis,)
            g = np.expand_dims(g, tuple(a + 1 if a >= 0 else a for a in axes))
    return np.broadcast_to(_lift_to(g, len(shape) + 1), g.shape[:1] + shape)


def reshape(a, shape):
    """``np.reshape`` of each batch element."""
    a = np.asarray(a)
    shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
    return np.reshape(a, a.shape[:1] + tuple(int(s) for s in shape))


def ravel(a):
    a = np.asarray(a)
    return a.reshape(a.shape[0], -1)


def transpose(a, axes=None):
    a = np.asarray(a)
    n = a.ndim - 1
    if axes is None:
        return np.transpose(a, (0,) + tuple(range(n, 0, -1)))
    return np.transpose(a, (0,) + tuple(int(i) % n + 1 for i in axes))


def squeeze(a, axis=None):
    a = np.asarray(a)
    if axis is None:
        axis = tuple(i for i in range(1, a.ndim) if a.shape[i] == 1)
        return np.squeeze(a, axis=axis)
    axes = axis if isinstance(axis, tuple) else (axis,)
    return np.squeeze(a, axis=tuple(i + 1 if i >= 0 else i for i in axes))


def broadcast_to(a, shape):
    a = np.asarray(a)
    shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
    return np.broadcast_to(_lift_to(a, len(shape) + 1), a.shape[:1] + shape)


def cumsum(a, dtype=None):
    """``np.cumsum(a)`` (flattening) of each batch element."""
    a = np.asarray(a)
    return np.cumsum(a.reshape(a.shape[0], -1), axis=1, dtype=dtype)


def reverse_cumsum(g, x, axis=None):
    """Batched :func:`s2sgrad.runtime.reverse_cumsum`."""
    g = np.asarray(g)
    if axis is None:
        flat = g.reshape(g.shape[0], -1)[:, ::-1]
        return np.reshape(np.cumsum(flat, axis=1)[:, ::-1], g.shape[:1] + np.shape(x))
    ax = axis + 1 if axis >= 0 else axis
    return np.flip(np.cumsum(np.flip(g, ax), axis=ax), ax)


def astype(x, dtype):
    """``float(x)`` / ``np.float32(x)`` of each batch element."""
    return np.asarray(x, dtype=dtype)


# ---------------------------------------------------------------- indexing


def _is_adv(it):
    return isinstance(it, (list, np.ndarray)) or (
        isinstance(it, (int, np.integer)) and not isinstance(it, bool))


def _batched_index(idx):
    """``idx`` behind a leading full slice, or None when that would move
    NumPy's advanced-index axes (advanced indices separated by a slice)."""
    items = idx if isinstance(idx, tuple) else (idx,)
    adv = [i for i, it in enumerate(items) if _is_adv(it)]
    if any(isinstance(it, (list, np.ndarray)) for it in items) and adv and \
            adv[-1] - adv[0] + 1 != len(adv):
        return None
    return (slice(None),) + items


def getitem(x, idx):
    bidx = _batched_index(idx)
    if bidx is None:
        return np.stack([np.asarray(xi)[idx] for xi in x])
    return np.asarray(x)[bidx]


def index_add(g, x, idx):
    """Batched :func:`s2sgrad.runtime.index_add` (``g`` batched, ``x`` not)."""
    g = np.asarray(g)
    bidx = _batched_index(idx)
    if bidx is None:
        return np.stack([runtime.index_add(gi, x, idx) for gi in g])
    out = np.zeros(g.shape[:1] + np.shape(x), dtype=np.result_type(g, x))
    target = out[bidx].ndim
    g = _lift_to(g, target)
    if runtime._is_advanced(idx):
        np.add.at(out, bidx, g)
    else:
        out[bidx] = g
    return out


def setitem(y, v, idx, y_batched, v_batched, like):
    """``y[idx] = v`` on a copy, with ``y`` and/or ``v`` batched (``like``: a
    batched value giving the batch length)."""
    y = np.asarray(y)
    if y_batched:
        out = np.array(y, dtype=np.result_type(y, v))
    else:
        out = np.array(np.broadcast_to(y, np.shape(like)[:1] + y.shape),
                       dtype=np.result_type(y, v))
    bidx = _batched_index(idx)
    if bidx is None:
        for i in range(out.shape[0]):
            out[i][idx] = v[i] if v_batched else v
        return out
    if v_batched:
        v = _lift_to(np.asarray(v), out[bidx].ndim)
    out[bidx] = v
    return out


# ---------------------------------------------------------------- products


def _loop(fn, flags, args, kwargs=None, multi=False):
    n = next(np.shape(a)[0] for a, f in zip(args, flags) if f)
    kwargs = kwargs or {}
    outs = [fn(*[a[i] if f else a for a, f in zip(args, flags)], **kwargs) for i in range(n)]
    if multi:
        return tuple(np.stack(o) for o in zip(*outs))
    return np.stack(outs)


def matmul(a, b, a_batched, b_batched):
    """``a @ b`` for each batch element (either or both operands batched)."""
    a, b = np.asarray(a), np.asarray(b)
    a_nd, b_nd = a.ndim - a_batched, b.ndim - b_batched
    if a_batched and not b_batched:
        if b_nd == 2 and a_nd >= 1:          # one big product: (B*n, k) @ (k, m)
            k = a.shape[-1]
            return (a.reshape(-1, k) @ b).reshape(a.shape[:-1] + b.shape[-1:])
        if b_nd == 1 and a_nd >= 1:
            return a @ b
    if b_batched and not a_batched:
        if b_nd == 1 and a_nd == 2:
            return b @ a.T
        if b_nd == 1 and a_nd == 1:
            return b @ a
        if b_nd == 2 and a_nd == 2:
            return np.moveaxis(np.tensordot(a, b, axes=(1, 1)), 0, 1)
        if b_nd == 2 and a_nd == 1:
            return np.tensordot(a, b, axes=(0, 1))
    if a_nd < 1 or b_nd < 1:
        raise ValueError("matmul: input operand does not have enough dimensions")
    # general: promote 1-d operands, align the stack axes behind the batch axis
    if a_nd == 1:
        a = np.expand_dims(a, -2)
    if b_nd == 1:
        b = np.expand_dims(b, -1)
    r = max(a.ndim - a_batched, b.ndim - b_batched)
    if a_batched:
        a = _lift_to(a, r + 1)
    if b_batched:
        b = _lift_to(b, r + 1)
    out = a @ b
    if b_nd == 1:
        out = out[..., 0]
        if a_nd == 1:
            out = out[..., 0]
    elif a_nd == 1:
        out = out[..., 0, :]
    return out


def _col(g, g_batched):
    """A per-example scalar ``g`` as a column that broadcasts against (B, k)."""
    g = np.asarray(g)
    return g.reshape(g.shape[:1] + (1,)) if g_batched else g


def matmul_vjp_a(g, a, b, g_batched, b_batched):
    """Batched :func:`s2sgrad.runtime.matmul_vjp_a` (``a`` unbatched: it only
    supplies a shape)."""
    g, b = np.asarray(g), np.asarray(b)
    a_nd, b_nd, g_nd = np.ndim(a), b.ndim - b_batched, g.ndim - g_batched
    if a_nd == 2 and b_nd == 2 and g_nd == 2:
        return matmul(g, np.swapaxes(b, -1, -2), g_batched, b_batched)
    if a_nd == 2 and b_nd == 1 and g_nd == 1:
        return np.expand_dims(g, -1) * np.expand_dims(b, -2)
    if a_nd == 1 and b_nd == 1:
        return _col(g, g_batched) * b
    if a_nd == 1 and b_nd == 2 and g_nd == 1:
        return matmul(b, g, b_batched, g_batched)
    return _loop(lambda g_, b_: runtime.matmul_vjp_a(g_, a, b_), (g_batched, b_batched),
                 (g, b))


def matmul_vjp_b(g, a, b, g_batched, a_batched):
    """Batched :func:`s2sgrad.runtime.matmul_vjp_b` (``b`` unbatched: it only
    supplies a shape)."""
    g, a = np.asarray(g), np.asarray(a)
    b_nd, a_nd, g_nd = np.ndim(b), a.ndim - a_batched, g.ndim - g_batched
    if a_nd == 2 and g_nd == b_nd and b_nd in (1, 2):
        return matmul(np.swapaxes(a, -1, -2), g, a_batched, g_batched)
    if a_nd == 1 and b_nd == 1:
        return _col(g, g_batched) * a
    if a_nd == 1 and b_nd == 2 and g_nd == 1:
        return np.expand_dims(a, -1) * np.expand_dims(g, -2)
    return _loop(lambda g_, a_: runtime.matmul_vjp_b(g_, a_, b), (g_batched, a_batched),
                 (g, a))


def dot(a, b, a_batched, b_batched):
    """``np.dot(a, b)`` for each batch element."""
    a, b = np.asarray(a), np.asarray(b)
    a_nd, b_nd = a.ndim - a_batched, b.ndim - b_batched
    if a_nd == 0 or b_nd == 0:
        if a_batched:
            a = _lift_to(a, b.ndim + (0 if b_batched else 1))
        if b_batched:
            b = _lift_to(b, a.ndim + (0 if a_batched else 1))
        return a * b
    if a_nd <= 2 and b_nd <= 2:
        return matmul(a, b, a_batched, b_batched)
    return _loop(np.dot, (a_batched, b_batched), (a, b))


def inner(a, b, a_batched, b_batched):
    """``np.inner(a, b)`` (a sum over the last axes) for each batch element."""
    a, b = np.asarray(a), np.asarray(b)
    a_nd, b_nd = a.ndim - a_batched, b.ndim - b_batched
    if a_nd == 0 or b_nd == 0:
        return dot(a, b, a_batched, b_batched)
    if not b_batched:
        return np.inner(a, b)                       # (B, a.., b..)
    if not a_batched:
        return np.moveaxis(np.inner(a, b), a_nd - 1, 0)
    k = a.shape[-1]
    out = np.einsum("zak,zck->zac", a.reshape(a.shape[0], -1, k), b.reshape(b.shape[0], -1, k))
    return out.reshape(a.shape[:-1] + b.shape[1:-1])


def tensordot(a, b, axes, a_batched, b_batched):
    """``np.tensordot(a, b, axes)`` for each batch element (one operand batched)."""
    a, b = np.asarray(a), np.asarray(b)
    if a_batched and b_batched:
        return _loop(lambda x, y: np.tensordot(x, y, axes), (True, True), (a, b))
    a_nd, b_nd = a.ndim - a_batched, b.ndim - b_batched
    a_ax, b_ax = runtime._tensordot_axes(axes, a_nd, b_nd)
    if a_batched:
        return np.tensordot(a, b, axes=([i + 1 for i in a_ax], b_ax))
    out = np.tensordot(a, b, axes=(a_ax, [i + 1 for i in b_ax]))
    return np.moveaxis(out, a_nd - len(a_ax), 0)     # b's batch axis follows a's free axes


def solve(a, b, b_batched):
    """``np.linalg.solve(a, b)`` for each batch element of ``b`` (``a`` unbatched)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim == 2 and b.ndim - b_batched == 1:          # vectors: columns of one solve
        return np.linalg.solve(a, b.T).T
    if a.ndim == 2 and b.ndim - b_batched == 2:          # matrices: a stack of solves
        return np.linalg.solve(a, b)
    return _loop(lambda y: np.linalg.solve(a, y), (True,), (b,))


def outer(a, b, a_batched, b_batched):
    """``np.outer(a, b)`` (which flattens its operands) for each batch element."""
    a, b = np.asarray(a), np.asarray(b)
    a = a.reshape(a.shape[0], -1) if a_batched else a.reshape(1, -1)
    b = b.reshape(b.shape[0], -1) if b_batched else b.reshape(1, -1)
    return a[:, :, None] * b[:, None, :]


def per_example(name, flags, *args, **kwargs):
    """Primitive ``name`` applied to each batch element (operands with a true
    flag are batched), results stacked along a new batch axis.  The fallback
    for operations without a vectorised batch rule: correct, but a loop."""
    return _per_example(name, flags, args, kwargs, False)


def per_example_n(name, flags, *args, **kwargs):
    """:func:`per_example` for a primitive with several results (a tuple of
    stacked results)."""
    return _per_example(name, flags, args, kwargs, True)


def _per_example(name, flags, args, kwargs, multi):
    from .primitives import core
    prim = core.REGISTRY[name]
    fn = prim.impl
    if prim.seq_arg:
        return _loop(lambda *xs: fn(list(xs), **kwargs), flags, args, multi=multi)
    return _loop(fn, flags, args, kwargs, multi=multi)
