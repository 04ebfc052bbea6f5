"""Reductions: sum, mean, prod, max, min, var, std, cumsum, with ``axis``/``keepdims``.

The adjoint of a reduction puts the reduced axes back (``unreduce``) and
broadcasts to the operand's shape; no Jacobian is formed.  ``axis`` may be
``None``, an int (negative counts from the end) or a tuple, exactly as in
NumPy: ``unreduce`` re-inserts the removed axes with ``np.expand_dims``,
which interprets them against the operand's rank like the reduction did.

Conventions (documented in the README too):

* ``prod``: the derivative with respect to ``x[i]`` is the product of the
  *other* elements of its reduction group.  It is computed as
  ``prod(x with zeros replaced by 1) / x[i]`` when no *other* element of the
  group is zero, and 0 otherwise, so it is exact with one zero (the zero
  element receives the product of the rest) and with several (everything
  gets 0).  It is never formed as ``out / x``, which is NaN at a zero.
  Second derivatives are exact away from zeros; at a zero the rule treats
  the zero-count as locally constant.
* ``max``/``min`` (also ``np.amax``/``np.amin``): the derivative goes to the
  elements equal to the result; at a tie it is split equally among the tied
  elements (``np.max([1, 1])`` has gradient ``[0.5, 0.5]``), the
  subgradient that is the average of the one-sided ones (as for
  ``maximum``).  A NaN result passes no gradient.  With ``initial=`` (a
  constant) ``initial`` counts as one of the tied values: the elements equal
  to the result share it with it, none when ``initial`` alone is the
  result; ``where=`` excludes elements.
* ``sum(..., where=mask)``: the unselected elements get derivative 0;
  ``initial=`` is a constant.
* ``var``/``std`` honour ``ddof``.  ``std`` where the spread is exactly 0
  (all elements of a group equal) has derivative 0, a valid subgradient of
  ``sqrt(var)`` there, rather than the NaN of ``0 / 0``; a second derivative
  there in a direction that moves the deviations is refused at run time (as
  np.linalg.norm at 0), also with ``where=``/``mean=``/``correction=``.
* ``cumsum`` with ``axis=None`` flattens (as NumPy); its adjoint is the
  reversed cumulative sum, reshaped to the operand.
"""
from __future__ import annotations

import numpy as np

from .. import runtime
from ..errors import S2SGradError
from ..ir import Const
from .core import Emitter, defmethod, defprim, get, shape_fresh, shape_of, SCALAR


def _given(v):
    """An option that was passed and is not None."""
    return v is not None and not (isinstance(v, Const) and v.value is None)


def _reduced_shape(args, kwargs):
    axis = kwargs.get("axis")
    keepdims = kwargs.get("keepdims")
    no_axis = axis is None or (getattr(axis, "value", 0) is None)
    no_keep = keepdims is None or (getattr(keepdims, "value", True) is False)
    return SCALAR if no_axis and no_keep else shape_fresh(args, kwargs)


def _red_kw(axis, keepdims):
    kw = {}
    if axis is not None:
        kw["axis"] = axis
    if keepdims is not None:
        kw["keepdims"] = keepdims
    return kw


def _keep_kw(axis):
    """Options of a helper reduction whose result broadcasts against the operand."""
    kw = {"axis": axis} if axis is not None else {}
    kw["keepdims"] = True
    return kw


def _count(em, x, out, axis):
    """Number of elements reduced into each output element (a Python number
    at run time, so it never changes a float32 computation's dtype)."""
    if not _given(axis):
        # an empty x receives no cotangent: max(.., 1) keeps a Python-float
        # cotangent (the seed 1.0) / 0 from raising ZeroDivisionError where
        # NumPy's mean of an empty list is nan with a warning
        return em.py_max(em.size(x), 1)
    # an empty result (x empty along a kept axis) has nothing to scale: max(.., 1)
    # keeps 0 / 0 (ZeroDivisionError of Python ints once specialised) out
    return em.divide(em.size(x), em.py_max(em.size(out), 1))


# ---------------------------------------------------------------- sum, mean


def _masked(em, t, where):
    """``t`` where the ``where=`` mask of a reduction is true, 0 elsewhere."""
    return t if where is None else em.where(where, t, 0)


def _sum_vjp(em, g, out, x, axis=None, dtype=None, keepdims=None, initial=None, where=None):
    # initial= is a constant added once: it does not change the derivative
    return [_masked(em, em.unreduce(g, x, **_red_kw(axis, keepdims)), where)]


def _sum_jvp(em, dots, out, x, axis=None, dtype=None, keepdims=None, initial=None, where=None):
    kw = _red_kw(axis, keepdims)
    if dtype is not None:
        kw["dtype"] = dtype
    if where is not None:
        kw["where"] = where
    return em.sum(dots[0], **kw)


defprim("sum", np.sum, sig="a, /, axis=None, dtype=None, keepdims=None, initial=None, "
                           "where=None",
        vjp=_sum_vjp, jvp=_sum_jvp, shape=_reduced_shape, linear=True,
        doc="np.sum: the cotangent is broadcast back over the summed axes (where=: only "
            "the selected elements).")


def _mean_vjp(em, g, out, x, axis=None, dtype=None, keepdims=None):
    # divide the (small) cotangent first, then broadcast
    return [em.unreduce(em.divide(g, _count(em, x, out, axis)), x, **_red_kw(axis, keepdims))]


def _mean_jvp(em, dots, out, x, axis=None, dtype=None, keepdims=None):
    kw = _red_kw(axis, keepdims)
    if dtype is not None:
        kw["dtype"] = dtype
    return em.mean(dots[0], **kw)


defprim("mean", np.mean, sig="a, /, axis=None, dtype=None, keepdims=None",
        vjp=_mean_vjp, jvp=_mean_jvp, shape=_reduced_shape, linear=True,
        doc="np.mean: the cotangent divided by the count, broadcast back.")


# ---------------------------------------------------------------- prod


def _prod_others(em: Emitter, x, axis):
    """For each element, the product of the other elements of its group
    (``prod_others``: exact at zeros)."""
    return em.call("prod_others", x, **({"axis": axis} if axis is not None else {}))


# prod_others(x, axis): the product of the other elements of each element's
# group (runtime.prod_others: exact at zeros).  Its tangent -- a second
# derivative of np.prod -- is prod_pairs(x, t) (sum over the pairs, exact at
# zeros too); its transpose is prod_pairs(x, g) (the pair products are
# symmetric).  prod_pairs' own derivative in x (a third derivative) is
# written for nonzero x, checked at run time (require_nonzero refuses a zero,
# where that formula's terms are not defined).
def _nonzero(em, x):
    return em.call("require_nonzero", x, what="a third derivative of np.prod or a second "
                                              "derivative of np.cumprod")


def _ax(axis):
    return {"axis": axis} if axis is not None else {}


def _prod_others_jvp(em, dots, out, x, axis=None):
    if dots[0] is None:
        return None
    return em.call("prod_pairs", x, dots[0], **_ax(axis))


def _prod_others_vjp(em, g, out, x, axis=None):
    return [em.call("prod_pairs", x, g, **_ax(axis))]


def _pairs_parts(em, x, t, axis):
    """(x checked nonzero, others = prod / x, a = t / x, S = sum a)."""
    xs = _nonzero(em, x)
    others = em.call("prod_others", xs, **_ax(axis))
    a = em.divide(t, xs)
    return xs, others, a, em.sum(a, **_keep_kw(axis))


def _prod_pairs_jvp(em, dots, out, x, t, axis=None):
    dx, dt = dots
    terms = []
    if dt is not None:
        terms.append(em.call("prod_pairs", x, dt, **_ax(axis)))
    if dx is not None:
        # others_i ((S - a_i)(B - b_i) - (Q - a_i b_i)), b = dx / x, B = sum b,
        # Q = sum a b
        xs, others, a, S = _pairs_parts(em, x, t, axis)
        b = em.divide(dx, xs)
        B = em.sum(b, **_keep_kw(axis))
        ab = em.multiply(a, b)
        Q = em.sum(ab, **_keep_kw(axis))
        terms.append(em.multiply(others, em.subtract(
            em.multiply(em.subtract(S, a), em.subtract(B, b)), em.subtract(Q, ab))))
    acc = None
    for term in terms:
        acc = term if acc is None else em.add(acc, term)
    return acc


def _prod_pairs_vjp(em, h, out, x, t, axis=None):
    # the transpose of the x-term above: (C1 - c S + 2 c a - C0 a) / x with
    # c = h others, C0 = sum c, C1 = sum c (S - a)
    xs, others, a, S = _pairs_parts(em, x, t, axis)
    c = em.multiply(h, others)
    C0 = em.sum(c, **_keep_kw(axis))
    C1 = em.sum(em.multiply(c, em.subtract(S, a)), **_keep_kw(axis))
    ca = em.multiply(c, a)
    num = em.subtract(em.add(em.subtract(C1, em.multiply(c, S)), em.add(ca, ca)),
                      em.multiply(C0, a))
    return [em.unbroadcast(em.divide(num, xs), x),
            em.unbroadcast(em.call("prod_pairs", x, h, **_ax(axis)), t)]


defprim("prod_others", runtime.prod_others, sig="x, /, axis=None", pyname="prod_others",
        vjp=_prod_others_vjp, jvp=_prod_others_jvp, shape=lambda args, kwargs: shape_of(args[0]),
        doc="runtime helper: for each element the product of the others in its group "
            "(np.prod's derivative, exact at zeros).")
defprim("prod_pairs", runtime.prod_pairs, sig="x, t, /, axis=None", pyname="prod_pairs",
        vjp=_prod_pairs_vjp, jvp=_prod_pairs_jvp, shape=lambda args, kwargs: shape_of(args[0]),
        doc="runtime helper: sum over k != i of t_k times the product of the others but i, k "
            "(np.prod's second derivative, exact at zeros; its own x-derivative refuses zeros).")
defprim("require_nonzero", runtime.require_nonzero, sig="x, /, what=''",
        pyname="require_nonzero",
        vjp=lambda em, h, out, x, **kw: [h], jvp=lambda em, dots, out, x, **kw: dots[0],
        shape=lambda args, kwargs: shape_of(args[0]), linear=True,
        doc="runtime helper: x, refused where an element is 0 (a derivative written for "
            "nonzero values).")


def _prod_vjp(em, g, out, x, axis=None, dtype=None, keepdims=None):
    return [em.multiply(em.unreduce(g, x, **_red_kw(axis, keepdims)), _prod_others(em, x, axis))]


def _prod_jvp(em, dots, out, x, axis=None, dtype=None, keepdims=None):
    kw = _red_kw(axis, keepdims)
    if dtype is not None:
        kw["dtype"] = dtype
    return em.sum(em.multiply(dots[0], _prod_others(em, x, axis)), **kw)


defprim("prod", np.prod, sig="a, /, axis=None, dtype=None, keepdims=None",
        vjp=_prod_vjp, jvp=_prod_jvp, shape=_reduced_shape,
        doc="np.prod: d/dx[i] is the product of the other elements of the group, "
            "exact at zeros (never out / x).")


# ---------------------------------------------------------------- max, min


def _argmax_weights(em: Emitter, out, x, axis, keepdims, initial=None, where=None):
    """(mask of the elements equal to the result, their count per output).

    The count is summed in x's dtype so dividing a float32 cotangent by it
    stays float32.  With ``initial=`` the result may be ``initial`` itself,
    equal to no element: the count is then at least 1 (no 0 / 0)."""
    mask = em.equal(x, em.unreduce(out, x, **_red_kw(axis, keepdims)))
    if where is not None:
        mask = em.logical_and(mask, where)
    kw = _red_kw(axis, keepdims)
    kw["dtype"] = em.result_type(x)
    count = em.sum(mask, **kw)
    if initial is not None:
        # initial takes part in a tie like an element (np.max(x, initial=2.0)
        # at max(x) == 2.0: half to the element, as np.maximum(np.max(x), 2.0)
        # and the average of the one-sided derivatives); alone it is 1 (no 0 / 0)
        count = em.add(count, em.equal(out, initial))
    return mask, count


def _maxmin_vjp(em, g, out, x, axis=None, keepdims=None, initial=None, where=None):
    mask, count = _argmax_weights(em, out, x, axis, keepdims, initial, where)
    share = em.unreduce(em.divide(g, count), x, **_red_kw(axis, keepdims))
    return [em.where(mask, share, 0)]


def _maxmin_jvp(em, dots, out, x, axis=None, keepdims=None, initial=None, where=None):
    mask, count = _argmax_weights(em, out, x, axis, keepdims, initial, where)
    return em.divide(em.sum(em.where(mask, dots[0], 0), **_red_kw(axis, keepdims)), count)


_MAXMIN_DOC = ("np.{0}: the cotangent goes to the elements equal to the result, split "
               "equally among ties.")

defprim("max", np.max, sig="a, /, axis=None, *, keepdims=None, initial=None, where=None",
        aliases=(np.amax,) if np.amax is not np.max else (),
        vjp=_maxmin_vjp, jvp=_maxmin_jvp, shape=_reduced_shape, doc=_MAXMIN_DOC.format("max"))
defprim("min", np.min, sig="a, /, axis=None, *, keepdims=None, initial=None, where=None",
        aliases=(np.amin,) if np.amin is not np.min else (),
        vjp=_maxmin_vjp, jvp=_maxmin_jvp, shape=_reduced_shape, doc=_MAXMIN_DOC.format("min"))


# ---------------------------------------------------------------- var, std


def _centered(em, x, axis, dtype):
    kw = _keep_kw(axis)
    if dtype is not None:
        kw["dtype"] = dtype
    return em.subtract(x, em.mean(x, **kw))


def _recentered(em, x, axis, dtype):
    """x - mean(x), centred a second time.  On a numerically constant input
    the first pass leaves rounding noise of one sign (std ~ 1e-16), which
    divided by std would be an O(1) gradient; the second pass removes it, so
    the documented gradient 0 at zero spread holds."""
    d = _centered(em, x, axis, dtype)
    return em.subtract(d, em.mean(d, **_keep_kw(axis)))


def _dof(em, x, out, axis, ddof):
    return em.subtract(_count(em, x, out, axis), ddof)


def _half_dof(em, x, out, axis, ddof):
    # (n - ddof) / 2.  Only ever a divisor of an array, so ddof >= n gives
    # NumPy's inf/nan (with its warning) as the forward value does, not a
    # Python ZeroDivisionError.
    return em.multiply(_dof(em, x, out, axis, ddof), 0.5)


def _var_vjp(em, g, out, x, axis=None, dtype=None, ddof=0, keepdims=None):
    # d var / dx = 2 (x - mean) / (n - ddof)   (the mean's own derivative cancels).
    # For complex x, var = mean(|d|^2) is real and d var = 2 Re(conj(d) dd) / (n - ddof):
    # the cotangent is 2 conj(d) g / (n - ddof) (conj_if_complex: nothing for real x).
    # var is real: only the real part of a (complex) cotangent pairs with it
    g = em.unreduce(em.real_if_complex(g), x, **_red_kw(axis, keepdims))
    d = em.conj_if_complex(_centered(em, x, axis, dtype))
    return [em.divide(em.multiply(d, g), _half_dof(em, x, out, axis, ddof))]


def _var_jvp(em, dots, out, x, axis=None, dtype=None, ddof=0, keepdims=None):
    d = em.conj_if_complex(_centered(em, x, axis, dtype))
    s = em.sum(em.real_if_complex(em.multiply(d, dots[0])), **_red_kw(axis, keepdims))
    return em.divide(s, _half_dof(em, x, out, axis, ddof))


defprim("var", np.var, sig="a, /, axis=None, dtype=None, *, ddof=0, keepdims=None",
        vjp=_var_vjp, jvp=_var_jvp, shape=_reduced_shape,
        doc="np.var: 2 (x - mean) / (n - ddof) times the broadcast cotangent.")


def _std_denominator(em, x, out, axis, ddof):
    # (n - ddof) * std, with std == 0 replaced by 1: there x - mean is 0 too,
    # so the derivative is 0 (a subgradient) instead of 0 / 0.
    safe = em.where(em.equal(out, 0), 1, out)
    return em.multiply(safe, _dof(em, x, out, axis, ddof))


# The products with x - mean go through norm_scale (primitives/linalg.py): std
# is the norm of x - mean, and a second derivative at a constant group (std
# == 0) in a direction that moves x - mean would lose the limit of g / std
# (the Hessian of std(x) ** 2 came out 0, not var's): refused at run time.
def _std_vjp(em, g, out, x, axis=None, dtype=None, ddof=0, keepdims=None):
    # d std / dx = (x - mean) / ((n - ddof) std); conj(x - mean) for complex x, as var
    g = em.divide(em.real_if_complex(g), _std_denominator(em, x, out, axis, ddof))
    g = em.unreduce(g, x, **_red_kw(axis, keepdims))
    # (center: a direction that does not move x - mean -- a shift, any
    # direction of a group of one -- is not refused when reversed again)
    return [em.call("norm_scale", em.conj_if_complex(_recentered(em, x, axis, dtype)), g, out,
                    what="np.std", **_std_check_kw(axis, keepdims))]


def _std_check_kw(axis, keepdims):
    kw = {"center": True}
    if axis is not None:
        kw["axis"] = axis
        kw["keepdims"] = keepdims if keepdims is not None else False
    return kw


def _std_jvp(em, dots, out, x, axis=None, dtype=None, ddof=0, keepdims=None):
    d = em.conj_if_complex(_recentered(em, x, axis, dtype))
    s = em.sum(em.real_if_complex(em.call("norm_scale", d, dots[0], out, what="np.std",
                                          tangent=True, **_std_check_kw(axis, keepdims))),
               **_red_kw(axis, keepdims))
    return em.divide(s, _std_denominator(em, x, out, axis, ddof))


defprim("std", np.std, sig="a, /, axis=None, dtype=None, *, ddof=0, keepdims=None",
        vjp=_std_vjp, jvp=_std_jvp, shape=_reduced_shape,
        doc="np.std: (x - mean) / ((n - ddof) std) times the broadcast cotangent; "
            "0 where std == 0.")


# ---------------------------------------------------------------- cumsum


def _cumsum_vjp(em, g, out, x, axis=None, dtype=None):
    kw = {"axis": axis} if axis is not None else {}
    return [em.call("reverse_cumsum", g, x, **kw)]


def _cumsum_jvp(em, dots, out, x, axis=None, dtype=None):
    kw = {"axis": axis} if axis is not None else {}
    if dtype is not None:
        kw["dtype"] = dtype
    return em.cumsum(dots[0], **kw)


defprim("cumsum", np.cumsum, sig="a, /, axis=None, dtype=None",
        vjp=_cumsum_vjp, jvp=_cumsum_jvp, shape=shape_fresh, linear=True,
        doc="np.cumsum: the adjoint is the reversed cumulative sum (axis=None flattens).")


# reverse_cumsum(g, x, axis): sums from each position to the end, shaped like x.
# Linear in g: its adjoint is cumsum along the same axis (which flattens for
# axis=None, giving back g's 1-d shape), its tangent is itself.
def _rcumsum_vjp(em, h, out, g, x, axis=None):
    kw = {"axis": axis} if axis is not None else {}
    return [em.cumsum(h, **kw), None]


def _rcumsum_jvp(em, dots, out, g, x, axis=None):
    if dots[0] is None:
        return None
    kw = {"axis": axis} if axis is not None else {}
    return em.call("reverse_cumsum", dots[0], x, **kw)


defprim("reverse_cumsum", runtime.reverse_cumsum, sig="g, x, /, axis=None",
        pyname="reverse_cumsum", vjp=_rcumsum_vjp, jvp=_rcumsum_jvp,
        shape=lambda args, kwargs: shape_of(args[1]), linear=True,
        doc="runtime helper: the adjoint of np.cumsum.")


# ---------------------------------------------------------------- methods
#
# ndarray methods take their options positionally in NumPy's order; the
# adapters name them so they bind to the primitive's options.  ``out`` is
# passed on by name and refused by the primitive's signature.


def positional_adapter(*names):
    """Adapter for a method whose positional arguments after ``self`` are ``names``."""
    def adapter(args, kwargs):
        self_, rest = args[0], list(args[1:])
        if len(rest) > len(names):
            raise TypeError(f"too many positional arguments (at most {len(names)})")
        kwargs = dict(kwargs)
        for name, v in zip(names, rest):
            if name in kwargs:
                raise TypeError(f"got multiple values for argument {name!r}")
            kwargs[name] = v
        return [self_], kwargs
    return adapter


# ---------------------------------------------------------------- where= / initial=
# np.mean / var / std / prod (and nansum / nanmean, primitives/statistics.py)
# with a ``where=`` mask, np.prod with ``initial=``: composites of the plain
# reductions.  The count of selected elements is summed in the operand's
# dtype (float32 stays float32); a mask broadcasts against the operand.


def _opt(v):
    """An option's Python value (an atom's constant)."""
    return v.value if isinstance(v, Const) else v


def _given_mask(where):
    return where is not None and not (isinstance(where, Const) and
                                      (where.value is None or where.value is True))


def _masked_count(em, a, where, axis, keepdims):
    kw = _red_kw(_opt(axis), _opt(keepdims))
    return em.sum(em.where(where, em.ones_like(a), 0), **kw)


def _mean_where(em, a, axis=None, dtype=None, keepdims=None, where=None):
    kw = _red_kw(_opt(axis), _opt(keepdims))
    if _opt(dtype) is not None:
        kw["dtype"] = _opt(dtype)
    total = em.sum(a, where=where, **kw)
    return em.divide(total, _masked_count(em, a, where, axis, keepdims))


def _var_where(em, a, axis=None, dtype=None, ddof=0, keepdims=None, where=None, mean=None,
               correction=None, parts=False):
    if correction is not None and _opt(correction) is not None:
        # NumPy 2's name for ddof (giving both is NumPy's error too)
        if ddof is not None and not isinstance(ddof, int) and _opt(ddof) not in (None, 0):
            raise S2SGradError("np.var/np.std: ddof and correction can't be provided "
                               "simultaneously")
        ddof = correction
    # NumPy 2's mean=: the deviations are from the given mean (shaped as with
    # keepdims=True), which is differentiated as given
    masked = _given_mask(where)          # (routed here for mean=/correction= alone too)
    kw = _red_kw(_opt(axis), _opt(keepdims))
    if mean is not None and _opt(mean) is not None:
        mu = mean
    elif masked:
        mu = _mean_where(em, a, axis, dtype, True, where)
    else:
        mu = em.mean(a, **_red_kw(_opt(axis), True))
    d = em.subtract(a, mu)
    sq = em.real_if_complex(em.multiply(em.conj_if_complex(d), d))
    if masked:
        total = em.sum(sq, where=where, **kw)
        dof = _masked_count(em, a, where, axis, keepdims)
    else:
        total = em.sum(sq, **kw)
        dof = em.divide(em.size(a), em.size(total))
    ddof = _opt(ddof) or 0
    if ddof:
        dof = em.subtract(dof, ddof)
    if parts:
        return (em.where(where, d, 0) if masked else d), dof
    return em.divide(total, dof)


def _norm_axes(axis):
    """The axis as np.linalg.norm takes it (the 2-norm of the flattened
    selection), or False when norm cannot (three or more axes)."""
    ax = _opt(axis)
    if ax is None or isinstance(ax, (int, np.integer)):
        return ax
    if isinstance(ax, tuple) and len(ax) in (1, 2):
        return ax[0] if len(ax) == 1 else ax
    return False


def _std_where(em, a, axis=None, dtype=None, ddof=0, keepdims=None, where=None, mean=None,
               correction=None):
    # std = ||d|| / sqrt(dof), d = the (selected) deviations: np.linalg.norm's
    # rule, as np.std's (norm_scale): derivative 0 at a zero spread, and a
    # second derivative there in a direction that moves d refused at run time
    # (through sqrt(var) it silently came out 0: the Hessian of
    # std(x, where=m) ** 2 at a constant x was 0, not var's)
    ax = _norm_axes(axis)
    if ax is not False:
        d, dof = _var_where(em, a, axis, dtype, ddof, keepdims, where, mean, correction,
                            parts=True)
        kw = {} if ax is None else {"axis": ax}
        if _opt(keepdims):
            kw["keepdims"] = True
        return em.divide(em.norm(d, **kw), em.sqrt(dof))
    # three or more axes: derivative 0 where the spread is 0 (one selected element)
    v = _var_where(em, a, axis, dtype, ddof, keepdims, where, mean, correction)
    zero = em.equal(v, 0)
    return em.where(zero, 0, em.sqrt(em.where(zero, 1, v)))


def _prod_masked(em, a, axis=None, dtype=None, keepdims=None, initial=None, where=None):
    x = em.where(where, a, 1) if _given_mask(where) else a
    kw = _red_kw(_opt(axis), _opt(keepdims))
    if _opt(dtype) is not None:
        kw["dtype"] = _opt(dtype)
    out = em.prod(x, **kw)
    if initial is not None and _opt(initial) is not None:
        out = em.multiply(out, initial)
    return out


def _route(composite, keys):
    """A ``canonicalize`` hook: the call goes to ``composite`` when one of
    the keyword options ``keys`` is given."""
    def canonicalize(args, kwargs):
        if any(k in kwargs and not (isinstance(kwargs[k], Const) and kwargs[k].value is None)
               for k in keys):
            return get(composite), args, kwargs
        return args, kwargs
    return canonicalize


defprim("mean_where", None, sig="a, /, axis=None, dtype=None, keepdims=None, *, where=True",
        expand=_mean_where, doc="np.mean(..., where=mask): masked sum / masked count.")
defprim("var_where", None,
        sig="a, /, axis=None, dtype=None, *, ddof=0, keepdims=None, where=True, mean=None, "
            "correction=None",
        expand=_var_where, doc="np.var(..., where=mask / mean= / correction=): from masked "
                               "sums.")
defprim("std_where", None,
        sig="a, /, axis=None, dtype=None, *, ddof=0, keepdims=None, where=True, mean=None, "
            "correction=None",
        expand=_std_where, doc="np.std(..., where=mask / mean= / correction=): sqrt of the "
                               "masked variance.")
defprim("prod_masked", None,
        sig="a, /, axis=None, dtype=None, keepdims=None, initial=None, where=True",
        expand=_prod_masked, doc="np.prod(..., initial=, where=): the prod of where(mask, a, 1), "
                                 "times initial.")
get("mean").canonicalize = _route("mean_where", ("where",))
get("var").canonicalize = _route("var_where", ("where", "mean", "correction"))
get("std").canonicalize = _route("std_where", ("where", "mean", "correction"))
get("prod").canonicalize = _route("prod_masked", ("where", "initial"))


_REDUCE = positional_adapter("axis", "dtype", "out", "keepdims")
for _name in ("sum", "mean", "prod"):
    defmethod(_name, get(_name), _REDUCE)
for _name in ("max", "min"):
    defmethod(_name, get(_name), positional_adapter("axis", "out", "keepdims"))
for _name in ("var", "std"):
    defmethod(_name, get(_name), positional_adapter("axis", "dtype", "out", "ddof", "keepdims"))
defmethod("cumsum", get("cumsum"), positional_adapter("axis", "dtype", "out"))
