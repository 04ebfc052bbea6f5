"""corpus12, part 1: optimisers and training loops written by users inside a
differentiated function: Adam and RMSProp steps unrolled inside a meta-loss
(the gradient of the final loss with respect to the initial weights or the
learning rate), momentum SGD with a cosine learning-rate schedule, MAML with
the inner gradient written out by hand (and with ``s2sgrad.grad`` inside the
function), an implicit layer by a fixed-point ``while`` loop with a
tolerance, a deep equilibrium style iteration of fixed length, matrix
factorisation with L2 penalties and observed-entry masks, an alternating
least-squares objective with one factor solved in closed form, word2vec
skip-gram with negative sampling by index arrays, an embedding lookup with
repeated indices accumulated by ``np.add.at``, a learning-rate warmup
written with ``min``/``max`` of Python floats.  Checked by
``tests/corpus10_harness.check``.
"""
from typing import Dict, Tuple

import numpy as np
import pytest

import s2sgrad
from tests.corpus10_harness import run_table

R = np.random.default_rng(12010)


def rnd(*shape, scale=0.5):
    return R.normal(size=shape) * scale


X = rnd(8, 3, scale=1.0)
Y = X @ np.array([0.5, -1.0, 0.25]) + 0.1 * rnd(8)
YB = (Y > 0).astype(float)


# ---------------------------------------------------------------- unrolled optimisers

def mse(w: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    r = X @ w - y
    return 0.5 * np.mean(r ** 2)


def mse_grad(w: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    return X.T @ (X @ w - y) / X.shape[0]


def adam_meta(w0: np.ndarray, X: np.ndarray, y: np.ndarray, steps: int = 4,
              lr: float = 0.1, b1: float = 0.9, b2: float = 0.999,
              eps: float = 1e-8) -> float:
    """Loss after `steps` Adam steps, differentiated w.r.t. the start point."""
    w = w0
    m = np.zeros_like(w0)
    v = np.zeros_like(w0)
    for t in range(1, steps + 1):
        g = mse_grad(w, X, y)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mhat = m / (1 - b1 ** t)
        vhat = v / (1 - b2 ** t)
        w = w - lr * mhat / (np.sqrt(vhat) + eps)
    return mse(w, X, y)


def rmsprop_lr(log_lr: float, w0: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    """Hyper-gradient: the final loss w.r.t. the log learning rate."""
    lr = np.exp(log_lr)
    w = w0.copy()
    s = np.ones_like(w0) * 0.1
    for _ in range(5):
        g = mse_grad(w, X, y)
        s = 0.9 * s + 0.1 * g ** 2
        w -= lr * g / np.sqrt(s + 1e-6)
    return mse(w, X, y)


def momentum_cosine(w0, X, y, n_steps=6, lr_max=0.3):
    w, vel = w0, 0.0 * w0
    for k in range(n_steps):
        lr = 0.5 * lr_max * (1 + np.cos(np.pi * k / n_steps))
        vel = 0.9 * vel - lr * mse_grad(w, X, y)
        w = w + vel
    return mse(w, X, y)


def warmup_sgd(w0, X, y, warmup=2, total=5, base_lr=0.2):
    w = w0
    for step in range(total):
        scale = min(1.0, (step + 1) / warmup)
        scale = max(scale * (1 - step / total), 0.05)
        w = w - base_lr * scale * mse_grad(w, X, y)
    return mse(w, X, y)


def logistic_unrolled_newton(w0, X, y):
    """Two Newton steps of logistic regression, then the log-loss."""
    w = w0
    for _ in range(2):
        p = 1 / (1 + np.exp(-(X @ w)))
        g = X.T @ (p - y) + 0.1 * w
        H = (X * (p * (1 - p))[:, None]).T @ X + 0.1 * np.eye(len(w))
        w = w - np.linalg.solve(H, g)
    z = X @ w
    return np.sum(np.logaddexp(0, z) - y * z)


# ---------------------------------------------------------------- meta-learning

def maml_by_hand(theta, tasks, inner_lr=0.05):
    """One inner step per task, gradient written out; outer loss on the query set."""
    total = 0.0
    for Xs, ys, Xq, yq in tasks:
        g = Xs.T @ (Xs @ theta - ys) * (2.0 / len(ys))
        phi = theta - inner_lr * g
        total = total + np.mean((Xq @ phi - yq) ** 2)
    return total / len(tasks)


def maml_nested_grad(theta, Xs, ys, Xq, yq):
    inner = s2sgrad.grad(lambda t: np.mean(np.tanh(Xs @ t) - ys) ** 2)
    phi = theta - 0.1 * inner(theta)
    return np.mean((np.tanh(Xq @ phi) - yq) ** 2)


def reptile_like(theta, Xs, ys, k=3, lr=0.1):
    phi = theta
    for _ in range(k):
        phi = phi - lr * 2 * Xs.T @ (Xs @ phi - ys) / len(ys)
    return np.sum((theta - phi) ** 2) + mse(phi, Xs, ys)


TASKS = [(rnd(4, 3, scale=1.0), rnd(4), rnd(3, 3, scale=1.0), rnd(3)) for _ in range(3)]


# ---------------------------------------------------------------- implicit layers

def fixed_point_layer(W, x, tol=1e-10, max_iter=200):
    """z = tanh(W z + x) iterated to a tolerance (W small: a contraction)."""
    z = np.zeros_like(x)
    it = 0
    while True:
        z_new = np.tanh(W @ z + x)
        it += 1
        if np.max(np.abs(z_new - z)) < tol or it >= max_iter:
            z = z_new
            break
        z = z_new
    return np.sum(z ** 2)


def deq_fixed_steps(params, X):
    W, U, b = params["W"], params["U"], params["b"]
    z = np.zeros((X.shape[0], W.shape[0]))
    for _ in range(12):
        z = 0.5 * z + 0.5 * np.tanh(z @ W + X @ U + b)
    return np.mean(z ** 2)


def newton_sqrt_layer(a, iters=6):
    """A user-written square root by Newton's method, differentiated through."""
    x = np.ones_like(a)
    for _ in range(iters):
        x = 0.5 * (x + a / x)
    return np.sum(x * np.log(a))


# ---------------------------------------------------------------- factorisations

def mf_loss(U, V, R_obs, mask, lam=0.1):
    pred = U @ V.T
    err = np.where(mask, R_obs - pred, 0.0)
    return 0.5 * np.sum(err ** 2) + 0.5 * lam * (np.sum(U ** 2) + np.sum(V ** 2))


def mf_biased(params: Dict[str, np.ndarray], rows, cols, vals, lam=0.05):
    P, Q, bu, bi, mu = params["P"], params["Q"], params["bu"], params["bi"], params["mu"]
    pred = mu + bu[rows] + bi[cols] + np.sum(P[rows] * Q[cols], axis=1)
    return np.mean((vals - pred) ** 2) + lam * (np.sum(P ** 2) + np.sum(Q ** 2))


def als_objective(U, R_full, lam=0.5):
    """V solved in closed form given U (ridge), the objective in U only."""
    k = U.shape[1]
    V = np.linalg.solve(U.T @ U + lam * np.eye(k), U.T @ R_full).T
    return np.sum((R_full - U @ V.T) ** 2) + lam * np.sum(V ** 2)


def nmf_kl(W, H, V):
    """KL-divergence NMF objective with softplus-parametrised factors."""
    Wp = np.log1p(np.exp(W))
    Hp = np.log1p(np.exp(H))
    WH = Wp @ Hp + 1e-9
    return np.sum(V * np.log(V / WH) - V + WH)


# ---------------------------------------------------------------- word2vec

def sgns(params: Tuple[np.ndarray, np.ndarray], centers, contexts, negatives):
    W_in, W_out = params
    vc = W_in[centers]                          # (B, d)
    uo = W_out[contexts]                        # (B, d)
    un = W_out[negatives]                       # (B, K, d)
    pos = np.sum(vc * uo, axis=1)
    neg = np.einsum("bkd,bd->bk", un, vc)
    loss = -np.log(1 / (1 + np.exp(-pos))) - np.sum(np.log(1 / (1 + np.exp(neg))), axis=1)
    return loss.mean()


def cbow_add_at(E, W, windows, targets):
    B, C = windows.shape
    h = np.zeros((B, E.shape[1]))
    for j in range(C):
        h = h + E[windows[:, j]]
    h = h / C
    logits = h @ W
    logits = logits - logits.max(axis=1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return -logp[np.arange(B), targets].mean()


def embedding_scatter(E, idx, g):
    """A user accumulating a bag of embeddings with np.add.at into a buffer."""
    acc = np.zeros((3, E.shape[1]))
    np.add.at(acc, idx % 3, E[idx])
    return np.sum(acc * g) + 0.1 * np.sum(acc ** 2)


M_OBS = R.random((5, 4)) < 0.6
R_OBS = rnd(5, 4, scale=1.0)
ROWS = np.array([0, 1, 1, 3, 4, 2, 0])
COLS = np.array([1, 0, 3, 2, 2, 1, 1])
VALS = rnd(7, scale=1.0)

CASES = {
    "adam_meta": (adam_meta, (rnd(3), X, Y), 0, {}),
    "adam_meta_kw": (adam_meta, (rnd(3), X, Y), 0, {"steps": 2, "lr": 0.05}),
    "rmsprop_lr": (rmsprop_lr, (np.log(0.05), rnd(3), X, Y), 0, {}),
    "rmsprop_lr_w0": (rmsprop_lr, (np.log(0.05), rnd(3), X, Y), (0, 1), {}),
    "momentum_cosine": (momentum_cosine, (rnd(3), X, Y), 0, {}, {"order2": True}),
    "warmup_sgd": (warmup_sgd, (rnd(3), X, Y), 0, {}),
    "newton_logistic": (logistic_unrolled_newton, (rnd(3, scale=0.1), X, YB), 0, {}),
    "maml_by_hand": (maml_by_hand, (rnd(3), TASKS), 0, {}, {"order2": True}),
    "maml_nested_grad": (maml_nested_grad, (rnd(3), X[:4], Y[:4], X[4:], Y[4:]), 0, {},
                         {"modes": ("rev",)}),
    "reptile_like": (reptile_like, (rnd(3), X, Y), 0, {}),
    "fixed_point": (fixed_point_layer, (rnd(3, 3, scale=0.2), rnd(3, scale=1.0)), (0, 1),
                    {}, {"f32": False}),
    "deq_fixed_steps": (deq_fixed_steps, ({"W": rnd(3, 3, scale=0.3), "U": rnd(2, 3),
                                           "b": rnd(3)}, rnd(4, 2, scale=1.0)), 0, {}),
    "newton_sqrt": (newton_sqrt_layer, (1.0 + R.random(4),), 0, {}),
    "mf_loss": (mf_loss, (rnd(5, 2), rnd(4, 2), R_OBS, M_OBS), (0, 1), {}),
    "mf_biased": (mf_biased, ({"P": rnd(5, 2), "Q": rnd(4, 2), "bu": rnd(5), "bi": rnd(4),
                               "mu": 0.1}, ROWS, COLS, VALS), 0, {}),
    "als_objective": (als_objective, (rnd(5, 2), R_OBS), 0, {}),
    "nmf_kl": (nmf_kl, (rnd(4, 2), rnd(2, 3), R.random((4, 3)) + 0.5), (0, 1), {}),
    "sgns": (sgns, ((rnd(6, 3), rnd(6, 3)), np.array([0, 2, 2, 5]), np.array([1, 1, 3, 4]),
                    np.array([[3, 3], [0, 5], [4, 1], [2, 2]])), 0, {}),
    "cbow": (cbow_add_at, (rnd(6, 3), rnd(3, 6), np.array([[0, 1, 1], [2, 5, 4]]),
                           np.array([3, 0])), (0, 1), {}),
    "embedding_scatter": (embedding_scatter, (rnd(5, 2), np.array([0, 4, 4, 2, 1, 3]),
                                              rnd(3, 2)), 0, {}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus12_optim(name):
    run_table(CASES, name)
