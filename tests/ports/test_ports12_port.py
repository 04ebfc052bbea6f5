"""The ports12 cases (``tests/ports/ports12_cases.py``): JAX
lax_control_flow_test gradients as Python loops, jax.nn activations, PyTorch
nn.functional losses and reductions with dim tuples / keepdim / dtype,
ADBench's GMM, BA, LSTM and hand objectives, checkify-style NaN/inf edges and
Zygote's remaining gradcheck rules.

Every case is checked in reverse and forward mode; second order (reverse over
reverse, forward over reverse) on every other case and on every loop and
ADBench program; reverse over forward, forward over forward and ``hvp`` on a
deterministic sample (every fifth case, and the ADBench programs), all by
:mod:`tests.ports.harness`.  Refusals are ``xfail`` only where listed with
the reason.  The command line prints the table::

    python -m tests.ports.test_ports12_port                 # all areas
    python -m tests.ports.test_ports12_port control --order2
"""
from __future__ import annotations

import sys

import pytest

pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning")]

from . import harness, ports12_cases

_CASES = {}


def all_cases(areas=None):
    """The cases of ``areas`` (all by default), each area made once per
    process in a fixed order (one seeded generator)."""
    if not _CASES:
        for name, make in ports12_cases.ALL.items():
            _CASES[name] = make()
    return [c for name in ports12_cases.ALL if areas is None or name in areas
            for c in _CASES[name]]


INTENDED_REFUSALS = {
    "list_concat_loop_sliced": "slicing a list built at run time (ys[::-1] of a list grown "
                               "in a loop) is refused naming the line: stack it first "
                               "(list_concat_loop, np.stack(ys)[::-1], is supported)",
    "loop_accumulate_tuple": "a tuple rebound as a whole in a loop (acc = (acc[0] + x[i], "
                             "acc[1] * x[i])) is refused naming the line; unpacked carries "
                             "(a, b = ..., fori_tuple_carry) are supported",
    "logaddexp2_accumulate": "np.logaddexp2.accumulate has no rule (logaddexp.accumulate "
                             "has one): refused naming the call",
}
INTENDED_REFUSALS_ORDER2 = {
    "cumprod_with_zero": "a second derivative of np.cumprod at a zero is refused at run time "
                         "naming the call (require_nonzero); the first derivative through "
                         "the zeros is checked",
    "cumprod_two_zeros": "a second derivative of np.cumprod at a zero is refused at run time "
                         "naming the call (require_nonzero); the first derivative through "
                         "the zeros is checked",
}
# second order is not checked at these cases:
# where_div_guard: at exactly 0 the program takes its constant branch, whose
# second derivative is 0 where sinc's is -1/3; every AD tool (JAX, autograd,
# PyTorch) differentiates the branch the program takes.  First order (0 on
# both) is checked, and second order at nonzero points (where_div_guard_nonzero).
ORDER2_SKIP = ("where_div_guard",)

_reason = harness.reason_by_prefix(INTENDED_REFUSALS)
_reason2 = harness.reason_by_prefix(INTENDED_REFUSALS_ORDER2, INTENDED_REFUSALS)


def order2(case):
    return None if case.name in ORDER2_SKIP else harness.order2(case)


# every other case, and every loop and ADBench program, in second order
_ORDER2_ALWAYS = ("control", "adbench")


def _order2_cases():
    out = [order2(c) for i, c in enumerate(all_cases())
           if i % 2 == 0 or c.area in _ORDER2_ALWAYS]
    return [c for c in out if c is not None]


@pytest.mark.parametrize("case", all_cases(), ids=lambda c: f"{c.area}:{c.name}")
def test_ports12(case):
    harness.check(case, _reason)


@pytest.mark.parametrize("case", _order2_cases(), ids=lambda c: f"{c.area}:{c.name}")
def test_ports12_order2(case):
    harness.check(case, _reason2)


def order2_rf(case):
    """Tangent's other Hessian-vector configurations: reverse over forward,
    forward over forward, and ``s2sgrad.hvp``."""
    return None if case.name in ORDER2_SKIP else harness.order2(case, modes=("rf", "ff", "hvp"))


def _rf_cases():
    out = [order2_rf(c) for i, c in enumerate(all_cases())
           if i % 5 == 2 or c.area == "adbench"]
    return [c for c in out if c is not None]


@pytest.mark.parametrize("case", _rf_cases(), ids=lambda c: f"{c.area}:{c.name}")
def test_ports12_order2_rf(case):
    harness.check(case, _reason2)


def main(argv):
    return harness.main(argv, all_cases, order2, "ports12")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
