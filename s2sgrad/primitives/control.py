"""Structured control flow and the stacks that reverse mode uses.

Control flow stays structured in the IR, so it maps straight back to Python:

``cond``
    ``outs = cond(pred)`` with ``params['then']`` and ``params['else']``:
    blocks whose ``results`` become ``outs`` (one per variable assigned in
    either branch).  Blocks see enclosing values lexically.

``for_loop``
    ``outs = for_loop(iterable, *inits)`` with ``params['body']``: a block
    whose params are ``[index, *carries]`` and whose results are the next
    carries; ``outs`` are the final carries.  Loops over ranges, arrays and
    lists are lowered to a loop over ``range(len(...))`` plus indexing.
    ``params['break_at']`` (optional) is the position of a carry that, when
    true after an iteration, ends the loop (``break``).

``while_loop``
    ``outs = while_loop(*inits)`` with ``params['cond']`` (params: carries,
    results: ``[keep_going]``) and ``params['body']`` (params: carries,
    results: next carries).

Stacks (reverse mode): ``stack = new_stack()``; ``push(stack, v)`` (an
effect, no output); ``v = pop(stack)``.  They print as a local list,
``.append`` and ``.pop()``: the generated function keeps no global state.

Reverse and forward rules for these equations live in ``reverse.py`` and
``forward.py``: they are transformations of whole regions, not local rules.
"""
from __future__ import annotations

import ast

from .core import defprim, shape_fresh, shape_of


def loop_offset(eqn) -> int:
    """How many leading body parameters (and operands) of a loop equation are
    not carries: 1 for ``for_loop`` (the index / iterable), 0 for ``while_loop``."""
    return 1 if eqn.prim.name == "for_loop" else 0


def _name(cg, v):
    return cg.atom(v)


def _assign(cg, target_var, value_expr, indent):
    from ..codegen import _to_source
    t = ast.Name(id=cg.namer.name(target_var), ctx=ast.Store())
    return [indent + _to_source(ast.Assign(targets=[t], value=value_expr))]


def _copy_results(cg, outs, results, indent, copy=()):
    """``out = result`` at the end of a region, unless both share a name.

    The copies are one parallel assignment: where a copy reads a name an
    earlier copy of the group writes (``a, b = b, a`` in a loop: the carries'
    next values are each other's current ones), they are printed as one tuple
    assignment ``a_1, b_1 = b_1, a_1``, never as two statements of which the
    second would read the first's result.  ``copy`` holds the outputs that
    start as a private ``.copy()`` of their value."""
    from ..codegen import _to_source
    pairs = []
    for o, r in zip(outs, results):
        rn = cg.atom(r)
        if isinstance(rn, ast.Name) and rn.id == cg.namer.name(o) and o not in copy:
            continue
        if o in copy:
            # (an array in the initial value's memory order, which NumPy's
            # carry keeps; a list's copy has no order)
            from .lists import LIST
            order = [] if shape_of(o) is LIST else [ast.keyword(arg="order",
                                                                value=ast.Constant("K"))]
            rn = ast.Call(func=ast.Attribute(value=rn, attr="copy", ctx=ast.Load()), args=[],
                          keywords=order)
        pairs.append((o, rn))
    written, clash = set(), False
    for o, rn in pairs:
        read = {n.id for n in ast.walk(rn) if isinstance(n, ast.Name)}
        if read & written:
            clash = True
            break
        written.add(cg.namer.name(o))
    if not clash:
        lines = []
        for o, rn in pairs:
            lines += _assign(cg, o, rn, indent)
        return lines
    target = ast.Tuple(elts=[ast.Name(id=cg.namer.name(o), ctx=ast.Store()) for o, _ in pairs],
                       ctx=ast.Store())
    value = ast.Tuple(elts=[rn for _, rn in pairs], ctx=ast.Load())
    return [indent + _to_source(ast.Assign(targets=[target], value=value))]


def _cond_stmt(cg, e, indent):
    from ..codegen import _to_source
    pred = _to_source(cg.atom(e.args[0]))
    inner = indent + "    "
    lines = [f"{indent}if {pred}:"]
    body = cg.block_lines(e.params["then"], inner) + \
        _copy_results(cg, e.outs, e.params["then"].results, inner)
    lines += body or [inner + "pass"]
    other = cg.block_lines(e.params["else"], inner) + \
        _copy_results(cg, e.outs, e.params["else"].results, inner)
    if other:
        lines.append(f"{indent}else:")
        lines += other
    return lines


def _loop_prologue(cg, carries, inits, indent):
    """Bind each carry's initial value; a carry updated in place inside the
    loop starts as a private copy when its initial value is not ours."""
    return _copy_results(cg, carries, inits, indent,
                         copy=[c for c in carries if c in cg.force_copy])


def _body_lines(cg, e, body, carries, inner):
    """A loop body, the carries' next values, and the ``break`` test."""
    from ..codegen import _to_source
    blines = cg.block_lines(body, inner) + _copy_results(cg, carries, body.results, inner)
    brk = e.params.get("break_at")
    if brk is not None:
        blines.append(f"{inner}if {_to_source(cg.atom(carries[brk]))}:")
        blines.append(f"{inner}    break")
    return blines or [inner + "pass"]


def _for_stmt(cg, e, indent):
    from ..codegen import _to_source
    body = e.params["body"]
    index, carries = body.params[0], body.params[1:]
    inits = e.args[1:]
    lines = _loop_prologue(cg, carries, inits, indent)
    it = _to_source(cg.atom(e.args[0]))
    if e.params.get("reverse"):
        it = f"reversed({it})"
    inner = indent + "    "
    lines.append(f"{indent}for {cg.namer.name(index)} in {it}:")
    lines += _body_lines(cg, e, body, carries, inner)
    lines += _copy_results(cg, e.outs, carries, indent)
    return lines


def _while_stmt(cg, e, indent):
    from ..codegen import _to_source
    body, cond = e.params["body"], e.params["cond"]
    carries = body.params
    lines = _loop_prologue(cg, carries, e.args, indent)
    inner = indent + "    "
    clines = cg.block_lines(cond, inner)
    test = cg.atom(cond.results[0])
    if not clines:
        lines.append(f"{indent}while {_to_source(test)}:")
    else:
        lines.append(f"{indent}while True:")
        lines += clines
        lines.append(f"{inner}if not {_to_source(test)}:")
        lines.append(f"{inner}    break")
    lines += _body_lines(cg, e, body, carries, inner)
    lines += _copy_results(cg, e.outs, carries, indent)
    return lines


COND = defprim("cond", None, sig="pred, /", opaque=True, shape=shape_fresh,
               doc="if/else as a region equation")
COND.codegen_stmt = _cond_stmt
COND.nouts = None
FOR = defprim("for_loop", None, sig="iterable, /, *inits", opaque=True, shape=shape_fresh,
              doc="for loop as a region equation")
FOR.codegen_stmt = _for_stmt
FOR.nouts = None
WHILE = defprim("while_loop", None, sig="*inits", opaque=True, shape=shape_fresh,
                doc="while loop as a region equation")
WHILE.codegen_stmt = _while_stmt
WHILE.nouts = None
for _p in (COND, FOR, WHILE):
    _p.region = True


# ---------------------------------------------------------------- stacks


def _new_stack_printer(args, kwargs, eqn):
    return ast.List(elts=[], ctx=ast.Load())


def _push_stmt(cg, e, indent):
    from ..codegen import _to_source
    vals = [_to_source(cg.atom(a)) for a in e.args[1:]]
    item = vals[0] if len(vals) == 1 else "(" + ", ".join(vals) + ")"
    return [f"{indent}{_to_source(cg.atom(e.args[0]))}.append({item})"]


def _pop_printer(args, kwargs, eqn):
    return ast.Call(func=ast.Attribute(value=args[0], attr="pop", ctx=ast.Load()), args=[],
                    keywords=[])


NEW_STACK = defprim("new_stack", None, sig="", opaque=True, printer=_new_stack_printer,
                    shape=shape_fresh)
NEW_STACK.effect = "stack"
PUSH = defprim("push", None, sig="stack, /, *values", opaque=True, shape=shape_fresh, nouts=0)
PUSH.codegen_stmt = _push_stmt
PUSH.effect = "stack"
POP = defprim("pop", None, sig="stack, /", opaque=True, printer=_pop_printer, shape=shape_fresh)
POP.effect = "stack"

COPY_STACK = defprim("copy_stack", None, sig="stack, /", opaque=True, pyname="list",
                     shape=shape_fresh)

# range(a, b, c) built at run time (loop bounds computed from data).
defprim("range", range, sig="*args", nondiff=True, pyname="range", shape=shape_fresh,
        inline=True)

# min(a, b) of Python ints (zip's trip count).
defprim("py_min", None, sig="a, b, /", nondiff=True, pyname="min", shape=shape_fresh,
        inline=True)
# max(a, b) of Python ints (a reduction's count, kept from dividing by an empty result's 0).
defprim("py_max", None, sig="a, b, /", nondiff=True, pyname="max", shape=shape_fresh,
        inline=True)
# any(xs) / all(xs) of Python's builtins, on a value known at run time (an
# array's elements or rows, a list): Python's truth of each item, a bool.
defprim("py_any", None, sig="x, /", nondiff=True, pyname="any", shape=shape_fresh)
defprim("py_all", None, sig="x, /", nondiff=True, pyname="all", shape=shape_fresh)
# isinstance(x, classes) of an argument or computed value whose type is known
# only when the code runs (a Python float or an array): Python's own test.
defprim("py_isinstance", None, sig="x, classes, /", nondiff=True, pyname="isinstance",
        shape=shape_fresh)

# Loop-hoisted weight cotangents (reverse mode's accumulation pass, see
# reverse.Reverser._hoist_accumulations).  Emitted only into backward sweeps.
from .. import runtime as _rt  # noqa: E402
defprim("matmul_vjp_a_sum", _rt.matmul_vjp_a_sum, sig="gs, a, bs, /", opaque=True,
        pyname="matmul_vjp_a_sum", shape=lambda args, kw: args[1].shape)
defprim("matmul_vjp_b_sum", _rt.matmul_vjp_b_sum, sig="gs, as_, b, /", opaque=True,
        pyname="matmul_vjp_b_sum", shape=lambda args, kw: args[2].shape)
defprim("dot_vjp_a_sum", _rt.dot_vjp_a_sum, sig="gs, a, bs, /", opaque=True,
        pyname="dot_vjp_a_sum", shape=lambda args, kw: args[1].shape)
defprim("dot_vjp_b_sum", _rt.dot_vjp_b_sum, sig="gs, as_, b, /", opaque=True,
        pyname="dot_vjp_b_sum", shape=lambda args, kw: args[2].shape)
defprim("unzip", _rt.unzip, sig="items, /, n", opaque=True, pyname="unzip",
        nouts=lambda args, kw: kw["n"].value, shape=shape_fresh)
defprim("unbroadcast_sum", _rt.unbroadcast_sum, sig="gs, x, /", opaque=True,
        pyname="unbroadcast_sum", shape=lambda args, kw: args[1].shape)
# One np.stack of a loop's per-step values, shared by the hoisted products
# that read them (optimize.share_stacking).
defprim("stack_steps", _rt.stack_steps, sig="xs, /", opaque=True, pyname="stack_steps",
        shape=shape_fresh)


# ---------------------------------------------------------------- checkpointed loops
#
# A checkpointed loop's reversal (s2sgrad.remat): two region equations
# that print as a local function and a call of a schedule driver
# (s2sgrad.schedules):
#
# ``outs..., tape = checkpoint_forward(iterable, *inits)`` with
#   ``params['segment']``: Block(params [steps, *state], results: state after
#   the loop ran over ``steps``); ``params['schedule']``, ``params['count_at']``.
# ``in_bars..., acc_bars... = checkpoint_backward(tape, *out_bars, *accs, *keep)``
#   with ``params['step']``: Block(params [steps, *state, *bars, *accs],
#   results [*bars at the start, *accs]); ``keep`` (not printed) are the
#   values the tape's segment function reads, so that they stay unchanged.


def _free_in_order(block):
    from ..ir import defined_vars
    from ..ir import Var as _Var
    dfn = defined_vars(block)
    seen, out = set(), []

    def walk(b):
        for e in b.eqns:
            for a in e.atoms():
                if isinstance(a, _Var) and a not in dfn and a not in seen:
                    seen.add(a)
                    out.append(a)
            for nb in e.blocks():
                walk(nb)
        for r in b.results:
            if isinstance(r, _Var) and r not in dfn and r not in seen:
                seen.add(r)
                out.append(r)
    walk(block)
    return out


def _local_def(cg, name, block, indent, defaults=()):
    """``def name(params, v=v, ...):`` with the block as body, returning a tuple."""
    from ..codegen import _to_source
    fname = cg.namer._fresh(name, temp_ok=False)
    params = [cg.namer.name(p) for p in block.params]
    params += [f"{n}={n}" for n in defaults]
    inner = indent + "    "
    lines = [f"{indent}def {fname}({', '.join(params)}):"]
    lines += cg.block_lines(block, inner)
    res = [_to_source(cg.atom(r)) for r in block.results]
    lines.append(f"{inner}return {', '.join(res)}{',' if len(res) == 1 else ''}")
    return fname, lines


def _targets(cg, outs):
    names = [cg.namer.name(o) for o in outs]
    return ", ".join(names) + ("," if len(names) == 1 else "")


def _ckpt_forward_stmt(cg, e, indent):
    from ..codegen import _to_source
    seg = e.params["segment"]
    free = []
    for v in _free_in_order(seg):
        node = cg.atom(v)
        if isinstance(node, ast.Name):
            free.append(node.id)
    fname, lines = _local_def(cg, e.params["name"], seg, indent, free)
    sched = e.params["schedule"]
    cg.helpers.update(["checkpoint_forward", type(sched).__name__])
    it = _to_source(cg.atom(e.args[0]))
    inits = [_to_source(cg.atom(a)) for a in e.args[1:]]
    state = "(" + ", ".join(inits) + ("," if len(inits) == 1 else "") + ")"
    extra = f", count_at={e.params['count_at']}" if e.params.get("count_at") is not None else ""
    lines.append(f"{indent}{_targets(cg, e.outs)} = checkpoint_forward({fname}, {it}, {state}, "
                 f"{sched!r}{extra})")
    return lines


def _ckpt_backward_stmt(cg, e, indent):
    from ..codegen import _to_source
    step = e.params["step"]
    fname, lines = _local_def(cg, e.params["name"], step, indent)
    cg.helpers.add("checkpoint_backward")
    nb, na, ns = e.params["nbars"], e.params["naccs"], e.params.get("nsaved", 0)
    vals = [_to_source(cg.atom(a)) for a in e.args[1:1 + nb + na + ns]]

    def tup(xs):
        return "(" + ", ".join(xs) + ("," if len(xs) == 1 else "") + ")"
    lines.append(f"{indent}{_targets(cg, e.outs)} = checkpoint_backward("
                 f"{_to_source(cg.atom(e.args[0]))}, {fname}, {tup(vals[:nb])}, "
                 f"{tup(vals[nb:nb + na])}" + (f", {tup(vals[nb + na:])}" if ns else "") + ")")
    return lines


CKPT_FWD = defprim("checkpoint_forward", None, sig="iterable, /, *inits", opaque=True,
                   shape=shape_fresh, doc="a checkpointed loop's forward sweep")
CKPT_FWD.codegen_stmt = _ckpt_forward_stmt
CKPT_FWD.nouts = None
CKPT_BWD = defprim("checkpoint_backward", None, sig="tape, /, *values", opaque=True,
                   shape=shape_fresh, doc="a checkpointed loop's backward sweep")
CKPT_BWD.codegen_stmt = _ckpt_backward_stmt
CKPT_BWD.nouts = None
for _p in (CKPT_FWD, CKPT_BWD):
    _p.region = True
