"""corpus9, part 1: neural-network programs written the way users write them
for autograd and JAX (none repeats tests/test_user_losses.py): a transformer
block with multi-head attention, causal masking through ``np.where`` and
``-inf``, layer norm and GELU; batch norm; dropout and Gumbel-softmax with a
generator argument; convolutions by loops, ``np.pad``,
``sliding_window_view`` and ``einsum``; pooling; classification and metric
losses (label smoothing, focal, triplet, InfoNCE, ranking, pinball, Tukey);
mixture density networks; models as classes with methods and closures.

Each program is checked by ``tests/corpus9_harness.run_case``: the value
against the plain function, the gradient against central differences leaf by
leaf, the gradient's structure and dtypes, the arguments unchanged, the
cached second call, and (unless noted) the forward mode.
"""
import numpy as np
import pytest
import scipy.special as sps
from numpy.lib.stride_tricks import sliding_window_view

from tests.corpus9_harness import run_case

R = np.random.default_rng(9009)


def rnd(*shape, scale=0.5):
    return R.normal(size=shape) * scale


# ---------------------------------------------------------------- helpers people write

def softmax(z, axis=-1):
    z = z - np.max(z, axis=axis, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(z, axis=-1):
    m = np.max(z, axis=axis, keepdims=True)
    return z - m - np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))


def layer_norm(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def gelu(x):
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x ** 3)))


def relu(x):
    return np.maximum(x, 0.0)


# ---------------------------------------------------------------- transformer

def multi_head_attention(p, x, n_heads=2, causal=True):
    T, D = x.shape
    dh = D // n_heads
    q = (x @ p["Wq"]).reshape(T, n_heads, dh).transpose(1, 0, 2)
    k = (x @ p["Wk"]).reshape(T, n_heads, dh).transpose(1, 0, 2)
    v = (x @ p["Wv"]).reshape(T, n_heads, dh).transpose(1, 0, 2)
    scores = q @ k.transpose(0, 2, 1) / np.sqrt(dh)
    if causal:
        mask = np.tril(np.ones((T, T), dtype=bool))
        scores = np.where(mask, scores, -np.inf)
    att = softmax(scores, axis=-1)
    out = (att @ v).transpose(1, 0, 2).reshape(T, D)
    return out @ p["Wo"]


def transformer_block(params, x, targets):
    h = x + multi_head_attention(params["attn"], layer_norm(x, params["g1"], params["b1"]))
    ff = gelu(layer_norm(h, params["g2"], params["b2"]) @ params["W1"]) @ params["W2"]
    h = h + ff
    return np.mean((h - targets) ** 2)


def make_transformer_params(D=4, F=6):
    return {
        "attn": {"Wq": rnd(D, D), "Wk": rnd(D, D), "Wv": rnd(D, D), "Wo": rnd(D, D)},
        "g1": 1.0 + rnd(D, scale=0.1), "b1": rnd(D, scale=0.1),
        "g2": 1.0 + rnd(D, scale=0.1), "b2": rnd(D, scale=0.1),
        "W1": rnd(D, F), "W2": rnd(F, D),
    }


def attention_padding_mask(Wq, Wk, x, lengths):
    """Batched attention with a key-padding mask built from lengths."""
    B, T, D = x.shape
    q = x @ Wq
    k = x @ Wk
    s = np.einsum("btd,bsd->bts", q, k) / np.sqrt(D)
    valid = np.arange(T)[None, None, :] < lengths[:, None, None]
    s = np.where(valid, s, -1e9)
    a = softmax(s)
    return np.sum(np.einsum("bts,bsd->btd", a, x) ** 2)


def positional_encoding(T, D):
    pos = np.arange(T)[:, None]
    i = np.arange(D)[None, :]
    angle = pos / np.power(10000.0, (2 * (i // 2)) / D)
    return np.where(i % 2 == 0, np.sin(angle), np.cos(angle))


def embed_and_classify(params, tokens, label):
    E, W = params
    h = E[tokens] + positional_encoding(len(tokens), E.shape[1])
    pooled = h.mean(axis=0)
    logits = pooled @ W
    return -log_softmax(logits)[label]


# ---------------------------------------------------------------- normalisation, dropout

def batchnorm_mlp(params, X, y, eps=1e-5):
    W1, gamma, beta, w2 = params
    h = X @ W1
    mu = np.mean(h, axis=0)
    var = np.var(h, axis=0)
    hn = (h - mu) / np.sqrt(var + eps)
    h = relu(gamma * hn + beta)
    return np.mean((h @ w2 - y) ** 2)


def dropout_net(W, X, y, rng, p_drop=0.25, train=True):
    h = np.tanh(X @ W)
    if train:
        keep = rng.random(h.shape) > p_drop
        h = np.where(keep, h / (1.0 - p_drop), 0.0)
    return np.sum((h.sum(axis=1) - y) ** 2)


def gumbel_softmax_loss(logits, rng, tau=0.5):
    u = rng.uniform(1e-6, 1.0 - 1e-6, size=logits.shape)
    g = -np.log(-np.log(u))
    y = softmax((logits + g) / tau)
    return np.sum(y * np.arange(logits.shape[-1]))


# ---------------------------------------------------------------- convolutions, pooling

def conv1d_loop(w, b, x):
    k = len(w)
    n = len(x) - k + 1
    out = np.zeros(n)
    for i in range(n):
        out[i] = np.dot(x[i:i + k], w) + b
    return np.sum(np.tanh(out) ** 2)


def conv1d_same_pad(w, x):
    k = w.shape[0]
    xp = np.pad(x, (k // 2, k // 2))
    windows = sliding_window_view(xp, k)
    y = windows @ w
    return np.sum(relu(y)) + 0.1 * np.sum(y ** 2)


def conv2d_loops(kernel, img):
    kh, kw = kernel.shape
    xp = np.pad(img, ((1, 1), (1, 1)), mode="constant")
    H, W = img.shape
    out = np.zeros((H + 3 - kh, W + 3 - kw))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(xp[i:i + kh, j:j + kw] * kernel)
    return np.sum(out ** 2)


def conv2d_einsum(filters, images):
    """filters (C_out, C_in, k, k), images (N, C_in, H, W), valid convolution."""
    k = filters.shape[-1]
    patches = sliding_window_view(images, (k, k), axis=(2, 3))      # N, C, H', W', k, k
    out = np.einsum("nchwij,ocij->nohw", patches, filters)
    return np.mean(np.tanh(out) ** 2)


def maxpool_cnn(params, img):
    k, w = params
    kh = k.shape[0]
    H, W = img.shape
    conv = np.zeros((H - kh + 1, W - kh + 1))
    for i in range(kh):
        for j in range(kh):
            conv += k[i, j] * img[i:i + H - kh + 1, j:j + W - kh + 1]
    a = relu(conv)
    h2, w2 = a.shape[0] // 2, a.shape[1] // 2
    pooled = a[:2 * h2, :2 * w2].reshape(h2, 2, w2, 2).max(axis=(1, 3))
    return np.sum(pooled.ravel() * w)


def maxpool1d_loop(w, x, size=2):
    h = np.sin(x * w)
    pooled = [np.max(h[i:i + size]) for i in range(0, len(h) - size + 1, size)]
    return np.sum(np.array(pooled) ** 2)


# ---------------------------------------------------------------- classification and metric losses

def label_smoothing_ce(W, X, labels, smoothing=0.1):
    n_classes = W.shape[1]
    logp = log_softmax(X @ W)
    target = np.full(logp.shape, smoothing / (n_classes - 1))
    target[np.arange(len(labels)), labels] = 1.0 - smoothing
    return -np.sum(target * logp) / len(labels)


def focal_loss(w, X, y, gamma=2.0, alpha=0.25):
    p = sps.expit(X @ w)
    pt = np.where(y == 1, p, 1 - p)
    at = np.where(y == 1, alpha, 1 - alpha)
    return -np.mean(at * (1 - pt) ** gamma * np.log(pt))


def triplet_loss(W, anchors, positives, negatives, margin=1.0):
    a, p, n = anchors @ W, positives @ W, negatives @ W
    d_pos = np.linalg.norm(a - p, axis=1)
    d_neg = np.linalg.norm(a - n, axis=1)
    return np.mean(np.maximum(d_pos - d_neg + margin, 0.0))


def info_nce(W, x1, x2, temperature=0.5):
    z1 = x1 @ W
    z2 = x2 @ W
    z1 = z1 / np.linalg.norm(z1, axis=1, keepdims=True)
    z2 = z2 / np.linalg.norm(z2, axis=1, keepdims=True)
    sim = z1 @ z2.T / temperature
    n = sim.shape[0]
    return -np.mean(np.diag(sim) - sps.logsumexp(sim, axis=1)) + 0.0 * n


def pairwise_hinge_rank(w, X, rel, margin=1.0):
    s = X @ w
    diff = s[:, None] - s[None, :]
    better = rel[:, None] > rel[None, :]
    losses = np.maximum(0.0, margin - diff)
    return np.sum(losses * better) / np.sum(better)


def listnet(w, X, rel):
    s = X @ w
    p_true = softmax(rel)
    return -np.sum(p_true * log_softmax(s))


def pinball(W, X, y, quantiles=(0.1, 0.5, 0.9)):
    preds = X @ W                 # one column per quantile
    total = 0.0
    for j, q in enumerate(quantiles):
        e = y - preds[:, j]
        total = total + np.mean(np.maximum(q * e, (q - 1) * e))
    return total


def tukey_biweight(w, X, y, c=4.685):
    r = (y - X @ w) / 0.5
    inside = np.abs(r) <= c
    rho = np.where(inside, c ** 2 / 6 * (1 - (1 - (r / c) ** 2) ** 3), c ** 2 / 6)
    return np.sum(rho)


def mdn_nll(params, x, y, n_comp=3):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    h = np.tanh(x[:, None] * W1 + b1)
    out = h @ W2 + b2
    logit_pi, mu, log_sigma = out[:, :n_comp], out[:, n_comp:2 * n_comp], out[:, 2 * n_comp:]
    log_pi = log_softmax(logit_pi, axis=1)
    z = (y[:, None] - mu) / np.exp(log_sigma)
    log_comp = -0.5 * z ** 2 - log_sigma - 0.5 * np.log(2 * np.pi)
    return -np.mean(sps.logsumexp(log_pi + log_comp, axis=1))


def hinge_svm(params, X, y, C=1.0):
    w, b = params
    margins = y * (X @ w + b)
    return 0.5 * np.dot(w, w) + C * np.sum(np.maximum(0, 1 - margins))


def elastic_net(w, X, y, l1=0.05, l2=0.1):
    r = X @ w - y
    return 0.5 * np.mean(r ** 2) + l1 * np.sum(np.sqrt(w ** 2 + 1e-8)) + 0.5 * l2 * w @ w


def skipgram_neg_sampling(params, center, context, negatives):
    Win, Wout = params["in"], params["out"]
    v = Win[center]                           # (B, D)
    u_pos = Wout[context]                     # (B, D)
    u_neg = Wout[negatives]                   # (B, K, D)
    pos = np.log(sps.expit(np.sum(v * u_pos, axis=1)))
    neg = np.sum(np.log(sps.expit(-np.einsum("bkd,bd->bk", u_neg, v))), axis=1)
    return -np.mean(pos + neg)


def crf_nll(params, emissions_W, X, tags):
    trans, start = params
    em = X @ emissions_W                  # (T, K)
    T = em.shape[0]
    score = start[tags[0]] + em[0, tags[0]]
    for t in range(1, T):
        score = score + trans[tags[t - 1], tags[t]] + em[t, tags[t]]
    alpha = start + em[0]
    for t in range(1, T):
        alpha = sps.logsumexp(alpha[:, None] + trans, axis=0) + em[t]
    return sps.logsumexp(alpha) - score


# ---------------------------------------------------------------- classes, closures

class MLPClassifier:
    def __init__(self, sizes, l2=1e-3, activation="tanh"):
        self.sizes = sizes
        self.l2 = l2
        self.activation = activation

    def act(self, x):
        if self.activation == "relu":
            return np.maximum(x, 0.0)
        return np.tanh(x)

    def forward(self, params, X):
        h = X
        for i, (W, b) in enumerate(params):
            h = h @ W + b
            if i < len(params) - 1:
                h = self.act(h)
        return h

    def loss(self, params, X, labels):
        logp = log_softmax(self.forward(params, X))
        nll = -np.mean(logp[np.arange(X.shape[0]), labels])
        reg = sum(np.sum(W ** 2) for W, _ in params)
        return nll + self.l2 * reg


def make_weighted_loss(X, y, weights, reg=0.01):
    n = len(y)

    def loss(w):
        r = X @ w - y
        return np.sum(weights * r ** 2) / n + reg * np.sum(w ** 2)
    return loss


class Autoencoder:
    def __init__(self, tied=True):
        self.tied = tied

    def encode(self, W, x):
        return sps.expit(x @ W)

    def decode(self, W, h):
        return h @ W.T

    def reconstruction(self, W, x, noise_rng=None, noise=0.1):
        if noise_rng is not None:
            x_in = x + noise * noise_rng.standard_normal(x.shape)
        else:
            x_in = x
        return np.mean((self.decode(W, self.encode(W, x_in)) - x) ** 2)


# ---------------------------------------------------------------- the cases

X = rnd(6, 3, scale=1.0)
LABELS = np.array([0, 2, 1, 1, 0, 2])
Y01 = np.array([1, 0, 0, 1, 1, 0])
Y = rnd(6, scale=1.0)
SEQ = rnd(5, 4, scale=1.0)
MLP_PARAMS = [(rnd(3, 5), rnd(5)), (rnd(5, 3), rnd(3))]
AUTOENC = Autoencoder()
CLF = MLPClassifier((3, 5, 3), l2=1e-2)
CLF_RELU = MLPClassifier((3, 5, 3), activation="relu")

CASES = {
    "transformer_block": (transformer_block, (make_transformer_params(), SEQ, rnd(5, 4)), 0, {}),
    "attention_padding_mask": (attention_padding_mask,
                               (rnd(3, 3), rnd(3, 3), rnd(2, 4, 3, scale=1.0), np.array([4, 2])),
                               (0, 1), {}),
    "embed_positional": (embed_and_classify, ((rnd(7, 4), rnd(4, 3)), np.array([1, 4, 4, 6, 0]), 2),
                         0, {}),
    "batchnorm_mlp": (batchnorm_mlp, ((rnd(3, 4), 1.0 + rnd(4, scale=0.1), rnd(4, scale=0.1),
                                       rnd(4)),
                                      X, Y), 0, {}),
    "dropout_rng": (dropout_net, (rnd(3, 4), X, Y, np.random.default_rng(5)), 0, {"p_drop": 0.3}),
    "gumbel_softmax": (gumbel_softmax_loss, (rnd(2, 4), np.random.default_rng(11)), 0, {}),
    "conv1d_loop": (conv1d_loop, (rnd(3), 0.1, rnd(9, scale=1.0)), (0, 1), {}),
    "conv1d_same_pad": (conv1d_same_pad, (rnd(3), rnd(8, scale=1.0)), (0, 1), {}),
    "conv2d_loops": (conv2d_loops, (rnd(3, 3), rnd(4, 5, scale=1.0)), (0, 1), {}),
    "conv2d_einsum": (conv2d_einsum, (rnd(2, 2, 2, 2), rnd(2, 2, 4, 4, scale=1.0)), (0, 1), {}),
    "maxpool_cnn": (maxpool_cnn, ((rnd(2, 2), rnd(6)), rnd(5, 7, scale=1.0)), 0, {}),
    "maxpool1d_loop": (maxpool1d_loop, (0.7, rnd(8, scale=1.0)), (0, 1), {}),
    "label_smoothing": (label_smoothing_ce, (rnd(3, 3), X, LABELS), 0, {"smoothing": 0.2}),
    "focal_loss": (focal_loss, (rnd(3), X, Y01), 0, {}),
    "triplet_loss": (triplet_loss, (rnd(3, 2), X, rnd(6, 3), rnd(6, 3)), 0, {"margin": 0.5}),
    "info_nce": (info_nce, (rnd(3, 3), X, X + rnd(6, 3, scale=0.1)), 0, {"temperature": 0.2}),
    "pairwise_hinge": (pairwise_hinge_rank, (rnd(3), X, np.array([2, 0, 1, 1, 3, 0])), 0, {}),
    "listnet": (listnet, (rnd(3), X, np.array([2.0, 0.0, 1.0, 1.0, 3.0, 0.0])), 0, {}),
    "pinball": (pinball, (rnd(3, 3), X, Y), 0, {}),
    "tukey_biweight": (tukey_biweight, (rnd(3), X, Y * 3), 0, {"c": 2.0}),
    "mdn": (mdn_nll, ({"W1": rnd(5), "b1": rnd(5), "W2": rnd(5, 9), "b2": rnd(9)},
                      rnd(6, scale=1.0), rnd(6, scale=1.0)), 0, {}),
    "hinge_svm": (hinge_svm, ((rnd(3), 0.1), X, np.sign(Y)), 0, {"C": 0.5}),
    "elastic_net": (elastic_net, (rnd(3), X, Y), 0, {"l1": 0.1}),
    "skipgram": (skipgram_neg_sampling, ({"in": rnd(6, 3), "out": rnd(6, 3)}, np.array([0, 2, 2]),
                                         np.array([1, 3, 5]), np.array([[4, 5], [0, 1], [3, 3]])),
                 0, {}),
    "crf": (crf_nll, ((rnd(3, 3), rnd(3)), rnd(3, 3), X[:5], np.array([0, 2, 2, 1, 0])),
            (0, 1), {}),
    "class_method_mlp": (CLF.loss, (MLP_PARAMS, X, LABELS), 0, {}),
    "class_method_relu": (CLF_RELU.loss, (MLP_PARAMS, X, LABELS), 0, {}),
    "closure_weighted": (make_weighted_loss(X, Y, np.abs(rnd(6)) + 0.5), (rnd(3),), 0, {}),
    "autoencoder_method": (AUTOENC.reconstruction, (rnd(3, 2), X), 0, {}),
    "denoising_autoencoder": (AUTOENC.reconstruction, (rnd(3, 2), X, np.random.default_rng(3)), 0,
                              {"noise": 0.2}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus9_nn(name):
    f, args, wrt, kwargs = CASES[name]
    run_case(f, args, wrt, kwargs)
