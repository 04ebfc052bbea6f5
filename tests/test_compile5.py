"""The compile-time shortcuts of session 19 (perf-compile5) answer exactly
what the walks they replace answered.

* :class:`s2sgrad.lower.syntax.Rebindings` (one walk of a loop body) against
  :func:`~s2sgrad.lower.syntax.rebinds` / :func:`~s2sgrad.lower.syntax.rebinds_plainly`
  (a walk per name), for every name of every statement list;
* the iterative :func:`~s2sgrad.lower.syntax.has_node` against the recursive
  walk it replaced (kept here as the reference);
* :func:`~s2sgrad.lower.syntax.kept_then_written`'s early exit: where no
  statement can put an array into a list, the events have no such event;
* codegen's memoised walk back through in-place writes
  (``CodeGen._inits_written_through``) against the plain walk, on every
  question code generation asks while compiling;

on hand-written bodies, the golden functions, the benchmark shapes and
fuzzed programs (tests/test_fuzz.py's generator).  No timings here.
"""
from __future__ import annotations

import ast
import inspect
import os
import sys
import textwrap

import numpy as np
import pytest

import s2sgrad
from s2sgrad import codegen
from s2sgrad.lower import syntax
from s2sgrad.lower.syntax import Rebindings, has_node, kept_then_written, rebinds, \
    rebinds_plainly
from tests import golden_functions as gf
from tests import test_fuzz as fz

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "benchmarks"))
import bench_compile  # noqa: E402

HAND = [
    """
    for i in range(3):
        x += 1
        y = x * 2
        z[0] = y
        w.append(y)
    """,
    """
    while k < 3:
        a, (b, c) = 1, (2, 3)
        f = lambda q: q + 1
        def g(u):
            v = u
            v += 1
            return v
        s = [t for t in range(3)]
        if (m := k) > 1:
            break
        for j in range(2):
            if j:
                return j
            n = j
            continue
        k += 1
    """,
    """
    for r in rows:
        acc = acc + r
        rows2.append(r)
        r[0] = 1.0
        with np.errstate(all="ignore"):
            e = np.log(r)
            e += 1
        try:
            pass
        finally:
            fin = 2
    """,
    """
    for i in range(4):
        h = np.tanh(h)
        hs += [h]
        h[1:] += 2.0
        class K:
            attr = 1
    """,
]


def _sources():
    out = [("hand%d" % i, textwrap.dedent(s)) for i, s in enumerate(HAND)]
    for name in ("f_xyz", "logistic", "rnn", "relu_branch"):
        out.append((name, textwrap.dedent(inspect.getsource(getattr(gf, name)))))
    for shape in bench_compile.SHAPES:
        out.append((f"bench_{shape}", bench_compile.source(40, shape)))
    for seed in range(60):
        try:
            src, _, _ = fz.generate(seed)
        except RecursionError:
            continue
        out.append((f"fuzz{seed}", src))
    return out


SOURCES = _sources()


def _stmt_lists(tree):
    for n in ast.walk(tree):
        for f in ("body", "orelse", "finalbody"):
            v = getattr(n, f, None)
            if isinstance(v, list) and v and isinstance(v[0], ast.stmt):
                yield v


def _names(stmts):
    names = set()
    for s in stmts:
        names.update(n.id for n in ast.walk(s) if isinstance(n, ast.Name))
    return sorted(names) + ["not_a_name"]


def _old_walk_no_loops(node):
    # the recursive walk has_node used before (the reference)
    yield node
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.For, ast.While, ast.FunctionDef, ast.Lambda)):
            if isinstance(child, (ast.For, ast.While)):
                for m in ast.walk(child):
                    if isinstance(m, ast.Return):
                        yield m
            continue
        yield from _old_walk_no_loops(child)


def _old_has_node(stmts, node_type):
    return any(isinstance(n, node_type) for s in stmts for n in _old_walk_no_loops(s))


@pytest.mark.parametrize("name,src", SOURCES, ids=[n for n, _ in SOURCES])
def test_rebindings_equal_the_walks(name, src):
    tree = ast.parse(src)
    lists = list(_stmt_lists(tree))
    assert lists
    asked = 0
    for stmts in lists:
        rb = Rebindings(stmts)
        for n in _names(stmts):
            assert rb.rebinds(n) == rebinds(stmts, n), (name, n)
            assert rb.rebinds_plainly(n) == rebinds_plainly(stmts, n), (name, n)
            asked += 1
    assert asked


@pytest.mark.parametrize("name,src", SOURCES, ids=[n for n, _ in SOURCES])
def test_has_node_equals_the_recursive_walk(name, src):
    tree = ast.parse(src)
    found = 0
    for stmts in _stmt_lists(tree):
        for t in (ast.Return, ast.Break, ast.Continue, (ast.Break, ast.Return), ast.AugAssign,
                  ast.For):
            got = has_node(stmts, t)
            assert got == _old_has_node(stmts, t), (name, t)
            found += got
    if name in ("hand1",):
        assert found       # (the corpus has returns and breaks to find)


@pytest.mark.parametrize("name,src", SOURCES, ids=[n for n, _ in SOURCES])
def test_kept_then_written_early_exit(name, src):
    """The early exit's premise: a body none of whose statements can put an
    array into a list (a whole-statement walk, every item taken for a
    reference) has no such event; where it can, the full search runs."""
    tree = ast.parse(src)
    for stmts in _stmt_lists(tree):
        ev = syntax._events(stmts, (), lambda n: True, None, [])
        if not any(syntax._kept_in_list(st) for st in stmts):
            assert not any(k == "A" for k, *_ in ev), name
            assert kept_then_written(stmts, lambda n: True) is None


def test_kept_then_written_still_finds_the_pair():
    body = ast.parse(textwrap.dedent("""
        for i in range(3):
            rows.append(a)
            a[0] = 1.0
    """)).body[0].body
    name, node, st = kept_then_written(body, lambda n: True)
    assert name == "a" and isinstance(st, ast.Assign)


def _plain_walk(cg, y):
    seen = 0
    while seen < 10_000:
        d = cg.defs.get(y)
        if d is None or d[0] != "eqn" or d[1] not in cg.inplace or \
                not isinstance(d[1].args[0], codegen.Var):
            break
        y = d[1].args[0]
        seen += 1
    return cg._carry_chain(y)[1:] if seen else []


def test_inits_written_through_memo_equals_walk(monkeypatch, tmp_path):
    """Every question code generation asks while compiling the benchmark
    shapes' gradients (in-place accumulations in loop bodies) and the golden
    functions': the memoised answer is the plain walk's."""
    orig = codegen.CodeGen._inits_written_through
    asked = []
    compared = []

    def checked(self, y):
        got = orig(self, y)
        want = _plain_walk(self, y)
        assert len(got) == len(want) and all(a is b for a, b in zip(got, want))
        asked.append(bool(got))
        return got
    monkeypatch.setattr(codegen.CodeGen, "_inits_written_through", checked)
    sys.path.insert(0, str(tmp_path))
    try:
        for shape in bench_compile.SHAPES:
            (tmp_path / f"c5_{shape}.py").write_text(bench_compile.source(60, shape))
            mod = __import__(f"c5_{shape}")
            x = np.full((4 if shape != "rnn" else 5, 3), 0.1)
            W, b = 0.1 * np.eye(3), np.zeros(3)
            g = s2sgrad.grad(mod.f, wrt=(0, 1, 2))
            gs = g(x, W, b)
            # (the value is checked against central differences: the shortcut
            # decides in-place writes, so a wrong answer is a wrong number)
            # (where differences at two step sizes disagree the point is not
            # smooth -- a branch on the sign of a sum that decays to 0 --
            # and differences say nothing: skipped, as the fuzzer does)
            for k, a in enumerate((x, W, b)):
                fds = []
                for step in (1e-6, 1e-5):
                    fd = np.zeros_like(a)
                    for idx in np.ndindex(a.shape):
                        args = [x.copy(), W.copy(), b.copy()]
                        args[k][idx] += step
                        up = mod.f(*args)
                        args[k][idx] -= 2 * step
                        fd[idx] = (up - mod.f(*args)) / (2 * step)
                    fds.append(fd)
                if not np.allclose(fds[0], fds[1], rtol=1e-4, atol=1e-6):
                    continue
                np.testing.assert_allclose(gs[k], fds[0], rtol=1e-5, atol=1e-7)
                compared.append((shape, k))
        R = np.random.default_rng(0)
        s2sgrad.grad(gf.rnn, wrt=(0, 1))(R.standard_normal((2, 2)), R.standard_normal((2, 3)),
                                         R.standard_normal((4, 3)), np.zeros(2))
    finally:
        sys.path.remove(str(tmp_path))
    assert asked and any(asked)     # (the loops accumulate in place: walks that go back)
    assert {sh for sh, _ in compared} >= {"straight", "loops", "rnn"}
