"""Inner loops' saved values in one tape per pair of loops (tapes._Tapes.nested):
an inner loop over a constant ``range(m)`` at the top level of an outer loop
over a constant ``range(n)`` writes row ``t * m + l`` of an array of n * m
rows, read back by the reversed inner step over the same (t, l).  Each
program: value vs plain NumPy, gradient vs central differences (float64),
float32, second call, second trip count, grad-of-grad / hvp, checkpoint
schedules; programs the proof must refuse (an inner range that changes with
the outer step, an outer loop that breaks, while loops) keep lists and still
give the right numbers."""
import re

import numpy as np
import pytest

import s2sgrad
from s2sgrad import api, grad, value_and_grad

rng = np.random.default_rng(67)


@pytest.fixture(autouse=True)
def _first(monkeypatch):
    monkeypatch.setattr(api, "SPECIALIZE", "first")


def _fd(f, args, k, eps=1e-6):
    x = np.asarray(args[k], dtype=np.float64)
    num = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        up, dn = list(args), list(args)
        up[k], dn[k] = x + e, x - e
        num[i] = (f(*up) - f(*dn)) / (2 * eps)
    return num


def _check(f, args, wrt, nested=True, tol=1e-6):
    # nested: True -- the inner loop's rows t * m + l of a tape; False -- none; None: either
    """value vs NumPy, gradient vs central differences, twice (the second
    call runs the specialised code), and whether the inner loop used a tape."""
    g = value_and_grad(f, wrt=wrt)
    for _ in range(2):
        v, got = g(*args)
        got = got if isinstance(got, tuple) else (got,)
        np.testing.assert_allclose(v, f(*args), rtol=1e-12, atol=1e-12)
        for k, a in zip(wrt if isinstance(wrt, tuple) else (wrt,), got):
            assert np.shape(a) == np.shape(args[k])
            np.testing.assert_allclose(a, _fd(f, args, k), rtol=tol, atol=1e-8)
    src = g.source
    rows = re.search(r"\w*tape\w*\[(tm\w* \+ \w+|k_?\d*)\]", src) is not None and \
        re.search(r"tm\w* = \w+ \* \d+", src) is not None
    if nested is not None:
        assert rows == nested, src
    return g, src


def rnn_layers(W, U, xs, h0):
    h = h0
    for t in range(xs.shape[0]):
        for l in range(2):
            h = np.tanh(W[l] @ h + U[l] @ xs[t])
    return 0.5 * np.sum(h ** 2)


def _rnn_args(T=4, H=3, I=2, dtype=np.float64):
    return (rng.normal(size=(2, H, H)).astype(dtype) * 0.5, rng.normal(size=(2, H, I)).astype(dtype),
            rng.normal(size=(T, I)).astype(dtype), rng.normal(size=H).astype(dtype))


def integ(k, y0):
    y = y0
    for t in range(5):
        for s in range(3):
            y = y + 0.1 * np.sin(k * y)          # k (1,) broadcast over y (4,)
    return np.sum(y * y)                          # y read twice


def integ_inplace(k, y0):
    y = y0.copy()
    for t in range(4):
        for s in range(3):
            d = np.sin(k * y)
            y += 0.1 * d * y                      # in-place write to the loop state
    return np.sum(y ** 2)


def integ_matrix(A, y0):
    y = y0
    for t in range(3):
        for s in range(4):
            z = A @ y
            y = y + 0.05 * np.tanh(z) * z
    return np.sum(y)


def rnn_layers_sin(W, U, xs, h0):
    h = h0
    for t in range(xs.shape[0]):
        for l in range(2):
            h = np.sin(W[l] @ h + U[l] @ xs[t])       # saves the pre-activation
    return 0.5 * np.sum(h ** 2)


def test_rnn_with_inner_layer_loop():
    """The pre-activation each layer step computes goes into a tape; the
    state the inner loop carries (and the outer one) into a tape of
    T * L + 1 rows (perf-loops9: a list held an array object per step,
    1.69x hand's peak memory at T=50 H=16)."""
    args = _rnn_args()
    g, src = _check(rnn_layers_sin, args, (0, 1, 3))
    assert ".append(h" not in src
    g, src = _check(rnn_layers, args, (0, 1, 3), nested=True)
    assert ".append(h" not in src


def test_integrator_broadcast_and_repeated_use():
    args = (rng.uniform(0.5, 1.5, 1), rng.uniform(-1, 1, 4))
    _check(integ, args, (0, 1))


def test_integrator_in_place_state():
    args = (rng.uniform(0.5, 1.5, 4), rng.uniform(-1, 1, 4))
    _check(integ_inplace, args, (0, 1))


def test_integrator_matrix_step():
    args = (rng.normal(size=(3, 3)) * 0.5, rng.normal(size=3))
    _check(integ_matrix, args, (0, 1))


def test_float32():
    args = _rnn_args(dtype=np.float32)
    g = grad(rnn_layers, wrt=(0, 1))
    g(*args)
    got = g(*args)
    ref = grad(rnn_layers, wrt=(0, 1))(*(a.astype(np.float64) for a in args))
    for a, r in zip(got, ref):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, r, rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("T", [0, 1, 2, 6])
def test_trip_counts_and_second_call_with_another(T):
    """Zero and one outer steps, and one gradient object called with
    sequences of every length in turn (a specialisation per length)."""
    g = grad(rnn_layers_sin, wrt=(0, 1, 3))
    for T2 in (T, 3, T):
        args = _rnn_args(T=T2)
        got = g(*args)
        for k, a in zip((0, 1, 3), got):
            np.testing.assert_allclose(a, _fd(rnn_layers_sin, args, k), rtol=1e-6, atol=1e-8)


def inner_zero(x):
    y = x
    for t in range(3):
        for s in range(0):
            y = y * 2.0
        y = np.sin(y)
    return np.sum(y)


def inner_one(x):
    y = x
    for t in range(3):
        for s in range(1):
            y = np.sin(y) * y
    return np.sum(y)


@pytest.mark.parametrize("f", [inner_zero, inner_one])
def test_inner_zero_and_one_trip(f):
    _check(f, (rng.normal(size=3),), 0, nested=None)


def triangular(x):
    y = x
    for t in range(4):
        for s in range(t):                        # the inner range changes with t
            y = np.sin(y) + y
    return np.sum(y)


def outer_breaks(x):
    y = x
    for t in range(6):
        if np.sum(y) > 50.0:
            break
        for s in range(2):
            y = y * 1.5 + np.sin(y)
    return np.sum(y)


def while_inner(x):
    y = x
    n = 0
    while n < 4:
        for s in range(3):
            y = np.cos(y) * y
            if s == 1:
                continue
        n += 1
    return np.sum(y)


def while_break(x):
    y = x
    n = 0
    while True:
        y = np.sin(y) + 0.5 * y
        n += 1
        if n >= 7:
            break
        if n == 3:
            continue
        y = y * 1.01
    return np.sum(y ** 2)


@pytest.mark.parametrize("f", [triangular, outer_breaks, while_inner, while_break])
def test_not_proven_keeps_lists_and_is_right(f):
    """No constant inner range, a breaking outer loop, while loops: the
    general path (lists), the same numbers as NumPy and central differences."""
    _check(f, (rng.normal(size=3),), 0, nested=False)


@pytest.mark.parametrize("f, args", [
    (rnn_layers, None),
    (rnn_layers_sin, None),
    (integ, (rng.uniform(0.5, 1.5, 1), rng.uniform(-1, 1, 4))),
])
def test_hvp_and_grad_of_grad(f, args):
    args = args or _rnn_args(T=3)
    wrt = 1 if f is integ else 0
    x = args[wrt]
    v = rng.normal(size=x.shape)
    eps = 1e-6
    g = grad(f, wrt=wrt)

    def at(y):
        a = list(args)
        a[wrt] = y
        return g(*a)
    num = (at(x + eps * v) - at(x - eps * v)) / (2 * eps)
    hv = s2sgrad.hvp(f, wrt=wrt)
    for _ in range(2):
        np.testing.assert_allclose(hv(args, v), num, rtol=1e-5, atol=1e-7)

    # reverse over reverse: the gradient of <grad f, v>
    gv = {rnn_layers: rnn_gv, rnn_layers_sin: rnn_sin_gv, integ: integ_gv}[f]
    gg = grad(gv, wrt=wrt)
    for _ in range(2):
        np.testing.assert_allclose(gg(*args, v), num, rtol=1e-5, atol=1e-7)


def rnn_gv(W, U, xs, h0, v):
    return np.sum(grad(rnn_layers, wrt=0)(W, U, xs, h0) * v)


def rnn_sin_gv(W, U, xs, h0, v):
    return np.sum(grad(rnn_layers_sin, wrt=0)(W, U, xs, h0) * v)


def integ_gv(k, y0, v):
    return np.sum(grad(integ, wrt=1)(k, y0) * v)


@pytest.mark.parametrize("sched", ["sqrt", s2sgrad.Binomial(snapshots=2)])
@pytest.mark.parametrize("f", [rnn_layers, rnn_layers_sin])
def test_checkpoint_schedules(sched, f):
    args = _rnn_args(T=5)
    g = grad(f, wrt=(0, 1), checkpoint=sched)
    for _ in range(2):
        got = g(*args)
        for k, a in zip((0, 1), got):
            np.testing.assert_allclose(a, _fd(f, args, k), rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------- per-step mean losses
# (tapes._Tapes._scaled_rows: the reversed step's ``c * E[t]`` of a batched
# saved value becomes ``E *= c`` after the forward loop and a row read, so
# the carried cotangent takes it in its buffer: ``h_bar += E[t]``)

def rnn_mean_steps(Wh, Wx, b, xs, h0, ys):
    h = h0
    loss = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + Wx @ xs[t] + b)
        loss = loss + np.mean((h - ys[t]) ** 2)
    return loss / xs.shape[0]


def rnn_twice_steps(Wh, Wx, b, xs, h0, ys):
    h = h0
    loss = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + Wx @ xs[t] + b)
        loss = loss + 2 * np.sum((h - ys[t]) ** 2)     # an integer factor
    return loss


def rnn_error_used_twice(Wh, Wx, b, xs, h0, ys):
    h = h0
    loss = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + Wx @ xs[t] + b)
        e = h - ys[t]
        loss = loss + np.mean(e ** 2) + 0.3 * np.sum(np.sin(e))   # e read twice
    return loss


def _rnn1_args(T=6, n=4, m=3, batch=None, dtype=np.float64):
    shape = (n,) if batch is None else (n, batch)
    out = (rng.normal(size=(n, n)) * 0.4, rng.normal(size=(n, m)),
           rng.normal(size=n if batch is None else (n, 1)),
           rng.normal(size=(T, m) if batch is None else (T, m, batch)), rng.normal(size=shape),
           rng.normal(size=(T,) + shape))
    return tuple(a.astype(dtype) for a in out)


def _reversed_loop(src):
    return src[src.index("in reversed("):]


@pytest.mark.parametrize("f", [rnn_mean_steps, rnn_twice_steps])
@pytest.mark.parametrize("batch", [None, 5])
def test_per_step_scaled_loss_goes_into_the_carry(f, batch):
    args = _rnn1_args(batch=batch)
    _check(f, args, (0, 1, 2, 4), nested=None)
    g = grad(f, wrt=(0, 1, 2, 4))       # (gradient only: the residuals batched after the loop)
    g(*args)
    src = g.source
    body = _reversed_loop(src)
    assert re.search(r"\w+ \+= \w+\[t_1\]", body), src          # h_bar += E[t]
    assert "np.multiply(" not in body.split("return")[0], src


def test_error_read_twice_is_not_scaled():
    """The row is read by more than the product: no rewrite, the same numbers."""
    args = _rnn1_args()
    _check(rnn_error_used_twice, args, (0, 1, 2, 4), nested=None)


@pytest.mark.parametrize("f", [rnn_mean_steps, rnn_twice_steps])
def test_per_step_scaled_loss_float32_and_zero_one_steps(f):
    args = _rnn1_args(dtype=np.float32)
    g = grad(f, wrt=(0, 1, 2))
    g(*args)
    got = g(*args)
    ref = grad(f, wrt=(0, 1, 2))(*(a.astype(np.float64) for a in args))
    for a, r in zip(got, ref):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, r, rtol=2e-4, atol=2e-5)
    for T in (1, 0, 3):
        if f is rnn_mean_steps and T == 0:
            continue                                   # (the mean over 0 steps divides by 0)
        a2 = _rnn1_args(T=T)
        got = g(*a2)
        for k, a in zip((0, 1, 2), got):
            np.testing.assert_allclose(a, _fd(f, a2, k), rtol=1e-6, atol=1e-8)


def rnn_mean_gv(Wh, Wx, b, xs, h0, ys, v):
    return np.sum(grad(rnn_mean_steps, wrt=0)(Wh, Wx, b, xs, h0, ys) * v)


def test_per_step_scaled_loss_second_order_and_checkpoint():
    args = _rnn1_args(T=4)
    v = rng.normal(size=args[0].shape)
    eps = 1e-6
    g = grad(rnn_mean_steps, wrt=0)
    num = (g(args[0] + eps * v, *args[1:]) - g(args[0] - eps * v, *args[1:])) / (2 * eps)
    hv = s2sgrad.hvp(rnn_mean_steps, wrt=0)
    gg = grad(rnn_mean_gv, wrt=0)
    for _ in range(2):
        np.testing.assert_allclose(hv(args, v), num, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(gg(*args, v), num, rtol=1e-5, atol=1e-7)
    for sched in ("sqrt", s2sgrad.Binomial(snapshots=2)):
        gc = grad(rnn_mean_steps, wrt=(0, 1), checkpoint=sched)
        for _ in range(2):
            for k, a in zip((0, 1), gc(*args)):
                np.testing.assert_allclose(a, _fd(rnn_mean_steps, args, k), rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------- more inner-loop shapes

def inner_write_after_save(k, y0):
    y = y0
    for t in range(3):
        for s in range(2):
            z = k * y
            w = np.sin(z)
            z[0] = 0.5                              # written after the step saved it
            y = y + w * z
    return np.sum(y ** 2)


def two_inner_loops(k, y0):
    y = y0
    for t in range(3):
        for s in range(2):
            y = np.sin(k * y) + y
        for s in range(2):
            y = np.cos(y * k) * y
    return np.sum(y)


def inner_range_from_shape(W, y0):
    y = y0
    for t in range(3):
        for l in range(W.shape[0]):                 # a static length
            z = W[l] @ y
            y = y + 0.1 * np.tanh(z)
    return np.sum(y * y)


def inner_branch(k, y0):
    y = y0
    for t in range(4):
        for s in range(3):
            z = k * y
            if s == 1:
                y = y + np.sin(z)
            else:
                y = y - 0.5 * np.cos(z)
    return np.sum(y)


def test_inner_write_after_save():
    _check(inner_write_after_save, (rng.uniform(0.5, 1.5, 4), rng.uniform(-1, 1, 4)), (0, 1),
           nested=None)


def test_two_inner_loops_over_equal_ranges():
    _check(two_inner_loops, (rng.uniform(0.5, 1.5, 4), rng.uniform(-1, 1, 4)), (0, 1))


def test_inner_range_from_a_shape():
    _check(inner_range_from_shape, (rng.normal(size=(3, 4, 4)) * 0.5, rng.normal(size=4)), (0, 1))
    # another shape: another specialisation, another inner trip count
    _check(inner_range_from_shape, (rng.normal(size=(2, 4, 4)) * 0.5, rng.normal(size=4)), (0, 1))


def test_inner_branch():
    _check(inner_branch, (rng.uniform(0.5, 1.5, 4), rng.uniform(-1, 1, 4)), (0, 1), nested=None)
