"""``np.polymul``: ``np.convolve`` of the two coefficient vectors, as NumPy
computes it -- when neither has a leading zero coefficient.  NumPy passes
both through ``np.poly1d``, which drops leading zeros, so with one the
product's length depends on the values; that is checked when the function
runs (``runtime.poly_coefficients`` raises a ``ValueError`` saying so)
rather than giving a result of another length.
"""
from __future__ import annotations

import numpy as np

from .. import runtime
from .core import defcomposite, defprim, shape_fresh


def _coefficients_vjp(em, g, out, a):
    return [em.unbroadcast(g, a)]           # (a 0-d a became shape (1,))


defprim("poly_coefficients", runtime.poly_coefficients, sig="a, /", pyname="poly_coefficients",
        vjp=_coefficients_vjp,
        jvp=lambda em, dots, out, a: None if dots[0] is None else em.call("atleast_1d",
                                                                          dots[0]),
        linear=True, alloc=True, shape=shape_fresh,
        doc="runtime helper: np.polymul's operand (1-d, checked to have a nonzero leading "
            "coefficient); the identity for derivatives.")

defcomposite("polymul", np.polymul, sig="a1, a2, /",
             expand=lambda em, a1, a2: em.call("convolve", em.call("poly_coefficients", a1),
                                               em.call("poly_coefficients", a2)),
             doc="np.polymul: np.convolve of the coefficients (leading coefficients nonzero, "
                 "checked at run time).")
