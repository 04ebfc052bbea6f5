"""Checkpointing (s2sgrad.schedules, s2sgrad.remat): schedules against
Griewank's formula, and gradients with every schedule equal to the stored
ones -- on hand-written loops and on the fuzzer's loop programs."""
import warnings

import numpy as np
import pytest

import s2sgrad
from s2sgrad import Binomial, Budget, grad, value_and_grad, vjp
from s2sgrad.schedules import (Sqrt, _plan, binomial_cost, checkpoint_backward,
                               checkpoint_forward)

from .test_fuzz import flat, generate, load, make_args

SCHEDULES = ["sqrt", Binomial(snapshots=1), Binomial(snapshots=3), Binomial(snapshots=8),
             Budget(bytes=2000)]


# ---------------------------------------------------------------- the binomial formula


def _dp_cost(L, S):
    """Minimal forward steps to reverse l steps with s snapshots, by dynamic
    programming over the first split (the definition the formula solves)."""
    F = {}
    for s in range(1, S + 1):
        for l in range(1, L + 1):
            if l == 1:
                F[l, s] = 0
            elif s == 1:
                F[l, s] = l * (l - 1) // 2
            else:
                F[l, s] = min(j + F[l - j, s - 1] + F[j, s] for j in range(1, l))
    return F


def test_binomial_cost_is_the_dp_minimum():
    F = _dp_cost(60, 5)
    for (l, s), v in F.items():
        assert binomial_cost(l, s) == v, (l, s)


class _Counter:
    """A loop whose state is its iteration number, run by the drivers."""

    def __init__(self):
        self.recorded = []

    def segment(self, steps, k):
        for t in steps:
            assert t == k
            k += 1
        return (k,)

    def step(self, steps, k, bar):
        for t in steps:
            assert t == k
            self.recorded.append(t)
            k += 1
        return (bar + len(steps),)


@pytest.mark.parametrize("T,s", [(1, 3), (2, 1), (10, 2), (57, 3), (200, 4), (1000, 8),
                                 (2000, 8), (333, 6)])
def test_binomial_schedule_count_is_griewanks(T, s):
    c = _Counter()
    k, tape = checkpoint_forward(c.segment, range(T), (0,), Binomial(s))
    assert k == T
    forward = tape.stats["advances"]
    (bar,) = checkpoint_backward(tape, c.step, (0,), ())
    assert bar == T and c.recorded == list(range(T - 1, -1, -1))   # each step once, reversed
    recomputed = tape.stats["advances"] - forward
    last = _plan(Binomial(s), T, ())[0][-1]
    # Griewank's count includes the first sweep up to the last snapshot and
    # the reversal from there; ours runs that sweep on to T (the value)
    assert recomputed == binomial_cost(T, s) - last
    assert tape.stats["max_snaps"] <= s


@pytest.mark.parametrize("T", [1, 7, 100, 2000])
def test_sqrt_schedule_recomputes_once(T):
    c = _Counter()
    k, tape = checkpoint_forward(c.segment, range(T), (0,), Sqrt())
    forward = tape.stats["advances"]
    checkpoint_backward(tape, c.step, (0,), ())
    L = tape.seg_len
    # one extra forward pass: the segments recorded once each, last first
    assert forward == T and tape.stats["advances"] == T and len(c.recorded) == T
    assert c.recorded == sorted(range(T), key=lambda t: (-(t // L), t))
    assert len(tape.snaps) <= int(np.sqrt(T)) + 2


class _Stopping(_Counter):
    """A loop that stops by itself after ``n`` iterations (its state counts)."""

    def __init__(self, n):
        super().__init__()
        self.n = n

    def segment(self, steps, k):
        for _ in steps:
            if k >= self.n:
                break
            k += 1
        return (k,)

    def step(self, steps, k, bar):
        assert k == 0                   # a step counts its own iterations
        self.recorded += list(reversed(steps))
        return (bar + len(steps),)


@pytest.mark.parametrize("n,s", [(0, 4), (1, 4), (13, 4), (500, 8), (1000, 2)])
def test_online_schedule(n, s):
    c = _Stopping(n)
    k, tape = checkpoint_forward(c.segment, None, (0,), Binomial(s), count_at=0)
    assert k == n and tape.length == n
    (bar,) = checkpoint_backward(tape, c.step, (0,), ())
    assert bar == n and c.recorded == list(range(n - 1, -1, -1))
    assert tape.stats["max_snaps"] <= s
    # the documented bound: T + s_on * binomial_cost(2d, s - s_on + 1)
    s_on = -(-s // 2)
    d = tape.seg_len
    assert len(tape.snaps) <= s_on and d <= max(1, 2 * n / s_on)
    assert tape.stats["advances"] <= n + s_on * binomial_cost(2 * d, s - s_on + 1)


class _Drawing:
    """A loop carrying a random generator: each step draws a number."""

    def __init__(self):
        self.drawn, self.replayed = {}, {}

    def segment(self, steps, k, rng):
        for t in steps:
            self.drawn.setdefault(t, []).append(rng.random())
            k += 1
        return (k, rng)

    def step(self, steps, k, rng, bar):
        for t in steps:
            self.replayed[t] = rng.random()
        return (bar + len(steps),)


@pytest.mark.parametrize("make", [lambda: np.random.default_rng(7),
                                  lambda: np.random.RandomState(7)], ids=["Generator",
                                                                          "RandomState"])
@pytest.mark.parametrize("schedule", [Sqrt(), Binomial(3), Budget(bytes=10)], ids=str)
def test_random_draws_are_replayed_by_the_drivers(schedule, make):
    c = _Drawing()
    k, rng, tape = checkpoint_forward(c.segment, range(40), (0, make()), schedule)
    first = {t: d[0] for t, d in c.drawn.items()}
    checkpoint_backward(tape, c.step, (0,), ())
    assert all(len(set(d)) == 1 for d in c.drawn.values())     # every recomputation replays
    assert c.replayed == first and len(first) == 40
    assert rng.random() == make().random(41)[-1]               # the caller's rng ran on once


# ---------------------------------------------------------------- random draws, compiled

RNG_SCHEDULES = SCHEDULES + [Binomial(snapshots=2)]
NOISE = np.random.default_rng(11)          # a global generator, read live


def noisy_rnn(w, xs, rng):
    h = xs[0]
    for t in range(xs.shape[0]):
        h = np.tanh(w * h + xs[t]) + 0.3 * rng.normal(size=h.shape)
    return np.sum(h * h)


def noisy_global(w, xs):
    h = xs[0]
    for t in range(xs.shape[0]):
        h = np.sin(w * h) + NOISE.uniform(-0.5, 0.5, size=h.shape) * xs[t]
    return np.sum(h)


def noisy_legacy(w, xs):
    h = xs[0]
    for t in range(xs.shape[0]):
        h = np.tanh(w * h + xs[t]) * np.random.uniform(0.5, 1.5, size=h.shape)
    return np.sum(h)


def noisy_while(w, xs, rng):
    h = xs[0]
    n = 0
    while np.sum(h * h) < 40.0 and n < 30:          # the trip count depends on the draws
        h = h * w + rng.normal(0.5, 0.2, size=h.shape)
        n += 1
    return np.sum(h)


def noisy_break(w, xs, rng):
    h = xs[0]
    for t in range(25):
        h = np.tanh(h * w) + rng.standard_normal(h.shape) * 0.5
        if np.sum(h) > 1.0 + rng.random():
            break
    return np.sum(h * h)


@s2sgrad.checkpoint
def noisy_block(W, h, rng):
    z = W @ h
    keep = rng.random(z.shape) < 0.8                  # dropout
    return h + np.tanh(z * keep / 0.8)


def dropout_mlp(Ws, h, rng):
    for i in range(Ws.shape[0]):
        h = noisy_block(Ws[i], h, rng)
    return np.sum(h ** 2)


def _generator_state(g):
    return repr(g.bit_generator.state if hasattr(g, "bit_generator") else g.get_state())


def _draw_cases():
    r = np.random.default_rng(2)
    w, xs = 0.8, r.standard_normal((17, 3))
    Ws, h = r.standard_normal((3, 4, 4)) * 0.5, r.standard_normal((4, 5))
    return [
        ("rnn", noisy_rnn, lambda: (w, xs, np.random.default_rng(5)), 2),
        ("global", noisy_global, lambda: (w, xs), None),
        ("legacy", noisy_legacy, lambda: (w, xs), None),
        ("while", noisy_while, lambda: (1.1, xs, np.random.default_rng(6)), 2),
        ("break", noisy_break, lambda: (0.9, xs, np.random.default_rng(8)), 2),
        ("helper", dropout_mlp, lambda: (Ws, h, np.random.default_rng(9)), 2),
    ]


def _generator_of(name, args):
    if name == "global":
        return NOISE
    if name == "legacy":
        return np.random.mtrand._rand
    return args[-1]


def _seed(name):
    if name == "global":
        NOISE.bit_generator.state = np.random.default_rng(11).bit_generator.state
    if name == "legacy":
        np.random.seed(3)


@pytest.mark.parametrize("name,f,make,nwrt", _draw_cases(), ids=[c[0] for c in _draw_cases()])
def test_draws_in_checkpointed_regions_are_replayed(name, f, make, nwrt):
    wrt = (0,)
    _seed(name)
    args = make()
    plain_value = f(*args)                            # one plain call: value and final state
    plain_state = _generator_state(_generator_of(name, args))
    _seed(name)
    args = make()
    ref = value_and_grad(f, wrt=wrt)(*args)
    assert ref[0] == plain_value
    for sched in RNG_SCHEDULES + [None]:          # (None: the helper's own)
        g = value_and_grad(f, wrt=wrt, checkpoint=sched)
        _seed(name)
        args = make()
        v, gs = g(*args)
        assert "checkpoint_forward(" in g.source or sched is None, (name, sched)
        assert v == plain_value, (name, sched)        # the same draws, in the same order
        _same(gs, ref[1], np.float64)                 # ... replayed by the recomputation
        assert _generator_state(_generator_of(name, args)) == plain_state, (name, sched)
    if name == "rnn":                                 # vjp: the pullback replays too
        out, pb = vjp(f, wrt=0, checkpoint=Binomial(snapshots=2))(*make())
        _same(pb(1.0), pb(1.0), np.float64)
        _same(pb(1.0), ref[1][0] if isinstance(ref[1], tuple) else ref[1], np.float64)


def test_unseeded_generator_inside_a_loop_is_not_checkpointed():
    def f(w, xs):
        h = xs[0]
        for t in range(xs.shape[0]):
            rng = np.random.default_rng()
            h = np.tanh(w * h) + 0.0 * rng.random()
        return np.sum(h)

    def seeded(w, xs):
        h = xs[0]
        for t in range(xs.shape[0]):
            rng = np.random.default_rng(t)            # seeded: recomputed exactly
            h = np.tanh(w * h) + rng.random()
        return np.sum(h)
    xs = np.random.default_rng(0).standard_normal((6, 3))
    g = grad(f, checkpoint="sqrt")
    g(0.5, xs)
    assert "checkpoint_forward(" not in g.source     # stored, not recomputed
    g = grad(seeded, checkpoint=Binomial(snapshots=2))
    _same(g(0.5, xs), grad(seeded)(0.5, xs), np.float64)
    assert "checkpoint_forward(" in g.source


# ---------------------------------------------------------------- gradients


def rnn(Wh, Wx, xs, h):
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + Wx @ xs[t])
    return np.sum(h)


def rnn_marked(Wh, Wx, xs, h):
    for t in s2sgrad.checkpointed(range(xs.shape[0]), snapshots=3):
        h = np.tanh(Wh @ h + Wx @ xs[t])
    return np.sum(h)


def _rnn_args(dtype=np.float64, T=23):
    rng = np.random.default_rng(1)
    return (rng.standard_normal((5, 5)).astype(dtype) * 0.4,
            rng.standard_normal((5, 3)).astype(dtype), rng.standard_normal((T, 3, 4)).astype(dtype),
            rng.standard_normal((5, 4)).astype(dtype))


def _same(a, b, dtype):
    tol = 8 * np.finfo(dtype).eps
    for x, y in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
        np.testing.assert_allclose(x, y, rtol=tol, atol=tol * np.max(np.abs(y)))
        assert np.asarray(x).dtype == np.asarray(y).dtype


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("schedule", SCHEDULES, ids=str)
def test_rnn_every_schedule(schedule, dtype):
    args = _rnn_args(dtype)
    ref = grad(rnn, wrt=(0, 1, 3))(*args)
    g = grad(rnn, wrt=(0, 1, 3), checkpoint=schedule)
    _same(g(*args), ref, dtype)
    assert "checkpoint_forward(" in g.source and "_stack.append" not in \
        g.source.split("def h_step")[0]
    v, gs = value_and_grad(rnn, wrt=(0, 1), checkpoint=schedule)(*args)
    assert np.isclose(v, rnn(*args))
    _same(gs, ref[:2], dtype)


def test_marked_loop_and_plain_python():
    args = _rnn_args()
    assert rnn_marked(*args) == rnn(*args)          # a plain iterator as Python
    g = grad(rnn_marked, wrt=(0, 1))
    _same(g(*args), grad(rnn, wrt=(0, 1))(*args), np.float64)
    assert "Binomial(snapshots=3)" in g.source and "def h_segment(" in g.source


def test_vjp_pullback_twice():
    args = _rnn_args()
    out, pb = vjp(rnn, wrt=(0, 1), checkpoint=Binomial(snapshots=2))(*args)
    out0, pb0 = vjp(rnn, wrt=(0, 1))(*args)
    assert out == out0
    _same(pb(1.0), pb0(1.0), np.float64)
    _same(pb(2.0), pb0(2.0), np.float64)                # the tape is only read


def loop_features(T, x, w):
    acc = 0.0
    ys = []
    for t in range(T):
        if np.sum(x) > 0:
            x = np.sin(w * x) + 0.1 * t
        else:
            x = np.cos(x) * w
        for k in range(2):
            x = x * 0.9 + w[k]
        ys.append(x)
        acc = acc + np.sum(x ** 2)
    return acc + np.sum(np.stack(ys))


def while_loop(x, w):
    n = 0
    while np.sum(x ** 2) < 50.0 and n < 40:
        x = x * w + 0.5
        n += 1
    return np.sum(x)


def break_loop(x, w):
    for t in range(30):
        x = np.tanh(x * w) + 1.0
        if np.sum(x) > 9.0 + 0.1 * t:
            break
    return np.sum(x * x)


@pytest.mark.parametrize("schedule", SCHEDULES, ids=str)
def test_branches_nested_loops_lists_while_break(schedule):
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal(4), rng.uniform(0.5, 1.2, 4)
    for f, args, wrt in [(loop_features, (9, x, w), (1, 2)), (while_loop, (x, w), (0, 1)),
                         (break_loop, (x, w), (0, 1))]:
        ref = grad(f, wrt=wrt)(*args)
        g = grad(f, wrt=wrt, checkpoint=schedule)
        _same(g(*args), ref, np.float64)
        assert "checkpoint_forward(" in g.source, f.__name__


@s2sgrad.checkpoint
def block(W1, W2, h):
    return h + W2 @ np.tanh(W1 @ h)


def mlp(W1s, W2s, h):
    for i in range(W1s.shape[0]):
        h = block(W1s[i], W2s[i], h)
    return np.sum(h ** 2)


def mlp_unrolled(W1, W2, h):
    h = block(W1, W2, h)
    h = block(W2.T, W1.T, h)
    return np.sum(np.sin(h))


def test_checkpointed_helper():
    rng = np.random.default_rng(4)
    W1s, W2s, h = rng.standard_normal((3, 6, 4)), rng.standard_normal((3, 4, 6)), \
        rng.standard_normal((4, 5))
    assert block(W1s[0], W2s[0], h).shape == h.shape      # plain Python
    plain = block.__wrapped__

    def mlp_plain(W1s, W2s, h):
        for i in range(W1s.shape[0]):
            h = plain(W1s[i], W2s[i], h)
        return np.sum(h ** 2)

    g = grad(mlp, wrt=(0, 1, 2))
    _same(g(W1s, W2s, h), grad(mlp_plain, wrt=(0, 1, 2))(W1s, W2s, h), np.float64)
    assert "Remat(policy=None)" in g.source
    W1, W2 = rng.standard_normal((4, 4)), rng.standard_normal((4, 4))
    s2sgrad.check_grads(mlp_unrolled, (W1, W2, h), wrt=(0, 1, 2), modes=("rev", "fwd"))
    assert "def block_step(" in g.source and "block_tape" in g.source
    # save_dots: the products are kept by the forward sweep, not recomputed
    dots = s2sgrad.checkpoint(policy="save_dots")(plain)

    def mlp_dots(W1s, W2s, h):
        for i in range(W1s.shape[0]):
            h = dots(W1s[i], W2s[i], h)
        return np.sum(h ** 2)
    gd = grad(mlp_dots, wrt=(0, 1, 2))
    _same(gd(W1s, W2s, h), grad(mlp_plain, wrt=(0, 1, 2))(W1s, W2s, h), np.float64)

    def step_of(g):
        src = g.source.split("def block_step(")[1].split("checkpoint_backward(")[0]
        return "\n".join(ln for ln in src.splitlines() if not ln.strip().startswith("#"))
    # the step recomputes tanh from the kept W1 @ h; it recomputes no product
    assert "np.tanh(" in step_of(gd) and \
        step_of(gd).count(" @ ") == step_of(g).count(" @ ") - 1
    assert "Remat(policy='save_dots')" in gd.source
    with pytest.raises(ValueError):
        s2sgrad.checkpoint(policy="save_everything")(plain)


def test_composes_with_forward_mode_and_grad_of_grad():
    args = _rnn_args()
    v = tuple(np.ones_like(a) for a in args[:2])
    # jvp/hvp/hessian of a function with a marked loop and a checkpointed helper
    primal, tangent = s2sgrad.jvp(rnn_marked, wrt=(0, 1))(args, v)
    primal0, tangent0 = s2sgrad.jvp(rnn, wrt=(0, 1))(args, v)
    assert np.isclose(primal, primal0) and np.isclose(tangent, tangent0)
    hv = s2sgrad.hvp(rnn_marked, wrt=0)(args, args[0])
    np.testing.assert_allclose(hv, s2sgrad.hvp(rnn, wrt=0)(args, args[0]), rtol=1e-10)

    def scalar(a, xs):
        h = xs[0]
        for t in s2sgrad.checkpointed(range(xs.shape[0]), snapshots=2):
            h = np.sin(a * h) + xs[t]
        return np.sum(h)
    xs = np.random.default_rng(5).standard_normal((6, 3))
    gg = grad(grad(scalar, checkpoint="sqrt"))(0.7, xs)
    gg0 = grad(grad(scalar))(0.7, xs)
    assert np.isclose(gg, gg0, rtol=1e-12)
    J = s2sgrad.jacobian(grad(scalar, checkpoint="sqrt"))(0.7, xs)
    H = s2sgrad.hessian(scalar)(0.7, xs)
    assert np.isclose(J, gg0) and np.isclose(H, gg0)


# ---------------------------------------------------------------- fuzzed loop programs


def first_differentiable(specs, args):
    """The index of a fuzzed program's first argument that can be
    differentiated (an array or a float); skips the test when there is none."""
    kinds = [k for _, k, _, _ in specs]
    wrt = [i for i, k in enumerate(kinds) if k not in ("int", "idx", "default")]
    if not wrt or not isinstance(args[wrt[0]], (np.ndarray, float)):
        pytest.skip("nothing to differentiate")
    return wrt[0]


def _loop_programs(n):
    out, seed = [], 0
    while len(out) < n and seed < 400:
        src, specs, feats = generate(seed, control=True)
        seed += 1
        if "for " not in src and "while " not in src:
            continue
        out.append((seed - 1, src, specs))
    return out


@pytest.mark.parametrize("seed,src,specs", _loop_programs(24), ids=lambda x: str(x)[:8])
def test_fuzzed_loop_programs_every_schedule(seed, src, specs):
    f = load(src)
    args = make_args(specs, seed)
    kinds = [k for _, k, _, _ in specs]
    wrt = tuple(i for i, k in enumerate(kinds) if k not in ("int", "idx", "default"))
    if not wrt:
        pytest.skip("nothing to differentiate")
    for cast in (np.float64, np.float32):
        a = [x.astype(cast) if isinstance(x, np.ndarray) and x.dtype.kind == "f" else x
             for x in args]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                ref = grad(f, wrt=wrt)(*a)
            except Exception as exc:     # not a program this test is about
                pytest.skip(f"no gradient: {exc}")
            for sched in SCHEDULES:
                got = grad(f, wrt=wrt, checkpoint=sched)(*a)
                for x, y in zip(got, ref):
                    fx, fy = flat(x), flat(y)
                    eps = np.finfo(cast).eps
                    assert np.allclose(fx, fy, rtol=64 * eps,
                                       atol=64 * eps * (1 + np.max(np.abs(fy), initial=0)),
                                       equal_nan=True), (sched, cast)


# ---------------------------------------------------------------- Budget: the record measured


def wide_body(h, v, w, T):
    for t in range(T):
        z = np.tanh(np.outer(h, v) + 0.01 * t)        # 8 x 600 per step, from a state of 8
        h = np.sin(z @ w) + h * 0.5
    return np.sum(h)


def test_budget_measures_what_a_step_stores():
    import tracemalloc
    rng = np.random.default_rng(0)
    h, v, w = rng.standard_normal(8), rng.standard_normal(600) * 0.1, \
        rng.standard_normal(600) * 0.05
    ref = grad(wide_body, wrt=(0, 1, 2))(h, v, w, 300)
    budget = 400_000            # the default stores ~300 x 115 kB; sqrt's segments ~2 MB
    g = grad(wide_body, wrt=(0, 1, 2), checkpoint=Budget(bytes=budget))
    for _ in range(3):          # compiled, then specialised to these shapes
        got = g(h, v, w, 300)
    _same(got, ref, np.float64)
    assert "Budget(bytes=400000, record=" in g.source
    record = int(g.source.split("record=")[1].split(")")[0])
    assert record > 50 * h.nbytes                     # a step stores far more than the state
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    g(h, v, w, 300)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    assert peak <= budget + record, peak              # (a step's working values besides)
    from s2sgrad.schedules import _budget_schedule
    chosen = _budget_schedule(Budget(bytes=budget, record=record), 300, (h,))
    assert isinstance(chosen, Binomial)               # the old 6-states guess chose "sqrt"
    assert isinstance(_budget_schedule(Budget(bytes=budget), 300, (h,)), Sqrt)


# ---------------------------------------------------------------- memory of checkpointed blocks


def _fd_dir(f, args, k, v, eps=1e-6):
    """The central difference of scalar f along v in argument k."""
    hi = list(args)
    lo = list(args)
    hi[k] = args[k] + eps * v
    lo[k] = args[k] - eps * v
    return (f(*hi) - f(*lo)) / (2 * eps)


def _plain_block(W1, W2, h):
    return h + W2 @ np.tanh(W1 @ h)


def mlp_plain_loop(W1s, W2s, h):
    s = np.sum(W1s ** 2) * 0.01                   # W1s read outside the loop too
    for i in range(W1s.shape[0]):
        h = _plain_block(W1s[i], W2s[i], h)
    return np.sum(np.sin(h)) + s


def mlp_marked_helpers(W1s, W2s, h):
    s = np.sum(W1s ** 2) * 0.01
    for i in s2sgrad.checkpointed(range(W1s.shape[0])):
        h = block(W1s[i], W2s[i], h)
    return np.sum(np.sin(h)) + s


def mlp_marked_plain(W1s, W2s, h):
    s = np.sum(W1s ** 2) * 0.01
    for i in s2sgrad.checkpointed(range(W1s.shape[0]), snapshots=2):
        h = _plain_block(W1s[i], W2s[i], h)
    return np.sum(np.sin(h)) + s


def _mlp_args(L=5, W=4, E=7, B=3, seed=7):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((L, E, W)) * 0.5, rng.standard_normal((L, W, E)) * 0.5,
            rng.standard_normal((W, B)))


@pytest.mark.parametrize("f", [mlp_marked_helpers, mlp_marked_plain], ids=lambda f: f.__name__)
def test_checkpointed_loop_steps_accumulate_weight_gradients_in_place(f):
    # the step function of a checkpointed loop adds Ws[i]'s gradient into the
    # accumulator it was handed (acc[i] += g), no whole-array copy per step;
    # and a @checkpoint helper inside a checkpointed loop is specialised too
    args = _mlp_args()
    ref = grad(mlp_plain_loop, wrt=(0, 1, 2))(*args)
    g = value_and_grad(f, wrt=(0, 1, 2))
    for _ in range(2):                              # compiled, then specialised
        val, got = g(*args)
    assert np.isclose(val, mlp_plain_loop(*args), rtol=1e-13)
    _same(got, ref, np.float64)
    rng = np.random.default_rng(0)
    for k in range(3):
        v = rng.standard_normal(args[k].shape)
        assert np.isclose(np.sum(got[k] * v), _fd_dir(mlp_plain_loop, args, k, v),
                          rtol=1e-6, atol=1e-8)
    step = g.source.split("def h_step(")[1]
    assert "W1s_bar[" in step and "] += " in step, g.source
    assert "W1s_bar.copy(" not in step and "W2s_bar.copy(" not in step, g.source
    assert "unbroadcast(" not in g.source and "index_add(" not in g.source, g.source
    # the accumulator handed in is the function's own zeros, not an adjoint
    # read elsewhere: the caller's arrays are unchanged
    before = [a.copy() for a in args]
    g(*args)
    for a, b in zip(args, before):
        assert np.array_equal(a, b)


def _traced_peak(fn, args):
    import tracemalloc
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    fn(*args)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak


def mlp_default(W1s, W2s, h):
    for i in range(W1s.shape[0]):
        h = _plain_block(W1s[i], W2s[i], h)
    return np.sum(h)


def mlp_ckpt(W1s, W2s, h):
    for i in range(W1s.shape[0]):
        h = block(W1s[i], W2s[i], h)
    return np.sum(h)


@s2sgrad.checkpoint(policy="save_dots")
def block_dots(W1, W2, h):
    return h + W2 @ np.tanh(W1 @ h)


def mlp_dots(W1s, W2s, h):
    for i in range(W1s.shape[0]):
        h = block_dots(W1s[i], W2s[i], h)
    return np.sum(h)


def test_checkpointed_blocks_peak_memory():
    # a 16-block residual MLP whose activations (not weights) fill the
    # memory: tracemalloc's peak (NumPy reports its buffers) of one gradient
    # call, deterministic, so its ratios are asserted (README "Memory")
    rng = np.random.default_rng(3)
    L, W, E, B = 16, 16, 64, 512
    args = (rng.standard_normal((L, E, W)) / 4, rng.standard_normal((L, W, E)) / 16,
            rng.standard_normal((W, B)))
    fns = {name: grad(f, wrt=(0, 1)) for name, f in
           [("default", mlp_default), ("ckpt", mlp_ckpt), ("dots", mlp_dots)]}
    ref = fns["default"](*args)
    for fn in fns.values():
        _same(fn(*args), ref, np.float64)
        _same(fn(*args), ref, np.float64)          # specialised
    peak = {name: _traced_peak(fn, args) for name, fn in fns.items()}
    # each block's input kept (1/5 of what the default keeps per block) and
    # one block's recomputation besides; the weight gradients are added
    # after the backward loop has freed the inputs (0.25; 0.33 before)
    assert peak["ckpt"] <= 0.27 * peak["default"], peak
    # save_dots keeps W1 @ h (needed for tanh') in place of tanh's output:
    # never more than the default (within 1 %: since perf-loops9 the default
    # computes its states in a tape of n + 1 rows and frees a step's
    # temporaries in the step, 6.90 -> 6.38 MB, level with save_dots' 6.40)
    assert peak["dots"] <= 1.01 * peak["default"], peak
    assert "W1s_bar.copy(" not in fns["default"].source


def mlp_shared_rows(W1s, W2s, h):
    for i in range(6):                            # more steps than rows
        h = block(W1s[i % 2], W2s[i % 2], h)
    return np.sum(h)


def mlp_shared_rows_plain(W1s, W2s, h):
    for i in range(6):
        h = _plain_block(W1s[i % 2], W2s[i % 2], h)
    return np.sum(h)


def mlp_list_ckpt(W1s, W2s, h):
    for i in range(len(W1s)):
        h = block(W1s[i], W2s[i], h)
    return np.sum(h)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_stacked_weight_gradients_are_added_after_the_backward_loop(dtype):
    # Ws[i]'s gradient of a loop over @checkpoint blocks: the rows are kept
    # (rows.append((i, g))) while the loop frees the stored block inputs and
    # added into zeros after it (add_rows), not into a whole Ws_bar
    # allocated before the loop -- the same numbers
    rng = np.random.default_rng(5)
    L, W, E, B = 4, 3, 5, 16                      # an input is larger than a row
    args = tuple(a.astype(dtype) for a in (rng.standard_normal((L, E, W)) / 2,
                                           rng.standard_normal((L, W, E)) / 2,
                                           rng.standard_normal((W, B))))
    ref = grad(mlp_default, wrt=(0, 1, 2))(*args)
    g = value_and_grad(mlp_ckpt, wrt=(0, 1, 2))
    for _ in range(2):                              # compiled, then specialised
        val, got = g(*args)
    assert np.isclose(val, mlp_default(*args), rtol=1e-5 if dtype == np.float32 else 1e-13)
    _same(got, ref, dtype)
    assert "W1s_bar_rows.append((" in g.source and "add_rows(W1s_bar_rows, W1s)" in g.source, \
        g.source
    assert "np.zeros_like(W1s)" not in g.source
    if dtype == np.float64:
        v = np.random.default_rng(1).standard_normal(args[0].shape)
        assert np.isclose(np.sum(got[0] * v), _fd_dir(mlp_default, args, 0, v),
                          rtol=1e-6, atol=1e-8)
    # more steps than rows (a row written three times): accumulated in place
    ref = grad(mlp_shared_rows_plain, wrt=(0, 1, 2))(*args)
    g = grad(mlp_shared_rows, wrt=(0, 1, 2))
    _same(g(*args), ref, dtype)
    _same(g(*args), ref, dtype)
    assert "add_rows(" not in g.source and "W1s_bar[" in g.source, g.source


@s2sgrad.checkpoint
def _sum_cell(w, h):
    return w + h


def rows_shared_with_cotangent(Ws, h):
    for i in range(Ws.shape[0]):
        h = np.sin(_sum_cell(Ws[i], h))
    return np.sum(h * h)


def test_deferred_row_that_is_also_the_carried_cotangent():
    # the step returns one buffer as Ws[i]'s adjoint and as h's: the row kept
    # in the list is the cotangent the loop carries on with, so nothing may
    # write into it afterwards
    rng = np.random.default_rng(8)
    Ws, h = rng.standard_normal((4, 6, 5)) * 0.4, rng.standard_normal((6, 5)) * 0.4
    g = grad(rows_shared_with_cotangent, wrt=(0, 1))
    ref = g(Ws, h)
    got = g(Ws, h)
    _same(got, ref, np.float64)
    assert "add_rows(" in g.source, g.source
    for k in range(2):
        v = rng.standard_normal((Ws, h)[k].shape)
        assert np.isclose(np.sum(got[k] * v), _fd_dir(rows_shared_with_cotangent, (Ws, h), k, v),
                          rtol=1e-6, atol=1e-9)


def test_first_list_weight_gradient_is_taken_without_a_copy():
    # the adjoint of a list element W1s[i] starts as the first adjoint written
    # into it; a fresh product nothing else reads is taken as it is
    rng = np.random.default_rng(6)
    args = ([rng.standard_normal((5, 3)) for _ in range(3)],
            [rng.standard_normal((3, 5)) for _ in range(3)], rng.standard_normal((3, 16)))
    stacked = (np.stack(args[0]), np.stack(args[1]), args[2])
    ref = grad(mlp_default, wrt=(0, 1, 2))(*stacked)
    g = grad(mlp_list_ckpt, wrt=(0, 1, 2))
    for _ in range(2):
        got = g(*args)
    _same((np.stack(got[0]), np.stack(got[1]), got[2]), ref, np.float64)
    assert "if W1s_0_bar is None:" in g.source and ".astype(" not in g.source, g.source
    # the returned gradients are distinct arrays, not the caller's
    ids = {id(a) for a in got[0] + got[1]} | {id(a) for a in args[0] + args[1]}
    assert len(ids) == 12


# ---------------------------------------------------------------- derivatives of derivatives


def scalar_marked(a, xs):
    h = xs[0]
    for t in s2sgrad.checkpointed(range(xs.shape[0]), snapshots=2):
        h = np.sin(a * h) + xs[t]
    return np.sum(h)


def scalar_plain(a, xs):
    h = xs[0]
    for t in range(xs.shape[0]):
        h = np.sin(a * h) + xs[t]
    return np.sum(h)


def test_second_order_through_checkpointed_regions_against_finite_differences():
    # hvp / grad(grad) / hessian / jvp(grad) of functions with @checkpoint
    # helpers and checkpointed loops: the inner derivative is reversed with
    # stacks (not checkpointed), the outer one may checkpoint; every number
    # is compared with central differences of the first derivative
    args = _mlp_args(L=3, W=3, E=5, B=2, seed=11)
    rng = np.random.default_rng(2)
    g1 = grad(mlp_plain_loop, wrt=0)
    for f in (mlp_marked_helpers, mlp_marked_plain):
        assert np.isclose(f(*args), mlp_plain_loop(*args), rtol=1e-13)
        v = rng.standard_normal(args[0].shape)
        hv = s2sgrad.hvp(f, wrt=0)(args, v)
        fd = (g1(args[0] + 1e-6 * v, *args[1:]) - g1(args[0] - 1e-6 * v, *args[1:])) / 2e-6
        np.testing.assert_allclose(hv, fd, rtol=1e-5, atol=1e-7)
        # grad of a function that takes grad inside: the gradient's squared norm
        u = rng.standard_normal(args[2].shape)

        def norm2(W1s, W2s, h, f=f):
            return np.sum(grad(f, wrt=2)(W1s, W2s, h) ** 2)
        for outer in (None, "sqrt"):
            gg = grad(norm2, wrt=2, checkpoint=outer)(*args)
            assert np.isclose(np.sum(gg * u), _fd_dir(norm2, args, 2, u),
                              rtol=1e-5, atol=1e-7), (f.__name__, outer)
        # jvp of the gradient
        _, tangent = s2sgrad.jvp(grad(f, wrt=2), wrt=2)(args, (u,))
        g2 = grad(mlp_plain_loop, wrt=2)
        fd = (g2(*args[:2], args[2] + 1e-6 * u) - g2(*args[:2], args[2] - 1e-6 * u)) / 2e-6
        np.testing.assert_allclose(tangent, fd, rtol=1e-5, atol=1e-7)
    xs = np.random.default_rng(5).standard_normal((7, 3))
    d1 = grad(scalar_plain)
    fd2 = (d1(0.7 + 1e-6, xs) - d1(0.7 - 1e-6, xs)) / 2e-6
    for schedule in (None, "sqrt", Binomial(snapshots=1)):
        assert np.isclose(grad(grad(scalar_marked, checkpoint=schedule))(0.7, xs), fd2,
                          rtol=1e-6)
    assert np.isclose(s2sgrad.hessian(scalar_marked)(0.7, xs), fd2, rtol=1e-6)


@pytest.mark.parametrize("f", [mlp_marked_helpers, mlp_marked_plain, mlp_ckpt, mlp_dots],
                         ids=lambda f: f.__name__)
def test_checkpoint_drivers_leave_no_reference_cycles(f):
    # a cycle through the backward driver's closures kept each block's tape,
    # step function and input alive until the garbage collector ran: memory
    # that grew with the number of helper calls between collections
    import gc
    args = _mlp_args()
    g = grad(f, wrt=(0, 1))
    want = g(*args)
    # everything made before (garbage too) is frozen: the collection below
    # traverses only what the call makes (a cycle of the call's is among
    # those objects; g and args stay referenced), not the whole heap of a
    # long test session
    gc.freeze()
    gc.disable()
    try:
        got = g(*args)
        assert gc.collect() == 0
    finally:
        gc.enable()
        gc.unfreeze()
    _same(got, want, np.float64)
    plain = mlp_plain_loop if f in (mlp_marked_helpers, mlp_marked_plain) else mlp_default
    _same(got, grad(plain, wrt=(0, 1))(*args), np.float64)


# ---------------------------------------------------------------- forward mode over the drivers


def _loss2(Wh, Wx, xs, h):
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + Wx @ xs[t])
    return np.sum(h * h)


def _loss2_marked(Wh, Wx, xs, h):
    for t in s2sgrad.checkpointed(range(xs.shape[0]), snapshots=3):
        h = np.tanh(Wh @ h + Wx @ xs[t])
    return np.sum(h * h)


@pytest.mark.parametrize("schedule", SCHEDULES, ids=str)
def test_jvp_of_a_checkpointed_gradient_keeps_the_schedule(schedule):
    # jvp(grad(f, checkpoint=s)) differentiates the checkpoint drivers in
    # forward mode (tangent segment and step functions): the generated code
    # still checkpoints, and the numbers equal the plain hvp's and central
    # differences of the gradient
    args = _rnn_args()
    rng = np.random.default_rng(4)
    v = (rng.standard_normal(args[0].shape), rng.standard_normal(args[1].shape))
    jg = s2sgrad.jvp(grad(_loss2, wrt=(0, 1), checkpoint=schedule), wrt=(0, 1))
    (g, tangent) = jg(args, v)
    assert "checkpoint_forward(" in jg.source and "checkpoint_backward(" in jg.source
    ref_g = grad(_loss2, wrt=(0, 1))(*args)
    ref_t = s2sgrad.hvp(_loss2, wrt=(0, 1))(args, v)
    _same(g, ref_g, np.float64)
    for x, y in zip(tangent, ref_t):
        np.testing.assert_allclose(x, y, rtol=1e-11, atol=1e-11 * np.max(np.abs(y)))
    g1 = grad(_loss2, wrt=(0, 1))
    hi = g1(args[0] + 1e-6 * v[0], args[1] + 1e-6 * v[1], *args[2:])
    lo = g1(args[0] - 1e-6 * v[0], args[1] - 1e-6 * v[1], *args[2:])
    for x, a, b in zip(tangent, hi, lo):
        np.testing.assert_allclose(x, (a - b) / 2e-6, rtol=1e-5, atol=1e-6)


def test_hvp_and_hessian_keep_marked_loops_and_helpers_checkpointed():
    args = _rnn_args(T=9)
    v = np.random.default_rng(6).standard_normal(args[0].shape)
    h = s2sgrad.hvp(_loss2_marked, wrt=0)
    got = h(args, v)
    assert "checkpoint_forward(" in h.source
    np.testing.assert_allclose(got, s2sgrad.hvp(_loss2, wrt=0)(args, v), rtol=1e-11,
                               atol=1e-12)
    margs = _mlp_args(L=3, W=3, E=5, B=2, seed=11)
    for f in (mlp_marked_helpers, mlp_marked_plain, mlp_ckpt):
        plain = mlp_plain_loop if f is not mlp_ckpt else mlp_default
        hv = s2sgrad.hvp(f, wrt=(0, 2))
        u = (np.ones_like(margs[0]), np.ones_like(margs[2]))
        got = hv(margs, u)
        assert "checkpoint_backward(" in hv.source, f.__name__
        ref = s2sgrad.hvp(plain, wrt=(0, 2))(margs, u)
        for x, y in zip(got, ref):
            np.testing.assert_allclose(x, y, rtol=1e-11, atol=1e-12)
    xs = np.random.default_rng(5).standard_normal((7, 3))
    H = s2sgrad.hessian(scalar_marked)
    d1 = grad(scalar_plain)
    assert np.isclose(H(0.7, xs), (d1(0.7 + 1e-6, xs) - d1(0.7 - 1e-6, xs)) / 2e-6, rtol=1e-6)
    assert "checkpoint_forward(" in H.source


def test_hvp_of_a_checkpointed_loop_keeps_the_memory_benefit():
    # the tangent drivers keep sqrt(T) snapshots of (state, tangent): the
    # peak of hvp with the loop marked is a fraction of the plain loop's
    args = _rnn_args(T=400)
    v = np.ones_like(args[0])
    plain, marked = s2sgrad.hvp(_loss2, wrt=0), s2sgrad.hvp(_loss2_marked, wrt=0)
    for f in (plain, marked):
        f(args, v)
        f(args, v)
    p0 = _traced_peak(lambda *a: plain(a, v), args)
    p1 = _traced_peak(lambda *a: marked(a, v), args)
    assert p1 <= 0.5 * p0, (p1, p0)


@pytest.mark.parametrize("seed,src,specs", _loop_programs(10), ids=lambda x: str(x)[:8])
def test_fuzzed_loop_programs_jvp_of_checkpointed_gradient(seed, src, specs):
    f = load(src)
    args = make_args(specs, seed)
    w = first_differentiable(specs, args)
    v = (np.ones_like(args[w]) * 0.5,)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ref = s2sgrad.jvp(grad(f, wrt=w), wrt=w)(tuple(args), v)
        except Exception as exc:     # not a program this test is about
            pytest.skip(f"no second derivative: {exc}")
        for sched in ("sqrt", Binomial(snapshots=1), Binomial(snapshots=3)):
            got = s2sgrad.jvp(grad(f, wrt=w, checkpoint=sched), wrt=w)(tuple(args), v)
            for x, y in zip(got, ref):
                fx, fy = flat(x), flat(y)
                assert np.allclose(fx, fy, rtol=1e-10,
                                   atol=1e-10 * (1 + np.max(np.abs(fy), initial=0)),
                                   equal_nan=True), sched


def test_a_chain_of_checkpointed_helpers_passes_one_cotangent_buffer():
    # the step function of a @checkpoint helper adds into the cotangent it was
    # handed when the caller owns it and reads it nowhere else (g += W.T @ d):
    # written out block by block, the chain keeps one cotangent, not one per block
    def chain(W1a, W2a, W1b, W2b, W1c, W2c, h):
        h = block(W1a, W2a, h)
        h = block(W1b, W2b, h)
        h = block(W1c, W2c, h)
        return np.sum(h)

    def chain_plain(W1a, W2a, W1b, W2b, W1c, W2c, h):
        h = _plain_block(W1a, W2a, h)
        h = _plain_block(W1b, W2b, h)
        h = _plain_block(W1c, W2c, h)
        return np.sum(h)
    rng = np.random.default_rng(2)
    args = []
    for _ in range(3):
        args += [rng.standard_normal((7, 4)) * 0.5, rng.standard_normal((4, 7)) * 0.5]
    args.append(rng.standard_normal((4, 3)))
    g = grad(chain, wrt=tuple(range(7)))
    before = [a.copy() for a in args]
    for _ in range(2):
        got = g(*args)
    _same(got, grad(chain_plain, wrt=tuple(range(7)))(*args), np.float64)
    for a, b in zip(args, before):
        assert np.array_equal(a, b)
    steps = g.source.split("_step")
    assert g.source.count("_bar += ") >= 2, g.source
