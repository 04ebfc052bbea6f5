"""Lowering of statements: assignment and unpacking, augmented assignment
(in place on arrays, rebinding on scalars), ``return``/``break``/``continue``
(as flags, see ``Lowerer.lower_body``), ``del``, ``assert`` and the
transparent ``with`` blocks.  Control flow statements are in ``control.py``,
writes into subscripts in ``subscripts.py``."""
from __future__ import annotations

import ast
import contextlib
import copy
import dataclasses
import importlib
import inspect
import sys
import warnings

import numpy as np

from .. import guards
from ..errors import S2SGradError
from ..ir import Const, Var
from ..primitives import core as P
from ..primitives.lists import LIST
from .aliasing import LIVE_PREFIX
from .containers import plain_record_class
from .values import DictVal, LocalFunction, Seq, Static, TreeObj
from .syntax import REFUSED, assigned_names, late_generators, maybe_lazy_call, snippet


def _constant_expr(e):
    """A literal constant: 1.0, -2, "relu", None, True, (1, 2)."""
    if isinstance(e, ast.Constant):
        return True
    if isinstance(e, ast.UnaryOp) and isinstance(e.op, (ast.USub, ast.UAdd)):
        return _constant_expr(e.operand)
    if isinstance(e, ast.Tuple):
        return all(_constant_expr(i) for i in e.elts)
    return False


class StatementsMixin:
    def stmt(self, s):
        m = getattr(self, "stmt_" + type(s).__name__, None)
        if m is not None:
            return m(s)
        if type(s) in REFUSED:
            what, msg = REFUSED[type(s)]
            raise self.error(s, msg, construct=what)
        raise self.error(s, f"'{type(s).__name__}' statements are not supported",
                         construct=type(s).__name__)

    def stmt_Import(self, s):
        """``import numpy.polynomial as npp`` inside the function: the module,
        resolved while compiling (Python caches it in sys.modules)."""
        for a in s.names:
            mod = self.imported(a.name, s)
            if a.asname:
                self.env[a.asname] = Static(mod)
            else:
                top = a.name.split(".")[0]
                self.env[top] = Static(sys.modules.get(top, mod))

    def stmt_ImportFrom(self, s):
        """``from scipy.special import expit`` inside the function: each name
        as ``module.name`` reads it (guarded for a module of yours)."""
        if s.level or not s.module:
            raise self.error(s, "a relative import inside a differentiated function is not "
                                "supported; import at module level", construct="import")
        mod = self.imported(s.module, s)
        for a in s.names:
            if a.name == "*":
                raise self.error(s, "'from ... import *' inside a function is not Python; "
                                    "import at module level", construct="import")
            if hasattr(mod, a.name):
                obj = getattr(mod, a.name)
            else:
                obj = self.imported(f"{s.module}.{a.name}", s)
            path = None if guards.is_library(mod) else \
                guards.Path(("object", mod, s.module)).attr(a.name)
            self.env[a.asname or a.name] = self.static_value(obj, path, s)

    def imported(self, name, s):
        try:
            return importlib.import_module(name)
        except ImportError as exc:
            raise self.error(s, f"import of '{name}' failed: {exc}", construct="import") from None

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
                what, msg = REFUSED[ast.With]
                raise self.error(item.context_expr, msg + f" ('{snippet(item.context_expr)}' "
                                 "is not a context manager s2sgrad knows to be transparent)",
                                 construct=what)
            if item.optional_vars is not None and kind != "nullcontext":
                raise self.error(item.context_expr, f"'with {snippet(item.context_expr)} as "
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

    def stmt_Assign(self, s):
        t0 = s.targets[0]
        if isinstance(s.value, ast.GeneratorExp) or \
                isinstance(s.value, ast.Call) and maybe_lazy_call(s.value):
            cache = self.top.__dict__.setdefault("_late_generators", {})
            key = id(self.src.node)
            if key not in cache:
                cache[key] = late_generators(self.src.node)
            late = cache[key].get(id(s))
            if late is not None and (isinstance(s.value, ast.GeneratorExp) or
                                     self.lazy_iterator_call(s.value)):
                what = "generator expression" if isinstance(s.value, ast.GeneratorExp) else \
                    f"iterator '{snippet(s.value.func)}(...)'"
                if late[2:] == ("again",):
                    raise self.error(s, f"the {what} bound to '{late[0]}' is "
                                        f"consumed again at line {late[1].lineno} (or in a "
                                        f"loop): Python's second pass over a generator finds "
                                        f"it empty, s2sgrad's would not; build a list "
                                        f"([... for ...]) to read the values more than once",
                                     construct="generator consumed twice")
                raise self.error(s, f"the {what} bound to '{late[0]}' is "
                                    f"consumed after the write at line {late[1].lineno}, which "
                                    f"may change what it reads (Python runs a generator when "
                                    f"it is consumed; s2sgrad evaluates it where it is "
                                    f"written); consume it before the write, or build a list "
                                    f"([... for ...]) if the values from before are meant",
                                 construct="generator consumed after a write")
        outer_hint = getattr(self, "unpack_hint", None)
        if len(s.targets) == 1 and isinstance(t0, (ast.Tuple, ast.List)) and \
                isinstance(s.value, ast.Call) and \
                not any(isinstance(e, ast.Starred) for e in t0.elts):
            # ``gy, gx = np.gradient(f)``: the number of results is known from the
            # targets (calls.apply reads the hint for primitives that need it)
            self.unpack_hint = (s.value, len(t0.elts))
        try:
            value = self.expr(s.value)
        finally:
            self.unpack_hint = outer_hint
        if len(s.targets) == 1:
            self.bind(s.targets[0], value)
            return
        # y[:2] = v = y[2:]: every target gets the one object, which a write
        # through an earlier target may have changed (a view of the array)
        self.bind_in_turn(s.targets, [value] * len(s.targets))

    def lazy_iterator_call(self, call):
        """Whether ``call`` makes an iterator that reads its operands when it
        is consumed: a generator function's (a nested one too), ``zip``,
        ``map``, ``filter``, ``enumerate``, ``reversed``, ``iter``, or an
        ``itertools`` one."""
        try:
            callee = self.static_callee(call.func)
        except S2SGradError:
            return False
        if isinstance(callee, LocalFunction):
            return any(isinstance(n, (ast.Yield, ast.YieldFrom))
                       for n in ast.walk(callee.node) if not isinstance(callee.node, ast.Lambda))
        obj = getattr(callee, "obj", None)
        if obj is None:
            return False
        return obj in (zip, map, filter, enumerate, reversed, iter) or \
            inspect.isgeneratorfunction(obj) or getattr(obj, "__module__", None) == "itertools"

    def stmt_AnnAssign(self, s):
        if s.value is not None:
            self.bind(s.target, self.expr(s.value))

    def stmt_AugAssign(self, s):
        if isinstance(s.target, ast.Subscript):
            # y[idx] += v  ==  y[idx] = y[idx] + v  (NumPy's semantics too)
            cur = self.expr_Subscript(ast.Subscript(value=s.target.value, slice=s.target.slice,
                                                    ctx=ast.Load()))
            rhs = self.expr(s.value)
            new = self.binop(s.op, cur, rhs, s)
            eqns = self.em.block.eqns
            if isinstance(new, Var) and eqns and eqns[-1].outs == (new,):
                eqns[-1].params["augmented"] = True     # may print as y[idx] op= v
            base = self.load_name(s.target.value) if isinstance(s.target.value, ast.Name) \
                else None
            if not (isinstance(base, Var) and P.shape_of(base) is LIST) and isinstance(cur, Var):
                # d["hs"][0] += v, t[0][-1] *= 2: an entry of the runtime list
                # the expression evaluates to
                e = self._defining_eqn(cur)
                if e is not None and e.prim.name == "list_get":
                    base = e.args[0]
            if isinstance(base, Var) and P.shape_of(base) is LIST and isinstance(cur, Var) \
                    and (P.shape_of(cur) is not P.SCALAR or self.top.alias.known_array(cur)) \
                    and self.list_owns_entries(base, cur, s):
                # every entry is an array the list alone holds: the write
                # into it is the entry's new value stored back
                new = self.kept_in_place(cur, new, "", s)
            elif isinstance(base, Var) and P.shape_of(base) is LIST and isinstance(cur, Var) \
                    and (P.shape_of(cur) is not P.SCALAR or self.top.alias.known_array(cur)):
                # xs[0] *= 2 on a list built at run time: an array item's
                # __imul__ writes into its memory, which another name, a view
                # or another entry of the list may share (not known here)
                t = ast.unparse(s.target)
                raise self.error(s, f"'{ast.unparse(s)}' writes in place into the array "
                                    f"a list built at run time holds, which other names or "
                                    f"entries may share (s2sgrad cannot tell which); write "
                                    f"{t} = {t} {_AUG_SYMBOL.get(type(s.op), 'op')} ... "
                                    f"to store a new array", cls=S2SGradError,
                                 construct="augmented assignment into a list item")
            if isinstance(base, (Seq, DictVal)) and isinstance(cur, Var):
                # d["a"] *= 2: the item's __imul__ runs first, in place on an
                # array (its other names and views see it), then d["a"] = it
                new = self.in_place_update(cur, self.kept_in_place(cur, new, "", s), "", s)
            self.bind_subscript(s.target, new)
            return
        if isinstance(s.target, ast.Attribute) and s.target.attr in ("real", "imag"):
            # z.imag += v: a write through the view of one part of z's memory
            op = _AUG_SYMBOL.get(type(s.op), "op")
            part = s.target.attr
            z = ast.unparse(s.target.value)
            hint = f"{z} = {z} + 1j * v" if part == "imag" else f"{z} = {z} + v"
            raise self.unsupported(s, f"'{z}.{part} {op}= ...' (a write through the "
                                      f"{part} part of an array's memory)",
                                   f"build the new value and rebind the name: for "
                                   f"{z}.{part} += v write {hint}")
        if isinstance(s.target, ast.Attribute) and isinstance(s.target.value, ast.Name):
            base = self.load_name(s.target.value)
            if isinstance(base, TreeObj) and (dataclasses.is_dataclass(base.obj) or
                                              plain_record_class(type(base.obj))):
                # st.t += 1, st.m += g of a dataclass made in the function: an
                # array field is updated in place (its other names see it), and
                # the field holds the new value
                cur = self.expr(ast.copy_location(ast.Attribute(
                    value=s.target.value, attr=s.target.attr, ctx=ast.Load()), s.target))
                rhs = self.expr(s.value)
                new = self.kept_in_place(cur, self.binop(s.op, cur, rhs, s), "", s)
                if isinstance(cur, Var) and isinstance(new, Var):
                    new = self.in_place_update(cur, new, "", s)
                self.set_field(self.load_name(s.target.value), s.target.attr, new, s.target)
                return
        if not isinstance(s.target, ast.Name):
            raise self.unsupported(s, "augmented assignment to this target",
                                   "assign to a plain variable name")
        cur = self.load_name(s.target)
        if isinstance(cur, Var) and P.shape_of(cur) is LIST:
            # xs += [v] on a list built at run time: extended in place, as
            # .append (every name bound to the list object sees it)
            new = self.list_binop(s.op, cur, self.expr(s.value), s)
            if new is not None:
                self.rebind_container(s.target.id, cur, new)
                return
            raise self.unsupported(s, "an augmented assignment of an array to a list built "
                                      "at run time", "append the items (xs.append(v))")
        if isinstance(cur, Var) and P.shape_of(cur) is not P.SCALAR:
            self.refuse_external_write(cur, s)    # in place on an array of the caller's
        rhs = self.expr(s.value)
        new = self.kept_in_place(cur, self.binop(s.op, cur, rhs, s), s.target.id, s)
        if isinstance(cur, Seq) and cur.kind == "list" and isinstance(new, Seq) or \
                isinstance(cur, DictVal) and isinstance(new, DictVal):
            # xs += [v], d |= e: in place on the list or dict (its other
            # names and the containers holding it see it)
            self.rebind_container(s.target.id, cur, new)
            return
        if isinstance(cur, Var) and isinstance(new, Var):
            # x += v on an array is in place: the other names and views of the
            # array see it; on a Python or NumPy scalar it rebinds x alone
            new = self.in_place_update(cur, new, s.target.id, s)
        self.bind(s.target, new)

    def kept_in_place(self, cur, new, name, node):
        """``x op= v`` computed as ``new = x op v``: when ``x`` is an array
        NumPy writes the result into it, so it keeps ``x``'s dtype
        (``y32 += np.float64(0.5)`` stays float32) and shape -- the
        ``in_place_result`` helper, which specialisation removes where the
        dtypes and shapes already agree or ``x`` is a scalar -- and memory
        order (``layout``): what is computed from ``x`` later inherits its
        strides, which a reshape written through observes; kept where ``x``
        has two or more axes longer than 1."""
        if not (isinstance(cur, Var) and isinstance(new, Var)):
            return new
        self.name_value(new, name)
        return self.apply(P.get("in_place_result"), [new, cur], {"layout": Const(True)}, node)

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

    def stmt_Nonlocal(self, s):
        """``nonlocal total`` in a nested function being inlined: its
        assignments to ``total`` reach the enclosing function's name
        (``write_nonlocal``), which it must have."""
        owner = getattr(self, "closure_owner", None)
        missing = [n for n in s.names if owner is None or
                   all(n not in lw.env for lw in _closure_chain(owner))]
        if missing:
            what, msg = REFUSED[ast.Nonlocal]
            raise self.error(s, msg if owner is None else
                             f"no binding for nonlocal '{missing[0]}' in the enclosing "
                             f"function (assign it before the nested function is called)",
                             construct=what)

    def write_nonlocal(self, name, value):
        """An assignment to a ``nonlocal`` name: the enclosing functions'
        binding of it (up to the one whose own name it is) sees the value,
        as Python's shared cell does."""
        for lw in _closure_chain(self.closure_owner):
            if name in lw.env or name in lw.local_names:
                lw.env[name] = value
            if name in lw.local_names:
                break

    def stmt_ClassDef(self, s):
        """``class Rec: ...`` inside the function (a small record class): the
        class is made while compiling from its statement, as Python makes it
        at each call; its instances are then followed as records
        (``construct_record``) and its methods inlined.  Only classes that
        are the same at every call are made here: bases and decorators are
        read as the function reads names (guarded), the body holds methods,
        a docstring and constant class attributes, and no method reads a
        name of the enclosing function (Python would give the method a
        closure cell of it).  Others are refused naming the line."""
        what = "class definitions inside a differentiated function"

        def refuse(why):
            return self.error(s, f"{what} are supported for record classes; {why}; define "
                                 f"the class at module level", construct="class")
        if s.keywords:
            raise refuse("class keywords (metaclass=...) are not")
        bases = [self.expr(b) for b in s.bases]
        decos = [self.expr(d) for d in s.decorator_list]
        if not all(isinstance(v, Static) for v in bases + decos):
            raise refuse("its bases and decorators must be names known while compiling")
        for st in s.body:
            if isinstance(st, ast.Expr) and isinstance(st.value, ast.Constant) or \
                    isinstance(st, ast.Pass):
                continue
            if isinstance(st, (ast.Assign, ast.AnnAssign)) and (
                    st.value is None or _constant_expr(st.value)) and all(
                    isinstance(t, ast.Name) for t in
                    (st.targets if isinstance(st, ast.Assign) else [st.target])):
                continue
            if isinstance(st, ast.FunctionDef) and all(
                    _constant_expr(d) for d in st.args.defaults + st.args.kw_defaults
                    if d is not None) and all(
                    isinstance(d, ast.Name) and d.id in ("property", "staticmethod",
                                                         "classmethod") or
                    isinstance(d, ast.Attribute) and d.attr in ("setter", "getter")
                    for d in st.decorator_list):
                continue
            raise refuse(f"line {st.lineno} is not a method, a docstring or a constant "
                         f"class attribute")
        enclosing = set(self.local_names) | set(self.resolver.cells) | \
            {k for k in self.env if not k.startswith("$")}
        for fn in (n for n in ast.walk(s) if isinstance(n, (ast.FunctionDef, ast.Lambda))):
            own = assigned_names(fn) | {a.arg for a in ast.walk(fn.args)
                                        if isinstance(a, ast.arg)}
            for n in ast.walk(fn):
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and \
                        n.id not in own and n.id in enclosing:
                    raise refuse(f"its method '{fn.name if hasattr(fn, 'name') else 'lambda'}'"
                                 f" reads '{n.id}' of the enclosing function")
        node = copy.deepcopy(s)
        node.bases = [ast.copy_location(ast.Name(id=f"__s2sgrad_base{k}", ctx=ast.Load()), b)
                      for k, b in enumerate(s.bases)]
        node.decorator_list = [ast.copy_location(ast.Name(id=f"__s2sgrad_deco{k}",
                                                          ctx=ast.Load()), d)
                               for k, d in enumerate(s.decorator_list)]
        ns = {f"__s2sgrad_base{k}": v.obj for k, v in enumerate(bases)}
        ns.update({f"__s2sgrad_deco{k}": v.obj for k, v in enumerate(decos)})
        try:
            code = compile(ast.fix_missing_locations(ast.Module(body=[node], type_ignores=[])),
                           self.src.filename, "exec")
            exec(code, self.resolver.globals, ns)
        except Exception as exc:
            raise refuse(f"making it while compiling raised {type(exc).__name__}: "
                         f"{exc}") from None
        cls = ns[s.name]
        cls.__qualname__ = f"{getattr(self.src.fn, '__qualname__', '')}.<locals>.{s.name}"
        self.env[s.name] = Static(cls)

    def stmt_Raise(self, s):
        """``raise ValueError(...)`` (or a class of exception alone): the
        exception raised when the code reaches the statement, so a branch
        on an option (``else: raise ValueError(loss)``) or on data may raise
        as Python does; a branch known while compiling never reaches it.
        Arguments known only at run time are passed as they are; one that
        cannot be lowered (an f-string of a run-time value) gives the
        statement's source text as the message instead."""
        exc = s.exc
        if exc is None or s.cause is not None:
            what, msg = REFUSED[ast.Raise]
            raise self.error(s, msg, construct=what)
        call = exc if isinstance(exc, ast.Call) else None
        cls = self.expr(call.func if call is not None else exc)
        if not (isinstance(cls, Static) and isinstance(cls.obj, type) and
                issubclass(cls.obj, BaseException)):
            what, msg = REFUSED[ast.Raise]
            raise self.error(s, msg, construct=what)
        args = []
        if call is not None:
            try:
                if call.keywords or any(isinstance(a, ast.Starred) for a in call.args):
                    raise S2SGradError("")
                for a in call.args:
                    v = self.expr(a)
                    if not (isinstance(v, Const) or isinstance(v, Var) and
                            P.shape_of(v) is not LIST):
                        raise S2SGradError("")
                    args.append(v)
            except S2SGradError:
                args = [Const(f"{ast.unparse(exc)} (at {self.src.filename}:{s.lineno})")]
        self.em.call(P.get("raise_error"), Const(cls.obj), *args,
                     where=Const(f"{self.src.filename}:{s.lineno}"))

    def stmt_Assert(self, s):
        pass  # assertions check inputs; they do not change the value differentiated

    def bind(self, target, value):
        if isinstance(target, ast.Name):
            self.name_value(value, target.id)
            self.env[target.id] = value
            if target.id in getattr(self, "nonlocal_names", ()):
                self.write_nonlocal(target.id, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            stars = [k for k, e in enumerate(target.elts) if isinstance(e, ast.Starred)]
            if stars:
                # a, *rest = xs of a sequence whose length is known while compiling
                if isinstance(value, Const) and isinstance(value.value, (tuple, list)):
                    value = Seq("tuple", [Const(v) for v in value.value])
                if len(stars) == 1 and isinstance(value, Var) and self.is_plain_array(value):
                    self.bind_in_turn([t.value if isinstance(t, ast.Starred) else t
                                       for t in target.elts],
                                      self.unpack_starred(value, len(target.elts), stars[0],
                                                          target))
                    return
                if not isinstance(value, Seq) or len(stars) > 1:
                    raise self.unsupported(target, "starred assignment from a value whose "
                                                   "length is not known while compiling",
                                           "unpack into a fixed number of names")
                k, n = stars[0], len(target.elts)
                if len(value.items) < n - 1:
                    raise self.error(target, f"not enough values to unpack (expected at "
                                             f"least {n - 1}, got {len(value.items)})",
                                     cls=S2SGradError)
                rest = len(value.items) - (n - 1)
                items = value.items[:k] + [Seq("list", value.items[k:k + rest])] + \
                    value.items[k + rest:]
                self.bind_in_turn([t.value if isinstance(t, ast.Starred) else t
                                   for t in target.elts], items)
                return
            items = self.unpack(value, len(target.elts), target)
            self.bind_in_turn(target.elts, items)
        elif isinstance(target, ast.Subscript):
            self.bind_subscript(target, value)
        elif isinstance(target, ast.Attribute):
            base = self.expr(target.value)
            if isinstance(base, TreeObj) and (dataclasses.is_dataclass(base.obj) or
                                              plain_record_class(type(base.obj))):
                self.set_field(base, target.attr, value, target)
                return
            raise self.unsupported(
                target, f"assignment to the attribute .{target.attr} (s2sgrad does not follow "
                        f"writes to attributes: of an array, such as .real, .imag or .shape, "
                        f"or of any other object)",
                "build the new value and bind it to a local name (z = x + 1j * z.imag "
                "instead of z.real = x; z = z.reshape(...) instead of z.shape = ...), "
                "and return what the caller needs")
        else:
            raise self.unsupported(target, f"assignment to {type(target).__name__}",
                                   "assign to a local variable")

    def bind_in_turn(self, targets, items):
        """Bind ``targets[k]`` to ``items[k]`` in turn -- ``a, b = y[2:], y[:2]``
        -- with the values still to be assigned held in the environment, so a
        write through one target (``y[:2], y[2:] = y[2:], y[:2]``) reaches the
        views still to be assigned, as in NumPy (see
        ``aliasing.write_back``)."""
        self.top.unpack_count = getattr(self.top, "unpack_count", 0) + 1
        keys = [f"{LIVE_PREFIX}u{self.top.unpack_count}_{k}" for k in range(len(items))]
        self.env.update(zip(keys, items))
        try:
            for t, key in zip(targets, keys):
                self.bind(t, self.env.pop(key))
        finally:
            for key in keys:
                self.env.pop(key, None)

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
        if isinstance(value, Const):
            try:
                length = len(value.value)
            except TypeError:
                length = None
            if length is not None and length != n:
                raise self.error(node, f"cannot unpack {length} values into {n} names",
                                 cls=S2SGradError)
        if isinstance(value, (Var, Const)):
            if isinstance(value, Var):
                # its length is known when the code runs: Python's check
                self.em.call(P.get("check_unpack_length"), value, n=Const(n),
                             where=Const(f"{self.src.filename}:{node.lineno}"))
            return [self.getitem(value, i) for i in range(n)]
        raise self.error(node, "cannot unpack this value", cls=S2SGradError)

    def is_plain_array(self, v):
        """``v`` is an array (not a list built at run time, a scalar or a
        sequence passed as data)."""
        sh = P.shape_of(v)
        return sh is not LIST and sh is not P.SCALAR and not self.top.may_be_sequence(v)

    def unpack_starred(self, value, n, k, node):
        """``a, *rest, z = x`` of an array: ``x[0]``, ..., the list of the
        rows between (views of ``x``, as Python's iteration gives them) and
        ``x[-1]``, ...; the length is checked when the code runs."""
        self.em.call(P.get("check_unpack_length"), value, n=Const(n - 1), star=Const(True),
                     where=Const(f"{self.src.filename}:{node.lineno}"))
        after = n - 1 - k
        head = [self.getitem(value, i) for i in range(k)]
        tail = [self.getitem(value, i - after) for i in range(after)]
        stop = None if after == 0 else -after
        middle = self.apply_getitem(value, slice(k or None, stop), [], node)
        rows = self.apply(P.get("unstack"), [middle], {"axis": Const(0)}, node)
        return head + [rows] + tail


def _closure_chain(lw):
    """``lw`` and the functions enclosing it (nested functions being inlined)."""
    while lw is not None:
        yield lw
        lw = getattr(lw, "closure_owner", None)


_AUG_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
               ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@"}
