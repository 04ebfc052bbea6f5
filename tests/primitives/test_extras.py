"""np.block, np.i0, np.poly*, np.unwrap, np.unstack (s2sgrad/primitives/extras.py):
specs, values against NumPy, float32, higher order."""
import numpy as np
import pytest

import s2sgrad
import s2sgrad.runtime as rt

try:
    import scipy.integrate
except ImportError:         # (SciPy is optional: only the refusal test needs it)
    scipy = None

from .spec import Spec, check_spec, normal

W5 = normal(5, 5)
W23 = normal(2, 3)
W22 = normal(2, 2)
W234 = normal(2, 3, 4)
W82 = normal(8, 2)
# phases with jumps larger than pi (far from the jump threshold, so finite
# differences do not cross it)
PHASE = np.array([0.1, 3.0, -2.9, 0.4, 6.0])
PHASE2 = np.array([[0.1, 2.5], [3.3, -2.0], [-2.6, 0.3]])


def _block2(a, b, c, d):
    return np.sum(np.block([[a, b], [c, d]]) ** 2 * W5)


def _block_promote(a, v):
    # a 1-d block beside a 2-d one (promoted to (1, n)); a used twice
    return np.sum(np.block([a, v]) ** 3) + np.sum(a)


def _block_3d(a, b):
    return np.sum(np.block([[[a, b]]]) * np.block([[[b, a]]]))


def _block_scalars(x):
    return np.sum(np.block([x, 2.0, x]) ** 2)


def _fill_diag(x, v):
    y = x * 2.0
    np.fill_diagonal(y, v)
    return np.sum(y ** 2 * W5[:3, :3]) + np.sum(x)


def _fill_diag_wrap(x, v):
    y = x.copy()
    np.fill_diagonal(y, v, wrap=True)      # v cycled along the wrapped diagonal
    return np.sum(y ** 3)


SPECS = [
    Spec("block", _block2, (normal(2, 3), normal(2, 2), normal(3, 3), normal(3, 2)),
         wrt=(0, 1, 2, 3), id="block-2x2"),
    Spec("block", _block_promote, (normal(1, 3), normal(2)), wrt=(0, 1), id="block-promote"),
    Spec("block", _block_3d, (normal(2, 1, 2), normal(2, 1, 3)), wrt=(0, 1), id="block-3d"),
    Spec("block", _block_scalars, (normal(3),), id="block-with-scalar"),
    Spec("unblock", lambda g: np.sum(rt.unblock(g, W23, W22, structure=(None, None))[0] ** 2
                                     * rt.unblock(g, W23, W22, structure=(None, None))[1][:, :1]),
         (normal(2, 5),)),
    Spec("bessel_i1", lambda x: np.sum(rt.bessel_i1(x) ** 2), (normal(3, 2) * 4,)),
    Spec(("np_i0", "bessel_i1"), lambda x: np.sum(np.i0(x) * x), (normal(2, 3) * 3,)),
    Spec(("np_i0",), lambda x: np.sum(np.i0(x) ** 2 + np.i0(2.0 * x)), (normal(4) * 8,),
         id="np_i0-large"),
    Spec("unwrap", lambda p: np.sum(np.unwrap(p) ** 2 * W5[0]), (PHASE,)),
    Spec("along_axis_rows", lambda x: np.sum(rt.along_axis_rows(x, axis=1) ** 2 * W5[0, :3]),
         (normal(2, 3, 4),)),
    Spec("along_axis_unrows", lambda g: np.sum(rt.along_axis_unrows(g, W234, axis=1) ** 3),
         (normal(8, 3),)),
    Spec("along_axis_assemble",
         lambda s: np.sum(rt.along_axis_assemble(s, W234, axis=1) ** 2 * W5[0, :2, None]),
         (normal(8, 2),)),
    Spec("along_axis_unassemble",
         lambda g: np.sum(rt.along_axis_unassemble(g, W82, W234, axis=1) ** 3),
         (normal(2, 2, 4),)),
    Spec("polyadd",
         lambda a, b: np.sum(np.polyadd(a, b) * W5[0, :4]) + np.sum(np.polyadd(b, a) ** 2),
         (normal(4), normal(2)), wrt=(0, 1)),
    Spec("polyadd", lambda a: np.sum(np.polyadd(a, 2.0) ** 2 + np.polyadd(a, a)), (normal(3),),
         id="polyadd-scalar-repeated"),
    Spec("polysub", lambda a, b: np.sum(np.polysub(a, b) ** 3), (normal(2), normal(4)),
         wrt=(0, 1)),
    Spec("poly_tail", lambda g: np.sum(rt.poly_tail(g, W22[0]) ** 3), (normal(5),)),
    Spec("poly_pad", lambda h: np.sum(rt.poly_pad(h, W5[0]) ** 2 * W5[1]), (normal(3),)),
    Spec("polyder", lambda a: np.sum(np.polyder(a) * W5[0, :3]) + np.sum(np.polyder(a, 2) ** 2),
         (normal(4),)),
    Spec("polyder_adjoint", lambda g: np.sum(rt.polyder_adjoint(g, W5[0], m=2) ** 2), (normal(3),)),
    Spec("polyint",
         lambda a: np.sum(np.polyint(a) * W5[0]) + np.sum(np.polyint(a, 2, k=[1.0, 2.0]) ** 2),
         (normal(4),)),
    Spec("polyint_adjoint",
         lambda g: np.sum(rt.polyint_adjoint(g, W23[0], m=2) ** 2), (normal(5),)),
    Spec("fill_diagonal_update", _fill_diag, (normal(3, 3), 1.5), wrt=(0, 1)),
    Spec("fill_diagonal_update", _fill_diag, (normal(3, 3), normal(2)), wrt=(0, 1),
         id="fill_diagonal-cycled"),
    Spec("fill_diagonal_update", _fill_diag_wrap, (normal(7, 3), normal(3)), wrt=(0, 1),
         id="fill_diagonal-wrap"),
    Spec("require_ndim", lambda x: np.sum(rt.require_ndim(x, 2) ** 2 * W23), (normal(2, 3),)),
    Spec("unwrap", lambda p: np.sum(np.unwrap(p, axis=0, period=4.0) * np.unwrap(p)),
         (PHASE2,), id="unwrap-axis-period"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_spec(spec):
    check_spec(spec)


def test_block_value_and_source():
    a, b, c, d = normal(2, 3), normal(2, 2), normal(3, 3), normal(3, 2)
    f = s2sgrad.value_and_grad(_block2, wrt=(0, 1, 2, 3))
    v, gs = f(a, b, c, d)
    assert np.allclose(v, _block2(a, b, c, d))
    full = 2 * np.block([[a, b], [c, d]]) * W5
    assert np.allclose(gs[0], full[:2, :3]) and np.allclose(gs[3], full[2:, 3:])
    src = s2sgrad.grad(_block2).source
    assert "np.block([[a, b], [c, d]])" in src


def test_block_of_named_list_and_refusal_of_runtime_list():
    def f(x):
        parts = [x, 2 * x]
        return np.sum(np.block(parts) ** 2)
    x = normal(3)
    assert np.allclose(s2sgrad.grad(f)(x), 10 * x)

    def g(x, n):
        parts = []
        for i in range(n):
            parts.append(x * i)
        return np.sum(np.block(parts))
    with pytest.raises(s2sgrad.S2SGradError, match="np.block"):
        s2sgrad.grad(g)(x, 3)


def test_i0_values_and_derivatives():
    sc = pytest.importorskip("scipy.special")
    x = np.array([-30.0, -2.0, -1e-6, 0.0, 1e-6, 0.5, 3.0, 40.0, 600.0])
    g = s2sgrad.grad(lambda x: np.sum(np.i0(x)))(x)
    assert np.allclose(g, sc.i1(x), rtol=1e-13, atol=0)
    h = s2sgrad.grad(lambda x: np.sum(s2sgrad.grad(lambda y: np.sum(np.i0(y)))(x)))(x)
    # I1' = I0 - I1 / x (1/2 at 0)
    assert np.allclose(h, sc.i0(x) - np.where(x == 0, 0.5, sc.i1(x) / np.where(x == 0, 1, x)),
                       rtol=1e-12)
    g32 = s2sgrad.grad(lambda x: np.sum(np.i0(x)))(x[:7].astype(np.float32))
    assert g32.dtype == np.float32 and np.allclose(g32, sc.i1(x[:7]), rtol=1e-5)


def test_unwrap_value_and_derivative_one():
    v, pull = s2sgrad.vjp(lambda p: np.unwrap(p))(PHASE)
    np.testing.assert_array_equal(v, np.unwrap(PHASE))
    np.testing.assert_array_equal(pull(np.arange(5.0)), np.arange(5.0))


def _mgrid_loss(x):
    a, b = np.mgrid[0:3, 0:3]
    return np.sum(x * a + x * b ** 2)


def _ogrid_loss(x):
    a, b = np.ogrid[0:3, 0:1:3j]
    return np.sum(x * a + x * b) + np.sum(x[0] * np.mgrid[-1:1:3j])


def test_mgrid_ogrid_are_data():
    x = normal(3, 3)
    for fn in (_mgrid_loss, _ogrid_loss):
        v, g = s2sgrad.value_and_grad(fn)(x)
        np.testing.assert_allclose(v, fn(x), rtol=1e-13)
        s2sgrad.check_grads(fn, (x,))
    assert "np.ogrid[0:3, 0:1:3j]" in s2sgrad.grad(_ogrid_loss).source


def test_mgrid_with_an_integer_argument_bound():
    def f(x, n):
        return np.sum(x * np.mgrid[0:n])
    x = normal(3)
    np.testing.assert_allclose(s2sgrad.grad(f)(x, 3), np.arange(3.0))


def _gradient_2d(x):
    gy, gx = np.gradient(x)
    return np.sum(gy * gx) + np.sum(gx ** 2)


def _gradient_3d(x):
    a, b, c = np.gradient(x, 0.5, edge_order=2)
    return np.sum(a * b * c)


def test_gradient_without_axis_unpacked():
    x = normal(4, 5)
    v, _ = s2sgrad.value_and_grad(_gradient_2d)(x)
    np.testing.assert_allclose(v, _gradient_2d(x), rtol=1e-13)
    s2sgrad.check_grads(_gradient_2d, (x,))
    s2sgrad.check_grads(_gradient_3d, (normal(3, 4, 5),))
    with pytest.raises(ValueError, match="2-d array"):
        s2sgrad.grad(_gradient_2d)(normal(3, 4, 5))


# ---------------------------------------------------------------- sorted(..., key=...)


def _sorted_neg(x):
    xs = [x[0], x[1], x[2], x[3]]
    return sum(v * i for i, v in enumerate(sorted(xs, key=lambda v: -v)))


def _sorted_rows(x):
    rows = [x[0], x[1], x[2]]
    s = sorted(rows, key=lambda r: np.sum(r ** 2), reverse=True)
    return np.sum(s[0] * 3.0 + s[1] * 2.0 + s[2])


def _sorted_plain(x):
    return sum((i + 1) * v for i, v in enumerate(sorted([x[1], x[0], x[2] * 2.0])))


def _row_energy(r):
    return np.sum(r ** 2)


def _sorted_global_key_ties(x):
    # equal keys keep their order (stable), also with reverse=True
    rows = [x[0], -x[0], x[1]]
    a = sorted(rows, key=_row_energy)
    b = sorted(rows, key=_row_energy, reverse=True)
    return np.sum(a[0] * 1.0 + a[1] * 2.0 + a[2] * 3.0) + np.sum(b[0] * 5.0 + b[1] * 7.0)


def _sorted_dict_keys(x):
    d = {"b": x[0], "ccc": x[1], "dd": x[2]}
    ks = sorted(d, key=len, reverse=True)
    return d[ks[0]] * 2 + d[ks[1]] * 3


def _sorted_array_keys(x):
    rows = [x[0], x[1]]
    return np.sum(sorted(rows, key=lambda r: r * 2)[0])


def test_sorted_with_key():
    x, X = normal(4), normal(3, 4)
    for fn, a in ((_sorted_neg, x), (_sorted_rows, X), (_sorted_plain, x),
                  (_sorted_global_key_ties, X), (_sorted_dict_keys, x)):
        v, _ = s2sgrad.value_and_grad(fn)(a)
        np.testing.assert_allclose(v, fn(a), rtol=1e-13, err_msg=fn.__name__)
        s2sgrad.check_grads(fn, (a,))
    with pytest.raises(ValueError, match="sorted"):
        s2sgrad.grad(_sorted_array_keys)(X)


def _quad_loss(a):
    return scipy.integrate.quad(_decay_at, 0.0, 1.0, args=(a,))[0]


def _decay_at(t, a):
    return np.exp(-a * t)


def _quad_vec_loss(a):
    return scipy.integrate.quad_vec(lambda t: np.exp(-a * t), 0.0, 1.0)[0]


def test_refusals_with_advice():
    if scipy is None:
        pytest.skip("SciPy is not installed")
    with pytest.raises(s2sgrad.S2SGradError, match="scipy.integrate.quad_vec.*RK4"):
        s2sgrad.grad(_quad_vec_loss)(0.5)


def test_quad_of_the_users_function():
    # differentiated since session 22 (it was refused with the advice above):
    # int_0^1 e^{-a t} dt = (1 - e^{-a}) / a
    if scipy is None:
        pytest.skip("SciPy is not installed")
    a = 0.5
    value, g = s2sgrad.value_and_grad(_quad_loss)(a)
    np.testing.assert_allclose(value, (1 - np.exp(-a)) / a, rtol=1e-12)
    np.testing.assert_allclose(g, (np.exp(-a) * (a + 1) - 1) / a ** 2, rtol=1e-8)


def _gradient_of_comprehension(x):
    # the comprehension's own assignments (lowered first) keep the hint
    gy, gx = np.gradient(np.stack([r * 2.0 for r in x]))
    return np.sum(gy * gx)


def test_gradient_unpacked_around_a_comprehension():
    x = normal(3, 4)
    np.testing.assert_allclose(s2sgrad.value_and_grad(_gradient_of_comprehension)(x)[0],
                               _gradient_of_comprehension(x), rtol=1e-13)
    s2sgrad.check_grads(_gradient_of_comprehension, (x,))


def test_fill_diagonal_value_and_caller_array_unchanged():
    x = normal(4, 4)
    x0 = x.copy()
    v, _ = s2sgrad.value_and_grad(_fill_diag_wrap, wrt=(0, 1))(x, normal(3))
    np.testing.assert_array_equal(x, x0)
