"""Lists of arrays indexed by a loop index (``W1s[i]`` in ``for i in
range(len(W1s))``): shape specialisation knows the element's shape, the
reversed loop re-reads it instead of saving it, and the list's adjoint is
accumulated in place per element (s2sgrad.specialize: ``_ListExample``,
``accumulate_lists_in_place``).  Values vs NumPy, gradients vs central
differences, float32, checkpointed vs plain."""
import numpy as np
import pytest

import s2sgrad
from s2sgrad import api, grad, value_and_grad


@pytest.fixture
def always(monkeypatch):
    monkeypatch.setattr(api, "SPECIALIZE", "first")


def block(W1, W2, h):
    return h + W2 @ np.tanh(W1 @ h)


@s2sgrad.checkpoint
def block_ckpt(W1, W2, h):
    return h + W2 @ np.tanh(W1 @ h)


def mlp(W1s, W2s, h):
    for i in range(len(W1s)):
        h = block(W1s[i], W2s[i], h)
    return np.sum(h * h)


def mlp_ckpt(W1s, W2s, h):
    for i in range(len(W1s)):
        h = block_ckpt(W1s[i], W2s[i], h)
    return np.sum(h * h)


def mlp_numpy(W1s, W2s, h):
    for W1, W2 in zip(W1s, W2s):
        h = h + W2 @ np.tanh(W1 @ h)
    return np.sum(h * h)


def mlp_backwards(W1s, W2s, h):
    # negative indices, and a list built in the function
    Vs = [W * 0.5 for W in W2s]
    for i in range(len(W1s)):
        h = block(W1s[-1 - i], Vs[-1 - i], h)
    return np.sum(h * h)


def _args(rng, L=3, dtype=np.float64, ragged=False):
    E = [6, 5, 7] if ragged else [6] * L
    W1s = [(rng.standard_normal((E[k], 4)) / 2).astype(dtype) for k in range(L)]
    W2s = [(rng.standard_normal((4, E[k])) / 3).astype(dtype) for k in range(L)]
    return W1s, W2s, rng.standard_normal((4, 3)).astype(dtype)


def _fd(f, args, which, eps=1e-6):
    out = []
    for W in args[which]:
        g = np.zeros_like(W)
        for idx in np.ndindex(W.shape):
            old = W[idx]
            W[idx] = old + eps
            up = f(*args)
            W[idx] = old - eps
            down = f(*args)
            W[idx] = old
            g[idx] = (up - down) / (2 * eps)
        out.append(g)
    return out


@pytest.mark.parametrize("f", [mlp, mlp_backwards])
@pytest.mark.parametrize("ragged", [False, True])
def test_list_indexed_by_loop_value_and_gradient(always, f, ragged):
    rng = np.random.default_rng(0)
    args = _args(rng, ragged=ragged)
    ref = f(*args)
    if f is mlp:
        assert np.isclose(ref, mlp_numpy(*args), rtol=1e-12)
    vg = value_and_grad(f, wrt=(0, 1))
    for _ in range(2):                     # generic, then specialised
        val, (g1, g2) = vg(*args)
        assert np.isclose(val, ref, rtol=1e-12)
        for got, want in zip(g1 + g2, _fd(f, args, 0) + _fd(f, args, 1)):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
    src = vg.source
    if not ragged:
        # the list's adjoint accumulated per element, no list of zeros per step
        assert "list_index_add" not in src, src
        assert "_bar += " in src, src
    # (elements of different shapes: W1s[i] is not known, the general code runs)


def test_list_indexed_float32_and_checkpoint(always):
    rng = np.random.default_rng(1)
    args = _args(rng, L=4)
    plain = grad(mlp, wrt=(0, 1))
    ckpt = grad(mlp_ckpt, wrt=(0, 1))
    for _ in range(2):
        p, c = plain(*args), ckpt(*args)
        for a, b in zip(p[0] + p[1], c[0] + c[1]):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert "list_index_add" not in ckpt.source
    args32 = _args(np.random.default_rng(1), L=4, dtype=np.float32)
    g32 = grad(mlp, wrt=(0, 1))
    for _ in range(2):
        q = g32(*args32)
        for a, b in zip(q[0] + q[1], p[0] + p[1]):
            assert a.dtype == np.float32
            np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-4)


def test_list_element_read_twice_in_a_step(always):
    # W1s[i] and W1s[i + 1 - 1]: two adjoints into one accumulator per step
    def f(Ws, h):
        for i in range(len(Ws)):
            h = np.tanh(Ws[i] @ h) + Ws[i + 1 - 1] @ h
        return np.sum(h)
    rng = np.random.default_rng(2)
    Ws = [rng.standard_normal((3, 3)) / 2 for _ in range(3)]
    h = rng.standard_normal(3)
    g = grad(f)
    for _ in range(2):
        got = g(Ws, h)
        for a, b in zip(got, _fd(f, (Ws, h), 0)):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)


def test_list_element_never_written_gets_zeros(always):
    # the accumulators start empty: an element the loop never reads still
    # gets a zero gradient of its shape and dtype
    def f(Ws, h):
        for i in range(1, len(Ws)):
            h = np.tanh(Ws[i] @ h)
        return np.sum(h)
    rng = np.random.default_rng(3)
    Ws = [rng.standard_normal((3, 3)) / 2 for _ in range(4)]
    h = rng.standard_normal((3, 2))
    g = grad(f)
    for _ in range(2):
        got = g(Ws, h)
        assert np.array_equal(got[0], np.zeros((3, 3))) and got[0].dtype == np.float64
        for a, b in zip(got, _fd(f, (Ws, h), 0)):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)
    assert "is None" in g.source and "np.zeros_like" in g.source, g.source
