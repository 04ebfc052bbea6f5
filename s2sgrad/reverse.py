"""Reverse mode: a Func -> its adjoint Func.

Expects: a verified Func (SSA, one primitive per equation).

Guarantees: a Func whose body is the forward sweep followed by the backward
sweep, in which

* only *active* values get adjoints: values that depend on a differentiated
  input (varied) and that the output depends on (useful);
* every adjoint is built by the primitives' vjp rules through the emitter,
  so the backward sweep is ordinary IR (printable, optimisable,
  differentiable again);
* the first contribution to an adjoint is bound directly and later ones
  are added ("gradients add at branches"), so a value used k times
  receives k contributions;
* a differentiated value reaching an operand that has no derivative rule
  raises :class:`~s2sgrad.errors.NonDifferentiableError` at the user's line.

Adjoint names follow the primal's: the cotangent of ``w`` is ``w_bar``.
"""
from __future__ import annotations

import numpy as np

import collections
import dataclasses

from . import remat as _ckpt
from .errors import NonDifferentiableError, S2SGradError
from .masking import sink_masks
from .ir import Block, Const, Eqn, Func, Var, defined_vars, iter_eqns, rename_reads
from .primitives import core as P
from .primitives.core import SCALAR, Emitter
from .primitives.lists import LIST
from .primitives.control import loop_offset


def _edges(block: Block, edges: dict):
    """Data-flow edges dst <- srcs that carry derivatives (nondiff primitives
    and branch predicates carry none)."""
    for e in block.eqns:
        name = e.prim.name
        if name in ("checkpoint_forward", "checkpoint_backward"):
            # a checkpointed loop's drivers (s2sgrad.remat): every output, and
            # the state its functions start from, may depend on anything
            # they read (the tape carries the state to the backward sweep)
            srcs = list(e.atoms()) + [r for b in e.blocks() for r in b.results]
            for o in e.outs:
                edges.setdefault(o, []).extend(srcs)
            for b in e.blocks():
                for p_ in b.params:
                    edges.setdefault(p_, []).extend(srcs)
                _edges(b, edges)
        elif getattr(e.prim, "region", False):
            if name == "cond":
                for i, o in enumerate(e.outs):
                    edges.setdefault(o, []).extend(
                        [e.params["then"].results[i], e.params["else"].results[i]])
            else:
                body = e.params["body"]
                off = loop_offset(e)
                inits = e.args[off:]
                carries = body.params[off:]
                cond = e.params.get("cond")
                for i, o in enumerate(e.outs):
                    srcs = [inits[i], body.results[i]]
                    edges.setdefault(o, []).extend(srcs)
                    edges.setdefault(carries[i], []).extend(srcs)
                    if cond is not None:
                        edges.setdefault(cond.params[i], []).extend(srcs)
            for b in e.blocks():
                _edges(b, edges)
        elif name == "push":
            # a stack carries what is pushed to what is popped
            edges.setdefault(e.args[0], []).extend(e.args[1:])
        elif name in ("pop", "copy_stack"):
            for o in e.outs:
                edges.setdefault(o, []).append(e.args[0])
        elif not e.prim.nondiff:
            for o in e.outs:
                edges.setdefault(o, []).extend(e.atoms())


def activity(func: Func, wrt: list[Var], outputs: list) -> set:
    """Vars that depend on ``wrt`` (varied) and influence ``outputs`` (useful)."""
    edges: dict = {}
    _edges(func.body, edges)
    fwd: dict = {}
    for dst, srcs in edges.items():
        for s_ in srcs:
            if isinstance(s_, Var):
                fwd.setdefault(s_, []).append(dst)
    varied, work = set(wrt), list(wrt)
    while work:
        v = work.pop()
        for d in fwd.get(v, ()):
            if d not in varied:
                varied.add(d)
                work.append(d)
    useful = {o for o in outputs if isinstance(o, Var)}
    work = list(useful)
    while work:
        v = work.pop()
        for s_ in edges.get(v, ()):
            if isinstance(s_, Var) and s_ not in useful:
                useful.add(s_)
                work.append(s_)
    return varied & useful


def varied(func: Func, wrt: list) -> set:
    """Vars that depend on ``wrt`` through derivative-carrying edges."""
    edges: dict = {}
    _edges(func.body, edges)
    fwd: dict = {}
    for dst, srcs in edges.items():
        for s_ in srcs:
            if isinstance(s_, Var):
                fwd.setdefault(s_, []).append(dst)
    out, work = set(wrt), list(wrt)
    while work:
        for d in fwd.get(work.pop(), ()):
            if d not in out:
                out.add(d)
                work.append(d)
    return out


def _has_real_only(func: Func) -> bool:
    """Has ``func`` an equation of a ``real_only`` primitive, anywhere?"""
    return any(getattr(e.prim, "real_only", False) for e in iter_eqns(func.body))


def guard_real_only(func: Func, wrt: list) -> Func:
    """``func`` with each differentiated operand of a ``real_only`` primitive
    (``np.sign``: piecewise constant on the reals, derivative 0, but ``z / |z|``
    on complex values) checked by ``check_real``, which refuses a complex value
    at run time -- never the silently wrong derivative 0.  The check is an
    effect (kept where the operation's value is not needed), dropped by shape
    specialisation for real dtypes, so real programs pay nothing; operands that
    are not differentiated are not checked."""
    if not _has_real_only(func):
        return func             # (nothing to check: no walk for what varies)
    live = varied(func, wrt)
    check = P.get("check_real")

    def block(b):
        eqns, changed = [], False
        for e in b.eqns:
            if e.blocks():
                params = {k: (block(v) if isinstance(v, Block) else v)
                          for k, v in e.params.items()}
                if any(params[k] is not e.params[k] for k in params):
                    e = Eqn(e.prim, e.args, dict(e.kwargs), tuple(e.outs), params, e.loc)
                    changed = True
            elif getattr(e.prim, "real_only", False):
                for a in e.args:
                    if isinstance(a, Var) and a in live:
                        eqns.append(Eqn(check, (a,), {"what": Const(e.prim.pyname)}, (), {},
                                        e.loc))
                        changed = True
            eqns.append(e)
        return Block(eqns, list(b.params), list(b.results)) if changed else b

    body = block(func.body)
    del block  # (breaks the recursive closure's reference cycle)
    if body is func.body:
        return func
    return Func(func.name, list(func.params), body, list(func.results), func.filename,
                dict(func.info))


def zeros_of(em: Emitter, v):
    """A materialised zero cotangent/tangent for ``v`` (a list of zeros for a
    runtime list)."""
    if P.shape_of(v) is LIST:
        return em.call("list_zeros", v)
    return em.call("zeros_like", v)


def name_derivative(d: Var, primal: Var, suffix: str) -> Var:
    """Name ``d`` after ``primal``: ``w`` -> ``w_bar`` (resolved by codegen, so
    temporaries get ``_t3_bar``)."""
    d.hint = suffix
    d.bar_of = primal
    return d


def _located(exc, eqn):
    loc = eqn.loc
    return exc.located(loc.filename, loc.lineno) if loc else exc


def _err(eqn, msg):
    loc = eqn.loc
    return NonDifferentiableError(msg, filename=loc.filename if loc else None,
                                  lineno=loc.lineno if loc else None,
                                  construct=eqn.prim.name)


class Adjoints:
    """The map from primal Vars to their accumulated cotangents."""

    def __init__(self, em: Emitter):
        self.em = em
        self.bar: dict = {}

    def get(self, v):
        return self.bar.get(v)

    def add(self, v, ct, fresh: set):
        if ct is None:
            return
        prev = self.bar.get(v)
        if prev is None:
            if isinstance(ct, Var) and ct in fresh and ct.hint == self.em.hint:
                name_derivative(ct, v, "_bar")
            self.bar[v] = ct
        else:
            op = "list_add" if P.shape_of(v) is LIST else "add"
            s = self.em.call(op, prev, ct)
            # (two constant cotangents add up to a constant: nothing to name)
            self.bar[v] = name_derivative(s, v, "_bar") if isinstance(s, Var) else s


def backward_block(func: Func, active: set, seeds, em: Emitter) -> Adjoints:
    """Emit the backward sweep of ``func.body`` into ``em``; return the adjoints.
    ``seeds``: (value, cotangent) pairs (a dict's items also do); a value
    seeded twice gets the sum."""
    rv = Reverser(active)
    adj = Adjoints(em)
    for v, s_ in (seeds.items() if isinstance(seeds, dict) else seeds):
        adj.add(v, s_, set())
    rv.backward(func.body.eqns, adj, em)
    return adj


class Reverser:
    """Reverse mode over structured IR.

    ``forward(block)`` copies a block for the forward sweep (fresh region
    equations, so residual exports and stack pushes can be added to them);
    ``backward(eqns, adj, em)`` emits the adjoint of those equations in
    reverse order.  Loop bodies push the values their backward body reads
    (and nothing else) onto stacks created at the top of the function; the
    backward loop pops them.  Branch-local values the backward branch reads
    are exported as extra outputs of the forward ``cond``.
    """

    def __init__(self, active: set, hoist: bool = True, checkpoint=None, remat: bool = False):
        self.active = active
        self.hoist = hoist
        # the schedule of every loop (grad(..., checkpoint=...)), and whether
        # loops marked in the source (s2sgrad.checkpointed, @s2sgrad.checkpoint)
        # are checkpointed (see s2sgrad.remat)
        self.checkpoint = checkpoint
        self.remat = remat
        self.stack_inits: list = []    # new_stack equations, hoisted to the function's top
        self.adjoint_stacks: dict = {}  # stack -> stack of its popped values' cotangents
        self.stack_vars: set = set()    # stacks of the program being reversed
        self.fresh_lists: list = []     # lists created right before a reversed loop
        # stack -> the primitives that read it other than push (pop,
        # copy_stack, unzip): a stack only unzipped (the terms of a reversed
        # loop, in a program that is itself a derivative) gives its pushed
        # values no cotangent -- unzip has no rule, so its results have none
        self.stack_readers: dict = {}

    # ---------------------------------------------------------- forward copy

    def forward(self, block: Block) -> Block:
        eqns = []
        for e in block.eqns:
            if e.prim.name in ("new_stack", "copy_stack"):
                self.stack_vars.update(e.outs)
            if e.prim.name in ("pop", "copy_stack", "unzip") and e.args:
                self.stack_readers.setdefault(e.args[0], set()).add(e.prim.name)
            if e.blocks():
                params = {k: (self.forward(v) if isinstance(v, Block) else v)
                          for k, v in e.params.items()}
                e = Eqn(e.prim, e.args, dict(e.kwargs), tuple(e.outs), params, e.loc)
            eqns.append(e)
        return Block(eqns, list(block.params), list(block.results))

    # ---------------------------------------------------------- backward

    def backward(self, eqns, adj: Adjoints, em: Emitter):
        for eqn in reversed(eqns):
            if not any(o in adj.bar for o in eqn.outs) and not eqn.blocks() and \
                    eqn.prim.name not in ("push", "pop"):
                continue
            if eqn.prim.name == "cond":
                self.backward_cond(eqn, adj, em)
            elif eqn.prim.name in ("for_loop", "while_loop"):
                self.backward_loop(eqn, adj, em)
            elif eqn.prim.name in ("push", "pop"):
                self.backward_stack(eqn, adj, em)
            elif eqn.prim.name in ("new_stack", "copy_stack"):
                continue
            elif any(o in adj.bar for o in eqn.outs):
                self.backward_eqn(eqn, adj, em)

    def _adjoint_loc(self, loc):
        """``loc`` of adjoint code (``kind="adjoint"``): one per forward
        location (the equations of a line share theirs), not one each."""
        if not loc:
            return None
        cache = self.__dict__.setdefault("_adjoint_locs", {})
        hit = cache.get(id(loc))
        if hit is None or hit[0] is not loc:
            hit = cache[id(loc)] = (loc, dataclasses.replace(loc, kind="adjoint"))
        return hit[1]

    def backward_eqn(self, eqn, adj, em):
        prim = eqn.prim
        if prim.nondiff:
            return
        if (prim.opaque or prim.vjp is None) and prim.no_derivative:
            raise _err(eqn, prim.no_derivative)
        if prim.opaque or prim.vjp is None:
            raise _err(eqn, f"'{prim.pyname}' has no derivative rule, but a differentiated "
                            f"value flows into it; compute it from non-differentiated inputs "
                            f"only, or use a supported operation")
        for k, a in eqn.kwargs.items():
            if isinstance(a, Var) and a in self.active:
                raise _err(eqn, f"cannot differentiate with respect to the '{k}' argument of "
                                f"{prim.pyname}; pass a constant there")
        if prim.data_args is not None:
            for i, a in enumerate(eqn.args):
                if prim.data_args(i) and isinstance(a, Var) and a in self.active:
                    raise _err(eqn, f"cannot differentiate with respect to argument {i + 1} "
                                    f"of {prim.pyname} (data there); pass a constant there")
        em.loc = self._adjoint_loc(eqn.loc)
        gs = tuple(adj.get(o) for o in eqn.outs)
        g = gs[0] if len(gs) == 1 else gs
        start = len(em.block.eqns)
        try:
            if getattr(prim, "wants_reverser", False):     # (s2sgrad.gradcall: reads
                cts = prim.vjp(em, eqn, g, rv=self)          # the active set and remat)
            elif prim.eqn_rule:
                cts = prim.vjp(em, eqn, g)
            else:
                out = eqn.outs[0] if len(eqn.outs) == 1 else eqn.outs
                cts = prim.vjp(em, g, out, *eqn.args, **eqn.kwargs)
        except S2SGradError as exc:      # a rule's refusal: point at the user's line
            raise _located(exc, eqn) from None
        fresh = {o for e in em.block.eqns[start:] for o in e.outs}
        for a, ct in zip(eqn.args, cts):
            if isinstance(a, Var) and a in self.active:
                adj.add(a, ct, fresh)

    def backward_stack(self, eqn, adj, em):
        """Reverse of the stack traffic of a program that is itself a
        derivative (grad of grad through loops): the cotangents of popped
        values go onto an adjoint stack, and each push takes its values'
        cotangents back from it -- in reverse order, so the LIFO order lines
        up exactly."""
        st = eqn.args[0]
        if st not in self.active:
            return
        em.loc = self._adjoint_loc(eqn.loc)
        ast_ = self.adjoint_stacks.get(st)
        if ast_ is None:
            ast_ = name_derivative(Var(), st, "_bar")
            self.adjoint_stacks[st] = ast_
            self.stack_inits.append(Eqn(P.get("new_stack"), (), {}, (ast_,), {}, None))
        if eqn.prim.name == "pop":
            cts = [adj.get(o) if adj.get(o) is not None else zeros_of(em, o)
                   for o in eqn.outs]
            em.block.eqns.append(Eqn(P.get("push"), (ast_,) + tuple(cts), {}, (), {}, em.loc))
            return
        if self.stack_readers.get(st, set()) <= {"unzip"}:
            return          # (nothing popped: the pushed values' cotangent is 0)
        vals = eqn.args[1:]
        outs = tuple(name_derivative(Var("_bar", shape=P.shape_of(v)), v, "_bar")
                     if isinstance(v, Var) else Var() for v in vals)
        em.block.eqns.append(Eqn(P.get("pop"), (ast_,), {}, outs, {}, em.loc))
        for v, o in zip(vals, outs):
            if isinstance(v, Var) and v in self.active:
                adj.add(v, o, set())

    def _sub_adjoints(self, adj, em):
        """A branch's adjoints: the enclosing ones seen through an overlay
        that keeps the branch's own additions (``bar.maps[0]``) -- a copy of
        every adjoint so far per branch made the reversal of n branches
        quadratic in n."""
        local = Adjoints(em)
        local.bar = collections.ChainMap({}, adj.bar)
        return local

    def backward_cond(self, eqn, adj, em):
        then, other = eqn.params["then"], eqn.params["else"]
        loc = self._adjoint_loc(eqn.loc)
        branches = []
        for blk in (then, other):
            bem = Emitter(Block(), loc)
            local = self._sub_adjoints(adj, bem)
            for o, r in zip(eqn.outs, blk.results):
                g = adj.get(o)
                if g is not None and isinstance(r, Var) and r in self.active:
                    local.add(r, g, set())
            self.backward(blk.eqns, local, bem)
            branches.append((blk, bem, local))
        defined = [_defined(b) for b in (then, other)]
        changed, seen = [], set()
        for (blk, bem, local), dfn in zip(branches, defined):
            for v, a in local.bar.maps[0].items():      # (the branch's own additions)
                if v not in dfn and a is not adj.bar.get(v) and v not in seen:
                    changed.append(v)
                    seen.add(v)
        effects = any(getattr(e.prim, "effect", False) for _, bem, _ in branches
                      for e in iter_eqns(bem.block))
        if not changed and not effects:
            return
        outs = []
        results = ([], [])
        for k, (blk, bem, local) in enumerate(branches):
            bem.loc = loc
            for v in changed:
                a = local.bar.get(v)
                if a is None:
                    a = zeros_of(bem, v)
                results[k].append(a)
        for v in changed:
            o = name_derivative(Var("_bar", shape=P.shape_of(v)), v, "_bar")
            outs.append(o)
        # export branch-local forward values the backward branches read
        bwd_blocks = []
        for k, ((blk, bem, local), dfn) in enumerate(zip(branches, defined)):
            bwd_blocks.append(Block(bem.block.eqns, [], results[k]))
        self._export_cond_residuals(eqn, bwd_blocks)
        em.block.eqns.append(Eqn(eqn.prim, eqn.args, {}, tuple(outs),
                                 {"then": bwd_blocks[0], "else": bwd_blocks[1]}, loc))
        for v, o in zip(changed, outs):
            adj.bar[v] = o

    def _export_cond_residuals(self, fwd, bwd_blocks):
        """Make forward-branch values read by the backward branches outputs of
        the forward cond, and rename the reads."""
        branches = [fwd.params["then"], fwd.params["else"]]
        defined = [_defined_top(b) for b in branches]
        needed = []
        for k in range(2):
            for v in _reads(bwd_blocks[k]):
                if v in defined[k] and v not in needed:
                    needed.append(v)
        if not needed:
            return
        subst = {}
        new_outs = list(fwd.outs)
        for v in needed:
            # None on the other path: its shape is not v's there
            r = Var(v.hint, shape=P.fresh_shape())
            r.bar_of = v.bar_of
            subst[v] = r
            new_outs.append(r)
            for k, b in enumerate(branches):
                b.results.append(v if v in defined[k] else Const(None))
        fwd.outs = tuple(new_outs)
        for b in bwd_blocks:
            rename_reads(b, subst)

    def backward_loop(self, eqn, adj, em):
        is_for = eqn.prim.name == "for_loop"
        body = eqn.params["body"]
        off = loop_offset(eqn)
        carries = body.params[off:]
        inits = eqn.args[off:]
        act = [i for i, c in enumerate(carries)
               if c in self.active or eqn.outs[i] in self.active]
        outer = [v for v in _free(body) if v in self.active and v not in self.stack_vars]
        stack_traffic = any(e.prim.name in ("push", "pop") and e.args[0] in self.active
                            for e in iter_eqns(body))
        if not act and not outer and not stack_traffic:
            return
        schedule = eqn.params.get("checkpoint") if self.remat else None
        if schedule is None:
            schedule = self.checkpoint
        if schedule is not None and _ckpt.eligible(eqn):
            _ckpt.reverse_checkpointed(self, eqn, adj, em, schedule)
            return
        loc = self._adjoint_loc(eqn.loc)
        em.loc = loc
        # the number of iterations run (a counter carry when the loop can stop early)
        brk = eqn.params.get("break_at")
        if is_for and brk is None:
            iterable = eqn.args[0]
            index_is_bound = True
        else:
            count = self._add_counter(eqn)
            if is_for:
                iterable = em.call("getitem", eqn.args[0], count,
                                   _params={"index": slice(None, _slot0(), None)})
                index_is_bound = True
            else:
                iterable = em.call("range", count)
                index_is_bound = False
        # backward body
        bb = Block()
        bem = Emitter(bb, loc)
        # the cotangent entering an iteration is that of the body's result
        cbar = [name_derivative(Var("_bar", shape=P.shape_of(body.results[i])), carries[i], "_bar")
                for i in act]
        acc = [name_derivative(Var("_bar", shape=v.shape), v, "_bar") for v in outer]
        local = Adjoints(bem)
        for v, a in zip(outer, acc):
            local.bar[v] = a
        for i, cb in zip(act, cbar):
            r = body.results[i]
            if isinstance(r, Var) and r in self.active:
                local.add(r, cb, set())
        self.backward(body.eqns, local, bem)
        bem.loc = loc
        res = []
        unread = set()          # carries the body overwrites without reading
        for i, cb in zip(act, cbar):
            a = local.bar.get(carries[i])
            if a is None:
                unread.add(i)
                if isinstance(inits[i], Const):
                    # a name first bound in the loop (out = x @ W + b, read
                    # after it): its shape may change from one iteration to
                    # the next, so the zero passed down is shaped like the
                    # value the iteration started with, not like this one's
                    a = zeros_of(bem, carries[i])
            res.append(a if a is not None else zeros_of(bem, cb))
        res += [local.bar.get(v) for v in outer]
        bb.results = res
        hoisted = self._hoist_accumulations(bb, act, outer, acc, loc) if self.hoist else {}
        for v in hoisted:
            if v is None:
                continue
            k = outer.index(v)
            if bb.results[len(act) + k] is acc[k]:       # nothing left to accumulate in the loop
                del outer[k], acc[k], bb.results[len(act) + k]
        # residuals: forward-body values the backward body reads
        index = body.params[0] if is_for else None
        bindex = Var(index.hint if index is not None else "_", shape=P.SCALAR)
        subst = {}
        if index is not None and index_is_bound:
            subst[index] = bindex
        fwd_defined = _defined(body) | set(body.params)
        residuals = [v for v in _reads(bb) if v in fwd_defined and v not in subst]
        # Rows of loop-invariant arrays read by the loop index (``xs[t]``) are
        # read again where they live instead of saved (no stack traffic, and
        # the stacked steps of a hoisted product are the array itself).
        reread = self._rereadable(body, residuals, fwd_defined, subst)
        residuals = [v for v in residuals if v not in reread]
        # A carry's value at the end of iteration t is its value at the start
        # of iteration t+1 (and the loop's output after the last one), so the
        # reversed loop passes it down from the previous backward step instead
        # of saving it twice.
        handed_down = []
        for i, c in enumerate(carries):
            r = body.results[i]
            if isinstance(r, Var) and r in residuals and r is not c and r in _defined(body) \
                    and all(body.results[j] is not r for j in range(i)):
                handed_down.append(i)
                residuals.remove(r)
                if c not in residuals:
                    residuals.append(c)
        passed = {}
        for i in handed_down:
            r = body.results[i]
            rp = Var(r.hint, shape=r.shape)
            rp.bar_of = r.bar_of
            subst[r] = rp
            passed[i] = rp
        # One tuple per iteration: carry values as the body starts (their
        # names are reused by the next values), everything else as it ends.
        pops = []
        groups = [[v for v in residuals if v in body.params],
                  [v for v in residuals if v not in body.params]]
        for at_start, group in zip((True, False), groups):
            if not group:
                continue
            st = name_derivative(Var(), group[0], "_stack")
            self.stack_inits.append(Eqn(P.get("new_stack"), (), {}, (st,), {}, None))
            push = Eqn(P.get("push"), (st,) + tuple(group), {}, (), {}, loc)
            if at_start:
                body.eqns.insert(0, push)
            else:
                body.eqns.append(push)
            popped = []
            for v in group:
                r = Var(v.hint, shape=v.shape)
                r.bar_of = v.bar_of
                subst[v] = r
                popped.append(r)
            pops.append(Eqn(P.get("pop"), (st,), {}, tuple(popped), {}, loc))
        rereads = []
        for v, e in reread.items():
            r = Var(v.hint, shape=v.shape)
            r.bar_of = v.bar_of
            args = tuple(subst.get(a, a) if isinstance(a, Var) else a for a in e.args)
            rereads.append(Eqn(e.prim, args, dict(e.kwargs), (r,), dict(e.params), loc))
            subst[v] = r
        rename_reads(bb, subst)
        bb.eqns[:0] = list(reversed(pops)) + rereads
        bb.params = [bindex] + cbar + acc + [passed[i] for i in handed_down]
        bb.results = list(bb.results) + [subst[carries[i]] for i in handed_down]
        # initial adjoints entering the backward loop
        binits = []
        for i in act:
            g = adj.get(eqn.outs[i])
            binits.append(g if g is not None else zeros_of(em, eqn.outs[i]))
        for v in outer:
            g = adj.get(v)
            binits.append(g if g is not None else zeros_of(em, v))
        bouts = [name_derivative(Var("_bar", shape=inits[i].shape if isinstance(inits[i], Var)
                                     else None), inits[i] if isinstance(inits[i], Var)
                                 else carries[i], "_bar") for i in act]
        bouts += [name_derivative(Var("_bar", shape=v.shape), v, "_bar") for v in outer]
        binits += [eqn.outs[i] for i in handed_down]
        bouts += [Var(carries[i].hint) for i in handed_down]
        em.block.eqns.extend(self.fresh_lists)
        self.fresh_lists = []
        em.block.eqns.append(Eqn(P.get("for_loop"), (iterable,) + tuple(binits), {},
                                 tuple(bouts),
                                 {"body": bb, "reverse": not eqn.params.get("reverse")}, loc))
        # accumulators first (they already include v's earlier adjoint), then
        # the carries' contributions to their initial values -- which may be
        # the same variables (s = h; for ...: s = s * h)
        for k, v in enumerate(outer):
            adj.bar[v] = bouts[len(act) + k]
        for k, i in enumerate(act):
            a = inits[i]
            if isinstance(a, Var) and a in self.active:
                b = bouts[k]
                if i in unread:
                    # Overwritten before it is read: its initial value gets no
                    # cotangent once the loop has run (zeros shaped like the
                    # initial value -- the carry may have changed shape, as in
                    # `for row in c: c = ...`), the output's if it has not.
                    b = self._zero_unless_empty(em, iterable, a, b, loc)
                adj.add(a, b, set())
        if hoisted:
            terms, values = hoisted.pop(None)
            lists = em.call("unzip", terms, n=Const(len(values)))
            lists = lists if isinstance(lists, tuple) else (lists,)
            for lst, val in zip(lists, values):
                name_derivative(lst, val, "_list")
            for v, items in hoisted.items():
                for kind, i, j in items:
                    if kind == "u":
                        total = em.call("unbroadcast_sum", lists[i], v)
                    elif kind in ("a", "da"):
                        total = em.call("matmul_vjp_a_sum" if kind == "a" else "dot_vjp_a_sum",
                                        lists[i], v, lists[j])
                    else:
                        total = em.call("matmul_vjp_b_sum" if kind == "b" else "dot_vjp_b_sum",
                                        lists[i], lists[j], v)
                    adj.add(v, total, set())

    def _rereadable(self, body, residuals, fwd_defined, subst):
        """Residuals defined by ``x[i, ...]`` at the top of a loop body, where
        ``x`` and every other index part come from outside the loop and ``i``
        is the loop index: {residual: its getitem equation}.  (Values are
        immutable in the IR: reading ``x[i]`` again gives the same value.)"""
        out = {}
        wanted = set(residuals)
        builds = {}       # lists built in the body from outside values
        for e in body.eqns:
            if e.prim.name == "list_build" and len(e.outs) == 1 and not e.kwargs and \
                    all(not isinstance(a, Var) or a not in fwd_defined for a in e.args):
                # ``[W1s_0, W1s_1, ...]``: a list argument read in the loop, built
                # again backward (a list of references) rather than saved
                builds[e.outs[0]] = e
                if e.outs[0] in wanted:
                    out[e.outs[0]] = e
                continue
            if e.prim.name == "list_get" and len(e.outs) == 1 and e.outs[0] in wanted and \
                    not e.kwargs:
                # ``W1s[i]`` of such a list (or of one from outside the loop)
                xs, k = e.args
                if isinstance(xs, Var) and xs in fwd_defined and xs not in builds:
                    continue
                if isinstance(k, Var) and k not in subst and k in fwd_defined:
                    continue
                if xs in builds and xs not in out:
                    out[xs] = builds[xs]
                out[e.outs[0]] = e
                continue
            if e.prim.name != "getitem" or len(e.outs) != 1 or e.outs[0] not in wanted or \
                    e.params.get("copy") or e.kwargs:
                continue
            x, *parts = e.args
            if not isinstance(x, Var) or x in fwd_defined or P.shape_of(x) is LIST:
                continue
            if all(not isinstance(a, Var) or a in subst or a not in fwd_defined for a in parts):
                out[e.outs[0]] = e
        return out

    def _zero_unless_empty(self, em, iterable, init, g, loc):
        """``zeros_like(init) if len(iterable) > 0 else g`` as a ``cond``."""
        n = em.call("len", iterable)
        pred = em.call("greater", n, Const(0))
        then = Block()
        z = Emitter(then, loc).call("zeros_like", init)
        out = name_derivative(Var("_bar", shape=init.shape), init, "_bar")
        em.block.eqns.append(Eqn(P.get("cond"), (pred,), {}, (out,),
                                 {"then": Block(then.eqns, [], [z]),
                                  "else": Block([], [], [g])}, loc))
        return out

    def _hoist_accumulations(self, bb, act, outer, acc, loc):
        """Turn ``W_bar = W_bar + matmul_vjp_a(g_t, W, h_t)`` in a backward
        loop body (W loop-invariant) into appends of ``g_t`` and ``h_t`` to two
        lists, summed after the loop by one matrix product.  A per-step outer
        product costs a full W-sized write each step; the stacked product is
        one BLAS call (the hand-written BPTT gradient's form)."""
        uses: dict = {}
        for e in bb.eqns:
            for a in e.atoms():
                if isinstance(a, Var):
                    uses[a] = uses.get(a, 0) + 1
            for b in e.blocks():
                for a in _reads(b):
                    uses[a] = uses.get(a, 0) + 2
        for r in bb.results:
            if isinstance(r, Var):
                uses[r] = uses.get(r, 0) + 1
        where = {o: e for e in bb.eqns for o in e.outs}
        hoisted: dict = {}
        values: list = []
        for k, v in enumerate(outer):
            idx = len(act) + k
            cur, chain, terms = bb.results[idx], [], []
            while cur is not acc[k]:
                e = where.get(cur)
                if e is None or e.prim.name != "add" or (chain and uses.get(cur, 0) != 1):
                    break
                chain.append(e)
                terms.append(e.args[1])
                cur = e.args[0]
            if cur is not acc[k] or not chain:
                continue
            keep, lifted = [], []
            for t in terms:
                d = where.get(t)
                if isinstance(t, Var) and d is not None and uses.get(t, 0) == 1 and (
                        (d.prim.name in ("matmul_vjp_a", "dot_vjp_a") and d.args[1] is v) or
                        (d.prim.name in ("matmul_vjp_b", "dot_vjp_b") and d.args[2] is v) or
                        (d.prim.name == "unbroadcast" and d.args[1] is v)):
                    lifted.append(d)
                else:
                    keep.append(t)
            if not lifted:
                continue
            drop = set(map(id, chain + lifted))
            bb.eqns[:] = [e for e in bb.eqns if id(e) not in drop]
            new = acc[k]
            bem = Emitter(bb, loc)
            for t in reversed(keep):
                new = name_derivative(bem.call("add", new, t), v, "_bar")
            bb.results[idx] = new
            terms_out = []
            for d in lifted:
                if d.prim.name == "unbroadcast":            # a bias: sum the g_t
                    terms_out.append(("u", len(values), None))
                    values.append(d.args[0])
                    continue
                kind = "a" if d.prim.name.endswith("_a") else "b"
                g, other = d.args[0], d.args[2] if kind == "a" else d.args[1]
                # (np.dot, x.dot: its own sum, which is the matmul one for the
                # ranks where np.dot is a matrix product)
                terms_out.append((kind if d.prim.name.startswith("matmul") else "d" + kind,
                                  len(values), len(values) + 1))
                values += [g, other]
            hoisted[v] = terms_out
        if values:
            # one tuple of this iteration's factors, unzipped after the loop
            terms = name_derivative(Var(), values[0], "_terms")
            # created just before the reversed loop (not at the top of the
            # function): an enclosing loop runs this one many times, and each
            # run sums only its own factors
            self.fresh_lists.append(Eqn(P.get("new_stack"), (), {}, (terms,), {}, None))
            bb.eqns.append(Eqn(P.get("push"), (terms,) + tuple(values), {}, (), {}, loc))
            hoisted[None] = (terms, values)
        return hoisted

    def _add_counter(self, eqn):
        """Give a loop that may stop early a carry counting its iterations."""
        if "count_at" in eqn.params:
            return eqn.outs[eqn.params["count_at"]]
        body = eqn.params["body"]
        c = Var("n_iter", shape=P.SCALAR)
        c1 = Var("n_iter", shape=P.SCALAR)
        body.eqns.insert(0, Eqn(P.get("add"), (c, Const(1)), {}, (c1,), {}, eqn.loc))
        body.params.append(c)
        body.results.append(c1)
        if "cond" in eqn.params:
            eqn.params["cond"].params.append(Var("n_iter", shape=P.SCALAR))
        out = Var("n_iter", shape=P.SCALAR)
        eqn.args = tuple(eqn.args) + (Const(0),)
        eqn.outs = tuple(eqn.outs) + (out,)
        eqn.params["count_at"] = len(eqn.outs) - 1
        return out



def _slot0():
    from .primitives.indexing import Slot
    return Slot(0)


def _defined_top(block: Block) -> set:
    out = set(block.params)
    for e in block.eqns:
        out.update(e.outs)
    return out


_defined = defined_vars


def _reads(block: Block) -> list:
    """Vars read in a block (nested too), in first-read order."""
    seen, out = set(), []

    def add(a):
        if isinstance(a, Var) and a not in seen:
            seen.add(a)
            out.append(a)

    def walk(b):
        for e in b.eqns:
            for a in e.atoms():
                add(a)
            for nb in e.blocks():
                walk(nb)
        for r in b.results:
            add(r)

    walk(block)
    del walk  # (breaks the recursive closure's reference cycle)
    return out


def _free(block: Block) -> list:
    dfn = _defined(block)
    return [v for v in _reads(block) if v not in dfn]




def seed_for(em: Emitter, out):
    """The cotangent 1 for a scalar output: a literal when the output is known
    to be 0-d, else ``np.ones_like(out)`` (a size-1 array keeps its shape)."""
    if P.shape_of(out) is SCALAR:
        return Const(1.0)
    return em.call("scalar_seed", out, _hint="seed")


def check_float_output(em: Emitter, out, func: Func):
    """``grad`` of an output that does not depend differentiably on the
    arguments: a boolean or integer one is refused (as JAX and autograd do:
    its gradient, zero, would hide a mistake) -- now when it is a constant,
    else at run time (``check_float_output``, dropped by specialisation for
    float values); a float one gets the zero gradient."""
    if isinstance(out, Const):
        v = out.value
        if isinstance(v, (bool, int, np.bool_, np.integer)):
            from .errors import OutputTypeError
            raise OutputTypeError(f"'{func.name}' returns {v!r}, a constant of type "
                                  f"{type(v).__name__}; grad requires a real-valued (float) "
                                  f"output", filename=func.filename)
        return
    em.call("check_float_output", out)


def grad_func(func: Func, wrt: list[int], seed_results: list[int], *, keep_values: bool,
              name: str | None = None, cotangent_params: bool = False,
              hoist: bool = True, checkpoint=None, remat: bool = False) -> Func:
    """The gradient of ``func``.

    ``wrt``: indices of the parameters to differentiate.  ``seed_results``:
    indices of the results seeded with 1 (``grad``) or, with
    ``cotangent_params``, with new parameters ``<name>_bar`` (``vjp``).
    Results: ``func``'s results if ``keep_values``, then one adjoint per
    ``wrt`` parameter.  ``hoist=False`` keeps loop weight accumulations in
    the loop (for a gradient that will be differentiated again).
    ``checkpoint``: a schedule (:mod:`s2sgrad.schedules`) for every loop;
    ``remat``: honour the loops and helpers the source marks for
    checkpointing (:mod:`s2sgrad.remat`).
    """
    func = guard_real_only(func, [func.params[i] for i in wrt])
    wrt_vars = [func.params[i] for i in wrt]
    seeded = [func.results[i] for i in seed_results]
    active = activity(func, wrt_vars, seeded)
    rv = Reverser(active, hoist=hoist, checkpoint=checkpoint, remat=remat)
    fwd = rv.forward(func.body)
    body = Block(list(fwd.eqns))
    em = Emitter(body)
    params = list(func.params)
    # (result, seed) pairs, not a dict: a value returned twice (``return x, x``,
    # ``[y, y]``) receives the sum of both outputs' cotangents
    seeds = []
    for r in seeded:
        if cotangent_params:
            p = Var(f"{r.hint}_bar" if isinstance(r, Var) else "out_bar")
            p.shape = P.shape_of(r) if isinstance(r, Var) else None
            params.append(p)
            if isinstance(r, Var) and r in active:
                seeds.append((r, p))
        elif isinstance(r, Var) and r in active:
            em.loc = None
            seeds.append((r, seed_for(em, r)))
            if any(e.prim.name == "astype" and r in e.outs for e in func.body.eqns):
                check_float_output(em, r, func)      # (x.astype(int): a cast to integers)
        else:
            check_float_output(em, r, func)
    adj = Adjoints(em)
    for v, s_ in seeds:
        adj.add(v, s_, set())
    rv.backward(fwd.eqns, adj, em)
    body.eqns[:0] = rv.stack_inits
    grads = []
    em.loc = None
    for v in wrt_vars:
        g = adj.get(v)
        if g is None:
            g = name_derivative(em.call("zeros_like", v), v, "_bar")
        grads.append(g)
    results = (list(func.results) if keep_values else []) + grads
    info = dict(func.info)
    info.update(kind="grad", wrt=list(wrt), nparams_primal=len(func.params))
    # a cotangent masked by a where is 0 where the mask drops it, also past
    # partials that are not finite there (the double-where NaN): s2sgrad.masking
    return sink_masks(Func(name or f"{func.name}_grad", params, body, results, func.filename,
                           info))


_EXTERNAL_LOADS = ("load_global", "load_cell", "load_object", "load_attr", "load_item")


def split_vjp(g: Func, nprimal: int, nout: int, nvalues: int | None = None,
              snapshot: bool = False):
    """Split a gradient Func with cotangent parameters into a forward Func
    (primal inputs -> outputs + residuals) and a backward Func (residuals +
    cotangents -> input cotangents), so a pullback reuses forward values.
    ``nout`` results have a cotangent parameter; ``g`` returns ``nvalues``
    values (default ``nout``; more with ``has_aux``: the aux outputs) before
    the input cotangents.

    Equations that depend on a cotangent parameter go backward; all others
    stay forward.  Residuals are the forward values the backward part reads.

    ``snapshot`` (a pullback handed to the user, :func:`s2sgrad.vjp`): the
    residuals that may share memory with an argument or with an array read
    live from outside (a global, an attribute) are copies taken by the
    forward half, so a pullback called after the caller changed that array
    in place (``out, pb = vjp(f)(x); x[0] = 5; pb(1.0)``) is still the
    derivative at the forward point.
    """
    cts = set(g.params[nprimal:nprimal + nout])
    def reads(e):
        r = [a for a in e.atoms() if isinstance(a, Var)]
        for b in e.blocks():
            r += _free(b)
        return r

    def pushed_stacks(e):
        out = set()
        if e.prim.name == "push":
            out.add(e.args[0])
        for b in e.blocks():
            for e2 in b.eqns:
                out |= pushed_stacks(e2)
        return out

    # A value read from a list that the backward half fills (hoisted
    # accumulations) is backward too: iterate to a fixpoint.
    filled_back: set = set()
    while True:
        fwd_eqns, bwd_eqns, back = [], [], set(cts)
        for e in g.body.eqns:
            if any(a in back or a in filled_back for a in reads(e)) or e.prim.name == "pop":
                bwd_eqns.append(e)
                back.update(e.outs)
            else:
                fwd_eqns.append(e)
        more = set().union(*[pushed_stacks(e) for e in bwd_eqns]) - filled_back
        if not more:
            break
        filled_back |= more
    # lists the backward half fills are created there, fresh for each pullback
    moved = [e for e in fwd_eqns if e.prim.name == "new_stack" and e.outs[0] in filled_back]
    fwd_eqns = [e for e in fwd_eqns if not any(e is m for m in moved)]
    bwd_eqns = moved + bwd_eqns
    # the backward half pops the forward stacks: give it copies, so a
    # pullback can be called more than once
    # (in program order: the copies are printed in this order)
    stacks = [e.outs[0] for e in fwd_eqns if e.prim.name == "new_stack"]
    copies, subst = [], {}
    for st in stacks:
        if any(st in reads(e) for e in bwd_eqns):
            c = Var(st.hint)
            c.bar_of = st.bar_of
            subst[st] = c
            copies.append(Eqn(P.get("copy_stack"), (st,), {}, (c,), {}, None))
    if subst:
        blk = Block(bwd_eqns)
        rename_reads(blk, subst)
        bwd_eqns = copies + blk.eqns
    bwd_defined = {o for e in bwd_eqns for o in e.outs} | cts
    nvalues = nout if nvalues is None else nvalues
    grads = g.results[nvalues:]
    residuals, seen = [], set()
    for a in [a for e in bwd_eqns for a in reads(e)] + list(grads):
        if isinstance(a, Var) and a not in bwd_defined and a not in seen:
            seen.add(a)
            residuals.append(a)
    primal_params = g.params[:nprimal]
    exported = list(residuals)
    if snapshot:
        from .alias import IRAliases
        groups = IRAliases(g)
        outside = {groups.find(v) for v in primal_params} | {
            groups.find(e.outs[0]) for e in fwd_eqns if e.prim.name in _EXTERNAL_LOADS}
        # the outputs (and aux) handed to the caller, who may change them in
        # place before calling the pullback (``r, pb = vjp(f)(w); r -= y; pb(r)``)
        outside |= {groups.find(v) for v in g.results[:nvalues] if isinstance(v, Var)}
        # a tape holds what its pushes pushed (the carry ``h = x`` of a loop's
        # first step, an array also appended to an output list): by value
        pushed: dict = {}

        def collect(eqns):
            for e in eqns:
                if e.prim.name == "push":
                    pushed.setdefault(e.args[0], []).extend(e.args[1:])
                for b in e.blocks():
                    collect(b.eqns)
        collect(fwd_eqns)
        seen_tapes: set = set()

        def shared(v):
            if not isinstance(v, Var):
                return False
            if groups.find(v) in outside:
                return True
            if v in pushed and v not in seen_tapes:
                seen_tapes.add(v)
                return any(shared(a) for a in pushed[v])
            return False
        for k, r in enumerate(residuals):
            seen_tapes.clear()
            if shared(r) and P.shape_of(r) is not P.SCALAR:
                c = Var(r.hint)
                fwd_eqns.append(Eqn(P.get("snapshot"), (r,), {}, (c,), {}, None))
                exported[k] = c
    fwd = Func(g.name.replace("_vjp", "_fwd"), primal_params, Block(fwd_eqns),
               list(g.results[:nvalues]) + exported, g.filename, dict(g.info, tuple_result=True))
    bwd = Func(g.name.replace("_vjp", "_bwd"), residuals + list(g.params[nprimal:]),
               Block(bwd_eqns), list(grads), g.filename, dict(g.info, tuple_result=True))
    return fwd, bwd
