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
from ..errors import S2SGradError
from ..ir import Const
from .core import REGISTRY, defcomposite, defprim, shape_elementwise, shape_of
from .scipy_special import (_beta_density, _gamma_density, _special, c, def_with_data,
                            t_logpdf_std)

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


# ---------------------------------------------------------------- widened probes (cov8)
#
# Orthogonal polynomials in x (the degree n and the parameters are data):
#   P_n' = C_{n-1}^(3/2),  T_n' = n U_{n-1},  U_n' = 2 C_{n-1}^(2),
#   C_n^(a)' = 2a C_{n-1}^(a+1),  H_n' = 2n H_{n-1},  He_n' = n He_{n-1},
#   L_n' = -L_{n-1}^(1),  L_n^(a)' = -L_{n-1}^(a+1),
#   P_n^(a,b)' = (n + a + b + 1)/2 P_{n-1}^(a+1,b+1),  P*_n(x) = P_n(2x - 1)
# (SciPy's value at degree -1 is 0, so degree 0 has derivative 0; the
# Gegenbauer/Legendre/Jacobi relations hold for real degrees too, through
# SciPy's hypergeometric definitions).
# exprel' = (e^x - exprel(x)) / x, its Taylor polynomial for |x| < 1e-3.
# lambertw' = W / (z (1 + W)) (1 at 0; holomorphic; k, tol data).
# kn' = -(K_{n-1} + K_{n+1}) / 2; hankel1/2' = (H_{v-1} - H_{v+1}) / 2.
# spherical_jn/yn/in/kn: SciPy's derivative=True in z, and that one's
# derivative from the spherical Bessel equations
#   f'' = -2 f'/z - (1 - n(n+1)/z^2) f   (jn, yn),   f'' = -2 f'/z + (1 + n(n+1)/z^2) f   (in, kn).
# ellipkinc(phi, m): dF/dphi = 1/D, dF/dm = E/(2m(1-m)) - F/(2m) - sin(2 phi)/(4(1-m) D)
# (phi/4 - sin(2 phi)/8 at m = 0); ellipeinc: dE/dphi = D, dE/dm = (E - F)/(2m)
# (-(phi/4 - sin(2 phi)/8) at m = 0), D = sqrt(1 - m sin^2 phi).
# ellipkm1(p) = K(1 - p): -(E(1 - p) - p K)/(2 p (1 - p)).
# ellipj(u, m) in u (m data): sn' = cn dn, cn' = -sn dn, dn' = -m sn cn, ph' = dn.
# airy(z): Ai' = Ai', (Ai')' = z Ai, likewise Bi.
# voigt_profile(x, sigma, gamma) = Re w(z) / (sigma sqrt(2 pi)), z = (x + i gamma)/(sigma sqrt 2).
# fdtr(dfn, dfd, x) = betainc(dfn/2, dfd/2, dfn x/(dfn x + dfd)) (all three;
# the degrees of freedom through the quadrature helpers), fdtrc = 1 - fdtr;
# nbdtr(k, n, p) = betainc(n, k + 1, p) in p; pdtri(k, y), chdtri(v, y):
# 1 / the forward function's derivative at the result (k, v data).

_SQRT2 = math.sqrt(2.0)


def _poly(name, partial):
    def_with_data(name, getattr(sc, name, None), ("n", "x"), ("n",), partial)


def _poly2(name, partial, params):
    def_with_data(name, getattr(sc, name, None), ("n",) + params + ("x",), ("n",) + params,
                  partial)


def _deg_pos(em, n):
    return em.greater(n, 0)


def _nm1(em, n):
    return em.maximum(em.subtract(n, 1), 0)


_poly("eval_legendre", lambda em, out, x, n=None: [
    em.call("eval_gegenbauer", x, n=em.subtract(n, 1), alpha=1.5)])
_poly("eval_chebyt", lambda em, out, x, n=None: [
    em.multiply(n, em.call("eval_chebyu", x, n=em.subtract(n, 1)))])
_poly("eval_chebyu", lambda em, out, x, n=None: [
    em.multiply(2.0, em.call("eval_gegenbauer", x, n=em.subtract(n, 1), alpha=2.0))])
_poly2("eval_gegenbauer", lambda em, out, x, n=None, alpha=None: [
    em.multiply(em.multiply(2.0, alpha), em.call("eval_gegenbauer", x, n=em.subtract(n, 1),
                                                 alpha=em.add(alpha, 1.0)))], ("alpha",))
_poly("eval_hermite", lambda em, out, x, n=None: [em.where(_deg_pos(em, n), em.multiply(
    em.multiply(2.0, n), em.call("eval_hermite", x, n=_nm1(em, n))), 0.0)])
_poly("eval_hermitenorm", lambda em, out, x, n=None: [em.where(_deg_pos(em, n), em.multiply(
    n, em.call("eval_hermitenorm", x, n=_nm1(em, n))), 0.0)])
_poly("eval_laguerre", lambda em, out, x, n=None: [em.negative(
    em.call("eval_genlaguerre", x, n=em.subtract(n, 1), alpha=1.0))])
_poly2("eval_genlaguerre", lambda em, out, x, n=None, alpha=None: [em.negative(
    em.call("eval_genlaguerre", x, n=em.subtract(n, 1), alpha=em.add(alpha, 1.0)))],
    ("alpha",))
_poly2("eval_jacobi", lambda em, out, x, n=None, alpha=None, beta=None: [em.multiply(
    em.multiply(0.5, em.add(em.add(n, alpha), em.add(beta, 1.0))),
    em.call("eval_jacobi", x, n=em.subtract(n, 1), alpha=em.add(alpha, 1.0),
            beta=em.add(beta, 1.0)))], ("alpha", "beta"))
_poly("eval_sh_legendre", lambda em, out, x, n=None: [em.multiply(2.0, em.call(
    "eval_gegenbauer", em.subtract(em.multiply(2.0, x), 1.0), n=em.subtract(n, 1), alpha=1.5))])


def _exprel_partial(em, out, x):
    small = em.less(em.absolute(x), 1e-3)
    xs = em.where(small, 1.0, x)
    exact = em.divide(em.subtract(em.exp(xs), c(em, "exprel", xs)), xs)
    taylor = em.add(0.5, em.multiply(x, em.add(1.0 / 3.0, em.multiply(
        x, em.add(0.125, em.multiply(x, 1.0 / 30.0))))))
    return [em.where(small, taylor, exact)]


_special("exprel", 1, _exprel_partial)


def _lambertw_partial(em, out, z, k=None, tol=None):
    zero = em.equal(z, 0)
    zs = em.where(zero, 1.0, z)
    return [em.where(zero, 1.0, em.divide(out, em.multiply(zs, em.add(1.0, out))))]


def _lambertw_public(expand):
    def ex(em, z, k=None, tol=None):
        return expand(em, z, Const(0) if k is None else k, Const(1e-8) if tol is None else tol)
    return ex


def_with_data("lambertw", getattr(sc, "lambertw", None), ("z", "k", "tol"), ("k", "tol"),
              _lambertw_partial, public_expand=_lambertw_public, public_sig="z, k=0, tol=1e-8")

def_with_data("kn", getattr(sc, "kn", None), ("n", "x"), ("n",), lambda em, out, x, n=None: [
    em.multiply(-0.5, em.add(em.call("kn", x, n=em.subtract(n, 1)),
                             em.call("kn", x, n=em.add(n, 1))))])
for _h in ("hankel1", "hankel2", "hankel1e", "hankel2e"):
    if _h.endswith("e"):
        continue
    def_with_data(_h, getattr(sc, _h, None), ("v", "z"), ("v",),
                  (lambda h: lambda em, out, z, v=None: [em.multiply(0.5, em.subtract(
                      em.call(h, z, v=em.subtract(v, 1.0)),
                      em.call(h, z, v=em.add(v, 1.0))))])(_h))


# spherical Bessel functions: value and derivative=True primitives
def _spherical(name, modified):
    impl = getattr(sc, name, None)
    if impl is None:
        return
    sign = 1.0 if modified else -1.0

    def second(em, f, fp, z, n):
        nn1 = em.divide(em.multiply(n, em.add(n, 1.0)), em.square(z))
        lin = em.add(1.0, nn1) if modified else em.subtract(1.0, nn1)
        return em.add(em.multiply(-2.0, em.divide(fp, z)), em.multiply(sign, em.multiply(lin, f)))

    dname = f"{name}_d"

    def vjp_v(em, g, out, z, n=None):
        return [em.unbroadcast(em.multiply(g, em.call(dname, z, n=n)), z)]

    def jvp_v(em, dots, out, z, n=None):
        return em.broadcast_like(em.multiply(dots[0], em.call(dname, z, n=n)), out)

    def vjp_d(em, g, out, z, n=None):
        return [em.unbroadcast(em.multiply(g, second(em, em.call(name, z, n=n), out, z, n)), z)]

    def jvp_d(em, dots, out, z, n=None):
        return em.broadcast_like(em.multiply(dots[0], second(em, em.call(name, z, n=n), out,
                                                             z, n)), out)

    pyname = f"scipy.special.{name}"
    defprim(name, lambda z, n=0: impl(n, z), sig="z, /, n=0", pyname=pyname, vjp=vjp_v,
            jvp=jvp_v, printer=lambda args, kwargs, eqn: printing.call(
                pyname, [kwargs["n"], args[0]], {}),
            shape=lambda args, kwargs: shape_elementwise(list(args) + [kwargs["n"]], {}),
            doc=f"{pyname}(n, z): derivative {pyname}(n, z, derivative=True).")
    defprim(dname, lambda z, n=0: impl(n, z, derivative=True), sig="z, /, n=0", pyname=pyname,
            vjp=vjp_d, jvp=jvp_d, printer=lambda args, kwargs, eqn: printing.call(
                pyname, [kwargs["n"], args[0]],
                {"derivative": __import__("ast").Constant(value=True)}),
            shape=lambda args, kwargs: shape_elementwise(list(args) + [kwargs["n"]], {}),
            doc=f"{pyname}(n, z, derivative=True): its derivative from the Bessel equation.")

    def expand(em, n, z, derivative=None):
        d = False if derivative is None else derivative
        if isinstance(d, Const):
            d = d.value
        if not isinstance(d, (bool, int, np.bool_)):
            raise S2SGradError(f"{pyname}: derivative= must be a constant")
        return em.call(dname if d else name, z, n=n)
    defcomposite(pyname, impl, sig="n, z, derivative=False", expand=expand,
                 doc=f"{pyname}(n, z, derivative=False)")


for _name, _mod in (("spherical_jn", False), ("spherical_yn", False), ("spherical_in", True),
                    ("spherical_kn", True)):
    _spherical(_name, _mod)


def _sin2(em, phi):
    return em.square(em.sin(phi))


def _ellipkinc_partials(em, out, phi, m):
    D = em.sqrt(em.subtract(1.0, em.multiply(m, _sin2(em, phi))))
    E = c(em, "ellipeinc", phi, m)
    zero = em.equal(m, 0)
    ms = em.where(zero, 0.5, m)
    s2 = em.sin(em.multiply(2.0, phi))
    dm = em.subtract(em.subtract(em.divide(E, em.multiply(em.multiply(2.0, ms),
                                                          em.subtract(1.0, ms))),
                                 em.divide(out, em.multiply(2.0, ms))),
                     em.divide(s2, em.multiply(em.multiply(4.0, em.subtract(1.0, ms)), D)))
    at0 = em.subtract(em.multiply(0.25, phi), em.multiply(0.125, s2))
    return [em.reciprocal(D), em.where(zero, at0, dm)]


def _ellipeinc_partials(em, out, phi, m):
    D = em.sqrt(em.subtract(1.0, em.multiply(m, _sin2(em, phi))))
    F = c(em, "ellipkinc", phi, m)
    zero = em.equal(m, 0)
    ms = em.where(zero, 0.5, m)
    at0 = em.negative(em.subtract(em.multiply(0.25, phi),
                                  em.multiply(0.125, em.sin(em.multiply(2.0, phi)))))
    return [D, em.where(zero, at0, em.divide(em.subtract(out, F), em.multiply(2.0, ms)))]


_special("ellipkinc", 2, _ellipkinc_partials)
_special("ellipeinc", 2, _ellipeinc_partials)
_special("ellipkm1", 1, lambda em, out, p: [em.negative(em.divide(
    em.subtract(c(em, "ellipe", em.subtract(1.0, p)), em.multiply(p, out)),
    em.multiply(em.multiply(2.0, p), em.subtract(1.0, p))))])


def _multi(name, impl, nout, derivs, sig="x, /", data=()):
    """An elementwise ufunc with ``nout`` results, differentiable in x:
    ``derivs(em, outs, x, **data)`` gives each result's derivative."""
    def vjp(em, g, out, x, **kw):
        ds = derivs(em, out, x, **kw)
        total = None
        for gk, d in zip(g, ds):
            if gk is not None:
                total = em.add_ct(total, em.multiply(gk, d))
        return [None if total is None else em.unbroadcast(total, x)]

    def jvp(em, dots, out, x, **kw):
        ds = derivs(em, out, x, **kw)
        return tuple(em.broadcast_like(em.multiply(dots[0], d), o) for d, o in zip(ds, out))

    pyname = f"scipy.special.{name}"
    return defprim(name, impl, sig=sig, vjp=vjp, jvp=jvp, nouts=nout, pyname=pyname,
                   shape=lambda args, kwargs: tuple(
                       shape_elementwise(list(args) + list(kwargs.values()), {})
                       for _ in range(nout)),
                   doc=f"{pyname}: {nout} results, differentiated in the first argument.")


if hasattr(sc, "airy"):
    _multi("airy", sc.airy, 4, lambda em, o, z: (o[1], em.multiply(z, o[0]), o[3],
                                                  em.multiply(z, o[2])))
if hasattr(sc, "ellipj"):
    _multi("ellipj_u", lambda u, m=0.0: sc.ellipj(u, m), 4,
           lambda em, o, u, m=None: (em.multiply(o[1], o[2]),
                                     em.negative(em.multiply(o[0], o[2])),
                                     em.negative(em.multiply(m, em.multiply(o[0], o[1]))), o[2]),
           sig="u, /, m=0.0")
    REGISTRY["ellipj_u"].printer = lambda args, kwargs, eqn: printing.call(
        "scipy.special.ellipj", [args[0], kwargs["m"]], {})
    defcomposite("scipy.special.ellipj", sc.ellipj, sig="u, m",
                 expand=lambda em, u, m: tuple(em.call("ellipj_u", u, m=m)),
                 doc="scipy.special.ellipj(u, m): differentiated in u (m data).")


def _voigt_partials(em, out, x, sigma, gamma):
    s2 = em.multiply(sigma, _SQRT2)
    z = em.divide(em.add(x, em.multiply(1j, gamma)), s2)
    w = c(em, "wofz", z)
    wp = em.add(em.multiply(em.multiply(-2.0, z), w), 2j / _SQRT_PI)
    norm = em.multiply(sigma, math.sqrt(2.0 * math.pi))
    base = em.divide(wp, em.multiply(norm, s2))                   # dV/dx as complex
    dx = em.real(base)
    dgamma = em.negative(em.imag(base))
    dsigma = em.subtract(em.negative(em.divide(out, sigma)),
                         em.real(em.divide(em.multiply(wp, z), em.multiply(norm, sigma))))
    return [dx, dsigma, dgamma]


_special("voigt_profile", 3, _voigt_partials)


def _fdtr_partials(sign):
    def partials(em, out, dfn, dfd, x):
        a, b = em.multiply(0.5, dfn), em.multiply(0.5, dfd)
        den = em.add(em.multiply(dfn, x), dfd)
        t = em.divide(em.multiply(dfn, x), den)
        dens = _beta_density(em, a, b, t)
        den2 = em.square(den)
        ps = [em.add(em.multiply(0.5, em.call("betainc_da", a, b, t)),
                     em.multiply(dens, em.divide(em.multiply(x, dfd), den2))),
              em.subtract(em.multiply(0.5, em.call("betainc_db", a, b, t)),
                          em.multiply(dens, em.divide(em.multiply(dfn, x), den2))),
              em.multiply(dens, em.divide(em.multiply(dfn, dfd), den2))]
        return ps if sign > 0 else [em.negative(p) for p in ps]
    return partials


def_with_data("fdtr", getattr(sc, "fdtr", None), ("dfn", "dfd", "x"), (), _fdtr_partials(1))
def_with_data("fdtrc", getattr(sc, "fdtrc", None), ("dfn", "dfd", "x"), (), _fdtr_partials(-1))
def_with_data("nbdtr", getattr(sc, "nbdtr", None), ("k", "n", "p"), ("k", "n"),
              lambda em, out, p, k=None, n=None: [_beta_density(em, n, em.add(k, 1.0), p)])
def_with_data("nbdtrc", getattr(sc, "nbdtrc", None), ("k", "n", "p"), ("k", "n"),
              lambda em, out, p, k=None, n=None: [em.negative(
                  _beta_density(em, n, em.add(k, 1.0), p))])


def _pdtri_partials(em, out, y, k=None):
    # pdtr(k, m) = gammaincc(k + 1, m): d/dm = -m^k e^-m / k!
    return [em.negative(em.exp(em.add(em.subtract(out, em.xlogy(k, out)),
                                      c(em, "gammaln", em.add(k, 1.0)))))]


def _chdtri_partials(em, out, y, v=None):
    # chdtrc(v, x) = gammaincc(v/2, x/2): d/dx = -(the chi2 density at x)
    h = em.multiply(0.5, v)
    logpdf = em.subtract(em.subtract(em.xlogy(em.subtract(h, 1.0), out), em.multiply(0.5, out)),
                         em.add(em.multiply(h, math.log(2.0)), c(em, "gammaln", h)))
    return [em.negative(em.exp(em.negative(logpdf)))]


def_with_data("pdtri", getattr(sc, "pdtri", None), ("k", "y"), ("k",), _pdtri_partials)
def_with_data("chdtri", getattr(sc, "chdtri", None), ("v", "y"), ("v",), _chdtri_partials)
