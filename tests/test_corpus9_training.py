"""corpus9, part 9: training-time programs -- hypergradients through
unrolled gradient descent (by hand, and by ``grad`` called inside the loop),
a neural ODE with RK4 over an MLP, a seq2seq decoder with attention and
teacher forcing, a graph convolution with degree normalisation, scatter-adds
(``np.add.at`` on a local array, ``np.bincount(weights=)``), a scipy.sparse
design matrix as data, ``p[range(n), y]``, a list default argument,
``out=``/``np.copyto`` writes, ``float()`` of entries, ``np.asarray`` of a
list of scalars, ``einsum(..., optimize=True)``.

Part 9b: a legacy ``RandomState`` and ``np.random.seed`` inside the loss,
recursion over a pytree with ``isinstance``, a copied argument written into,
``functools.reduce(np.dot, ...)``, ``multi_dot``, reductions with ``where=``,
tuple axes, NaN-ignoring reductions, ``tile``/``repeat``/``broadcast_to``,
triangles and diagonals, batched solves.  Part 9c: a mixture of experts,
capsule routing iterations, soft k-means, the t-SNE objective (with
``np.fill_diagonal`` on a computed array), MADE masks, HMC with ``grad``
inside the leapfrog differentiated for the step size, an Ising energy with
``np.roll``.

Checked by ``tests/corpus9_harness.run_case``.
"""
import functools

import numpy as np
import pytest
import scipy.sparse
import scipy.special as sps

from s2sgrad import grad
from tests.corpus9_harness import run_case

R = np.random.default_rng(8)


def rnd(*s, scale=0.5):
    return R.normal(size=s) * scale


X = rnd(6, 3, scale=1.0)
Y = rnd(6, scale=1.0)
LAB = np.array([0, 2, 1, 1, 0, 2])


def hypergrad_sgd(log_lr, w0, X, y, steps=8):
    lr = np.exp(log_lr)
    w = w0
    for _ in range(steps):
        g = 2 * X.T @ (X @ w - y) / len(y)
        w = w - lr * g
    return np.mean((X @ w - y) ** 2)


def hypergrad_inner_grad(log_lr, w0, X, y, steps=4):
    def inner(w):
        return np.mean((X @ w - y) ** 2)
    lr = np.exp(log_lr)
    w = w0
    for _ in range(steps):
        w = w - lr * grad(inner)(w)
    return inner(w)


def neural_ode(params, x0, T=1.0, n=8):
    W1, b1, W2 = params["W1"], params["b1"], params["W2"]
    def f(x):
        return np.tanh(x @ W1 + b1) @ W2
    dt = T / n
    x = x0
    for _ in range(n):
        k1 = f(x)
        k2 = f(x + 0.5 * dt * k1)
        k3 = f(x + 0.5 * dt * k2)
        k4 = f(x + dt * k3)
        x = x + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return np.sum(x ** 2)


def seq2seq_teacher(params, src, tgt):
    We, Wd, Wo = params
    h = np.zeros(We.shape[1])
    enc = []
    for x in src:
        h = np.tanh(x @ We + h)
        enc.append(h)
    H = np.stack(enc)
    s = h
    loss = 0.0
    for t in range(len(tgt) - 1):
        a = np.exp(H @ s - np.max(H @ s))
        a = a / a.sum()
        ctx = a @ H
        s = np.tanh(np.concatenate([tgt[t], ctx]) @ Wd)
        logits = s @ Wo
        loss = loss - (logits[1] - np.log(np.sum(np.exp(logits))))
    return loss


def gcn(W, A, X, y):
    deg = A.sum(axis=1)
    Dm = np.diag(1.0 / np.sqrt(deg))
    An = Dm @ A @ Dm
    h = np.maximum(An @ X @ W, 0)
    return np.sum((h.sum(axis=1) - y) ** 2)


def add_at_local(w, idx, X):
    out = np.zeros(3)
    np.add.at(out, idx, X @ w)
    return np.sum(out ** 2)


def bincount_weights(w, idx, X):
    s = np.bincount(idx, weights=X @ w, minlength=3)
    return np.sum(s ** 2)


def sparse_logistic(w, Xs, y):
    z = Xs @ w
    return np.sum(np.logaddexp(0.0, -y * z))


def range_index_ce(W, X, y):
    p = sps.softmax(X @ W, axis=1)
    return -np.sum(np.log(p[range(len(y)), y]))


def list_data(w, y=[0.1, 0.2, -0.3]):
    return np.sum((np.array(y) - w) ** 2)


def out_param(x):
    a = x * 2.0
    np.multiply(a, x, out=a)
    b = np.empty_like(x)
    np.copyto(b, np.sin(x))
    return np.sum(a + b)


def float_cast(w):
    s = float(w[0]) ** 2 + float(np.sum(w))
    return s


def asarray_scalars(w):
    v = np.asarray([w[0] ** 2, w[1] * 3.0, np.sin(w[2])])
    return np.sum(v * np.arange(3))


def einsum_optimize(A, B, C):
    return np.sum(np.einsum("ij,jk,kl->il", A, B, C, optimize=True) ** 2)


Xs = scipy.sparse.csr_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
A = (R.uniform(size=(5, 5)) > 0.5).astype(float)
A = np.maximum(A, A.T) + np.eye(5)
CASES = [
    (hypergrad_sgd, (np.array(-1.0), rnd(3), X, Y), (0, 1), {}),
    (hypergrad_inner_grad, (np.array(-1.0), rnd(3), X, Y), (0, 1), {}),
    (neural_ode, ({"W1": rnd(2, 4), "b1": rnd(4), "W2": rnd(4, 2)}, rnd(2)), (0, 1), {}),
    (seq2seq_teacher, ((rnd(2, 3), rnd(5, 3), rnd(3, 4)), rnd(4, 2), rnd(3, 2)), 0, {}),
    (gcn, (rnd(3, 2), A, rnd(5, 3), rnd(5)), 0, {}),
    (add_at_local, (rnd(3), LAB, X), 0, {}),
    (bincount_weights, (rnd(3), LAB, X), 0, {}),
    (sparse_logistic, (rnd(3), Xs, np.sign(Y)), 0, {}),
    (range_index_ce, (rnd(3, 3), X, LAB), 0, {}),
    (list_data, (rnd(3),), 0, {}),
    (out_param, (rnd(4),), 0, {}),
    (float_cast, (rnd(3),), 0, {}),
    (asarray_scalars, (rnd(3),), 0, {}),
    (einsum_optimize, (rnd(2, 3), rnd(3, 4), rnd(4, 2)), (0, 1, 2), {}),
]


# ---------------------------------------------------------------- part 9b

def legacy_randomstate(params, n=4):
    mu, log_sd = params
    rs = np.random.RandomState(0)
    eps = rs.randn(n, *mu.shape)
    z = mu + np.exp(log_sd) * eps
    return np.mean(np.sum(z ** 2, axis=1)) - np.sum(log_sd)


def seeded_global(mu):
    np.random.seed(1)
    eps = np.random.normal(size=mu.shape)
    return np.sum((mu + eps) ** 2)


def tree_l2(tree):
    if isinstance(tree, dict):
        return sum(tree_l2(v) for v in tree.values())
    if isinstance(tree, (list, tuple)):
        return sum(tree_l2(v) for v in tree)
    return np.sum(tree ** 2)


def freeze_first(w, X, y):
    w = w.copy()
    w[0] = 0.0
    return np.sum((X @ w - y) ** 2)


def newaxis_forms(x):
    return np.sum(x[..., None] * x[None, :] + x[:, np.newaxis] ** 2)


def reduce_dot(mats):
    return np.sum(functools.reduce(np.dot, mats))


def multi_dot(A, B, C):
    return np.sum(np.linalg.multi_dot([A, B, C]) ** 2)


def sum_where(x, mask):
    return (np.sum(x ** 2, where=mask) + np.mean(x, where=mask)
            + np.max(x, where=mask, initial=-10.0))


def tuple_axes(x):
    return np.sum(np.mean(x ** 2, axis=(0, 1))) + np.sum(np.std(x, axis=(1, 2)))


def nan_reductions(x):
    y = np.where(x > 0.8, np.nan, x)
    return np.nansum(y ** 2) + np.nanmean(y) + np.nanmax(y)


def gen_sum(w, X):
    return np.sum(sum(w[i] * X[:, i] for i in range(3)) ** 2)


def tile_repeat(x):
    return (np.sum(np.tile(x, (2, 1)) * np.repeat(x, 2)[None, : len(x) * 2].reshape(2, -1))
            + np.sum(np.broadcast_to(x, (3, len(x))) ** 2))


def tri_diag(A):
    return (np.sum(np.triu(A, 1) ** 2) + np.sum(np.tril(A)) + np.sum(np.diagonal(A, offset=1))
            + np.trace(A, offset=-1))


def batch_solve(A, b):
    M = A @ np.swapaxes(A, -1, -2) + np.eye(3)
    return np.sum(np.linalg.solve(M, b[..., None]) ** 2)


def atleast(x):
    return np.sum(np.atleast_2d(x) @ np.atleast_2d(x).T)


def np_float64_conv(w):
    return np.float64(w[0]) * np.sum(w)


M3 = np.array([True, False, True, True])
CASES += [
    (legacy_randomstate, ((rnd(3), rnd(3)),), 0, {}),
    (seeded_global, (rnd(3),), 0, {}),
    (tree_l2, ({"a": rnd(3), "b": [rnd(2), (rnd(2), rnd(1))]},), 0, {}),
    (freeze_first, (rnd(3), X, Y), 0, {}),
    (newaxis_forms, (rnd(3),), 0, {}),
    (reduce_dot, ([rnd(2, 3), rnd(3, 3), rnd(3, 2)],), 0, {}),
    (multi_dot, (rnd(2, 3), rnd(3, 4), rnd(4, 2)), (0, 1, 2), {}),
    (sum_where, (rnd(4), M3), 0, {}),
    (tuple_axes, (rnd(2, 3, 4),), 0, {}),
    (nan_reductions, (rnd(5, scale=1.0),), 0, {}),
    (gen_sum, (rnd(3), X), 0, {}),
    (tile_repeat, (rnd(3),), 0, {}),
    (tri_diag, (rnd(4, 4),), 0, {}),
    (batch_solve, (rnd(2, 3, 3), rnd(2, 3)), (0, 1), {}),
    (atleast, (rnd(3),), 0, {}),
    (np_float64_conv, (rnd(3),), 0, {}),
]


# ---------------------------------------------------------------- part 9c

def mixture_of_experts(params, X, y):
    gate = sps.softmax(X @ params["Wg"], axis=1)              # (N, E)
    experts = np.stack([np.tanh(X @ W) for W in params["experts"]], axis=1)    # (N, E)
    pred = np.einsum("ne,ne->n", gate, experts)
    return np.mean((pred - y) ** 2)


def capsule_routing(W, u, n_iter=3):
    u_hat = np.einsum("ij,nj->ni", W, u)    # (n, d)
    b = np.zeros(u.shape[0])
    for _ in range(n_iter):
        c = np.exp(b - b.max()) / np.sum(np.exp(b - b.max()))
        s = c @ u_hat
        v = s * np.linalg.norm(s) / (1 + np.sum(s ** 2))
        b = b + u_hat @ v
    return np.sum(v ** 2)


def soft_kmeans(C, X, beta=2.0):
    d = np.sum((X[:, None, :] - C[None, :, :]) ** 2, axis=2)
    r = sps.softmax(-beta * d, axis=1)
    return np.sum(r * d)


def tsne_kl(Yemb, P):
    d = np.sum((Yemb[:, None] - Yemb[None]) ** 2, axis=2)
    Q = 1.0 / (1.0 + d)
    np.fill_diagonal(Q, 0.0)
    Q = Q / np.sum(Q)
    return np.sum(P * np.log((P + 1e-12) / (Q + 1e-12)))


def made_layer(params, x):
    W, V = params
    D = x.shape[1]
    M1 = np.tril(np.ones((D, D)), -1)
    h = np.tanh(x @ (W * M1))
    mu = h @ (V * np.tril(np.ones((D, D)), -1).T.T)
    return np.sum((x - mu) ** 2)


def hmc_hyper(log_eps, q0, p0, L=4):
    eps = np.exp(log_eps)
    def logp(q):
        return -0.5 * np.sum(q ** 2) - 0.1 * np.sum(q ** 4)
    dlogp = grad(logp)
    q, p = q0, p0
    p = p + 0.5 * eps * dlogp(q)
    for _ in range(L):
        q = q + eps * p
        p = p + eps * dlogp(q)
    p = p - 0.5 * eps * dlogp(q)
    return logp(q) - 0.5 * np.sum(p ** 2)


def ising_energy(s, J=1.0):
    t = np.tanh(s)
    return -J * np.sum(t * np.roll(t, 1, axis=0) + t * np.roll(t, 1, axis=1))


P_TSNE = np.abs(rnd(5, 5))
P_TSNE = P_TSNE + P_TSNE.T
np.fill_diagonal(P_TSNE, 0)
P_TSNE = P_TSNE / P_TSNE.sum()
CASES += [
    (mixture_of_experts, ({"Wg": rnd(3, 2), "experts": [rnd(3), rnd(3)]}, X, Y), 0, {}),
    (capsule_routing, (rnd(3, 3), rnd(4, 3)), (0, 1), {}),
    (soft_kmeans, (rnd(2, 3), X), 0, {}),
    (tsne_kl, (rnd(5, 2), P_TSNE), 0, {}),
    (made_layer, ((rnd(3, 3), rnd(3, 3)), rnd(4, 3)), 0, {}),
    (hmc_hyper, (np.array(-1.5), rnd(2), rnd(2)), (0, 1, 2), {}),
    (ising_energy, (rnd(3, 4),), 0, {}),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0].__name__ for c in CASES])
def test_corpus9_training(case):
    f, args, wrt, kwargs = case
    run_case(f, args, wrt, kwargs)
