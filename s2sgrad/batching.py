"""Batching (vectorisation) of IR: ``Func -> Func``.

Expects: a verified Func (the linear part of a linearised tangent program,
or a split pullback), and the indices of the parameters that are *batched*:
at run time each carries one extra leading axis, the batch axis, of a
common length ``B``.

Guarantees: :func:`batch_func` returns a Func taking the same parameters
(the batched ones with the extra axis) whose results are batched: result
``r`` is ``(B,) + shape`` where ``shape`` is what the original Func returns
when called on batch element ``i``, stacked over ``i`` -- JAX's ``vmap``,
restricted to what Jacobians and Hessians need.  Or ``None`` when some
equation has no batch rule (Python lists built at run time, the hoisted
accumulations of a split pullback, a batched branch condition, ...): then
the caller must fall back to calling the original Func once per batch
element.  A missing rule never produces a wrong number, only the fallback.

How: a value is batched when it depends on a batched parameter.  Equations
reading no batched value are copied unchanged (residual arithmetic stays
unbatched and runs once).  The others are rewritten by the rule for their
primitive, keyed by name in ``RULES`` (elementwise primitives share one
rule).  Ranks are not known when the code is generated (it is
shape-polymorphic), so:

* an elementwise operation mixing a batched operand with another operand of
  possibly higher rank first ``lift`` s the batched one (unit axes after the
  batch axis) so NumPy's right-aligned broadcasting keeps the batch axis
  first -- skipped where the shape tokens show the ranks agree;
* ``axis=a`` becomes ``a + 1`` for ``a >= 0`` and stays ``a`` for ``a < 0``
  (counted from the end, which the batch axis does not change); a
  reduction's ``axis=None`` becomes "every axis but the first";
* an operand that only supplies a shape (``unbroadcast(g, x)``'s ``x``) is
  replaced by batch element 0 when it is batched;
* the rank-dependent helpers (matmul and its adjoints, unbroadcast,
  unreduce, reshape, index_add, ...) have batched versions in
  :mod:`s2sgrad.batch_runtime`, printed as ``batch.<helper>(...)``;
* primitives without a vectorised rule but with a plain NumPy kernel
  (``np.tensordot``, ``solve``, ``sort`` ...) run per batch element inside
  ``batch.per_example`` (a loop over ``B`` inside one statement; the rest of
  the program stays vectorised).

Control flow keeps its structure: a branch on an unbatched condition
batches both branches (a result batched in either is batched in both), a
loop batches its body, and a loop carry or a stack slot (reverse mode's
saved values) that receives a batched value is batched from the start --
found by restarting the pass with it marked (``_Restart``), a fixpoint.
"""
from __future__ import annotations

import ast

import numpy as np

from . import batch_runtime
from .ir import Block, Const, Eqn, Func, Var, iter_eqns, verify
from .primitives import core as P
from .primitives.core import SCALAR, ShapeToken

__all__ = ["batch_func", "RULES", "BATCH_HELPER"]


class _NoRule(Exception):
    """An equation this module cannot batch: the caller falls back."""


# ---------------------------------------------------------------- the helper primitive


def _helper_stmt(cg, e, indent):
    """Print ``outs = batch.<fn>(args, kw=...)``; binds the module as a
    factory constant of the generated function."""
    from .primitives.indexing import template_to_ast
    from .primitives import printing
    name = cg.func.info.get("batch_module_name", "batch")
    if not any(n == name for n, _ in cg.consts):
        cg.consts.append((name, batch_runtime))
    args = [cg.atom(a) for a in e.args]
    if "index" in e.params:           # trailing args are the index template's parts
        n = e.params["nparts"]
        parts = args[len(args) - n:]
        args = args[:len(args) - n]
        idx = ast.Subscript(value=printing.dotted("np.s_"),
                            slice=template_to_ast(e.params["index"], parts), ctx=ast.Load())
        args.insert(e.params["index_pos"], idx)
    call = ast.Call(func=ast.Attribute(value=ast.Name(id=name, ctx=ast.Load()),
                                       attr=e.params["fn"], ctx=ast.Load()),
                    args=args,
                    keywords=[ast.keyword(arg=k, value=cg.atom(v)) for k, v in e.kwargs.items()])
    return cg.assign(e.outs, call, indent)


BATCH_HELPER = P.Primitive("batch_helper", None, sig="*args, **kwargs", nondiff=True,
                           pyname="batch")
BATCH_HELPER.codegen_stmt = _helper_stmt


# ---------------------------------------------------------------- context


class _Ctx:
    def __init__(self, loc=None):
        self.eqns: list = []
        self.batched: set = set()     # Vars (of the new Func) carrying a batch axis
        self.tokens: dict = {}        # unbatched shape token -> batched token
        self.loc = loc
        self.seed = None              # some batched parameter (gives B at run time)

    def is_b(self, a):
        return isinstance(a, Var) and a in self.batched

    def btoken(self, tok):
        if tok is None:
            return None
        t = self.tokens.get(tok)
        if t is None:
            t = self.tokens[tok] = ShapeToken("batched")
        return t

    def emit(self, prim, args, kwargs=None, params=None, outs=None, nouts=1, batched=True):
        if isinstance(prim, str):
            prim = P.REGISTRY[prim]
        if outs is None:
            outs = tuple(Var("") for _ in range(nouts))
        kwargs = {k: P.as_atom(v) for k, v in (kwargs or {}).items()}
        self.eqns.append(Eqn(prim, tuple(P.as_atom(a) for a in args), kwargs, tuple(outs),
                             dict(params or {}), self.loc))
        if batched:
            self.batched.update(outs)
        return outs[0] if len(outs) == 1 else outs

    def helper(self, fn, *args, outs=None, nouts=1, batched=True, params=None, **kwargs):
        p = dict(params or {}, fn=fn)
        return self.emit(BATCH_HELPER, args, kwargs, p, outs=outs, nouts=nouts, batched=batched)

    def first(self, a):
        """Batch element 0 of ``a`` (an unbatched stand-in for shape-only uses)."""
        return self.emit("getitem", [a], params={"index": 0}, batched=False)


def _given(a):
    return a is not None and not (isinstance(a, Const) and a.value is None)


def _const(a, what="option"):
    if isinstance(a, Const):
        return a.value
    raise _NoRule(f"{what} computed at run time")


def _shift(axis):
    """An axis of the unbatched value -> the same axis of the batched one."""
    if isinstance(axis, (tuple, list)):
        return tuple(_shift(a) for a in axis)
    if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
        return int(axis) + 1 if axis >= 0 else int(axis)
    raise _NoRule(f"axis {axis!r}")


def _scalar_like(a):
    return P.shape_of(a) is SCALAR


# ---------------------------------------------------------------- rules
#
# rule(cx, e, args, kwargs, outs) emits the batched equation(s) writing to
# ``outs`` (new Vars standing for e.outs).  ``args``/``kwargs`` are e's
# operands in the new Func (batched ones are in cx.batched); ``e.args`` are the
# original operands (their shape tokens are the unbatched shapes).

RULES: dict = {}


def rule(*names):
    def deco(fn):
        for n in names:
            RULES[n] = fn
        return fn
    return deco


def _rank_known_le(b, a):
    """Whether original operand ``b`` is known to have at most ``a``'s rank."""
    tb = P.shape_of(b)
    if tb is SCALAR:
        return True
    return tb is not None and tb is P.shape_of(a)


def _lifted(cx, e_args, args, i, others):
    """Batched operand ``i`` lifted against the operands at ``others`` where
    their rank may be higher."""
    x = args[i]
    for j in others:
        if j == i or _rank_known_le(e_args[j], e_args[i]):
            continue
        x = cx.helper("lift", x, args[j], cx.is_b(args[j]))
    return x


def _elementwise(cx, e, args, kwargs, outs):
    idx = range(len(args))
    new = [(_lifted(cx, e.args, args, i, idx) if cx.is_b(args[i]) else args[i]) for i in idx]
    cx.emit(e.prim, new, kwargs, e.params, outs=outs)


@rule("clip")
def _clip(cx, e, args, kwargs, outs):
    x = args[0]
    for k in ("a_min", "a_max"):
        v = kwargs.get(k)
        if isinstance(v, Var) and not _rank_known_le(e.kwargs[k], e.args[0]):
            x = cx.helper("lift", x, v, False)
    cx.emit(e.prim, [x], kwargs, e.params, outs=outs)


# one batched operand, any rank: the same call works on the stack
@rule("astype", "cast_derivative", "copy", "asarray", "inv", "det", "slogdet", "stop_gradient",
      "rhs_as_matrix", "rhs_from_matrix")
def _same(cx, e, args, kwargs, outs):
    if any(cx.is_b(a) for a in args[1:]):
        raise _NoRule("batched second operand")
    cx.emit(e.prim, args, kwargs, e.params, outs=outs)


# custom rules (s2sgrad.custom): a marker is the identity on its first operands
# (each output batched: an unbatched one is expanded), and the check of a
# rule's result compares the shape after the batch axis
@rule("custom_rule")
def _custom_rule(cx, e, args, kwargs, outs):
    n = len(outs)
    marked = [a if cx.is_b(a) else cx.helper("expand", a, cx.seed) for a in args[:n]]
    cx.emit(e.prim, marked + list(args[n:]), kwargs, e.params, outs=outs)


@rule("check_rule_output")
def _check_rule_output(cx, e, args, kwargs, outs):
    cx.emit(e.prim, args, dict(kwargs, batched=Const(True)), e.params, outs=outs)


@rule("float")
def _float(cx, e, args, kwargs, outs):
    cx.helper("astype", args[0], Const(float), outs=outs)


@rule("scalar_cast")
def _scalar_cast(cx, e, args, kwargs, outs):
    cx.helper("astype", args[0], kwargs["dtype"], outs=outs)


@rule("sum", "mean", "max", "min", "prod", "std", "var", "argmax", "argmin")
def _reduction(cx, e, args, kwargs, outs):
    kw = dict(kwargs)
    axis = kw.get("axis")
    if not _given(axis):
        if e.prim.name in ("argmax", "argmin"):
            raise _NoRule("argmax over the flattened array")
        kw["axis"] = cx.helper("all_axes", args[0], batched=False)
    else:
        kw["axis"] = Const(_shift(_const(axis, "axis")))
    cx.emit(e.prim, args, kw, e.params, outs=outs)


@rule("cumsum")
def _cumsum(cx, e, args, kwargs, outs):
    axis = kwargs.get("axis")
    if not _given(axis):
        kw = {"dtype": kwargs["dtype"]} if _given(kwargs.get("dtype")) else {}
        cx.helper("cumsum", args[0], outs=outs, **kw)
        return
    kw = dict(kwargs, axis=Const(_shift(_const(axis, "axis"))))
    cx.emit(e.prim, args, kw, e.params, outs=outs)


@rule("swapaxes")
def _swapaxes(cx, e, args, kwargs, outs):
    kw = {k: Const(_shift(_const(v))) for k, v in kwargs.items()}
    cx.emit(e.prim, args, kw, e.params, outs=outs)


@rule("moveaxis")
def _moveaxis(cx, e, args, kwargs, outs):
    kw = {k: Const(_shift(_const(v))) for k, v in kwargs.items()}
    cx.emit(e.prim, args, kw, e.params, outs=outs)


@rule("expand_dims")
def _expand_dims(cx, e, args, kwargs, outs):
    cx.emit(e.prim, args, {"axis": Const(_shift(_const(kwargs["axis"])))}, e.params, outs=outs)


@rule("squeeze")
def _squeeze(cx, e, args, kwargs, outs):
    axis = kwargs.get("axis")
    cx.helper("squeeze", args[0], outs=outs,
              **({"axis": Const(_const(axis))} if _given(axis) else {}))


@rule("transpose")
def _transpose(cx, e, args, kwargs, outs):
    axes = kwargs.get("axes")
    if _given(axes):
        ax = _const(axes, "axes")
        cx.helper("transpose", args[0], Const(tuple(int(a) for a in ax)), outs=outs)
    else:
        cx.helper("transpose", args[0], outs=outs)


@rule("reshape")
def _reshape(cx, e, args, kwargs, outs):
    order = kwargs.get("order")
    if _given(order) and _const(order) not in ("C",):
        raise _NoRule("reshape order")
    cx.helper("reshape", args[0], kwargs["shape"], outs=outs)


@rule("ravel")
def _ravel(cx, e, args, kwargs, outs):
    order = kwargs.get("order")
    if _given(order) and _const(order) not in ("C",):
        raise _NoRule("ravel order")
    cx.helper("ravel", args[0], outs=outs)


@rule("broadcast_to")
def _broadcast_to(cx, e, args, kwargs, outs):
    cx.helper("broadcast_to", args[0], kwargs["shape"], outs=outs)


@rule("trace")
def _trace(cx, e, args, kwargs, outs):
    kw = dict(kwargs)
    a1 = _const(kw["axis1"]) if _given(kw.get("axis1")) else 0
    a2 = _const(kw["axis2"]) if _given(kw.get("axis2")) else 1
    kw["axis1"], kw["axis2"] = Const(_shift(a1)), Const(_shift(a2))
    cx.emit(e.prim, args, kw, e.params, outs=outs)


@rule("unbroadcast", "broadcast_like")
def _unbroadcast(cx, e, args, kwargs, outs):
    cx.helper(e.prim.name, args[0], args[1], outs=outs)


@rule("unreduce")
def _unreduce(cx, e, args, kwargs, outs):
    kw = {}
    if _given(kwargs.get("axis")):
        kw["axis"] = Const(_const(kwargs["axis"], "axis"))
    if _given(kwargs.get("keepdims")):
        kw["keepdims"] = Const(_const(kwargs["keepdims"], "keepdims"))
    cx.helper("unreduce", args[0], args[1], outs=outs, **kw)


@rule("reverse_cumsum")
def _reverse_cumsum(cx, e, args, kwargs, outs):
    kw = {}
    if _given(kwargs.get("axis")):
        kw["axis"] = Const(_const(kwargs["axis"], "axis"))
    cx.helper("reverse_cumsum", args[0], args[1], outs=outs, **kw)


def _flags(cx, args):
    return [Const(cx.is_b(a)) for a in args]


@rule("matmul")
def _matmul(cx, e, args, kwargs, outs):
    a, b = args
    cx.helper("matmul", a, b, *_flags(cx, args), outs=outs)


@rule("dot")
def _dot(cx, e, args, kwargs, outs):
    a, b = args
    cx.helper("dot", a, b, *_flags(cx, args), outs=outs)


@rule("outer", "inner")
def _outer(cx, e, args, kwargs, outs):
    a, b = args
    cx.helper(e.prim.name, a, b, *_flags(cx, args), outs=outs)


@rule("tensordot")
def _tensordot(cx, e, args, kwargs, outs):
    a, b = args
    axes = kwargs.get("axes", Const(2))
    if not isinstance(axes, Const):
        raise _NoRule("tensordot axes computed at run time")
    cx.helper("tensordot", a, b, axes, *_flags(cx, args), outs=outs)


@rule("solve")
def _solve(cx, e, args, kwargs, outs):
    a, b = args
    if cx.is_b(a):
        _per_example(cx, e, args, kwargs, outs)
        return
    cx.helper("solve", a, b, Const(True), outs=outs)


@rule("matmul_vjp_a")
def _matmul_vjp_a(cx, e, args, kwargs, outs):
    g, a, b = args          # a is unbatched here (shape-only operand)
    cx.helper("matmul_vjp_a", g, a, b, Const(cx.is_b(g)), Const(cx.is_b(b)), outs=outs)


@rule("matmul_vjp_b")
def _matmul_vjp_b(cx, e, args, kwargs, outs):
    g, a, b = args          # b is unbatched here (shape-only operand)
    cx.helper("matmul_vjp_b", g, a, b, Const(cx.is_b(g)), Const(cx.is_b(a)), outs=outs)


@rule("getitem")
def _getitem(cx, e, args, kwargs, outs):
    x, *parts = args
    if any(cx.is_b(p) for p in parts):
        raise _NoRule("batched index")
    t = e.params["index"]
    items = t if isinstance(t, tuple) else (t,)
    from .primitives.indexing import Slot
    if isinstance(t, Slot) or _maybe_split_advanced(items):
        # the index (or its layout) is only known at run time
        cx.helper("getitem", x, *parts, outs=outs,
                  params={"index": t, "nparts": len(parts), "index_pos": 1})
        return
    params = dict(e.params, index=(slice(None),) + tuple(items))
    cx.emit(e.prim, [x] + parts, {}, params, outs=outs)


def _maybe_split_advanced(items):
    """Whether the items may hold advanced indices separated by a basic one
    (NumPy then moves the advanced axes first, past the batch axis)."""
    from .primitives.indexing import Slot
    basic = (slice, type(None), type(Ellipsis))
    pos = [i for i, it in enumerate(items) if not isinstance(it, basic)]
    maybe_array = any(isinstance(it, (Slot, list, np.ndarray)) for it in items)
    return maybe_array and len(pos) > 1 and pos[-1] - pos[0] + 1 != len(pos)


@rule("index_add")
def _index_add(cx, e, args, kwargs, outs):
    g, x, *parts = args         # x is unbatched here (shape-only operand)
    if any(cx.is_b(p) for p in parts):
        raise _NoRule("batched index")
    cx.helper("index_add", g, x, *parts, outs=outs,
              params={"index": e.params["index"], "nparts": len(parts), "index_pos": 2})


@rule("setitem")
def _setitem(cx, e, args, kwargs, outs):
    y, v, *parts = args
    if any(cx.is_b(p) for p in parts) or e.kwargs:
        raise _NoRule("setitem form")
    cx.helper("setitem", y, v, Const(cx.is_b(y)), Const(cx.is_b(v)), cx.seed, *parts,
              outs=outs, params={"index": e.params["index"], "nparts": len(parts),
                                 "index_pos": 2})


@rule("concatenate", "stack")
def _join(cx, e, args, kwargs, outs):
    xs = [a if cx.is_b(a) else cx.helper("expand", a, cx.seed) for a in args]
    axis = kwargs.get("axis")
    if e.prim.name == "concatenate" and isinstance(axis, Const) and axis.value is None:
        xs = [cx.helper("ravel", x) for x in xs]
        ax = 1
    else:
        ax = _shift(_const(axis, "axis")) if _given(axis) else 1
    cx.emit(e.prim, xs, dict(kwargs, axis=Const(ax)), e.params, outs=outs)


@rule("einsum")
def _einsum(cx, e, args, kwargs, outs):
    spec, *ops = args
    if not isinstance(spec, Const) or not isinstance(spec.value, str) or "." in spec.value:
        _per_example(cx, e, args, kwargs, outs)
        return
    text = spec.value.replace(" ", "")
    ins, arrow, out = text.partition("->")
    ins = ins.split(",")
    if len(ins) != len(ops) or not all(s.isalpha() or s == "" for s in ins) or (arrow and not
                                                                     (out.isalpha() or out == "")):
        _per_example(cx, e, args, kwargs, outs)
        return
    if not arrow:       # implicit output: the letters used once, in alphabetical order
        letters = "".join(ins)
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    free = [c for c in "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA"
            if c not in text]
    if not free:
        _per_example(cx, e, args, kwargs, outs)
        return
    b = free[0]
    ins = [b + s if cx.is_b(o) else s for s, o in zip(ins, ops)]
    cx.emit(e.prim, [Const(",".join(ins) + "->" + b + out)] + ops, kwargs, e.params, outs=outs)


_NO_PER_EXAMPLE = {"cond", "for_loop", "while_loop", "push", "pop", "new_stack", "copy_stack",
                   "make_tuple", "make_list", "load_global", "load_cell", "getitem", "setitem",
                   "index_add", "shape", "size", "ndim", "len", "result_type", "zeros_like",
                   "ones_like", "full_like", "unstack", "unzip", "stack_list"}


def _per_example(cx, e, args, kwargs, outs):
    p = e.prim
    if (p.impl is None or p.eqn_rule or p.opaque or p.name in _NO_PER_EXAMPLE
            or p.name.startswith("list_") or p.name.endswith("_sum")
            or getattr(p.shape, "__name__", "") == "_list_shape"
            or any(not isinstance(v, (Const, Var)) for v in kwargs.values())):
        raise _NoRule(f"no batch rule for {p.name}")
    cx.helper("per_example" if len(outs) == 1 else "per_example_n", Const(p.name),
              Const(tuple(cx.is_b(a) for a in args)), *args, outs=outs, **kwargs)


# Operands that only supply a shape (or dtype): a batched value there is
# replaced by its batch element 0.
_SHAPE_ONLY = P.SHAPE_ONLY_OPERANDS


def _is_elementwise(prim):
    return prim.shape is P.shape_elementwise


# ---------------------------------------------------------------- driver


def _get(cx, a):
    return cx.sub.get(a, a) if isinstance(a, Var) else a


def _new_out(cx, o):
    v = Var(o.hint, shape=cx.btoken(o.shape))
    v.bar_of = o.bar_of
    cx.sub[o] = v
    cx.batched.add(v)
    return v


def _batch_eqns(cx, eqns):
    """Batch ``eqns`` into ``cx.eqns``."""
    for e in eqns:
        cx.loc = e.loc
        name = e.prim.name
        if name in _CONTROL:
            _CONTROL[name](cx, e)
            continue
        if e.blocks() or getattr(e.prim, "effect", None) not in (None, False, "replay") or \
                getattr(e.prim, "region", False):
            raise _NoRule(f"control flow ({name})")
        args = [_get(cx, a) for a in e.args]
        kwargs = {k: _get(cx, v) for k, v in e.kwargs.items()}
        if any(cx.is_b(v) for v in kwargs.values()):
            raise _NoRule("batched keyword operand")
        if any(_holds_batched(cx, a) for a in args):
            # a stack read other than by pop (the hoisted accumulations'
            # unzip): its items would need per-item batch flags
            raise _NoRule(f"{name} of a stack holding batched values")
        if any(cx.is_b(a) for a in args):
            pos = _SHAPE_ONLY.get(name, ())
            if pos is None:
                pos = range(len(args))
            for i in pos:
                if i < len(args) and cx.is_b(args[i]):
                    args[i] = cx.first(args[i])
        if not any(cx.is_b(a) for a in args):
            cx.eqns.append(Eqn(e.prim, tuple(args), kwargs, e.outs, dict(e.params), e.loc))
            continue
        outs = tuple(_new_out(cx, o) for o in e.outs)
        r = RULES.get(name)
        if r is None and _is_elementwise(e.prim):
            r = _elementwise
        if r is None:
            r = _per_example
        r(cx, e, args, kwargs, outs)
        cx.batched.update(outs)


def _holds_batched(cx, a):
    key = cx.stacks.get(a) if isinstance(a, Var) else None
    return key is not None and any(isinstance(k, tuple) and k[0] is key for k in cx.force)


def _sub_block(cx, block, params, tail=None):
    """Batch a nested block whose (new) parameters are ``params``; ``tail(cx)``
    runs at its end (inside it) and returns its results.  Returns the new Block."""
    saved = cx.eqns
    cx.eqns = []
    try:
        _batch_eqns(cx, block.eqns)
        results = tail(cx) if tail is not None else [_get(cx, r) for r in block.results]
        return Block(cx.eqns, list(params), list(results))
    finally:
        cx.eqns = saved


def _expand_to(cx, a, batched):
    return cx.helper("expand", a, cx.seed) if batched and not cx.is_b(a) else a


def _cond(cx, e):
    pred = _get(cx, e.args[0])
    if cx.is_b(pred):
        raise _NoRule("batched branch condition")
    # which outputs are batched: batched in either branch (or forced)
    probe = {}

    def note(key):
        def tail(cx2):
            res = [_get(cx2, r) for r in e.params[key].results]
            probe[key] = [cx2.is_b(r) for r in res]
            return res
        return tail
    # first pass decides the flags; the second emits with expansions (cheap,
    # and keeps the first pass's Vars out of the final code)
    saved_sub, saved_b = dict(cx.sub), set(cx.batched)
    _sub_block(cx, e.params["then"], [], note("then"))
    _sub_block(cx, e.params["else"], [], note("else"))
    cx.sub, cx.batched = saved_sub, saved_b
    flags = [a or b or (o in cx.force) for a, b, o in zip(probe["then"], probe["else"], e.outs)]

    def tail_for(key):
        def tail(cx2):
            return [_expand_to(cx2, _get(cx2, r), f)
                    for r, f in zip(e.params[key].results, flags)]
        return tail
    then = _sub_block(cx, e.params["then"], [], tail_for("then"))
    other = _sub_block(cx, e.params["else"], [], tail_for("else"))
    outs = tuple(_new_out(cx, o) if f else o for o, f in zip(e.outs, flags))
    params = dict(e.params, then=then, **{"else": other})
    cx.eqns.append(Eqn(e.prim, (pred,), dict(e.kwargs), outs, params, e.loc))



def _batched_params(cx, params, flags):
    """Block parameters, each flagged one replaced by a batched twin."""
    out = []
    for c, f in zip(params, flags):
        if f:
            v = Var(c.hint, shape=cx.btoken(c.shape))
            v.bar_of = c.bar_of
            cx.sub[c] = v
            cx.batched.add(v)
            out.append(v)
        else:
            out.append(c)
    return out

def _loop(cx, e):
    from .primitives.control import loop_offset
    off = loop_offset(e)
    body = e.params["body"]
    head = [_get(cx, a) for a in e.args[:off]]
    if any(cx.is_b(a) for a in head):
        raise _NoRule("batched loop iterable")
    inits = [_get(cx, a) for a in e.args[off:]]
    carries = body.params[off:]
    flags = [cx.is_b(a) or (c in cx.force) for a, c in zip(inits, carries)]
    new_carries = _batched_params(cx, carries, flags)
    inits = [_expand_to(cx, a, f) for a, f in zip(inits, flags)]

    def tail(cx2):
        res = [_get(cx2, r) for r in body.results]
        for r, f, c in zip(res, flags, carries):
            if cx2.is_b(r) and not f:
                cx2.pending.add(c)
        return [_expand_to(cx2, r, f) for r, f in zip(res, flags)]
    new_body = _sub_block(cx, body, list(body.params[:off]) + new_carries, tail)
    params = dict(e.params, body=new_body)
    brk = e.params.get("break_at")
    if brk is not None and flags[brk]:
        raise _NoRule("batched break flag")
    if "cond" in e.params:
        cblock = e.params["cond"]
        cparams = _batched_params(cx, cblock.params, flags)
        new_cond = _sub_block(cx, cblock, cparams)
        if any(cx.is_b(r) for r in new_cond.results):
            raise _NoRule("batched loop condition")
        params["cond"] = new_cond
    outs = tuple(_new_out(cx, o) if f else o for o, f in zip(e.outs, flags))
    cx.eqns.append(Eqn(e.prim, tuple(head) + tuple(inits), dict(e.kwargs), outs, params, e.loc))


def _new_stack(cx, e):
    cx.stacks[e.outs[0]] = e.outs[0]
    cx.eqns.append(e)


def _stack_key(cx, st):
    """The stack a stack value refers to: its ``new_stack``, or for a stack
    made elsewhere (a parameter: the primal sweep's stack, read by a split
    pullback) the value itself; those hold unbatched values only."""
    key = cx.stacks.get(st)
    if key is None:
        if not isinstance(st, Var):
            raise _NoRule("unknown stack")
        key = cx.stacks[st] = st
        cx.foreign_stacks.add(st)
    return key


def _copy_stack(cx, e):
    cx.stacks[e.outs[0]] = _stack_key(cx, e.args[0])
    cx.eqns.append(e)


def _push(cx, e):
    key = _stack_key(cx, e.args[0])
    vals = [_get(cx, a) for a in e.args[1:]]
    new = []
    for i, v in enumerate(vals):
        slot = (key, i)
        forced = slot in cx.force
        if cx.is_b(v) and not forced:
            if key in cx.foreign_stacks:
                raise _NoRule("batched value pushed onto a stack made elsewhere")
            cx.pending.add(slot)
        new.append(_expand_to(cx, v, forced))
    cx.eqns.append(Eqn(e.prim, (e.args[0],) + tuple(new), dict(e.kwargs), (), dict(e.params),
                       e.loc))


def _pop(cx, e):
    key = _stack_key(cx, e.args[0])
    outs = []
    for i, o in enumerate(e.outs):
        outs.append(_new_out(cx, o) if (key, i) in cx.force else o)
    cx.eqns.append(Eqn(e.prim, tuple(e.args), dict(e.kwargs), tuple(outs), dict(e.params),
                       e.loc))


_CONTROL = {"cond": _cond, "for_loop": _loop, "while_loop": _loop, "new_stack": _new_stack,
            "copy_stack": _copy_stack, "push": _push, "pop": _pop}


_SIZED_HELPERS = {"lift", "unbroadcast", "broadcast_like", "unreduce", "index_add"}


def _size_hints(cx, params):
    """Positions of the unbatched parameters whose size bounds the size of a
    batched intermediate per batch element: the operands that meet a batched
    value elementwise (or give a batched value its shape).  The caller sizes
    its batches from them (``X`` in ``X @ w_dot`` is not one: only ``n`` of
    its ``n * d`` elements reach a batched value)."""
    pos = {p: i for i, p in enumerate(params) if p not in cx.batched}
    hints = set()
    for e in iter_eqns(Block(cx.eqns)):
        if not any(cx.is_b(a) for a in e.atoms()):
            continue
        if _is_elementwise(e.prim) or (e.prim is BATCH_HELPER and
                                       e.params.get("fn") in _SIZED_HELPERS):
            hints.update(pos[a] for a in e.atoms() if isinstance(a, Var) and a in pos)
    return tuple(sorted(hints))



def batch_func(func: Func, batched_params, name: str | None = None) -> Func | None:
    """The batched version of ``func`` (see the module docstring), or None."""
    force: set = set()
    for _ in range(100):
        try:
            return _batch(func, list(batched_params), name, force)
        except _Restart as r:
            if not (r.vars - force):    # pragma: no cover -- no progress
                return None
            force |= r.vars
        except _NoRule:
            return None
    return None                         # pragma: no cover


class _Restart(Exception):
    """Loop carries or stack slots turned out batched after code that assumed
    they were not had been emitted: start again with them batched from the
    start."""

    def __init__(self, vars_):
        super().__init__()
        self.vars = set(vars_)


def _batch(func, batched_params, name, force):
    cx = _Ctx()
    cx.force = force
    cx.stacks = {}          # stack Var -> its key (the new_stack output)
    cx.foreign_stacks = set()
    sub: dict = {}
    params = []
    for i, p in enumerate(func.params):
        if i in batched_params:
            v = Var(p.hint, shape=cx.btoken(p.shape))
            v.bar_of = p.bar_of
            sub[p] = v
            cx.batched.add(v)
            if cx.seed is None:
                cx.seed = v
            params.append(v)
        else:
            params.append(p)
    if cx.seed is None:
        raise _NoRule("nothing batched")
    cx.sub = sub
    cx.pending = set()
    _batch_eqns(cx, func.body.eqns)
    if cx.pending:
        raise _Restart(cx.pending)
    cx.loc = None
    results = [_get(cx, r) for r in func.results]
    results = [a if cx.is_b(a) else cx.helper("expand", a, cx.seed) for a in results]
    info = dict(func.info)
    info.pop("globals", None)
    reserved = set(info.get("reserved_names", ()))
    used = {e.params["name"] for e in iter_eqns(Block(cx.eqns)) if e.prim.name == "load_global"}
    mod = "batch"
    while mod in used or mod in reserved:
        mod += "_"
    reserved.add(mod)
    info.update(tuple_result=True, batched=True, batch_module_name=mod,
                reserved_names=tuple(sorted(reserved)),
                batch_size_hints=_size_hints(cx, params))
    out = Func(name or f"{func.name}_batched", params, Block(cx.eqns), results, func.filename,
               info)
    return verify(out)
