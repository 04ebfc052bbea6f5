"""Batched (vectorised) seeds for hessian and jacobian.

Every case computes the same Hessian/Jacobian twice, with the batched linear
part (one call of generated code for all basis vectors) and with the
per-basis-vector loop (``s2sgrad.higher.BATCHED = False``), and checks

* that the batched path was really taken for straight-line code (and the
  loop for code with loops/branches, which has no batch rule),
* agreement of the two to 1e-12 relative, and
* agreement with central finite differences.
"""
import numpy as np
import pytest

import s2sgrad.higher as higher
from s2sgrad import grad, hessian, jacobian, pytree
from s2sgrad import batch_runtime as br
from s2sgrad.batching import batch_func

rng = np.random.default_rng(1234)


def _leaves(t):
    return [np.asarray(v, dtype=float) for v in pytree.flatten(t)[0]]


def _both(fn, args, kwargs=None, path="batched"):
    kwargs = kwargs or {}
    old = higher.BATCHED
    try:
        higher.BATCHED = True
        a = fn(*args, **kwargs)
        taken = fn.last_path
        err = getattr(fn, "batch_error", None)
        higher.BATCHED = False
        b = fn(*args, **kwargs)
        assert fn.last_path == "loop"
    finally:
        higher.BATCHED = old
    assert path is None or taken == path, (taken, err)
    la, lb = _leaves(a), _leaves(b)
    assert pytree.flatten(a)[1] == pytree.flatten(b)[1]
    for x, y in zip(la, lb):
        assert x.shape == y.shape
        scale = max(1.0, float(np.max(np.abs(y)))) if y.size else 1.0
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12 * scale)
    for x, y in zip(pytree.flatten(a)[0], pytree.flatten(b)[0]):
        assert type(x) is type(y)
        assert np.asarray(x).dtype == np.asarray(y).dtype
    return a


def _perturb(args, i, leaf, k, eps):
    """args with flat element k of leaf ``leaf`` of argument i moved by eps."""
    args = list(args)
    leaves, td = pytree.flatten(args[i])
    leaves = list(leaves)
    x = leaves[leaf]
    if isinstance(x, float):
        leaves[leaf] = x + eps
    else:
        y = np.array(x, dtype=float)
        y.reshape(-1)[k] += eps
        leaves[leaf] = y
    args[i] = pytree.unflatten(td, leaves)
    return args


def _fd_jac(f, args, wrt, eps=1e-6):
    """Finite-difference Jacobian, as a list over wrt leaves of
    (out_size_total, leaf_size) matrices, f's outputs flattened."""
    def out(a):
        return np.concatenate([np.ravel(np.asarray(v, dtype=float))
                               for v in pytree.flatten(f(*a))[0]])
    cols = []
    for i in wrt:
        for leaf, x in enumerate(pytree.flatten(args[i])[0]):
            c = []
            for k in range(np.size(x)):
                c.append((out(_perturb(args, i, leaf, k, eps)) -
                          out(_perturb(args, i, leaf, k, -eps))) / (2 * eps))
            cols.append(np.stack(c, axis=1))
    return cols


def _check_fd_hessian(f, args, H, wrt=(0,), kwargs=None):
    kwargs = kwargs or {}
    g = grad(f, wrt=wrt if len(wrt) > 1 else wrt[0])

    def gfun(*a):
        return g(*a, **kwargs)
    fd = np.concatenate(_fd_jac(gfun, args, wrt), axis=1)
    n = fd.shape[0]
    ours = np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in pytree.flatten(H)[0]])
    # H's leaves are blocks [i][j]: assemble the dense matrix block by block
    sizes = [int(np.size(x)) for i in wrt for x in pytree.flatten(args[i])[0]]
    dense = np.zeros((n, n))
    blocks = [np.asarray(v, dtype=float) for v in pytree.flatten(H)[0]]
    assert len(blocks) == len(sizes) ** 2 and ours.size == n * n
    off = np.concatenate([[0], np.cumsum(sizes)])
    for a in range(len(sizes)):
        for b in range(len(sizes)):
            dense[off[a]:off[a + 1], off[b]:off[b + 1]] = \
                blocks[a * len(sizes) + b].reshape(sizes[a], sizes[b])
    np.testing.assert_allclose(dense, fd, rtol=1e-5, atol=1e-5 * max(1.0, np.max(np.abs(fd))))


def _check_fd_jacobian(f, args, J, wrt=(0,)):
    fd = _fd_jac(f, args, wrt)
    blocks = [np.asarray(v, dtype=float) for v in pytree.flatten(J)[0]]
    outs = [np.size(v) for v in pytree.flatten(f(*args))[0]]
    nw = len(fd)
    assert len(blocks) == len(outs) * nw
    ooff = np.concatenate([[0], np.cumsum(outs)])
    for a in range(len(outs)):
        for b in range(nw):
            got = blocks[a * nw + b].reshape(outs[a], -1)
            want = fd[b][ooff[a]:ooff[a + 1]]
            np.testing.assert_allclose(got, want, rtol=1e-5,
                                       atol=1e-5 * max(1.0, np.max(np.abs(want))))


# ---------------------------------------------------------------- functions


def logreg(w, X, y, lam=0.1):
    margin = y * (X @ w)
    return np.mean(np.log1p(np.exp(-margin))) + lam * np.sum(w ** 2)


def softmax_ce(W, X, Y):
    z = X @ W
    z = z - np.max(z, axis=1, keepdims=True)
    lse = np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.sum(Y * (z - lse)) / X.shape[0]


def mlp(W1, W2, X):
    h = np.tanh(X @ W1)
    return np.sum((h @ W2) ** 2)


def mlp_tree(params, X):
    h = np.tanh(X @ params["W"] + params["b"])
    return np.mean(h ** 2) + np.sum(params["b"] ** 4)


def xsin(x):
    return np.sum(x * np.sin(x))


def norms(x):
    return np.sqrt(np.sum(x ** 2)) + np.linalg.norm(x) ** 3


def matrix_arg(A, B, C):
    return np.sum(np.tanh(B @ A @ C)) + np.sum(A.T * A) + np.mean(A, axis=0) @ np.mean(A, axis=1)


def slicing(x):
    return np.sum(x[1:] * x[:-1]) + np.sum(x[::2] ** 3) + x[0] * x[-1] + np.sum(x[[0, 2, 2]] ** 2)


def slicing2d(A):
    return np.sum(A[:, 0] * A[:, 1]) + np.sum(A[1:, :2] ** 2 * A[:-1, 2:]) + A[0, 1] ** 3


def shapes(x, A):
    M = x.reshape(2, 3)
    s = np.sum((M.T @ A) ** 2)
    t = np.sum(np.swapaxes(M[None], 1, 2) ** 3)
    u = np.sum(np.transpose(M) * np.transpose(M)) + np.sum(np.expand_dims(x, 0) ** 2)
    return s + t + u + np.sum(np.ravel(M) ** 4)


def joins(x):
    y = np.concatenate([x, x ** 2, np.ones(2)])
    z = np.stack([x, np.sin(x)], axis=1)
    return np.sum(y ** 2) + np.sum(z[:, 0] * z[:, 1]) + np.sum(np.stack([x, 2 * x]) ** 3)


def products(x, A):
    return np.sum(np.outer(x, x) * A) + np.dot(x, A @ x) + np.sum(np.dot(A, x) ** 2) + x @ x


def einsum_f(x, A):
    return np.einsum("i,ij,j->", x, A, x) + np.sum(np.inner(x, x) ** 2)


def elementwise(x):
    a = np.maximum(x, 0.0) ** 2 + np.where(x > 0, x ** 3, -x) + np.clip(x, -0.5, 0.5) ** 2
    b = np.exp(x) / (1 + np.exp(x)) + np.log1p(x ** 2) + np.arctan(x) + np.cosh(x) / 3
    c = np.abs(x) ** 3 + np.power(np.abs(x) + 1, 1.5) + np.sqrt(x ** 2 + 1) + x / (x ** 2 + 2)
    return np.sum(a + b + c) + np.prod(x[:3])


def reductions(A):
    return (np.sum(np.mean(A, axis=0) ** 2) + np.sum(np.sum(A ** 2, axis=-1) ** 2)
            + np.max(np.sum(A, axis=1)) + np.sum(np.var(A, axis=1)) + np.std(A)
            + np.sum(np.cumsum(A, axis=1) ** 2) + np.sum(np.cumsum(A) ** 2)
            + np.sum(np.mean(A ** 3, axis=(0, 1), keepdims=True)))


def per_example_ops(x, A):
    """Operations batched by running them per batch element (no vectorised rule)."""
    s = np.sort(x * A[0])
    t = np.tensordot(A, x, axes=1)
    u = np.linalg.solve(A @ A.T + 3.0 * np.eye(len(x)), x)
    return np.sum(s ** 3 * np.arange(len(x))) + np.sum(t ** 2) + np.sum(u * x) + np.trace(A * x)


def logsumexp(x, A):
    z = A @ x
    m = np.max(z)
    return m + np.log(np.sum(np.exp(z - m)))


def scalars(a, b):
    return a ** 2 * b + np.sin(a * b) + np.exp(b) / (1.0 + a ** 2)


def mixed(x, a):
    return np.sum(np.tanh(a * x) ** 2) * a + float(np.sum(x)) ** 2


def with_loop(x, n):
    s = 0.0
    for i in range(n):
        s = s + np.sum(np.sin(x * (i + 1)))
    return s


def with_branch(x):
    if np.sum(x) > 0:
        return np.sum(x ** 3)
    return np.sum(np.cos(x))


def with_while(x):
    y = x
    while np.sum(y ** 2) < 10.0:
        y = y * 1.5
    return np.sum(y ** 3)


X = rng.normal(size=(12, 5))
y = np.sign(rng.normal(size=12))

HESSIAN_CASES = [
    ("logreg", logreg, (rng.normal(size=5), X, y), (0,)),
    ("softmax", softmax_ce, (rng.normal(size=(5, 3)), X, np.eye(3)[rng.integers(0, 3, 12)]),
     (0,)),
    ("mlp_tuple", mlp, (rng.normal(size=(5, 4)), rng.normal(size=4), X), (0, 1)),
    ("mlp_tree", mlp_tree, ({"W": rng.normal(size=(5, 3)), "b": rng.normal(size=3)}, X), (0,)),
    ("xsin", xsin, (rng.normal(size=6),), (0,)),
    ("norms", norms, (rng.normal(size=6),), (0,)),
    ("matrix_arg", matrix_arg, (rng.normal(size=(3, 3)), rng.normal(size=(4, 3)),
                                rng.normal(size=(3, 2))), (0,)),
    ("slicing", slicing, (rng.normal(size=7),), (0,)),
    ("slicing2d", slicing2d, (rng.normal(size=(3, 4)),), (0,)),
    ("shapes", shapes, (rng.normal(size=6), rng.normal(size=(2, 4))), (0,)),
    ("joins", joins, (rng.normal(size=4),), (0,)),
    ("products", products, (rng.normal(size=4), rng.normal(size=(4, 4))), (0,)),
    ("products_both", products, (rng.normal(size=3), rng.normal(size=(3, 3))), (0, 1)),
    ("einsum", einsum_f, (rng.normal(size=4), rng.normal(size=(4, 4))), (0, 1)),
    ("elementwise", elementwise, (rng.normal(size=6) + 0.05,), (0,)),
    ("reductions", reductions, (rng.normal(size=(3, 4)),), (0,)),
    ("per_example", per_example_ops, (rng.normal(size=3), rng.normal(size=(3, 3))), (0, 1)),
    ("logsumexp", logsumexp, (rng.normal(size=4), rng.normal(size=(6, 4))), (0,)),
    ("scalars", scalars, (0.7, -0.3), (0, 1)),
    ("mixed", mixed, (rng.normal(size=4), 0.8), (0, 1)),
]


@pytest.mark.parametrize("name,f,args,wrt", HESSIAN_CASES, ids=[c[0] for c in HESSIAN_CASES])
def test_hessian_batched(name, f, args, wrt):
    h = hessian(f, wrt=wrt if len(wrt) > 1 else wrt[0])
    H = _both(h, args)
    _check_fd_hessian(f, args, H, wrt)
    assert "_batched(" in h.source


def test_hessian_float32():
    x = rng.normal(size=5).astype(np.float32)
    Xf = X.astype(np.float32)
    h = hessian(logreg)
    old = higher.BATCHED
    try:
        higher.BATCHED = True
        a = h(x, Xf, y.astype(np.float32))
        assert h.last_path == "batched"
        higher.BATCHED = False
        b = h(x, Xf, y.astype(np.float32))
    finally:
        higher.BATCHED = old
    assert a.dtype == b.dtype == np.float32
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a, hessian(logreg)(x.astype(float), X, y), rtol=1e-3, atol=1e-4)


def vec_out(x):
    return np.tanh(x) * x[0] + np.cumsum(x)


def mat_out(x, A):
    return np.outer(x, np.sin(x)) + A * x[1]


def tree_out(x, A):
    return {"a": A @ x, "b": (np.sum(x ** 2), np.exp(x[:2]))}


def tuple_in(x, A):
    return np.tanh(A @ x) * np.sum(A ** 2, axis=0)[: len(x)].sum()


def scalar_in(a, x):
    return np.sin(a * x) + a ** 2


JACOBIAN_CASES = [
    ("vec_out", vec_out, (rng.normal(size=5),), (0,)),
    ("mat_out", mat_out, (rng.normal(size=3), rng.normal(size=(3, 3))), (0,)),
    ("tree_out", tree_out, (rng.normal(size=3), rng.normal(size=(4, 3))), (0,)),
    ("tuple_in", tuple_in, (rng.normal(size=3), rng.normal(size=(3, 3))), (0, 1)),
    ("scalar_in", scalar_in, (0.4, rng.normal(size=4)), (0, 1)),
    ("shapes", lambda x, A: shapes(x, A) * np.sin(x),
     (rng.normal(size=6), rng.normal(size=(2, 4))), (0,)),
    ("joins", lambda x: np.concatenate([x, x[::-1] ** 2]) * 2.0, (rng.normal(size=4),), (0,)),
    ("slicing2d", lambda A: A[:, 1:] * A[:, :-1] + A[0, 1:], (rng.normal(size=(3, 4)),), (0,)),
]


@pytest.mark.parametrize("mode", ["forward", "reverse"])
@pytest.mark.parametrize("name,f,args,wrt", JACOBIAN_CASES, ids=[c[0] for c in JACOBIAN_CASES])
def test_jacobian_batched(name, f, args, wrt, mode):
    j = jacobian(f, wrt=wrt if len(wrt) > 1 else wrt[0], mode=mode)
    J = _both(j, args)
    _check_fd_jacobian(f, args, J, wrt)


def test_jacobian_auto_uses_batched():
    j = jacobian(vec_out)
    x = rng.normal(size=4)
    J = _both(j, (x,))
    _check_fd_jacobian(vec_out, (x,), J)


def rnn(Wh, Wx, xs, h):
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + Wx @ xs[t])
    return np.sum(h ** 2)


def with_list(x):
    hs = []
    h = x
    for _ in range(3):
        h = np.sin(h) * x
        hs.append(h)
    return np.sum(np.stack(hs) ** 2)


@pytest.mark.parametrize("f,args,wrt", [
    (with_loop, (rng.normal(size=4), 3), (0,)),
    (with_branch, (rng.normal(size=4) + 1.0,), (0,)),
    (with_branch, (rng.normal(size=4) - 1.0,), (0,)),
    (with_while, (rng.normal(size=3) * 0.1,), (0,)),
    (rnn, (rng.normal(size=(3, 3)) * 0.5, rng.normal(size=(3, 2)), rng.normal(size=(4, 2)),
           rng.normal(size=3)), (0, 1)),
], ids=["loop", "branch_then", "branch_else", "while", "rnn"])
def test_control_flow_is_batched(f, args, wrt):
    """Loops, branches and the stacks of their adjoints are batched too: the
    carries and stack slots that receive batched values get a batch axis."""
    h = hessian(f, wrt=wrt if len(wrt) > 1 else wrt[0])
    H = _both(h, args)
    _check_fd_hessian(f, args, H, wrt)
    assert "_batched(" in h.source


def loop_vec(x):
    out = x
    for _ in range(2):
        out = np.sin(out) * x
    if np.sum(out) > 0:
        out = out * 2.0
    return out


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_jacobian_control_flow(mode):
    x = rng.normal(size=3)
    j = jacobian(loop_vec, mode=mode)
    J = _both(j, (x,), path=None)
    _check_fd_jacobian(loop_vec, (x,), J)
    if mode == "forward":
        assert j.last_path == "loop"     # (_both ends with the loop) ...
        higher.BATCHED = True
        try:
            j(x)
            assert j.last_path == "batched"
        finally:
            higher.BATCHED = True


def test_lists_fall_back():
    x = rng.normal(size=3)
    h = hessian(with_list)
    H = _both(h, (x,), path="loop")
    _check_fd_hessian(with_list, (x,), H)
    assert "_batched(" not in h.source


def test_chunking_gives_the_same_answer(monkeypatch):
    args = (rng.normal(size=7), rng.normal(size=(12, 7)), y)
    full = hessian(logreg)(*args)
    monkeypatch.setattr(higher, "BATCH_ELEMENTS", 30)    # chunks of 2 basis vectors
    h = hessian(logreg)
    np.testing.assert_allclose(h(*args), full, rtol=1e-12, atol=1e-14)
    assert h.last_path == "batched"
    j = jacobian(tree_out, mode="reverse")
    a2 = (rng.normal(size=3), rng.normal(size=(4, 3)))
    J = _both(j, a2)
    _check_fd_jacobian(tree_out, a2, J)


def test_batched_source_is_readable():
    h = hessian(logreg)
    h(rng.normal(size=3), X[:, :3], y)
    src = h.source
    assert "def logreg_hessian_tangent_batched(" in src
    assert "batch.matmul" in src and "w_bar_1_dot" in src


# ---------------------------------------------------------------- helpers


@pytest.mark.parametrize("a_shape,b_shape", [
    ((3,), (3,)), ((3,), (3, 2)), ((4, 3), (3,)), ((4, 3), (3, 2)), ((2, 4, 3), (3, 2)),
    ((2, 4, 3), (2, 3, 5)), ((3,), (2, 3, 4)), ((4, 3), (2, 3, 5))])
@pytest.mark.parametrize("flags", [(True, False), (False, True), (True, True)])
def test_batched_matmul_helpers(a_shape, b_shape, flags):
    B = 3
    a = rng.normal(size=((B,) if flags[0] else ()) + a_shape)
    b = rng.normal(size=((B,) if flags[1] else ()) + b_shape)
    got = br.matmul(a, b, *flags)
    want = np.stack([(a[i] if flags[0] else a) @ (b[i] if flags[1] else b) for i in range(B)])
    np.testing.assert_allclose(got, want, rtol=1e-13)
    from s2sgrad import runtime
    g = rng.normal(size=(B,) + np.shape(want[0]))
    a0, b0 = np.zeros(a_shape), np.zeros(b_shape)
    got = br.matmul_vjp_a(g, a0, b, True, flags[1])
    want = np.stack([runtime.matmul_vjp_a(g[i], a0, b[i] if flags[1] else b) for i in range(B)])
    np.testing.assert_allclose(got, want, rtol=1e-13)
    got = br.matmul_vjp_b(g, a, b0, True, flags[0])
    want = np.stack([runtime.matmul_vjp_b(g[i], a[i] if flags[0] else a, b0) for i in range(B)])
    np.testing.assert_allclose(got, want, rtol=1e-13)


@pytest.mark.parametrize("a_shape,b_shape", [((), (3,)), ((3,), ()), ((3,), (3,)),
                                             ((2, 3), (3,)), ((3,), (4, 3)), ((2, 3), (4, 3))])
@pytest.mark.parametrize("flags", [(True, False), (False, True), (True, True)])
def test_batched_products(a_shape, b_shape, flags):
    B = 3
    a = rng.normal(size=((B,) if flags[0] else ()) + a_shape)
    b = rng.normal(size=((B,) if flags[1] else ()) + b_shape)
    for fn, ref in [(br.inner, np.inner), (br.outer, np.outer), (br.dot, np.dot)]:
        if ref is np.dot and len(a_shape) and len(b_shape) and a_shape[-1:] != b_shape[:1] \
                and len(b_shape) < 2:
            continue
        try:
            want = np.stack([ref(a[i] if flags[0] else a, b[i] if flags[1] else b)
                             for i in range(B)])
        except ValueError:
            continue
        np.testing.assert_allclose(fn(a, b, *flags), want, rtol=1e-13)


@pytest.mark.parametrize("a_shape,b_shape,axes", [
    ((3, 4), (4, 2), 1), ((3, 4), (3, 4), 2), ((2, 3, 4), (3, 4, 5), 2), ((3, 4), (4,), 1),
    ((3, 4), (4, 3), ([1, 0], [0, 1])), ((3,), (3, 2), 1), ((3, 2), (5,), 0)])
@pytest.mark.parametrize("flags", [(True, False), (False, True), (True, True)])
def test_batched_tensordot(a_shape, b_shape, axes, flags):
    B = 3
    a = rng.normal(size=((B,) if flags[0] else ()) + a_shape)
    b = rng.normal(size=((B,) if flags[1] else ()) + b_shape)
    want = np.stack([np.tensordot(a[i] if flags[0] else a, b[i] if flags[1] else b, axes)
                     for i in range(B)])
    np.testing.assert_allclose(br.tensordot(a, b, axes, *flags), want, rtol=1e-13)


def test_batched_solve():
    a = rng.normal(size=(3, 3)) + 3 * np.eye(3)
    for shape in [(4, 3), (4, 3, 2)]:
        b = rng.normal(size=shape)
        want = np.stack([np.linalg.solve(a, bi) for bi in b])
        np.testing.assert_allclose(br.solve(a, b, True), want, rtol=1e-12)


def test_batched_unbroadcast_unreduce():
    from s2sgrad import runtime
    B = 2
    for gs, xs in [((4, 3), (3,)), ((4, 3), (4, 1)), ((4, 3), ()), ((3,), (3,)),
                   ((2, 4, 3), (4, 3))]:
        g = rng.normal(size=(B,) + gs)
        x = np.zeros(xs)
        want = np.stack([runtime.unbroadcast(g[i], x) for i in range(B)])
        np.testing.assert_allclose(br.unbroadcast(g, x), want)
        t = rng.normal(size=(B,) + xs)
        want = np.stack([runtime.broadcast_like(t[i], np.zeros(gs)) for i in range(B)])
        np.testing.assert_allclose(br.broadcast_like(t, np.zeros(gs)), want)
    x = np.zeros((3, 4, 5))
    for axis, keep, gs in [(None, False, ()), (1, False, (3, 5)), (-1, False, (3, 4)),
                           ((0, 2), False, (4,)), (1, True, (3, 1, 5)), (None, True, (1, 1, 1))]:
        g = rng.normal(size=(B,) + gs)
        want = np.stack([runtime.unreduce(g[i], x, axis, keep) for i in range(B)])
        np.testing.assert_allclose(br.unreduce(g, x, axis, keep), want)


def test_batch_func_refuses_lists():
    h = hessian(with_list)
    h(np.ones(3))
    c = h._last
    assert c.tangent_batched is None
    assert batch_func(c.tangent.func, [len(c.tangent.func.params) - 1]) is None


def test_einsum_is_vectorised():
    def f(x, A):
        return np.einsum("i,ij,j->", x, A, x) + np.sum(np.einsum("ij,j", A, x) ** 2)
    h = hessian(f, wrt=(0, 1))
    args = (rng.normal(size=3), rng.normal(size=(3, 3)))
    H = _both(h, args)
    _check_fd_hessian(f, args, H, (0, 1))
    assert "np.einsum('" in h.source and "per_example('einsum'" not in h.source
