"""Generated gradients of FFT, linear-algebra and einsum losses vs hand-written
NumPy gradients.

Problems:

  * spectrum:  sum(w * |rfft(x)|^2) of a signal (a spectral loss through
               complex values); hand: one irfft.
  * gp:        a Gaussian-process negative log likelihood in the inputs X,
               0.5 y^T K^-1 y + sum(log diag(cholesky(K))), K = X X^T + I;
               hand: K^-1 once, X_bar = (K^-1 - a a^T) X.
  * einsum:    sum(sin(einsum('bij,bjk->bik', A, B))); hand: two einsums.

For each, the hand-written gradient and ``s2sgrad.grad`` run interleaved
(one batch of each per round, alternating which goes first) in one process,
float64, one thread.  Both gradients are checked equal before timing.  The
table shows the median time per call and the ratio s2sgrad / hand with its
range over the rounds.

Run:  OPENBLAS_NUM_THREADS=1 python benchmarks/bench_linalg.py [--quick]
"""
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import s2sgrad  # noqa: E402


# ---------------------------------------------------------------- problems


def spectrum_loss(x, w):
    return np.sum(w * np.abs(np.fft.rfft(x)) ** 2)


def spectrum_setup(n, rng):
    x, w = rng.standard_normal(n), rng.uniform(0.5, 1.5, n // 2 + 1)
    a = np.full(n // 2 + 1, 2.0)
    a[0] = 1.0
    if n % 2 == 0:
        a[-1] = 1.0
    w2 = 2.0 * n * w / a          # folds the doubled interior bins into the weights

    def hand(x, w):
        return np.fft.irfft(w2 * np.fft.rfft(x), n)
    return spectrum_loss, hand, (x, w)


def gp_loss(X, y):
    K = X @ X.T + np.eye(X.shape[0])
    L = np.linalg.cholesky(K)
    return 0.5 * y @ np.linalg.solve(K, y) + np.sum(np.log(np.diag(L)))


def gp_setup(n, rng):
    X, y = rng.standard_normal((n, 5)) / np.sqrt(5), rng.standard_normal(n)

    def hand(X, y):
        K = X @ X.T + np.eye(X.shape[0])
        Ki = np.linalg.inv(K)
        a = Ki @ y
        return (Ki - np.outer(a, a)) @ X
    return gp_loss, hand, (X, y)


def einsum_loss(A, B):
    return np.sum(np.sin(np.einsum("bij,bjk->bik", A, B)))


def einsum_setup(n, rng):
    A, B = rng.standard_normal((n, 16, 16)), rng.standard_normal((n, 16, 16))

    def hand(A, B):
        g = np.cos(np.einsum("bij,bjk->bik", A, B))
        return np.einsum("bik,bjk->bij", g, B), np.einsum("bij,bik->bjk", A, g)
    return einsum_loss, hand, (A, B)


PROBLEMS = [("spectrum", spectrum_setup, [256, 65536], 0),
            ("gp", gp_setup, [50, 400], 0),
            ("einsum", einsum_setup, [8, 512], (0, 1))]


# ---------------------------------------------------------------- timing


def _batch(f, args, reps):
    t = time.perf_counter()
    for _ in range(reps):
        f(*args)
    return (time.perf_counter() - t) / reps


def run(quick):
    rng = np.random.default_rng(0)
    rounds = 5 if quick else 15
    print(f"{'problem':<10}{'size':>7}{'hand':>12}{'s2sgrad':>12}{'ratio':>8}  range")
    for name, setup, sizes, wrt in PROBLEMS:
        for n in sizes:
            loss, hand, args = setup(n, rng)
            g = s2sgrad.grad(loss, wrt=wrt)
            got, want = g(*args), hand(*args)
            for a, b in zip(got if isinstance(got, tuple) else (got,),
                            want if isinstance(want, tuple) else (want,)):
                assert np.allclose(a, b, rtol=1e-8, atol=1e-10), name
            t0 = time.perf_counter()
            hand(*args)
            reps = max(1, int(0.02 / max(time.perf_counter() - t0, 1e-7)))
            th, ts = [], []
            for r in range(rounds):
                pair = [(th, hand), (ts, g)]
                for out, f in (pair if r % 2 == 0 else pair[::-1]):
                    out.append(_batch(f, args, reps))
            ratios = [s / h for s, h in zip(ts, th)]
            print(f"{name:<10}{n:>7}{statistics.median(th) * 1e6:>10.1f}us"
                  f"{statistics.median(ts) * 1e6:>10.1f}us{statistics.median(ratios):>8.2f}"
                  f"  {min(ratios):.2f}-{max(ratios):.2f}")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    run(p.parse_args().quick)
