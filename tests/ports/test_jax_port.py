"""The port of JAX's numpy-gradient tests (``tests/ports/jax_cases.py``),
checked in reverse and forward mode against finite differences and NumPy,
and in float32 against the float64 derivative.

The pytest run checks every ``STRIDE``-th case, every case of the areas in
``ALWAYS`` and every case whose name holds one of ``REGRESSIONS`` (the
forms that found bugs); refusals are ``xfail`` only where listed in
``INTENDED_REFUSALS`` with the reason, any other refusal fails.  The
command line runs every case and prints the table by area and every
failure::

    python -m tests.ports.test_jax_port                 # all areas
    python -m tests.ports.test_jax_port linalg shapes   # some areas
"""
from __future__ import annotations

import dataclasses
import sys

import pytest

# the NaN cases warn (all-NaN slices), as NumPy does
pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"),
              # np.cross of 2-vectors: NumPy 2 deprecates them (and computes them)
              pytest.mark.filterwarnings("ignore::DeprecationWarning:port_.*")]

from . import harness, jax_cases

# refusals that are the right answer (a clear error naming the call), by case name prefix
INTENDED_REFUSALS = {
    "cov[aweights]": "np.cov's aweights are data (documented); differentiating them is refused",
    "arange-float-start": "np.arange is data in s2sgrad: a differentiated start is refused "
                          "(use start + np.arange(n))",
    "gradient-spacing": "np.gradient's spacings are data: a differentiated one is refused",
}


_CASES = {}


def all_cases(areas=None):
    """The cases of ``areas`` (all by default), each area made once per
    process in a fixed order: a case has the same random data whichever
    areas are asked for and however often (one seeded generator)."""
    if not _CASES:
        for name, make in jax_cases.ALL.items():
            _CASES[name] = [dataclasses.replace(c, area=f"jax-{name}") for c in make()]
    return [c for name in jax_cases.ALL if areas is None or name in areas
            for c in _CASES[name]]


_reason = harness.reason_by_prefix(INTENDED_REFUSALS)


STRIDE = 6
ALWAYS = ("jax-special", "jax-array_api", "jax-composite", "jax-api")
REGRESSIONS = ("nanvar[nan", "nanstd[nan", "diff[prepend-data]", "slogdet[complex",
               "einsum[ab,b->a]", "einsum[bi,bi->b]", "clip[", "split[[]", "split[1,",
               "array_split[1,", "hsplit[1,", "[where,", "[initial]", "quantile[q-data]",
               "pad[", "x.mT", "select", "cross[", "cov[aweights]", "eigvalsh[complex]",
               "cholesky[complex]", "qr[complex]", "unique")


def _sample():
    return [c for i, c in enumerate(all_cases())
            if i % STRIDE == 0 or c.area in ALWAYS or any(r in c.name for r in REGRESSIONS)]


@pytest.mark.parametrize("case", _sample(), ids=lambda c: f"{c.area}:{c.name}")
def test_jax_port(case):
    harness.check(case, _reason)


# second order (JAX's check_grads(order=2) / PyTorch's gradgradcheck): every
# ORDER2_STRIDE-th case (another sample) in reverse over reverse and forward
# over reverse, a non-scalar output paired with a random cotangent
ORDER2_STRIDE = 11
_ZEROS = ("a second derivative of np.cumprod at an element equal to 0 is refused at run time "
          "naming it (the first derivative is exact there; np.prod's second is exact too)")
_SINGULAR = ("a second derivative of np.linalg.det at a (nearly) singular matrix is refused at "
             "run time naming it (it uses the inverse; the first derivative is exact there)")
INTENDED_REFUSALS_ORDER2 = {"cumprod[zero]": _ZEROS, "cumprod[two-zeros]": _ZEROS,
                           "det[singular": _SINGULAR, "det[zero]": _SINGULAR}
# the forms that found bugs (wrong second derivatives of prod/cumprod at zeros)
REGRESSIONS_ORDER2 = tuple(INTENDED_REFUSALS_ORDER2) + ("prod[zero]", "prod[two-zeros]")
# not checked in second order: a kink at the very point (ties of max: the
# second derivative is a delta)
ORDER2_SKIP = ("max-ties",)


_reason2 = harness.reason_by_prefix(INTENDED_REFUSALS_ORDER2, INTENDED_REFUSALS)


def _sample_order2():
    return harness.order2_sample(all_cases(), ORDER2_STRIDE, 4, REGRESSIONS_ORDER2, ORDER2_SKIP)


@pytest.mark.parametrize("case", _sample_order2(), ids=lambda c: f"{c.area}:{c.name}")
def test_jax_port_order2(case):
    harness.check(case, _reason2)


def main(argv):
    areas = set(a for a in argv if not a.startswith("--")) or None
    cases = all_cases(areas)
    if "--order2" in argv:
        cases = [c for c in map(harness.order2, cases) if c is not None]
    results = harness.run_all(cases, progress=True)
    harness.report(results, f"JAX port: {len(cases)} cases")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
