"""The compile-time shortcuts of session 20 (perf-compile8) answer exactly
what the code they replace answered, and lowering a function of many loops
costs linear work.  No timings here: structural facts only.

* :func:`~s2sgrad.lower.syntax.child_nodes` reads only the fields that may
  hold nodes (per class, from its grammar signature): the same children as
  ``ast.iter_child_nodes`` but the contexts, for every node;
* :func:`~s2sgrad.lower.syntax.function_reads` (one walk of the function)
  against the three walks it replaces (kept here as the reference):
  ``_free_load_last``, ``_read_lines``, ``last_loads``;
* :func:`~s2sgrad.lower.syntax.returns_or_breaks` (one walk) against the two
  ``has_node`` walks; ``Rebindings(...).assigned`` against ``assigned_in``;
  :func:`~s2sgrad.lower.syntax.walk_nodes` against ``ast.walk``'s order;
* the alias model's relations not known at compile time
  (``AliasModel.unknown``), recorded and made when read, against the eager
  model (kept here), on random sequences of calls and on programs;
* codegen's ``_try_share`` with the set of a body's results against the
  scan of them;
* the work of lowering (nodes walked, alias relations made) grows linearly
  with the number of loops;

on hand-written programs, the golden functions, the benchmark shapes and
fuzzed programs; and the values (vs NumPy) and gradients (vs central finite
differences) of programs through the changed paths (a loop with a return or
break, an augmented assignment read after a loop, a loop's target read after
it, a carry rebound through many loops then written)."""
from __future__ import annotations

import ast
import importlib
import inspect
import os
import random
import re
import sys

import numpy as np
import pytest

import s2sgrad
from s2sgrad import alias as alias_mod
from s2sgrad import codegen
from s2sgrad.errors import S2SGradError
from s2sgrad.ir import Var
from s2sgrad.lower import syntax
from s2sgrad.lower.syntax import (Rebindings, assigned_in, function_reads, has_node,
                                  returns_or_breaks, walk_nodes, _preorder)
from tests import golden_functions as gf
from tests import test_fuzz as fz
from tests.test_compile6 import _fuzzed_gradients
from tests.test_compile7 import _bench_args, _bench_module

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "benchmarks"))
import bench_compile  # noqa: E402

HAND = '''
def f(x, y, zs):
    total = 0.0
    for i in range(3):
        x += 1
        y = x * 2
        zs[0] = y
        zs.append(y)
        if i > 1:
            break
    k = 0
    while k < 3:
        a, (b, c) = 1, (2, 3)
        g = lambda q: q + total
        def h(u):
            v = u
            v += 1
            return v
        s = [t for t in range(3) if t > k]
        d = {t: t * 2 for t in s}
        if (m := k) > 1:
            break
        for j in range(2):
            if j:
                return j
            continue
        k = k + 1
    else:
        total = total + 1
    for i in range(i):
        total += i
    with np.errstate(all="ignore"):
        w = f"{x!r:>{k}}" + str(b)
    try:
        pass
    except ValueError as err:
        raise
    finally:
        del w
    global G
    match x:
        case [1, *rest]:
            pass
        case {"a": 1, **kw}:
            pass
        case Point(x=0) as p:
            pass
        case None:
            pass
    async def co():
        async for q in r:
            await q
        async with r as q:
            yield q
    print(*zs, sep="", **{})
    return x[1:2, ::-1], y if y else -y, not total, total ** -0.5
'''


def _trees():
    """Module ASTs: the hand-written one, the golden functions, the bench
    shapes and fuzzed programs."""
    out = [ast.parse(HAND), ast.parse(inspect.getsource(gf))]
    for shape in bench_compile.SHAPES:
        out.append(ast.parse(bench_compile.source(40, shape)))
    for seed in range(60):
        try:
            src, _, _ = fz.generate(seed)
        except RecursionError:
            continue
        out.append(ast.parse(src))
    return out


TREES = _trees()


def _functions():
    return [n for t in TREES for n in ast.walk(t)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _bodies():
    """Every statement list of every tree."""
    out = []
    for t in TREES:
        for n in ast.walk(t):
            for field in ("body", "orelse", "finalbody"):
                v = getattr(n, field, None)
                if isinstance(v, list) and v and isinstance(v[0], ast.stmt):
                    out.append(v)
    return out


# ---------------------------------------------------------------- the walks

_CONTEXTS = (ast.Load, ast.Store, ast.Del)


def test_child_nodes_are_iter_child_nodes_without_contexts():
    n_nodes = 0
    for t in TREES:
        for n in ast.walk(t):
            n_nodes += 1
            want = [c for c in ast.iter_child_nodes(n) if not isinstance(c, _CONTEXTS)]
            assert syntax.child_nodes(n) == want, ast.dump(n)[:200]
    assert n_nodes > 10000


def test_node_fields_leave_out_only_leaf_fields():
    # every node class: the fields dropped never hold a node or a list of nodes
    # in any tree here, and the ones known to hold nodes are kept
    assert syntax._node_fields(ast.Name) == ()
    assert syntax._node_fields(ast.Constant) == ()
    assert syntax._node_fields(ast.BinOp) == ("left", "op", "right")
    assert syntax._node_fields(ast.Call) == ("func", "args", "keywords")
    assert syntax._node_fields(ast.Import) == ("names",)           # alias nodes
    assert syntax._node_fields(ast.Global) == ()                    # identifiers

    class Odd(ast.AST):                # no signature to read: every field kept
        _fields = ("a", "b")
    assert syntax._node_fields(Odd) == ("a", "b")


def _old_free_load_last(node):
    last: dict = {}
    stack = [(node, frozenset())]
    while stack:
        n, bound = stack.pop()
        if isinstance(n, (ast.For, ast.comprehension)):
            bound = bound | {m.id for m in ast.walk(n.target) if isinstance(m, ast.Name)}
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in bound:
            last[n.id] = max(last.get(n.id, n.lineno), n.lineno)
        stack.extend((c, bound) for c in ast.iter_child_nodes(n))
    return last


def _old_read_lines(node):
    aug = set()
    lines: dict = {}
    for n in _preorder(node, skip=()):
        if isinstance(n, ast.AugAssign):
            aug.add(id(n.target))
        elif isinstance(n, ast.Name) and (isinstance(n.ctx, ast.Load) or id(n) in aug):
            first, last = lines.get(n.id, (n.lineno, n.lineno))
            lines[n.id] = (min(first, n.lineno), max(last, n.lineno))
    return lines


def _old_last_loads(node):
    last = {}
    for n in _preorder(node, skip=()):
        if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name):
            last[n.target.id] = max(last.get(n.target.id, -1), n.lineno)
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
            last[n.id] = max(last.get(n.id, -1), getattr(n, "end_lineno", n.lineno))
    # (trust9: a nested function's read of an enclosing name -- a closure,
    # run when called -- counts as a read at every later line)
    from s2sgrad.lower.syntax import _CALLED_LATER, assigned_names
    defs = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)

    def closure_reads(d):
        own = assigned_names(d)
        for c in ast.iter_child_nodes(d):
            for m in _preorder(c, skip=defs):
                if isinstance(m, ast.Name) and isinstance(m.ctx, ast.Load) and \
                        m.id not in own:
                    last[m.id] = _CALLED_LATER
                if isinstance(m, defs):
                    closure_reads(m)
    for c in ast.iter_child_nodes(node):
        for m in _preorder(c, skip=defs):
            if isinstance(m, defs):
                closure_reads(m)
    return last


def test_function_reads_is_the_three_walks():
    fns = _functions()
    assert len(fns) > 60
    for fn in fns:
        free_last, lines, last_loads = function_reads(fn)
        assert free_last == _old_free_load_last(fn)
        assert lines == _old_read_lines(fn)
        assert last_loads == _old_last_loads(fn)


def test_returns_or_breaks_is_has_node():
    bodies = _bodies()
    seen = set()
    for body in bodies:
        r = has_node(body, ast.Return)
        want = (r, r or has_node(body, ast.Break))
        assert returns_or_breaks(body) == want
        seen.add(want)
    assert seen == {(False, False), (False, True), (True, True)}


def test_rebindings_assigned_is_assigned_in():
    n = 0
    for body in _bodies():
        assert Rebindings(body).assigned == assigned_in(body)
        n += bool(assigned_in(body))
    assert n > 100


def test_walk_nodes_is_ast_walk_order():
    for t in TREES:
        want = [n for n in ast.walk(t) if not isinstance(n, _CONTEXTS)]
        assert list(walk_nodes(t)) == want


# ---------------------------------------------------------------- the alias model

class _EagerModel(alias_mod.AliasModel):
    """The model as it was: relations made at each call."""

    def __init__(self):
        super().__init__()
        self.eager: dict = {}

    @property
    def unknown(self):
        return self.eager

    def link_unknown(self, a, b):
        if a is b or not (isinstance(a, Var) and isinstance(b, Var)):
            return
        self.eager.setdefault(a, []).append(b)
        self.eager.setdefault(b, []).append(a)

    def inherit_unknown(self, new, old):
        for b in list(self.eager.get(old, ())):
            self.link_unknown(new, b)


def test_recorded_relations_are_the_eager_ones():
    rng = random.Random(8)
    for trial in range(200):
        vs = [Var(f"v{i}") for i in range(rng.randint(2, 12))] + [None, 1.0]
        lazy, eager = alias_mod.AliasModel(), _EagerModel()
        for step in range(rng.randint(1, 40)):
            a, b = rng.choice(vs), rng.choice(vs)
            op = rng.choice(["link", "inherit", "read"])
            if op == "read":          # reads between calls see the calls so far
                assert lazy.unknown == eager.unknown
                continue
            for m in (lazy, eager):
                getattr(m, op + "_unknown")(a, b)
        assert lazy.unknown == eager.unknown
        for v in vs:
            assert (v in lazy.unknown) == (v in eager.unknown)
            assert list(lazy.unknown.get(v, ())) == list(eager.unknown.get(v, ()))


# ---------------------------------------------------------------- programs


def _loops_module(tmp_path, n, shape="loops", tag=""):
    return _bench_module(tmp_path, n, shape, tag, prefix="pc8")


def test_lowering_work_is_linear(monkeypatch, tmp_path):
    """Nodes walked by lowering and alias relations recorded, for 60 and 240
    statements of loops and of one long loop: four times the statements,
    about four times the work (4.3 times the loops, plus what does not
    grow; a walk of the function per loop, or every version of a carry
    linked to every earlier one, would be sixteen).  The
    function itself is walked once for its reads."""
    counts = {"nodes": 0, "reads": 0, "ops": 0}
    orig_child, orig_reads = syntax.child_nodes, syntax.function_reads

    def child_nodes(n):
        counts["nodes"] += 1
        return orig_child(n)

    def reads(node):
        counts["reads"] += 1
        return orig_reads(node)
    monkeypatch.setattr(syntax, "child_nodes", child_nodes)
    monkeypatch.setattr(syntax, "function_reads", reads)
    models = []
    orig_init = alias_mod.AliasModel.__init__

    def init(self, *a, **k):
        orig_init(self, *a, **k)
        models.append(self)
    monkeypatch.setattr(alias_mod.AliasModel, "__init__", init)
    for shape in ("loops", "rnn"):
        work = {}
        for n in (60, 240):
            mod = _loops_module(tmp_path, n, shape)
            counts.update(nodes=0, reads=0)
            models.clear()
            s2sgrad.grad(mod.f)(*_bench_args(shape))
            assert counts["reads"] == 1
            # (no write reads the relations here: none are made)
            assert len(models) == 1 and not models[0]._unknown
            work[n] = (counts["nodes"], len(models[0]._unknown_ops))
        assert work[60][0] > 500
        for k in range(2):
            assert work[240][k] <= 5 * max(work[60][k], 1), (shape, work)
    monkeypatch.undo()


def _sources(tmp_path, tag):
    out = []
    for shape in bench_compile.SHAPES:
        mod = _loops_module(tmp_path, 60, shape, tag)
        g = s2sgrad.grad(mod.f)
        g(*_bench_args(shape))
        out.append(g.source.replace(f"_60{tag}.py", "_60.py"))
    for name in sorted(n for n in dir(gf) if not n.startswith("_")):
        f = getattr(gf, name)
        if not inspect.isfunction(f) or f.__module__ != gf.__name__:
            continue
        out.append(inspect.getsource(f))
    for g in _fuzzed_gradients(40, keep_refusals=True):
        # (a refusal: its message must not change either)
        text = f"{type(g).__name__}: {g}" if isinstance(g, Exception) else g.source
        out.append(re.sub(r"<fuzz program \d+>", "<fuzz>", text))
    return out


def test_eager_alias_model_and_result_scan_change_nothing(monkeypatch, tmp_path):
    """With the alias model eager and codegen's _try_share scanning a
    body's results, the generated sources (and refusals) are the same."""
    fast = _sources(tmp_path, "a")
    from s2sgrad.lower import lowerer
    monkeypatch.setattr(lowerer, "AliasModel", _EagerModel)
    orig = codegen.CodeGen._try_share
    monkeypatch.setattr(codegen.CodeGen, "_try_share",
                        lambda self, block, res, n, param, result_ids=None:
                        orig(self, block, res, n, param))
    slow = _sources(tmp_path, "b")
    monkeypatch.undo()
    assert len(fast) > 40 and fast == slow


# ---------------------------------------------------------------- values and gradients

def loop_with_return(x, n):
    s = x * 1.0
    for i in range(n):
        s = np.sin(s) * 1.5
        if np.sum(s) > 100.0:
            return np.sum(s ** 2)
    return np.sum(s * x)


def loop_with_break(x, n):
    s = x * 1.0
    t = 0.0
    for i in range(n):
        for j in range(2):
            s = s * 0.9 + np.cos(x)
        if np.sum(s) > 100.0:
            break
        t = t + np.sum(s ** 2)
    return t + np.sum(s)


def aug_read_after(x, n):
    acc = np.zeros_like(x)
    i = 1
    for i in range(n):
        acc += x * i
    y = acc * 2.0
    for i in range(n):
        y = y + np.tanh(acc)
    return np.sum(y * i)


def carry_through_loops(x, n):
    h = x * 1.0
    for t in range(n):
        h = np.tanh(h) + x
    for t in range(n):
        h = h * 0.5
    for t in range(n):
        h = np.sin(h)
    g = h * 1.0
    g[0] = 2.0 * h[1]
    return np.sum(g ** 2) + np.sum(h)


def comprehension_binds_name(x, n):
    i, k = 2, 3
    s = sum(np.sum(x * k) for k in range(n))
    for k in range(n):
        s = s + np.sum(x ** 2) * k
    return s * i + np.sum(x * k)


def _fd(f, args, eps=1e-6):
    x = args[0].astype(np.float64)
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += eps
        xm[idx] -= eps
        g[idx] = (f(xp, *args[1:]) - f(xm, *args[1:])) / (2 * eps)
    return g


@pytest.mark.parametrize("fn", [loop_with_return, loop_with_break, aug_read_after,
                                carry_through_loops, comprehension_binds_name])
@pytest.mark.parametrize("n", [0, 1, 4])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_values_and_gradients(fn, n, dtype):
    rng = np.random.default_rng(20 + n)
    x = rng.uniform(0.1, 0.9, size=(3,)).astype(dtype)
    vg = s2sgrad.value_and_grad(fn)
    for _ in range(2):                 # (the second call runs the specialised code)
        val, g = vg(x, n)
        ref = fn(x.copy(), n)
        tol = 1e-10 if dtype == np.float64 else 2e-5
        assert np.allclose(val, ref, rtol=tol, atol=tol)
        assert g.dtype == x.dtype and g.shape == x.shape
    fd = _fd(fn, (x.astype(np.float64), n))
    g64 = s2sgrad.grad(fn)(x.astype(np.float64), n)
    assert np.allclose(g64, fd, rtol=1e-6, atol=1e-7)
    if dtype == np.float32:
        assert np.allclose(g, fd, rtol=1e-3, atol=1e-4)


def test_repeated_variable_and_broadcasting():
    def f(x, b):
        s = x * x
        for t in range(3):
            s = s + b * x
            if np.sum(s) > 1e6:
                break
        return np.sum(s * s)
    x = np.array([[0.2, 0.4, 0.6], [0.1, 0.3, 0.5]])
    b = np.array([0.5, -0.25, 1.0])
    gx, gb = s2sgrad.grad(f, wrt=(0, 1))(x, b)
    assert np.allclose(gx, _fd(lambda x_, b_: f(x_, b_), (x, b)), rtol=1e-6, atol=1e-7)
    assert np.allclose(gb, _fd(lambda b_, x_: f(x_, b_), (b, x)), rtol=1e-6, atol=1e-7)
    assert np.isclose(s2sgrad.value_and_grad(f)(x, 0.5)[0], f(x, 0.5))   # a Python float


def _written_after_loops(x, n):
    h = x
    for t in range(n):
        h = h * 2.0
    for t in range(n):
        h = h + 1.0
    h[0] = 0.0
    return np.sum(h * x)


def _copied_after_loops(x, n):
    h = x
    for t in range(n):
        h = h * 2.0
    for t in range(n):
        h = h + 1.0
    h = h.copy()
    h[0] = 0.0
    return np.sum(h * x)


def test_write_into_a_carry_after_loops(monkeypatch):
    """A carry that after zero iterations is the argument itself, written
    after the loops: the relations recorded lazily are made when the write
    asks, and the write is refused as before (the eager model's message);
    written into a copy, the gradient is exact."""
    x = np.array([0.5, 1.5, 2.0])
    msgs = []
    for eager in (False, True):
        if eager:
            from s2sgrad.lower import lowerer
            monkeypatch.setattr(lowerer, "AliasModel", _EagerModel)
        with pytest.raises(S2SGradError, match="may or may not change 'x'") as exc:
            s2sgrad.grad(_written_after_loops)(x.copy(), 2)
        msgs.append(str(exc.value))
    monkeypatch.undo()
    assert msgs[0] == msgs[1]
    for n in (0, 2):
        val, g = s2sgrad.value_and_grad(_copied_after_loops)(x.copy(), n)
        assert np.isclose(val, _copied_after_loops(x.copy(), n))
        assert np.allclose(g, _fd(_copied_after_loops, (x, n)), rtol=1e-6, atol=1e-7)


def _old_count_uses(block, results, uses):
    for e in block.eqns:
        for a in e.atoms():
            if isinstance(a, Var):
                uses[a] = uses.get(a, 0) + 1
        for b in e.blocks():
            _old_count_uses(b, b.results, uses)
    for r in results:
        if isinstance(r, Var):
            uses[r] = uses.get(r, 0) + 1
    return uses


def test_codegen_uses_are_the_counted_reads(monkeypatch, tmp_path):
    """CodeGen.uses, now the number of use sites its index records, is the
    count its own walk made (operands, region results, the results)."""
    seen = []
    orig = codegen.CodeGen.__init__

    def init(self, func, *a, **k):
        orig(self, func, *a, **k)
        seen.append(self.uses == _old_count_uses(func.body, func.results, {}))
    monkeypatch.setattr(codegen.CodeGen, "__init__", init)
    _sources(tmp_path, "c")
    monkeypatch.undo()
    assert len(seen) > 40 and all(seen)


# ---------------------------------------------------------------- frontend

def _old_fill_locations(tree, lineno):
    for n in ast.walk(tree):
        if "lineno" in n._attributes and not hasattr(n, "lineno"):
            n.lineno = n.end_lineno = lineno
            n.col_offset = n.end_col_offset = 0


def test_compile_like_walks_only_the_synthetic_scopes(monkeypatch):
    """The code compiled to check a function's source is the same when the
    locations are filled by a walk of the whole module (the parsed nodes
    have theirs)."""
    from s2sgrad import frontend

    def closure_maker():
        k = 2.0

        class Holder:
            def method(self, x):
                return np.sum(x * k) + len(self.__class__.__name__)
        return Holder.method
    fns = [closure_maker(), loop_with_return, loop_with_break, carry_through_loops]
    fns += [getattr(gf, n) for n in dir(gf) if inspect.isfunction(getattr(gf, n))
            and getattr(gf, n).__module__ == gf.__name__]
    for fn in fns:
        src = frontend.parse_function(fn)
        code = fn.__code__
        new = frontend._compile_like(src.node, code, fn, src.filename)
        monkeypatch.setattr(frontend, "_fill_locations",
                            lambda tree, lineno, parsed=None: _old_fill_locations(tree, lineno))
        old = frontend._compile_like(src.node, code, fn, src.filename)
        monkeypatch.undo()
        assert new == old and new.co_linetable == old.co_linetable
        assert frontend._same_code(new, code)


def test_same_code_equal_codes_and_changed_constants():
    from s2sgrad import frontend
    a = compile("def f(x):\n    return x * 1\n", "<a>", "exec").co_consts[0]
    b = compile("def f(x):\n    return x * 1\n", "<b>", "exec").co_consts[0]
    c = compile("def f(x):\n    return x * 1.0\n", "<c>", "exec").co_consts[0]
    d = compile("def f(x):\n    return x * True\n", "<d>", "exec").co_consts[0]
    assert a == b and frontend._same_code(a, b)
    assert frontend._fingerprint(a) == frontend._fingerprint(b)
    for other in (c, d):            # (1 == 1.0 == True: the code objects still differ)
        assert not frontend._same_code(a, other)
        assert frontend._fingerprint(a) != frontend._fingerprint(other)


def test_changed_source_still_refused(tmp_path):
    """A module file edited after import: the running code is refused, as
    before (the check the shortcuts above feed)."""
    import linecache
    from s2sgrad.errors import SourceNotFoundError
    p = tmp_path / "pc8_edited.py"
    p.write_text("import numpy as np\n\n\ndef f(x):\n    return np.sum(x * 2.0)\n")
    sys.path.insert(0, str(tmp_path))
    try:
        mod = importlib.import_module("pc8_edited")
    finally:
        sys.path.remove(str(tmp_path))
    p.write_text("import numpy as np\n\n\ndef f(x):\n    return np.sum(x * 3.0)\n")
    linecache.checkcache(str(p))
    with pytest.raises(SourceNotFoundError, match="no longer matches"):
        s2sgrad.grad(mod.f)(np.ones(3))
