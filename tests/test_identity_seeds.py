"""Batched Hessians and Jacobians specialised to identity seeds.

When one chunk holds every basis vector of a 1-D ``wrt`` leaf, the seeds are
``np.eye(n)`` and the batched linear part runs code specialised knowing it
(s2sgrad.higher._Specialising, s2sgrad.specialize._identity_products): a
product by the seeds is replaced by the other factor.  Every case checks the
values against a closed form and finite differences of the gradient, and
against the same computation without the specialisation.
"""
import numpy as np
import pytest

from s2sgrad import grad, hessian, higher, jacobian

RNG = np.random.default_rng(5)


def logreg(w, X, y, lam=0.1):
    margin = y * (X @ w)
    return np.mean(np.log1p(np.exp(-margin))) + lam * np.sum(w ** 2)


def logreg_hessian(w, X, y, lam=0.1):
    s = 1.0 / (1.0 + np.exp(-(y * (X @ w))))
    return X.T @ ((s * (1.0 - s) / len(y))[:, None] * X) + 2 * lam * np.eye(len(w))


def fd_of_grad(g, w, *args, eps=1e-6):
    cols = []
    for k in range(w.size):
        e = np.zeros_like(w)
        e[k] = eps
        cols.append((g(w + e, *args) - g(w - e, *args)) / (2 * eps))
    return np.stack(cols, axis=1)


def _identity_sources(fn):
    """The sources of the code specialised to identity seeds (forward or
    reverse batched linear part of the last compiled version)."""
    c = fn._last
    out = []
    for b in (getattr(c, "tangent_batched", None), getattr(c, "backward_batched", None)):
        if b is not None:
            out += [sc.source for sc in b.__dict__.get("identity_spec", {}).values()]
    return out


def _without_identity(fn, *args):
    old = higher.ENABLE_IDENTITY_SEEDS
    higher.ENABLE_IDENTITY_SEEDS = False
    try:
        return fn(*args)
    finally:
        higher.ENABLE_IDENTITY_SEEDS = old


@pytest.mark.parametrize("n, d", [(40, 6), (3000, 60)])   # (the second: once cut in chunks)
def test_logistic_hessian_identity_seeds(n, d):
    X = RNG.standard_normal((n, d))
    y = np.sign(RNG.standard_normal(n))
    w = RNG.standard_normal(d) * 0.3
    h = hessian(logreg)
    H = h(w, X, y)
    assert h.last_path == "batched"
    srcs = _identity_sources(h)
    assert len(srcs) == 1
    # one product by the data per chunk: the seeds' product is gone
    code = [ln for ln in srcs[0].splitlines() if not ln.strip().startswith("#")]
    assert sum(ln.count(" @ ") for ln in code) == 1 and not any("w_dot @" in ln for ln in code)
    np.testing.assert_allclose(H, logreg_hessian(w, X, y), rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(H, fd_of_grad(grad(logreg), w, X, y), rtol=1e-5, atol=1e-8)
    H0 = _without_identity(hessian(logreg), w, X, y)
    np.testing.assert_allclose(H, H0, rtol=1e-12, atol=1e-15)


def test_identity_seeds_mixed_dtypes():
    """float32 data, float64 weights: the product by the (float64) seeds is
    float64, the data float32 -- not the same value, kept; float64 data and
    float32 weights: the product is the data."""
    n, d = 50, 5
    X = RNG.standard_normal((n, d))
    y = np.sign(RNG.standard_normal(n))
    w = RNG.standard_normal(d) * 0.3
    for Xk, wk in ((X.astype(np.float32), w), (X, w.astype(np.float32))):
        H = hessian(logreg)(wk, Xk, y)
        ref = logreg_hessian(wk.astype(np.float64), Xk.astype(np.float64), y)
        rtol = 1e-9 if Xk.dtype == wk.dtype == np.float64 else 2e-5
        np.testing.assert_allclose(H, ref, rtol=rtol, atol=1e-6)


def tanh_layer(x, A):
    return np.tanh(A @ x)


def linear_map(x, A):
    return A @ x


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_jacobian_identity_seeds(mode):
    A = RNG.standard_normal((7, 4)) if mode == "forward" else RNG.standard_normal((3, 8))
    x = RNG.standard_normal(A.shape[1])
    J = jacobian(tanh_layer, mode=mode)(x, A)
    t = np.tanh(A @ x)
    np.testing.assert_allclose(J, (1 - t ** 2)[:, None] * A, rtol=1e-12, atol=1e-14)
    jf = jacobian(linear_map, mode=mode)
    np.testing.assert_allclose(jf(x, A), A, rtol=0, atol=0)     # (exact: no product left)
    assert _identity_sources(jf)
    np.testing.assert_allclose(_without_identity(jacobian(tanh_layer, mode=mode), x, A), J,
                               rtol=1e-12, atol=1e-15)


def matrix_loss(W, x):
    return np.sum(np.tanh(W @ x) ** 2)


def test_matrix_and_tuple_wrt_are_not_identity():
    """Seeds of a 2-D leaf, or of several leaves, are not an identity matrix:
    the ordinary specialisation runs (and gives the right values)."""
    W, x = RNG.standard_normal((3, 4)), RNG.standard_normal(4)
    h = hessian(matrix_loss)
    H = h(W, x)
    assert H.shape == (3, 4, 3, 4) and not _identity_sources(h)
    g = grad(matrix_loss)
    H_fd = fd_of_grad(lambda v: g(v.reshape(3, 4), x).reshape(-1), W.reshape(-1))
    np.testing.assert_allclose(H.reshape(12, 12), H_fd, rtol=1e-5, atol=1e-8)
    h2 = hessian(matrix_loss, wrt=(0, 1))
    blocks = h2(W, x)
    assert not _identity_sources(h2)
    np.testing.assert_allclose(blocks[0][0], H, rtol=1e-12, atol=1e-14)
