"""Reductions: sum, mean, ... with ``axis``/``keepdims``.

The adjoint of a reduction puts the reduced axes back (``unreduce``) and
broadcasts to the operand's shape; no Jacobian is formed.
"""
from __future__ import annotations

import numpy as np

from .core import defprim, shape_fresh, SCALAR


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


def _sum_vjp(em, g, out, x, axis=None, dtype=None, keepdims=None):
    return [em.unreduce(g, x, **_red_kw(axis, keepdims))]


def _sum_jvp(em, dots, out, x, axis=None, dtype=None, keepdims=None):
    return em.sum(dots[0], **_red_kw(axis, keepdims))


defprim("sum", np.sum, sig="a, /, axis=None, dtype=None, keepdims=None",
        vjp=_sum_vjp, jvp=_sum_jvp, shape=_reduced_shape, linear=True,
        doc="np.sum: the cotangent is broadcast back over the summed axes.")


def _mean_count(em, x, out, axis):
    # number of elements averaged into each output element
    if axis is None:
        return em.size(x)
    return em.divide(em.size(x), em.size(out))


def _mean_vjp(em, g, out, x, axis=None, dtype=None, keepdims=None):
    # divide the (small) cotangent first, then broadcast
    return [em.unreduce(em.divide(g, _mean_count(em, x, out, axis)), x, **_red_kw(axis, keepdims))]


def _mean_jvp(em, dots, out, x, axis=None, dtype=None, keepdims=None):
    return em.mean(dots[0], **_red_kw(axis, keepdims))


defprim("mean", np.mean, sig="a, /, axis=None, dtype=None, keepdims=None",
        vjp=_mean_vjp, jvp=_mean_jvp, shape=_reduced_shape, linear=True,
        doc="np.mean: the cotangent divided by the count, broadcast back.")
