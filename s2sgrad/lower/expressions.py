"""Lowering of expressions: the dispatcher, constants, names, binary and
unary operators, comparisons (``is``/``in`` resolved at compile time),
``and``/``or``, and attributes (of modules, of arrays, of namedtuples)."""
from __future__ import annotations

import ast
import collections
import inspect
import operator


from ..ir import Const, Var
from ..primitives import core as P
from ..primitives.lists import LIST
from .values import DictVal, ObjVal, Seq, Static, TreeObj
from .frozen import FrozenDist
from .syntax import BINOPS, CMP, OPSYM, UNARY, snippet


class ExpressionsMixin:
    def expr(self, node):
        m = getattr(self, "expr_" + type(node).__name__, None)
        if m is None:
            raise self.unsupported(node, f"the expression '{snippet(node)}' "
                                         f"({type(node).__name__})",
                                   "rewrite it with supported NumPy operations")
        return m(node)

    def expr_Constant(self, node):
        return Const(node.value)

    def expr_JoinedStr(self, node):
        """An f-string of values known while compiling (``f"W{i}"`` with ``i``
        a constant, a static argument or an unrolled loop's counter): the
        string itself, formatted as Python does."""
        parts = []
        for v in node.values:
            if isinstance(v, ast.Constant):
                parts.append(str(v.value))
                continue
            x = self.expr(v.value)
            if not (isinstance(x, Const) and isinstance(x.value, (str, int, float, bool)) or
                    isinstance(x, Const) and x.value is None):
                if getattr(self, "_output_args", 0):
                    # an argument of print/logging (ignored): its values are
                    # lowered, the text is not made
                    if v.format_spec is not None:
                        self.expr(v.format_spec)
                    parts.append("")
                    continue
                raise self.unsupported(node, f"the f-string '{snippet(node)}' of a value known "
                                             f"only when the code runs (a loop counter, an "
                                             f"array)", "build the keys or names from "
                                                        "constants, or index a list instead")
            val = x.value
            if v.conversion == ord("r"):
                val = repr(val)
            elif v.conversion == ord("s"):
                val = str(val)
            elif v.conversion == ord("a"):
                val = ascii(val)
            spec = "" if v.format_spec is None else self.expr(v.format_spec).value
            parts.append(format(val, spec))
        return Const("".join(parts))

    def expr_Name(self, node):
        return self.load_name(node)

    def expr_BinOp(self, node):
        # a long left-associated chain (a + b + c + ...) iteratively, not by recursion
        chain = [node]
        while isinstance(chain[-1].left, ast.BinOp):
            chain.append(chain[-1].left)
        acc = self.expr(chain[-1].left)
        for n in reversed(chain):
            acc = self.binop(n.op, acc, self.expr(n.right), n)
        return acc

    def binop(self, op, a, b, node):
        if any(isinstance(v, Var) and P.shape_of(v) is LIST for v in (a, b)):
            out = self.list_binop(op, a, b, node)
            if out is not None:
                return out
        if isinstance(a, Seq) or isinstance(b, Seq):
            if isinstance(op, ast.Add) and isinstance(a, Seq) and isinstance(b, Seq):
                return Seq(a.kind, a.items + b.items)
            if isinstance(op, ast.Mult) and isinstance(b, Const) and isinstance(b.value, int):
                return Seq(a.kind, a.items * b.value)
            if isinstance(op, ast.Mult) and isinstance(a, Const) and type(a.value) is int:
                return Seq(b.kind, b.items * a.value)       # 3 * [0.0]
            seq = b if isinstance(b, Seq) else a
            if isinstance(op, ast.Mult) and isinstance(a if seq is b else b, Var) and \
                    seq.kind == "list" and seq.items and \
                    all(isinstance(i, Const) for i in seq.items) and \
                    self.known_int(a if seq is b else b):
                return self.repeated_list(seq, a if seq is b else b, node)
            if isinstance(op, ast.Mult) and isinstance(a if seq is b else b, Var) and \
                    not all(isinstance(i, Const) for i in seq.items):
                # [v] * n with n known at run time only and a computed item:
                # Python repeats the list when n is an integer, NumPy multiplies
                # when it is an array; the product below is NumPy's (of
                # np.array([v])), so an integer is refused there.  (A list of
                # constants, [0.0] * n, is written as Python's product.)
                where = Const(f"{self.src.filename}:{node.lineno}")
                if isinstance(b, Seq):
                    a = self.em.call(P.get("not_a_count"), a, where=where)
                else:
                    b = self.em.call(P.get("not_a_count"), b, where=where)
        if isinstance(op, ast.BitOr) and isinstance(a, DictVal) and isinstance(b, DictVal):
            return DictVal({**a.items, **b.items})        # d | e: a new dict (Python 3.9)
        name = BINOPS.get(type(op))
        if name is None:
            raise self.unsupported(node, f"the operator '{OPSYM.get(type(op), op)}'",
                                   "use the equivalent NumPy function")
        return self.apply(P.get(name), [a, b], {}, node)

    def known_int(self, v, depth=0):
        """``v`` is a Python int whatever the arguments: a length, a size, a
        dimension of a shape, or integer arithmetic of those (found among
        the equations of the current block; else not known: an array count
        keeps NumPy's product, ``[1.5, -0.5] * w``)."""
        if isinstance(v, Const):
            return type(v.value) is int
        e = self._defining_eqn(v, window=256) if isinstance(v, Var) and depth < 8 else None
        if e is None:
            return False
        name = e.prim.name
        if name in ("len", "size", "ndim"):
            return True
        if name == "getitem" and isinstance(e.args[0], Var):
            src = self._defining_eqn(e.args[0], window=256)
            return src is not None and src.prim.name == "shape" and \
                type(e.params.get("index")) is int
        if name in ("add", "subtract", "multiply", "floor_divide", "py_min", "py_max"):
            return all(self.known_int(a, depth + 1) for a in e.args)
        return False

    def repeated_list(self, seq, n, node):
        """``[0.0] * n`` (``n * [None]``) with a count known only at run time:
        Python's repeated list, as a list built at run time (``list_repeat``),
        so ``out[i] = v`` rebinds an item as Python does; a count that is not
        an integer is refused when the code runs, naming the line."""
        self.top.list_sites = getattr(self.top, "list_sites", 0) + 1
        out = self.em.call(P.get("list_repeat"), Const([i.value for i in seq.items]), n,
                           where=Const(f"{self.src.filename}:{node.lineno}"),
                           _params={"site": self.top.list_sites})
        self.note_list_store(out, None, [])
        return out

    def expr_NamedExpr(self, node):
        """``(z := value)``: binds z (in a comprehension, the enclosing
        function's z, as PEP 572) and gives the value."""
        value = self.expr(node.value)
        self.bind(node.target, value)
        return value

    def expr_UnaryOp(self, node):
        v = self.expr(node.operand)
        if isinstance(node.op, ast.Not) and isinstance(v, Const):
            return Const(not v.value)
        return self.apply(P.get(UNARY[type(node.op)]), [v], {}, node)

    def mangle(self, attr):
        """``self.__w`` in a method of class ``M`` reads ``_M__w`` (Python's
        private name mangling)."""
        if not attr.startswith("__") or attr.endswith("__"):
            return attr
        parts = getattr(self.src.fn, "__qualname__", "").split(".")[:-1]
        if not parts or parts[-1] == "<locals>":
            return attr
        cls = parts[-1].lstrip("_")
        return f"_{cls}{attr}" if cls else attr

    def expr_Compare(self, node):
        left = self.expr(node.left)
        result = None
        for op, right_node in zip(node.ops, node.comparators):
            right = self.expr(right_node)
            if isinstance(op, (ast.Is, ast.IsNot)):
                r = self.identity_test(left, right, node, isinstance(op, ast.IsNot))
                if isinstance(op, ast.IsNot) and isinstance(r, Const):
                    r = Const(not r.value)
            elif isinstance(op, (ast.In, ast.NotIn)):
                r = self.membership(left, right, node)
                if isinstance(op, ast.NotIn):
                    r = Const(not r.value) if isinstance(r, Const) else \
                        self.apply(P.get("logical_not"), [r], {}, node)
            elif isinstance(left, Seq) and isinstance(right, Seq):
                # tuple == tuple is one bool (equal lengths and items), not
                # NumPy's elementwise comparison of two arrays
                if not isinstance(op, (ast.Eq, ast.NotEq)):
                    raise self.unsupported(node, "ordering comparison of two tuples or lists",
                                           "compare their items")
                r = self.seq_equal(left, right, node)
                if isinstance(op, ast.NotEq):
                    r = Const(not r.value) if isinstance(r, Const) else \
                        self.apply(P.get("logical_not"), [r], {}, node)
            elif isinstance(left, Const) and isinstance(right, Const) and \
                    type(left.value) in _PY_SCALARS and type(right.value) in _PY_SCALARS and \
                    type(op) in _PY_CMP and \
                    isinstance(left.value, str) == isinstance(right.value, str):
                # k != "skip" of a dict's key, n > 2 of constants: Python's own
                # comparison (a Python bool, as the code gives), not np.not_equal
                r = Const(_PY_CMP[type(op)](left.value, right.value))
            else:
                r = self.apply(P.get(CMP[type(op)]), [left, right], {}, node)
            result = r if result is None else self.boolop_and(result, r, node)
            left = right
        return result

    def seq_equal(self, a, b, node):
        """Python's ``a == b`` of two tuples or lists: the same kind and
        length, and each pair of items equal (an item compared with itself
        is equal, as Python tests identity first)."""
        if a.kind != b.kind or len(a.items) != len(b.items):
            return Const(False)
        acc = Const(True)
        for p, q in zip(a.items, b.items):
            if p is q:
                continue
            if isinstance(p, Seq) and isinstance(q, Seq):
                eq = self.seq_equal(p, q, node)
            elif isinstance(p, Const) and isinstance(q, Const) and \
                    _number(p.value) and _number(q.value):
                eq = Const(bool(p.value == q.value))
            elif all(isinstance(i, Var) or isinstance(i, Const) and _number(i.value)
                     for i in (p, q)):
                # (numbers; arrays of more than one element: their truth value
                # raises when the test is made, as Python's does)
                eq = self.apply(P.get("equal"), [p, q], {}, node)
            else:
                raise self.unsupported(node, "== between tuples or lists holding containers "
                                             "or objects",
                                       "compare the items")
            acc = eq if isinstance(acc, Const) and acc.value else self.boolop_and(acc, eq, node)
            if isinstance(acc, Const) and not acc.value:
                return acc
        return acc

    def identity_test(self, a, b, node, negate=False):
        if isinstance(a, Const) and isinstance(b, Const):
            return Const(a.value is b.value)
        if isinstance(a, (Static, ObjVal)) and isinstance(b, (Static, ObjVal)):
            return Const(a.obj is b.obj)
        for x, y in ((a, b), (b, a)):      # model is None: an object known while compiling
            if isinstance(x, (ObjVal, Static)) and isinstance(y, Const):
                return Const(x.obj is y.value)   # (fn is None: a function known too)
        # An item of a container passed as data (or read live from outside:
        # may_be_sequence) may be None when the code runs ({"clip": None}):
        # tested then (``negate``: ``is not None``).
        for x, y in ((a, b), (b, a)):
            if isinstance(x, Const) and x.value is None and isinstance(y, Var) and \
                    self.may_be_sequence(y):
                return self.apply(P.get("is_not_none" if negate else "is_none"), [y], {},
                                  node)
        # A computed value is never None: arguments that are None are constants.
        for x, y in ((a, b), (b, a)):
            if isinstance(x, Const) and x.value is None and isinstance(y, (Var, Seq, DictVal)):
                return Const(False)
        raise self.unsupported(node, "'is' between computed values", "compare with == instead")

    def membership(self, a, b, node):
        if isinstance(a, Const) and isinstance(b, DictVal):
            return Const(a.value in b.items)
        if isinstance(a, Const) and isinstance(b, Seq) and all(isinstance(i, Const) for i in b.items):
            return Const(a.value in [i.value for i in b.items])
        if isinstance(a, (Const, Var)) and isinstance(b, Seq) and b.items and \
                all(isinstance(i, Var) or (isinstance(i, Const) and _number(i.value))
                    for i in b.items) and (isinstance(a, Var) or _number(a.value)) or \
                isinstance(a, Var) and isinstance(b, Seq) and b.items and \
                all(isinstance(i, Const) and type(i.value) is str for i in b.items):
            # a computed number in a tuple/list of numbers (``x in (1.0, 2.0)``),
            # an option passed as a str argument in a tuple of names (``loss in
            # ("l1", "l2")``): Python's test is ``x == item`` for one item after
            # the other, a boolean that steers control flow (no derivative
            # flows through it)
            acc = None
            for item in b.items:
                eq = self.apply(P.get("equal"), [a, item], {}, node)
                acc = eq if acc is None else self.apply(P.get("logical_or"), [acc, eq], {}, node)
            return acc
        raise self.unsupported(node, "'in' on computed values", "test membership outside")

    def boolop_and(self, a, b, node):
        if isinstance(a, Const) and isinstance(b, Const):
            return Const(a.value and b.value)
        return self.apply(P.get("logical_and"), [a, b], {}, node)

    def expr_BoolOp(self, node):
        if not all(isinstance(v, (ast.Compare, ast.BoolOp)) or
                   isinstance(v, ast.UnaryOp) and isinstance(v.op, ast.Not)
                   for v in node.values) or \
                any(isinstance(n, (ast.Call, ast.Subscript)) or
                    isinstance(n, ast.BinOp) and isinstance(n.op, (ast.Div, ast.FloorDiv, ast.Mod))
                    for v in node.values[1:] for n in ast.walk(v)):
            # (comparisons of calls: a draw in the second one happens only
            # when the first does not decide; of items or quotients: the
            # second may raise where Python never evaluates it, as in
            # ``while j < n and x[j] > 0``)
            return self.bool_value(node)
        vals = [self.expr(v) for v in node.values]
        if all(isinstance(v, Const) for v in vals):
            acc = vals[0].value
            for v in vals[1:]:
                acc = (acc and v.value) if isinstance(node.op, ast.And) else (acc or v.value)
            return Const(acc)
        name = "logical_and" if isinstance(node.op, ast.And) else "logical_or"
        acc = vals[0]
        for v in vals[1:]:
            acc = self.apply(P.get(name), [acc, v], {}, node)
        return acc

    def bool_value(self, node):
        """``a and b`` / ``a or b`` of values that are not all comparisons: as
        Python, the operand that decides (``temperature or 1.0`` is 1.0 only
        when temperature is 0), the next one evaluated only when needed (a
        conditional expression when the truth is known at run time only)."""
        is_and = isinstance(node.op, ast.And)
        acc = self.expr(node.values[0])
        for nxt in node.values[1:]:
            t = self.truth(acc, node)
            if isinstance(t, Const):
                if bool(t.value) != is_and:     # and: a false value decides; or: a true one
                    return acc
                acc = self.expr(nxt)
                continue
            self.top.boolop_count = getattr(self.top, "boolop_count", 0) + 1
            key = f"$boolop{self.top.boolop_count}"
            self.env[key] = acc
            name = ast.copy_location(ast.Name(id=key, ctx=ast.Load()), node)
            choice = ast.copy_location(ast.IfExp(test=name, body=nxt if is_and else name,
                                                 orelse=name if is_and else nxt), node)
            acc = self.expr_IfExp(choice)
            self.env.pop(key, None)
        return acc

    def expr_Attribute(self, node):
        base = self.expr(node.value)
        attr = self.mangle(node.attr)
        if isinstance(base, (Static, ObjVal)):
            return self.attr_value(base, attr, node)
        if isinstance(base, (Var, Const)):
            prim = P.ATTRIBUTES.get(attr)
            note = getattr(P.shape_of(base), "note", "") if isinstance(base, Var) else ""
            if prim is None and note.startswith("object:"):
                raise self.unsupported(node, f"the attribute '.{attr}' of the {note[7:]} object "
                                             f"passed as the argument '{base.hint}'",
                                       "make it a global or a closed-over object, pass the "
                                       "values it holds, or register its class with "
                                       "s2sgrad.register_pytree")
            field = _namedtuple_field(self.top.arg_types.get(base) if isinstance(base, Var)
                                      else None, attr)
            if prim is None and field is not None:
                # hp.steps of a namedtuple passed as data: its item, read when
                # the code runs (as hp[2])
                return self.getitem(base, Const(field))
            if prim is None:
                if attr in P.METHODS:
                    raise self.unsupported(node, f"the method '.{attr}' used without calling it",
                                           "call it")
                raise self.unsupported(node, f"the attribute '.{attr}'",
                                       "use a supported attribute (.T .mT .shape .ndim .size .dtype)")
            return self.apply(prim, [base], {}, node, spelling=("attr", attr))
        if isinstance(base, Seq) and base.fields and attr in base.fields:
            return base.items[base.fields.index(attr)]
        if isinstance(base, Seq) and base.fields and base.ntype is not None:
            out = self.namedtuple_member(base, attr, (), {}, node, call=False)
            if out is not None:         # a property of the user's namedtuple class
                return out
        if isinstance(base, TreeObj):
            return self.tree_attr(base, attr, node)
        if isinstance(base, FrozenDist):            # d.logpdf of a frozen distribution
            return base.method(attr)
        raise self.unsupported(node, f"the attribute '.{attr}' of a container",
                               "index the container instead")


_PY_SCALARS = (str, int, float, bool)
_PY_CMP = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
           ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge}
_TUPLEGETTER = type(collections.namedtuple("_T", "a").a)


def _namedtuple_field(data_type, attr):
    """The position of the field ``attr`` of a namedtuple class passed as data
    (None unless it is the namedtuple's own field accessor)."""
    if data_type is None or not issubclass(data_type, tuple) or \
            attr not in getattr(data_type, "_fields", ()):
        return None
    try:
        acc = inspect.getattr_static(data_type, attr)
    except AttributeError:
        return None
    if not isinstance(acc, _TUPLEGETTER):
        return None
    k = data_type._fields.index(attr)
    return k if acc.__get__(tuple(range(len(data_type._fields)))) == k else None


def _number(v):
    return isinstance(v, (bool, int, float)) or (hasattr(v, "dtype") and getattr(v, "ndim", 1) == 0
                                                 and v.dtype.kind in "biuf")
