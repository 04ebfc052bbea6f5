"""Logistic regression on data that lives on a dask cluster, fitted by L-BFGS.

The loss is the same plain NumPy function one would write for in-memory
data.  The data ``X`` (generated on the workers with ``da.random``, chunked
by rows, never brought to this process) and ``y`` are dask arrays; the
weights ``w`` are a NumPy array.  ``s2sgrad.value_and_grad`` runs the
generated gradient on them -- NumPy's calls dispatch to dask -- and returns
the loss and the gradient with respect to ``w`` as NumPy values, computed in
**one** ``dask.compute`` per call: each L-BFGS step reads the data once.

Run:  python examples/dask_logistic.py                    (50 000 rows: a few seconds)
      python examples/dask_logistic.py --rows 20000000    (3.2 GB on the workers)
"""
import argparse
import time

import numpy as np

import s2sgrad


def loss(w, X, y, lam):
    margin = y * (X @ w)
    return np.mean(np.log1p(np.exp(-margin))) + lam * np.sum(w ** 2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--cols", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    opts = ap.parse_args()
    try:
        import dask
        import dask.array as da
        from dask.distributed import Client, LocalCluster
        from scipy.optimize import minimize
    except ImportError as exc:        # pip install s2sgrad[dask] scipy
        print(f"skipped: {exc.name} is not installed")
        print("OK")
        return

    cluster = LocalCluster(n_workers=opts.workers, threads_per_worker=1, processes=True,
                           dashboard_address=":0", silence_logs=40)
    client = Client(cluster)
    try:
        rows, d = opts.rows, opts.cols
        rs = da.random.RandomState(0)
        X = rs.normal(size=(rows, d), chunks=(max(rows // 8, 1), d))   # on the workers
        w_true = np.linspace(-1.0, 1.0, d)
        noise = rs.normal(scale=0.5, size=rows, chunks=X.chunks[0])
        y = da.sign(X @ w_true + noise)
        X, y = dask.persist(X, y)        # generated once, kept on the workers

        value_and_grad = s2sgrad.value_and_grad(loss)
        computes = []
        real_compute = dask.compute

        def counting_compute(*args, **kwargs):
            computes.append(len(args))
            return real_compute(*args, **kwargs)
        dask.compute = counting_compute   # to show: one computation per step

        def fun(w):
            value, grad = value_and_grad(w, X, y, 1e-4)
            return float(value), grad    # value: a NumPy float; grad: a NumPy array

        t = time.perf_counter()
        res = minimize(fun, np.zeros(d), jac=True, method="L-BFGS-B")
        elapsed = time.perf_counter() - t
        dask.compute = real_compute
        print(f"{rows} x {d} rows on {opts.workers} workers: L-BFGS-B converged={res.success} "
              f"in {res.nit} iterations, {res.nfev} evaluations, {elapsed:.2f} s")
        print(f"dask.compute calls: {len(computes)} (one per evaluation)")
        print(f"loss {res.fun:.5f}; direction of w vs w_true: cosine "
              f"{res.x @ w_true / np.linalg.norm(res.x) / np.linalg.norm(w_true):.4f}")
        assert res.success
        assert len(computes) == res.nfev
        assert res.x @ w_true / np.linalg.norm(res.x) / np.linalg.norm(w_true) > 0.99

        # the same gradient in memory, for comparison (small data only)
        if rows <= 1_000_000:
            Xn, yn = dask.compute(X, y)
            g_np = s2sgrad.grad(loss)(res.x, Xn, yn, 1e-4)
            g_dask = value_and_grad(res.x, X, y, 1e-4)[1]
            assert np.allclose(g_np, g_dask, rtol=1e-9, atol=1e-12)
            print("gradient on dask == gradient on NumPy")
    finally:
        client.close()
        cluster.close()
    print("OK")


if __name__ == "__main__":
    main()
