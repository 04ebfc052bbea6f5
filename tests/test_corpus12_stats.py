"""corpus12, part 2: statistical models and structured losses: Poisson and
negative-binomial GLMs (``gammaln``), Cox partial likelihood with risk sets
by a reversed ``cumsum`` over sorted times (and by ``np.logaddexp.accumulate``),
ordinal (cumulative-logit) regression with ordered cut points by ``cumsum`` of
``exp``, a Bayesian logistic Laplace evidence with ``slogdet`` of the Hessian,
a mixture density network, the Gaussian-mixture EM lower bound with fixed
responsibilities and the marginal log-likelihood by ``logsumexp``, ranking
losses (ListNet, a LambdaRank-style pairwise loss, a pairwise hinge with
``np.triu_indices``), t-SNE and UMAP-style embedding losses, log-domain
Sinkhorn (entropic optimal transport) with ``logsumexp``, soft-DTW by a double
loop with a soft minimum, a cubic B-spline fit by the Cox-de Boor recursion,
and a zero-inflated Poisson likelihood.  Checked by
``tests/corpus10_harness.check``.
"""
import numpy as np
import pytest
from scipy.special import expit, gammaln, logsumexp

from tests.corpus10_harness import run_table

R = np.random.default_rng(12020)


def rnd(*shape, scale=0.5):
    return R.normal(size=shape) * scale


Xg = rnd(10, 3, scale=1.0)
COUNTS = R.poisson(np.exp(Xg @ np.array([0.3, -0.2, 0.4]))).astype(float)


# ---------------------------------------------------------------- GLMs

def poisson_nll(beta, X, y, offset=None):
    eta = X @ beta
    if offset is not None:
        eta = eta + offset
    return np.sum(np.exp(eta) - y * eta + gammaln(y + 1))


def negbin_nll(params, X, y):
    beta, log_alpha = params
    mu = np.exp(X @ beta)
    r = np.exp(-log_alpha)                      # dispersion 1/alpha
    ll = (gammaln(y + r) - gammaln(r) - gammaln(y + 1)
          + r * np.log(r / (r + mu)) + y * np.log(mu / (r + mu)))
    return -np.sum(ll)


def zip_nll(params, X, y):
    beta, gamma = params["beta"], params["gamma"]
    lam = np.exp(X @ beta)
    pi = expit(X @ gamma)
    zero = y == 0
    ll_zero = np.log(pi + (1 - pi) * np.exp(-lam))
    ll_pos = np.log1p(-pi) - lam + y * np.log(lam) - gammaln(y + 1)
    return -np.sum(np.where(zero, ll_zero, ll_pos))


def gamma_glm(beta, X, y, shape=2.0):
    mu = np.exp(X @ beta)
    return np.sum(shape * (y / mu + np.log(mu)))


# ---------------------------------------------------------------- survival

T_OBS = R.exponential(size=10)
EVENT = (R.random(10) < 0.7).astype(float)


def cox_partial(beta, X, times, events):
    order = np.argsort(-times)                  # descending: risk set is a prefix
    eta = X[order] @ beta
    ev = events[order]
    log_risk = np.log(np.cumsum(np.exp(eta)))
    return -np.sum(ev * (eta - log_risk))


def cox_stable(beta, X, times, events):
    order = np.argsort(times)[::-1]
    eta = (X @ beta)[order]
    log_risk = np.logaddexp.accumulate(eta)
    return -np.sum((eta - log_risk)[events[order] > 0])


def weibull_aft(params, X, t, d):
    beta, log_k = params[:-1], params[-1]
    k = np.exp(log_k)
    lam = np.exp(X @ beta)
    z = (t / lam) ** k
    return -np.sum(d * (np.log(k) - np.log(lam) + (k - 1) * np.log(t / lam)) - z)


# ---------------------------------------------------------------- ordinal regression

def ordinal_logit(params, X, y, n_classes=4):
    w, raw = params["w"], params["raw"]
    cuts = np.concatenate([[raw[0]], raw[0] + np.cumsum(np.exp(raw[1:]))])
    eta = X @ w
    cdf = expit(cuts[None, :] - eta[:, None])              # (n, K-1)
    cdf = np.concatenate([np.zeros((len(y), 1)), cdf, np.ones((len(y), 1))], axis=1)
    probs = np.diff(cdf, axis=1)
    return -np.sum(np.log(probs[np.arange(len(y)), y] + 1e-12))


Y_ORD = np.array([0, 1, 3, 2, 2, 1, 0, 3, 1, 2])


# ---------------------------------------------------------------- Laplace evidence

def laplace_evidence(w_map, X, y, prior_prec=1.0):
    z = X @ w_map
    p = expit(z)
    loglik = np.sum(y * z - np.logaddexp(0.0, z))
    H = X.T @ (X * (p * (1 - p))[:, None]) + prior_prec * np.eye(X.shape[1])
    sign, logdet = np.linalg.slogdet(H)
    d = X.shape[1]
    return -(loglik - 0.5 * prior_prec * w_map @ w_map + 0.5 * d * np.log(prior_prec)
             - 0.5 * logdet)


# ---------------------------------------------------------------- mixtures

def mdn_nll(params, x, y, K=3):
    W1, b1, W2, b2 = params
    h = np.tanh(x[:, None] * W1 + b1)
    out = h @ W2 + b2                                       # (n, 3K)
    logit_pi, mu, log_sigma = out[:, :K], out[:, K:2 * K], out[:, 2 * K:]
    log_pi = logit_pi - logsumexp(logit_pi, axis=1, keepdims=True)
    z = (y[:, None] - mu) / np.exp(log_sigma)
    comp = log_pi - 0.5 * z ** 2 - log_sigma - 0.5 * np.log(2 * np.pi)
    return -np.mean(logsumexp(comp, axis=1))


def gmm_marginal(params, X):
    means, log_scales, logits = params
    K, d = means.shape
    diff = X[:, None, :] - means[None, :, :]                  # (n, K, d)
    inv = np.exp(-log_scales)
    logp = (-0.5 * np.sum((diff * inv[None]) ** 2, axis=2) - np.sum(log_scales, axis=1)
            - 0.5 * d * np.log(2 * np.pi))
    logw = logits - logsumexp(logits)
    return -np.sum(logsumexp(logp + logw, axis=1))


def gmm_em_bound(params, X, resp):
    """Expected complete-data log-likelihood (the M-step objective)."""
    means, log_var = params
    var = np.exp(log_var)
    Nk = resp.sum(axis=0)
    pis = Nk / Nk.sum()
    q = 0.0
    for k in range(means.shape[0]):
        d2 = np.sum((X - means[k]) ** 2, axis=1)
        q += np.sum(resp[:, k] * (np.log(pis[k]) - 0.5 * d2 / var[k]
                                  - 0.5 * X.shape[1] * np.log(2 * np.pi * var[k])))
    return -q


# ---------------------------------------------------------------- ranking

def listnet(w, X, rel):
    s = X @ w
    p_true = np.exp(rel) / np.sum(np.exp(rel))
    log_p = s - logsumexp(s)
    return -np.sum(p_true * log_p)


def lambdarank_like(w, X, rel):
    s = X @ w
    n = len(s)
    gain = 2.0 ** rel - 1
    disc = 1.0 / np.log2(np.arange(n) + 2.0)
    ideal = np.sum(np.sort(gain)[::-1] * disc)
    loss = 0.0
    for i in range(n):
        for j in range(n):
            if rel[i] > rel[j]:
                delta = abs((gain[i] - gain[j]) * (disc[i] - disc[j])) / ideal
                loss = loss + delta * np.logaddexp(0.0, -(s[i] - s[j]))
    return loss


def pairwise_hinge(w, X, rel, margin=1.0):
    s = X @ w
    i, j = np.triu_indices(len(s), k=1)
    sign = np.sign(rel[i] - rel[j])
    return np.sum(np.maximum(0.0, margin - sign * (s[i] - s[j])) * (sign != 0))


REL = np.array([2.0, 0.0, 1.0, 3.0, 1.0])


# ---------------------------------------------------------------- embeddings

def tsne_kl(Y, P):
    n = Y.shape[0]
    sq = np.sum(Y ** 2, axis=1)
    D = sq[:, None] + sq[None, :] - 2 * Y @ Y.T
    num = 1.0 / (1.0 + D)
    num[np.arange(n), np.arange(n)] = 0.0
    Q = num / np.sum(num)
    mask = ~np.eye(n, dtype=bool)
    return np.sum(P[mask] * np.log(P[mask] / Q[mask]))


def umap_like(Y, heads, tails, negs, a=1.58, b=0.9):
    d_pos = np.sum((Y[heads] - Y[tails]) ** 2, axis=1)
    d_neg = np.sum((Y[heads][:, None, :] - Y[negs]) ** 2, axis=2)
    attract = np.log1p(a * d_pos ** b)
    repel = -np.log(1 - 1 / (1 + a * d_neg ** b) + 1e-3)
    return np.sum(attract) + np.sum(repel)


def _tsne_P(n):
    P = R.random((n, n)) + 0.1
    P = P + P.T
    np.fill_diagonal(P, 0.0)
    return P / P.sum() + np.eye(n)        # diagonal unused (masked)


# ---------------------------------------------------------------- OT and DTW

def sinkhorn_log(C, a, b, eps=0.5, n_iter=30):
    f = np.zeros_like(a)
    g = np.zeros_like(b)
    for _ in range(n_iter):
        f = eps * np.log(a) - eps * logsumexp((g[None, :] - C) / eps, axis=1)
        g = eps * np.log(b) - eps * logsumexp((f[:, None] - C) / eps, axis=0)
    P = np.exp((f[:, None] + g[None, :] - C) / eps)
    return np.sum(P * C)


def sinkhorn_points(x, y, eps=0.3):
    C = (x[:, None] - y[None, :]) ** 2
    n, m = C.shape
    return sinkhorn_log(C, np.full(n, 1 / n), np.full(m, 1 / m), eps, 20)


def softmin(a, b, c, gamma):
    z = -np.array([a, b, c]) / gamma
    return -gamma * logsumexp(z)


def soft_dtw(x, y, gamma=0.5):
    n, m = len(x), len(y)
    D = (x[:, None] - y[None, :]) ** 2
    Rm = np.full((n + 1, m + 1), np.inf)
    Rm[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            Rm[i, j] = D[i - 1, j - 1] + softmin(Rm[i - 1, j], Rm[i, j - 1],
                                                 Rm[i - 1, j - 1], gamma)
    return Rm[n, m]


# ---------------------------------------------------------------- splines

def bspline_basis(x, knots, degree):
    n = len(knots) - degree - 1
    B = [((knots[i] <= x) & (x < knots[i + 1])).astype(float) for i in range(len(knots) - 1)]
    for p in range(1, degree + 1):
        nb = []
        for i in range(len(knots) - p - 1):
            left = 0.0
            right = 0.0
            if knots[i + p] > knots[i]:
                left = (x - knots[i]) / (knots[i + p] - knots[i]) * B[i]
            if knots[i + p + 1] > knots[i + 1]:
                right = (knots[i + p + 1] - x) / (knots[i + p + 1] - knots[i + 1]) * B[i + 1]
            nb.append(left + right)
        B = nb
    return np.stack(B[:n], axis=1)


def spline_fit(coef, x, y, knots, lam=1e-2):
    Bm = bspline_basis(x, knots, 3)
    resid = Bm @ coef - y
    return np.sum(resid ** 2) + lam * np.sum(np.diff(coef, n=2) ** 2)


def spline_in_x(x, coef, knots):
    return np.sum(np.sin(bspline_basis(x, knots, 3) @ coef))


KNOTS = np.concatenate([[0.0] * 3, np.linspace(0, 1, 5), [1.0] * 3])
XS = np.sort(R.random(12)) * 0.98 + 0.01

CASES = {
    "poisson": (poisson_nll, (rnd(3, scale=0.1), Xg, COUNTS), 0, {}, {"order2": True}),
    "poisson_offset": (poisson_nll, (rnd(3, scale=0.1), Xg, COUNTS),
                       0, {"offset": np.log(1 + R.random(10))}),
    "negbin": (negbin_nll, ((rnd(3, scale=0.1), np.log(0.5)), Xg, COUNTS), 0, {}),
    "zip": (zip_nll, ({"beta": rnd(3, scale=0.1), "gamma": rnd(3, scale=0.1)}, Xg, COUNTS),
            0, {}),
    "gamma_glm": (gamma_glm, (rnd(3, scale=0.1), Xg, COUNTS + 0.5), 0, {}),
    "cox_partial": (cox_partial, (rnd(3), Xg, T_OBS, EVENT), 0, {}, {"order2": True}),
    "cox_stable": (cox_stable, (rnd(3), Xg, T_OBS, EVENT), 0, {}),
    "weibull_aft": (weibull_aft, (np.array([0.1, -0.2, 0.05, 0.2]), Xg, T_OBS + 0.1, EVENT),
                    0, {}),
    "ordinal": (ordinal_logit, ({"w": rnd(3), "raw": np.array([-1.0, 0.0, 0.2])}, Xg, Y_ORD),
                0, {}),
    "laplace": (laplace_evidence, (rnd(3), Xg, (COUNTS > 1).astype(float)), 0, {},
                {"order2": True}),
    "mdn": (mdn_nll, ((rnd(1, 4), rnd(4), rnd(4, 9), rnd(9)), rnd(6, scale=1.0),
                      rnd(6, scale=1.0)), 0, {}),
    "gmm_marginal": (gmm_marginal, ((rnd(3, 2), rnd(3, 2, scale=0.1), rnd(3)), Xg[:, :2]),
                     0, {}),
    "gmm_em_bound": (gmm_em_bound, ((rnd(3, 2), rnd(3, scale=0.1)), Xg[:, :2],
                                    R.dirichlet(np.ones(3), size=10)), 0, {}),
    "listnet": (listnet, (rnd(3), Xg[:5], REL), 0, {}, {"order2": True}),
    "lambdarank": (lambdarank_like, (rnd(3), Xg[:5], REL), 0, {}),
    "pairwise_hinge": (pairwise_hinge, (rnd(3), Xg[:5], REL), 0, {}),
    "tsne": (tsne_kl, (rnd(5, 2, scale=1.0), _tsne_P(5)), 0, {}),
    "umap_like": (umap_like, (rnd(6, 2, scale=1.0), np.array([0, 1, 2, 3]),
                              np.array([1, 2, 3, 4]), np.array([[5, 3], [4, 0], [5, 1],
                                                                [0, 2]])), 0, {}),
    "sinkhorn": (sinkhorn_log, (R.random((3, 4)), np.full(3, 1 / 3), np.full(4, 0.25)), 0,
                 {}),
    "sinkhorn_points": (sinkhorn_points, (rnd(3, scale=1.0), rnd(4, scale=1.0)), (0, 1), {}),
    "soft_dtw": (soft_dtw, (rnd(4, scale=1.0), rnd(3, scale=1.0)), (0, 1), {}),
    "spline_fit": (spline_fit, (rnd(7), XS, np.sin(6 * XS), KNOTS), 0, {}, {"order2": True}),
    "spline_in_x": (spline_in_x, (XS, rnd(7), KNOTS), 0, {}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus12_stats(name):
    run_table(CASES, name)
