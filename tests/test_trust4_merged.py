"""Equal expressions and allocations that common-subexpression elimination
or buffer reuse could merge (trust4): x * 2.0 twice, np.exp(x) twice,
two np.zeros/np.full/np.eye/np.arange, one written in place (also through a
transpose, out=, .sort()).  Value vs NumPy, gradient vs central
differences, forward mode and the Hessian."""
import numpy as np
import pytest

from tests.trust4_harness import agree

def c1(x):
    a = x * 2.0
    b = x * 2.0
    a[0] = 5.0
    return np.sum(b * x) + np.sum(a)
def c2(x):
    a = np.exp(x)
    b = np.exp(x)
    b += 1.0
    return np.sum(a * b)
def c3(x):
    a = x.copy()
    b = x.copy()
    a *= 3.0
    return np.sum(a * b)
def c4(x):
    a = np.array(x)
    b = np.array(x)
    b[1:] = 0.0
    return np.sum(a * b) + np.sum(a)
def c5(x):
    a = x[::-1] * 1.0
    b = x[::-1] * 1.0
    a.sort()
    return np.sum(a * np.arange(4.0)) + np.sum(b * np.arange(4.0))
def c6(x):
    a = np.zeros(4)
    b = np.zeros(4)
    a += x
    b -= x ** 2
    return np.sum(a * b)
def c7(x):
    a = np.full(4, 2.0)
    b = np.full(4, 2.0)
    a[::2] = x[::2]
    return np.sum(a * b * x)
def c8(x):
    a = np.ones((2, 2))
    b = np.ones((2, 2))
    a[0] = x[:2]
    b[:, 0] = x[2:]
    return np.sum(a @ b)
def c9(x):
    s = np.sum(x)
    a = np.full(4, s)
    b = np.full(4, s)
    a[0] = 1.0
    return np.sum(a * b * x)
def c10(x):
    out = []
    for i in range(3):
        z = np.zeros(4)
        z[i] = x[i]
        out.append(z)
    return np.sum(np.stack(out) @ x)
def c11(x):
    a = x + 0.0
    b = x + 0.0
    c = x + 0.0
    a[0] = 1.0
    b[1] = 2.0
    return np.sum(a * b * c)
def c12(x):
    a = np.tanh(x)
    b = np.tanh(x)
    np.multiply(a, 2.0, out=a)
    return np.sum(a) + np.sum(b * x)
def c13(x):
    a = x.reshape(2, 2) * 1.0
    b = x.reshape(2, 2) * 1.0
    a.T[0] = 0.0
    return np.sum(a * b)
def c14(x):
    e = np.eye(4)
    f = np.eye(4)
    e[0, 1] = x[0]
    return np.sum(e @ f * x)
def c15(x):
    a = np.arange(4.0)
    b = np.arange(4.0)
    a *= x
    return np.sum(a * b)

# repeated indices: NumPy's buffered y[idx] op= v keeps the last write
def r1(x):
    y = x * 1.0
    y[[0, 0, 2]] *= x[1:]
    return np.sum(y * x)
def r2(x):
    y = x * 1.0
    y[[1, 1]] -= x[2:]
    return np.sum(y ** 2)
def r3(x):
    y = x * 1.0
    np.multiply.at(y, [0, 0, 2], x[1:])
    return np.sum(y * x)
def r4(x):
    y = x * 1.0
    np.subtract.at(y, [3, 3, 3], x[:3])
    return np.sum(y ** 2)
def r5(x):
    y = x * 1.0
    y[np.array([True, True, False, False])] /= x[2:]
    return np.sum(y * x)
def r6(x):
    y = np.zeros((3, 4))
    y[[0, 0, 1], [1, 1, 2]] += x[:3]
    return np.sum(y ** 2 * np.arange(12.0).reshape(3, 4))
def r7(x):
    y = x * 1.0
    y[[-1, 3]] = x[:2] ** 2
    return np.sum(y * x)
def r8(x):
    y = x * 1.0
    y[[0, 1, 0]] **= 2
    return np.sum(y * x)

X = np.array([0.3, -0.7, 1.1, 0.5])
PROGRAMS = [c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15]


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_equal_values_are_not_merged(f):
    agree(f, X, hess=f in (c1, c2, c6, c11))


@pytest.mark.parametrize("f", [r1, r2, r3, r4, r5, r6, r7, r8], ids=lambda f: f.__name__)
def test_repeated_index_updates(f):
    # r3: np.multiply.at (refused until session 19, primitives/indexing.py ufunc_at)
    agree(f, X)
