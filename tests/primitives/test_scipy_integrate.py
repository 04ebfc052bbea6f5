"""scipy.integrate.odeint: values equal SciPy's; derivatives in y0, t and args
(adjoint method in reverse, sensitivity equations forward) against central
differences.  The derivatives are as accurate as the solver's tolerance, so
the specs pass tight rtol/atol (1e-12): finite differences and the
jvp/vjp dot-product identity then agree to the checks' tolerances."""
import numpy as np
import pytest

si = pytest.importorskip("scipy.integrate")

import s2sgrad  # noqa: E402
from s2sgrad.primitives import core  # noqa: E402

from .spec import Spec, check_spec, normal, pos  # noqa: E402

core.load_optional_rules()      # register the rules (test_coverage needs them)

RT = 1e-12
T5 = np.linspace(0.0, 1.5, 5)
W = normal(5, 3)


def decay(y, t, a, b):
    return -a * y + b * np.sin(3.0 * t)


def oscillator(y, t, k, c):
    # a damped oscillator returning a list, as SciPy's examples do
    return [y[1], -k * y[0] - c * y[1]]


def forced(t, y, w):
    # tfirst=True: the time comes first
    return np.cos(w * t) - 0.5 * y


def logistic(y, t, r):
    return r * y * (1.0 - y)


def _decay_loss(y0, a, b):
    return np.sum(si.odeint(decay, y0, T5, args=(a, b), rtol=RT, atol=RT, mxstep=20000) * W)


def _oscillator_loss(y0, k, c):
    ys = si.odeint(oscillator, y0, T5, args=(k, c), rtol=RT, atol=RT, mxstep=20000)
    return np.sum(ys[:, 0] ** 2) + np.sum(ys[:, 1])


def _times_loss(t, y0, a):
    # differentiated output times (t[0] moves the start of the trajectory)
    return np.sum(si.odeint(decay, y0, t, args=(a, 0.4), rtol=RT, atol=RT, mxstep=20000) * W[:4])


def _tfirst_loss(y0, w):
    return np.sum(si.odeint(forced, y0, T5, args=(w,), tfirst=True, rtol=RT, atol=RT,
                            mxstep=20000) ** 2)


def _scalar_loss(y0, r):
    # a Python-scalar initial value: odeint's result has shape (len(t), 1)
    return np.sum(si.odeint(logistic, y0, T5, args=(r,), rtol=RT, atol=RT, mxstep=20000))


def _repeated_loss(a):
    # a is the initial value, an argument, and used again outside
    ys = si.odeint(decay, a * np.ones(3), T5, args=(a, a), rtol=RT, atol=RT, mxstep=20000)
    return np.sum(ys * W) + np.sum(a ** 2) * ys[-1, 0]


def _twice_loss(y0, a):
    first = si.odeint(decay, y0, T5[:3], args=(a, 0.2), rtol=RT, atol=RT, mxstep=20000)
    return np.sum(si.odeint(decay, first[-1], T5[2:], args=(2.0 * a, 0.1), rtol=RT, atol=RT,
                            mxstep=20000) ** 2)


def _lambda_loss(y0, a):
    # a lambda without free variables: the values come in through args
    return np.sum(si.odeint(lambda y, t, k: -k * y + 0.1, y0, T5, args=(a,), rtol=RT,
                            atol=RT) ** 2)


def ivp_rhs(t, y, a, b):
    return -a * y + b * np.sin(3.0 * t)


def _ivp_loss(y0, a, b):
    sol = si.solve_ivp(ivp_rhs, (0.0, 2.0), y0, t_eval=T5, args=(a, b), rtol=RT, atol=RT)
    return np.sum(sol.y * W.T)


def _ivp_times_loss(ts, y0, a):
    # the output times, .t (ts itself) and another method
    sol = si.solve_ivp(ivp_rhs, (0.0, 2.0), y0, t_eval=ts, args=(a, 0.4), rtol=RT, atol=RT,
                       method="DOP853")
    return np.sum(sol.y * W[:4].T) + np.sum(sol.t ** 2)


def _ivp_start_loss(t0, y0):
    # a differentiated start time, a lambda without free variables, no args
    sol = si.solve_ivp(lambda t, y: -0.5 * y * np.cos(t), (t0, 2.0), y0,
                       t_eval=np.array([1.0, 1.5]), rtol=RT, atol=RT)
    return np.sum(sol.y ** 2)


SPECS = [
    Spec("odeint", _decay_loss, (normal(3), 0.7, normal(3)), wrt=(0, 1, 2), id="odeint-args"),
    Spec("odeint", _decay_loss, (normal(3), pos(3), 0.3), wrt=(0, 1), id="odeint-array-arg"),
    Spec("odeint", _oscillator_loss, (normal(2), 1.3, 0.2), wrt=(0, 1, 2),
         id="odeint-list-rhs"),
    Spec("odeint", _times_loss, (np.array([0.1, 0.5, 0.9, 1.6]), normal(3), 0.8),
         wrt=(0, 1, 2), id="odeint-times", float32=False),
    Spec("odeint", _tfirst_loss, (normal(2), 2.0), wrt=(0, 1), id="odeint-tfirst"),
    Spec("odeint", _scalar_loss, (0.2, 1.5), wrt=(0, 1), id="odeint-python-scalars"),
    Spec("odeint", _repeated_loss, (0.6,), id="odeint-repeated"),
    Spec("odeint", _lambda_loss, (normal(3), 0.4), wrt=(0, 1), id="odeint-lambda"),
    Spec("solve_ivp", _ivp_loss, (normal(3), 0.7, normal(3)), wrt=(0, 1, 2), id="solve_ivp"),
    Spec("solve_ivp", _ivp_times_loss, (np.array([0.1, 0.5, 0.9, 1.6]), normal(3), 0.8),
         wrt=(0, 1, 2), id="solve_ivp-times", float32=False),
    Spec("solve_ivp", _ivp_start_loss, (0.2, normal(2)), wrt=(0, 1), id="solve_ivp-start"),
    Spec("odeint", _twice_loss, (normal(3), 0.9), wrt=(0, 1), id="odeint-twice"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_odeint(spec):
    check_spec(spec)


def test_odeint_value_is_scipys():
    y0, a, b = normal(3), 0.7, normal(3)
    v, g = s2sgrad.value_and_grad(_decay_loss, wrt=(0, 1, 2))(y0, a, b)
    assert v == _decay_loss(y0, a, b)
    assert g[0].shape == (3,) and np.shape(g[1]) == () and g[2].shape == (3,)


def test_odeint_gradient_at_default_tolerance():
    """At SciPy's default tolerances (about 1.5e-8) the gradient is accurate to
    about that, relative: what the README promises."""
    def loss(y0, a):
        return np.sum(si.odeint(decay, y0, T5, args=(a, 0.3)) ** 2)
    s2sgrad.check_grads(loss, (normal(3), 0.7), wrt=(0, 1), rtol=1e-4, atol=1e-6)


def _local_rhs(y0, a):
    return np.sum(si.odeint(lambda y, t: -a * y, y0, T5))


def _dfun(y0, a):
    return np.sum(si.odeint(decay, y0, T5, args=(a, 0.1), Dfun=lambda y, t, a, b: -a))


def _full_output(y0, a):
    return np.sum(si.odeint(decay, y0, T5, args=(a, 0.1), full_output=True)[0])


def test_odeint_refusals():
    with pytest.raises(s2sgrad.S2SGradError, match="reads no variable.*args="):
        s2sgrad.grad(_local_rhs)(normal(3), 0.5)
    with pytest.raises(s2sgrad.S2SGradError, match="Dfun="):
        s2sgrad.grad(_dfun)(normal(3), 0.5)
    with pytest.raises(s2sgrad.S2SGradError, match="full_output="):
        s2sgrad.grad(_full_output)(normal(3), 0.5)


def test_odeint_second_derivative_is_refused():
    # refused naming the user's line, the reason and what to do instead, in
    # both orders of nesting
    for second in (lambda: s2sgrad.hessian(_scalar_loss)(0.2, 1.5),
                   lambda: s2sgrad.grad(s2sgrad.grad(_scalar_loss))(0.2, 1.5),
                   lambda: s2sgrad.jvp(s2sgrad.grad(_scalar_loss))((0.2, 1.5), (1.0,))):
        with pytest.raises(s2sgrad.S2SGradError, match="second derivative through "
                                                       "scipy.integrate.odeint") as info:
            second()
        assert "test_scipy_integrate.py:" in str(info.value) and "RK4" in str(info.value)


def test_solve_ivp_second_derivative_is_refused():
    def loss(k):
        r = si.solve_ivp(ivp_rhs, (0.0, 1.0), np.array([1.0, 2.0]), t_eval=np.array([0.5, 1.0]),
                         args=(k, 0.1))
        return np.sum(r.y ** 2)

    s2sgrad.check_grads(loss, (0.3,), rtol=1e-3, atol=1e-5)      # the first derivative works
    with pytest.raises(s2sgrad.S2SGradError, match="second derivative through "
                                                   "scipy.integrate.solve_ivp"):
        s2sgrad.grad(s2sgrad.grad(loss))(0.3)


def _ivp_no_t_eval(y0):
    return np.sum(si.solve_ivp(ivp_rhs, (0.0, 1.0), y0, args=(0.3, 0.1)).y)


def _ivp_dense(y0):
    return np.sum(si.solve_ivp(ivp_rhs, (0.0, 1.0), y0, t_eval=T5[:2], args=(0.3, 0.1),
                               dense_output=True).y)


def _ivp_fails(y0):
    # the solution blows up before t = 2: SciPy returns a truncated result
    sol = si.solve_ivp(lambda t, y: y ** 2, (0.0, 2.0), y0, t_eval=np.array([0.5, 1.9]))
    return np.sum(sol.y)


def test_solve_ivp_value_is_scipys():
    y0, a, b = normal(3), 0.7, normal(3)
    v, _ = s2sgrad.value_and_grad(_ivp_loss, wrt=(0, 1, 2))(y0, a, b)
    assert v == _ivp_loss(y0, a, b)


def test_solve_ivp_refusals():
    with pytest.raises(s2sgrad.S2SGradError, match="without t_eval="):
        s2sgrad.grad(_ivp_no_t_eval)(normal(3))
    with pytest.raises(s2sgrad.S2SGradError, match="dense_output="):
        s2sgrad.grad(_ivp_dense)(normal(3))
    with pytest.raises(ValueError, match="solve_ivp failed"):
        s2sgrad.grad(_ivp_fails)(np.array([1.0]))


def _few_steps(y0, a):
    return np.sum(si.odeint(decay, y0, T5, args=(a, 0.3), rtol=RT, atol=RT, mxstep=4))


def test_a_failed_derivative_solve_raises():
    # SciPy only warns when its step limit stops the forward solve; an
    # inaccurate derivative is not returned: its solve raises
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="adjoint equations.*mxstep"):
            s2sgrad.grad(_few_steps)(normal(3), 0.5)
        with pytest.raises(ValueError, match="sensitivity equations.*mxstep"):
            s2sgrad.jvp(_few_steps)((normal(3), 0.5), (normal(3),))
