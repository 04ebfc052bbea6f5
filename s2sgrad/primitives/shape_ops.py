"""Shape manipulation: transpose, reshape, squeeze, concatenate, stack, split, astype, ...

All of these only move (or copy) elements, so each adjoint is the inverse
movement applied to the cotangent: ``reshape`` back to the operand's shape,
``transpose`` by the inverse permutation, ``concatenate`` cut back into
pieces, ``broadcast_to`` summed back with ``unbroadcast``.  Tangents move
exactly like the values.

Options that NumPy's functions and methods do not accept under the same
keyword (``reshape``'s shape was ``newshape`` before NumPy 2.1, ndarray
methods take ``transpose``/``swapaxes`` axes positionally only) are printed
positionally.

``astype``: the derivative passes through (cast back to the operand's
dtype) for a float/complex target dtype and is zero for integer and bool
targets; when the dtype is a computed value the choice is made at run time
(``cast_derivative``), never guessed at compile time.
"""
from __future__ import annotations

import ast

import numpy as np

from .. import runtime
from ..errors import S2SGradError
from ..ir import Const
from . import printing
from .core import (const_value, defattr, defmethod, defprim, fresh_shape, get,
                   shape_fresh, shape_of)
from .reductions import positional_adapter


def _given(v):
    return v is not None and not (isinstance(v, Const) and v.value is None)


def positional_printer(name, *positional):
    """Print the options in ``positional`` (in order, while present) as
    positional arguments after the operands, the rest as keywords; method
    (``x.reshape(...)``) and attribute (``x.T``) spellings are kept."""
    def printer(args, kwargs, eqn):
        spelling = eqn.params.get("spelling")
        if spelling and spelling[0] == "attr":
            return ast.Attribute(value=args[0], attr=spelling[1], ctx=ast.Load())
        kwargs = dict(kwargs)
        extra = []
        for opt in positional:
            if opt not in kwargs:
                break
            extra.append(kwargs.pop(opt))
        keywords = [ast.keyword(arg=k, value=v) for k, v in kwargs.items()]
        if spelling and spelling[0] == "method":
            return ast.Call(func=ast.Attribute(value=args[0], attr=spelling[1], ctx=ast.Load()),
                            args=list(args[1:]) + extra, keywords=keywords)
        return ast.Call(func=printing.dotted(name), args=list(args) + extra, keywords=keywords)
    return printer


def _seq_method_adapter(option):
    """``x.reshape(3, 4)`` / ``x.reshape((3, 4))`` / ``x.transpose(1, 0)``:
    several positional arguments form one tuple option."""
    def adapter(args, kwargs):
        from ..lower import Seq  # late import: lower imports the primitive table
        self_, rest = args[0], list(args[1:])
        kwargs = dict(kwargs)
        if len(rest) > 1:
            kwargs[option] = Seq("tuple", rest)
        elif len(rest) == 1:
            kwargs[option] = rest[0]
        return [self_], kwargs
    return adapter


def _zeros_for_none(em, dots, xs):
    """Tangents of a multi-operand op with the missing (zero) ones filled in."""
    return [d if d is not None else em.zeros_like(x) for d, x in zip(dots, xs)]


def _reshape_to(em, g, x, order=None):
    kw = {"order": order} if order is not None else {}
    return em.reshape(g, shape=em.shape(x), **kw)


# ---------------------------------------------------------------- transpose


def _inverse_perm(axes):
    perm = axes.value
    perm = tuple(perm) if isinstance(perm, (tuple, list, np.ndarray)) else (perm,)
    n = len(perm)
    inv = [0] * n
    for i, a in enumerate(perm):
        inv[a % n] = i
    return tuple(inv)


def _transpose_vjp(em, g, out, x, axes=None):
    if not _given(axes):
        return [em.transpose(g)]       # reversing the axes is its own inverse
    if isinstance(axes, Const):
        return [em.transpose(g, axes=_inverse_perm(axes))]
    # axes computed at run time (or a list): invert the permutation there
    perm = em.remainder(em.asarray(axes), em.ndim(x))       # negative axes counted from 0
    return [em.transpose(g, axes=em.argsort(perm))]


def _transpose_jvp(em, dots, out, x, axes=None):
    return em.transpose(dots[0], **({"axes": axes} if axes is not None else {}))


TRANSPOSE = defprim("transpose", np.transpose, sig="a, /, axes=None",
                    vjp=_transpose_vjp, jvp=_transpose_jvp, linear=True, shape=shape_fresh,
                    printer=positional_printer("np.transpose", "axes"),
                    doc="np.transpose / x.T: the cotangent is transposed back by the inverse "
                        "permutation.")
defattr("T", TRANSPOSE)


# x.mT / np.matrix_transpose: the last two axes swapped (its own adjoint)
def _mt_impl(x, /):
    return np.swapaxes(x, -1, -2)


MATRIX_T = defprim("matrix_transpose", _mt_impl, sig="x, /", pyname="np.matrix_transpose",
                   aliases=tuple(f for f in (getattr(np, "matrix_transpose", None),
                                             getattr(np.linalg, "matrix_transpose", None))
                                 if f is not None),
                   vjp=lambda em, g, out, x: [em.call("matrix_transpose", g)],
                   jvp=lambda em, dots, out, x: em.call("matrix_transpose", dots[0]),
                   linear=True, shape=shape_fresh,
                   doc="np.matrix_transpose / x.mT: the cotangent is transposed back.")
defattr("mT", MATRIX_T)


def _swapaxes_vjp(em, g, out, x, axis1, axis2):
    return [em.swapaxes(g, axis1=axis1, axis2=axis2)]


def _swapaxes_jvp(em, dots, out, x, axis1, axis2):
    return em.swapaxes(dots[0], axis1=axis1, axis2=axis2)


defprim("swapaxes", np.swapaxes, sig="a, /, axis1, axis2",
        vjp=_swapaxes_vjp, jvp=_swapaxes_jvp, linear=True, shape=shape_fresh,
        printer=positional_printer("np.swapaxes", "axis1", "axis2"),
        doc="np.swapaxes: its own inverse.")


def _moveaxis_vjp(em, g, out, x, source, destination):
    return [em.moveaxis(g, source=destination, destination=source)]


def _moveaxis_jvp(em, dots, out, x, source, destination):
    return em.moveaxis(dots[0], source=source, destination=destination)


defprim("moveaxis", np.moveaxis, sig="a, /, source, destination",
        vjp=_moveaxis_vjp, jvp=_moveaxis_jvp, linear=True, shape=shape_fresh,
        printer=positional_printer("np.moveaxis", "source", "destination"),
        doc="np.moveaxis: the cotangent is moved back (destination -> source).")


# ---------------------------------------------------------------- reshape family


def _reshape_vjp(em, g, out, x, shape, order=None):
    return [_reshape_to(em, g, x, order)]


def _reshape_jvp(em, dots, out, x, shape, order=None):
    kw = {"order": order} if order is not None else {}
    return em.reshape(dots[0], shape=shape, **kw)


def _layout_order(pos):
    """canonicalize for reshape/ravel: order='A'/'K' (C or F, or memory
    order, by the operand's layout at run time) is refused -- the adjoint's
    reshape of a cotangent (whose layout is its own) would use another
    order, a wrong derivative; a write through the result another element
    mapping."""
    def canonicalize(args, kwargs):
        order = kwargs.get("order", args[pos] if len(args) > pos else None)
        if isinstance(order, Const) and order.value not in (None, "C", "F"):
            raise S2SGradError(f"order={order.value!r} (an element order chosen by the "
                               f"operand's memory layout at run time) is not supported; "
                               f"use order='C' or order='F'")
        return args, kwargs
    return canonicalize


defprim("reshape", np.reshape, sig="a, /, shape, order=None", canonicalize=_layout_order(2),
        vjp=_reshape_vjp, jvp=_reshape_jvp, linear=True, shape=shape_fresh,
        printer=positional_printer("np.reshape", "shape"),
        doc="np.reshape: the cotangent is reshaped to the operand's shape (so -1 is fine).")


def _ravel_vjp(em, g, out, x, order=None):
    return [_reshape_to(em, g, x, order)]


def _ravel_jvp(em, dots, out, x, order=None):
    return em.ravel(dots[0], **({"order": order} if order is not None else {}))


defprim("ravel", np.ravel, sig="a, /, order=None", canonicalize=_layout_order(1),
        vjp=_ravel_vjp, jvp=_ravel_jvp, linear=True, shape=shape_fresh,
        printer=positional_printer("np.ravel"),
        doc="np.ravel / x.flatten(): the cotangent is reshaped back.")


def _squeeze_vjp(em, g, out, x, axis=None):
    return [_reshape_to(em, g, x)]


def _squeeze_jvp(em, dots, out, x, axis=None):
    return em.squeeze(dots[0], **({"axis": axis} if axis is not None else {}))


defprim("squeeze", np.squeeze, sig="a, /, axis=None",
        vjp=_squeeze_vjp, jvp=_squeeze_jvp, linear=True, shape=shape_fresh,
        printer=positional_printer("np.squeeze"),
        doc="np.squeeze: the cotangent is reshaped back.")


def _expand_dims_vjp(em, g, out, x, axis):
    # the inserted axes, counted in the output's rank, are exactly the ones to
    # squeeze; np.squeeze takes only an int or a tuple (not a list) there
    if isinstance(axis, Const) and isinstance(axis.value, (int, tuple)):
        return [em.squeeze(g, axis=axis)]
    return [_reshape_to(em, g, x)]


def _expand_dims_jvp(em, dots, out, x, axis):
    return em.expand_dims(dots[0], axis=axis)


defprim("expand_dims", np.expand_dims, sig="a, /, axis",
        vjp=_expand_dims_vjp, jvp=_expand_dims_jvp, linear=True, shape=shape_fresh,
        printer=positional_printer("np.expand_dims", "axis"),
        doc="np.expand_dims: the cotangent is squeezed over the inserted axes.")


def _broadcast_to_vjp(em, g, out, x, shape):
    return [em.unbroadcast(g, x)]


def _broadcast_to_jvp(em, dots, out, x, shape):
    return em.broadcast_to(dots[0], shape=shape)


defprim("broadcast_to", np.broadcast_to, sig="array, /, shape",
        vjp=_broadcast_to_vjp, jvp=_broadcast_to_jvp, linear=True, shape=shape_fresh,
        printer=positional_printer("np.broadcast_to", "shape"),
        doc="np.broadcast_to: the cotangent is summed back over the broadcast axes.")


# ---------------------------------------------------------------- astype


def _float_target(dtype):
    """True/False for a constant dtype, None when it is only known at run time."""
    if not isinstance(dtype, Const):
        return None
    try:
        return runtime.casts_derivative(dtype.value)
    except TypeError:
        raise S2SGradError(f"astype: {dtype.value!r} is not a dtype") from None
    except ValueError as exc:
        raise S2SGradError(str(exc), construct="astype to a non-numeric dtype") from None


def _astype_vjp(em, g, out, x, dtype):
    flt = _float_target(dtype)
    if flt is None:
        return [em.call("cast_derivative", g, dtype=dtype, to=em.result_type(x))]
    if not flt:
        return [None]
    if isinstance(g, Const):
        return [g]          # a Python number has no dtype to restore
    if np.issubdtype(np.dtype(dtype.value), np.complexfloating):
        # x may be real: its cotangent is then the real part (cast_derivative)
        return [em.call("cast_derivative", g, dtype=dtype, to=em.result_type(x))]
    # the result is real: only the real part of a complex cotangent (an
    # fft's, before the argument's real_if_complex) pairs with it
    return [em.astype(em.real_if_complex(g), dtype=em.result_type(x))]


def _astype_jvp(em, dots, out, x, dtype):
    flt = _float_target(dtype)
    if flt is None:
        return em.call("cast_derivative", dots[0], dtype=dtype, to=dtype)
    return em.astype(dots[0], dtype=dtype) if flt else None


_BUILTIN_DTYPES = (float, int, bool, complex)


def _astype_printer(args, kwargs, eqn):
    # x.astype(dtype) as the user wrote it; otherwise np.asarray(x, dtype=...),
    # which also casts Python numbers and exists in every NumPy (np.astype is 2.1+).
    dtype = kwargs["dtype"]
    d = eqn.kwargs["dtype"]
    if isinstance(d, Const) and any(d.value is t for t in _BUILTIN_DTYPES):
        dtype = ast.Name(id=d.value.__name__, ctx=ast.Load())      # x.astype(float)
    spelling = eqn.params.get("spelling")
    if spelling and spelling[0] == "method":
        return ast.Call(func=ast.Attribute(value=args[0], attr=spelling[1], ctx=ast.Load()),
                        args=[dtype], keywords=[])
    return printing.call("np.asarray", [args[0]], {"dtype": dtype})


def _astype_impl(x, dtype):
    # (np.astype takes dtype positionally only; equations pass it by name)
    return np.asarray(x).astype(dtype)


defprim("astype", _astype_impl, aliases=(np.astype,) if hasattr(np, "astype") else (),
        sig="x, /, dtype",
        vjp=_astype_vjp, jvp=_astype_jvp, shape=lambda args, kwargs: shape_of(args[0]),
        printer=_astype_printer,
        doc="x.astype(dtype): derivative passes through for float targets (cast back to "
            "x's dtype), zero for integer/bool targets; decided at run time when dtype "
            "is computed.")


# cast_derivative(t, dtype, to): t cast to `to` if dtype is inexact, else zeros.
# Linear in t; the adjoint casts back to t's dtype under the same condition.
defprim("cast_derivative", runtime.cast_derivative, sig="t, /, dtype, to",
        pyname="cast_derivative",
        vjp=lambda em, h, out, t, dtype, to: [
            em.call("cast_derivative", h, dtype=dtype, to=em.result_type(t))],
        jvp=lambda em, dots, out, t, dtype, to: em.call("cast_derivative", dots[0],
                                                        dtype=dtype, to=to),
        shape=lambda args, kwargs: shape_of(args[0]), linear=True,
        doc="runtime helper: the derivative of astype with a dtype known only at run time.")


# in_place_result(new, cur): x op= v's value, new = x op v kept in x's dtype and
# shape when x is an array (runtime.in_place_result).  Linear in new; the
# cotangent goes back in new's dtype (the same helper, shaped like new).
# ``layout=True`` (the primal write only): also in x's memory order, as NumPy's
# x keeps its strides (derivatives are not observed through their layout).
defprim("in_place_result", runtime.in_place_result, sig="new, cur, /, layout=False",
        pyname="in_place_result",
        vjp=lambda em, h, out, new, cur, layout=None: [em.call("in_place_result", h, new),
                                                       None],
        jvp=lambda em, dots, out, new, cur, layout=None: None if dots[0] is None else
        em.call("in_place_result", dots[0], cur),
        shape=lambda args, kwargs: shape_of(args[0]), linear=True,
        doc="runtime helper: x op= v on an array keeps x's dtype (NumPy's same_kind cast) "
            "and shape (and, with layout=True, x's memory order).")


# ---------------------------------------------------------------- joining


def _pieces(em, helper, g, xs, **kw):
    """Cut g into cotangents shaped like xs with a multi-output helper."""
    if len(xs) == 1:
        return [_reshape_to(em, g, xs[0])]
    return list(em.call(helper, g, *xs, **kw))


def _concatenate_vjp(em, g, out, *xs, axis=0):
    return _pieces(em, "unconcatenate", g, xs, axis=axis)


def _concatenate_jvp(em, dots, out, *xs, axis=0):
    if all(d is None for d in dots):
        return None
    return em.concatenate(*_zeros_for_none(em, dots, xs), axis=axis)


defprim("concatenate", np.concatenate, sig="*arrays, axis=0", seq_arg=True,
        vjp=_concatenate_vjp, jvp=_concatenate_jvp, linear=True, shape=shape_fresh,
        doc="np.concatenate: the cotangent is cut back into the operands' pieces "
            "(axis=None flattens).")


def _hv_prim(name, impl, helper):
    def vjp(em, g, out, *xs):
        return _pieces(em, helper, g, xs)

    def jvp(em, dots, out, *xs):
        if all(d is None for d in dots):
            return None
        return em.call(name, *_zeros_for_none(em, dots, xs))

    return defprim(name, impl, sig="*tup", seq_arg=True, vjp=vjp, jvp=jvp, linear=True,
                   shape=shape_fresh,
                   doc=f"np.{name}: the cotangent is cut back into the operands' pieces.")


_hv_prim("hstack", np.hstack, "unhstack")
_hv_prim("vstack", np.vstack, "unvstack")


def _nouts_xs(args, kwargs):
    return len(args) - 1


def _shapes_of_xs(args, kwargs):
    return tuple(shape_of(x) for x in args[1:])


def _unjoin_vjp(joiner, **fixed):
    # the adjoint of cutting g into pieces is joining the pieces' cotangents
    def vjp(em, hs, out, g, *xs, **kw):
        hs = hs if isinstance(hs, tuple) else (hs,)
        if all(h is None for h in hs):
            return [None] * (1 + len(xs))
        filled = [h if h is not None else em.zeros_like(o)
                  for h, o in zip(hs, out if isinstance(out, tuple) else (out,))]
        return [em.call(joiner, *filled, **kw)] + [None] * len(xs)
    return vjp


def _unjoin_jvp(helper):
    def jvp(em, dots, out, g, *xs, **kw):
        if dots[0] is None:
            return None
        return em.call(helper, dots[0], *xs, **kw)
    return jvp


for _helper, _joiner, _sig in [("unconcatenate", "concatenate", "g, /, *xs, axis=0"),
                               ("unhstack", "hstack", "g, /, *xs"),
                               ("unvstack", "vstack", "g, /, *xs")]:
    defprim(_helper, getattr(runtime, _helper), sig=_sig, pyname=_helper,
            vjp=_unjoin_vjp(_joiner), jvp=_unjoin_jvp(_helper), nouts=_nouts_xs,
            shape=_shapes_of_xs, linear=True,
            doc=f"runtime helper: the adjoint of np.{_joiner} (one output per operand).")


def _stack_index(axis, i):
    """The index template selecting entry ``i`` along ``axis`` (g[:, i], g[..., i])."""
    a = axis if isinstance(axis, int) else const_value(axis, "the axis of np.stack")
    if a >= 0:
        return (slice(None),) * a + (i,) if a else i
    return (Ellipsis, i) + (slice(None),) * (-a - 1)


def _stack_vjp(em, g, out, *xs, axis=0):
    return [em.call("getitem", g, _params={"index": _stack_index(axis, i)})
            for i in range(len(xs))]


def _stack_jvp(em, dots, out, *xs, axis=0):
    if all(d is None for d in dots):
        return None
    return em.stack(*_zeros_for_none(em, dots, xs), axis=axis)


defprim("stack", np.stack, sig="*arrays, axis=0", seq_arg=True,
        vjp=_stack_vjp, jvp=_stack_jvp, linear=True, shape=shape_fresh,
        doc="np.stack: operand i receives the cotangent's entry i along axis "
            "(axis must be constant).")


# ---------------------------------------------------------------- split


def split_counter(name):
    """The number of pieces of ``np.<name>(x, indices_or_sections)``, which must
    be known when compiling (and at least 2: a 1-list is not an array)."""
    def count(args, kwargs):
        ios = kwargs.get("indices_or_sections")
        if not isinstance(ios, Const):
            raise S2SGradError(f"np.{name} needs a constant number of sections or a constant "
                               f"list of split points, so the number of pieces is known when "
                               f"the gradient is compiled")
        v = ios.value
        n = len(v) + 1 if isinstance(v, (list, tuple, np.ndarray)) else int(v)
        if n < 2:
            raise S2SGradError(f"np.{name} into a single piece is not supported; use the array "
                               f"itself (x[None] / np.expand_dims if a list is needed)")
        return n
    return count


def single_piece(args, kwargs):
    """A ``canonicalize`` hook of np.split and its kin: a split into one piece
    (1 section, or no split points) is the list ``[ary]`` (a one-element
    list, where a multi-output primitive would give an array)."""
    ios = args[1] if len(args) > 1 else kwargs.get("indices_or_sections")
    if type(ios).__name__ == "Seq" and not ios.items and args:
        return get("list_build"), [args[0]], {}          # a literal [] of split points
    if isinstance(ios, Const) and len(args) >= 1:
        v = ios.value
        if (isinstance(v, (list, tuple)) and len(v) == 0) or \
                (isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v == 1):
            return get("list_build"), [args[0]], {}
    return args, kwargs


_split_count = split_counter("split")


def _split_vjp(em, gs, outs, x, indices_or_sections, axis=0):
    if all(g is None for g in gs):
        return [None]
    filled = [g if g is not None else em.zeros_like(o) for g, o in zip(gs, outs)]
    return [em.concatenate(*filled, axis=axis)]


def _split_jvp(em, dots, outs, x, indices_or_sections, axis=0):
    if dots[0] is None:
        return None
    return em.split(dots[0], indices_or_sections=indices_or_sections, axis=axis)


defprim("split", np.split, sig="ary, /, indices_or_sections, axis=0",
        vjp=_split_vjp, jvp=_split_jvp, linear=True, nouts=_split_count, out_kind="list",
        canonicalize=single_piece,
        shape=lambda args, kwargs: tuple(fresh_shape() for _ in range(_split_count(args,
                                                                                    kwargs))),
        printer=positional_printer("np.split", "indices_or_sections"),
        doc="np.split (constant sections or split points): the pieces' cotangents are "
            "concatenated (zeros for unused pieces).")


# ---------------------------------------------------------------- methods

defmethod("reshape", get("reshape"), _seq_method_adapter("shape"))
defmethod("transpose", TRANSPOSE, _seq_method_adapter("axes"))
defmethod("swapaxes", get("swapaxes"), positional_adapter("axis1", "axis2"))
defmethod("ravel", get("ravel"), positional_adapter("order"))
defmethod("flatten", get("ravel"), positional_adapter("order"))
defmethod("squeeze", get("squeeze"), positional_adapter("axis"))


def _astype_adapter(args, kwargs):
    # x.astype(dtype, order, casting, subok, copy): order/subok do not change
    # the values, so they are dropped; casting= (which can refuse a cast) is refused.
    # copy= stays for the lowering: copy=False returns x itself when it already
    # has the dtype (a write through the result is a write into x), which is
    # np.asarray(x, dtype) (see lower/calls.py).
    args, kwargs = positional_adapter("dtype", "order", "casting", "subok", "copy")(args, kwargs)
    return args, {k: v for k, v in kwargs.items() if k not in ("order", "subok")}


defmethod("astype", get("astype"), _astype_adapter)


def _clip_adapter(args, kwargs):
    # ndarray.clip(min, max) -> np.clip's a_min / a_max
    renamed = {{"min": "a_min", "max": "a_max"}.get(k, k): v for k, v in kwargs.items()}
    return positional_adapter("a_min", "a_max")(args, renamed)


defmethod("clip", get("clip"), _clip_adapter)
