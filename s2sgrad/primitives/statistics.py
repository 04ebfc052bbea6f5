"""Scans, statistics and products: cumprod, diff, gradient, trapezoid,
average, ptp, median/percentile/quantile, cov, corrcoef, the nan-ignoring
reductions (nansum, nanmean, nanmax, nanmin, nanstd, nanvar, nanprod,
nancumsum, nancumprod, nanmedian, nanpercentile, nanquantile), and the
products kron, vdot, cross, convolve, correlate.

Rules are written with primitives (sums, masks, the runtime helpers below),
so every derivative can be differentiated again.  ``axis``/``keepdims``/
``ddof`` follow NumPy (``axis`` None, int or tuple where NumPy allows it).

Conventions (also in the README):

* ``cumprod`` is exact at zeros, like ``prod``: d out_k / d x_i is the
  product of the other factors ``x_j`` (``j <= k``), never ``out / x``.
  With a zero at ``z`` (the first in its lane), elements before ``z`` get
  ``sum_{k>=i} g_k out_k / x_i`` (``out_k`` is 0 from ``z`` on), the zero
  itself the scan of the products with it replaced by 1, and everything
  after it 0.  A second derivative at a zero is refused at run time
  (require_nonzero); elsewhere it is exact.
* ``median``/``percentile``/``quantile`` (and the nan- versions): NumPy's
  value at ``q`` is ``(1 - gamma) s[lo] + gamma s[hi]`` for the sorted
  sample ``s``, with ``lo``, ``hi``, ``gamma`` from the method (every
  NumPy method, ``linear`` by default); the cotangent goes to the elements
  a *stable* sort puts at ``lo`` and ``hi`` (as JAX and autograd, which
  sort then interpolate), so among tied values the first one in the input
  order is picked.  In ``q`` the value is piecewise linear: its derivative
  is ``c (s[hi] - s[lo])`` with ``c`` the method's d(index)/dq (0 for the
  piecewise-constant methods and where q is clipped; one-sided, from above,
  where the index is an integer).  The nan- versions skip NaNs; an
  all-NaN slice passes no derivative.  ``overwrite_input`` is accepted and
  ignored (the input is never modified).
* ``ptp`` is ``max - min`` with their tie rules (a constant slice has
  derivative 0).  ``nanmax``/``nanmin`` split ties equally like ``max``.
* ``average``: differentiable in ``a`` and ``weights`` (also with
  ``returned=True``).  ``cov``/``corrcoef``: differentiable in ``m`` and
  ``y``; ``fweights``/``aweights`` are data.  ``gradient``: linear in ``f``
  (its adjoint is the transpose of NumPy's own difference stencil,
  ``edge_order`` 1 and 2, scalar or coordinate spacings, which are data:
  differentiating with respect to a spacing is refused);
  ``axis`` must be given for arrays of more than one dimension.
* ``trapezoid``: differentiable in ``y``, ``x`` and ``dx``.
* ``cross`` (3-vectors; 2-vectors, deprecated in NumPy 2, as 3-vectors
  with a zero third component), ``kron``, ``vdot``, ``convolve``, ``correlate``
  (modes full, same, valid): bilinear, both operands differentiable, real
  arrays.
"""
from __future__ import annotations

import ast

import numpy as np

from .. import runtime
from ..errors import S2SGradError
from ..ir import Const
from .core import (SCALAR, const_value, defmethod, defprim, fresh_shape, get, shape_fresh,
                   shape_of)
from .linalg import def_bilinear
from .reductions import (_given_mask, _keep_kw, _maxmin_jvp, _maxmin_vjp, _mean_where, _opt,
                         _prod_others, _red_kw, _reduced_shape, _route, positional_adapter)
from .signatures import def_linear_helper, keyword_operands, keyword_printer, options


def _lin(fn, t, *args, **kw):
    return None if t is None else fn(t, *args, **kw)


def _absent(v):
    return v is None or (isinstance(v, Const) and v.value is None)


def _fill(em, t, like):
    return t if t is not None else em.zeros_like(like)


# ---------------------------------------------------------------- cumprod


def _scan_operand(em, x, axis):
    """(x as scanned, scan axis): ``axis=None`` scans the flattened array."""
    if _absent(axis):
        return em.ravel(x), Const(0)
    return x, axis


def _cumprod_vjp_core(em, g, out, xs, ax):
    return em.call("cumprod_vjp_core", g, out, xs, axis=ax)


def _cumprod_jvp_core(em, t, out, xs, ax):
    return em.call("cumprod_jvp_core", t, out, xs, axis=ax)


# cumprod_vjp_core / cumprod_jvp_core(.., out, xs, axis): np.cumprod's
# cotangent / tangent, exact at zeros (runtime.cumprod_*_core: masked by the
# lane's first zero).  Their own derivatives -- second derivatives of
# np.cumprod -- are written for nonzero xs (ct = rcumsum(g out) / x, tangent
# = out cumsum(t / x)), xs checked at run time to have no zero (refused
# there, where the masked branches would give a wrong second derivative).
def _nz(em, x):
    return em.call("require_nonzero", x, what="a second derivative of np.cumprod")


def _rcs(em, v, like, ax):
    return em.call("reverse_cumsum", v, like, axis=ax)


def _cvc_jvp(em, dots, res, g, out, xs, axis=None):
    dg, dout, dxs = dots
    x = _nz(em, xs)
    terms = []
    if dg is not None:
        terms.append(em.divide(_rcs(em, em.multiply(dg, out), xs, axis), x))
    if dout is not None:
        terms.append(em.divide(_rcs(em, em.multiply(g, dout), xs, axis), x))
    if dxs is not None:
        terms.append(em.negative(em.divide(em.multiply(res, dxs), x)))
    acc = None
    for t in terms:
        acc = t if acc is None else em.add(acc, t)
    return acc


def _cvc_vjp(em, h, res, g, out, xs, axis=None):
    x = _nz(em, xs)
    c = em.cumsum(em.divide(h, x), axis=axis)
    return [em.multiply(out, c), em.multiply(g, c),
            em.negative(em.divide(em.multiply(h, res), x))]


def _cjc_jvp(em, dots, res, t, out, xs, axis=None):
    dt, dout, dxs = dots
    x = _nz(em, xs)
    terms = []
    if dout is not None:
        terms.append(em.multiply(dout, em.cumsum(em.divide(t, x), axis=axis)))
    inner = None
    if dt is not None:
        inner = em.divide(dt, x)
    if dxs is not None:
        v = em.negative(em.divide(em.multiply(t, dxs), em.multiply(x, x)))
        inner = v if inner is None else em.add(inner, v)
    if inner is not None:
        terms.append(em.multiply(out, em.cumsum(inner, axis=axis)))
    acc = None
    for term in terms:
        acc = term if acc is None else em.add(acc, term)
    return acc


def _cjc_vjp(em, h, res, t, out, xs, axis=None):
    x = _nz(em, xs)
    r = _rcs(em, em.multiply(h, out), xs, axis)
    return [em.divide(r, x), em.multiply(h, em.cumsum(em.divide(t, x), axis=axis)),
            em.negative(em.divide(em.multiply(t, r), em.multiply(x, x)))]


defprim("cumprod_vjp_core", runtime.cumprod_vjp_core, sig="g, out, xs, /, axis=0",
        pyname="cumprod_vjp_core", vjp=_cvc_vjp, jvp=_cvc_jvp,
        shape=lambda args, kwargs: shape_of(args[2]),
        doc="runtime helper: np.cumprod's cotangent, exact at zeros (its own derivative "
            "refuses zeros).")
defprim("cumprod_jvp_core", runtime.cumprod_jvp_core, sig="t, out, xs, /, axis=0",
        pyname="cumprod_jvp_core", vjp=_cjc_vjp, jvp=_cjc_jvp,
        shape=lambda args, kwargs: shape_of(args[1]),
        doc="runtime helper: np.cumprod's tangent, exact at zeros (its own derivative "
            "refuses zeros).")


def _cumprod_vjp(em, g, out, x, axis=None, dtype=None):
    xs, ax = _scan_operand(em, x, axis)
    ct = _cumprod_vjp_core(em, g, out, xs, ax)
    return [em.reshape(ct, shape=em.shape(x)) if _absent(axis) else ct]


def _cumprod_jvp(em, dots, out, x, axis=None, dtype=None):
    xs, ax = _scan_operand(em, x, axis)
    t = em.ravel(dots[0]) if _absent(axis) else dots[0]
    return _cumprod_jvp_core(em, t, out, xs, ax)


CUMPROD = defprim("cumprod", np.cumprod, sig="a, /, axis=None, dtype=None",
                  vjp=_cumprod_vjp, jvp=_cumprod_jvp, shape=shape_fresh,
                  doc="np.cumprod: exact at zeros (the product of the other factors, never "
                      "out / x).")
defmethod("cumprod", CUMPROD, positional_adapter("axis", "dtype", "out"))


# ---------------------------------------------------------------- diff


def _diff_impl(a, prepend=None, append=None, n=1, axis=-1):
    kw = {}
    if prepend is not None:
        kw["prepend"] = prepend
    if append is not None:
        kw["append"] = append
    return np.diff(a, n, axis, **kw)


def _diff_opts(n, axis):
    return options(n=n, axis=axis)


def _diff_vjp(em, g, out, a, prepend, append, n=None, axis=None):
    cts = em.call("diff_adjoint", g, a, prepend, append, **_diff_opts(n, axis))
    cts = list(cts) if isinstance(cts, tuple) else [cts]
    ct_a = cts.pop(0)
    ct_p = cts.pop(0) if not _absent(prepend) else None
    ct_e = cts.pop(0) if not _absent(append) else None
    return [ct_a, ct_p, ct_e]


def _edge_tangent(em, d, v):
    if _absent(v):
        return Const(None)
    return _fill(em, d, v)


def _diff_jvp(em, dots, out, a, prepend, append, n=None, axis=None):
    return em.diff(_fill(em, dots[0], a), _edge_tangent(em, dots[1], prepend),
                   _edge_tangent(em, dots[2], append), **_diff_opts(n, axis))


defprim("diff", _diff_impl, sig="a, prepend, append, /, n=1, axis=-1", aliases=(np.diff,),
        canonicalize=keyword_operands(np.diff, ("a", "prepend", "append")),
        vjp=_diff_vjp, jvp=_diff_jvp, linear=True, shape=shape_fresh,
        printer=keyword_printer("np.diff", ("a", "prepend", "append"), order=("n",)),
        doc="np.diff (n, axis, prepend, append): linear; the adjoint is the transposed "
            "difference, cut back into a, prepend and append.")


def _diff_adjoint_nouts(args, kwargs):
    return 1 + sum(not _absent(v) for v in args[2:4])


def _diff_adjoint_vjp(em, hs, outs, g, a, prepend, append, n=None, axis=None):
    hs = list(hs) if isinstance(hs, tuple) else [hs]
    outs = list(outs) if isinstance(outs, tuple) else [outs]
    if all(h is None for h in hs):
        return [None] * 4
    filled = [h if h is not None else em.zeros_like(o) for h, o in zip(hs, outs)]
    h_a = filled.pop(0)
    h_p = filled.pop(0) if not _absent(prepend) else Const(None)
    h_e = filled.pop(0) if not _absent(append) else Const(None)
    return [em.diff(h_a, h_p, h_e, **_diff_opts(n, axis)), None, None, None]


defprim("diff_adjoint", runtime.diff_adjoint, sig="g, a, prepend, append, /, n=1, axis=-1",
        pyname="diff_adjoint", vjp=_diff_adjoint_vjp,
        jvp=lambda em, dots, outs, g, a, p, e, **kw: _lin(
            lambda t: em.call("diff_adjoint", t, a, p, e, **kw), dots[0]),
        nouts=_diff_adjoint_nouts, linear=True,
        shape=lambda args, kwargs: (shape_of(args[1]) if _diff_adjoint_nouts(args, kwargs) == 1
                                    else tuple([shape_of(args[1])] + [
                                        shape_of(v) for v in args[2:4] if not _absent(v)])),
        doc="runtime helper: the adjoint of np.diff (cotangents of a, prepend, append).")


# ---------------------------------------------------------------- gradient


def _gradient_axes(axis):
    """The axes np.gradient differentiates along, or None (all: 1-d only here)."""
    if _absent(axis):
        return None
    v = const_value(axis, "np.gradient's axis")
    return tuple(v) if isinstance(v, (tuple, list)) else v


def _gradient_nouts(args, kwargs):
    axes = _gradient_axes(kwargs.get("axis"))
    return len(axes) if isinstance(axes, tuple) else 1


def _gradient_impl(f, *varargs, axis=None, edge_order=1):
    return np.gradient(runtime.require_1d(f, "np.gradient without axis=") if axis is None
                       else f, *varargs, axis=axis, edge_order=edge_order)


def _gradient_printer(args, kwargs, eqn):
    """np.gradient(f, ...); without ``axis`` it has one result per axis of
    ``f``, so ``f`` is checked to be 1-d when the code runs."""
    from . import printing
    first = args[0]
    axis = kwargs.get("axis")
    if axis is None or (isinstance(axis, ast.Constant) and axis.value is None):
        # (axis=None spelled out is the same: one result per axis)
        first = printing.call("require_1d", [first, ast.Constant("np.gradient without axis=")],
                              {})
    return printing.call("np.gradient", [first] + list(args[1:]), kwargs)


def _gradient_plan(varargs, axis):
    """[(axis, spacing operands)] for each result."""
    axes = _gradient_axes(axis)
    seq = axes if isinstance(axes, tuple) else (0 if axes is None else axes,)
    if len(varargs) <= 1:
        return [(a, tuple(varargs)) for a in seq]
    return [(a, (h,)) for a, h in zip(seq, varargs)]


def _gradient_vjp(em, g, out, f, *varargs, axis=None, edge_order=None):
    gs = g if isinstance(g, tuple) else (g,)
    ct = None
    for gk, (ax, h) in zip(gs, _gradient_plan(varargs, axis)):
        if gk is not None:
            ct = em.add_ct(ct, em.call("gradient_adjoint", gk, f, *h, axis=ax,
                                       **options(edge_order=edge_order)))
    return [ct] + [None] * len(varargs)


def _gradient_jvp(em, dots, out, f, *varargs, axis=None, edge_order=None):
    if dots[0] is None:
        return None
    return em.gradient(dots[0], *varargs, **options(axis=axis, edge_order=edge_order))


defprim("gradient", _gradient_impl, sig="f, /, *varargs, axis=None, edge_order=1",
        aliases=(np.gradient,), vjp=_gradient_vjp, jvp=_gradient_jvp, linear=True,
        data_args=lambda i: i >= 1,        # the spacings: a differentiated one is refused
        nouts=_gradient_nouts,
        # NumPy 2 returns the derivatives along several axes as a tuple, NumPy 1 a list
        out_kind=type(np.gradient(np.zeros((2, 2)))).__name__,
        shape=lambda args, kwargs: (fresh_shape() if _gradient_nouts(args, kwargs) == 1 else
                                    tuple(fresh_shape() for _ in range(
                                        _gradient_nouts(args, kwargs)))),
        printer=_gradient_printer,
        doc="np.gradient (edge_order 1/2, scalar or coordinate spacing): linear in f; the "
            "adjoint applies the transpose of NumPy's stencil.")
def_linear_helper("gradient_adjoint", runtime.gradient_adjoint,
                  "g, f, /, *spacing, axis=0, edge_order=1",
                  lambda em, h, _g, f, *spacing, **kw: em.gradient(h, *spacing, **kw),
                  doc="runtime helper: the adjoint of np.gradient along one axis.")


# gradient_pick(f, *spacing, item=k): ``np.gradient(f)[k]`` without axis=,
# made by the lowering (lower/subscripts.py) when the result of an
# np.gradient(f) without axis= is only read as g[k] with a constant k: for an
# N-d f the derivative along axis k (NumPy's tuple's item k), for a 1-d f
# (NumPy's one array) its element k -- both decided when the code runs, so
# the number of results need not be known when compiling.  Linear in f.


def _gradient_pick_vjp(em, g, out, f, *spacing, item=None, edge_order=None):
    return [em.call("gradient_pick_adjoint", g, f, *spacing,
                    **options(item=item, edge_order=edge_order))] + [None] * len(spacing)


def _gradient_pick_jvp(em, dots, out, f, *spacing, item=None, edge_order=None):
    if dots[0] is None:
        return None
    return em.call("gradient_pick", dots[0], *spacing, **options(item=item, edge_order=edge_order))


defprim("gradient_pick", runtime.gradient_pick, sig="f, /, *spacing, item=0, edge_order=1",
        pyname="gradient_pick", vjp=_gradient_pick_vjp, jvp=_gradient_pick_jvp, linear=True,
        data_args=lambda i: i >= 1, shape=shape_fresh,
        doc="runtime helper: np.gradient(f)[item] (an axis's derivative of an N-d f, an "
            "element of a 1-d f's).")
def_linear_helper("gradient_pick_adjoint", runtime.gradient_pick_adjoint,
                  "g, f, /, *spacing, item=0, edge_order=1",
                  lambda em, h, _g, f, *spacing, **kw: em.call("gradient_pick", h, *spacing,
                                                               **kw),
                  doc="runtime helper: the adjoint of gradient_pick.")


# gradient_stacked(f, *spacing): np.stack(np.gradient(f)) (np.array of it) without
# axis=, whatever f's rank (lower/calls.py makes it).


def _gradient_stacked_vjp(em, g, out, f, *spacing, edge_order=None):
    return [em.call("gradient_stacked_adjoint", g, f, *spacing,
                    **options(edge_order=edge_order))] + [None] * len(spacing)


def _gradient_stacked_jvp(em, dots, out, f, *spacing, edge_order=None):
    if dots[0] is None:
        return None
    return em.call("gradient_stacked", dots[0], *spacing, **options(edge_order=edge_order))


defprim("gradient_stacked", runtime.gradient_stacked, sig="f, /, *spacing, edge_order=1",
        pyname="gradient_stacked", vjp=_gradient_stacked_vjp, jvp=_gradient_stacked_jvp,
        linear=True, data_args=lambda i: i >= 1, shape=shape_fresh,
        doc="runtime helper: np.stack(np.gradient(f)), the derivatives along every axis.")
def_linear_helper("gradient_stacked_adjoint", runtime.gradient_stacked_adjoint,
                  "g, f, /, *spacing, edge_order=1",
                  lambda em, h, _g, f, *spacing, **kw: em.call("gradient_stacked", h, *spacing,
                                                               **kw),
                  doc="runtime helper: the adjoint of gradient_stacked.")


# ---------------------------------------------------------------- trapezoid


def _trapz_opts(axis):
    return options(axis=axis)


def _trapezoid_vjp(em, g, out, y, x, dx, axis=None):
    ax = axis if axis is not None else Const(-1)
    gu = em.unreduce(g, y, axis=ax)
    if _absent(x):
        w = em.call("trapezoid_ends", y, axis=ax)
        ct_y = em.unbroadcast(em.multiply(em.multiply(gu, w), dx), y)
        ct_dx = em.unbroadcast(em.multiply(g, em.trapezoid(y, Const(None), 1.0, axis=ax)), dx)
        return [ct_y, None, ct_dx]
    w = em.call("trapezoid_weights", x, y, axis=ax)
    ct_y = em.unbroadcast(em.multiply(gu, w), y)
    ct_x = em.call("trapezoid_weights_adjoint", em.unbroadcast(em.multiply(gu, y), w), x, y,
                   axis=ax)
    return [ct_y, ct_x, None]


def _trapezoid_jvp(em, dots, out, y, x, dx, axis=None):
    ax = axis if axis is not None else Const(-1)
    dy, dxs, ddx = dots
    t = None
    if dy is not None:
        t = em.trapezoid(dy, x, dx, axis=ax)
    if _absent(x):
        if ddx is not None:
            t = em.add_ct(t, em.multiply(ddx, em.trapezoid(y, Const(None), 1.0, axis=ax)))
    elif dxs is not None:
        dw = em.call("trapezoid_weights", dxs, y, axis=ax)
        t = em.add_ct(t, em.sum(em.multiply(dw, y), axis=ax))
    return t


_TRAPZ = tuple(f for f in (getattr(np, "trapezoid", None), getattr(np, "trapz", None))
               if f is not None)
defprim("trapezoid", _TRAPZ[0], sig="y, x, dx, /, axis=-1", aliases=_TRAPZ[1:],
        canonicalize=keyword_operands(_TRAPZ[0], ("y", "x", "dx"), {"dx": 1.0}),
        vjp=_trapezoid_vjp, jvp=_trapezoid_jvp, shape=shape_fresh,
        pyname=f"np.{_TRAPZ[0].__name__}",
        printer=keyword_printer(f"np.{_TRAPZ[0].__name__}", ("y", "x", "dx"),
                                defaults={"dx": 1.0}),
        doc="np.trapezoid: differentiable in y, x and dx (the rule of sum(W * y) with "
            "W_i = (x_{i+1} - x_{i-1}) / 2).")
defprim("trapezoid_ends", runtime.trapezoid_ends, sig="y, /, axis=-1", nondiff=True,
        pyname="trapezoid_ends", shape=shape_fresh,
        doc="runtime helper: np.trapezoid's weights for unit spacing (data).")
def_linear_helper("trapezoid_weights", runtime.trapezoid_weights, "x, y, /, axis=-1",
                  lambda em, h, x, y, **kw: em.call("trapezoid_weights_adjoint", h, x, y, **kw),
                  shape_arg=None,
                  doc="runtime helper: np.trapezoid's weights W(x) (linear in x).")
def_linear_helper("trapezoid_weights_adjoint", runtime.trapezoid_weights_adjoint,
                  "h, x, y, /, axis=-1",
                  lambda em, k, _g, x, y, **kw: em.call("trapezoid_weights", k, y, **kw),
                  doc="runtime helper: the adjoint of trapezoid_weights.")


# ---------------------------------------------------------------- average


def _average_impl(a, weights=None, axis=None, returned=False, keepdims=np._NoValue):
    return np.average(a, axis=axis, weights=weights, returned=returned, keepdims=keepdims)


def _avg_parts(em, weights, a, axis):
    """(the weights shaped to broadcast against a, their sum over axis, dims kept)."""
    W = em.call("average_weights", weights, a, **options(axis=axis))
    return W, em.sum(W, **_keep_kw(axis))


def _to_out(em, t, like):
    """A keepdims-shaped result reshaped to the output's shape."""
    return em.reshape(t, shape=em.shape(like))


def _average_vjp(em, g, out, a, weights, axis=None, returned=None, keepdims=None):
    g, g_scl = g if isinstance(g, tuple) else (g, None)
    avg = out[0] if isinstance(out, tuple) else out
    red = _red_kw(axis, keepdims)
    if _absent(weights):
        if g is None:
            return [None, None]
        n = em.divide(em.size(a), em.size(avg))
        return [em.unreduce(em.divide(g, n), a, **red), None]
    W, s = _avg_parts(em, weights, a, axis)
    ct_a = ct_W = None
    if g is not None:
        gu = em.divide(em.unreduce(g, a, **red), s)
        ct_a = em.unbroadcast(em.multiply(gu, W), a)
        centered = em.subtract(a, em.unreduce(avg, a, **red))
        ct_W = em.unbroadcast(em.multiply(gu, centered), W)
    if g_scl is not None:
        ct_W = em.add_ct(ct_W, em.unbroadcast(em.unreduce(g_scl, a, **red), W))
    ct_w = None
    if ct_W is not None:
        ct_w = em.call("average_weights_adjoint", ct_W, weights, a, **options(axis=axis))
    return [ct_a, ct_w]


def _average_jvp(em, dots, out, a, weights, axis=None, returned=None, keepdims=None):
    da, dw = dots
    avg = out[0] if isinstance(out, tuple) else out
    if _absent(weights):
        t = em.mean(da, **_red_kw(axis, keepdims)) if da is not None else None
        return (t, None) if isinstance(out, tuple) else t
    W, s = _avg_parts(em, weights, a, axis)
    num = None
    if da is not None:
        num = em.multiply(da, W)
    dW = None
    if dw is not None:
        dW = em.call("average_weights", dw, a, **options(axis=axis))
        centered = em.subtract(a, em.unreduce(avg, a, **_red_kw(axis, keepdims)))
        num = em.add_ct(num, em.multiply(dW, centered))
    t = _to_out(em, em.divide(em.sum(num, **_keep_kw(axis)), s), avg)
    if not isinstance(out, tuple):
        return t
    t_scl = None
    if dW is not None:
        t_scl = em.broadcast_like(_to_out(em, em.sum(em.broadcast_like(dW, a), **_keep_kw(axis)),
                                          avg), out[1])
    return t, t_scl


def _average_nouts(args, kwargs):
    r = kwargs.get("returned")
    return 2 if r is not None and const_value(r, "np.average's returned") else 1


defprim("average", _average_impl, sig="a, weights, /, axis=None, returned=False, keepdims=None",
        aliases=(np.average,), canonicalize=keyword_operands(np.average, ("a", "weights")),
        vjp=_average_vjp, jvp=_average_jvp, nouts=_average_nouts,
        shape=lambda args, kwargs: (_reduced_shape(args, kwargs) if _average_nouts(args, kwargs)
                                    == 1 else (fresh_shape(), fresh_shape())),
        printer=keyword_printer("np.average", ("a", "weights")),
        doc="np.average: differentiable in a and weights (returned=True too).")
def_linear_helper("average_weights", runtime.average_weights, "w, a, /, axis=None",
                  lambda em, h, w, a, **kw: em.call("average_weights_adjoint", h, w, a, **kw),
                  shape_arg=None,
                  doc="runtime helper: np.average's weights shaped to broadcast against a.")
def_linear_helper("average_weights_adjoint", runtime.average_weights_adjoint,
                  "h, w, a, /, axis=None",
                  lambda em, k, _g, w, a, **kw: em.call("average_weights", k, a, **kw),
                  doc="runtime helper: the adjoint of average_weights.")


# ---------------------------------------------------------------- ptp


def _ptp_vjp(em, g, out, a, axis=None, keepdims=None):
    kw = _red_kw(axis, keepdims)
    hi = _maxmin_vjp(em, g, em.max(a, **kw), a, axis, keepdims)[0]
    lo = _maxmin_vjp(em, g, em.min(a, **kw), a, axis, keepdims)[0]
    return [em.subtract(hi, lo)]


def _ptp_jvp(em, dots, out, a, axis=None, keepdims=None):
    kw = _red_kw(axis, keepdims)
    return em.subtract(_maxmin_jvp(em, dots, em.max(a, **kw), a, axis, keepdims),
                       _maxmin_jvp(em, dots, em.min(a, **kw), a, axis, keepdims))


defprim("ptp", np.ptp, sig="a, /, axis=None, keepdims=None", vjp=_ptp_vjp, jvp=_ptp_jvp,
        shape=_reduced_shape, doc="np.ptp: max - min, with their tie rules.")


# ---------------------------------------------------------------- quantiles


def _quantile_kw(axis, method, keepdims, nan, percent):
    kw = options(axis=axis, method=method, keepdims=keepdims)
    if nan:
        kw["nan"] = Const(True)
    if percent:
        kw["percent"] = Const(True)
    return kw


def _def_quantile(name, impl, *, nan=False, percent=False, median=False):
    if median:
        sig = "a, /, axis=None, overwrite_input=False, keepdims=False"
    else:
        sig = "a, q, /, axis=None, overwrite_input=False, method='linear', keepdims=False"

    def vjp(em, g, out, a, q=Const(0.5), axis=None, overwrite_input=None, method=None,
            keepdims=None):
        kw = _quantile_kw(axis, method, keepdims, nan, percent)
        ct_a = em.call("quantile_adjoint", g, a, q, **kw)
        if nan:
            # (0 at the NaNs already; the explicit mask lets masking.py carry
            # it past a product with the NaN data: nanmedian(a * y))
            ct_a = _nan_zeroed(em, a, ct_a)
        if median:
            return [ct_a]
        # d/dq: c (s[hi] - s[lo]) per quantile, summed over the lanes to q's shape
        s = em.call("quantile_tangent", a, a, q, **kw, slope=Const(True))
        return [ct_a, em.call("lead_sum", em.multiply(g, s), q)]

    def jvp(em, dots, out, a, q=Const(0.5), axis=None, overwrite_input=None, method=None,
            keepdims=None):
        kw = _quantile_kw(axis, method, keepdims, nan, percent)
        total = _lin(lambda t: em.call("quantile_tangent", t, a, q, **kw), dots[0])
        if not median and dots[1] is not None:
            s = em.call("quantile_tangent", a, a, q, **kw, slope=Const(True))
            total = em.add_ct(total, em.multiply(s, em.call("lead_broadcast", dots[1], s)))
        return total

    def printer(args, kwargs, eqn):
        from . import printing
        kwargs = {k: v for k, v in kwargs.items() if k != "overwrite_input"}
        return printing.call(f"np.{name}", args, kwargs)

    def canonical(args, kwargs):
        # weights= (NumPy 2, method='inverted_cdf'): the element selected,
        # np.take(a, index) (quantile_weighted); weights=None: dropped
        w = kwargs.pop("weights", None)
        if w is None or isinstance(w, Const) and w.value is None:
            return args, kwargs
        return get("quantile_weighted"), args, {**kwargs, "weights": w,
                                                "nan": Const(nan), "percent": Const(percent)}

    defprim(name, impl, sig=sig, vjp=vjp, jvp=jvp, shape=shape_fresh, printer=printer,
            canonicalize=None if median else canonical,
            doc=f"np.{name}: the cotangent goes to the (at most two) order statistics the "
                f"method interpolates, as a stable sort orders them.")


def _quantile_weighted(em, a, q, axis=None, overwrite_input=None, method=None, keepdims=None,
                       weights=None, nan=None, percent=None):
    m = const_value(method, "np.quantile's method") if method is not None else "linear"
    if m != "inverted_cdf":
        raise S2SGradError(f"np.quantile(..., weights=...) supports only "
                           f"method='inverted_cdf' (NumPy's rule too), not {m!r}")
    idx = em.call("quantile_weighted_index", a, q, weights, **options(
        axis=axis, keepdims=keepdims), nan=nan, percent=percent)
    return em.take(a, idx)


# np.quantile/percentile/nanquantile/nanpercentile(a, q, weights=w,
# method='inverted_cdf'): each result is one element of a (no interpolation),
# so np.take(a, index) with the index data: a's cotangent goes to that
# element; q and the weights move the result only by jumps (derivative 0)
defprim("quantile_weighted", None, sig="a, q, /, axis=None, overwrite_input=False, "
        "method='linear', keepdims=False, *, weights=None, nan=False, percent=False",
        expand=_quantile_weighted,
        doc="np.quantile(..., weights=w, method='inverted_cdf') and its relatives: the "
            "element selected (the cotangent goes to it; weights and q are data).")
defprim("quantile_weighted_index", runtime.quantile_weighted_index,
        sig="a, q, weights, /, axis=None, keepdims=False, nan=False, percent=False",
        pyname="quantile_weighted_index", nondiff=True, shape=shape_fresh,
        doc="runtime helper: the flat index of the element np.quantile(..., weights=, "
            "method='inverted_cdf') selects.")

_def_quantile("quantile", np.quantile)
_def_quantile("percentile", np.percentile, percent=True)
_def_quantile("median", np.median, median=True)
_def_quantile("nanquantile", np.nanquantile, nan=True)
_def_quantile("nanpercentile", np.nanpercentile, nan=True, percent=True)
_def_quantile("nanmedian", np.nanmedian, nan=True, median=True)

_QOPTS = "axis=None, method='linear', keepdims=False, nan=False, percent=False"
# quantile_tangent(t, a, q) is linear in t; in q it moves the interpolation
# weights: d/dq is quantile_tangent(t, a, q, slope=True) (zero again when
# slope is set: the value is piecewise linear in q).  quantile_adjoint is its
# transpose.  a only supplies the sort order (piecewise constant).
def _q_moves(q, kw):
    return q is not None and not (isinstance(kw.get("slope"), Const) and kw["slope"].value)


def _qt_vjp(em, h, out, t, a, q, **kw):
    ct_q = None
    if _q_moves(q, kw):
        ct_q = em.call("lead_sum", em.multiply(h, em.call("quantile_tangent", t, a, q,
                                                          **kw, slope=Const(True))), q)
    return [em.call("quantile_adjoint", h, a, q, **kw), None, ct_q]


def _qt_jvp(em, dots, out, t, a, q, **kw):
    total = _lin(lambda d: em.call("quantile_tangent", d, a, q, **kw), dots[0])
    if dots[2] is not None and _q_moves(q, kw):
        s = em.call("quantile_tangent", t, a, q, **kw, slope=Const(True))
        total = em.add_ct(total, em.multiply(s, em.call("lead_broadcast", dots[2], s)))
    return total


def _qa_vjp(em, h, out, g, a, q, **kw):
    ct_q = None
    if _q_moves(q, kw):
        s = em.call("quantile_tangent", h, a, q, **kw, slope=Const(True))
        ct_q = em.call("lead_sum", em.multiply(g, s), q)
    return [em.call("quantile_tangent", h, a, q, **kw), None, ct_q]


def _qa_jvp(em, dots, out, g, a, q, **kw):
    total = _lin(lambda d: em.call("quantile_adjoint", d, a, q, **kw), dots[0])
    if dots[2] is not None and _q_moves(q, kw):
        gd = em.multiply(g, em.call("lead_broadcast", dots[2], g))
        total = em.add_ct(total, em.call("quantile_adjoint", gd, a, q, **kw,
                                         slope=Const(True)))
    return total


_QOPTS_S = _QOPTS + ", slope=False"
defprim("quantile_tangent", runtime.quantile_tangent, sig=f"t, a, q, /, {_QOPTS_S}",
        pyname="quantile_tangent", vjp=_qt_vjp, jvp=_qt_jvp, shape=shape_fresh,
        doc="runtime helper: the tangent of np.quantile and its relatives (slope=True: "
            "their derivative with respect to q).")
defprim("quantile_adjoint", runtime.quantile_adjoint, sig=f"g, a, q, /, {_QOPTS_S}",
        pyname="quantile_adjoint", vjp=_qa_vjp, jvp=_qa_jvp,
        shape=lambda args, kwargs: shape_of(args[1]),
        doc="runtime helper: the adjoint of np.quantile and its relatives.")
def_linear_helper("lead_sum", runtime.lead_sum, "x, q, /",
                  lambda em, h, _x, q: em.call("lead_broadcast", h, _x), shape_arg=None,
                  doc="runtime helper: a quantile's cotangent summed over lanes to q's shape.")
def_linear_helper("lead_broadcast", runtime.lead_broadcast, "h, x, /",
                  lambda em, g, _h, x: em.call("lead_sum", g, _h),
                  doc="runtime helper: q's tangent broadcast over the lanes (lead_sum's "
                      "adjoint).")


# ---------------------------------------------------------------- cov, corrcoef


def _cov_impl(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None,
              dtype=None):
    return np.cov(m, y, rowvar, bias, ddof, fweights, aweights, dtype=dtype)


def _cov_setup(em, m, y, rowvar=None, bias=None, ddof=None, fweights=None, aweights=None,
               dtype=None):
    """(X, centred X, centred X times the weights, divisor)."""
    X = em.call("cov_rows", m, y, **options(rowvar=rowvar, dtype=dtype))
    norm = options(bias=bias, ddof=ddof, fweights=fweights, aweights=aweights)
    if _absent(fweights) and _absent(aweights):
        fact = em.call("cov_normalization", X, **norm)
        Xc = em.subtract(X, em.mean(X, axis=1, keepdims=True))
        return Xc, Xc, fact, None
    w, fact = em.call("cov_normalization", X, **norm)
    avg = em.divide(em.sum(em.multiply(X, w), axis=1, keepdims=True), em.sum(w))
    Xc = em.subtract(X, avg)
    return Xc, em.multiply(Xc, w), fact, w


def _cov_vjp(em, g, out, m, y, **kw):
    Xc, Xw, fact, w = _cov_setup(em, m, y, **kw)
    G = em.atleast_2d(g)
    # C = Xc diag(w) conj(Xc)^T / fact: (G + conj(G)^T) conj(Xw) / fact (the
    # centring's adjoint leaves it alone: its rows are orthogonal to w)
    ct_X = em.divide(em.matmul(em.add(G, em.conj_if_complex(em.transpose(G))),
                               em.conj_if_complex(Xw)), fact)
    cts = em.call("cov_rows_adjoint", ct_X, m, y, **options(rowvar=kw.get("rowvar")))
    if _absent(y):
        return [cts, None]
    return list(cts)


def _cov_tangent(em, dm, dy, m, y, **kw):
    Xc, Xw, fact, w = _cov_setup(em, m, y, **kw)
    dX = em.call("cov_rows", _fill(em, dm, m), Const(None) if _absent(y) else _fill(em, dy, y),
                 **options(rowvar=kw.get("rowvar"), dtype=kw.get("dtype")))
    if w is None:
        dXc = em.subtract(dX, em.mean(dX, axis=1, keepdims=True))
    else:
        dXc = em.subtract(dX, em.divide(em.sum(em.multiply(dX, w), axis=1, keepdims=True),
                                        em.sum(w)))
    P = em.matmul(dXc, em.transpose(em.conj_if_complex(Xw)))
    return em.divide(em.add(P, em.conj_if_complex(em.transpose(P))), fact)


def _cov_jvp(em, dots, out, m, y, **kw):
    return em.reshape(_cov_tangent(em, dots[0], dots[1], m, y, **kw), shape=em.shape(out))


defprim("cov", _cov_impl, sig="m, y, /, rowvar=True, bias=False, ddof=None, fweights=None, "
                             "aweights=None, dtype=None",
        aliases=(np.cov,), canonicalize=keyword_operands(np.cov, ("m", "y")),
        vjp=_cov_vjp, jvp=_cov_jvp, shape=shape_fresh,
        printer=keyword_printer("np.cov", ("m", "y")),
        doc="np.cov: differentiable in m and y; fweights/aweights are data.")
defprim("cov_rows", runtime.cov_rows, sig="m, y, /, rowvar=True, dtype=None", pyname="cov_rows",
        vjp=lambda em, h, out, m, y, **kw: (
            [em.call("cov_rows_adjoint", h, m, y, **options(rowvar=kw.get("rowvar"))), None]
            if _absent(y) else list(em.call("cov_rows_adjoint", h, m, y,
                                            **options(rowvar=kw.get("rowvar"))))),
        jvp=lambda em, dots, out, m, y, **kw: em.call(
            "cov_rows", _fill(em, dots[0], m),
            Const(None) if _absent(y) else _fill(em, dots[1], y), **kw),
        shape=shape_fresh, linear=True,
        doc="runtime helper: the variables-by-observations matrix np.cov works on.")


def _cov_rows_adjoint_vjp(em, hs, outs, G, m, y, rowvar=None):
    hs = hs if isinstance(hs, tuple) else (hs,)
    if all(h is None for h in hs):
        return [None, None, None]
    h_m = _fill(em, hs[0], m)
    h_y = Const(None) if _absent(y) else _fill(em, hs[1], y)
    return [em.call("cov_rows", h_m, h_y, **options(rowvar=rowvar)), None, None]


defprim("cov_rows_adjoint", runtime.cov_rows_adjoint, sig="G, m, y, /, rowvar=True",
        pyname="cov_rows_adjoint", vjp=_cov_rows_adjoint_vjp,
        jvp=lambda em, dots, outs, G, m, y, **kw: _lin(
            lambda t: em.call("cov_rows_adjoint", t, m, y, **kw), dots[0]),
        nouts=lambda args, kwargs: 1 if _absent(args[2]) else 2, linear=True,
        shape=lambda args, kwargs: (shape_of(args[1]) if _absent(args[2])
                                    else (shape_of(args[1]), shape_of(args[2]))),
        doc="runtime helper: the adjoint of cov_rows.")
defprim("cov_normalization", runtime.cov_normalization,
        sig="X, /, bias=False, ddof=None, fweights=None, aweights=None", nondiff=True,
        pyname="cov_normalization",
        nouts=lambda args, kwargs: 1 if _absent(kwargs.get("fweights")) and _absent(
            kwargs.get("aweights")) else 2,
        shape=lambda args, kwargs: (SCALAR if _absent(kwargs.get("fweights")) and _absent(
            kwargs.get("aweights")) else (fresh_shape(), SCALAR)),
        doc="runtime helper: np.cov's divisor (and weights) -- data.")


def _corr_parts(em, x, y, rowvar=None, dtype=None):
    C = em.atleast_2d(em.cov(x, y, **options(rowvar=rowvar, dtype=dtype)))
    d = em.diagonal(C)
    s = em.sqrt(d)
    return C, d, em.outer(s, s)


def _corrcoef_vjp(em, g, out, x, y, rowvar=None, dtype=None):
    C, d, ss = _corr_parts(em, x, y, rowvar, dtype)
    R = em.atleast_2d(out)
    G = em.atleast_2d(g)
    GR = em.multiply(G, R)
    ct_d = em.divide(em.multiply(em.add(em.sum(GR, axis=1), em.sum(GR, axis=0)), -0.5), d)
    ct_C = em.add(em.divide(G, ss), em.diag(ct_d))
    c = em.cov(x, y, **options(rowvar=rowvar, dtype=dtype))
    return _cov_vjp(em, em.reshape(ct_C, shape=em.shape(c)), c, x, y,
                    **options(rowvar=rowvar, dtype=dtype))


def _corrcoef_jvp(em, dots, out, x, y, rowvar=None, dtype=None):
    C, d, ss = _corr_parts(em, x, y, rowvar, dtype)
    R = em.atleast_2d(out)
    dC = _cov_tangent(em, dots[0], dots[1], x, y, **options(rowvar=rowvar, dtype=dtype))
    r = em.divide(em.diagonal(dC), d)          # d(log d)
    half = em.multiply(em.add(em.expand_dims(r, axis=1), em.expand_dims(r, axis=0)), 0.5)
    t = em.subtract(em.divide(dC, ss), em.multiply(R, half))
    return em.reshape(t, shape=em.shape(out))


def _corrcoef_impl(x, y=None, rowvar=True, dtype=None):
    return np.corrcoef(x, y, rowvar, dtype=dtype)


defprim("corrcoef", _corrcoef_impl, sig="x, y, /, rowvar=True, dtype=None",
        aliases=(np.corrcoef,), canonicalize=keyword_operands(np.corrcoef, ("x", "y")),
        vjp=_corrcoef_vjp, jvp=_corrcoef_jvp, shape=shape_fresh,
        printer=keyword_printer("np.corrcoef", ("x", "y")),
        doc="np.corrcoef: C / sqrt(d_i d_j) differentiated through np.cov's rule.")


# ---------------------------------------------------------------- nan-ignoring reductions


def _nan_zeroed(em, x, t):
    """``t`` with the entries where ``x`` is NaN set to 0."""
    return em.where(em.isnan(x), 0, t)


def _nan_count(em, x, axis, keepdims):
    kw = _red_kw(axis, keepdims)
    kw["dtype"] = em.result_type(x)
    return em.sum(em.logical_not(em.isnan(x)), **kw)


def _nansum_vjp(em, g, out, a, axis=None, dtype=None, keepdims=None):
    return [_nan_zeroed(em, a, em.unreduce(g, a, **_red_kw(axis, keepdims)))]


def _nansum_jvp(em, dots, out, a, axis=None, dtype=None, keepdims=None):
    return em.sum(_nan_zeroed(em, a, dots[0]), **_red_kw(axis, keepdims))


def _nanmean_vjp(em, g, out, a, axis=None, dtype=None, keepdims=None):
    g = em.divide(g, _nan_count(em, a, axis, keepdims))
    return [_nan_zeroed(em, a, em.unreduce(g, a, **_red_kw(axis, keepdims)))]


def _nanmean_jvp(em, dots, out, a, axis=None, dtype=None, keepdims=None):
    return em.divide(_nansum_jvp(em, dots, out, a, axis, dtype, keepdims),
                     _nan_count(em, a, axis, keepdims))


_NANRED = "a, /, axis=None, dtype=None, keepdims=None"
defprim("nansum", np.nansum, sig=_NANRED, vjp=_nansum_vjp, jvp=_nansum_jvp, shape=_reduced_shape,
        doc="np.nansum: NaN entries get derivative 0.")
defprim("nanmean", np.nanmean, sig=_NANRED, vjp=_nanmean_vjp, jvp=_nanmean_jvp,
        shape=_reduced_shape, doc="np.nanmean: the cotangent divided by the count of non-NaNs.")
defprim("nanmax", np.nanmax, sig="a, /, axis=None, keepdims=None", vjp=_maxmin_vjp,
        jvp=_maxmin_jvp, shape=_reduced_shape,
        doc="np.nanmax: like max (NaNs are never the maximum; ties split equally).")
defprim("nanmin", np.nanmin, sig="a, /, axis=None, keepdims=None", vjp=_maxmin_vjp,
        jvp=_maxmin_jvp, shape=_reduced_shape,
        doc="np.nanmin: like min (NaNs are never the minimum; ties split equally).")


def _nan_where(em, a, where):
    keep = em.logical_not(em.isnan(a))
    return keep if not _given_mask(where) else em.logical_and(keep, where)


def _nansum_masked(em, a, axis=None, dtype=None, keepdims=None, initial=None, where=None):
    kw = _red_kw(_opt(axis), _opt(keepdims))
    if _opt(dtype) is not None:
        kw["dtype"] = _opt(dtype)
    if initial is not None and _opt(initial) is not None:
        kw["initial"] = initial
    return em.sum(a, where=_nan_where(em, a, where), **kw)


def _nanmean_masked(em, a, axis=None, dtype=None, keepdims=None, *, where=None):
    return _mean_where(em, a, axis, dtype, keepdims, _nan_where(em, a, where))


# nansum / nanmean with where= (and nansum's initial=): masked sums, NaNs masked too
defprim("nansum_masked", None,
        sig="a, /, axis=None, dtype=None, keepdims=None, initial=None, where=True",
        expand=_nansum_masked, doc="np.nansum(..., where=, initial=): sum(a, where=mask & ~nan).")
defprim("nanmean_masked", None, sig="a, /, axis=None, dtype=None, keepdims=None, *, where=True",
        expand=_nanmean_masked, doc="np.nanmean(..., where=): mean(a, where=mask & ~nan).")
get("nansum").canonicalize = _route("nansum_masked", ("where", "initial"))
get("nanmean").canonicalize = _route("nanmean_masked", ("where",))


def _nan_centered(em, a, axis, dtype):
    kw = _keep_kw(axis)
    return _nan_zeroed(em, a, em.subtract(a, em.nanmean(a, **kw)))


# For complex a (as np.var): the result is real, d var = 2 Re(conj(d) da) / dof,
# so the cotangent is 2 conj(d) Re(g) / dof (conj/real_if_complex: nothing for real a).
def _nanvar_vjp(em, g, out, a, axis=None, dtype=None, ddof=None, keepdims=None):
    dof = em.subtract(_nan_count(em, a, axis, keepdims), ddof if ddof is not None else 0)
    g = em.unreduce(em.divide(em.real_if_complex(g), dof), a, **_red_kw(axis, keepdims))
    d = em.conj_if_complex(_nan_centered(em, a, axis, dtype))
    # zeroed last: an all-NaN slice has dof 0, so g / dof is NaN there
    return [_nan_zeroed(em, a, em.multiply(em.multiply(d, g), 2.0))]


def _nanvar_jvp(em, dots, out, a, axis=None, dtype=None, ddof=None, keepdims=None):
    dof = em.subtract(_nan_count(em, a, axis, keepdims), ddof if ddof is not None else 0)
    d = em.conj_if_complex(_nan_centered(em, a, axis, dtype))
    s = em.sum(em.real_if_complex(em.multiply(d, _nan_zeroed(em, a, dots[0]))),
               **_red_kw(axis, keepdims))
    return em.divide(em.multiply(s, 2.0), dof)


def _nanstd_denominator(em, a, out, axis, ddof, keepdims):
    dof = em.subtract(_nan_count(em, a, axis, keepdims), ddof if ddof is not None else 0)
    return em.multiply(em.where(em.equal(out, 0), 1, out), dof)


def _nanstd_vjp(em, g, out, a, axis=None, dtype=None, ddof=None, keepdims=None):
    g = em.divide(em.real_if_complex(g), _nanstd_denominator(em, a, out, axis, ddof, keepdims))
    g = em.unreduce(g, a, **_red_kw(axis, keepdims))
    d = em.conj_if_complex(_nan_centered(em, a, axis, dtype))
    # through norm_scale (primitives/linalg.py), as np.std: a second derivative
    # at a constant group (std exactly 0) moving x - mean is refused, not 0
    r = em.unreduce(out, a, **_red_kw(axis, keepdims))
    p = _nan_zeroed(em, a, em.call("norm_scale", d, g, r, what="np.nanstd"))
    # centred again over the finite entries (it is, up to rounding), as np.std's
    # rule: reversed again, a direction not moving x - nanmean (a shift, a
    # group of one) is not refused
    mean_p = em.divide(em.sum(p, **_keep_kw(axis)), _nan_count(em, a, axis, True))
    return [_nan_zeroed(em, a, em.subtract(p, mean_p))]


def _nanstd_jvp(em, dots, out, a, axis=None, dtype=None, ddof=None, keepdims=None):
    d = em.conj_if_complex(_nan_centered(em, a, axis, dtype))
    r = em.unreduce(out, a, **_red_kw(axis, keepdims))
    s = em.sum(em.real_if_complex(em.call("norm_scale", d, _nan_zeroed(em, a, dots[0]), r,
                                          what="np.nanstd")),
               **_red_kw(axis, keepdims))
    return em.divide(s, _nanstd_denominator(em, a, out, axis, ddof, keepdims))


_NANVAR = "a, /, axis=None, dtype=None, *, ddof=0, keepdims=None"
defprim("nanvar", np.nanvar, sig=_NANVAR, vjp=_nanvar_vjp, jvp=_nanvar_jvp,
        shape=_reduced_shape, doc="np.nanvar: 2 (x - nanmean) / (count - ddof), 0 at NaNs.")
defprim("nanstd", np.nanstd, sig=_NANVAR, vjp=_nanstd_vjp, jvp=_nanstd_jvp,
        shape=_reduced_shape,
        doc="np.nanstd: (x - nanmean) / ((count - ddof) std), 0 at NaNs and where std == 0.")


def _nanprod_vjp(em, g, out, a, axis=None, dtype=None, keepdims=None):
    ones = em.where(em.isnan(a), 1, a)
    return [_nan_zeroed(em, a, em.multiply(em.unreduce(g, a, **_red_kw(axis, keepdims)),
                                           _prod_others(em, ones, axis)))]


def _nanprod_jvp(em, dots, out, a, axis=None, dtype=None, keepdims=None):
    ones = em.where(em.isnan(a), 1, a)
    return em.sum(em.multiply(_nan_zeroed(em, a, dots[0]), _prod_others(em, ones, axis)),
                  **_red_kw(axis, keepdims))


defprim("nanprod", np.nanprod, sig=_NANRED, vjp=_nanprod_vjp, jvp=_nanprod_jvp,
        shape=_reduced_shape, doc="np.nanprod: prod with NaNs as 1 (exact at zeros), 0 at NaNs.")


defprim("nancumsum", np.nancumsum, sig="a, /, axis=None, dtype=None",
        vjp=lambda em, g, out, a, axis=None, dtype=None: [_nan_zeroed(
            em, a, em.call("reverse_cumsum", g, a, **options(axis=axis)))],
        jvp=lambda em, dots, out, a, axis=None, dtype=None: em.cumsum(
            _nan_zeroed(em, a, dots[0]), **options(axis=axis)),
        shape=shape_fresh, doc="np.nancumsum: cumsum with NaNs as 0 (derivative 0 there).")


def _nancumprod_vjp(em, g, out, a, axis=None, dtype=None):
    ones = em.where(em.isnan(a), 1, a)
    xs, ax = _scan_operand(em, ones, axis)
    ct = _cumprod_vjp_core(em, g, out, xs, ax)
    if _absent(axis):
        ct = em.reshape(ct, shape=em.shape(a))
    return [_nan_zeroed(em, a, ct)]


def _nancumprod_jvp(em, dots, out, a, axis=None, dtype=None):
    ones = em.where(em.isnan(a), 1, a)
    xs, ax = _scan_operand(em, ones, axis)
    t = _nan_zeroed(em, a, dots[0])
    return _cumprod_jvp_core(em, em.ravel(t) if _absent(axis) else t, out, xs, ax)


defprim("nancumprod", np.nancumprod, sig="a, /, axis=None, dtype=None", vjp=_nancumprod_vjp,
        jvp=_nancumprod_jvp, shape=shape_fresh,
        doc="np.nancumprod: cumprod with NaNs as 1 (exact at zeros), 0 at NaNs.")


# ---------------------------------------------------------------- products

def_bilinear("kron", np.kron, runtime.kron_vjp_a, runtime.kron_vjp_b,
             doc="np.kron: bilinear; each operand's cotangent contracts g's blocks with the "
                 "other operand.")
def_bilinear("flat_dot", runtime.flat_dot, runtime.flat_dot_vjp_a, runtime.flat_dot_vjp_b,
             pyname="flat_dot",
             doc="runtime helper: the flattened dot product without conjugation.")


# np.vdot(a, b) = flat_dot(conj(a), b): real-bilinear, so its tangent is
# vdot(da, b) + vdot(a, da); with c = conj(a), c's cotangent is g * b and a's
# the conjugate of that (conjugation is its own transpose), b's g * conj(a).


def _vdot_vjp(em, g, out, a, b):
    c = em.conj_if_complex(a)
    return [em.conj_if_complex(em.flat_dot_vjp_a(g, c, b)), em.flat_dot_vjp_b(g, c, b)]


def _vdot_jvp(em, dots, out, a, b):
    da, db = dots
    t = None if da is None else em.vdot(da, b)
    return t if db is None else em.add_ct(t, em.vdot(a, db))


defprim("vdot", np.vdot, sig="a, b, /", vjp=_vdot_vjp, jvp=_vdot_jvp, shape=shape_fresh,
        doc="np.vdot: the flattened dot product, the first operand conjugated (complex "
            "operands by the transpose convention).")
def_bilinear("cross", np.cross, runtime.cross_vjp_a, runtime.cross_vjp_b,
             options="axisa=-1, axisb=-1, axisc=-1, axis=None",
             doc="np.cross (3-vectors; 2-vectors as 3-vectors with a zero third component): "
                 "<g, a x b> = <a, b x g> = <b, g x a>.")
def_bilinear("convolve", np.convolve, runtime.convolve_vjp_a, runtime.convolve_vjp_b,
             options="mode='full'",
             doc="np.convolve (full, same, valid): the cotangents are correlations of the "
                 "full-length cotangent with the other operand.")
def_bilinear("correlate", np.correlate, runtime.correlate_vjp_a, runtime.correlate_vjp_b,
             options="mode='valid'",
             doc="np.correlate (full, same, valid): np.convolve with the second operand "
                 "reversed.")
