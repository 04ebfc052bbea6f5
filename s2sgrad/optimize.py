"""Optimisation passes over the IR: ``Func -> Func``.

* ``dce``: drop equations whose results nothing uses (dead forward values
  in a gradient, adjoints of inputs nobody asked for).
* ``cse``: share equations that compute the same primitive of the same
  operands (the forward ``tanh`` output reused by its derivative, the same
  ``1 - y**2`` built twice by two rules).

Algebraic folding (``g * 1``, ``x + 0``, constant arithmetic) happens as
rules emit code (``Primitive.simplify``), so passes here never see it.

Both passes expect and preserve SSA (``ir.verify``).
"""
from __future__ import annotations

from .ir import Block, Const, Eqn, Func, Var


def dce(func: Func) -> Func:
    live = {r for r in func.results if isinstance(r, Var)}
    kept = _dce_block(func.body, live)
    return Func(func.name, func.params, kept, func.results, func.filename, func.info)


def _dce_block(block: Block, live: set) -> Block:
    live = set(live) | {r for r in block.results if isinstance(r, Var)}
    out = []
    for e in reversed(block.eqns):
        if getattr(e.prim, "effect", False) or any(o in live for o in e.outs):
            out.append(e)
            live.update(a for a in e.atoms() if isinstance(a, Var))
    out.reverse()
    return Block(out, block.params, block.results)


def _atom_key(a):
    return ("v", a.id) if isinstance(a, Var) else ("c",) + a.key()


def _params_key(params):
    try:
        return repr(sorted(params.items()))
    except Exception:
        return None


def cse(func: Func) -> Func:
    subst: dict = {}
    seen: dict = {}

    def sub(a):
        while isinstance(a, Var) and a in subst:
            a = subst[a]
        return a

    eqns = []
    for e in func.body.eqns:
        args = tuple(sub(a) for a in e.args)
        kwargs = {k: sub(v) for k, v in e.kwargs.items()}
        e2 = Eqn(e.prim, args, kwargs, e.outs, e.params, e.loc)
        pk = _params_key(e.params)
        if pk is not None and not getattr(e.prim, "effect", False) and e.prim.name not in (
                "load_global", "load_cell"):
            key = (e.prim.name, tuple(_atom_key(a) for a in args),
                   tuple(sorted((k, _atom_key(v)) for k, v in kwargs.items())),
                   _strip_spelling(pk))
            prev = seen.get(key)
            if prev is not None:
                for o, p in zip(e.outs, prev.outs):
                    subst[o] = p
                    _merge_shape(p, o)
                continue
            seen[key] = e2
        eqns.append(e2)
    results = [sub(r) for r in func.results]
    return Func(func.name, func.params, Block(eqns), results, func.filename, func.info)


def _strip_spelling(pk):
    return pk


def _merge_shape(keep: Var, drop: Var):
    if keep.shape is None:
        keep.shape = drop.shape


def optimize(func: Func) -> Func:
    return dce(cse(dce(func)))
