"""corpus10, part 5: classical machine learning written by hand: k-means with
soft assignments (and annealed temperature), t-SNE's KL objective with the
Student-t kernel, PCA by power iteration and deflation, EM steps for a
Gaussian mixture inside the objective, LDA/Fisher ratio, kernel ridge,
Nadaraya-Watson, Gaussian naive Bayes, softmax regression with an explicit
one-hot, k-NN with soft neighbours (NCA), metric learning (LMNN hinge),
contrastive loss, spectral clustering relaxation, factor analysis and
probabilistic PCA marginal likelihood, CCA-style correlation, Isomap-free
MDS stress, label propagation, a decision stump smoothed by a sigmoid.
Checked by ``tests/corpus10_harness.check``.
"""
import numpy as np
import pytest
import scipy.special as sps

from tests.corpus10_harness import run_table

R = np.random.default_rng(10050)


def rnd(*shape, scale=0.5):
    return R.normal(size=shape) * scale


X = np.vstack([rnd(4, 2, scale=0.4) + [1, 1], rnd(4, 2, scale=0.4) - [1, 0.5]])
LAB = np.array([0, 0, 0, 0, 1, 1, 1, 1])


def soft_kmeans(centroids, X, beta=5.0):
    d2 = np.sum((X[:, None, :] - centroids[None, :, :]) ** 2, axis=2)
    resp = sps.softmax(-beta * d2, axis=1)
    return np.sum(resp * d2) / len(X)


def soft_kmeans_annealed(centroids, X, betas=(1.0, 3.0, 10.0)):
    total = 0.0
    for beta in betas:
        d2 = ((X[:, None] - centroids[None]) ** 2).sum(-1)
        total += -np.sum(sps.logsumexp(-beta * d2, axis=1)) / beta
    return total


def tsne_kl(Y, P):
    d2 = np.sum((Y[:, None, :] - Y[None, :, :]) ** 2, axis=-1)
    num = 1.0 / (1.0 + d2)
    np.fill_diagonal(num, 0.0)
    Q = num / np.sum(num)
    Q = np.maximum(Q, 1e-12)
    mask = P > 0
    return np.sum(P[mask] * np.log(P[mask] / Q[mask]))


def tsne_P(X, perplexity_beta=1.0):
    d2 = np.sum((X[:, None] - X[None]) ** 2, axis=-1)
    Pc = np.exp(-d2 * perplexity_beta)
    np.fill_diagonal(Pc, 0)
    Pc = Pc / Pc.sum(axis=1, keepdims=True)
    P = (Pc + Pc.T) / (2 * len(X))
    return P


def power_iteration_top(A_params, n_iter=30):
    A = A_params @ A_params.T
    v = np.ones(A.shape[0]) / np.sqrt(A.shape[0])
    for _ in range(n_iter):
        v = A @ v
        v = v / np.linalg.norm(v)
    return v @ A @ v


def pca_deflation(X, k=2, n_iter=40):
    C = np.cov(X, rowvar=False)
    total = 0.0
    for _ in range(k):
        v = np.ones(C.shape[0])
        for _ in range(n_iter):
            v = C @ v
            v /= np.linalg.norm(v)
        lam = v @ C @ v
        total = total + lam
        C = C - lam * np.outer(v, v)
    return total


def gmm_em_step_objective(means, X, log_w=np.log(np.array([0.5, 0.5])), var=0.5):
    # E step inside the objective: responsibilities, then the expected log-lik
    d2 = np.sum((X[:, None, :] - means[None]) ** 2, axis=2)
    logp = log_w - 0.5 * d2 / var - X.shape[1] * 0.5 * np.log(2 * np.pi * var)
    r = np.exp(logp - sps.logsumexp(logp, axis=1, keepdims=True))
    # M step for the means, then the log-likelihood there
    new_means = (r.T @ X) / r.sum(axis=0)[:, None]
    d2n = np.sum((X[:, None, :] - new_means[None]) ** 2, axis=2)
    logpn = log_w - 0.5 * d2n / var
    return -np.sum(sps.logsumexp(logpn, axis=1))


def fisher_ratio(w, X, y):
    p = X @ w
    m0, m1 = p[y == 0].mean(), p[y == 1].mean()
    s0, s1 = p[y == 0].var(), p[y == 1].var()
    return -(m0 - m1) ** 2 / (s0 + s1)


def kernel_ridge_loo(log_params, X, y):
    ls, lam = np.exp(log_params)
    d2 = np.sum((X[:, None] - X[None]) ** 2, -1)
    K = np.exp(-0.5 * d2 / ls ** 2)
    H = K @ np.linalg.inv(K + lam * np.eye(len(y)))
    resid = (y - H @ y) / (1 - np.diag(H))
    return np.mean(resid ** 2)


def nadaraya_watson(log_bw, X, y, Xq, yq):
    bw = np.exp(log_bw)
    d2 = np.sum((Xq[:, None] - X[None]) ** 2, -1)
    W = np.exp(-d2 / (2 * bw ** 2))
    pred = W @ y / W.sum(axis=1)
    return np.mean((pred - yq) ** 2)


def gaussian_nb(params, X, y):
    mu, log_sd, logits = params["mu"], params["log_sd"], params["logits"]
    log_prior = logits - sps.logsumexp(logits)
    ll = -0.5 * ((X[:, None, :] - mu[None]) / np.exp(log_sd)[None]) ** 2 - log_sd[None] \
        - 0.5 * np.log(2 * np.pi)
    joint = ll.sum(-1) + log_prior
    return -np.sum(joint[np.arange(len(y)), y] - sps.logsumexp(joint, axis=1))


def softmax_onehot(W, X, y, n_classes=2):
    Y = np.zeros((len(y), n_classes))
    Y[np.arange(len(y)), y] = 1
    Z = X @ W
    Z -= Z.max(axis=1, keepdims=True)
    P = np.exp(Z)
    P /= P.sum(axis=1, keepdims=True)
    return -np.sum(Y * np.log(P)) / len(y)


def nca(A, X, y):
    Z = X @ A.T
    d2 = np.sum((Z[:, None] - Z[None]) ** 2, -1)
    np.fill_diagonal(d2, np.inf)
    P = sps.softmax(-d2, axis=1)
    same = (y[:, None] == y[None, :])
    return -np.sum(P * same)


def lmnn_hinge(L, X, y, margin=1.0):
    Z = X @ L.T
    d2 = np.sum((Z[:, None] - Z[None]) ** 2, -1)
    same = (y[:, None] == y[None, :]) & ~np.eye(len(y), dtype=bool)
    diff = y[:, None] != y[None, :]
    pull = np.sum(d2 * same)
    push = 0.0
    for i in range(len(y)):
        for j in np.nonzero(same[i])[0]:
            push = push + np.sum(np.maximum(0, margin + d2[i, j] - d2[i][diff[i]]))
    return pull + 0.5 * push


def contrastive(W, X1, X2, same, margin=1.0):
    d = np.linalg.norm(X1 @ W - X2 @ W, axis=1)
    return np.mean(same * d ** 2 + (1 - same) * np.maximum(0, margin - d) ** 2)


def spectral_relaxation(F, W_adj):
    D = np.diag(W_adj.sum(axis=1))
    L = D - W_adj
    FtF = F.T @ F
    return np.trace(F.T @ L @ F) + 10.0 * np.sum((FtF - np.eye(F.shape[1])) ** 2)


def ppca_marginal(params, X):
    W, log_s2 = params
    d = X.shape[1]
    C = W @ W.T + np.exp(log_s2) * np.eye(d)
    sign, logdet = np.linalg.slogdet(C)
    Xc = X - X.mean(axis=0)
    S = Xc.T @ Xc / len(X)
    return 0.5 * len(X) * (logdet + np.trace(np.linalg.solve(C, S)))


def mds_stress(Y, D):
    dY = np.sqrt(np.sum((Y[:, None] - Y[None]) ** 2, -1) + 1e-9)
    iu = np.triu_indices(len(D), 1)
    return np.sum((dY[iu] - D[iu]) ** 2)


def cca_corr(wx, wy, X, Y):
    u = (X - X.mean(0)) @ wx
    v = (Y - Y.mean(0)) @ wy
    return -np.sum(u * v) / np.sqrt(np.sum(u ** 2) * np.sum(v ** 2))


def label_propagation(logits, W_adj, y_known, known, alpha=0.8, iters=5):
    F = sps.softmax(logits, axis=1)
    Dinv = 1.0 / W_adj.sum(axis=1)
    for _ in range(iters):
        F = alpha * (Dinv[:, None] * (W_adj @ F)) + (1 - alpha) * F
    return -np.sum(np.log(F[known, y_known[known]]))


def soft_stump(params, X, y):
    thr, feat_logits, sharp = params
    w = sps.softmax(feat_logits)
    s = sps.expit(sharp * (X @ w - thr))
    return np.mean((s - y) ** 2)


ADJ = np.exp(-np.sum((X[:, None] - X[None]) ** 2, -1))
np.fill_diagonal(ADJ, 0.0)
D_MDS = np.sqrt(np.sum((X[:, None] - X[None]) ** 2, -1))

CASES = {
    "soft_kmeans": (soft_kmeans, (rnd(2, 2), X), 0, {}, {"order2": True}),
    "soft_kmeans_annealed": (soft_kmeans_annealed, (rnd(2, 2), X), 0, {}),
    "tsne": (tsne_kl, (rnd(8, 2), tsne_P(X)), 0, {}, {"order2": True}),
    "power_iteration": (power_iteration_top, (rnd(3, 3) + np.eye(3),), 0, {}),
    "pca_deflation": (pca_deflation, (rnd(8, 3) * np.array([3.0, 1.5, 0.5]),), 0, {}),
    "em_step": (gmm_em_step_objective, (np.array([[0.8, 0.9], [-0.9, -0.4]]), X), 0, {},
                {"order2": True}),
    "fisher": (fisher_ratio, (rnd(2), X, LAB), 0, {}),
    "kernel_ridge_loo": (kernel_ridge_loo, (np.log(np.array([0.8, 0.1])), X, X[:, 0] * 2), 0,
                         {}, {"f32": False}),
    "nadaraya_watson": (nadaraya_watson, (0.2, X, X[:, 1], X[:3] + 0.1, X[:3, 1]), 0, {}),
    "gaussian_nb": (gaussian_nb, ({"mu": rnd(2, 2), "log_sd": rnd(2, 2), "logits": rnd(2)}, X,
                                  LAB), 0, {}),
    "softmax_onehot": (softmax_onehot, (rnd(2, 2), X, LAB), 0, {}),
    "nca": (nca, (np.eye(2) + rnd(2, 2, scale=0.1), X, LAB), 0, {}),
    "lmnn": (lmnn_hinge, (np.eye(2) + rnd(2, 2, scale=0.1), X, LAB), 0, {}),
    "contrastive": (contrastive, (rnd(2, 2), X[:4], X[4:], np.array([1.0, 0.0, 1.0, 0.0])), 0,
                    {}),
    "spectral": (spectral_relaxation, (rnd(8, 2), ADJ), 0, {}, {"order2": True}),
    "ppca": (ppca_marginal, ((rnd(3, 1), -1.0), rnd(8, 3)), 0, {}),
    "mds": (mds_stress, (rnd(8, 2), D_MDS), 0, {}),
    "cca": (cca_corr, (rnd(2), rnd(2), X, X[:, ::-1] + rnd(8, 2, scale=0.2)), (0, 1), {}),
    "label_propagation": (label_propagation, (rnd(8, 2), ADJ, LAB,
                                              np.array([True, False, False, True, True, False,
                                                        False, False])), 0, {}),
    "soft_stump": (soft_stump, ((0.1, rnd(2), 3.0), X, LAB.astype(float)), 0, {}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus10_classical(name):
    run_table(CASES, name)
