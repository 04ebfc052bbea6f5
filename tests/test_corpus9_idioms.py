"""corpus9, part 4: idioms users write inside losses -- fancy-index writes
into local arrays (a Cholesky factor filled from ``np.tril_indices``),
``np.fill_diagonal``, fixed-point and Newton iterations with a tolerance,
a generator made inside the function, mixup and REINFORCE with draws,
``functools.partial``/lambdas/callable objects, ``**`` of a parameter dict,
iteration over ``params.items()``, ``print``/``assert`` in the loss,
``np.errstate``, ``math`` on Python floats, and a broad set of NumPy/SciPy
functions (eigh, lstsq, solve_triangular, xlogy, rel_entr, logsumexp with
``b=``, multivariate normal with a covariance argument, sorting, batched
matmul, tensordot, total variation).

Checked by ``tests/corpus9_harness.run_case``.
"""
import functools
import math

import numpy as np
import pytest
import scipy.linalg
import scipy.special as sps
import scipy.stats

from tests.corpus9_harness import run_case

R = np.random.default_rng(4242)


def rnd(*shape, scale=0.5):
    return R.normal(size=shape) * scale


X = rnd(6, 3, scale=1.0)
Y = rnd(6, scale=1.0)
CONFIG = {"l2": 0.05, "act": "tanh", "verbose": False}


# ---------------------------------------------------------------- writes into local arrays

def cholesky_param_nll(theta, X):
    d = X.shape[1]
    L = np.zeros((d, d))
    L[np.tril_indices(d)] = theta
    diag = np.diag(L)
    L[np.diag_indices(d)] = np.exp(diag)          # positive diagonal
    Sigma = L @ L.T
    sol = np.linalg.solve(Sigma, X.T)
    return 0.5 * np.sum(X.T * sol) + X.shape[0] * np.sum(np.log(np.diag(L)))


def fill_diagonal_precision(log_d, offdiag, X):
    d = len(log_d)
    P = np.zeros((d, d))
    P[np.triu_indices(d, 1)] = offdiag
    P = P + P.T
    np.fill_diagonal(P, np.exp(log_d) + 2.0)
    sign, logdet = np.linalg.slogdet(P)
    return 0.5 * np.sum((X @ P) * X) - 0.5 * X.shape[0] * logdet


def scatter_add_embeddings(E, ids, w):
    """Bag of words: per-document sums of embeddings, by an in-place add."""
    docs = np.zeros((3, E.shape[1]))
    for k, (doc, tok) in enumerate(ids):
        docs[doc] += E[tok] * w[k]
    return np.sum(np.tanh(docs) ** 2)


def column_update_loop(W, x):
    out = np.empty((x.shape[0], W.shape[1]))
    for j in range(W.shape[1]):
        out[:, j] = np.tanh(x @ W[:, j])
    out[:, 0] *= 2.0
    return np.sum(out ** 2)


# ---------------------------------------------------------------- iterations with a tolerance

def kepler_loss(e, M, tol=1e-12, max_iter=50):
    """Solve E - e sin E = M by Newton's method; loss on the position."""
    E = M.copy()
    for _ in range(max_iter):
        step = (E - e * np.sin(E) - M) / (1 - e * np.cos(E))
        E = E - step
        if np.max(np.abs(step)) < tol:
            break
    return np.sum(np.cos(E) - e)


def fixed_point_cos(a, tol=1e-10):
    x = np.zeros_like(a)
    diff = 1.0
    while diff > tol:
        x_new = a * np.cos(x)
        diff = np.max(np.abs(x_new - x))
        x = x_new
    return np.sum(x ** 2)


def power_iteration(A, n_iter=30):
    v = np.ones(A.shape[0]) / np.sqrt(A.shape[0])
    S = A @ A.T
    for _ in range(n_iter):
        v = S @ v
        v = v / np.linalg.norm(v)
    return v @ S @ v


# ---------------------------------------------------------------- draws inside the function

def mixup_loss(w, X, y, alpha=0.4, seed=0):
    rng = np.random.default_rng(seed)
    lam = rng.beta(alpha, alpha)
    perm = rng.permutation(len(y))
    xm = lam * X + (1 - lam) * X[perm]
    ym = lam * y + (1 - lam) * y[perm]
    return np.mean((xm @ w - ym) ** 2)


def reinforce_surrogate(logits, rng, n_samples=5):
    p = np.exp(logits - sps.logsumexp(logits))
    total = 0.0
    for _ in range(n_samples):
        a = rng.choice(len(p), p=p)
        reward = float(a == 2) - 0.3
        total = total + reward * np.log(p[a])
    return -total / n_samples


def bbvi_loop(params, rng, n_samples=4):
    mu, log_sd = params
    elbo = 0.0
    for _ in range(n_samples):
        eps = rng.standard_normal(mu.shape)
        z = mu + np.exp(log_sd) * eps
        elbo = elbo + (-0.5 * np.sum((z - 1.0) ** 2)) / n_samples
    return -(elbo + np.sum(log_sd))


# ---------------------------------------------------------------- calling conventions

def base_loss(w, X, y, l2=0.1):
    return np.mean((X @ w - y) ** 2) + l2 * np.sum(w ** 2)


PARTIAL = functools.partial(base_loss, X=X, y=Y, l2=0.2)


class CallableModel:
    def __init__(self, X, y):
        self.X = X
        self.y = y

    def __call__(self, w):
        return np.sum(np.logaddexp(0.0, -self.y * (self.X @ w)))


def gaussian_kl(mu_q, log_sig_q, mu_p=0.0, log_sig_p=0.0):
    return np.sum(log_sig_p - log_sig_q
                  + (np.exp(2 * log_sig_q) + (mu_q - mu_p) ** 2) / (2 * np.exp(2 * log_sig_p))
                  - 0.5)


def kl_from_dict(q):
    return gaussian_kl(**q)


def l2_over_items(params, X, y):
    pred = X @ params["W_out"] + params["b_out"]
    reg = sum(np.sum(v ** 2) for k, v in params.items() if k.startswith("W"))
    return np.mean((pred - y) ** 2) + CONFIG["l2"] * reg


def sorted_keys_loss(params, X):
    h = X
    for k in sorted(params):
        h = np.tanh(h @ params[k])
    return np.sum(h)


def chatty_loss(w, X, y, verbose=False):
    assert X.shape[1] == w.shape[0], "shape mismatch"
    r = X @ w - y
    loss = np.mean(r ** 2)
    if verbose or CONFIG["verbose"]:
        print(f"loss = {loss}")
    return loss


def errstate_entropy(logits):
    p = np.exp(logits) / np.sum(np.exp(logits))
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.sum(sps.xlogy(p, p))
    return ent


def math_hyper(w, X, sigma=0.7):
    c = 1.0 / (math.sqrt(2 * math.pi) * sigma)
    return -np.sum(np.log(c * np.exp(-0.5 * (X @ w) ** 2 / sigma ** 2) + 1e-3)) + math.log(sigma)


def recursive_tree(w, x, depth=3):
    if depth == 0:
        return np.tanh(x @ w)
    left = recursive_tree(w, x * 0.5, depth - 1)
    right = recursive_tree(w, x[::-1], depth - 1)
    return np.tanh(left + right)


def recursive_loss(w, X):
    return np.sum(recursive_tree(w, X) ** 2)


# ---------------------------------------------------------------- linear algebra and scipy

def spectral_smallest(A):
    S = A @ A.T + np.eye(A.shape[0])
    vals, vecs = np.linalg.eigh(S)
    return vals[0] + np.sum(vecs[:, 0] ** 4)


def lstsq_loss(b, A):
    x, *_ = np.linalg.lstsq(A, b, rcond=None)
    return np.sum(x ** 2)


def triangular_solve(L, b):
    Lt = np.tril(L) + 2.0 * np.eye(L.shape[0])
    z = scipy.linalg.solve_triangular(Lt, b, lower=True)
    return z @ z


def kl_categorical(logits_q, p):
    q = np.exp(logits_q - sps.logsumexp(logits_q))
    return np.sum(sps.rel_entr(q, p))


def weighted_logsumexp(a, w):
    return sps.logsumexp(a, b=w) + sps.logsumexp(2 * a, b=np.ones_like(a) / len(a))


def mvn_cov_param(log_diag, x, mean):
    cov = np.diag(np.exp(log_diag)) + 0.2
    return -np.sum(scipy.stats.multivariate_normal.logpdf(x, mean=mean, cov=cov))


def gamma_poisson_hier(log_rate, counts, a=2.0, b=1.0):
    rate = np.exp(log_rate)
    return -(np.sum(scipy.stats.poisson.logpmf(counts, rate))
             + np.sum(scipy.stats.gamma.logpdf(rate, a, scale=1 / b)))


def trimmed_mean_loss(w, X, y, trim=1):
    r = np.sort((X @ w - y) ** 2)
    return np.mean(r[trim:-trim])


def batched_quadratic(A, x):
    M = A @ np.swapaxes(A, -1, -2) + np.eye(A.shape[-1])    # (B, n, n)
    y = M @ x[..., None]
    return np.sum(np.squeeze(y, -1) * x) + np.sum(np.log(np.linalg.det(M)))


def tensordot_bilinear(W, x, y):
    return np.sum(np.tanh(np.tensordot(np.tensordot(W, x, axes=([1], [1])), y, axes=([1], [1]))))


def total_variation_denoise(u, f, lam=0.1, eps=1e-3):
    dx = np.diff(u, axis=1)[:-1, :]
    dy = np.diff(u, axis=0)[:, :-1]
    tv = np.sum(np.sqrt(dx ** 2 + dy ** 2 + eps))
    return 0.5 * np.sum((u - f) ** 2) + lam * tv


def sample_weighted_average(w, X, y, weights):
    return np.average((X @ w - y) ** 2, weights=weights)


def softplus_positive(raw, X):
    scale = np.log1p(np.exp(raw))
    return np.sum(np.log(scale)) + np.sum((X / scale) ** 2)


def outer_kron_trace(a, b):
    M = np.outer(a, b)
    K = np.kron(M, np.eye(2))
    return np.trace(K @ K.T) + np.linalg.norm(M, "fro")


def second_diff_smoothness(y, data, lam=5.0):
    return np.sum((y - data) ** 2) + lam * np.sum(np.diff(y, n=2) ** 2)


def clip_and_sign(w, X, y):
    z = np.clip(X @ w, -1.0, 1.0)
    return np.sum(np.abs(z - y)) + 0.1 * np.sum(np.sign(y) * z)


# ---------------------------------------------------------------- the cases

IDS = [(0, 1), (0, 3), (1, 2), (2, 0), (2, 4), (1, 1)]

CASES = {
    "cholesky_tril_indices": (cholesky_param_nll, (rnd(6, scale=0.3), X), 0, {}),
    "fill_diagonal": (fill_diagonal_precision, (rnd(3, scale=0.3), rnd(3, scale=0.2), X),
                      (0, 1), {}),
    "scatter_add_rows": (scatter_add_embeddings, (rnd(5, 3), IDS, rnd(6)), (0, 2), {}),
    "column_writes": (column_update_loop, (rnd(3, 4), X), 0, {}),
    "kepler_newton": (kepler_loss, (0.3, np.array([0.5, 1.0, 2.0])), (0, 1), {}),
    "fixed_point_while": (fixed_point_cos, (np.array([0.5, 0.8, 0.3]),), 0, {}),
    "power_iteration": (power_iteration, (rnd(3, 3, scale=1.0),), 0, {}),
    "mixup_inner_rng": (mixup_loss, (rnd(3), X, Y), 0, {}),
    "reinforce": (reinforce_surrogate, (rnd(4), np.random.default_rng(1)), 0, {}),
    "bbvi_loop": (bbvi_loop, ((rnd(3), rnd(3)), np.random.default_rng(2)), 0, {}),
    "functools_partial": (PARTIAL, (rnd(3),), 0, {}),
    "lambda_closure": (lambda w: base_loss(w, X, Y, l2=0.3), (rnd(3),), 0, {}),
    "callable_object": (CallableModel(X, np.sign(Y)), (rnd(3),), 0, {}),
    "dict_star_star": (kl_from_dict, ({"mu_q": rnd(3), "log_sig_q": rnd(3), "mu_p": rnd(3)},),
                       0, {}),
    "params_items": (l2_over_items, ({"W_out": rnd(3), "b_out": 0.2}, X, Y), 0, {}),
    "sorted_keys": (sorted_keys_loss, ({"b_layer": rnd(3, 3), "a_layer": rnd(3, 3)}, X), 0, {}),
    "print_assert": (chatty_loss, (rnd(3), X, Y), 0, {}),
    "errstate_xlogy": (errstate_entropy, (rnd(4),), 0, {}),
    "math_module": (math_hyper, (rnd(3), X), 0, {"sigma": 0.9}),
    "recursion_depth": (recursive_loss, (rnd(3), X), 0, {}),
    "eigh_smallest": (spectral_smallest, (rnd(3, 3, scale=1.0),), 0, {}),
    "lstsq": (lstsq_loss, (rnd(6), X), (0, 1), {}),
    "solve_triangular": (triangular_solve, (rnd(3, 3), rnd(3)), (0, 1), {}),
    "rel_entr_kl": (kl_categorical, (rnd(4), np.array([0.1, 0.2, 0.3, 0.4])), 0, {}),
    "logsumexp_b": (weighted_logsumexp, (rnd(4), np.array([0.5, 1.0, 2.0, 0.1])), (0, 1), {}),
    "mvn_cov_argument": (mvn_cov_param, (rnd(3, scale=0.2), X, rnd(3)), (0, 2), {}),
    "poisson_gamma_logpmf": (gamma_poisson_hier, (rnd(4), np.array([0.0, 2.0, 1.0, 4.0])), 0, {}),
    "sort_trimmed_mean": (trimmed_mean_loss, (rnd(3), X, Y), 0, {}),
    "batched_matmul_det": (batched_quadratic, (rnd(2, 3, 3), rnd(2, 3)), (0, 1), {}),
    "tensordot": (tensordot_bilinear, (rnd(2, 3, 4), rnd(5, 3), rnd(5, 4)), (0, 1, 2), {}),
    "total_variation": (total_variation_denoise, (rnd(4, 5), rnd(4, 5)), 0, {}),
    "np_average_weights": (sample_weighted_average, (rnd(3), X, Y, np.abs(rnd(6)) + 0.1), (0, 3),
                           {}),
    "softplus_param": (softplus_positive, (rnd(3), X), 0, {}),
    "outer_kron_trace": (outer_kron_trace, (rnd(3), rnd(2)), (0, 1), {}),
    "diff_n2_smoothness": (second_diff_smoothness, (rnd(7), rnd(7)), 0, {}),
    "clip_sign_abs": (clip_and_sign, (rnd(3, scale=0.2), X, Y), 0, {}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus9_idioms(name):
    f, args, wrt, kwargs = CASES[name]
    run_case(f, args, wrt, kwargs)
