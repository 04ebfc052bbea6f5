"""Checkpointing (rematerialization) of loops in reverse mode.

Expects: a loop equation of the forward sweep (``for_loop`` or
``while_loop``, as :class:`s2sgrad.reverse.Reverser` copies it), a schedule
(:mod:`s2sgrad.schedules`), and the reverser's active set.

Guarantees: instead of pushing every iteration's values onto stacks, the
forward sweep runs the loop through ``checkpoint_forward`` -- a *segment*
function generated from the body (the loop over a slice of its iterations,
storing nothing) driven by the schedule, which keeps some carried states
(snapshots) in a tape -- and the backward sweep runs ``checkpoint_backward``
with a *step* function: the same body recorded as reverse mode records any
loop (stacks, hoisted weight gradients) for a slice of iterations, then
its reversed loop.  The step function is built by reversing a copy of the
loop with a fresh :class:`~s2sgrad.reverse.Reverser`, so whatever reverse
mode emits for a loop body (branches, nested loops, lists) is what the
step runs.  A snapshot is the loop's carried state: exactly the values the
body reads from the previous iteration.  Values the body reads from outside
the loop are passed to the segment function as default arguments (bound
when the loop runs, so a tape of an enclosing loop's iteration keeps its
own), and are read by the backward equation too, so no later statement
writes into their buffers.  Recomputation runs the same primitives on the
same values in the same order, so the gradient equals the stored one
exactly.

Random draws are replayed, not redrawn: the generators the body draws from
become carried state (:func:`_carry_generators`), so a snapshot records
each generator's state and a recomputation draws from a throwaway copy in
that state (:class:`s2sgrad.schedules.GeneratorState`); only the forward
sweep draws from the user's generator, once per iteration, as a plain call
does.

Loops whose body moves values through stacks (the loops of a gradient being
differentiated again in reverse mode) are left to the ordinary reversal;
a checkpointed inner gradient never reaches here that way: its call is one
marker whose reverse rule is a checkpointed hvp (:mod:`s2sgrad.gradcall`).
Forward mode differentiates the two drivers (:mod:`s2sgrad.forward`:
tangent segment and step functions, the drivers unchanged), so a gradient
differentiated in forward mode (``hvp``, ``jvp(grad(...))``) keeps them.
"""
from __future__ import annotations

import dataclasses

from .ir import Block, Const, Eqn, Var, defined_vars, iter_eqns
from .primitives import core as P
from .primitives.core import Emitter
from .primitives.control import loop_offset


def eligible(eqn) -> bool:
    """Whether a loop can be checkpointed: its body has no stack traffic, and
    every random draw in it can be replayed -- it reads a generator from
    outside the loop (whose state the snapshots hold, see
    :func:`_carry_generators`) or one the body makes from a seed.  A
    generator made inside from fresh entropy (``np.random.default_rng()``)
    would give other numbers when recomputed: such a loop is reversed the
    ordinary way, its draws stored."""
    from .draws import is_draw
    for e in iter_eqns(eqn.params["body"]):
        if e.prim.name in ("push", "pop", "new_stack", "copy_stack", "checkpoint_forward",
                           "checkpoint_backward"):
            return False
        if is_draw(e) and not e.args and not e.kwargs:
            return False              # a generator seeded from the OS's entropy
        if is_draw(e) and e.args and isinstance(e.args[0], Const) and \
                e.prim.name in ("default_rng", "RandomState") and e.args[0].value is None:
            return False
    cond = eqn.params.get("cond")
    if cond is not None and any(e.blocks() or getattr(e.prim, "effect", False)
                                for e in iter_eqns(cond)):
        return False
    return True


def reverse_checkpointed(rv, eqn, adj, em, schedule):
    """Emit the checkpointed reversal of loop ``eqn`` (see the module doc).
    ``rv`` is the enclosing :class:`~s2sgrad.reverse.Reverser`."""
    from .reverse import Adjoints, Reverser, _free, name_derivative, zeros_of
    is_while = eqn.prim.name == "while_loop"
    # a helper (@s2sgrad.checkpoint) is a loop of one iteration: its segment
    # and step functions are straight-line code, so temporaries are written
    # in place and die as in any straight-line adjoint
    straight = type(schedule).__name__ == "Remat"
    if is_while or eqn.params.get("break_at") is not None:
        rv._add_counter(eqn)
    _carry_generators(eqn)
    body = eqn.params["body"]
    off = loop_offset(eqn)
    carries = body.params[off:]
    inits = list(eqn.args[off:])
    outs = list(eqn.outs)
    loc = dataclasses.replace(eqn.loc, kind="adjoint") if eqn.loc else None
    count_at = eqn.params.get("count_at")
    stem = eqn.params.get("helper") or _stem(carries)
    act = [i for i, c in enumerate(carries) if c in rv.active or outs[i] in rv.active]
    outer = [v for v in _free(body) if v in rv.active and v not in rv.stack_vars]
    if is_while:
        outer += [v for v in _free(eqn.params["cond"]) if v in rv.active and v not in outer
                  and v not in rv.stack_vars]

    # ---- forward: the loop becomes a segment function driven by the schedule
    steps = Var("steps")
    state = [Var(c.hint, shape=c.shape) for c in carries]
    if straight:
        segment = _straight_segment(body, steps, state)
    else:
        prefix, seg_loop = _segment_loop(eqn, steps, state, count_at)
        segment = Block(prefix + [seg_loop], [steps] + state, list(seg_loop.outs))
    tape = Var(f"{stem}_tape")
    eqn.prim = P.get("checkpoint_forward")
    eqn.args = (eqn.args[0] if not is_while else Const(None),) + tuple(inits)
    eqn.outs = tuple(outs) + (tape,)
    eqn.params = {"segment": segment, "schedule": schedule, "count_at": count_at,
                  "name": f"{stem}_segment", "straight": straight}

    # ---- backward: a step function, reverse mode of a copy of the loop
    bsteps = Var("steps")
    bstate = [Var(c.hint, shape=c.shape) for c in carries]
    copy_eqns, mapping = _clone_eqns(segment.eqns, [steps] + state, [bsteps] + bstate)
    rename = dict(mapping)
    rename.update(zip(state, bstate))
    finals = [rename.get(r, r) if isinstance(r, Var) else r for r in segment.results]
    active = set(rv.active)
    active |= {mapping[v] for v in rv.active if v in mapping}
    active |= {bstate[i] for i in act} | {finals[i] for i in act if isinstance(finals[i], Var)}
    sub = Reverser(active, hoist=rv.hoist, checkpoint=None, remat=rv.remat)
    sub.stack_vars = rv.stack_vars
    fwd = sub.forward(Block(copy_eqns))
    sblock = Block()
    sem = Emitter(sblock, loc)
    bars = [name_derivative(Var("_bar", shape=P.shape_of(outs[i])), carries[i], "_bar")
            for i in act]
    # a loop's step adds to the adjoints of what it reads from outside
    # (accumulators passed from step to step); a helper's runs once
    accs = [] if straight else \
        [name_derivative(Var("_bar", shape=v.shape), v, "_bar") for v in outer]
    local = Adjoints(sem)
    for v, a in zip(outer, accs):
        local.bar[v] = a
    for i, b in zip(act, bars):
        if isinstance(finals[i], Var):
            local.add(finals[i] if straight else fwd.eqns[-1].outs[i], b, set())
    sub.backward(fwd.eqns, local, sem)
    sem.loc = loc
    results = []
    for i, b in zip(act, bars):
        g = local.get(bstate[i])
        if straight:
            results.append(Const(None))      # a helper's results are not read by it
        else:
            results.append(g if g is not None else zeros_of(sem, b))
    for v in outer:
        g = local.get(v)
        results.append(g if g is not None else zeros_of(sem, v))
    saved, nsaved = [], 0
    if getattr(schedule, "policy", None) == "save_dots" and rv.hoist:
        # (not in a gradient differentiated again: forward mode runs the
        # helper's step recomputing everything, s2sgrad.forward)
        saved = _save_dots(eqn, segment, fwd, sblock, mapping)
        nsaved = len(saved)
        outs = list(eqn.outs[:-1])
    # (the saved products are state too, None in the tape's snapshot)
    unused = [Var("_", shape=P.fresh_shape()) for _ in saved]
    step = Block(sub.stack_inits + fwd.eqns + sblock.eqns,
                 [bsteps] + bstate + unused + bars + accs + saved, results)
    em.loc = loc
    bin_ = []
    for i in act:
        g = adj.get(outs[i])
        bin_.append(g if g is not None else zeros_of(em, outs[i]))
    if not straight:
        for v in outer:
            g = adj.get(v)
            bin_.append(g if g is not None else zeros_of(em, v))
    bouts = [name_derivative(Var("_bar", shape=inits[i].shape if isinstance(inits[i], Var)
                                 else None), inits[i] if isinstance(inits[i], Var)
                             else carries[i], "_bar") for i in act]
    bouts += [name_derivative(Var("_bar", shape=v.shape), v, "_bar") for v in outer]
    # the values the segment function reads from outside: read here too, so
    # they stay alive and unchanged until the recomputation has run
    keep = [v for v in _free(segment) if isinstance(v, Var)]
    em.block.eqns.append(Eqn(P.get("checkpoint_backward"),
                             (tape,) + tuple(bin_) + tuple(outs[len(outs) - nsaved:])
                             + tuple(keep), {}, tuple(bouts),
                             {"step": step, "nbars": len(act), "naccs": len(accs),
                              "nsaved": nsaved, "name": f"{stem}_step",
                              "straight": straight}, loc))
    for k, v in enumerate(outer):
        if straight:
            adj.add(v, bouts[len(act) + k], set())
        else:
            adj.bar[v] = bouts[len(act) + k]
    for k, i in enumerate(act):
        a = inits[i]
        if isinstance(a, Var) and a in rv.active:
            adj.add(a, bouts[k], set())


# values a name for another value's memory (no bytes of their own)
_VIEW_PRIMS = {"getitem", "transpose", "reshape", "ravel", "squeeze", "expand_dims",
               "swapaxes", "moveaxis", "broadcast_to", "broadcast_like", "unreduce"}


def record_parts(step):
    """The values a step function stores per recorded step, with how many
    copies: ``[(Var, count)]``.  A value pushed by its recording loop counts
    once (a view of another value, like ``xs[t]``, not at all); a factor of
    a hoisted weight gradient pushed by its reversed loop counts once for
    its stacked copy (``stack_steps``) and once more if the reversed loop
    computed it.  Summing ``count`` times each value's bytes gives one
    step's record (:func:`s2sgrad.schedules.record_bytes`)."""
    out = []
    defs = {}
    for e in iter_eqns(step):
        for o in e.outs:
            defs[o] = e

    def fresh(v):
        e = defs.get(v)
        return e is not None and e.prim.name not in _VIEW_PRIMS and e.prim.name != "pop" \
            and not (e.prim.name == "getitem" and not e.params.get("copy"))

    for e in step.eqns:
        if e.prim.name not in ("for_loop", "while_loop"):
            continue
        back = e.params.get("reverse", False)
        for x in iter_eqns(e.params["body"]):
            if x.prim.name != "push":
                continue
            for a in x.args[1:]:
                if not isinstance(a, Var):
                    continue
                if back:
                    out.append((a, 2 if fresh(a) else 1))
                elif a not in defs or fresh(a) or defs[a].prim.name == "pop":
                    out.append((a, 1))          # (a carried value is a body parameter)
    return out


def count_records(func):
    """Give each ``Budget`` schedule the number of values its loop's step
    function stores per step (:func:`record_parts`, on the optimised step:
    what the budget's arithmetic takes a recorded step to hold before shape
    specialisation measures it in bytes).  Rewrites ``func`` in place."""
    steps = {}
    for e in iter_eqns(func.body):
        if e.prim.name == "checkpoint_backward":
            steps[e.args[0]] = e.params["step"]
    if not steps:
        return func             # (no checkpointed loop: no budget to count for)
    for e in iter_eqns(func.body):
        sched = e.params.get("schedule") if e.prim.name == "checkpoint_forward" else None
        if type(sched).__name__ == "Budget" and e.outs[-1] in steps:
            units = sum(m for _, m in record_parts(steps[e.outs[-1]]))
            e.params["schedule"] = type(sched)(sched.bytes, record=sched.record,
                                               units=max(1, units))
    return func


def _straight_segment(body, steps, state):
    """A helper's segment function: its one-iteration loop body as
    straight-line code (the same equations), reading ``state`` for the
    loop's carries."""
    from .ir import rename_reads
    sub = dict(zip(body.params[1:], state))
    sub[body.params[0]] = Const(0)               # the loop index
    block = Block(body.eqns, [], list(body.results))
    rename_reads(block, sub)
    return Block(block.eqns, [steps] + state, block.results)


def _carry_generators(eqn) -> int:
    """Make the random generators the loop's draws read from outside carried
    state of the loop (passed through unchanged by every iteration), so that
    a snapshot holds the generator's state at its iteration and every
    recomputation draws the same numbers from a throwaway copy
    (:func:`s2sgrad.schedules.freeze`); the forward sweep draws from the
    user's generator, which so advances exactly as in one plain call.
    Returns how many generators were added."""
    from .draws import is_draw
    from .primitives.random import TOKENS, token_kind
    body = eqn.params["body"]
    inside = defined_vars(body)
    gens = []
    for e in iter_eqns(body):
        if not (is_draw(e) and e.args) or token_kind(e.args[0]) is None:
            continue
        g = e.args[0]
        if isinstance(g, Var) and g in inside:
            continue              # carried already, or made inside (from a seed)
        if not any(_same_atom(g, x) for x in gens):
            gens.append(g)
    cond = eqn.params.get("cond")
    for g in gens:
        token = TOKENS[token_kind(g)]
        hint = g.hint if isinstance(g, Var) and g.hint else \
            ("np_random" if token_kind(g) == "RandomState" else "rng")
        p = Var(hint, shape=token)
        _replace_atom(body, g, p)
        body.params.append(p)
        body.results.append(p)
        if cond is not None:
            cond.params.append(Var(hint, shape=token))
        eqn.args = tuple(eqn.args) + (g,)
        eqn.outs = tuple(eqn.outs) + (Var(hint, shape=token),)
    return len(gens)


def _same_atom(a, b):
    if isinstance(a, Var) or isinstance(b, Var):
        return a is b
    return a.value is b.value


def _replace_atom(block, old, new):
    """Read ``new`` wherever ``block`` (and its regions) reads ``old``."""
    def sub(a):
        return new if not isinstance(a, str) and a is not None and \
            isinstance(a, (Var, Const)) and _same_atom(a, old) else a
    for e in block.eqns:
        e.args = tuple(sub(a) for a in e.args)
        e.kwargs = {k: sub(v) for k, v in e.kwargs.items()}
        for b in e.blocks():
            _replace_atom(b, old, new)
    block.results = [sub(r) for r in block.results]


# the products policy="save_dots" keeps (JAX's checkpoint_policies.dots_saveable)
_DOTS = {"matmul", "dot", "tensordot", "einsum", "inner", "outer", "vdot"}


def _save_dots(eqn, segment, fwd, sblock, mapping):
    """``policy="save_dots"``: the matrix products whose values the step
    function's backward part needs (directly, or through the elementwise
    work recomputed from them) are kept by the forward sweep instead of
    recomputed -- extra results of the segment function (state the
    forward equation returns), read by the step as parameters; the step
    recomputes only what lies between them and its adjoint.  A product the
    backward part does not need (``W2 @ a``, whose adjoint reads ``W2`` and
    ``a`` only) is not kept.  Returns the step's parameters for them."""
    needed = set()
    for e in sblock.eqns:
        needed |= _reads_deep(e)
    needed |= {r for r in sblock.results if isinstance(r, Var)}
    for e in reversed(fwd.eqns):
        if any(o in needed for o in e.outs):
            needed |= _reads_deep(e)
    inverse = {new: old for old, new in mapping.items()}
    dots = [e for e in fwd.eqns
            if e.prim.name in _DOTS and len(e.outs) == 1 and e.outs[0] in needed
            and e.outs[0] in inverse]
    params = []
    for e in dots:
        fwd.eqns.remove(e)
        d = e.outs[0]
        params.append(d)                    # the step reads it, no longer computes it
        orig = inverse[d]
        segment.params.append(Var(orig.hint or "dot", shape=P.fresh_shape()))
        segment.results.append(orig)
        eqn.args = tuple(eqn.args) + (Const(None),)
        eqn.outs = eqn.outs[:-1] + (Var(orig.hint or "dot", shape=orig.shape),) + eqn.outs[-1:]
    return params


def _reads_deep(e):
    """What ``e`` reads for its value (operands read only for their shape,
    like ``unbroadcast``'s target, are not)."""
    out = {a for i, a in enumerate(e.args)
           if isinstance(a, Var) and not P.shape_only(e.prim.name, i)}
    out |= {a for a in e.kwargs.values() if isinstance(a, Var)}
    for b in e.blocks():
        for x in b.eqns:
            out |= _reads_deep(x)
        out |= {r for r in b.results if isinstance(r, Var)}
    return out


def _segment_loop(eqn, steps, state, count_at):
    """The original loop over ``steps`` from ``state``, with fresh outputs (a
    while loop also stops after ``len(steps)`` iterations); returns the
    equations computed before it and the loop."""
    params = {k: v for k, v in eqn.params.items() if k != "checkpoint"}
    outs = tuple(_fresh(o) for o in eqn.outs)
    if eqn.prim.name == "for_loop":
        brk = params.get("break_at")
        if brk is None:
            return [], Eqn(eqn.prim, (steps,) + tuple(state), {}, outs, params, eqn.loc)
        # a segment that starts after the loop broke runs no iteration (the
        # loop's own test comes after each body; a break in a segment's last
        # step leaves the driver a full count, and it calls the next segment)
        from .reverse import _slot0
        pre = Block()
        em = Emitter(pre, eqn.loc)
        go = em.call("logical_not", state[brk])
        m = em.call("multiply", em.call("len", steps), go)
        run = em.call("getitem", steps, m, _params={"index": slice(None, _slot0(), None)})
        return pre.eqns, Eqn(eqn.prim, (run,) + tuple(state), {}, outs, params, eqn.loc)
    # while: keep going while the condition holds and fewer than the
    # iterations asked for have run
    pre = Block()
    em = Emitter(pre, eqn.loc)
    n = em.call("len", steps)
    limit = em.call("add", state[count_at], n, _hint="limit")
    cond = params["cond"]
    cem = Emitter(Block(list(cond.eqns)), eqn.loc)
    more = cem.call("less", cond.params[count_at], limit)
    if params.get("break_at") is not None:       # not after a break (see the for loop's)
        more = cem.call("logical_and", more, cem.call("logical_not",
                                                      cond.params[params["break_at"]]))
    both = cem.call("logical_and", cond.results[0], more)
    params["cond"] = Block(cem.block.eqns, list(cond.params), [both])
    return pre.eqns, Eqn(eqn.prim, tuple(state), {}, outs, params, eqn.loc)


def _fresh(v):
    nv = Var(v.hint, shape=v.shape)
    nv.bar_of = v.bar_of
    return nv


def _clone_eqns(eqns, old_params, new_params):
    """A copy of ``eqns`` with fresh Vars for everything they define, reading
    ``new_params`` where they read ``old_params``; returns it and the map
    old -> new."""
    mapping: dict = {}
    for v in defined_vars(Block(eqns)):
        mapping[v] = _fresh(v)
    sub = dict(mapping)
    sub.update(zip(old_params, new_params))
    return _clone_block(Block(eqns), sub).eqns, mapping


def _clone_block(block, sub):
    def s(a):
        return sub.get(a, a) if isinstance(a, Var) else a
    eqns = []
    for e in block.eqns:
        params = {k: (_clone_block(v, sub) if isinstance(v, Block) else v)
                  for k, v in e.params.items()}
        eqns.append(Eqn(e.prim, tuple(s(a) for a in e.args),
                        {k: s(v) for k, v in e.kwargs.items()},
                        tuple(sub[o] for o in e.outs), params, e.loc))
    return Block(eqns, [sub[p] for p in block.params], [s(r) for r in block.results])


def _stem(carries):
    """A name stem for the generated functions: the first user-named carry."""
    for c in carries:
        if c.hint and c.hint.isidentifier() and not c.hint.startswith("_") and \
                c.hint not in ("brk", "n_iter", "ret", "retv"):
            return c.hint
    return "loop"
