"""Python builtins inside a differentiated function: ``len``, ``sum``,
``max``/``min``, ``float``, ``tuple``/``list``/``dict``, ``sorted`` (of constants),
``range``, ``isinstance``, ``enumerate``, ``zip``, ``reversed``, ``slice``, ``map``,
``print`` (ignored), ``functools.reduce`` over a sequence known while compiling,
the ``operator`` module's functions (exactly the Python operator), and the
``math`` functions of Python floats (as the NumPy primitive of the same
function)."""
from __future__ import annotations

import ast
import collections
import dataclasses
import functools
import itertools
import math
import operator
import types


from ..ir import Const, Var
from ..primitives import core as P
from ..primitives.lists import LIST
from ..errors import S2SGradError
from .values import DictVal, IterVal, LocalFunction, ObjVal, Seq, SliceVal, Static, TreeObj


def _b_len(lw, args, kwargs, node):
    (x,) = args
    if isinstance(x, Seq):
        return Const(len(x.items))
    if isinstance(x, DictVal):
        return Const(len(x.items))
    return lw.apply(P.get("len"), [x], {}, node)


def _b_sum(lw, args, kwargs, node):
    if set(kwargs) - {"start"} or not args or len(args) + len(kwargs) > 2:
        raise lw.unsupported(node, "sum() with these arguments", "use np.sum")
    seq = args[0]
    start = args[1] if len(args) > 1 else kwargs.get("start", Const(0))
    if isinstance(seq, Seq):
        acc = start
        for v in seq.items:
            acc = lw.apply(P.get("add"), [acc, v], {}, node)
        return acc
    if isinstance(seq, Var) and P.shape_of(seq) is LIST:
        seq = lw.em.call(P.get("stack_list"), seq, axis=Const(0))
    total = lw.apply(P.get("sum"), [seq], {"axis": Const(0)}, node)
    return lw.apply(P.get("add"), [start, total], {}, node)


def _choose(lw, pred, a, b, node):
    """``a if pred else b`` of lowered values (``pred`` an atom known when
    the code runs): a runtime branch, so ``a`` and ``b`` may differ in shape."""
    pred = lw.truth(pred, node)
    if isinstance(pred, Const):
        return a if pred.value else b
    lw.top.ifexp_count = getattr(lw.top, "ifexp_count", 0) + 1
    key = f"$ifexp{lw.top.ifexp_count}"

    def side(v):
        def run():
            lw.env[key] = v
        return run
    lw.lower_if(pred, side(a), side(b), node)
    return lw.env.pop(key)


def _pick(lw, items, index, node):
    """``items[index]`` of a sequence known while compiling and an index
    known when the code runs: a chain of runtime branches (the items may
    differ in shape; the derivative flows through the one chosen)."""
    out = items[-1]
    for i in range(len(items) - 2, -1, -1):
        out = _choose(lw, lw.apply(P.get("equal"), [index, Const(i)], {}, node), items[i],
                      out, node)
    return out


def _maxmin_by_key(lw, name, items, key, node):
    """``max(items, key=f)``: Python's loop, one runtime branch per item --
    an item replaces the best so far only if its key is strictly greater
    (less for min), so the first of equal keys wins and a NaN key never
    replaces (nor is replaced), as in Python."""
    keys = [lw.call_value(key, [it], {}, node) for it in items]
    best, best_k = items[0], keys[0]
    op = P.get("greater" if name == "max" else "less")
    for it, k in zip(items[1:], keys[1:]):
        better = lw.apply(op, [k, best_k], {}, node)
        best, best_k = _choose(lw, better, it, best, node), \
            _choose(lw, better, k, best_k, node)
    return best


def _b_maxmin(name):
    def handler(lw, args, kwargs, node):
        if kwargs:
            if set(kwargs) - {"key", "default"} or not args:
                raise lw.unsupported(node, f"{name}() with these keyword arguments",
                                     f"use np.{name}")
            items = args[0].items if len(args) == 1 and isinstance(args[0], Seq) else \
                None if len(args) == 1 else list(args)
            if items is None:
                raise lw.unsupported(node, f"{name}(..., key=...) of a sequence whose length "
                                           f"is not known while compiling",
                                     f"use np.arg{name} of the keys and index")
            if not items:
                if "default" in kwargs:
                    return kwargs["default"]
                raise lw.error(node, f"{name}() arg is an empty sequence", cls=S2SGradError)
            key = kwargs.get("key", Const(None))
            if not (isinstance(key, Const) and key.value is None):
                return _maxmin_by_key(lw, name, items, key, node)
            args = [Seq("list", items)] if len(items) > 1 or len(args) == 1 else items
        items = args[0].items if len(args) == 1 and isinstance(args[0], Seq) else args
        if len(items) == 1 and len(args) == 1 and isinstance(args[0], Seq):
            return items[0]         # max([v]): the one item itself (not np.max of it)
        if not items:
            raise lw.error(node, f"{name}() arg is an empty sequence", cls=S2SGradError)
        if items and all(isinstance(v, Const) and isinstance(v.value, (int, float)) and
                         not isinstance(v.value, bool) for v in items):
            # numbers known while compiling (min(max(k, 0), 2) of a static
            # int): Python's own max/min, a constant (an index into a list
            # of functions stays one)
            pick = max if name == "max" else min
            return Const(pick(v.value for v in items))
        if len(items) == 1:
            return lw.apply(P.get("max" if name == "max" else "min"), [items[0]],
                            {"axis": Const(0)}, node)
        acc = items[0]
        for v in items[1:]:
            acc = lw.apply(P.get("maximum" if name == "max" else "minimum"), [acc, v], {}, node)
        return acc
    return handler


def _b_any_all(name):
    def handler(lw, args, kwargs, node):
        """``any(xs)``/``all(xs)``: folded over a sequence known while
        compiling (Python's truth of each item, stopping where it decides),
        else Python's builtin on the value when the code runs."""
        if kwargs or len(args) != 1:
            raise lw.unsupported(node, f"{name}() with {len(args)} arguments or keywords",
                                 "pass one sequence")
        (xs,) = args
        if isinstance(xs, Seq):
            truths = [lw.truth(v, node) for v in xs.items]
            if all(isinstance(t, Const) for t in truths):
                values = [bool(t.value) for t in truths]
                return Const(any(values) if name == "any" else all(values))
        if isinstance(xs, Const):
            return Const(any(xs.value) if name == "any" else all(xs.value))
        return lw.em.call(P.get(f"py_{name}"), lw.materialize(xs, node))
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
        if isinstance(x, Const) and isinstance(x.value, (tuple, list, range)):
            # list(g) of a constant (an item of a tuple of index tuples)
            return Seq(kind, [Const(v) for v in x.value])
        if kind == "list" and isinstance(x, Var) and P.shape_of(x) is LIST:
            # list(xs) of a list built at run time: a new list of its items
            # (xs[:], with the same aliasing facts)
            return lw.apply_getitem(x, slice(None), [], node)
        raise lw.unsupported(node, f"{kind}() of a computed value", "use a literal")
    return handler


def _b_dict(lw, args, kwargs, node):
    """``dict(...)``: a dict with keys known while compiling -- from keyword
    arguments, another such dict, or a sequence of (constant key, value) pairs."""
    items = {}
    if len(args) > 1:
        raise lw.unsupported(node, "dict() with more than one positional argument",
                             "use a dict literal")
    if args:
        (src,) = args
        if isinstance(src, DictVal):
            items.update(src.items)
        elif isinstance(src, Seq) and all(isinstance(p, Seq) and len(p.items) == 2 and
                                          isinstance(p.items[0], Const) for p in src.items):
            for p in src.items:
                items[p.items[0].value] = p.items[1]
        else:
            raise lw.unsupported(node, "dict() of a computed value",
                                 "build it from a dict literal or (key, value) pairs with "
                                 "constant keys")
    items.update(kwargs)
    return DictVal(items)


def _b_sorted(lw, args, kwargs, node):
    """``sorted(...)`` of a dict's keys or a tuple/list whose length is known
    while compiling (``reverse=`` a constant; ``key=`` any function the
    compiler can lower: a lambda, a nested or global ``def``, a builtin).
    Constant keys sort while compiling.  Computed keys must be numbers: the
    order is ``np.argsort`` of the stacked keys (stable, as Python's sort;
    ``reverse`` keeps the order of equal keys too, as Python's does), and
    the items are picked in that order by runtime branches (so they may
    differ in shape) -- each a differentiable read, the order itself data."""
    if len(args) != 1 or set(kwargs) - {"reverse", "key"}:
        raise lw.unsupported(node, "sorted() with these arguments",
                             "sorted(items, key=..., reverse=...)")
    (x,) = args
    reverse = kwargs.get("reverse", Const(False))
    if not isinstance(reverse, Const):
        raise lw.unsupported(node, "sorted() with a computed reverse=", "pass True or False")
    items = [Const(k) for k in x.items] if isinstance(x, DictVal) else \
        x.items if isinstance(x, Seq) else None
    if items is None:
        raise lw.unsupported(node, "sorted() of a list built at run time (its length is not "
                                   "known when compiling)", "use np.sort, or np.argsort of "
                                                            "the keys and indexing")
    key = kwargs.get("key", Const(None))
    firsts = [i.items[0].value if isinstance(i, Seq) and i.items and
              isinstance(i.items[0], Const) else None for i in items]
    if isinstance(key, Const) and key.value is None and items and None not in firsts and \
            _distinct(firsts):
        # sorted(d.items()), sorted([("b", v), ("a", w)]): tuples whose first
        # items are distinct constants compare by them alone (Python never
        # compares the rest), so the order is known while compiling
        keys = [Const(f) for f in firsts]
    elif isinstance(key, Const) and key.value is None:
        keys = list(items)
    elif isinstance(key, Static) and isinstance(key.obj, types.BuiltinFunctionType) and \
            all(isinstance(i, Const) for i in items):
        # sorted(names, key=len): a builtin of constants, evaluated while compiling
        keys = [Const(key.obj(i.value)) for i in items]
    else:
        keys = [lw.call_value(key, [it], {}, node) for it in items]
    if all(isinstance(k, Const) for k in keys):
        order = sorted(range(len(items)), key=lambda i: keys[i].value,
                       reverse=bool(reverse.value))
        return Seq("list", [items[i] for i in order])
    if not items:
        return Seq("list", [])
    if any(isinstance(i, Const) and not isinstance(i.value, (int, float)) for i in items) or \
            any(isinstance(i, (Seq, DictVal, Static)) for i in items):
        raise lw.unsupported(node, "sorted() of constants or containers by a key computed "
                                   "at run time", "sort arrays or numbers by a computed key, "
                                                  "or constants by a constant key")
    ks = lw.apply(P.get("array"), [Seq("list", keys)], {}, node)
    # one number per item (Python compares them; arrays would not compare)
    ks = lw.apply(P.get("require_ndim"), [ks], {"ndim": Const(1),
                                              "what": Const("sorted()'s keys")}, node)
    if reverse.value:
        ks = lw.apply(P.get("negative"), [ks], {}, node)
    perm = lw.apply(P.get("argsort"), [ks], {"kind": Const("stable")}, node)
    out = []
    for j in range(len(items)):
        pj = lw.apply(P.get("take"), [perm, Const(j)], {}, node)
        # item perm[j] by runtime branches: items of different shapes (a
        # list of arrays sorted by a loss) cannot be stacked
        out.append(_pick(lw, list(items), pj, node))
    return Seq("list", out)


def _distinct(values):
    try:
        return len(set(values)) == len(values)
    except TypeError:           # (unhashable constants)
        return False


def _b_range(lw, args, kwargs, node):
    if all(isinstance(a, Const) for a in args):
        return Const(range(*[a.value for a in args]))
    raise lw.unsupported(node, "range() outside a for loop", "use np.arange")


def _b_isinstance(lw, args, kwargs, node):
    x, cls = args
    if isinstance(cls, Seq) and all(isinstance(c, Static) for c in cls.items):
        classes = tuple(c.obj for c in cls.items)
    elif isinstance(cls, Static):
        classes = cls.obj
    else:
        raise lw.unsupported(node, "isinstance() with a computed class", "name the class")
    if isinstance(x, Const):
        return Const(isinstance(x.value, classes))
    # containers known while compiling: their type is static (isinstance(arg, list))
    if isinstance(x, Seq):
        if x.fields is not None:
            return Const(any(isinstance(c, type) and issubclass(c, tuple) and
                             getattr(c, "_fields", None) in (None, x.fields)
                             for c in (classes if isinstance(classes, tuple) else (classes,))))
        return Const(_subclass(list if x.kind == "list" else tuple, classes))
    if isinstance(x, DictVal):
        return Const(_subclass(dict, classes))
    if isinstance(x, Var) and P.shape_of(x) is LIST:
        return Const(_subclass(list, classes))
    if isinstance(x, (Static, ObjVal)):      # (an ObjVal's type is guarded or keyed)
        return Const(isinstance(x.obj, classes))
    if isinstance(x, Var) and lw.top.arg_types.get(x) is not None:
        return Const(_subclass(lw.top.arg_types[x], classes))   # a container passed as data
    if isinstance(x, Var) and not lw.top.may_be_sequence(x) and \
            _subclass_none(classes, (list, tuple, dict, str)):
        # an argument that is not a container, or a computed value: an array
        # or a number, never one of these (a value read live, or an item of
        # a container passed as data, may be one: refused below)
        return Const(False)
    if isinstance(x, Var) and not lw.top.may_be_sequence(x) and all(
            isinstance(c, type) for c in (classes if isinstance(classes, tuple) else (classes,))):
        # an argument that is a number or an array (isinstance(s, float)):
        # Python's test when the code runs, on the value the caller passed
        return lw.em.call(P.get("py_isinstance"), x, Const(classes))
    raise lw.unsupported(node, "isinstance() on a computed value", "check types outside")


def _subclass(t, classes):
    classes = classes if isinstance(classes, tuple) else (classes,)
    return any(isinstance(c, type) and issubclass(t, c) for c in classes)


def _subclass_none(classes, kinds):
    classes = classes if isinstance(classes, tuple) else (classes,)
    return all(isinstance(c, type) and issubclass(c, kinds) for c in classes)


def _b_slice(lw, args, kwargs, node):
    if kwargs or not 1 <= len(args) <= 3:
        raise lw.error(node, "slice() takes 1 to 3 positional arguments", cls=S2SGradError)
    parts = [None, args[0], None] if len(args) == 1 else list(args) + [None] * (3 - len(args))
    parts = [None if isinstance(p, Const) and p.value is None else p for p in parts]
    if all(p is None or isinstance(p, Const) for p in parts):
        return Const(slice(*(None if p is None else p.value for p in parts)))
    return SliceVal([None if p is None else lw.materialize(p, node) for p in parts])


def _b_reduce(lw, args, kwargs, node):
    """functools.reduce(f, xs[, init]) over a sequence known while compiling."""
    if kwargs or len(args) not in (2, 3) or not isinstance(args[1], Seq):
        raise lw.unsupported(node, "functools.reduce over a sequence built at run time",
                             "reduce a list or tuple literal, or use np.sum/np.prod")
    f, items = args[0], list(args[1].items)
    if len(args) == 3:
        items = [args[2]] + items
    if not items:
        raise lw.error(node, "reduce() of an empty sequence with no initial value",
                       cls=S2SGradError)
    acc = items[0]
    for v in items[1:]:
        acc = lw.call_value(f, [acc, v], {}, node)
    return acc


def _b_map(lw, args, kwargs, node):
    if kwargs or len(args) < 2 or not all(isinstance(a, Seq) for a in args[1:]):
        raise lw.unsupported(node, "map() over a sequence built at run time",
                             "use a list comprehension")
    return Seq("list", [lw.call_value(args[0], list(t), {}, node)
                        for t in zip(*[a.items for a in args[1:]])])


def _b_filter(lw, args, kwargs, node):
    """``filter(pred, seq)`` over a sequence known while compiling, each
    test known while compiling too (``o.shape[0] > 0`` of a rank fact, a
    key's name); a test known only at run time is refused."""
    if kwargs or len(args) != 2 or not isinstance(args[1], Seq):
        raise lw.unsupported(node, "filter() over a sequence built at run time",
                             "use a list comprehension")
    keep = []
    for item in args[1].items:
        t = lw.truth(item if isinstance(args[0], Const) and args[0].value is None
                     else lw.call_value(args[0], [item], {}, node), node)
        if not isinstance(t, Const):
            raise lw.unsupported(node, "filter() whose test is known only when the code runs",
                                 "select with a mask or np.where")
        if t.value:
            keep.append(item)
    return Seq("list", keep)


def _b_getattr(lw, args, kwargs, node):
    """``getattr(np, name)`` / ``getattr(obj, name[, default])`` with the
    name known while compiling (a str argument is made static for it)."""
    if kwargs or len(args) not in (2, 3):
        raise lw.unsupported(node, "this call of getattr()", "use obj.name")
    base, name = args[0], args[1]
    if not isinstance(name, Const):
        P.needs_static(name)
        raise lw.unsupported(node, "getattr() with a name computed at run time",
                             "pass the name as a str argument or a constant")
    if isinstance(base, (Static, ObjVal)) and isinstance(name.value, str):
        if len(args) == 3 and not hasattr(base.obj, name.value):
            # (the default would need a guard that the attribute stays missing)
            raise lw.unsupported(node, "getattr() with a default for a missing attribute",
                                 "test hasattr() outside, or give the object the attribute")
        return lw.attr_value(base, name.value, node)
    raise lw.unsupported(node, "getattr() of a value computed at run time", "use obj.name")


# operator.add & co. passed as values: exactly the Python operator
def _operator_binop(op):
    def handler(lw, args, kwargs, node):
        a, b = args
        return lw.binop(op(), a, b, node)
    return handler


def _operator_apply(name):
    def handler(lw, args, kwargs, node):
        return lw.apply(P.get(name), list(args), {}, node)
    return handler


def _operator_getitem(lw, args, kwargs, node):
    base, key = args
    return lw.index_value(base, key, node)


_OPERATORS = [
    (operator.add, _operator_binop(ast.Add)), (operator.sub, _operator_binop(ast.Sub)),
    (operator.mul, _operator_binop(ast.Mult)), (operator.truediv, _operator_binop(ast.Div)),
    (operator.floordiv, _operator_binop(ast.FloorDiv)), (operator.mod, _operator_binop(ast.Mod)),
    (operator.pow, _operator_binop(ast.Pow)), (operator.matmul, _operator_binop(ast.MatMult)),
    (operator.and_, _operator_binop(ast.BitAnd)), (operator.or_, _operator_binop(ast.BitOr)),
    (operator.xor, _operator_binop(ast.BitXor)),
    (operator.neg, _operator_apply("negative")), (operator.pos, _operator_apply("positive")),
    (operator.abs, _operator_apply("absolute")), (operator.not_, _operator_apply("logical_not")),
    (operator.lt, _operator_apply("less")), (operator.le, _operator_apply("less_equal")),
    (operator.gt, _operator_apply("greater")), (operator.ge, _operator_apply("greater_equal")),
    (operator.eq, _operator_apply("equal")), (operator.ne, _operator_apply("not_equal")),
    (operator.getitem, _operator_getitem),
]


def _bases(v):
    """The runtime arrays an enumerate/zip/reversed item is read from (an
    IterVal's own bases when nested: zip(enumerate(a), b))."""
    if isinstance(v, IterVal):
        return list(v.bases)
    return [v] if isinstance(v, Var) else []


def _b_enumerate(lw, args, kwargs, node):
    base = args[0]
    start = args[1] if len(args) > 1 else kwargs.get("start", Const(0))
    if isinstance(base, Seq) and isinstance(start, Const):
        return Seq("list", [Seq("tuple", [Const(start.value + k), v])
                            for k, v in enumerate(base.items)])
    return IterVal(lw.length_of(base, node),
                   lambda i: Seq("tuple", [lw.apply(P.get("add"), [i, start], {}, node),
                                           lw.item_of(base, i, node)]), _bases(base))


def _is_function(v):
    """A function as a compile-time value (a lambda, a nested def, np.sin)."""
    return isinstance(v, LocalFunction) or (
        isinstance(v, Static) and callable(v.obj) and not isinstance(v.obj, type))


def _b_zip(lw, args, kwargs, node):
    if all(isinstance(a, Seq) for a in args):
        return Seq("list", [Seq("tuple", list(t)) for t in zip(*[a.items for a in args])])
    if any(isinstance(a, Seq) and any(_is_function(v) for v in a.items) for a in args):
        # zip(w, [np.sin, np.cos, f]): functions are compile-time values, so
        # the zip is unrolled over them; a shorter runtime operand is refused
        # when the code runs (Python's zip would stop early)
        n = min(len(a.items) for a in args if isinstance(a, Seq))
        where = f"{lw.src.filename}:{node.lineno}"
        for a in args:
            if not isinstance(a, Seq):
                lw.em.call(P.get("check_zip_length"), lw.length_of(a, node), n=Const(n),
                           where=Const(where))
        return Seq("list", [Seq("tuple", [a.items[i] if isinstance(a, Seq) else
                                          lw.item_of(a, Const(i), node) for a in args])
                            for i in range(n)])
    n = None
    for a in args:
        ln = lw.length_of(a, node)
        n = ln if n is None else lw.em.call(P.get("py_min"), n, ln)
    return IterVal(n, lambda i: Seq("tuple", [lw.item_of(a, i, node) for a in args]),
                   [b for a in args for b in _bases(a)])


def _static_items(v):
    """The items of a sequence known while compiling, else None."""
    if isinstance(v, Seq):
        return v.items
    if isinstance(v, Const) and isinstance(v.value, (tuple, list, range)):
        return [Const(x) for x in v.value]
    return None


def _b_product(lw, args, kwargs, node):
    """``itertools.product(range(n), range(m))``: a sequence known while
    compiling when every operand is; else item ``i`` is the operands' items
    at the digits of ``i`` (last operand fastest), as itertools orders them."""
    repeat = kwargs.get("repeat", Const(1))
    if set(kwargs) - {"repeat"} or not (isinstance(repeat, Const) and
                                        isinstance(repeat.value, int)):
        raise lw.unsupported(node, "itertools.product with a computed or unknown keyword",
                             "pass repeat= as a constant")
    args = list(args) * repeat.value
    static = [_static_items(a) for a in args]
    if all(s is not None for s in static):
        return Seq("list", [Seq("tuple", list(t)) for t in itertools.product(*static)])
    lens = [lw.length_of(a, node) for a in args]
    n = lens[0]
    for ln in lens[1:]:
        n = lw.apply(P.get("multiply"), [n, ln], {}, node)

    def item(i):
        out = []
        for a, ln in reversed(list(zip(args, lens))):
            out.append(lw.item_of(a, lw.apply(P.get("remainder"), [i, ln], {}, node), node))
            i = lw.apply(P.get("floor_divide"), [i, ln], {}, node)
        return Seq("tuple", out[::-1])
    return IterVal(n, item, [b for a in args for b in _bases(a)])


def _b_reversed(lw, args, kwargs, node):
    (base,) = args
    if isinstance(base, Seq):
        return Seq(base.kind, list(reversed(base.items)))
    n = lw.length_of(base, node)
    last = lw.apply(P.get("subtract"), [n, Const(1)], {}, node)
    return IterVal(n, lambda i: lw.item_of(base, lw.apply(P.get("subtract"), [last, i], {}, node),
                                           node), _bases(base))


def _b_pairwise(lw, args, kwargs, node):
    """``itertools.pairwise(xs)``: (xs[0], xs[1]), (xs[1], xs[2]), ...; over a
    sequence known while compiling, or item by item of a runtime value."""
    if kwargs or len(args) != 1:
        raise lw.unsupported(node, "this call of itertools.pairwise", "pass one sequence")
    (base,) = args
    items = _static_items(base)
    if items is not None:
        return Seq("list", [Seq("tuple", [a, b]) for a, b in zip(items, items[1:])])
    n = lw.em.call(P.get("py_max"), lw.apply(P.get("subtract"), [lw.length_of(base, node),
                                                                 Const(1)], {}, node), Const(0))
    return IterVal(n, lambda i: Seq("tuple", [
        lw.item_of(base, i, node),
        lw.item_of(base, lw.apply(P.get("add"), [i, Const(1)], {}, node), node)]),
        _bases(base))


def _b_accumulate(lw, args, kwargs, node):
    """``itertools.accumulate(xs[, func][, initial=])`` over a sequence known
    while compiling: the running results of ``func`` (``+`` by default),
    each a call of it as Python makes them."""
    if len(args) not in (1, 2) or set(kwargs) - {"func", "initial"}:
        raise lw.unsupported(node, "this call of itertools.accumulate",
                             "pass a sequence and a function")
    items = _static_items(args[0])
    if items is None:
        raise lw.unsupported(node, "itertools.accumulate over a sequence built at run time",
                             "accumulate a list or tuple literal (or a comprehension over "
                             "range), or use np.cumsum / np.cumprod / np.maximum.accumulate")
    func = args[1] if len(args) == 2 else kwargs.get("func", Const(None))
    initial = kwargs.get("initial", Const(None))
    items = list(items)
    if not (isinstance(initial, Const) and initial.value is None):
        items = [initial] + items
    out = []
    for v in items:
        if not out:
            out.append(v)
        elif isinstance(func, Const) and func.value is None:
            out.append(lw.binop(ast.Add(), out[-1], v, node))
        else:
            out.append(lw.call_value(func, [out[-1], v], {}, node))
    return Seq("list", out)


def _b_math_prod(lw, args, kwargs, node):
    """``math.prod(xs, start=1)``: ``start * xs[0] * xs[1] * ...`` over a
    sequence known while compiling (a shape tuple folds to an int); over a
    runtime value, NumPy's product along the first axis times ``start``."""
    if len(args) != 1 or set(kwargs) - {"start"}:
        raise lw.unsupported(node, "this call of math.prod", "pass one sequence")
    start = kwargs.get("start", Const(1))
    items = _static_items(args[0])
    if items is not None:
        acc = start
        for v in items:
            acc = lw.binop(ast.Mult(), acc, v, node)
        return acc
    seq = args[0]
    if isinstance(seq, Var) and P.shape_of(seq) is LIST:
        seq = lw.em.call(P.get("stack_list"), seq, axis=Const(0))
    total = lw.apply(P.get("prod"), [seq], {"axis": Const(0)}, node)
    return lw.binop(ast.Mult(), start, total, node)


def _b_defaultdict(lw, args, kwargs, node):
    """``collections.defaultdict(float)`` (``int``, ``list``, a lambda ...)
    with keys known while compiling: a dict whose missing keys get the
    factory's value when read (``DictVal.default``)."""
    if len(args) > 2 or (len(args) == 2 and not isinstance(args[1], DictVal)):
        raise lw.unsupported(node, "this call of collections.defaultdict",
                             "pass the factory and, optionally, a dict literal")
    factory = args[0] if args else Const(None)
    items = dict(args[1].items) if len(args) == 2 else {}
    items.update(kwargs)
    if isinstance(factory, Const) and factory.value is None:
        return DictVal(items)           # no factory: a missing key raises KeyError
    if not (isinstance(factory, LocalFunction) or isinstance(factory, Static) and
            callable(factory.obj)):
        raise lw.unsupported(node, "collections.defaultdict with this factory",
                             "pass a function or a type such as float, int or list")
    return DictVal(items, factory)


def _b_print(lw, args, kwargs, node):
    return Const(None)  # printing has no effect on the value differentiated


# math.<f> on Python scalars -> the NumPy primitive of the same function
MATH_FUNCS = {id(getattr(math, k)): v for k, v in {
    "exp": "exp", "expm1": "expm1", "log": "log", "log1p": "log1p", "log2": "log2",
    "log10": "log10", "sqrt": "sqrt", "sin": "sin", "cos": "cos", "tan": "tan",
    "asin": "arcsin", "acos": "arccos", "atan": "arctan", "atan2": "arctan2", "sinh": "sinh",
    "cosh": "cosh", "tanh": "tanh", "fabs": "fabs", "pow": "power", "hypot": "hypot",
    "asinh": "arcsinh", "acosh": "arccosh", "atanh": "arctanh", "degrees": "rad2deg",
    "radians": "deg2rad", "copysign": "copysign", "exp2": "exp2", "cbrt": "cbrt",
    # integer-valued: data (a float of the same value); scipy.special's rules
    "floor": "floor", "ceil": "ceil", "trunc": "trunc",
    "erf": "erf", "erfc": "erfc", "gamma": "gamma", "lgamma": "gammaln"}.items()
    if hasattr(math, k)}


def _dataclass_arg(lw, args, node, name):
    if len(args) != 1 or not isinstance(args[0], TreeObj) or \
            not dataclasses.is_dataclass(args[0].obj):
        raise lw.unsupported(node, f"dataclasses.{name} of this value",
                             "pass one dataclass instance")
    return args[0]


def _b_dc_replace(lw, args, kwargs, node):
    """``dataclasses.replace(p, b=...)``: a new instance from p's init fields
    and the changes, built as the constructor builds it (``construct_tree``)."""
    base = _dataclass_arg(lw, args, node, "replace")
    changes = dict(kwargs)
    init = {}
    for f in dataclasses.fields(base.obj):
        if not f.init:
            if f.name in changes:
                raise lw.error(node, f"field {f.name} is declared with init=False, it cannot "
                                     f"be specified with replace()", cls=S2SGradError)
            continue
        init[f.name] = changes.pop(f.name) if f.name in changes else \
            lw.from_python(getattr(base.obj, f.name), base.values, node)
    if changes:
        raise lw.error(node, f"dataclasses.replace: {type(base.obj).__name__} has no field "
                             f"'{next(iter(changes))}'", cls=S2SGradError)
    return lw.construct_tree(type(base.obj), [], init, node)


def _dc_copied(lw, v, node, kind):
    """A field's value as ``asdict``/``astuple`` give it: nested dataclasses
    converted, containers rebuilt and arrays copied (Python deep-copies)."""
    if isinstance(v, TreeObj) and dataclasses.is_dataclass(v.obj):
        items = {f.name: _dc_copied(lw, lw.from_python(getattr(v.obj, f.name), v.values, node),
                                    node, kind) for f in dataclasses.fields(v.obj)}
        return DictVal(items) if kind == "dict" else Seq("tuple", list(items.values()))
    if isinstance(v, Seq):
        return Seq(v.kind, [_dc_copied(lw, i, node, kind) for i in v.items], v.fields, v.ntype)
    if isinstance(v, DictVal):
        return DictVal({k: _dc_copied(lw, i, node, kind) for k, i in v.items.items()})
    if isinstance(v, Var) and P.shape_of(v) is not P.SCALAR:
        return lw.apply(P.get("copy"), [v], {}, node)
    if isinstance(v, (Var, Const, Static)):
        return v
    raise lw.unsupported(node, f"dataclasses.as{kind} of a dataclass holding this value",
                         "read the fields by name")


def _b_dc_asdict(kind):
    def handler(lw, args, kwargs, node):
        if kwargs:
            raise lw.unsupported(node, f"dataclasses.as{kind}(..., {next(iter(kwargs))}=...)",
                                 f"call dataclasses.as{kind}(obj)")
        return _dc_copied(lw, _dataclass_arg(lw, args, node, f"as{kind}"), node, kind)
    return handler


BUILTIN_CALLS = {}
for _obj, _h in [(dataclasses.replace, _b_dc_replace), (dataclasses.asdict, _b_dc_asdict("dict")),
                 (dataclasses.astuple, _b_dc_asdict("tuple")),
                 (len, _b_len), (sum, _b_sum), (max, _b_maxmin("max")), (min, _b_maxmin("min")),
                 (float, _b_float), (tuple, _b_tuple_list("tuple")), (list, _b_tuple_list("list")),
                 (isinstance, _b_isinstance), (print, _b_print), (enumerate, _b_enumerate),
                 (zip, _b_zip), (reversed, _b_reversed), (slice, _b_slice),
                 (functools.reduce, _b_reduce), (map, _b_map), (dict, _b_dict),
                 (sorted, _b_sorted), (filter, _b_filter), (getattr, _b_getattr),
                 (itertools.product, _b_product), (any, _b_any_all("any")),
                 (itertools.pairwise, _b_pairwise), (itertools.accumulate, _b_accumulate),
                 (math.prod, _b_math_prod), (collections.defaultdict, _b_defaultdict),
                 (all, _b_any_all("all"))] + _OPERATORS:
    BUILTIN_CALLS[id(_obj)] = (_obj, _h)


