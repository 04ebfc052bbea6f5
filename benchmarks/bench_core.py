r"""Generated gradients vs hand-written NumPy gradients.

For each problem -- (a) logistic regression, (b) softmax regression
(cross-entropy through a stable log-sum-exp), (c) a two-layer tanh MLP with a
squared loss -- at a small and a large size, this times

  * hand:     a gradient written by hand in NumPy, the way a careful person
              would (fused where NumPy allows, in place where safe, no loss value);
  * s2sgrad:  ``s2sgrad.grad`` of the plain NumPy loss (gradient only);
  * optional: autograd, jax (``jit(grad)``, ``block_until_ready``), torch
              (``torch.autograd.grad``), when they are installed; none of them
              is a dependency of s2sgrad.

Everything is float64 on one thread.  Before timing, every method's gradient
is checked against the hand-written one with ``np.allclose``.  The table
reports median seconds per gradient call and the ratio s2sgrad / hand.

How the ratio is measured (so that a small row's median means something on
a shared machine).  A row is timed in rounds; each round takes one sample of
each method, back to back, in rotating order, and a sample is as many calls
as take about ``--sample-ms`` (default 20 ms; at least 1 ms however fast the
call).  The ratio of a round is s2sgrad's sample over hand's *of the same
round*: both saw the same load on the machine, so a slow stretch of other
processes' work moves both and cancels in the ratio, where a ratio of two
medians taken over different rounds keeps it.  The table gives the median
of the per-round ratios and, beside it, their range (min-max over the
rounds); ``--runs N`` repeats every row in N fresh processes and gives the
median over runs of each run's median, with the range of those medians
(what "in every run" means).  The garbage collector is off while a sample
runs (as ``timeit`` does), for every method alike.  Arguments are the ones a
user passes (Python floats, NumPy scalars, keywords), the same objects to
hand and to s2sgrad, each called through the same kind of lambda.

Each (problem, size) row runs in a fresh child process, in two phases:

  1. hand and s2sgrad side by side, interleaved (one batch of each per round,
     in rotating order), with nothing but NumPy and s2sgrad imported -- this
     gives the ratio column;
  2. only if optional frameworks are installed (and not --no-extras): they are
     imported and timed interleaved with the hand-written gradient again; their
     columns show time and the ratio to *that* hand timing.

Why fresh processes and two phases: at the large sizes a good part of the cost
of a gradient is allocating its full-size temporaries, and whether glibc hands
back recycled heap memory or fresh pages (page faults) depends on what the
process freed before -- earlier rows, or importing jax/torch, change it and
moved the s2sgrad/hand ratio of one row from 2.4 to 1.6.  A fresh process per
row with only NumPy loaded is what a plain NumPy training script sees.

Run:  python benchmarks/bench_core.py            (a few minutes with the optional columns)
      python benchmarks/bench_core.py --quick    (noisier)
      python benchmarks/bench_core.py --no-extras --show-source
      python benchmarks/bench_core.py --bare     (adds the generated function alone,
                                                  without the grad() call machinery)
      OPENBLAS_NUM_THREADS=1 python benchmarks/bench_core.py --no-extras --bare --cpu-time --runs 3
                                                 (the issue's numbers: ranges over 3 runs)
      ... --more --only mlp\ relu,gru,layernorm,gmm  (the extra workloads: MLP with a
                                                 keyword L2 weight, GRU, layer norm +
                                                 attention, Gaussian mixture)
"""
import os

# one thread everywhere, set before NumPy (or any framework) is imported
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import s2sgrad  # noqa: E402


# =============================================================== the losses (plain NumPy)

def logistic_loss(w, X, y):
    """Mean logistic loss, labels y in {-1, +1}."""
    return np.mean(np.logaddexp(0.0, -y * (X @ w)))


def softmax_loss(W, X, Y):
    """Mean cross-entropy of softmax(X W) against one-hot Y, via a stable log-sum-exp."""
    Z = X @ W
    Z = Z - np.max(Z, axis=1, keepdims=True)
    logp = Z - np.log(np.sum(np.exp(Z), axis=1, keepdims=True))
    return -np.mean(np.sum(Y * logp, axis=1))


def mlp_loss(W1, b1, W2, b2, X, Y):
    """Two-layer tanh network, half mean squared error over samples."""
    H = np.tanh(X @ W1 + b1)
    R = H @ W2 + b2 - Y
    return 0.5 * np.mean(np.sum(R * R, axis=1))


# =============================================================== hand-written gradients

def logistic_hand(w, X, y):
    m = y * (X @ w)
    s = np.exp(m)
    s += 1.0
    np.divide(y, s, out=s)              # s = y / (1 + e^m) = y * sigmoid(-m)
    g = X.T @ s
    g *= -1.0 / len(y)
    return g


def softmax_hand(W, X, Y):
    P = X @ W
    P -= P.max(axis=1, keepdims=True)
    np.exp(P, out=P)
    P /= P.sum(axis=1, keepdims=True)   # softmax
    P -= Y
    G = X.T @ P
    G *= 1.0 / len(X)
    return G


def mlp_hand(W1, b1, W2, b2, X, Y):
    n = len(X)
    H = X @ W1
    H += b1
    np.tanh(H, out=H)
    R = H @ W2
    R += b2
    R -= Y
    R *= 1.0 / n                        # d loss / d output
    dW2 = H.T @ R
    db2 = R.sum(axis=0)
    D = R @ W2.T
    np.square(H, out=H)
    np.subtract(1.0, H, out=H)          # tanh' = 1 - H^2
    D *= H
    dW1 = X.T @ D
    db1 = D.sum(axis=0)
    return dW1, db1, dW2, db2


def logistic_l2_loss(w, X, y, lam):
    """Logistic loss plus an L2 penalty whose weight is a scalar argument
    (passed as a Python float, a NumPy scalar, or by keyword)."""
    return np.mean(np.logaddexp(0.0, -y * (X @ w))) + lam * np.sum(w * w)


def logistic_l2_hand(w, X, y, lam):
    g = logistic_hand(w, X, y)
    g += (2.0 * lam) * w
    return g


def mlp_dict_loss(params, X, Y):
    """The MLP with its parameters in a dict, as NumPy training code passes them."""
    H = np.tanh(X @ params["W1"] + params["b1"])
    R = H @ params["W2"] + params["b2"] - Y
    return 0.5 * np.mean(np.sum(R * R, axis=1))


def mlp_dict_hand(params, X, Y):
    dW1, db1, dW2, db2 = mlp_hand(params["W1"], params["b1"], params["W2"], params["b2"], X, Y)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def rnn_loss(Wh, Wx, b, xs, h0, target):
    """Vanilla RNN, loss on the final state."""
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + Wx @ xs[t] + b)
    return 0.5 * np.sum((h - target) ** 2)


def rnn_hand(Wh, Wx, b, xs, h0, target):
    """BPTT: states in one preallocated array, the step cotangents in another,
    each weight gradient one matrix product after the loop."""
    T = xs.shape[0]
    H = np.empty((T + 1,) + h0.shape)
    H[0] = h0
    for t in range(T):
        a = Wh @ H[t]
        a += Wx @ xs[t]
        a += b
        np.tanh(a, out=H[t + 1])
    dh = H[T] - target
    D = np.empty((T,) + h0.shape)
    for t in range(T - 1, -1, -1):
        da = np.square(H[t + 1], out=D[t])
        np.subtract(1.0, da, out=da)
        da *= dh
        dh = Wh.T @ da
    return _rnn_weight_grads(D, H, xs)


def _rnn_weight_grads(D, H, xs):
    T = D.shape[0]
    if D.ndim == 2:                     # one sequence: states are vectors
        return D.T @ H[:T], D.T @ xs, D.sum(axis=0)
    # a batch (hidden, batch) per step: sum_t D_t @ H_t.T
    n = D.shape[1]
    Dm = D.transpose(1, 0, 2).reshape(n, -1)
    return (Dm @ H[:T].transpose(1, 0, 2).reshape(n, -1).T,
            Dm @ xs.transpose(1, 0, 2).reshape(xs.shape[1], -1).T,
            D.sum(axis=(0, 2))[:, None])


def rnn_sum_loss(Wh, Wx, b, xs, h0, ys):
    """Vanilla RNN, a loss summed over every step (accumulated from a Python float)."""
    h = h0
    loss = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + Wx @ xs[t] + b)
        loss = loss + 0.5 * np.sum((h - ys[t]) ** 2)
    return loss


def rnn_sum_hand(Wh, Wx, b, xs, h0, ys):
    T = xs.shape[0]
    H = np.empty((T + 1,) + h0.shape)
    H[0] = h0
    for t in range(T):
        a = Wh @ H[t]
        a += Wx @ xs[t]
        a += b
        np.tanh(a, out=H[t + 1])
    E = H[1:] - ys                      # every step's output error at once
    D = np.empty((T,) + h0.shape)
    dh = np.zeros(h0.shape)
    for t in range(T - 1, -1, -1):
        dh += E[t]
        da = np.square(H[t + 1], out=D[t])
        np.subtract(1.0, da, out=da)
        da *= dh
        dh = Wh.T @ da
    return _rnn_weight_grads(D, H, xs)


def rnn_list_loss(Wh, Wx, b, xs, h0, ys):
    """Vanilla RNN written as NumPy users write it: the states on a list,
    stacked after the loop, a loss over every step (hand: rnn_sum_hand, the
    same gradient with the states in one preallocated array)."""
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + Wx @ xs[t] + b)
        hs.append(h)
    H = np.stack(hs)
    return 0.5 * np.sum((H - ys) ** 2)


def chain_loss(x):
    """An elementwise chain: a damped oscillation plus a quadratic."""
    y = np.exp(-x ** 2) * np.sin(x) + 0.5 * x ** 2
    return np.sum(y)


def chain_hand(x):
    e = np.square(x)
    np.negative(e, out=e)
    np.exp(e, out=e)                    # e = exp(-x^2)
    g = np.cos(x)
    s = np.sin(x)
    s *= x
    s *= 2.0
    g -= s                              # cos x - 2 x sin x
    g *= e
    g += x
    return g


# =============================================================== problems

def make_logistic(n, d, rng):
    X = rng.standard_normal((n, d))
    w_true = rng.standard_normal(d)
    y = np.where(X @ w_true + 0.5 * rng.standard_normal(n) > 0, 1.0, -1.0)
    w = 0.1 * rng.standard_normal(d)
    return (w, X, y), (0,)


def make_softmax(n, d, k, rng):
    X = rng.standard_normal((n, d))
    labels = np.argmax(X @ rng.standard_normal((d, k)) + rng.standard_normal((n, k)), axis=1)
    Y = np.eye(k)[labels]
    W = 0.1 * rng.standard_normal((d, k))
    return (W, X, Y), (0,)


def make_mlp(n, d, h, k, rng):
    X = rng.standard_normal((n, d))
    Y = rng.standard_normal((n, k))
    W1 = rng.standard_normal((d, h)) / np.sqrt(d)
    b1 = 0.1 * rng.standard_normal(h)
    W2 = rng.standard_normal((h, k)) / np.sqrt(h)
    b2 = 0.1 * rng.standard_normal(k)
    return (W1, b1, W2, b2, X, Y), (0, 1, 2, 3)


def make_logistic_l2(n, d, kind, rng):
    (w, X, y), wrt = make_logistic(n, d, rng)
    lam = {"float": 0.01, "numpy": np.float64(0.01)}.get(kind, 0.01)
    if kind == "keyword":
        return (w,), {"X": X, "y": y, "lam": lam}, wrt
    return (w, X, y, lam), wrt


def make_mlp_dict(n, d, h, k, rng):
    (W1, b1, W2, b2, X, Y), _ = make_mlp(n, d, h, k, rng)
    return ({"W1": W1, "b1": b1, "W2": W2, "b2": b2}, X, Y), (0,)


def make_rnn(T, hidden, n_in, batch, rng, summed=False):
    shape = (hidden,) if batch == 0 else (hidden, batch)
    Wh = rng.standard_normal((hidden, hidden)) / np.sqrt(hidden)
    Wx = rng.standard_normal((hidden, n_in)) / np.sqrt(n_in)
    b = 0.1 * rng.standard_normal(hidden if batch == 0 else (hidden, 1))
    xs = rng.standard_normal((T, n_in) if batch == 0 else (T, n_in, batch))
    h0 = np.zeros(shape)
    target = 0.5 * rng.standard_normal((T,) + shape if summed else shape)
    return (Wh, Wx, b, xs, h0, target), (0, 1, 2)


def make_rnn_sum(T, hidden, n_in, batch, rng):
    return make_rnn(T, hidden, n_in, batch, rng, summed=True)


def make_chain(n, rng):
    return (rng.uniform(-2.0, 2.0, n),), (0,)


PROBLEMS = [
    # name, loss, hand gradient, small, large
    ("logistic", logistic_loss, logistic_hand, make_logistic,
     [("n=64,d=10", (64, 10)), ("n=10000,d=100", (10000, 100))]),
    ("softmax", softmax_loss, softmax_hand, make_softmax,
     [("n=64,d=10,k=3", (64, 10, 3)), ("n=10000,d=100,k=10", (10000, 100, 10))]),
    ("mlp (tanh)", mlp_loss, mlp_hand, make_mlp,
     [("n=64,d=10,h=32,k=3", (64, 10, 32, 3)), ("n=10000,d=100,h=256,k=10", (10000, 100, 256, 10))]),
    ("rnn", rnn_loss, rnn_hand, make_rnn,
     [("T=50,h=16", (50, 16, 8, 0)), ("T=50,h=256,batch=32", (50, 256, 32, 32))]),
    ("rnn (summed loss)", rnn_sum_loss, rnn_sum_hand, make_rnn_sum,
     [("T=50,h=16", (50, 16, 8, 0)), ("T=50,h=256,batch=32", (50, 256, 32, 32))]),
    ("elementwise chain", chain_loss, chain_hand, make_chain,
     [("n=1000", (1000,)), ("n=1000000", (1000000,))]),
    # argument forms: the L2 weight as a Python float, a NumPy scalar, and
    # every argument after the first by keyword
    ("logistic+l2, lam float", logistic_l2_loss, logistic_l2_hand, make_logistic_l2,
     [("n=64,d=10", (64, 10, "float")), ("n=10000,d=100", (10000, 100, "float"))]),
    ("logistic+l2, lam np.float64", logistic_l2_loss, logistic_l2_hand, make_logistic_l2,
     [("n=64,d=10", (64, 10, "numpy"))]),
    ("logistic+l2, by keyword", logistic_l2_loss, logistic_l2_hand, make_logistic_l2,
     [("n=64,d=10", (64, 10, "keyword"))]),
    # the parameters in a dict (the gradient a dict too)
    ("mlp, dict params", mlp_dict_loss, mlp_dict_hand, make_mlp_dict,
     [("n=64,d=10,h=32,k=3", (64, 10, 32, 3))]),
    # (perf-lists7) the states appended to a list, np.stack after the loop
    ("rnn, list of states", rnn_list_loss, rnn_sum_hand, make_rnn_sum,
     [("T=50,h=16", (50, 16, 8, 0)), ("T=50,h=256,batch=32", (50, 256, 32, 32))]),
]


# =============================================================== more workloads (--more)
#
# Realistic programs beyond the rows, each with a careful hand-written
# gradient: how s2sgrad does on code it was not tuned on.

# --- 1. MLP (relu) + softmax cross-entropy + L2 weight (Python float, by keyword)

def mlp_l2_loss(W1, b1, W2, b2, X, labels, lam=1e-3):
    """Two-layer ReLU classifier, mean softmax cross-entropy over integer
    labels (logsumexp with the max shift), plus lam * (|W1|^2 + |W2|^2)."""
    H = np.maximum(X @ W1 + b1, 0.0)
    Z = H @ W2 + b2
    m = np.max(Z, axis=1, keepdims=True)
    lse = np.log(np.sum(np.exp(Z - m), axis=1)) + m[:, 0]
    nll = lse - Z[np.arange(X.shape[0]), labels]
    return np.mean(nll) + lam * (np.sum(W1 * W1) + np.sum(W2 * W2))


def mlp_l2_hand(W1, b1, W2, b2, X, labels, lam=1e-3):
    n = X.shape[0]
    H = X @ W1
    H += b1
    np.maximum(H, 0.0, out=H)
    P = H @ W2
    P += b2
    P -= P.max(axis=1, keepdims=True)
    np.exp(P, out=P)
    P /= P.sum(axis=1, keepdims=True)
    P[np.arange(n), labels] -= 1.0
    P *= 1.0 / n                            # d loss / d Z
    dW2 = H.T @ P
    dW2 += (2.0 * lam) * W2
    db2 = P.sum(axis=0)
    D = P @ W2.T
    D *= H > 0
    dW1 = X.T @ D
    dW1 += (2.0 * lam) * W1
    db1 = D.sum(axis=0)
    return dW1, db1, dW2, db2


def make_mlp_l2(n, d, h, k, rng):
    X = rng.standard_normal((n, d))
    labels = rng.integers(0, k, n)
    W1 = rng.standard_normal((d, h)) / np.sqrt(d)
    b1 = 0.1 * rng.standard_normal(h)
    W2 = rng.standard_normal((h, k)) / np.sqrt(h)
    b2 = 0.1 * rng.standard_normal(k)
    return (W1, b1, W2, b2), {"X": X, "labels": labels, "lam": 1e-3}, (0, 1, 2, 3)


# --- 2. GRU over a sequence, batch, loss on the last state

def _sig(a):
    return 1.0 / (1.0 + np.exp(-a))


def gru_loss(Wz, Uz, Wr, Ur, Wn, Un, xs, h0, target):
    """A GRU (batch rows, no biases) over T steps, half squared error of
    the last state."""
    h = h0
    for t in range(xs.shape[0]):
        x = xs[t]
        z = 1.0 / (1.0 + np.exp(-(x @ Wz + h @ Uz)))
        r = 1.0 / (1.0 + np.exp(-(x @ Wr + h @ Ur)))
        c = np.tanh(x @ Wn + (r * h) @ Un)
        h = (1.0 - z) * c + z * h
    return 0.5 * np.sum((h - target) ** 2)


def gru_hand(Wz, Uz, Wr, Ur, Wn, Un, xs, h0, target):
    T = xs.shape[0]
    Hs = np.empty((T + 1,) + h0.shape)
    Z = np.empty((T,) + h0.shape)
    R = np.empty((T,) + h0.shape)
    C = np.empty((T,) + h0.shape)
    Hs[0] = h0
    for t in range(T):
        x, h = xs[t], Hs[t]
        z = x @ Wz
        z += h @ Uz
        np.negative(z, out=z)
        np.exp(z, out=z)
        z += 1.0
        np.reciprocal(z, out=Z[t])
        r = x @ Wr
        r += h @ Ur
        np.negative(r, out=r)
        np.exp(r, out=r)
        r += 1.0
        np.reciprocal(r, out=R[t])
        c = x @ Wn
        c += (R[t] * h) @ Un
        np.tanh(c, out=C[t])
        hn = Hs[t + 1]
        np.subtract(h, C[t], out=hn)        # h_new = c + z * (h - c)
        hn *= Z[t]
        hn += C[t]
    dh = Hs[T] - target
    g = [np.zeros_like(W) for W in (Wz, Uz, Wr, Ur, Wn, Un)]
    for t in range(T - 1, -1, -1):
        x, h, z, r, c = xs[t], Hs[t], Z[t], R[t], C[t]
        dc = (1.0 - z) * dh
        dz = dh * (h - c)
        dhn = z * dh
        da_c = dc * (1.0 - c * c)
        g[4] += x.T @ da_c
        rh = r * h
        g[5] += rh.T @ da_c
        drh = da_c @ Un.T
        dr = drh * h
        dhn += drh * r
        da_z = dz * z * (1.0 - z)
        da_r = dr * r * (1.0 - r)
        g[0] += x.T @ da_z
        g[1] += h.T @ da_z
        g[2] += x.T @ da_r
        g[3] += h.T @ da_r
        dhn += da_z @ Uz.T
        dhn += da_r @ Ur.T
        dh = dhn
    return tuple(g)


def make_gru(T, hidden, n_in, batch, rng):
    Ws = []
    for _ in range(3):
        Ws.append(rng.standard_normal((n_in, hidden)) / np.sqrt(n_in))
        Ws.append(rng.standard_normal((hidden, hidden)) / np.sqrt(hidden))
    xs = rng.standard_normal((T, batch, n_in))
    h0 = np.zeros((batch, hidden))
    target = 0.5 * rng.standard_normal((batch, hidden))
    return tuple(Ws) + (xs, h0, target), (0, 1, 2, 3, 4, 5)


# --- 3. layer norm + one attention head (softmax over keys)

def attn_loss(X, gamma, beta, Wq, Wk, Wv, T):
    """LayerNorm of the rows of X (eps 1e-5), one self-attention head,
    half squared error against T."""
    mu = np.mean(X, axis=-1, keepdims=True)
    var = np.mean((X - mu) ** 2, axis=-1, keepdims=True)
    Y = (X - mu) / np.sqrt(var + 1e-5) * gamma + beta
    Q, K, V = Y @ Wq, Y @ Wk, Y @ Wv
    S = Q @ K.T / np.sqrt(Q.shape[1])
    S = S - np.max(S, axis=1, keepdims=True)
    A = np.exp(S)
    A = A / np.sum(A, axis=1, keepdims=True)
    O = A @ V
    return 0.5 * np.sum((O - T) ** 2)


def attn_hand(X, gamma, beta, Wq, Wk, Wv, T):
    d = X.shape[1]
    mu = X.mean(axis=1, keepdims=True)
    Xc = X - mu
    var = np.mean(Xc * Xc, axis=1, keepdims=True)
    rstd = 1.0 / np.sqrt(var + 1e-5)
    Xh = Xc * rstd
    Y = Xh * gamma
    Y += beta
    Q, K, V = Y @ Wq, Y @ Wk, Y @ Wv
    scale = 1.0 / np.sqrt(Q.shape[1])
    A = Q @ K.T
    A *= scale
    A -= A.max(axis=1, keepdims=True)
    np.exp(A, out=A)
    A /= A.sum(axis=1, keepdims=True)
    dO = A @ V
    dO -= T
    dV = A.T @ dO
    dA = dO @ V.T
    dS = dA
    dS -= np.sum(dA * A, axis=1, keepdims=True)
    dS *= A
    dS *= scale
    dQ = dS @ K
    dK = dS.T @ Q
    dWq, dWk, dWv = Y.T @ dQ, Y.T @ dK, Y.T @ dV
    dY = dQ @ Wq.T
    dY += dK @ Wk.T
    dY += dV @ Wv.T
    dgamma = np.sum(dY * Xh, axis=0)
    dbeta = dY.sum(axis=0)
    dXh = dY * gamma
    dX = dXh - dXh.mean(axis=1, keepdims=True)
    dX -= Xh * np.mean(dXh * Xh, axis=1, keepdims=True)
    dX *= rstd
    return dX, dgamma, dbeta, dWq, dWk, dWv


def make_attn(n, d, dk, rng):
    X = rng.standard_normal((n, d))
    gamma = 1.0 + 0.1 * rng.standard_normal(d)
    beta = 0.1 * rng.standard_normal(d)
    Wq, Wk, Wv = (rng.standard_normal((d, dk)) / np.sqrt(d) for _ in range(3))
    T = rng.standard_normal((n, dk))
    return (X, gamma, beta, Wq, Wk, Wv, T), (0, 1, 2, 3, 4, 5)


# --- 4. Gaussian mixture negative log-likelihood (logsumexp over components)

def gmm_loss(mu, log_s, logits, X):
    """Mean negative log-likelihood of X's rows under a mixture of K
    isotropic Gaussians (means mu, log standard deviations log_s, mixing
    weights softmax(logits)), by a max-shifted logsumexp."""
    d = X.shape[1]
    lw = logits - np.log(np.sum(np.exp(logits - np.max(logits)))) - np.max(logits)
    D2 = np.sum(X ** 2, axis=1)[:, None] - 2.0 * X @ mu.T + np.sum(mu ** 2, axis=1)
    L = lw - d * log_s - 0.5 * d * np.log(2 * np.pi) - 0.5 * D2 * np.exp(-2.0 * log_s)
    m = np.max(L, axis=1, keepdims=True)
    ll = np.log(np.sum(np.exp(L - m), axis=1)) + m[:, 0]
    return -np.mean(ll)


def gmm_hand(mu, log_s, logits, X):
    n, d = X.shape
    w = np.exp(logits - logits.max())
    w /= w.sum()
    inv = np.exp(-2.0 * log_s)
    D2 = X @ mu.T
    D2 *= -2.0
    D2 += np.sum(X * X, axis=1)[:, None]
    D2 += np.sum(mu * mu, axis=1)
    R = D2 * (-0.5 * inv)
    R += np.log(w) - d * log_s
    R -= R.max(axis=1, keepdims=True)
    np.exp(R, out=R)
    R /= R.sum(axis=1, keepdims=True)     # responsibilities
    Nk = R.sum(axis=0)
    c = inv / n
    dmu = (Nk[:, None] * mu - R.T @ X) * c[:, None]
    dlog_s = (d * Nk - inv * np.sum(R * D2, axis=0)) / n
    dlogits = w - Nk / n
    return dmu, dlog_s, dlogits


def make_gmm(n, d, k, rng):
    X = rng.standard_normal((n, d))
    mu = rng.standard_normal((k, d))
    log_s = 0.1 * rng.standard_normal(k)
    logits = 0.1 * rng.standard_normal(k)
    return (mu, log_s, logits, X), (0, 1, 2)


# --- 5. (perf-rows15) workloads users write that the rows above do not cover.
# Each loss is spelled as NumPy users spell it; scalars are Python floats or
# keywords; every hand gradient is checked against central differences by
# ``--self-test``.

def logsoftmax_nll_loss(W, b, X, labels):
    """Softmax regression by log-softmax: lse from a max-shifted logsumexp,
    log-probabilities ``z - lse[:, None]``, mean NLL of integer labels."""
    z = X @ W + b
    m = np.max(z, axis=1)
    lse = m + np.log(np.sum(np.exp(z - m[:, None]), axis=1))
    logp = z - lse[:, None]
    return -np.mean(logp[np.arange(X.shape[0]), labels])


def logsoftmax_nll_hand(W, b, X, labels):
    n = X.shape[0]
    P = X @ W
    P += b
    P -= P.max(axis=1, keepdims=True)
    np.exp(P, out=P)
    P /= P.sum(axis=1, keepdims=True)
    P[np.arange(n), labels] -= 1.0
    P *= 1.0 / n
    return X.T @ P, P.sum(axis=0)


def make_logsoftmax_nll(n, d, k, rng):
    X = rng.standard_normal((n, d))
    labels = rng.integers(0, k, n)
    W = 0.1 * rng.standard_normal((d, k))
    b = 0.1 * rng.standard_normal(k)
    return (W, b, X, labels), (0, 1)


def layernorm_loss(X, gamma, beta, T, eps=1e-5):
    """Layer norm of the rows of X (eps a keyword float), half squared error."""
    mu = X.mean(axis=1, keepdims=True)
    xc = X - mu
    var = np.mean(xc ** 2, axis=1, keepdims=True)
    Y = xc / np.sqrt(var + eps) * gamma + beta
    return 0.5 * np.sum((Y - T) ** 2)


def layernorm_hand(X, gamma, beta, T, eps=1e-5):
    Xc = X - X.mean(axis=1, keepdims=True)
    var = np.mean(Xc * Xc, axis=1, keepdims=True)
    rstd = 1.0 / np.sqrt(var + eps)
    Xh = Xc * rstd
    dY = Xh * gamma
    dY += beta
    dY -= T
    dgamma = np.sum(dY * Xh, axis=0)
    dbeta = dY.sum(axis=0)
    dXh = dY
    dXh *= gamma
    dX = dXh - dXh.mean(axis=1, keepdims=True)
    dX -= Xh * np.mean(dXh * Xh, axis=1, keepdims=True)
    dX *= rstd
    return dX, dgamma, dbeta


def make_layernorm(n, d, rng):
    X = rng.standard_normal((n, d))
    gamma = 1.0 + 0.1 * rng.standard_normal(d)
    beta = 0.1 * rng.standard_normal(d)
    T = rng.standard_normal((n, d))
    return (X, gamma, beta, T), {"eps": 1e-5}, (0, 1, 2)


def mlp_fbias_loss(W1, b1, W2, b2, X, Y):
    """The tanh MLP with scalar biases passed as Python floats (and
    differentiated: their gradients are numbers)."""
    H = np.tanh(X @ W1 + b1)
    R = H @ W2 + b2 - Y
    return 0.5 * np.mean(np.sum(R * R, axis=1))


def mlp_fbias_hand(W1, b1, W2, b2, X, Y):
    dW1, db1, dW2, db2 = mlp_hand(W1, b1, W2, b2, X, Y)
    return dW1, db1.sum(), dW2, db2.sum()


def make_mlp_fbias(n, d, h, k, rng):
    (W1, _, W2, _, X, Y), wrt = make_mlp(n, d, h, k, rng)
    return (W1, 0.1, W2, -0.2, X, Y), wrt


def _softmax_rows(S):
    e = np.exp(S - np.max(S, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def attention_loss(Q, K, V, T):
    """One attention head, softmax(Q K^T / sqrt(d)) V, through a softmax
    helper; half squared error against T."""
    A = _softmax_rows(Q @ K.T / np.sqrt(Q.shape[1]))
    return 0.5 * np.sum((A @ V - T) ** 2)


def attention_hand(Q, K, V, T):
    scale = 1.0 / np.sqrt(Q.shape[1])
    A = Q @ K.T
    A *= scale
    A -= A.max(axis=1, keepdims=True)
    np.exp(A, out=A)
    A /= A.sum(axis=1, keepdims=True)
    dO = A @ V
    dO -= T
    dV = A.T @ dO
    dS = dO @ V.T
    dS -= np.sum(dS * A, axis=1, keepdims=True)
    dS *= A
    dS *= scale
    return dS @ K, dS.T @ Q, dV


def make_attention(n, d, rng):
    Q, K, V, T = (rng.standard_normal((n, d)) for _ in range(4))
    return (Q, K, V, T), (0, 1, 2)


def poisson_glm_loss(w, b, X, y):
    """Poisson regression (log link): mean of exp(eta) - y eta, b a Python float."""
    eta = X @ w + b
    return np.mean(np.exp(eta) - y * eta)


def poisson_glm_hand(w, b, X, y):
    r = X @ w
    r += b
    np.exp(r, out=r)
    r -= y
    r *= 1.0 / len(y)
    return X.T @ r, r.sum()


def make_poisson(n, d, rng):
    X = rng.standard_normal((n, d)) / np.sqrt(d)
    y = rng.poisson(np.exp(X @ (0.3 * rng.standard_normal(d)))).astype(float)
    w = 0.1 * rng.standard_normal(d)
    return (w, 0.1, X, y), (0, 1)


def elastic_loss(w, X, y, lam=0.1, alpha=0.01):
    """Least squares with an L2 and an L1 (np.abs) penalty, weights by keyword."""
    r = X @ w - y
    return np.mean(r ** 2) + lam * np.sum(w ** 2) + alpha * np.sum(np.abs(w))


def elastic_hand(w, X, y, lam=0.1, alpha=0.01):
    r = X @ w
    r -= y
    g = X.T @ r
    g *= 2.0 / len(y)
    g += (2.0 * lam) * w
    g += alpha * np.sign(w)
    return g


def make_elastic(n, d, rng):
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n)
    w = 0.1 * rng.standard_normal(d)
    return (w, X, y), {"lam": 0.1, "alpha": 0.01}, (0,)


def huber_loss(w, X, y, delta=1.0):
    """Huber regression loss by np.where, delta a keyword float."""
    r = X @ w - y
    a = np.abs(r)
    return np.mean(np.where(a <= delta, 0.5 * r ** 2, delta * (a - 0.5 * delta)))


def huber_hand(w, X, y, delta=1.0):
    r = X @ w
    r -= y
    np.clip(r, -delta, delta, out=r)
    g = X.T @ r
    g *= 1.0 / len(y)
    return g


def make_huber(n, d, rng):
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + rng.standard_cauchy(n)
    w = 0.1 * rng.standard_normal(d)
    return (w, X, y), {"delta": 1.0}, (0,)


def conv1d_loss(k, x, y):
    """A 1-D convolution by np.convolve ('valid'), half squared error."""
    out = np.convolve(x, k, mode="valid")
    return 0.5 * np.sum((out - y) ** 2)


def conv1d_hand(k, x, y):
    r = np.convolve(x, k, mode="valid")
    r -= y
    return np.correlate(x, r, mode="valid")[::-1], np.correlate(r, k, mode="full")


def make_conv1d(n, m, rng):
    x = rng.standard_normal(n)
    k = rng.standard_normal(m) / np.sqrt(m)
    y = rng.standard_normal(n - m + 1)
    return (k, x, y), (0, 1)


def adam_loss(w, X, y, lr=0.01, b1=0.9, b2=0.999, eps=1e-8):
    """Three unrolled Adam steps on a least-squares loss, then the loss at
    the result (meta-learning style; hyper-parameters by keyword)."""
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t in range(1, 4):
        g = X.T @ (X @ w - y) / X.shape[0]
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mh = m / (1 - b1 ** t)
        vh = v / (1 - b2 ** t)
        w = w - lr * mh / (np.sqrt(vh) + eps)
    return 0.5 * np.mean((X @ w - y) ** 2)


def adam_hand(w, X, y, lr=0.01, b1=0.9, b2=0.999, eps=1e-8):
    n = X.shape[0]
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    saved = []
    for t in range(1, 4):
        g = X.T @ (X @ w - y)
        g *= 1.0 / n
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * (g * g)
        c1, c2 = 1 - b1 ** t, 1 - b2 ** t
        s = np.sqrt(v / c2)
        den = s + eps
        mh = m / c1
        saved.append((g, s, den, mh, c1, c2))
        w = w - lr * mh / den
    wb = X.T @ (X @ w - y)
    wb *= 1.0 / n
    mb = np.zeros_like(w)
    vb = np.zeros_like(w)
    for g, s, den, mh, c1, c2 in reversed(saved):
        ub = (-lr) * wb
        ub /= den                        # d loss / d mh
        vhb = ub * mh
        vhb *= -0.5
        vhb /= den * s                   # d loss / d vh
        mb += ub * (1.0 / c1)
        vb += vhb * (1.0 / c2)
        gb = (1 - b1) * mb
        gb += (2 * (1 - b2)) * (g * vb)
        wb += X.T @ (X @ gb) * (1.0 / n)
        mb *= b1
        vb *= b2
    return wb


def make_adam(n, d, rng):
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n)
    w = 0.1 * rng.standard_normal(d)
    return (w, X, y), {"lr": 0.01, "b1": 0.9, "b2": 0.999, "eps": 1e-8}, (0,)


def make_chain32(n, rng):
    return (rng.uniform(-2.0, 2.0, n).astype(np.float32),), (0,)


MORE_PROBLEMS = [
    ("mlp relu+xent+l2 (kw)", mlp_l2_loss, mlp_l2_hand, make_mlp_l2,
     [("n=64,d=10,h=32,k=3", (64, 10, 32, 3)), ("n=10000,d=100,h=256,k=10", (10000, 100, 256, 10))]),
    ("gru", gru_loss, gru_hand, make_gru,
     [("T=20,h=32,batch=16", (20, 32, 8, 16)), ("T=50,h=128,batch=32", (50, 128, 32, 32))]),
    ("layernorm+attention", attn_loss, attn_hand, make_attn,
     [("n=32,d=16,dk=8", (32, 16, 8)), ("n=512,d=64,dk=32", (512, 64, 32))]),
    ("gmm nll (logsumexp)", gmm_loss, gmm_hand, make_gmm,
     [("n=256,d=2,k=4", (256, 2, 4)), ("n=10000,d=10,k=16", (10000, 10, 16))]),
    # (perf-rows15) user workloads the rows above do not cover
    ("log-softmax nll (z - lse)", logsoftmax_nll_loss, logsoftmax_nll_hand, make_logsoftmax_nll,
     [("n=64,d=10,k=3", (64, 10, 3)), ("n=10000,d=100,k=10", (10000, 100, 10))]),
    ("layer norm (eps kw)", layernorm_loss, layernorm_hand, make_layernorm,
     [("n=32,d=16", (32, 16)), ("n=4096,d=256", (4096, 256))]),
    ("mlp (tanh), float biases", mlp_fbias_loss, mlp_fbias_hand, make_mlp_fbias,
     [("n=64,d=10,h=32,k=3", (64, 10, 32, 3)), ("n=10000,d=100,h=256,k=10", (10000, 100, 256, 10))]),
    ("attention", attention_loss, attention_hand, make_attention,
     [("n=16,d=8", (16, 8)), ("n=1024,d=64", (1024, 64))]),
    ("poisson glm (b float)", poisson_glm_loss, poisson_glm_hand, make_poisson,
     [("n=64,d=10", (64, 10)), ("n=10000,d=100", (10000, 100))]),
    ("ridge+lasso (np.abs, kw)", elastic_loss, elastic_hand, make_elastic,
     [("n=64,d=10", (64, 10)), ("n=10000,d=100", (10000, 100))]),
    ("huber (np.where, kw)", huber_loss, huber_hand, make_huber,
     [("n=64,d=10", (64, 10)), ("n=10000,d=100", (10000, 100))]),
    ("conv1d (np.convolve)", conv1d_loss, conv1d_hand, make_conv1d,
     [("n=256,k=8", (256, 8)), ("n=100000,k=32", (100000, 32))]),
    ("adam, 3 unrolled steps (kw)", adam_loss, adam_hand, make_adam,
     [("n=64,d=10", (64, 10)), ("n=10000,d=100", (10000, 100))]),
    ("elementwise chain float32", chain_loss, chain_hand, make_chain32,
     [("n=1000", (1000,)), ("n=1000000", (1000000,))]),
]


def _problems(args):
    return PROBLEMS + (MORE_PROBLEMS if getattr(args, "more", False) else [])


# =============================================================== optional frameworks

def _np_like_losses(xp, log_softmax=None):
    """Every problem's loss written against a NumPy-like module ``xp``
    (autograd.numpy, jax.numpy)."""
    def lg(w, X, y):
        return xp.mean(xp.logaddexp(0.0, -y * (X @ w)))

    def sm(W, X, Y):
        Z = X @ W
        if log_softmax is not None:
            return -xp.mean(xp.sum(Y * log_softmax(Z, axis=1), axis=1))
        Z = Z - xp.max(Z, axis=1, keepdims=True)
        logp = Z - xp.log(xp.sum(xp.exp(Z), axis=1, keepdims=True))
        return -xp.mean(xp.sum(Y * logp, axis=1))

    def mlp(W1, b1, W2, b2, X, Y):
        H = xp.tanh(X @ W1 + b1)
        R = H @ W2 + b2 - Y
        return 0.5 * xp.mean(xp.sum(R * R, axis=1))

    def lg2(w, X, y, lam):
        return xp.mean(xp.logaddexp(0.0, -y * (X @ w))) + lam * xp.sum(w * w)

    def rnn(Wh, Wx, b, xs, h0, target):
        h = h0
        for t in range(xs.shape[0]):
            h = xp.tanh(Wh @ h + Wx @ xs[t] + b)
        return 0.5 * xp.sum((h - target) ** 2)

    def rnn_sum(Wh, Wx, b, xs, h0, ys):
        h = h0
        loss = 0.0
        for t in range(xs.shape[0]):
            h = xp.tanh(Wh @ h + Wx @ xs[t] + b)
            loss = loss + 0.5 * xp.sum((h - ys[t]) ** 2)
        return loss

    def rnn_list(Wh, Wx, b, xs, h0, ys):
        h = h0
        hs = []
        for t in range(xs.shape[0]):
            h = xp.tanh(Wh @ h + Wx @ xs[t] + b)
            hs.append(h)
        return 0.5 * xp.sum((xp.stack(hs) - ys) ** 2)

    def chain(x):
        return xp.sum(xp.exp(-x ** 2) * xp.sin(x) + 0.5 * x ** 2)
    return _by_problem(lg, sm, mlp, lg2, rnn, rnn_sum, chain, rnn_list)


def _by_problem(lg, sm, mlp, lg2, rnn, rnn_sum, chain, rnn_list):
    out = {"logistic": lg, "softmax": sm, "mlp (tanh)": mlp, "rnn": rnn,
           "rnn (summed loss)": rnn_sum, "elementwise chain": chain,
           "rnn, list of states": rnn_list}
    for name, *_ in PROBLEMS:
        if name.startswith("logistic+l2"):
            out[name] = lg2
    out["mlp, dict params"] = lambda p, X, Y: mlp(p["W1"], p["b1"], p["W2"], p["b2"], X, Y)
    return out


def _extras(use):
    """Builders for the optional columns: name -> builder(problem_name, wrt),
    which returns run(*args, **kwargs) -> a callable timing one gradient."""
    out = {}
    if not use:
        return out
    try:
        import autograd
        import autograd.numpy as anp
        ag_losses = _np_like_losses(anp)

        def build_autograd(name, wrt):
            g = autograd.grad(ag_losses[name], wrt if len(wrt) > 1 else wrt[0])

            def run(*args, **kwargs):
                return lambda: g(*args, **kwargs)
            return run
        out["autograd"] = (build_autograd, _version("autograd"))
    except ImportError:
        pass
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        jx_losses = _np_like_losses(jnp, log_softmax=jax.nn.log_softmax)

        def build_jax(name, wrt):
            g = jax.jit(jax.grad(jx_losses[name], argnums=wrt if len(wrt) > 1 else wrt[0]))

            def run(*args, **kwargs):
                # arrays transferred once, outside the timing
                dev = [jnp.asarray(a) if isinstance(a, np.ndarray) else a for a in args]
                kw = {k: jnp.asarray(a) if isinstance(a, np.ndarray) else a
                      for k, a in kwargs.items()}

                def call():
                    return jax.block_until_ready(g(*dev, **kw))
                return call
            return run
        out["jax"] = (build_jax, jax.__version__)
    except ImportError:
        pass
    try:
        import torch
        torch.set_num_threads(1)

        def torch_losses():
            def lg(w, X, y):
                return torch.mean(torch.logaddexp(torch.zeros((), dtype=X.dtype), -y * (X @ w)))

            def sm(W, X, Y):
                return -torch.mean(torch.sum(Y * torch.log_softmax(X @ W, dim=1), dim=1))

            def mlp(W1, b1, W2, b2, X, Y):
                H = torch.tanh(X @ W1 + b1)
                R = H @ W2 + b2 - Y
                return 0.5 * torch.mean(torch.sum(R * R, dim=1))

            def lg2(w, X, y, lam):
                return lg(w, X, y) + lam * torch.sum(w * w)

            def rnn(Wh, Wx, b, xs, h0, target):
                h = h0
                for t in range(xs.shape[0]):
                    h = torch.tanh(Wh @ h + Wx @ xs[t] + b)
                return 0.5 * torch.sum((h - target) ** 2)

            def rnn_sum(Wh, Wx, b, xs, h0, ys):
                h = h0
                loss = 0.0
                for t in range(xs.shape[0]):
                    h = torch.tanh(Wh @ h + Wx @ xs[t] + b)
                    loss = loss + 0.5 * torch.sum((h - ys[t]) ** 2)
                return loss

            def rnn_list(Wh, Wx, b, xs, h0, ys):
                h = h0
                hs = []
                for t in range(xs.shape[0]):
                    h = torch.tanh(Wh @ h + Wx @ xs[t] + b)
                    hs.append(h)
                return 0.5 * torch.sum((torch.stack(hs) - ys) ** 2)

            def chain(x):
                return torch.sum(torch.exp(-x ** 2) * torch.sin(x) + 0.5 * x ** 2)
            return _by_problem(lg, sm, mlp, lg2, rnn, rnn_sum, chain, rnn_list)
        th_losses = torch_losses()

        def build_torch(name, wrt):
            f = th_losses[name]

            def run(*args, **kwargs):
                ts = [torch.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args]
                kw = {k: torch.from_numpy(a) if isinstance(a, np.ndarray) else a
                      for k, a in kwargs.items()}
                for i in wrt:
                    if isinstance(ts[i], dict):    # a dict of parameters: a dict gradient
                        ts[i] = {k: torch.from_numpy(v).requires_grad_(True)
                                 for k, v in ts[i].items()}
                    else:
                        ts[i].requires_grad_(True)
                keys = [(i, k) for i in wrt for k in (ts[i] if isinstance(ts[i], dict) else [None])]
                params = [ts[i] if k is None else ts[i][k] for i, k in keys]

                def call():
                    gs = torch.autograd.grad(f(*ts, **kw), params)
                    if len(wrt) == 1 and isinstance(ts[wrt[0]], dict):
                        return dict(zip([k for _, k in keys], gs))
                    return gs
                return call
            return run
        out["torch"] = (build_torch, torch.__version__)
    except ImportError:
        pass
    return out


def _version(dist):
    try:
        from importlib.metadata import version
        return version(dist)
    except Exception:
        return "?"


def _as_numpy_tuple(g):
    if isinstance(g, dict):
        # by key: jax returns a dict gradient with its keys sorted (pytree order)
        g = tuple(g[k] for k in sorted(g))
    if not isinstance(g, (tuple, list)):
        g = (g,)
    res = []
    for a in g:
        if hasattr(a, "detach"):
            a = a.detach().numpy()
        res.append(np.asarray(a))
    return tuple(res)


# =============================================================== timing

MIN_SAMPLE = 1e-3      # seconds: a sample is never shorter (timer resolution, scheduling)


def _calibrate(fn, target):
    """Calls per timing sample so that one sample takes about ``target``
    seconds (and at least :data:`MIN_SAMPLE`).  The shortest of three timings
    of each trial count: a slow stretch of other processes does not make a
    fast call look slow and give it too few calls per sample."""
    number = 1
    while True:
        dt = min(_sample(fn, number) for _ in range(3))
        if dt >= max(target, MIN_SAMPLE) / 5 or number >= 1 << 20:
            return max(1, round(number * max(target, MIN_SAMPLE) / max(dt, 1e-9)))
        number *= 4


def _sample(fn, number):
    """Seconds for ``number`` calls of ``fn``, the garbage collector off (as
    ``timeit`` runs), for every method alike."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        t0 = TIMER()
        for _ in range(number):
            fn()
        return TIMER() - t0
    finally:
        if enabled:
            gc.enable()


TIMER = time.perf_counter


def bench_interleaved(fns, repeat, target, samples=None):
    """Median seconds per call of each fn; one sample of each per round, in
    rotating order.  ``samples``: a dict filled with each fn's list of
    per-round seconds per call (round ``r`` at index ``r`` for every fn, so
    that ratios can be taken within a round, :func:`round_ratios`)."""
    numbers = {name: _calibrate(fn, target) for name, fn in fns.items()}
    samples = {} if samples is None else samples
    samples.update({name: [] for name in fns})
    names = list(fns)
    for r in range(repeat):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            samples[name].append(_sample(fns[name], numbers[name]) / numbers[name])
    return {name: statistics.median(s) for name, s in samples.items()}


def round_ratios(samples, num, den="hand"):
    """(median, min, max) of ``num``'s sample over ``den``'s in each round."""
    rs = [a / b for a, b in zip(samples[num], samples[den])]
    return statistics.median(rs), min(rs), max(rs)


def fmt_time(t):
    if t is None:
        return "-"
    if t < 1e-3:
        return f"{t * 1e6:.1f} us"
    if t < 1.0:
        return f"{t * 1e3:.2f} ms"
    return f"{t:.2f} s"


def _agrees(got, ref, rtol, atol):
    if any(np.asarray(b).dtype == np.float32 for b in ref):
        rtol, atol = max(rtol, 2e-5), max(atol, 1e-6)       # a float32 row (accumulation order)
    return len(got) == len(ref) and all(
        a.shape == b.shape and a.dtype == b.dtype and np.allclose(a, b, rtol=rtol, atol=atol)
        for a, b in zip(got, ref))


def self_test(problems, directions=3, seed=0):
    """Every hand-written gradient against central differences of its loss
    (float64, at the row's first size, along ``directions`` random directions
    for each differentiated argument).  Returns a list of failures (empty:
    all agree)."""
    fails = []
    for pname, loss, hand, make, sizes in problems:
        made = make(*sizes[0][1], np.random.default_rng(seed))
        fargs, fkw, wrt = made if len(made) == 3 else (made[0], {}, made[1])
        # float32 rows: the differences in float64 (the same function)
        fargs = [np.asarray(a, np.float64) if isinstance(a, np.ndarray) and a.dtype == np.float32
                 else a for a in fargs]
        grads = _as_numpy_tuple(hand(*fargs, **fkw))
        # the differentiated leaves, in the order of the gradient's leaves
        leaves = [(ai, k) for ai in wrt for k in (sorted(fargs[ai]) if isinstance(fargs[ai], dict)
                                                   else (None,))]
        rng = np.random.default_rng(seed + 1)
        for gi, (ai, key) in enumerate(leaves):
            a = fargs[ai] if key is None else fargs[ai][key]
            for _ in range(directions):
                u = rng.standard_normal(np.shape(a))
                h = 1e-6 * max(1.0, float(np.max(np.abs(a))))

                def at(t):
                    moved = list(fargs)
                    new = (a + t * u) if isinstance(a, np.ndarray) else float(a + t * u)
                    moved[ai] = new if key is None else {**fargs[ai], key: new}
                    return float(loss(*moved, **fkw))
                fd = (at(h) - at(-h)) / (2 * h)
                an = float(np.sum(grads[gi] * u))
                if not abs(fd - an) <= 1e-5 * max(1.0, abs(fd)):
                    fails.append(f"{pname} argument {ai} {key or ''}: hand {an!r}, "
                                 f"differences {fd!r}")
    return fails


def run_row(pi, si, args):
    """Phase 1 (hand vs s2sgrad) and phase 2 (optional frameworks) for one row."""
    pname, loss, hand, make, sizes = _problems(args)[pi]
    size_name, size = sizes[si]
    repeat = args.repeat or (7 if args.quick else 31)
    target = (0.005 if args.quick else args.sample_ms / 1000.0)
    made = make(*size, np.random.default_rng(0))
    fargs, fkw, wrt = made if len(made) == 3 else (made[0], {}, made[1])
    ref = _as_numpy_tuple(hand(*fargs, **fkw))
    row = {"problem": pname, "size": size_name, "note": "", "source": None}

    # phase 1: hand vs s2sgrad, only NumPy and s2sgrad loaded
    fns = {"hand": lambda: hand(*fargs, **fkw)}
    g = s2sgrad.grad(loss, wrt=wrt if len(wrt) > 1 else wrt[0])
    try:
        got = _as_numpy_tuple(g(*fargs, **fkw))        # compiles on the first call
    except Exception as exc:  # unsupported function, or a compiler bug: report, go on
        row["note"] = f"s2sgrad: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
        got = None
    if got is not None:
        if not _agrees(got, ref, 1e-9, 1e-12):
            raise AssertionError(f"{pname} {size_name}: s2sgrad gradient != hand gradient")
        g(*fargs, **fkw)     # a repeated signature: runs the shape-specialised code
        row["source"] = g.source
        fns["s2sgrad"] = lambda: g(*fargs, **fkw)
        # the generated function alone, without the grad() call machinery
        # (argument checks, cache lookup, result fixing); an internal attribute
        bare = getattr(getattr(g, "_last_run", None) or getattr(g, "_last", None), "fn", None)
        if args.bare and bare is not None:
            leaves = tuple(fargs) + tuple(fkw.values())   # (keywords in parameter order)
            # a dict of parameters: its values are the generated function's leaves
            leaves = tuple(v for a in leaves for v in (a.values() if isinstance(a, dict) else (a,)))
            fns["generated fn"] = lambda: bare(*leaves)
    samples: dict = {}
    times = bench_interleaved(fns, repeat, target, samples)
    row.update(times)
    if "s2sgrad" in times:
        row["ratio"], row["ratio_lo"], row["ratio_hi"] = round_ratios(samples, "s2sgrad")
    if "generated fn" in times:
        row["bare_ratio"] = round_ratios(samples, "generated fn")[0]

    # phase 2: optional frameworks, against the hand-written gradient again
    extras = _extras(not args.no_extras)
    row["versions"] = {k: v[1] for k, v in extras.items()}
    fns = {}
    for ename, (build, _) in extras.items():
        try:
            built = build(pname, wrt)
            call = built(*fargs, **fkw)
            got_e = _as_numpy_tuple(call())
        except Exception as exc:  # an optional column must not stop the benchmark
            row["note"] += f" {ename}: {type(exc).__name__}: {str(exc)[:80]}"
            continue
        if not _agrees(got_e, ref, 1e-8, 1e-11):
            raise AssertionError(f"{pname} {size_name}: {ename} gradient != hand gradient")
        fns[ename] = call
    if fns:
        t2 = bench_interleaved({"hand": lambda: hand(*fargs, **fkw), **fns}, repeat, target)
        for ename in fns:
            row[ename] = t2[ename]
            row[ename + " ratio"] = t2[ename] / t2["hand"]
    return row


def _merge_runs(runs):
    """One table row from the same row measured in several runs: the median
    over runs of each number; the range of the runs' median ratios (one run:
    the range over its rounds)."""
    if len(runs) == 1:
        return runs[0]
    row = dict(runs[0])
    for k, v in runs[0].items():
        if isinstance(v, float) and k not in ("ratio_lo", "ratio_hi"):
            vals = [r[k] for r in runs if isinstance(r.get(k), float)]
            row[k] = statistics.median(vals)
    ratios = [r["ratio"] for r in runs if "ratio" in r]
    if ratios:
        row["ratio_lo"], row["ratio_hi"] = min(ratios), max(ratios)
        row["run_ratios"] = ratios
    row["note"] = " ".join(sorted({r["note"].strip() for r in runs if r["note"].strip()}))
    return row


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer, shorter repeats")
    ap.add_argument("--repeat", type=int, default=None, help="timing rounds (default 31, quick 7)")
    ap.add_argument("--sample-ms", type=float, default=20.0,
                    help="milliseconds per timing sample (calls per sample calibrated; "
                         "at least 1 ms)")
    ap.add_argument("--runs", type=int, default=1,
                    help="run every row this many times (fresh processes); the table gives "
                         "the median over runs and the range of the runs' medians")
    ap.add_argument("--no-extras", action="store_true", help="skip autograd / jax / torch")
    ap.add_argument("--show-source", action="store_true", help="print each generated gradient")
    ap.add_argument("--bare", action="store_true",
                    help="also time the generated function alone (no grad() wrapper)")
    ap.add_argument("--only", default="", help="comma-separated problem name prefixes to run")
    ap.add_argument("--more", action="store_true",
                    help="also run the extra workloads (MLP with a keyword L2 weight, GRU, "
                         "layer norm + attention, Gaussian mixture)")
    ap.add_argument("--keep-heap", action="store_true",
                    help="diagnostic (glibc only): run the rows with malloc told to keep freed "
                         "memory (MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_), so temporaries "
                         "reuse warm pages instead of page-faulting fresh ones")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    ap.add_argument("--cpu-time", action="store_true",
                    help="time with the process's CPU time (time.process_time) instead of the "
                         "wall clock: on a machine shared with other processes it does not count "
                         "the time this one waits for a processor (everything runs on one thread)")
    ap.add_argument("--self-test", action="store_true",
                    help="check every hand-written gradient against central differences "
                         "(float64, each row's first size) and exit")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)   # "problem,size" indices
    args = ap.parse_args(argv)
    if args.self_test:
        fails = self_test(PROBLEMS + MORE_PROBLEMS)
        print("\n".join(fails) if fails else
              f"self-test: {len(PROBLEMS + MORE_PROBLEMS)} hand gradients agree with "
              "central differences")
        return 1 if fails else 0

    global TIMER
    if args.cpu_time:
        TIMER = time.process_time
    if args.child is not None:
        pi, si = map(int, args.child.split(","))
        print(json.dumps(run_row(pi, si, args)))
        return 0

    only = [o.strip() for o in args.only.split(",") if o.strip()]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    child_flags = [f for f, on in (("--quick", args.quick), ("--no-extras", args.no_extras),
                                   ("--bare", args.bare), ("--cpu-time", args.cpu_time),
                                   ("--more", args.more)) if on]
    if args.repeat:
        child_flags += ["--repeat", str(args.repeat)]
    child_flags += ["--sample-ms", str(args.sample_ms)]
    rows = []
    for pi, (pname, _, _, _, sizes) in enumerate(_problems(args)):
        if only and not any(pname.startswith(o) for o in only):
            continue
        for si, (size_name, _) in enumerate(sizes):
            env = dict(os.environ)
            if args.keep_heap:
                env.update(MALLOC_MMAP_THRESHOLD_=str(1 << 30), MALLOC_TRIM_THRESHOLD_=str(1 << 31),
                           MALLOC_TOP_PAD_=str(1 << 28))
            runs = []
            for _ in range(max(1, args.runs)):
                proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child",
                                       f"{pi},{si}", *child_flags],
                                      capture_output=True, text=True, env=env)
                if proc.returncode != 0:
                    sys.stderr.write(proc.stderr)
                    raise SystemExit(f"benchmark row {pname} {size_name} failed")
                runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            row = _merge_runs(runs)
            rows.append(row)
            print(f"  measured {pname:10s} {size_name:26s} " + "  ".join(
                f"{k} {fmt_time(row[k])}" for k in ("hand", "s2sgrad", "generated fn",
                                                     "autograd", "jax", "torch") if k in row),
                file=sys.stderr)
            if args.show_source and si == 0 and row["source"]:
                print(f"--- generated gradient for {pname}:\n{row['source']}")

    versions = rows[0]["versions"] if rows else {}
    extras = [k for k in ("autograd", "jax", "torch") if any(k in r for r in rows)]
    print(f"python {platform.python_version()}, numpy {np.__version__}, s2sgrad "
          f"{s2sgrad.__version__}" + "".join(f", {k} {versions[k]}" for k in extras))
    repeat = args.repeat or (7 if args.quick else 31)
    runs = max(1, args.runs)
    print(f"float64, 1 thread, fresh process per row and run, {repeat} interleaved rounds of "
          f"{args.sample_ms:g} ms samples, median {'CPU' if args.cpu_time else 'wall'} time per "
          f"gradient call; s2sgrad/hand: median of per-round ratios"
          + (f" (median over {runs} runs)" if runs > 1 else "")
          + f"; {os.cpu_count()} CPUs, load average {load:.2f} at start, "
          f"{os.getloadavg()[0]:.2f} at end"
          + ("; malloc keeps freed memory (--keep-heap)" if args.keep_heap else "") + "\n")

    cols = (["problem", "size", "hand", "s2sgrad", "ratio", "range"]
            + (["generated fn"] if args.bare else []) + extras)
    headers = {"ratio": "s2sgrad/hand",
               "range": "range over runs" if runs > 1 else "range over rounds",
               "generated fn": "generated fn (/hand)",
               **{e: f"{e} (/hand)" for e in extras}}
    table = []
    for r in rows:
        line = []
        for c in cols:
            v = r.get(c)
            if c in ("problem", "size"):
                line.append(v)
            elif c == "ratio":
                line.append(f"{v:.2f}" if v is not None else "-")
            elif c == "range":
                line.append(f"{r['ratio_lo']:.2f}-{r['ratio_hi']:.2f}" if "ratio_lo" in r else "-")
            elif c == "generated fn" and v is not None:
                line.append(f"{fmt_time(v)} ({r.get('bare_ratio', v / r['hand']):.2f})")
            elif c in extras and v is not None:
                line.append(f"{fmt_time(v)} ({r[c + ' ratio']:.2f})")
            else:
                line.append(fmt_time(v))
        table.append(line)
    heads = [headers.get(c, c) for c in cols]
    widths = [max(len(heads[i]), *(len(t[i]) for t in table)) for i in range(len(cols))]
    if args.markdown:
        print("| " + " | ".join(h.ljust(w) for h, w in zip(heads, widths)) + " |")
        print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        for t in table:
            print("| " + " | ".join(x.ljust(w) for x, w in zip(t, widths)) + " |")
    else:
        print("  ".join(h.ljust(w) for h, w in zip(heads, widths)))
        print("  ".join("-" * w for w in widths))
        for t in table:
            print("  ".join(x.ljust(w) for x, w in zip(t, widths)))
    notes = [f"{r['problem']} {r['size']}: {r['note'].strip()}" for r in rows if r["note"]]
    if notes:
        print("\nnotes:\n  " + "\n  ".join(notes))
    ratios = [r["ratio"] for r in rows if r.get("ratio")]
    if ratios:
        gmean = float(np.exp(np.mean(np.log(ratios))))
        print(f"\ngeometric mean of s2sgrad/hand: {gmean:.3f} over {len(ratios)} rows "
              f"(target <= 1.02; every row <= 1.05)")
        per_run = [r["run_ratios"] for r in rows if r.get("run_ratios")]
        if per_run and len(per_run) == len(ratios) and len({len(p) for p in per_run}) == 1:
            gms = [float(np.exp(np.mean(np.log([p[k] for p in per_run]))))
                   for k in range(len(per_run[0]))]
            worst = [max(p[k] for p in per_run) for k in range(len(per_run[0]))]
            print("each run: geometric mean " + ", ".join(f"{g:.3f}" for g in gms)
                  + "; worst row " + ", ".join(f"{w:.2f}" for w in worst))
    over = [f"{r['problem']} {r['size']} ({r.get('ratio', float('nan')):.2f})" for r in rows
            if r.get("ratio", 99) > 1.05]
    print("all s2sgrad/hand ratios <= 1.05" if not over else
          f"above 1.05 (or not measured): {', '.join(over)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
