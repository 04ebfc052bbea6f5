"""corpus11, part 5: NumPy idioms inside losses that are easy to get subtly
wrong: ``a[idx] += v`` with repeated indices (NumPy applies one update per
position, unlike ``np.add.at``), leaky ReLU by ``x[x < 0] *= 0.1`` on a copy,
masked assignment, ``np.maximum(h, 0, out=h)``, in-place ``.sort()`` for a
trimmed mean, ``np.median``/``np.percentile``/``np.quantile`` losses,
``np.partition`` top-k, ``np.cumprod`` survival curves, ``np.diff``
smoothness penalties, ``np.linalg.slogdet``/``det``/``eigh`` (PCA
reconstruction), ``np.cov``/``np.corrcoef``, a preallocated output filled
row by row, an array grown by ``np.concatenate`` in a loop, ``np.vstack`` of
a list, ``np.interp`` in x, ``np.digitize`` bins, ``np.argmax`` picking a
row, ``itertools.product`` and ``np.ndindex`` loops, ``x.item()``, a
float32 weight against float64 data, an FFT circular convolution, batched
``np.linalg.solve``, recursion with a constant depth, ``np.kron``,
``scipy.linalg.expm``, a ``try``-free guard by ``np.errstate``, unshifted
softmax, ``x ** 0.5`` and ``np.power(x, p)`` with p differentiated.
Checked by ``tests/corpus10_harness.check``.
"""
import itertools

import numpy as np
import pytest
import scipy.linalg as sla

from tests.corpus10_harness import run_table

R = np.random.default_rng(11050)


def rnd(*shape, scale=0.5):
    return R.normal(size=shape) * scale


X = rnd(8, 3, scale=1.0)
Y = rnd(8, scale=1.0)


# ---------------------------------------------------------------- indexing and writes

def repeated_index_iadd(w, idx, v):
    a = np.zeros(4)
    a[idx] += w * v          # repeated idx: one update per position, as NumPy does
    return np.sum(a ** 2) + np.sum(a * np.arange(4))


def leaky_relu_inplace(W, X):
    h = X @ W
    h = h.copy()
    h[h < 0] *= 0.1
    return np.sum(h ** 2)


def masked_assign(w, X, y):
    pred = X @ w
    r = pred - y
    r[np.abs(y) > 1.0] = 0.0
    return np.sum(r ** 2)


def relu_out(W, X):
    h = X @ W
    np.maximum(h, 0, out=h)
    return np.sum(h ** 3)


def fill_rows(W, X):
    out = np.empty((X.shape[0], W.shape[1]))
    for i in range(X.shape[0]):
        out[i] = np.tanh(X[i] @ W)
    return np.sum(out ** 2)


def grow_concatenate(w, xs):
    out = np.zeros((0,))
    for x in xs:
        out = np.concatenate([out, [np.sum(w * x)]])
    return np.sum(np.sin(out))


def vstack_list(W, X):
    rows = []
    for x in X:
        rows.append(np.tanh(W @ x))
    M = np.vstack(rows)
    return np.sum(M ** 2) + np.sum(M[:, 0])


# ---------------------------------------------------------------- order statistics

def trimmed_mean_loss(w, X, y, k=2):
    r = (X @ w - y) ** 2
    r = r.copy()
    r.sort()
    return np.mean(r[:-k])


def median_loss(w, X, y):
    return np.median(np.abs(X @ w - y))


def quantile_losses(w, X, y):
    r = X @ w - y
    return np.percentile(r, 75) - np.quantile(r, 0.25) + np.quantile(r ** 2, [0.1, 0.9]).sum()


def topk_partition(w, X, k=3):
    s = X @ w
    top = np.partition(s, -k)[-k:]
    return np.sum(top ** 2)


def argmax_row(W, X):
    scores = X @ W
    best = np.argmax(scores.sum(axis=1))
    return np.sum(scores[best] ** 2)


def digitize_bins(w, x, edges=np.array([-1.0, 0.0, 1.0])):
    bins = np.digitize(x, edges)
    return np.sum(w[bins] * x)


# ---------------------------------------------------------------- curves, smoothness

def survival_cumprod(logit_h, events):
    h = 1 / (1 + np.exp(-logit_h))
    S = np.cumprod(1 - h)
    S_prev = np.concatenate([[1.0], S[:-1]])
    lik = np.where(events == 1, h * S_prev, S)
    return -np.sum(np.log(lik))


def smoothness(theta, y, lam=2.0):
    return np.sum((theta - y) ** 2) + lam * np.sum(np.diff(theta, n=2) ** 2)


def interp_loss(x, xp, fp):
    return np.sum(np.interp(x, xp, fp) ** 2)


# ---------------------------------------------------------------- linear algebra

def gaussian_slogdet(L_flat, X):
    d = X.shape[1]
    L = np.zeros((d, d))
    L[np.tril_indices(d)] = L_flat
    S = L @ L.T + 0.1 * np.eye(d)
    sign, logdet = np.linalg.slogdet(S)
    Sinv = np.linalg.inv(S)
    return 0.5 * len(X) * logdet + 0.5 * np.einsum("ni,ij,nj->", X, Sinv, X)


def det_small(A):
    return np.linalg.det(A) ** 2 + np.linalg.det(A @ A.T + np.eye(2))


def pca_reconstruction(X, k=2):
    Xc = X - X.mean(axis=0)
    C = Xc.T @ Xc / len(X)
    w, V = np.linalg.eigh(C)
    Vk = V[:, -k:]
    rec = Xc @ Vk @ Vk.T
    return np.sum((Xc - rec) ** 2)


def cov_corr(X):
    C = np.cov(X, rowvar=False)
    Rm = np.corrcoef(X.T)
    return np.sum(C ** 2) + np.sum(np.triu(Rm, 1) ** 2)


def batched_solve(A, b):
    M = A @ np.swapaxes(A, -1, -2) + np.eye(A.shape[-1])
    x = np.linalg.solve(M, b[..., None])[..., 0]
    return np.sum(x ** 2)


def kron_expm(a, B):
    K = np.kron(np.diag(a), B)
    return np.sum(sla.expm(0.1 * K)[:3])


def fft_circular(w, x):
    y = np.real(np.fft.ifft(np.fft.fft(w) * np.fft.fft(x)))
    return np.sum(y ** 2)


# ---------------------------------------------------------------- Python-level idioms

def product_loops(W):
    total = 0.0
    for i, j in itertools.product(range(W.shape[0]), range(W.shape[1])):
        total = total + (i + 1) * np.sin(W[i, j])
    for i, j in itertools.product(range(2), range(W.shape[1])):
        total = total + W[i, j] ** 2
    return total


def ndindex_loop(W):
    total = 0.0
    for idx in np.ndindex(*W.shape):
        total = total + W[idx] ** 2
    return total


def item_scalar(w, X):
    s = (X @ w).sum()
    scale = 1.0 + abs(float(np.round(s.item(), 0)))      # data only: a constant here
    return np.sum(w ** 2) * scale + s


def mixed_precision(W32, X):
    return np.sum(np.tanh(X @ W32) ** 2)


def tree_depth(w, x, depth=3):
    if depth == 0:
        return x
    left = tree_depth(w, np.tanh(w[depth - 1] * x), depth - 1)
    return left + 0.5 * x


def recursion_loss(w, x):
    return np.sum(tree_depth(w, x) ** 2)


def errstate_guard(w, X):
    with np.errstate(divide="ignore", invalid="ignore"):
        z = X @ w
        v = np.log1p(np.exp(z))
    return np.sum(v)


def unshifted_softmax(W, X, y):
    z = X @ W
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return -np.mean(np.log(p[np.arange(len(y)), y]))


def power_param(p, x):
    return np.sum(np.power(x, p[0]) + x ** 0.5 * p[1])


CASES = {
    "repeated_index_iadd": (repeated_index_iadd, (0.7, np.array([0, 2, 2, 3, 0]),
                                                  np.array([1.0, 2.0, 3.0, 4.0, 5.0])), 0, {}),
    "leaky_relu_inplace": (leaky_relu_inplace, (rnd(3, 4), X), 0, {}),
    "masked_assign": (masked_assign, (rnd(3), X, Y), 0, {}),
    "relu_out": (relu_out, (rnd(3, 4), X), 0, {}),
    "fill_rows": (fill_rows, (rnd(3, 2), X), 0, {}),
    "grow_concatenate": (grow_concatenate, (rnd(3), X[:4]), 0, {}),
    "vstack_list": (vstack_list, (rnd(2, 3), X[:4]), 0, {}),
    "trimmed_mean": (trimmed_mean_loss, (rnd(3), X, Y), 0, {}),
    "median": (median_loss, (rnd(3), X, Y), 0, {}),
    "quantiles": (quantile_losses, (rnd(3), X, Y), 0, {}),
    "topk_partition": (topk_partition, (rnd(3), X), 0, {}),
    "argmax_row": (argmax_row, (rnd(3, 2), X), 0, {}),
    "digitize": (digitize_bins, (rnd(4), np.array([-1.5, -0.5, 0.3, 0.7, 1.4])), 0, {}),
    "survival_cumprod": (survival_cumprod, (rnd(6), np.array([0, 0, 1, 0, 1, 1])), 0, {}),
    "smoothness": (smoothness, (rnd(7), rnd(7)), 0, {}, {"order2": True}),
    "interp": (interp_loss, (np.array([0.15, 0.45, 0.8]), np.array([0.0, 0.3, 0.6, 1.0]),
                             np.array([1.0, 2.0, 0.5, 1.5])), (0, 2), {}),
    "slogdet": (gaussian_slogdet, (np.array([1.0, 0.2, 0.9, -0.1, 0.3, 1.1]), X), 0, {}),
    "det_small": (det_small, (rnd(2, 2, scale=1.0),), 0, {}, {"order2": True}),
    "pca_reconstruction": (pca_reconstruction, (X,), 0, {}, {"f32": False}),
    "cov_corr": (cov_corr, (X,), 0, {}),
    "batched_solve": (batched_solve, (rnd(2, 3, 3), rnd(2, 3)), (0, 1), {}),
    "kron_expm": (kron_expm, (rnd(2), rnd(2, 2)), (0, 1), {}),
    "fft_circular": (fft_circular, (rnd(6), rnd(6)), (0, 1), {}),
    "product_loops": (product_loops, (rnd(2, 3),), 0, {}),
    "item_scalar": (item_scalar, (rnd(3), X), 0, {}),
    "mixed_precision": (mixed_precision, (rnd(3, 2).astype(np.float32), X), 0, {},
                        {"vrtol": 1e-6, "rtol": 2e-3, "atol": 1e-4, "eps": 1e-3}),
    "recursion_constant_depth": (recursion_loss, (rnd(3), rnd(4)), 0, {}),
    "errstate": (errstate_guard, (rnd(3), X), 0, {}),
    "unshifted_softmax": (unshifted_softmax, (rnd(3, 3), X, np.array([0, 1, 2, 0, 1, 2, 0, 1])),
                          0, {}),
    "power_param": (power_param, (np.array([1.5, 0.7]), np.array([0.5, 1.2, 2.0])), 0, {}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus11_idioms(name):
    run_table(CASES, name)


# refusals met by the corpus (intended for now): each names the user's line
REFUSALS = {
    # np.ndindex of a shape known only at run time (its rank is not a
    # compile-time fact here); itertools.product(range(n), range(m)) works
    "ndindex": (ndindex_loop, (rnd(2, 3),),
                r"test_corpus11_idioms.py:\d+: '\*' unpacking of a computed value"),
}


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_refusals_name_the_line(name):
    from s2sgrad import grad
    from s2sgrad.errors import S2SGradError
    f, args, pattern = REFUSALS[name]
    with pytest.raises(S2SGradError, match=pattern):
        grad(f)(*args)
