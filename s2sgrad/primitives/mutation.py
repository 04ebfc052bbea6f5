"""In-place updates of arrays: ``y[idx] = v`` (and ``y[idx] += v`` via a read).

In the IR an update is functional, ``y_1 = setitem(y, v, *parts)`` with the
index template of :mod:`indexing` in ``params['index']``, so every version of
``y`` is its own SSA value and reverse mode needs no special casing:

* ``v_bar = g[idx]`` (summed back to v's shape), read as a copy;
* ``y_bar = g`` with ``g[idx] = 0`` (the overwritten entries did not reach the
  output).

Code generation writes in place (``y[idx] = v``) when that is safe: ``y`` is an
array the generated function allocated itself (never a caller's argument)
and nothing reads the old ``y`` later or holds a view of it.  Otherwise it
copies first (``y_1 = y.copy()``), so taking a gradient never modifies the
caller's arrays.  Integer-array indices with repeats follow NumPy's
assignment semantics (the last write wins); the adjoint then routes the
cotangent of an overwritten entry to every write, so avoid repeated indices
in assignments (``np.add.at``-style accumulation is what ``x[idx]`` reads
give you).
"""
from __future__ import annotations

import ast

from ..ir import Const
from .core import defprim, shape_of
from .indexing import template_to_ast, evaluate_template


def _setitem_impl(y, v, *parts, index):
    out = y.copy()
    out[evaluate_template(index, parts)] = v
    return out


def setitem_vjp(em, eqn, g):
    y, v, *parts = eqn.args
    idx = {"index": eqn.params["index"]}
    gv = em.call("getitem", g, *parts, _params=dict(idx, copy=True))
    y_bar = em.call("setitem", g, Const(0.0), *parts, _params=idx)
    return [y_bar, em.unbroadcast(gv, v)] + [None] * len(parts)


def setitem_jvp(em, eqn, dots):
    y, v, *parts = eqn.args
    dy, dv = dots[0], dots[1]
    if dy is None and dv is None:
        return None
    if dy is None:
        dy = em.zeros_like(y)
    return em.call("setitem", dy, Const(0.0) if dv is None else dv, *parts,
                   _params={"index": eqn.params["index"]})


def _setitem_stmt(cg, e, indent):
    from ..codegen import _to_source
    y, v = e.args[0], e.args[1]
    target_name = cg.namer.name(e.outs[0])
    lines = []
    yexpr = cg.atom(y)
    if e not in cg.inplace or not (isinstance(yexpr, ast.Name) and yexpr.id == target_name):
        lines.append(f"{indent}{target_name} = {_to_source(yexpr)}.copy()")
    sub = ast.Subscript(value=ast.Name(id=target_name, ctx=ast.Load()),
                        slice=template_to_ast(e.params["index"], [cg.atom(p) for p in e.args[2:]]),
                        ctx=ast.Store())
    lines.append(indent + _to_source(ast.Assign(targets=[sub], value=cg.atom(v))))
    return lines


SETITEM = defprim("setitem", _setitem_impl, sig="y, v, /, *parts", vjp=setitem_vjp,
                  jvp=setitem_jvp, shape=lambda args, kw: shape_of(args[0]), eqn_rule=True,
                  doc="y[idx] = v as a functional update; written in place when safe")
SETITEM.codegen_stmt = _setitem_stmt
