"""Losses written the way NumPy users write them, with views, in-place
updates and preallocated buffers (trust4): finite differences by slicing,
convolutions by shifted views, recurrences into preallocated rows,
normalisations in place, masked and clipped updates, index bookkeeping.
Value vs plain NumPy, gradient vs central finite differences, forward mode
along a random tangent, and the Hessian for some."""
import numpy as np
import pytest

from tests.trust4_harness import agree

R = np.random.default_rng(31)
V = R.normal(size=7)
M = R.normal(size=(4, 5))
S = R.normal(size=(3, 3))
T = R.normal(size=(2, 3, 4))
Y = np.array([0, 2, 1, 2])


def tv_denoise(u):
    d = np.empty(6)
    d[:] = u[1:]
    d -= u[:-1]
    return np.sum(np.sqrt(d ** 2 + 1e-3)) + 0.5 * np.sum((u - V[::-1]) ** 2)


def laplacian_1d(u):
    lap = np.zeros_like(u)
    lap[1:-1] = u[:-2] - 2 * u[1:-1] + u[2:]
    lap[0] = u[1] - u[0]
    lap[-1] = u[-2] - u[-1]
    return np.sum(lap ** 2)


def laplacian_2d(a):
    p = np.zeros((6, 7))
    p[1:-1, 1:-1] = a
    lap = p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] - 4 * a
    return np.sum(lap ** 2)


def conv1d_valid(x):
    k = np.array([0.25, 0.5, 0.25])
    out = np.zeros(5)
    for j in range(3):
        out += k[j] * x[j:j + 5]
    return np.sum(np.tanh(out) ** 2)


def conv1d_reversed_kernel(x):
    k = x[:3][::-1]
    out = np.empty(4)
    for i in range(4):
        out[i] = np.dot(k, x[i:i + 3])
    return np.sum(out ** 2)


def moving_average_inplace(x):
    y = x.copy()
    for i in range(1, 7):
        y[i] = 0.7 * y[i - 1] + 0.3 * y[i]
    return np.sum((y - x) ** 2)


def cumsum_by_slices(x):
    c = x * 1.0
    c[1:] += c[:-1].copy()
    c[2:] += c[:-2].copy()
    c[4:] += c[:-4].copy()
    return np.sum(c * np.arange(7.0))


def rnn_preallocated(m):
    h = np.zeros((5, 5))
    for t in range(4):
        h[t + 1] = np.tanh(h[t] * 0.5 + m[t])
    return np.sum(h[-1] ** 2) + np.sum(h[1:, 0])


def rnn_view_of_state(m):
    H = np.zeros((5, 5))
    for t in range(4):
        prev = H[t]
        cur = H[t + 1]
        cur[:] = np.tanh(prev + m[t])
    return np.sum(H ** 2)


def softmax_inplace(m):
    z = m.copy()
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return -np.sum(np.log(z[np.arange(4), Y]))


def log_softmax_rows(m):
    z = m - m.max(axis=1)[:, None]
    z -= np.log(np.exp(z).sum(axis=1))[:, None]
    return -np.mean(z[np.arange(4), Y])


def layer_norm_inplace(m):
    z = m.copy()
    z -= z.mean(axis=-1, keepdims=True)
    z /= np.sqrt((z ** 2).mean(axis=-1, keepdims=True) + 1e-5)
    return np.sum(z * np.arange(5.0))


def batch_norm_columns(m):
    z = m * 1.0
    for j in range(5):
        col = z[:, j]
        col -= col.mean()
        col /= col.std() + 1e-3
    return np.sum(z ** 3)


def gram_schmidt_inplace(a):
    q = a.copy()
    for j in range(3):
        for i in range(j):
            q[:, j] -= np.dot(q[:, i], q[:, j]) * q[:, i]
        q[:, j] /= np.linalg.norm(q[:, j])
    return np.sum(q * S)


def symmetrize_triangle(a):
    b = a.copy()
    iu = np.triu_indices(3, 1)
    b[iu] = b.T[iu]
    return np.sum(b ** 2 * a)


def lower_triangle_zeroed(a):
    b = a * 1.0
    b[np.tril_indices(3, -1)] = 0.0
    return np.sum(b @ b.T)


def clip_grad_style(v):
    g = v * 3.0
    n = np.linalg.norm(g)
    if n > 1.0:
        g *= 1.0 / n
    return np.sum(g * v)


def huber_masked(v):
    r = v - 0.2
    out = 0.5 * r ** 2
    big = np.abs(r) > 0.5
    out[big] = 0.5 * (np.abs(r[big]) - 0.25)
    return np.sum(out)


def relu_inplace(v):
    h = v * 2.0
    h[h < 0] = 0.0
    h2 = h * v
    np.maximum(h2, 0.1, out=h2)
    return np.sum(h2)


def dropout_fixed_mask(v):
    mask = np.array([1, 0, 1, 1, 0, 1, 1], dtype=bool)
    h = v * 1.0
    h[~mask] = 0.0
    h[mask] /= 0.7
    return np.sum(np.sin(h))


def one_hot_cross_entropy(m):
    oh = np.zeros((4, 3))
    oh[np.arange(4), Y] = 1.0
    logits = m[:, :3]
    lse = np.log(np.sum(np.exp(logits), axis=1))
    return np.sum(lse) - np.sum(oh * logits)


def scatter_add_histogram(v):
    bins = np.array([0, 1, 1, 2, 0, 2, 2])
    h = np.zeros(3)
    np.add.at(h, bins, v ** 2)
    return np.sum(h * np.array([1.0, -2.0, 3.0])) + np.sum(np.sqrt(h + 1.0))


def segment_sum_fancy_iadd(v):
    seg = np.array([0, 0, 1, 1, 1, 2, 2])
    h = np.zeros(3)
    h[seg] += v                # NumPy: the last of each repeated index wins
    return np.sum(h ** 2)


def polynomial_horner_buffer(v):
    c = np.array([1.0, -0.5, 0.25, 0.1])
    acc = np.full_like(v, c[0])
    for k in range(1, 4):
        acc *= v
        acc += c[k]
    return np.sum(acc ** 2)


def pairwise_distances(a):
    d = np.zeros((4, 4))
    for i in range(4):
        diff = a - a[i]
        d[i] = np.sqrt(np.sum(diff ** 2, axis=1) + 1e-6)
    return np.sum(d)


def kernel_matrix_diag_fixed(a):
    K = np.exp(-((a[:, None, :] - a[None, :, :]) ** 2).sum(-1))
    K[np.diag_indices(4)] += 0.1
    return np.sum(np.linalg.solve(K, np.ones(4)))


def attention_masked(m):
    q = m[:, :3]
    k = m[:, 1:4]
    s = q @ k.T
    s[np.triu_indices(4, 1)] = -1e9
    s -= s.max(axis=1, keepdims=True)
    w = np.exp(s)
    w /= w.sum(axis=1, keepdims=True)
    return np.sum(w @ m[:, 2:])


def ode_euler_preallocated(v):
    xs = np.zeros((6, 2))
    xs[0] = v[:2]
    for t in range(5):
        x = xs[t]
        xs[t + 1, 0] = x[0] + 0.1 * x[1]
        xs[t + 1, 1] = x[1] - 0.1 * np.sin(x[0]) * v[2]
    return np.sum(xs[-1] ** 2) + np.sum(xs[:, 0])


def kalman_like_update(v):
    P = np.eye(2) * (1.0 + v[0] ** 2)
    x = v[1:3].copy()
    for z in (0.3, -0.2, 0.5):
        K = P[:, 0] / (P[0, 0] + 0.5)
        x += K * (z - x[0])
        P -= np.outer(K, P[0])
    return np.sum(x ** 2) + np.trace(P)


def image_flip_augment(t):
    img = t.copy()
    img[1] = img[1, :, ::-1]
    img[:, 0] = img[:, 0][::-1]
    return np.sum(img * T)


def patch_extract(t):
    patches = np.empty((2, 2, 2, 2))
    for i in range(2):
        for j in range(2):
            patches[i, j] = t[i, j:j + 2, 1:3]
    return np.sum(patches ** 2 * np.arange(16.0).reshape(2, 2, 2, 2))


def transpose_write_back(t):
    a = t.copy()
    a.swapaxes(1, 2)[0, :2] *= 3.0
    a.transpose(2, 0, 1)[-1] = 0.0
    return np.sum(a * t)


def swap_halves(v):
    a = v[:6] * 1.0
    a[:3], a[3:] = a[3:].copy(), a[:3].copy()
    return np.sum(a * np.arange(6.0) * v[:6])


def roll_by_slices(v):
    a = v * 1.0
    tmp = a[-1]
    a[1:] = a[:-1]
    a[0] = tmp
    return np.sum(a * np.arange(7.0))


def tmp_scalar_copy_then_write(v):
    a = v * 1.0
    first = a[0]               # a NumPy scalar: a copy
    a[0] = 10.0
    return first * np.sum(a)


def row_view_scalar_read(m):
    a = m * 1.0
    r = a[1]
    v0 = r[0]                  # a copy of the element
    a[1, 0] = 5.0
    return v0 * np.sum(r * m[1])


def ema_params(v):
    avg = np.zeros(7)
    w = v.copy()
    for t in range(4):
        w -= 0.1 * np.cos(w)
        avg *= 0.9
        avg += 0.1 * w
    return np.sum(avg ** 2)


def sgd_steps_inner(v):
    w = v.copy()
    for _ in range(3):
        g = 2 * (w - V)
        w -= 0.1 * g
    return np.sum(w ** 3)


def adam_steps_inner(v):
    w = v.copy()
    m = np.zeros_like(w)
    s = np.zeros_like(w)
    for t in range(1, 4):
        g = np.sin(w) + w
        m *= 0.9
        m += 0.1 * g
        s *= 0.99
        s += 0.01 * g ** 2
        w -= 0.01 * (m / (1 - 0.9 ** t)) / (np.sqrt(s / (1 - 0.99 ** t)) + 1e-8)
    return np.sum(w ** 2)


def sorted_inplace_topk(v):
    a = v * 1.0
    a.sort()
    return np.sum(a[-3:] * np.array([1.0, 2.0, 3.0]))


def argsort_reorder_write(v):
    order = np.argsort(V)
    a = np.empty(7)
    a[order] = v * np.arange(7.0)
    return np.sum(a * V)


def where_chain_then_index_write(m):
    a = np.where(m > 0, m, 0.1 * m)
    a[:, ::2] = np.abs(a[:, ::2])
    return np.sum(a ** 2)


def diag_add_then_cholesky(a):
    A = a @ a.T
    A[np.arange(3), np.arange(3)] += 1.0
    L = np.linalg.cholesky(A)
    return np.sum(np.log(np.diag(L)))


def fill_then_overwrite(v):
    a = np.empty(7)
    a.fill(2.0)
    a[::3] = v[::3]
    return np.sum(a * v)


def boolean_index_chain(v):
    a = v * 1.0
    m = a > 0
    b = a[m]                   # a copy
    b *= 2.0
    a[m] += 1.0
    return np.sum(a * v) + np.sum(b)


def einsum_into_view(t):
    out = np.zeros((3, 3))
    out[:2, :] = np.einsum("ijk,ilk->jl", t, t)[:2]
    return np.sum(out * S)


def stacked_writes_3d(t):
    a = t * 1.0
    a[:, 1] = a[:, 0] * a[:, 2]
    a[..., -1] += a[..., 0]
    a[1, :, 1:3] = 0.5
    return np.sum(a ** 2)


PROGRAMS = [
    (tv_denoise, (V,)), (laplacian_1d, (V,)), (laplacian_2d, (M,)), (conv1d_valid, (V,)),
    (conv1d_reversed_kernel, (V[:6],)), (moving_average_inplace, (V,)),
    (cumsum_by_slices, (V,)), (rnn_preallocated, (M,)), (rnn_view_of_state, (M,)),
    (softmax_inplace, (M,)), (log_softmax_rows, (M,)), (layer_norm_inplace, (M,)),
    (batch_norm_columns, (M,)), (gram_schmidt_inplace, (S,)), (symmetrize_triangle, (S,)),
    (lower_triangle_zeroed, (S,)), (clip_grad_style, (V,)), (huber_masked, (V,)),
    (relu_inplace, (V,)), (dropout_fixed_mask, (V,)), (one_hot_cross_entropy, (M,)),
    (scatter_add_histogram, (V,)), (segment_sum_fancy_iadd, (V,)),
    (polynomial_horner_buffer, (V,)), (pairwise_distances, (M,)),
    (kernel_matrix_diag_fixed, (M,)), (attention_masked, (M,)), (ode_euler_preallocated, (V,)),
    (kalman_like_update, (V,)), (image_flip_augment, (T,)), (patch_extract, (T,)),
    (transpose_write_back, (T,)), (swap_halves, (V,)), (roll_by_slices, (V,)),
    (tmp_scalar_copy_then_write, (V,)), (row_view_scalar_read, (M,)), (ema_params, (V,)),
    (sgd_steps_inner, (V,)), (adam_steps_inner, (V,)), (sorted_inplace_topk, (V,)),
    (argsort_reorder_write, (V,)), (where_chain_then_index_write, (M,)),
    (diag_add_then_cholesky, (S,)), (fill_then_overwrite, (V,)), (boolean_index_chain, (V,)),
    (einsum_into_view, (T,)), (stacked_writes_3d, (T,)),
]

HESS = {laplacian_1d, cumsum_by_slices, rnn_preallocated, swap_halves, conv1d_valid}


@pytest.mark.parametrize("f,args", PROGRAMS, ids=[p[0].__name__ for p in PROGRAMS])
def test_loss_program(f, args):
    agree(f, *args, hess=f in HESS)
