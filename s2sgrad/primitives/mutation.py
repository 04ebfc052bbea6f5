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
copies first (``y_1 = y.copy(order='K')``, in y's memory order), so taking
a gradient never modifies the caller's arrays.

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

from .. import runtime
from ..errors import S2SGradError
from ..ir import Const, Var
from .core import SCALAR, defprim, shape_of
from .indexing import Slot, template_to_ast, evaluate_template


def _setitem_impl(y, v, *parts, index):
    # (NumPy's y keeps its memory order: see _setitem_stmt)
    out = y.copy(order="K") if isinstance(y, np.ndarray) else y.copy()
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


_DATA_LIST = ("a differentiated value is written into a list passed as a (not differentiated) "
              "argument; differentiate the list too (wrt=...), or build a new one "
              "(q = [v for v in L]; q[0] = ...)")


def setitem_vjp(em, eqn, g):
    y, v, *parts = eqn.args
    idx = {"index": eqn.params["index"]}
    if _is_list(y):
        # xs[i] = v on a Python list: the slot takes v itself (no dtype
        # conversion, one slot, and reading it shares no memory to copy)
        t = eqn.params["index"]
        if isinstance(t, int) and not isinstance(t, bool) and not parts:
            gv = em.call("list_get", g, Const(t))        # differentiable again as a list read
        elif isinstance(t, Slot) and t.k == 0 and len(parts) == 1:
            gv = em.call("list_get", g, parts[0])
        else:
            gv = em.call("getitem", g, *parts, _params=idx)
        y_bar = em.call("setitem", g, Const(0.0), *parts, _params=idx)
        return [y_bar, gv] + [None] * len(parts)
    keys = eqn.params["index"] if isinstance(eqn.params["index"], tuple) else \
        (eqn.params["index"],)
    if any(isinstance(k, str) for k in keys) or \
            any(isinstance(q, Const) and isinstance(q.value, str) for q in parts):
        # d[k] = v into a dict the IR holds as one opaque value (a dict
        # passed as data, or one taken out of such a container)
        from ..reverse import _err
        raise _err(eqn, "a differentiated value is written into a dict passed as a (not "
                        "differentiated) argument, or into an item of one; differentiate "
                        "the dict too (wrt=...), or build a new one (q = dict(p); q['k'] = v)")
    if eqn.params.get("into_data"):
        # L[0] = v into a value passed as data that may be a Python list (no
        # dtype conversion, the slot takes v whole: the array rule below does
        # not apply)
        from ..reverse import _err
        raise _err(eqn, _DATA_LIST)
    gv = em.call("getitem", g, *parts, _params=dict(idx, copy=True))
    if may_repeat(eqn.params["index"], parts):
        gv = em.call("multiply", gv, _winning_writes(em, g, parts, eqn.params["index"]))
    y_bar = em.call("setitem", g, Const(0.0), *parts, _params=idx)
    if isinstance(v, Var):
        # the value is converted to y's dtype: no derivative through an
        # integer or bool array (y = np.arange(3); y[1] = 5 * x truncates)
        gv = _through_dtype_of(em, gv, y, v)
    return [y_bar, em.unbroadcast(gv, v)] + [None] * len(parts)


def _has_key(e):
    """Whether a setitem's index is a string (a dict's key: ``p["W"]``, the
    write a view ``W = p["W"]`` gives back to its dict)."""
    t = e.params["index"]
    items = t if isinstance(t, tuple) else (t,)
    return any(isinstance(i, str) for i in items) or \
        any(isinstance(a, Const) and isinstance(a.value, str) for a in e.args[2:])


def _is_list(y):
    from .lists import LIST
    return isinstance(y, Var) and shape_of(y) is LIST


def _through_dtype_of(em, t, y, v):
    """``t``, a derivative of a value ``v`` written into ``y``, as it passes
    through the conversion to ``y``'s dtype: zeros when ``y`` is not a float
    array (decided at run time; specialisation folds it), the real part for a
    real ``y``; in ``v``'s dtype."""
    return em.call("cast_derivative", t, dtype=em.result_type(y), to=em.result_type(v))


def setitem_jvp(em, eqn, dots):
    y, v, *parts = eqn.args
    dy, dv = dots[0], dots[1]
    if dy is None and dv is None:
        return None
    if dv is not None and eqn.params.get("into_data"):
        from ..reverse import _err      # (as setitem_vjp: a list passed as data)
        raise _err(eqn, _DATA_LIST)
    if dy is None:
        dy = em.zeros_like(y)
    if dv is not None and not _is_list(y):
        dv = em.call("cast_derivative", dv, dtype=em.result_type(y), to=em.result_type(dy))
    return em.call("setitem", dy, Const(0.0) if dv is None else dv, *parts,
                   _params={"index": eqn.params["index"]})


def _setitem_stmt(cg, e, indent):
    from ..codegen import _to_source
    y, v = e.args[0], e.args[1]
    target_name = cg.namer.name(e.outs[0])
    lines = []
    yexpr = cg.atom(y)
    examples = cg.func.info.get("examples") or {}
    # a cotangent or tangent of a 0-d array may be a NumPy scalar (a ufunc of
    # 0-d arrays gives one), which has no memory to write into: known from the
    # example values, or, in code not specialised to them, possible for any
    # (a runtime list's tangent or cotangent is a list: np.array of it would
    # stack its entries into one array)
    maybe_scalar = not _is_list(y) and (isinstance(examples.get(y), np.generic) or
                                        (not examples and getattr(y, "bar_of", None) is not None))
    in_place = e in cg.inplace and isinstance(yexpr, ast.Name) and yexpr.id == target_name
    if in_place and maybe_scalar and not isinstance(examples.get(y), np.generic):
        # the same array when it is one (the write stays in place), else a 0-d copy
        lines.append(f"{indent}{target_name} = np.asarray({_to_source(yexpr)})")
    elif maybe_scalar:
        lines.append(f"{indent}{target_name} = np.array({_to_source(yexpr)})")
    elif not in_place:
        ysrc = _to_source(yexpr)
        if isinstance(yexpr, ast.Constant):
            # (``0.copy()`` is a syntax error: a write into a number, in a
            # branch that may never run, fails as Python's would when it does)
            ysrc = f"({ysrc})"
        # (in y's memory order: NumPy writes into y, which keeps its strides,
        # and what is computed from it later inherits them -- F-ordered from
        # an F-ordered y, which a reshape written through observes; a list,
        # or data that may be one, has no order)
        if e.params.get("plain_copy") == "maybe" and not _has_key(e):
            # (an item of data: an array, in its order, or a list)
            lines.append(f"{indent}{target_name} = {ysrc}.copy(order='K') if "
                         f"isinstance({ysrc}, np.ndarray) else {ysrc}.copy()")
        else:
            order = "" if _is_list(y) or e.params.get("into_data") or \
                e.params.get("plain_copy") or _has_key(e) else "order='K'"
            lines.append(f"{indent}{target_name} = {ysrc}.copy({order})")
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


# ---------------------------------------------------------------- NumPy's writing functions
# np.put_along_axis(y, idx, v, axis), np.put(y, ind, v) / y.put(ind, v),
# np.place(y, mask, v) and np.copyto(y, src, where=...) write into their
# first argument.  Lowering (lower/calls.py, ``inplace_function``) binds
# the argument's name to the updated value these composites compute, a
# ``setitem`` of y, and writes it back through the alias model like
# ``y[idx] = v`` -- so their derivatives are setitem's (a write with
# repeated positions: the last one wins, as in NumPy).  NumPy's cycling of a
# short ``v`` (np.put, np.place) is a ``take(..., mode='wrap')`` of it.

def _opt(v, default=None):
    if v is None or (isinstance(v, Const) and v.value is None):
        return default
    return v.value if isinstance(v, Const) else v


def _cycled(em, v, like):
    """``v`` repeated (or cut) to the shape of ``like``, as np.put and np.place
    read their values."""
    n = em.call("size", like)
    taken = em.call("take", em.call("ravel", v), em.call("arange", n), mode="wrap")
    return em.call("reshape", taken, em.call("shape", like))


def _put_along_axis(em, arr, indices, values, axis=None):
    from ..errors import S2SGradError
    if not isinstance(axis, Const):
        raise S2SGradError("np.put_along_axis's axis must be a constant (an int or None)")
    if axis.value is None:
        flat = em.call("ravel", arr)
        new = em.call("setitem", flat, values, indices, _params={"index": Slot(0)})
        return _in_order_of(em, em.call("reshape", new, em.call("shape", arr)), arr)
    idx = em.call("along_axis_index", arr, indices, axis=axis.value)
    return em.call("setitem", arr, values, idx, _params={"index": Slot(0)})


def _put(em, a, ind, v, mode=None):
    flat = em.call("ravel", a)
    m = _opt(mode, "raise")
    if isinstance(ind, Const) and isinstance(ind.value, (list, tuple)):
        ind = Const(np.asarray(ind.value))      # (a list literal: `%` is printed)
    if m == "wrap":
        ind = em.call("remainder", ind, em.call("size", a))
    elif m == "clip":
        ind = em.call("clip_bounds", ind, 0, em.call("subtract", em.call("size", a), 1))
    new = em.call("setitem", flat, _cycled(em, v, ind), ind, _params={"index": Slot(0)})
    return _in_order_of(em, em.call("reshape", new, em.call("shape", a)), a)


def _in_order_of(em, new, y):
    """``new`` (y written through its C-ordered ravel) in ``y``'s memory
    order, which NumPy's ``y`` keeps (runtime.in_layout_of)."""
    return em.call("in_place_result", new, y, layout=True)


def _place(em, arr, mask, vals):
    mask = em.call("reshape", mask, em.call("shape", arr))
    picked = em.call("getitem", arr, mask, _params={"index": Slot(0)})
    return em.call("setitem", arr, _cycled(em, vals, picked), mask, _params={"index": Slot(0)})


def _putmask(em, a, mask, values):
    # a.flat[n] = values.flat[n % values.size] where mask.flat[n]
    mask = em.call("reshape", mask, em.call("shape", a))
    picked = em.call("getitem", _cycled(em, values, a), mask, _params={"index": Slot(0)})
    return em.call("setitem", a, picked, mask, _params={"index": Slot(0)})


def _copyto(em, dst, src, casting=None, where=None):
    w = _opt(where, True)
    c = _opt(casting, "same_kind")
    if c not in ("same_kind", "unsafe"):
        raise S2SGradError(f"np.copyto / out= with casting={c!r} is not supported: use the "
                           f"default casting ('same_kind') or casting='unsafe'")
    if c == "same_kind":
        # NumPy refuses a cast across kinds (float into an int array, complex
        # into a float one) under 'same_kind': the same error here, never the
        # truncated numbers of a plain y[...] = v (the check is removed by
        # specialisation where the dtypes are known to agree)
        src = em.call("same_kind_checked", src, dst)
    if w is True:
        return em.call("setitem", dst, src, _params={"index": (Ellipsis,)})
    mask = em.call("broadcast_to", w, shape=em.call("shape", dst))
    full = em.call("broadcast_to", src, shape=em.call("shape", dst))
    picked = em.call("getitem", full, mask, _params={"index": Slot(0)})
    return em.call("setitem", dst, picked, mask, _params={"index": Slot(0)})


defprim("put_along_axis_update", None, sig="arr, indices, values, /, axis=None",
        expand=_put_along_axis,
        doc="np.put_along_axis(y, idx, v, axis): y written at idx along axis (y[...] = v).")
defprim("put_update", None, sig="a, ind, v, /, mode='raise'", expand=_put,
        doc="np.put(y, ind, v) / y.put(ind, v): y.flat[ind] = v, v cycled as NumPy.")
defprim("place_update", None, sig="arr, mask, vals, /", expand=_place,
        doc="np.place(y, mask, v): y[mask] = v, v cycled as NumPy.")
defprim("putmask_update", None, sig="a, mask, values, /", expand=_putmask,
        doc="np.putmask(y, mask, v): y.flat[n] = v.flat[n % v.size] where mask.flat[n].")
defprim("same_kind_checked", runtime.same_kind_checked, sig="src, dst, /",
        pyname="same_kind_checked",
        vjp=lambda em, h, out, src, dst: [h, None],
        jvp=lambda em, dots, out, src, dst: dots[0],
        shape=lambda args, kwargs: shape_of(args[0]), linear=True,
        doc="runtime helper: src, after checking NumPy's 'same_kind' cast of it into dst "
            "(np.copyto, out=).")
defprim("out_checked", runtime.out_checked, sig="value, out, /, ufunc_like=False, what=''",
        pyname="out_checked",
        vjp=lambda em, h, o, value, out, ufunc_like=None, what=None: [h, None],
        jvp=lambda em, dots, o, value, out, ufunc_like=None, what=None: dots[0],
        shape=lambda args, kwargs: shape_of(args[0]), linear=True,
        doc="runtime helper: a function's result, once NumPy's checks of out= allow "
            "writing it into out (np.clip(..., out=y), np.cumsum(..., out=y)).")
defprim("copyto_update", None, sig="dst, src, /, casting='same_kind', where=True",
        expand=_copyto, doc="np.copyto(y, src, where=...): y[...] = src (where the mask is).")


defprim("along_axis_index", runtime.along_axis_index, sig="arr, indices, /, axis", nondiff=True,
        pyname="along_axis_index", shape=lambda args, kwargs: None,
        doc="runtime helper: the integer-array index np.put_along_axis writes, data.")
