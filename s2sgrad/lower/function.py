"""The entry point: :func:`lower_function` turns a Python function (and the
structure of its arguments) into a :class:`~s2sgrad.ir.Func`."""
from __future__ import annotations

import ast
import sys
import types

import numpy as np

from .. import pytree
from ..errors import UnsupportedSyntaxError
from ..frontend import Resolver, parse_function
from ..ir import Block, Const, Eqn, Func, Var
from ..primitives import core as P
from ..primitives.core import Emitter
from ..guards import Path
from ..primitives.random import TOKENS
from .values import DictVal, ObjVal, Seq, Static, TreeObj
from .lowerer import Lowerer
from .control import UnrollRetry

# how many loops one function may have unrolled after alias refusals (each
# costs one more lowering of the function)
_MAX_RETRIES = 8


def lower_function(fn, arg_specs, name=None) -> Func:
    """Lower ``fn`` to a :class:`Func`.

    ``arg_specs`` maps each parameter name of ``fn`` (in signature order) to
    ``("leaf", None)``, ``("static", StaticArg)`` (a Python int/bool: a constant, its
    ``.value``), ``("rng", kind)`` (a random generator, ``"Generator"`` or
    ``"RandomState"``),
    ``("none", None)`` (the argument is ``None``: a
    constant), or ``("tree", TreeDef)`` (a container flattened into leaves).
    The Func has one parameter Var per leaf, in order.
    """
    src = parse_function(fn.fun if isinstance(fn, P.RuleCarrier) else fn)
    # Lowering recurses once per level of expression nesting (np.sin(np.sin(...))
    # written 300 deep is legal Python): make room for it.
    limit = sys.getrecursionlimit()
    if limit < 20000:
        sys.setrecursionlimit(20000)
    try:
        # loops over constant ranges that met an alias refusal are unrolled
        # in a new lowering (control.UnrollRetry), at most _MAX_RETRIES
        unroll: set = set()
        while True:
            try:
                return _lower_function(fn, arg_specs, name, src, unroll)
            except UnrollRetry as r:
                if r.key in unroll or len(unroll) >= _MAX_RETRIES:
                    raise r.refusal from None
                unroll.add(r.key)
    finally:
        if limit < 20000:
            sys.setrecursionlimit(limit)


def _call_wrapper(lw, fn, node):
    import inspect
    args, kwargs = [], {}
    for pname, p in inspect.signature(fn).parameters.items():
        v = lw.env[pname]
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            args.append(v)
        elif p.kind == p.KEYWORD_ONLY:
            kwargs[pname] = v
        elif p.kind == p.VAR_POSITIONAL and isinstance(v, Seq):
            args.extend(v.items)
        elif p.kind == p.VAR_KEYWORD and isinstance(v, DictVal):
            kwargs.update(v.items)
        else:
            raise lw.unsupported(node, f"the parameter '{p}' of the function that "
                                       f"'{fn.__name__}' wraps", "differentiate a function "
                                       "calling it with named parameters")
    return lw.call_value(Static(fn, Path(("object", fn, fn.__name__))), args, kwargs, node)


def _lower_function(fn, arg_specs, name, src, unroll_loops=frozenset()):
    em = Emitter(Block(), derivative=False)
    lw = Lowerer(src, Resolver(src.fn), em)
    lw.unroll_loops = unroll_loops          # (control.UnrollRetry)
    params = []
    data_params = []            # [(parameter Var, its name)]: the caller's data
    if isinstance(fn, types.MethodType):
        # grad(model.loss): self is not an argument of the gradient; its
        # attributes are read through it (data live, configuration guarded)
        a = src.node.args
        first = (a.posonlyargs + a.args)[0].arg
        owner = fn.__self__
        root = Path(("object", owner, first))
        lw.env[first] = Static(owner, root) if isinstance(owner, type) else \
            lw.static_value(owner, root, src.node)
    for pname, (kind, td) in arg_specs.items():
        if kind in ("none", "static"):
            lw.env[pname] = Const(td.value if kind == "static" else None)
            params.append(Var(pname))   # still a parameter of the generated function
            continue
        if kind == "callable":           # a function (or tuple of them) passed in
            lw.env[pname] = Seq("tuple", [Static(f) for f in td]) if isinstance(td, tuple) \
                else Static(td)
            params.append(Var(pname))
            continue
        if kind == "object":
            # an object of the user's class passed as an argument: read
            # through as a bound method's self is (its arrays read live from
            # the argument, model.W; its methods inlined), what compiling
            # assumed about it (which method, an int attribute) keyed by
            # (lw.arg_guards, s2sgrad.api.ObjectArg)
            v = Var(pname, shape=P.ShapeToken(f"object:{type(td.obj).__name__}"))
            params.append(v)
            lw.arg_objects[id(v)] = td.obj
            lw.env[pname] = ObjVal(td.obj, Path(("arg", v, pname)))
            continue
        if kind == "rng":                # a random generator (np.random.Generator, ...)
            v = Var(pname, shape=TOKENS[td])
            params.append(v)
            lw.env[pname] = v
            continue
        if kind == "leaf":
            v = Var(pname, shape=P.fresh_shape(pname))
            data_params.append((v, pname))
            if P.StaticCandidates.depth:      # the API may make it static (ord=p)
                P.StaticCandidates.params[id(v)] = (v, pname)
            params.append(v)
            lw.env[pname] = v
            lw.arg_types[v] = td          # list/tuple/dict/str passed as data, else None
            continue
        leaves = [Var(p, shape=P.fresh_shape(p)) for p in pytree.leaf_paths(td, pname)]
        params += leaves
        data_params += zip(leaves, _shown_paths(td, pname))
        lw.env[pname] = _tree_value(td, iter(leaves), lw)
    node = src.node
    if isinstance(fn, P.RuleCarrier):
        # grad(f) of a function with a custom rule: the call of f, as in user code
        lw.set_loc(node)
        lw.env["$retv"] = fn.primitive.lower_call(lw, [lw.env[p] for p in arg_specs], {}, node)
    elif isinstance(node, ast.Lambda):
        lw.set_loc(node)
        lw.env["$retv"] = lw.expr(node.body)
    elif isinstance(fn, types.FunctionType) and "__wrapped__" in fn.__dict__:
        # grad(f) of f decorated with functools.wraps: the arguments are bound
        # by the signature it shows (the wrapped function's, as the caller
        # binds them); the wrapper is called with them, as in user code
        lw.set_loc(node)
        lw.env["$retv"] = _call_wrapper(lw, fn, node)
    else:
        lw.lower_body(node.body)
    if "$retv" not in lw.env:
        raise src.error(UnsupportedSyntaxError,
                        f"'{fn.__name__}' does not return a value; return the quantity to "
                        f"differentiate", node)
    ret = lw.env["$retv"]
    results, out_tree = _flatten_value(lw, ret, node)
    defaults = _array_defaults(fn, lw, data_params) if lw.written else {}
    prologue = []
    for prim, v, params_, args in lw.prologue:
        prologue.append(Eqn(prim, tuple(args), {}, (v,), params_, None))
    body = Block(prologue + em.block.eqns)
    func = Func(name or fn.__name__, params, body, results, src.filename,
                info={"out_tree": out_tree, "source": src, "guards": lw.guards})
    check_unshared_arguments(func, lw, data_params, prologue, defaults)
    if P.StaticCandidates.depth:        # (see s2sgrad.api.ObjectArg)
        for pname, assumed in lw.arg_guards.items():
            P.StaticCandidates.arg_guards.setdefault(pname, {}).update(assumed)
    return func


def _array_defaults(fn, lw, data_params):
    """{parameter Var: the live load of its default} for the function's array
    parameters whose default is an array: NumPy's function writing into the
    parameter changes the default, which later calls see (``def f(x,
    buf=np.zeros(3)): buf += x``); the compiled code does not (it never
    changes what it did not make), so such a call is refused at run time
    (:func:`check_unshared_arguments`; the default is read live, as
    ``__defaults__`` may be rebound)."""
    if not isinstance(fn, types.FunctionType):
        return {}
    import inspect
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return {}
    positional = [p for p in sig.parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    n_defs = len(fn.__defaults__ or ())
    root = Path(("object", fn, fn.__name__))
    out = {}
    for v, name in data_params:
        p_ = sig.parameters.get(name)
        if p_ is None or not isinstance(p_.default, np.ndarray):
            continue
        if p_.kind == p_.KEYWORD_ONLY:
            path = root.attr("__kwdefaults__").item(name)
        else:
            k = positional.index(p_) - (len(positional) - n_defs)
            if k < 0:
                continue
            path = root.attr("__defaults__").item(k)
        out[v] = lw.load_path(path)
    return out


def check_unshared_arguments(func, lw, data_params, prologue, defaults=None):
    """Two arguments may be one array or views of one (``f(x, x[:2])``), and
    an argument may be an array the function also reads from its globals
    (``f(G)`` reading ``G``): a write into the argument is then seen through
    the other in NumPy, but the compiled code treats the caller's arrays as
    distinct values (and never writes into them).  For each argument the
    function may write into (a write into a value that may share its
    memory: :class:`s2sgrad.alias.IRAliases`), a ``check_unshared`` after
    the live loads refuses, at run time, a call where another argument or
    a value read live shares memory with it."""
    if not lw.written:
        return
    loads = [(e.outs[0], lw.external[id(e.outs[0])]) for e in prologue
             if id(e.outs[0]) in lw.external]
    if len(data_params) + len(loads) < 2 and not defaults:
        return
    from ..alias import IRAliases
    groups = IRAliases(func)
    where = {}
    for v, line in lw.written:
        where.setdefault(groups.find(v), line)
    checks = []
    shown = [(p_, f"argument '{name}'") for p_, name in data_params] + \
        [(v, d) for v, d in loads if not any(v is q for q in (defaults or {}).values())]
    for k, (p_, name) in enumerate(data_params):
        line = where.get(groups.find(p_))
        if line is None:
            continue
        others = [q for j, q in enumerate(shown) if j != k]
        if defaults and p_ in defaults:
            others.append((defaults[p_], "its own default value (NumPy's function would "
                                         "keep the change for later calls)"))
        if not others:
            continue
        checks.append(Eqn(P.get("check_unshared"), (p_,) + tuple(q for q, _ in others),
                          {"names": Const((name,) + tuple(n for _, n in others)),
                           "where": Const(line)}, (), {}, None))
    func.body.eqns[len(prologue):len(prologue)] = checks


def _shown_paths(td, prefix):
    """The leaves as a user spells them: params['W'], xs[0], state.h."""
    if td.kind == "leaf":
        return [prefix]
    if td.kind == "dict":
        steps = [f'["{k}"]' if isinstance(k, str) else f"[{k!r}]" for k in td.keys]
    elif td.kind == "namedtuple":
        steps = [f".{k}" for k in td.type._fields]
    elif td.kind == "custom":
        steps = [f".{k}" if isinstance(k, str) else f"[{k}]" for k in pytree._custom_names(td)]
    else:
        steps = [f"[{k}]" for k in range(len(td.children))]
    out = []
    for step, c in zip(steps, td.children):
        out += _shown_paths(c, prefix + step)
    return out


def _tree_value(td, it, lw):
    if td.kind == "leaf":
        return next(it)
    if td.kind == "custom":        # a dataclass / registered pytree instance
        return lw.tree_arg(td, [next(it) for _ in range(td.num_leaves)])
    kids = [_tree_value(c, it, lw) for c in td.children]
    if td.kind == "dict":
        return DictVal(dict(zip(td.keys, kids)))
    if td.kind == "namedtuple":
        return Seq("tuple", kids, fields=tuple(td.type._fields), ntype=td.type)
    return Seq("list" if td.kind == "list" else "tuple", kids)


def _flatten_value(lw, v, node):
    """Flatten a returned value into atoms and a TreeDef."""
    leaves = []

    def go(x):
        if isinstance(x, Seq):
            if x.ntype is not None and x.kind == "tuple" and x.fields is not None:
                # a namedtuple (an argument's, or np.linalg.svd's SVDResult): the
                # user gets that class back, as NumPy returns it
                return pytree.TreeDef("namedtuple", tuple(go(i) for i in x.items),
                                      type=x.ntype)
            return pytree.TreeDef("list" if x.kind == "list" else "tuple",
                                  tuple(go(i) for i in x.items))
        if isinstance(x, DictVal):
            keys = tuple(x.items)
            return pytree.TreeDef("dict", tuple(go(x.items[k]) for k in keys), keys)
        if isinstance(x, TreeObj):
            atoms, td, _ = lw.tree_leaves(x, node)
            leaves.extend(lw.materialize(a, node) for a in atoms)
            return td
        leaves.append(lw.materialize(x, node))
        return pytree.LEAF

    td = go(v)
    del go          # (a recursive closure is a reference cycle: its cells stay alive)
    return leaves, td


