"""Compile time, session 25 (issue 10): cheaper internals, the same output.

* peephole._Chains.rewrite pulls a chain a second time (the version that
  absorbs scaled leaves: ``-a``, ``2 * a``, ``a / 4``) only when the first
  pull met such a leaf (``_Chains._absorbed``); before, any leaf computed
  by a negation, product or quotient made it pull again, and the second
  pull was the first one over again (half of a 1,000-statement RNN's
  pulls).
* peephole._Chains._linear_use without the list of positions.
* ir.Eqn.blocks: a loop over the params instead of a comprehension (most
  equations with params hold no block; every pass asks every equation);
  ir.Eqn.atoms: the operands' tuple itself where there are no keyword
  operands (callers iterate over it), not a copy.
* lower.syntax.assigned_names: a plain stack instead of _preorder's
  generator (a set: the order does not matter).
* lower.control._makes_functions: one walk of the loop body without the
  contexts, stopping when both facts are found (a list of ast.walk's nodes
  scanned twice before).
* optimize._dce_eqns: is_region and _effect read inline.
* specialize imports s2sgrad.distinct with the module (accumulate_in_place
  imported it in the first call).

Each is checked against the former code: the generated source of the
golden functions, the four bench_compile shapes and fuzzed programs is
byte-identical; each replaced function gives the former's answer on every
call the compiler makes while compiling them; the skipped pull is checked
to be the pull it skips; values and gradients against NumPy and central
differences.
"""
from __future__ import annotations

import ast
import functools
import pathlib

import numpy as np
import pytest

import s2sgrad
from s2sgrad import ir, peephole
from s2sgrad.ir import Block, Eqn, Var
from s2sgrad.lower import control, syntax
from s2sgrad.primitives.core import REGISTRY
from tests.test_compile6 import _fuzzed_gradients
from tests.test_compile7 import _sources
from tests.test_list_loops7 import fd as _fd


# ---------------------------------------------------------------- the former code


def _old_blocks(self):
    if not self.params:
        return ()
    return [b for b in self.params.values() if type(b) is Block]


def _old_atoms(self):
    if self.kwargs:
        return [*self.args, *self.kwargs.values()]
    return list(self.args)


def _old_makes_functions(stmts):
    nodes = [n for st in stmts for n in ast.walk(st)]
    return any(isinstance(n, (ast.Lambda, ast.FunctionDef)) for n in nodes) and any(
        (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and
         n.func.attr in ("append", "extend", "insert")) or
        (isinstance(n, ast.Assign) and any(isinstance(t, ast.Subscript) for t in n.targets))
        for n in nodes)


def _old_assigned_names(fn_node):
    names = set()
    args = fn_node.args
    for a in args.posonlyargs + args.args + args.kwonlyargs:
        names.add(a.arg)
    if args.vararg:
        names.add(args.vararg.arg)
    if args.kwarg:
        names.add(args.kwarg.arg)
    body = fn_node.body if isinstance(fn_node.body, list) else []
    for s in body:
        for n in syntax._preorder(s, skip=(ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef,
                                           ast.ClassDef) + syntax.COMPREHENSIONS):
            if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
                names.add(n.id)
            elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(n.name)
    return names


def _old_linear_use(self, e, v) -> bool:
    name = e.prim.name
    if name not in peephole._LINEAR or _old_blocks(e) or len(e.outs) != 1:
        return False
    pos = [i for i, a in enumerate(e.args) if a is v]
    if any(x is v for x in e.kwargs.values()):
        return False
    if name in ("sum", "mean"):
        return pos == [0] and "dtype" not in e.kwargs
    return bool(pos)


def _old_leaf(self, v, absorb):
    """The former _Chains.leaf: any leaf computed by a negation, product or
    quotient of array kind made the rewrite pull the chain again."""
    e = self.defs.get(v)
    x = self.val(v)
    if e is None and v in self.outer:
        k, base = self.outer[v]
        if np.shape(self.val(base)) == np.shape(x) and \
                np.result_type(self.val(base)) == np.result_type(x):
            return k, ("ones", base)
    if e is not None and len(e.outs) == 1 and not e.params:
        name = e.prim.name
        if name in ("full", "ones") and type(x) is np.ndarray and x.dtype.kind == "f":
            c = 1.0 if name == "ones" else e.args[1] if len(e.args) > 1 else None
            if name == "ones" or peephole._number(c):
                return (1.0 if name == "ones" else float(c.value)), ("ones", v)
        if name == "scalar_cast" and peephole._is_seed_scalar(e, x):
            return 1.0, ("ones", v)         # (perf-rows14's scalar seed, merged)
        if type(x) is np.ndarray and e.prim.name in ("negative", "multiply", "divide"):
            self.absorbable = True
        if absorb and type(x) is np.ndarray:
            a = e.args
            if name == "negative" and isinstance(a[0], Var) and self._same_kind(a[0], v):
                return -1.0, ("var", a[0])
            if name == "multiply" and len(a) == 2:
                for i in (0, 1):
                    if peephole._number(a[i]) and isinstance(a[1 - i], Var) and \
                            self._same_kind(a[1 - i], v):
                        return float(a[i].value), ("var", a[1 - i])
            if name == "divide" and peephole._number(a[1]) and a[1].value != 0 and \
                    isinstance(a[0], Var) and self._same_kind(a[0], v):
                return 1.0 / a[1].value, ("var", a[0])
    return 1.0, ("var", v)


def _use_former_code(mp):
    mp.setattr(ir.Eqn, "blocks", _old_blocks)
    mp.setattr(ir.Eqn, "atoms", _old_atoms)
    mp.setattr(control, "_makes_functions", _old_makes_functions)
    mp.setattr(peephole._Chains, "_linear_use", _old_linear_use)
    mp.setattr(peephole._Chains, "leaf", _old_leaf)


def _counted(mp, cls, name):
    calls = [0]
    fn = getattr(cls, name)

    def run(*a, **k):
        calls[0] += 1
        return fn(*a, **k)
    mp.setattr(cls, name, run)
    return calls


def test_sources_identical_to_the_former_code(monkeypatch, tmp_path):
    """Byte-identical generated source (polymorphic and specialised, grad and
    value_and_grad) on goldens, bench shapes and fuzzed programs; the former
    code pulls more chains (the comparison is not of two equal runs)."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with monkeypatch.context() as mp:
        fast_pulls = _counted(mp, peephole._Chains, "pull")
        fast = _sources(tmp_path / "a", 50)
    with monkeypatch.context() as mp:
        _use_former_code(mp)
        slow_pulls = _counted(mp, peephole._Chains, "pull")
        slow = _sources(tmp_path / "b", 50)
    assert len(fast) > 50 and fast == slow
    assert slow_pulls[0] > fast_pulls[0] > 0


def test_every_call_answers_as_the_former_code(monkeypatch, tmp_path):
    """Eqn.blocks, Eqn.atoms and _Chains._linear_use give the former answer on
    every call the compiler makes (goldens, bench shapes, fuzzed programs)."""
    seen = {"blocks": 0, "with_blocks": 0, "linear": 0, "linear_true": 0, "atoms": 0,
            "kw": 0}
    blocks = ir.Eqn.blocks
    atoms = ir.Eqn.atoms

    def checked_atoms(self):
        got = atoms(self)
        want = _old_atoms(self)
        assert len(got) == len(want) and all(x is y for x, y in zip(got, want))
        seen["atoms"] += 1
        seen["kw"] += bool(self.kwargs)
        return got
    linear_use = peephole._Chains._linear_use

    def checked_blocks(self):
        got = blocks(self)
        want = _old_blocks(self)
        assert bool(got) == bool(want) and len(got) == len(want) and \
            all(x is y for x, y in zip(got, want))
        seen["blocks"] += 1
        seen["with_blocks"] += bool(got)
        return got

    def checked_linear(self, e, v):
        got = linear_use(self, e, v)
        assert got == _old_linear_use(self, e, v)
        seen["linear"] += 1
        seen["linear_true"] += got
        return got
    with monkeypatch.context() as mp:
        mp.setattr(ir.Eqn, "blocks", checked_blocks)
        mp.setattr(ir.Eqn, "atoms", checked_atoms)
        mp.setattr(peephole._Chains, "_linear_use", checked_linear)
        _sources(tmp_path, 30)
    assert seen["blocks"] > 10000 and seen["with_blocks"] > 100
    assert seen["atoms"] > 10000 and 0 < seen["kw"] < seen["atoms"]
    assert seen["linear"] > 1000 and 0 < seen["linear_true"] < seen["linear"]


def test_blocks_cases():
    add = REGISTRY["add"]
    a, b, c = Block(), Block(), Block()
    for params in ({}, {"spelling": ("op", "+")}, {"index": 1, "copy": True},
                   {"body": a}, {"body": a, "reverse": True}, {"then": a, "else": b},
                   {"x": 1, "cond": c, "body": a, "y": None, "segment": b}):
        e = Eqn(add, (), {}, (Var("t"),), dict(params))
        got, want = e.blocks(), _old_blocks(e)
        assert list(got) == list(want) and bool(got) == bool(want)
        assert all(x is y for x, y in zip(got, want))


@functools.lru_cache(maxsize=1)
def _trees():
    """The golden/bench/fuzzed trees (test_compile8) and every module of the
    tests and the package, parsed once for the tests below."""
    from tests.test_compile8 import TREES
    root = pathlib.Path(__file__).resolve().parent.parent
    trees = list(TREES)
    for path in sorted(root.glob("tests/**/*.py")) + sorted(root.glob("s2sgrad/**/*.py")):
        try:
            trees.append(ast.parse(path.read_text()))
        except SyntaxError:                 # pragma: no cover
            continue
    return tuple(trees)


def _statement_lists():
    """Every statement list (bodies, else branches) of functions, loops and
    ifs in :func:`_trees` (as test_compile12's, from the shared parse)."""
    out = []
    for t in _trees():
        for n in ast.walk(t):
            if not isinstance(n, (ast.For, ast.While, ast.If, ast.FunctionDef)):
                continue
            for field in ("body", "orelse"):
                v = getattr(n, field, None)
                if isinstance(v, list) and v and isinstance(v[0], ast.stmt):
                    out.append(v)
    return out


def test_makes_functions_is_the_former_walk():
    bodies = _statement_lists()
    assert len(bodies) > 5000
    found = 0
    for body in bodies:
        want = _old_makes_functions(body)
        assert control._makes_functions(body) == want, ast.unparse(body[0])[:200]
        found += want
    cases = {
        "fs.append(lambda z, k=k: z ** k)": True,
        "fs[k] = lambda z: z * k": True,
        "def g(z):\n    return z * k\nfs.insert(0, g)": True,
        "fs.extend([lambda z: z])": True,
        "g = lambda z: z * k\ny = g(x)": False,        # used in its step only
        "xs.append(x * 2)": False,                      # no function
        "y[0] = x": False,
        "y = [f(z) for z in xs]": False,
    }
    for src, want in cases.items():
        body = ast.parse(src).body
        assert control._makes_functions(body) == want == _old_makes_functions(body), src
    assert found > 0


def test_assigned_names_is_the_former_walk():
    """On every function and lambda of the tests, the package and the
    golden/bench/fuzzed trees (nested defs, classes, comprehensions,
    del, global/nonlocal names, star targets)."""
    n = 0
    for t in _trees():
        for fn in ast.walk(t):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                assert syntax.assigned_names(fn) == _old_assigned_names(fn), \
                    ast.unparse(fn)[:200]
                n += 1
    assert n > 5000
    src = ("def f(a, /, b, *c, d, **e):\n"
           "    x = 1\n    y, (z, *w) = 2, (3, 4)\n    del q\n"
           "    def g(): h = 1\n    class K: m = 2\n"
           "    lam = lambda u: (v := u)\n    [r for r in a]\n    for i in a: s += i\n")
    fn = ast.parse(src).body[0]
    got = syntax.assigned_names(fn)
    assert got == _old_assigned_names(fn)
    assert got == {"a", "b", "c", "d", "e", "x", "y", "z", "w", "q", "g", "K", "lam", "i", "s"}


# ---------------------------------------------------------------- the skipped pull


def _checked_rewrite(mp, decided):
    """``rewrite`` that first pulls the chain both ways and checks that where
    the first pull met no leaf to absorb (the rewrite then skips the second)
    the absorbing pull is the same: the same constant, node and equations."""
    rewrite = peephole._Chains.rewrite

    def checked(self, e):
        root = e.outs[0]
        old = self.val(root)
        if isinstance(old, (np.ndarray, np.generic)):
            self._root, self._node_shapes = e, {}
            reads = self.reads
            self.absorbable = False
            pulled = []
            for absorb in (False, True):
                count = [0, root, []]
                try:
                    k, node = self.pull(root, absorb, count)
                except peephole._Bail:
                    pulled.append(None)
                else:
                    pulled.append((k, node, list(count[2])))
                if not absorb:
                    skipped = not self.absorbable
            self.reads = reads
            a, b = pulled
            if skipped:
                assert (a is None) == (b is None)
                if a is not None:
                    assert a[0] == b[0] and peephole._same_node(a[1], b[1])
                    assert len(a[2]) == len(b[2]) and all(x is y for x, y in zip(a[2], b[2]))
                decided["skipped"] += 1
            else:
                decided["pulled"] += 1
                decided["differ"] += a is None or b is None or a[0] != b[0] or \
                    not peephole._same_node(a[1], b[1])
        return rewrite(self, e)
    mp.setattr(peephole._Chains, "rewrite", checked)


def test_skipped_pull_is_the_pull_it_skips(monkeypatch, tmp_path):
    decided = {"skipped": 0, "pulled": 0, "differ": 0}
    with monkeypatch.context() as mp:
        _checked_rewrite(mp, decided)
        _sources(tmp_path, 60)
        _fuzzed_gradients(120)
    # both decisions are taken; where the absorbing pull is made, it
    # (mostly) finds another chain
    assert decided["skipped"] > 500
    assert decided["pulled"] > 20 and decided["differ"] > 0


# ---------------------------------------------------------------- values and gradients


def negated_leaf(x, W, b):
    # -z is read twice (not internal to one chain): absorbed into its chains
    z = np.tanh(x @ W + b)
    n = -z
    return np.sum(n * np.cos(x)) + np.sum(n * b) + np.mean(n)


def scaled_leaves(x, W, b):
    # 2 z and z / 4 read elsewhere too; a chain of both
    z = np.sin(x @ W)
    s = 2.0 * z
    q = z / 4.0
    r = s * q + np.exp(-s) - q * b
    return np.sum(r) + np.sum(s) * np.sum(q)


def no_absorb(x, W, b):
    # products and quotients of arrays (nothing to absorb) in a chain
    z = np.tanh(x @ W)
    u = z * np.cos(x)
    v = u / (2.0 + np.sin(x))
    return np.sum(v * b) + 0.5 * np.sum(u ** 2)


def rnn_scaled(x, W, b):
    h = np.zeros(W.shape[0], dtype=x.dtype)
    loss = 0.0
    for t in range(x.shape[0]):
        h = np.tanh(W @ h + x[t] + b)
        g = -0.5 * h
        loss = loss + np.sum(g * h) - np.sum(g / 3.0)
    return loss + np.sum(h)


def with_closures(x, W, b):
    fs = []
    for k in range(3):
        fs.append(lambda z, k=k: z ** (k + 1))
    return sum(np.sum(f(x @ W + b)) for f in fs)


@pytest.mark.parametrize("fn", [negated_leaf, scaled_leaves, no_absorb, rnn_scaled,
                                with_closures])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_values_and_gradients(fn, dtype):
    rng = np.random.default_rng(13)
    x = rng.normal(size=(4, 3)).astype(dtype)
    W = (0.4 * rng.normal(size=(3, 3))).astype(dtype)
    b = (0.2 * rng.normal(size=3)).astype(dtype)
    vg = s2sgrad.value_and_grad(fn, wrt=(0, 1, 2))
    for _ in range(2):                      # (the second call: the specialised code)
        v, grads = vg(x, W, b)
        tol = 1e-4 if dtype == np.float32 else 1e-12
        assert np.allclose(v, fn(x, W, b), rtol=tol, atol=tol)
        args64 = [a.astype(np.float64) for a in (x, W, b)]
        gt = 3e-3 if dtype == np.float32 else 1e-6
        for i, g in enumerate(grads):
            assert g.dtype == dtype and g.shape == args64[i].shape
            assert np.allclose(g, _fd(fn, args64, i), rtol=gt, atol=gt), (fn.__name__, i)


def test_python_scalar_and_broadcast():
    def f(x, c):
        z = np.tanh(x)
        n = -z
        return np.sum(n * c) + np.sum((c * n) / 2.0)
    x = np.linspace(-1.0, 1.0, 12).reshape(4, 3)
    for c in (0.7, np.array([0.5, -1.0, 2.0])):
        v, (gx, gc) = s2sgrad.value_and_grad(f, wrt=(0, 1))(x, c)
        assert np.allclose(v, f(x, c), rtol=1e-12)
        assert np.allclose(gx, _fd(f, [x, np.asarray(c, dtype=float)], 0), rtol=1e-6, atol=1e-8)
        want_c = _fd(f, [x, np.asarray(c, dtype=float)], 1)
        assert np.allclose(gc, want_c, rtol=1e-6, atol=1e-8)
