"""Random draws are data, drawn once (s2sgrad.primitives.random, s2sgrad.draws).

Every test compares with a plain call of the function on a generator in
the same state: the value, the gradient (against the formula with the same
draws, or against finite differences through check_grads, which replays the
draws), and the generator's state afterwards (it advances exactly as in one
call of the function).
"""
import copy

import numpy as np
import pytest

import s2sgrad
from s2sgrad import grad, hessian, hvp, jacobian, jvp, value_and_grad
from s2sgrad.errors import NonDifferentiableError, UnknownFunctionError, UnsupportedSyntaxError


def state(g):
    return g.bit_generator.state if isinstance(g, np.random.Generator) else g.get_state()


def same_state(a, b):
    sa, sb = state(a), state(b)
    if isinstance(sa, dict):
        return sa == sb
    return all(np.array_equal(x, y) for x, y in zip(sa, sb))


def twins(kind, seed=7):
    make = np.random.default_rng if kind == "Generator" else np.random.RandomState
    return make(seed), make(seed)


MU = np.array([0.5, -1.0, 2.0])
LS = np.array([0.1, -0.2, 0.3])


def reparam(mu, log_sigma, rng):
    eps = rng.normal(size=mu.shape)
    z = mu + np.exp(log_sigma) * eps
    return np.sum(z ** 2)


def reparam_rs(mu, log_sigma, rs):
    eps = rs.randn(*mu.shape)
    z = mu + np.exp(log_sigma) * eps
    return np.sum(z ** 2)


@pytest.mark.parametrize("kind,f", [("Generator", reparam), ("RandomState", reparam_rs)])
def test_generator_argument_value_gradient_and_state(kind, f):
    r1, r2 = twins(kind)
    vg = value_and_grad(f, wrt=(0, 1))
    for _ in range(3):        # the second call runs the shape-specialised code
        eps = copy.deepcopy(r2).normal(size=3) if kind == "Generator" else \
            copy.deepcopy(r2).randn(3)
        v, (gm, gs) = vg(MU, LS, r1)
        assert v == f(MU, LS, r2)
        assert same_state(r1, r2)
        z = MU + np.exp(LS) * eps
        np.testing.assert_allclose(gm, 2 * z)
        np.testing.assert_allclose(gs, 2 * z * eps * np.exp(LS))
    assert "rng.normal(size=" in vg.source or "rs.randn(" in vg.source


def test_check_grads_replays_draws_and_restores_state():
    r = np.random.default_rng(3)
    before = state(r)
    s2sgrad.check_grads(reparam, (MU, LS, r), wrt=(0, 1), modes=("rev", "fwd"))
    assert state(r) == before


RS = np.random.RandomState(11)
GEN = np.random.default_rng(11)


def with_global_rs(w):
    return np.sum(w * RS.randn(3)) + np.sum(w ** 2 * RS.rand(3))


def with_global_gen(w):
    return np.sum(np.sin(w) * GEN.standard_normal(3)) * GEN.uniform()


def test_global_generators_are_read_live():
    w = np.array([0.3, 0.2, -0.4])
    for f, name in ((with_global_rs, "RS"), (with_global_gen, "GEN")):
        g = f.__globals__[name]
        vg = value_and_grad(f)
        for _ in range(2):
            saved = copy.deepcopy(g)
            v, dw = vg(w)
            # a plain call from the same state draws the same values and
            # leaves the generator in the same state
            f.__globals__[name] = saved
            try:
                assert f(w) == v
                assert same_state(saved, g)
            finally:
                f.__globals__[name] = g
        before = state(g)
        s2sgrad.check_grads(f, (w,), modes=("rev", "fwd"))
        assert same_state_value(before, state(g))


def same_state_value(a, b):
    if isinstance(a, dict):
        return a == b
    return all(np.array_equal(x, y) for x, y in zip(a, b))


def test_closure_generator_and_generator_made_inside():
    rs = np.random.RandomState(2)

    def closed(w):
        return np.sum(np.tanh(w + rs.normal(0.0, 0.5, size=w.shape)))

    twin = np.random.RandomState(2)
    w = np.array([0.1, 0.4])
    dw = grad(closed)(w)
    e = twin.normal(0.0, 0.5, size=2)
    np.testing.assert_allclose(dw, 1 - np.tanh(w + e) ** 2)
    assert same_state(rs, twin)

    def inside(w):
        rng = np.random.default_rng(0)
        a = rng.normal(size=w.shape)
        b = rng.normal(size=w.shape)          # a second draw: never merged with the first
        return np.sum(w * a) + np.sum(w ** 2 * b)

    r = np.random.default_rng(0)
    a, b = r.normal(size=2), r.normal(size=2)
    np.testing.assert_allclose(grad(inside)(w), a + 2 * w * b)
    assert value_and_grad(inside)(w)[0] == inside(w)
    s2sgrad.check_grads(inside, (w,), modes=("rev", "fwd"))


def legacy(w):
    noise = np.random.normal(0.0, 1.0, size=w.shape)
    idx = np.random.choice(w.shape[0], size=2, replace=False)
    perm = np.random.permutation(w.shape[0])
    k = np.random.randint(0, 3)
    return np.sum(w[idx] ** 2) + np.sum(w[perm] * noise) + k * np.random.rand()


def test_legacy_np_random_functions():
    w = np.array([0.5, 1.5, -2.0, 0.25])
    np.random.seed(4)
    vg = value_and_grad(legacy)
    for _ in range(2):
        st = np.random.get_state()
        v, dw = vg(w)
        after = np.random.get_state()
        np.random.set_state(st)
        assert v == legacy(w)
        assert same_state_value(after, np.random.get_state())
    st = np.random.get_state()
    s2sgrad.check_grads(legacy, (w,), modes=("rev", "fwd"))
    assert same_state_value(st, np.random.get_state())
    assert "np.random.choice(" in vg.source


def test_unused_draw_still_advances_the_state():
    def f(x, rng):
        rng.normal(size=5)          # unused: still drawn
        unused = rng.uniform()      # noqa: F841
        return np.sum(x ** 2) * rng.normal()

    r1, r2 = twins("Generator")
    x = np.array([1.0, 2.0])
    dx = grad(f)(x, r1)
    r2.normal(size=5), r2.uniform()
    c = r2.normal()
    np.testing.assert_allclose(dx, 2 * x * c)
    assert same_state(r1, r2)


def dropout_rnn(W, xs, rng):
    h = np.zeros(W.shape[0])
    for t in range(xs.shape[0]):
        mask = (rng.uniform(size=h.shape) < 0.8) / 0.8
        h = np.tanh(W @ h + xs[t]) * mask
    return np.sum(h ** 2)


def test_draws_in_loops_and_branches_across_transformations():
    W = np.array([[0.5, -0.3], [0.2, 0.4]])
    xs = np.array([[0.1, 0.2], [0.3, -0.1], [0.5, 0.7]])
    r1, r2 = twins("Generator")
    v, dW = value_and_grad(dropout_rnn)(W, xs, r1)
    assert v == dropout_rnn(W, xs, r2) and same_state(r1, r2)
    s2sgrad.check_grads(dropout_rnn, (W, xs, r1), modes=("rev", "fwd"))
    # forward mode, from the same state as a gradient
    V = np.ones_like(W)
    dW = grad(dropout_rnn)(W, xs, copy.deepcopy(r1))
    out, dot = jvp(dropout_rnn)((W, xs, r1), (V,))
    assert out == dropout_rnn(W, xs, r2) and same_state(r1, r2)
    np.testing.assert_allclose(dot, np.sum(dW * V))
    # hvp, hessian: the linear part of a loop re-runs the primal -- with the
    # recorded draws, so one call advances the generator once
    snap = copy.deepcopy(r1)
    st = copy.deepcopy(r1)
    Hv = hvp(dropout_rnn)((W, xs, r1), V)
    dropout_rnn(W, xs, r2)
    assert same_state(r1, r2)
    H = hessian(dropout_rnn)(W, xs, snap)
    assert same_state(snap, r1)
    np.testing.assert_allclose(np.tensordot(H, V, axes=2), Hv, rtol=1e-10, atol=1e-12)
    # a Hessian column by finite differences of the gradient, same draws
    e = np.zeros_like(W)
    e[0, 1] = 1.0
    g = grad(dropout_rnn)
    fd = (g(W + 1e-6 * e, xs, copy.deepcopy(st)) - g(W - 1e-6 * e, xs, copy.deepcopy(st))) / 2e-6
    np.testing.assert_allclose(H[:, :, 0, 1], fd, rtol=1e-5, atol=1e-7)


def test_jacobian_modes_draw_once():
    def f(m, rng):
        return np.sum(m) * rng.normal(size=5) ** 2

    mu = np.array([1.0, 2.0, 3.0])
    for mode in ("auto", "forward", "reverse"):
        r1, r2 = twins("Generator")
        J = jacobian(f, mode=mode)(mu, r1)
        e = r2.normal(size=5)
        np.testing.assert_allclose(J, np.outer(e ** 2, np.ones(3)))
        assert same_state(r1, r2)


def test_pathwise_derivatives_of_location_and_scale():
    def f(mu, sigma, rng):
        return np.sum(np.sin(rng.normal(mu, sigma, size=(4, 3))))

    def g(lo, hi, rng):
        return np.sum(rng.uniform(low=lo, high=hi, size=3) ** 2)

    def h(mu, rs):
        return np.sum(rs.normal(loc=mu) ** 3)

    s2sgrad.check_grads(f, (MU, np.array(0.7), np.random.default_rng(0)), wrt=(0, 1),
                        modes=("rev", "fwd"))
    s2sgrad.check_grads(g, (np.array([0.1, 0.2, 0.3]), 2.0, np.random.default_rng(0)),
                        wrt=(0, 1), modes=("rev", "fwd"))
    s2sgrad.check_grads(h, (MU, np.random.RandomState(0)), modes=("rev", "fwd"))


def test_refusals_name_the_generator():
    def perm(x, rng):
        return np.sum(rng.permutation(x) * np.arange(3.0))

    with pytest.raises(NonDifferentiableError, match="permutation"):
        grad(perm)(np.array([1.0, 2.0, 3.0]), np.random.default_rng(0))

    def unknown(x, rng):
        return np.sum(x * rng.frobnicate(3))

    with pytest.raises(UnknownFunctionError, match=r"Generator method '\.frobnicate\(\)'"):
        grad(unknown)(np.ones(3), np.random.default_rng(0))
    with pytest.raises(UnknownFunctionError, match=r"RandomState method '\.integers\(\)'"):
        grad(lambda x, rs: np.sum(x * rs.integers(3)))(np.ones(3), np.random.RandomState(0))

    def shuffles(x, rng):
        rng.shuffle(x)
        return np.sum(x)

    with pytest.raises(UnsupportedSyntaxError, match=r"rng.permutation"):
        grad(shuffles)(np.ones(3), np.random.default_rng(0))


class NoisyModel:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.W = np.array([[1.0, 0.5], [-0.3, 2.0]])

    def loss(self, x):
        return np.sum((self.W @ x + self.rng.normal(size=2)) ** 2)


MODEL = NoisyModel(3)


def uses_model(x):
    return MODEL.loss(x) * 2.0


def test_generator_held_by_an_object():
    x = np.array([0.5, -0.2])
    for f, factor in ((MODEL.loss, 1.0), (uses_model, 2.0)):   # a bound method; called inside
        before = state(MODEL.rng)
        s2sgrad.check_grads(f, (x,), modes=("rev", "fwd"))
        assert state(MODEL.rng) == before
        twin = copy.deepcopy(MODEL.rng)
        v, dx = value_and_grad(f)(x)
        plain = NoisyModel(0)
        plain.rng = twin
        assert v == plain.loss(x) * factor
        assert same_state(MODEL.rng, twin)
