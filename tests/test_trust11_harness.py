"""tests/trust11_harness.py's checks on fixed seeds: every family (user
classes holding parameters, generators and iterators, global/nonlocal
scopes and closures, mixed dtypes and object/string arrays, a seeded
Generator passed as data, in-place writes into arguments and their views,
the README's conventions at zeros and ties) runs against NumPy and central
differences; and each kind of wrong answer the harness exists to catch (a
skewed gradient, a wrong tie split, a skewed value, a modified argument,
other random draws, a refusal without the user's line) makes it fail."""
import pytest

import s2sgrad
from tests import trust11_harness as th


@pytest.mark.parametrize("seed", range(0, 28))
def test_harness_seed(seed):
    assert th.check(seed) in ("ok", "refused", "invalid")


def test_harness_checks_most_programs():
    results = [th.check(s) for s in range(28, 49)]
    assert results.count("ok") >= 14, results


def test_harness_families_are_all_generated():
    assert {th.program(s)[0] for s in range(len(th.FAMILIES))} == set(th.FAMILIES)


def _ok_seed(fam, start=0):
    i = th.FAMILIES.index(fam)
    return next(s for s in range(start * 7 + i, 400, 7) if th.check(s) == "ok")


def _wrap(monkeypatch, change):
    real = s2sgrad.value_and_grad

    def wrapped(f, **kw):
        vg = real(f, **kw)

        def call(*a, **k):
            return change(vg, a, k)
        return call
    monkeypatch.setattr(s2sgrad, "value_and_grad", wrapped)


@pytest.mark.parametrize("fam", th.FAMILIES)
def test_harness_detects_a_wrong_gradient(monkeypatch, fam):
    """A check that cannot fail is no check: a gradient off by 1 % fails in
    every family."""
    seed = _ok_seed(fam)

    def skew(vg, a, k):
        v, g = vg(*a, **k)
        return v, tuple(x * 1.01 for x in g)
    _wrap(monkeypatch, skew)
    with pytest.raises(th.Failure, match="gradient"):
        th.check(seed)


def test_harness_detects_a_wrong_tie_split(monkeypatch):
    """The conventions family's points have exact ties: a quarter more to
    the largest elements of x (a tie split other than the documented one)
    fails."""
    seed = next(s for s in range(6, 400, 7) if "np.max(x)" in th.program(s)[1] and
                th.check(s) == "ok")

    def skew(vg, a, k):
        v, (gx, gW) = vg(*a, **k)
        return v, (gx + 0.25 * (a[0] == a[0].max()), gW)
    _wrap(monkeypatch, skew)
    with pytest.raises(th.Failure, match="gradient"):
        th.check(seed)


@pytest.mark.parametrize("fam", ["dtypes", "classes"])
def test_harness_detects_a_wrong_value(monkeypatch, fam):
    seed = _ok_seed(fam)

    def skew(vg, a, k):
        v, g = vg(*a, **k)
        return v * (1 + 1e-3), g
    _wrap(monkeypatch, skew)
    with pytest.raises(th.Failure, match="value"):
        th.check(seed)


def test_harness_detects_a_modified_argument(monkeypatch):
    seed = _ok_seed("inplace")

    def write(vg, a, k):
        out = vg(*a, **k)
        a[0][0] += 1.0          # as a generated function writing the caller's x would
        return out
    _wrap(monkeypatch, write)
    with pytest.raises(th.Failure, match="argument changed"):
        th.check(seed)


def test_harness_detects_other_random_draws(monkeypatch):
    """The random family hands s2sgrad a generator in NumPy's state: code
    that drew from another state (one draw skipped) fails."""
    seed = next(s for s in range(4, 400, 7) if "rng.normal(size=3)" in th.program(s)[1] and
                th.check(s) == "ok")

    def skip(vg, a, k):
        a[2].normal()
        return vg(*a, **k)
    _wrap(monkeypatch, skip)
    with pytest.raises(th.Failure):
        th.check(seed)


def test_harness_requires_the_line_in_a_refusal(monkeypatch):
    seed = _ok_seed("scopes")

    def refuse(vg, a, k):
        raise s2sgrad.S2SGradError("not supported")
    _wrap(monkeypatch, refuse)
    with pytest.raises(th.Failure, match="without the user's line"):
        th.check(seed)


def test_layout_loop_probe_is_never_wrong():
    """The loop-layout probe (carries whose layout a write through a view
    changed): some refused at compile time, none wrong, most exact."""
    counts = th.run_layout_loops(0, 12)
    assert "wrong" not in counts and counts.get("ok", 0) >= 6, counts
