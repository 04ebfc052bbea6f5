"""corpus10, part 3: optimisation objectives as written in scripts and
notebooks: mean-variance and risk-parity portfolios with softmax weights,
robust regression (Huber, pseudo-Huber, Cauchy, quantile), LASSO with the
proximal (soft-threshold) step inside the loss, group lasso, SVMs (hinge,
squared hinge, multiclass Crammer-Singer), matrix factorisation with an
observation mask, Poisson / negative-binomial / gamma / zero-inflated GLMs,
survival models (exponential and Weibull with censoring, piecewise hazard,
Cox with Breslow ties), ordinal regression, isotonic penalty, TV denoising,
entropic regularised optimal transport dual.  Checked by
``tests/corpus10_harness.check``.
"""
import numpy as np
import pytest
import scipy.special as sps
import scipy.stats

from tests.corpus10_harness import run_table

R = np.random.default_rng(10030)


def rnd(*shape, scale=0.5):
    return R.normal(size=shape) * scale


X = rnd(8, 3, scale=1.0)
Y = X @ np.array([1.0, -2.0, 0.5]) + rnd(8, scale=0.3)
YC = np.array([0, 1, 2, 1, 0, 2, 2, 1])
COUNTS = np.array([0.0, 3.0, 1.0, 5.0, 2.0, 0.0, 7.0, 1.0])


# ---------------------------------------------------------------- portfolio

def mean_variance(logits, mu, Sigma, risk_aversion=3.0):
    w = np.exp(logits) / np.sum(np.exp(logits))
    return -(w @ mu) + 0.5 * risk_aversion * w @ Sigma @ w


def risk_parity(log_w, Sigma):
    w = np.exp(log_w)
    w = w / w.sum()
    port_var = w @ Sigma @ w
    rc = w * (Sigma @ w) / port_var
    return np.sum((rc - 1.0 / len(w)) ** 2)


def sharpe(w, returns, rf=0.0):
    port = returns @ w
    return -(np.mean(port) - rf) / np.std(port, ddof=1)


def cvar_smooth(w, returns, alpha=0.9, beta=20.0):
    losses = -(returns @ w)
    var = np.quantile(losses, alpha)
    excess = np.logaddexp(0, beta * (losses - var)) / beta
    return var + np.mean(excess) / (1 - alpha)


A4 = rnd(4, 4)
SIGMA = A4 @ A4.T + 0.1 * np.eye(4)
MU = rnd(4, scale=0.1)
RETURNS = rnd(20, 4, scale=0.05) + 0.01


# ---------------------------------------------------------------- robust regression

def huber(r, delta=1.0):
    a = np.abs(r)
    return np.where(a <= delta, 0.5 * r ** 2, delta * (a - 0.5 * delta))


def huber_regression(w, X, y, delta=1.0, l2=0.01):
    return np.mean(huber(X @ w - y, delta)) + l2 * np.dot(w, w)


def pseudo_huber(w, X, y, delta=0.5):
    r = X @ w - y
    return np.sum(delta ** 2 * (np.sqrt(1 + (r / delta) ** 2) - 1))


def cauchy_loss(w, X, y, c=1.0):
    r = X @ w - y
    return np.sum(np.log1p((r / c) ** 2))


def quantile_loss(W, X, y, taus=(0.1, 0.5, 0.9)):
    total = 0.0
    for k, tau in enumerate(taus):
        r = y - X @ W[:, k]
        total += np.mean(np.maximum(tau * r, (tau - 1) * r))
    return total


def huber_irls_step(w, X, y, delta=1.0):
    # one IRLS step inside the objective (weights treated as data by stop-gradient-free code)
    r = X @ w - y
    wts = np.where(np.abs(r) <= delta, 1.0, delta / np.abs(r))
    Wm = np.diag(wts)
    w_new = np.linalg.solve(X.T @ Wm @ X + 1e-3 * np.eye(X.shape[1]), X.T @ Wm @ y)
    return np.sum(huber(X @ w_new - y, delta))


# ---------------------------------------------------------------- LASSO / sparse

def soft_threshold(x, t):
    return np.sign(x) * np.maximum(np.abs(x) - t, 0.0)


def lasso_prox_loss(w, X, y, lam=0.1, lr=0.05):
    # one proximal-gradient step, then the objective at the new point
    g = X.T @ (X @ w - y) / len(y)
    w_new = soft_threshold(w - lr * g, lr * lam)
    return 0.5 * np.mean((X @ w_new - y) ** 2) + lam * np.sum(np.abs(w_new))


def ista_unrolled(w0, X, y, lam=0.05, steps=5):
    L = np.linalg.norm(X, 2) ** 2 / len(y)
    w = w0.copy()
    for _ in range(steps):
        w = soft_threshold(w - X.T @ (X @ w - y) / (len(y) * L), lam / L)
    return 0.5 * np.mean((X @ w - y) ** 2)


def group_lasso(w, X, y, groups=((0, 1), (2,)), lam=0.1):
    pen = 0.0
    for g in groups:
        idx = list(g)
        pen = pen + np.sqrt(len(idx)) * np.linalg.norm(w[idx])
    return 0.5 * np.mean((X @ w - y) ** 2) + lam * pen


GROUPS = ((0, 1), (2,))


def group_lasso_global(w, X, y, lam=0.1):
    pen = 0.0
    for g in GROUPS:
        idx = list(g)
        pen = pen + np.sqrt(len(idx)) * np.linalg.norm(w[idx])
    return 0.5 * np.mean((X @ w - y) ** 2) + lam * pen


def elastic_net_smooth(w, X, y, alpha=0.1, l1_ratio=0.5, eps=1e-3):
    l1 = np.sum(np.sqrt(w ** 2 + eps))
    l2 = 0.5 * np.sum(w ** 2)
    return np.mean((X @ w - y) ** 2) / 2 + alpha * (l1_ratio * l1 + (1 - l1_ratio) * l2)


# ---------------------------------------------------------------- SVMs

def svm_hinge(wb, X, y, C=1.0):
    w, b = wb[:-1], wb[-1]
    margins = y * (X @ w + b)
    return 0.5 * w @ w + C * np.sum(np.maximum(0, 1 - margins))


def svm_squared_hinge(w, X, y, C=0.5):
    return 0.5 * np.dot(w, w) + C * np.sum(np.clip(1 - y * (X @ w), 0, None) ** 2)


def crammer_singer(W, X, y):
    scores = X @ W
    n = X.shape[0]
    correct = scores[np.arange(n), y]
    margins = scores - correct[:, None] + 1.0
    margins[np.arange(n), y] = 0.0
    return np.mean(np.max(margins, axis=1)) + 0.01 * np.sum(W * W)


def multiclass_ovr_hinge(W, X, y):
    Y = -np.ones((X.shape[0], W.shape[1]))
    Y[np.arange(X.shape[0]), y] = 1.0
    return np.mean(np.maximum(0.0, 1.0 - Y * (X @ W)) ** 2)


SIGNS = np.where(Y > 0, 1.0, -1.0)


# ---------------------------------------------------------------- matrix factorisation

def mf_masked(params, R_obs, mask, lam=0.1):
    U, V = params
    pred = U @ V.T
    err = (R_obs - pred) * mask
    return np.sum(err ** 2) / mask.sum() + lam * (np.sum(U ** 2) + np.sum(V ** 2))


def mf_biased(params, rows, cols, vals, mu=3.0):
    P, Q, bu, bi = params["P"], params["Q"], params["bu"], params["bi"]
    pred = mu + bu[rows] + bi[cols] + np.sum(P[rows] * Q[cols], axis=1)
    return np.mean((vals - pred) ** 2) + 0.05 * (np.sum(P ** 2) + np.sum(Q ** 2))


def nmf_kl(params, V):
    W = np.exp(params[0])
    H = np.exp(params[1])
    WH = W @ H
    return np.sum(V * np.log(V / WH + 1e-12) - V + WH)


def logistic_mf(params, R_bin, mask):
    U, V = params
    logits = U @ V.T
    ll = R_bin * logits - np.logaddexp(0, logits)
    return -np.sum(ll * mask)


MASK = (R.uniform(size=(5, 4)) < 0.6).astype(float)
R_OBS = rnd(5, 4, scale=2.0) + 3.0


# ---------------------------------------------------------------- GLMs

def poisson_glm(beta, X, y, offset=None):
    eta = X @ beta
    if offset is not None:
        eta = eta + offset
    return -np.sum(y * eta - np.exp(eta) - sps.gammaln(y + 1))


def negbin_glm(params, X, y):
    beta, log_alpha = params[:-1], params[-1]
    mu = np.exp(X @ beta)
    r = 1.0 / np.exp(log_alpha)
    ll = sps.gammaln(y + r) - sps.gammaln(r) - sps.gammaln(y + 1) \
        + r * np.log(r / (r + mu)) + y * np.log(mu / (r + mu))
    return -np.sum(ll)


def gamma_glm(params, X, y):
    beta, log_shape = params[:-1], params[-1]
    mu = np.exp(X @ beta)
    k = np.exp(log_shape)
    return -np.sum(scipy.stats.gamma.logpdf(y, a=k, scale=mu / k))


def zip_glm(params, X, y):
    beta, gamma_ = params["beta"], params["gamma"]
    lam = np.exp(X @ beta)
    pi = sps.expit(X @ gamma_)
    zero = y == 0
    ll_zero = np.log(pi + (1 - pi) * np.exp(-lam))
    ll_pos = np.log(1 - pi) + y * np.log(lam) - lam - sps.gammaln(y + 1)
    return -np.sum(np.where(zero, ll_zero, ll_pos))


def ordinal_logit(params, X, y):
    beta, raw = params
    cuts = np.cumsum(np.concatenate([raw[:1], np.exp(raw[1:])]))
    eta = X @ beta
    cdf = sps.expit(cuts[None, :] - eta[:, None])
    cdf = np.concatenate([np.zeros((len(y), 1)), cdf, np.ones((len(y), 1))], axis=1)
    probs = cdf[np.arange(len(y)), y + 1] - cdf[np.arange(len(y)), y]
    return -np.sum(np.log(probs + 1e-12))


def probit(beta, X, y01):
    p = scipy.stats.norm.cdf(X @ beta)
    return -np.sum(y01 * np.log(p) + (1 - y01) * np.log1p(-p))


def beta_regression(params, X, y):
    beta, log_phi = params[:-1], params[-1]
    mu = sps.expit(X @ beta)
    phi = np.exp(log_phi)
    a, b = mu * phi, (1 - mu) * phi
    return -np.sum(sps.gammaln(phi) - sps.gammaln(a) - sps.gammaln(b)
                   + (a - 1) * np.log(y) + (b - 1) * np.log1p(-y))


Y01 = (Y > 0).astype(float)
YPOS = np.abs(Y) + 0.5
Y_UNIT = sps.expit(Y)


# ---------------------------------------------------------------- survival

def exp_censored(beta, X, t, event):
    lam = np.exp(X @ beta)
    return -np.sum(event * np.log(lam) - lam * t)


def weibull_aft(params, X, t, event):
    beta, log_k = params[:-1], params[-1]
    k = np.exp(log_k)
    scale = np.exp(X @ beta)
    z = (t / scale) ** k
    log_h = np.log(k) - np.log(scale) + (k - 1) * np.log(t / scale)
    return -np.sum(event * log_h - z)


def piecewise_hazard(log_h, t, event, cuts):
    h = np.exp(log_h)
    edges = np.concatenate([[0.0], cuts, [np.inf]])
    ll = 0.0
    for j in range(len(h)):
        lo, hi = edges[j], edges[j + 1]
        exposure = np.clip(t, lo, hi) - lo
        in_j = (t >= lo) & (t < hi)
        ll = ll + np.sum(event * in_j * log_h[j]) - h[j] * np.sum(exposure)
    return -ll


def cox_breslow(beta, X, t, event):
    eta = X @ beta
    order = np.argsort(-t)
    eta_s, ev_s = eta[order], event[order]
    log_risk = np.logaddexp.accumulate(eta_s)
    return -np.sum((eta_s - log_risk) * ev_s)


T_SURV = np.abs(rnd(8, scale=2.0)) + 0.2
EVENT = np.array([1, 0, 1, 1, 0, 1, 1, 0], dtype=float)


# ---------------------------------------------------------------- denoising, OT dual, isotonic

def tv_denoise(u, f, lam=0.5, eps=1e-3):
    dx = np.diff(u, axis=0)
    dy = np.diff(u, axis=1)
    tv = np.sum(np.sqrt(dx[:, :-1] ** 2 + dy[:-1, :] ** 2 + eps))
    return 0.5 * np.sum((u - f) ** 2) + lam * tv


def ot_dual(fg, a, b, C, eps=0.1):
    n = len(a)
    f, g = fg[:n], fg[n:]
    K = np.exp((f[:, None] + g[None, :] - C) / eps)
    return -(f @ a + g @ b - eps * np.sum(K))


def isotonic_penalty(y_hat, y, lam=5.0):
    viol = np.maximum(0.0, y_hat[:-1] - y_hat[1:])
    return np.sum((y_hat - y) ** 2) + lam * np.sum(viol ** 2)


def logsumexp_smooth_max(w, X, y, beta=10.0):
    r = np.abs(X @ w - y)
    return sps.logsumexp(beta * r) / beta


CASES = {
    "mean_variance": (mean_variance, (rnd(4), MU, SIGMA), 0, {}, {"order2": True}),
    "risk_parity": (risk_parity, (rnd(4), SIGMA), 0, {}, {"order2": True}),
    "sharpe": (sharpe, (np.full(4, 0.25) + rnd(4, scale=0.05), RETURNS), 0, {}),
    "cvar_smooth": (cvar_smooth, (np.full(4, 0.25) + rnd(4, scale=0.05), RETURNS), 0, {},
                    {"f32": False}),
    "huber": (huber_regression, (rnd(3), X, Y), 0, {"delta": 0.8}, {"order2": True}),
    "pseudo_huber": (pseudo_huber, (rnd(3), X, Y), 0, {}),
    "cauchy": (cauchy_loss, (rnd(3), X, Y), 0, {}, {"order2": True}),
    "quantile": (quantile_loss, (rnd(3, 3), X, Y), 0, {}),
    "huber_irls": (huber_irls_step, (rnd(3), X, Y), 0, {}),
    "lasso_prox": (lasso_prox_loss, (rnd(3), X, Y), 0, {}),
    "ista": (ista_unrolled, (rnd(3), X, Y), 0, {}),
    "group_lasso_global": (group_lasso_global, (rnd(3), X, Y), 0, {}),
    "elastic_net": (elastic_net_smooth, (rnd(3), X, Y), 0, {}, {"order2": True}),
    "svm_hinge": (svm_hinge, (rnd(4), X, SIGNS), 0, {}),
    "svm_sq_hinge": (svm_squared_hinge, (rnd(3), X, SIGNS), 0, {}),
    "crammer_singer": (crammer_singer, (rnd(3, 3), X, YC), 0, {}),
    "ovr_hinge": (multiclass_ovr_hinge, (rnd(3, 3), X, YC), 0, {}),
    "mf_masked": (mf_masked, ((rnd(5, 2), rnd(4, 2)), R_OBS, MASK), 0, {}),
    "mf_biased": (mf_biased, ({"P": rnd(5, 2), "Q": rnd(4, 2), "bu": rnd(5), "bi": rnd(4)},
                              np.array([0, 1, 1, 3, 4, 2, 0]), np.array([0, 2, 3, 1, 0, 0, 3]),
                              np.array([4.0, 3.0, 5.0, 2.0, 1.0, 3.5, 4.5])), 0, {}),
    "nmf_kl": (nmf_kl, ((rnd(4, 2), rnd(2, 3)), np.abs(rnd(4, 3)) + 0.1), 0, {}),
    "logistic_mf": (logistic_mf, ((rnd(5, 2), rnd(4, 2)), (R_OBS > 3).astype(float), MASK), 0,
                    {}),
    "poisson_glm": (poisson_glm, (rnd(3), X, COUNTS), 0, {}, {"order2": True}),
    "poisson_offset": (poisson_glm, (rnd(3), X, COUNTS), 0, {"offset": np.log(np.arange(1, 9.0))}),
    "negbin_glm": (negbin_glm, (rnd(4), X, COUNTS), 0, {}, {"order2": True}),
    "gamma_glm": (gamma_glm, (rnd(4), X, YPOS), 0, {}),
    "zip_glm": (zip_glm, ({"beta": rnd(3), "gamma": rnd(3)}, X, COUNTS), 0, {}),
    "ordinal": (ordinal_logit, ((rnd(3), np.array([-1.0, 0.0])), X, YC), 0, {}),
    "probit": (probit, (rnd(3), X, Y01), 0, {}, {"order2": True}),
    "beta_regression": (beta_regression, (rnd(4), X, Y_UNIT), 0, {}),
    "exp_censored": (exp_censored, (rnd(3), X, T_SURV, EVENT), 0, {}),
    "weibull_aft": (weibull_aft, (rnd(4), X, T_SURV, EVENT), 0, {}, {"order2": True}),
    "piecewise_hazard": (piecewise_hazard, (rnd(3), T_SURV, EVENT, np.array([0.5, 1.5])), 0,
                         {}),
    "cox_breslow": (cox_breslow, (rnd(3), X, T_SURV, EVENT), 0, {}),
    "tv_denoise": (tv_denoise, (rnd(4, 5), rnd(4, 5)), 0, {}),
    "ot_dual": (ot_dual, (rnd(7), np.full(3, 1 / 3), np.full(4, 0.25), np.abs(rnd(3, 4))), 0,
                {}),
    "isotonic": (isotonic_penalty, (rnd(6), np.sort(rnd(6))), 0, {}),
    "smooth_max": (logsumexp_smooth_max, (rnd(3), X, Y), 0, {}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus10_objectives(name):
    run_table(CASES, name)


def test_group_lasso_default_tuple_refused():
    """``groups=((0, 1), (2,))`` as a default argument is data (read when the
    code runs), so ``list(g)`` of its items is refused at the line; the same
    groups as a module constant work (the case "group_lasso_global")."""
    from s2sgrad import grad
    from s2sgrad.errors import S2SGradError
    with pytest.raises(S2SGradError, match=r"test_corpus10_objectives.py:\d+: list\(\) of a "
                                           r"computed value"):
        grad(group_lasso)(rnd(3), X, Y)
