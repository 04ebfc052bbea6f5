"""Loops storing what a hand-written BPTT stores (perf-loops9):

* a saved value that is one correctly rounded elementwise ufunc of other
  saved values and of loop-invariant values (``k * y`` of an integrator) is
  recomputed by the reversed step instead of a tape (tapes._Tapes._remat);
* a loop state the reversed loop reads only as popped goes into a state
  tape of n + 1 rows computed in place (``y = np.add(y, d, out=Y[t + 1])``);
* a large temporary of a loop step is deleted after its last use in the
  step (liveness._plan_loops), so two of them never live at once.

Values against plain NumPy, gradients against central differences
(float64), float32, Python-scalar arguments, zero-trip loops, run-time trip
counts, inner loops over run-time ranges, writes through views inside the
loop; peak memory against a hand-written reference with tracemalloc."""
import ast
import tracemalloc

import numpy as np
import pytest

from s2sgrad import grad, value_and_grad
from s2sgrad.liveness import delete_dead
from tests.test_list_loops7 import fd     # central differences


def code(g):
    return "\n".join(l for l in g.source.splitlines() if not l.strip().startswith("#"))


def kdata(n=5, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 1.5, n).astype(dtype), rng.uniform(-1, 1, n).astype(dtype)


# ------------------------------------------------------------------ programs

def integ(k, y0):
    y = y0
    for t in range(40):
        y = y + 0.01 * np.sin(k * y)
    return np.sum(y)


def integ_nested(k, y0):
    y = y0
    for t in range(10):
        for s in range(3):
            y = y + 0.01 * np.sin(k * y)
    return np.sum(y)


def integ_two_sources(k, y0):
    # recomputed from two saved values and an invariant: (y - k) * y, k / y
    y = y0
    for t in range(12):
        a = (y - k) * y
        y = y + 0.05 * np.cos(a) + 0.01 * np.sin(k / (2.0 + y))
    return np.sum(y ** 2)


def integ_state_read_after(k, y0):
    # the state tape's rows and the loop's output read after the loop
    y = y0
    for t in range(15):
        y = y - 0.02 * np.tanh(k * y)
    return np.sum(y * k) + np.sum(y ** 3)


def integ_max(k, y0):
    # maximum / negative / square: exact ufuncs, recomputed; ties split like NumPy
    y = y0
    for t in range(20):
        m = np.maximum(y, -k)
        y = y + 0.03 * np.sin(np.square(m)) - 0.01 * m
    return np.sum(y)


def integ_runtime(k, y0, n):
    # a trip count known only at run time (no static length)
    y = y0
    for t in range(n):
        y = y + 0.01 * np.sin(k * y)
    return np.sum(y)


def integ_inner_runtime(k, y0, m):
    # an inner loop over a run-time range: its saved values stay on lists
    y = y0
    for t in range(6):
        for s in range(m):
            y = y + 0.02 * np.sin(k * y)
    return np.sum(y)


def integ_while(k, y0):
    y = y0
    n = 0
    while n < 25:
        y = y + 0.01 * np.sin(k * y)
        n += 1
    return np.sum(y)


def integ_view_write(k, y0):
    # writes through a view inside the loop: the state is changed in place
    y = y0 * 1.0
    for t in range(8):
        d = np.sin(k * y)
        v = y[1:]
        v += 0.05 * d[1:]
        y = y * 1.0
    return np.sum(y ** 2)


def integ_scalar(k, y0, dt):
    # a Python-float step size
    y = y0
    for t in range(30):
        y = y + dt * np.sin(k * y)
    return np.sum(y)


def integ_zero(k, y0):
    y = y0
    for t in range(0):
        y = y + 0.01 * np.sin(k * y)
    return np.sum(y * k)


def nested_tanh(k, y0):
    # a stacked-RNN shape: the state read backward as the inner step ends too
    y = y0
    for t in range(5):
        for s in range(2):
            y = np.tanh(k * y + 0.3)
    return np.sum(y ** 2)


def nested_one_inner(k, y0):
    y = y0
    for t in range(7):
        for s in range(1):
            y = y + 0.1 * np.sin(k * y)
    return np.sum(y * y0)


def nested_zero_outer(k, y0):
    y = y0
    for t in range(0):
        for s in range(3):
            y = y + 0.1 * np.sin(k * y)
    return np.sum(y * k)


def nested_fresh_start(k, y0):
    # the inner loop starts from a value made in the outer step: not the
    # outer state, so no tape of the outer state's rows
    y = y0
    for t in range(4):
        z = y * 0.5
        for s in range(3):
            z = z + 0.1 * np.sin(k * z)
        y = y + z
    return np.sum(y)


def nested_changed_after(k, y0):
    # the outer state is changed after the inner loop ends
    y = y0
    for t in range(4):
        for s in range(3):
            y = y + 0.1 * np.sin(k * y)
        y = 0.9 * y
    return np.sum(y ** 2)


def nested_state_read_outer(k, y0):
    # the outer step reads its state besides handing it to the inner loop
    y = y0
    acc = 0.0
    for t in range(4):
        acc = acc + np.sum(y * k)
        for s in range(2):
            y = y - 0.05 * np.cos(k * y) * y
    return acc + np.sum(y)


def nested_view_write(k, y0):
    # a write through a view of the state inside the inner loop
    y = y0 * 1.0
    for t in range(3):
        for s in range(2):
            y = y * 1.0
            v = y[:2]
            v *= 1.0 + 0.1 * np.sin(k[:2] * v)
    return np.sum(y ** 2)


def nested_three(k, y0):
    # three loops deep: the two inner ones over constant ranges
    y = y0
    for t in range(3):
        for s in range(2):
            for r in range(2):
                y = np.tanh(k * y + 0.2)
    return np.sum(y ** 2)


def nested_state_after_inner(k, y0):
    # the inner loop's final state read by the outer step after it
    y = y0
    acc = 0.0
    for t in range(4):
        for s in range(3):
            y = np.tanh(k * y - 0.1)
        acc = acc + np.sum(y * y0)
    return acc


PROGRAMS = [nested_three, nested_state_after_inner, integ, integ_nested, integ_two_sources, integ_state_read_after, integ_max,
            integ_while, integ_view_write, integ_zero, nested_tanh, nested_one_inner,
            nested_zero_outer, nested_fresh_start, nested_changed_after,
            nested_state_read_outer, nested_view_write]


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_value_and_gradient(f):
    vg = value_and_grad(f, wrt=(0, 1))
    for args in (kdata(), kdata(n=3, seed=1), kdata()):
        v, gs = vg(*args)
        assert np.allclose(v, f(*args), rtol=1e-12, atol=1e-12)
        for i, g in enumerate(gs):
            assert g.shape == args[i].shape and g.dtype == np.float64
            assert np.allclose(g, fd(f, args, i), rtol=1e-6, atol=1e-8), (f.__name__, i)


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_grad_alone_and_again(f):
    g = grad(f, wrt=(0, 1))
    args = kdata(n=4, seed=2)
    for _ in range(2):      # (the second call reuses the compiled code)
        got = g(*args)
        assert np.allclose(got[0], fd(f, args, 0), rtol=1e-6, atol=1e-8)
        assert np.allclose(got[1], fd(f, args, 1), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_float32(f):
    args = kdata(n=4, seed=3, dtype=np.float32)
    v, gs = value_and_grad(f, wrt=(0, 1))(*args)
    ref = f(*[a.astype(np.float64) for a in args])
    assert np.allclose(v, ref, rtol=1e-4, atol=1e-5)
    for i, g in enumerate(gs):
        assert g.dtype == np.float32
        want = fd(f, [a.astype(np.float64) for a in args], i)
        assert np.allclose(g, want, rtol=2e-3, atol=2e-4)


def test_python_scalar_argument():
    k, y0 = kdata(n=4, seed=4)
    for dt in (0.01, 0.02):
        v, gs = value_and_grad(integ_scalar, wrt=(0, 1, 2))(k, y0, dt)
        assert np.allclose(v, integ_scalar(k, y0, dt), rtol=1e-12)
        assert np.allclose(gs[0], fd(integ_scalar, (k, y0, dt), 0), rtol=1e-6, atol=1e-8)
        assert np.allclose(gs[2], fd(lambda a, b, c: integ_scalar(a, b, float(c)),
                                     (k, y0, np.array(dt)), 2), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("n", [0, 1, 7, 20])
def test_runtime_trip_count(n):
    k, y0 = kdata(n=4, seed=5)
    f = integ_runtime
    v, gs = value_and_grad(f, wrt=(0, 1))(k, y0, n)
    assert np.allclose(v, f(k, y0, n), rtol=1e-12)
    assert np.allclose(gs[0], fd(f, (k, y0, n), 0), rtol=1e-6, atol=1e-8)
    assert np.allclose(gs[1], fd(f, (k, y0, n), 1), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("m", [0, 1, 4])
def test_inner_runtime_range(m):
    k, y0 = kdata(n=3, seed=6)
    f = integ_inner_runtime
    v, gs = value_and_grad(f, wrt=(0, 1))(k, y0, m)
    assert np.allclose(v, f(k, y0, m), rtol=1e-12)
    assert np.allclose(gs[0], fd(f, (k, y0, m), 0), rtol=1e-6, atol=1e-8)
    assert np.allclose(gs[1], fd(f, (k, y0, m), 1), rtol=1e-6, atol=1e-8)


def test_broadcast_invariant():
    # the invariant broadcasts against the saved state: (3, 1) * (3, 4)
    def f(k, y0):
        y = y0
        for t in range(9):
            y = y + 0.02 * np.sin(k * y)
        return np.sum(y)
    rng = np.random.default_rng(7)
    k, y0 = rng.uniform(0.5, 1.5, (3, 1)), rng.uniform(-1, 1, (3, 4))
    v, gs = value_and_grad(f, wrt=(0, 1))(k, y0)
    assert np.allclose(v, f(k, y0), rtol=1e-12)
    assert np.allclose(gs[0], fd(f, (k, y0), 0), rtol=1e-6, atol=1e-8)
    assert np.allclose(gs[1], fd(f, (k, y0), 1), rtol=1e-6, atol=1e-8)


def test_recomputed_is_bitwise_the_saved_value():
    # the recomputation is the same operation on the same numbers: the
    # gradient equals one computed from saved values bit for bit
    def hand(k, y0):
        Y = [y0]
        for t in range(40):
            Y.append(Y[-1] + 0.01 * np.sin(k * Y[-1]))
        yb, kb = np.ones_like(y0), np.zeros_like(k)
        for t in range(39, -1, -1):
            c = np.cos(k * Y[t])
            d = yb * 0.01
            d *= c
            kb += d * Y[t]
            yb = yb + d * k
        return kb
    k, y0 = kdata(n=6, seed=8)
    got = grad(integ, wrt=0)(k, y0)
    assert np.allclose(got, hand(k, y0), rtol=1e-13, atol=1e-15)


# ------------------------------------------------------------------ the code

def test_integrator_stores_the_states_only():
    k, y0 = kdata(n=16)
    g = grad(integ, wrt=0)
    g(k, y0)
    src = code(g)
    # one tape of n + 1 states, computed in place; k * y recomputed backward
    assert "y_tape = np.empty((41, 16)" in src
    assert "out=y_tape_1[t + 1]" in src
    assert src.count("np.empty(") == 1            # (the states alone)
    assert "_stack" not in src and "steps" not in src
    assert src.count("k * y") == 2                # (forward, and recomputed backward)
    # k_bar added up in the reversed loop, from zeros
    assert "np.zeros((16,), dtype=np.float64)" in src


def test_nested_integrator_has_no_tape_of_products():
    k, y0 = kdata(n=16)
    g = grad(integ_nested, wrt=0)
    g(k, y0)
    src = code(g)
    assert "np.empty((30, 16)" not in src         # (k * y recomputed, not saved)
    assert np.allclose(g(k, y0), fd(integ_nested, (k, y0), 0), rtol=1e-6, atol=1e-8)


def test_nested_states_in_one_tape():
    k, y0 = kdata(n=16)
    for f, rows in ((integ_nested, 31), (nested_tanh, 11), (nested_one_inner, 8)):
        g = grad(f, wrt=0)
        g(k, y0)
        src = code(g)
        assert f"y_tape = np.empty(({rows}, 16)" in src, src
        assert ".append(y" not in src, src
        assert np.allclose(g(k, y0), fd(f, (k, y0), 0), rtol=1e-6, atol=1e-8)
    # the reversed inner step reads the state as it ends as the next row,
    # no carry hands a copied row down
    g = grad(nested_tanh, wrt=0)
    g(k, y0)
    assert ".copy(" not in code(g) and "[k_1 + 1]" in code(g), code(g)
    for f in (nested_fresh_start, nested_changed_after):
        g = grad(f, wrt=0)
        g(k, y0)
        assert "np.empty((13, 16)" not in code(g)


def test_accumulated_weight_gradient_broadcast_and_float32():
    # the per-step factor has the weight's shape: added up in the loop; a
    # weight broadcast against the state keeps its steps array and sum
    def f(k, c, y0):
        y = y0
        for t in range(12):
            y = y + 0.05 * np.sin(k * y) + 0.02 * np.cos(c * y)
        return np.sum(y ** 2)
    rng = np.random.default_rng(11)
    for dtype, tol in ((np.float64, 1e-6), (np.float32, 2e-3)):
        k = rng.uniform(0.5, 1.5, (3, 4)).astype(dtype)
        c = rng.uniform(0.5, 1.5, (1, 4)).astype(dtype)
        y0 = rng.uniform(-1, 1, (3, 4)).astype(dtype)
        g = grad(f, wrt=(0, 1, 2))
        got = g(k, c, y0)
        a64 = [a.astype(np.float64) for a in (k, c, y0)]
        for i in range(3):
            assert got[i].dtype == dtype and got[i].shape == a64[i].shape
            assert np.allclose(got[i], fd(f, a64, i), rtol=tol, atol=tol * 1e-2)
        assert "steps" in code(g)                 # (c's factor: (3, 4) steps of a (1, 4))


def test_invariant_not_read_backward_is_not_recomputed():
    # c is read only by the forward step: recomputing c * y would keep c alive
    def f(k, y0):
        c = k * 2.0
        y = y0
        for t in range(10):
            y = y + 0.01 * np.sin(c * y) * k
        return np.sum(y)
    k, y0 = kdata(n=4)
    g = grad(f, wrt=(0, 1))
    got = g(k, y0)
    assert np.allclose(got[0], fd(f, (k, y0), 0), rtol=1e-6, atol=1e-8)
    assert np.allclose(got[1], fd(f, (k, y0), 1), rtol=1e-6, atol=1e-8)


# ------------------------------------------------------------------ memory

def _peak(fn, args):
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    fn(*args)
    p = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return p


def integ_hand(k, y0):
    Y = np.empty((41,) + y0.shape)
    Y[0] = y0
    for i in range(40):
        d = np.multiply(k, Y[i])
        np.sin(d, out=d)
        d *= 0.01
        np.add(Y[i], d, out=Y[i + 1])
    yb = np.ones_like(y0)
    kb = np.zeros_like(k)
    for i in range(39, -1, -1):
        c = np.multiply(k, Y[i])
        np.cos(c, out=c)
        c *= 0.01
        c *= yb
        kb += c * Y[i]
        c *= k
        yb += c
    return kb


def test_integrator_memory_near_hand():
    rng = np.random.default_rng(9)
    k, y0 = rng.uniform(0.5, 1.5, 20000), rng.uniform(-1, 1, 20000)
    g = grad(integ, wrt=0)
    assert np.allclose(g(k, y0), integ_hand(k, y0), rtol=1e-10, atol=1e-12)
    # hand keeps 41 rows, and so does the generated code (was 3 tapes: the
    # states, k * y, and k_bar's per-step factors summed after the loop)
    assert _peak(g, (k, y0)) <= 1.1 * _peak(integ_hand, (k, y0))


def rnn2(W, xs, h0):
    h = h0
    for t in range(xs.shape[0]):
        for l in range(2):
            h = np.tanh(W[l] @ h + xs[t])
    return np.sum(h ** 2)


def rnn2_hand(W, xs, h0):
    T, L = xs.shape[0], 2
    H = np.empty((T * L + 1,) + h0.shape)
    H[0] = h0
    for t in range(T):
        for l in range(L):
            a = W[l] @ H[t * L + l]
            a += xs[t]
            np.tanh(a, out=H[t * L + l + 1])
    dh = 2.0 * H[-1]
    dW = np.zeros_like(W)
    for t in range(T - 1, -1, -1):
        for l in range(L - 1, -1, -1):
            i = t * L + l
            da = np.square(H[i + 1])
            np.subtract(1.0, da, out=da)
            da *= dh
            dW[l] += np.outer(da, H[i])
            dh = da @ W[l]
    return dW


def test_step_temporaries_deleted_in_the_loop():
    rng = np.random.default_rng(10)
    Hd = 256
    W = rng.standard_normal((2, Hd, Hd)) / np.sqrt(Hd)
    xs, h0 = rng.standard_normal((6, Hd)), 0.1 * rng.standard_normal(Hd)
    g = grad(rnn2, wrt=0)
    assert np.allclose(g(W, xs, h0), rnn2_hand(W, xs, h0), rtol=1e-10, atol=1e-12)
    assert "del " in g.source
    # one outer product at a time (512 KB each), as the hand-written step
    assert _peak(g, (W, xs, h0)) <= 1.15 * _peak(rnn2_hand, (W, xs, h0))


# ------------------------------------------------------------------ liveness in loops

def _deletes(src, names):
    return delete_dead(src, lambda n: n in names)


def _run(src, *args):
    ns = {"np": np}
    exec(compile(src, "<loops9>", "exec"), ns)
    return ns["f"](*args)


def test_del_in_loop_after_last_use():
    src = ("def f(a, n):\n"
           "    s = 0.0\n"
           "    for i in range(n):\n"
           "        g = a * i\n"
           "        s = s + g.sum()\n"
           "        h = s\n"
           "    return s\n")
    out = _deletes(src, {"g", "s", "h"})
    assert "        del g\n" in out
    assert "del s" not in out             # (read after the loop)
    ast.parse(out)
    assert _run(out, np.arange(3.0), 4) == _run(src, np.arange(3.0), 4)


@pytest.mark.parametrize("body", [
    # read before it is bound in the step: carried from the step before
    "        s = g.sum() if i else 0.0\n        g = a * i\n",
    # bound only in a branch
    "        if i:\n            g = a * i\n        s = g.sum()\n",
    # augmented: reads the previous step's value
    "        g += a\n",
    # bound reading itself
    "        g = g + a\n",
])
def test_no_del_of_a_value_carried_between_steps(body):
    src = ("def f(a, n):\n"
           "    g = a * 1.0\n"
           "    s = 0.0\n"
           "    for i in range(n):\n" + body +
           "    return s\n")
    out = _deletes(src, {"g"})
    lines = out.split("\n")
    loop = lines.index("    for i in range(n):")
    # (after the loop, at the function's level, is the existing rule)
    assert not any(ln.startswith("        ") and "del g" in ln for ln in lines[loop:])


def test_no_del_of_a_name_read_by_a_nested_scope_or_the_header():
    src = ("def f(a, n):\n"
           "    s = 0.0\n"
           "    for i in range(n):\n"
           "        g = a * i\n"
           "        k = lambda: g\n"
           "        s = s + k().sum()\n"
           "    while s > 100:\n"
           "        s = s - 1\n"
           "    return s\n")
    out = _deletes(src, {"g", "k"})
    assert "del g" not in out
    assert _run(out, np.arange(3.0), 4) == _run(src, np.arange(3.0), 4)


# ------------------------------------------------------------------ sum over a generator

def genexp_rnn(W, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    return sum(np.sum(g ** 2) for g in hs)


def genexp_scaled(W, xs, h0, c):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    return c * sum(np.sum(g * xs[0]) for g in hs)


def rnn_data(T=6, H=4, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return ((0.5 * rng.standard_normal((H, H))).astype(dtype),
            rng.standard_normal((T, H)).astype(dtype),
            (0.3 * rng.standard_normal(H)).astype(dtype))


@pytest.mark.parametrize("T", [0, 1, 6])
def test_genexp_sum_value_and_gradient(T):
    args = rnn_data(T=T)
    v, gs = value_and_grad(genexp_rnn, wrt=(0, 1, 2))(*args)
    assert np.allclose(v, genexp_rnn(*args), rtol=1e-12, atol=1e-12)
    for i, g in enumerate(gs):
        assert np.allclose(g, fd(genexp_rnn, args, i), rtol=1e-6, atol=1e-8)
    g = grad(genexp_rnn, wrt=(0, 2))
    for _ in range(2):
        got = g(*args)
        assert np.allclose(got[0], fd(genexp_rnn, args, 0), rtol=1e-6, atol=1e-8)
        assert np.allclose(got[1], fd(genexp_rnn, args, 2), rtol=1e-6, atol=1e-8)


def test_genexp_sum_not_computed_for_the_gradient_alone():
    # the values the sum adds are read by its adjoint only for their shape:
    # the gradient alone does not compute them (a broadcast of the seed)
    args = rnn_data(T=8, H=5)
    g = grad(genexp_rnn, wrt=0)
    got = g(*args)
    assert np.allclose(got, fd(genexp_rnn, args, 0), rtol=1e-6, atol=1e-8)
    src = code(g)
    assert "np.broadcast_to(seed, (8,))" in src, src
    # one forward loop (the states), one reversed: no forward loop over hs,
    # and the reversed one over hs is one array operation (a map)
    assert src.count("for ") == 2 and src.count("reversed(") == 1, src


def test_genexp_sum_float32_and_python_scalar():
    args = rnn_data(T=5, H=3, dtype=np.float32)
    v, gs = value_and_grad(genexp_scaled, wrt=(0, 2, 3))(*args, 1.5)
    args64 = [a.astype(np.float64) for a in args] + [1.5]
    assert np.allclose(v, genexp_scaled(*args64), rtol=1e-4)
    assert gs[0].dtype == np.float32
    assert np.allclose(gs[0], fd(genexp_scaled, args64, 0), rtol=2e-3, atol=2e-4)
    assert np.allclose(gs[1], fd(genexp_scaled, args64, 2), rtol=2e-3, atol=2e-4)
    c_fd = fd(lambda a, b, h, c: genexp_scaled(a, b, h, float(c)),
              args64[:3] + [np.array(1.5)], 3)
    assert np.allclose(gs[2], c_fd, rtol=2e-3, atol=2e-4)


# ------------------------------------------------------------------ random loop programs

_EXPRS = [
    "{y} + 0.05 * np.sin({a} * {y})",
    "{y} - 0.03 * np.cos({y} - {a}) * {y}",
    "np.tanh({a} * {y} + 0.1)",
    "{y} + 0.02 * np.sqrt(np.square({y}) + {a})",
    "np.maximum({y}, -{a}) * 0.9 + 0.01 * np.exp(-np.square({y}))",
    "{y} + 0.04 * np.sin({y} / (1.5 + {a}))",
    "0.5 * ({y} + np.tanh(({y} - {a}) * {y}))",
]


def _program(seed):
    """``f(k, c, y0)``: one loop or two nested loops over constant ranges
    (or an inner ``range(m)`` of an argument), a step drawn from _EXPRS
    with operands k (the state's shape) or c (broadcast), the loss a sum,
    a sum of squares, or a per-step sum."""
    r = np.random.default_rng(seed)
    a = ["k", "c"][r.integers(2)]
    step = _EXPRS[r.integers(len(_EXPRS))].format(y="y", a=a)
    step2 = _EXPRS[r.integers(len(_EXPRS))].format(y="y", a="k")
    shape = int(r.integers(3))
    lines = ["def f(k, c, y0, m):", "    y = y0", "    acc = 0.0"]
    if shape == 0:
        lines.append(f"    for t in range({int(r.integers(0, 9))}):")
        if r.integers(2):
            lines.append("        acc = acc + np.sum(y * k)")
        lines.append(f"        y = {step}")
    else:
        inner = f"range({int(r.integers(1, 4))})" if shape == 1 else "range(m)"
        lines.append(f"    for t in range({int(r.integers(0, 6))}):")
        if r.integers(2):
            lines.append("        acc = acc + np.sum(y * k)")
        lines += [f"        for s in {inner}:", f"            y = {step}"]
    if r.integers(2):
        lines.append(f"        y = {step2}")
    lines.append(["    return acc + np.sum(y)", "    return acc + np.sum(y ** 2)",
                  "    return acc + np.sum(y * c)"][r.integers(3)])
    return "\n".join(lines) + "\n"


def _load(src, seed):
    import linecache
    name = f"<loops9-{seed}>"
    linecache.cache[name] = (len(src), None, src.splitlines(True), name)
    ns = {"np": np}
    exec(compile(src, name, "exec"), ns)
    return ns["f"]


@pytest.mark.parametrize("seed", range(40))
def test_random_loop_programs(seed):
    src = _program(seed)
    f = _load(src, seed)
    r = np.random.default_rng(1000 + seed)
    k = r.uniform(0.5, 1.5, (3, 4))
    c = r.uniform(0.5, 1.5, (1, 4))
    y0 = r.uniform(-1, 1, (3, 4))
    vg = value_and_grad(f, wrt=(0, 1, 2))
    for m in (2, 0, 2, 3):
        args = (k, c, y0, m)
        v, gs = vg(*args)
        assert np.allclose(v, f(*args), rtol=1e-12, atol=1e-12), src
        for i in range(3):
            assert np.allclose(gs[i], fd(f, args, i), rtol=1e-5, atol=1e-7), (src, i)
    g = grad(f, wrt=(0, 2))
    for _ in range(2):
        got = g(k, c, y0, 2)
        assert np.allclose(got[0], fd(f, (k, c, y0, 2), 0), rtol=1e-5, atol=1e-7), src
        assert np.allclose(got[1], fd(f, (k, c, y0, 2), 2), rtol=1e-5, atol=1e-7), src
    # float32: the same program in single precision
    a32 = [x.astype(np.float32) for x in (k, c, y0)] + [2]
    v32, g32 = value_and_grad(f, wrt=(0, 2))(*a32)
    assert g32[0].dtype == np.float32
    assert np.allclose(v32, f(k, c, y0, 2), rtol=1e-3, atol=1e-3), src
    assert np.allclose(g32[1], fd(f, (k, c, y0, 2), 2), rtol=1e-2, atol=1e-3), src
