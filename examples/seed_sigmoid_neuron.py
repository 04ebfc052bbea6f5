"""A 2-input sigmoid neuron: f(w, x) = 1 / (1 + exp(-(w0*x0 + w1*x1 + w2))).

At w = (2, -3, -3), x = (-1, -2): the dot product is 1, f = sigmoid(1) = 0.731,
and with the local gradient s = f (1 - f) = 0.197 the chain rule gives
    df/dw = s * (x0, x1, 1) = (-0.197, -0.393, 0.197)
    df/dx = s * (w0, w1)    = ( 0.393, -0.590)
(the lecture notes round these to (-0.20, -0.39, 0.20) and (0.39, -0.59)).

Run:  python examples/seed_sigmoid_neuron.py
"""
import math

import numpy as np

import s2sgrad


def neuron(w, x):
    dot = w[0] * x[0] + w[1] * x[1] + w[2]
    return 1.0 / (1.0 + np.exp(-dot))


neuron_grad = s2sgrad.grad(neuron, wrt=("w", "x"))

if __name__ == "__main__":
    w = np.array([2.0, -3.0, -3.0])
    x = np.array([-1.0, -2.0])
    dw, dx = neuron_grad(w, x)
    print("generated gradient source (neuron_grad.source):")
    print(neuron_grad.source)
    print("df/dw =", np.round(dw, 4), "  df/dx =", np.round(dx, 4))

    f = 1.0 / (1.0 + math.exp(-1.0))       # sigmoid(1)
    s = f * (1.0 - f)                      # its derivative, 0.19661193...
    assert np.allclose(dw, [s * x[0], s * x[1], s], rtol=1e-12, atol=0), dw
    assert np.allclose(dx, [s * w[0], s * w[1]], rtol=1e-12, atol=0), dx
    assert np.allclose(dw, [-0.20, -0.39, 0.20], atol=0.01)    # the rounded lecture values
    assert np.allclose(dx, [0.39, -0.59], atol=0.01)
    s2sgrad.check_grads(neuron, (w, x), wrt=(0, 1))
    print("OK")
