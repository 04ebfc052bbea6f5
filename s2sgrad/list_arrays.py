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

* reads by index after the loop (``hs[-1]``, ``hs[k]``, ``for h in hs:``,
  ``sum(f(h) for h in hs)``): the list's cotangent, built from
  ``list_zeros``/``list_index_add``/``list_add`` (and a loop adding one
  ``list_index_add`` per step), becomes one array of n rows
  (:func:`_cotangent_arrays`: ``np.zeros``, ``A[k] += g``), read by row in
  the reversed loop; once nothing else reads the list, each ``hs[k]`` is a
  row of the tape or of the list's own array (:func:`_forward`), a run-time
  ``k`` indexing a view of exactly the list's n rows (so a negative ``k``
  counts from the list's end, and an index out of range raises as the
  list's would).  A constant ``k`` out of range, a ``bool`` index, a list
  read any other way (changed, passed on, returned) keeps the list.

* map loops (:func:`vectorise_maps`, after the rewrites above): a loop
  over ``range(n)`` whose steps read rows of arrays made before it,
  compute elementwise and write their own row of an accumulator or a
  tape -- the reversed loop of ``sum(f(h) for h in hs)`` once ``hs`` is
  rows -- becomes the same ufuncs over the whole arrays
  (``hs_bar = 2.0 * g[:, None] * H``), as hand-written code is.

Anything else stays as it was (the general list code, which is correct
for any length and any use).
"""
from __future__ import annotations

import numpy as np

from .ir import Const, Eqn, Func, Var
from .peephole import _uses
from .primitives.core import shape_elementwise as _ELEMENTWISE
from .primitives.control import loop_offset
from .primitives.core import REGISTRY
from .primitives.indexing import Slot
from .tapes import drop_carry


def list_arrays(func: Func, inf) -> Func:
    if not _has_list_ops(func):
        # (nothing to rewrite before the map loops: no walk for the uses of
        # every value, a tenth of specialising a long loop)
        return vectorise_maps(func, inf)
    uses = _uses(func)
    if _cotangent_arrays(func.body, inf, uses):
        uses = _uses(func)
        while _drop_unread(func.body, uses):
            uses = _uses(func)
    _root[0] = func.body
    for r in func.results:
        if isinstance(r, Var):
            uses.setdefault(r, []).append(None)
    try:
        _walk(func.body, inf, uses)
    finally:
        _root[0] = None
    return vectorise_maps(func, inf)


def _has_list_ops(func) -> bool:
    """Has ``func`` (or a block in it) a ``list_pop`` or a ``list_build``?
    Every rewrite of :func:`list_arrays` before the map loops starts at one
    of them -- the pop of a reversed loop (:func:`_backward`,
    :func:`_cotangent_arrays`), the list built empty and appended to
    (:func:`_forward`): without either they rewrite nothing."""
    todo = [func.body]
    while todo:
        for e in todo.pop().eqns:
            if e.prim.name == "list_pop" or e.prim.name == "list_build":
                return True
            if e.params:
                todo.extend(e.blocks())
    return False


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
        reads = _reads_after(uses, out, block)
        if b is not None and b.prim.name == "list_build" and not b.args and \
                _only_use(uses, init, loop) and app is not None and \
                app.prim.name == "list_append" and app.args[0] is p and \
                _only_use(uses, p, app) and _only_use(uses, res, None) and \
                sum(r is res for r in body.results) == 1 and reads is not None:
            stacks, gets = reads
            x = app.args[1]
            row = _tape_row(body, loop, off, x, index_param, bdefs, inf, uses)
            if row is None and _own_array(block, loop, j, off, b, app, stacks, gets, n, inf,
                                          uses):
                bdefs = {o: e for e in body.eqns for o in e.outs}
                j += 1
                continue
            if row is not None and _tape_view(block, loop, row, stacks, gets, x, n, inf,
                                                   uses):
                body.eqns.remove(app)
                uses[x] = [u for u in uses.get(x, []) if u is not app]
                drop_carry(loop, j)
                continue
        j += 1


def _reads_after(uses, out, block):
    """([np.stack(out) along axis 0, in ``block``], [out[k] anywhere]) when
    those are all the reads of the list ``out`` (at least one), else None.
    ``out[k]`` takes one int (not a bool: ``True`` is row 1 of a list but a
    new axis of an array)."""
    us = uses.get(out, [])
    stacks, gets = [], []
    for u in us:
        if u is None:
            return None
        if u.prim.name == "stack_list" and u.args[0] is out and u in block.eqns and \
                _axis0_or_none(u) and len(u.args) == 1 and \
                all(k == "axis" for k in u.kwargs):
            stacks.append(u)
        elif u.prim.name == "list_get" and len(u.args) == 2 and u.args[0] is out and \
                u.args[1] is not out and not u.kwargs and _block_of(_root[0], u) is not None:
            gets.append(u)
        else:
            return None
    return (stacks, gets) if us else None


def _get_index(inf, u, n):
    """The index of ``xs[k]`` (``u``) into an ``n``-row array: (params
    index, parts), or None when ``k`` is not one int, or a constant out of
    range (the list raises; so does the general path)."""
    k = u.args[1]
    v = _ex(inf, k)
    if isinstance(k, Const):
        if type(k.value) is not int or not -n <= k.value < n:
            return None
        return k.value % n, ()
    if not isinstance(v, (int, np.integer)) or isinstance(v, (bool, np.bool_)):
        return None
    return Slot(0), (k,)


def _replace_get(root, u, arr, c, n, inf, uses, view):
    """``xs[k]`` (``u``) becomes row ``c + k`` of ``arr``, or row ``k`` of
    ``view`` (``arr[c:c + n]``, so that a ``k`` known only at run time counts
    from the list's end when negative), in whatever block holds ``u``."""
    index, parts = _get_index(inf, u, n)
    if not parts:
        e = Eqn(REGISTRY["getitem"], (arr,), {}, u.outs, {"index": index + c}, u.loc)
    else:
        e = Eqn(REGISTRY["getitem"], (view,) + parts, {}, u.outs, {"index": index}, u.loc)
    blk = _block_of(root, u)
    blk.eqns[blk.eqns.index(u)] = e
    for a in e.atoms():
        if isinstance(a, Var):
            uses.setdefault(a, []).append(e)


def _replace_gets(root, block, loop, gets, arr, c, n, inf, uses):
    """Each ``xs[k]`` of ``gets`` read from ``arr``'s rows ``c .. c + n - 1``;
    the view of those rows a run-time ``k`` indexes is made once, after
    ``loop``."""
    view = arr
    if c != 0 or _ex(inf, arr).shape[0] != n:
        if any(_get_index(inf, u, n)[1] for u in gets):
            view = Var(arr.hint)
            inf.ex[view] = _ex(inf, arr)[c:c + n]
            e = Eqn(REGISTRY["getitem"], (arr,), {}, (view,),
                    {"index": slice(c or None, c + n, None)}, loop.loc)
            block.eqns.insert(block.eqns.index(loop) + 1, e)
            uses.setdefault(arr, []).append(e)
    for u in gets:
        _replace_get(root, u, arr, c, n, inf, uses, view)


def _block_of(block, e):
    if any(x is e for x in block.eqns):
        return block
    for x in block.eqns:
        for b in x.blocks():
            got = _block_of(b, e)
            if got is not None:
                return got
    return None


def _gets_ok(inf, gets, n, ex) -> bool:
    """Every ``xs[k]`` reads a row that is the element as the list held it:
    an array of at least one axis (a row of an array is a view of the same
    type, shape and dtype), or a NumPy scalar (the same scalar)."""
    if not gets:
        return True
    if not (type(ex) is np.ndarray and ex.ndim >= 1 or isinstance(ex, np.generic)):
        return False
    return all(_get_index(inf, u, n) is not None for u in gets)


def _tape_view(block, loop, row, stacks, gets, x, n, inf, uses) -> bool:
    """The list's elements are rows ``c .. c + n - 1`` of the state tape
    ``tape_out``: each ``np.stack(hs)`` becomes that slice (a view) and each
    ``hs[k]`` the row."""
    tape_out, c = row
    tx, ex = inf.ex.get(tape_out), _ex(inf, x)
    if type(tx) is not np.ndarray or tx.ndim < 1 or c + n > tx.shape[0] or \
            not isinstance(ex, (np.ndarray, np.generic)) or \
            np.shape(ex) != tx.shape[1:] or np.asarray(ex).dtype != tx.dtype:
        return False
    for stack in stacks:
        sx = inf.ex.get(stack.outs[0])
        if type(sx) is not np.ndarray or sx.shape != (n,) + tx.shape[1:] or \
                sx.dtype != tx.dtype:
            return False
    if not _gets_ok(inf, gets, n, ex if type(ex) is not np.ndarray or ex.ndim else None):
        return False
    root = _root[0]
    for stack in stacks:
        k = block.eqns.index(stack)
        block.eqns[k] = Eqn(REGISTRY["getitem"], (tape_out,), {}, stack.outs,
                            {"index": slice(c or None, c + n, None)}, stack.loc)
        uses.setdefault(tape_out, []).append(block.eqns[k])
    _replace_gets(root, block, loop, gets, tape_out, c, n, inf, uses)
    return True


_root: list = [None]     # (the function list_arrays is rewriting, for _replace_get)


def _own_array(block, loop, j, off, build, app, stacks, gets, n, inf, uses) -> bool:
    """The list (not a tape's rows) becomes an array of its own: ``[]``
    before the loop becomes ``np.empty((n,) + shape, dtype)``, the append
    ``hs[t] = h`` (the loop index is the element's position: a range from 0
    by 1, one append per step), ``np.stack(hs)`` that array itself and
    ``hs[k]`` its row -- when every element has one shape and a dtype the
    stacked array keeps (so the row holds the element's numbers exactly)
    and the stack is along axis 0."""
    from .specialize import _compact
    x = app.args[1]
    ex = inf.ex.get(x) if isinstance(x, Var) else x.value
    if isinstance(ex, bool) or not isinstance(ex, (np.ndarray, np.generic, float, int)):
        return False
    ea = np.asarray(ex)
    for stack in stacks:
        sx = inf.ex.get(stack.outs[0])
        if type(sx) is not np.ndarray or sx.shape != (n,) + ea.shape or sx.dtype != ea.dtype:
            return False
    if not stacks and ea.dtype.kind not in "fc":
        return False        # (np.array of Python ints may be int32 or int64: a stack says)
    if not _gets_ok(inf, gets, n, ex):
        return False
    body = loop.params["body"]
    shape = Const((n,) + ea.shape)
    arr = Var(build.outs[0].hint or "hs")
    k = block.eqns.index(build)
    block.eqns[k] = Eqn(REGISTRY["empty"], (shape,), {"dtype": Const(ea.dtype.type)}, (arr,),
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
    # the loop's output is the array: the (one) stack's own value when it
    # is read only by equations (renamed to it), else an np.asarray of it
    old = loop.outs[j - off]
    out = Var(old.hint)
    full = _compact((n,) + ea.shape, ea.dtype)
    if len(stacks) == 1 and None not in uses.get(stacks[0].outs[0], [None]):
        out = stacks[0].outs[0]
        if not out.hint:            # (a temporary: named after the list)
            out.hint = old.hint
        block.eqns.remove(stacks[0])
    else:
        for stack in stacks:
            k = block.eqns.index(stack)
            block.eqns[k] = Eqn(REGISTRY["asarray"], (out,), {}, stack.outs, {}, stack.loc)
    loop.outs = loop.outs[:j - off] + (out,) + loop.outs[j - off + 1:]
    for v in (arr, p_new, res, out):
        inf.ex[v] = full
    _replace_gets(_root[0], block, loop, gets, out, 0, n, inf, uses)
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


# ---------------------------------------------------------------- list cotangents as arrays
#
# A list read after its loop other than by ``np.stack`` -- ``hs[-1]``,
# ``hs[k]``, ``for h in hs:``, ``sum(f(h) for h in hs)`` -- has a cotangent
# built from ``list_zeros(hs)``, ``list_index_add(g, hs, k)`` (zeros like
# each element, ``g`` at ``k``) and ``list_add`` (element by element), and,
# in a loop over the list, ``hs_bar = list_add(hs_bar, list_index_add(g, hs,
# i))``: a new list of n arrays per step.  When the list is ``n`` elements of
# one shape and dtype (its example, :class:`~s2sgrad.specialize._ListOf`),
# that cotangent is one array of ``n`` rows: ``np.zeros((n,) + shape)``,
# ``A[k] += g`` (``index_accumulate``, in place where codegen proves it
# safe) and ``A + B``; the reversed loop that pops it then reads row
# ``t_1`` (``unstack(A)``, see :func:`_backward`), as a hand-written BPTT
# adds a loss's cotangent into its step's row.


def _cotangent_arrays(block, inf, uses) -> bool:
    """Rewrite the list cotangents popped by the reversed loops of ``block``
    (and nested blocks) into arrays (see above).  Returns whether anything
    changed."""
    changed = False
    for e in list(block.eqns):
        for b in e.blocks():
            changed |= _cotangent_arrays(b, inf, uses)
    defs = {o: e for e in block.eqns for o in e.outs}
    for loop in list(block.eqns):
        if loop.prim.name != "for_loop" or not loop.params.get("reverse") or \
                loop.params.get("break_at") is not None:
            continue
        body, off = loop.params["body"], loop_offset(loop)
        for j in range(off, len(loop.args)):
            init, p = loop.args[j], body.params[j]
            pops = uses.get(p, [])
            lx = _ex(inf, init)
            if not isinstance(init, Var) or not _only_use(uses, init, loop) or \
                    len(pops) != 1 or pops[0] is None or pops[0].prim.name != "list_pop" or \
                    type(lx).__name__ != "_ListOf" or not lx.n or not _elem_ok(lx.elem):
                continue
            d = defs.get(init)
            if d is None or _sources(init, loop, defs, inf, uses, lx.n):
                continue            # (rows of arrays already: _backward reads them)
            want = (lx.n,) + lx.elem.shape
            dt = _cot_dtype(init, defs, inf, uses, want, loop)
            if dt is None or dt != lx.elem.dtype:
                continue
            new = []
            arr = _build(init, defs, inf, uses, want, block, new)
            lst = _like(init)
            new.append(Eqn(REGISTRY["unstack"], (arr,), {}, (lst,), {}, loop.loc))
            inf.ex[lst] = lx
            k = block.eqns.index(loop)
            block.eqns[k:k] = new
            loop.args = loop.args[:j] + (lst,) + loop.args[j + 1:]
            for x in new:
                for a in x.atoms():
                    if isinstance(a, Var):
                        uses.setdefault(a, []).append(x)
            uses[lst] = [loop]
            uses[init] = []
            changed = True
            defs = {o: e for e in block.eqns for o in e.outs}
    return changed


def _elem_ok(x) -> bool:
    """A list element a row of an array holds as it is: an array, or a NumPy
    float or complex scalar (a row of a 1-d array, read ``A[t, ...]``)."""
    return type(x) is np.ndarray or isinstance(x, np.generic) and x.dtype.kind in "fc"


def _index_ok(inf, k) -> bool:
    """``k`` indexes a list and an array's rows alike: one int (not a bool)."""
    v = _ex(inf, k)
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _g_ok(inf, g, want, dtype) -> bool:
    """``g`` added into a row of a ``want``-shaped ``dtype`` array keeps the
    row's shape and dtype (what ``list_index_add`` makes of the element)."""
    gx = _ex(inf, g)
    if not isinstance(gx, (np.ndarray, np.generic, float, int)) or isinstance(gx, bool):
        return False
    try:
        shape = np.broadcast_shapes(np.shape(gx), want[1:])
    except ValueError:
        return False
    return shape == want[1:] and np.result_type(np.asarray(gx).dtype, dtype) == dtype


def _cot_dtype(v, defs, inf, uses, want, user, depth=0):
    """The dtype of the array that holds the list cotangent ``v`` (read by
    ``user`` alone), or None when ``v`` is not made of the forms above."""
    if not isinstance(v, Var) or depth > 64 or not _only_use(uses, v, user):
        return None
    d = defs.get(v)
    if d is None or d.kwargs and d.prim.name != "unstack":
        return None
    name = d.prim.name
    lx = _ex(inf, d.args[1] if name == "list_index_add" else d.args[0]) if d.args else None
    if name == "list_zeros":
        if type(lx).__name__ == "_ListOf" and type(lx.elem) is np.ndarray and \
                (lx.n,) + lx.elem.shape == want:
            return np.dtype(np.float64)
        return None
    if name == "list_index_add":
        if type(lx).__name__ != "_ListOf" or not _elem_ok(lx.elem) or \
                (lx.n,) + lx.elem.shape != want or not _index_ok(inf, d.args[2]):
            return None
        dt = np.result_type(lx.elem.dtype, np.asarray(_ex(inf, d.args[0])).dtype) \
            if _ex(inf, d.args[0]) is not None else None
        return dt if dt is not None and _g_ok(inf, d.args[0], want, dt) else None
    if name == "unstack":
        gx = _ex(inf, d.args[0])
        if _axis0(d) and type(gx) is np.ndarray and gx.shape == want:
            return gx.dtype
        return None
    if name == "list_add" and len(d.args) == 2:
        a, b = _acc_first(d, defs)
        if a is b:
            return None
        da = _cot_dtype(a, defs, inf, uses, want, d, depth + 1)
        if da is None:
            return None
        bd = defs.get(b)
        if bd is not None and bd.prim.name == "list_index_add" and \
                not bd.kwargs and _index_ok(inf, bd.args[2]) and \
                type(_ex(inf, bd.args[1])).__name__ == "_ListOf" and \
                _ex(inf, bd.args[1]).n == want[0] and _g_ok(inf, bd.args[0], want, da):
            return da
        db = _cot_dtype(b, defs, inf, uses, want, d, depth + 1)
        return da if db is not None and db == da else None   # (dtype == None: float64)
    if name == "for_loop":
        return _carry_dtype(d, v, defs, inf, uses, want, depth)
    return None


def _acc_first(d, defs):
    """``list_add(a, b)``'s operands, a ``list_index_add`` second (added
    into the other's array: ``A[k] += g``) when exactly one is."""
    a, b = d.args
    da, db = defs.get(a), defs.get(b)
    if da is not None and da.prim.name == "list_index_add" and \
            (db is None or db.prim.name != "list_index_add"):
        return b, a
    return a, b


def _acc_carry(loop, v, uses):
    """For ``v`` an output of ``loop``: (carry position, the body's
    ``list_add``, its ``list_index_add``) when every step adds one
    ``list_index_add`` into the carry (``acc = list_add(acc, t)``), the
    parameter and ``t`` read by that add alone, its result only the next
    carry; else None."""
    if loop.params.get("break_at") is not None:
        return None
    body, off = loop.params["body"], loop_offset(loop)
    i = loop.outs.index(v)
    j = off + i
    p, r = body.params[j], body.results[i]
    bdefs = {o: e for e in body.eqns for o in e.outs}
    add = bdefs.get(r) if isinstance(r, Var) else None
    if add is None or add.prim.name != "list_add" or add.kwargs or len(add.args) != 2 or \
            not _only_use(uses, p, add) or not _only_use(uses, r, None) or \
            sum(x is r for x in body.results) != 1:
        return None
    t = add.args[1] if add.args[0] is p else add.args[0] if add.args[1] is p else None
    ia = bdefs.get(t) if isinstance(t, Var) else None
    if ia is None or ia.prim.name != "list_index_add" or ia.kwargs or \
            not _only_use(uses, t, add):
        return None
    return j, add, ia


def _carry_dtype(loop, v, defs, inf, uses, want, depth):
    got = _acc_carry(loop, v, uses)
    if got is None:
        return None
    j, add, ia = got
    dt = _cot_dtype(loop.args[j], defs, inf, uses, want, loop, depth + 1)
    if dt is None or not _index_ok(inf, ia.args[2]) or \
            type(_ex(inf, ia.args[1])).__name__ != "_ListOf" or \
            _ex(inf, ia.args[1]).n != want[0] or not _g_ok(inf, ia.args[0], want, dt):
        return None
    return dt


def _accumulate(acc, ia, inf, want, loc):
    """``acc[k] += g`` for ``ia = list_index_add(g, xs, k)``: (eqn, out)."""
    g, _, k = ia.args
    out = _like(acc)
    inf.ex[out] = _ex(inf, acc)
    if isinstance(k, Const):
        e = Eqn(REGISTRY["index_accumulate"], (acc, g, acc), {}, (out,),
                {"index": k.value, "repeat": False}, loc)
    else:
        e = Eqn(REGISTRY["index_accumulate"], (acc, g, acc, k), {}, (out,),
                {"index": Slot(0), "repeat": False}, loc)
    return e, out


def _build(v, defs, inf, uses, want, block, new):
    """Emit (into ``new``, placed before the consumer in ``block``) the array
    whose rows are the list cotangent ``v``'s elements; returns it.  Only
    after :func:`_cot_dtype` gave the dtype of the list's elements."""
    from .specialize import _compact
    d = defs[v]
    name = d.prim.name
    if name == "unstack":
        return d.args[0]
    if name == "list_zeros":
        z = _like(v)
        new.append(Eqn(REGISTRY["zeros"], (Const(want),), {"dtype": Const(np.float64)},
                       (z,), {}, d.loc))
        inf.ex[z] = _compact(want, np.dtype(np.float64))
        block.eqns.remove(d)
        return z
    if name == "list_index_add":
        dt = np.result_type(_ex(inf, d.args[1]).elem.dtype,
                            np.asarray(_ex(inf, d.args[0])).dtype)
        z = _like(v)
        new.append(Eqn(REGISTRY["zeros"], (Const(want),), {"dtype": Const(dt.type)},
                       (z,), {}, d.loc))
        inf.ex[z] = _compact(want, dt)
        e, out = _accumulate(z, d, inf, want, d.loc)
        new.append(e)
        block.eqns.remove(d)
        return out
    if name == "list_add":
        a, b = _acc_first(d, defs)
        acc = _build(a, defs, inf, uses, want, block, new)
        bd = defs.get(b)
        if bd is not None and bd.prim.name == "list_index_add":
            # (``bd`` stays for any other reader; dead code elimination
            # removes it otherwise)
            e, out = _accumulate(acc, bd, inf, want, d.loc)
            new.append(e)
        else:
            other = _build(b, defs, inf, uses, want, block, new)
            out = _like(v)
            inf.ex[out] = _ex(inf, acc)
            new.append(Eqn(REGISTRY["add"], (acc, other), {}, (out,), {}, d.loc))
        block.eqns.remove(d)
        return out
    # for_loop: the accumulated carry becomes an array carry
    loop = d
    j, add, ia = _acc_carry(loop, v, uses)
    body, off = loop.params["body"], loop_offset(loop)
    init = _build(loop.args[j], defs, inf, uses, want, block, new)
    k = block.eqns.index(loop)
    block.eqns[k:k] = new
    new.clear()
    p = _like(body.params[j])
    inf.ex[p] = _ex(inf, init)
    e, r = _accumulate(p, ia, inf, want, add.loc)
    body.eqns[body.eqns.index(add)] = e
    body.eqns.remove(ia)
    body.params[j] = p
    body.results[j - off] = r
    loop.args = loop.args[:j] + (init,) + loop.args[j + 1:]
    out = _like(v)
    inf.ex[out] = _ex(inf, init)
    loop.outs = loop.outs[:j - off] + (out,) + loop.outs[j - off + 1:]
    return out


def _drop_unread(block, uses) -> bool:
    """Remove the list cotangent operations nothing reads any more (they
    read the forward list, which :func:`_forward` may then turn into an
    array).  Returns whether any went."""
    n = len(block.eqns)
    block.eqns = [e for e in block.eqns if not (
        e.prim.name in ("list_index_add", "list_zeros", "list_add") and
        not any(uses.get(o) for o in e.outs))]
    dropped = len(block.eqns) != n
    for e in block.eqns:
        for b in e.blocks():
            dropped |= _drop_unread(b, uses)
    return dropped


def _like(v):
    """A new value named like the list cotangent ``v`` (``hs_bar``)."""
    w = Var(v.hint)
    w.bar_of = v.bar_of
    return w


# ---------------------------------------------------------------- map loops
#
# A loop over ``range(n)`` known on entry whose steps are independent -- each
# step reads rows ``i + c`` of arrays made before the loop, computes
# elementwise, and adds its result into row ``i`` of an accumulator carry
# (``acc[i] += g``: the reversed loop of ``sum(f(h) for h in hs)`` or of
# ``for h in hs: s = s + f(h)``) -- is one array operation over the rows, as
# hand-written code writes it (``hs_bar = 2.0 * g[:, None] * H``).


def vectorise_maps(func: Func, inf, again=False):
    """Each map loop of ``func`` (see :func:`_map_loop`) replaced by the
    same operations on whole arrays of its rows.  Returns ``func``, or with
    ``again`` (a second round, after specialize's accumulation passes made
    ``acc[i] += g`` of ``acc = acc + index_add(g, x, i)``) whether it
    rewrote a loop."""
    uses = _LazyUses(func)
    subst: dict = {}
    done = _maps_in(func.body, inf, uses, subst)
    if subst:
        from .ir import rename_reads
        rename_reads(func.body, subst)
        func.results = [subst.get(r, r) if isinstance(r, Var) else r for r in func.results]
    return done if again else func


class _LazyUses:
    """:func:`_uses` of ``func``, made at the first question (``get``): most
    loops are refused as maps before their carries' uses are asked (a
    carry that is not ``n`` rows long), and a function without map loops
    then costs no walk for them.  (Read only: :func:`_map_loop` does not
    change the IR before it has decided.)"""

    def __init__(self, func):
        self.func = func
        self.uses = None

    def get(self, v, default=None):
        if self.uses is None:
            self.uses = _uses(self.func)
        return self.uses.get(v, default)


def _maps_in(block, inf, uses, subst) -> bool:
    done = False
    for e in list(block.eqns):
        for b in e.blocks():
            done |= _maps_in(b, inf, uses, subst)
    defs = None             # (made at the block's first loop, before any rewrite of it)
    for e in list(block.eqns):
        if e.prim.name == "for_loop" and e.params.get("break_at") is None:
            if defs is None:
                defs = {o: e for e in block.eqns for o in e.outs}
            new = _map_loop(block, e, defs, inf, uses, subst)
            if new is not None:
                k = block.eqns.index(e)
                block.eqns[k:k + 1] = new
                done = True
    return done


def _per_step(x):
    """(shape, dtype) of a per-step value that is an array or a NumPy
    scalar (a row of an array read by one index), else None."""
    if type(x) is np.ndarray or isinstance(x, np.generic) and not isinstance(x, np.void):
        if np.lib.NumpyVersion(np.__version__) < "2.0.0" and np.ndim(x) == 0:
            return None     # (value-based casting: a scalar and a row of them may differ)
        return np.shape(x), x.dtype
    return None


def _carries_fit(loop, body, off, n, inf) -> bool:
    """The test :func:`_map_loop` makes of each carry's initial value (an
    array of ``n`` rows), made before the rest: it needs neither the
    body's values nor the uses, and refuses most loops -- an RNN's state, a
    carry of another length -- without the scan of the body.  (False only
    where :func:`_map_loop` would refuse the loop anyway.)"""
    for j in range(off, len(body.params)):
        if body.results[j - off] is not body.params[j]:
            ax = _ex(inf, loop.args[j])
            if type(ax) is not np.ndarray or ax.ndim < 1 or ax.shape[0] != n:
                return False
    return True


def _map_loop(block, loop, defs, inf, uses, subst):
    """The equations doing ``loop``'s work on whole arrays, or None when the
    loop is not proven a map.  Proofs, all from shape facts and the IR:

    * the trip count is ``range(n)`` known on entry (start 0, step 1), no
      ``break``, ``n >= 1``;
    * the index ``i`` is read only as a row index: ``A[i + c]`` (``c`` a
      constant >= 0, by ``add(i, c)``) of an array ``A`` defined before the
      loop with at least ``c + n`` rows, or as the row of an accumulation;
    * every other equation of the body (no nested blocks) is elementwise
      (one NumPy ufunc or an elementwise helper, no keyword operands) on
      constants, values defined before the loop, and values of the step;
    * every carry is an accumulator ``acc[i] += g`` (``index_accumulate``
      at row ``i``, no repeated index) whose parameter nothing else reads,
      ``g`` of exactly the row's shape and the accumulator's dtype, the
      accumulator ``n`` rows long -- or a carry passed through unchanged.

    Each step then writes a row no other step reads or writes, so the order
    of the steps does not matter and each row gets the same numbers: the
    ufuncs compute each element alone, a per-step value of lower rank is
    given unit axes after the row axis (``g[:, None]``) so it broadcasts as
    in its step, and the result dtypes are the steps' (NumPy >= 2 types a
    NumPy scalar as a 0-d array; older NumPy: rank >= 1 values only).  The
    accumulator's new value is ``acc + G``, or ``G`` itself when ``acc`` was
    ``np.zeros`` made for this loop alone and ``G`` a new array (``0.0 + g``
    is ``g``, except that ``-0.0`` stays ``-0.0``)."""
    from .specialize import _compact
    n = _range_of(loop, inf)
    if not n:
        return None
    body = loop.params["body"]
    off = loop_offset(loop)
    if not _carries_fit(loop, body, off, n, inf):
        return None
    i = body.params[0]
    local = set(body.params)
    for e in body.eqns:
        if e.blocks():
            return None
        local.update(e.outs)
    ofs = {i: 0}            # index values: i + c
    rows: dict = {}         # per-step Var -> the batched atom
    step: dict = {}         # batched Var -> per-step (shape, dtype)
    new: list = []
    acc_of: dict = {}       # carry param -> [its accumulations, in order]
    for j in range(off, len(body.params)):
        p = body.params[j]
        res = body.results[j - off]
        if res is p:
            continue
        ax = _ex(inf, loop.args[j])
        if type(ax) is not np.ndarray or ax.ndim < 1 or ax.shape[0] != n:
            return None
        chain, cur = [], p
        while cur is not res:       # (acc[i] += g1; acc[i] += g2; ...: one chain)
            us = uses.get(cur, [])  # (an accumulation may read it twice: acc and x)
            if not us or any(u is not us[0] for u in us) or us[0] is None or \
                    len(chain) > 64:
                return None
            acc = us[0]
            if acc.args[0] is not cur or acc.kwargs or acc.params.get("index") != Slot(0) \
                    or acc.args[-1] is not i or not any(acc is e for e in body.eqns):
                return None
            if acc.prim.name == "index_accumulate":
                x = acc.args[2]     # (only its shape: acc + index_add(g, x, [i]))
                xx = _ex(inf, x)
                if len(acc.args) != 4 or acc.params.get("repeat") or x is not cur and (
                        x in local or type(xx) is not np.ndarray or xx.shape != ax.shape):
                    return None
            elif acc.prim.name == "setitem" and not chain:  # (a tape of the rows: T[i] = v)
                d = defs.get(loop.args[j]) if isinstance(loop.args[j], Var) else None
                if len(acc.args) != 3 or d is None or d.prim.name != "empty" or \
                        not _only_use(uses, loop.args[j], loop):
                    return None
            else:
                return None
            chain.append(acc)
            cur = acc.outs[0]
        if sum(r is res for r in body.results) != 1 or \
                any(u is not None for u in uses.get(res, [])) or \
                chain[0].prim.name == "setitem" and len(chain) > 1:
            return None
        acc_of[p] = chain
    if not acc_of:
        return None
    accs = {e for chain in acc_of.values() for e in chain}
    hoisted: set = set()    # (values of the body that read nothing of the step)
    # (what the body computes and nothing reads -- dce's rule: no effect --
    # is dropped, as dce drops it from the loop)
    live = {a for e in accs for a in e.atoms()} | set(body.results)
    dead = set()
    for e in reversed(body.eqns):
        if e in accs:
            continue
        if any(o in live for o in e.outs) or getattr(e.prim, "effect", False):
            live.update(a for a in e.atoms() if isinstance(a, Var))
        else:
            dead.add(e)

    def atom(a):
        if isinstance(a, Const):
            return a, None
        if a in rows:
            return rows[a], step[rows[a]]
        if a in local and a not in hoisted:
            raise _NotMap
        return a, None              # (defined before the loop)

    try:
        for e in body.eqns:
            if e in accs or e in dead:
                continue
            name = e.prim.name
            if name == "add" and e.args and e.args[0] in ofs and isinstance(e.args[1], Const) \
                    and type(e.args[1].value) is int and e.args[1].value >= 0 and \
                    not e.kwargs and len(e.args) == 2:
                ofs[e.outs[0]] = ofs[e.args[0]] + e.args[1].value
                continue
            if any(a in ofs for a in e.atoms()):
                if name != "getitem" or len(e.args) != 2 or e.kwargs or \
                        e.args[1] not in ofs or e.args[0] in local or \
                        e.params.get("index") not in (Slot(0), (Slot(0), Ellipsis)):
                    raise _NotMap
                a, c = e.args[0], ofs[e.args[1]]
                ax, px = _ex(inf, a), _per_step(inf.ex.get(e.outs[0]))
                if type(ax) is not np.ndarray or ax.ndim < 1 or ax.shape[0] < c + n or \
                        px is None or px != (ax.shape[1:], ax.dtype):
                    raise _NotMap
                if c == 0 and ax.shape[0] == n and not e.params.get("copy"):
                    rows[e.outs[0]] = a
                    step[a] = px
                    continue
                v = Var(e.outs[0].hint)
                new.append(Eqn(REGISTRY["getitem"], (a,), {}, (v,),
                               {"index": slice(c or None, c + n, None)} |
                               ({"copy": True} if e.params.get("copy") else {}), e.loc))
                inf.ex[v] = _compact((n,) + ax.shape[1:], ax.dtype)
                rows[e.outs[0]], step[v] = v, px
                continue
            if name == "getitem" and not e.kwargs and not e.params.get("copy") and \
                    all(s is None for _, s in map(atom, e.args)):
                new.append(e)       # (reads nothing of the step: read once, n >= 1)
                hoisted.update(e.outs)
                continue
            shaped = name == "broadcast_to" and len(e.args) == 2 and \
                isinstance(e.args[1], Const) and type(e.args[1].value) is tuple
            if not shaped and e.prim.shape is not _ELEMENTWISE or e.kwargs or \
                    len(e.outs) != 1 or e.params.get("inline"):
                raise _NotMap
            got = [atom(a) for a in e.args]
            if all(s is None for _, s in got):
                new.append(e)       # (reads nothing of the step: computed once, n >= 1)
                hoisted.update(e.outs)
                continue
            px = _per_step(inf.ex.get(e.outs[0]))
            if px is None:
                raise _NotMap
            rank = len(px[0])
            args = []
            for a, s in got:
                if s is not None and len(s[0]) < rank:
                    lifted = Var(a.hint)
                    lifted.bar_of = a.bar_of
                    new.append(Eqn(REGISTRY["getitem"], (a,), {}, (lifted,),
                                   {"index": (slice(None),) + (None,) * (rank - len(s[0]))},
                                   e.loc))
                    inf.ex[lifted] = _compact((n,) + (1,) * (rank - len(s[0])) + s[0], s[1])
                    a = lifted
                args.append(a)
            if shaped:          # (the step's shape, after the row axis)
                if tuple(e.args[1].value) != px[0]:
                    raise _NotMap
                args[1] = Const((n,) + px[0])
            v = Var(e.outs[0].hint)
            v.bar_of = e.outs[0].bar_of
            new.append(Eqn(e.prim, tuple(args), {}, (v,), dict(e.params), e.loc))
            inf.ex[v] = _compact((n,) + px[0], px[1])
            rows[e.outs[0]], step[v] = v, px
    except _NotMap:
        return None
    fresh = {e.outs[0] for e in new if e.prim.shape is _ELEMENTWISE and e.outs[0] in step}
    ends = []
    for j in range(off, len(body.params)):
        p, out, init = body.params[j], loop.outs[j - off], loop.args[j]
        if p not in acc_of:
            ends.append((out, init, None))
            continue
        ix = _ex(inf, init)
        gbs = []
        for acc in acc_of[p]:
            g = acc.args[1]
            if g in rows:
                gb = rows[g]
                if step[gb] != (ix.shape[1:], ix.dtype):
                    return None
            elif acc.prim.name == "setitem":
                return None
            else:           # (the same value every step: added to every row)
                gb = g
                if isinstance(g, Var) and g in local and g not in hoisted or \
                        _per_step(_ex(inf, g)) != (ix.shape[1:], ix.dtype):
                    return None
            gbs.append(gb)
        ends.append((out, init, gbs))
    made = set()
    for out, init, gbs in ends:
        if gbs is None:
            subst[out] = init
            continue
        z = defs.get(init) if isinstance(init, Var) else None
        acc = init
        if z is not None and z.prim.name in ("zeros", "zeros_like", "empty") and \
                _only_use(uses, init, loop) and gbs[0] in fresh and gbs[0] not in made:
            acc = gbs.pop(0)    # (every row written once: the array is G)
            made.add(acc)
            block.eqns.remove(z)
        elif z is not None and z.prim.name == "empty":
            return None
        for k, gb in enumerate(gbs):
            v = out if k == len(gbs) - 1 else Var(out.hint)
            new.append(Eqn(REGISTRY["add"], (acc, gb), {}, (v,), {}, loop.loc))
            inf.ex[v] = ix
            acc = v
        if not gbs:
            subst[out] = acc
    return new


class _NotMap(Exception):
    """A loop that is not proven a map (it stays a loop)."""
