"""perf-loops11: two derivative forms behind proofs.

1. The adjoint of ``Z[np.arange(n), labels]`` (s2sgrad.distinct): an index
   that provably selects no element twice (an ``np.arange`` of one sign, or
   ``np.argsort`` of a 1-d array, already of the index arrays' broadcast
   shape) accumulates with ``acc[idx] += g`` instead of ``np.add.at`` -- the
   same additions, one per element.  Repeated indices, an arange that
   broadcasting replicates, mixed-sign aranges and boolean masks keep
   ``np.add.at`` and still accumulate.
2. The logistic sigmoid ``1 / (1 + np.exp(-z))`` (s2sgrad.invariance.
   link_sigmoids): the user's value, bit for bit, differentiated as
   ``s (1 - s)`` from the output alone (the backward pass keeps ``s``, not
   ``e^-z`` and ``1 + e^-z``).  Chains whose parts have other uses are not
   linked and stay right.

Values against plain NumPy, gradients against central differences (float64),
float32, broadcasting, Python scalars, second order."""
import numpy as np
import pytest

from s2sgrad import grad, hessian, value_and_grad
from tests.test_list_loops7 import fd
from tests.test_loops9 import code


def _xent(W, X, labels):
    Z = X @ W
    m = np.max(Z, axis=1, keepdims=True)
    lse = np.log(np.sum(np.exp(Z - m), axis=1)) + m[:, 0]
    return np.mean(lse - Z[np.arange(X.shape[0]), labels])


def _xdata(n=7, d=3, k=4, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((d, k)).astype(dtype), rng.standard_normal((n, d)).astype(dtype),
            rng.integers(0, k, n))


# ------------------------------------------------------------------ distinct scatter

def test_arange_rows_scatter_without_add_at():
    W, X, labels = _xdata()
    g = grad(_xent)
    got = g(W, X, labels)
    src = code(g)
    # the mean's seed -1/n added at the picked elements: no broadcast array
    assert "np.add.at" not in src and "labels] -= " in src, src
    assert "broadcast_to" not in src, src
    np.testing.assert_allclose(got, fd(_xent, (W, X, labels), 0), rtol=1e-6, atol=1e-8)
    v, _ = value_and_grad(_xent)(W, X, labels)
    assert v == _xent(W, X, labels)


def test_arange_rows_scatter_float32():
    W, X, labels = _xdata(dtype=np.float32)
    gf = grad(_xent)
    g = gf(W, X, labels)
    assert "labels] -= " in code(gf)
    assert g.dtype == np.float32
    ref = fd(_xent, (W.astype(np.float64), X.astype(np.float64), labels), 0)
    np.testing.assert_allclose(g, ref, rtol=2e-3, atol=2e-4)


def test_arange_same_as_add_at_bitwise():
    # each element receives one addition either way: the same numbers
    W, X, labels = _xdata(n=50, k=5, seed=3)

    def loss(W, X, labels):
        Z = X @ W
        return np.sum(Z * Z) + np.sum(np.sin(Z[np.arange(X.shape[0]), labels]))

    got = grad(loss)(W, X, labels)
    Z = X @ W
    gz = 2 * Z
    np.add.at(gz, (np.arange(50), labels), np.cos(Z[np.arange(50), labels]))
    np.testing.assert_allclose(got, X.T @ gz, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(got, fd(loss, (W, X, labels), 0), rtol=1e-6, atol=1e-7)


def _pick(idx_of):
    def loss(W, X, labels):
        Z = X @ W
        return np.sum(Z ** 2) + np.sum(np.sin(Z[idx_of(X), labels]))
    return loss


@pytest.mark.parametrize("name, idx_of, proven", [
    ("arange", lambda X: np.arange(X.shape[0]), True),
    ("arange_stop_start", lambda X: np.arange(0, X.shape[0]), True),
    ("reversed_arange", lambda X: np.arange(X.shape[0] - 1, -1, -1), True),
    ("argsort", lambda X: np.argsort(X[:, 0]), True),
    # repeats: row 0 twice -- must accumulate
    ("repeats", lambda X: np.array([0, 0, 1, 2, 3, 4, 5]), False),
    ("runtime_ints", lambda X: (X[:, 0] > 0).astype(int), False),
    # one sign broken: -1 and 6 are the same row of 7
    ("mixed_sign", lambda X: np.arange(-1, X.shape[0] - 1), False),
])
def test_index_proofs(name, idx_of, proven):
    W, X, labels = _xdata()
    if name == "mixed_sign":
        labels = np.where(np.arange(7) == 0, labels[6], labels)   # -1 and 6 same element
    loss = _pick(idx_of)
    g = grad(loss)
    got = g(W, X, labels)
    assert ("np.add.at" not in code(g)) == proven, code(g)
    np.testing.assert_allclose(got, fd(loss, (W, X, labels), 0), rtol=1e-6, atol=1e-7)


def test_replicated_arange_keeps_add_at():
    # arange(n) broadcast against (m, n) labels: every row selected m times
    W, X, _ = _xdata()
    labels = np.zeros((3, 7), dtype=int)
    labels[1] = 1

    def loss(W, X, labels):
        Z = X @ W
        return np.sum(Z ** 2) + np.sum(np.sin(Z[np.arange(X.shape[0]), labels]))
    g = grad(loss)
    got = g(W, X, labels)
    assert "np.add.at" in code(g)
    np.testing.assert_allclose(got, fd(loss, (W, X, labels), 0), rtol=1e-6, atol=1e-7)


def test_column_arange_broadcast_keeps_add_at():
    W, X, _ = _xdata()
    cols = np.array([[0, 0], [1, 1], [2, 0], [3, 3], [0, 1], [1, 2], [2, 2]])

    def loss(W, X, cols):
        Z = X @ W
        return np.sum(Z ** 2) + np.sum(np.sin(Z[np.arange(X.shape[0])[:, None], cols]))
    g = grad(loss)
    got = g(W, X, cols)
    assert "np.add.at" in code(g)
    np.testing.assert_allclose(got, fd(loss, (W, X, cols), 0), rtol=1e-6, atol=1e-7)


def test_mlp_benchmark_scatter_and_values():
    import sys, os
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
    import bench_core as b
    rng = np.random.default_rng(0)
    args, kw, wrt = b.make_mlp_l2(20, 4, 6, 3, rng)
    g = grad(b.mlp_l2_loss, wrt=wrt)
    got = g(*args, **kw)
    assert "np.add.at" not in code(g)
    for a, h in zip(got, b.mlp_l2_hand(*args, **kw)):
        np.testing.assert_allclose(a, h, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ sigmoid

def _sig_a(w, X):
    return np.sum(1.0 / (1.0 + np.exp(-(X @ w))) * np.arange(X.shape[0]))


def _sig_b(w, X):
    return np.sum(np.log1p(1 / (np.exp(-(X @ w)) + 1)))


def _sig_bcast(w, b, X):
    # z broadcasts a vector bias and a Python-float scale
    s = 1.0 / (1.0 + np.exp(-(X * w + b) * 0.7))
    return np.sum(s ** 2)


def _sdata(dtype=np.float64):
    rng = np.random.default_rng(1)
    return rng.standard_normal(4).astype(dtype), rng.standard_normal((6, 4)).astype(dtype)


def _sig_c(w, X):
    e = np.exp(X @ w)
    return np.sum(np.cos(e / (1.0 + e)))


@pytest.mark.parametrize("f", [_sig_a, _sig_b, _sig_c])
def test_sigmoid_linked(f):
    w, X = _sdata()
    g = grad(f)
    got = g(w, X)
    src = code(g)
    # the quotient rule's e^-z / (1 + e^-z)^2 is gone: one division (the forward's)
    assert src.count("exp(") == 1 and "1 - " in src, src
    np.testing.assert_allclose(got, fd(f, (w, X), 0), rtol=1e-6, atol=1e-8)
    v, _ = value_and_grad(f)(w, X)
    assert v == f(w, X)          # the user's value, bit for bit


def test_sigmoid_float32_and_broadcast():
    w, X = _sdata(np.float32)
    b = np.float32(0.3) * np.ones(4, dtype=np.float32)
    gw, gb = grad(_sig_bcast, wrt=(0, 1))(w, b, X)
    assert gw.dtype == gb.dtype == np.float32
    w64, b64, X64 = w.astype(float), b.astype(float), X.astype(float)
    np.testing.assert_allclose(gw, fd(_sig_bcast, (w64, b64, X64), 0), rtol=2e-3, atol=1e-4)
    np.testing.assert_allclose(gb, fd(_sig_bcast, (w64, b64, X64), 1), rtol=2e-3, atol=1e-4)
    gw64, gb64 = grad(_sig_bcast, wrt=(0, 1))(w64, b64, X64)
    np.testing.assert_allclose(gw64, fd(_sig_bcast, (w64, b64, X64), 0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gb64, fd(_sig_bcast, (w64, b64, X64), 1), rtol=1e-6, atol=1e-8)


def test_sigmoid_python_scalar():
    def f(a):
        return 1.0 / (1.0 + np.exp(-a))
    for a in (0.3, -2.0, 5.0):
        s = 1.0 / (1.0 + np.exp(-a))
        assert abs(grad(f)(a) - s * (1 - s)) < 1e-16
        assert abs(grad(f)(a) - (f(a + 1e-6) - f(a - 1e-6)) / 2e-6) < 1e-9


def test_sigmoid_second_order():
    def f(w):
        return np.sum(1.0 / (1.0 + np.exp(-w)) * np.array([1.0, -2.0, 0.5]))
    w = np.array([0.3, -1.2, 2.0])
    H = hessian(f)(w)
    s = 1 / (1 + np.exp(-w))
    exact = np.diag(np.array([1.0, -2.0, 0.5]) * s * (1 - s) * (1 - 2 * s))
    np.testing.assert_allclose(H, exact, rtol=1e-12, atol=1e-14)


def test_sigmoid_parts_with_other_uses_not_linked():
    # e = exp(-z) read again: linking would lose its own derivative
    def f(w, X):
        e = np.exp(-(X @ w))
        s = 1.0 / (1.0 + e)
        return np.sum(s) + np.sum(e * 0.1)

    def h(w, X):
        u = 1.0 + np.exp(-(X @ w))
        return np.sum(1.0 / u) + np.sum(np.sqrt(u))
    w, X = _sdata()
    for fn in (f, h):
        np.testing.assert_allclose(grad(fn)(w, X), fd(fn, (w, X), 0), rtol=1e-6, atol=1e-8)


def test_not_a_sigmoid():
    # 2 / (1 + e^-z) and 1 / (2 + e^-z) are not linked and stay right
    def f(w, X):
        return np.sum(2.0 / (1.0 + np.exp(-(X @ w)))) + np.sum(1.0 / (2.0 + np.exp(-(X @ w))))
    w, X = _sdata()
    np.testing.assert_allclose(grad(f)(w, X), fd(f, (w, X), 0), rtol=1e-6, atol=1e-8)


def test_sigmoid_saturated_tail():
    # documented (s2sgrad.invariance): s (1 - s) is within 2^-52 of the
    # derivative everywhere (its scale is 1/4); for z > 0 the error relative
    # to the (small) derivative grows as eps e^z, and where s rounds to 1
    # (z > ~36.7) the derivative is 0 for e^-z < 1.2e-16 -- as hand-written
    # code, JAX's and PyTorch's sigmoid give
    def f(a):
        return np.sum(1.0 / (1.0 + np.exp(-a)))
    a = np.array([-40.0, -5.0, 0.0, 5.0, 20.0, 40.0])
    got = grad(f)(a)
    exact = np.exp(-a) / (1 + np.exp(-a)) ** 2
    assert np.all(np.abs(got - exact) <= 2.0 ** -52)
    np.testing.assert_allclose(got[:4], exact[:4], rtol=1e-13)
    np.testing.assert_allclose(got[4], exact[4], rtol=1e-7)
    assert got[5] == 0.0


def test_gru_benchmark_tapes_and_values():
    import sys, os
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
    import bench_core as b
    rng = np.random.default_rng(0)
    args, wrt = b.make_gru(6, 5, 3, 4, rng)
    g = grad(b.gru_loss, wrt=wrt)
    got = g(*args)
    src = code(g)
    # four tapes, as hand-written BPTT: h, z, r, c (not e^-z, 1 + e^-z, ...)
    assert src.count("np.empty((7,") + src.count("np.empty((6, 4, 5)") == 4 + 4, src
    # each gate's pre-activation is computed in its tape's row and the step goes
    # on there in place (no copy into the tape at the end of the step)
    for w, tape in (("Wz", "z_tape"), ("Wr", "r_tape"), ("Wn", "c_tape")):
        assert f"np.matmul(x, {w}, out={tape}[t])" in src, src
    assert "_tape[t] = " not in src, src
    for a, h in zip(got, b.gru_hand(*args)):
        np.testing.assert_allclose(a, h, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ softmax

def _attn(S, W):
    S = S - np.max(S, axis=1, keepdims=True)
    A = np.exp(S)
    A = A / np.sum(A, axis=1, keepdims=True)
    return np.sum(A * W)


def _softmax_axis0(S, W):
    E = np.exp(S)
    return np.sum(np.log1p(E / E.sum(axis=0, keepdims=True)) * W)


@pytest.mark.parametrize("f", [_attn, _softmax_axis0])
@pytest.mark.parametrize("shape", [(5, 6), (80, 70)])     # (80, 70): compact examples
def test_softmax_linked(f, shape):
    rng = np.random.default_rng(2)
    S, W = rng.standard_normal(shape), rng.standard_normal(shape)
    g = grad(f)
    got = g(S, W)
    got = g(S, W)            # (the specialised code)
    src = code(g)
    # e^z is not kept beside the softmax (one exponential array, divided in
    # place), and the quotient rule's 1 / sum(e^z) is not formed
    assert "softmax_link" not in src and src.count("exp(") == 1 and "/= " in src, src
    assert "np.divide(_1_0" not in src, src
    if shape == (5, 6):
        np.testing.assert_allclose(got, fd(f, (S, W), 0), rtol=1e-6, atol=1e-8)
    # against the quotient rule written out (NumPy)
    ax = 1 if f is _attn else 0
    Z = S - np.max(S, axis=1, keepdims=True) if f is _attn else S
    E = np.exp(Z)
    A = E / E.sum(axis=ax, keepdims=True)
    gA = W if f is _attn else W / (1 + A)
    ref = (gA - np.sum(gA * A, axis=ax, keepdims=True)) * A
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-15)
    v, _ = value_and_grad(f)(S, W)
    assert v == f(S, W)


def test_softmax_float32_second_order_and_other_uses():
    rng = np.random.default_rng(3)
    S, W = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    g32 = grad(_attn)(S.astype(np.float32), W.astype(np.float32))
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, fd(_attn, (S, W), 0), rtol=2e-3, atol=2e-4)
    H = hessian(lambda s: _attn(s.reshape(3, 4), W))(S.ravel())
    gf = grad(lambda s: _attn(s.reshape(3, 4), W))
    eye = np.eye(12)
    Hfd = np.array([(gf(S.ravel() + 1e-5 * eye[i]) - gf(S.ravel() - 1e-5 * eye[i])) / 2e-5
                    for i in range(12)])
    np.testing.assert_allclose(H, Hfd, rtol=1e-5, atol=1e-7)

    # e read a third time, the sum read twice, no keepdims: not linked, still right
    def f1(S, W):
        E = np.exp(S)
        return np.sum(E / np.sum(E, axis=1, keepdims=True) * W) + np.sum(E)

    def f2(S, W):
        E = np.exp(S)
        s = np.sum(E, axis=1, keepdims=True)
        return np.sum(E / s * W) + np.sum(s ** 2)

    def f3(S, W):
        E = np.exp(S)
        return np.sum(E / np.sum(E, axis=1)[:, None] * W)
    for fn in (f1, f2, f3):
        np.testing.assert_allclose(grad(fn)(S, W), fd(fn, (S, W), 0), rtol=1e-6, atol=1e-8)


def test_scalar_cotangent_forms():
    # a Python-float weight on the picked sum (a weak scalar: the broadcast
    # stays), a sum (no mean), and a float32 mean: values and gradients
    W, X, labels = _xdata()

    def f1(W, X, labels):
        Z = X @ W
        return np.sum(Z ** 2) - 0.3 * np.sum(Z[np.arange(7), labels])

    def f2(W, X, labels, c):
        Z = X @ W
        return np.sum(Z ** 2) + np.mean(Z[np.arange(7), labels]) * c

    for f, extra in ((f1, ()), (f2, (np.float64(1.7),)), (f2, (2.5,))):
        args = (W, X, labels) + extra
        g = grad(f)
        got = g(*args)
        got = g(*args)
        assert "np.add.at" not in code(g)
        np.testing.assert_allclose(got, fd(f, args, 0), rtol=1e-6, atol=1e-7)
    W32, X32 = W.astype(np.float32), X.astype(np.float32)
    g32 = grad(f2)(W32, X32, labels, np.float32(1.7))
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, fd(f2, (W, X, labels, 1.7), 0), rtol=2e-3, atol=2e-4)


def test_matmul_row_reads_the_row_it_writes():
    # the product's operand is the very row it is written into (NumPy's
    # ufuncs, matmul included, handle overlapping operands as if copied)
    def f(W, h0):
        h = h0
        hs = []
        for t in range(4):
            a = h @ W
            a = np.tanh(a)
            hs.append(a)
            h = a
        return np.sum(np.stack(hs) ** 2)
    rng = np.random.default_rng(4)
    W, h0 = rng.standard_normal((3, 3)) * 0.5, rng.standard_normal((2, 3))
    g = grad(f)
    got = g(W, h0)
    got = g(W, h0)
    np.testing.assert_allclose(got, fd(f, (W, h0), 0), rtol=1e-6, atol=1e-8)
    v, _ = value_and_grad(f)(W, h0)
    assert v == f(W, h0)
