"""perf-compile6: the peephole's size-aware lower bound (``_fewest_eqns`` with
the rewriting ``_Chains``) refuses a chain before rebuilding it only when the
rebuilt chain could not be cheaper.  Here every chain tried is rebuilt (the
bound switched off) and the bound is compared with what the rebuilding
emits: it must never exceed it (else a rewrite the full build keeps would
be lost and the generated code would change).  On the golden functions,
the bench_compile shapes and fuzzed programs."""
from __future__ import annotations

import importlib
import re
import os
import sys

import numpy as np
import pytest

import s2sgrad
import s2sgrad.peephole as pp
from tests import golden_functions as gf
from tests import test_fuzz as fz
from tests.test_golden import CASES

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "benchmarks"))
import bench_compile  # noqa: E402


class _Recorder:
    """Rebuilds every chain (the module-level bound answers 0) and records,
    for each rebuilt one, the size-aware bound next to what was emitted."""

    def __init__(self, monkeypatch):
        self.seen = []        # (bound, cost, n_eqns, fewest)
        self.bailed_bound = 0
        orig_emit, fewest = pp._Chains.emit, pp._fewest_eqns
        rec = self

        def emit(self, k, node, root_eqn):
            try:
                f = fewest(node, k, self)
                bound = f * (pp._EQN_COST + self._least_size(node))
            except pp._Bail:
                f = bound = None
            try:
                eqns, res, cost = orig_emit(self, k, node, root_eqn)
            except pp._Bail:
                if f is None:
                    rec.bailed_bound += 1
                raise
            # where the bound bails, the rebuilding must bail too
            assert f is not None, "the bound refused a chain the rebuilding builds"
            rec.seen.append((bound, cost, len(eqns), f))
            return eqns, res, cost
        monkeypatch.setattr(pp._Chains, "emit", emit)
        monkeypatch.setattr(pp, "_fewest_eqns", lambda node, k=1.0, chains=None: 0)

    def check(self):
        for bound, cost, n_eqns, f in self.seen:
            assert f <= n_eqns and bound <= cost, (bound, cost, n_eqns, f)


WRT = {"f_xyz": (0, 1, 2), "logistic": 0, "rnn": (0, 1), "relu_branch": 0}


def test_bound_on_golden_functions(monkeypatch):
    rec = _Recorder(monkeypatch)
    for name, (_, args) in sorted(CASES.items()):
        f = getattr(gf, name[:-len("_grad")])
        s2sgrad.grad(f, wrt=WRT[f.__name__])(*args)
        s2sgrad.value_and_grad(f, wrt=WRT[f.__name__])(*args)
    monkeypatch.undo()
    assert rec.seen
    rec.check()


@pytest.mark.parametrize("shape", bench_compile.SHAPES)
def test_bound_on_bench_shapes(monkeypatch, tmp_path, shape):
    rec = _Recorder(monkeypatch)
    name = f"pc6_{shape}"
    (tmp_path / f"{name}.py").write_text(bench_compile.source(60, shape))
    sys.path.insert(0, str(tmp_path))
    try:
        mod = importlib.import_module(name)
    finally:
        sys.path.remove(str(tmp_path))
    x, W, b = np.full((4 if shape != "rnn" else 5, 3), 0.1), 0.1 * np.eye(3), np.zeros(3)
    s2sgrad.grad(mod.f)(x, W, b)
    monkeypatch.undo()
    assert len(rec.seen) > 5
    rec.check()


def _fuzzed_gradients(nseeds, keep_refusals=False):
    """The compiled gradients of the fuzzer's programs of seeds below
    ``nseeds`` that compile and run (each called once); with
    ``keep_refusals``, the exception of each of the others in its place."""
    out = []
    for seed in range(nseeds):
        try:
            src, specs, _ = fz.generate(seed)
        except RecursionError:
            continue
        f = fz.load(src)
        args = fz.make_args(specs, seed)
        wrt = tuple(i for i, (_, k, _, _) in enumerate(specs)
                    if k not in ("int", "idx", "default"))
        try:
            g = s2sgrad.grad(f, wrt=wrt)
            g(*args)
        except Exception as exc:    # noqa: BLE001 (programs refused by design: not ours)
            if keep_refusals:
                out.append(exc)
            continue
        out.append(g)
    return out


def test_bound_on_fuzzed_programs(monkeypatch):
    rec = _Recorder(monkeypatch)
    ran = len(_fuzzed_gradients(80))
    monkeypatch.undo()
    assert ran > 40 and len(rec.seen) > 20
    rec.check()


def _sources_of_programs():
    out = [re.sub(r"<fuzz program \d+>", "<fuzz>", g.source) for g in _fuzzed_gradients(40)]
    for name, (_, args) in sorted(CASES.items()):
        f = getattr(gf, name[:-len("_grad")])
        g = s2sgrad.grad(f, wrt=WRT[f.__name__])
        g(*args)
        out.append(g.source)
    return out


def test_same_chain_rebuilt_once_changes_nothing(monkeypatch):
    """The absorbing version of a chain that pulls the same tree as the
    plain one is not rebuilt again (_same_node); with every version rebuilt
    and the size-aware bound off, the generated source is the same."""
    fast = _sources_of_programs()
    monkeypatch.setattr(pp, "_same_node", lambda a, b: False)
    monkeypatch.setattr(pp, "_fewest_eqns", lambda node, k=1.0, chains=None: 0)
    slow = _sources_of_programs()
    monkeypatch.undo()
    assert len(fast) > 20 and fast == slow


def test_same_node_compares_trees():
    from s2sgrad.ir import Var
    a, b = Var("a"), Var("b")
    assert pp._same_node(("prod", [("var", a), ("var", b)], [], False, None),
                         ("prod", [("var", a), ("var", b)], [], False, None))
    assert not pp._same_node(("prod", [("var", a), ("var", b)], [], False, None),
                             ("prod", [("var", a), ("var", a)], [], False, None))
    assert not pp._same_node(("sum", [(1.0, ("var", a))], None),
                             ("sum", [(2.0, ("var", a))], None))
    assert not pp._same_node(("var", a), ("var", Var("a")))     # another value, same name
