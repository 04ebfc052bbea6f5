"""tests/layout13_harness.py on fixed seeds (random programs writing in place
into arrays of every memory layout, then observing the layout of what is
computed from them through reshapes written through), and each kind of
wrong answer the harness exists to catch makes it fail."""
import numpy as np
import pytest

import s2sgrad
from s2sgrad import runtime
from tests import layout13_harness as lh


@pytest.mark.parametrize("seed", range(0, 16))
def test_harness_seed(seed):
    assert lh.check(seed) in ("ok", "refused", "invalid")


def test_harness_checks_most_programs():
    results = [lh.check(s) for s in range(16, 28)]
    assert results.count("ok") >= 9, results


def test_programs_cover_layouts_loops_and_options():
    progs = [lh.program(s) for s in range(200)]
    assert {o["W"] for _, o in progs} == set(lh.W_LAYOUTS)
    assert {o["C"] for _, o in progs} == set(lh.C_LAYOUTS)
    assert any(o["checkpoint"] for _, o in progs) and any(o["f32"] for _, o in progs)
    assert sum("for t in range(n):" in src for src, _ in progs) > 40
    for setup in lh._SETUP:
        assert any(f"    {setup}\n" in src for src, _ in progs), setup


def _wrap(monkeypatch, change):
    real = s2sgrad.value_and_grad

    def wrapped(f, **kw):
        inner = real(f, **kw)
        return lambda *a: change(*inner(*a))
    monkeypatch.setattr(s2sgrad, "value_and_grad", wrapped)


def _float64_ok_seed():
    return next(s for s in range(100) if not lh.program(s)[1]["f32"] and lh.check(s) == "ok")


def test_harness_detects_a_wrong_value(monkeypatch):
    seed = _float64_ok_seed()
    _wrap(monkeypatch, lambda v, g: (v * (1 + 1e-7), g))
    with pytest.raises(lh.Failure, match="value"):
        lh.check(seed)


def test_harness_detects_a_wrong_gradient(monkeypatch):
    seed = _float64_ok_seed()
    _wrap(monkeypatch, lambda v, g: (v, (g[0], g[1] * 1.01)))
    with pytest.raises(lh.Failure, match="gradient in argument 1"):
        lh.check(seed)


@pytest.mark.parametrize("seed", [1, 7])
def test_harness_detects_the_layout_of_an_augmented_write(monkeypatch, seed):
    # x op= v without keeping x's memory order: the class this harness hunts
    assert lh.check(seed) == "ok"
    monkeypatch.setattr(runtime, "in_layout_of", lambda new, cur: new)
    with pytest.raises(lh.Failure, match="value"):
        lh.check(seed)


def test_harness_arguments_have_the_layouts_named():
    opts = dict(lh.program(0)[1], square=False, f32=False)
    for layout, test in [("C", lambda a: a.flags.c_contiguous),
                         ("F", lambda a: a.flags.f_contiguous and not a.flags.c_contiguous),
                         ("reversed", lambda a: a.strides[0] < 0),
                         ("strided", lambda a: not (a.flags.c_contiguous or a.flags.f_contiguous)),
                         ("transposed", lambda a: a.flags.f_contiguous),
                         ("both", lambda a: a.strides[0] < 0 and a.strides[1] > 0)]:
        x, W, C, n = lh.make_args(0, opts, layout=layout)
        assert test(W), layout
    assert np.all(lh._in_layout(np.ones((3, 4)), "broadcast").strides[0] == 0)
