"""Weight gradients of matrix products in a loop added up per step
(tapes._Tapes._accumulate_products) when the hoisted factor arrays would be
large beside the weights -- the GRU row of benchmarks/bench_core.py, 1.22x
hand before (four 1.6 MB factor arrays page-faulted in each call), and the
codegen rule that writes such an accumulation into its carry's buffer
(``acc += p``).  Each program: value vs plain NumPy, gradient vs central
differences (float64, along random directions: the programs are large on
purpose), float32, a Python float, a variable used twice, both sides of the
product (``x @ W`` and ``W @ h``); small programs (below the size test) and
weights large beside the rows (the RNN rows) keep the stacked factors."""
import re

import numpy as np
import pytest

from s2sgrad import api, grad, value_and_grad

rng = np.random.default_rng(1324)


@pytest.fixture(autouse=True)
def _first(monkeypatch):
    monkeypatch.setattr(api, "SPECIALIZE", "first")


def _sig(a):
    return 1.0 / (1.0 + np.exp(-a))


def gru(Wz, Uz, Wr, Ur, Wn, Un, xs, h0, target):
    h = h0
    for t in range(xs.shape[0]):
        x = xs[t]
        z = 1.0 / (1.0 + np.exp(-(x @ Wz + h @ Uz)))
        r = 1.0 / (1.0 + np.exp(-(x @ Wr + h @ Ur)))
        c = np.tanh(x @ Wn + (r * h) @ Un)
        h = (1.0 - z) * c + z * h
    return 0.5 * np.sum((h - target) ** 2)


def gated_cols(Wa, Wb, xs, h0, s):
    """States as columns (``W @ h``: the other side of the product), a Python
    float ``s``, the row ``x`` read twice."""
    h = h0
    for t in range(xs.shape[0]):
        x = xs[t]
        a = np.tanh(Wa @ h + s * x)
        b = _sig(Wb @ h - x)
        h = a * b + (1.0 - b) * h
    return np.sum(h * h) + s * np.sum(h)


def _gru_args(T, H, n_in, B, dtype=np.float64):
    Ws = []
    for _ in range(3):
        Ws.append(rng.standard_normal((n_in, H)) / np.sqrt(n_in))
        Ws.append(rng.standard_normal((H, H)) / np.sqrt(H))
    xs = rng.standard_normal((T, B, n_in))
    h0 = 0.1 * rng.standard_normal((B, H))
    target = 0.5 * rng.standard_normal((B, H))
    return tuple(a.astype(dtype) for a in Ws + [xs, h0, target])


def _cols_args(T, H, B):
    Wa = rng.standard_normal((H, H)) / np.sqrt(H)
    Wb = rng.standard_normal((H, H)) / np.sqrt(H)
    xs = rng.standard_normal((T, H, B))
    h0 = 0.1 * rng.standard_normal((H, B))
    return Wa, Wb, xs, h0, 0.7


def _check_fd(f, args, wrt, got, eps=1e-6, tol=1e-6, dirs=3):
    """<grad, v> against the central difference of f along random v."""
    for _ in range(dirs):
        vs = [rng.standard_normal(np.shape(args[k])) for k in wrt]
        up, dn = list(args), list(args)
        for k, v in zip(wrt, vs):
            up[k] = args[k] + eps * v
            dn[k] = args[k] - eps * v
        num = (f(*up) - f(*dn)) / (2 * eps)
        ana = sum(float(np.sum(g * v)) for g, v in zip(got, vs))
        assert abs(num - ana) <= tol * max(1.0, abs(num)), (num, ana)


def _accumulated(src) -> bool:
    """Per-step accumulation into a carry (``_t0 += _t19``) and no stacked
    factor product after the loop."""
    return re.search(r"^\s+\w+ \+= \w+T @ \w+$|^\s+\w+ \+= _t\d+$", src, re.M) is not None and \
        "matmul_vjp" not in src and "steps" not in src


def test_gru_large_accumulates_per_step():
    args = _gru_args(T=12, H=96, n_in=24, B=128)      # 12 x 128 x 96 x 8 B = 1.2 MB per factor
    wrt = (0, 1, 2, 3, 4, 5)
    g = value_and_grad(gru, wrt=wrt)
    for _ in range(2):
        v, got = g(*args)
        np.testing.assert_allclose(v, gru(*args), rtol=1e-13)
        for k, a in zip(wrt, got):
            assert a.shape == args[k].shape and a.dtype == np.float64
        _check_fd(gru, args, wrt, got)
    assert _accumulated(g.source), g.source
    # the same numbers as the stacked form (up to the order of the sum)
    small = grad(gru, wrt=wrt)
    ref = small(*[a.copy() for a in args])
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_gru_large_float32():
    args = _gru_args(T=12, H=96, n_in=24, B=128, dtype=np.float32)
    wrt = (0, 1, 2, 3, 4, 5)
    g = grad(gru, wrt=wrt)
    got = g(*args)
    assert _accumulated(g.source), g.source
    ref = grad(gru, wrt=wrt)(*[a.astype(np.float64) for a in args])
    for a, b in zip(got, ref):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-4)


def test_columns_python_float_and_repeated_row():
    args = _cols_args(T=10, H=48, B=320)               # 10 x 48 x 320 x 8 B = 1.2 MB
    wrt = (0, 1)
    g = value_and_grad(gated_cols, wrt=wrt)
    for _ in range(2):
        v, got = g(*args)
        np.testing.assert_allclose(v, gated_cols(*args), rtol=1e-13)
        _check_fd(gated_cols, args, wrt, got)
    assert _accumulated(g.source), g.source
    # the gradient with respect to the Python float too (it joins no product)
    g2 = grad(gated_cols, wrt=(0, 4))
    got2 = g2(*args)
    assert isinstance(got2[1], float) or np.ndim(got2[1]) == 0
    num = (gated_cols(*args[:4], args[4] + 1e-6) - gated_cols(*args[:4], args[4] - 1e-6)) / 2e-6
    np.testing.assert_allclose(float(got2[1]), num, rtol=1e-6)
    np.testing.assert_allclose(got2[0], got[0], rtol=1e-12, atol=1e-14)


def test_small_keeps_stacked_factors():
    # 6 x 8 x 16 x 8 B per factor: heap memory, one product after the loop
    args = _gru_args(T=6, H=16, n_in=5, B=8)
    wrt = (0, 1, 2, 3, 4, 5)
    g = value_and_grad(gru, wrt=wrt)
    v, got = g(*args)
    np.testing.assert_allclose(v, gru(*args), rtol=1e-13)
    _check_fd(gru, args, wrt, got)
    assert not _accumulated(g.source), g.source


def test_large_weights_keep_stacked_factors():
    # the RNN rows' shape: one factor array, weights many times its row
    def rnn(Wh, Wx, xs, h0):
        h = h0
        for t in range(xs.shape[0]):
            h = np.tanh(Wh @ h + Wx @ xs[t])
        return np.sum(h ** 2)
    H, B, T = 256, 8, 80                            # 80 x 256 x 8 x 8 B = 1.3 MB
    args = (rng.standard_normal((H, H)) / 16, rng.standard_normal((H, 4)) / 2,
            rng.standard_normal((T, 4, B)), 0.1 * rng.standard_normal((H, B)))
    g = value_and_grad(rnn, wrt=(0, 1))
    v, got = g(*args)
    np.testing.assert_allclose(v, rnn(*args), rtol=1e-12)
    _check_fd(rnn, args, (0, 1), got)
    assert not _accumulated(g.source), g.source
