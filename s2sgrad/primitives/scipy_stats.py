"""``scipy.stats``: densities, distribution functions and quantiles of
norm, t, gamma, beta, expon, laplace, cauchy, logistic, poisson, dirichlet
and multivariate_normal.

Imported only once the user's program has imported ``scipy.stats`` (see
``core.OPTIONAL_RULES``).  ``norm.logpdf`` and friends are bound methods of
distribution instances, so they resolve by ``(instance, method name)``
(``core.register_method``): ``scipy.stats.norm.logpdf(x, mu, s)``,
``from scipy.stats import norm; norm.logpdf(x, loc=mu, scale=s)`` alike.

Each is a *composite*: the call lowers to the primitives of SciPy's own
formula (``norm.logpdf`` is ``-z**2/2 - log(scale) - log(sqrt(2 pi))`` with
``z = (x - loc) / scale``; ``gamma.cdf`` is ``scipy.special.gammainc``), so
generated code shows the math, runs without SciPy's per-call argument
checking, and every derivative (in ``x``, ``loc``, ``scale`` and the shape
parameters) comes from those primitives' rules, to any order.  What SciPy's
wrappers add is reproduced: float64 results (operands are cast, as SciPy
does; a float32 argument still gets a float32 gradient), NaN where
``scale <= 0`` or a shape parameter is out of range, and the values outside
the support (``logpdf`` ``-inf``, ``pdf`` 0, ``cdf`` 0 or 1).

Conventions and differences (documented in the README too):

* Shape parameters SciPy's formula reaches only through a function without
  a derivative rule in that argument are data: ``gamma.cdf``'s ``a``,
  ``beta.cdf``'s ``a``, ``b``, ``t.cdf``'s ``df`` (differentiating them is
  an error, not a zero).  ``poisson``'s ``k`` is data.
* ``laplace.logpdf`` is ``-|z| - log(2 scale)`` (SciPy computes
  ``log(pdf)``, which underflows to ``-inf`` beyond ``|z| ~ 745``); its
  derivative at ``x == loc`` uses ``sign(0) = 0``.
* ``t`` with ``df`` given as a constant ``inf`` is ``norm``; a computed
  ``df`` must be finite.
* ``multivariate_normal``: ``cov`` is a matrix, a vector (the diagonal) or
  a scalar (times the identity) as in SciPy, and must be symmetric positive
  definite (its whole matrix is used; SciPy reads one triangle; a matrix
  that is not positive definite gives NaN where SciPy raises);
  ``allow_singular=True`` is refused; with ``mean=None`` the dimension is
  ``len(cov)``.
* ``dirichlet``: ``x`` has ``len(alpha)`` rows (the shorter form SciPy
  completes is not recognised) and is not checked to lie on the simplex
  (SciPy raises).
"""
from __future__ import annotations

import ast
import math

import numpy as np
import scipy.special as sc
import scipy.stats as st

from ..errors import S2SGradError
from ..ir import Const, Var
from . import printing
from .core import defcomposite, defprim, shape_fresh
from .scipy_special import c

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_LOG_PI = math.log(math.pi)
_NAN = float("nan")
_INF = float("inf")
_FLOAT64 = np.dtype(np.float64)     # (a dtype, not the type: shape analysis evaluates it)


def _num(a):
    return isinstance(a, Const) and isinstance(a.value, (int, float)) and \
        not isinstance(a.value, bool)


def _none(a):
    return a is None or (isinstance(a, Const) and a.value is None)


def _f64(em, a):
    """``a`` as float64, as SciPy computes (Python numbers already are)."""
    if isinstance(a, Var):
        return em.astype(a, dtype=_FLOAT64)
    return a


# ------------------------------------------------------------ compile-time-aware conditions
#
# A condition is a Python bool when it is known while compiling (a constant
# scale > 0), else a boolean Var; selections on known conditions emit nothing.


def _cmp(em, name, a, b):
    if _num(a) and _num(b):
        return bool({"greater": a.value > b.value, "greater_equal": a.value >= b.value,
                     "less": a.value < b.value, "less_equal": a.value <= b.value,
                     "equal": a.value == b.value}[name])
    return em.call(name, a, b)


def _and(em, *conds):
    out = True
    for cnd in conds:
        if cnd is False:
            return False
        if cnd is True:
            continue
        out = cnd if out is True else em.logical_and(out, cnd)
    return out


def _or(em, *conds):
    out = False
    for cnd in conds:
        if cnd is True:
            return True
        if cnd is False:
            continue
        out = cnd if out is False else em.logical_or(out, cnd)
    return out


def _select(em, cond, a, b):
    """``np.where(cond, a, b)``, decided while compiling when ``cond`` is known."""
    if cond is True:
        return a
    if cond is False:
        return b
    return em.where(cond, a, b)


def _nan_unless(em, valid, v):
    """``v``, NaN where ``valid`` is false (a bad parameter).  Written as
    ``v + where(valid, 0, nan)``: the ``where`` runs on the parameters'
    shape (usually a scalar), and the sum's derivative is 1, so the reverse
    sweep spends nothing on the check (at an invalid point the value is NaN
    and the gradient that of the formula)."""
    if valid is True:
        return v
    if valid is False:
        return em.add(v, _NAN)
    return em.add(v, em.where(valid, 0.0, _NAN))


# ------------------------------------------------------------ the generic wrappers


class _Dist:
    """One distribution: its SciPy instance, shape parameters, support and
    standardised formulas ``f(em, z, *shapes)``."""

    def __init__(self, inst, shapes=(), support=(-_INF, _INF), argcheck=None):
        self.inst = inst
        self.shapes = shapes
        self.lo, self.hi = support
        self.argcheck = argcheck or (lambda em, *s: True)

    def register(self, method, sig, expand):
        name = f"scipy.stats.{self.inst.name}.{method}"
        defcomposite(name, sig=sig, expand=expand, methods=[(self.inst, method)],
                     doc=f"{name}({sig})")

    def params(self, em, kw, keys):
        vals = []
        for k in keys:
            v = kw.get(k)
            if _none(v):
                if k not in ("loc", "scale"):
                    raise S2SGradError(f"scipy.stats.{self.inst.name}: missing argument '{k}'")
                v = Const(0 if k == "loc" else 1)
            vals.append(v)
        return vals

    def valid(self, em, scale, shapes):
        return _and(em, _cmp(em, "greater", scale, Const(0)), self.argcheck(em, *shapes))

    def below(self, em, z):
        return False if self.lo == -_INF else _cmp(em, "less", z, Const(self.lo))

    def above(self, em, z):
        return False if self.hi == _INF else _cmp(em, "greater", z, Const(self.hi))

    def standardize(self, em, x, loc, scale):
        # as SciPy: (x - loc) / scale in the operands' precision, then float64
        return _f64(em, em.divide(em.subtract(x, loc), scale))

    def density(self, method, f, log):
        """``logpdf``/``pdf`` (``logpmf``/``pmf``) from the standardised ``f``."""
        keys = ("x",) + self.shapes + ("loc", "scale")

        def expand(em, **kw):
            x, *rest = self.params(em, kw, keys)
            shapes, (loc, scale) = rest[:-2], rest[-2:]
            z = self.standardize(em, x, loc, scale)
            v = f(em, z, *shapes)
            if not (_num(scale) and scale.value == 1):
                v = em.subtract(v, c(em, "log", scale)) if log else em.divide(v, scale)
            out = _select(em, _or(em, self.below(em, z), self.above(em, z)),
                          -_INF if log else 0.0, v)
            return _nan_unless(em, self.valid(em, scale, shapes), out)
        self.register(method, ", ".join(k + ("=None" if k in ("loc", "scale") else "")
                                         for k in keys), expand)

    def distribution(self, method, f, at_lo, at_hi):
        """``cdf``/``sf``/``logcdf``/``logsf``: ``at_lo``/``at_hi`` below/above the support."""
        keys = ("x",) + self.shapes + ("loc", "scale")

        def expand(em, **kw):
            x, *rest = self.params(em, kw, keys)
            shapes, (loc, scale) = rest[:-2], rest[-2:]
            z = self.standardize(em, x, loc, scale)
            out = f(em, z, *shapes)
            out = _select(em, self.below(em, z), at_lo, out)
            out = _select(em, self.above(em, z), at_hi, out)
            return _nan_unless(em, self.valid(em, scale, shapes), out)
        self.register(method, ", ".join(k + ("=None" if k in ("loc", "scale") else "")
                                         for k in keys), expand)

    def quantile(self, method, f):
        """``ppf``/``isf``: ``f(q)`` scaled and shifted; NaN outside [0, 1]."""
        keys = ("q",) + self.shapes + ("loc", "scale")

        def expand(em, **kw):
            q, *rest = self.params(em, kw, keys)
            shapes, (loc, scale) = rest[:-2], rest[-2:]
            # SciPy computes in the operands' precision and returns float64
            out = _f64(em, em.add(em.multiply(f(em, q, *shapes), scale), loc))
            ok = _and(em, self.valid(em, scale, shapes),
                      _cmp(em, "greater_equal", q, Const(0)), _cmp(em, "less_equal", q, Const(1)))
            return _nan_unless(em, ok, out)
        self.register(method, ", ".join(k + ("=None" if k in ("loc", "scale") else "")
                                         for k in keys), expand)


def _log_cdf(cdf, sf, median):
    """SciPy's default ``_logcdf``: ``log(cdf)`` below the median,
    ``log1p(-sf)`` above (accurate in both tails).  Each branch is evaluated
    at ``z`` clipped to its side of the median, so the branch not taken is
    finite and passes no NaN into the derivative."""
    def f(em, z, *s):
        m = median(em, *s)
        lower = em.less(z, m)
        zl, zu = em.where(lower, z, m), em.where(lower, m, z)
        return em.where(lower, em.log(cdf(em, zl, *s)), em.log1p(em.negative(sf(em, zu, *s))))
    return f


def _log_sf(cdf, sf, median):
    """SciPy's default ``_logsf``: ``log(sf)`` above the median, ``log1p(-cdf)`` below."""
    def f(em, z, *s):
        m = median(em, *s)
        upper = em.greater(z, m)
        zl, zu = em.where(upper, m, z), em.where(upper, z, m)
        return em.where(upper, em.log(sf(em, zu, *s)), em.log1p(em.negative(cdf(em, zl, *s))))
    return f


def _zero(em, *s):
    return 0.0


def _median(name, fn):
    """The median of a distribution with shape parameters: data (it only
    picks a formula), computed while compiling for constant shapes."""
    prim = defprim(name, fn, sig=", ".join(f"s{i}" for i in range(fn.__code__.co_argcount)) + ", /",
                   nondiff=True, printer=lambda args, kwargs, eqn: fn.printer(*args),
                   shape=shape_fresh)

    def median(em, *s):
        if all(_num(a) for a in s):
            return Const(float(fn(*[a.value for a in s])))
        return em.call(prim, *s)
    return median


# ------------------------------------------------------------ norm

norm = _Dist(st.norm)
norm.density("logpdf", lambda em, z: em.subtract(em.multiply(-0.5, em.square(z)), _LOG_SQRT_2PI),
             log=True)
norm.density("pdf", lambda em, z: em.divide(em.exp(em.multiply(-0.5, em.square(z))), _SQRT_2PI),
             log=False)
norm.distribution("cdf", lambda em, z: em.ndtr(z), 0.0, 1.0)
norm.distribution("logcdf", lambda em, z: em.log_ndtr(z), -_INF, 0.0)
norm.distribution("sf", lambda em, z: em.ndtr(em.negative(z)), 1.0, 0.0)
norm.distribution("logsf", lambda em, z: em.log_ndtr(em.negative(z)), 0.0, -_INF)
norm.quantile("ppf", lambda em, q: em.ndtri(q))
norm.quantile("isf", lambda em, q: em.negative(em.ndtri(q)))


# ------------------------------------------------------------ t

def _is_inf(a):
    return isinstance(a, Const) and isinstance(a.value, float) and a.value == _INF


def _t_logpdf(em, z, df):
    if _is_inf(df):
        return em.subtract(em.multiply(-0.5, em.square(z)), _LOG_SQRT_2PI)
    # SciPy's form: log(poch(df/2, 1/2)) - (log(df) + log(pi))/2 - (df+1)/2 log1p(z^2/df)
    half = em.multiply(df, 0.5)
    lead = em.subtract(c(em, "log", c(em, "poch", half, Const(0.5))),
                       em.multiply(0.5, em.add(c(em, "log", df), _LOG_PI)))
    return em.subtract(lead, em.multiply(em.divide(em.add(df, 1), 2),
                                         em.log1p(em.divide(em.multiply(z, z), df))))


def _t_cdf(em, z, df):
    if _is_inf(df):
        return em.ndtr(z)
    return em.call("stdtr", z, df=df)


def _t_sf(em, z, df):
    return _t_cdf(em, em.negative(z), df)


t = _Dist(st.t, ("df",), argcheck=lambda em, df: _cmp(em, "greater", df, Const(0)))
t.density("logpdf", _t_logpdf, log=True)
t.density("pdf", lambda em, z, df: em.exp(_t_logpdf(em, z, df)), log=False)
t.distribution("cdf", _t_cdf, 0.0, 1.0)
t.distribution("sf", _t_sf, 1.0, 0.0)
t.distribution("logcdf", _log_cdf(_t_cdf, _t_sf, _zero), -_INF, 0.0)
t.distribution("logsf", _log_sf(_t_cdf, _t_sf, _zero), 0.0, -_INF)

# ------------------------------------------------------------ gamma


def _gamma_logpdf(em, z, a):
    return em.subtract(em.subtract(em.xlogy(em.subtract(a, 1.0), z), z), c(em, "gammaln", a))


def _gamma_cdf(em, z, a):
    return em.call("gammainc", z, a=a)


def _gamma_sf(em, z, a):
    return em.call("gammaincc", z, a=a)


gamma = _Dist(st.gamma, ("a",), support=(0.0, _INF),
              argcheck=lambda em, a: _cmp(em, "greater", a, Const(0)))
gamma.density("logpdf", _gamma_logpdf, log=True)
gamma.density("pdf", lambda em, z, a: em.exp(_gamma_logpdf(em, z, a)), log=False)
gamma.distribution("cdf", _gamma_cdf, 0.0, 1.0)
gamma.distribution("sf", _gamma_sf, 1.0, 0.0)
def _gamma_median_impl(a):
    return sc.gammaincinv(a, 0.5)


_gamma_median_impl.printer = lambda a: printing.call("scipy.special.gammaincinv",
                                                     [a, ast.Constant(value=0.5)], {})
_gamma_median = _median("gamma_median", _gamma_median_impl)
gamma.distribution("logcdf", _log_cdf(_gamma_cdf, _gamma_sf, _gamma_median), -_INF, 0.0)
gamma.distribution("logsf", _log_sf(_gamma_cdf, _gamma_sf, _gamma_median), 0.0, -_INF)

# ------------------------------------------------------------ beta


def _beta_logpdf(em, z, a, b):
    return em.subtract(em.add(em.xlog1py(em.subtract(b, 1.0), em.negative(z)),
                              em.xlogy(em.subtract(a, 1.0), z)), c(em, "betaln", a, b))


def _beta_cdf(em, z, a, b):
    return em.call("betainc", z, a=a, b=b)


def _beta_sf(em, z, a, b):
    return em.call("betaincc", z, a=a, b=b)


beta = _Dist(st.beta, ("a", "b"), support=(0.0, 1.0),
             argcheck=lambda em, a, b: _and(em, _cmp(em, "greater", a, Const(0)),
                                            _cmp(em, "greater", b, Const(0))))
beta.density("logpdf", _beta_logpdf, log=True)
beta.density("pdf", lambda em, z, a, b: em.exp(_beta_logpdf(em, z, a, b)), log=False)
beta.distribution("cdf", _beta_cdf, 0.0, 1.0)
beta.distribution("sf", _beta_sf, 1.0, 0.0)
def _beta_median_impl(a, b):
    return sc.betaincinv(a, b, 0.5)


_beta_median_impl.printer = lambda a, b: printing.call("scipy.special.betaincinv",
                                                       [a, b, ast.Constant(value=0.5)], {})
_beta_median = _median("beta_median", _beta_median_impl)
beta.distribution("logcdf", _log_cdf(_beta_cdf, _beta_sf, _beta_median), -_INF, 0.0)
beta.distribution("logsf", _log_sf(_beta_cdf, _beta_sf, _beta_median), 0.0, -_INF)

# ------------------------------------------------------------ expon


def _expon_cdf(em, z):
    return em.negative(em.expm1(em.negative(z)))


expon = _Dist(st.expon, support=(0.0, _INF))
expon.density("logpdf", lambda em, z: em.negative(z), log=True)
expon.density("pdf", lambda em, z: em.exp(em.negative(z)), log=False)
def _expon_sf(em, z):
    return em.exp(em.negative(z))


expon.distribution("cdf", _expon_cdf, 0.0, 1.0)
expon.distribution("logcdf", _log_cdf(_expon_cdf, _expon_sf, lambda em: math.log(2.0)),
                   -_INF, 0.0)
expon.distribution("sf", lambda em, z: em.exp(em.negative(z)), 1.0, 0.0)
expon.distribution("logsf", lambda em, z: em.negative(z), 0.0, -_INF)
expon.quantile("ppf", lambda em, q: em.negative(em.log1p(em.negative(q))))
expon.quantile("isf", lambda em, q: em.negative(em.log(q)))

# ------------------------------------------------------------ laplace


def _laplace_cdf(em, z):
    # 1 - e^-z / 2 above 0, e^z / 2 below, both through e^-|z| (no overflow in
    # the branch not taken, so no 0 * inf in its derivative)
    h = em.multiply(0.5, em.exp(em.negative(em.absolute(z))))
    return em.where(em.greater(z, 0), em.subtract(1.0, h), h)


def _laplace_sf(em, z):
    return _laplace_cdf(em, em.negative(z))


def _laplace_ppf(em, q):
    # log(2q) below 1/2, -log(2(1 - q)) above (each branch's argument kept in range)
    upper = em.greater(q, 0.5)
    lo = em.log(em.multiply(2.0, em.where(upper, 0.5, q)))
    hi = em.negative(em.log(em.multiply(2.0, em.subtract(1.0, em.where(upper, q, 0.5)))))
    return em.where(upper, hi, lo)


laplace = _Dist(st.laplace)
laplace.density("logpdf", lambda em, z: em.subtract(em.negative(em.absolute(z)), math.log(2.0)),
                log=True)
laplace.density("pdf", lambda em, z: em.multiply(0.5, em.exp(em.negative(em.absolute(z)))),
                log=False)
laplace.distribution("cdf", _laplace_cdf, 0.0, 1.0)
laplace.distribution("sf", _laplace_sf, 1.0, 0.0)
laplace.distribution("logcdf", _log_cdf(_laplace_cdf, _laplace_sf, _zero), -_INF, 0.0)
laplace.distribution("logsf", _log_sf(_laplace_cdf, _laplace_sf, _zero), 0.0, -_INF)
laplace.quantile("ppf", _laplace_ppf)
laplace.quantile("isf", lambda em, q: em.negative(_laplace_ppf(em, q)))

# ------------------------------------------------------------ cauchy


def _cauchy_logpdf(em, z):
    # SciPy's two forms: -log(pi) - log1p(z^2) for |z| < 1, and
    # -log(pi) - 2 log|z| - log1p(1/z^2) beyond (no overflow of z^2); each
    # branch's argument is kept in its range so neither gives 0 * inf
    a = em.absolute(z)
    small = em.less(a, 1)
    a1 = em.where(small, a, 0.0)
    a2 = em.where(small, 1.0, a)
    near = em.subtract(-_LOG_PI, em.log1p(em.square(a1)))
    far = em.subtract(em.subtract(-_LOG_PI, em.multiply(2.0, em.log(a2))),
                      em.log1p(em.square(em.reciprocal(a2))))
    return em.where(small, near, far)


def _cauchy_cdf(em, z):
    return em.divide(em.arctan2(1.0, em.negative(z)), math.pi)


def _cauchy_sf(em, z):
    return em.divide(em.arctan2(1.0, z), math.pi)


cauchy = _Dist(st.cauchy)
cauchy.density("logpdf", _cauchy_logpdf, log=True)
cauchy.density("pdf", lambda em, z: em.divide(1.0 / math.pi, em.add(1.0, em.multiply(z, z))),
               log=False)
cauchy.distribution("cdf", _cauchy_cdf, 0.0, 1.0)
cauchy.distribution("sf", _cauchy_sf, 1.0, 0.0)
cauchy.distribution("logcdf", _log_cdf(_cauchy_cdf, _cauchy_sf, _zero), -_INF, 0.0)
cauchy.distribution("logsf", _log_sf(_cauchy_cdf, _cauchy_sf, _zero), 0.0, -_INF)

# ------------------------------------------------------------ logistic


def _logistic_logpdf(em, z):
    y = em.negative(em.absolute(z))
    return em.subtract(y, em.multiply(2.0, em.log1p(em.exp(y))))


logistic = _Dist(st.logistic)
logistic.density("logpdf", _logistic_logpdf, log=True)
logistic.density("pdf", lambda em, z: em.exp(_logistic_logpdf(em, z)), log=False)
logistic.distribution("cdf", lambda em, z: em.expit(z), 0.0, 1.0)
logistic.distribution("logcdf", lambda em, z: em.log_expit(z), -_INF, 0.0)
logistic.distribution("sf", lambda em, z: em.expit(em.negative(z)), 1.0, 0.0)
logistic.distribution("logsf", lambda em, z: em.log_expit(em.negative(z)), 0.0, -_INF)
logistic.quantile("ppf", lambda em, q: em.logit(q))
logistic.quantile("isf", lambda em, q: em.negative(em.logit(q)))


# ------------------------------------------------------------ poisson (discrete: no scale)


def _poisson_args(em, kw):
    if kw.get("mu") is None:
        raise S2SGradError("scipy.stats.poisson: missing argument 'mu'")
    # in the operands' precision, as SciPy (whose result is float64: see _f64 below)
    k, mu = kw["k"], kw["mu"]
    loc = kw.get("loc")
    if not _none(loc):
        k = em.subtract(k, loc)
    return k, mu


def _poisson_logpmf(em, **kw):
    k, mu = _poisson_args(em, kw)
    v = em.subtract(em.subtract(em.xlogy(k, mu), c(em, "gammaln", em.add(k, 1))), mu)
    # support: k = 0, 1, 2, ...; SciPy's argcheck: mu >= 0
    # (a NaN k is neither: NaN, as SciPy)
    off = em.logical_or(em.less(k, 0), em.greater(em.subtract(k, em.floor(k)), 0))
    return _nan_unless(em, _cmp(em, "greater_equal", mu, Const(0)),
                       _f64(em, em.where(off, -_INF, v)))


def _poisson_dist(upper):
    def expand(em, **kw):
        k, mu = _poisson_args(em, kw)
        kf = em.floor(k)
        v = em.call("pdtrc" if upper else "pdtr", mu, k=kf)
        v = em.where(em.less(k, 0), 1.0 if upper else 0.0, v)
        v = em.where(em.isnan(k), _NAN, v)
        return _nan_unless(em, _cmp(em, "greater_equal", mu, Const(0)), _f64(em, v))
    return expand


def _reg_poisson(method, expand):
    defcomposite(f"scipy.stats.poisson.{method}", sig="k, mu=None, loc=None", expand=expand,
                 methods=[(st.poisson, method)], doc=f"scipy.stats.poisson.{method}(k, mu, loc)")


_reg_poisson("logpmf", _poisson_logpmf)
_reg_poisson("pmf", lambda em, **kw: em.exp(_poisson_logpmf(em, **kw)))
_reg_poisson("cdf", _poisson_dist(False))
_reg_poisson("sf", _poisson_dist(True))
_reg_poisson("logcdf", lambda em, **kw: em.log(_poisson_dist(False)(em, **kw)))
_reg_poisson("logsf", lambda em, **kw: em.log(_poisson_dist(True)(em, **kw)))


# ------------------------------------------------------------ dirichlet


def _dirichlet_logpdf(em, x, alpha):
    # SciPy: -(sum gammaln(alpha) - gammaln(sum alpha)) + sum_i xlogy(alpha_i - 1, x_i),
    # x's first axis running over the components
    lnb = em.subtract(em.sum(c(em, "gammaln", alpha)), c(em, "gammaln", em.sum(alpha)))
    terms = em.transpose(em.xlogy(em.subtract(alpha, 1.0), em.transpose(x)))
    return em.subtract(em.sum(terms, axis=0), lnb)


defcomposite("scipy.stats.dirichlet.logpdf", sig="x, alpha", expand=_dirichlet_logpdf,
             methods=[(st.dirichlet, "logpdf")], doc="scipy.stats.dirichlet.logpdf(x, alpha)")
defcomposite("scipy.stats.dirichlet.pdf", sig="x, alpha",
             expand=lambda em, x, alpha: em.exp(_dirichlet_logpdf(em, x, alpha)),
             methods=[(st.dirichlet, "pdf")], doc="scipy.stats.dirichlet.pdf(x, alpha)")


# ------------------------------------------------------------ multivariate_normal


def _mvn_logpdf(em, x, mean=None, cov=None, allow_singular=None):
    if allow_singular is not None and not (isinstance(allow_singular, Const)
                                           and allow_singular.value is False):
        raise S2SGradError("scipy.stats.multivariate_normal: allow_singular=True is not "
                           "supported (the covariance must be positive definite)")
    x = _f64(em, x)
    cov = Const(1) if _none(cov) else _f64(em, cov)
    if _none(mean):
        d = em.len(cov)
        mean = None
    else:
        mean = _f64(em, mean)
        d = em.size(mean)
    # cov as SciPy reads it: a matrix, a vector (the diagonal) or a scalar times I
    if _num(cov):
        C = em.multiply(cov, em.eye(d))
    else:
        C = em.where(em.equal(em.ndim(cov), 2), cov, em.multiply(cov, em.eye(d)))
    # points as rows: x is (..., d); with d == 1 a 1-d x holds n points (as SciPy)
    pts = em.reshape(x, shape=em.make_tuple(Const(-1), d))
    delta = pts if mean is None else em.subtract(pts, mean)
    dt = em.transpose(delta)
    maha = em.sum(em.multiply(dt, em.solve(C, dt)), axis=0)
    sign, logdet = em.slogdet(C)
    logdet = em.where(em.greater(sign, 0), logdet, _NAN)   # not positive definite: NaN
    flat = em.multiply(-0.5, em.add(em.add(em.multiply(d, 2.0 * _LOG_SQRT_2PI), logdet), maha))
    # back to x's leading shape, squeezed (SciPy squeezes its result)
    lead = em.add(em.call("getitem", em.shape(x), _params={"index": slice(None, -1)}),
                  Const((-1,)))
    return em.squeeze(em.reshape(flat, shape=lead))


defcomposite("scipy.stats.multivariate_normal.logpdf",
             sig="x, mean=None, cov=None, allow_singular=None", expand=_mvn_logpdf,
             methods=[(st.multivariate_normal, "logpdf")],
             doc="scipy.stats.multivariate_normal.logpdf(x, mean, cov)")
defcomposite("scipy.stats.multivariate_normal.pdf",
             sig="x, mean=None, cov=None, allow_singular=None",
             expand=lambda em, x, **kw: em.exp(_mvn_logpdf(em, x, **kw)),
             methods=[(st.multivariate_normal, "pdf")],
             doc="scipy.stats.multivariate_normal.pdf(x, mean, cov)")
