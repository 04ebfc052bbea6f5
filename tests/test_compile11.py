"""Compile time, session 23 (issue 10): cheaper internals, the same output.

* specialize._Infer.loop: from the second round of a loop's fixpoint on,
  an operation :meth:`_Infer.simple` evaluates is not evaluated again when
  none of its operands' examples or static flags changed since the second
  round began (``_Infer.changed``, noted by ``_Infer.set``; random draws
  are always evaluated again).  An RNN's forward body is evaluated twice
  (its loss carry goes from ``0.0`` to a NumPy scalar); the second time
  only what depends on the loss is.
* ir.rename_reads: an equation's operand tuple and keyword dict are
  rebuilt only when one of them is renamed.

Each is checked against the former code (every operation evaluated again;
operands always rebuilt) on the golden functions, the four bench_compile
shapes and fuzzed programs (byte-identical generated source), the
examples and static flags of the abstract evaluation compared Var by Var,
and values and gradients against NumPy and central differences.
"""
from __future__ import annotations

import numpy as np
import pytest

import s2sgrad
import s2sgrad.specialize as sp
from s2sgrad import ir
from s2sgrad.ir import Var
from tests.test_compile6 import _fuzzed_gradients
from tests.test_compile7 import _bench_args, _bench_module, _sources
from tests.test_list_loops7 import fd as _fd


# ---------------------------------------------------------------- the former code


def _never_same_again(self, e):
    return False


def _old_rename_reads(block, subst):
    if not subst:
        return

    def sub(a):
        return subst.get(a, a) if isinstance(a, Var) else a

    def walk(b):
        for e in b.eqns:
            e.args = tuple(sub(a) for a in e.args)
            e.kwargs = {k: sub(v) for k, v in e.kwargs.items()}
            for nb in (e.blocks() if e.params else ()):
                walk(nb)
        b.results = [sub(r) for r in b.results]
    walk(block)
    del walk


def _use_former_code(mp):
    mp.setattr(sp._Infer, "_same_again", _never_same_again)
    for mod in _renamers():
        mp.setattr(mod, "rename_reads", _old_rename_reads)


def _renamers():
    """The modules that call ir.rename_reads by a name of their own."""
    import importlib
    out = [ir]
    for name in ("s2sgrad.optimize", "s2sgrad.gradcall"):
        m = importlib.import_module(name)
        if getattr(m, "rename_reads", None) is ir.rename_reads:
            out.append(m)
    return out


def test_sources_identical_to_the_former_code(monkeypatch, tmp_path):
    """Byte-identical generated source (polymorphic and specialised, grad and
    value_and_grad) on goldens, bench shapes and fuzzed programs."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    fast = _sources(tmp_path / "a", 80)
    with monkeypatch.context() as mp:
        _use_former_code(mp)
        slow = _sources(tmp_path / "b", 80)
    assert len(fast) > 80 and fast == slow


# ---------------------------------------------------------------- the examples themselves


def _same_example(a, b) -> bool:
    if a is sp.UNKNOWN or b is sp.UNKNOWN:
        return a is b
    if type(a) is not type(b):
        return False
    if isinstance(a, (np.ndarray, np.generic)):
        return a.shape == b.shape and a.dtype == b.dtype
    if type(a) is sp._Stack:
        if (a.items is None) != (b.items is None) or a.read != b.read:
            return False
        return a.items is None or (len(a.items) == len(b.items) and all(
            _same_example(x, y) for x, y in zip(a.items, b.items)))
    if type(a) in (int, float, bool, complex, str, range, slice, type(None)):
        return a == b or (a != a and b != b)
    return sp._same(a, b) or repr(a) == repr(b)


def _infer_both(monkeypatch, func, leaves):
    """The abstract evaluation of ``func`` with and without re-evaluating
    unchanged operations, and how many evaluations each made."""
    counts = {"fast": 0, "slow": 0}
    simple = sp._Infer.simple

    def counted(key):
        def run(self, e):
            counts[key] += 1
            return simple(self, e)
        return run
    monkeypatch.setattr(sp._Infer, "simple", counted("fast"))
    with sp._Quiet():
        fast = sp.infer(func, leaves)
    with monkeypatch.context() as mp:
        mp.setattr(sp._Infer, "_same_again", _never_same_again)
        mp.setattr(sp._Infer, "simple", counted("slow"))
        with sp._Quiet():
            slow = sp.infer(func, leaves)
    return fast, slow, counts


def _check_same_inference(fast, slow):
    assert (fast is None) == (slow is None)
    if fast is None:
        return
    assert fast.ex.keys() == slow.ex.keys()
    for v, x in slow.ex.items():
        assert _same_example(fast.ex[v], x), (v, fast.ex[v], x)
        if v in slow.static:
            assert fast.ex[v] == x or (x != x and fast.ex[v] != fast.ex[v])
    assert fast.static == slow.static


@pytest.mark.parametrize("shape", ["rnn", "loops", "branches", "straight"])
def test_examples_identical_on_bench_shapes(monkeypatch, tmp_path, shape):
    mod = _bench_module(tmp_path, 30, shape, prefix="pc11")
    g = s2sgrad.grad(mod.f, wrt=(0, 1, 2))
    args = _bench_args(shape)
    g(*args)
    func = g._last.func
    fast, slow, counts = _infer_both(monkeypatch, func, list(args))
    _check_same_inference(fast, slow)
    if shape == "rnn":
        # the forward body's second round: only the loss's operations again
        assert counts["fast"] < 0.85 * counts["slow"], counts


def test_examples_identical_on_fuzzed_programs(monkeypatch):
    """Every abstract evaluation the fuzzed programs' first calls make,
    evaluated again with and without skipping: the same examples."""
    seen = []
    infer = sp.infer

    def capture(func, leaves):
        seen.append((func, list(leaves)))
        return infer(func, leaves)
    with monkeypatch.context() as mp:
        mp.setattr(sp, "infer", capture)
        assert len(_fuzzed_gradients(60)) > 30
    assert len(seen) > 30
    for func, leaves in seen:
        fast, slow, _ = _infer_both(monkeypatch, func, leaves)
        monkeypatch.undo()
        _check_same_inference(fast, slow)


# ---------------------------------------------------------------- values and gradients


def rnn_loss(x, W, b):
    # the loss carry changes kind (0.0 -> a NumPy scalar): two rounds
    h = np.zeros(W.shape[0], dtype=x.dtype)
    loss = 0.0
    for t in range(x.shape[0]):
        h = np.tanh(W @ h + x[t] + b)
        loss = loss + np.sum(h ** 2)
        h = h * 0.5 + np.sin(h)
    return loss + np.sum(h)


def nested_changing(x, W, b):
    # an inner loop whose carry changes kind in the outer loop's second round
    acc = 0.0
    h = x[0] * 1.0
    for t in range(x.shape[0]):
        s = 0
        for _ in range(2):
            s = s + np.sum(np.cos(h * W[0]))
            h = np.tanh(h + b)
        acc = acc + s * x[t, 0]
    return acc + np.sum(h * h)


def repeated_use(x, W, b):
    # the same value read twice and a Python-scalar carry that becomes an array
    y = 0.0
    for t in range(x.shape[0]):
        z = x[t] * x[t] + b
        y = y + z * z
    return np.sum(y * W[0])


@pytest.mark.parametrize("fn", [rnn_loss, nested_changing, repeated_use])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_values_and_gradients(fn, dtype):
    rng = np.random.default_rng(11)
    x = rng.normal(size=(4, 3)).astype(dtype)
    W = (0.3 * rng.normal(size=(3, 3))).astype(dtype)
    b = (0.1 * rng.normal(size=3)).astype(dtype)
    vg = s2sgrad.value_and_grad(fn, wrt=(0, 1, 2))
    v, grads = vg(x, W, b)
    tol = 1e-4 if dtype == np.float32 else 1e-12
    assert np.allclose(v, fn(x, W, b), rtol=tol, atol=tol)
    args64 = [a.astype(np.float64) for a in (x, W, b)]
    for i, g in enumerate(grads):
        assert g.dtype == dtype
        want = _fd(fn, args64, i)
        gt = 3e-3 if dtype == np.float32 else 1e-6
        assert np.allclose(g, want, rtol=gt, atol=gt), (fn.__name__, i)
    # a second call at another point (the cached specialisation)
    x2 = (x * 0.5 + 0.1).astype(dtype)
    v2, g2 = vg(x2, W, b)
    assert np.allclose(v2, fn(x2, W, b), rtol=tol, atol=tol)
    want = _fd(fn, [x2.astype(np.float64)] + args64[1:], 0)
    assert np.allclose(g2[0], want, rtol=3e-3 if dtype == np.float32 else 1e-6,
                       atol=3e-3 if dtype == np.float32 else 1e-6)


def test_random_draws_in_a_loop_evaluated_again(monkeypatch):
    """A draw in a loop body evaluated twice is evaluated again in the second
    round (a throwaway generator's numbers differ each time), and the
    gradient of a program with one is right."""
    def noisy(x, seed):
        rng = np.random.default_rng(seed)
        acc = 0.0
        for t in range(3):
            eps = rng.normal(size=x.shape)
            acc = acc + np.sum((x + 0.1 * eps) ** 2)
        return acc
    draws = []
    same_again = sp._Infer._same_again

    def spy(self, e):
        r = same_again(self, e)
        if getattr(e.prim, "effect", None) == "random":
            draws.append(r)
        return r
    monkeypatch.setattr(sp._Infer, "_same_again", spy)
    x = np.linspace(-1.0, 1.0, 5)
    g = s2sgrad.grad(noisy)(x, 3)
    monkeypatch.undo()
    assert draws and not any(draws)
    want = _fd(lambda y: noisy(y, 3), [x], 0)
    assert np.allclose(g, want, rtol=1e-6, atol=1e-6)


def test_rename_reads_keeps_untouched_operands():
    from s2sgrad.ir import Block, Const, Eqn
    from s2sgrad.primitives.core import REGISTRY
    a, b, c, d = Var("a"), Var("b"), Var("c"), Var("d")
    add = REGISTRY["add"]
    e1 = Eqn(add, (a, Const(1.0)), {}, (c,))
    e2 = Eqn(add, (b, c), {}, (d,))
    kept = e1.args
    blk = Block([e1, e2], [], [d])
    ir.rename_reads(blk, {b: a})
    assert e1.args is kept                       # nothing of it renamed
    assert e2.args == (a, c) and type(e2.args) is tuple
    assert blk.results == [d]
    e3 = Eqn(add, [b, c], {}, (Var("e"),))       # a list of operands: a tuple after
    blk2 = Block([e3], [], [])
    ir.rename_reads(blk2, {c: a})
    assert e3.args == (b, a) and type(e3.args) is tuple


# ---------------------------------------------------------------- one walk of a loop body


def _loop_bodies():
    """The bodies of every loop in the golden functions, the corpus and trust
    test programs, the fuzzer's programs and the bench shapes (as parsed)."""
    import ast
    import glob
    import os
    import bench_compile
    import tests.test_fuzz as fz
    here = os.path.dirname(os.path.abspath(__file__))
    texts = [open(p).read() for p in sorted(glob.glob(os.path.join(here, "golden_functions.py")) +
                                            glob.glob(os.path.join(here, "test_corpus*.py")) +
                                            glob.glob(os.path.join(here, "test_trust*.py")) +
                                            glob.glob(os.path.join(here, "test_list*.py")))]
    texts += [bench_compile.source(40, s) for s in bench_compile.SHAPES]
    for seed in range(150):
        try:
            texts.append(fz.generate(seed)[0])
        except RecursionError:
            continue
    for t in texts:
        for n in ast.walk(ast.parse(t)):
            if isinstance(n, (ast.For, ast.While)):
                yield n.body


def test_rebindings_kept_any_is_the_walk_of_kept_in_list():
    from s2sgrad.lower.syntax import Rebindings, _kept_in_list
    counts = {True: 0, False: 0}
    for body in _loop_bodies():
        want = any(_kept_in_list(st) for st in body)
        assert Rebindings(body).kept_any == want, [__import__("ast").unparse(s) for s in body]
        counts[want] += 1
    assert counts[True] > 50 and counts[False] > 50, counts


@pytest.mark.parametrize("src,kept", [
    ("for t in range(3):\n    hs.append(h)\n", True),
    ("for t in range(3):\n    hs.append(h[1:])\n", True),
    ("for t in range(3):\n    hs.insert(0, h)\n", True),
    ("for t in range(3):\n    hs.extend([h, g])\n", True),
    ("for t in range(3):\n    hs += [h]\n", True),
    ("for t in range(3):\n    hs.append(h + 1)\n", False),      # a new value
    ("for t in range(3):\n    hs.append(2.0)\n", False),
    ("for t in range(3):\n    f = lambda: hs.append(h)\n", False),  # not entered
    ("for t in range(3):\n    x = [hs.append(h) for _ in range(2)]\n", False),
    ("for t in range(3):\n    if c:\n        hs.append(h)\n", True),
])
def test_rebindings_kept_any_cases(src, kept):
    import ast
    from s2sgrad.lower.syntax import Rebindings, _kept_in_list
    body = ast.parse(src).body[0].body
    assert any(_kept_in_list(st) for st in body) == kept
    assert Rebindings(body).kept_any == kept
