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
``hessian``/``jacobian`` inside a differentiated function are refused.
"""
from __future__ import annotations

import inspect

from ..errors import OutputError, S2SGradError
from ..ir import Block, Const, Eqn, Func, Var
from ..primitives import core as P
from .values import DictVal, LocalFunction, Seq, Static, Transform, TreeObj

_KINDS = ("grad", "value_and_grad", "jvp", "hvp", "vjp")


def transform_kind(obj):
    """For ``s2sgrad.grad`` & co.: the kind of transformation they make."""
    from .. import api, higher
    table = {id(api.grad): "grad", id(api.value_and_grad): "value_and_grad",
             id(higher.jvp): "jvp", id(higher.hvp): "hvp", id(api.vjp): "vjp",
             id(higher.hessian): "hessian", id(higher.jacobian): "jacobian"}
    return table.get(id(obj))


def transformed_value(obj):
    """An already-transformed function object (``dg = grad(g)`` outside, a
    ``@grad``-decorated helper) as a :class:`Transform`, or None."""
    from .. import api, higher
    kinds = {api.GradFunction: "grad", api.ValueAndGradFunction: "value_and_grad",
             higher.JVPFunction: "jvp", higher.HVPFunction: "hvp", api.VJPFunction: "vjp"}
    kind = kinds.get(type(obj))
    if kind is None:
        if isinstance(obj, api._Transformed):
            return Transform(type(obj).__name__, None)
        return None
    inner = transformed_value(obj.fn)
    fn = inner if inner is not None else Static(obj.fn)
    wrt = obj.wrt[0] if obj._single else tuple(obj.wrt)
    return Transform(kind, fn, wrt, getattr(obj, "has_aux", False))


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
            return Seq(v.kind, out, fields=v.fields)
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
        if kind in ("hessian", "jacobian"):
            raise self.unsupported(node, f"{kind}() inside a differentiated function",
                                   "use hvp or jvp of grad (one direction at a time), or "
                                   "compute it outside")
        if not args:
            raise self.error(node, f"{kind}() needs the function to transform",
                             cls=S2SGradError)
        opts = {}
        for k, v in kwargs.items():
            if k == "checkpoint":
                # the inner derivative is differentiated again: its loops are
                # reversed with stacks (s2sgrad.remat.eligible), so a schedule
                # here would not be honoured
                raise self.unsupported(
                    node, f"the argument 'checkpoint' of {kind}() inside a differentiated "
                          f"function (a derivative that is differentiated again is not "
                          f"checkpointed)",
                    f"drop checkpoint= here (marked loops and @checkpoint helpers give the "
                    f"same numbers uncheckpointed), or pass checkpoint= to the outer "
                    f"transform, which checkpoints the loops outside this {kind}()")
            if k not in ("wrt", "has_aux") or not isinstance(v, Const):
                raise self.unsupported(node, f"the argument '{k}' of {kind}() inside a "
                                             f"differentiated function",
                                       "pass wrt and has_aux as constants")
            opts[k] = v.value
        if len(args) > 1:
            raise self.error(node, f"{kind}(f) takes options by keyword", cls=S2SGradError)
        fn = args[0]
        if isinstance(fn, Static):
            fn = transformed_value(fn.obj) or fn
        return Transform(kind, fn, opts.get("wrt", 0), opts.get("has_aux", False))

    # ------------------------------------------------------------ calling

    def call_transform(self, t: Transform, args, kwargs, node):
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
        from ..reverse import _substitute
        sub = {p: a for p, a in zip(g.params, actuals)}
        _substitute(g.body, sub)
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
            g = grad_func(func, wrt_idx, list(range(nout)), keep_values=True,
                          cotangent_params=True, hoist=False, name="inner_vjp")
            g = optimize(verify(g))
            fwd, bwd = split_vjp(g, nprimal=len(func.params), nout=nout)
            res = self._splice(optimize(verify(fwd)), actuals)
            outs, residuals = res[:nout], res[nout:]
            return Seq("tuple", [out_build(outs),
                                 LocalPullback(bwd, residuals, nout, counts, builders,
                                               single)])
        aux = t.has_aux
        if aux and nout < 1:
            raise self.error(node, "has_aux=True: the function must return (loss, aux)",
                             cls=OutputError)
        if not aux and nout != 1:
            raise self.error(node, f"{t.kind}() needs a function with one scalar output",
                             cls=OutputError)
        keep = t.kind == "value_and_grad" or aux
        g = grad_func(func, wrt_idx, [0], keep_values=keep, hoist=False, name="inner_grad")
        g = optimize(verify(g))
        res = self._splice(g, actuals)
        values, grads = (res[:nout], res[nout:]) if keep else ([], res)
        gradient = _regroup(grads, counts, builders, single)
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
        actuals = [leaf for i in wrt for leaf in _flatten(primals[i], node, self)[0]] + free
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
        g = optimize(verify(grad_func(func, list(range(nw)), [0], keep_values=False,
                                      hoist=False, name="inner_grad")))
        jf = optimize(verify(jvp_func(g, list(range(nw)), name="inner_hvp")))
        vs = [v] if single else (list(v.items) if isinstance(v, Seq) else None)
        if vs is None or len(vs) != len(wrt):
            raise self.error(node, "hvp: v must have the structure of the differentiated "
                                   "argument(s)", cls=S2SGradError)
        actuals = [leaf for i in wrt for leaf in _flatten(args[i], node, self)[0]] + free
        t_leaves = [leaf for tv in vs for leaf in _flatten(tv, node, self)[0]]
        res = self._splice(jf, actuals + t_leaves)
        return _regroup(res[len(g.results):], counts, builders, single)


class LocalPullback:
    """The pullback of ``vjp(g)(x)`` inside the function: calling it splices
    the backward half of ``g``'s vjp, reading the forward half's residuals."""

    def __init__(self, bwd, residuals, nout, counts, builders, single):
        self.bwd = bwd
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
        return _regroup(res, self.counts, self.builders, self.single)


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
           "LocalPullback"]
