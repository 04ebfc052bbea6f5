"""corpus10, part 4: scientific code: 1-D finite-volume advection (upwind and
minmod-limited), Burgers with Lax-Friedrichs, spring networks and a hanging
chain's energy, Lennard-Jones / Morse / Coulomb with pairwise distances (upper
triangle by ``np.triu_indices``, by masking the diagonal, by loops), a
harmonic bond-angle potential, thin-lens / ABCD ray optics and Fresnel
reflection, Snell refraction, a Gaussian beam, one- and two-compartment
pharmacokinetics by Euler loops fitted to concentrations, SIR epidemics,
Lotka-Volterra with RK2, a damped pendulum, a 2-D heat stencil with
``np.pad``, an RC circuit, Beer-Lambert, Michaelis-Menten fitting, a
projectile with drag.  Checked by ``tests/corpus10_harness.check``.
"""
import numpy as np
import pytest
import scipy.special as sps

from tests.corpus10_harness import run_table

R = np.random.default_rng(10040)


def rnd(*shape, scale=0.5):
    return R.normal(size=shape) * scale


# ---------------------------------------------------------------- finite volume

def upwind_advection(u0, c=0.5, steps=6):
    u = u0.copy()
    for _ in range(steps):
        flux = c * u
        u = u - (flux - np.roll(flux, 1))
    return np.sum(u ** 2)


def minmod(a, b):
    return np.where(a * b > 0, np.sign(a) * np.minimum(np.abs(a), np.abs(b)), 0.0)


def muscl_advection(u0, nu=0.4, steps=4):
    u = u0
    for _ in range(steps):
        du = minmod(u - np.roll(u, 1), np.roll(u, -1) - u)
        uL = u + 0.5 * (1 - nu) * du
        F = nu * uL
        u = u - (F - np.roll(F, 1))
    return np.sum(u ** 2) + np.sum(u[:3])


def burgers_lf(u0, dt=0.05, dx=0.2, steps=5):
    u = np.array(u0, dtype=float)
    for n in range(steps):
        f = 0.5 * u ** 2
        up, um = np.roll(u, -1), np.roll(u, 1)
        fp, fm = np.roll(f, -1), np.roll(f, 1)
        u = 0.5 * (up + um) - dt / (2 * dx) * (fp - fm)
    return np.mean(u ** 3)


def heat2d_pad(T0, alpha=0.2, steps=4):
    T = T0
    for _ in range(steps):
        P = np.pad(T, 1, mode="edge")
        lap = P[:-2, 1:-1] + P[2:, 1:-1] + P[1:-1, :-2] + P[1:-1, 2:] - 4 * T
        T = T + alpha * lap
    return np.sum(T * np.arange(T.size).reshape(T.shape))


# ---------------------------------------------------------------- springs, chains

def spring_energy(pos, edges, rest, k=1.0):
    i, j = edges[:, 0], edges[:, 1]
    d = pos[i] - pos[j]
    L = np.sqrt(np.sum(d ** 2, axis=1))
    return 0.5 * k * np.sum((L - rest) ** 2)


def hanging_chain(inner, anchors, k=50.0, m=1.0, g=9.81, L0=0.3):
    pts = np.vstack([anchors[0], inner.reshape(-1, 2), anchors[1]])
    seg = pts[1:] - pts[:-1]
    length = np.linalg.norm(seg, axis=1)
    elastic = 0.5 * k * np.sum((length - L0) ** 2)
    gravity = m * g * np.sum(pts[1:-1, 1])
    return elastic + gravity


def spring_loop(pos, edges, rest):
    E = 0.0
    for e in range(len(edges)):
        a, b = edges[e]
        d = np.linalg.norm(pos[a] - pos[b])
        E = E + (d - rest[e]) ** 2
    return E


POS = rnd(5, 2, scale=1.0)
EDGES = np.array([[0, 1], [1, 2], [2, 3], [3, 4], [4, 0], [0, 2]])
REST = np.abs(rnd(6)) + 0.5


# ---------------------------------------------------------------- molecular potentials

def lennard_jones_triu(x, eps=1.0, sigma=1.0):
    n = x.shape[0]
    i, j = np.triu_indices(n, k=1)
    r = np.linalg.norm(x[i] - x[j], axis=1)
    sr6 = (sigma / r) ** 6
    return np.sum(4 * eps * (sr6 ** 2 - sr6))


def lennard_jones_masked(x, eps=1.0, sigma=1.0):
    diff = x[:, None, :] - x[None, :, :]
    r2 = np.sum(diff ** 2, axis=-1)
    n = x.shape[0]
    r2 = r2 + np.eye(n)            # avoid 0/0 on the diagonal
    inv6 = (sigma ** 2 / r2) ** 3
    E = 4 * eps * (inv6 ** 2 - inv6)
    E = E * (1 - np.eye(n))
    return 0.5 * np.sum(E)


def morse_loops(x, D=1.0, a=1.5, r0=1.2):
    E = 0.0
    n = len(x)
    for i in range(n):
        for j in range(i + 1, n):
            r = np.sqrt(np.sum((x[i] - x[j]) ** 2))
            E += D * (1 - np.exp(-a * (r - r0))) ** 2
    return E


def coulomb_cutoff(x, q, rc=3.0):
    d = x[:, None, :] - x[None, :, :]
    r = np.sqrt(np.sum(d ** 2, axis=-1) + np.eye(len(q)))
    E = np.outer(q, q) / r * (1 - r / rc) ** 2
    E = np.where(r < rc, E, 0.0)
    return np.sum(np.triu(E, 1))


def bond_angle(x, triples, theta0=1.9, k=2.0):
    E = 0.0
    for a, b, c in triples:
        u = x[a] - x[b]
        v = x[c] - x[b]
        cos_t = u @ v / (np.linalg.norm(u) * np.linalg.norm(v))
        theta = np.arccos(np.clip(cos_t, -1.0, 1.0))
        E = E + 0.5 * k * (theta - theta0) ** 2
    return E


def lj_periodic(x, box=4.0):
    d = x[:, None, :] - x[None, :, :]
    d = d - box * np.round(d / box)
    r2 = np.sum(d ** 2, axis=-1)
    iu = np.triu_indices(len(x), 1)
    s6 = 1.0 / r2[iu] ** 3
    return np.sum(4 * (s6 ** 2 - s6))


CLUSTER = np.array([[0.0, 0.0, 0.0], [1.1, 0.1, 0.0], [0.2, 1.2, 0.1], [1.0, 1.1, 0.9],
                    [-0.3, 0.5, 1.2]]) + rnd(5, 3, scale=0.03)


# ---------------------------------------------------------------- optics

def abcd_focus(params, rays):
    f1, d, f2 = params
    L1 = np.array([[1.0, 0.0], [-1.0 / f1, 1.0]])
    D = np.array([[1.0, d], [0.0, 1.0]])
    L2 = np.array([[1.0, 0.0], [-1.0 / f2, 1.0]])
    M = L2 @ D @ L1
    out = rays @ M.T
    return np.mean(out[:, 0] ** 2) + 0.1 * np.mean(out[:, 1] ** 2)


def fresnel_reflectance(n2, theta, n1=1.0):
    cos_i = np.cos(theta)
    sin_t = n1 / n2 * np.sin(theta)
    cos_t = np.sqrt(1 - sin_t ** 2)
    rs = (n1 * cos_i - n2 * cos_t) / (n1 * cos_i + n2 * cos_t)
    rp = (n2 * cos_i - n1 * cos_t) / (n2 * cos_i + n1 * cos_t)
    return np.mean(0.5 * (rs ** 2 + rp ** 2))


def snell_path(y_interface, a=np.array([0.0, 1.0]), b=np.array([2.0, -1.0]), n1=1.0, n2=1.5):
    # Fermat: optical path length through a point on y = 0
    p = np.array([y_interface[0], 0.0])
    return n1 * np.linalg.norm(p - a) + n2 * np.linalg.norm(b - p)


def gaussian_beam(w0, z, wavelength=0.5):
    zR = np.pi * w0 ** 2 / wavelength
    w = w0 * np.sqrt(1 + (z / zR) ** 2)
    R_c = z * (1 + (zR / z) ** 2)
    gouy = np.arctan(z / zR)
    return np.sum(w) + np.sum(1 / R_c) + np.sum(gouy)


def thin_film(d, wavelengths, n=1.38):
    phase = 4 * np.pi * n * d[0] / wavelengths
    r = (1 - n) / (1 + n)
    R_ = (2 * r ** 2 * (1 - np.cos(phase))) / (1 + r ** 4 - 2 * r ** 2 * np.cos(phase))
    return np.mean(R_)


# ---------------------------------------------------------------- pharmacokinetics, epidemics

def pk_one_compartment(log_params, t_obs, c_obs, dose=100.0, dt=0.05):
    ka, ke, V = np.exp(log_params)
    gut, central = dose, 0.0
    t = 0.0
    preds = []
    k = 0
    for step in range(int(t_obs[-1] / dt) + 1):
        if k < len(t_obs) and abs(t - t_obs[k]) < dt / 2:
            preds.append(central / V)
            k += 1
        gut, central = gut - dt * ka * gut, central + dt * (ka * gut - ke * central)
        t += dt
    preds = np.array(preds)
    return np.sum((np.log(preds + 1e-8) - np.log(c_obs)) ** 2)


def pk_two_compartment(theta, doses, c_obs, dt=0.1):
    k10, k12, k21, V = np.exp(theta)
    A1, A2 = 0.0, 0.0
    sse = 0.0
    for t in range(len(c_obs)):
        A1 = A1 + doses[t]
        for _ in range(5):
            dA1 = -(k10 + k12) * A1 + k21 * A2
            dA2 = k12 * A1 - k21 * A2
            A1, A2 = A1 + dt * dA1, A2 + dt * dA2
        sse = sse + (A1 / V - c_obs[t]) ** 2
    return sse


def sir_fit(log_beta_gamma, I_obs, N=1000.0, dt=0.5):
    beta, gamma = np.exp(log_beta_gamma)
    S, I, Rr = N - 1.0, 1.0, 0.0
    loss = 0.0
    for k in range(len(I_obs)):
        for _ in range(2):
            new_inf = beta * S * I / N
            new_rec = gamma * I
            S, I, Rr = S - dt * new_inf, I + dt * (new_inf - new_rec), Rr + dt * new_rec
        loss += (np.log(I) - np.log(I_obs[k])) ** 2
    return loss


def lotka_volterra_rk2(theta, x0, obs, dt=0.1):
    a, b, c, d = theta

    def f(x):
        return np.array([a * x[0] - b * x[0] * x[1], c * x[0] * x[1] - d * x[1]])

    x = x0
    err = 0.0
    for k in range(obs.shape[0]):
        k1 = f(x)
        k2 = f(x + dt * k1)
        x = x + 0.5 * dt * (k1 + k2)
        err = err + np.sum((x - obs[k]) ** 2)
    return err


def damped_pendulum(params, theta0, T=20, dt=0.05):
    g_over_l, damping = params
    th, om = theta0, 0.0
    energy = []
    for _ in range(T):
        om = om - dt * (g_over_l * np.sin(th) + damping * om)
        th = th + dt * om
        energy.append(0.5 * om ** 2 + g_over_l * (1 - np.cos(th)))
    return energy[-1] + 0.1 * sum(energy) / len(energy)


def rc_circuit(log_rc, v_in, v_obs, dt=0.01):
    tau = np.exp(log_rc[0])
    v = 0.0
    out = np.zeros_like(v_obs)
    for k in range(len(v_in)):
        v = v + dt / tau * (v_in[k] - v)
        out[k] = v
    return np.mean((out - v_obs) ** 2)


def michaelis_menten(params, S, v):
    Vmax, Km = np.exp(params)
    return np.sum((Vmax * S / (Km + S) - v) ** 2)


def beer_lambert(eps_c, wavelengths_absorb, A_obs, path=1.0):
    A = path * wavelengths_absorb @ eps_c
    return np.sum((10 ** (-A) - 10 ** (-A_obs)) ** 2)


def projectile_drag(v0_angle, target_x, k=0.1, g=9.81, dt=0.02, steps=60):
    v0, ang = v0_angle
    vx, vy = v0 * np.cos(ang), v0 * np.sin(ang)
    x, y = 0.0, 0.0
    for _ in range(steps):
        speed = np.sqrt(vx ** 2 + vy ** 2)
        vx, vy = vx - dt * k * speed * vx, vy - dt * (g + k * speed * vy)
        x, y = x + dt * vx, y + dt * vy
    return (x - target_x) ** 2 + y ** 2


T_OBS = np.array([0.5, 1.0, 2.0, 4.0])
C_OBS = np.array([1.5, 2.0, 1.6, 0.8])
U0 = np.exp(-np.linspace(-2, 2, 9) ** 2) + rnd(9, scale=0.05)

CASES = {
    "upwind": (upwind_advection, (U0,), 0, {}, {"order2": True}),
    "muscl": (muscl_advection, (U0,), 0, {}),
    "burgers_lf": (burgers_lf, (U0,), 0, {}),
    "heat2d_pad": (heat2d_pad, (rnd(4, 5),), 0, {}, {"order2": True}),
    "spring_energy": (spring_energy, (POS, EDGES, REST), 0, {}, {"order2": True}),
    "hanging_chain": (hanging_chain, (np.array([0.3, -0.2, 0.6, -0.3, 0.9, -0.2]),
                                      np.array([[0.0, 0.0], [1.2, 0.0]])), 0, {}),
    "spring_loop": (spring_loop, (POS, EDGES, REST), 0, {}),
    "lj_triu": (lennard_jones_triu, (CLUSTER,), 0, {}, {"order2": True, "f32": False}),
    "lj_masked": (lennard_jones_masked, (CLUSTER,), 0, {}, {"f32": False}),
    "morse_loops": (morse_loops, (CLUSTER,), 0, {}, {"order2": True}),
    "coulomb": (coulomb_cutoff, (CLUSTER, np.array([1.0, -1.0, 0.5, -0.5, 1.0])), 0, {}),
    "bond_angle": (bond_angle, (CLUSTER, [(0, 1, 2), (1, 2, 3), (2, 3, 4)]), 0, {}),
    "lj_periodic": (lj_periodic, (CLUSTER,), 0, {}, {"f32": False}),
    "abcd": (abcd_focus, ((10.0, 3.0, 5.0), rnd(6, 2)), 0, {}),
    "fresnel": (fresnel_reflectance, (1.5, np.linspace(0.1, 1.2, 5)), 0, {}),
    "snell": (snell_path, (np.array([0.7]),), 0, {}, {"order2": True}),
    "gaussian_beam": (gaussian_beam, (1.2, np.linspace(0.5, 3.0, 4)), 0, {}),
    "thin_film": (thin_film, (np.array([0.1]), np.linspace(0.4, 0.7, 5)), 0, {}),
    "pk_one": (pk_one_compartment, (np.log(np.array([1.2, 0.3, 20.0])), T_OBS, C_OBS), 0, {}),
    "pk_two": (pk_two_compartment, (np.log(np.array([0.3, 0.2, 0.1, 10.0])),
                                    np.array([100.0, 0, 0, 50.0, 0, 0]),
                                    np.array([8.0, 6.0, 5.0, 8.0, 6.5, 5.0])), 0, {}),
    "sir": (sir_fit, (np.log(np.array([0.6, 0.2])), np.array([2.0, 4.0, 7.0, 12.0, 20.0])), 0,
            {}),
    "lotka_volterra": (lotka_volterra_rk2, (np.array([1.0, 0.5, 0.4, 0.8]),
                                            np.array([1.0, 0.5]),
                                            np.abs(rnd(6, 2)) + 0.5), (0, 1), {}),
    "pendulum": (damped_pendulum, ((9.81, 0.3), 0.8), (0, 1), {}),
    "rc_circuit": (rc_circuit, (np.array([-2.0]), np.ones(10), np.linspace(0, 0.5, 10)), 0,
                   {}),
    "michaelis_menten": (michaelis_menten, (np.log(np.array([2.0, 0.5])),
                                            np.array([0.1, 0.5, 1.0, 2.0, 5.0]),
                                            np.array([0.3, 1.0, 1.3, 1.6, 1.9])), 0, {},
                         {"order2": True}),
    "beer_lambert": (beer_lambert, (np.abs(rnd(2)), np.abs(rnd(5, 2)), np.abs(rnd(5))), 0, {}),
    "projectile": (projectile_drag, ((10.0, 0.7), 6.0), 0, {}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus10_science(name):
    run_table(CASES, name)
