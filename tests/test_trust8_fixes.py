"""Programs trust8's fuzzing (tests/trust8_harness.py and the earlier
harnesses with new seeds) found wrong, crashing or refused unclearly, and
session 20's leftovers; each against plain NumPy and central differences."""
import warnings

import numpy as np
import pytest
import scipy.linalg
import scipy.stats
import scipy.fft
import scipy.special

import s2sgrad
from s2sgrad import S2SGradError
from tests.trust4_harness import _fd, agree

X = np.array([0.5, -0.3, 0.2])
XP = np.array([0.5, 0.3, 0.2])


# ------------------------------------------------ np.mean of an empty list

def _mean_losses(x, T):
    losses = []
    h = x
    for t in range(T):
        h = np.tanh(h)
        losses.append(np.sum(h))
    return np.mean(losses) + np.sum(x)


def test_mean_of_an_empty_loss_list_is_nan_not_zero_division():
    """The mean's adjoint divided the seed 1.0 (a Python float) by
    np.size(losses) == 0: ZeroDivisionError where NumPy's value is nan with
    'Mean of empty slice'."""
    vg = s2sgrad.value_and_grad(_mean_losses)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        v, g = vg(X, 0)
    assert np.isnan(v) and np.isnan(_mean_losses(X.copy(), 0))
    assert any("Mean of empty slice" in str(i.message) for i in w)
    # nothing reaches x through the empty mean: d sum(x) / dx
    np.testing.assert_allclose(g, np.ones(3))


@pytest.mark.parametrize("T", [1, 2, 3])
def test_mean_of_a_loss_list_still_agrees(T):
    agree(_mean_losses, X.copy(), T, fwd=False)


def _mean_empty_slice(x, n):
    return np.mean(x[:n]) * 2.0 + np.sum(x ** 2)


def test_mean_of_an_empty_slice_with_a_size_known_only_at_run_time():
    vg = s2sgrad.value_and_grad(_mean_empty_slice)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        v, g = vg(X, 0)
    assert np.isnan(v)
    np.testing.assert_allclose(g, 2 * X)
    agree(_mean_empty_slice, X.copy(), 2)


# ------------------------------------------------ xs[i] op= v on a runtime list

def _views_in_list_scaled(x, T):
    # trust6 seed 3038, minimised: hs holds views of h; hs[0] *= 2 doubles h
    h = x * 1.0
    hs = []
    for t in range(T):
        hs.append(h[::-1])
    hs[0] *= 2.0
    return np.sum(h ** 2)


def _same_array_twice(x, T):
    h = x * 1.0
    hs = []
    for t in range(T):
        hs.append(h)
    hs[0] += 1.0
    return np.sum(hs[0] ** 2) + np.sum(hs[1])


@pytest.mark.parametrize("f", [_views_in_list_scaled, _same_array_twice])
def test_augmented_assignment_into_a_runtime_list_item_is_refused(f):
    """NumPy's __imul__ writes into the item's memory, which h (or the
    list's other entries) share; s2sgrad stored a new array in the slot:
    0.38 for NumPy's 1.52 (and 4.58 for 7.58).  Now refused at the line."""
    assert f(X.copy(), 3) != pytest.approx(0.38)
    with pytest.raises(S2SGradError, match=r"test_trust8_fixes\.py:\d+: 'hs\[0\] [*+]= "
                                           r"[0-9.]+' writes in place into the array a list"):
        s2sgrad.value_and_grad(f)(X.copy(), 3)


def _rebound_list_item(x, T):
    hs = []
    for t in range(T):
        hs.append(x * (t + 1.0))
    hs[0] = hs[0] * 2.0
    return np.sum(hs[0] * hs[-1])


def test_storing_a_new_array_into_a_runtime_list_still_works():
    agree(_rebound_list_item, X.copy(), 3)


# ------------------------------------------------ L[0] = v into a list passed as data

def _write_into_data_list(x, L):
    L[0] = x * 2
    return np.sum(L[0]) + L[1]


def _constant_into_data_list(x, L):
    L[0] = 5.0
    return np.sum(x * L[0]) + L[1]


def _copy_of_data_list(x, L):
    q = [v for v in L]
    q[0] = x * 2
    return np.sum(q[0] * x) + q[1]


def test_differentiated_write_into_a_list_passed_as_data_is_refused_clearly():
    """Was TypeError 'Field elements must be 2- or 3-tuples' from the
    array rule's np.result_type(L)."""
    with pytest.raises(S2SGradError, match=r"test_trust8_fixes\.py:\d+: a differentiated value "
                                           r"is written into a list passed as a"):
        s2sgrad.value_and_grad(_write_into_data_list)(X.copy(), [1.0, 2.0])


def test_item_assignment_into_a_tuple_passed_as_data_is_refused():
    with pytest.raises(S2SGradError, match=r"'L' is a tuple passed as an argument"):
        s2sgrad.value_and_grad(_write_into_data_list)(X.copy(), (1.0, 2.0))


def test_constant_written_into_a_data_list_and_a_copied_list_agree():
    v, g = s2sgrad.value_and_grad(_constant_into_data_list)(X.copy(), [1.0, 2.0])
    np.testing.assert_allclose(v, _constant_into_data_list(X.copy(), [1.0, 2.0]))
    np.testing.assert_allclose(g, np.full(3, 5.0))
    L = [1.0, 2.0]
    v, g = s2sgrad.value_and_grad(_copy_of_data_list)(X.copy(), L)
    np.testing.assert_allclose(v, _copy_of_data_list(X.copy(), [1.0, 2.0]), rtol=1e-12)
    np.testing.assert_allclose(g, _fd(lambda x: _copy_of_data_list(x, [1.0, 2.0]), (X,), 0,
                                      1e-6), rtol=1e-6)
    assert L == [1.0, 2.0]


# ------------------------------------------------ a branch of an inlined helper changes the caller's values

def _set_first(v, s):
    if s > 0:
        v[0] = s * 3.0
    return s


def _scale_if(v, s):
    if s > 0:
        v *= 3.0
    else:
        v[1] = s
    return s


def _append_if(lst, v):
    if v[0] > 0:
        lst.append(v * 2.0)
    return lst


def _helper_writes(x):
    y = x * 1.0
    _set_first(y, x[1])
    return np.sum(y ** 2)


def _helper_writes_either(x):
    y = x * 1.0
    _scale_if(y, x[1])
    return np.sum(y ** 2) + np.sum(y * x)


def _helper_appends(x):
    hs = []
    _append_if(hs, x)
    _append_if(hs, -x)
    s = 0.0
    for h in hs:
        s = s + np.sum(h ** 2)
    return s + np.sum(x)


def _appends_then_more(x):
    hs = []
    if x[0] > 0:
        hs.append(x * 2.0)
    hs.append(x * 3.0)
    s = 0.0
    for h in hs:
        s = s + np.sum(h ** 2)
    return s + np.sum(np.stack(hs)[-1]) * len(hs)


@pytest.mark.parametrize("f", [_helper_writes, _helper_writes_either, _helper_appends,
                               _appends_then_more])
@pytest.mark.parametrize("x", [X, XP, -XP])
def test_branch_of_inlined_helper_changing_the_callers_values(f, x):
    """A conditional write or append inside an inlined helper left the
    caller's name bound to the branch's value: IRVerificationError '%v.5
    used before definition'; a list appended to in one branch could not be
    appended to after it ('.append' on this value is not supported)."""
    agree(f, x.copy())


# ------------------------------------------------ scipy.linalg.norm's own value

def _scipy_norm_tiny(x):
    return scipy.linalg.norm(x * 1e-200) * 1e200


def _scipy_norms(x, A):
    return scipy.linalg.norm(x) ** 3 + scipy.linalg.norm(A, 1) * scipy.linalg.norm(x, 3) + \
        scipy.linalg.norm(A, "fro") + np.sum(scipy.linalg.norm(A, axis=0, keepdims=True) * A) + \
        scipy.linalg.norm(A, "nuc") * scipy.linalg.norm(x, np.inf)


def test_scipy_norm_is_scipys_value():
    """scipy.linalg.norm was expanded to np.linalg.norm, whose sqrt(x . x)
    underflows where SciPy's BLAS nrm2 scales: 0.0 for SciPy's 2.367
    (trust8 harness seed 3049)."""
    x = np.array([0.93041553, -0.33918743, 0.13884823]) * 2.367
    want = _scipy_norm_tiny(x)
    assert want == pytest.approx(np.sqrt(np.sum(x ** 2)), rel=1e-12)
    v = s2sgrad.value_and_grad(_scipy_norm_tiny)(x)[0]
    assert v == want
    assert s2sgrad.jvp(_scipy_norm_tiny)((x,), (np.ones(3),))[0] == want


def test_scipy_norms_agree():
    A = np.array([[0.3, -1.2, 0.5, 0.1], [0.8, 0.2, -0.4, 1.1], [-0.6, 0.9, 0.7, -0.2]])
    agree(_scipy_norms, X.copy(), A, wrt=(0, 1), fwd=False)
    for w in (0, 1):
        agree(_scipy_norms, X.copy(), A, wrt=w)


# ------------------------------------------------ tuple == tuple is one truth value

def _tuple_eq(x):
    t = (x[0], x[1])
    if t == (x[0], x[1]):
        return np.sum(x ** 2)
    return np.sum(x)


def _tuple_ne(x):
    t = (x[0], x[1])
    if t != (x[0], 0.7):
        return np.sum(x ** 3)
    return np.sum(x)


def _tuple_eq_lengths(x):
    if (x[0], x[1]) == (x[0],) or [x[0]] == (x[0],):
        return np.sum(x)
    return np.sum(x ** 2)


def _list_eq_flags(x):
    m = [x[0] > 0, x[1] > 0]
    if m == [True, False]:
        return np.sum(np.sin(x))
    return np.sum(x ** 2)


@pytest.mark.parametrize("f", [_tuple_eq, _tuple_ne, _tuple_eq_lengths, _list_eq_flags])
@pytest.mark.parametrize("x", [X, XP, np.array([0.3, 0.3, -0.2])])
def test_tuple_equality_is_one_truth_value(f, x):
    """(a, b) == (c, d) was NumPy's elementwise comparison of two arrays:
    'truth value of an array with more than one element is ambiguous'
    raised from the generated code."""
    agree(f, x.copy())


# ------------------------------------------------ vjp's pullback never returns the cotangent's memory

def _identity(x, W):
    return x


def _column(x, W):
    return x.reshape(3, 1)


def _matvec(x, W):
    return W @ x


@pytest.mark.parametrize("f", [_identity, _column, _matvec])
@pytest.mark.parametrize("wrt", [0, (0, 1)])
def test_pullback_result_is_not_the_cotangent(f, wrt):
    """The pullback of x (or x.reshape) returned the caller's cotangent
    array itself (or a view of it): writing into the gradient changed the
    cotangent, and the next pullback(ct) gave 99 for 2."""
    W = np.arange(9.0).reshape(3, 3)
    out, pb = s2sgrad.vjp(f, wrt=wrt)(X.copy(), W)
    np.testing.assert_array_equal(out, f(X.copy(), W))
    ct = np.full(np.shape(out), 2.0)
    g = pb(ct)
    gs = g if isinstance(g, tuple) else (g,)
    want = [np.ravel(W.T @ np.ravel(ct)) if f is _matvec else np.full(3, 2.0),
            np.outer(np.ravel(ct), X) if f is _matvec else np.zeros((3, 3))]
    for gi, w in zip(gs, want):
        assert not np.shares_memory(gi, ct)
        np.testing.assert_allclose(gi, w)
        gi[...] = 99.0
    np.testing.assert_array_equal(ct, np.full(np.shape(out), 2.0))
    again = pb(ct)
    np.testing.assert_allclose(again if not isinstance(again, tuple) else again[0], want[0])


# ------------------------------------------------ scipy.stats summaries keep a float32 sample's dtype

def _stats_sum(x):
    return scipy.stats.skew(x) + scipy.stats.kurtosis(x, bias=False) + scipy.stats.sem(x) + \
        scipy.stats.variation(x, ddof=1) + scipy.stats.zscore(x)[1] + scipy.stats.gmean(x) + \
        scipy.stats.hmean(x) + scipy.stats.pmean(x, 2.5) + scipy.stats.moment(x, 3) + \
        scipy.stats.entropy(x) + scipy.stats.tvar(x) + scipy.stats.skew(x, bias=False) + \
        scipy.stats.tmean(x)


def _variation_all_dof(x):
    return scipy.stats.variation(x, ddof=4) + np.sum(x)


def test_scipy_stats_summaries_of_float32_are_float32():
    """They were computed in float64 (every operand cast, as the
    distributions are): SciPy keeps a float32 sample's dtype."""
    x32 = np.array([1.0, 2.0, 3.0, 5.0], np.float32)
    want = _stats_sum(x32.copy())
    v, g = s2sgrad.value_and_grad(_stats_sum)(x32)
    assert np.asarray(want).dtype == np.float32
    assert np.asarray(v).dtype == np.float32 and g.dtype == np.float32
    np.testing.assert_allclose(v, want, rtol=1e-5)
    agree(_stats_sum, np.array([1.0, 2.0, 3.5, 5.0]))


def test_scipy_variation_with_ddof_n_is_inf_not_zero_division():
    x = np.array([1.0, 2.0, 3.0, 5.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = _variation_all_dof(x.copy())
        v = s2sgrad.value_and_grad(_variation_all_dof)(x)[0]
    assert np.isinf(want) and v == want


# ------------------------------------------------ astype's adjoint of a complex cotangent

def _fft_of_float32(x):
    x32 = x.astype(np.float32)
    return np.sum(scipy.fft.fft(x32).real * x32[0]) + np.sum(np.abs(np.fft.rfft(x32)) ** 2)


def test_astype_adjoint_takes_the_real_part_of_a_complex_cotangent():
    """The cotangent of x.astype(np.float32) reached it complex (an fft's
    rule, before the argument's real part is taken): cast to float64 with a
    ComplexWarning, an error under warnings-as-errors."""
    x = np.array([0.5, -0.3, 0.2, 0.7])
    ref = lambda x: np.sum(scipy.fft.fft(x).real * x[0]) + np.sum(np.abs(np.fft.rfft(x)) ** 2)  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v, g = s2sgrad.value_and_grad(_fft_of_float32)(x)
        gv = s2sgrad.vjp(_fft_of_float32)(x)[1](1.0)
    np.testing.assert_allclose(v, _fft_of_float32(x.copy()), rtol=1e-5)
    np.testing.assert_allclose(g, _fd(ref, (x,), 0, 1e-6), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(gv, g)
    assert g.dtype == np.float64


# ------------------------------------------------ 1/Gamma at the poles of Gamma

def _rgamma_weighted(x):
    return np.sum(scipy.special.rgamma(x) * x)


def test_rgamma_derivative_at_the_poles_of_gamma():
    """-rgamma(x) digamma(x) is 0 * inf at x = 0, -1, -2, ...: nan (with an
    'invalid value' warning) where 1/Gamma is smooth, derivative (-1)^n n!."""
    x = np.array([0.0, -1.0, -3.0, 2.5, -0.5, 1.0, 4.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = s2sgrad.grad(_rgamma_weighted)(x)
    np.testing.assert_allclose(g[:3], [0.0, 1.0, 18.0], rtol=1e-12)   # x * rgamma'(x) + rgamma
    agree(_rgamma_weighted, x, hess=True)


def test_differentiated_write_into_a_data_list_is_refused_in_forward_mode_too():
    for call in (lambda: s2sgrad.jvp(_write_into_data_list)((X.copy(), [1.0, 2.0]), (X.copy(),)),
                 lambda: s2sgrad.jacobian(_write_into_data_list)(X.copy(), [1.0, 2.0])):
        with pytest.raises(S2SGradError, match=r"test_trust8_fixes\.py:\d+: a differentiated "
                                               r"value is written into a list passed as a"):
            call()


# ------------------------------------------------ a runtime loop inside an inlined helper

def _fill(lst, v, T, y):
    for t in range(T):
        lst.append(v * (t + 1.0))
        y[t % 3] = y[t % 3] * 2.0
    return lst


def _caller_of_fill(x, T):
    hs = []
    y = x * 1.0
    _fill(hs, x, T, y)
    s = np.sum(y ** 2)
    for h in hs:
        s = s + np.sum(h ** 2)
    return s + len(hs)


def _fill_while(lst, v, T):
    t = 0
    while t < T:
        lst.append(v * (t + 1.0))
        t += 1


def _caller_of_fill_twice(x, T):
    hs = [x]
    for k in range(2):
        _fill_while(hs, x * (k + 1.0), T)
    return sum(np.sum(h ** 2) for h in hs) + len(hs)


def _accumulate(y, v, T):
    for t in range(T):
        y += np.sin(v) * t


def _caller_of_accumulate(x, T):
    y = x * 1.0
    _accumulate(y, x, T)
    return np.sum(y ** 2)


@pytest.mark.parametrize("f", [_caller_of_fill, _caller_of_fill_twice])
@pytest.mark.parametrize("T", [0, 1, 3])
def test_runtime_loop_in_a_helper_changes_the_callers_list_and_array(f, T):
    """A helper's loop appending to the caller's list or writing into its
    array carried them as the helper's names only: the caller kept the
    values from before the loop (0.38 for NumPy's 9.84 at T=3)."""
    agree(f, X.copy(), T)


def test_helper_loop_augmenting_a_value_the_caller_holds_is_refused():
    """y += v in a helper's loop on a value not known to be an array: in place
    on an array (the caller's y sees it), a rebinding on a number -- was
    computed as a rebinding (the caller's y unchanged: 0.38 for 1.38)."""
    with pytest.raises(S2SGradError, match=r"also held by 'y' of the calling function"):
        s2sgrad.value_and_grad(_caller_of_accumulate)(X.copy(), 3)


def _half_square(x):
    return np.sum(x ** 2) * 0.5


def test_hvp_result_is_not_the_callers_vector():
    """The Hessian of sum(x ** 2) / 2 is I: hvp returned the caller's v
    itself, so writing into the result changed v."""
    v = np.array([1.0, 2.0, 3.0])
    for hv in (s2sgrad.hvp(_half_square)((X.copy(),), v), s2sgrad.hessp(_half_square)(X.copy(), v)):
        assert not np.shares_memory(hv, v)
        np.testing.assert_array_equal(hv, [1.0, 2.0, 3.0])
        hv[...] = 99.0
        np.testing.assert_array_equal(v, [1.0, 2.0, 3.0])


def _scale_in_place(v, T):
    for t in range(T):
        v[...] = v * 1.5 + 0.1


def _caller_of_scale_view(x, T):
    y = x * 1.0
    w = y[1:]
    _scale_in_place(w, T)
    return np.sum(y ** 2) + np.sum(w)


def _caller_of_scale_two_views(x, T):
    y = x * 1.0
    w = y[1:]
    w2 = y[:2]
    _scale_in_place(w, T)
    return np.sum(y ** 2) + np.sum(w) + np.sum(w2 * x[:2])


@pytest.mark.parametrize("T", [0, 2, 3])
def test_helper_loop_writing_through_the_callers_view(T):
    """The loop was lowered twice (the base of the view found to be written
    the first time) and the caller's names kept the first lowering's values:
    IRVerificationError '%y.10 used before definition'."""
    agree(_caller_of_scale_view, X.copy(), T)


def test_helper_loop_write_reaching_another_view_of_the_caller_is_refused():
    with pytest.raises(S2SGradError, match=r"test_trust8_fixes\.py:\d+: this loop of an inlined "
                                           r"function writes into an array that 'w2'"):
        s2sgrad.value_and_grad(_caller_of_scale_two_views)(X.copy(), 3)
