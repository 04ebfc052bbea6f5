"""Lists built in known-length loops and read after the loop other ways than
``np.stack`` (``hs[-1]``, ``hs[k]``, ``for h in hs:``, ``len(hs)``,
comprehensions over the list): values against plain NumPy, gradients
against central differences (float64), float32, trip counts 0 and 1,
broadcasting, repeated reads, and the aliasing cases that must keep the
general list code.  The generated code of the specialised forms is checked
for what the list machinery promises (the list cotangent one array written
``hs_bar[k] += g``, the reads rows of the state tape or of the list's own
array, no list left)."""
import re

import numpy as np
import pytest

from s2sgrad import grad, value_and_grad
from tests.test_list_loops7 import data, fd     # central differences; an RNN's W, xs, h0


def code(g):
    return "\n".join(l for l in g.source.splitlines() if not l.strip().startswith("#"))


# ------------------------------------------------------------------ programs

def last_and_first(W, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    return np.sum(hs[-1] * hs[0])


def index_k(W, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    return np.sum(hs[1] ** 2) + np.sum(hs[-2] * xs[0]) + np.sum(hs[1])


def iterate_after(W, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    s = 0.0
    for g in hs:
        s = s + np.sum(g ** 2)
    return s


def genexp_sum(W, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    return sum(np.sum(g ** 2) for g in hs)


def len_mean(W, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    s = 0.0
    for g in hs:
        s = s + np.sum(g * xs[0])
    return s / len(hs)


def reversed_index(W, xs, h0):
    # a run-time index counting from the end: hs[-1 - t]
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    s = 0.0
    for t in range(xs.shape[0]):
        s = s + np.sum(hs[-1 - t] * xs[t])
    return s


def index_and_stack(W, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    return np.sum(np.stack(hs) ** 2) + np.sum(hs[-1] * 3.0)


def broadcast_read(W, xs, h0):
    # the cotangent of a row read into a broadcast: (H,) row, (2, H) use
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    return np.sum(hs[-1] * np.ones((2, 1)) * xs[:2]) + np.sum(hs[0] * 2.0)


def losses_last(W, xs, h0):
    # a list of values the backward does not need (its own array), read by index
    h = h0
    losses = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        losses.append(np.sum((h - 0.1) ** 2))
    return losses[-1] + 0.5 * losses[0]


def vectors_own(W, xs, h0):
    # appended values that are not the state: their own array, read by index
    h = h0
    gs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        gs.append(np.sin(h) * xs[t])
    s = 0.0
    for g in gs:
        s = s + np.sum(g * g)
    return s + np.sum(gs[-1])


def repeated_reads(W, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    a = hs[0]
    return np.sum(a * hs[0]) + np.sum(hs[-1] * hs[-1]) + np.sum(a * hs[-1])


def two_lists_indexed(W, xs, h0):
    h = h0
    hs = []
    gs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
        gs.append(np.cos(h))
    s = 0.0
    for t in range(xs.shape[0]):
        s = s + np.sum(hs[t] * gs[t])
    return s


PROGRAMS = [last_and_first, index_k, iterate_after, genexp_sum, len_mean, reversed_index,
            index_and_stack, broadcast_read, losses_last, vectors_own, repeated_reads,
            two_lists_indexed]
ZERO_OK = [iterate_after, genexp_sum, two_lists_indexed]   # no fixed index: T = 0 runs


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_value_and_gradient(f):
    vg = value_and_grad(f, wrt=(0, 1, 2))
    for args in (data(), data(T=9, H=3, seed=1), data()):
        v, gs = vg(*args)
        assert np.allclose(v, f(*args), rtol=1e-12, atol=1e-12)
        for i, g in enumerate(gs):
            assert g.shape == args[i].shape and g.dtype == np.float64
            assert np.allclose(g, fd(f, args, i), rtol=1e-6, atol=1e-7), (f.__name__, i)


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_grad_alone(f):
    args = data(T=7, H=5, seed=2)
    g = grad(f, wrt=(0, 2))(*args)
    assert np.allclose(g[0], fd(f, args, 0), rtol=1e-6, atol=1e-7)
    assert np.allclose(g[1], fd(f, args, 2), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_float32(f):
    args = data(dtype=np.float32)
    v, g = value_and_grad(f, wrt=0)(*args)
    assert np.allclose(v, f(*args), rtol=1e-5, atol=1e-5)
    ref = fd(f, [a.astype(np.float64) for a in args], 0)
    assert np.allclose(g, ref, rtol=2e-3, atol=2e-4)


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_one_step(f):
    args = data(T=1, H=3, seed=4)
    if f in (index_k,):
        with pytest.raises(IndexError):
            f(*args)
        return
    v, g = value_and_grad(f)(*args)
    assert np.allclose(v, f(*args))
    assert np.allclose(g, fd(f, args, 0), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("f", ZERO_OK, ids=lambda f: f.__name__)
def test_zero_steps(f):
    args = data(T=0, H=3)
    v, g = value_and_grad(f, wrt=(0, 2))(*args)
    assert np.allclose(v, f(*args))
    assert np.allclose(g[0], 0.0) and np.allclose(g[1], 0.0)
    assert g[0].shape == args[0].shape and g[1].shape == args[2].shape


def test_index_out_of_range_raises_like_python():
    # T = 1: hs[1] does not exist; the generated code must not read a row
    # of the tape that is not one of the list's elements
    args = data(T=1, H=3)
    with pytest.raises(IndexError):
        index_k(*args)
    with pytest.raises(IndexError):
        value_and_grad(index_k)(*args)


# ------------------------------------------------------------------ generated code

@pytest.mark.parametrize("f", [last_and_first, index_k, iterate_after, genexp_sum, len_mean,
                               reversed_index, index_and_stack, repeated_reads,
                               two_lists_indexed], ids=lambda f: f.__name__)
def test_no_list_left(f):
    g = grad(f)
    g(*data(T=20, H=5))
    src = code(g)
    for s in ("hs = []", "hs.append(", "_bar.pop()", "list_zeros", "list_index_add",
              "list_add", "unstack", "unbroadcast", "matmul_vjp"):
        assert s not in src, (f.__name__, s)
    if f is index_and_stack:
        # added into the stack's cotangent (2 * H), row 19
        assert "_t0[-1] += " in src or "_t0[19] += " in src
    elif f in (iterate_after, genexp_sum, len_mean, two_lists_indexed):
        # the reversed loop over hs is a map: one array operation over the
        # rows (list_arrays.vectorise_maps), no loop and no row updates
        assert src.count("for ") == 2, f.__name__
        assert not re.search(r"\w\[\w+\] \+= ", src), f.__name__
    else:
        assert "hs_bar = np.zeros((20, 5), dtype=np.float64)" in src, f.__name__
        assert "hs_bar[" in src and "] += " in src, f.__name__


def test_reads_are_tape_rows():
    g = grad(last_and_first)
    g(*data(T=20, H=5))
    src = code(g)
    assert "= h_tape_1[20]" in src and "= h_tape_1[1]" in src
    g = grad(iterate_after)
    g(*data(T=20, H=5))
    src = code(g)
    # the elements are rows 1..20 of the tape, viewed once after the loop
    assert "h_tape_2 = h_tape_1[1:21]" in src
    assert src.count("h_tape_1[1:21]") == 1


def test_own_array_read_by_index():
    g = value_and_grad(losses_last)
    g(*data(T=20, H=5))
    src = code(g)
    assert "losses = np.empty((20,), dtype=np.float64)" in src
    assert "= losses[19]" in src and "= losses[0]" in src
    assert "losses.append" not in src and "np.asarray" not in src and "list_" not in src
    g = value_and_grad(vectors_own)
    g(*data(T=20, H=5))
    src = code(g)
    assert "gs = np.empty((20, 5), dtype=np.float64)" in src
    assert "append(" not in src and "list_" not in src


def test_stack_of_own_array_is_the_array():
    # np.stack(losses) is the preallocated array itself: no np.asarray step
    def f(W, xs, h0):
        h = h0
        losses = []
        for t in range(xs.shape[0]):
            h = np.tanh(W @ h + xs[t])
            losses.append(np.sum(h ** 2))
        L = np.stack(losses)
        return np.sum(L * np.arange(xs.shape[0]))
    g = value_and_grad(f)
    args = data(T=20, H=5)
    g(*args)
    src = code(g)
    assert "L = np.empty((20,), dtype=np.float64)" in src and "np.asarray" not in src
    v, gr = g(*args)
    assert np.allclose(v, f(*args))
    assert np.allclose(gr, fd(f, args, 0), rtol=1e-6, atol=1e-7)


# ------------------------------------------------------------------ general path kept

def _keep(hs):
    return hs


def list_returned(W, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    return np.sum(hs[-1] ** 2), hs


def list_to_helper_after(W, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    other = _keep(hs)
    return np.sum(other[-1] * hs[0])


def appended_after(W, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    hs.append(2.0 * h0)
    return np.sum(hs[-1] * hs[-2]) + np.sum(hs[0])


def second_name(W, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    b = hs
    b.append(xs[0])
    return np.sum(hs[-1] * hs[-2])


def conditional_then_index(W, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        if t % 2 == 0:
            hs.append(h)
    return np.sum(hs[-1] * hs[0])


def while_then_index(W, xs, h0):
    h = h0
    hs = []
    t = 0
    while t < xs.shape[0]:
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
        t = t + 1
    return np.sum(hs[-1] * hs[0])


def bool_index(W, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    return np.sum(hs[True] * hs[False])


@pytest.mark.parametrize("f", [list_to_helper_after, appended_after, second_name,
                               conditional_then_index, while_then_index, bool_index],
                         ids=lambda f: f.__name__)
def test_general_path_cases(f):
    for args in (data(), data(T=5, H=3, seed=3)):
        v, g = value_and_grad(f, wrt=(0, 2))(*args)
        assert np.allclose(v, f(*args))
        assert np.allclose(g[0], fd(f, args, 0), rtol=1e-6, atol=1e-7)
        assert np.allclose(g[1], fd(f, args, 2), rtol=1e-6, atol=1e-7)


def test_list_returned_keeps_its_elements():
    args = data()
    (v, hs), g = value_and_grad(list_returned, has_aux=True)(*args)
    rv, rhs = list_returned(*args)
    assert np.allclose(v, rv) and len(hs) == len(rhs)
    for a, b in zip(hs, rhs):
        assert np.allclose(a, b)
    assert np.allclose(g, fd(lambda *a: list_returned(*a)[0], args, 0), rtol=1e-6, atol=1e-7)


def test_second_order_through_index_reads():
    from s2sgrad import hvp
    W, xs, h0 = data(T=4, H=3)
    v = np.random.default_rng(1).standard_normal(W.shape)
    for f in (last_and_first, iterate_after):
        gf = grad(f)
        eps = 1e-5
        ref = (gf(W + eps * v, xs, h0) - gf(W - eps * v, xs, h0)) / (2 * eps)
        assert np.allclose(hvp(f)((W, xs, h0), v), ref, rtol=1e-5, atol=1e-7)


def index_list_setitem(W, xs, h0):
    # the list is changed after the loop (hs[0] = ...): the general path
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    hs[0] = 3.0 * hs[1]
    return np.sum(hs[0] * hs[-1])


def index_computed(W, xs, h0):
    # an index computed from a shape (a static int)
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(W @ h + xs[t])
        hs.append(h)
    k = xs.shape[0] - 1
    return np.sum(hs[k] * hs[k - 2])


@pytest.mark.parametrize("f", [index_list_setitem, index_computed],
                         ids=lambda f: f.__name__)
def test_more_index_forms(f):
    for args in (data(), data(T=4, H=2, seed=5)):
        v, g = value_and_grad(f, wrt=(0, 1, 2))(*args)
        assert np.allclose(v, f(*args))
        for i in range(3):
            assert np.allclose(g[i], fd(f, args, i), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("f", [last_and_first, iterate_after, losses_last, vectors_own],
                         ids=lambda f: f.__name__)
def test_jvp(f):
    from s2sgrad import jvp
    args = data()
    v = np.random.default_rng(3).standard_normal(args[0].shape)
    out, tan = jvp(f, wrt=0)(args, (v,))
    assert np.allclose(out, f(*args))
    assert np.allclose(tan, np.sum(fd(f, args, 0) * v), rtol=1e-6, atol=1e-7)
