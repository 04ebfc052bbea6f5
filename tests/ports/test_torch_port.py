"""The port of PyTorch's OpInfo gradient tests (``tests/ports/torch_cases.py``),
checked in reverse mode (``gradcheck``) and forward mode (forward-mode AD)
against finite differences and NumPy's values, and second order
(``gradgradcheck``: the ``gradgrad`` area differentiates a gradient).

The pytest run checks every ``STRIDE``-th case, every case of the areas in
``ALWAYS`` and every case whose name holds one of ``REGRESSIONS`` (the
forms that found bugs); refusals are ``xfail`` only where listed in
``INTENDED_REFUSALS`` with the reason, any other refusal fails.  The
command line runs every case and prints the table by area and every
failure::

    python -m tests.ports.test_torch_port                  # all areas
    python -m tests.ports.test_torch_port linalg special   # some areas
"""
from __future__ import annotations

import dataclasses
import sys

import pytest

pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning:port_.*")]

from . import harness, torch_cases

# refusals that are the right answer (a clear error naming the call), by case name prefix
_NO_RULE = "no derivative rule in s2sgrad (refused at compile time, naming the call)"
INTENDED_REFUSALS = {
    # PyTorch has no derivative there either ("not implemented" in its OpInfos)
    "zeta[x-wrt]": "zeta's derivative in its first argument x has no closed form "
                   "(torch: 'Derivative wrt first tensor not implemented')",
    "masked.nanvar": "np.nanvar(..., where=) is refused at compile time (unexpected keyword "
                     "'where'): np.var(..., where=mask & ~np.isnan(x)) differentiates",
    "solve[her,complex]": "scipy.linalg.solve's rule is written for real matrices: a complex "
                          "one is refused at run time (require_real)",
    "pinv[scipy,atol]": "scipy.linalg.pinv's atol= is refused at compile time (use the default)",
}


_CASES = {}


def all_cases(areas=None):
    """The cases of ``areas`` (all by default), each area made once per
    process in a fixed order: a case has the same random data whichever
    areas are asked for and however often (one seeded generator)."""
    if not _CASES:
        for name, make in torch_cases.ALL.items():
            _CASES[name] = [dataclasses.replace(c, area=f"torch-{name}") for c in make()]
    return [c for name in torch_cases.ALL if areas is None or name in areas
            for c in _CASES[name]]


_reason = harness.reason_by_prefix(INTENDED_REFUSALS)


STRIDE = 5
ALWAYS = ("torch-special", "torch-gradgrad", "torch-empty", "torch-scatter",
          "torch-scipy_linalg")
REGRESSIONS = ("vector_norm[2x2", "gradgrad[np.fft", "pdist", "nan_to_num", "mean[empty",
               "var[empty", "[f32]", "pinv[hermitian",
               "residues")


def _sample():
    return [c for i, c in enumerate(all_cases())
            if i % STRIDE == 0 or c.area in ALWAYS or any(r in c.name for r in REGRESSIONS)]


@pytest.mark.parametrize("case", _sample(), ids=lambda c: f"{c.area}:{c.name}")
def test_torch_port(case):
    harness.check(case, _reason)


# second order (JAX's check_grads(order=2) / PyTorch's gradgradcheck): every
# ORDER2_STRIDE-th case (another sample) in reverse over reverse and forward
# over reverse, a non-scalar output paired with a random cotangent
ORDER2_STRIDE = 11
_ZEROS = ("a second derivative of np.cumprod at an element equal to 0 is refused at run time "
          "naming it (the first derivative is exact there; np.prod's second is exact too)")
_SINGULAR = ("a second derivative of np.linalg.det at a (nearly) singular matrix is refused at "
             "run time naming it (it uses the inverse; the first derivative is exact there)")
INTENDED_REFUSALS_ORDER2 = {"cumprod[zeros": _ZEROS,
                           "det[singular": _SINGULAR, "det[batch-singular": _SINGULAR}
# the forms that found bugs (wrong second derivatives of prod/cumprod at zeros,
# of det at a (numerically) singular matrix)
REGRESSIONS_ORDER2 = tuple(INTENDED_REFUSALS_ORDER2) + ("prod[one-zero", "prod[two-zeros",
                                                       "prod[all-zeros")
# not checked in second order: a boolean output (nothing to differentiate), a
# kink at the very point (ties of max, |x| at 0: the second derivative is a delta)
ORDER2_SKIP = ("signbit", "[ties", "norm[zeros]")


_reason2 = harness.reason_by_prefix(INTENDED_REFUSALS_ORDER2, INTENDED_REFUSALS)


def _sample_order2():
    return harness.order2_sample(all_cases(), ORDER2_STRIDE, 4, REGRESSIONS_ORDER2, ORDER2_SKIP)


@pytest.mark.parametrize("case", _sample_order2(), ids=lambda c: f"{c.area}:{c.name}")
def test_torch_port_order2(case):
    harness.check(case, _reason2)


def main(argv):
    areas = set(a for a in argv if not a.startswith("--")) or None
    cases = all_cases(areas)
    if "--order2" in argv:
        cases = [c for c in map(harness.order2, cases) if c is not None]
    results = harness.run_all(cases, progress=True)
    harness.report(results, f"PyTorch OpInfo port: {len(cases)} cases")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
