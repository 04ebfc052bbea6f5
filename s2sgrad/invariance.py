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
since the derivative it drops is identically zero.  Each value downstream of
a candidate ``m = max(x, axis=A, keepdims=True)`` gets a class describing how
it changes when ``m`` is replaced by ``m + c`` (``c`` constant along axis
``A``):

* ``("add", k)``: it changes by ``k * c`` (``m`` itself is ``("add", 1)``;
  ``("add", 0)`` is invariant);
* ``("mul", k)``: it is multiplied by ``e^(k c)``;
* anything else, or an operation without a rule: the proof fails and ``m``
  keeps its derivative.

The rules are the exact identities: sums and differences add shifts,
``exp`` turns a shift into a factor and ``log`` a factor into a shift,
products and quotients add and subtract factors, a sum or max along axis
``A`` (keepdims) keeps a factor or a shift, and an operation whose operands
are all invariant is invariant.  Broadcasting must not move axis ``A``: a
shifted value may only meet values of its own shape (the max's operand's or
the reduced one's) or scalars.  The function's result (the loss) must come
out invariant.
"""
from __future__ import annotations

from .ir import Block, Const, Eqn, Func, Var
from .primitives.core import REGISTRY

INV = ("add", 0)
_ELEMENTWISE_ADD = {"add": 1, "subtract": -1}


def detach_shifts(func: Func, results=(0,)) -> Func:
    """``func`` with every provably irrelevant max shift wrapped in
    ``stop_gradient`` (for the derivative of ``func.results[i]``, ``i`` in
    ``results``)."""
    eqns = func.body.eqns
    targets = [func.results[i] for i in results if isinstance(func.results[i], Var)]
    if not targets:
        return func
    detach = []
    for k, e in enumerate(eqns):
        if e.prim.name in ("max", "min") and len(e.outs) == 1 and _source_axis(e) is not None \
                and isinstance(e.args[0], Var) and _invariant(eqns, k, targets):
            detach.append(e.outs[0])
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


_ALL = "all"       # a max over every axis: the shift c is a scalar


def _source_axis(e):
    """The axis a candidate max reduces over (kept), ``_ALL`` for a scalar max."""
    if set(e.kwargs) <= {"axis", "keepdims"} and all(
            isinstance(v, Const) and v.value in (None, False) for v in e.kwargs.values()):
        return _ALL
    return _keepdims_axis(e)


def _keepdims_axis(e):
    keep, axis = e.kwargs.get("keepdims"), e.kwargs.get("axis")
    if not (isinstance(keep, Const) and keep.value is True and isinstance(axis, Const)):
        return None
    a = axis.value
    if type(a) is int or (isinstance(a, tuple) and all(type(x) is int for x in a)):
        return a
    return None


def _invariant(eqns, k, targets) -> bool:
    """Is every target invariant under m -> m + c, m the output of eqns[k]?"""
    src = eqns[k]
    m, x = src.outs[0], src.args[0]
    axis = _source_axis(src)
    cls = {m: ("add", 1)}
    # shape classes of shifted values: "full" (x's shape) or "red" (m's shape)
    shape = {m: "red", x: "full"}

    def c(a):
        return cls.get(a, INV) if isinstance(a, Var) else INV

    for e in eqns[k + 1:]:
        ins = [c(a) for a in e.args]
        if any(c(v) != INV for v in e.kwargs.values()):
            return False                # a shifted value as an option (an axis?)
        touched = any(t != INV for t in ins)
        for b in e.blocks():
            if _reads_any(b, cls):
                return False            # a shifted value enters a branch or loop
        if not touched:
            _note_shape(e, shape)
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


def _note_shape(e, shape):
    """Invariant values of known shape class (x * 2 has x's shape)."""
    if e.prim.name in ("add", "subtract", "multiply", "divide", "negative", "exp", "log") and \
            len(e.outs) == 1:
        shs = {shape.get(a) for a in e.args if isinstance(a, Var)}
        if len(shs) == 1 and None not in shs and all(
                isinstance(a, Var) or _scalar_const(a) for a in e.args):
            shape[e.outs[0]] = shs.pop()


def _reads_any(block, cls) -> bool:
    for e in block.eqns:
        if any(isinstance(a, Var) and a in cls and cls[a] != INV for a in e.atoms()):
            return True
        if any(_reads_any(b, cls) for b in e.blocks()):
            return True
    return any(isinstance(r, Var) and r in cls and cls[r] != INV for r in block.results)


def _scalar_const(a) -> bool:
    return isinstance(a, Const) and type(a.value) in (int, float)


def _rule(e, ins, shape, axis):
    """(class, shape class) of e's output from its operands' classes, or None."""
    name = e.prim.name
    if e.kwargs and name not in ("sum", "mean", "max", "min"):
        return None
    args = e.args
    # operands that are not invariant must keep axis A where it is: every
    # operand is a scalar constant or of a known shape class (a scalar shift
    # broadcasts with anything)
    shs = set()
    for a in args:
        if _scalar_const(a) or axis == _ALL:
            continue
        s = shape.get(a) if isinstance(a, Var) else None
        if s is None:
            return None
        shs.add(s)
    out_shape = None if axis == _ALL else ("full" if "full" in shs else "red")
    if name in _ELEMENTWISE_ADD and len(args) == 2:
        (ka, kb) = ins
        if ka[0] == "add" and kb[0] == "add":
            return ("add", ka[1] + _ELEMENTWISE_ADD[name] * kb[1]), out_shape
        return None
    if name == "negative":
        (ka,) = ins
        return ((ka[0], -ka[1]) if ka[0] == "add" else ka), out_shape
    if name in ("multiply", "divide") and len(args) == 2:
        ka, kb = ins
        sign = 1 if name == "multiply" else -1
        if ka == INV and kb[0] == "mul":
            return ("mul", sign * kb[1]), out_shape
        if kb == INV and ka[0] == "mul":
            return ka, out_shape
        if ka[0] == "mul" and kb[0] == "mul":
            k = ka[1] + sign * kb[1]
            return (("add", 0) if k == 0 else ("mul", k)), out_shape
        return None
    if name == "exp":
        (ka,) = ins
        if ka[0] == "add":
            return (("add", 0) if ka[1] == 0 else ("mul", ka[1])), out_shape
        return None
    if name == "log":
        (ka,) = ins
        if ka[0] == "mul":
            return ("add", ka[1]), out_shape
        return None
    if name in ("sum", "mean", "max", "min"):
        # along the max's axis, keeping it: a factor (sum) or a shift (max/min)
        # stays; only over values of the max operand's shape
        if len(args) != 1 or not set(e.kwargs) <= {"axis", "keepdims"}:
            return None
        if axis != _ALL and (shape.get(args[0]) != "full" or _keepdims_axis(e) != axis):
            return None
        (ka,) = ins
        red = None if axis == _ALL else "red"
        if name in ("sum", "mean") and ka[0] == "mul":
            return ka, red
        if name in ("max", "min") and ka[0] == "add":
            return ka, red
        return None
    return None
