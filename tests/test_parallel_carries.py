"""Loop carries that take each other's values (``a, b = b, a * b`` in a loop).

The next values of a loop's carries are one parallel assignment: a carry whose
next value is another carry's current one must not see that carry already
updated.  Found by the port of tangent-ad's tests (``tuple_swap_loop``: the
value 1.41 where NumPy gives 3.11, and every derivative wrong); the
generated code had ``b_1 = _t1 + 0.1; a_1 = b_1`` (the second copy reading
the first's result) and ``a_1 = b_1; b_1 = a_1`` at the end of the body.
Each program: value against NumPy, gradient against central differences,
forward mode and the Hessian-vector product.
"""
import numpy as np
import pytest

import s2sgrad


def swap_mul(a, b):
    for i in range(4):
        a, b = b, a * b + 0.1
    return a + b


def swap_plain(a, b):
    for i in range(3):
        a, b = b, a
    return a + 2 * b * b


def swap_in_branch(a, b):
    for i in range(3):
        if i % 2 == 0:
            a, b = b, a
        a = a * 1.5
    return a + 2 * b * a


def swap_while(a, b):
    while a < 10.0:
        a, b = b + a, a
    return a * b


def rotate_three(a, b, c):
    for i in range(2):
        a, b, c = c, a * c, b
    return a + 2 * b + 3 * c * a


def swap_arrays(x, y):
    for i in range(3):
        x, y = y * 2.0, np.sin(x)
    return np.sum(x * y)


def swap_arrays_written(x, y):
    x = x.copy()
    for i in range(3):
        x[0] = y[1] * 0.5
        x, y = y, x
    return np.sum(x * y ** 2)


def swap_then_write(x, y):
    x = x.copy()
    y = y.copy()
    for i in range(3):
        x, y = y, x
        y[1] = x[0] * 2.0 + y[2]
    return np.sum(x * y ** 2)


def fib_like(a, b, n):
    for i in range(n):
        a, b = b, a + b * 0.5
    return b


CASES = [
    (swap_mul, (0.5, 1.5)),
    (swap_plain, (0.5, 1.5)),
    (swap_in_branch, (0.5, 1.5)),
    (swap_while, (0.5, 1.5)),
    (swap_while, (2.5, -0.3)),
    (rotate_three, (0.5, 1.5, -0.7)),
    (swap_arrays, (np.array([1.0, 2.0]), np.array([3.0, -1.0]))),
    (swap_arrays_written, (np.array([1.0, 2.0, -0.5]), np.array([3.0, -1.0, 0.25]))),
    (swap_then_write, (np.array([1.0, 2.0, -0.5]), np.array([3.0, -1.0, 0.25]))),
    (fib_like, (0.3, -0.8, 5)),
]


def _float_positions(args):
    return tuple(i for i, a in enumerate(args) if not isinstance(a, int))


def _directional_fd(f, args, wrt, v, h=1e-6):
    def moved(t):
        out = list(args)
        for w, d in zip(wrt, v):
            out[w] = args[w] + t * d
        return out
    return (f(*moved(h)) - f(*moved(-h))) / (2 * h)


@pytest.mark.parametrize("f,args", CASES, ids=lambda v: getattr(v, "__name__", ""))
def test_parallel_carries(f, args):
    wrt = _float_positions(args)
    rng = np.random.default_rng(3)
    v = tuple(rng.standard_normal(np.shape(args[w])) + 0.0 for w in wrt)
    v = tuple(float(d) if np.ndim(d) == 0 else d for d in v)
    expected = f(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])
    value, grads = s2sgrad.value_and_grad(f, wrt=wrt)(*args)
    assert np.allclose(value, expected, rtol=1e-12)
    got = sum(float(np.sum(g * d)) for g, d in zip(grads, v))
    assert np.isclose(got, _directional_fd(f, args, wrt, v), rtol=1e-6, atol=1e-8)
    out, dot = s2sgrad.jvp(f, wrt=wrt)(args, v)
    assert np.allclose(out, expected, rtol=1e-12)
    assert np.isclose(dot, got, rtol=1e-9, atol=1e-12)
    # second order: H v against differences of the (checked) gradient
    hv = s2sgrad.hvp(f, wrt=wrt)(args, v)
    grad = s2sgrad.grad(f, wrt=wrt)
    w = v[::-1] if len(v) > 1 and np.shape(v[0]) == np.shape(v[-1]) else v
    lhs = sum(float(np.sum(h * d)) for h, d in zip(hv, w))
    rhs = _directional_fd(lambda *a: sum(float(np.sum(g * d)) for g, d in zip(grad(*a), w)),
                          args, wrt, v)
    assert np.isclose(lhs, rhs, rtol=1e-5, atol=1e-7)


def test_swap_generated_code_is_one_parallel_assignment():
    src = s2sgrad.grad(swap_plain, wrt=(0, 1)).source
    assert "a_1, b_1 = b_1, a_1" in src.replace("(", "").replace(")", "")
