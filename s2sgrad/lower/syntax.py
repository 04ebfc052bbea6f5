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
    ast.Nonlocal: ("nonlocal", "'nonlocal' is supported in a function nested in the "
                               "differentiated function (or in a helper it calls) only; "
                               "pass the value as an argument instead"),
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
        kids = child_nodes(n)
        kids.reverse()
        stack += kids


def walk_nodes(node):
    """``ast.walk(node)`` (breadth first, in its order) without the
    contexts and operator-free leaves :func:`child_nodes` leaves out."""
    todo = [node]
    i = 0
    while i < len(todo):
        n = todo[i]
        i += 1
        todo += child_nodes(n)
        yield n


# a Name's ctx (leaves no caller looks at)
_CONTEXTS = (ast.Load, ast.Store, ast.Del)


# Fields that never hold a node, from each class's grammar signature
# (``Name(identifier id, expr_context ctx)``): names, strings, numbers,
# constants, and the ctx (a context, left out by child_nodes anyway).
_LEAF_TYPES = ("identifier", "string", "int", "constant", "expr_context")


def _node_fields(cls):
    """The fields of ``cls`` that may hold a node or a list of nodes (all of
    ``_fields`` where the signature cannot be read)."""
    fields = tuple(getattr(cls, "_fields", ()))
    doc = cls.__doc__ or ""
    head = f"{cls.__name__}("
    if not doc.startswith(head) or not doc.rstrip().endswith(")"):
        return fields
    leaves = set()
    for part in doc.rstrip()[len(head):-1].split(","):
        words = part.split()
        if len(words) == 2 and words[0].rstrip("?*") in _LEAF_TYPES:
            leaves.add(words[1])
    return tuple(f for f in fields if f not in leaves)


_NODE_FIELDS: dict = {}


def child_nodes(n):
    """``ast.iter_child_nodes(n)`` but a Name's ctx, as a list (its
    generator over ``ast.iter_fields`` was most of the time of the walks
    that use it).  Only the fields that may hold nodes are read
    (:func:`_node_fields`, per class): a walk's Names and Constants cost a
    dictionary look-up."""
    kids = []
    AST = ast.AST
    fields = _NODE_FIELDS.get(n.__class__)
    if fields is None:
        fields = _NODE_FIELDS[n.__class__] = _node_fields(n.__class__)
    for f in fields:
        v = getattr(n, f, None)
        if isinstance(v, list):
            for x in v:
                if isinstance(x, AST):
                    kids.append(x)
        elif isinstance(v, AST) and not isinstance(v, _CONTEXTS):
            kids.append(v)
    return kids


def assigned_in(stmts):
    """Names assigned (in order of first assignment) by a list of statements."""
    names = []

    def add(name):
        if name not in names:
            names.append(name)

    for s in stmts:
        for n in _preorder(s, skip=(ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef)
                           + COMPREHENSIONS):
            _note_assigned(n, add)
    return names


def _note_assigned(n, add):
    """``add`` the names node ``n`` assigns (for :func:`assigned_in`)."""
    if isinstance(n, ast.Name):
        if isinstance(n.ctx, ast.Store):
            add(n.id)
    elif isinstance(n, ast.Subscript):
        # x[i] = v rebinds x to its updated version
        # (y.T[0] = v, y[1:][0] = v, y.flat[k] = v too)
        if isinstance(n.ctx, ast.Store):
            root = _root_name(n.value)
            if root is not None:
                add(root)
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
        # (or a view of y: np.copyto(y[::2], ...)); a ufunc's out=y
        if fname in _WRITERS and n.args and _root_name(n.args[0]) is not None:
            add(_root_name(n.args[0]))
        for k in n.keywords:
            if k.arg == "out":
                for o in (k.value.elts if isinstance(k.value, ast.Tuple) else [k.value]):
                    if _root_name(o) is not None:
                        add(_root_name(o))
        # y.put(ind, v) rebinds y
        if isinstance(f, ast.Attribute) and f.attr == "put" and \
                isinstance(f.value, ast.Name):
            add(f.value.id)
    elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
        add(n.name)


# NumPy functions that write into their first argument
_WRITERS = ("at", "put_along_axis", "put", "place", "putmask", "copyto")


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


class Rebindings:
    """:func:`rebinds` and :func:`rebinds_plainly` of one list of statements
    for every name, from one walk (a loop asks them for each of its carries,
    several times: a walk of its body per question).  Valid while the
    statements are not changed (lowering a loop rewrites its body's
    ``break``s in place, :func:`loop_else_as_flag`: made before, asked
    before the body is lowered).

    The same walk gives :func:`assigned_in` (``assigned``),
    ``any(_kept_in_list(st) for st in stmts)`` (``kept_any``) and
    :func:`returns_or_breaks` (``has_return``, ``has_break``): each node
    is visited once, with what each of those walks would do with it -- the
    walk of :func:`assigned_in` does not enter nested functions, lambdas
    and comprehensions; :func:`_level_nodes` does not enter nested
    functions and lambdas, and looks only for ``return`` inside nested
    loops (and everything in them)."""

    def __init__(self, stmts):
        stores = []
        aug = set()
        # (and assigned_in's names, from the same walk: the loop asks both)
        assigned, seen = [], set()

        def add(name):
            if name not in seen:
                seen.add(name)
                assigned.append(name)

        # (and whether a statement puts an array into a list, the question
        # kept_then_written asks first: the same walk as _kept_in_list's)
        kept = False
        has_return = has_break = False
        Name, AugAssign, Call, Return, Break = ast.Name, ast.AugAssign, ast.Call, ast.Return, \
            ast.Break
        # node, seen by assigned_in's walk, and what _level_nodes does with
        # it: _LEVEL (a node at the loop's level), _RETURNS (inside a nested
        # loop: only a return counts), _NOT (not reached)
        stack = [(st, True, _LEVEL) for st in reversed(stmts)]
        while stack:
            n, rb, level = stack.pop()
            if level is not _NOT:
                if isinstance(n, Return):
                    has_return = True
                elif level is _LEVEL and isinstance(n, Break):
                    has_break = True
            if rb:
                _note_assigned(n, add)
                if isinstance(n, Name):
                    if isinstance(n.ctx, ast.Store):
                        stores.append(n)
                    continue        # (a Name has no nodes under it but its ctx)
                if isinstance(n, AugAssign):
                    # (its target is reached in the same walk: rebinds_plainly's
                    # walk of every node finds no other augmented assignment
                    # whose target this walk reaches)
                    aug.add(id(n.target))
                if not kept and isinstance(n, (Call, AugAssign)):
                    kept = any(_root_name(it) is not None for it in _list_items(n))
                rb = not isinstance(n, _ASSIGNED_SKIP)
            if not rb and level is _NOT:
                continue
            kids = child_nodes(n)
            for c in reversed(kids):
                if level is _LEVEL:
                    lc = _RETURNS if isinstance(c, _LOOPS) else \
                        _NOT if isinstance(c, _NO_LEVEL) else _LEVEL
                else:
                    lc = level
                if rb or lc is not _NOT:
                    stack.append((c, rb, lc))
        self.kept_any = kept          # any(_kept_in_list(st) for st in stmts)
        self.stores = {n.id for n in stores}
        self.plain = {n.id for n in stores if id(n) not in aug}
        self.assigned = assigned      # assigned_in(stmts)
        # returns_or_breaks(stmts)
        self.has_return, self.has_break = has_return, has_return or has_break

    def rebinds(self, name) -> bool:
        return name in self.stores

    def rebinds_plainly(self, name) -> bool:
        return name in self.plain


def _level_nodes(stmts):
    """The nodes of statements at their loop's level: each statement itself,
    whatever it is, and what it contains outside nested loops/functions (a
    ``break`` in an inner loop belongs to that loop), plus the ``return``
    statements inside nested loops (they leave the outer one too).  (An
    iterative walk: the recursive generator was most of a loop's analysis
    before lowering.)"""
    for s in stmts:
        yield s
        stack = [s]
        while stack:
            for child in child_nodes(stack.pop()):
                if isinstance(child, _NO_WALK):
                    if isinstance(child, (ast.For, ast.While)):
                        for m in _preorder(child, skip=()):
                            if isinstance(m, ast.Return):
                                yield m
                    continue
                yield child
                stack.append(child)


_NO_WALK = (ast.For, ast.While, ast.FunctionDef, ast.Lambda)
# (Rebindings' one walk: what assigned_in's walk does not enter, the nested
# loops and functions of _level_nodes, and its three kinds of node)
_ASSIGNED_SKIP = (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef) + COMPREHENSIONS
_LOOPS = (ast.For, ast.While)
_NO_LEVEL = (ast.FunctionDef, ast.Lambda)
_LEVEL, _RETURNS, _NOT = "level", "returns", "not"


def has_node(stmts, node_type):
    """Whether statements contain ``node_type`` at their loop's level
    (:func:`_level_nodes`)."""
    return any(isinstance(n, node_type) for n in _level_nodes(stmts))


def returns_or_breaks(stmts):
    """``(has_node(stmts, ast.Return), has_node(stmts, ast.Return) or
    has_node(stmts, ast.Break))`` from one walk (a loop asks both)."""
    brk = False
    for n in _level_nodes(stmts):
        if isinstance(n, ast.Return):
            return True, True
        if isinstance(n, ast.Break):
            brk = True
    return False, brk


_CALLED_LATER = 1 << 30     # (a closure's read: at any later line)


def function_reads(node):
    """Three facts about the reads of a function, from one walk of it (each
    was a walk of the function of its own):

    - name -> the last line where it is read outside a ``for`` or
      comprehension binding that name (``Lowerer.loads_after``);
    - name -> (first, last) line where it is read, a load or ``x += v``
      (``Lowerer.loads_outside``);
    - name -> the last line that reads it, a load's last line or the line of
      ``x += v`` (``Lowerer.last_loads``); a nested function's read of a
      name of the enclosing scope (a closure) counts as a read at every
      later line, since the function may be called anywhere after its def.

    (A walk from the top: an augmented assignment is reached before its
    target, which counts as a read of the first two.)"""
    free_last: dict = {}
    lines: dict = {}
    last_loads: dict = {}
    aug = set()
    Name, Load, AugAssign = ast.Name, ast.Load, ast.AugAssign
    stack = [(node, frozenset())]
    closure = {}            # id(nested def) -> its own names (parameters, locals)
    outer_of = {}           # id(node) -> the nested def it is in (None: none)
    while stack:
        n, bound = stack.pop()
        inside = outer_of.get(id(n))
        if n is not node and isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            inside = n
            closure[id(n)] = assigned_names(n)
        if isinstance(n, (ast.For, ast.comprehension)):
            bound = bound | {m.id for m in ast.walk(n.target) if isinstance(m, Name)}
        if isinstance(n, AugAssign):
            aug.add(id(n.target))
            if isinstance(n.target, Name):
                t = n.target.id
                last_loads[t] = max(last_loads.get(t, -1), n.lineno)
        elif isinstance(n, Name):
            load = isinstance(n.ctx, Load)
            if load or id(n) in aug:
                ln = n.lineno
                first, last = lines.get(n.id, (ln, ln))
                lines[n.id] = (min(first, ln), max(last, ln))
            if load:
                if n.id not in bound:
                    free_last[n.id] = max(free_last.get(n.id, n.lineno), n.lineno)
                last_loads[n.id] = max(last_loads.get(n.id, -1),
                                       getattr(n, "end_lineno", n.lineno))
                if inside is not None and n.id not in closure[id(inside)]:
                    last_loads[n.id] = _CALLED_LATER
        kids = child_nodes(n)
        if kids:
            if inside is not None:
                for c in kids:
                    outer_of[id(c)] = inside
            stack.extend([(c, bound) for c in kids])
    return free_last, lines, last_loads


def function_reads_of(top, node):
    """:func:`function_reads` of ``node``, kept on the lowerer ``top`` (one
    walk per function however many loops ask)."""
    cache = top.__dict__.setdefault("_function_reads", {})
    hit = cache.get(id(node))
    if hit is None or hit[0] is not node:
        hit = cache[id(node)] = (node, function_reads(node))
    return hit[1]


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
    # (a set: the order of the walk does not matter -- a plain stack, not
    # _preorder's generator; the nodes of the skipped kinds are seen, not
    # entered)
    Name, defs = ast.Name, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    stores = (ast.Store, ast.Del)
    skip = (ast.Lambda,) + defs + COMPREHENSIONS
    stack = list(body)
    while stack:
        n = stack.pop()
        if isinstance(n, Name):
            if isinstance(n.ctx, stores):
                names.add(n.id)
            continue            # (nothing under a Name but its ctx)
        if isinstance(n, skip):
            if isinstance(n, defs):
                names.add(n.name)
            continue
        stack += child_nodes(n)
    return names


def declared_nonlocal(fn_node):
    """Names a ``nonlocal`` statement of the function (not of functions
    nested in it) declares."""
    names = set()
    if isinstance(fn_node, ast.Lambda):
        return names
    for s in fn_node.body:
        for n in _preorder(s, skip=(ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef,
                                    ast.ClassDef) + COMPREHENSIONS):
            if isinstance(n, ast.Nonlocal):
                names.update(n.names)
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


# ---------------------------------------------------------------- arrays kept in a list


# methods that write into their object (ndarray's, and a list's: a list put
# into another list and then grown is seen grown there)
_WRITER_METHODS = ("sort", "partition", "fill", "put", "itemset", "resize",
                   "append", "extend", "insert", "pop", "remove", "clear", "reverse")
# attribute steps that give a view of the same memory (a.T[0] = v writes a)
_VIEW_ATTRS = ("T", "mT", "real", "imag", "flat")


def _root_name(e):
    """The name ``e`` is reached from through subscripts and view attributes
    (``a``, ``a[1:]``, ``a.T[0]``), else None."""
    while True:
        if isinstance(e, ast.Name):
            return e.id
        if isinstance(e, ast.Subscript):
            e = e.value
        elif isinstance(e, ast.Attribute) and e.attr in _VIEW_ATTRS:
            e = e.value
        elif isinstance(e, ast.Starred):
            e = e.value
        else:
            return None


def _kept_in_list(st, is_reference=None):
    """(name, node) for each array a statement puts into a list by reference:
    ``L.append(a)``, ``L.append(a[1:])``, ``L.insert(i, a)``, ``L.extend([a])``,
    ``L += [a]``; ``is_reference(name, item)`` may say an item is a copy
    (``a[0]`` of a 1-d array, a number)."""
    out = []
    for n in _preorder(st, skip=(ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef)
                       + COMPREHENSIONS):
        for it in _list_items(n):
            name = _root_name(it)
            if name is not None and (is_reference is None or is_reference(name, it)):
                out.append((name, n))
    return out


def _list_items(n):
    """The items node ``n`` puts into a list (:func:`_kept_in_list`)."""
    if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute):
        if n.func.attr == "append" and len(n.args) == 1:
            return n.args
        if n.func.attr == "insert" and len(n.args) == 2:
            return n.args[1:]
        if n.func.attr == "extend" and len(n.args) == 1 and \
                isinstance(n.args[0], (ast.List, ast.Tuple)):
            return n.args[0].elts
    elif isinstance(n, ast.AugAssign) and isinstance(n.op, ast.Add) and \
            isinstance(n.value, (ast.List, ast.Tuple)):
        return n.value.elts
    return ()


def _writes_into(st, name, aug_name):
    """Whether the statement may write into the object ``name`` holds:
    ``name[i] = v``, ``name[i] += v``, ``name += v`` (when ``aug_name``: the
    name may hold an array), ``name.sort()``, ``np.copyto(name, v)``,
    ``f(..., out=name)``."""
    for n in _preorder(st, skip=(ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef)
                       + COMPREHENSIONS):
        if isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = n.targets if isinstance(n, ast.Assign) else [n.target]
            for t in targets:
                for e in ast.walk(t):
                    if isinstance(e, ast.Subscript) and _root_name(e) == name:
                        return True
            if isinstance(n, ast.AugAssign) and aug_name and \
                    isinstance(n.target, ast.Name) and n.target.id == name:
                return True
        elif isinstance(n, ast.Call):
            f = n.func
            if isinstance(f, ast.Attribute) and f.attr in _WRITER_METHODS and \
                    _root_name(f.value) == name:
                return True
            if isinstance(f, ast.Attribute) and f.attr in _WRITERS + ("fill_diagonal", "putmask") \
                    and n.args and _root_name(n.args[0]) == name:
                return True
            if any(k.arg == "out" and _root_name(k.value) == name for k in n.keywords):
                return True
    return False


def _events(stmts, path, may_be_array, is_reference, out):
    """The body's events in source order: ("A", name, node) an array put
    into a list, ("W", name, stmt) a write into it, ("R", name, stmt) a
    rebinding; each with the path of blocks it is in (a rebinding holds for
    the events after it in its own block and the blocks inside it)."""
    for k, st in enumerate(stmts):
        if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        blocks = [(f, getattr(st, f)) for f in ("body", "orelse", "finalbody")
                  if isinstance(getattr(st, f, None), list) and getattr(st, f)]
        if isinstance(st, ast.Try):
            blocks += [(f"handler{j}", h.body) for j, h in enumerate(st.handlers)]
        if not blocks:
            for name, node in _kept_in_list(st, is_reference):
                out.append(("A", name, node, path))
            names = {n.id for n in ast.walk(st) if isinstance(n, ast.Name)}
            for name in sorted(names):
                if _writes_into(st, name, may_be_array(name)):
                    out.append(("W", name, st, path))
            if isinstance(st, (ast.Assign, ast.AnnAssign)):
                for t in (st.targets if isinstance(st, ast.Assign) else [st.target]):
                    for e in ast.walk(t):
                        if isinstance(e, ast.Name) and isinstance(e.ctx, ast.Store):
                            out.append(("R", e.id, st, path))
            continue
        header = [getattr(st, f) for f in ("test", "iter", "items") if getattr(st, f, None)]
        for h in header:
            for hn in (h if isinstance(h, list) else [h]):
                for name, node in _kept_in_list(hn, is_reference):
                    out.append(("A", name, node, path))
        for f, block in blocks:
            sub = path + ((id(st), f),)
            if f == "body" and isinstance(st, (ast.For, ast.AsyncFor)):
                for e in ast.walk(st.target):
                    if isinstance(e, ast.Name):
                        out.append(("R", e.id, st, sub))
            _events(block, sub, may_be_array, is_reference, out)
    return out


def kept_then_written(body, may_be_array, is_reference=None, shares=None, kept_any=None):
    """In a loop body: an array put into a list by reference (``rows.append(a)``)
    and written in place while the list still holds it -- later in the same
    iteration, or in a later one before ``a`` is rebound (``a[i] = v`` then
    ``rows.append(a)`` with ``a`` made once before the loop: NumPy's list
    holds the one array n times, all equal to its last value).  Returns
    ``(name, append node, write statement)`` of the first such pair, else
    None.  ``may_be_array(name)``: whether ``name += v`` may be in place;
    ``is_reference``: see :func:`_kept_in_list`.  Pairs inside a nested
    loop's body are that loop's own check."""
    # (no pair without an array put into a list: the events' walks -- one
    # per statement and name -- only where some statement can put one; a
    # statement's whole walk finds every item its events would; ``kept_any``:
    # that answer, from a walk of the same statements made already --
    # Rebindings.kept_any)
    if kept_any is None:
        kept_any = any(_kept_in_list(st) for st in body)
    if not kept_any:
        return None
    ev = _events(body, (), may_be_array, is_reference, [])
    n = len(ev)
    for i, (kind, name, node, _) in enumerate(ev):
        if kind != "A":
            continue
        if shares is not None:
            # a write through another name of the same memory (h = A[1]
            # appended, A[1, 0] += v; A[1] appended, b += v with b a column
            # of A): refused wherever it is in the loop (the alias may hold
            # on some iterations only; see Lowerer.refuse_kept_then_written)
            for kind2, name2, st2, _ in ev:
                if kind2 == "W" and name2 != name and shares(name, name2):
                    return name, node, st2, name2
        barriers = []
        for k in range(1, n + 1):        # the rest of this iteration, then the next
            j = (i + k) % n
            if j == 0:                   # a new iteration: inner blocks are entered anew
                barriers = [b for b in barriers if not b]
            kind2, name2, st2, path2 = ev[j]
            if name2 != name:
                continue
            if kind2 == "R":
                barriers.append(path2)
            elif kind2 == "W" and not any(path2[:len(b)] == b for b in barriers):
                return name, node, st2
    return None


# ---------------------------------------------------------------- lazy generators


def _mutation_in(st):
    """A statement that may write into an array or a container (a subscript
    or attribute store, an augmented assignment, an in-place method or
    writer function, a ufunc's out=): the node, else None."""
    for n in _preorder(st, skip=(ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef)):
        if isinstance(n, ast.AugAssign):
            return n
        if isinstance(n, (ast.Assign, ast.AnnAssign)):
            targets = n.targets if isinstance(n, ast.Assign) else [n.target]
            if any(isinstance(e, (ast.Subscript, ast.Attribute))
                   for t in targets for e in ast.walk(t)):
                return n
        if isinstance(n, ast.Call):
            f = n.func
            name = f.attr if isinstance(f, ast.Attribute) else None
            if name in _WRITER_METHODS or name in _WRITERS or name == "fill_diagonal":
                return n
            if any(k.arg == "out" for k in n.keywords):
                return n
    return None


def _rebinding_of(st, names):
    """A store of one of ``names`` in ``st`` (``a = 5``, ``for a in ...``,
    ``del a``): the node, else None."""
    for n in _preorder(st, skip=(ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef)):
        if isinstance(n, ast.Name) and n.id in names and \
                isinstance(n.ctx, (ast.Store, ast.Del)):
            return n
    return None


_EAGER_MODULES = ("np", "numpy", "scipy", "sp", "math", "cmath", "s2sgrad")
# iterators that read their operands' items one at a time, as lowering's
# loops do: consumed by a loop that writes, each step reads what Python reads
_ITEMWISE_BUILTINS = ("zip", "enumerate", "reversed", "iter")


def maybe_lazy_call(call):
    """A call that may make a lazy iterator (checked when lowering): a bare
    name (a generator function, zip/map/...) or a method or module function
    not of NumPy/SciPy/math."""
    f = call.func
    while isinstance(f, ast.Attribute):
        f = f.value
    return isinstance(f, ast.Name) and (f is call.func or f.id not in _EAGER_MODULES)


def _lazy_reads(gen):
    """The names a lazy iterator reads when it is consumed: a generator
    expression's element, conditions and inner iterables (the first iterable
    is evaluated where it is written), less its own loop variables; for
    ``map``/``filter`` of a lambda, the names its body reads."""
    if isinstance(gen, ast.Call):
        fn = gen.args[0] if gen.args else None
        if not isinstance(fn, ast.Lambda):
            return set()
        own = {a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs}
        return {n.id for n in ast.walk(fn.body)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in own}
    own = {n.id for g in gen.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)}
    parts = [gen.elt] + [c for g in gen.generators for c in g.ifs] + \
        [g.iter for g in gen.generators[1:]]
    return {n.id for p in parts for n in ast.walk(p)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in own}


def late_generators(fn_node):
    """{id(Assign): (name, write node)} for ``g = (... for v in y)`` (or ``g =
    f(...)``, which lowering checks is a lazy iterator: a generator
    function's, zip/map/enumerate/...) whose name is read only after a
    statement that may write into what it reads, or, for a generator
    expression, rebinds a name its body reads: Python runs a generator when
    it is consumed (``y[1] = 0`` before ``sum(g)`` changes the sum),
    lowering where it is written.  One walk per statement: the next read of
    a name and the next write are looked up."""
    out = {}
    simple = (ast.Expr, ast.Return, ast.Assign, ast.AugAssign)
    for n in ast.walk(fn_node):
        for field in ("body", "orelse", "finalbody"):
            stmts = getattr(n, field, None)
            if not isinstance(stmts, list):
                continue
            cands = [i for i, st in enumerate(stmts)
                     if isinstance(st, ast.Assign) and len(st.targets) == 1 and
                     isinstance(st.targets[0], ast.Name) and
                     (isinstance(st.value, ast.GeneratorExp) or
                      isinstance(st.value, ast.Call) and maybe_lazy_call(st.value))]
            if not cands:
                continue
            muts = [_mutation_in(st) for st in stmts]
            reads_at = {}                   # name -> indices of statements naming it
            for j, st in enumerate(stmts):
                for e in ast.walk(st):
                    if isinstance(e, ast.Name):
                        idx = reads_at.setdefault(e.id, [])
                        if not idx or idx[-1] != j:
                            idx.append(j)
            for i in cands:
                st = stmts[i]
                name = st.targets[0].id
                free = _lazy_reads(st.value)
                itemwise = isinstance(st.value, ast.Call) and \
                    isinstance(st.value.func, ast.Name) and \
                    st.value.func.id in _ITEMWISE_BUILTINS
                reads = set(reads_at.get(name, ()))
                for j in range(i + 1, len(stmts)):
                    later = stmts[j]
                    w = muts[j] or (_rebinding_of(later, free) if free else None)
                    # (a statement that consumes it and also writes: a loop
                    # over it writing in its body runs the two interleaved;
                    # zip/enumerate/... consumed by a loop read their items
                    # at each step, as lowering's loops do)
                    if w is not None and (j not in reads or
                                          not isinstance(later, simple) and not itemwise):
                        out[id(st)] = (name, w)
                        break
                    if j in reads:
                        # (only statements naming it matter to the count: the
                        # one consuming it and the next one naming it)
                        idx = reads_at[name]
                        k = idx.index(j) + 1
                        naming = [later] + [stmts[m] for m in idx[k:k + 1]]
                        again = _consumed_again(naming, name)
                        if again is not None:
                            out[id(st)] = (name, again, "again")
                        break
    return out


def _consumed_again(stmts, name):
    """A second read of the generator ``name`` in ``stmts`` (before it is
    rebound), or its one read inside a loop there: the node, else None.
    Python's second pass over a generator finds it empty."""
    seen = 0
    for st in stmts:
        for n in ast.walk(st):
            if isinstance(n, (ast.For, ast.AsyncFor, ast.While)):
                inner = n.body + n.orelse + ([n.test] if isinstance(n, ast.While) else [])
            elif isinstance(n, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
                inner = [c for g in n.generators for c in g.ifs] + \
                    [g.iter for g in n.generators[1:]] + \
                    ([n.key, n.value] if isinstance(n, ast.DictComp) else [n.elt])
            else:
                inner = []
            for part in inner:
                for m in ast.walk(part):
                    if isinstance(m, ast.Name) and m.id == name and isinstance(m.ctx, ast.Load):
                        return m                # read at every step of a loop
        for n in _preorder(st, skip=(ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef)):
            if isinstance(n, ast.Name) and n.id == name:
                if not isinstance(n.ctx, ast.Load):
                    return None
                seen += 1
                if seen > 1:
                    return n
    return None
