"""scipy.special: ``lpmv`` (associated Legendre functions), ``sph_harm_y``
(spherical harmonics, in the angles) and ``bernoulli`` (Bernoulli numbers,
data).

``lpmv(m, v, x)`` is differentiable in ``x`` (the order ``m`` and degree
``v`` are data, as ``jv``'s order is): SciPy's ``P_v^m`` (with the
Condon-Shortley phase) satisfies ``(1 - x^2) dP_v^m/dx = (v + m) P_{v-1}^m
- v x P_v^m`` on ``-1 < x < 1``, so the derivative is that quotient,
infinite or NaN at ``x = +-1`` where the function itself has a branch point.
Imported with the other ``scipy.special`` rules (``core.OPTIONAL_RULES``).
"""
from __future__ import annotations

import scipy.special as sc

from .. import runtime
from .core import defprim, shape_fresh
from .scipy_special import def_with_data


def _lpmv_partials(em, out, x, m, v):
    lower = em.call("lpmv", x, m=m, v=em.subtract(v, 1))
    num = em.subtract(em.multiply(em.add(v, m), lower), em.multiply(em.multiply(v, x), out))
    return [em.divide(num, em.subtract(1, em.multiply(x, x)))]


def_with_data("lpmv", getattr(sc, "lpmv", None), ("m", "v", "x"), ("m", "v"), _lpmv_partials)

if hasattr(sc, "bernoulli"):
    defprim("scipy.special.bernoulli", sc.bernoulli, sig="n, /", nondiff=True,
            pyname="scipy.special.bernoulli", shape=shape_fresh,
            doc="scipy.special.bernoulli(n): the Bernoulli numbers B_0..B_n (data).")


# scipy.special.sph_harm_y(n, m, theta, phi): differentiable in the angles
# theta (polar) and phi (azimuthal); the degree n and order m are data.  SciPy
# computes the derivatives itself (diff_n=1: the gradient in (theta, phi) on a
# last axis of 2; diff_n=2: the Hessian), so the rules read them from it:
# d Y = J[..., 0] d theta + J[..., 1] d phi, the cotangent of a (real) angle
# the real part of g J[..., k] (the transpose convention of complex.py); the
# second derivative through the Hessian; a third is refused (the Hessian
# helper has no rule).  Where SciPy's derivative is NaN or infinite (cot theta
# at the poles for some orders) so is the rule's.
def _col(em, a, k):
    return em.call("getitem", a, _params={"index": (Ellipsis, k)})


def _sph_partials(em, out, theta, phi, n=None, m=None):
    jac = em.call("sph_harm_y_jac", theta, phi, n=n, m=m)
    return [_col(em, jac, 0), _col(em, jac, 1)]


def _sph_jac_jvp(em, dots, out, theta, phi, n=None, m=None):
    hess = em.call("sph_harm_y_hess", theta, phi, n=n, m=m)
    total = None
    for k, d in enumerate(dots):
        if d is not None:
            total = em.add_ct(total, em.multiply(_col(em, hess, k), em.expand_dims(d, axis=-1)))
    return em.broadcast_like(total, out)


def _sph_jac_vjp(em, g, out, theta, phi, n=None, m=None):
    hess = em.call("sph_harm_y_hess", theta, phi, n=n, m=m)
    return [em.unbroadcast(em.real_if_complex(em.sum(em.multiply(g, _col(em, hess, k)),
                                                     axis=-1)), a)
            for k, a in enumerate((theta, phi))]


if hasattr(sc, "sph_harm_y"):
    defprim("sph_harm_y_jac", runtime.sph_harm_y_jac, sig="theta, phi, /, n=0, m=0",
            pyname="sph_harm_y_jac",
            vjp=_sph_jac_vjp, jvp=_sph_jac_jvp, shape=shape_fresh,
            doc="runtime helper: SciPy's gradient of sph_harm_y in (theta, phi).")
    defprim("sph_harm_y_hess", runtime.sph_harm_y_hess, sig="theta, phi, /, n=0, m=0",
            pyname="sph_harm_y_hess", opaque=True, shape=shape_fresh,
            doc="runtime helper: SciPy's Hessian of sph_harm_y in (theta, phi) (not "
                "differentiated: a third derivative is refused).")
    def_with_data("sph_harm_y", sc.sph_harm_y, ("n", "m", "theta", "phi"), ("n", "m"),
                  _sph_partials, real_values=True)
