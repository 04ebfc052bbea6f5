"""Preallocated tapes (s2sgrad/tapes.py) and rows of loop-invariant arrays read
where they live (reverse.Reverser._rereadable): a loop whose trip count is
known when it starts saves its values in arrays written at the iteration's
position, and the hoisted weight gradients read those arrays (and the
loop's input arrays) directly -- the hand-written BPTT gradient."""
import re

import numpy as np
import pytest

import s2sgrad
from s2sgrad import api, grad
from s2sgrad.ir import verify
from s2sgrad.specialize import specialize

rng = np.random.default_rng(11)


@pytest.fixture
def strict(monkeypatch):
    monkeypatch.setattr(api, "SPECIALIZE", "first")


def _generic(f, args, wrt, monkeypatch):
    monkeypatch.setattr(api, "SPECIALIZE", "never")
    out = grad(f, wrt=wrt)(*args)
    monkeypatch.setattr(api, "SPECIALIZE", "first")
    return out


def _close(a, b, tol=1e-12):
    for x, y in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
        assert np.shape(x) == np.shape(y) and np.result_type(x) == np.result_type(y)
        np.testing.assert_allclose(x, y, rtol=tol, atol=tol)


def rnn(Wh, Wx, b, xs, h):
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + Wx @ xs[t] + b)
    return np.sum(h ** 2)


def rnn_summed(Wh, Wx, b, xs, h, ys):
    loss = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + Wx @ xs[t] + b)
        loss = loss + 0.5 * np.sum((h - ys[t]) ** 2)
    return loss


def _rnn_args(T=7, n=4, m=3, batch=None):
    shape = (n,) if batch is None else (n, batch)
    return (rng.normal(size=(n, n)) * 0.4, rng.normal(size=(n, m)),
            rng.normal(size=n if batch is None else (n, 1)),
            rng.normal(size=(T, m) if batch is None else (T, m, batch)), rng.normal(size=shape))


@pytest.mark.parametrize("batch", [None, 5])
def test_rnn_saves_into_arrays_and_reads_its_inputs_in_place(batch, monkeypatch):
    args = _rnn_args(batch=batch)
    want = _generic(rnn, args, (0, 1, 2), monkeypatch)
    g = grad(rnn, wrt=(0, 1, 2))
    _close(g(*args), want)
    src = g.source
    # no lists, no stacking after the loop: arrays allocated once, written per step
    for gone in (".append(", ".pop()", "unzip", "stack_steps", "[]"):
        assert gone not in src, src
    # the states in T + 1 rows, as hand-written BPTT stores H[0..T]: row 0 the
    # initial state, row t + 1 written as step t ends
    assert "h_tape = np.empty((8, 4" in src and "h_tape[0] = h" in src, src
    # (the state is computed in its row, as hand-written BPTT's
    # np.tanh(a, out=H[t + 1]): no copy of it into the tape)
    assert re.search(r"h(_\d+)? = np\.tanh\(_t0, out=h_tape(_\d+)?\[t \+ 1\]\)", src), src
    # the step's cotangent is computed in its row of the tape (no copy into it)
    assert "out=steps[t_1])" in src and "steps[t_1] = " not in src, src
    # written in place: never a copy of a whole tape per step; the reversed
    # loop reads the state as step t_1 ends from its row (a view: the tape is
    # written only before that loop), nothing is carried or copied per step
    assert ".copy(" not in src, src
    assert re.search(r"np\.square\(h_tape(_\d+)?\[t_1 \+ 1\], out=steps\[t_1\]\)", src), src
    assert "@ h_tape_2" in src or "h_tape_2)" in src, src        # the rows 0..T-1
    # the x_t of the weight gradient of Wx are the rows of xs, not a copy
    assert ("stepsT @ xs" in src) if batch is None else ("matmul_vjp_a_sum(steps, Wx, xs)" in src)
    # the generic code reads xs[t] again in the reversed loop instead of saving it
    assert "xs[t_1]" in g.generic_source


def test_summed_loss_is_specialised_and_saved_in_arrays(monkeypatch):
    args = _rnn_args() + (rng.normal(size=(7, 4)),)
    want = _generic(rnn_summed, args, (0, 1, 2), monkeypatch)
    g = grad(rnn_summed, wrt=(0, 1, 2))
    _close(g(*args), want)
    for helper in ("unbroadcast", "matmul_vjp", ".append("):
        assert helper not in g.source, g.source


def test_tapes_inside_checkpointed_segments(monkeypatch):
    """A checkpointed loop's step function records a segment of unknown
    length: its tapes are allocated from len(steps) and written at an
    iteration counter."""
    args = _rnn_args(T=20)
    want = grad(rnn, wrt=(0, 1))(*args)
    for schedule in ("sqrt", s2sgrad.Binomial(snapshots=3)):
        g = grad(rnn, wrt=(0, 1), checkpoint=schedule)
        _close(g(*args), want)
        src = g.source
        assert "= len(steps" in src and "np.empty(shape" in src and ".append(" not in src, src


def early_exit(x, W):
    h = x
    for t in range(6):
        h = np.tanh(W @ h)
        if np.sum(h) > 10.0:
            break
    return np.sum(h)


def float_residual(x, ws):
    s = 1.0
    for t in range(ws.shape[0]):
        s = s * np.sum(ws[t] * x)            # a NumPy scalar per step
    return s


def test_what_stays_on_lists(monkeypatch):
    # a loop that may stop early: its trip count is not known when it starts
    x, W = rng.normal(size=3), rng.normal(size=(3, 3)) * 0.5
    want = _generic(early_exit, (x, W), (0, 1), monkeypatch)
    g = grad(early_exit, wrt=(0, 1))
    _close(g(x, W), want)
    assert ".append(" in g.source and "np.empty" not in g.source
    # values that are not arrays (NumPy scalars) are not written into arrays
    ws = rng.normal(size=(5, 3))
    want = _generic(float_residual, (x, ws), 0, monkeypatch)
    g = grad(float_residual)
    _close(g(x, ws), want)
    assert ".append(" in g.source


def nested(W, xs, h):
    for k in range(2):
        for t in range(xs.shape[0]):
            h = np.tanh(W @ h + xs[t])
    return np.sum(h)


def test_nested_loops(monkeypatch):
    """The inner loop runs once per outer iteration: its values stay on lists
    (tapes are made only for loop pairs in one block); the outer loop's
    saved arrays are tapes."""
    args = (rng.normal(size=(3, 3)) * 0.5, rng.normal(size=(4, 3)), rng.normal(size=3))
    want = _generic(nested, args, (0, 1), monkeypatch)
    g = grad(nested, wrt=(0, 1))
    _close(g(*args), want)


def test_pass_output_verifies():
    args = _rnn_args()
    g = grad(rnn, wrt=(0, 1, 2))
    g(*args)
    f = specialize(g._last.func, list(args))
    verify(f)
    names = [e.prim.name for e in f.body.eqns]
    assert "empty" in names and "new_stack" not in names and "unzip" not in names


def rnn_mean_over_steps(Wh, Wx, b, xs, h, ys):
    loss = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + Wx @ xs[t] + b)
        loss = loss + np.mean((h - ys[t]) ** 2)
    return loss / xs.shape[0]


@pytest.mark.parametrize("f", [rnn_summed, rnn_mean_over_steps])
@pytest.mark.parametrize("batch", [None, 5])
def test_summed_losses_compute_in_the_rows(f, batch, monkeypatch):
    """A loss summed over the steps: the per-step residual ``h - ys[t]`` is
    computed once after the forward loop from the states' rows (``H[1:] -
    ys``, tapes._batched), read back as a view, and the step cotangent is
    computed in its row of ``steps``; the seed of ones (and a mean's 1 / n)
    is no multiply inside the reversed loop."""
    args = _rnn_args(batch=batch)
    args += (rng.normal(size=(7,) + args[-1].shape),)
    want = _generic(f, args, (0, 1, 2), monkeypatch)
    g = grad(f, wrt=(0, 1, 2))
    _close(g(*args), want)
    src = g.source
    code = "\n".join(ln for ln in src.splitlines() if not ln.lstrip().startswith("#"))
    fwd = code[code.index("for t in"):code.index("reversed(")]
    assert "ys[" not in fwd and "subtract" not in fwd, src
    m = re.search(r"(h_\w+) = h_tape(_\d+)?\[1:8\]\n(?: *#.*\n)? *(_t\d+) = \1 - ys\n", src)
    assert m, src
    # its row read as a view where it is used (nothing writes it), no copy
    assert re.search(r"%s\[t_1\][,)\n]" % m.group(3), src) and ".copy(" not in src, src
    assert "out=steps[t_1])" in src and "steps[t_1] = " not in src, src
    back = src[src.index("reversed("):]
    assert "seed" not in back and "loss_bar" not in back, src
    # no temporary allocated per reversed step (hand-written BPTT's loop):
    # the residual is added into the carried cotangent (dead after that
    # read), 1 - h**2 is computed in the step's row, and only the product
    # with the weights is new memory
    # (a mean's 1/n scaling of the residual's row still takes one
    # temporary: that would need the step's statements reordered)
    body = back[:back.index("stepsT") if "stepsT" in back else len(back)]
    fresh = [ln for ln in body.splitlines()[1:]
             if ln.startswith("        ") and not ln.lstrip().startswith("#") and
             not ("out=" in ln or re.search(r"[-+*/]= ", ln) or " @ " in ln or
                  re.fullmatch(r" *\w+ = \w+\[t_1\]", ln))]
    assert len(fresh) <= (0 if f is rnn_summed else 1), (fresh, src)
    # (the written rows are used in place: a second call gives the same numbers)
    _close(g(*args), want)


def test_a_row_computed_in_place_is_not_read_after_a_later_write(monkeypatch):
    """``v = a * 2; y[0] = v; y[0] = 5.0; ... v`` -- v cannot live in the row
    (it is read after the row is written again)."""
    def f(a):
        y = np.zeros((2, 3))
        v = a * 2.0
        y[0] = v
        y[0] = 5.0
        return np.sum(y * y) + np.sum(v * a)
    a = rng.normal(size=3)
    want = _generic(f, (a,), 0, monkeypatch)
    g = grad(f)
    _close(g(a), want)
    _close(g(a), 4.0 * a)               # d/da sum(2 a * a); y is overwritten


def rnn_summed_f(Wh, Wx, b, xs, h, ys):
    # the residual's operands in the other order, a constant and a
    # loop-invariant vector in it, the state as the step starts
    loss = 0.0
    for t in range(xs.shape[0]):
        r = 2.0 * (ys[t] - h) + b
        h = np.tanh(Wh @ h + Wx @ xs[t] + b)
        loss = loss + np.sum(r * r) + np.sum(np.exp(h * ys[t]))
    return loss


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_batched_residuals_against_finite_differences(dtype, monkeypatch):
    args = _rnn_args() + (rng.normal(size=(7, 4)),)
    args = tuple(a.astype(dtype) for a in args)
    g = grad(rnn_summed_f, wrt=(0, 1, 2, 4))
    g(*args)
    got = g(*args)                                   # the specialised code
    src = g.source
    code = "\n".join(ln for ln in src.splitlines() if not ln.lstrip().startswith("#"))
    fwd = code[code.index("for t in"):code.index("reversed(")]
    assert "ys[" not in fwd, src                     # every per-step residual batched
    want = _generic(rnn_summed_f, args, (0, 1, 2, 4), monkeypatch)
    for a, w in zip(got, want):
        assert a.dtype == w.dtype == dtype
        np.testing.assert_allclose(a, w, rtol=1e-4 if dtype == np.float32 else 1e-12,
                                   atol=1e-4 if dtype == np.float32 else 1e-12)
    if dtype == np.float64:
        eps = 1e-6
        for k, a in zip((0, 1, 2, 4), got):
            num = np.zeros_like(a)
            for i in np.ndindex(a.shape):
                e = np.zeros_like(a)
                e[i] = eps
                up = list(args)
                up[k] = args[k] + e
                dn = list(args)
                dn[k] = args[k] - e
                num[i] = (rnn_summed_f(*up) - rnn_summed_f(*dn)) / (2 * eps)
            np.testing.assert_allclose(a, num, rtol=1e-6, atol=1e-7)


def state_written_after(Wh, xs, h):
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + xs[t])
    h[0] = 0.5                      # a write into the last state (its row, if it lived there)
    return np.sum(h * h) + np.sum(Wh * Wh)


def state_scaled_in_place(Wh, xs, h):
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + xs[t])
        h *= 0.9
    return np.sum(h ** 2)


def states_in_a_list(Wh, xs, h):
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + xs[t])
        hs.append(h)
    return np.sum(hs[2] ** 2) + np.sum(h)


def state_returned(Wh, xs, h):
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + xs[t])
    return np.sum(h ** 2), h


@pytest.mark.parametrize("f", [state_written_after, state_scaled_in_place, states_in_a_list])
def test_states_computed_in_their_rows_only_when_nothing_writes_or_keeps_them(f):
    """The state computed in its tape row (codegen._row_is_state) must hold
    the value the backward sweep reads: programs that write into the state,
    scale it in place or keep it are differentiated correctly (value and
    finite differences, shape-specialised code)."""
    Wh = rng.normal(size=(4, 4)) * 0.4
    xs = rng.normal(size=(6, 4))
    h0 = rng.normal(size=4)
    g = s2sgrad.value_and_grad(f, wrt=(0, 2))
    g(Wh, xs, h0.copy())
    h_in = h0.copy()
    v, got = g(Wh, xs, h_in)                        # the specialised code
    np.testing.assert_array_equal(h_in, h0)         # the caller's state untouched
    np.testing.assert_allclose(v, f(Wh, xs, h0.copy()), rtol=1e-12)
    eps = 1e-6
    for k, a, x in ((0, got[0], Wh), (2, got[1], h0)):
        num = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            e = np.zeros_like(x)
            e[i] = eps
            args = [Wh, xs, h0]
            args[k] = x + e
            up = f(*[a_.copy() for a_ in args])
            args[k] = x - e
            num[i] = (up - f(*[a_.copy() for a_ in args])) / (2 * eps)
        np.testing.assert_allclose(a, num, rtol=1e-6, atol=1e-8)


def test_a_returned_state_is_not_a_view_of_the_tape():
    Wh = rng.normal(size=(4, 4)) * 0.4
    xs = rng.normal(size=(6, 4))
    h0 = rng.normal(size=4)
    g = s2sgrad.grad(state_returned, wrt=0, has_aux=True)
    g(Wh, xs, h0)
    d1, h1 = g(Wh, xs, h0)
    d2, h2 = g(Wh, xs, h0)
    assert h1.base is None or not np.may_share_memory(h1, d1)
    np.testing.assert_allclose(h1, state_returned(Wh, xs, h0)[1], rtol=1e-12)
    h1[:] = 7.0                                    # the caller's own array
    np.testing.assert_array_equal(d1, d2)
    np.testing.assert_allclose(h2, state_returned(Wh, xs, h0)[1], rtol=1e-12)


def states_into_rows_wrapping(W, h):
    H = np.zeros((4, 3))
    for t in range(-2, 3):          # rows 2, 3, 0, 1, 2: row 2 written twice
        h = np.tanh(W @ h)
        H[t] = h
    return np.sum(H * H) + np.sum(h * h)


def states_into_rows(W, h):
    H = np.zeros((6, 3))
    for t in range(5):
        h = np.tanh(W @ h)
        H[t + 1] = h
    return np.sum(H ** 3) + np.sum(h)


@pytest.mark.parametrize("f", [states_into_rows_wrapping, states_into_rows])
def test_user_rows_of_states(f):
    W = rng.normal(size=(3, 3)) * 0.6
    h0 = rng.normal(size=3)
    g = s2sgrad.value_and_grad(f, wrt=(0, 1))
    g(W, h0)
    v, got = g(W, h0)
    np.testing.assert_allclose(v, f(W, h0), rtol=1e-12)
    eps = 1e-6
    for k, a, x in ((0, got[0], W), (1, got[1], h0)):
        num = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            e = np.zeros_like(x)
            e[i] = eps
            args = [W, h0]
            args[k] = x + e
            up = f(*args)
            args[k] = x - e
            num[i] = (up - f(*args)) / (2 * eps)
        np.testing.assert_allclose(a, num, rtol=1e-6, atol=1e-8)


def two_states(W, U, xs, h, c):
    for t in range(xs.shape[0]):
        c = np.tanh(W @ h + xs[t]) * 0.5 + 0.5 * c
        h = np.tanh(U @ c) * np.cos(c)
    return np.sum(h ** 2) + np.sum(c * c * c)


def two_states_offset(W, U, xs, h, c):
    # a range not starting at 0: positions are counters carried by the loops
    for t in range(1, xs.shape[0]):
        c = np.tanh(W @ h + xs[t]) * 0.5 + 0.5 * c
        h = np.tanh(U @ c) * np.cos(c) - xs[t - 1]
    return np.sum(h ** 2) + np.sum(c * c * c)


@pytest.mark.parametrize("f", [two_states, two_states_offset])
def test_two_states_in_tapes_of_t_plus_one_rows(f):
    W, U = rng.normal(size=(3, 3)) * 0.5, rng.normal(size=(3, 3)) * 0.5
    xs, h0, c0 = rng.normal(size=(6, 3)), rng.normal(size=3), rng.normal(size=3)
    args = (W, U, xs, h0, c0)
    g = s2sgrad.value_and_grad(f, wrt=(0, 1, 3, 4))
    g(*args)
    v, got = g(*args)
    if f is two_states:
        # c: a state of T + 1 rows; the weight gradient of U reads its rows
        # 1..T in place (no per-step copy into another array)
        assert "c_tape = np.empty((7, 3)" in g.source and "c_steps" not in g.source, g.source
    np.testing.assert_allclose(v, f(*args), rtol=1e-12)
    eps = 1e-6
    for k, a in zip((0, 1, 3, 4), got):
        x = args[k]
        num = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            e = np.zeros_like(x)
            e[i] = eps
            up = list(args)
            up[k] = x + e
            dn = list(args)
            dn[k] = x - e
            num[i] = (f(*up) - f(*dn)) / (2 * eps)
        np.testing.assert_allclose(a, num, rtol=1e-6, atol=1e-8)


def loops_in_sequence(W, U, xs, h):
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
    for x in xs:                    # the same trip count, over the rows
        h = np.tanh(U @ h + x)
    for t in range(xs.shape[0]):
        h = np.sin(W @ h) * xs[t]
    return np.sum(h ** 2)


def zipped_summed(W, xs, ys, h):
    loss = 0.0
    for x, y in zip(xs, ys):
        h = np.tanh(W @ h + x)
        loss = loss + np.sum((h - y) ** 2)
    return loss


def _fd(f, args, wrt, got, eps=1e-6):
    for k, a in zip(wrt, got):
        x = args[k]
        num = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            e = np.zeros_like(x)
            e[i] = eps
            up, dn = list(args), list(args)
            up[k], dn[k] = x + e, x - e
            num[i] = (f(*up) - f(*dn)) / (2 * eps)
        np.testing.assert_allclose(a, num, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("f, wrt", [(loops_in_sequence, (0, 1, 2, 3)), (zipped_summed, (0, 1, 2, 3))])
def test_every_loop_of_known_length_uses_tapes(f, wrt):
    """Several loops over one range (tapes.py pairs a reversed loop with the
    loop that pushed what it pops, not with the first later one), and a loop
    over zip (its trip count min(len, len) is known when specialised): every
    loop saves into preallocated arrays, no list stack is left."""
    W, U = rng.normal(size=(3, 3)) * 0.5, rng.normal(size=(3, 3)) * 0.5
    xs, h = rng.normal(size=(5, 3)), rng.normal(size=3)
    args = (W, U, xs, h) if f is loops_in_sequence else (W, xs, rng.normal(size=(5, 3)), h)
    g = s2sgrad.value_and_grad(f, wrt=wrt)
    g(*args)
    v, got = g(*args)
    src = g.source
    for gone in (".append(", ".pop()", "unzip", "stack_steps", "unbroadcast", "matmul_vjp"):
        assert gone not in src, src
    if f is loops_in_sequence:
        # (the third loop's state too: the reversed loop reads it only as
        # saved, rows 0..4 of a state tape computed in place since perf-loops9)
        assert src.count("np.empty((6, 3)") == 3 and src.count("np.empty(") >= 6, src
        # the cotangent of xs, handed from one reversed loop to the next, is
        # added into in place: never copied whole per step
        assert not re.search(r"xs_bar\w* = xs_bar\w*\.copy\(\)", src), src
    np.testing.assert_allclose(v, f(*args), rtol=1e-12)
    _fd(f, args, wrt, got)


def two_steps_per_iteration(x, W, b):
    # the shape of benchmarks/bench_compile.py --shape rnn: two reads of x[t]
    # per step, so two additions into the cotangent of x per reversed step
    h = np.zeros(3)
    loss = 0.0
    for t in range(x.shape[0]):
        h = np.tanh(W @ h + x[t] + b)
        loss = loss + np.sum(h ** 2)
        h = np.tanh(W @ h + x[t] + b)
        loss = loss + np.sum(h ** 2)
    return loss + np.sum(h)


def test_row_cotangents_added_in_place_twice_per_step():
    """``x_bar[t] += g1`` then ``x_bar[t] += g2`` in one reversed step: the
    second write is into the carry's memory as well (codegen.CodeGen.
    _inits_written_through), so no whole copy of x_bar per step."""
    x, W, b = rng.normal(size=(5, 3)), rng.normal(size=(3, 3)) * 0.4, rng.normal(size=3)
    g = s2sgrad.value_and_grad(two_steps_per_iteration, wrt=(0, 1, 2))
    g(x, W, b)
    v, got = g(x, W, b)
    src = g.source
    assert src.count("x_bar[t_1] += ") == 2 and "x_bar.copy(" not in src, src
    np.testing.assert_allclose(v, two_steps_per_iteration(x, W, b), rtol=1e-12)
    _fd(two_steps_per_iteration, (x, W, b), (0, 1, 2), got)
    v2, got2 = g(x, W, b)                   # (nothing of the first call's arrays reused)
    _close(got2, got)


def scaled_in_loop(v, w):
    loss = 0.0
    for i in range(3):
        w = w * np.tanh(v)
        loss = loss + np.sum(w * w)
    return loss


def scaled_in_loop_2(v, w):
    loss = 0.0
    for i in range(4):
        loss = loss + np.sum(np.sin(w))
        w = np.tanh(v) * w + 0.5 * w
    return loss + np.sum(w)


@pytest.mark.parametrize("f", [scaled_in_loop, scaled_in_loop_2])
def test_cotangent_carry_written_in_place_only_when_safe(f):
    """A reversed loop's carried cotangent takes the step's ``w_bar + g`` in
    its buffer (codegen.CodeGen._carry_buffer_free) only when no value of
    that buffer is read after the step's next cotangent is bound to the
    carry's name (_carry_name_clash): value and gradient as NumPy and
    central differences, also called twice and in forward-over-reverse."""
    v, w = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    g = s2sgrad.value_and_grad(f, wrt=(0, 1))
    g(v, w)
    val, got = g(v, w)
    np.testing.assert_allclose(val, f(v, w), rtol=1e-12)
    _fd(f, (v, w), (0, 1), got)
    _close(g(v, w)[1], got)
    tv, tw = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    hv = s2sgrad.hvp(f, wrt=(0, 1))
    hv((v, w), (tv, tw))
    got_h = hv((v, w), (tv, tw))
    eps = 1e-6
    up = s2sgrad.grad(f, wrt=(0, 1))(v + eps * tv, w + eps * tw)
    dn = s2sgrad.grad(f, wrt=(0, 1))(v - eps * tv, w - eps * tw)
    for a, u, d in zip(got_h, up, dn):
        np.testing.assert_allclose(a, (u - d) / (2 * eps), rtol=1e-5, atol=1e-7)


def while_rnn(W, xs, h):
    t = 0
    while t < xs.shape[0]:
        h = np.tanh(W @ h + xs[t])
        t = t + 1
    return np.sum(h ** 2)


def nested_rnn(W, xs, h):
    for k in range(3):
        for t in range(xs.shape[0]):
            h = np.tanh(W @ h + xs[t])
    return np.sum(h * h)


@pytest.mark.parametrize("f", [while_rnn, nested_rnn])
def test_reversed_loops_without_a_partner_fill_arrays(f):
    """The reversal of a ``while`` loop runs ``reversed(range(n_iter))``, and
    an inner loop's reversal runs over the range an outer step saved: their
    trip counts are known when they start, so their hoisted weight-gradient
    factors go into arrays of that many rows (tapes._Tapes.factors_only),
    not into a list unzipped and stacked after the loop.  The forward
    loops' saved values stay on lists (a while loop's trip count is known
    only at its end; an inner loop's saves span the outer iterations)."""
    W, xs, h = rng.normal(size=(3, 3)) * 0.5, rng.normal(size=(5, 3)), rng.normal(size=3)
    g = s2sgrad.value_and_grad(f, wrt=(0, 1, 2))
    g(W, xs, h)
    v, got = g(W, xs, h)
    src = g.source
    for gone in ("unzip", "stack_steps", "_terms"):
        assert gone not in src, src
    assert "np.empty(" in src, src
    np.testing.assert_allclose(v, f(W, xs, h), rtol=1e-12)
    _fd(f, (W, xs, h), (0, 1, 2), got)
    _close(g(W, xs, h)[1], got)
    # another trip count for the while loop: arrays of that length
    xs2 = rng.normal(size=(7, 3))
    v2, got2 = g(W, xs2, h)
    np.testing.assert_allclose(v2, f(W, xs2, h), rtol=1e-12)
    _fd(f, (W, xs2, h), (0, 1, 2), got2)
