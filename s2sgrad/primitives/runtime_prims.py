"""Primitives for the helpers in :mod:`s2sgrad.runtime` that rules emit.

They are ordinary table entries with their own (linear) rules, so a
generated gradient that calls them can be differentiated again.
"""
from __future__ import annotations

import numpy as np

from .. import runtime
from .. import runtime_numpy as _runtime_numpy
from ..errors import DataRefusedError, OutputTypeError, SharedArgumentsError
from .core import SCALAR, Emitter, defprim, shape_of


def _shape_of_second(args, kwargs):
    return shape_of(args[1])


# unbroadcast(g, x): sum g down to x's shape.  Linear in g; x only supplies a shape.
defprim("unbroadcast", runtime.unbroadcast, sig="g, x, /", pyname="unbroadcast",
        vjp=lambda em, h, out, g, x: [em.broadcast_like(h, g), None],
        jvp=lambda em, dots, out, g, x: em.unbroadcast(dots[0], x),
        shape=_shape_of_second, linear=True)

# broadcast_like(t, x): broadcast t up to x's shape.  Linear in t.
defprim("broadcast_like", runtime.broadcast_like, sig="t, x, /", pyname="broadcast_like",
        vjp=lambda em, h, out, t, x: [em.unbroadcast(h, t), None],
        jvp=lambda em, dots, out, t, x: em.broadcast_like(dots[0], x),
        shape=_shape_of_second, linear=True)


# fit_shape(g, x): g summed and broadcast to x's shape (einsum's size-1 labels).
# Linear in g; its adjoint fits back to g's shape.
defprim("fit_shape", runtime.fit_shape, sig="g, x, /", pyname="fit_shape",
        vjp=lambda em, h, out, g, x: [em.call("fit_shape", h, g), None],
        jvp=lambda em, dots, out, g, x: (None if dots[0] is None else
                                         em.call("fit_shape", dots[0], x)),
        shape=_shape_of_second, linear=True)


def _unreduce_vjp(em: Emitter, h, out, g, x, axis=None, keepdims=False):
    kw = {}
    if axis is not None:
        kw["axis"] = axis
    if keepdims is not False:
        kw["keepdims"] = keepdims
    return [em.sum(h, **kw), None]


def _unreduce_jvp(em, dots, out, g, x, **kw):
    return em.unreduce(dots[0], x, **kw) if dots[0] is not None else None


# unreduce(g, x, axis, keepdims): the adjoint of a reduction; transposes to sum.
defprim("unreduce", runtime.unreduce, sig="g, x, /, axis=None, keepdims=False",
        pyname="unreduce", vjp=_unreduce_vjp, jvp=_unreduce_jvp,
        shape=_shape_of_second, linear=True)


# check_float_output(out): nothing, or a refusal of a boolean/integer output of
# a function grad differentiates (when no seed is emitted: the output does
# not depend on the arguments differentiably).  An effect, kept by dead-code
# elimination, dropped by specialisation when the output is a float.
CHECK_FLOAT_OUTPUT = defprim("check_float_output", runtime.check_float_output, sig="out, /",
                             pyname="check_float_output", nondiff=True, nouts=0,
                             shape=lambda args, kwargs: None,
                             doc="runtime helper: refuses a boolean or integer grad output.")
CHECK_FLOAT_OUTPUT.effect = True
runtime.OUTPUT_TYPE_ERROR = OutputTypeError
# check_unshared(x, *others, names, where): nothing, or a refusal of arguments
# that share memory when the function writes into x, one of them (lowering
# emits it first in a function that writes into an argument; see
# s2sgrad.lower.function).  An effect, kept by dead-code elimination.
CHECK_UNSHARED = defprim("check_unshared", runtime.check_unshared,
                         sig="x, /, *others, names=(), where=''", pyname="check_unshared",
                         nondiff=True, nouts=0, shape=lambda args, kwargs: None,
                         doc="runtime helper: refuses arguments sharing memory with one the "
                             "function writes into.")
CHECK_UNSHARED.effect = True
runtime.SHARED_ARGUMENTS_ERROR = SharedArgumentsError
# check_zip_length(length, n, where): nothing, or a refusal of zip(xs, fs)
# unrolled over the n functions of fs when xs has fewer items
# (lower.builtins._b_zip).  An effect, kept by dead-code elimination.
CHECK_ZIP_LENGTH = defprim("check_zip_length", runtime.check_zip_length,
                           sig="length, /, n=0, where=''", pyname="check_zip_length",
                           nondiff=True, nouts=0, shape=lambda args, kwargs: None,
                           doc="runtime helper: refuses zip() of a sequence shorter than "
                               "the functions it is unrolled over.")
CHECK_ZIP_LENGTH.effect = True
# not_a_count(n, where): n, or a refusal of a run-time repetition count
# ([v] * n, lowered as NumPy's product: lower.expressions.binop)
defprim("not_a_count", runtime.not_a_count, sig="n, /, where=''", pyname="not_a_count",
        vjp=lambda em, g, out, n, **kw: [g], jvp=lambda em, dots, out, n, **kw: dots[0],
        shape=lambda args, kwargs: shape_of(args[0]), linear=True,
        doc="runtime helper: n, checked to be an ndarray (a list literal times an int "
            "would repeat the list).")
# check_unzip_length(xs, n, where): nothing, or Python's error of
# ``a, b = zip(*xs)`` of a runtime list (lower.calls.unzip_runtime_list).
CHECK_UNZIP_LENGTH = defprim("check_unzip_length", runtime.check_unzip_length,
                             sig="xs, /, n=0, where=''", pyname="check_unzip_length",
                             nondiff=True, nouts=0, shape=lambda args, kwargs: None,
                             doc="runtime helper: Python's check of a, b = zip(*xs).")
CHECK_UNZIP_LENGTH.effect = True
# raise_error(cls, *args, where): the user's ``raise cls(*args)`` in a branch
# decided when the code runs (lower.statements.stmt_Raise).  An effect.
RAISE_ERROR = defprim("raise_error", runtime.raise_error, sig="cls, /, *args, where=''",
                      pyname="raise_error", nondiff=True, nouts=0,
                      shape=lambda args, kwargs: None,
                      doc="runtime helper: the user's raise statement.")
RAISE_ERROR.effect = True
# check_unpack_length(x, n, star, where): nothing, or Python's error of
# ``a, b = x`` / ``a, *rest, b = x`` when x's length does not fit the names
# (lower.statements.unpack).  An effect, dropped by specialisation when x's
# shape is known.
CHECK_UNPACK_LENGTH = defprim("check_unpack_length", runtime.check_unpack_length,
                              sig="x, /, n=0, star=False, where=''",
                              pyname="check_unpack_length", nondiff=True, nouts=0,
                              shape=lambda args, kwargs: None,
                              doc="runtime helper: Python's length check of a tuple "
                                  "assignment from a value whose length is known at run time.")
CHECK_UNPACK_LENGTH.effect = True
runtime.DATA_REFUSED_ERROR = DataRefusedError
_runtime_numpy.DATA_REFUSED_ERROR = DataRefusedError
# snapshot(x): a copy of a NumPy array, anything else as it is (reverse.split_vjp:
# the residuals of a user's pullback that may share memory with an argument)
defprim("snapshot", runtime.snapshot, sig="x, /", nondiff=True, pyname="snapshot",
        shape=lambda args, kwargs: shape_of(args[0]),
        doc="runtime helper: a copy of a NumPy array (of the arrays a list or tuple holds), "
            "other values as they are.")
defprim("scalar_seed", runtime.scalar_seed, sig="out, /", nondiff=True, pyname="scalar_seed",
        shape=lambda args, kwargs: shape_of(args[0]))

# size_of(x, axis): np.size for any array type (api/specialize put it in place
# of np.size where the operand may be a dask array: dask has no np.size).
defprim("size_of", runtime.size_of, sig="a, /, axis=None", nondiff=True, pyname="size_of",
        shape=lambda args, kwargs: SCALAR, inline=True)

# ones_like/zeros_like are used by rules and by user code alike.
defprim("ones_like", np.ones_like, sig="a, /, dtype=None", nondiff=True, alloc=True,
        shape=lambda args, kwargs: shape_of(args[0]))
defprim("zeros_like", np.zeros_like, sig="a, /, dtype=None", nondiff=True, alloc=True,
        shape=lambda args, kwargs: shape_of(args[0]))
