"""scipy.integrate.odeint: the solution of ``dy/dt = func(y, t, *args)`` at
the times ``t``, differentiable in ``y0``, ``t`` and ``args``; and
scipy.integrate.solve_ivp with ``t_eval`` given (its ``.t`` and ``.y``, in
``y0``, ``t_span[0]``, ``t_eval`` and ``args``), by the same equations.

Imported only when a program uses SciPy's integrate module
(``core.OPTIONAL_RULES``).  ``func`` must be a function known while
compiling (a ``def`` at module level, or a lambda or ``def`` inside the
differentiated function that reads none of its variables): the values it
reads from the differentiated function go through ``args=(...)``, as
autograd and SciPy ask (a closure over them is refused).  The value is
SciPy's own (``odeint`` calls ``func``); the derivatives solve the adjoint
(reverse) or sensitivity (forward) equations with ``odeint`` too, at the
user's ``rtol``/``atol``, calling s2sgrad's vjp/jvp of ``func``
(``runtime_ode``'s module doc has the equations).  Their accuracy is the
solver's: a gradient agrees with finite differences to
about ``rtol`` (relative), not to rounding.  Second derivatives through
odeint and solve_ivp are refused, naming the user's line, the reason and
what to do instead (the derivative helpers are opaque; see ``_SECOND``).

``Dfun``, ``full_output``, ``ml``/``mu`` (banded Jacobians) and ``tcrit``
are refused with a message; ``tfirst=True`` (``func(t, y, ...)``) works.
"""
from __future__ import annotations

import inspect

import scipy.integrate as si

from .. import runtime
from ..errors import S2SGradError
from ..ir import Const
from .core import SCALAR, defprim, get, shape_fresh, shape_of

_OPTIONS = "rtol=None, atol=None, h0=0.0, hmax=0.0, hmin=0.0, mxstep=0, mxordn=12, " \
           "mxords=5, printmessg=0, tfirst=False"
_ALLOWED = {"rtol", "atol", "h0", "hmax", "hmin", "mxstep", "mxordn", "mxords", "printmessg",
            "tfirst", "ixpr", "mxhnil"}



def _extra_args(extra, seq_type):
    """The values of an ``args=`` tuple (a tuple made in the function or a
    constant one) as a list; None for anything else."""
    if isinstance(extra, seq_type):
        return list(extra.items)
    if isinstance(extra, Const) and isinstance(extra.value, tuple):
        return [Const(v) for v in extra.value]
    return None

def _canonicalize(args, kwargs):
    """``odeint(func, y0, t, args=(a, b), rtol=...)`` -> operands ``(y0, t,
    a, b)`` and options ``func=<the function>, rtol=...``."""
    from ..lower.functional import function_object
    from ..lower.values import Seq
    ba = inspect.signature(si.odeint).bind(*args, **kwargs)
    a = ba.arguments
    func = function_object(a.pop("func"))
    if func is None:
        raise S2SGradError(
            "scipy.integrate.odeint's right-hand side must be a function that reads no "
            "variable of the differentiated function (a module-level def, or a lambda without "
            "free variables); pass the values it reads through args=(...), e.g. "
            "odeint(lambda y, t, a: -a * y, y0, t, args=(a,))")
    y0, t = a.pop("y0"), a.pop("t")
    extra = _extra_args(a.pop("args", Const(())), Seq)
    if extra is None:
        raise S2SGradError("scipy.integrate.odeint: pass args as a tuple, e.g. args=(a, b)")
    opts = {"func": Const(func)}
    for k, v in a.items():
        if k in _ALLOWED:
            if k in ("ixpr", "mxhnil"):
                continue                  # diagnostics only
            opts[k] = v
        elif not (isinstance(v, Const) and (v.value is None or v.value == 0)):
            raise S2SGradError(f"scipy.integrate.odeint with {k}= is not supported (the "
                               f"derivative solves its own equations); leave it out")
    return [y0, t] + extra, opts


def _odeint_vjp(em, g, out, y0, t, *args, **opts):
    # the adjoint method (runtime_ode.ode_adjoint): cotangents of y0, t and args
    return list(em.call("ode_adjoint", g, out, y0, t, *args, **opts))


def _odeint_jvp(em, dots, out, y0, t, *args, **opts):
    # the sensitivity equations (runtime_ode.ode_tangent)
    if all(d is None for d in dots):
        return None
    return em.call("ode_tangent", out, y0, t, *args,
                   *[Const(None) if d is None else d for d in dots],
                   nargs=Const(len(args)), **opts)


defprim("odeint", si.odeint, sig=f"y0, t, /, *args, func, {_OPTIONS}",
        canonicalize=_canonicalize, vjp=_odeint_vjp, jvp=_odeint_jvp, shape=shape_fresh,
        pyname="ode_solve", alloc=True,
        doc="scipy.integrate.odeint(func, y0, t, args): derivatives in y0, t and args by "
            "the adjoint (reverse) and sensitivity (forward) equations, solved by odeint at "
            "the user's tolerances.")
defprim("ode_adjoint", runtime.ode_adjoint, sig=f"g, ys, y0, t, /, *args, func, {_OPTIONS}",
        opaque=True, pyname="ode_adjoint", nouts=lambda args, kwargs: len(args) - 2,
        shape=shape_fresh,
        doc="runtime helper: odeint's cotangents by the adjoint method (not differentiable "
            "again).")
defprim("ode_tangent", runtime.ode_tangent,
        sig=f"ys, y0, t, /, *operands, nargs, func, {_OPTIONS}", opaque=True,
        pyname="ode_tangent", shape=shape_fresh,
        doc="runtime helper: odeint's tangent by the sensitivity equations (not "
            "differentiable again).")


# ---------------------------------------------------------------- solve_ivp
#
# solve_ivp(fun, (t0, t1), y0, method=..., t_eval=ts, args=(...), rtol=...,
# atol=...): its result's .t (ts) and .y (shape (n, len(ts))), with the
# derivatives of odeint's on the times [t0] + ts (runtime_ode.ivp_*).

_IVP_OPTIONS = {"rtol", "atol", "max_step", "first_step", "min_step"}


def _ivp_canonicalize(args, kwargs):
    """``solve_ivp(fun, t_span, y0, t_eval=ts, args=(a,), ...)`` -> operands
    ``(y0, t0, t1, ts, a)`` and options ``func=, method=, rtol=, ...``."""
    from ..lower.functional import function_object
    from ..lower.values import Seq
    ba = inspect.signature(si.solve_ivp).bind(*args, **kwargs)
    a = dict(ba.arguments)
    options = a.pop("options", {})
    func = function_object(a.pop("fun"))
    if func is None:
        raise S2SGradError(
            "scipy.integrate.solve_ivp's right-hand side must be a function that reads no "
            "variable of the differentiated function (a module-level def, or a lambda without "
            "free variables); pass the values it reads through args=(...)")
    span, y0 = a.pop("t_span"), a.pop("y0")
    if isinstance(span, Seq) and len(span.items) == 2:
        t0, t1 = span.items
    elif isinstance(span, Const) and isinstance(span.value, (tuple, list)) and \
            len(span.value) == 2:
        t0, t1 = Const(span.value[0]), Const(span.value[1])
    else:
        raise S2SGradError("scipy.integrate.solve_ivp: pass t_span as a pair, e.g. (0.0, T)")
    t_eval = a.pop("t_eval", Const(None))
    if isinstance(t_eval, Const) and t_eval.value is None:
        raise S2SGradError("scipy.integrate.solve_ivp without t_eval= is not supported (the "
                           "output times would be the solver's steps); pass t_eval=times")
    extra = a.pop("args", Const(None))
    if isinstance(extra, Seq):
        extra = list(extra.items)
    elif isinstance(extra, Const) and isinstance(extra.value, tuple):
        extra = [Const(v) for v in extra.value]
    elif isinstance(extra, Const) and extra.value is None:
        extra = []
    else:
        raise S2SGradError("scipy.integrate.solve_ivp: pass args as a tuple, e.g. args=(a, b)")
    opts = {"func": Const(func)}
    method = a.pop("method", Const("RK45"))
    if not (isinstance(method, Const) and isinstance(method.value, str)):
        raise S2SGradError("scipy.integrate.solve_ivp: pass method= as a string ('RK45', "
                           "'LSODA', ...)")
    opts["method"] = method
    for k, v in a.items():          # dense_output, events, vectorized: their defaults only
        if not (isinstance(v, Const) and v.value in (None, False)):
            raise S2SGradError(f"scipy.integrate.solve_ivp with {k}= is not supported; "
                               f"leave it out (pass t_eval= for the output times)")
    for k, v in options.items():
        if k not in _IVP_OPTIONS:
            raise S2SGradError(f"scipy.integrate.solve_ivp with {k}= is not supported (the "
                               f"derivative solves its own equations); leave it out")
        opts[k] = v
    return [y0, t0, t1, t_eval] + extra, opts


def _ivp_vjp(em, g, out, y0, t0, t1, t_eval, *args, **opts):
    g_t, g_y = g
    t_out, ys = out
    return list(em.call("ivp_adjoint", Const(None) if g_t is None else g_t,
                        Const(None) if g_y is None else g_y, t_out, ys, y0, t0, t1, t_eval,
                        *args, **opts))


def _ivp_jvp(em, dots, out, y0, t0, t1, t_eval, *args, **opts):
    if all(d is None for d in dots):
        return None
    t_out, ys = out
    return em.call("ivp_tangent", t_out, ys, y0, t0, t1, t_eval, *args,
                   *[Const(None) if d is None else d for d in dots],
                   nargs=Const(len(args)), **opts)


_IVP_SIG = "y0, t0, t1, t_eval, /, *args, func, method='RK45', rtol=None, atol=None, " \
           "max_step=None, first_step=None, min_step=None"
defprim("solve_ivp", si.solve_ivp, sig=_IVP_SIG, canonicalize=_ivp_canonicalize,
        vjp=_ivp_vjp, jvp=_ivp_jvp, nouts=2, out_fields=("t", "y"), shape=shape_fresh,
        pyname="ivp_solve", alloc=True,
        doc="scipy.integrate.solve_ivp(fun, t_span, y0, t_eval=ts, args): .t and .y, "
            "differentiable in y0, t_span[0], t_eval and args (odeint's adjoint and "
            "sensitivity equations on the times [t0] + ts).")
defprim("ivp_adjoint", runtime.ivp_adjoint,
        sig="g_t, g_y, t_out, ys, y0, t0, t1, t_eval, /, *args, func, method='RK45', "
            "rtol=None, atol=None, max_step=None, first_step=None, min_step=None",
        opaque=True, pyname="ivp_adjoint", nouts=lambda args, kwargs: len(args) - 4,
        shape=shape_fresh,
        doc="runtime helper: solve_ivp's cotangents by the adjoint method (not "
            "differentiable again).")
defprim("ivp_tangent", runtime.ivp_tangent,
        sig="t_out, ys, y0, t0, t1, t_eval, /, *operands, nargs, func, method='RK45', "
            "rtol=None, atol=None, max_step=None, first_step=None, min_step=None",
        opaque=True, pyname="ivp_tangent", nouts=2, shape=shape_fresh,
        doc="runtime helper: solve_ivp's tangents by the sensitivity equations (not "
            "differentiable again).")


# A second derivative through odeint/solve_ivp would differentiate these
# helpers: ODE solves at run time (runtime_ode.py) that call s2sgrad's
# vjp/jvp of func, not generated code s2sgrad can differentiate again.  Its
# equations (the sensitivities of the adjoint system, with func's second
# derivatives and the jumps at every output time) are not implemented.
_SECOND = ("a second derivative through scipy.integrate.{what} is not supported: its first "
           "derivative is itself an ODE solve at run time (the {kind} equations, "
           "s2sgrad/runtime_ode.py), not generated code s2sgrad can differentiate again; for "
           "a Hessian, write the integrator in NumPy inside the function (a fixed-step RK4 "
           "loop differentiates to every order, s2sgrad.checkpointed keeps its memory small), "
           "or take finite differences of s2sgrad.grad")
for _name, _what, _kind in (("ode_adjoint", "odeint", "adjoint"),
                            ("ode_tangent", "odeint", "sensitivity"),
                            ("ivp_adjoint", "solve_ivp", "adjoint"),
                            ("ivp_tangent", "solve_ivp", "sensitivity")):
    get(_name).no_derivative = _SECOND.format(what=_what, kind=_kind)


# ------------------------------------------------------------ quadrature of samples
#
# scipy.integrate.trapezoid is np.trapezoid (same signature and formula: its
# rules); cumulative_trapezoid is SciPy's cumsum(d * (y[1:] + y[:-1]) / 2.0)
# along the axis (d = dx or np.diff(x)), written with differentiable primitives.

from .core import register_object  # noqa: E402

if hasattr(si, "trapezoid"):
    register_object(si.trapezoid, get("trapezoid"))


def _cumtrapz(em, y, x=None, dx=Const(1.0), axis=Const(-1), initial=None):
    if not isinstance(axis, Const) or not isinstance(axis.value, int):
        raise S2SGradError("scipy.integrate.cumulative_trapezoid: axis must be a constant "
                           "integer")
    if initial is not None and not (isinstance(initial, Const) and initial.value in (None, 0)):
        raise S2SGradError("scipy.integrate.cumulative_trapezoid: initial must be 0 or None "
                           "(as SciPy requires)")
    ax = axis.value
    yl = em.moveaxis(y, ax, -1)
    hi = em.call("getitem", yl, _params={"index": (Ellipsis, slice(1, None))})
    lo = em.call("getitem", yl, _params={"index": (Ellipsis, slice(None, -1))})
    if x is None or (isinstance(x, Const) and x.value is None):
        d = dx
    else:
        # a 1-d x runs along the axis (the last one here); with another axis
        # x's rank decides SciPy's layout, which is not known while compiling
        if ax != -1:
            raise S2SGradError("scipy.integrate.cumulative_trapezoid: x= with an axis other "
                               "than -1 is not supported; put the axis last with np.moveaxis "
                               "(on y and an x of y's rank)")
        d = em.diff(x, Const(None), Const(None), axis=Const(-1))
    res = em.cumsum(em.divide(em.multiply(d, em.add(hi, lo)), 2.0), axis=-1)
    if initial is not None and not (isinstance(initial, Const) and initial.value is None):
        first = em.multiply(em.call("getitem", yl, _params={"index": (Ellipsis, slice(0, 1))}),
                            0.0)
        res = em.concatenate(first, res, axis=-1)
    return em.moveaxis(res, -1, ax)


if hasattr(si, "cumulative_trapezoid"):
    from .core import defcomposite  # noqa: E402
    defcomposite("scipy.integrate.cumulative_trapezoid", si.cumulative_trapezoid,
                 sig="y, x=None, dx=1.0, axis=-1, initial=None", expand=_cumtrapz,
                 doc="scipy.integrate.cumulative_trapezoid: cumsum(d (y[1:] + y[:-1]) / 2) "
                     "along the axis (initial 0 or None).")


# scipy.integrate.simpson(y, x=None, *, dx=1.0, axis=-1) is linear in y: its
# tangent is simpson of the tangent, its cotangent g times the weights
# w_j = simpson(e_j) along the axis (runtime helper simpson_ct); x (1-d, or
# None) and dx are data -- a differentiated x is refused.

def _simpson_jvp(em, dots, out, y, x=None, **kw):
    return None if dots[0] is None else em.call("simpson", dots[0], x, **kw)


def _simpson_vjp(em, g, out, y, x=None, **kw):
    return [em.call("simpson_ct", g, y, x, **kw), None]


if hasattr(si, "simpson"):
    defprim("simpson", si.simpson, sig="y, x=None, /, *, dx=1.0, axis=-1",
            pyname="scipy.integrate.simpson", vjp=_simpson_vjp, jvp=_simpson_jvp,
            data_args=lambda i: i == 1, linear=True, shape=shape_fresh,
            doc="scipy.integrate.simpson: linear in y (x, dx data).")
    defprim("simpson_ct", runtime.simpson_ct, sig="g, y, x=None, /, *, dx=1.0, axis=-1",
            pyname="simpson_ct",
            vjp=lambda em, h, out, g, y, x=None, **kw: [em.call("simpson", h, x, **kw), None,
                                                        None],
            jvp=lambda em, dots, out, g, y, x=None, **kw: None if dots[0] is None
            else em.call("simpson_ct", dots[0], y, x, **kw),
            data_args=lambda i: i == 2, linear=True, shape=shape_fresh,
            doc="runtime helper: the cotangent of simpson's y (g times the weights; y is "
                "read for its shape only: derivative 0).")


# ---------------------------------------------------------------- quad
#
# quad(func, a, b, args=(theta,)) of the user's own function (as odeint's:
# known while compiling, the differentiated values passed through args=):
# (value, abserr) with value's derivatives d/da = -func(a), d/db = func(b),
# d/dtheta = int_a^b d func(x, theta) / d theta dx (runtime_ode.quad_grads:
# the integrand's gradient compiled by s2sgrad, integrated by quad_vec).
# abserr is SciPy's error estimate: data, refused if differentiated.

_QUAD_ALLOWED = {"epsabs", "epsrel", "limit", "points"}


def _quad_canonicalize(args, kwargs):
    from ..lower.functional import function_object
    from ..lower.values import Seq
    ba = inspect.signature(si.quad).bind(*args, **kwargs)
    a = dict(ba.arguments)
    func = function_object(a.pop("func"))
    if func is None:
        raise S2SGradError(
            "scipy.integrate.quad's integrand must be a function that reads no variable of "
            "the differentiated function (a module-level def, or a lambda without free "
            "variables); pass the values it reads through args=(...), e.g. "
            "quad(lambda x, th: np.exp(-th * x), 0.0, 1.0, args=(th,))")
    lo, hi = a.pop("a"), a.pop("b")
    given = a.pop("args", Const(()))
    extra = _extra_args(given, Seq)
    if extra is None:
        extra = [given]                  # args=theta: SciPy makes it (theta,)
    opts = {"func": Const(func)}
    for k, v in a.items():
        if k in _QUAD_ALLOWED:
            if not isinstance(v, Const):
                raise S2SGradError(f"scipy.integrate.quad's {k}= must be a constant")
            opts[k] = v
        elif not (isinstance(v, Const) and (v.value is None or v.value in (0, 50, False))):
            raise S2SGradError(f"scipy.integrate.quad with {k}= is not supported (weights, "
                               f"full output, complex integrands); leave it out")
    return [lo, hi] + extra, opts


def _quad_vjp(em, gs, outs, lo, hi, *args, **opts):
    g, g_err = gs
    if g_err is not None:
        raise S2SGradError("the error estimate scipy.integrate.quad returns is not "
                           "differentiated; use only its value: y, _ = quad(...)")
    if g is None:
        return [None] * (2 + len(args))
    parts = em.call("quad_grads", lo, hi, *args, **opts)
    cts = []
    for x, p in zip((lo, hi) + args, parts):
        cts.append(None if isinstance(x, Const) else em.multiply(g, p))
    return cts


def _quad_jvp(em, dots, outs, lo, hi, *args, **opts):
    if all(d is None for d in dots):
        return None
    parts = em.call("quad_grads", lo, hi, *args, **opts)
    total = None
    for d, p in zip(dots, parts):
        if d is not None:
            total = em.add_ct(total, em.sum(em.multiply(d, p)))
    return (total, None)


def _quad_sig_opts():
    return "func, epsabs=None, epsrel=None, limit=None, points=None"


defprim("quad", si.quad, sig=f"a, b, /, *args, {_quad_sig_opts()}",
        canonicalize=_quad_canonicalize, vjp=_quad_vjp, jvp=_quad_jvp,
        pyname="quad_solve", nouts=lambda args, kwargs: 2,
        shape=lambda args, kwargs: (SCALAR, SCALAR),
        doc="scipy.integrate.quad(func, a, b, args): (value, abserr); the value's "
            "derivatives in a, b (the integrand at the ends) and args (the integral of the "
            "integrand's gradient, compiled by s2sgrad and integrated by quad_vec).")
defprim("quad_grads", runtime.quad_grads, sig=f"a, b, /, *args, {_quad_sig_opts()}",
        opaque=True, pyname="quad_grads", nouts=lambda args, kwargs: len(args),
        shape=lambda args, kwargs: tuple(SCALAR if i < 2 else shape_of(a)
                                         for i, a in enumerate(args)),
        doc="runtime helper: the derivatives of scipy.integrate.quad's value in its ends "
            "and args (not differentiable again).")
get("quad_grads").no_derivative = (
    "the derivative of scipy.integrate.quad is itself an integral computed at run time "
    "(runtime_ode.quad_grads), not generated code s2sgrad can differentiate again; for a "
    "second derivative write the quadrature in NumPy (e.g. np.trapezoid on a fixed grid)")
