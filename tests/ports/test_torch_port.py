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
    "gammainc[a,x]": "gammainc's derivative in a has no closed form s2sgrad uses "
                     "(torch.igamma: 'not implemented for input')",
    "spherical_jn": _NO_RULE,
    "unfold": _NO_RULE + " (sliding_window_view): index with an array of window offsets",
    "cumulative_trapezoid": _NO_RULE + " (scipy.integrate): np.cumsum of the trapezoids",
    "complex[lax]": "the builtin complex() of an array element is refused; write a + 1j * b",
    "masked.nanvar": "np.nanvar(..., where=) is refused at compile time (unexpected keyword "
                     "'where'): np.var(..., where=mask & ~np.isnan(x)) differentiates",
    "solve[her,complex]": "scipy.linalg.solve's rule is written for real matrices: a complex "
                          "one is refused at run time (require_real)",
    "pinv[scipy,atol]": "scipy.linalg.pinv's atol= is refused at compile time (use the default)",
}


def all_cases(areas=None):
    out = []
    for name, make in torch_cases.ALL.items():
        if areas is None or name in areas:
            out += [dataclasses.replace(c, area=f"torch-{name}") for c in make()]
    return out


def _reason(case):
    for prefix, why in INTENDED_REFUSALS.items():
        if case.name.startswith(prefix):
            return why
    return None


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


def main(argv):
    areas = set(argv) or None
    cases = all_cases(areas)
    results = harness.run_all(cases, progress=True)
    harness.report(results, f"PyTorch OpInfo port: {len(cases)} cases")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
