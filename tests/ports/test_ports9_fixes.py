"""Regression tests of what the ports9 cases found (tests/ports/ports9_cases.py).

A second derivative through a norm at a zero vector was silently wrong: the
first derivative there is the subgradient 0 (``x / 1``), and differentiating
that product again by the chain rule loses the limit of ``g / norm`` -- the
Hessian of ``np.linalg.norm(x) ** 2`` at ``x = 0`` came out 0 instead of
``2 I`` (in every second-order mode, for ``axis=``, ``ord=2`` without axis,
``np.linalg.vector_norm``, ``scipy.linalg.norm`` and ``np.hypot(x, y) ** 2``
at (0, 0)); likewise ``np.std(x) ** 2`` at a constant ``x`` (0 for var's
Hessian) and ``np.abs(z) ** 2`` at a complex 0.  Such a second derivative is now refused at run time, naming the
call -- but only in a direction that moves the zero vector: a pairwise
difference ``x_i - x_i`` (an RBF kernel's diagonal), whose tangent is 0
there, keeps its exact second derivative, as before.
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

import s2sgrad


def norm_sq(x):
    return np.linalg.norm(x) ** 2


def norm_sq_axis(x):
    return np.sum(np.linalg.norm(x, axis=1) ** 2)


def norm_sq_ord2(x):
    return np.linalg.norm(x, 2) ** 2


def vector_norm_sq(x):
    return np.linalg.vector_norm(x) ** 2


def scipy_norm_sq(x):
    return scipy.linalg.norm(x) ** 2


def hypot_sq(x):
    return np.hypot(x[0], x[1]) ** 2


def std_sq(x):
    # var written as std ** 2, at a constant (std exactly 0): var's Hessian
    # is 2 (I - 1/n) / n, the chain rule through std's subgradient gave 0
    return np.std(x) ** 2


def std_sq_axis(x):
    return np.sum(np.std(x, axis=1, ddof=1) ** 2)


def cabs_sq(x):
    # |z| ** 2 of a complex z = x[0] + i x[1] at 0: the 2-norm of (x[0], x[1])
    return np.abs(x[0] + 1j * x[1]) ** 2


def penalised(w, X, y):
    # a ridge penalty written with the norm, differentiated twice at w = 0
    # (Newton's method from a zero start)
    r = X @ w - y
    return 0.5 * np.sum(r ** 2) + 3.0 * np.linalg.norm(w) ** 2


ZERO_CASES = [(norm_sq, np.zeros(3)), (norm_sq_axis, np.zeros((2, 3))),
              (norm_sq_ord2, np.zeros(3)), (vector_norm_sq, np.zeros(3)),
              (scipy_norm_sq, np.zeros(3)), (hypot_sq, np.zeros(2)),
              (std_sq, np.full(4, 0.5)), (std_sq_axis, np.full((2, 3), 0.25)),
              (cabs_sq, np.zeros(2))]

# their Hessians away from the zero vector / constant (std: var's)
HESS = {std_sq: lambda n: 2.0 * (np.eye(n) - 1.0 / n) / n,
        std_sq_axis: lambda n: np.kron(np.eye(2), 2.0 * (np.eye(3) - 1.0 / 3) / 2)}


def _first_order_ok(f, x):
    # the first derivative at 0 stays the (right) 0, value as NumPy's
    v, g = s2sgrad.value_and_grad(f)(x)
    assert v == f(x) == 0.0 or (f in HESS and v == f(x) and v < 1e-30)
    np.testing.assert_array_equal(g, np.zeros_like(x))


@pytest.mark.parametrize("f,x", ZERO_CASES, ids=lambda v: getattr(v, "__name__", ""))
def test_second_derivative_at_zero_norm_refused(f, x):
    _first_order_ok(f, x)
    v = np.arange(1.0, x.size + 1).reshape(x.shape)      # a direction moving x - mean too
    with pytest.raises(ValueError, match="second derivative of .* where it is exactly 0"):
        s2sgrad.hessian(f)(x)
    with pytest.raises(ValueError, match="second derivative of .* where it is exactly 0"):
        s2sgrad.hvp(f)((x,), v)
    with pytest.raises(ValueError, match="second derivative of .* where it is exactly 0"):
        s2sgrad.vjp(s2sgrad.grad(f))(x)[1](v)


@pytest.mark.parametrize("f,x", ZERO_CASES, ids=lambda v: getattr(v, "__name__", ""))
def test_second_derivative_near_zero_norm_exact(f, x):
    # away from the zero vector the Hessian is 2 I, as the differences say
    x = x + 1e-3 * np.arange(1, x.size + 1).reshape(x.shape)
    H = s2sgrad.hessian(f)(x).reshape(x.size, x.size)
    want = HESS[f](x.size) if f in HESS else 2.0 * np.eye(x.size)
    np.testing.assert_allclose(H, want, rtol=1e-9, atol=1e-9)
    g = s2sgrad.grad(f)
    e = np.zeros(x.size)
    e[0] = 1.0
    e = e.reshape(x.shape)
    fd = (g(x + 1e-6 * e) - g(x - 1e-6 * e)) / 2e-6
    np.testing.assert_allclose(H[0], fd.ravel(), rtol=1e-6, atol=1e-6)


def test_std_shift_direction_is_exact():
    # a direction that only shifts a constant x does not move x - mean: no
    # refusal, and H v = 0 (var's Hessian annihilates constants)
    x = np.full(4, 0.5)
    np.testing.assert_allclose(s2sgrad.hvp(std_sq)((x,), np.ones(4)), np.zeros(4), atol=1e-15)


def test_ridge_newton_from_zero_refused_not_wrong():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((6, 3)), rng.standard_normal(6)
    w0 = np.zeros(3)
    with pytest.raises(ValueError, match="zero vector"):
        s2sgrad.hessian(penalised)(w0, X, y)
    # just off zero: X^T X + 6 I, the true Hessian
    w = np.full(3, 1e-4)
    np.testing.assert_allclose(s2sgrad.hessian(penalised)(w, X, y), X.T @ X + 6.0 * np.eye(3),
                               rtol=1e-9, atol=1e-9)


def rbf(X):
    D = X[:, None, :] - X[None, :, :]
    return np.sum(np.exp(-np.linalg.norm(D, axis=-1) ** 2))


def rbf_sq(X):
    D = X[:, None, :] - X[None, :, :]
    return np.sum(np.exp(-np.sum(D ** 2, axis=-1)))


def rbf_hypot(x):
    d0 = x[:, None] - x[None, :]
    return np.sum(np.exp(-np.hypot(d0, 2.0 * d0) ** 2))


def rbf_hypot_sq(x):
    d0 = x[:, None] - x[None, :]
    return np.sum(np.exp(-(d0 ** 2 + 4.0 * d0 ** 2)))


@pytest.mark.parametrize("f,ref,shape", [(rbf, rbf_sq, (4, 2)), (rbf_hypot, rbf_hypot_sq, (4,))],
                         ids=["norm", "hypot"])
def test_pairwise_zero_differences_keep_exact_second_derivative(f, ref, shape):
    # the diagonal x_i - x_i is a zero vector whose tangent is 0 in every
    # direction: no refusal, and the Hessian is the squared-distance form's
    X = np.random.default_rng(1).standard_normal(shape)
    np.testing.assert_allclose(f(X), ref(X), rtol=1e-12)
    np.testing.assert_allclose(s2sgrad.hessian(f)(X), s2sgrad.hessian(ref)(X), rtol=1e-9,
                               atol=1e-12)
    v = np.random.default_rng(2).standard_normal(shape)
    np.testing.assert_allclose(s2sgrad.hvp(f)((X,), v), s2sgrad.hvp(ref)((X,), v), rtol=1e-9,
                               atol=1e-12)
    _, pb = s2sgrad.vjp(s2sgrad.grad(f))(X)
    np.testing.assert_allclose(pb(v), s2sgrad.hvp(ref)((X,), v), rtol=1e-9, atol=1e-12)
    # and the gradient against central differences
    g = s2sgrad.grad(f)(X)
    fd = (f(X + 1e-6 * v) - f(X - 1e-6 * v)) / 2e-6
    assert abs(np.sum(g * v) - fd) < 1e-6 * max(1.0, abs(fd))


def test_float32_and_complex_first_order_unchanged():
    x32 = np.array([0.3, -1.2, 2.0], np.float32)
    g = s2sgrad.grad(lambda_free_norm)(x32)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, x32 / np.linalg.norm(x32), rtol=1e-6)
    z = np.array([0.3 + 1j, -1.2 - 0.5j])
    gz = s2sgrad.grad(lambda_free_norm)(z)
    np.testing.assert_allclose(gz, np.conj(z) / np.linalg.norm(z), rtol=1e-12)
    # second order of the complex norm away from zero: against differences
    v = np.array([0.5 - 0.2j, 1.0 + 0.3j])
    hv = s2sgrad.hvp(lambda_free_norm)((z,), v)
    gr = s2sgrad.grad(lambda_free_norm)
    fd = (gr(z + 1e-6 * v) - gr(z - 1e-6 * v)) / 2e-6
    np.testing.assert_allclose(hv, fd, rtol=1e-6, atol=1e-8)


def lambda_free_norm(x):
    return np.linalg.norm(x)


def nanstd_sq(x):
    return np.nanstd(x) ** 2


def test_nanstd_at_constant():
    x = np.array([0.5, np.nan, 0.5, 0.5])
    v, g = s2sgrad.value_and_grad(nanstd_sq)(x)
    assert v == 0.0
    np.testing.assert_array_equal(g, np.zeros(4))
    with pytest.raises(ValueError, match="second derivative of np.nanstd where it is exactly 0"):
        s2sgrad.hvp(nanstd_sq)((x,), np.array([1.0, 0.0, -2.0, 0.5]))
    # off the constant: nanvar's Hessian on the three finite entries
    y = np.array([0.5, np.nan, 0.7, 0.2])
    H = s2sgrad.hessian(nanstd_sq)(y)
    want = np.zeros((4, 4))
    k = [0, 2, 3]
    want[np.ix_(k, k)] = 2.0 * (np.eye(3) - 1.0 / 3) / 3
    np.testing.assert_allclose(H, want, rtol=1e-9, atol=1e-12)


def solve_sym(a, b):
    return scipy.linalg.solve(a, b, assume_a='sym')


def test_scipy_solve_sym_indefinite():
    # the derivatives of solve(assume_a='sym') solved with Cholesky ('pos'):
    # an indefinite symmetric matrix failed with "singular matrix"
    a = np.array([[1.0, 2.0, 0.3], [2.0, -1.0, 0.5], [0.3, 0.5, 2.0]])
    b = np.array([1.0, 0.5, -0.2])
    assert np.linalg.eigvalsh(a).min() < 0
    out, pb = s2sgrad.vjp(solve_sym, wrt=(0, 1))(a, b)
    np.testing.assert_allclose(out, np.linalg.solve(a, b), rtol=1e-12)
    u = np.array([0.3, -1.0, 0.6])
    ga, gb = pb(u)
    np.testing.assert_allclose(gb, np.linalg.solve(a.T, u), rtol=1e-12)
    rng = np.random.default_rng(3)
    da, db = rng.standard_normal((3, 3)), rng.standard_normal(3)
    fd = (solve_sym(a + 1e-6 * da, b + 1e-6 * db) - solve_sym(a - 1e-6 * da, b - 1e-6 * db)) / 2e-6
    # scipy reads the upper triangle (lower=False): the cotangent lives there
    assert abs(np.sum(ga * da) + np.sum(gb * db) - np.sum(u * fd)) < 1e-6
    _, dot = s2sgrad.jvp(solve_sym, wrt=(0, 1))((a, b), (da, db))
    np.testing.assert_allclose(dot, fd, rtol=1e-6, atol=1e-8)
