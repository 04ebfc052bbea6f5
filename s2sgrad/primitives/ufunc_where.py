"""A ufunc's ``where=`` (session 22, cov9).

``np.divide(a, b, out=np.zeros_like(a), where=b != 0)``: NumPy computes the
ufunc only where the mask is True and leaves ``out``'s entries elsewhere.
The lowering (``lower/calls.py``, ``ufunc_out``) writes it as

    a_ = np.where(mask, a, FILL)          (every computed operand)
    r  = np.divide(a_, b_)
    out[...] = np.where(mask, r, out)

with ``FILL`` a point inside the ufunc's domain (:func:`masked_fill`), so
the ufunc and its derivative are finite at the masked-off entries: the
value there is ``out``'s, no warning is raised, and the entries' cotangent
(0, from the outer where) is not multiplied by an infinite or NaN partial
derivative (the "double where"; a single where gives 0 * inf = NaN).
"""
from __future__ import annotations

import numpy as np

_FILLS = (1, 2, 0.5)
_CACHE: dict = {}


def masked_fill(ufunc):
    """A value ``c`` with ``ufunc(c, ..., c)`` finite at and around ``c``
    (so its partial derivatives there are finite: the ufunc is smooth or
    piecewise smooth with finite one-sided derivatives), or None if none of
    the candidates is (the call is then refused)."""
    hit = _CACHE.get(ufunc)
    if hit is None and ufunc not in _CACHE:
        for c in _FILLS:
            try:
                with np.errstate(all="ignore"):
                    vals = [ufunc(*([np.float64(c + d)] * ufunc.nin)) for d in (0.0, 1e-3, -1e-3)]
            except Exception:
                continue
            flat = [np.asarray(v, dtype=complex) for r in vals
                    for v in (r if isinstance(r, tuple) else (r,))]
            if all(np.all(np.isfinite(v)) for v in flat):
                hit = c
                break
        _CACHE[ufunc] = hit
    return hit
