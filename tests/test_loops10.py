"""Map loops as array operations (perf-loops10, list_arrays.vectorise_maps).

A loop over ``range(n)`` known on entry whose steps are independent -- each
reads rows of arrays made before the loop, computes elementwise and writes
its own row of an accumulator or a tape -- becomes the same operations on
whole arrays: the reversed loop of ``sum(f(h) for h in hs)`` is
``hs_bar = f'(H) * g[:, None]``, as hand-written code is.

Values against plain NumPy, gradients against central differences
(float64), float32, Python-scalar and NumPy-scalar arguments, value and
gradient together; and the loops that are NOT maps stay loops (carried
state, the index used as a number, a write into a user's array, a break,
rows of different shapes, a data-dependent while, two rows per step, a
weight gradient summed over the steps) and are still right."""
import re

import numpy as np
import pytest

from s2sgrad import grad, value_and_grad
from tests.test_list_loops7 import data, fd     # central differences; an RNN's W, xs, h0
from tests.test_loops9 import code


def _states(W, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    return hs


# ------------------------------------------------------------------ maps

# sum(np.sum(g ** 2) for g in hs) over an RNN's states (test_loops8's)
from tests.test_loops8 import genexp_sum as genexp_sq     # noqa: E402


def genexp_log1p(W, xs, h0, c):
    # a saved value of the forward loop over hs (g * g) is a tape: that
    # loop is a map too (each step writes its own row of the tape)
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    return sum(np.sum(np.log1p(g * g) * c) for g in hs)


def for_in_list(W, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    s = 0.0
    for g in hs:
        s = s + np.sum(np.sin(g) * g)
    return s


def with_targets(W, xs, h0, ys):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    return sum(np.sum((hs[t] - ys[t]) ** 2) for t in range(xs.shape[0]))


def same_every_step(W, xs, h0):
    # each step adds the same value (xs[0] / T) into its row of hs_bar
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    s = 0.0
    for g in hs:
        s = s + np.sum(g * xs[0])
    return s / len(hs)


def weighted(W, xs, h0, v):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    return sum(np.sum(np.sin(g * v)) for g in hs)


MAPS = [(genexp_sq, ()), (genexp_log1p, (0.7,)), (for_in_list, ()),
        (with_targets, ("ys",)), (same_every_step, ()),
        (weighted, ("v",))]


def _args(extra, T=7, H=4, dtype=np.float64):
    W, xs, h0 = data(T=T, H=H, dtype=dtype)
    out = [W, xs, h0]
    for e in extra:
        if e == "ys":
            out.append((0.5 * xs[::-1]).astype(dtype))
        elif e == "v":
            out.append(np.linspace(0.5, 1.5, H).astype(dtype))
        else:
            out.append(e)
    return tuple(out)


def _loops(src):
    return src.count("for "), src.count("reversed(")


@pytest.mark.parametrize("f,extra", MAPS, ids=lambda x: getattr(x, "__name__", ""))
def test_map_value_and_gradient(f, extra):
    args = _args(extra)
    g = grad(f, wrt=(0, 2))
    for _ in range(2):      # (the second call runs the compiled specialisation)
        gW, gh = g(*args)
        assert np.allclose(gW, fd(f, args, 0), rtol=1e-6, atol=1e-8)
        assert np.allclose(gh, fd(f, args, 2), rtol=1e-6, atol=1e-8)
    v, (gW2, _) = value_and_grad(f, wrt=(0, 2))(*args)
    assert np.allclose(v, f(*args), rtol=1e-12, atol=1e-12)
    assert np.allclose(gW2, gW, rtol=1e-12, atol=1e-14)
    # the gradient alone: one forward loop (the states), one reversed (BPTT);
    # the loop over hs and its reversal are array operations
    src = code(g)
    assert _loops(src) == (2, 1), src
    assert not re.search(r"\w\[\w+\] \+= ", src), src


@pytest.mark.parametrize("f,extra", MAPS, ids=lambda x: getattr(x, "__name__", ""))
def test_map_float32(f, extra):
    args = _args(extra, dtype=np.float32)
    got = grad(f)(*args)
    assert got.dtype == np.float32
    a64 = tuple(np.asarray(a, np.float64) if isinstance(a, np.ndarray) else a for a in args)
    assert np.allclose(got, fd(f, a64, 0), rtol=2e-3, atol=2e-4)
    v = value_and_grad(f)(*args)[0]
    assert np.allclose(v, f(*args), rtol=1e-5)


@pytest.mark.parametrize("c", [0.7, np.float64(0.7), np.float32(0.7), 2])
def test_map_scalar_kinds(c):
    args = _args(())
    g = grad(genexp_log1p, wrt=0)
    got = g(*args, c)
    ref = fd(genexp_log1p, args + (c,), 0)
    assert np.allclose(got, ref, rtol=1e-6, atol=1e-8)
    got_kw = grad(genexp_log1p, wrt=0)(*args, c=c)
    assert np.allclose(got_kw, got, rtol=1e-12, atol=1e-14)


def test_map_one_step_and_zero_steps():
    for T in (1, 0):
        args = _args((), T=T)
        v, g = value_and_grad(genexp_sq, wrt=0)(*args)
        assert np.allclose(v, genexp_sq(*args))
        assert np.allclose(g, fd(genexp_sq, args, 0) if T else 0.0, rtol=1e-6, atol=1e-8)


def test_map_rows_are_the_steps_rows():
    # a large, wide example: the vectorised rows match a per-row NumPy
    # reference bit for bit (each element is computed by the same ufuncs)
    W, xs, h0 = data(T=50, H=16)
    g = grad(for_in_list, wrt=2)(W, xs, h0)
    hs = _states(W, xs, h0)
    hb = [np.cos(h) * h + np.sin(h) for h in hs]       # d/dh sum(sin(h) * h)
    dh = np.zeros_like(h0)
    for t in range(len(hs) - 1, -1, -1):
        dh = dh + hb[t]
        dh = (dh * (1.0 - hs[t] ** 2)) @ W
    assert np.allclose(g, dh, rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------ not maps

def carried(W, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    s = 0.0
    for g in hs:
        s = 0.5 * s + np.sum(g ** 2)        # the sum's cotangent is carried (x 0.5)
    return s


def index_value(W, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    s = 0.0
    for t in range(xs.shape[0]):
        s = s + t * np.sum(hs[t] ** 2)      # the index as a number
    return s


def row_write(W, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    out = np.zeros((xs.shape[0], h0.shape[0]))
    for t in range(xs.shape[0]):
        out[t] = hs[t] ** 2                 # a write into the user's array
    return np.sum(out * out)


def early_break(W, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    s = 0.0
    for g in hs:
        if np.sum(g) > 1.5:                 # a data-dependent trip count
            break
        s = s + np.sum(g ** 2)
    return s


def ragged(W, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h[: t % 3 + 1])           # rows of different shapes
    return sum(np.sum(g ** 2) for g in hs)


def while_reads(W, xs, h0, thr):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    s = 0.0
    i = 0
    while i < len(hs) and s < thr:          # a data-dependent while
        s = s + np.sum(hs[i] ** 2)
        i += 1
    return s


def differences(W, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    s = 0.0
    for t in range(xs.shape[0] - 1):
        s = s + np.sum((hs[t + 1] - hs[t]) ** 2)    # two rows per step
    return s


NOT_MAPS = [(carried, ()), (index_value, ()), (row_write, ()), (early_break, ()),
            (ragged, ()), (while_reads, (3.0,)), (differences, ())]


@pytest.mark.parametrize("f,extra", NOT_MAPS, ids=lambda x: getattr(x, "__name__", ""))
def test_not_a_map_stays_a_loop(f, extra):
    args = _args(extra)
    g = grad(f, wrt=0)
    for _ in range(2):
        assert np.allclose(g(*args), fd(f, args, 0), rtol=1e-6, atol=1e-8)
    v, gv = value_and_grad(f, wrt=0)(*args)
    assert np.allclose(v, f(*args))
    src = code(g)
    # the second loop's reversal is still a loop (two reversed loops)
    assert src.count("reversed(") == 2, src
    a32 = tuple(np.asarray(a, np.float32) if isinstance(a, np.ndarray) else a for a in args)
    g32 = grad(f, wrt=0)(*a32)
    assert g32.dtype == np.float32
    assert np.allclose(g32, fd(f, args, 0), rtol=2e-3, atol=2e-4)


def test_weight_gradient_summed_over_steps_stays_a_loop():
    # v's cotangent is added up over the steps (a carried sum): the
    # reversed loop is not a map when v's gradient is asked for
    args = _args(("v",))
    g = grad(weighted, wrt=(0, 3))
    gW, gv = g(*args)
    assert np.allclose(gW, fd(weighted, args, 0), rtol=1e-6, atol=1e-8)
    assert np.allclose(gv, fd(weighted, args, 3), rtol=1e-6, atol=1e-8)
    assert code(g).count("reversed(") == 2


# ------------------------------------------------------------------ inner ranges
# (tapes._Tapes._range_again: the constant range of an inner loop is made
# again by the reversed outer step, not saved on a list of n range objects)

from tests.test_loops9 import _peak, rnn2, rnn2_hand     # noqa: E402


def inner_const(W, xs, h0):
    h = h0
    for t in range(xs.shape[0]):
        for l in range(3):
            h = np.tanh(W @ h + xs[t] * l)
    return np.sum(h ** 2)


def inner_arg(W, xs, h0, m):
    h = h0
    for t in range(xs.shape[0]):
        for l in range(m):                  # an argument: not a constant range
            h = np.tanh(W @ h + xs[t])
    return np.sum(h ** 2)


def inner_grows(W, xs, h0):
    h = h0
    for t in range(xs.shape[0]):
        for l in range(t % 3):              # a different range at each step
            h = np.tanh(W @ h + xs[t])
    return np.sum(h ** 2)


def test_inner_constant_range_made_again():
    args = data(T=6, H=4)
    for f in (inner_const, rnn2):
        g = grad(f, wrt=0)
        for _ in range(2):
            assert np.allclose(g(*args), fd(f, args, 0), rtol=1e-6, atol=1e-8)
        src = code(g)
        assert "_stack" not in src and ".pop()" not in src, src
        assert "reversed(range(" in src, src
    a32 = tuple(np.asarray(a, np.float32) for a in args)
    g32 = grad(inner_const, wrt=0)(*a32)
    assert g32.dtype == np.float32
    assert np.allclose(g32, fd(inner_const, args, 0), rtol=2e-3, atol=2e-4)


@pytest.mark.parametrize("f,extra", [(inner_arg, (2,)), (inner_grows, ())],
                         ids=["argument", "varies"])
def test_inner_range_not_constant_is_saved(f, extra):
    args = data(T=6, H=4) + extra
    g = grad(f, wrt=0)
    for _ in range(2):
        assert np.allclose(g(*args), fd(f, args, 0), rtol=1e-6, atol=1e-8)
    v = value_and_grad(f, wrt=0)(*args)[0]
    assert np.allclose(v, f(*args))


def test_inner_layer_rnn_memory_near_hand():
    # T = 2,000 steps of 2 layers, H = 16: the tape of 4,001 rows and no
    # list of 2,000 ranges (was 1.22x hand's peak)
    rng = np.random.default_rng(3)
    W = rng.standard_normal((2, 16, 16)) / 4
    xs, h0 = rng.standard_normal((2000, 16)), np.zeros(16)
    g = grad(rnn2, wrt=0)
    assert np.allclose(g(W, xs, h0), rnn2_hand(W, xs, h0), rtol=1e-9, atol=1e-12)
    assert _peak(g, (W, xs, h0)) <= 1.1 * _peak(rnn2_hand, (W, xs, h0))


# ------------------------------------------------------------------ maps over an array's rows
# (the second round, after specialize's accumulation passes: the reversed
# loop adds each step's row cotangent into X_bar[i], maybe twice)

def rows_tanh(X, w):
    ys = [np.tanh(X[i]) * w for i in range(X.shape[0])]
    return np.sum(np.stack(ys) ** 2)


def rows_iter(X, w):
    ys = [np.tanh(x) * w for x in X]
    return np.sum(np.stack(ys) ** 2)


def rows_two_reads(X, w):
    out = []
    for i in range(X.shape[0]):
        out.append(np.sum(np.sin(X[i]) * X[i]))
    return np.sum(np.array(out) ** 2)


def rows_summed(X, w):
    s = 0.0
    for i in range(X.shape[0]):
        s = s + np.sum(np.exp(X[i] * 0.1) * w)
    return s


def rows_prefix(X, w):
    # the row and the one after it: two rows per step, not a map
    s = 0.0
    for i in range(X.shape[0] - 1):
        s = s + np.sum(X[i] * X[i + 1] * w)
    return s


ROW_MAPS = [rows_tanh, rows_iter, rows_two_reads, rows_summed]


def _xw(n=6, m=3, dtype=np.float64):
    rng = np.random.default_rng(5)
    return rng.standard_normal((n, m)).astype(dtype), rng.standard_normal(m).astype(dtype)


@pytest.mark.parametrize("f", ROW_MAPS + [rows_prefix], ids=lambda f: f.__name__)
def test_rows_map(f):
    X, w = _xw()
    g = grad(f, wrt=0)
    for _ in range(2):
        assert np.allclose(g(X, w), fd(f, (X, w), 0), rtol=1e-6, atol=1e-8)
    v, (gX, gw) = value_and_grad(f, wrt=(0, 1))(X, w)
    assert np.allclose(v, f(X, w))
    assert np.allclose(gX, fd(f, (X, w), 0), rtol=1e-6, atol=1e-8)
    assert np.allclose(gw, fd(f, (X, w), 1), rtol=1e-6, atol=1e-8)
    src = code(g)
    if f is rows_prefix:
        assert "reversed(" in src, src
    else:
        # the reversed loop is gone; X_bar is one array operation
        assert "reversed(" not in src and not re.search(r"\w\[\w+\] \+= ", src), src
    X32, w32 = _xw(dtype=np.float32)
    g32 = grad(f, wrt=0)(X32, w32)
    assert g32.dtype == np.float32
    assert np.allclose(g32, fd(f, (X32.astype(np.float64), w32.astype(np.float64)), 0),
                       rtol=2e-3, atol=2e-4)


def test_rows_map_one_row_and_python_scalar_weight():
    X, w = _xw(n=1)
    for f in ROW_MAPS:
        assert np.allclose(grad(f, wrt=0)(X, w), fd(f, (X, w), 0), rtol=1e-6, atol=1e-8)
    X, _ = _xw()
    for wv in (0.5, np.float64(0.5), np.float32(0.5)):
        got = grad(rows_summed, wrt=0)(X, wv)
        assert np.allclose(got, fd(rows_summed, (X, wv), 0), rtol=1e-6, atol=1e-8)
        got_kw = grad(rows_summed, wrt=0)(X, w=wv)
        assert np.allclose(got_kw, got, rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------ the ReLU step
# (elementwise._step: maximum(x, c)'s partial is (sign(d) + 1) * 0.5 with NaN
# to 0, the values of np.heaviside(d, 0.5) -- 3x faster)

def relu_sum(x):
    return np.sum(np.maximum(x, 0.0))


def negrelu_sum(x):
    return np.sum(np.minimum(x, 0.0))


def relu_c(x, c):
    return np.sum(np.maximum(x, c) * x)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_relu_step_values_at_kink_nan_and_infinities(dtype):
    x = np.array([-1.0, -0.0, 0.0, 2.0, np.nan, np.inf, -np.inf, 1e-300], dtype=dtype)
    for f, want in ((relu_sum, np.heaviside(x, 0.5)), (negrelu_sum, np.heaviside(-x, 0.5))):
        got = grad(f)(x)
        want = np.fmax(want, 0.0).astype(dtype)
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, want)
    xs = np.array([-1.3, 0.1, 0.7, 1.9], dtype=dtype)
    for c in (0.3, np.float64(0.3), 2):
        want = np.where(xs > c, 2 * xs, c)
        np.testing.assert_allclose(grad(relu_c, wrt=0)(xs, c), want, rtol=1e-6)
        np.testing.assert_allclose(grad(relu_c, wrt=0)(xs, c=c), want, rtol=1e-6)
