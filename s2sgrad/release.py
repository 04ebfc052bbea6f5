"""Release a large value before the next large allocation: a memory-aware
reordering of a straight-line block.

Expects: a shape-specialised Func and the examples of its values
(``specialize`` runs this pass last, before code generation decides buffers
and ``del`` statements).

Guarantees: the same equations, each reading the same values; only the
order of independent, pure equations of the function's top-level block
changes, so every value is computed bit for bit as before.

Why.  The reverse sweep of ``Z = H @ W2`` reads ``H`` once more, in the
weight's cotangent ``H.T @ g``, and makes ``H``'s own cotangent ``g @ W2.T``
(as large as ``H``).  Emitted in the rules' order -- ``H``'s cotangent
first -- both are alive together with the pre-activation: a ReLU MLP at
10,000 rows peaked at 62.5 MB against the hand-written gradient's 44.4 MB,
and the extra 18 MB came back as about 2,000 page faults per call (glibc
gave the top of the heap back between calls).  A hand-written gradient
computes ``dW2 = H.T @ P`` first, after which ``H`` is free.

The rule.  A matrix product ``E`` (with the ``.T`` views of its operands
made for it alone) that is the last reader of an array of at least
``_LARGE`` bytes moves up to just before the first equation after its
operands' definitions that makes a new array of at least ``_LARGE`` bytes
-- only across pure equations (no regions, no effects), and only when no
other view of the released array is read later (every other reader of it
makes a new array).  Code generation then deletes the array after ``E``,
and the large allocation that follows reuses its memory.
"""
from __future__ import annotations

import numpy as np

from .ir import Func, Var

# arrays at least this large are worth releasing early (smaller ones come
# from the allocator's free lists and cost nothing to keep a while)
_LARGE = 1 << 20
# equations whose result is a new array, never a view of an operand
_FRESH = frozenset({
    "matmul", "add", "subtract", "multiply", "divide", "maximum", "minimum", "exp", "log",
    "tanh", "negative", "greater_equal", "greater", "less", "less_equal", "equal", "sum",
    "mean", "square", "sqrt", "ties_halved"})


def _nbytes(x) -> int:
    return x.nbytes if type(x) is np.ndarray else 0


def _reads(e) -> list:
    """The Vars ``e`` reads, its regions' reads and results included."""
    out = [a for a in e.atoms() if isinstance(a, Var)]
    for b in e.blocks():
        for x in b.eqns:
            out += _reads(x)
        out += [r for r in b.results if isinstance(r, Var)]
    return out


def _pure(e) -> bool:
    return not e.blocks() and not getattr(e.prim, "effect", False)


# (tests turn the pass off to compare with the rules' order)
ENABLED = True


def release_early(func: Func, examples: dict) -> Func:
    """``func`` with large values released early (see the module doc);
    reorders ``func.body`` in place and returns ``func``."""
    eqns = func.body.eqns
    if not ENABLED or not any(e.prim.name == "matmul" for e in eqns):
        return func
    results = {id(r) for r in func.results if isinstance(r, Var)}
    moved = True
    rounds = 0
    while moved and rounds < 8:     # (each round moves at least one product up)
        moved = _one_round(eqns, examples, results)
        rounds += 1
    return func


def _one_round(eqns, examples, results) -> bool:
    pos = {}
    readers: dict = {}
    for i, e in enumerate(eqns):
        for o in e.outs:
            pos[id(o)] = i
        for a in _reads(e):
            readers.setdefault(id(a), []).append(i)
    for j, e in enumerate(eqns):
        if e.prim.name != "matmul" or len(e.outs) != 1 or not _pure(e) or e.kwargs:
            continue
        group = [j]
        released = []
        for a in e.args:
            if not isinstance(a, Var):
                continue
            r = readers.get(id(a), ())
            d = pos.get(id(a))
            base = a
            if d is not None and eqns[d].prim.name == "transpose" and list(r) == [j] and \
                    _pure(eqns[d]) and len(eqns[d].args) == 1 and \
                    isinstance(eqns[d].args[0], Var) and not eqns[d].kwargs:
                group.append(d)            # (the .T made for this product alone)
                base = eqns[d].args[0]
            rb = readers.get(id(base), ())
            if id(base) in results or not rb or _nbytes(examples.get(base)) < _LARGE:
                continue
            if max(rb) not in group:
                continue                   # (read again later)
            if pos.get(id(base)) is None:
                continue                   # (a parameter: its memory is the caller's)
            others = [eqns[i] for i in rb if i not in group]
            if all(x.prim.name in _FRESH and _pure(x) for x in others):
                released.append(base)
        if not released:
            continue
        group.sort()
        first = group[0]
        lo = 0
        for k in group:
            for a in _reads(eqns[k]):
                d = pos.get(id(a))
                if d is not None and d not in group:
                    lo = max(lo, d + 1)
        # the first large allocation between lo and the group: the group goes
        # just before it, if everything from there to the group is pure
        target = None
        for k in range(lo, first):
            x = eqns[k]
            if len(x.outs) == 1 and x.prim.name in _FRESH and \
                    _nbytes(examples.get(x.outs[0])) >= _LARGE:
                target = k
                break
        if target is None or not all(_pure(eqns[k]) for k in range(target, group[-1] + 1)):
            continue
        moving = [eqns[k] for k in group]
        rest = [x for k, x in enumerate(eqns[target:group[-1] + 1], target) if k not in group]
        eqns[target:group[-1] + 1] = moving + rest
        return True
    return False
