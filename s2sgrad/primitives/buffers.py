"""Buffers and layout conversions: ``np.empty_like``, ``np.ascontiguousarray``,
``np.asfortranarray``, ``np.asanyarray``.

* ``np.empty_like(x)`` is a buffer, as ``np.empty(shape)`` is: data (its
  derivative is zero), written by the function before it is read.  Its
  unwritten elements are whatever memory NumPy hands out, in the generated
  code as in NumPy (reading one is undefined in both).
* ``np.ascontiguousarray(x)``/``np.asfortranarray(x)`` are ``x`` itself when
  its memory is already in that order (and of the dtype), else a copy; a
  0-d ``x`` becomes shape ``(1,)``.  For derivatives they are the identity
  (the cotangent is summed back to ``x``'s shape and cast to its dtype).
  Lowering records the result as a view of ``x`` whose sharing is decided at
  run time (``np.may_share_memory``, lower/aliasing.py), so a write through
  either is seen by the other exactly when NumPy's would be.
* ``np.asanyarray(x)`` of an array is ``x`` (the same value, as
  ``np.asarray(x)``); with a ``dtype``, ``x`` or a converted copy, as
  ``np.asarray(x, dtype)``.
"""
from __future__ import annotations

import numpy as np

from .core import defprim, shape_fresh, shape_of
from .creation import _cast_ct


def _like_first(args, kwargs):
    return shape_of(args[0])


defprim("empty_like", np.empty_like, sig="prototype, /, dtype=None", nondiff=True, alloc=True,
        shape=_like_first, doc="np.empty_like(x, dtype): a buffer (data), written before it "
                               "is read.")


def _layout_vjp(em, g, out, a, dtype=None):
    return [_cast_ct(em, em.unbroadcast(g, a), a, dtype)]


def _layout_jvp(name):
    def jvp(em, dots, out, a, dtype=None):
        return _cast_ct(em, em.call(name, dots[0]), out, dtype)
    return jvp


for _name in ("ascontiguousarray", "asfortranarray"):
    defprim(_name, getattr(np, _name), sig="a, /, dtype=None", vjp=_layout_vjp,
            jvp=_layout_jvp(_name), shape=shape_fresh, linear=True,
            doc=f"np.{_name}(x): x in that memory order (x itself when it already is; a "
                f"0-d x becomes 1-d); the identity for derivatives.")

defprim("asanyarray", np.asanyarray, sig="a, /, dtype=None",
        vjp=lambda em, g, out, a, dtype=None: [_cast_ct(em, g, a, dtype)],
        jvp=lambda em, dots, out, a, dtype=None: _cast_ct(em, dots[0], out, dtype),
        shape=_like_first, linear=True,
        doc="np.asanyarray(x): x itself (or converted to dtype); the identity for derivatives.")
