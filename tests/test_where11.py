"""where11: structurally-zero cotangents (s2sgrad.masking).

``np.where(x > 0, np.sqrt(x), 0.0)`` had a NaN gradient at ``x <= 0`` in
reverse mode (the "double-where" NaN, as in JAX and autograd): where's rule
masks the cotangent, and sqrt's partial (inf or NaN there) then multiplies
the masked 0.  The mask now moves to where the cotangent leaves the
elementwise chain, so a dropped position gets exactly 0 and a selected one
the bits it had before.  Each case: the value against NumPy, the gradient
against central differences at points away from the boundary, exactly 0 at
the masked points, float32, and (where it applies) second order and
forward over reverse.
"""
import warnings

import numpy as np
import pytest

import s2sgrad
from s2sgrad import grad, hessian, hvp, jvp, value_and_grad

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def fd_grad(f, args, i, eps=1e-6):
    """Central differences of scalar ``f`` in argument ``i`` (float64)."""
    args = [np.array(a, dtype=np.float64) if isinstance(a, np.ndarray) and
            a.dtype.kind == "f" else a for a in args]
    x = args[i]
    g = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[k] += eps
        xm[k] -= eps
        ap, am = list(args), list(args)
        ap[i], am[i] = xp, xm
        g[k] = (f(*ap) - f(*am)) / (2 * eps)
    return g


def check(f, args, wrt, dropped, *, rtol=1e-6, want=None):
    """Value vs NumPy, gradient vs central differences (or ``want``) where a
    position is kept, exactly 0 where ``dropped`` (a boolean mask of argument
    ``wrt``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want_v = f(*args)
        v, g = value_and_grad(f, wrt=wrt)(*args)
        np.testing.assert_allclose(v, want_v, rtol=1e-12)
        fd = fd_grad(f, args, wrt) if want is None else want
    g = np.asarray(g)
    assert np.all(np.isfinite(g)), g
    assert np.all(g[dropped] == 0), g
    keep = ~dropped
    scale = max(1.0, np.max(np.abs(fd[keep]))) if keep.any() else 1.0
    np.testing.assert_allclose(g[keep], fd[keep], rtol=rtol, atol=1e-6 * scale)
    return g


# ----------------------------------------------------------------- the spellings

X = np.array([[-1.5, 0.0, 0.7, 2.3], [1.1, -0.4, 3.2, 0.0], [0.5, 1.9, -2.2, 0.9]])


def sqrt_where(x):
    return np.sum(np.where(x > 0, np.sqrt(x), 0.0))


def entropy(x):
    return -np.sum(np.where(x != 0, x * np.log(x), 0))


def reciprocal(d):
    return np.sum(np.where(d > 0, 1 / d, 0))


def log_false_branch(x):
    # the dropped operand in the false slot: where(c, 0, f(x))
    return np.sum(np.where(x <= 0, 0.0, np.log(x) * 2.0))


def clip_then_where(x):
    return np.sum(np.where(x > 0, np.log(np.clip(x, 0.0, None)), 0.0))


def nested(x):
    return np.sum(np.where(x < 3.0, np.where(x > 0, np.sqrt(x) * x, 0.0), 1.0))


def select(x):
    return np.sum(np.select([x > 1, x > 0], [np.log(x), np.sqrt(x)], 0.0))


def chained(x):
    t = np.log(x)
    u = np.exp(0.5 * t) + t ** 2
    return np.sum(np.where(x > 0, u / (1.0 + x), -1.0))


@pytest.mark.parametrize("f", [sqrt_where, entropy, reciprocal, log_false_branch,
                               clip_then_where, nested, select, chained])
def test_double_where(f):
    # the boundary itself (x == 0) and the outside (x < 0) are dropped
    # (entropy's domain: p >= 0, the zeros dropped)
    x = np.abs(X) if f is entropy else X
    dropped = x <= 0
    g = check(f, (x,), 0, dropped)
    # the positions kept are the bits the unmasked chain gives
    if f is sqrt_where:
        np.testing.assert_array_equal(g[~dropped], 0.5 / np.sqrt(X[~dropped]))


def test_double_where_float32():
    for f in (sqrt_where, entropy, reciprocal, nested, select):
        x64 = np.abs(X) if f is entropy else X
        x = x64.astype(np.float32)
        g = grad(f)(x)
        assert g.dtype == np.float32
        assert np.all(np.isfinite(g)) and np.all(g[x64 <= 0] == 0), (f.__name__, g)
        g64 = grad(f)(x64)
        np.testing.assert_allclose(g[x64 > 0], g64[x64 > 0], rtol=1e-5)


@pytest.mark.parametrize("x, want", [(-1.0, 0.0), (0.0, 0.0), (4.0, 0.25)])
def test_python_scalar(x, want):
    assert grad(lambda x: np.where(x > 0, np.sqrt(x), 0.0))(x) == want


def test_twice_and_repeated_calls():
    # compiled once, called at new points (the cached specialisation)
    g = grad(sqrt_where)
    for x in (X, -X, X + 1.0):
        r = g(x)
        assert np.all(r[x <= 0] == 0) and np.all(np.isfinite(r))


# ----------------------------------------------------------------- masks from data

def test_external_mask_log():
    def f(p, m):
        return np.sum(np.where(m, np.log(p), -1e9))
    p = np.abs(X) * (X > 0)          # zeros where dropped: log(0) = -inf
    m = X > 0
    # (differences of a sum of -1e9s have no digits left: the exact 1/p)
    check(f, (p, m), 0, ~m, want=1 / np.where(m, p, 1.0))


def test_masked_loss_with_nan_data():
    # the loss users write over data with missing values: y is NaN where
    # not valid; the value is finite and so is the gradient
    rng = np.random.default_rng(11)
    Xd = rng.normal(size=(7, 3))
    y = rng.normal(size=7)
    y[[1, 4]] = np.nan
    valid = ~np.isnan(y)

    def loss(w, X, y, valid):
        return np.sum(np.where(valid, (X @ w - y) ** 2, 0.0))
    w = rng.normal(size=3)
    v, g = value_and_grad(loss)(w, Xd, y, valid)
    r = Xd[valid] @ w - y[valid]
    assert v == pytest.approx(np.sum(r ** 2), rel=1e-12)
    np.testing.assert_allclose(g, 2 * Xd[valid].T @ r, rtol=1e-12)

    # a mean over the valid entries, and the mask broadcast along columns
    def loss2(W, X, Y, valid):
        e = np.where(valid[:, None], (X @ W - Y) ** 2, 0.0)
        return np.sum(e) / np.sum(valid)
    W = rng.normal(size=(3, 2))
    Y = np.stack([y, 2 * y], axis=1)
    g2 = grad(loss2)(W, Xd, Y, valid)
    R2 = Xd[valid] @ W - Y[valid]
    np.testing.assert_allclose(g2, 2 * Xd[valid].T @ R2 / valid.sum(), rtol=1e-12)


def test_broadcast_mask():
    # the mask (3, 1) broadcasts against the chain (3, 4)
    c = np.array([[True], [False], [True]])
    def f(x, c):
        return np.sum(np.where(c, np.sqrt(x), 0.0))
    x = np.abs(X) - 0.5                 # negative entries in every row
    dropped = ~np.broadcast_to(c, x.shape) | (x <= 0)
    g = grad(f)(x, c)
    assert np.all(g[~np.broadcast_to(c, x.shape)] == 0)
    assert np.all(np.isnan(g[np.broadcast_to(c, x.shape) & (x < 0)]))   # kept: sqrt(<0)
    ok = ~dropped
    np.testing.assert_allclose(g[ok], 0.5 / np.sqrt(x[ok]), rtol=1e-12)


# ----------------------------------------------------------------- nan reductions

def test_nansum_of_nan_products():
    # tools/probe_table.py's "nansum of NaNs" (the one known wrong probe before)
    def f(x, y):
        return np.nansum(np.where(x > 1.0, np.nan, x) * y)
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    x[0, 1] = x[2, 3] = 1.5
    a = np.where(x > 1.0, np.nan, x)
    gx, gy = grad(f, wrt=(0, 1))(x, y)
    np.testing.assert_array_equal(gy, np.where(np.isnan(a), 0.0, a))
    np.testing.assert_array_equal(gx, np.where(np.isnan(a), 0.0, y))


def test_nansum_all_nan_times_parameter():
    def f(s, a):
        return np.nansum(a * s)
    a = np.array([np.nan, np.nan, np.nan])
    assert grad(f)(1.5, a) == 0.0
    a2 = np.array([np.nan, 2.0, 3.0])
    assert grad(f)(1.5, a2) == 5.0
    assert grad(f)(np.float32(1.5), a2.astype(np.float32)) == 5.0


def test_nanmean_partly_nan():
    def f(s, a):
        return np.nanmean(a * s)
    a = np.array([np.nan, 2.0, 3.0, np.nan])
    assert grad(f)(np.array(1.5), a) == pytest.approx(2.5, rel=1e-15)


# ----------------------------------------------------------------- what must stay

def test_other_use_of_the_intermediate_is_not_masked():
    # t = sqrt(x) also reaches the loss outside the where: that path keeps
    # sqrt's infinite slope at 0 (the derivative there is +inf)
    def f(x):
        t = np.sqrt(x)
        return np.sum(np.where(x > 0, t, 0.0)) + np.sum(t)
    x = np.array([0.0, 1.0, 4.0])
    g = grad(f)(x)
    assert g[0] == np.inf
    np.testing.assert_allclose(g[1:], 2 * 0.5 / np.sqrt(x[1:]), rtol=1e-15)


def test_repeated_use_of_the_variable():
    # x read inside the where (twice) and outside it: the outside path's
    # derivative x is all that is left where the where drops the branch
    def f(x):
        return np.sum(np.where(x > 0, np.sqrt(x) * x + np.log(x), 0.0) + 0.5 * x * x)
    g = grad(f)(X)
    np.testing.assert_array_equal(g[X <= 0], X[X <= 0])
    keep = X > 0
    np.testing.assert_allclose(g[keep], fd_grad(f, (X,), 0)[keep], rtol=1e-6)


def test_primal_product_with_a_masked_value_keeps_numpy_value():
    # only adjoint code is rewritten: the user's own where(c, x, 0) * inf is
    # NaN where c is false, as NumPy computes it
    def f(x, s):
        return np.sum(np.where(x > 0, x, 0.0) * s)
    x = np.array([-1.0, 2.0])
    s = np.array([np.inf, 1.0])
    v, g = value_and_grad(f)(x, s)
    assert np.isnan(v) and np.isnan(f(x, s))
    assert g[1] == 1.0


def test_unmasked_nan_is_kept():
    # a NaN partial where the where keeps the branch stays NaN (no guess)
    def f(x):
        return np.sum(np.where(x > -1, np.sqrt(x), 0.0))
    g = grad(f)(np.array([-0.5, -2.0, 1.0]))
    assert np.isnan(g[0]) and g[1] == 0 and g[2] == 0.5


# ----------------------------------------------------------------- higher order

def _pow15(x):
    return np.sum(np.where(x > 0, np.sqrt(x) ** 3, 0.0))


XS = np.array([-1.0, 0.0, 4.0, 2.25])
D2 = np.where(XS > 0, 0.75 / np.sqrt(np.abs(XS) + (XS <= 0)), 0.0)


def test_second_order():
    np.testing.assert_allclose(np.diag(hessian(_pow15)(XS)), D2, rtol=1e-12)
    np.testing.assert_allclose(hvp(_pow15)((XS,), np.ones(4)), D2, rtol=1e-12)
    gg = grad(lambda x: np.sum(grad(_pow15)(x)))(XS)
    np.testing.assert_allclose(gg, D2, rtol=1e-12)
    # forward over reverse
    g, gdot = jvp(grad(_pow15))((XS,), (np.ones(4),))
    np.testing.assert_allclose(g, np.where(XS > 0, 1.5 * np.sqrt(np.abs(XS)), 0.0))
    np.testing.assert_allclose(gdot, D2, rtol=1e-12)
    # entropy: d2 = -1/x where kept
    p = np.abs(XS)
    h = np.diag(hessian(entropy)(p))
    np.testing.assert_allclose(h, np.where(p > 0, -1 / np.where(p > 0, p, 1), 0.0),
                               rtol=1e-12)


def test_second_order_external_mask():
    def f(p, m):
        return np.sum(np.where(m, np.log(p), -1e9))
    m = XS > 0
    want = np.where(m, -1 / np.where(m, XS, 1) ** 2, 0.0)
    np.testing.assert_allclose(hvp(f)((XS, m), np.ones(4)), want, rtol=1e-12)
    _, gdot = jvp(grad(f))((XS, m), (np.ones(4),))
    np.testing.assert_allclose(gdot, want, rtol=1e-12)


def test_forward_mode_unchanged():
    v, t = jvp(sqrt_where)((X,), (np.ones_like(X),))
    assert v == pytest.approx(sqrt_where(X))
    assert t == pytest.approx(np.sum(np.where(X > 0, 0.5 / np.sqrt(np.abs(X) + (X <= 0)), 0)))


# ----------------------------------------------------------------- generated code

def test_one_where_and_no_mask_of_ones():
    g = grad(sqrt_where)
    g(X)
    src = g.source
    code = [ln for ln in src.splitlines() if not ln.strip().startswith("#")]
    assert sum(ln.count("np.where(") for ln in code) == 1, src
    assert "1.0, 0.0)" not in src, src


def test_generic_code_without_specialisation(monkeypatch):
    from s2sgrad import api
    monkeypatch.setattr(api, "SPECIALIZE", "never")
    for f in (sqrt_where, entropy, nested):
        x = np.abs(X) if f is entropy else X
        r = grad(f)(x)
        assert np.all(r[x <= 0] == 0) and np.all(np.isfinite(r)), f.__name__


def test_hessian_external_mask():
    # hessian compiles shape-generic code: the mask (data) and the branch
    # have shapes not known equal there; the mask is copied past the
    # unbroadcast (s2sgrad.masking._through_unbroadcast)
    def f(p, m):
        return np.sum(np.where(m, np.log(p), -1e9))
    m = XS > 0
    want = np.where(m, -1 / np.where(m, XS, 1) ** 2, 0.0)
    np.testing.assert_allclose(hessian(f)(XS, m), np.diag(want), rtol=1e-12)


def test_mask_with_more_dimensions_than_the_branch():
    # a column of theta every row drops: derivative 0 (log(0) or log(<0) there)
    def f(theta, M):
        return np.sum(np.where(M, np.log(theta), 0.0))
    theta = np.array([0.0, 2.0, -1.0, 0.5])
    M = np.array([[False, True, False, True], [False, True, True, False]])
    g = grad(f)(theta, M)
    np.testing.assert_array_equal(g, [0.0, 1.0, -1.0, 2.0])
    g32 = grad(f)(theta.astype(np.float32), M)
    assert g32.dtype == np.float32
    np.testing.assert_array_equal(g32, [0.0, 1.0, -1.0, 2.0])
    # against differences where the derivative exists (theta > 0, kept)
    th = np.array([0.3, 2.0, 1.5, 0.5])
    np.testing.assert_allclose(grad(f)(th, M), fd_grad(f, (th, M), 0), rtol=1e-6)
    # and the hessian (generic code)
    h = hessian(f)(theta, M)
    np.testing.assert_array_equal(np.diag(h), [0.0, -0.5, -1.0, -4.0])


def test_generated_code_masks_once():
    # a mask from data: the shape-generic unbroadcast is dropped by the
    # specialisation and the mask copied past it merges with the original
    def f(w, X, y, valid):
        return np.sum(np.where(valid, (X @ w - y) ** 2, 0.0))
    rng = np.random.default_rng(5)
    Xd, y = rng.normal(size=(6, 2)), rng.normal(size=6)
    g = grad(f)
    g(np.ones(2), Xd, y, y > 0)
    code = [ln for ln in g.source.splitlines() if not ln.strip().startswith("#")]
    assert sum(ln.count("np.where(") for ln in code) == 1, g.source
    assert not any("unbroadcast" in ln or "broadcast_like" in ln for ln in code), g.source


def test_deterministic_source():
    srcs = set()
    for _ in range(2):
        g = grad(nested)
        g(X)
        srcs.add(g.source)
    assert len(srcs) == 1


@pytest.mark.parametrize("fn", [np.nansum, np.nanmean, np.nanvar, np.nanstd, np.nanmax,
                                np.nanmin, np.nanprod])
def test_nan_reductions_of_products(fn):
    # a column partly NaN and one all NaN, reduced along axis 0, then a
    # weighted nansum of the (partly NaN) results
    rng = np.random.default_rng(0)
    A = rng.normal(size=(5, 3))
    A[[0, 2], 1] = np.nan
    A[:, 2] = np.nan

    def f(s, A):
        return np.nansum(fn(A * s, axis=0) * np.array([1.0, 2.0, 3.0]))
    s = np.array([1.5, 0.7, 2.0])
    g = grad(f)(s, A)
    assert g[2] == 0
    np.testing.assert_allclose(g, fd_grad(f, (s, A), 0), rtol=1e-6, atol=1e-8)
    # and of a scalar parameter over a partly-NaN vector
    a = np.array([np.nan, 2.0, 3.0, np.nan, 5.0])

    def f1(s, a):
        return fn(a * s)
    g1 = grad(f1)(np.array(1.5), a)
    np.testing.assert_allclose(g1, fd_grad(f1, (np.array(1.5), a), 0), rtol=1e-6)


def test_in_a_loop():
    def f(x):
        y = x
        for _ in range(3):
            y = np.where(y > 0, np.sqrt(y), 0.0)
        return np.sum(y)
    x = np.array([-1.0, 0.0, 0.5, 2.0])
    g = grad(f)(x)
    want = np.where(x > 0, 0.125 * np.abs(x) ** -0.875, 0.0)
    np.testing.assert_allclose(g, want, rtol=1e-12)
    assert np.all(g[x <= 0] == 0)

    # a runtime trip count (a loop the backward sweep reverses)
    def h(x, n):
        y = x
        for _ in range(n):
            y = np.where(y > 0, np.log(y) + 2.0, 0.0)
        return np.sum(y)
    x = np.array([-1.0, 0.0, 0.5, 2.0])
    g = grad(h)(x, 2)
    keep = (x > 0) & (np.log(np.where(x > 0, x, 1)) + 2.0 > 0)
    want = np.where(keep, 1 / (np.where(x > 0, x, 1) * (np.log(np.where(x > 0, x, 1)) + 2.0)),
                    0.0)
    np.testing.assert_allclose(g, want, rtol=1e-12)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_jacobian_and_vjp(mode):
    def f(x):
        return np.where(x > 0, np.sqrt(x), 0.0)
    x = np.array([-1.0, 0.0, 4.0, 0.25])
    J = s2sgrad.jacobian(f, mode=mode)(x)
    np.testing.assert_array_equal(J, np.diag([0.0, 0.0, 0.25, 1.0]))
    out, pullback = s2sgrad.vjp(f)(x)
    np.testing.assert_array_equal(out, f(x))
    np.testing.assert_array_equal(pullback(np.ones(4)), [0.0, 0.0, 0.25, 1.0])
