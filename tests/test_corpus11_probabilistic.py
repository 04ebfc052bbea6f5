"""corpus11, part 1: probabilistic models as people write them in NumPy/SciPy:
Gaussian-process marginal likelihoods (Cholesky with jitter, ``cho_solve``,
``solve_triangular``, ARD kernels, a posterior mean at test points), Kalman
filters (predict/update loops, the log-likelihood by innovations) and an RTS
smoother, variational inference with reparameterised draws from a seeded
``np.random.Generator`` passed as data (mean-field Gaussian ELBO, a
full-covariance one through a Cholesky factor), a small VAE, normalising
flows with log-determinants (planar, affine coupling, a radial flow), an HMM
forward algorithm in probability space with scaling and in log space, CTC's
alpha recursion, a Gaussian mixture log-likelihood, a Dirichlet-multinomial,
Student-t regression.  Checked by ``tests/corpus10_harness.check``.
"""
import numpy as np
import pytest
import scipy.linalg as sla
import scipy.special as sps

from tests.corpus10_harness import run_table

R = np.random.default_rng(11010)


def rnd(*shape, scale=0.5):
    return R.normal(size=shape) * scale


# ---------------------------------------------------------------- Gaussian processes

def rbf_kernel(X1, X2, lengthscale, variance):
    sq = np.sum(X1 ** 2, 1)[:, None] + np.sum(X2 ** 2, 1)[None, :] - 2 * X1 @ X2.T
    return variance * np.exp(-0.5 * sq / lengthscale ** 2)


def gp_nll(log_params, X, y, jitter=1e-6):
    ell, sf2, sn2 = np.exp(log_params)
    n = X.shape[0]
    K = rbf_kernel(X, X, ell, sf2) + (sn2 + jitter) * np.eye(n)
    L = np.linalg.cholesky(K)
    alpha = sla.cho_solve((L, True), y)
    return 0.5 * y @ alpha + np.sum(np.log(np.diag(L))) + 0.5 * n * np.log(2 * np.pi)


def gp_nll_triangular(log_params, X, y):
    ell = np.exp(log_params[0])
    sf2 = np.exp(2 * log_params[1])
    sn2 = np.exp(2 * log_params[2])
    d = X[:, None, :] - X[None, :, :]
    K = sf2 * np.exp(-0.5 * np.sum(d ** 2, axis=-1) / ell ** 2)
    K[np.diag_indices_from(K)] += sn2 + 1e-8
    L = np.linalg.cholesky(K)
    v = sla.solve_triangular(L, y, lower=True)
    return 0.5 * np.dot(v, v) + np.log(np.diag(L)).sum()


def gp_ard_nll(log_ls, X, y, sf2=1.0, sn2=0.1):
    Xs = X / np.exp(log_ls)
    sq = ((Xs[:, None, :] - Xs[None, :, :]) ** 2).sum(-1)
    K = sf2 * np.exp(-0.5 * sq) + sn2 * np.eye(len(y))
    c, low = sla.cho_factor(K, lower=True)
    alpha = sla.cho_solve((c, low), y)
    logdet = 2.0 * np.sum(np.log(np.diag(c)))
    return 0.5 * (y @ alpha) + 0.5 * logdet


def gp_posterior_mean_loss(log_ell, X, y, Xs, ys):
    ell = np.exp(log_ell)
    K = rbf_kernel(X, X, ell, 1.0) + 0.05 * np.eye(len(X))
    Ks = rbf_kernel(Xs, X, ell, 1.0)
    mu = Ks @ np.linalg.solve(K, y)
    Kss = rbf_kernel(Xs, Xs, ell, 1.0)
    var = np.diag(Kss) - np.sum(Ks * np.linalg.solve(K, Ks.T).T, axis=1)
    return np.sum((mu - ys) ** 2) + np.sum(var)


GX = rnd(7, 2, scale=1.0)
GY = np.sin(GX[:, 0]) + 0.1 * rnd(7)
GXS = rnd(3, 2, scale=1.0)


# ---------------------------------------------------------------- Kalman filtering

def kalman_loglik(theta, ys):
    """Local-level model: theta = (log q, log r)."""
    q, r = np.exp(theta[0]), np.exp(theta[1])
    m, P = 0.0, 1.0
    ll = 0.0
    for y in ys:
        # predict
        P = P + q
        # update
        S = P + r
        K = P / S
        e = y - m
        ll = ll - 0.5 * (np.log(2 * np.pi * S) + e ** 2 / S)
        m = m + K * e
        P = (1 - K) * P
    return -ll


def kalman_matrix(params, ys, dt=0.1):
    """Constant-velocity model, position observed."""
    q, r = np.exp(params)
    F = np.array([[1.0, dt], [0.0, 1.0]])
    H = np.array([[1.0, 0.0]])
    Q = q * np.array([[dt ** 3 / 3, dt ** 2 / 2], [dt ** 2 / 2, dt]])
    R_ = np.array([[r]])
    x = np.zeros(2)
    P = np.eye(2)
    nll = 0.0
    for t in range(len(ys)):
        x = F @ x
        P = F @ P @ F.T + Q
        S = H @ P @ H.T + R_
        K = P @ H.T @ np.linalg.inv(S)
        innov = ys[t] - H @ x
        nll += 0.5 * (np.log(np.linalg.det(2 * np.pi * S)) + innov @ np.linalg.solve(S, innov))
        x = x + K @ innov
        P = (np.eye(2) - K @ H) @ P
    return nll


def rts_smoother_loss(log_q, ys, r=0.3):
    q = np.exp(log_q[0])
    T = len(ys)
    ms, Ps = np.zeros(T), np.zeros(T)
    mp, Pp = np.zeros(T), np.zeros(T)
    m, P = 0.0, 1.0
    for t in range(T):
        mp[t], Pp[t] = m, P + q
        K = Pp[t] / (Pp[t] + r)
        m = mp[t] + K * (ys[t] - mp[t])
        P = (1 - K) * Pp[t]
        ms[t], Ps[t] = m, P
    sm = ms.copy()
    for t in range(T - 2, -1, -1):
        G = Ps[t] / Pp[t + 1]
        sm[t] = ms[t] + G * (sm[t + 1] - mp[t + 1])
    return np.sum((sm - ys) ** 2)


KY = np.cumsum(rnd(8)) + 0.2 * rnd(8)


# ---------------------------------------------------------------- variational inference

def log_joint(z, X, y, prior_var=4.0):
    logits = X @ z
    ll = np.sum(y * logits - np.logaddexp(0, logits))
    return ll - 0.5 * np.sum(z ** 2) / prior_var


def elbo_meanfield(params, X, y, eps):
    d = X.shape[1]
    mu, log_sigma = params[:d], params[d:]
    sigma = np.exp(log_sigma)
    z = mu + sigma * eps                  # eps: (S, d) fixed draws
    lj = np.mean([log_joint(zs, X, y) for zs in z])
    entropy = np.sum(log_sigma) + 0.5 * d * (1 + np.log(2 * np.pi))
    return -(lj + entropy)


def elbo_fullcov(mu, Lflat, X, y, rng, S=4):
    d = mu.shape[0]
    L = np.zeros((d, d))
    L[np.tril_indices(d)] = Lflat
    diag = np.diag(L)
    L = L - np.diag(diag) + np.diag(np.exp(diag))
    eps = rng.standard_normal((S, d))
    Z = mu + eps @ L.T
    logits = Z @ X.T
    lj = np.sum(y * logits - np.logaddexp(0, logits)) / S - 0.5 * np.sum(Z ** 2) / S
    return -(lj + np.sum(diag))


def elbo_rng_loop(params, X, y, rng, n_samples=3):
    mu, rho = params
    sigma = np.log1p(np.exp(rho))
    total = 0.0
    for _ in range(n_samples):
        e = rng.normal(size=mu.shape)
        w = mu + sigma * e
        total = total + log_joint(w, X, y)
    kl = np.sum(-np.log(sigma) + 0.5 * (sigma ** 2 + mu ** 2) - 0.5)
    return kl - total / n_samples


VX = rnd(8, 3, scale=1.0)
VY = (R.random(8) < 0.5).astype(float)


# ---------------------------------------------------------------- VAE

def vae_loss(params, x, eps):
    W_enc, b_enc, W_mu, W_lv, W_dec, b_dec = params
    h = np.tanh(x @ W_enc + b_enc)
    mu = h @ W_mu
    logvar = h @ W_lv
    z = mu + np.exp(0.5 * logvar) * eps
    logits = z @ W_dec + b_dec
    rec = np.sum(np.maximum(logits, 0) - logits * x + np.log1p(np.exp(-np.abs(logits))))
    kl = -0.5 * np.sum(1 + logvar - mu ** 2 - np.exp(logvar))
    return (rec + kl) / x.shape[0]


VAE_P = [rnd(4, 3), rnd(3), rnd(3, 2), rnd(3, 2), rnd(2, 4), rnd(4)]
VAE_X = (R.random((5, 4)) < 0.4).astype(float)
VAE_E = rnd(5, 2, scale=1.0)


# ---------------------------------------------------------------- normalising flows

def planar_flow_nll(params, x):
    u, w, b = params["u"], params["w"], params["b"]
    z = x
    logdet = 0.0
    for k in range(u.shape[0]):
        a = z @ w[k] + b[k]
        h = np.tanh(a)
        z = z + u[k] * h[:, None]
        psi = (1 - h ** 2)[:, None] * w[k]
        logdet = logdet + np.log(np.abs(1 + psi @ u[k]))
    base = -0.5 * np.sum(z ** 2, axis=1) - z.shape[1] / 2 * np.log(2 * np.pi)
    return -np.mean(base + logdet)


def coupling_nll(theta, x):
    Ws, bs, Wt, bt = theta
    x1, x2 = x[:, :1], x[:, 1:]
    s = np.tanh(x1 @ Ws + bs)
    t = x1 @ Wt + bt
    y2 = x2 * np.exp(s) + t
    y = np.concatenate([x1, y2], axis=1)
    log_det = np.sum(s, axis=1)
    log_pz = -0.5 * np.sum(y ** 2, axis=1) - np.log(2 * np.pi)
    return -np.mean(log_pz + log_det)


def radial_flow(params, x):
    z0, log_alpha, beta_raw = params[:2], params[2], params[3]
    alpha = np.exp(log_alpha)
    beta = -alpha + np.log1p(np.exp(beta_raw))
    diff = x - z0
    r = np.linalg.norm(diff, axis=1)
    h = 1.0 / (alpha + r)
    y = x + beta * h[:, None] * diff
    d = x.shape[1]
    logdet = (d - 1) * np.log1p(beta * h) + np.log1p(beta * h - beta * h ** 2 * r)
    return -np.mean(-0.5 * np.sum(y ** 2, 1) + logdet)


FX = rnd(6, 2, scale=1.0)


# ---------------------------------------------------------------- HMMs, CTC

def hmm_scaled_forward(logits_A, logits_B, obs, pi):
    A = np.exp(logits_A) / np.exp(logits_A).sum(axis=1, keepdims=True)
    B = np.exp(logits_B) / np.exp(logits_B).sum(axis=1, keepdims=True)
    alpha = pi * B[:, obs[0]]
    c = alpha.sum()
    alpha = alpha / c
    loglik = np.log(c)
    for t in range(1, len(obs)):
        alpha = (alpha @ A) * B[:, obs[t]]
        c = alpha.sum()
        alpha /= c
        loglik += np.log(c)
    return -loglik


def hmm_log_forward(log_A, log_B, obs, log_pi):
    la = log_pi + log_B[:, obs[0]]
    for o in obs[1:]:
        la = sps.logsumexp(la[:, None] + log_A, axis=0) + log_B[:, o]
    return -sps.logsumexp(la)


def ctc_loss(logits, labels, blank=0):
    T = logits.shape[0]
    m = logits.max(axis=1, keepdims=True)
    logp = logits - m - np.log(np.sum(np.exp(logits - m), axis=1, keepdims=True))
    ext = [blank]
    for l in labels:
        ext += [l, blank]
    S = len(ext)
    alpha = np.full(S, -np.inf)
    alpha[0] = logp[0, ext[0]]
    alpha[1] = logp[0, ext[1]]
    for t in range(1, T):
        new = np.full(S, -np.inf)
        for s in range(S):
            a = alpha[s]
            if s > 0:
                a = np.logaddexp(a, alpha[s - 1])
            if s > 1 and ext[s] != blank and ext[s] != ext[s - 2]:
                a = np.logaddexp(a, alpha[s - 2])
            new[s] = a + logp[t, ext[s]]
        alpha = new
    return -np.logaddexp(alpha[-1], alpha[-2])


OBS = np.array([0, 2, 1, 1, 0, 2])
PI = np.array([0.5, 0.3, 0.2])


# ---------------------------------------------------------------- mixtures and likelihoods

def gmm_loglik(params, X, K=2):
    logits, means, log_sd = params["logits"], params["means"], params["log_sd"]
    log_w = logits - sps.logsumexp(logits)
    sd = np.exp(log_sd)
    diff = (X[:, None, :] - means[None, :, :]) / sd[None, :, :]
    comp = -0.5 * np.sum(diff ** 2, axis=2) - np.sum(log_sd, axis=1) \
        - 0.5 * X.shape[1] * np.log(2 * np.pi)
    return -np.sum(sps.logsumexp(log_w + comp, axis=1))


def dirichlet_multinomial_nll(log_alpha, counts):
    alpha = np.exp(log_alpha)
    A = alpha.sum()
    n = counts.sum(axis=1)
    ll = sps.gammaln(A) - sps.gammaln(n + A) \
        + np.sum(sps.gammaln(counts + alpha) - sps.gammaln(alpha), axis=1)
    return -np.sum(ll)


def student_t_regression(w, X, y, log_nu=np.log(4.0), log_s=0.0):
    nu, s = np.exp(log_nu), np.exp(log_s)
    r = (y - X @ w) / s
    ll = sps.gammaln((nu + 1) / 2) - sps.gammaln(nu / 2) - 0.5 * np.log(nu * np.pi) - np.log(s) \
        - (nu + 1) / 2 * np.log1p(r ** 2 / nu)
    return -ll.sum()


def student_t_joint(theta, X, y):
    w, log_nu, log_s = theta[:-2], theta[-2], theta[-1]
    return student_t_regression(w, X, y, log_nu, log_s)


CASES = {
    "gp_nll": (gp_nll, (np.array([0.1, 0.2, -1.5]), GX, GY), 0, {}, {"order2": True}),
    "gp_nll_triangular": (gp_nll_triangular, (np.array([0.0, 0.1, -1.0]), GX, GY), 0, {}),
    "gp_ard": (gp_ard_nll, (np.array([0.2, -0.1]), GX, GY), 0, {}),
    "gp_posterior": (gp_posterior_mean_loss, (np.array(0.3), GX, GY, GXS, np.cos(GXS[:, 0])),
                     0, {}),
    "kalman_scalar": (kalman_loglik, (np.array([-1.0, -0.5]), KY), 0, {}, {"order2": True}),
    "kalman_matrix": (kalman_matrix, (np.array([-1.0, -1.5]), KY), 0, {}),
    "rts_smoother": (rts_smoother_loss, (np.array([-1.0]), KY), 0, {}),
    "elbo_meanfield": (elbo_meanfield, (rnd(6), VX, VY, rnd(4, 3, scale=1.0)), 0, {}),
    "elbo_fullcov": (elbo_fullcov, (rnd(3), rnd(6, scale=0.2), VX, VY,
                                    np.random.default_rng(3)), (0, 1), {}),
    "elbo_rng_loop": (elbo_rng_loop, ((rnd(3), rnd(3)), VX, VY, np.random.default_rng(4)),
                      0, {}),
    "vae": (vae_loss, (VAE_P, VAE_X, VAE_E), 0, {}),
    "planar_flow": (planar_flow_nll, ({"u": rnd(2, 2), "w": rnd(2, 2), "b": rnd(2)}, FX), 0,
                    {}),
    "coupling": (coupling_nll, ((rnd(1, 1), rnd(1), rnd(1, 1), rnd(1)), FX), 0, {}),
    "radial_flow": (radial_flow, (np.array([0.1, -0.2, 0.0, 0.3]), FX), 0, {}),
    "hmm_scaled": (hmm_scaled_forward, (rnd(3, 3), rnd(3, 3), OBS, PI), (0, 1), {}),
    "hmm_log": (hmm_log_forward, (np.log(np.full((3, 3), 1 / 3)) + rnd(3, 3), rnd(3, 3) - 1,
                                  OBS, np.log(PI)), (0, 1), {}, {"f32": False}),
    "ctc": (ctc_loss, (rnd(5, 3, scale=1.0), [1, 2, 2]), 0, {}),
    "gmm": (gmm_loglik, ({"logits": rnd(2), "means": rnd(2, 2, scale=1.0),
                          "log_sd": rnd(2, 2, scale=0.2)}, rnd(6, 2, scale=1.0)), 0, {}),
    "dirichlet_multinomial": (dirichlet_multinomial_nll, (rnd(3), np.array([[3., 1, 0], [2, 2, 4]])),
                              0, {}),
    "student_t": (student_t_regression, (rnd(3), VX, VX @ np.array([1., -1, 0.5]) + rnd(8)), 0,
                  {}),
    "student_t_joint": (student_t_joint, (np.concatenate([rnd(3), [np.log(4.0), 0.1]]), VX,
                                          VX @ np.array([1., -1, 0.5]) + rnd(8)), 0, {}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus11_probabilistic(name):
    run_table(CASES, name)
