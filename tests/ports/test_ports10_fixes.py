"""Regression tests for what the ports10 cases found (each fails on main 875ebf4).

* Second derivatives through a complete QR (``np.linalg.qr(mode='complete')``)
  or a full SVD (``full_matrices=True``) whose complement has more than one
  column were NaN in forward-over-reverse (``jvp(grad(f))``, ``hvp``), even
  when ``f`` reads only the thin part: the reverse rule's complement term
  multiplies the full factor by a cotangent checked to be zero there, and the
  factor's tangent is NaN in the complement (no derivative), so 0 * NaN
  poisoned every entry.  The full factor is now read through
  ``complement_mask`` (s2sgrad/runtime_linalg.py, primitives/decompositions.py),
  and the tangent of the checked cotangent is checked too (a second
  derivative through the arbitrary basis is refused, like the first).
* ``np.convolve``/``np.correlate``/``np.cross`` of complex arrays were
  refused in reverse mode (forward mode worked): the cotangents are now the plain transposes
  (np.correlate conjugates its second operand), real where the argument is
  real (s2sgrad/runtime_numpy.py).
"""
from __future__ import annotations

import numpy as np
import pytest

import s2sgrad

pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning"),
              pytest.mark.filterwarnings("ignore:Arrays of 2-dimensional vectors:DeprecationWarning")]

RNG = np.random.default_rng(101)


def _fd_grad(g, x, v, h=1e-5):
    return (g(x + h * v) - g(x - h * v)) / (2 * h)


def qr_complete_thin(a):
    q, r = np.linalg.qr(a, mode="complete")
    return np.sum(np.sin(q[:, :3] @ r[:3]))


def qr_complete_q_thin(a):
    q, r = np.linalg.qr(a, mode="complete")
    return np.sum(q[:, :3] ** 3) + np.sum(r ** 2)


def svd_full_u(a):
    u, s, vh = np.linalg.svd(a, full_matrices=True)
    return np.sum(np.sin(u[:, :3] * s) @ vh)


def svd_full_vh(a):
    u, s, vh = np.linalg.svd(a, full_matrices=True)
    return np.sum(np.sin(u * s) @ vh[:3])


@pytest.mark.parametrize("f, shape", [(qr_complete_thin, (5, 3)), (qr_complete_q_thin, (5, 3)),
                                      (svd_full_u, (5, 3)), (svd_full_vh, (3, 5))],
                         ids=["qr_thin_product", "qr_q_thin", "svd_full_u", "svd_full_vh"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_full_factor_second_order(f, shape, dtype):
    a = RNG.standard_normal(shape)
    v = RNG.standard_normal(shape)
    g = s2sgrad.grad(f)
    want = _fd_grad(g, a, v)                  # differences of the (checked) gradient
    h = 1e-6                                  # the gradient itself, directionally
    assert np.isclose(np.sum(g(a) * v), (f(a + h * v) - f(a - h * v)) / (2 * h), rtol=1e-6)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float64 else dict(rtol=2e-2, atol=2e-3)
    a_, v_ = a.astype(dtype), v.astype(dtype)
    val, hv = s2sgrad.jvp(g)((a_,), (v_,))                                   # fr
    assert np.all(np.isfinite(hv))
    assert np.allclose(val, g(a), **tol) and np.allclose(hv, want, **tol)
    assert np.allclose(s2sgrad.hvp(f)((a_,), v_), want, **tol)
    # reverse over reverse, too (it was right before: kept so)
    w = RNG.standard_normal(shape)
    _, pb = s2sgrad.vjp(g)(a)
    assert np.isclose(np.sum(pb(w) * v), np.sum(w * want), rtol=1e-4, atol=1e-5)


def test_full_factor_complement_second_order_still_refused():
    """Reading the complement columns (more than one) is refused in every
    order; a first derivative through one complement column works."""
    def f(a):
        q, r = np.linalg.qr(a, mode="complete")
        return np.sum(q[:, 3:] ** 2 * a[:, :2])

    a, v = RNG.standard_normal((5, 3)), RNG.standard_normal((5, 3))
    with pytest.raises(ValueError, match="complement"):
        s2sgrad.grad(f)(a)
    with pytest.raises(ValueError, match="complement"):
        s2sgrad.hvp(f)((a,), v)

    def f1(a):                            # one complement column: fixed up to sign
        q, r = np.linalg.qr(a, mode="complete")
        return np.sum((q[:, 3] * np.sign(q[0, 3])) ** 3) + np.sum(q[:, :3] ** 2 * a)

    a4, v4 = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))
    g = s2sgrad.grad(f1)
    assert np.allclose(s2sgrad.hvp(f1)((a4,), v4), _fd_grad(g, a4, v4), rtol=1e-5, atol=1e-6)


def _c(*shape):
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


def _check_vjp(f, args):
    """<u, J v> from the cotangents against central differences, complex
    pairing Re(sum(a * b)) (s2sgrad's convention); each cotangent real where
    its argument is."""
    out, pb = s2sgrad.vjp(f, wrt=tuple(range(len(args))))(*args)
    assert np.allclose(out, f(*args))
    u = RNG.standard_normal(np.shape(out)) + (1j * RNG.standard_normal(np.shape(out))
                                               if np.iscomplexobj(out) else 0)
    cts = pb(u)
    vs = [RNG.standard_normal(np.shape(x)) + (1j * RNG.standard_normal(np.shape(x))
                                               if np.iscomplexobj(x) else 0) for x in args]
    for ct, x in zip(cts, args):
        assert np.shape(ct) == np.shape(x)
        assert np.iscomplexobj(ct) == np.iscomplexobj(x)
    h = 1e-6
    fd = (f(*[x + h * v for x, v in zip(args, vs)]) - f(*[x - h * v for x, v in zip(args, vs)])) / (2 * h)
    want = np.real(np.sum(u * fd))
    got = sum(np.real(np.sum(ct * v)) for ct, v in zip(cts, vs))
    assert np.isclose(got, want, rtol=1e-6, atol=1e-8), (got, want)


def convolve(a, v, mode):
    return np.convolve(a, v, mode=mode)


def correlate(a, v, mode):
    return np.correlate(a, v, mode=mode)


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("fn", ["convolve", "correlate"])
@pytest.mark.parametrize("kinds", ["cc", "rc", "cr", "cc_longer_v"])
def test_complex_convolve_correlate_reverse(fn, mode, kinds):
    n, m = (5, 3) if kinds != "cc_longer_v" else (3, 6)
    a = _c(n) if kinds[0] == "c" else RNG.standard_normal(n)
    v = _c(m) if kinds[1] == "c" else RNG.standard_normal(m)
    f = _bind({"convolve": convolve, "correlate": correlate}[fn], mode)
    _check_vjp(f, (a, v))


def _bind(src, mode):
    if src is convolve:
        return {"full": conv_full, "same": conv_same, "valid": conv_valid}[mode]
    return {"full": corr_full, "same": corr_same, "valid": corr_valid}[mode]


def conv_full(a, v):
    return np.convolve(a, v, mode="full")


def conv_same(a, v):
    return np.convolve(a, v, mode="same")


def conv_valid(a, v):
    return np.convolve(a, v, mode="valid")


def corr_full(a, v):
    return np.correlate(a, v, mode="full")


def corr_same(a, v):
    return np.correlate(a, v, mode="same")


def corr_valid(a, v):
    return np.correlate(a, v, mode="valid")


def autocorr_power(z):
    return np.sum(np.abs(np.correlate(z, z, mode="full")) ** 2)


def test_complex_autocorrelation_gradient_and_hessian():
    """A variable used twice (both operands), through the scalar loss, in
    reverse and in second order."""
    z = _c(4)
    g = s2sgrad.grad(autocorr_power)(z)
    h = 1e-6
    for e in (np.eye(4)[1], 1j * np.eye(4)[2]):
        fd = (autocorr_power(z + h * e) - autocorr_power(z - h * e)) / (2 * h)
        assert np.isclose(np.real(np.sum(g * e)), fd, rtol=1e-6, atol=1e-8)
    v = _c(4)
    gg = s2sgrad.grad(autocorr_power)
    fd = (gg(z + h * v) - gg(z - h * v)) / (2 * h)
    assert np.allclose(s2sgrad.hvp(autocorr_power)((z,), v), fd, rtol=1e-5, atol=1e-6)


def cross3(a, b):
    return np.cross(a, b)


def cross2(a, b):
    return np.cross(a, b)


def cross_axes(a, b):
    return np.cross(a, b, axisa=0, axisc=0)


@pytest.mark.parametrize("f, a, b", [
    (cross3, _c(4, 3), _c(4, 3)), (cross2, _c(3, 2), _c(3, 2)),
    (cross3, _c(3), _c(2, 3)), (cross_axes, RNG.standard_normal((3, 2)), _c(2, 3)),
    (cross3, _c(3), RNG.standard_normal(3))], ids=["3", "2", "broadcast", "axes_real", "real_b"])
def test_complex_cross_reverse(f, a, b):
    _check_vjp(f, (a, b))


# np.add.reduceat was refused ("not a function s2sgrad knows"); it is linear,
# and its adjoint sends each output's cotangent to the segment it summed
# (segments overlap when the indices decrease; an index >= the next one sums
# that element alone).
def reduceat_loss(a, idx):
    return np.sum(np.sin(np.add.reduceat(a, idx, axis=-1)) * np.arange(1.0, 1.0 + len(idx)))


@pytest.mark.parametrize("idx", [[0, 2, 3], [0, 3, 1, 4], [2], [0, 0, 5, 5], [5, 1]],
                         ids=["increasing", "decreasing", "one", "repeated", "last_first"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_add_reduceat(idx, dtype):
    a = RNG.standard_normal((2, 6)).astype(dtype)
    ix = np.array(idx)
    tol = dict(rtol=1e-6, atol=1e-8) if dtype == np.float64 else dict(rtol=2e-3, atol=2e-4)
    v, g = s2sgrad.value_and_grad(reduceat_loss)(a, ix)
    assert np.allclose(v, reduceat_loss(a, ix), **tol)
    assert g.dtype == dtype and g.shape == a.shape
    a64 = a.astype(np.float64)
    h = 1e-6
    fd = np.array([(reduceat_loss(a64 + h * e, ix) - reduceat_loss(a64 - h * e, ix)) / (2 * h)
                   for e in np.eye(a.size).reshape(a.size, *a.shape)]).reshape(a.shape)
    assert np.allclose(g, fd, **tol)
    # forward mode and second order
    t = RNG.standard_normal(a.shape)
    _, d = s2sgrad.jvp(reduceat_loss, wrt=(0,))((a64, ix), (t,))
    assert np.isclose(d, np.sum(fd * t), rtol=1e-6, atol=1e-8)
    gg = s2sgrad.grad(reduceat_loss)
    fd2 = (gg(a64 + h * t, ix) - gg(a64 - h * t, ix)) / (2 * h)
    assert np.allclose(s2sgrad.hvp(reduceat_loss)((a64, ix), t), fd2, rtol=1e-5, atol=1e-6)


def reduceat_out(a):
    return np.add.reduceat(a, [0, 2], out=np.zeros(2))


def test_add_reduceat_out_refused():
    with pytest.raises(s2sgrad.S2SGradError, match="reduceat.*out"):
        s2sgrad.grad(lambda a: np.sum(reduceat_out(a)))(np.ones(4))


# Reverse over forward (grad of a function returning a jvp) at a zero norm
# was silently wrong: grad of x -> jvp(norm(x) ** 2)(x; v) at x = 0 gave 0 for
# 2 v; np.abs ** 2 at a complex 0, np.hypot ** 2 at (0, 0) likewise.  The
# forward rules' products now go through norm_scale(..., tangent=True), whose
# reverse derivative refuses a tangent moving the zero (the cotangent can be
# 0 there while the lost limit is not), as rr/fr/hvp already refused.
def norm_sq(x):
    return np.linalg.norm(x) ** 2


def norm_axis_sq(x):
    return np.sum(np.linalg.norm(x, axis=1) ** 2)


def abs_sq(z):
    return np.sum(np.abs(z) ** 2)


def hypot_sq(x):
    return np.sum(np.hypot(x[0], x[1]) ** 2)


def pairwise_sq(x):
    d = x[:, None, :] - x[None, :, :]
    return np.sum(np.linalg.norm(d, axis=-1) ** 2)




def std_sq_rows(x):
    return np.std(x, axis=1) ** 2


def rf_std_sq_rows(x, v):
    return s2sgrad.jvp(std_sq_rows)((x,), (v,))[1]


def rf_std_sq_rows_weighted(x, v):
    return np.sum(rf_std_sq_rows(x, v) * np.array([1.0, 2.0]))


def std_sq_rows_weighted(x):
    return np.sum(std_sq_rows(x) * np.array([1.0, 2.0]))


def rf_norm_sq(x, v):
    return s2sgrad.jvp(norm_sq)((x,), (v,))[1]


def rf_norm_axis_sq(x, v):
    return s2sgrad.jvp(norm_axis_sq)((x,), (v,))[1]


def rf_abs_sq(x, v):
    return s2sgrad.jvp(abs_sq)((x,), (v,))[1]


def rf_hypot_sq(x, v):
    return s2sgrad.jvp(hypot_sq)((x,), (v,))[1]


def rf_pairwise_sq(x, v):
    return s2sgrad.jvp(pairwise_sq)((x,), (v,))[1]


@pytest.mark.parametrize("rf, x", [
    (rf_norm_sq, np.zeros(3)), (rf_norm_axis_sq, np.array([[0.0, 0.0], [1.0, 2.0]])),
    (rf_abs_sq, np.array([0j, 1j, 2.0])), (rf_hypot_sq, np.array([[0.0, 1.0], [0.0, 2.0]])),
    # np.std at a constant row (ports9's case): -0.748 for -0.490 on main
    (rf_std_sq_rows_weighted, np.array([[0.5, 0.5, 0.5], [0.1, -0.4, 0.9]]))],
    ids=["norm", "norm_axis", "abs_complex", "hypot", "std_constant_row"])
def test_reverse_over_forward_at_zero_norm_refused(rf, x):
    v = RNG.standard_normal(x.shape) + (1j * RNG.standard_normal(x.shape)
                                        if np.iscomplexobj(x) else 0)
    with pytest.raises(ValueError, match="exactly 0"):
        s2sgrad.grad(rf, wrt=(0,))(x, v)


@pytest.mark.parametrize("rf, f, x", [
    (rf_norm_sq, norm_sq, RNG.standard_normal(3)),
    (rf_abs_sq, abs_sq, np.array([0.5j, 1j, 2.0])),
    (rf_hypot_sq, hypot_sq, np.array([[0.3, 1.0], [0.5, 2.0]])),
    (rf_std_sq_rows_weighted, std_sq_rows_weighted, RNG.standard_normal((2, 3))),
    # a pairwise kernel: the diagonal x_i - x_i is a zero that its tangent
    # does not move (kept exact, not refused)
    (rf_pairwise_sq, pairwise_sq, RNG.standard_normal((3, 2)))],
    ids=["norm", "abs_complex", "hypot", "std", "pairwise_kernel"])
def test_reverse_over_forward_away_from_zero(rf, f, x):
    v = RNG.standard_normal(x.shape) + (1j * RNG.standard_normal(x.shape)
                                        if np.iscomplexobj(x) else 0)
    (g,) = s2sgrad.grad(rf, wrt=(0,))(x, v)
    gg = s2sgrad.grad(f)
    h = 1e-6
    fd = (gg(x + h * v) - gg(x - h * v)) / (2 * h)
    assert np.allclose(g, fd, rtol=1e-6, atol=1e-7)
