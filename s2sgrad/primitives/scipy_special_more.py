"""scipy.special, session 21 (cov8): functions the wider probes found refused.

* ``fresnel(x) = (S, C)``: ``S' = sin(pi x^2 / 2)``, ``C' = cos(pi x^2 / 2)``
  (holomorphic: complex ``z`` too).  ``sici(x) = (Si, Ci)``: ``Si' =
  sin(x) / x`` (1 at 0), ``Ci' = cos(x) / x`` (SciPy's real ``Ci`` of a
  negative ``x`` is ``Ci(|x|)``, whose derivative is the same quotient);
  ``shichi`` likewise with ``sinh``/``cosh``.
* ``wofz(z)`` (Faddeeva): ``w' = -2 z w + 2i / sqrt(pi)`` -- holomorphic, so
  the rules follow complex.py's convention (the cotangent of ``w(z)`` is
  ``g * w'(z)``, JAX's and autograd's).
* ``struve(v, x)``, ``modstruve(v, x)`` in ``x`` (the order ``v`` is data):
  ``2 H_v' = H_{v-1} - H_{v+1} + (x/2)^v / (sqrt(pi) Gamma(v + 3/2))`` and
  ``2 L_v' = L_{v-1} + L_{v+1} + (x/2)^v / (sqrt(pi) Gamma(v + 3/2))`` (no
  division by x, so x = 0 is covered).
* ``bdtr(k, n, p)``, ``bdtrc`` in ``p`` (``k``, ``n`` data, integers):
  ``d bdtr / dp = -(n - k) C(n, k) p^k (1 - p)^(n-k-1)`` with ``k =
  floor(k)``; 0 where ``k == n`` (the function is constant there) and NaN
  where ``k < 0`` or ``k > n`` (SciPy's value is NaN).
* ``gdtr(a, b, x) = gammainc(b, a x)``, ``gdtrc``: in ``a`` and ``x``
  (through the density) and in ``b`` (``gammainc``'s quadrature helper).
* ``smirnov(n, d)``, ``smirnovi(n, p)``, ``kolmogorov(x)``, ``kolmogi(p)``:
  SciPy's own derivative ufuncs (``_smirnovp``, ``_kolmogp``), ``n`` data;
  those are not differentiated again (a second derivative is refused).
* ``stdtrit(df, p)`` in ``p``: 1 / the t density at the result (``df``
  data); ``scipy.stats.t.ppf``/``isf`` and ``gamma.ppf``/``isf`` use the
  inverse functions.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.special as sc

from . import printing
from .core import defprim, shape_elementwise, shape_of
from .scipy_special import _gamma_density, _special, c, def_with_data, t_logpdf_std

_SQRT_PI = math.sqrt(math.pi)
_PI2 = math.pi / 2.0


# ---------------------------------------------------------------- two-result ufuncs

def _pair(name, impl, dfirst, dsecond):
    """An elementwise ufunc returning two results, each differentiable:
    ``dfirst(em, x)``, ``dsecond(em, x)`` their derivatives."""
    def vjp(em, g, out, x):
        total = None
        for gk, d in zip(g, (dfirst, dsecond)):
            if gk is not None:
                total = em.add_ct(total, em.multiply(gk, d(em, x)))
        return [total]

    def jvp(em, dots, out, x):
        d = dots[0]
        return (em.multiply(d, dfirst(em, x)), em.multiply(d, dsecond(em, x)))

    return defprim(name, impl, sig="x, /", vjp=vjp, jvp=jvp, nouts=2,
                   pyname=f"scipy.special.{name}",
                   shape=lambda args, kwargs: (shape_of(args[0]), shape_of(args[0])),
                   doc=f"scipy.special.{name}(x): two results, both differentiated.")


def _fresnel_arg(em, x):
    return em.multiply(_PI2, em.square(x))


def _sinc_like(em, num, x):
    """``num(x) / x`` with its limit 1 at 0 (``sin``, ``sinh``)."""
    zero = em.equal(x, 0)
    xs = em.where(zero, 1.0, x)
    return em.where(zero, 1.0, em.divide(num(xs), xs))


if hasattr(sc, "fresnel"):
    _pair("fresnel", sc.fresnel, lambda em, x: em.sin(_fresnel_arg(em, x)),
          lambda em, x: em.cos(_fresnel_arg(em, x)))
if hasattr(sc, "sici"):
    _pair("sici", sc.sici, lambda em, x: _sinc_like(em, em.sin, x),
          lambda em, x: em.divide(em.cos(x), x))
if hasattr(sc, "shichi"):
    _pair("shichi", sc.shichi, lambda em, x: _sinc_like(em, em.sinh, x),
          lambda em, x: em.divide(em.cosh(x), x))

# ---------------------------------------------------------------- Faddeeva

_special("wofz", 1, lambda em, out, z: [
    em.add(em.multiply(em.multiply(-2.0, z), out), 2j / _SQRT_PI)])


# ---------------------------------------------------------------- Struve functions

def _struve_partials(modified):
    name = "modstruve" if modified else "struve"

    def partials(em, out, x, v=None):
        lo = em.call(name, x, v=em.subtract(v, 1.0))
        hi = em.call(name, x, v=em.add(v, 1.0))
        # (x/2)^v / (sqrt(pi) Gamma(v + 3/2)), through xlogy (1 at x = v = 0)
        extra = em.exp(em.subtract(em.xlogy(v, em.multiply(0.5, x)),
                                   em.add(c(em, "gammaln", em.add(v, 1.5)), math.log(_SQRT_PI))))
        body = em.add(lo, hi) if modified else em.subtract(lo, hi)
        return [em.multiply(0.5, em.add(body, extra))]
    return partials


def_with_data("struve", getattr(sc, "struve", None), ("v", "x"), ("v",), _struve_partials(False))
def_with_data("modstruve", getattr(sc, "modstruve", None), ("v", "x"), ("v",),
              _struve_partials(True))


# ---------------------------------------------------------------- binomial, gamma cdfs

def _bdtr_partial(sign):
    def partials(em, out, p, k=None, n=None):
        kf = em.floor(k)
        nk = em.subtract(n, kf)
        logc = em.subtract(c(em, "gammaln", em.add(n, 1.0)),
                           em.add(c(em, "gammaln", em.add(kf, 1.0)), c(em, "gammaln", nk)))
        dens = em.exp(em.add(em.add(logc, em.xlogy(kf, p)),
                             em.xlog1py(em.subtract(nk, 1.0), em.negative(p))))
        d = em.where(em.equal(kf, n), 0.0,
                     em.where(em.logical_or(em.less(kf, 0), em.greater(kf, n)), np.nan, dens))
        return [em.negative(d) if sign < 0 else d]
    return partials


def_with_data("bdtr", getattr(sc, "bdtr", None), ("k", "n", "p"), ("k", "n"), _bdtr_partial(-1))
def_with_data("bdtrc", getattr(sc, "bdtrc", None), ("k", "n", "p"), ("k", "n"), _bdtr_partial(1))


def _gdtr_partials(sign):
    def partials(em, out, a, b, x):
        ax = em.multiply(a, x)
        dens = _gamma_density(em, b, ax)
        ps = [em.multiply(x, dens), em.call("gammainc_da", b, ax), em.multiply(a, dens)]
        return ps if sign > 0 else [em.negative(p) for p in ps]
    return partials


def_with_data("gdtr", getattr(sc, "gdtr", None), ("a", "b", "x"), (), _gdtr_partials(1))
def_with_data("gdtrc", getattr(sc, "gdtrc", None), ("a", "b", "x"), (), _gdtr_partials(-1))


# ---------------------------------------------------------------- Kolmogorov-Smirnov

_uf = getattr(sc, "_ufuncs", None)
_smirnovp = getattr(_uf, "_smirnovp", None)
_kolmogp = getattr(_uf, "_kolmogp", None)

if _smirnovp is not None:
    defprim("smirnovp", lambda d, n=1: _smirnovp(n, d), sig="d, /, n=1", opaque=True,
            pyname="scipy.special._ufuncs._smirnovp",
            printer=lambda args, kwargs, eqn: printing.call(
                "scipy.special._ufuncs._smirnovp", [kwargs["n"], args[0]], {}),
            shape=lambda args, kwargs: shape_elementwise(list(args) + [kwargs["n"]], {}),
            doc="SciPy's derivative of smirnov(n, d) in d (not differentiated again).")
    def_with_data("smirnov", getattr(sc, "smirnov", None), ("n", "d"), ("n",),
                  lambda em, out, d, n=None: [em.call("smirnovp", d, n=n)])
    def_with_data("smirnovi", getattr(sc, "smirnovi", None), ("n", "p"), ("n",),
                  lambda em, out, p, n=None: [em.reciprocal(em.call("smirnovp", out, n=n))])

if _kolmogp is not None:
    defprim("kolmogp", _kolmogp, sig="x, /", opaque=True,
            pyname="scipy.special._ufuncs._kolmogp", shape=shape_elementwise,
            doc="SciPy's derivative of kolmogorov(x) (not differentiated again).")
    _special("kolmogorov", 1, lambda em, out, x: [em.call("kolmogp", x)])
    _special("kolmogi", 1, lambda em, out, p: [em.reciprocal(em.call("kolmogp", out))])


# ---------------------------------------------------------------- Student's t quantile

# stdtrit(df, p): the inverse of stdtr in p; dt/dp = 1 / the t density at t
# (df data, as stdtr's).  scipy.stats.t.ppf/isf use it.
def_with_data("stdtrit", getattr(sc, "stdtrit", None), ("df", "p"), ("df",),
              lambda em, out, p, df=None: [em.exp(em.negative(t_logpdf_std(em, out, df)))])
