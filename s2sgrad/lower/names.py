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
            return self.top.load_cell(name, val)
        if is_static_object(val) or kind == "builtin":
            return self.static_value(val)
        if val is None or isinstance(val, (str, bool)):
            return Const(val)
        return self.top.load_global(name, self.resolver.globals)

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
