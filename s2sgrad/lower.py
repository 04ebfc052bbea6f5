"""Lowering: Python AST -> SSA IR.

Expects: a parsed function (:mod:`s2sgrad.frontend`) and, for each parameter,
either a leaf or the structure (:class:`~s2sgrad.pytree.TreeDef`) of the
container passed for it.

Guarantees: a :class:`~s2sgrad.ir.Func` in SSA form with one primitive per
equation, every equation carrying the user's source location; or an
:class:`~s2sgrad.errors.S2SGradError` naming the user's file, line and
construct.  Nothing unknown is let through: an unknown callable, an
unresolvable name or an unsupported statement is an error here, never a
wrong number later.

Values during lowering are either runtime values (IR atoms: ``Var`` or
``Const``) or compile-time values: ``Static`` (a module, function, class,
dtype), ``Seq`` (a tuple/list literal whose elements are values) and
``DictVal``.  Compile-time containers disappear: ``params["W"]`` on a dict
argument is resolved while lowering, and ``np.stack([a, b])`` passes ``a``
and ``b`` as operands of one equation.

Arrays are values in the IR, but NumPy's are objects: ``b = a``, a view
``v = a[1:]`` or ``row = a[0]``, ``d["W"]`` and the rows a ``for`` loop walks
all name the same memory.  Every basic-index read and every transpose
(``a.T``) is recorded as a view of its base (``Lowerer.views``; views made by
``reshape``/``ravel``/``swapaxes`` are not tracked); a write (``y[i] = v``, ``y += v`` on an array,
``np.add.at``) gives ``y`` a new version and :meth:`Lowerer.write_back` gives
it to every other name of the same array, writes the view back into its base
(``a_1 = setitem(a, v_1, 1:)``) and re-reads the views of it that are still
read later.  A loop whose body changes a name only that way is lowered again
carrying that name.
"""
from __future__ import annotations

import ast
import contextlib
import inspect
import math
import numbers
import sys
import types
import warnings

import numpy as np

from . import pytree
from .errors import (S2SGradError, UnknownFunctionError, UnresolvedNameError,
                     UnsupportedSyntaxError)
from .frontend import Resolver, Source, parse_function
from .ir import Block, Const, Eqn, Func, Loc, Var
from .primitives import core as P
from .primitives.core import Emitter
from .primitives.indexing import Slot
from .primitives.lists import LIST


class Static:
    """A compile-time Python object (module, function, class, dtype)."""
    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __repr__(self):
        return f"Static({self.obj!r})"


class Seq:
    """A tuple or list whose structure is known at compile time (``fields``:
    a namedtuple's field names)."""
    __slots__ = ("kind", "items", "fields")

    def __init__(self, kind, items, fields=None):
        self.kind = kind
        self.items = list(items)
        self.fields = fields


class IterVal:
    """A lazily indexed iterable (enumerate/zip/reversed of runtime values):
    its length as an atom and how to get item ``i``."""
    __slots__ = ("length", "item")

    def __init__(self, length, item):
        self.length = length
        self.item = item


class DictVal:
    """A dict whose keys are known at compile time."""
    __slots__ = ("items",)

    def __init__(self, items):
        self.items = dict(items)


_BINOPS = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply", ast.Div: "divide",
           ast.Pow: "power", ast.MatMult: "matmul", ast.Mod: "remainder",
           ast.FloorDiv: "floor_divide", ast.BitAnd: "bitwise_and", ast.BitOr: "bitwise_or",
           ast.BitXor: "bitwise_xor"}
_UNARY = {ast.USub: "negative", ast.UAdd: "positive", ast.Invert: "invert",
          ast.Not: "logical_not"}
_CMP = {ast.Gt: "greater", ast.GtE: "greater_equal", ast.Lt: "less", ast.LtE: "less_equal",
        ast.Eq: "equal", ast.NotEq: "not_equal"}

# Statements refused with what to do instead.
_REFUSED = {
    ast.Try: ("try", "cannot differentiate through 'try' statements; move the try outside "
                     "the differentiated function"),
    ast.With: ("with", "cannot differentiate through 'with' blocks other than np.errstate(...), "
                       "warnings.catch_warnings(), contextlib.nullcontext() and "
                       "np.printoptions(...); move the with statement outside the "
                       "differentiated function"),
    ast.AsyncWith: ("async with", "cannot differentiate through 'async with' blocks"),
    ast.AsyncFor: ("async for", "cannot differentiate through 'async for' loops"),
    ast.Global: ("global", "'global' statements are not supported; pass the value as an "
                           "argument instead"),
    ast.Nonlocal: ("nonlocal", "'nonlocal' statements are not supported; pass the value as "
                               "an argument instead"),
    ast.Import: ("import", "imports inside a differentiated function are not supported; "
                           "import at module level"),
    ast.ImportFrom: ("import", "imports inside a differentiated function are not supported; "
                               "import at module level"),
    ast.ClassDef: ("class", "class definitions inside a differentiated function are not "
                            "supported; define the class at module level"),
    ast.Raise: ("raise", "'raise' is not supported inside a differentiated function; "
                         "validate the inputs before calling it"),
}
if hasattr(ast, "Match"):
    _REFUSED[ast.Match] = ("match", "'match' statements are not supported; use if/elif")
if hasattr(ast, "TryStar"):
    _REFUSED[ast.TryStar] = _REFUSED[ast.Try]

MAX_INLINE_DEPTH = 64


def is_static_object(obj) -> bool:
    """Objects resolved at compile time rather than read as data at run time."""
    if isinstance(obj, np.ndarray):
        return False
    return (isinstance(obj, (types.ModuleType, type, np.dtype, types.FunctionType,
                             types.BuiltinFunctionType, np.ufunc))
            or callable(obj))


def _is_number(v):
    return isinstance(v, numbers.Number) and not isinstance(v, np.ndarray)


_MISSING = object()


def _identity(i):
    return i


class LocalFunction:
    """A ``def`` or ``lambda`` inside the differentiated function.  Calls are
    inlined with the enclosing variables as they are at the call (Python's
    late binding of closures)."""
    __slots__ = ("node", "lowerer", "defaults")

    def __init__(self, node, lowerer):
        self.node = node
        self.lowerer = lowerer
        # default values are evaluated where the def (or lambda) is, as in Python
        self.defaults = [lowerer.expr(d) for d in node.args.defaults]


_COMPREHENSIONS = (ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp)


def _preorder(node, skip=(ast.Lambda,)):
    """Nodes under ``node`` in depth-first pre-order (the order of
    ``ast.NodeVisitor``), iteratively: a 500-term ``x + x + ... + x`` does not
    exhaust Python's recursion limit.  Nodes of the ``skip`` types are yielded
    but not entered."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, skip):
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(n))))


def _assigned_in(stmts):
    """Names assigned (in order of first assignment) by a list of statements."""
    names = []

    def add(name):
        if name not in names:
            names.append(name)

    for s in stmts:
        for n in _preorder(s, skip=(ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef)
                           + _COMPREHENSIONS):
            if isinstance(n, ast.Name):
                if isinstance(n.ctx, ast.Store):
                    add(n.id)
            elif isinstance(n, ast.Subscript):
                # x[i] = v rebinds x to its updated version
                if isinstance(n.ctx, ast.Store):
                    base = n.value
                    while isinstance(base, ast.Subscript):
                        base = base.value
                    if isinstance(base, ast.Name):
                        add(base.id)
            elif isinstance(n, ast.AugAssign):
                # (the target's Name is Store: added when it is reached next)
                if isinstance(n.target, ast.Name):
                    add(n.target.id)
            elif isinstance(n, ast.Call):
                # xs.append(v) rebinds xs
                f = n.func
                if isinstance(f, ast.Attribute) and f.attr in ("append", "extend", "insert",
                                                               "pop") \
                        and isinstance(f.value, ast.Name):
                    add(f.value.id)
                # np.add.at(y, idx, v) rebinds y
                if isinstance(f, ast.Attribute) and f.attr == "at" and n.args \
                        and isinstance(n.args[0], ast.Name):
                    add(n.args[0].id)
            elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                add(n.name)
    return names


def _rebinds(stmts, name):
    """Whether ``stmts`` bind ``name`` to a new object (an assignment, an
    augmented assignment, a loop target), not only write into it (``name[i] = v``)."""
    for st in stmts:
        for n in _preorder(st, skip=(ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef)
                           + _COMPREHENSIONS):
            if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store):
                return True
    return False


def _has(stmts, node_type):
    """Whether statements contain ``node_type`` outside nested loops/functions
    (a ``break`` in an inner loop belongs to that loop)."""
    for s in stmts:
        for n in _walk_no_loops(s):
            if isinstance(n, node_type):
                return True
    return False


def _walk_no_loops(node):
    yield node
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.For, ast.While, ast.FunctionDef, ast.Lambda)):
            if isinstance(child, (ast.For, ast.While)):
                # a return inside an inner loop still leaves the outer one
                for m in ast.walk(child):
                    if isinstance(m, ast.Return):
                        yield m
            continue
        yield from _walk_no_loops(child)


class Lowerer:
    def __init__(self, src: Source, resolver: Resolver, em: Emitter, top: "Lowerer" = None,
                 depth: int = 0):
        self.src = src
        self.resolver = resolver
        self.em = em
        self.top = top or self
        self.depth = depth
        self.env: dict = {}
        self.loc: Loc | None = None
        self.node = src.node
        self.local_names = _assigned_names(src.node)
        self.loop_depth = 0
        self._iter_value = None
        self.caller = None        # the lowerer whose call this one inlines
        self.iter_alias: dict = {}  # id(array iterated) -> its version in the loop body
        if top is None:
            # views: Var -> (base Var, index template, parts) for every basic-index
            # read (x[1:], x[0], x[i]): NumPy views, so a write through one reaches the other
            self.views: dict = {}
            self.view_children: dict = {}   # id(base Var) -> [its views]
            self.warning_filters_ok = 0   # inside `with warnings.catch_warnings():`
            self.prologue: list = []
            self.global_loads: dict = {}
            self.cell_loads: dict = {}

    # ------------------------------------------------------------ errors

    def error(self, node, message, cls=UnsupportedSyntaxError, construct=None):
        return self.src.error(cls, message, node, construct)

    def unsupported(self, node, what, advice):
        return self.error(node, f"{what} is not supported; {advice}", construct=what)

    # ------------------------------------------------------------ driving

    def set_loc(self, node):
        lineno = node.lineno
        end = getattr(node, "end_lineno", lineno) or lineno
        text = " ".join(self.src.line_text(i) for i in range(lineno, min(end, lineno + 2) + 1))
        self.loc = Loc(self.src.filename, lineno, node.col_offset, text.strip())
        self.em.loc = self.loc

    def lower_body(self, stmts):
        """Lower statements in order.  After a ``break``/``continue``/``return``
        that happens only on some paths, the rest is lowered under
        ``if not flag:`` (the flags are ordinary lowering-time variables)."""
        for k, s in enumerate(stmts):
            flag = self.pending_flag()
            if isinstance(flag, Const) and flag.value:
                return
            if isinstance(flag, Var):
                rest = stmts[k:]
                pred = self.apply(P.get("logical_not"), [flag], {}, s)

                def not_left():
                    # on this side no flag is set
                    for f in ("$ret", "$brk", "$cont"):
                        if isinstance(self.env.get(f), Var):
                            self.env[f] = Const(False)
                    self.lower_body(rest)

                self.lower_if(pred, not_left, lambda: None, s)
                return
            self.set_loc(s)
            try:
                self.stmt(s)
            except S2SGradError:
                raise
            except (TypeError, ValueError, AttributeError, IndexError, KeyError) as exc:
                raise self.error(s, f"cannot lower this statement: {exc}") from exc

    def pending_flag(self):
        """Whether control has left the current statement list (a Const or a Var)."""
        flags = [self.env[f] for f in ("$ret", "$brk", "$cont") if f in self.env]
        acc = Const(False)
        for f in flags:
            if isinstance(f, Const):
                if f.value:
                    return Const(True)
                continue
            acc = f if isinstance(acc, Const) else self.em.call(P.get("logical_or"), acc, f)
        return acc

    # ------------------------------------------------------------ statements

    def stmt(self, s):
        m = getattr(self, "stmt_" + type(s).__name__, None)
        if m is not None:
            return m(s)
        if type(s) in _REFUSED:
            what, msg = _REFUSED[type(s)]
            raise self.error(s, msg, construct=what)
        raise self.error(s, f"'{type(s).__name__}' statements are not supported",
                         construct=type(s).__name__)

    def stmt_Expr(self, s):
        if isinstance(s.value, ast.Constant):
            return  # docstring or bare constant
        self.expr(s.value)

    def stmt_Pass(self, s):
        pass

    def stmt_With(self, s):
        """``with`` over a context manager that does not change any value
        (``np.errstate``, ``warnings.catch_warnings``, ``contextlib.nullcontext``,
        ``np.printoptions``): the body is lowered inline.  The generated code
        does not re-enter the context manager (a floating-point warning it
        would have silenced may show; every value is the same)."""
        kinds = []
        for item in s.items:
            kind = self.transparent_context(item.context_expr)
            if kind is None:
                what, msg = _REFUSED[ast.With]
                raise self.error(item.context_expr, msg + f" ('{_snippet(item.context_expr)}' "
                                 "is not a context manager s2sgrad knows to be transparent)",
                                 construct=what)
            if item.optional_vars is not None and kind != "nullcontext":
                raise self.error(item.context_expr, f"'with {_snippet(item.context_expr)} as "
                                 f"...' is not supported; drop the 'as' target",
                                 construct="with")
            kinds.append(kind)
        for item, kind in zip(s.items, kinds):
            if item.optional_vars is not None:     # nullcontext(value) as name
                call = item.context_expr
                value = self.expr(call.args[0]) if call.args else Const(None)
                self.bind(item.optional_vars, value)
        n = kinds.count("catch_warnings")
        self.top.warning_filters_ok += n
        try:
            self.lower_body(s.body)
        finally:
            self.top.warning_filters_ok -= n

    def transparent_context(self, node):
        """Which transparent context manager ``node`` creates, or None."""
        if not isinstance(node, ast.Call):
            return None
        try:
            callee = self.static_callee(node.func)
        except S2SGradError:
            return None
        obj = callee.obj if isinstance(callee, Static) else None
        if obj is None:
            return None
        if obj is np.errstate:
            return "errstate"
        if obj is getattr(np, "printoptions", None):
            return "printoptions"
        if obj is contextlib.nullcontext and len(node.args) <= 1 and not node.keywords:
            return "nullcontext"
        if obj is warnings.catch_warnings and not any(
                k.arg == "record" and not (isinstance(k.value, ast.Constant) and
                                           k.value.value is False) for k in node.keywords):
            return "catch_warnings"
        return None

    def static_callee(self, func):
        """The compile-time object a call's function expression names (a name
        or a dotted attribute of a module), without lowering anything else."""
        if isinstance(func, ast.Name):
            return self.load_name(func)
        if isinstance(func, ast.Attribute):
            base = self.static_callee(func.value)
            if isinstance(base, Static):
                try:
                    return self.static_value(getattr(base.obj, func.attr))
                except AttributeError:
                    return None
        return None

    def stmt_Assign(self, s):
        value = self.expr(s.value)
        for t in s.targets:
            self.bind(t, value)

    def stmt_AnnAssign(self, s):
        if s.value is not None:
            self.bind(s.target, self.expr(s.value))

    def stmt_AugAssign(self, s):
        if isinstance(s.target, ast.Subscript):
            # y[idx] += v  ==  y[idx] = y[idx] + v  (NumPy's semantics too)
            cur = self.expr_Subscript(ast.Subscript(value=s.target.value, slice=s.target.slice,
                                                    ctx=ast.Load()))
            rhs = self.expr(s.value)
            self.bind_subscript(s.target, self.binop(s.op, cur, rhs, s))
            return
        if not isinstance(s.target, ast.Name):
            raise self.unsupported(s, "augmented assignment to this target",
                                   "assign to a plain variable name")
        cur = self.load_name(s.target)
        rhs = self.expr(s.value)
        new = self.binop(s.op, cur, rhs, s)
        self.bind(s.target, new)
        if isinstance(cur, Var) and isinstance(new, Var) and P.shape_of(cur) is not P.SCALAR \
                and self.aliased(cur, s.target.id):
            # x += v on an array is in place: the other names of the array see
            # it; on a Python or NumPy scalar it rebinds x alone.  Which one is
            # known at run time only: np.ndim(x) > 0 decides.
            nd = self.apply(P.get("ndim"), [cur], {}, s)
            pred = self.apply(P.get("greater"), [nd, Const(0)], {}, s)
            out = Var(s.target.id, shape=P.shape_of(cur))
            self.em.block.eqns.append(Eqn(P.get("cond"), (pred,), {}, (out,),
                                          {"then": Block([], [], [new]),
                                           "else": Block([], [], [cur])}, self.loc))
            self.write_back(cur, out)

    def stmt_Return(self, s):
        self.env["$retv"] = Const(None) if s.value is None else self.expr(s.value)
        self.env["$ret"] = Const(True)
        if self.loop_depth:
            self.env["$brk"] = Const(True)

    def stmt_Break(self, s):
        if not self.loop_depth:
            raise self.error(s, "'break' outside a loop", cls=S2SGradError)
        self.env["$brk"] = Const(True)

    def stmt_Continue(self, s):
        if not self.loop_depth:
            raise self.error(s, "'continue' outside a loop", cls=S2SGradError)
        self.env["$cont"] = Const(True)

    def stmt_Delete(self, s):
        for t in s.targets:
            if isinstance(t, ast.Name) and t.id in self.env:
                del self.env[t.id]
            else:
                raise self.unsupported(t, "'del' of this target", "delete only local names")

    def stmt_Assert(self, s):
        pass  # assertions check inputs; they do not change the value differentiated

    def stmt_FunctionDef(self, s):
        if s.decorator_list:
            raise self.unsupported(s, "a decorated nested 'def'", "define it without decorators")
        self.env[s.name] = LocalFunction(s, self)

    def expr_Lambda(self, node):
        return LocalFunction(node, self)

    def call_local(self, fn: "LocalFunction", args, kwargs, node):
        if self.depth >= MAX_INLINE_DEPTH:
            raise self.error(node, f"calls nest deeper than {MAX_INLINE_DEPTH} levels: recursion "
                                   f"whose depth depends on computed values is not supported",
                             cls=S2SGradError)
        outer = fn.lowerer
        sub = Lowerer(self.src, self.resolver, self.em, top=self.top, depth=self.depth + 1)
        sub.caller = self
        sub.local_names = _assigned_names(fn.node)
        sub.env = {k: v for k, v in outer.env.items() if not k.startswith("$")}
        a = fn.node.args
        if a.vararg or a.kwarg or a.kwonlyargs:
            raise self.unsupported(node, "*args/**kwargs/keyword-only parameters in a nested "
                                         "function", "use plain parameters")
        names = [p.arg for p in a.posonlyargs + a.args]
        defaults = fn.defaults
        if len(args) > len(names):
            raise self.error(node, "too many arguments", cls=S2SGradError)
        bound = dict(zip(names, args))
        for k, v in kwargs.items():
            if k not in names or k in bound:
                raise self.error(node, f"bad keyword argument '{k}'", cls=S2SGradError)
            bound[k] = v
        for name, d in zip(names[len(names) - len(defaults):], defaults):
            bound.setdefault(name, d)
        missing = [n for n in names if n not in bound]
        if missing:
            raise self.error(node, f"missing argument(s) {missing}", cls=S2SGradError)
        sub.env.update(bound)
        saved = self.loc
        if isinstance(fn.node, ast.Lambda):
            sub.set_loc(fn.node)
            sub.env["$retv"] = sub.expr(fn.node.body)
        else:
            sub.lower_body(fn.node.body)
        self.loc = saved
        self.em.loc = saved
        return sub.env.get("$retv", Const(None))

    def stmt_If(self, s):
        test = self.truth(self.expr(s.test), s.test)
        if isinstance(test, Const):
            self.lower_body(s.body if test.value else s.orelse)
            return
        self.lower_if(test, lambda: self.lower_body(s.body), lambda: self.lower_body(s.orelse), s)

    def truth(self, v, node):
        """A branch condition: a compile-time constant or a runtime atom."""
        if isinstance(v, Static):
            return Const(bool(v.obj))
        if isinstance(v, (Seq, DictVal)):
            return Const(bool(v.items))
        return v

    def in_block(self, block, fn):
        saved = self.em.block
        self.em.block = block
        try:
            fn()
        finally:
            self.em.block = saved

    def lower_if(self, pred, then_fn, else_fn, node):
        """Lower a runtime two-way branch: each side runs in a copy of the
        environment; names bound differently on the two sides become the
        outputs of one ``cond`` equation (a value missing on one side is
        None there, as Python would leave it unbound)."""
        before = dict(self.env)
        blocks, envs = [], []
        for fn in (then_fn, else_fn):
            self.env = dict(before)
            blk = Block()
            self.in_block(blk, fn)
            blocks.append(blk)
            envs.append(self.env)
        names = []
        for env in envs:
            for k, v in env.items():
                if before.get(k, _MISSING) is not v and k not in names:
                    names.append(k)
        merged = dict(before)
        outs, results = [], ([], [])
        for name in names:
            vals = [env.get(name, _MISSING) for env in envs]
            if vals[0] is vals[1]:
                merged[name] = vals[0]
                continue
            if name == "$cont" and all(isinstance(v, Const) or v is _MISSING for v in vals):
                pass
            self.merge_value(name, vals, blocks, outs, results, merged, node)
        eqn = Eqn(P.get("cond"), (pred,), {}, tuple(outs),
                  {"then": Block(blocks[0].eqns, [], results[0]),
                   "else": Block(blocks[1].eqns, [], results[1])}, self.loc)
        self.em.block.eqns.append(eqn)
        self.env = merged

    def merge_value(self, name, vals, blocks, outs, results, merged, node):
        if all(isinstance(v, Seq) for v in vals) and len(vals[0].items) == len(vals[1].items) \
                and vals[0].kind == vals[1].kind:
            items = []
            for i in range(len(vals[0].items)):
                sub = {}
                self.merge_value(name, [vals[0].items[i], vals[1].items[i]], blocks, outs,
                                 results, sub, node)
                items.append(sub[name])
            merged[name] = Seq(vals[0].kind, items)
            return
        if all(isinstance(v, DictVal) for v in vals) and vals[0].items.keys() == vals[1].items.keys():
            items = {}
            for k in vals[0].items:
                sub = {}
                self.merge_value(name, [vals[0].items[k], vals[1].items[k]], blocks, outs,
                                 results, sub, node)
                items[k] = sub[name]
            merged[name] = DictVal(items)
            return
        static = [v for v in vals if isinstance(v, (LocalFunction, Static))]
        if static:
            # a function or module bound on one side only: Python would raise
            # NameError if the other side used it, so keep the one that exists
            others = [v for v in vals if v is not _MISSING and v not in static]
            if len(static) == 1 and not others:
                merged[name] = static[0]
                return
            raise self.unsupported(node, f"choosing the function '{name}' at run time",
                                   "call each function in its own branch")
        atoms = []
        for blk, v in zip(blocks, vals):
            if v is _MISSING:
                atoms.append(Const(None))
            elif isinstance(v, (Seq, DictVal, Static)):
                saved = self.em.block
                self.em.block = blk
                try:
                    atoms.append(self.materialize(v, node))
                finally:
                    self.em.block = saved
            else:
                atoms.append(v)
        hint = name if name[0] != "$" else name[1:]
        o = Var(hint)
        s0, s1 = (P.shape_of(a) for a in atoms)
        o.shape = s0 if s0 is not None and s0 is s1 else P.fresh_shape()
        outs.append(o)
        results[0].append(atoms[0])
        results[1].append(atoms[1])
        merged[name] = o

    def expr_ListComp(self, node):
        """``[elt for t in it if c]`` (and a generator expression, as one would
        be consumed by ``sum``/``np.stack``/...): lowered as the loop
        ``_comp = []; for t in it: if c: _comp.append(elt)``, unrolled over a
        compile-time sequence, a runtime list otherwise.  The loop variables
        stay local to the comprehension, as in Python."""
        for gen in node.generators:
            if gen.is_async:
                raise self.unsupported(node, "async comprehensions", "use a for loop")
        self.top.comp_count = getattr(self.top, "comp_count", 0) + 1
        name = f"_comp{self.top.comp_count}"
        load = ast.Name(id=name, ctx=ast.Load())
        body = [ast.Expr(value=ast.Call(func=ast.Attribute(value=load, attr="append",
                                                           ctx=ast.Load()),
                                        args=[node.elt], keywords=[]))]
        for gen in reversed(node.generators):
            for cond in reversed(gen.ifs):
                body = [ast.If(test=cond, body=body, orelse=[])]
            body = [ast.For(target=gen.target, iter=gen.iter, body=body, orelse=[])]
        stmts = [ast.Assign(targets=[ast.Name(id=name, ctx=ast.Store())],
                            value=ast.List(elts=[], ctx=ast.Load()))] + body
        for st in stmts:
            for n in ast.walk(st):
                if "lineno" in n._attributes and not hasattr(n, "lineno"):
                    ast.copy_location(n, node)
        targets = [n.id for gen in node.generators for n in ast.walk(gen.target)
                   if isinstance(n, ast.Name)]
        saved = {t: self.env.get(t, _MISSING) for t in targets}
        saved_loc = self.loc
        self.lower_body(stmts)
        self.loc = self.em.loc = saved_loc
        result = self.env.pop(name)
        for t, v in saved.items():
            if v is _MISSING:
                self.env.pop(t, None)
            else:
                self.env[t] = v
        return result

    expr_GeneratorExp = expr_ListComp

    def expr_IfExp(self, node):
        test = self.truth(self.expr(node.test), node.test)
        if isinstance(test, Const):
            return self.expr(node.body if test.value else node.orelse)
        self.top.ifexp_count = getattr(self.top, "ifexp_count", 0) + 1
        key = f"$ifexp{self.top.ifexp_count}"     # unique: conditional expressions nest

        def side(n):
            def run():
                v = self.expr(n)          # may replace self.env (a nested conditional)
                self.env[key] = v
            return run

        self.lower_if(test, side(node.body), side(node.orelse), node)
        return self.env.pop(key)

    # ------------------------------------------------------------ loops

    def carried_names(self, loop):
        """Names a loop must carry: assigned in its body and either bound
        before the loop or read somewhere outside it."""
        assigned = _assigned_in(loop.body)
        outside = self.top.loads_outside(loop)
        return [n for n in assigned if n in self.env or n in outside]

    def loads_outside(self, loop):
        lo, hi = loop.lineno, loop.end_lineno
        return {n.id for n in ast.walk(self.src.node)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
                and not (lo <= n.lineno <= hi)}

    def stmt_For(self, s):
        if s.orelse:
            raise self.unsupported(s, "'for ... else'", "use a flag variable instead")
        it = s.iter
        target = s.target
        # for x in <compile-time sequence>: unrolled while lowering
        seq = self.static_iterable(it)
        if seq is not None:
            return self.unrolled_for(s, seq)
        iterable, item_of = self.loop_iterable(it)
        self.runtime_loop(s, target, iterable, item_of, None)

    def static_iterable(self, it):
        v = self.expr(it)
        if isinstance(v, Seq):
            return v.items
        if isinstance(v, DictVal):
            return [Const(k) for k in v.items]
        if isinstance(v, Const) and isinstance(v.value, (tuple, list, range)):
            return [Const(x) for x in v.value]
        self._iter_value = v
        return None

    def unrolled_for(self, s, items):
        saved_flags = {f: self.env.pop(f) for f in ("$brk", "$cont") if f in self.env}
        self.loop_depth += 1
        stmts = s.body

        def run(k):
            if k == len(items):
                return
            self.env["$cont"] = Const(False)
            self.bind(s.target, items[k])
            self.lower_body(stmts)
            self.env.pop("$cont", None)
            flag = self.env.get("$brk", Const(False))
            if isinstance(flag, Const) and flag.value:
                return
            if isinstance(flag, Var):
                pred = self.apply(P.get("logical_not"), [flag], {}, s)
                self.lower_if(pred, lambda: run(k + 1), lambda: None, s)
                return
            run(k + 1)

        run(0)
        self.loop_depth -= 1
        self.env.pop("$brk", None)
        self.env.update(saved_flags)

    def loop_iterable(self, it):
        """(iterable atom, item_of(index) -> value) for a runtime loop."""
        base = self._iter_value
        self._iter_value = None
        if base is None:
            base = self.expr(it)
        if isinstance(base, Var) and self._is_range(base):
            return base, _identity
        if isinstance(base, Const) and isinstance(base.value, range):
            return base, _identity
        if isinstance(base, IterVal):
            rng = self.em.call(P.get("range"), base.length)
            return rng, base.item
        base = self.materialize(base, it)
        rng = self.em.call(P.get("range"), self.apply(P.get("len"), [base], {}, it))
        return rng, (lambda i: self.getitem(base, i))

    def _is_range(self, v):
        for e in self.em.block.eqns:
            if v in e.outs:
                return e.prim.name == "range"
        return False

    def length_of(self, v, node):
        if isinstance(v, IterVal):
            return v.length
        if isinstance(v, Const) and isinstance(v.value, range):
            return Const(len(v.value))
        return self.apply(P.get("len"), [v], {}, node)

    def item_of(self, v, i, node):
        if isinstance(v, IterVal):
            return v.item(i)
        return self.getitem(v, i)

    def runtime_loop(self, s, target, iterable, item_of, test):
        """Lower a loop that stays a loop: ``for`` (iterable given) or
        ``while`` (``test`` given).  A name the body changes only through an
        alias or a view (``for row in A: row[0] = 1`` changes ``A``) is found
        while lowering the body; the loop is then lowered again carrying it."""
        mark = len(self.em.block.eqns)
        env0 = dict(self.env)
        extra = []
        while True:
            leaked = self._runtime_loop(s, target, iterable, item_of, test, extra)
            if not leaked:
                return
            del self.em.block.eqns[mark:]
            self.env = dict(env0)
            extra += [n for n in leaked if n not in extra]

    def _runtime_loop(self, s, target, iterable, item_of, test, extra):
        is_while = test is not None
        names = self.carried_names(s)
        names += [n for n in extra if n not in names]
        # Names of one array (b = a) the body only writes into (never rebinds)
        # stay one array in the loop: one carry, the others bound to it.
        loop_targets = {n.id for n in ast.walk(target) if isinstance(n, ast.Name)} \
            if target is not None else set()
        aliases = {}
        first = {}
        for n in names:
            v = self.env.get(n)
            if isinstance(v, Var) and not n.startswith("$") and not _rebinds(s.body, n):
                first.setdefault(id(v), n)
        for m, v in self.env.items():
            if isinstance(v, Var) and id(v) in first and first[id(v)] != m \
                    and not m.startswith("$") and not _rebinds(s.body, m) \
                    and m not in loop_targets:
                aliases[m] = first[id(v)]
        names = [n for n in names if n not in aliases]
        if _has(s.body, ast.Return):
            names += [n for n in ("$ret", "$retv") if n not in names]
        saved_flags = {f: self.env.pop(f) for f in ("$brk", "$cont") if f in self.env}
        has_break = _has(s.body, ast.Break) or _has(s.body, ast.Return)
        if has_break:
            names.append("$brk")
            self.env["$brk"] = Const(False)
        self.env.setdefault("$ret", Const(False)) if "$ret" in names else None
        self.env.setdefault("$retv", Const(None)) if "$retv" in names else None
        inits = []
        for n in names:
            v = self.env.get(n, Const(None))
            if isinstance(v, Static):
                raise self.unsupported(s, f"reassigning '{n}' (a module or function) in a loop",
                                       "use another name")
            inits.append(self.materialize(v, s, runtime_list=True)
                         if not isinstance(v, (Var, Const)) else v)
        # A carry may change shape from one iteration to the next (acc = 0.0,
        # then an array): its token is fresh, never the initial value's.
        params = [Var(n.lstrip("$"), shape=LIST if P.shape_of(a) is LIST else P.fresh_shape())
                  for n, a in zip(names, inits)]
        outer_env = self.env
        cond_block = None
        if is_while:
            cparams = [Var(p_.hint, shape=p_.shape) for p_ in params]
            self.env = dict(outer_env)
            self.env.update(zip(names, cparams))
            for m, n in aliases.items():
                self.env[m] = self.env[n]
            cond_block = Block([], cparams, [])
            holder = {}
            self.in_block(cond_block, lambda: holder.setdefault(
                "t", self.truth(self.expr(test), test)))
            t = holder["t"]
            cond_block.results = [self.materialize(t, test)]
        index = None
        body = Block([], [], [])
        self.env = dict(outer_env)
        self.env.update(zip(names, params))
        # `for row in A:` with A written into (never rebound) in the body: the
        # rows are read from A's current version, as NumPy's iteration does
        for m, n in aliases.items():
            self.env[m] = self.env[n]
        saved_alias = self.iter_alias
        self.iter_alias = dict(saved_alias)
        in_place = [(a, p_) for n, a, p_ in zip(names, inits, params)
                    if isinstance(a, Var) and not n.startswith("$") and not _rebinds(s.body, n)]
        for a, p_ in in_place:
            self.iter_alias[id(a)] = p_
        # an array written in place keeps its place in the view graph: a view
        # carried in (row = A[i] before an inner loop) still writes into its
        # base, and the views of it taken before the loop still see the writes
        views = self.top.views
        for a, p_ in in_place:
            if a in views:
                b, t, prts = views[a]
                self.add_view(p_, self.iter_alias.get(id(b), b), t, prts)
            for c in self.top.view_children.get(id(a), ()):
                self.top.view_children.setdefault(id(p_), []).append(c)
        self.env["$cont"] = Const(False)
        if has_break:
            self.env["$brk"] = Const(False)
        self.loop_depth += 1

        def lower_body():
            if not is_while:
                nonlocal index
                index = Var(target.id if isinstance(target, ast.Name) and item_of is _identity
                            else "i", shape=P.SCALAR)
                self.set_loc(s)
                self.bind(target, item_of(index))
            self.lower_body(s.body)

        try:
            self.in_block(body, lower_body)
        finally:
            self.iter_alias = saved_alias
        self.loop_depth -= 1
        targets = {n.id for n in ast.walk(target) if isinstance(n, ast.Name)} \
            if target is not None else set()
        leaked = [n for n, v in self.env.items()
                  if not n.startswith("$") and n not in names and n not in targets
                  and n not in aliases and n in outer_env and outer_env[n] is not v]
        if leaked:
            self.env = outer_env
            self.env.update(saved_flags)
            return leaked
        results = []
        for n, p_ in zip(names, params):
            v = self.env.get(n, p_)
            if not isinstance(v, (Var, Const)):
                saved = self.em.block
                self.em.block = body
                try:
                    v = self.materialize(v, s)
                finally:
                    self.em.block = saved
            results.append(v)
        body.params = ([index] if not is_while else []) + params
        body.results = results
        outs = tuple(Var(p_.hint, shape=LIST if p_.shape is LIST else P.fresh_shape())
                     for p_ in params)
        eparams = {"body": body}
        if is_while:
            eparams["cond"] = cond_block
            eqn = Eqn(P.get("while_loop"), tuple(inits), {}, outs, eparams, self.loc)
        else:
            eqn = Eqn(P.get("for_loop"), (iterable,) + tuple(inits), {}, outs, eparams, self.loc)
        if has_break:
            eparams["break_at"] = names.index("$brk")
        self.set_loc(s)
        eqn.loc = self.loc
        self.em.block.eqns.append(eqn)
        self.env = outer_env
        for n, o in zip(names, outs):
            self.env[n] = o
        for m, n in aliases.items():
            self.env[m] = self.env[n]
        self.env.pop("$brk", None)
        self.env.pop("$cont", None)
        self.env.update(saved_flags)

    def stmt_While(self, s):
        if s.orelse:
            raise self.unsupported(s, "'while ... else'", "use a flag variable instead")
        self.runtime_loop(s, None, None, None, s.test)

    # ------------------------------------------------------------ binding

    def bind(self, target, value):
        if isinstance(target, ast.Name):
            self.name_value(value, target.id)
            self.env[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            if any(isinstance(e, ast.Starred) for e in target.elts):
                raise self.unsupported(target, "starred assignment",
                                       "unpack into a fixed number of names")
            items = self.unpack(value, len(target.elts), target)
            for t, v in zip(target.elts, items):
                self.bind(t, v)
        elif isinstance(target, ast.Subscript):
            self.bind_subscript(target, value)
        elif isinstance(target, ast.Attribute):
            raise self.unsupported(target, "assignment to an attribute",
                                   "assign to a local variable")
        else:
            raise self.unsupported(target, f"assignment to {type(target).__name__}",
                                   "assign to a local variable")

    def bind_subscript(self, target, value):
        """``y[idx] = value``: a new version of ``y`` (or of a literal list/dict)."""
        if not isinstance(target.value, ast.Name):
            raise self.unsupported(target, "assignment into a nested subscript",
                                   "index once with a tuple: y[i, j] = v")
        name = target.value.id
        base = self.load_name(target.value)
        if isinstance(base, (Seq, DictVal)):
            key = self.expr(target.slice)
            if not isinstance(key, Const):
                raise self.unsupported(target, "assignment into a list at a computed position",
                                       "use an array")
            if isinstance(base, DictVal):
                items = dict(base.items)
                items[key.value] = value
                self.env[name] = DictVal(items)
            else:
                items = list(base.items)
                items[key.value] = value
                self.env[name] = Seq(base.kind, items)
            return
        if isinstance(base, Static):
            raise self.unsupported(target, f"assignment into '{name}'", "assign into an array")
        template, parts = self.index_template(target.slice)
        base = self.materialize(base, target)
        v = self.materialize(value, target)
        out = self.em.call(P.get("setitem"), base, v, *parts, _params={"index": template})
        out.hint = name
        self.env[name] = out
        self.write_back(base, out)

    def name_value(self, value, name):
        """Give a freshly computed temporary the user's variable name."""
        if isinstance(value, Var) and value.hint == "":
            value.hint = name

    def unpack(self, value, n, node):
        if isinstance(value, Seq):
            if len(value.items) != n:
                raise self.error(node, f"cannot unpack {len(value.items)} values into {n} names",
                                 cls=S2SGradError)
            return value.items
        if isinstance(value, (Var, Const)):
            return [self.getitem(value, i) for i in range(n)]
        raise self.error(node, "cannot unpack this value", cls=S2SGradError)

    # ------------------------------------------------------------ expressions

    def expr(self, node):
        m = getattr(self, "expr_" + type(node).__name__, None)
        if m is None:
            raise self.unsupported(node, f"the expression '{_snippet(node)}' "
                                         f"({type(node).__name__})",
                                   "rewrite it with supported NumPy operations")
        return m(node)

    def expr_Constant(self, node):
        return Const(node.value)

    def expr_Name(self, node):
        return self.load_name(node)

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
        if isinstance(a, Seq) or isinstance(b, Seq):
            if isinstance(op, ast.Add) and isinstance(a, Seq) and isinstance(b, Seq):
                return Seq(a.kind, a.items + b.items)
            if isinstance(op, ast.Mult) and isinstance(b, Const) and isinstance(b.value, int):
                return Seq(a.kind, a.items * b.value)
        name = _BINOPS.get(type(op))
        if name is None:
            raise self.unsupported(node, f"the operator '{_OPSYM.get(type(op), op)}'",
                                   "use the equivalent NumPy function")
        return self.apply(P.get(name), [a, b], {}, node)

    def expr_UnaryOp(self, node):
        v = self.expr(node.operand)
        if isinstance(node.op, ast.Not) and isinstance(v, Const):
            return Const(not v.value)
        return self.apply(P.get(_UNARY[type(node.op)]), [v], {}, node)

    def expr_Compare(self, node):
        left = self.expr(node.left)
        result = None
        for op, right_node in zip(node.ops, node.comparators):
            right = self.expr(right_node)
            if isinstance(op, (ast.Is, ast.IsNot)):
                r = self.identity_test(left, right, node)
                if isinstance(op, ast.IsNot):
                    r = Const(not r.value)
            elif isinstance(op, (ast.In, ast.NotIn)):
                r = self.membership(left, right, node)
                if isinstance(op, ast.NotIn):
                    r = Const(not r.value)
            else:
                r = self.apply(P.get(_CMP[type(op)]), [left, right], {}, node)
            result = r if result is None else self.boolop_and(result, r, node)
            left = right
        return result

    def identity_test(self, a, b, node):
        if isinstance(a, Const) and isinstance(b, Const):
            return Const(a.value is b.value)
        if isinstance(a, Static) and isinstance(b, Static):
            return Const(a.obj is b.obj)
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
        raise self.unsupported(node, "'in' on computed values", "test membership outside")

    def boolop_and(self, a, b, node):
        if isinstance(a, Const) and isinstance(b, Const):
            return Const(a.value and b.value)
        return self.apply(P.get("logical_and"), [a, b], {}, node)

    def expr_BoolOp(self, node):
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

    def expr_Attribute(self, node):
        base = self.expr(node.value)
        attr = node.attr
        if isinstance(base, Static):
            try:
                obj = getattr(base.obj, attr)
            except AttributeError:
                raise self.error(node, f"'{_snippet(node)}' does not exist",
                                 cls=UnresolvedNameError) from None
            return self.static_value(obj)
        if isinstance(base, (Var, Const)):
            prim = P.ATTRIBUTES.get(attr)
            if prim is None:
                if attr in P.METHODS:
                    raise self.unsupported(node, f"the method '.{attr}' used without calling it",
                                           "call it")
                raise self.unsupported(node, f"the attribute '.{attr}'",
                                       "use a supported attribute (.T .shape .ndim .size .dtype)")
            return self.apply(prim, [base], {}, node, spelling=("attr", attr))
        if isinstance(base, Seq) and base.fields and attr in base.fields:
            return base.items[base.fields.index(attr)]
        raise self.unsupported(node, f"the attribute '.{attr}' of a container",
                               "index the container instead")

    def expr_Subscript(self, node):
        base = self.expr(node.value)
        idx_node = node.slice
        if isinstance(base, (Seq, DictVal)):
            if isinstance(idx_node, ast.Slice) and isinstance(base, Seq):
                bounds = [None if b is None else self.expr(b)
                          for b in (idx_node.lower, idx_node.upper, idx_node.step)]
                if not all(b is None or (isinstance(b, Const) and isinstance(b.value, int))
                           for b in bounds):
                    raise self.unsupported(node, "slicing a list or tuple with computed bounds",
                                           "use constant bounds, or stack it into an array")
                key = Const(slice(*(None if b is None else b.value for b in bounds)))
            else:
                key = self.expr(idx_node)
            return self.container_getitem(base, key, node)
        if isinstance(base, Static):
            raise self.unsupported(node, f"subscripting '{_snippet(node.value)}'",
                                   "index an array value")
        template, parts = self.index_template(idx_node)
        return self.apply_getitem(base, template, parts, node)

    def container_getitem(self, base, key, node):
        if isinstance(base, DictVal):
            if not isinstance(key, Const) or key.value not in base.items:
                raise self.error(node, f"key {_snippet(node.slice)!s} is not in this dict",
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

    def index_template(self, idx_node):
        parts: list = []

        def item(n):
            if isinstance(n, ast.Slice):
                return slice(*(None if x is None else scalar(x)
                               for x in (n.lower, n.upper, n.step)))
            return scalar(n)

        def scalar(n):
            v = self.expr(n)
            if isinstance(v, Const) and (v.value is None or v.value is Ellipsis or
                                         (isinstance(v.value, int))):
                return v.value
            if isinstance(v, Static) and v.obj is None:
                return None
            parts.append(self.materialize(v, n))
            return Slot(len(parts) - 1)

        if isinstance(idx_node, ast.Tuple):
            t = tuple(item(e) for e in idx_node.elts)
        else:
            t = item(idx_node)
        return t, parts

    def getitem(self, value, i):
        """``value[i]`` for a Python int or a computed index."""
        if isinstance(value, Var):
            # the rows of an array the loop writes into: its current version
            value = self.iter_alias.get(id(value), value)
        if isinstance(value, (Seq, DictVal)):
            return self.container_getitem(value, i if isinstance(i, (Var, Const)) else Const(i),
                                          self.node)
        if isinstance(i, int):
            return self.apply_getitem(value, i, [], self.node)
        return self.apply_getitem(value, Slot(0), [i], self.node)

    def apply_getitem(self, base, template, parts, node):
        base = self.materialize(base, node)
        if isinstance(base, Var) and P.shape_of(base) is LIST:
            if isinstance(template, Slot):
                return self.em.call(P.get("list_get"), base, parts[template.k])
            if isinstance(template, int):
                return self.em.call(P.get("list_get"), base, Const(template))
            raise self.unsupported(node, "slicing a list built at run time",
                                   "stack it into an array first")
        out = self.em.call(P.get("getitem"), base, *parts, _params={"index": template})
        if isinstance(base, Var) and _is_basic_index(template, parts):
            self.add_view(out, base, template, parts)
        return out

    def add_view(self, v, base, template, parts):
        self.top.views[v] = (base, template, parts)
        self.top.view_children.setdefault(id(base), []).append(v)

    # ------------------------------------------------------------ aliasing

    def envs(self):
        """The environments whose names may refer to this scope's arrays: this
        one and those of the calls being inlined."""
        lw = self
        while lw is not None:
            yield lw.env
            lw = lw.caller

    def live_atoms(self):
        """ids of the Vars bound to names that may still be read: loaded at or
        after the current line, or anywhere when inside a loop (a view that is
        never read again need not see later writes)."""
        out = set()
        lw = self
        while lw is not None:
            last = lw.last_loads()
            line = lw.loc.lineno if lw.loc is not None else 0
            for k, v in lw.env.items():
                if k.startswith("$") or (lw.loop_depth == 0 and last.get(k, -1) < line):
                    continue
                for a in _atoms_in(v):
                    out.add(id(a))
            lw = lw.caller
        return out

    def last_loads(self):
        cache = self.top.__dict__.setdefault("_last_loads", {})
        key = id(self.src.node)
        if key not in cache:
            last = {}
            for n in ast.walk(self.src.node):
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
                    last[n.id] = max(last.get(n.id, -1), getattr(n, "end_lineno", n.lineno))
            cache[key] = last
        return cache[key]

    def aliased(self, v, name):
        """Whether the array ``v`` (bound to ``name``) is also reachable
        another way: another name, a container, a view of it, or it is a view."""
        if v in self.top.views:
            return True
        vs = {id(v)} | {id(w) for w in self.top.view_children.get(id(v), ())}
        for env in self.envs():
            for k, val in env.items():
                if k == name and env is self.env:
                    continue
                if any(id(a) in vs for a in _atoms_in(val)):
                    return True
        return False

    def write_back(self, old, new):
        """The array ``old`` was written into, giving ``new``: NumPy changes it
        in place, so every name bound to it sees the new version, so does the
        array it is a view of (``v = a[:2]; v[0] = 1`` changes ``a``), and so
        do the views of it that names hold (``a[0] = 1`` changes ``v``)."""
        if not isinstance(old, Var) or old is new:
            return
        views = self.top.views
        bound = self.live_atoms()
        todo = [(old, new, True)]
        done = set()
        while todo:
            o, n, up = todo.pop()
            if id(o) in done:
                continue
            done.add(id(o))
            for env in self.envs():
                for k, v in list(env.items()):
                    r = _replace_atom(v, o, n)
                    if r is not v:
                        env[k] = r
            view = views.get(o)
            if up and view is not None:
                b, t, parts = view
                if isinstance(t, _Transposed):
                    # v = a.T written: a is the new v transposed back
                    nb = self.em.call(P.get("transpose"), n, axes=t.inverse())
                else:
                    nb = self.em.call(P.get("setitem"), b, n, *parts, _params={"index": t})
                nb.hint = b.hint
                self.add_view(n, nb, t, parts)
                todo.append((b, nb, True))
            for v in list(self.top.view_children.get(id(o), ())):
                if id(v) not in done and id(v) in bound:
                    _, t, parts = views[v]
                    if isinstance(t, _Transposed):
                        nv = self.em.call(P.get("transpose"), n, axes=t.const())
                        nv.hint = v.hint
                        self.add_view(nv, n, t, parts)
                        todo.append((v, nv, False))
                        continue
                    nv = self.em.call(P.get("getitem"), n, *parts, _params={"index": t})
                    nv.hint = v.hint
                    if _ints_only(t):
                        # a[0] of a 1-d array is a scalar, a copy: only an array
                        # result is a view (known at run time: np.ndim)
                        nd = self.em.call(P.get("ndim"), v)
                        pred = self.em.call(P.get("greater"), nd, Const(0))
                        sel = Var(v.hint, shape=P.shape_of(v))
                        self.em.block.eqns.append(Eqn(
                            P.get("cond"), (pred,), {}, (sel,),
                            {"then": Block([], [], [nv]), "else": Block([], [], [v])},
                            self.loc))
                        nv = sel
                    self.add_view(nv, n, t, parts)
                    todo.append((v, nv, False))

    def expr_Call(self, node):
        for kw in node.keywords:
            if kw.arg is None:
                raise self.unsupported(node, "'**' arguments", "pass keyword arguments by name")
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "append" and \
                isinstance(func.value, ast.Name) and len(node.args) == 1 and not node.keywords:
            return self.list_append(func.value, node.args[0], node)
        if isinstance(func, ast.Attribute):
            base = self.expr(func.value)
            if not isinstance(base, Static):
                args = self.expr_items(node.args)
                kwargs = {k.arg: self.expr(k.value) for k in node.keywords}
                return self.method_call(base, func.attr, args, kwargs, node)
            try:
                callee = self.static_value(getattr(base.obj, func.attr))
            except AttributeError:
                raise self.error(func, f"'{_snippet(func)}' does not exist",
                                 cls=UnresolvedNameError) from None
        else:
            callee = self.expr(func)
        if isinstance(callee, Static) and _ufunc_at(callee.obj) is not None:
            return self.ufunc_at(_ufunc_at(callee.obj), node)
        args = self.expr_items(node.args)
        kwargs = {k.arg: self.expr(k.value) for k in node.keywords}
        if isinstance(callee, LocalFunction):
            return self.call_local(callee, args, kwargs, node)
        if not isinstance(callee, Static):
            raise self.error(node, f"'{_snippet(func)}' is not a function s2sgrad can call",
                             cls=UnknownFunctionError)
        return self.call_static(callee.obj, args, kwargs, node)

    def ufunc_at(self, ufunc, node):
        """``np.add.at(y, idx, v)`` (unbuffered: repeated indices accumulate) and
        ``np.subtract.at``: a new version of the local ``y``,
        ``y + index_add(broadcast(v), y, idx)``."""
        name = f"np.{ufunc.__name__}.at"
        if len(node.args) != 3 or node.keywords or not isinstance(node.args[0], ast.Name) \
                or node.args[0].id not in self.env:
            raise self.unsupported(node, f"this form of '{name}'",
                                   f"write {name}(y, idx, v) with y a local variable or an "
                                   f"argument")
        y = self.materialize(self.load_name(node.args[0]), node)
        template, parts = self.index_template(node.args[1])
        v = self.materialize(self.expr(node.args[2]), node)
        sel = self.em.call(P.get("getitem"), y, *parts, _params={"index": template})
        vb = self.em.call(P.get("broadcast_like"), v, sel)
        if ufunc is np.subtract:
            vb = self.em.call(P.get("negative"), vb)
        upd = self.em.call(P.get("index_add"), vb, y, *parts, _params={"index": template})
        out = self.em.call(P.get("add"), y, upd)
        out.hint = node.args[0].id
        self.env[node.args[0].id] = out
        self.write_back(y, out)
        return Const(None)

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

    def method_call(self, base, name, args, kwargs, node):
        if isinstance(base, DictVal):
            if name in ("keys", "values", "items") and not args:
                keys = list(base.items)
                if name == "keys":
                    return Seq("list", [Const(k) for k in keys])
                if name == "values":
                    return Seq("list", list(base.items.values()))
                return Seq("list", [Seq("tuple", [Const(k), v]) for k, v in base.items.items()])
            if name == "get" and args and isinstance(args[0], Const):
                default = args[1] if len(args) > 1 else Const(None)
                return base.items.get(args[0].value, default)
        if isinstance(base, Seq):
            raise self.unsupported(node, f"the list/tuple method '.{name}'",
                                   "use NumPy functions on arrays")
        entry = P.METHODS.get(name)
        if entry is None:
            raise self.error(node, f"the array method '.{name}()' is not supported by s2sgrad; "
                                   f"use the NumPy function instead", cls=UnknownFunctionError,
                             construct=name)
        prim, adapter = entry
        args = [base] + list(args)
        if adapter is not None:
            args, kwargs = adapter(args, kwargs)
        return self.apply(prim, args, kwargs, node, spelling=("method", name))

    def call_static(self, obj, args, kwargs, node):
        prim = P.lookup_object(obj)
        if prim is not None:
            # np.multiply(a, b) prints as the call, not as a * b: on Python
            # floats NumPy's function gives np.float64 (with .astype, ...)
            spelling = ("func",) if prim.printer is not None and \
                getattr(prim.printer, "operator", False) and obj is prim.impl else None
            return self.apply(prim, args, kwargs, node, spelling=spelling)
        handler = _BUILTIN_CALLS.get(id(obj))
        if handler is not None and handler[0] is obj:
            return handler[1](self, args, kwargs, node)
        mname = _MATH_FUNCS.get(id(obj))
        if mname is not None and getattr(math, obj.__name__, None) is obj and not kwargs:
            # math.exp(x) on a Python scalar: NumPy's function, then float() as math gives
            if obj is math.log and len(args) == 2:
                out = self.apply(P.get("divide"), [
                    self.apply(P.get("log"), args[:1], {}, node),
                    self.apply(P.get("log"), args[1:], {}, node)], {}, node)
            else:
                out = self.apply(P.get(mname), args, {}, node)
            return self.apply(P.get("float"), [out], {}, node)
        if obj is warnings.simplefilter or obj is warnings.filterwarnings:
            if self.top.warning_filters_ok:
                return Const(None)     # only which warnings show; restored at the block's end
            raise self.error(node, f"'{_describe(obj, node)}' outside a 'with "
                                   f"warnings.catch_warnings():' block changes the global "
                                   f"warning filters; call it before the differentiated "
                                   f"function, or inside 'with warnings.catch_warnings():'",
                             construct=_describe(obj, node))
        if isinstance(obj, type) and issubclass(obj, np.generic) and \
                issubclass(obj, (np.floating, np.integer, np.bool_)):
            return self.apply(P.get("scalar_cast"), args, {"dtype": Const(obj)}, node)
        if isinstance(obj, types.FunctionType) and not _is_library_function(obj):
            return self.inline(obj, args, kwargs, node)
        if isinstance(obj, types.MethodType) and isinstance(obj.__func__, types.FunctionType) \
                and not _is_library_function(obj.__func__):
            return self.inline(obj.__func__, [Static(obj.__self__)] + list(args), kwargs, node)
        name = _describe(obj, node)
        raise self.error(node, f"'{name}' is not a function s2sgrad knows how to differentiate; "
                               f"use a supported NumPy function, or compute this value outside "
                               f"the differentiated function and pass it in",
                         cls=UnknownFunctionError, construct=name)

    def inline(self, fn, args, kwargs, node):
        if self.depth >= MAX_INLINE_DEPTH:
            raise self.error(node, f"calls nest deeper than {MAX_INLINE_DEPTH} levels while "
                                   f"inlining '{fn.__name__}': recursion whose depth depends "
                                   f"on computed values is not supported", cls=S2SGradError)
        try:
            src = parse_function(fn)
        except S2SGradError as exc:
            raise self.error(node, f"cannot inline '{fn.__name__}': {exc}",
                             cls=type(exc)) from None
        sub = Lowerer(src, Resolver(fn), self.em, top=self.top, depth=self.depth + 1)
        sub.caller = self
        sig = inspect.signature(fn)
        try:
            ba = sig.bind(*args, **kwargs)
        except TypeError as exc:
            raise self.error(node, f"bad call of '{fn.__name__}': {exc}", cls=S2SGradError) \
                from None
        for pname, param in sig.parameters.items():
            if pname in ba.arguments:
                v = ba.arguments[pname]
                if param.kind == param.VAR_POSITIONAL:
                    v = Seq("tuple", v)
                elif param.kind == param.VAR_KEYWORD:
                    v = DictVal(v)
                sub.env[pname] = v
            elif param.default is not inspect.Parameter.empty:
                sub.env[pname] = self.static_value(param.default)
            elif param.kind == param.VAR_POSITIONAL:
                sub.env[pname] = Seq("tuple", [])
            elif param.kind == param.VAR_KEYWORD:
                sub.env[pname] = DictVal({})
        saved = self.loc
        body = src.node.body
        if isinstance(src.node, ast.Lambda):
            sub.set_loc(src.node)
            sub.env["$retv"] = sub.expr(body)
        else:
            sub.lower_body(body)
        self.loc = saved
        self.em.loc = saved
        return sub.env.get("$retv", Const(None))

    # ------------------------------------------------------------ names

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
        if isinstance(obj, np.generic) and _is_number(obj):
            return Const(obj.item())
        if is_static_object(obj):
            return Static(obj)
        if isinstance(obj, tuple) and all(isinstance(v, (int, float, str, type(None))) for v in obj):
            return Const(obj)
        return Const(obj)  # other data: a constant held by the generated code

    # ------------------------------------------------------------ primitive calls

    def materialize(self, v, node=None, runtime_list=False):
        """Turn a compile-time value into an IR atom.  ``runtime_list``: a list
        literal becomes a runtime list (a loop carry that is appended to)."""
        if isinstance(v, (Var, Const)):
            return v
        if isinstance(v, Static):
            return Const(v.obj)
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
        raise AssertionError(v)

    def apply(self, prim, args, kwargs, node, spelling=None):
        params = {}
        if prim.name == "array" and args and not isinstance(args[0], Seq) and not (
                isinstance(args[0], Var) and P.shape_of(args[0]) is LIST):
            # np.array(x) of an array or a scalar: a copy, as np.asarray/np.copy
            return self.apply(P.get("copy"), args[:1], {k: v for k, v in kwargs.items()
                                                         if k == "dtype"}, node)
        if prim.seq_arg and args and isinstance(args[0], Var) and P.shape_of(args[0]) is LIST:
            if prim.name not in ("stack", "array"):
                raise self.unsupported(node, f"{prim.pyname} of a list built at run time",
                                       "use np.stack(list, axis) instead")
            axis = list(args[1:2]) or [kwargs.get("axis", Const(0))]
            return self.em.call(P.get("stack_list"), args[0], axis=self.materialize(axis[0]),
                                _params={"pyname": prim.pyname} if prim.name != "array" else
                                {"pyname": "np.array"})
        if prim.seq_arg:
            # np.stack([a, b], axis): the sequence's elements become the
            # positional operands; later positional arguments are the options.
            if not args or not isinstance(args[0], Seq):
                raise self.unsupported(node, f"passing a computed sequence to {prim.pyname}",
                                       f"pass a list or tuple literal of arrays, e.g. "
                                       f"{prim.pyname}([a, b])")
            options = [p.name for p in prim.signature.parameters.values()
                       if p.kind == p.KEYWORD_ONLY]
            extra = list(args[1:])
            if len(extra) > len(options):
                raise self.error(node, f"too many arguments in '{_snippet(node)}'",
                                 cls=S2SGradError)
            kwargs = dict(kwargs)
            for name, v in zip(options, extra):
                kwargs[name] = v
            args = list(args[0].items)
        atoms = [self.materialize(a, node) for a in args]
        katoms = {k: self.materialize(v, node) for k, v in kwargs.items()}
        if not prim.name.startswith("list_") and prim.name not in _TAKES_LISTS:
            # np.max(hs), np.mean(hs) of a list built at run time: NumPy converts the
            # list to an array (stacked along a new axis 0); so does the IR, so the
            # rule's cotangent is an array's and the list's is unstacked from it
            atoms = [self.em.call(P.get("stack_list"), a, axis=Const(0))
                     if isinstance(a, Var) and P.shape_of(a) is LIST else a for a in atoms]
        try:
            pos, kw = prim.bind(atoms, katoms)
        except TypeError as exc:
            raise self.error(node, f"unsupported arguments in '{_snippet(node)}': {exc}",
                             cls=S2SGradError) from None
        if prim.expand is not None:
            # a composite (scipy.stats.norm.logpdf, ...): the primitives it is made of
            out = prim.expand(self.em, *pos, **kw)
            return Seq("tuple", list(out)) if isinstance(out, tuple) else out
        folded = _fold_constants(prim, pos, kw)
        if folded is not None:
            return folded
        if spelling is not None:
            params["spelling"] = spelling
        out = self.em.call(prim, *pos, _params=params or None, **kw)
        if isinstance(out, tuple):
            return Seq("tuple", out)
        if prim.name == "transpose" and isinstance(out, Var) and isinstance(pos[0], Var) \
                and out is not pos[0]:
            axes = kw.get("axes", Const(None))
            if isinstance(axes, Const) and (axes.value is None or isinstance(axes.value, tuple)):
                self.add_view(out, pos[0], _Transposed(axes.value), [])    # a.T: a view
        if isinstance(out, Var) and prim.name in _NEW_ARRAY_OPS and any(out is a for a in pos):
            # x * 1, x + 0 folded to x: NumPy makes a new array (a write into
            # it must not reach x); +x keeps the type and makes the copy
            out = self.em.call(P.get("positive"), out)
        return out


# arithmetic that NumPy always computes into a new array (even x * 1)
_NEW_ARRAY_OPS = {"add", "subtract", "multiply", "divide", "power", "negative"}

# primitives whose operands may be runtime lists as they are
_TAKES_LISTS = {"len", "stack_list", "unstack", "make_tuple", "make_list", "copy"}

_SCALARS = (bool, int, float)
# primitives that Python operators lower to: folding them keeps Python's types
_PY_OPERATORS = {"add", "subtract", "multiply", "divide", "power", "floor_divide", "remainder",
                 "negative", "positive", "greater", "greater_equal", "less", "less_equal",
                 "equal", "not_equal", "logical_not", "logical_and", "logical_or",
                 "bitwise_and", "bitwise_or", "bitwise_xor", "invert"}


def _fold_constants(prim, pos, kw):
    """Evaluate a primitive on Python-scalar constants at compile time
    (``depth == 0``, ``n - 1``, ``np.sqrt(2.0)``), so constant control flow
    and recursion on constant arguments resolve while lowering."""
    if prim.impl is None or prim.eqn_rule or getattr(prim, "region", False) or prim.opaque:
        return None
    if prim.name not in _PY_OPERATORS:
        return None      # np.exp(2.0) is an np.float64 at run time, not a Python float
    vals = list(pos) + list(kw.values())
    if not vals or not all(isinstance(a, Const) and type(a.value) in _SCALARS for a in vals):
        return None
    try:
        with np.errstate(all="ignore"):
            r = prim.impl(*[a.value for a in pos], **{k: v.value for k, v in kw.items()})
    except Exception:
        return None
    if isinstance(r, np.generic):
        r = r.item()
    if type(r) in _SCALARS and not (isinstance(r, float) and not math.isfinite(r)):
        return Const(r)
    return None


_OPSYM = {ast.LShift: "<<", ast.RShift: ">>"}


def _snippet(node):
    try:
        s = ast.unparse(node)
    except Exception:  # pragma: no cover
        s = type(node).__name__
    return s if len(s) < 60 else s[:57] + "..."


def _is_basic_index(template, parts):
    """Whether indexing with ``template`` gives a NumPy view (basic indexing:
    ints, slices, None, Ellipsis, scalar loop indices), not a copy."""
    if isinstance(template, Slot) and isinstance(parts[template.k], Const) and \
            isinstance(parts[template.k].value, str):
        return True                 # d["W"] of a dict passed as data: the same array
    items = template if isinstance(template, tuple) else (template,)
    for it in items:
        if isinstance(it, Slot):
            if P.shape_of(parts[it.k]) is not P.SCALAR:
                return False
        elif not (it is None or it is Ellipsis or isinstance(it, slice) or
                  (isinstance(it, int) and not isinstance(it, bool))):
            return False
    return True


class _Transposed:
    """The "index" of a view ``a.T`` / ``np.transpose(a, axes)``."""
    __slots__ = ("axes",)

    def __init__(self, axes):
        self.axes = axes

    def const(self):
        return Const(self.axes)

    def inverse(self):
        return Const(None if self.axes is None else tuple(int(i) for i in np.argsort(self.axes)))


def _ints_only(template):
    """An index of integers only (``a[0]``, ``a[i, 2]``): a view of a row if
    the array has more dimensions, else a scalar copy."""
    items = template if isinstance(template, tuple) else (template,)
    return not any(it is None or it is Ellipsis or isinstance(it, slice) for it in items)


def _atoms_in(v):
    if isinstance(v, Seq):
        for i in v.items:
            yield from _atoms_in(i)
    elif isinstance(v, DictVal):
        for i in v.items.values():
            yield from _atoms_in(i)
    elif isinstance(v, Var):
        yield v


def _replace_atom(v, old, new):
    """``v`` with the Var ``old`` replaced by ``new`` (containers rebuilt;
    ``v`` itself when it does not hold ``old``)."""
    if v is old:
        return new
    if isinstance(v, Seq):
        items = [_replace_atom(i, old, new) for i in v.items]
        if any(a is not b for a, b in zip(items, v.items)):
            return Seq(v.kind, items, v.fields)
    elif isinstance(v, DictVal):
        items = {k: _replace_atom(i, old, new) for k, i in v.items.items()}
        if any(items[k] is not v.items[k] for k in items):
            return DictVal(items)
    return v


def _ufunc_at(obj):
    """The ufunc of ``np.add.at``/``np.subtract.at``, else None."""
    owner = getattr(obj, "__self__", None)
    if getattr(obj, "__name__", None) == "at" and (owner is np.add or owner is np.subtract):
        return owner
    return None


def _describe(obj, node):
    mod = getattr(obj, "__module__", None)
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if name and mod and mod not in ("builtins",):
        return f"{mod}.{name}"
    return name or _snippet(node.func)


def _is_library_function(fn):
    mod = getattr(fn, "__module__", "") or ""
    return mod.split(".")[0] in ("numpy", "scipy", "s2sgrad")


def _assigned_names(fn_node):
    """Names Python treats as local to the function (assigned anywhere in it)."""
    names = set()
    if isinstance(fn_node, ast.Lambda):
        args = fn_node.args
    else:
        args = fn_node.args
    for a in args.posonlyargs + args.args + args.kwonlyargs:
        names.add(a.arg)
    if args.vararg:
        names.add(args.vararg.arg)
    if args.kwarg:
        names.add(args.kwarg.arg)
    body = fn_node.body if isinstance(fn_node.body, list) else []

    for s in body:
        for n in _preorder(s, skip=(ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef,
                                    ast.ClassDef) + _COMPREHENSIONS):
            if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
                names.add(n.id)
            elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(n.name)
    return names


# ---------------------------------------------------------------- builtins

def _b_len(lw, args, kwargs, node):
    (x,) = args
    if isinstance(x, Seq):
        return Const(len(x.items))
    if isinstance(x, DictVal):
        return Const(len(x.items))
    return lw.apply(P.get("len"), [x], {}, node)


def _b_sum(lw, args, kwargs, node):
    if kwargs or not args:
        raise lw.unsupported(node, "sum() with these arguments", "use np.sum")
    seq = args[0]
    start = args[1] if len(args) > 1 else Const(0)
    if isinstance(seq, Seq):
        acc = start
        for v in seq.items:
            acc = lw.apply(P.get("add"), [acc, v], {}, node)
        return acc
    if isinstance(seq, Var) and P.shape_of(seq) is LIST:
        seq = lw.em.call(P.get("stack_list"), seq, axis=Const(0))
    total = lw.apply(P.get("sum"), [seq], {"axis": Const(0)}, node)
    return lw.apply(P.get("add"), [start, total], {}, node)


def _b_maxmin(name):
    def handler(lw, args, kwargs, node):
        if kwargs:
            raise lw.unsupported(node, f"{name}() with keyword arguments", f"use np.{name}")
        items = args[0].items if len(args) == 1 and isinstance(args[0], Seq) else args
        if len(items) == 1:
            return lw.apply(P.get("max" if name == "max" else "min"), [items[0]],
                            {"axis": Const(0)}, node)
        acc = items[0]
        for v in items[1:]:
            acc = lw.apply(P.get("maximum" if name == "max" else "minimum"), [acc, v], {}, node)
        return acc
    return handler


def _b_float(lw, args, kwargs, node):
    return lw.apply(P.get("float"), args, kwargs, node)


def _b_tuple_list(kind):
    def handler(lw, args, kwargs, node):
        if not args:
            return Seq(kind, [])
        (x,) = args
        if isinstance(x, Seq):
            return Seq(kind, x.items)
        if isinstance(x, DictVal):
            return Seq(kind, [Const(k) for k in x.items])
        raise lw.unsupported(node, f"{kind}() of a computed value", "use a literal")
    return handler


def _b_range(lw, args, kwargs, node):
    if all(isinstance(a, Const) for a in args):
        return Const(range(*[a.value for a in args]))
    raise lw.unsupported(node, "range() outside a for loop", "use np.arange")


def _b_isinstance(lw, args, kwargs, node):
    x, cls = args
    if isinstance(cls, Static) and isinstance(x, Const):
        return Const(isinstance(x.value, cls.obj))
    raise lw.unsupported(node, "isinstance() on a computed value", "check types outside")


def _b_enumerate(lw, args, kwargs, node):
    base = args[0]
    start = args[1] if len(args) > 1 else kwargs.get("start", Const(0))
    if isinstance(base, Seq) and isinstance(start, Const):
        return Seq("list", [Seq("tuple", [Const(start.value + k), v])
                            for k, v in enumerate(base.items)])
    return IterVal(lw.length_of(base, node),
                   lambda i: Seq("tuple", [lw.apply(P.get("add"), [i, start], {}, node),
                                           lw.item_of(base, i, node)]))


def _b_zip(lw, args, kwargs, node):
    if all(isinstance(a, Seq) for a in args):
        return Seq("list", [Seq("tuple", list(t)) for t in zip(*[a.items for a in args])])
    n = None
    for a in args:
        ln = lw.length_of(a, node)
        n = ln if n is None else lw.em.call(P.get("py_min"), n, ln)
    return IterVal(n, lambda i: Seq("tuple", [lw.item_of(a, i, node) for a in args]))


def _b_reversed(lw, args, kwargs, node):
    (base,) = args
    if isinstance(base, Seq):
        return Seq(base.kind, list(reversed(base.items)))
    n = lw.length_of(base, node)
    last = lw.apply(P.get("subtract"), [n, Const(1)], {}, node)
    return IterVal(n, lambda i: lw.item_of(base, lw.apply(P.get("subtract"), [last, i], {}, node),
                                           node))


def _b_print(lw, args, kwargs, node):
    return Const(None)  # printing has no effect on the value differentiated


# math.<f> on Python scalars -> the NumPy primitive of the same function
_MATH_FUNCS = {id(getattr(math, k)): v for k, v in {
    "exp": "exp", "expm1": "expm1", "log": "log", "log1p": "log1p", "log2": "log2",
    "log10": "log10", "sqrt": "sqrt", "sin": "sin", "cos": "cos", "tan": "tan",
    "asin": "arcsin", "acos": "arccos", "atan": "arctan", "atan2": "arctan2", "sinh": "sinh",
    "cosh": "cosh", "tanh": "tanh", "fabs": "abs", "pow": "power"}.items()}

_BUILTIN_CALLS = {}
for _obj, _h in [(len, _b_len), (sum, _b_sum), (max, _b_maxmin("max")), (min, _b_maxmin("min")),
                 (float, _b_float), (tuple, _b_tuple_list("tuple")), (list, _b_tuple_list("list")),
                 (isinstance, _b_isinstance), (print, _b_print), (enumerate, _b_enumerate),
                 (zip, _b_zip), (reversed, _b_reversed)]:
    _BUILTIN_CALLS[id(_obj)] = (_obj, _h)


# ---------------------------------------------------------------- entry point

def lower_function(fn, arg_specs, name=None) -> Func:
    """Lower ``fn`` to a :class:`Func`.

    ``arg_specs`` maps each parameter name of ``fn`` (in signature order) to
    ``("leaf", None)``, ``("static", value)`` (a Python int/bool: a constant),
    ``("none", None)`` (the argument is ``None``: a
    constant), or ``("tree", TreeDef)`` (a container flattened into leaves).
    The Func has one parameter Var per leaf, in order.
    """
    src = parse_function(fn)
    # Lowering recurses once per level of expression nesting (np.sin(np.sin(...))
    # written 300 deep is legal Python): make room for it.
    limit = sys.getrecursionlimit()
    if limit < 20000:
        sys.setrecursionlimit(20000)
    try:
        return _lower_function(fn, arg_specs, name, src)
    finally:
        if limit < 20000:
            sys.setrecursionlimit(limit)


def _lower_function(fn, arg_specs, name, src):
    em = Emitter(Block(), derivative=False)
    lw = Lowerer(src, Resolver(fn), em)
    params = []
    for pname, (kind, td) in arg_specs.items():
        if kind in ("none", "static"):
            lw.env[pname] = Const(td if kind == "static" else None)
            params.append(Var(pname))   # still a parameter of the generated function
            continue
        if kind == "leaf":
            v = Var(pname, shape=P.fresh_shape(pname))
            params.append(v)
            lw.env[pname] = v
            continue
        leaves = [Var(p, shape=P.fresh_shape(p)) for p in pytree.leaf_paths(td, pname)]
        params += leaves
        lw.env[pname] = _tree_value(td, iter(leaves))
    node = src.node
    if isinstance(node, ast.Lambda):
        lw.set_loc(node)
        lw.env["$retv"] = lw.expr(node.body)
    else:
        lw.lower_body(node.body)
    if "$retv" not in lw.env:
        raise src.error(UnsupportedSyntaxError,
                        f"'{fn.__name__}' does not return a value; return the quantity to "
                        f"differentiate", node)
    ret = lw.env["$retv"]
    results, out_tree = _flatten_value(lw, ret, node)
    prologue = []
    for prim, v, params_ in lw.prologue:
        prologue.append(Eqn(prim, (), {}, (v,), params_, None))
    body = Block(prologue + em.block.eqns)
    func = Func(name or fn.__name__, params, body, results, src.filename,
                info={"out_tree": out_tree, "source": src})
    return func


def _tree_value(td, it):
    if td.kind == "leaf":
        return next(it)
    kids = [_tree_value(c, it) for c in td.children]
    if td.kind == "dict":
        return DictVal(dict(zip(td.keys, kids)))
    if td.kind == "namedtuple":
        return Seq("tuple", kids, fields=tuple(td.type._fields))
    return Seq("list" if td.kind == "list" else "tuple", kids)


def _flatten_value(lw, v, node):
    """Flatten a returned value into atoms and a TreeDef."""
    leaves = []

    def go(x):
        if isinstance(x, Seq):
            return pytree.TreeDef("list" if x.kind == "list" else "tuple",
                                  tuple(go(i) for i in x.items))
        if isinstance(x, DictVal):
            keys = tuple(x.items)
            return pytree.TreeDef("dict", tuple(go(x.items[k]) for k in keys), keys)
        leaves.append(lw.materialize(x, node))
        return pytree.LEAF

    td = go(v)
    return leaves, td
