"""corpus10, part 2: JAX tutorials re-written in plain NumPy, the way users
port them: MAML on sinusoids (inner gradient step written by hand inside the
outer loss), physics-informed nets (derivatives of a small MLP by hand-coded
chain rule and by finite differences of the net inside the loss), Hamiltonian
nets (the Hamiltonian's gradient by hand, symplectic Euler rollout), planar
and RealNVP/affine-coupling flows with log-determinants, denoising and
sliced score matching, NTK-style linearised models, a diffusion-model
denoising loss, energy-based contrastive divergence with a fixed chain.
Checked by ``tests/corpus10_harness.check``.
"""
import functools

import numpy as np
import pytest
import scipy.special as sps

from tests.corpus10_harness import run_table

R = np.random.default_rng(10020)


def rnd(*shape, scale=0.5):
    return R.normal(size=shape) * scale


# ---------------------------------------------------------------- MAML (sinusoid regression)

def net(params, x):
    h = np.tanh(x @ params[0] + params[1])
    return h @ params[2] + params[3]


def mse(params, x, y):
    return np.mean((net(params, x) - y) ** 2)


def mse_grad_by_hand(params, x, y):
    W1, b1, W2, b2 = params
    z = x @ W1 + b1
    h = np.tanh(z)
    pred = h @ W2 + b2
    d = 2 * (pred - y) / y.size
    gW2 = h.T @ d
    gb2 = d.sum(axis=0)
    dh = d @ W2.T * (1 - h ** 2)
    gW1 = x.T @ dh
    gb1 = dh.sum(axis=0)
    return [gW1, gb1, gW2, gb2]


def maml_loss(params, x_tr, y_tr, x_te, y_te, alpha=0.1):
    grads = mse_grad_by_hand(params, x_tr, y_tr)
    adapted = [p - alpha * g for p, g in zip(params, grads)]
    return mse(adapted, x_te, y_te)


def maml_batch(params, tasks, alpha=0.05):
    total = 0.0
    for x_tr, y_tr, x_te, y_te in tasks:
        total = total + maml_loss(params, x_tr, y_tr, x_te, y_te, alpha)
    return total / len(tasks)


def maml_two_steps(params, x_tr, y_tr, x_te, y_te, alpha=0.1, inner_steps=2):
    p = list(params)
    for _ in range(inner_steps):
        g = mse_grad_by_hand(p, x_tr, y_tr)
        p = [pi - alpha * gi for pi, gi in zip(p, g)]
    return mse(p, x_te, y_te)


def sine_task(rng, k=5):
    A = rng.uniform(0.5, 2.0)
    ph = rng.uniform(0, np.pi)
    x = rng.uniform(-3, 3, size=(2 * k, 1))
    y = A * np.sin(x + ph)
    return x[:k], y[:k], x[k:], y[k:]


_TR = np.random.default_rng(3)
TASKS = [sine_task(_TR) for _ in range(2)]
MAML_P = [rnd(1, 6), rnd(6), rnd(6, 1), rnd(1)]


# ---------------------------------------------------------------- physics-informed nets

def pinn_u(params, x):
    W1, b1, W2 = params["W1"], params["b1"], params["W2"]
    return np.tanh(x[:, None] * W1 + b1) @ W2


def pinn_derivs(params, x):
    # u, u_x, u_xx of u(x) = sum_j W2_j tanh(W1_j x + b1_j), by hand
    W1, b1, W2 = params["W1"], params["b1"], params["W2"]
    t = np.tanh(x[:, None] * W1 + b1)
    s = 1 - t ** 2
    u = t @ W2
    ux = (s * W1) @ W2
    uxx = (-2 * t * s * W1 ** 2) @ W2
    return u, ux, uxx


def pinn_poisson_loss(params, xs, f_rhs, bc_weight=10.0):
    u, ux, uxx = pinn_derivs(params, xs)
    residual = uxx - f_rhs
    ub = pinn_u(params, np.array([0.0, 1.0]))
    return np.mean(residual ** 2) + bc_weight * np.sum(ub ** 2)


def pinn_fd_loss(params, xs, h=1e-3):
    # the PDE residual of u'' + u = 0 by central differences of the net
    u = pinn_u(params, xs)
    up = pinn_u(params, xs + h)
    um = pinn_u(params, xs - h)
    uxx = (up - 2 * u + um) / h ** 2
    u0 = pinn_u(params, np.zeros(1))[0]
    return np.mean((uxx + u) ** 2) + (u0 - 1.0) ** 2


def burgers_residual(params, x, t, nu=0.01 / np.pi):
    W1 = params["W1"]      # (2, H)
    b1, W2 = params["b1"], params["W2"]
    z = np.stack([x, t], axis=1) @ W1 + b1
    th = np.tanh(z)
    s = 1 - th ** 2
    u = th @ W2
    u_x = (s * W1[0]) @ W2
    u_t = (s * W1[1]) @ W2
    u_xx = (-2 * th * s * W1[0] ** 2) @ W2
    return np.mean((u_t + u * u_x - nu * u_xx) ** 2)


PINN_P = {"W1": rnd(8), "b1": rnd(8), "W2": rnd(8)}
PINN_X = np.linspace(0, 1, 9)


# ---------------------------------------------------------------- Hamiltonian nets

def hnn_hamiltonian(params, q, p):
    z = np.stack([q, p], axis=-1)
    h = np.tanh(z @ params["W1"] + params["b1"])
    return h @ params["w2"]


def hnn_vector_field(params, q, p):
    z = np.stack([q, p], axis=-1)
    a = z @ params["W1"] + params["b1"]
    s = (1 - np.tanh(a) ** 2) * params["w2"]       # dH/da
    dH = s @ params["W1"].T                         # dH/dz
    return dH[..., 1], -dH[..., 0]                  # dq/dt = dH/dp, dp/dt = -dH/dq


def hnn_loss(params, q, p, dq, dp):
    fq, fp = hnn_vector_field(params, q, p)
    return np.mean((fq - dq) ** 2 + (fp - dp) ** 2)


def hnn_rollout_loss(params, q0, p0, target_q, dt=0.1):
    q, p = q0, p0
    traj = []
    for _ in range(len(target_q)):
        _, fp = hnn_vector_field(params, q, p)
        p = p + dt * fp
        fq, _ = hnn_vector_field(params, q, p)
        q = q + dt * fq
        traj.append(q)
    return np.mean((np.stack(traj) - target_q) ** 2)


HNN_P = {"W1": rnd(2, 6), "b1": rnd(6), "w2": rnd(6)}
HQ = rnd(5, scale=1.0)
HP = rnd(5, scale=1.0)


# ---------------------------------------------------------------- normalising flows

def planar_flow(params, z):
    log_det = np.zeros(z.shape[0])
    for u, w, b in params:
        # u-hat: keep the flow invertible
        wu = w @ u
        m = -1 + np.log1p(np.exp(wu))
        u_hat = u + (m - wu) * w / (w @ w)
        a = z @ w + b
        z = z + np.outer(np.tanh(a), u_hat)
        psi = np.outer(1 - np.tanh(a) ** 2, w)
        log_det = log_det + np.log(np.abs(1 + psi @ u_hat))
    return z, log_det


def planar_flow_kl(params, eps):
    z, log_det = planar_flow(params, eps)
    log_q0 = -0.5 * np.sum(eps ** 2, axis=1) - np.log(2 * np.pi)
    log_p = -0.5 * np.sum((z - 1.0) ** 2, axis=1) - np.log(2 * np.pi)
    return np.mean(log_q0 - log_det - log_p)


def coupling_layer(params, x, flip):
    d = x.shape[1] // 2
    x1, x2 = (x[:, d:], x[:, :d]) if flip else (x[:, :d], x[:, d:])
    h = np.tanh(x1 @ params["W"] + params["b"])
    log_s = np.tanh(h @ params["Ws"])
    t = h @ params["Wt"]
    y2 = x2 * np.exp(log_s) + t
    y = np.concatenate([y2, x1], axis=1) if flip else np.concatenate([x1, y2], axis=1)
    return y, np.sum(log_s, axis=1)


def realnvp_nll(layers, x):
    log_det = 0.0
    for i, lp in enumerate(layers):
        x, ld = coupling_layer(lp, x, flip=(i % 2 == 1))
        log_det = log_det + ld
    log_pz = -0.5 * np.sum(x ** 2, axis=1) - 0.5 * x.shape[1] * np.log(2 * np.pi)
    return -np.mean(log_pz + log_det)


def coupling_params():
    return {"W": rnd(2, 5), "b": rnd(5), "Ws": rnd(5, 2), "Wt": rnd(5, 2)}


def affine_autoregressive_nll(params, x):
    # MAF with a strictly lower-triangular mask
    D = x.shape[1]
    mask = np.tril(np.ones((D, D)), -1)
    mu = x @ (params["Wm"] * mask).T
    log_sig = np.tanh(x @ (params["Ws"] * mask).T)
    u = (x - mu) * np.exp(-log_sig)
    return np.mean(0.5 * np.sum(u ** 2, axis=1) + np.sum(log_sig, axis=1))


# ---------------------------------------------------------------- score matching

def score_net(params, x):
    h = np.tanh(x @ params["W1"] + params["b1"])
    return h @ params["W2"]


def denoising_score_matching(params, x, noise, sigma=0.3):
    x_tilde = x + sigma * noise
    target = -noise / sigma
    s = score_net(params, x_tilde)
    return 0.5 * np.mean(np.sum((s - target) ** 2, axis=1)) * sigma ** 2


def sliced_score_matching(params, x, v):
    # s(x) = W2^T tanh(W1^T x + b1); v^T (ds/dx) v by hand
    W1, b1, W2 = params["W1"], params["b1"], params["W2"]
    a = x @ W1 + b1
    t = np.tanh(a)
    s = t @ W2
    vJv = np.sum(((v @ W1) * (1 - t ** 2)) * (v @ W2.T), axis=1)
    return np.mean(vJv + 0.5 * np.sum(s * v, axis=1) ** 2)


def diffusion_loss(params, x0, eps, t_idx, betas):
    alphas_bar = np.cumprod(1 - betas)
    ab = alphas_bar[t_idx][:, None]
    xt = np.sqrt(ab) * x0 + np.sqrt(1 - ab) * eps
    temb = np.stack([np.sin(t_idx / 10.0), np.cos(t_idx / 10.0)], axis=1)
    h = np.tanh(np.concatenate([xt, temb], axis=1) @ params["W1"] + params["b1"])
    pred = h @ params["W2"]
    return np.mean((pred - eps) ** 2)


SM_P = {"W1": rnd(2, 6), "b1": rnd(6), "W2": rnd(6, 2)}
SM_X = rnd(6, 2, scale=1.0)


# ---------------------------------------------------------------- NTK linearisation, EBM

def ntk_linearised(params, params0, x, y):
    # f_lin(x) = f(x; p0) + J (p - p0), J by hand for a one-hidden-layer net
    W, v = params0["W"], params0["v"]
    a = x @ W
    h = np.tanh(a)
    f0 = h @ v
    dW = params["W"] - W
    dv = params["v"] - v
    jvp = h @ dv + ((1 - h ** 2) * (x @ dW)) @ v
    return np.mean((f0 + jvp - y) ** 2)


def ebm_cd_loss(params, x_pos, x_neg):
    def energy(x):
        return np.sum(np.logaddexp(0, x @ params["W"] + params["b"]), axis=1) + x @ params["c"]
    return np.mean(energy(x_pos)) - np.mean(energy(x_neg)) + 0.01 * np.sum(params["W"] ** 2)


def langevin_ebm_loss(params, x_pos, x0, noise, step=0.05):
    # short-run Langevin chain with the energy's input gradient by hand
    W, b = params["W"], params["b"]

    def grad_energy(x):
        return (np.tanh(x @ W + b)) @ W.T + x

    x = x0
    for k in range(noise.shape[0]):
        x = x - step * grad_energy(x) + np.sqrt(2 * step) * noise[k]

    def energy(x):
        return np.sum(np.log(np.cosh(x @ W + b)), axis=1) + 0.5 * np.sum(x ** 2, axis=1)
    return np.mean(energy(x_pos)) - np.mean(energy(x))


# ---------------------------------------------------------------- the table

CASES = {
    "maml_one_task": (maml_loss, (MAML_P,) + TASKS[0], 0, {}),
    "maml_batch": (maml_batch, (MAML_P, TASKS), 0, {"alpha": 0.1}),
    "maml_two_steps": (maml_two_steps, (MAML_P,) + TASKS[1], 0, {"inner_steps": 3}),
    "maml_partial": (functools.partial(maml_loss, alpha=0.2), (MAML_P,) + TASKS[1], 0, {}),
    "pinn_inputs": (pinn_poisson_loss, (PINN_P, PINN_X, np.cos(PINN_X)), 1, {},
                    {"order2": True}),
    "pinn_poisson": (pinn_poisson_loss, (PINN_P, PINN_X, -np.pi ** 2 * np.sin(np.pi * PINN_X)),
                     0, {}),
    "pinn_fd": (pinn_fd_loss, (PINN_P, PINN_X), 0, {}, {"f32": False, "eps": 1e-4, "rtol": 1e-4}),
    "burgers": (burgers_residual, ({"W1": rnd(2, 6), "b1": rnd(6), "W2": rnd(6)},
                                   np.linspace(-1, 1, 7), np.linspace(0, 1, 7)), 0, {}),
    "hnn": (hnn_loss, (HNN_P, HQ, HP, HP, -HQ), 0, {}),
    "hnn_state": (hnn_loss, (HNN_P, HQ, HP, HP, -HQ), 1, {}, {"order2": True}),
    "hnn_rollout": (hnn_rollout_loss, (HNN_P, HQ, HP, rnd(4, 5)), 0, {}),
    "planar_flow": (planar_flow_kl, ([(rnd(2), rnd(2), 0.1), (rnd(2), rnd(2), -0.2)],
                                     rnd(6, 2, scale=1.0)), 0, {}),
    "realnvp": (realnvp_nll, ([coupling_params() for _ in range(3)], rnd(5, 4, scale=1.0)), 0,
                {}),
    "maf": (affine_autoregressive_nll, ({"Wm": rnd(3, 3), "Ws": rnd(3, 3)},
                                        rnd(6, 3, scale=1.0)), 0, {}),
    "maf_data": (affine_autoregressive_nll, ({"Wm": rnd(3, 3), "Ws": rnd(3, 3)},
                                             rnd(6, 3, scale=1.0)), 1, {}, {"order2": True}),
    "dsm": (denoising_score_matching, (SM_P, SM_X, rnd(6, 2, scale=1.0)), 0, {}),
    "dsm_inputs": (denoising_score_matching, (SM_P, SM_X, rnd(6, 2, scale=1.0)), 1, {},
                   {"order2": True}),
    "ssm": (sliced_score_matching, (SM_P, SM_X, rnd(6, 2, scale=1.0)), 0, {}),
    "diffusion": (diffusion_loss, ({"W1": rnd(4, 6), "b1": rnd(6), "W2": rnd(6, 2)}, SM_X,
                                   rnd(6, 2, scale=1.0), np.array([0, 3, 7, 9, 2, 5]),
                                   np.linspace(1e-3, 0.05, 10)), 0, {}),
    "ntk": (ntk_linearised, ({"W": rnd(2, 5), "v": rnd(5)}, {"W": rnd(2, 5), "v": rnd(5)},
                             SM_X, rnd(6)), (0, 1), {}),
    "ebm_cd": (ebm_cd_loss, ({"W": rnd(2, 4), "b": rnd(4), "c": rnd(2)}, SM_X,
                             rnd(6, 2, scale=1.0)), 0, {}),
    "ebm_langevin": (langevin_ebm_loss, ({"W": rnd(2, 4), "b": rnd(4)}, SM_X,
                                         rnd(6, 2, scale=1.0), rnd(3, 6, 2, scale=1.0)), 0, {}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus10_jax_tutorials(name):
    run_table(CASES, name)
