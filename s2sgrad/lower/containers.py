"""Tuple, list and dict literals (compile-time containers), indexing them,
``xs.append``/``xs.pop`` on literal and runtime lists, and :meth:`materialize`, which
turns a compile-time value into an IR atom where a runtime value is needed."""
from __future__ import annotations

import ast
import copy
import dataclasses
import inspect
import types

import numpy as np

from .. import pytree
from ..errors import S2SGradError, UnresolvedNameError
from ..ir import Const, Var
from ..primitives import core as P
from ..primitives.indexing import Slot
from ..primitives.lists import LIST
from .values import DictVal, Hole, ObjVal, Seq, Splat, Static, TreeObj, replace_within
from .syntax import snippet


class ContainersMixin:
    def expr_Tuple(self, node):
        return Seq("tuple", self.expr_items(node.elts))

    def expr_List(self, node):
        return Seq("list", self.expr_items(node.elts))

    def expr_items(self, elts, splat=False):
        out = []
        for e in elts:
            if isinstance(e, ast.Starred):
                v = self.expr(e.value)
                if splat and isinstance(v, Var):
                    out.append(Splat(v))      # *x.shape: handled by the callee
                    continue
                if not isinstance(v, Seq):
                    raise self.unsupported(e, "'*' unpacking of a computed value",
                                           "unpack a tuple or list literal")
                out += v.items
            else:
                out.append(self.expr(e))
        return out

    def expr_Dict(self, node):
        items = {}
        for k, v in zip(node.keys, node.values):
            if k is None:
                # {**params, "b": b}: the entries of a dict whose keys are known
                # while compiling, in order (later keys override earlier ones)
                dv = self.expr(v)
                if not isinstance(dv, DictVal):
                    raise self.unsupported(node, "'**' in a dict literal of a dict whose keys "
                                                 "are known only at run time", "list the keys")
                items.update(dv.items)
                continue
            kv = self.expr(k)
            if not isinstance(kv, Const):
                raise self.unsupported(k, "a computed dict key", "use constant keys")
            items[kv.value] = self.expr(v)
        return DictVal(items)

    def container_getitem(self, base, key, node):
        if isinstance(base, DictVal):
            if base.default is not None and isinstance(key, Const) and \
                    key.value not in base.items:
                return self.default_item(base, key, node)
            if base.default is not None and not isinstance(key, Const):
                where = node if getattr(node, "lineno", None) else self.node
                raise self.unsupported(where, f"a collections.defaultdict read at the key "
                                             f"{snippet(node.slice)!s}, known only when the "
                                             f"code runs (s2sgrad follows dicts whose keys "
                                             f"are known while compiling)",
                                       "group with constant keys, or with arrays: a mask "
                                       "(labels == k), np.bincount(labels, weights=v) or "
                                       "np.add.at")
            if not isinstance(key, Const) or key.value not in base.items:
                raise self.error(node, f"key {snippet(node.slice)!s} is not in this dict",
                                 cls=S2SGradError)
            return base.items[key.value]
        if isinstance(key, Const) and isinstance(key.value, (int, slice)) and \
                not isinstance(key.value, bool):
            try:
                r = base.items[key.value]
            except IndexError:
                raise self.error(node, "index out of range", cls=S2SGradError) from None
            return Seq(base.kind, r) if isinstance(key.value, slice) else r
        items = base.items
        if items and isinstance(key, Var) and \
                all(isinstance(v, Seq) and v.kind == items[0].kind and
                    len(v.items) == len(items[0].items) and v.fields == items[0].fields
                    for v in items):
            # params[i] of a literal list of (W, b) pairs: the pair of items i of
            # the list of Ws and the list of bs (a runtime list holds arrays;
            # a tuple of differentiated arrays has no derivative rule)
            return Seq(items[0].kind,
                       [self.container_getitem(Seq(base.kind, [v.items[j] for v in items]),
                                               key, node) for j in range(len(items[0].items))],
                       items[0].fields, items[0].ntype)
        if items and isinstance(key, Var) and \
                all(isinstance(v, DictVal) and list(v.items) == list(items[0].items)
                    for v in items):
            # the same for a literal list of dicts with the same keys
            return DictVal({k: self.container_getitem(Seq(base.kind, [v.items[k] for v in items]),
                                                      key, node) for k in items[0].items})
        # a computed index into a literal list: make it a runtime value
        return self.apply_getitem(self.materialize(base, node), Slot(0), [key], node)

    def list_append(self, name_node, value_node, node):
        """``xs.append(v)``: a literal list grows while compiling; a runtime
        list (a loop carry) gets a new version."""
        base = self.load_name(name_node)
        v = self.expr(value_node)
        if isinstance(base, Seq) and base.kind == "list":
            self.rebind_container(name_node.id, base, Seq("list", base.items + [v]))
            return Const(None)
        if isinstance(base, Var) and P.shape_of(base) is LIST:
            out = self.appended(base, v, node, name_node.id)
            # as in Python, every name bound to this list object sees the
            # append (``other = hs``; a helper's parameter ``hs`` appended
            # to: the caller's ``hs`` grows too)
            self.rebind_container(name_node.id, base, out)
            return Const(None)
        raise self.unsupported(node, "'.append' on this value", "append to a list")

    def appended(self, base, v, node, hint):
        """The runtime list ``base`` with ``v`` after its items (a new
        version: ``list_append``), and the aliasing facts of holding ``v``."""
        self.refuse_ambiguous_list(base, node, "append to")
        item = self.materialize(v, node)
        if isinstance(item, Var) and P.shape_of(item) is LIST:
            # a list of runtime lists (rows built in an inner loop or
            # comprehension): each row is kept as the array np.array
            # would make of it, so cotangents stay one array per item
            item = self.em.call(P.get("stack_list"), item, axis=Const(0))
        out = self.em.call(P.get("list_append"), base, item)
        out.hint = hint
        # the list holds the array itself: a later write into it changes
        # what the list holds (refused while the list may be read)
        model = self.top.alias
        model.inherit_unknown(out, base)
        model.link_unknown(out, item)
        self.list_origin()[out] = self.list_origin().get(base, base)
        self.note_list_store(out, base, [item])
        return out

    def list_origin(self):
        """Runtime list version -> the list object it is a version of (the
        first Var of its line of appends and pops, a loop's carry taking its
        initial value's); ``None`` for one of several list objects chosen at
        run time (``other = hs if c else gs``)."""
        top = self.top
        if not hasattr(top, "_list_origin"):
            top._list_origin = {}
        return top._list_origin

    def refuse_ambiguous_list(self, base, node, what):
        if isinstance(base, Var) and base in self.list_origin() and \
                self.list_origin()[base] is None:
            raise self.unsupported(node, f"'{what}' a list that is one of several lists "
                                         f"chosen at run time (which list object changes "
                                         f"is known only then)",
                                   "append to each list by its own name in the branches")

    def list_binop(self, op, a, b, node):
        """``+``/``*`` with a list built at run time: Python's list
        operations, not NumPy's arithmetic on the arrays the lists would
        make.  ``xs + [v, w]`` is xs with the items appended (a new list);
        a list joined to another runtime list, put in front, repeated, or
        combined with a number is refused.  An array operand keeps NumPy's
        meaning (``xs + arr`` is ``np.asarray(xs) + arr``): None."""
        def rt(v):
            return isinstance(v, Var) and P.shape_of(v) is LIST
        other = b if rt(a) else a
        if not (isinstance(other, (Seq, Const)) or rt(other)):
            return None
        if isinstance(op, ast.Add) and rt(a) and isinstance(b, Seq) and b.kind == "list" \
                and b.items:
            # (not ``xs + []``: a copy of the list object, which a later
            # append to xs must not reach)
            out = a
            for item in b.items:
                out = self.appended(out, item, node, a.hint or "xs")
            return out
        sym = {ast.Add: "+", ast.Mult: "*"}.get(type(op), "this operator")
        raise self.unsupported(node, f"'{sym}' on a list built at run time (a list "
                                     f"operation, not arithmetic)",
                               "append the items one by one (xs.append(v), or "
                               "xs + [v, w] for a new list), or stack the lists into "
                               "arrays (np.stack) and use NumPy functions")

    def list_extend(self, name_node, value_node, node):
        """``xs.extend(seq)`` on a literal list, ``seq`` a tuple/list known
        while compiling (a literal, a literal list's name): the list grows by
        its items, as ``append`` one after the other."""
        base = self.load_name(name_node)
        v = self.expr(value_node)
        if base.kind != "list":
            raise self.unsupported(node, "'.extend' on a tuple", "extend a list")
        if not isinstance(v, Seq):
            raise self.unsupported(node, "'.extend' with a computed sequence",
                                   "extend with a list or tuple literal, or append in a loop")
        self.rebind_container(name_node.id, base, Seq("list", base.items + list(v.items)))
        return Const(None)

    def list_pop(self, name_node, index_node, node):
        """``xs.pop()`` / ``xs.pop(i)`` (``i`` constant): a literal list shrinks
        while compiling; a runtime list gives its last item and a new version
        without it (``list_pop``, whose adjoint appends the item's cotangent)."""
        base = self.load_name(name_node)
        index = self.expr(index_node) if index_node is not None else Const(-1)
        if isinstance(base, Seq) and base.kind == "list":
            if not isinstance(index, Const) or not isinstance(index.value, int):
                raise self.unsupported(node, "'.pop' at a computed index",
                                       "pop at a constant index")
            items = list(base.items)
            try:
                item = items.pop(index.value)
            except IndexError:
                raise self.error(node, "pop from an empty list or index out of range",
                                 cls=S2SGradError) from None
            self.rebind_container(name_node.id, base, Seq("list", items))
            return item
        if isinstance(base, Var) and P.shape_of(base) is LIST and \
                isinstance(index, Const) and index.value == -1:
            self.refuse_ambiguous_list(base, node, "pop")
            rest, item = self.em.call(P.get("list_pop"), base)
            rest.hint = name_node.id
            self.list_origin()[rest] = self.list_origin().get(base, base)
            self.top.alias.inherit_unknown(rest, base)
            if base in self.own_lists():
                self.own_lists()[rest] = self.own_lists()[base]
            if self.own_lists().get(base) != frozenset() or \
                    not self.list_owns_entries(base, None, node):
                # the array popped may be another name's or entry's (h =
                # hs[-1]; g = hs.pop(); g += 1 changes h): a write through it
                # is refused, as through hs[-1]
                self.top.list_items.add(item)
            # (every name bound to this list object sees the pop, as the append)
            self.rebind_container(name_node.id, base, rest)
            return item
        raise self.unsupported(node, "'.pop' on this value",
                               "pop the last item of a list (xs.pop())")

    def materialize(self, v, node=None, runtime_list=False):
        """Turn a compile-time value into an IR atom.  ``runtime_list``: a list
        literal becomes a runtime list (a loop carry that is appended to)."""
        if isinstance(v, (Var, Const)):
            return v
        if isinstance(v, ObjVal):
            return self.load_path(v.path)         # read live
        if isinstance(v, Static):
            obj = v.obj
            if isinstance(obj, (type, np.dtype)):
                return Const(obj)                 # a dtype argument: np.float32, float
            raise self.error(node or self.node, f"'{getattr(obj, '__name__', obj)!s}' "
                             f"({type(obj).__name__}) is used as a value here; s2sgrad can call "
                             f"functions and read modules, not pass them around as data",
                             cls=S2SGradError, construct=type(obj).__name__)
        if isinstance(v, Seq):
            atoms = [self.materialize(i, node) for i in v.items]
            if all(isinstance(a, Const) for a in atoms) and not runtime_list:
                # printed as a literal, so still a fresh list at each call
                vals = [a.value for a in atoms]
                return Const(tuple(vals) if v.kind == "tuple" else vals)
            if v.kind == "list":
                # a new list object at each site: never merged with another
                # (common subexpressions), since lists are appended to in place
                self.top.list_sites = getattr(self.top, "list_sites", 0) + 1
                out = self.em.call(P.get("list_build"), *atoms,
                                   _params={"site": self.top.list_sites})
                for a in atoms:
                    self.top.alias.link_unknown(out, a)
                self.note_list_store(out, None, atoms, container=v)
                return out
            return self.em.call(P.get("make_tuple"), *atoms)
        if isinstance(v, DictVal):
            raise self.unsupported(node or self.node, "passing a dict to a NumPy function",
                                   "pass its values")
        if isinstance(v, TreeObj):
            raise self.unsupported(node or self.node, f"passing a {type(v.obj).__name__} "
                                                      f"object to a NumPy function",
                                   "pass its fields")
        what = "a function" if type(v).__name__ == "LocalFunction" else type(v).__name__
        raise self.error(node or self.node, f"{what} is used as a value here; s2sgrad passes "
                         f"arrays, numbers and containers of them, and calls functions",
                         cls=S2SGradError, construct=what)


# ---------------------------------------------------------------- pytree objects


class TreesMixin:
    """Instances of pytree classes (dataclasses, ``register_pytree`` types)
    as arguments, built, read and returned inside the function
    (:class:`~s2sgrad.lower.values.TreeObj`)."""

    def tree_arg(self, td, leaves):
        """The TreeObj of an argument of structure ``td`` (a custom node)."""
        holes = [Hole() for _ in leaves]
        obj = pytree.unflatten(td, holes)
        return TreeObj(obj, {h.id: v for h, v in zip(holes, leaves)})

    def from_python(self, x, values, node):
        """A Python object read from a TreeObj's instance, as a lowering value."""
        if isinstance(x, Hole):
            return values[x.id]
        if pytree.node_rules(x) is not None:
            return TreeObj(x, values)
        if isinstance(x, tuple) and hasattr(x, "_fields"):
            return Seq("tuple", [self.from_python(v, values, node) for v in x],
                       fields=tuple(x._fields), ntype=type(x))
        if isinstance(x, (list, tuple)):
            return Seq("list" if isinstance(x, list) else "tuple",
                       [self.from_python(v, values, node) for v in x])
        if isinstance(x, dict):
            return DictVal({k: self.from_python(v, values, node) for k, v in x.items()})
        return self.static_value(x)

    def to_python(self, v, values, node):
        """A lowering value as a Python object for a pytree class's
        constructor: atoms become placeholders recorded in ``values``."""
        if isinstance(v, Var) or (isinstance(v, Const) and isinstance(v.value, (float, complex))):
            h = Hole()
            values[h.id] = v
            return h
        if isinstance(v, Const):
            return v.value
        if isinstance(v, TreeObj):
            values.update(v.values)
            return v.obj
        if isinstance(v, Seq):
            items = [self.to_python(x, values, node) for x in v.items]
            return list(items) if v.kind == "list" else tuple(items)
        if isinstance(v, DictVal):
            return {k: self.to_python(x, values, node) for k, x in v.items.items()}
        if isinstance(v, Static):
            return v.obj
        raise self.unsupported(node, "this value as a field of an object", "use arrays")

    def construct_tree(self, cls, args, kwargs, node):
        """``Params(w=..., b=...)`` of a pytree class: a TreeObj."""
        values = {}
        pargs = [self.to_python(a, values, node) for a in args]
        pkw = {k: self.to_python(v, values, node) for k, v in kwargs.items()}
        try:
            obj = cls(*pargs, **pkw)
        except Exception as exc:
            raise self.error(node, f"cannot build a {cls.__name__} while compiling (its "
                                   f"constructor computes on its fields: {exc}); build it "
                                   f"outside the differentiated function",
                             cls=S2SGradError) from None
        made = getattr(self.top, "made_objects", None)
        if made is None:
            made = self.top.made_objects = {}
        made[id(obj)] = obj            # (held: its id is not reused while compiling)
        return TreeObj(obj, values)

    def default_item(self, base, key, node):
        """``d[k]`` of a ``collections.defaultdict`` without the key ``k``:
        the factory's value, stored under ``k`` (Python's ``__missing__``:
        the dict object grows, so every name holding it sees the key)."""
        f = base.default
        made = {float: lambda: Const(0.0), int: lambda: Const(0), bool: lambda: Const(False),
                str: lambda: Const(""), list: lambda: Seq("list", []),
                tuple: lambda: Seq("tuple", []), dict: lambda: DictVal({})}.get(
            f.obj if isinstance(f, Static) and isinstance(f.obj, type) else None)
        value = made() if made is not None else self.call_value(f, [], {}, node)
        new = DictVal({**base.items, key.value: value}, base.default)
        memo = {}
        for env in self.envs():
            for k, v in list(env.items()):
                r = replace_within(v, lambda x: x is base, new, memo)
                if r is not v:
                    env[k] = r
        return value

    def construct_record(self, cls, args, kwargs, node):
        """``Rec(a, b)`` of a plain class of yours (``plain_record_class``),
        made in the function: an instance made while compiling, whose
        ``__init__`` is inlined with ``self`` the new object, its attribute
        assignments followed as a dataclass's field assignments are
        (``set_field``)."""
        inst = object.__new__(cls)
        made = getattr(self.top, "made_objects", None)
        if made is None:
            made = self.top.made_objects = {}
        made[id(inst)] = inst
        self.top.record_count = getattr(self.top, "record_count", 0) + 1
        key = f"$record{self.top.record_count}"
        self.env[key] = TreeObj(inst, {})
        try:
            if cls.__init__ is not object.__init__:
                self.inline(cls.__init__, [self.env[key]] + list(args), kwargs, node)
            elif args or kwargs:
                raise self.error(node, f"{cls.__name__}() takes no arguments",
                                 cls=S2SGradError)
            return self.env[key]
        finally:
            self.env.pop(key, None)

    def set_field(self, base, attr, value, node):
        """``p.b = v`` of a dataclass instance made in the function: a new
        instance with the field changed replaces ``p`` wherever the function
        holds it (names, containers, the calls being inlined), as Python's
        one mutable object would be seen.  Refused where that cannot be
        followed: an instance from outside (the caller's object would
        change), frozen, a name that is not a field, a class with its own
        ``__setattr__``, or an instance another object or a function value
        holds."""
        obj = base.obj
        cls = type(obj)
        what = f"assignment to the field .{attr} of a {cls.__name__}"
        if id(obj) not in getattr(self.top, "made_objects", {}):
            raise self.unsupported(node, f"{what} passed in or read from outside (the "
                                         f"caller's object would change)",
                                   "build a new one: dataclasses.replace(obj, field=value)")
        if not dataclasses.is_dataclass(cls):
            if not plain_record_class(cls) or \
                    hasattr(inspect.getattr_static(cls, attr, None), "__set__"):
                raise self.unsupported(node, f"{what} (a property or descriptor of the class)",
                                       "assign plain attributes only")
        elif cls.__dataclass_params__.frozen:
            raise self.error(node, f"cannot assign to field '{attr}' (the dataclass "
                                   f"{cls.__name__} is frozen)", cls=S2SGradError)
        elif attr not in {f.name for f in dataclasses.fields(obj)} or \
                cls.__setattr__ is not object.__setattr__:
            raise self.unsupported(node, f"{what} (not a field, or the class defines "
                                         f"__setattr__)", "assign declared fields only")
        for env in self.envs():
            for k, v in env.items():
                if _holds_within(v, obj):
                    raise self.unsupported(node, f"{what} that '{k.lstrip('$')}' holds "
                                                 f"inside another object or a function "
                                                 f"value", "change the object before "
                                                           "putting it in another, or use "
                                                           "dataclasses.replace")
        values = dict(base.values)
        new_obj = copy.copy(obj)
        object.__setattr__(new_obj, attr, self.to_python(value, values, node))
        self.top.made_objects[id(new_obj)] = new_obj
        new = TreeObj(new_obj, values)
        memo = {}
        for env in self.envs():
            for k, v in list(env.items()):
                r = _replace_instance(v, obj, new, memo)
                if r is not v:
                    env[k] = r

    def construct_namedtuple(self, cls, args, kwargs, node):
        """``Pair(w, b=...)`` of a namedtuple class: its fields as a Seq that
        keeps the class (a returned value is rebuilt as ``cls``)."""
        try:
            bound = inspect.signature(cls).bind(*args, **kwargs)
        except TypeError as exc:
            raise self.error(node, f"'{snippet(node)}': {exc}", cls=S2SGradError) from None
        bound.apply_defaults()
        items = [bound.arguments[f] for f in cls._fields]
        items = [v if isinstance(v, (Var, Const, Seq, DictVal, TreeObj))
                 else self.from_python(v, {}, node) for v in items]
        return Seq("tuple", items, fields=tuple(cls._fields), ntype=cls)

    def namedtuple_member(self, base, name, args, kwargs, node, call=True):
        """A method, property or ``_replace`` of a namedtuple class (``base``
        a Seq that knows its class): the user's method inlined with self =
        the tuple, as for a pytree class; None when the class defines no
        such member (the caller refuses)."""
        cls = base.ntype
        if name == "_replace" and call and not args and \
                all(k in base.fields for k in kwargs):
            items = list(base.items)
            for k, v in kwargs.items():
                items[base.fields.index(k)] = v
            return Seq(base.kind, items, base.fields, cls)
        if (name.startswith("__") and name != "__call__") or name in base.fields:
            return None
        # only members the user's class body defines (not tuple's, nor the
        # ones namedtuple generates: _make, _asdict, the field getters)
        m = next((k.__dict__[name] for k in cls.__mro__
                  if k not in (tuple, object) and name in k.__dict__ and
                  getattr(k, "__module__", None) != "collections"), None)
        if m is None or (isinstance(m, (types.FunctionType, classmethod, staticmethod)) and
                         getattr(getattr(m, "__func__", m), "__module__", None)
                         in ("collections", None)):
            return None
        if not call:
            if isinstance(m, property) and isinstance(m.fget, types.FunctionType):
                return self.inline(m.fget, [base], {}, node)
            return None
        if isinstance(m, types.FunctionType):
            return self.inline(m, [base] + list(args), kwargs, node)
        if isinstance(m, classmethod) and isinstance(m.__func__, types.FunctionType):
            return self.inline(m.__func__, [Static(cls)] + list(args), kwargs, node)
        if isinstance(m, staticmethod) and isinstance(m.__func__, types.FunctionType):
            return self.inline(m.__func__, list(args), kwargs, node)
        return None

    def tree_attr(self, base, attr, node):
        cls_attr = getattr(type(base.obj), attr, None)
        if isinstance(cls_attr, property) and cls_attr.fget is not None:
            return self.inline(cls_attr.fget, [base], {}, node)
        try:
            x = getattr(base.obj, attr)
        except AttributeError:
            raise self.error(node, f"'{snippet(node)}' does not exist",
                             cls=UnresolvedNameError) from None
        if isinstance(x, types.MethodType) and x.__self__ is base.obj:
            return Static(x)          # called below (tree_method)
        return self.from_python(x, base.values, node)

    def tree_method(self, base, name, args, kwargs, node):
        """``p.norm()``: a method of a pytree class, inlined with self = ``p``."""
        try:
            m = getattr(base.obj, name)
        except AttributeError:
            raise self.error(node, f"a {type(base.obj).__name__} object has no method "
                                   f"'{name}'", cls=UnresolvedNameError) from None
        if isinstance(m, types.MethodType) and m.__self__ is base.obj and \
                isinstance(m.__func__, types.FunctionType):
            return self.inline(m.__func__, [base] + list(args), kwargs, node)
        if isinstance(m, types.MethodType) and isinstance(m.__self__, type):
            return self.inline(m.__func__, [Static(m.__self__)] + list(args), kwargs, node)
        # a staticmethod, or a field holding a function (self.act = np.tanh)
        return self.call_value(self.from_python(m, base.values, node), list(args), kwargs,
                               node)

    def tree_leaves(self, v, node):
        """Leaves (atoms) and structure of a TreeObj, and a builder of the
        same structure from new atoms."""
        leaves, td = pytree.flatten(v.obj)
        atoms = [v.values[x.id] if isinstance(x, Hole) else self.static_value(x)
                 for x in leaves]

        def build(new):
            holes = [Hole() for _ in new]
            return TreeObj(pytree.unflatten(td, holes), {h.id: a for h, a in zip(holes, new)})
        return atoms, td, build


def plain_record_class(cls):
    """A class of yours whose instances are plain records: made by
    ``object.__new__`` (no metaclass, ``__new__``, ``__slots__`` or
    ``__setattr__`` of its own), its ``__init__`` a Python function (or
    none), so an instance made in the function is followed attribute by
    attribute (``construct_record``)."""
    return (type(cls) is type and cls.__new__ is object.__new__ and
            cls.__setattr__ is object.__setattr__ and
            not any("__slots__" in vars(k) for k in cls.__mro__) and
            not dataclasses.is_dataclass(cls) and not issubclass(cls, BaseException) and
            cls not in pytree._NODES and
            (cls.__init__ is object.__init__ or isinstance(cls.__init__, types.FunctionType)))


def _replace_instance(v, obj, new, memo=None):
    """``v`` with every TreeObj of the instance ``obj`` replaced by ``new``."""
    return replace_within(v, lambda x: isinstance(x, TreeObj) and x.obj is obj, new, memo)


def _holds_within(v, obj, depth=0):
    """``v`` holds the instance ``obj`` other than as a TreeObj of it in a
    container (which :func:`_replace_instance` replaces): inside another
    instance's fields, or in a lowering value of another kind (a partial's
    bound arguments, a nested function's defaults)."""
    if depth > 6 or isinstance(v, (Var, Const, Static, str, int, float, type(None))):
        return False
    if isinstance(v, TreeObj):
        return v.obj is not obj and _in_python(v.obj, obj, 0)
    if isinstance(v, Seq):
        return any(_holds_within(i, obj, depth + 1) for i in v.items)
    if isinstance(v, DictVal):
        return any(_holds_within(i, obj, depth + 1) for i in v.items.values())
    items = []
    if isinstance(v, (list, tuple)):
        items = list(v)
    elif isinstance(v, dict):
        items = list(v.values())
    else:
        for k in getattr(type(v), "__slots__", ()):
            items.append(getattr(v, k, None))
    return any((isinstance(i, TreeObj) and i.obj is obj) or _holds_within(i, obj, depth + 1)
               for i in items)


def _in_python(x, obj, depth):
    """The Python object ``x`` (an instance's fields) reaches ``obj``."""
    if x is obj:
        return True
    if depth > 6 or isinstance(x, (Hole, np.ndarray, str, int, float, type(None))):
        return False
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return any(_in_python(getattr(x, f.name, None), obj, depth + 1)
                   for f in dataclasses.fields(x))
    if isinstance(x, (list, tuple)):
        return any(_in_python(i, obj, depth + 1) for i in x)
    if isinstance(x, dict):
        return any(_in_python(i, obj, depth + 1) for i in x.values())
    return any(_in_python(i, obj, depth + 1) for i in getattr(x, "__dict__", {}).values())
