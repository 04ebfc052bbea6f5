"""The lecture notes' circuits, drawn by s2sgrad.graph with their worked numbers.

Each picture shows the primitives as nodes and the values as edges, every
edge annotated with its forward value (green) and the gradient of the
output with respect to it (red):

* f_xyz:           f = (x + y) z at (-2, 5, -4): q = 3, f = -12, gradients -4, -4, 3
* f_xyz_backward:  the adjoint program s2sgrad generates for it
* sigmoid_neuron:  1 / (1 + exp(-(w0 x0 + w1 x1 + w2))) at w = (2, -3, -3), x = (-1, -2)
* norm_wx:         ||W x||^2 at W = [[0.1, 0.5], [-0.3, 0.8]], x = (0.2, 0.4)
* chain:           x = 2; a = x**2; b = 5a; c = a b; L = -c  (dL/dx = -160)
* linear_regression:   sqr(sub(y, add(matmul(w, x), b)))
* softmax_regression:  index(log(softmax(add(matmul(W, x), b))), y)

Run:  python examples/draw_graphs.py            # checks examples/graphs/*.dot are current
      python examples/draw_graphs.py --write    # (re)writes them, and .svg with Graphviz
"""
import os
import shutil
import sys
from pathlib import Path

import numpy as np

import s2sgrad
import seed_chain
import seed_f_xyz
import seed_norm_wx
import seed_sigmoid_neuron

HERE = Path(__file__).resolve().parent / "graphs"


def linear_regression(w, b, x, y):
    return (y - (w @ x + b)) ** 2


def softmax_regression(W, b, x, y):
    z = W @ x + b
    p = np.exp(z) / np.sum(np.exp(z))
    return -np.log(p)[y]


def graphs():
    """name -> the annotated graph."""
    return {
        "f_xyz": s2sgrad.graph(seed_f_xyz.f)(-2.0, 5.0, -4.0),
        "f_xyz_backward": s2sgrad.graph(seed_f_xyz.f, wrt=(0, 1, 2), backward=True,
                                        args=(-2.0, 5.0, -4.0)),
        "sigmoid_neuron": s2sgrad.graph(seed_sigmoid_neuron.neuron)(
            np.array([2.0, -3.0, -3.0]), np.array([-1.0, -2.0])),
        "norm_wx": s2sgrad.graph(seed_norm_wx.f)(np.array([[0.1, 0.5], [-0.3, 0.8]]),
                                                 np.array([0.2, 0.4])),
        "chain": s2sgrad.graph(seed_chain.L)(2.0),
        "linear_regression": s2sgrad.graph(linear_regression, wrt=(0, 1))(
            np.array([0.5, -1.0]), 0.25, np.array([2.0, 1.0]), 1.5),
        "softmax_regression": s2sgrad.graph(softmax_regression, wrt=(0, 1))(
            np.array([[0.2, -0.5], [1.5, 1.3], [0.0, 0.25]]), np.array([0.1, -0.2, 0.3]),
            np.array([1.0, 2.0]), 2),
    }


if __name__ == "__main__":
    drawn = graphs()
    dot = drawn["f_xyz"].dot
    for text in ("q = 3", "f = -12", "∂f/∂x = -4", "∂f/∂y = -4", "∂f/∂z = 3"):
        assert text in dot, text
    assert "∂L/∂x = -160" in drawn["chain"].dot
    assert "∂f/∂W = [[0.088, 0.176]<br/>[0.104, 0.208]]" in drawn["norm_wx"].dot
    if "--write" in sys.argv or os.environ.get("S2SGRAD_UPDATE_GOLDEN"):
        HERE.mkdir(exist_ok=True)
        for name, g in drawn.items():
            g.save(HERE / f"{name}.dot")
            if shutil.which("dot"):
                g.save(HERE / f"{name}.svg")
            print("wrote", HERE / f"{name}.dot")
    else:
        for name, g in drawn.items():
            assert (HERE / f"{name}.dot").read_text(encoding="utf-8") == g.dot, \
                f"examples/graphs/{name}.dot is out of date: run with --write"
        print(f"{len(drawn)} graphs match examples/graphs/*.dot")
    print("OK")
