"""Custom rules cost nothing at run time: generated gradients that go through
``custom_vjp``/``custom_jvp``/``defrule`` vs hand-written NumPy gradients.

Problems (float64, one thread):

  * softplus:  logistic regression whose loss is a custom_vjp softplus (a
               stable forward pass, the logistic function as reverse rule);
  * norm:      least squares plus ``lam * safe_norm(w)``, a custom_jvp norm
               whose forward rule is transposed for reverse mode;
  * kernel:    least squares through an opaque "compiled" mat-vec given a
               vjp with ``defrule``.

For each, at a small and a large size, it times

  * hand:     the gradient written by hand in NumPy;
  * custom:   ``s2sgrad.grad`` of the loss written with the custom rule;
  * plain:    ``s2sgrad.grad`` of the same loss written without one (where
              NumPy can: ``np.logaddexp``, ``np.linalg.norm``, ``X @ w``).

Methods run interleaved (one batch of each per round, rotating order);
the table shows the median time per call and the ratio to hand, with the
range of the ratio over rounds.  Every gradient is checked against the
hand-written one first.

Run:  python benchmarks/bench_custom.py [--quick]
"""
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import s2sgrad  # noqa: E402

# ---------------------------------------------------------------- softplus (custom_vjp)


@s2sgrad.custom_vjp
def softplus(z):
    return np.logaddexp(0.0, z)


def softplus_fwd(z):
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z))), z


def softplus_bwd(z, g):
    return (g * (0.5 + 0.5 * np.tanh(0.5 * z)),)


softplus.defvjp(softplus_fwd, softplus_bwd)


def logistic_custom(w, X, y):
    return np.mean(softplus(-y * (X @ w)))


def logistic_plain(w, X, y):
    return np.mean(np.logaddexp(0.0, -y * (X @ w)))


def logistic_hand(w, X, y):
    m = -y * (X @ w)
    s = 0.5 + 0.5 * np.tanh(0.5 * m)
    s *= -y / len(y)
    return X.T @ s

# ---------------------------------------------------------------- norm (custom_jvp)


@s2sgrad.custom_jvp
def safe_norm(x):
    return np.sqrt(np.sum(x ** 2))


@safe_norm.defjvp
def safe_norm_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    n = safe_norm(x)
    return n, np.sum(x * t) / np.where(n == 0, 1.0, n)


def ls_norm_custom(w, X, y):
    r = X @ w - y
    return 0.5 * np.mean(r ** 2) + 0.1 * safe_norm(w)


def ls_norm_plain(w, X, y):
    r = X @ w - y
    return 0.5 * np.mean(r ** 2) + 0.1 * np.linalg.norm(w)


def ls_norm_hand(w, X, y):
    r = X @ w
    r -= y
    g = X.T @ r
    g /= len(y)
    n = np.sqrt(w @ w)
    g += (0.1 / (n if n != 0 else 1.0)) * w
    return g

# ---------------------------------------------------------------- kernel (defrule)


class CompiledMatVec:
    """Stands for a mat-vec of an extension module (no Python source)."""

    def __call__(self, X, w):
        return X @ w


matvec = CompiledMatVec()


def matvec_vjp(g, out, X, w):
    return None, X.T @ g


s2sgrad.defrule(matvec, vjp=matvec_vjp, shape_safe=True)   # specialisation may call it


def ls_kernel_custom(w, X, y):
    return 0.5 * np.mean((matvec(X, w) - y) ** 2)


def ls_kernel_plain(w, X, y):
    return 0.5 * np.mean((X @ w - y) ** 2)


def ls_kernel_hand(w, X, y):
    r = X @ w
    r -= y
    g = X.T @ r
    g /= len(y)
    return g


PROBLEMS = {
    "softplus": (logistic_custom, logistic_plain, logistic_hand, "labels"),
    "norm": (ls_norm_custom, ls_norm_plain, ls_norm_hand, "targets"),
    "kernel": (ls_kernel_custom, ls_kernel_plain, ls_kernel_hand, "targets"),
}
SIZES = {"small": (200, 10), "large": (20000, 100)}


def data(n, d, kind, rng):
    X = rng.standard_normal((n, d))
    w = rng.standard_normal(d) * 0.1
    y = np.sign(rng.standard_normal(n)) if kind == "labels" else rng.standard_normal(n)
    return w, X, y


def bench(fns, args, rounds, target=0.02):
    for f in fns:                       # warm up (compile, specialise)
        f(*args)
    reps = []
    for f in fns:
        t0 = time.perf_counter()
        k = 0
        while time.perf_counter() - t0 < target / 4:
            f(*args)
            k += 1
        reps.append(max(1, k * 4))
    times = [[] for _ in fns]
    for r in range(rounds):
        order = list(range(len(fns)))
        order = order[r % len(fns):] + order[:r % len(fns)]
        for i in order:
            t0 = time.perf_counter()
            for _ in range(reps[i]):
                fns[i](*args)
            times[i].append((time.perf_counter() - t0) / reps[i])
    return times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    opts = ap.parse_args()
    rounds = 5 if opts.quick else 15
    rng = np.random.default_rng(0)
    print(f"{'problem':<10}{'size':<7}{'hand':>11}{'custom':>11}{'ratio (range)':>20}"
          f"{'plain':>11}{'ratio (range)':>20}")
    for name, (custom, plain, hand, kind) in PROBLEMS.items():
        for size, (n, d) in SIZES.items():
            args = data(n, d, kind, rng)
            gc, gp = s2sgrad.grad(custom), s2sgrad.grad(plain)
            ref = hand(*args)
            np.testing.assert_allclose(gc(*args), ref, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(gp(*args), ref, rtol=1e-9, atol=1e-12)
            th, tc, tp = bench([lambda *a: hand(*a), gc, gp], args, rounds)
            rc = [c / h for c, h in zip(tc, th)]
            rp = [p / h for p, h in zip(tp, th)]
            med = statistics.median
            print(f"{name:<10}{size:<7}{med(th) * 1e6:>9.1f}us{med(tc) * 1e6:>9.1f}us"
                  f"{med(rc):>8.2f} ({min(rc):.2f}-{max(rc):.2f})"
                  f"{med(tp) * 1e6:>9.1f}us{med(rp):>8.2f} ({min(rp):.2f}-{max(rp):.2f})")


if __name__ == "__main__":
    main()
