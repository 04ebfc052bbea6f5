"""Views and writes in closures, while loops, comprehensions and lazy
generators (trust4); views of views chosen by unpacking and swapping;
writes into symmetric halves.  Value vs NumPy, gradient vs central
differences, forward mode and the Hessian.  A generator expression bound
to a name and consumed after a write was evaluated where it was written
(2.88 vs NumPy 4.56): now refused naming both lines."""
import numpy as np
import pytest

from tests.trust4_harness import agree, refuses

def b1(x):
    y = x * 1.0
    def bump(i):
        y[i] += 1.0      # closure writes into the enclosing array
    bump(0)
    bump(2)
    return np.sum(y ** 2 * x)
def b2(x):
    y = x * 1.0
    def scale(v):
        v *= 2.0
        return v
    z = scale(y[1:3])
    return np.sum(y * x) + np.sum(z)
def b3(x):
    y = x * 1.0
    i = 0
    while i < 3:
        v = y[i:i + 2]
        v *= 1.5
        i += 1
    return np.sum(y * x)
def b4(x):
    y = x * 1.0
    sq = [v ** 2 for v in y]
    y[0] = 100.0
    return np.sum(np.array(sq) * x) + np.sum(y)
def b5(x):
    y = x * 1.0
    g = (v * 2 for v in y)
    y[1] = 0.0
    return sum(g) * np.sum(x)
def b6(x):
    y = np.outer(x, x)
    for i in range(4):
        y[i, i:] = y[i:, i]
    return np.sum(y * np.arange(16.0).reshape(4, 4))
def b7(x):
    y = x * 1.0
    y[1:][::-1][0] = 5.0
    return np.sum(y * x)
def b8(x):
    y = x.reshape(2, 2).copy()
    y.T[:] = y
    return np.sum(y * np.arange(4.0).reshape(2, 2))
def b9(x):
    y = x * 1.0
    a = y[::2]
    b = y[1::2]
    a, b = b, a
    a[0] = 9.0
    return np.sum(y * x)
def b10(x):
    y = x * 1.0
    views = {}
    views["lo"], views["hi"] = y[:2], y[2:]
    views["hi"][::-1] = views["lo"] * 3.0
    return np.sum(y * x)
def b11(x):
    y = np.tile(x, 2)
    y[::4] = np.cumsum(y[::4])
    return np.sum(y * np.arange(8.0))
def b12(x):
    y = x * 1.0
    y[:] = np.sort(y)[::-1]
    return np.sum(y * np.arange(4.0))
def b13(x):
    m = np.zeros((4, 4))
    m[np.triu_indices(4)] = np.concatenate([x, x[:3], x[:2], x[:1]])
    m = m + m.T - np.diag(np.diag(m))
    return np.sum(np.linalg.inv(m + 5 * np.eye(4)))
def b14(x):
    y = x * 1.0
    z = y[...]
    z[...] = z ** 2
    return np.sum(y * x)
def b15(x):
    y = np.stack([x, x ** 2])
    r0, r1 = y
    r0 += r1
    return np.sum(y ** 2)
def b16(x):
    y = np.stack([x, x ** 2])
    for r in y[::-1]:
        r[1:] = r[:-1] * 2.0
    return np.sum(y * x)
def b17(x):
    y = x * 1.0
    k = 2
    y[-k:] = y[:k] * x[-k:]
    return np.sum(y ** 2)
def b18(x):
    y = x * 1.0
    y[y.argmax()] = 0.0
    y[np.argmin(y)] *= 3.0
    return np.sum(y * x)
def b19(x):
    c = np.zeros(4) + 0j
    c.real[:] = x
    c.imag[1:] = x[:-1]
    return np.sum(np.abs(c) ** 2)
def b20(x):
    y = x * 1.0
    y[::-1][::2] += 1.0
    return np.sum(y * x)

def g1(x):
    y = x * 1.0
    g = (v * 2 for v in y)
    total = sum(g)
    y[1] = 0.0
    return total * np.sum(y)
def g2(x):
    y = x * 1.0
    g = (v * 2 for v in y)
    s = 0.0
    for v in g:
        y[0] = y[0] + v
        s = s + v
    return s * np.sum(y)
def g3(x):
    y = x * 1.0
    return sum(v ** 2 for v in y) + np.sum(y)

X = np.array([0.3, -0.7, 1.1, 0.5])
PROGRAMS = [b1, b2, b3, b4, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15, b16, b17, b18, b20,
            g1, g3]


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_program(f):
    agree(f, X, hess=f in (b1, b3, b6, b8, b13, b15, b16))


@pytest.mark.parametrize("f,match", [(b5, "consumed after the write at line"),
                                     (g2, "consumed after the write at line"),
                                     (b19, r"np\.real")], ids=lambda p: getattr(p, "__name__", ""))
def test_refused(f, match):
    refuses(f, X, match=match)
