"""Custom derivative rules: ``custom_vjp``, ``custom_jvp`` and ``defrule``.

Three forms, one mechanism: each gives the rule table (:mod:`s2sgrad.primitives.core`)
an entry whose rules are the user's own Python functions, *read as code*:
when a derivative is built, the rule's source is lowered through the
ordinary lowering (:mod:`s2sgrad.lower`) into the adjoint or tangent program,
so it prints in the generated source with comments pointing at the rule's
own lines, is optimised and specialised like any code, and is
differentiated again by the next order (``grad(grad(f))``, ``hessian``).

``custom_vjp(f)`` then ``f.defvjp(fwd, bwd)`` (JAX's signatures)
    A call ``f(*args)`` in a differentiated function lowers to ``fwd``'s body,
    giving ``(out, residuals)``, and a *marker* equation
    ``out' = custom_rule(out, *args, *residuals)``: the identity on ``out`` at
    run time (code generation erases it, :func:`s2sgrad.optimize.erase_rule_markers`)
    that carries the rule.  Its reverse rule lowers ``bwd(*nondiff, residuals,
    g)``; its forward rule *transposes* ``bwd`` (below).  The residuals are
    ordinary values, so a second derivative differentiates through ``fwd``'s
    computation of them and through ``bwd``.

``custom_jvp(f)`` then ``f.defjvp(rule)`` (or ``f.defjvps(*per_argument)``)
    ``f``'s own body gives the value, and a marker carries the rule.  Forward
    mode lowers ``rule(*nondiff, primals, tangents)`` (its tangent output);
    reverse mode transposes the rule's tangent output in the tangents.

``defrule(obj, vjp=..., jvp=...)``
    For a callable s2sgrad cannot read (an extension module's function, a
    ufunc, a library routine): a primitive whose kernel is ``obj`` itself
    (generated code calls it; :class:`~s2sgrad.codegen.CodeGen` binds it by
    name) and whose rules are ``vjp(g, out, *args, **kwargs)`` (a tuple of
    cotangents, one per positional argument) and ``jvp(tangents, out, *args,
    **kwargs)`` (the output's tangent).

A function may have both kinds of rule; each mode then uses its own.  With
only one, the other mode *transposes* it: the rule is lowered with stand-in
zeros for its linear argument (the cotangent ``g`` of a vjp, the tangents
of a jvp) and reverse mode (:mod:`s2sgrad.reverse`) is run on that piece of
IR, which gives the transposed linear map -- exact for a rule that is linear
in that argument, as a derivative is.  A rule that is not (``np.clip(g, lo,
hi)``: JAX's clip_gradient) is refused with a message naming it: the
transposition checks that no value depending on the stand-ins reaches the
result other than linearly (through a non-differentiable step, or read by
the transposed code).

Checks.  A rule's result with the wrong structure (number of cotangents,
a tuple for an array, not a pair ``(out, residuals)``) is a
:class:`RuleError` at compile time naming the rule's file and line; each
derivative a rule returns passes through ``check_rule_output``, which at
run time compares its shape and dtype with the value it is the derivative
of (removed by shape specialisation where they are known to agree).

Semantics follow JAX's ``jax.custom_vjp``/``jax.custom_jvp``:
``nondiff_argnums`` (passed first to ``bwd`` and the jvp rule, never
differentiated: a differentiated value there is an error), pytrees of
arguments, outputs and residuals, ``None`` for a zero cotangent, keyword
arguments mapped to positions.  The decorated functions stay plain Python:
calling one outside a differentiated function calls the original.  Rules
apply to functions compiled after they are defined.
"""
from __future__ import annotations

import ast
import contextlib
import functools
import inspect
import os
import threading

import numpy as np

from .errors import S2SGradError
from .frontend import Resolver, parse_function
from .ir import Block, Const, Eqn, Var
from .lower import Lowerer
from .lower.values import DictVal, LocalFunction, Seq, Static
from .primitives import core as P
from .primitives.core import Emitter, Primitive
from .transpose import transpose

__all__ = ["custom_vjp", "custom_jvp", "defrule", "undefrule", "RuleError", "rule_guards"]


class RuleError(S2SGradError):
    """A user's rule (custom_vjp, custom_jvp, defrule) is malformed: its result
    has the wrong structure, it is not linear where it must be, ..."""


# ---------------------------------------------------------------- lowering values as trees
#
# A call's arguments, outputs and residuals are lowering values (Var, Const,
# Seq, DictVal, Static).  The marker equation holds their leaves as operands
# and their structure in its params, so a rule gets them back as the user
# passed them.


def _encode(lw, value, node, leaves):
    if isinstance(value, Seq):
        return ("seq", value.kind, value.fields,
                tuple(_encode(lw, x, node, leaves) for x in value.items))
    if isinstance(value, DictVal):
        keys = tuple(value.items)
        return ("dict", keys, tuple(_encode(lw, value.items[k], node, leaves) for k in keys))
    if isinstance(value, (Static, LocalFunction)):
        return ("static", value)
    leaves.append(value if isinstance(value, (Var, Const)) else lw.materialize(value, node))
    return ("leaf",)


def _decode(tree, it):
    kind = tree[0]
    if kind == "leaf":
        return next(it)
    if kind == "static":
        return tree[1]
    if kind == "seq":
        return Seq(tree[1], [_decode(t, it) for t in tree[3]], tree[2])
    return DictVal(dict(zip(tree[1], [_decode(t, it) for t in tree[2]])))


def _count(tree):
    kind = tree[0]
    if kind == "leaf":
        return 1
    if kind == "static":
        return 0
    return sum(_count(t) for t in tree[-1])


def _describe(value):
    if isinstance(value, Seq):
        return f"a {value.kind} of {len(value.items)}"
    if isinstance(value, DictVal):
        return f"a dict with keys {list(value.items)}"
    if isinstance(value, Const):
        return repr(value.value)
    if isinstance(value, Static):
        return repr(value.obj)
    return "an array"


# ---------------------------------------------------------------- reading a rule as code


_SINK = threading.local()


@contextlib.contextmanager
def rule_guards(sink):
    """While a transformation compiles (``api._Transformed._cached``): what
    the rules lowered meanwhile assumed about their globals and closure cells
    (:mod:`s2sgrad.guards`) goes into ``sink`` (a ``Guards``), so the
    compiled version is guarded by it too (a rule is lowered when a
    derivative is built, after the function itself)."""
    prev = getattr(_SINK, "guards", None)
    _SINK.guards = sink
    try:
        yield
    finally:
        _SINK.guards = prev


def _lower_rule(fn, args, em, kwargs=None):
    """Lower the user's rule ``fn(*args, **kwargs)`` (lowering values) into
    ``em``'s block, as user code (locations of the rule's own lines); return
    ``(value, source)``."""
    src = _source(fn)
    sem = Emitter(em.block, loc=em.loc, derivative=False)
    lw = Lowerer(src, Resolver(fn), sem)
    start = len(em.block.eqns)
    value = lw.inline(fn, list(args), dict(kwargs or {}), src.node)
    # globals and closure variables the rule reads, before its code
    em.block.eqns[start:start] = [Eqn(prim, tuple(a), {}, (v,), params, None)
                                  for prim, v, params, a in lw.prologue]
    sink = getattr(_SINK, "guards", None)
    if sink is not None:
        sink.extend(lw.guards)
    return value, src


def _source(fn):
    if not callable(fn) or getattr(fn, "__code__", None) is None:
        raise RuleError(f"a rule must be a Python function (def or lambda) s2sgrad can read, "
                        f"got {fn!r}")
    return parse_function(fn)


def _return_line(src) -> int:
    """The line of a rule's (last) return statement, for errors about its result."""
    node = src.node
    if isinstance(node, ast.Lambda):
        return node.lineno
    found = []

    def walk(n):
        for c in ast.iter_child_nodes(n):
            if isinstance(c, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                continue
            if isinstance(c, ast.Return):
                found.append(c.lineno)
            walk(c)
    walk(node)
    return max(found) if found else node.lineno


def _where(src, line=None) -> str:
    return f"{os.path.basename(src.filename)}:{line or src.node.lineno}"


def _name(fn) -> str:
    return getattr(fn, "__name__", None) or repr(fn)


def _checked(em, d, like, what):
    """``d`` (a derivative a rule computed for ``like``) with its run-time check."""
    if d is None or not isinstance(like, Var):
        return d
    return em.call("check_rule_output", d, like, what=Const(what))


def _zero_tangent(em, x):
    if isinstance(x, Var):
        return em.call("zeros_like", x)
    v = getattr(x, "value", None)
    return Const(0j if isinstance(v, complex) else 0.0)


def _is_zero_const(a) -> bool:
    return isinstance(a, Const) and (a.value is None or (
        isinstance(a.value, (int, float, complex)) and not isinstance(a.value, bool)
        and a.value == 0))


def _match(value, tree, leaves, em, what, err, where=""):
    """The leaves of a rule's result ``value`` for the structure ``tree`` of the
    values it is the derivative of (``leaves``: those values, consumed in
    order): one atom per leaf, ``None`` for zero.  ``None`` (or a literal 0)
    stands for zeros of a whole subtree; a structure that differs is
    ``err(message)``.  ``what`` names the result in messages, ``where`` (the
    rule's file:line) prefixes it in the run-time check."""
    out = []
    n = _count(tree)
    mine = [next(leaves) for _ in range(n)]
    kind = tree[0]
    if kind == "static":
        return []
    if _is_zero_const(value):            # None or a literal 0: zeros
        return [None] * n
    if kind == "leaf":
        if isinstance(value, (Seq, DictVal, Static)) or not isinstance(value, (Var, Const)):
            raise err(f"{what} is {_describe(value)}, but must be an array")
        return [_checked(em, value, mine[0], f"{where}: {what}" if where else what)]
    it = iter(mine)
    if kind == "seq":
        if not isinstance(value, Seq) or len(value.items) != len(tree[3]):
            raise err(f"{what} is {_describe(value)}, but must be a tuple or list of "
                      f"{len(tree[3])}, like the value it is the derivative of")
        for k, (v, t) in enumerate(zip(value.items, tree[3])):
            out += _match(v, t, it, em, f"{what}[{k}]", err, where)
        return out
    if not isinstance(value, DictVal) or set(value.items) != set(tree[1]):
        raise err(f"{what} is {_describe(value)}, but must be a dict with keys "
                  f"{list(tree[1])}, like the value it is the derivative of")
    for k, t in zip(tree[1], tree[2]):
        out += _match(value.items[k], t, it, em, f"{what}[{k!r}]", err, where)
    return out


_ACTIVE = threading.local()     # transpositions in progress: (id(owner), direction)


@contextlib.contextmanager
def _transposing(owner, direction, name, rule, err):
    """A rule transposed while its own transposition is in progress (a
    forward rule that applies the function to the tangents again) would
    recurse forever: it needs the other rule."""
    active = _ACTIVE.__dict__.setdefault("keys", set())
    key = (id(owner), direction)
    if key in active:
        other = "reverse" if direction == "jvp" else "forward"
        raise err(f"transposing the rule '{rule}' of '{name}' applies '{name}' to "
                  f"{'tangents' if direction == 'jvp' else 'cotangents'} again, which needs "
                  f"the {other} rule of '{name}' itself; give '{name}' a {other} rule")
    active.add(key)
    try:
        yield
    finally:
        active.discard(key)


# ---------------------------------------------------------------- functions with custom rules


class _Layout:
    """How a marker's operands map back to the call: the structure (trees) of
    the output, of each argument and of the residuals, and how many operands
    each has.  Printed in the IR listing as the call it stands for."""

    __slots__ = ("name", "trees", "sizes")

    def __init__(self, name, trees, sizes):
        self.name, self.trees, self.sizes = name, trees, sizes

    def __repr__(self):
        args = ", ".join(t[-1] if t[0] == "diff" else f"{t[-1]} (nondiff)"
                         for t in self.trees[1])
        return f"{self.name}({args}): {self.sizes[0]} out, {self.sizes[2]} residuals"


def _marker_impl(*args, _nout=1, **nondiff):
    """What a marker computes: its first ``_nout`` operands (the identity on
    the value it marks)."""
    return args[0] if _nout == 1 else tuple(args[:_nout])


def _marker_printer(args, kwargs, eqn):
    """A marker as the call it stands for, ``clip_gradient(x, lo, hi)`` (its
    arguments only; graphs label it so; generated code never holds one)."""
    nout, nprim, _ = eqn.params["layout"].sizes
    keywords = [ast.keyword(arg=k, value=v) for k, v in kwargs.items()
                if k != "_nout" and k.isidentifier()]
    return ast.Call(func=ast.Name(id=eqn.prim.pyname, ctx=ast.Load()),
                    args=list(args[nout:nout + nprim]), keywords=keywords)


def _marker_shape(args, kwargs):
    n = kwargs["_nout"].value
    return tuple(P.shape_of(a) for a in args[:n])


class _CustomFunction(P.RuleCarrier):
    """A function with custom derivative rules (see the module docstring).
    Calling it calls the original function."""

    kind = "custom rule"

    def __init__(self, fun, nondiff_argnums=()):
        if not callable(fun) or getattr(fun, "__code__", None) is None:
            raise TypeError(f"{self.kind} expects a Python function, got {fun!r}")
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.__globals__ = fun.__globals__
        self._sig = inspect.signature(fun)
        for p in self._sig.parameters.values():
            if p.kind in (p.KEYWORD_ONLY, p.VAR_KEYWORD):
                raise TypeError(f"{self.kind} of '{fun.__name__}': keyword-only and ** "
                                f"parameters are not supported (each argument must have a "
                                f"position)")
        if isinstance(nondiff_argnums, int):
            nondiff_argnums = (nondiff_argnums,)
        self.nondiff_argnums = tuple(sorted(set(int(i) for i in nondiff_argnums)))
        self.fwd = self.bwd = self.jvp_rule = None
        self.jvps = None
        prim = Primitive("custom_rule", _marker_impl, sig="*args, **kwargs",
                         pyname=fun.__name__, eqn_rule=True, vjp=self._vjp, jvp=self._jvp,
                         shape=_marker_shape, printer=_marker_printer)
        prim.lower_call = self._lower_call
        prim.opaque_cse = True            # two functions' markers are never merged
        self.primitive = prim

    def __call__(self, *args, **kwargs):
        return self.fun(*args, **kwargs)

    def __repr__(self):
        return f"<{self.kind} {self.__qualname__}>"

    @property
    def name(self):
        return self.fun.__name__

    # ------------------------------------------------------------ defining rules

    def defvjp(self, fwd, bwd):
        """Give the function a reverse rule, as JAX's ``custom_vjp.defvjp``:
        ``fwd(*args) -> (out, residuals)`` and ``bwd(*nondiff_args, residuals,
        g) -> (cotangent of each other argument, ...)`` (``None`` for zero)."""
        _source(fwd)
        _source(bwd)
        self.fwd, self.bwd = fwd, bwd

    def defjvp(self, jvp):
        """Give the function a forward rule, as JAX's ``custom_jvp.defjvp``:
        ``jvp(*nondiff_args, primals, tangents) -> (primal_out, tangent_out)``.
        Usable as a decorator (returns ``jvp``)."""
        _source(jvp)
        self.jvp_rule, self.jvps = jvp, None
        return jvp

    def defjvps(self, *jvps):
        """The forward rule as one function per argument, as JAX's
        ``custom_jvp.defjvps``: ``jvps[i](x_dot_i, primal_out, *primals)`` is
        the tangent of the output along argument ``i``'s tangent (``None``:
        the output does not depend on argument ``i``)."""
        if self.nondiff_argnums:
            raise TypeError("defjvps cannot be used together with nondiff_argnums (as in JAX)")
        for j in jvps:
            if j is not None:
                _source(j)
        self.jvps, self.jvp_rule = tuple(jvps), None

    # ------------------------------------------------------------ lowering a call

    def _bind(self, lw, args, kwargs, node):
        try:
            ba = self._sig.bind(*args, **kwargs)
        except TypeError as exc:
            raise lw.error(node, f"bad call of '{self.name}': {exc}", cls=S2SGradError) \
                from None
        vals, names = [], []
        for pname, p in self._sig.parameters.items():
            if pname in ba.arguments:
                v = ba.arguments[pname]
                if p.kind == p.VAR_POSITIONAL:
                    items = v.items if isinstance(v, Seq) else list(v)
                    vals += list(items)
                    names += [f"{pname}[{k}]" for k in range(len(items))]
                    continue
                vals.append(v)
            elif p.kind == p.VAR_POSITIONAL:
                continue
            else:
                vals.append(lw.static_value(p.default))
            names.append(pname)
        bad = [i for i in self.nondiff_argnums if i >= len(vals)]
        if bad:
            raise lw.error(node, f"nondiff_argnums {bad} of '{self.name}' are out of range: "
                                 f"the call passes {len(vals)} arguments", cls=RuleError)
        return vals, names

    def _lower_call(self, lw, args, kwargs, node):
        """``f(*args)`` in a differentiated function: the forward pass
        (``fwd``'s body, or ``f``'s own for a forward rule only) and the marker
        carrying the rules."""
        if self.fwd is None and self.jvp_rule is None and self.jvps is None:
            raise lw.error(node, f"'{self.name}' is a {self.kind} function without a rule: "
                                 f"call {self.name}.defvjp(fwd, bwd) or "
                                 f"{self.name}.defjvp(rule) before differentiating it",
                           cls=RuleError, construct=self.name)
        vals, names = self._bind(lw, args, kwargs, node)
        active = lw.top.__dict__.setdefault("custom_fwd_active", set())
        if self in active:
            # f called by its own forward rule (JAX's `return f(x), res`): f's
            # own body -- what that value is marked by the enclosing call
            return lw.inline(self.fun, vals, {}, node)
        if self.fwd is not None:
            active.add(self)
            try:
                pair = lw.inline(self.fwd, vals, {}, node)
            finally:
                active.discard(self)
            if not (isinstance(pair, Seq) and len(pair.items) == 2):
                src = _source(self.fwd)
                raise RuleError(f"the forward rule '{_name(self.fwd)}' of '{self.name}' "
                                f"returned {_describe(pair)}; it must return a pair "
                                f"(output, residuals)", filename=src.filename,
                                lineno=_return_line(src))
            out, res = pair.items
        else:
            out, res = lw.inline(self.fun, vals, {}, node), Seq("tuple", [])
        out_leaves, prim_leaves, res_leaves = [], [], []
        out_tree = _encode(lw, out, node, out_leaves)
        res_tree = _encode(lw, res, node, res_leaves)
        arg_trees, nondiff = [], {}
        for i, (v, pname) in enumerate(zip(vals, names)):
            if i in self.nondiff_argnums:
                leaves = []
                t = _encode(lw, v, node, leaves)
                keys = [pname if len(leaves) == 1 else f"{pname}[{k}]"
                        for k in range(len(leaves))]
                keys = [k + "'" * (k == "_nout") for k in keys]
                nondiff.update(zip(keys, leaves))
                arg_trees.append(("nondiff", t, tuple(keys), pname))
            else:
                arg_trees.append(("diff", _encode(lw, v, node, prim_leaves), pname))
        if not out_leaves:
            return out
        outs = tuple(Var("") for _ in out_leaves)
        eqn = Eqn(self.primitive, tuple(out_leaves + prim_leaves + res_leaves),
                  dict({"_nout": Const(len(out_leaves))}, **nondiff), outs,
                  {"layout": _Layout(self.name, (out_tree, tuple(arg_trees), res_tree),
                                     (len(out_leaves), len(prim_leaves), len(res_leaves)))},
                  lw.loc)
        lw.em.emit(eqn)
        return _decode(out_tree, iter(outs))

    # ------------------------------------------------------------ the rules' inputs

    def _parts(self, eqn):
        """(output value, [value of each argument], residuals value) of a marker,
        and the argument trees."""
        nout, nprim, nres = eqn.params["layout"].sizes
        out_tree, arg_trees, res_tree = eqn.params["layout"].trees
        prim_it = iter(eqn.args[nout:nout + nprim])
        vals = []
        for t in arg_trees:
            if t[0] == "diff":
                vals.append(_decode(t[1], prim_it))
            else:
                vals.append(_decode(t[1], iter(eqn.kwargs[k] for k in t[2])))
        res = _decode(res_tree, iter(eqn.args[nout + nprim:]))
        return vals, res, arg_trees

    def _diff_values(self, eqn, leaves):
        """The values of the differentiated arguments, their leaves replaced by ``leaves``."""
        it = iter(leaves)
        return [_decode(t[1], it) for t in eqn.params["layout"].trees[1] if t[0] == "diff"]

    def _nondiff_values(self, eqn):
        vals, _, trees = self._parts(eqn)
        return [v for v, t in zip(vals, trees) if t[0] == "nondiff"]

    def _err(self, src, line=None):
        def err(msg):
            return RuleError(msg, filename=src.filename, lineno=line or _return_line(src))
        return err

    # ------------------------------------------------------------ calling the rules

    def _call_bwd(self, em, eqn, gs):
        """Lower ``bwd(*nondiff, residuals, g)``; return one cotangent (or None)
        per differentiated leaf."""
        out_tree, arg_trees, _ = eqn.params["layout"].trees
        nout, nprim, _ = eqn.params["layout"].sizes
        _, res, _ = self._parts(eqn)
        g = _decode(out_tree, iter(gs))
        value, src = _lower_rule(self.bwd, self._nondiff_values(eqn) + [res, g], em)
        return self._cotangents(em, eqn, value, src, _name(self.bwd))

    def _cotangents(self, em, eqn, value, src, rule):
        nout, nprim, _ = eqn.params["layout"].sizes
        diff = [t for t in eqn.params["layout"].trees[1] if t[0] == "diff"]
        err = self._err(src)
        line = _return_line(src)
        if len(diff) == 1 and diff[0][1][0] == "leaf" and not isinstance(value, Seq):
            value = Seq("tuple", [value])          # one array argument: a bare cotangent
        if not isinstance(value, Seq) or len(value.items) != len(diff):
            names = ", ".join(t[2] for t in diff)
            raise err(f"the reverse rule '{rule}' of '{self.name}' returned {_describe(value)}; "
                      f"it must return "
                      f"a tuple of {len(diff)} cotangent(s), one for each argument "
                      f"({names}; None for one without a derivative)")
        leaves = iter(eqn.args[nout:nout + nprim])
        out = []
        for item, t in zip(value.items, diff):
            out += _match(item, t[1], leaves, em, f"{rule}'s cotangent of '{t[2]}'", err,
                          _where(src, line))
        return out

    def _call_jvp(self, em, eqn, tans):
        """Lower the forward rule with tangents ``tans`` (one per differentiated
        leaf; None: zero); return one tangent (or None) per output leaf."""
        nout, nprim, _ = eqn.params["layout"].sizes
        out_tree = eqn.params["layout"].trees[0]
        prims = list(eqn.args[nout:nout + nprim])
        primals = self._diff_values(eqn, prims)
        if self.jvps is not None:
            total = [None] * nout
            diff = [t for t in eqn.params["layout"].trees[1] if t[0] == "diff"]
            start = 0
            out_val = _decode(out_tree, iter(eqn.outs))
            for k, t in enumerate(diff):
                n = _count(t[1])
                mine = tans[start:start + n]
                xs = prims[start:start + n]
                start += n
                if all(d is None for d in mine) or k >= len(self.jvps) or self.jvps[k] is None:
                    continue
                tv = _decode(t[1], iter([d if d is not None else _zero_tangent(em, x)
                                         for d, x in zip(mine, xs)]))
                rule = self.jvps[k]
                value, src = _lower_rule(rule, [tv, out_val] + primals, em)
                part = _match(value, out_tree, iter(eqn.outs), em, f"{_name(rule)}'s tangent",
                              self._err(src), _where(src, _return_line(src)))
                total = [em.add_ct(a, b) for a, b in zip(total, part)]
            return total
        tv = self._diff_values(eqn, [d if d is not None else _zero_tangent(em, x)
                                     for d, x in zip(tans, prims)])
        value, src = _lower_rule(self.jvp_rule, self._nondiff_values(eqn) +
                                 [Seq("tuple", primals), Seq("tuple", tv)], em)
        err = self._err(src)
        if not (isinstance(value, Seq) and len(value.items) == 2):
            raise err(f"the forward rule '{_name(self.jvp_rule)}' of '{self.name}' returned "
                      f"{_describe(value)}; it must return a pair (primal_out, tangent_out)")
        return _match(value.items[1], out_tree, iter(eqn.outs), em,
                      f"{_name(self.jvp_rule)}'s tangent", err, _where(src, _return_line(src)))

    # ------------------------------------------------------------ the table's rules

    def _vjp(self, em, eqn, g):
        nout, nprim, nres = eqn.params["layout"].sizes
        gs = list(g) if nout > 1 else [g]
        if all(x is None for x in gs):
            return [None] * len(eqn.args)
        if self.bwd is not None:
            from .reverse import zeros_of
            gs = [x if x is not None else zeros_of(em, o) for x, o in zip(gs, eqn.outs)]
            cts = self._call_bwd(em, eqn, gs)
        else:
            cts = self._transposed_jvp(em, eqn, gs)
        return [None] * nout + list(cts) + [None] * nres

    def _jvp(self, em, eqn, dots):
        nout, nprim, _ = eqn.params["layout"].sizes
        tans = list(dots[nout:nout + nprim])
        if all(d is None for d in tans):
            return None
        if self.jvp_rule is not None or self.jvps is not None:
            ts = self._call_jvp(em, eqn, tans)
        else:
            ts = self._transposed_bwd(em, eqn, tans)
        return tuple(ts) if nout > 1 else ts[0]

    def _transposed_bwd(self, em, eqn, tans):
        """Forward mode from the reverse rule: transpose ``bwd`` in its cotangent."""
        src = _source(self.bwd)
        err = self._err(src)
        with _transposing(self, "vjp", self.name, _name(self.bwd), err):
            return self._transpose_bwd(em, eqn, tans, err)

    def _transpose_bwd(self, em, eqn, tans, err):
        from .reverse import name_derivative
        standins = [name_derivative(em.call("zeros_like", o), o, "_bar") for o in eqn.outs]
        sub = Emitter(Block(), loc=em.loc)
        cts = self._call_bwd(sub, eqn, standins)
        pairs = [(c, d) for c, d in zip(cts, tans) if c is not None and d is not None]

        def refuse(reason):
            return err(f"forward mode (jvp, hvp, hessian, jacobian) through '{self.name}', "
                       f"which has only a reverse rule, transposes that rule "
                       f"'{_name(self.bwd)}' in its cotangent argument, but {reason}; give "
                       f"'{self.name}' a forward rule too ({self.name}.defjvp(...)), or use "
                       f"reverse mode (grad, vjp; for second derivatives grad(grad(f)) or "
                       f"jacobian(grad(f), mode='reverse'))")
        return transpose(em, sub.block, standins, [c for c, _ in pairs],
                         [d for _, d in pairs], refuse)

    def _transposed_jvp(self, em, eqn, gs):
        """Reverse mode from the forward rule: transpose its tangent output in the
        tangents."""
        rule = self.jvp_rule or next(j for j in self.jvps if j is not None)
        err = self._err(_source(rule))
        with _transposing(self, "jvp", self.name, _name(rule), err):
            return self._transpose_jvp(em, eqn, gs, rule, err)

    def _transpose_jvp(self, em, eqn, gs, rule, err):
        from .reverse import name_derivative
        nout, nprim, _ = eqn.params["layout"].sizes
        prims = list(eqn.args[nout:nout + nprim])
        standins = [name_derivative(em.call("zeros_like", x), x, "_dot")
                    if isinstance(x, Var) else None for x in prims]
        sub = Emitter(Block(), loc=em.loc)
        ts = self._call_jvp(sub, eqn, [s for s in standins])
        pairs = [(t, g) for t, g in zip(ts, gs) if t is not None and g is not None]
        params = [s for s in standins if s is not None]

        def refuse(reason):
            return err(f"reverse mode (grad, vjp) through '{self.name}', which has only a "
                       f"forward rule, transposes that rule '{_name(rule)}' in its tangents, "
                       f"but {reason}; give '{self.name}' a reverse rule too "
                       f"({self.name}.defvjp(fwd, bwd)), or use forward mode (jvp)")
        cts = iter(transpose(em, sub.block, params, [t for t, _ in pairs],
                             [g for _, g in pairs], refuse))
        return [next(cts) if s is not None else None for s in standins]


class custom_vjp(_CustomFunction):
    """A function with its own reverse-mode rule, as JAX's ``jax.custom_vjp``::

        @s2sgrad.custom_vjp
        def clip_gradient(x, lo, hi):
            return x
        def clip_fwd(x, lo, hi):
            return x, (lo, hi)                    # the value, residuals
        def clip_bwd(res, g):
            lo, hi = res
            return (np.clip(g, lo, hi), None, None)   # one cotangent per argument
        clip_gradient.defvjp(clip_fwd, clip_bwd)

    ``nondiff_argnums``: positions passed to ``bwd`` first and never
    differentiated.  Forward mode transposes ``bwd`` (exact when ``bwd`` is
    linear in ``g``; refused with a clear error when it is not) unless a
    forward rule is given too with :meth:`defjvp`.
    """

    kind = "custom_vjp"

    def __init__(self, fun=None, *, nondiff_argnums=()):
        super().__init__(fun, nondiff_argnums)

    def __new__(cls, fun=None, *, nondiff_argnums=()):
        if fun is None:       # @custom_vjp(nondiff_argnums=(1,))
            return lambda f: cls(f, nondiff_argnums=nondiff_argnums)
        return super().__new__(cls)


class custom_jvp(_CustomFunction):
    """A function with its own forward-mode rule, as JAX's ``jax.custom_jvp``::

        @s2sgrad.custom_jvp
        def safe_norm(x):
            return np.sqrt(np.sum(x ** 2))
        @safe_norm.defjvp
        def safe_norm_jvp(primals, tangents):
            (x,), (t,) = primals, tangents
            n = safe_norm(x)
            return n, np.sum(x * t) / np.where(n == 0, 1.0, n)

    (or ``safe_norm.defjvps(lambda t, ans, x: ...)``, one function per
    argument).  The value is ``safe_norm``'s own; reverse mode transposes
    the rule's tangent output (exact when it is linear in the tangents, which
    a JVP is; refused with a clear error when it is not) unless a reverse rule
    is given too with :meth:`defvjp`.
    """

    kind = "custom_jvp"

    def __init__(self, fun=None, *, nondiff_argnums=()):
        super().__init__(fun, nondiff_argnums)

    def __new__(cls, fun=None, *, nondiff_argnums=()):
        if fun is None:
            return lambda f: cls(f, nondiff_argnums=nondiff_argnums)
        return super().__new__(cls)


# ---------------------------------------------------------------- defrule: opaque callables


def _numpy_path(obj):
    """'np.packbits' where NumPy exposes ``obj`` (printed as is), else None."""
    name = getattr(obj, "__name__", None)
    if not isinstance(name, str):
        return None
    for prefix, mod in (("np", np), ("np.linalg", np.linalg), ("np.fft", np.fft),
                        ("np.emath", np.emath)):
        if getattr(mod, name, None) is obj:
            return f"{prefix}.{name}"
    return None


def _bound_name(obj):
    """An identifier for ``obj`` (generated code binds it under the name the
    user's code calls it by; this one where there is none)."""
    base = "".join(c if c.isalnum() or c == "_" else "_" for c in
                   (getattr(obj, "__name__", None) or type(obj).__name__)) or "kernel"
    return "_" + base if base[0].isdigit() else base


def defrule(obj, vjp=None, jvp=None, *, nondiff=False, nout=1, override=False,
            shape_safe=False):
    """Give a callable s2sgrad cannot read (an extension module's function, a
    ufunc, a library function) derivative rules, written as Python functions
    that s2sgrad reads like your code:

    * ``vjp(g, out, *args, **kwargs)`` returns a tuple with one cotangent per
      positional argument (``None`` for one without a derivative; a bare
      array when there is one argument);
    * ``jvp(tangents, out, *args, **kwargs)`` returns the tangent of ``out``
      (``tangents`` has one entry per positional argument, zeros where an
      argument is not differentiated).

    ``g``, ``out`` and the tangent are tuples for ``nout > 1`` outputs.  With
    one rule only, the other mode transposes it (exact when it is linear in
    ``g``, resp. the tangents; refused otherwise).  ``nondiff=True``: the
    result is data (derivative zero, e.g. ``np.packbits``); with no rule and
    not ``nondiff``, the callable may be used on data only (a differentiated
    value flowing in is an error).  Keyword arguments are options, never
    differentiated.  The differentiated code calls ``obj`` itself.

    ``shape_safe=True`` declares that the shape and dtype of ``obj``'s result
    depend only on those of its arguments (and its keyword options) and that
    calling it on example arrays is harmless: shape specialisation then
    evaluates it (a ufunc always is); otherwise what it computes counts as of
    unknown shape there.

    An object that already has a built-in rule needs ``override=True`` (the
    built-in rule stays in use inside s2sgrad's own rules).  Registering
    again replaces an earlier ``defrule``.  Returns ``obj``.
    """
    if isinstance(obj, P.RuleCarrier):
        raise TypeError(f"{obj!r} already has custom rules: use its defvjp/defjvp")
    if not callable(obj):
        raise TypeError(f"defrule expects a callable, got {obj!r}")
    for r in (vjp, jvp):
        if r is not None:
            _source(r)
    if nondiff and (vjp is not None or jvp is not None):
        raise ValueError("defrule: nondiff=True takes no rules")
    old = P.lookup_object(obj)
    if old is not None and not getattr(old, "user_rule", False) and not override:
        raise ValueError(f"{_qualified(obj)} already has a built-in rule (the primitive "
                         f"'{old.name}'); pass override=True to use yours in differentiated "
                         f"code instead")
    pyname = _numpy_path(obj)
    label = _qualified(obj)
    rules = _OpaqueRules(obj, vjp, jvp, nout, label)
    kw = {}
    if isinstance(obj, np.ufunc) and obj.nout == 1 and nout == 1:
        kw["shape"] = P.shape_elementwise       # evaluated on examples when specialising
    else:
        kw["shape"] = lambda a, k: tuple(P.fresh_shape() for _ in range(nout)) \
            if nout > 1 else P.fresh_shape()
    differentiable = vjp is not None or jvp is not None
    name, k = f"user.{label}", 1
    while name in P.REGISTRY and P.REGISTRY[name].impl is not obj:
        k += 1                      # (two instances of one callable class)
        name = f"user.{label}#{k}"
    prim = Primitive(name, obj, sig="*args, **kwargs",
                     vjp=rules.vjp if differentiable else None,
                     jvp=rules.jvp if differentiable else None,
                     nondiff=nondiff, opaque=not nondiff and not differentiable,
                     pyname=pyname or _bound_name(obj), nouts=nout, **kw)
    prim.user_rule = True
    prim.shape_safe = bool(shape_safe)
    prim.callee = None if pyname else obj
    rules.prim = prim
    prim.lower_call = rules.lower_call
    P.REGISTRY[prim.name] = prim          # (batching's per-example fallback finds it by name)
    if id(obj) not in _PREVIOUS:
        _PREVIOUS[id(obj)] = (obj, old)
    P.register_object(obj, prim, replace=True)
    return obj


# id(obj) -> (obj, what it resolved to before its first defrule)
_PREVIOUS: dict = {}


def undefrule(obj):
    """Undo :func:`defrule` for ``obj``: it resolves to what it did before
    (its built-in rule, or nothing).  Functions compiled meanwhile keep the
    rules they were compiled with."""
    hit = _PREVIOUS.pop(id(obj), None)
    if hit is None or hit[0] is not obj:
        raise ValueError(f"{_qualified(obj)} has no rule given by defrule")
    cur = P.lookup_object(obj)
    if cur is not None and P.REGISTRY.get(cur.name) is cur:
        del P.REGISTRY[cur.name]
    if hit[1] is None:
        P.unregister_object(obj)
    else:
        P.register_object(obj, hit[1], replace=True)


def _qualified(obj):
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if not isinstance(name, str):
        return f"{type(obj).__qualname__} object"      # a callable instance
    mod = getattr(obj, "__module__", None)
    return f"{mod}.{name}" if mod and mod != "builtins" else name


class _OpaqueRules:
    """The rules of a callable registered with :func:`defrule`."""

    def __init__(self, obj, vjp, jvp, nout, label):
        self.obj, self.user_vjp, self.user_jvp, self.nout, self.label = obj, vjp, jvp, nout, label

    def lower_call(self, lw, args, kwargs, node):
        """The call as the table's default would emit it, remembering how the
        user spelled the callable (generated code binds it under that name)."""
        func = node.func if isinstance(node, ast.Call) else None
        spelled = func.attr if isinstance(func, ast.Attribute) else \
            func.id if isinstance(func, ast.Name) else None
        return lw.apply(self.prim, args, kwargs, node,
                        spelling=("call", spelled) if spelled else None)

    def _outs(self, em, g, out):
        gs = list(g) if self.nout > 1 else [g]
        outs = list(out) if self.nout > 1 else [out]
        return gs, outs

    def _value(self, atoms):
        return Seq("tuple", list(atoms)) if self.nout > 1 else atoms[0]

    def _err(self, src):
        return lambda msg: RuleError(msg, filename=src.filename, lineno=_return_line(src))

    def _call_vjp(self, em, gs, outs, args, kwargs):
        value, src = _lower_rule(self.user_vjp, [self._value(gs), self._value(outs)] +
                                 list(args), em, kwargs)
        err = self._err(src)
        if len(args) == 1 and not isinstance(value, Seq):
            value = Seq("tuple", [value])
        if not isinstance(value, Seq) or len(value.items) != len(args):
            raise err(f"the reverse rule '{_name(self.user_vjp)}' of '{self.label}' returned "
                      f"{_describe(value)}; it must return a tuple of {len(args)} "
                      f"cotangent(s), one for each positional argument (None for one "
                      f"without a derivative)")
        line = _return_line(src)
        out = []
        for k, (item, a) in enumerate(zip(value.items, args)):
            out += _match(item, ("leaf",), iter([a]), em,
                          f"{_name(self.user_vjp)}'s cotangent of argument {k}", err,
                          _where(src, line))
        return out

    def _call_jvp(self, em, dots, outs, args, kwargs):
        tans = [d if d is not None else _zero_tangent(em, a) for d, a in zip(dots, args)]
        value, src = _lower_rule(self.user_jvp, [Seq("tuple", tans), self._value(outs)] +
                                 list(args), em, kwargs)
        tree = ("seq", "tuple", None, (("leaf",),) * self.nout) if self.nout > 1 \
            else ("leaf",)
        return _match(value, tree, iter(outs), em, f"{_name(self.user_jvp)}'s tangent",
                      self._err(src), _where(src, _return_line(src)))

    def vjp(self, em, g, out, *args, **kwargs):
        gs, outs = self._outs(em, g, out)
        if all(x is None for x in gs):
            return [None] * len(args)
        if self.user_vjp is not None:
            from .reverse import zeros_of
            gs = [x if x is not None else zeros_of(em, o) for x, o in zip(gs, outs)]
            return self._call_vjp(em, gs, outs, args, kwargs)
        # transpose the forward rule in the tangents
        err = self._err(_source(self.user_jvp))
        with _transposing(self, "jvp", self.label, _name(self.user_jvp), err):
            return self._transpose_jvp(em, gs, outs, args, kwargs, err)

    def _transpose_jvp(self, em, gs, outs, args, kwargs, err):
        from .reverse import name_derivative
        standins = [name_derivative(em.call("zeros_like", a), a, "_dot")
                    if isinstance(a, Var) else None for a in args]
        sub = Emitter(Block(), loc=em.loc)
        ts = self._call_jvp(sub, standins, outs, args, kwargs)
        pairs = [(t, x) for t, x in zip(ts, gs) if t is not None and x is not None]

        def refuse(reason):
            return err(f"reverse mode through '{self.label}', which has only a forward rule, "
                       f"transposes that rule '{_name(self.user_jvp)}' in its tangents, but "
                       f"{reason}; give defrule a vjp= rule too")
        cts = iter(transpose(em, sub.block, [s for s in standins if s is not None],
                              [t for t, _ in pairs], [x for _, x in pairs], refuse))
        return [next(cts) if s is not None else None for s in standins]

    def jvp(self, em, dots, out, *args, **kwargs):
        outs = list(out) if self.nout > 1 else [out]
        if all(d is None for d in dots):
            return None
        if self.user_jvp is not None:
            ts = self._call_jvp(em, list(dots), outs, args, kwargs)
        else:
            err = self._err(_source(self.user_vjp))
            with _transposing(self, "vjp", self.label, _name(self.user_vjp), err):
                ts = self._transpose_vjp(em, dots, outs, args, kwargs, err)
        return tuple(ts) if self.nout > 1 else ts[0]

    def _transpose_vjp(self, em, dots, outs, args, kwargs, err):
        from .reverse import name_derivative
        standins = [name_derivative(em.call("zeros_like", o), o, "_bar") for o in outs]
        sub = Emitter(Block(), loc=em.loc)
        cts = self._call_vjp(sub, standins, outs, args, kwargs)
        pairs = [(c, d) for c, d in zip(cts, dots) if c is not None and d is not None]

        def refuse(reason):
            return err(f"forward mode through '{self.label}', which has only a reverse "
                       f"rule, transposes that rule '{_name(self.user_vjp)}' in its "
                       f"cotangent, but {reason}; give defrule a jvp= rule too")
        return transpose(em, sub.block, standins, [c for c, _ in pairs],
                         [d for _, d in pairs], refuse)
