"""Runtime helpers of ``scipy.integrate.odeint`` (primitives/scipy_integrate.py).

Part of :mod:`s2sgrad.runtime` (which re-exports every name in ``__all__``).
SciPy is imported inside the helpers, so it is needed only when a user's
function calls ``odeint``.  ``func`` is the user's own Python function (the
right-hand side ``dy/dt = func(y, t, *args)``): the value calls it as SciPy
does; the derivatives call s2sgrad's own vjp/jvp of it, compiled once per
function and set of differentiated arguments (:func:`_compiled`).

Derivatives are those of the exact flow, computed by solving another ODE
with ``odeint`` at the tolerances the user passed (``rtol``/``atol`` and the
step options), so they are as accurate as the solution itself -- not the
derivative of LSODA's discrete steps:

* reverse (:func:`ode_adjoint`), the adjoint sensitivity method: between two
  output times, backwards, ``y' = f``, ``a' = -a^T f_y``, ``p' = -a^T
  f_args`` starting at ``y(t_i)`` (the stored forward value, so the backward
  solve of ``y`` restarts on the forward trajectory at every output time),
  ``a`` the cotangent of ``y``, ``p`` of the arguments; each output's
  cotangent is added to ``a`` at its time.  The cotangent of an output time
  ``t_i`` (i > 0) is ``g_i . f(y_i, t_i)``; of the initial time ``t_0``,
  ``-a(t_0) . f(y_0, t_0)``.
* forward (:func:`ode_tangent`), the sensitivity equations: ``y' = f``,
  ``s' = f_y s + f_args args_dot`` from ``s(t_0) = y0_dot - f(y0, t0)
  t0_dot``; the output tangent is ``s(t_i) + f(y_i, t_i) t_dot_i``.

Neither is differentiable again (their primitives are opaque: a second
derivative through odeint is refused at compile time).
"""
from __future__ import annotations

import warnings
import weakref

import numpy as np

__all__ = ["ode_solve", "ode_adjoint", "ode_tangent", "ivp_solve", "ivp_adjoint", "ivp_tangent"]

# options of odeint passed to the solves of the derivative ODEs too
_SOLVER_OPTIONS = ("rtol", "atol", "mxstep", "hmax", "hmin", "mxordn", "mxords", "printmessg")


def _odeint():
    from scipy.integrate import odeint
    return odeint


def _solve(rhs, z0, ts, opts, what):
    """``odeint(rhs, z0, ts)`` for a derivative's equations; a solve that
    does not succeed (LSODA's step limit ``mxstep``, ...) raises rather than
    returning an inaccurate derivative."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        z, info = _odeint()(rhs, z0, ts, full_output=True, **opts)
    if info.get("message") != "Integration successful.":
        raise ValueError(f"the {what} equations of scipy.integrate.odeint/solve_ivp failed: "
                         f"{info.get('message', '')} (pass a larger mxstep=, or looser "
                         f"rtol/atol)")
    return z


def _call(func, tfirst):
    """``func`` as ``rhs(y, t, *args)`` (``tfirst=True``: the user wrote ``func(t, y, ...)``)."""
    if tfirst:
        return lambda y, t, *args: func(t, y, *args)
    return func


def ode_solve(y0, t, *args, func, tfirst=False, **opts):
    """``scipy.integrate.odeint(func, y0, t, args)``: the user's function
    called by SciPy, so the value is SciPy's."""
    return _odeint()(func, y0, t, args=tuple(args), tfirst=tfirst, **opts)


# func -> {(kind, wrt, tfirst): compiled vjp/jvp}; weak, so a function that
# goes away takes its compiled derivatives with it
_COMPILED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _compiled(func, kind, wrt, tfirst):
    per = _COMPILED.get(func)
    if per is None:
        per = _COMPILED[func] = {}
    key = (kind, wrt, tfirst)
    hit = per.get(key)
    if hit is None:
        import s2sgrad
        # tfirst: the time is the first parameter, the state the second
        w = tuple({0: 1, 1: 0}.get(i, i) for i in wrt) if tfirst else wrt
        w = w if len(w) > 1 else w[0]
        hit = per[key] = (s2sgrad.vjp if kind == "vjp" else s2sgrad.jvp)(func, wrt=w)
    return hit


def _as64(args):
    """The arguments with float64 for every real floating one: the derivative
    equations are solved in float64 (a float32 argument's rounded cotangents
    would be noise the solver resolves at tight tolerances, step by step)."""
    return tuple(np.asarray(a, dtype=np.float64) if a is not None and
                 np.issubdtype(np.result_type(a), np.floating) else a for a in args)


def _float_args(args):
    """Indices of the arguments that have derivatives (real floating values)."""
    return [k for k, a in enumerate(args)
            if np.issubdtype(np.result_type(a), np.floating)]


def _structured(v, like):
    """``v`` (a flat array) shaped as ``like``, the user function's result:
    a list/tuple of scalars, an array, or a scalar."""
    if isinstance(like, (list, tuple)):
        return type(like)(v[i] for i in range(len(like)))
    if np.ndim(like) == 0:
        return v.reshape(())[()]
    return v.reshape(np.shape(like))


def _flat(v):
    return np.ravel(np.asarray(v, dtype=float))


def _direct_halves(vf, call_args):
    """The generated forward and backward halves of the vjp ``vf`` for these
    arguments, to be called directly: ``(fwd, bwd)`` with ``fwd(leaves) ->
    (out, residuals)`` and ``bwd(residuals, ct) -> gradients of the wrt
    leaves``; None where the call is not the plain case (every argument one
    leaf, one array output), which then takes the public API.  The adjoint
    solve calls the right-hand side's vjp hundreds of times with arguments
    of one signature (a float64 state of fixed shape, a float time, the same
    args): the API's per-call work (binding, validation, signature, guards,
    pytrees) is done once here, at the first call, and the specialised code
    picked then is reused (the signature cannot change within the solve)."""
    from . import api
    bound = vf._bind(call_args, {})
    vf._validate(bound)
    specs = vf._specs(bound)
    c = vf._compiled(specs)
    leaves = vf._leaves(bound, specs)
    if len(leaves) != len(call_args) or any(a is not b for a, b in zip(leaves, call_args)) \
            or c.out_tree.kind != "leaf" or c.nout != 1 or c.nvalues != 1 or \
            any(type(a) is not np.ndarray for a in (leaves[i] for i in c.wrt_leaves)):
        return None
    globals_ = vf._globals()
    sf = api._pick(c, leaves, globals_)
    wrt = list(c.wrt_leaves)

    def fwd(leaves):
        res = api._run(sf, leaves)
        return res[0], res[1:]

    def bwd(leaves, out, residuals, ct):
        ct = np.asarray(ct, dtype=np.result_type(out)).reshape(np.shape(out))
        inputs = list(residuals) + [ct]
        gs = api._run(api._pick(c.backward, inputs, globals_), inputs)
        if not isinstance(gs, tuple):
            gs = (gs,)
        return [api._fix_grad(g, leaves[i], leaves) for g, i in zip(gs, wrt)]
    return fwd, bwd


def _rhs_vjp(func, tfirst, args, diff):
    """``(y, t, ct) -> (f(y, t), ct^T f_y, [ct^T f_arg for arg in diff])``."""
    wrt = (0,) + tuple(2 + k for k in diff)
    vf = _compiled(func, "vjp", wrt, tfirst)
    direct = []         # [(fwd, bwd)] once known; [None] for the public API

    def run(y, t, ct):
        if not direct or direct[0] is not None:
            t = float(t)        # (one leaf type for every call of the direct path)
        yy, tt = (t, y) if tfirst else (y, t)
        if not direct:
            direct.append(_direct_halves(vf, (yy, tt) + tuple(args)))
        if direct[0] is not None:
            fwd, bwd = direct[0]
            leaves = [yy, tt, *args]
            out, residuals = fwd(leaves)
            cts = bwd(leaves, out, residuals, ct)
            return _flat(out), _flat(cts[0]), [_flat(c) for c in cts[1:]]
        out, pullback = vf(yy, tt, *args)
        cts = pullback(_structured(ct, out))
        if len(wrt) == 1:
            cts = (cts,)
        return _flat(out), _flat(cts[0]), [_flat(c) for c in cts[1:]]
    return run


def ode_adjoint(g, ys, y0, t, *args, func, tfirst=False, **opts):
    """Cotangents ``(y0, t, *args)`` of ``ys = odeint(func, y0, t, args)``
    given the cotangent ``g`` of ``ys`` (the adjoint method; module doc)."""
    opts = {k: v for k, v in opts.items() if k in _SOLVER_OPTIONS}
    rhs = _call(func, tfirst)
    g = np.asarray(g, dtype=float).reshape(np.shape(ys))
    t_dtype = np.result_type(t, 1.0)
    ys, t = np.asarray(ys), np.asarray(t, dtype=float)
    n = ys.shape[1]
    diff = _float_args(args)
    sizes = [np.size(args[k]) for k in diff]
    run = _rhs_vjp(func, tfirst, _as64(args), diff)

    def augmented(z, s):
        out, a_dot, p_dots = run(z[:n], s, -z[n:2 * n])
        return np.concatenate([out, a_dot] + p_dots)

    adj = g[-1].copy()
    p = np.zeros(sum(sizes))
    t_bar = np.zeros(t.shape)
    for i in range(len(t) - 1, 0, -1):
        t_bar[i] = np.dot(g[i], _flat(rhs(ys[i], t[i], *args)))
        if t[i] != t[i - 1]:
            z = _solve(augmented, np.concatenate([ys[i], adj, p]), np.array([t[i], t[i - 1]]),
                       opts, "adjoint")[1]
            adj, p = z[n:2 * n], z[2 * n:]
        adj = adj + g[i - 1] if i > 1 else adj
    # the initial time moves the start of the trajectory: -a(t0) . f(y0, t0)
    t_bar[0] = -np.dot(adj, _flat(rhs(ys[0], t[0], *args))) if len(t) > 1 else 0.0
    y0_bar = adj + g[0] if len(t) > 1 else g[0]
    out = [y0_bar.reshape(np.shape(y0)).astype(np.result_type(y0, 1.0)), t_bar.astype(t_dtype)]
    cuts = np.cumsum(sizes)[:-1] if sizes else []
    pieces = dict(zip(diff, np.split(p, cuts))) if diff else {}
    for k, a in enumerate(args):
        if k in pieces:
            out.append(pieces[k].reshape(np.shape(a)).astype(np.result_type(a)))
        else:
            out.append(np.zeros(np.shape(a)))
    return tuple(out)


def ode_tangent(ys, y0, t, *operands, nargs, func, tfirst=False, **opts):
    """Tangent of ``ys = odeint(func, y0, t, args)``: ``operands`` are the
    ``nargs`` arguments, then the tangents of ``y0``, ``t`` and the
    arguments (None: zero).  The sensitivity equations (module doc)."""
    opts = {k: v for k, v in opts.items() if k in _SOLVER_OPTIONS}
    args, dots = _as64(operands[:nargs]), operands[nargs:]
    y0_dot, t_dot, arg_dots = dots[0], dots[1], _as64(dots[2:])
    rhs = _call(func, tfirst)
    ys, t = np.asarray(ys), np.asarray(t, dtype=float)
    n = ys.shape[1]
    diff = [k for k in _float_args(args) if arg_dots[k] is not None]
    wrt = (0,) + tuple(2 + k for k in diff)
    jf = _compiled(func, "jvp", wrt, tfirst)
    tangents_of_args = [arg_dots[k] for k in diff]
    shape_y = np.shape(y0) if np.ndim(y0) == 1 else (n,)

    def sensitivity(z, s):
        y, sy = z[:n].reshape(shape_y), z[n:].reshape(shape_y)
        prim = (s, y) if tfirst else (y, s)
        primals = prim + tuple(args)
        tans = (sy,) + tuple(tangents_of_args)
        out, out_dot = jf(primals, tans)
        return np.concatenate([_flat(out), _flat(out_dot)])

    s0 = np.zeros(n) if y0_dot is None else _flat(y0_dot)
    if t_dot is not None:
        t_dot = np.asarray(t_dot, dtype=float)
        s0 = s0 - _flat(rhs(ys[0], t[0], *args)) * t_dot[0]
    if len(t) > 1 and (np.any(s0 != 0) or diff):
        z = _solve(sensitivity, np.concatenate([ys[0], s0]), t, opts, "sensitivity")
        sens = z[:, n:]
    else:
        sens = np.broadcast_to(s0, ys.shape).copy()
    if t_dot is not None:
        for i in range(len(t)):          # (at t0: y0_dot again)
            sens[i] = sens[i] + _flat(rhs(ys[i], t[i], *args)) * t_dot[i]
    return sens.astype(ys.dtype)


# ---------------------------------------------------------------- solve_ivp
#
# solve_ivp(fun, (t0, t1), y0, t_eval=ts, args=...) with fun(t, y, *args):
# its y at ts is odeint's result at [t0] + ts without the first row, so the
# derivatives are the ones above on those times (func in tfirst form).


def ivp_solve(y0, t0, t1, t_eval, *args, func, method="RK45", **opts):
    """``(sol.t, sol.y)`` of ``scipy.integrate.solve_ivp``; a failed solve
    (``sol.success`` false: a truncated result) raises instead."""
    from scipy.integrate import solve_ivp
    if np.iscomplexobj(y0):
        raise ValueError("s2sgrad differentiates solve_ivp for real y0 only")
    sol = solve_ivp(func, (t0, t1), y0, method=method, t_eval=t_eval,
                    args=tuple(args) if args else None, **opts)
    if not sol.success:
        raise ValueError(f"scipy.integrate.solve_ivp failed: {sol.message}")
    return sol.t, sol.y


# solve_ivp has no step limit; the derivative's LSODA solves get a generous one
_IVP_DERIVATIVE_STEPS = {"mxstep": 100000}


def _full(ys, y0, t0, t_eval):
    """The trajectory and times with the start prepended (odeint's layout)."""
    ys_full = np.concatenate([np.reshape(np.asarray(y0, dtype=float), (1, -1)),
                              np.asarray(ys).T])
    return ys_full, np.concatenate([[t0], np.asarray(t_eval, dtype=float)])


def ivp_adjoint(g_t, g_y, t_out, ys, y0, t0, t1, t_eval, *args, func, method="RK45", **opts):
    """Cotangents ``(y0, t0, t1, t_eval, *args)`` of ``ivp_solve`` given the
    cotangents of ``sol.t`` (``t_eval`` itself) and ``sol.y``."""
    ys_full, t_full = _full(ys, y0, t0, t_eval)
    opts = dict(_IVP_DERIVATIVE_STEPS, **opts)
    g = np.zeros(ys_full.shape)
    if g_y is not None:
        g[1:] = np.asarray(g_y).T
    res = ode_adjoint(g, ys_full, y0, t_full, *args, func=func, tfirst=True, **opts)
    y0_bar, t_bar, args_bar = res[0], res[1], res[2:]
    t_eval_bar = t_bar[1:] + (0.0 if g_t is None else np.asarray(g_t))
    t_dtype = np.result_type(t_eval, 1.0)
    return (y0_bar, np.asarray(t_bar[0]).astype(np.result_type(t0, 1.0)),
            np.zeros(np.shape(t1)), t_eval_bar.astype(t_dtype)) + tuple(args_bar)


def ivp_tangent(t_out, ys, y0, t0, t1, t_eval, *operands, nargs, func, method="RK45",
                **opts):
    """Tangents ``(sol.t, sol.y)`` of ``ivp_solve``: ``operands`` are the
    ``nargs`` arguments, then the tangents of ``y0, t0, t1, t_eval`` and the
    arguments (None: zero)."""
    args, dots = operands[:nargs], operands[nargs:]
    y0_dot, t0_dot, _, t_eval_dot, arg_dots = dots[0], dots[1], dots[2], dots[3], dots[4:]
    ys_full, t_full = _full(ys, y0, t0, t_eval)
    opts = dict(_IVP_DERIVATIVE_STEPS, **opts)
    t_dot = None
    if t0_dot is not None or t_eval_dot is not None:
        t_dot = np.concatenate([[0.0 if t0_dot is None else float(t0_dot)],
                                np.zeros(len(t_full) - 1) if t_eval_dot is None else
                                np.asarray(t_eval_dot, dtype=float)])
    sens = ode_tangent(ys_full, y0, t_full, *args, y0_dot, t_dot, *arg_dots, nargs=nargs,
                       func=func, tfirst=True, **opts)
    t_out_dot = np.zeros(np.shape(t_out)) if t_eval_dot is None else \
        np.asarray(t_eval_dot, dtype=np.result_type(t_out))
    return t_out_dot, sens[1:].T.astype(np.asarray(ys).dtype)


# ---------------------------------------------------------------- scipy.integrate.quad
#
# y = quad(func, a, b, args)[0] = int_a^b func(x, *args) dx: dy/da = -func(a),
# dy/db = func(b), dy/dargs = int_a^b d func(x, *args) / d args dx (the
# integrand's gradient, compiled by s2sgrad from the user's function, integrated
# by scipy.integrate.quad_vec at the user's tolerances).

_QUAD_OPTIONS = ("epsabs", "epsrel", "limit", "points")


def _quad_opts(opts):
    return {k: v for k, v in opts.items() if k in _QUAD_OPTIONS and v is not None}


def quad_solve(a, b, *args, func, **opts):
    """``scipy.integrate.quad(func, a, b, args)``: ``(value, abserr)``, SciPy's own."""
    from scipy.integrate import quad
    return quad(func, a, b, args=tuple(args), **_quad_opts(opts))


def quad_grads(a, b, *args, func, **opts):
    """``(-func(a), func(b), *[int_a^b d func / d arg dx for arg in args])``
    (0 for an infinite endpoint, whose position has no derivative; None for
    an argument that is not a real floating value)."""
    from scipy.integrate import quad_vec
    args = tuple(args)
    diff = _float_args(args)
    ends = []
    for e, sign in ((a, -1.0), (b, 1.0)):
        e = float(e)
        ends.append(sign * float(func(e, *args)) if np.isfinite(e) else 0.0)
    out = [None] * len(args)
    if diff:
        vf = _compiled(func, "vjp", tuple(1 + k for k in diff), False)
        a64 = _as64(args)

        def integrand(x):
            _, pullback = vf(float(x), *a64)
            cts = pullback(1.0)
            cts = cts if len(diff) > 1 else (cts,)
            return np.concatenate([_flat(c) for c in cts])

        opts = _quad_opts(opts)
        kw = {k: opts[k] for k in ("epsabs", "epsrel", "points") if k in opts}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            total, err, info = quad_vec(integrand, float(a), float(b), full_output=True, **kw)
        if not info.success:
            raise ValueError(f"s2sgrad: the derivative integral of scipy.integrate.quad did "
                             f"not converge ({info.message}); pass looser epsabs/epsrel")
        i = 0
        for k in diff:
            n = int(np.size(args[k]))
            dtype = np.result_type(args[k])
            g = total[i:i + n].astype(dtype if dtype.kind == "f" else np.float64)
            out[k] = g.reshape(np.shape(args[k])) if np.ndim(args[k]) else g.reshape(())[()]
            i += n
    return (ends[0], ends[1], *out)


__all__ += ["quad_solve", "quad_grads"]
