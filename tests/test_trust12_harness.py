"""tests/trust12_harness.py's checks on fixed seeds: every family
(composed transformations of in-place code, exported modules, buffer reuse,
checkpoint schedules, guards of a cached compiled function, data-dependent
while loops, custom rules mixed with in-place code) runs against NumPy and
central differences; and each kind of wrong answer the harness exists to
catch makes it fail (a check that cannot fail is no check)."""
import numpy as np
import pytest

import s2sgrad
from tests import trust12_harness as th


@pytest.mark.parametrize("seed", range(0, 14))
def test_harness_seed(seed):
    assert th.check(seed) in ("ok", "refused", "invalid")


def test_harness_checks_most_programs():
    # (seeds 14-20 but the checkpoint family's, the slowest: kept to 60 s)
    results = [th.check(s) for s in (14, 15, 16, 18, 19, 20)]
    assert results.count("ok") >= 4, results


def test_harness_families_are_all_generated():
    assert {th.program(s)[0] for s in range(len(th.FAMILIES))} == set(th.FAMILIES)


def _ok_seed(fam, pred=lambda src, opts: True):
    i = th.FAMILIES.index(fam)
    return next(s for s in range(i, 700, 7) if pred(*th.program(s)[1:]) and th.check(s) == "ok")


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


@pytest.mark.parametrize("fam", ["composed", "buffers", "guards", "whiles", "custom"])
def test_harness_detects_a_wrong_gradient(monkeypatch, fam):
    seed = _ok_seed(fam)

    def skew(vg, a, k, kw):
        v, g = vg(*a, **k)
        return v, tuple(x * 1.01 for x in g)
    _wrap(monkeypatch, "value_and_grad", skew)
    with pytest.raises(th.Failure, match="gradient"):
        th.check(seed)


@pytest.mark.parametrize("name", ["hessian", "hvp"])
def test_harness_detects_a_wrong_second_derivative(monkeypatch, name):
    seed = _ok_seed("composed")
    _wrap(monkeypatch, name, lambda t, a, k, kw: t(*a, **k) * 1.001)
    with pytest.raises(th.Failure, match=name):
        th.check(seed)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_harness_detects_a_wrong_jacobian_in_either_mode(monkeypatch, mode):
    seed = _ok_seed("composed")

    def skew(t, a, k, kw):
        out = t(*a, **k)
        if kw.get("mode") != mode:
            return out
        return tuple(j * 1.001 for j in out) if isinstance(out, tuple) else out * 1.001
    _wrap(monkeypatch, "jacobian", skew)
    with pytest.raises(th.Failure, match=f"mode='{mode}'"):
        th.check(seed)


def test_harness_detects_a_wrong_jvp_tangent(monkeypatch):
    seed = _ok_seed("custom")

    def skew(t, a, k, kw):
        out, tan = t(*a, **k)
        return out, tan + 1e-4
    _wrap(monkeypatch, "jvp", skew)
    with pytest.raises(th.Failure, match="tangent"):
        th.check(seed)


def test_harness_detects_a_wrong_pullback(monkeypatch):
    seed = _ok_seed("composed")

    def skew(t, a, k, kw):
        out, pb = t(*a, **k)
        return out, lambda c: tuple(g * 1.0001 for g in pb(c))
    _wrap(monkeypatch, "vjp", skew)
    with pytest.raises(th.Failure, match="pullback"):
        th.check(seed)


def test_harness_detects_a_value_off_by_rounding_errors_in_buffers(monkeypatch):
    """Buffer reuse must not change a value: 1e-8 relative fails."""
    seed = _ok_seed("buffers")

    def skew(vg, a, k, kw):
        v, g = vg(*a, **k)
        return v * (1 + 1e-8), g
    _wrap(monkeypatch, "value_and_grad", skew)
    with pytest.raises(th.Failure, match="value"):
        th.check(seed)


def test_harness_detects_a_checkpoint_schedule_that_differs(monkeypatch):
    """Every schedule recomputes with the same primitives: a gradient 1e-9
    off under one of them fails although central differences could not see it."""
    seed = _ok_seed("checkpoint")

    def skew(vg, a, k, kw):
        v, g = vg(*a, **k)
        if isinstance(kw.get("checkpoint"), s2sgrad.Binomial):
            g = tuple(x * (1 + 1e-9) + 1e-12 for x in g)
        return v, g
    _wrap(monkeypatch, "value_and_grad", skew)
    with pytest.raises(th.Failure, match="vs no checkpoint"):
        th.check(seed)


def test_harness_detects_a_wrong_answer_for_one_argument_kind(monkeypatch):
    seed = _ok_seed("guards")

    def skew(vg, a, k, kw):
        v, (gx, gW) = vg(*a, **k)
        if isinstance(a[1], np.ndarray) and a[1].flags.f_contiguous and \
                not a[1].flags.c_contiguous:
            gW = gW + 0.01
        return v, (gx, gW)
    _wrap(monkeypatch, "value_and_grad", skew)
    with pytest.raises(th.Failure, match="call 3: gradient in W"):
        th.check(seed)


def test_harness_detects_a_modified_argument(monkeypatch):
    seed = _ok_seed("whiles")

    def write(vg, a, k, kw):
        out = vg(*a, **k)
        a[0][0] += 1.0
        return out
    _wrap(monkeypatch, "value_and_grad", write)
    with pytest.raises(th.Failure, match="modified"):
        th.check(seed)


def test_harness_detects_a_refusal_without_the_line(monkeypatch):
    seed = _ok_seed("custom")

    def refuse(vg, a, k, kw):
        raise s2sgrad.S2SGradError("refused somewhere")
    _wrap(monkeypatch, "value_and_grad", refuse)
    with pytest.raises(th.Failure, match="without the program's line"):
        th.check(seed)


@pytest.mark.parametrize("kind", ["value_and_grad", "grad"])
def test_harness_detects_an_exported_module_that_differs(monkeypatch, kind):
    seed = _ok_seed("export", lambda src, opts: opts["kind"] == kind)
    real = s2sgrad.export
    name = {"value_and_grad": "f_value_and_grad", "grad": "f_grad"}[kind]
    tail = {"value_and_grad": "    v, g = _orig(*a)\n    return v, (g[0], g[1] + 1e-9)\n",
            "grad": "    return _orig(*a) * (1 + 1e-9)\n"}[kind]

    def skewed(tf, *a, **k):
        return real(tf, *a, **k) + f"\n\n_orig = {name}\n\n\ndef {name}(*a):\n" + tail
    monkeypatch.setattr(s2sgrad, "export", skewed)
    with pytest.raises(th.Failure, match="vs in process"):
        th.check(seed)


def test_fresh_copies_keep_strides():
    b = np.arange(25.0).reshape(5, 5)
    for a in (b[::2, ::2], b[:, ::-1], np.asfortranarray(b), b.T[1:, ::2], b[0, ::-1]):
        c = th.fresh(a)
        assert c.strides == a.strides and np.array_equal(c, a)
        assert not np.shares_memory(c, b)


def test_harness_detects_a_wrong_gradient_of_a_container_leaf(monkeypatch):
    seed = _ok_seed("guards", lambda src, opts: opts.get("tree"))

    def skew(vg, a, k, kw):
        v, (gx, gP) = vg(*a, **k)
        gP = dict(gP)
        gP["b"] = gP["b"] * 1.01 + 1e-3
        return v, (gx, gP)
    _wrap(monkeypatch, "value_and_grad", skew)
    with pytest.raises(th.Failure, match=r"gradient in P\['b'\]"):
        th.check(seed)


def test_harness_detects_a_python_float_leaf_given_an_array_gradient(monkeypatch):
    seed = _ok_seed("guards", lambda src, opts: opts.get("tree"))

    def skew(vg, a, k, kw):
        v, (gx, gP) = vg(*a, **k)
        gP = dict(gP)
        gP["b"] = np.asarray(gP["b"])
        return v, (gx, gP)
    _wrap(monkeypatch, "value_and_grad", skew)
    with pytest.raises(th.Failure, match="Python float"):
        th.check(seed)
