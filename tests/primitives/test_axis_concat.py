"""Specs for ``np.r_[...]`` / ``np.c_[...]`` (concatenation of items converted
by ``r_item`` / ``c_item``) and the index objects ``np.s_`` /
``np.index_exp``: values against NumPy, gradients against finite
differences, in both modes."""
import numpy as np
import pytest

import s2sgrad

from .spec import Spec, check_spec, normal

C2 = normal(2)
W7 = normal(7)
W32 = normal(3, 2)
W24 = normal(2, 4)

SPECS = [
    Spec("r_item", lambda x: np.sum(np.r_[x, C2] ** 2 * W7[:5]), (normal(3),)),
    Spec("r_item", lambda x, y: np.sum(np.r_[x, y, 1.5, 0:2] * W7), (normal(3), 0.7),
         wrt=(0, 1), id="r_-scalars-and-range", float32=False),
    Spec("r_item", lambda x: np.sum(np.r_["1", x, 2 * x] ** 2 * W24), (normal(2, 2),),
         id="r_-axis-directive"),
    Spec("c_item", lambda x: np.sum(np.c_[x, 2 * x] ** 3 * W32), (normal(3),)),
    Spec("c_item", lambda x: np.sum(np.c_[x, np.ones((2, 2)), x[:, 0]] ** 2 * W24),
         (normal(2, 1),), id="c_-2d"),
]


@pytest.mark.parametrize("spec", SPECS, ids=[s.id for s in SPECS])
def test_spec(spec):
    check_spec(spec)


@pytest.mark.parametrize("spec", SPECS, ids=[s.id for s in SPECS])
def test_value_is_numpys(spec):
    v, _ = s2sgrad.value_and_grad(spec.fn, wrt=spec.wrt)(*spec.args)
    np.testing.assert_allclose(v, spec.fn(*spec.args), rtol=1e-12)
    s2sgrad.check_grads(spec.fn, spec.args, wrt=spec.wrt, modes=("rev", "fwd"))


def test_r_of_a_constant_has_the_right_gradient_not_zero():
    # np.r_[x, c] was a constant holding the object np.r_: zero gradient
    c = np.array([5.0, 6.0])
    g = s2sgrad.grad(lambda x: np.sum(np.r_[x, c] ** 2))(np.array([1.0, -2.0]))
    np.testing.assert_allclose(g, [2.0, -4.0])


def _s(x):
    return np.sum(x[np.s_[1:3]] ** 2) + np.sum(x[np.index_exp[::2]]) + \
        np.sum(x[np.s_[::-1]] * np.arange(4.0))


def test_s_and_index_exp_index_like_the_slices_they_hold():
    x = normal(4)
    v, g = s2sgrad.value_and_grad(_s)(x)
    assert v == pytest.approx(_s(x))
    s2sgrad.check_grads(_s, (x,), modes=("rev", "fwd"))


def test_unsupported_forms_are_refused_with_the_line():
    def f(x, n):
        return np.sum(np.r_[0:n] * x)

    def g(x):
        return np.sum(np.r_["r", x])

    with pytest.raises(s2sgrad.S2SGradError, match=r"test_axis_concat.py:\d+"):
        s2sgrad.grad(f)(np.ones(3), 3.0)
    with pytest.raises(s2sgrad.S2SGradError, match="directive"):
        s2sgrad.grad(g)(np.ones(3))
