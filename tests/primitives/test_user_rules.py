"""Specs for ``check_rule_output``, the run-time check s2sgrad puts on every
derivative a user's rule computes (``s2sgrad.custom``): the identity for
derivatives, and an error naming the rule when the shape or dtype is not
the one of the value it is the derivative of.  The rules themselves are
tested in ``tests/test_custom.py``."""
import numpy as np
import pytest

from s2sgrad import runtime as rt

from .spec import Spec, check_spec, normal
from .test_runtime_prims import check_hvp

SPECS = [
    Spec("check_rule_output", lambda x: np.sum(rt.check_rule_output(np.sin(x) * 2, x, "r") ** 2),
         (normal(3, 4),)),
    Spec("check_rule_output", lambda x, y: rt.check_rule_output(x * y, y, "r") ** 3,
         (normal(), normal()), wrt=(0, 1), id="check_rule_output-scalars"),
    Spec("check_rule_output",
         lambda x: np.sum(rt.check_rule_output(x, x, "r") * rt.check_rule_output(x, x, "r")),
         (normal(5),), id="check_rule_output-repeated"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_check_rule_output(spec):
    check_spec(spec)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_check_rule_output_hvp(spec):
    check_hvp(spec)


def test_check_rule_output_errors():
    x = np.ones((3, 2))
    assert rt.check_rule_output(x * 2, x, "r") is not None
    assert rt.check_rule_output(2.0, 1.0, "r") == 2.0
    assert rt.check_rule_output(np.float64(2.0), 1.0, "r") == 2.0
    with pytest.raises(ValueError, match=r"^f\.py:3: bwd's cotangent has shape \(3,\) and "
                                         r"dtype float64, but must have the shape \(3, 2\)"):
        rt.check_rule_output(np.ones(3), x, "f.py:3: bwd's cotangent")
    with pytest.raises(ValueError, match="dtype float32, but must have the shape .* float64"):
        rt.check_rule_output(x.astype(np.float32), x, "r")
    # batched (Jacobians, Hessians): the shape after the leading batch axis
    assert rt.check_rule_output(np.ones((7, 3, 2)), x, "r", batched=True).shape == (7, 3, 2)
    with pytest.raises(ValueError):
        rt.check_rule_output(np.ones((7, 3)), x, "r", batched=True)
