"""The ports11 cases (``tests/ports/ports11_cases.py``): Enzyme's and
Tapenade's small programs (element loops with in-place updates, stencils,
sweeps, swaps, while loops, early exits, recursion, ODE/LSTM/bundle-adjustment
kernels), the scipy.special and scipy.linalg gradients JAX's lax_scipy_test /
linalg_test check that earlier ports did not reach, JAX fft_test gradients
(every norm, n=, s=, axes), JAX api_test / PyTorch functional-API semantics
(has_aux with argnums, holomorphic vjp/jvp, jacobians of pytrees in both
modes, Hessians of loops, hessp/hvp, custom rules under second order,
stop_gradient, checkpoint), and every loop program through ``jacobian``
(both modes) and ``hessian`` (area ``basis``).

Every case is checked in reverse and forward mode, and in second order
(reverse over reverse, forward over reverse; and a sample, with every
Enzyme/Tapenade program, in reverse over forward, forward over forward and
``hvp``), by :mod:`tests.ports.harness`.
Refusals are ``xfail`` only where listed with the reason.  The command line
prints the table::

    python -m tests.ports.test_ports11_port                 # all areas
    python -m tests.ports.test_ports11_port loops --order2
"""
from __future__ import annotations

import dataclasses
import sys

import pytest

pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning")]

from .. import sampling
from . import harness, ports11_cases

_CASES = {}


def all_cases(areas=None):
    """The cases of ``areas`` (all by default), each area made once per
    process in a fixed order (one seeded generator)."""
    if not _CASES:
        for name, make in ports11_cases.ALL.items():
            _CASES[name] = make()
    return [c for name in ports11_cases.ALL if areas is None or name in areas
            for c in _CASES[name]]


_DET2 = ("a second derivative of det at a singular matrix is refused at run time naming the "
         "call (require_nonsingular): the first derivative, the cofactor matrix, is checked")
INTENDED_REFUSALS = {
    "ellipj": "scipy.special.ellipj is differentiated in u; its parameter m is refused naming "
              "the argument (JAX has no ellipj)",
    "null_space_projector_dim2": "a null space of dimension 2 is LAPACK's choice of basis, "
                                 "with no derivative: a nonzero cotangent there is refused at "
                                 "run time naming the call (README, Full matrices)",
    "loop_dict_state": "a dict rebound as a whole in a loop that runs at run time is refused "
                       "naming the loop (entries updated in place, or a list, work)",
}
INTENDED_REFUSALS_ORDER2 = {
    "kolmogorov": "kolmogorov's derivative is computed by scipy's _kolmogp, which has no "
                  "derivative of its own: second order refused naming the call",
    "smirnov": "smirnov's derivative is computed by scipy's _smirnovp, which has no derivative "
               "of its own: second order refused naming the call",
    "det_singular_scipy": _DET2, "det_singular_batched": _DET2, "det_exact_zero_row": _DET2,
}
ORDER2_SKIP = ()


_reason = harness.reason_by_prefix(INTENDED_REFUSALS)
_reason2 = harness.reason_by_prefix(INTENDED_REFUSALS_ORDER2, INTENDED_REFUSALS)


def order2(case):
    return None if case.name in ORDER2_SKIP else harness.order2(case)


def _order2_cases():
    return [c for c in map(order2, all_cases()) if c is not None]


@pytest.mark.parametrize("case", sampling.port_params("ports11", all_cases()))
def test_ports11(case):
    harness.check(case, _reason)


@pytest.mark.parametrize("case", sampling.port_params("ports11_order2", _order2_cases()))
def test_ports11_order2(case):
    harness.check(case, _reason2)


def order2_rf(case):
    """Tangent's other Hessian-vector configurations: reverse over forward,
    forward over forward, and ``s2sgrad.hvp``."""
    return None if case.name in ORDER2_SKIP else harness.order2(case, modes=("rf", "ff", "hvp"))


# a sample of every area in reverse over forward, forward over forward and
# hvp, and every loop program (Enzyme's and Tapenade's)
_RF_REGRESSIONS = ("enzyme", "tapenade", "_zero")


def _rf_cases():
    cs = all_cases()
    out = [order2_rf(c) for i, c in enumerate(cs)
           if i % 4 == 1 or any(r in c.name for r in _RF_REGRESSIONS)]
    return [c for c in out if c is not None]


@pytest.mark.parametrize("case", sampling.port_params("ports11_order2_rf", _rf_cases(),
                                                      always=_RF_REGRESSIONS))
def test_ports11_order2_rf(case):
    harness.check(case, _reason2)


def main(argv):
    return harness.main(argv, all_cases, order2, "ports11")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
