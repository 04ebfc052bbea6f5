"""Forward mode: a Func -> its tangent (Jacobian-vector product) Func.

Expects: a verified Func (SSA, one primitive per equation) and the indices
of the parameters to differentiate.

Guarantees: a Func ``f_jvp(*primal_params, *tangent_params)`` returning
``(*primal_results, *result_tangents)``, in which

* there is one tangent parameter per differentiated parameter, named after
  it (the tangent of ``x`` is ``x_dot``), and one tangent per result (a
  result no differentiated value reaches gets ``zeros_like``);
* the primal equations are copied unchanged and in order; the tangent
  equations of each source line follow that line's primal equations, so
  the primal and tangent sweeps interleave line by line (no tape, no
  storage of intermediates beyond what the primal computes anyway);
* only *active* values get tangents: values that depend on a
  differentiated input and that a result depends on;
* every tangent is built by the primitives' jvp rules through the emitter,
  so the tangent sweep is ordinary IR (printable, optimisable,
  differentiable again), with locations of kind ``"tangent"`` (printed as
  ``# tangent of file:line: ...``);
* a checkpointed loop's drivers (``checkpoint_forward`` /
  ``checkpoint_backward``, :mod:`s2sgrad.remat`) get tangent segment and
  step functions whose states, cotangents and accumulators carry their
  tangents after the primal values (the snapshots keep both);
* a differentiated value reaching an operand that has no derivative rule
  (an ``opaque`` primitive, or a keyword option such as ``axis``) raises
  :class:`~s2sgrad.errors.NonDifferentiableError` at the user's line.

:func:`linearize` splits such a Func into a primal part (primal inputs ->
results + residuals) and a linear tangent part (residuals + tangents ->
result tangents), so many tangents can be pushed through one primal
evaluation (Jacobians, Hessians).
"""
from __future__ import annotations

import dataclasses

from . import draws
from .errors import S2SGradError
from .ir import Block, Const, Eqn, Func, Var, iter_eqns
from .primitives import core as P
from .primitives.core import Emitter
from .reverse import _err, _located, guard_real_only, name_derivative, zeros_of
from .primitives.control import loop_offset


def _is_control(eqn) -> bool:
    """Region equations (if/for/while) and the stack effects reverse mode emits."""
    p = eqn.prim
    return bool(eqn.blocks()) or getattr(p, "region", False) or \
        getattr(p, "effect", None) == "stack"


def _has_effect(e) -> bool:
    """An effect, or a region with one inside (a loop that pushes onto a
    stack matters even when its outputs are not read: a checkpointed loop's
    step function records its steps so)."""
    return bool(getattr(e.prim, "effect", False)) or \
        any(_has_effect(x) for b in e.blocks() for x in b.eqns)


def _useful(func: Func) -> set:
    """Vars the results (or an effect) depend on (through any equation)."""
    useful = {r for r in func.results if isinstance(r, Var)}

    def reads_of(block):
        """Everything a region reads, including the results of nested blocks."""
        out = {r for r in block.results if isinstance(r, Var)}
        for sub in block.eqns:
            out.update(a for a in sub.atoms() if isinstance(a, Var))
            for b in sub.blocks():
                out |= reads_of(b)
        return out

    for e in reversed(func.body.eqns):
        if _has_effect(e) or any(o in useful for o in e.outs):
            useful.update(a for a in e.atoms() if isinstance(a, Var))
            for b in e.blocks():
                useful |= reads_of(b)
    return useful


def _reads(eqn) -> list:
    """Every operand an equation reads, including those of its nested blocks
    (and their results, at any depth)."""
    atoms = list(eqn.atoms())
    for b in eqn.blocks():
        atoms += list(b.results)
        for sub in b.eqns:
            atoms += _reads(sub)
    return atoms


class _Blocked:
    """The "tangent" of a value built by an opaque primitive (a tuple of
    shapes, ...) from a differentiated value.  Not an error by itself: the
    equation that reads it decides (a keyword option -> the same message as
    reverse mode; anything else -> the opaque primitive's message)."""

    __slots__ = ("eqn",)

    def __init__(self, eqn):
        self.eqn = eqn


def _opaque_error(eqn):
    if eqn.prim.no_derivative:
        return _err(eqn, eqn.prim.no_derivative)
    return _err(eqn, f"'{eqn.prim.pyname}' has no derivative rule, but a differentiated "
                     f"value flows into it; compute it from non-differentiated inputs "
                     f"only, or use a supported operation")


def _has_cotangent(eqn, i) -> bool:
    """Whether reverse mode would send a cotangent to positional operand ``i``
    (probed by running the vjp rule into a scratch block).  Index lists and
    other non-differentiable operands get none; forward mode then treats a
    blocked tangent there as zero, exactly as reverse mode does."""
    prim = eqn.prim
    if prim.vjp is None:
        return True
    outs = tuple(Var("g", shape=o.shape) for o in eqn.outs)
    g = outs[0] if len(outs) == 1 else outs
    em = Emitter(Block([]), loc=eqn.loc)
    try:
        if prim.eqn_rule:
            cts = prim.vjp(em, eqn, g)
        else:
            out = eqn.outs[0] if len(eqn.outs) == 1 else eqn.outs
            cts = prim.vjp(em, g, out, *eqn.args, **eqn.kwargs)
    except Exception:
        return True
    return i >= len(cts) or cts[i] is not None


class Tangents:
    """The map from primal Vars to their tangents (absent = zero)."""

    def __init__(self):
        self.dot: dict = {}
        self.stacks: dict = {}        # stack Var -> its tangent stack
        self.stack_inits: list = []   # new_stack equations for tangent stacks

    def get(self, a):
        return self.dot.get(a) if isinstance(a, Var) else None

    def set(self, v, t, fresh: set, hint: str):
        if t is None:
            return
        if isinstance(t, Var) and t in fresh and t.hint == hint and t.bar_of is None:
            name_derivative(t, v, "_dot")
        self.dot[v] = t


def _read_stack(eqn, tangents) -> bool:
    """Whether a pop reads a stack with tangents (or checkpoint tapes)."""
    st = eqn.args[0]
    return st in tangents.stacks or ("tape", st) in tangents.stacks


def forward_block(func: Func, tangents: Tangents, em: Emitter) -> None:
    """Copy ``func.body`` into ``em`` and emit the tangent of every active
    equation after the primal equations of its source line."""
    useful = _useful(func)
    pending: list = []          # tangent equations of the current source line
    line = None

    def flush():
        em.block.eqns.extend(pending)
        pending.clear()

    tangent_em = Emitter(Block(pending), hint=em.hint)
    for eqn in func.body.eqns:
        key = (eqn.loc.filename, eqn.loc.lineno) if eqn.loc else None
        if key != line:
            flush()
            line = key
        em.block.eqns.append(eqn)
        prim = eqn.prim
        if prim.nondiff:
            continue
        if not _has_effect(eqn) and not any(o in useful for o in eqn.outs):
            continue
        stack_read = (prim.name in ("pop", "copy_stack") and _read_stack(eqn, tangents)) or \
            any(e2.prim.name in ("pop", "copy_stack") and _read_stack(e2, tangents)
                for b in eqn.blocks() for e2 in iter_eqns(b))
        if not stack_read and not any(tangents.get(a) is not None for a in _reads(eqn)):
            continue
        if _is_control(eqn):
            em.block.eqns.pop()            # replaced by its tangent-carrying version
            flush()
            tangent_em.loc = dataclasses.replace(eqn.loc, kind="tangent") if eqn.loc else None
            _control_jvp(eqn, tangents, em)
            continue
        # (an opaque primitive's results are blocked below instead: reverse mode
        # refuses it only when a cotangent reaches them -- rng.choice(n, p=p)'s
        # integer draw indexing p[a] gets none)
        opaque = prim.opaque or prim.jvp is None
        for k, a in eqn.kwargs.items():
            if tangents.get(a) is not None and not opaque:
                raise _err(eqn, f"cannot differentiate with respect to the '{k}' argument of "
                                f"{prim.pyname}; pass a constant there")
        if prim.data_args is not None and not opaque:
            for i, a in enumerate(eqn.args):
                if prim.data_args(i) and tangents.get(a) is not None:
                    raise _err(eqn, f"cannot differentiate with respect to argument {i + 1} "
                                    f"of {prim.pyname} (data there); pass a constant there")
        dots = [tangents.get(a) for a in eqn.args]
        for i, d in enumerate(dots):
            if isinstance(d, _Blocked):
                if _has_cotangent(eqn, i):
                    raise _opaque_error(d.eqn)
                dots[i] = None
        if prim.opaque or prim.jvp is None:
            for o in eqn.outs:
                tangents.dot[o] = _Blocked(eqn)
            continue
        if all(d is None for d in dots):
            continue
        tangent_em.loc = dataclasses.replace(eqn.loc, kind="tangent") if eqn.loc else None
        start = len(pending)
        try:
            if prim.eqn_rule:
                t = prim.jvp(tangent_em, eqn, dots)
            else:
                out = eqn.outs[0] if len(eqn.outs) == 1 else eqn.outs
                t = prim.jvp(tangent_em, dots, out, *eqn.args, **eqn.kwargs)
        except S2SGradError as exc:      # a rule's refusal: point at the user's line
            raise _located(exc, eqn) from None
        ts = t if len(eqn.outs) > 1 else (t,)
        if ts is None:
            ts = (None,) * len(eqn.outs)
        fresh = {o for e in pending[start:] for o in e.outs}
        for o, to in zip(eqn.outs, ts):
            tangents.set(o, to, fresh, tangent_em.hint)
    flush()


# ---------------------------------------------------------------- control flow
#
# Forward mode keeps the structure too: a cond gets one more output per
# tangent (computed in each branch), a loop one more carry per tangent, and a
# stack that saves differentiated values gets a twin stack for their
# tangents (pushed and popped at the same sites, so the two stay aligned).


def _branch_jvp(block: Block, tangents: "Tangents", extra_results=()):
    """Forward-mode copy of a nested block; returns (new block, tangents of
    its results)."""
    local = Tangents()
    local.dot = dict(tangents.dot)
    local.stacks = tangents.stacks
    local.stack_inits = tangents.stack_inits
    bem = Emitter(Block([]))
    fn = Func("block", list(block.params), Block(list(block.eqns)),
              list(block.results) + list(extra_results))
    forward_block(fn, local, bem)
    return bem.block, local


class CheckpointTangentError(S2SGradError):
    """A checkpointed loop's tape flows where forward mode cannot follow its
    tangent layout (a loop carry, branches with different layouts): the
    callers (s2sgrad.higher, s2sgrad.api) then differentiate the gradient
    built without checkpointing instead."""


def _zero_for(em, primal, t):
    if isinstance(t, _TapeDot):
        raise CheckpointTangentError("a checkpointed loop's tape is carried by a loop")
    if t is None or isinstance(t, _Blocked):
        if isinstance(t, _Blocked) and t is not None:
            raise _opaque_error(t.eqn)
        return zeros_of(em, primal)
    return t


def _control_jvp(eqn, tangents, em):
    name = eqn.prim.name
    loc = dataclasses.replace(eqn.loc, kind="tangent") if eqn.loc else None
    if name == "cond":
        blocks, maps = [], []
        for key in ("then", "else"):
            b, local = _branch_jvp(eqn.params[key], tangents)
            blocks.append((key, b, eqn.params[key].results))
            maps.append(local)
        tapes = {}
        for i, _ in enumerate(eqn.outs):
            tds = [m.get(blk[2][i]) for m, blk in zip(maps, blocks)]
            tds = [d for d in tds if isinstance(d, _TapeDot)]
            if tds:
                # a checkpointed loop's tape made in a branch: its tangent
                # layout, the same whichever branch made it
                if any(d.order != tds[0].order for d in tds):
                    raise CheckpointTangentError("branches make checkpoint tapes of two "
                                                 "layouts")
                tapes[i] = tds[0]
        active = [i for i, _ in enumerate(eqn.outs) if i not in tapes and
                  any(m.get(blk[2][i]) is not None for m, blk in zip(maps, blocks))]
        new_params = dict(eqn.params)
        touts = []
        for (key, b, res), m in zip(blocks, maps):
            bem = Emitter(b, loc)
            extra = [_zero_for(bem, res[i], m.get(res[i])) for i in active]
            new_params[key] = Block(b.eqns, [], list(res) + extra)
        for i in active:
            touts.append(name_derivative(Var("_dot", shape=eqn.outs[i].shape), eqn.outs[i],
                                         "_dot"))
        em.block.eqns.append(Eqn(eqn.prim, eqn.args, dict(eqn.kwargs),
                                 tuple(eqn.outs) + tuple(touts), new_params, eqn.loc))
        for i, t in zip(active, touts):
            tangents.dot[eqn.outs[i]] = t
        for i, td in tapes.items():
            tangents.dot[eqn.outs[i]] = td
        return
    if name in ("for_loop", "while_loop"):
        _loop_jvp(eqn, tangents, em, loc)
        return
    if name == "checkpoint_forward":
        _checkpoint_forward_jvp(eqn, tangents, em, loc)
        return
    if name == "checkpoint_backward":
        _checkpoint_backward_jvp(eqn, tangents, em, loc)
        return
    if name == "new_stack":
        em.block.eqns.append(eqn)
        return
    if name == "push":
        st, vals = eqn.args[0], eqn.args[1:]
        em.block.eqns.append(eqn)
        dots = [tangents.get(v) for v in vals]
        # a checkpointed loop's tape (its snapshots hold tangents) pushed by
        # an enclosing loop: the pop gets its _TapeDot back, no tangent value
        tds = {i: d for i, d in enumerate(dots) if isinstance(d, _TapeDot)}
        if tds:
            tangents.stacks[("tape", st)] = tds
        if all(d is None or isinstance(d, _TapeDot) for d in dots):
            return
        tst = _tangent_stack(st, tangents, em)
        pem = Emitter(em.block, loc)
        tv = [Const(None) if i in tds else _zero_for(pem, v, dots[i])
              for i, v in enumerate(vals)]
        em.block.eqns.append(Eqn(eqn.prim, (tst,) + tuple(tv), {}, (), {}, loc))
        return
    if name in ("pop", "copy_stack"):
        em.block.eqns.append(eqn)
        st = eqn.args[0]
        tds = tangents.stacks.get(("tape", st)) or {}
        if name == "copy_stack" and tds:
            tangents.stacks[("tape", eqn.outs[0])] = tds
        elif tds:
            for i, td in tds.items():
                tangents.dot[eqn.outs[i]] = td
        tst = tangents.stacks.get(st)
        if tst is None:
            return
        if name == "copy_stack":
            c = Var(eqn.outs[0].hint)
            tangents.stacks[eqn.outs[0]] = c
            em.block.eqns.append(Eqn(eqn.prim, (tst,), {}, (c,), {}, loc))
            return
        touts = tuple(name_derivative(Var("_dot", shape=o.shape), o, "_dot") for o in eqn.outs)
        em.block.eqns.append(Eqn(eqn.prim, (tst,), {}, touts, {}, loc))
        for i, (o, t) in enumerate(zip(eqn.outs, touts)):
            if i not in tds:
                tangents.dot[o] = t
        return
    raise _err(eqn, f"forward mode through '{eqn.prim.pyname}' is not supported")


def _tangent_stack(st, tangents, em):
    tst = tangents.stacks.get(st)
    if tst is None:
        tst = name_derivative(Var(), st, "_dot")
        tangents.stacks[st] = tst
        # created with its twin, at the top of the function
        tangents.stack_inits.append(Eqn(P.get("new_stack"), (), {}, (tst,), {}, None))
    return tst


def _loop_jvp(eqn, tangents, em, loc):
    body = eqn.params["body"]
    off = loop_offset(eqn)
    carries = body.params[off:]
    inits = eqn.args[off:]
    active = {i for i, a in enumerate(inits) if tangents.get(a) is not None}
    while True:                           # which carries get tangents: a fixpoint
        tparams = {i: name_derivative(Var("_dot", shape=carries[i].shape), carries[i], "_dot")
                   for i in sorted(active)}
        probe = Tangents()
        probe.dot = dict(tangents.dot)
        probe.dot.update({carries[i]: tparams[i] for i in active})
        probe.stacks = dict(tangents.stacks)
        probe.stack_inits = []
        _b, local = _branch_jvp(body, probe)
        more = {i for i, r in enumerate(body.results) if local.get(r) is not None} - active
        if not more:
            break
        active |= more
    order = sorted(active)
    inner = Tangents()
    inner.dot = dict(tangents.dot)
    inner.dot.update({carries[i]: tparams[i] for i in order})
    inner.stacks = tangents.stacks
    inner.stack_inits = tangents.stack_inits
    b, local = _branch_jvp(body, inner)
    bem = Emitter(b, loc)
    tres = [_zero_for(bem, body.results[i], local.get(body.results[i])) for i in order]
    new_body = Block(b.eqns, list(body.params) + [tparams[i] for i in order],
                     list(body.results) + tres)
    iem = Emitter(em.block, loc)
    tinits = [_zero_for(iem, inits[i], tangents.get(inits[i])) for i in order]
    touts = [name_derivative(Var("_dot", shape=eqn.outs[i].shape), eqn.outs[i], "_dot")
             for i in order]
    params = dict(eqn.params, body=new_body)
    if "cond" in params:
        c = params["cond"]
        params["cond"] = Block(c.eqns, list(c.params) + [Var(tparams[i].hint) for i in order],
                               c.results)
    new = Eqn(eqn.prim, tuple(eqn.args) + tuple(tinits), dict(eqn.kwargs),
              tuple(eqn.outs) + tuple(touts), params, eqn.loc)
    # extra carries must come after the primal ones, before any the reverse
    # pass appended for counting: keep count_at/break_at valid
    em.block.eqns.append(new)
    for i, t in zip(order, touts):
        tangents.dot[eqn.outs[i]] = t


# ---------------------------------------------------------------- checkpointed loops
#
# Forward mode over a checkpointed loop's drivers (s2sgrad.remat,
# s2sgrad.schedules): the drivers treat a state as an opaque tuple, so the
# tangent-carrying loop is the same driver run with tangent functions -- the
# jvp of the segment function maps (state, state tangents) to the same
# after its steps, so every snapshot the schedule keeps holds the state and
# its tangent (memory: twice the snapshots, the schedule's O(sqrt(T)) kept);
# the jvp of the step function takes the state and its tangent from such a
# snapshot and the cotangents and accumulators with their tangents, and
# returns them all.  The tangents are appended after the primal values of
# each group, so the drivers' bookkeeping (the state's iteration count, the
# tape last among the forward outputs) is unchanged.


class _TapeDot:
    """The "tangent" of a checkpointed loop's tape: the positions of the
    state whose tangents its snapshots hold (after the primal state)."""

    __slots__ = ("order",)

    def __init__(self, order):
        self.order = order


def _active_dot(tangents, a):
    t = tangents.get(a)
    if isinstance(t, _Blocked):
        raise _opaque_error(t.eqn)
    return t


def _local_tangents(tangents, extra):
    local = Tangents()
    local.dot = dict(tangents.dot)
    local.dot.update(extra)
    local.stacks = dict(tangents.stacks)
    local.stack_inits = []          # a step's stacks live in the step function
    return local


def _fixpoint(block, tangents, params, active, threaded, fixed=None):
    """The positions of ``params`` that carry tangents: ``active`` at first,
    and, when ``threaded``, every position of ``block.results`` that gets a
    tangent (a driver hands the results back as the next call's
    parameters).  Returns ``(order, {position: tangent parameter})``."""
    active = set(active)
    while True:
        order = sorted(active)
        tparams = {i: name_derivative(Var("_dot", shape=params[i].shape), params[i], "_dot")
                   for i in order}
        extra = dict(fixed or {})
        extra.update({params[i]: tparams[i] for i in order})
        _b, local = _branch_jvp(block, _local_tangents(tangents, extra))
        more = {i for i in range(len(params))
                if i < len(block.results) and local.get(block.results[i]) is not None} - active
        if not threaded or not more:
            return order, tparams
        active |= more


def _checkpoint_forward_jvp(eqn, tangents, em, loc):
    seg = eqn.params["segment"]
    state = list(seg.params[1:])
    inits = list(eqn.args[1:])
    active = {i for i, a in enumerate(inits) if _active_dot(tangents, a) is not None}
    order, tparams = _fixpoint(seg, tangents, state, active, True)
    local = _local_tangents(tangents, {state[i]: tparams[i] for i in order})
    inits_ = local.stack_inits
    b, local = _branch_jvp(seg, local)
    bem = Emitter(b, loc)
    tres = [_zero_for(bem, seg.results[i], local.get(seg.results[i])) for i in order]
    new_seg = Block(inits_ + b.eqns, list(seg.params) + [tparams[i] for i in order],
                    list(seg.results) + tres)
    iem = Emitter(em.block, loc)
    tinits = [_zero_for(iem, inits[i], tangents.get(inits[i])) for i in order]
    touts = [name_derivative(Var("_dot", shape=eqn.outs[i].shape), eqn.outs[i], "_dot")
             for i in order]
    tape = eqn.outs[-1]
    em.block.eqns.append(Eqn(eqn.prim, tuple(eqn.args) + tuple(tinits), dict(eqn.kwargs),
                             tuple(eqn.outs[:-1]) + tuple(touts) + (tape,),
                             dict(eqn.params, segment=new_seg), eqn.loc))
    for i, t in zip(order, touts):
        tangents.dot[eqn.outs[i]] = t
    tangents.dot[tape] = _TapeDot(order)


def _checkpoint_backward_jvp(eqn, tangents, em, loc):
    step = eqn.params["step"]
    nb, na, ns = eqn.params["nbars"], eqn.params["naccs"], eqn.params.get("nsaved", 0)
    if ns:
        raise _err(eqn, "forward mode through a @checkpoint(policy='save_dots') helper is not "
                        "supported; drop the policy where the gradient is differentiated again")
    straight = eqn.params.get("straight", False)
    tape = eqn.args[0]
    td = tangents.get(tape)
    sorder = td.order if isinstance(td, _TapeDot) else []
    nstate = len(step.params) - 1 - nb - na
    bstate = list(step.params[1:1 + nstate])
    threaded = list(step.params[1 + nstate:])               # cotangents, accumulators
    ins = list(eqn.args[1:1 + nb + na])
    keep = list(eqn.args[1 + nb + na:])
    tstate = {bstate[i]: name_derivative(Var("_dot", shape=bstate[i].shape), bstate[i], "_dot")
              for i in sorder}
    active = {k for k, a in enumerate(ins) if _active_dot(tangents, a) is not None}
    order, tparams = _fixpoint(step, tangents, threaded, active, not straight, tstate)
    local = _local_tangents(tangents, dict(tstate))
    local.dot.update({threaded[k]: tparams[k] for k in order})
    inits_ = local.stack_inits
    b, local = _branch_jvp(step, local)
    bem = Emitter(b, loc)
    res = list(step.results)
    tb = [k for k in order if k < nb]
    ta = [k for k in order if k >= nb]
    if straight:
        # a helper's step runs once: its cotangent results are not read
        # (None), its other results -- the adjoints of what it reads from
        # outside -- get tangents where they have them
        rest = [k for k in range(nb, len(res)) if isinstance(res[k], Var) and
                local.get(res[k]) is not None]
        tres_b = [Const(None) for _ in tb]
        tres_r = [_zero_for(bem, res[k], local.get(res[k])) for k in rest]
        tout_b = [Var("_") for _ in tb]
        naccs = 0
    else:
        rest = ta
        tres_b = [_zero_for(bem, res[k], local.get(res[k])) for k in tb]
        tres_r = [_zero_for(bem, res[k], local.get(res[k])) for k in ta]
        tout_b = [name_derivative(Var("_dot", shape=eqn.outs[k].shape), eqn.outs[k], "_dot")
                  for k in tb]
        naccs = na + len(ta)
    tout_r = [name_derivative(Var("_dot", shape=eqn.outs[k].shape), eqn.outs[k], "_dot")
              for k in rest]
    params = [step.params[0]] + bstate + [tstate[bstate[i]] for i in sorder] + \
        threaded[:nb] + [tparams[k] for k in tb] + threaded[nb:] + [tparams[k] for k in ta]
    new_step = Block(inits_ + b.eqns, params,
                     res[:nb] + tres_b + res[nb:] + tres_r)
    iem = Emitter(em.block, loc)
    tins_b = [_zero_for(iem, ins[k], tangents.get(ins[k])) for k in tb]
    tins_a = [_zero_for(iem, ins[k], tangents.get(ins[k])) for k in ta]
    tkeep = [t for t in (tangents.get(v) for v in keep) if isinstance(t, Var)]
    outs = list(eqn.outs)
    em.block.eqns.append(Eqn(
        eqn.prim, (tape,) + tuple(ins[:nb]) + tuple(tins_b) + tuple(ins[nb:]) + tuple(tins_a)
        + tuple(keep) + tuple(tkeep), dict(eqn.kwargs),
        tuple(outs[:nb]) + tuple(tout_b) + tuple(outs[nb:]) + tuple(tout_r),
        dict(eqn.params, step=new_step, nbars=nb + len(tb), naccs=naccs), eqn.loc))
    for k, t in zip(rest, tout_r):
        tangents.dot[outs[k]] = t
    if not straight:
        for k, t in zip(tb, tout_b):
            tangents.dot[outs[k]] = t


def jvp_func(func: Func, wrt: list[int], name: str | None = None) -> Func:
    """The Jacobian-vector product of ``func``.

    ``wrt``: indices of the parameters that get a tangent parameter
    (``<x>_dot``, in the order of ``wrt``).  Results: ``func``'s results,
    then one tangent per result.
    """
    func = guard_real_only(func, [func.params[i] for i in wrt])
    tangents = Tangents()
    params = list(func.params)
    for i in wrt:
        p = func.params[i]
        d = name_derivative(Var("_dot", shape=p.shape), p, "_dot")
        tangents.dot[p] = d
        params.append(d)
    body = Block([])
    em = Emitter(body)
    forward_block(func, tangents, em)
    body.eqns[:0] = tangents.stack_inits
    em.loc = None
    tans = []
    for r in func.results:
        t = tangents.get(r)
        if isinstance(t, _Blocked):
            raise _opaque_error(t.eqn)
        if t is None:
            t = em.call("zeros_like", r, _hint="out")
            if isinstance(r, Var):
                name_derivative(t, r, "_dot")
            else:
                t.hint = "out_dot"
        tans.append(t)
    info = dict(func.info)
    info.update(kind="jvp", wrt=list(wrt), nparams_primal=len(func.params),
                nresults_primal=len(func.results), tuple_result=True)
    from .masking import sink_masks
    return sink_masks(Func(name or f"{func.name}_jvp", params, body, list(func.results) + tans,
                           func.filename, info))


def linearize(jf: Func, nprimal: int, nresults: int):
    """Split a jvp Func (``jvp_func``'s result) into

    * ``primal``: primal params -> primal results + residuals, and
    * ``tangent``: residuals + tangent params -> result tangents (linear in
      the tangents),

    so one primal evaluation serves many tangents.  Equations that depend on
    a tangent parameter go to the tangent part, all others stay primal;
    residuals are the primal values the tangent part reads.
    Returns ``(primal, tangent, residuals)``.
    """
    tparams = list(jf.params[nprimal:])
    tan = set(tparams)
    p_eqns, t_eqns = [], []
    for e in jf.body.eqns:
        if any(isinstance(a, Var) and a in tan for a in _reads(e)):
            t_eqns.append(e)
            tan.update(e.outs)
        else:
            p_eqns.append(e)
    out_tangents = list(jf.results[nresults:])
    if any(e.blocks() or getattr(e.prim, "effect", False) for e in t_eqns):
        # Loops and branches carry primal and tangent values together, so the
        # split is not possible: the tangent part re-runs the whole jvp (one
        # primal evaluation per tangent), the primal part runs it with zero
        # tangents.
        # Random draws are not drawn again: the primal part records them and
        # the tangent part replays the recorded values (s2sgrad.draws).
        primal_params = list(jf.params[:nprimal])
        wrt = jf.info.get("wrt", [])
        zeros = [Eqn(P.get("zeros_like"), (primal_params[i],), {}, (t,), {}, None)
                 for i, t in zip(wrt, tparams)]
        p_body, tape = Block(zeros + list(jf.body.eqns)), None
        if draws.has_draws(p_body):
            p_body, tape = draws.record(p_body)
        primal = Func(jf.name.replace("_jvp", "") + "_primal", primal_params, p_body,
                      list(jf.results[:nresults]) + primal_params + ([tape] if tape else []),
                      jf.filename, dict(jf.info, tuple_result=True))
        residuals = [Var(p.hint, shape=p.shape) for p in primal_params]
        sub = dict(zip(primal_params, residuals))
        from .ir import rename_reads
        body = Block([Eqn(e.prim, e.args, dict(e.kwargs), e.outs, dict(e.params), e.loc)
                      for e in jf.body.eqns])
        body = _copy_blocks(body)
        rename_reads(body, sub)
        if tape is not None:
            residuals.append(Var("_draws"))
            body = draws.replay(body, residuals[-1])
        outs = [sub.get(t, t) for t in out_tangents]
        tangent = Func(jf.name.replace("_jvp", "") + "_tangent", residuals + tparams, body,
                       outs, jf.filename, dict(jf.info, tuple_result=len(outs) != 1))
        return primal, tangent, residuals
    t_defined = {o for e in t_eqns for o in e.outs} | set(tparams)
    residuals, seen = [], set()
    for a in [a for e in t_eqns for a in _reads(e)] + out_tangents:
        if isinstance(a, Var) and a not in t_defined and a not in seen:
            seen.add(a)
            residuals.append(a)
    primal = Func(jf.name.replace("_jvp", "") + "_primal", list(jf.params[:nprimal]),
                  Block(p_eqns), list(jf.results[:nresults]) + residuals, jf.filename,
                  dict(jf.info, tuple_result=True))
    tangent = Func(jf.name.replace("_jvp", "") + "_tangent", residuals + tparams,
                   Block(t_eqns), out_tangents, jf.filename,
                   dict(jf.info, tuple_result=len(out_tangents) != 1))
    return primal, tangent, residuals


def _copy_blocks(block: Block) -> Block:
    """A copy of a block whose equations and nested blocks can be edited."""
    eqns = []
    for e in block.eqns:
        params = {k: (_copy_blocks(v) if isinstance(v, Block) else v) for k, v in e.params.items()}
        eqns.append(Eqn(e.prim, tuple(e.args), dict(e.kwargs), tuple(e.outs), params, e.loc))
    return Block(eqns, list(block.params), list(block.results))


def select_results(func: Func, indices, name=None, **info) -> Func:
    """The same Func returning only ``results[i] for i in indices``."""
    return Func(name or func.name, list(func.params), func.body,
                [func.results[i] for i in indices], func.filename, dict(func.info, **info))


__all__ = ["jvp_func", "linearize", "select_results", "forward_block", "Tangents"]
