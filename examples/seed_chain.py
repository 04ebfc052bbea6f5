"""A chain of scalar operations, differentiated end to end.

    x = 2;  a = x**2;  b = 5*a;  c = a*b;  L = -c

so L = -5 x**4 and dL/dx = -20 x**3 = -160 at x = 2.  The generated code
walks the chain backwards: dL/dc = -1, dL/db = -a, dL/da = -b + 5*(-a), ...

Run:  python examples/seed_chain.py
"""
import s2sgrad


@s2sgrad.grad          # L(x) now returns dL/dx; the plain function is L.__wrapped__
def L(x):
    a = x ** 2
    b = 5 * a
    c = a * b
    L = -c
    return L


if __name__ == "__main__":
    x = 2.0
    dx = L(x)
    print("generated gradient source (L.source):")
    print(L.source)
    print(f"x = {x}: L = {L.__wrapped__(x)}, dL/dx = {dx}   (by hand: -20 * x**3 = {-20 * x ** 3})")

    assert dx == -160.0, dx
    for x in (-1.5, 0.3, 3.0):   # the same code, at other points
        assert abs(L(x) - (-20 * x ** 3)) <= 1e-12 * abs(20 * x ** 3), x
    s2sgrad.check_grads(L.__wrapped__, (2.0,))
    print("OK")
