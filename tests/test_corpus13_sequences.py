"""corpus13, part 2: sequence and latent-variable models as written in
NumPy: a Kalman-filter log-likelihood (predict/update loop with the
covariance updated in place, ``P -= K @ S @ K.T``), an HMM forward
algorithm in log space (``logsumexp`` over the previous column, written
with ``np.newaxis``), a linear-chain CRF log-partition and path score,
GARCH(1,1) and ARMA(1,1) residual recursions filled into preallocated
arrays, a VAE ELBO with the reparameterisation noise passed in, planar and
affine-coupling normalizing flows with their log-determinants, an Elman RNN
classifier over ``reversed`` inputs, and a Weibull AFT survival
likelihood.  Checked by ``tests/corpus10_harness.check``.
"""
import numpy as np
import pytest
from scipy.special import logsumexp

from tests.corpus10_harness import run_table

R = np.random.default_rng(13020)


def rnd(*shape, scale=0.5):
    return R.normal(size=shape) * scale


# ---------------------------------------------------------------- Kalman filter

def kalman_loglik(params, ys):
    F, log_q, log_r = params["F"], params["log_q"], params["log_r"]
    d = F.shape[0]
    H = np.eye(1, d)
    Q = np.exp(log_q) * np.eye(d)
    Rn = np.exp(log_r) * np.eye(1)
    x = np.zeros(d)
    P = np.eye(d)
    ll = 0.0
    for y in ys:
        # predict
        x = F @ x
        P = F @ P @ F.T + Q
        # update
        S = H @ P @ H.T + Rn
        v = y - H @ x
        K = P @ H.T @ np.linalg.inv(S)
        x = x + K @ v
        P -= K @ S @ K.T
        ll += -0.5 * (np.log(2 * np.pi * S[0, 0]) + v[0] ** 2 / S[0, 0])
    return -ll


def kalman_joseph(F, ys, q=0.1, r=0.2):
    d = F.shape[0]
    H = np.zeros((1, d))
    H[0, 0] = 1.0
    x, P = np.zeros(d), np.eye(d)
    nll = 0.0
    I = np.eye(d)
    for t in range(len(ys)):
        x = F.dot(x)
        P = F.dot(P).dot(F.T) + q * I
        s = (H @ P @ H.T).item() + r
        K = (P @ H.T) / s
        innov = ys[t] - (H @ x)[0]
        x += K[:, 0] * innov
        A = I - K @ H
        P = A @ P @ A.T + r * K @ K.T
        nll += 0.5 * (np.log(s) + innov * innov / s)
    return nll


# ---------------------------------------------------------------- HMM, CRF

def hmm_forward(params, obs):
    log_pi, log_A, means = params
    log_pi = log_pi - logsumexp(log_pi)
    log_A = log_A - logsumexp(log_A, axis=1, keepdims=True)
    T = len(obs)
    log_b = -0.5 * (obs[:, np.newaxis] - means[np.newaxis, :]) ** 2
    alpha = log_pi + log_b[0]
    for t in range(1, T):
        alpha = logsumexp(alpha[:, None] + log_A, axis=0) + log_b[t]
    return -logsumexp(alpha)


def hmm_forward_table(log_A, log_b):
    T, K = log_b.shape
    la = np.empty((T, K))
    la[0] = log_b[0] - np.log(K)
    for t in range(1, T):
        prev = la[t - 1][:, None] + log_A
        m = prev.max(axis=0)
        la[t] = m + np.log(np.exp(prev - m).sum(axis=0)) + log_b[t]
    return -np.logaddexp.reduce(la[-1])


def crf_nll(params, X, tags):
    W, trans = params["W"], params["trans"]
    emis = X @ W                                   # (T, K)
    T, K = emis.shape
    # score of the gold path
    score = emis[0, tags[0]]
    for t in range(1, T):
        score = score + trans[tags[t - 1], tags[t]] + emis[t, tags[t]]
    # log partition by the forward recursion
    alpha = emis[0]
    for t in range(1, T):
        alpha = logsumexp(alpha[:, None] + trans + emis[t][None, :], axis=0)
    return logsumexp(alpha) - score


# ---------------------------------------------------------------- econometrics

def garch_nll(theta, r):
    omega, alpha, beta = np.exp(theta)
    T = r.shape[0]
    sigma2 = np.empty(T)
    sigma2[0] = np.var(r)
    for t in range(1, T):
        sigma2[t] = omega + alpha * r[t - 1] ** 2 + beta * sigma2[t - 1]
    return 0.5 * np.sum(np.log(2 * np.pi * sigma2) + r ** 2 / sigma2)


def arma_css(params, y):
    c, phi, theta = params
    e = np.zeros_like(y)
    for t in range(1, len(y)):
        e[t] = y[t] - c - phi * y[t - 1] - theta * e[t - 1]
    return (e[1:] ** 2).sum() / (len(y) - 1)


def ar_p_loglik(coef, y, p=3):
    resid = [y[t] - sum(coef[k] * y[t - k - 1] for k in range(p)) for t in range(p, len(y))]
    resid = np.array(resid)
    s2 = np.mean(resid ** 2)
    return 0.5 * len(resid) * np.log(s2)


# ---------------------------------------------------------------- VAE, flows

def vae_elbo(params, x, eps):
    We, be, Wmu, Wlv, Wd, bd = params
    h = np.tanh(x @ We + be)
    mu = h @ Wmu
    logvar = h @ Wlv
    z = mu + np.exp(0.5 * logvar) * eps
    logits = z @ Wd + bd
    # Bernoulli likelihood, stable: x*logits - softplus(logits)
    rec = np.sum(x * logits - np.logaddexp(0, logits), axis=1)
    kl = -0.5 * np.sum(1 + logvar - mu ** 2 - np.exp(logvar), axis=1)
    return -np.mean(rec - kl)


def planar_flow(params, z0):
    log_det = np.zeros(z0.shape[0])
    z = z0
    for u, w, b in params:
        # enforce invertibility: u_hat with w.u_hat >= -1
        wu = w @ u
        u_hat = u + (np.log1p(np.exp(wu)) - 1 - wu) * w / (w @ w)
        a = z @ w + b
        z = z + np.outer(np.tanh(a), u_hat)
        psi = (1 - np.tanh(a) ** 2)[:, None] * w[None, :]
        log_det += np.log(np.abs(1 + psi @ u_hat))
    base = -0.5 * np.sum(z ** 2, axis=1)
    return -np.mean(base + log_det)


def affine_coupling(params, x):
    d = x.shape[1] // 2
    ll = np.zeros(x.shape[0])
    for k, (Ws, Wt) in enumerate(params):
        x1, x2 = (x[:, :d], x[:, d:]) if k % 2 == 0 else (x[:, d:], x[:, :d])
        s = np.tanh(x1 @ Ws)
        t = x1 @ Wt
        y2 = x2 * np.exp(s) + t
        ll = ll + s.sum(axis=1)
        x = np.concatenate([x1, y2], axis=1) if k % 2 == 0 else np.hstack((y2, x1))
    return -np.mean(-0.5 * (x ** 2).sum(axis=1) + ll)


# ---------------------------------------------------------------- RNN, survival

def rnn_reversed(params, xs, label):
    Wx, Wh, wo = params
    h = np.zeros(Wh.shape[0])
    for x in reversed(xs):
        h = np.tanh(Wx @ x + Wh @ h)
    logit = wo @ h
    return np.logaddexp(0.0, -logit if label == 1 else logit)


def weibull_aft(params, X, t, event):
    beta, log_k = params[:-1], params[-1]
    k = np.exp(log_k)
    lam = np.exp(X @ beta)
    z = (t / lam) ** k
    log_f = np.log(k) - np.log(lam) + (k - 1) * np.log(t / lam) - z
    log_S = -z
    return -np.sum(np.where(event == 1, log_f, log_S))


YS_K = np.cumsum(R.normal(size=8)) * 0.3
OBS = R.normal(size=7)
XT = rnd(6, 3, scale=1.0)
TAGS = np.array([0, 2, 1, 1, 0, 2])
RET = R.normal(size=20) * 0.1
ARMA_Y = np.cumsum(R.normal(size=12)) * 0.2
XV = (R.random((4, 5)) < 0.5).astype(float)
XS = R.normal(size=(5, 2))
XW = rnd(9, 2, scale=1.0)
TW = R.exponential(size=9) + 0.2
EW = (R.random(9) < 0.7).astype(float)

CASES = {
    "kalman": (kalman_loglik, ({"F": np.array([[0.9, 0.1], [0.0, 0.8]]), "log_q": -2.0,
                                "log_r": -1.0}, YS_K), 0, {}),
    "kalman_joseph": (kalman_joseph, (np.array([[0.9, 0.2], [-0.1, 0.7]]), YS_K), 0, {}),
    "kalman_joseph_data": (kalman_joseph, (np.array([[0.9, 0.2], [-0.1, 0.7]]), YS_K), 1, {}),
    "hmm_forward": (hmm_forward, ((rnd(3), rnd(3, 3), np.array([-1.0, 0.0, 1.0])), OBS), 0, {}),
    "hmm_forward_obs": (hmm_forward, ((rnd(3), rnd(3, 3), np.array([-1.0, 0.0, 1.0])), OBS),
                        1, {}),
    "hmm_table": (hmm_forward_table, (rnd(3, 3), rnd(6, 3)), (0, 1), {}),
    "crf": (crf_nll, ({"W": rnd(3, 3), "trans": rnd(3, 3)}, XT, TAGS), 0, {}),
    "garch": (garch_nll, (np.log(np.array([0.01, 0.1, 0.8])), RET), 0, {}, {"order2": True}),
    "garch_returns": (garch_nll, (np.log(np.array([0.01, 0.1, 0.8])), RET), 1, {}),
    "arma": (arma_css, ((0.1, 0.5, -0.3), ARMA_Y), 0, {}),
    "ar_p": (ar_p_loglik, (np.array([0.5, -0.2, 0.1]), ARMA_Y), 0, {}),
    "vae": (vae_elbo, ((rnd(5, 4), rnd(4), rnd(4, 2), rnd(4, 2), rnd(2, 5), rnd(5)), XV,
                       rnd(4, 2, scale=1.0)), 0, {}),
    "planar": (planar_flow, ([(rnd(2), rnd(2), 0.1), (rnd(2), rnd(2), -0.2)],
                             rnd(6, 2, scale=1.0)), 0, {}),
    "planar_z": (planar_flow, ([(rnd(2), rnd(2), 0.1), (rnd(2), rnd(2), -0.2)],
                               rnd(6, 2, scale=1.0)), 1, {}),
    "coupling": (affine_coupling, ([(rnd(2, 2), rnd(2, 2)), (rnd(2, 2), rnd(2, 2)),
                                    (rnd(2, 2), rnd(2, 2))], rnd(5, 4, scale=1.0)),
                 (0, 1), {}),
    "rnn_reversed": (rnn_reversed, ((rnd(3, 2), rnd(3, 3), rnd(3)), XS, 1), 0, {}),
    "rnn_reversed_x": (rnn_reversed, ((rnd(3, 2), rnd(3, 3), rnd(3)), XS, 0), 1, {}),
    "weibull_aft": (weibull_aft, (np.array([0.2, -0.1, 0.3]), XW, TW, EW), 0, {},
                    {"order2": True}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus13_sequences(name):
    run_table(CASES, name)
