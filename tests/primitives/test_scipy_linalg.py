"""scipy.linalg against finite differences and exact values; SciPy rules are
registered only once a program uses SciPy."""
import subprocess
import sys

import numpy as np
import pytest

sl = pytest.importorskip("scipy.linalg")

import s2sgrad  # noqa: E402
import s2sgrad.runtime as rt  # noqa: E402
from s2sgrad.errors import S2SGradError  # noqa: E402
from s2sgrad.primitives import core  # noqa: E402

from .spec import RNG, Spec, check_spec, normal  # noqa: E402
from .test_runtime_prims import check_hvp  # noqa: E402

core.load_optional_rules()      # register the rules (test_coverage needs them)


def spd(n):
    m = RNG.standard_normal((n, n))
    return m @ m.T + n * np.eye(n)


def tri(n, lower=True):
    m = RNG.standard_normal((n, n)) * 0.3 + 2.0 * np.eye(n)
    return np.tril(m) if lower else np.triu(m)


A4 = spd(4)
N4 = normal(4, 4)
W4 = normal(4, 4)
W42 = normal(4, 2)


SPECS = [
    # ---------------------------------------------------------------- solve_triangular
    Spec("solve_triangular", lambda a, b: np.sum(np.sin(sl.solve_triangular(a, b, lower=True))),
         (tri(4) + 0.1 * N4, normal(4)), wrt=(0, 1), id="solve_triangular-lower"),
    Spec("solve_triangular", lambda a, b: np.sum(np.sin(sl.solve_triangular(a, b))),
         (tri(4, lower=False) + 0.1 * N4, normal(4, 2)), wrt=(0, 1), id="solve_triangular-upper"),
    Spec("solve_triangular", lambda a, b: np.sum(sl.solve_triangular(a, b, trans="T", lower=True)
                                                 * W42),
         (tri(4), normal(4, 2)), wrt=(0, 1), id="solve_triangular-trans"),
    Spec("solve_triangular", lambda a, b: np.sum(np.sin(sl.solve_triangular(
        a, b, trans=1, unit_diagonal=True))), (tri(4, lower=False) + 0.1 * N4, normal(4)),
         wrt=(0, 1), id="solve_triangular-unit-trans"),
    # ---------------------------------------------------------------- cholesky family
    Spec("scipy_cholesky", lambda a: np.sum(sl.cholesky(a) * W4), (A4 + 0.3 * N4,),
         id="scipy_cholesky-upper"),
    Spec("scipy_cholesky", lambda a: np.sum(np.sin(sl.cholesky(a, lower=True))),
         (A4 + 0.3 * N4,), id="scipy_cholesky-lower"),
    Spec(("cho_factor", "cho_factor_c"), lambda a: np.sum(np.sin(sl.cho_factor(a)[0])),
         (A4 + 0.3 * N4,), id="cho_factor"),
    Spec("cho_factor_c", lambda a: np.sum(sl.cho_factor(a, lower=True)[0] * W4),
         (A4 + 0.3 * N4,), id="cho_factor-lower"),
    Spec("cho_solve", lambda a, b: np.sum(np.sin(sl.cho_solve(sl.cho_factor(a), b))),
         (A4 + 0.3 * N4, normal(4)), wrt=(0, 1), id="cho_solve"),
    Spec("cho_solve", lambda a, b: np.sum(np.sin(sl.cho_solve((sl.cholesky(a, lower=True), True),
                                                              b))),
         (A4, normal(4, 2)), wrt=(0, 1), id="cho_solve-lower-tuple"),
    # ---------------------------------------------------------------- lu
    Spec("lu_factor", lambda a: np.sum(np.sin(sl.lu_factor(a)[0])), (N4 + 0.5 * np.eye(4),),
         id="lu_factor"),
    Spec("lu_solve", lambda a, b: np.sum(np.sin(sl.lu_solve(sl.lu_factor(a), b))),
         (N4 + 0.5 * np.eye(4), normal(4)), wrt=(0, 1), id="lu_solve"),
    Spec("lu_solve", lambda a, b: np.sum(sl.lu_solve(sl.lu_factor(a), b, trans=1) * W42),
         (N4 + 0.5 * np.eye(4), normal(4, 2)), wrt=(0, 1), id="lu_solve-trans"),
    Spec("apply_pivots", lambda x: np.sum(rt.apply_pivots(x, np.array([2, 2, 3, 3])) * W4),
         (normal(4, 4),)),
    Spec("unapply_pivots", lambda x: np.sum(rt.unapply_pivots(x, np.array([1, 3, 2, 3])) * W4),
         (normal(4, 4),)),
    # ---------------------------------------------------------------- sylvester, sqrtm
    Spec("solve_sylvester", lambda a, b, q: np.sum(sl.solve_sylvester(a, b, q) * W4),
         (N4 + 3 * np.eye(4), normal(4, 4) + 3 * np.eye(4), normal(4, 4)), wrt=(0, 1, 2)),
    Spec("sqrtm", lambda a: np.sum(np.real(sl.sqrtm(a)) * W4), (spd(4),)),
    # ---------------------------------------------------------------- expm
    Spec("expm", lambda a: np.sum(sl.expm(a) * W4), (0.5 * N4,), id="expm"),
    Spec("expm", lambda a: np.sum(np.sin(sl.expm(a))), (0.3 * normal(2, 3, 3),), id="expm-batch"),
    Spec("frechet_block", lambda a, e: np.sum(np.sin(rt.frechet_block(a, e))),
         (normal(2, 2), normal(2, 2)), wrt=(0, 1)),
    Spec("top_right", lambda m: np.sum(np.sin(rt.top_right(m))), (normal(4, 4),)),
    Spec("diag_blocks_sum", lambda m: np.sum(np.sin(rt.diag_blocks_sum(m))), (normal(4, 4),)),
    # ---------------------------------------------------------------- solve, inv, det, eigh
    Spec("scipy_solve", lambda a, b: np.sum(np.sin(sl.solve(a, b))), (N4 + 2 * np.eye(4),
                                                                      normal(4)),
         wrt=(0, 1), id="scipy_solve"),
    Spec("scipy_solve", lambda a, b: np.sum(sl.solve(a, b, transposed=True) * W42),
         (N4 + 2 * np.eye(4), normal(4, 2)), wrt=(0, 1), id="scipy_solve-transposed"),
    Spec("scipy_solve", lambda a, b: np.sum(np.sin(sl.solve(a, b, assume_a="pos"))),
         (A4 + 0.3 * N4, normal(4)), wrt=(0, 1), id="scipy_solve-pos-upper"),
    Spec("scipy_solve", lambda a, b: np.sum(np.sin(sl.solve(a, b, assume_a="sym", lower=True))),
         (A4 + 0.3 * N4, normal(4, 2)), wrt=(0, 1), id="scipy_solve-sym-lower"),
    Spec("scipy_inv", lambda a: np.sum(np.sin(sl.inv(a))), (N4 + 2 * np.eye(4),), id="scipy_inv"),
    Spec("scipy_det", lambda a: sl.det(a), (N4 + 2 * np.eye(4),), id="scipy_det"),
    Spec("scipy_eigh", lambda a: np.sum(sl.eigh(a)[0] * np.arange(4.0)), (A4 + 0.3 * N4,),
         id="scipy_eigh-w"),
    Spec("scipy_eigh", lambda a: np.sum(np.abs(sl.eigh(a, lower=False)[1]) * W4),
         (A4 + 0.3 * N4,), id="scipy_eigh-V-upper"),
    Spec("scipy_eigh", lambda a: np.sum(sl.eigh(a, eigvals_only=True) ** 2), (A4 + 0.3 * N4,),
         id="scipy_eigh-values-only"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_scipy_linalg(spec):
    check_spec(spec)


@pytest.mark.parametrize("spec", SPECS[::2], ids=lambda s: s.id)
def test_scipy_linalg_hvp(spec):
    check_hvp(spec)


# ---------------------------------------------------------------- exact values


def _expm_trace(a):
    return np.trace(sl.expm(a))


def test_expm_gradient_of_trace_is_expm_transposed():
    # d tr(expm(A)) = tr(expm(A) dA): the gradient is expm(A)^T
    a = 0.5 * normal(4, 4)
    np.testing.assert_allclose(s2sgrad.grad(_expm_trace)(a), sl.expm(a).T, rtol=1e-12)


def _expm_sum(a):
    return np.sum(sl.expm(a) * W4)


def test_expm_tangent_is_the_frechet_derivative():
    a, e = 0.5 * normal(4, 4), normal(4, 4)
    _, t = s2sgrad.jvp(_expm_sum)((a,), (e,))
    np.testing.assert_allclose(t, np.sum(sl.expm_frechet(a, e, compute_expm=False) * W4),
                               rtol=1e-12)


W2 = normal(2, 2)


def _expm_sum2(a):
    return np.sum(sl.expm(a) * W2)


def test_expm_hessian():
    a = 0.3 * normal(2, 2)
    h = s2sgrad.hessian(_expm_sum2)(a)
    g = s2sgrad.grad(_expm_sum2)
    eps, fd = 1e-5, np.zeros((2, 2, 2, 2))
    for i in range(2):
        for j in range(2):
            e = np.zeros((2, 2))
            e[i, j] = eps
            fd[:, :, i, j] = (g(a + e) - g(a - e)) / (2 * eps)
    np.testing.assert_allclose(h, fd, rtol=1e-6, atol=1e-8)


def _solve_via_cho(a, b):
    return np.sum(sl.cho_solve(sl.cho_factor(a), b) ** 2)


def _solve_via_lu(a, b):
    return np.sum(sl.lu_solve(sl.lu_factor(a), b) ** 2)


def _solve_np(a, b):
    return np.sum(np.linalg.solve(a, b) ** 2)


def _solve_np_sym(a, b):
    s = rt.tril_part(a.T) + rt.tril_part(a.T, 0.0).T      # triu(a) + triu(a, 1).T
    return np.sum(np.linalg.solve(s, b) ** 2)


def test_factor_solve_pairs_match_numpy_solve():
    a, b = N4 + 2 * np.eye(4), normal(4)
    for x, y in zip(s2sgrad.grad(_solve_via_lu, wrt=(0, 1))(a, b),
                    s2sgrad.grad(_solve_np, wrt=(0, 1))(a, b)):
        np.testing.assert_allclose(x, y, rtol=1e-9)
    # cho_factor reads the upper triangle: the gradient is the symmetric one
    # folded onto it
    s = A4 + 0.3 * N4
    got = s2sgrad.grad(_solve_via_cho, wrt=(0, 1))(s, b)
    want = s2sgrad.grad(_solve_np_sym, wrt=(0, 1))(s, b)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-9)
    np.testing.assert_allclose(np.triu(got[0]), want[0], rtol=1e-9, atol=1e-12)


def _tri_values(a, b):
    return (sl.solve_triangular(a, b, lower=True), sl.cho_solve(sl.cho_factor(a @ a.T), b),
            sl.lu_factor(a)[0], sl.expm(a), sl.solve(a, b), sl.inv(a), sl.det(a),
            sl.eigh(a @ a.T)[0], sl.cholesky(a @ a.T))


def test_values_match_scipy():
    a, b = tri(4) + 0.1 * N4, normal(4)
    out, _ = s2sgrad.vjp(_tri_values, wrt=(0, 1))(a, b)
    for got, want in zip(out, _tri_values(a, b)):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def _solve_banded_kind(a, b):
    return np.sum(sl.solve(a, b, assume_a="banded"))


def _solve_unknown_kind(a, b):
    return np.sum(sl.solve(a, b, assume_a="skew"))


def test_refusals_name_what_to_do():
    a, b = A4, normal(4)
    with pytest.raises(S2SGradError, match="assume_a"):
        s2sgrad.grad(_solve_unknown_kind)(a, b)


def test_banded_kind_is_the_general_solve():
    """assume_a='banded' finds the band from the data: its value is the
    general solve's, and so is its derivative (against differences)."""
    a, b = A4, normal(4)
    ga, gb = s2sgrad.grad(_solve_banded_kind, wrt=(0, 1))(a, b)
    h = 1e-6
    for g, x, k in ((ga, a, 0), (gb, b, 1)):
        v = normal(*np.shape(x))
        args = [a, b]
        args[k] = x + h * v
        fp = _solve_banded_kind(*args)
        args[k] = x - h * v
        fm = _solve_banded_kind(*args)
        np.testing.assert_allclose(np.sum(g * v), (fp - fm) / (2 * h), rtol=1e-6)


def test_scipy_is_not_imported_by_s2sgrad():
    code = ("import sys, numpy as np, s2sgrad\n"
            "from s2sgrad.primitives import core\n"
            "assert core.lookup_object(np.linalg.cholesky) is not None\n"
            "assert core.lookup_object(sorted) is None\n"
            "assert 'scipy' not in sys.modules\n"
            "import scipy.linalg\n"
            "assert core.lookup_object(scipy.linalg.expm) is not None\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_generated_code_calls_scipy_lazily():
    f = s2sgrad.grad(_expm_trace)
    f(0.5 * normal(3, 3))
    assert "scipy_linalg.expm(" in f.source, f.source
