"""corpus9, part 2: scientific and statistical programs as users write them:
state-space models (Kalman filter), optimal transport (log-domain Sinkhorn
with a tolerance loop), soft-DTW, physics (N-body, springs, RK4, leapfrog,
heat equation, pendulum shooting, 1-D finite elements), the classic
optimisation test functions in vectorised and loop form, GLMs with
``gammaln``, survival models (Weibull, Cox), normalising flows, GP marginal
likelihood through ``scipy.linalg.cho_factor``, polynomial and spline fits,
ridge, PCA through the SVD, NeRF-style volume rendering.

Checked by ``tests/corpus9_harness.run_case`` (value, gradient against
central differences leaf by leaf, structure, arguments unchanged, cached
second call, forward mode unless noted).
"""
import numpy as np
import pytest
import scipy.linalg
import scipy.special as sps
import scipy.stats

from tests.corpus9_harness import run_case

R = np.random.default_rng(20261204)


def rnd(*shape, scale=0.5):
    return R.normal(size=shape) * scale


# ---------------------------------------------------------------- state-space models, OT, DTW

def kalman_loglik(params, ys, dt=0.1):
    log_q, log_r = params["log_q"], params["log_r"]
    F = np.array([[1.0, dt], [0.0, 1.0]])
    H = np.array([[1.0, 0.0]])
    Q = np.exp(log_q) * np.array([[dt ** 3 / 3, dt ** 2 / 2], [dt ** 2 / 2, dt]])
    Rm = np.exp(log_r) * np.eye(1)
    m = np.zeros(2)
    P = np.eye(2)
    ll = 0.0
    for y in ys:
        m = F @ m
        P = F @ P @ F.T + Q
        S = H @ P @ H.T + Rm
        v = y - H @ m
        K = P @ H.T @ np.linalg.inv(S)
        m = m + K @ v
        P = (np.eye(2) - K @ H) @ P
        ll = ll - 0.5 * (v @ np.linalg.solve(S, v) + np.log(np.linalg.det(S)) + np.log(2 * np.pi))
    return -ll


def sinkhorn_log(C, a, b, eps=0.5, tol=1e-9, max_iter=500):
    f = np.zeros_like(a)
    g = np.zeros_like(b)
    err = 1.0
    it = 0
    while err > tol and it < max_iter:
        f_new = eps * np.log(a) - eps * sps.logsumexp((g[None, :] - C) / eps, axis=1)
        g = eps * np.log(b) - eps * sps.logsumexp((f_new[:, None] - C) / eps, axis=0)
        err = np.max(np.abs(f_new - f))
        f = f_new
        it += 1
    P = np.exp((f[:, None] + g[None, :] - C) / eps)
    return np.sum(P * C)


def softmin(a, b, c, gamma):
    vals = np.array([a, b, c]) / -gamma
    m = np.max(vals)
    return -gamma * (m + np.log(np.sum(np.exp(vals - m))))


def soft_dtw(x, y, gamma=0.5):
    n, m = len(x), len(y)
    D = (x[:, None] - y[None, :]) ** 2
    Rt = np.full((n + 1, m + 1), np.inf)
    Rt[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            Rt[i, j] = D[i - 1, j - 1] + softmin(Rt[i - 1, j], Rt[i, j - 1], Rt[i - 1, j - 1],
                                                 gamma)
    return Rt[n, m]


# ---------------------------------------------------------------- physics

def nbody_energy(pos, masses, G=1.0, soft=0.1):
    n = pos.shape[0]
    i, j = np.triu_indices(n, k=1)
    d = pos[i] - pos[j]
    r = np.sqrt(np.sum(d ** 2, axis=1) + soft ** 2)
    return -G * np.sum(masses[i] * masses[j] / r)


def spring_chain_energy(x, k=2.0, rest=1.0):
    ext = np.diff(x) - rest
    return 0.5 * k * np.sum(ext ** 2) + 0.1 * np.sum(x ** 4)


def rk4_oscillator(params, x0, v0, T=2.0, n_steps=20):
    k, c = params
    dt = T / n_steps

    def deriv(state):
        x, v = state
        return np.array([v, -k * x - c * v])

    s = np.array([x0, v0])
    traj = []
    for _ in range(n_steps):
        k1 = deriv(s)
        k2 = deriv(s + 0.5 * dt * k1)
        k3 = deriv(s + 0.5 * dt * k2)
        k4 = deriv(s + dt * k3)
        s = s + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        traj.append(s[0])
    traj = np.array(traj)
    target = np.cos(np.linspace(dt, T, n_steps))
    return np.mean((traj - target) ** 2)


def leapfrog_hamiltonian(q0, p0, eps=0.1, L=10):
    def grad_U(q):
        return q + 0.3 * q ** 3      # U = q^2/2 + 0.075 q^4

    q, p = q0.copy(), p0.copy()
    p = p - 0.5 * eps * grad_U(q)
    for step in range(L):
        q = q + eps * p
        if step != L - 1:
            p = p - eps * grad_U(q)
    p = p - 0.5 * eps * grad_U(q)
    H = 0.5 * np.sum(q ** 2) + 0.075 * np.sum(q ** 4) + 0.5 * np.sum(p ** 2)
    return H + np.sum(q)


def heat_equation(u0, alpha, steps=15, dx=0.1, dt=0.002):
    u = u0.copy()
    r = alpha * dt / dx ** 2
    for _ in range(steps):
        u[1:-1] = u[1:-1] + r * (u[2:] - 2 * u[1:-1] + u[:-2])
        u[0] = 0.0
        u[-1] = 0.0
    return np.sum(u ** 2)


def pendulum_shoot(omega0, theta0=0.3, g=9.81, length=1.0, dt=0.02, n=40, target=0.5):
    theta, omega = theta0, omega0
    for _ in range(n):
        omega = omega - dt * g / length * np.sin(theta)
        theta = theta + dt * omega
    return (theta - target) ** 2


def fem_bar_energy(u, k, f, h=0.25):
    strain = np.diff(np.concatenate([[0.0], u])) / h     # clamped at x = 0
    return 0.5 * np.sum(k * strain ** 2) * h - h * np.dot(f, u)


def lotka_volterra_fit(log_params, obs, dt=0.05):
    a, b, c, d = np.exp(log_params)
    x, y = 1.0, 0.5
    loss = 0.0
    for t in range(obs.shape[0]):
        for _ in range(2):
            dx = a * x - b * x * y
            dy = d * x * y - c * y
            x, y = x + dt * dx, y + dt * dy
        loss += (x - obs[t, 0]) ** 2 + (y - obs[t, 1]) ** 2
    return loss


# ---------------------------------------------------------------- test functions

def rosenbrock(x, a=1.0, b=100.0):
    return np.sum(b * (x[1:] - x[:-1] ** 2) ** 2 + (a - x[:-1]) ** 2)


def rosenbrock_loop(x):
    total = 0.0
    for i in range(len(x) - 1):
        total += 100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2
    return total


def beale(xy):
    x, y = xy
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2 + (2.625 - x + x * y ** 3) ** 2


def himmelblau(x, y):
    return (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2


def ackley(x, a=20.0, b=0.2, c=2 * np.pi):
    d = x.size
    s1 = np.sum(x ** 2)
    s2 = np.sum(np.cos(c * x))
    return -a * np.exp(-b * np.sqrt(s1 / d)) - np.exp(s2 / d) + a + np.e


def rastrigin(x, A=10):
    n = len(x)
    return A * n + sum(xi ** 2 - A * np.cos(2 * np.pi * xi) for xi in x)


def styblinski_tang(x):
    return 0.5 * np.sum(x ** 4 - 16 * x ** 2 + 5 * x)


# ---------------------------------------------------------------- GLMs, survival

def poisson_glm(beta, X, y, offset=None):
    eta = X @ beta
    if offset is not None:
        eta = eta + offset
    return -np.sum(y * eta - np.exp(eta) - sps.gammaln(y + 1))


def negbin_glm(params, X, y):
    beta, log_alpha = params["beta"], params["log_alpha"]
    mu = np.exp(X @ beta)
    r = np.exp(-log_alpha)
    ll = (sps.gammaln(y + r) - sps.gammaln(r) - sps.gammaln(y + 1)
          + r * np.log(r / (r + mu)) + y * np.log(mu / (r + mu)))
    return -np.sum(ll)


def gamma_glm(params, X, y):
    beta, log_shape = params
    shape = np.exp(log_shape)
    mu = np.exp(X @ beta)
    rate = shape / mu
    return -np.sum(shape * np.log(rate) - sps.gammaln(shape) + (shape - 1) * np.log(y) - rate * y)


def weibull_survival(params, X, t, event):
    beta, log_k = params
    k = np.exp(log_k)
    lam = np.exp(X @ beta)
    z = (t / lam) ** k
    log_h = np.log(k) - np.log(lam) + (k - 1) * np.log(t / lam)
    return -np.sum(event * log_h - z)


def cox_partial_likelihood(beta, X, times, events):
    order = np.argsort(-times)
    eta = X[order] @ beta
    ev = events[order]
    log_risk = np.log(np.cumsum(np.exp(eta)))
    return -np.sum(ev * (eta - log_risk))


def student_t_regression(params, X, y):
    w, log_sigma, log_nu = params["w"], params["log_sigma"], params["log_nu"]
    nu = np.exp(log_nu)
    sigma = np.exp(log_sigma)
    r = (y - X @ w) / sigma
    ll = (sps.gammaln((nu + 1) / 2) - sps.gammaln(nu / 2) - 0.5 * np.log(nu * np.pi) - log_sigma
          - (nu + 1) / 2 * np.log1p(r ** 2 / nu))
    return -np.sum(ll)


def probit_regression(w, X, y):
    z = X @ w
    return -np.sum(y * scipy.stats.norm.logcdf(z) + (1 - y) * scipy.stats.norm.logcdf(-z))


def beta_regression(params, X, y):
    w, log_phi = params
    mu = sps.expit(X @ w)
    phi = np.exp(log_phi)
    return -np.sum(scipy.stats.beta.logpdf(y, mu * phi, (1 - mu) * phi))


# ---------------------------------------------------------------- flows, GPs, fits

def planar_flow_logdensity(params, z0):
    z = z0
    log_det = np.zeros(z0.shape[0])
    for u, w, b in params:
        a = z @ w + b
        h = np.tanh(a)
        psi = (1 - h ** 2)[:, None] * w[None, :]
        log_det = log_det + np.log(np.abs(1 + psi @ u))
        z = z + h[:, None] * u[None, :]
    base = -0.5 * np.sum(z0 ** 2, axis=1) - z0.shape[1] / 2 * np.log(2 * np.pi)
    return -np.mean(base - log_det + -0.5 * np.sum(z ** 2, axis=1))


def affine_coupling_nll(params, x):
    d = x.shape[1] // 2
    x1, x2 = x[:, :d], x[:, d:]
    h = np.tanh(x1 @ params["W"] + params["b"])
    s = np.tanh(h @ params["Ws"])
    t = h @ params["Wt"]
    y2 = x2 * np.exp(s) + t
    y = np.concatenate([x1, y2], axis=1)
    log_det = np.sum(s, axis=1)
    log_pz = -0.5 * np.sum(y ** 2, axis=1) - x.shape[1] * 0.5 * np.log(2 * np.pi)
    return -np.mean(log_pz + log_det)


def linear_flow_slogdet(W, x):
    y = x @ W.T
    sign, logabsdet = np.linalg.slogdet(W)
    return -np.mean(-0.5 * np.sum(y ** 2, axis=1)) - logabsdet


def gp_cho(log_params, x, y):
    ell, sf, sn = np.exp(log_params)
    K = sf ** 2 * np.exp(-0.5 * (x[:, None] - x[None, :]) ** 2 / ell ** 2) \
        + (sn ** 2 + 1e-8) * np.eye(len(x))
    c, low = scipy.linalg.cho_factor(K, lower=True)
    alpha = scipy.linalg.cho_solve((c, low), y)
    return 0.5 * y @ alpha + np.sum(np.log(np.diag(c))) + 0.5 * len(x) * np.log(2 * np.pi)


def polyfit_loss(coeffs, x, y):
    return np.mean((np.polyval(coeffs, x) - y) ** 2)


def vander_ridge_loss(c, x, y, lam=1e-2):
    V = np.vander(x, len(c), increasing=True)
    return np.sum((V @ c - y) ** 2) + lam * np.sum(c[1:] ** 2)


def ridge_validation(log_lam, Xtr, ytr, Xva, yva):
    lam = np.exp(log_lam)
    d = Xtr.shape[1]
    w = np.linalg.solve(Xtr.T @ Xtr + lam * np.eye(d), Xtr.T @ ytr)
    return np.mean((Xva @ w - yva) ** 2)


def pca_reconstruction(X, k=2):
    Xc = X - X.mean(axis=0)
    U, S, Vt = np.linalg.svd(Xc, full_matrices=False)
    Xk = U[:, :k] * S[:k] @ Vt[:k]
    return np.sum((Xc - Xk) ** 2) + np.sum(S[:k])


def piecewise_linear(values, xq, knots):
    return np.sum(np.interp(xq, knots, values) ** 2)


def volume_render(sigma, rgb, deltas):
    alpha = 1.0 - np.exp(-sigma * deltas)
    trans = np.cumprod(1.0 - alpha + 1e-10)
    trans = np.concatenate([[1.0], trans[:-1]])
    weights = alpha * trans
    color = np.sum(weights[:, None] * rgb, axis=0)
    depth = np.sum(weights * np.cumsum(deltas))
    return np.sum((color - np.array([0.2, 0.5, 0.3])) ** 2) + 0.1 * depth


def mahalanobis_nll(params, X):
    mu, L = params
    Lt = np.tril(L)
    Sigma = Lt @ Lt.T + 0.1 * np.eye(len(mu))
    diff = X - mu
    sol = np.linalg.solve(Sigma, diff.T)
    return 0.5 * np.sum(diff.T * sol) + 0.5 * X.shape[0] * np.linalg.slogdet(Sigma)[1]


def two_link_arm_loss(angles, target, l1=1.0, l2=0.7):
    t1, t2 = angles[0], angles[1]
    x = l1 * np.cos(t1) + l2 * np.cos(t1 + t2)
    y = l1 * np.sin(t1) + l2 * np.sin(t1 + t2)
    return (x - target[0]) ** 2 + (y - target[1]) ** 2


# ---------------------------------------------------------------- the cases

X = rnd(8, 3, scale=1.0)
COUNTS = np.array([0.0, 3.0, 1.0, 5.0, 2.0, 0.0, 1.0, 4.0])
TIMES = np.array([2.1, 0.4, 1.7, 3.3, 0.9, 2.8, 1.2, 0.6])
EVENTS = np.array([1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0])
YS_KF = np.cumsum(rnd(6, scale=0.3))[:, None]
COST = np.abs(rnd(4, 5, scale=1.0))
A_MARG = np.full(4, 0.25)
B_MARG = np.array([0.1, 0.3, 0.2, 0.25, 0.15])
GPX = np.linspace(-1, 1, 7)
LV_OBS = np.abs(rnd(4, 2, scale=0.5)) + 0.5

CASES = {
    "kalman_loglik": (kalman_loglik, ({"log_q": np.array(-1.0), "log_r": np.array(-2.0)}, YS_KF),
                      0, {}),
    "sinkhorn_log_while": (sinkhorn_log, (COST, A_MARG, B_MARG), (0, 1), {"eps": 0.3}),
    "soft_dtw": (soft_dtw, (rnd(4, scale=1.0), rnd(5, scale=1.0)), (0, 1), {"gamma": 0.3}),
    "nbody_energy": (nbody_energy, (rnd(5, 3, scale=1.0), np.abs(rnd(5)) + 0.5), (0, 1), {}),
    "spring_chain": (spring_chain_energy, (np.cumsum(np.abs(rnd(6)) + 0.8),), 0, {"k": 3.0}),
    "rk4_oscillator": (rk4_oscillator, ((1.3, 0.2), 1.0, 0.0), (0, 1, 2), {}),
    "leapfrog": (leapfrog_hamiltonian, (rnd(3), rnd(3)), (0, 1), {}),
    "heat_equation": (heat_equation, (np.sin(np.linspace(0, np.pi, 9)), 0.8), (0, 1), {}),
    "pendulum_shooting": (pendulum_shoot, (1.2,), 0, {"target": 0.7}),
    "fem_bar": (fem_bar_energy, (rnd(4), 1.0 + np.abs(rnd(4)), rnd(4)), (0, 1), {}),
    "lotka_volterra": (lotka_volterra_fit, (np.log(np.array([1.0, 0.5, 0.8, 0.4])), LV_OBS), 0, {}),
    "rosenbrock": (rosenbrock, (rnd(5, scale=1.0),), 0, {}),
    "rosenbrock_loop": (rosenbrock_loop, (rnd(5, scale=1.0),), 0, {}),
    "beale": (beale, (np.array([1.2, 0.4]),), 0, {}),
    "himmelblau": (himmelblau, (1.5, -0.7), (0, 1), {}),
    "ackley": (ackley, (rnd(4, scale=1.0),), 0, {}),
    "rastrigin": (rastrigin, (rnd(4, scale=1.0),), 0, {}),
    "styblinski_tang": (styblinski_tang, (rnd(3, scale=2.0),), 0, {}),
    "poisson_glm": (poisson_glm, (rnd(3), X, COUNTS), 0, {}),
    "poisson_glm_offset": (poisson_glm, (rnd(3), X, COUNTS), 0,
                           {"offset": np.log(np.arange(1.0, 9.0))}),
    "negbin_glm": (negbin_glm, ({"beta": rnd(3), "log_alpha": np.array(-0.5)}, X, COUNTS), 0, {}),
    "gamma_glm": (gamma_glm, ((rnd(3), np.array(0.3)), X, TIMES), 0, {}),
    "weibull_survival": (weibull_survival, ((rnd(3), np.array(0.2)), X, TIMES, EVENTS), 0, {}),
    "cox_partial": (cox_partial_likelihood, (rnd(3), X, TIMES, EVENTS), 0, {}),
    "student_t_regression": (student_t_regression,
                             ({"w": rnd(3), "log_sigma": 0.1, "log_nu": 1.0}, X, rnd(8)), 0, {}),
    "probit": (probit_regression, (rnd(3), X, EVENTS), 0, {}),
    "beta_regression": (beta_regression, ((rnd(3), np.array(1.5)), X,
                                          np.clip(R.uniform(size=8), 0.05, 0.95)), 0, {}),
    "planar_flow": (planar_flow_logdensity, ([(rnd(2), rnd(2), 0.1), (rnd(2), rnd(2), -0.2)],
                                             rnd(5, 2, scale=1.0)), 0, {}),
    "affine_coupling": (affine_coupling_nll, ({"W": rnd(2, 3), "b": rnd(3), "Ws": rnd(3, 2),
                                               "Wt": rnd(3, 2)}, rnd(5, 4, scale=1.0)), 0, {}),
    "linear_flow_slogdet": (linear_flow_slogdet, (np.eye(3) + rnd(3, 3, scale=0.2), X), 0, {}),
    "gp_cho_factor": (gp_cho, (np.log(np.array([0.5, 1.0, 0.3])), GPX, np.sin(3 * GPX)), 0, {}),
    "polyval_fit": (polyfit_loss, (rnd(4), np.linspace(-1, 1, 9), np.cos(np.linspace(-1, 1, 9))),
                    0, {}),
    "vander_ridge": (vander_ridge_loss, (rnd(4), np.linspace(-1, 1, 9), rnd(9)), 0, {}),
    "ridge_hyper": (ridge_validation, (np.array(-1.0), X[:5], rnd(5), X[5:], rnd(3)), 0, {}),
    "pca_svd": (pca_reconstruction, (rnd(6, 4, scale=1.0),), 0, {}),
    "interp_spline": (piecewise_linear, (rnd(5), np.array([0.1, 0.35, 0.8, 1.3, 1.95]),
                                         np.linspace(0, 2, 5)), 0, {}),
    "volume_render": (volume_render, (np.abs(rnd(6)) + 0.1, R.uniform(size=(6, 3)),
                                      np.full(6, 0.3)), (0, 1), {}),
    "mahalanobis": (mahalanobis_nll, ((rnd(3), np.eye(3) + rnd(3, 3, scale=0.2)), X), 0, {}),
    "two_link_arm": (two_link_arm_loss, (np.array([0.3, 0.9]), np.array([1.0, 0.8])), 0, {}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus9_science(name):
    f, args, wrt, kwargs = CASES[name]
    run_case(f, args, wrt, kwargs)
