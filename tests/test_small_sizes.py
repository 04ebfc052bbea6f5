"""Spellings of specialised code chosen for small-array speed (issue 10):
number operands as 0-d arrays (codegen.CodeGen.zero_d) and reductions of a
short last axis as column operations (specialize._column_reduce).  Each is
checked for the function's value against plain NumPy, the gradient against
finite differences and the hand-written gradient, float32, and the argument
kinds (Python float, NumPy scalar, keyword)."""
import numpy as np
import pytest

from s2sgrad import api, grad, value_and_grad

rng = np.random.default_rng(7)


def _both(f, args, monkeypatch):
    """(specialised gradient, polymorphic gradient, the specialised grad object)."""
    monkeypatch.setattr(api, "SPECIALIZE", "never")
    generic = grad(f)(*args)
    monkeypatch.setattr(api, "SPECIALIZE", "first")
    g = grad(f)
    return g(*args), generic, g


def _fd(f, args, i=0, eps=1e-6):
    """Central differences of f with respect to argument i (float64)."""
    x = np.array(args[i], dtype=np.float64)
    g = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        for s in (1, -1):
            xs = x.copy()
            xs[k] += s * eps
            a = list(args)
            a[i] = xs
            g[k] += s * f(*a) / (2 * eps)
    return g


# ---------------------------------------------------------------- 0-d constants


def affine(x, a):
    return np.sum((0.5 * x + 1.0 - 2.0) / 4.0 * 3 - a * x * x + np.maximum(x, 0.25))


def test_number_operands_print_as_0d_arrays_and_agree():
    x = rng.normal(size=40)
    g = value_and_grad(affine)
    v, gx = g(x, 0.1)
    assert v == affine(x, 0.1)                                   # the value, bit for bit
    np.testing.assert_allclose(gx, _fd(affine, (x, 0.1)), rtol=1e-6, atol=1e-8)
    src = "\n".join(ln for ln in g.source.splitlines() if not ln.strip().startswith("#"))
    assert "_0_5" in src and "_0_25" in src, src                 # 0-d array constants
    assert "0.5 *" not in src and "* 0.5" not in src, src
    for kind in (0.1, np.float64(0.1)):                          # a = Python / NumPy scalar
        v2, g2 = g(x, kind)
        assert v2 == v and np.array_equal(g2, gx)
    v3, g3 = g(x, a=0.1)                                          # by keyword
    assert v3 == v and np.array_equal(g3, gx)
    v4, g4 = g(x, 0.1)                                            # the constants are never written
    assert v4 == v and np.array_equal(g4, gx)


def test_float32_keeps_its_dtype_and_inexact_constants_stay_literal():
    x = rng.normal(size=40).astype(np.float32)
    g = value_and_grad(affine)
    v, gx = g(x, np.float32(0.5))
    want = affine(x, np.float32(0.5))
    assert gx.dtype == np.float32 and np.asarray(v).dtype == want.dtype
    np.testing.assert_allclose(v, want, rtol=1e-6)
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(gx, grad(affine)(x64, 0.5), rtol=1e-5, atol=1e-6)
    assert "_0_5_float32" in g.source, g.source                   # exact in float32


def scaled(x):
    return np.sum(0.1 * x * x)


def test_inexact_float32_constant_stays_a_python_float(monkeypatch):
    x = rng.normal(size=30).astype(np.float32)
    got, generic, g = _both(scaled, (x,), monkeypatch)
    assert got.dtype == np.float32
    assert "float32" not in g.source, g.source           # 0.1 is not exact in float32
    np.testing.assert_array_equal(got, generic)
    np.testing.assert_allclose(got, 0.2 * x.astype(np.float64), rtol=1e-6)


def test_export_keeps_number_literals():
    from s2sgrad import export
    x = rng.normal(size=5)
    text = export(grad(affine), example_args=(x, 0.1))
    assert "_0_5 =" not in text and "0.5" in text


# ---------------------------------------------------------------- column reductions


@pytest.mark.parametrize("k", [2, 3, 5, 7])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_columns_equal_numpy_reductions_bit_for_bit(k, dtype):
    """The claim _column_reduce rests on: for fewer than 8 columns NumPy sums
    a row left to right, and max/min are exact, in either memory order."""
    Z = (rng.normal(size=(16 * k, k)) * 10.0 ** rng.uniform(-6, 6, (16 * k, k))).astype(dtype)
    Z[3, :] = -0.0
    Z[5, 0] = np.nan
    for A in (Z, np.asfortranarray(Z)):
        acc = A[:, 0] + A[:, 1]
        mx, mn = np.maximum(A[:, 0], A[:, 1]), np.minimum(A[:, 0], A[:, 1])
        for j in range(2, k):
            acc = acc + A[:, j]
            mx, mn = np.maximum(mx, A[:, j]), np.minimum(mn, A[:, j])
        np.testing.assert_array_equal(acc, A.sum(axis=1))
        np.testing.assert_array_equal(mx, A.max(axis=1))
        np.testing.assert_array_equal(mn, A.min(axis=1))
        # (a row of -0.0 sums to -0.0 in columns, to 0.0 in NumPy: equal, and
        # the one difference, documented in specialize._column_reduce)
        assert acc[3] == 0.0 and A.sum(axis=1)[3] == 0.0


def softmax_ce(W, X, Y):
    Z = X @ W
    Z = Z - np.max(Z, axis=1, keepdims=True)
    logp = Z - np.log(np.sum(np.exp(Z), axis=1, keepdims=True))
    return -np.mean(np.sum(Y * logp, axis=1))


def spread(Z):
    return np.sum(np.max(Z, axis=-1) - np.min(Z, axis=-1) + np.sum(Z * Z, axis=-1) ** 2)


def _code(g):
    """The generated source without its comments (which quote the user's lines)."""
    return "\n".join(ln for ln in g.source.splitlines() if not ln.strip().startswith("#"))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_with_column_reductions(dtype):
    n, d, k = 64, 5, 3
    X = rng.normal(size=(n, d)).astype(dtype)
    Y = rng.uniform(size=(n, k)).astype(dtype)       # not one-hot: rows do not sum to 1
    W = (0.3 * rng.normal(size=(d, k))).astype(dtype)
    g = value_and_grad(softmax_ce)
    v, gW = g(W, X, Y)
    src = _code(g)
    assert "np.maximum(Z[:, 0], Z[:, 1])" in src and ".sum(" not in src, src
    assert gW.dtype == dtype
    want = softmax_ce(W, X, Y)
    if dtype == np.float64:
        assert v == want                                        # bit for bit
        np.testing.assert_allclose(gW, _fd(softmax_ce, (W, X, Y)), rtol=1e-6, atol=1e-9)
    else:
        np.testing.assert_allclose(v, want, rtol=1e-5)
        ref = grad(softmax_ce)(W.astype(np.float64), X.astype(np.float64), Y.astype(np.float64))
        np.testing.assert_allclose(gW, ref, rtol=1e-3, atol=1e-5)


def test_every_reduction_kind_and_the_fallbacks():
    g = value_and_grad(spread)
    for shape in [(48, 3), (4, 3), (64, 9), (20, 4, 2), (200, 9), (32, 2)]:
        Z = 0.5 * rng.normal(size=shape)
        v, gZ = g(Z)
        assert v == spread(Z), shape
        np.testing.assert_allclose(gZ, _fd(spread, (Z,)), rtol=1e-5, atol=1e-5)
    src = _code(g)          # the last: (32, 2), 16 k rows: columns
    assert "np.maximum(" in src and "np.minimum(" in src and "[:, 0] + " in src, src
    g(rng.normal(size=(4, 3)))
    assert "Z.max(axis=-1)" in g.source, g.source   # too few rows: NumPy's reduction


def test_ties_and_signs_as_the_polymorphic_code(monkeypatch):
    """Ties of the max (the gradient goes where x == max), NaN-free rows of
    equal values, -0.0: the specialised code with column reductions gives
    the polymorphic code's numbers exactly."""
    Z = np.tile(np.array([[1.0, 3.0, 3.0]]), (64, 1))
    Z[::3] = [[-0.0, 0.0, -0.0]]
    Z[1::5] = [[2.0, 2.0, 2.0]]
    got, generic, g = _both(spread, (Z,), monkeypatch)
    assert "np.maximum(" in _code(g), g.source
    np.testing.assert_array_equal(got, generic)
    v, _ = value_and_grad(spread)(Z)
    assert v == spread(Z)


def test_a_changed_shape_or_dtype_recompiles():
    g = grad(spread)
    Z = rng.normal(size=(48, 3))
    g(Z)
    assert "np.maximum(" in g.source
    Z4 = rng.normal(size=(48, 4))
    np.testing.assert_allclose(g(Z4), _fd(spread, (Z4,)), rtol=1e-6, atol=1e-6)
    Z32 = Z.astype(np.float32)
    r32 = g(Z32)
    assert r32.dtype == np.float32
    np.testing.assert_allclose(r32, g(Z), rtol=1e-4, atol=1e-4)
    Zs = rng.normal(size=(4, 3))                   # few rows: NumPy's reduction again
    np.testing.assert_allclose(g(Zs), _fd(spread, (Zs,)), rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------- g @ a for a.T @ g


def logistic(w, X, y):
    return np.mean(np.logaddexp(0.0, -y * (X @ w)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n, d", [(64, 10), (8, 3), (256, 1), (4, 200)])
def test_vector_matrix_product_for_the_transposed_one(dtype, n, d, monkeypatch):
    """The adjoint of X @ w as g @ X: the same BLAS call as X.T @ g, so the
    polymorphic code's numbers exactly (n a power of two: the mean's 1 / n
    then merges into the other constant exactly in both)."""
    for m, k in [(n, d), (7, 3), (300, 1), (3, 200), (1000, 77)]:
        A = rng.normal(size=(m, k)).astype(dtype)
        v = rng.normal(size=m).astype(dtype)
        np.testing.assert_array_equal(v @ A, A.T @ v)
    X = rng.normal(size=(n, d)).astype(dtype)
    w = (0.1 * rng.normal(size=d)).astype(dtype)
    y = np.sign(rng.normal(size=n)).astype(dtype)
    got, generic, g = _both(logistic, (w, X, y), monkeypatch)
    assert "@ X" in _code(g) and "X.T" not in _code(g), g.source
    np.testing.assert_array_equal(got, generic)
    assert got.dtype == dtype
    if dtype == np.float64:
        np.testing.assert_allclose(got, _fd(logistic, (w, X, y)), rtol=1e-6, atol=1e-9)
        with np.errstate(all="raise"):                       # no overflow, far out
            big = grad(logistic)(w * 1e4, X, y)
        assert np.all(np.isfinite(big))


# ---------------------------------------------------------------- the hot call path

SCALE = 2.0
SHIFT = np.float64(0.5)


def with_globals(x, lam):
    return np.sum(SCALE * x * x + SHIFT * x) + lam * np.sum(x)


def test_hot_path_value_and_grad_argument_kinds_and_changed_globals():
    global SCALE, SHIFT
    x = rng.normal(size=32)
    g = value_and_grad(with_globals)

    def want(lam):
        return with_globals(x, lam), 2 * SCALE * x + SHIFT + lam
    try:
        for lam in (0.25, np.float64(0.25), 0.25, np.float32(0.25)):
            for call in (lambda: g(x, lam), lambda: g(x, lam=lam), lambda: g(lam=lam, x=x)):
                out = call()
                assert type(out) is tuple and len(out) == 2
                v, gx = out
                wv, wg = want(lam)
                assert v == wv
                np.testing.assert_allclose(gx, wg, rtol=1e-15)
        first = g(x, 0.25)[1]
        assert g(x, 0.25)[1] is not first                  # a fresh gradient each call
        SCALE = 3.0                                         # globals changed: seen
        SHIFT = np.float64(-1.0)
        v, gx = g(x, 0.25)
        wv, wg = want(0.25)
        assert v == wv
        np.testing.assert_allclose(gx, wg, rtol=1e-15)
        x32 = x.astype(np.float32)                          # a changed dtype: recompiled
        v32, g32 = g(x32, 0.25)
        assert g32.dtype == np.float32
        np.testing.assert_allclose(g32, wg, rtol=1e-5)
        v, gx = g(x[:8], 0.25)                              # a changed shape
        np.testing.assert_allclose(gx, wg[:8], rtol=1e-15)
    finally:
        SCALE, SHIFT = 2.0, np.float64(0.5)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_logaddexp_and_relu_adjoints_with_0d_operands(dtype, monkeypatch):
    X = rng.normal(size=(32, 4)).astype(dtype)
    w = rng.normal(size=4).astype(dtype)
    y = np.sign(rng.normal(size=32)).astype(dtype)
    g = value_and_grad(logistic)
    v, gw = g(w, X, y)
    assert "np.logaddexp(_0_0" in _code(g), g.source
    assert v == logistic(w, X, y) and gw.dtype == dtype            # the value bit for bit
    _, generic, _ = _both(logistic, (w, X, y), monkeypatch)
    np.testing.assert_allclose(gw, generic, rtol=2e-6 if dtype == np.float32 else 1e-15)
    x = rng.normal(size=40).astype(dtype)
    x[:3] = 0.25                                                    # the kink itself
    got, generic, gr = _both(affine, (x, 0.1), monkeypatch)
    assert "ties_halved(" in _code(gr) and "0.5," not in _code(gr), gr.source
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, generic)
