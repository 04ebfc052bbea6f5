"""More NumPy elementwise functions: hypot, logaddexp2, inverse hyperbolic
functions, sinc, angle conversions, nan_to_num, copysign, float_power,
fmod, modf, frexp, ldexp, divmod, nextafter; fix and spacing as data.

Same pattern as :mod:`.elementwise`: partial derivatives given once as IR
(``def_elementwise``), the reverse rule summing each back to its operand's
shape, the forward rule broadcasting to the output's.

Conventions at kinks and singularities (documented in the README too):

* ``hypot(x, y)`` at ``x == y == 0``: derivative 0 in both arguments (a
  subgradient of the 2-norm, as for ``np.linalg.norm`` at 0).
* ``arccosh`` at 1 and ``arctanh`` at +-1: ``inf`` (the one-sided limit).
* ``sinc`` at 0: derivative 0; near 0 (``|x| < 1e-3``) the derivative is
  its Taylor polynomial, so the second derivative at 0 is exact
  (``-pi**2 / 3``) and so are the third and fourth.
* ``fabs``: as ``abs``, ``sign(x)``, 0 at 0.
* ``copysign(x1, x2) = |x1| * sgn(x2)``: derivative ``sign(x1) * sgn(x2)``
  in ``x1`` (0 at ``x1 == 0``, as for ``abs``); ``x2`` only supplies a sign,
  derivative 0.
* ``nan_to_num``: derivative 1 where ``x`` is finite, 0 where a NaN or an
  infinity was replaced.
* ``float_power``: as ``power`` (result float64 as in NumPy; the gradient
  takes the argument's dtype); the exponent derivative ``out * log(x)`` is
  NaN for ``x <= 0``.
* ``fmod(x, y) = x - trunc(x / y) * y`` and ``divmod``'s remainder
  ``x - floor(x / y) * y``: derivative 1 in ``x``, ``-trunc(x / y)`` /
  ``-floor(x / y)`` in ``y``; the quotients are data.
* ``modf``: the fractional part has derivative 1, the integral part 0;
  ``frexp``: the mantissa has derivative ``2 ** -exponent``, the exponent 0;
  ``ldexp(x, i)``: derivative ``2 ** i`` in ``x`` (``i`` is an integer).
* ``nextafter(x, y)``: derivative 1 in ``x``, 0 in ``y``.
* ``fix``, ``spacing``: piecewise constant, derivative 0 (data).
"""
from __future__ import annotations

import math

import numpy as np

from ..ir import Const
from .core import defprim, shape_elementwise, shape_of
from .elementwise import def_elementwise, def_nondiff_elementwise


def _num(a):
    return isinstance(a, Const) and isinstance(a.value, (int, float)) and \
        not isinstance(a.value, bool)


def fold_float(fn):
    """A ``simplify`` hook: an operation on Python-number constants is
    computed while compiling, as a Python float (never a float64 NumPy
    scalar, which would promote a float32 array it meets)."""
    def simplify(args, kwargs):
        if kwargs or not args or not all(_num(a) for a in args):
            return None
        try:
            with np.errstate(all="ignore"):
                v = float(fn(*[a.value for a in args]))
        except (ArithmeticError, ValueError, TypeError):
            return None
        return Const(v) if math.isfinite(v) else None
    return simplify


def _fold(em_fn, fn):
    """``em_fn(x)``, or ``fn(x)`` as a Python float when ``x`` is a number."""
    def apply(em, x):
        if _num(x):
            return Const(float(fn(x.value)))
        return em_fn(em, x)
    return apply


# ---------------------------------------------------------------- hypot


def _safe_norm(em, out):
    # 1 where the norm is 0: x / 1 = 0 there, the subgradient 0
    return em.where(em.equal(out, 0), 1.0, out)


def _hypot_partials(em, out, x, y):
    r = _safe_norm(em, out)
    return [em.divide(x, r), em.divide(y, r)]


# x * (g / r) through norm_scale (primitives/linalg.py): its derivative in x
# refuses a second derivative at (0, 0) in a direction that moves the point
def _hypot_vjp(em, g, out, x, y):
    gr = em.divide(g, _safe_norm(em, out))
    return [em.unbroadcast(em.call("norm_scale", x, gr, out, what="np.hypot"), x),
            em.unbroadcast(em.call("norm_scale", y, gr, out, what="np.hypot"), y)]


def _hypot_jvp(em, dots, out, x, y):
    total = None
    for a, d in zip((x, y), dots):
        if d is not None:
            total = em.add_ct(total, em.call("norm_scale", a, d, out, what="np.hypot",
                                             tangent=True))
    return None if total is None else em.broadcast_like(
        em.divide(total, _safe_norm(em, out)), out)


def_elementwise("hypot", np.hypot, 2, _hypot_partials, vjp=_hypot_vjp, jvp=_hypot_jvp,
                simplify=fold_float(math.hypot))

# logaddexp2(x, y) = log2(2^x + 2^y); d/dx = 2^x / (2^x + 2^y) = sigmoid((x - y) ln 2)
_LN2 = math.log(2.0)


def _logaddexp2_partials(em, out, x, y):
    return [em.call("sigmoid", em.multiply(em.subtract(x, y), _LN2)),
            em.call("sigmoid", em.multiply(em.subtract(y, x), _LN2))]


def_elementwise("logaddexp2", np.logaddexp2, 2, _logaddexp2_partials)

# ---------------------------------------------------------------- inverse hyperbolic

# 1 / sqrt(x^2 + 1) as 1 / cosh(arcsinh(x)): no overflow of x^2 for large |x|
# (cosh(out) ~ |x|), and, unlike hypot(x, 1), right for complex x too
# (cosh(asinh z) = sqrt(z^2 + 1) on the principal branch NumPy uses)
def_elementwise("arcsinh", np.arcsinh, 1,
                lambda em, out, x: [em.reciprocal(em.cosh(out))],
                simplify=fold_float(math.asinh))
# 1 / sqrt(x^2 - 1) as 1 / (sqrt(x - 1) sqrt(x + 1)): accurate near 1, inf at 1
def_elementwise("arccosh", np.arccosh, 1,
                lambda em, out, x: [em.reciprocal(em.multiply(em.sqrt(em.subtract(x, 1.0)),
                                                              em.sqrt(em.add(x, 1.0))))])
# 1 / (1 - x^2) as 1 / ((1 - x)(1 + x)): inf at +-1
def_elementwise("arctanh", np.arctanh, 1,
                lambda em, out, x: [em.reciprocal(em.multiply(em.subtract(1.0, x),
                                                              em.add(1.0, x)))])

# ---------------------------------------------------------------- sinc

# sinc(x) = sin(pi x) / (pi x); sinc'(x) = (cos(pi x) - sinc(x)) / x.  That
# difference cancels near 0, so for |x| < 1e-3 the derivative is its Taylor
# polynomial -pi^2 x / 3 + pi^4 x^3 / 30 - pi^6 x^5 / 840 (error < 1e-22
# there), exact to the fourth derivative at 0 -- and free of 0 / 0.
_PI2 = math.pi ** 2
_SINC_SMALL = 1e-3


def _sinc_partials(em, out, x):
    small = em.less(em.absolute(x), _SINC_SMALL)
    xs = em.where(small, 1.0, x)
    far = em.divide(em.subtract(em.cos(em.multiply(math.pi, xs)), out), xs)
    x2 = em.square(x)
    near = em.multiply(x, em.add(-_PI2 / 3.0, em.multiply(
        x2, em.add(_PI2 ** 2 / 30.0, em.multiply(x2, -_PI2 ** 3 / 840.0)))))
    return [em.where(small, near, far)]


def_elementwise("sinc", np.sinc, 1, _sinc_partials)

# ---------------------------------------------------------------- linear scalings

_DEG = math.pi / 180.0


def _scale_rule(c):
    return dict(vjp=lambda em, g, out, x: [em.unbroadcast(em.multiply(g, c), x)],
                jvp=lambda em, dots, out, x: em.multiply(dots[0], c))


# np.radians / np.degrees are separate ufunc objects computing the same values
def_elementwise("deg2rad", np.deg2rad, 1, lambda em, out, x: [_DEG], aliases=(np.radians,),
                simplify=fold_float(math.radians), **_scale_rule(_DEG))
def_elementwise("rad2deg", np.rad2deg, 1, lambda em, out, x: [1.0 / _DEG],
                aliases=(np.degrees,), simplify=fold_float(math.degrees),
                **_scale_rule(1.0 / _DEG))

# ---------------------------------------------------------------- sign games

# fabs: as abs, subgradient sign(x), 0 at 0
def_elementwise("fabs", np.fabs, 1, lambda em, out, x: [em.sign(x)])


def _unit_sign(em, x2):
    """sgn(x2) as +-1 (by the sign bit, as copysign reads it); data."""
    if _num(x2):
        return Const(math.copysign(1.0, x2.value))
    return em.copysign(1.0, x2)


# copysign(x1, x2) = |x1| sgn(x2): d/dx1 = sign(x1) sgn(x2) (0 at x1 == 0, as
# abs); x2 only supplies a sign: derivative 0
def_elementwise("copysign", np.copysign, 2,
                lambda em, out, x1, x2: [em.multiply(em.sign(x1), _unit_sign(em, x2)), None])

# ---------------------------------------------------------------- float_power


def _float_power_partials(em, out, x, p):
    # as power: d/dx = p x^(p-1); d/dp = out log(x) (NaN for x <= 0)
    return [em.multiply(p, em.float_power(x, em.subtract(p, 1))),
            em.multiply(out, em.log(x))]


def_elementwise("float_power", np.float_power, 2, _float_power_partials)

# ---------------------------------------------------------------- remainders


# fmod(x, y) = x - trunc(x / y) y: d/dx = 1, d/dy = -trunc(x / y)
def_elementwise("fmod", np.fmod, 2,
                lambda em, out, x, y: [1, em.negative(em.trunc(em.divide(x, y)))])


def _divmod_vjp(em, g, out, x, y):
    gr = g[1]                     # the quotient is piecewise constant
    if gr is None:
        return [None, None]
    return [em.unbroadcast(gr, x),
            em.unbroadcast(em.negative(em.multiply(gr, out[0])), y)]


def _divmod_jvp(em, dots, out, x, y):
    dx, dy = dots
    t = dx
    if dy is not None:
        dq = em.negative(em.multiply(dy, out[0]))
        t = dq if t is None else em.add(t, dq)
    return (None, em.broadcast_like(t, out[1]))


def _two_elementwise(args, kwargs):
    s = shape_elementwise(args, kwargs)
    return (s, s)


defprim("divmod", np.divmod, sig="x0, x1, /", vjp=_divmod_vjp, jvp=_divmod_jvp, nouts=2,
        shape=_two_elementwise,
        doc="np.divmod(x, y) = (x // y, x % y): the remainder's derivative as for %, the "
            "quotient's 0.")


def _modf_vjp(em, g, out, x):
    return [g[0]]                 # frac = x - intpart: derivative 1; intpart: 0


def _modf_jvp(em, dots, out, x):
    return (dots[0], None)


defprim("modf", np.modf, sig="x, /", vjp=_modf_vjp, jvp=_modf_jvp, nouts=2,
        shape=lambda args, kwargs: (shape_of(args[0]), shape_of(args[0])),
        doc="np.modf(x) = (fractional part, integral part): derivatives 1 and 0.")


# frexp(x) = (m, e) with x = m 2^e: dm/dx = 2^-e; e is an integer
def _frexp_vjp(em, g, out, x):
    if g[0] is None:
        return [None]
    return [em.ldexp(g[0], em.negative(out[1]))]


def _frexp_jvp(em, dots, out, x):
    return (em.ldexp(dots[0], em.negative(out[1])), None)


defprim("frexp", np.frexp, sig="x, /", vjp=_frexp_vjp, jvp=_frexp_jvp, nouts=2,
        shape=lambda args, kwargs: (shape_of(args[0]), shape_of(args[0])),
        doc="np.frexp(x) = (mantissa, exponent): the mantissa's derivative is 2**-exponent.")


# ldexp(x, i) = x 2^i: linear in x; i is an integer
def_elementwise("ldexp", np.ldexp, 2, lambda em, out, x, i: [em.ldexp(1.0, i), None],
                vjp=lambda em, g, out, x, i: [em.unbroadcast(em.ldexp(g, i), x), None],
                jvp=lambda em, dots, out, x, i: (
                    None if dots[0] is None else em.broadcast_like(em.ldexp(dots[0], i), out)))

# nextafter(x, y): the float next to x towards y; derivative 1 in x
def_elementwise("nextafter", np.nextafter, 2, lambda em, out, x, y: [1, None])

# ---------------------------------------------------------------- nan_to_num


def _nan_to_num_vjp(em, g, out, x, copy=None, nan=None, posinf=None, neginf=None):
    return [em.where(em.isfinite(x), g, 0.0)]


def _nan_to_num_jvp(em, dots, out, x, copy=None, nan=None, posinf=None, neginf=None):
    return em.where(em.isfinite(x), dots[0], 0.0)


defprim("nan_to_num", np.nan_to_num, sig="x, /, copy=True, nan=0.0, posinf=None, neginf=None",
        vjp=_nan_to_num_vjp, jvp=_nan_to_num_jvp, shape=lambda args, kwargs: shape_of(args[0]),
        doc="np.nan_to_num: derivative 1 where x is finite, 0 where a value was replaced.")

# ---------------------------------------------------------------- data

def_nondiff_elementwise("fix", np.fix, 1)
def_nondiff_elementwise("spacing", np.spacing, 1)
