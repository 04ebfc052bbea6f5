"""The port of HIPS autograd's test suite (``tests/ports/autograd_cases.py``),
checked in reverse and forward mode against finite differences and NumPy.

The pytest run checks a fixed sample of the cases (every ``STRIDE``-th, and
every case of the areas listed in ``ALWAYS``); the full port runs from the
command line and prints the table of checks, refusals and wrong results by
area, then every failure::

    python -m tests.ports.test_autograd_port              # all areas
    python -m tests.ports.test_autograd_port linalg fft   # some areas
    python -m tests.ports.test_autograd_port --order2     # second order of every case

autograd's ``check_grads`` checks second derivatives by default (order 2:
the derivatives of the vjp and jvp): the second-order test runs every
``ORDER2_STRIDE``-th case (another sample) in reverse over reverse and
forward over reverse, a non-scalar output paired with a fixed random
cotangent (``harness.scalarised``).  Refusals are ``xfail`` only where
listed in ``INTENDED_REFUSALS`` with the reason; any other refusal fails.
"""
from __future__ import annotations

import sys

import pytest

from . import autograd_cases, harness

AREAS = {
    "systematic": autograd_cases.systematic,
    "numpy": autograd_cases.numpy_cases,
    "scipy": autograd_cases.scipy_cases,
    "linalg": autograd_cases.linalg_cases,
    "fft": autograd_cases.fft_cases,
    "complex": autograd_cases.complex_cases,
    "graphs": autograd_cases.graphs_cases,
    "binary_ops": autograd_cases.binary_ops_cases,
    "scalar_ops": autograd_cases.scalar_ops_cases,
    "containers": autograd_cases.containers_cases,
    "logic": autograd_cases.logic_cases,
    "wrappers": autograd_cases.wrappers_cases,
    "interp": autograd_cases.interp_cases,
    "jacobian": autograd_cases.jacobian_cases,
    "higher": autograd_cases.higher_order_cases,
    "scipy_more": autograd_cases.scipy_more_cases,
}


_CASES = {}


def all_cases(areas=None):
    """The cases of ``areas`` (all by default).  Every area is made once per
    process, in a fixed order, so a case has the same random data whichever
    areas are asked for and however often (the data come from one seeded
    generator)."""
    if not _CASES:
        for name, make in AREAS.items():
            _CASES[name] = make()
    return [c for name in AREAS if areas is None or name in areas for c in _CASES[name]]


# refusals that are the right answer (a clear error naming the call), by case name prefix
_LITERALS = ("needs the sequence written as a list/tuple literal of arrays (its length known "
             "when compiling): refused naming the call")
INTENDED_REFUSALS = {
    "select[": "np.select with its condition and choice lists passed in as arguments: "
               + _LITERALS,
    "column_stack_1d[2]": "np.column_stack of one array (a computed sequence): " + _LITERALS,
    "column_stack_2d[2x2]": "np.column_stack of one array (a computed sequence): " + _LITERALS,
    "gradient[": "np.gradient without axis= of an N-d array returns one array per axis, a "
                 "number of results not known when compiling: refused at run time naming "
                 "the call (np.gradient(x, axis=k), np.gradient(x)[k] and np.stack(np.gradient(x)) "
                 "work)",
    "gradient_axis[None]": "as for gradient[ (axis=None spelled out)",
    "mvn_sing_cov_": "scipy.stats.multivariate_normal(allow_singular=True) is refused at "
                     "compile time (the covariance must be positive definite)",
}
# second order only
INTENDED_REFUSALS_ORDER2 = {
    "odeint": "a second derivative through scipy.integrate.odeint is refused naming the call "
              "(its first derivative is an adjoint ODE solve at run time)",
}
# second order is not checked: the point is a kink (|x| at 0: the second
# derivative is a delta; autograd checks only the first derivative there)
ORDER2_SKIP = {"abs_at_0": "np.abs at 0"}


_reason = harness.reason_by_prefix(INTENDED_REFUSALS)


_reason2 = harness.reason_by_prefix(INTENDED_REFUSALS_ORDER2, INTENDED_REFUSALS)


STRIDE = 7
ORDER2_STRIDE = 8
ALWAYS = ("interp", "jacobian", "higher", "scipy_more")     # keys of AREAS
REGRESSIONS = ("op.mul_c[", "op.sub_c[", "dict_items_values_keys", "partial")


def _sample():
    always = {id(c) for c in all_cases(ALWAYS)}
    return [c for i, c in enumerate(all_cases()) if i % STRIDE == 0 or id(c) in always or
            any(r in c.name for r in REGRESSIONS)]


def order2(case):
    """``case`` checked in second order (reverse over reverse, forward over
    reverse), or None where that does not apply (API checks, cases checking
    second order already, kinks)."""
    return None if case.name in ORDER2_SKIP else harness.order2(case)


def _sample_order2():
    always = {id(c) for c in all_cases(ALWAYS)}
    cases = [c for c in all_cases() if id(c) not in always]
    out = [order2(c) for i, c in enumerate(cases)
           if i % ORDER2_STRIDE == 3 or any(r in c.name for r in REGRESSIONS[:2])]
    return [c for c in out if c is not None]


@pytest.mark.parametrize("case", _sample(), ids=lambda c: f"{c.area}:{c.name}")
def test_autograd_port(case):
    harness.check(case, _reason)


@pytest.mark.parametrize("case", _sample_order2(), ids=lambda c: f"{c.area}:{c.name}")
def test_autograd_port_order2(case):
    harness.check(case, _reason2)


def test_order2_check_can_fail():
    """The second-order modes of a non-scalar output (paired with a random
    cotangent) and forward over forward report a wrong second derivative
    as ``wrong`` -- and the same function with a right one as ``ok``."""
    import numpy as np

    from . import order2_selftest as t
    x = np.array([0.3, -1.2, 2.0])
    for fn, want in ((t.f, "wrong"), (t.good, "ok")):
        case = harness.Case("selftest", fn.__name__, None, (x,), (0,),
                            modes=("rev", "fwd", "rr", "fr", "hvp", "rf", "ff"), func=fn)
        got = {r.mode: r.status for r in harness.run(case)}
        assert got["rev"] == got["fwd"] == "ok", got
        assert all(got[m] == want for m in ("rr", "fr", "hvp", "rf", "ff")), got


def main(argv):
    return harness.main(argv, all_cases, order2, "autograd port")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
