"""tests/trust10_harness.py's checks on fixed seeds: every family
(higher-order transforms, kinks against the documented subgradients, array
methods with views, control flow with recursion and closures, dtype and
shape edge cases, pytrees as parameters and data, layout chains written
through run-time reshapes) runs against NumPy and central differences, and
most generated programs are checked, not refused or invalid."""
import numpy as np
import pytest

from tests import trust10_harness as th


@pytest.mark.parametrize("seed", range(0, 21))
def test_harness_seed(seed):
    assert th.check(seed) in ("ok", "refused", "invalid")


def test_harness_checks_most_programs():
    results = [th.check(s) for s in range(21, 35)]
    assert results.count("ok") >= 11, results


def test_harness_families_are_all_generated():
    assert {th.program(s)[0] for s in range(len(th.FAMILIES))} == set(th.FAMILIES)


@pytest.mark.parametrize("seed", [0, 2, 3, 6])
def test_harness_detects_a_wrong_gradient(monkeypatch, seed):
    """A check that cannot fail is no check: a gradient off by 1 % fails
    (higher, methods, control, layouts)."""
    import s2sgrad

    real = s2sgrad.value_and_grad

    def skewed(f, **kw):
        vg = real(f, **kw)

        def call(*a, **k):
            v, g = vg(*a, **k)
            return v, tuple(x * 1.01 if isinstance(x, np.ndarray) else x for x in g) \
                if isinstance(g, tuple) else g * 1.01
        return call
    monkeypatch.setattr(s2sgrad, "value_and_grad", skewed)
    assert th.program(seed)[0] in ("higher", "methods", "control", "layouts")
    with pytest.raises(th.Failure, match="gradient"):
        th.check(seed)


def test_harness_detects_a_wrong_subgradient(monkeypatch):
    """The kinks family compares with the README's subgradients: a tie
    split other than equally fails."""
    import s2sgrad

    real = s2sgrad.value_and_grad
    seed = next(s for s in range(1, 400, 7) if th.program(s)[2]["atoms"] == [9] or
                9 in th.program(s)[2]["atoms"])

    def skewed(f, **kw):
        vg = real(f, **kw)

        def call(x):
            v, g = vg(x)
            return v, g + 0.25 * (x == x.max())
        return call
    monkeypatch.setattr(s2sgrad, "value_and_grad", skewed)
    with pytest.raises(th.Failure, match="subgradient"):
        th.check(seed)


def test_harness_detects_a_wrong_value(monkeypatch):
    import s2sgrad

    real = s2sgrad.value_and_grad

    def skewed(f, **kw):
        vg = real(f, **kw)

        def call(*a, **k):
            v, g = vg(*a, **k)
            return (v[0] * (1 + 1e-3), v[1]) if isinstance(v, tuple) else v * (1 + 1e-3), g
        return call
    monkeypatch.setattr(s2sgrad, "value_and_grad", skewed)
    with pytest.raises(th.Failure, match="value"):
        th.check(2)
