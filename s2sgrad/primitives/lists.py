"""Python lists built at run time: ``hs = []``, ``hs.append(h)`` in a loop,
``np.stack(hs)`` / ``np.array(hs)`` / ``sum(hs)``, ``hs[k]``, ``for h in hs``.

Lists whose length is known while compiling (literals) never get here: they
are resolved during lowering.  A runtime list carries the shape token
``LIST``; its cotangent is a list of the elements' cotangents (so
cotangents of a list used twice are added element by element).

``list_append`` and ``list_pop`` are functional in the IR and printed in
place (``hs.append(h)``, ``h_bar = hs_bar.pop()``) when the old list is used
by nothing else.
"""
from __future__ import annotations

import ast

import numpy as np

from .. import runtime
from ..ir import Const
from .core import ShapeToken, defprim, shape_fresh, shape_of

LIST = ShapeToken("list")


def _list_shape(args, kwargs):
    return LIST


def _build_printer(args, kwargs, eqn):
    return ast.List(elts=list(args), ctx=ast.Load())


def _build_vjp(em, g, out, *xs):
    return [em.call("list_get", g, Const(k)) for k in range(len(xs))]


def _build_jvp(em, dots, out, *xs):
    return em.call("list_build", *[d if d is not None else em.zeros_like(x)
                                   for d, x in zip(dots, xs)])


defprim("list_build", lambda *xs: list(xs), sig="*xs", alloc=True, vjp=_build_vjp, jvp=_build_jvp,
        printer=_build_printer, shape=_list_shape,
        doc="[a, b, ...] as a runtime list (a loop carry)")


def _get_printer(args, kwargs, eqn):
    return ast.Subscript(value=args[0], slice=args[1], ctx=ast.Load())


defprim("list_get", lambda xs, k: xs[k], sig="xs, k, /",
        vjp=lambda em, g, out, xs, k: [em.call("list_index_add", g, xs, k), None],
        jvp=lambda em, dots, out, xs, k: (em.call("list_get", dots[0], k)
                                          if dots[0] is not None else None),
        printer=_get_printer, shape=shape_fresh)

defprim("list_index_add", runtime.list_index_add, sig="g, xs, k, /", pyname="list_index_add",
        vjp=lambda em, h, out, g, xs, k: [em.call("list_get", h, k), None, None],
        jvp=lambda em, dots, out, g, xs, k: (em.call("list_index_add", dots[0], xs, k)
                                             if dots[0] is not None else None),
        shape=_list_shape)


# xs[a:b:c] of a runtime list: a new list of the same items; its adjoint
# puts the cotangents back at the positions taken (zeros elsewhere)
defprim("list_slice", runtime.list_slice, sig="xs, start=None, stop=None, step=None, /",
        pyname="list_slice",
        vjp=lambda em, g, out, xs, *b: [em.call("list_slice_add", g, xs, *b)] + [None] * len(b),
        jvp=lambda em, dots, out, xs, *b: (em.call("list_slice", dots[0], *b)
                                           if dots[0] is not None else None),
        shape=_list_shape, doc="xs[start:stop:step] of a runtime list")
defprim("list_slice_add", runtime.list_slice_add,
        sig="g, xs, start=None, stop=None, step=None, /", pyname="list_slice_add",
        vjp=lambda em, h, out, g, xs, *b: [em.call("list_slice", h, *b), None] +
        [None] * len(b),
        jvp=lambda em, dots, out, g, xs, *b: (em.call("list_slice_add", dots[0], xs, *b)
                                              if dots[0] is not None else None),
        shape=_list_shape, doc="runtime helper: the adjoint of a runtime list's slice")


def _append_stmt(cg, e, indent):
    from ..codegen import _to_source
    xs, x = e.args
    out = cg.namer.name(e.outs[0])
    xe, ve = _to_source(cg.atom(xs)), _to_source(cg.atom(x))
    if e in cg.inplace and xe == out:
        return [f"{indent}{out}.append({ve})"]
    if e in cg.inplace and cg.atom(xs).__class__ is ast.Name:
        # the same list object under another name (a branch's result)
        return [f"{indent}{xe}.append({ve})", f"{indent}{out} = {xe}"]
    return [f"{indent}{out} = {xe} + [{ve}]"]


def _append_vjp(em, g, out, xs, x):
    rest, last = em.call("list_pop", g)
    return [rest, last]


APPEND = defprim("list_append", None, sig="xs, x, /", vjp=_append_vjp,
                 jvp=lambda em, dots, out, xs, x: em.call(
                     "list_append", dots[0] if dots[0] is not None else em.call("list_zeros", xs),
                     dots[1] if dots[1] is not None else em.zeros_like(x)),
                 shape=_list_shape)
APPEND.codegen_stmt = _append_stmt


def _pop_stmt(cg, e, indent):
    from ..codegen import _to_source
    (g,) = e.args
    rest, last = (cg.namer.name(o) for o in e.outs)
    ge = _to_source(cg.atom(g))
    if e in cg.inplace and ge == rest:
        return [f"{indent}{last} = {rest}.pop()"]
    if e in cg.inplace and cg.atom(g).__class__ is ast.Name:
        return [f"{indent}{last} = {ge}.pop()", f"{indent}{rest} = {ge}"]
    return [f"{indent}{rest} = {ge}[:-1]", f"{indent}{last} = {ge}[-1]"]


POP = defprim("list_pop", None, sig="xs, /", nouts=2,
              vjp=lambda em, gs, outs, xs: [em.call(
                  "list_append", gs[0] if gs[0] is not None else em.call("list_zeros", outs[0]),
                  gs[1] if gs[1] is not None else em.zeros_like(outs[1]))],
              jvp=lambda em, dots, outs, xs: em.call("list_pop", dots[0]),
              shape=lambda args, kw: (LIST, ShapeToken()))
POP.codegen_stmt = _pop_stmt

defprim("list_zeros", runtime.list_zeros, sig="xs, /", pyname="list_zeros", nondiff=True,
        alloc=True,
        shape=_list_shape)

# [c] * n with n known at run time only (lower.expressions.repeated_list):
# Python's repeated list of constants, a new list object at each call
defprim("list_repeat", runtime.list_repeat, sig="items, n, /, where=''", pyname="list_repeat",
        nondiff=True, alloc=True, shape=_list_shape,
        doc="runtime helper: [c] * n, Python's repeated list (n an integer)")

defprim("list_add", runtime.list_add, sig="a, b, /", pyname="list_add",
        vjp=lambda em, g, out, a, b: [g, g],
        jvp=lambda em, dots, out, a, b: (dots[0] if dots[1] is None else dots[1] if dots[0] is None
                                         else em.call("list_add", dots[0], dots[1])),
        shape=_list_shape)


def _stack_list_vjp(em, g, out, xs, axis=0):
    return [em.call("unstack", g, axis=axis)]


def _stack_list_jvp(em, dots, out, xs, axis=0):
    return em.call("stack_list", dots[0], axis=axis) if dots[0] is not None else None


def _stack_list_printer(args, kwargs, eqn):
    from .printing import call
    name = eqn.params.get("pyname")
    if name is None:
        # emitted by a rule: np.array along axis 0 (also right for an empty
        # list -- a loop that ran zero times -- where np.stack raises)
        ax = eqn.kwargs.get("axis")
        name = "np.array" if ax is None or (isinstance(ax, Const) and ax.value == 0) \
            else "np.stack"
    return call(name, args, {} if name == "np.array" else kwargs)


defprim("stack_list", None, sig="xs, /, axis=0", vjp=_stack_list_vjp, jvp=_stack_list_jvp,
        printer=_stack_list_printer, shape=shape_fresh,
        doc="np.stack / np.array of a runtime list")
defprim("unstack", runtime.unstack, sig="g, /, axis=0", pyname="unstack",
        vjp=lambda em, h, out, g, axis=0: [em.call("stack_list", h, axis=axis)],
        jvp=lambda em, dots, out, g, axis=0: em.call("unstack", dots[0], axis=axis),
        shape=_list_shape)


# np.concatenate / np.vstack / np.hstack of a runtime list (a list grown in
# a loop): the cotangent is split back into a list shaped like the list.
def _concat_list_vjp(em, g, out, xs, how="concatenate", axis=0):
    return [em.call("unconcat_list", g, xs, how=how, axis=axis)]


def _concat_list_jvp(em, dots, out, xs, how="concatenate", axis=0):
    return em.call("concat_list", dots[0], how=how, axis=axis) if dots[0] is not None else None


def _concat_list_printer(args, kwargs, eqn):
    from .printing import call
    how = eqn.kwargs["how"].value
    kw = {"axis": kwargs["axis"]} if how == "concatenate" else {}
    return call(f"np.{how}", args, kw)


def _concat_impl(xs, how="concatenate", axis=0):
    import numpy as np
    if how == "concatenate":
        return np.concatenate(xs, axis=axis)
    return getattr(np, how)(xs)


defprim("concat_list", _concat_impl, sig="xs, /, how='concatenate', axis=0",
        vjp=_concat_list_vjp, jvp=_concat_list_jvp, printer=_concat_list_printer,
        shape=shape_fresh, doc="np.concatenate / np.vstack / np.hstack of a runtime list")
defprim("unconcat_list", runtime.unconcat_list, sig="g, xs, /, how='concatenate', axis=0",
        pyname="unconcat_list",
        vjp=lambda em, h, out, g, xs, **kw: [em.call("concat_list", h, **kw), None],
        jvp=lambda em, dots, out, g, xs, **kw: (em.call("unconcat_list", dots[0], xs, **kw)
                                               if dots[0] is not None else None),
        shape=_list_shape, linear=True,
        doc="runtime helper: the adjoint of concat_list")


# ---------------------------------------------------------------- accumulating in place
#
# ``acc2 = list_accumulate(acc, g, i, at=k, n=n)`` is ``acc + list_index_add(g,
# xs, i)[k]`` for a list ``xs`` of ``n`` elements: the adjoint of ``xs[i]``
# added to the accumulated adjoint of element ``k`` (the weight gradient of
# ``W = Ws[i]`` when ``Ws`` is a list of layers).  Made only by shape
# specialisation (s2sgrad.specialize.accumulate_lists_in_place), where ``acc``
# is known to have ``g``'s shape and the sum's dtype, and printed
# ``if i % n == k: acc += g`` -- in place when ``acc`` is an array this
# function made and nothing reads it afterwards (codegen's rule for
# ``y[idx] = v``), else on a copy -- instead of a list of ``n`` zero arrays
# and ``n`` whole sums per step.  (``i`` indexed the list in the forward sweep,
# so ``-n <= i < n`` and ``i % n`` is the element it selected.)


#
# ``params['dtype']`` set (by the same pass): the accumulator starts as None
# (``lazy_zeros``) instead of zeros made before the loop and becomes a copy of
# the first adjoint written into it, so a loop that writes each element once
# (the backward sweep over a list of layers) holds only the elements done so
# far, not all of them as zeros from its start; ``zeros_or`` after the loop
# gives zeros to an element no step wrote.  The first adjoint is taken as it
# is, without a copy, when it is a fresh array nothing else reads
# (``CodeGen.adoptable``: a product's result, or a helper step's).


def _list_accumulate_impl(acc, g, i, *, at, n, dtype=None):
    if i % n != at:
        return acc if acc is None else acc.copy()
    return np.array(g, dtype=dtype) if acc is None else acc + g


def _list_accumulate_stmt(cg, e, indent):
    from ..codegen import _to_source
    acc, g, i = (_to_source(cg.atom(a)) for a in e.args)
    target = cg.namer.name(e.outs[0])
    test = f"{i} % {e.params['n']} == {e.params['at']}"
    dt = e.params.get("dtype")
    first = f"{g}.astype(np.{np.dtype(dt).name})" if dt is not None else None
    gx = (cg.func.info.get("examples") or {}).get(e.args[1])
    if first is not None and type(gx) is np.ndarray and gx.dtype == np.dtype(dt) and \
            cg.adoptable(e.args[1], e):
        first = g           # (a fresh array read nowhere else: no copy)
    if e in cg.inplace and acc == target:
        if first is None:
            return [f"{indent}if {test}:", f"{indent}    {target} += {g}"]
        return [f"{indent}if {test}:",
                f"{indent}    if {target} is None:",
                f"{indent}        {target} = {first}",
                f"{indent}    else:",
                f"{indent}        {target} += {g}"]
    if first is None:
        return [f"{indent}{target} = {acc} + {g} if {test} else {acc}.copy()"]
    return [f"{indent}if {test}:",
            f"{indent}    {target} = {first} if {acc} is None else {acc} + {g}",
            f"{indent}else:",
            f"{indent}    {target} = {acc} if {acc} is None else {acc}.copy()"]


LIST_ACCUMULATE = defprim("list_accumulate", _list_accumulate_impl, sig="acc, g, i, /",
                          opaque=True, shape=lambda args, kwargs: shape_of(args[0]),
                          doc="acc + list_index_add(g, xs, i)[at], written "
                              "if i % n == at: acc += g")
LIST_ACCUMULATE.codegen_stmt = _list_accumulate_stmt


def _lazy_zeros_printer(args, kwargs, eqn):
    return ast.Constant(value=None)


def _zeros_or_printer(args, kwargs, eqn):
    # acc if acc is not None else np.zeros_like(x)
    return ast.IfExp(test=ast.Compare(left=args[0], ops=[ast.IsNot()],
                                      comparators=[ast.Constant(value=None)]),
                     body=args[0],
                     orelse=ast.Call(
                         func=ast.Attribute(value=ast.Name(id="np", ctx=ast.Load()),
                                            attr="zeros_like", ctx=ast.Load()),
                         args=[args[1]], keywords=[]))


defprim("lazy_zeros", lambda x: None, sig="x, /", opaque=True, printer=_lazy_zeros_printer,
        shape=lambda args, kwargs: shape_of(args[0]),
        doc="None: an accumulator that list_accumulate allocates when first written")
defprim("zeros_or", lambda acc, x: acc if acc is not None else np.zeros_like(x),
        sig="acc, x, /", opaque=True, printer=_zeros_or_printer,
        shape=lambda args, kwargs: shape_of(args[1]),
        doc="acc, or zeros like x where no step wrote acc (after lazy_zeros)")
