"""tests/trust9_harness.py's checks on fixed seeds: every family (runtime
lists mutated through their entries, view chains written through, fancy
and mask writes with ufunc methods and mixed dtypes, loops with writes and
early exits through helpers returning views, calls after globals, cells
and defaults changed) runs against NumPy and central differences, and
most generated programs are checked, not refused or invalid."""
import pytest

from tests import trust9_harness as th


@pytest.mark.parametrize("seed", range(0, 20))
def test_harness_seed(seed):
    assert th.check(seed) in ("ok", "refused", "invalid")


def test_harness_checks_most_programs():
    results = [th.check(s) for s in range(20, 35)]
    assert results.count("ok") >= 9, results


def test_harness_families_are_all_generated():
    assert {th.program(s)[0] for s in range(10)} == set(th.FAMILIES)


def test_harness_generates_both_sides_of_list_entry_writes():
    """The entries family writes into entries a list owns (checked) and
    into shared ones (refused): both occur in a small range of seeds."""
    results = {s: th.check(s) for s in range(0, 60, 5)}
    assert "ok" in results.values() and "refused" in results.values(), results


def test_harness_detects_a_wrong_gradient(monkeypatch):
    """A check that cannot fail is no check: a gradient off by 1 % fails."""
    import s2sgrad

    real = s2sgrad.value_and_grad

    def skewed(f, **kw):
        vg = real(f, **kw)

        def call(*a):
            v, g = vg(*a)
            return v, g * 1.01 if not isinstance(g, tuple) else tuple(x * 1.01 for x in g)
        return call
    monkeypatch.setattr(s2sgrad, "value_and_grad", skewed)
    with pytest.raises(th.Failure, match="gradient"):
        th.check(1)                   # views
    with pytest.raises(th.Failure, match="wrt"):
        th.check(4)                   # calls
