"""Hessians: s2sgrad's batched ``hessian`` vs its per-basis-vector loop, vs the
Hessian written by hand, and vs ``jax.hessian`` when JAX is installed (never
a dependency), side by side in one process.

The loss is L2-regularised logistic regression, whose Hessian a careful
person writes as ``X.T @ (s (1 - s) / n * X) + 2 lam I`` with ``s`` the
sigmoid of the margins; and an RNN, whose Hessian nobody writes by hand.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_hessian.py
"""
import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import s2sgrad  # noqa: E402
import s2sgrad.higher as higher  # noqa: E402


def logreg(w, X, y, lam=0.1):
    margin = y * (X @ w)
    return np.mean(np.log1p(np.exp(-margin))) + lam * np.sum(w ** 2)


def logreg_hessian_by_hand(w, X, y, lam=0.1):
    s = 1.0 / (1.0 + np.exp(-(y * (X @ w))))
    d = s * (1.0 - s) / len(y)
    H = X.T @ (d[:, None] * X)
    H[np.diag_indices_from(H)] += 2 * lam
    return H


def rnn(Wh, Wx, xs, h):
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + Wx @ xs[t])
    return np.sum(h ** 2)


def best(fn, budget=0.5):
    """Fastest of repeated calls within about ``budget`` seconds."""
    fn()
    times, start = [], time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - start < budget and len(times) < 200):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def fmt(t):
    return f"{t * 1e3:8.2f} ms"


def jax_hessian(f, argnums=0):
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
    except Exception:           # not installed: no column
        return None
    import jax.numpy as jnp
    return jax.jit(jax.hessian(f(jnp), argnums=argnums))


def logreg_jax(jnp):
    def f(w, X, y, lam=0.1):
        margin = y * (X @ w)
        return jnp.mean(jnp.log1p(jnp.exp(-margin))) + lam * jnp.sum(w ** 2)
    return f


def main():
    rng = np.random.default_rng(0)
    print(f"{'problem':34s} {'hand':>11s} {'batched':>11s} {'loop':>11s} {'jax':>11s}"
          f"  batched/hand  loop/batched")
    for n, d in ((500, 50), (500, 200), (5000, 50)):
        X = rng.normal(size=(n, d))
        y = np.sign(rng.normal(size=n))
        w = rng.normal(size=d) * 0.1
        h = s2sgrad.hessian(logreg)
        np.testing.assert_allclose(h(w, X, y), logreg_hessian_by_hand(w, X, y), rtol=1e-8,
                                   atol=1e-12)
        t_hand = best(lambda: logreg_hessian_by_hand(w, X, y))
        t_batched = best(lambda: h(w, X, y))
        higher.BATCHED = False
        t_loop = best(lambda: h(w, X, y))
        higher.BATCHED = True
        jh = jax_hessian(logreg_jax)
        t_jax = None
        if jh is not None:
            t_jax = best(lambda: np.asarray(jh(w, X, y)))
        print(f"{f'logistic n={n} d={d}':34s} {fmt(t_hand)} {fmt(t_batched)} {fmt(t_loop)} "
              f"{fmt(t_jax) if t_jax else '        -':>11s}  {t_batched / t_hand:12.2f}"
              f"  {t_loop / t_batched:12.1f}")
    args = (rng.normal(size=(8, 8)) * 0.3, rng.normal(size=(8, 4)), rng.normal(size=(20, 4)),
            rng.normal(size=8))
    h = s2sgrad.hessian(rnn, wrt=(0, 1))
    t_batched = best(lambda: h(*args))
    higher.BATCHED = False
    t_loop = best(lambda: h(*args), budget=2.0)
    higher.BATCHED = True
    print(f"{'rnn T=20, Wh 8x8 + Wx 8x4 (96)':34s} {'-':>11s} {fmt(t_batched)} {fmt(t_loop)} "
          f"{'-':>11s}  {'-':>12s}  {t_loop / t_batched:12.1f}")


if __name__ == "__main__":
    main()
