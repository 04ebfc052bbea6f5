"""corpus9, part 6: more idioms -- boolean-mask writes (leaky ReLU by
``h[z < 0] = ...``), array methods, ``take_along_axis``, ``expm`` of a rate
matrix, ``trapezoid``, ``np.convolve``/``convolve2d``, ``rfft`` power,
discounted returns and GAE by reversed loops writing into local arrays,
keyword-only and ``*args`` parameters, ``while True``/``break``, a dict
copied and updated (``p.update``), ``einsum`` with ellipses,
``scipy.special.softmax``, NaN guards, builtins ``max``/``min``/``abs`` of
floats, ``matrix_power``, comprehensions, ``sum(..., start)``, ``sinc``,
``heaviside``, a log-add-exp scan, sorting, median/percentile -- and the
refusals met, each checked to name the user's line.

Checked by ``tests/corpus9_harness.run_case``.
"""
import itertools

import numpy as np
import pytest
import scipy.linalg
import scipy.signal
import scipy.spatial.distance as ssd
import scipy.special as sps

from s2sgrad import S2SGradError, grad
from tests.corpus9_harness import run_case

R = np.random.default_rng(1)


def rnd(*s, scale=0.5):
    return R.normal(size=s) * scale


X = rnd(6, 3, scale=1.0)
Y = rnd(6, scale=1.0)
LAB = np.array([0, 2, 1, 1, 0, 2])


def leaky_mask(w, X):
    z = X @ w
    h = z.copy()
    h[z < 0] = 0.01 * z[z < 0]
    return np.sum(h ** 2)


def methods_mix(W, X):
    h = X.dot(W).clip(-1, 1)
    return (h.T.sum() + h.mean(0).max() + h.reshape(-1).std() + h.flatten().min()
            + np.abs(h).squeeze().sum())


def take_along(W, X, labels):
    logp = sps.log_softmax(X @ W, axis=1)
    return -np.mean(np.take_along_axis(logp, labels[:, None], axis=1))


def expm_markov(Q_raw, t=0.7):
    Q = np.exp(Q_raw)
    Q = Q - np.diag(np.diag(Q))
    Q = Q - np.diag(Q.sum(axis=1))
    P = scipy.linalg.expm(Q * t)
    return -np.log(P[0, 2]) - np.log(P[1, 0])


def trapz_energy(y, dx=0.1):
    return np.trapezoid(y ** 2, dx=dx)


def convolve_valid(w, x):
    return np.sum(np.convolve(x, w, mode="valid") ** 2)


def convolve2d_scipy(k, img):
    return np.sum(np.tanh(scipy.signal.convolve2d(img, k, mode="same")) ** 2)


def rfft_power(x):
    P = np.abs(np.fft.rfft(x)) ** 2
    return np.sum(P[1:4]) / np.sum(P)


def discounted_returns(rewards_param, gamma=0.9):
    r = np.tanh(rewards_param)
    T = len(r)
    returns = np.zeros(T)
    G = 0.0
    for t in reversed(range(T)):
        G = r[t] + gamma * G
        returns[t] = G
    return np.sum(returns ** 2)


def gae(values, rewards, gamma=0.99, lam=0.95):
    T = len(rewards)
    adv = np.zeros(T)
    last = 0.0
    for t in range(T - 1, -1, -1):
        nxt = values[t + 1] if t + 1 < T else 0.0
        delta = rewards[t] + gamma * nxt - values[t]
        last = delta + gamma * lam * last
        adv[t] = last
    return np.sum(adv ** 2)


def kwonly(w, *, X, y, lam=0.1):
    return np.sum((X @ w - y) ** 2) + lam * w @ w


def while_true(x):
    y = x
    n = 0
    while True:
        y = np.sin(y) + 0.1 * x
        n += 1
        if n >= 4:
            break
    return np.sum(y)


def dict_copy_update(params, X):
    p = dict(params)
    p["W"] = p["W"] * 2.0
    p.update(b=p["b"] + 1.0)
    return np.sum(np.tanh(X @ p["W"] + p["b"]))


def einsum_ellipsis(A, B):
    return np.sum(np.einsum("...ij,...jk->...ik", A, B) ** 2)


def sps_softmax(W, X):
    return np.sum(sps.softmax(X @ W, axis=1) ** 2)


def nan_guard(w, X):
    z = X @ w
    r = np.where(np.isnan(z), 0.0, z)
    return np.sum(np.nan_to_num(np.log(np.abs(r) + 1e-3)))


def builtin_max_abs(a, b):
    return max(a, b) ** 2 + abs(a - b) + min(a * 2, b)


def matrix_power_loss(A):
    return np.sum(np.linalg.matrix_power(A, 3))


def norm_keepdims(X):
    return np.sum(X / np.linalg.norm(X, axis=-1, keepdims=True) * np.arange(3))


def concat_comprehension(ws, X):
    feats = np.concatenate([np.tanh(X @ w)[:, None] for w in ws], axis=1)
    return np.sum(feats @ np.arange(len(ws)))


def sum_start(ws):
    return np.sum(sum((w ** 2 for w in ws), np.zeros(3)))


def sinc_heav(x):
    return np.sum(np.sinc(x) * np.heaviside(x, 0.5))


def cumsum_reverse_flip(x):
    return np.sum(np.flip(np.cumsum(np.flip(np.exp(x)))) ** 0.5)


def scan_logaddexp(x):
    acc = -np.inf
    for xi in x:
        acc = np.logaddexp(acc, xi)
    return acc


def bool_index_assign_add(x):
    y = np.zeros_like(x)
    y[x > 0] += x[x > 0] ** 2
    y[::2] -= 0.5 * x[::2]
    return np.sum(y * np.arange(len(x)))


def argsort_gather(x):
    idx = np.argsort(x)
    return np.sum(x[idx] * np.arange(len(x)))


def np_median(x):
    return np.median(x ** 2) + np.percentile(x, 75)


def outer_update_loop(W, X):
    G = np.zeros((3, 3))
    for x in X:
        G += np.outer(x, x) * np.tanh(x @ W @ x)
    return np.trace(G)


# ---------------------------------------------------------------- more

ACTS = {"relu": lambda z: np.maximum(z, 0.0), "tanh": np.tanh,
        "softplus": lambda z: np.logaddexp(0.0, z)}
Z = np.array([0.5, 0.0, 1.5, -0.7])     # a zero: products' gradients


def act_dispatch(W, X, act="softplus"):
    f = ACTS[act]
    return np.sum(f(X @ W))


def zip_slices(params, X):
    h = X
    for W, b in zip(params[::2], params[1::2]):
        h = np.tanh(h @ W + b)
    return np.sum(h)


def view_write(x):
    a = np.zeros(len(x) + 1)
    v = a[1:]
    v += x ** 2
    a[0] = np.sum(x)
    return np.sum(a * np.arange(len(a)))


def fft_conv(x, k):
    n = len(x)
    y = np.fft.irfft(np.fft.rfft(x) * np.fft.rfft(k, n), n)
    return np.sum(y ** 2)


def pad_modes(x):
    return (np.sum(np.pad(x, 2, mode="reflect") ** 2 * np.arange(len(x) + 4))
            + np.sum(np.pad(x, (1, 2), mode="edge") * np.arange(len(x) + 3)))


def roll_laplacian(u, steps=5, r=0.2):
    for _ in range(steps):
        u = u + r * (np.roll(u, 1) - 2 * u + np.roll(u, -1))
    return np.sum(u ** 3)


def np_gradient_loss(f):
    return np.sum(np.gradient(f, 0.1) ** 2)


def meshgrid_field(c):
    xs, ys = np.meshgrid(np.linspace(-1, 1, 4), np.linspace(-1, 1, 3))
    field = c[0] * xs ** 2 + c[1] * xs * ys + c[2] * np.sin(ys)
    return np.sum(field ** 2)


def torque(F, r):
    return np.sum(np.cross(r, F) ** 2) + np.sum(np.cross(r[0], F[1]))


def quat_rotate(q, v):
    q = q / np.linalg.norm(q)
    w, x, y, z = q
    Rm = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                   [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                   [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
    return np.sum((Rm @ v - np.array([0.0, 0.0, 1.0])) ** 2)


def pinv_loss(A, b):
    return np.sum((np.linalg.pinv(A) @ b) ** 2)


def powers(x, y):
    return np.sum(np.power(x, y) + x ** y + np.exp2(x) + np.log2(x) + np.hypot(x, y)
                  + np.arctan2(y, x))


def select_piece(x):
    return np.sum(np.select([x < -0.5, x > 0.5], [x ** 2, np.sin(x)], default=0.1 * x))


def prod_with_zero(x):
    return np.prod(x) + np.sum(np.cumprod(x))


def logical_masks(x, lo=-0.3, hi=0.6):
    m = np.logical_and(x > lo, x < hi)
    return np.sum(np.where(m, x ** 2, 0.0)) + np.sum(x[np.logical_or(x < lo, x > hi)])


def eig_nonsym(A):
    vals = np.linalg.eigvals(A @ A.T + np.eye(3))
    return np.sum(np.real(vals) ** 2)


def vec_at_vec(a, b):
    return (a @ b) ** 2 + a @ np.outer(a, b) @ b


def int_division_idx(x):
    n = len(x)
    half = x[: n // 2]
    return np.sum(half ** 2) + x[n // 2 - 1] * x[-1]


def list_pop_stack(x):
    stack = [x, x ** 2, np.sin(x)]
    a = stack.pop()
    b = stack.pop(0)
    return np.sum(a * b + stack[0])


def tuple_return_helper(x):
    def stats(v):
        return v.mean(), v.std(), v.max()
    m, s, mx = stats(x ** 2)
    return m * s + mx


def ternary_chain(x, mode="b"):
    y = np.sin(x) if mode == "a" else np.cos(x) if mode == "b" else x
    return np.sum(y ** 2)


def conditional_data(x):
    total = 0.0
    for xi in x:
        if xi > 0:
            total += xi ** 2
        elif xi < -0.5:
            total -= np.sin(xi)
        else:
            continue
    return total


def cumprod_zero(x):
    return np.sum(np.cumprod(x))


def cdist_rbf(A, B):
    D = ssd.cdist(A, B, "sqeuclidean")
    return np.sum(np.exp(-D))


def varargs(*params):
    return sum(np.sum(p ** 2) for p in params)


def combos_energy(pos):
    E = 0.0
    for i, j in itertools.combinations(range(pos.shape[0]), 2):
        E = E + 1.0 / np.linalg.norm(pos[i] - pos[j])
    return E


def nonlocal_counter(w, X):
    total = 0.0

    def add(v):
        nonlocal total
        total = total + v
    for x in X:
        add(np.tanh(x @ w))
    return total ** 2


def shuffle_inplace(w, X, seed=0):
    rng = np.random.default_rng(seed)
    idx = np.arange(X.shape[0])
    rng.shuffle(idx)
    return np.sum((X[idx[:3]] @ w) ** 2)


CASES = [
    (leaky_mask, (rnd(3), X), 0, {}),
    (methods_mix, (rnd(3, 4), X), 0, {}),
    (take_along, (rnd(3, 3), X, LAB), 0, {}),
    (expm_markov, (rnd(3, 3),), 0, {}),
    (trapz_energy, (rnd(7),), 0, {}),
    (convolve_valid, (rnd(3), rnd(8)), (0, 1), {}),
    (convolve2d_scipy, (rnd(3, 3), rnd(4, 5)), (0, 1), {}),
    (rfft_power, (rnd(8),), 0, {}),
    (discounted_returns, (rnd(6),), 0, {}),
    (gae, (rnd(5), rnd(5)), (0, 1), {}),
    (kwonly, (rnd(3),), 0, {"X": X, "y": Y}),
    (while_true, (rnd(3),), 0, {}),
    (dict_copy_update, ({"W": rnd(3, 2), "b": rnd(2)}, X), 0, {}),
    (einsum_ellipsis, (rnd(2, 3, 3), rnd(2, 3, 2)), (0, 1), {}),
    (sps_softmax, (rnd(3, 3), X), 0, {}),
    (nan_guard, (rnd(3), X), 0, {}),
    (builtin_max_abs, (0.3, 0.7), (0, 1), {}),
    (matrix_power_loss, (rnd(3, 3),), 0, {}),
    (norm_keepdims, (X,), 0, {}),
    (concat_comprehension, ([rnd(3), rnd(3)], X), 0, {}),
    (sum_start, ([rnd(3), rnd(3)],), 0, {}),
    (sinc_heav, (rnd(5) + 0.05,), 0, {}),
    (cumsum_reverse_flip, (rnd(5),), 0, {}),
    (scan_logaddexp, (rnd(5),), 0, {}),
    (bool_index_assign_add, (rnd(6),), 0, {}),
    (argsort_gather, (rnd(5),), 0, {}),
    (np_median, (rnd(5),), 0, {}),
    (outer_update_loop, (rnd(3, 3), X), 0, {}),
    (act_dispatch, (rnd(3, 2), X), 0, {}),
    (act_dispatch, (rnd(3, 2), X), 0, {"act": "tanh"}),
    (zip_slices, ([rnd(3, 3), rnd(3), rnd(3, 2), rnd(2)], X), 0, {}),
    (view_write, (rnd(4),), 0, {}),
    (fft_conv, (rnd(8), rnd(3)), (0, 1), {}),
    (pad_modes, (rnd(5),), 0, {}),
    (roll_laplacian, (rnd(6),), 0, {}),
    (np_gradient_loss, (rnd(6),), 0, {}),
    (meshgrid_field, (rnd(3),), 0, {}),
    (torque, (rnd(3, 3), rnd(3, 3)), (0, 1), {}),
    (quat_rotate, (rnd(4) + np.array([1.0, 0, 0, 0]), np.array([0.3, -0.2, 0.9])), (0, 1),
     {}),
    (pinv_loss, (rnd(4, 3), rnd(4)), (0, 1), {}),
    (powers, (np.abs(rnd(3)) + 0.5, rnd(3)), (0, 1), {}),
    (select_piece, (rnd(6, scale=1.0),), 0, {}),
    (prod_with_zero, (Z,), 0, {}),
    (cumprod_zero, (Z,), 0, {}),
    (logical_masks, (rnd(6, scale=1.0),), 0, {}),
    (eig_nonsym, (rnd(3, 3),), 0, {}),
    (vec_at_vec, (rnd(3), rnd(3)), (0, 1), {}),
    (int_division_idx, (rnd(6),), 0, {}),
    (list_pop_stack, (rnd(3),), 0, {}),
    (tuple_return_helper, (rnd(5),), 0, {}),
    (ternary_chain, (rnd(3),), 0, {}),
    (conditional_data, (rnd(6, scale=1.0),), 0, {}),
    # a closure rebinding its enclosing variable (refused until corpus12)
    (nonlocal_counter, (R.normal(size=3), R.normal(size=(4, 3))), 0, {}),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0].__name__ for c in CASES])


def test_corpus9_more(case):
    f, args, wrt, kwargs = case
    run_case(f, args, wrt, kwargs)


def test_varargs_parameter_is_one_argument():
    """s2sgrad's wrt names parameters: wrt=0 of f(*params) is the tuple of all
    the positional arguments (JAX's argnums=0 would be the first one only)."""
    a, b = R.normal(size=3), R.normal(size=2)
    g = grad(varargs)(a, b)
    assert isinstance(g, tuple) and len(g) == 2
    np.testing.assert_allclose(g[0], 2 * a, rtol=1e-12)
    np.testing.assert_allclose(g[1], 2 * b, rtol=1e-12)


# refusals met by the corpus: each names the user's line and the construct
REFUSALS = {
    # SciPy's pairwise distances have no rule (neither autograd nor JAX has
    # them); written with broadcasting they work
    "cdist": (cdist_rbf, (R.normal(size=(3, 2)), R.normal(size=(4, 2))),
              r"test_corpus9_more.py:\d+: 'scipy.spatial.distance.cdist' is not a function"),
    # pairs from itertools (the range's length is a shape, not a constant of the
    # shape-polymorphic code): nested loops over ranges work
    "itertools": (combos_energy, (R.normal(size=(4, 3)),),
                  r"test_corpus9_more.py:\d+: 'itertools.combinations' is not a function"),
    # an in-place shuffle of a local index array: the refusal says to use
    # rng.permutation
    "shuffle": (shuffle_inplace, (R.normal(size=3), R.normal(size=(6, 3))),
                r"test_corpus9_more.py:\d+: .*'.shuffle\(\)'.* rng.permutation"),
}


@pytest.mark.parametrize("name", sorted(REFUSALS))


def test_refusals_name_the_line(name):
    f, args, pattern = REFUSALS[name]
    with pytest.raises(S2SGradError, match=pattern):
        grad(f)(*args)
