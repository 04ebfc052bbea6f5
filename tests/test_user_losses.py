"""A corpus of losses of the kind users write for autograd and JAX (modelled
on the kinds of models in autograd's examples directory: MLPs with parameter
lists and dicts, parsers of flat weight vectors, RNN/LSTM/GRU, Gaussian
processes, mixture models, VAEs and black-box variational inference with
random draws, Bayesian neural nets, ODE-like loops, nested derivatives).

Every loss is checked for its value against the plain NumPy function and
for its gradient (and forward mode) against central finite differences
(``check_grads``, which evaluates a function that draws random numbers with
the same draws every time).  Sizes are tiny: the point is coverage of what
users write, not speed.
"""
import copy
import dataclasses
import functools
import operator
import typing

import numpy as np
import pytest

import s2sgrad
from s2sgrad import check_grads, draws, grad, value_and_grad

R = np.random.default_rng(20240611)


def rnd(*shape, scale=0.5):
    return R.normal(size=shape) * scale


# ---------------------------------------------------------------- shared data

X = rnd(6, 3, scale=1.0)
Y01 = (R.uniform(size=6) > 0.5).astype(float)
LABELS = np.array([0, 2, 1, 1, 0, 2])
ONEHOT = np.eye(3)[LABELS]
SEQ = rnd(5, 2, 3, scale=1.0)          # time, batch, features


def sigmoid(x):
    return 0.5 * (np.tanh(x / 2.0) + 1.0)


def logsumexp(a, axis=None, keepdims=False):
    m = np.max(a, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


# ---------------------------------------------------------------- classification


def logistic_loglik(w, X, y):
    p = sigmoid(X @ w)
    return -np.sum(np.log(p * y + (1 - p) * (1 - y)))


def mlp_predict(params, inputs):
    for W, b in params:
        outputs = inputs @ W + b
        inputs = np.tanh(outputs)
    return outputs - logsumexp(outputs, axis=1, keepdims=True)


def mlp_tuples(params, X, T, l2=0.01):
    prior = l2 * sum(np.sum(W ** 2) for W, _ in params)
    return -np.sum(mlp_predict(params, X) * T) + prior


def mlp_dict(params, X, T):
    h = np.maximum(0.0, X @ params["W1"] + params["b1"])
    logits = h @ params["W2"] + params["b2"]
    logp = logits - logsumexp(logits, axis=1, keepdims=True)
    return -np.mean(np.sum(logp * T, axis=1))


def mlp_zip(params, X, T):
    *hidden, (Wo, bo) = params
    h = X
    for W, b in hidden:
        h = np.tanh(h @ W + b)
    z = h @ Wo + bo
    return np.sum((z - T) ** 2) / len(X)


def softmax_regression(W, X, labels):
    z = X @ W
    z = z - np.max(z, axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(logp[np.arange(len(labels)), labels])


def mlp_activation_default(params, X, T, act=np.tanh, reduce=np.mean):
    h = act(X @ params[0])
    return reduce((h @ params[1] - T) ** 2)


def layer(x, W, **cfg):
    h = x @ W * cfg.get("scale", 1.0)
    if cfg.get("act") == "relu":
        return np.maximum(h, 0.0)
    return np.tanh(h)


def mlp_kwargs(Ws, X, T):
    cfg = {"scale": 0.5, "act": "tanh"}
    h = layer(X, Ws[0], **cfg)
    out = layer(h, Ws[1], scale=2.0, act="relu")
    return np.sum((out - T) ** 2)


def mlp_reduce_sum(Ws, X):
    outs = [np.tanh(X @ W) for W in Ws]
    return np.sum(functools.reduce(operator.add, outs) ** 2)


def huber(w, X, y, delta=1.0):
    r = X @ w - y
    a = np.abs(r)
    return np.sum(np.where(a <= delta, 0.5 * r ** 2, delta * (a - 0.5 * delta)))


def poisson_regression(w, X, counts):
    eta = X @ w
    return np.sum(np.exp(eta) - counts * eta)


def ridge_norm(w, X, y, lam=0.1):
    return np.linalg.norm(X @ w - y) ** 2 + lam * np.linalg.norm(w, ord=2)


# ---------------------------------------------------------------- flat weight vectors


class WeightsParser:
    """Named slices of one flat parameter vector."""

    def __init__(self):
        self.idxs_and_shapes = {}
        self.num_weights = 0

    def add_shape(self, name, shape):
        start = self.num_weights
        self.num_weights += int(np.prod(shape))
        self.idxs_and_shapes[name] = (slice(start, self.num_weights), shape)

    def get(self, vect, name):
        idxs, shape = self.idxs_and_shapes[name]
        return np.reshape(vect[idxs], shape)


def make_parser_loss():
    parser = WeightsParser()
    parser.add_shape("W", (3, 4))
    parser.add_shape("b", (4,))
    parser.add_shape("V", (4, 3))

    def loss(w, X, T):
        h = np.tanh(X @ parser.get(w, "W") + parser.get(w, "b"))
        logits = h @ parser.get(w, "V")
        return -np.sum((logits - logsumexp(logits, axis=1, keepdims=True)) * T)
    return loss, parser.num_weights


parser_loss, N_PARSER = make_parser_loss()

PARSER = WeightsParser()
PARSER.add_shape("weights", (3, 2))
PARSER.add_shape("bias", (2,))


def parser_global(w, X, y):
    pred = X @ PARSER.get(w, "weights") + PARSER.get(w, "bias")
    return np.sum((pred[:, 0] - y) ** 2) + np.sum(pred[:, 1] ** 2)
LAYER_SHAPES = ((3, 4), (4, 3))


def unpack_layers(weights, shapes=LAYER_SHAPES):
    for m, n in shapes:
        yield weights[:m * n].reshape((m, n)), weights[m * n:m * n + n]
        weights = weights[(m + 1) * n:]


def flat_mlp(weights, X, T):
    h = X
    for W, b in unpack_layers(weights):
        h = np.tanh(h @ W + b)
    return np.sum((h - T) ** 2)


N_FLAT = sum((m + 1) * n for m, n in LAYER_SHAPES)


# ---------------------------------------------------------------- recurrent


def rnn_loss(params, seq, T):
    Wh, Wx, b, Wo = params
    h = np.zeros((seq.shape[1], Wh.shape[0]))
    loss = 0.0
    for t in range(seq.shape[0]):
        h = np.tanh(h @ Wh + seq[t] @ Wx + b)
        logits = h @ Wo
        loss = loss - np.sum((logits - logsumexp(logits, axis=1, keepdims=True)) * T)
    return loss / seq.shape[0]


def rnn_concat(W, seq):
    h = np.ones((seq.shape[1], 2)) * 0.1
    outs = []
    for x in seq:
        hx = np.concatenate((x, h), axis=1)
        h = sigmoid(hx @ W)
        outs.append(h)
    return np.sum(np.stack(outs) ** 2)


def lstm_loss(params, seq):
    Wf, Wi, Wo, Wc = params["f"], params["i"], params["o"], params["c"]
    n = Wf.shape[1]
    h = np.zeros((seq.shape[1], n))
    c = np.zeros((seq.shape[1], n))
    for t in range(seq.shape[0]):
        z = np.hstack([seq[t], h])
        f, i, o = sigmoid(z @ Wf), sigmoid(z @ Wi), sigmoid(z @ Wo)
        c = f * c + i * np.tanh(z @ Wc)
        h = o * np.tanh(c)
    return np.sum(h ** 2) + 0.1 * np.sum(c)


def gru_loss(Wz, Wr, Wh, seq):
    h = np.zeros((seq.shape[1], Wz.shape[1]))
    for t in range(seq.shape[0]):
        zin = np.concatenate([seq[t], h], axis=1)
        z, r = sigmoid(zin @ Wz), sigmoid(zin @ Wr)
        cand = np.tanh(np.concatenate([seq[t], r * h], axis=1) @ Wh)
        h = (1 - z) * h + z * cand
    return np.mean(h ** 2)


# ---------------------------------------------------------------- probabilistic models


def rbf(x, y, log_ls, log_amp):
    d = (x[:, None] - y[None, :]) / np.exp(log_ls)
    return np.exp(log_amp) * np.exp(-0.5 * d ** 2)


GP_X = np.linspace(-1.0, 1.0, 6)
GP_Y = np.sin(2 * GP_X)


def gp_neg_loglik(hyp, x, y):
    log_ls, log_amp, log_noise = hyp[0], hyp[1], hyp[2]
    K = rbf(x, x, log_ls, log_amp) + (np.exp(log_noise) + 1e-6) * np.eye(len(x))
    alpha = np.linalg.solve(K, y)
    sign, logdet = np.linalg.slogdet(K)
    return 0.5 * y @ alpha + 0.5 * logdet + 0.5 * len(x) * np.log(2 * np.pi)


def gp_cholesky(hyp, x, y):
    K = rbf(x, x, hyp[0], hyp[1]) + np.exp(hyp[2]) * np.eye(len(x))
    L = np.linalg.cholesky(K)
    z = np.linalg.solve(L, y)
    return 0.5 * np.sum(z ** 2) + np.sum(np.log(np.diag(L)))


def gmm_loglik(params, data):
    logits, means, log_stds = params
    log_w = logits - logsumexp(logits)
    diff = (data[:, None, :] - means[None, :, :]) / np.exp(log_stds)[None]
    comp = -0.5 * np.sum(diff ** 2, axis=2) - np.sum(log_stds, axis=1) \
        - 0.5 * data.shape[1] * np.log(2 * np.pi)
    return -np.sum(logsumexp(log_w + comp, axis=1))


def hmm_forward(log_pi, log_A, log_B, obs):
    alpha = log_pi + log_B[:, obs[0]]
    for t in range(1, len(obs)):
        alpha = logsumexp(alpha[:, None] + log_A, axis=0) + log_B[:, obs[t]]
    return -logsumexp(alpha)


def student_t_ica(W, X, nu=3.0):
    S = X @ W.T
    logp = -0.5 * (nu + 1) * np.log1p(S ** 2 / nu)
    sign, logdet = np.linalg.slogdet(W)
    return -(np.sum(logp) + X.shape[0] * logdet)


def mixture_components(weights, means, x):
    dens = [w * np.exp(-0.5 * (x - m) ** 2) for w, m in zip(weights, means)]
    return -np.sum(np.log(sum(dens) + 1e-12))


# ---------------------------------------------------------------- random draws


def vae_loss(params, X, rng):
    enc, dec = params["enc"], params["dec"]
    h = np.tanh(X @ enc["W"] + enc["b"])
    mu, log_std = h[:, :2], h[:, 2:]
    eps = rng.normal(size=mu.shape)
    z = mu + np.exp(log_std) * eps
    logits = z @ dec["W"] + dec["b"]
    loglik = np.sum(X * logits - np.logaddexp(0.0, logits))
    kl = 0.5 * np.sum(np.exp(2 * log_std) + mu ** 2 - 1.0 - 2 * log_std)
    return -(loglik - kl) / X.shape[0]


RS = np.random.RandomState(7)


def log_banana(z):
    return -0.5 * z[:, 0] ** 2 - 0.5 * (z[:, 1] - z[:, 0] ** 2) ** 2


def black_box_svi(var_params, num_samples=8):
    mean, log_std = var_params[:2], var_params[2:]
    samples = RS.randn(num_samples, 2) * np.exp(log_std) + mean
    entropy = np.sum(log_std) + 0.5 * 2 * (1.0 + np.log(2 * np.pi))
    return -(entropy + np.mean(log_banana(samples)))


def make_bnn_objective():
    rs = np.random.RandomState(0)
    shapes = ((2, 3), (3, 1))
    n_w = sum((m + 1) * n for m, n in shapes)
    inputs, targets = rnd(5, 2), rnd(5, 1)

    def predictions(weights, inputs):
        inputs = np.expand_dims(inputs, 0)
        for W, b in unpack(weights):
            outputs = np.einsum("mnd,mdo->mno", inputs, W) + b
            inputs = np.tanh(outputs)
        return outputs

    def unpack(weights):
        num = len(weights)
        for m, n in shapes:
            yield weights[:, :m * n].reshape((num, m, n)), weights[:, m * n:(m + 1) * n] \
                .reshape((num, 1, n))
            weights = weights[:, (m + 1) * n:]

    def objective(params):
        mean, log_std = params[:n_w], params[n_w:]
        samples = rs.randn(4, n_w) * np.exp(log_std) + mean
        prior = -0.5 * np.sum(samples ** 2, axis=1)
        preds = predictions(samples, inputs)
        loglik = -0.5 * np.sum((preds - targets) ** 2, axis=(1, 2)) / 0.1 ** 2
        return -(np.mean(prior + loglik) + np.sum(log_std))
    return objective, 2 * n_w


bnn_objective, N_BNN = make_bnn_objective()


class NoisyRegressor:
    def __init__(self):
        self.rng = np.random.default_rng(11)
        self.noise = 0.1

    def predict(self, w, X):
        return X @ w + self.noise * self.rng.standard_normal(len(X))

    def loss(self, w, X, y):
        return np.mean((self.predict(w, X) - y) ** 2)


REGRESSOR = NoisyRegressor()


def model_with_rng(w, X, y):
    return REGRESSOR.loss(w, X, y) + 0.01 * np.sum(w ** 2)


def dropout_mlp(params, X, T, rng, p=0.3):
    W1, W2 = params
    h = np.tanh(X @ W1)
    mask = rng.uniform(size=h.shape) > p
    h = h * mask / (1 - p)
    return np.mean((h @ W2 - T) ** 2)


def noisy_inputs(w, X, y):
    Xn = X + 0.1 * np.random.randn(*X.shape)
    return np.sum((Xn @ w - y) ** 2)


def reparam_elbo(mu, log_sigma, rng):
    z = rng.normal(mu, np.exp(log_sigma), size=(10, mu.shape[0]))
    return -np.mean(-0.5 * np.sum((z - 1.0) ** 2, axis=1)) - np.sum(log_sigma)


# ---------------------------------------------------------------- loops, nesting, containers


def euler_ode(params, z0, steps=6, dt=0.1):
    W, b = params
    z = z0
    for _ in range(steps):
        z = z + dt * np.tanh(W @ z + b)
    return np.sum((z - 1.0) ** 2)


def adaptive_while(w, x):
    y = x
    n = 0
    while np.sum(y ** 2) > 0.01 and n < 20:
        y = 0.5 * np.tanh(w * y)
        n += 1
    return np.sum(y) + n * 0.0


def critic(x, W):
    return np.sum(np.tanh(x @ W))


def gradient_penalty(W, X):
    g = grad(critic)(X, W)
    return np.sum((np.sum(g ** 2, axis=1) - 1.0) ** 2)


def maml(w, Xtr, ytr, Xte, yte, lr=0.1):
    def task_loss(w, X, y):
        return np.mean((np.tanh(X @ w) - y) ** 2)
    w_adapted = w - lr * grad(task_loss)(w, Xtr, ytr)
    return task_loss(w_adapted, Xte, yte)


def tanh_derivatives(x):
    d1 = grad(lambda v: np.sum(np.tanh(v)))
    d2 = grad(lambda v: np.sum(d1(v)))
    return np.sum(d1(x) ** 2 + d2(x))


@dataclasses.dataclass
class Linear:
    W: np.ndarray
    b: np.ndarray

    def __call__(self, x):
        return x @ self.W + self.b


@dataclasses.dataclass
class Net:
    hidden: Linear
    out: Linear
    act: object = np.tanh

    def loss(self, X, T):
        return np.mean((self.out(self.act(self.hidden(X))) - T) ** 2)


def dataclass_net(net, X, T):
    return net.loss(X, T) + 1e-3 * np.sum(net.hidden.W ** 2)


class Gaussian(typing.NamedTuple):
    mean: np.ndarray
    log_std: np.ndarray


def kl_namedtuple(q, p):
    var_q, var_p = np.exp(2 * q.log_std), np.exp(2 * p.log_std)
    return np.sum(p.log_std - q.log_std + (var_q + (q.mean - p.mean) ** 2) / (2 * var_p) - 0.5)


def scaled_params(params, X):
    scaled = {k: v * 0.5 for k, v in params.items()}
    return np.sum(np.tanh(X @ scaled["W"] + scaled["b"]) ** 2)


def attention(Wq, Wk, Wv, X):
    Q, K, V = X @ Wq, X @ Wk, X @ Wv
    s = Q @ K.T / np.sqrt(Q.shape[1])
    a = np.exp(s - np.max(s, axis=1, keepdims=True))
    a = a / np.sum(a, axis=1, keepdims=True)
    return np.sum((a @ V) ** 2)


def matrix_factorization(U, V, M, mask):
    return np.sum(mask * (U @ V.T - M) ** 2) + 0.1 * (np.sum(U ** 2) + np.sum(V ** 2))


def contrastive(W, X, same):
    Z = X @ W
    d = np.sqrt(np.sum((Z[:, None, :] - Z[None, :, :]) ** 2, axis=2) + 1e-9)
    return np.mean(same * d ** 2 + (1 - same) * np.maximum(0.0, 1.0 - d) ** 2)


def log_barrier(x, A, b):
    slack = b - A @ x
    return np.sum(x ** 2) - np.sum(np.log(slack))


def spectral_loss(x):
    return np.sum(np.abs(np.fft.rfft(x)) ** 2) / len(x)


def kernel_ridge(log_ls, x, y, lam=0.1):
    K = rbf(x, x, log_ls, 0.0)
    alpha = np.linalg.solve(K + lam * np.eye(len(x)), y)
    return np.sum((K @ alpha - y) ** 2)


def conv1d_slices(w, x):
    n = len(x) - len(w) + 1
    out = sum(w[k] * x[k:k + n] for k in range(len(w)))
    return np.sum(np.tanh(out) ** 2)


def wrapped_phase(theta, x):
    return np.sum(np.cos(x - theta) ** 2) + np.sum(np.arctan2(np.sin(theta), np.cos(theta)))


# ---------------------------------------------------------------- SciPy

try:
    import scipy.special as sps
    import scipy.stats as sst
except ImportError:            # pragma: no cover - scipy is in the test extra
    sps = sst = None


def negbin_maxlike(params, counts):
    log_r, logit_p = params[0], params[1]
    r, p = np.exp(log_r), 1.0 / (1.0 + np.exp(-logit_p))
    ll = sps.gammaln(counts + r) - sps.gammaln(r) - sps.gammaln(counts + 1) + \
        counts * np.log(p) + r * np.log1p(-p)
    return -np.sum(ll)


def scipy_logsumexp_classifier(W, X, labels):
    z = X @ W
    return -np.sum(z[np.arange(len(labels)), labels] - sps.logsumexp(z, axis=1))


def scipy_stats_regression(w, log_sigma, X, y):
    mu = X @ w
    return -np.sum(sst.norm.logpdf(y, loc=mu, scale=np.exp(log_sigma))) - \
        np.sum(sst.norm.logpdf(w, 0.0, 1.0))


def mvn_posterior(mu, X):
    cov = np.array([[1.0, 0.3], [0.3, 2.0]])
    return -np.sum(sst.multivariate_normal.logpdf(X[:, :2], mean=mu, cov=cov))


# ---------------------------------------------------------------- the corpus

MU2, LS2 = rnd(2), rnd(2, scale=0.1)
COUNTS = np.array([1.0, 0.0, 3.0, 2.0, 1.0, 4.0])
GMM_DATA = rnd(8, 2, scale=1.5)
HMM_OBS = np.array([0, 1, 1, 2, 0])
MASK = (R.uniform(size=(4, 3)) > 0.3).astype(float)
SAME = (np.arange(6)[:, None] % 2 == np.arange(6)[None, :] % 2).astype(float)

CASES = {
    "logistic": (logistic_loglik, (rnd(3), X, Y01), 0),
    "mlp_tuples": (mlp_tuples, ([(rnd(3, 4), rnd(4)), (rnd(4, 3), rnd(3))], X, ONEHOT), 0),
    "mlp_dict": (mlp_dict, ({"W1": rnd(3, 5), "b1": rnd(5), "W2": rnd(5, 3), "b2": rnd(3)},
                            X, ONEHOT), 0),
    "mlp_zip_star": (mlp_zip, ([(rnd(3, 4), rnd(4)), (rnd(4, 4), rnd(4)), (rnd(4, 3), rnd(3))],
                               X, ONEHOT), 0),
    "softmax_regression": (softmax_regression, (rnd(3, 3), X, LABELS), 0),
    "mlp_callable_defaults": (mlp_activation_default, ([rnd(3, 4), rnd(4, 3)], X, ONEHOT), 0),
    "mlp_kwargs": (mlp_kwargs, ((rnd(3, 4), rnd(4, 3)), X, ONEHOT), 0),
    "mlp_reduce_operator": (mlp_reduce_sum, ([rnd(3, 2), rnd(3, 2), rnd(3, 2)], X), 0),
    "huber": (huber, (rnd(3), X, rnd(6, scale=2.0)), 0),
    "poisson_regression": (poisson_regression, (rnd(3, scale=0.2), X, COUNTS), 0),
    "ridge_norm": (ridge_norm, (rnd(3), X, rnd(6)), 0),
    "parser_closure": (parser_loss, (rnd(N_PARSER), X, ONEHOT), 0),
    "parser_global": (parser_global, (rnd(PARSER.num_weights), X, rnd(6)), 0),
    "model_method_rng": (model_with_rng, (rnd(3), X, rnd(6)), 0),
    "flat_weights_generator": (flat_mlp, (rnd(N_FLAT), X, rnd(6, 3)), 0),
    "rnn": (rnn_loss, ((rnd(4, 4), rnd(3, 4), rnd(4), rnd(4, 3)), SEQ, ONEHOT[:2]), 0),
    "rnn_concat_sigmoid": (rnn_concat, (rnd(5, 2), SEQ), 0),
    "lstm_dict": (lstm_loss, ({k: rnd(5, 2) for k in "fioc"}, SEQ), 0),
    "gru": (gru_loss, (rnd(5, 2), rnd(5, 2), rnd(5, 2), SEQ), (0, 1, 2)),
    "gp_solve_slogdet": (gp_neg_loglik, (np.array([-0.5, 0.1, -2.0]), GP_X, GP_Y), 0),
    "gp_cholesky": (gp_cholesky, (np.array([-0.3, 0.2, -1.5]), GP_X, GP_Y), 0),
    "gmm": (gmm_loglik, ((rnd(3), rnd(3, 2), rnd(3, 2, scale=0.1)), GMM_DATA), 0),
    "hmm_forward": (hmm_forward, (rnd(3), rnd(3, 3), rnd(3, 3), HMM_OBS), (0, 1, 2)),
    "student_t_ica": (student_t_ica, (np.eye(3) + rnd(3, 3, scale=0.2), X), 0),
    "mixture_sum_list": (mixture_components, ((0.3, 0.7), (rnd(), rnd()), rnd(5)), 2),
    "vae_reparam": (vae_loss, ({"enc": {"W": rnd(3, 4), "b": rnd(4)},
                                "dec": {"W": rnd(2, 3), "b": rnd(3)}},
                               (X > 0).astype(float), np.random.default_rng(3)), 0),
    "black_box_svi_global_rs": (black_box_svi, (np.concatenate([MU2, LS2]),), 0),
    "bayesian_nn": (bnn_objective, (rnd(N_BNN, scale=0.1),), 0),
    "dropout_generator_arg": (dropout_mlp, ((rnd(3, 5), rnd(5, 3)), X, ONEHOT,
                                            np.random.default_rng(5)), 0),
    "noisy_inputs_legacy": (noisy_inputs, (rnd(3), X, rnd(6)), 0),
    "reparam_normal_loc_scale": (reparam_elbo, (MU2, LS2, np.random.default_rng(1)), (0, 1)),
    "euler_ode": (euler_ode, ((rnd(3, 3), rnd(3)), rnd(3)), (0, 1)),
    "adaptive_while": (adaptive_while, (np.array([1.5, 0.8]), np.array([1.0, -2.0])), 0),
    "gradient_penalty": (gradient_penalty, (rnd(3, 4), X), 0),
    "maml": (maml, (rnd(3), X[:3], rnd(3), X[3:], rnd(3)), 0),
    "tanh_derivatives": (tanh_derivatives, (rnd(4),), 0),
    "dataclass_net": (dataclass_net, (Net(Linear(rnd(3, 4), rnd(4)), Linear(rnd(4, 3), rnd(3))),
                                      X, ONEHOT), 0),
    "namedtuple_kl": (kl_namedtuple, (Gaussian(rnd(3), rnd(3)), Gaussian(rnd(3), rnd(3))),
                      (0, 1)),
    "dict_comprehension": (scaled_params, ({"W": rnd(3, 2), "b": rnd(2)}, X), 0),
    "attention": (attention, (rnd(3, 2), rnd(3, 2), rnd(3, 2), X), (0, 1, 2)),
    "matrix_factorization": (matrix_factorization, (rnd(4, 2), rnd(3, 2), rnd(4, 3), MASK),
                             (0, 1)),
    "contrastive": (contrastive, (rnd(3, 2), X, SAME), 0),
    "log_barrier": (log_barrier, (rnd(3, scale=0.1), rnd(4, 3), np.ones(4) * 3.0), 0),
    "spectral_fft": (spectral_loss, (rnd(8),), 0),
    "kernel_ridge": (kernel_ridge, (np.array(-0.4), GP_X, GP_Y), 0),
    "conv1d_slices": (conv1d_slices, (rnd(3), rnd(8)), (0, 1)),
    "wrapped_phase": (wrapped_phase, (rnd(4), rnd(4)), 0),
}
if sps is not None:
    CASES.update({
        "negbin_gammaln": (negbin_maxlike, (np.array([0.3, -0.2]), COUNTS), 0),
        "scipy_logsumexp": (scipy_logsumexp_classifier, (rnd(3, 3), X, LABELS), 0),
        "scipy_norm_logpdf": (scipy_stats_regression, (rnd(3), np.array(-0.3), X, rnd(6)),
                              (0, 1)),
        "scipy_mvn_logpdf": (mvn_posterior, (rnd(2), X), 0),
    })

# forward mode is checked too, except where a loss is known to need reverse mode only
REVERSE_ONLY = set()


def _fresh(args):
    """Copies of the arguments (a generator argument in the same state)."""
    return tuple(copy.deepcopy(a) for a in args)


# methods of an object read from outside the function (a closed-over parser)
# are inlined by the lowering of objects from outside (ObjVal, the guards work)
NEEDS_OBJECTS = {"parser_closure", "parser_global", "model_method_rng"}
HAS_OBJECTS = hasattr(s2sgrad.lower.values, "ObjVal")


@pytest.mark.parametrize("name", sorted(CASES))
def test_user_loss(name):
    if name in NEEDS_OBJECTS and not HAS_OBJECTS:
        pytest.skip("methods of objects from outside the function need s2sgrad's reading of "
                    "outside objects (guards)")
    f, args, wrt = CASES[name]
    # the value, against the plain function with the same draws (the
    # generators the function reads -- globals, closure cells -- are put
    # back between the two calls)
    gens = s2sgrad.check._generators(s2sgrad.vjp(f, wrt=wrt), _fresh(args), {})
    with draws.preserved(gens) as keep:
        v, _ = value_and_grad(f, wrt=wrt)(*_fresh(args))
        keep.reset()
        expected = f(*_fresh(args))
    np.testing.assert_allclose(v, expected, rtol=1e-10, atol=1e-12)
    # the gradient (and the forward mode), against central differences
    modes = ("rev",) if name in REVERSE_ONLY else ("rev", "fwd")
    check_grads(f, _fresh(args), wrt=wrt, modes=modes, rtol=1e-4, atol=1e-6)


def test_corpus_size():
    assert len(CASES) >= 40
