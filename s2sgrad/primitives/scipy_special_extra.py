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


# ---------------------------------------------------------------- found by the wider probes
#
# ellipk(m), ellipe(m): dK/dm = (E - (1 - m) K) / (2 m (1 - m)), dE/dm =
# (E - K) / (2 m), with their limits pi/8 and -pi/8 at m = 0 (the quotients
# are 0/0 there); infinite at m = 1 as the functions' own branch point.
# owens_t(h, a): dT/dh = -phi(h) erf(a h / sqrt 2) / 2, dT/da =
# exp(-h^2 (1 + a^2) / 2) / (2 pi (1 + a^2)).  ndtri_exp(y) = ndtri(exp(y)):
# exp(y) / phi(out).  The inverses gammaincinv(a, y), gammainccinv(a, y),
# betaincinv(a, b, y) in y (1 / the forward function's x-derivative) and,
# since session 21, in a and b (-dF/da / dF/dx, by the quadrature helpers).
# scipy.special.round is data.

import math  # noqa: E402

from .elementwise import def_nondiff_elementwise  # noqa: E402
from .scipy_special import _special, c  # noqa: E402

_PI8 = math.pi / 8.0


def _at_zero(em, m, value, expr):
    return em.where(em.equal(m, 0), value, expr)


def _nonzero(em, m):
    """``m`` with its zeros replaced by 0.5 (a denominator whose quotient the
    caller replaces at m == 0 anyway: no 0/0 warning there)."""
    return em.where(em.equal(m, 0), 0.5, m)


def _ellipk_partials(em, out, m):
    E = c(em, "ellipe", m)
    num = em.subtract(E, em.multiply(em.subtract(1.0, m), out))
    den = em.multiply(em.multiply(2.0, _nonzero(em, m)), em.subtract(1.0, m))
    return [_at_zero(em, m, _PI8, em.divide(num, den))]


def _ellipe_partials(em, out, m):
    K = c(em, "ellipk", m)
    return [_at_zero(em, m, -_PI8, em.divide(em.subtract(out, K),
                                             em.multiply(2.0, _nonzero(em, m))))]


_special("ellipk", 1, _ellipk_partials)
_special("ellipe", 1, _ellipe_partials)


def _owens_t_partials(em, out, h, a):
    phi = em.multiply(1.0 / math.sqrt(2.0 * math.pi), em.exp(em.multiply(-0.5, em.square(h))))
    dh = em.multiply(em.multiply(-0.5, phi),
                     c(em, "erf", em.multiply(em.multiply(a, h), 1.0 / math.sqrt(2.0))))
    q = em.add(1.0, em.square(a))
    da = em.divide(em.exp(em.multiply(em.multiply(-0.5, em.square(h)), q)),
                   em.multiply(2.0 * math.pi, q))
    return [dh, da]


_special("owens_t", 2, _owens_t_partials)
_special("ndtri_exp", 1, lambda em, out, y: [em.multiply(
    math.sqrt(2.0 * math.pi), em.exp(em.add(y, em.multiply(0.5, em.square(out)))))])


def _gammaincinv_partials(sign):
    def partials(em, out, a, y):
        # 1 / (d/dx P(a, x)) = Gamma(a) x^(1 - a) e^x at x = out; in a (implicit
        # function theorem, P(a, x) = y or Q(a, x) = y): -dP/da / dP/dx
        d = em.exp(em.add(em.subtract(out, em.multiply(em.subtract(a, 1.0), em.log(out))),
                          c(em, "gammaln", a)))
        da = em.negative(em.multiply(em.call("gammainc_da", a, out), d))
        return [da, d if sign > 0 else em.negative(d)]
    return partials


def_with_data("gammaincinv", getattr(sc, "gammaincinv", None), ("a", "y"), (),
              _gammaincinv_partials(1))
def_with_data("gammainccinv", getattr(sc, "gammainccinv", None), ("a", "y"), (),
              _gammaincinv_partials(-1))


def _betaincinv_partials(em, out, a, b, y):
    # 1 / (d/dx I_x(a, b)) = B(a, b) x^(1 - a) (1 - x)^(1 - b) at x = out;
    # in a and b: -dI/da / dI/dx, -dI/db / dI/dx
    lg = em.subtract(c(em, "betaln", a, b),
                     em.add(em.multiply(em.subtract(a, 1.0), em.log(out)),
                            em.multiply(em.subtract(b, 1.0), em.log1p(em.negative(out)))))
    d = em.exp(lg)
    return [em.negative(em.multiply(em.call("betainc_da", a, b, out), d)),
            em.negative(em.multiply(em.call("betainc_db", a, b, out), d)), d]


def_with_data("betaincinv", getattr(sc, "betaincinv", None), ("a", "b", "y"), (),
              _betaincinv_partials)

if hasattr(sc, "round"):
    def_nondiff_elementwise("scipy.special.round", sc.round, 1, pyname="scipy.special.round")
