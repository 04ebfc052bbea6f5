"""A Python list used as a mutable cell in a loop (``r = [1.0]; r[0] = r[0] * x``,
Zygote's ``pow_mut`` with a ``Ref``).

The adjoint of writing into a list slot cast the cotangent to the list's
"dtype" (``np.result_type`` of a list: TypeError in the generated code), and
its second derivative read the slot's cotangent with array indexing; found by
the port of Zygote's features.jl (tests/ports/tangent_cases.py).  Value
against Python, gradient against central differences, forward mode, the
Hessian-vector product and grad of grad.
"""
import pytest

import s2sgrad


def cell_for(x):
    r = [1.0]
    for i in range(3):
        r[0] = r[0] * x
    return r[0]


def cell_while(x, n):
    r = [1.0, 0.0]
    while n > 0:
        n -= 1
        r[0] = r[0] * x
        r[1] = r[1] + r[0]
    return r[0] + r[1]


def cell_index(x):
    r = [1.0, 2.0, 3.0]
    for i in range(3):
        r[i] = r[i] * x + r[(i + 1) % 3]
    return r[0] * r[1] * r[2]


CASES = [(cell_for, (1.5,)), (cell_for, (-0.7,)), (cell_while, (2.0, 3)), (cell_while, (-0.5, 4)),
         (cell_index, (0.8,))]


@pytest.mark.parametrize("f,args", CASES, ids=lambda v: getattr(v, "__name__", ""))
def test_list_cell(f, args):
    h = 1e-5
    x, rest = args[0], args[1:]
    fd1 = (f(x + h, *rest) - f(x - h, *rest)) / (2 * h)
    fd2 = (f(x + h, *rest) - 2 * f(x, *rest) + f(x - h, *rest)) / h ** 2
    value, grad = s2sgrad.value_and_grad(f)(*args)
    assert value == pytest.approx(f(*args), rel=1e-13)
    assert grad == pytest.approx(fd1, rel=1e-7)
    out, dot = s2sgrad.jvp(f)(args, (1.0,))
    assert out == pytest.approx(f(*args), rel=1e-13)
    assert dot == pytest.approx(grad, rel=1e-12)
    hv = s2sgrad.hvp(f, wrt=(0,))(args, (1.0,))[0]
    assert hv == pytest.approx(fd2, rel=1e-4)
    assert s2sgrad.grad(s2sgrad.grad(f))(*args) == pytest.approx(hv, rel=1e-12)
