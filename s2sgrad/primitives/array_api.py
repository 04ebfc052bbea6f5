"""NumPy 2's array-API spellings, as composites of the primitives they
restate: ``np.linalg.matmul / tensordot / outer / trace / diagonal / vecdot /
vector_norm / matrix_norm / cross / svdvals / cond``, ``np.vecdot``,
``np.cumulative_sum`` and ``np.cumulative_prod``.  Each lowers to the rules
of its classic counterpart (``np.linalg.trace`` and ``diagonal`` work on
the last two axes; ``vector_norm`` is a norm of the flattened array or along
one axis or several (nested); ``cumulative_*``'s ``include_initial`` prepends the identity).
``np.diagflat``, ``np.vander`` and ``np.polyval`` are restated with diag,
powers and sums.  The ufunc methods ``np.add/multiply/maximum/minimum.reduce`` and
``.accumulate`` are sum/prod/max/min and cumsum/cumprod, or a running
maximum/minimum (JAX's cummax/cummin: each output's cotangent goes to the
entry it copies).  Forms these do not cover (``vector_norm`` over all axes with keepdims,
``np.vecdot``'s ``axes=``) are refused with an S2SGradError naming the call.
"""
from __future__ import annotations

import numpy as np

from ..errors import S2SGradError
from ..ir import Const
from .. import runtime
from .core import defprim, lookup_object, register_method, shape_fresh, shape_of
from .signatures import def_linear_helper


def _opt(v, default=None):
    if v is None:
        return default
    return v.value if isinstance(v, Const) else v


def _given(v):
    return v is not None and not (isinstance(v, Const) and v.value is None)


def _composite(name, fn, sig, expand, doc):
    if fn is None:
        return None
    return defprim(name, fn, sig=sig, expand=expand, doc=doc)


_L = np.linalg
_composite("la_matmul", getattr(_L, "matmul", None), "x1, x2, /",
           lambda em, a, b: em.matmul(a, b), "np.linalg.matmul: np.matmul.")
_composite("la_tensordot", getattr(_L, "tensordot", None), "x1, x2, /, *, axes=2",
           lambda em, a, b, axes=None: em.tensordot(a, b, axes=_opt(axes, 2)),
           "np.linalg.tensordot: np.tensordot.")
_composite("la_outer", getattr(_L, "outer", None), "x1, x2, /",
           lambda em, a, b: em.outer(a, b), "np.linalg.outer: np.outer (1-d operands).")
_composite("la_trace", getattr(_L, "trace", None), "x, /, *, offset=0, dtype=None",
           lambda em, x, offset=None, dtype=None: em.trace(
               x, offset=_opt(offset, 0), axis1=-2, axis2=-1,
               **({"dtype": dtype} if _given(dtype) else {})),
           "np.linalg.trace: np.trace over the last two axes.")
_composite("la_diagonal", getattr(_L, "diagonal", None), "x, /, *, offset=0",
           lambda em, x, offset=None: em.diagonal(x, offset=_opt(offset, 0), axis1=-2, axis2=-1),
           "np.linalg.diagonal: np.diagonal over the last two axes.")
_composite("la_cross", getattr(_L, "cross", None), "x1, x2, /, *, axis=-1",
           lambda em, a, b, axis=None: em.cross(a, b, axis=_opt(axis, -1)),
           "np.linalg.cross: np.cross of 3-vectors along axis.")
_composite("la_svdvals", getattr(_L, "svdvals", None), "x, /",
           lambda em, x: em.svd(x, compute_uv=False),
           "np.linalg.svdvals: np.linalg.svd(x, compute_uv=False).")


def _vecdot(em, a, b, axis=None, axes=None):
    if _given(axes):
        raise S2SGradError("np.vecdot(..., axes=...) is not supported; use axis=")
    return em.sum(em.multiply(em.conj_if_complex(a), b), axis=_opt(axis, -1))


def _cond(em, x, p=None):
    """np.linalg.cond: the ratio of extreme singular values (p None, 2, -2),
    else norm(x, p) * norm(inv(x), p) over the last two axes."""
    order = _opt(p)
    if order in (None, 2, -2):
        s = em.svd(x, compute_uv=False)
        big = em.call("getitem", s, _params={"index": (Ellipsis, 0)})
        small = em.call("getitem", s, _params={"index": (Ellipsis, -1)})
        return em.divide(small, big) if order == -2 else em.divide(big, small)
    return em.multiply(em.norm(x, ord=order, axis=(-2, -1)),
                       em.norm(em.inv(x), ord=order, axis=(-2, -1)))


_composite("la_cond", getattr(_L, "cond", None), "x, p=None", _cond,
           "np.linalg.cond: sigma_max / sigma_min (p None or 2), or norm(x, p) norm(inv(x), p).")
_composite("la_vecdot", getattr(_L, "vecdot", None), "x1, x2, /, *, axis=-1",
           lambda em, a, b, axis=None: _vecdot(em, a, b, axis),
           "np.linalg.vecdot: sum(conj(x1) * x2, axis).")
_composite("vecdot", getattr(np, "vecdot", None), "x1, x2, /, *, axis=-1, axes=None",
           _vecdot, "np.vecdot: sum(conj(x1) * x2, axis).")


def _vector_norm(em, x, axis=None, keepdims=None, ord=None):
    axis, keep, o = _opt(axis), bool(_opt(keepdims, False)), _opt(ord, 2)
    if isinstance(axis, (tuple, list)) and len(axis) == 1:
        axis = axis[0]
    if axis is None and not keep:
        return em.norm(em.ravel(x), ord=o)
    if isinstance(axis, (int, np.integer)):
        return em.norm(x, ord=o, axis=int(axis), keepdims=keep)
    if isinstance(axis, (tuple, list)) and axis:
        # several axes (torch's dim=(-1, 0)): the p-norm of the p-norms along
        # one axis, (sum_a sum_b |x|^p)^(1/p) = (sum_a ||x_a||_p^p)^(1/p) for
        # every p != 0 (max of maxima for inf); the 0-"norm" counts nonzeros,
        # so its counts add up (the 1-norm of counts).  keepdims on the way
        # keeps the axis numbers valid; the axes go at the end if not kept.
        axes = [int(a) for a in axis]
        v = em.norm(x, ord=o, axis=axes[-1], keepdims=True)
        for a in reversed(axes[:-1]):
            v = em.norm(v, ord=1 if o == 0 else o, axis=a, keepdims=True)
        return v if keep else em.squeeze(v, axis=tuple(axes))
    raise S2SGradError("np.linalg.vector_norm is differentiated for axis=None without "
                       "keepdims, one axis or a tuple of axes; for keepdims=True over all "
                       "axes, give the axes as a tuple")


_composite("vector_norm", getattr(_L, "vector_norm", None),
           "x, /, *, axis=None, keepdims=False, ord=2", _vector_norm,
           "np.linalg.vector_norm: np.linalg.norm of the flattened array or along one axis.")
_composite("matrix_norm", getattr(_L, "matrix_norm", None), "x, /, *, keepdims=False, ord='fro'",
           lambda em, x, keepdims=None, ord=None: em.norm(
               x, ord=_opt(ord, "fro"), axis=(-2, -1), keepdims=bool(_opt(keepdims, False))),
           "np.linalg.matrix_norm: np.linalg.norm over the last two axes.")


def _cumulative(scan, identity):
    def expand(em, x, axis=None, dtype=None, out=None, include_initial=None):
        if _given(out):
            raise S2SGradError(f"np.cumulative_{scan[3:]}(..., out=...) is not supported; use "
                               f"the result")
        ax = _opt(axis)
        kw = {"dtype": dtype} if _given(dtype) else {}
        if ax is not None:
            kw["axis"] = ax
        res = getattr(em, scan)(x, **kw)
        if not _opt(include_initial, False):
            return res
        first = em.take(res, [0], axis=ax if ax is not None else 0)
        init = em.zeros_like(first) if identity == 0 else em.ones_like(first)
        return em.concatenate(init, res, axis=ax if ax is not None else 0)
    return expand


_composite("cumulative_sum", getattr(np, "cumulative_sum", None),
           "x, /, *, axis=None, dtype=None, out=None, include_initial=False",
           _cumulative("cumsum", 0), "np.cumulative_sum: np.cumsum (include_initial: a 0 first).")
_composite("cumulative_prod", getattr(np, "cumulative_prod", None),
           "x, /, *, axis=None, dtype=None, out=None, include_initial=False",
           _cumulative("cumprod", 1), "np.cumulative_prod: np.cumprod (include_initial: a 1 "
                                      "first).")


# ---------------------------------------------------------------- ufunc methods
# np.add.reduce / np.multiply.reduce / np.maximum.reduce / np.minimum.reduce
# (axis 0 by default, as NumPy) are sum / prod / max / min; np.add.accumulate
# and np.multiply.accumulate are cumsum / cumprod (axis 0 by default).

def _ufunc_reduce(reduction):
    def expand(em, array, axis=None, dtype=None, out=None, keepdims=None, initial=None,
               where=None):
        if _given(out):
            raise S2SGradError("a ufunc's reduce(..., out=...) is not supported; use the result")
        kw = {"axis": _opt(axis, 0)} if axis is None or not isinstance(axis, Const) else {
            "axis": axis.value}
        if kw["axis"] is None:
            del kw["axis"]
        if _opt(keepdims, False):
            kw["keepdims"] = True
        if _given(dtype) and reduction in ("sum", "prod"):
            kw["dtype"] = dtype
        masked = _given(initial) or (_given(where) and _opt(where) is not True)
        if reduction == "prod" and masked:
            from .reductions import _prod_masked
            return _prod_masked(em, array, kw.get("axis"), dtype, kw.get("keepdims"),
                                initial, where)
        if _given(initial):
            kw["initial"] = initial
        if _given(where) and _opt(where) is not True:
            kw["where"] = where
        return getattr(em, reduction)(array, **kw)
    return expand


def _ufunc_accumulate(scan):
    def expand(em, array, axis=None, dtype=None, out=None):
        if _given(out):
            raise S2SGradError("a ufunc's accumulate(..., out=...) is not supported; use the "
                               "result")
        kw = {"axis": _opt(axis, 0)}
        if _given(dtype):
            kw["dtype"] = dtype
        return getattr(em, scan)(array, **kw)
    return expand


_RED_SIG = "array, /, axis=0, dtype=None, out=None, keepdims=False, initial=None, where=True"
for _uf, _red, _scan in ((np.add, "sum", "cumsum"), (np.multiply, "prod", "cumprod"),
                         (np.maximum, "max", None), (np.minimum, "min", None),
                         # NaN-ignoring extremes: np.nanmax / np.nanmin's values and rules
                         (np.fmax, "nanmax", None), (np.fmin, "nanmin", None)):
    _p = defprim(f"{_uf.__name__}_reduce", None, sig=_RED_SIG, expand=_ufunc_reduce(_red),
                 doc=f"np.{_uf.__name__}.reduce: np.{_red} (axis 0 by default).")
    register_method(_uf, "reduce", _p)
    if _scan is not None:
        _p = defprim(f"{_uf.__name__}_accumulate", None, sig="array, /, axis=0, dtype=None, "
                     "out=None", expand=_ufunc_accumulate(_scan),
                     doc=f"np.{_uf.__name__}.accumulate: np.{_scan} (axis 0 by default).")
        register_method(_uf, "accumulate", _p)


# np.add.reduceat: linear; its adjoint sends each output's cotangent to the
# segment it summed (segments may overlap when the indices decrease).
_p = defprim("add_reduceat", runtime.add_reduceat, sig="array, indices, /, axis=0, dtype=None",
             pyname="add_reduceat",
             vjp=lambda em, g, out, array, indices, **kw: [
                 em.call("unreduceat", g, array, indices, **kw), None],
             jvp=lambda em, dots, out, array, indices, **kw: None if dots[0] is None else
             em.call("add_reduceat", dots[0], indices, **kw),
             linear=True, shape=shape_fresh,
             doc="np.add.reduceat: sums over index segments.")
register_method(np.add, "reduceat", _p)
def_linear_helper("unreduceat", runtime.unreduceat, "g, array, indices, /, axis=0, dtype=None",
                  lambda em, h, _g, array, indices, **kw: em.call("add_reduceat", h, indices,
                                                                   **kw),
                  doc="runtime helper: the adjoint of np.add.reduceat.")


# np.maximum/minimum/multiply.reduceat: each output's segment gathered into
# a row padded with the ufunc's identity (reduceat_table/_mask: positions
# known at run time), then np.max/np.min/np.prod of the rows -- their rules
# (ties, zeros) on the segment's own entries; the padding gets nothing.
defprim("reduce_identity", runtime.reduce_identity, sig="array, /, ufunc='maximum'",
        pyname="reduce_identity", nondiff=True, shape=shape_fresh,
        doc="runtime helper: the identity of np.maximum/minimum/multiply in the array's "
            "dtype.")


defprim("reduceat_table", runtime.reduceat_table, sig="array, indices, /, axis=0",
        pyname="reduceat_table", nondiff=True, shape=shape_fresh,
        doc="runtime helper: the positions of each segment of a reduceat, padded rows.")
defprim("reduceat_mask", runtime.reduceat_mask, sig="array, indices, /, axis=0",
        pyname="reduceat_mask", nondiff=True, shape=shape_fresh,
        doc="runtime helper: which entries of reduceat_table are positions.")


def _ufunc_reduceat(name, red):
    def expand(em, array, indices, axis=None, dtype=None, out=None):
        _refuse_options(f"np.{name}.reduceat", out=out, dtype=dtype)
        ax = _opt(axis, 0)
        table = em.call("reduceat_table", array, indices, axis=ax)
        mask = em.call("reduceat_mask", array, indices, axis=ax)
        moved = em.moveaxis(array, source=ax, destination=-1)
        rows = em.take(moved, table, axis=-1)                     # (..., n_out, L)
        fill = em.call("reduce_identity", array, ufunc=name)
        rows = em.where(mask, rows, fill)
        return em.moveaxis(getattr(em, red)(rows, axis=-1), source=-1, destination=ax)
    return expand


for _name, _red in (("maximum", "max"), ("minimum", "min"), ("multiply", "prod")):
    _p = defprim(f"{_name}_reduceat", None, sig="array, indices, /, axis=0, dtype=None, out=None",
                 expand=_ufunc_reduceat(_name, _red),
                 doc=f"np.{_name}.reduceat: np.{_red} of each segment (gathered, padded "
                     f"with the identity).")
    register_method(getattr(np, _name), "reduceat", _p)


# Binary ufuncs' other reductions, restated with primitives (axis 0 by
# default, as NumPy):
#   np.logaddexp.reduce / np.logaddexp2.reduce: a log-sum-exp shifted by the
#     maximum (held constant: the shift cancels in the derivative), so large
#     values do not overflow;
#   np.subtract.reduce / np.divide.reduce: a[0] - sum(a[1:]), a[0] / prod(a[1:]);
#   np.subtract.accumulate / np.divide.accumulate: a running sum of
#     (a[0], -a[1], -a[2], ...), a running product of (a[0], 1/a[1], ...);
#   np.logical_and.reduce / np.logical_or.reduce: np.all / np.any (data).
# np.logaddexp.accumulate is not among them: a running log-sum-exp needs a
# running shift that a cumsum cannot carry without underflow; it is its own
# primitive below (NumPy's accumulate, rules in the log domain).

def _reduce_axis(axis):
    """The reduce's axis as NumPy reads it: absent -> 0, ``None`` -> all."""
    if axis is None:
        return 0
    return axis.value if isinstance(axis, Const) else axis


def _refuse_options(what, out=None, initial=None, where=None, dtype=None):
    for name, v in (("out", out), ("initial", initial), ("dtype", dtype)):
        if _given(v):
            raise S2SGradError(f"{what}(..., {name}=...) is not supported; leave it out")
    if _given(where) and _opt(where) is not True:
        raise S2SGradError(f"{what}(..., where=...) is not supported; mask the operand first")


def _logaddexp_reduce(base2):
    what = f"np.logaddexp{'2' if base2 else ''}.reduce"

    def expand(em, array, axis=None, dtype=None, out=None, keepdims=None, initial=None,
               where=None):
        _refuse_options(what, out, initial, where, dtype)
        ax = _reduce_axis(axis)
        kw = {} if ax is None else {"axis": ax}
        keep = bool(_opt(keepdims, False))
        shift = em.stop_gradient(em.max(array, keepdims=True, **kw))
        shift = em.where(em.isfinite(shift), shift, 0.0)
        exp, log = (em.exp2, em.log2) if base2 else (em.exp, em.log)
        total = em.sum(exp(em.subtract(array, shift)), keepdims=keep, **kw)
        if not keep:
            shift = em.reshape(shift, em.shape(total))
        return em.add(log(total), shift)
    return expand


def _hypot_reduce(em, array, axis=None, dtype=None, out=None, keepdims=None, initial=None,
                  where=None):
    """np.hypot.reduce: sqrt of the sum of squares scaled by the largest
    magnitude (held constant: it cancels in the derivative, x / result), so
    large values do not overflow, as NumPy's hypot; an infinite entry gives
    inf even next to a NaN (C's hypot), all zeros give 0 (derivative 0, as
    np.hypot's at the origin)."""
    _refuse_options("np.hypot.reduce", out, initial, where, dtype)
    ax = _reduce_axis(axis)
    kw = {} if ax is None else {"axis": ax}
    keep = bool(_opt(keepdims, False))
    m = em.stop_gradient(em.max(em.absolute(array), keepdims=True, **kw))
    scale = em.where(em.logical_and(em.greater(m, 0.0), em.isfinite(m)), m, 1.0)
    total = em.sum(em.square(em.divide(array, scale)), keepdims=True, **kw)
    # (all zeros: 0, and derivative 0 there, as np.hypot's at the origin)
    zero = em.equal(total, 0.0)
    res = em.where(zero, 0.0, em.multiply(scale, em.sqrt(em.where(zero, 1.0, total))))
    res = em.where(em.any(em.isinf(array), keepdims=True, **kw), np.inf, res)
    if not keep:
        res = em.squeeze(res, **({"axis": ax} if ax is not None else {}))
    return res


def _fold_reduce(divide):
    what = f"np.{'divide' if divide else 'subtract'}.reduce"

    def expand(em, array, axis=None, dtype=None, out=None, keepdims=None, initial=None,
               where=None):
        _refuse_options(what, out, initial, where, dtype)
        ax = _reduce_axis(axis)
        if not isinstance(ax, (int, np.integer)) or isinstance(ax, bool):
            raise S2SGradError(f"{what} is differentiated along one axis (an int); "
                               f"reshape the array first")
        first = em.take(array, 0, axis=ax)
        rest = em.delete(array, obj=0, axis=ax)
        res = em.divide(first, em.prod(rest, axis=ax)) if divide else \
            em.subtract(first, em.sum(rest, axis=ax))
        return em.expand_dims(res, axis=ax) if _opt(keepdims, False) else res
    return expand


def _fold_accumulate(divide):
    what = f"np.{'divide' if divide else 'subtract'}.accumulate"

    def expand(em, array, axis=None, dtype=None, out=None):
        _refuse_options(what, out, dtype=dtype)
        ax = _reduce_axis(axis)
        if not isinstance(ax, (int, np.integer)) or isinstance(ax, bool):
            raise S2SGradError(f"{what} is differentiated along one axis (an int)")
        first = em.take(array, [0], axis=ax)
        rest = em.delete(array, obj=0, axis=ax)
        if divide:
            return em.cumprod(em.concatenate(first, em.reciprocal(rest), axis=ax), axis=ax)
        return em.cumsum(em.concatenate(first, em.negative(rest), axis=ax), axis=ax)
    return expand


for _uf, _expand in ((np.logaddexp, _logaddexp_reduce(False)),
                     (np.logaddexp2, _logaddexp_reduce(True)), (np.hypot, _hypot_reduce),
                     (np.subtract, _fold_reduce(False)), (np.divide, _fold_reduce(True))):
    _p = defprim(f"{_uf.__name__}_reduce", None, sig=_RED_SIG, expand=_expand,
                 doc=f"np.{_uf.__name__}.reduce (axis 0 by default).")
    register_method(_uf, "reduce", _p)
for _uf, _expand in ((np.subtract, _fold_accumulate(False)),
                     (np.divide, _fold_accumulate(True))):
    _p = defprim(f"{_uf.__name__}_accumulate", None, sig="array, /, axis=0, dtype=None, "
                 "out=None", expand=_expand,
                 doc=f"np.{_uf.__name__}.accumulate (axis 0 by default).")
    register_method(_uf, "accumulate", _p)
for _uf, _red in ((np.logical_and, "all"), (np.logical_or, "any")):
    _p = defprim(f"{_uf.__name__}_reduce", None, sig=_RED_SIG, nondiff=True,
                 expand=_ufunc_reduce(_red),
                 doc=f"np.{_uf.__name__}.reduce: np.{_red} (data).")
    register_method(_uf, "reduce", _p)


# ufunc.outer(a, b) of every binary ufunc s2sgrad has a rule for:
# ufunc(outer_lift(a, b), b), a with ndim(b) unit axes appended, so the
# elementwise rule (and its unbroadcast) gives the derivatives.

def _outer(prim):
    def expand(em, a, b):
        return em.call(prim, em.call("outer_lift", a, b), b)
    return expand


def_linear_helper("outer_lift", runtime.outer_lift, "a, b, /",
                  lambda em, h, a, b: em.reshape(h, em.shape(a)), shape_arg=None,
                  doc="runtime helper: a with ndim(b) unit axes appended (ufunc.outer).")
for _name in sorted(dir(np)):
    _uf = getattr(np, _name)
    if not isinstance(_uf, np.ufunc) or _uf.nin != 2 or _uf.nout != 1 or \
            _uf.signature is not None or _name != _uf.__name__:
        continue
    _p = lookup_object(_uf)
    if _p is None:
        continue
    _q = defprim(f"{_name}_outer", None, sig="a, b, /", expand=_outer(_p),
                 nondiff=not _p.differentiable,
                 doc=f"np.{_name}.outer: np.{_name} of a (with unit axes for b's) and b.")
    register_method(_uf, "outer", _q)


# np.maximum.accumulate / np.minimum.accumulate (a running extreme, JAX's
# cummax / cummin): each output copies one entry, the latest strict new
# extreme (ties keep the earlier one); its cotangent goes there.
def _def_accumulate_extreme(ufunc, minimum):
    name = f"{ufunc.__name__}_accumulate"

    def impl(array, /, axis=0, dtype=None):
        return ufunc.accumulate(array, axis=axis, **({} if dtype is None else {"dtype": dtype}))

    def kw(axis):
        return {"axis": _opt(axis, 0), "minimum": minimum}

    p = defprim(name, impl, sig="array, /, axis=0, dtype=None",
                pyname=f"np.{ufunc.__name__}.accumulate",
                vjp=lambda em, g, out, x, axis=None, dtype=None: [
                    em.call("accumulate_extreme_adjoint", g, x, **kw(axis))],
                jvp=lambda em, dots, out, x, axis=None, dtype=None: em.call(
                    "accumulate_extreme_tangent", dots[0], x, **kw(axis)),
                shape=lambda args, kwargs: shape_of(args[0]),
                doc=f"np.{ufunc.__name__}.accumulate: each output's cotangent goes to the entry "
                    f"it copies (the latest strict new extreme).")
    register_method(ufunc, "accumulate", p)


_def_accumulate_extreme(np.maximum, False)
_def_accumulate_extreme(np.minimum, True)
def_linear_helper("accumulate_extreme_tangent", runtime.accumulate_extreme_tangent,
                  "t, x, /, axis=0, minimum=False",
                  lambda em, h, _t, x, **k: em.call("accumulate_extreme_adjoint", h, x, **k),
                  doc="runtime helper: the tangent of np.maximum/minimum.accumulate.")
def_linear_helper("accumulate_extreme_adjoint", runtime.accumulate_extreme_adjoint,
                  "g, x, /, axis=0, minimum=False",
                  lambda em, h, _g, x, **k: em.call("accumulate_extreme_tangent", h, x, **k),
                  doc="runtime helper: the adjoint of np.maximum/minimum.accumulate.")


# np.logaddexp.accumulate (torch.logcumsumexp): d out_i = sum_{j<=i}
# exp(x_j - out_i) dx_j, applied by runtime helpers in the log domain; the
# tangent and adjoint helpers are each other's transposes, linear in their
# first operand, and differentiable in x and out through each other (below).
def _logaddexp_accumulate_impl(array, /, axis=0, dtype=None):
    return np.logaddexp.accumulate(array, axis=axis, **({} if dtype is None else
                                                        {"dtype": dtype}))


def _lae_axis(axis):
    a = _opt(axis, 0)
    if a is None:
        raise S2SGradError("np.logaddexp.accumulate(axis=None) is not supported; flatten the "
                           "array (np.ravel) and pass axis=0")
    return a


_p = defprim("logaddexp_accumulate", _logaddexp_accumulate_impl, sig="array, /, axis=0, dtype=None",
             pyname="np.logaddexp.accumulate",
             vjp=lambda em, g, out, x, axis=None, dtype=None: [
                 em.call("logaddexp_accumulate_adjoint", g, x, out, axis=_lae_axis(axis))],
             jvp=lambda em, dots, out, x, axis=None, dtype=None: em.call(
                 "logaddexp_accumulate_tangent", dots[0], x, out, axis=_lae_axis(axis)),
             shape=lambda args, kwargs: shape_of(args[0]),
             doc="np.logaddexp.accumulate: d out_i = sum_{j<=i} exp(x_j - out_i) dx_j "
                 "(log-domain helpers, themselves differentiable).")
register_method(np.logaddexp, "accumulate", _p)
# The helpers' own derivatives (second derivatives of the accumulate), with
# T(t) = tangent, A(g) = adjoint, r the helper's result:
#   T(t, x, out):  dT = T(dt) + T(t dx) - r dout;  transposed: A(h), t A(h), -h r
#   A(g, x, out):  dA = A(dg) + r dx - A(g dout);  transposed: T(h), h r, -g T(h)


def _lae_add(em, terms):
    acc = None
    for t in terms:
        if t is not None:
            acc = t if acc is None else em.add(acc, t)
    return acc


def _lae_tangent_jvp(em, dots, r, t, x, out, axis=None):
    dt, dx, dout = dots
    T = "logaddexp_accumulate_tangent"
    return _lae_add(em, [None if dt is None else em.call(T, dt, x, out, axis=axis),
                         None if dx is None else em.call(T, em.multiply(t, dx), x, out, axis=axis),
                         None if dout is None else em.negative(em.multiply(r, dout))])


def _lae_tangent_vjp(em, h, r, t, x, out, axis=None):
    ah = em.call("logaddexp_accumulate_adjoint", h, x, out, axis=axis)
    return [ah, em.multiply(t, ah), em.negative(em.multiply(h, r))]


def _lae_adjoint_jvp(em, dots, r, g, x, out, axis=None):
    dg, dx, dout = dots
    A = "logaddexp_accumulate_adjoint"
    return _lae_add(em, [None if dg is None else em.call(A, dg, x, out, axis=axis),
                         None if dx is None else em.multiply(r, dx),
                         None if dout is None else em.negative(
                             em.call(A, em.multiply(g, dout), x, out, axis=axis))])


def _lae_adjoint_vjp(em, h, r, g, x, out, axis=None):
    th = em.call("logaddexp_accumulate_tangent", h, x, out, axis=axis)
    return [th, em.multiply(h, r), em.negative(em.multiply(g, th))]


for _name, _vjp, _jvp in (("logaddexp_accumulate_tangent", _lae_tangent_vjp, _lae_tangent_jvp),
                          ("logaddexp_accumulate_adjoint", _lae_adjoint_vjp, _lae_adjoint_jvp)):
    defprim(_name, getattr(runtime, _name), sig="t, x, out, /, axis=0", pyname=_name,
            vjp=_vjp, jvp=_jvp, shape=lambda args, kwargs: shape_of(args[1]),
            doc="runtime helper: the tangent (adjoint) of np.logaddexp.accumulate; its own "
                "derivatives are the helpers again (second derivatives).")


# ---------------------------------------------------------------- small composites
# np.diagflat, np.vander, np.polyval: restated with diag, powers and sums.

def _diagflat(em, v, k=None):
    return em.diag(em.ravel(v), k=_opt(k, 0))


def _powers(em, n, decreasing, like):
    """0..n-1 (or n-1..0) as data (n an atom: a size known at run time), in
    the floating dtype of ``like`` (float32 powers keep float32 float32;
    None: integers, as np.vander, whose result promotes with int)."""
    dtype = em.call("result_type", like, 1.0) if like is not None else None
    if dtype is None:
        return em.call("arange", em.subtract(n, 1), -1, -1) if decreasing else \
            em.call("arange", n)
    if decreasing:
        return em.call("arange", em.subtract(n, 1), -1, -1, dtype=dtype)
    return em.call("arange", n, dtype=dtype)


def _vander(em, x, N=None, increasing=None):
    n = em.size(x) if not _given(N) else N
    p = _powers(em, n, not _opt(increasing, False), None)
    return em.power(em.expand_dims(x, axis=-1), p)


def _polyval(em, p, x):
    # NumPy's Horner loop runs over p's first axis (p[i] broadcast with x):
    # that axis moved last, so a 2-d p of shape (1, n) is one constant row,
    # not a polynomial in x (the sum over p's last axis was wrong there)
    pw = _powers(em, em.len(p), True, x)
    return em.sum(em.multiply(em.moveaxis(p, source=0, destination=-1),
                              em.power(em.expand_dims(x, axis=-1), pw)), axis=-1)


def _pn_polyval(em, x, c, tensor=None):
    # np.polynomial.polynomial.polyval(x, c): coefficients lowest power
    # first along c's first axis; tensor=True (the default) evaluates each
    # column of c at every x (shape c.shape[1:] + x.shape), tensor=False
    # broadcasts c[i] with x as np.polyval does
    pw = _powers(em, em.len(c), False, x)
    xp = em.power(em.expand_dims(x, axis=-1), pw)
    cm = em.moveaxis(c, source=0, destination=-1)
    if _opt(tensor, True):
        return em.tensordot(cm, xp, axes=((-1,), (-1,)))
    return em.sum(em.multiply(cm, xp), axis=-1)


_composite("diagflat", np.diagflat, "v, /, k=0", _diagflat, "np.diagflat: np.diag(ravel(v), k).")
_composite("vander", np.vander, "x, /, N=None, increasing=False", _vander,
           "np.vander: x[:, None] ** powers.")
_composite("polyval", np.polyval, "p, x, /", _polyval,
           "np.polyval: sum(p * x[..., None] ** powers) (highest power first).")
_composite("polynomial_polyval", np.polynomial.polynomial.polyval, "x, c, /, tensor=True",
           _pn_polyval, "np.polynomial.polynomial.polyval: the coefficients (lowest power "
           "first) against x[..., None] ** powers, summed (tensordot for tensor=True).")


# np.polynomial.<kind>.<kind>val(x, c) for the Chebyshev, Legendre, Hermite
# (both) and Laguerre bases: c against the basis at x, NumPy's own
# <kind>vander, whose derivative in x is the vander of the bases' derivatives
# (series_vander's m: the order, raised by each derivative).

def _sv_vjp(em, g, out, x, n, kind=None, m=None):
    d = em.call("series_vander", x, n, kind=_opt(kind, "polynomial"), m=_opt(m, 0) + 1)
    return [em.sum(em.multiply(g, d), axis=-1), None]


def _sv_jvp(em, dots, out, x, n, kind=None, m=None):
    if dots[0] is None:
        return None
    d = em.call("series_vander", x, n, kind=_opt(kind, "polynomial"), m=_opt(m, 0) + 1)
    return em.multiply(em.expand_dims(dots[0], axis=-1), d)


defprim("series_vander", runtime.series_vander, sig="x, n, /, kind='polynomial', m=0",
        pyname="series_vander", vjp=_sv_vjp, jvp=_sv_jvp, shape=shape_fresh,
        doc="runtime helper: the basis polynomials of np.polynomial.<kind> (or their m-th "
            "derivatives) at x, NumPy's <kind>vander (chebval, legval, hermval, hermeval, "
            "lagval).")


def _series_val(kind):
    def expand(em, x, c, tensor=None):
        # as np.polynomial.polynomial.polyval (_pn_polyval), the basis at x in
        # place of the powers
        V = em.call("series_vander", x, em.len(c), kind=kind)
        cm = em.moveaxis(c, source=0, destination=-1)
        if _opt(tensor, True):
            return em.tensordot(cm, V, axes=((-1,), (-1,)))
        return em.sum(em.multiply(cm, V), axis=-1)
    return expand


for _kind, _pre in (("chebyshev", "cheb"), ("legendre", "leg"), ("hermite", "herm"),
                    ("hermite_e", "herme"), ("laguerre", "lag")):
    _composite(f"{_pre}val", getattr(getattr(np.polynomial, _kind), f"{_pre}val"),
               "x, c, /, tensor=True", _series_val(_kind),
               f"np.polynomial.{_kind}.{_pre}val: the coefficients (first axis) against "
               f"the basis at x ({_pre}vander), summed (tensordot for tensor=True).")


# np.ediff1d, np.logspace, np.geomspace, np.resize, np.polyfit: restated
# with diff, linspace, powers, take and lstsq, as NumPy computes them.

def _ediff1d(em, ary, to_end=None, to_begin=None):
    parts = [em.diff(em.ravel(ary), Const(None), Const(None))]
    if _given(to_begin):
        parts.insert(0, em.ravel(to_begin))
    if _given(to_end):
        parts.append(em.ravel(to_end))
    return parts[0] if len(parts) == 1 else em.concatenate(*parts, axis=0)


def _space_options(num, endpoint, axis):
    kw = {"num": _opt(num, 50), "endpoint": bool(_opt(endpoint, True))}
    if _opt(axis, 0) != 0:
        kw["axis"] = _opt(axis, 0)
    return kw


def _no_dtype(what, dtype):
    if _given(dtype):
        raise S2SGradError(f"{what}(..., dtype=...) is not supported; cast the result (.astype)")


def _logspace(em, start, stop, num=None, endpoint=None, base=None, dtype=None, axis=None):
    _no_dtype("np.logspace", dtype)
    exps = em.linspace(start, stop, **_space_options(num, endpoint, axis))
    return em.power(10.0 if base is None else base, exps)


def _geomspace(em, start, stop, num=None, endpoint=None, dtype=None, axis=None):
    # (both ends of one sign, as NumPy requires; the ends are exact as NumPy makes them)
    _no_dtype("np.geomspace", dtype)
    sign = em.stop_gradient(em.sign(start))
    logs = em.linspace(em.log(em.multiply(start, sign)), em.log(em.multiply(stop, sign)),
                       **_space_options(num, endpoint, axis))
    # NumPy's dtype (float32 ends give float64)
    return em.astype(em.multiply(em.exp(logs), sign),
                     dtype=em.call("numpy_result_dtype", Const("geomspace"), start, stop))


def _resize(em, a, new_shape):
    shape = _opt(new_shape)
    if not isinstance(new_shape, Const):
        raise S2SGradError("np.resize's new_shape must be a constant")
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    n = int(np.prod(shape))
    return em.reshape(em.take(em.ravel(a), np.arange(n), mode="wrap"), shape)


def _polyfit(em, x, y, deg, rcond=None, full=None, w=None, cov=None):
    for name, v in (("full", full), ("cov", cov)):
        if _opt(v, False):
            raise S2SGradError(f"np.polyfit(..., {name}=True) is not supported")
    if _given(w):
        raise S2SGradError("np.polyfit(..., w=...) is not supported; scale the rows of "
                           "np.vander(x, deg + 1) and y and use np.linalg.lstsq")
    if not isinstance(deg, Const):
        raise S2SGradError("np.polyfit's deg must be a constant")
    lhs = _vander(em, x, Const(deg.value + 1))
    if not _given(rcond):
        rcond = em.multiply(em.size(x), float(np.finfo(float).eps))
    # NumPy scales the columns to unit norm before solving, then scales back
    scale = em.stop_gradient(em.sqrt(em.sum(em.multiply(lhs, lhs), axis=0)))
    coef = em.lstsq(em.divide(lhs, scale), y, rcond=rcond)[0]
    return em.transpose(em.divide(em.transpose(coef), scale))     # (y may have columns)


_composite("ediff1d", np.ediff1d, "ary, /, to_end=None, to_begin=None", _ediff1d,
           "np.ediff1d: np.diff of the flattened array, with to_begin/to_end concatenated.")
_composite("logspace", np.logspace, "start, stop, /, num=50, endpoint=True, base=10.0, "
           "dtype=None, axis=0", _logspace, "np.logspace: base ** np.linspace(start, stop).")
_composite("geomspace", np.geomspace, "start, stop, /, num=50, endpoint=True, dtype=None, axis=0",
           _geomspace, "np.geomspace: exp(np.linspace(log start, log stop)) (one sign).")
_composite("resize", np.resize, "a, /, new_shape", _resize,
           "np.resize: the flattened array repeated to the new shape (np.take mode='wrap').")
_composite("polyfit", np.polyfit, "x, y, deg, /, rcond=None, full=False, w=None, cov=False",
           _polyfit, "np.polyfit: np.linalg.lstsq of np.vander(x, deg + 1) with NumPy's "
                     "column scaling.")
