"""Compile-time values of lowering.

While a function is lowered, a name is bound either to a runtime value (an
IR atom: ``Var`` or ``Const``) or to a compile-time value that disappears
from the IR: :class:`Static` (a module, function, class or dtype),
:class:`Seq` (a tuple or list whose length is known), :class:`DictVal` (a
dict with known keys), :class:`IterVal` (``enumerate``/``zip``/``reversed``
of runtime values) and :class:`LocalFunction` (a nested ``def`` or
``lambda``, inlined at each call).
"""
from __future__ import annotations

import itertools
import numbers
import types

import numpy as np



class Static:
    """A compile-time Python object (module, function, class, dtype).
    ``path`` (a :class:`~s2sgrad.guards.Path`): where it was read from
    outside the function, if it was (its attributes are then guarded too)."""
    __slots__ = ("obj", "path", "self_value")

    def __init__(self, obj, path=None):
        self.obj = obj
        self.path = path
        self.self_value = None      # a method read from an ObjVal: its self, read through

    def __repr__(self):
        return f"Static({self.obj!r})"


class ObjVal:
    """An object reached from outside the function (a global or closed-over
    dict or namespace, a bound method's ``self``, their attributes): known
    while compiling, and at run time reachable through ``path``.  Reading
    an attribute or a constant key gives array data read live by the
    generated code, or configuration (callables, bools, ints, strings)
    resolved while compiling and guarded (:mod:`s2sgrad.guards`)."""
    __slots__ = ("obj", "path")

    def __init__(self, obj, path):
        self.obj = obj
        self.path = path

    def __repr__(self):
        return f"ObjVal({type(self.obj).__name__} at {self.path.describe()})"


class Seq:
    """A tuple or list whose structure is known at compile time (``fields``:
    a namedtuple's field names; ``ntype``: its class when known -- an argument's,
    or NumPy's result type of np.linalg.svd and its kin -- so a returned value
    is rebuilt as that class, as NumPy returns it)."""
    __slots__ = ("kind", "items", "fields", "ntype")

    def __init__(self, kind, items, fields=None, ntype=None):
        self.kind = kind
        self.items = list(items)
        self.fields = fields
        self.ntype = ntype


class IterVal:
    """A lazily indexed iterable (enumerate/zip/reversed of runtime values):
    its length as an atom, how to get item ``i`` and the runtime arrays it
    indexes (``bases``: held for the loop's duration, so a write through an
    item reaches the next items, see ``Lowerer.loop_iterable``)."""
    __slots__ = ("length", "item", "bases")

    def __init__(self, length, item, bases=()):
        self.length = length
        self.item = item
        self.bases = tuple(bases)


class DictVal:
    """A dict whose keys are known at compile time.  ``default``: the factory
    of a ``collections.defaultdict`` (a compile-time callable value), None
    for a dict."""
    __slots__ = ("items", "default")

    def __init__(self, items, default=None):
        self.items = dict(items)
        self.default = default


class LocalFunction:
    """A ``def`` or ``lambda`` inside the differentiated function.  Calls are
    inlined with the enclosing variables as they are at the call (Python's
    late binding of closures).  ``scope``: the loop variables of the
    comprehensions it was made in, as they were when each ended (Python
    keeps them in the comprehension's own scope, not the function's)."""
    __slots__ = ("node", "lowerer", "defaults", "scope")

    def __init__(self, node, lowerer):
        self.node = node
        self.lowerer = lowerer
        self.scope = {}
        # default values are evaluated where the def (or lambda) is, as in Python
        self.defaults = [lowerer.expr(d) for d in node.args.defaults]


class Hole:
    """A placeholder leaf inside a :class:`TreeObj`'s instance."""
    __slots__ = ("id",)
    _count = itertools.count()

    def __init__(self):
        self.id = next(Hole._count)

    def __repr__(self):
        return f"<leaf {self.id}>"


class TreeObj:
    """An instance of a pytree class (a dataclass, a type given to
    :func:`s2sgrad.register_pytree`) inside the function: a real instance
    (``obj``) whose array leaves are :class:`Hole` placeholders, and the
    lowering value (an atom) of each placeholder (``values``: hole id ->
    atom).  Reading an attribute reads the instance and maps placeholders
    back; methods and properties are inlined with ``self`` the TreeObj."""
    __slots__ = ("obj", "values")

    def __init__(self, obj, values):
        self.obj = obj
        self.values = values


class SliceVal:
    """``slice(a, b, c)`` with computed bounds (each part an atom or None):
    used as an index, it becomes the slice ``a:b:c``."""
    __slots__ = ("parts",)

    def __init__(self, parts):
        self.parts = list(parts)


class Splat:
    """``*v`` of a computed tuple ``v`` in a call's arguments (``randn(*x.shape)``):
    only callees that take it as one operand accept it."""
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class Transform:
    """``grad(g)``, ``value_and_grad(g, wrt=1)``, ``jvp(g)``, ... inside the
    differentiated function: calling it lowers the transformation of ``g``
    inline (:mod:`s2sgrad.lower.transforms`).  ``fn``: the lowering value of
    the function transformed (a Static, a LocalFunction or a Transform)."""
    __slots__ = ("kind", "fn", "wrt", "has_aux", "checkpoint")

    def __init__(self, kind, fn, wrt=0, has_aux=False, checkpoint=None):
        self.kind = kind
        self.fn = fn
        self.wrt = wrt
        self.has_aux = has_aux
        # grad/value_and_grad's checkpoint= (a schedule, s2sgrad.gradcall)
        self.checkpoint = checkpoint


def is_static_object(obj) -> bool:
    """Objects resolved at compile time rather than read as data at run time."""
    if isinstance(obj, np.ndarray):
        return False
    return (isinstance(obj, (types.ModuleType, type, np.dtype, types.FunctionType,
                             types.BuiltinFunctionType, np.ufunc))
            or callable(obj))


def is_namespace(obj) -> bool:
    """A dict or an object with attributes (a config, a model, a
    SimpleNamespace): read through (:class:`ObjVal`), not as a value."""
    if isinstance(obj, dict):
        return True
    if isinstance(obj, (np.ndarray, np.generic, numbers.Number, str, bytes, list, tuple,
                        types.ModuleType, type)) or callable(obj):
        return False
    if hasattr(type(obj), "__array_function__") or hasattr(type(obj), "__array__"):
        return False        # another array type (dask, CuPy): data, read live
    return hasattr(obj, "__dict__") or hasattr(type(obj), "__slots__")


def is_number(v):
    return isinstance(v, numbers.Number) and not isinstance(v, np.ndarray)


MISSING = object()


def identity_index(i):
    return i




def replace_within(v, match, new, memo=None):
    """``v`` with every value ``match`` accepts, found as ``v`` itself or
    inside its tuples, lists and dicts, replaced by ``new``; the containers
    that hold none are returned as they are (the same objects).  ``memo``
    (shared by calls over several names): a container two names hold is
    rebuilt once, so they still hold one object."""
    if match(v):
        return new
    if memo is not None and isinstance(v, (Seq, DictVal)) and id(v) in memo:
        return memo[id(v)][1]
    out = v
    if isinstance(v, Seq):
        items = [replace_within(i, match, new, memo) for i in v.items]
        if any(a is not b for a, b in zip(items, v.items)):
            out = Seq(v.kind, items, v.fields, v.ntype)
    elif isinstance(v, DictVal):
        items = {k: replace_within(i, match, new, memo) for k, i in v.items.items()}
        if any(items[k] is not v.items[k] for k in items):
            out = DictVal(items, v.default)
    if memo is not None and isinstance(v, (Seq, DictVal)):
        memo[id(v)] = (v, out)
    return out
