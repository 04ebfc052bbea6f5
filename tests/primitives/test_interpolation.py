"""Specs for np.interp (primitives/interpolation.py): derivatives in the
points x and the values fp (xp is data), left=/right=, period=, and exact
values and slopes at knots and outside the knots."""
import numpy as np
import pytest

import s2sgrad
from s2sgrad import runtime as rt

from .spec import Spec, check_spec, normal
from .test_runtime_prims import check_hvp

XP = np.array([0.0, 0.3, 0.5, 1.0, 1.6, 2.0])
FP = np.array([0.2, -0.4, 1.1, 0.7, -0.3, 0.5])
# inside, outside on both sides, never on a knot (the slope jumps there)
X = np.array([[-0.4, 0.1, 0.42, 0.77], [1.2, 1.9, 2.5, 0.05]])


def _wsum(y, seed=0):
    w = np.cos(np.arange(np.size(y)) * 0.7 + seed).reshape(np.shape(y))
    return np.sum(w * y)


SPECS = [
    Spec(("interp", "interp_core"), lambda fp: _wsum(np.interp(X, XP, fp) ** 2), (normal(6),),
         id="interp-fp"),
    Spec(("interp", "interp_core"), lambda x: _wsum(np.interp(x, XP, FP) ** 3), (X,),
         id="interp-x"),
    Spec(("interp", "interp_core"), lambda x, fp: _wsum(np.sin(np.interp(x, XP, fp)) * x),
         (X[0], normal(6)), wrt=(0, 1), id="interp-both"),
    Spec(("interp", "interp_core"),
         lambda x, fp: _wsum(np.interp(x, XP, fp, left=-1.0, right=2.0) ** 2),
         (X, normal(6)), wrt=(0, 1), id="interp-left-right"),
    Spec(("interp", "interp_core"), lambda x, fp: np.interp(x, XP, fp) ** 2,
         (0.61, normal(6)), wrt=(0, 1), id="interp-scalar"),
    Spec(("interp", "interp_core"),
         lambda x, fp: _wsum(np.interp(x, XP[:-1], fp, period=1.7) ** 2),
         (np.array([-0.9, 0.2, 1.25, 3.25, 0.62]), normal(5)), wrt=(0, 1), id="interp-period"),
    Spec(("interp", "interp_core"), lambda fp: _wsum(np.interp(X, XP, fp * fp)),
         (normal(6) + 1j * normal(6),), float32=False, id="interp-complex-fp"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_interp(spec):
    check_spec(spec)


@pytest.mark.parametrize("spec", SPECS[:6], ids=lambda s: s.id)
def test_interp_hvp(spec):
    check_hvp(spec)


XN = np.array([-1.0, 0.0, 0.3, 0.31, 1.0, 2.0, 2.5, np.nan])
CASES = [
    lambda fp: np.interp(XN, XP, fp),
    lambda fp: np.interp(XN, XP, fp, left=-7.0, right=9.0),
    lambda fp: np.interp(np.array([[0.5, 1.7], [3.9, -2.0]]), XP, fp, period=1.9),
    lambda fp: np.interp(0.45, XP, fp),
]


@pytest.mark.parametrize("f", CASES, ids=range(len(CASES)))
def test_values_match_numpy(f):
    value, _ = s2sgrad.vjp(f)(FP)
    np.testing.assert_array_equal(value, f(FP))


def test_slopes_at_knots_and_outside():
    # at a knot: the interval to its right (the last one at xp[-1]); outside: 0
    x = np.array([-0.5, 0.0, 0.3, 1.0, 2.0, 2.7])
    g = s2sgrad.grad(lambda x: np.sum(np.interp(x, XP, FP)))(x)
    slopes = np.diff(FP) / np.diff(XP)
    np.testing.assert_allclose(g, [0.0, slopes[0], slopes[1], slopes[3], slopes[4], 0.0])
    # the values outside come from left=/right= (constants), so fp gets nothing there
    gfp = s2sgrad.grad(lambda fp: np.sum(np.interp(x, XP, fp, left=0.0, right=0.0)))(FP)
    np.testing.assert_allclose(gfp, [1.0, 1.0, 0.0, 1.0, 0.0, 1.0])   # x=2.0 is on the last knot


def test_weights_reproduce_numpy():
    x = np.linspace(-0.5, 2.5, 41)
    il, ir, inv, keep, _ = rt.interp_weights(x, XP)
    t = np.clip((x - XP[il]) * inv, 0, 1)
    np.testing.assert_allclose(keep * ((1 - t) * FP[il] + t * FP[ir]), np.interp(x, XP, FP),
                               atol=1e-15)
    il, ir, inv, keep, c = rt.interp_weights(0.4, XP[:1])       # one knot: fp[0] everywhere
    assert (il, ir, inv, keep, c) == (0, 0, 0.0, 1.0, 0.0)
    v, _ = s2sgrad.vjp(lambda fp: np.interp(np.array([0.1, 0.4]), XP[:1], fp))(FP[:1])
    np.testing.assert_array_equal(v, np.interp(np.array([0.1, 0.4]), XP[:1], FP[:1]))


def test_knots_are_data():
    with pytest.raises(s2sgrad.S2SGradError):
        s2sgrad.grad(lambda xp: np.sum(np.interp(X, xp, FP)))(XP)
