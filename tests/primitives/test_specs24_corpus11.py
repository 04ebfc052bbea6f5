"""Specs of the primitives corpus11 added: ``np.polynomial.polynomial.polyval``
(a composite of powers and a tensordot / sum), in the coefficients and in x,
with 1-d and 2-d coefficients, ``tensor=True`` and ``tensor=False``; and
``np.emath.sqrt/log/log10/log2`` of real data (NumPy's function after a
run-time check that no entry is negative).
Checked against central differences in float64, in float32, and by the
forward/reverse identity (test_jvp_identity reads SPECS)."""
import numpy as np
import pytest
from numpy.polynomial import polynomial as Pn

from tests.primitives.spec import Spec, check_spec
from tests.primitives.test_statistics import _wsum

_RNG = np.random.default_rng(2411)


def normal(*shape):
    return _RNG.standard_normal(shape)


SPECS = [
    Spec("polynomial_polyval", lambda x, c: _wsum(Pn.polyval(x, c) ** 2),
         (normal(2, 3), normal(4)), wrt=(0, 1)),
    Spec("polynomial_polyval", lambda x, c: _wsum(np.sin(Pn.polyval(x, c))),
         (normal(3), normal(4, 2)), wrt=(0, 1), id="polynomial_polyval-tensor"),
    Spec("polynomial_polyval", lambda x, c: _wsum(Pn.polyval(x, c, tensor=False) ** 2),
         (normal(3), normal(4, 3)), wrt=(0, 1), id="polynomial_polyval-broadcast"),
] + [Spec(f"emath_{name}", lambda x, name=name: _wsum(getattr(np.emath, name)(x)),
          (np.abs(normal(2, 3)) + 0.2,)) for name in ("sqrt", "log", "log10", "log2")]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_spec(spec):
    check_spec(spec)
