"""Compile time, session 26 (issue 10): passes that find nothing to do skip
their walks; the same output.

* ``list_arrays.list_arrays``: every rewrite before the map loops starts at
  a ``list_pop`` or a ``list_build`` (``_has_list_ops``); without either the
  walk for the uses of every value (``peephole._uses``) is not made.
* ``list_arrays.vectorise_maps``: the uses are made at the first question
  (``_LazyUses``); ``_map_loop`` tests every carry's initial value (an
  array of the trip count's rows, ``_carries_fit``) before it scans the
  body, and ``_maps_in`` makes a block's definitions at its first loop.
  An RNN's loops are refused by the first test: no walk, no scan.
* ``specialize._specialize`` runs ``accumulate_in_place`` (which rewrites
  only sums of ``index_add`` results) only where there is an ``index_add``.
* ``optimize.hoist_invariants`` walks a loop body for what it defines only
  where it has something to hoist (``_has_hoistable``);
  ``optimize.elide_broadcasts`` lists the readers of the broadcasts alone
  (``_readers_of``); ``peephole._sum_factors`` makes a block's products by
  result at its first sum; ``reverse.guard_real_only`` makes no dataflow
  walk without a ``real_only`` primitive (``_has_real_only``);
  ``lower.calls.call_static`` skips the schedule and transform tests for
  NumPy ufuncs and array functions (``_NUMPY_CALLABLES``);
  ``remat.count_records`` makes no second walk without a checkpointed loop.

Checked here: the generated source is byte-identical to what the former
code gives (each skip undone: the tests below put the former behaviour
back by monkeypatching the tests the new code asks) on the golden
functions, the bench_compile shapes, fuzzed programs and the list and map
loop programs of earlier sessions; every ``_carries_fit`` refusal is a loop
``_map_loop`` refuses anyway; the work is counted, not timed; values vs
NumPy and gradients vs central differences (float64, float32, Python and
NumPy scalars, broadcasting) on programs whose paths changed.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

import s2sgrad
from s2sgrad import list_arrays as la
from s2sgrad import optimize as op
from s2sgrad import peephole
from s2sgrad import reverse as rv
from s2sgrad.lower import calls
from s2sgrad import specialize as sp
from s2sgrad.ir import readers
from tests import test_list_loops7 as ll7
from tests import test_loops10 as lp10
from tests.test_compile7 import _bench_args, _bench_module, _import_text
from tests.test_compile7 import _sources as _golden_bench_sources
from tests.test_list_loops7 import data, fd


# ---------------------------------------------------------------- the former code


def _use_former_code(mp):
    """Every skip of this session undone: list_arrays walks for the uses
    whatever the function holds, vectorise_maps makes them first and
    _map_loop scans the body first, every single-kind pass runs."""
    mp.setattr(la, "_has_list_ops", lambda func: True)
    mp.setattr(la, "_LazyUses", peephole._uses)
    mp.setattr(la, "_carries_fit", lambda *a: True)
    mp.setattr(sp, "_has_any", lambda names, *prims: True)
    mp.setattr(op, "_has_hoistable", lambda body: True)
    mp.setattr(op, "_readers_of", lambda func, wanted: readers(func))
    mp.setattr(rv, "_has_real_only", lambda func: True)
    mp.setattr(calls, "_NUMPY_CALLABLES", frozenset())


def stacked_weights(Ws, x):
    # the adjoint of Ws[i] in a loop: index_add summed into Ws_bar
    # (accumulate_in_place's rewrite)
    h = x
    for i in range(Ws.shape[0]):
        h = np.tanh(Ws[i] @ h)
    return np.sum(h ** 2)


def stacked_weights_mean(Ws, x, c):
    h = x
    s = 0.0
    for i in range(Ws.shape[0]):
        h = np.sin(Ws[i] @ h) * c
        s = s + np.mean(h)
    return s


def _list_programs():
    """(function, wrt, arguments) of the list and map loop programs of
    sessions 7 and 10 and the stacked-weights ones above."""
    out = []
    for f in ll7.PROGRAMS:
        out.append((f, (0, 1, 2), data()))
    for f, extra in lp10.MAPS + lp10.NOT_MAPS:
        out.append((f, (0, 1, 2), lp10._args(extra)))
    X, w = lp10._xw()
    for f in lp10.ROW_MAPS + [lp10.rows_prefix]:
        out.append((f, (0, 1), (X, w)))
    rng = np.random.default_rng(3)
    Ws = 0.5 * rng.standard_normal((4, 3, 3))
    x = rng.standard_normal(3)
    out.append((stacked_weights, (0, 1), (Ws, x)))
    out.append((stacked_weights_mean, (0, 1), (Ws, x, 0.7)))
    return out


def _sources(tmp_path, nseeds):
    """The generated sources (polymorphic and specialised, grad and
    value_and_grad) of goldens, bench shapes and fuzzed programs
    (test_compile7's) and of the list programs."""
    out = _golden_bench_sources(tmp_path, nseeds)
    for f, wrt, args in _list_programs():
        for make in (s2sgrad.grad, s2sgrad.value_and_grad):
            g = make(f, wrt=wrt)
            g(*args)
            out += [g._last.source, g.source]
    return [re.sub(r"<fuzz program \d+>", "<fuzz>", s) for s in out]


def test_sources_identical_to_the_former_code(monkeypatch, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    fast = _sources(tmp_path / "a", 40)
    with monkeypatch.context() as mp:
        _use_former_code(mp)
        slow = _sources(tmp_path / "b", 40)
    assert len(fast) > 100 and fast == slow
    # (the list programs exercise what the skips skip: map loops made into
    # array operations, lists read as arrays, index_add accumulated in place)
    joined = "\n".join(fast)
    assert "reversed(" in joined and "+= " in joined


def test_list_ops_test_is_the_walk_it_stands_for(tmp_path):
    """``_has_list_ops`` says whether the function has a ``list_pop`` or
    ``list_build`` anywhere (the iter_eqns walk), on every function
    list_arrays is given; both answers occur."""
    from s2sgrad.ir import iter_eqns
    seen = []
    inner = la._has_list_ops

    def checked(func):
        got = inner(func)
        names = {e.prim.name for e in iter_eqns(func.body)}
        assert got == bool(names & {"list_pop", "list_build"})
        seen.append(got)
        return got
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(la, "_has_list_ops", checked)
        for f, wrt, args in _list_programs():
            s2sgrad.grad(f, wrt=wrt)(*args)
        for shape in ("rnn", "loops"):
            mod = _bench_module(tmp_path, 30, shape, prefix="pc14")
            s2sgrad.grad(mod.f)(*_bench_args(shape))
    assert True in seen and False in seen


def test_carries_fit_refuses_only_what_map_loop_refuses(tmp_path):
    """Every loop ``_carries_fit`` refuses, ``_map_loop`` without that test
    (the former order: the body scanned first) refuses too; and some loops
    pass it and are made maps."""
    refused, passed, maps = [0], [0], [0]
    inner_fit, inner_map = la._carries_fit, la._map_loop

    def checked_map(block, loop, defs, inf, uses, subst):
        body = loop.params["body"]
        n = la._range_of(loop, inf)
        fits = inner_fit(loop, body, la.loop_offset(loop), n, inf) if n else None
        if fits is False:
            refused[0] += 1
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(la, "_carries_fit", lambda *a: True)
                # (the loop as it is: a map would rewrite the block; it must not)
                before = ([id(e) for e in block.eqns], [id(e) for e in body.eqns],
                          dict(subst))
                assert inner_map(block, loop, defs, inf, uses, subst) is None
                assert ([id(e) for e in block.eqns], [id(e) for e in body.eqns],
                        dict(subst)) == before
            return None
        if fits:
            passed[0] += 1
        new = inner_map(block, loop, defs, inf, uses, subst)
        maps[0] += new is not None
        return new
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(la, "_map_loop", checked_map)
        for f, wrt, args in _list_programs():
            s2sgrad.grad(f, wrt=wrt)(*args)
        mod = _bench_module(tmp_path, 30, "rnn", prefix="pc14b")
        s2sgrad.grad(mod.f)(*_bench_args("rnn"))
    assert refused[0] > 5 and passed[0] > 5 and maps[0] > 3


def test_readers_of_is_readers_restricted(tmp_path):
    """``optimize._readers_of`` gives, for each wanted Var, the list
    ``ir.readers`` gives (the same equations in the same order), on every
    function elide_broadcasts asks about."""
    inner = op._readers_of
    seen = [0, 0]

    def checked(func, wanted):
        got = inner(func, wanted)
        full = readers(func)
        assert set(got) == {v for v in wanted if v in full}
        for v in wanted:
            assert [id(u) for u in got.get(v, [])] == [id(u) for u in full.get(v, [])]
        seen[0] += 1
        seen[1] += len(got)
        return got
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(op, "_readers_of", checked)
        for f, wrt, args in _list_programs()[:8]:
            s2sgrad.grad(f, wrt=wrt)(*args)
        for shape in ("rnn", "straight", "branches"):
            mod = _bench_module(tmp_path, 30, shape, prefix="pc14e")
            s2sgrad.grad(mod.f)(*_bench_args(shape))
    assert seen[0] > 3 and seen[1] > 3


def test_numpy_callables_are_no_schedule_or_transform():
    """What ``call_static`` no longer asks of a NumPy ufunc or array
    function: none is a checkpoint schedule, a transformation or a
    transformed function (every public one of NumPy and scipy.special)."""
    import scipy.special
    from s2sgrad.lower.transforms import is_schedule_type, transform_kind, transformed_value
    objs = [getattr(m, n) for m in (np, np.linalg, scipy.special) for n in dir(m)
            if not n.startswith("_")]
    objs = [o for o in objs if type(o) in calls._NUMPY_CALLABLES]
    assert len(objs) > 300 and np.tanh in objs and np.sum in objs
    for o in objs:
        assert not is_schedule_type(o)
        assert transform_kind(o) is None
        assert transformed_value(o) is None
    # grad & co. and the schedules are not of those types
    assert type(s2sgrad.grad) not in calls._NUMPY_CALLABLES
    assert type(s2sgrad.grad(np.sum)) not in calls._NUMPY_CALLABLES


def test_has_real_only_is_the_walk(tmp_path):
    """``reverse._has_real_only``: a function with ``np.sign`` of an
    argument (checked at run time for complex values) has one, the bench
    shapes none; the check is still emitted where there is one."""
    from s2sgrad.ir import iter_eqns
    seen = []
    inner = rv._has_real_only

    def checked(func):
        got = inner(func)
        assert got == any(getattr(e.prim, "real_only", False) for e in iter_eqns(func.body))
        seen.append(got)
        return got

    def with_sign(x, y):
        return np.sum(np.sign(x) * y * x)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(rv, "_has_real_only", checked)
        mod = _bench_module(tmp_path, 20, "rnn", prefix="pc14f")
        s2sgrad.grad(mod.f)(*_bench_args("rnn"))
        x, y = np.array([0.5, -1.5, 2.0]), np.array([1.0, 2.0, -3.0])
        g = s2sgrad.grad(with_sign, wrt=(0, 1))
        gx, gy = g(x, y)
    assert True in seen and False in seen
    assert np.allclose(gx, fd(with_sign, (x, y), 0)) and np.allclose(gy, fd(with_sign, (x, y), 1))
    assert "check_real" in g._last.source
    with pytest.raises(Exception, match="complex"):
        g(x.astype(complex), y)


# ---------------------------------------------------------------- counted work


def _count(mp, mod, name):
    calls = [0]
    fn = getattr(mod, name)

    def counted(*a, **k):
        calls[0] += 1
        return fn(*a, **k)
    mp.setattr(mod, name, counted)
    return calls


@pytest.mark.parametrize("shape", ["rnn", "loops", "straight"])
def test_no_uses_walk_for_lists_or_maps_without_them(tmp_path, shape):
    """The bench shapes have no lists and no map loops: list_arrays and
    vectorise_maps (run twice for the RNN, whose x[t] has an index_add)
    walk for no uses; the RNN's reversed loop still gets its
    ``x_bar[t] += ...`` (accumulate_in_place ran: it has an index_add)."""
    mod = _bench_module(tmp_path, 30, shape, prefix="pc14c")
    with pytest.MonkeyPatch.context() as mp:
        uses = _count(mp, la, "_uses")
        acc = _count(mp, sp, "accumulate_in_place")
        g = s2sgrad.grad(mod.f)
        g(*_bench_args(shape))
    assert uses[0] == 0
    assert acc[0] == (1 if shape == "rnn" else 0)
    if shape == "rnn":
        assert re.search(r"x_bar\[t_1\] \+= ", g.source)


def test_accumulate_in_place_skipped_without_index_add(tmp_path):
    """A loop whose gradient accumulates rows only by ``index_accumulate``
    made before specialisation (none: reverse mode makes index_add) -- here
    a program with no indexing at all -- does not run accumulate_in_place;
    one with ``Ws[i]`` does, once."""
    mod = _import_text(tmp_path, "pc14_noindex", (
        "import numpy as np\n\n\n"
        "def f(x, W):\n"
        "    h = x\n"
        "    for t in range(3):\n"
        "        h = np.tanh(W @ h)\n"
        "    return np.sum(h)\n"))
    rng = np.random.default_rng(0)
    with pytest.MonkeyPatch.context() as mp:
        acc = _count(mp, sp, "accumulate_in_place")
        s2sgrad.grad(mod.f)(rng.standard_normal(3), rng.standard_normal((3, 3)))
        assert acc[0] == 0
        s2sgrad.grad(stacked_weights)(rng.standard_normal((4, 3, 3)), rng.standard_normal(3))
        assert acc[0] == 1


# ---------------------------------------------------------------- values and gradients


def _check(f, args, wrt, rtol=1e-6, atol=1e-8):
    v, gs = s2sgrad.value_and_grad(f, wrt=wrt)(*args)
    assert np.allclose(v, f(*args), rtol=1e-10, atol=1e-12)
    for i, g in zip(wrt, gs):
        assert np.allclose(g, fd(f, args, i), rtol=rtol, atol=atol)


@pytest.mark.parametrize("f,extra", lp10.MAPS[:3] + lp10.NOT_MAPS[:2],
                         ids=lambda x: getattr(x, "__name__", ""))
def test_map_and_list_programs_values_and_gradients(f, extra):
    _check(f, lp10._args(extra), (0, 1, 2))


def test_stacked_weights_values_and_gradients():
    rng = np.random.default_rng(7)
    Ws, x = 0.5 * rng.standard_normal((4, 3, 3)), rng.standard_normal(3)
    _check(stacked_weights, (Ws, x), (0, 1))
    # a Python float, a NumPy scalar, an array broadcast against the state
    for c in (0.7, np.float64(0.7), np.array([0.7]), np.array([0.5, 0.7, 0.9])):
        _check(stacked_weights_mean, (Ws, x, c), (0, 1))
    # the same array read twice (x as the state and as the scale)
    _check(stacked_weights_mean, (Ws, x, x), (0, 1, 2))


def test_bench_rnn_value_and_gradient(tmp_path):
    mod = _bench_module(tmp_path, 12, "rnn", prefix="pc14d")
    x, W, b = _bench_args("rnn")
    rng = np.random.default_rng(1)
    x, W, b = x + 0.1 * rng.standard_normal(x.shape), W + 0.2 * rng.standard_normal(W.shape), \
        b + 0.1 * rng.standard_normal(b.shape)
    _check(mod.f, (x, W, b), (0, 1, 2))
    # repeated use of the same array for two arguments
    _check(lambda x, W, b: mod.f(x, W, b) + mod.f(x, W, W[0]), (x, W, b), (0, 1, 2))


def test_float32():
    rng = np.random.default_rng(2)
    Ws = (0.5 * rng.standard_normal((4, 3, 3))).astype(np.float32)
    x = rng.standard_normal(3).astype(np.float32)
    gW, gx = s2sgrad.grad(stacked_weights, wrt=(0, 1))(Ws, x)
    assert gW.dtype == np.float32 and gx.dtype == np.float32
    ref = s2sgrad.grad(stacked_weights, wrt=(0, 1))(Ws.astype(np.float64), x.astype(np.float64))
    assert np.allclose(gW, ref[0], rtol=1e-4, atol=1e-5)
    assert np.allclose(gx, ref[1], rtol=1e-4, atol=1e-5)
    W, xs, h0 = data(dtype=np.float32)
    g = s2sgrad.grad(lp10.genexp_sq, wrt=0)(W, xs, h0)
    g64 = s2sgrad.grad(lp10.genexp_sq, wrt=0)(*(a.astype(np.float64) for a in (W, xs, h0)))
    assert g.dtype == np.float32 and np.allclose(g, g64, rtol=1e-4, atol=1e-5)
