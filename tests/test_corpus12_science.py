"""corpus12, part 3: science, engineering and finance programs: graph neural
networks (a GCN with a normalised adjacency matrix, message passing with
``np.add.at`` scatter over an edge list, graph attention with a masked
softmax), attention with a learned relative-position bias table indexed by
``i - j``, molecular energies (Lennard-Jones and Morse with pairwise
distances and the diagonal masked, a harmonic bond network over an edge
list), finance (Black-Scholes prices and greeks through
``scipy.special.ndtr``, mean-variance portfolio objective with softmax
weights, a CVaR-style smoothed loss), control (an LQR cost over a rollout, an
MPC-style shooting objective with ``np.clip`` on the actions), signal
processing (FIR filters by ``np.convolve``, a spectral loss via
``np.fft.rfft``, a Wiener-style deconvolution objective with ``np.fft.fft``),
and a 2-D heat-equation explicit scheme.  Checked by
``tests/corpus10_harness.check``.
"""
import numpy as np
import pytest
from scipy.special import ndtr

from tests.corpus10_harness import run_table

R = np.random.default_rng(12030)


def rnd(*shape, scale=0.5):
    return R.normal(size=shape) * scale


# ---------------------------------------------------------------- graphs

A_ = (R.random((5, 5)) < 0.4).astype(float)
A_ = np.triu(A_, 1)
A_ = A_ + A_.T
EDGES = np.array([[0, 1], [1, 2], [2, 0], [3, 4], [4, 1], [0, 3]])


def gcn(params, A, X, y):
    W1, W2 = params
    A_hat = A + np.eye(A.shape[0])
    d = A_hat.sum(axis=1)
    Dm = np.diag(1.0 / np.sqrt(d))
    An = Dm @ A_hat @ Dm
    H = np.maximum(An @ X @ W1, 0.0)
    out = An @ H @ W2
    return np.mean((out[:, 0] - y) ** 2)


def message_passing(params, X, edges, n_rounds=2):
    W_msg, W_upd = params["msg"], params["upd"]
    h = X
    src, dst = edges[:, 0], edges[:, 1]
    for _ in range(n_rounds):
        msgs = np.tanh(h[src] @ W_msg)
        agg = np.zeros_like(h)
        np.add.at(agg, dst, msgs)
        deg = np.bincount(dst, minlength=h.shape[0])[:, None]
        h = np.tanh((h + agg / np.maximum(deg, 1)) @ W_upd)
    return np.sum(h.mean(axis=0) ** 2)


def graph_attention(W, a, X, A):
    H = X @ W
    n = H.shape[0]
    e = (H @ a[:H.shape[1]])[:, None] + (H @ a[H.shape[1]:])[None, :]
    e = np.where(e > 0, e, 0.2 * e)                          # leaky relu
    mask = (A + np.eye(n)) > 0
    e = np.where(mask, e, -np.inf)
    e = e - e.max(axis=1, keepdims=True)
    att = np.exp(e)
    att = att / att.sum(axis=1, keepdims=True)
    return np.sum(np.tanh(att @ H) ** 2)


# ---------------------------------------------------------------- attention

def rel_pos_attention(params, x, max_rel=3):
    Wq, Wk, Wv, bias_table = params
    T, D = x.shape
    q, k, v = x @ Wq, x @ Wk, x @ Wv
    idx = np.arange(T)
    rel = np.clip(idx[None, :] - idx[:, None], -max_rel, max_rel) + max_rel
    scores = q @ k.T / np.sqrt(D) + bias_table[rel]
    scores = scores - scores.max(axis=-1, keepdims=True)
    w = np.exp(scores)
    w /= w.sum(axis=-1, keepdims=True)
    return np.mean((w @ v) ** 2)


def alibi_attention(Wq, Wk, x, slope=0.5):
    T = x.shape[0]
    q, k = x @ Wq, x @ Wk
    dist = np.abs(np.arange(T)[:, None] - np.arange(T)[None, :])
    s = q @ k.T - slope * dist
    s = np.where(np.tril(np.ones((T, T))) > 0, s, -1e9)
    p = np.exp(s - s.max(1, keepdims=True))
    p = p / p.sum(1, keepdims=True)
    return -np.sum(np.log(np.diag(p) + 1e-9))


# ---------------------------------------------------------------- molecules

def lennard_jones(pos, eps=1.0, sigma=1.0):
    n = pos.shape[0]
    diff = pos[:, None, :] - pos[None, :, :]
    r2 = np.sum(diff ** 2, axis=-1) + np.eye(n)              # diagonal kept away from 0
    inv6 = (sigma ** 2 / r2) ** 3
    e = 4 * eps * (inv6 ** 2 - inv6)
    mask = 1.0 - np.eye(n)
    return 0.5 * np.sum(e * mask)


def lj_triu(pos):
    i, j = np.triu_indices(pos.shape[0], k=1)
    r = np.linalg.norm(pos[i] - pos[j], axis=1)
    return np.sum(4 * ((1 / r) ** 12 - (1 / r) ** 6))


def morse(pos, D=1.0, a=1.5, r0=1.2):
    n = len(pos)
    E = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            r = np.sqrt(np.sum((pos[i] - pos[j]) ** 2))
            E = E + D * (1 - np.exp(-a * (r - r0))) ** 2
    return E


def bond_network(pos, bonds, k=100.0, r0=1.0):
    d = pos[bonds[:, 0]] - pos[bonds[:, 1]]
    r = np.sqrt(np.einsum("ij,ij->i", d, d))
    return 0.5 * k * np.sum((r - r0) ** 2)


POS = np.array([[0.0, 0.0, 0.0], [1.1, 0.1, 0.0], [0.2, 1.2, 0.1], [1.0, 1.1, 0.9]])
POS = POS + rnd(4, 3, scale=0.05)


# ---------------------------------------------------------------- finance

def black_scholes_call(S, K, T, r, sigma):
    d1 = (np.log(S / K) + (r + 0.5 * sigma ** 2) * T) / (sigma * np.sqrt(T))
    d2 = d1 - sigma * np.sqrt(T)
    return S * ndtr(d1) - K * np.exp(-r * T) * ndtr(d2)


def bs_sum(S, K, T, r, sigma):
    return np.sum(black_scholes_call(S, K, T, r, sigma))


def bs_book(params, K, T):
    """Value of a book of calls; the gradient is (delta, rho, vega)."""
    S, r, sigma = params
    return np.sum(black_scholes_call(S, K, T, r, sigma))


def bs_delta_hedge_error(sigma, S_path, K, T):
    """P&L of a discrete delta hedge whose delta comes from Black-Scholes."""
    n = len(S_path) - 1
    dt = T / n
    pnl = 0.0
    for i in range(n):
        tau = T - i * dt
        d1 = (np.log(S_path[i] / K) + 0.5 * sigma ** 2 * tau) / (sigma * np.sqrt(tau))
        pnl = pnl + ndtr(d1) * (S_path[i + 1] - S_path[i])
    payoff = np.maximum(S_path[-1] - K, 0.0)
    return (payoff - pnl - black_scholes_call(S_path[0], K, T, 0.0, sigma)) ** 2


def portfolio(logits, mu, Sigma, risk_aversion=3.0):
    w = np.exp(logits - logits.max())
    w = w / w.sum()
    return -(w @ mu) + 0.5 * risk_aversion * w @ Sigma @ w


def cvar_smoothed(w, returns, alpha=0.9, beta=20.0):
    losses = -(returns @ w)
    var = np.quantile(losses, alpha)
    excess = np.logaddexp(0.0, beta * (losses - var)) / beta
    return var + np.mean(excess) / (1 - alpha)


SIG = rnd(4, 4)
SIG = SIG @ SIG.T + 0.1 * np.eye(4)
RETS = rnd(30, 4, scale=0.05)
S_PATH = 100 * np.exp(np.cumsum(rnd(6, scale=0.05)))


# ---------------------------------------------------------------- control

def lqr_cost(K, A, B, Q, Rm, x0, T=10):
    x = x0
    J = 0.0
    for _ in range(T):
        u = -K @ x
        J = J + x @ Q @ x + u @ Rm @ u
        x = A @ x + B @ u
    return J + x @ Q @ x


def shooting(us, x0, target, dt=0.1):
    """Double-integrator shooting with clipped actions."""
    pos, vel = x0[0], x0[1]
    cost = 0.0
    for u in us:
        a = np.clip(u, -1.0, 1.0)
        vel = vel + dt * a
        pos = pos + dt * vel
        cost = cost + 0.01 * u ** 2
    return cost + (pos - target) ** 2 + vel ** 2


A_DYN = np.array([[1.0, 0.1], [0.0, 1.0]])
B_DYN = np.array([[0.005], [0.1]])


# ---------------------------------------------------------------- signals

def fir_fit(h, x, y):
    yhat = np.convolve(x, h, mode="same")
    return np.mean((yhat - y) ** 2)


def fir_full_in_x(x, h):
    return np.sum(np.convolve(x, h) ** 2) + np.sum(np.convolve(h, x, mode="valid"))


def spectral_loss(x, target_mag):
    X = np.fft.rfft(x)
    mag = np.abs(X)
    return np.sum((np.log1p(mag) - np.log1p(target_mag)) ** 2)


def deconv(x, kernel, y, lam=0.1):
    n = len(x)
    Kf = np.fft.fft(kernel, n)
    yhat = np.real(np.fft.ifft(np.fft.fft(x) * Kf))
    return np.sum((yhat - y) ** 2) + lam * np.sum(np.diff(x) ** 2)


def heat_2d(u0, alpha=0.2, steps=5):
    u = u0.copy()
    for _ in range(steps):
        lap = np.zeros_like(u)
        lap[1:-1, 1:-1] = (u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2]
                           - 4 * u[1:-1, 1:-1])
        u = u + alpha * lap
    return np.sum(u[1:-1, 1:-1] ** 3)


SIGNAL = np.sin(np.linspace(0, 6, 16)) + rnd(16, scale=0.1)

CASES = {
    "gcn": (gcn, ((rnd(3, 4), rnd(4, 2)), A_, rnd(5, 3, scale=1.0), rnd(5)), 0, {}),
    "message_passing": (message_passing, ({"msg": rnd(3, 3), "upd": rnd(3, 3)},
                                          rnd(5, 3, scale=1.0), EDGES), 0, {}),
    "graph_attention": (graph_attention, (rnd(3, 2), rnd(4), rnd(5, 3, scale=1.0), A_),
                        (0, 1), {}),
    "rel_pos_attention": (rel_pos_attention, ((rnd(4, 4), rnd(4, 4), rnd(4, 4), rnd(7)),
                                              rnd(5, 4, scale=1.0)), 0, {}),
    "alibi": (alibi_attention, (rnd(3, 3), rnd(3, 3), rnd(4, 3, scale=1.0)), (0, 1), {}),
    "lennard_jones": (lennard_jones, (POS,), 0, {}, {"order2": True}),
    "lj_triu": (lj_triu, (POS,), 0, {}),
    "morse": (morse, (POS,), 0, {}, {"order2": True}),
    "bond_network": (bond_network, (POS, np.array([[0, 1], [1, 2], [2, 3], [0, 2]])), 0, {}),
    "bs_book": (bs_book, ((100.0, 0.02, 0.25), np.array([90.0, 100.0, 110.0]),
                          np.array([0.5, 1.0, 2.0])), 0, {}, {"rtol": 1e-4}),
    "bs_greeks_arrays": (bs_sum, (np.array([95.0, 105.0]), 100.0, 1.0, 0.01,
                                              np.array([0.2, 0.3])), (0, 4), {},
                         {"order2": True}),
    "bs_hedge": (bs_delta_hedge_error, (0.25, S_PATH, 100.0, 0.5), 0, {}),
    "portfolio": (portfolio, (rnd(4), rnd(4, scale=0.1), SIG), 0, {}, {"order2": True}),
    "cvar": (cvar_smoothed, (np.full(4, 0.25) + rnd(4, scale=0.05), RETS), 0, {}),
    "lqr": (lqr_cost, (np.array([[1.0, 1.5]]), A_DYN, B_DYN, np.eye(2), np.eye(1) * 0.1,
                       np.array([1.0, -0.5])), 0, {}, {"order2": True}),
    "shooting": (shooting, (rnd(6, scale=2.0), np.array([0.0, 0.0]), 0.3), 0, {}),
    "fir_fit": (fir_fit, (rnd(3), SIGNAL, np.roll(SIGNAL, 1)), 0, {}, {"order2": True}),
    "fir_full_in_x": (fir_full_in_x, (SIGNAL[:8], rnd(3)), (0, 1), {}),
    "spectral": (spectral_loss, (SIGNAL, np.abs(np.fft.rfft(np.roll(SIGNAL, 2)))), 0, {}),
    "deconv": (deconv, (rnd(8), np.array([0.5, 0.3, 0.2]), SIGNAL[:8]), 0, {}),
    "heat_2d": (heat_2d, (rnd(5, 5, scale=1.0),), 0, {}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus12_science(name):
    run_table(CASES, name)
