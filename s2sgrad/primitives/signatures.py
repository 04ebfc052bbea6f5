"""Calls whose NumPy spelling differs from the primitive's operand list, and
the linear runtime helpers that the rules of such functions emit.

A primitive's operands are positional; everything else is a static option.
Some NumPy functions take a *differentiable* value by keyword
(``np.average(a, weights=w)``, ``np.diff(a, prepend=p)``,
``np.pad(x, 1, constant_values=c)``, ``np.trapezoid(y, x=x)``).  For those,
:func:`keyword_operands` binds the call exactly as Python would bind it to the
NumPy function's own signature, then moves the named operands to the front
(in a fixed order, an absent one as ``Const(None)`` or its default), and
:func:`keyword_printer` spells the equation back as the NumPy call.  The
primitive's ``impl`` takes the operands positionally, so it is a small
wrapper; the NumPy function itself is registered as an alias so user code
resolves to the primitive.
"""
from __future__ import annotations

import ast
import inspect

from ..errors import S2SGradError
from ..ir import Const
from . import printing
from .core import defprim, fresh_shape, shape_of, signature_of


def keyword_operands(np_fn, operands, defaults=None, name=None):
    """A ``canonicalize`` hook (see :class:`~s2sgrad.primitives.core.Primitive`)
    for calls of ``np_fn``: ``operands`` (parameter names) become the
    positional operands, the other arguments stay options by name."""
    sig = signature_of(np_fn)
    defaults = dict(defaults or {})
    label = name or f"np.{np_fn.__name__}"

    def canonicalize(args, kwargs):
        try:
            ba = sig.bind(*args, **kwargs)
        except TypeError as exc:
            raise S2SGradError(f"unsupported arguments in a call of {label}: {exc}") from None
        given = {}
        for pname, value in ba.arguments.items():
            kind = sig.parameters[pname].kind
            if kind == inspect.Parameter.VAR_KEYWORD:
                given.update(value)
            elif kind == inspect.Parameter.VAR_POSITIONAL:
                raise S2SGradError(f"unsupported arguments in a call of {label}")
            else:
                given[pname] = value
        pos = [given.pop(n) if n in given else Const(defaults.get(n)) for n in operands]
        return pos, given

    return canonicalize


def method_adapter(operands=(), options=()):
    """An adapter for an ndarray method ``x.m(operands..., options...)``:
    positional arguments after ``self`` fill ``operands`` then ``options``
    (as :func:`~s2sgrad.primitives.reductions.positional_adapter` names
    them); the operands are then moved into place."""
    from .reductions import positional_adapter
    by_name = positional_adapter(*operands, *options)

    def adapter(args, kwargs):
        args, kwargs = by_name(args, kwargs)
        missing = [n for n in operands if n not in kwargs]
        if missing:
            raise TypeError(f"missing required argument {missing[0]!r}")
        return list(args) + [kwargs.pop(n) for n in operands], kwargs

    return adapter


def _is_default(atom, default):
    if not isinstance(atom, Const):
        return False
    v = atom.value
    if v is None:
        return True
    return isinstance(v, (bool, int, float, str)) and type(v) is type(default) and v == default


def keyword_printer(pyname, operands, npos=1, defaults=None, order=None):
    """Print ``pyname(op_0, ..., op_npos-1, name=op, ..., option=...)``:
    the first ``npos`` operands positionally, the others by name unless
    absent (``Const(None)``) or equal to ``defaults[name]``.  ``order``
    (option names) are printed positionally right after the positional
    operands, while present."""
    defaults = dict(defaults or {})

    def printer(args, kwargs, eqn):
        pos = list(args[:npos])
        kwargs = dict(kwargs)
        for opt in order or ():
            if opt not in kwargs:
                break
            pos.append(kwargs.pop(opt))
        keywords = []
        for name, printed, atom in zip(operands[npos:], args[npos:], eqn.args[npos:]):
            if _is_default(atom, defaults.get(name)):
                continue
            keywords.append(ast.keyword(arg=name, value=printed))
        keywords += [ast.keyword(arg=k, value=v) for k, v in kwargs.items()]
        return ast.Call(func=printing.dotted(pyname), args=pos, keywords=keywords)

    return printer


def options(**kw):
    """Keyword options with the ones left at ``None`` (not passed) dropped."""
    return {k: v for k, v in kw.items() if v is not None}


def def_linear_helper(name, impl, sig, transpose, *, shape_arg=1, doc=""):
    """Register the runtime helper ``name(g, *data, **options)``, linear in
    ``g`` (``data`` only supplies shapes, indices or a permutation): its
    tangent is itself applied to the tangent of ``g``, its adjoint is
    ``transpose(em, h, g, *data, **options)`` (``g`` only for its shape) --
    the NumPy operation it undoes (``untile``'s is ``np.tile``).  Its result
    is shaped like operand ``shape_arg`` (None: unknown)."""
    def vjp(em, h, out, g, *data, **kw):
        return [transpose(em, h, g, *data, **kw)] + [None] * len(data)

    def jvp(em, dots, out, g, *data, **kw):
        return None if dots[0] is None else em.call(name, dots[0], *data, **kw)

    def shape(args, kwargs):
        return fresh_shape() if shape_arg is None else shape_of(args[shape_arg])

    return defprim(name, impl, sig=sig, pyname=name, vjp=vjp, jvp=jvp, linear=True,
                   shape=shape, doc=doc)
