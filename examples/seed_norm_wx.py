"""Gradient of a squared norm through a matrix-vector product: f(W, x) = ||W x||^2.

By hand: with q = W x,  df/dq = 2 q,  df/dW = 2 q x^T (an outer product),
df/dx = 2 W^T q.

Run:  python examples/seed_norm_wx.py
"""
import numpy as np

import s2sgrad


def f(W, x):
    q = W @ x
    return np.sum(q ** 2)


f_grad = s2sgrad.grad(f, wrt=("W", "x"))


if __name__ == "__main__":
    W = np.array([[0.1, 0.5],
                  [-0.3, 0.8]])
    x = np.array([0.2, 0.4])
    dW, dx = f_grad(W, x)
    print("generated gradient source (f_grad.source):")
    print(f_grad.source)
    print("dW =\n", dW)
    print("dx =", dx)

    q = W @ x
    assert np.allclose(dW, [[0.088, 0.176], [0.104, 0.208]], rtol=0, atol=1e-12), dW
    assert np.allclose(dx, [-0.112, 0.636], rtol=0, atol=1e-12), dx
    assert np.allclose(dW, 2 * np.outer(q, x)) and np.allclose(dx, 2 * W.T @ q)
    assert dW.shape == W.shape and dx.shape == x.shape
    s2sgrad.check_grads(f, (W, x), wrt=(0, 1))
    print("OK")
