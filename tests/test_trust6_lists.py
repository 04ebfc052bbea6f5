"""Lists that session 19's rewrites (the _ListOf facts of specialize.py,
list_arrays.py, in-place list_append/list_pop, the scaled and nested tapes
of tapes.py) could get wrong (trust6).  Each bug found by
tests/trust6_harness.py (or the fuzzers) is a program here: value against
plain NumPy, gradient against central differences (tests/trust4_harness)."""
import numpy as np
import pytest

from s2sgrad import grad, hessian
from tests.trust4_harness import _fd, agree

R = np.random.default_rng(6)
X = R.normal(size=3) * 0.7
W = R.normal(size=(3, 3)) * 0.5


# --------------------------------------------- unstack of a 1-d array: scalars
# runtime.unstack of a 1-d cotangent gives NumPy scalars; the _ListOf example
# of its elements was np.ascontiguousarray's (1,)-shaped array.  When the
# reversed loop popping them is differentiated again (grad of a function that
# calls grad), the popped cotangents go on a tape allocated (n, 1) and come
# back as (1,) arrays, which broadcast:
#   grad(x -> sum(grad(stack_scalars)(x)))  [-2.384, 6.776, -4.673]  (3x)
#     -> [-0.795, 2.259, -1.558] (= differences of grad); with np.fmin after
#     the stack it raised ValueError in unbroadcast (test_fuzz seed 68000002).

def stack_scalars(x):
    v = np.stack([r * 2.0 for r in x])
    return np.sum(np.sin(v))


def stack_scalars_fmin(x):
    v = np.stack([r * 2.0 for r in x])
    c = np.fmin(v, 0.5)
    for i in range(2):
        c = np.tanh(c + x[i])
    return np.sum(v) + np.sum(np.sin(c))


def stack_appended_scalars(x):
    hs = []
    for t in range(3):
        hs.append(x[t] * x[(t + 1) % 3])
    return np.sum(np.cos(np.stack(hs)))


def _nested_grad_agrees(f, x, v):
    """grad(f) against differences of f, and grad(x -> grad(f)(x) . v)
    against differences of grad(f) (whose values the first check proved)."""
    g = grad(f)
    np.testing.assert_allclose(g(x), _fd(f, (x,), 0, 1e-6), rtol=1e-5, atol=1e-7)

    def gv(x):
        return np.sum(g(x) * v)
    gg = grad(gv)(x)
    np.testing.assert_allclose(gg, _fd(gv, (x,), 0, 1e-6), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(hessian(f)(x) @ v, gg, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("f", [stack_scalars, stack_scalars_fmin, stack_appended_scalars])
def test_grad_of_grad_of_stacked_scalars(f):
    agree(f, X.copy())
    _nested_grad_agrees(f, X.copy(), np.array([1.0, -0.5, 2.0]))
    _nested_grad_agrees(f, X.astype(np.float64) * 0.3, np.ones(3))


# ------------------------------------- refusals that must stay refusals
def _refused(f, *args, match):
    from s2sgrad import S2SGradError, value_and_grad
    with pytest.raises(S2SGradError, match=match):
        value_and_grad(f)(*args)


# A view of the state appended in a loop (``hs.append(h[::-1])``), the state
# written in place after the loop: NumPy's list entry is that view and sees
# the write.  The loop's output for ``h`` did not inherit what the body's
# views of ``h`` were linked to (only ``h``'s own links), and the write rule
# skipped views no name holds, so the write was not refused and the list kept
# the values before it:
#   view_appended_then_written (X, W, 3)   0.0618 -> refused (NumPy 0.0926)
#   straight_view_appended                  3.0309 -> refused (NumPy 3.6608)

def view_appended_then_written(x, W, T):
    h = x.copy()
    hs = []
    for t in range(T):
        h = np.tanh(W @ h) * 0.9
        hs.append(h[::-1])
    h += 0.1
    return np.sum(np.array(hs) ** 2) + np.sum(h ** 2)


def slice_appended_then_set(x, W, T):
    h = x.copy()
    hs = []
    for t in range(T):
        h = np.tanh(W @ h) * 0.9
        hs.append(h[1:])
    h[0] = 0.1
    return np.sum(np.array(hs) ** 2)


def straight_view_appended(x, W, T):
    h = x.copy()
    hs = []
    for t in range(T):
        h = np.tanh(W @ h) * 0.9
        hs.append(h)
    g = np.cos(h)
    hs.append(g[::-1])
    g += 0.1
    return np.sum(np.concatenate(hs) ** 2) + np.sum(h ** 2)


@pytest.mark.parametrize("f", [view_appended_then_written, slice_appended_then_set,
                               straight_view_appended])
def test_write_into_an_appended_view_is_refused(f):
    _refused(f, X.copy(), W.copy(), 3, match="may or may not change 'hs'")


def view_appended_copy_then_written(x, W, T):
    # (the same with a copy appended: no alias, computed)
    h = x.copy()
    hs = []
    for t in range(T):
        h = np.tanh(W @ h) * 0.9
        hs.append(h[::-1].copy())
    h += 0.1
    return np.sum(np.array(hs) ** 2) + np.sum(h ** 2)


def view_appended_then_rebound(x, W, T):
    h = x.copy()
    hs = []
    for t in range(T):
        h = np.tanh(W @ h) * 0.9
        hs.append(h[::-1])
    h = h + 0.1
    return np.sum(np.array(hs) ** 2) + np.sum(h ** 2)


@pytest.mark.parametrize("f", [view_appended_copy_then_written, view_appended_then_rebound])
@pytest.mark.parametrize("wrt", [0, 1])
def test_appended_view_not_written_is_computed(f, wrt):
    agree(f, X.copy(), W.copy(), 3, wrt=wrt, fwd=False)
    agree(f, X.copy(), W.copy(), 1, wrt=wrt, fwd=False)


# An array appended under one name and bound to another that the next
# iteration writes in place (``hs.append(g); h = g`` then ``h *= 0.9``):
# NumPy's entry is that array and sees the write.  The check of writes into
# arrays a list holds (Lowerer.refuse_kept_then_written) relates names by the
# roots they had before the loop; ``g`` is first bound in the body and had
# none, so ``h = g`` related nothing and the list kept the value at the
# append:  rebound_then_written (X, W, 3)  0.4295 -> refused (NumPy 0.3695)

def rebound_then_written(x, W, T):
    h = x.copy()
    hs = []
    for t in range(T):
        h *= 0.9
        g = h * np.cos(h[0])
        hs.append(g)
        h = g
    return np.sum(np.array(hs) ** 2)


def rebound_in_inner_loop_then_written(x, W, T):
    h = x.copy()
    hs = []
    for t in range(T):
        h *= 0.9
        g = h * 1.0
        for j in range(2):
            g = g * np.cos(g[0])
            hs.append(g)
        h = g
    return np.sum(np.array(hs) ** 2)


def rebound_conditional_append(x, W, T):
    h = x.copy()
    hs = []
    for t in range(T):
        h *= 0.9
        g = h * 1.0
        if t > 0:
            hs.append(g)
        h = g
    return np.sum(np.array(hs) ** 2)


@pytest.mark.parametrize("f", [rebound_then_written, rebound_in_inner_loop_then_written,
                               rebound_conditional_append])
def test_write_through_a_rebound_name_is_refused(f):
    _refused(f, X.copy(), W.copy(), 3, match="while a list still holds 'g'")


def rebound_not_written(x, W, T):
    # (h rebound to a new array each step, never written: computed)
    h = x.copy()
    hs = []
    for t in range(T):
        h = h * 0.9
        g = h * np.cos(h[0])
        hs.append(g)
        h = g
    return np.sum(np.array(hs) ** 2)


@pytest.mark.parametrize("wrt", [0, 1])
def test_rebound_not_written_is_computed(wrt):
    agree(rebound_not_written, X.copy(), W.copy(), 3, wrt=wrt, fwd=False)


# ------------------------------------- a write into a number in a dead branch
# ``H = sum(hs)`` of an empty list is the int 0; ``H[0] = 0.0`` in a branch
# that never runs printed ``H = 0.copy()``, a SyntaxError of the whole
# generated function (harness seed 575).

def dead_write_into_number(x, W, T):
    hs = []
    s = np.sum(x ** 2)
    if len(hs) > 0:
        H = sum(hs)
        H[0] = 0.0
        s = s + np.sum(H ** 2)
    return s


@pytest.mark.parametrize("wrt", [0, 1])
def test_dead_write_into_a_number_compiles(wrt):
    agree(dead_write_into_number, X.copy(), W.copy(), 3, wrt=wrt, fwd=False)


# ------------------------------------- list operations on runtime lists
# ``+`` with a list built at run time was lowered as NumPy's add of the arrays
# the lists make: ``np.stack(hs + [x])`` added x to every row (same shape) or
# raised a broadcasting error, ``hs + hs`` doubled the rows.  Now ``hs + [v]``
# is hs with v appended (a new list), ``hs += [v]`` appends in place, and the
# other list operations on a runtime list are refused.  Values before -> after:
#   runtime_plus_literal (X, W, 3)   0.6675 -> 0.2551 (= NumPy)
#   plus_in_loop                     ValueError -> computed
# ``hs.pop()`` rebound only the name popped from: another name of the same
# list (``ks = hs``) kept the popped item:
#   pop_then_alias (X, W, 3)        0.6731 -> 0.2582 (= NumPy)

def runtime_plus_literal(x, W, T):
    hs = []
    h = x
    for t in range(T):
        h = np.tanh(W @ h)
        hs.append(h)
    return np.sum(np.stack(hs + [x, 2.0 * x]) ** 2)


def plus_in_loop(x, W, T):
    hs = []
    h = x
    for t in range(T):
        h = np.tanh(W @ h)
        hs = hs + [h]
    return np.sum(np.stack(hs + [x]) ** 2)


def iadd_in_loop(x, W, T):
    hs = []
    h = x
    for t in range(T):
        h = np.tanh(W @ h)
        hs += [h, h * 2.0]
    return np.sum(np.stack(hs + [x]) ** 2)


def iadd_through_alias(x, W, T):
    hs = [x]
    gs = hs
    hs += [x * 2.0]
    h = np.tanh(W @ x)
    for t in range(T):
        h = np.tanh(W @ h)
        hs.append(h)
    gs += [h * 3.0]
    return np.sum(np.stack(gs) ** 2) + np.sum(np.stack(hs))


def plus_keeps_old(x, W, T):
    hs = []
    h = x
    for t in range(T):
        h = np.tanh(W @ h)
        hs.append(h)
    gs = hs + [x]
    hs.append(W[0])
    return np.sum(np.stack(gs) ** 2) + np.sum(np.stack(hs) * 0.5)


def pop_then_alias(x, W, T):
    hs = []
    h = x
    for t in range(T):
        h = np.tanh(W @ h)
        hs.append(h)
    ks = hs
    last = hs.pop()
    return np.sum(np.stack(ks + [x]) ** 2) + np.sum(last)


def array_plus_runtime_list(x, W, T):
    # (a list and an array: NumPy's add, as in Python)
    hs = []
    h = x
    for t in range(T):
        h = np.tanh(W @ h)
        hs.append(h)
    return np.sum((hs + np.ones((1, 3))) ** 2)


@pytest.mark.parametrize("f", [runtime_plus_literal, plus_in_loop, iadd_in_loop, iadd_through_alias,
                               plus_keeps_old, pop_then_alias, array_plus_runtime_list])
@pytest.mark.parametrize("wrt", [0, 1])
def test_list_operations_on_runtime_lists(f, wrt):
    for T in (3, 1):
        agree(f, X.copy(), W.copy(), T, wrt=wrt, fwd=False)


def literal_plus_runtime(x, W, T):
    hs = []
    for t in range(T):
        hs.append(x * t)
    return np.sum(np.stack([x] + hs) ** 2)


def runtime_plus_runtime(x, W, T):
    hs = []
    for t in range(T):
        hs.append(x * t)
    return np.sum(np.stack(hs + hs) ** 2)


def runtime_times_int(x, W, T):
    hs = []
    for t in range(T):
        hs.append(x * t)
    return np.sum(np.stack(hs * 2) ** 2)


def runtime_plus_empty(x, W, T):
    # (a copy of the list object: the later append must not reach gs)
    hs = []
    for t in range(T):
        hs.append(x * t)
    gs = hs + []
    hs.append(x)
    return np.sum(np.stack(gs) ** 2) + np.sum(np.stack(hs))


@pytest.mark.parametrize("f", [literal_plus_runtime, runtime_plus_runtime, runtime_times_int,
                               runtime_plus_empty])
def test_other_list_operations_are_refused(f):
    _refused(f, X.copy(), W.copy(), 3, match="on a list built at run time")


# A list chosen at run time among two list objects (``tgt = hs if c else gs``,
# or one branch's list bound to another name) and changed through that name:
# the change reaches one of them, known at run time only.  The branches'
# literal lists were merged item by item into a new list and the runtime
# ones into a new version, so neither hs nor gs saw the append:
#   select_then_append (X, W, 3)     1.5488 -> refused (NumPy 1.6613)
#   aliased_cond_append              0.2173 -> refused (NumPy 2.1727)

def select_then_append(x, W, T):
    hs = []
    gs = []
    h = x
    for t in range(T):
        h = np.tanh(W @ h)
        tgt = hs if t % 2 == 0 else gs
        tgt.append(h)
    return np.sum(np.stack(hs + [x]) ** 2) + np.sum(np.stack(gs + [x]) * 3)


def aliased_cond_append(x, W, T):
    hs = [x]
    gs = hs
    if np.sum(W) > 0:
        hs.append(x * 2)
    hs.append(x * 3)
    return np.sum(np.stack(gs) ** 2)


def branch_swap_append(x, W, T):
    hs = []
    gs = []
    h = x
    for t in range(T):
        h = np.tanh(W @ h)
        if t % 2 == 0:
            other = gs
        else:
            other = hs
        other.append(h)
    return np.sum(np.stack(hs + [x]) ** 2) + np.sum(np.stack(gs + [x]))


@pytest.mark.parametrize("f", [select_then_append, aliased_cond_append, branch_swap_append])
def test_change_of_a_list_chosen_at_run_time_is_refused(f):
    _refused(f, X.copy(), W.copy() + 0.5, 3, match="chosen at run time")


def cond_append_then_append(x, W, T):
    # (one list object either way: computed)
    hs = [x]
    if np.sum(W) > 0:
        hs.append(x * 2)
    hs.append(x * 3)
    return np.sum(np.stack(hs) ** 2)


def fresh_lists_per_branch(x, W, T):
    if np.sum(W) > 0:
        xs = [x, x * 2]
    else:
        xs = [x * 3, x]
    xs.append(x * 4)
    return np.sum(np.stack(xs) ** 2)


@pytest.mark.parametrize("f", [cond_append_then_append, fresh_lists_per_branch])
@pytest.mark.parametrize("wrt", [0, 1])
def test_one_list_per_branch_is_computed(f, wrt):
    agree(f, X.copy(), W.copy() + 0.5, 3, wrt=wrt, fwd=False)
    agree(f, X.copy(), W.copy() - 0.5, 3, wrt=wrt, fwd=False)


# ------------------------------------- an inner loop starting from a value made before the outer
# Code generation gave a loop's initial value the carry's name when the loop
# is its only reader (no copy on entry).  For an inner loop whose initial
# value is made before the outer loop (``g = h * 1.0`` folded to ``h``, loop
# invariant), every run of the inner loop starts from it; the carry's writes
# under the same name made the next outer step start from the last state
# instead.  Under grad (s dead, the inner states only on the tape):
#   inner_from_outer_value grad in x (harness seed 484, T=3)
#     [1.1434, 1.7736, 3.6055] -> [0.4567, 0.9184, 3.6687] (= differences)

def inner_from_outer_value(x, W, T):
    h = W[0]
    s = 0.0
    for t in range(T):
        g = h * 1.0
        for j in range(3):
            g = np.sin(W @ g + x)
        s = s + np.sum(g)
    return s + np.sum(h ** 2)


def inner_from_argument_row(x, W, T):
    s = 0.0
    for t in range(T):
        g = W[1]
        for j in range(2):
            g = np.tanh(g * x + W[j])
        s = s + np.sum(g * x)
    return s


def inner_in_branch(x, W, T):
    h = x * 2.0
    s = 0.0
    for t in range(T):
        if t % 2 == 0:
            g = h
            for j in range(2):
                g = np.cos(W @ g) * x
            s = s + np.sum(g ** 2)
    return s


def inner_while(x, W, T):
    h = W[2] * 1.0
    s = 0.0
    for t in range(T):
        g = h
        j = 0
        while j < 2:
            g = np.sin(W @ g) + x
            j += 1
        s = s + np.sum(g * g)
    return s


@pytest.mark.parametrize("f", [inner_from_outer_value, inner_from_argument_row,
                               inner_in_branch, inner_while])
@pytest.mark.parametrize("wrt", [0, 1])
def test_inner_loop_from_a_value_made_before_the_outer(f, wrt):
    rng = np.random.default_rng(484)
    x, Wm = rng.normal(size=3) * 0.7, rng.normal(size=(3, 3)) * 0.5
    for T in (3, 1):
        agree(f, x, Wm, T, wrt=wrt, fwd=False)
        g = grad(f, wrt=wrt)(x, Wm, T)
        np.testing.assert_allclose(g, _fd(f, (x, Wm, T), wrt, 1e-6), rtol=1e-5, atol=1e-7)


# ---------------------------- a write into an array a runtime list holds
# h = x[::-1] before a loop of run-time trip count that may rebind h; after
# it, h += 0.1 writes into x when the loop ran no step -- and hs, a list
# the loop appends to, holds x.  The write's may-share partner (x) was dead,
# but the live list holding it was not asked: 8.2667 for NumPy's 8.5286
# (trust6_harness seed 5020).  Now refused at the write.

def write_into_listed_array(x, T):
    h = x[::-1]
    hs = [x]
    for t in range(T):
        hs.append(h)
        h = h * 2.0
    h += 0.1
    return np.sum(np.sin(sum(hs))) + np.sum(h ** 2)


def write_into_array_list_not_read_after(x, T):
    h = x[::-1]
    hs = [x]
    for t in range(T):
        hs.append(h)
        h = h * 2.0
    s = np.sum(np.sin(sum(hs)))
    h += 0.1
    return s + np.sum(h ** 2)


def write_into_listed_array_no_loop(x):
    h = x[::-1]
    hs = [x]
    h += 0.1
    return np.sum(np.sin(sum(hs))) + np.sum(h ** 2)


@pytest.mark.parametrize("T", [0, 2])
def test_write_into_an_array_a_live_list_holds_is_refused(T):
    from tests.trust4_harness import refuses
    refuses(write_into_listed_array, X.copy(), T, match="'hs'")


@pytest.mark.parametrize("T", [0, 1, 3])
def test_write_after_the_list_is_read_is_exact(T):
    agree(write_into_array_list_not_read_after, X.copy(), T)


def test_write_into_a_known_listed_view_is_exact():
    agree(write_into_listed_array_no_loop, X.copy())
