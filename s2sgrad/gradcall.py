"""Reverse over reverse with checkpointing: the call of an inner gradient as
one marker equation whose reverse rule is a checkpointed Hessian-vector
product.

Expects: the primal IR ``func`` of a scalar function ``F`` (its parameters
the leaves of the differentiated arguments, then the values it reads from
outside, :meth:`s2sgrad.lower.transforms.TransformsMixin._lower_inner`), the
indices ``W`` of the parameters the inner ``grad`` differentiates, and a
checkpointing schedule (:mod:`s2sgrad.schedules`).

Guarantees: ``y = grad(F, wrt=W)(*x)`` inside a function that is itself
differentiated in reverse mode is emitted as

* the detached arguments (``stop_gradient``) and, spliced on them, the
  gradient program of ``F`` *with the schedule* -- checkpointed loops, one
  extra forward pass, no stacks that the outer sweep would keep;
* a marker ``y' = custom_rule(y, *x)`` (the identity; code generation
  erases it, :func:`s2sgrad.optimize.erase_rule_markers`) that carries the
  derivative rules, so the outer transformation never re-derives the inner
  gradient's source.

The reverse rule.  For the outer cotangent ``ȳ`` (shaped like ``∇_W F``)
the outer sweep needs, for every active argument ``x_a``,
``∂/∂x_a <ȳ, ∇_W F(x)> = Σ_w ȳ_w ∂²F/∂x_w∂x_a`` -- by the symmetry of second
derivatives, the tangent of ``∇_A F`` (the gradient with respect to all the
*active* arguments ``A``) in the direction ``ȳ`` on ``W``'s positions and 0
elsewhere: a Hessian-vector product, which forward-over-reverse computes
with the same checkpointed memory as the gradient (:mod:`s2sgrad.forward`
differentiates the checkpoint drivers).  ``value_and_grad`` adds, for the
value's cotangent ``v̄``, ``v̄ ∇_A F`` -- the primal part of the same
program.  The forward rule (an outer ``jvp``/``hvp``) is the tangent of
``∇_W F`` in the direction of the arguments' tangents, the same program
with the roles of ``W`` and ``A`` exchanged.

When the outer sweep will itself be differentiated again in reverse mode
(its ``Reverser`` does not checkpoint: ``remat=False``), the rule emits the
uncheckpointed product, which that next pass can reverse; likewise where
forward mode cannot follow a checkpoint tape (``CheckpointTangentError``).
The numbers are those of ``grad(grad(...))`` without checkpointing up to
rounding (the same second derivatives, summed in another order).
"""
from __future__ import annotations

import contextlib
import contextvars

from .ir import Const, Eqn, Var, iter_eqns, rename_reads, verify
from .primitives import core as P
from .primitives.core import Primitive

__all__ = ["composed_ir", "emit_grad_call", "emit_hvp_call", "emit_pullback_call", "has_loops",
           "has_marks", "mark_loops", "outer_schedule", "schedule_for"]

# The ``checkpoint=`` option of the reverse-mode transformation whose
# function is being lowered (set by s2sgrad.api around lowering): an inner
# ``grad`` without a schedule of its own takes this one.
_OUTER = contextvars.ContextVar("s2sgrad_outer_schedule", default=None)


@contextlib.contextmanager
def outer_schedule(schedule):
    token = _OUTER.set(schedule)
    try:
        yield
    finally:
        _OUTER.reset(token)


def has_marks(func) -> bool:
    """Whether ``func`` has loops or helpers the source marks for
    checkpointing (``s2sgrad.checkpointed``, ``@s2sgrad.checkpoint``)."""
    return any(e.params.get("checkpoint") is not None for e in iter_eqns(func.body)
               if e.prim.name in ("for_loop", "while_loop"))


def has_loops(func) -> bool:
    return any(e.prim.name in ("for_loop", "while_loop") for e in iter_eqns(func.body))


def schedule_for(own, func):
    """The schedule an inner gradient of ``func`` is checkpointed with: its
    own ``checkpoint=``, else the outer transformation's, else (marked loops
    or helpers only) ``False`` -- marks are honoured, other loops stored --
    or None: no checkpointing asked for, the inner gradient is spliced as
    ordinary code (s2sgrad.lower.transforms)."""
    if own is not None:
        return own
    if _OUTER.get() is not None:
        return _OUTER.get()
    return False if has_marks(func) else None


# ---------------------------------------------------------------- the marker


class _Layout:
    """What a marker's operands are (``eqn.params["layout"]``, as
    s2sgrad.custom's): ``sizes`` = (outputs, arguments, residuals)."""

    def __init__(self, name, nout, nargs):
        self.name = name
        self.sizes = (nout, nargs, 0)

    def __repr__(self):
        return f"{self.name}: {self.sizes[0]} out, {self.sizes[1]} arguments"


def _marker_impl(*args, _nout=1):
    return args[0] if _nout == 1 else tuple(args[:_nout])


def _marker_shape(args, kwargs):
    n = kwargs["_nout"].value
    return tuple(P.shape_of(a) for a in args[:n])


def _marker_printer(args, kwargs, eqn):
    import ast
    nout = eqn.params["layout"].sizes[0]
    return ast.Call(func=ast.Name(id=eqn.prim.pyname, ctx=ast.Load()),
                    args=list(args[nout:]), keywords=[])


class _MarkedCall:
    """A derivative called inside a differentiated function: its program
    (``_program(wrt, remat, hoist)``, a Func of F's parameters and maybe
    more), the marker primitive carrying the subclass's ``_vjp``/``_jvp``,
    and the forward-over-reverse programs those rules splice."""

    def __init__(self, func, wrt, schedule, name):
        self.func = func
        self.wrt = list(wrt)
        self.schedule = schedule or None      # (False: marks only)
        self.name = name
        self._programs = {}
        prim = Primitive("custom_rule", _marker_impl, sig="*args, **kwargs", pyname=name,
                         eqn_rule=True, vjp=self._vjp, jvp=self._jvp, shape=_marker_shape,
                         printer=_marker_printer)
        prim.opaque_cse = True                # two calls' markers are never merged
        prim.wants_reverser = True            # (s2sgrad.reverse passes its Reverser)
        self.primitive = prim

    def _program(self, wrt, remat, hoist, **kw):
        """The derivative's program; each subclass (GradCall, PullbackCall)
        defines it -- this base is never used alone."""
        raise NotImplementedError

    def _tangent_of(self, wrt, tangent_wrt, remat, what, **kw):
        """The jvp of ``_program(wrt)`` in the directions of the parameters
        ``tangent_wrt`` (forward over reverse; uncheckpointed where forward
        mode cannot follow a tape).  Returns (program, its jvp)."""
        from .forward import CheckpointTangentError, jvp_func
        from .optimize import optimize
        key = (what, tuple(wrt), tuple(sorted(kw.items())), tuple(tangent_wrt), remat)
        hit = self._programs.get(key)
        if hit is not None:
            return hit
        for r in ((True, False) if remat else (False,)):
            g = self._program(wrt, r, False, **kw)
            try:
                jf = optimize(verify(jvp_func(g, list(tangent_wrt),
                                              name=f"{self.func.name}_{what}")))
            except CheckpointTangentError:
                continue
            self._programs[key] = (g, jf)
            return g, jf
        raise AssertionError("unreachable")

    def forward_program(self):
        """The call's value: the program with the schedule (and the hoisted
        weight gradients: it is never differentiated)."""
        hit = self._programs.get("forward")
        if hit is None:
            hit = self._programs["forward"] = self._program(self.wrt, True, True)
        return hit

    def emit(self, em, operands, loc, skip=0):
        """The program on the detached ``operands``, then the marker; returns
        the marker's outputs (the program's results after the first ``skip``)."""
        detached = [em.stop_gradient(a) if isinstance(a, Var) else a for a in operands]
        for d, a in zip(detached, operands):
            if isinstance(d, Var) and isinstance(a, Var):
                d.hint, d.shape = a.hint, a.shape
        outs = _splice(em, self.forward_program(), detached, loc)[skip:]
        marked = tuple(Var(o.hint if isinstance(o, Var) else "g",
                           shape=o.shape if isinstance(o, Var) else None) for o in outs)
        em.block.eqns.append(Eqn(self.primitive, tuple(outs) + tuple(operands),
                                 {"_nout": Const(len(outs))}, marked,
                                 {"layout": _Layout(self.name, len(outs), len(operands))},
                                 loc))
        return list(marked)


class GradCall(_MarkedCall):
    """The rules of one call of an inner gradient (see the module doc)."""

    def __init__(self, func, wrt, keep_value, schedule, name):
        self.keep_value = keep_value
        super().__init__(func, wrt, schedule, name)

    def _program(self, wrt, remat, hoist, keep=None):
        from .optimize import optimize
        from .reverse import grad_func
        return optimize(verify(grad_func(
            self.func, wrt, [0], keep_values=self.keep_value if keep is None else keep,
            hoist=hoist, checkpoint=self.schedule if remat else None, remat=remat,
            name=f"{self.func.name}_grad")))

    # ------------------------------------------------------------ the rules

    def _vjp(self, em, eqn, g, rv=None):
        nout = eqn.params["layout"].sizes[0]
        actuals = list(eqn.args[nout:])
        gs = list(g) if nout > 1 else [g]
        none = [None] * len(eqn.args)
        vbar = gs[0] if self.keep_value else None
        gbars = gs[1:] if self.keep_value else gs
        active = [i for i, a in enumerate(actuals)
                  if isinstance(a, Var) and (rv is None or a in rv.active)]
        if not active or all(x is None for x in gs):
            return none
        remat = rv.remat if rv is not None else False
        cts = {}
        if all(x is None for x in gbars):
            # only the value's cotangent: v̄ ∇_A F, a first-order gradient
            grads = _splice(em, self._program(active, remat, remat, keep=False), actuals,
                            eqn.loc)
            for i, d in zip(active, grads):
                cts[i] = em.multiply(vbar, d)
        else:
            from .reverse import zeros_of
            g, jf = self._tangent_of(active, self.wrt, remat, "hvp", keep=False)
            dirs = [x if x is not None else zeros_of(em, o)
                    for x, o in zip(gbars, eqn.outs[nout - len(gbars):])]
            res = _splice(em, jf, actuals + dirs, eqn.loc)
            n = len(g.results)
            for k, i in enumerate(active):
                d = res[n + k]
                if vbar is not None:
                    d = em.add(d, em.multiply(vbar, res[k]))
                cts[i] = d
        return [None] * nout + [cts.get(i) for i in range(len(actuals))]

    def _jvp(self, em, eqn, dots):
        nout = eqn.params["layout"].sizes[0]
        actuals = list(eqn.args[nout:])
        tans = list(dots[nout:])
        moving = [i for i, d in enumerate(tans) if d is not None]
        if not moving:
            return None
        g, jf = self._tangent_of(self.wrt, moving, True, "grad_jvp")
        res = _splice(em, jf, actuals + [tans[i] for i in moving], eqn.loc)
        ts = res[len(g.results):]
        return tuple(ts) if nout > 1 else ts[0]


def _splice(em, prog, actuals, loc):
    """Append a fresh copy of ``prog``'s body to ``em``'s block, its
    parameters replaced by ``actuals``; returns its results."""
    from .lower.transforms import fresh_copy
    prog = fresh_copy(prog)
    sub = dict(zip(prog.params, actuals))
    rename_reads(prog.body, sub)
    for e in prog.body.eqns:
        if e.loc is None:
            e.loc = loc
        em.block.eqns.append(e)
    return [sub.get(r, r) if isinstance(r, Var) else r for r in prog.results]


def emit_grad_call(em, func, wrt, actuals, *, keep_value, schedule, name, loc):
    """Emit ``grad(F, wrt)(*actuals)`` (``value_and_grad`` with
    ``keep_value``) for a function differentiated again: the checkpointed
    gradient on detached arguments and the marker carrying its rules.
    Returns the marker's outputs: the value (with ``keep_value``) then one
    gradient per ``wrt`` parameter."""
    return GradCall(func, wrt, keep_value, schedule, name).emit(em, list(actuals), loc)


def mark_loops(func, schedule):
    """A fresh copy of ``func`` whose loops carry ``schedule`` as if the
    source marked them (``s2sgrad.checkpointed``): a reverse sweep over the
    copy checkpoints them (``schedule`` False: the copy as it is)."""
    from .lower.transforms import fresh_copy
    func = fresh_copy(func)
    if schedule:
        for e in iter_eqns(func.body):
            if e.prim.name in ("for_loop", "while_loop") and e.params.get("checkpoint") is None:
                e.params["checkpoint"] = schedule
    return func


def composed_ir(inner, specs):
    """``grad(grad(f, checkpoint=s))`` (an API-level composition): the IR of
    the inner transformation ``inner`` (grad or value_and_grad) for
    ``specs`` as one checkpointed gradient call with its marker, shaped as
    ``inner.ir_for`` shapes it (with ``has_aux``, the aux values are the
    function's own code with its loops marked, :func:`mark_loops`); None
    where no checkpointing is asked for: the caller then differentiates
    ``ir_for``'s gradient code, as before."""
    from . import pytree
    from .invariance import detach_shifts
    from .ir import Block, Func
    from .primitives.core import Emitter
    primal = inner._primal(specs)
    schedule = schedule_for(inner.checkpoint, primal)
    out_tree = primal.info["out_tree"]
    aux = inner.has_aux
    if aux and (out_tree.kind not in ("tuple", "list") or len(out_tree.children) != 2
                or out_tree.children[0].kind != "leaf"):
        return None                   # (ir_for's compilation raises the error)
    if schedule is None or (out_tree.kind != "leaf" and not aux) or \
            not isinstance(primal.results[0], Var):
        return None
    ranges = inner._param_leaf_ranges(specs)
    wrt = [i for w in inner.wrt for i in range(*ranges[w])]
    loss = detach_shifts(Func(primal.name, list(primal.params), primal.body,
                              list(primal.results[:1]), primal.filename, dict(primal.info)))
    em = Emitter(Block())
    res = emit_grad_call(em, verify(loss), wrt, list(primal.params),
                         keep_value=inner.keep_value, schedule=schedule,
                         name=f"{primal.name}_grad", loc=None)
    names = list(specs)
    trees = [specs[names[w]][1] if specs[names[w]][0] == "tree" else pytree.LEAF
             for w in inner.wrt]
    tree = trees[0] if inner._single else pytree.TreeDef("tuple", tuple(trees))
    if aux:
        # the aux values: the function's own code, spliced on the real
        # arguments (the outer sweep differentiates them), its loops marked
        # with the schedule so the outer sweep checkpoints them as well
        prim = _splice(em, mark_loops(primal, schedule), list(primal.params), None)
        if inner.keep_value:
            res = res[:1] + prim[1:] + res[1:]
            tree = pytree.TreeDef("tuple", (out_tree, tree))
        else:
            res = res + prim[1:]
            tree = pytree.TreeDef("tuple", (tree, out_tree.children[1]))
    elif inner.keep_value:
        tree = pytree.TreeDef("tuple", (out_tree, tree))
    info = {k: v for k, v in primal.info.items() if k not in ("globals", "tuple_result")}
    info["out_tree"] = tree
    return verify(Func(f"{primal.name}_grad", list(primal.params), em.block, res,
                       primal.filename, info))


# ---------------------------------------------------------------- hvp


class HvpCall(_MarkedCall):
    """The rules of one call ``hvp(F, wrt=W)(x, v)`` inside a differentiated
    function (and of each of the calls a ``hessian`` inside makes, one per
    basis vector): the marker's operands are ``x`` (F's parameters) then
    ``v`` (one leaf per ``W`` leaf); its value ``y = H_WW(x) v`` is the
    checkpointed gradient's tangent (forward over the checkpointed reverse
    sweep).  Reverse rule, for the outer cotangent ``ȳ``: ``v̄ = H_WW ȳ``
    (the same program in the direction ``ȳ``, by symmetry) and, for every
    active ``x_a``, ``x̄_a = D³F[e_a, v, ȳ]`` -- the tangent, in the
    direction ``ȳ`` on ``W``, of ``H_AW v``: forward over forward over the
    checkpointed reverse sweep, which keeps the drivers (s2sgrad.forward
    differentiates tangent drivers again).  Forward rule: the tangent of
    ``H_WW(x) v`` in the directions of ``x`` and ``v``."""

    def __init__(self, func, wrt, schedule, name):
        self.nx = len(func.params)
        super().__init__(func, wrt, schedule, name)

    def _program(self, wrt, remat, hoist):
        """``H_{wrt,W} v``: parameters F's then ``v``'s, results the tangents."""
        from .forward import CheckpointTangentError, jvp_func, select_results
        from .optimize import optimize
        from .reverse import grad_func
        for r in ((True, False) if remat else (False,)):
            g = optimize(verify(grad_func(
                self.func, wrt, [0], keep_values=False, hoist=False,
                checkpoint=self.schedule if r else None, remat=r,
                name=f"{self.func.name}_grad")))
            try:
                jf = jvp_func(g, list(self.wrt), name=f"{self.func.name}_hvp")
            except CheckpointTangentError:
                continue            # (a tape carried by a loop: uncheckpointed instead)
            n = len(g.results)
            return optimize(verify(select_results(jf, range(n, 2 * n))))
        raise AssertionError("unreachable")

    def _vjp(self, em, eqn, g, rv=None):
        from .reverse import zeros_of
        nout = eqn.params["layout"].sizes[0]
        operands = list(eqn.args[nout:])
        gs = list(g) if nout > 1 else [g]
        none = [None] * len(eqn.args)
        if all(x is None for x in gs):
            return none

        def active(a):
            return isinstance(a, Var) and (rv is None or a in rv.active)
        xs_active = [i for i in range(self.nx) if active(operands[i])]
        vs_active = [i for i in range(self.nx, len(operands)) if active(operands[i])]
        remat = rv.remat if rv is not None else False
        dirs = [x if x is not None else zeros_of(em, o) for x, o in zip(gs, eqn.outs)]
        cts = {}
        if xs_active:
            p, jf = self._tangent_of(xs_active, self.wrt, remat, "hvp3")
            res = _splice(em, jf, operands + dirs, eqn.loc)[len(p.results):]
            cts.update(zip(xs_active, res))
        if vs_active:
            key = ("hvp_sym", remat)
            prog = self._programs.get(key)
            if prog is None:
                prog = self._programs[key] = self._program(self.wrt, remat, False)
            res = _splice(em, prog, operands[:self.nx] + dirs, eqn.loc)
            for i in vs_active:
                cts[i] = res[i - self.nx]
        return [None] * nout + [cts.get(i) for i in range(len(operands))]

    def _jvp(self, em, eqn, dots):
        nout = eqn.params["layout"].sizes[0]
        operands = list(eqn.args[nout:])
        tans = list(dots[nout:])
        moving = [i for i, d in enumerate(tans) if d is not None]
        if not moving:
            return None
        p, jf = self._tangent_of(self.wrt, moving, True, "hvp_jvp")
        res = _splice(em, jf, operands + [tans[i] for i in moving], eqn.loc)
        ts = res[len(p.results):]
        return tuple(ts) if nout > 1 else ts[0]


def emit_hvp_call(em, func, wrt, actuals, vs, *, schedule, name, loc):
    """Emit ``hvp(F, wrt)(actuals, vs)`` for a function differentiated again:
    the checkpointed Hessian-vector product on detached operands and the
    marker carrying its rules (:class:`HvpCall`); returns the marker's
    outputs (one per ``wrt`` leaf)."""
    return HvpCall(func, wrt, schedule, name).emit(em, list(actuals) + list(vs), loc)


# ---------------------------------------------------------------- vjp's pullback


class PullbackCall(_MarkedCall):
    """The rules of one call ``pullback(ct)`` of ``out, pullback = vjp(F,
    wrt=W)(*x)`` (F with ``nout`` output leaves): the marker's operands are
    the cotangents of the ``W`` leaves it returns, then ``x``, then ``ct``.

    Its value is the checkpointed vjp program run at the call (F's forward
    sweep recomputed there, so nothing is kept between ``vjp`` and the
    pullback's call but the arguments).  Reverse rule, for the outer
    cotangent ``p̄`` of the result ``p = J_W(x)ᵀ ct``: ``x̄_A = ∂/∂x_A <J_W(x)
    p̄, ct>`` and ``c̄t = J_W(x) p̄`` -- the tangents, in the direction ``p̄``
    on ``W``, of ``(F(x), J_A(x)ᵀ ct)``: forward over the checkpointed vjp
    program.  Forward rule: the tangent of ``J_W(x)ᵀ ct`` in the directions
    of ``x`` and ``ct``."""

    def __init__(self, func, wrt, schedule, name):
        self.nout = len(func.results)
        super().__init__(func, wrt, schedule, name)

    def _program(self, wrt, remat, hoist):
        from .optimize import optimize
        from .reverse import grad_func
        return optimize(verify(grad_func(
            self.func, wrt, list(range(self.nout)), keep_values=True, cotangent_params=True,
            hoist=hoist, checkpoint=self.schedule if remat else None, remat=remat,
            name=f"{self.func.name}_vjp")))

    def _vjp(self, em, eqn, g, rv=None):
        from .reverse import zeros_of
        n = eqn.params["layout"].sizes[0]
        operands = list(eqn.args[n:])               # x..., ct...
        nx = len(operands) - self.nout
        gs = list(g) if n > 1 else [g]
        none = [None] * len(eqn.args)
        if all(x is None for x in gs):
            return none
        xs_active = [i for i in range(nx) if isinstance(operands[i], Var)
                     and (rv is None or operands[i] in rv.active)]
        cts_active = any(isinstance(c, Var) and (rv is None or c in rv.active)
                         for c in operands[nx:])
        if not xs_active and not cts_active:
            return none
        remat = rv.remat if rv is not None else False
        v, jf = self._tangent_of(xs_active, self.wrt, remat, "vjp_hvp")
        dirs = [x if x is not None else zeros_of(em, o) for x, o in zip(gs, eqn.outs)]
        res = _splice(em, jf, operands + dirs, eqn.loc)
        nv = len(v.results)             # values (nout), then one gradient per xs_active
        tans = res[nv:]
        cts = {}
        for k, i in enumerate(xs_active):
            cts[i] = tans[self.nout + k]
        for k in range(self.nout):
            cts[nx + k] = tans[k] if isinstance(operands[nx + k], Var) else None
        return [None] * n + [cts.get(i) for i in range(len(operands))]

    def _jvp(self, em, eqn, dots):
        n = eqn.params["layout"].sizes[0]
        operands = list(eqn.args[n:])
        tans = list(dots[n:])
        moving = [i for i, d in enumerate(tans) if d is not None]
        if not moving:
            return None
        v, jf = self._tangent_of(self.wrt, moving, True, "vjp_jvp")
        res = _splice(em, jf, operands + [tans[i] for i in moving], eqn.loc)
        ts = res[len(v.results) + self.nout:]
        return tuple(ts) if n > 1 else ts[0]


def emit_pullback_call(em, func, wrt, actuals, cts, *, schedule, name, loc):
    """Emit the call ``pullback(ct)`` of ``vjp(F, wrt)(*actuals)`` as the
    checkpointed vjp program on detached operands and its marker; returns
    the marker's outputs (one cotangent per ``wrt`` leaf)."""
    call = PullbackCall(func, wrt, schedule, name)
    return call.emit(em, list(actuals) + list(cts), loc, skip=call.nout)
