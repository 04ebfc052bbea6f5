"""corpus13, part 3: physics, images and robotics in NumPy: a spring-mass
chain's energy, an N-body (softened) potential with ``np.triu_indices``,
explicit heat-equation steps with Dirichlet boundary writes
(``u[0] = ...; u[-1] = ...``) and a Neumann boundary by copying, an
Ising-like energy with ``np.roll`` neighbours, a Lennard-Jones cluster,
a leapfrog integrator's final energy; 2-D convolution by a hand-written
im2col (``np.lib.stride_tricks.sliding_window_view`` and a loop version),
max and average pooling by ``reshape``, bilinear resize with floor indices,
total-variation denoising; planar and 3-D forward kinematics chaining
rotation matrices, inverse kinematics' squared error, and a pendulum
simulated with ``while t < T``.  Checked by ``tests/corpus10_harness.check``.
"""
import numpy as np
import pytest

from tests.corpus10_harness import run_table

R = np.random.default_rng(13030)


def rnd(*shape, scale=0.5):
    return R.normal(size=shape) * scale


# ---------------------------------------------------------------- mechanics

def spring_energy(x, k=2.0, rest=1.0, m=1.0, v=None):
    stretch = np.diff(x) - rest
    pot = 0.5 * k * np.sum(stretch ** 2)
    kin = 0.0 if v is None else 0.5 * m * np.dot(v, v)
    return pot + kin


def spring_with_velocity(x, v):
    return spring_energy(x, v=v)


def nbody_potential(pos, masses, soft=0.1):
    i, j = np.triu_indices(len(masses), k=1)
    d = pos[i] - pos[j]
    r = np.sqrt(np.sum(d * d, axis=-1) + soft ** 2)
    return -np.sum(masses[i] * masses[j] / r)


def lennard_jones(pos, eps=1.0, sigma=1.0):
    n = pos.shape[0]
    E = 0.0
    for a in range(n):
        for b in range(a + 1, n):
            r2 = np.sum((pos[a] - pos[b]) ** 2)
            s6 = (sigma ** 2 / r2) ** 3
            E += 4 * eps * (s6 * s6 - s6)
    return E


def leapfrog_energy(q0, p0, dt=0.05, steps=8):
    def grad_U(q):
        return q + 0.3 * q ** 3
    q, p = q0.copy(), p0.copy()
    p -= 0.5 * dt * grad_U(q)
    for _ in range(steps - 1):
        q += dt * p
        p -= dt * grad_U(q)
    q += dt * p
    p -= 0.5 * dt * grad_U(q)
    return np.sum(0.5 * q ** 2 + 0.075 * q ** 4) + 0.5 * np.sum(p ** 2)


def heat_dirichlet(u0, alpha=0.2, steps=5, left=1.0, right=0.0):
    u = u0.copy()
    for _ in range(steps):
        lap = np.zeros_like(u)
        lap[1:-1] = u[2:] - 2 * u[1:-1] + u[:-2]
        u = u + alpha * lap
        u[0] = left
        u[-1] = right
    return np.sum(u ** 2)


def heat_neumann_2d(u0, kappa, steps=3):
    u = u0.copy()
    for _ in range(steps):
        un = u.copy()
        u[1:-1, 1:-1] = un[1:-1, 1:-1] + kappa * (un[2:, 1:-1] + un[:-2, 1:-1] + un[1:-1, 2:]
                                                  + un[1:-1, :-2] - 4 * un[1:-1, 1:-1])
        u[0, :] = u[1, :]
        u[-1, :] = u[-2, :]
        u[:, 0] = u[:, 1]
        u[:, -1] = u[:, -2]
    return np.mean(u * u)


def ising_energy(s, J=1.0, h=0.1):
    spins = np.tanh(s)               # relaxed spins
    right = np.roll(spins, -1, axis=1)
    down = np.roll(spins, -1, axis=0)
    return -J * np.sum(spins * right + spins * down) - h * spins.sum()


# ---------------------------------------------------------------- images

def im2col(x, kh, kw):
    H, W = x.shape
    oh, ow = H - kh + 1, W - kw + 1
    cols = np.empty((oh * ow, kh * kw))
    for i in range(oh):
        for j in range(ow):
            cols[i * ow + j] = x[i:i + kh, j:j + kw].ravel()
    return cols, oh, ow


def conv_im2col(kernel, img):
    cols, oh, ow = im2col(img, *kernel.shape)
    out = (cols @ kernel.reshape(-1)).reshape(oh, ow)
    return np.sum(np.maximum(out, 0.0) ** 2)


def conv_windows(kernel, img):
    win = np.lib.stride_tricks.sliding_window_view(img, kernel.shape)
    out = np.einsum("ijkl,kl->ij", win, kernel)
    return np.sum(np.tanh(out))


def conv_multichannel(W, x):
    # x: (C, H, W), W: (F, C, 3, 3); 'valid' convolution, stride 1
    F_, C, kh, kw = W.shape
    _, H, Wd = x.shape
    out = np.zeros((F_, H - kh + 1, Wd - kw + 1))
    for i in range(kh):
        for j in range(kw):
            patch = x[:, i:i + H - kh + 1, j:j + Wd - kw + 1]
            out += np.tensordot(W[:, :, i, j], patch, axes=([1], [0]))
    return np.sum(out ** 2) / out.size


def max_pool(x):
    H, W = x.shape
    return x.reshape(H // 2, 2, W // 2, 2).max(axis=(1, 3))


def avg_pool(x):
    H, W = x.shape
    return x.reshape(H // 2, 2, W // 2, 2).mean(axis=3).mean(axis=1)


def pool_loss(x, w):
    return np.sum(max_pool(x) * w) + np.sum(avg_pool(x) ** 2)


def bilinear_resize(img, out_h, out_w):
    H, W = img.shape
    ys = np.linspace(0, H - 1, out_h)
    xs = np.linspace(0, W - 1, out_w)
    y0 = np.floor(ys).astype(int)
    x0 = np.floor(xs).astype(int)
    y1 = np.minimum(y0 + 1, H - 1)
    x1 = np.minimum(x0 + 1, W - 1)
    wy = (ys - y0)[:, None]
    wx = (xs - x0)[None, :]
    Ia = img[y0][:, x0]
    Ib = img[y0][:, x1]
    Ic = img[y1][:, x0]
    Id = img[y1][:, x1]
    return (Ia * (1 - wy) * (1 - wx) + Ib * (1 - wy) * wx + Ic * wy * (1 - wx)
            + Id * wy * wx)


def resize_loss(img, target):
    up = bilinear_resize(img, *target.shape)
    return np.mean((up - target) ** 2)


def tv_denoise(u, f, lam=0.1, eps=1e-3):
    dx = np.diff(u, axis=1)
    dy = np.diff(u, axis=0)
    tv = np.sum(np.sqrt(dx[:-1, :] ** 2 + dy[:, :-1] ** 2 + eps))
    return 0.5 * np.sum((u - f) ** 2) + lam * tv


# ---------------------------------------------------------------- robotics

def rot2(th):
    c, s = np.cos(th), np.sin(th)
    return np.array([[c, -s], [s, c]])


def planar_fk(thetas, lengths):
    T = np.eye(3)
    pts = []
    for th, L in zip(thetas, lengths):
        A = np.eye(3)
        A[:2, :2] = rot2(th)
        A[0, 2] = L * np.cos(th)
        A[1, 2] = L * np.sin(th)
        T = T @ A
        pts.append(T[:2, 2])
    return np.array(pts)


def ik_error(thetas, lengths, target):
    end = planar_fk(thetas, lengths)[-1]
    return np.sum((end - target) ** 2) + 1e-3 * np.sum(thetas ** 2)


def rot_z(a):
    return np.array([[np.cos(a), -np.sin(a), 0.0], [np.sin(a), np.cos(a), 0.0],
                     [0.0, 0.0, 1.0]])


def rot_y(a):
    return np.array([[np.cos(a), 0.0, np.sin(a)], [0.0, 1.0, 0.0],
                     [-np.sin(a), 0.0, np.cos(a)]])


def arm3d(q, links):
    Rm = np.eye(3)
    p = np.zeros(3)
    for k, (qk, link) in enumerate(zip(q, links)):
        Rm = Rm @ (rot_z(qk) if k % 2 == 0 else rot_y(qk))
        p = p + Rm @ link
    return np.sum((p - np.array([0.5, 0.2, 0.3])) ** 2) + np.trace(Rm)


def pendulum_while(theta0, omega0, dt=0.05, T=0.4, g=9.81, L=1.0):
    th, om, t = theta0, omega0, 0.0
    while t < T - 1e-12:
        om = om - dt * g / L * np.sin(th)
        th = th + dt * om
        t += dt
    return 0.5 * L * L * om ** 2 + g * L * (1 - np.cos(th))


X0 = np.cumsum(1.0 + rnd(6, scale=0.1))
POS = rnd(5, 3, scale=1.5)
MASS = R.random(5) + 0.5
LJ = np.array([[0.0, 0.0, 0.0], [1.1, 0.0, 0.0], [0.5, 1.0, 0.0], [0.4, 0.3, 0.9]])
IMG = rnd(6, 6, scale=1.0)
LINKS = [np.array([0.3, 0.0, 0.1]), np.array([0.2, 0.1, 0.0]), np.array([0.1, 0.0, 0.2])]

CASES = {
    "spring": (spring_energy, (X0,), 0, {"v": rnd(6)}, {"order2": True}),
    "spring_v": (spring_with_velocity, (X0, rnd(6)), (0, 1), {}),
    "nbody": (nbody_potential, (POS, MASS), (0, 1), {}, {"order2": True}),
    "lennard_jones": (lennard_jones, (LJ,), 0, {}),
    "leapfrog": (leapfrog_energy, (rnd(3), rnd(3)), (0, 1), {}),
    "heat_dirichlet": (heat_dirichlet, (R.random(8),), 0, {}, {"order2": True}),
    "heat_neumann": (heat_neumann_2d, (R.random((5, 6)), 0.2), (0, 1), {}),
    "ising": (ising_energy, (rnd(4, 5),), 0, {}),
    "conv_im2col": (conv_im2col, (rnd(3, 3), IMG), (0, 1), {}),
    "conv_windows": (conv_windows, (rnd(3, 2), IMG), (0, 1), {}),
    "conv_multichannel": (conv_multichannel, (rnd(2, 2, 3, 3), rnd(2, 5, 5, scale=1.0)),
                          (0, 1), {}),
    "pooling": (pool_loss, (IMG, rnd(3, 3)), (0, 1), {}),
    "resize": (resize_loss, (rnd(4, 4, scale=1.0), rnd(7, 5)), 0, {}),
    "tv_denoise": (tv_denoise, (IMG + 0.1, IMG), 0, {}),
    "ik_planar": (ik_error, (rnd(3), np.array([1.0, 0.8, 0.5]), np.array([1.2, 0.7])), 0, {},
                  {"order2": True}),
    "ik_lengths": (ik_error, (rnd(3), np.array([1.0, 0.8, 0.5]), np.array([1.2, 0.7])),
                   (0, 1), {}),
    "arm3d": (arm3d, (rnd(3), LINKS), (0, 1), {}),
    "pendulum_while": (pendulum_while, (0.4, 0.1), (0, 1), {}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus13_physics(name):
    run_table(CASES, name)
