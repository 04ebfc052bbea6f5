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


__all__ = ["scalar_seed", "check_float_output", "unbroadcast", "broadcast_like", "fit_shape", "unreduce",
           "index_add", "unstack", "matmul_vjp_a", "matmul_vjp_b", "reverse_cumsum", "unconcatenate", "unhstack",
           "unvstack", "cast_derivative", "size_of", "check_unshared", "snapshot", "ArrayKindError", "check_zip_length",
           "not_a_count", "check_unpack_length", "raise_error",
           "check_unzip_length"]


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


def check_float_output(out):
    """Refuse a boolean or integer output of a function ``grad`` differentiates:
    it is piecewise constant, and its zero gradient would hide a mistake (JAX
    and autograd refuse it too).  (Not checked by ``scalar_seed``: its operand
    is read for its shape only, and passes may point it at another value.)"""
    kind = "b" if isinstance(out, bool) else "i" if isinstance(out, int) else \
        getattr(getattr(out, "dtype", None), "kind", None) or np.asarray(out).dtype.kind
    if kind in "biu":
        what = "a boolean" if kind == "b" else "an integer"
        raise OUTPUT_TYPE_ERROR(
            f"grad requires a real-valued (float) output, but the function returned {what} "
            f"value ({np.asarray(out).dtype}), whose derivative is zero wherever it exists; "
            f"return a float (e.g. a smooth surrogate of the comparison, or .astype(float) "
            f"if a zero gradient is really meant)")


def snapshot(x):
    """A copy of a NumPy array (a vjp pullback's residual that the caller may
    change in place before calling it); a list or tuple (a loop's tape) with
    its NumPy arrays copied (the tape is the forward call's own, but what it
    holds may be an argument, ``h = x`` pushed by the first step, or an array
    handed to the caller in the output); anything else as it is (dask arrays
    are not written in place)."""
    t = type(x)
    if t is np.ndarray:
        return x.copy()
    if t is list or t is tuple:
        return t(snapshot(v) for v in x)
    if getattr(t, "snapshot", None) is not None:
        # a checkpointed loop's stored states (schedules.Tape; found by its
        # method, so that exported modules need no import for it)
        return x.snapshot(snapshot)
    return x


def check_unshared(written, *others, names=(), where=""):
    """Refuse arguments that share memory when the function writes into one
    of them (``f(x, x[:2])`` with ``b *= 2`` inside; an argument that is a
    global the function reads): NumPy would change the other value too,
    which the compiled code -- it works on copies of the caller's arrays --
    does not follow.  ``names``: the written argument's, then a description
    of each other value.  NumPy arrays only (other array kinds have no views
    to share)."""
    if type(written) is not np.ndarray:
        return
    for k, other in enumerate(others):
        if type(other) is np.ndarray and np.may_share_memory(written, other):
            try:
                shared = np.shares_memory(written, other, max_work=10_000)
            except np.exceptions.TooHardError:
                shared = True
            if shared:
                raise SHARED_ARGUMENTS_ERROR(
                    f"{where}: this writes into argument '{names[0]}', which shares memory "
                    f"with {names[k + 1]} (the same array, or views of one); NumPy would "
                    f"change that too, which s2sgrad does not follow (it never changes the "
                    f"caller's arrays); pass a copy ({names[0]}.copy())")


def check_zip_length(length, n=0, where=""):
    """Refuse ``zip(xs, fs)`` unrolled over the ``n`` functions of ``fs``
    when ``xs`` has fewer items (Python's zip would stop early: the
    compiled code would not)."""
    if length < n:
        raise DATA_REFUSED_ERROR(f"{where}: zip() of a sequence of {n} functions with one of "
                         f"{length} items: s2sgrad makes one step per function; pass "
                         f"sequences of the same length")


def not_a_count(n, where=""):
    """``n`` itself, after checking it is an array: ``[v] * n`` (a list or
    tuple literal times a value computed at run time) is compiled as NumPy's
    ``np.array([v]) * n``, which is Python's meaning only when ``n`` is an
    ndarray; for an int (Python's or NumPy's) Python repeats the list, and
    for a float it raises."""
    if not isinstance(n, np.ndarray):
        raise DATA_REFUSED_ERROR(
            f"{where}: a list or tuple literal times {type(n).__name__} {n!r} computed at run "
            f"time: Python repeats the list ([v] * n) or raises, which s2sgrad does not follow "
            f"(it compiled NumPy's product, np.array([v]) * n); write np.full(n, v) or "
            f"np.zeros(n), a comprehension [v for _ in range(n)], or append in a loop")
    return n


def check_unzip_length(xs, n=0, where=""):
    """Python's check of ``a, b = zip(*xs)``: zip gives as many columns as
    the shortest item of ``xs`` has (none for an empty ``xs``), which must
    be the ``n`` names unpacked into."""
    m = min((len(t) for t in xs), default=0)
    if m != n:
        raise ValueError(f"{where}: {'not enough' if m < n else 'too many'} values to "
                         f"unpack (expected {n}, got {m})")


def raise_error(cls, *args, where=""):
    """``raise cls(*args)`` of the user's function, where the branch that
    raises is decided when the code runs (``else: raise ValueError(kind)``)."""
    raise cls(*args)


def check_unpack_length(x, n=0, star=False, where=""):
    """Python's checks of ``a, b, c = x`` (``star``: ``a, *rest, c = x``)
    for a value whose length is known only when the code runs: the compiled
    code reads ``x[0]``, ``x[1]``, ... so a longer ``x`` would go on
    silently where Python raises."""
    try:
        length = len(x)
    except TypeError:
        raise TypeError(f"{where}: cannot unpack non-iterable {type(x).__name__} "
                        f"object") from None
    if length < n:
        raise ValueError(f"{where}: not enough values to unpack (expected "
                         f"{'at least ' if star else ''}{n}, got {length})")
    if length > n and not star:
        raise ValueError(f"{where}: too many values to unpack (expected {n})")


# the error check_zip_length and emath_real raise: s2sgrad.errors.DataRefusedError
# (an S2SGradError and a ValueError), set by primitives/runtime_prims.py
DATA_REFUSED_ERROR = ValueError


# the error check_unshared raises: s2sgrad.errors.SharedArgumentsError (an
# S2SGradError and a ValueError), set by primitives/runtime_prims.py; a plain
# ValueError in an exported module
SHARED_ARGUMENTS_ERROR = ValueError


# the error check_float_output raises: s2sgrad.errors.OutputTypeError (an
# S2SGradError and a TypeError), set by primitives/runtime_prims.py; a plain
# TypeError in an exported module
OUTPUT_TYPE_ERROR = TypeError


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


def fit_shape(g, x):
    """``g`` brought to the shape of ``x`` both ways: summed over leading axes
    and over axes where ``x`` has size 1, then broadcast along axes where
    ``g`` has size 1 and ``x`` not.  The cotangent of an einsum operand whose
    label another operand broadcasts from size 1 ('ab,b->a' with a's b of
    size 1) comes out of the einsum with that size 1.  Linear in ``g``; its
    adjoint is ``fit_shape(h, g)``."""
    shape = np.shape(x)
    gshape = np.shape(g)
    if gshape == shape:
        return g
    if _unknown(shape) or _unknown(gshape):
        return unbroadcast(g, x)          # dask, unknown sizes: no size-1 labels there
    lead = len(gshape) - len(shape)
    if lead > 0:
        g = np.sum(g, axis=tuple(range(lead)))
        gshape = gshape[lead:]
    off = len(shape) - len(gshape)
    axes = tuple(i for i, m in enumerate(gshape) if m != 1 and shape[i + off] == 1)
    if axes:
        g = np.sum(g, axis=axes, keepdims=True)
    return np.broadcast_to(g, shape)


def _broadcast_unknown(t, x):
    """``t`` broadcast to the shape of ``x``, which has unknown (NaN)
    dimensions: ``np.broadcast_to`` needs the shape, an elementwise sum with
    zeros shaped like ``x`` does not."""
    return t + np.zeros_like(x, dtype=np.result_type(t))


def unreduce(g, x, axis=None, keepdims=False):
    """Put back the axes a reduction over ``axis`` removed, then broadcast to x's shape."""
    shape = np.shape(x)
    g = _as_array_like(g, x)
    if axis is not None and not keepdims and shape:     # (NumPy reduces a 0-d array over axis 0/-1)
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


def prod_others(x, axis=None):
    """For each element of ``x``, the product of the other elements of its
    group along ``axis`` (keepdims), exact at zeros: the product ``p`` of the
    group with zeros replaced by 1 divided by the element (by 1 at a zero),
    and 0 where the group has a zero besides the element."""
    zero = x == 0
    safe = np.where(zero, 1, x)
    p = np.prod(safe, axis=axis, keepdims=True)
    zeros_elsewhere = np.sum(zero, axis=axis, keepdims=True) - zero
    return np.where(zeros_elsewhere == 0, p / safe, 0).astype(np.result_type(x), copy=False)


def prod_pairs(x, t, axis=None):
    """For each element ``i`` of ``x``, ``sum_{k != i} t_k prod_{j != i, k} x_j``
    over its group along ``axis`` (keepdims): the tangent of ``prod_others``
    (a second derivative of np.prod), exact at zeros -- by the number of
    zeros in the group (0: ``others_i (S - t_i / x_i)``; 1, at m: the pair
    with m only; 2: the pair of the zeros only; more: 0)."""
    x = np.asarray(x)
    t = np.broadcast_to(t, x.shape)
    zero = x == 0
    safe = np.where(zero, 1, x)
    p = np.prod(safe, axis=axis, keepdims=True)
    z = np.sum(zero, axis=axis, keepdims=True)
    a = np.where(zero, 0, t / safe)
    s_nz = np.sum(a, axis=axis, keepdims=True)
    tz = np.sum(np.where(zero, t, 0), axis=axis, keepdims=True)
    r = np.where(z == 0, p / safe * (s_nz - a),
                 np.where(z == 1, np.where(zero, p * s_nz, tz * p / safe),
                          np.where((z == 2) & zero, (tz - t) * p, 0)))
    return r.astype(np.result_type(x, t), copy=False)


def require_nonzero(x, what=""):
    """``x`` itself, checked to have no element equal to 0 (``what``'s
    derivative is written for nonzero values; at a zero it is refused rather
    than wrong)."""
    if np.any(np.asarray(x) == 0):
        raise ValueError(f"s2sgrad: {what} is not supported where an element is exactly 0 "
                         f"(its derivative there is not implemented); the first derivative "
                         f"is exact at zeros")
    return x


def norm_scale(x, s, r, what="", complex_only=False, axis=None, keepdims=True,
               center=False, tangent=False):
    """``x * s``: a norm's derivative ``x * (g / r)`` (its derivative in ``x``
    is :func:`norm_scale_checked`; ``r`` and the options are for it)."""
    return x * s


def norm_scale_checked(t, s, r, what="", complex_only=False, axis=None, keepdims=True,
                       center=False, tangent=False):
    """``t * s``, refused where the norm ``r`` is exactly 0 and ``t`` is not:
    a second derivative of ``what`` at a zero vector, where the chain rule
    through the subgradient 0 loses the limit of ``g / r`` (the Hessian of
    ``norm(x) ** 2`` at 0 would come out 0, not 2 I).  ``r`` is reduced over
    ``axis`` (``keepdims`` as the reduction's); ``center``: ``t`` is taken
    less its mean over ``axis`` (std: a shift does not move ``x - mean``),
    to rounding.  ``complex_only``: only for a complex ``r`` (abs: a real 0
    is a kink, its sign's derivative 0).  ``tangent``: ``s`` is a forward
    tangent (a norm's jvp ``x * dx``, differentiated again in reverse): it is
    ``s`` that must not move the zero -- the cotangent ``t`` may well be 0
    there (``2 norm(x)`` times it, for ``norm(x) ** 2``) while the lost limit
    is not."""
    out = t * s
    if complex_only and not np.iscomplexobj(r):
        return out
    zero = np.asarray(r) == 0
    if not zero.any():
        return out
    t = np.asarray(s if tangent else t)
    if axis is not None and not keepdims:
        zero = np.expand_dims(zero, axis)
    if center:
        tc = t - np.mean(t, axis=axis, keepdims=True)
        scale = np.max(np.abs(t), axis=axis, keepdims=True)
        moving = np.abs(tc) > 16 * np.finfo(np.result_type(t, np.float32)).eps * scale
    else:
        moving = t != 0
    if np.any(zero & moving):
        _refuse_zero_norm(what)
    return out


def _refuse_zero_norm(what):
    raise ValueError(f"s2sgrad: a second derivative of {what} where it is exactly 0 (a zero "
                     f"vector; a constant for np.std), in a direction that moves it, is not "
                     f"supported: it is not differentiable there, and the chain rule through "
                     f"its subgradient would give a wrong value (the Hessian of "
                     f"np.linalg.norm(x) ** 2 at 0 would be 0, not 2 I); write a squared norm "
                     f"as np.sum(x ** 2), x @ x or np.var")


def csign_tangent_checked(v, t, x):
    """``v``, the derivative of ``csign(x)`` along ``t`` -- refused where a
    complex ``x`` is 0 and ``t`` is not (a second derivative of ``abs`` of a
    complex 0, which is a 2-norm there: ``|z| ** 2``'s would come out 0).
    A real ``x`` passes: ``sign`` is piecewise constant, 0 at the kink."""
    if np.iscomplexobj(x) and np.any((np.asarray(x) == 0) & (np.asarray(t) != 0)):
        _refuse_zero_norm("np.abs of a complex value")
    return v


def _cumprod_masks(xs, axis):
    """(before the lane's first zero, at the first zero, the scan with that
    zero replaced by 1, x with 1 from the first zero on) along ``axis``."""
    zero = xs == 0
    nz = np.cumsum(zero, axis=axis)
    before = nz == 0
    first = zero & (nz == 1)
    out2 = np.cumprod(np.where(first, 1, xs), axis=axis)
    return before, first, out2, np.where(before, xs, 1)


def cumprod_vjp_core(g, out, xs, axis=0):
    """The cotangent of ``xs`` for ``out = np.cumprod(xs, axis)``, exact at
    zeros (never out / x)."""
    before, first, out2, safe = _cumprod_masks(xs, axis)
    s1 = reverse_cumsum(g * out, xs, axis=axis)
    s2 = reverse_cumsum(g * out2, xs, axis=axis)
    r = np.where(before, s1 / safe, np.where(first, s2, 0))
    return r.astype(np.result_type(g, out, xs), copy=False)


def cumprod_jvp_core(t, out, xs, axis=0):
    """The tangent of ``out = np.cumprod(xs, axis)`` for the tangent ``t`` of
    ``xs``, exact at zeros."""
    before, first, out2, safe = _cumprod_masks(xs, axis)
    a = out * np.cumsum(np.where(before, t / safe, 0), axis=axis)
    b = out2 * np.cumsum(np.where(first, t, 0), axis=axis)
    return np.where(before, a, b).astype(np.result_type(t, out, xs), copy=False)


__all__ += ["prod_others", "prod_pairs", "require_nonzero", "cumprod_vjp_core", "cumprod_jvp_core",
            "norm_scale", "norm_scale_checked", "csign_tangent_checked"]


# np.dtype of the scalar types generated code passes as ``dtype=`` (np.dtype()
# of a type is a quarter of the helper's own cost at 2,000 elements)
_DTYPES = {t: np.dtype(t) for t in (np.float16, np.float32, np.float64, np.longdouble)}


def ties_halved(r, d, dtype=None):
    """``r`` halved where ``d`` is exactly 0 (+0.0 or -0.0), in ``dtype``
    (by default ``r * d``'s): a ReLU's cotangent ``r = g * (d >= 0)`` turned
    into ``g * step(d)``, the documented subgradient (1/2 at the tie, 0
    below it and at NaN), in the dtype of ``g * step(d)`` (``dtype``: a
    Python float ``g`` times the boolean mask is float64 where ``g *
    step(d)`` has ``d``'s dtype).  ``g * (d >= 0)`` is exact (``g * 1`` is
    ``g``, ``g * 0`` is what ``g * 0.0`` gives), so this is bit for bit the
    product with the step function ``(sign(d) + 1) / 2``, in one comparison
    and one multiply instead of five passes.  ``r`` itself (or its cast)
    when no element of ``d`` is 0 -- one read of ``d``; a new array
    otherwise."""
    dt = np.result_type(r, np.asarray(d)) if dtype is None else \
        _DTYPES.get(dtype) or np.dtype(dtype)
    if type(r) is np.ndarray and type(d) is np.ndarray and r.dtype == dt:
        if d.all():                 # (NaN is not 0)
            return r
    elif np.all(d):
        return r if getattr(r, "dtype", None) == dt else np.asarray(r, dtype=dt)[()]
    out = np.array(r, dtype=dt)
    np.multiply(out, 0.5, out=out, where=np.broadcast_to(np.equal(d, 0), out.shape))
    return out if out.ndim else out[()]


__all__ += ["ties_halved"]


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


NOT_NUMERIC = ("a differentiated value converted to dtype {} (an object, string, bytes, "
               "void or datetime array) has no derivative s2sgrad follows; keep it a float "
               "array (a list or tuple of the values for mixed contents)")


def casts_derivative(dtype):
    """Whether a conversion to ``dtype`` passes a derivative: True for float
    and complex types, False for integer and bool ones (piecewise constant);
    a ValueError for object/string/void/datetime types, which hold the
    values themselves: their derivative is not zero, and is not followed."""
    dt = np.dtype(dtype)
    if dt.kind in "OSUVMm":
        raise ValueError(NOT_NUMERIC.format(dt))
    return bool(np.issubdtype(dt, np.inexact))


def cast_derivative(t, dtype, to):
    """A derivative through ``astype(dtype)`` whose ``dtype`` is only known at
    run time: ``t`` cast to ``to`` if ``dtype`` is a float (or complex) type,
    else zeros (a cast to an integer or bool type is piecewise constant)."""
    try:
        passes = casts_derivative(dtype)
    except ValueError as exc:
        raise ValueError(f"s2sgrad: {exc}") from None
    if passes:
        if np.iscomplexobj(t) and not np.issubdtype(np.dtype(to), np.complexfloating):
            t = np.real(t)      # a real value's derivative is real
        return t.astype(to) if hasattr(t, "astype") else np.asarray(t, dtype=to)
    return np.zeros_like(t, dtype=to) if hasattr(t, "shape") else \
        np.zeros(np.shape(t), dtype=to)


def in_place_result(new, cur, layout=False):
    """What ``x op= v`` leaves in ``x``, given ``new = x op v``: on an array
    NumPy writes the result into ``x`` -- in ``x``'s dtype (cast under the
    'same_kind' rule, an error otherwise) and shape (an error when ``v``
    broadcasts ``x`` larger); on a Python or NumPy scalar ``x`` is rebound
    to ``new`` as it is (``s = np.float32(1); s += 1.0`` stays float32 by
    promotion, ``y32 += np.float64(1)`` stays float32 by this cast).

    ``layout``: also in ``x``'s memory order (the primal value of the write:
    NumPy's ``x`` keeps its strides, so what is computed from it later
    inherits them; ``x * C`` of an F-ordered ``x`` and a C-ordered ``C`` is
    C-ordered): see :func:`in_layout_of`."""
    if not isinstance(cur, np.ndarray):
        return new
    dt = cur.dtype
    nd = getattr(new, "dtype", None)
    if np.shape(new) != cur.shape:
        raise ValueError(f"non-broadcastable output operand with shape {cur.shape} doesn't "
                         f"match the broadcast shape {np.shape(new)}")
    if nd != dt:
        if nd is not None and not np.can_cast(nd, dt, "same_kind"):
            raise TypeError(f"Cannot cast ufunc output from {nd!r} to {dt!r} with casting "
                            f"rule 'same_kind'")
        new = np.asarray(new).astype(dt)
    return in_layout_of(new, cur) if layout else new


def in_layout_of(new, cur):
    """``new`` (an array shaped like the array ``cur``) with the memory order
    of ``cur``'s: itself when both are C- or both F-contiguous, else a copy
    made like ``np.empty_like(cur)`` (compact, ``cur``'s axis order, as a
    copy of ``cur`` in order 'K' is and as NumPy's ufuncs allocate for it)."""
    if not isinstance(new, np.ndarray) or new.ndim < 2:
        return new
    nf, cf = new.flags, cur.flags
    if nf.c_contiguous and cf.c_contiguous or nf.f_contiguous and cf.f_contiguous:
        return new
    out = np.empty_like(cur, dtype=new.dtype)
    out[...] = new
    return out


def same_kind_checked(src, dst):
    """``src``, once NumPy's default cast of np.copyto(dst, src) / out=dst is
    known to allow it: 'same_kind' (float64 into float32 yes, float into an
    int array or complex into a float one no -- NumPy raises).  A Python
    number is weak: only its kind counts."""
    if not isinstance(dst, np.ndarray):
        return src
    if isinstance(src, (bool, int, float, complex)):
        kind = "b" if isinstance(src, bool) else "i" if isinstance(src, int) else \
            "f" if isinstance(src, float) else "c"
        rank = {"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}      # (no global: exported alone)
        if rank[kind] > rank.get(dst.dtype.kind, 3):
            raise TypeError(f"Cannot cast scalar from {type(src).__name__} to {dst.dtype!r} "
                            f"according to the rule 'same_kind'")
        return src
    sd = np.result_type(src)
    if sd != dst.dtype and not np.can_cast(sd, dst.dtype, "same_kind"):
        raise TypeError(f"Cannot cast array data from {sd!r} to {dst.dtype!r} according "
                        f"to the rule 'same_kind'")
    return src


def out_checked(value, out, ufunc_like=False, what=""):
    """``value``, once writing it into ``out`` is what NumPy's ``f(...,
    out=out)`` does: a ufunc-like function (np.clip) broadcasts the result
    to ``out`` and casts it under 'same_kind'; any other (np.cumsum, np.sum)
    needs ``out`` of the result's shape -- NumPy raises otherwise -- and, in
    s2sgrad, of its dtype (NumPy may compute a reduction or scan into
    another dtype in that dtype: not followed, an error instead)."""
    at = f"{what}: " if what else ""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{at}out= must be a NumPy array")
    if ufunc_like:
        if np.broadcast_shapes(np.shape(value), out.shape) != out.shape:
            raise ValueError(f"{at}non-broadcastable output operand with shape {out.shape} doesn't "
                             f"match the broadcast shape {np.shape(value)}")
        return same_kind_checked(value, out)
    if np.shape(value) != out.shape:
        raise ValueError(f"{at}out= has shape {out.shape}, but the result has shape "
                         f"{np.shape(value)}")
    vd = np.result_type(value)
    if vd != out.dtype:
        raise TypeError(f"{at}out= has dtype {out.dtype}, but the result has dtype {vd}: s2sgrad "
                        f"does not follow NumPy's computing into out's dtype; pass out= an "
                        f"array of dtype {vd}, or write y[...] = f(...) for a cast")
    return value


__all__ += ["in_place_result", "same_kind_checked", "out_checked"]


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
                         f"for 1-d x (a vector norm), but x has shape {np.shape(x)}; for "
                         f"the matrix norm NumPy computes there pass axis=(-2, -1) (or use "
                         f"np.linalg.matrix_norm), for vector norms along an axis pass axis=")
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


def add_rows(rows, x):
    """Zeros like ``x`` plus every ``(i, g)`` of ``rows`` added at ``x[i]``, in
    the order they were appended (the additions an ``acc[i] += g`` per step
    would have made, so the same numbers), each dropped from ``rows`` once
    added: a loop's weight-gradient rows kept until the loop has freed what
    it stored (:func:`s2sgrad.specialize.defer_row_accumulation`)."""
    acc = np.zeros_like(x)
    rows.reverse()
    while rows:
        i, g = rows.pop()
        acc[i] += g
    return acc


__all__ += ["add_rows"]


def list_index_add(g, xs, k):
    """Zeros shaped like each element of the list ``xs``, with ``g`` at ``k``
    (the adjoint of reading ``xs[k]``)."""
    out = [np.zeros_like(v, dtype=np.result_type(v, g)) for v in xs]
    out[k] = out[k] + g
    return out


def list_zeros(xs):
    """A list of zeros shaped like the elements of ``xs``."""
    return [np.zeros_like(v, dtype=float) for v in xs]


def list_repeat(items, n, where=""):
    """``[c] * n`` (a list literal of constants times a count known only at
    run time): Python's repeated list, a list built at run time that the
    code may write into (``out[i] = v``).  A count that is not an integer
    (Python's or NumPy's) is refused with the user's line: Python raises
    for a float, and an ndarray count would be NumPy's product (an array)."""
    index = getattr(type(n), "__index__", None)
    if index is None or isinstance(n, np.ndarray):
        raise DATA_REFUSED_ERROR(
            f"{where}: a list literal times {type(n).__name__} {n!r}: s2sgrad compiled "
            f"Python's repeated list, which needs an integer count; write np.full(n, v) "
            f"or np.zeros(n) for an array")
    return list(items) * index(n)


def list_add(a, b):
    """Element-wise sum of two lists of cotangents."""
    return [x + y for x, y in zip(a, b)]

def list_slice(xs, start=None, stop=None, step=None):
    """``xs[start:stop:step]`` of a list built at run time (a new list of
    the same items)."""
    return xs[start:stop:step]


def list_slice_add(g, xs, start=None, stop=None, step=None):
    """Zeros shaped like each element of ``xs``, with the items of ``g`` at
    the positions ``xs[start:stop:step]`` took (the adjoint of the slice)."""
    out = [np.zeros_like(v, dtype=np.result_type(v, 0.0)) for v in xs]
    for k, gk in zip(range(len(xs))[start:stop:step], g):
        out[k] = out[k] + gk
    return out


__all__ += ["list_index_add", "list_zeros", "list_repeat", "list_add", "list_slice", "list_slice_add"]


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


def dot_vjp_a_sum(gs, a, bs):
    """``sum_t dot_vjp_a(gs[t], a, bs[t])``: for a matrix ``a`` and steps of
    at most two dimensions ``np.dot`` is ``a @ b_t``, so the one matrix
    product of :func:`matmul_vjp_a_sum`; otherwise the steps' sum."""
    if gs is None or len(gs) == 0:
        return np.zeros_like(a, dtype=np.result_type(a, float))
    G = gs if type(gs) is np.ndarray else _stacked(gs)
    B = bs if type(bs) is np.ndarray else _stacked(bs)
    if G is not None and B is not None and np.ndim(a) == 2 and G.ndim == B.ndim and \
            G.ndim in (2, 3):
        return matmul_vjp_a_sum(G, a, B)
    return sum(dot_vjp_a(g, a, b) for g, b in zip(gs, bs))


def dot_vjp_b_sum(gs, as_, b):
    """``sum_t dot_vjp_b(gs[t], as_[t], b)``, as :func:`dot_vjp_a_sum`."""
    if gs is None or len(gs) == 0:
        return np.zeros_like(b, dtype=np.result_type(b, float))
    G = gs if type(gs) is np.ndarray else _stacked(gs)
    A = as_ if type(as_) is np.ndarray else _stacked(as_)
    if G is not None and A is not None and np.ndim(b) == 2 and G.ndim == A.ndim and \
            G.ndim in (2, 3):
        return matmul_vjp_b_sum(G, A, b)
    return sum(dot_vjp_b(g, a, b) for g, a in zip(gs, as_))


__all__ += ["stack_steps", "matmul_vjp_a_sum", "matmul_vjp_b_sum", "dot_vjp_a_sum",
            "dot_vjp_b_sum"]


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


def logaddexp_gap(x, y):
    """``x - y`` for the partials of ``logaddexp(x, y)``, with 0 where
    ``x == y`` is infinite (a log-space recursion's impossible states, where
    ``x - y`` is NaN): there the weights take their limit 1/2 along x == y,
    so a zero cotangent stays 0 rather than 0 * NaN.  One reduction tests for
    a NaN (a minimum: no warning for opposite infinities, which a sum
    would give); the repair runs only when there is one."""
    d = np.subtract(x, y)
    if type(d) is np.ndarray:
        if d.size and np.isnan(np.minimum.reduce(d, axis=None)):
            np.copyto(d, 0.0, where=np.isnan(d) & np.equal(x, y))
    elif d != d and x == y:
        d = d.dtype.type(0.0)
    return d


__all__ += ["logaddexp_gap"]


def logaddexp_gap_slope(x, y):
    """The derivative of :func:`logaddexp_gap` in ``x``: 1, and 0 where it
    repaired a NaN."""
    d = np.subtract(x, y)
    return np.where(np.isnan(d) & np.equal(x, y), 0.0, 1.0).astype(d.dtype, copy=False)


__all__ += ["logaddexp_gap_slope"]


def sigmoid_link(s, z):
    """``s`` itself: the logistic value ``s = 1 / (1 + e^-z)`` the user's own
    operations computed from ``z``; s2sgrad differentiates it as ``s (1 - s)``
    in ``z`` (s2sgrad.invariance.link_sigmoids)."""
    return s


__all__ += ["sigmoid_link"]


def softmax_link(a, z, axis):
    """``a`` itself: the softmax ``a = e^z / sum(e^z, axis, keepdims=True)``
    the user's own operations computed from ``z``; s2sgrad differentiates it
    as ``(g - sum(g a, axis)) a`` in ``z`` (s2sgrad.invariance.link_softmaxes)."""
    return a


__all__ += ["softmax_link"]


def stop_gradient(x):
    """``x`` itself; s2sgrad treats its derivative as zero (as JAX's
    ``lax.stop_gradient``).  Useful for a log-sum-exp shift:
    ``z - stop_gradient(np.max(z, axis=1, keepdims=True))`` has the same
    gradient without differentiating the max."""
    return x


__all__ += ["stop_gradient"]


# ---------------------------------------------------------------- aliasing (s2sgrad.alias)

def is_array(x):
    """Whether ``x += v`` changes ``x`` in place: true for arrays (0-d ones
    too), false for Python and NumPy scalars, which ``+=`` rebinds."""
    return not isinstance(x, (int, float, complex, bool, np.generic))


def may_share_memory(a, b):
    """Whether ``a`` (made from ``b`` by a reshape or a conversion) is a view
    of ``b`` rather than a copy: NumPy decides from the strides at run time."""
    if a is b:
        return True
    return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and \
        bool(np.may_share_memory(a, b))


def layout_checked(v, w, what=""):
    """``v`` with ``w``'s strides: a loop carry whose NumPy array (``w``,
    the memory a write through a view went into) has another layout than
    the IR's version (``v``, a new array of its own), so that a reshape's
    view-or-copy in the next step is decided on NumPy's strides.  The
    values are copied into a new buffer laid out as ``w`` is (``v`` and
    ``w`` are not read again through it).  Refused where that layout cannot
    hold distinct values (overlapping strides) or the item sizes differ."""
    if type(v) is np.ndarray and type(w) is np.ndarray and v.size > 1 and \
            v.shape == w.shape and v.strides != w.strides:
        out = _with_strides(v, w.strides, w.dtype.itemsize)
        if out is None:
            raise ValueError(f"s2sgrad: {what}: the array carried to the next step was written "
                             f"through a view and has another memory layout in NumPy "
                             f"(strides {w.strides}) than in the generated code ({v.strides}), "
                             f"so a reshape/ravel of it there, a view or a copy by the strides, "
                             f"is not supported; make it contiguous at the end of the step "
                             f"(A = np.ascontiguousarray(A)) or reshape a copy "
                             f"(A.copy().reshape(...))")
        return out
    return v


def _with_strides(v, strides, w_size):
    """A new array holding ``v``'s values with exactly ``strides`` (a
    buffer of its own), or None where such strides would overlap or the
    item sizes differ (``w_size``: NumPy's array's)."""
    size = v.dtype.itemsize
    if size != w_size:
        return None
    dims = sorted((abs(st), n) for n, st in zip(v.shape, strides) if n > 1)
    reach = size
    for st, n in dims:
        if st < reach:
            return None
        reach = st * n
    lo = sum(min(0, (n - 1) * st) for n, st in zip(v.shape, strides))
    hi = sum(max(0, (n - 1) * st) for n, st in zip(v.shape, strides)) + size
    buf = np.empty(hi - lo, dtype=np.uint8)
    out = np.ndarray(v.shape, dtype=v.dtype, buffer=buf, offset=-lo, strides=strides)
    out[...] = v
    return out


def dict_keys(d):
    """The keys of a dict passed as data, as ``for k in d`` reads them (its
    own ``__iter__``, a subclass's too); anything else (an item of a
    container passed as data that is not a dict) as it is, iterated by
    index."""
    return list(d) if isinstance(d, dict) else d


__all__ += ["is_array", "may_share_memory", "dict_keys", "layout_checked"]


__all__ += ["r_item", "c_item"]


def r_item(x):
    """One item of ``np.r_[...]`` as NumPy converts it: at least 1-d."""
    x = np.asanyarray(x)
    return x.reshape(1) if x.ndim == 0 else x


def c_item(x):
    """One item of ``np.c_[...]``: at least 2-d, a 1-d array as a column."""
    x = np.asanyarray(x)
    if x.ndim == 0:
        return x.reshape(1, 1)
    return x.reshape(-1, 1) if x.ndim == 1 else x


# Helpers of the complex-number, FFT and decomposition rules (a file of their own).
from . import runtime_linalg as _runtime_linalg  # noqa: E402
from .runtime_linalg import *  # noqa: E402,F401,F403

__all__ += _runtime_linalg.__all__

# Helpers of the assembly, statistics and data rules (a file of their own).
from . import runtime_numpy as _runtime_numpy  # noqa: E402
from .runtime_numpy import *  # noqa: E402,F401,F403

__all__ += _runtime_numpy.__all__

# Helpers of scipy.integrate.odeint's rules (SciPy imported when first called).
from . import runtime_ode as _runtime_ode  # noqa: E402
from .runtime_ode import *  # noqa: E402,F401,F403

__all__ += _runtime_ode.__all__

# Checkpointed loops: the schedule drivers and the schedules generated code
# names (plain Python, in s2sgrad/schedules.py).
from .schedules import (Binomial, Budget, Remat, Sqrt,  # noqa: E402
                        checkpoint_backward, checkpoint_forward)

__all__ += ["checkpoint_forward", "checkpoint_backward", "Sqrt", "Binomial", "Budget", "Remat"]

def unconcat_list(g, xs, how="concatenate", axis=0):
    """Split the cotangent of ``np.concatenate(xs, axis)`` / ``np.vstack(xs)`` /
    ``np.hstack(xs)`` of a runtime list ``xs`` into a list shaped like
    ``xs`` (read only for their shapes)."""
    shapes = [tuple(np.shape(x)) for x in xs]
    if how == "vstack":             # pieces as np.atleast_2d makes them, along axis 0
        parts = [s if len(s) >= 2 else (1,) + s if s else (1, 1) for s in shapes]
        ax = 0
    elif how == "hstack":           # at least 1-d; along axis 0 for 1-d pieces, else 1
        parts = [s if s else (1,) for s in shapes]
        ax = 0 if len(parts[0]) == 1 else 1
    elif axis is None:              # np.concatenate(xs, axis=None): flattened
        g, parts, ax = np.reshape(g, -1), [(int(np.prod(s)),) for s in shapes], 0
    else:
        parts, ax = shapes, axis
    cuts = np.cumsum([p[ax] for p in parts])[:-1]
    return [np.reshape(piece, s) for piece, s in zip(np.split(g, cuts, axis=ax), shapes)]


__all__ += ["unconcat_list"]


def check_rule_output(v, like, what, batched=False):
    """``v``, a derivative computed by a user's rule (``s2sgrad.custom_vjp``,
    ``custom_jvp``, ``defrule``), when its shape and dtype are those of
    ``like``, the value it is the derivative of; otherwise a ``ValueError``
    that starts with the rule's file and line (``what``).  ``batched``: ``v``
    has an extra leading batch axis (Jacobians, Hessians)."""
    vs, ls = tuple(np.shape(v)), tuple(np.shape(like))
    if batched:
        vs = vs[1:]
    vd = v.dtype if hasattr(v, "dtype") else np.result_type(v)
    ld = like.dtype if hasattr(like, "dtype") else np.result_type(like)
    if (vs != ls and not _unknown(vs) and not _unknown(ls)) or vd != ld:
        raise ValueError(f"{what} has shape {vs} and dtype {vd}, but must have the shape "
                         f"{ls} and dtype {ld} of the value it is the derivative of")
    return v


__all__ += ["check_rule_output"]
