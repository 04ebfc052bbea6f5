"""Refusals lifted in session 19 (cov6): scipy.linalg.logm (Frechet derivative
by the block-matrix identity), np.multiply.at / maximum.at / minimum.at,
complex np.vdot and np.cov; explained refusals of schur, hessenberg, funm.

Every spec is checked by the shared harness (central finite differences in
float64, float32 dtypes, forward mode and the dot-product identity in
test_jvp_identity.py); here also Hessian-vector products, values against
NumPy/SciPy, and the conventions finite differences cannot see (ties).
"""
import numpy as np
import pytest

sl = pytest.importorskip("scipy.linalg")

import s2sgrad  # noqa: E402
import s2sgrad.runtime as rt  # noqa: E402
from s2sgrad.errors import S2SGradError  # noqa: E402
from s2sgrad.primitives import core  # noqa: E402

from .spec import RNG, Spec, check_spec, normal  # noqa: E402
from .test_runtime_prims import check_hvp  # noqa: E402

core.load_optional_rules()

W3 = normal(3, 3)
W34 = normal(3, 4)
C34 = normal(3, 4) + 1j * normal(3, 4)
C33 = normal(3, 3) + 1j * normal(3, 3)
W233 = normal(2, 3, 3)


def well(n):
    """A well-conditioned matrix with eigenvalues away from the negative axis."""
    return normal(n, n) * 0.3 + 2.0 * np.eye(n)


def cnormal(*shape):
    return normal(*shape) + 1j * normal(*shape)


NEG = np.array([[-2.0, 0.3, 0.1], [0.1, 1.5, -0.2], [0.05, 0.2, 1.1]])   # a negative eigenvalue


# ---------------------------------------------------------------- functions


def _logm_w(a):
    return np.sum(np.real(sl.logm(a)) * W3)


def _logm_sin(a):
    return np.sum(np.sin(np.real(sl.logm(a))))


def _logm_complex(a):
    return np.real(np.sum(sl.logm(a) * C33))


def _logm_reused(a):
    # a used twice: logm(a) and a itself
    return np.sum(np.real(sl.logm(a @ a.T + np.eye(3))) * a)


def _mul_at(x, v):
    y = x * 1.0
    np.multiply.at(y, [0, 0, 2, 4], v)
    return np.sum(y * np.arange(1.0, 6.0))


def _mul_at_2d(x, v):
    y = x.copy()
    np.multiply.at(y, [1, 1], v)           # v of shape (4,) broadcast to the two rows
    return np.sum(np.sin(y))


def _mul_at_reused(x):
    y = x.copy()
    np.multiply.at(y, [0, 0, 1], x[2:5])   # x is both the target and the factors
    return np.sum(y ** 2)


def _mul_at_scalar(x):
    y = x.copy()
    np.multiply.at(y, (slice(None), [0, 2, 2]), 1.5)   # a Python number
    return np.sum(y * W34)


def _max_at(x, v):
    y = x.copy()
    np.maximum.at(y, [0, 0, 2, 4], v)
    return np.sum(y * np.arange(1.0, 6.0))


def _min_at(x, v):
    y = x.copy()
    np.minimum.at(y, [1, 3, 3, 1], v)
    return np.sum(np.sin(y))


def _min_at_2d(x, v):
    y = x.copy()
    np.minimum.at(y, (slice(None), [0, 0]), v)         # v (3, 1) broadcast to (3, 2)
    return np.sum(y * W34)


def _vdot(a, b):
    return np.real(np.vdot(a, b) * (0.3 - 0.8j))


def _vdot_abs(a):
    return np.abs(np.vdot(a, a * a))


def _cov(a):
    return np.real(np.sum(np.cov(a) * W3))


def _cov_y(a, b):
    return np.real(np.sum(np.abs(np.cov(a, b, rowvar=False, ddof=0)) ** 2))


def _cov_weights(a):
    return np.real(np.sum(np.cov(a, aweights=np.array([1.0, 2.0, 0.5, 1.5])) * W3))


def _corrcoef(a):
    return np.real(np.sum(np.corrcoef(a) * W3))


def _grad_nd(f):
    g = np.gradient(f)
    return np.sum(g[0] ** 2) + np.sum(np.sin(g[1]) * W34)


def _grad_nd_spacing(f):
    g = np.gradient(f, 0.5, 2.0, edge_order=2)       # one spacing per axis
    return np.sum(g[0] * W34) + np.sum(g[-1] ** 3)


XS3 = np.array([0.0, 0.4, 1.1])                       # coordinates along axis 0


def _grad_nd_coords(f):
    g = np.gradient(f, XS3, 1.5)                      # coordinates, a scalar
    return np.sum(g[0] ** 2 * W34) + np.sum(g[1])


def _grad_3d(f):
    g = np.gradient(f, 0.3)                           # one spacing for every axis
    return np.sum(g[0] * g[2]) + np.sum(g[1] ** 2)


def _grad_1d_item(f):
    g = np.gradient(f, edge_order=2)                  # 1-d: NumPy's one array
    return g[1] * g[-1] + g[0]


def _grad_stacked(f):
    return np.sum(np.stack(np.gradient(f, 0.5, XS4, edge_order=2)) * W234)


def _grad_array(f):
    return np.sum(np.sin(np.array(np.gradient(f))))


XS4 = np.array([0.0, 0.3, 0.5, 1.2])
W234 = normal(2, 3, 4)
X5 = normal(5)
X5Z = np.array([0.0, 1.3, -0.7, 2.0, 0.4])           # x[0] = 0: a zero in a group
V4 = normal(4)
V4Z = np.array([0.8, 0.0, -1.1, 0.5])                 # a zero factor
V4ZZ = np.array([0.0, 0.7, -1.1, 0.5])                # with X5Z: two zeros in group 0
D5 = np.array([0.3, 2.0, -1.0, 0.5, 1.7])
DV4 = np.array([1.1, -0.4, 0.6, 0.1])                 # no ties with D5

SPECS = [
    Spec("logm", _logm_w, (well(3),), id="logm"),
    Spec("logm", _logm_sin, (well(3),), id="logm-sin"),
    Spec("logm", _logm_w, (NEG,), float32=False, id="logm-negative-eigenvalue"),
    Spec("logm", _logm_complex, (well(3) + 0.2j * normal(3, 3),), float32=False,
         id="logm-complex"),
    Spec("logm", _logm_reused, (normal(3, 3),), float32=False, id="logm-reused"),
    Spec("logm", lambda a: np.sum(np.real(sl.logm(a)) * W233),
         (np.stack([well(3), well(3)]),), float32=False, id="logm-stack"),
    Spec("matfun_domain", lambda a: np.sum(np.sin(rt.matfun_domain(a))), (well(3),)),
    Spec(("sqrtm", "sqrtm_checked"), lambda a: np.sum(np.real(sl.sqrtm(a)) * W3), (NEG,),
         float32=False, id="sqrtm-negative-eigenvalue"),
    Spec("sqrtm_checked", lambda a, s: np.sum(np.sin(rt.sqrtm_checked(a, s))),
         (well(3), normal(3, 3)), wrt=1),
    Spec("ufunc_at", _mul_at, (X5, V4), wrt=(0, 1), id="multiply.at"),
    Spec("ufunc_at", _mul_at, (X5Z, V4Z), wrt=(0, 1), id="multiply.at-zeros"),
    Spec("ufunc_at", _mul_at, (X5Z, V4ZZ), wrt=(0, 1), id="multiply.at-two-zeros"),
    Spec("ufunc_at", _mul_at_2d, (normal(3, 4), normal(4)), wrt=(0, 1), id="multiply.at-2d"),
    Spec("ufunc_at", _mul_at_reused, (X5,), id="multiply.at-reused"),
    Spec("ufunc_at", _mul_at_scalar, (normal(3, 4),), id="multiply.at-scalar"),
    Spec("ufunc_at", _max_at, (D5, DV4), wrt=(0, 1), id="maximum.at"),
    Spec("ufunc_at", _min_at, (D5, DV4), wrt=(0, 1), id="minimum.at"),
    Spec("ufunc_at", _min_at_2d, (normal(3, 4), normal(3, 1)), wrt=(0, 1),
         id="minimum.at-2d"),
    Spec("gradient_pick", _grad_nd, (normal(3, 4),), id="gradient-2d"),
    Spec("gradient_pick", _grad_nd_spacing, (normal(3, 4),), id="gradient-2d-spacing"),
    Spec("gradient_pick", _grad_nd_coords, (normal(3, 4),), id="gradient-2d-coordinates"),
    Spec("gradient_pick", _grad_3d, (normal(3, 2, 4),), id="gradient-3d"),
    Spec("gradient_pick", _grad_1d_item, (normal(5),), id="gradient-1d-items"),
    Spec("gradient_stacked", _grad_stacked, (normal(3, 4),), id="gradient-stacked"),
    Spec("gradient_stacked", _grad_array, (normal(3, 4),), id="gradient-array"),
    Spec("gradient_stacked", _grad_array, (normal(6),), id="gradient-array-1d"),
    Spec("gradient_stacked_adjoint",
         lambda h: np.sum(rt.gradient_stacked_adjoint(h, W34, XS3, 2.0) ** 2),
         (normal(2, 3, 4),)),
    Spec("gradient_stacked_adjoint",
         lambda h: np.sum(rt.gradient_stacked_adjoint(h, W34[0], edge_order=2) ** 3),
         (normal(4),), id="gradient_stacked_adjoint-1d"),
    Spec("gradient_pick_adjoint",
         lambda h: np.sum(rt.gradient_pick_adjoint(h, W34, XS3, 2.0, item=0) ** 2),
         (normal(3, 4),)),
    Spec("gradient_pick_adjoint",
         lambda h: np.sum(np.sin(rt.gradient_pick_adjoint(h, W34[0], item=2, edge_order=2))),
         (np.float64(0.7),), id="gradient_pick_adjoint-1d"),
    Spec("vdot", _vdot, (C34, cnormal(3, 4)), wrt=(0, 1), id="vdot-complex"),
    Spec("vdot", _vdot, (C34, normal(3, 4)), wrt=(0, 1), id="vdot-complex-real"),
    Spec("vdot", _vdot, (normal(12), cnormal(12)), wrt=(0, 1), id="vdot-real-complex"),
    Spec("vdot", _vdot_abs, (cnormal(5),), id="vdot-complex-reused"),
    Spec("flat_dot", lambda a, b: np.sum(rt.flat_dot(a, b) * 0.7), (normal(3, 4), normal(12)),
         wrt=(0, 1)),
    Spec("flat_dot_vjp_a", lambda g, b: np.sum(np.sin(rt.flat_dot_vjp_a(g, W34, b))),
         (np.float64(0.7), normal(12)), wrt=(0, 1)),
    Spec("flat_dot_vjp_b", lambda g, a: np.sum(np.sin(rt.flat_dot_vjp_b(g, a, W34))),
         (np.float64(0.7), normal(12)), wrt=(0, 1)),
    Spec("cov", _cov, (C34,), id="cov-complex"),
    Spec("cov", _cov_y, (cnormal(4, 3), cnormal(4, 2)), wrt=(0, 1), id="cov-complex-y"),
    Spec("cov", _cov_weights, (C34,), id="cov-complex-aweights"),
    Spec("corrcoef", _corrcoef, (C34,), id="corrcoef-complex"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_spec(spec):
    check_spec(spec)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_spec_both_modes(spec):
    s2sgrad.check_grads(spec.fn, spec.args, wrt=spec.wrt, modes=("rev", "fwd"))


@pytest.mark.parametrize("spec", [s for s in SPECS if not s.id.startswith("flat_dot")],
                         ids=lambda s: s.id)
def test_hvp(spec):
    check_hvp(spec)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_value_is_numpys(spec):
    value, _ = s2sgrad.vjp(spec.fn, wrt=spec.wrt)(*spec.args)
    np.testing.assert_allclose(value, spec.fn(*spec.args), rtol=1e-13, atol=1e-14)


# ---------------------------------------------------------------- logm


def test_logm_tangent_is_the_frechet_derivative():
    # for a symmetric positive definite A, L(A, E) = V (F1 o (V^T E V)) V^T with
    # the divided differences F1 of log: an independent formula
    m = normal(4, 4)
    a = m @ m.T + np.eye(4)
    e = normal(4, 4)
    w, v = np.linalg.eigh(a)
    d = np.subtract.outer(w, w)
    same = np.abs(d) < 1e-12
    f1 = np.where(same, 1.0 / w[:, None], np.subtract.outer(np.log(w), np.log(w)) /
                  np.where(same, 1.0, d))
    expect = v @ (f1 * (v.T @ e @ v)) @ v.T
    _, t = s2sgrad.jvp(lambda x: sl.logm(x))((a,), (e,))
    np.testing.assert_allclose(t, expect, rtol=1e-9, atol=1e-11)
    g = s2sgrad.grad(lambda x: np.sum(sl.logm(x) * e))(a)
    # the gradient of <E, log(A)> is L(A^T, E) = L(A, E) for a symmetric A
    np.testing.assert_allclose(g, expect, rtol=1e-9, atol=1e-11)


def test_logm_gradient_of_trace_is_inverse_transposed():
    # d tr(log A) = tr(A^-1 dA)
    a = well(4)
    np.testing.assert_allclose(s2sgrad.grad(lambda x: np.trace(sl.logm(x)))(a),
                               np.linalg.inv(a).T, rtol=1e-10)


def test_logm_hessian_against_finite_differences():
    a = well(2)
    h = s2sgrad.hessian(_logm2)(a)
    g = s2sgrad.grad(_logm2)
    fd = np.zeros((2, 2, 2, 2))
    for i in range(2):
        for j in range(2):
            da = np.zeros((2, 2))
            da[i, j] = 1e-5
            fd[:, :, i, j] = (g(a + da) - g(a - da)) / 2e-5
    np.testing.assert_allclose(h, fd, rtol=1e-5, atol=1e-7)


W2 = normal(2, 2)


def _logm2(a):
    return np.sum(np.real(sl.logm(a)) * W2)


def test_logm_singular_matrix_is_refused():
    a = np.array([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(ValueError, match="singular matrix"):
        s2sgrad.grad(_logm2)(a)


def test_sqrtm_singular_matrix_is_refused():
    # the true derivative is infinite there (the Sylvester operator S X + X S
    # is singular): an error, not 1e15 or a LAPACK failure
    for a in (np.array([[1.0, 1.0], [1.0, 1.0]]), np.array([[0.0, 1.0], [0.0, 0.0]])):
        with pytest.raises(ValueError, match="sqrtm is undefined at a singular matrix"):
            s2sgrad.grad(lambda x: np.sum(np.real(sl.sqrtm(x)) * W2))(a)
        with pytest.raises(ValueError, match="sqrtm is undefined at a singular matrix"):
            s2sgrad.jvp(lambda x: sl.sqrtm(x))((a,), (W2,))
    # -I: sqrtm is 1j * I, and its derivative dA / 2j exists
    g = s2sgrad.grad(lambda x: np.sum(np.imag(sl.sqrtm(x)) * W2))(-np.eye(2))
    np.testing.assert_allclose(g, -W2 / 2, rtol=1e-12)


def test_logm_complex_on_the_branch_cut_is_refused():
    a = np.diag([-2.0, 1.0]).astype(complex)
    with pytest.raises(ValueError, match="branch cut"):
        s2sgrad.grad(lambda x: np.real(np.sum(sl.logm(x))))(a)


@pytest.mark.parametrize("name, call, what", [
    ("schur", lambda a: np.sum(sl.schur(a)[0]), "not unique"),
    ("hessenberg", lambda a: np.sum(sl.hessenberg(a)), "not unique"),
    ("funm", lambda a: np.sum(sl.funm(a, np.sin)), "Schur-Parlett"),
])
def test_explained_refusals(name, call, what):
    with pytest.raises(S2SGradError) as info:
        s2sgrad.grad(call)(well(3))
    msg = str(info.value)
    assert f"scipy.linalg.{name}" in msg and what in msg
    assert "test_cov6.py:" in msg and ("eig" in msg or "expm" in msg)


# ---------------------------------------------------------------- ufunc.at


def test_multiply_at_gradient_is_the_product_of_the_others():
    # group 0 is x[0] * v[0] * v[1] * v[2]; with one zero the zero receives the
    # product of the rest, the others 0; no NaN anywhere
    x = np.array([2.0, 3.0])
    v = np.array([0.5, 0.0, 4.0])

    def f(x, v):
        y = x.copy()
        np.multiply.at(y, [0, 0, 0], v)
        return np.sum(y)

    gx, gv = s2sgrad.grad(f, wrt=(0, 1))(x, v)
    np.testing.assert_array_equal(gx, [0.0, 1.0])
    np.testing.assert_array_equal(gv, [0.0, 2.0 * 0.5 * 4.0, 0.0])
    gx, gv = s2sgrad.grad(f, wrt=(0, 1))(x, np.array([0.0, 0.0, 4.0]))
    np.testing.assert_array_equal(gx, [0.0, 1.0])
    np.testing.assert_array_equal(gv, [0.0, 0.0, 0.0])


def test_maximum_at_ties_split_equally():
    x = np.array([1.0, 5.0])
    v = np.array([1.0, 0.5, 1.0])

    def f(x, v):
        y = x.copy()
        np.maximum.at(y, [0, 0, 0], v)
        return np.sum(y * np.array([3.0, 1.0]))

    gx, gv = s2sgrad.grad(f, wrt=(0, 1))(x, v)
    np.testing.assert_allclose(gx, [1.0, 1.0])          # a third of 3 to x[0]
    np.testing.assert_allclose(gv, [1.0, 0.0, 1.0])
    # as np.maximum's rule: np.maximum(a, b) at a tie splits in halves
    ga = s2sgrad.grad(lambda a, b: np.maximum(a, b), wrt=(0, 1))(1.0, 1.0)
    np.testing.assert_allclose(ga, [0.5, 0.5])


def test_minimum_at_nan_passes_no_gradient():
    def f(x, v):
        y = x.copy()
        np.minimum.at(y, [0, 1], v)
        return np.nansum(y)

    gx, gv = s2sgrad.grad(f, wrt=(0, 1))(np.array([1.0, 2.0]), np.array([np.nan, 0.5]))
    np.testing.assert_array_equal(gx, [0.0, 0.0])
    np.testing.assert_array_equal(gv, [0.0, 1.0])


def test_ufunc_at_float32_keeps_dtype_and_value():
    x = np.array([1.5, -2.0, 0.25], dtype=np.float32)

    def f(x):
        y = x * 2
        np.multiply.at(y, [2, 2], x[:2])
        np.maximum.at(y, [0], x[1:2])
        return np.sum(y)

    value, back = s2sgrad.vjp(f)(x)
    assert value == f(x)
    g = back(np.float32(1.0))
    assert g.dtype == np.float32
    s2sgrad.check_grads(f, (x.astype(np.float64),))


def test_ufunc_at_mixed_dtypes():
    # a float64 v into a float32 y: NumPy casts v, so the winner of maximum.at
    # is the cast value (compared as such) and gets the derivative
    def fmax(y, v):
        y = y.copy()
        np.maximum.at(y, [0, 0], v)
        return np.sum(y)

    def fmul(y, v):
        y = y.copy()
        np.multiply.at(y, [0, 0], v)
        return np.sum(y)

    y32 = np.array([0.0, 1.0], dtype=np.float32)
    v = np.array([0.1, 0.05])
    gy, gv = s2sgrad.grad(fmax, wrt=(0, 1))(y32, v)
    np.testing.assert_array_equal(gy, [0.0, 1.0])
    np.testing.assert_array_equal(gv, [1.0, 0.0])
    assert gy.dtype == np.float32 and gv.dtype == np.float64
    gy, gv = s2sgrad.grad(fmul, wrt=(0, 1))(np.array([2.0, 1.0], dtype=np.float32),
                                           np.array([0.1, 3.0]))
    np.testing.assert_allclose(gy, [0.3, 1.0], rtol=1e-6)
    np.testing.assert_allclose(gv, [6.0, 0.2], rtol=1e-6)


def test_ufunc_at_in_a_loop():
    def f(x):
        y = np.ones(3)
        for k in range(3):
            np.multiply.at(y, [k, 0], x[k])
        return np.sum(y)

    x = np.array([0.5, 0.0, -1.5])
    value, _ = s2sgrad.vjp(f)(x)
    assert value == f(x)
    # y[0] = x0 * x0 * x1 * x2 (each step multiplies y[0] by x[k]), y[1] = x1, y[2] = x2
    np.testing.assert_allclose(s2sgrad.grad(f)(x), [2 * 0.5 * 0.0 * -1.5,
                                                    0.5 * 0.5 * -1.5 + 1.0,
                                                    0.5 * 0.5 * 0.0 + 1.0])
    s2sgrad.check_grads(f, (x,), modes=("rev", "fwd"))


def _at_view(x):
    y = x * 1.0
    np.multiply.at(y[1], [0, 0, 2], x[0, :3])   # a view of y
    return np.sum(y ** 2)


def _at_argument(x):
    np.maximum.at(x, [0, 0], x[1] * 0.5)        # the argument itself (the caller's is kept)
    return np.sum(x ** 2)


def _at_alias_read_after(x):
    y = x * 1.0
    z = y[0]                                    # a view read after the write sees it
    np.minimum.at(y, (0, [1, 1]), -x[1, :2])
    return np.sum(z * y[0]) + np.sum(y)


def _at_2d_index(x):
    y = x * 1.0
    np.multiply.at(y, np.array([[0, 1], [1, 0]]), x[:2] * 2.0)
    return np.sum(np.sin(y))


@pytest.mark.parametrize("f", [_at_view, _at_argument, _at_alias_read_after, _at_2d_index])
def test_ufunc_at_through_views_and_aliases(f):
    x = normal(3, 4)
    keep = x.copy()
    value, _ = s2sgrad.vjp(f)(x)
    np.testing.assert_array_equal(x, keep)
    np.testing.assert_allclose(value, f(x.copy()), rtol=1e-14)
    s2sgrad.check_grads(f, (x,), modes=("rev", "fwd"))


# ---------------------------------------------------------------- np.gradient(f)[k]


def test_gradient_pick_values_are_numpys():
    f = normal(3, 3, 4)
    for k in (0, 1, 2, -1):
        for spacing, eo in (((), 1), ((0.7,), 2), ((0.5, 2.0, 1.5), 1)):
            np.testing.assert_array_equal(rt.gradient_pick(f, *spacing, item=k, edge_order=eo),
                                          np.gradient(f, *spacing, edge_order=eo)[k])
    f1 = normal(6)
    for k in (0, 3, -1):
        assert rt.gradient_pick(f1, item=k) == np.gradient(f1)[k]
    with pytest.raises(IndexError):
        rt.gradient_pick(f, item=3)
    # NumPy refuses an axis too short for edge_order 2 even when another is asked for
    with pytest.raises(ValueError, match="too small"):
        rt.gradient_pick(normal(3, 2, 4), item=0, edge_order=2)
    with pytest.raises(ValueError, match="corresponding dimension"):
        rt.gradient_pick(f, 1.0, np.arange(5.0), 1.0, item=0)


def test_gradient_result_used_whole_is_still_checked():
    # g itself (not only g[k]) needs the number of results: refused at run time
    # for an N-d f with the advice, as before; fine for a 1-d f
    def f(x):
        g = np.gradient(x)
        return np.sum(np.hstack(g) ** 2)

    with pytest.raises(ValueError, match="only for a 1-d array"):
        s2sgrad.grad(f)(normal(3, 4))
    s2sgrad.check_grads(f, (normal(5),))


def test_gradient_pick_in_a_loop_and_float32():
    def f(x):
        g = np.gradient(x, 0.5)
        s = 0.0
        for k in range(2):
            s = s + np.sum(g[1] * x) * (k + 1)
        return s + np.sum(g[0] ** 2)

    x = normal(4, 3)
    s2sgrad.check_grads(f, (x,), modes=("rev", "fwd"))
    g32 = s2sgrad.grad(f)(x.astype(np.float32))
    assert g32.dtype == np.float32 and g32.shape == (4, 3)


# ---------------------------------------------------------------- vdot, cov


def test_vdot_complex_convention():
    # f(a) = Re(vdot(a, b)) = Re(sum(conj(a) b)): df = Re(sum(conj(da) b)) =
    # Re(sum(da conj(b))), so the cotangent (transpose convention) is conj(b)
    a, b = cnormal(4), cnormal(4)
    g = s2sgrad.grad(lambda a: np.real(np.vdot(a, b)))(a)
    np.testing.assert_allclose(g, np.conj(b), rtol=1e-14)
    g = s2sgrad.grad(lambda b: np.real(np.vdot(a, b)))(b)
    np.testing.assert_allclose(g, np.conj(a), rtol=1e-14)
    # holomorphic in b: the complex derivative conj(a) (seeded with 1)
    g = s2sgrad.grad(lambda b: np.vdot(a, b))(b)
    np.testing.assert_allclose(g, np.conj(a), rtol=1e-14)


def test_cov_complex_value_and_hermitian_tangent():
    a, da = cnormal(3, 5), cnormal(3, 5)
    c, t = s2sgrad.jvp(lambda a: np.cov(a))((a,), (da,))
    np.testing.assert_allclose(c, np.cov(a), rtol=1e-13)
    np.testing.assert_allclose(t, np.conj(t.T), rtol=1e-13)      # a Hermitian tangent
    fd = (np.cov(a + 1e-6 * da) - np.cov(a - 1e-6 * da)) / 2e-6
    np.testing.assert_allclose(t, fd, rtol=1e-6, atol=1e-8)
