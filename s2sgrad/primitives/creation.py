"""Array creation and integer-valued functions: data, not derivatives.

``zeros``, ``ones``, ``empty``, ``eye``, ``identity``, ``arange``,
``argmax``/``argmin``/``argsort`` and ``round`` are non-differentiable
(``nondiff``): their results are constants as far as the derivative is
concerned (a piecewise-constant function such as ``round`` has derivative 0
wherever it has one), so they can be used freely as data inside a
differentiated function -- ``np.sum(x * np.arange(3))``, ``x[np.argmax(x)]``.

The constructors that take *values* are differentiable in them:

* ``np.full(shape, v)``, ``np.full_like(a, v)``: in ``v`` (summed over the
  positions it fills);
* ``np.array([a, b, ...])``: like ``np.stack`` of its elements (each
  element's cotangent is ``g[i]``); only a list/tuple literal can be
  differentiated, use ``np.asarray(x)`` for an existing array;
* ``np.asarray(x)``, ``np.copy(x)``, ``x.copy()``: identity;
* ``np.sort(x, axis)``: a permutation; the cotangent is sent back to the
  positions the sorted elements came from (``unsort``).  Ties are ordered
  stably, so equal elements keep their order (one valid choice of
  subgradient).
"""
from __future__ import annotations

import numpy as np

from .. import runtime
from ..errors import S2SGradError
from ..ir import Const, Var
from .core import defmethod, defprim, shape_fresh, shape_of
from .reductions import positional_adapter


def _lin(fn, t, *args, **kw):
    """The tangent of a helper linear in its first operand: zero when that one's is."""
    return None if t is None else fn(t, *args, **kw)


def _like_first(args, kwargs):
    return shape_of(args[0])


def _cast_ct(em, t, x, dtype):
    """A derivative through a conversion to ``dtype`` (None: unchanged)."""
    if t is None or dtype is None:
        return t
    if isinstance(dtype, Var):          # chosen at run time
        return em.call("cast_derivative", t, dtype=dtype, to=em.result_type(x))
    try:
        inexact = runtime.casts_derivative(dtype.value)
    except TypeError:
        inexact = False
    except ValueError as exc:
        raise S2SGradError(str(exc), construct="conversion to a non-numeric dtype") from None
    return t if inexact else None


# ---------------------------------------------------------------- constants

for _name, _impl in (("zeros", np.zeros), ("ones", np.ones), ("empty", np.empty)):
    defprim(_name, _impl, sig="shape, /, dtype=None", nondiff=True, shape=shape_fresh, alloc=True,
            doc=f"np.{_name}(shape, dtype): data, not differentiated.")

defprim("eye", np.eye, sig="N, /, M=None, k=0, dtype=None", nondiff=True, shape=shape_fresh,
        alloc=True,
        doc="np.eye(N, M, k, dtype): data, not differentiated.")
defprim("identity", np.identity, sig="n, /, dtype=None", nondiff=True, shape=shape_fresh,
        alloc=True,
        doc="np.identity(n, dtype): data, not differentiated.")
# opaque, not data: np.arange(x, 5.0) moves with a float start (and step), so
# a differentiated value flowing into it is refused rather than given derivative 0
defprim("arange", np.arange, sig="*args, dtype=None", opaque=True, shape=shape_fresh,
        alloc=True,
        doc="np.arange(start, stop, step): data, not differentiated (a differentiated start, "
            "stop or step is refused).")


# np.full(shape, v): differentiable in the fill value v (which may be an array
# broadcast to shape): its cotangent is g summed back to v's shape.
def _full_vjp(em, g, out, shape, fill_value, dtype=None):
    return [None, _cast_ct(em, em.unbroadcast(g, fill_value), fill_value, dtype)]


def _full_jvp(em, dots, out, shape, fill_value, dtype=None):
    return _cast_ct(em, em.broadcast_like(dots[1], out), out, dtype)


defprim("full", np.full, sig="shape, fill_value, /, dtype=None", vjp=_full_vjp, alloc=True,
        jvp=_full_jvp, shape=shape_fresh,
        doc="np.full(shape, v): the cotangent of v is g summed over the positions it fills.")


def _full_like_vjp(em, g, out, a, fill_value, dtype=None):
    # the result has a's dtype unless dtype is given
    return [None, _cast_ct(em, em.unbroadcast(g, fill_value), fill_value,
                           dtype if dtype is not None else em.result_type(a))]


def _full_like_jvp(em, dots, out, a, fill_value, dtype=None):
    return _cast_ct(em, em.broadcast_like(dots[1], out), out,
                    dtype if dtype is not None else em.result_type(a))


defprim("full_like", np.full_like, sig="a, fill_value, /, dtype=None", vjp=_full_like_vjp,
        alloc=True,
        jvp=_full_like_jvp, shape=_like_first,
        doc="np.full_like(a, v): differentiable in v only (a supplies a shape).")


# ---------------------------------------------------------------- integer-valued

ARGMAX = defprim("argmax", np.argmax, sig="a, /, axis=None, *, keepdims=None", nondiff=True,
                 shape=shape_fresh, doc="np.argmax: an index, not differentiated.")
ARGMIN = defprim("argmin", np.argmin, sig="a, /, axis=None, *, keepdims=None", nondiff=True,
                 shape=shape_fresh, doc="np.argmin: an index, not differentiated.")
ARGSORT = defprim("argsort", np.argsort, sig="a, /, axis=-1, kind=None", nondiff=True,
                  shape=shape_fresh, doc="np.argsort: indices, not differentiated.")
ROUND = defprim("round", np.round, sig="a, /, decimals=0", nondiff=True, shape=_like_first,
                aliases=(np.around,) if np.around is not np.round else (),
                doc="np.round / np.around: piecewise constant, derivative 0.")
defmethod("argmax", ARGMAX, positional_adapter("axis", "out"))
defmethod("argmin", ARGMIN, positional_adapter("axis", "out"))
defmethod("argsort", ARGSORT, positional_adapter("axis", "kind"))
defmethod("round", ROUND, positional_adapter("decimals", "out"))


# ---------------------------------------------------------------- sort


def _sort_kw(axis):
    return {} if axis is None else {"axis": axis}


def _sort_shape(args, kwargs):
    axis = kwargs.get("axis")
    if isinstance(axis, Const) and axis.value is None:
        return shape_fresh(args, kwargs)       # flattened
    return shape_of(args[0])


defprim("sort", np.sort, sig="a, /, axis=-1, kind=None",
        vjp=lambda em, g, out, a, axis=None, kind=None: [em.unsort(g, a, **_sort_kw(axis))],
        jvp=lambda em, dots, out, a, axis=None, kind=None:
            em.sort_like(dots[0], a, **_sort_kw(axis)),
        shape=_sort_shape,
        doc="np.sort: the cotangent goes back to where each sorted element came from.")
# unsort(g, x, axis) and sort_like(t, x, axis) are the two directions of the
# permutation that sorts x; each is linear in its first operand and the other's
# adjoint.  x only supplies the permutation.
defprim("unsort", runtime.unsort, sig="g, x, /, axis=-1", pyname="unsort",
        vjp=lambda em, h, out, g, x, **kw: [em.sort_like(h, x, **kw), None],
        jvp=lambda em, dots, out, g, x, **kw: _lin(em.unsort, dots[0], x, **kw),
        shape=lambda args, kwargs: shape_of(args[1]), linear=True,
        doc="runtime helper: the adjoint of np.sort.")
defprim("sort_like", runtime.sort_like, sig="t, x, /, axis=-1", pyname="sort_like",
        vjp=lambda em, h, out, t, x, **kw: [em.unsort(h, x, **kw), None],
        jvp=lambda em, dots, out, t, x, **kw: _lin(em.sort_like, dots[0], x, **kw),
        shape=shape_fresh, linear=True,
        doc="runtime helper: t permuted as np.sort permutes x (the tangent of sort).")


# ---------------------------------------------------------------- array, asarray, copy


def _array_vjp(em, g, out, *xs, dtype=None):
    return [_cast_ct(em, em.call("getitem", g, _params={"index": i}), x, dtype)
            for i, x in enumerate(xs)]


def _array_jvp(em, dots, out, *xs, dtype=None):
    if all(d is None for d in dots):
        return None
    ts = [d if d is not None else em.zeros_like(x) for d, x in zip(dots, xs)]
    return _cast_ct(em, em.array(*ts, **({"dtype": dtype} if dtype is not None else {})), out,
                    dtype)


defprim("array", np.array, sig="*objects, dtype=None", seq_arg=True, vjp=_array_vjp, alloc=True,
        jvp=_array_jvp, shape=shape_fresh, linear=True,
        doc="np.array([a, b, ...]): stacks its elements; element i's cotangent is g[i].")


defprim("asarray", np.asarray, sig="a, /, dtype=None",
        vjp=lambda em, g, out, a, dtype=None: [_cast_ct(em, g, a, dtype)],
        jvp=lambda em, dots, out, a, dtype=None: _cast_ct(em, dots[0], out, dtype),
        shape=_like_first, linear=True,
        doc="np.asarray(x): identity for derivatives (zero for an integer/bool dtype).")
COPY = defprim("copy", np.copy, sig="a, /", alloc=True,
               vjp=lambda em, g, out, a: [g], jvp=lambda em, dots, out, a: dots[0],
               shape=_like_first, linear=True, doc="np.copy / x.copy(): identity.")
defmethod("copy", COPY)
