"""Nested loops and while loops: s2sgrad's gradient vs hand-written BPTT.

Workloads (value + gradient is not needed: gradient only, float64, one thread):

  rnn2    an RNN whose step runs L layers in an inner ``for l in range(L)``
          loop (T outer steps, hidden H);
  integ   an explicit integrator, T outer steps of S substeps each
          (``y = y + dt * np.sin(k * y)``) on a vector of n; the same as
          one loop of T * S steps; and with S an argument;
  rnn mean  an RNN with a per-step mean loss (``loss + np.mean((h - ys[t]) ** 2)``,
          divided by T): the reversed step's ``c * E[t]``;
  while   a ``while`` loop of N steps (``x = np.sin(a * x)``) on a vector of n;
  list reads  an RNN that collects its states in a list ``hs`` and reads it
          after the loop other ways than ``np.stack``: ``hs[-1]`` and
          ``hs[0]``; ``for h in hs:``; a generator expression over ``hs``.

Each row times the generated gradient and the hand-written one interleaved
(median CPU time per call over rounds) and measures both peak memories with
tracemalloc.  Run with the tree to test on PYTHONPATH:

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=. python benchmarks/bench_loop_tapes.py
"""
import os
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402

import s2sgrad  # noqa: E402


def rnn2_loss(W, U, xs, h0, target):
    h = h0
    for t in range(xs.shape[0]):
        for l in range(2):
            h = np.tanh(W[l] @ h + U[l] @ xs[t])
    return 0.5 * np.sum((h - target) ** 2)


def rnn2_hand(W, U, xs, h0, target):
    T, L = xs.shape[0], 2
    H = np.empty((T * L + 1,) + h0.shape)
    H[0] = h0
    for t in range(T):
        for l in range(L):
            i = t * L + l
            a = W[l] @ H[i]
            a += U[l] @ xs[t]
            np.tanh(a, out=H[i + 1])
    dh = H[-1] - target
    dW, dU = np.zeros_like(W), np.zeros_like(U)
    for t in range(T - 1, -1, -1):
        for l in range(L - 1, -1, -1):
            i = t * L + l
            da = np.square(H[i + 1])
            np.subtract(1.0, da, out=da)
            da *= dh
            dW[l] += np.outer(da, H[i])
            dU[l] += np.outer(da, xs[t])
            dh = da @ W[l]
    return dW, dU


def make_rnn2(T, Hd, n_in, rng):
    W = rng.standard_normal((2, Hd, Hd)) / np.sqrt(Hd)
    U = rng.standard_normal((2, Hd, n_in)) / np.sqrt(n_in)
    return (W, U, rng.standard_normal((T, n_in)), np.zeros(Hd), rng.standard_normal(Hd)), (0, 1)


def integ_loss(k, y0):
    y = y0
    for t in range(100):
        for s in range(4):
            y = y + 0.01 * np.sin(k * y)
    return np.sum(y)


def integ_hand(k, y0):
    T, S = 100, 4
    Y = np.empty((T * S + 1,) + y0.shape)
    Y[0] = y0
    for i in range(T * S):
        d = np.multiply(k, Y[i])
        np.sin(d, out=d)
        d *= 0.01
        np.add(Y[i], d, out=Y[i + 1])
    yb = np.ones_like(y0)
    kb = np.zeros_like(k)
    for i in range(T * S - 1, -1, -1):
        c = np.multiply(k, Y[i])
        np.cos(c, out=c)
        c *= 0.01
        c *= yb
        kb += c * Y[i]
        c *= k
        yb += c
    return kb


def integ1_loss(k, y0):
    y = y0
    for t in range(400):
        y = y + 0.01 * np.sin(k * y)
    return np.sum(y)


def integ_rt_loss(k, y0, m):
    # the inner trip count an argument
    y = y0
    for t in range(100):
        for s in range(m):
            y = y + 0.01 * np.sin(k * y)
    return np.sum(y)


def integ_rt_hand(k, y0, m):
    return integ_hand(k, y0)


def make_integ_rt(n, rng):
    return (rng.uniform(0.5, 1.5, n), rng.uniform(-1, 1, n), 4), (0,)


def make_integ(n, rng):
    return (rng.uniform(0.5, 1.5, n), rng.uniform(-1, 1, n)), (0,)


def while_loss(a, x):
    n = 0
    while n < 3000:
        x = np.sin(a * x)
        n += 1
    return np.sum(x)


def while_hand(a, x):
    # a list of the saved values (the trip count is not known on entry)
    saved = []
    n = 0
    while n < 3000:
        z = a * x
        saved.append(z)
        x = np.sin(z)
        n += 1
    xb = np.ones_like(x)
    for z in reversed(saved):
        g = np.cos(z)
        g *= xb
        xb = g * a
    return xb


def while_hand_array(a, x):
    # the same with a growable array (capacity doubling), final rows [:n]
    Z = np.empty((16,) + x.shape)
    n = 0
    while n < 3000:
        if n == Z.shape[0]:
            Z2 = np.empty((2 * n,) + x.shape)
            Z2[:n] = Z
            Z = Z2
        z = np.multiply(a, x, out=Z[n])
        x = np.sin(z)
        n += 1
    xb = np.ones_like(x)
    for i in range(n - 1, -1, -1):
        g = np.cos(Z[i])
        g *= xb
        xb = g * a
    return xb


def rnn_mean_loss(Wh, Wx, b, xs, h0, ys):
    h = h0
    loss = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + Wx @ xs[t] + b)
        loss = loss + np.mean((h - ys[t]) ** 2)
    return loss / xs.shape[0]


def rnn_mean_hand(Wh, Wx, b, xs, h0, ys):
    T = xs.shape[0]
    H = np.empty((T + 1,) + h0.shape)
    H[0] = h0
    for t in range(T):
        a = Wh @ H[t]
        a += Wx @ xs[t]
        a += b
        np.tanh(a, out=H[t + 1])
    E = H[1:] - ys
    E *= 2.0 / (T * h0.size)
    D = np.empty((T,) + h0.shape)
    dh = np.zeros(h0.shape)
    for t in range(T - 1, -1, -1):
        dh += E[t]
        da = np.square(H[t + 1], out=D[t])
        np.subtract(1.0, da, out=da)
        da *= dh
        dh = Wh.T @ da
    return D.T @ H[:T], D.T @ xs, D.sum(axis=0)


def make_rnn_mean(T, hidden, n_in, rng):
    Wh = rng.standard_normal((hidden, hidden)) / np.sqrt(hidden)
    Wx = rng.standard_normal((hidden, n_in)) / np.sqrt(n_in)
    return (Wh, Wx, 0.1 * rng.standard_normal(hidden), rng.standard_normal((T, n_in)),
            np.zeros(hidden), 0.5 * rng.standard_normal((T, hidden))), (0, 1, 2)


def _rnn_states(Wh, Wx, b, xs, h0):
    T = xs.shape[0]
    H = np.empty((T + 1,) + h0.shape)
    H[0] = h0
    for t in range(T):
        a = Wh @ H[t]
        a += Wx @ xs[t]
        a += b
        np.tanh(a, out=H[t + 1])
    return H


def _rnn_backward(Wh, xs, H, E):
    """BPTT given E[t], the loss's cotangent of state t + 1 (rows T)."""
    T = xs.shape[0]
    D = np.empty((T,) + H.shape[1:])
    dh = np.zeros(H.shape[1:])
    for t in range(T - 1, -1, -1):
        dh += E[t]
        da = np.square(H[t + 1], out=D[t])
        np.subtract(1.0, da, out=da)
        da *= dh
        dh = Wh.T @ da
    return D.T @ H[:T], D.T @ xs, D.sum(axis=0)


def list_last_loss(Wh, Wx, b, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + Wx @ xs[t] + b)
        hs.append(h)
    return np.sum(hs[-1] * hs[0])


def list_last_hand(Wh, Wx, b, xs, h0):
    H = _rnn_states(Wh, Wx, b, xs, h0)
    T = xs.shape[0]
    E = np.zeros((T,) + h0.shape)
    E[T - 1] += H[1]
    E[0] += H[T]
    return _rnn_backward(Wh, xs, H, E)


def list_iter_loss(Wh, Wx, b, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + Wx @ xs[t] + b)
        hs.append(h)
    s = 0.0
    for g in hs:
        s = s + np.sum(g ** 2)
    return s


def list_genexp_loss(Wh, Wx, b, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + Wx @ xs[t] + b)
        hs.append(h)
    return sum(np.sum(g ** 2) for g in hs)


def list_iter_hand(Wh, Wx, b, xs, h0):
    H = _rnn_states(Wh, Wx, b, xs, h0)
    E = 2.0 * H[1:]
    return _rnn_backward(Wh, xs, H, E)


def make_list_rnn(T, hidden, n_in, rng):
    Wh = rng.standard_normal((hidden, hidden)) / np.sqrt(hidden)
    Wx = rng.standard_normal((hidden, n_in)) / np.sqrt(n_in)
    return (Wh, Wx, 0.1 * rng.standard_normal(hidden), rng.standard_normal((T, n_in)),
            np.zeros(hidden)), (0, 1, 2)


def make_while(n, rng):
    return (rng.uniform(0.5, 1.5, n), rng.uniform(-1, 1, n)), (1,)


ROWS = [
    ("rnn, per-step mean loss", rnn_mean_loss, [rnn_mean_hand], make_rnn_mean, (50, 16, 8)),
    ("rnn, per-step mean loss", rnn_mean_loss, [rnn_mean_hand], make_rnn_mean, (2000, 256, 32)),
    ("rnn2 (inner layer loop)", rnn2_loss, [rnn2_hand], make_rnn2, (50, 16, 8)),
    ("rnn2 (inner layer loop)", rnn2_loss, [rnn2_hand], make_rnn2, (50, 256, 32)),
    ("integrator (4 substeps)", integ_loss, [integ_hand], make_integ, (16,)),
    ("integrator (4 substeps)", integ_loss, [integ_hand], make_integ, (10000,)),
    ("integrator (one loop)", integ1_loss, [integ_hand], make_integ, (16,)),
    ("integrator (one loop)", integ1_loss, [integ_hand], make_integ, (10000,)),
    ("integrator (m an argument)", integ_rt_loss, [integ_rt_hand], make_integ_rt, (16,)),
    ("integrator (m an argument)", integ_rt_loss, [integ_rt_hand], make_integ_rt, (10000,)),
    ("while, 3000 steps", while_loss, [while_hand, while_hand_array], make_while, (16,)),
    ("while, 3000 steps", while_loss, [while_hand, while_hand_array], make_while, (10000,)),
    ("list: hs[-1] * hs[0]", list_last_loss, [list_last_hand], make_list_rnn, (50, 16, 8)),
    ("list: hs[-1] * hs[0]", list_last_loss, [list_last_hand], make_list_rnn, (2000, 256, 32)),
    ("list: for h in hs", list_iter_loss, [list_iter_hand], make_list_rnn, (50, 16, 8)),
    ("list: for h in hs", list_iter_loss, [list_iter_hand], make_list_rnn, (2000, 256, 32)),
    ("list: sum(.. for h in hs)", list_genexp_loss, [list_iter_hand], make_list_rnn,
     (50, 16, 8)),
    ("list: sum(.. for h in hs)", list_genexp_loss, [list_iter_hand], make_list_rnn,
     (2000, 256, 32)),
]


def peak(fn, args):
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    fn(*args)
    p = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return p


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    only = sys.argv[2] if len(sys.argv) > 2 else ""
    rng = np.random.default_rng(0)
    print(f"{'row':26s} {'size':16s} {'s2sgrad':>10s} {'hand':>10s} ratio   peak s2s/hand"
          "   (2nd hand: ratio, peak)")
    for name, loss, hands, make, size in ROWS:
        if only and not name.startswith(only):
            continue
        args, wrt = make(*size, rng)
        g = s2sgrad.grad(loss, wrt=wrt if len(wrt) > 1 else wrt[0])
        got = g(*args)
        for h in hands:
            ref = h(*args)
            ok = all(np.allclose(a, b, rtol=1e-9, atol=1e-12)
                     for a, b in zip(got if isinstance(got, tuple) else (got,),
                                     ref if isinstance(ref, tuple) else (ref,)))
            assert ok, (name, h.__name__)
        fns = [lambda: g(*args)] + [(lambda h=h: h(*args)) for h in hands]
        # calibrate: about 20 ms per batch
        t0 = time.process_time()
        fns[0]()
        one = max(time.process_time() - t0, 1e-6)
        reps = max(1, int(0.02 / one))
        times = [[] for _ in fns]
        for r in range(rounds):
            order = list(range(len(fns)))
            order = order[r % len(fns):] + order[:r % len(fns)]
            for i in order:
                t0 = time.process_time()
                for _ in range(reps):
                    fns[i]()
                times[i].append((time.process_time() - t0) / reps)
        med = [statistics.median(t) for t in times]
        peaks = [peak(g, args)] + [peak(h, args) for h in hands]
        extra = "".join(f"   ({med[0] / med[i]:.2f}, {peaks[0] / peaks[i]:.2f})"
                        for i in range(2, len(fns)))
        print(f"{name:26s} {str(size):16s} {med[0] * 1e3:8.3f}ms {med[1] * 1e3:8.3f}ms "
              f"{med[0] / med[1]:5.2f}   {peaks[0] / 1e6:7.3f}/{peaks[1] / 1e6:7.3f} MB "
              f"{peaks[0] / peaks[1]:5.2f}{extra}")


if __name__ == "__main__":
    main()
