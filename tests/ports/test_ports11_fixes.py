"""Regressions found by the ports11 cases and probes (each fails on 709bcd7).

* **A vjp's pullback read the output it had handed to the caller.**  The
  forward half returned the same array as the output and as a residual
  (sigmoid's and softmax's derivative come from the output, exp's, inv's
  and tanh's too), so the everyday ``r, pb = vjp(model)(w); r -= y;
  pb(r)`` -- the residual of a least-squares fit, formed in place -- gave a
  silently wrong gradient.  Arrays handed to the caller (the output, ``aux``)
  are now residuals to copy, as the arguments already were
  (``reverse.split_vjp``).
* **A loop's tape held the caller's argument** (the carry ``h = x`` pushed
  by the first step, an array also appended to a returned list), and
  ``split_vjp`` never copied a tape: ``out, pb = vjp(f)(x); x[...] = 5;
  pb(u)`` was wrong although the README promises the pullback is the
  derivative at the forward point.  A tape whose pushes may share memory
  with an argument or an output is now copied with what it holds
  (``runtime.snapshot``), a checkpointed loop's tape with its stored states
  and the reads its segment function binds (``schedules.Tape.snapshot``).
* **A checkpointed loop that broke in the last step of a segment ran on.**
  The schedule's driver learns that a loop stopped early from its
  iteration count; a ``break`` in a segment's last step leaves a full
  count, so the driver called the next segment, whose loop ran its body
  once more (the loop tests its break flag after each body): value,
  gradient and Hessian-vector products of ``for ...: if x[i] > 1: break``
  under ``checkpoint=`` were silently wrong (the Enzyme ``break`` program
  under ``checkpoint="sqrt"``: gradient 1.1622 for 0.92976).  A segment
  now runs no iteration once the flag is set (``remat._segment_loop``; a
  while loop's segment tests it in its condition).
* **A reduction of a 0-d array over ``axis=0``/``-1``** (NumPy reduces the
  one element: ``np.sum(np.array(1.5), axis=0)``) crashed in the pullback
  (``unreduce`` put a reduced axis back); ``np.take(x, 0, axis=0)`` of a 0-d
  array likewise (``untake``).
"""
from __future__ import annotations

import numpy as np
import pytest

import s2sgrad

pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning")]

RNG = np.random.default_rng(1104)


def _fd(f, args, w, h=1e-6):
    """Central differences of ``sum(u * f)``-style scalars: the gradient of a
    scalar ``f`` in argument ``w``."""
    x = np.asarray(args[w], dtype=float)
    g = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        e = np.zeros(x.shape)
        e[i] = h
        a1, a2 = list(args), list(args)
        a1[w] = x + e if x.shape else float(x + e)
        a2[w] = x - e if x.shape else float(x - e)
        g[i] = (f(*a1) - f(*a2)) / (2 * h)
    return g


# ------------------------------------------------------------------ outputs handed to the caller


def logistic(w, X):
    return 1.0 / (1.0 + np.exp(-(X @ w)))


def softmax(z):
    e = np.exp(z)
    return e / np.sum(e, axis=-1, keepdims=True)


def expo(x):
    return np.exp(x)


def inverse(x):
    return np.linalg.inv(np.diag(x) + 3.0)


def view_of_residual(x):
    e = np.exp(x)
    return e.reshape(-1, 1)


def two_outputs(x):
    s = np.exp(x)
    return s, {"twice": s * 2.0, "same": s}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_residual_formed_in_place_from_the_output(dtype):
    """``r, pb = vjp(model)(w, X); r -= y; pb(r)``: the gradient of
    ``0.5 * |model - y|^2``."""
    X = RNG.standard_normal((6, 3)).astype(dtype)
    w = RNG.standard_normal(3).astype(dtype)
    y = RNG.random(6).astype(dtype)
    r, pb = s2sgrad.vjp(logistic)(w, X)
    p = logistic(w, X)
    np.testing.assert_allclose(r, p, rtol=1e-6)
    r -= y
    g = pb(r)
    loss = lambda w_: 0.5 * np.sum((logistic(w_, X.astype(float)) - y) ** 2)
    want = _fd(loss, (w.astype(float),), 0)
    tol = 1e-6 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(g, want, rtol=tol, atol=tol)
    assert g.dtype == dtype


@pytest.mark.parametrize("f, x", [
    (softmax, RNG.standard_normal((2, 3))),
    (expo, RNG.standard_normal(4)),
    (inverse, RNG.standard_normal(3)),
    (view_of_residual, RNG.standard_normal(4)),
    (expo, np.array(0.7)[None]),
])
def test_output_changed_in_place_before_the_pullback(f, x):
    out, pb = s2sgrad.vjp(f)(x)
    np.testing.assert_allclose(out, f(x), rtol=1e-12)
    u = RNG.standard_normal(np.shape(out))
    out[...] = 123.0                               # the caller reuses the buffer
    got = pb(u)
    want = _fd(lambda x_: np.sum(u * f(x_)), (x,), 0)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(pb(u), got, rtol=0, atol=0)   # and again


def test_pytree_output_changed_in_place():
    x = RNG.standard_normal(3)
    out, pb = s2sgrad.vjp(two_outputs)(x)
    u = (RNG.standard_normal(3), {"twice": RNG.standard_normal(3), "same": RNG.standard_normal(3)})
    out[0][...] = 5.0
    out[1]["same"][...] = -5.0
    got = pb(u)
    want = (u[0] + 2 * u[1]["twice"] + u[1]["same"]) * np.exp(x)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def aux_shares(x):
    e = np.exp(x)
    return np.sum(e * x), e


def test_aux_changed_in_place():
    x = RNG.standard_normal(3)
    out, pb, aux = s2sgrad.vjp(aux_shares, has_aux=True)(x)
    np.testing.assert_allclose(aux, np.exp(x))
    aux[...] = 0.0
    np.testing.assert_allclose(pb(1.0), np.exp(x) * (x + 1), rtol=1e-12)


# ------------------------------------------------------------------ tapes holding the caller's arrays


def carry_from_argument(x):
    h = x
    for t in range(3):
        h = np.sin(h) * h
    return h


def list_output(x, W):
    hs = []
    h = x
    for t in range(5):
        h = np.tanh(W @ h)
        hs.append(h)
    return hs


def _list_loss(u):
    return lambda x, W: sum(np.sum(a * b) for a, b in zip(u, list_output(x, W)))


def test_argument_changed_in_place_loop_carry():
    x0 = RNG.standard_normal(3)
    u = RNG.standard_normal(3)
    x = x0.copy()
    out, pb = s2sgrad.vjp(carry_from_argument)(x)
    x[...] = 5.0
    want = _fd(lambda x_: np.sum(u * carry_from_argument(x_)), (x0,), 0)
    np.testing.assert_allclose(pb(u), want, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("checkpoint", [None, "sqrt", s2sgrad.Binomial(snapshots=2)],
                         ids=["plain", "sqrt", "binomial"])
@pytest.mark.parametrize("change", ["arguments", "outputs"])
def test_list_output_of_a_loop(checkpoint, change):
    x0 = RNG.standard_normal(3)
    W0 = RNG.standard_normal((3, 3)) * 0.5
    u = [RNG.standard_normal(3) for _ in range(5)]
    x, W = x0.copy(), W0.copy()
    out, pb = s2sgrad.vjp(list_output, wrt=(0, 1), checkpoint=checkpoint)(x, W)
    for a, b in zip(out, list_output(x0, W0)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    if change == "arguments":
        x[...] = 3.0
        W[...] = -1.0
    else:
        for a in out:
            a[...] = 9.0
    gx, gW = pb(u)
    loss = _list_loss(u)
    np.testing.assert_allclose(gx, _fd(loss, (x0, W0), 0), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(gW, _fd(loss, (x0, W0), 1), rtol=1e-6, atol=1e-9)


def test_snapshot_copies_only_for_a_users_pullback():
    """grad and value_and_grad (no pullback handed out) keep no copies."""
    src = s2sgrad.grad(list_output_sum)
    src(RNG.standard_normal(3))
    assert "snapshot(" not in src.source


def list_output_sum(x):
    hs = []
    h = x
    for t in range(3):
        h = np.tanh(h)
        hs.append(h)
    return np.sum(hs[0] * hs[-1])


# ------------------------------------------------------------------ 0-d reductions over axis 0


_ZERO_D = ["np.sum(x, axis=0)", "np.max(x, axis=-1)", "np.prod(x, axis=0)",
           "np.nansum(x, axis=-1)", "np.amax(x, 0)", "np.add.reduce(x, axis=0)",
           "np.logaddexp.reduce(x, axis=0)", "np.maximum.reduce(x, axis=0)",
           "np.multiply.reduce(x, axis=0)", "np.sum(x * x, axis=-1)", "np.take(x, 0, axis=0)",
           "np.nanmax(x, axis=0)", "np.ptp(x, axis=0) + x"]


def _zero_d_function(expr, i):
    import linecache
    src = f"import numpy as np\n\n\ndef f(x):\n    return np.sin({expr}) * 2.0 + x\n"
    fn = f"<ports11 zero-d #{i}>"
    linecache.cache[fn] = (len(src), None, src.splitlines(True), fn)
    ns = {}
    exec(compile(src, fn, "exec"), ns)
    return ns["f"]


@pytest.mark.parametrize("i, expr", list(enumerate(_ZERO_D)), ids=_ZERO_D)
@pytest.mark.parametrize("kind", ["array", "float", "float32"])
def test_zero_d_reduction_over_axis_0(i, expr, kind):
    f = _zero_d_function(expr, i)
    x = {"array": np.array(0.4), "float": 0.4, "float32": np.array(0.4, dtype=np.float32)}[kind]
    want = _fd(f, (float(x),), 0)
    v, g = s2sgrad.value_and_grad(f)(x)
    np.testing.assert_allclose(v, f(x), rtol=1e-6)
    tol = 1e-6 if kind != "float32" else 1e-4
    np.testing.assert_allclose(g, want, rtol=tol, atol=tol)
    assert np.shape(g) == np.shape(x)
    _, d = s2sgrad.jvp(f)((x,), (1.0,))
    np.testing.assert_allclose(d, want, rtol=tol, atol=tol)
    if kind == "array":
        # second order: reverse over reverse against differences of the gradient
        gg = s2sgrad.grad(lambda_grad(f))(x)
        h = 1e-5
        ref = (s2sgrad.grad(f)(x + h) - s2sgrad.grad(f)(x - h)) / (2 * h)
        np.testing.assert_allclose(gg, ref, rtol=1e-5, atol=1e-6)


def lambda_grad(f):
    g = s2sgrad.grad(f)

    def d(x):
        return g(x)
    return d


# ------------------------------------------------------------------ checkpointed loops with break


def enzyme_break(x):
    s = 1.0
    for i in range(x.shape[0]):
        if x[i] > 1.0:
            break
        s = s * (1.0 + x[i] ** 2)
    return s


def break_after_update(x):
    s = 0.5
    for i in range(x.shape[0]):
        s = s * np.cos(x[i]) + x[i]
        if x[i] > 1.0:
            break
    return s


def while_break(x):
    s = 0.5
    i = 0
    while i < x.shape[0]:
        s = s * np.cos(x[i]) + x[i]
        if x[i] > 1.0:
            break
        i += 1
    return s


def _plain(f, x):
    """Value, gradient (against differences) and one Hessian-vector product of
    ``f`` at ``x`` without checkpointing."""
    v, g = s2sgrad.value_and_grad(f)(x)
    np.testing.assert_allclose(v, f(x), rtol=1e-12)
    np.testing.assert_allclose(g, _fd(f, (x,), 0), rtol=1e-6, atol=1e-8)
    return v, g


@pytest.mark.parametrize("f", [enzyme_break, break_after_update, while_break])
@pytest.mark.parametrize("pos", [1, 3, 7, None])
@pytest.mark.parametrize("checkpoint", ["sqrt", s2sgrad.Binomial(snapshots=2),
                                        s2sgrad.Budget(bytes=100)],
                         ids=["sqrt", "binomial2", "budget"])
def test_checkpointed_loop_breaking_at_a_segment_end(f, pos, checkpoint):
    x = np.linspace(-0.6, 0.7, 8) * 0.9
    if pos is not None:
        x[pos] = 1.3
    v0, g0 = _plain(f, x)
    v1, g1 = s2sgrad.value_and_grad(f, checkpoint=checkpoint)(x)
    np.testing.assert_allclose(v1, v0, rtol=1e-12)
    np.testing.assert_allclose(g1, g0, rtol=1e-12, atol=1e-15)
    d = np.linspace(1.0, -1.0, 8)
    h0 = s2sgrad.hvp(f)((x,), d)
    h1 = s2sgrad.hvp(f, checkpoint=checkpoint)((x,), d)
    ref = (s2sgrad.grad(f)(x + 1e-5 * d) - s2sgrad.grad(f)(x - 1e-5 * d)) / 2e-5
    np.testing.assert_allclose(h0, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h1, h0, rtol=1e-10, atol=1e-12)
