"""Custom derivative rules: the three forms, their generated code, and checks.

* ``custom_vjp``: clip the cotangent flowing back through a value
  (JAX's clip_gradient), and a numerically stable log(1 + e^x);
* ``custom_jvp``: a norm whose derivative at 0 is defined (0, not NaN);
* ``defrule``: a rule for a callable s2sgrad cannot read (here an object
  standing for a compiled kernel).

Run: python examples/custom_rules.py
"""
import numpy as np

import s2sgrad
from s2sgrad import check_grads, grad, hessian, jvp

# ---------------------------------------------------------------- custom_vjp


# the identity, whose cotangent is clipped
@s2sgrad.custom_vjp
def clip_gradient(x, lo, hi):
    return x


def clip_fwd(x, lo, hi):
    return x, (lo, hi)


def clip_bwd(res, g):
    lo, hi = res
    return (np.clip(g, lo, hi), None, None)


clip_gradient.defvjp(clip_fwd, clip_bwd)


def loss(w, x, y):
    z = clip_gradient(x @ w, -1.0, 1.0)
    return np.mean((z - y) ** 2)


@s2sgrad.custom_vjp
def softplus(x):
    return np.log1p(np.exp(x))


# stable for large |x|; the derivative is the logistic function (tanh form:
# no overflow), linear in g as a reverse rule should be
def softplus_fwd(x):
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x))), x


def softplus_bwd(x, g):
    return (g * (0.5 + 0.5 * np.tanh(0.5 * x)),)


softplus.defvjp(softplus_fwd, softplus_bwd)

# ---------------------------------------------------------------- custom_jvp


@s2sgrad.custom_jvp
def safe_norm(x):
    return np.sqrt(np.sum(x ** 2))


# at x = 0 the tangent is 0, not 0 / 0
@safe_norm.defjvp
def safe_norm_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    n = safe_norm(x)
    return n, np.sum(x * t) / np.where(n == 0, 1.0, n)

# ---------------------------------------------------------------- defrule


class CompiledKernel:
    """Stands for a function of an extension module: no Python source."""

    def __call__(self, a, b):
        return a * np.tanh(b)


fast_kernel = CompiledKernel()


def fast_kernel_vjp(g, out, a, b):
    t = np.tanh(b)
    return g * t, g * a * (1.0 - t ** 2)


s2sgrad.defrule(fast_kernel, vjp=fast_kernel_vjp)


def model(a, b):
    return np.sum(softplus(fast_kernel(a, b))) + safe_norm(a)


def main():
    rng = np.random.default_rng(0)
    w, x, y = rng.standard_normal(3), rng.standard_normal((20, 3)) * 3, rng.standard_normal(20)

    g = grad(loss)
    dw = g(w, x, y)
    z = x @ w
    expected = x.T @ np.clip(2 * (z - y) / len(y), -1.0, 1.0)
    np.testing.assert_allclose(dw, expected)         # the rule's numbers, exactly
    print(g.generic_source)

    # softplus: stable where log1p(exp(x)) overflows, and differentiable twice
    big = np.array([800.0, -800.0, 0.5])
    assert np.isfinite(grad(lambda v: np.sum(softplus(v)))(big)).all()
    check_grads(lambda v: np.sum(softplus(v) ** 2), (rng.standard_normal(4),),
                modes=("rev", "fwd"))
    h = hessian(lambda v: np.sum(softplus(v)))(np.array([0.0, 1.0]))
    np.testing.assert_allclose(np.diag(h), [0.25, np.exp(-1) / (1 + np.exp(-1)) ** 2])

    # safe_norm: a defined derivative at 0, in both modes
    np.testing.assert_array_equal(grad(safe_norm)(np.zeros(3)), np.zeros(3))
    assert jvp(safe_norm)((np.zeros(3),), (np.ones(3),))[1] == 0.0

    # the opaque kernel: the generated code calls it; its rule is code
    a, b = rng.standard_normal(4), rng.standard_normal(4)
    check_grads(model, (a, b), wrt=(0, 1), modes=("rev", "fwd"))
    gm = grad(model, wrt=(0, 1))
    gm(a, b)
    print(gm.generic_source)
    print("OK")


if __name__ == "__main__":
    main()
