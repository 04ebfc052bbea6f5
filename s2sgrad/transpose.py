"""Transposition of a linear piece of IR, through reverse mode.

Expects: the equations of a computation (a user's rule lowered with
*stand-ins* for its linear argument: the cotangent ``g`` of a reverse rule,
the tangents of a forward rule; see :mod:`s2sgrad.custom`), the stand-ins,
the results, and one seed per result.

Guarantees: :func:`transpose` emits that computation and its backward sweep
(:class:`s2sgrad.reverse.Reverser`, so loops, branches and stacks work as
in any gradient) and returns the cotangent of each stand-in: the transposed
linear map applied to the seeds, which is exact when the map is linear in
the stand-ins.  It is refused (``err(reason)``) when it is not, detected in
two ways:

* a value the results depend on depends on a stand-in through a step with
  no derivative (a comparison, ``np.sign``, a rounding, an index computed
  from it): the derivative would miss that dependence;
* the backward sweep reads a value computed from a stand-in (other than
  for its shape): the derivative depends on the point, as for ``g * g`` or
  ``np.clip(g, lo, hi)``.

An affine map (``g + 1``) passes both checks and is transposed as its
linear part; ``check_grads`` catches such a rule (its two modes disagree).
"""
from __future__ import annotations

from .errors import NonDifferentiableError
from .ir import Block, Func, Var, defined_vars
from .primitives.control import loop_offset
from .primitives.core import shape_only
from .reverse import Adjoints, Reverser, _edges, activity

__all__ = ["transpose", "taint"]

# Operands read only for their type, dtype and shape, besides
# SHAPE_ONLY_OPERANDS: ``in_place_result(new, cur)`` (``x op= v``) keeps
# ``new`` in ``cur``'s dtype and shape when ``cur`` is an array; its adjoint
# ``in_place_result(h, new)`` reads ``new`` the same way.  (A rule written
# with ``g *= 3.0`` is linear in ``g``.)
_METADATA_ONLY = {"in_place_result": (1,)}


def taint(eqns, seeds) -> set:
    """Every value that depends on ``seeds`` (through any operand but those read
    only for their shape; a branch or a loop whose decision or trip count
    depends on them taints everything it defines)."""
    tainted = set(seeds)
    slots = set()         # (stack, position) of tainted values pushed: popped there

    def hit(atoms):
        return any(isinstance(a, Var) and a in tainted for a in atoms)

    def add(vs):
        new = [v for v in vs if isinstance(v, Var) and v not in tainted]
        tainted.update(new)
        return bool(new)

    def run(block_eqns) -> bool:
        changed = False
        for e in block_eqns:
            name = e.prim.name
            if name == "cond":
                then, other = e.params["then"], e.params["else"]
                changed |= run(then.eqns) | run(other.eqns)
                if hit(e.args):
                    changed |= add(e.outs)
                for i, o in enumerate(e.outs):
                    if hit([then.results[i], other.results[i]]):
                        changed |= add([o])
            elif name in ("for_loop", "while_loop"):
                body, off = e.params["body"], loop_offset(e)
                cond = e.params.get("cond")
                if hit(e.args[:off]):
                    changed |= add(body.params[:off])
                for i, o in enumerate(e.outs):
                    if hit([e.args[off + i], body.results[i], o]):
                        changed |= add([o, body.params[off + i]] +
                                       ([cond.params[i]] if cond is not None else []))
                changed |= run(body.eqns)
                stops = []
                if cond is not None:
                    changed |= run(cond.eqns)
                    stops += list(cond.results)
                if "break_at" in e.params:
                    stops.append(body.results[e.params["break_at"]])
                if hit(stops) or hit(body.params[:off]):
                    changed |= add(e.outs)
            elif e.blocks():
                reads = list(e.atoms())
                for b in e.blocks():
                    reads += _block_reads(b)
                if hit(reads):
                    changed |= add(list(e.outs) + [v for b in e.blocks()
                                                   for v in _block_defs(b)])
            elif name == "push":
                for k, v in enumerate(e.args[1:]):
                    if hit([v]) and (e.args[0], k) not in slots:
                        slots.add((e.args[0], k))
                        changed = True
            elif name in ("pop", "copy_stack"):
                st = e.args[0]
                if name == "copy_stack":
                    new = {(e.outs[0], k) for (s_, k) in slots if s_ is st} - slots
                    slots.update(new)
                    changed |= bool(new)
                else:
                    changed |= add([o for k, o in enumerate(e.outs) if (st, k) in slots])
            else:
                reads = [a for i, a in enumerate(e.args) if not shape_only(name, i)
                         and i not in _METADATA_ONLY.get(name, ())]
                reads += list(e.kwargs.values())
                if hit(reads):
                    changed |= add(e.outs)
        return changed

    while run(eqns):
        pass
    return tainted


def _block_reads(b):
    out = list(b.results)
    for e in b.eqns:
        out += list(e.atoms())
        for nb in e.blocks():
            out += _block_reads(nb)
    return out


def _block_defs(b):
    return defined_vars(b)


def transpose(em, sub, params, results, seeds, err):
    """Transpose the linear map ``params -> results`` computed by the equations
    of ``sub`` (a user's rule lowered with stand-ins ``params`` for its linear
    argument): emit into ``em`` that computation and its backward sweep seeded
    with ``seeds`` (one per result); return the cotangent of each param
    (``None``: zero).  A map that is not linear in ``params`` is ``err(reason)``."""
    results = list(results)
    func = Func("rule", list(params), Block(list(sub.eqns)), results)
    # (1) every value the results depend on that depends on a stand-in must do so
    # differentiably: a comparison, a sign, an index computed from one is not linear
    tainted = taint(func.body.eqns, params)
    edges: dict = {}
    _edges(func.body, edges)
    fwd_edges: dict = {}
    for dst, srcs in edges.items():
        for s_ in srcs:
            if isinstance(s_, Var):
                fwd_edges.setdefault(s_, []).append(dst)
    varied, work = set(params), list(params)
    while work:
        for d in fwd_edges.get(work.pop(), ()):
            if d not in varied:
                varied.add(d)
                work.append(d)
    bad = [v for v in tainted if v not in varied]
    if bad and taint(func.body.eqns, bad) & {r for r in results if isinstance(r, Var)}:
        raise err("its result depends on that argument through a step that has no "
                  "derivative (a comparison, a sign, a rounding, an index)")
    active = activity(func, list(params), results)
    rv = Reverser(active, hoist=False)
    fwd = rv.forward(func.body)
    start = len(em.block.eqns)
    em.block.eqns.extend(fwd.eqns)
    adj = Adjoints(em)
    for r, s_ in zip(results, seeds):
        if isinstance(r, Var) and r in active:
            adj.add(r, s_, set())
    try:
        rv.backward(fwd.eqns, adj, em)
    except NonDifferentiableError as exc:
        raise err(f"transposing it needs a derivative: {exc}") from None
    em.block.eqns[start:start] = rv.stack_inits
    cts = [adj.get(p) for p in params]
    made = {o for e in em.block.eqns[start:] for o in e.outs}
    for c in cts:
        if isinstance(c, Var) and c in made:
            # named by the caller after the value it is the derivative of (x_bar, y_dot)
            c.hint, c.bar_of = em.hint, None
    # (2) the transposed code must not read the stand-ins' values (x * g read by
    # the adjoint of g * g, np.clip's mask of g): that is a nonlinear use
    after = taint(em.block.eqns[start:], params)
    if any(isinstance(c, Var) and c in after for c in cts):
        raise err("it is not linear in that argument (its derivative with respect to it "
                  "reads its value)")
    return cts
