"""Facts about Python syntax that lowering needs: operator tables, the
statements refused (with what to do instead), and AST walks (names assigned
in a block, whether a block contains a ``break``/``return``)."""
from __future__ import annotations

import ast




BINOPS = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply", ast.Div: "divide",
           ast.Pow: "power", ast.MatMult: "matmul", ast.Mod: "remainder",
           ast.FloorDiv: "floor_divide", ast.BitAnd: "bitwise_and", ast.BitOr: "bitwise_or",
           ast.BitXor: "bitwise_xor"}


UNARY = {ast.USub: "negative", ast.UAdd: "positive", ast.Invert: "invert",
          ast.Not: "logical_not"}


CMP = {ast.Gt: "greater", ast.GtE: "greater_equal", ast.Lt: "less", ast.LtE: "less_equal",
        ast.Eq: "equal", ast.NotEq: "not_equal"}


# Statements refused with what to do instead.
REFUSED = {
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


if hasattr(ast, "TryStar"):
    REFUSED[ast.TryStar] = REFUSED[ast.Try]


COMPREHENSIONS = (ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp)


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


def assigned_in(stmts):
    """Names assigned (in order of first assignment) by a list of statements."""
    names = []

    def add(name):
        if name not in names:
            names.append(name)

    for s in stmts:
        for n in _preorder(s, skip=(ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef)
                           + COMPREHENSIONS):
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
                # np.add.at(y, idx, v), np.put(y, ...), np.copyto(y, ...) rebind y
                fname = f.attr if isinstance(f, ast.Attribute) else \
                    f.id if isinstance(f, ast.Name) else None
                if fname in _WRITERS and n.args and isinstance(n.args[0], ast.Name):
                    add(n.args[0].id)
                # y.put(ind, v) rebinds y
                if isinstance(f, ast.Attribute) and f.attr == "put" and \
                        isinstance(f.value, ast.Name):
                    add(f.value.id)
            elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                add(n.name)
    return names


# NumPy functions that write into their first argument
_WRITERS = ("at", "put_along_axis", "put", "place", "copyto")


def rebinds(stmts, name):
    """Whether ``stmts`` bind ``name`` to a new object (an assignment, an
    augmented assignment, a loop target), not only write into it (``name[i] = v``)."""
    for st in stmts:
        for n in _preorder(st, skip=(ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef)
                           + COMPREHENSIONS):
            if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store):
                return True
    return False


def rebinds_plainly(stmts, name):
    """Like :func:`rebinds`, but ``name += v`` does not count (in place on an
    array: the name keeps its array)."""
    aug = set()
    for st in stmts:
        for n in ast.walk(st):
            if isinstance(n, ast.AugAssign):
                aug.add(id(n.target))
    for st in stmts:
        for n in _preorder(st, skip=(ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef)
                           + COMPREHENSIONS):
            if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store) \
                    and id(n) not in aug:
                return True
    return False


def has_node(stmts, node_type):
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


def snippet(node):
    try:
        s = ast.unparse(node)
    except Exception:  # pragma: no cover
        s = type(node).__name__
    return s if len(s) < 60 else s[:57] + "..."


def assigned_names(fn_node):
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
                                    ast.ClassDef) + COMPREHENSIONS):
            if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
                names.add(n.id)
            elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(n.name)
    return names


OPSYM = {ast.LShift: "<<", ast.RShift: ">>"}




# ---------------------------------------------------------------- rewrites


def _located(new, like):
    for n in ast.walk(new):
        if "lineno" in n._attributes and not hasattr(n, "lineno"):
            ast.copy_location(n, like)
    return new


YIELDED = "_yielded"


def generator_as_list(fnode):
    """A generator function's ``def`` rewritten to return the list of what it
    yields (``yield v`` -> ``_yielded.append(v)``, ``yield from xs`` -> a loop
    appending each item, ``return`` -> ``return _yielded``): iterating the
    generator is iterating that list, evaluated eagerly.  A ``yield`` used
    as an expression stays, and is refused where it is lowered."""
    import copy as _copy
    fnode = _copy.deepcopy(fnode)

    def append(value, like):
        return _located(ast.Expr(value=ast.Call(
            func=ast.Attribute(value=ast.Name(id=YIELDED, ctx=ast.Load()), attr="append",
                               ctx=ast.Load()),
            args=[value if value is not None else ast.Constant(value=None)], keywords=[])),
            like)

    class Rewrite(ast.NodeTransformer):
        def visit_FunctionDef(self, n):
            return n                      # a nested def keeps its own yields

        visit_AsyncFunctionDef = visit_FunctionDef
        visit_Lambda = visit_FunctionDef

        def visit_Expr(self, n):
            if isinstance(n.value, ast.Yield):
                return append(n.value.value, n)
            if isinstance(n.value, ast.YieldFrom):
                item = ast.Name(id="_yield_item", ctx=ast.Store())
                return _located(ast.For(target=item, iter=n.value.value,
                                        body=[append(ast.Name(id="_yield_item",
                                                              ctx=ast.Load()), n)],
                                        orelse=[]), n)
            return n

        def visit_Return(self, n):
            return _located(ast.Return(value=ast.Name(id=YIELDED, ctx=ast.Load())), n)

    rw = Rewrite()
    body = [rw.visit(s) for s in fnode.body]
    first = fnode.body[0]
    start = _located(ast.Assign(targets=[ast.Name(id=YIELDED, ctx=ast.Store())],
                                value=ast.List(elts=[], ctx=ast.Load())), first)
    end = _located(ast.Return(value=ast.Name(id=YIELDED, ctx=ast.Load())), fnode.body[-1])
    fnode.body = [start] + body + [end]
    return fnode


def is_generator_def(fnode) -> bool:
    """Does this ``def`` (not its nested functions) contain ``yield``?"""
    todo = list(fnode.body)
    while todo:
        n = todo.pop()
        if isinstance(n, (ast.Yield, ast.YieldFrom)):
            return True
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        todo.extend(ast.iter_child_nodes(n))
    return False


def loop_else_as_flag(loop, flag):
    """``for ...: body`` + ``else: E`` as ``flag = False; for ...: body'`` +
    ``if not flag: E``, each ``break`` of this loop (not of loops nested in
    it) preceded by ``flag = True``.  Returns the list of statements."""
    import copy as _copy
    loop = _copy.deepcopy(loop)

    def set_flag(like):
        return _located(ast.Assign(targets=[ast.Name(id=flag, ctx=ast.Store())],
                                   value=ast.Constant(value=True)), like)

    def rewrite(stmts):
        out = []
        for s in stmts:
            if isinstance(s, ast.Break):
                out += [set_flag(s), s]
                continue
            if isinstance(s, (ast.For, ast.While, ast.AsyncFor, ast.FunctionDef,
                              ast.AsyncFunctionDef, ast.ClassDef)):
                out.append(s)             # their breaks are their own
                continue
            for field in ("body", "orelse", "finalbody"):
                if isinstance(getattr(s, field, None), list):
                    setattr(s, field, rewrite(getattr(s, field)))
            if isinstance(s, ast.Try):
                for h in s.handlers:
                    h.body = rewrite(h.body)
            out.append(s)
        return out

    orelse = loop.orelse
    loop.orelse = []
    loop.body = rewrite(loop.body)
    init = _located(ast.Assign(targets=[ast.Name(id=flag, ctx=ast.Store())],
                               value=ast.Constant(value=False)), loop)
    after = _located(ast.If(test=ast.UnaryOp(op=ast.Not(), operand=ast.Name(id=flag,
                                                                             ctx=ast.Load())),
                            body=orelse, orelse=[]), orelse[0])
    return [init, loop, after]
