"""Assembly and rearrangement: atleast_*d, column_stack, dstack, append,
array_split/hsplit/vsplit/dsplit, repeat, tile, pad, roll, rollaxis, flip,
rot90, tril/triu, diagonal, take, take_along_axis, delete, insert, select,
partition, meshgrid, broadcast_arrays, linspace.

Every one of these is linear in its differentiated operands (each output
element is a copy of one input element, a sum of some, or zero), so each
tangent rule applies the function itself to the tangents, and each adjoint
is the transposed movement: a reshape back (``atleast_2d``), a cut into
pieces (``column_stack``), a sum over copies (``repeat``, ``tile``,
``broadcast_arrays``, ``meshgrid``), a scatter-add (``take``, the padding of
``pad`` with ``edge``/``reflect``/``symmetric``/``wrap``), or the inverse
rearrangement (``roll`` by ``-shift``, ``rot90`` by ``-k``, ``flip``).  The
adjoints whose bookkeeping depends on shapes are helpers in
:mod:`s2sgrad.runtime` (``untile``, ``unpad``, ...), each a primitive whose
own adjoint is the NumPy function it undoes, so any order of derivative
stays within this module.

Conventions (also in the README):

* ``take``/``take_along_axis``/``repeat``/``tile``/``pad``: an input element
  copied to several outputs receives the sum of their cotangents.
* ``pad``: ``constant_values`` is differentiable (its cotangent sums the
  entries it fills, corners going to the axis NumPy fills last); modes
  ``constant``, ``edge``, ``reflect``, ``symmetric`` and ``wrap`` (with
  ``reflect_type='even'``) are supported, pad widths in every NumPy form;
  and the statistic modes ``maximum``/``minimum`` (ties split equally),
  ``mean``, ``median`` (``stat_length`` a constant) and ``linear_ramp``
  (``end_values`` constant data), padded axis by axis as NumPy does;
  ``reflect``/``symmetric`` with ``reflect_type='odd'`` (linear: each
  axis's map is NumPy's padding of the identity).
* ``select``: the first true condition picks the operand, as in NumPy; the
  cotangent goes to that operand only (``default`` where none is true).
* ``partition``: the output is NumPy's; each output element is matched to
  the input element with the same value, ties matched in order (stable
  sorts of both), so the cotangent of a tied value goes to one of the tied
  elements -- the convention of ``sort``.
* ``linspace``: differentiable in ``start`` and ``stop`` (sample ``i`` is
  ``(1 - t_i) start + t_i stop``), also with ``retstep=True``; an integer
  ``dtype`` gives derivative 0.
* Functions returning several arrays (``atleast_1d(a, b)``,
  ``broadcast_arrays``, ``meshgrid``, ``array_split``) need a number of
  arguments or sections known when compiling and at least two results.
"""
from __future__ import annotations

import numpy as np

from ..errors import S2SGradError
from ..ir import Const
from .core import (const_value, defmethod, defprim, fresh_shape, get, needs_static,
                   register_object, shape_elementwise, shape_fresh, shape_of)
from .shape_ops import (_pieces, _reshape_to, _unjoin_jvp, _unjoin_vjp, _zeros_for_none,
                        positional_printer, single_piece, split_counter)
from .. import runtime
from .signatures import (def_linear_helper, keyword_operands, keyword_printer, method_adapter,
                         options)


def _lin(fn, t, *args, **kw):
    """The tangent of an operation linear in its first operand."""
    return None if t is None else fn(t, *args, **kw)


def _as_tuple(g):
    return g if isinstance(g, tuple) else (g,)


def _fill(em, t, like):
    """A tangent or cotangent, zeros shaped like ``like`` where it is zero (None)."""
    return t if t is not None else em.zeros_like(like)


def _like_first(args, kwargs):
    return shape_of(args[0])


def _fresh_n(nouts):
    def shape(args, kwargs):
        n = nouts(args, kwargs)
        return fresh_shape() if n == 1 else tuple(fresh_shape() for _ in range(n))
    return shape


def _neg_static(em, v):
    """``-v`` for a shift/turn count: negated at compile time when constant."""
    if isinstance(v, Const):
        if isinstance(v.value, (tuple, list)):
            return Const(tuple(-int(x) for x in v.value))
        return Const(-v.value)
    return em.negative(v)


# ---------------------------------------------------------------- atleast_1d/2d/3d


def _atleast_nouts(args, kwargs):
    if not args:
        raise S2SGradError("np.atleast_*d() needs at least one array")
    return len(args)


def _def_atleast(name, impl):
    def vjp(em, g, out, *xs):
        return [_reshape_to(em, gi, x) if gi is not None else None
                for gi, x in zip(_as_tuple(g), xs)]

    def jvp(em, dots, out, *xs):
        ts = tuple(_lin(lambda d: em.call(name, d), d) for d in dots)
        return ts if len(ts) > 1 else ts[0]

    defprim(name, impl, sig="*arys", vjp=vjp, jvp=jvp, linear=True, nouts=_atleast_nouts,
            shape=_fresh_n(_atleast_nouts),
            doc=f"np.{name}: a reshape; the cotangent is reshaped back (one result per "
                f"argument).")


_def_atleast("atleast_1d", np.atleast_1d)
_def_atleast("atleast_2d", np.atleast_2d)
_def_atleast("atleast_3d", np.atleast_3d)


# ---------------------------------------------------------------- column_stack, dstack, row_stack


def _def_joiner(name, impl, helper, helper_impl):
    def vjp(em, g, out, *xs):
        return _pieces(em, helper, g, xs)

    def jvp(em, dots, out, *xs):
        if all(d is None for d in dots):
            return None
        return em.call(name, *_zeros_for_none(em, dots, xs))

    defprim(name, impl, sig="*tup", seq_arg=True, vjp=vjp, jvp=jvp, linear=True,
            shape=shape_fresh,
            doc=f"np.{name}: the cotangent is cut back into the operands' pieces.")
    defprim(helper, helper_impl, sig="g, /, *xs", pyname=helper, vjp=_unjoin_vjp(name),
            jvp=_unjoin_jvp(helper), nouts=lambda args, kwargs: len(args) - 1,
            shape=lambda args, kwargs: tuple(shape_of(x) for x in args[1:]), linear=True,
            doc=f"runtime helper: the adjoint of np.{name} (one output per operand).")


_def_joiner("column_stack", np.column_stack, "uncolumn_stack", runtime.uncolumn_stack)
_def_joiner("dstack", np.dstack, "undstack", runtime.undstack)
if getattr(np, "row_stack", None) is not None:
    register_object(np.row_stack, get("vstack"))     # np.row_stack is np.vstack's old name


# ---------------------------------------------------------------- append


def _append_vjp(em, g, out, arr, values, axis=None):
    return list(em.call("unconcatenate", g, arr, values, axis=axis if axis is not None
                        else Const(None)))


def _append_jvp(em, dots, out, arr, values, axis=None):
    return em.append(_fill(em, dots[0], arr), _fill(em, dots[1], values),
                     **options(axis=axis))


defprim("append", np.append, sig="arr, values, /, axis=None", vjp=_append_vjp, jvp=_append_jvp,
        linear=True, shape=shape_fresh,
        doc="np.append: a concatenation (flattened for axis=None); the cotangent is cut back.")


# ---------------------------------------------------------------- array_split & co.


def _def_splitter(name, impl, joiner, with_axis):
    count = split_counter(name)

    def vjp(em, gs, outs, x, indices_or_sections, **axis):
        if all(g is None for g in gs):
            return [None]
        filled = [g if g is not None else em.zeros_like(o) for g, o in zip(gs, outs)]
        return [em.call(joiner, *filled, **axis)]

    def jvp(em, dots, outs, x, indices_or_sections, **axis):
        if dots[0] is None:
            return None
        return em.call(name, dots[0], indices_or_sections=indices_or_sections, **axis)

    sig = "ary, /, indices_or_sections" + (", axis=0" if with_axis else "")
    defprim(name, impl, sig=sig, vjp=vjp, jvp=jvp, linear=True, nouts=count, out_kind="list",
            canonicalize=single_piece,
            shape=lambda args, kwargs: tuple(fresh_shape() for _ in range(count(args, kwargs))),
            printer=positional_printer(f"np.{name}", "indices_or_sections"),
            doc=f"np.{name} (constant sections or split points): the pieces' cotangents are "
                f"joined again (np.{joiner}; zeros for unused pieces).")


_def_splitter("array_split", np.array_split, "concatenate", True)
_def_splitter("hsplit", np.hsplit, "hstack", False)
_def_splitter("vsplit", np.vsplit, "vstack", False)
_def_splitter("dsplit", np.dsplit, "dstack", False)


# ---------------------------------------------------------------- repeat, tile


def _repeat_vjp(em, g, out, a, repeats, axis=None):
    return [em.call("unrepeat", g, a, repeats, **options(axis=axis)), None]


def _repeat_jvp(em, dots, out, a, repeats, axis=None):
    return _lin(em.repeat, dots[0], repeats, **options(axis=axis))


REPEAT = defprim("repeat", np.repeat, sig="a, repeats, /, axis=None", vjp=_repeat_vjp,
                 jvp=_repeat_jvp, linear=True, shape=shape_fresh,
                 doc="np.repeat / x.repeat: each element receives the sum of its copies' "
                     "cotangents.")
def_linear_helper("unrepeat", runtime.unrepeat, "g, a, repeats, /, axis=None",
                  lambda em, h, _g, a, repeats, **kw: em.repeat(h, repeats, **kw),
                  doc="runtime helper: the adjoint of np.repeat.")
defmethod("repeat", REPEAT, method_adapter(("repeats",), ("axis",)))


defprim("tile", np.tile, sig="A, reps, /",
        vjp=lambda em, g, out, A, reps: [em.call("untile", g, A, reps), None],
        jvp=lambda em, dots, out, A, reps: _lin(em.tile, dots[0], reps),
        linear=True, shape=shape_fresh,
        doc="np.tile: each element receives the sum of its tiles' cotangents.")
def_linear_helper("untile", runtime.untile, "g, A, reps, /",
                  lambda em, h, _g, A, reps: em.tile(h, reps),
                  doc="runtime helper: the adjoint of np.tile.")


# ---------------------------------------------------------------- pad

_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")
_pad_call = keyword_operands(np.pad, ("array", "constant_values"), {"constant_values": 0})


_PAD_STAT_MODES = ("maximum", "minimum", "mean", "median", "linear_ramp")


def _static_value(v):
    """A Const for a constant or a tuple/list literal of constants (nested);
    None if a computed value is in it."""
    if isinstance(v, Const):
        return v
    items = getattr(v, "items", None)
    if type(v).__name__ != "Seq" or items is None:
        return None
    parts = [_static_value(x) for x in items]
    if any(p is None for p in parts):
        return None
    return Const(tuple(p.value for p in parts))


def _pad_canonical(args, kwargs):
    pos, kw = _pad_call(args, kwargs)
    mode = kw.get("mode", Const("constant"))
    if isinstance(mode, Const) and mode.value in _PAD_STAT_MODES:
        allowed = {"pad_width", "mode", "end_values" if mode.value == "linear_ramp" else
                   "stat_length"}
        extra = sorted(set(kw) - allowed)
        if extra or not (isinstance(pos[1], Const) and pos[1].value == 0):
            raise S2SGradError(f"np.pad(mode={mode.value!r}): the options "
                               f"{', '.join(extra) or 'constant_values'} do not apply")
        for k in ("end_values", "stat_length"):
            if k in kw:
                kw[k] = _static_value(kw[k])
                if kw[k] is None:
                    raise S2SGradError(f"np.pad's {k} must be a constant (it is data, not "
                                       f"differentiated)")
        return get("pad_stat"), [pos[0]], kw
    rt = kw.get("reflect_type", Const("even"))
    if isinstance(mode, Const) and mode.value in ("reflect", "symmetric") and \
            isinstance(rt, Const) and rt.value == "odd":
        extra = sorted(set(kw) - {"pad_width", "mode", "reflect_type"})
        if extra or not (isinstance(pos[1], Const) and pos[1].value == 0):
            raise S2SGradError(f"np.pad(mode={mode.value!r}): the options "
                               f"{', '.join(extra) or 'constant_values'} do not apply")
        return get("pad_stat"), [pos[0]], kw
    if not (isinstance(mode, Const) and mode.value in _PAD_MODES):
        shown = mode.value if isinstance(mode, Const) else "a computed value"
        needs_static(mode)
        raise S2SGradError(f"np.pad with mode={shown!r} is not supported; s2sgrad "
                           f"differentiates the modes "
                           f"{', '.join(_PAD_MODES + _PAD_STAT_MODES)} (given as a "
                           f"constant string)")
    rt = kw.pop("reflect_type", Const("even"))
    if not (isinstance(rt, Const) and rt.value == "even"):
        raise S2SGradError("np.pad with reflect_type='odd' is not supported; use the default "
                           "reflect_type='even'")
    extra = sorted(set(kw) - {"pad_width", "mode"})
    if extra:
        raise S2SGradError(f"np.pad: the options {', '.join(extra)} are not supported "
                           f"(mode {mode.value!r})")
    if mode.value != "constant" and not (isinstance(pos[1], Const) and pos[1].value == 0):
        raise S2SGradError("np.pad: constant_values is only valid with mode='constant'")
    return pos, kw


def _pad_impl(array, constant_values, pad_width, mode="constant"):
    if mode == "constant":
        return np.pad(array, pad_width, mode, constant_values=constant_values)
    return np.pad(array, pad_width, mode)


def _pad_vjp(em, g, out, array, constant_values, pad_width, mode=None):
    ct_x = em.call("unpad", g, array, pad_width=pad_width, **options(mode=mode))
    ct_c = None
    if mode is None or mode.value == "constant":
        ct_c = em.call("pad_constant_adjoint", g, array, constant_values, pad_width=pad_width)
    return [ct_x, ct_c]


def _pad_jvp(em, dots, out, array, constant_values, pad_width, mode=None):
    dc = dots[1] if dots[1] is not None else 0
    return em.pad(_fill(em, dots[0], array), dc, pad_width=pad_width, **options(mode=mode))


defprim("pad", _pad_impl, sig="array, constant_values, /, pad_width, mode=None",
        aliases=(np.pad,), canonicalize=_pad_canonical, vjp=_pad_vjp, jvp=_pad_jvp, linear=True,
        shape=shape_fresh,
        printer=keyword_printer("np.pad", ("array", "constant_values"), defaults={
            "constant_values": 0}, order=("pad_width",)),
        doc="np.pad (constant, edge, reflect, symmetric, wrap): the padding's cotangents are "
            "added back onto the elements they copy (constant_values: the sum over the "
            "entries it fills).")
def_linear_helper("unpad", runtime.unpad, "g, x, /, pad_width, mode=None",
                  lambda em, h, _g, x, **kw: em.pad(h, 0, **kw),
                  doc="runtime helper: the adjoint of np.pad with respect to the array.")
def_linear_helper("pad_constant_adjoint", runtime.pad_constant_adjoint,
                  "g, x, c, /, pad_width",
                  lambda em, h, _g, x, c, **kw: em.pad(em.zeros_like(x), h, **kw), shape_arg=2,
                  doc="runtime helper: the adjoint of np.pad with respect to constant_values.")


# np.pad's statistic and ramp modes: linear in the array for mean and
# linear_ramp (the end values are data), a selection for maximum/minimum
# (ties split equally) and median (as np.median's rule); the helpers follow
# NumPy's axis-by-axis padding.
def _pad_stat_impl(array, /, pad_width, mode, **kw):
    return np.pad(array, pad_width, mode, **kw)


def _pad_stat_kw(pad_width, mode, stat_length=None, end_values=None, reflect_type=None):
    return dict(pad_width=pad_width, mode=mode,
                **options(stat_length=stat_length, end_values=end_values,
                          reflect_type=reflect_type))


defprim("pad_stat", _pad_stat_impl, sig="array, /, pad_width, mode, stat_length=None, "
                                       "end_values=None, reflect_type=None", pyname="np.pad",
        vjp=lambda em, g, out, array, **kw: [
            em.call("pad_stat_adjoint", g, array, **_pad_stat_kw(**kw))],
        jvp=lambda em, dots, out, array, **kw:
            em.call("pad_stat_tangent", dots[0], array, **_pad_stat_kw(**kw)),
        shape=shape_fresh,
        doc="np.pad (maximum, minimum, mean, median, linear_ramp; reflect/symmetric with "
            "reflect_type='odd'): each pad block's cotangent goes to the entries its "
            "statistic, ramp or odd reflection reads.")
_PSOPTS = "pad_width, mode='mean', stat_length=None, end_values=None, reflect_type=None"
def_linear_helper("pad_stat_tangent", runtime.pad_stat_tangent, f"t, x, /, {_PSOPTS}",
                  lambda em, h, _t, x, **kw: em.call("pad_stat_adjoint", h, x, **kw),
                  shape_arg=None, doc="runtime helper: the tangent of np.pad's statistic modes.")
def_linear_helper("pad_stat_adjoint", runtime.pad_stat_adjoint, f"g, x, /, {_PSOPTS}",
                  lambda em, h, _g, x, **kw: em.call("pad_stat_tangent", h, x, **kw),
                  doc="runtime helper: the adjoint of np.pad's statistic modes.")


# ---------------------------------------------------------------- roll, rollaxis, flips, rot90


defprim("roll", np.roll, sig="a, /, shift, axis=None",
        vjp=lambda em, g, out, a, shift, axis=None: [
            em.roll(g, shift=_neg_static(em, shift), **options(axis=axis))],
        jvp=lambda em, dots, out, a, shift, axis=None: em.roll(dots[0], shift=shift,
                                                               **options(axis=axis)),
        linear=True, shape=_like_first, printer=positional_printer("np.roll", "shift"),
        doc="np.roll: the cotangent is rolled back by -shift.")


defprim("rollaxis", np.rollaxis, sig="a, /, axis, start=0",
        vjp=lambda em, g, out, a, axis, start=None: [
            em.call("unrollaxis", g, a, axis=axis, **options(start=start))],
        jvp=lambda em, dots, out, a, axis, start=None: em.rollaxis(
            dots[0], axis=axis, **options(start=start)),
        linear=True, shape=shape_fresh,
        printer=positional_printer("np.rollaxis", "axis", "start"),
        doc="np.rollaxis: the cotangent's axis is moved back.")
def_linear_helper("unrollaxis", runtime.unrollaxis, "g, a, /, axis, start=0",
                  lambda em, h, _g, a, **kw: em.rollaxis(h, **kw),
                  doc="runtime helper: the adjoint of np.rollaxis.")


def _def_self_adjoint(name, impl, sig, doc, shape=_like_first, extra=None, opts=()):
    """A rearrangement whose adjoint is itself with the same options (a flip,
    a triangular mask): the cotangent is transformed like the value."""
    def vjp(em, g, out, x, **kw):
        ct = em.call(name, g, **kw)
        return [em.unbroadcast(ct, x) if extra == "unbroadcast" else ct]

    def jvp(em, dots, out, x, **kw):
        return em.call(name, dots[0], **kw)

    return defprim(name, impl, sig=sig, vjp=vjp, jvp=jvp, linear=True, shape=shape,
                   printer=positional_printer(f"np.{name}", *opts), doc=doc)


_def_self_adjoint("flip", np.flip, "m, /, axis=None", "np.flip: its own adjoint.",
                  opts=("axis",))
_def_self_adjoint("fliplr", np.fliplr, "m, /", "np.fliplr: its own adjoint.")
_def_self_adjoint("flipud", np.flipud, "m, /", "np.flipud: its own adjoint.")
_def_self_adjoint("tril", np.tril, "m, /, k=0", "np.tril: the cotangent is masked the same way "
                  "(summed over rows for a 1-d operand).", shape=shape_fresh, extra="unbroadcast",
                  opts=("k",))
_def_self_adjoint("triu", np.triu, "m, /, k=0", "np.triu: the cotangent is masked the same way "
                  "(summed over rows for a 1-d operand).", shape=shape_fresh, extra="unbroadcast",
                  opts=("k",))


defprim("rot90", np.rot90, sig="m, /, k=1, axes=(0, 1)",
        vjp=lambda em, g, out, m, k=None, axes=None: [
            em.rot90(g, k=_neg_static(em, k if k is not None else Const(1)),
                     **options(axes=axes))],
        jvp=lambda em, dots, out, m, k=None, axes=None: em.rot90(
            dots[0], **options(k=k, axes=axes)),
        linear=True, shape=shape_fresh, printer=positional_printer("np.rot90", "k", "axes"),
        doc="np.rot90: the cotangent is turned back by -k.")


# ---------------------------------------------------------------- diagonal


def _diag_opts(offset, axis1, axis2):
    return options(offset=offset, axis1=axis1, axis2=axis2)


DIAGONAL = defprim(
    "diagonal", np.diagonal, sig="a, /, offset=0, axis1=0, axis2=1",
    vjp=lambda em, g, out, a, offset=None, axis1=None, axis2=None: [
        em.call("undiagonal", g, a, **_diag_opts(offset, axis1, axis2))],
    jvp=lambda em, dots, out, a, offset=None, axis1=None, axis2=None: em.diagonal(
        dots[0], **_diag_opts(offset, axis1, axis2)),
    linear=True, shape=shape_fresh,
    printer=positional_printer("np.diagonal", "offset", "axis1", "axis2"),
    doc="np.diagonal / x.diagonal: the cotangent is put on that diagonal of zeros.")
def_linear_helper("undiagonal", runtime.undiagonal,
                  "g, a, /, offset=0, axis1=0, axis2=1",
                  lambda em, h, _g, a, **kw: em.diagonal(h, **kw),
                  doc="runtime helper: the adjoint of np.diagonal.")
defmethod("diagonal", DIAGONAL, method_adapter((), ("offset", "axis1", "axis2")))


# ---------------------------------------------------------------- take, take_along_axis


def _take_opts(axis, mode):
    return options(axis=axis, mode=mode)


TAKE = defprim("take", np.take, sig="a, indices, /, axis=None, mode=None",
               vjp=lambda em, g, out, a, indices, axis=None, mode=None: [
                   em.call("untake", g, a, indices, **_take_opts(axis, mode)), None],
               jvp=lambda em, dots, out, a, indices, axis=None, mode=None: _lin(
                   em.take, dots[0], indices, **_take_opts(axis, mode)),
               linear=True, shape=shape_fresh,
               doc="np.take / x.take: a gather; the adjoint scatter-adds (repeated indices "
                   "accumulate; mode='wrap'/'clip' as NumPy).")
def_linear_helper("untake", runtime.untake, "g, a, indices, /, axis=None, mode=None",
                  lambda em, h, _g, a, indices, **kw: em.take(h, indices, **kw),
                  doc="runtime helper: the adjoint of np.take.")
defmethod("take", TAKE, method_adapter(("indices",), ("axis", "out", "mode")))


def _tal_axis(axis):
    return axis if axis is not None else Const(-1)


defprim("take_along_axis", np.take_along_axis, sig="arr, indices, /, axis=-1",
        vjp=lambda em, g, out, arr, indices, axis=None: [
            em.call("untake_along_axis", g, arr, indices, axis=_tal_axis(axis)), None],
        jvp=lambda em, dots, out, arr, indices, axis=None: _lin(
            em.take_along_axis, dots[0], indices, axis=_tal_axis(axis)),
        linear=True, shape=shape_fresh,
        doc="np.take_along_axis: a gather; the adjoint scatter-adds.")
def_linear_helper("untake_along_axis", runtime.untake_along_axis,
                  "g, arr, indices, /, axis=-1",
                  lambda em, h, _g, arr, indices, axis=None: em.take_along_axis(
                      h, indices, axis=_tal_axis(axis)),
                  doc="runtime helper: the adjoint of np.take_along_axis.")


# ---------------------------------------------------------------- delete, insert


defprim("delete", np.delete, sig="arr, /, obj, axis=None",
        vjp=lambda em, g, out, arr, obj, axis=None: [
            em.call("undelete", g, arr, obj=obj, **options(axis=axis))],
        jvp=lambda em, dots, out, arr, obj, axis=None: em.delete(dots[0], obj=obj,
                                                                 **options(axis=axis)),
        linear=True, shape=shape_fresh, printer=positional_printer("np.delete", "obj"),
        doc="np.delete: the kept elements receive their cotangents, the deleted ones 0.")
def_linear_helper("undelete", runtime.undelete, "g, arr, /, obj, axis=None",
                  lambda em, h, _g, arr, **kw: em.delete(h, **kw),
                  doc="runtime helper: the adjoint of np.delete.")


def _insert_impl(arr, values, obj, axis=None):
    return np.insert(arr, obj, values, axis=axis)


def _insert_printer(args, kwargs, eqn):
    from . import printing
    kwargs = dict(kwargs)
    obj = kwargs.pop("obj")
    return printing.call("np.insert", [args[0], obj, args[1]], kwargs)


defprim("insert", _insert_impl, sig="arr, values, /, obj, axis=None", aliases=(np.insert,),
        canonicalize=keyword_operands(np.insert, ("arr", "values")),
        vjp=lambda em, g, out, arr, values, obj, axis=None: list(
            em.call("uninsert", g, arr, values, obj=obj, **options(axis=axis))),
        jvp=lambda em, dots, out, arr, values, obj, axis=None: em.insert(
            _fill(em, dots[0], arr), _fill(em, dots[1], values), obj=obj, **options(axis=axis)),
        linear=True, shape=shape_fresh, printer=_insert_printer,
        doc="np.insert: differentiable in arr and values (a broadcast value receives the sum "
            "of its copies' cotangents).")


def _uninsert_vjp(em, hs, outs, g, arr, values, obj, axis=None):
    h_arr, h_val = hs
    if h_arr is None and h_val is None:
        return [None, None, None]
    return [em.insert(_fill(em, h_arr, arr), _fill(em, h_val, values), obj=obj,
                      **options(axis=axis)), None, None]


defprim("uninsert", runtime.uninsert, sig="g, arr, values, /, obj, axis=None", pyname="uninsert",
        vjp=_uninsert_vjp,
        jvp=lambda em, dots, outs, g, arr, values, obj, axis=None: _lin(
            lambda t: em.call("uninsert", t, arr, values, obj=obj, **options(axis=axis)),
            dots[0]),
        nouts=2, shape=lambda args, kwargs: (shape_of(args[1]), shape_of(args[2])), linear=True,
        doc="runtime helper: the adjoint of np.insert (cotangents of arr and values).")


# ---------------------------------------------------------------- select


def _select_canonical(args, kwargs):
    from ..lower import Seq  # late import: lower imports the primitive table
    pos, kw = keyword_operands(np.select, ("condlist", "choicelist", "default"),
                               {"default": 0})(args, kwargs)
    conds, choices, default = pos
    if not (isinstance(conds, Seq) and isinstance(choices, Seq)):
        raise S2SGradError("np.select needs its condition list and its choice list written "
                           "as list literals ([c1, c2], [x1, x2]), so the number of choices "
                           "is known when compiling")
    if len(conds.items) != len(choices.items):
        raise S2SGradError("np.select: the condition list and the choice list must have the "
                           "same length")
    kw["n"] = Const(len(conds.items))
    return list(conds.items) + list(choices.items) + [default], kw


def _select_impl(*ops, n):
    return np.select(list(ops[:n]), list(ops[n:2 * n]), ops[2 * n])


def _select_printer(args, kwargs, eqn):
    n = eqn.kwargs["n"].value
    from . import printing
    import ast
    lists = [ast.List(elts=list(args[:n]), ctx=ast.Load()),
             ast.List(elts=list(args[n:2 * n]), ctx=ast.Load())]
    d = eqn.args[2 * n]
    extra = [] if isinstance(d, Const) and isinstance(d.value, (int, float)) and d.value == 0 \
        else [args[2 * n]]
    return ast.Call(func=printing.dotted("np.select"), args=lists + extra, keywords=[])


def _select_shape(args, kwargs):
    # np.select broadcasts its conditions, choices and default together
    return shape_elementwise(args, kwargs)


def _select_vjp(em, g, out, *ops, n):
    n = n.value
    conds, choices, default = ops[:n], ops[n:2 * n], ops[2 * n]
    # which operand each element came from: the first true condition, n for none
    first = em.select(*conds, *[Const(i) for i in range(n)], Const(n), n=Const(n))
    cts = [None] * n
    for i, x in enumerate(choices + (default,)):
        cts.append(em.unbroadcast(em.where(em.equal(first, i), g, 0.0), x))
    return cts


def _select_jvp(em, dots, out, *ops, n):
    n = n.value
    ts = dots[n:]
    if all(t is None for t in ts):
        return None
    t = em.select(*ops[:n], *[d if d is not None else 0.0 for d in ts], n=Const(n))
    return em.broadcast_like(t, out)


defprim("select", _select_impl, sig="*ops, n", aliases=(np.select,), canonicalize=_select_canonical,
        vjp=_select_vjp, jvp=_select_jvp, shape=_select_shape, printer=_select_printer,
        doc="np.select(conds, choices, default): the cotangent goes to the operand the first "
            "true condition picks (default where none is).")


# ---------------------------------------------------------------- partition


def _part_axis(axis):
    return axis if axis is not None else Const(-1)


defprim("partition", np.partition, sig="a, /, kth, axis=-1, kind=None",
        vjp=lambda em, g, out, a, kth, axis=None, kind=None: [
            em.call("unpartition", g, a, out, axis=_part_axis(axis))],
        jvp=lambda em, dots, out, a, kth, axis=None, kind=None: em.call(
            "partition_like", dots[0], a, out, axis=_part_axis(axis)),
        shape=lambda args, kwargs: shape_fresh(args, kwargs),
        printer=positional_printer("np.partition", "kth"),
        doc="np.partition: a rearrangement; output elements are matched to input elements of "
            "equal value (ties in order), and the cotangent goes back along that match.")
def_linear_helper("partition_like", runtime.partition_like, "t, a, out, /, axis=-1",
                  lambda em, h, _g, a, out, axis=None: em.call(
                      "unpartition", h, a, out, axis=_part_axis(axis)), shape_arg=2,
                  doc="runtime helper: the tangent of np.partition.")
def_linear_helper("unpartition", runtime.unpartition, "g, a, out, /, axis=-1",
                  lambda em, h, _g, a, out, axis=None: em.call(
                      "partition_like", h, a, out, axis=_part_axis(axis)),
                  doc="runtime helper: the adjoint of np.partition.")


# ---------------------------------------------------------------- meshgrid, broadcast_arrays


def _several(name):
    def count(args, kwargs):
        if len(args) < 2:
            raise S2SGradError(f"np.{name} of a single array is not supported (it returns a "
                               f"1-tuple); use the array itself")
        return len(args)
    return count


_meshgrid_count = _several("meshgrid")


def _meshgrid_axis(k, n, indexing):
    """The axis of meshgrid's k-th result along which the k-th input varies."""
    xy = indexing is None or const_value(indexing, "np.meshgrid's indexing") == "xy"
    if xy and n >= 2 and k < 2:
        return 1 - k
    return k


def _meshgrid_vjp(em, gs, outs, *xs, copy=None, sparse=None, indexing=None):
    n = len(xs)
    cts = []
    for k, (g, x) in enumerate(zip(gs, xs)):
        if g is None:
            cts.append(None)
            continue
        ax = _meshgrid_axis(k, n, indexing)
        s = em.sum(g, axis=tuple(i for i in range(n) if i != ax))
        cts.append(em.reshape(s, shape=em.shape(x)))
    return cts


def _meshgrid_jvp(em, dots, outs, *xs, **kw):
    if all(d is None for d in dots):
        return None
    ts = em.meshgrid(*[_fill(em, d, x) for d, x in zip(dots, xs)],
                     **{k: v for k, v in kw.items() if v is not None})
    return tuple(t if d is not None else None for t, d in zip(ts, dots))


defprim("meshgrid", np.meshgrid, sig="*xi, copy=True, sparse=False, indexing='xy'",
        vjp=_meshgrid_vjp, jvp=_meshgrid_jvp, linear=True, nouts=_meshgrid_count,
        shape=lambda args, kwargs: tuple(fresh_shape() for _ in range(_meshgrid_count(args,
                                                                                      kwargs))),
        doc="np.meshgrid: input k's cotangent is its grid's cotangent summed over the other "
            "axes (indexing 'xy' or 'ij', sparse or dense).")


_bcast_count = _several("broadcast_arrays")


defprim("broadcast_arrays", np.broadcast_arrays, sig="*args, subok=False",
        vjp=lambda em, gs, outs, *xs, subok=None: [em.unbroadcast(g, x) for g, x in zip(gs, xs)],
        jvp=lambda em, dots, outs, *xs, subok=None: tuple(
            em.broadcast_like(d, o) if d is not None else None for d, o in zip(dots, outs)),
        linear=True, nouts=_bcast_count,
        shape=lambda args, kwargs: tuple(fresh_shape() for _ in range(_bcast_count(args,
                                                                                   kwargs))),
        doc="np.broadcast_arrays: each cotangent is summed back to its operand's shape.")


# ---------------------------------------------------------------- linspace


def _linspace_nouts(args, kwargs):
    r = kwargs.get("retstep")
    if r is None:
        return 1
    return 2 if const_value(r, "np.linspace's retstep") else 1


def _int_dtype(dtype):
    if dtype is None or (isinstance(dtype, Const) and dtype.value is None):
        return False
    try:
        return not np.issubdtype(np.dtype(const_value(dtype, "np.linspace's dtype")), np.inexact)
    except TypeError:
        return False


def _linspace_div(num, endpoint):
    n = 50 if num is None else int(const_value(num, "np.linspace's num (with retstep=True)"))
    e = True if endpoint is None else bool(const_value(endpoint, "np.linspace's endpoint"))
    return n - 1 if e else n


def _linspace_vjp(em, g, out, start, stop, num=None, endpoint=None, retstep=None, dtype=None,
                  axis=None):
    if _int_dtype(dtype):
        return [None, None]
    g, gstep = g if isinstance(g, tuple) else (g, None)
    ct_s = ct_e = None
    if g is not None:
        ct_s, ct_e = em.call("unlinspace", g, start, stop,
                             **options(num=num, endpoint=endpoint, axis=axis))
    if gstep is not None:
        # step = (stop - start) / div
        d = em.divide(gstep, _linspace_div(num, endpoint))
        ct_s = em.add_ct(ct_s, em.negative(em.unbroadcast(d, start)))
        ct_e = em.add_ct(ct_e, em.unbroadcast(d, stop))
    return [ct_s, ct_e]


def _linspace_jvp(em, dots, out, start, stop, **kw):
    if _int_dtype(kw.get("dtype")):
        return None
    return em.linspace(_fill(em, dots[0], start), _fill(em, dots[1], stop),
                       **{k: v for k, v in kw.items() if v is not None})


defprim("linspace", np.linspace, sig="start, stop, /, num=50, endpoint=True, retstep=False, "
                                     "dtype=None, axis=0",
        canonicalize=keyword_operands(np.linspace, ("start", "stop")),
        vjp=_linspace_vjp, jvp=_linspace_jvp, linear=True, nouts=_linspace_nouts,
        shape=lambda args, kwargs: (fresh_shape() if _linspace_nouts(args, kwargs) == 1
                                    else (fresh_shape(), fresh_shape())),
        printer=keyword_printer("np.linspace", ("start", "stop"), npos=2, order=("num",)),
        doc="np.linspace: differentiable in start and stop (sample i is "
            "(1 - t_i) start + t_i stop).")


def _unlinspace_vjp(em, hs, outs, g, start, stop, **kw):
    h_s, h_e = hs
    if h_s is None and h_e is None:
        return [None, None, None]
    return [em.linspace(_fill(em, h_s, start), _fill(em, h_e, stop),
                        **{k: v for k, v in kw.items() if v is not None}), None, None]


defprim("unlinspace", runtime.unlinspace, sig="g, start, stop, /, num=50, endpoint=True, axis=0",
        pyname="unlinspace", vjp=_unlinspace_vjp,
        jvp=lambda em, dots, outs, g, start, stop, **kw: _lin(
            lambda t: em.call("unlinspace", t, start, stop, **kw), dots[0]),
        nouts=2, shape=lambda args, kwargs: (shape_of(args[1]), shape_of(args[2])), linear=True,
        doc="runtime helper: the adjoint of np.linspace (cotangents of start and stop).")
