"""Transformations called inside the differentiated function: nested
differentiation composes through the IR.

``def f(x): return np.sum(grad(g)(x) ** 2)`` -- the call ``grad(g)(x)``
lowers ``g`` (a function, a nested ``def``/lambda, or another
transformation) into a block of its own, with a fresh parameter for each
leaf of the differentiated arguments (the other arguments, and everything
``g`` closes over, are read from the enclosing function as they are);
that block becomes a :class:`~s2sgrad.ir.Func` which the transformation's
own pass turns into derivative IR (:func:`~s2sgrad.reverse.grad_func`,
:func:`~s2sgrad.forward.jvp_func`, ...), and that IR is spliced into the
enclosing function with fresh names, its parameters replaced by the call's
arguments.  The enclosing function is then ordinary IR built from
primitives, so an outer ``grad`` differentiates the generated inner code
(a derivative of a derivative).

Supported: ``grad``, ``value_and_grad`` (both with ``wrt`` and
``has_aux``), ``jvp`` (``jvp(g)(primals, tangents)``), ``hvp``
(``hvp(g)(args, v)``), ``vjp`` (``out, pullback = vjp(g)(x)``, the pullback
called inside the function), and transformed functions defined outside
(``dg = grad(g)`` at module level, ``@grad``-decorated helpers).

Checkpointing: a ``grad``/``value_and_grad``/``vjp`` with a schedule (its
own ``checkpoint=``, the outer transformation's, or marked loops and
helpers in ``g``) is not spliced as derivative code but emitted as one
call of the checkpointed derivative with a marker carrying its rules
(:mod:`s2sgrad.gradcall`: reverse rule a checkpointed Hessian-vector
product), and so is the pullback of any ``vjp`` of a function with loops.

``hessian(g, wrt=i)(*args)`` and ``jacobian(g, wrt=i, mode=...)(*args)``
inside are lowered as the code a user would write for them, a loop over
the basis vectors (:func:`_basis_template`): one ``hvp`` per element of
``x`` for a Hessian; one pullback of a single ``vjp`` per element of the
output (``mode="reverse"``, and ``"auto"``, as JAX's ``jacobian`` is
``jacrev``) or one ``jvp`` per element of ``x`` (``mode="forward"``) for a
Jacobian; the rows (or columns) are stacked and reshaped to
``out.shape + x.shape``.  The loop stays a loop in the generated code, and
an outer transformation differentiates it like any other (grad of the trace
of a Hessian is third-order code).  Refused: a differentiated argument that
is a container, several ``wrt`` arguments, and a function whose output is
a container (each would be a nested structure of blocks: use ``hvp``/
``jvp``/``vjp`` per block).
"""
from __future__ import annotations

import ast
import builtins
import inspect
import textwrap

import numpy as np

from ..errors import OutputError, S2SGradError
from ..ir import Block, Const, Eqn, Func, Var
from ..primitives import core as P
from ..primitives.lists import LIST
from .values import DictVal, LocalFunction, ObjVal, Seq, Splat, Static, Transform, TreeObj

_KINDS = ("grad", "value_and_grad", "jvp", "hvp", "vjp")


def transform_kind(obj):
    """For ``s2sgrad.grad`` & co.: the kind of transformation they make."""
    from .. import api, higher
    table = {id(api.grad): "grad", id(api.value_and_grad): "value_and_grad",
             id(higher.jvp): "jvp", id(higher.hvp): "hvp", id(api.vjp): "vjp",
             id(higher.hessian): "hessian", id(higher.jacobian): "jacobian"}
    return table.get(id(obj))


def is_schedule_type(obj) -> bool:
    """``s2sgrad.Binomial`` & co. (a ``checkpoint=`` option made inside)."""
    from ..schedules import Binomial, Budget, Sqrt
    return obj is Binomial or obj is Budget or obj is Sqrt


def transformed_value(obj):
    """An already-transformed function object (``dg = grad(g)`` outside, a
    ``@grad``-decorated helper) as a :class:`Transform`, or None."""
    from .. import api, higher
    kinds = {api.GradFunction: "grad", api.ValueAndGradFunction: "value_and_grad",
             higher.JVPFunction: "jvp", higher.HVPFunction: "hvp", api.VJPFunction: "vjp"}
    cls = api.transform_type(obj)
    kind = kinds.get(cls)
    if cls is higher.HessianFunction:
        kind = "hessian"
    elif cls is higher.JacobianFunction:
        kind = "jacobian_forward" if obj.mode == "forward" else "jacobian_reverse"
    if kind is None:
        if isinstance(obj, api._Transformed):
            return Transform(cls.__name__, None)
        return None
    inner = transformed_value(obj.fn)
    fn = inner if inner is not None else Static(obj.fn)
    wrt = obj.wrt[0] if obj._single else tuple(obj.wrt)
    return Transform(kind, fn, wrt, getattr(obj, "has_aux", False),
                     getattr(obj, "checkpoint", None))


def _flatten(v, node, lw):
    """Leaves (atoms) of a lowering value and a function rebuilding it."""
    if isinstance(v, Seq):
        parts = [_flatten(x, node, lw) for x in v.items]
        leaves = [a for p in parts for a in p[0]]

        def build(atoms, v=v, parts=parts):
            out, k = [], 0
            for ls, b in parts:
                out.append(b(atoms[k:k + len(ls)]))
                k += len(ls)
            return Seq(v.kind, out, fields=v.fields, ntype=v.ntype)
        return leaves, build
    if isinstance(v, DictVal):
        keys = list(v.items)
        parts = [_flatten(v.items[k], node, lw) for k in keys]
        leaves = [a for p in parts for a in p[0]]

        def build(atoms, parts=parts, keys=keys):
            out, k = {}, 0
            for key, (ls, b) in zip(keys, parts):
                out[key] = b(atoms[k:k + len(ls)])
                k += len(ls)
            return DictVal(out)
        return leaves, build
    if isinstance(v, TreeObj):
        atoms, _, build = lw.tree_leaves(v, node)
        return atoms, build
    if isinstance(v, (Var, Const)):
        return [v], lambda atoms: atoms[0]
    return [lw.materialize(v, node)], lambda atoms: atoms[0]


def fresh_copy(func: Func) -> Func:
    """``func`` with every Var it defines renamed to a fresh one (so the same
    derivative code can be spliced twice)."""
    sub: dict = {}

    def new(v):
        n = Var(v.hint, shape=v.shape)
        if v.bar_of is not None:
            n.bar_of = (v.bar_of[0], sub.get(v.bar_of[1], v.bar_of[1])) \
                if isinstance(v.bar_of, tuple) else sub.get(v.bar_of, v.bar_of)
        sub[v] = n
        return n

    def a(x):
        return sub.get(x, x) if isinstance(x, Var) else x

    def block(b):
        params = [new(p) for p in b.params]
        eqns = []
        for e in b.eqns:
            args = tuple(a(x) for x in e.args)
            kwargs = {k: a(x) for k, x in e.kwargs.items()}
            ps = {k: (block(v) if isinstance(v, Block) else v) for k, v in e.params.items()}
            outs = tuple(new(o) for o in e.outs)
            eqns.append(Eqn(e.prim, args, kwargs, outs, ps, e.loc))
        return Block(eqns, params, [a(r) for r in b.results])

    params = [new(p) for p in func.params]
    body = block(Block(func.body.eqns))
    return Func(func.name, params, body, [a(r) for r in func.results], func.filename,
                dict(func.info))


class TransformsMixin:
    def make_transform(self, kind, args, kwargs, node):
        """``grad(g, wrt=1)`` and co. called inside the function."""
        if not args:
            raise self.error(node, f"{kind}() needs the function to transform",
                             cls=S2SGradError)
        opts = {}
        allowed = {"hessian": ("wrt",), "jacobian": ("wrt", "mode")}.get(kind,
                                                                          ("wrt", "has_aux"))
        schedule = None
        for k, v in kwargs.items():
            if k == "checkpoint" and kind in ("grad", "value_and_grad", "vjp", "hvp", "hessian",
                                              "jacobian"):
                # honoured by the call's marker (s2sgrad.gradcall): the inner
                # gradient is checkpointed, and so is its reverse rule
                from ..schedules import as_schedule
                if not isinstance(v, (Const, Static, ObjVal)):
                    raise self.unsupported(node, f"a checkpoint= of {kind}() computed at run "
                                                 f"time", "pass 'sqrt' or a schedule object")
                try:
                    schedule = as_schedule(v.value if isinstance(v, Const) else v.obj)
                except (TypeError, ValueError) as exc:
                    raise self.error(node, str(exc), cls=S2SGradError) from None
                continue
            if k == "checkpoint":
                # (jvp: forward mode stores nothing, and s2sgrad.jvp takes no
                # checkpoint=; the loops of a jvp inside a function that is
                # differentiated in reverse mode are that sweep's loops)
                raise self.unsupported(
                    node, f"the argument 'checkpoint' of {kind}() (forward mode stores "
                          f"nothing)",
                    "drop checkpoint= here and pass it to the outer transform, which "
                    "checkpoints the jvp's loops in its own reverse sweep")
            if k == "wrt" and isinstance(v, Seq) and all(isinstance(i, Const) for i in v.items):
                v = Const(tuple(i.value for i in v.items))      # wrt=(0, 1)
            if k not in allowed or not isinstance(v, Const):
                raise self.unsupported(node, f"the argument '{k}' of {kind}() inside a "
                                             f"differentiated function",
                                       f"pass {' and '.join(allowed)} as constants")
            opts[k] = v.value
        if kind == "jacobian":
            mode = {"fwd": "forward", "rev": "reverse"}.get(opts.get("mode", "auto"),
                                                             opts.get("mode", "auto"))
            if mode not in ("auto", "forward", "reverse"):
                raise self.error(node, f"jacobian mode must be 'auto', 'forward' or "
                                       f"'reverse', got {mode!r}", cls=S2SGradError)
            kind = "jacobian_forward" if mode == "forward" else "jacobian_reverse"
        if len(args) > 1:
            raise self.error(node, f"{kind}(f) takes options by keyword", cls=S2SGradError)
        fn = args[0]
        if isinstance(fn, Static):
            fn = transformed_value(fn.obj) or fn
        return Transform(kind, fn, opts.get("wrt", 0), opts.get("has_aux", False), schedule)

    def make_schedule(self, cls, args, kwargs, node):
        """``Binomial(snapshots=4)`` inside: the schedule, made while compiling
        from constant arguments (it is only ever a ``checkpoint=`` option)."""
        vals = [a.value for a in args if isinstance(a, Const)]
        kw = {k: v.value for k, v in kwargs.items() if isinstance(v, Const)}
        if len(vals) != len(args) or len(kw) != len(kwargs):
            raise self.unsupported(node, f"{cls.__name__}() of values computed at run time",
                                   "pass constants")
        try:
            return Static(cls(*vals, **kw))
        except (TypeError, ValueError) as exc:
            raise self.error(node, f"{cls.__name__}(): {exc}", cls=S2SGradError) from None

    # ------------------------------------------------------------ calling

    def call_transform(self, t: Transform, args, kwargs, node):
        if t.kind in ("hessian", "jacobian_forward", "jacobian_reverse"):
            return self._basis_call(t, list(args), kwargs, node)
        if t.kind not in _KINDS:
            raise self.unsupported(node, f"calling a {t.kind} inside a differentiated function",
                                   "call it outside")
        if t.kind == "jvp":
            if len(args) != 2 or not isinstance(args[0], Seq) or not isinstance(args[1], Seq):
                raise self.error(node, "jvp(f) is called as f_jvp(primals, tangents) with "
                                       "two tuples", cls=S2SGradError)
            primals, tangents = list(args[0].items), list(args[1].items)
            return self._jvp_call(t, primals, tangents, kwargs, node)
        if t.kind == "hvp":
            if len(args) != 2 or not isinstance(args[0], Seq):
                raise self.error(node, "hvp(f) is called as f_hvp(args, v)", cls=S2SGradError)
            return self._hvp_call(t, list(args[0].items), args[1], kwargs, node)
        return self._reverse_call(t, list(args), kwargs, node)

    def _positions(self, t, nargs, node):
        fn = t.fn
        names = None
        if isinstance(fn, Static):
            try:
                names = list(inspect.signature(fn.obj).parameters)
            except (TypeError, ValueError):
                names = None
        elif isinstance(fn, LocalFunction):
            a = fn.node.args
            names = [p.arg for p in a.posonlyargs + a.args]
        single = not isinstance(t.wrt, (tuple, list))
        out = []
        for w in ([t.wrt] if single else list(t.wrt)):
            if isinstance(w, str):
                if names is None or w not in names:
                    raise self.error(node, f"wrt={w!r}: no such parameter", cls=S2SGradError)
                w = names.index(w)
            if not isinstance(w, int) or not -nargs <= w < nargs:
                raise self.error(node, f"wrt={w!r} is not one of the {nargs} arguments passed",
                                 cls=S2SGradError)
            out.append(w % nargs)
        return out, single

    def _basis_call(self, t, args, kwargs, node):
        """``hessian(g)(*args)`` / ``jacobian(g)(*args)`` inside: the loop over
        basis vectors of :func:`_basis_template`, lowered as a nested
        function of the user's code (at the user's line)."""
        what = "hessian" if t.kind == "hessian" else "jacobian"
        if any(isinstance(a, Splat) for a in args):
            raise self.unsupported(node, f"'*' unpacking in a call of {what}(f) inside a "
                                         f"differentiated function", "pass the arguments")
        positions, single = self._positions(t, len(args), node)
        if not single:
            raise self.unsupported(node, f"{what}() with several wrt arguments inside a "
                                         f"differentiated function",
                                   f"call {what}() once per argument (one block at a time), "
                                   f"or use hvp/jvp/vjp")
        w = positions[0]
        if not isinstance(args[w], (Var, Const)) or P.shape_of(args[w]) is LIST:
            raise self.unsupported(node, f"{what}() of a container argument inside a "
                                         f"differentiated function",
                                   "differentiate with respect to one array (pass the "
                                   "others as fixed arguments), or use hvp/jvp/vjp")
        inner = {"hessian": "hvp", "jacobian_forward": "jvp", "jacobian_reverse": "vjp"}[t.kind]
        env = dict(self.env)
        env.update({"_s2g_np": Static(np), "range": Static(builtins.range),
                    "_s2g_f": Transform(inner, t.fn, w, False, t.checkpoint),   # (its schedule)
                    "_s2g_leaf": _LeafCheck(what)})
        names = []
        for k, a in enumerate(args):
            if k == w:
                names.append("x")
            else:
                env[f"_s2g_a{k}"] = a
                names.append(f"_s2g_a{k}")
        kw = []
        for k, (key, v) in enumerate(kwargs.items()):
            env[f"_s2g_k{k}"] = v
            kw.append(f"{key}=_s2g_k{k}")
        fdef = _basis_template(t.kind, names, kw)
        for n in ast.walk(fdef):
            if "lineno" in n._attributes:
                n.lineno, n.col_offset = node.lineno, node.col_offset
                n.end_lineno = getattr(node, "end_lineno", node.lineno)
                n.end_col_offset = getattr(node, "end_col_offset", node.col_offset)
        fn = LocalFunction(fdef, _Scope(env))
        return self.call_local(fn, [args[w]], {}, node)

    def _lower_inner(self, t, args, kwargs, wrt, node):
        """Lower ``t.fn(*args, **kwargs)`` into a Func of its own whose first
        parameters are fresh Vars for the leaves of ``args[i] for i in wrt``.
        The other arguments and the values ``t.fn`` closes over are read as they
        are: the Vars among them become the Func's last parameters (``free``).
        Returns (func, leaf counts per wrt argument, their builders, the
        output's builder, free)."""
        call_args = list(args)
        params, counts, builders = [], [], []
        for i in wrt:
            leaves, build = _flatten(args[i], node, self)
            ps = [Var(a.hint if isinstance(a, Var) else "x", shape=P.shape_of(a))
                  for a in leaves]
            params += ps
            counts.append(len(ps))
            builders.append(build)
            call_args[i] = build(ps)
        blk = Block()
        box = []
        saved_loc = self.loc
        self.in_block(blk, lambda: box.append(self.call_value(t.fn, call_args, kwargs, node)))
        self.loc, self.em.loc = saved_loc, saved_loc
        out_leaves, out_build = _flatten(box[0], node, self)
        free = [v for v in _ordered_free(blk, out_leaves) if v not in set(params)]
        func = Func("inner", params + free, blk, out_leaves, self.src.filename,
                    {"out_leaves": len(out_leaves)})
        return func, counts, builders, out_build, free

    def _splice(self, g: Func, actuals):
        """Append a fresh copy of ``g``'s body, its parameters replaced by
        ``actuals``; returns its results."""
        g = fresh_copy(g)
        from ..ir import rename_reads
        sub = {p: a for p, a in zip(g.params, actuals)}
        rename_reads(g.body, sub)
        for e in g.body.eqns:
            e.loc = e.loc if e.loc is not None else self.loc
            self.em.block.eqns.append(e)
        return [sub.get(r, r) if isinstance(r, Var) else r for r in g.results]

    def _reverse_call(self, t, args, kwargs, node):
        from ..optimize import optimize
        from ..ir import verify
        from ..reverse import grad_func, split_vjp
        wrt, single = self._positions(t, len(args), node)
        func, counts, builders, out_build, free = self._lower_inner(t, args, kwargs, wrt, node)
        nw = sum(counts)
        wrt_idx = list(range(nw))
        actuals = [leaf for i in wrt for leaf in _flatten(args[i], node, self)[0]] + free
        nout = len(func.results)
        if t.kind == "vjp":
            from .. import gradcall
            schedule = gradcall.schedule_for(t.checkpoint, func)
            if schedule is None and gradcall.has_loops(func):
                # (the split vjp's halves would hand loop stacks from one to
                # the other, which a reverse sweep over both cannot follow:
                # the pullback's call is one vjp program instead)
                schedule = False
            if schedule is not None:
                # the pullback's call is one marker with checkpointed rules
                outs = self._splice(func, actuals)
                name = getattr(getattr(t.fn, "obj", None), "__name__", None) or "inner"
                return Seq("tuple", [out_build(outs),
                                     CheckpointedPullback(func, wrt_idx, actuals, schedule,
                                                          f"{name}_vjp", counts, builders,
                                                          single)])
            g = grad_func(func, wrt_idx, list(range(nout)), keep_values=True,
                          cotangent_params=True, hoist=False, name="inner_vjp")
            g = optimize(verify(g))
            fwd, bwd = split_vjp(g, nprimal=len(func.params), nout=nout)
            res = self._splice(optimize(verify(fwd)), actuals)
            outs, residuals = res[:nout], res[nout:]
            return Seq("tuple", [out_build(outs),
                                 LocalPullback(bwd, residuals, nout, counts, builders,
                                               single, actuals[:nw])])
        aux = t.has_aux
        if aux and nout < 1:
            raise self.error(node, "has_aux=True: the function must return (loss, aux)",
                             cls=OutputError)
        if not aux and nout != 1:
            raise self.error(node, f"{t.kind}() needs a function with one scalar output",
                             cls=OutputError)
        keep = t.kind == "value_and_grad" or aux
        from .. import gradcall
        schedule = gradcall.schedule_for(t.checkpoint, func)
        if schedule is not None:
            # checkpointing asked for: one marker whose reverse rule is a
            # checkpointed Hessian-vector product (s2sgrad.gradcall)
            values, grads = self._grad_call(t, func, wrt_idx, actuals, schedule, node)
        else:
            g = grad_func(func, wrt_idx, [0], keep_values=keep, hoist=False, name="inner_grad")
            g = optimize(verify(g))
            res = self._splice(g, actuals)
            values, grads = (res[:nout], res[nout:]) if keep else ([], res)
        gradient = _regroup(_real_grads(self, grads, actuals[:nw]), counts, builders, single)
        if t.kind == "grad" and not aux:
            return gradient
        value = out_build(values)
        if aux:
            if not isinstance(value, Seq) or len(value.items) != 2:
                raise self.error(node, "has_aux=True: the function must return (loss, aux)",
                                 cls=OutputError)
            if t.kind == "grad":
                return Seq("tuple", [gradient, value.items[1]])
        return Seq("tuple", [value, gradient])

    def _grad_call(self, t, func, wrt_idx, actuals, schedule, node):
        """(values, gradients) of ``t`` through a checkpointed gradient
        marker (s2sgrad.gradcall).  With ``has_aux`` the marker covers the
        loss; the aux values come from the function's own code, spliced."""
        from .. import gradcall
        from ..invariance import detach_shifts
        from ..ir import verify
        nout = len(func.results)
        loss = detach_shifts(Func(func.name, list(func.params), func.body, func.results[:1],
                                  func.filename, dict(func.info, out_leaves=1)))
        keep = t.kind == "value_and_grad"
        name = getattr(getattr(t.fn, "obj", None), "__name__", None) or "inner"
        res = gradcall.emit_grad_call(self.em, verify(loss), wrt_idx, actuals, keep_value=keep,
                                      schedule=schedule, name=f"{name}_grad", loc=self.loc)
        values, grads = (res[:1], res[1:]) if keep else ([], res)
        if t.has_aux:
            # (its loops marked: the outer sweep checkpoints the aux's code too)
            prim = self._splice(gradcall.mark_loops(func, schedule), actuals)
            values = (values or prim[:1]) + prim[1:nout]
        return values, grads

    def _jvp_call(self, t, primals, tangents, kwargs, node):
        from ..forward import jvp_func
        from ..ir import verify
        from ..optimize import optimize
        wrt, single = self._positions(t, len(primals), node)
        if len(tangents) != len(wrt):
            raise self.error(node, "jvp: one tangent per differentiated argument",
                             cls=S2SGradError)
        func, counts, builders, out_build, free = self._lower_inner(t, primals, kwargs, wrt,
                                                                     node)
        nw = sum(counts)
        jf = optimize(verify(jvp_func(func, list(range(nw)), name="inner_jvp")))
        if t.checkpoint is not None:
            # (the columns of a forward-mode jacobian(f, checkpoint=s)): the
            # loops of the tangent code are the outer reverse sweep's, marked
            # with the schedule so that sweep checkpoints them
            from ..gradcall import mark_loops
            jf = mark_loops(jf, t.checkpoint)
        actuals = [leaf for i in wrt for leaf in _flatten(primals[i], node, self)[0]] + free
        _CONTAINERS = (Seq, DictVal, TreeObj)
        for i, tv in zip(wrt, tangents):
            if isinstance(primals[i], _CONTAINERS) and not isinstance(tv, _CONTAINERS):
                # (a container passed in whole -- a parameter not differentiated --
                # is one opaque value here: its leaves would pair with the wrong
                # tangents, or an array op would meet the container)
                raise self.unsupported(
                    node, "jvp of a container argument with a tangent that is not a container "
                          "built in the function (a parameter, or a computed value)",
                    "build the tangent as a tuple/list/dict literal of arrays in the function "
                    "(e.g. (t0, t1) from separate array arguments)")
        t_leaves = [leaf for tv in tangents for leaf in _flatten(tv, node, self)[0]]
        if len(t_leaves) != nw:
            raise self.error(node, "jvp: each tangent must have its argument's structure",
                             cls=S2SGradError)
        res = self._splice(jf, actuals + t_leaves)
        nout = len(func.results)
        return Seq("tuple", [out_build(res[:nout]), out_build(res[nout:])])

    def _hvp_call(self, t, args, v, kwargs, node):
        from ..forward import jvp_func
        from ..ir import verify
        from ..optimize import optimize
        from ..reverse import grad_func
        wrt, single = self._positions(t, len(args), node)
        func, counts, builders, out_build, free = self._lower_inner(t, args, kwargs, wrt, node)
        if len(func.results) != 1:
            raise self.error(node, "hvp() needs a function with one scalar output",
                             cls=OutputError)
        nw = sum(counts)
        vs = [v] if single else (list(v.items) if isinstance(v, Seq) else None)
        if vs is None or len(vs) != len(wrt):
            raise self.error(node, "hvp: v must have the structure of the differentiated "
                                   "argument(s)", cls=S2SGradError)
        actuals = [leaf for i in wrt for leaf in _flatten(args[i], node, self)[0]] + free
        t_leaves = [leaf for tv in vs for leaf in _flatten(tv, node, self)[0]]
        if len(t_leaves) != nw:
            raise self.error(node, "hvp: v must have the structure of the differentiated "
                                   "argument(s)", cls=S2SGradError)
        from .. import gradcall
        schedule = gradcall.schedule_for(t.checkpoint, func)
        if schedule is not None:
            # checkpointing asked for: one marker whose rules are forward over
            # the checkpointed gradient (s2sgrad.gradcall.HvpCall)
            from ..invariance import detach_shifts
            name = getattr(getattr(t.fn, "obj", None), "__name__", None) or "inner"
            res = gradcall.emit_hvp_call(self.em, verify(detach_shifts(func)), list(range(nw)),
                                         actuals, t_leaves, schedule=schedule,
                                         name=f"{name}_hvp", loc=self.loc)
            return _regroup(_real_grads(self, res, actuals[:nw]), counts, builders, single)
        g = optimize(verify(grad_func(func, list(range(nw)), [0], keep_values=False,
                                      hoist=False, name="inner_grad")))
        jf = optimize(verify(jvp_func(g, list(range(nw)), name="inner_hvp")))
        res = self._splice(jf, actuals + t_leaves)
        return _regroup(_real_grads(self, res[len(g.results):], actuals[:nw]), counts, builders,
                        single)


class _Scope:
    """The enclosing variables a template function (:func:`_basis_template`)
    sees: the user's, plus the names it calls."""
    __slots__ = ("env",)

    def __init__(self, env):
        self.env = env

    def expr(self, node):           # (LocalFunction evaluates defaults; there are none)
        raise AssertionError("template functions have no defaults")


def _basis_template(kind, names, keywords) -> ast.FunctionDef:
    """The function ``hessian``/``jacobian`` inside lowers as: a loop over
    the basis vectors of ``x`` (or of the output, for the reverse-mode
    Jacobian), each a one-hot array shaped and typed like it, the rows or
    columns stacked and reshaped to ``out.shape + x.shape``.  ``names``: the
    call's positional arguments (``x`` the differentiated one)."""
    call = ", ".join(names + keywords)                     # f(*args, **kwargs)
    args = "(" + ", ".join(names) + ("," if len(names) == 1 else "") + ")"
    kw = "".join(", " + k for k in keywords)             # hvp(f)(args, v, **kwargs)
    basis = ("_s2g_np.reshape(_s2g_np.arange({n}) == {i}, _s2g_np.shape({like})) "
             "* _s2g_np.ones_like({like})")
    if kind == "hessian":
        body = f"""
            size = _s2g_np.size(x)
            rows = []
            for i in range(size):
                e_i = {basis.format(n="size", i="i", like="x")}
                rows.append(_s2g_f({args}, e_i{kw}))
            return _s2g_np.reshape(_s2g_np.stack(rows), _s2g_np.shape(x) + _s2g_np.shape(x))
        """
    elif kind == "jacobian_reverse":
        body = f"""
            out, pullback = _s2g_f({call})
            out = _s2g_leaf(out)
            size = _s2g_np.size(out)
            rows = []
            for i in range(size):
                e_i = {basis.format(n="size", i="i", like="out")}
                rows.append(pullback(e_i))
            return _s2g_np.reshape(_s2g_np.stack(rows), _s2g_np.shape(out) + _s2g_np.shape(x))
        """
    else:
        body = f"""
            size = _s2g_np.size(x)
            columns = []
            for j in range(size):
                e_j = {basis.format(n="size", i="j", like="x")}
                columns.append(_s2g_leaf(_s2g_f({args}, (e_j,){kw})[1]))
            J = _s2g_np.stack(columns, axis=-1)
            return _s2g_np.reshape(J, _s2g_np.shape(J)[:-1] + _s2g_np.shape(x))
        """
    src = "def " + kind + "(x):" + textwrap.indent(textwrap.dedent(body), "    ")
    return ast.parse(src).body[0]


class _LeafCheck:
    """``_s2g_leaf(v)`` in a template: ``v`` itself when it is one array,
    else the refusal of a container output (a nested structure of blocks)."""

    def __init__(self, what):
        self.what = what

    def call(self, lw, args, kwargs, node):
        (v,) = args
        if not isinstance(v, (Var, Const)) or P.shape_of(v) is LIST:
            raise lw.unsupported(node, f"{self.what}() of a function returning a container "
                                       f"inside a differentiated function",
                                 "return one array (one block at a time), or use jvp/vjp")
        return v


class LocalPullback:
    """The pullback of ``vjp(g)(x)`` inside the function: calling it splices
    the backward half of ``g``'s vjp, reading the forward half's residuals."""

    def __init__(self, bwd, residuals, nout, counts, builders, single, primals):
        self.bwd = bwd
        self.primals = primals
        self.residuals = residuals
        self.nout = nout
        self.counts = counts
        self.builders = builders
        self.single = single

    def call(self, lw, args, kwargs, node):
        if len(args) != 1 or kwargs:
            raise lw.error(node, "a pullback takes one cotangent", cls=S2SGradError)
        cts = _flatten(args[0], node, lw)[0]
        if len(cts) != self.nout:
            raise lw.error(node, "the cotangent must have the structure of the output",
                           cls=S2SGradError)
        res = lw._splice(self.bwd, list(self.residuals) + cts)
        return _regroup(_real_grads(lw, res, self.primals), self.counts, self.builders,
                        self.single)


def _real_grads(lw, grads, primals):
    """A gradient in its argument's kind, as the API's ``_fix_grad`` gives it at
    the top level: a real argument's gradient is real (the cotangent reaching
    a real leaf through a complex intermediate -- an FFT, ``x * 1j`` --
    carries an imaginary part that pairs with no direction) and has the
    argument's dtype (float32 stays float32), so each leaf gets
    ``grad_like(g, x)``.  Where the gradient is a constant (a symbolic zero),
    it is kept."""
    return [lw.em.grad_like(g, x) if isinstance(g, Var) else g
            for g, x in zip(grads, primals)]


class CheckpointedPullback:
    """The pullback of ``vjp(g, checkpoint=...)(x)`` inside the function:
    calling it emits the checkpointed vjp program and its marker
    (s2sgrad.gradcall.emit_pullback_call)."""

    def __init__(self, func, wrt, actuals, schedule, name, counts, builders, single):
        self.func, self.wrt, self.actuals = func, wrt, actuals
        self.schedule, self.name = schedule, name
        self.counts, self.builders, self.single = counts, builders, single

    def call(self, lw, args, kwargs, node):
        from .. import gradcall
        if len(args) != 1 or kwargs:
            raise lw.error(node, "a pullback takes one cotangent", cls=S2SGradError)
        cts = _flatten(args[0], node, lw)[0]
        if len(cts) != len(self.func.results):
            raise lw.error(node, "the cotangent must have the structure of the output",
                           cls=S2SGradError)
        res = gradcall.emit_pullback_call(lw.em, self.func, self.wrt, self.actuals, cts,
                                          schedule=self.schedule, name=self.name, loc=lw.loc)
        return _regroup(_real_grads(lw, res, self.actuals[:len(res)]), self.counts,
                        self.builders, self.single)


def _regroup(leaves, counts, builders, single):
    out, k = [], 0
    for n, b in zip(counts, builders):
        out.append(b(leaves[k:k + n]))
        k += n
    return out[0] if single else Seq("tuple", out)


def _ordered_free(block: Block, extra) -> list:
    """Vars a block reads that it does not define, in order of first use."""
    defined, out, seen = set(block.params), [], set()

    def use(a):
        if isinstance(a, Var) and a not in defined and a not in seen:
            seen.add(a)
            out.append(a)

    def walk(b, defined):
        defined = set(defined) | set(b.params)
        for e in b.eqns:
            for a in e.atoms():
                if a not in defined:
                    use(a)
            for sub in e.blocks():
                walk(sub, defined)
            defined.update(e.outs)
        for r in b.results:
            if r not in defined:
                use(r)
        return defined

    d = walk(block, defined)
    for r in extra:
        if r not in d:
            use(r)
    return out


__all__ = ["TransformsMixin", "transform_kind", "transformed_value", "fresh_copy",
           "is_schedule_type", "CheckpointedPullback",
           "LocalPullback"]
