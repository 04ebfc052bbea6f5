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
caller's arrays.

Integer-array indices with repeats follow NumPy's assignment semantics (the
last write wins), and so does the adjoint: only the winning write of each
element receives its cotangent.  Where the index may repeat (an index array
that is not a compile-time constant without repeats), the reverse rule
emits a mask of the winning writes, built from NumPy calls::

    flat = np.arange(np.size(g))
    pos = flat.reshape(np.shape(g))[idx]             # flat position of each write
    k = np.arange(np.size(pos)).reshape(np.shape(pos))
    mark = flat.copy(); mark[pos] = k                # the last write wins here too
    v_bar = unbroadcast(g[idx] * (mark[pos] == k), v)

(``g``, the cotangent of the updated array, has ``y``'s shape: ``y`` itself
is not kept alive for the backward pass.)
"""
from __future__ import annotations

import ast

import numpy as np

from ..ir import Const
from .core import SCALAR, defprim, shape_of
from .indexing import Slot, template_to_ast, evaluate_template


def _setitem_impl(y, v, *parts, index):
    out = y.copy()
    out[evaluate_template(index, parts)] = v
    return out


def may_repeat(index, parts) -> bool:
    """Whether the index ``index``/``parts`` may select one element twice
    (integer arrays with repeats; only compile-time constants are known not to)."""
    arrays = []
    for p in parts:
        if shape_of(p) is SCALAR:
            continue                    # an int, a loop index, a slice bound
        if isinstance(p, Const):
            v = p.value
            if v is None or isinstance(v, slice):
                continue
            try:
                a = np.asarray(v)
            except Exception:           # noqa: BLE001
                return True
            if a.dtype == bool:
                continue
            arrays.append(a.ravel())
            continue
        return True                     # a runtime index: may be an integer array
    if not arrays:
        return False
    if len(arrays) > 1:
        return True
    a = arrays[0]
    same_sign = bool(np.all(a >= 0) or np.all(a < 0))
    return not same_sign or len(np.unique(a)) != a.size


def _winning_writes(em, like, parts, index):
    """A boolean array shaped like ``like[index]``: which writes of
    ``y[index] = v`` survive (NumPy: the last write to an element wins)."""
    flat = em.call("arange", em.call("size", like))
    ids = em.call("reshape", flat, em.call("shape", like))
    pos = em.call("getitem", ids, *parts, _params={"index": index})
    k = em.call("reshape", em.call("arange", em.call("size", pos)), em.call("shape", pos))
    mark = em.call("setitem", flat, k, pos, _params={"index": Slot(0)})
    return em.call("equal", em.call("getitem", mark, pos, _params={"index": Slot(0)}), k)


def setitem_vjp(em, eqn, g):
    y, v, *parts = eqn.args
    idx = {"index": eqn.params["index"]}
    gv = em.call("getitem", g, *parts, _params=dict(idx, copy=True))
    if may_repeat(eqn.params["index"], parts):
        gv = em.call("multiply", gv, _winning_writes(em, g, parts, eqn.params["index"]))
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
    upd = cg.augmented.get(e)
    if upd is not None:         # y[idx] *= v: the user's augmented write, in place
        from ..codegen import _AUGMENTED
        lines.append(indent + _to_source(ast.AugAssign(target=sub, op=_AUGMENTED[upd.prim.name](),
                                                       value=cg.atom(upd.args[1]))))
        return lines
    lines.append(indent + _to_source(ast.Assign(targets=[sub], value=cg.atom(v))))
    return lines


SETITEM = defprim("setitem", _setitem_impl, sig="y, v, /, *parts", vjp=setitem_vjp,
                  jvp=setitem_jvp, shape=lambda args, kw: shape_of(args[0]), eqn_rule=True,
                  doc="y[idx] = v as a functional update; written in place when safe")
SETITEM.codegen_stmt = _setitem_stmt
