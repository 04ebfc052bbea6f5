"""Calls: a NumPy function or method resolves by object identity to a
primitive of the rule table (:meth:`apply` emits its equation); builtins
(``builtins.py``) and ``math.*`` have handlers; the user's own functions,
nested ``def``s and lambdas are inlined (:meth:`inline`, :meth:`call_local`);
anything else is an :class:`~s2sgrad.errors.UnknownFunctionError` naming
the user's line, never a constant."""
from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import math
import operator
import sys
import types
import warnings

import numpy as np

from .. import pytree
from .. import schedules
from ..errors import (S2SGradError, UnknownFunctionError, UnresolvedNameError,
                      UnsupportedSyntaxError)
from ..frontend import Resolver, parse_function
from ..ir import Block, Const, Eqn, Var
from ..primitives import core as P
from ..primitives.indexing import Slot
from ..primitives.lists import LIST
from ..primitives import random as R
from ..primitives.ufunc_where import masked_fill
from ..guards import Path
from .containers import plain_record_class
from .values import (DictVal, LocalFunction, ObjVal, Seq, Splat, Static, Transform, TreeObj,
                     is_namespace)
from .syntax import assigned_names, declared_nonlocal, generator_as_list, is_generator_def, snippet
from .subscripts import ufunc_at_of
from .aliasing import NUMPY_VIEWS
from .builtins import BUILTIN_CALLS, MATH_FUNCS, _b_zip
from .functional import Partial, Vectorized, partial_of, vectorized_call
from .frozen import FrozenDist, frozen_method_call, is_distribution
from .transforms import (CheckpointedPullback, LocalPullback, _LeafCheck, is_schedule_type,
                         transform_kind, transformed_value)


MAX_INLINE_DEPTH = 64


# arithmetic that NumPy always computes into a new array (even x * 1)
_NEW_ARRAY_OPS = {"add", "subtract", "multiply", "divide", "power", "negative"}
# the types of NumPy's ufuncs and (NumPy >= 2) array functions: never a
# checkpoint schedule, a transformation (grad & co. are Python functions) or
# a transformed function (CallsMixin.call_static)
_NUMPY_CALLABLES = frozenset({np.ufunc, type(np.sum)} - {types.FunctionType})


def _inplace_adapter(*names, drop=()):
    def adapter(args, kwargs):
        self_, rest = args[0], list(args[1:])
        if len(rest) > len(names):
            raise TypeError(f"too many positional arguments (at most {len(names)})")
        kwargs = dict(kwargs)
        kwargs.update(zip(names, rest))
        for k in drop:
            v = kwargs.pop(k, None)
            if v is not None and not (isinstance(v, Const) and v.value is None):
                raise TypeError(f"{k}= is not supported")
        if "fill_value" in kwargs:                 # x.fill(v) -> np.full_like(x, v)
            return [self_, kwargs.pop("fill_value")], kwargs
        return [self_], kwargs
    return adapter


# ndarray methods that change the array in place: (primitive of the new value, adapter)
_INPLACE_METHODS = {
    "sort": ("sort", _inplace_adapter("axis", "kind", "order", drop=("order",))),
    "partition": ("partition", _inplace_adapter("kth", "axis", "kind", "order",
                                                drop=("order",))),
    "fill": ("full_like", _inplace_adapter("fill_value")),
    "put": ("put_update", lambda args, kwargs: _writer_operands(np.put, args, kwargs)),
}

# NumPy functions that write into their first argument: the primitive of the
# new value (primitives/mutation.py), and how many operands it takes.
_INPLACE_FUNCTIONS = {id(np.put_along_axis): (np.put_along_axis, "put_along_axis_update", 3),
                      id(np.put): (np.put, "put_update", 3),
                      id(np.place): (np.place, "place_update", 3),
                      id(np.putmask): (np.putmask, "putmask_update", 3),
                      id(np.copyto): (np.copyto, "copyto_update", 2),
                      id(np.fill_diagonal): (np.fill_diagonal, "fill_diagonal_update", 2)}


def inplace_function_of(obj):
    """``(function, primitive name, operand count)`` for np.put_along_axis,
    np.put, np.place, np.putmask, np.copyto and np.fill_diagonal, else None."""
    hit = _INPLACE_FUNCTIONS.get(id(obj))
    return hit if hit is not None and hit[0] is obj else None


def _writable_spelling(node):
    """A local name or an expression over one that may be a view of it:
    ``y``, ``y[1:]``, ``y.T[0]``, ``d["k"]``."""
    while isinstance(node, (ast.Subscript, ast.Attribute)):
        if isinstance(node, ast.Attribute) and node.attr not in ("T", "mT", "real", "imag"):
            return False
        node = node.value
    return isinstance(node, ast.Name)


_FRESH_OUT = (np.zeros, np.zeros_like, np.ones, np.ones_like, np.full, np.full_like,
              np.copy, np.array)


def _fresh_out(lw, node):
    """``out=np.zeros_like(a)`` (a call of a NumPy function that returns a
    new, initialised array): the ufunc's result is that array, seen by
    nobody else."""
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return False
    if node.func.attr == "copy" and not node.args and not node.keywords:
        return True                                     # out=a.copy()
    if not isinstance(node.func.value, ast.Name) or \
            not isinstance(lw.expr(node.func.value), Static):
        return False
    callee = lw.expr(node.func)
    return isinstance(callee, Static) and any(callee.obj is f for f in _FRESH_OUT)


def _spelling_root(node):
    while isinstance(node, (ast.Subscript, ast.Attribute)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _writer_operands(fn, args, kwargs, n=3):
    """Bind a call of ``fn`` (np.put & co.) as NumPy would: its first ``n``
    parameters become positional operands, the rest stay options."""
    sig = P.signature_of(fn)        # (np.copyto's is in its docstring before NumPy 2.3)
    ba = sig.bind(*args, **kwargs)
    names = list(sig.parameters)
    return [ba.arguments[k] for k in names[:n]], \
        {k: v for k, v in ba.arguments.items() if k not in names[:n]}

# primitives whose operands may be runtime lists as they are
_TAKES_LISTS = {"len", "stack_list", "unstack", "make_tuple", "make_list", "copy", "concat_list",
                "unconcat_list"}


_SCALARS = (bool, int, float)


# parameter names of array operands (a tuple of arrays passed there is an array)
_ARRAY_OPERANDS = {"a", "b", "x", "y", "x0", "x1", "array", "ary", "condition", "m"}


# primitives that Python operators lower to: folding them keeps Python's types
_PY_OPERATORS = {"add", "subtract", "multiply", "divide", "power", "floor_divide", "remainder",
                 "negative", "positive", "greater", "greater_equal", "less", "less_equal",
                 "equal", "not_equal", "logical_not", "logical_and", "logical_or",
                 "bitwise_and", "bitwise_or", "bitwise_xor", "invert",
                 "int", "bool"}     # int(n / 2) of a constant: a constant (range(...) of it)


# ... and Python's own operators for them: on Python ints NumPy's functions
# would compute in int64 (np.power(2, 64) wraps to 0; Python's is exact)
_PY_OPERATOR_FUNCS = {"add": operator.add, "subtract": operator.sub, "multiply": operator.mul,
                      "divide": operator.truediv, "power": operator.pow,
                      "floor_divide": operator.floordiv, "remainder": operator.mod,
                      "negative": operator.neg, "positive": operator.pos,
                      "greater": operator.gt, "greater_equal": operator.ge,
                      "less": operator.lt, "less_equal": operator.le, "equal": operator.eq,
                      "not_equal": operator.ne}


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
    py = _PY_OPERATOR_FUNCS.get(prim.name)
    try:
        if py is not None and not kw:
            r = py(*[a.value for a in pos])
        else:
            with np.errstate(all="ignore"):
                r = prim.impl(*[a.value for a in pos], **{k: v.value for k, v in kw.items()})
    except Exception:
        return None
    if isinstance(r, np.generic):
        r = r.item()
    if type(r) in _SCALARS and not (isinstance(r, float) and not math.isfinite(r)):
        return Const(r)
    return None


def _draw_mark(block, since=None):
    """The number of equations in ``block``, or (``since`` given) whether the
    equations after position ``since`` draw random numbers."""
    if since is None:
        return len(block.eqns)
    from ..draws import has_draws
    from ..ir import Block
    return has_draws(Block(block.eqns[since:]))


def _describe(obj, node):
    owner = getattr(obj, "__self__", None)
    if isinstance(owner, np.ufunc):          # np.logaddexp.accumulate, not ufunc.accumulate
        return f"numpy.{owner.__name__}.{getattr(obj, '__name__', '?')}"
    mod = getattr(obj, "__module__", None)
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if name and mod and mod not in ("builtins",):
        return f"{mod}.{name}"
    return name or snippet(node.func)


def _is_array_namespace(obj):
    mod = getattr(obj, "__module__", "") or ""
    return getattr(obj, "__name__", None) == "array_namespace" and \
        mod.split(".")[0] in ("scipy", "array_api_compat")


def _is_library_function(fn):
    mod = getattr(fn, "__module__", "") or ""
    return mod.split(".")[0] in ("numpy", "scipy", "s2sgrad")


class CallsMixin:
    def expr_Call(self, node):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "append" and \
                isinstance(func.value, ast.Name) and len(node.args) == 1 and not node.keywords:
            return self.list_append(func.value, node.args[0], node)
        if isinstance(func, ast.Attribute) and func.attr in _INPLACE_METHODS and \
                isinstance(func.value, ast.Name) and func.value.id in self.env:
            done = self.inplace_method(func.value, func.attr, node)
            if done is not None:
                return done
        if isinstance(func, ast.Attribute) and func.attr in _INPLACE_METHODS and \
                not isinstance(func.value, ast.Name) and _writable_spelling(func.value) and \
                _spelling_root(func.value) in self.env:
            # y[::2].sort(), y.T[0].fill(v): a write into the view (or a copy)
            y = self.written_operand(func.value, node, "call it on a local array",
                                     f".{func.attr}()")
            if P.shape_of(y) is not LIST:
                return self.inplace_method(func.value, func.attr, node, base=y)
        if isinstance(func, ast.Attribute) and func.attr in ("insert", "reverse", "clear") \
                and isinstance(func.value, ast.Name) and not node.keywords and \
                func.value.id in self.env and isinstance(self.env[func.value.id], Seq) and \
                self.env[func.value.id].kind == "list":
            return self.literal_list_method(func.value, func.attr, node)
        if isinstance(func, ast.Attribute) and func.attr == "extend" and \
                isinstance(func.value, ast.Name) and len(node.args) == 1 and not node.keywords \
                and isinstance(self.load_name(func.value), Seq):
            return self.list_extend(func.value, node.args[0], node)
        if isinstance(func, ast.Attribute) and func.attr == "update" and \
                isinstance(func.value, ast.Name) and \
                isinstance(self.load_name(func.value), DictVal):
            # d.update(e, k=v) of a dict with constant keys: in place, as d[k] = v
            base = self.load_name(func.value)
            args, kwargs = self.call_arguments(node)
            items = dict(base.items)
            items.update(BUILTIN_CALLS[id(dict)][1](self, args, kwargs, node).items)
            self.rebind_container(func.value.id, base, DictVal(items, base.default))
            return Const(None)
        if isinstance(func, ast.Attribute) and func.attr == "pop" and \
                isinstance(func.value, ast.Name) and len(node.args) <= 1 and not node.keywords \
                and isinstance(self.load_name(func.value), (Seq, Var)):
            return self.list_pop(func.value, node.args[0] if node.args else None, node)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call) and \
                isinstance(func.value.func, ast.Name) and func.value.func.id == "super" and \
                not func.value.args and not func.value.keywords:
            sup = self.expr(func.value.func)
            if isinstance(sup, Static) and sup.obj is super:
                callee = self.super_method(func.attr, node)
                args, kwargs = self.call_arguments(node)
                return self.call_value(callee, args, kwargs, node)
        if isinstance(func, ast.Attribute):
            base = self.expr(func.value)
            if isinstance(base, FrozenDist):              # d.logpdf(x), d frozen
                args, kwargs = self.call_arguments(node)
                return self.call_value(base.method(func.attr), args, kwargs, node)
            if not isinstance(base, (Static, ObjVal)):
                args, kwargs = self.call_arguments(node, splat=R.token_kind(base) is not None)
                return self.method_call(base, func.attr, args, kwargs, node)
            callee = self.attr_value(base, self.mangle(func.attr), func)
            if isinstance(base, ObjVal) and isinstance(callee, Static) and \
                    isinstance(callee.obj, types.MethodType) and \
                    callee.obj.__self__ is base.obj:
                callee = Static(callee.obj, callee.path)
                callee.self_value = base          # self.helper(x): self is read through
        else:
            callee = self.expr(func)
        if isinstance(callee, Static) and callee.obj is zip and len(node.args) == 1 and \
                isinstance(node.args[0], ast.Starred) and not node.keywords:
            out = self.unzip_runtime_list(node)
            if out is not None:
                return out
        if isinstance(callee, Static) and ufunc_at_of(callee.obj) is not None:
            return self.ufunc_at(ufunc_at_of(callee.obj), node)
        if isinstance(callee, Static) and inplace_function_of(callee.obj) is not None:
            return self.inplace_function(inplace_function_of(callee.obj), node)
        if isinstance(callee, Static) and isinstance(callee.obj, np.ufunc) and \
                any(k.arg in ("out", "where", "dtype") for k in node.keywords):
            return self.ufunc_out(callee.obj, node)
        if isinstance(callee, Static) and any(k.arg == "out" for k in node.keywords) and \
                callable(callee.obj) and \
                (getattr(callee.obj, "__module__", None) or "").split(".")[0] == "numpy":
            return self.function_out(callee, node)
        if isinstance(callee, Static) and _is_output_call(callee.obj):
            # print(...), logging.info(...), log.debug(...): no effect on the
            # values differentiated (ignored, as print always was); the
            # arguments are still lowered (their draws and writes happen), and
            # an f-string of run-time values among them is not formatted
            self._output_args = getattr(self, "_output_args", 0) + 1
            try:
                self.call_arguments(node)
            finally:
                self._output_args -= 1
            return Const(None)
        splat = isinstance(callee, LocalFunction) or isinstance(callee, Static) and (
            R.rng_kind(getattr(callee.obj, "__self__", None)) is not None or
            inspect.isfunction(callee.obj))
        args, kwargs = self.call_arguments(node, splat=splat)
        return self.call_value(callee, args, kwargs, node)

    def call_arguments(self, node, splat=False):
        """The lowered positional and keyword arguments of a call.  ``f(x,
        **opts)`` spreads a dict whose keys are known while compiling;
        ``splat``: ``*shape`` of a computed tuple may be passed on as a
        :class:`Splat` (``np.random.randn(*x.shape)``)."""
        args = self.expr_items(node.args, splat=splat)
        kwargs = {}
        for kw in node.keywords:
            if kw.arg is not None:
                kwargs[kw.arg] = self.expr(kw.value)
                continue
            d = self.expr(kw.value)
            if not isinstance(d, DictVal):
                raise self.unsupported(node, "'**' of a value that is not a dict with "
                                             "constant keys", "pass keyword arguments by name")
            for k, v in d.items.items():
                if not isinstance(k, str):
                    raise self.error(node, f"keywords must be strings, got {k!r}",
                                     cls=S2SGradError)
                if k in kwargs:
                    raise self.error(node, f"got multiple values for keyword argument '{k}'",
                                     cls=S2SGradError)
                kwargs[k] = v
        return args, kwargs

    def unzip_runtime_list(self, node):
        """``a, b = zip(*pairs)`` of a list built at run time: the columns
        ``[t[0] for t in pairs]``, ``[t[1] for t in pairs]`` (lists built at
        run time, where Python gives tuples), their number taken from the
        names unpacked into and checked when the code runs as Python checks
        it.  None (the general path) for a sequence known while compiling."""
        hint = getattr(self, "unpack_hint", None)
        v = self.expr(node.args[0].value)
        if not (isinstance(v, Var) and P.shape_of(v) is LIST):
            if isinstance(v, Seq):
                return _b_zip(self, list(v.items), {}, node)
            if isinstance(v, Const) and isinstance(v.value, (tuple, list)):
                return _b_zip(self, [Const(x) for x in v.value], {}, node)
            raise self.unsupported(node, "'*' unpacking of a computed value",
                                   "unpack a tuple or list literal")
        if hint is None or hint[0] is not node:
            raise self.unsupported(node, "zip(*xs) of a list built at run time other than "
                                         "unpacked into names (a, b = zip(*xs))",
                                   "unpack it into names, or build the columns in the loop")
        n = hint[1]
        self.em.call(P.get("check_unzip_length"), v, n=Const(n),
                     where=Const(f"{self.src.filename}:{node.lineno}"))
        self.top.unzip_count = getattr(self.top, "unzip_count", 0) + 1
        name = f"_s2sgrad_unzip{self.top.unzip_count}"
        self.env[name] = v
        cols = []
        try:
            for k in range(n):
                item = ast.Name(id=name + "_t", ctx=ast.Load())
                comp = ast.ListComp(
                    elt=ast.Subscript(value=item, slice=ast.Constant(k), ctx=ast.Load()),
                    generators=[ast.comprehension(target=ast.Name(id=name + "_t",
                                                                  ctx=ast.Store()),
                                                  iter=ast.Name(id=name, ctx=ast.Load()),
                                                  ifs=[], is_async=0)])
                cols.append(self.expr(ast.fix_missing_locations(ast.copy_location(comp, node))))
        finally:
            self.env.pop(name, None)
        return Seq("tuple", cols)

    def splat_into_arity(self, callee, args, kwargs, node):
        """``f(img, *kernel.shape)`` of a Python function whose positional
        parameters take a fixed number of values: the one ``*v`` fills the
        parameters the other arguments leave (no defaults among them, no
        ``*args``), as ``v[0], v[1], ...``; Python's length check (too many
        or too few values) runs when the code runs.  Else ``args`` as given."""
        if isinstance(callee, LocalFunction):
            sig = callee.node.args
        elif isinstance(callee, Static) and inspect.isfunction(callee.obj):
            try:
                params = list(inspect.signature(callee.obj).parameters.values())
            except (TypeError, ValueError):
                return args
            positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY,
                                                          p.POSITIONAL_OR_KEYWORD)]
            if any(p.kind == p.VAR_POSITIONAL for p in params):
                return args
            names = [p.name for p in positional]
            has_default = [p.default is not p.empty for p in positional]
            return self._fill_splat(args, kwargs, names, has_default, node)
        else:
            return args
        if sig.vararg is not None:
            return args
        positional = list(sig.posonlyargs) + list(sig.args)
        names = [a.arg for a in positional]
        nd = len(sig.defaults)
        has_default = [False] * (len(names) - nd) + [True] * nd
        return self._fill_splat(args, kwargs, names, has_default, node)

    def _fill_splat(self, args, kwargs, names, has_default, node):
        splats = [k for k, a in enumerate(args) if isinstance(a, Splat)]
        if len(splats) != 1:
            return args
        k = splats[0]
        others = len(args) - 1
        free = [i for i in range(len(names)) if names[i] not in kwargs]
        n = len(free) - others
        if n < 0 or any(has_default[i] for i in free):
            return args
        v = args[k].value
        self.em.call(P.get("check_unpack_length"), v, n=Const(n),
                     where=Const(f"{self.src.filename}:{node.lineno}"))
        return list(args[:k]) + [self.getitem(v, i) for i in range(n)] + list(args[k + 1:])

    def call_value(self, callee, args, kwargs, node):
        """Call a lowering value: a nested ``def``/lambda (inlined), a
        transformation such as ``grad(g)`` (lowered inline, see
        ``transforms.py``), or a compile-time callable (a primitive, a
        builtin, the user's function)."""
        if any(isinstance(a, Splat) for a in args):
            args = self.splat_into_arity(callee, args, kwargs, node)
        if any(isinstance(a, Splat) for a in args) and not (
                isinstance(callee, Static) and
                R.rng_kind(getattr(callee.obj, "__self__", None)) is not None):
            raise self.unsupported(node, "'*' unpacking of a computed value",
                                   "unpack a tuple or list literal")
        if isinstance(callee, LocalFunction):
            return self.call_local(callee, args, kwargs, node)
        if isinstance(callee, Vectorized):
            return vectorized_call(self, callee.fn, args, kwargs, node, callee.signature)
        if isinstance(callee, Partial):                 # functools.partial(f, ...)(...)
            return self.call_value(*callee.bound(args, kwargs), node)
        if isinstance(callee, Transform):
            return self.call_transform(callee, args, kwargs, node)
        if isinstance(callee, (LocalPullback, CheckpointedPullback, _LeafCheck)):
            return callee.call(self, args, kwargs, node)
        if isinstance(callee, TreeObj):                 # layer(x): its __call__
            return self.tree_method(callee, "__call__", args, kwargs, node)
        if isinstance(callee, Seq) and callee.ntype is not None and callee.fields:
            out = self.namedtuple_member(callee, "__call__", args, kwargs, node)
            if out is not None:                          # a NamedTuple's own __call__
                return out
        if not isinstance(callee, Static):
            raise self.error(node, f"'{snippet(node.func)}' is not a function s2sgrad can call",
                             cls=UnknownFunctionError)
        self_value = callee.self_value
        if self_value is not None and isinstance(callee.obj.__func__, types.FunctionType) \
                and not _is_library_function(callee.obj.__func__):
            return self.inline(callee.obj.__func__, [self_value] + list(args), kwargs, node)
        return self.call_static(callee.obj, args, kwargs, node, path=callee.path)

    def inplace_method(self, name_node, method, node, base=None):
        """``x.sort()``, ``x.partition(k)``, ``x.fill(v)`` on a local array: a new
        version of ``x`` (``np.sort(x)``, ``np.partition(x, k)``,
        ``np.full_like(x, v)``) that every alias of ``x`` sees, as a write
        into it would (the caller's array is not changed).  None when ``x``
        is not an array (a list's ``.sort()`` is left to the usual refusal)."""
        if base is None:
            base = self.env[name_node.id]
        if not isinstance(base, (Var, Const)) or (isinstance(base, Var) and
                                                  P.shape_of(base) is LIST):
            return None
        prim_name, adapter = _INPLACE_METHODS[method]
        args = [base] + self.expr_items(node.args)
        kwargs = {k.arg: self.expr(k.value) for k in node.keywords}
        try:
            args, kwargs = adapter(args, kwargs)
        except TypeError as exc:
            raise self.error(node, f"unsupported arguments in '{snippet(node)}': {exc}",
                             cls=S2SGradError) from None
        old = self.materialize(base, node)
        new = self.apply(P.get(prim_name), args, kwargs, node)
        if not isinstance(name_node, ast.Name):
            self.commit_operand_write(name_node, old, new)
            return Const(None)
        if isinstance(new, Var) and new.hint == "":
            new.hint = name_node.id
        self.env[name_node.id] = new
        self.write_back(old, new)
        return Const(None)

    def inplace_function(self, hit, node):
        """``np.put_along_axis(y, idx, v, axis)``, ``np.put(y, ind, v)``,
        ``np.place(y, mask, v)``, ``np.copyto(y, src)``: NumPy writes into
        ``y``; here ``y``'s name (and every alias of the array, as for
        ``y[idx] = v``) is bound to the updated value (the caller's array
        is not changed)."""
        fn, prim_name, n = hit
        name = f"np.{fn.__name__}"
        y = self.written_operand(node.args[0] if node.args else None, node,
                                 f"write {name}(y, ...) with y a local variable, an "
                                 f"argument or a view of one (y[1:], y.T)", name)
        args, kwargs = self.call_arguments(node)
        try:
            args, kwargs = _writer_operands(fn, [y] + list(args[1:]), kwargs, n)
        except TypeError as exc:
            raise self.error(node, f"unsupported arguments in '{snippet(node)}': {exc}",
                             cls=S2SGradError) from None
        new = self.apply(P.get(prim_name), args, kwargs, node)
        self.commit_operand_write(node.args[0], y, new)
        return Const(None)

    def ufunc_out(self, ufunc, node):
        """``np.add(a, b, out=c)``, ``np.exp(x, out=x)``: NumPy writes the
        result into ``c`` and returns ``c``; here, as ``np.copyto(c,
        np.add(a, b))`` (the result broadcast to ``c``'s shape and cast to its
        dtype under ``casting='same_kind'``, as the ufunc does): ``c``'s name
        and every alias of the array see the new version (the caller's array
        is not changed), and the call's value is that array."""
        name = f"np.{ufunc.__name__}"
        out_node = next((k.value for k in node.keywords if k.arg == "out"), None)
        fresh = None
        if out_node is None or isinstance(out_node, ast.Constant) and out_node.value is None:
            target = None
        elif isinstance(out_node, ast.Tuple) and len(out_node.elts) == 1 and ufunc.nout == 1:
            target = out_node.elts[0]
        else:
            target = out_node
        if target is not None and ufunc.nout == 1 and not _writable_spelling(target) and \
                _fresh_out(self, target):
            # out=np.zeros_like(a): a new array nobody else sees, the call's value
            fresh, target = target, None
        if target is not None and (ufunc.nout != 1 or not _writable_spelling(target)):
            raise self.unsupported(node, f"{name}(..., out=...) with this 'out'",
                                   f"pass out= a local array by name (or a view of one: "
                                   f"out=c[1:]) or a new one (out=np.zeros_like(a)), or "
                                   f"assign the result: c[...] = {name}(...)")
        args, kwargs = self.call_arguments(node)
        kwargs.pop("out", None)
        dtype = kwargs.pop("dtype", None)
        if dtype is not None and not (isinstance(dtype, Const) and dtype.value is None):
            # np.exp(x, dtype=d): the operands cast to the loop's dtype, as NumPy does
            if isinstance(dtype, Static):
                dtype = Const(dtype.obj)
            if not isinstance(dtype, Const) or any(isinstance(a, Splat) for a in args):
                raise self.unsupported(node, f"{name}(..., dtype=<computed>)",
                                       "pass a dtype known while compiling (np.float32)")
            args = [self.apply(P.get("ufunc_cast"), [a], {"dtype": dtype}, node)
                    if isinstance(a, (Var, Const)) else a for a in args]
        where = kwargs.pop("where", None)
        masked = where is not None and not (isinstance(where, Const) and where.value is True)
        if masked:
            if target is None and fresh is None:
                raise self.unsupported(node, f"{name}(..., where=...) without out=",
                                       f"NumPy leaves the entries where the mask is False "
                                       f"uninitialised; pass out= the values they should "
                                       f"keep: {name}(..., out=np.zeros_like(...), where=...)")
            fill = masked_fill(ufunc)
            if ufunc.nout != 1 or fill is None or any(isinstance(a, Splat) for a in args):
                raise self.unsupported(node, f"{name}(..., where=...)",
                                       f"use np.where: c[...] = np.where(mask, {name}(...), c)")
            # the masked-off operands replaced by a point of the ufunc's domain
            # (primitives/ufunc_where.py: the value and derivative stay finite)
            args = [self.apply(P.get("where"), [where, a, Const(fill)], {}, node)
                    if isinstance(a, Var) else a for a in args]
        value = self.call_static(ufunc, args, kwargs, node)
        if fresh is not None:
            y = self.materialize(self.expr(fresh), node)
        elif target is None:
            return value
        else:
            y = self.written_operand(target, node, f"pass out= a local array by name, or "
                                                   f"assign the result: c[...] = {name}(...)",
                                     name)
        if masked:
            value = self.apply(P.get("where"), [where, value, y], {}, node)
        new = self.apply(P.get("copyto_update"), [y, value], {}, node)
        if fresh is not None:
            return new
        return self.commit_operand_write(target, y, new)

    def function_out(self, callee, node):
        """``np.clip(x, lo, hi, out=y)``, ``np.cumsum(x, out=y)``, ``np.sum(x,
        axis=0, out=y)``: NumPy writes the result into ``y`` and returns
        ``y``; here ``y[...] = f(...)`` with NumPy's checks of ``out``
        (``runtime.out_checked``): np.clip, a ufunc inside, broadcasts its
        result to ``y`` and casts it under 'same_kind'; any other function
        needs ``y`` of the result's shape, and of its dtype (NumPy's casting
        inside a reduction or scan into another dtype is not followed: an
        error, never another number)."""
        fn = callee.obj
        name = f"np.{getattr(fn, '__name__', 'function')}"
        out_node = next(k.value for k in node.keywords if k.arg == "out")
        advice = f"pass out= a local array by name (or a view of one: out=y[1:]), or assign " \
                 f"the result: y[...] = {name}(...)"
        node_wo = ast.Call(func=node.func, args=node.args,
                           keywords=[k for k in node.keywords if k.arg != "out"])
        ast.copy_location(node_wo, node)
        if isinstance(out_node, ast.Constant) and out_node.value is None:
            return self.expr(node_wo)
        if not _writable_spelling(out_node):
            raise self.unsupported(node, f"{name}(..., out=...) with this 'out'", advice)
        value = self.expr(node_wo)
        y = self.written_operand(out_node, node, advice, name)
        ufunc_like = fn is np.clip
        what = f"{self.src.filename}:{node.lineno}: {name}(..., out=...)"
        value = self.apply(P.get("out_checked"), [value, y],
                           {"ufunc_like": Const(ufunc_like), "what": Const(what)}, node)
        new = self.apply(P.get("copyto_update"), [y, value], {"casting": Const("unsafe")}, node)
        return self.commit_operand_write(out_node, y, new)

    def written_operand(self, target, node, advice, name):
        """The array a writer call writes into (``np.copyto(y, ...)``,
        ``out=y``, ``np.add.at(y, ...)``): a local name, or an expression
        over one (``y[::2]``, ``y.T``, ``d["k"]``) whose value is a view of
        it (the write reaches it) or a copy (the write is lost, as in NumPy)."""
        if target is None or not _writable_spelling(target) or \
                (isinstance(target, ast.Name) and target.id not in self.env):
            raise self.unsupported(node, f"this form of '{name}'", advice)
        y = self.load_name(target) if isinstance(target, ast.Name) else self.expr(target)
        self.refuse_external_write(y, node)
        y = self.materialize(y, node)
        if not isinstance(y, Var) or P.shape_of(y) is P.SCALAR:
            raise self.unsupported(node, f"this form of '{name}'", advice)
        self.check_writable(y, node)
        return y

    def commit_operand_write(self, target, y, new):
        """``y`` (spelled ``target``) was written into, giving ``new``: every
        name and alias of the array sees it.  Returns the array's new value."""
        if isinstance(target, ast.Name):
            if isinstance(new, Var):
                new.hint = target.id
            self.env[target.id] = new
        elif isinstance(new, Var):
            new.hint = y.hint
        self.write_back(y, new)
        return new

    def literal_list_method(self, name_node, method, node):
        """``xs.insert(i, v)``, ``xs.reverse()``, ``xs.clear()``
        on a list known while compiling (``i`` a constant): in place, as
        Python's (every name and container holding the list sees it)."""
        base = self.env[name_node.id]
        args = [self.expr(a) for a in node.args]
        items = list(base.items)
        n_args = {"insert": (2,), "reverse": (0,), "clear": (0,)}[method]
        if len(args) not in n_args or not all(
                isinstance(a, Const) and isinstance(a.value, int) and
                not isinstance(a.value, bool) for a in args[:1 if method != "reverse" else 0]):
            raise self.unsupported(node, f"'.{method}' with these arguments on a list",
                                   "pass constant positions")
        if method == "insert":
            items.insert(args[0].value, args[1])
        elif method == "reverse":
            items.reverse()
        else:
            items = []
        self.rebind_container(name_node.id, base, Seq("list", items))
        return Const(None)

    def method_call(self, base, name, args, kwargs, node):
        kind = R.token_kind(base)
        if kind is not None:
            return self.random_call(kind, base, name, args, kwargs, node)
        if isinstance(base, TreeObj):
            return self.tree_method(base, name, args, kwargs, node)
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
        if isinstance(base, Const) and isinstance(base.value, str) and \
                callable(getattr(str, name, None)) and not name.startswith("_") and \
                all(isinstance(a, Const) for a in list(args) + list(kwargs.values())):
            # k.startswith("W") of a key or an option known while compiling:
            # str methods are pure, so the result is known too
            out = getattr(base.value, name)(*[a.value for a in args],
                                            **{k: v.value for k, v in kwargs.items()})
            if isinstance(out, (list, tuple)):
                return Seq("list" if isinstance(out, list) else "tuple", [Const(o) for o in out])
            return Const(out)
        if isinstance(base, Seq) and base.ntype is not None and base.fields:
            out = self.namedtuple_member(base, name, args, kwargs, node)
            if out is not None:
                return out
        if isinstance(base, Seq):
            raise self.unsupported(node, f"the list/tuple method '.{name}'",
                                   "use NumPy functions on arrays")
        data_type = self.top.arg_types.get(base) if isinstance(base, Var) else None
        if data_type is not None and issubclass(data_type, dict):
            # a dict passed as (non-differentiated) data: its keys are known only
            # when the code runs; d.get(k) is d[k] (a missing key: NumPy's code
            # would go on with None, this raises KeyError -- never a wrong number)
            if name == "get" and len(args) == 1 and not kwargs and isinstance(args[0], Const) \
                    and data_type.get is dict.get and data_type.__getitem__ is dict.__getitem__ \
                    and not hasattr(data_type, "__missing__"):      # (a defaultdict's d[k] adds k)
                return self.apply_getitem(base, Slot(0), [args[0]], node)
            if name == "get" and len(args) == 2 and not kwargs and isinstance(args[0], Const) \
                    and data_type.get is dict.get:   # dict.get itself (a class's own get refused)
                # d.get(k, default): the key may be absent when the code runs
                return self.apply(P.get("dict_get"), [base] + list(args), {}, node,
                                  spelling=("method", "get"))
            raise self.unsupported(node, f"the dict method '.{name}' on the dict argument "
                                         f"'{base.hint}'", "index it with d[key]")
        if name == "view" and not args and not kwargs and isinstance(base, Var):
            return base          # a.view(): a new array object over the same memory
        entry = P.METHODS.get(name)
        note = getattr(P.shape_of(base), "note", "") if isinstance(base, Var) else ""
        if note.startswith("object:"):
            raise self.error(node, f"'.{name}()' of the {note[7:]} object passed as the "
                                   f"argument '{base.hint}': s2sgrad does not call methods of "
                                   f"objects passed as arguments; make it a global or a "
                                   f"closed-over object, pass the arrays it holds, or register "
                                   f"its class with s2sgrad.register_pytree",
                             cls=UnknownFunctionError, construct=name)
        if entry is None and name == "tolist":
            # a nested list of Python numbers whose length is the array's: not
            # known while compiling (autograd and JAX refuse it on traced values)
            raise self.error(node, "'.tolist()' of a computed array is not supported (its "
                                   "length is not known while compiling); keep the array "
                                   "(index it: x[i], float(x[i]); iterate: for v in x; "
                                   "unpack: a, b, c = x), or call .tolist() outside the "
                                   "differentiated function", cls=UnknownFunctionError,
                             construct=name)
        if entry is None:
            raise self.error(node, f"the array method '.{name}()' is not supported by s2sgrad; "
                                   f"use the NumPy function instead", cls=UnknownFunctionError,
                             construct=name)
        prim, adapter = entry
        args = [base] + list(args)
        if adapter is not None:
            args, kwargs = adapter(args, kwargs)
        if "copy" in kwargs and prim.name == "astype":
            copy = kwargs.pop("copy")
            if not isinstance(copy, Const):
                raise self.unsupported(node, "x.astype(..., copy=<computed>)",
                                       "pass copy=True or copy=False literally")
            if not copy.value:
                # x itself when it has the dtype already, else a converted copy:
                # np.asarray's view-or-copy, decided at run time
                return self.apply(P.get("asarray"), args, kwargs, node)
        return self.apply(prim, args, kwargs, node, spelling=("method", name))

    def super_method(self, name, node):
        """``super().name`` in a method whose ``self`` is read through (an
        ObjVal, or a Static for a callable object): the function the MRO of
        ``self``'s class finds after the class the method is defined in, bound
        to the same ``self`` and inlined as ``self.helper(x)`` is; read at
        ``self.__class__.__mro__[j].name`` (guarded: another class or a
        redefined method compiles again)."""
        fn = getattr(self.src.fn, "__func__", self.src.fn)
        code = getattr(fn, "__code__", None)
        a = self.src.node.args
        first = (a.posonlyargs + a.args)[0].arg if (a.posonlyargs + a.args) else None
        selfv = self.env.get(first) if first is not None else None
        cls = None
        if code is not None and "__class__" in code.co_freevars and fn.__closure__:
            cls = fn.__closure__[code.co_freevars.index("__class__")].cell_contents
        if cls is None or not isinstance(selfv, (ObjVal, Static)) or selfv.path is None or \
                not isinstance(selfv.obj, cls) or isinstance(selfv.obj, type):
            raise self.error(node, "super() is supported only as super().method(...) in a "
                                   "method of a class, on its self; call the base class's "
                                   "method by its name, e.g. Base.loss(self, ...)",
                             cls=UnsupportedSyntaxError, construct="super()")
        mro = type(selfv.obj).__mro__
        for j in range(mro.index(cls) + 1, len(mro)):
            if name in vars(mro[j]):
                break
        else:
            raise self.error(node, f"super() has no attribute '{name}'", cls=UnresolvedNameError)
        raw = vars(mro[j])[name]
        if not isinstance(raw, types.FunctionType):
            raise self.error(node, f"super().{name}: only plain methods are supported (not a "
                                   f"{type(raw).__name__}); call it as {mro[j].__name__}."
                                   f"{name}(...)", cls=UnsupportedSyntaxError,
                             construct="super()")
        path = selfv.path.attr("__class__").attr("__mro__").item(j).attr(name)
        found = self.static_value(raw, path, node)        # (guards the function found there)
        callee = Static(types.MethodType(raw, selfv.obj), found.path)
        callee.self_value = selfv
        return callee

    def method_self(self, method, path, node):
        """The ``self`` of a bound method being inlined: read through (its
        attributes are data read live or guarded configuration)."""
        owner = method.__self__
        if isinstance(owner, type):
            return Static(owner, None if path is None else path.attr("__self__"))
        if path is None:
            raise self.error(node, f"s2sgrad cannot tell where the object of the method "
                                   f"'{method.__name__}' comes from; call it through a global "
                                   f"or self", cls=S2SGradError)
        return self.static_value(owner, path.attr("__self__"), node)

    def random_call(self, kind, gen, name, args, kwargs, node):
        """A draw: ``rng.normal(size=n)`` on a generator ``gen`` (a Var holding
        one at run time, or a constant generator such as NumPy's global one
        behind ``np.random.normal``); see :mod:`s2sgrad.primitives.random`."""
        prim = R.METHODS.get((kind, name))
        if prim is None:
            if name in R.IN_PLACE:
                raise self.unsupported(node, f"the {kind} method '.{name}()' (it writes into "
                                             f"its argument)", f"write {R.IN_PLACE[name]}")
            known = sorted(m for k, m in R.METHODS if k == kind)
            raise self.error(node, f"the {kind} method '.{name}()' is not supported by s2sgrad "
                                   f"(supported: {', '.join(known)})",
                             cls=UnknownFunctionError, construct=f"{kind}.{name}")
        if any(isinstance(a, Splat) for a in args):
            # randn(*x.shape) is standard_normal(size=x.shape), rand(*s) random_sample
            alias = {"randn": "standard_normal", "rand": "random_sample"}.get(name)
            if alias is None or kwargs:
                raise self.unsupported(node, "'*' unpacking of a computed value",
                                       "pass size=... instead")
            # randn(n, *x.shape): the size is the tuple (n,) + x.shape
            size, ints = None, []
            for a in list(args) + [None]:
                part = a.value if isinstance(a, Splat) else None
                if a is not None and part is None:
                    ints.append(a)
                    continue
                if ints:
                    lead = Seq("tuple", ints)
                    size = lead if size is None else self.binop(ast.Add(), size, lead, node)
                    ints = []
                if part is not None:
                    size = part if size is None else self.binop(ast.Add(), size, part, node)
            prim, kwargs, args = R.METHODS[(kind, alias)], {"size": size}, []
        try:
            args, kwargs = R.positional(prim, [gen] + list(args), kwargs)
        except TypeError as exc:
            raise self.error(node, f"bad call of '{snippet(node.func)}': {exc}",
                             cls=S2SGradError) from None
        return self.apply(prim, args, kwargs, node)

    def call_static(self, obj, args, kwargs, node, path=None):
        if obj is np.random.seed and isinstance(
                getattr(R.LEGACY, "_bit_generator", None), np.random.MT19937):
            # np.random.seed(s) (a function of its own, not a method of NumPy's
            # global RandomState) is that RandomState's seed while its bit
            # generator is the legacy MT19937 (NumPy's own np.random.seed)
            return self.random_call("RandomState", R.legacy_constant(), "seed", args, kwargs,
                                    node)
        owner = getattr(obj, "__self__", None)
        kind = R.rng_kind(owner)
        if kind is not None and callable(obj):
            # np.random.normal (a method of NumPy's global RandomState), or a
            # method of a generator object known while compiling
            return self.random_call(kind, Const(owner), obj.__name__, args, kwargs, node)
        if _is_array_namespace(obj):
            # SciPy's array-API idiom: xp = array_namespace(x); xp.sum(...) --
            # for NumPy arrays the namespace is NumPy's (whose array-API names,
            # np.concat, np.pow, np.asin, ..., are NumPy's own functions)
            if any(isinstance(a, (Seq, DictVal, TreeObj)) for a in args) or kwargs:
                raise self.unsupported(node, "array_namespace() of containers",
                                       "pass the arrays")
            return Static(np)
        # (a NumPy ufunc or array function is none of the three below: most
        # calls skip their tests, each of which imports and builds a table)
        if type(obj) not in _NUMPY_CALLABLES:
            if is_schedule_type(obj):           # checkpoint=Binomial(snapshots=4) inside
                return self.make_schedule(obj, args, kwargs, node)
            kind = transform_kind(obj)
            if kind is not None:                # grad(g) inside the function
                return self.make_transform(kind, args, kwargs, node)
            t = transformed_value(obj)
            if t is not None:                   # dg = grad(g) defined outside
                return self.call_transform(t, args, kwargs, node)
        if obj is len:
            # len of a tuple, list or dict known while compiling is a constant
            # (the builtin's handler; len is a primitive too, which would build
            # the container at run time -- a tuple of differentiated arrays)
            return BUILTIN_CALLS[id(len)][1](self, args, kwargs, node)
        prim = P.lookup_object(obj)
        if prim is not None and prim.lower_call is not None:
            return prim.lower_call(self, args, kwargs, node)   # a custom rule (s2sgrad.custom)
        if prim is not None:
            # np.multiply(a, b) prints as the call, not as a * b: on Python
            # floats NumPy's function gives np.float64 (with .astype, ...)
            spelling = ("func",) if prim.printer is not None and \
                getattr(prim.printer, "operator", False) and obj is prim.impl else None
            return self.apply(prim, args, kwargs, node, spelling=spelling)
        if isinstance(obj, np.vectorize):
            # vf = np.vectorize(f) made outside the function: its element loop
            if obj.otypes or obj.excluded or obj.cache:
                raise self.unsupported(node, "np.vectorize with otypes/excluded/cache",
                                       "use np.vectorize(f) or np.vectorize(f, signature=...)")
            return vectorized_call(self, Static(obj.pyfunc), args, kwargs, node, obj.signature)
        handler = BUILTIN_CALLS.get(id(obj))
        if handler is not None and handler[0] is obj:
            return handler[1](self, args, kwargs, node)
        mname = MATH_FUNCS.get(id(obj))
        if mname is not None and getattr(math, obj.__name__, None) is obj and not kwargs:
            # math.exp(x) on a Python scalar: NumPy's function, then float() as math gives
            if obj is math.hypot and len(args) != 2:
                raise self.unsupported(node, f"math.hypot of {len(args)} arguments",
                                       "nest two-argument calls, or use np.linalg.norm")
            if obj is math.log and len(args) == 2:
                out = self.apply(P.get("divide"), [
                    self.apply(P.get("log"), args[:1], {}, node),
                    self.apply(P.get("log"), args[1:], {}, node)], {}, node)
            else:
                if mname not in P.REGISTRY:         # math.erf: scipy.special's rules
                    P.load_optional_rules(force=True)
                if mname not in P.REGISTRY:
                    raise self.error(node, f"'math.{obj.__name__}' needs SciPy's rules "
                                           f"(scipy is not installed); compute it outside",
                                     cls=UnknownFunctionError, construct=f"math.{obj.__name__}")
                out = self.apply(P.get(mname), args, {}, node)
            if obj in (math.floor, math.ceil, math.trunc):
                # Python's int (x[math.floor(s)] indexes): data, derivative 0 as floor's
                return self.apply(P.get("int"), [out], {}, node)
            return self.apply(P.get("float"), [out], {}, node)
        if obj is warnings.simplefilter or obj is warnings.filterwarnings:
            if self.top.warning_filters_ok:
                return Const(None)     # only which warnings show; restored at the block's end
            raise self.error(node, f"'{_describe(obj, node)}' outside a 'with "
                                   f"warnings.catch_warnings():' block changes the global "
                                   f"warning filters; call it before the differentiated "
                                   f"function, or inside 'with warnings.catch_warnings():'",
                             construct=_describe(obj, node))
        if isinstance(obj, type) and (obj in pytree._NODES or dataclasses.is_dataclass(obj)):
            return self.construct_tree(obj, args, kwargs, node)     # Params(w=..., b=...)
        if isinstance(obj, type) and issubclass(obj, tuple) and \
                isinstance(getattr(obj, "_fields", None), tuple):
            return self.construct_namedtuple(obj, args, kwargs, node)    # Pair(w, b)
        if isinstance(obj, type) and issubclass(obj, np.generic) and \
                issubclass(obj, (np.floating, np.complexfloating, np.integer, np.bool_)):
            return self.apply(P.get("scalar_cast"), args, {"dtype": Const(obj)}, node)
        if isinstance(obj, schedules.CheckpointedFunction):
            return self.checkpointed_call(obj, args, kwargs, node)
        if isinstance(obj, functools.partial):          # made outside the function
            return self.call_value(*partial_of(self, obj, path, node).bound(args, kwargs), node)
        if isinstance(obj, types.FunctionType) and not _is_library_function(obj):
            return self.inline(obj, args, kwargs, node)
        if isinstance(obj, functools._lru_cache_wrapper) and \
                isinstance(getattr(obj, "__wrapped__", None), types.FunctionType) and \
                not _is_library_function(obj.__wrapped__):
            # @functools.lru_cache / @functools.cache: the function itself (its
            # result for these arguments, computed here instead of looked up)
            return self.inline(obj.__wrapped__, args, kwargs, node)
        if isinstance(obj, types.MethodType) and isinstance(obj.__func__, types.FunctionType) \
                and not _is_library_function(obj.__func__):
            return self.inline(obj.__func__, [self.method_self(obj, path, node)] + list(args),
                               kwargs, node)
        call = getattr(type(obj), "__call__", None)
        if isinstance(call, types.FunctionType) and not _is_library_function(call) and \
                not isinstance(obj, type):
            # an instance of a class with __call__ (loss = Loss(); loss(x)):
            # its bound __call__, guarded like any method read from the object
            bound = obj.__call__
            sub = None if path is None else path.attr("__call__")
            if sub is not None:
                self.guard(sub.attr("__func__"), call)
                self.guard(sub.attr("__func__").attr("__code__"), call.__code__)
            return self.call_static(bound, args, kwargs, node, sub)
        owner = getattr(obj, "__self__", None)
        if isinstance(obj, types.BuiltinMethodType) and isinstance(owner, (dict, list)):
            # CFG.items(), LAYERS.copy() of a global, closed-over or attribute container
            what = f"{type(owner).__name__}.{obj.__name__}"
            raise self.error(node, f"calling '.{obj.__name__}()' on a {type(owner).__name__} "
                                   f"from outside the function (a global, a closed-over "
                                   f"variable or an attribute) is not supported; read its "
                                   f"entries with constant keys (CFG['lr'], LAYERS[0]), or "
                                   f"pass it to the function as an argument",
                             cls=UnsupportedSyntaxError, construct=what)
        if is_distribution(obj):          # scipy.stats.norm(mu, sigma): frozen
            return FrozenDist(obj, args, kwargs)
        if isinstance(obj, types.MethodType):
            done = frozen_method_call(self, obj, args, kwargs, node, path)   # PRIOR.logpdf
            if done is not None:
                return done
        refusal = P.refusal(obj)          # what the rule tables know about it
        if refusal is not None:
            name, hint = refusal
            raise self.error(node, f"'{name}' {hint}", cls=UnknownFunctionError, construct=name)
        name = _describe(obj, node)
        if obj is super:
            raise self.error(node, "super() is supported only as super().method(...) in a "
                                   "method; call the base class's method by its name, e.g. "
                                   "Base.loss(self, ...)",
                             cls=UnsupportedSyntaxError, construct="super()")
        if obj in (int, bool, complex):
            # int(x[0] > 0): a Python number made from a value known only at
            # run time (not the constructor of a user's class)
            raise self.error(node, f"{obj.__name__}() of a computed value is not supported "
                                   f"(it is not the constructor of a class of yours); for a "
                                   f"size use integer operations (x.shape[0] // 2), for data "
                                   f"keep an array: a mask (x > 0), np.where(...), "
                                   f".astype({obj.__name__}), or float(...) for a number",
                             cls=UnknownFunctionError, construct=f"{obj.__name__}()")
        if isinstance(obj, type) and not _is_library_function(obj) and \
                (getattr(obj, "__module__", "") or "").split(".")[0] not in \
                getattr(sys, "stdlib_module_names", ()) and plain_record_class(obj):
            return self.construct_record(obj, args, kwargs, node)
        if isinstance(obj, type) and not _is_library_function(obj) and \
                (getattr(obj, "__module__", "") or "").split(".")[0] not in \
                getattr(sys, "stdlib_module_names", ()):
            # (itertools.combinations, collections.Counter: not a class of yours)
            raise self.error(node, f"making an instance of your class '{name}' inside the "
                                   f"differentiated function is not supported; make it a "
                                   f"dataclass (or s2sgrad.register_pytree it), or create the "
                                   f"object outside and pass it in or read it as a global "
                                   f"(its methods are then inlined)",
                             cls=UnknownFunctionError, construct=name)
        raise self.error(node, f"'{name}' is not a function s2sgrad knows how to differentiate; "
                               f"use a supported NumPy function, or compute this value outside "
                               f"the differentiated function and pass it in",
                         cls=UnknownFunctionError, construct=name)

    def checkpointed_call(self, cf, args, kwargs, node):
        """A call of an ``@s2sgrad.checkpoint`` helper: its body inlined into a
        loop of one iteration marked for checkpointing (reverse mode then
        keeps only what it reads and recomputes its insides,
        :mod:`s2sgrad.remat`); its results are the loop's carries."""
        body = Block([], [], [])
        holder = {}
        saved_env = self.env
        self.env = dict(saved_env)
        index = Var("_", shape=P.SCALAR)

        def lower():
            out = self.inline(cf.__wrapped__, args, kwargs, node)
            items = out.items if isinstance(out, Seq) else [out]
            holder["kind"] = out.kind if isinstance(out, Seq) else None
            holder["items"] = [self.materialize(v, node) for v in items]

        try:
            self.in_block(body, lower)
        finally:
            self.env = saved_env
        items = holder["items"]
        params = [Var(v.hint if isinstance(v, Var) else "", shape=P.fresh_shape())
                  for v in items]
        body.params = [index] + params
        body.results = list(items)
        outs = tuple(Var(p_.hint, shape=P.shape_of(v) if isinstance(v, Var) else None)
                     for p_, v in zip(params, items))
        self.set_loc(node)
        self.em.block.eqns.append(Eqn(
            P.get("for_loop"), (Const(range(1)),) + tuple(Const(None) for _ in items), {},
            outs, {"body": body, "checkpoint": schedules.Remat(cf.policy),
                   "helper": cf.__name__}, self.loc))
        if holder["kind"] is None:
            return outs[0]
        return Seq(holder["kind"], list(outs))

    def inline(self, fn, args, kwargs, node):
        if self.depth >= MAX_INLINE_DEPTH:
            raise self.error(node, f"calls nest deeper than {MAX_INLINE_DEPTH} levels while "
                                   f"inlining '{fn.__name__}': recursion whose depth depends "
                                   f"on computed values is not supported", cls=S2SGradError)
        try:
            src = parse_function(fn, generator=True)
        except S2SGradError as exc:
            raise self.error(node, f"cannot inline '{fn.__name__}': {exc}",
                             cls=type(exc)) from None
        sub = type(self)(src, Resolver(fn), self.em, top=self.top, depth=self.depth + 1)
        sub.caller = self
        # (a functools.wraps wrapper binds by its own parameters, *args, **kwargs)
        sig = inspect.signature(fn, follow_wrapped=False)
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
                k = [p for p in sig.parameters.values()
                     if p.default is not inspect.Parameter.empty and
                     p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)].index(param) \
                    if param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD) \
                    else None
                # a default is fixed with the function object (guarded), but
                # data (an array default) is read live, as the function would
                d = param.default
                dpath = None
                if isinstance(d, (np.ndarray, np.generic, float, complex, list)) or \
                        is_namespace(d):
                    fpath = Path(("object", fn, fn.__name__))
                    dpath = fpath.attr("__defaults__").item(k) if k is not None else \
                        fpath.attr("__kwdefaults__").item(pname)
                sub.env[pname] = self.static_value(d, dpath, node)
            elif param.kind == param.VAR_POSITIONAL:
                sub.env[pname] = Seq("tuple", [])
            elif param.kind == param.VAR_KEYWORD:
                sub.env[pname] = DictVal({})
        saved = self.loc
        body = src.node.body
        mark = _draw_mark(self.em.block)
        if isinstance(src.node, ast.Lambda):
            sub.set_loc(src.node)
            sub.env["$retv"] = sub.expr(body)
        else:
            sub.lower_body(body)
        self.loc = saved
        self.em.loc = saved
        if fn.__code__.co_flags & inspect.CO_GENERATOR:
            self.generator_drew(mark, fn.__name__, node)
        return sub.env.get("$retv", Const(None))

    def generator_drew(self, mark, name, node):
        """A generator function is run to completion before its consumer's
        loop (its yields collected in a list): refuse it if it draws random
        numbers, whose order relative to the consumer's draws would change."""
        if _draw_mark(self.em.block, mark):
            raise self.unsupported(node, f"a generator function ('{name}') that draws "
                                         f"random numbers", "draw them in the loop that "
                                                            "iterates it, or return a list")

    def call_local(self, fn: "LocalFunction", args, kwargs, node):
        if self.depth >= MAX_INLINE_DEPTH:
            raise self.error(node, f"calls nest deeper than {MAX_INLINE_DEPTH} levels: recursion "
                                   f"whose depth depends on computed values is not supported",
                             cls=S2SGradError)
        outer = fn.lowerer
        sub = type(self)(self.src, self.resolver, self.em, top=self.top, depth=self.depth + 1)
        sub.caller = self
        fnode = fn.node
        generator = isinstance(fnode, ast.FunctionDef) and is_generator_def(fnode)
        if generator:                     # for W, b in layers(params): its yields, as a list
            fnode = generator_as_list(fnode)
        sub.nonlocal_names = declared_nonlocal(fnode)
        sub.local_names = assigned_names(fnode) - sub.nonlocal_names
        sub.closure_owner = outer
        if sub.nonlocal_names and not any(lw is outer for lw in self._lowerers()):
            raise self.unsupported(node, "calling a nested function that assigns a 'nonlocal' "
                                         "name after the function that made it returned",
                                   "return the new value from the nested function instead")
        sub.env = {k: v for k, v in outer.env.items() if not k.startswith("$") and
                   k not in sub.local_names}     # (its own names: unbound until assigned)
        sub.env.update(fn.scope)
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
        mark = _draw_mark(self.em.block)
        if isinstance(fnode, ast.Lambda):
            sub.set_loc(fnode)
            sub.env["$retv"] = sub.expr(fnode.body)
        else:
            sub.lower_body(fnode.body)
        self.loc = saved
        self.em.loc = saved
        if generator:
            self.generator_drew(mark, fnode.name, node)
        return sub.env.get("$retv", Const(None))

    def stmt_FunctionDef(self, s):
        if s.decorator_list:
            raise self.unsupported(s, "a decorated nested 'def'", "define it without decorators")
        self.env[s.name] = self.made_function(LocalFunction(s, self))

    def expr_Lambda(self, node):
        return self.made_function(LocalFunction(node, self))

    def made_function(self, fn):
        """``fn`` (a nested def or lambda), noted for the comprehensions being
        lowered (``expr_ListComp`` gives it their loop variables' scope)."""
        self.note_closure_scope()
        for owner, made in getattr(self.top, "comp_functions", ()):
            if owner is self:             # (not a function a helper called there makes)
                made.append(fn)
        return fn

    def static_callee(self, func):
        """The compile-time object a call's function expression names (a name
        or a dotted attribute of a module), without lowering anything else."""
        if isinstance(func, ast.Name):
            return self.load_name(func)
        if isinstance(func, ast.Attribute):
            base = self.static_callee(func.value)
            if isinstance(base, (Static, ObjVal)) and hasattr(base.obj, func.attr):
                return self.attr_value(base, func.attr, func)
        return None

    def arrays_of_sequences(self, prim, args, kwargs, node):
        """``np.mean((a, b))``: a tuple or list of computed values passed where
        NumPy expects an array is converted by NumPy (stacked along a new
        axis 0): so it is here, through ``np.array`` (differentiable), instead
        of an opaque tuple."""
        if not any(isinstance(v, Seq) for v in args) and \
                not any(isinstance(v, Seq) for v in kwargs.values()):
            return list(args), dict(kwargs)     # (no sequence: nothing converted)
        names = [p.name for p in prim.signature.parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]

        def conv(v, name):
            if name in _ARRAY_OPERANDS and isinstance(v, Seq) and v.items and \
                    any(isinstance(x, (Var, Seq)) for x in v.items):
                return self.apply(P.get("array"), [v], {}, node)
            return v
        args = [conv(a, names[i] if i < len(names) else None) for i, a in enumerate(args)]
        kwargs = {k: conv(v, k) for k, v in kwargs.items()}
        return args, kwargs

    def apply(self, prim, args, kwargs, node, spelling=None):
        params = {}
        if prim.name in ("stack", "array", "asarray") and len(args) == 1 and not kwargs and \
                isinstance(args[0], Var) and args[0] in getattr(self, "gradient_results", {}):
            # np.stack(np.gradient(f)) without axis=: one array whatever f's rank
            pos, kw = self.gradient_results[args[0]]
            return self.em.call(P.get("gradient_stacked"), *pos,
                                **{k: v for k, v in kw.items() if k == "edge_order"})
        if prim.name == "array" and args and not isinstance(args[0], Seq) and not (
                isinstance(args[0], Var) and P.shape_of(args[0]) is LIST):
            # np.array(x) of an array or a scalar: a copy, as np.asarray/np.copy
            # (np.array(1.5, dtype=np.float32): converted, then copied)
            other = sorted(k for k in kwargs if k != "dtype" and not (
                k == "copy" and isinstance(kwargs[k], Const) and kwargs[k].value is True))
            if other:
                raise self.unsupported(node, f"np.array(x, {other[0]}=...)",
                                       "call np.array(x) or np.array(x, dtype=...)")
            x = args[0]
            if "dtype" in kwargs and not (isinstance(kwargs["dtype"], Const) and
                                          kwargs["dtype"].value is None):
                x = self.apply(P.get("asarray"), [x], {"dtype": kwargs["dtype"]}, node)
            return self.apply(P.get("copy"), [x], {}, node)
        if prim.canonicalize is not None:
            # one form for the rules: np.einsum's operand/sublist form becomes its
            # subscripts form, scipy.linalg's (c, lower) pairs become operands,
            # np.average's weights= an operand; np.where(c) is np.nonzero(c)
            try:
                res = prim.canonicalize(tuple(args), dict(kwargs))
            except S2SGradError as exc:
                raise self.error(node, str(exc), cls=type(exc)) from None
            if len(res) == 3:
                prim, args, kwargs = res
            else:
                args, kwargs = res
        if prim.seq_arg and args and isinstance(args[0], Var) and \
                P.shape_of(args[0]) is not LIST and P.shape_of(args[0]) is not P.SCALAR and \
                prim.name in ("concatenate", "vstack", "hstack", "stack"):
            # np.vstack(A) of an array: NumPy iterates over its first axis
            args = [self.em.call(P.get("unstack"), args[0], axis=Const(0))] + list(args[1:])
        if prim.seq_arg and args and isinstance(args[0], Var) and P.shape_of(args[0]) is LIST:
            if prim.name in ("concatenate", "vstack", "hstack"):
                axis = list(args[1:2]) or [kwargs.get("axis", Const(0))]
                return self.em.call(P.get("concat_list"), args[0], how=Const(prim.name),
                                    axis=self.materialize(axis[0]))
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
                raise self.error(node, f"too many arguments in '{snippet(node)}'",
                                 cls=S2SGradError)
            kwargs = dict(kwargs)
            for name, v in zip(options, extra):
                kwargs[name] = v
            args = list(args[0].items)
        if not prim.name.startswith("list_") and prim.name not in _TAKES_LISTS:
            args, kwargs = self.arrays_of_sequences(prim, args, kwargs, node)
        hint = getattr(self, "unpack_hint", None)
        if prim.name == "gradient" and hint is not None and hint[0] is node and args and \
                (kwargs.get("axis") is None or (isinstance(kwargs["axis"], Const) and
                                                kwargs["axis"].value is None)):
            # gy, gx = np.gradient(f): f has as many axes as there are targets
            n = hint[1]
            args = [self.em.call(P.get("require_ndim"), self.materialize(args[0], node),
                                 ndim=Const(n), what=Const("np.gradient(f) unpacked"))] + \
                list(args[1:])
            kwargs = dict(kwargs, axis=Const(tuple(range(n))))
        atoms = [self.materialize(a, node) for a in args]
        katoms = {k: self.static_option(self.materialize(v, node)) for k, v in kwargs.items()}
        if prim.name in ("asarray", "asanyarray") and len(atoms) == 1 and not katoms and \
                isinstance(atoms[0], Var) and P.shape_of(atoms[0]) is not LIST and \
                not self.top.may_be_sequence(atoms[0]):
            # np.asarray(a) (np.asanyarray(a)) of an array is a itself: one array,
            # two names (a list passed or read live is converted when the code runs)
            return atoms[0]
        if not prim.name.startswith("list_") and prim.name not in _TAKES_LISTS:
            # np.max(hs), np.mean(hs) of a list built at run time: NumPy converts the
            # list to an array (stacked along a new axis 0); so does the IR, so the
            # rule's cotangent is an array's and the list's is unstacked from it
            atoms = [self.em.call(P.get("stack_list"), a, axis=Const(0))
                     if isinstance(a, Var) and P.shape_of(a) is LIST else a for a in atoms]
        try:
            pos, kw = prim.bind(atoms, katoms)
        except TypeError as exc:
            raise self.error(node, f"unsupported arguments in '{snippet(node)}': {exc}",
                             cls=S2SGradError) from None
        if prim.name == "conjugate" and spelling is not None and spelling[0] == "method":
            # x.conj() / x.conjugate() of a real array is x itself in NumPy (a
            # complex one: a new array); np.conj(x), a ufunc, always copies
            prim, spelling = P.get("conj_if_complex"), None
        if prim.name == "nan_to_num" and "copy" in kw and not (
                isinstance(kw["copy"], Const) and kw["copy"].value is True):
            # NumPy replaces the values in x itself and returns x
            raise self.unsupported(node, "np.nan_to_num(x, copy=False) (it writes into x)",
                                   "write x[...] = np.nan_to_num(x), or use the result "
                                   "of np.nan_to_num(x)")
        if prim.expand is not None:
            # a composite (scipy.stats.norm.logpdf, ...): the primitives it is made of
            try:
                out = prim.expand(self.em, *pos, **kw)
            except S2SGradError as exc:     # a refusal by the composite: the user's line
                raise exc.located(self.src.filename, getattr(node, "lineno", None)) from None
            if isinstance(out, Var) and prim.name in NUMPY_VIEWS:
                # NumPy's result is a view (sliding_window_view, trim_zeros):
                # a later write into the operand is seen through it
                first = next(iter(prim.signature.parameters))
                operand, rest, vkw = (pos[0], pos[1:], kw) if pos else (
                    kw.get(first), (), {k: v for k, v in kw.items() if k != first})
                self.record_view(prim.name, out, operand, vkw, node, spelling, rest)
            return (Seq("tuple", list(out), prim.out_fields, prim.result_type(kw))
                    if isinstance(out, tuple) else out)
        folded = _fold_constants(prim, pos, kw)
        if folded is not None:
            return folded
        for a in atoms:
            if isinstance(a, Var) and P.shape_of(a) is LIST and prim.name != "len":
                # (hs.copy(): another list holds hs's arrays from now on)
                self.own_lists().pop(a, None)
        if spelling is not None:
            params["spelling"] = spelling
        try:
            out = self.em.call(prim, *pos, _params=params or None, **kw)
        except S2SGradError as exc:      # a refusal by the primitive (a count it needs)
            raise exc.located(self.src.filename, getattr(node, "lineno", None)) from None
        if prim.name in ("asarray", "asanyarray") and isinstance(out, Var) and pos and \
                self.top.may_be_sequence(pos[0]):
            # np.asarray of a list: an array of a shape of its own (its .shape
            # is not read off the list, which has none)
            out.shape = P.fresh_shape()
        if prim.name == "gradient" and isinstance(out, Var) and _absent_axis(kw.get("axis")):
            # g = np.gradient(f) without axis=: g[k] reads become gradient_pick
            # (subscripts.py), which need not know f's number of axes
            self.__dict__.setdefault("gradient_results", {})[out] = (pos, kw)
        if prim.name in _INDEX_RESULTS and isinstance(out, Var):
            # np.argmin(x): an integer without axis=, an array with one -- an
            # index that may make y[k] a view (lower.subscripts)
            self.top.int_items.add(out)
        if isinstance(out, tuple):
            self.record_views_of_pieces(prim.name, out, pos, kw)
            return Seq(prim.out_kind, out, prim.out_fields, prim.result_type(kw))
        if pos and isinstance(out, Var):
            # a.T, a.reshape(...), np.squeeze(a), ...: views of a (s2sgrad.alias)
            self.record_view(prim.name, out, pos[0], kw, node, spelling, pos[1:])
        if isinstance(out, Var) and prim.name in _NEW_ARRAY_OPS and any(out is a for a in pos):
            # x * 1, x + 0 folded to x: NumPy makes a new array (a write into
            # it must not reach x); +x keeps the type and makes the copy
            out = self.em.call(P.get("positive"), out)
        return out


# Primitives whose result is an integer index (or an array of them).
_INDEX_RESULTS = {"argmax", "argmin", "nanargmax", "nanargmin", "searchsorted", "digitize",
                  "ravel_multi_index", "count_nonzero"}


def _absent_axis(axis):
    return axis is None or (isinstance(axis, Const) and axis.value is None)


_LOG_NAMES = ("debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log")


def _is_output_call(obj):
    """``print`` or a logging call (``logging.info``, ``logger.debug``):
    output only, no value for the code differentiated."""
    import logging
    if obj is print:
        return True
    if any(obj is getattr(logging, n) for n in _LOG_NAMES):
        return True
    owner = getattr(obj, "__self__", None)
    func = getattr(obj, "__func__", None)
    return isinstance(owner, (logging.Logger, logging.LoggerAdapter)) and func is not None \
        and any(func is getattr(type(owner), n, None) for n in _LOG_NAMES) \
        and getattr(type(owner), func.__name__, None) is getattr(
            logging.Logger if isinstance(owner, logging.Logger) else logging.LoggerAdapter,
            func.__name__, None)
