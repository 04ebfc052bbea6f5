"""``scipy.stats``: densities, distribution functions and quantiles of
norm, t, gamma, beta, expon, laplace, cauchy, logistic, uniform, halfnorm,
lognorm, pareto, weibull_min, chi2, gumbel_r, gumbel_l, vonmises,
wrapcauchy, gennorm, truncnorm, poisson, binom, bernoulli, geom, nbinom,
betabinom, dirichlet, multinomial and multivariate_normal.

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
the support (``logpdf`` ``-inf``, ``pdf`` 0, ``cdf`` 0 or 1) -- where the
gradient is exactly 0 (formulas are evaluated at a point inside the support
there, so no NaN of the formula outside it reaches the derivative).

Conventions and differences (documented in the README too):

* Shape parameters SciPy's formula reaches only through a function without
  a derivative rule in that argument are data: ``gamma.cdf``'s ``a``,
  ``beta.cdf``'s ``a``, ``b``, ``t.cdf``'s ``df`` (differentiating them is
  an error, not a zero); ``chi2.cdf``'s ``df`` likewise.  The ``k`` of the
  discrete distributions is data; ``binom``'s ``n`` must be an integer
  (its derivative is that of the Gamma-function form).
* ``laplace.logpdf`` is ``-|z| - log(2 scale)`` (SciPy computes
  ``log(pdf)``, which underflows to ``-inf`` beyond ``|z| ~ 745``); its
  derivative at ``x == loc`` uses ``sign(0) = 0``.
* ``t`` with ``df`` given as a constant ``inf`` is ``norm``; a computed
  ``df`` must be finite.
* ``multivariate_normal``: ``cov`` is a matrix, a vector (the diagonal) or
  a scalar (times the identity) as in SciPy, and must be symmetric positive
  definite (as SciPy, the lower triangle is read: the gradient's
  off-diagonal part lands there, as ``eigh``'s; a matrix
  that is not positive definite gives NaN where SciPy raises);
  ``allow_singular=True`` is refused; with ``mean=None`` the dimension is
  ``len(cov)``.
* ``gumbel_r``/``gumbel_l``: the cdf/sf formulas are evaluated with ``z``
  clipped at -700 (``e^-z`` would overflow): derivative 0 beyond, where the
  true one is below 1e-300.  ``gennorm.cdf``/``sf``: ``beta`` is data.
* ``truncnorm``: ``a``, ``b`` differentiable; the mass ``Phi(b) - Phi(a)``
  is taken from the upper tail when ``a > 0``; beyond ~37 standard
  deviations it underflows (SciPy uses log-space formulas there).
* ``nbinom.cdf``/``sf``: ``n`` is data (``betainc``'s ``a``).
  ``multinomial``: ``x`` and ``n`` are data; as SciPy (< 1.18) the last
  probability is ``1 - sum(the others)``, so its derivative goes to those.
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
from . import scipy_special_more  # noqa: F401  (stdtrit)
from .core import REGISTRY, defcomposite, defprim, shape_fresh, shape_of
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
        # SciPy's default _argcheck: every shape parameter > 0
        self.argcheck = argcheck or (lambda em, *s: _and(em, *[_cmp(em, "greater", a, Const(0))
                                                               for a in s]))

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

    def inside(self, em, z, outside):
        """``z`` with points outside the support moved inside (their values
        are selected away; evaluated outside, a formula may give NaN, and
        0 * NaN would reach the derivative).  A NaN ``z`` stays NaN."""
        if outside is False:
            return z
        safe = self.lo + 1.0 if self.hi == _INF else (self.lo + self.hi) / 2
        return _select(em, outside, safe, z)

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
            outside = _or(em, self.below(em, z), self.above(em, z))
            v = f(em, self.inside(em, z, outside), *shapes)
            if not (_num(scale) and scale.value == 1):
                v = em.subtract(v, c(em, "log", scale)) if log else em.divide(v, scale)
            out = _select(em, outside, -_INF if log else 0.0, v)
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
            below, above = self.below(em, z), self.above(em, z)
            out = f(em, self.inside(em, z, _or(em, below, above)), *shapes)
            out = _select(em, below, at_lo, out)
            out = _select(em, above, at_hi, out)
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


def _t_ppf(em, q, df):
    # SciPy: stdtrit(df, q) inside (0, 1) -- stdtrit(df, 0) is +inf, so the
    # ends are the support's, as SciPy's generic ppf sets them
    inner = em.call("stdtrit", q, df=df)
    return em.where(em.equal(q, 0), -_INF, em.where(em.equal(q, 1), _INF, inner))


if "stdtrit" in REGISTRY:     # (scipy_special_more)
    t.quantile("ppf", _t_ppf)
    t.quantile("isf", lambda em, q, df: em.negative(_t_ppf(em, q, df)))

# ------------------------------------------------------------ gamma


def _gamma_logpdf(em, z, a):
    return em.subtract(em.subtract(em.xlogy(em.subtract(a, 1.0), z), z), c(em, "gammaln", a))


def _gamma_cdf(em, z, a):
    return em.call("gammainc", a, z)


def _gamma_sf(em, z, a):
    return em.call("gammaincc", a, z)


gamma = _Dist(st.gamma, ("a",), support=(0.0, _INF),
              argcheck=lambda em, a: _cmp(em, "greater", a, Const(0)))
gamma.density("logpdf", _gamma_logpdf, log=True)
gamma.density("pdf", lambda em, z, a: em.exp(_gamma_logpdf(em, z, a)), log=False)
gamma.distribution("cdf", _gamma_cdf, 0.0, 1.0)
gamma.distribution("sf", _gamma_sf, 1.0, 0.0)
gamma.quantile("ppf", lambda em, q, a: em.call("gammaincinv", a, q))     # (SciPy's _ppf)
gamma.quantile("isf", lambda em, q, a: em.call("gammainccinv", a, q))
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
    return em.call("betainc", a, b, z)


def _beta_sf(em, z, a, b):
    return em.call("betaincc", a, b, z)


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
beta.quantile("ppf", lambda em, q, a, b: em.call("betaincinv", a, b, q))

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
    # 1 - e^-z / 2 above 0, e^z / 2 at and below, each branch at z clipped to
    # its side (no overflow in the branch not taken, so no 0 * inf in its
    # derivative).  Not through e^-|z|: |z|'s derivative at 0 is 0, which gave
    # the cdf derivative 0 at z == 0 for the density 1/2 there.
    upper = em.greater(z, 0)
    lo = em.multiply(0.5, em.exp(em.where(upper, 0.0, z)))
    hi = em.subtract(1.0, em.multiply(0.5, em.exp(em.negative(em.where(upper, z, 0.0)))))
    return em.where(upper, hi, lo)


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


# ------------------------------------------------------------ uniform


def _uniform_logpdf(em, z):
    # 0 in the support; z * 0 keeps a NaN z NaN (as SciPy's wrapper does)
    return em.multiply(z, 0.0)


def _uniform_sf(em, z):
    return em.subtract(1.0, z)


def _ident(em, z):
    return z


uniform = _Dist(st.uniform, support=(0.0, 1.0))
uniform.density("logpdf", _uniform_logpdf, log=True)
uniform.density("pdf", lambda em, z: em.add(em.multiply(z, 0.0), 1.0), log=False)
uniform.distribution("cdf", _ident, 0.0, 1.0)
uniform.distribution("sf", _uniform_sf, 1.0, 0.0)
uniform.distribution("logcdf", _log_cdf(_ident, _uniform_sf, lambda em: 0.5), -_INF, 0.0)
uniform.distribution("logsf", _log_sf(_ident, _uniform_sf, lambda em: 0.5), 0.0, -_INF)
uniform.quantile("ppf", lambda em, q: q)
uniform.quantile("isf", lambda em, q: em.subtract(1.0, q))

# ------------------------------------------------------------ halfnorm

_HALFNORM_MEDIAN = float(st.norm.ppf(0.75))


def _halfnorm_cdf(em, z):
    return em.erf(em.divide(z, math.sqrt(2.0)))


def _halfnorm_sf(em, z):
    return em.multiply(2, em.ndtr(em.negative(z)))


halfnorm = _Dist(st.halfnorm, support=(0.0, _INF))
halfnorm.density("logpdf", lambda em, z: em.subtract(0.5 * math.log(2.0 / math.pi),
                                                     em.divide(em.multiply(z, z), 2.0)), log=True)
halfnorm.density("pdf", lambda em, z: em.multiply(math.sqrt(2.0 / math.pi), em.exp(
    em.divide(em.multiply(em.negative(z), z), 2.0))), log=False)
halfnorm.distribution("cdf", _halfnorm_cdf, 0.0, 1.0)
halfnorm.distribution("sf", _halfnorm_sf, 1.0, 0.0)
halfnorm.distribution("logcdf", _log_cdf(_halfnorm_cdf, _halfnorm_sf,
                                         lambda em: _HALFNORM_MEDIAN), -_INF, 0.0)
halfnorm.distribution("logsf", _log_sf(_halfnorm_cdf, _halfnorm_sf,
                                       lambda em: _HALFNORM_MEDIAN), 0.0, -_INF)
halfnorm.quantile("ppf", lambda em, q: em.ndtri(em.divide(em.add(1, q), 2.0)))
halfnorm.quantile("isf", lambda em, p: em.negative(em.ndtri(em.divide(p, 2))))

# ------------------------------------------------------------ lognorm


def _lognorm(f, at_zero):
    """``f(log z, s)`` for z > 0, ``at_zero`` at 0 (the limit); the log is
    taken of z with z <= 0 replaced by 1 (those are selected away; a NaN
    stays NaN), so no 0 * inf reaches the derivative."""
    def g(em, z, s):
        lz = em.log(em.where(em.less_equal(z, 0), 1.0, z))
        return em.where(em.equal(z, 0), at_zero, f(em, lz, s, z))
    return g


def _lognorm_logpdf(em, lz, s, z):
    # SciPy: -log(z)^2 / (2 s^2) - log(s z sqrt(2 pi))
    zs = em.exp(lz)
    return em.subtract(em.negative(em.divide(em.square(lz), em.multiply(2, em.square(s)))),
                       em.log(em.multiply(em.multiply(s, zs), math.sqrt(2 * math.pi))))


lognorm = _Dist(st.lognorm, ("s",), support=(0.0, _INF))
lognorm.density("logpdf", _lognorm(_lognorm_logpdf, -_INF), log=True)
lognorm.density("pdf", lambda em, z, s: em.exp(_lognorm(_lognorm_logpdf, -_INF)(em, z, s)),
                log=False)
lognorm.distribution("cdf", _lognorm(lambda em, lz, s, z: em.ndtr(em.divide(lz, s)), 0.0),
                     0.0, 1.0)
lognorm.distribution("logcdf", _lognorm(lambda em, lz, s, z: em.log_ndtr(em.divide(lz, s)),
                                        -_INF), -_INF, 0.0)
lognorm.distribution("sf", _lognorm(lambda em, lz, s, z: em.ndtr(em.negative(em.divide(lz, s))),
                                    1.0), 1.0, 0.0)
lognorm.distribution("logsf", _lognorm(
    lambda em, lz, s, z: em.log_ndtr(em.negative(em.divide(lz, s))), 0.0), 0.0, -_INF)
lognorm.quantile("ppf", lambda em, q, s: em.exp(em.multiply(s, em.ndtri(q))))
lognorm.quantile("isf", lambda em, q, s: em.exp(em.multiply(s, em.negative(em.ndtri(q)))))

# ------------------------------------------------------------ pareto


def _pareto_pdf(em, z, b):
    return em.multiply(b, em.power(z, em.subtract(em.negative(b), 1)))


def _pareto_cdf(em, z, b):
    return em.subtract(1, em.power(z, em.negative(b)))


def _pareto_sf(em, z, b):
    return em.power(z, em.negative(b))


def _pareto_median(em, b):
    return c(em, "power", Const(2.0), c(em, "divide", Const(1.0), b))


pareto = _Dist(st.pareto, ("b",), support=(1.0, _INF))
pareto.density("logpdf", lambda em, z, b: em.log(_pareto_pdf(em, z, b)), log=True)
pareto.density("pdf", _pareto_pdf, log=False)
pareto.distribution("cdf", _pareto_cdf, 0.0, 1.0)
pareto.distribution("sf", _pareto_sf, 1.0, 0.0)
pareto.distribution("logcdf", _log_cdf(_pareto_cdf, _pareto_sf, _pareto_median), -_INF, 0.0)
pareto.distribution("logsf", _log_sf(_pareto_cdf, _pareto_sf, _pareto_median), 0.0, -_INF)
pareto.quantile("ppf", lambda em, q, b: em.power(em.subtract(1, q), em.divide(-1.0, b)))
pareto.quantile("isf", lambda em, q, b: em.power(q, em.divide(-1.0, b)))

# ------------------------------------------------------------ weibull_min


def _weibull_cdf(em, z, k):
    return em.negative(em.expm1(em.negative(em.power(z, k))))


def _weibull_sf(em, z, k):
    return em.exp(em.negative(em.power(z, k)))


def _weibull_median(em, k):
    return c(em, "power", Const(math.log(2.0)), c(em, "divide", Const(1.0), k))


weibull_min = _Dist(st.weibull_min, ("c",), support=(0.0, _INF))
weibull_min.density("logpdf", lambda em, z, k: em.subtract(
    em.add(c(em, "log", k), em.xlogy(em.subtract(k, 1), z)), em.power(z, k)), log=True)
weibull_min.density("pdf", lambda em, z, k: em.multiply(
    em.multiply(k, em.power(z, em.subtract(k, 1))), em.exp(em.negative(em.power(z, k)))),
    log=False)
weibull_min.distribution("cdf", _weibull_cdf, 0.0, 1.0)
weibull_min.distribution("sf", _weibull_sf, 1.0, 0.0)
weibull_min.distribution("logcdf", _log_cdf(_weibull_cdf, _weibull_sf, _weibull_median),
                         -_INF, 0.0)
weibull_min.distribution("logsf", lambda em, z, k: em.negative(em.power(z, k)), 0.0, -_INF)
weibull_min.quantile("ppf", lambda em, q, k: em.power(em.negative(em.log1p(em.negative(q))),
                                                      em.divide(1.0, k)))
weibull_min.quantile("isf", lambda em, q, k: em.power(em.negative(em.log(q)), em.divide(1, k)))

# ------------------------------------------------------------ chi2


def _chi2_logpdf(em, z, df):
    return em.subtract(em.subtract(em.subtract(em.xlogy(em.subtract(em.divide(df, 2.0), 1), z),
                                               em.divide(z, 2.0)),
                                   c(em, "gammaln", em.divide(df, 2.0))),
                       em.divide(em.multiply(math.log(2.0), df), 2.0))


def _chi2_cdf(em, z, df):
    # chdtr(df, z) is cephes' igam(df/2, z/2): gammainc, differentiable in df too
    return em.call("gammainc", em.divide(df, 2.0), em.divide(z, 2.0))


def _chi2_sf(em, z, df):
    return em.call("gammaincc", em.divide(df, 2.0), em.divide(z, 2.0))


def _chi2_median(em, df):
    return em.multiply(2, _gamma_median(em, c(em, "divide", df, Const(2))))


chi2 = _Dist(st.chi2, ("df",), support=(0.0, _INF))
chi2.density("logpdf", _chi2_logpdf, log=True)
chi2.density("pdf", lambda em, z, df: em.exp(_chi2_logpdf(em, z, df)), log=False)
chi2.distribution("cdf", _chi2_cdf, 0.0, 1.0)
chi2.distribution("sf", _chi2_sf, 1.0, 0.0)
chi2.distribution("logcdf", _log_cdf(_chi2_cdf, _chi2_sf, _chi2_median), -_INF, 0.0)
chi2.distribution("logsf", _log_sf(_chi2_cdf, _chi2_sf, _chi2_median), 0.0, -_INF)
# (SciPy's _ppf / _isf)
chi2.quantile("ppf", lambda em, q, df: em.multiply(2.0, em.call("gammaincinv",
                                                                 em.divide(df, 2.0), q)))
chi2.quantile("isf", lambda em, q, df: em.multiply(2.0, em.call("gammainccinv",
                                                                 em.divide(df, 2.0), q)))


# ------------------------------------------------------------ discrete distributions


class _Discrete:
    """A discrete distribution (``loc`` shifts ``k``; no scale), as
    ``rv_discrete``'s wrappers: NaN for bad parameters or a NaN ``k``;
    ``logpmf`` ``-inf`` off the integers of the support ``[lo, hi]``; ``cdf``
    (at ``floor(k)``) 0 below and 1 from ``hi`` on.  Formulas
    ``f(em, k, *shapes)``; ``hi(em, *shapes)`` is the upper end of the support."""

    def __init__(self, inst, shapes, argcheck, lo=0, hi=None):
        self.inst, self.shapes, self.argcheck, self.lo, self.hi = inst, shapes, argcheck, lo, hi
        self.keys = ("k",) + shapes + ("loc",)
        self.sig = ", ".join(k + ("=None" if k != "k" else "") for k in self.keys)

    def args(self, em, kw):
        for k in self.shapes:
            if _none(kw.get(k)):
                raise S2SGradError(f"scipy.stats.{self.inst.name}: missing argument '{k}'")
        # in the operands' precision, as SciPy (its result is float64: _f64 at the end)
        k = kw["k"]
        if not _none(kw.get("loc")):
            k = em.subtract(k, kw["loc"])
        return k, [kw[n] for n in self.shapes]

    def register(self, method, expand):
        name = f"scipy.stats.{self.inst.name}.{method}"
        defcomposite(name, sig=self.sig, expand=expand, methods=[(self.inst, method)],
                     doc=f"{name}({self.sig})")

    def outside(self, em, k, shapes):
        out = _cmp(em, "less", k, Const(self.lo))
        if self.hi is not None:
            out = _or(em, out, _cmp(em, "greater", k, self.hi(em, *shapes)))
        return out

    def mass(self, method, f, log):
        def expand(em, **kw):
            k, shapes = self.args(em, kw)
            outside = self.outside(em, k, shapes)
            # (evaluated inside the support: no NaN where the value is selected away)
            v = f(em, _select(em, outside, float(self.lo), k), *shapes)
            # off the support's integers (a NaN k is neither: NaN, as SciPy)
            off = _or(em, outside, em.greater(em.subtract(k, em.floor(k)), 0))
            v = _select(em, off, -_INF if log else 0.0, v)
            return _nan_unless(em, self.argcheck(em, *shapes), _f64(em, v))
        self.register(method, expand)

    def distribution(self, method, f, below, above, log=False):
        def expand(em, **kw):
            k, shapes = self.args(em, kw)
            lo = _cmp(em, "less", k, Const(self.lo))
            hi = False if self.hi is None else _cmp(em, "greater_equal", k, self.hi(em, *shapes))
            v = f(em, em.floor(_select(em, _or(em, lo, hi), float(self.lo), k)), *shapes)
            v = _select(em, lo, below, v)
            v = _select(em, hi, above, v)
            v = em.where(em.isnan(k), _NAN, v)
            if log:
                v = em.log(v)
            return _nan_unless(em, self.argcheck(em, *shapes), _f64(em, v))
        self.register(method, expand)


# ------------------------------------------------------------ poisson


def _poisson_logpmf(em, k, mu):
    return em.subtract(em.subtract(em.xlogy(k, mu), c(em, "gammaln", em.add(k, 1))), mu)


def _poisson_cdf(em, kf, mu):
    return em.call("pdtr", mu, k=kf)


def _poisson_sf(em, kf, mu):
    return em.call("pdtrc", mu, k=kf)


poisson = _Discrete(st.poisson, ("mu",), lambda em, mu: _cmp(em, "greater_equal", mu, Const(0)))
poisson.mass("logpmf", _poisson_logpmf, log=True)
poisson.mass("pmf", lambda em, k, mu: em.exp(_poisson_logpmf(em, k, mu)), log=False)
poisson.distribution("cdf", _poisson_cdf, 0.0, 1.0)
poisson.distribution("sf", _poisson_sf, 1.0, 0.0)
poisson.distribution("logcdf", _poisson_cdf, 0.0, 1.0, log=True)
poisson.distribution("logsf", _poisson_sf, 1.0, 0.0, log=True)

# ------------------------------------------------------------ binom, bernoulli


def _binom_logpmf(em, k, n, p):
    # SciPy: gammaln(n+1) - (gammaln(k+1) + gammaln(n-k+1)) + xlogy(k, p) + xlog1py(n-k, -p)
    kf = em.floor(k)
    nk = em.subtract(n, kf)
    comb = em.subtract(c(em, "gammaln", em.add(n, 1)),
                       em.add(c(em, "gammaln", em.add(kf, 1)), c(em, "gammaln", em.add(nk, 1))))
    return em.add(em.add(comb, em.xlogy(kf, p)), em.xlog1py(nk, em.negative(p)))


def _binom_cdf(em, kf, n, p):
    # P(K <= k) = I_{1-p}(n - k, k + 1), in p (k and n are data)
    return em.call("betainc_x", em.subtract(1.0, p), a=em.subtract(n, kf), b=em.add(kf, 1))


def _binom_sf(em, kf, n, p):
    return em.call("betainc_x", p, a=em.add(kf, 1), b=em.subtract(n, kf))


def _is_integral(em, n):
    if _num(n):
        return float(n.value).is_integer()
    return em.equal(em.floor(n), n)


def _p_ok(em, p):
    return _and(em, _cmp(em, "greater_equal", p, Const(0)), _cmp(em, "less_equal", p, Const(1)))


binom = _Discrete(st.binom, ("n", "p"),
                  lambda em, n, p: _and(em, _cmp(em, "greater_equal", n, Const(0)),
                                        _is_integral(em, n), _p_ok(em, p)),
                  hi=lambda em, n, p: n)
binom.mass("logpmf", _binom_logpmf, log=True)
binom.mass("pmf", lambda em, k, n, p: em.exp(_binom_logpmf(em, k, n, p)), log=False)
binom.distribution("cdf", _binom_cdf, 0.0, 1.0)
binom.distribution("sf", _binom_sf, 1.0, 0.0)

bernoulli = _Discrete(st.bernoulli, ("p",), lambda em, p: _p_ok(em, p), hi=lambda em, p: Const(1))
bernoulli.mass("logpmf", lambda em, k, p: _binom_logpmf(em, k, Const(1.0), p), log=True)
bernoulli.mass("pmf", lambda em, k, p: em.exp(_binom_logpmf(em, k, Const(1.0), p)), log=False)
bernoulli.distribution("cdf", lambda em, kf, p: _binom_cdf(em, kf, Const(1.0), p), 0.0, 1.0)
bernoulli.distribution("sf", lambda em, kf, p: _binom_sf(em, kf, Const(1.0), p), 1.0, 0.0)

# ------------------------------------------------------------ geom


def _geom_logpmf(em, k, p):
    return em.add(em.xlog1py(em.subtract(k, 1), em.negative(p)), c(em, "log", p))


def _geom_logsf(em, kf, p):
    return em.multiply(kf, c(em, "log1p", c(em, "negative", p)))


geom = _Discrete(st.geom, ("p",), lambda em, p: _and(em, _cmp(em, "less_equal", p, Const(1)),
                                                     _cmp(em, "greater", p, Const(0))), lo=1)
geom.mass("logpmf", _geom_logpmf, log=True)
geom.mass("pmf", lambda em, k, p: em.multiply(em.power(em.subtract(1, p), em.subtract(k, 1)), p),
          log=False)
geom.distribution("cdf", lambda em, kf, p: em.negative(em.expm1(_geom_logsf(em, kf, p))), 0.0, 1.0)
geom.distribution("sf", lambda em, kf, p: em.exp(_geom_logsf(em, kf, p)), 1.0, 0.0)
geom.distribution("logsf", _geom_logsf, 0.0, -_INF)
geom.distribution("logcdf", lambda em, kf, p: em.negative(em.expm1(_geom_logsf(em, kf, p))),
                  0.0, 1.0, log=True)


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


def _lower_sym(em, C):
    """The symmetric matrix SciPy reads from ``C``'s lower triangle
    (``_PSD`` calls ``eigh(C, lower=True)``): tril(C) + tril(C, -1)^T.  The
    same matrix for a symmetric ``C``; for any other one it is what SciPy
    computes with, so the derivative is that of SciPy's function (its
    off-diagonal sensitivity lands on the lower triangle, as eigh's)."""
    half = em.tril_part(C, diag=0.5)
    return em.add(half, em.swapaxes(half, axis1=-1, axis2=-2))


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
        C = _lower_sym(em, C)
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


def _mvn_entropy(em, mean=None, cov=None, allow_singular=None):
    # (d (1 + log 2 pi) + log det cov) / 2; the mean does not enter
    if allow_singular is not None and not (isinstance(allow_singular, Const)
                                           and allow_singular.value is False):
        raise S2SGradError("scipy.stats.multivariate_normal: allow_singular=True is not "
                           "supported (the covariance must be positive definite)")
    cov = Const(1) if _none(cov) else _f64(em, cov)
    d = em.len(cov) if _none(mean) else em.size(mean)
    if _num(cov):
        C = em.multiply(cov, em.eye(d))
    else:
        C = em.where(em.equal(em.ndim(cov), 2), cov, em.multiply(cov, em.eye(d)))
        C = _lower_sym(em, C)
    sign, logdet = em.slogdet(C)
    logdet = em.where(em.greater(sign, 0), logdet, _NAN)   # not positive definite: NaN
    return em.multiply(0.5, em.add(em.multiply(d, 1.0 + 2.0 * _LOG_SQRT_2PI), logdet))


defcomposite("scipy.stats.multivariate_normal.entropy",
             sig="mean=None, cov=1, allow_singular=False", expand=_mvn_entropy,
             methods=[(st.multivariate_normal, "entropy")],
             doc="scipy.stats.multivariate_normal.entropy(mean, cov)")
defcomposite("scipy.stats.multivariate_normal.logpdf",
             sig="x, mean=None, cov=None, allow_singular=None", expand=_mvn_logpdf,
             methods=[(st.multivariate_normal, "logpdf")],
             doc="scipy.stats.multivariate_normal.logpdf(x, mean, cov)")
defcomposite("scipy.stats.multivariate_normal.pdf",
             sig="x, mean=None, cov=None, allow_singular=None",
             expand=lambda em, x, **kw: em.exp(_mvn_logpdf(em, x, **kw)),
             methods=[(st.multivariate_normal, "pdf")],
             doc="scipy.stats.multivariate_normal.pdf(x, mean, cov)")


# ------------------------------------------------------------ cauchy quantiles

def _cauchy_ppf(em, q):
    # tan(pi (q - 1/2)); exactly -inf/inf at q = 0/1 (tan gives +-1.6e16 there),
    # where the formula is evaluated at 1/2 (derivative 0, no inf in it)
    lo, hi = em.equal(q, 0), em.equal(q, 1)
    qi = em.where(em.logical_or(lo, hi), 0.5, q)
    v = em.tan(em.multiply(math.pi, em.subtract(qi, 0.5)))
    return em.where(lo, -_INF, em.where(hi, _INF, v))


cauchy.quantile("ppf", _cauchy_ppf)
cauchy.quantile("isf", lambda em, q: em.negative(_cauchy_ppf(em, q)))

# ------------------------------------------------------------ gumbel_r, gumbel_l
#
# gumbel_r: cdf exp(-e^-z); gumbel_l(z) is gumbel_r(-z).  e^-z overflows for
# z < -709: the cdf/sf formulas are evaluated at z clipped there (their
# values are 0 and 1 at that point already; derivative 0 beyond).

_GUMBEL_CLIP = -700.0


def _gumbel_logpdf(em, z):
    return em.subtract(em.negative(z), em.exp(em.negative(z)))


def _gumbel_e(em, z):
    """e^-z at z clipped from below (no overflow, derivative 0 beyond the clip)."""
    return em.exp(em.negative(em.where(em.less(z, _GUMBEL_CLIP), _GUMBEL_CLIP, z)))


def _gumbel_cdf(em, z):
    return em.exp(em.negative(_gumbel_e(em, z)))


def _gumbel_sf(em, z):
    return em.negative(em.expm1(em.negative(_gumbel_e(em, z))))


def _gumbel_logsf(em, z):
    return em.log(_gumbel_sf(em, z))


def _neg(f):
    return lambda em, z: f(em, em.negative(z))


gumbel_r = _Dist(st.gumbel_r)
gumbel_r.density("logpdf", _gumbel_logpdf, log=True)
gumbel_r.density("pdf", lambda em, z: em.exp(_gumbel_logpdf(em, z)), log=False)
gumbel_r.distribution("cdf", _gumbel_cdf, 0.0, 1.0)
gumbel_r.distribution("logcdf", lambda em, z: em.negative(_gumbel_e(em, z)), -_INF, 0.0)
gumbel_r.distribution("sf", _gumbel_sf, 1.0, 0.0)
gumbel_r.distribution("logsf", _gumbel_logsf, 0.0, -_INF)
gumbel_r.quantile("ppf", lambda em, q: em.negative(em.log(em.negative(em.log(q)))))
gumbel_r.quantile("isf", lambda em, q: em.negative(em.log(em.negative(
    em.log1p(em.negative(q))))))

gumbel_l = _Dist(st.gumbel_l)
gumbel_l.density("logpdf", _neg(_gumbel_logpdf), log=True)
gumbel_l.density("pdf", lambda em, z: em.exp(_gumbel_logpdf(em, em.negative(z))), log=False)
gumbel_l.distribution("cdf", _neg(_gumbel_sf), 0.0, 1.0)
gumbel_l.distribution("logcdf", _neg(_gumbel_logsf), -_INF, 0.0)
gumbel_l.distribution("sf", _neg(_gumbel_cdf), 1.0, 0.0)
gumbel_l.distribution("logsf", lambda em, z: em.negative(_gumbel_e(em, em.negative(z))),
                      0.0, -_INF)
gumbel_l.quantile("ppf", lambda em, q: em.log(em.negative(em.log1p(em.negative(q)))))
gumbel_l.quantile("isf", lambda em, q: em.log(em.negative(em.log(q))))

# ------------------------------------------------------------ vonmises, wrapcauchy


def _vonmises_logpdf(em, z, kappa):
    # kappa cos z - log(2 pi I0(kappa)) = kappa (cos z - 1) - log(2 pi) - log(i0e(kappa))
    return em.subtract(em.multiply(kappa, em.subtract(em.cos(z), 1.0)),
                       em.add(c(em, "log", c(em, "i0e", kappa)), math.log(2.0 * math.pi)))


vonmises = _Dist(st.vonmises, ("kappa",))
vonmises.density("logpdf", _vonmises_logpdf, log=True)
vonmises.density("pdf", lambda em, z, kappa: em.exp(_vonmises_logpdf(em, z, kappa)), log=False)


def _wrapcauchy_logpdf(em, z, cc):
    # (1 - c^2) / (2 pi (1 + c^2 - 2 c cos z))
    c2 = em.square(cc)
    return em.subtract(em.log(em.subtract(1.0, c2)),
                       em.add(em.log(em.subtract(em.add(1.0, c2),
                                                 em.multiply(em.multiply(2.0, cc), em.cos(z)))),
                              math.log(2.0 * math.pi)))


wrapcauchy = _Dist(st.wrapcauchy, ("c",), support=(0.0, 2.0 * math.pi),
                   argcheck=lambda em, cc: _and(em, _cmp(em, "greater", cc, Const(0)),
                                                _cmp(em, "less", cc, Const(1))))
wrapcauchy.density("logpdf", _wrapcauchy_logpdf, log=True)
wrapcauchy.density("pdf", lambda em, z, cc: em.exp(_wrapcauchy_logpdf(em, z, cc)), log=False)

# ------------------------------------------------------------ gennorm


def _gennorm_logpdf(em, z, b):
    return em.subtract(em.subtract(c(em, "log", b), em.add(c(em, "gammaln", em.divide(1.0, b)),
                                                          math.log(2.0))),
                       em.power(em.absolute(z), b))


def _gennorm_cdf(em, z, b):
    # 1/2 + sign(z) gammainc(1/b, |z|^b) / 2 (in b too: gammaincc's a is
    # differentiated by quadrature; it was data, so a differentiated b was
    # refused).  At z == 0 the chain rule through sign and |z|^b fails (0 for
    # the density there, or NaN from 0^b log 0): there the value is
    # 1/2 + z pdf(0), whose derivatives are the density b / (2 Gamma(1/b))
    # in z and 0 in b; the formula is evaluated at a safe |z| (double where)
    zero = em.equal(z, 0)
    az = em.where(zero, 1.0, em.absolute(z))
    # SciPy's form (0.5 + c) - c gammaincc(1/b, |z|^b), c = sign(z) / 2: no
    # cancellation in either tail (the sf, cdf(-z), is 0.5 gammaincc there)
    cz = em.multiply(0.5, em.sign(z))
    g = em.call("gammaincc", em.divide(1.0, b), em.power(az, b))
    out = em.subtract(em.add(0.5, cz), em.multiply(cz, g))
    pdf0 = em.exp(em.subtract(c(em, "log", b), em.add(c(em, "gammaln", em.divide(1.0, b)),
                                                      math.log(2.0))))
    return em.where(zero, em.add(0.5, em.multiply(z, pdf0)), out)


gennorm = _Dist(st.gennorm, ("beta",))
gennorm.density("logpdf", _gennorm_logpdf, log=True)
gennorm.density("pdf", lambda em, z, b: em.exp(_gennorm_logpdf(em, z, b)), log=False)
gennorm.distribution("cdf", _gennorm_cdf, 0.0, 1.0)
gennorm.distribution("sf", lambda em, z, b: _gennorm_cdf(em, em.negative(z), b), 1.0, 0.0)
gennorm.distribution("logcdf", _log_cdf(_gennorm_cdf,
                                        lambda em, z, b: _gennorm_cdf(em, em.negative(z), b),
                                        _zero), -_INF, 0.0)
gennorm.distribution("logsf", _log_sf(_gennorm_cdf,
                                      lambda em, z, b: _gennorm_cdf(em, em.negative(z), b),
                                      _zero), 0.0, -_INF)

# ------------------------------------------------------------ truncnorm
#
# Standardised bounds a < b (shape parameters, differentiable).  The mass
# Phi(b) - Phi(a) is computed in the upper tail as Phi(-a) - Phi(-b) when
# a > 0 (no cancellation of two numbers near 1); it underflows beyond about
# 37 standard deviations (SciPy switches to log-space formulas there).


def _tn_mass(em, a, b):
    upper = em.greater(a, 0)
    return em.where(upper, em.subtract(em.ndtr(em.negative(a)), em.ndtr(em.negative(b))),
                    em.subtract(em.ndtr(b), em.ndtr(a)))


def _tn_expand(method):
    keys = ("x", "a", "b", "loc", "scale")

    def expand(em, **kw):
        x, a, b, loc, scale = truncnorm.params(em, kw, keys)
        z = truncnorm.standardize(em, x, loc, scale)
        below, above = em.less(z, a), em.greater(z, b)
        zi = em.where(below, a, em.where(above, b, z))      # inside [a, b]
        mass = _tn_mass(em, a, b)
        if method in ("logpdf", "pdf"):
            v = em.subtract(em.subtract(em.multiply(-0.5, em.square(zi)), _LOG_SQRT_2PI),
                            em.log(mass))
            if not (_num(scale) and scale.value == 1):
                v = em.subtract(v, c(em, "log", scale))
            if method == "pdf":
                v = em.exp(v)
            out = em.where(em.logical_or(below, above), -_INF if method == "logpdf" else 0.0, v)
        else:
            upper = em.greater(a, 0)
            cdf = em.divide(em.where(upper, em.subtract(em.ndtr(em.negative(a)),
                                                        em.ndtr(em.negative(zi))),
                                     em.subtract(em.ndtr(zi), em.ndtr(a))), mass)
            sf = em.divide(em.where(upper, em.subtract(em.ndtr(em.negative(zi)),
                                                       em.ndtr(em.negative(b))),
                                    em.subtract(em.ndtr(b), em.ndtr(zi))), mass)
            v = {"cdf": cdf, "sf": sf, "logcdf": em.log(cdf), "logsf": em.log(sf)}[method]
            lo, hi = {"cdf": (0.0, 1.0), "sf": (1.0, 0.0), "logcdf": (-_INF, 0.0),
                      "logsf": (0.0, -_INF)}[method]
            out = em.where(below, lo, em.where(above, hi, v))
        ok = _and(em, _cmp(em, "greater", scale, Const(0)), _cmp(em, "less", a, b))
        return _nan_unless(em, ok, out)
    return expand


truncnorm = _Dist(st.truncnorm, ("a", "b"))
for _m in ("logpdf", "pdf", "cdf", "sf", "logcdf", "logsf"):
    truncnorm.register(_m, "x, a, b, loc=None, scale=None", _tn_expand(_m))

# ------------------------------------------------------------ nbinom, betabinom


def _nbinom_logpmf(em, k, n, p):
    # gammaln(k + n) - gammaln(n) - gammaln(k + 1) + n log p + k log1p(-p)
    coef = em.subtract(em.subtract(c(em, "gammaln", em.add(k, n)), c(em, "gammaln", n)),
                       c(em, "gammaln", em.add(k, 1)))
    return em.add(em.add(coef, em.xlogy(n, p)), em.xlog1py(k, em.negative(p)))


def _nbinom_cdf(em, kf, n, p):
    # I_p(n, k + 1), in p (n and k are data)
    return em.call("betainc_x", p, a=n, b=em.add(kf, 1))


def _nbinom_sf(em, kf, n, p):
    return em.call("betaincc_x", p, a=n, b=em.add(kf, 1))


nbinom = _Discrete(st.nbinom, ("n", "p"),
                   lambda em, n, p: _and(em, _cmp(em, "greater", n, Const(0)),
                                         _cmp(em, "greater", p, Const(0)),
                                         _cmp(em, "less_equal", p, Const(1))))
nbinom.mass("logpmf", _nbinom_logpmf, log=True)
nbinom.mass("pmf", lambda em, k, n, p: em.exp(_nbinom_logpmf(em, k, n, p)), log=False)
nbinom.distribution("cdf", _nbinom_cdf, 0.0, 1.0)
nbinom.distribution("sf", _nbinom_sf, 1.0, 0.0)


def _betabinom_logpmf(em, k, n, a, b):
    # log C(n, k) + betaln(k + a, n - k + b) - betaln(a, b)
    kf = em.floor(k)
    nk = em.subtract(n, kf)
    comb = em.subtract(c(em, "gammaln", em.add(n, 1)),
                       em.add(c(em, "gammaln", em.add(kf, 1)), c(em, "gammaln", em.add(nk, 1))))
    return em.add(comb, em.subtract(c(em, "betaln", em.add(kf, a), em.add(nk, b)),
                                    c(em, "betaln", a, b)))


betabinom = _Discrete(st.betabinom, ("n", "a", "b"),
                      lambda em, n, a, b: _and(em, _cmp(em, "greater_equal", n, Const(0)),
                                               _is_integral(em, n),
                                               _cmp(em, "greater", a, Const(0)),
                                               _cmp(em, "greater", b, Const(0))),
                      hi=lambda em, n, a, b: n)
betabinom.mass("logpmf", _betabinom_logpmf, log=True)
betabinom.mass("pmf", lambda em, k, n, a, b: em.exp(_betabinom_logpmf(em, k, n, a, b)),
               log=False)

# ------------------------------------------------------------ multinomial


def _multinomial_logpmf(em, x, n, p):
    # gammaln(n + 1) - sum gammaln(x + 1) + sum xlogy(x, p), along the last axis
    # (x and n are data: counts; -inf where x does not sum to n).  As SciPy
    # (< 1.18), the last probability is replaced by 1 - sum(the others).
    x = _f64(em, x)
    m = em.call("getitem", em.shape(p), _params={"index": -1})
    last = em.equal(em.arange(m), em.subtract(m, 1))
    p = em.add(p, em.multiply(last, em.subtract(1.0, em.sum(p, axis=-1, keepdims=True))))
    v = em.add(em.subtract(c(em, "gammaln", em.add(n, 1)),
                           em.sum(c(em, "gammaln", em.add(x, 1)), axis=-1)),
               em.sum(em.xlogy(x, p), axis=-1))
    return em.where(em.equal(em.sum(x, axis=-1), n), v, -_INF)


defcomposite("scipy.stats.multinomial.logpmf", sig="x, n, p", expand=_multinomial_logpmf,
             methods=[(st.multinomial, "logpmf")], doc="scipy.stats.multinomial.logpmf(x, n, p)")
defcomposite("scipy.stats.multinomial.pmf", sig="x, n, p",
             expand=lambda em, x, n, p: em.exp(_multinomial_logpmf(em, x, n, p)),
             methods=[(st.multinomial, "pmf")], doc="scipy.stats.multinomial.pmf(x, n, p)")


# ------------------------------------------------------------ summary statistics
#
# scipy.stats.entropy, zscore, sem, skew, kurtosis, moment, variation, gmean,
# hmean, pmean, tmean/tvar/tstd (no limits) and iqr, written as SciPy computes
# them (its _axis_nan_policy wrapper: axis=None ravels, keepdims keeps the
# reduced axes); nan_policy other than 'propagate' is refused.


def _inexact(em, a):
    """``a`` in a float type, as these statistics compute: an integer or bool
    array as float64, a float32 (float16) one kept (np.result_type(a, 1.0);
    the distributions above always compute in float64)."""
    if isinstance(a, Var):
        return em.astype(a, dtype=em.call("result_type", a, 1.0))
    return a


def _stat_opts(fname, nan_policy=None, **fixed):
    if not _none(nan_policy) and not (isinstance(nan_policy, Const) and
                                      nan_policy.value == "propagate"):
        raise S2SGradError(f"scipy.stats.{fname}: only nan_policy='propagate' is supported; "
                           f"drop the NaNs first (x[~np.isnan(x)])")
    for k, (v, ok) in fixed.items():
        if not _none(v) and not (isinstance(v, Const) and v.value == ok):
            raise S2SGradError(f"scipy.stats.{fname}: {k}= is not supported (only {ok!r})")


def _axkw(axis, keepdims=None):
    kw = {} if _none(axis) else {"axis": axis}
    if isinstance(keepdims, Const) and keepdims.value:
        kw["keepdims"] = Const(True)
    return kw


def _count(em, a, axis):
    """The number of values reduced over ``axis`` (a float, as SciPy's n)."""
    if _none(axis):
        return em.size(a)
    return em.divide(em.size(a), em.size(em.sum(a, axis=axis, keepdims=True)))


def _central(em, a, order, axis, keepdims=None):
    """SciPy's _moment: mean((a - mean(a))**order) (its powers by squaring)."""
    mean = em.mean(a, **_axkw(axis, Const(True)))
    d = em.subtract(a, mean)
    return em.mean(em.power(d, order), **_axkw(axis, keepdims)), mean


def _entropy(em, pk, qk=None, base=None, axis=Const(0), *, nan_policy=None, keepdims=None):
    _stat_opts("entropy", nan_policy)
    pk = _inexact(em, pk)
    kw = _axkw(axis, Const(True))
    if not _none(qk):
        qk = _inexact(em, qk)
        qk = em.divide(qk, em.sum(qk, **kw))
    pk = em.divide(pk, em.sum(pk, **kw))
    vec = c(em, "entr", pk) if _none(qk) else c(em, "rel_entr", pk, qk)
    S = em.sum(vec, **_axkw(axis, keepdims))
    if not _none(base):
        S = em.divide(S, em.log(base) if not _num(base) else Const(math.log(base.value)))
    return S


def _zscore(em, a, axis=Const(0), ddof=Const(0), nan_policy=None):
    _stat_opts("zscore", nan_policy)
    a = _inexact(em, a)
    kw = _axkw(axis, Const(True))
    return em.divide(em.subtract(a, em.mean(a, **kw)), em.std(a, ddof=ddof, **kw))


def _sem(em, a, axis=Const(0), ddof=Const(1), nan_policy=None, *, keepdims=None):
    _stat_opts("sem", nan_policy)
    a = _inexact(em, a)
    n = _count(em, a, axis)
    # (n ** 0.5 of a Python count stays a Python float: a float32 a stays float32)
    return em.divide(em.std(a, ddof=ddof, **_axkw(axis, keepdims)), em.power(n, 0.5))


def _zero_var(em, m2, mean, axis, keepdims):
    m = mean if isinstance(keepdims, Const) and keepdims.value else \
        (em.squeeze(mean) if _none(axis) else em.squeeze(mean, axis=axis))
    eps = float(np.finfo(np.float64).eps)
    return em.less_equal(m2, em.square(em.multiply(eps, m)))


def _skew(em, a, axis=Const(0), bias=Const(True), nan_policy=None, *, keepdims=None):
    _stat_opts("skew", nan_policy)
    a = _inexact(em, a)
    m2, mean = _central(em, a, 2, axis, keepdims)
    m3, _ = _central(em, a, 3, axis, keepdims)
    g = em.divide(m3, em.power(m2, 1.5))
    zero = _zero_var(em, m2, mean, axis, keepdims)
    vals = em.where(zero, _NAN, g)
    if isinstance(bias, Const) and not bias.value:
        n = _count(em, a, axis)
        corr = em.divide(em.power(em.multiply(em.subtract(n, 1.0), n), 0.5),
                         em.subtract(n, 2.0))
        ok = em.logical_and(em.logical_not(zero), em.greater(n, 2))
        vals = em.where(ok, em.multiply(corr, g), vals)
    elif not isinstance(bias, Const):
        raise S2SGradError("scipy.stats.skew: bias= must be a constant")
    return vals


def _kurtosis(em, a, axis=Const(0), fisher=Const(True), bias=Const(True), nan_policy=None, *,
              keepdims=None):
    _stat_opts("kurtosis", nan_policy)
    if not isinstance(bias, Const) or not isinstance(fisher, Const):
        raise S2SGradError("scipy.stats.kurtosis: fisher= and bias= must be constants")
    a = _inexact(em, a)
    m2, mean = _central(em, a, 2, axis, keepdims)
    m4, _ = _central(em, a, 4, axis, keepdims)
    zero = _zero_var(em, m2, mean, axis, keepdims)
    r = em.divide(m4, em.power(m2, 2.0))
    vals = em.where(zero, _NAN, r)
    if not bias.value:
        n = _count(em, a, axis)
        nm1 = em.subtract(n, 1.0)
        nval = em.multiply(em.divide(em.divide(1.0, em.subtract(n, 2.0)), em.subtract(n, 3.0)),
                           em.subtract(em.multiply(em.subtract(em.power(n, 2), 1.0), r),
                                       em.multiply(3.0, em.power(nm1, 2.0))))
        ok = em.logical_and(em.logical_not(zero), em.greater(n, 3))
        vals = em.where(ok, em.add(nval, 3.0), vals)
    return em.subtract(vals, 3.0) if fisher.value else vals


def _moment(em, a, order=Const(1), axis=Const(0), nan_policy=None, *, center=None,
            keepdims=None):
    _stat_opts("moment", nan_policy)
    if not (isinstance(order, Const) and isinstance(order.value, (int, np.integer))
            and not isinstance(order.value, bool) and order.value >= 0):
        raise S2SGradError("scipy.stats.moment: order= must be a constant non-negative integer")
    a = _inexact(em, a)
    k = int(order.value)
    if _none(center):
        if k <= 1:      # SciPy: the zeroth moment is 1, the first central one 0
            z = em.multiply(em.sum(a, **_axkw(axis, keepdims)), 0.0)
            return em.add(z, 1.0) if k == 0 else z
        return _central(em, a, k, axis, keepdims)[0]
    if k == 0:
        return em.add(em.multiply(em.sum(a, **_axkw(axis, keepdims)), 0.0), 1.0)
    return em.mean(em.power(em.subtract(a, center), k), **_axkw(axis, keepdims))


def _variation(em, a, axis=Const(0), nan_policy=None, ddof=Const(0), *, keepdims=None):
    _stat_opts("variation", nan_policy)
    a = _inexact(em, a)
    kw = _axkw(axis, keepdims)
    # std(a, ddof) (NumPy's inf or nan for ddof >= n, not a Python 1 / 0)
    return em.divide(em.std(a, ddof=ddof, **kw), em.mean(a, **kw))


def _weighted_mean(em, x, axis, weights, keepdims):
    if _none(weights):
        return em.mean(x, **_axkw(axis, keepdims))
    kw = {} if _none(axis) else {"axis": axis}
    if isinstance(keepdims, Const) and keepdims.value:
        kw["keepdims"] = Const(True)
    return em.average(x, _inexact(em, weights), **kw)      # the rule's operands: a, weights


def _gmean(em, a, axis=Const(0), dtype=None, weights=None, *, nan_policy=None,
           keepdims=None):
    _stat_opts("gmean", nan_policy, dtype=(dtype, None))
    a = _inexact(em, a)
    return em.exp(_weighted_mean(em, em.log(a), axis, weights, keepdims))


def _hmean(em, a, axis=Const(0), dtype=None, *, weights=None, nan_policy=None,
           keepdims=None):
    _stat_opts("hmean", nan_policy, dtype=(dtype, None))
    a = _inexact(em, a)
    return em.divide(1.0, _weighted_mean(em, em.divide(1.0, a), axis, weights, keepdims))


def _pmean(em, a, p, *, axis=Const(0), dtype=None, weights=None, nan_policy=None,
           keepdims=None):
    _stat_opts("pmean", nan_policy, dtype=(dtype, None))
    if not _num(p):
        raise S2SGradError("scipy.stats.pmean: the power p must be a constant number")
    a = _inexact(em, a)
    if p.value == 0:
        return em.exp(_weighted_mean(em, em.log(a), axis, weights, keepdims))
    m = _weighted_mean(em, em.power(a, float(p.value)), axis, weights, keepdims)
    return em.power(m, 1.0 / float(p.value))


def _trimmed(fname, kind):
    def expand(em, a, limits=None, inclusive=None, axis=Const(0 if kind else None),
               ddof=Const(1), *, nan_policy=None, keepdims=None):
        _stat_opts(fname, nan_policy)
        if not _none(limits):
            raise S2SGradError(f"scipy.stats.{fname} with limits= is not supported; select "
                               f"the values first (x[(lo <= x) & (x <= hi)])")
        a = _inexact(em, a)
        kw = _axkw(axis, keepdims)
        if kind is None:
            return em.mean(a, **kw)
        return (em.var if kind == "var" else em.std)(a, ddof=ddof, **kw)
    return expand


def _iqr(em, x, axis=None, rng=Const((25, 75)), scale=Const(1.0), nan_policy=None,
         interpolation=Const("linear"), keepdims=None):
    _stat_opts("iqr", nan_policy)
    if not (isinstance(rng, Const) and isinstance(scale, Const) and
            isinstance(interpolation, Const)):
        raise S2SGradError("scipy.stats.iqr: rng=, scale= and interpolation= must be constants")
    if isinstance(scale.value, str):
        if scale.value != "normal":
            raise S2SGradError("scipy.stats.iqr: scale must be a number or 'normal'")
        s = float(sc.ndtri(0.75) - sc.ndtri(0.25))
    else:
        s = float(scale.value)
    x = _inexact(em, x)
    kw = _axkw(axis, keepdims)
    lo, hi = (float(v) for v in rng.value)
    q = em.percentile(x, Const([lo, hi]), method=interpolation, **kw)
    d = em.subtract(em.call("getitem", q, _params={"index": 1}),
                    em.call("getitem", q, _params={"index": 0}))
    # SciPy keeps a float32 sample's dtype (the float64 q promoted NumPy's percentile)
    d = em.astype(d, dtype=em.result_type(x))
    return d if s == 1.0 else em.divide(d, s)


for _name, _sig, _expand in [
        ("entropy", "pk, qk=None, base=None, axis=0, *, nan_policy='propagate', keepdims=False",
         _entropy),
        ("zscore", "a, axis=0, ddof=0, nan_policy='propagate'", _zscore),
        ("sem", "a, axis=0, ddof=1, nan_policy='propagate', *, keepdims=False", _sem),
        ("skew", "a, axis=0, bias=True, nan_policy='propagate', *, keepdims=False", _skew),
        ("kurtosis", "a, axis=0, fisher=True, bias=True, nan_policy='propagate', *, "
                     "keepdims=False", _kurtosis),
        ("moment", "a, order=1, axis=0, nan_policy='propagate', *, center=None, keepdims=False",
         _moment),
        ("variation", "a, axis=0, nan_policy='propagate', ddof=0, *, keepdims=False",
         _variation),
        ("gmean", "a, axis=0, dtype=None, weights=None, *, nan_policy='propagate', "
                  "keepdims=False", _gmean),
        ("hmean", "a, axis=0, dtype=None, *, weights=None, nan_policy='propagate', "
                  "keepdims=False", _hmean),
        ("pmean", "a, p, *, axis=0, dtype=None, weights=None, nan_policy='propagate', "
                  "keepdims=False", _pmean),
        ("tmean", "a, limits=None, inclusive=(True, True), axis=None, *, "
                  "nan_policy='propagate', keepdims=False", _trimmed("tmean", None)),
        ("tvar", "a, limits=None, inclusive=(True, True), axis=0, ddof=1, *, "
                 "nan_policy='propagate', keepdims=False", _trimmed("tvar", "var")),
        ("tstd", "a, limits=None, inclusive=(True, True), axis=0, ddof=1, *, "
                 "nan_policy='propagate', keepdims=False", _trimmed("tstd", "std")),
        ("iqr", "x, axis=None, rng=(25, 75), scale=1.0, nan_policy='propagate', "
                "interpolation='linear', keepdims=False", _iqr)]:
    if hasattr(st, _name):
        defcomposite(f"scipy.stats.{_name}", getattr(st, _name), sig=_sig, expand=_expand,
                     doc=f"scipy.stats.{_name}, as SciPy computes it (NumPy reductions).")

# ranks are piecewise constant in the data: data (derivative 0), as in JAX
defprim("scipy.stats.rankdata", st.rankdata, sig="a, method='average', *, axis=None, "
        "nan_policy='propagate'", nondiff=True, shape=shape_fresh,
        pyname="scipy.stats.rankdata", doc="scipy.stats.rankdata: ranks, data.")


# norm.entropy(loc, scale): 1/2 log(2 pi e) + log(scale) (the loc does not enter)
def _norm_entropy(em, loc=None, scale=None):
    base = 0.5 + _LOG_SQRT_2PI
    if _none(scale):
        return Const(base) if _none(loc) else em.add(em.multiply(_f64(em, loc), 0.0), base)
    s = em.add(em.log(_f64(em, scale)), base)
    return s if _none(loc) else em.add(s, em.multiply(_f64(em, loc), 0.0))


defcomposite("scipy.stats.norm.entropy", sig="loc=0, scale=1", expand=_norm_entropy,
             methods=[(st.norm, "entropy")], doc="scipy.stats.norm.entropy(loc, scale)")


# ------------------------------------------------------------ session 21 (cov8)
#
# trim_mean(a, proportiontocut, axis=0): the mean of the sorted values
# between int(p n) and n - int(p n) along the axis (SciPy partitions; the
# same values), the bounds data.  pearsonr(x, y) (1-d, two-sided): r =
# <xm, ym> / (|xm| |ym|) clipped to [-1, 1], p = 2 betaincc(n/2 - 1, n/2 - 1,
# (|r| + 1) / 2) (SciPy's beta distribution on [-1, 1]); returned as the
# tuple (r, p) (indexing and unpacking work, the result's attributes do not).
from .indexing import Slot  # noqa: E402
from .. import runtime  # noqa: E402


def _trim_mean(em, a, proportiontocut, axis=Const(0)):
    ax = axis.value if isinstance(axis, Const) else needs_const_axis()
    if ax is None:
        a = em.reshape(a, (-1,))
        ax = 0
    if not isinstance(ax, int):
        raise S2SGradError("scipy.stats.trim_mean: axis must be a constant integer or None")
    s = em.sort(a, axis=ax)
    bounds = em.call("trim_mean_slice", a, proportiontocut, axis=ax)
    index = ((slice(None),) * ax + (Slot(0),)) if ax >= 0 else \
        ((Ellipsis, Slot(0)) + (slice(None),) * (-ax - 1))
    return em.mean(em.call("getitem", s, bounds, _params={"index": index}), axis=ax)


def needs_const_axis():
    raise S2SGradError("scipy.stats.trim_mean: axis must be a constant integer or None")


defprim("trim_mean_slice", runtime.trim_mean_slice, sig="a, p, /, axis=0", nondiff=True,
        pyname="trim_mean_slice", shape=shape_fresh,
        doc="runtime helper: the slice of the sorted values trim_mean averages (data).")
defcomposite("scipy.stats.trim_mean", st.trim_mean, sig="a, proportiontocut, axis=0",
             expand=_trim_mean, doc="scipy.stats.trim_mean: the mean of the kept sorted values.")


def _pearsonr(em, x, y, alternative=None, method=None, axis=None):
    if alternative is not None and not (isinstance(alternative, Const)
                                        and alternative.value == "two-sided"):
        raise S2SGradError("scipy.stats.pearsonr is differentiated with "
                           "alternative='two-sided' only")
    if method is not None and not (isinstance(method, Const) and method.value is None):
        raise S2SGradError("scipy.stats.pearsonr: method= is not differentiated")
    if axis is not None and not (isinstance(axis, Const) and axis.value in (0, -1)):
        raise S2SGradError("scipy.stats.pearsonr is differentiated for 1-d x and y only")
    x = em.call("require_vector", x, what="scipy.stats.pearsonr")
    xm = em.subtract(x, em.mean(x))
    ym = em.subtract(y, em.mean(y))
    r = em.divide(em.sum(em.multiply(xm, ym)),
                  em.sqrt(em.multiply(em.sum(em.square(xm)), em.sum(em.square(ym)))))
    r = em.minimum(em.maximum(r, -1.0), 1.0)
    ab = em.subtract(em.divide(em.size(x), 2.0), 1.0)
    z = em.divide(em.add(em.absolute(r), 1.0), 2.0)
    p = em.multiply(2.0, em.call("betaincc_x", z, a=ab, b=ab))
    return r, em.minimum(p, 1.0)


defprim("require_vector", runtime.require_vector, sig="x, /, what=''", pyname="require_vector",
        vjp=lambda em, h, out, x, **kw: [h], jvp=lambda em, dots, out, x, **kw: dots[0],
        linear=True, shape=lambda args, kwargs: shape_of(args[0]),
        doc="runtime helper: x itself, refused unless 1-d.")
defcomposite("scipy.stats.pearsonr", st.pearsonr,
             sig="x, y, *, alternative='two-sided', method=None, axis=0", expand=_pearsonr,
             doc="scipy.stats.pearsonr (1-d, two-sided): (r, p-value).")


# f(dfn, dfd) (SciPy's _logpdf; cdf/sf through scipy.special.fdtr/fdtrc, in x
# and the degrees of freedom) and skewnorm(a) (log 2 + log phi(z) + log Phi(a z);
# the normal where a == 0, as SciPy).

def _f_logpdf(em, z, dfn, dfd):
    n, m = dfn, dfd
    lead = em.add(em.multiply(em.multiply(0.5, m), c(em, "log", m)),
                  em.multiply(em.multiply(0.5, n), c(em, "log", n)))
    tail = em.add(em.multiply(em.multiply(0.5, em.add(n, m)), em.log(em.add(m, em.multiply(n, z)))),
                  c(em, "betaln", em.multiply(0.5, n), em.multiply(0.5, m)))
    return em.subtract(em.add(lead, em.xlogy(em.subtract(em.multiply(0.5, n), 1.0), z)), tail)


if "fdtr" in REGISTRY:
    fdist = _Dist(st.f, ("dfn", "dfd"), support=(0.0, _INF),
                  argcheck=lambda em, dfn, dfd: _and(em, _cmp(em, "greater", dfn, Const(0)),
                                                     _cmp(em, "greater", dfd, Const(0))))
    fdist.density("logpdf", _f_logpdf, log=True)
    fdist.density("pdf", lambda em, z, n, m: em.exp(_f_logpdf(em, z, n, m)), log=False)
    fdist.distribution("cdf", lambda em, z, n, m: em.call("fdtr", n, m, z), 0.0, 1.0)
    fdist.distribution("sf", lambda em, z, n, m: em.call("fdtrc", n, m, z), 1.0, 0.0)


def _skewnorm_logpdf(em, z, a):
    base = em.subtract(em.multiply(-0.5, em.square(z)), _LOG_SQRT_2PI)
    return em.where(em.equal(a, 0), base,
                    em.add(em.add(base, math.log(2.0)), em.log_ndtr(em.multiply(a, z))))


skewnorm = _Dist(st.skewnorm, ("a",), argcheck=lambda em, a: em.isfinite(a))
skewnorm.density("logpdf", _skewnorm_logpdf, log=True)
skewnorm.density("pdf", lambda em, z, a: em.exp(_skewnorm_logpdf(em, z, a)), log=False)


# refused with advice (session 21)
from .core import explain_refusal  # noqa: E402

explain_refusal("scipy", "mode", "scipy.stats.mode",
                "is not differentiated: the mode is a value repeated in the data, and any "
                "perturbation of continuous data breaks the tie (no derivative); for a "
                "smooth summary use np.median, scipy.stats.trim_mean or a kernel density's "
                "maximum written with NumPy")
explain_refusal("scipy", "gaussian_kde", "scipy.stats.gaussian_kde",
                "(an object built inside the differentiated function) is not supported; "
                "write the estimate with NumPy: np.mean(scipy.stats.norm.pdf((x[:, None] - "
                "data[None, :]) / h), axis=1) / h, with h Scott's factor "
                "len(data) ** (-1 / 5) * np.std(data, ddof=1)")
