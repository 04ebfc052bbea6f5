"""Proofs that an index selects every element at most once.

The adjoint of ``x[idx]`` adds the cotangent at ``idx``.  An integer index
array may repeat an element, and then the additions must accumulate:
``np.add.at(acc, idx, g)`` (slow: unbuffered, one element at a time).  Where
every selected element is provably distinct, ``acc[idx] += g`` (a gather, an
add, a scatter) gives the same numbers bit for bit: each position receives
exactly one addition, the same addition ``np.add.at`` would do.

:func:`distinct_index` proves it from facts that cannot depend on data:

* basic parts (ints, slices, ``None``, ``...``) never repeat an element;
* an index array is *injective* when it is made by ``np.arange`` with static
  integer arguments whose values all have one sign (so no negative index
  wraps onto a non-negative one), by ``np.argsort`` of a 1-d array (a
  permutation of ``0..n-1``), or is a compile-time constant without repeats
  of one sign;
* several index arrays broadcast together: if one of them is injective and
  already has the broadcast shape (broadcasting does not replicate it), the
  tuples of positions are distinct whatever the others hold
  (``Z[np.arange(n), labels]``: one element per row);
* a boolean array among the parts, or an array of unknown shape, and the
  proof fails (the general ``np.add.at`` stays).

Shapes come from the specialised function's examples: they are guarded facts
of the call signature, so the proof holds for every call the code runs on.
"""
from __future__ import annotations

import numpy as np

from .ir import Const, Var
from .primitives.core import SCALAR, shape_of


def _static_int(inf, a):
    v = inf.val(a) if isinstance(a, Var) and inf.is_static(a) else \
        (a.value if isinstance(a, Const) else None)
    if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
        return int(v)
    return None


def _injective(p, defs, inf) -> bool:
    """Whether index array ``p`` provably holds distinct values of one sign."""
    if isinstance(p, Const):
        try:
            a = np.asarray(p.value)
        except Exception:           # noqa: BLE001
            return False
        if a.dtype.kind not in "iu":
            return False
        a = a.ravel()
        return bool(np.all(a >= 0) or np.all(a < 0)) and len(np.unique(a)) == a.size
    e = defs.get(p)
    if e is None or len(e.outs) != 1:
        return False
    name = e.prim.name
    if name == "arange":
        dt = e.kwargs.get("dtype")
        if dt is not None:
            dv = dt.value if isinstance(dt, Const) else inf.val(dt)
            try:
                if np.dtype(dv).kind not in "iu":
                    return False
            except TypeError:
                return False
        nums = [_static_int(inf, a) for a in e.args]
        if not 1 <= len(nums) <= 3 or any(n is None for n in nums):
            return False
        start, stop, step = (0, nums[0], 1) if len(nums) == 1 else \
            (nums[0], nums[1], nums[2] if len(nums) == 3 else 1)
        r = range(start, stop, step) if step != 0 else None
        if r is None:
            return False
        return len(r) <= 1 or (r[0] >= 0) == (r[-1] >= 0)
    if name == "argsort":
        a = inf.val(e.args[0])
        return type(a) is np.ndarray and a.ndim == 1
    return False


def distinct_index(index, parts, defs, inf) -> bool:
    """Whether ``x[index]`` (template ``index`` with dynamic ``parts``)
    provably selects no element of ``x`` twice (see the module docstring)."""
    arrays = []
    for p in parts:
        if shape_of(p) is SCALAR:
            continue
        if isinstance(p, Const):
            v = p.value
            if v is None or isinstance(v, slice):
                continue
            a = np.asarray(v)
            if a.dtype == bool:
                return False
            arrays.append((p, a.shape))
            continue
        v = inf.val(p)
        if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
            continue                    # an int (a loop index, a slice bound)
        if type(v) is not np.ndarray:
            return False
        if v.dtype.kind not in "iu":
            return False                # a boolean mask (or not an index at all)
        if v.ndim == 0:
            continue
        arrays.append((p, v.shape))
    if not arrays:
        return True
    try:
        full = np.broadcast_shapes(*[s for _, s in arrays])
    except ValueError:
        return False
    return any(s == full and _injective(p, defs, inf) for p, s in arrays)
