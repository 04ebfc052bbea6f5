"""scipy.integrate.odeint: the solution of ``dy/dt = func(y, t, *args)`` at
the times ``t``, differentiable in ``y0``, ``t`` and ``args``.

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
odeint are refused (the derivative helpers are opaque).

``Dfun``, ``full_output``, ``ml``/``mu`` (banded Jacobians) and ``tcrit``
are refused with a message; ``tfirst=True`` (``func(t, y, ...)``) works.
"""
from __future__ import annotations

import inspect

import scipy.integrate as si

from .. import runtime
from ..errors import S2SGradError
from ..ir import Const
from .core import defprim, shape_fresh

_OPTIONS = "rtol=None, atol=None, h0=0.0, hmax=0.0, hmin=0.0, mxstep=0, mxordn=12, " \
           "mxords=5, printmessg=0, tfirst=False"
_ALLOWED = {"rtol", "atol", "h0", "hmax", "hmin", "mxstep", "mxordn", "mxords", "printmessg",
            "tfirst", "ixpr", "mxhnil"}


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
    extra = a.pop("args", Const(()))
    if isinstance(extra, Seq):
        extra = list(extra.items)
    elif isinstance(extra, Const) and isinstance(extra.value, tuple):
        extra = [Const(v) for v in extra.value]
    else:
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
