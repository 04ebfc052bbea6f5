"""Lists built in known-length loops read as the arrays they become.

Expects: a shape-specialised gradient Func after :func:`s2sgrad.tapes.preallocate`
and the examples of its abstract evaluation (``inf``, where a runtime list
grown by one ``append`` per step of a loop over a range known on entry has a
known length and element example: :class:`s2sgrad.specialize._ListOf`).

Guarantees: the two list operations reverse mode leaves around
``hs.append(h)`` ... ``H = np.stack(hs)`` are replaced by reads of arrays that
hold the same numbers, as a careful hand-written BPTT does:

* backward: ``hs_bar = unstack(H_bar)`` carried into the reversed loop and
  popped once per step (``_t5 = hs_bar.pop()``) becomes ``_t5 = H_bar[t_1]``
  -- the reversed loop over ``range(n)`` (start 0, step 1, no break) pops
  element ``n - 1 - k`` at its step ``k``, which is element ``t_1``, when the
  list is exactly ``n`` long (its example says so) and nothing else reads it
  (the carry's parameter is read by that one ``list_pop`` at the body's top
  level, whose rest is the next carry, and the loop's output is unused).
  The element was a view of ``H_bar`` before (``unstack``) and is one now.

* forward: when the appended value is the one the loop also writes into a
  preallocated tape row (``h_tape[t + c] = h``, tapes.py's state tape) and
  the list is read only by ``np.stack(hs)``/``np.array(hs)`` along axis 0
  after the loop, the stacked array is rows ``c .. c + n - 1`` of the tape (a
  view) and the list goes: each state is stored once, as hand-written code
  stores it.  The list must start empty (``[]`` made for this loop alone),
  be appended to exactly once per step at the body's top level, and be read
  by nothing else (its parameter only by the append, the append's result
  only as the next carry, the loop's output only by the stack).  The tape's
  later writes, if any, are code generation's in-place decisions, which see
  the view through the alias model like any other.

* forward, no tape holding the values (``losses.append(loss_t)``, a list of
  values the backward does not need): the list becomes an array of its own
  (:func:`_own_array`): ``np.empty((n,) + shape, dtype)`` before the loop,
  ``hs[t] = h`` in it, ``np.stack(hs)`` that array -- when the stacked
  array has every element's dtype (each row holds its element exactly).

* backward, a list cotangent made of several stacked cotangents added
  (``list_add(unstack(A), unstack(B))``: two lists stacked in one
  expression): the popped element is ``A[t_1] + B[t_1]`` (:func:`_sources`).

Anything else stays as it was (the general list code, which is correct
for any length and any use).
"""
from __future__ import annotations

import numpy as np

from .ir import Const, Eqn, Func, Var
from .peephole import _uses
from .primitives.control import loop_offset
from .primitives.core import REGISTRY
from .primitives.indexing import Slot
from .tapes import drop_carry


def list_arrays(func: Func, inf) -> Func:
    uses = _uses(func)
    for r in func.results:
        if isinstance(r, Var):
            uses.setdefault(r, []).append(None)
    _walk(func.body, inf, uses)
    return func


def _ex(inf, a):
    return a.value if isinstance(a, Const) else inf.ex.get(a)


def _walk(block, inf, uses):
    for e in list(block.eqns):
        for b in e.blocks():
            _walk(b, inf, uses)
    defs = {o: e for e in block.eqns for o in e.outs}
    for e in list(block.eqns):
        if e.prim.name == "for_loop" and e.params.get("break_at") is None:
            _backward(block, e, defs, inf, uses)
            _forward(block, e, defs, inf, uses)


def _range_of(loop, inf):
    it = _ex(inf, loop.args[0])
    if type(it) is range and it.start == 0 and it.step == 1:
        return len(it)
    return None


def _only_use(uses, v, e) -> bool:
    us = uses.get(v, [])
    return len(us) == 1 and us[0] is e


def _backward(block, loop, defs, inf, uses):
    if not loop.params.get("reverse"):
        return
    n = _range_of(loop, inf)
    if n is None:
        return
    body = loop.params["body"]
    off = loop_offset(loop)
    j = off
    while j < len(body.params):
        init = loop.args[j]
        srcs = _sources(init, loop, defs, inf, uses, n) if _only_use(uses, init, loop) else None
        if srcs:
            p = body.params[j]
            pops = uses.get(p, [])
            pop = pops[0] if len(pops) == 1 else None
            out = loop.outs[j - off]
            if pop is not None and pop.prim.name == "list_pop" and pop in body.eqns and \
                    body.results[j - off] is pop.outs[0] and \
                    _only_use(uses, pop.outs[0], None) and not uses.get(out) and \
                    sum(r is pop.outs[0] for r in body.results) == 1:
                x = pop.outs[1]
                k = body.eqns.index(pop)
                new, acc = [], None
                for i, g in enumerate(srcs):
                    gx = _ex(inf, g)
                    index = (Slot(0), Ellipsis) if gx.ndim == 1 else Slot(0)
                    row = x if len(srcs) == 1 else Var("row")
                    new.append(Eqn(REGISTRY["getitem"], (g, body.params[0]), {}, (row,),
                                   {"index": index}, pop.loc))
                    uses.setdefault(g, []).append(new[-1])
                    if len(srcs) > 1:
                        inf.ex[row] = inf.ex.get(x)
                    if acc is not None:
                        s_ = x if i == len(srcs) - 1 else Var("row")
                        new.append(Eqn(REGISTRY["add"], (acc, row), {}, (s_,), {}, pop.loc))
                        inf.ex[s_] = inf.ex.get(x)
                        row = s_
                    acc = row
                body.eqns[k:k + 1] = new
                uses[body.params[0]] = uses.get(body.params[0], []) + new
                uses[init] = []
                drop_carry(loop, j)
                continue
        j += 1


def _sources(v, loop, defs, inf, uses, n, depth=0):
    """The arrays whose rows, added, are the elements of the list ``v``:
    ``unstack(G)`` is G's rows; ``list_add(a, b)`` (each list read by it
    alone) the rows of a's arrays plus b's, element by element.  Each array
    ``n`` rows long, of the element's dtype; None if ``v`` is anything else."""
    d = defs.get(v) if isinstance(v, Var) else None
    if d is None or depth > 16:
        return None
    if d.prim.name == "unstack" and _axis0(d) and isinstance(d.args[0], Var):
        gx = _ex(inf, d.args[0])
        if type(gx) is np.ndarray and gx.ndim >= 1 and gx.shape[0] == n and n > 0:
            return [d.args[0]]
        return None
    if d.prim.name == "list_add" and not d.kwargs and len(d.args) == 2:
        out = []
        for a in d.args:
            if not _only_use(uses, a, d):
                return None
            got = _sources(a, loop, defs, inf, uses, n, depth + 1)
            if not got:
                return None
            out += got
        dts = {_ex(inf, g).dtype for g in out}
        return out if len(dts) == 1 else None
    return None


def _axis0(e) -> bool:
    ax = e.kwargs.get("axis", Const(0))
    return isinstance(ax, Const) and ax.value == 0 and not e.args[1:]


def _forward(block, loop, defs, inf, uses):
    if loop.params.get("reverse"):
        return
    n = _range_of(loop, inf)
    if not n:
        return
    body = loop.params["body"]
    off = loop_offset(loop)
    index_param = body.params[0]
    bdefs = {o: e for e in body.eqns for o in e.outs}
    j = off
    while j < len(body.params):
        init, p, res, out = loop.args[j], body.params[j], body.results[j - off], \
            loop.outs[j - off]
        b = defs.get(init) if isinstance(init, Var) else None
        app = bdefs.get(res) if isinstance(res, Var) else None
        outs_uses = uses.get(out, [])
        stack = outs_uses[0] if len(outs_uses) == 1 else None
        if b is not None and b.prim.name == "list_build" and not b.args and \
                _only_use(uses, init, loop) and app is not None and \
                app.prim.name == "list_append" and app.args[0] is p and \
                _only_use(uses, p, app) and _only_use(uses, res, None) and \
                sum(r is res for r in body.results) == 1 and \
                stack is not None and stack.prim.name == "stack_list" and \
                stack in defs.values() and _axis0_or_none(stack):
            x = app.args[1]
            row = _tape_row(body, loop, off, x, index_param, bdefs, inf, uses)
            if row is None and _own_array(block, loop, j, off, b, app, stack, n, inf):
                bdefs = {o: e for e in body.eqns for o in e.outs}
                j += 1
                continue
            if row is not None:
                tape_out, c = row
                sx, tx = inf.ex.get(stack.outs[0]), inf.ex.get(tape_out)
                if type(sx) is np.ndarray and type(tx) is np.ndarray and tx.ndim >= 1 and \
                        c + n <= tx.shape[0] and sx.shape == (n,) + tx.shape[1:] and \
                        sx.dtype == tx.dtype:
                    k = block.eqns.index(stack)
                    block.eqns[k] = Eqn(REGISTRY["getitem"], (tape_out,), {}, stack.outs,
                                        {"index": slice(c or None, c + n, None)}, stack.loc)
                    uses.setdefault(tape_out, []).append(block.eqns[k])
                    body.eqns.remove(app)
                    uses[x] = [u for u in uses.get(x, []) if u is not app]
                    drop_carry(loop, j)
                    continue
        j += 1


def _own_array(block, loop, j, off, build, app, stack, n, inf) -> bool:
    """The list (not a tape's rows) becomes an array of its own: ``[]``
    before the loop becomes ``np.empty((n,) + shape, dtype)``, the append
    ``hs[t] = h`` (the loop index is the element's position: a range from 0
    by 1, one append per step), and ``np.stack(hs)`` that array -- when every
    element has one shape and a dtype the stacked array keeps (so the row
    holds the element's numbers exactly) and the stack is along axis 0."""
    from .specialize import _compact
    x = app.args[1]
    ex, sx = inf.ex.get(x) if isinstance(x, Var) else x.value, inf.ex.get(stack.outs[0])
    if isinstance(ex, bool) or not isinstance(ex, (np.ndarray, np.generic, float, int)) or \
            type(sx) is not np.ndarray:
        return False
    ea = np.asarray(ex)
    if sx.shape != (n,) + ea.shape or sx.dtype != ea.dtype:
        return False
    body = loop.params["body"]
    shape = Const((n,) + ea.shape)
    arr = Var(build.outs[0].hint or "hs")
    k = block.eqns.index(build)
    block.eqns[k] = Eqn(REGISTRY["empty"], (shape,), {"dtype": Const(sx.dtype.type)}, (arr,),
                        {}, build.loc)
    loop.args = loop.args[:j] + (arr,) + loop.args[j + 1:]
    p = body.params[j]
    p_new = Var(p.hint)
    body.params[j] = p_new
    res = Var(app.outs[0].hint)
    index = (Slot(0), Ellipsis) if ea.ndim == 0 else Slot(0)
    body.eqns[body.eqns.index(app)] = Eqn(REGISTRY["setitem"], (p_new, x, body.params[0]), {},
                                          (res,), {"index": index}, app.loc)
    body.results[j - off] = res
    out = Var(loop.outs[j - off].hint)
    loop.outs = loop.outs[:j - off] + (out,) + loop.outs[j - off + 1:]
    k = block.eqns.index(stack)
    block.eqns[k] = Eqn(REGISTRY["asarray"], (out,), {},
                        stack.outs, {}, stack.loc)
    full = _compact((n,) + ea.shape, sx.dtype)
    for v in (arr, p_new, res, out):
        inf.ex[v] = full
    return True


def _axis0_or_none(e) -> bool:
    ax = e.kwargs.get("axis")
    return ax is None or isinstance(ax, Const) and ax.value == 0


def _tape_row(body, loop, off, x, index_param, bdefs, inf, uses):
    """The loop output of a carry written ``T[index + c] = x`` (a setitem at
    the body's top level into the carry's parameter, its result the next
    carry, the carry starting from an array allocated for it), and ``c``."""
    for e in body.eqns:
        if e.prim.name != "setitem" or len(e.args) != 3 or e.args[1] is not x or \
                not isinstance(e.params.get("index"), Slot) or e.params["index"] != Slot(0):
            continue
        t = e.args[0]
        if t not in body.params[off:]:
            continue
        j = body.params.index(t)
        if body.results[j - off] is not e.outs[0]:
            continue
        k = e.args[2]
        c = None
        if k is index_param:
            c = 0
        else:
            d = bdefs.get(k) if isinstance(k, Var) else None
            if d is not None and d.prim.name == "add" and not d.kwargs and \
                    d.args[0] is index_param and isinstance(d.args[1], Const) and \
                    type(d.args[1].value) is int and d.args[1].value >= 0:
                c = d.args[1].value
        if c is None:
            continue
        return loop.outs[j - off], c
    return None
