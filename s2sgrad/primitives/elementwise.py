"""Elementwise (ufunc-like) primitives.

Each entry gives the partial derivatives once, as IR built from other
primitives; ``def_elementwise`` derives the reverse rule (``g * partial``
summed back to the operand's shape with ``unbroadcast``) and the forward
rule (``sum_i dot_i * partial_i``, broadcast to the output's shape) from
them.  ``out`` is the primitive's output, so rules can reuse it (``exp``'s
derivative is ``out``) instead of recomputing.

Conventions at kinks (documented in the README too):

* ``abs``/``absolute``: derivative ``sign(x)``, i.e. 0 at x == 0.
* ``maximum``/``minimum``: at ties the sensitivity is split equally between
  the two operands (as in autograd and JAX), so ``maximum(x, x)`` has
  derivative 1.
* ``clip``: derivative 1 strictly inside [lo, hi] and at the bounds, 0
  outside (a value exactly at a bound passes the gradient through); a
  bound that is a variable is differentiable (``clip_bounds``): it gets the
  cotangent where it is the output.
* ``sqrt`` and ``cbrt`` at 0 give ``inf`` (the true one-sided limit);
  ``log`` at 0 gives ``inf``; the ``x ** p`` derivative with respect to the
  exponent is ``out * log(x)``, NaN for x < 0 (as in NumPy).
"""
from __future__ import annotations

import ast
import math
import operator

import numpy as np

from .. import runtime
from ..ir import Const, Var
from . import printing
from .core import Emitter, defprim, get, is_one, shape_elementwise, shape_of


def _num(a):
    return isinstance(a, Const) and isinstance(a.value, (int, float)) and not isinstance(a.value, bool)


def _fold(fn):
    def simplify(args, kwargs):
        if not kwargs and all(_num(a) for a in args):
            try:
                return Const(fn(*[a.value for a in args]))
            except (ArithmeticError, ValueError):
                return None
        return None
    return simplify


def def_elementwise(name, impl, nin, partials, *, aliases=(), printer=None,
                    simplify=None, vjp=None, jvp=None, doc="", pyname=None):
    """Register an elementwise primitive from its partial derivatives.

    ``partials(em, out, *args)`` returns one IR expression per input (``None``
    for an input with no derivative).  ``vjp``/``jvp`` override the derived
    rules where a direct form is cheaper (``g / y`` rather than
    ``g * (1 / y)``).
    """
    def derived_vjp(em: Emitter, g, out, *args):
        ps = partials(em, out, *args)
        return [None if p is None else em.unbroadcast(em.multiply(g, p), a)
                for a, p in zip(args, ps)]

    def derived_jvp(em: Emitter, dots, out, *args):
        ps = partials(em, out, *args)
        total = None
        for d, p in zip(dots, ps):
            if d is None or p is None:
                continue
            total = em.add_ct(total, em.multiply(d, p))
        return em.broadcast_like(total, out)

    sig = ", ".join(f"x{i}" for i in range(nin)) + ", /"
    return defprim(name, impl, sig=sig, vjp=vjp or derived_vjp, jvp=jvp or derived_jvp,
                   aliases=aliases, printer=printer, shape=shape_elementwise,
                   simplify=simplify, doc=doc, pyname=pyname)


def def_nondiff_elementwise(name, impl, nin, *, aliases=(), printer=None, pyname=None):
    sig = ", ".join(f"x{i}" for i in range(nin)) + ", /"
    return defprim(name, impl, sig=sig, nondiff=True, aliases=aliases, printer=printer,
                   shape=shape_elementwise, pyname=pyname)


# ---------------------------------------------------------------- arithmetic

# Folding x + 0, x * 1, x ** 1 never changes a shape (the constant is a
# scalar).  Only *integer* 0/1 fold, so a user's ``x * 1.0`` (an int -> float
# conversion) is kept; rules write their unit partials as ints.
def _is_int(a, v):
    return isinstance(a, Const) and type(a.value) is int and a.value == v


def _add_simplify(args, kwargs):
    a, b = args
    if _is_int(a, 0):
        return b
    if _is_int(b, 0):
        return a
    return _fold(operator.add)(args, kwargs)


def _sub_simplify(args, kwargs):
    a, b = args
    if _is_int(b, 0):
        return a
    return _fold(operator.sub)(args, kwargs)


def _mul_simplify(args, kwargs):
    a, b = args
    if _is_int(a, 1):
        return b
    if _is_int(b, 1):
        return a
    return _fold(operator.mul)(args, kwargs)


def _div_simplify(args, kwargs):
    a, b = args
    if _is_int(b, 1):
        return a
    return _fold(operator.truediv)(args, kwargs)


def _pow_simplify(args, kwargs):
    a, b = args
    if _is_int(b, 1):
        return a
    return _fold(operator.pow)(args, kwargs)


def _neg_simplify(args, kwargs):
    (a,) = args
    return _fold(operator.neg)(args, kwargs)


def_elementwise("add", np.add, 2, lambda em, out, x, y: [1, 1],
                printer=printing.binop(ast.Add()), simplify=_add_simplify)


def _sub_jvp(em, dots, out, x, y):
    dx, dy = dots
    if dy is None:
        t = dx
    elif dx is None:
        t = em.negative(dy)
    else:
        t = em.subtract(dx, dy)
    return em.broadcast_like(t, out)


def_elementwise("subtract", np.subtract, 2, lambda em, out, x, y: [1, -1],
                printer=printing.binop(ast.Sub()), simplify=_sub_simplify,
                # negate after summing back to y's shape (cheaper when y is smaller)
                vjp=lambda em, g, out, x, y: [em.unbroadcast(g, x),
                                              em.negative(em.unbroadcast(g, y))],
                jvp=_sub_jvp)
def_elementwise("multiply", np.multiply, 2, lambda em, out, x, y: [y, x],
                printer=printing.binop(ast.Mult()), simplify=_mul_simplify)


def _div_vjp(em, g, out, x, y):
    gx = em.divide(g, y)
    return [em.unbroadcast(gx, x), em.unbroadcast(em.negative(em.multiply(gx, out)), y)]


def _div_jvp(em, dots, out, x, y):
    dx, dy = dots
    t = None
    if dx is not None:
        t = dx
    if dy is not None:
        t = em.subtract(t, em.multiply(out, dy)) if t is not None else \
            em.negative(em.multiply(out, dy))
    return em.broadcast_like(em.divide(t, y), out) if t is not None else None


def_elementwise("divide", np.divide, 2,
                lambda em, out, x, y: [em.divide(1.0, y), em.negative(em.divide(out, y))],
                aliases=(np.true_divide,) if np.true_divide is not np.divide else (),
                printer=printing.binop(ast.Div()), simplify=_div_simplify,
                vjp=_div_vjp, jvp=_div_jvp)
def_elementwise("negative", np.negative, 1, lambda em, out, x: [-1],
                printer=printing.unaryop(ast.USub()), simplify=_neg_simplify,
                vjp=lambda em, g, out, x: [em.negative(g)],
                jvp=lambda em, dots, out, x: em.negative(dots[0]))
def_elementwise("positive", np.positive, 1, lambda em, out, x: [1],
                printer=printing.unaryop(ast.UAdd()))


def _pow_partials(em, out, x, p):
    # d/dx x**p = p * x**(p-1); d/dp x**p = out * log(x).
    # At x = 0 (the JAX/autograd convention): x**0 has derivative 0
    # everywhere (not 0 * 0**-1 = NaN), and the exponent's partial is 0
    # (not 0 * log(0) = NaN): log reads where(x == 0, 1, x), which keeps the
    # rule differentiable again (no NaN in a Hessian at or near 0).
    if isinstance(p, Const):
        if _num(p) and p.value == 0:
            dx = None                       # x ** 0 == 1 for every x
        elif _num(p) and p.value - 1 < 0:
            # a negative power: np.power, as 0.0 ** -0.5 raises
            # ZeroDivisionError on Python floats where NumPy gives inf
            dx = em.multiply(p, em.call("power", x, em.subtract(p, 1),
                                        _params={"spelling": ("func",)}))
        else:
            dx = em.multiply(p, em.power(x, em.subtract(p, 1)))
        return [dx, None]                   # a constant exponent has no derivative
    # the branch not taken reads a safe base (1 where p == 0): its own
    # derivative, 0 * (p - 1) * 0 ** (p - 2) at x = 0, would be NaN in a Hessian
    zero_p = em.equal(p, 0)
    dx = em.where(zero_p, 0.0, em.multiply(
        p, em.call("power", em.where(zero_p, 1.0, x), em.subtract(p, 1),
                   _params={"spelling": ("func",)})))
    if isinstance(x, Const):
        if _num(x) and x.value == 0:
            return [None, None]             # 0 ** p: exponent derivative 0 by convention
        return [dx, em.multiply(out, em.log(x))]
    safe = em.where(em.equal(x, 0), 1.0, x)
    return [dx, em.multiply(out, em.log(safe))]


def_elementwise("power", np.power, 2, _pow_partials, aliases=(pow,),
                printer=printing.binop(ast.Pow()), simplify=_pow_simplify)
def_elementwise("square", np.square, 1, lambda em, out, x: [em.multiply(2.0, x)])
def_elementwise("sqrt", np.sqrt, 1, lambda em, out, x: [em.divide(0.5, out)])
def_elementwise("cbrt", np.cbrt, 1,
                lambda em, out, x: [em.divide(1.0, em.multiply(3.0, em.square(out)))])
def_elementwise("reciprocal", np.reciprocal, 1,
                lambda em, out, x: [em.negative(em.square(out))])

# ---------------------------------------------------------------- exp / log

def_elementwise("exp", np.exp, 1, lambda em, out, x: [out])
def_elementwise("expm1", np.expm1, 1, lambda em, out, x: [em.add(out, 1.0)])
def_elementwise("exp2", np.exp2, 1, lambda em, out, x: [em.multiply(out, math.log(2.0))])
def_elementwise("log", np.log, 1, lambda em, out, x: [em.divide(1.0, x)],
                vjp=lambda em, g, out, x: [em.unbroadcast(em.divide(g, x), x)])
def_elementwise("log1p", np.log1p, 1, lambda em, out, x: [em.divide(1.0, em.add(x, 1.0))],
                vjp=lambda em, g, out, x: [em.unbroadcast(em.divide(g, em.add(x, 1.0)), x)])
def_elementwise("log2", np.log2, 1,
                lambda em, out, x: [em.divide(1.0, em.multiply(x, math.log(2.0)))])
def_elementwise("log10", np.log10, 1,
                lambda em, out, x: [em.divide(1.0, em.multiply(x, math.log(10.0)))])
# sigmoid(z) = 1 / (1 + e^-z) (emitted by rules, e.g. logaddexp's); d/dz = s (1 - s).
def_elementwise("sigmoid", runtime.sigmoid, 1,
                lambda em, out, z: [em.multiply(out, em.subtract(1, out))], pyname="sigmoid")

# sigmoid_link(s, z) = s, where s = 1 / (1 + e^-z) was computed by the user's
# own operations from a detached z (s2sgrad.invariance.link_sigmoids): the
# value is the user's, bit for bit; d/dz = s (1 - s) from the output alone,
# so the backward pass keeps s instead of e^-z and 1 + e^-z.  (Written with
# the link's output, so its own derivative -- second order -- is exact.)
def_elementwise("sigmoid_link", runtime.sigmoid_link, 2,
                lambda em, out, s, z: [None, em.multiply(out, em.subtract(1, out))],
                pyname="sigmoid_link")

# softmax_link(a, z, axis) = a, where a = e^z / sum(e^z, axis, keepdims=True)
# was computed by the user's own operations from a detached z (s2sgrad.
# invariance.link_softmaxes): d/dz of <g, a> is (g - sum(g a, axis)) a, from
# the output alone, so e^z need not be kept beside a.  (Not elementwise: a
# batched softmax_link runs per example, see s2sgrad.batching.)
def _softmax_link_vjp(em, g, out, a, z, axis):
    s = em.sum(em.multiply(g, out), axis=axis, keepdims=True)
    return [None, em.unbroadcast(em.multiply(em.subtract(g, s), out), z), None]


def _softmax_link_jvp(em, dots, out, a, z, axis):
    d = dots[1]
    if d is None:
        return None
    d = em.broadcast_like(d, out)
    s = em.sum(em.multiply(d, out), axis=axis, keepdims=True)
    return em.multiply(em.subtract(d, s), out)


defprim("softmax_link", runtime.softmax_link, sig="a, z, axis, /", vjp=_softmax_link_vjp,
        jvp=_softmax_link_jvp, pyname="softmax_link", shape_safe=True,
        shape=lambda args, kwargs: shape_of(args[0]),
        doc="a itself (a softmax of z the user computed); derivative (g - sum(g a)) a in z")

# logaddexp(x, y) = log(e^x + e^y); d/dx = e^x / (e^x + e^y) = 1 / (1 + e^(y - x)),
# a logistic sigmoid.  Written without the output, so a gradient that does not
# need the loss value drops the (costly) forward logaddexp; e^(y - x)
# overflowing to inf gives the exact limit 0 (overflow warnings are silenced
# by the sigmoid helper).
# x == y == +-inf (a log-space recursion's impossible states, CTC's alpha):
# x - y is NaN and the weights are taken as 1/2 (their limit along x == y),
# so a zero cotangent there stays 0, not 0 * NaN.
# The gap x - y with that repair is runtime.logaddexp_gap (one reduction
# tests for a NaN; four elementwise passes on every call were 3x the cost of
# softplus's gradient); its slope is 1, and 0 at a repaired entry.  With a
# finite constant operand (softplus's logaddexp(0, z)) x == y is never
# infinite, so the gap is a plain subtract, which the peephole folds into
# the product before it (logistic regression's -0.5 * w).  (_finite_const,
# defined below: a Python int or finite float constant.)
def _logaddexp_partials(em, out, x, y):
    if _finite_const(x) or _finite_const(y):
        return [em.call("sigmoid", em.subtract(x, y)), em.call("sigmoid", em.subtract(y, x))]
    d = em.call("logaddexp_gap", x, y)
    return [em.call("sigmoid", d), em.call("sigmoid", em.negative(d))]


def _gap_partials(em, out, x, y):
    slope = em.call("logaddexp_gap_slope", x, y)
    return [slope, em.negative(slope)]


def_elementwise("logaddexp_gap", runtime.logaddexp_gap, 2, _gap_partials,
                pyname="logaddexp_gap")
def_nondiff_elementwise("logaddexp_gap_slope", runtime.logaddexp_gap_slope, 2,
                        pyname="logaddexp_gap_slope")


def_elementwise("logaddexp", np.logaddexp, 2, _logaddexp_partials)

# ---------------------------------------------------------------- trigonometric

def_elementwise("sin", np.sin, 1, lambda em, out, x: [em.cos(x)])
def_elementwise("cos", np.cos, 1, lambda em, out, x: [em.negative(em.sin(x))])
def_elementwise("tan", np.tan, 1, lambda em, out, x: [em.add(1.0, em.square(out))])
def_elementwise("arcsin", np.arcsin, 1,
                lambda em, out, x: [em.divide(1.0, em.sqrt(em.subtract(1.0, em.square(x))))])
def_elementwise("arccos", np.arccos, 1,
                lambda em, out, x: [em.divide(-1.0, em.sqrt(em.subtract(1.0, em.square(x))))])
def_elementwise("arctan", np.arctan, 1,
                lambda em, out, x: [em.divide(1.0, em.add(1.0, em.square(x)))])


def _arctan2_partials(em, out, y, x):
    # d/dy atan2(y, x) = x / (x^2 + y^2); d/dx = -y / (x^2 + y^2)
    r2 = em.add(em.square(x), em.square(y))
    return [em.divide(x, r2), em.negative(em.divide(y, r2))]


def_elementwise("arctan2", np.arctan2, 2, _arctan2_partials)
def_elementwise("sinh", np.sinh, 1, lambda em, out, x: [em.cosh(x)])
def_elementwise("cosh", np.cosh, 1, lambda em, out, x: [em.sinh(x)])
def_elementwise("tanh", np.tanh, 1, lambda em, out, x: [em.subtract(1.0, em.square(out))])

# ---------------------------------------------------------------- kinks

# abs: subgradient sign(x), 0 at x == 0.  For a complex z, d|z| =
# Re(conj(z) dz) / |z|: the cotangent is Re(g) * conj(z) / |z| (complex.py
# explains the convention).  csign(x) is sign(x) for real x and conj(z) / |z|
# for complex z; for real x its derivative is exactly 0 (sign is piecewise
# constant), for complex z it is not (so second derivatives are right).
def _abs_vjp(em, g, out, x):
    if is_one(g):       # the seed of grad: csign's own derivative checks a complex 0
        return [em.unbroadcast(em.csign(x), x)]
    # the product through norm_scale: differentiated again in csign(x), a
    # cotangent moving a complex 0 is refused (|z| ** 2's Hessian would be 0)
    return [em.unbroadcast(em.call("norm_scale", em.csign(x), em.real_if_complex(g), x,
                                   what="np.abs of a complex value", complex_only=True), x)]


def _abs_jvp(em, dots, out, x):
    # through norm_scale: differentiated again in reverse (grad of a jvp), a
    # tangent moving a complex 0 is refused (|z| ** 2's Hessian would be 0)
    return em.broadcast_like(em.real_if_complex(em.call(
        "norm_scale", em.csign(x), dots[0], x, what="np.abs of a complex value",
        complex_only=True, tangent=True)), out)


def_elementwise("absolute", np.absolute, 1, lambda em, out, x: [em.csign(x)],
                aliases=(abs,) + ((np.abs,) if np.abs is not np.absolute else ()),
                vjp=_abs_vjp, jvp=_abs_jvp)


def _finite_const(a) -> bool:
    # (a Python int of any size: np.isfinite(2 ** 64) raises)
    return isinstance(a, Const) and (type(a.value) is int or
                                     (type(a.value) is float and math.isfinite(a.value)))


def _step(em, d):
    return em.fmax(em.multiply(em.add(em.sign(d), 1.0), 0.5), 0.0)


def _maxmin_partials(cmp, step=False, nan_aware=False):
    def partials(em, out, x, y):
        # strictly-winning operand gets 1, ties split 0.5 / 0.5
        if step and _finite_const(y):
            # against a finite constant (ReLU: maximum(x, 0.0)) the same
            # selection is a step function of d: (sign(d) + 1) * 0.5 is
            # exactly 0, 0.5, 1 (fmax turns its NaN at a NaN input into 0) --
            # np.heaviside(d, 0.5)'s values, in SIMD ufuncs (heaviside's
            # loop is ~3x slower than sign + add + multiply + fmax)
            d = em.subtract(x, y) if cmp == "greater" else em.subtract(y, x)
            return [_step(em, d), None]
        if step and _finite_const(x):
            d = em.subtract(y, x) if cmp == "greater" else em.subtract(x, y)
            return [None, _step(em, d)]
        lose = 0.0
        if nan_aware and not _finite_const(y):
            # fmax/fmin return x where y is NaN (and y where x is: x loses)
            lose = em.where(em.call("isnan", y), 1.0, 0.0)
        win = em.where(em.call(cmp, x, y), 1.0, em.where(em.equal(x, y), 0.5, lose))
        return [win, em.subtract(1.0, win)]
    return partials


def _maxmin_vjp(cmp):
    partials = _maxmin_partials(cmp, step=True)

    def vjp(em, g, out, x, y):
        # against a finite constant (ReLU): g * step(d) as g * (d >= 0) --
        # one comparison and one multiply, in place where g dies, as a
        # hand-written ReLU gradient -- and the tie's 1/2 put back where d
        # is exactly 0 (ties_halved: one read of d when there is none);
        # the same numbers bit for bit (see runtime.ties_halved)
        for k, (a, c) in enumerate(((x, y), (y, x))):
            if _finite_const(c) and not _finite_const(a):
                d = em.subtract(a, c) if cmp == "greater" else em.subtract(c, a)
                # (in g * step(d)'s dtype: a Python float g times the mask is float64)
                r = em.call("ties_halved", em.multiply(g, em.greater_equal(d, 0.0)), d,
                            dtype=em.call("result_type", d, g))
                res = [None, None]
                res[k] = em.unbroadcast(r, a)
                return res
        ps = partials(em, out, x, y)
        return [None if p is None else em.unbroadcast(em.multiply(g, p), a)
                for a, p in zip((x, y), ps)]
    return vjp


# ties_halved(r, d): r halved where d == 0, in r * d's dtype; linear in r, and
# piecewise constant in d (a step function's derivative: 0, as sign's)
defprim("ties_halved", runtime.ties_halved, sig="r, d, /, dtype=None", pyname="ties_halved",
        vjp=lambda em, h, out, r, d, dtype=None: [em.call("ties_halved", h, d), None],
        jvp=lambda em, dots, out, r, d, dtype=None: (
            None if dots[0] is None else em.call("ties_halved", dots[0], d)),
        shape=lambda args, kwargs: shape_of(args[0]), shape_safe=True,
        doc="runtime helper: r halved where d is exactly 0 (a ReLU's cotangent g * (d >= 0) "
            "with the tie's 1/2 put back).")


def_elementwise("maximum", np.maximum, 2, _maxmin_partials("greater", step=True),
                vjp=_maxmin_vjp("greater"))
def_elementwise("minimum", np.minimum, 2, _maxmin_partials("less", step=True),
                vjp=_maxmin_vjp("less"))
# fmax/fmin ignore NaNs but are otherwise the same piecewise selection.
def_elementwise("fmax", np.fmax, 2, _maxmin_partials("greater", nan_aware=True))
def_elementwise("fmin", np.fmin, 2, _maxmin_partials("less", nan_aware=True))


def _where_vjp(em, g, out, c, x, y):
    zero = 0.0
    return [None,
            em.unbroadcast(em.where(c, g, zero), x),
            em.unbroadcast(em.where(c, zero, g), y)]


def _where_jvp(em, dots, out, c, x, y):
    _, dx, dy = dots
    if dx is None and dy is None:
        return None
    t = em.where(c, 0.0 if dx is None else dx, 0.0 if dy is None else dy)
    return em.broadcast_like(t, out)


def _where_canonical(args, kwargs):
    # np.where(condition) alone is np.nonzero(condition) (primitives/data.py)
    if len(args) == 1 and not kwargs:
        return get("nonzero"), args, kwargs
    return args, kwargs


defprim("where", np.where, sig="condition, x, y, /", vjp=_where_vjp, jvp=_where_jvp,
        shape=shape_elementwise, canonicalize=_where_canonical,
        doc="np.where(c, x, y): the cotangent is routed to the selected operand.")


def _clip_mask(em, x, a_min, a_max):
    # 1 where lo <= x <= hi (bounds inclusive), else 0
    mask = None
    if not (isinstance(a_min, Const) and a_min.value is None):
        mask = em.greater_equal(x, a_min)
    if not (isinstance(a_max, Const) and a_max.value is None):
        m2 = em.less_equal(x, a_max)
        mask = m2 if mask is None else em.logical_and(mask, m2)
    return mask


def _clip_vjp(em, g, out, x, a_min=None, a_max=None):
    mask = _clip_mask(em, x, Const(a_min) if a_min is None else a_min,
                      Const(a_max) if a_max is None else a_max)
    if mask is None:
        return [em.unbroadcast(g, x)]
    return [em.unbroadcast(em.where(mask, g, 0.0), x)]


def _clip_jvp(em, dots, out, x, a_min=None, a_max=None):
    (dx,) = dots
    mask = _clip_mask(em, x, Const(a_min) if a_min is None else a_min,
                      Const(a_max) if a_max is None else a_max)
    if dx is None:
        return None
    return em.broadcast_like(dx if mask is None else em.where(mask, dx, 0.0), out)


def _clip_printer(args, kwargs, eqn):
    # bounds positionally: NumPy renamed a_min/a_max to min/max in 2.1
    lo = kwargs.get("a_min", ast.Constant(value=None))
    hi = kwargs.get("a_max", ast.Constant(value=None))
    spelling = eqn.params.get("spelling")
    if spelling and spelling[0] == "method":
        return ast.Call(func=ast.Attribute(value=args[0], attr="clip", ctx=ast.Load()),
                        args=[lo, hi], keywords=[])
    return printing.call("np.clip", [args[0], lo, hi], {})


# np.clip with a bound that is a variable: all three operands positional and
# differentiable.  out = minimum(maximum(x, lo), hi), so the cotangent goes to
# x where lo <= x <= hi (ties at a bound: to x, as for constant bounds), to lo
# where x < lo <= hi, to hi where max(x, lo) > hi.
def _clip_canonical(args, kwargs):
    kw = {{"min": "a_min", "max": "a_max"}.get(k, k): v for k, v in kwargs.items()}
    if len(args) > 3 or not args or set(kw) - {"a_min", "a_max"}:
        return args, kwargs
    for name, v in zip(("a_min", "a_max"), args[1:]):
        if name in kw:
            return args, kwargs                 # given twice: NumPy's error
        kw[name] = v
    lo, hi = kw.get("a_min", Const(None)), kw.get("a_max", Const(None))
    if isinstance(lo, Var) or isinstance(hi, Var):
        return get("clip_bounds"), [args[0], lo, hi], {}
    return [args[0]], kw


defprim("clip", np.clip, sig="x, /, a_min=None, a_max=None", vjp=_clip_vjp, jvp=_clip_jvp,
        printer=_clip_printer, canonicalize=_clip_canonical,
        # array bounds broadcast with x, like any elementwise operation
        shape=lambda args, kwargs: shape_elementwise(
            list(args) + [v for v in kwargs.values() if not (isinstance(v, Const) and v.value is None)],
            {}),
        doc="np.clip(x, lo, hi): gradient passes where lo <= x <= hi (constant bounds; "
            "a variable bound makes the call clip_bounds, differentiable in the bounds).")


def _is_none(v):
    return v is None or (isinstance(v, Const) and v.value is None)


def _clip_bounds_masks(em, x, lo, hi):
    """Where each of x, lo, hi is the output (None: that bound is absent)."""
    in_lo = None if _is_none(lo) else em.greater_equal(x, lo)
    in_hi = None if _is_none(hi) else em.less_equal(x, hi)
    if in_lo is None or in_hi is None:
        mx = in_lo if in_hi is None else in_hi
    else:
        mx = em.logical_and(in_lo, in_hi)
    mlo = None if _is_none(lo) else em.less(x, lo)
    if mlo is not None and not _is_none(hi):
        mlo = em.logical_and(mlo, em.less_equal(lo, hi))
    mhi = None if _is_none(hi) else em.greater(x, hi)
    if mhi is not None and not _is_none(lo):
        mhi = em.logical_or(mhi, em.greater(lo, hi))
    return mx, mlo, mhi


def _clip_bounds_vjp(em, g, out, x, lo, hi):
    masks = _clip_bounds_masks(em, x, lo, hi)
    return [None if isinstance(v, Const) or m is None else
            em.unbroadcast(em.where(m, g, 0.0), v) for v, m in zip((x, lo, hi), masks)]


def _clip_bounds_jvp(em, dots, out, x, lo, hi):
    masks = _clip_bounds_masks(em, x, lo, hi)
    total = None
    for d, m in zip(dots, masks):
        if d is not None and m is not None:
            t = em.where(m, d, 0.0)
            total = t if total is None else em.add(total, t)
    return None if total is None else em.broadcast_like(total, out)


def _clip3(x, a_min, a_max, /):
    return np.clip(x, a_min, a_max)


defprim("clip_bounds", _clip3, sig="x, a_min, a_max, /", pyname="np.clip",
        vjp=_clip_bounds_vjp, jvp=_clip_bounds_jvp, shape=shape_elementwise,
        doc="np.clip(x, lo, hi) with variable bounds: the cotangent goes to whichever of "
            "x, lo, hi the output is (x at ties).")

# ---------------------------------------------------------------- non-differentiable

for _name, _impl, _op in [("greater", np.greater, ast.Gt()), ("greater_equal", np.greater_equal, ast.GtE()),
                          ("less", np.less, ast.Lt()), ("less_equal", np.less_equal, ast.LtE()),
                          ("equal", np.equal, ast.Eq()), ("not_equal", np.not_equal, ast.NotEq())]:
    def_nondiff_elementwise(_name, _impl, 2, printer=printing.compare(_op))

def_nondiff_elementwise("bitwise_and", np.bitwise_and, 2, printer=printing.binop(ast.BitAnd()))
def_nondiff_elementwise("bitwise_or", np.bitwise_or, 2, printer=printing.binop(ast.BitOr()))
def_nondiff_elementwise("bitwise_xor", np.bitwise_xor, 2, printer=printing.binop(ast.BitXor()))
def_nondiff_elementwise("invert", np.invert, 1, printer=printing.unaryop(ast.Invert()))
def_nondiff_elementwise("logical_and", np.logical_and, 2)
def_nondiff_elementwise("logical_or", np.logical_or, 2)
def_nondiff_elementwise("logical_not", np.logical_not, 1)
def_nondiff_elementwise("logical_xor", np.logical_xor, 2)
def_nondiff_elementwise("floor_divide", np.floor_divide, 2, printer=printing.binop(ast.FloorDiv()))
# sign: derivative 0 on the reals (piecewise constant).  For a complex z it is
# z / |z|, which is not constant: a differentiated complex operand is refused at
# run time (real_only: reverse.guard_real_only), never given the derivative 0;
# write z / np.abs(z) to differentiate it.
def_nondiff_elementwise("sign", np.sign, 1).real_only = True
# the step function (0 below, h at, 1 above 0): derivative 0 almost everywhere
def_nondiff_elementwise("heaviside", np.heaviside, 2)
def_nondiff_elementwise("floor", np.floor, 1)
def_nondiff_elementwise("ceil", np.ceil, 1)
def_nondiff_elementwise("trunc", np.trunc, 1)
def_nondiff_elementwise("rint", np.rint, 1)
def_nondiff_elementwise("isnan", np.isnan, 1)
def_nondiff_elementwise("isfinite", np.isfinite, 1)
def_nondiff_elementwise("isinf", np.isinf, 1)
def_nondiff_elementwise("signbit", np.signbit, 1)

# x % y = x - floor(x / y) * y: derivative 1 in x, -floor(x / y) in y.
def_elementwise("remainder", np.remainder, 2,
                lambda em, out, x, y: [1, em.negative(em.floor(em.divide(x, y)))],
                aliases=(np.mod,) if np.mod is not np.remainder else (),
                printer=printing.binop(ast.Mod()))
