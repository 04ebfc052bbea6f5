"""perf-compile7: the specialize stage's passes made cheaper without changing
what they produce.

* Loop DCE (``optimize._dce_region``) reads the carries a pruned body uses,
  and the free Vars of every kept region, from the live set DCE leaves,
  instead of walking the body again (``_uses``) per fixpoint round and
  (``free_vars``) per region.
* CSE scopes nested blocks with an undo log instead of copying the table of
  everything before each block (quadratic in the number of loops).
* ``prune_stacks`` collects pushes, consumers and reads in one walk.
* ``_specialize`` skips the passes that rewrite one kind of operation
  (``accumulate_in_place``, ``defer_row_accumulation``,
  ``accumulate_lists_in_place``, ``measure_budgets``) where the function has
  none (``specialize._has_any``).

Checked here: the generated source is byte-identical to what the former
algorithms (kept below as references) and the unskipped passes give, on the
golden functions, the bench_compile shapes and fuzzed programs; the work is
counted (walks, table copies), not timed; and values vs NumPy, gradients vs
central differences on programs whose paths changed (loops with dead carries,
nested loops, branches in loops, CSE across scopes, stacked and listed
weights)."""
from __future__ import annotations

import importlib
import os
import re
import sys

import numpy as np
import pytest

import s2sgrad
import s2sgrad.optimize as op
import s2sgrad.specialize as sp
from s2sgrad.alias import is_alloc
from s2sgrad.ir import Block, Eqn, Var
from s2sgrad.primitives.control import loop_offset
from tests import golden_functions as gf
from tests.test_compile6 import WRT, _fuzzed_gradients
from tests.test_golden import CASES

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "benchmarks"))
import bench_compile  # noqa: E402


# ---------------------------------------------------------------- references
# The algorithms as they were before perf-compile7 (main f7a6db1).


def _ref_dce_eqns(eqns, live: set) -> list:
    out = []
    for e in reversed(eqns):
        if op.is_region(e):
            e2 = _ref_dce_region(e, live)
            if e2 is not None:
                out.append(e2)
                live.update(a for a in e2.atoms() if isinstance(a, Var))
                for b in e2.blocks():
                    live.update(op.free_vars(b))
            continue
        keep = op._effect(e) or any(o in live for o in e.outs)
        if keep:
            out.append(e)
            live.update(a for a in e.atoms() if type(a) is Var)
    out.reverse()
    return out


def _ref_dce_block(block: Block, results_live=None) -> Block:
    results = list(block.results)
    live = {r for r in results if isinstance(r, Var)}
    return Block(_ref_dce_eqns(block.eqns, live), list(block.params), results)


def _ref_dce_region(e: Eqn, live: set):
    name = e.prim.name
    if name in ("checkpoint_forward", "checkpoint_backward"):
        if not any(o in live for o in e.outs):
            return None
        params = {k: (_ref_dce_block(v) if isinstance(v, Block) else v)
                  for k, v in e.params.items()}
        return Eqn(e.prim, e.args, e.kwargs, e.outs, params, e.loc)
    if name == "cond":
        keep = [i for i, o in enumerate(e.outs) if o in live]
        then, other = e.params["then"], e.params["else"]
        t = _ref_dce_block(Block(then.eqns, [], [then.results[i] for i in keep]))
        f = _ref_dce_block(Block(other.eqns, [], [other.results[i] for i in keep]))
        if not keep and not op.has_effects(t) and not op.has_effects(f):
            return None
        return Eqn(e.prim, e.args, e.kwargs, tuple(e.outs[i] for i in keep),
                   dict(e.params, then=t, **{"else": f}), e.loc)
    body = e.params["body"]
    offset = loop_offset(e)
    carries = body.params[offset:]
    keep = {i for i in range(len(carries)) if e.outs[i] in live}
    brk = e.params.get("break_at")
    if brk is not None:
        keep.add(brk)
    cond = e.params.get("cond")
    if cond is not None:
        keep |= {i for i, p in enumerate(cond.params) if p in op._uses(cond)}
    while True:
        trial = _ref_dce_block(Block(body.eqns, body.params,
                                     [body.results[i] for i in sorted(keep)]))
        used = op._uses(trial)
        more = {i for i, p in enumerate(carries) if p in used} - keep
        if not more:
            break
        keep |= more
    keep = sorted(keep)
    if not keep and not op.has_effects(trial):
        return None
    remap = {old: new for new, old in enumerate(keep)}
    params = dict(e.params)
    params["body"] = Block(trial.eqns, body.params[:offset] + [carries[i] for i in keep],
                           [body.results[i] for i in keep])
    if cond is not None:
        params["cond"] = Block(cond.eqns, [cond.params[i] for i in keep], cond.results)
    if brk is not None:
        params["break_at"] = remap[brk]
    if params.get("count_at") is not None:
        params["count_at"] = remap.get(params["count_at"])
    args = tuple(e.args[:offset]) + tuple(e.args[offset + i] for i in keep)
    return Eqn(e.prim, args, e.kwargs, tuple(e.outs[i] for i in keep), params, e.loc)


def _ref_cse_block(block: Block, subst: dict, seen: dict) -> Block:
    seen = dict(seen)
    eqns = []
    for e in block.eqns:
        args = tuple([op._sub(subst, a) for a in e.args]) if subst else e.args
        kwargs = {k: op._sub(subst, v) for k, v in e.kwargs.items()} if e.kwargs else {}
        params = e.params
        nested = e.blocks()
        if nested:
            params = {k: (_ref_cse_block(v, subst, seen) if isinstance(v, Block) else v)
                      for k, v in e.params.items()}
        e2 = Eqn(e.prim, args, kwargs, e.outs, params, e.loc)
        pk = op._params_key(e.params) if not nested else None
        if pk is not None and not op._effect(e) and e.prim.name not in op._NO_CSE \
                and not is_alloc(e) and not getattr(e.prim, "opaque_cse", False):
            key = (e.prim.name, tuple([op._atom_key(a) for a in args]),
                   tuple(sorted([(k, op._atom_key(v)) for k, v in kwargs.items()]))
                   if kwargs else (), pk)
            prev = seen.get(key)
            if prev is not None and len(prev.outs) == len(e.outs):
                for o, p in zip(e.outs, prev.outs):
                    subst[o] = p
                    if p.shape is None:
                        p.shape = o.shape
                continue
            seen[key] = e2
        eqns.append(e2)
    return Block(eqns, list(block.params), [op._sub(subst, r) for r in block.results])


def _use_references(mp):
    mp.setattr(op, "_dce_eqns", _ref_dce_eqns)
    mp.setattr(op, "_dce_block", _ref_dce_block)
    mp.setattr(op, "_dce_region", _ref_dce_region)
    mp.setattr(op, "_cse_block", _ref_cse_block)
    mp.setattr(sp, "_has_any", lambda names, *prims: True)     # every pass runs


# ---------------------------------------------------------------- programs


def _import_text(tmp_path, name, text):
    """Module ``name`` of source ``text``, written into ``tmp_path`` and imported."""
    (tmp_path / f"{name}.py").write_text(text)
    sys.path.insert(0, str(tmp_path))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(tmp_path))


def _bench_module(tmp_path, n, shape="loops", tag="", prefix="pc7"):
    """bench_compile's program of ``n`` statements of ``shape``, imported from
    a file (module names distinct per test file by ``prefix`` and ``tag``)."""
    return _import_text(tmp_path, f"{prefix}_{shape}_{n}{tag}", bench_compile.source(n, shape))


def _bench_args(shape):
    return np.full((4 if shape != "rnn" else 5, 3), 0.1), 0.1 * np.eye(3), np.zeros(3)


def _sources(tmp_path, nseeds):
    """Every generated source (polymorphic and specialised, grad and
    value_and_grad) of the golden functions, the four bench_compile shapes
    and the fuzzer's programs of seeds below ``nseeds``."""
    out = []
    for name, (_, args) in sorted(CASES.items()):
        f = getattr(gf, name[:-len("_grad")])
        for make in (s2sgrad.grad, s2sgrad.value_and_grad):
            g = make(f, wrt=WRT[f.__name__])
            g(*args)
            out += [g._last.source, g.source]
    for shape in bench_compile.SHAPES:
        mod = _bench_module(tmp_path, 40, shape)
        for make in (s2sgrad.grad, s2sgrad.value_and_grad):
            g = make(mod.f, wrt=(0, 1, 2))
            g(*_bench_args(shape))
            out += [g._last.source, g.source]
    for g in _fuzzed_gradients(nseeds):
        out.append(re.sub(r"<fuzz program \d+>", "<fuzz>", g.source))
    return out


def test_sources_identical_to_the_former_algorithms(monkeypatch, tmp_path):
    """Byte-identical generated source with the former DCE and CSE and every
    pass run (no skipping), on goldens, bench shapes and fuzzed programs."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    fast = _sources(tmp_path / "a", 60)
    with monkeypatch.context() as mp:
        _use_references(mp)
        slow = _sources(tmp_path / "b", 60)
    assert len(fast) > 60 and fast == slow


# ---------------------------------------------------------------- counted work


def _count(monkeypatch, mod, name):
    calls = [0]
    fn = getattr(mod, name)

    def counted(*a, **k):
        calls[0] += 1
        return fn(*a, **k)
    monkeypatch.setattr(mod, name, counted)
    return calls


@pytest.mark.parametrize("shape", ["loops", "rnn", "branches"])
def test_dce_walks_no_body_again(monkeypatch, tmp_path, shape):
    """DCE of loops and branches calls neither ``_uses`` nor ``free_vars``
    (a for loop without a ``cond`` block): each region's body is pruned once
    per fixpoint round and not walked again."""
    mod = _bench_module(tmp_path, 60, shape)
    uses = _count(monkeypatch, op, "_uses")
    free = _count(monkeypatch, op, "free_vars")
    regions = _count(monkeypatch, op, "_dce_region")
    s2sgrad.grad(mod.f)(*_bench_args(shape))
    assert regions[0] >= 4
    assert uses[0] == 0 and free[0] == 0, (uses, free)


def _dce_eqns_visited(monkeypatch, tmp_path, n, shape):
    visited = [0]
    inner = op._dce_eqns

    def counted(eqns, live, *kept):
        visited[0] += len(eqns)
        return inner(eqns, live, *kept)
    monkeypatch.setattr(op, "_dce_eqns", counted)
    mod = _bench_module(tmp_path, n, shape)
    s2sgrad.grad(mod.f)(*_bench_args(shape))
    monkeypatch.undo()
    return visited[0]


@pytest.mark.parametrize("shape", ["loops", "rnn"])
def test_dce_work_linear(monkeypatch, tmp_path, shape):
    """The equations DCE visits grow linearly with the function."""
    small = _dce_eqns_visited(monkeypatch, tmp_path, 60, shape)
    big = _dce_eqns_visited(monkeypatch, tmp_path, 240, shape)
    assert 3.0 < big / small < 4.6, (small, big)


def test_cse_copies_no_tables(monkeypatch, tmp_path):
    """CSE builds no dict per nested block (the former copy per block of
    the table of everything before it: quadratic in the number of loops),
    and leaves the table as it found it."""
    mod = _bench_module(tmp_path, 120, "loops")
    blocks = [0]
    sizes = []
    inner = op._cse_block

    def counted(block, subst, seen):
        blocks[0] += 1
        before = dict(seen)
        out = inner(block, subst, seen)
        sizes.append(len(seen))
        assert seen == before          # (definitions inside stay inside)
        return out
    monkeypatch.setattr(op, "_cse_block", counted)
    s2sgrad.grad(mod.f)(*_bench_args("loops"))
    assert blocks[0] > 40
    # the top-level call restores the empty table it was given
    assert sizes[-1] == 0


@pytest.mark.parametrize("shape", bench_compile.SHAPES)
def test_single_kind_passes_skipped_without_their_operations(monkeypatch, tmp_path, shape):
    """The bench shapes have no list_index_add and no checkpoint, and only
    the RNN shape an index_add (``x[t]``'s adjoint): the passes that
    rewrite only those operations do not run without them."""
    mod = _bench_module(tmp_path, 30, shape)
    counts = [_count(monkeypatch, sp, n) for n in (
        "accumulate_in_place", "defer_row_accumulation", "accumulate_lists_in_place",
        "measure_budgets")]
    s2sgrad.grad(mod.f)(*_bench_args(shape))
    assert [c[0] for c in counts] == ([1, 1, 0, 0] if shape == "rnn" else [0, 0, 0, 0])


# ---------------------------------------------------------------- values and gradients


def _fd(f, args, i, eps=1e-6):
    x = np.array(args[i], dtype=np.float64)
    g = np.zeros_like(x)
    for j in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[j] += eps
        xm[j] -= eps
        ap, am = list(args), list(args)
        ap[i], am[i] = xp, xm
        g[j] = (f(*ap) - f(*am)) / (2 * eps)
    return g


def dead_carries(x, W):
    h = x
    a = x * 2.0          # a carry nothing after the loop reads
    c = np.sum(x)        # read only by the next carry's update: live
    for t in range(3):
        a = a + np.sin(h)
        c = c * 0.5 + np.sum(h)
        h = np.tanh(W @ h) + 0.1 * c
    return np.sum(h ** 2)


def nested_loops(x, W):
    h = x
    s = 0.0
    for i in range(2):
        for j in range(3):
            h = np.tanh(W @ h + 0.1 * j)
            s = s + np.sum(h)
        h = h * 0.5 + np.cos(h)
    return s + np.sum(h)


def branch_in_loop(x, W):
    h = x
    for t in range(4):
        if np.sum(h) > 0:
            h = np.tanh(W @ h)
            u = np.exp(-h)
        else:
            h = np.sin(h) + 1.0
            u = h * 2.0
        h = h + 0.1 * u
    return np.sum(h ** 2)


def cse_scopes(x, W):
    y = np.tanh(W @ x)            # computed again inside the loop: shared
    h = x
    for t in range(3):
        z = np.tanh(W @ x)        # the same as y
        h = h * z + np.exp(-h)
        w = np.sin(h) * 2.0       # a loop-local value ...
        h = h + w
    w2 = np.sin(h) * 2.0          # ... computed after the loop again: not shared with it
    if np.sum(h) > 0:
        q = np.exp(-y)
    else:
        q = np.exp(-y) * 2.0
    return np.sum(h * w2) + np.sum(q * y)


def stacked_weights(x, Ws):
    h = x
    for i in range(Ws.shape[0]):
        h = np.tanh(Ws[i] @ h)
    return np.sum(h ** 2)


def listed_weights(x, W0, W1, W2):
    Ws = [W0, W1, W2]
    h = x
    for i in range(3):
        h = np.tanh(Ws[i] @ h)
    return np.sum(h ** 2)


R = np.random.default_rng(7)
PROGRAMS = [
    (dead_carries, (R.standard_normal(3), 0.5 * R.standard_normal((3, 3))), (0, 1)),
    (nested_loops, (R.standard_normal(3), 0.5 * R.standard_normal((3, 3))), (0, 1)),
    (branch_in_loop, (R.standard_normal(3), 0.5 * R.standard_normal((3, 3))), (0, 1)),
    (branch_in_loop, (-np.abs(R.standard_normal(3)), 0.5 * R.standard_normal((3, 3))), (0, 1)),
    (cse_scopes, (R.standard_normal(3), 0.5 * R.standard_normal((3, 3))), (0, 1)),
    (stacked_weights, (R.standard_normal(3), 0.5 * R.standard_normal((4, 3, 3))), (0, 1)),
    (listed_weights, (R.standard_normal(3),) + tuple(0.5 * R.standard_normal((3, 3))
                                                     for _ in range(3)), (0, 1, 2, 3)),
]


@pytest.mark.parametrize("f,args,wrt", PROGRAMS,
                         ids=[f"{p[0].__name__}{i}" for i, p in enumerate(PROGRAMS)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_values_and_gradients(f, args, wrt, dtype):
    args = tuple(np.asarray(a, dtype=dtype) for a in args)
    vg = s2sgrad.value_and_grad(f, wrt=wrt)
    for _ in range(2):                       # polymorphic, then specialised code
        value, grads = vg(*args)
        grads = grads if isinstance(grads, tuple) else (grads,)
        ref = f(*args)
        tol = 1e-12 if dtype == np.float64 else 1e-5
        np.testing.assert_allclose(value, ref, rtol=tol * 10, atol=tol)
        for i, gi in zip(wrt, grads):
            assert np.asarray(gi).dtype == dtype
            fd = _fd(f, tuple(np.asarray(a, np.float64) for a in args), i)
            np.testing.assert_allclose(gi, fd, rtol=1e-6 if dtype == np.float64 else 2e-3,
                                       atol=1e-7 if dtype == np.float64 else 2e-3)
