"""The ports9 cases (``tests/ports/ports9_cases.py``): what the autograd, JAX
and PyTorch ports did not cover yet -- indexing and assignment-like forms,
concatenate/stack variants and reductions over axis tuples (autograd's
test_numpy/test_systematic), loops rebinding outer variables and the
wrappers' products (test_graphs/test_wrappers), logsumexp with ``b=`` and
special functions at their special points (JAX's lax_scipy_test), linear
algebra (JAX's linalg_test) and gradcheck points of PyTorch's
test_autograd (zero bases, clip at its bounds, norms at zero, cumprod with
zeros, logcumsumexp, masked reductions, ``np.add.at``).

Every case is checked in reverse and forward mode, and (where it applies)
in second order (reverse over reverse, forward over reverse), by
:mod:`tests.ports.harness`.  Refusals are ``xfail`` only where listed with
the reason.  The command line prints the table::

    python -m tests.ports.test_ports9_port                 # all areas
    python -m tests.ports.test_ports9_port linalg --order2
"""
from __future__ import annotations

import dataclasses
import sys

import pytest

pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning")]

from .. import sampling
from . import harness, ports9_cases

_CASES = {}


def all_cases(areas=None):
    """The cases of ``areas`` (all by default), each area made once per
    process in a fixed order (one seeded generator)."""
    if not _CASES:
        for name, make in ports9_cases.ALL.items():
            _CASES[name] = make()
    return [c for name in ports9_cases.ALL if areas is None or name in areas
            for c in _CASES[name]]


INTENDED_REFUSALS = {}
_CUMPROD0 = ("a second derivative of np.cumprod at a zero is refused at run time naming the "
             "call (the first derivative is exact there); as in the other ports")
_NORM0 = ("a second derivative of a norm at a zero vector, in a direction that moves it, is "
          "refused at run time naming the call: the chain rule through the subgradient 0 "
          "would give the Hessian of norm(x)**2 at 0 as 0, not 2I (test_ports9_fixes.py)")
INTENDED_REFUSALS_ORDER2 = {
    "cumprod_one_zero": _CUMPROD0,
    "cumprod_two_zeros": _CUMPROD0,
    "cumprod_zero_first": _CUMPROD0,
    "det_singular_corank": "a second derivative of np.linalg.det at a singular matrix is "
                           "refused at run time (it uses the inverse), as in the other ports",
    "norm_sq_at_zero": _NORM0,
    "std_sq_at_constant": _NORM0 + "; np.std at a constant group likewise",
    "abs_complex_sq_at_zero": _NORM0 + "; np.abs at a complex 0 likewise (a 2-norm there)",
}
# second order is not checked: a kink at the point (|x| at a real 0: the
# second derivative is a delta; autograd checks only the first there)
ORDER2_SKIP = ("abs_real_at_zero_first",)


_reason = harness.reason_by_prefix(INTENDED_REFUSALS)
_reason2 = harness.reason_by_prefix(INTENDED_REFUSALS_ORDER2, INTENDED_REFUSALS)


def order2(case):
    return None if case.name in ORDER2_SKIP else harness.order2(case)


def _order2_cases():
    return [c for c in map(order2, all_cases()) if c is not None]


@pytest.mark.parametrize("case", sampling.port_params("ports9", all_cases()))
def test_ports9(case):
    harness.check(case, _reason)


@pytest.mark.parametrize("case", sampling.port_params("ports9_order2", _order2_cases()))
def test_ports9_order2(case):
    harness.check(case, _reason2)


def main(argv):
    return harness.main(argv, all_cases, order2, "ports9")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
