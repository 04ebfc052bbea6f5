"""``scipy.special``: error functions, gamma and its relatives, Bessel
functions, entropies, incomplete gamma/beta, ``logsumexp``/``softmax``.

Imported only once the user's program has imported ``scipy.special`` (see
``core.OPTIONAL_RULES``); generated code calls SciPy itself
(``scipy.special.erf(x)``), so values are SciPy's, float32 stays float32
where SciPy keeps it, and every derivative is built from primitives
(``digamma``'s is ``polygamma(1, x)``, ``polygamma(n, x)``'s is
``polygamma(n + 1, x)``), so derivatives of any order work.

Arguments SciPy treats as integers or shape parameters whose derivative is
not implemented (``polygamma``'s order, ``zeta``'s exponent, ``boxcox``'s
``lmbda``, ...) are *data*: they are keyword
operands of the internal primitive, so differentiating with respect to one
is a compile-time error, never a silent zero.  The public callable is a
composite that puts the user's arguments in that order.  ``gammainc``'s
``a`` and ``betainc``'s ``a``, ``b`` (and their complements and inverses)
are differentiated by quadrature helpers (no closed form; see below).

Conventions at singular points (documented in the README too):

* ``xlogy(x, y)``: derivative ``log(y)`` in ``x`` (``-inf`` at ``y == 0``,
  as JAX) and ``x / y`` in ``y`` -- exactly 0 where ``x == 0``, including at
  ``x == y == 0`` (the function is 0 along ``x == 0``).  ``xlog1py``,
  ``rel_entr`` and ``kl_div`` likewise at ``x == 0``.
* ``entr`` at 0: derivative ``+inf``; NaN for ``x < 0``.
* ``i1``, ``j1`` (``x``-divided terms): near 0 (``|x| < 1e-4``) the
  quotient ``i1(x) / x`` is its Taylor polynomial, so derivatives of every
  order up to four are exact at 0 (``i1'(0) = j1'(0) = 1/2``).  ``i0e``,
  ``i1e`` have a kink at 0 (``e^-|x|``): the derivative there uses
  ``sign(0) = 0``.
* ``logsumexp``: the gradient is ``b * exp(a - out)`` (a softmax); where
  the result is ``-inf`` (every term zero) the gradient is 0; with
  ``return_sign=True`` the sign has derivative 0.
* ``huber``: at ``|r| == delta`` the quadratic branch's derivative is used.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.special as sc

from ..errors import S2SGradError
from .. import runtime
from ..ir import Const
from . import printing
from .core import (REGISTRY, defcomposite, defprim, elementwise_shape, shape_fresh, shape_of,
                   SCALAR)
from .elementwise import def_elementwise, def_nondiff_elementwise
from .special import fold_float

_SQRT_PI = math.sqrt(math.pi)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_DEG = math.pi / 180.0


def _num(a):
    return isinstance(a, Const) and isinstance(a.value, (int, float)) and \
        not isinstance(a.value, bool)


def c(em, name, *args, **kwargs):
    """``em.call(name, ...)``, computed while compiling (a Python float) when
    every operand is a Python number -- a NumPy float64 scalar would promote
    float32 arrays it meets."""
    if all(_num(a) for a in args) and all(_num(v) for v in kwargs.values()):
        try:
            with np.errstate(all="ignore"):
                v = float(REGISTRY[name].impl(*[a.value for a in args],
                                              **{k: x.value for k, x in kwargs.items()}))
            if math.isfinite(v):
                return Const(v)
        except (ArithmeticError, ValueError, TypeError):
            pass
    return em.call(name, *args, **kwargs)


def _special(name, nin, partials, *, reg=None, aliases=(), **kw):
    """An elementwise ``scipy.special`` ufunc, printed as ``scipy.special.<name>``
    (not registered when the installed SciPy lacks it)."""
    impl = getattr(sc, name, None)
    if impl is None:
        return None
    return def_elementwise(reg or name, impl, nin, partials, aliases=aliases,
                           pyname=f"scipy.special.{name}", simplify=fold_float(impl), **kw)


# ---------------------------------------------------------------- data operands


def _shape_all(args, kwargs):
    vals = list(args) + [v for v in kwargs.values() if not (isinstance(v, Const) and v.value is None)]
    return elementwise_shape(vals)


def def_with_data(name, public, order, data, partials, *, public_expand=None, public_sig=None,
                  real_values=False, composite=True):
    """A SciPy function ``public(*order)`` differentiable in the arguments not
    in ``data``.  The primitive takes those positionally and the data as
    keywords (``polygamma(x, n=n)``) -- so differentiating a data argument
    is an error -- and prints as the public call; ``public`` itself
    resolves to a composite that reorders the user's arguments.
    ``partials(em, out, *values, **data)`` gives one expression per value.
    ``real_values``: the values are real (angles) and the result complex, so
    their cotangents are the real parts (complex.py's convention).
    ``composite=False``: only the primitive (an internal variant of a public
    function another one already resolves to)."""
    if public is None:              # not in the installed SciPy
        return None
    values = [p for p in order if p not in data]
    pyname = f"scipy.special.{public.__name__}"

    def impl(*vals, **dat):
        named = dict(zip(values, vals), **dat)
        return public(*[named[p] for p in order])

    def printer(args, kwargs, eqn):
        named = dict(zip(values, args), **kwargs)
        return printing.call(pyname, [named[p] for p in order], {})

    def vjp(em, g, out, *args, **kw):
        ps = partials(em, out, *args, **kw)
        real = em.real_if_complex if real_values else (lambda v: v)
        return [None if p is None else em.unbroadcast(real(em.multiply(g, p)), a)
                for a, p in zip(args, ps)]

    def jvp(em, dots, out, *args, **kw):
        ps = partials(em, out, *args, **kw)
        total = None
        for d, p in zip(dots, ps):
            if d is not None and p is not None:
                total = em.add_ct(total, em.multiply(d, p))
        return em.broadcast_like(total, out)

    sig = ", ".join(values) + ", /" + "".join(f", {d}" for d in data)
    prim = defprim(name, impl, sig=sig, vjp=vjp, jvp=jvp, printer=printer, pyname=pyname,
                   shape=_shape_all, doc=f"{pyname}: differentiable in {', '.join(values)}; "
                                         f"{', '.join(data)} data.")

    def expand(em, *args, **kwargs):
        named = dict(zip(order, args), **kwargs)
        return em.call(prim, *[named[p] for p in values], **{k: named[k] for k in data})

    if not composite:
        return prim
    defcomposite(pyname, public, sig=public_sig or ", ".join(order),
                 expand=expand if public_expand is None else public_expand(expand),
                 doc=f"{pyname}({', '.join(order)})")
    return prim


# ---------------------------------------------------------------- logistic

_special("expit", 1, lambda em, out, x: [em.multiply(out, em.subtract(1, out))])
_special("log_expit", 1, lambda em, out, x: [c(em, "expit", em.negative(x))])
_special("logit", 1, lambda em, out, x: [em.reciprocal(em.multiply(x, em.subtract(1, x)))])
# softplus(x) = np.logaddexp(0, x) (SciPy's definition, so the same numbers)
if hasattr(sc, "softplus"):        # SciPy >= 1.15
    defcomposite("scipy.special.softplus", sc.softplus, sig="x, /",
                 expand=lambda em, x: em.logaddexp(0, x))

# ---------------------------------------------------------------- error functions


def _gauss(em, x, scale):
    return em.multiply(scale, em.exp(em.negative(em.square(x))))


_special("erf", 1, lambda em, out, x: [_gauss(em, x, 2.0 / _SQRT_PI)])
_special("erfc", 1, lambda em, out, x: [_gauss(em, x, -2.0 / _SQRT_PI)])
_special("erfi", 1, lambda em, out, x: [em.multiply(2.0 / _SQRT_PI, em.exp(em.square(x)))])
_special("erfinv", 1, lambda em, out, x: [em.multiply(_SQRT_PI / 2, em.exp(em.square(out)))])
_special("erfcinv", 1, lambda em, out, x: [em.multiply(-_SQRT_PI / 2, em.exp(em.square(out)))])
# erfcx(x) = e^(x^2) erfc(x): d/dx = 2 x erfcx(x) - 2 / sqrt(pi)
_special("erfcx", 1,
         lambda em, out, x: [em.subtract(em.multiply(em.multiply(2.0, x), out), 2.0 / _SQRT_PI)])
# dawsn' = 1 - 2 x dawsn(x)
_special("dawsn", 1, lambda em, out, x: [em.subtract(1.0, em.multiply(em.multiply(2.0, x), out))])
# Phi' = phi(x) = e^(-x^2/2) / sqrt(2 pi)
_special("ndtr", 1, lambda em, out, x: [
    em.multiply(1.0 / _SQRT_2PI, em.exp(em.multiply(-0.5, em.square(x))))])
# (log Phi)' = phi / Phi = exp(-x^2/2 - log Phi - log sqrt(2 pi)): no underflow far left
_special("log_ndtr", 1, lambda em, out, x: [
    em.exp(em.subtract(em.subtract(em.multiply(-0.5, em.square(x)), out), _LOG_SQRT_2PI))])
# (Phi^-1)'(p) = 1 / phi(Phi^-1(p)) = sqrt(2 pi) e^(out^2 / 2)
_special("ndtri", 1, lambda em, out, x: [
    em.multiply(_SQRT_2PI, em.exp(em.multiply(0.5, em.square(out))))])

# ---------------------------------------------------------------- gamma family


def _polygamma(em, n, x):
    return em.call("polygamma", x, n=n)


_special("gamma", 1, lambda em, out, x: [em.multiply(out, c(em, "digamma", x))])
# the sign of Gamma(x): piecewise constant, derivative 0 (data)
if hasattr(sc, "gammasgn"):
    def_nondiff_elementwise("gammasgn", sc.gammasgn, 1, pyname="scipy.special.gammasgn")


def _rgamma_partial(em, out, x):
    # -rgamma(x) digamma(x) is 0 * inf at the poles of Gamma (x = 0, -1, ...),
    # where 1/Gamma is smooth.  For x <= 0 the derivative of the reflection
    # formula 1/Gamma(x) = sin(pi x) Gamma(1 - x) / pi instead, an analytic
    # expression there (so its own derivative, the second one, is right too):
    # (cos(pi x) - sin(pi x) digamma(1 - x) / pi) Gamma(1 - x).  Each side is
    # evaluated where it is finite (no 0 * inf warning).
    left = em.less_equal(x, 0)
    xl = em.where(left, x, 0.0)
    xr = em.where(left, 1.0, x)
    px = em.multiply(np.pi, xl)
    one_minus = em.subtract(1.0, xl)
    refl = em.multiply(em.subtract(em.cos(px), em.multiply(em.sin(px), em.divide(
        c(em, "digamma", one_minus), np.pi))), c(em, "gamma", one_minus))
    return [em.where(left, refl, em.negative(em.multiply(c(em, "rgamma", xr),
                                                           c(em, "digamma", xr))))]


_special("rgamma", 1, _rgamma_partial)
# d/dx log|Gamma(x)| = digamma(x) for every x off the poles
_special("gammaln", 1, lambda em, out, x: [c(em, "digamma", x)])
_special("loggamma", 1, lambda em, out, x: [c(em, "digamma", x)])
_special("digamma", 1, lambda em, out, x: [_polygamma(em, 1, x)], aliases=(sc.psi,))
def_with_data("polygamma", getattr(sc, "polygamma", None), ("n", "x"), ("n",),
              lambda em, out, x, n: [_polygamma(em, em.add(n, 1), x)])


def _digamma_diff(em, a, b):
    return em.subtract(c(em, "digamma", a), c(em, "digamma", b))


def _beta_partials(em, out, a, b):
    ab = em.add(a, b)
    return [em.multiply(out, _digamma_diff(em, a, ab)), em.multiply(out, _digamma_diff(em, b, ab))]


def _betaln_partials(em, out, a, b):
    ab = em.add(a, b)
    return [_digamma_diff(em, a, ab), _digamma_diff(em, b, ab)]


_special("beta", 2, _beta_partials)
_special("betaln", 2, _betaln_partials)
# poch(z, m) = Gamma(z + m) / Gamma(z)
_special("poch", 2, lambda em, out, z, m: [
    em.multiply(out, _digamma_diff(em, em.add(z, m), z)),
    em.multiply(out, c(em, "digamma", em.add(z, m)))])


# binom(n, k) = Gamma(n + 1) / (Gamma(k + 1) Gamma(n - k + 1)) (its derivative
# off the poles)
def _binom_partials(em, out, n, k):
    nk1 = em.add(em.subtract(n, k), 1)
    return [em.multiply(out, _digamma_diff(em, em.add(n, 1), nk1)),
            em.multiply(out, _digamma_diff(em, nk1, em.add(k, 1)))]


_special("binom", 2, _binom_partials)


# multigammaln(a, d) = sum_j gammaln(a - j / 2) + const: d/da = sum_j digamma(a - j / 2)
def _multigammaln_partials(em, out, a, d):
    dv = d.value if isinstance(d, Const) else None
    if not isinstance(dv, (int, np.integer)) or isinstance(dv, bool) or dv < 1:
        raise S2SGradError("scipy.special.multigammaln: the dimension d must be a positive "
                           "integer constant to differentiate")
    total = None
    for j in range(int(dv)):
        t = c(em, "digamma", em.subtract(a, j / 2) if j else a)
        total = t if total is None else em.add(total, t)
    return [total]


def_with_data("multigammaln", getattr(sc, "multigammaln", None), ("a", "d"), ("d",), _multigammaln_partials)


# Hurwitz zeta(x, q): d/dq = -x zeta(x + 1, q); x is data.  zeta(x) (Riemann)
# has no derivative rule here: differentiating it is refused.
defprim("riemann_zeta", lambda x: sc.zeta(x), sig="x, /", opaque=True,
        pyname="scipy.special.zeta", shape=lambda args, kwargs: shape_of(args[0]))


def _zeta_expand(hurwitz):
    def expand(em, x, q=None):
        if q is None or (isinstance(q, Const) and q.value is None):
            return em.call("riemann_zeta", x)
        return hurwitz(em, x, q)
    return expand


def_with_data("zeta", getattr(sc, "zeta", None), ("x", "q"), ("x",),
              lambda em, out, q, x: [em.negative(em.multiply(x, em.call("zeta", q, x=em.add(x, 1))))],
              public_expand=_zeta_expand, public_sig="x, q=None")


# ---------------------------------------------------------------- incomplete gamma and beta

def _gamma_density(em, a, x):
    # x^(a-1) e^-x / Gamma(a), through xlogy so that a == 1, x == 0 gives 1
    return em.exp(em.subtract(em.subtract(em.xlogy(em.subtract(a, 1), x), x), c(em, "gammaln", a)))


# In the parameters (a, b) the derivatives have no closed form: the runtime
# helpers gammainc_da, betainc_da, betainc_db integrate them by quadrature
# (runtime_linalg.py); they are differentiable in x (the x-derivative of
# dP/da is the density times log(x) - digamma(a)), not again in a, b.
def_with_data("gammainc", getattr(sc, "gammainc", None), ("a", "x"), (),
              lambda em, out, a, x: [em.call("gammainc_da", a, x), _gamma_density(em, a, x)])
def_with_data("gammaincc", getattr(sc, "gammaincc", None), ("a", "x"), (),
              lambda em, out, a, x: [em.negative(em.call("gammainc_da", a, x)),
                                     em.negative(_gamma_density(em, a, x))])


def _beta_density(em, a, b, x):
    return em.exp(em.subtract(em.add(em.xlogy(em.subtract(a, 1), x),
                                     em.xlog1py(em.subtract(b, 1), em.negative(x))),
                              c(em, "betaln", a, b)))


def _betainc_partials(sign):
    def partials(em, out, a, b, x):
        ps = [em.call("betainc_da", a, b, x), em.call("betainc_db", a, b, x),
              _beta_density(em, a, b, x)]
        return ps if sign > 0 else [em.negative(p) for p in ps]
    return partials


def_with_data("betainc", getattr(sc, "betainc", None), ("a", "b", "x"), (),
              _betainc_partials(1))
def_with_data("betaincc", getattr(sc, "betaincc", None), ("a", "b", "x"), (),
              _betainc_partials(-1))


def _param_rule(name, impl, nparams, dx):
    """The runtime helper ``name(*params, x)`` (a parameter derivative),
    differentiable in x by ``dx(em, *params, x)``; the parameters are data
    (a second derivative in them is refused)."""
    def vjp(em, g, out, *args):
        return [None] * nparams + [em.unbroadcast(em.multiply(g, dx(em, *args)), args[-1])]

    def jvp(em, dots, out, *args):
        if dots[-1] is None:
            return None
        return em.broadcast_like(em.multiply(dots[-1], dx(em, *args)), out)

    params = ", ".join(f"p{i}" for i in range(nparams))
    defprim(name, impl, sig=f"{params}, x, /", vjp=vjp, jvp=jvp, pyname=name,
            shape=_shape_all, data_args=lambda i: i < nparams,
            doc=f"runtime helper: {impl.__doc__}")


def _dlog_gamma(em, a, x):
    return em.multiply(_gamma_density(em, a, x), em.subtract(em.log(x), c(em, "digamma", a)))


def _dlog_beta(first):
    def dx(em, a, b, x):
        ab = c(em, "digamma", em.add(a, b))
        t = em.subtract(em.add(em.log(x), ab), c(em, "digamma", a)) if first else \
            em.subtract(em.add(em.log1p(em.negative(x)), ab), c(em, "digamma", b))
        return em.multiply(_beta_density(em, a, b, x), t)
    return dx


# The variants with the parameters as data, for scipy.stats' discrete
# distributions (binom's n, nbinom's n, ...: integers, or parameters s2sgrad
# does not differentiate) -- differentiating one there is refused.
def_with_data("gammainc_x", getattr(sc, "gammainc", None), ("a", "x"), ("a",),
              lambda em, out, x, a: [_gamma_density(em, a, x)], composite=False)
def_with_data("gammaincc_x", getattr(sc, "gammaincc", None), ("a", "x"), ("a",),
              lambda em, out, x, a: [em.negative(_gamma_density(em, a, x))], composite=False)
def_with_data("betainc_x", getattr(sc, "betainc", None), ("a", "b", "x"), ("a", "b"),
              lambda em, out, x, a, b: [_beta_density(em, a, b, x)], composite=False)
def_with_data("betaincc_x", getattr(sc, "betaincc", None), ("a", "b", "x"), ("a", "b"),
              lambda em, out, x, a, b: [em.negative(_beta_density(em, a, b, x))],
              composite=False)

_param_rule("gammainc_da", runtime.gammainc_da, 1, _dlog_gamma)
_param_rule("betainc_da", runtime.betainc_da, 2, _dlog_beta(True))
_param_rule("betainc_db", runtime.betainc_db, 2, _dlog_beta(False))


# pdtr(k, m) = P(Poisson(m) <= floor(k)): d/dm = -pmf(floor(k); m)
def _poisson_pmf(em, k, m):
    kf = em.floor(k)
    return em.exp(em.subtract(em.subtract(em.xlogy(kf, m), m), c(em, "gammaln", em.add(kf, 1))))


def_with_data("pdtr", getattr(sc, "pdtr", None), ("k", "m"), ("k",),
              lambda em, out, m, k: [em.negative(_poisson_pmf(em, k, m))])
def_with_data("pdtrc", getattr(sc, "pdtrc", None), ("k", "m"), ("k",),
              lambda em, out, m, k: [_poisson_pmf(em, k, m)])


# chdtr(v, x) = P(chi2(v) <= x) = gammainc(v/2, x/2): d/dx = the chi2 density
def _chi2_density(em, v, x):
    h = em.divide(v, 2.0)
    return em.exp(em.subtract(em.subtract(em.subtract(em.xlogy(em.subtract(h, 1), x),
                                                      em.divide(x, 2.0)),
                                          c(em, "gammaln", h)), em.multiply(h, math.log(2.0))))


def_with_data("chdtr", getattr(sc, "chdtr", None), ("v", "x"), ("v",),
              lambda em, out, x, v: [_chi2_density(em, v, x)])
def_with_data("chdtrc", getattr(sc, "chdtrc", None), ("v", "x"), ("v",),
              lambda em, out, x, v: [em.negative(_chi2_density(em, v, x))])


def t_logpdf_std(em, t, df):
    """log of Student's t density at ``t`` (standardised) with ``df`` degrees."""
    half = em.multiply(em.add(df, 1), 0.5)
    norm = em.subtract(em.subtract(c(em, "gammaln", half), c(em, "gammaln", em.multiply(df, 0.5))),
                       em.multiply(0.5, c(em, "log", em.multiply(df, math.pi))))
    return em.subtract(norm, em.multiply(half, em.log1p(em.divide(em.square(t), df))))


# stdtr(df, t): Student's t cdf; d/dt = the t density
def_with_data("stdtr", getattr(sc, "stdtr", None), ("df", "t"), ("df",),
              lambda em, out, t, df: [em.exp(t_logpdf_std(em, t, df))])

# ---------------------------------------------------------------- Box-Cox

def_with_data("boxcox", getattr(sc, "boxcox", None), ("x", "lmbda"), ("lmbda",),
              lambda em, out, x, lmbda: [em.power(x, em.subtract(lmbda, 1))])
def_with_data("boxcox1p", getattr(sc, "boxcox1p", None), ("x", "lmbda"), ("lmbda",),
              lambda em, out, x, lmbda: [em.power(em.add(x, 1), em.subtract(lmbda, 1))])
# x = (lmbda y + 1)^(1 / lmbda): dx/dy = x / (lmbda y + 1) (e^y at lmbda == 0)
def_with_data("inv_boxcox", getattr(sc, "inv_boxcox", None), ("y", "lmbda"), ("lmbda",),
              lambda em, out, y, lmbda: [em.divide(out, em.add(em.multiply(lmbda, y), 1))])
def_with_data("inv_boxcox1p", getattr(sc, "inv_boxcox1p", None), ("y", "lmbda"), ("lmbda",),
              lambda em, out, y, lmbda: [em.divide(em.add(out, 1),
                                                   em.add(em.multiply(lmbda, y), 1))])

# ---------------------------------------------------------------- entropies


def _zero_where_x_zero(em, x, y, y0):
    """``y``, with 1 where ``x == 0`` and ``y == y0``, to divide ``x`` by: the
    quotient is then exactly 0 on ``x == 0`` (the function is constant there)."""
    both = em.logical_and(em.equal(x, 0), em.equal(y, y0))
    return em.where(both, 1.0, y)


_special("xlogy", 2, lambda em, out, x, y: [
    c(em, "log", y), em.divide(x, _zero_where_x_zero(em, x, y, 0))])
_special("xlog1py", 2, lambda em, out, x, y: [
    c(em, "log1p", y), em.divide(x, _zero_where_x_zero(em, x, em.add(y, 1), 0))])
# entr(x) = -x log x: derivative -(log x + 1); +inf at 0
_special("entr", 1, lambda em, out, x: [em.negative(em.add(em.log(x), 1))])
# rel_entr(x, y) = x log(x / y): d/dx = log(x / y) + 1, d/dy = -x / y
_special("rel_entr", 2, lambda em, out, x, y: [
    em.add(em.log(em.divide(x, y)), 1),
    em.negative(em.divide(x, _zero_where_x_zero(em, x, y, 0)))])
# kl_div(x, y) = x log(x / y) - x + y: d/dx = log(x / y), d/dy = 1 - x / y
_special("kl_div", 2, lambda em, out, x, y: [
    em.log(em.divide(x, y)), em.subtract(1, em.divide(x, _zero_where_x_zero(em, x, y, 0)))])


# huber(delta, r) = r^2 / 2 if |r| <= delta else delta (|r| - delta / 2)
def _huber_partials(em, out, delta, r):
    inner = em.less_equal(em.absolute(r), delta)
    return [em.where(inner, 0.0, em.subtract(em.absolute(r), delta)),
            em.where(inner, r, em.multiply(delta, em.sign(r)))]


_special("huber", 2, _huber_partials)


# pseudo_huber(delta, r) = delta^2 (s - 1), s = sqrt(1 + (r / delta)^2):
# d/dr = r / s, d/ddelta = (2 out - r^2 / s) / delta
def _pseudo_huber_partials(em, out, delta, r):
    s = em.sqrt(em.add(1, em.square(em.divide(r, delta))))
    return [em.divide(em.subtract(em.multiply(2.0, out), em.divide(em.square(r), s)), delta),
            em.divide(r, s)]


_special("pseudo_huber", 2, _pseudo_huber_partials)
# powm1(x, y) = x^y - 1
_special("powm1", 2, lambda em, out, x, y: [
    em.multiply(y, em.power(x, em.subtract(y, 1))), em.multiply(em.add(out, 1), em.log(x))])

# ---------------------------------------------------------------- Bessel functions

_SMALL = 1e-4


def _over_x(em, f, x, sign):
    """``f / x`` for ``f`` = i1(x) (sign +1) or j1(x) (sign -1): near 0 its
    Taylor polynomial 1/2 + s x^2/16 + x^4/384 (error < 1e-26 for |x| < 1e-4),
    exact to the fourth derivative at 0."""
    small = em.less(em.absolute(x), _SMALL)
    far = em.divide(f, em.where(small, 1.0, x))
    x2 = em.square(x)
    near = em.add(0.5, em.multiply(x2, em.add(sign / 16.0, em.multiply(x2, 1.0 / 384.0))))
    return em.where(small, near, far)


def _at_zero(em, f, x, value):
    """``f / x``, ``value`` at 0."""
    zero = em.equal(x, 0)
    return em.where(zero, value, em.divide(f, em.where(zero, 1.0, x)))


_special("i0", 1, lambda em, out, x: [c(em, "i1", x)], reg="sc_i0")
_special("i1", 1, lambda em, out, x: [em.subtract(c(em, "sc_i0", x), _over_x(em, out, x, 1))])
# i0e = e^-|x| I0: (i0e)' = i1e - sign(x) i0e
_special("i0e", 1, lambda em, out, x: [
    em.subtract(c(em, "i1e", x), em.multiply(em.sign(x), out))])
# (i1e)' = i0e - i1e / x - sign(x) i1e; i1e / x -> 1/2 at 0
_special("i1e", 1, lambda em, out, x: [
    em.subtract(em.subtract(c(em, "i0e", x), _at_zero(em, out, x, 0.5)),
                em.multiply(em.sign(x), out))])
# Bessel functions of any order v (data): d/dz from the neighbouring orders,
#   J, Y: (f(v-1) - f(v+1)) / 2;  I: (f(v-1) + f(v+1)) / 2;  K: -(f(v-1) + f(v+1)) / 2.
# The exponentially scaled forms add the scale's derivative (real z):
#   ive = e^-|z| I: - sign(z) ive;  kve = e^z K: + kve;  jve, yve (e^-|Im z|): none.


def _bessel(name, kind, scale=None):
    def partials(em, out, z, v):
        lo = em.call(name, z, v=em.subtract(v, 1))
        hi = em.call(name, z, v=em.add(v, 1))
        d = em.multiply(em.subtract(lo, hi) if kind == "J" else em.add(lo, hi),
                        -0.5 if kind == "K" else 0.5)
        if scale == "abs":
            d = em.subtract(d, em.multiply(em.sign(z), out))
        elif scale == "exp":
            d = em.add(d, out)
        return [d]
    def_with_data(name, getattr(sc, name, None), ("v", "z"), ("v",), partials)


for _name, _kind, _scale in (("jv", "J", None), ("yv", "J", None), ("jve", "J", None),
                             ("yve", "J", None), ("iv", "I", None), ("ive", "I", "abs"),
                             ("kv", "K", None), ("kve", "K", "exp")):
    _bessel(_name, _kind, _scale)
# yn: integer order n (Y_{-n} = (-1)^n Y_n, as SciPy computes it)
def_with_data("yn", getattr(sc, "yn", None), ("n", "x"), ("n",),
              lambda em, out, x, n: [em.multiply(em.subtract(
                  em.call("yn", x, n=em.subtract(n, 1)), em.call("yn", x, n=em.add(n, 1))), 0.5)])

_special("j0", 1, lambda em, out, x: [em.negative(c(em, "j1", x))])
_special("j1", 1, lambda em, out, x: [em.subtract(c(em, "j0", x), _over_x(em, out, x, -1))])
_special("y0", 1, lambda em, out, x: [em.negative(c(em, "y1", x))])
_special("y1", 1, lambda em, out, x: [em.subtract(c(em, "y0", x), em.divide(out, x))])
_special("k0", 1, lambda em, out, x: [em.negative(c(em, "k1", x))])
_special("k1", 1, lambda em, out, x: [
    em.negative(em.add(c(em, "k0", x), em.divide(out, x)))])
# k0e = e^x K0: (k0e)' = k0e - k1e; (k1e)' = k1e - k0e - k1e / x
_special("k0e", 1, lambda em, out, x: [em.subtract(out, c(em, "k1e", x))])
_special("k1e", 1, lambda em, out, x: [
    em.subtract(em.subtract(out, c(em, "k0e", x)), em.divide(out, x))])
# exponential integrals: E1' = -e^-x / x, Ei' = e^x / x
_special("exp1", 1, lambda em, out, x: [em.negative(em.divide(em.exp(em.negative(x)), x))])
_special("expi", 1, lambda em, out, x: [em.divide(em.exp(x), x)])
# Lambert's Wright omega: w' = w / (1 + w)
_special("wrightomega", 1, lambda em, out, x: [em.divide(out, em.add(out, 1))])

# ---------------------------------------------------------------- elementary, SciPy's versions

_special("exp10", 1, lambda em, out, x: [em.multiply(out, math.log(10.0))])
_special("exp2", 1, lambda em, out, x: [em.multiply(out, math.log(2.0))], reg="sc_exp2")
_special("expm1", 1, lambda em, out, x: [em.add(out, 1)], reg="sc_expm1")
_special("log1p", 1, lambda em, out, x: [em.reciprocal(em.add(x, 1))], reg="sc_log1p")
_special("cbrt", 1, lambda em, out, x: [em.reciprocal(em.multiply(3.0, em.square(out)))],
         reg="sc_cbrt")
_special("cosm1", 1, lambda em, out, x: [em.negative(em.sin(x))])
_special("sindg", 1, lambda em, out, x: [em.multiply(_DEG, c(em, "cosdg", x))])
_special("cosdg", 1, lambda em, out, x: [em.multiply(-_DEG, c(em, "sindg", x))])
_special("tandg", 1, lambda em, out, x: [em.multiply(_DEG, em.add(1, em.square(out)))])
_special("cotdg", 1, lambda em, out, x: [em.multiply(-_DEG, em.add(1, em.square(out)))])

# ---------------------------------------------------------------- logsumexp, softmax


def _given(v):
    return v is not None and not (isinstance(v, Const) and v.value is None)


def _keep(em, v, axis, keepdims):
    """A reduction's result (or cotangent) with the reduced axes back as
    length 1, so it broadcasts against the operand."""
    if _given(keepdims) and not (isinstance(keepdims, Const) and keepdims.value is False):
        return v
    if not _given(axis):
        return v                              # a scalar broadcasts anyway
    return em.expand_dims(v, axis=axis)


def _red(axis, keepdims):
    kw = {}
    if _given(axis):
        kw["axis"] = axis
    if _given(keepdims):
        kw["keepdims"] = keepdims
    return kw


def _lse_weights(em, out, a, b, axis, keepdims, return_sign):
    """d out / d a = b exp(a - out) (times the sign), and d out / d b =
    exp(a - out) (times the sign); 0 where out is -inf."""
    r = out[0] if _flag(return_sign) else out
    r = em.where(em.isfinite(r), r, 0.0)
    e = em.exp(em.subtract(a, _keep(em, r, axis, keepdims)))
    if _flag(return_sign):
        e = em.multiply(e, _keep(em, out[1], axis, keepdims))
    wa = e if not _given(b) else em.multiply(b, e)
    return wa, e


def _flag(v):
    return isinstance(v, Const) and bool(v.value)


def _lse_vjp(em, g, out, a, b, axis=None, keepdims=None, return_sign=None):
    if _flag(return_sign):
        g = g[0]
        if g is None:
            return [None, None]
    wa, e = _lse_weights(em, out, a, b, axis, keepdims, return_sign)
    gk = _keep(em, g, axis, keepdims)
    return [em.unbroadcast(em.multiply(gk, wa), a),
            em.unbroadcast(em.multiply(gk, e), b) if _given(b) else None]


def _lse_jvp(em, dots, out, a, b, axis=None, keepdims=None, return_sign=None):
    wa, e = _lse_weights(em, out, a, b, axis, keepdims, return_sign)
    da, db = dots
    t = None
    if da is not None:
        t = em.multiply(da, wa)
    if db is not None:
        t = em.add_ct(t, em.multiply(db, e))
    t = em.sum(t, **_red(axis, keepdims)) if t is not None else None
    return (t, None) if _flag(return_sign) else t


def _lse_impl(a, b=None, axis=None, keepdims=False, return_sign=False):
    return sc.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=return_sign)


def _lse_printer(args, kwargs, eqn):
    kw = {"axis": kwargs["axis"]} if "axis" in kwargs else {}
    if _given(eqn.args[1]):
        kw["b"] = args[1]
    kw.update({k: v for k, v in kwargs.items() if k != "axis"})
    return printing.call("scipy.special.logsumexp", [args[0]], kw)


def _lse_shape(args, kwargs):
    axis, keep = kwargs.get("axis"), kwargs.get("keepdims")
    s = SCALAR if not _given(axis) and not _flag(keep) and not _given(args[1]) else shape_fresh(args, kwargs)
    return (s, s) if _flag(kwargs.get("return_sign")) else s


defprim("logsumexp", _lse_impl, sig="a, b, /, axis=None, keepdims=None, return_sign=None",
        vjp=_lse_vjp, jvp=_lse_jvp, printer=_lse_printer, pyname="scipy.special.logsumexp",
        nouts=lambda args, kwargs: 2 if _flag(kwargs.get("return_sign")) else 1,
        shape=_lse_shape,
        shape_safe=True,
        doc="scipy.special.logsumexp: the gradient is the softmax b exp(a - out).")


def _lse_expand(em, a, axis=None, b=None, keepdims=None, return_sign=None):
    kw = {k: v for k, v in (("axis", axis), ("keepdims", keepdims), ("return_sign", return_sign))
          if v is not None and not (isinstance(v, Const) and v.value is None)}
    for k, v in kw.items():
        if not isinstance(v, Const):
            raise S2SGradError(f"scipy.special.logsumexp: '{k}' must be a constant")
    return em.call("logsumexp", a, b if b is not None else Const(None), **kw)


defcomposite("scipy.special.logsumexp", sc.logsumexp,
             sig="a, axis=None, b=None, keepdims=None, return_sign=None", expand=_lse_expand)


# softmax: s = exp(x - logsumexp(x)); J = diag(s) - s s^T (symmetric), so
# both rules are s * (v - sum(v * s)).
def _softmax_apply(em, v, s, axis):
    kw = {"axis": axis} if _given(axis) else {}
    return em.multiply(s, em.subtract(v, em.sum(em.multiply(v, s), keepdims=True, **kw)))


def _softmax_printer(name):
    def printer(args, kwargs, eqn):
        return printing.call(f"scipy.special.{name}", args, kwargs)
    return printer


defprim("softmax", sc.softmax, sig="x, /, axis=None",
        vjp=lambda em, g, out, x, axis=None: [_softmax_apply(em, g, out, axis)],
        jvp=lambda em, dots, out, x, axis=None: _softmax_apply(em, dots[0], out, axis),
        pyname="scipy.special.softmax", shape=lambda args, kwargs: shape_of(args[0]),
        shape_safe=True,
        doc="scipy.special.softmax: s * (g - sum(g * s)).")


# log_softmax = x - logsumexp(x): d/dx . v = v - exp(out) * sum(v) (vjp),
# v - sum(exp(out) * v) (jvp)
def _log_softmax_vjp(em, g, out, x, axis=None):
    kw = {"axis": axis} if _given(axis) else {}
    return [em.subtract(g, em.multiply(em.exp(out), em.sum(g, keepdims=True, **kw)))]


def _log_softmax_jvp(em, dots, out, x, axis=None):
    kw = {"axis": axis} if _given(axis) else {}
    return em.subtract(dots[0], em.sum(em.multiply(em.exp(out), dots[0]), keepdims=True, **kw))


defprim("log_softmax", sc.log_softmax, sig="x, /, axis=None",
        vjp=_log_softmax_vjp, jvp=_log_softmax_jvp, pyname="scipy.special.log_softmax",
        shape=lambda args, kwargs: shape_of(args[0]),
        shape_safe=True,
        doc="scipy.special.log_softmax: g - exp(out) * sum(g).")


# ---------------------------------------------------------------- exponential integrals En,
# dilogarithm, hypergeometric functions, factorial, comb

# E_n'(x) = -E_(n-1)(x) for n >= 1; E_0 = e^-x / x, so E_0' = -E_0 (1 + 1/x)
def_with_data("expn", getattr(sc, "expn", None), ("n", "x"), ("n",),
              lambda em, out, x, n: [em.where(
                  em.greater_equal(n, 1),
                  em.negative(em.call("expn", x, n=em.maximum(em.subtract(n, 1), 0))),
                  em.negative(em.multiply(out, em.add(1.0, em.reciprocal(x)))))])


def _spence_partial(em, out, x):
    # spence(z) = int_1^z log t / (1 - t) dt: derivative log(z) / (1 - z), -1 at z = 1
    one = em.equal(x, 1)
    xs = em.where(one, 2.0, x)
    return [em.where(one, -1.0, em.divide(em.log(xs), em.subtract(1.0, xs)))]


_special("spence", 1, _spence_partial)

# d/dx 1F1(a; b; x) = a/b 1F1(a+1; b+1; x);  d/dz 2F1(a, b; c; z) = ab/c 2F1(a+1, b+1; c+1; z)
def_with_data("hyp1f1", getattr(sc, "hyp1f1", None), ("a", "b", "x"), ("a", "b"),
              lambda em, out, x, a, b: [em.multiply(
                  em.divide(a, b), em.call("hyp1f1", x, a=em.add(a, 1), b=em.add(b, 1)))])
def_with_data("hyp2f1", getattr(sc, "hyp2f1", None), ("a", "b", "c", "z"), ("a", "b", "c"),
              lambda em, out, z, a, b, c: [em.multiply(
                  em.divide(em.multiply(a, b), c),
                  em.call("hyp2f1", z, a=em.add(a, 1), b=em.add(b, 1), c=em.add(c, 1)))])


def _factorial_expand(em, n, exact=None, extend=None):
    if extend is not None and not (isinstance(extend, Const) and extend.value == "zero"):
        raise S2SGradError("scipy.special.factorial: extend= other than 'zero' is not "
                           "differentiated")
    if exact is not None and not (isinstance(exact, Const) and exact.value is False):
        raise S2SGradError("scipy.special.factorial(exact=True) is an integer (not "
                           "differentiable): use exact=False")
    # SciPy: gamma(n + 1), 0 for n < 0 (gamma taken at a safe point there: at
    # its poles n = -1, -2, ... its infinite derivative times the where's 0
    # was NaN; the double where keeps the derivative 0)
    neg = em.less(n, 0)
    return em.where(neg, 0.0, c(em, "gamma", em.add(em.where(neg, 0.0, n), 1.0)))


defcomposite("scipy.special.factorial", sc.factorial, sig="n, /, exact=False, extend='zero'",
             expand=_factorial_expand, doc="scipy.special.factorial(n): gamma(n + 1), 0 below 0.")


def _comb_expand(em, N, k, *, exact=None, repetition=None, **_):
    if exact is not None and not (isinstance(exact, Const) and exact.value is False):
        raise S2SGradError("scipy.special.comb(exact=True) is an integer (not "
                           "differentiable): use exact=False")
    if isinstance(repetition, Const) and repetition.value:
        N = em.subtract(em.add(N, k), 1)
    elif repetition is not None and not isinstance(repetition, Const):
        raise S2SGradError("scipy.special.comb: repetition must be a constant")
    # SciPy: binom(N, k), 0 unless 0 <= k <= N
    ok = em.logical_and(em.logical_and(em.less_equal(k, N), em.greater_equal(N, 0)),
                        em.greater_equal(k, 0))
    return em.where(ok, c(em, "binom", N, k), 0.0)


defcomposite("scipy.special.comb", sc.comb, sig="N, k, /, *, exact=False, repetition=False",
             expand=_comb_expand, doc="scipy.special.comb(N, k): binom, 0 outside 0 <= k <= N.")
