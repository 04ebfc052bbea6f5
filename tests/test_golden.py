"""Golden snapshots of generated source: the output is a feature, so changes
to it are reviewed.  Regenerate with ``S2SGRAD_UPDATE_GOLDEN=1 pytest tests/test_golden.py``."""
import os
from pathlib import Path

import numpy as np
import pytest

import s2sgrad
from tests import golden_functions as gf

HERE = Path(__file__).parent / "golden"
R = np.random.default_rng(0)

CASES = {
    "f_xyz_grad": (s2sgrad.grad(gf.f_xyz, wrt=(0, 1, 2)), (-2.0, 5.0, -4.0)),
    "logistic_grad": (s2sgrad.grad(gf.logistic), (R.standard_normal(3), R.standard_normal((5, 3)),
                                                  np.ones(5))),
    "rnn_grad": (s2sgrad.grad(gf.rnn, wrt=(0, 1)), (R.standard_normal((2, 2)),
                                                     R.standard_normal((2, 3)),
                                                     R.standard_normal((4, 3)), np.zeros(2))),
    "relu_branch_grad": (s2sgrad.grad(gf.relu_branch), (R.standard_normal(3),)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_source(name):
    """Both the shape-polymorphic code (``name.py.txt``) and the code
    specialised to the arguments' shapes that the call ran
    (``name.specialized.py.txt``)."""
    fn, args = CASES[name]
    fn(*args)
    for suffix, source in (("", fn._last.source), (".specialized", fn.source)):
        path = HERE / f"{name}{suffix}.py.txt"
        if os.environ.get("S2SGRAD_UPDATE_GOLDEN"):
            path.write_text(source)
        assert source == path.read_text(), f"generated source of {name}{suffix} changed"


def test_seed_example_values():
    g = CASES["f_xyz_grad"][0](-2.0, 5.0, -4.0)
    assert g == (-4.0, -4.0, 3.0)
