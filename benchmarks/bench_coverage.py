"""Generated gradients of losses built on the assembly/statistics functions
vs hand-written NumPy gradients.

Each problem is a plain NumPy loss using one of the functions added for
issue 9 (np.diff, np.median, np.convolve, np.cumprod, np.repeat, np.pad,
np.average with weights) and a gradient written by hand the way a careful
person would.  Both are checked against each other first, then timed side
by side in one process (interleaved batches, rotating order), float64, one
thread.  The table gives median seconds per gradient call and the ratio
s2sgrad / hand with its range (min-max over the rounds).

Run:  python benchmarks/bench_coverage.py           (about a minute)
      python benchmarks/bench_coverage.py --quick
"""
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import s2sgrad  # noqa: E402

RNG = np.random.default_rng(0)


# =============================================================== losses and hand gradients

def smooth_loss(x):
    """Squared first differences along both axes (a smoothness penalty)."""
    return np.sum(np.diff(x, axis=0) ** 2) + np.sum(np.diff(x, axis=1) ** 2)


def smooth_hand(x):
    g = np.zeros_like(x)
    d0 = 2.0 * np.diff(x, axis=0)
    g[1:] += d0
    g[:-1] -= d0
    d1 = 2.0 * np.diff(x, axis=1)
    g[:, 1:] += d1
    g[:, :-1] -= d1
    return g


def median_loss(X):
    """Squared row medians (odd row length)."""
    return np.sum(np.median(X, axis=1) ** 2)


def median_hand(X):
    n = X.shape[1]
    idx = np.argsort(X, axis=1, kind="stable")[:, n // 2]
    rows = np.arange(X.shape[0])
    g = np.zeros_like(X)
    g[rows, idx] = 2.0 * X[rows, idx]
    return g


def conv_loss(x, k, y):
    """Least squares through a 'same' convolution."""
    return np.sum((np.convolve(x, k, "same") - y) ** 2)


def conv_hand(x, k, y):
    r = 2.0 * (np.convolve(x, k, "same") - y)
    m = len(k)
    full = np.zeros(len(x) + m - 1)
    off = (m - 1) // 2
    full[off:off + len(r)] = r
    return np.correlate(full, k, "valid")


def cumprod_loss(p):
    """Sum of survival curves (cumulative products along rows)."""
    return np.sum(np.cumprod(p, axis=1))


def cumprod_hand(p):
    out = np.cumprod(p, axis=1)
    return np.flip(np.cumsum(np.flip(out, 1), axis=1), 1) / p


def upsample_loss(x, t):
    """Nearest-neighbour upsampling (repeat) against a target, with an edge-padded border."""
    u = np.pad(np.repeat(np.repeat(x, 2, axis=0), 2, axis=1), 1, mode="edge")
    return np.sum((u - t) ** 2)


def upsample_hand(x, t):
    u = np.pad(np.repeat(np.repeat(x, 2, axis=0), 2, axis=1), 1, mode="edge")
    r = 2.0 * (u - t)
    r[1, :] += r[0, :]
    r[-2, :] += r[-1, :]
    r[:, 1] += r[:, 0]
    r[:, -2] += r[:, -1]
    r = r[1:-1, 1:-1]
    n, m = x.shape
    return r.reshape(n, 2, m, 2).sum(axis=(1, 3))


def wavg_loss(X, w):
    """Squared weighted column averages, differentiated in the data and the weights."""
    return np.sum(np.average(X, axis=0, weights=w) ** 2)


def wavg_hand(X, w):
    s = np.sum(w)
    avg = (w @ X) / s
    g = 2.0 * avg
    gX = np.outer(w / s, g)
    gw = (X - avg) @ g / s
    return gX, gw


def problems(scale):
    n = 400 * scale
    return [
        ("diff (smoothness)", smooth_loss, smooth_hand, (RNG.standard_normal((n, n)),), 0),
        ("median (rows)", median_loss, median_hand, (RNG.standard_normal((20 * n, 101)),), 0),
        ("convolve same", conv_loss, conv_hand,
         (RNG.standard_normal(250 * n), RNG.standard_normal(31), RNG.standard_normal(250 * n)),
         0),
        ("cumprod (survival)", cumprod_loss, cumprod_hand,
         (RNG.uniform(0.5, 1.0, (10 * n, 100)),), 0),
        ("repeat + pad edge", upsample_loss, upsample_hand,
         (RNG.standard_normal((n, n)), RNG.standard_normal((2 * n + 2, 2 * n + 2))), 0),
        ("average(weights)", wavg_loss, wavg_hand,
         (RNG.standard_normal((10 * n, 200)), RNG.uniform(0.5, 1.0, 10 * n)), (0, 1)),
    ]


def _time(fn, args, reps):
    t0 = time.perf_counter()
    for _ in range(reps):
        fn(*args)
    return (time.perf_counter() - t0) / reps


def run(quick):
    rounds = 5 if quick else 11
    print(f"{'problem':22s} {'hand (s)':>10s} {'s2sgrad (s)':>12s} {'ratio':>6s}  range")
    for name, loss, hand, args, wrt in problems(1):
        g = s2sgrad.grad(loss, wrt=wrt)
        mine, ref = g(*args), hand(*args)
        for a, b in zip(mine if isinstance(mine, tuple) else (mine,),
                        ref if isinstance(ref, tuple) else (ref,)):
            assert np.allclose(a, b, rtol=1e-9, atol=1e-9), name
        reps = max(1, int(0.05 / max(_time(hand, args, 1), 1e-6)))
        th, ts, ratios = [], [], []
        for r in range(rounds):
            order = [(hand, th), (g, ts)] if r % 2 == 0 else [(g, ts), (hand, th)]
            for fn, acc in order:
                acc.append(_time(fn, args, reps))
            ratios.append(ts[-1] / th[-1])
        print(f"{name:22s} {statistics.median(th):10.2e} {statistics.median(ts):12.2e} "
              f"{statistics.median(ratios):6.2f}  {min(ratios):.2f}-{max(ratios):.2f}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    run(ap.parse_args().quick)
