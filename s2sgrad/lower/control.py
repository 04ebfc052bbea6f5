"""Control flow: ``if``/``elif``/``else`` and conditional expressions
(constant tests resolve while lowering; runtime tests become a ``cond``
equation whose outputs are the names bound differently on the two sides),
``for`` (unrolled over compile-time sequences, a ``for_loop`` region
otherwise), ``while`` (a ``while_loop`` region), and comprehensions (lowered
as the loop they stand for)."""
from __future__ import annotations

import ast
import copy
import dataclasses

import numpy as np

from .. import schedules
from ..errors import S2SGradError, UnsupportedSyntaxError
from ..ir import Block, Const, Eqn, Var
from ..primitives import core as P
from ..primitives.lists import LIST
from .containers import plain_record_class
from .values import (DictVal, Hole, IterVal, LocalFunction, Seq, Static, TreeObj, MISSING,
                     identity_index)
from .syntax import (Rebindings, assigned_in, function_reads_of,
                     kept_then_written, loop_else_as_flag,
                     walk_nodes)
from .aliasing import LIVE_PREFIX, _atoms_in, _replace_atoms
from .functional import is_unstack_call, unstack_rows


def _same_value(x, y):
    """``x`` and ``y`` hold the same values in the same containers."""
    if x is y:
        return True
    if isinstance(x, Seq) and isinstance(y, Seq):
        return x.kind == y.kind and len(x.items) == len(y.items) and \
            all(_same_value(a, b) for a, b in zip(x.items, y.items))
    if isinstance(x, DictVal) and isinstance(y, DictVal):
        return list(x.items) == list(y.items) and \
            all(_same_value(x.items[k], y.items[k]) for k in x.items)
    if isinstance(x, TreeObj) and isinstance(y, TreeObj):
        return x.obj is y.obj and list(x.values) == list(y.values) and \
            all(_same_value(x.values[k], y.values[k]) for k in x.values)
    return False


# A loop over a compile-time range longer than this stays a loop (unrolling
# it would only make the generated code long).
MAX_UNROLL_RANGE = 256

# The refusals of writes the alias model cannot follow across a loop's
# iterations (lower/aliasing.py): a loop over a constant range is unrolled
# instead (stmt_For).
ALIAS_REFUSALS = ("write through an unknown alias", "view rebound in a loop")


class UnrollRetry(Exception):
    """Raised by :meth:`ControlFlowMixin.stmt_For` when a loop over a
    constant range met one of :data:`ALIAS_REFUSALS`: ``lower_function``
    lowers the whole function again from the start with the loop at
    ``key`` unrolled.  (Starting again, rather than undoing the loop's
    lowering where it stands, leaves no trace of the failed attempt in the
    alias model, the lowerers' environments or anything else lowering
    keeps.)"""

    def __init__(self, key, refusal):
        super().__init__(key)
        self.key = key
        self.refusal = refusal


def loop_key(lw, s):
    """The key of the ``for`` statement ``s`` across lowerings of one
    function: its file, line and column."""
    return (lw.src.filename, s.lineno, s.col_offset)


def _makes_functions(stmts):
    """A ``lambda`` or ``def`` in ``stmts`` and a store into a container
    (``fs.append(...)``, ``fs[k] = ...``): a loop body building closures
    that outlive their step (one used only in its step keeps the loop).
    (One walk of the nodes, without their contexts -- ``walk_nodes`` -- that
    stops when both are found: a list of ``ast.walk``'s nodes made for two
    scans was ~1 % of a 1,000-statement loop's compile.)"""
    fn = store = False
    Lambda, FunctionDef, Call, Attribute, Assign, Subscript = \
        ast.Lambda, ast.FunctionDef, ast.Call, ast.Attribute, ast.Assign, ast.Subscript
    for st in stmts:
        for n in walk_nodes(st):
            if isinstance(n, (Lambda, FunctionDef)):
                fn = True
            elif not store and (
                    (isinstance(n, Call) and isinstance(n.func, Attribute) and
                     n.func.attr in ("append", "extend", "insert")) or
                    (isinstance(n, Assign) and any(isinstance(t, Subscript)
                                                   for t in n.targets))):
                store = True
            else:
                continue
            if fn and store:
                return True
    return False


class ControlFlowMixin:
    def stmt_If(self, s):
        test = self.truth(self.expr(s.test), s.test)
        if isinstance(test, Const):
            self.lower_body(s.body if test.value else s.orelse)
            return
        if self.is_type_test(test):
            # if isinstance(reg, float): ... else: reg.items() -- the side
            # for another type may not lower for this one: it refuses when
            # (if ever) the code takes it
            before = {f: self.env.get(f) for f in ("$ret", "$brk", "$cont")}
            self.lower_if(test, lambda: self.lower_body_or_refuse(s.body, s),
                          lambda: self.lower_body_or_refuse(s.orelse, s), s)
            # the statements after it run on one side of the type test only
            flags = self.top.__dict__.setdefault("type_test_flags", set())
            flags.update(v for f, v in self.env.items() if f in before and
                         isinstance(v, Var) and v is not before[f])
            return
        self.lower_if(test, lambda: self.lower_body(s.body), lambda: self.lower_body(s.orelse), s)

    def is_type_test(self, test):
        """``test`` is ``isinstance(x, C)`` (or its negation) of a value whose
        type is known only when the code runs (``py_isinstance``)."""
        e = self._defining_eqn(test) if isinstance(test, Var) else None
        if e is not None and e.prim.name == "logical_not" and isinstance(e.args[0], Var):
            e = self._defining_eqn(e.args[0])
        return e is not None and e.prim.name == "py_isinstance"

    def lower_body_or_refuse(self, body, s):
        """Lower one side of a type test; a refusal there (code written for
        another type of value) is raised when the code runs that side, with
        its message, instead of while compiling."""
        env = dict(self.env)
        callers = list(self._lowerers())[1:]
        envs = [dict(lw.env) for lw in callers]
        n = len(self.em.block.eqns)
        try:
            self.lower_body(body)
        except S2SGradError as exc:
            exc.located(self.src.filename, s.lineno)
            del self.em.block.eqns[n:]
            self.env.clear()
            self.env.update(env)
            for lw, e in zip(callers, envs):
                lw.env.clear()
                lw.env.update(e)
            self.em.call(P.get("raise_error"), Const(type(exc)), Const(str(exc)),
                         where=Const(f"{self.src.filename}:{s.lineno}"))

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
        # the environments of the calls being inlined: a branch of a helper
        # may change what the caller's names hold (lst.append(v) on the
        # caller's list, v[0] = s into its array); each side starts from them
        # as they were, and they are merged like this scope's names
        callers = list(self._lowerers())[1:]
        before_c = [dict(lw.env) for lw in callers]
        blocks, envs, envs_c = [], [], []
        for fn in (then_fn, else_fn):
            self.env = dict(before)
            for lw, b in zip(callers, before_c):
                lw.env.clear()
                lw.env.update(b)
            blk = Block()
            self.in_block(blk, fn)
            blocks.append(blk)
            envs.append(self.env)
            envs_c.append([dict(lw.env) for lw in callers])
        names = []
        for env in envs:
            for k, v in env.items():
                if before.get(k, MISSING) is not v and k not in names:
                    names.append(k)
        merged = dict(before)
        outs, results = [], ([], [])
        for name in names:
            vals = [env.get(name, MISSING) for env in envs]
            if vals[0] is vals[1]:
                merged[name] = vals[0]
                continue
            if name == "$cont" and all(isinstance(v, Const) or v is MISSING for v in vals):
                pass
            self.merge_value(name, vals, blocks, outs, results, merged, node)
        merged_c = []
        for j, (lw, b) in enumerate(zip(callers, before_c)):
            m = dict(b)
            for name in b:
                vals = [ec[j][name] for ec in envs_c]
                if vals[0] is b[name] and vals[1] is b[name]:
                    continue
                # the value this scope's names merged to when they hold the
                # same pair (the helper's lst and the caller's hs: one list)
                mine = [k for k in names
                        if all(env.get(k, MISSING) is c for env, c in zip(envs, vals))]
                if mine:
                    m[name] = merged[mine[0]]
                elif vals[0] is vals[1]:
                    m[name] = vals[0]
                else:
                    self.merge_value(name, vals, blocks, outs, results, m, node)
            merged_c.append(m)
        eqn = Eqn(P.get("cond"), (pred,), {}, tuple(outs),
                  {"then": Block(blocks[0].eqns, [], results[0]),
                   "else": Block(blocks[1].eqns, [], results[1])}, self.loc)
        self.em.block.eqns.append(eqn)
        self.branch_views(outs, results)
        self.env = merged
        for lw, m in zip(callers, merged_c):
            lw.env.clear()
            lw.env.update(m)
        self.branch_choices(pred, outs, results)

    def branch_choices(self, pred, outs, results):
        """After a branch: an output that is on each side another chain of
        views (basic indexing with constant indices, transposes) of one array
        a name still holds (``A = W[0] if c else W.T[1]``) is a view of that
        array chosen at run time (:class:`~s2sgrad.alias.Choice`): a write
        through it reaches the array through the side taken, where it was
        refused as a write into one array or another."""
        from ..alias import Choice, Index, Permute
        model = self.top.alias
        cands = [(o, a0, a1) for o, a0, a1 in zip(outs, results[0], results[1])
                 if isinstance(a0, Var) and isinstance(a1, Var) and a0 is not a1 and
                 (a0 in model.view_of or a1 in model.view_of) and o not in model.view_of]
        if not cands:
            return              # (the common case, without the walks below)
        unknown = model.unknown
        bound = {id(a) for env in self.envs() for v in env.values() for a in _atoms_in(v)}
        for o, a0, a1 in cands:
            if self.from_list_item(a0) or self.from_list_item(a1):
                continue
            chains, roots, checks = [], [], []
            for a in (a0, a1):
                chain, cur, check = [], a, []
                while cur in model.view_of and len(chain) < 16:
                    base, view = model.view_of[cur]
                    if view.shares is not None or not isinstance(view, (Index, Permute)) or (
                            isinstance(view, Index) and
                            not all(isinstance(p_, Const) for p_ in view.parts)):
                        chain = None
                        break
                    if isinstance(view, Index) and view.ints_only() and \
                            not model.known_array(cur):
                        check.append(len(chain))
                    chain.append(view)
                    cur = base
                if chain is None:
                    break
                chains.append(chain[::-1])      # (empty: the array itself)
                checks.append({len(chain) - 1 - i for i in check})
                roots.append(cur)
            if len(chains) != 2 or roots[0] is not roots[1] or id(roots[0]) not in bound:
                continue
            # (the two sides' views are held by nothing else: no list, no
            # other name made on one side only)
            if any(b is not o for a in (a0, a1) for b in unknown.get(a, ())):
                continue
            model.forget_unknown(o, [a0, a1, roots[0]])
            model.add_view(o, roots[0], Choice(pred, chains, checks))

    def branch_views(self, outs, results):
        """After a branch: an output that is on each side a view of the array
        another output (or one array) is on that side, through the same
        transforms (``v = y[::2]`` before ``if c: v += 1``, which writes
        ``y``; ``v = A[1:].T``), is that view of that output: a write through
        either after the branch reaches the other, and a loop carrying both
        keeps the relation.  Where the two sides' views differ, the output
        may share memory with the output of their arrays in a way known at
        run time only (a write through either is refused while the other
        may be read)."""
        from ..alias import Index, Permute
        model = self.top.alias
        pair_out = {}
        for o, a0, a1 in zip(outs, results[0], results[1]):
            pair_out.setdefault((a0, a1), o)
        for o, a0, a1 in zip(outs, results[0], results[1]):
            if o in model.view_of or not (a0 in model.view_of or a1 in model.view_of):
                continue
            steps, b0, b1 = [], a0, a1
            base = None
            while b0 in model.view_of and b1 in model.view_of and len(steps) < 32:
                (n0, v0), (n1, v1) = model.view_of[b0], model.view_of[b1]
                if type(v0) is not type(v1) or v0.key() != v1.key() or \
                        v0.shares is not v1.shares or (steps and not isinstance(v0, (Index, Permute))):
                    break
                steps.append(v0)
                b0, b1 = n0, n1
                cand = b0 if b0 is b1 else pair_out.get((b0, b1))
                if cand is not None and cand is not o:
                    base = cand
                    break
            if base is None:
                r0, r1 = model.root(a0), model.root(a1)
                for ob in (pair_out.get((r0, r1)), pair_out.get((a0, r1)),
                           pair_out.get((r0, a1))):
                    if ob is not None and ob is not o:
                        model.link_unknown(o, ob)
                continue
            # the intermediate views of the output, made after the branch
            cur = base
            for view in reversed(steps[1:]):
                nxt = view.read(self.em, cur, None)
                model.add_view(nxt, cur, view)
                cur = nxt
            model.add_view(o, cur, steps[0])

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
            if vals[0].kind == "list" and any(
                    any(v is x for k, x in merged.items() if k != name) for v in vals):
                # (one of two list objects, at least one also held by another
                # name: a change through this name reaches one of them, known
                # at run time only -- refused by rebind_container)
                self.ambiguous_lists().append(merged[name])
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
        if all(isinstance(v, TreeObj) for v in vals) and vals[0].obj is vals[1].obj and \
                list(vals[0].values) == list(vals[1].values):
            # one object whose array leaves a branch wrote into (m.W[0] = x)
            values = {}
            for k in vals[0].values:
                if vals[0].values[k] is vals[1].values[k]:
                    values[k] = vals[0].values[k]
                    continue
                sub = {}
                self.merge_value(name, [vals[0].values[k], vals[1].values[k]], blocks, outs,
                                 results, sub, node)
                values[k] = sub[name]
            merged[name] = TreeObj(vals[0].obj, values)
            return
        if all(isinstance(v, TreeObj) for v in vals) and type(vals[0].obj) is type(vals[1].obj):
            # two versions of one object made in the function (p.b = v in a
            # branch: corpus12), of one structure: merged leaf by leaf
            made = getattr(self.top, "made_objects", {})
            # (every name holding the same pair holds one merged object: q = p
            # before the branch stays p after it)
            memo = self.top.__dict__.setdefault("tree_merges", {})
            pair = (id(blocks[0]), id(vals[0].obj), id(vals[1].obj))
            if pair in memo:
                merged[name] = memo[pair]
                return
            (a0, td0, build), (a1, td1, _) = (self.tree_leaves(v, node) for v in vals)
            if td0 == td1 and len(a0) == len(a1):
                leaves = []
                for x0, x1 in zip(a0, a1):
                    sub = {}
                    if x0 is x1:
                        sub[name] = x0
                    else:
                        self.merge_value(name, [x0, x1], blocks, outs, results, sub, node)
                    leaves.append(sub[name])
                merged[name] = memo[pair] = build(leaves)
                if all(id(v.obj) in made for v in vals):
                    made[id(merged[name].obj)] = merged[name].obj
                return
        if any(isinstance(v, TreeObj) for v in vals):
            raise self.unsupported(node, f"'{name}' bound to objects of different classes or "
                                         f"structures by the two sides of a branch decided at "
                                         f"run time", "give the object's fields the same kinds "
                                                      "of values on both sides")
        static = [v for v in vals if isinstance(v, (LocalFunction, Static))]
        if static:
            # a function or module bound on one side only: Python would raise
            # NameError if the other side used it, so keep the one that exists
            others = [v for v in vals if v is not MISSING and v not in static]
            if len(static) == 1 and not others:
                merged[name] = static[0]
                return
            raise self.unsupported(node, f"choosing the function '{name}' at run time",
                                   "call each function in its own branch")
        atoms = []
        # two lists (of different lengths: hs.append(v) on one side): one
        # runtime list either way, which later code may append to
        lists = all(isinstance(v, Seq) and v.kind == "list" or
                    isinstance(v, Var) and P.shape_of(v) is LIST for v in vals)
        for blk, v in zip(blocks, vals):
            if v is MISSING:
                atoms.append(Const(None))
            elif isinstance(v, (Seq, DictVal, Static)):
                saved = self.em.block
                self.em.block = blk
                try:
                    atoms.append(self.materialize(v, node, runtime_list=lists))
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
        # o is one branch's array or the other's: a write through o changes
        # that array (known at run time only), so it may not be read later
        model = self.top.alias
        if all(isinstance(a, Var) and model.known_array(a) for a in atoms):
            model.arrays.add(o)
        if any(isinstance(a, Var) and self.from_list_item(a) for a in atoms):
            self.top.list_items.add(o)      # (h = hs[-1] if c else y)
        for a in atoms:
            if isinstance(a, Var):
                model.link_unknown(o, a)
                model.link_unknown(o, model.root(a))
                # ... and holds what a holds (a list a branch appended h to
                # holds h: a later write into h changes it)
                model.inherit_unknown(o, a)
        if P.shape_of(o) is LIST and (
                any(self.list_origin().get(a, o) is None for a in atoms if isinstance(a, Var))
                or any(any(v is x for k, x in merged.items() if k != name) for v in vals)):
            # one of two list objects of which one is also held by another
            # name (``other = hs if c else gs``): a change through ``o``
            # reaches one of them, known at run time only -- refused
            # (versions of one list, ``if c: hs.append(h)``, are that list)
            self.list_origin()[o] = None
        own = self.own_lists()
        if P.shape_of(o) is LIST and self.list_origin().get(o, o) is not None and \
                all(isinstance(a, Var) and a in own for a in atoms):
            own[o] = own[atoms[0]] | own[atoms[1]]      # (if c: hs[i] += v)
        if all(isinstance(a, Var) for a in atoms) and \
                model.first_version(atoms[0]) is model.first_version(atoms[1]):
            # versions of one array (x *= 2 on one side): o is its memory,
            # with its strides (AliasModel.first_version)
            model.older.setdefault(o, model.first_version(atoms[0]))

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
        saved = {t: self.env.get(t, MISSING) for t in targets}
        saved_loc = self.loc
        self.lower_comprehension(stmts, targets, node)
        self.loc = self.em.loc = saved_loc
        result = self.env.pop(name)
        for t, v in saved.items():
            if v is MISSING:
                self.env.pop(t, None)
            else:
                self.env[t] = v
        return result

    expr_GeneratorExp = expr_ListComp

    def lower_comprehension(self, stmts, targets, node=None):
        """Lower a comprehension's loop; a function made in it (``[lambda z:
        z ** k for k in ks]``) reads its loop variables as they are at the
        end, as Python's comprehension scope keeps them, not the function's
        names of the same name (restored after the comprehension).  In a
        generator expression, what such a function reads depends on when the
        generator is consumed (lowering builds it where it is written): refused."""
        top = self.top
        if not hasattr(top, "comp_functions"):
            top.comp_functions = []
        made = []
        top.comp_functions.append((self, made))
        try:
            self.lower_body(stmts)
        finally:
            top.comp_functions.pop()
        for fn in made:
            if isinstance(node, ast.GeneratorExp):
                params = {a.arg for a in fn.node.args.posonlyargs + fn.node.args.args +
                          fn.node.args.kwonlyargs}
                body = fn.node.body if isinstance(fn.node.body, list) else [fn.node.body]
                late = sorted({n.id for b in body for n in ast.walk(b)
                               if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
                               and n.id in targets and n.id not in params})
                if late:
                    raise self.error(node, f"a function made in a generator expression reads "
                                           f"its loop variable '{late[0]}' when it is called, "
                                           f"which depends on when the generator is consumed; "
                                           f"use a list comprehension, or bind it as a default "
                                           f"(lambda z, {late[0]}={late[0]}: ...)",
                                     construct="closure in a generator expression")
            for t in targets:
                if t in self.env:
                    fn.scope.setdefault(t, self.env[t])      # (an inner comprehension's first)

    def expr_DictComp(self, node):
        """``{k: v for t in it}``: the loop ``_comp = {}; for t in it: _comp[k] = v``
        over a sequence known while compiling (a dict's keys must be known)."""
        self.top.comp_count = getattr(self.top, "comp_count", 0) + 1
        name = f"_comp{self.top.comp_count}"
        store = ast.Subscript(value=ast.Name(id=name, ctx=ast.Load()), slice=node.key,
                              ctx=ast.Store())
        body = [ast.Assign(targets=[store], value=node.value)]
        for gen in reversed(node.generators):
            for cond in reversed(gen.ifs):
                body = [ast.If(test=cond, body=body, orelse=[])]
            it = gen.iter
            if gen is node.generators[0]:
                it = self.constant_range(it) or it      # range(3): unrolled (known keys)
            body = [ast.For(target=gen.target, iter=it, body=body, orelse=[])]
        stmts = [ast.Assign(targets=[ast.Name(id=name, ctx=ast.Store())],
                            value=ast.Dict(keys=[], values=[]))] + body
        for st in stmts:
            for n in ast.walk(st):
                if "lineno" in n._attributes and not hasattr(n, "lineno"):
                    ast.copy_location(n, node)
        targets = [n.id for gen in node.generators for n in ast.walk(gen.target)
                   if isinstance(n, ast.Name)]
        saved = {t: self.env.get(t, MISSING) for t in targets}
        saved_loc = self.loc
        self.lower_comprehension(stmts, targets)
        self.loc = self.em.loc = saved_loc
        result = self.env.pop(name)
        for t, v in saved.items():
            if v is MISSING:
                self.env.pop(t, None)
            else:
                self.env[t] = v
        return result

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

    def carried_names(self, loop, assigned=None):
        """Names a loop must carry: assigned in its body and either bound
        before the loop or read somewhere outside it.  ``assigned``: the
        body's :func:`assigned_in`, if known."""
        if assigned is None:
            assigned = assigned_in(loop.body)
        # (this lowerer's own function: a helper being inlined reads its
        # names in its own source, not in the function being compiled)
        outside = self.loads_outside(loop)
        names = [n for n in assigned if n in self.env or n in outside]
        if isinstance(loop, ast.For):
            # the loop's own target read after it (its last item, as in Python)
            after = self.loads_after(loop)
            names += [n for n in self.target_names(loop.target)
                      if n not in names and n in after]
        return names

    @staticmethod
    def target_names(target):
        return [n.id for n in ast.walk(target) if isinstance(n, ast.Name)] \
            if target is not None else []

    def loads_after(self, loop):
        """Names read after ``loop`` (by line) other than inside a later
        ``for`` or comprehension that binds the name itself (``for i in
        ...`` twice: the second loop's ``i`` is its own)."""
        hi = loop.end_lineno
        return {n for n, last in self._free_load_last().items() if last > hi}

    def _free_load_last(self):
        """name -> last line where the function reads it outside a ``for``
        or comprehension binding that name: one walk of the function, kept
        (a walk per loop was quadratic in the number of loops; the walk is
        :func:`~s2sgrad.lower.syntax.function_reads`, shared with
        :meth:`_read_lines` and ``last_loads``)."""
        return function_reads_of(self, self.src.node)[0]

    def loads_outside(self, loop):
        """Names the function reads (a load, or ``x += v``) outside ``loop``'s lines."""
        lo, hi = loop.lineno, loop.end_lineno
        return {n for n, (first, last) in self._read_lines().items() if first < lo or last > hi}

    def _read_lines(self):
        """name -> (first, last) line where the function reads it: found in
        one walk of the function and kept (once per loop it was a walk of
        the function per assigned name: cubic in the number of loops)."""
        return function_reads_of(self, self.src.node)[1]

    def loop_else(self, s):
        """``for``/``while`` with an ``else``: a flag set before each ``break``."""
        self.top.loop_else_count = getattr(self.top, "loop_else_count", 0) + 1
        self.lower_body(loop_else_as_flag(s, f"_no_break{self.top.loop_else_count}"))

    def stmt_For(self, s):
        if s.orelse:
            return self.loop_else(s)
        it = s.iter
        target = s.target
        # for t in s2sgrad.checkpointed(iterable, ...): a runtime loop marked
        # for checkpointing (s2sgrad.remat)
        schedule, it = self.checkpoint_mark(it)
        if schedule is None and _makes_functions(s.body):
            # a list of closures built in a loop (fs.append(lambda z, k=k: z ** k)):
            # functions are compile-time values, so a range of constant bounds
            # is unrolled as a tuple of them would be
            it = self.constant_range(it, MAX_UNROLL_RANGE) or it
        # for x in <compile-time sequence>: unrolled while lowering (not a
        # long range, nor a marked one: they stay loops)
        seq = self.static_iterable(it)
        v = self._iter_value
        if seq is not None and not (isinstance(v, Const) and isinstance(v.value, range) and (
                schedule is not None or len(seq) > MAX_UNROLL_RANGE)):
            self._iter_value = None
            return self.unrolled_for(s, seq)
        retry = self.top.__dict__.get("unroll_loops")
        if schedule is None and retry is not None and loop_key(self, s) in retry:
            # (a lowering after an alias refusal of this loop: see below)
            items = self.constant_range(it, MAX_UNROLL_RANGE)
            if items is not None:
                self._iter_value = None
                return self.unrolled_for(s, [Const(e.value) for e in items.elts])
        held = len(self._held_iterables)
        iterable, item_of = self.loop_iterable(it)
        try:
            self.runtime_loop(s, target, iterable, item_of, None)
        except S2SGradError as exc:
            if schedule is not None or retry is None or \
                    getattr(exc, "construct", None) not in ALIAS_REFUSALS:
                raise
            if self.constant_range(it, MAX_UNROLL_RANGE) is None:
                # range(n) with n a NumPy int passed as data: the API may
                # compile again with n a constant, keyed by its value (as a
                # Python int is; P.NeedsStatic), where this loop is unrolled
                self._range_bounds_wanted_static(it)
                raise
            # A write the alias model cannot follow from one iteration to
            # the next (A = W; for ...: A = A[::-1]; A[0] += x writes into W
            # through a view that changes with the iteration): a range of
            # constant bounds (a Python int argument is one) is unrolled
            # instead, where each step's views are known exactly -- in a new
            # lowering of the whole function (UnrollRetry)
            raise UnrollRetry(loop_key(self, s), exc) from None
        for key in self._held_iterables[held:]:
            self.env.pop(key, None)
        del self._held_iterables[held:]
        if schedule is not None:
            self.em.block.eqns[-1].params["checkpoint"] = schedule

    def constant_range(self, it, limit=None):
        """``range(a, b, c)`` of constant ints (the builtin) as the
        ``ast.Tuple`` of its items (at most ``limit`` of them), else None."""
        if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and
                it.func.id == "range" and not it.keywords and
                getattr(self.static_callee(it.func), "obj", None) is range):
            return None
        bounds = [self.expr(a) for a in it.args]
        # (a NumPy int made static: range() iterates Python ints for it too)
        if not all(isinstance(b, Const) and isinstance(b.value, (int, np.integer)) and
                   not isinstance(b.value, (bool, np.bool_)) for b in bounds):
            return None
        items = range(*[int(b.value) for b in bounds])
        if limit is not None and len(items) > limit:
            return None
        return ast.copy_location(ast.Tuple(elts=[ast.Constant(value=k) for k in items],
                                           ctx=ast.Load()), it)

    def _range_bounds_wanted_static(self, it):
        """Note (``P.needs_static``) the parameters passed as data that are
        bounds of ``range(...)`` (the builtin) in ``it``."""
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and \
                it.func.id == "range" and not it.keywords and \
                getattr(self.static_callee(it.func), "obj", None) is range:
            for a in it.args:
                if isinstance(a, ast.Name):
                    P.needs_static(self.env.get(a.id))

    def checkpoint_mark(self, it):
        """``s2sgrad.checkpointed(iterable, snapshots=..., budget=...)``: its
        schedule and the iterable (else None and ``it``)."""
        if not isinstance(it, ast.Call) or not it.args:
            return None, it
        callee = self.static_callee(it.func)
        if not (isinstance(callee, Static) and callee.obj is schedules.checkpointed):
            return None, it
        kw = {}
        for k in it.keywords:
            v = self.expr(k.value)
            if k.arg not in ("snapshots", "budget") or not isinstance(v, Const):
                raise self.unsupported(it, f"checkpointed(..., {k.arg}=<computed value>)",
                                       "pass snapshots= or budget= as a constant")
            kw[k.arg] = v.value
        if len(it.args) != 1:
            raise self.unsupported(it, "checkpointed() with more than one iterable",
                                   "write checkpointed(range(T), snapshots=s)")
        try:
            return schedules.schedule_of(**kw), it.args[0]
        except (TypeError, ValueError) as exc:
            raise self.error(it, str(exc), cls=S2SGradError) from None

    def static_iterable(self, it):
        # for r in np.unstack(x, axis=k): the rows of np.moveaxis(x, k, 0)
        v = self._iter_value = unstack_rows(self, it) if is_unstack_call(self, it) else \
            self.expr(it)
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
        # the items stay in the environment while the loop is unrolled, so a
        # write through one item (for row in (y[:2], y[2:]): row *= 2) reaches
        # the others' new versions (see aliasing.write_back)
        self.top.unroll_count = getattr(self.top, "unroll_count", 0) + 1
        keys = [f"{LIVE_PREFIX}{self.top.unroll_count}_{k}" for k in range(len(items))]
        self.env.update(zip(keys, items))

        def run(k):
            if k == len(items):
                return
            self.env["$cont"] = Const(False)
            self.bind(s.target, self.env.pop(keys[k]))
            self.lower_body(stmts)
            self.env.pop("$cont", None)
            # left the loop: a break or a return (Const(True), a Var, or Const(False))
            flag = self.pending_flag()
            if isinstance(flag, Const) and flag.value:
                return
            if isinstance(flag, Var):
                pred = self.apply(P.get("logical_not"), [flag], {}, s)
                known = [f for f in ("$brk", "$ret") if isinstance(self.env.get(f), Var)]

                def next_step():
                    # on this side the loop did not break nor return: the
                    # next step is lowered as straight code (with the flag a
                    # Var its body went under another if, whose join left
                    # the carries one branch's view or the other's: refused
                    # writes)
                    for f in known:
                        self.env[f] = Const(False)
                    run(k + 1)

                self.lower_if(pred, next_step, lambda: None, s)
                return
            run(k + 1)

        run(0)
        for key in keys:
            self.env.pop(key, None)
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
            return base, identity_index
        if isinstance(base, Const) and isinstance(base.value, range):
            return base, identity_index
        if isinstance(base, IterVal):
            rng = self.em.call(P.get("range"), base.length)
            # zip(A, A[1:]), enumerate(A[1:]), reversed(A[:2]): the arrays
            # read are held like a plain loop's (a write through one item
            # reaches the items read later, from any of them)
            for b in base.bases:
                self._hold_iterated(b)
            return rng, base.item
        base = self.materialize(base, it)
        base = self.dict_keys_of(base, it)
        rng = self.em.call(P.get("range"), self.apply(P.get("len"), [base], {}, it))
        self._hold_iterated(base)
        return rng, (lambda i: self.getitem(base, i))

    def _hold_iterated(self, base):
        if isinstance(base, Var) and not any(v is base for v in self.env.values()):
            # an array no name holds (for c in y.T: c *= 2): held under a
            # hidden name for the loop's duration, so a write through an
            # item is carried like a write into a named array (it reaches y
            # through the view, and the next items are read from the new
            # version; see aliasing.write_back)
            self.top.unroll_count = getattr(self.top, "unroll_count", 0) + 1
            key = f"{LIVE_PREFIX}it{self.top.unroll_count}"
            self.env[key] = base
            self._held_iterables.append(key)

    def _is_range(self, v):
        # (from the end: a loop's range is made just before it; each value
        # has one defining equation, so the first found is the one -- a scan
        # from the top per loop was quadratic in the number of loops)
        for e in reversed(self.em.block.eqns):
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
        return self.getitem(self.dict_keys_of(v, node), i)

    def dict_keys_of(self, v, node):
        """Iterating a dict passed as data (``for k in opts``) iterates its
        keys, known only when the code runs: the list of them, else ``v``."""
        data_type = self.top.arg_types.get(v) if isinstance(v, Var) else None
        if data_type is not None and issubclass(data_type, dict):
            # (list(d) iterates as Python's for does, a subclass's __iter__ too)
            return self.apply(P.get("dict_keys"), [v], {}, node)
        if data_type is None and isinstance(v, Var) and v in self.top.seq_items:
            # an item of a container passed as data (c = cfg["coef"]) may be a
            # dict when the code runs: runtime.dict_keys gives its keys, any
            # other value as it is (an array: may share memory with anything)
            out = self.apply(P.get("dict_keys"), [v], {}, node)
            if isinstance(out, Var):
                self.top.seq_items.add(out)
                self.top.list_items.add(out)
            return out
        return v

    def runtime_loop(self, s, target, iterable, item_of, test):
        """Lower a loop that stays a loop: ``for`` (iterable given) or
        ``while`` (``test`` given).  A name the body changes only through an
        alias or a view (``for row in A: row[0] = 1`` changes ``A``) is found
        while lowering the body; the loop is then lowered again carrying it."""
        hidden = self.name_container_views()
        hidden += self.name_view_bases()
        mark = len(self.em.block.eqns)
        env0 = dict(self.env)
        # (the calls being inlined: a write in the body reaches their names
        # too, which a second lowering must find as they were)
        callers = list(self._lowerers())[1:]
        envs0 = [dict(lw.env) for lw in callers]
        extra = []
        while True:
            leaked = self._runtime_loop(s, target, iterable, item_of, test, extra)
            if not leaked:
                break
            del self.em.block.eqns[mark:]
            self.env = dict(env0)
            for lw, e0 in zip(callers, envs0):
                lw.env.clear()
                lw.env.update(e0)
            extra += [n for n in leaked if n not in extra]
        for n in getattr(self, "nonlocal_names", ()):
            if n in self.env:               # a nonlocal name the loop carried: its result
                self.write_nonlocal(n, self.env[n])
        if callers:
            # a write in the body that reached a caller's name the loop does
            # not carry (a second view of the array a helper writes through)
            # would leave it bound to a value of the body: refused
            known = {id(o) for e in self.em.block.eqns[mark:] for o in e.outs}
            known.update(id(a) for e0 in envs0 for v in e0.values() for a in _atoms_in(v))
            for lw, e0 in zip(callers, envs0):
                for k, v in lw.env.items():
                    if e0.get(k) is not v and any(id(a) not in known for a in _atoms_in(v)):
                        raise self.error(s, f"this loop of an inlined function writes into "
                                            f"an array that '{k}' of the calling function "
                                            f"also sees (a view of it), which s2sgrad does "
                                            f"not follow out of the loop; return the new "
                                            f"value and assign it in the caller, or take "
                                            f"the view after the call", cls=S2SGradError,
                                         construct="write reaching the caller in a loop")
        for k in hidden:
            self.env.pop(k, None)

    def dict_carry_slots(self, s, names):
        """{name: [(key, slot name)]} for the dicts among a loop's carries
        that are carried entry by entry: a dict of constant keys (values
        arrays or numbers) held by this one name, whose entries the body only
        rebinds with ``d[key] = value`` (no new keys -- checked after the
        body --, no ``d[k] += v``, ``d[k][i] = v``, method calls, rebinding
        ``d`` or taking another name for it).  Other dicts stay refused
        (:meth:`refuse_dict_carry`)."""
        out = {}
        for n in names:
            v = self.env.get(n)
            if not (isinstance(v, DictVal) and v.items and
                    all(isinstance(x, (Var, Const)) for x in v.items.values()) and
                    sum(_held(w, v) for env in self.envs() for w in env.values()) == 1 and
                    _entries_only_rebound(s.body, n)):
                continue
            self.top.dict_slot_count = getattr(self.top, "dict_slot_count", 0) + 1
            out[n] = [(k, f"$dict{self.top.dict_slot_count}_{j} {n}")
                      for j, k in enumerate(v.items)]
        return out

    def dicts_of_slots(self, dict_slots, pop=False):
        """Bind each carried dict to a DictVal of its slots' current values
        (``pop``: and drop the slot names, after the loop)."""
        for n, slots in dict_slots.items():
            self.env[n] = DictVal({k: self.env[slot] for k, slot in slots})
            if pop:
                for _, slot in slots:
                    self.env.pop(slot, None)

    def object_carry_slots(self, s, names):
        """{name: ([(field, slot name)], template)} for the dataclass
        instances among a loop's carries that are carried field by field:
        made in the function (``set_field`` may change them), held by this
        one name (not inside containers, other objects or function values);
        the fields holding arrays or numbers are carries, the others must
        stay as they are.  Others stay refused (:meth:`refuse_dict_carry`)."""
        from .containers import _holds_within
        out = {}
        made = getattr(self.top, "made_objects", {})
        for n in names:
            v = self.env.get(n)
            if not (isinstance(v, TreeObj) and id(v.obj) in made and
                    (dataclasses.is_dataclass(v.obj) or plain_record_class(type(v.obj)))):
                continue
            held = sum(1 for env in self.envs() for w in env.values()
                       if isinstance(w, TreeObj) and w.obj is v.obj)
            if held != 1 or any(_holds_within(w, v.obj) or
                                (isinstance(w, (Seq, DictVal)) and _held_obj(w, v.obj))
                                for env in self.envs() for w in env.values()):
                continue
            fields = _carried_fields(v.obj)
            mine = {id(a) for a in self.object_slot_values(v, fields) if isinstance(a, Var)}
            if any(id(a) in mine for env in self.envs() for w in env.values()
                   if not (isinstance(w, TreeObj) and w.obj is v.obj) for a in _atoms_in(w)):
                continue        # a field's array has other names (written through them?)
            self.top.obj_slot_count = getattr(self.top, "obj_slot_count", 0) + 1
            k = self.top.obj_slot_count
            out[n] = ([(f, f"$obj{k}_{f} {n}") for f in fields], v.obj)
        return out

    def object_slot_values(self, v, fields):
        """The values of the carried ``fields`` of the TreeObj ``v``."""
        out = []
        for f in fields:
            x = getattr(v.obj, f)
            out.append(v.values[x.id] if isinstance(x, Hole) else Const(x))
        return out

    def objects_of_slots(self, obj_slots, pop=False):
        """Bind each carried object to an instance of its slots' current
        values (``pop``: and drop the slot names, after the loop)."""
        made = self.top.__dict__.setdefault("made_objects", {})
        for n, (slots, template) in obj_slots.items():
            obj = copy.copy(template)
            values = {}
            for f, slot in slots:
                h = Hole()
                object.__setattr__(obj, f, h)
                values[h.id] = self.env[slot]
            made[id(obj)] = obj
            self.env[n] = TreeObj(obj, values)
            if pop:
                for _, slot in slots:
                    self.env.pop(slot, None)

    def refuse_dict_carry(self, name, v, s):
        """A dict (or an object) that a loop run at run time changes: its
        items are compile-time entries, which a loop whose iterations are
        not unrolled cannot change.  Refused at the loop, naming the dict
        (the general message was 'passing a dict to a NumPy function')."""
        def holds(v):
            if isinstance(v, (DictVal, TreeObj)):
                return v
            if isinstance(v, Seq):
                return next((h for h in map(holds, v.items) if h is not None), None)
            return None
        found = holds(v)
        del holds       # (a recursive closure: a reference cycle otherwise)
        if found is None:
            return
        kind = "dict" if isinstance(found, DictVal) else f"{type(found.obj).__name__} object"
        who = f"'{name}'" if not name.startswith("$") else "a value"
        where = f"the {kind} {who}" if found is v else f"{who}, which holds a {kind},"
        raise self.error(s, f"{where} is changed in this loop (an entry stored, rebound or "
                            f"written into), and a loop that runs at run time carries "
                            f"arrays, numbers and lists, not {kind}s: keep the values in a "
                            f"list (vals.append(v)) or in separate names during the loop and "
                            f"build the {kind} after it, or loop over a tuple literal (unrolled "
                            f"while compiling)", cls=UnsupportedSyntaxError,
                         construct=f"{kind} changed in a loop")

    def _runtime_loop(self, s, target, iterable, item_of, test, extra):
        is_while = test is not None
        # (asked for every carry, before the body is lowered: one walk, which
        # also gives the names the body assigns)
        rb = Rebindings(s.body)
        names = self.carried_names(s, rb.assigned)
        names += [n for n in extra if n not in names]
        # a dict of constant keys whose entries the body only rebinds
        # (d["p"] = np.sin(d["p"])): one carry per entry
        dict_slots = self.dict_carry_slots(s, names)
        for n, slots in dict_slots.items():
            names.remove(n)
            for k, slot in slots:
                self.env[slot] = self.env[n].items[k]
                names.append(slot)
        # a dataclass instance made in the function, held by this name only,
        # whose fields the body assigns (st.m = ..., st.t += 1): one carry per
        # array or number field, the object rebuilt from them in the body
        obj_slots = self.object_carry_slots(s, names)
        for n, (slots, _) in obj_slots.items():
            names.remove(n)
            for (f, slot), a in zip(slots, self.object_slot_values(self.env[n],
                                                                   [f for f, _ in slots])):
                self.env[slot] = a
                names.append(slot)
        # a list literal bound to several names (other = hs) is one list: it
        # becomes one runtime list before the loop, so that the names stay
        # one carry (below) and an append through either grows both
        # (or held by a container: rows = [hs, hs])
        for n in names:
            v = self.env.get(n)
            if isinstance(v, Seq) and v.kind == "list" and \
                    sum(_held(w, v) for env in self.envs() for w in env.values()) > 1:
                self.rebind_container(n, v, self.materialize(v, s, runtime_list=True))
        # Names of one array (b = a) the body only writes into (never rebinds)
        # stay one array in the loop: one carry, the others bound to it.
        loop_targets = {n.id for n in ast.walk(target) if isinstance(n, ast.Name)} \
            if target is not None else set()
        aliases = {}
        first = {}
        def rebound(n, v):
            if n in loop_targets:
                return True                 # (the loop binds its target each time)
            # x += v keeps an array an array (in place): not a rebinding
            if isinstance(v, Var) and self.top.alias.known_array(v):
                return rb.rebinds_plainly(n)
            return rb.rebinds(n)

        for n in names:
            v = self.env.get(n)
            if isinstance(v, Var) and not n.startswith("$") and not rebound(n, v):
                first.setdefault(id(v), n)
        for m, v in self.env.items():
            if isinstance(v, Var) and id(v) in first and first[id(v)] != m \
                    and not m.startswith("$") and not rebound(m, v) \
                    and m not in loop_targets:
                aliases[m] = first[id(v)]
        names = [n for n in names if n not in aliases]
        has_return, has_break = rb.has_return, rb.has_break    # (returns_or_breaks)
        if has_return:
            names += [n for n in ("$ret", "$retv") if n not in names]
        saved_flags = {f: self.env.pop(f) for f in ("$brk", "$cont") if f in self.env}
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
            self.refuse_dict_carry(n, v, s)
            inits.append(self.materialize(v, s, runtime_list=True)
                         if not isinstance(v, (Var, Const)) else v)
        # A carry may change shape from one iteration to the next (acc = 0.0,
        # then an array): its token is fresh, never the initial value's.
        params = [Var(n.lstrip("$"), shape=LIST if P.shape_of(a) is LIST else P.fresh_shape())
                  for n, a in zip(names, inits)]
        for p_, a in zip(params, inits):
            if isinstance(a, Var) and a in self.list_origin():
                self.list_origin()[p_] = self.list_origin()[a]     # (None stays None)
        self.own_lists_into_loop(params, inits)
        outer_env = self.env
        cond_block = None
        # arrays carried in place (never rebound: z += v on an array, z[i] = v)
        # are the same arrays as the initial values: containers holding
        # them (accs = [z, ...]) hold the carry in the loop and the output
        # after it
        self.refuse_unknown_in_place(s, names, inits, rb)
        self.refuse_kept_then_written(s, rb.kept_any)
        same = {a: p_ for n, a, p_ in zip(names, inits, params)
                if isinstance(a, Var) and (not n.startswith("$") or n.startswith(LIVE_PREFIX))
                and not rebound(n, a)}

        def hold_carries(carries):
            new_of, memo = {a: carries[p_] for a, p_ in same.items()}, {}
            for k, v in list(self.env.items()):
                if isinstance(v, (Seq, DictVal, TreeObj)) and k not in names:
                    self.env[k] = _replace_atoms(v, new_of, memo)

        if is_while:
            cparams = [Var(p_.hint, shape=p_.shape) for p_ in params]
            self.env = dict(outer_env)
            self.env.update(zip(names, cparams))
            for m, n in aliases.items():
                self.env[m] = self.env[n]
            hold_carries(dict(zip(params, cparams)))
            self.dicts_of_slots(dict_slots)
            self.objects_of_slots(obj_slots)
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
        hold_carries({p_: p_ for p_ in params})
        self.dicts_of_slots(dict_slots)
        self.objects_of_slots(obj_slots)
        # `for row in A:` with A written into (never rebound) in the body: the
        # rows are read from A's current version, as NumPy's iteration does
        for m, n in aliases.items():
            self.env[m] = self.env[n]
        saved_alias = self.iter_alias
        self.iter_alias = dict(saved_alias)
        in_place = [(a, p_) for n, a, p_ in zip(names, inits, params)
                    if isinstance(a, Var) and not rb.rebinds(n) and n not in loop_targets
                    and (not n.startswith("$") or n.startswith(LIVE_PREFIX))]
        for a, p_ in in_place:
            self.iter_alias[id(a)] = p_
        # the carries keep their places in the view graph (s2sgrad.alias): a
        # view carried in (v = y[1:] before the loop) still writes into its
        # base, and the views of an array taken before the loop see the writes
        assumed = self.carry_views(names, inits, params, s.body, rb)
        self.env["$cont"] = Const(False)
        if has_break:
            self.env["$brk"] = Const(False)
        self.loop_depth += 1
        written = self.top.__dict__.setdefault("written_in_place", set())
        # (fields holding an array when the loop starts: a field holding a
        # Python number has no other name, and ``st.k += 1`` on it is decided
        # when the code runs, as for a name: in_place_update)
        slot_params = {p_: n for n, p_, a in zip(names, params, inits)
                       if n.startswith("$obj") and isinstance(a, Var)}
        written -= set(slot_params)
        layout_roots = self.top.__dict__.setdefault("layout_roots", [])
        layout_mark = len(layout_roots)

        def lower_body():
            if not is_while:
                nonlocal index
                index = Var(target.id if isinstance(target, ast.Name) and item_of is identity_index
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
        # (a container holding a carry's current version holds the carry)
        back = {self.env.get(n, p_): a for n, a, p_ in zip(names, inits, params) if a in same}
        back.update((p_, a) for a, p_ in same.items())
        back.update((v, outer_env[k]) for k, v in self.env.items()      # (not carried yet)
                    if k.startswith(LIVE_PREFIX) and k not in names and isinstance(v, Var) and
                    isinstance(outer_env.get(k), Var))
        for n, slots in dict_slots.items():
            v = self.env.get(n)
            if not (isinstance(v, DictVal) and list(v.items) == [k for k, _ in slots] and
                    all(isinstance(x, (Var, Const)) for x in v.items.values())):
                self.refuse_dict_carry(n, outer_env[n], s)
            for k, slot in slots:
                self.env[slot] = v.items[k]
        for p_ in slot_params:
            if p_ in written:
                # (one carry per field: a write into the field's array would
                # also have to reach its other names in the loop)
                field, owner = slot_params[p_].split("_", 1)[1].split(" ", 1)
                cls = type(obj_slots[owner][1]).__name__
                raise self.error(s, f"the {cls} object '{owner}' is changed in this loop by "
                                    f"writing in place into its array field '{field}', which "
                                    f"s2sgrad carries as its own value; rebind the field "
                                    f"instead ({owner}.{field} = {owner}.{field} + v)",
                                 cls=UnsupportedSyntaxError,
                                 construct="in-place write into a field of an object a loop "
                                           "carries")
        for n, (slots, template) in obj_slots.items():
            v = self.env.get(n)
            fields = [f for f, _ in slots]
            if not (isinstance(v, TreeObj) and type(v.obj) is type(template) and
                    all(isinstance(getattr(v.obj, f), Hole) or
                        type(getattr(v.obj, f)) in (int, float) for f in fields) and
                    all(getattr(v.obj, f) is getattr(template, f)
                        for f in _record_fields(template) if f not in fields) and
                    _record_fields(v.obj) == _record_fields(template)):
                self.refuse_dict_carry(n, outer_env[n], s)
            for (f, slot), a in zip(slots, self.object_slot_values(v, fields)):
                self.env[slot] = a
        leaked = [n for n, v in self.env.items()
                  if (not n.startswith("$") or n.startswith(LIVE_PREFIX)) and n not in names and n not in targets
                  and n not in dict_slots and n not in obj_slots
                  and n not in aliases and n in outer_env and outer_env[n] is not v and
                  not (isinstance(v, (Seq, DictVal, TreeObj)) and
                       _same_value(_replace_atoms(v, back), outer_env[n]))]
        if leaked:
            self.env = outer_env
            self.env.update(saved_flags)
            return leaked
        kept = self.check_carry_views(assumed, names, params, s)
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
        inits, results = self.check_carry_layouts(s, names, params, inits, results, body,
                                                  layout_roots[layout_mark:])
        body.params = ([index] if not is_while else []) + params
        body.results = results
        outs = tuple(Var(p_.hint, shape=LIST if p_.shape is LIST else P.fresh_shape())
                     for p_ in params)
        self.own_lists_after_loop(params, inits, results, outs)
        self.refuse_carry_written_while_listed(names, params, results, s)
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
        hold_carries(dict(zip(params, outs)))
        self.dicts_of_slots(dict_slots, pop=True)
        self.objects_of_slots(obj_slots, pop=True)
        # the calls being inlined: a caller's name (or container) holding an
        # array or list this loop of a helper carries in place (lst.append(v),
        # y[i] = v on the caller's objects) holds the loop's output after it
        out_of = {a: o for a, o in zip(inits, outs) if isinstance(a, Var) and a in same}
        if out_of:
            memo = {}
            for lw in list(self._lowerers())[1:]:
                for k, v in list(lw.env.items()):
                    r = _replace_atoms(v, out_of, memo)
                    if r is not v:
                        lw.env[k] = r
        self.loop_out_views(kept, names, results, outs, inits)
        for m, n in aliases.items():
            self.env[m] = self.env[n]
        self.env.pop("$brk", None)
        self.env.pop("$cont", None)
        self.env.update(saved_flags)

    def check_carry_layouts(self, s, names, params, inits, results, body, roots):
        """A reshape in the body decided a view or a copy by the strides of an
        array a carry is (``A = A.T; u = A.reshape(-1); u += 1``): where the
        carry's value going in (or coming out of a step) was written through
        a view, NumPy's array is that memory, with strides the IR's new
        version may not have (``B = A.T; B[1] -= x``: the IR's A is then a
        transpose of a C-ordered copy).  Those values are copied at run time
        into an array with NumPy's strides where theirs differ (refused,
        naming the loop, only where those strides overlap), so the next
        step's reshape decides as NumPy does."""
        tested = {id(r) for r in roots}
        if not tested:
            return inits, results
        inits, results = list(inits), list(results)
        what = f"{self.src.filename}:{s.lineno}: {self.src.line_text(s.lineno).strip()}"
        for i, p_ in enumerate(params):
            if id(p_) not in tested or not isinstance(results[i], Var):
                continue
            saved = self.em.block
            self.em.block = body
            try:
                w = self.numpy_memory(results[i])
                if w is not None:
                    results[i] = self.em.call(P.get("layout_checked"), results[i], w, what=what)
            finally:
                self.em.block = saved
            if isinstance(inits[i], Var):
                w0 = self.numpy_memory(inits[i])
                if w0 is not None:
                    inits[i] = self.em.call(P.get("layout_checked"), inits[i], w0, what=what)
        return inits, results

    def refuse_unknown_in_place(self, s, names, inits, rb=None):
        """``z += v`` in a loop on a value not known to be an array (``z = x
        * 1.0``) that another name or a container also holds and reads
        later: in place (the other sees it) on an array, a rebinding on a
        number -- decided at run time, which the loop's carries cannot
        follow.  Refused at the loop rather than computed one way.
        ``rb``: :class:`Rebindings` of the body, if made."""
        model = self.top.alias
        rb = rb or Rebindings(s.body)
        last = self.last_loads()
        in_loop = self.loop_depth > 0 or self.enclosing_loop()
        # (and the names of the calls being inlined: a helper's z += v on the
        # caller's value, which the caller reads after the call)
        outer = [(k, v) for lw in list(self._lowerers())[1:] for k, v in lw.env.items()
                 if not k.startswith("$")]
        n_own = len(self.env)
        for n, a in zip(names, inits):
            if n.startswith("$") or not isinstance(a, Var) or P.shape_of(a) is P.SCALAR or \
                    model.known_array(a) or rb.rebinds_plainly(n) or not rb.rebinds(n):
                continue
            for j, (k, v) in enumerate(list(self.env.items()) + outer):
                own = j < n_own
                if own and (k == n or k.startswith("$") or k not in last and not in_loop or
                            not in_loop and last.get(k, -1) < s.lineno):
                    continue
                if any(t is a for t in _atoms_in(v)):
                    held = f"'{k}'" + ("" if own else " of the calling function")
                    raise self.error(s, f"'{n}' is updated with an augmented assignment in "
                                        f"this loop and is also held by {held}: on an array "
                                        f"that writes into the array both hold, on a number "
                                        f"it rebinds '{n}' alone -- known only at run time; "
                                        f"write '{n} = {n} + ...' for a new value, or make "
                                        f"'{n}' an array before the loop (np.array(...), "
                                        f".copy())", cls=S2SGradError,
                                     construct="augmented assignment in a loop")

    def refuse_kept_then_written(self, s, kept_any=None):
        """``rows.append(a)`` in a loop, and ``a`` written in place while the
        list still holds it (``a[i] = v`` in the next iteration, ``a += v``
        after the append): NumPy's list holds the one array several times,
        each entry seeing every later write; the loop's carries hold the
        values at the appends.  Refused at the write."""
        def may_be_array(n):
            v = self.env.get(n)
            return not (isinstance(v, Const) or isinstance(v, Var) and
                        P.shape_of(v) is P.SCALAR)
        def is_reference(n, item):
            v = self.env.get(n)
            if isinstance(v, Const) or isinstance(v, Var) and P.shape_of(v) is P.SCALAR:
                return False                    # a number: the list holds its value
            if isinstance(item, ast.Subscript) and isinstance(item.value, ast.Name):
                idx = item.slice.elts if isinstance(item.slice, ast.Tuple) else [item.slice]
                nd = self.top.alias.ndim.get(v)
                if nd is not None and len(idx) >= nd and not any(
                        isinstance(i, ast.Slice) or isinstance(i, ast.Constant) and
                        i.value in (None, Ellipsis) for i in idx):
                    return False                # a[0] of a 1-d array: an element
            return True
        pairs: list = []

        def shares(a, b):
            # (the groups are made at the first question: kept_then_written
            # asks only where the body puts an array into a list -- most
            # loops have no such statement; nothing changes the names'
            # bindings while it runs)
            if not pairs:
                pairs.append(self._memory_groups(s))
            return (a, b) in pairs[0]
        found = kept_then_written(s.body, may_be_array, is_reference, shares, kept_any)
        if found is None:
            return
        name, node, st = found[:3]
        if len(found) == 4:
            wrote = found[3]
            raise self.error(st, f"this writes into the memory of '{name}' (through "
                                 f"'{wrote}', a view of the same array on some iteration) "
                                 f"while a list still holds '{name}' (put there by reference "
                                 f"at line {node.lineno}, in this loop): NumPy's list entry "
                                 f"sees the write, which s2sgrad does not follow in a loop; "
                                 f"append a copy ({name}.copy())",
                             cls=S2SGradError, construct="write into an array held by a list")
        raise self.error(st, f"this changes '{name}' in place while a list still holds it "
                             f"(put there by reference at line {node.lineno}, in this "
                             f"loop): in Python every entry of the list is the same object "
                             f"and sees the change, which s2sgrad does not follow in a "
                             f"loop; append a copy ({name}.copy(), list({name})), or make a "
                             f"new one each iteration ({name} = {name} + v instead of "
                             f"{name} += v)",
                         cls=S2SGradError, construct="write into an array held by a list")

    def _memory_groups(self, s):
        """Pairs (a, b) of names that may be views of one array in the loop
        ``s``: bound to views of one array before it (the alias model), the
        loop's targets and the arrays iterated, and a name bound in the body
        to a view spelled over another (h = A[1], c = A.T)."""
        model = self.top.alias
        roots = {}
        for k, v in self.env.items():
            if isinstance(v, Var) and not k.startswith("$"):
                roots.setdefault(k, set()).add(model.root(v))
        def names_in(e):
            return {n.id for n in ast.walk(e) if isinstance(n, ast.Name)}
        links = []
        if isinstance(s, ast.For):
            links += [(t, names_in(s.iter)) for t in names_in(s.target)]
        for st in walk_nodes(ast.Module(body=s.body, type_ignores=[])):
            if isinstance(st, ast.Assign) and len(st.targets) == 1 and \
                    isinstance(st.targets[0], ast.Name) and \
                    isinstance(st.value, (ast.Subscript, ast.Attribute, ast.Name)):
                v = st.value
                while isinstance(v, (ast.Subscript, ast.Attribute)):
                    v = v.value
                if isinstance(v, ast.Name):
                    links.append((st.targets[0].id, {v.id}))
            elif isinstance(st, ast.For):
                links += [(t, names_in(st.iter)) for t in names_in(st.target)]
        # a name first bound in the body (g = h * c; hs.append(g); h = g)
        # is memory of its own, which the names bound to it share: the
        # next iteration's ``h *= 0.9`` writes into the list's entry
        for t, srcs in links:
            for m in {t} | srcs:
                if not roots.get(m):
                    roots[m] = {("$body", m)}
        for _ in range(3):                      # (chains: c = A.T; for col in c)
            for t, srcs in links:
                for m in srcs:
                    roots.setdefault(t, set()).update(roots.get(m, ()))
        pairs = set()
        names = sorted(roots)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                if roots[a] & roots[b]:
                    pairs.add((a, b))
                    pairs.add((b, a))
        return pairs

    def stmt_While(self, s):
        if s.orelse:
            return self.loop_else(s)
        self.runtime_loop(s, None, None, None, s.test)


def _entries_only_rebound(body, name) -> bool:
    """Whether every use of ``name`` in ``body`` that may change it is
    ``name[key] = value`` (a plain assignment of one target), and ``name``
    is never rebound, aliased, augmented, deleted from or called a method
    of (nested functions and lambdas must not mention it)."""
    ok_targets = set()
    for n in ast.walk(ast.Module(body=list(body), type_ignores=[])):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            if any(isinstance(m, ast.Name) and m.id == name for m in ast.walk(n)):
                return False
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and \
                isinstance(n.targets[0], ast.Subscript) and \
                isinstance(n.targets[0].value, ast.Name) and n.targets[0].value.id == name:
            ok_targets.add(id(n.targets[0].value))
    for n in ast.walk(ast.Module(body=list(body), type_ignores=[])):
        if not (isinstance(n, ast.Name) and n.id == name):
            continue
        if isinstance(n.ctx, ast.Store) or isinstance(n.ctx, ast.Del):
            return False
    parents = {}
    for p in ast.walk(ast.Module(body=list(body), type_ignores=[])):
        for c in ast.iter_child_nodes(p):
            parents[id(c)] = p
    for n in ast.walk(ast.Module(body=list(body), type_ignores=[])):
        if not (isinstance(n, ast.Name) and n.id == name) or id(n) in ok_targets:
            continue
        p = parents.get(id(n))
        # a read d[key] (not a store into it, not d[key][i] = ..., d[key] += ...)
        if isinstance(p, ast.Subscript) and p.value is n and isinstance(p.ctx, ast.Load):
            q = parents.get(id(p))
            if isinstance(q, ast.AugAssign) and q.target is p:
                return False
            if isinstance(q, ast.Subscript) and q.value is p and not isinstance(q.ctx, ast.Load):
                return False
            if isinstance(q, ast.Attribute) and q.value is p and not isinstance(q.ctx, ast.Load):
                return False
            continue
        if isinstance(p, ast.Subscript) and p.value is n:
            return False            # d[k] += v (its target), del d[k]
        if isinstance(p, ast.Compare) or (isinstance(p, ast.Call) and n in p.args and
                                          isinstance(p.func, ast.Name) and
                                          p.func.id in ("len", "sorted", "list", "tuple")):
            continue                # "k" in d, len(d)
        if isinstance(p, ast.For) and p.iter is n:
            continue                # for k in d
        return False                # d.update(...), e = d, f(d), return d ...
    return True


def _held(w, v, depth=0) -> int:
    """How many times the object ``v`` is ``w`` or inside the containers ``w``."""
    if w is v:
        return 1
    if depth > 50:
        return 1
    if isinstance(w, Seq):
        return sum(_held(i, v, depth + 1) for i in w.items)
    if isinstance(w, DictVal):
        return sum(_held(i, v, depth + 1) for i in w.items.values())
    return 0


def _carried_fields(obj):
    """The fields of a dataclass instance (made in the function) a loop
    carries: those holding an array or a number (a Hole, an int, a float)."""
    return [f for f in _record_fields(obj)
            if isinstance(getattr(obj, f), Hole) or
            type(getattr(obj, f)) in (int, float)]


def _record_fields(obj):
    """The field names of a dataclass instance, or the attributes of a plain
    record (``containers.plain_record_class``) in the order they were set."""
    if dataclasses.is_dataclass(obj):
        return [f.name for f in dataclasses.fields(obj)]
    return list(vars(obj))


def _held_obj(w, obj, depth=0) -> bool:
    """The container ``w`` holds a TreeObj of the instance ``obj``."""
    if isinstance(w, TreeObj):
        return w.obj is obj
    if depth > 50:
        return True
    if isinstance(w, Seq):
        return any(_held_obj(i, obj, depth + 1) for i in w.items)
    if isinstance(w, DictVal):
        return any(_held_obj(i, obj, depth + 1) for i in w.items.values())
    return False
