"""Indexing: ``x[...]`` and its adjoint, a scatter-add.

An index is kept as a static *template* in ``params['index']``: the index
expression the user wrote, with every computed part (an index array, a loop
variable, a slice bound) replaced by ``Slot(k)`` referring to the k-th
dynamic operand.  Constant parts (ints, ``None``, ``...``, constant slices)
stay in the template.  This keeps the generated code looking like the
user's (``x[1:3, None, idx]``) and lets the adjoint reuse the same index.

The adjoint of ``out = x[idx]`` is ``index_add(g, x, idx)``: zeros shaped
like ``x`` with ``g`` added at ``idx``.  Repeated integer indices
accumulate (``np.add.at``), so ``x[[0, 0]]`` sends both sensitivities to
``x[0]``.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass

from .. import runtime
from . import printing
from .core import defprim, shape_of, shape_fresh


@dataclass(frozen=True)
class Slot:
    """Placeholder for the k-th dynamic part of an index."""
    k: int

    def __repr__(self):
        return f"${self.k}"


def template_to_ast(t, parts):
    """Print an index template, substituting printed dynamic parts."""
    return _template_item(t, parts, True)


def _template_item(v, parts, top=False):
    # (a module function, not a recursive closure: a closure calling itself
    # is a reference cycle, garbage only the cyclic collector frees)
    if isinstance(v, Slot):
        return parts[v.k]
    if isinstance(v, slice):
        return ast.Slice(lower=None if v.start is None else _template_item(v.start, parts),
                         upper=None if v.stop is None else _template_item(v.stop, parts),
                         step=None if v.step is None else _template_item(v.step, parts))
    if isinstance(v, tuple) and top:
        return ast.Tuple(elts=[_template_item(e, parts) for e in v], ctx=ast.Load())
    if v is Ellipsis:
        return ast.Constant(value=Ellipsis)
    return ast.Constant(value=v)


def evaluate_template(t, parts):
    """Build the runtime index value (used by tests and constant folding)."""
    return _evaluate_item(t, parts)


def _evaluate_item(v, parts):
    if isinstance(v, Slot):
        return parts[v.k]
    if isinstance(v, slice):
        return slice(_evaluate_item(v.start, parts), _evaluate_item(v.stop, parts),
                     _evaluate_item(v.step, parts))
    if isinstance(v, tuple):
        return tuple(_evaluate_item(e, parts) for e in v)
    return v


def _subscript(value, t, parts):
    return ast.Subscript(value=value, slice=template_to_ast(t, parts), ctx=ast.Load())


def _getitem_printer(args, kwargs, eqn):
    node = _subscript(args[0], eqn.params["index"], args[1:])
    if eqn.params.get("copy"):   # a read that must not alias (see mutation.py)
        node = ast.Call(func=ast.Attribute(value=node, attr="copy", ctx=ast.Load()), args=[],
                        keywords=[])
    return node


def getitem_vjp(em, eqn, g):
    x, *parts = eqn.args
    return [em.call("index_add", g, x, *parts, _params={"index": eqn.params["index"]})] + \
        [None] * len(parts)


def getitem_jvp(em, eqn, dots):
    dx = dots[0]
    if dx is None:
        return None
    return em.call("getitem", dx, *eqn.args[1:], _params={"index": eqn.params["index"]})


def _index_add_printer(args, kwargs, eqn):
    s = ast.Subscript(value=printing.dotted("np.s_"),
                      slice=template_to_ast(eqn.params["index"], args[2:]), ctx=ast.Load())
    return printing.call("index_add", [args[0], args[1], s], {})


def index_add_vjp(em, eqn, h):
    g, x, *parts = eqn.args
    return [em.call("getitem", h, *parts, _params={"index": eqn.params["index"]}), None] + \
        [None] * len(parts)


def index_add_jvp(em, eqn, dots):
    if dots[0] is None:
        return None
    return em.call("index_add", dots[0], *eqn.args[1:], _params={"index": eqn.params["index"]})


def _getitem_impl(x, *parts, index):
    return x[evaluate_template(index, parts)]


def _index_add_impl(g, x, *parts, index):
    return runtime.index_add(g, x, evaluate_template(index, parts))


# These two take the whole equation (they need the template in params):
# rules marked ``eqn_rule=True`` are called as rule(em, eqn, g_or_dots).
GETITEM = defprim("getitem", _getitem_impl, sig="x, /, *parts", vjp=getitem_vjp,
                  jvp=getitem_jvp, printer=_getitem_printer, shape=shape_fresh, eqn_rule=True)

INDEX_ADD = defprim("index_add", _index_add_impl, sig="g, x, /, *parts", vjp=index_add_vjp,
                    jvp=index_add_jvp, printer=_index_add_printer,
                    shape=lambda args, kwargs: shape_of(args[1]), linear=True, eqn_rule=True)


# ---------------------------------------------------------------- np.multiply.at, maximum.at, minimum.at
#
# ``out = ufunc_at(y, v, *parts)`` is y with ``np.<ufunc>.at(y, idx, v)``
# applied (on a copy; ``v`` already broadcast to ``y[idx]``'s shape by the
# lowering, s2sgrad/lower/subscripts.py).  Each element of ``out`` is the
# ufunc folded over its *group*: ``y[k]`` and every ``v[j]`` whose index
# lands on k (repeated indices accumulate, unbuffered).
#
# * multiply: the derivative with respect to a member of a group is the
#   product of the *other* members, as np.prod's rule (reductions.py): the
#   product of the group with zeros replaced by 1, divided by the member
#   (itself replaced by 1 if zero); times the other zero member when there
#   is exactly one (0, with its derivative), 0 when there are more.
#   Nothing is divided by a value that can be zero; the product is
#   ufunc_at itself, so every order is differentiated, exactly also at
#   zeros (second order).
# * maximum/minimum: the derivative goes to the members equal to the
#   result, split equally at a tie (np.maximum's and np.max's rule); a NaN
#   result passes none.


def _ufunc_at_impl(y, v, *parts, index, ufunc):
    return runtime.ufunc_at(y, v, evaluate_template(index, parts), ufunc)


def _ufunc_at_printer(args, kwargs, eqn):
    s = ast.Subscript(value=printing.dotted("np.s_"),
                      slice=template_to_ast(eqn.params["index"], args[2:]), ctx=ast.Load())
    return printing.call("ufunc_at", [args[0], args[1], s,
                                      ast.Constant(eqn.params["ufunc"])], {})


def _at_parts(em, eqn):
    """``(y, v, read(a), scatter(t))``: ``read(a)`` is ``a[idx]``, ``scatter(t)``
    adds ``t`` (shaped like ``v``) into zeros shaped like ``y``."""
    y, v, *parts = eqn.args
    index = eqn.params["index"]
    return (y, v, lambda a: em.call("getitem", a, *parts, _params={"index": index}),
            lambda t: em.call("index_add", t, y, *parts, _params={"index": index}))


def _at_weights(em, eqn):
    """``(wy, wv)``: the derivative of each element of ``out`` with respect to
    ``y`` (elementwise) and to each ``v[j]`` (shaped like ``v``)."""
    y, v, read, scatter = _at_parts(em, eqn)
    out = eqn.out
    # v as ufunc.at uses it: cast to y's dtype (a float64 v into a float32 y
    # is compared with the float32 result it became; the cast's cotangent is
    # the identity)
    v = em.grad_like(v, y)
    if eqn.params["ufunc"] == "multiply":
        zy, zv = em.equal(y, 0), em.equal(v, 0)
        sy, sv = em.where(zy, 1, y), em.where(zv, 1, v)
        prod = em.call("ufunc_at", sy, sv, *eqn.args[2:],
                       _params={"index": eqn.params["index"], "ufunc": "multiply"})
        zeros = em.add(zy, scatter(zv))        # zeros in each group (float)
        # the zero members' sum: 0, but it carries their derivative, so where
        # exactly one *other* member is zero the weight (P / s) * that zero is
        # 0 with the right derivative, and second derivatives are exact at zeros
        zy_val, zv_val = em.where(zy, y, 0), em.where(zv, v, 0)
        zsum = em.add(zy_val, scatter(zv_val))

        def weight(others, p, s, zero_else):
            base = em.divide(p, s)
            return em.where(em.equal(others, 0), base,
                            em.where(em.equal(others, 1), em.multiply(base, zero_else), 0))

        wy = weight(em.subtract(zeros, zy), prod, sy, em.subtract(zsum, zy_val))
        wv = weight(em.subtract(read(zeros), zv), read(prod), sv,
                    em.subtract(read(zsum), zv_val))
        return wy, wv
    hy, hv = em.equal(y, out), em.equal(v, read(out))
    count = em.add(hy, scatter(hv))            # members equal to the result
    share = em.divide(1.0, em.where(em.equal(count, 0), 1.0, count))
    return em.where(hy, share, 0), em.where(hv, read(share), 0)


def ufunc_at_vjp(em, eqn, g):
    _, _, read, _ = _at_parts(em, eqn)
    wy, wv = _at_weights(em, eqn)
    return [em.multiply(g, wy), em.multiply(read(g), wv)] + [None] * (len(eqn.args) - 2)


def ufunc_at_jvp(em, eqn, dots):
    dy, dv = dots[0], dots[1]
    if dy is None and dv is None:
        return None
    _, _, _, scatter = _at_parts(em, eqn)
    wy, wv = _at_weights(em, eqn)
    t = None if dy is None else em.multiply(dy, wy)
    return t if dv is None else em.add_ct(t, scatter(em.multiply(dv, wv)))


UFUNC_AT = defprim("ufunc_at", _ufunc_at_impl, sig="y, v, /, *parts", vjp=ufunc_at_vjp,
                   jvp=ufunc_at_jvp, printer=_ufunc_at_printer,
                   shape=lambda args, kwargs: shape_of(args[0]), eqn_rule=True,
                   doc="np.multiply.at / np.maximum.at / np.minimum.at(y, idx, v) on a copy "
                       "of y (repeated indices accumulate)")


# ---------------------------------------------------------------- accumulating in place
#
# ``acc2 = index_accumulate(acc, g, x, *parts)`` is ``acc + index_add(g, x,
# idx)``: the adjoint of ``x[idx]`` added to an accumulated adjoint of ``x``
# (the weight gradient of ``W = Ws[i]`` in a loop over layers).  It is made
# only by shape specialisation (s2sgrad.specialize.accumulate_in_place), where
# ``acc`` is known to have ``x``'s shape and the sum's dtype, and prints as
# ``acc[idx] += g`` -- in place when ``acc`` is an array this function made
# and nothing reads it afterwards (codegen's rule for ``y[idx] = v``), else
# on a copy -- instead of a whole zero array per step plus a whole sum.
# ``params['repeat']``: the index may select an element twice (integer
# arrays), so ``np.add.at`` accumulates the repeats.


def _index_accumulate_impl(acc, g, x, *parts, index, repeat=True, negate=False):
    # (negate: ``acc[idx] -= g``, made where g is the negation of a broadcast
    # scalar: a - s is a + (-s) exactly)
    if negate:
        g = -g
    return acc + runtime.index_add(g, x, evaluate_template(index, parts))


def _index_accumulate_stmt(cg, e, indent):
    from ..codegen import _to_source
    acc, g = e.args[0], e.args[1]
    target = cg.namer.name(e.outs[0])
    lines = []
    aexpr = cg.atom(acc)
    if e not in cg.inplace or not (isinstance(aexpr, ast.Name) and aexpr.id == target):
        lines.append(f"{indent}{target} = {_to_source(aexpr)}.copy()")
    idx = template_to_ast(e.params["index"], [cg.atom(p) for p in e.args[3:]])
    tgt = ast.Name(id=target, ctx=ast.Load())
    if e.params.get("repeat"):
        node = ast.Expr(value=printing.call("np.add.at", [
            tgt, ast.Subscript(value=printing.dotted("np.s_"), slice=idx, ctx=ast.Load()),
            cg.atom(g)], {}))
    else:
        node = ast.AugAssign(target=ast.Subscript(value=tgt, slice=idx, ctx=ast.Store()),
                             op=ast.Sub() if e.params.get("negate") else ast.Add(),
                             value=cg.atom(g))
    lines.append(indent + _to_source(node))
    return lines


INDEX_ACCUMULATE = defprim("index_accumulate", _index_accumulate_impl,
                           sig="acc, g, x, /, *parts", opaque=True,
                           shape=lambda args, kwargs: shape_of(args[0]), eqn_rule=True,
                           doc="acc + index_add(g, x, idx), written as acc[idx] += g")
INDEX_ACCUMULATE.codegen_stmt = _index_accumulate_stmt


# ---------------------------------------------------------------- deferred rows
#
# ``rows = row_list(x)`` (printed ``[]``), ``rows2 = rows_append(rows, g, i)``
# (printed ``rows.append((i, g))``) and ``acc = add_rows(rows, x)`` after the
# loop replace a loop's ``acc[i] += g`` into zeros like ``x`` made before it
# (made only by shape specialisation, s2sgrad.specialize.
# defer_row_accumulation, for a backward loop that frees stored values as it
# goes): the weight gradient ``Ws_bar`` of stacked layers is allocated once
# the loop's stored activations are gone, not while they are all alive.


def _row_list_printer(args, kwargs, eqn):
    return ast.List(elts=[], ctx=ast.Load())


def _rows_append_stmt(cg, e, indent):
    from ..codegen import _to_source
    rows, g, i = (_to_source(cg.atom(a)) for a in e.args)
    target = cg.namer.name(e.outs[0])
    lines = [] if target == rows else [f"{indent}{target} = {rows}"]
    return lines + [f"{indent}{target}.append(({i}, {g}))"]


defprim("row_list", lambda x: [], sig="x, /", opaque=True, printer=_row_list_printer,
        shape=shape_fresh, doc="[]: the rows of an adjoint not yet added (see add_rows)")
ROWS_APPEND = defprim("rows_append", lambda rows, g, i: rows + [(i, g)],
                      sig="rows, g, i, /", opaque=True, shape=shape_fresh,
                      doc="rows + [(i, g)], written rows.append((i, g))")
ROWS_APPEND.codegen_stmt = _rows_append_stmt
defprim("add_rows", runtime.add_rows, sig="rows, x, /", opaque=True, pyname="add_rows",
        shape=lambda args, kwargs: shape_of(args[1]),
        doc="zeros like x plus every (i, g) of rows at x[i], in order")
