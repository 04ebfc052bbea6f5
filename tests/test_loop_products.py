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
