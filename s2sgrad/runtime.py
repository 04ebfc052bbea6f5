"""The few helpers generated code calls, besides NumPy itself.

Kept small, plain and dependency-free (NumPy only) so a generated gradient can
be copied out together with this file.  Each helper is also a primitive with
its own derivative rules (see ``primitives/runtime_prims.py``), so generated
code can be differentiated again.

Other array types.  The helpers call only NumPy functions that dispatch
through ``__array_function__``/``__array_ufunc__`` (or array methods and
indexing), so on a dask or CuPy array they compute with that array's own
implementation and return its kind; nothing here calls ``np.asarray`` on an
array argument.  Where NumPy has a faster NumPy-only form (``np.add.at``,
writes into a fresh buffer, ``np.split``) it is chosen by type at run time
for ``numpy.ndarray`` and a dispatching form is used for other types; where
no dispatching form exists the helper raises :class:`ArrayKindError` (the
API adds the user's file and line).  dask arrays whose shape is not known
(NaN chunk sizes, after boolean-mask indexing) are handled without
``reshape``/``broadcast_to`` to that shape, which dask cannot do.
"""
import numpy as np

__all__ = ["scalar_seed", "unbroadcast", "broadcast_like", "unreduce", "index_add", "unstack",
           "matmul_vjp_a", "matmul_vjp_b", "reverse_cumsum", "unconcatenate", "unhstack",
           "unvstack", "cast_derivative", "size_of", "ArrayKindError"]


class ArrayKindError(TypeError):
    """A helper has no form for this array type (e.g. a scatter-add with
    repeated indices into a dask array); raised instead of converting the
    array to NumPy."""


def _unknown(shape) -> bool:
    """Does ``shape`` have an unknown (NaN) dimension (a dask array after
    boolean-mask indexing)?"""
    return any(n != n for n in shape)


def _numpy_like(x) -> bool:
    return type(x) is np.ndarray or not hasattr(x, "__array_function__") or \
        isinstance(x, (np.ndarray, np.generic))


def size_of(x, axis=None):
    """``np.size(x, axis)`` for any array type: the ``size``/``shape``
    attributes (``np.size`` is not implemented by dask, whose fallback would
    compute ``x``), and for a dask array of unknown shape a lazy count."""
    if _numpy_like(x):
        return np.size(x, axis)
    n = x.size if axis is None else x.shape[axis]
    if n == n:
        return n
    ones = np.ones_like(x, dtype=np.intp)      # NaN: count lazily
    return np.sum(ones) if axis is None else np.max(np.sum(ones, axis=axis))


def scalar_seed(out):
    """The cotangent 1 that starts a gradient; ``grad`` needs a scalar output."""
    if getattr(out, "size", None) != 1 and np.ndim(out) != 0:
        raise TypeError(f"grad requires a scalar output, but the function returned an array "
                        f"of shape {np.shape(out)}; use s2sgrad.vjp for non-scalar outputs")
    return np.ones_like(out)


def unbroadcast(g, x):
    """Sum ``g`` over the axes along which ``x`` was broadcast, giving x's shape.

    This is the adjoint of broadcasting: a value used at many positions
    receives the sum of their sensitivities.
    """
    try:                       # fast path: arrays of equal shape (attribute access only)
        if g.shape == x.shape:
            return g
    except AttributeError:
        pass
    shape = np.shape(x)
    gshape = np.shape(g)
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    if lead == 1 and _same_shape(gshape[1:], shape):
        return g.sum(axis=0)           # a bias added to every row: the common case
    if lead == len(gshape) and type(g) is np.ndarray:
        return g.sum()                 # a scalar broadcast everywhere
    ones = tuple(i + lead for i, n in enumerate(shape) if n == 1 and gshape[i + lead] != 1)
    axes = tuple(range(lead)) + ones
    if _unknown(gshape) or _unknown(shape):
        # dask cannot reshape to an unknown shape: drop the leading axes by a
        # sum, keep the others' places by keepdims
        if not axes and _same_shape(gshape, shape):
            return g
        if ones:
            g = np.sum(g, axis=ones, keepdims=True)
        return np.sum(g, axis=tuple(range(lead))) if lead else g
    out = np.sum(g, axis=axes, keepdims=True) if axes else g
    return np.reshape(out, shape)


def _same_shape(a, b) -> bool:
    """Shapes equal, an unknown (NaN) dimension matching an unknown one."""
    return len(a) == len(b) and all(m == n or (m != m and n != n) for m, n in zip(a, b))


def _as_array_like(g, x):
    """A Python scalar cotangent takes x's float dtype (float32 stays float32)."""
    if not hasattr(g, "dtype"):
        g = np.asarray(g, dtype=np.result_type(g, x))
    return g


def broadcast_like(t, x):
    """Broadcast ``t`` to the shape of ``x`` (the adjoint of :func:`unbroadcast`)."""
    t = _as_array_like(t, x)
    shape = np.shape(x)
    if np.shape(t) == shape:
        return t
    if _unknown(shape):
        return _broadcast_unknown(t, x)
    return np.broadcast_to(t, shape)


def _broadcast_unknown(t, x):
    """``t`` broadcast to the shape of ``x``, which has unknown (NaN)
    dimensions: ``np.broadcast_to`` needs the shape, an elementwise sum with
    zeros shaped like ``x`` does not."""
    return t + np.zeros_like(x, dtype=np.result_type(t))


def unreduce(g, x, axis=None, keepdims=False):
    """Put back the axes a reduction over ``axis`` removed, then broadcast to x's shape."""
    shape = np.shape(x)
    g = _as_array_like(g, x)
    if axis is not None and not keepdims:
        if type(axis) is int and g.ndim == len(shape) - 1:
            # put the reduced axis back as length 1 (cheaper than np.expand_dims)
            a = axis % len(shape)
            if _unknown(g.shape):
                g = g[(slice(None),) * a + (None,)]   # dask: no reshape to NaN shapes
            else:
                g = g.reshape(g.shape[:a] + (1,) + g.shape[a:])
        elif _unknown(g.shape):
            axes = sorted(a % len(shape) for a in (axis if isinstance(axis, tuple) else (axis,)))
            g = g[tuple(None if i in axes else slice(None) for i in range(len(shape)))]
        else:
            g = np.expand_dims(g, axis)
    if _unknown(shape):
        return _broadcast_unknown(g, x)
    return np.broadcast_to(g, shape)


def _is_advanced(idx):
    items = idx if isinstance(idx, tuple) else (idx,)
    for it in items:
        if isinstance(it, (list, np.ndarray)) and np.asarray(it).dtype != bool:
            return True
        if not _numpy_like(it) and getattr(it, "dtype", np.dtype(bool)).kind != "b":
            return True          # an index array of another type (dask, CuPy)
    return False


def index_add(g, x, idx):
    """A zero array shaped like ``x`` with ``g`` added at ``x[idx]``.

    The adjoint of indexing.  Repeated integer indices accumulate (the same
    element read twice receives both sensitivities), hence ``np.add.at`` for
    integer-array indices; basic slices and boolean masks cannot repeat, so
    plain assignment is used for them (much faster).
    """
    dtype = np.result_type(g, x)
    if _numpy_like(g):
        out = np.zeros(np.shape(x), dtype=dtype)
        if _is_advanced(idx):
            np.add.at(out, idx, g)
        else:
            out[idx] = g
        return out
    # another array type (dask, CuPy): zeros of g's kind, written by the
    # type's own __setitem__; np.add.at has no dispatching form
    if _unknown(np.shape(g)):
        raise ArrayKindError(
            f"the adjoint of x[mask] with a boolean mask writes a value of unknown size "
            f"(an array of type {type(g).__name__} with unknown chunk sizes) back into x, "
            f"which that type cannot do; write np.where(mask, expr, 0) instead of selecting "
            f"x[mask] (e.g. np.sum(np.where(mask, x, 0)) / np.sum(mask) for a masked mean)")
    out = np.zeros_like(x, dtype=dtype) if not _numpy_like(x) else \
        np.zeros(np.shape(x), dtype=dtype, like=g)
    if _is_advanced(idx):
        if not _distinct_indices(idx):
            raise ArrayKindError(
                f"the adjoint of indexing with integer arrays that may repeat an index needs "
                f"np.add.at, which arrays of type {type(g).__name__} do not have; index with "
                f"slices or boolean masks, or with integer indices without repeats (a NumPy "
                f"array)")
    out[idx] = g
    return out


def _distinct_indices(idx) -> bool:
    """A single NumPy integer array (or a tuple of one) without repeats:
    ``out[idx] = g`` then writes each element once, as ``np.add.at`` would."""
    items = idx if isinstance(idx, tuple) else (idx,)
    arrays = [it for it in items if isinstance(it, (list, np.ndarray))]
    if len(arrays) != 1 or any(isinstance(it, (list, np.ndarray)) or hasattr(it, "shape")
                               for it in items if it is not arrays[0]):
        return False
    a = np.asarray(arrays[0])
    return a.dtype.kind in "iu" and np.unique(a).size == a.size


def unstack(g, axis=0):
    """Split ``g`` along ``axis`` into a list of arrays (the adjoint of ``np.stack``)."""
    if not hasattr(g, "shape"):
        g = np.asarray(g)
    lead = (slice(None),) * (axis % g.ndim)
    return [g[lead + (i,)] for i in range(g.shape[axis])]


def matmul_vjp_a(g, a, b):
    """Cotangent of ``a`` in ``a @ b`` given the output cotangent ``g``.

    ``g @ b.T`` for matrices; NumPy's promotion of 1-d operands is undone.
    """
    try:                       # arrays: attribute reads only
        a_nd, b_nd, g_nd = a.ndim, b.ndim, g.ndim
    except AttributeError:
        a_nd, b_nd, g_nd = np.ndim(a), np.ndim(b), np.ndim(g)
    if a_nd == 2 and b_nd == 2 and g_nd == 2:
        return g @ b.T
    if a_nd == 2 and b_nd == 1 and g_nd == 1:
        return np.outer(g, b)
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
    try:
        a_nd, b_nd, g_nd = a.ndim, b.ndim, g.ndim
    except AttributeError:
        a_nd, b_nd, g_nd = np.ndim(a), np.ndim(b), np.ndim(g)
    if a_nd == 2 and g_nd == b_nd and b_nd in (1, 2):
        return a.T @ g
    if a_nd == 1:
        if b_nd == 1:
            return g * a
        return unbroadcast(np.multiply(np.expand_dims(a, -1), np.expand_dims(g, -2)), b)
    if b_nd == 1:
        return unbroadcast(np.matmul(np.swapaxes(a, -1, -2), np.expand_dims(g, -1))[..., 0], b)
    return unbroadcast(np.matmul(np.swapaxes(a, -1, -2), g), b)


def reverse_cumsum(g, x, axis=None):
    """Sum from each position to the end along ``axis`` (the adjoint of
    ``np.cumsum(x, axis)``).  For ``axis=None`` ``g`` is the flat cumsum's
    cotangent and the result is reshaped to ``x``'s shape."""
    if axis is None:
        return np.reshape(np.cumsum(np.ravel(g)[::-1])[::-1], np.shape(x))
    return np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis)


def _split_like(g, xs, axis, shapes):
    """Cut ``g`` along ``axis`` into pieces of ``shapes[i][axis]``, reshaped like ``xs``."""
    bounds = [int(b) for b in np.cumsum([s[axis] for s in shapes])]
    if _numpy_like(g):
        pieces = np.split(g, bounds[:-1], axis=axis)
    else:                 # np.split has no dispatching form in dask: slices
        lead = (slice(None),) * (axis % np.ndim(g))
        pieces = [g[lead + (slice(a, b),)] for a, b in zip([0] + bounds[:-1], bounds)]
    return [p if np.shape(p) == np.shape(x) else np.reshape(p, np.shape(x))
            for p, x in zip(pieces, xs)]


def unconcatenate(g, *xs, axis=0):
    """The pieces of ``g`` that came from each of ``xs`` in
    ``np.concatenate(xs, axis)`` (the adjoint of concatenate)."""
    if axis is None:
        return _split_like(np.ravel(g), xs, 0, [(np.size(x),) for x in xs])
    return _split_like(g, xs, axis, [np.shape(x) for x in xs])


def unhstack(g, *xs):
    """The adjoint of ``np.hstack(xs)``: 1-d (and 0-d) operands were joined
    along axis 0, others along axis 1."""
    shapes = [np.shape(np.atleast_1d(x)) for x in xs]
    return _split_like(g, xs, 0 if len(shapes[0]) == 1 else 1, shapes)


def unvstack(g, *xs):
    """The adjoint of ``np.vstack(xs)``: operands were made at least 2-d
    (a 1-d ``x`` is one row), then joined along axis 0."""
    return _split_like(g, xs, 0, [np.shape(np.atleast_2d(x)) for x in xs])


def cast_derivative(t, dtype, to):
    """A derivative through ``astype(dtype)`` whose ``dtype`` is only known at
    run time: ``t`` cast to ``to`` if ``dtype`` is a float (or complex) type,
    else zeros (a cast to an integer or bool type is piecewise constant)."""
    if np.issubdtype(np.dtype(dtype), np.inexact):
        return t.astype(to) if hasattr(t, "astype") else np.asarray(t, dtype=to)
    return np.zeros_like(t, dtype=to) if hasattr(t, "shape") else \
        np.zeros(np.shape(t), dtype=to)


# ---------------------------------------------------------------- products and linear algebra
#
# The cotangents of the bilinear products whose rank conventions NumPy
# decides at run time (dot, inner, outer, tensordot), the adjoints of
# trace/diag, and the permutations behind sort.  Each is a primitive with
# its own rules (primitives/linalg.py, primitives/creation.py).

__all__ += ["dot_vjp_a", "dot_vjp_b", "inner_vjp_a", "inner_vjp_b", "outer_vjp_a",
            "outer_vjp_b", "tensordot_vjp_a", "tensordot_vjp_b", "trace_vjp", "diag_vjp",
            "vector_norm_arg", "unsort", "sort_like"]


def dot_vjp_a(g, a, b):
    """Cotangent of ``a`` in ``np.dot(a, b)`` given the output cotangent ``g``."""
    a_nd, b_nd = np.ndim(a), np.ndim(b)
    if a_nd == 0 or b_nd == 0:
        return unbroadcast(np.multiply(g, b), a)
    if b_nd == 1:
        return np.multiply(np.expand_dims(g, -1), b)
    # out[i.., k.., m] = sum_j a[i.., j] b[k.., j, m]
    g_nd = np.ndim(g)
    g_axes = list(range(g_nd - (b_nd - 1), g_nd))
    return np.tensordot(g, b, axes=(g_axes, list(range(b_nd - 2)) + [b_nd - 1]))


def dot_vjp_b(g, a, b):
    """Cotangent of ``b`` in ``np.dot(a, b)`` given the output cotangent ``g``."""
    a_nd, b_nd = np.ndim(a), np.ndim(b)
    if a_nd == 0 or b_nd == 0:
        return unbroadcast(np.multiply(g, a), b)
    lead = list(range(a_nd - 1))
    t = np.tensordot(a, g, axes=(lead, lead))      # (j, k.., m) or (j,)
    return t if b_nd == 1 else np.moveaxis(t, 0, -2)


def inner_vjp_a(g, a, b):
    """Cotangent of ``a`` in ``np.inner(a, b)`` (a sum over the last axes)."""
    a_nd, b_nd = np.ndim(a), np.ndim(b)
    if a_nd == 0 or b_nd == 0:
        return unbroadcast(np.multiply(g, b), a)
    # out[i.., j..] = sum_k a[i.., k] b[j.., k]
    g_nd = np.ndim(g)
    return np.tensordot(g, b, axes=(list(range(g_nd - (b_nd - 1), g_nd)), list(range(b_nd - 1))))


def inner_vjp_b(g, a, b):
    """Cotangent of ``b`` in ``np.inner(a, b)`` (a sum over the last axes)."""
    a_nd, b_nd = np.ndim(a), np.ndim(b)
    if a_nd == 0 or b_nd == 0:
        return unbroadcast(np.multiply(g, a), b)
    lead = list(range(a_nd - 1))
    return np.tensordot(g, a, axes=(lead, lead))


def outer_vjp_a(g, a, b):
    """Cotangent of ``a`` in ``np.outer(a, b)`` (which flattens its operands)."""
    return np.reshape(np.dot(g, np.ravel(b)), np.shape(a))


def outer_vjp_b(g, a, b):
    """Cotangent of ``b`` in ``np.outer(a, b)`` (which flattens its operands)."""
    return np.reshape(np.dot(np.ravel(a), g), np.shape(b))


def _tensordot_axes(axes, a_nd, b_nd):
    if isinstance(axes, (int, np.integer)):
        return list(range(a_nd - axes, a_nd)), list(range(axes))
    a_ax, b_ax = axes
    a_ax = [a_ax] if isinstance(a_ax, (int, np.integer)) else list(a_ax)
    b_ax = [b_ax] if isinstance(b_ax, (int, np.integer)) else list(b_ax)
    return [int(i) % a_nd for i in a_ax], [int(i) % b_nd for i in b_ax]


def tensordot_vjp_a(g, a, b, axes=2):
    """Cotangent of ``a`` in ``np.tensordot(a, b, axes)``."""
    a_nd, b_nd = np.ndim(a), np.ndim(b)
    a_ax, b_ax = _tensordot_axes(axes, a_nd, b_nd)
    free_a = [i for i in range(a_nd) if i not in a_ax]
    free_b = [i for i in range(b_nd) if i not in b_ax]
    t = np.tensordot(g, b, axes=(list(range(len(free_a), np.ndim(g))), free_b))
    # t's axes, named by the axis of ``a`` they stand for
    names = free_a + [a_ax[b_ax.index(j)] for j in sorted(b_ax)]
    return np.transpose(t, np.argsort(names))


def tensordot_vjp_b(g, a, b, axes=2):
    """Cotangent of ``b`` in ``np.tensordot(a, b, axes)``."""
    a_nd, b_nd = np.ndim(a), np.ndim(b)
    a_ax, b_ax = _tensordot_axes(axes, a_nd, b_nd)
    free_a = [i for i in range(a_nd) if i not in a_ax]
    free_b = [i for i in range(b_nd) if i not in b_ax]
    t = np.tensordot(a, g, axes=(free_a, list(range(len(free_a)))))
    names = [b_ax[a_ax.index(i)] for i in sorted(a_ax)] + free_b
    return np.transpose(t, np.argsort(names))


def trace_vjp(g, a, offset=0, axis1=0, axis2=1):
    """Cotangent of ``a`` in ``np.trace(a, offset, axis1, axis2)``: ``g`` put on
    the traced diagonal, zeros elsewhere."""
    shape = np.shape(a)
    eye = np.eye(shape[axis1], shape[axis2], k=offset, dtype=np.result_type(g, a))
    out = np.multiply(np.expand_dims(g, (-2, -1)), eye)
    return np.moveaxis(out, (-2, -1), (axis1 % len(shape), axis2 % len(shape)))


def diag_vjp(g, v, k=0):
    """Cotangent of ``v`` in ``np.diag(v, k)``: the k-th diagonal of ``g`` when
    ``v`` is 1-d, ``g`` placed on the k-th diagonal of zeros when it is 2-d."""
    if np.ndim(v) == 1:
        return np.diagonal(g, k).copy()
    _numpy_only("np.diag", g, v)
    out = np.zeros(np.shape(v), dtype=np.result_type(g, v))
    n = len(g)
    rows = np.arange(n) + max(-k, 0)
    out[rows, rows + k] = g
    return out


def _numpy_only(what, *arrays):
    """Refuse arrays of other types in a helper that has only a NumPy form."""
    for a in arrays:
        if not _numpy_like(a):
            raise ArrayKindError(f"the derivative of {what} is computed with NumPy-only "
                                 f"operations (in-place writes by a permutation), which "
                                 f"arrays of type {type(a).__name__} do not have")


def vector_norm_arg(x):
    """``x`` itself, checked to be 1-d: ``np.linalg.norm(x, ord)`` without
    ``axis`` is a *matrix* norm for 2-d ``x``, whose derivative s2sgrad's rule
    (written for vector norms) would not give."""
    if np.ndim(x) != 1:
        raise ValueError(f"s2sgrad differentiates np.linalg.norm(x, ord) without axis only "
                         f"for 1-d x (a vector norm), but x has shape {np.shape(x)}; pass "
                         f"axis= for vector norms along an axis, or use ord='fro'")
    return x


def _sort_order(x, axis):
    if axis is None:
        return np.argsort(np.ravel(x), kind="stable")
    return np.argsort(x, axis=axis, kind="stable")


def sort_like(t, x, axis=-1):
    """``t`` permuted the way ``np.sort(x, axis)`` permutes ``x`` (the tangent of sort)."""
    _numpy_only("sort", t, x)
    order = _sort_order(x, axis)
    if axis is None:
        return np.ravel(t)[order]
    return np.take_along_axis(np.asarray(t), order, axis=axis)


def unsort(g, x, axis=-1):
    """The inverse permutation of :func:`sort_like`: each element of ``g`` sent
    back to the position its sorted element came from (the adjoint of sort)."""
    _numpy_only("sort", g, x)
    order = _sort_order(x, axis)
    out = np.zeros(np.shape(x), dtype=np.result_type(g, x))
    if axis is None:
        out.reshape(-1)[order] = np.ravel(g)
    else:
        np.put_along_axis(out, order, g, axis=axis)
    return out


def list_index_add(g, xs, k):
    """Zeros shaped like each element of the list ``xs``, with ``g`` at ``k``
    (the adjoint of reading ``xs[k]``)."""
    out = [np.zeros_like(v, dtype=np.result_type(v, g)) for v in xs]
    out[k] = out[k] + g
    return out


def list_zeros(xs):
    """A list of zeros shaped like the elements of ``xs``."""
    return [np.zeros_like(v, dtype=float) for v in xs]


def list_add(a, b):
    """Element-wise sum of two lists of cotangents."""
    return [x + y for x, y in zip(a, b)]

__all__ += ["list_index_add", "list_zeros", "list_add"]


# np.linalg.solve(a, b) treats b as a (stack of) vector(s) or matrices by its
# rank: NumPy >= 2 when b is 1-d, NumPy 1.x when b.ndim == a.ndim - 1.
_SOLVE_1D_ONLY = np.lib.NumpyVersion(np.__version__) >= "2.0.0"

__all__ += ["rhs_as_matrix", "rhs_from_matrix"]


def _solve_rhs_is_vector(a, b):
    return np.ndim(b) == 1 if _SOLVE_1D_ONLY else np.ndim(b) == np.ndim(a) - 1


def rhs_as_matrix(v, a, b):
    """``v`` (shaped like ``b`` or ``solve(a, b)``) as a stack of matrices:
    a trailing axis of length 1 is added when ``solve`` treats ``b`` as vectors."""
    return np.expand_dims(v, -1) if _solve_rhs_is_vector(a, b) else v


def rhs_from_matrix(v, a, b):
    """The inverse of :func:`rhs_as_matrix`."""
    if not hasattr(v, "shape"):
        v = np.asarray(v)
    return v[..., 0] if _solve_rhs_is_vector(a, b) else v


def stack_steps(xs):
    """The per-step values of a loop as one array (step first), so that the
    hoisted products below stack them once; ``None`` for a loop that did not
    run, the list itself if the steps' shapes differ."""
    if type(xs) is np.ndarray:
        return xs
    if not xs:
        return None
    stacked = _stacked(xs)
    return xs if stacked is None else stacked


def matmul_vjp_a_sum(gs, a, bs):
    """``sum_t matmul_vjp_a(gs[t], a, bs[t])`` as one matrix product.

    The weight cotangent of ``a @ b_t`` accumulated over a loop: stacking the
    per-step factors turns T outer products into one BLAS call.  ``gs`` and
    ``bs`` are lists or arrays stacked by :func:`stack_steps` (step first).
    """
    if gs is None or len(gs) == 0:
        return np.zeros_like(a, dtype=np.result_type(a, float))
    G = gs if type(gs) is np.ndarray else _stacked(gs)
    B = bs if type(bs) is np.ndarray else _stacked(bs)
    if G is not None and B is not None and np.ndim(a) == 2:
        if G.ndim == 2 and B.ndim == 2:           # g_t, b_t vectors: sum of outer products
            return G.T @ B
        if G.ndim == 3 and B.ndim == 3:           # g_t @ b_t.T summed over t
            T, n, k = G.shape
            return G.transpose(1, 0, 2).reshape(n, T * k) @ \
                B.transpose(1, 0, 2).reshape(B.shape[1], T * k).T
    return sum(matmul_vjp_a(g, a, b) for g, b in zip(gs, bs))


def matmul_vjp_b_sum(gs, as_, b):
    """``sum_t matmul_vjp_b(gs[t], as_[t], b)`` as one matrix product."""
    if gs is None or len(gs) == 0:
        return np.zeros_like(b, dtype=np.result_type(b, float))
    G = gs if type(gs) is np.ndarray else _stacked(gs)
    A = as_ if type(as_) is np.ndarray else _stacked(as_)
    if G is not None and A is not None and np.ndim(b) == 2:
        if G.ndim == 2 and A.ndim == 2:
            return A.T @ G
        if G.ndim == 3 and A.ndim == 3:           # a_t.T @ g_t summed over t
            return A.reshape(-1, A.shape[2]).T @ G.reshape(-1, G.shape[2])
    return sum(matmul_vjp_b(g, a, b) for g, a in zip(gs, as_))


def _stacked(xs):
    try:
        return np.stack(xs)
    except ValueError:
        return None


__all__ += ["stack_steps", "matmul_vjp_a_sum", "matmul_vjp_b_sum"]


def unzip(items, n):
    """n lists from a list of n-tuples (the per-iteration factors of a loop)."""
    if not items:
        return [] if n == 1 else tuple([] for _ in range(n))
    if n == 1:              # one value per iteration is pushed as itself, not a 1-tuple
        return list(items)
    return tuple(list(col) for col in zip(*items))


def unbroadcast_sum(gs, x):
    """``sum_t unbroadcast(gs[t], x)``: a loop-invariant value's cotangent
    (``gs`` a list, or an array stacked by :func:`stack_steps`)."""
    if gs is None or len(gs) == 0:
        return np.zeros_like(x, dtype=np.result_type(x, float))
    G = gs if type(gs) is np.ndarray else _stacked(gs)
    if G is None:                 # per-step shapes differ
        return sum(unbroadcast(g, x) for g in gs)
    return unbroadcast(np.sum(G, axis=0), x)


__all__ += ["unzip", "unbroadcast_sum"]


def sigmoid(z):
    """The logistic function 1 / (1 + e^-z), as 0.5 + 0.5 tanh(z / 2): no
    overflow (and no warnings) for any z, exact limits 0 and 1."""
    return 0.5 + 0.5 * np.tanh(0.5 * z)


__all__ += ["sigmoid"]


def stop_gradient(x):
    """``x`` itself; s2sgrad treats its derivative as zero (as JAX's
    ``lax.stop_gradient``).  Useful for a log-sum-exp shift:
    ``z - stop_gradient(np.max(z, axis=1, keepdims=True))`` has the same
    gradient without differentiating the max."""
    return x


__all__ += ["stop_gradient"]


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
            "vdot_vjp_a", "vdot_vjp_b", "cross_vjp_a", "cross_vjp_b", "convolve_vjp_a",
            "convolve_vjp_b", "correlate_vjp_a", "correlate_vjp_b", "cov_rows",
            "cov_rows_adjoint", "cov_normalization", "quantile_tangent", "quantile_adjoint"]


def require_1d(x, what=""):
    """``x`` itself, checked to be 1-d (``what`` needs it so, to know its number
    of results when compiling)."""
    if np.ndim(x) != 1:
        raise ValueError(f"s2sgrad differentiates {what} only for a 1-d array, but this one "
                         f"has shape {np.shape(x)}; pass axis= (an int or a tuple) so the "
                         f"number of results is known when compiling")
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
        np.negative(g[lead + (slice(0, 1),)], out=z[lead + (slice(0, 1),)])
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


def _real_only(name, *xs):
    if any(np.iscomplexobj(x) for x in xs):
        raise ValueError(f"s2sgrad differentiates {name} of real arrays only")


def vdot_vjp_a(g, a, b):
    """Cotangent of ``a`` in ``np.vdot(a, b)`` (real arrays; both are flattened)."""
    _real_only("np.vdot", a, b)
    return np.reshape(np.multiply(g, np.ravel(b)), np.shape(a))


def vdot_vjp_b(g, a, b):
    """Cotangent of ``b`` in ``np.vdot(a, b)`` (real arrays)."""
    _real_only("np.vdot", a, b)
    return np.reshape(np.multiply(g, np.ravel(a)), np.shape(b))


def _cross_axes(axisa, axisb, axisc, axis, a, b):
    if axis is not None:
        axisa = axisb = axisc = axis
    if np.shape(a)[axisa] != 3 or np.shape(b)[axisb] != 3:
        raise ValueError("s2sgrad differentiates np.cross of 3-vectors only (2-vectors are "
                         "deprecated in NumPy 2); pad them with a zero third component")
    _real_only("np.cross", a, b)
    return axisa, axisb, axisc


def cross_vjp_a(g, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cotangent of ``a`` in ``np.cross(a, b, ...)``: ``<g, a x b> = <a, b x g>``."""
    axa, axb, axc = _cross_axes(axisa, axisb, axisc, axis, a, b)
    return unbroadcast(np.cross(b, g, axisa=axb, axisb=axc, axisc=axa), a)


def cross_vjp_b(g, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cotangent of ``b`` in ``np.cross(a, b, ...)``: ``<g, a x b> = <b, g x a>``."""
    axa, axb, axc = _cross_axes(axisa, axisb, axisc, axis, a, b)
    return unbroadcast(np.cross(g, a, axisa=axc, axisb=axa, axisc=axb), b)


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


def convolve_vjp_a(g, a, v, mode="full"):
    """Cotangent of ``a`` in ``np.convolve(a, v, mode)``."""
    _numpy_only("np.convolve", g, a, v)
    _real_only("np.convolve", a, v)
    gf = _full_cotangent(g, np.size(a), np.size(v), mode, False)
    return np.reshape(np.correlate(gf, np.ravel(v), "valid"), np.shape(a))


def convolve_vjp_b(g, a, v, mode="full"):
    """Cotangent of ``v`` in ``np.convolve(a, v, mode)``."""
    _numpy_only("np.convolve", g, a, v)
    _real_only("np.convolve", a, v)
    gf = _full_cotangent(g, np.size(a), np.size(v), mode, False)
    return np.reshape(np.correlate(gf, np.ravel(a), "valid"), np.shape(v))


def correlate_vjp_a(g, a, v, mode="valid"):
    """Cotangent of ``a`` in ``np.correlate(a, v, mode)`` (which is
    ``np.convolve(a, v[::-1])`` in full)."""
    _numpy_only("np.correlate", g, a, v)
    _real_only("np.correlate", a, v)
    gf = _full_cotangent(g, np.size(a), np.size(v), mode, np.size(v) > np.size(a))
    return np.reshape(np.correlate(gf, np.ravel(v)[::-1], "valid"), np.shape(a))


def correlate_vjp_b(g, a, v, mode="valid"):
    """Cotangent of ``v`` in ``np.correlate(a, v, mode)``."""
    _numpy_only("np.correlate", g, a, v)
    _real_only("np.correlate", a, v)
    gf = _full_cotangent(g, np.size(a), np.size(v), mode, np.size(v) > np.size(a))
    return np.reshape(np.correlate(gf, np.ravel(a), "valid")[::-1], np.shape(v))


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


def _quantile_setup(a, q, axis, method, nan, percent):
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
    gamma = np.broadcast_to(gamma, full)
    weight = np.ones(full)
    if nan:
        weight = np.broadcast_to(n > 0, full).astype(float)   # an all-NaN lane: no derivative
    return order, lo, hi, gamma, weight, full


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
                     percent=False):
    """The tangent of ``np.quantile(a, q, axis, method=..., keepdims=...)``
    (``nan``: np.nanquantile; ``percent``: q in percent) for the tangent ``t`` of ``a``."""
    _numpy_only("quantiles", t, a)
    order, lo, hi, gamma, weight, full = _quantile_setup(a, q, axis, method, nan, percent)
    t2, _, _ = _quantile_lanes(np.broadcast_to(t, np.shape(a)), axis)
    ts = np.broadcast_to(np.take_along_axis(t2, order, axis=-1), full + t2.shape[-1:])
    dtype = ts.dtype if np.issubdtype(ts.dtype, np.inexact) else np.float64
    w_hi = (gamma * weight).astype(dtype)
    w_lo = ((1 - gamma) * weight).astype(dtype)
    v = w_lo * np.take_along_axis(ts, lo[..., None], axis=-1)[..., 0] + \
        w_hi * np.take_along_axis(ts, hi[..., None], axis=-1)[..., 0]
    return v.reshape(_quantile_out_shape(a, q, axis, keepdims, percent))


def quantile_adjoint(g, a, q, axis=None, method="linear", keepdims=False, nan=False,
                     percent=False):
    """The adjoint of :func:`quantile_tangent`: each quantile's cotangent sent
    to the (at most two) order statistics it interpolates."""
    _numpy_only("quantiles", g, a)
    order, lo, hi, gamma, weight, full = _quantile_setup(a, q, axis, method, nan, percent)
    a2, moved_shape, axes = _quantile_lanes(a, axis)
    dtype = np.result_type(g, a, np.float32)
    g = np.reshape(np.asarray(g), full)
    qshape = np.shape(q)
    cs = np.zeros((int(np.prod(a2.shape[:-1])), a2.shape[-1]), dtype=dtype)
    rows = np.arange(cs.shape[0])
    for k in np.ndindex(qshape):
        gk = (g[k] * weight[k]).reshape(-1)
        cs[rows, lo[k].reshape(-1)] += ((1 - gamma[k]).reshape(-1) * gk).astype(dtype)
        cs[rows, hi[k].reshape(-1)] += (gamma[k].reshape(-1) * gk).astype(dtype)
    ct2 = np.zeros(a2.shape, dtype=dtype)
    np.put_along_axis(ct2, order, cs.reshape(a2.shape), axis=-1)
    if axes is None:
        return ct2.reshape(np.shape(a))
    nd = np.ndim(a)
    ct = ct2.reshape(moved_shape)
    return np.moveaxis(ct, tuple(range(nd - len(axes), nd)), axes)


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
