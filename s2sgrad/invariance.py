"""Shift invariance: a max subtracted for numerical stability has no gradient.

A stable log-softmax or log-sum-exp subtracts the row maximum first::

    m = np.max(z, axis=1, keepdims=True)
    s = z - m
    logp = s - np.log(np.sum(np.exp(s), axis=1, keepdims=True))

``logp`` does not change when ``m`` changes (adding ``c`` to ``m`` subtracts
``c`` from ``s``, divides ``exp(s)`` and its sum by ``e^c``, subtracts ``c``
from the log, and the two shifts cancel), so the derivative of the result
through ``m`` is exactly zero, at every point and to every order.
Differentiating through ``m`` anyway costs seven extra full-size statements
(the tie mask of the max, a count, a ``where``, two row sums) that add
rounding noise to the gradient and nothing else.

:func:`detach_shifts` proves the invariance by an abstract interpretation of
the primal IR, then marks ``m`` with ``stop_gradient`` -- which is exact,
since the derivative it drops is identically zero.  The maxima (or minima)
of one operand ``x`` along one axis ``A`` are one *source*, with or without
``keepdims`` (``np.max(z, axis=1, keepdims=True)`` and the ``np.max(z,
axis=1)`` added back later are the same values): the proof replaces all of
them by ``m + c`` at once, ``c`` any field constant along ``A``.  Each value
downstream gets a class describing how it changes:

* ``("add", k, t)``: it changes by ``k * c_t`` (a source itself is
  ``("add", 1, "c")``; ``k == 0`` is invariant);
* ``("mul", k, t)``: it is multiplied by ``e^(k c_t)``;
* anything else, or an operation without a rule: the proof fails and ``m``
  keeps its derivative.

``t`` names the field: ``a_max[~np.isfinite(a_max)] = 0`` (the guard of
``scipy.special.logsumexp``, often copied into hand-written helpers) shifts
``a_max`` by ``c`` where it is finite and by 0 elsewhere -- another field
constant along ``A``, so the update gets a field of its own; values of two
fields never combine (the proof would need them equal).  Proving invariance
for independent fields proves it for the related ones.

The rules are the exact identities: sums and differences add shifts,
``exp`` turns a shift into a factor and ``log`` a factor into a shift,
products and quotients add and subtract factors, a sum or max along axis
``A`` keeps a factor or a shift, ``isfinite`` of a shifted value is
invariant (a finite shift keeps finite values finite), and an operation
whose operands are all invariant is invariant.  Broadcasting must not move
axis ``A``: a shifted value may only meet values of its own shape class --
the shape of ``x`` ("full") or of the reduced values with the axis kept
("red", which broadcasts along ``A`` against "full"), or with the axis
removed ("sq": ``np.sum(..., axis=A)``, ``m[:, 0]``, ``m.squeeze()``,
``np.max(z, axis=A)``; ``lse[:, None]`` and ``np.expand_dims(lse, A)`` put
it back) -- or scalars.  The function's result (the loss) must come out
invariant.
"""
from __future__ import annotations

from .ir import Block, Const, Eqn, Func, Var
from .primitives.core import REGISTRY

INV = ("add", 0, None)
_ELEMENTWISE_ADD = {"add": 1, "subtract": -1}
_ALL = "all"       # a max over every axis: the shift c is a scalar

# Results that depend on where an array lives or on its shape, not on its
# values: invariant under a shift (np.squeeze(m)'s run-time view test,
# may_share_memory(out, m), reads a shifted m).
_METADATA = {"may_share_memory", "shares_memory", "shape", "ndim", "size", "len"}
# invariant under a finite shift of their operand
_SHIFT_FREE = {"isfinite", "isnan", "isinf"}


def detach_shifts(func: Func, results=(0,)) -> Func:
    """``func`` with every provably irrelevant max shift wrapped in
    ``stop_gradient`` (for the derivative of ``func.results[i]``, ``i`` in
    ``results``), and its logistic sigmoids linked (:func:`link_sigmoids`)."""
    return link_sigmoids(_detach_shifts(func, results))


def _detach_shifts(func: Func, results=(0,)) -> Func:
    eqns = func.body.eqns
    targets = [func.results[i] for i in results if isinstance(func.results[i], Var)]
    if not targets:
        return func
    detach, tried = [], set()
    for k, e in enumerate(eqns):
        if id(e) in tried or not _candidate(e):
            continue
        group = [i for i, x in enumerate(eqns) if _candidate(x) and _same_source(x, e)]
        tried.update(id(eqns[i]) for i in group)
        if _invariant(eqns, group, targets):
            detach += [eqns[i].outs[0] for i in group]
    if not detach:
        return func
    stop = REGISTRY["stop_gradient"]
    sub: dict = {}
    out = []
    for e in eqns:
        e2 = _substitute(e, sub)
        out.append(e2)
        if e.outs and e.outs[0] in detach:
            m = e.outs[0]
            d = Var(m.hint, shape=m.shape)
            out.append(Eqn(stop, (m,), {}, (d,), {}, e.loc))
            sub[m] = d
    return Func(func.name, func.params, Block(out), [sub.get(r, r) if isinstance(r, Var) else r
                                                    for r in func.results],
                func.filename, func.info)


def _candidate(e) -> bool:
    return e.prim.name in ("max", "min") and len(e.outs) == 1 and \
        isinstance(e.args[0], Var) and _reduction(e) is not None


def _same_source(a, b) -> bool:
    """Maxima (minima) of the same operand along the same axis."""
    return a.prim is b.prim and a.args[0] is b.args[0] and _reduction(a)[0] == _reduction(b)[0]


def _substitute(e, sub):
    if not sub:
        return e
    args = tuple(sub.get(a, a) if isinstance(a, Var) else a for a in e.args)
    kwargs = {k: (sub.get(v, v) if isinstance(v, Var) else v) for k, v in e.kwargs.items()}
    params = {k: (_sub_block(v, sub) if isinstance(v, Block) else v) for k, v in e.params.items()}
    return Eqn(e.prim, args, kwargs, e.outs, params, e.loc)


def _sub_block(b, sub):
    return Block([_substitute(e, sub) for e in b.eqns], b.params,
                 [sub.get(r, r) if isinstance(r, Var) else r for r in b.results])


def _reduction(e):
    """(axis, keepdims) of a reduction with constant options: axis ``_ALL``
    for every axis, an int or a tuple of ints; None if not constant."""
    if not set(e.kwargs) <= {"axis", "keepdims"} or \
            any(not isinstance(v, Const) for v in e.kwargs.values()):
        return None
    axis = e.kwargs["axis"].value if "axis" in e.kwargs else None
    keep = e.kwargs["keepdims"].value if "keepdims" in e.kwargs else False
    if keep not in (True, False, None):
        return None
    if axis is None:
        return _ALL, bool(keep)
    if type(axis) is int or (isinstance(axis, tuple) and all(type(x) is int for x in axis)):
        return axis, bool(keep)
    return None


def _invariant(eqns, group, targets) -> bool:
    """Is every target invariant when the outputs of ``eqns[i]``, ``i`` in
    ``group`` (one source), all change by the same field ``c``?"""
    axis = _reduction(eqns[group[0]])[0]
    x = eqns[group[0]].args[0]
    cls, shape = {}, {x: "full"}
    for i in group:
        _, keep = _reduction(eqns[i])
        cls[eqns[i].outs[0]] = ("add", 1, "c")
        shape[eqns[i].outs[0]] = "red" if keep else "sq"

    def c(a):
        return cls.get(a, INV) if isinstance(a, Var) else INV

    start = min(group)
    members = {id(eqns[i]) for i in group}
    for e in eqns[start:]:
        if id(e) in members:
            continue
        ins = [c(a) for a in e.args]
        if any(c(v) != INV for v in e.kwargs.values()):
            return False                # a shifted value as an option (an axis?)
        touched = any(t != INV for t in ins)
        if touched and e.prim.name in _METADATA and not e.blocks():
            continue                    # (its outputs stay INV)
        for b in e.blocks():
            if _reads_any(b, cls):
                return False            # a shifted value enters a branch or loop
        if not touched:
            _note_shape(e, shape, axis)
            continue
        res = _rule(e, ins, shape, axis)
        if res is None:
            return False
        value, sh = res
        for o in e.outs:
            cls[o] = value
            if sh is not None:
                shape[o] = sh
    return all(c(t) == INV for t in targets)


def _note_shape(e, shape, axis):
    """Invariant values of known shape class (x * 2 has x's shape)."""
    name = e.prim.name
    if len(e.outs) != 1:
        return
    if name in ("add", "subtract", "multiply", "divide", "negative", "exp", "log"):
        shs = {shape.get(a) for a in e.args if isinstance(a, Var)}
        if len(shs) == 1 and None not in shs and all(
                isinstance(a, Var) or _scalar_const(a) for a in e.args):
            shape[e.outs[0]] = shs.pop()
    elif name in ("sum", "mean", "max", "min") and shape.get(e.args[0]) == "full":
        red = _reduction(e)
        if red is not None and red[0] == axis:
            shape[e.outs[0]] = "red" if red[1] else "sq"
    else:
        moved = _moved_shape(e, shape.get(e.args[0]) if e.args else None, axis)
        if moved is not None:
            shape[e.outs[0]] = moved


def _reads_any(block, cls) -> bool:
    for e in block.eqns:
        if any(isinstance(a, Var) and a in cls and cls[a] != INV for a in e.atoms()):
            return True
        if any(_reads_any(b, cls) for b in e.blocks()):
            return True
    return any(isinstance(r, Var) and r in cls and cls[r] != INV for r in block.results)


def _scalar_const(a) -> bool:
    return isinstance(a, Const) and type(a.value) in (int, float)


def _moved_shape(e, sh, axis):
    """The shape class after an operation that removes axis A from a "red"
    value (``m[:, 0]``, ``m.squeeze()``) or puts it back into an "sq" value
    (``lse[:, None]``, ``np.expand_dims(lse, A)``); None for anything else."""
    if sh not in ("red", "sq") or type(axis) is not int or len(e.outs) != 1:
        return None
    name = e.prim.name
    if name == "getitem" and len(e.args) == 1:
        idx = e.params.get("index")
        idx = idx if isinstance(idx, tuple) else (idx,)
        if axis >= 0:
            head, rest = idx[:axis], idx[axis:]
            if not all(s == slice(None) for s in head) or len(rest) != 1:
                return None
        else:
            if axis != -1 or len(idx) != 2 or idx[0] is not Ellipsis:
                return None
            rest = idx[1:]
        if sh == "red" and rest[0] in (0, -1):
            return "sq"
        if sh == "sq" and rest[0] is None:
            return "red"
        return None
    if name == "squeeze" and sh == "red":
        a = e.kwargs.get("axis")
        if a is None or (isinstance(a, Const) and a.value in (None, axis, (axis,))):
            return "sq"
        return None
    if name == "expand_dims" and sh == "sq":
        a = e.kwargs.get("axis", e.args[1] if len(e.args) > 1 else None)
        if isinstance(a, Const) and a.value in (axis, (axis,)):
            return "red"
    return None


def _combine(name, ka, kb):
    """The class of ``a + b`` (``a - b``) from the operands' classes."""
    if ka[0] != "add" or kb[0] != "add":
        return None
    sign = _ELEMENTWISE_ADD[name]
    if ka[1] == 0:
        return ("add", sign * kb[1], kb[2]) if kb[1] else INV
    if kb[1] == 0:
        return ka
    if ka[2] != kb[2]:
        return None                     # shifts of two fields: not one
    k = ka[1] + sign * kb[1]
    return ("add", k, ka[2]) if k else INV


def _scale(ka, kb, sign):
    """Factors multiply: the class of ``a * b`` (``a / b``, sign -1)."""
    if ka == INV and kb[0] == "mul":
        return ("mul", sign * kb[1], kb[2])
    if kb == INV and ka[0] == "mul":
        return ka
    if ka[0] == "mul" and kb[0] == "mul" and ka[2] == kb[2]:
        k = ka[1] + sign * kb[1]
        return INV if k == 0 else ("mul", k, ka[2])
    return None


def _rule(e, ins, shape, axis):
    """(class, shape class) of e's output from its operands' classes, or None."""
    name = e.prim.name
    args = e.args
    if name in _SHIFT_FREE and len(args) == 1 and ins[0][0] == "add":
        return INV, shape.get(args[0])
    moved = _moved_shape(e, shape.get(args[0]) if args and isinstance(args[0], Var) else None,
                         axis)
    if name in ("getitem", "squeeze", "expand_dims"):
        if axis == _ALL and name == "squeeze":
            return ins[0], None
        if moved is None or any(t != INV for t in ins[1:]):
            return None
        return ins[0], moved
    if name == "setitem":
        # y[mask] = const: a shift where the mask is false, none where it is
        # true -- another field (the mask must not move with the shift)
        y, v = args[0], args[1]
        if ins[0][0] != "add" or not _scalar_const(v) or any(t != INV for t in ins[1:]):
            return None
        return ("add", ins[0][1], ("masked", id(e), ins[0][2])), shape.get(y)
    if name == "where":
        if len(args) != 3 or ins[0] != INV:
            return None
        shifted = [(t, a) for t, a in zip(ins[1:], args[1:]) if t != INV]
        others = [a for t, a in zip(ins[1:], args[1:]) if t == INV]
        if len(shifted) == 1 and _scalar_const(others[0]) and shifted[0][0][0] == "add":
            t = shifted[0][0]
            return ("add", t[1], ("masked", id(e), t[2])), shape.get(shifted[0][1])
        return None
    if e.kwargs and name not in ("sum", "mean", "max", "min"):
        return None
    # operands that are not invariant must keep axis A where it is: every
    # operand is a scalar constant or of a known shape class (a scalar shift
    # broadcasts with anything); "sq" values meet only "sq" values
    shs = set()
    for a in args:
        if _scalar_const(a) or axis == _ALL:
            continue
        s = shape.get(a) if isinstance(a, Var) else None
        if s is None:
            return None
        shs.add(s)
    if "sq" in shs and len(shs) > 1:
        return None
    out_shape = None if axis == _ALL else (
        "sq" if shs == {"sq"} else "full" if "full" in shs else "red")
    if name in _ELEMENTWISE_ADD and len(args) == 2:
        res = _combine(name, *ins)
        return (res, out_shape) if res is not None else None
    if name == "negative":
        (ka,) = ins
        return ((ka[0], -ka[1], ka[2]) if ka[0] == "add" else ka), out_shape
    if name in ("multiply", "divide") and len(args) == 2:
        res = _scale(*ins, 1 if name == "multiply" else -1)
        return (res, out_shape) if res is not None else None
    if name == "exp":
        (ka,) = ins
        if ka[0] == "add":
            return (INV if ka[1] == 0 else ("mul", ka[1], ka[2])), out_shape
        return None
    if name == "log":
        (ka,) = ins
        if ka[0] == "mul":
            return ("add", ka[1], ka[2]), out_shape
        return None
    if name in ("sum", "mean", "max", "min"):
        # along the max's axis: a factor (sum) or a shift (max/min) stays;
        # only over values of the max operand's shape
        red = _reduction(e)
        if len(args) != 1 or red is None:
            return None
        if axis != _ALL and (shape.get(args[0]) != "full" or red[0] != axis):
            return None
        (ka,) = ins
        out = None if axis == _ALL else ("red" if red[1] else "sq")
        if name in ("sum", "mean") and ka[0] == "mul":
            return ka, out
        if name in ("max", "min") and ka[0] == "add":
            return ka, out
        return None
    return None


# ---------------------------------------------------------------- logistic sigmoids
#
# ``s = 1 / (1 + np.exp(-z))`` (also ``1.0 / (1.0 + np.exp(-z))``, ``1 + e``
# in either order, and ``e / (1 + e)`` of ``e = np.exp(z)``) differentiated operation by operation keeps ``e^-z`` and
# ``1 + e^-z`` for the backward pass and computes ``-g / u**2 * e`` there.
# Its derivative is ``s (1 - s)``: :func:`link_sigmoids` computes the chain
# exactly as the user wrote it, from ``stop_gradient(z)``, and hands the
# value on through ``sigmoid_link(s0, z)`` (the identity; derivative
# ``s (1 - s)`` in ``z``).  The value is the user's bit for bit; only how the
# derivative is computed changes, and only where ``-z``, ``e^-z`` and
# ``1 + e^-z`` have no other use (else their own derivatives would be lost).
#
# Rounding: ``s (1 - s)`` is within 2^-52 of the exact derivative (whose
# scale is 1/4) at every z; the quotient rule is accurate to a few ulps of
# the derivative itself.  So for z < 0 both agree to a few ulps, and for
# z > 0, where ``1 - s`` is formed from a rounded ``s``, the relative error
# grows as eps e^z (4e-8 at z = 20; where ``s`` rounds to 1, z > ~36.7 and
# the derivative below 1.2e-16, the result is 0) -- an absolute error below
# 2^-52, the derivative hand-written code, JAX's and PyTorch's sigmoid give.


def _is_one(a) -> bool:
    return isinstance(a, Const) and type(a.value) in (int, float) and a.value == 1


def _uses(func: Func) -> dict:
    n: dict = {}

    def block(b):
        for e in b.eqns:
            for a in e.atoms():
                if isinstance(a, Var):
                    n[a] = n.get(a, 0) + 1
            for sub in e.blocks():
                block(sub)
        for r in b.results:
            if isinstance(r, Var):
                n[r] = n.get(r, 0) + 1
    block(func.body)
    del block   # (breaks the recursive closure's reference cycle)
    for r in func.results:
        if isinstance(r, Var):
            n[r] = n.get(r, 0) + 1
    return n


def link_sigmoids(func: Func) -> Func:
    """``func`` with every ``1 / (1 + exp(-z))`` chain (see above) and every
    softmax ``e / sum(e, axis, keepdims=True)``, ``e = exp(z)``
    (:func:`_softmax_chain`) linked, in every block (loop bodies too).
    Returns ``func`` itself when there is none."""
    if not any(e.prim.name == "divide" for e in _iter(func.body)):
        return func
    uses = _uses(func)
    stop = REGISTRY["stop_gradient"]
    if not any(_plan(b, uses)[0] for b in _blocks(func.body)):
        return func               # (nothing to link: no copy of the function)

    def block(b):
        starts, ends = _plan(b, uses)
        changed = False
        out = []
        for k, e in enumerate(b.eqns):
            for sub in e.blocks():
                changed |= block(sub)
            if k in starts:
                z = starts[k]
                zd = Var(z.hint, shape=z.shape)
                out.append(Eqn(stop, (z,), {}, (zd,), {}, e.loc))
                e = Eqn(e.prim, (zd,), {}, e.outs, e.params, e.loc)
            if k in ends:
                link, z, extra = ends[k]
                s = e.outs[0]
                s0 = Var(s.hint, shape=s.shape)
                out.append(Eqn(e.prim, e.args, e.kwargs, (s0,), e.params, e.loc))
                out.append(Eqn(REGISTRY[link], (s0, z) + extra, {}, (s,), {}, e.loc))
                changed = True
                continue
            out.append(e)
        if changed:
            b.eqns = out
        return changed
    # (rewrites the blocks of a copy: the caller's function is left as it was)
    func = Func(func.name, func.params, _copy_block(func.body), func.results,
                func.filename, func.info)
    block(func.body)
    del block   # (breaks the recursive closure's reference cycle)
    return func


def _softmax_chain(b, defs, args, uses):
    """(position of ``e = exp(z)``, z, "softmax_link", (axis,)) when the
    divide's operands are ``e`` and ``s = sum(e, axis=<int>, keepdims=True)``
    in block ``b``, ``e`` read only by the sum and the divide and ``s`` only
    by the divide; else None."""
    ex, s = args
    if not isinstance(ex, Var) or not isinstance(s, Var) or ex not in defs or \
            s not in defs or uses.get(ex) != 2 or uses.get(s) != 1:
        return None
    exp, sm = b.eqns[defs[ex]], b.eqns[defs[s]]
    if exp.prim.name != "exp" or len(exp.args) != 1 or exp.kwargs or \
            not isinstance(exp.args[0], Var) or sm.prim.name != "sum" or \
            len(sm.args) != 1 or sm.args[0] is not ex or set(sm.kwargs) != {"axis", "keepdims"}:
        return None
    axis, keep = (v.value if isinstance(v, Const) else v
                  for v in (sm.kwargs["axis"], sm.kwargs["keepdims"]))
    if type(axis) is not int or keep is not True:
        return None
    return defs[ex], exp.args[0], "softmax_link", (Const(axis),)


def _plan(b, uses):
    """({detached position: z}, {divide position: (link, z, extra operands)})
    of the sigmoid and softmax chains of block ``b`` (not its nested blocks)."""
    defs = None
    starts, ends = {}, {}
    for k, e in enumerate(b.eqns):
        if e.prim.name != "divide" or len(e.args) != 2 or e.kwargs or len(e.outs) != 1:
            continue
        if defs is None:
            defs = {o: j for j, x in enumerate(b.eqns) for o in x.outs}
        hit = _chain(b, defs, e.args[1], uses) if _is_one(e.args[0]) else \
            _softmax_chain(b, defs, e.args, uses) or _exp_ratio_chain(b, defs, e.args, uses)
        if hit is not None and hit[0] not in starts:
            start, z, link, extra = hit
            starts[start] = z
            ends[k] = (link, z, extra)
    return starts, ends


def _exp_ratio_chain(b, defs, args, uses):
    """(position of ``e = exp(z)``, z, "sigmoid_link", ()) for ``e / (1 + e)``
    (the logistic sigmoid of z) in block ``b``, ``e`` read only by the sum and
    the divide and ``1 + e`` only by the divide; else None."""
    ex, u = args
    if not isinstance(ex, Var) or not isinstance(u, Var) or ex not in defs or \
            u not in defs or uses.get(ex) != 2 or uses.get(u) != 1:
        return None
    exp, add = b.eqns[defs[ex]], b.eqns[defs[u]]
    if exp.prim.name != "exp" or len(exp.args) != 1 or exp.kwargs or \
            not isinstance(exp.args[0], Var) or add.prim.name != "add" or \
            len(add.args) != 2 or add.kwargs:
        return None
    x, y = add.args
    if not (_is_one(x) and y is ex or _is_one(y) and x is ex):
        return None
    return defs[ex], exp.args[0], "sigmoid_link", ()


def _blocks(b):
    yield b
    for e in b.eqns:
        for sub in e.blocks():
            yield from _blocks(sub)


def _copy_block(b):
    return Block([Eqn(e.prim, e.args, e.kwargs, e.outs,
                      {k: (_copy_block(v) if isinstance(v, Block) else v)
                       for k, v in e.params.items()} if e.params else e.params, e.loc)
                  for e in b.eqns], b.params, list(b.results))


def _iter(b):
    for e in b.eqns:
        yield e
        for sub in e.blocks():
            yield from _iter(sub)


def _chain(b, defs, u, uses):
    """(position of ``n = negative(z)``, z, "sigmoid_link", ()) when ``u = 1 + exp(n)`` in block
    ``b`` with ``u``, ``exp(n)`` and ``n`` used once (by the chain), else None."""
    if not isinstance(u, Var) or u not in defs or uses.get(u) != 1:
        return None
    add = b.eqns[defs[u]]
    if add.prim.name != "add" or len(add.args) != 2 or add.kwargs:
        return None
    x, y = add.args
    ex = y if _is_one(x) else x if _is_one(y) else None
    if not isinstance(ex, Var) or ex not in defs or uses.get(ex) != 1:
        return None
    exp = b.eqns[defs[ex]]
    if exp.prim.name != "exp" or len(exp.args) != 1 or exp.kwargs:
        return None
    n = exp.args[0]
    if not isinstance(n, Var) or n not in defs or uses.get(n) != 1:
        return None
    neg = b.eqns[defs[n]]
    if neg.prim.name != "negative" or len(neg.args) != 1 or neg.kwargs or \
            not isinstance(neg.args[0], Var):
        return None
    return defs[n], neg.args[0], "sigmoid_link", ()
