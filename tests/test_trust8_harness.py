"""tests/trust8_harness.py's checks on fixed seeds: every family runs
against NumPy, central differences and the other transformations, and
most generated programs are checked, not refused or invalid."""
import pytest

from tests import trust8_harness as th


@pytest.mark.parametrize("seed", range(0, 20))
def test_harness_seed(seed):
    assert th.check(seed) in ("ok", "refused", "invalid")


def test_harness_checks_most_programs():
    results = [th.check(s) for s in range(20, 45)]
    assert results.count("ok") >= 18, results


def test_harness_families_are_all_generated():
    assert {th.program(s)[0] for s in range(10)} == set(th.FAMILIES)


def test_harness_detects_a_wrong_gradient(monkeypatch):
    """A check that cannot fail is no check: a gradient off by 1 % fails."""
    import s2sgrad

    real = s2sgrad.value_and_grad

    def skewed(f, **kw):
        vg = real(f, **kw)

        def call(*a):
            v, g = vg(*a)
            return v, g * 1.01
        return call
    monkeypatch.setattr(s2sgrad, "value_and_grad", skewed)
    with pytest.raises(th.Failure, match="gradient"):
        th.check(0)
