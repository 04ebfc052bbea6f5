"""``np.r_[...]`` and ``np.c_[...]``: lowered to ``np.concatenate`` of their
items, each converted as NumPy converts it (:func:`s2sgrad.runtime.r_item`:
at least 1-d; :func:`~s2sgrad.runtime.c_item`: at least 2-d, a 1-d item as
a column).  The conversions only reshape, so their derivative reshapes the
cotangent back to the item's shape (linear; differentiable again)."""
from __future__ import annotations

from .. import runtime
from .core import defprim, shape_fresh


def _reshape_back_vjp(em, g, out, x):
    return [em.reshape(g, em.shape(x))]


defprim("r_item", runtime.r_item, sig="x, /", pyname="r_item", linear=True,
        vjp=_reshape_back_vjp,
        jvp=lambda em, dots, out, x: em.r_item(dots[0]), shape=shape_fresh)
defprim("c_item", runtime.c_item, sig="x, /", pyname="c_item", linear=True,
        vjp=_reshape_back_vjp,
        jvp=lambda em, dots, out, x: em.c_item(dots[0]), shape=shape_fresh)
