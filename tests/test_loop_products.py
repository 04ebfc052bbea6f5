"""The hoisted loop products (runtime.matmul_vjp_a_sum & co.) on per-step lists
and on arrays stacked once by ``stack_steps``: equal to the per-step sums."""
import numpy as np
import pytest

from s2sgrad import grad, runtime as rt

rng = np.random.default_rng(0)


def _cases():
    a2 = rng.normal(size=(4, 3))
    # (a, per-step g, per-step b) for a @ b_t = g_t
    yield a2, [rng.normal(size=4) for _ in range(5)], [rng.normal(size=3) for _ in range(5)]
    yield a2, [rng.normal(size=(4, 2)) for _ in range(5)], [rng.normal(size=(3, 2))
                                                             for _ in range(5)]
    yield rng.normal(size=(2, 4, 3)), [rng.normal(size=(2, 4)) for _ in range(3)], \
        [rng.normal(size=3) for _ in range(3)]


@pytest.mark.parametrize("case", list(_cases()))
@pytest.mark.parametrize("stacked", [False, True])
def test_matmul_vjp_a_sum(case, stacked):
    a, gs, bs = case
    expected = sum(rt.matmul_vjp_a(g, a, b) for g, b in zip(gs, bs))
    G, B = (rt.stack_steps(gs), rt.stack_steps(bs)) if stacked else (gs, bs)
    np.testing.assert_allclose(rt.matmul_vjp_a_sum(G, a, B), expected, rtol=1e-12)


@pytest.mark.parametrize("stacked", [False, True])
def test_matmul_vjp_b_sum(stacked):
    b = rng.normal(size=(3, 2))
    for as_, gs in (([rng.normal(size=3) for _ in range(4)], [rng.normal(size=2)
                                                              for _ in range(4)]),
                    ([rng.normal(size=(5, 3)) for _ in range(4)], [rng.normal(size=(5, 2))
                                                                   for _ in range(4)])):
        expected = sum(rt.matmul_vjp_b(g, a, b) for g, a in zip(gs, as_))
        G, A = (rt.stack_steps(gs), rt.stack_steps(as_)) if stacked else (gs, as_)
        np.testing.assert_allclose(rt.matmul_vjp_b_sum(G, A, b), expected, rtol=1e-12)


def test_empty_and_ragged_steps():
    a = np.ones((2, 3))
    assert rt.stack_steps([]) is None
    np.testing.assert_array_equal(rt.matmul_vjp_a_sum(rt.stack_steps([]), a, None),
                                  np.zeros((2, 3)))
    np.testing.assert_array_equal(rt.unbroadcast_sum(None, np.ones(3)), np.zeros(3))
    ragged = [np.ones(2), np.ones(3)]
    assert rt.stack_steps(ragged) is ragged               # left as a list
    x = np.ones(3)
    np.testing.assert_array_equal(rt.unbroadcast_sum([np.ones(3), np.ones((2, 3))], x),
                                  [3.0, 3.0, 3.0])
    s = rt.stack_steps([np.ones(2), 2 * np.ones(2)])
    assert rt.stack_steps(s) is s                          # idempotent


def rnn(Wh, Wx, b, xs, h):
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + Wx @ xs[t] + b)
    return np.sum(h ** 2)


def test_rnn_stacks_each_list_once_and_matches_unrolled():
    Wh, Wx, b = rng.normal(size=(4, 4)) * 0.4, rng.normal(size=(4, 2)), rng.normal(size=4)
    xs, h0 = rng.normal(size=(6, 2)), rng.normal(size=4)
    g = grad(rnn, wrt=(0, 1, 2))
    g(Wh, Wx, b, xs, h0)
    got = g(Wh, Wx, b, xs, h0)                             # the shape-specialised code
    src = g.source
    # polymorphic: each per-step list stacked once after the loop
    assert "stack_steps(" in g.generic_source
    # specialised: the factors are written into arrays as the loop runs (the
    # x_t are the rows of xs itself), nothing is stacked after it
    assert "stack_steps" not in src and "unzip" not in src, src
    assert "stepsT @ xs" in src, src
    # the step's Wh.T @ g as g @ Wh (one BLAS call, no transposed view to hoist)
    assert "Wh.T" not in src and "@ Wh\n" in src, src

    def unrolled(Wh, Wx, b):
        h = h0
        for t in range(6):
            h = np.tanh(Wh @ h + Wx @ xs[t] + b)
        return np.sum(h ** 2)
    eps, num = 1e-6, []
    for k, p in enumerate((Wh, Wx, b)):
        d = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            e = np.zeros_like(p)
            e[i] = eps
            args = [Wh, Wx, b]
            args[k] = p + e
            up = unrolled(*args)
            args[k] = p - e
            d[i] = (up - unrolled(*args)) / (2 * eps)
        num.append(d)
    for a, n in zip(got, num):
        np.testing.assert_allclose(a, n, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("stacked", [False, True])
def test_dot_vjp_sums_match_the_per_step_sums(stacked):
    # np.dot of a matrix and steps of one or two dimensions (a matrix product)
    # and of N-d steps (a sum over the second-to-last axis: not matmul's)
    a = rng.normal(size=(4, 3))
    for gs, bs in (([rng.normal(size=4) for _ in range(5)], [rng.normal(size=3) for _ in range(5)]),
                   ([rng.normal(size=(4, 2)) for _ in range(5)],
                    [rng.normal(size=(3, 2)) for _ in range(5)]),
                   ([rng.normal(size=(4, 2, 5)) for _ in range(3)],
                    [rng.normal(size=(2, 3, 5)) for _ in range(3)])):
        expected = sum(rt.dot_vjp_a(g, a, b) for g, b in zip(gs, bs))
        G, B = (rt.stack_steps(gs), rt.stack_steps(bs)) if stacked else (gs, bs)
        np.testing.assert_allclose(rt.dot_vjp_a_sum(G, a, B), expected, rtol=1e-12)
    b = rng.normal(size=(3, 2))
    for as_, gs in (([rng.normal(size=3) for _ in range(4)], [rng.normal(size=2) for _ in range(4)]),
                    ([rng.normal(size=(5, 3)) for _ in range(4)],
                     [rng.normal(size=(5, 2)) for _ in range(4)]),
                    ([rng.normal(size=(2, 5, 3)) for _ in range(4)],
                     [rng.normal(size=(2, 5, 2)) for _ in range(4)])):
        expected = sum(rt.dot_vjp_b(g, x, b) for g, x in zip(gs, as_))
        G, A = (rt.stack_steps(gs), rt.stack_steps(as_)) if stacked else (gs, as_)
        np.testing.assert_allclose(rt.dot_vjp_b_sum(G, A, b), expected, rtol=1e-12)
    np.testing.assert_array_equal(rt.dot_vjp_a_sum(None, a, None), np.zeros((4, 3)))
    np.testing.assert_array_equal(rt.dot_vjp_b_sum([], None, b), np.zeros((3, 2)))


def rnn_dot(Wh, Wx, b, xs, h):
    for t in range(xs.shape[0]):
        h = np.tanh(np.dot(Wh, h) + Wx.dot(xs[t]) + b)
    return np.sum(h ** 2)


def rnn_dot_right(Wh, Wx, b, xs, h):
    # rows: the weights on the right (x_t W)
    for t in range(xs.shape[0]):
        h = np.tanh(np.dot(h, Wh) + np.matmul(xs[t], Wx) + b)
    return np.sum(h ** 2)


def rnn_dot_nd(W, xs, h):
    # np.dot of a matrix and a 3-d state: not a matrix product (no hoisted matmul)
    for t in range(xs.shape[0]):
        h = np.tanh(np.dot(W, h) + xs[t])
    return np.sum(h ** 2)


def _fd(f, args, k, eps=1e-6):
    p = args[k]
    d = np.zeros_like(p)
    for i in np.ndindex(p.shape):
        e = np.zeros_like(p)
        e[i] = eps
        up = f(*args[:k], p + e, *args[k + 1:])
        d[i] = (up - f(*args[:k], p - e, *args[k + 1:])) / (2 * eps)
    return d


@pytest.mark.parametrize("f,left", [(rnn_dot, True), (rnn_dot_right, False)])
@pytest.mark.parametrize("batch", [None, 3])
def test_dot_rnn_hoists_the_weight_products(f, left, batch):
    n, m, T = 4, 2, 6
    shape = (n,) if batch is None else ((n, batch) if left else (batch, n))
    Wh = rng.normal(size=(n, n)) * 0.4
    Wx = rng.normal(size=(n, m)) if left else rng.normal(size=(m, n))
    b = rng.normal(size=n if (batch is None or not left) else (n, 1))
    xs = rng.normal(size=(T, m) if batch is None else ((T, m, batch) if left else (T, batch, m)))
    h0 = rng.normal(size=shape)
    args = (Wh, Wx, b, xs, h0)
    g = grad(f, wrt=(0, 1, 2))
    g(*args)
    got = g(*args)                                   # the shape-specialised code
    for k, a in enumerate(got):
        np.testing.assert_allclose(a, _fd(f, args, k), rtol=1e-6, atol=1e-8)
    # no per-step weight product in the reversed loop: one product after it
    rev = g.source.split("for t_1 in reversed")[1]
    body = [ln for ln in rev.splitlines() if ln.startswith("        ")]
    assert not any("vjp" in ln or "Wh_bar" in ln or "Wx_bar" in ln for ln in body), g.source
    if batch is None:        # vectors per step: the product is printed (G.T @ B)
        assert "_sum(" not in g.source, g.source


def test_dot_of_a_3d_state_keeps_np_dot_semantics():
    W = rng.normal(size=(3, 3)) * 0.5
    xs = rng.normal(size=(4, 3, 3, 2))
    h0 = rng.normal(size=(3, 3, 2))          # np.dot(W, h) is (3, 3, 2) again
    g = grad(rnn_dot_nd, wrt=(0, 2))
    g(W, xs, h0)
    got = g(W, xs, h0)
    for k, a in zip((0, 2), got):
        np.testing.assert_allclose(a, _fd(rnn_dot_nd, (W, xs, h0), k), rtol=1e-6, atol=1e-8)
