"""corpus11, part 2: neural networks written by hand in NumPy: transformer
blocks (multi-head attention through reshape/transpose and through
``np.einsum``, padding masks and causal masks by ``np.triu``/``np.tril`` and
``np.where(mask, -1e9, s)``, layernorm, tanh- and erf-GELU, a residual
pre-norm block, learned positional embeddings), CNNs (im2col by loops and by
``sliding_window_view``, ``np.einsum`` convolutions, stride and padding,
max- and average-pooling by reshape, global average pooling), batchnorm in
training mode, embeddings with repeated indices (gather, ``np.add.at``-style
bag of words, ``np.take``), a GRU and an LSTM cell with gates sliced from one
matmul, a neural ODE by RK4 with its parameters in a dict, dropout with a
fixed mask, label smoothing, focal loss.  Checked by
``tests/corpus10_harness.check``.
"""
import math

import numpy as np
import pytest
import scipy.special as sps
from numpy.lib.stride_tricks import sliding_window_view

from tests.corpus10_harness import run_table

R = np.random.default_rng(11020)


def rnd(*shape, scale=0.5):
    return R.normal(size=shape) * scale


# ---------------------------------------------------------------- transformer pieces

def layer_norm(x, g, b, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return g * (x - mu) / np.sqrt(var + eps) + b


def gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def gelu_erf(x):
    return 0.5 * x * (1.0 + sps.erf(x / np.sqrt(2.0)))


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def mha(x, Wq, Wk, Wv, Wo, n_heads, mask=None):
    T, D = x.shape
    hd = D // n_heads
    q = (x @ Wq).reshape(T, n_heads, hd).transpose(1, 0, 2)
    k = (x @ Wk).reshape(T, n_heads, hd).transpose(1, 0, 2)
    v = (x @ Wv).reshape(T, n_heads, hd).transpose(1, 0, 2)
    scores = q @ k.transpose(0, 2, 1) / np.sqrt(hd)
    if mask is not None:
        scores = np.where(mask, scores, -1e9)
    att = softmax(scores)
    out = (att @ v).transpose(1, 0, 2).reshape(T, D)
    return out @ Wo


def transformer_block(p, x):
    T = x.shape[0]
    causal = np.tril(np.ones((T, T), dtype=bool))
    h = x + mha(layer_norm(x, p["g1"], p["b1"]), p["Wq"], p["Wk"], p["Wv"], p["Wo"], 2,
                mask=causal)
    f = gelu_tanh(layer_norm(h, p["g2"], p["b2"]) @ p["W1"]) @ p["W2"]
    y = h + f
    return np.sum(y ** 2) / y.size


def attention_einsum(W, x, pad):
    Wq, Wk, Wv = W
    B, T, D = x.shape
    H = 2
    q = np.einsum("btd,dhk->bhtk", x, Wq)
    k = np.einsum("btd,dhk->bhtk", x, Wk)
    v = np.einsum("btd,dhk->bhtk", x, Wv)
    s = np.einsum("bhtk,bhsk->bhts", q, k) / np.sqrt(Wq.shape[-1])
    s = s + np.where(pad[:, None, None, :], -1e9, 0.0)
    s = s - s.max(-1, keepdims=True)
    a = np.exp(s)
    a = a / a.sum(-1, keepdims=True)
    o = np.einsum("bhts,bhsk->bthk", a, v).reshape(B, T, -1)
    return np.mean(gelu_erf(o) ** 2)


def causal_lm_loss(params, tokens):
    E, P, Wout = params["E"], params["P"], params["Wout"]
    T = len(tokens) - 1
    x = E[tokens[:-1]] + P[:T]
    s = x @ x.T / np.sqrt(x.shape[1])
    s = s + np.triu(np.full((T, T), -np.inf), k=1)
    a = softmax(s)
    h = a @ x
    logits = h @ Wout
    lse = np.log(np.sum(np.exp(logits - logits.max(1, keepdims=True)), 1)) + logits.max(1)
    return np.mean(lse - logits[np.arange(T), tokens[1:]])


D_ = 4
TB = {"g1": 1 + rnd(D_, scale=0.1), "b1": rnd(D_, scale=0.1), "Wq": rnd(D_, D_),
      "Wk": rnd(D_, D_), "Wv": rnd(D_, D_), "Wo": rnd(D_, D_), "g2": 1 + rnd(D_, scale=0.1),
      "b2": rnd(D_, scale=0.1), "W1": rnd(D_, 6), "W2": rnd(6, D_)}
TOK = np.array([1, 3, 3, 0, 2, 3])


# ---------------------------------------------------------------- convolutions

def conv2d_im2col_loops(W, x, b):
    """x: (C, H, W), W: (F, C, k, k); valid convolution by an explicit im2col."""
    F, C, k, _ = W.shape
    H_out, W_out = x.shape[1] - k + 1, x.shape[2] - k + 1
    cols = []
    for i in range(H_out):
        for j in range(W_out):
            cols.append(x[:, i:i + k, j:j + k].ravel())
    cols = np.stack(cols, axis=1)
    out = W.reshape(F, -1) @ cols + b[:, None]
    out = out.reshape(F, H_out, W_out)
    return np.sum(np.maximum(out, 0) ** 2)


def conv2d_sliding(W, x):
    """x: (N, C, H, W); stride 1; sliding_window_view + einsum."""
    k = W.shape[-1]
    win = sliding_window_view(x, (k, k), axis=(2, 3))      # N, C, Ho, Wo, k, k
    out = np.einsum("nchwij,fcij->nfhw", win, W)
    return np.mean(np.tanh(out))


def conv2d_strided_padded(W, x, stride=2, pad=1):
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    k = W.shape[-1]
    win = sliding_window_view(xp, (k, k), axis=(1, 2))[:, ::stride, ::stride]
    out = np.tensordot(W, win, axes=([1, 2, 3], [0, 3, 4]))
    return np.sum(out ** 2)


def conv1d_causal(w, x, dilation=2):
    k = w.shape[0]
    xp = np.concatenate([np.zeros((k - 1) * dilation), x])
    out = np.zeros_like(x)
    for i in range(k):
        out = out + w[i] * xp[i * dilation: i * dilation + len(x)]
    return np.sum((out - x) ** 2)


def maxpool_reshape(W, x):
    h = np.einsum("fc,chw->fhw", W, x)
    F, H, Wd = h.shape
    p = h.reshape(F, H // 2, 2, Wd // 2, 2).max(axis=(2, 4))
    return np.sum(p ** 2)


def avgpool_global(W, x):
    win = sliding_window_view(x, 3, axis=-1)           # (N, C, L-2, 3)
    h = np.maximum(np.einsum("nclk,fck->nfl", win, W), 0.0)
    a = h.reshape(h.shape[0], h.shape[1], -1, 2).mean(-1)
    g = a.mean(axis=-1)
    return np.sum(np.log1p(g ** 2))


def cnn_classifier(params, x, y):
    W1, W2 = params
    win = sliding_window_view(x, (3, 3), axis=(1, 2))    # N, Ho, Wo, 3, 3
    h = np.maximum(np.einsum("nhwij,fij->nfhw", win, W1), 0)
    pooled = h.mean(axis=(2, 3))
    logits = pooled @ W2
    logp = logits - sps.logsumexp(logits, axis=1, keepdims=True)
    return -np.mean(logp[np.arange(len(y)), y])


# ---------------------------------------------------------------- normalisation, embeddings

def batchnorm_mlp(params, x, y, eps=1e-5):
    W1, gamma, beta, W2 = params
    h = x @ W1
    mu = h.mean(axis=0)
    var = h.var(axis=0)
    hn = (h - mu) / np.sqrt(var + eps)
    h = np.maximum(gamma * hn + beta, 0.0)
    return np.mean((h @ W2 - y) ** 2)


def batchnorm_conv(gamma, beta, x):
    mu = x.mean(axis=(0, 2, 3), keepdims=True)
    var = x.var(axis=(0, 2, 3), keepdims=True)
    xh = (x - mu) / np.sqrt(var + 1e-5)
    out = gamma[None, :, None, None] * xh + beta[None, :, None, None]
    return np.sum(np.sin(out))


def embedding_bag(E, W, docs, y):
    feats = np.zeros((len(docs), E.shape[1]))
    for i, doc in enumerate(docs):
        feats[i] = E[doc].mean(axis=0)
    logits = feats @ W
    return np.mean(np.logaddexp(0, -y * logits))


def embedding_take(E, ids, targets):
    v = np.take(E, ids, axis=0)            # repeated ids
    s = np.sum(v * E[targets], axis=1)
    return -np.sum(np.log(sps.expit(s)))


def skipgram_neg(params, centers, contexts, negatives):
    Win, Wout = params
    c = Win[centers]
    pos = np.sum(c * Wout[contexts], axis=1)
    neg = np.einsum("bd,bkd->bk", c, Wout[negatives])
    return -np.mean(np.log(sps.expit(pos)) + np.sum(np.log(sps.expit(-neg)), axis=1))


# ---------------------------------------------------------------- recurrent cells

def gru_loss(p, xs):
    H = p["Wh"].shape[0]
    h = np.zeros(H)
    loss = 0.0
    for x in xs:
        gx = x @ p["Wx"] + p["b"]
        gh = h @ p["Wh"]
        z = sps.expit(gx[:H] + gh[:H])
        r = sps.expit(gx[H:2 * H] + gh[H:2 * H])
        n = np.tanh(gx[2 * H:] + r * gh[2 * H:])
        h = (1 - z) * n + z * h
        loss = loss + np.sum(h ** 2)
    return loss


def lstm_loss(W, U, b, xs, target):
    H = U.shape[1]
    h = c = np.zeros(H)
    for t in range(xs.shape[0]):
        g = W @ xs[t] + U @ h + b
        i, f, o, u = np.split(g, 4)
        c = sps.expit(f) * c + sps.expit(i) * np.tanh(u)
        h = sps.expit(o) * np.tanh(c)
    return np.sum((h - target) ** 2)


# ---------------------------------------------------------------- neural ODE

def node_field(p, y):
    return np.tanh(y @ p["W1"] + p["b1"]) @ p["W2"]


def neural_ode_rk4(p, y0, target, T=1.0, n=5):
    h = T / n
    y = y0
    for _ in range(n):
        k1 = node_field(p, y)
        k2 = node_field(p, y + h / 2 * k1)
        k3 = node_field(p, y + h / 2 * k2)
        k4 = node_field(p, y + h * k3)
        y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return np.mean((y - target) ** 2)


# ---------------------------------------------------------------- losses

def label_smoothing_ce(W, X, y, eps=0.1):
    logits = X @ W
    K = logits.shape[1]
    logp = logits - sps.logsumexp(logits, axis=1, keepdims=True)
    onehot = np.eye(K)[y]
    target = onehot * (1 - eps) + eps / K
    return -np.sum(target * logp) / len(y)


def focal_loss(w, X, y, gamma=2.0, alpha=0.25):
    p = sps.expit(X @ w)
    pt = np.where(y == 1, p, 1 - p)
    at = np.where(y == 1, alpha, 1 - alpha)
    return -np.mean(at * (1 - pt) ** gamma * np.log(pt))


def dropout_mlp(params, X, y, mask):
    W1, W2 = params
    h = np.maximum(X @ W1, 0)
    h = h * mask / 0.8
    return np.mean((h @ W2 - y) ** 2)


XI = rnd(2, 6, 6, scale=1.0)
X5 = rnd(6, 3, scale=1.0)
Y5 = rnd(6, 2, scale=1.0)

CASES = {
    "transformer_block": (transformer_block, (TB, rnd(5, D_, scale=1.0)), 0, {},
                          {"f32": False}),
    "attention_einsum": (attention_einsum, ((rnd(4, 2, 2), rnd(4, 2, 2), rnd(4, 2, 2)),
                                            rnd(2, 3, 4, scale=1.0),
                                            np.array([[False, False, True],
                                                      [False, False, False]])), 0, {}),
    "causal_lm": (causal_lm_loss, ({"E": rnd(4, 3), "P": rnd(6, 3), "Wout": rnd(3, 4)}, TOK),
                  0, {}),
    "mha_plain": (lambda x, Wq, Wk, Wv, Wo: np.sum(np.tanh(mha(x, Wq, Wk, Wv, Wo, 2))),
                  (rnd(3, 4), rnd(4, 4), rnd(4, 4), rnd(4, 4), rnd(4, 4)), (0, 1), {}),
    "conv_im2col_loops": (conv2d_im2col_loops, (rnd(2, 2, 2, 2), XI[:, :4, :4], rnd(2)),
                          (0, 2), {}),
    "conv_sliding": (conv2d_sliding, (rnd(2, 2, 2, 2), rnd(2, 2, 4, 4, scale=1.0)), 0, {}),
    "conv_strided_padded": (conv2d_strided_padded, (rnd(2, 2, 3, 3), XI[:, :5, :5]), 0, {}),
    "conv1d_causal": (conv1d_causal, (rnd(3), rnd(8, scale=1.0)), 0, {}, {"order2": True}),
    "maxpool": (maxpool_reshape, (rnd(2, 2), XI[:, :4, :4]), 0, {}),
    "avgpool_global": (avgpool_global, (rnd(2, 2, 3), rnd(2, 2, 6, scale=1.0)), 0, {}),
    "cnn_classifier": (cnn_classifier, ((rnd(2, 3, 3), rnd(2, 3)), rnd(3, 5, 5, scale=1.0),
                                        np.array([0, 2, 1])), 0, {}),
    "batchnorm_mlp": (batchnorm_mlp, ((rnd(3, 4), 1 + rnd(4, scale=0.1), rnd(4, scale=0.1),
                                       rnd(4, 2)), X5, Y5), 0, {}),
    "batchnorm_conv": (batchnorm_conv, (1 + rnd(2, scale=0.1), rnd(2, scale=0.1),
                                        rnd(3, 2, 2, 2, scale=1.0)), (0, 1), {}),
    "embedding_bag": (embedding_bag, (rnd(5, 3), rnd(3), [np.array([0, 1, 1]), np.array([4]),
                                                          np.array([2, 2, 3, 0])],
                                      np.array([1.0, -1.0, 1.0])), (0, 1), {}),
    "embedding_take": (embedding_take, (rnd(4, 3), np.array([0, 2, 2, 1, 0]),
                                        np.array([1, 1, 3, 0, 0])), 0, {}),
    "skipgram_neg": (skipgram_neg, ((rnd(5, 3), rnd(5, 3)), np.array([0, 1, 1]),
                                    np.array([2, 3, 2]), np.array([[4, 4], [0, 3], [1, 1]])),
                     0, {}),
    "gru": (gru_loss, ({"Wx": rnd(2, 9), "Wh": rnd(3, 9), "b": rnd(9)}, rnd(4, 2, scale=1.0)),
            0, {}),
    "lstm": (lstm_loss, (rnd(8, 2), rnd(8, 2), rnd(8), rnd(4, 2, scale=1.0), rnd(2)),
             (0, 1, 2), {}),
    "neural_ode": (neural_ode_rk4, ({"W1": rnd(2, 3), "b1": rnd(3), "W2": rnd(3, 2)},
                                    rnd(4, 2, scale=1.0), rnd(4, 2)), 0, {}),
    "label_smoothing": (label_smoothing_ce, (rnd(3, 3), X5, np.array([0, 1, 2, 2, 1, 0])), 0,
                        {}, {"order2": True}),
    "focal": (focal_loss, (rnd(3), X5, np.array([1, 0, 1, 1, 0, 0])), 0, {}),
    "dropout": (dropout_mlp, ((rnd(3, 4), rnd(4, 2)), X5, Y5,
                              (R.random((6, 4)) < 0.8).astype(float)), 0, {}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus11_deep(name):
    run_table(CASES, name)
