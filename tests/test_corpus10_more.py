"""corpus10, part 7: more programs in other styles and domains -- sequence
models (GRU with gates in one matrix, attention pooling, 1-D causal conv
with dilation, beam-free CTC-style forward in log space), recommender and
ranking losses (BPR, LambdaRank-style weights, softmax sampled with a fixed
seed), time series (AR(p) likelihood, exponential smoothing, Holt-Winters,
GARCH(1,1) recursion, state-space local level), Bayesian workflows
(a log-joint with priors from ``scipy.stats``, the Laplace approximation's
log-determinant, importance-weighted ELBO, a mixture of experts), control
(LQR cost of a rollout, MPC-style shooting, cart-pole with Euler),
graphics/geometry (soft rasteriser, barycentric interpolation, Bezier curve
fitting, rotation by a Rodrigues formula, ICP-style alignment), finance
(Black-Scholes calibration, Heston-free stochastic-vol-free implied
variance smile, bond yield), and code shapes: early ``return`` in a loop,
``while`` with a tolerance, ``for``-``else``, nested functions closing over
loop variables, ``zip(*pairs)``, ``dict`` comprehensions, ``enumerate`` with
``start=``, chained comparisons, ``np.where`` on masks, ``np.einsum`` with
``...``, ``np.take_along_axis``, ``np.put_along_axis``-free scatter by
``np.add.at``, ``reversed``, ``sorted`` keys, ``min``/``max`` builtins of
arrays' sums.  Checked by ``tests/corpus10_harness.check``.
"""
import math

import numpy as np
import pytest
import scipy.special as sps
import scipy.stats as st

from tests.corpus10_harness import run_table

R = np.random.default_rng(10080)


def rnd(*shape, scale=0.5):
    return R.normal(size=shape) * scale


# ---------------------------------------------------------------- sequence models

def gru_packed(params, xs):
    W, U, b = params["W"], params["U"], params["b"]
    H = U.shape[0]
    h = np.zeros(H)
    for x in xs:
        gx = x @ W + b
        gh = h @ U[:, :2 * H]
        z = sps.expit(gx[:H] + gh[:H])
        r = sps.expit(gx[H:2 * H] + gh[H:])
        n = np.tanh(gx[2 * H:] + (r * h) @ U[:, 2 * H:])
        h = (1 - z) * n + z * h
    return np.sum(h ** 2)


def attention_pool(params, X):
    scores = np.tanh(X @ params["W"]) @ params["v"]
    a = np.exp(scores - scores.max())
    a /= a.sum()
    pooled = a @ X
    return np.sum(pooled * params["u"])


def dilated_causal_conv(w, x, dilations=(1, 2)):
    h = x
    for d in dilations:
        pad = np.concatenate([np.zeros(d), h])
        h = np.tanh(w[0] * pad[d:] + w[1] * pad[:-d])
    return np.sum(h ** 2)


def ctc_like_forward(logits, labels):
    # forward algorithm over the label sequence with blanks, in log space
    T = logits.shape[0]
    logp = logits - sps.logsumexp(logits, axis=1, keepdims=True)
    ext = [0]
    for l in labels:
        ext += [l, 0]
    ext = np.array(ext)
    S = len(ext)
    alpha = np.full(S, -np.inf)
    alpha[0] = logp[0, ext[0]]
    alpha[1] = logp[0, ext[1]]
    for t in range(1, T):
        prev = alpha
        a1 = np.concatenate([[-np.inf], prev[:-1]])
        a2 = np.concatenate([[-np.inf, -np.inf], prev[:-2]])
        allow = np.concatenate([[False, False], (ext[2:] != 0) & (ext[2:] != ext[:-2])])
        a2 = np.where(allow, a2, -np.inf)
        alpha = np.logaddexp(np.logaddexp(prev, a1), a2) + logp[t, ext]
    return -np.logaddexp(alpha[-1], alpha[-2])


# ---------------------------------------------------------------- ranking / recsys

def bpr(params, users, pos, neg):
    U, V = params
    x = np.sum(U[users] * (V[pos] - V[neg]), axis=1)
    return -np.sum(np.log(sps.expit(x))) + 0.01 * (np.sum(U ** 2) + np.sum(V ** 2))


def sampled_softmax(params, ctx, target, n_neg=3, seed=7):
    rng = np.random.default_rng(seed)
    E, O = params["E"], params["O"]
    neg = rng.integers(0, O.shape[0], size=(len(ctx), n_neg))
    h = E[ctx]
    pos_s = np.sum(h * O[target], axis=1)
    neg_s = np.einsum("bd,bkd->bk", h, O[neg])
    logits = np.concatenate([pos_s[:, None], neg_s], axis=1)
    return -np.mean(logits[:, 0] - sps.logsumexp(logits, axis=1))


def lambdarank_weighted(w, X, rel):
    s = X @ w
    order = np.argsort(-rel)
    ideal = np.sum((2 ** rel[order] - 1) / np.log2(np.arange(2, len(rel) + 2)))
    diff = s[:, None] - s[None, :]
    better = rel[:, None] > rel[None, :]
    gain = np.abs((2 ** rel[:, None] - 2 ** rel[None, :]))
    return np.sum(better * gain * np.logaddexp(0, -diff)) / ideal


# ---------------------------------------------------------------- time series

def ar_loglik(params, y, p=2):
    phi, log_sigma = params[:p], params[p]
    sigma = np.exp(log_sigma)
    ll = 0.0
    for t in range(p, len(y)):
        mu = np.dot(phi, y[t - p:t][::-1])
        ll += st.norm.logpdf(y[t], mu, sigma)
    return -ll


def exp_smoothing(logit_alpha, y):
    alpha = sps.expit(logit_alpha)
    level = y[0]
    sse = 0.0
    for t in range(1, len(y)):
        sse = sse + (y[t] - level) ** 2
        level = alpha * y[t] + (1 - alpha) * level
    return sse


def holt_winters(params, y, m=4):
    a, b, g = sps.expit(params)
    level, trend = y[0], y[1] - y[0]
    season = list(y[:m] - np.mean(y[:m]))
    sse = 0.0
    for t in range(m, len(y)):
        s = season[t - m]
        pred = level + trend + s
        sse += (y[t] - pred) ** 2
        new_level = a * (y[t] - s) + (1 - a) * (level + trend)
        trend = b * (new_level - level) + (1 - b) * trend
        season.append(g * (y[t] - new_level) + (1 - g) * s)
        level = new_level
    return sse


def garch11(params, r):
    omega, alpha, beta = np.exp(params)
    var = np.var(r)
    nll = 0.0
    for t in range(len(r)):
        nll = nll + 0.5 * (np.log(2 * np.pi * var) + r[t] ** 2 / var)
        var = omega + alpha * r[t] ** 2 + beta * var
    return nll


def local_level_kalman(log_vars, y):
    q, r = np.exp(log_vars)
    m, P = 0.0, 10.0
    ll = 0.0
    for obs in y:
        P = P + q
        S = P + r
        K = P / S
        ll += -0.5 * (np.log(2 * np.pi * S) + (obs - m) ** 2 / S)
        m = m + K * (obs - m)
        P = (1 - K) * P
    return -ll


TS = np.cumsum(rnd(12)) + np.sin(np.arange(12))


# ---------------------------------------------------------------- Bayesian workflows

def log_joint(theta, x, y):
    w, log_s = theta[:-1], theta[-1]
    prior = np.sum(st.norm.logpdf(w, 0, 1)) + st.gamma.logpdf(np.exp(log_s), a=2.0) + log_s
    lik = np.sum(st.norm.logpdf(y, x @ w, np.exp(log_s)))
    return -(prior + lik)


def laplace_evidence(w, X, y):
    p = sps.expit(X @ w)
    H = X.T @ (X * (p * (1 - p))[:, None]) + np.eye(X.shape[1])
    sign, logdet = np.linalg.slogdet(H)
    ll = np.sum(y * np.log(p) + (1 - y) * np.log1p(-p)) - 0.5 * w @ w
    return -(ll - 0.5 * logdet)


def iwae(params, x, eps, K=4):
    mu, log_s = params["mu"], params["log_s"]
    z = mu + np.exp(log_s) * eps                         # (K, d)
    log_q = np.sum(st.norm.logpdf(z, mu, np.exp(log_s)), axis=1)
    log_p = np.sum(st.norm.logpdf(z, 0, 1), axis=1) + np.sum(st.norm.logpdf(x, z.sum(1)[:, None],
                                                                                1.0), axis=1)
    return -(sps.logsumexp(log_p - log_q) - np.log(K))


def mixture_of_experts(params, X, y):
    gate = sps.softmax(X @ params["G"], axis=1)
    preds = X @ params["E"]
    ll = st.norm.logpdf(y[:, None], preds, 0.5)
    return -np.sum(sps.logsumexp(np.log(gate) + ll, axis=1))


XB = rnd(7, 3, scale=1.0)
YB = XB @ np.array([0.5, -1.0, 0.3]) + rnd(7, scale=0.2)


# ---------------------------------------------------------------- control

def lqr_rollout(K, x0, A, B, Q, Rc, T=6):
    x = x0
    J = 0.0
    for _ in range(T):
        u = -K @ x
        J = J + x @ Q @ x + u @ Rc @ u
        x = A @ x + B @ u
    return J + x @ Q @ x


def shooting(us, x0, target, dt=0.1):
    pos, vel = x0
    for u in us:
        vel = vel + dt * (u - 0.1 * vel)
        pos = pos + dt * vel
    return (pos - target) ** 2 + 0.01 * np.sum(us ** 2) + vel ** 2


def cartpole(us, state0, dt=0.02, g=9.8, mc=1.0, mp=0.1, l=0.5):
    x, xd, th, thd = state0
    cost = 0.0
    for u in us:
        st_, ct = np.sin(th), np.cos(th)
        tmp = (u + mp * l * thd ** 2 * st_) / (mc + mp)
        thacc = (g * st_ - ct * tmp) / (l * (4.0 / 3.0 - mp * ct ** 2 / (mc + mp)))
        xacc = tmp - mp * l * thacc * ct / (mc + mp)
        x, xd = x + dt * xd, xd + dt * xacc
        th, thd = th + dt * thd, thd + dt * thacc
        cost = cost + th ** 2 + 0.1 * x ** 2 + 0.001 * u ** 2
    return cost


A2 = np.array([[1.0, 0.1], [0.0, 1.0]])
B2 = np.array([[0.0], [0.1]])


# ---------------------------------------------------------------- geometry / graphics

def soft_raster(verts, pixels, sigma=0.05):
    # soft inside-test of a triangle for each pixel
    total = np.zeros(len(pixels))
    inside = np.ones(len(pixels))
    for k in range(3):
        a, b = verts[k], verts[(k + 1) % 3]
        edge = b - a
        normal = np.array([-edge[1], edge[0]])
        d = (pixels - a) @ normal / np.linalg.norm(normal)
        inside = inside * sps.expit(d / sigma)
        total = total + d
    return np.sum(inside) + 0.01 * np.sum(total)


def bezier_fit(ctrl, ts, pts):
    n = len(ctrl) - 1
    B = np.stack([math.comb(n, k) * ts ** k * (1 - ts) ** (n - k) for k in range(n + 1)], axis=1)
    curve = B @ ctrl
    return np.sum((curve - pts) ** 2)


def rodrigues(rotvec, P, Q):
    theta = np.sqrt(np.sum(rotvec ** 2) + 1e-12)
    k = rotvec / theta
    Kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    Rm = np.eye(3) + np.sin(theta) * Kx + (1 - np.cos(theta)) * Kx @ Kx
    return np.sum((P @ Rm.T - Q) ** 2)


def barycentric(vals, tri, pts):
    a, b, c = tri
    v0, v1 = b - a, c - a
    d00, d01, d11 = v0 @ v0, v0 @ v1, v1 @ v1
    denom = d00 * d11 - d01 ** 2
    v2 = pts - a
    d20, d21 = v2 @ v0, v2 @ v1
    lv = (d11 * d20 - d01 * d21) / denom
    lw = (d00 * d21 - d01 * d20) / denom
    lu = 1 - lv - lw
    interp = lu * vals[0] + lv * vals[1] + lw * vals[2]
    return np.sum(interp ** 2)


# ---------------------------------------------------------------- finance

def bs_call(S, K, T, r, sigma):
    d1 = (np.log(S / K) + (r + 0.5 * sigma ** 2) * T) / (sigma * np.sqrt(T))
    d2 = d1 - sigma * np.sqrt(T)
    return S * st.norm.cdf(d1) - K * np.exp(-r * T) * st.norm.cdf(d2)


def bs_calibrate(smile, strikes, prices, S=100.0, T=0.5, r=0.01):
    a, b, c = smile
    m = np.log(strikes / S)
    sigma = np.sqrt(a + b * m + c * m ** 2)
    return np.sum((bs_call(S, strikes, T, r, sigma) - prices) ** 2)


def bond_price_error(y, cashflows, times, price):
    pv = np.sum(cashflows * np.exp(-y[0] * times))
    return (pv - price) ** 2


# ---------------------------------------------------------------- code shapes

def early_return(x, thresh=5.0):
    acc = 0.0
    for k in range(10):
        acc = acc + np.sum(np.sin(x * (k + 1)) ** 2)
        if k >= 3:
            return acc
    return -acc


def while_tolerance(x, tol=1e-6):
    y = np.ones_like(x)
    err = 1.0
    n = 0
    while err > tol and n < 100:
        y_new = 0.5 * (y + x / y)          # Newton for sqrt(x)
        err = np.max(np.abs(y_new - y))
        y = y_new
        n += 1
    return np.sum(y)


def for_else(x):
    for k in range(5):
        x = np.cos(x)
        if np.all(np.abs(x) > 5.0):
            break
    else:
        x = x * 2.0
    return np.sum(x)


def closures_over_loop(w, X):
    fns = []
    for k in range(3):
        def f(z, k=k):
            return np.tanh(z * (k + 1))
        fns.append(f)
    return sum(np.sum(f(X @ w)) for f in fns)


def zip_star(pairs_w, X):
    Ws, bs = zip(*pairs_w)
    h = X
    for W, b in zip(Ws, bs):
        h = np.tanh(h @ W + b)
    return np.sum(h)


def dict_comprehension(params, X):
    scaled = {k: 2.0 * v for k, v in params.items() if k != "skip"}
    h = np.tanh(X @ scaled["W"] + scaled["b"])
    return np.sum(h ** 2) + np.sum(params["skip"])


def enumerate_start(ws, X):
    total = 0.0
    for k, w in enumerate(ws, start=1):
        total = total + np.sum(np.tanh(X @ w)) / k
    return total


def chained_cmp(x):
    lo, hi = -0.5, 0.5
    mask = (x > lo) & (x < hi)
    mid = np.where(mask, x ** 2, np.abs(x))
    return np.sum(mid) if lo < hi < 1 else 0.0


def take_along(logits, idx):
    logp = logits - sps.logsumexp(logits, axis=1, keepdims=True)
    return -np.sum(np.take_along_axis(logp, idx[:, None], axis=1))


def scatter_add(vals, idx, n=4):
    out = np.zeros(n)
    np.add.at(out, idx, vals)
    return np.sum(out ** 2)


def reversed_sorted(ws):
    total = 0.0
    for k in reversed(range(len(ws))):
        total = total * 0.5 + np.sum(ws[k] ** 2)
    keys = sorted({"b": 1, "a": 2})
    return total + len(keys)


def builtin_max_min(a, b):
    return max(np.sum(a ** 2), np.sum(b ** 2)) + min(np.sum(a), np.sum(b))


def einsum_ellipsis_batch(A, x):
    y = np.einsum("...ij,...j->...i", A, x)
    return np.sum(np.einsum("...i,...i->...", y, y))


CASES = {
    "gru_packed": (gru_packed, ({"W": rnd(2, 9), "U": rnd(3, 9), "b": rnd(9)}, rnd(4, 2)), 0,
                   {}),
    "attention_pool": (attention_pool, ({"W": rnd(3, 4), "v": rnd(4), "u": rnd(3)},
                                        rnd(5, 3)), 0, {}),
    "dilated_conv": (dilated_causal_conv, (rnd(2), rnd(8)), (0, 1), {}),
    "ctc_forward": (ctc_like_forward, (rnd(6, 3), [1, 2, 2]), 0, {}, {"f32": False}),
    "bpr": (bpr, ((rnd(4, 3), rnd(5, 3)), np.array([0, 1, 3, 2]), np.array([1, 2, 0, 4]),
                  np.array([3, 3, 1, 0])), 0, {}),
    "sampled_softmax": (sampled_softmax, ({"E": rnd(6, 3), "O": rnd(6, 3)},
                                          np.array([0, 2, 5]), np.array([1, 3, 4])), 0, {}),
    "lambdarank": (lambdarank_weighted, (rnd(3), rnd(5, 3), np.array([3.0, 0.0, 1.0, 2.0, 0.0])),
                   0, {}),
    "ar_loglik": (ar_loglik, (np.array([0.5, -0.2, -0.5]), TS), 0, {}),
    "exp_smoothing": (exp_smoothing, (0.3, TS), 0, {}),
    "garch": (garch11, (np.log(np.array([0.1, 0.1, 0.8])), rnd(10)), 0, {}),
    "local_level": (local_level_kalman, (np.log(np.array([0.5, 0.2])), TS), 0, {},
                    {"order2": True}),
    "log_joint": (log_joint, (rnd(4), XB, YB), 0, {}, {"order2": True}),
    "laplace": (laplace_evidence, (rnd(3), XB, (YB > 0).astype(float)), 0, {}),
    "iwae": (iwae, ({"mu": rnd(2), "log_s": rnd(2)}, rnd(3), rnd(4, 2, scale=1.0)), 0, {}),
    "moe": (mixture_of_experts, ({"G": rnd(3, 2), "E": rnd(3, 2)}, XB, YB), 0, {}),
    "lqr": (lqr_rollout, (rnd(1, 2), np.array([1.0, 0.0]), A2, B2, np.eye(2),
                          0.1 * np.eye(1)), 0, {}, {"order2": True}),
    "shooting": (shooting, (rnd(8), (0.0, 0.0), 1.0), 0, {}),
    "cartpole": (cartpole, (rnd(10), (0.0, 0.0, 0.1, 0.0)), 0, {}),
    "soft_raster": (soft_raster, (np.array([[0.1, 0.1], [0.9, 0.2], [0.4, 0.8]]),
                                  R.uniform(size=(6, 2))), 0, {}),
    "bezier": (bezier_fit, (rnd(4, 2), np.linspace(0, 1, 6), rnd(6, 2)), 0, {}),
    "rodrigues": (rodrigues, (np.array([0.3, -0.2, 0.5]), rnd(5, 3), rnd(5, 3)), 0, {}),
    "barycentric": (barycentric, (rnd(3), np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]),
                                  R.uniform(size=(4, 2)) * 0.5), (0, 2), {}),
    "bs_calibrate": (bs_calibrate, (np.array([0.04, -0.02, 0.05]),
                                    np.array([90.0, 100.0, 110.0]),
                                    np.array([12.0, 6.0, 2.5])), 0, {}, {"f32": False}),
    "bond": (bond_price_error, (np.array([0.03]), np.array([5.0, 5.0, 105.0]),
                                np.array([1.0, 2.0, 3.0]), 101.0), 0, {}),
    "early_return": (early_return, (rnd(3),), 0, {}),
    "while_tolerance": (while_tolerance, (np.abs(rnd(3)) + 0.5,), 0, {}),
    "for_else": (for_else, (rnd(3),), 0, {}),
    "zip_star": (zip_star, ([(rnd(3, 3), rnd(3)), (rnd(3, 2), rnd(2))], rnd(4, 3)), 0, {}),
    "dict_comprehension": (dict_comprehension, ({"W": rnd(3, 2), "b": rnd(2), "skip": rnd(2)},
                                                rnd(4, 3)), 0, {}),
    "enumerate_start": (enumerate_start, ([rnd(3), rnd(3)], rnd(4, 3)), 0, {}),
    "chained_cmp": (chained_cmp, (rnd(6, scale=1.0),), 0, {}),
    "take_along": (take_along, (rnd(4, 3), np.array([0, 2, 1, 1])), 0, {}),
    "scatter_add": (scatter_add, (rnd(5), np.array([0, 1, 1, 3, 0])), 0, {}),
    "reversed_sorted": (reversed_sorted, ([rnd(2), rnd(3)],), 0, {}),
    "builtin_max_min": (builtin_max_min, (rnd(3), rnd(3)), (0, 1), {}),
    "einsum_ellipsis": (einsum_ellipsis_batch, (rnd(2, 3, 3), rnd(2, 3)), (0, 1), {}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus10_more(name):
    run_table(CASES, name)


def test_closures_in_a_list():
    """Refused on 709bcd7 (a function is used as a value); corpus11 unrolls
    a loop over a constant range that stores the closures it makes."""
    from tests.corpus10_harness import check
    check(closures_over_loop, (rnd(3), rnd(4, 3)), 0)


REFUSALS = {
    # list() of an array slice (its length is known only at run time):
    # keep the seasonal terms in an array, as holt_winters_array does
    "list_of_array": (holt_winters, (rnd(3), TS),
                      r"test_corpus10_more.py:\d+: list\(\) of a computed value"),
}


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_refusals_name_the_line(name):
    from s2sgrad import grad
    from s2sgrad.errors import S2SGradError
    f, args, pattern = REFUSALS[name]
    with pytest.raises(S2SGradError, match=pattern):
        grad(f)(*args)


def holt_winters_array(params, y, m=4):
    a, b, g = sps.expit(params)
    level, trend = y[0], y[1] - y[0]
    season = [s for s in y[:m] - np.mean(y[:m])]
    sse = 0.0
    for t in range(m, len(y)):
        s = season[t - m]
        sse += (y[t] - level - trend - s) ** 2
        new_level = a * (y[t] - s) + (1 - a) * (level + trend)
        trend = b * (new_level - level) + (1 - b) * trend
        season.append(g * (y[t] - new_level) + (1 - g) * s)
        level = new_level
    return sse


def test_holt_winters_with_a_comprehension():
    from tests.corpus10_harness import check
    check(holt_winters_array, (rnd(3), TS), 0)
