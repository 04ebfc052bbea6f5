"""Generated gradients on dask arrays vs hand-written dask gradients, on a cluster.

Two problems on data generated on the workers (``da.random``, chunked by rows,
persisted there: the client never holds it):

  * logistic regression: ``mean(log1p(exp(-y * (X @ w)))) + lam * sum(w**2)``;
  * a two-layer tanh MLP with a squared loss: ``0.5 * mean((tanh(X @ W1 + b1) @ W2 - y)**2)``.

Per problem, in one process and on the same ``LocalCluster`` (1 and then 2
worker processes, one thread each), side by side and interleaved:

  * **hand**: value and gradient written by hand with ``dask.array``, the way
    a careful person would, computed with one ``dask.compute(loss, grads...)``;
  * **s2sgrad**: ``s2sgrad.value_and_grad(loss, wrt=...)`` of the plain
    NumPy loss, the parameters NumPy arrays (its one ``dask.compute`` is
    inside the call).

Reported: median and range of seconds per call over the rounds, the ratio
s2sgrad / hand (median of the per-round ratios, and its range), the number
of tasks each call sends to the scheduler (the graph after dask's
optimisation, counted by wrapping ``dask.compute``), the number of
``dask.compute`` calls per call, and the client process's peak RSS.

Run:  python benchmarks/bench_dask.py                     # 20 M rows x 20 (3.2 GB on the workers)
      python benchmarks/bench_dask.py --rows 2000000 --rounds 5
      python benchmarks/bench_dask.py --workers 2 --only logistic
"""
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"          # inherited by the worker processes

import argparse  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import dask  # noqa: E402
import dask.array as da  # noqa: E402
from dask.distributed import Client, LocalCluster, wait  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from s2sgrad import value_and_grad  # noqa: E402


# ---------------------------------------------------------------- problems


def logistic(w, X, y, lam):
    margin = y * (X @ w)
    return np.mean(np.log1p(np.exp(-margin))) + lam * np.sum(w ** 2)


def logistic_hand(w, X, y, lam):
    n = X.shape[0]
    margin = y * (X @ w)
    e = da.exp(-margin)
    loss = da.mean(da.log1p(e)) + lam * np.sum(w ** 2)
    s = (-y / n) * (e / (1.0 + e))             # d loss / d (X @ w)
    dw = X.T @ s + 2 * lam * w
    return loss, dw


def mlp(W1, b1, W2, X, y):
    h = np.tanh(X @ W1 + b1)
    return 0.5 * np.mean((h @ W2 - y) ** 2)


def mlp_hand(W1, b1, W2, X, y):
    n = X.shape[0]
    h = da.tanh(X @ W1 + b1)
    r = h @ W2 - y
    loss = 0.5 * da.mean(r ** 2)
    r = r / n
    dW2 = h.T @ r
    dz = r[:, None] * W2[None, :] * (1.0 - h ** 2)
    dW1 = X.T @ dz
    db1 = dz.sum(axis=0)
    return loss, dW1, db1, dW2


# ---------------------------------------------------------------- measuring


class ComputeCounter:
    """Wraps ``dask.compute``: counts calls and the tasks of their optimised graphs."""

    def __init__(self):
        self.real = dask.compute
        self.calls = 0
        self.tasks = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        self.tasks += count_tasks(args)
        return self.real(*args, **kwargs)

    def reset(self):
        self.calls = self.tasks = 0


def count_tasks(collections):
    """Tasks of the graph dask runs for ``collections`` (after its optimisation)."""
    base = dask.base
    if hasattr(base, "collections_to_expr"):        # dask >= 2025: expressions
        expr = base.collections_to_expr(list(collections), optimize_graph=True).optimize()
        return len(expr.__dask_graph__())
    return len(base.collections_to_dsk(list(collections), optimize_graph=True))


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_data(rows, d, chunk, seed=0):
    rs = da.random.RandomState(seed)
    X = rs.normal(size=(rows, d), chunks=(chunk, d))
    w_true = np.random.default_rng(seed).normal(size=d)
    y = da.sign(X @ w_true)
    X, y = dask.persist(X, y)      # generated and kept on the workers
    wait([X, y])
    return X, y


def problem(name, X, y, d, hidden, rng):
    if name == "logistic":
        args = (rng.normal(size=d) * 0.1, X, y, 0.01)
        vg = value_and_grad(logistic, wrt=0)
        return (lambda: vg(*args)), (lambda: dask.compute(*logistic_hand(*args))), args
    args = (rng.normal(size=(d, hidden)) * 0.3, rng.normal(size=hidden) * 0.1,
            rng.normal(size=hidden) * 0.3, X, y)
    vg = value_and_grad(mlp, wrt=(0, 1, 2))
    return (lambda: vg(*args)), (lambda: dask.compute(*mlp_hand(*args))), args


def flat(res):
    """(value, gradients...) of either method as a list of NumPy arrays."""
    out = []
    for r in res:
        out += list(r) if isinstance(r, tuple) else [r]
    return [np.asarray(v) for v in out]


def bench(name, X, y, d, hidden, rounds, counter):
    rng = np.random.default_rng(1)
    s2s, hand, _ = problem(name, X, y, d, hidden, rng)
    a, b = flat(s2s()), flat(hand())            # compile, warm up, check
    print(f"  ({name}: peak RSS {peak_rss_mb():.0f} MB after the first calls)", flush=True)
    assert len(a) == len(b) and all(np.allclose(u, v, rtol=1e-9, atol=1e-12)
                                    for u, v in zip(a, b)), name
    counts = {}
    for label, fn in (("s2sgrad", s2s), ("hand", hand)):
        counter.reset()
        fn()
        counts[label] = (counter.calls, counter.tasks)
    times = {"s2sgrad": [], "hand": []}
    for k in range(rounds):
        order = (("s2sgrad", s2s), ("hand", hand)) if k % 2 == 0 else \
            (("hand", hand), ("s2sgrad", s2s))
        for label, fn in order:
            t = time.perf_counter()
            fn()
            times[label].append(time.perf_counter() - t)
    ratios = [s / h for s, h in zip(times["s2sgrad"], times["hand"])]
    return times, ratios, counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=20_000_000)
    ap.add_argument("--cols", type=int, default=20)
    ap.add_argument("--chunk", type=int, default=500_000)
    ap.add_argument("--hidden", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    ap.add_argument("--only", nargs="*", default=["logistic", "mlp"])
    opts = ap.parse_args()

    rss0, rss1 = peak_rss_mb(), None
    counter = ComputeCounter()
    dask.compute = counter          # s2sgrad and the hand-written code both call it
    print(f"data: {opts.rows} x {opts.cols} float64 "
          f"({opts.rows * opts.cols * 8 / 1e9:.2f} GB) in chunks of {opts.chunk} rows; "
          f"{opts.rounds} rounds, interleaved")
    print(f"{'workers':>7} {'problem':>9} {'hand s (med, range)':>24} "
          f"{'s2sgrad s (med, range)':>24} {'ratio (med, range)':>22} "
          f"{'computes':>9} {'tasks hand/s2s':>15}")
    for nw in opts.workers:
        cluster = LocalCluster(n_workers=nw, threads_per_worker=1, processes=True,
                               dashboard_address=":0", memory_limit=0, silence_logs=40)
        client = Client(cluster)
        try:
            X, y = make_data(opts.rows, opts.cols, opts.chunk)
            rss1 = rss1 or peak_rss_mb()
            for name in opts.only:
                times, ratios, counts = bench(name, X, y, opts.cols, opts.hidden,
                                              opts.rounds, counter)
                h, s = times["hand"], times["s2sgrad"]
                print(f"{nw:>7} {name:>9} "
                      f"{statistics.median(h):>8.3f} ({min(h):.3f}-{max(h):.3f}) "
                      f"{statistics.median(s):>8.3f} ({min(s):.3f}-{max(s):.3f}) "
                      f"{statistics.median(ratios):>8.3f} ({min(ratios):.2f}-{max(ratios):.2f}) "
                      f"{counts['s2sgrad'][0]:>5}/{counts['hand'][0]:<3} "
                      f"{counts['hand'][1]:>7}/{counts['s2sgrad'][1]:<7}", flush=True)
            del X, y
        finally:
            client.close()
            cluster.close()
    print(f"client peak RSS: {peak_rss_mb():.0f} MB (at start {rss0:.0f} MB, after the first "
          f"cluster and data {rss1:.0f} MB)")


if __name__ == "__main__":
    main()
