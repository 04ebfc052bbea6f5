"""Shift invariance (s2sgrad/invariance.py): a max subtracted for stability
is detached only where the loss provably does not depend on it."""
import numpy as np
import pytest

import s2sgrad
from s2sgrad import api, check_grads, grad, hessian, jvp

rng = np.random.default_rng(0)
W, X = rng.normal(size=(4, 3)), rng.normal(size=(12, 4))
Y = np.eye(3)[rng.integers(0, 3, 12)]


def softmax_ce(W, X, Y):
    Z = X @ W
    Z = Z - np.max(Z, axis=1, keepdims=True)
    logp = Z - np.log(np.sum(np.exp(Z), axis=1, keepdims=True))
    return -np.mean(np.sum(Y * logp, axis=1))


def softmax_probs(W, X, Y):
    Z = X @ W
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    return np.sum((p - Y) ** 2)


def logsumexp(x):
    m = np.max(x)
    return np.log(np.sum(np.exp(x - m))) + m


def shift_matters(W, X, Y):                     # sum(Z - m) depends on m
    Z = X @ W
    return np.sum(Z - np.max(Z, axis=1, keepdims=True)) + np.sum(Y * Z)


def scale_by_max(W, X, Y):                      # Z / m is not a shift
    Z = np.exp(X @ W)
    return np.sum(Z / np.max(Z, axis=1, keepdims=True) * Y)


def shift_also_used(W, X, Y):                   # m also enters the loss directly
    Z = X @ W
    m = np.max(Z, axis=1, keepdims=True)
    logp = (Z - m) - np.log(np.sum(np.exp(Z - m), axis=1, keepdims=True))
    return -np.mean(np.sum(Y * logp, axis=1)) + 0.1 * np.sum(m)


def wrong_axis(W, X, Y):                        # shift along axis 1, sum along axis 0
    Z = X @ W
    Z = Z - np.max(Z, axis=1, keepdims=True)
    return np.sum(np.log(np.sum(np.exp(Z), axis=0, keepdims=True)))


def _detached(f, *args):
    g = grad(f)
    g(*args)
    return "stop_gradient" in g._last.source


@pytest.mark.parametrize("f, detached", [
    (softmax_ce, True), (softmax_probs, True), (shift_matters, False),
    (scale_by_max, False), (shift_also_used, False), (wrong_axis, False)])
def test_detached_exactly_where_invariant(f, detached, monkeypatch):
    assert _detached(f, W, X, Y) is detached
    check_grads(f, (W, X, Y), wrt=0)
    got = grad(f)(W, X, Y)
    monkeypatch.setattr(api, "detach_shifts", lambda func, results=(0,): func)
    full = grad(f)(W, X, Y)                     # differentiating through the max
    np.testing.assert_allclose(got, full, rtol=1e-10, atol=1e-14)


def test_scalar_shift_logsumexp():
    x = np.array([0.5, -1.0, 2.0, 2.0])        # a tie at the max, too
    assert _detached(logsumexp, x)
    e = np.exp(x - x.max())
    np.testing.assert_allclose(grad(logsumexp)(x), e / e.sum(), rtol=1e-14)


def test_specialised_softmax_has_no_max_adjoint():
    g = grad(softmax_ce)
    g(W, X, Y)
    code = [ln for ln in g.source.splitlines() if not ln.strip().startswith("#")]
    assert not any("np.where" in ln or "==" in ln or "stop_gradient" in ln for ln in code)


def test_higher_order_and_forward_through_detached_shift():
    w = W[:, 0].copy()

    def f(w):
        Z = np.outer(X @ w, np.array([1.0, -0.5, 2.0]))
        Z = Z - np.max(Z, axis=1, keepdims=True)
        return -np.mean(np.sum(Y * (Z - np.log(np.sum(np.exp(Z), axis=1, keepdims=True))),
                               axis=1))
    assert _detached(f, w)
    check_grads(f, (w,), modes=("rev", "fwd"))
    H = hessian(f)(w)
    eps = 1e-5
    num = np.stack([(grad(f)(w + eps * e) - grad(f)(w - eps * e)) / (2 * eps)
                    for e in np.eye(4)], axis=1)
    np.testing.assert_allclose(H, num, rtol=1e-5, atol=1e-8)
    v = np.array([1.0, -2.0, 0.5, 0.25])
    hv = s2sgrad.hvp(f)((w,), v)
    np.testing.assert_allclose(hv, H @ v, rtol=1e-10, atol=1e-12)

    def line(s):                                # f along a line: grad(grad(.)) is v^T H v
        return f(w + s * v)
    d2 = grad(grad(line))(0.3)
    d1 = grad(line)
    assert d2 == pytest.approx((d1(0.3 + 1e-5) - d1(0.3 - 1e-5)) / 2e-5, rel=1e-5)
    _, t = jvp(f)((w,), (np.ones(4),))
    assert t == pytest.approx(np.sum(grad(f)(w)), rel=1e-10)


# ---------------------------------------------------------------- the spellings people write


def added_back_by_index(W, X, Y):               # + m[:, 0]
    Z = X @ W
    m = np.max(Z, axis=1, keepdims=True)
    lse = np.log(np.sum(np.exp(Z - m), axis=1)) + m[:, 0]
    return np.mean(lse - np.sum(Y * Z, axis=1))


def added_back_squeezed(W, X, Y):               # + m.squeeze()
    Z = X @ W
    m = np.max(Z, axis=1, keepdims=True)
    lse = np.log(np.sum(np.exp(Z - m), axis=1)) + m.squeeze()
    return np.mean(lse - np.sum(Y * Z, axis=1))


def added_back_recomputed(W, X, Y):             # + np.max(Z, axis=1), log-softmax via lse[:, None]
    Z = X @ W
    m = np.max(Z, axis=1, keepdims=True)
    lse = np.log(np.sum(np.exp(Z - m), axis=1)) + np.max(Z, axis=1)
    return -np.mean(np.sum(Y * (Z - lse[:, None]), axis=1))


def max_without_keepdims(W, X, Y):              # m = max(Z, axis=1); Z - m[:, None]
    Z = X @ W
    m = np.max(Z, axis=1)
    logp = Z - m[:, None] - np.log(np.sum(np.exp(Z - m[:, None]), axis=1))[:, None]
    return -np.mean(np.sum(Y * logp, axis=1))


def logsumexp_like_scipy(a, axis=None, keepdims=False):
    """scipy.special.logsumexp as people copy it: the isfinite guard, keepdims."""
    a_max = np.max(a, axis=axis, keepdims=True)
    a_max[~np.isfinite(a_max)] = 0
    out = np.log(np.sum(np.exp(a - a_max), axis=axis, keepdims=keepdims))
    if not keepdims:
        a_max = np.squeeze(a_max, axis=axis)
    return out + a_max


def scipy_style_helper(W, X, Y):
    Z = X @ W
    return np.mean(logsumexp_like_scipy(Z, axis=1) - np.sum(Y * Z, axis=1))


def scipy_style_keepdims(W, X, Y):
    Z = X @ W
    return -np.mean(np.sum(Y * (Z - logsumexp_like_scipy(Z, axis=1, keepdims=True)), axis=1))


def guarded_by_where(W, X, Y):
    Z = X @ W
    m = np.max(Z, axis=1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    return -np.mean(np.sum(Y * (Z - m - np.log(np.sum(np.exp(Z - m), axis=1, keepdims=True))),
                           axis=1))


def squeezed_shift_matters(W, X, Y):            # m (without keepdims) enters the loss
    Z = X @ W
    m = np.max(Z, axis=1)
    return np.sum(np.log(np.sum(np.exp(Z - m[:, None]), axis=1))) + 0.1 * np.sum(m)


def guard_and_raw_mixed(W, X, Y):
    # invariant, but through two fields (the guarded max and the raw one):
    # beyond the proof, so the max keeps its derivative (still right)
    Z = X @ W
    m = np.max(Z, axis=1, keepdims=True)
    g = np.where(np.isfinite(m), m, 0.0)
    return np.sum(np.log(np.sum(np.exp(Z - g), axis=1, keepdims=True)) - g + m - m)


def squeezed_meets_full(W, X, Y):               # (n,) against (n, k): not the row's shift
    Z = X @ W
    m = np.max(Z, axis=1)
    return np.sum(np.log(np.sum(np.exp(Z - m), axis=1)))


@pytest.mark.parametrize("f, detached", [
    (added_back_by_index, True), (added_back_squeezed, True), (added_back_recomputed, True),
    (max_without_keepdims, True), (scipy_style_helper, True), (scipy_style_keepdims, True),
    (guarded_by_where, True), (squeezed_shift_matters, False), (guard_and_raw_mixed, False)])
def test_spellings_detached_exactly_where_invariant(f, detached, monkeypatch):
    assert _detached(f, W, X, Y) is detached
    check_grads(f, (W, X, Y), wrt=0)
    got = grad(f)(W, X, Y)
    monkeypatch.setattr(api, "detach_shifts", lambda func, results=(0,): func)
    full = grad(f)(W, X, Y)
    np.testing.assert_allclose(got, full, rtol=1e-10, atol=1e-14)


def test_axis_moved_by_broadcasting_is_not_a_shift():
    # Z - m with m of shape (n,) against Z (n, k): broadcasting pairs m with
    # columns, not rows -- no proof (here n == k so it runs)
    W3 = rng.normal(size=(4, 12))
    assert not _detached(squeezed_meets_full, W3, X, Y)
    check_grads(squeezed_meets_full, (W3, X, Y), wrt=0)
