"""``np.interp``: piecewise-linear interpolation, differentiable in the
values ``fp`` and in the points ``x`` (the knots ``xp`` are data, as in
JAX's rule).

For each ``x`` the value is ``w_l * fp[i_l] + w_r * fp[i_r]`` -- the two
knots around it, or one end point outside ``[xp[0], xp[-1]]`` (none when
``left=``/``right=`` give the value there) -- so the derivative in ``fp``
is a gather (tangent) and a scatter-add (cotangent) with those weights,
and the derivative in ``x`` is the slope of the interval ``x`` is in:
``(fp[i_r] - fp[i_l]) / (xp[i_r] - xp[i_l])``.  At a knot that is the
interval to its right (NumPy evaluates there from the right; at ``xp[-1]``,
the last interval), and outside ``[xp[0], xp[-1]]`` the derivative is 0.
The weights come from a runtime helper (data); the value is NumPy's own.
``period=`` is NumPy's construction, restated with primitives: ``x`` and
``xp`` taken modulo the period, the knots sorted and extended by one on
each side.  ``left=``/``right=`` are constants (not differentiated).
"""
from __future__ import annotations

import numpy as np

from .. import runtime
from ..ir import Const
from .core import defcomposite, defprim, fresh_shape, shape_of


def _given(v):
    return v is not None and not (isinstance(v, Const) and v.value is None)


def _weights(em, x, xp, left, right):
    kw = {}
    if _given(left):
        kw["left"] = left
    if _given(right):
        kw["right"] = right
    return em.call("interp_weights", x, xp, **kw)


def _parts(em, x, xp, left, right):
    """``(i_l, i_r, w_l, w_r, c)``: the value is ``w_l fp[i_l] + w_r fp[i_r]``
    (outside ``left``/``right``), the slope ``(fp[i_r] - fp[i_l]) c``.  The
    weights are computed here from x (not by the helper), so they carry
    their derivative in x: the second derivative in x and fp is not lost."""
    il, ir, inv, keep, c = _weights(em, x, xp, left, right)
    t = em.clip(em.multiply(em.subtract(x, em.take(xp, il)), inv), a_min=0.0, a_max=1.0)
    return il, ir, em.multiply(em.subtract(1.0, t), keep), em.multiply(t, keep), c


def _slope(em, fp, il, ir, c):
    return em.multiply(em.subtract(em.take(fp, ir), em.take(fp, il)), c)


def _interp_vjp(em, g, out, x, xp, fp, left=None, right=None):
    il, ir, wl, wr, c = _parts(em, x, xp, left, right)
    ct_x = em.unbroadcast(em.multiply(g, _slope(em, fp, il, ir, c)), x)
    ct_fp = em.add(em.call("untake", em.multiply(g, wl), fp, il),
                   em.call("untake", em.multiply(g, wr), fp, ir))
    return [ct_x, None, ct_fp]


def _interp_jvp(em, dots, out, x, xp, fp, left=None, right=None):
    dx, _, dfp = dots
    if dx is None and dfp is None:
        return None
    il, ir, wl, wr, c = _parts(em, x, xp, left, right)
    t = None
    if dfp is not None:
        t = em.add(em.multiply(em.take(dfp, il), wl), em.multiply(em.take(dfp, ir), wr))
    if dx is not None:
        t = em.add_ct(t, em.multiply(dx, _slope(em, fp, il, ir, c)))
    return t


defprim("interp_core", None, sig="x, xp, fp, /, left=None, right=None", pyname="np.interp",
        vjp=_interp_vjp, jvp=_interp_jvp, data_args=lambda i: i == 1,
        shape=lambda args, kwargs: shape_of(args[0]),
        doc="np.interp (without period): differentiable in x (the slope) and fp (the "
            "weights); xp is data.")
defprim("interp_weights", runtime.interp_weights, sig="x, xp, /, left=None, right=None",
        pyname="interp_weights", nondiff=True, nouts=5,
        shape=lambda args, kwargs: tuple(fresh_shape() for _ in range(5)),
        doc="runtime helper: the knots and weights of np.interp, data.")


def _interp(em, x, xp, fp, left=None, right=None, period=None):
    kw = {k: v for k, v in (("left", left), ("right", right)) if _given(v)}
    if not _given(period):
        # a computed left/right (maybe differentiated): NumPy returns it where
        # x < xp[0] (x > xp[-1]), so it is selected there by a where
        dyn = {k: v for k, v in kw.items() if not isinstance(v, Const)}
        out = em.call("interp_core", x, xp, fp,
                      **{k: v for k, v in kw.items() if k not in dyn})
        if "left" in dyn:
            first = em.call("getitem", xp, _params={"index": 0})
            out = em.where(em.less(x, first), dyn["left"], out)
        if "right" in dyn:
            last = em.call("getitem", xp, _params={"index": -1})
            out = em.where(em.greater(x, last), dyn["right"], out)
        return out
    # NumPy's construction: left/right are ignored with a period
    # (a list literal as an array: the remainder is printed as `%`)
    x, xp, fp = (Const(np.asarray(v.value)) if isinstance(v, Const) and
                 isinstance(v.value, (list, tuple)) else v for v in (x, xp, fp))
    x = em.remainder(x, period)
    xp = em.remainder(xp, period)
    order = em.argsort(xp)
    xp = em.take(xp, order)
    fp = em.take(fp, order)
    xp = em.concatenate(em.subtract(em.take(xp, [-1]), period), xp,
                        em.add(em.take(xp, [0]), period))
    fp = em.concatenate(em.take(fp, [-1]), fp, em.take(fp, [0]))
    return em.call("interp_core", x, xp, fp)


defcomposite("interp", np.interp, sig="x, xp, fp, left=None, right=None, period=None",
             expand=_interp,
             doc="np.interp: differentiable in x and fp (xp is data); period= as NumPy.")
