"""Random draws in passes that run a program more than once.

A draw (a primitive with ``effect == "random"``, see
:mod:`s2sgrad.primitives.random`) takes its value from the user's generator
at run time, and the generator's state must advance exactly as in one call
of the user's function.  Three places evaluate (part of) a program again:

* ``hessian``/``jacobian`` push many tangents through a *linear part*; where
  loops or branches prevent splitting the primal work off
  (:func:`s2sgrad.forward.linearize`), the linear part re-runs the primal
  equations.  :func:`record` makes the primal part append every draw to a
  list (a residual); :func:`replay` makes the linear part take the same
  values from that list, in the same order, instead of drawing.
* ``jacobian(mode="auto")`` runs the forward primal part once to learn the
  output size, then may run the reverse-mode forward half: the generators
  are restored in between (:class:`preserved`).
* ``check_grads`` evaluates the function and its derivatives many times:
  each evaluation starts from the same generator states, and the states are
  restored at the end (:class:`preserved`).

The shape specialiser's abstract evaluation draws from throwaway generators
of the same kind (:mod:`s2sgrad.specialize`): a draw's shape and dtype never
depend on the generator's state.
"""
from __future__ import annotations

from .ir import Block, Const, Eqn, Func, Var, iter_eqns
from .primitives import core as P
from .primitives.random import rng_kind


def is_draw(e) -> bool:
    return getattr(e.prim, "effect", None) == "random"


def has_draws(block: Block) -> bool:
    return any(is_draw(e) or any(has_draws(b) for b in e.blocks()) for e in block.eqns)


# ---------------------------------------------------------------- record / replay


def _rewrite(block: Block, on_draw) -> Block:
    eqns = []
    for e in block.eqns:
        if e.blocks():
            e = Eqn(e.prim, e.args, dict(e.kwargs), e.outs,
                    {k: (_rewrite(v, on_draw) if isinstance(v, Block) else v)
                     for k, v in e.params.items()}, e.loc)
        if is_draw(e):
            eqns += on_draw(e)
        else:
            eqns.append(e)
    return Block(eqns, list(block.params), list(block.results))


def record(block: Block):
    """``block`` with every draw's values appended to a new list, created
    first.  Returns ``(block, tape)``."""
    tape = Var("_draws")

    def on_draw(e):
        return [e, Eqn(P.get("tape_record"), (tape,) + tuple(e.outs), {}, (), {}, e.loc)]

    out = _rewrite(block, on_draw)
    out.eqns.insert(0, Eqn(P.get("new_tape"), (), {}, (tape,), {}, None))
    return out, tape


def replay(block: Block, tape: Var) -> Block:
    """``block`` with every draw replaced by the next values of ``tape``
    (recorded by :func:`record` from the same program: the draws come in
    the same order)."""
    it = Var("_draws_it")

    def on_draw(e):
        return [Eqn(P.get("tape_next"), (it,), {}, e.outs, {}, e.loc)]

    out = _rewrite(block, on_draw)
    out.eqns.insert(0, Eqn(P.get("tape_replay"), (tape,), {}, (it,), {}, None))
    return out


# ---------------------------------------------------------------- generator states


def generators(func: Func, leaves) -> list:
    """The generator objects the draws of ``func`` read when it is called
    with ``leaves``: parameters, globals, closure cells and attributes
    (``self.rng``) read live, and constants (NumPy's global RandomState).  Generators created inside are
    fresh at each call and not listed."""
    defs = {}
    for e in iter_eqns(func.body):
        for o in e.outs:
            defs[o] = e
    params = {p: x for p, x in zip(func.params, leaves)}
    out, seen = [], set()

    def add(obj):
        if rng_kind(obj) is not None and id(obj) not in seen:
            seen.add(id(obj))
            out.append(obj)

    def value_of(v, depth=0):
        """The object a live read (global, cell, attribute, item) gives now."""
        e = defs.get(v)
        if e is None or depth > 100:
            raise LookupError(v)
        name, ps = e.prim.name, e.params
        if name == "load_global":
            return ps["globals"][ps["name"]]
        if name == "load_cell":
            return ps["cell"].cell_contents
        if name == "load_object":
            return ps["obj"]
        if name == "load_attr":
            return getattr(value_of(e.args[0], depth + 1), ps["attr"])
        if name == "load_item":
            return value_of(e.args[0], depth + 1)[ps["key"]]
        raise LookupError(v)

    for e in iter_eqns(func.body):
        if not is_draw(e) or not e.args:
            continue
        g = e.args[0]
        if isinstance(g, Const):
            add(g.value)
        elif g in params:
            add(params[g])
        else:
            try:
                add(value_of(g))
            except (LookupError, AttributeError, TypeError, ValueError):
                pass               # made inside the function: fresh at each call
    return out


def snapshot(gens) -> list:
    return [g.get_state() if rng_kind(g) == "RandomState" else g.bit_generator.state
            for g in gens]


def restore(gens, states) -> None:
    for g, s in zip(gens, states):
        if rng_kind(g) == "RandomState":
            g.set_state(s)
        else:
            g.bit_generator.state = s


class preserved:
    """``with preserved(gens):`` -- the generators' states are put back on exit."""

    def __init__(self, gens):
        self.gens = list(gens)

    def __enter__(self):
        self.states = snapshot(self.gens)
        return self

    def reset(self):
        restore(self.gens, self.states)

    def __exit__(self, *exc):
        self.reset()
        return False


__all__ = ["is_draw", "has_draws", "record", "replay", "generators", "snapshot", "restore",
           "preserved"]
