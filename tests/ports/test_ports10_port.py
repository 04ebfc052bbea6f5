"""The ports10 cases (``tests/ports/ports10_cases.py``): JAX's lax_numpy_test
gradients over the jnp function table (ediff1d, diff with prepend/append,
trapezoid, convolve/correlate in every mode and complex, polynomials,
interp, kron, cross, roll/rot90/flip/tile/repeat, every pad mode,
reductions with ``where=``/``initial=``, cumulative ops, sort/partition/
take_along_axis, einsum/tensordot spellings, ``linalg.norm`` in every ord,
weighted statistics, every quantile method, ``gradient``, FFT edges),
lax_autodiff_test's NumPy-spelled ops and special values, scipy_stats_test's
logpdf/cdf/sf/ppf gradients, PyTorch OpInfo samples (broadcasting pairs,
0-d, Python scalars, float32, non-contiguous views) and test_linalg
gradient cases, and ChainRules.jl / Zygote gradcheck.jl rules translated to
NumPy.

Every case is checked in reverse and forward mode, and in second order
(reverse over reverse, forward over reverse; and a sample, with every case
at a zero norm, in reverse over forward, forward over forward and ``hvp``),
by :mod:`tests.ports.harness`.
Refusals are ``xfail`` only where listed with the reason.  The command line
prints the table::

    python -m tests.ports.test_ports10_port                 # all areas
    python -m tests.ports.test_ports10_port stats --order2
"""
from __future__ import annotations

import dataclasses
import sys

import pytest

pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning")]

from .. import sampling
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


_PARAM_QUAD = ("the derivative of an incomplete gamma/beta function in its parameter is "
               "computed by quadrature (gammainc_da/betainc_da), which has no derivative of "
               "its own: its second derivative is refused naming the call")
_NORM0 = ("a second derivative of a norm at a zero vector, in a direction that moves it, is "
          "refused at run time naming the call (test_ports9_fixes.py); np.abs of a complex 0 "
          "likewise")
INTENDED_REFUSALS = {
    "interp_xp_diff": "np.interp is differentiated in x and fp; its sample points xp are data "
                      "(refused at compile time naming the argument)",
    "cov_aweights": "np.cov's aweights= are data (refused at compile time naming the argument)",
    "gradient_coords_diff": "np.gradient's coordinates are data (refused naming the argument)",
    "symtridiag_eig": "scipy.linalg.eigh_tridiagonal has no rule (np.linalg.eigvalsh of the "
                      "assembled matrix works; refused naming the call)",
    "polynomial_": "the np.polynomial package (functions and classes) has no rules; np.polyval "
                   "and friends do (refused naming the call)",
    "chebval": "np.polynomial.chebyshev has no rules (refused naming the call)",
    "hermval": "np.polynomial.hermite has no rules (refused naming the call)",
    "legval": "np.polynomial.legendre has no rules (refused naming the call)",
    "cm:scipy.linalg.solve_triangular": "scipy.linalg.solve_triangular of a complex matrix is "
                                        "refused at run time naming the call (np.linalg.solve "
                                        "works)",
    "cm:scipy.linalg.lu_solve": "scipy.linalg.lu_factor/lu_solve of a complex matrix is refused "
                                "at run time naming the call (np.linalg.solve works)",
    "hypot.reduce": "np.hypot.reduce has no rule (np.linalg.norm along the axis does; refused "
                    "naming the call)",
    "hypot.accumulate": "np.hypot.accumulate has no rule (refused naming the call)",
    "logaddexp2.accumulate": "np.logaddexp2.accumulate has no rule (np.logaddexp.accumulate of "
                             "x * ln 2 does; refused naming the call)",
    "fmax.accumulate": "np.fmax.accumulate has no rule (np.maximum.accumulate does; refused "
                       "naming the call)",
    "fmin.accumulate": "np.fmin.accumulate has no rule (refused naming the call)",
    "multiply.reduceat": "np.multiply.reduceat has no rule (np.add.reduceat does; refused "
                         "naming the call)",
    "maximum.reduceat": "np.maximum.reduceat has no rule (refused naming the call)",
    "emath_": "np.emath of negative real data: its result would be complex (a dtype decided "
              "by the data), refused when the code runs naming the call; real data with no "
              "negative entry is NumPy's np.sqrt/np.log (corpus11)",
}
INTENDED_REFUSALS_ORDER2 = {
    "polydiv_quotient": "np.polydiv's derivative is computed by polydiv_adjoint, which has no "
                        "derivative of its own: second order refused naming the call",
    "igamma_a": _PARAM_QUAD, "igammac": _PARAM_QUAD, "gamma_cdf_a": _PARAM_QUAD,
    "gamma_sf_a": _PARAM_QUAD, "beta_cdf_ab": _PARAM_QUAD,
    "chi2_cdf": _PARAM_QUAD + " (chi2 in its df)", "chi2_sf": _PARAM_QUAD + " (chi2 in its df)",
    "cm:np.linalg.norm(a, 2)": "a second derivative of the spectral norm of a complex matrix "
                               "is refused at run time naming the call (real matrices work)",
    "norm_cubed_zero": _NORM0,
    "sum_abs2_complex_zero": _NORM0,
}
ORDER2_SKIP = ()


_reason = harness.reason_by_prefix(INTENDED_REFUSALS)
_reason2 = harness.reason_by_prefix(INTENDED_REFUSALS_ORDER2, INTENDED_REFUSALS)


def order2(case):
    return None if case.name in ORDER2_SKIP else harness.order2(case)


def _order2_cases():
    return [c for c in map(order2, all_cases()) if c is not None]


@pytest.mark.parametrize("case", sampling.port_params("ports10", all_cases()))
def test_ports10(case):
    harness.check(case, _reason)


@pytest.mark.parametrize("case", sampling.port_params("ports10_order2", _order2_cases()))
def test_ports10_order2(case):
    harness.check(case, _reason2)


def order2_rf(case):
    """Tangent's other Hessian-vector configurations: reverse over forward,
    forward over forward, and ``s2sgrad.hvp``."""
    return None if case.name in ORDER2_SKIP else harness.order2(case, modes=("rf", "ff", "hvp"))


# reverse over forward found the zero-norm bug (test_ports10_fixes.py): a
# sample of every area in those modes, and every case at a zero
_RF_REGRESSIONS = ("_zero", "norm", "abs", "hypot", "std")


def _rf_cases():
    cs = all_cases()
    out = [order2_rf(c) for i, c in enumerate(cs)
           if i % 4 == 1 or any(r in c.name for r in _RF_REGRESSIONS)]
    return [c for c in out if c is not None]


@pytest.mark.parametrize("case", sampling.port_params("ports10_order2_rf", _rf_cases(),
                                                      always=_RF_REGRESSIONS))
def test_ports10_order2_rf(case):
    harness.check(case, _reason2)


def main(argv):
    return harness.main(argv, all_cases, order2, "ports10")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
