"""NumPy functions that call the user's function: ``np.vectorize``,
``np.apply_along_axis``, ``np.piecewise``; and ``np.unstack`` unpacked
into names (``a, b = np.unstack(x)``: as many views of ``x`` as targets).

Each is lowered as the loop NumPy runs, written as Python and lowered like
the user's own code (the same way comprehensions are, see
``control.expr_ListComp``), so the user's function is compiled -- inlined
per call, differentiated like any other code -- and the generated code
shows the loop:

* ``np.vectorize(f)(x, y)``: the broadcast arguments are flattened and
  ``[f(x_flat[i], y_flat[i]) for i in range(len(x_flat))]`` is stacked and
  reshaped to the broadcast shape.  ``f`` runs once per element (a Python
  loop, as NumPy's own ``vectorize``); ``excluded``, ``signature``,
  ``otypes`` and ``cache`` are refused.
* ``np.apply_along_axis(f, axis, arr, *args)``: the 1-d slices along
  ``axis`` are the rows of ``along_axis_rows(arr, axis)``; the results of
  ``f`` on each are stacked and put where NumPy puts them
  (``along_axis_assemble``: the result's own axes replace ``axis``).
  ``axis`` must be a constant; keyword arguments to ``f`` are refused.
* ``np.piecewise(x, condlist, funclist, *args)``: as NumPy, ``y =
  np.zeros_like(x)`` and for each condition in order ``y[c] = f(x[c],
  *args)`` (or the constant); one more function than conditions is the
  "otherwise" case.  ``funclist`` must be a list literal (its length known
  while compiling); ``f`` sees only the selected elements, as in NumPy.

Guarantees: values are NumPy's (the same calls, in the same order);
derivatives flow through the user's function by the ordinary rules.
"""
from __future__ import annotations

import ast
import functools
import operator

import numpy as np

from ..errors import S2SGradError
from ..ir import Const, Var
from ..primitives import core as P
from .builtins import BUILTIN_CALLS
from .values import LocalFunction, Seq, Static


class Vectorized:
    """The value of ``np.vectorize(f)`` (``signature``: its generalized-ufunc
    signature, or None) inside the function: calling it lowers the loop
    (:func:`vectorized_call`)."""
    __slots__ = ("fn", "signature")

    def __init__(self, fn, signature=None):
        self.fn = fn
        self.signature = signature


def check_signature(lw, signature, node):
    """A generalized-ufunc signature with one output, parsed (else refused)."""
    from ..runtime_numpy import _gufunc_signature
    if signature.count("->") == 1 and signature.split("->")[1].count("(") > 1:
        raise lw.unsupported(node, "np.vectorize with a signature of several outputs",
                             "return one array (stack the results)")
    try:
        ins, _ = _gufunc_signature(signature)
    except ValueError as exc:
        raise lw.error(node, str(exc), cls=S2SGradError) from None
    return ins


def _fresh(lw, stem):
    top = lw.top
    top.functional_count = getattr(top, "functional_count", 0) + 1
    return f"_{stem}{top.functional_count}"


def _located(tree, node):
    for n in ast.walk(tree):
        if "lineno" in n._attributes and not hasattr(n, "lineno"):
            ast.copy_location(n, node)
    return tree


def _name(n, store=False):
    return ast.Name(id=n, ctx=ast.Store() if store else ast.Load())


def _with_names(lw, bindings, run):
    """Run ``run()`` with ``bindings`` (name -> value) in the environment,
    restoring it afterwards."""
    saved = {k: lw.env.get(k, _MISSING) for k in bindings}
    lw.env.update(bindings)
    try:
        return run()
    finally:
        for k, v in saved.items():
            if v is _MISSING:
                lw.env.pop(k, None)
            else:
                lw.env[k] = v


_MISSING = object()


def _loop_results(lw, fn, rows, extra, node, stem):
    """``[fn(r0[i], r1[i], ..., *extra) for i in range(len(r0))]`` lowered
    (a runtime list), as a stacked array."""
    base = _fresh(lw, stem)
    fname, iname = base + "_f", base + "_i"
    rnames = [f"{base}_x{k}" for k in range(len(rows))]
    enames = [f"{base}_a{k}" for k in range(len(extra))]
    elt = ast.Call(func=_name(fname),
                   args=[ast.Subscript(value=_name(r), slice=_name(iname), ctx=ast.Load())
                         for r in rnames] + [_name(e) for e in enames], keywords=[])
    rng = ast.Call(func=_name("range"), args=[ast.Call(func=_name("len"), args=[
        _name(rnames[0])], keywords=[])], keywords=[])
    comp = _located(ast.ListComp(elt=elt, generators=[ast.comprehension(
        target=_name(iname, store=True), iter=rng, ifs=[], is_async=0)]), node)
    bindings = {fname: fn, **dict(zip(rnames, rows)), **dict(zip(enames, extra))}
    results = _with_names(lw, bindings, lambda: lw.expr_ListComp(comp))
    return lw.apply(P.get("array"), [results], {}, node)


def _callable_value(lw, f, what, node):
    if isinstance(f, (LocalFunction, Static, Vectorized, Partial)) or type(f).__name__ in (
            "Transform", "LocalPullback", "CheckpointedPullback"):
        return f
    raise lw.unsupported(node, f"{what} of this value", "pass a function (a def or a lambda)")


# ---------------------------------------------------------------- np.vectorize


def _b_vectorize(lw, args, kwargs, node):
    signature = kwargs.get("signature", Const(None))
    if len(args) != 1 or any(not (isinstance(v, Const) and v.value in (None, False, ""))
                             for k, v in kwargs.items() if k not in ("doc", "signature")) or \
            not (isinstance(signature, Const) and isinstance(signature.value, (str, type(None)))):
        raise lw.unsupported(node, "np.vectorize with otypes/excluded/cache",
                             "call np.vectorize(f) or np.vectorize(f, signature='(n)->()')")
    if signature.value is not None:
        check_signature(lw, signature.value, node)
    return Vectorized(_callable_value(lw, args[0], "np.vectorize", node), signature.value)


def vectorized_call(lw, fn, args, kwargs, node, signature=None):
    if kwargs:
        raise lw.unsupported(node, "keyword arguments to a vectorized function",
                             "pass the arguments by position")
    if not args:
        raise lw.unsupported(node, "a vectorized function without arguments", "pass arrays")
    xs = [lw.materialize(a, node) for a in args]
    if signature is not None:
        return _gufunc_call(lw, fn, xs, signature, node)
    if len(xs) > 1:
        xs = list(lw.apply(P.get("broadcast_arrays"), xs, {}, node).items)
    else:
        xs = [lw.apply(P.get("asarray"), xs, {}, node)]
    flats = [lw.apply(P.get("ravel"), [x], {}, node) for x in xs]
    out = _loop_results(lw, fn, flats, [], node, "vec")
    shape = lw.apply(P.get("shape"), [xs[0]], {}, node)
    return lw.apply(P.get("reshape"), [out, shape], {}, node)


def _gufunc_call(lw, fn, xs, signature, node):
    """``np.vectorize(f, signature='(m,n),(n)->(m)')(A, b)``: the operands'
    loop dimensions broadcast together (``gufunc_loop_shape``, NumPy's
    checks); ``f`` is called once per loop index on each operand's core
    slice (``gufunc_rows``), and the stacked results take the loop shape
    (``gufunc_assemble``)."""
    ins = check_signature(lw, signature, node)
    xs = [lw.apply(P.get("asarray"), [x], {}, node) for x in xs]
    loop = lw.em.call(P.get("gufunc_loop_shape"), *xs, signature=Const(signature))
    if len(ins) != len(xs):
        raise lw.error(node, f"the signature {signature!r} takes {len(ins)} arguments, "
                             f"{len(xs)} given", cls=S2SGradError)
    rows = [lw.em.call(P.get("gufunc_rows"), x, loop, k=Const(len(core)))
            for x, core in zip(xs, ins)]
    out = _loop_results(lw, fn, rows, [], node, "gvec")
    return lw.em.call(P.get("gufunc_assemble"), out, loop)


# ---------------------------------------------------------------- np.apply_along_axis


def _b_apply_along_axis(lw, args, kwargs, node):
    if len(args) < 3:
        raise lw.unsupported(node, "np.apply_along_axis with these arguments",
                             "np.apply_along_axis(f, axis, arr, *args)")
    if kwargs:
        raise lw.unsupported(node, "keyword arguments passed through np.apply_along_axis",
                             "pass them by position, or bind them in a lambda")
    f, axis, arr, *extra = args
    f = _callable_value(lw, f, "np.apply_along_axis", node)
    if not (isinstance(axis, Const) and isinstance(axis.value, int)):
        raise lw.unsupported(node, "np.apply_along_axis with a computed axis",
                             "pass a constant axis")
    arr = lw.apply(P.get("asarray"), [arr], {}, node)
    rows = lw.em.call(P.get("along_axis_rows"), lw.materialize(arr, node), axis=axis)
    stacked = _loop_results(lw, f, [rows], [lw.materialize(e, node) for e in extra], node,
                            "along")
    return lw.em.call(P.get("along_axis_assemble"), stacked, lw.materialize(arr, node),
                      axis=axis)


# ---------------------------------------------------------------- np.piecewise


def _b_piecewise(lw, args, kwargs, node):
    if len(args) < 3 or kwargs:
        raise lw.unsupported(node, "np.piecewise with these arguments",
                             "np.piecewise(x, [conditions], [functions or values], *args)")
    x, conds, funcs, *extra = args
    if not isinstance(funcs, Seq):
        raise lw.unsupported(node, "np.piecewise with a computed function list",
                             "pass a list literal of functions or values")
    conds = list(conds.items) if isinstance(conds, Seq) else [conds]
    funcs = list(funcs.items)
    if len(funcs) == len(conds) + 1:
        # the last function is "otherwise": where no condition holds
        anyc = None
        for c in conds:
            c = lw.apply(P.get("asarray"), [c], {"dtype": Const(bool)}, node)
            anyc = c if anyc is None else lw.apply(P.get("logical_or"), [anyc, c], {}, node)
        conds.append(lw.apply(P.get("logical_not"), [anyc], {}, node))
    elif len(funcs) != len(conds):
        raise lw.error(node, f"np.piecewise: {len(funcs)} functions for {len(conds)} "
                             f"conditions (there must be as many, or one more)")
    base = _fresh(lw, "piece")
    xname, yname = base + "_x", base + "_y"
    bindings = {xname: lw.apply(P.get("asarray"), [x], {}, node)}
    bindings[yname] = lw.apply(P.get("zeros_like"), [bindings[xname]], {}, node)
    enames = [f"{base}_a{k}" for k in range(len(extra))]
    bindings.update(zip(enames, [lw.materialize(e, node) for e in extra]))
    stmts = []
    for k, (c, f) in enumerate(zip(conds, funcs)):
        cname, fname = f"{base}_c{k}", f"{base}_f{k}"
        bindings[cname] = lw.apply(P.get("asarray"), [c], {"dtype": Const(bool)}, node)
        if isinstance(f, (Const, Var)):
            value = _name(fname)
        else:
            f = _callable_value(lw, f, "np.piecewise", node)
            value = ast.Call(func=_name(fname), args=[ast.Subscript(
                value=_name(xname), slice=_name(cname), ctx=ast.Load())] +
                [_name(e) for e in enames], keywords=[])
        bindings[fname] = f
        stmts.append(_located(ast.Assign(targets=[ast.Subscript(
            value=_name(yname), slice=_name(cname), ctx=ast.Store())], value=value), node))

    def run():
        saved_loc = lw.loc
        lw.lower_body(stmts)
        lw.loc = lw.em.loc = saved_loc
        return lw.env[yname]
    return _with_names(lw, bindings, run)


# ---------------------------------------------------------------- np.apply_over_axes


def _b_apply_over_axes(lw, args, kwargs, node):
    """``np.apply_over_axes(func, a, axes)``: as NumPy, ``a = func(a, axis)``
    for each axis in turn, the axis put back when ``func`` dropped it
    (``axes_kept``); ``axes`` must be constant (the passes are unrolled)."""
    names = ["func", "a", "axes"]
    if len(args) + len(kwargs) != 3 or set(kwargs) - set(names[len(args):]):
        raise lw.unsupported(node, "np.apply_over_axes with these arguments",
                             "np.apply_over_axes(func, a, axes)")
    bound = dict(zip(names, args), **kwargs)
    f = _callable_value(lw, bound["func"], "np.apply_over_axes", node)
    axes = bound["axes"]
    if isinstance(axes, Seq) and all(isinstance(k, Const) for k in axes.items):
        axes = Const(tuple(k.value for k in axes.items))
    if not (isinstance(axes, Const) and (isinstance(axes.value, int) or (
            isinstance(axes.value, (tuple, list)) and
            all(isinstance(k, int) for k in axes.value)))):
        raise lw.unsupported(node, "np.apply_over_axes with computed axes",
                             "pass the axes as constants")
    val = lw.materialize(lw.apply(P.get("asarray"), [bound["a"]], {}, node), node)
    for axis in (axes.value,) if isinstance(axes.value, int) else axes.value:
        res = lw.call_value(f, [val, Const(axis)], {}, node)
        val = lw.em.call(P.get("axes_kept"), lw.materialize(res, node), val, axis=Const(axis))
    return val


for _obj, _h in [(np.vectorize, _b_vectorize), (np.apply_along_axis, _b_apply_along_axis),
                 (np.piecewise, _b_piecewise), (np.apply_over_axes, _b_apply_over_axes)]:
    BUILTIN_CALLS[id(_obj)] = (_obj, _h)


# ---------------------------------------------------------------- np.unstack


def _b_unstack(lw, args, kwargs, node):
    """``a, b, c = np.unstack(x, axis=k)``: the number of results is the
    number of targets (checked at run time); each is the view ``x[i]``
    (along ``axis``), as NumPy's pieces are views of ``x``."""
    hint = getattr(lw, "unpack_hint", None)
    if getattr(lw, "unstack_rows", None) is node and len(args) == 1 and \
            not set(kwargs) - {"axis"}:
        hint = (node, None)     # np.unstack(x)[i], for r in np.unstack(x): x's rows
    if hint is None or hint[0] is not node or len(args) != 1 or set(kwargs) - {"axis"}:
        raise lw.unsupported(node, "np.unstack whose results are not unpacked into names",
                             "unpack it (a, b = np.unstack(x)), or index the slices")
    axis = kwargs.get("axis", Const(0))
    if not (isinstance(axis, Const) and isinstance(axis.value, int)):
        raise lw.unsupported(node, "np.unstack with a computed axis", "pass a constant axis")
    n = hint[1]
    x = lw.materialize(args[0], node)
    if axis.value != 0:
        x = lw.apply(P.get("moveaxis"), [x, axis, Const(0)], {}, node)
    if n is None:
        # the array whose rows are the pieces (each a view of x, as NumPy's)
        return x
    # the length is checked by the index of the first piece (so every piece
    # stays a view of x, as NumPy's are: a write through one reaches x)
    first = lw.em.call(P.get("unpack_index"), x, n=Const(n))
    name = _fresh(lw, "unstack")

    def piece(i):
        index = _name(name + "_i0") if i == 0 else ast.Constant(value=i)
        return lw.expr(_located(ast.Subscript(value=_name(name), slice=index, ctx=ast.Load()),
                                node))
    return _with_names(lw, {name: x, name + "_i0": first},
                       lambda: Seq("tuple", [piece(i) for i in range(n)]))


if getattr(np, "unstack", None) is not None:          # NumPy >= 2.1
    BUILTIN_CALLS[id(np.unstack)] = (np.unstack, _b_unstack)


def is_unstack_call(lw, node):
    """``np.unstack(...)`` (NumPy >= 2.1)."""
    return getattr(np, "unstack", None) is not None and isinstance(node, ast.Call) and \
        getattr(lw.static_callee(node.func), "obj", None) is np.unstack


def unstack_rows(lw, node):
    """``np.unstack(x, axis=k)`` read as the array whose rows are its pieces
    (``np.moveaxis(x, k, 0)``): indexed by an int or iterated, it gives the
    pieces NumPy's tuple holds."""
    lw.unstack_rows = node
    try:
        return lw.expr(node)
    finally:
        lw.unstack_rows = None


# ---------------------------------------------------------------- functions handed to a library


def function_object(value):
    """The Python function a function value stands for, for a library that
    calls it itself (``scipy.integrate.odeint``'s right-hand side): a
    compile-time function as it is; a ``lambda`` or ``def`` made inside the
    differentiated function that reads none of its variables (no closure),
    the function Python makes of it (its code object, found among the
    enclosing function's constants by name and line).  None otherwise."""
    import types
    if isinstance(value, Static):
        return value.obj if callable(value.obj) else None
    if not isinstance(value, LocalFunction) or value.defaults:
        return None
    node = value.node
    name = "<lambda>" if isinstance(node, ast.Lambda) else node.name
    fn = getattr(value.lowerer.resolver, "fn", None)
    code = getattr(fn, "__code__", None)
    found, todo = [], [code] if code is not None else []
    while todo:
        c = todo.pop()
        for k in c.co_consts:
            if isinstance(k, types.CodeType):
                if k.co_name == name and k.co_firstlineno == node.lineno:
                    found.append(k)
                todo.append(k)
    if len(found) != 1 or found[0].co_freevars:
        return None
    return types.FunctionType(found[0], fn.__globals__, name)


# ---------------------------------------------------------------- functools.partial


class Partial:
    """``functools.partial(f, *args, **kwargs)``: calling it calls ``f`` with
    the bound arguments first (``fn``: a lowering value that can be called)."""
    __slots__ = ("fn", "args", "kwargs")

    def __init__(self, fn, args, kwargs):
        self.fn = fn
        self.args = list(args)
        self.kwargs = dict(kwargs)

    def bound(self, args, kwargs):
        """The callee and arguments of a call of the partial: its own first
        (keywords given at the call override its keywords, as Python's)."""
        return self.fn, self.args + list(args), {**self.kwargs, **kwargs}


def _b_partial(lw, args, kwargs, node):
    if not args:
        raise lw.error(node, "functools.partial() needs the function to bind",
                       cls=S2SGradError)
    fn = _callable_value(lw, args[0], "functools.partial", node)
    return Partial(fn, args[1:], kwargs)


def partial_of(lw, obj, path, node):
    """A ``functools.partial`` object made outside the function (a global, a
    closed-over value): its function and bound arguments, read as the
    function's own globals are (arrays and floats live, through ``path``)."""
    fn = lw.static_value(obj.func, path.attr("func") if path is not None else None, node)
    items = [lw.static_value(v, path.attr("args").item(i) if path is not None else None, node)
             for i, v in enumerate(obj.args)]
    kw = {k: lw.static_value(v, path.attr("keywords").item(k) if path is not None else None,
                             node) for k, v in obj.keywords.items()}
    return Partial(fn, items, kw)


class ItemGetter(Partial):
    """``operator.itemgetter(k)``: calling it on ``obj`` reads ``obj[k]``
    (``operator.getitem(obj, k)``); several keys read a tuple of items."""
    __slots__ = ()

    def bound(self, args, kwargs):
        if len(args) != 1 or kwargs:
            return self.fn, list(args), kwargs     # refused by getitem's arity check
        if len(self.args) == 1:
            return self.fn, [args[0], self.args[0]], {}
        return Static(_getitems), [args[0], *self.args], {}


def _getitems(obj, *keys):
    return tuple(obj[k] for k in keys)


def _b_getitems(lw, args, kwargs, node):
    base, *keys = args
    return Seq("tuple", [lw.index_value(base, k, node) for k in keys])


def _b_itemgetter(lw, args, kwargs, node):
    if not args or kwargs:
        raise lw.error(node, "operator.itemgetter() needs the keys to read",
                       cls=S2SGradError)
    return ItemGetter(Static(operator.getitem), args, {})


BUILTIN_CALLS[id(functools.partial)] = (functools.partial, _b_partial)
BUILTIN_CALLS[id(operator.itemgetter)] = (operator.itemgetter, _b_itemgetter)
BUILTIN_CALLS[id(_getitems)] = (_getitems, _b_getitems)


# ---------------------------------------------------------------- np.polynomial classes


def _series_at(c, x, off=0.0, scl=1.0, val=None):
    """``Chebyshev(c, domain, window)(x)``: NumPy maps x from the domain to
    the window (``polyutils.mapdomain``: off + scl * x) and evaluates."""
    return val(off + scl * x, c)


def _b_series_at(lw, args, kwargs, node):
    c, x = args
    xm = lw.apply(P.get("add"), [kwargs["off"], lw.apply(P.get("multiply"),
                                                         [kwargs["scl"], x], {}, node)], {}, node)
    return lw.call_value(kwargs["val"], [xm, c], {}, node)


BUILTIN_CALLS[id(_series_at)] = (_series_at, _b_series_at)


def _b_series_class(cls, val):
    def handler(lw, args, kwargs, node):
        """``np.polynomial.Polynomial(c)`` (and Chebyshev, Legendre, Hermite,
        HermiteE, Laguerre) with a domain and window known while compiling:
        the object, called on x, is ``<kind>val(off + scl * x, c)`` (a copy of
        c, 1-d, as NumPy's object holds).  Its other methods are not followed."""
        import inspect
        try:
            bound = inspect.signature(cls).bind(*args, **kwargs)
        except TypeError as exc:
            raise lw.error(node, f"{cls.__name__}(): {exc}", cls=S2SGradError) from None
        a = bound.arguments
        ends = []
        for k in ("domain", "window"):
            v = a.get(k, Const(None))
            if isinstance(v, Const) and v.value is None:
                ends.append(getattr(cls, k))
            elif isinstance(v, Seq) and all(isinstance(i, Const) for i in v.items):
                ends.append([i.value for i in v.items])
            elif isinstance(v, Const) and isinstance(v.value, (tuple, list, np.ndarray)):
                ends.append(v.value)
            else:
                raise lw.unsupported(node, f"{cls.__name__}() with a {k} computed at run time",
                                     f"pass constant {k} bounds, or call "
                                     f"np.polynomial.{val.__module__.split('.')[-1]}."
                                     f"{val.__name__} on the mapped x")
        off, scl = np.polynomial.polyutils.mapparms(*ends)
        coef = lw.materialize(a["coef"], node)
        coef = lw.apply(P.get("require_ndim"), [lw.apply(P.get("copy"), [coef], {}, node)],
                        {"ndim": Const(1), "what": Const(f"{cls.__name__}'s coefficients")},
                        node)
        return Partial(Static(_series_at), [coef], {"off": Const(float(off)),
                                                    "scl": Const(float(scl)),
                                                    "val": Static(val)})
    return handler


for _cls, _val in ((np.polynomial.Polynomial, np.polynomial.polynomial.polyval),
                   (np.polynomial.Chebyshev, np.polynomial.chebyshev.chebval),
                   (np.polynomial.Legendre, np.polynomial.legendre.legval),
                   (np.polynomial.Hermite, np.polynomial.hermite.hermval),
                   (np.polynomial.HermiteE, np.polynomial.hermite_e.hermeval),
                   (np.polynomial.Laguerre, np.polynomial.laguerre.lagval)):
    BUILTIN_CALLS[id(_cls)] = (_cls, _b_series_class(_cls, _val))
