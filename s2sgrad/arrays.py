"""Array kinds: NumPy arrays, and other arrays through NumPy's protocols.

Generated code calls NumPy functions (``np.exp``, ``np.sum``, ``X @ w``);
an array type that implements NumPy's dispatch protocols
(``__array_function__`` for functions, ``__array_ufunc__`` for ufuncs) --
``dask.array``, CuPy, ... -- receives those calls itself, so the same
generated gradient runs on it.  This module is what the call path
(``api``), the shape specialiser and the runtime helpers ask about such
"duck" arrays:

* :func:`is_duck` -- an array of another type that dispatches NumPy's calls
  (NumPy arrays, their subclasses and NumPy scalars are not duck arrays);
* :func:`is_lazy` -- a dask collection: nothing is computed until
  ``dask.compute``;
* :func:`compute` -- every lazy value of a call's results computed in
  **one** ``dask.compute`` call (dask then reads the data once and shares
  what the results have in common);
* :func:`like` -- a NumPy value (a gradient that does not depend on the
  data, a zero) turned into the kind of a duck array, through NumPy's own
  ``like=`` dispatch;
* :func:`to_numpy` -- an eager duck array brought back explicitly
  (``np.asarray``; CuPy's ``.get()``): only ever for a result whose
  argument was a NumPy array.

dask is imported only when a lazy value has to be computed, so NumPy-only
users never import it.
"""
from __future__ import annotations

import numpy as np

from .runtime import ArrayKindError  # noqa: F401  (re-exported for the API)

__all__ = ["is_duck", "is_lazy", "known_shape", "implements", "compute", "like", "to_numpy",
           "kind_name"]


def is_duck(x) -> bool:
    """Is ``x`` an array of another type that dispatches NumPy's functions
    and ufuncs to itself (dask, CuPy, ...)?"""
    t = type(x)
    if t is np.ndarray or isinstance(x, (np.ndarray, np.generic)):
        return False
    return hasattr(t, "__array_function__") and hasattr(t, "__array_ufunc__") and \
        hasattr(x, "shape") and hasattr(x, "dtype")


def is_lazy(x) -> bool:
    """Is ``x`` a dask collection (computed only by ``dask.compute``)?"""
    return hasattr(type(x), "__dask_graph__")


def known_shape(x) -> bool:
    """Are all of ``x``'s dimensions known?  (A dask array whose chunk sizes
    depend on data, e.g. after boolean-mask indexing, has NaN in its shape.)"""
    try:
        return all(isinstance(n, (int, np.integer)) for n in x.shape)
    except (AttributeError, TypeError):
        return False


def implements(x, func) -> bool:
    """Does ``x``'s type implement the NumPy function ``func`` itself (rather
    than converting ``x`` to NumPy)?  Known for dask, which looks ``func`` up
    by name in ``dask.array`` and otherwise computes its arguments; assumed
    for other types (CuPy implements NumPy's API)."""
    if not is_lazy(x) or not type(x).__module__.startswith("dask.") or \
            isinstance(func, np.ufunc):
        return True          # (dask's __array_ufunc__ maps every elementwise ufunc)
    import dask.array as da
    module = da
    for part in (getattr(func, "__module__", None) or "numpy").split(".")[1:]:
        if part.startswith("_"):
            continue                     # numpy._core.fromnumeric -> dask.array
        module = getattr(module, part, None)
        if module is None:
            return False
    impl = getattr(module, getattr(func, "__name__", ""), None)
    return impl is not None and impl is not func


def compute(values, keep=()):
    """``values`` with every lazy element computed, all in one
    ``dask.compute`` call, except those at the positions in ``keep`` (which
    stay lazy).  Returns a new list (``values`` itself when nothing is lazy)."""
    todo = [i for i, v in enumerate(values) if i not in keep and is_lazy(v)]
    if not todo:
        return values
    import dask
    done = dask.compute(*[values[i] for i in todo])
    out = list(values)
    for i, v in zip(todo, done):
        out[i] = v
    return out


def like(g, x):
    """``g`` (a NumPy array or a Python/NumPy scalar) as an array of ``x``'s
    kind with ``x``'s dtype, by NumPy's ``like=`` dispatch (``da.asarray``
    for dask, ``cupy.asarray`` for CuPy)."""
    if np.shape(g) != tuple(x.shape):
        return np.full_like(x, g, dtype=x.dtype) if np.ndim(g) == 0 else \
            np.asarray(np.broadcast_to(g, x.shape), dtype=x.dtype, like=x)
    return np.asarray(g, dtype=x.dtype, like=x)


def to_numpy(g):
    """An eager duck array as a NumPy array (explicitly: CuPy refuses the
    implicit ``np.asarray`` and offers ``.get()``)."""
    try:
        return np.asarray(g)
    except TypeError:
        get = getattr(g, "get", None)
        if get is None:
            raise
        return np.asarray(get())


def kind_name(x) -> str:
    """``'dask.array.core.Array'``: the type named in messages."""
    t = type(x)
    return f"{t.__module__}.{t.__qualname__}"
