"""corpus13, part 1: scikit-learn-style estimators written in plain NumPy,
the way people port them: logistic regression with ``class_weight`` and
``sample_weight`` (balanced weights from ``np.bincount``), linear SVMs with
hinge / squared hinge and L1 / L2 penalties, Ridge in closed form through
``np.linalg.solve``, ElasticNet/Lasso by a few proximal-gradient steps whose
soft-threshold is written in place (``w[mask] = 0``, ``np.sign(w) * ...``),
a Gaussian-process marginal likelihood with an ARD kernel and a Cholesky
solve, probabilistic PCA's log-likelihood, LDA/QDA class log-likelihoods,
knowledge distillation with a temperature, InfoNCE and a triplet loss with
hard negatives picked by ``argmax`` masks, a factorisation machine and a BPR
loss on index arrays.  Checked by ``tests/corpus10_harness.check``.
"""
import numpy as np
import pytest
from scipy.linalg import cho_solve, cholesky

from tests.corpus10_harness import run_table

R = np.random.default_rng(13010)


def rnd(*shape, scale=0.5):
    return R.normal(size=shape) * scale


X = rnd(12, 4, scale=1.0)
YB = (X @ np.array([1.0, -0.5, 0.3, 0.0]) + 0.3 * R.normal(size=12) > 0).astype(int)
YPM = 2.0 * YB - 1.0
YC = R.integers(0, 3, size=12)
SW = R.random(12) + 0.5


# ---------------------------------------------------------------- logistic

def logreg_weighted(w, b, X, y, sample_weight=None, class_weight="balanced", C=1.0):
    n = X.shape[0]
    if class_weight == "balanced":
        counts = np.bincount(y, minlength=2)
        cw = n / (2 * counts)
    elif isinstance(class_weight, dict):
        cw = np.array([class_weight[0], class_weight[1]])
    else:
        cw = np.ones(2)
    sw = cw[y]
    if sample_weight is not None:
        sw = sw * sample_weight
    z = X @ w + b
    # log(1 + exp(-y z)) with y in {-1, +1}, stable
    yz = (2 * y - 1) * z
    loss = np.logaddexp(0.0, -yz)
    return np.dot(sw, loss) + 0.5 / C * w.dot(w)


def softmax_weighted(W, X, y, sample_weight):
    logits = X @ W
    logits = logits - logits.max(axis=1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    nll = -logp[np.arange(len(y)), y]
    return np.sum(sample_weight * nll) / np.sum(sample_weight) + 1e-3 * np.sum(W * W)


# ---------------------------------------------------------------- SVM

def svm_loss(w, X, y, loss="hinge", penalty="l2", C=1.0):
    margins = 1.0 - y * (X @ w[:-1] + w[-1])
    if loss == "hinge":
        data = np.maximum(0.0, margins).sum()
    elif loss == "squared_hinge":
        data = np.sum(np.maximum(0.0, margins) ** 2)
    else:
        raise ValueError(loss)
    coef = w[:-1]
    reg = np.abs(coef).sum() if penalty == "l1" else 0.5 * coef @ coef
    return C * data + reg


def crammer_singer(W, X, y):
    scores = X @ W
    n = len(y)
    correct = scores[np.arange(n), y][:, None]
    margins = np.maximum(0, scores - correct + 1.0)
    margins[np.arange(n), y] = 0.0
    return margins.max(axis=1).mean() + 0.01 * (W ** 2).sum()


# ---------------------------------------------------------------- linear models

def ridge_closed_form(log_alpha, X, y):
    alpha = np.exp(log_alpha)
    d = X.shape[1]
    A = X.T @ X + alpha * np.eye(d)
    w = np.linalg.solve(A, X.T @ y)
    resid = y - X @ w
    # generalized cross-validation score
    H = X @ np.linalg.solve(A, X.T)
    return np.mean((resid / (1.0 - np.diag(H))) ** 2)


def soft_threshold(v, t):
    out = v.copy()
    small = np.abs(out) <= t
    out[small] = 0.0
    out[~small] -= t * np.sign(out[~small])
    return out


def elastic_net_ista(w0, X, y, alpha=0.05, l1_ratio=0.5, steps=4):
    n = X.shape[0]
    L = np.linalg.norm(X, 2) ** 2 / n + alpha * (1 - l1_ratio)
    w = w0.copy()
    for _ in range(steps):
        grad = X.T @ (X @ w - y) / n + alpha * (1 - l1_ratio) * w
        w = soft_threshold(w - grad / L, alpha * l1_ratio / L)
    r = X @ w - y
    return 0.5 * np.mean(r ** 2) + alpha * (l1_ratio * np.sum(np.abs(w))
                                            + 0.5 * (1 - l1_ratio) * np.sum(w ** 2))


def lasso_inplace_prox(w0, X, y, lam=0.05, lr=0.1, steps=3):
    w = w0.copy()
    for k in range(steps):
        w -= lr * X.T @ (X @ w - y) / len(y)
        np.clip(w, -5, 5, out=w)
        shrink = np.maximum(np.abs(w) - lr * lam, 0.0)
        w[:] = np.sign(w) * shrink
    return np.sum((X @ w - y) ** 2) + lam * np.abs(w).sum()


# ---------------------------------------------------------------- Gaussian processes

def ard_kernel(X1, X2, log_ls, log_sf):
    ls = np.exp(log_ls)
    A = X1 / ls
    B = X2 / ls
    sq = (A ** 2).sum(-1)[:, None] + (B ** 2).sum(-1)[None, :] - 2 * A @ B.T
    return np.exp(2 * log_sf) * np.exp(-0.5 * np.maximum(sq, 0.0))


def gp_nlml(params, X, y):
    log_ls, log_sf, log_sn = params["log_ls"], params["log_sf"], params["log_sn"]
    n = len(y)
    K = ard_kernel(X, X, log_ls, log_sf) + (np.exp(2 * log_sn) + 1e-8) * np.eye(n)
    L = np.linalg.cholesky(K)
    alpha = np.linalg.solve(L.T, np.linalg.solve(L, y))
    return 0.5 * y @ alpha + np.sum(np.log(np.diag(L))) + 0.5 * n * np.log(2 * np.pi)


def gp_nlml_scipy(theta, X, y):
    d = X.shape[1]
    log_ls, log_sf, log_sn = theta[:d], theta[d], theta[d + 1]
    K = ard_kernel(X, X, log_ls, log_sf)
    K[np.diag_indices_from(K)] += np.exp(2 * log_sn)
    c = cholesky(K, lower=True)
    a = cho_solve((c, True), y)
    return 0.5 * np.dot(y, a) + np.log(np.diagonal(c)).sum()


def gp_predict_loss(x_star, params, X, y):
    K = ard_kernel(X, X, params["log_ls"], params["log_sf"]) + 0.1 * np.eye(len(y))
    ks = ard_kernel(x_star, X, params["log_ls"], params["log_sf"])
    mean = ks @ np.linalg.solve(K, y)
    return np.sum(mean ** 2)


# ---------------------------------------------------------------- PCA / discriminant analysis

def ppca_nll(W, log_s2, X):
    n, d = X.shape
    Xc = X - X.mean(axis=0)
    S = Xc.T @ Xc / n
    C = W @ W.T + np.exp(log_s2) * np.eye(d)
    sign, logdet = np.linalg.slogdet(C)
    return 0.5 * n * (d * np.log(2 * np.pi) + logdet + np.trace(np.linalg.solve(C, S)))


def lda_loglik(means, X, y, log_var=0.0):
    # shared isotropic covariance; class priors from counts
    priors = np.bincount(y, minlength=means.shape[0]) / len(y)
    d2 = ((X[:, None, :] - means[None, :, :]) ** 2).sum(-1)
    logits = -0.5 * d2 / np.exp(log_var) + np.log(priors)
    m = logits.max(1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(logits - m).sum(1))
    return -np.mean(logits[np.arange(len(y)), y] - lse)


def qda_loglik(chol_params, means, X, y):
    k, d = means.shape
    total = 0.0
    for c in range(k):
        Lraw = chol_params[c]
        L = np.tril(Lraw, -1) + np.diag(np.exp(np.diag(Lraw)))
        Xc = X[y == c] - means[c]
        Z = np.linalg.solve(L, Xc.T)
        total += -0.5 * np.sum(Z ** 2) - Xc.shape[0] * np.sum(np.log(np.diag(L)))
    return -total


# ---------------------------------------------------------------- distillation, contrastive

def log_softmax(z, axis=-1):
    z = z - np.max(z, axis=axis, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def distill(W, X, teacher_logits, y, T=3.0, alpha=0.7):
    student = X @ W
    p_t = np.exp(log_softmax(teacher_logits / T))
    kl = np.sum(p_t * (np.log(p_t) - log_softmax(student / T)), axis=1).mean()
    ce = -np.mean(log_softmax(student)[np.arange(len(y)), y])
    return alpha * T * T * kl + (1 - alpha) * ce


def info_nce(W, xa, xb, tau=0.2):
    za = xa @ W
    zb = xb @ W
    za = za / np.linalg.norm(za, axis=1, keepdims=True)
    zb = zb / np.linalg.norm(zb, axis=1, keepdims=True)
    sim = za @ zb.T / tau
    labels = np.arange(sim.shape[0])
    l1 = -log_softmax(sim, axis=1)[labels, labels].mean()
    l2 = -log_softmax(sim, axis=0)[labels, labels].mean()
    return (l1 + l2) / 2


def triplet_hard(W, X, labels, margin=0.5):
    E = X @ W
    sq = np.sum(E ** 2, axis=1)
    D = sq[:, None] + sq[None, :] - 2 * E @ E.T
    D = np.sqrt(np.maximum(D, 1e-12))
    same = labels[:, None] == labels[None, :]
    eye = np.eye(len(labels), dtype=bool)
    pos_mask = same & ~eye
    hardest_pos = np.max(np.where(pos_mask, D, 0.0), axis=1)
    big = D.max() + 1.0
    hardest_neg = np.min(np.where(same, big, D), axis=1)
    return np.mean(np.maximum(hardest_pos - hardest_neg + margin, 0.0))


def triplet_argmax(W, X, labels, margin=0.5):
    E = X @ W
    D = ((E[:, None, :] - E[None, :, :]) ** 2).sum(-1)
    same = labels[:, None] == labels[None, :]
    j_pos = np.argmax(np.where(same, D, -np.inf), axis=1)
    j_neg = np.argmin(np.where(same, np.inf, D), axis=1)
    i = np.arange(len(labels))
    return np.maximum(D[i, j_pos] - D[i, j_neg] + margin, 0).sum()


# ---------------------------------------------------------------- recommenders

def fm_predict_loss(params, X, y):
    w0, w, V = params
    linear = w0 + X @ w
    inter = 0.5 * np.sum((X @ V) ** 2 - (X ** 2) @ (V ** 2), axis=1)
    pred = linear + inter
    return np.mean((pred - y) ** 2) + 1e-3 * (np.sum(w ** 2) + np.sum(V ** 2))


def bpr_loss(emb, users, pos, neg, lam=1e-2):
    U, I = emb["user"], emb["item"]
    u = U[users]
    xui = np.sum(u * I[pos], axis=1)
    xuj = np.einsum("nd,nd->n", u, I[neg])
    loss = -np.sum(np.log(1.0 / (1.0 + np.exp(-(xui - xuj)))))
    return loss + lam * (np.sum(u ** 2) + np.sum(I[pos] ** 2) + np.sum(I[neg] ** 2))


def matrix_factorisation(P, Q, rows, cols, vals, lam=0.1):
    pred = np.einsum("ij,ij->i", P[rows], Q[cols])
    err = vals - pred
    return err @ err + lam * (np.linalg.norm(P) ** 2 + np.linalg.norm(Q) ** 2)


USERS = np.array([0, 1, 2, 0, 3, 1])
POS = np.array([1, 2, 0, 3, 4, 4])
NEG = np.array([2, 0, 4, 1, 0, 3])
TEACH = rnd(12, 3, scale=2.0)
XA = rnd(6, 4, scale=1.0)
XB = XA + rnd(6, 4, scale=0.2)
LAB = np.array([0, 0, 1, 1, 2, 2, 0, 1])
XF = (R.random((10, 5)) < 0.4).astype(float) * R.random((10, 5))
YF = R.normal(size=10)
XG = rnd(7, 2, scale=1.0)
YG = np.sin(XG[:, 0]) + 0.1 * XG[:, 1]
GP0 = {"log_ls": np.array([0.1, -0.2]), "log_sf": 0.2, "log_sn": -1.0}

CASES = {
    "logreg_balanced": (logreg_weighted, (rnd(4), 0.1, X, YB), (0, 1), {}, {"order2": True}),
    "logreg_sample_weight": (logreg_weighted, (rnd(4), 0.1, X, YB),
                             (0, 1), {"sample_weight": SW, "class_weight": {0: 1.0, 1: 2.0}}),
    "logreg_no_weights": (logreg_weighted, (rnd(4), 0.1, X, YB), 0,
                          {"class_weight": None, "C": 0.5}),
    "softmax_weighted": (softmax_weighted, (rnd(4, 3), X, YC, SW), 0, {}, {"order2": True}),
    "svm_hinge_l2": (svm_loss, (rnd(5), X, YPM), 0, {}),
    "svm_sqhinge_l1": (svm_loss, (rnd(5), X, YPM), 0, {"loss": "squared_hinge",
                                                        "penalty": "l1"}),
    "crammer_singer": (crammer_singer, (rnd(4, 3), X, YC), 0, {}),
    "ridge_gcv": (ridge_closed_form, (np.log(0.3), X, X @ rnd(4) + rnd(12, scale=0.1)), 0, {}),
    "elastic_net": (elastic_net_ista, (rnd(4), X, X @ np.array([1.0, 0, 0, -0.5])), 0, {}),
    "elastic_net_data": (elastic_net_ista, (rnd(4), X, X @ np.array([1.0, 0, 0, -0.5])), 1, {},
                         {"f32": False}),
    "lasso_inplace": (lasso_inplace_prox, (rnd(4), X, X @ np.array([0.0, 1.0, 0, 0])), 0, {}),
    "gp_nlml": (gp_nlml, (GP0, XG, YG), 0, {}),
    "gp_nlml_scipy": (gp_nlml_scipy, (np.array([0.1, -0.2, 0.2, -1.0]), XG, YG), 0, {},
                      {"order2": True}),
    "gp_predict": (gp_predict_loss, (rnd(3, 2), GP0, XG, YG), (0, 1), {}),
    "ppca": (ppca_nll, (rnd(4, 2), np.log(0.5), X), (0, 1), {}),
    "lda": (lda_loglik, (rnd(3, 4), X, YC), 0, {}, {"order2": True}),
    "qda": (qda_loglik, (rnd(3, 4, 4, scale=0.2), rnd(3, 4), X, YC), (0, 1), {}),
    "distill": (distill, (rnd(4, 3), X, TEACH, YC), 0, {}),
    "info_nce": (info_nce, (rnd(4, 3), XA, XB), 0, {}),
    "triplet_hard": (triplet_hard, (rnd(4, 3), rnd(8, 4, scale=1.0), LAB), 0, {}),
    "triplet_argmax": (triplet_argmax, (rnd(4, 3), rnd(8, 4, scale=1.0), LAB), 0, {}),
    "fm": (fm_predict_loss, ((0.1, rnd(5), rnd(5, 3)), XF, YF), 0, {}),
    "bpr": (bpr_loss, ({"user": rnd(4, 3), "item": rnd(5, 3)}, USERS, POS, NEG), 0, {}),
    "mf": (matrix_factorisation, (rnd(4, 2), rnd(5, 2), USERS, POS, R.normal(size=6)), (0, 1),
           {}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus13_estimators(name):
    run_table(CASES, name)
