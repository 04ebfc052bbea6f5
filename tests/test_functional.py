"""np.vectorize, np.apply_along_axis and np.piecewise of the user's function
(s2sgrad/lower/functional.py): values against NumPy, gradients against
finite differences, float32, broadcasting, Python scalars, refusals."""
import numpy as np
import pytest

import s2sgrad

RNG = np.random.default_rng(7)
X = RNG.normal(size=(3, 4))
Y = RNG.normal(size=4)


def _vec_lambda(x):
    return np.sum(np.vectorize(lambda v: v ** 2 + 1.0)(x))


def _elem(a, b):
    if a > b:
        return a * b
    return a - 2.0 * b


def _vec_branch(x, y):
    # a Python branch per element; y broadcast against x; x used twice
    return np.sum(np.vectorize(_elem)(x, y) ** 2) + np.sum(x)


_VF = np.vectorize(_elem)


def _vec_global(x, y):
    return np.sum(_VF(x, y) * x)


def _vec_scalar(x):
    # a Python scalar argument broadcast against an array
    return np.sum(np.vectorize(_elem)(x, 0.25))


def _along_scalar(x):
    return np.sum(np.apply_along_axis(lambda r: np.sum(r ** 2) * r[0], 1, x))


def _along_vector(x):
    return np.sum(np.apply_along_axis(lambda r, w: np.cumsum(r) * w, 0, x, 2.0) ** 2)


def _along_3d(x):
    return np.sum(np.apply_along_axis(lambda r: np.outer(r, r[:2]), -1, x) * 1.5)


def _piece(x):
    return np.sum(np.piecewise(x, [x < 0, x >= 0], [lambda v: -v, lambda v: v ** 2]))


def _piece_otherwise(x):
    return np.sum(np.piecewise(x, [x < -0.5, x > 0.5],
                               [lambda v: v * 3.0, 7.0, lambda v: np.sin(v)]) ** 2)


def _piece_sees_selection(x):
    # f sees only the selected elements (np.sum of them), as in NumPy
    return np.sum(np.piecewise(x, [x > 0], [lambda v: v / np.sum(v), lambda v: v]))


CASES = [(_vec_lambda, (X,)), (_vec_branch, (X, Y)), (_vec_global, (X, Y)), (_vec_scalar, (X,)),
         (_along_scalar, (X,)), (_along_vector, (X,)), (_along_3d, (RNG.normal(size=(2, 3, 4)),)),
         (_piece, (X,)), (_piece_otherwise, (X,)), (_piece_sees_selection, (X,))]


@pytest.mark.parametrize("fn, args", CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_value_and_gradient(fn, args):
    wrt = tuple(range(len(args)))
    v, _ = s2sgrad.value_and_grad(fn, wrt=wrt)(*args)
    np.testing.assert_allclose(v, fn(*args), rtol=1e-12)
    s2sgrad.check_grads(fn, args, wrt=wrt)


@pytest.mark.parametrize("fn, args", CASES[:7], ids=lambda c: getattr(c, "__name__", ""))
def test_float32(fn, args):
    args32 = tuple(a.astype(np.float32) for a in args)
    g = s2sgrad.grad(fn)(*args32)
    assert g.dtype == np.float32 and g.shape == args32[0].shape
    np.testing.assert_allclose(g, s2sgrad.grad(fn)(*args), rtol=1e-3, atol=1e-4)


def test_loop_is_in_the_generated_code():
    src = s2sgrad.grad(_along_scalar).source
    assert "along_axis_rows(x, axis=1)" in src and "for _along" in src


def _vec_otypes(x):
    return np.sum(np.vectorize(lambda v: v * 2, otypes=[float])(x))


def _along_computed_axis(x, k):
    return np.sum(np.apply_along_axis(np.sum, int(np.sum(x) > 100) + k, x))


def test_refusals():
    with pytest.raises(s2sgrad.S2SGradError, match="otypes"):
        s2sgrad.grad(_vec_otypes)(X)
    with pytest.raises(s2sgrad.S2SGradError):
        s2sgrad.grad(_along_computed_axis)(X, 0)


# ---------------------------------------------------------------- np.unstack, unpacked


def _unstack_axis1(x):
    a, b, c = np.unstack(x, axis=1)
    return np.sum(a * b ** 2 + c)


def _unstack_write_through(x):
    # NumPy's pieces are views: the write through a reaches x
    a, b = np.unstack(x)
    a[0] = 5.0
    return np.sum(x ** 2) + np.sum(b)


def _unstack_not_unpacked(x):
    return len(np.unstack(x)) * np.sum(x)      # (np.unstack(x)[0] works: corpus11)


@pytest.mark.skipif(not hasattr(np, "unstack"), reason="np.unstack needs NumPy >= 2.1")
def test_unstack_unpacked():
    for fn in (_unstack_axis1, _unstack_write_through):
        v, _ = s2sgrad.value_and_grad(fn)(X[:2, :3].copy())
        np.testing.assert_allclose(v, fn(X[:2, :3].copy()), rtol=1e-13)
        s2sgrad.check_grads(fn, (X[:2, :3].copy(),))
    with pytest.raises(ValueError, match="expected 3"):
        s2sgrad.grad(_unstack_axis1)(np.ones((2, 4)))
    with pytest.raises(s2sgrad.S2SGradError, match="unpack"):
        s2sgrad.grad(_unstack_not_unpacked)(X)
