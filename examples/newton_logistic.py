"""Newton's method for logistic regression with generated second derivatives.

The loss is plain NumPy.  ``s2sgrad.grad`` generates its gradient,
``s2sgrad.hessian`` its Hessian and ``s2sgrad.hvp`` Hessian-vector products
(forward-over-reverse: the tangent program of the generated gradient
program, so ``H v`` costs a few gradients and ``H`` is never formed).

Two solvers are run on the same problem:

* Newton: solve ``H step = -g`` with the full Hessian (d + 1 = 31 HVPs
  through the compiled linear part);
* Newton-CG: a few conjugate-gradient iterations on ``H step = -g`` using
  only ``hvp`` -- what one would do when d is too large for ``H``.

Both converge quadratically to the same optimum in a handful of iterations
(gradient descent in examples/logistic_regression.py takes hundreds).

Data: examples/data/breast_cancer.csv (see examples/data/README.md); a
synthetic problem of the same size is used if the file is missing.

Run:  python examples/newton_logistic.py
"""
import os

import numpy as np

import s2sgrad

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "breast_cancer.csv")


def load_data():
    """Standardized features with a bias column, labels in {0, 1}."""
    if os.path.exists(DATA):
        table = np.loadtxt(DATA, delimiter=",", skiprows=1)
        X, y, source = table[:, :-1], table[:, -1], "breast_cancer.csv"
    else:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((569, 30)) @ rng.standard_normal((30, 30))
        w_true = rng.standard_normal(30)
        y = (rng.uniform(size=569) < 1 / (1 + np.exp(-X @ w_true / 5))).astype(float)
        source = "synthetic data"
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    X = np.hstack([X, np.ones((X.shape[0], 1))])
    return X, y, source


def loss(w, X, y, lam):
    """Mean logistic loss (y in {0, 1}) plus lam * |w|^2.

    log(1 + exp(z)) - y z, with np.logaddexp(0, z) = log(1 + exp(z)) computed
    without overflow.
    """
    z = X @ w
    return np.mean(np.logaddexp(0.0, z) - y * z) + lam * np.sum(w * w)


loss_grad = s2sgrad.value_and_grad(loss)
loss_hessian = s2sgrad.hessian(loss)
loss_hvp = s2sgrad.hvp(loss)


def explicit_hessian(w, X, y, lam):
    """X^T diag(p (1 - p)) X / n + 2 lam I, derived by hand, to check the generated one."""
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return (X.T * (p * (1 - p))) @ X / len(y) + 2 * lam * np.eye(X.shape[1])


def conjugate_gradient(matvec, b, iters):
    """A few CG iterations for A x = b with A symmetric positive definite."""
    x = np.zeros_like(b)
    r = b.copy()
    p = r.copy()
    rr = r @ r
    for _ in range(iters):
        Ap = matvec(p)
        alpha = rr / (p @ Ap)
        x += alpha * p
        r -= alpha * Ap
        rr_new = r @ r
        if np.sqrt(rr_new) < 1e-12:
            break
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x


def newton(X, y, lam, max_iter=10, tol=1e-8, cg_iters=None):
    w = np.zeros(X.shape[1])
    label = "Newton" if cg_iters is None else f"Newton-CG ({cg_iters} CG steps)"
    print(f"\n{label}")
    for it in range(max_iter + 1):
        value, g = loss_grad(w, X, y, lam)
        gnorm = np.linalg.norm(g)
        print(f"  iter {it:2d}  loss {value:.12f}  |grad| {gnorm:.3e}")
        if gnorm < tol:
            return w, it
        if cg_iters is None:
            H = loss_hessian(w, X, y, lam)
            step = np.linalg.solve(H, -g)
        else:
            step = conjugate_gradient(lambda v: loss_hvp((w, X, y, lam), v), -g, cg_iters)
        w = w + step
    raise AssertionError(f"{label} did not converge in {max_iter} iterations "
                         f"(|grad| = {gnorm:.3e})")


def main():
    X, y, source = load_data()
    lam = 1e-3
    print(f"logistic regression on {source}: {X.shape[0]} samples, {X.shape[1]} parameters "
          f"(with bias), lam = {lam}")

    # the generated Hessian agrees with the hand-derived one
    w0 = np.random.default_rng(1).standard_normal(X.shape[1]) * 0.1
    H = loss_hessian(w0, X, y, lam)
    err = np.max(np.abs(H - explicit_hessian(w0, X, y, lam)))
    print(f"generated vs hand-derived Hessian: max abs difference {err:.2e}")
    assert err < 1e-10, err

    w_newton, it_newton = newton(X, y, lam)
    w_cg, it_cg = newton(X, y, lam, cg_iters=15)
    assert it_newton <= 10 and it_cg <= 10
    diff = np.max(np.abs(w_newton - w_cg))
    print(f"\nNewton converged in {it_newton} iterations, Newton-CG in {it_cg}; "
          f"max |w_newton - w_cg| = {diff:.2e}")
    assert diff < 1e-6, diff
    accuracy = np.mean((X @ w_newton > 0) == (y > 0.5))
    print(f"training accuracy {accuracy:.3f}")
    assert accuracy > 0.9

    print("\nThe generated Hessian-vector product (forward-over-reverse):\n")
    print(loss_hvp.source)
    print("OK")


if __name__ == "__main__":
    main()
