"""The cost of the ``grad()`` call machinery, apart from the generated code.

For a few small losses (tiny arrays, so the generated code itself is cheap)
this times, side by side in one process,

  * call:   ``g(*args)`` -- the public call (argument checks, cache lookup,
            guards of what compilation assumed about globals, result fixing);
  * bare:   the generated function that call runs (``g._last_run.fn``), alone;

and reports ``call - bare`` in microseconds: the overhead a user pays per
call.  The losses read globals the way real code does: a plain one (only
``np``), one that calls a helper function and reads a global flag, a global
callable and a global array, and one with a dozen such globals.

Rounds interleave the two timings (each a ``timeit`` of many calls); the
table shows the median overhead and its range over the rounds, and the
overhead of the best times (``min call - min bare`` over all rounds: the
least disturbed by other processes on a shared machine), and the time of
the guard check alone (``guard us``: what this version of s2sgrad adds).

Run:  python benchmarks/bench_call_overhead.py [--rounds 15]
"""
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import timeit  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import s2sgrad  # noqa: E402

TRAIN = True
act = np.tanh
SCALE = np.array(2.0)
MODE = "mean"
DEPTH = 2


def helper(z):
    return act(z) * SCALE


def plain(w):
    return np.sum(w ** 2)


def with_globals(w):
    h = helper(w)
    if TRAIN:
        h = h * 0.5
    return np.sum(h)


def many_globals(w):
    h = w
    for _ in range(DEPTH):
        h = helper(h)
    if TRAIN and MODE == "mean":
        r = np.mean(h)
    else:
        r = np.sum(h)
    return r + np.sum(SCALE * w) + np.sum(act(w))


def two_args(w, x):
    return np.sum(act(x @ w))


def scaled(w, lam, shift=0.0):
    return lam * np.sum((w - shift) ** 2)


CASES = [
    ("plain (np only)", s2sgrad.grad(plain), (np.ones(3),), {}),
    ("helper + flag + callable", s2sgrad.grad(with_globals), (np.ones(3),), {}),
    ("a dozen globals", s2sgrad.grad(many_globals), (np.ones(3),), {}),
    ("two args, value_and_grad", s2sgrad.value_and_grad(two_args),
     (np.ones(3), np.ones((2, 3))), {}),
    # argument kinds: a Python float, a NumPy scalar, a keyword, a default
    ("float arg, default", s2sgrad.grad(scaled), (np.ones(3), 0.5), {}),
    ("np.float64 by keyword", s2sgrad.grad(scaled), (np.ones(3),),
     {"lam": np.float64(0.5), "shift": 0.1}),
    ("wrt a float", s2sgrad.grad(scaled, wrt="lam"), (np.ones(3), 0.5), {}),
    ("wrt a np.float64", s2sgrad.grad(scaled, wrt="lam"), (np.ones(3), np.float64(0.5)), {}),
]


def measure(g, args, kwargs, number):
    g(*args, **kwargs)
    g(*args, **kwargs)
    bare = g._last_run.fn
    names = list(g._sig.parameters)
    bound = g._sig.bind(*args, **kwargs)
    bound.apply_defaults()
    leaves = tuple(bound.arguments[n] for n in names)   # the generated code's parameters
    t_call = min(timeit.repeat(lambda: g(*args, **kwargs), number=number, repeat=3)) / number
    t_bare = min(timeit.repeat(lambda: bare(*leaves), number=number, repeat=3)) / number
    return t_call, t_bare


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--number", type=int, default=20000)
    a = ap.parse_args()
    rows = {name: [] for name, *_ in CASES}
    calls = {name: [] for name, *_ in CASES}
    bares = {name: [] for name, *_ in CASES}
    for _ in range(a.rounds):
        for name, g, args, kwargs in CASES:
            t_call, t_bare = measure(g, args, kwargs, a.number)
            rows[name].append((t_call - t_bare) * 1e6)
            calls[name].append(t_call * 1e6)
            bares[name].append(t_bare * 1e6)
    print(f"{'loss':28s} {'call us':>9s} {'overhead us (median)':>21s} {'range':>15s} "
          f"{'best-time overhead':>19s} {'guard us':>9s}")
    for name, g, *_ in CASES:
        ov = rows[name]
        guard = getattr(g._last, "guard", None)
        t_guard = (min(timeit.repeat(guard, number=a.number, repeat=5)) / a.number * 1e6
                   if guard is not None else 0.0)
        print(f"{name:28s} {statistics.median(calls[name]):9.2f} "
              f"{statistics.median(ov):21.3f} {min(ov):7.3f}-{max(ov):.3f} "
              f"{min(calls[name]) - min(bares[name]):19.3f} {t_guard:9.3f}")


if __name__ == "__main__":
    main()
