"""Custom rules (``s2sgrad.custom``): ``custom_vjp``, ``custom_jvp`` and
``defrule``, in every mode, with higher order, errors naming the rule's
file and line, float32, and the generated code they appear in.

The rules are defined at module level (and in closures) so that the
generated code's comments and the errors can be checked against their
lines.  Values are compared with plain NumPy; gradients with finite
differences (``check_grads``) or, where the rule deliberately differs from
the derivative (``clip_gradient``), with the rule's exact intended values.
"""
import inspect
import os
import subprocess
import sys

import numpy as np
import pytest

import s2sgrad
from s2sgrad import (ExportError, RuleError, S2SGradError, check_grads, export, grad, hessian, hvp,
                     jacobian, jvp, value_and_grad, vjp)
from s2sgrad.check import GradientCheckError
from s2sgrad.primitives import core as P

HERE = os.path.basename(__file__)
X = np.array([0.3, -1.2, 2.0, 0.7])


def line_of(fn, text):
    """The line number of the first line of ``fn``'s source containing ``text``."""
    lines, start = inspect.getsourcelines(fn)
    for k, ln in enumerate(lines):
        if text in ln:
            return start + k
    raise AssertionError(text)


# ---------------------------------------------------------------- custom_vjp: clip_gradient


@s2sgrad.custom_vjp
def clip_gradient(x, lo, hi):
    return x


def clip_fwd(x, lo, hi):
    return x, (lo, hi)


def clip_bwd(res, g):
    lo, hi = res
    return (np.clip(g, lo, hi), None, None)


clip_gradient.defvjp(clip_fwd, clip_bwd)


def clipped_loss(x):
    y = clip_gradient(x, -0.5, 0.5)
    return np.sum(3.0 * y ** 2)


def test_clip_gradient_value_and_exact_rule():
    v, g = value_and_grad(clipped_loss)(X)
    assert v == pytest.approx(np.sum(3.0 * X ** 2))
    # the rule's value, not the derivative (6 x): the cotangent is clipped
    np.testing.assert_array_equal(g, np.clip(6 * X, -0.5, 0.5))
    assert not np.allclose(g, 6 * X)
    # still plain Python outside a differentiated function
    assert clip_gradient(X, 0, 1) is X


def test_clip_gradient_source_shows_the_rule():
    g = grad(clipped_loss)
    g(X)
    src = g.generic_source
    assert f"# {HERE}:{line_of(clip_bwd, 'return (np.clip')}: return (np.clip(g, lo, hi)" in src
    assert "np.clip(" in src
    assert "check_rule_output" in src          # shape-polymorphic: checked at run time
    assert "check_rule_output" not in g.source  # specialised to known shapes: no check
    assert "np.clip(" in g.source


def test_clip_gradient_float32_and_jacobian():
    x32 = X.astype(np.float32)
    g = grad(clipped_loss)(x32)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, np.clip(6 * x32, -0.5, 0.5), rtol=1e-6)

    def vec(x):
        return clip_gradient(x, -0.5, 0.5) * 2.0
    J = jacobian(vec, mode="reverse")(X)
    np.testing.assert_array_equal(J, np.diag(np.full(4, 0.5)))
    # "auto" would pick forward mode (4 inputs, 4 outputs), which the rule refuses
    np.testing.assert_array_equal(jacobian(vec)(X), J)
    with pytest.raises(RuleError):
        jacobian(vec, mode="forward")(X)


def test_clip_gradient_second_order_reverse_over_reverse():
    # the gradient is clip(cos y, lo, hi) with y = clip_gradient(x): its derivative
    # -sin(x) where not clipped, 0 where clipped, reaches x through the rule again
    # (as in JAX: the rule holds at every order), so it is clipped too
    def f(x):
        return np.sin(clip_gradient(x, -0.5, 0.5))
    for x in (0.3, 1.4, 2.5, 3.0):
        c = np.cos(x)
        inner = -np.sin(x) if -0.5 < c < 0.5 else 0.0
        assert grad(f)(x) == pytest.approx(np.clip(c, -0.5, 0.5))
        assert grad(grad(f))(x) == pytest.approx(np.clip(inner, -0.5, 0.5))
    assert grad(grad(f))(1.4) == -0.5 and grad(grad(f))(1.6) == -0.5
    # the Hessian by reverse over reverse (forward mode refuses clip_bwd)
    H = jacobian(grad(lambda x: np.sum(f(x))), mode="reverse")(X)
    c = np.cos(X)
    np.testing.assert_array_equal(
        H, np.diag(np.clip(np.where((c > -0.5) & (c < 0.5), -np.sin(X), 0.0), -0.5, 0.5)))


def test_clip_gradient_forward_mode_is_refused_naming_the_rule():
    where = f"{HERE}:{line_of(clip_bwd, 'return (np.clip')}"
    for call in (lambda: jvp(clipped_loss)((X,), (X,)), lambda: hessian(clipped_loss)(X),
                 lambda: hvp(clipped_loss)((X,), X)):
        with pytest.raises(RuleError) as info:
            call()
        msg = str(info.value)
        assert msg.startswith(os.path.dirname(__file__)) and where in msg
        assert "clip_gradient" in msg and "clip_bwd" in msg and "not linear" in msg


# ---------------------------------------------------------------- custom_vjp with residuals


@s2sgrad.custom_vjp
def mysin(x):
    return np.sin(x)


def mysin_fwd(x):
    return mysin(x), np.cos(x)          # JAX's style: the forward rule calls f itself


def mysin_bwd(cos_x, g):
    return (cos_x * g,)


mysin.defvjp(mysin_fwd, mysin_bwd)


def sin_loss(x):
    return np.sum(mysin(x) ** 2)


def test_custom_vjp_every_mode():
    v, g = value_and_grad(sin_loss)(X)
    assert v == pytest.approx(np.sum(np.sin(X) ** 2))
    np.testing.assert_allclose(g, np.sin(2 * X))
    # forward mode transposes bwd (linear in g): exact
    check_grads(sin_loss, (X,), modes=("rev", "fwd"))
    out, t = jvp(sin_loss)((X,), (np.ones(4),))
    assert t == pytest.approx(np.sum(np.sin(2 * X)))
    np.testing.assert_allclose(hvp(sin_loss)((X,), np.ones(4)), 2 * np.cos(2 * X))
    h = hessian(sin_loss)
    np.testing.assert_allclose(h(X), np.diag(2 * np.cos(2 * X)), atol=1e-12)
    assert h.last_path == "batched"
    for mode in ("forward", "reverse"):
        jf = jacobian(lambda x: mysin(x) * x, mode=mode)
        np.testing.assert_allclose(jf(X), np.diag(np.cos(X) * X + np.sin(X)), atol=1e-12)
        assert jf.last_path == "batched"
    out, pullback = vjp(lambda x: mysin(x) * x)(X)
    np.testing.assert_allclose(out, np.sin(X) * X)
    np.testing.assert_allclose(pullback(np.ones(4)), np.cos(X) * X + np.sin(X))
    # the function itself, differentiated
    assert grad(mysin)(0.5) == pytest.approx(np.cos(0.5))
    assert grad(grad(mysin))(0.5) == pytest.approx(-np.sin(0.5))
    assert grad(grad(lambda x: mysin(x) ** 2))(0.7) == pytest.approx(2 * np.cos(1.4))


def test_custom_rules_under_a_nested_grad():
    def f(x):
        return np.sum(grad(sin_loss)(x) * x)          # d/dx of x . sin(2x)
    np.testing.assert_allclose(grad(f)(X), np.sin(2 * X) + 2 * X * np.cos(2 * X))
    check_grads(f, (X,), modes=("rev", "fwd"))
    check_grads(lambda x: np.sum(grad(safe_norm)(x) * x), (X,), modes=("rev", "fwd"))


def test_custom_vjp_float32():
    x32 = X.astype(np.float32)
    g = grad(sin_loss)(x32)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, np.sin(2 * X), rtol=1e-5)
    t = jvp(sin_loss)((x32,), (np.ones(4, np.float32),))[1]
    assert t.dtype == np.float32


def rnn_like(x, n):
    h = x
    for i in range(n):
        h = mysin(h) * 1.1 + x
    return np.sum(h)


def rnn_like_ref(x, n):
    h = x
    for i in range(n):
        h = np.sin(h) * 1.1 + x
    return np.sum(h)


def branchy(x):
    if np.sum(x) > 0:
        y = mysin(x)
    else:
        y = x * 2
    return np.sum(y ** 2)


def while_loop(x):
    k = 0
    while np.sum(x) < 10 and k < 3:
        x = x + mysin(x) ** 2
        k += 1
    return np.sum(x)


def test_custom_vjp_in_loops_and_branches():
    check_grads(rnn_like, (X, 4), modes=("rev", "fwd"))
    assert rnn_like(X, 4) == pytest.approx(rnn_like_ref(X, 4))
    np.testing.assert_allclose(grad(rnn_like)(X, 4), grad(rnn_like_ref)(X, 4))
    np.testing.assert_allclose(hessian(rnn_like)(X, 3), hessian(rnn_like_ref)(X, 3), atol=1e-12)
    for x in (X, -X):
        check_grads(branchy, (x,), modes=("rev", "fwd"))
    check_grads(while_loop, (X,), modes=("rev", "fwd"))


# ---------------------------------------------------------------- custom_jvp


@s2sgrad.custom_jvp
def safe_norm(x):
    return np.sqrt(np.sum(x ** 2))


@safe_norm.defjvp
def safe_norm_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    n = safe_norm(x)
    return n, np.sum(x * t) / np.where(n == 0, 1.0, n)


def norm_loss(x):
    return 2.0 * safe_norm(x)


def test_custom_jvp_every_mode():
    n = np.linalg.norm(X)
    assert norm_loss(X) == pytest.approx(2 * n)
    v, g = value_and_grad(norm_loss)(X)
    assert v == pytest.approx(2 * n)
    np.testing.assert_allclose(g, 2 * X / n)
    check_grads(norm_loss, (X,), modes=("rev", "fwd"))
    np.testing.assert_allclose(hessian(norm_loss)(X),
                               2 * (np.eye(4) / n - np.outer(X, X) / n ** 3), atol=1e-12)
    assert jvp(norm_loss)((X,), (X,))[1] == pytest.approx(2 * n)
    # the rule's value where the derivative of the body is NaN (0 / 0)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(grad(norm_loss)(np.zeros(3)), np.zeros(3))
        assert jvp(norm_loss)((np.zeros(3),), (np.ones(3),))[1] == 0.0
    g32 = grad(norm_loss)(X.astype(np.float32))
    assert g32.dtype == np.float32


def test_custom_jvp_source_is_the_transposed_rule():
    src = grad(norm_loss).generic_source
    line = line_of(safe_norm_jvp, "return n, np.sum")
    assert f"# adjoint of {HERE}:{line}: return n, np.sum(x * t)" in src
    assert "np.where(" in src
    assert "x_bar" in src


@s2sgrad.custom_jvp
def softplus(x, beta):
    return np.log1p(np.exp(beta * x)) / beta


softplus.defjvps(lambda t, ans, x, beta: t / (1 + np.exp(-beta * x)),
                 lambda t, ans, x, beta: t * (x / (1 + np.exp(-beta * x)) - ans) / beta)


def test_custom_jvp_defjvps_per_argument():
    def f(x, b):
        return np.sum(softplus(x, b) ** 2)
    check_grads(f, (X, 1.7), wrt=(0, 1), modes=("rev", "fwd"))

    def ref(x, b):
        return np.sum((np.log1p(np.exp(b * x)) / b) ** 2)
    np.testing.assert_allclose(hessian(f, wrt=(0, 1))(X, 1.7)[0][1],
                               hessian(ref, wrt=(0, 1))(X, 1.7)[0][1])


@s2sgrad.custom_jvp(nondiff_argnums=(1,))
def power(x, n):
    return x ** n


@power.defjvp
def power_jvp(n, primals, tangents):        # nondiff arguments first, as in JAX
    (x,), (t,) = primals, tangents
    return x ** n, n * x ** (n - 1) * t


def test_custom_jvp_nondiff_argnums():
    def f(x, n):
        return np.sum(power(x, n) * 2.0)
    check_grads(f, (X, 3), modes=("rev", "fwd"))
    np.testing.assert_allclose(grad(f)(X, 3), 6 * X ** 2)
    np.testing.assert_allclose(hessian(f)(X, 3), np.diag(12 * X))
    assert f(X, 3) == pytest.approx(value_and_grad(f)(X, 3)[0])


def make_scaled_tanh(k):
    """A custom_jvp function made in a closure (its rule reads the cell ``k``)."""
    @s2sgrad.custom_jvp
    def scaled_tanh(x):
        return np.tanh(x) * k

    def rule(primals, tangents):
        (x,), (t,) = primals, tangents
        y = np.tanh(x)
        return y * k, k * (1 - y ** 2) * t
    scaled_tanh.defjvp(rule)
    return scaled_tanh


def test_custom_jvp_in_a_closure_and_grad_of_grad():
    st = make_scaled_tanh(2.5)
    check_grads(lambda x: np.sum(st(x) ** 2), (X,), modes=("rev", "fwd"))
    assert grad(grad(st))(0.4) == pytest.approx(-2 * 2.5 * np.tanh(0.4) * (1 - np.tanh(0.4) ** 2))


# ---------------------------------------------------------------- pytrees, nondiff_argnums


@s2sgrad.custom_vjp(nondiff_argnums=(1,))
def affine(p, k):
    return {"y": p["a"] * k + p["b"], "z": p["b"] ** 2}


def affine_fwd(p, k):
    return affine(p, k), p["b"]


def affine_bwd(k, b, g):
    return ({"a": g["y"] * k, "b": g["y"] + 2 * b * g["z"]},)


affine.defvjp(affine_fwd, affine_bwd)


def tree_loss(p, k):
    out = affine(p, k)
    return np.sum(out["y"] ** 2) + np.sum(np.sin(out["z"]))


def test_pytrees_and_nondiff_argnums():
    p = {"a": np.array([1.0, 2.0]), "b": np.array([0.5, -0.5])}
    check_grads(tree_loss, (p, 3.0), modes=("rev", "fwd"))
    g = grad(tree_loss)(p, 3.0)
    assert set(g) == {"a", "b"}
    assert tree_loss(p, 3.0) == pytest.approx(value_and_grad(tree_loss)(p, 3.0)[0])
    with pytest.raises(S2SGradError, match="'k' argument of affine; pass a constant"):
        grad(tree_loss, wrt=1)(p, 3.0)


@s2sgrad.custom_vjp
def with_defaults(x, scale=2.0):
    return x * scale


with_defaults.defvjp(lambda x, scale=2.0: (x * scale, scale),
                     lambda s, g: (g * s, None))


def test_keyword_arguments_and_defaults():
    check_grads(lambda x: np.sum(with_defaults(x) + with_defaults(x, scale=3.0) ** 2), (X,))
    np.testing.assert_allclose(grad(lambda x: np.sum(with_defaults(scale=0.5, x=x)))(X),
                               np.full(4, 0.5))


SHIFT = 0.25


@s2sgrad.custom_vjp
def poly(x, c):
    return c[0] + c[1] * x + c[2] * x ** 2 + SHIFT


def poly_fwd(x, c):
    return poly(x, c), (x, c)


def poly_bwd(res, g):
    x, c = res
    acc = 0.0 * x
    for i in range(1, 3):                  # a loop in the rule: transposed by forward mode
        acc = acc + i * c[i] * x ** (i - 1) * g
    return (acc, None)


poly.defvjp(poly_fwd, poly_bwd)


def test_rule_with_a_loop_and_a_global():
    c = np.array([0.5, -1.0, 2.0])

    def f(x):
        return np.sum(poly(x, c) ** 2)

    def ref(x):
        return np.sum((c[0] + c[1] * x + c[2] * x ** 2 + SHIFT) ** 2)
    check_grads(f, (X,), modes=("rev", "fwd"))
    np.testing.assert_allclose(hessian(f)(X), hessian(ref)(X))
    assert f(X) == pytest.approx(ref(X))


FACTOR = 2


@s2sgrad.custom_vjp
def scaled_ct(x):
    return x * 1.0


scaled_ct.defvjp(lambda x: (x * 1.0, None), lambda r, g: (g * FACTOR,))


def test_what_a_rule_assumed_is_guarded():
    # FACTOR is an int: a compile-time constant of the rule, so the compiled
    # gradient is guarded by it (s2sgrad.guards) like the function's own reads
    global FACTOR
    g = grad(lambda x: np.sum(scaled_ct(x)))
    j = jvp(lambda x: np.sum(scaled_ct(x)))
    gg = grad(grad(lambda x: scaled_ct(x) ** 2))
    try:
        FACTOR = 2
        np.testing.assert_array_equal(g(X), np.full(4, 2.0))
        assert j((X,), (np.ones(4),))[1] == 8.0 and gg(1.0) == 8.0
        FACTOR = 3
        np.testing.assert_array_equal(g(X), np.full(4, 3.0))
        assert j((X,), (np.ones(4),))[1] == 12.0 and gg(1.0) == 18.0
    finally:
        FACTOR = 2


# ---------------------------------------------------------------- wrong rules


@s2sgrad.custom_vjp
def wrong_sin(x):
    return np.sin(x)


wrong_sin.defvjp(lambda x: (np.sin(x), x), lambda x, g: (2 * np.cos(x) * g,))


@s2sgrad.custom_jvp
def wrong_exp(x):
    return np.exp(x)


wrong_exp.defjvp(lambda p, t: (np.exp(p[0]), np.exp(p[0]) * t[0] * 1.5))


def test_check_grads_catches_a_wrong_rule():
    with pytest.raises(GradientCheckError, match="disagrees with central differences"):
        check_grads(lambda x: np.sum(wrong_sin(x)), (X,))
    with pytest.raises(GradientCheckError, match="disagrees with central differences"):
        check_grads(lambda x: np.sum(wrong_exp(x)), (X,), modes=("fwd",))
    with pytest.raises(GradientCheckError):
        check_grads(lambda x: np.sum(wrong_exp(x)), (X,))


@s2sgrad.custom_vjp
def two_cts(x):
    return x * 2


def two_cts_bwd(res, g):
    return (g * 2, g)


two_cts.defvjp(lambda x: (x * 2, None), two_cts_bwd)


@s2sgrad.custom_vjp
def summed_ct(x):
    return x * 2


def summed_ct_bwd(res, g):
    return (np.sum(g),)


summed_ct.defvjp(lambda x: (x * 2, None), summed_ct_bwd)


@s2sgrad.custom_vjp
def single_ct(x):
    return x * 2


def single_ct_bwd(res, g):
    return (g.astype(np.float32) * 2,)


single_ct.defvjp(lambda x: (x * 2, None), single_ct_bwd)


@s2sgrad.custom_vjp
def no_pair(x):
    return x


def no_pair_fwd(x):
    return x


no_pair.defvjp(no_pair_fwd, lambda r, g: (g,))


@s2sgrad.custom_vjp
def tuple_ct(x):
    return x


def tuple_ct_bwd(r, g):
    return ((g, g),)


tuple_ct.defvjp(lambda x: (x, None), tuple_ct_bwd)


def test_malformed_rules_are_errors_at_their_lines():
    cases = [(two_cts, two_cts_bwd, "return (g * 2, g)",
              "the reverse rule 'two_cts_bwd' of 'two_cts' returned a tuple of 2; it must "
              "return a tuple of 1 cotangent(s)"),
             (no_pair, no_pair_fwd, "return x",
              "the forward rule 'no_pair_fwd' of 'no_pair' returned an array; it must return "
              "a pair (output, residuals)"),
             (tuple_ct, tuple_ct_bwd, "return ((g, g),)",
              "tuple_ct_bwd's cotangent of 'x' is a tuple of 2, but must be an array")]
    for fn, rule, text, message in cases:
        with pytest.raises(RuleError) as info:
            grad(lambda x: np.sum(fn(x)))(X)
        assert info.value.filename == __file__
        assert info.value.lineno == line_of(rule, text)
        assert message in str(info.value)


def test_wrong_shape_or_dtype_is_a_run_time_error_naming_the_rule():
    def once(x):
        return np.sum(summed_ct(x))

    def squared(x):
        return np.sum(summed_ct(x) ** 2)

    def float32_ct(x):
        return np.sum(single_ct(x))
    where = f"{HERE}:{line_of(summed_ct_bwd, 'return (np.sum(g),)')}"
    for f in (once, squared):
        with pytest.raises(ValueError, match=f"^{where}: summed_ct_bwd's cotangent of 'x' has "
                                             r"shape \(\) and dtype float64, but must have the "
                                             r"shape \(4,\)"):
            grad(f)(X)
    where = f"{HERE}:{line_of(single_ct_bwd, 'return (g.astype')}"
    with pytest.raises(ValueError, match=f"^{where}: .* dtype float32, but must .* float64"):
        grad(float32_ct)(X)


@s2sgrad.custom_vjp
def undefined(x):
    return x


def test_a_function_without_rules_is_an_error_at_the_call():
    def f(x):
        return np.sum(undefined(x))
    with pytest.raises(RuleError, match="'undefined' is a custom_vjp function without a rule"):
        grad(f)(X)


@s2sgrad.custom_jvp
def squared_tangent(x):
    return x


def squared_tangent_jvp(p, t):
    return p[0], t[0] ** 2


squared_tangent.defjvp(squared_tangent_jvp)


@s2sgrad.custom_jvp
def sign_tangent(x):
    return x


def sign_tangent_jvp(p, t):
    return p[0], np.sign(t[0]) * p[0]


sign_tangent.defjvp(sign_tangent_jvp)


def test_reverse_mode_refuses_a_nonlinear_forward_rule():
    for fn, rule, text, why in ((squared_tangent, squared_tangent_jvp, "t[0] ** 2",
                                 "reads its value"),
                                (sign_tangent, sign_tangent_jvp, "np.sign(t[0])",
                                 "through a step that has no derivative")):
        with pytest.raises(RuleError) as info:
            grad(lambda x: np.sum(fn(x)))(X)
        assert info.value.lineno == line_of(rule, text) and why in str(info.value)
        # forward mode uses the rule as it is
        out, t = jvp(lambda x: fn(x))((X,), (-np.ones(4),))
        np.testing.assert_array_equal(out, X)


@s2sgrad.custom_vjp
def both_rules(x):
    return np.exp(x)


both_rules.defvjp(lambda x: (np.exp(x), np.exp(x)), lambda e, g: (e * g,))
both_rules.defjvp(lambda p, t: (np.exp(p[0]), np.exp(p[0]) * t[0]))


def test_a_function_with_both_rules_uses_each_in_its_mode():
    check_grads(lambda x: np.sum(both_rules(x) ** 2), (X,), modes=("rev", "fwd"))
    src = jvp(lambda x: np.sum(both_rules(x))).generic_source
    assert "adjoint of" not in src       # the forward rule itself, not the transposed bwd


# ---------------------------------------------------------------- defrule


class _Kernel:
    """An opaque callable: stands for a function of an extension module."""

    def __call__(self, a, b, scale=1.0):
        return scale * a * np.tanh(b)


def kernel_vjp(g, out, a, b, scale=1.0):
    t = np.tanh(b)
    return (g * scale * t, g * scale * a * (1 - t ** 2))


def kernel_jvp(tangents, out, a, b, scale=1.0):
    da, db = tangents
    t = np.tanh(b)
    return scale * (da * t + a * (1 - t ** 2) * db)


@pytest.fixture
def fast_kernel():
    k = _Kernel()
    yield k
    try:
        s2sgrad.undefrule(k)
    except ValueError:
        pass


A, B = np.array([0.5, -1.0, 2.0]), np.array([0.1, 0.7, -0.3])


def kernel_loss(k):
    def f(a, b):
        return np.sum(k(a, b, scale=2.0) ** 2)
    return f


def kernel_ref(a, b):
    return np.sum((2.0 * a * np.tanh(b)) ** 2)


def test_defrule_every_form(fast_kernel):
    f = kernel_loss(fast_kernel)
    # without a rule: differentiated through its Python __call__ (trust4)
    np.testing.assert_allclose(grad(f, wrt=(0, 1))(A, B)[0],
                               8.0 * A * np.tanh(B) ** 2, rtol=1e-12)
    for rules in ({"vjp": kernel_vjp, "jvp": kernel_jvp}, {"vjp": kernel_vjp},
                  {"jvp": kernel_jvp}):
        s2sgrad.defrule(fast_kernel, **rules)
        f = kernel_loss(fast_kernel)
        check_grads(f, (A, B), wrt=(0, 1), modes=("rev", "fwd"))
        v, g = value_and_grad(f, wrt=(0, 1))(A, B)
        assert v == pytest.approx(kernel_ref(A, B))
        for a, b in zip(g, grad(kernel_ref, wrt=(0, 1))(A, B)):
            np.testing.assert_allclose(a, b)
        np.testing.assert_allclose(hessian(f, wrt=(0, 1))(A, B)[1][1],
                                   hessian(kernel_ref, wrt=(0, 1))(A, B)[1][1])
        src = grad(f).generic_source
        assert "fast_kernel = " not in src and "= k(a, b, scale=2.0)" in src


def test_defrule_generated_code_calls_the_object(fast_kernel):
    s2sgrad.defrule(fast_kernel, vjp=kernel_vjp)

    def f(a, b):
        return np.sum(fast_kernel(a, b) ** 2)
    g = grad(f)
    g(A, B)
    src = g.generic_source
    assert "_t0 = fast_kernel(a, b)" in src
    assert f"# {HERE}:{line_of(kernel_vjp, 't = np.tanh(b)')}: t = np.tanh(b)" in src
    # deterministic: the same source from a second compilation
    assert grad(f).generic_source == src
    # a derivative flowing into a keyword option is refused
    with pytest.raises(S2SGradError, match="'scale' argument of _Kernel; pass a constant"):
        grad(lambda a, s: np.sum(fast_kernel(a, B, scale=s)), wrt=1)(A, 2.0)


def test_defrule_shape_safe_lets_specialisation_remove_the_checks(fast_kernel):
    def f(a, b):
        # (scale given: the rules' float default would be read live, of unknown shape)
        return np.sum(fast_kernel(a, b, scale=1.0) ** 2)
    s2sgrad.defrule(fast_kernel, vjp=kernel_vjp, jvp=kernel_jvp)
    g = grad(f)
    g(A, B)
    assert "check_rule_output" in g.source       # the kernel's result shape is unknown
    s2sgrad.defrule(fast_kernel, vjp=kernel_vjp, jvp=kernel_jvp, shape_safe=True)
    g = grad(f)
    np.testing.assert_allclose(g(A, B), grad(kernel_ref)(A, B) / 4)
    assert "check_rule_output" not in g.source and "unbroadcast" not in g.source


def frexp_vjp(g, out, x):
    gm, ge = g
    m, e = out
    return gm * (m / x)          # 2 ** -e, in x's dtype


@pytest.fixture
def ufunc_rules():
    # (override=True: these may have built-in rules by now; ours are used meanwhile)
    before = [P.lookup_object(f) for f in (np.frexp, np.packbits)]
    s2sgrad.defrule(np.frexp, vjp=frexp_vjp, nout=2, override=True)  # a ufunc, two outputs
    s2sgrad.defrule(np.packbits, nondiff=True, override=True)        # data
    yield
    s2sgrad.undefrule(np.frexp)
    s2sgrad.undefrule(np.packbits)
    assert [P.lookup_object(f) for f in (np.frexp, np.packbits)] == before


def test_defrule_numpy_functions(ufunc_rules):
    def h(x):
        m, e = np.frexp(x)
        return np.sum(m ** 2 + e) * np.packbits(x > 0)[0]
    x = np.array([3.0, 0.7, -5.5, 1.25])
    m, e = np.frexp(x)
    assert h(x) == pytest.approx(value_and_grad(h)(x)[0])
    np.testing.assert_allclose(grad(h)(x), 2 * m * 2.0 ** (-e) * np.packbits(x > 0)[0])
    check_grads(h, (x,), modes=("rev", "fwd"))
    src = grad(h).generic_source
    assert "m, e = np.frexp(x)" in src and "np.packbits(" in src
    assert grad(h)(x.astype(np.float32)).dtype == np.float32


def test_defrule_refuses_builtins_unless_override():
    with pytest.raises(ValueError, match=r"numpy.sinh already has a built-in rule \(the "
                                         r"primitive 'sinh'\); pass override=True"):
        s2sgrad.defrule(np.sinh, vjp=kernel_vjp)

    def halved_sinh_vjp(g, out, x):
        return g * np.cosh(x) * 0.5
    s2sgrad.defrule(np.sinh, vjp=halved_sinh_vjp, override=True)
    try:
        np.testing.assert_allclose(grad(lambda x: np.sum(np.sinh(x)))(X), np.cosh(X) * 0.5)
    finally:
        s2sgrad.undefrule(np.sinh)
    np.testing.assert_allclose(grad(lambda x: np.sum(np.sinh(x)))(X), np.cosh(X))


def test_defrule_opaque_without_rules(fast_kernel):
    s2sgrad.defrule(fast_kernel)

    def f(a, b):
        return np.sum(fast_kernel(A, B) * a)
    np.testing.assert_allclose(grad(f)(A, B), fast_kernel(A, B))
    with pytest.raises(S2SGradError, match="has no derivative rule, but a differentiated value"):
        grad(lambda a: np.sum(fast_kernel(a, B)))(A)


class _MatVec:
    """A linear opaque kernel: its rules apply it to tangents and cotangents."""

    def __call__(self, A, x):
        return A @ x


def matvec_jvp(tangents, out, A, x):
    dA, dx = tangents
    return MATVEC(dA, x) + MATVEC(A, dx)


def matvec_vjp(g, out, A, x):
    return np.outer(g, x), MATVEC(A.T, g)


MATVEC = _MatVec()
M = np.array([[1.0, 2.0, 0.5], [-1.0, 0.3, 2.0], [0.2, 0.1, -0.7]])


def test_defrule_rules_that_call_the_kernel():
    def f(x):
        return np.sum(np.tanh(MATVEC(M, x)) ** 2)

    def ref(x):
        return np.sum(np.tanh(M @ x) ** 2)
    x = np.array([0.1, 0.5, -0.3])
    try:
        s2sgrad.defrule(MATVEC, jvp=matvec_jvp)
        check_grads(f, (x,), modes=("fwd",))
        jf = jacobian(lambda x: np.tanh(MATVEC(M, x)), mode="forward")
        np.testing.assert_allclose(jf(x), jacobian(lambda x: np.tanh(M @ x))(x))
        assert jf.last_path == "batched"        # the kernel per batch element
        assert "batch.per_example(" in jf.source
        # reverse mode would transpose the rule, which applies the kernel to the
        # tangents: that needs the kernel's own reverse rule
        with pytest.raises(RuleError, match="applies '_MatVec object' to tangents again"):
            grad(f)(x)
        s2sgrad.defrule(MATVEC, jvp=matvec_jvp, vjp=matvec_vjp)
        check_grads(f, (x,), modes=("rev", "fwd"))
        h = hessian(f)
        np.testing.assert_allclose(h(x), hessian(ref)(x))
        assert h.last_path == "batched"
    finally:
        s2sgrad.undefrule(MATVEC)


# ---------------------------------------------------------------- export


from tests.test_export import (assert_same, in_process, numpy_only_python,  # noqa: E402,F401
                               public_name, run_exported)


def test_export_of_functions_with_custom_rules(numpy_only_python):   # noqa: F811
    """The rules are inlined NumPy code: the exported modules run where only
    NumPy is installed and give the in-process results (the rule's numbers,
    the transposed rules, the run-time check of a rule's result)."""
    p = {"a": np.array([1.0, 2.0]), "b": np.array([0.5, -0.5])}
    cases = [("clip", grad(clipped_loss), (X,), [("plain", (X,), {}, None),
                                                 ("plain", (X[:3] * 3,), {}, None)]),
             ("sin_hessian", hessian(sin_loss), (X,), [("plain", (X,), {}, None)]),
             ("norm_jvp", jvp(norm_loss), ((X,), (X,)), [("plain", ((X,), (X,)), {}, None)]),
             ("tree", value_and_grad(tree_loss), (p, 3.0), [("plain", (p, 3.0), {}, None)]),
             ("loop_vjp", vjp(rnn_like), (X, 3), [("vjp", (X, 3), {}, 1.5)]),
             ("bad_shape", grad(lambda x: np.sum(summed_ct(x))), (X,),
              [("plain", (X,), {}, None)])]
    jobs, expected = [], {}
    for key, tf, example, calls in cases:
        source = export(tf, example_args=example)
        jobs.append((key, source, public_name(source), calls))
        expected[key] = []
        for kind, args, kwargs, extra in calls:
            try:
                expected[key].append(("ok", in_process(tf, kind, args, kwargs, extra)))
            except Exception as exc:            # noqa: BLE001
                # (Python 3.10 appends s2sgrad's note on the generated line to
                # the message, where 3.11+ adds it as a note: not the module's)
                expected[key].append(("error", type(exc).__name__, str(exc).split("\n")[0]))
    got = run_exported(numpy_only_python, jobs)
    for key, _, _, calls in cases:
        for i, (exp, res) in enumerate(zip(expected[key], got[key])):
            assert res[0] == exp[0], (key, i, res, exp)
            if exp[0] == "ok":
                assert_same(res[1], exp[1], f"{key} call {i}")
            else:                                # the rule's check, naming its line
                assert res[1:] == exp[1:] and "summed_ct_bwd's cotangent" in res[2]


def test_export_of_a_defrule_callable_is_refused(fast_kernel):
    s2sgrad.defrule(fast_kernel, vjp=kernel_vjp)

    def f(a, b):
        return np.sum(fast_kernel(a, b, scale=2.0) ** 2)
    with pytest.raises(ExportError, match="calls .*_Kernel object.*cannot reach"):
        export(grad(f), example_args=(A, B))


def test_graph_draws_a_custom_function_as_its_call():
    dot = s2sgrad.graph(clipped_loss, args=(X,)).dot
    assert 'label="clip_gradient(·, -0.5, 0.5)"' in dot
    assert "_nout" not in dot


# ---------------------------------------------------------------- determinism


def test_generated_source_is_the_same_in_another_process():
    code = ("import numpy as np, s2sgrad, tests.test_custom as t\n"
            "p = {'a': np.ones(2), 'b': np.ones(2)}\n"
            "g, j, n = s2sgrad.grad(t.rnn_like), s2sgrad.jvp(t.tree_loss), "
            "s2sgrad.grad(t.norm_loss)\n"
            "g(t.X, 3), j((p, 2.0), (p,)), n(t.X)\n"
            "print(g.generic_source, j.generic_source, n.generic_source)")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=root, env=env, check=True).stdout
    p = {"a": np.ones(2), "b": np.ones(2)}
    g, j, n = grad(rnn_like), jvp(tree_loss), grad(norm_loss)
    g(X, 3), j((p, 2.0), (p,)), n(X)
    here = " ".join([g.generic_source, j.generic_source, n.generic_source]) + "\n"
    assert out == here
