"""scipy.special.lpmv (differentiable in x; order and degree are data) and
scipy.special.bernoulli (data), against SciPy's values and finite
differences."""
import numpy as np
import pytest

sc = pytest.importorskip("scipy.special")

import s2sgrad  # noqa: E402
from s2sgrad.primitives import core  # noqa: E402

from .spec import Spec, check_spec, unit  # noqa: E402

core.load_optional_rules()      # register the rules (test_coverage needs them)

V4 = np.array([0.5, 1.0, 2.5, 3.0])


def _lpmv(x):
    return np.sum(sc.lpmv(1, 2.5, x) ** 2)


def _lpmv_broadcast(x):
    # x (3, 1) against the degrees (4,), orders 0..3; x used again
    return np.sum(sc.lpmv(np.arange(4), V4, x) * x)


def _lpmv_scalar(x):
    # a Python scalar x, a negative order, Bernoulli numbers as data
    return sc.lpmv(-1, 1.5, x) * sc.bernoulli(4)[2] + sc.lpmv(0, 2.0, x) ** 2


SPECS = [
    Spec("lpmv", _lpmv, (unit(5),), id="lpmv"),
    Spec("lpmv", _lpmv_broadcast, (unit(3, 1),), id="lpmv-broadcast"),
    Spec(("lpmv", "scipy.special.lpmv"), _lpmv_scalar, (0.35,), id="lpmv-python-scalar"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_lpmv(spec):
    check_spec(spec)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_values_are_scipys(spec):
    v, _ = s2sgrad.value_and_grad(spec.fn)(*spec.args)
    assert v == pytest.approx(spec.fn(*spec.args), rel=1e-13)


def _lpmv_in_v(v):
    return np.sum(sc.lpmv(1, v, 0.3))


def test_degree_is_data():
    with pytest.raises(s2sgrad.S2SGradError, match="'v' argument of scipy.special.lpmv"):
        s2sgrad.grad(_lpmv_in_v)(2.5)
