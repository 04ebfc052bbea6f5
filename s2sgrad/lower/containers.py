"""Tuple, list and dict literals (compile-time containers), indexing them,
``xs.append`` on literal and runtime lists, and :meth:`materialize`, which
turns a compile-time value into an IR atom where a runtime value is needed."""
from __future__ import annotations

import ast

import numpy as np


from ..errors import S2SGradError
from ..ir import Const, Var
from ..primitives import core as P
from ..primitives.indexing import Slot
from ..primitives.lists import LIST
from .values import DictVal, ObjVal, Seq, Static
from .syntax import snippet


class ContainersMixin:
    def expr_Tuple(self, node):
        return Seq("tuple", self.expr_items(node.elts))

    def expr_List(self, node):
        return Seq("list", self.expr_items(node.elts))

    def expr_items(self, elts):
        out = []
        for e in elts:
            if isinstance(e, ast.Starred):
                v = self.expr(e.value)
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
                raise self.unsupported(node, "'**' in a dict literal", "list the keys")
            kv = self.expr(k)
            if not isinstance(kv, Const):
                raise self.unsupported(k, "a computed dict key", "use constant keys")
            items[kv.value] = self.expr(v)
        return DictVal(items)

    def container_getitem(self, base, key, node):
        if isinstance(base, DictVal):
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
        # a computed index into a literal list: make it a runtime value
        return self.apply_getitem(self.materialize(base, node), Slot(0), [key], node)

    def list_append(self, name_node, value_node, node):
        """``xs.append(v)``: a literal list grows while compiling; a runtime
        list (a loop carry) gets a new version."""
        base = self.load_name(name_node)
        v = self.expr(value_node)
        if isinstance(base, Seq) and base.kind == "list":
            self.env[name_node.id] = Seq("list", base.items + [v])
            return Const(None)
        if isinstance(base, Var) and P.shape_of(base) is LIST:
            item = self.materialize(v, node)
            if isinstance(item, Var) and P.shape_of(item) is LIST:
                # a list of runtime lists (rows built in an inner loop or
                # comprehension): each row is kept as the array np.array
                # would make of it, so cotangents stay one array per item
                item = self.em.call(P.get("stack_list"), item, axis=Const(0))
            out = self.em.call(P.get("list_append"), base, item)
            out.hint = name_node.id
            self.env[name_node.id] = out
            return Const(None)
        raise self.unsupported(node, "'.append' on this value", "append to a list")

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
                return self.em.call(P.get("list_build"), *atoms,
                                    _params={"site": self.top.list_sites})
            return self.em.call(P.get("make_tuple"), *atoms)
        if isinstance(v, DictVal):
            raise self.unsupported(node or self.node, "passing a dict to a NumPy function",
                                   "pass its values")
        what = "a function" if type(v).__name__ == "LocalFunction" else type(v).__name__
        raise self.error(node or self.node, f"{what} is used as a value here; s2sgrad passes "
                         f"arrays, numbers and containers of them, and calls functions",
                         cls=S2SGradError, construct=what)
