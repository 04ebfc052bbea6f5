"""Spec of the primitive perf-rows13 added (session 24): ``ties_halved``,
the tie repair of a ReLU's cotangent ``g * (d >= 0)`` (maximum/minimum
against a finite constant).  Reached directly (linear in r, piecewise
constant in d) and through a second derivative of a ReLU network (its own
vjp/jvp).  Checked against central differences in float64, in float32, and
by the forward/reverse identity (test_jvp_identity reads SPECS)."""
import numpy as np
import pytest

import s2sgrad
from s2sgrad import runtime
from tests.primitives.spec import Spec, check_spec
from tests.primitives.test_statistics import _wsum

_RNG = np.random.default_rng(2424)

R = _RNG.standard_normal((4, 3))
D = _RNG.standard_normal((4, 3)) + np.sign(_RNG.standard_normal((4, 3)))   # away from 0
X = _RNG.standard_normal((5, 3))
W = _RNG.standard_normal((3, 4))


def _direct(r, d):
    return _wsum(np.tanh(runtime.ties_halved(r * 1.5, d)))


def _relu_second(w):
    # a gradient of a ReLU layer differentiated again: ties_halved's own rules
    return _wsum(s2sgrad.grad(lambda v: np.sum(np.maximum(X @ v, 0.0) ** 3))(w))


SPECS = [
    Spec("ties_halved", _direct, (R, D), wrt=(0, 1)),
    Spec("ties_halved", _relu_second, (W,), id="ties_halved-second"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_spec(spec):
    check_spec(spec)


def test_ties_halved_values():
    d = np.array([0.0, -0.0, np.nan, 2.0, -1.0])
    r = np.array([4.0, 6.0, 8.0, 10.0, 12.0])
    np.testing.assert_array_equal(runtime.ties_halved(r, d), [2.0, 3.0, 8.0, 10.0, 12.0])
    r2 = np.array([1.0, 2.0])
    assert runtime.ties_halved(r2, np.array([1.0, -1.0])) is r2     # no tie: r itself
    # in r * d's dtype (the former g * step(d)'s), also with a tie
    out = runtime.ties_halved(np.float32([2.0, 4.0]), np.array([0.0, 1.0]))
    assert out.dtype == np.float64 and list(out) == [1.0, 4.0]
    assert runtime.ties_halved(np.float32([2.0]), np.array([1.0])).dtype == np.float64
