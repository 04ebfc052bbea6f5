"""Delete dead arrays: ``del x`` after the last statement that reads ``x``.

Generated code binds every intermediate to a name; a name keeps its array
alive until the function returns, so the cotangents and temporaries of an
unrolled loop (a chain of layers written out through a list of weights)
all stay alive to the end.  :func:`delete_dead` inserts ``del a, b`` after
the last statement of a function body that touches ``a`` and ``b``, for
the names the caller picks (large arrays the function allocated:
``CodeGen._deletable``).

Expects: the source of one generated ``def`` (comments and all), and a
predicate on names.  Guarantees: the same source with ``del`` lines
inserted (nothing else changes, comments stay where they were), where

* a name is deleted only after the last statement of its own body (the
  function's, or a nested ``def``'s) that reads or writes it, never inside
  a loop or a branch (straight-line code: statements of a loop body run
  again) and never after the body's last statement;
* it was bound by an assignment of that body itself, at top level, before
  (so it is bound when ``del`` runs: not only in one branch of an ``if``,
  not only by a loop that may run no iteration), and is not a parameter
  (the caller's value);
* no nested scope (a ``def``, ``lambda`` or comprehension) of that body
  reads it: a local function (a checkpointed loop's step) may run later
  and read it through its closure; default arguments are evaluated where
  the ``def`` stands and count as reads there;
* the output is deterministic: names in the order they first appear in
  the statement.

Deleting a name only drops a reference: memory another value shares (a
view, a buffer written in place under another name) stays alive as long
as that value, so the pass cannot change a result; it frees what only the
name held.
"""
from __future__ import annotations

import ast

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ListComp, ast.SetComp,
           ast.DictComp, ast.GeneratorExp)


def _names_in(node, out: list, nested: set):
    """Names read or written in ``node`` (in order, into ``out``) and those
    read inside nested scopes (into ``nested``)."""
    if isinstance(node, _SCOPES):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = node.args
            for d in list(a.defaults) + [d for d in a.kw_defaults if d is not None]:
                _names_in(d, out, nested)
            for dec in getattr(node, "decorator_list", ()):
                _names_in(dec, out, nested)
            if not isinstance(node, ast.Lambda):
                out.append(node.name)
            # its free names: read in its body, neither parameters nor
            # assigned there (its locals shadow the enclosing names)
            body = node.body if isinstance(node.body, list) else [node.body]
            local = {x.arg for x in a.posonlyargs + a.args + a.kwonlyargs}
            local |= {x.arg for x in (a.vararg, a.kwarg) if x is not None}
            seen, declared = [], []
            for sub in body:
                for n in ast.walk(sub):
                    if type(n) is ast.Name:
                        seen.append(n)
                    elif isinstance(n, (ast.Nonlocal, ast.Global)):
                        declared += n.names
            local |= {n.id for n in seen if type(n.ctx) is not ast.Load}
            nested.update(n.id for n in seen if n.id not in local)
            nested.update(declared)
        else:
            for n in ast.walk(node):
                if isinstance(n, ast.Name):
                    nested.add(n.id)
        return
    if isinstance(node, ast.Name):
        out.append(node.id)
        return
    for child in ast.iter_child_nodes(node):
        _names_in(child, out, nested)


def _bound_here(stmt) -> list:
    """Names a top-level statement certainly binds (assignment targets)."""
    targets = []
    if isinstance(stmt, ast.Assign):
        targets = stmt.targets
    elif isinstance(stmt, (ast.AugAssign, ast.AnnAssign)) and stmt.value is not None:
        targets = [stmt.target]
    out = []
    for t in targets:
        stack = [t]
        while stack:
            x = stack.pop()
            if isinstance(x, ast.Name):
                out.append(x.id)
            elif isinstance(x, (ast.Tuple, ast.List)):
                stack.extend(x.elts)
    return out


def _called_once(body: list, k: int, touched: list):
    """The statement after ``body[k]`` (a ``def``) that is the only one to
    touch the function, passing it straight to a driver that calls it and
    keeps no reference (``checkpoint_backward(tape, step, ...)``); else None."""
    name = body[k].name
    later = [j for j in range(k + 1, len(body)) if name in touched[j]]
    if len(later) != 1:
        return None
    j = later[0]
    uses = [n for n in ast.walk(body[j]) if isinstance(n, ast.Name) and n.id == name]
    calls = [c for c in ast.walk(body[j]) if isinstance(c, ast.Call) and
             isinstance(c.func, ast.Name) and c.func.id in _CALL_ONLY and
             any(isinstance(a, ast.Name) and a.id == name for a in c.args)]
    return j if len(uses) == 1 and len(calls) == 1 else None


# drivers that call the local function they are given and keep no reference
# to it once they return (s2sgrad.schedules)
_CALL_ONLY = {"checkpoint_backward"}


def _plan(body: list, params: set, deletable, inserts: dict):
    """Deletions for one function body (and, recursively, nested defs)."""
    touched, inner = [], []
    for stmt in body:
        names: list = []
        nest: set = set()
        _names_in(stmt, names, nest)
        touched.append(names)
        inner.append(nest)
    nested: set = set()
    for k, stmt in enumerate(body):
        j = _called_once(body, k, touched) if isinstance(stmt, ast.FunctionDef) else None
        if j is None:
            nested |= inner[k]
        else:
            # a local function called once, by a driver that keeps no
            # reference to it: what it reads is read where it is called
            touched[j] = touched[j] + sorted(inner[k] - set(touched[j]))
    last: dict = {}
    for k, names in enumerate(touched):
        for n in names:
            last[n] = k
    bound: set = set()
    # local functions whose default arguments hold values the caller would
    # delete (a checkpointed region's segment function binds its inputs so):
    # dropped after their last use like the values themselves
    holding = {st.name for st in body if isinstance(st, ast.FunctionDef) and any(
        isinstance(d, ast.Name) and d.id not in params and deletable(d.id)
        for d in st.args.defaults + [d for d in st.args.kw_defaults if d is not None])}
    for k, stmt in enumerate(body):
        bound.update(_bound_here(stmt))
        if isinstance(stmt, ast.FunctionDef) and stmt.name in holding:
            bound.add(stmt.name)
        if k == len(body) - 1:
            break
        dead, seen = [], set()
        for n in touched[k]:
            if n in seen or last.get(n) != k:
                continue
            seen.add(n)
            if n in bound and n not in params and n not in nested and \
                    (n in holding or deletable(n)):
                dead.append(n)
        if dead:
            inserts.setdefault(stmt.end_lineno, []).append((stmt.col_offset, dead))
    _plan_loops(body, touched, params, nested, deletable, inserts)
    for sub in _defs(body):
        a = sub.args
        ps = {x.arg for x in a.posonlyargs + a.args + a.kwonlyargs}
        ps |= {x.arg for x in (a.vararg, a.kwarg) if x is not None}
        _plan(sub.body, ps, deletable, inserts)


def _plan_loops(body: list, touched: list, params: set, nested: set, deletable,
                inserts: dict):
    """Deletions inside loop bodies: a step's own temporary, bound afresh by
    each step before anything reads it, kept alive by its name through the
    next step's allocation of its successor (``g = np.outer(a, b)`` then
    ``W_bar[l] += g``: two such arrays at once, where a hand-written step's
    expression temporary is freed at once).  ``del g`` after the body's
    last statement touching it, where

    * every statement of the function touching ``g`` is in this loop's body
      (not its header, ``else``, or anything before or after the loop: no
      value comes in or goes out under the name), and no nested scope reads
      it;
    * the first statement of the body touching it is a plain assignment at
      the body's top level binding it without reading it: each step binds
      it before any read, so the next step never reads the deleted name,
      and a step that reaches the ``del`` (top level, after the binding)
      has bound it.  A ``continue`` or ``break`` before the ``del`` only
      leaves the array to the next binding, as without the pass."""
    total: dict = {}
    for names in touched:
        for n in names:
            total[n] = total.get(n, 0) + 1
    stack = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(node, (ast.For, ast.While)):
            _plan_loop(node.body, total, params, nested, deletable, inserts)
        if isinstance(node, ast.stmt):
            stack.extend(c for c in ast.iter_child_nodes(node) if isinstance(c, ast.stmt))


def _plan_loop(body: list, total: dict, params: set, nested: set, deletable, inserts: dict):
    touched = []
    for stmt in body:
        names: list = []
        _names_in(stmt, names, set())
        touched.append(names)
    count: dict = {}
    first: dict = {}
    last: dict = {}
    for k, names in enumerate(touched):
        for n in names:
            count[n] = count.get(n, 0) + 1
            first.setdefault(n, k)
            last[n] = k
    dels: dict = {}
    for n, c in count.items():
        if c != total.get(n) or n in params or n in nested:
            continue
        st = body[first[n]]
        if not isinstance(st, ast.Assign) or n not in _bound_here(st):
            continue
        reads: list = []
        _names_in(st.value, reads, set())
        for t in st.targets:
            if not isinstance(t, ast.Name):
                _names_in(t, reads, set())
        if n in reads or not deletable(n):
            continue
        dels.setdefault(last[n], []).append(n)
    for k, names in dels.items():
        order = [n for n in dict.fromkeys(touched[k]) if n in names]
        inserts.setdefault(body[k].end_lineno, []).append((body[k].col_offset, order))


def _defs(body: list):
    """The ``def`` statements in ``body`` (in loops and branches too), not
    those nested in other defs."""
    stack = list(reversed(body))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node
            continue
        if isinstance(node, ast.stmt):
            stack.extend(reversed([c for c in ast.iter_child_nodes(node)
                                   if isinstance(c, ast.stmt)]))


def delete_dead(source: str, deletable) -> str:
    """``source`` (one ``def``) with ``del`` lines after last uses; see the
    module docstring."""
    tree = ast.parse(source)
    fn = tree.body[0]
    a = fn.args
    params = {x.arg for x in a.posonlyargs + a.args + a.kwonlyargs}
    inserts: dict = {}
    _plan(fn.body, params, deletable, inserts)
    if not inserts:
        return source
    lines = source.split("\n")
    out = []
    for i, ln in enumerate(lines, start=1):
        out.append(ln)
        # (the deepest first: a loop body's statement and the loop around
        # it may end on one line, and the inner ``del`` belongs to the body)
        for col, names in sorted(inserts.get(i, ()), key=lambda cn: -cn[0]):
            out.append(" " * col + "del " + ", ".join(names))
    return "\n".join(out)
