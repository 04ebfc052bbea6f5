"""The ports10 cases (``tests/ports/ports10_cases.py``): what the autograd, JAX
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

    python -m tests.ports.test_ports10_port                 # all areas
    python -m tests.ports.test_ports10_port linalg --order2
"""
from __future__ import annotations

import dataclasses
import sys

import pytest

pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning")]

from . import harness, ports10_cases

_CASES = {}


def all_cases(areas=None):
    """The cases of ``areas`` (all by default), each area made once per
    process in a fixed order (one seeded generator)."""
    if not _CASES:
        for name, make in ports10_cases.ALL.items():
            _CASES[name] = make()
    return [c for name in ports10_cases.ALL if areas is None or name in areas
            for c in _CASES[name]]


INTENDED_REFUSALS = {}
INTENDED_REFUSALS_ORDER2 = {}
ORDER2_SKIP = ()


_reason = harness.reason_by_prefix(INTENDED_REFUSALS)
_reason2 = harness.reason_by_prefix(INTENDED_REFUSALS_ORDER2, INTENDED_REFUSALS)


def order2(case):
    return None if case.name in ORDER2_SKIP else harness.order2(case)


def _order2_cases():
    return [c for c in map(order2, all_cases()) if c is not None]


@pytest.mark.parametrize("case", all_cases(), ids=lambda c: f"{c.area}:{c.name}")
def test_ports10(case):
    harness.check(case, _reason)


@pytest.mark.parametrize("case", _order2_cases(), ids=lambda c: f"{c.area}:{c.name}")
def test_ports10_order2(case):
    harness.check(case, _reason2)


def main(argv):
    return harness.main(argv, all_cases, order2, "ports10")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
