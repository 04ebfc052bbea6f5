"""Specs for the shape operations (transpose, reshape, squeeze, concatenate,
stack, split, astype, ...), their ndarray methods and the ``.T`` attribute."""
import numpy as np
import pytest

import s2sgrad

from .spec import Spec, check_spec, normal
from .test_runtime_prims import check_hvp

W234 = normal(2, 3, 4)
W342 = normal(3, 4, 2)
W43 = normal(4, 3)
W34 = normal(3, 4)
W12 = normal(12)
W5 = normal(5)
INTS = np.arange(3)

SPECS = [
    # transpose / .T / swapaxes / moveaxis
    Spec("transpose", lambda x: np.sum(np.transpose(x) * W43), (normal(3, 4),)),
    Spec("matrix_transpose", lambda x: np.sum(x.mT ** 2 * W43), (normal(2, 3, 4),)),
    Spec("matrix_transpose", lambda x: np.sum(np.matrix_transpose(x) * W43) +
         np.sum(np.linalg.matrix_transpose(x) ** 3), (normal(3, 4),), id="matrix_transpose-fns"),
    Spec("transpose", lambda x: np.sum(np.transpose(x, (1, 2, 0)) ** 2 * W342), (normal(2, 3, 4),),
         id="transpose-axes"),
    Spec("transpose", lambda x: np.sum(np.transpose(x, axes=(-2, -1, 0)) ** 2 * W342),
         (normal(2, 3, 4),), id="transpose-negative-axes"),
    Spec("transpose", lambda x: np.sum(x.T * W43), (normal(3, 4),), id="T-attribute"),
    Spec("transpose", lambda x: np.sum(x.T ** 3), (normal(2, 3, 4),), id="T-3d"),
    Spec("transpose", lambda x: np.sum(x.transpose(1, 2, 0) ** 2 * W342), (normal(2, 3, 4),),
         id="transpose-method-args"),
    Spec("transpose", lambda x: np.sum(x.transpose((1, 2, 0)) * W342), (normal(2, 3, 4),),
         id="transpose-method-tuple"),
    Spec("transpose", lambda x: np.sum(x.transpose() * W43), (normal(3, 4),),
         id="transpose-method-noargs"),
    Spec("transpose", lambda x: np.sum((x.T + W34.T) ** 2), (normal(3, 1),),
         id="transpose-broadcast"),
    Spec("swapaxes", lambda x: np.sum(np.swapaxes(x, 0, 2) ** 2 * W234.T), (normal(2, 3, 4),)),
    Spec("swapaxes", lambda x: np.sum(x.swapaxes(-1, 1) ** 2 * W234), (normal(2, 4, 3),),
         id="swapaxes-method"),
    Spec("moveaxis", lambda x: np.sum(np.moveaxis(x, 0, -1) ** 2 * W342), (normal(2, 3, 4),)),
    Spec("moveaxis", lambda x: np.sum(np.moveaxis(x, (0, 1), (2, 0)) ** 2 * W43.T[..., None]),
         (normal(2, 3, 4),), id="moveaxis-tuple"),
    # reshape / ravel / flatten / squeeze / expand_dims / broadcast_to
    Spec("reshape", lambda x: np.sum(np.reshape(x, (4, 3)) ** 2 * W43), (normal(3, 4),)),
    Spec("reshape", lambda x: np.sum(np.reshape(x, (-1, 3)) ** 2 * W43), (normal(12),),
         id="reshape-minus1"),
    Spec("reshape", lambda x: np.sum(x.reshape(4, 3) * W43), (normal(2, 6),),
         id="reshape-method-args"),
    Spec("reshape", lambda x: np.sum(x.reshape((4, 3)) ** 2 * W43), (normal(2, 6),),
         id="reshape-method-tuple"),
    Spec("reshape", lambda x: np.sum(x.reshape(-1) * W12), (normal(3, 4),),
         id="reshape-method-flat"),
    Spec("reshape", lambda x: np.sum(x.reshape(x.shape[0], -1) ** 2), (normal(2, 3, 2),),
         id="reshape-computed-shape"),
    Spec("reshape", lambda x: np.sum(np.reshape(x, (4, 3), order="F") * W43), (normal(3, 4),),
         id="reshape-order-F"),
    Spec("ravel", lambda x: np.sum(np.ravel(x) * W12), (normal(3, 4),)),
    Spec("ravel", lambda x: np.sum(x.ravel() ** 2 * W12), (normal(3, 4),), id="ravel-method"),
    Spec("ravel", lambda x: np.sum(x.flatten() ** 2 * W12), (normal(3, 4),), id="flatten-method"),
    Spec("ravel", lambda x: np.sum(x.ravel("F") * W12), (normal(3, 4),), id="ravel-order-F"),
    Spec("squeeze", lambda x: np.sum(np.squeeze(x) ** 2 * W34), (normal(3, 1, 4),)),
    Spec("squeeze", lambda x: np.sum(np.squeeze(x, axis=-1) ** 2 * W34), (normal(3, 4, 1),),
         id="squeeze-axis"),
    Spec("squeeze", lambda x: np.sum(x.squeeze(0) * W34), (normal(1, 3, 4),),
         id="squeeze-method"),
    Spec("expand_dims", lambda x: np.sum(np.expand_dims(x, 1) * W34[:, None, :]), (normal(3, 4),)),
    Spec("expand_dims", lambda x: np.sum(np.expand_dims(x, -1) ** 2 * W34[..., None]),
         (normal(3, 4),), id="expand_dims-negative"),
    Spec("expand_dims", lambda x: np.sum(np.expand_dims(x, (0, 2)) ** 2), (normal(3, 4),),
         id="expand_dims-tuple"),
    Spec("expand_dims", lambda x: np.sum(np.expand_dims(x, [0, -1]) ** 3), (normal(3, 4),),
         id="expand_dims-list"),
    Spec("broadcast_to", lambda x: np.sum(np.broadcast_to(x, (3, 4)) ** 2 * W34), (normal(4),)),
    Spec("broadcast_to", lambda x: np.sum(np.broadcast_to(x, (2, 3, 4)) * W234), (normal(3, 1),),
         id="broadcast_to-column"),
    # concatenate / stack / hstack / vstack / split
    Spec("concatenate", lambda x, y: np.sum(np.concatenate([x, y]) ** 2 * W5),
         (normal(2), normal(3)), wrt=(0, 1)),
    Spec("concatenate", lambda x, y: np.sum(np.concatenate((x, y), 1) ** 2),
         (normal(3, 1), normal(3, 4)), wrt=(0, 1), id="concatenate-axis1-positional"),
    Spec("concatenate", lambda x, y: np.sum(np.concatenate([x, y, x], axis=-1) ** 2),
         (normal(2, 3, 1), normal(2, 3, 2)), wrt=(0, 1), id="concatenate-negative"),
    Spec("concatenate", lambda x, y: np.sum(np.concatenate([x, y], axis=None) ** 2 * W12),
         (normal(2, 3), normal(3, 2)), wrt=(0, 1), id="concatenate-none"),
    Spec("concatenate", lambda x: np.sum(np.concatenate([x, W34], axis=0) ** 2),
         (normal(2, 4),), id="concatenate-constant-operand"),
    Spec("concatenate", lambda x: np.sum(np.concatenate([x ** 2]) * W5), (normal(5),),
         id="concatenate-single"),
    Spec("stack", lambda x, y: np.sum(np.stack([x, y]) ** 2 * W34[:2]),
         (normal(4), normal(4)), wrt=(0, 1)),
    Spec("stack", lambda x, y: np.sum(np.stack([x, y, x], axis=1) ** 2),
         (normal(2, 4), normal(2, 4)), wrt=(0, 1), id="stack-axis1"),
    Spec("stack", lambda x, y: np.sum(np.stack((x, y), -1) ** 2 * W342[..., :2]),
         (normal(3, 4), normal(3, 4)), wrt=(0, 1), id="stack-negative-positional"),
    Spec("hstack", lambda x, y: np.sum(np.hstack([x, y]) ** 2 * W5), (normal(2), normal(3)),
         wrt=(0, 1)),
    Spec("hstack", lambda x, y: np.sum(np.hstack([x, y]) ** 2), (normal(3, 1), normal(3, 2)),
         wrt=(0, 1), id="hstack-2d"),
    Spec("hstack", lambda x: np.sum(np.hstack([np.sum(x), x]) ** 2 * W5), (normal(4),),
         id="hstack-scalar"),
    Spec("vstack", lambda x, y: np.sum(np.vstack([x, y]) ** 2 * W34), (normal(4), normal(2, 4)),
         wrt=(0, 1)),
    Spec("vstack", lambda x: np.sum(np.vstack((x, x * 2)) ** 3), (normal(2, 3),),
         id="vstack-2d"),
    Spec("split", lambda x: _split_loss(x), (normal(6, 2),)),
    Spec("split", lambda x: np.sum(np.split(x, (1, 3), axis=1)[2] ** 2), (normal(2, 5),),
         id="split-indices-unused-pieces"),
    Spec("split", lambda x: np.sum(np.split(x, 2, axis=-1)[0] * np.split(x, 2, axis=-1)[1]),
         (normal(3, 4),), id="split-negative-axis"),
    # astype (float targets pass the derivative, integer targets block it)
    Spec("astype", lambda x: np.sum(x.astype(np.float64) ** 2), (normal(3),)),
    Spec("astype", lambda x: np.sum(x.astype("float64") * x.astype(int)), (normal(3) * 5,),
         id="astype-int"),
    Spec("astype", lambda x: np.sum(x.astype(float) ** 2), (normal(3),), id="astype-builtin"),
    Spec("astype", lambda x: np.sum(x.astype(np.float64, copy=False) ** 2), (normal(3),),
         id="astype-copy-false"),
    Spec("astype", lambda x, like: np.sum(x.astype(like.dtype) ** 2), (normal(3), normal(3)),
         id="astype-runtime-float"),
    Spec("astype", lambda x, like: np.sum(x.astype(like.dtype) * x), (normal(3) * 5, INTS),
         id="astype-runtime-int", float32=False),
]

# the ndarray clip method (np.clip's primitive is registered with the elementwise ones)
CLIP_METHOD_SPECS = [
    Spec("clip", lambda x: np.sum(x.clip(-0.5, 0.5) ** 2), (normal(6) * 0.3 + 0.05,),
         id="clip-method"),
    Spec("clip", lambda x: np.sum(x.clip(max=0.5) ** 2), (normal(6) * 0.3 + 0.05,),
         id="clip-method-keyword"),
]

if hasattr(np, "astype"):
    SPECS.append(Spec("astype", lambda x: np.sum(np.astype(x, np.float64) ** 2), (normal(3),),
                      id="np-astype"))


def _split_loss(x):
    a, b, c = np.split(x, 3)
    return np.sum(a * b) + np.sum(c ** 2) + np.sum(np.split(x, (2, 5))[1] ** 2)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_shape_op(spec):
    check_spec(spec)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_shape_op_hvp(spec):
    check_hvp(spec)


@pytest.mark.parametrize("spec", CLIP_METHOD_SPECS, ids=lambda s: s.id)
def test_clip_method(spec):
    check_spec(spec)
    check_hvp(spec)


# ---------------------------------------------------------------- exact values and printing


def _src(fn):
    return s2sgrad.grad(fn).source


def test_T_prints_as_attribute():
    def f(x):
        return np.sum(x.T * W43)
    assert "x.T" in _src(f)


def test_methods_print_as_methods():
    def f(x):
        y = x.reshape(4, 3).transpose(1, 0).swapaxes(0, 1)
        return np.sum(y.ravel() * W12) + np.sum(x.flatten()) + np.sum(x.squeeze())
    src = _src(f)
    for piece in ("x.reshape((4, 3))", ".transpose((1, 0))", ".swapaxes(0, 1)", ".ravel()",
                  "x.flatten()", "x.squeeze()"):
        assert piece in src, (piece, src)


def test_reshape_prints_positionally():
    def f(x):
        return np.sum(np.reshape(x, (2, -1)) ** 2)
    src = _src(f)
    assert "np.reshape(x, (2, -1))" in src
    assert "np.reshape(_" in src or "np.shape(x)" in src


def test_stack_adjoint_is_indexing():
    def f(x, y):
        return np.sum(np.stack([x, y], axis=1) ** 2)
    src = s2sgrad.grad(f, wrt=(0, 1)).source
    assert "[:, 0]" in src and "[:, 1]" in src, src


def test_astype_to_int_has_zero_gradient():
    g = s2sgrad.grad(lambda x: np.sum(x.astype(int) * 1.0))(np.array([0.4, 1.6]))
    np.testing.assert_array_equal(g, [0.0, 0.0])


def test_astype_float32_gradient_dtype():
    g = s2sgrad.grad(lambda x: np.sum(x.astype(np.float64) ** 2))(np.ones(3, np.float32))
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, [2.0, 2.0, 2.0])


def test_astype_runtime_dtype_decides_at_run_time():
    def f(x, like):
        return np.sum(x.astype(like.dtype) * 3.0)
    g = s2sgrad.grad(f)
    x = np.array([0.5, 1.5])
    np.testing.assert_array_equal(g(x, np.zeros(2)), [3.0, 3.0])
    np.testing.assert_array_equal(g(x, np.zeros(2, np.float32)), [3.0, 3.0])
    np.testing.assert_array_equal(g(x, np.zeros(2, int)), [0.0, 0.0])
    np.testing.assert_array_equal(g(x, np.zeros(2, bool)), [0.0, 0.0])
    assert "cast_derivative" in g.source


def test_split_unused_piece_gets_zeros():
    def f(x):
        a, b = np.split(x, 2)
        return np.sum(b * 2.0)
    np.testing.assert_array_equal(s2sgrad.grad(f)(np.arange(4.0)), [0.0, 0.0, 2.0, 2.0])


def test_split_needs_constant_sections():
    def f(x, n):
        a, b = np.split(x, n)
        return np.sum(a)
    with pytest.raises(s2sgrad.S2SGradError, match="constant"):
        s2sgrad.grad(f)(np.arange(4.0), np.int64(2))


def test_transpose_with_axes_computed_at_run_time():
    def f(x, axes):
        return np.sum(np.transpose(x, axes) ** 2 * W342)
    x = normal(2, 3, 4)
    s2sgrad.check_grads(f, (x, np.array([1, 2, 0])))
    s2sgrad.check_grads(f, (x, np.array([-2, -1, 0])))
    assert "np.argsort" in s2sgrad.grad(f).source


def test_split_with_list_literal():
    def f(x):
        a, b, c = np.split(x, [1, 3])
        return np.sum(a * 2.0) + np.sum(c ** 2)
    s2sgrad.check_grads(f, (normal(5),))


def test_transpose_with_list_literal():
    def f(x):
        return np.sum(np.transpose(x, [1, 2, 0]) * W342)
    s2sgrad.check_grads(f, (normal(2, 3, 4),))


def _pieces(x):
    return np.split(x, 2, axis=1)


def test_split_returns_a_list_as_numpy_does():
    # NumPy's np.split gives a list; so do the value, the vjp's output and the tangent
    x = normal(2, 4)
    out, pullback = s2sgrad.vjp(_pieces)(x)
    assert isinstance(out, list) and isinstance(_pieces(x), list)
    g = pullback([np.ones((2, 2)), 2 * np.ones((2, 2))])
    np.testing.assert_array_equal(g, np.concatenate([np.ones((2, 2)), 2 * np.ones((2, 2))], 1))
    _, dot = s2sgrad.jvp(_pieces)((x,), (x,))
    assert isinstance(dot, list)
