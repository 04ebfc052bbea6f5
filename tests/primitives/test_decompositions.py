"""np.linalg decompositions against finite differences, exact values from
matrix calculus, and the documented conventions (triangle read, repeated
eigen/singular values, full matrices through the thin part)."""
import numpy as np
import pytest

import s2sgrad
import s2sgrad.runtime as rt
from s2sgrad.errors import S2SGradError

from .spec import RNG, Spec, check_spec, normal
from .test_runtime_prims import check_hvp


def spd(n, *batch):
    m = RNG.standard_normal(batch + (n, n))
    return m @ np.swapaxes(m, -1, -2) + n * np.eye(n)


def sym(n):
    m = RNG.standard_normal((n, n))
    return m + m.T


A4 = spd(4)
S4 = normal(4, 4)                 # a generic (non-symmetric) square matrix
W4 = normal(4, 4)
W43 = normal(4, 3)
W35 = normal(3, 5)
W52 = normal(5, 2)
AR = np.arange(4.0)


SPECS = [
    # ---------------------------------------------------------------- cholesky
    Spec("cholesky", lambda a: np.sum(np.linalg.cholesky(a) * W4), (A4,), id="cholesky"),
    Spec("cholesky", lambda a: np.sum(np.sin(np.linalg.cholesky(a))), (A4 + 0.3 * S4,),
         id="cholesky-reads-lower"),
    Spec("cholesky", lambda a: np.sum(np.linalg.cholesky(a, upper=True) * W4),
         (A4 + 0.3 * S4,), id="cholesky-upper"),
    Spec("cholesky", lambda a: np.sum(np.sin(np.linalg.cholesky(a))), (spd(3, 2),),
         id="cholesky-batch"),
    Spec("cholesky", lambda x: np.sum(np.log(np.diag(np.linalg.cholesky(x @ x.T + np.eye(3))))),
         (normal(3, 3),), id="cholesky-logdet-of-gram"),
    Spec("tril_part", lambda x: np.sum(np.sin(rt.tril_part(x, 0.5)) * W4), (normal(4, 4),)),
    Spec("tril_part", lambda x: np.sum(np.sin(rt.tril_part(x)) * W43[:3]), (normal(2, 3, 3),),
         id="tril_part-batch"),
    # ---------------------------------------------------------------- eigh, eigvalsh
    Spec("eigh", lambda a: np.sum(np.linalg.eigh(a)[0] * AR), (A4 + 0.3 * S4,), id="eigh-w"),
    Spec("eigh", lambda a: np.sum(np.linalg.eigh(a)[1] ** 2 * W4), (sym(4),), id="eigh-V"),
    Spec("eigh", lambda a: np.sum(np.abs(np.linalg.eigh(a, UPLO="U").eigenvectors) * W4),
         (A4 + 0.3 * S4,), id="eigh-upper"),
    Spec("eigh", lambda a: np.sum(np.sin(np.linalg.eigh(a).eigenvalues)), (spd(3, 2),),
         id="eigh-batch"),
    Spec("eigvalsh", lambda a: np.sum(np.linalg.eigvalsh(a) ** 2 * AR), (A4 + 0.3 * S4,),
         id="eigvalsh"),
    Spec("eigvalsh", lambda a: np.sum(np.cos(np.linalg.eigvalsh(a, "U"))), (spd(3, 2),),
         id="eigvalsh-upper-batch"),
    # ---------------------------------------------------------------- svd
    Spec("svd", lambda a: np.sum(np.linalg.svd(a, compute_uv=False) ** 3), (normal(4, 3),),
         id="svd-values"),
    Spec("svd", lambda a: np.sum(np.sin(np.linalg.svd(a, compute_uv=False))), (normal(2, 3, 5),),
         id="svd-values-batch"),
    Spec("svd", lambda a: np.sum(np.abs(np.linalg.svd(a, full_matrices=False)[0]) * W43),
         (normal(4, 3),), id="svd-U-tall"),
    Spec("svd", lambda a: np.sum(np.abs(np.linalg.svd(a, full_matrices=False).Vh) * W35),
         (normal(3, 5),), id="svd-Vh-wide"),
    Spec("svd", lambda a: np.sum(np.abs(np.linalg.svd(a, full_matrices=False).Vh) * W35[:2]) +
         np.sum(np.linalg.svd(a, full_matrices=False).U ** 3),
         (normal(2, 5),),
         id="svd-U-Vh-wide"),
    Spec("svd", lambda a: np.sum(np.linalg.svd(a)[0][:, :3] * np.linalg.svd(a)[1] @
                                 np.linalg.svd(a)[2] * W43),
         (normal(4, 3),), id="svd-full-reconstruct"),
    Spec("svd", lambda a: np.sum(np.sin(np.linalg.svd(a)[0][..., :2])) +
         np.sum(np.linalg.svd(a)[2]), (normal(2, 3, 2),), id="svd-full-batch"),
    Spec("resize_axis", lambda v: np.sum(np.sin(rt.resize_axis(v, W43, -1, -1))),
         (normal(4, 5),), id="resize_axis-crop"),
    Spec("resize_axis", lambda v: np.sum(rt.resize_axis(v, W35, -2, -1) * W52),
         (normal(3, 2),), id="resize_axis-pad"),
    # ---------------------------------------------------------------- qr
    Spec("qr", lambda a: np.sum(np.linalg.qr(a)[0] * W43) + np.sum(np.sin(np.linalg.qr(a)[1])),
         (normal(4, 3),), id="qr-tall"),
    Spec("qr", lambda a: np.sum(np.linalg.qr(a)[0] ** 3) + np.sum(np.sin(np.linalg.qr(a).R) * W35),
         (normal(3, 5),), id="qr-wide"),
    Spec("qr", lambda a: np.sum(np.sin(np.linalg.qr(a, mode="r"))), (normal(4, 3),), id="qr-r"),
    Spec("qr", lambda a: np.sum(np.linalg.qr(a, "complete")[0][:, :3] * W43) +
         np.sum(np.linalg.qr(a, mode="complete")[1] ** 2), (normal(4, 3),), id="qr-complete"),
    Spec("qr", lambda a: np.sum(np.sin(np.linalg.qr(a)[0])), (normal(2, 4, 3),), id="qr-batch"),
    # ---------------------------------------------------------------- pinv, lstsq
    Spec("pinv", lambda a: np.sum(np.linalg.pinv(a) * W43.T), (normal(4, 3),), id="pinv-tall"),
    Spec("pinv", lambda a: np.sum(np.sin(np.linalg.pinv(a))), (normal(3, 5),), id="pinv-wide"),
    # (square: kept away from singular, whatever the shared random stream gives)
    Spec("pinv", lambda a: np.sum(np.sin(np.linalg.pinv(a))), (normal(2, 3, 3) + 3 * np.eye(3),),
         id="pinv-batch"),
    # hermitian=True reads the lower triangle only (as eigh): a non-symmetric input
    # (found by the torch port: the derivative was the general pinv's)
    Spec("pinv", lambda a: np.sum(np.sin(np.linalg.pinv(a, hermitian=True))),
         (normal(2, 3, 3) + 3 * np.eye(3),), id="pinv-hermitian-lower"),
    Spec("lstsq", lambda a, b: np.sum(np.sin(np.linalg.lstsq(a, b)[0])),
         (normal(4, 3), normal(4)), wrt=(0, 1), id="lstsq-x"),
    Spec("lstsq", lambda a, b: np.sum(np.sin(np.linalg.lstsq(a, b, rcond=None)[0])),
         (normal(4, 3), normal(4, 2)), wrt=(0, 1), id="lstsq-x-matrix"),
    Spec("lstsq", lambda a, b: np.sum(np.linalg.lstsq(a, b)[0] ** 2),
         (normal(3, 5), normal(3)), wrt=(0, 1), id="lstsq-underdetermined"),
    Spec("lstsq", lambda a, b: np.sum(np.linalg.lstsq(a, b)[1] * np.array([1.0, 2.0])),
         (normal(5, 3), normal(5, 2)), wrt=(0, 1), id="lstsq-residuals"),
    Spec("lstsq", lambda a, b: np.sum(np.linalg.lstsq(a, b)[1]) + np.linalg.lstsq(a, b)[2],
         (normal(5, 3), normal(5)), wrt=(0, 1), id="lstsq-residuals-vector"),
    Spec("lstsq", lambda a, b: np.sum(np.linalg.lstsq(a, b)[3] ** 2 * np.arange(3.0)),
         (normal(4, 3), normal(4)), wrt=(0, 1), id="lstsq-sv"),
    Spec("lstsq_res_ct", lambda g, r: np.sum(np.sin(rt.lstsq_res_ct(g, r))),
         (normal(2), normal(5, 2)), wrt=(0, 1), float32=False),
    Spec("lstsq_res_t", lambda h, r: np.sum(np.sin(rt.lstsq_res_t(h, r, np.ones(2)))),
         (normal(5, 2), normal(5, 2)), wrt=(0, 1), float32=False),
    # ---------------------------------------------------------------- eig, eigvals
    Spec("eig", lambda a: np.sum(np.abs(np.linalg.eig(a)[0]) ** 2 + np.real(np.linalg.eig(a)[0])),
         (S4,), id="eig-w"),
    Spec("eig", lambda a: np.sum(np.real(np.linalg.eig(a)[1]) * W4) +
         np.sum(np.imag(np.linalg.eig(a)[1])), (S4,), id="eig-V-complex"),
    Spec("eig", lambda a: np.sum(np.abs(np.linalg.eig(a).eigenvectors) * W4), (A4 + 0.3 * sym(4),),
         id="eig-V-real"),
    Spec("eig", lambda a: np.sum(np.real(np.linalg.eig(a)[0] ** 2)), (normal(2, 3, 3),),
         id="eig-batch"),
    Spec("eigvals", lambda a: np.sum(np.real(np.linalg.eigvals(a) ** 2) * AR), (S4,),
         id="eigvals"),
    # ---------------------------------------------------------------- composites
    Spec("matrix_power", lambda a: np.sum(np.linalg.matrix_power(a, 5) * W4), (0.5 * S4,),
         id="matrix_power-binary"),
    Spec("matrix_power", lambda a: np.sum(np.sin(np.linalg.matrix_power(a, -2))),
         (spd(3, 2),), id="matrix_power-negative-batch"),
    Spec("multi_dot", lambda a, b, c: np.sum(np.sin(np.linalg.multi_dot([a, b, c]))),
         (normal(2, 3), normal(3, 4), normal(4, 2)), wrt=(0, 1, 2), id="multi_dot"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_decompositions(spec):
    check_spec(spec)


@pytest.mark.parametrize("spec", SPECS[::2], ids=lambda s: s.id)
def test_decompositions_hvp(spec):
    """Forward-over-reverse: the rules' derivative code differentiated again."""
    check_hvp(spec)


# ---------------------------------------------------------------- exact values


def _chol_logdet(a):
    return 2.0 * np.sum(np.log(np.diag(np.linalg.cholesky(a))))


def test_cholesky_reads_the_lower_triangle():
    # log det through cholesky: the gradient is inv(A) on the triangle read,
    # the off-diagonal sensitivity counted once for both entries
    a = spd(4)
    ai = np.linalg.inv(a)
    g = s2sgrad.grad(_chol_logdet)(a)
    np.testing.assert_allclose(g, 2 * np.tril(ai, -1) + np.diag(np.diag(ai)), rtol=1e-10,
                               atol=1e-14)
    # the upper triangle is not read: perturbing it changes nothing
    assert np.all(np.triu(g, 1) == 0)


def _gram_logdet(x):
    return _chol_logdet(x @ x.T + np.eye(3))


def test_cholesky_of_a_symmetric_input_gives_the_symmetric_gradient():
    x = normal(3, 3)
    a = x @ x.T + np.eye(3)
    g = s2sgrad.grad(_gram_logdet)(x)
    np.testing.assert_allclose(g, 2 * np.linalg.inv(a) @ x, rtol=1e-10)


def test_cholesky_hessian():
    x = normal(3, 3)
    h = s2sgrad.hessian(_gram_logdet)(x)
    g = s2sgrad.grad(_gram_logdet)
    eps, fd = 1e-5, np.zeros((3, 3, 3, 3))
    for i in range(3):
        for j in range(3):
            e = np.zeros((3, 3))
            e[i, j] = eps
            fd[:, :, i, j] = (g(x + e) - g(x - e)) / (2 * eps)
    np.testing.assert_allclose(h, fd, rtol=1e-6, atol=1e-8)


def _sum_eigvalsh(a):
    return np.sum(np.log(np.linalg.eigvalsh(a)))


def _eigh_vectors_loss(a):
    return np.sum(np.linalg.eigh(a)[1] * W4)


def test_repeated_eigenvalues_convention():
    a = 2.0 * np.eye(4)
    # through the eigenvalues only: exact (log det: inv(A) on the lower triangle)
    np.testing.assert_allclose(s2sgrad.grad(_sum_eigvalsh)(a), 0.5 * np.eye(4), rtol=1e-14)
    # through the eigenvectors: inf/NaN, as JAX (the derivative does not exist)
    with np.errstate(invalid="ignore"):
        assert not np.all(np.isfinite(s2sgrad.grad(_eigh_vectors_loss)(a)))
    # distinct eigenvalues: finite
    assert np.all(np.isfinite(s2sgrad.grad(_eigh_vectors_loss)(np.diag([1.0, 2.0, 3.0, 4.0]))))


def _nuclear(a):
    return np.sum(np.linalg.svd(a, compute_uv=False))


def _svd_vectors_loss(a):
    return np.sum(np.linalg.svd(a)[0] * W4)


def test_nuclear_norm_gradient_is_u_vt():
    a = normal(4, 3)
    u, _, vh = np.linalg.svd(a, full_matrices=False)
    np.testing.assert_allclose(s2sgrad.grad(_nuclear)(a), u @ vh, rtol=1e-10)


def test_repeated_singular_values_convention():
    a = np.eye(4)
    np.testing.assert_allclose(s2sgrad.grad(_nuclear)(a), np.eye(4), rtol=1e-14)
    with np.errstate(invalid="ignore"):
        assert not np.all(np.isfinite(s2sgrad.grad(_svd_vectors_loss)(a)))


def _svd_hermitian(a):
    return np.sum(np.linalg.svd(a, hermitian=True)[1])


def _qr_raw(a):
    return np.sum(np.linalg.qr(a, mode="raw")[0])


@pytest.mark.parametrize("f, what", [(_svd_hermitian, "hermitian"), (_qr_raw, "raw")])
def test_refused_options(f, what):
    with pytest.raises(S2SGradError, match=what):
        s2sgrad.grad(f)(spd(3))


def _pinv_loss(a):
    return np.sum(np.sin(np.linalg.pinv(a)))


def _normal_equations_loss(a):
    return np.sum(np.sin(np.linalg.inv(a.T @ a) @ a.T))


def test_pinv_matches_normal_equations_for_full_column_rank():
    a = normal(5, 3)
    np.testing.assert_allclose(s2sgrad.grad(_pinv_loss)(a), s2sgrad.grad(_normal_equations_loss)(a),
                               rtol=1e-9)


def _lstsq_loss(a, b):
    return np.sum(np.linalg.lstsq(a, b)[0] ** 2) + np.sum(np.linalg.lstsq(a, b)[1])


def _normal_loss(a, b):
    x = np.linalg.solve(a.T @ a, a.T @ b)
    r = b - a @ x
    return np.sum(x ** 2) + np.sum(r ** 2)


def test_lstsq_matches_normal_equations():
    a, b = normal(6, 3), normal(6)
    g1 = s2sgrad.grad(_lstsq_loss, wrt=(0, 1))(a, b)
    g2 = s2sgrad.grad(_normal_loss, wrt=(0, 1))(a, b)
    for x, y in zip(g1, g2):
        np.testing.assert_allclose(x, y, rtol=1e-9)


def _power2(a, w):
    return np.sum(np.linalg.matrix_power(a, 2) * w)


def _power_neg(a):
    return np.sum(np.linalg.matrix_power(a, -3))


def _power0(a):
    return np.sum(np.linalg.matrix_power(a, 0) * a)


def _chain(a, b, c):
    return np.sum(np.linalg.multi_dot([a, b, c]))


def _chain_vectors(v, b, c, u):
    return np.linalg.multi_dot([v, b, c, u])


def test_matrix_power_and_multi_dot_composites():
    a, w = normal(3, 3), normal(3, 3)
    np.testing.assert_allclose(s2sgrad.grad(_power2)(a, w), w @ a.T + a.T @ w, rtol=1e-12)
    s2sgrad.check_grads(_power_neg, (spd(3),), modes=("rev", "fwd"))
    s2sgrad.check_grads(_power0, (spd(3),), modes=("rev", "fwd"))
    b = spd(3, 2)               # a stack of matrices
    np.testing.assert_allclose(s2sgrad.value_and_grad(_power_neg)(b)[0], _power_neg(b),
                               rtol=1e-10)
    args = (normal(2, 3), normal(3, 4), normal(4, 2))
    s2sgrad.check_grads(_chain, args, wrt=(0, 1, 2), modes=("rev", "fwd"))
    s2sgrad.check_grads(_chain_vectors, (normal(3), normal(3, 4), normal(4, 2), normal(2)),
                        wrt=(0, 1, 2, 3), modes=("rev", "fwd"))


def _rank_weighted(a):
    return np.linalg.matrix_rank(a) * np.sum(a)


def test_matrix_rank_is_data():
    a = normal(3, 2)
    np.testing.assert_array_equal(s2sgrad.grad(_rank_weighted)(a), 2 * np.ones((3, 2)))


def _all_values(a, s):
    return (np.linalg.cholesky(s), np.linalg.eigh(s)[0], np.linalg.eigvalsh(s),
            np.linalg.svd(a, compute_uv=False), np.linalg.qr(a)[1], np.linalg.pinv(a),
            np.linalg.eigvals(s + a @ a.T), np.linalg.matrix_power(s, 3))


def test_values_match_numpy():
    a, s = normal(4, 3), spd(4)
    out, _ = s2sgrad.vjp(_all_values, wrt=(0, 1))(a, s)
    for got, want in zip(out, _all_values(a, s)):
        np.testing.assert_allclose(got, want, rtol=1e-10)


def hpd(n, *batch):
    """A complex Hermitian positive definite matrix (or a stack)."""
    m = RNG.standard_normal(batch + (n, n)) + 1j * RNG.standard_normal(batch + (n, n))
    return m @ np.conj(np.swapaxes(m, -1, -2)) + n * np.eye(n)


H4 = hpd(4)
C43 = normal(4, 3) + 1j * normal(4, 3)
C34 = normal(3, 4) + 1j * normal(3, 4)
CW = normal(4, 4) + 1j * normal(4, 4)


def _eigh_phase_free(a):
    # w, |V| and V diag(c) V^H do not depend on the free phase of each eigenvector
    w, v = np.linalg.eigh(a)
    return (np.sum(w ** 2 * AR) + np.sum(np.abs(v) ** 2 * W4) +
            np.real(np.sum(((v * AR) @ np.conj(v.T)) * CW)))


def _eigh_upper(a):
    w, v = np.linalg.eigh(a, UPLO="U")
    return np.sum(np.sin(w)) + np.sum(np.abs(v[:, 0]) ** 3)


def _chol_complex(a):
    L = np.linalg.cholesky(a)
    return np.real(np.sum(L * CW)) + np.sum(np.abs(L) ** 2 * W4)


def _qr_complex(a):
    q, r = np.linalg.qr(a)
    return np.real(np.sum(q * C43)) + np.imag(np.sum(r * CW[:3, :3])) + np.sum(np.abs(r) ** 2)


def _qr_complex_wide(a):
    q, r = np.linalg.qr(a, mode="complete")
    return np.real(np.sum(q * CW[:3, :3])) + np.imag(np.sum(r * C34))


def _lstsq_complex(a, b):
    x, res, _, sv = np.linalg.lstsq(a, b, rcond=None)
    return np.real(np.sum(x * np.arange(1.0, 4.0))) + np.sum(res) + np.sum(sv ** 2 * AR[:3])


COMPLEX_SPECS = [
    Spec("cholesky", _chol_complex, (H4,), id="cholesky-complex"),
    Spec("cholesky", lambda a: np.imag(np.sum(np.linalg.cholesky(a, upper=True) * CW)),
         (H4,), id="cholesky-complex-upper"),
    Spec("cholesky", lambda a: np.sum(np.abs(np.linalg.cholesky(a)) ** 2), (hpd(3, 2),),
         id="cholesky-complex-batch"),
    Spec("eigh", _eigh_phase_free, (H4,), id="eigh-complex"),
    Spec("eigh", _eigh_upper, (H4,), id="eigh-complex-upper"),
    Spec("eigvalsh", lambda a: np.sum(np.linalg.eigvalsh(a) ** 2 * AR), (H4,),
         id="eigvalsh-complex"),
    Spec("eigvalsh", lambda a: np.sum(np.exp(np.linalg.eigvalsh(a, UPLO="U"))), (hpd(3, 2),),
         id="eigvalsh-complex-upper-batch"),
    Spec("qr", _qr_complex, (C43,), id="qr-complex"),
    Spec("qr", _qr_complex_wide, (C34,), id="qr-complex-wide-complete"),
    Spec("qr", lambda a: np.sum(np.abs(np.linalg.qr(a, mode="r")) ** 2 * W43[:3]), (C43,),
         id="qr-complex-r"),
    Spec("pinv", lambda a: np.real(np.sum(np.linalg.pinv(a) * C34)) +
         np.sum(np.abs(np.linalg.pinv(a)) ** 2), (C43,), id="pinv-complex"),
    Spec("pinv", lambda a: np.imag(np.sum(np.linalg.pinv(a) * C43)), (C34,),
         id="pinv-complex-wide"),
    Spec("pinv", lambda a: np.real(np.sum(np.linalg.pinv(a, hermitian=True) * C34[:, :3])) +
         np.sum(np.abs(np.linalg.pinv(a, hermitian=True)) ** 2),
         (C34[:, :3] + 4 * np.eye(3),), id="pinv-complex-hermitian-lower"),
    Spec("lstsq", _lstsq_complex, (C43, normal(4) + 1j * normal(4)), wrt=(0, 1),
         id="lstsq-complex"),
    Spec("lstsq", lambda a, b: np.sum(np.abs(np.linalg.lstsq(a, b)[0]) ** 2),
         (C34, normal(3) + 1j * normal(3)), wrt=(0, 1), id="lstsq-complex-underdetermined"),
    Spec("lstsq", lambda a, b: np.sum(np.linalg.lstsq(a, b)[1]), (C43, normal(4)), wrt=(0, 1),
         id="lstsq-complex-real-rhs"),
]
SPECS += COMPLEX_SPECS

T236 = normal(6, 6).reshape(2, 3, 6) + 3 * np.eye(6).reshape(2, 3, 6)
TENSOR_SPECS = [
    Spec("tensorinv", lambda a: np.sum(np.linalg.tensorinv(a, ind=2) * np.cos(np.arange(36.0))
                                       .reshape(6, 2, 3)), (T236,)),
    Spec("tensorinv", lambda a: np.sum(np.linalg.tensorinv(a, 1) ** 2),
         (normal(4, 4).reshape(4, 2, 2) + 3 * np.eye(4).reshape(4, 2, 2),), id="tensorinv-ind1"),
    Spec("tensorsolve", lambda a, b: np.sum(np.sin(np.linalg.tensorsolve(a, b))),
         (T236, normal(2, 3)), wrt=(0, 1)),
    Spec("tensorsolve", lambda a, b: np.sum(np.linalg.tensorsolve(a, b, axes=(0,)) ** 2),
         (np.moveaxis(T236, 2, 0), normal(2, 3)), wrt=(0, 1),
         id="tensorsolve-axes"),
]
SPECS += TENSOR_SPECS


@pytest.mark.parametrize("spec", TENSOR_SPECS, ids=lambda s: s.id)
def test_tensor_inverses(spec):
    check_spec(spec)
    check_hvp(spec)


def _tensor_values(a, b):
    return np.linalg.tensorinv(a), np.linalg.tensorsolve(a, b)


def test_tensor_inverse_values_match_numpy():
    b = normal(2, 3)
    value, _ = s2sgrad.vjp(_tensor_values, wrt=(0, 1))(T236, b)
    for got, want in zip(value, _tensor_values(T236, b)):
        np.testing.assert_allclose(got, want, rtol=1e-12)
        assert got.shape == want.shape


@pytest.mark.parametrize("spec", COMPLEX_SPECS, ids=lambda s: s.id)
def test_complex_decompositions(spec):
    check_spec(spec)


@pytest.mark.parametrize("spec", COMPLEX_SPECS[::2], ids=lambda s: s.id)
def test_complex_decompositions_hvp(spec):
    check_hvp(spec)


def _eig_abs(a):
    return np.sum(np.abs(np.linalg.eig(a)[0]))


def _cubes_eigvalsh(a):
    return np.sum(np.linalg.eigvalsh(a) ** 3)


def _cubes_trace(a):
    # the Hermitian matrix eigvalsh reads (lower triangle, real diagonal), cubed
    lo = np.tril(a, -1)
    h = lo + np.conj(lo.T) + np.diag(np.real(np.diag(a)))
    return np.real(np.trace(h @ h @ h))


def test_complex_hermitian_gradient_matches_the_trace_form():
    """sum(w^3) = tr(H^3) for the Hermitian H read from a (not even Hermitian
    itself): two independent routes to the same gradient."""
    a = H4 + np.triu(CW, 1)            # an upper triangle eigvalsh never reads
    np.testing.assert_allclose(s2sgrad.grad(_cubes_eigvalsh)(a), s2sgrad.grad(_cubes_trace)(a),
                               rtol=1e-9, atol=1e-9)
    s2sgrad.check_grads(_eig_abs, (normal(3, 3) + 1j * normal(3, 3),), modes=("rev", "fwd"))
    s2sgrad.check_grads(_nuclear, (H4,), modes=("rev", "fwd"))


def _svd_phase_free(a):
    # |U|, s, |V| and U S V^H do not depend on the free phase of each singular pair
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return (np.sum(np.abs(u) * W43) + np.sum(s ** 3) + np.sum(np.abs(vh)) +
            np.real(np.sum(((u * s[..., None, :]) @ vh) * np.conj(a))))


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (3, 3), (2, 4, 3)])
def test_complex_svd(shape):
    """autograd's complex SVD checks: the phase-invariant parts, both modes."""
    a = normal(*shape) + 1j * normal(*shape)
    s2sgrad.check_grads(lambda a: np.sum(np.linalg.svd(a, compute_uv=False) ** 2), (a,),
                        modes=("rev", "fwd"))
    if shape == (4, 3):
        s2sgrad.check_grads(_svd_phase_free, (a,), modes=("rev", "fwd"))
    for f in (_norm_nuc, _norm_2, _norm_m2):
        s2sgrad.check_grads(f, (a,), modes=("rev", "fwd"))


def _norm_nuc(a):
    return np.sum(np.linalg.norm(a, ord="nuc", axis=(-2, -1)))


def _norm_2(a):
    return np.sum(np.linalg.norm(a, ord=2, axis=(-2, -1)))


def _norm_m2(a):
    return np.sum(np.linalg.norm(a, ord=-2, axis=(-1, -2)))
