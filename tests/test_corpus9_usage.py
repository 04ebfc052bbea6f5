"""corpus9, part 3: what users do around gradients -- value_and_grad with
has_aux, grad of a method, gradients w.r.t. dict/list/namedtuple pytrees,
Hessians, jvp, hvp and Jacobians of small functions, grad called in an
optimisation loop with changing inputs (values must track the inputs),
float32 inputs and Python scalars -- and a self-test of the harness (it
must catch a wrong gradient).
"""
import collections
import copy

import numpy as np
import pytest
import scipy.special as sps

import s2sgrad
from s2sgrad import grad, hessian, hvp, jacobian, jvp, value_and_grad
from tests.corpus9_harness import fd_grad, run_case

R = np.random.default_rng(777)


def rnd(*shape, scale=0.5):
    return R.normal(size=shape) * scale


X = rnd(7, 3, scale=1.0)
Y = rnd(7, scale=1.0)
LABELS = np.array([0, 1, 2, 1, 0, 2, 1])


def log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


# ---------------------------------------------------------------- has_aux

def loss_with_metrics(params, X, labels):
    logits = X @ params["W"] + params["b"]
    logp = log_softmax(logits)
    nll = -np.mean(logp[np.arange(len(labels)), labels])
    acc = np.mean(np.argmax(logits, axis=1) == labels)
    return nll, {"acc": acc, "logits": logits}


def test_value_and_grad_has_aux():
    params = {"W": rnd(3, 3), "b": rnd(3)}
    snapshot = copy.deepcopy(params)
    (loss, aux), g = value_and_grad(loss_with_metrics, has_aux=True)(params, X, LABELS)
    ref_loss, ref_aux = loss_with_metrics(snapshot, X, LABELS)
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-12)
    np.testing.assert_allclose(aux["acc"], ref_aux["acc"])
    np.testing.assert_allclose(aux["logits"], ref_aux["logits"], rtol=1e-12)
    fd = fd_grad(lambda p, X, l: loss_with_metrics(p, X, l)[0], (snapshot, X, LABELS))
    for k in params:
        np.testing.assert_allclose(g[k], fd[k], rtol=1e-5, atol=1e-7)
        np.testing.assert_array_equal(params[k], snapshot[k])
    g2, aux2 = grad(loss_with_metrics, has_aux=True)(params, X, LABELS)
    for k in params:
        np.testing.assert_allclose(g2[k], g[k], rtol=1e-12)
    # aux is a fresh array: writing into it changes neither gradient nor arguments
    aux2["logits"][...] = 0.0
    np.testing.assert_allclose(g2["W"], g["W"], rtol=1e-12)


# ---------------------------------------------------------------- methods, pytrees

class LinearModel:
    def __init__(self, l2=0.1, fit_intercept=True):
        self.l2 = l2
        self.fit_intercept = fit_intercept

    def predict(self, params, X):
        out = X @ params["w"]
        if self.fit_intercept:
            out = out + params["b"]
        return out

    def loss(self, params, X, y):
        r = self.predict(params, X) - y
        return np.mean(r ** 2) + self.l2 * np.sum(params["w"] ** 2)


Params = collections.namedtuple("Params", ["W", "b", "scale"])


def namedtuple_loss(p, X, y):
    return np.sum((np.tanh(X @ p.W + p.b) @ np.ones(2) * p.scale - y) ** 2)


def nested_pytree_loss(tree, X):
    h = X
    for layer in tree["layers"]:
        h = np.tanh(h @ layer[0] + layer[1])
    out = h @ tree["head"]["W"] + tree["head"]["b"]
    return np.sum(out ** 2) * tree["temperature"]


def list_of_arrays_loss(ws, X, y):
    pred = sum(np.sin(X @ w) for w in ws)
    return np.mean((pred - y) ** 2)


def python_scalar_loss(w, temperature, X, y, offset=0.5):
    z = X @ w / temperature + offset
    return np.sum(np.logaddexp(0.0, -y * z))


def float32_mlp(params, X, y):
    W1, W2 = params
    h = np.maximum(X @ W1, 0.0)
    return np.mean((h @ W2 - y) ** 2)


MODEL = LinearModel(l2=0.05)
MODEL_NOB = LinearModel(fit_intercept=False)
X32 = X.astype(np.float32)
Y32 = Y.astype(np.float32)

CASES = {
    "method_dict": (MODEL.loss, ({"w": rnd(3), "b": 0.3}, X, Y), 0, {}),
    "method_no_intercept": (MODEL_NOB.loss, ({"w": rnd(3), "b": 0.3}, X, Y), 0, {}),
    "namedtuple_params": (namedtuple_loss, (Params(rnd(3, 2), rnd(2), 1.5), X, Y), 0, {}),
    "nested_pytree": (nested_pytree_loss, ({"layers": [[rnd(3, 4), rnd(4)], [rnd(4, 2), rnd(2)]],
                                            "head": {"W": rnd(2, 1), "b": rnd(1)},
                                            "temperature": 0.7}, X), 0, {}),
    "list_of_arrays": (list_of_arrays_loss, ([rnd(3), rnd(3), rnd(3)], X, Y), 0, {}),
    "python_scalars": (python_scalar_loss, (rnd(3), 2.0, X, np.sign(Y)), (0, 1), {"offset": 0.25}),
    "python_scalar_kw": (python_scalar_loss, (rnd(3), 2.0, X, np.sign(Y)), "offset",
                         {"offset": 0.25}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus9_usage(name):
    f, args, wrt, kwargs = CASES[name]
    if isinstance(wrt, str):
        # differentiated by keyword: the harness differentiates positionally
        run_case(lambda w, t, X, y, offset: f(w, t, X, y, offset=offset),
                 args + (kwargs["offset"],), 4, modes=())
        v, g = value_and_grad(f, wrt=wrt)(*args, **kwargs)
        fd = fd_grad(lambda w, t, X, y, offset: f(w, t, X, y, offset=offset),
                     args + (kwargs["offset"],), wrt=4)
        assert isinstance(g, float)
        np.testing.assert_allclose(g, fd, rtol=1e-6)
        return
    run_case(f, args, wrt, kwargs)


def test_float32_inputs():
    params = (rnd(3, 4).astype(np.float32), rnd(4).astype(np.float32))
    v, g = value_and_grad(float32_mlp)(params, X32, Y32)
    assert g[0].dtype == np.float32 and g[1].dtype == np.float32
    v64, g64 = value_and_grad(float32_mlp)(tuple(p.astype(np.float64) for p in params), X, Y)
    np.testing.assert_allclose(v, float32_mlp(params, X32, Y32), rtol=1e-6)
    np.testing.assert_allclose(g[0], g64[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(g[1], g64[1], rtol=1e-4, atol=1e-5)


def test_python_float_gradient_type():
    g = grad(python_scalar_loss, wrt=1)(rnd(3), 2.0, X, np.sign(Y))
    assert isinstance(g, float)
    fd = fd_grad(python_scalar_loss, (rnd(3) * 0 + 0.2, 2.0, X, np.sign(Y)), wrt=1)
    g = grad(python_scalar_loss, wrt=1)(rnd(3) * 0 + 0.2, 2.0, X, np.sign(Y))
    np.testing.assert_allclose(g, fd, rtol=1e-6)


# ---------------------------------------------------------------- optimisation loops

def logistic(w, X, y, lam=0.01):
    z = X @ w
    return np.mean(np.logaddexp(0.0, -y * z)) + lam * w @ w


def logistic_grad_by_hand(w, X, y, lam=0.01):
    z = X @ w
    return -(X.T @ (y * sps.expit(-y * z))) / len(y) + 2 * lam * w


def test_gradient_descent_tracks_inputs():
    yy = np.sign(Y)
    df = grad(logistic)
    w = np.zeros(3)
    w_hand = np.zeros(3)
    for step in range(30):
        lam = 0.01 * (1 + step % 3)       # a hyperparameter that changes between calls
        g = df(w, X, yy, lam=lam)
        np.testing.assert_allclose(g, logistic_grad_by_hand(w, X, yy, lam), rtol=1e-10, atol=1e-14)
        w = w - 0.5 * g
        w_hand = w_hand - 0.5 * logistic_grad_by_hand(w_hand, X, yy, lam)
    np.testing.assert_allclose(w, w_hand, rtol=1e-10)


def test_adam_loop_minibatches():
    """Adam on minibatches of different sizes (new shapes: new specialisations)."""
    yy = np.sign(Y)
    vg = value_and_grad(logistic)
    w = rnd(3)
    m = np.zeros(3)
    v = np.zeros(3)
    b1, b2, lr = 0.9, 0.999, 0.05
    for t in range(1, 13):
        idx = np.arange(t % 4 + 3)       # batch sizes 3..6
        val, g = vg(w, X[idx], yy[idx])
        np.testing.assert_allclose(val, logistic(w, X[idx], yy[idx]), rtol=1e-12)
        np.testing.assert_allclose(g, logistic_grad_by_hand(w, X[idx], yy[idx]), rtol=1e-10,
                                   atol=1e-14)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        w = w - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + 1e-8)


def test_inplace_update_of_argument_between_calls():
    """The user updates w in place (w -= lr * g): the next call sees the new values."""
    yy = np.sign(Y)
    df = grad(logistic)
    w = np.zeros(3)
    for _ in range(5):
        g = df(w, X, yy)
        np.testing.assert_allclose(g, logistic_grad_by_hand(w, X, yy), rtol=1e-10, atol=1e-14)
        w -= 0.3 * g


# ---------------------------------------------------------------- second order, jvp, jacobian

def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def rosen_hess_by_hand(x):
    n = len(x)
    H = np.zeros((n, n))
    for i in range(n - 1):
        H[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        H[i, i + 1] += -400 * x[i]
        H[i + 1, i] += -400 * x[i]
        H[i + 1, i + 1] += 200
    return H


def test_hessian_rosenbrock():
    x = rnd(4, scale=1.0)
    np.testing.assert_allclose(hessian(rosen)(x), rosen_hess_by_hand(x), rtol=1e-10, atol=1e-9)


def test_hvp_and_grad_of_grad_logistic():
    yy = np.sign(Y)
    w = rnd(3)
    v = rnd(3)
    z = X @ w
    s = sps.expit(y_z := yy * z)
    d = s * (1 - s)
    H = X.T @ (d[:, None] * X) / len(yy) + 2 * 0.01 * np.eye(3)
    del y_z
    np.testing.assert_allclose(hvp(logistic)((w, X, yy), v), H @ v, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(hessian(logistic)(w, X, yy), H, rtol=1e-9, atol=1e-12)


def test_jvp_of_loss_in_a_direction():
    w = rnd(3)
    yy = np.sign(Y)
    d = rnd(3)
    out, out_dot = jvp(logistic)((w, X, yy), (d,))
    np.testing.assert_allclose(out, logistic(w, X, yy), rtol=1e-12)
    np.testing.assert_allclose(out_dot, logistic_grad_by_hand(w, X, yy) @ d, rtol=1e-10)


def forward_kinematics(angles, lengths=(1.0, 0.8, 0.5)):
    x, y, phi = 0.0, 0.0, 0.0
    pts = []
    for a, l in zip(angles, lengths):
        phi = phi + a
        x = x + l * np.cos(phi)
        y = y + l * np.sin(phi)
        pts.append(np.array([x, y]))
    return np.concatenate(pts)


def jacobian_fd(f, x, eps=1e-6):
    cols = []
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = eps
        cols.append((f(x + e) - f(x - e)) / (2 * eps))
    return np.stack(cols, axis=-1)


@pytest.mark.parametrize("mode", ["forward", "reverse", "auto"])
def test_jacobian_forward_kinematics(mode):
    q = np.array([0.3, -0.5, 0.8])
    J = jacobian(forward_kinematics, mode=mode)(q)
    np.testing.assert_allclose(J, jacobian_fd(forward_kinematics, q), rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(q, [0.3, -0.5, 0.8])


def softmax_vec(z):
    e = np.exp(z - np.max(z))
    return e / e.sum()


def test_jacobian_softmax():
    z = rnd(4)
    s = softmax_vec(z)
    np.testing.assert_allclose(jacobian(softmax_vec)(z), np.diag(s) - np.outer(s, s), rtol=1e-10,
                               atol=1e-13)


def test_second_order_through_loop():
    """grad of grad of a leapfrog-style loop (a Python-float step)."""
    def energy_after(q0, eps=0.1):
        q, p = q0, 0.0
        for _ in range(5):
            p = p - eps * np.sin(q)
            q = q + eps * p
        return np.cos(q) + 0.5 * p ** 2

    d2 = grad(grad(energy_after))
    g1 = grad(energy_after)
    for q0 in (0.3, 1.1):
        fd2 = (g1(q0 + 1e-5) - g1(q0 - 1e-5)) / 2e-5
        np.testing.assert_allclose(d2(q0), fd2, rtol=1e-6)
        fd1 = (energy_after(q0 + 1e-6) - energy_after(q0 - 1e-6)) / 2e-6
        np.testing.assert_allclose(g1(q0), fd1, rtol=1e-6)


def test_hessian_of_pytree_free_mlp():
    def small_net(w, X, y):
        W = w[:6].reshape(3, 2)
        v = w[6:]
        return np.mean((np.tanh(X @ W) @ v - y) ** 2)
    w = rnd(8)
    H = hessian(small_net)(w, X, Y)
    g = grad(small_net)
    Hfd = jacobian_fd(lambda w: g(w, X, Y), w, eps=1e-5)
    np.testing.assert_allclose(H, Hfd, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(H, H.T, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- the harness can fail

@s2sgrad.custom_vjp
def _wrong_square(x):
    return x ** 2


def _wrong_fwd(x):
    return x ** 2, x


def _wrong_bwd(x, g):
    return (3.0 * x * g,)       # wrong on purpose: should be 2 x g


_wrong_square.defvjp(_wrong_fwd, _wrong_bwd)


def uses_wrong_rule(x):
    return np.sum(_wrong_square(x))


def test_harness_catches_a_wrong_gradient():
    with pytest.raises(AssertionError, match="central differences"):
        run_case(uses_wrong_rule, (rnd(3),), 0, modes=())
