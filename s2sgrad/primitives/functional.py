"""Helpers of the NumPy functions that call the user's function
(``lower/functional.py`` lowers the calls): ``np.apply_over_axes``'s
re-inserted axis (``axes_kept``)."""
from __future__ import annotations

from .. import runtime
from .core import defprim, shape_fresh


def _axes_kept_vjp(em, g, out, res, a, axis):
    # the result is res itself or res with one unit axis inserted
    return [em.reshape(g, em.shape(res)), None]


defprim("axes_kept", runtime.axes_kept, sig="res, a, /, axis", pyname="axes_kept",
        vjp=_axes_kept_vjp,
        jvp=lambda em, dots, out, res, a, axis: None if dots[0] is None else
        em.call("axes_kept", dots[0], a, axis=axis),
        linear=True, shape=shape_fresh,
        doc="runtime helper: np.apply_over_axes' pass result with the axis kept (the "
            "identity for derivatives, up to a unit axis).")
