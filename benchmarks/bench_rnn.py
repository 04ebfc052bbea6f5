"""Vanilla RNN, 50 steps: s2sgrad's generated gradient vs a hand-written
NumPy BPTT gradient, side by side in one process.

The hand-written gradient is the careful one: it stores the hidden states,
runs the backward recursion, and forms each weight gradient with ONE
matrix product after the loop (not an outer product per step).

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_rnn.py
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_rnn.py --memory   # peak memory, T=2000 h=256
"""
import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import sys  # noqa: E402
import timeit  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import s2sgrad  # noqa: E402


def rnn_loss(Wh, Wx, b, xs, h0, target):
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + Wx @ xs[t] + b)
    return 0.5 * np.sum((h - target) ** 2)


def rnn_grad_by_hand(Wh, Wx, b, xs, h0, target):
    T = xs.shape[0]
    H = np.empty((T + 1, h0.shape[0]))
    H[0] = h0
    for t in range(T):
        H[t + 1] = np.tanh(Wh @ H[t] + Wx @ xs[t] + b)
    dh = H[T] - target
    D = np.empty((T, h0.shape[0]))
    for t in range(T - 1, -1, -1):
        da = dh * (1.0 - H[t + 1] ** 2)
        D[t] = da
        dh = Wh.T @ da
    dWh = D.T @ H[:T]
    dWx = D.T @ xs
    db = D.sum(axis=0)
    return dWh, dWx, db


def median_time(fn, args, number, repeat=7):
    times = timeit.repeat(lambda: fn(*args), number=number, repeat=repeat)
    return np.median(times) / number


def run(hidden, T=50, n_in=8, seed=0):
    rng = np.random.default_rng(seed)
    Wh = rng.standard_normal((hidden, hidden)) / np.sqrt(hidden)
    Wx = rng.standard_normal((hidden, n_in)) / np.sqrt(n_in)
    b = rng.standard_normal(hidden) * 0.1
    xs = rng.standard_normal((T, n_in))
    h0 = np.zeros(hidden)
    target = rng.standard_normal(hidden) * 0.5
    args = (Wh, Wx, b, xs, h0, target)
    g = s2sgrad.grad(rnn_loss, wrt=(0, 1, 2))
    want = rnn_grad_by_hand(*args)
    got = g(*args)
    for a, w in zip(got, want):
        assert np.allclose(a, w, rtol=1e-9, atol=1e-12), "gradients disagree"
    number = max(1, int(0.02 / max(timeit.timeit(lambda: rnn_grad_by_hand(*args), number=1),
                                   1e-6)))
    rows = []
    # interleave the two to share machine noise
    hand, gen = [], []
    for _ in range(5):
        hand.append(median_time(rnn_grad_by_hand, args, number, repeat=3))
        gen.append(median_time(g, args, number, repeat=3))
    th, tg = np.median(hand), np.median(gen)
    rows.append(("rnn T=50", f"hidden {hidden}", th, tg))
    return rows, g


def peak_bytes(fn, args):
    """Peak traced memory (tracemalloc, which NumPy reports its buffers to)
    during one call of ``fn``, above what was allocated before it."""
    import tracemalloc
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        out = fn(*args)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    del out
    return peak


def memory(hidden=256, T=2000, n_in=8, seed=0):
    """Peak memory of one gradient call, s2sgrad vs hand-written BPTT (which
    keeps two (T, hidden) arrays: the states and the pre-activation adjoints)."""
    rng = np.random.default_rng(seed)
    Wh = rng.standard_normal((hidden, hidden)) / np.sqrt(hidden)
    Wx = rng.standard_normal((hidden, n_in)) / np.sqrt(n_in)
    b = rng.standard_normal(hidden) * 0.1
    xs = rng.standard_normal((T, n_in))
    h0 = np.zeros(hidden)
    target = rng.standard_normal(hidden) * 0.5
    args = (Wh, Wx, b, xs, h0, target)
    g = s2sgrad.grad(rnn_loss, wrt=(0, 1, 2))
    for a, w in zip(g(*args), rnn_grad_by_hand(*args)):
        assert np.allclose(a, w, rtol=1e-9, atol=1e-12), "gradients disagree"
    g(*args)                                   # the shape-specialised code
    hand = peak_bytes(rnn_grad_by_hand, args)
    ours = peak_bytes(g, args)
    print(f"{'memory':<12} {f'T={T} h={hidden}':<12} {hand / 2**20:>9.2f}M {ours / 2**20:>12.2f}M "
          f"{ours / hand:>7.2f}   (peak traced bytes of one call; hand stores "
          f"{2 * T * hidden * 8 / 2**20:.2f}M)")


def main():
    if "--memory" in sys.argv:
        print(f"{'problem':<12} {'size':<12} {'hand':>10} {'s2sgrad':>13} {'ratio':>7}")
        memory()
        return
    print(f"{'problem':<12} {'size':<12} {'hand (us)':>10} {'s2sgrad (us)':>13} {'ratio':>7}")
    for hidden in (16, 256):
        rows, g = run(hidden)
        for name, size, th, tg in rows:
            print(f"{name:<12} {size:<12} {th * 1e6:>10.1f} {tg * 1e6:>13.1f} {tg / th:>7.2f}")
    if "--source" in sys.argv:
        print(g.source)


if __name__ == "__main__":
    main()
