"""Regression tests for what trust13 found or made exact; each fails on
7ed9f94 (refused there, or a wrong number)."""
import numpy as np
import pytest

import s2sgrad


def _fd(f, args, i, eps=1e-6):
    a = list(args)
    x = np.array(a[i], dtype=float)
    g = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        vals = []
        for sign in (1.0, -1.0):
            b = [v.copy(order='K') if isinstance(v, np.ndarray) else v for v in a]
            b[i] = x.copy(order='K')
            b[i][k] += sign * eps
            vals.append(f(*b))
        g[k] = (vals[0] - vals[1]) / (2 * eps)
    return g


def _check(f, args, wrt=(0, 1), rtol=1e-6, atol=1e-8, vg=None):
    kept = [a.copy(order='K') if isinstance(a, np.ndarray) else a for a in args]
    want = f(*[a.copy(order='K') if isinstance(a, np.ndarray) else a for a in args])
    v, g = (vg or s2sgrad.value_and_grad(f, wrt=wrt))(*args)
    np.testing.assert_allclose(v, want, rtol=1e-12, atol=1e-12)
    assert np.asarray(v).dtype == np.asarray(want).dtype
    for w, gw in zip(wrt, g):
        np.testing.assert_allclose(gw, _fd(f, args, w), rtol=rtol, atol=atol)
    for a, k in zip(args, kept):
        np.testing.assert_array_equal(a, k)       # the caller's data unchanged


# ---------------------------------------------------------------- NumPy-int trip counts
# A = W (an argument read after the loop) rebound to a view of itself in a
# loop that writes through it: the alias model cannot carry the view from one
# iteration to the next, and trust12 unrolled such a loop only over a
# constant range (a Python int argument is one).  With the trip count a NumPy
# int (np.int64(3), what shape arithmetic and np.argmax give) the loop was
# refused on 7ed9f94: 24 of 200 of the loop-layout probe (seeds 0-200).  Now
# the NumPy int is made a compile-time constant as a Python int is (keyed by
# its type and value: another value compiles again, up to
# MAX_STATIC_VALUES), and the loop is unrolled.

def argument_flipped(x, W, n):
    A = W
    s = 0.0
    for t in range(n):
        np.multiply(A, 1.5, out=A)
        A = A[::-1]
        s = s + np.sum(A.reshape(9)[:4] * A[0, 0])
    return s + np.sum(A * np.sin(W)) + np.sum(A ** 2) * 0.3 + np.sum(A[0] * x)


def argument_transposed(x, W, n):
    # (n is also read as a number: a NumPy int64 promotes float32 to float64)
    A = W
    for t in range(1, n):
        A = A.T
        A[0] *= 1.0 + x
    return np.sum(A * W) + np.sum(x * n) + np.sum(W[1] ** 2)


@pytest.mark.parametrize("f", [argument_flipped, argument_transposed])
def test_numpy_int_trip_count_unrolled(f):
    rng = np.random.default_rng(13)
    vg = s2sgrad.value_and_grad(f, wrt=(0, 1))
    # one compiled function called with several kinds and values: each its own version
    for n in (np.int64(3), np.int64(0), np.int32(2), 2, np.int64(2), np.uint8(4), np.int64(3)):
        x = rng.normal(size=3) * 0.7
        W = rng.normal(size=(3, 3)) * 0.5
        _check(f, (x, W, n), vg=vg)
        _check(f, (x, np.asfortranarray(W), n))
    x32 = (rng.normal(size=3) * 0.7).astype(np.float32)
    v, _ = vg(x32, W.copy(), np.int64(3))
    want = f(x32.copy(), W.copy(), np.int64(3))
    assert v.dtype == want.dtype
    np.testing.assert_allclose(v, want, rtol=1e-6)


def test_numpy_int_trip_count_higher_order():
    rng = np.random.default_rng(14)
    f = argument_transposed
    g = s2sgrad.grad(f)
    for n in (np.int64(3), np.int64(4)):
        x, W = rng.normal(size=3), rng.normal(size=(3, 3))
        H = s2sgrad.hessian(f)(x, W, n)
        Hfd = np.stack([(g(x + 1e-6 * e, W, n) - g(x - 1e-6 * e, W, n)) / 2e-6
                        for e in np.eye(3)], axis=-1)
        np.testing.assert_allclose(H, Hfd, rtol=1e-6, atol=1e-7)
        v = rng.normal(size=3)
        np.testing.assert_allclose(s2sgrad.hvp(f)((x, W, n), v), H @ v, rtol=1e-9, atol=1e-12)
        out, t = s2sgrad.jvp(f)((x, W, n), (v,))
        np.testing.assert_allclose(out, f(x.copy(), W.copy(), n), rtol=1e-12)
        np.testing.assert_allclose(t, g(x, W, n) @ v, rtol=1e-9, atol=1e-12)


def test_numpy_int_trip_count_limits_refuse_with_the_line():
    x, W = np.ones(3) * 0.3, np.eye(3)
    # past the unrolling limit
    with pytest.raises(s2sgrad.S2SGradError, match="may or may not change") as err:
        s2sgrad.grad(argument_flipped)(x, W, np.int64(300))
    assert "test_trust13_fixes.py:" in str(err.value)
    # past MAX_STATIC_VALUES distinct values of one argument (as a Python int)
    g = s2sgrad.grad(argument_transposed)
    limit = type(g).MAX_STATIC_VALUES
    for k in range(limit):
        np.testing.assert_allclose(g(x, W, np.int64(k)), _fd(argument_transposed,
                                                                (x, W, np.int64(k)), 0),
                                   rtol=1e-6, atol=1e-8)
    with pytest.raises(s2sgrad.S2SGradError, match="may or may not change"):
        g(x, W, np.int64(limit))
    # the earlier values still run their versions
    np.testing.assert_allclose(g(x, W, np.int64(3)), _fd(argument_transposed,
                                                          (x, W, np.int64(3)), 0),
                               rtol=1e-6, atol=1e-8)


def test_numpy_int_trip_count_exported():
    import types
    x, W = np.ones(3) * 0.3, np.eye(3) + 0.1
    src = s2sgrad.export(s2sgrad.grad(argument_transposed), example_args=(x, W, np.int64(3)))
    m = types.ModuleType("trust13_exported")
    exec(compile(src, "trust13_exported", "exec"), m.__dict__)
    np.testing.assert_allclose(m.argument_transposed_grad(x, W.copy(), np.int64(3)),
                               _fd(argument_transposed, (x, W, np.int64(3)), 0),
                               rtol=1e-6, atol=1e-8)
    with pytest.raises(TypeError, match="export again"):
        m.argument_transposed_grad(x, W.copy(), np.int64(2))


# ---------------------------------------------------------------- unrolled loops with a data-dependent exit
# A loop unrolled after an alias refusal (a view of W rebound and written
# through) whose break or return depends on data: each step after the first
# was lowered under `if not <left the loop>:` with the flag still a Var in
# the branch, so its body went under a second if of the same flag, whose
# join made the carry "W's view or the other view": the next step's write
# was refused on 7ed9f94 (for every trip count >= 2).  In the branch the
# flag is False; the next step is now lowered as straight code.

def break_on_data(x, W, n):
    A = W
    for t in range(n):
        A = A.T
        A[0] *= 1.0 + x
        if np.sum(A) > 3.0:
            break
    return np.sum(A * W) + np.sum(W[1] ** 2)


def break_before_write(x, W, n):
    A = W
    s = 0.0
    for t in range(n):
        A = A[::-1]
        if np.sum(A[0]) > 0.5:
            break
        A[0] += x * 0.5
        s = s + np.sum(A * A)
    return s + np.sum(A * np.sin(W)) + np.sum(A[0] * x)


def continue_on_data(x, W, n):
    A = W
    for t in range(n):
        A = A.T
        if np.sum(A[1]) < 0.0:
            continue
        A[1] *= 1.0 + x
    return np.sum(A * W) + np.sum(W[0] * x)


def return_on_data(x, W, n):
    A = W
    for t in range(n):
        A = A.T
        A[0] *= 1.0 + 0.3 * x
        if np.sum(A) > 2.0:
            return np.sum(A * W) * 2.0
    return np.sum(A * W) + np.sum(W[1] ** 2)


@pytest.mark.parametrize("f", [break_on_data, break_before_write, continue_on_data,
                               return_on_data])
def test_unrolled_loop_with_a_data_dependent_exit(f):
    rng = np.random.default_rng(15)
    for i in range(12):
        x = rng.normal(size=3) * 0.6
        W = rng.normal(size=(3, 3)) * 0.6
        n = (0, 1, 2, 3, 4, np.int64(3))[i % 6]
        if i % 4 == 3:
            W = np.asfortranarray(W)
        _check(f, (x, W, n), rtol=1e-5, atol=1e-7)
    # points that leave the loop early and late
    x, W = np.array([0.9, 0.8, 0.7]), np.full((3, 3), 0.4)
    _check(f, (x, W, 4), rtol=1e-5, atol=1e-7)
    _check(f, (-x, -W, 4), rtol=1e-5, atol=1e-7)


# ---------------------------------------------------------------- closures returned from helpers
# A nested function returned from a helper reads the helper's names when it
# is called (rd = mk(W[2]); W[2] *= 1.5; rd() sees the write).  The helper's
# inlined scope had returned, so writes no longer reached its names: the
# closure read the array as it was when it was made.  On 7ed9f94 (found by
# tests/trust13_harness.py, cells family, seed 8): 0.44 for NumPy's 0.66.

def closure_of_a_row(x, W):
    def mk(a):
        def read():
            return np.sum(a * x)
        return read
    rd = mk(W[2])
    W[2] *= 1.5
    return rd() + np.sum(np.sin(W) * W)


def lambda_of_the_argument(x, W):
    def mk(a):
        return lambda: np.sum(a * a * x)
    rd = mk(W)
    W[2] *= 1.5 + x
    return rd() + np.sum(W[1] * x)


def closure_of_a_local(x, W):
    def mk(a):
        def read():
            return np.sum(a * x)
        return read
    V = np.tanh(W)
    rd = mk(V[::-1])
    V[2] = x
    r1 = rd()
    V *= 2.0
    return r1 + rd() + np.sum(V)


def closure_called_in_a_loop(x, W):
    def mk(a):
        return lambda: np.sum(a * x)
    rd = mk(W.T[1])
    s = 0.0
    for t in range(3):
        W[:, 1] *= 1.1 + 0.1 * x
        s = s + rd()
    return s + np.sum(np.cos(W))


def closure_two_levels(x, W):
    def outer(a):
        def mid():
            def inner():
                return np.sum(a * x)
            return inner
        return mid()
    rd = outer(W.T[0])
    W[:, 0] -= x
    return rd() + np.sum(W ** 2)


@pytest.mark.parametrize("f", [closure_of_a_row, lambda_of_the_argument, closure_of_a_local,
                               closure_called_in_a_loop, closure_two_levels])
def test_closure_sees_later_writes(f):
    rng = np.random.default_rng(16)
    for k in range(3):
        x, W = rng.normal(size=3) * 0.5, rng.normal(size=(3, 3)) * 0.5
        _check(f, (x, np.asfortranarray(W) if k == 2 else W))


def default_of_a_row(x, W):
    def mk(a):
        return lambda v=a: np.sum(v * x)
    rd = mk(W[0])
    W[0] *= 3.0
    return rd() + np.sum(W)


def test_write_into_the_array_of_a_default_refused():
    # (the default is W[0], kept where the lambda was made: 7ed9f94 read it
    # as it was then, 0.52 for NumPy's 0.91 at this point)
    x, W = np.array([0.3, -0.2, 0.5]), np.arange(9.0).reshape(3, 3) * 0.1 + 0.1
    with pytest.raises(s2sgrad.S2SGradError, match="default value") as err:
        s2sgrad.value_and_grad(default_of_a_row)(x, W)
    assert "test_trust13_fixes.py:" in str(err.value)


# ---------------------------------------------------------------- a view chosen by a branch
# A = W[0] if c else W[1] (or W if c else W.T, or an if statement binding A
# to one view or the other) and then a write through A: refused on 7ed9f94
# as a write into one array or another (40 of 120 programs of the trust13
# harness's dataflow family).  Both are chains of views of one array a name
# holds: A is now a view of it chosen at run time (alias.Choice), read and
# written through the side the branch took.

def chosen_row(x, W):
    A = W[0] if np.sum(W[0]) > np.sum(W[1]) else W[1]
    A *= np.cos(x)
    return np.sum(np.sin(W) * W) + np.sum(A * x)


def chosen_transpose(x, W):
    A = W if float(x[0]) > 0 else W.T
    A[1] += x
    return np.sum(np.sin(W) * W) + np.sum(x ** 2 * np.cos(x)) + np.sum(A[2] * x)


def chosen_then_base_written(x, W):
    if np.sum(x) > 0:
        A = W.T[1]
    else:
        A = W[::-1, 2]
    W[1] *= 1.5 + x          # seen through A
    A += 0.5 * x             # seen through W
    return np.sum(A * np.sin(W[0])) + np.sum(W * W)


def chosen_view_of_a_view(x, W):
    A = W[1] if x[0] > 0 else W.T[1]
    B = A[::-1]
    B[0] += x[2]
    A[1] *= 2.0
    return np.sum(W ** 2) + np.sum(B * x)


def chosen_of_a_local(x, W):
    V = np.tanh(W)
    A = V.T if x[2] > 0 else V
    A[0, 1:] = x[:2]
    return np.sum(V * np.cos(W)) + np.sum(A)


def chosen_in_a_loop(x, W):
    s = 0.0
    for t in range(3):
        A = W[t] if x[t] > 0 else W[:, t]
        A *= 0.9 + 0.1 * x
        s = s + np.sum(A * A)
    return s + np.sum(np.sin(W))


def chosen_element(x, W):
    # a[0, 1] of a 2-d array is a NumPy scalar (a copy): W unchanged
    A = W[0, 1] if x[0] > 0 else W[1, 0]
    A *= 2.0
    return np.sum(W * W) + A * x[1]


@pytest.mark.parametrize("f", [chosen_row, chosen_transpose, chosen_then_base_written,
                               chosen_view_of_a_view, chosen_of_a_local, chosen_in_a_loop,
                               chosen_element])
def test_view_chosen_by_a_branch(f):
    rng = np.random.default_rng(17)
    for k in range(6):
        x, W = rng.normal(size=3) * 0.7, rng.normal(size=(3, 3)) * 0.7
        if k % 3 == 2:
            W = np.asfortranarray(W)
        if k % 2:
            x = -x
        _check(f, (x, W), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("f", [chosen_transpose, chosen_then_base_written])
def test_view_chosen_by_a_branch_second_order(f):
    rng = np.random.default_rng(18)
    g = s2sgrad.grad(f)
    for sign in (1.0, -1.0):
        x, W = sign * np.abs(rng.normal(size=3)) * 0.7, rng.normal(size=(3, 3)) * 0.7
        H = s2sgrad.hessian(f)(x, W)
        Hfd = np.stack([(g(x + 1e-6 * e, W) - g(x - 1e-6 * e, W)) / 2e-6 for e in np.eye(3)],
                       axis=-1)
        np.testing.assert_allclose(H, Hfd, rtol=1e-5, atol=1e-6)
        v = rng.normal(size=3)
        out, t = s2sgrad.jvp(f)((x, W), (v,))
        np.testing.assert_allclose(t, g(x, W) @ v, rtol=1e-9, atol=1e-12)


def chosen_from_two_arrays(x, W):
    V = W * 2.0
    A = W[0] if x[0] > 0 else V[0]
    A += x
    return np.sum(W) + np.sum(V * V)


def test_view_of_one_array_or_another_still_refused():
    with pytest.raises(s2sgrad.S2SGradError, match="may or may not change") as err:
        s2sgrad.value_and_grad(chosen_from_two_arrays)(np.ones(3), np.eye(3))
    assert "test_trust13_fixes.py:" in str(err.value)


def test_views_chosen_by_a_branch_of_earlier_refusal_tests():
    # (programs earlier sessions' tests kept as refusals: exact now)
    from tests.test_aliasing import view_chosen_by_branch as a
    from tests.test_trust4_views import view_chosen_by_branch as b
    from tests.test_trust5_writes import branch_view_write as c
    rng = np.random.default_rng(19)
    for k in range(4):
        x = rng.normal(size=6)
        flag = float(k % 2) - 0.5
        _check(a, (x,), wrt=(0,))
        _check(b, (x, flag), wrt=(0,))
        _check(c, (x, flag), wrt=(0,))
        _check(c, (x[:4], np.array(flag)), wrt=(0,))
