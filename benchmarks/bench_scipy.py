"""Gradients of losses written with SciPy vs hand-written NumPy gradients.

Problems (float64, one thread):

  (a) Gaussian regression: -sum(scipy.stats.norm.logpdf(y, X @ w, s)), in w and s;
  (b) a 1-d Gaussian mixture: -sum(logsumexp(norm.logpdf(x[:, None], mu, exp(log_s))
      + log_softmax(logits), axis=1)), in mu, log_s, logits;
  (c) Poisson regression: -sum(scipy.stats.poisson.logpmf(y, exp(X @ w))), in w.

For each, ``hand`` is the gradient a careful person writes in NumPy (the
closed form, no loss value) and ``s2sgrad`` is ``s2sgrad.grad`` of the loss
as written.  Both are checked to agree first, then timed interleaved (a
batch of each per round, alternating order); the ratio s2sgrad / hand is
reported as the median over rounds and its range over ``--runs`` repeats.

Run:  OPENBLAS_NUM_THREADS=1 python benchmarks/bench_scipy.py [--quick]
"""
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import scipy.special  # noqa: E402
import scipy.stats  # noqa: E402
from scipy.special import log_softmax, logsumexp, softmax  # noqa: E402
from scipy.stats import norm  # noqa: E402

import s2sgrad  # noqa: E402


# ------------------------------------------------------------ (a) Gaussian regression

def gauss_loss(w, s, X, y):
    return -np.sum(scipy.stats.norm.logpdf(y, X @ w, s))


def gauss_hand(w, s, X, y):
    r = (y - X @ w) / s
    return -(X.T @ r) / s, np.sum(1.0 - r * r) / s


# ------------------------------------------------------------ (b) Gaussian mixture

def mixture_loss(mu, log_s, logits, x):
    comp = norm.logpdf(x[:, None], mu, np.exp(log_s)) + log_softmax(logits)
    return -np.sum(logsumexp(comp, axis=1))


def mixture_hand(mu, log_s, logits, x):
    s = np.exp(log_s)
    z = (x[:, None] - mu) / s
    comp = -0.5 * z * z - log_s + log_softmax(logits)
    r = softmax(comp, axis=1)
    return (-np.sum(r * z, axis=0) / s, -np.sum(r * (z * z - 1.0), axis=0),
            -(np.sum(r, axis=0) - len(x) * softmax(logits)))


# ------------------------------------------------------------ (c) Poisson regression

def poisson_loss(w, X, y):
    return -np.sum(scipy.stats.poisson.logpmf(y, np.exp(X @ w)))


def poisson_hand(w, X, y):
    return -(X.T @ (y - np.exp(X @ w)))


def problems(n):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 20))
    w = rng.standard_normal(20) * 0.1
    y = X @ w + rng.standard_normal(n)
    x = np.concatenate([rng.normal(-2, 1, n // 2), rng.normal(2, 0.5, n - n // 2)])
    counts = rng.poisson(np.exp(X @ w)).astype(float)
    return [
        ("gauss regression", s2sgrad.grad(gauss_loss, wrt=(0, 1)), gauss_hand, (w, 1.3, X, y)),
        ("gauss mixture K=5", s2sgrad.grad(mixture_loss, wrt=(0, 1, 2)), mixture_hand,
         (rng.standard_normal(5), rng.standard_normal(5) * 0.1, rng.standard_normal(5), x)),
        ("poisson regression", s2sgrad.grad(poisson_loss), poisson_hand, (w, X, counts)),
    ]


def _batch(f, args, k):
    t = time.perf_counter()
    for _ in range(k):
        f(*args)
    return (time.perf_counter() - t) / k


def measure(gen, hand, args, rounds):
    k = max(1, int(0.02 / max(_batch(hand, args, 3), 1e-7)))
    ratios, th = [], []
    for i in range(rounds):
        if i % 2:
            a, b = _batch(gen, args, k), _batch(hand, args, k)
        else:
            b, a = _batch(hand, args, k), _batch(gen, args, k)
        ratios.append(a / b)
        th.append(b)
    return statistics.median(ratios), statistics.median(th)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--show-source", action="store_true")
    a = ap.parse_args()
    rounds = 7 if a.quick else 21
    print(f"{'problem':<20} {'n':>7} {'hand':>10} {'ratio (median, range over runs)':>34}")
    for n in (200, 20000):
        for name, gen, hand, args in problems(n):
            got, want = gen(*args), hand(*args)
            for g, h in zip(got if isinstance(got, tuple) else (got,),
                            want if isinstance(want, tuple) else (want,)):
                assert np.allclose(g, h, rtol=1e-9, atol=1e-9), name
            res = [measure(gen, hand, args, rounds) for _ in range(a.runs)]
            rs = sorted(r for r, _ in res)
            print(f"{name:<20} {n:>7} {statistics.median(t for _, t in res) * 1e6:>8.1f}us "
                  f"{statistics.median(rs):>10.2f}  ({rs[0]:.2f}-{rs[-1]:.2f})")
            if a.show_source and n == 200:
                print(gen.source)


if __name__ == "__main__":
    main()
