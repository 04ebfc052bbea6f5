"""The few helpers generated code calls, besides NumPy itself.

Kept small, plain and dependency-free (NumPy only) so a generated gradient can
be copied out together with this file.  Each helper is also a primitive with
its own derivative rules (see ``primitives/runtime_prims.py``), so generated
code can be differentiated again.
"""
import numpy as np

__all__ = ["scalar_seed", "unbroadcast", "broadcast_like", "unreduce", "index_add", "unstack",
           "matmul_vjp_a", "matmul_vjp_b"]


def scalar_seed(out):
    """The cotangent 1 that starts a gradient; ``grad`` needs a scalar output."""
    if np.size(out) != 1:
        raise TypeError(f"grad requires a scalar output, but the function returned an array "
                        f"of shape {np.shape(out)}; use s2sgrad.vjp for non-scalar outputs")
    return np.ones_like(out)


def unbroadcast(g, x):
    """Sum ``g`` over the axes along which ``x`` was broadcast, giving x's shape.

    This is the adjoint of broadcasting: a value used at many positions
    receives the sum of their sensitivities.
    """
    shape = np.shape(x)
    gshape = np.shape(g)
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and gshape[i + lead] != 1)
    out = np.sum(g, axis=axes, keepdims=True) if axes else g
    return np.reshape(out, shape)


def broadcast_like(t, x):
    """Broadcast ``t`` to the shape of ``x`` (the adjoint of :func:`unbroadcast`)."""
    shape = np.shape(x)
    if np.shape(t) == shape:
        return t
    return np.broadcast_to(t, shape)


def unreduce(g, x, axis=None, keepdims=False):
    """Put back the axes a reduction over ``axis`` removed, then broadcast to x's shape."""
    shape = np.shape(x)
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, shape)


def _is_advanced(idx):
    items = idx if isinstance(idx, tuple) else (idx,)
    for it in items:
        if isinstance(it, (list, np.ndarray)) and np.asarray(it).dtype != bool:
            return True
    return False


def index_add(g, x, idx):
    """A zero array shaped like ``x`` with ``g`` added at ``x[idx]``.

    The adjoint of indexing.  Repeated integer indices accumulate (the same
    element read twice receives both sensitivities), hence ``np.add.at`` for
    integer-array indices; basic slices and boolean masks cannot repeat, so
    plain assignment is used for them (much faster).
    """
    out = np.zeros(np.shape(x), dtype=np.result_type(g, x))
    if _is_advanced(idx):
        np.add.at(out, idx, g)
    else:
        out[idx] = g
    return out


def unstack(g, axis=0):
    """Split ``g`` along ``axis`` into a list of arrays (the adjoint of ``np.stack``)."""
    g = np.asarray(g)
    return [np.take(g, i, axis=axis) for i in range(g.shape[axis])]


def matmul_vjp_a(g, a, b):
    """Cotangent of ``a`` in ``a @ b`` given the output cotangent ``g``.

    ``g @ b.T`` for matrices; NumPy's promotion of 1-d operands is undone.
    """
    a_nd, b_nd = np.ndim(a), np.ndim(b)
    if b_nd == 1:
        if a_nd == 1:
            return g * b
        return unbroadcast(np.multiply(np.expand_dims(g, -1), b), a)
    if a_nd == 1:
        return unbroadcast(np.matmul(b, np.expand_dims(g, -1))[..., 0], a)
    return unbroadcast(np.matmul(g, np.swapaxes(b, -1, -2)), a)


def matmul_vjp_b(g, a, b):
    """Cotangent of ``b`` in ``a @ b`` given the output cotangent ``g``.

    ``a.T @ g`` for matrices; NumPy's promotion of 1-d operands is undone.
    """
    a_nd, b_nd = np.ndim(a), np.ndim(b)
    if a_nd == 1:
        if b_nd == 1:
            return g * a
        return unbroadcast(np.multiply(np.expand_dims(a, -1), np.expand_dims(g, -2)), b)
    if b_nd == 1:
        return unbroadcast(np.matmul(np.swapaxes(a, -1, -2), np.expand_dims(g, -1))[..., 0], b)
    return unbroadcast(np.matmul(np.swapaxes(a, -1, -2), g), b)
