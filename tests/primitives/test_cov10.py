"""Session 23 (linalg10): eigen/singular-vector derivatives at (numerically)
repeated eigen/singular values, and coverage leftovers.

Repeated values: LAPACK splits an exact tie by a few eps (measured: at most
~20 eps max|w| for n <= 100), so ``1 / (w_j - w_i)`` multiplied a coupling
that is rounding noise and gave finite garbage (the projector onto the 2-d
eigenspace of a rotated diag(1, 1, 2, 3): off by 0.08 on main).  Now a gap
``<= sqrt(eps) max|w|`` is a tie (decompositions._pair_F, runtime tie_mask):
its term is 0 where the coupling is zero to rounding and the function does
not read the tied values (rotation-invariant functions: projectors, the
polar factor, functions of the span), NaN otherwise (the derivative does not
exist, or needs g' of a matrix function V g(w) V^T).  Checked against
central differences, which are well defined on rotation-invariant
functions, and against closed forms.
"""
import warnings

import numpy as np
import pytest

import s2sgrad

sl = pytest.importorskip("scipy.linalg")

RNG = np.random.default_rng(2310)
Q4, _ = np.linalg.qr(RNG.standard_normal((4, 4)))
W4 = RNG.standard_normal((4, 4))
W43 = RNG.standard_normal((4, 3))


def rotated(d, q=Q4):
    a = q @ np.diag(d) @ q.T
    return (a + a.T) / 2


NEAR = rotated([1.0, 1.0, 2.0, 3.0])          # eigenvalues 1, 1 up to rounding
EXACT = np.diag([1.0, 1.0, 2.0, 3.0])         # an exact tie, eigenvectors e_i
APART = rotated([1.0, 1.3, 2.0, 3.0])         # distinct


def fd_lower(f, a, h=1e-6):
    """Central differences in the lower triangle (what eigh reads)."""
    g = np.zeros_like(a)
    for i in range(a.shape[-1]):
        for j in range(i + 1):
            e = np.zeros_like(a)
            e[..., i, j] = 1.0
            g[..., i, j] = (f(a + h * e) - f(a - h * e)) / (2 * h)
    return g


def fd_full(f, a, h=1e-6):
    g = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        e = np.zeros_like(a)
        e[idx] = 1.0
        g[idx] = (f(a + h * e) - f(a - h * e)) / (2 * h)
    return g


def projector_closed_form(a, k, wmat):
    """d/dA sum(P o W), P the projector onto the first k eigenvectors:
    dP = sum_{i<k<=j} (v_i v_j^T + v_j v_i^T) C_ij / (w_i - w_j), on the lower
    triangle read by eigh."""
    w, v = np.linalg.eigh(a)
    ws = wmat + wmat.T
    m = v.T @ ws @ v
    f = np.zeros_like(m)
    for i in range(k):
        for j in range(k, len(w)):
            f[i, j] = f[j, i] = m[i, j] / (w[i] - w[j])
    g = v @ f @ v.T / 2           # the symmetric gradient
    return np.tril(g) + np.tril(g, -1)


# ---------------------------------------------------------------- eigh


def eigh_projector(a):
    w, v = np.linalg.eigh(a)
    vc = v[:, :2]
    return np.sum((vc @ vc.T) * W4)


def eigh_top_vector(a):
    """Reads only the last eigenvector: no tied pair is coupled."""
    w, v = np.linalg.eigh(a)
    return np.sum(np.outer(v[:, 3], v[:, 3]) * W4)


def eigh_projector_masked(a):
    """The projector as a matrix function of a mask computed from w (data)."""
    w, v = np.linalg.eigh(a)
    m = np.where(w < 1.5, 1.0, 0.0)
    return np.sum(((v * m) @ v.T) * W4) + np.sum(w * w)


def eigh_vectors(a):
    """Depends on LAPACK's basis of the eigenspace: no derivative at a tie."""
    w, v = np.linalg.eigh(a)
    return np.sum(v ** 2 * W4)


def eigh_sqrtm(a):
    """A matrix function V sqrt(w) V^T: at a tie its derivative needs sqrt',
    which the eigenvectors' rule cannot see."""
    w, v = np.linalg.eigh(a)
    return np.sum(((v * np.sqrt(w)) @ v.T) * W4)


@pytest.mark.parametrize("a", [NEAR, EXACT, APART], ids=["near", "exact", "apart"])
@pytest.mark.parametrize("f", [eigh_projector, eigh_top_vector], ids=lambda f: f.__name__)
def test_eigh_rotation_invariant_at_ties(f, a):
    g = s2sgrad.grad(f)(a)
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, fd_lower(f, a), atol=2e-8)


@pytest.mark.parametrize("a", [NEAR, EXACT, APART], ids=["near", "exact", "apart"])
def test_eigh_projector_closed_form(a):
    g = s2sgrad.grad(eigh_projector)(a)
    np.testing.assert_allclose(g, projector_closed_form(a, 2, W4), atol=1e-12)


def test_eigh_projector_masked_reads_w_elsewhere():
    # w is read (sum(w*w)) but the mask's derivative is 0: the tie's term is
    # 0 only where w_bar of the tied pair is 0 -- here it is 2w, so NaN, never
    # a finite wrong number
    g = s2sgrad.grad(eigh_projector_masked)(NEAR)
    assert np.isnan(g).any()
    g = s2sgrad.grad(eigh_projector_masked)(APART)
    np.testing.assert_allclose(g, fd_lower(eigh_projector_masked, APART), atol=2e-8)


@pytest.mark.parametrize("f", [eigh_vectors, eigh_sqrtm], ids=lambda f: f.__name__)
def test_eigh_no_derivative_at_near_tie_is_nan(f):
    # main: finite garbage (9.7e13 off for eigh_vectors, 0.43 for sqrtm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = s2sgrad.grad(f)(NEAR)
    assert np.isnan(g).any()
    g = s2sgrad.grad(f)(APART)
    np.testing.assert_allclose(g, fd_lower(f, APART), atol=5e-8)


def test_eigh_sqrtm_exact_tie_nan():
    assert np.isnan(s2sgrad.grad(eigh_sqrtm)(EXACT)).any()


def test_eigh_projector_float32_and_batch():
    g64 = s2sgrad.grad(eigh_projector)(NEAR)
    g32 = s2sgrad.grad(eigh_projector)(NEAR.astype(np.float32))
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, g64, atol=2e-5)

    def batched(a):
        w, v = np.linalg.eigh(a)
        vc = v[..., :, :2]
        return np.sum((vc @ np.swapaxes(vc, -1, -2)) * W4)

    g = s2sgrad.grad(batched)(np.stack([NEAR, APART, EXACT]))
    for gi, ai in zip(g, (NEAR, APART, EXACT)):
        np.testing.assert_allclose(gi, projector_closed_form(ai, 2, W4), atol=1e-12)


def test_eigh_projector_repeated_use_and_scalar_weight():
    def f(a, c):
        w, v = np.linalg.eigh(a)
        vc = v[:, :2]
        p = vc @ vc.T
        return c * np.sum(p * W4) + np.sum(p * p * W4)

    ga, gc = s2sgrad.grad(f, wrt=(0, 1))(NEAR, 0.7)
    np.testing.assert_allclose(ga, fd_lower(lambda a: f(a, 0.7), NEAR), atol=3e-8)
    np.testing.assert_allclose(gc, eigh_projector(NEAR), rtol=1e-12)


def test_eigh_forward_mode_at_tie():
    # forward mode sees the direction only: a direction mixing the tied pair
    # is NaN (it cannot know the function is invariant); apart: exact
    d = np.tril(RNG.standard_normal((4, 4)))
    _, t = s2sgrad.jvp(eigh_projector)((NEAR,), (d,))
    assert np.isnan(t)
    _, t = s2sgrad.jvp(eigh_projector)((APART,), (d,))
    fd = (eigh_projector(APART + 1e-6 * d) - eigh_projector(APART - 1e-6 * d)) / 2e-6
    np.testing.assert_allclose(t, fd, rtol=1e-7)
    # a direction that does not mix the tied pair (EXACT: e_0, e_1 span it)
    d2 = np.zeros((4, 4))
    d2[3, 0] = 1.0
    _, t = s2sgrad.jvp(eigh_projector)((EXACT,), (d2,))
    fd = (eigh_projector(EXACT + 1e-6 * d2) - eigh_projector(EXACT - 1e-6 * d2)) / 2e-6
    np.testing.assert_allclose(t, fd, rtol=1e-7)


def test_eigh_hessian():
    h = s2sgrad.hessian(eigh_projector)(APART)
    gp = s2sgrad.grad(eigh_projector)
    e = np.zeros((4, 4))
    e[2, 1] = 1.0
    fd = (gp(APART + 1e-5 * e) - gp(APART - 1e-5 * e)) / 2e-5
    np.testing.assert_allclose(h[..., 2, 1], fd, atol=1e-6)
    # at the tie the second derivative of the forward pass mixes the pair: NaN
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(s2sgrad.hessian(eigh_projector)(NEAR)).any()


# ---------------------------------------------------------------- svd

QO, _ = np.linalg.qr(RNG.standard_normal((4, 4)))       # all singular values 1
Q43, _ = np.linalg.qr(RNG.standard_normal((4, 3)))
R33, _ = np.linalg.qr(RNG.standard_normal((3, 3)))
B22 = Q43 @ np.diag([2.0, 2.0, 1.0]) @ R33               # s = 2, 2, 1
B00 = Q43 @ np.diag([2.0, 0.0, 0.0]) @ R33               # rank 1: a pair of zeros


def svd_polar(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum((u @ vh) * W4[:, :a.shape[1]])


def svd_left_projector(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum((u[:, :2] @ u[:, :2].T) * W4)


def svd_pinv(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum(((vh.T / s) @ u.T) * W43.T)


def svd_vectors(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.sum(np.abs(u) * W43[:, :u.shape[1]]) + np.sum(s)


def polar_closed_form(a, wmat):
    """The polar factor's derivative: with a = U S V^T, dQ = U X V^T,
    X_ij = (C_ij - C_ji) / (s_i + s_j), C = U^T dA V."""
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    m = u.T @ wmat @ vh.T
    k = len(s)
    y = np.zeros((k, k))
    for i in range(k):
        for j in range(k):
            y[i, j] = (m[i, j] - m[j, i]) / (s[i] + s[j])
    return u @ y @ vh


@pytest.mark.parametrize("a", [QO, QO @ np.diag([1.0, 1.0, 2.0, 3.0]), B22],
                         ids=["orthogonal", "pair", "tall"])
def test_svd_polar_factor(a):
    # main: NaN at the orthogonal matrix, 0.14 off at the pair
    g = s2sgrad.grad(svd_polar)(a)
    np.testing.assert_allclose(g, fd_full(svd_polar, a), atol=3e-8)
    if a.shape[0] == a.shape[1]:
        np.testing.assert_allclose(g, polar_closed_form(a, W4), atol=1e-12)


def _pair_matrices():
    """Three 4x3 matrices with singular values 2, 2, 1 (rounding decides
    whether the computed coupling of the tie is exactly 0: on main one of
    the ones below came out right, two 0.10 and 0.14 off)."""
    rng = np.random.default_rng(1)
    out = []
    for _ in range(4):
        q, _ = np.linalg.qr(rng.standard_normal((4, 3)))
        r, _ = np.linalg.qr(rng.standard_normal((3, 3)))
        out.append(q @ np.diag([2.0, 2.0, 1.0]) @ r)
    return [B22] + out[2:]


@pytest.mark.parametrize("a", _pair_matrices(), ids=["B22", "rng1-2", "rng1-3"])
def test_svd_projector_repeated_singular_values(a):
    g = s2sgrad.grad(svd_left_projector)(a)
    np.testing.assert_allclose(g, fd_full(svd_left_projector, a), atol=3e-8)


@pytest.mark.parametrize("f", [svd_pinv, svd_vectors], ids=lambda f: f.__name__)
def test_svd_no_derivative_is_nan(f):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(s2sgrad.grad(f)(B22)).any()
    a = Q43 @ np.diag([2.0, 1.5, 1.0]) @ R33
    np.testing.assert_allclose(s2sgrad.grad(f)(a), fd_full(f, a), atol=5e-8)


def test_svd_forward_polar():
    d = RNG.standard_normal((4, 4))
    a = QO @ np.diag([1.0, 1.0, 2.0, 3.0])
    # the tied pair's Sym term is NaN (forward mode cannot see invariance)
    assert np.isnan(s2sgrad.jvp(svd_polar)((a,), (d,))[1])
    a = QO @ np.diag([1.0, 1.5, 2.0, 3.0])
    _, t = s2sgrad.jvp(svd_polar)((a,), (d,))
    fd = (svd_polar(a + 1e-6 * d) - svd_polar(a - 1e-6 * d)) / 2e-6
    np.testing.assert_allclose(t, fd, rtol=1e-7)


def test_svd_nuclear_norm_rank_deficient_unchanged():
    def nuclear(a):
        return np.sum(np.linalg.svd(a, compute_uv=False))
    u, s, vh = np.linalg.svd(B00, full_matrices=False)
    np.testing.assert_allclose(s2sgrad.grad(nuclear)(B00), u @ vh, atol=1e-12)


# ---------------------------------------------------------------- eig

S4 = RNG.standard_normal((4, 4)) + 3 * np.eye(4)
E4 = S4 @ np.diag([1.0, 1.0, 2.0, 3.0]) @ np.linalg.inv(S4)


def eig_spectral_projector(a):
    w, v = np.linalg.eig(a)
    m = np.where(np.real(w) < 1.5, 1.0, 0.0)
    return np.real(np.sum(((v * m) @ np.linalg.inv(v)) * W4))


def eig_vectors(a):
    w, v = np.linalg.eig(a)
    return np.sum(np.abs(v) * W4)


def test_eig_spectral_projector_at_tie():
    g = s2sgrad.grad(eig_spectral_projector)(E4)
    np.testing.assert_allclose(g, fd_full(eig_spectral_projector, E4), atol=3e-8)


def test_eig_vectors_at_tie_nan():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(s2sgrad.grad(eig_vectors)(E4)).any()


# ---------------------------------------------------------------- scipy.linalg.eigh(a, b)

BSPD = np.eye(4) + 0.1 * (W4 @ W4.T)


def gen_eigh_vectors(a):
    w, v = sl.eigh(a, BSPD)
    return np.sum(v * W4)


def test_generalized_eigh_tie_nan():
    # a tie of the generalized problem: A = B V diag(1, 1, 2, 3) V^-1 ...
    vecs = np.linalg.inv(np.linalg.cholesky(BSPD)).T @ Q4
    a = BSPD @ vecs @ np.diag([1.0, 1.0, 2.0, 3.0]) @ np.linalg.inv(vecs)
    a = (a + a.T) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(s2sgrad.grad(gen_eigh_vectors)(a)).any()
    a2 = a + np.diag([0.0, 0.3, 0.0, 0.0])
    np.testing.assert_allclose(s2sgrad.grad(gen_eigh_vectors)(a2),
                               fd_lower(gen_eigh_vectors, a2), atol=5e-8)


# ---------------------------------------------------------------- svd: singular values zero up to rounding

BSQ = Q4 @ np.diag([2.0, 1.0, 0.0, 0.0]) @ QO            # s = 2, 1, ~4e-17, ~1e-17


def svd_full_uut(a):
    """U U^T of the full U is the identity: derivative 0 (main: 77.7 off,
    1 / s of a rounding-level s times a rounding-level coupling)."""
    u, s, vh = np.linalg.svd(a)
    return np.sum(u @ u.T * W4)


def svd_range_part(a):
    u, s, vh = np.linalg.svd(a)
    return np.sum(u[:, :2] @ vh[:2] * W4)


def svd_null_vector(a):
    """A singular vector of a zero singular value: LAPACK's arbitrary basis."""
    u, s, vh = np.linalg.svd(a)
    return np.sum(np.abs(u[:, 2]) * W4[0])


@pytest.mark.parametrize("f", [svd_full_uut, svd_range_part], ids=lambda f: f.__name__)
def test_svd_rounding_zero_singular_values(f):
    g = s2sgrad.grad(f)(BSQ)
    np.testing.assert_allclose(g, fd_full(f, BSQ), atol=5e-8)


def test_svd_null_vector_nan():
    # main: 1e15 (finite)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(s2sgrad.grad(svd_null_vector)(BSQ)).any()


def test_svd_rank_deficient_forward():
    d = RNG.standard_normal((4, 4))
    _, t = s2sgrad.jvp(svd_range_part)((BSQ,), (d,))
    fd = (svd_range_part(BSQ + 1e-6 * d) - svd_range_part(BSQ - 1e-6 * d)) / 2e-6
    np.testing.assert_allclose(t, fd, rtol=1e-6)


# ---------------------------------------------------------------- std/var options at a constant, max/min initial=

X4 = np.array([0.3, -1.2, 2.0, 0.7])
C4 = np.full(4, 1.5)
MASK4 = np.array([True, False, True, True])


def std_where(x):
    return np.std(x, where=MASK4)


def std_correction(x):
    return np.std(x, correction=1)


def std_mean(x):
    return np.std(x, mean=np.mean(x, keepdims=True))


def std_axis_keep(x):
    return np.sum(np.std(x.reshape(2, 2), axis=1, keepdims=True, where=MASK4.reshape(2, 2)) * 3.0)


STD_FNS = [std_where, std_correction, std_mean, std_axis_keep]


@pytest.mark.parametrize("f", STD_FNS, ids=lambda f: f.__name__)
def test_std_options_value_gradient(f):
    np.testing.assert_allclose(s2sgrad.grad(f)(X4), fd_full(f, X4), atol=1e-8)
    val, _ = s2sgrad.value_and_grad(f)(X4)
    np.testing.assert_allclose(val, f(X4), rtol=1e-14)
    g32 = s2sgrad.grad(f)(X4.astype(np.float32))
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, fd_full(f, X4), atol=1e-5)
    # at a constant: the subgradient 0, as np.std
    np.testing.assert_array_equal(s2sgrad.grad(f)(C4), 0.0)


@pytest.mark.parametrize("f", [std_where, std_correction, std_mean], ids=lambda f: f.__name__)
def test_std_options_second_order_at_constant_refused(f):
    # main: the Hessian of std(x, ...) ** 2 at a constant came out 0, not var's
    def sq(x):
        return f(x) ** 2
    with pytest.raises(ValueError, match="second derivative of np.linalg.norm"):
        s2sgrad.hessian(sq)(C4)
    # away from the constant: var's Hessian
    h = s2sgrad.hessian(sq)(X4)
    gsq = s2sgrad.grad(sq)
    fd = np.stack([(gsq(X4 + 1e-5 * e) - gsq(X4 - 1e-5 * e)) / 2e-5 for e in np.eye(4)])
    np.testing.assert_allclose(h, fd, atol=1e-6)


def max_initial_tie(x):
    return np.max(x, initial=2.0)


def min_initial(x):
    return np.min(x, initial=-5.0) + np.min(x, initial=0.5) * 2.0


def max_initial_where_tie(x):
    return np.max(x, initial=2.0, where=MASK4)


def max_initial_axis(x):
    return np.sum(np.max(x.reshape(2, 2), axis=1, initial=0.5) ** 2)


@pytest.mark.parametrize("f", [max_initial_tie, min_initial, max_initial_where_tie,
                               max_initial_axis], ids=lambda f: f.__name__)
def test_max_min_initial(f):
    # main: a tie of initial with an element gave the element 1 (np.maximum
    # and central differences give 1/2)
    np.testing.assert_allclose(s2sgrad.grad(f)(X4), fd_full(f, X4), atol=1e-8)
    _, t = s2sgrad.jvp(f)((X4,), (np.ones(4),))
    np.testing.assert_allclose(t, np.sum(fd_full(f, X4)), atol=1e-8)


def test_max_initial_repeated_use_and_traced_initial_refused():
    def f(x, s):
        return np.max(x * s, initial=2.0) + np.max(x, initial=0.5) * s

    gx, gs = s2sgrad.grad(f, wrt=(0, 1))(X4, 1.0)   # x * s ties initial at x[2]
    np.testing.assert_allclose(gx, fd_full(lambda x: f(x, 1.0), X4), atol=1e-8)
    np.testing.assert_allclose(gs, (f(X4, 1.0 + 1e-6) - f(X4, 1.0 - 1e-6)) / 2e-6, atol=1e-8)

    def g(x, s):
        return np.max(x, initial=s)

    with pytest.raises(s2sgrad.S2SGradError, match="'initial' argument of np.max"):
        s2sgrad.grad(g, wrt=(0, 1))(X4, 1.0)


# ---------------------------------------------------------------- scipy.linalg.eigh_tridiagonal (probe refusal)

TD = RNG.standard_normal(5)
TE = RNG.standard_normal(4)
W5 = RNG.standard_normal((5, 5))


def tri_both(d, e):
    w, v = sl.eigh_tridiagonal(d, e)
    return np.sum(w * np.arange(5.0)) + np.sum(v ** 2 * W5)


def tri_values(d, e):
    return np.sum(np.sin(sl.eigh_tridiagonal(d, e, eigvals_only=True)))


def _fd_de(f, d, e, h=1e-6):
    gd = np.array([(f(d + h * u, e) - f(d - h * u, e)) / (2 * h) for u in np.eye(len(d))])
    ge = np.array([(f(d, e + h * u) - f(d, e - h * u)) / (2 * h) for u in np.eye(len(e))])
    return gd, ge


@pytest.mark.parametrize("f", [tri_both, tri_values], ids=lambda f: f.__name__)
def test_eigh_tridiagonal(f):
    gd, ge = s2sgrad.grad(f, wrt=(0, 1))(TD, TE)
    fd_d, fd_e = _fd_de(f, TD, TE)
    np.testing.assert_allclose(gd, fd_d, atol=2e-8)
    np.testing.assert_allclose(ge, fd_e, atol=2e-8)
    val, t = s2sgrad.jvp(f, wrt=(0, 1))((TD, TE), (np.ones(5), np.ones(4)))
    assert val == f(TD, TE)
    np.testing.assert_allclose(t, fd_d.sum() + fd_e.sum(), atol=1e-7)
    g32 = s2sgrad.grad(f, wrt=(0, 1))(TD.astype(np.float32), TE.astype(np.float32))
    np.testing.assert_allclose(g32[0], fd_d, atol=1e-3)


def test_eigh_tridiagonal_same_as_eigh_and_refusals():
    def via_eigh(d, e):
        a = np.diag(d) + np.diag(e, 1) + np.diag(e, -1)
        return np.sum(np.sin(np.linalg.eigvalsh(a)))
    gd, ge = s2sgrad.grad(tri_values, wrt=(0, 1))(TD, TE)
    hd, he = s2sgrad.grad(via_eigh, wrt=(0, 1))(TD, TE)
    np.testing.assert_allclose(gd, hd, atol=1e-12)
    np.testing.assert_allclose(ge, he, atol=1e-12)

    def subset(d, e):
        return np.sum(sl.eigh_tridiagonal(d, e, eigvals_only=True, select="i",
                                          select_range=(0, 1)))
    with pytest.raises(s2sgrad.S2SGradError, match="select='a'"):
        s2sgrad.grad(subset)(TD, TE)

    # a tie (e[1] = 0 splits the matrix into blocks with a common eigenvalue)
    def top_vector(d, e):
        w, v = sl.eigh_tridiagonal(d, e)
        return np.sum(np.outer(v[:, -1], v[:, -1]) * W5)
    d = np.array([1.0, 1.0, 3.0, 0.0, 0.0])
    e = np.array([0.0, 0.0, 0.0, 0.0])
    gd, ge = s2sgrad.grad(top_vector, wrt=(0, 1))(d, e)
    fd_d, fd_e = _fd_de(top_vector, d, e)
    np.testing.assert_allclose(gd, fd_d, atol=2e-8)
    np.testing.assert_allclose(ge, fd_e, atol=2e-8)


# ---------------------------------------------------------------- scipy.linalg.polar at repeated singular values

def polar_p_right(a):
    return np.sum(sl.polar(a)[1] * W4[:a.shape[1], :a.shape[1]])


def polar_p_left(a):
    return np.sum(sl.polar(a, side="left")[1] * W4[:a.shape[0], :a.shape[0]])


def polar_u(a):
    return np.sum(sl.polar(a)[0] * W4[:a.shape[0], :a.shape[1]])


@pytest.mark.parametrize("a", [QO, 2.0 * QO @ np.diag([1.0, 1.0, 3.0, 0.5]), B22, B22.T,
                               RNG.standard_normal((4, 4))],
                         ids=["orthogonal", "pair", "tall", "wide", "generic"])
@pytest.mark.parametrize("f", [polar_p_right, polar_p_left, polar_u], ids=lambda f: f.__name__)
def test_scipy_polar(f, a):
    # main: p's gradient NaN at an orthogonal matrix, 0.08 (right) / 0.55
    # (left) off at a repeated pair
    np.testing.assert_allclose(s2sgrad.grad(f)(a), fd_full(f, a), atol=5e-8)
    np.testing.assert_allclose(s2sgrad.value_and_grad(f)(a)[0], f(a), rtol=1e-12)


# ---------------------------------------------------------------- complex Hermitian / complex svd at ties

def _fd_complex(f, a, h=1e-6):
    """s2sgrad's cotangent of a complex input: d/dRe + 1j d/dIm, conjugated
    (README, "Complex numbers")."""
    g = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        for unit in (1.0, 1j):
            e = np.zeros_like(a)
            e[idx] = unit
            g[idx] += (f(a + h * e) - f(a - h * e)) / (2 * h) * unit
    return np.conj(g)


ZQ, _ = np.linalg.qr(RNG.standard_normal((3, 3)) + 1j * RNG.standard_normal((3, 3)))
ZR, _ = np.linalg.qr(RNG.standard_normal((3, 3)) + 1j * RNG.standard_normal((3, 3)))
ZH = ZQ @ np.diag([1.0, 1.0, 3.0]) @ ZQ.conj().T
ZH = (ZH + ZH.conj().T) / 2
ZB = ZQ @ np.diag([2.0, 2.0, 1.0]) @ ZR
W3 = W4[:3, :3]


def hermitian_projector(a):
    w, v = np.linalg.eigh(a)
    vc = v[:, :2]
    return np.sum(np.real(vc @ vc.conj().T) * W3)


def complex_polar(a):
    u, s, vh = np.linalg.svd(a)
    return np.sum(np.real(u @ vh) * W3) + np.sum(np.imag(u @ vh) * W3.T)


@pytest.mark.parametrize("f, a", [(hermitian_projector, ZH), (complex_polar, ZB)],
                         ids=["eigh-projector", "svd-polar"])
def test_complex_ties(f, a):
    # main: 0.96 off (projector), NaN (polar)
    np.testing.assert_allclose(s2sgrad.grad(f)(a), _fd_complex(f, a), atol=5e-8)


# ---------------------------------------------------------------- the runtime masks

def test_tie_mask_and_small_mask_runtime():
    from s2sgrad import runtime as rt
    w = np.array([1.0, 1.0 + 2e-16, 3.0])
    g = np.zeros((2, 3, 3))
    g[1, 0, 1] = 1.0                          # the second cotangent couples the tie
    m = rt.tie_mask(w, g - np.swapaxes(g, -1, -2), np.ones((2, 3, 3)), np.zeros((2, 3)))
    assert m.shape == (2, 3, 3)
    np.testing.assert_array_equal(m[0], [[0, 0, 1], [0, 0, 1], [1, 1, 0]])
    assert np.isnan(m[1, 0, 1]) and np.isnan(m[1, 1, 0]) and m[1, 0, 2] == 1
    # w_bar of the tied pair nonzero (a matrix function): NaN even with no coupling
    m = rt.tie_mask(w, np.zeros((3, 3)), np.ones((3, 3)), np.array([0.0, 1.0, 0.0]))
    assert np.isnan(m[0, 1]) and m[0, 2] == 1
    # a gap above sqrt(eps) max|w| is not a tie; float32 keeps its dtype and its eps
    m = rt.tie_mask(np.array([1.0, 1.0 + 1e-7, 3.0]), np.ones((3, 3)), np.ones((3, 3)))
    np.testing.assert_array_equal(m, 1 - np.eye(3))
    m32 = rt.tie_mask(np.array([1.0, 1.0 + 1e-5, 3.0], np.float32), np.ones((3, 3)),
                      np.ones((3, 3)))
    assert m32.dtype == np.float32 and np.isnan(m32[0, 1])
    # svd's 1 / s: a rounding-level s with a coupled column is NaN, else 0
    s = np.array([2.0, 1.0, 1e-17])
    c = np.zeros((2, 4, 3))
    c[1, 0, 2] = 1.0
    m = rt.small_mask(s, np.ones((2, 4, 3)), 0.0, c)
    np.testing.assert_array_equal(m[0], [1, 1, 0])
    assert np.isnan(m[1, 2])


# ---------------------------------------------------------------- matrix 2-norm at numerically tied singular values

def norm2(a):
    return np.linalg.norm(a, 2)


def norm_m2_axis(a):
    return np.sum(np.linalg.norm(a, -2, axis=(-2, -1)))


@pytest.mark.parametrize("f", [norm2, norm_m2_axis], ids=lambda f: f.__name__)
def test_matrix_2_norm_numerical_ties_split(f):
    # an orthogonal matrix: every singular value is 1 up to rounding; ties
    # split equally (as exact ties and np.max) gives Q / n; main gave u_1 v_1^T
    # of LAPACK's arbitrary basis (0.46 off)
    np.testing.assert_allclose(s2sgrad.grad(f)(QO), QO / 4, atol=1e-15)
    a = RNG.standard_normal((4, 3))
    np.testing.assert_allclose(s2sgrad.grad(f)(a), fd_full(f, a), atol=1e-8)
    assert s2sgrad.grad(f)(QO.astype(np.float32)).dtype == np.float32


def test_matrix_2_norm_hessian_at_numerical_tie_refused():
    with pytest.raises(ValueError, match="repeated"):
        s2sgrad.hessian(norm2)(QO)
    a = RNG.standard_normal((4, 3))
    h = s2sgrad.hessian(norm2)(a)
    gp = s2sgrad.grad(norm2)
    e = np.zeros((4, 3))
    e[1, 2] = 1.0
    np.testing.assert_allclose(h[..., 1, 2], (gp(a + 1e-5 * e) - gp(a - 1e-5 * e)) / 2e-5,
                               atol=1e-6)


# ---------------------------------------------------------------- second order by nested reverse mode

def eigvalsh_sq(a):
    return np.sum(np.linalg.eigvalsh(a) ** 2)


_E10 = np.zeros((4, 4))
_E10[1, 0] = 1.0


def grad_eigvalsh_sq_entry(a):
    return np.sum(s2sgrad.grad(eigvalsh_sq)(a) * _E10)


def test_nested_reverse_through_recomputed_eigenvectors():
    # eigvalsh's rule V diag(g) V^T recomputes V (eigh_inner); differentiated
    # again its tie's coupling is rounding-level but the term (a divided
    # difference of g = 2w) is 2: main 0.16 off, a plain eigh rule 3.24 for 4.
    # Strict twin: NaN at the tie, exact apart.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(s2sgrad.grad(grad_eigvalsh_sq_entry)(NEAR)[1, 0])
    g = s2sgrad.grad(grad_eigvalsh_sq_entry)(APART)
    fd = (grad_eigvalsh_sq_entry(APART + 1e-5 * _E10)
          - grad_eigvalsh_sq_entry(APART - 1e-5 * _E10)) / 2e-5
    np.testing.assert_allclose(g[1, 0], fd, rtol=1e-7)
    # forward over reverse (hessian): NaN at the tie, exact apart
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(s2sgrad.hessian(eigvalsh_sq)(NEAR)).any()
    np.testing.assert_allclose(s2sgrad.hessian(eigvalsh_sq)(APART)[..., 1, 0], g, atol=1e-7)
