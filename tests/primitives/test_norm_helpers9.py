"""Specs of the runtime helpers a norm's derivative is written with
(ports9): ``norm_scale(x, s, r) = x * s`` (the 2-norm's, std's, hypot's and
abs's ``x * (g / r)``), ``norm_scale_checked`` (its derivative in ``x``,
refusing a tangent that moves a zero vector) and ``csign_tangent_checked``
(csign's derivative, refusing one that moves a complex 0).  Each called
directly, as a generated first derivative calls it, so that its own rules
(a second derivative of a norm) are checked against central differences,
by the forward/reverse identity (test_jvp_identity), in float32, with
broadcasting; and the refusals, with the cases that must pass."""
import numpy as np
import pytest

from s2sgrad import runtime
from tests.primitives.spec import Spec, check_spec
from tests.primitives.test_statistics import _wsum

# a generator of this module's own: the shared one's draws (spec.normal)
# would shift the data of every spec module imported after this one
_RNG = np.random.default_rng(91)


def normal(*shape):
    return _RNG.standard_normal(shape)


X = normal(3, 4)
S = normal(3, 1)
R = np.linalg.norm(X, axis=1, keepdims=True)
R0 = np.array([[1.2], [0.0], [0.7]])          # a zero norm in row 1
Z = normal(3, 4) + 1j * normal(3, 4)
T = normal(3, 4) + 1j * normal(3, 4)


def _ns(x, s):
    return _wsum(runtime.norm_scale(x, s, R, what="this"))


def _nsc(t, s):
    return _wsum(runtime.norm_scale_checked(t, s, R, what="this") * t)


def _nsc_real_only(t, s):
    # complex_only with a real r: never refused, even where r is 0
    return _wsum(runtime.norm_scale_checked(t, s, R0, what="this", complex_only=True))


def _cst(v):
    return _wsum(np.real(runtime.csign_tangent_checked(v * v, T, Z)))


SPECS = [
    Spec("norm_scale", _ns, (X, S), wrt=(0, 1)),
    Spec("norm_scale_checked", _nsc, (X, S), wrt=(0, 1)),
    Spec("norm_scale_checked", _nsc_real_only, (X, S), wrt=(0, 1), id="norm_scale_checked-real"),
    Spec("csign_tangent_checked", _cst, (X,)),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_spec(spec):
    check_spec(spec)


def test_refusals_and_passes():
    t = np.ones((3, 4))
    with pytest.raises(ValueError, match="second derivative of np.linalg.norm where it is "
                                         "exactly 0"):
        runtime.norm_scale_checked(t, 1.0, R0, what="np.linalg.norm")
    # a tangent that is 0 on the zero-norm row passes: t * s exactly
    t[1] = 0.0
    np.testing.assert_array_equal(runtime.norm_scale_checked(t, 2.0, R0), 2.0 * t)
    # complex_only: a real r never refuses; a complex one does
    np.testing.assert_array_equal(
        runtime.norm_scale_checked(np.ones(2), 1.0, np.zeros(2), complex_only=True), np.ones(2))
    with pytest.raises(ValueError, match="exactly 0"):
        runtime.norm_scale_checked(np.ones(2), 1.0, np.zeros(2, complex), complex_only=True)
    v = np.ones(2)
    with pytest.raises(ValueError, match="np.abs of a complex value"):
        runtime.csign_tangent_checked(v, np.ones(2), np.array([0j, 1j]))
    assert runtime.csign_tangent_checked(v, np.array([0.0, 1.0]), np.array([0j, 1j])) is v
    assert runtime.csign_tangent_checked(v, np.ones(2), np.zeros(2)) is v     # real x: kink
