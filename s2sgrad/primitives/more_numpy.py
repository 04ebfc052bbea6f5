"""NumPy callables found refused by the wider coverage probes
(tools/probe_table.py, session 20): np.matvec / np.vecmat (NumPy 2.2),
np.compress / np.extract, the window functions, np.gcd / np.lcm and np.ix_
(data), and Python's round() and divmod() on arrays and numbers.

* ``np.matvec(A, v)`` is ``(A @ v[..., None])[..., 0]`` and ``np.vecmat(v, A)``
  is ``(conj(v)[..., None, :] @ A)[..., 0, :]`` (NumPy's definitions), so
  matmul's rules differentiate them (broadcasting over the stacks included).
* ``np.compress(condition, a, axis)`` is ``np.take(a, np.flatnonzero(condition),
  axis)`` and ``np.extract(condition, arr)`` is ``np.take(arr,
  np.flatnonzero(condition))``: the condition is data, the values are
  gathered (their cotangent is scattered back, repeated entries none).
* ``np.hamming/hanning/blackman/bartlett/kaiser``, ``np.gcd/lcm`` and
  ``np.ix_`` are data (integer or constant results: derivative 0, as in JAX).
* ``round(x)`` / ``round(x, n)`` runs Python's own round (so a Python number
  rounds exactly as Python does, a NumPy scalar as its ``__round__``): data.
  ``divmod(a, b)`` is ``np.divmod``'s rules (floor quotient data, remainder
  ``a - floor(a / b) b``).
"""
from __future__ import annotations

import builtins

import numpy as np

from ..errors import S2SGradError
from ..ir import Const
from .core import REGISTRY, defprim, register_object, shape_fresh


def _given(v):
    return v is not None and not (isinstance(v, Const) and v.value is None)


# ---------------------------------------------------------------- matvec / vecmat


def _matvec(em, x1, x2, axes=None, axis=None):
    if _given(axes) or _given(axis):
        raise S2SGradError("np.matvec(..., axes=/axis=) is not supported; move the axes "
                           "with np.moveaxis first")
    return em.squeeze(em.matmul(x1, em.expand_dims(x2, axis=-1)), axis=-1)


def _vecmat(em, x1, x2, axes=None, axis=None):
    if _given(axes) or _given(axis):
        raise S2SGradError("np.vecmat(..., axes=/axis=) is not supported; move the axes "
                           "with np.moveaxis first")
    row = em.expand_dims(em.conj_if_complex(x1), axis=-2)
    return em.squeeze(em.matmul(row, x2), axis=-2)


if hasattr(np, "matvec"):
    defprim("matvec", np.matvec, sig="x1, x2, /, *, axes=None, axis=None", expand=_matvec,
            doc="np.matvec(A, v): (A @ v[..., None])[..., 0] (matmul's rules).")
if hasattr(np, "vecmat"):
    defprim("vecmat", np.vecmat, sig="x1, x2, /, *, axes=None, axis=None", expand=_vecmat,
            doc="np.vecmat(v, A): (conj(v)[..., None, :] @ A)[..., 0, :] (matmul's rules).")


# ---------------------------------------------------------------- compress / extract


def _compress(em, condition, a, axis=None):
    idx = em.flatnonzero(condition)
    if _given(axis):
        return em.take(a, idx, axis=axis)
    return em.take(a, idx)


def _extract(em, condition, arr):
    return em.take(arr, em.flatnonzero(condition))


defprim("compress", np.compress, sig="condition, a, /, axis=None", expand=_compress,
        doc="np.compress: np.take(a, np.flatnonzero(condition), axis) (the condition is data).")
defprim("extract", np.extract, sig="condition, arr, /", expand=_extract,
        doc="np.extract: np.take(arr, np.flatnonzero(condition)) (the condition is data).")


# ---------------------------------------------------------------- data


def _data(name, impl, sig, doc, **kw):
    return defprim(name, impl, sig=sig, nondiff=True, shape=shape_fresh, doc=doc, **kw)


for _name in ("hamming", "hanning", "blackman", "bartlett"):
    _data(_name, getattr(np, _name), "M, /", f"np.{_name}: a window, data.")
_data("kaiser", np.kaiser, "M, beta, /", "np.kaiser: a window, data.")
_data("gcd", np.gcd, "x1, x2, /", "np.gcd: integers, data.")
_data("lcm", np.lcm, "x1, x2, /", "np.lcm: integers, data.")
_data("ix_", np.ix_, "*args", "np.ix_: open-mesh index arrays, data.")


# ---------------------------------------------------------------- Python's round / divmod

_data("py_round", builtins.round, "number, /, ndigits=None",
      "round(x[, n]): Python's round (ndarray.__round__ for arrays), data.", pyname="round")
register_object(builtins.divmod, REGISTRY["divmod"])
