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
from ..ir import Const
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


# np.polydiv: (q, r) with u = q v + r; the remainder's length is checked at
# run time (runtime.polydiv_qr).  The derivative helpers solve with the
# division's matrix (runtime_numpy's comment); they are not differentiable
# again (a second derivative through np.polydiv is refused).

def _polydiv_vjp(em, g, out, u, v):
    gq, gr = g
    q, r = out
    return list(em.call("polydiv_adjoint", Const(None) if gq is None else gq,
                        Const(None) if gr is None else gr, q, r, u, v))


def _polydiv_jvp(em, dots, out, u, v):
    if all(d is None for d in dots):
        return None
    q, r = out
    return em.call("polydiv_tangent", *[Const(None) if d is None else d for d in dots],
                   q, r, u, v)


defprim("polydiv", runtime.polydiv_qr, sig="u, v, /", aliases=(np.polydiv,),
        pyname="polydiv_qr", vjp=_polydiv_vjp, jvp=_polydiv_jvp, nouts=2,
        shape=shape_fresh, alloc=True,
        doc="np.polydiv(u, v): quotient and remainder (the remainder's length checked at "
            "run time); derivatives by solving with the division's matrix.")
defprim("polydiv_tangent", runtime.polydiv_tangent, sig="du, dv, q, r, u, v, /", opaque=True,
        pyname="polydiv_tangent", nouts=2, shape=shape_fresh,
        doc="runtime helper: np.polydiv's tangents (not differentiable again).")
defprim("polydiv_adjoint", runtime.polydiv_adjoint, sig="gq, gr, q, r, u, v, /", opaque=True,
        pyname="polydiv_adjoint", nouts=2, shape=shape_fresh,
        doc="runtime helper: np.polydiv's cotangents (not differentiable again).")
