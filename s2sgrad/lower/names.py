"""Name resolution: locals, then the function's closure cells, globals and
builtins (:class:`~s2sgrad.frontend.Resolver`).  Modules, functions, classes
and dtypes are compile-time values; ``None``/bool/str are constants; other
globals and cells (arrays, floats) are read live by the generated code
(``load_global``/``load_cell`` equations in the prologue)."""
from __future__ import annotations

import numpy as np

from ..errors import UnresolvedNameError
from ..ir import Const, Var
from ..primitives import core as P
from ..primitives.random import TOKENS as _RNG_TOKENS, rng_kind
from .values import Static, is_number, is_static_object


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
            if is_static_object(obj):
                return Static(obj)
            if isinstance(obj, tuple) and _literal(obj):
                # a closed-over tuple of numbers (layer shapes): structure, not data
                return Const(obj)
            return _mark_generator(self.top.load_cell(name, val), obj)
        if is_static_object(val) or kind == "builtin":
            return self.static_value(val)
        if val is None or isinstance(val, (str, bool)):
            return Const(val)
        return _mark_generator(self.top.load_global(name, self.resolver.globals), val)

    def load_global(self, name, globals_dict):
        key = (name, id(globals_dict))
        if key not in self.global_loads:
            v = Var(name)
            self.global_loads[key] = v
            self.prologue.append((P.get("load_global"), v,
                                  {"name": name, "globals": globals_dict}))
        return self.global_loads[key]

    def load_cell(self, name, cell):
        key = id(cell)
        if key not in self.cell_loads:
            v = Var(name)
            self.cell_loads[key] = v
            self.prologue.append((P.get("load_cell"), v, {"name": name, "cell": cell}))
        return self.cell_loads[key]

    def static_value(self, obj):
        if obj is None or isinstance(obj, (bool, str, int, float, complex)) or obj is Ellipsis:
            return Const(obj)
        if isinstance(obj, np.generic) and is_number(obj):
            return Const(obj.item())
        if is_static_object(obj):
            return Static(obj)
        if isinstance(obj, tuple) and all(isinstance(v, (int, float, str, type(None))) for v in obj):
            return Const(obj)
        return Const(obj)  # other data: a constant held by the generated code


def _mark_generator(v, obj):
    """A global or closed-over random generator is read live like any data;
    its Var carries the generator's kind, so ``rng.normal(...)`` lowers to a
    draw (:mod:`s2sgrad.primitives.random`)."""
    kind = rng_kind(obj)
    if kind is not None:
        v.shape = _RNG_TOKENS[kind]
    return v


def _literal(v):
    return v is None or isinstance(v, (bool, int, str)) or (
        isinstance(v, tuple) and all(_literal(x) for x in v))
