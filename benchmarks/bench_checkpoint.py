"""Checkpointing (rematerialization): peak memory and time of the gradient
with each schedule against the default (every loop state stored).

RNN ``h = tanh(Wh @ h + Wx @ x_t)``, batch 64, hidden 256, T = 2000, loss the
sum of the final state; and a 16-block residual MLP (``h + W2 @ tanh(W1 @
h)``, width 128 -> 512 -> 128, batch 2048: activations, not weights, fill
the memory) with and without
``@s2sgrad.checkpoint`` on its block.

Peak memory: ``tracemalloc``'s peak during one gradient call (NumPy reports
its buffers to it), above what was allocated before the call (the inputs).
Time: the median of several calls, the variants interleaved in one process
(OPENBLAS_NUM_THREADS=1); the run is repeated ``--rounds`` times and the
table shows the median ratio and its range.

Reverse over reverse (``--only gradgrad``): ``grad`` of the squared norm
of the RNN's gradient, the inner gradient made with ``checkpoint="sqrt"``
or ``Binomial(snapshots=8)`` against the default (T = 500 by ``--T-gg``).

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_checkpoint.py [--rounds 3] [--only rnn|mlp|gradgrad]
"""
import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import s2sgrad  # noqa: E402


def rnn(Wh, Wx, xs, h):
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + Wx @ xs[t])
    return np.sum(h)


def rnn_marked(Wh, Wx, xs, h):
    for t in s2sgrad.checkpointed(range(xs.shape[0]), snapshots=8):
        h = np.tanh(Wh @ h + Wx @ xs[t])
    return np.sum(h)


def block(W1, W2, h):
    return h + W2 @ np.tanh(W1 @ h)


@s2sgrad.checkpoint
def block_ckpt(W1, W2, h):
    return h + W2 @ np.tanh(W1 @ h)


@s2sgrad.checkpoint(policy="save_dots")
def block_dots(W1, W2, h):
    return h + W2 @ np.tanh(W1 @ h)


def mlp_dots(W1s, W2s, h):
    for i in range(W1s.shape[0]):
        h = block_dots(W1s[i], W2s[i], h)
    return np.sum(h)


def mlp(W1s, W2s, h):
    for i in range(W1s.shape[0]):
        h = block(W1s[i], W2s[i], h)
    return np.sum(h)


def mlp_ckpt(W1s, W2s, h):
    for i in range(W1s.shape[0]):
        h = block_ckpt(W1s[i], W2s[i], h)
    return np.sum(h)


def mlp_list(W1s, W2s, h):
    # the weights in Python lists, indexed by the loop index
    for i in range(len(W1s)):
        h = block(W1s[i], W2s[i], h)
    return np.sum(h)


def mlp_list_ckpt(W1s, W2s, h):
    for i in range(len(W1s)):
        h = block_ckpt(W1s[i], W2s[i], h)
    return np.sum(h)


def zblock(W1, W2, h):
    return h + np.tanh(h @ W1) @ W2


@s2sgrad.checkpoint
def zblock_ckpt(W1, W2, h):
    return h + np.tanh(h @ W1) @ W2


def mlp_zip(W1s, W2s, h):
    # written out by the compiler: one block per pair of list elements
    for W1, W2 in zip(W1s, W2s):
        h = zblock(W1, W2, h)
    return np.sum(h)


def mlp_zip_ckpt(W1s, W2s, h):
    for W1, W2 in zip(W1s, W2s):
        h = zblock_ckpt(W1, W2, h)
    return np.sum(h)


def mlp_pairs(params, h):
    for W1, W2 in params:
        h = zblock(W1, W2, h)
    return np.sum(h)


def mlp_pairs_ckpt(params, h):
    for W1, W2 in params:
        h = zblock_ckpt(W1, W2, h)
    return np.sum(h)


def mlp_marked(W1s, W2s, h):
    for i in s2sgrad.checkpointed(range(W1s.shape[0])):
        h = block(W1s[i], W2s[i], h)
    return np.sum(h)


def mlp_marked_ckpt(W1s, W2s, h):
    for i in s2sgrad.checkpointed(range(W1s.shape[0])):
        h = block_ckpt(W1s[i], W2s[i], h)
    return np.sum(h)


def peak(fn, args):
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    fn(*args)
    p = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return p


def timed(fn, args, repeat):
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(*args)
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def _leaves(x):
    if isinstance(x, (tuple, list)):
        return [y for item in x for y in _leaves(item)]
    return [x]


def compare(title, variants, args, rounds, repeat, check=True):
    for _, fn in variants:           # compile and specialise first
        fn(*args)
    ref = variants[0][1](*args)
    for name, fn in variants[1:] if check else ():
        got = fn(*args)
        for a, b in zip(_leaves(ref), _leaves(got)):
            assert np.allclose(a, b, rtol=1e-10, atol=1e-12), f"{name}: gradients differ"
    mem = {name: peak(fn, args) for name, fn in variants}
    times = {name: [] for name, _ in variants}
    for _ in range(rounds):
        for name, fn in variants:
            times[name].append(timed(fn, args, repeat))
    base_t = times[variants[0][0]]
    print(f"\n{title}", flush=True)
    print(f"{'variant':48s} {'peak MB':>9s} {'peak ratio':>11s} {'time s':>8s} "
          f"{'time ratio (range)':>22s}")
    for name, _ in variants:
        r = [t / b for t, b in zip(times[name], base_t)]
        print(f"{name:48s} {mem[name] / 1e6:9.1f} {mem[name] / mem[variants[0][0]]:11.4f} "
              f"{np.median(times[name]):8.3f} {np.median(r):8.2f} ({min(r):.2f}-{max(r):.2f})")
    return mem


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--T", type=int, default=2000)
    ap.add_argument("--only", choices=("rnn", "mlp", "spellings", "hvp", "gradgrad"),
                    default=None)
    ap.add_argument("--T-hvp", type=int, default=500)
    ap.add_argument("--T-gg", type=int, default=500)
    opts = ap.parse_args()
    if opts.only in (None, "rnn"):
        bench_rnn(np.random.default_rng(0), opts)
    if opts.only in (None, "mlp"):
        bench_mlp(np.random.default_rng(1), opts)
    if opts.only in (None, "spellings"):
        bench_spellings(np.random.default_rng(3), opts)
    if opts.only in (None, "hvp"):
        bench_hvp(np.random.default_rng(2), opts)
    if opts.only in (None, "gradgrad"):
        bench_gradgrad(np.random.default_rng(4), opts)


def rnn_loss(Wh, Wx, xs, h):
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + Wx @ xs[t])
    return np.sum(h * h)


def rnn_loss_marked(Wh, Wx, xs, h):
    for t in s2sgrad.checkpointed(range(xs.shape[0])):
        h = np.tanh(Wh @ h + Wx @ xs[t])
    return np.sum(h * h)


def bench_hvp(rng, opts):
    """Second order: hvp (forward over reverse) of the RNN, the loop marked
    ``checkpointed`` (the tangent-carrying drivers keep sqrt(T) snapshots of
    the state and its tangent) against the plain loop; and jvp of
    ``grad(..., checkpoint="sqrt")``."""
    H, B, D, T = 256, 64, 64, opts.T_hvp
    Wh = rng.standard_normal((H, H)) / np.sqrt(H)
    Wx = rng.standard_normal((H, D)) / np.sqrt(D)
    xs = rng.standard_normal((T, D, B))
    h0 = np.zeros((H, B))
    args = (Wh, Wx, xs, h0)
    v = rng.standard_normal((H, H))
    plain = s2sgrad.hvp(rnn_loss, wrt=0)
    marked = s2sgrad.hvp(rnn_loss_marked, wrt=0)
    jg = s2sgrad.jvp(s2sgrad.grad(rnn_loss, wrt=0, checkpoint="sqrt"), wrt=0)
    variants = [
        ("hvp, plain loop", lambda *a: (plain(a, v),)),
        ("hvp, checkpointed(range(T))", lambda *a: (marked(a, v),)),
        ('jvp(grad(checkpoint="sqrt"))', lambda *a: (jg(a, (v,))[1],)),
    ]
    compare(f"hvp of the RNN T={T}, hidden {H}, batch {B}", variants, args,
            opts.rounds, opts.repeat)


g1_default = s2sgrad.grad(rnn, wrt=0)
g1_sqrt = s2sgrad.grad(rnn, wrt=0, checkpoint="sqrt")
g1_binomial = s2sgrad.grad(rnn, wrt=0, checkpoint=s2sgrad.Binomial(snapshots=8))


def norm2_default(Wh, Wx, xs, h):
    return np.sum(g1_default(Wh, Wx, xs, h) ** 2)


def norm2_sqrt(Wh, Wx, xs, h):
    return np.sum(g1_sqrt(Wh, Wx, xs, h) ** 2)


def norm2_binomial(Wh, Wx, xs, h):
    return np.sum(g1_binomial(Wh, Wx, xs, h) ** 2)


def bench_gradgrad(rng, opts):
    """Reverse over reverse: the gradient of the inner gradient's squared
    norm.  The default reverses the inner gradient's code (every step of
    its loop and of its reversal stored); with a schedule on the inner
    gradient its call is one marker whose reverse rule is the checkpointed
    Hessian-vector product (s2sgrad.gradcall)."""
    H, B, D, T = 256, 64, 64, opts.T_gg
    Wh = rng.standard_normal((H, H)) / np.sqrt(H)
    Wx = rng.standard_normal((H, D)) / np.sqrt(D)
    xs = rng.standard_normal((T, D, B))
    h0 = np.zeros((H, B))
    args = (Wh, Wx, xs, h0)
    variants = [("grad(grad(loss)) default", s2sgrad.grad(norm2_default, wrt=0)),
                ('inner checkpoint="sqrt"', s2sgrad.grad(norm2_sqrt, wrt=0)),
                ("inner Binomial(snapshots=8)", s2sgrad.grad(norm2_binomial, wrt=0))]
    # the reference: the default's generic (unspecialised) code (the
    # specialised grad-of-grad of this recurrence read a tape at the wrong
    # rows until s2sgrad.tapes kept reversed loops' states off T+1-row tapes)
    from s2sgrad import api
    old, api.SPECIALIZE = api.SPECIALIZE, "never"
    try:
        want = s2sgrad.grad(norm2_default, wrt=0)(*args)
    finally:
        api.SPECIALIZE = old
    for name, fn in variants:
        ok = np.allclose(fn(*args), want, rtol=1e-9, atol=1e-12 * np.max(np.abs(want)))
        print(f"{name}: {'equals' if ok else 'DIFFERS FROM'} the generic default's gradient")
        assert ok, name
    compare(f"grad of |grad|^2 of the RNN T={T}, hidden {H}, batch {B}", variants, args,
            opts.rounds, opts.repeat, check=False)


def bench_rnn(rng, opts):
    H, B, D, T = 256, 64, 64, opts.T
    Wh = rng.standard_normal((H, H)) / np.sqrt(H)
    Wx = rng.standard_normal((H, D)) / np.sqrt(D)
    xs = rng.standard_normal((T, D, B))
    h0 = np.zeros((H, B))
    args = (Wh, Wx, xs, h0)
    base = s2sgrad.grad(rnn, wrt=(0, 1))
    mem = {}
    probe = peak(base, args)
    variants = [
        ("default (store every step)", base),
        ('checkpoint="sqrt"', s2sgrad.grad(rnn, wrt=(0, 1), checkpoint="sqrt")),
        ("Binomial(snapshots=8)", s2sgrad.grad(rnn, wrt=(0, 1),
                                               checkpoint=s2sgrad.Binomial(snapshots=8))),
        ("Budget(bytes=baseline peak / 2)", s2sgrad.grad(
            rnn, wrt=(0, 1), checkpoint=s2sgrad.Budget(bytes=probe / 2))),
        ("checkpointed(range(T), snapshots=8)", s2sgrad.grad(rnn_marked, wrt=(0, 1))),
    ]
    mem = compare(f"RNN T={T}, hidden {H}, batch {B}, input {D}", variants, args,
                  opts.rounds, opts.repeat)
    from s2sgrad.schedules import binomial_cost
    print(f"binomial schedule, T={T}, s=8: Griewank's minimum {binomial_cost(T, 8)} forward "
          f"steps ({binomial_cost(T, 8) / T:.2f} per step)")
    del mem


def bench_mlp(rng, opts):
    W, E, L, B = 128, 512, 16, 2048
    W1s = rng.standard_normal((L, E, W)) / np.sqrt(W)
    W2s = rng.standard_normal((L, W, E)) / np.sqrt(E) * 0.5
    h = rng.standard_normal((W, B))
    margs = (W1s, W2s, h)
    variants = [
        ("default", s2sgrad.grad(mlp, wrt=(0, 1))),
        ("@checkpoint block", s2sgrad.grad(mlp_ckpt, wrt=(0, 1))),
        ('@checkpoint(policy="save_dots")', s2sgrad.grad(mlp_dots, wrt=(0, 1))),
        ("checkpointed(range(L)) over blocks", s2sgrad.grad(mlp_marked, wrt=(0, 1))),
        ("checkpointed(range(L)) over @checkpoint blocks",
         s2sgrad.grad(mlp_marked_ckpt, wrt=(0, 1))),
    ]
    compare(f"residual MLP, {L} blocks, {W}->{E}->{W}, batch {B}", variants, margs,
            opts.rounds, opts.repeat)
    del variants
    largs = (list(W1s), list(W2s), h)
    variants = [
        ("default, weights in lists W1s[i]", s2sgrad.grad(mlp_list, wrt=(0, 1))),
        ("@checkpoint block, weights in lists", s2sgrad.grad(mlp_list_ckpt, wrt=(0, 1))),
    ]
    compare(f"residual MLP, weights in Python lists, {L} blocks, {W}->{E}->{W}, batch {B}",
            variants, largs, opts.rounds, opts.repeat)


def bench_spellings(rng, opts):
    """The block ``h + tanh(h @ W1) @ W2`` written out through lists of
    weights (unrolled by the compiler), at three shapes."""
    for L, W, E, B in ((16, 128, 512, 2048), (8, 256, 1024, 1024), (16, 256, 256, 2048)):
        W1s = [rng.standard_normal((W, E)) / np.sqrt(W) for _ in range(L)]
        W2s = [rng.standard_normal((E, W)) / np.sqrt(E) * 0.5 for _ in range(L)]
        h = rng.standard_normal((B, W))
        variants = [
            ("default, zip(W1s, W2s)", s2sgrad.grad(mlp_zip, wrt=(0, 1))),
            ("@checkpoint block, zip(W1s, W2s)", s2sgrad.grad(mlp_zip_ckpt, wrt=(0, 1))),
        ]
        mem = compare(f"residual MLP (unrolled), {L} blocks, {W}->{E}->{W}, batch {B}",
                      variants, (W1s, W2s, h), opts.rounds, opts.repeat)
        # what any per-block checkpoint must hold when the backward sweep
        # starts: the L - 1 stored block inputs (the first is the caller's),
        # the recomputed block's tanh output and its cotangent (B x E each:
        # d tanh needs both at once) and the cotangent of h
        item = h.itemsize
        floor = ((L - 1) * B * W + 2 * B * E + B * W) * item
        base = mem[variants[0][0]]
        print(f"  floor of per-block checkpointing: {L - 1} stored inputs {(L - 1) * B * W * item / 1e6:.1f} MB"
              f" + tanh output and its cotangent {2 * B * E * item / 1e6:.1f} MB + h's cotangent "
              f"{B * W * item / 1e6:.1f} MB = {floor / 1e6:.1f} MB = {floor / base:.3f} of the default")
        if L == 16 and W == 128:
            params = list(zip(W1s, W2s))
            variants = [
                ("default, list of (W1, W2) pairs", s2sgrad.grad(mlp_pairs, wrt=0)),
                ("@checkpoint block, list of pairs", s2sgrad.grad(mlp_pairs_ckpt, wrt=0)),
            ]
            compare(f"residual MLP (unrolled), {L} pairs, {W}->{E}->{W}, batch {B}",
                    variants, (params, h), opts.rounds, opts.repeat)


if __name__ == "__main__":
    main()
