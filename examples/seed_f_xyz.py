"""The smallest circuit: f(x, y, z) = (x + y) * z.

At (x, y, z) = (-2, 5, -4):  q = x + y = 3,  f = q * z = -12,
    df/dz = q = 3,   df/dq = z = -4,   df/dx = df/dy = df/dq * 1 = -4.

Run:  python examples/seed_f_xyz.py
"""
import numpy as np

import s2sgrad


def f(x, y, z):
    q = x + y
    return q * z


f_grad = s2sgrad.grad(f, wrt=(0, 1, 2))          # gradients w.r.t. x, y and z
f_value_and_grad = s2sgrad.value_and_grad(f, wrt=("x", "y", "z"))

if __name__ == "__main__":
    x, y, z = -2.0, 5.0, -4.0
    dx, dy, dz = f_grad(x, y, z)
    value, (dx2, dy2, dz2) = f_value_and_grad(x, y, z)

    print("generated gradient source (f_grad.source):")
    print(f_grad.source)
    print(f"f({x}, {y}, {z}) = {value}")
    print(f"df/dx = {dx}, df/dy = {dy}, df/dz = {dz}")

    assert value == -12.0
    assert (dx, dy, dz) == (-4.0, -4.0, 3.0), (dx, dy, dz)
    assert (dx2, dy2, dz2) == (dx, dy, dz)
    assert all(isinstance(g, float) for g in (dx, dy, dz))   # floats in, floats out
    s2sgrad.check_grads(f, (x, y, z), wrt=(0, 1, 2))
    print("OK")
