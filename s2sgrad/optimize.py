"""Optimisation passes over the IR: ``Func -> Func``.

* ``dce``: drop equations whose results nothing uses (dead forward values
  in a gradient, adjoints of inputs nobody asked for), prune the unused
  outputs of ``cond`` and the unused carries of loops (to a fixpoint: a
  carry is live if the code after the loop or another live carry reads
  it).  Effects (``prim.effect``: stack pushes/pops, random draws, the
  record/replay of draws) are kept even when their values are unused.
* ``cse``: share equations that compute the same primitive of the same
  operands (the forward ``tanh`` output reused by its derivative, the same
  ``1 - y**2`` built twice by two rules).  Scoped: a value computed inside a
  branch or loop body is not reused outside it.  Effects are never shared
  (two ``rng.normal()`` are two draws).

Algebraic folding (``g * 1``, ``x + 0``, constant arithmetic) happens as
rules emit code (``Primitive.simplify``), so passes here never see it.

Both passes expect and preserve SSA (``ir.verify``).
"""
from __future__ import annotations

from .ir import Block, Const, Eqn, Func, Var, defined_vars, iter_eqns, rename_reads
from .primitives.control import loop_offset


def is_region(e) -> bool:
    return getattr(e.prim, "region", False)


def _effect(e) -> bool:
    return getattr(e.prim, "effect", False)


def free_vars(block: Block) -> set:
    """Vars a block reads that it (and its nested blocks) does not define."""
    defined = set(block.params)
    used = set()
    for e in block.eqns:
        for a in e.atoms():
            if isinstance(a, Var) and a not in defined:
                used.add(a)
        for b in e.blocks():
            used |= free_vars(b) - defined
        defined.update(e.outs)
    used |= {r for r in block.results if isinstance(r, Var) and r not in defined}
    return used


def has_effects(block: Block) -> bool:
    return any(_effect(e) or (is_region(e) and any(has_effects(b) for b in e.blocks()))
               for e in block.eqns)


# ---------------------------------------------------------------- DCE


def dce(func: Func) -> Func:
    live = {r for r in func.results if isinstance(r, Var)}
    eqns = _dce_eqns(func.body.eqns, live)
    return Func(func.name, func.params, Block(eqns), func.results, func.filename, func.info)


def _dce_eqns(eqns, live: set, kept=None) -> list:
    """The equations of ``eqns`` that compute something in ``live`` or have
    an effect, in order.  Adds to ``live`` every Var they read, and the free
    Vars of their nested blocks: afterwards ``live`` is the block's results
    and everything its kept equations read (what :func:`_uses` of the pruned
    block would walk again).  ``kept``: ids of equations (no regions) known
    to be kept whose operands ``live`` already holds (an earlier round of
    :func:`_dce_region`'s fixpoint): taken as they are."""
    out = []
    for e in reversed(eqns):
        if kept is not None and id(e) in kept:
            out.append(e)
            continue
        prim = e.prim      # (is_region and _effect, inline: asked of every equation)
        if getattr(prim, "region", False):
            free: list = []
            e2 = _dce_region(e, live, free)
            if e2 is not None:
                out.append(e2)
                live.update(a for a in e2.atoms() if isinstance(a, Var))
                for f in free:
                    live.update(f)
            continue
        keep = getattr(prim, "effect", False)
        if not keep:
            for o in e.outs:
                if o in live:
                    keep = True
                    break
        if keep:
            out.append(e)
            for a in e.args:
                if type(a) is Var:
                    live.add(a)
            if e.kwargs:
                for a in e.kwargs.values():
                    if type(a) is Var:
                        live.add(a)
    out.reverse()
    return out


def _free(block: Block, live: set) -> set:
    """``free_vars`` of a block pruned by :func:`_dce_eqns`, from the set it
    left: what the block reads (its results included) less what it defines
    (its parameters and its equations' outputs; SSA: nothing is read before
    it is defined, nested blocks' own definitions never reach ``live``)."""
    defined = set(block.params)
    for x in block.eqns:
        defined.update(x.outs)
    return {v for v in live if v not in defined}


def _dce_block(block: Block, results_live, free: list | None = None) -> Block:
    """``block`` without its dead equations (every result live); ``free``:
    a list to which the pruned block's free Vars are appended."""
    results = list(block.results)
    live = {r for r in results if isinstance(r, Var)}
    eqns = _dce_eqns(block.eqns, live)
    out = Block(eqns, list(block.params), results)
    if free is not None:
        free.append(_free(out, live))
    return out


def _dce_region(e: Eqn, live: set, free: list | None = None):
    """``e`` with what nothing in ``live`` needs pruned (None: all of it).
    ``free``: a list to which the free Vars of the kept region's blocks are
    appended (sets; :func:`free_vars` of each)."""
    if free is None:
        free = []
    name = e.prim.name
    if name in ("checkpoint_forward", "checkpoint_backward"):
        # a local function called by a schedule driver: its signature is
        # fixed, so only its body is pruned
        if not any(o in live for o in e.outs):
            return None
        params = {k: (_dce_block(v, None, free) if isinstance(v, Block) else v)
                  for k, v in e.params.items()}
        return Eqn(e.prim, e.args, e.kwargs, e.outs, params, e.loc)
    if name == "cond":
        keep = [i for i, o in enumerate(e.outs) if o in live]
        then, other = e.params["then"], e.params["else"]
        t = Block(then.eqns, [], [then.results[i] for i in keep])
        f = Block(other.eqns, [], [other.results[i] for i in keep])
        t, f = _dce_block(t, None, free), _dce_block(f, None, free)
        if not keep and not has_effects(t) and not has_effects(f):
            return None
        free += [free_vars(b) for k, b in e.params.items()
                 if k not in ("then", "else") and type(b) is Block]
        return Eqn(e.prim, e.args, e.kwargs, tuple(e.outs[i] for i in keep),
                   dict(e.params, then=t, **{"else": f}), e.loc)
    # loops: find live carries by fixpoint
    body = e.params["body"]
    offset = loop_offset(e)
    carries = body.params[offset:]
    n = len(carries)
    keep = {i for i in range(n) if e.outs[i] in live}
    brk = e.params.get("break_at")
    if brk is not None:
        keep.add(brk)
    cond = e.params.get("cond")
    if cond is not None:
        cond_needs = {i for i, p in enumerate(cond.params) if p in _uses(cond)}
        keep |= cond_needs
    # (each round prunes the body for the carries kept so far; the Vars the
    # pruned body reads are the set DCE leaves, so no further walk over it.
    # Rounds only add carries, so what a round kept and read stays kept and
    # read: the next round starts from its set and takes the equations it
    # kept without looking at them again -- the same equations and the same
    # set as a round from the results alone)
    used: set = set()
    kept = None
    while True:
        results = [body.results[i] for i in sorted(keep)]
        used.update(r for r in results if isinstance(r, Var))
        trial = Block(_dce_eqns(body.eqns, used, kept), body.params, results)
        more = {i for i, p in enumerate(carries) if p in used} - keep
        if not more:
            break
        keep |= more
        kept = {id(x) for x in trial.eqns if not is_region(x)}
    keep = sorted(keep)
    if not keep and not has_effects(trial):
        return None
    remap = {old: new for new, old in enumerate(keep)}
    params = dict(e.params)
    params["body"] = Block(trial.eqns, body.params[:offset] + [carries[i] for i in keep],
                           [body.results[i] for i in keep])
    # (the unkept carries are not read: the body reads what ``used`` holds
    # less its parameters and its equations' outputs)
    free.append(_free(trial, used))
    if cond is not None:
        params["cond"] = Block(cond.eqns, [cond.params[i] for i in keep], cond.results)
    for k, b in params.items():
        if k != "body" and type(b) is Block:
            free.append(free_vars(b))
    if brk is not None:
        params["break_at"] = remap[brk]
    for k in ("count_at",):
        if params.get(k) is not None:
            params[k] = remap.get(params[k])
    args = tuple(e.args[:offset]) + tuple(e.args[offset + i] for i in keep)
    return Eqn(e.prim, args, e.kwargs, tuple(e.outs[i] for i in keep), params, e.loc)


def _uses(block: Block) -> set:
    """Every Var read anywhere in the block (including its own params)."""
    used = set()
    for e in block.eqns:
        used.update(a for a in e.atoms() if isinstance(a, Var))
        for b in e.blocks():
            used |= _uses(b)
            used.update(r for r in b.results if isinstance(r, Var))
    used.update(r for r in block.results if isinstance(r, Var))
    return used


# ---------------------------------------------------------------- CSE


def _atom_key(a):
    return ("v", a.id) if isinstance(a, Var) else ("c",) + a.key()


def _params_key(params):
    if not params:
        return ""
    if len(params) == 1 and "spelling" in params:
        return "[]"                     # (repr of the empty list below, without building it)
    try:
        return repr(sorted((k, v) for k, v in params.items() if k != "spelling"))
    except Exception:
        return None


# never shared: globals and outside objects are read live; allocations
# (np.zeros, x.copy(), [], ... -- ``alloc=True`` in the table, see
# s2sgrad.alias) are values with identity: two np.zeros(3) are two arrays
_NO_CSE = {"load_global", "load_cell", "load_object", "load_attr", "load_item"}


def cse(func: Func) -> Func:
    subst: dict = {}
    block = _cse_block(func.body, subst, {})
    results = [_sub(subst, r) for r in func.results]
    return Func(func.name, func.params, block, results, func.filename, func.info)


def _sub(subst, a):
    while isinstance(a, Var) and a in subst:
        a = subst[a]
    return a


_MISSING = object()


def _cse_block(block: Block, subst: dict, seen: dict) -> Block:
    """``block`` with its repeated equations shared.  ``seen``: key ->
    equation of the enclosing blocks and of this one so far; definitions
    inside this block stay inside it: what it adds (or replaces) in
    ``seen`` is undone before returning (one dict for the whole function,
    not a copy per nested block: a function of many loops copied the
    growing table of everything before each of them)."""
    undo: list = []             # (key, what seen held before this block)
    eqns = []
    for e in block.eqns:
        args = e.args
        if subst:
            for a in args:
                if type(a) is Var and a in subst:   # (else the same operands)
                    args = tuple([_sub(subst, x) for x in args])
                    break
        kwargs = {k: _sub(subst, v) for k, v in e.kwargs.items()} if e.kwargs else {}
        params = e.params
        nested = e.blocks() if e.params else ()
        if nested:
            params = {k: (_cse_block(v, subst, seen) if isinstance(v, Block) else v)
                      for k, v in e.params.items()}
        e2 = Eqn(e.prim, args, kwargs, e.outs, params, e.loc)
        # (what the primitive allows first -- _effect and is_alloc inline --
        # and the key of the params, a repr, only for what it allows: a
        # load_global's params hold the module's globals, whose repr costs as
        # much as the module holds)
        prim = e.prim
        pk = _params_key(e.params) if not nested and not getattr(prim, "effect", False) and \
            prim.name not in _NO_CSE and not getattr(prim, "alloc", False) and \
            not getattr(prim, "opaque_cse", False) else None
        if pk is not None:
            # (a Var stands for itself: compared by identity, as its id)
            key = (e.prim.name, tuple([a if type(a) is Var else _atom_key(a) for a in args]),
                   tuple(sorted([(k, _atom_key(v)) for k, v in kwargs.items()])) if kwargs
                   else (), pk)
            prev = seen.get(key)
            if prev is not None and len(prev.outs) == len(e.outs):
                for o, p in zip(e.outs, prev.outs):
                    subst[o] = p
                    if p.shape is None:
                        p.shape = o.shape
                continue
            undo.append((key, seen.get(key, _MISSING)))
            seen[key] = e2
        eqns.append(e2)
    results = [_sub(subst, r) for r in block.results]
    for key, old in reversed(undo):
        if old is _MISSING:
            del seen[key]
        else:
            seen[key] = old
    return Block(eqns, list(block.params), results)


# ---------------------------------------------------------------- shape-only uses

# Shape-only operands (primitives.core.SHAPE_ONLY_OPERANDS) that share_shapes
# may point at any value of the same shape *token*: these primitives read
# the shape alone (a token does not promise the same dtype), and accept the
# 0.0 that stands for any 0-d value.
_SHARE = {"unbroadcast", "broadcast_like", "unreduce", "size", "shape", "scalar_seed"}


def share_shapes(func: Func) -> Func:
    """Point shape-only operands at the earliest value known to have the same
    shape (same shape token).  ``np.size(loss_terms)`` in a mean's adjoint
    then no longer keeps the forward ``loss_terms`` alive, and DCE can drop
    forward work a gradient does not need (a costly ``logaddexp``, say)."""
    rep: dict = {}

    def note(v):
        t = v.shape
        if t is not None and t not in rep and t is not _SCALAR_TOKEN:
            rep[t] = v

    # a vjp's cotangent inputs come after the primal parameters: a forward
    # value's shape read pointed at one would move it into the backward half
    # (reverse.split_vjp), so they are never the representative
    n = func.info.get("nparams_primal", len(func.params))
    for p in func.params[:n]:
        note(p)

    def fix(e):
        args = list(e.args)
        changed = False
        for i, a in enumerate(args):
            if e.prim.name not in _SHARE or not shape_only(e.prim.name, i) or \
                    not isinstance(a, Var):
                continue
            if a.shape is _SCALAR_TOKEN and e.prim.name != "scalar_seed":
                args[i] = Const(0.0)          # any 0-d value has shape ()
                changed = True
            elif a.shape in rep and rep[a.shape] is not a:
                args[i] = rep[a.shape]
                changed = True
        if changed:
            e = Eqn(e.prim, tuple(args), e.kwargs, e.outs, e.params, e.loc)
        if e.blocks():
            e = Eqn(e.prim, e.args, e.kwargs, e.outs,
                    {k: (Block([fix(x) for x in v.eqns], v.params, v.results)
                         if isinstance(v, Block) else v) for k, v in e.params.items()}, e.loc)
        return e

    eqns = []
    for e in func.body.eqns:
        e = fix(e)
        eqns.append(e)
        for o in e.outs:
            note(o)
    del fix  # (breaks the recursive closure's reference cycle)
    return Func(func.name, func.params, Block(eqns), func.results, func.filename, func.info)


from .primitives.core import SCALAR as _SCALAR_TOKEN, shape_only  # noqa: E402


# ---------------------------------------------------------------- implicit broadcasting

_BROADCASTING = {"add", "subtract", "multiply", "divide"}


def _readers_of(func: Func, wanted: set) -> dict:
    """``readers(func)`` for the Vars in ``wanted`` only (the same lists, in
    the same order): a function's few broadcasts do not need a list of the
    readers of every value."""
    uses: dict = {}

    def count(block):
        for e in block.eqns:
            for a in e.atoms():
                if type(a) is Var and a in wanted:
                    uses.setdefault(a, []).append(e)
            if e.params:
                for b in e.blocks():
                    count(b)
                    for r in b.results:
                        if type(r) is Var and r in wanted:
                            uses.setdefault(r, []).append(None)
    count(func.body)
    del count  # (breaks the recursive closure's reference cycle)
    for r in func.results:
        if type(r) is Var and r in wanted:
            uses.setdefault(r, []).append(None)
    return uses


def elide_broadcasts(func: Func) -> Func:
    """Drop ``t = unreduce(g, x)`` / ``t = broadcast_like(g, x)`` when every use
    of ``t`` is an elementwise operation whose other operand already has x's
    shape: NumPy's broadcasting gives the same values and shape, without
    materialising (or even viewing) the broadcast.  ``mean``'s adjoint then
    multiplies by ``g / n`` directly."""
    made = [e for e in iter_eqns(func.body)     # the broadcast equations, outer first
            if e.prim.name in ("unreduce", "broadcast_like")]
    # values that are themselves broadcasts: never the full-shaped witness
    broadcasts = {o for e in made for o in e.outs}
    if not broadcasts:
        return func                     # (nothing to drop)
    uses = _readers_of(func, broadcasts)

    subst: dict = {}
    for e in made:
        if e.params and e.blocks():
            continue
        if e.prim.name == "unreduce":
            axis, keep = e.kwargs.get("axis"), e.kwargs.get("keepdims")
            if not (axis is None or (isinstance(axis, Const) and axis.value is None) or
                    (isinstance(keep, Const) and keep.value is True)):
                continue
        t = e.outs[0]
        tok = t.shape
        us = uses.get(t, [])
        if tok is None or not us or any(
                u is None or u.prim.name not in _BROADCASTING or
                not any(isinstance(o, Var) and o is not t and o.shape is tok and
                        o not in broadcasts for o in u.args)
                for u in us):
            continue
        subst[t] = e.args[0]
    if not subst:
        return func

    def rewrite(block):
        # (an equation that reads no dropped broadcast, and has no block
        # that does, is kept as it is: optimize's CSE copies every one)
        eqns = []
        for e in block.eqns:
            args = e.args
            if any(isinstance(a, Var) and a in subst for a in args):
                args = tuple(subst.get(a, a) if isinstance(a, Var) else a for a in args)
            params = e.params
            if e.params and e.blocks():
                params = {k: (rewrite(v) if isinstance(v, Block) else v)
                          for k, v in e.params.items()}
            eqns.append(e if args is e.args and params is e.params else
                        Eqn(e.prim, args, e.kwargs, e.outs, params, e.loc))
        return Block(eqns, block.params, [subst.get(r, r) for r in block.results])

    body = rewrite(func.body)
    del rewrite  # (breaks the recursive closure's reference cycle)
    return Func(func.name, func.params, body, func.results, func.filename,
                func.info)


# ---------------------------------------------------------------- stacks


# (a switch for tests: the saves of loop-invariant values, read where they are)
_READ_INVARIANTS = True


def prune_stacks(func: Func) -> Func:
    """Stop saving values the reverse sweep never reads, and values saved twice.

    Reverse mode pushes, per loop iteration, the values its adjoint reads
    (popped one tuple per iteration, or collected as a whole by ``unzip`` for
    the hoisted weight gradients).  When a later pass removes the last
    reader of one of them (an ``unbroadcast`` that turned out to be the
    identity reads its operand only for the shape), the pushes still move
    it; when two positions always hold the same value (``g`` for both
    operands of a sum), one suffices.  Drop such positions from every push
    and consumer of the stack (the whole stack if nothing is read).  Stacks
    that are copied (re-callable pullbacks) or read otherwise are left alone."""
    pushes, consumers, skip = {}, {}, set()
    used: set = set()           # (every Var read anywhere: _uses of the body and results)

    def walk(block):            # (one walk, outer equations first)
        for e in block.eqns:
            n = e.prim.name
            read = [a for a in e.atoms() if isinstance(a, Var)]
            used.update(read)
            if n == "push":
                pushes.setdefault(e.args[0], []).append(e)
                skip.update(a for a in e.args[1:] if isinstance(a, Var))
            elif n in ("pop", "unzip") and e.args and isinstance(e.args[0], Var):
                consumers.setdefault(e.args[0], []).append(e)
            elif n != "new_stack":      # copy_stack, or any other reader of the whole list
                skip.update(read)
            for b in e.blocks():
                walk(b)
                # a stack that leaves a region as a result is consumed elsewhere
                res = [r for r in b.results if isinstance(r, Var)]
                skip.update(res)
                used.update(res)
    walk(func.body)
    del walk  # (breaks the recursive closure's reference cycle)
    if not pushes:
        return func                     # (nothing saved: nothing to prune)
    # a stack that leaves the function (a split vjp's residual) is consumed elsewhere
    res = [r for r in func.results if isinstance(r, Var)]
    skip.update(res)
    used.update(res)
    plan: dict = {}
    subst: dict = {}
    # (values every pop may read where they are: the parameters and the
    # values the function's top-level equations define, which precede every
    # loop that reads them and are in scope in every nested block)
    top = set(func.params)
    for e in func.body.eqns if _READ_INVARIANTS else ():
        top.update(e.outs)
    for s, ps in pushes.items():
        if s in skip:
            continue
        cs = consumers.get(s, [])
        widths = {len(p.args) - 1 for p in ps} | {len(c.outs) for c in cs}
        if len(widths) != 1:
            continue
        (w,) = widths
        if any(c.prim.name == "unzip" and not (isinstance(c.kwargs.get("n"), Const) and
                                               c.kwargs["n"].value == w) for c in cs):
            continue
        keep = []
        first: dict = {}        # the values position i holds in every push -> first such kept
        for i in range(w):
            if not any(c.outs[i] in used for c in cs):
                continue
            held = tuple(id(p.args[1 + i]) for p in ps)
            v = ps[0].args[1 + i]
            if len(set(held)) == 1 and (type(v) is Const and _READ_INVARIANTS or v in top) and \
                    all(c.prim.name == "pop" for c in cs):
                # every step saves the same loop-invariant value (``X.T``, a
                # constant): each pop is that value itself -- the object the
                # list held -- not a per-step copy of it on a tape
                for c in cs:
                    subst[c.outs[i]] = v
                continue
            dup = first.get(held)
            if dup is not None:
                for c in cs:
                    subst[c.outs[i]] = c.outs[dup]
                continue
            first[held] = i
            keep.append(i)
        if len(keep) < w:
            plan[s] = keep
    if not plan:
        return func
    gone = {s for s, keep in plan.items() if not keep}

    def sub(a):
        return subst.get(a, a) if isinstance(a, Var) else a

    def rewrite(block):
        eqns = []
        for e in block.eqns:
            n = e.prim.name
            s = e.args[0] if e.args else None
            if subst and (any(type(a) is Var and a in subst for a in e.args) or
                          any(type(v) is Var and v in subst for v in e.kwargs.values())):
                e = Eqn(e.prim, tuple(sub(a) for a in e.args),
                        {k: sub(v) for k, v in e.kwargs.items()}, e.outs, e.params, e.loc)
            # (else the equation itself: the function it was in is not used again)
            if n == "new_stack" and e.outs[0] in gone:
                continue
            if n in ("push", "pop", "unzip") and isinstance(s, Var) and s in plan:
                keep = plan[s]
                if not keep:
                    continue
                if n == "push":
                    e = Eqn(e.prim, (s,) + tuple(e.args[1 + i] for i in keep), e.kwargs, e.outs,
                            e.params, e.loc)
                else:
                    kw = dict(e.kwargs, n=Const(len(keep))) if n == "unzip" else e.kwargs
                    e = Eqn(e.prim, e.args, kw, tuple(e.outs[i] for i in keep), e.params,
                            e.loc)
            if e.params and e.blocks():
                e = Eqn(e.prim, e.args, e.kwargs, e.outs,
                        {k: (rewrite(v) if isinstance(v, Block) else v)
                         for k, v in e.params.items()}, e.loc)
            eqns.append(e)
        return Block(eqns, block.params, [sub(r) for r in block.results])

    body = rewrite(func.body)
    del rewrite  # (breaks the recursive closure's reference cycle)
    return Func(func.name, func.params, body, [sub(r) for r in func.results],
                func.filename, func.info)


# hoisted loop products -> positions of their per-step list operands
_STEP_LISTS = {"matmul_vjp_a_sum": (0, 2), "matmul_vjp_b_sum": (0, 1), "dot_vjp_a_sum": (0, 2),
               "dot_vjp_b_sum": (0, 1), "unbroadcast_sum": (0,)}


def share_stacking(func: Func) -> Func:
    """Stack each per-step list of a reversed loop once.  The hoisted weight
    gradients of ``h = tanh(Wh @ h + Wx @ x_t + b)`` all read the same list
    of step cotangents; ``stack_steps`` before each of them, merged by CSE,
    makes that one ``np.stack`` instead of three."""
    from .primitives.core import REGISTRY
    stack = REGISTRY["stack_steps"]
    stacked = {o for e in iter_eqns(func.body) if e.prim is stack for o in e.outs}

    def rewrite(block):
        eqns = []
        for e in block.eqns:
            pos = _STEP_LISTS.get(e.prim.name)
            if pos is not None:
                args = list(e.args)
                for i in pos:
                    if isinstance(args[i], Var) and args[i] not in stacked:
                        out = Var("_steps")
                        eqns.append(Eqn(stack, (args[i],), {}, (out,), {}, e.loc))
                        args[i] = out
                e = Eqn(e.prim, tuple(args), e.kwargs, e.outs, e.params, e.loc)
            if e.params and e.blocks():
                e = Eqn(e.prim, e.args, e.kwargs, e.outs,
                        {k: (rewrite(v) if isinstance(v, Block) else v)
                         for k, v in e.params.items()}, e.loc)
            eqns.append(e)
        return Block(eqns, block.params, block.results)

    body = rewrite(func.body)
    del rewrite  # (breaks the recursive closure's reference cycle)
    return Func(func.name, func.params, body, func.results, func.filename,
                func.info)


# cheap, pure primitives that cannot fail: hoisted out of loops when invariant
_HOISTABLE = {"transpose"}


def _has_hoistable(body: Block) -> bool:
    """Has the loop body an equation of a kind :func:`hoist_invariants`
    moves?  (Without one the body keeps every equation: the walk that
    tracks what the body defines is not made.)"""
    return any(x.prim.name in _HOISTABLE for x in body.eqns)


def hoist_invariants(func: Func) -> Func:
    """Move loop-invariant ``W.T`` (and other views in ``_HOISTABLE``) out of
    loop bodies: computed once before the loop instead of once per step."""
    def rewrite(block):
        eqns = []
        for e in block.eqns:
            if e.params and e.blocks():
                params = {k: (rewrite(v) if isinstance(v, Block) else v)
                          for k, v in e.params.items()}
                if is_region(e) and e.prim.name in ("for_loop", "while_loop") and \
                        _has_hoistable(params["body"]):
                    body = params["body"]
                    inside = set(body.params)
                    kept, moved = [], []
                    for x in body.eqns:
                        if x.prim.name in _HOISTABLE and not x.blocks() and x.kwargs == {} and \
                                not any(isinstance(a, Var) and a in inside for a in x.args):
                            moved.append(x)
                        else:
                            kept.append(x)
                            inside.update(x.outs)
                            for b in x.blocks():
                                inside |= defined_vars(b)
                    eqns += moved
                    params["body"] = Block(kept, body.params, body.results)
                e = Eqn(e.prim, e.args, e.kwargs, e.outs, params, e.loc)
            eqns.append(e)
        return Block(eqns, block.params, block.results)

    body = rewrite(func.body)
    del rewrite  # (breaks the recursive closure's reference cycle)
    return Func(func.name, func.params, body, func.results, func.filename,
                func.info)


def optimize(func: Func) -> Func:
    from .remat import count_records
    return count_records(
        dce(cse(share_stacking(hoist_invariants(elide_broadcasts(dce(share_shapes(func))))))))


# ---------------------------------------------------------------- custom rules


def erase_rule_markers(func: Func) -> Func:
    """The Func as code generation prints it: each ``custom_rule`` marker (a
    call of a function with custom rules, :mod:`s2sgrad.custom`) replaced by
    the value it marks, then dead code dropped (the residuals only the rule
    would read).  Markers carry the rules for later differentiation; the
    printed code is never differentiated again."""
    if not any(e.prim.name == "custom_rule" for e in iter_eqns(func.body)):
        return func
    subst: dict = {}

    def sub(a):
        while isinstance(a, Var) and a in subst:
            a = subst[a]
        return a

    def rewrite(block):
        eqns = []
        for e in block.eqns:
            args = tuple(sub(a) for a in e.args)
            if e.prim.name == "custom_rule":
                for o, a in zip(e.outs, args):
                    subst[o] = a
                continue
            params = {k: (rewrite(v) if isinstance(v, Block) else v) for k, v in e.params.items()}
            eqns.append(Eqn(e.prim, args, {k: sub(v) for k, v in e.kwargs.items()}, e.outs,
                            params, e.loc))
        return Block(eqns, list(block.params), [sub(r) for r in block.results])

    body = rewrite(func.body)
    del rewrite  # (breaks the recursive closure's reference cycle)
    return dce(Func(func.name, func.params, body, [sub(r) for r in func.results],
                    func.filename, func.info))


# ---------------------------------------------------------------- invariant carries


def forward_invariant_carries(func: Func) -> Func:
    """Loop carries that the body hands back unchanged (the body's result is
    its parameter: the seed of ones of a summed loss, read by every step of
    the reversed loop) become plain reads of their initial value, inside the
    body and after the loop, and leave the loop.  Exact: such a carry holds
    its initial value in every iteration.  Passes that look at the
    equations defining a value (:mod:`s2sgrad.peephole`'s seeds of ones)
    then see through it.  Carries a loop's ``break_at``/``count_at`` name
    stay.  Rewrites ``func`` in place and returns it."""
    subst: dict = {}

    def sub(a):
        while isinstance(a, Var) and a in subst:
            a = subst[a]
        return a

    def walk(block):
        for e in block.eqns:
            if subst:               # (nothing to rename before the first such loop)
                e.args = tuple(sub(a) for a in e.args)
                if e.kwargs:
                    e.kwargs = {k: sub(v) for k, v in e.kwargs.items()}
            for b in e.blocks():
                walk(b)
            if e.prim.name in ("for_loop", "while_loop"):
                _drop_invariant(e, subst)
        block.results = [sub(r) for r in block.results]

    walk(func.body)
    del walk        # (a recursive closure: a reference cycle otherwise)
    func.results = [sub(r) for r in func.results]
    return func


def _drop_invariant(e, subst):
    body = e.params["body"]
    off = loop_offset(e)
    carries = body.params[off:]
    fixed = {e.params.get(k) for k in ("break_at", "count_at")}
    inv = [i for i, p in enumerate(carries) if body.results[i] is p and i not in fixed]
    if not inv:
        return
    inits = e.args[off:]
    inner = {}
    for i in inv:
        inner[carries[i]] = inits[i]
        subst[e.outs[i]] = inits[i]
    cond = e.params.get("cond")
    if cond is not None:
        for i in inv:
            inner[cond.params[i]] = inits[i]
    rename_reads(body, inner)
    if cond is not None:
        rename_reads(cond, inner)
    keep = [i for i in range(len(carries)) if i not in inv]
    remap = {old: new for new, old in enumerate(keep)}
    body.params = body.params[:off] + [carries[i] for i in keep]
    body.results = [body.results[i] for i in keep]
    if cond is not None:
        cond.params = [cond.params[i] for i in keep]
    for k in ("break_at", "count_at"):
        if e.params.get(k) is not None:
            e.params[k] = remap[e.params[k]]
    e.args = tuple(e.args[:off]) + tuple(inits[i] for i in keep)
    e.outs = tuple(e.outs[i] for i in keep)


