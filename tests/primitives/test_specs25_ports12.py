"""Spec of the run-time guard of a list literal times a value computed at run
time (ports12): ``not_a_count(n)`` is ``n`` itself when it is an ndarray (the
product is then NumPy's, as in Python) and a refusal otherwise (Python would
repeat the list, or raise); its derivative is the identity.  Checked against
central differences in float64, float32 and by the forward/reverse identity,
directly and through ``[v, c] * w``."""
import numpy as np
import pytest

from s2sgrad import runtime
from tests.primitives.spec import Spec, check_spec
from tests.primitives.test_statistics import _wsum

_RNG = np.random.default_rng(2512)
Z = _RNG.standard_normal((4, 2))


def _direct(v):
    return _wsum(runtime.not_a_count(np.sin(v), where="spec") * 2.0)


def _list_times_array(v):
    # (a computed item: the product is guarded; a list of constants is not)
    return _wsum([v[0, 0], -0.5] * v)


SPECS = [
    Spec("not_a_count", _direct, (Z,), id="not_a_count-direct"),
    Spec("not_a_count", _list_times_array, (Z,), id="not_a_count-list-times-array"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_spec(spec):
    check_spec(spec)
