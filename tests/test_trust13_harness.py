"""tests/trust13_harness.py's checks on fixed seeds: every family (data-
dependent control flow with in-place writes, second order of loops carrying
views, out=/ufunc-method writes into views, closures and containers over
written arrays, dtype promotion and edge values) runs against NumPy and
central differences; and each kind of wrong answer the harness exists to
catch makes it fail (a check that cannot fail is no check)."""
import numpy as np
import pytest

import s2sgrad
from tests import trust13_harness as th


@pytest.mark.parametrize("seed", range(0, 20))
def test_harness_seed(seed):
    assert th.check(seed) in ("ok", "refused", "invalid")


def test_harness_checks_most_programs():
    results = [th.check(s) for s in range(20, 30)]
    assert results.count("ok") >= 7, results


def test_harness_families_are_all_generated():
    assert {th.program(s)[0] for s in range(len(th.FAMILIES))} == set(th.FAMILIES)


def _ok_seed(fam, pred=lambda src, opts: True):
    i = th.FAMILIES.index(fam)
    return next(s for s in range(i, 500, len(th.FAMILIES))
                if pred(*th.program(s)[1:]) and th.check(s) == "ok")


def _wrap(monkeypatch, name, change):
    """s2sgrad.<name>(f, **kw) returns a callable whose results pass through
    change(inner, args, kwargs, options)."""
    real = getattr(s2sgrad, name)

    def wrapped(f, **kw):
        inner = real(f, **kw)

        def call(*a, **k):
            return change(inner, a, k, kw)
        return call
    monkeypatch.setattr(s2sgrad, name, wrapped)


@pytest.mark.parametrize("fam", ["dataflow", "hloops", "outviews", "cells", "dtypes"])
def test_harness_detects_a_wrong_gradient(monkeypatch, fam):
    seed = _ok_seed(fam, lambda src, opts: "edge" not in opts)

    def skew(vg, a, k, kw):
        v, g = vg(*a, **k)
        return v, tuple(x * 1.01 for x in g)
    _wrap(monkeypatch, "value_and_grad", skew)
    with pytest.raises(th.Failure, match="gradient"):
        th.check(seed)


@pytest.mark.parametrize("fam", ["dataflow", "outviews", "cells"])
def test_harness_detects_a_value_off_by_rounding(monkeypatch, fam):
    seed = _ok_seed(fam)

    def skew(vg, a, k, kw):
        v, g = vg(*a, **k)
        return v * (1 + 1e-8), g
    _wrap(monkeypatch, "value_and_grad", skew)
    with pytest.raises(th.Failure, match="value"):
        th.check(seed)


def test_harness_detects_a_stale_global(monkeypatch):
    """A compiled function that kept reading G as it was when compiled (a
    missing guard) fails after G is written in place or rebound."""
    seed = _ok_seed("cells", lambda src, opts: "G * x" in src)
    real = s2sgrad.value_and_grad

    def wrapped(f, **kw):
        inner = real(f, **kw)
        first = f.__globals__["G"].copy()

        def call(*a, **k):
            v, g = inner(*a, **k)
            G = f.__globals__["G"]
            # as if the compiled code still read the first G in np.sum(G * x)
            return v + float(np.sum((first - G) * a[0])), g
        return call
    monkeypatch.setattr(s2sgrad, "value_and_grad", wrapped)
    with pytest.raises(th.Failure, match="after G was"):
        th.check(seed)


@pytest.mark.parametrize("name", ["hessian", "hvp"])
def test_harness_detects_a_wrong_second_derivative(monkeypatch, name):
    seed = _ok_seed("hloops")
    _wrap(monkeypatch, name, lambda t, a, k, kw: t(*a, **k) * 1.001)
    with pytest.raises(th.Failure, match=name):
        th.check(seed)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_harness_detects_a_wrong_jacobian_in_either_mode(monkeypatch, mode):
    seed = _ok_seed("hloops")

    def skew(t, a, k, kw):
        out = t(*a, **k)
        return out * 1.001 if kw.get("mode") == mode else out
    _wrap(monkeypatch, "jacobian", skew)
    with pytest.raises(th.Failure, match=f"mode='{mode}'"):
        th.check(seed)


def test_harness_detects_a_wrong_answer_at_a_numpy_int_trip_count(monkeypatch):
    seed = _ok_seed("hloops")

    def skew(vg, a, k, kw):
        v, g = vg(*a, **k)
        if isinstance(a[2], np.integer) and a[2] > 0:
            g = (g[0] + 1e-3, g[1])
        return v, g
    _wrap(monkeypatch, "value_and_grad", skew)
    with pytest.raises(th.Failure, match="n=np.int64"):
        th.check(seed)


def test_harness_detects_a_modified_argument(monkeypatch):
    seed = _ok_seed("outviews")

    def skew(vg, a, k, kw):
        out = vg(*a, **k)
        a[1][0, 0] += 1.0
        return out
    _wrap(monkeypatch, "value_and_grad", skew)
    with pytest.raises(th.Failure, match="modified"):
        th.check(seed)


def test_harness_detects_edge_values_off():
    """The edge-value check wants NumPy's bits: a NaN, the sign of a zero,
    the dtype."""
    th._same_bits(np.array([0.0, np.nan, -1.0]), np.array([0.0, np.nan, -1.0]), "same")
    th._same_bits(np.float64(np.nan), -np.float64(np.nan), "a NaN's sign bit is no number")
    for got, want in ((np.array([-0.0]), np.array([0.0])),
                      (np.array([np.nan]), np.array([1.0])),
                      (np.array([1.0]), np.array([np.inf])),
                      (np.array([1.0], dtype=np.float32), np.array([1.0]))):
        with pytest.raises(th.Failure):
            th._same_bits(got, want, "edge")


def test_harness_detects_a_wrong_edge_value(monkeypatch):
    seed = _ok_seed("dtypes", lambda src, opts: "edge" in opts)

    def skew(vg, a, k, kw):
        v, g = vg(*a, **k)
        return (1.0 if np.isnan(v) else -v if v == 0 else v * (1 + 1e-12)), g
    _wrap(monkeypatch, "value_and_grad", skew)
    with pytest.raises(th.Failure, match="value"):
        th.check(seed)
