"""Name resolution: locals, then the function's closure cells, globals and
builtins (:class:`~s2sgrad.frontend.Resolver`), and what is reached from
them through attributes and constant keys.

What comes from outside the function is either

* **read live** by the generated code: arrays, floats, NumPy scalars and
  lists (a global ``W``, ``self.W``, ``CONFIG["lr"]``, ``mymodule.EPS``),
  through ``load_global``/``load_cell``/``load_object``/``load_attr``/
  ``load_item`` equations in the prologue, printed where they are used; or
* **resolved while compiling and guarded** (:mod:`s2sgrad.guards`):
  modules, functions, classes, dtypes and other callables (which helper a
  name calls, ``act = np.tanh``), ``None``/bool/str values (a ``TRAIN``
  flag, a loss name), and ints reached through an attribute or a key
  (``cfg.n_layers``, ``CONFIG["depth"]``; a global int *name* is read live).
  Each such read is recorded with the path it was read through, and the API
  checks the path still gives the same object (identity; type and value
  for immutables) before running the compiled code, recompiling if not.

Dicts and objects with attributes (a config, a model's ``self``) are
:class:`~s2sgrad.lower.values.ObjVal`: read through, never a value.  An
object of the user's class passed as an argument is one too, rooted at its
parameter (``("arg", Var, name)``): its arrays are read from the argument,
and what would be a guard on it is recorded in ``arg_guards`` instead, for
the argument's cache key (:class:`s2sgrad.api.ObjectArg`).
Attributes of library modules (``np.exp``, ``math.pi``) are not guarded.
Nothing else becomes a constant: an object s2sgrad cannot read live or
resolve is refused at the user's line.
"""
from __future__ import annotations

import types

import numpy as np

from ..errors import UnknownFunctionError, UnresolvedNameError, UnsupportedSyntaxError
from ..guards import Path, is_library
from ..ir import Const, Var
from ..primitives import core as P
from ..primitives.random import TOKENS as _RNG_TOKENS, rng_kind
from .values import ObjVal, Seq, Static, is_namespace, is_number, is_static_object


# np.r_, np.c_, np.s_, np.index_exp, np.mgrid, np.ogrid: objects used by
# subscripting them (lowered in subscripts.py)
_INDEX_TRICKS = (np.r_, np.c_, np.s_, np.index_exp, np.mgrid, np.ogrid)


def _literal(v):
    if isinstance(v, slice):
        return all(_literal(x) for x in (v.start, v.stop, v.step))
    return v is None or isinstance(v, (bool, int, float, str)) or (
        isinstance(v, tuple) and all(_literal(x) for x in v))




def _function_list(obj):
    """A non-empty list of functions (``BASIS = [np.sin, np.cos, f]``)."""
    return isinstance(obj, list) and bool(obj) and all(
        callable(o) and not isinstance(o, type) and is_static_object(o) for o in obj)

class NamesMixin:
    def load_name(self, node):
        name = node.id
        if name in self.env:
            return self.env[name]
        if name in self.local_names:
            raise self.error(node, f"local variable '{name}' is used before it is assigned",
                             cls=UnresolvedNameError)
        r = self.resolver.lookup(name)
        if r is None:
            raise self.error(node, f"name '{name}' is not defined", cls=UnresolvedNameError)
        kind, val = r
        if kind == "cell":
            obj = val.cell_contents
            if is_static_object(obj) or obj is None or isinstance(obj, (str, bool)) or \
                    is_namespace(obj) or (isinstance(obj, tuple) and _literal(obj)) or \
                    _function_list(obj):
                # (a closed-over tuple of numbers -- layer shapes -- is structure,
                # guarded like configuration)
                return self.static_value(obj, Path(("cell", val, name)), node)
            return _mark_generator(self.top.load_cell(name, val), obj)
        if is_static_object(val) or kind == "builtin" or val is None or \
                isinstance(val, (str, bool)) or is_namespace(val) or \
                (isinstance(val, tuple) and _literal(val)) or _function_list(val):
            return self.static_value(val, Path(("global", self.resolver.globals, name)), node)
        return _mark_generator(self.top.load_global(name, self.resolver.globals), val)

    # ------------------------------------------------------------ live reads

    def load_global(self, name, globals_dict):
        key = (name, id(globals_dict))
        if key not in self.global_loads:
            v = Var(name)
            self.global_loads[key] = v
            self.prologue.append((P.get("load_global"), v,
                                  {"name": name, "globals": globals_dict}, ()))
            self.external[id(v)] = f"the global '{name}'"
        return self.global_loads[key]

    def load_cell(self, name, cell):
        key = id(cell)
        if key not in self.cell_loads:
            v = Var(name)
            self.cell_loads[key] = v
            self.prologue.append((P.get("load_cell"), v, {"name": name, "cell": cell}, ()))
            self.external[id(v)] = f"the closed-over variable '{name}'"
        return self.cell_loads[key]

    def load_path(self, path):
        """The run-time value at ``path`` (read live: hoisted to the prologue,
        printed where it is used, e.g. ``self.W`` or ``CONFIG['lr']``)."""
        top = self.top
        key = path.key()
        v = top.path_loads.get(key)
        if v is not None:
            return v
        kind, obj, name = path.root
        if not path.steps:
            if kind == "arg":                    # an object passed as an argument
                return obj
            if kind == "global":
                return top.load_global(name, obj)
            if kind == "cell":
                return top.load_cell(name, obj)
            v = Var(name)
            top.prologue.append((P.get("load_object"), v, {"name": name, "obj": obj}, ()))
        else:
            parent = top.load_path(Path(path.root, path.steps[:-1]))
            step, k = path.steps[-1]
            v = Var(k if step == "attr" and isinstance(k, str) else "")
            if step == "attr":
                top.prologue.append((P.get("load_attr"), v, {"attr": k}, (parent,)))
            else:
                top.prologue.append((P.get("load_item"), v, {"key": k}, (parent,)))
        top.path_loads[key] = v
        top.external[id(v)] = f"'{path.describe()}'"
        return v

    def path_of(self, v):
        """The :class:`Path` a Var read live from outside was loaded from
        (a global, a cell, an attribute or item of one), or None."""
        if id(v) in self.top.arg_objects:
            return Path(("arg", v, v.hint))
        for prim, out, params, args in self.top.prologue:
            if out is not v:
                continue
            name = prim.name
            if name == "load_global":
                return Path(("global", params["globals"], params["name"]))
            if name == "load_cell":
                return Path(("cell", params["cell"], params["name"]))
            if name == "load_object":
                return Path(("object", params["obj"], params["name"]))
            parent = self.path_of(args[0]) if args else None
            if parent is None:
                return None
            return parent.attr(params["attr"]) if name == "load_attr" else \
                parent.item(params["key"])
        return None

    def static_option(self, v):
        """A keyword option (``ord=P``, ``axis=AXIS``, ``size=N``) read live from a
        global, a closed-over variable or an attribute, holding a Python
        number, string or tuple of them: resolved while compiling (rules need
        options as constants) and guarded, so a change recompiles."""
        if not isinstance(v, Var) or id(v) not in self.top.external:
            return v
        path = self.path_of(v)
        if path is None:
            return v
        kind, obj, name = path.root
        try:
            value = obj.get(name) if kind == "global" else \
                obj.cell_contents if kind == "cell" else \
                self.top.arg_objects[id(obj)] if kind == "arg" else obj
            for step, k in path.steps:
                value = getattr(value, k) if step == "attr" else value[k]
        except (AttributeError, KeyError, IndexError, TypeError, ValueError):
            return v
        if isinstance(value, bool) or not (value is None or _literal(value)) or \
                isinstance(value, np.generic):
            return v
        self.guard(path, value)
        return Const(value)

    def external_origin(self, v):
        """If the array ``v`` belongs to the world outside the function (a
        global, a closed-over variable, an attribute of ``self``, or a view of
        one), a description of it; else None."""
        seen = 0
        while isinstance(v, Var) and seen < 1000:
            d = self.top.external.get(id(v))
            if d is not None:
                return d
            base = self.top.alias.base_of(v)     # a view of it (s2sgrad.alias)
            if base is None:
                return None
            v = base
            seen += 1
        return None

    def refuse_external_write(self, v, node):
        where = self.external_origin(v) if isinstance(v, Var) else None
        if isinstance(v, ObjVal):
            where = f"'{v.path.describe()}'"
        if where is not None:
            raise self.error(node, f"this writes into {where}, which belongs to the caller "
                                   f"(a global, a closed-over variable or an attribute); "
                                   f"s2sgrad does not perform side effects outside the "
                                   f"differentiated function: work on a copy "
                                   f"(x = x.copy()), or pass it in as an argument and return "
                                   f"the new value", construct="write into an outside value")

    # ------------------------------------------------------------ compile-time values

    def guard(self, path, obj):
        if path is not None and path.root[0] == "arg":
            self.arg_guard(path, obj)
        elif path is not None and (path.steps or path.root[0] != "object"):
            self.top.guards.add(path, obj)

    def arg_guard(self, path, obj):
        """What compiling assumed about an object passed as an argument
        (``model.n_layers``, which function ``model.predict`` is): not a
        guard (guards see no arguments) but part of the argument's cache key
        (:class:`s2sgrad.api.ObjectArg`), checked against each call's object.
        A bound method's ``__self__`` that is the argument itself is checked
        as such (not as that instance); an object read through (a nested
        config) by its type, its own reads being keyed by their paths."""
        top = self.top
        root_obj = top.arg_objects[id(path.root[1])]
        if path.steps and path.steps[-1] == ("attr", "__self__") and obj is root_obj:
            token = ("root", True)
        elif obj is None or isinstance(obj, (bool, int, float, complex, str, bytes)) or (
                isinstance(obj, tuple) and _literal(obj)):
            token = ("value", type(obj), obj)
        elif is_namespace(obj):
            token = ("type", type(obj))
        else:
            token = ("is", obj)
        top.arg_guards.setdefault(path.root[2], {}).setdefault(path.steps, token)

    def guard_code(self, path, fn):
        """A helper that will be inlined: its code too (``act.__code__ =
        other.__code__`` keeps the function object and changes what it
        computes)."""
        if path is not None and isinstance(fn, types.FunctionType) and \
                not is_library(fn):
            self.guard(path.attr("__code__"), fn.__code__)

    def static_value(self, obj, path=None, node=None):
        """A value found while compiling (a global, a closure cell, an
        attribute or an entry of one, a default argument), as a lowering
        value.  ``path``: where it was read from (None for values that cannot
        change: attributes of library modules, literals)."""
        node = node if node is not None else self.node
        if obj is None or isinstance(obj, (bool, str)) or obj is Ellipsis:
            self.guard(path, obj)
            return Const(obj)
        if isinstance(obj, int):
            self.guard(path, obj)       # configuration: cfg.n_layers, CONFIG["depth"]
            return Const(obj)
        if is_number(obj) and isinstance(obj, (float, complex, np.generic)):
            if path is not None:
                return self.load_path(path)          # data: read live
            return Const(obj.item() if isinstance(obj, np.generic) else obj)
        if isinstance(obj, types.BuiltinMethodType) and \
                not isinstance(getattr(obj, "__self__", None), types.ModuleType) and \
                getattr(obj, "__self__", None) is not None:
            # dict.get, list.copy ... of an object: a new object at each read
            if path is not None:
                self.guard(path.attr("__self__"), obj.__self__)
            return Static(obj, path)
        if isinstance(obj, types.MethodType):
            # a bound method is a new object at each attribute read: guard
            # the function and the object it is bound to
            if path is not None:
                self.guard(path.attr("__func__"), obj.__func__)
                self.guard(path.attr("__self__"), obj.__self__)
                self.guard_code(path.attr("__func__"), obj.__func__)
            return Static(obj, path)
        if is_static_object(obj) or any(obj is t for t in _INDEX_TRICKS):
            self.guard(path, obj)
            self.guard_code(path, obj)
            return Static(obj, path)
        if isinstance(obj, tuple) and _literal(obj):
            self.guard(path, obj)
            return Const(obj)
        if is_namespace(obj):
            if path is None:
                raise self.error(node, f"s2sgrad cannot tell where the {type(obj).__name__} "
                                       f"object used here comes from; pass it as an argument "
                                       f"or make it a global", cls=UnsupportedSyntaxError,
                                 construct=type(obj).__name__)
            self.guard(path, obj)
            return ObjVal(obj, path)
        if isinstance(obj, tuple) and obj and all(
                not isinstance(o, (np.ndarray, np.generic, tuple, list)) and
                (is_static_object(o) or is_namespace(o)) and rng_kind(o) is None for o in obj):
            # a tuple of objects (self.layers = (Dense(3, 4), Dense(4, 1))):
            # structure, guarded like configuration (the same objects, by
            # identity), each item read through as the object it is
            self.guard(path, obj)
            return Seq("tuple", [self.static_value(o, None if path is None else path.item(k),
                                                   node) for k, o in enumerate(obj)])
        if _function_list(obj) and path is not None and path.root[0] != "arg":
            # a global (or closed-over) list of functions (BASIS = [np.sin, f]):
            # structure, as a tuple of them is; its length and each item are
            # guarded (an append or a replaced item compiles again).  Held as
            # a tuple here: an append inside the function would not reach
            # the global list, so it is refused as on a tuple
            self.top.guards.add(path.len(), len(obj))
            return Seq("tuple", [self.static_value(o, path.item(k), node)
                                 for k, o in enumerate(obj)])
        if path is not None and isinstance(obj, (np.ndarray, list, tuple)):
            return self.load_path(path)              # data: read live
        if rng_kind(obj) is not None:
            # a random generator (self.rng): read live, its draws are effects
            if path is not None:
                return _mark_generator(self.load_path(path), obj)
            return Const(obj)
        raise self.error(node, f"s2sgrad cannot use the {type(obj).__name__} object "
                               f"{_short_repr(obj)} here: it is neither data (an array or a "
                               f"number, read when the gradient runs) nor a function or "
                               f"configuration value it can resolve; pass it as an argument",
                         cls=UnknownFunctionError, construct=type(obj).__name__)

    def attr_value(self, base, attr, node):
        """``base.attr`` for a compile-time ``base`` (a Static or an ObjVal)."""
        try:
            obj = getattr(base.obj, attr)
        except AttributeError:
            from .syntax import snippet
            raise self.error(node, f"'{snippet(node)}' does not exist",
                             cls=UnresolvedNameError) from None
        path = None
        if base.path is not None and not (isinstance(base, Static) and is_library(base.obj)):
            path = base.path.attr(attr)
        return self.static_value(obj, path, node)

    def item_value(self, base, key, node):
        """``base[key]`` for an ObjVal ``base`` (a global dict) and a constant key."""
        if not isinstance(key, Const):
            P.needs_static(key)     # ACTS[act] with act="relu" an argument: made static
            raise self.unsupported(node, "a computed key into a dict or object from outside "
                                         "the function", "use a constant key, or pass the "
                                                         "dict as an argument")
        try:
            obj = base.obj[key.value]
        except (KeyError, IndexError, TypeError) as exc:
            raise self.error(node, f"'{base.path.describe()}[{key.value!r}]' does not exist "
                                   f"({type(exc).__name__}: {exc})",
                             cls=UnresolvedNameError) from None
        return self.static_value(obj, base.path.item(key.value), node)


def _mark_generator(v, obj):
    """A global or closed-over random generator is read live like any data;
    its Var carries the generator's kind, so ``rng.normal(...)`` lowers to a
    draw (:mod:`s2sgrad.primitives.random`)."""
    kind = rng_kind(obj)
    if kind is not None:
        v.shape = _RNG_TOKENS[kind]
    return v


def _short_repr(obj):
    try:
        r = repr(obj)
    except Exception:   # noqa: BLE001
        r = f"<{type(obj).__name__}>"
    return r if len(r) <= 60 else r[:57] + "..."
