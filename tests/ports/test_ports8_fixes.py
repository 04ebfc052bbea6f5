"""Regression tests of the fixes the second-order sweep of the autograd port
found (tests/ports/test_autograd_port.py), each checked against NumPy's value
and central differences:

* a gradient differentiated again (``vjp(grad(f))``, ``jvp(grad(f))``,
  ``hessian``, ``jacobian(grad(f))``) of a real argument reached through
  complex intermediates is real -- it was the complex cotangent itself
  (``1.68+0.73j`` where ``grad`` gives ``1.68``);
* ``jacobian``/``hessian`` of a ``jacobian`` or ``hessian`` (refused before)
  and ``grad`` of a ``functools.partial`` (refused before);
* ``operator.itemgetter`` inside a differentiated function (refused before).
"""
from __future__ import annotations

import functools
import operator
import warnings

import numpy as np
import pytest

import s2sgrad

U = np.array([[0.3 + 0.2j, -1.0 + 0.5j], [0.7 - 0.1j, 0.2 + 1.0j], [1.1 + 0.4j, -0.3 - 0.8j]])


def s(x0, x1):
    o = x0 * x1 * np.exp(1j * x0)
    return np.real(np.sum(U * o))


X0 = np.array([0.5, -1.2])
X1 = np.array([[1 + 0.1j, 2 - 0.3j], [0.4 + 0.2j, 0.1j], [1.0, 2j]])


def test_grad_differentiated_again_is_real_for_real_argument():
    g = s2sgrad.grad(s, wrt=(0, 1))
    want = g(X0, X1)
    assert not np.iscomplexobj(want[0])
    v0, v1 = np.array([0.7, -0.4]), np.array([[1.0, 0.5j], [0.2, -1j], [0.3 + 0.1j, 0.0]])
    for how in ("rr", "fr"):
        if how == "rr":
            got, pb = s2sgrad.vjp(g, wrt=(0, 1))(X0, X1)
        else:
            got, hv = s2sgrad.jvp(g, wrt=(0, 1))((X0, X1), (v0, v1))
        assert not np.iscomplexobj(got[0]), how
        np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
        np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
    # the tangent of the real argument's gradient: real, and the difference quotient's
    _, hv = s2sgrad.jvp(g, wrt=(0, 1))((X0, X1), (v0, v1))
    assert not np.iscomplexobj(hv[0])
    h = 1e-6
    fd = [(a - b) / (2 * h) for a, b in zip(g(X0 + h * v0, X1 + h * v1),
                                             g(X0 - h * v0, X1 - h * v1))]
    np.testing.assert_allclose(hv[0], fd[0], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(hv[1], fd[1], rtol=1e-6, atol=1e-8)


def test_grad_differentiated_again_float32_and_python_float():
    def f(x):
        return np.real(np.sum(np.exp(1j * x) * (0.5 + 2j)))
    x32 = np.array([0.3, -0.8], dtype=np.float32)
    got, pb = s2sgrad.vjp(s2sgrad.grad(f))(x32)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, s2sgrad.grad(f)(x32), rtol=1e-6)
    hv = pb(np.ones(2, dtype=np.float32))
    assert hv.dtype == np.float32 and not np.iscomplexobj(hv)
    x = 0.4
    d, dd = s2sgrad.jvp(s2sgrad.grad(f))((x,), (1.0,))
    assert isinstance(d, float) or np.ndim(d) == 0
    assert not np.iscomplexobj(dd)
    h = 1e-6
    fd = (s2sgrad.grad(f)(x + h) - s2sgrad.grad(f)(x - h)) / (2 * h)
    np.testing.assert_allclose(dd, fd, rtol=1e-6)


def test_hessian_and_jacobian_of_grad_complex_intermediates_no_warning():
    u = np.array([0.3 + 0.2j, -1 + 0.5j])

    def f(x):
        return np.real(np.sum(u * np.exp(1j * x) * x))
    x = np.array([0.5, -1.2])
    h = 1e-6
    g = s2sgrad.grad(f)
    fd = np.array([(g(x + h * e) - g(x - h * e)) / (2 * h) for e in np.eye(2)]).T
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for H in (s2sgrad.hessian(f)(x), s2sgrad.jacobian(g)(x),
                  s2sgrad.jacobian(g, mode="reverse")(x)):
            assert H.dtype == np.float64
            np.testing.assert_allclose(H, fd, rtol=1e-6, atol=1e-8)


def _outer(x):
    return np.sin(np.outer(x, x)) + np.cos(np.dot(x, x))


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_jacobian_of_jacobian(mode):
    x = np.array([0.3, -0.7, 1.1])
    J = s2sgrad.jacobian(_outer, mode=mode)
    JJ = s2sgrad.jacobian(J, mode=mode)(x)
    assert JJ.shape == (3, 3, 3, 3)
    h = 1e-6
    for k, e in enumerate(np.eye(3)):
        np.testing.assert_allclose(JJ[..., k], (J(x + h * e) - J(x - h * e)) / (2 * h),
                                   rtol=1e-6, atol=1e-8)
    # the wrapper is made once per transform
    assert s2sgrad.jacobian(J) is not None and \
        J.__dict__["_s2s_basis_wrapper"] is J.__dict__["_s2s_basis_wrapper"]


def test_jacobian_of_hessian_and_jvp_of_jacobian():
    def f(x):
        return np.sum(np.sin(x) * x[0])
    x = np.array([0.3, -0.7])
    H = s2sgrad.hessian(f)
    T = s2sgrad.jacobian(H)(x)
    h = 1e-6
    for k, e in enumerate(np.eye(2)):
        np.testing.assert_allclose(T[..., k], (H(x + h * e) - H(x - h * e)) / (2 * h),
                                   rtol=1e-6, atol=1e-8)
    J = s2sgrad.jacobian(_outer)
    v = np.array([0.4, 0.1])
    val, dot = s2sgrad.jvp(J)((x,), (v,))
    np.testing.assert_allclose(val, J(x))
    np.testing.assert_allclose(dot, (J(x + h * v) - J(x - h * v)) / (2 * h), rtol=1e-6,
                               atol=1e-8)


def test_jacobian_of_varargs_jacobian_still_refused():
    def f(*xs):
        return xs[0] * 2.0
    J = s2sgrad.jacobian(f)
    with pytest.raises(s2sgrad.S2SGradError, match="cannot differentiate a JacobianFunction"):
        s2sgrad.jacobian(J)


def _fy(x, y, z=0.5):
    return x * y + np.sin(x) * z


def test_grad_of_partial():
    x = 2.0
    np.testing.assert_allclose(s2sgrad.grad(functools.partial(_fy, y=1.0))(x),
                               1.0 + 0.5 * np.cos(x))
    # a keyword given at the call overrides the partial's, as in Python
    np.testing.assert_allclose(s2sgrad.grad(functools.partial(_fy, y=1.0))(x, y=3.0),
                               3.0 + 0.5 * np.cos(x))
    # positional binding: the partial's remaining first parameter is y
    np.testing.assert_allclose(s2sgrad.grad(functools.partial(_fy, x))(1.5), x)
    # with respect to a keyword-only parameter of the partial, and arrays
    xa = np.array([0.1, 0.2])
    g = s2sgrad.grad(lambda x, y: np.sum(functools.partial(_fy, z=2.0)(x, y)), wrt=(0, 1))
    gx, gy = g(xa, np.array([3.0, -1.0]))
    np.testing.assert_allclose(gx, np.array([3.0, -1.0]) + 2.0 * np.cos(xa))
    np.testing.assert_allclose(gy, xa)
    p = functools.partial(_fy, y=1.5)
    np.testing.assert_allclose(s2sgrad.grad(p, wrt="y")(2.0), 2.0)
    out, dot = s2sgrad.jvp(p)((xa,), (np.ones(2),))
    np.testing.assert_allclose(out, _fy(xa, 1.5))
    np.testing.assert_allclose(dot, 1.5 + 0.5 * np.cos(xa))


def test_itemgetter():
    def g(d):
        total = 0.0
        for i, (k, v) in enumerate(sorted(d.items(), key=operator.itemgetter(0))):
            total = total + np.sum(np.sin(v)) * (i + 1.0)
        return total
    d = {"b": np.array([0.3, 0.4]), "a": np.array([0.5, -0.1, 0.2])}
    got = s2sgrad.grad(g)(d)
    np.testing.assert_allclose(got["a"], np.cos(d["a"]) * 1.0)
    np.testing.assert_allclose(got["b"], np.cos(d["b"]) * 2.0)

    def h(x):
        a, b = operator.itemgetter(2, 0)(x)
        return a * b + operator.itemgetter(1)(x) ** 2 + np.sum(operator.itemgetter(
            slice(0, 2))(x))
    x = np.array([1.0, 2.0, 3.0])
    assert s2sgrad.value_and_grad(h)(x)[0] == h(x)
    np.testing.assert_allclose(s2sgrad.grad(h)(x), [3.0 + 1.0, 4.0 + 1.0, 1.0])


# np.prod / np.cumprod: exact first derivatives at zeros; np.prod's second
# derivative exact at zeros too (prod_pairs), its third refused at a zero;
# np.cumprod's second refused at a zero.  (Both second derivatives were wrong
# there: the masked "product of the others" was differentiated as a constant.)


def _second(f, x, v, w):
    """<w, H v> by reverse over reverse, forward over reverse and s2sgrad.hvp."""
    g = s2sgrad.grad(f)
    _, pb = s2sgrad.vjp(g)(x)
    rr = float(np.sum(w * pb(v)))
    _, hv = s2sgrad.jvp(g)((x,), (v,))
    fr = float(np.sum(w * hv))
    hvp = float(np.sum(w * s2sgrad.hvp(f)((x,), v)))
    return rr, fr, hvp


C23 = np.array([[0.3, -1.0, 2.0], [1.5, 0.7, -0.2]])


def _f_prod(x):
    return np.sum(C23 * np.prod(x, axis=1, keepdims=True)) + np.prod(x)


def _f_cumprod(x):
    return np.sum(C23 * np.cumprod(x, axis=1)) + np.sum(np.cumprod(x))


def _f_prod_axis(x):
    return np.sum(np.prod(x, axis=0) ** 2)


X23 = np.array([[1.5, -0.5, 2.0], [1.0, 2.0, 3.0]])
V23 = np.array([[0.2, 1.0, -0.3], [0.5, -0.4, 0.1]])
W23 = np.array([[1.0, 0.3, 0.2], [-0.7, 0.4, 0.9]])


def _zeroed(*where):
    x = X23.copy()
    for ij in where:
        x[ij] = 0.0
    return x


@pytest.mark.parametrize("f", [_f_prod, _f_cumprod, _f_prod_axis])
@pytest.mark.parametrize("zeros", [(), ((0, 1),), ((0, 1), (1, 2)), ((0, 0), (0, 1)),
                                   ((0, 0), (0, 1), (0, 2))])
def test_prod_second_order(f, zeros):
    x = _zeroed(*zeros)
    h = 1e-6
    g = s2sgrad.grad(f)
    # the first derivative is exact at zeros
    fd1 = np.array([(f(x + h * e.reshape(x.shape)) - f(x - h * e.reshape(x.shape))) / (2 * h)
                    for e in np.eye(x.size)]).reshape(x.shape)
    np.testing.assert_allclose(g(x), fd1, rtol=1e-6, atol=1e-8)
    fd = float(np.sum(W23 * (g(x + h * V23) - g(x - h * V23)) / (2 * h)))
    if zeros and f is _f_cumprod:
        with pytest.raises(ValueError, match="s2sgrad: a second derivative of np.cumprod"):
            _second(f, x, V23, W23)
        return
    for got in _second(f, x, V23, W23):
        np.testing.assert_allclose(got, fd, rtol=1e-6, atol=1e-8)


def _third(f, x):
    """<v, grad <w, H(x) v>>: a third directional derivative."""
    def hv_w(y):
        return np.sum(W23 * s2sgrad.jvp(s2sgrad.grad(f))((y,), (V23,))[1])
    return float(np.sum(V23 * s2sgrad.grad(hv_w)(x))), hv_w


@pytest.mark.parametrize("f", [_f_prod, _f_prod_axis])
def test_prod_third_order(f):
    got, hv_w = _third(f, X23)
    h = 1e-5
    fd = (hv_w(X23 + h * V23) - hv_w(X23 - h * V23)) / (2 * h)
    np.testing.assert_allclose(got, fd, rtol=1e-6)
    with pytest.raises(ValueError, match="s2sgrad: a third derivative of np.prod"):
        _third(f, _zeroed((0, 1)))


def _f_det(a):
    return np.linalg.det(a) * 2.0


@pytest.mark.parametrize("rank", [3, 2])
def test_det_second_order_singular_refused(rank):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, rank)) @ rng.standard_normal((rank, 4))   # numerically singular
    v, w = rng.standard_normal((4, 4)), rng.standard_normal((4, 4))
    g = s2sgrad.grad(_f_det)
    h = 1e-6
    # the first derivative is exact at a singular matrix
    fd1 = (_f_det(a + h * v) - _f_det(a - h * v)) / (2 * h)
    np.testing.assert_allclose(np.sum(g(a) * v), fd1, rtol=1e-6, atol=1e-9)
    # the second is refused there (it was wrong: 3.24 / 1.74 for 5.65 at rank 4 of 5)
    with pytest.raises(ValueError, match="s2sgrad: a second derivative of np.linalg.det"):
        _second(_f_det, a, v, w)
    # and right at a well-conditioned matrix
    b = a + 3 * np.eye(4)
    fd = float(np.sum(w * (g(b + h * v) - g(b - h * v)) / (2 * h)))
    for got in _second(_f_det, b, v, w):
        np.testing.assert_allclose(got, fd, rtol=1e-6)


def _f_lae(x):
    return np.sum(C23 * np.logaddexp.accumulate(x, axis=1)) + \
        np.sum(np.logaddexp.accumulate(x * x, axis=0))


def test_logaddexp_accumulate_second_and_third_order():
    """np.logaddexp.accumulate (torch.logcumsumexp, gradgradcheck'ed there):
    its second derivative was refused (the helpers' x and out were data)."""
    rng = np.random.default_rng(5)
    x, v, w = rng.standard_normal((3, 2, 3))
    g = s2sgrad.grad(_f_lae)
    h = 1e-6
    fd = float(np.sum(w * (g(x + h * v) - g(x - h * v)) / (2 * h)))
    for got in _second(_f_lae, x, v, w):
        np.testing.assert_allclose(got, fd, rtol=1e-6)

    def d2(y):            # <w, H(y) v> as a function of y, by forward over reverse
        return float(np.sum(w * s2sgrad.jvp(g)((y,), (v,))[1]))
    # third order: the gradient of <w, H v> against its differences
    def hv_w(y):
        return np.sum(w * s2sgrad.jvp(s2sgrad.grad(_f_lae))((y,), (v,))[1])
    g3 = s2sgrad.grad(hv_w)(x)
    fd3 = float((d2(x + h * v) - d2(x - h * v)) / (2 * h))
    np.testing.assert_allclose(float(np.sum(g3 * v)), fd3, rtol=1e-5)


def _f_dict(d, x):
    return d.get("item_1", x) ** 2


def _jvp_dict_inside(d, x, d_dot, x_dot):
    return s2sgrad.jvp(_f_dict, wrt=(0, 1))((d, x), (d_dot, x_dot))[1]


def _f_tuple(x):
    return np.sum(np.stack(x, axis=0) * np.array([[1.0, 2.0]]))


def _jvp_tuple_inside(x, x_dot):
    return s2sgrad.jvp(_f_tuple)((x,), (x_dot,))[1]


def _jvp_tuple_built_inside(x, t0):
    return s2sgrad.jvp(_f_tuple)((x,), ((t0,),))[1]


def test_jvp_inside_with_opaque_container_tangent_refused():
    """jvp inside a differentiated function, of a container argument whose
    tangent is a container passed in whole (a parameter not differentiated):
    refused naming the call -- it crashed in generated code (a dict times a
    float, a broadcast of a tuple) and could pair leaves wrongly."""
    d, dd = {"item_1": 3.0}, {"item_1": 1.0}
    with pytest.raises(s2sgrad.UnsupportedSyntaxError, match="jvp of a container argument"):
        s2sgrad.jvp(_jvp_dict_inside, wrt=(0, 1))((d, 2.0, dd, 0.5), (dd, 0.5))
    x = (np.array([0.3, 0.4]),)
    with pytest.raises(s2sgrad.UnsupportedSyntaxError, match="jvp of a container argument"):
        s2sgrad.jvp(_jvp_tuple_inside)((x, (np.ones(2),)), (x,))
    # a tangent container built in the function works (the directional
    # derivative is linear in x: its derivative is 0 along x, 1*t0 + 2*t0 along t0)
    val, dot = s2sgrad.jvp(_jvp_tuple_built_inside, wrt=(0, 1))((x, np.ones(2)),
                                                                (x, np.array([0.5, -1.0])))
    np.testing.assert_allclose(val, 3.0)
    np.testing.assert_allclose(dot, 0.5 - 2.0)
