"""Spec of the loop carry's layout copy (trust11): ``layout_checked(v, w)``
is ``v`` laid out with ``w``'s strides (a new buffer) where they differ;
its derivative is still the identity in ``v``.  Checked against central
differences in float64, float32 and by the forward/reverse identity."""
import numpy as np
import pytest

from s2sgrad import runtime
from tests.primitives.spec import Spec, check_spec
from tests.primitives.test_statistics import _wsum

_RNG = np.random.default_rng(2411)
Z = _RNG.standard_normal((4, 3))


def _layout_fortran(v):
    return _wsum(runtime.layout_checked(v * 2.0, np.asfortranarray(v), what="a loop carry"))


def _layout_reversed(v):
    return _wsum(runtime.layout_checked(np.sin(v), v[::-1, ::-1], what="a loop carry"))


SPECS = [
    Spec("layout_checked", _layout_fortran, (Z,), id="layout_checked-fortran"),
    Spec("layout_checked", _layout_reversed, (Z,), id="layout_checked-reversed"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_spec(spec):
    check_spec(spec)
