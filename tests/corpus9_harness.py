"""Checks shared by the corpus9 test files (not a test module).

``run_case(f, args, wrt, ...)`` checks one user program the way a user of
autograd/JAX would expect it to behave:

* the value of ``value_and_grad`` equals the plain NumPy function's (run on
  copies of the arguments: a generator argument is in the same state);
* the gradient, leaf by leaf of whatever container the argument is, equals
  central differences computed here (every element perturbed, the function
  run on fresh copies each time, so generator arguments draw the same
  numbers);
* the gradient has the argument's structure, and each leaf its kind (a
  Python float gives a float, float32 gives float32);
* the caller's arguments are unchanged, and a second call (the cached,
  shape-specialised code) gives the same value and gradient;
* optionally the forward mode (``check_grads(..., modes=("rev", "fwd"))``).

A refusal (an ``S2SGradError``) is not caught here: the test files record
the refusals they expect, with the reason, and check that the message
names the user's line.
"""
import copy
import inspect

import numpy as np

from s2sgrad import check_grads, value_and_grad


def leaves(x, path=()):
    """(path, leaf) pairs of a pytree of dicts, lists, tuples (namedtuples)."""
    if isinstance(x, dict):
        for k in x:
            yield from leaves(x[k], path + (k,))
    elif isinstance(x, (list, tuple)):
        for i, v in enumerate(x):
            yield from leaves(v, path + (i,))
    else:
        yield path, x


def replace(x, path, v):
    """A copy of the pytree ``x`` with the leaf at ``path`` replaced."""
    if not path:
        return v
    k, rest = path[0], path[1:]
    if isinstance(x, dict):
        y = dict(x)
        y[k] = replace(x[k], rest, v)
        return y
    items = list(x)
    items[k] = replace(x[k], rest, v)
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(*items)
    return type(x)(items)


def _positions(f, wrt):
    names = list(inspect.signature(f).parameters)
    single = not isinstance(wrt, tuple)
    ws = (wrt,) if single else wrt
    return single, [names.index(w) if isinstance(w, str) else w for w in ws]


def fd_grad(f, args, kwargs=None, wrt=0, eps=1e-6):
    """Central differences of scalar ``f`` w.r.t. ``args[wrt]`` (a pytree)."""
    kwargs = kwargs or {}
    single, pos = _positions(f, wrt)

    def ev(a):
        return float(np.real(f(*copy.deepcopy(a), **copy.deepcopy(kwargs))))

    out = []
    for p in pos:
        tree = args[p]
        g = tree
        for path, leaf in leaves(tree):
            is_float = isinstance(leaf, float)
            base = np.array(leaf, dtype=np.float64)
            d = np.zeros_like(base)
            for i in range(base.size):
                hi, lo = base.copy(), base.copy()
                hi.flat[i] += eps
                lo.flat[i] -= eps
                a_hi, a_lo = list(args), list(args)
                dt = np.asarray(leaf).dtype
                a_hi[p] = replace(tree, path, float(hi) if is_float else hi.astype(dt))
                a_lo[p] = replace(tree, path, float(lo) if is_float else lo.astype(dt))
                d.flat[i] = (ev(a_hi) - ev(a_lo)) / (2 * eps)
            g = replace(g, path, float(d) if is_float else d)
        out.append(g)
    return out[0] if single else tuple(out)


def same_structure(g, x):
    """``g`` has ``x``'s container structure and each leaf its kind."""
    gl, xl = list(leaves(g)), list(leaves(x))
    assert [p for p, _ in gl] == [p for p, _ in xl], (gl, xl)
    assert type(g) is type(x) or isinstance(x, np.ndarray), (type(g), type(x))
    for (_, a), (_, b) in zip(gl, xl):
        if isinstance(b, float):
            assert isinstance(a, float), (type(a), b)
        else:
            assert np.shape(a) == np.shape(b), (np.shape(a), np.shape(b))
            da, db = np.asarray(a).dtype, np.asarray(b).dtype
            assert da == db, (da, db)


def assert_tree_close(g, ref, rtol, atol, what=""):
    gl, rl = list(leaves(g)), list(leaves(ref))
    assert [p for p, _ in gl] == [p for p, _ in rl]
    for (p, a), (_, b) in zip(gl, rl):
        np.testing.assert_allclose(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64),
                                   rtol=rtol, atol=atol, err_msg=f"{what} leaf {p}")


def unchanged(before, after):
    for (p, a), (_, b) in zip(leaves(before), leaves(after)):
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True), \
                f"argument leaf {p} was modified"


def run_case(f, args, wrt=0, kwargs=None, *, modes=("rev", "fwd"), rtol=1e-5, atol=1e-7,
             eps=1e-6, vrtol=1e-10):
    kwargs = kwargs or {}
    expected = f(*copy.deepcopy(args), **copy.deepcopy(kwargs))
    call_args = copy.deepcopy(args)
    snapshot = copy.deepcopy(call_args)
    vg = value_and_grad(f, wrt=wrt)
    v, g = vg(*call_args, **kwargs)
    unchanged(snapshot, call_args)
    np.testing.assert_allclose(v, expected, rtol=vrtol, atol=1e-12, err_msg="value")
    single, pos = _positions(f, wrt)
    gs = (g,) if single else g
    assert len(gs) == len(pos)
    for gi, p in zip(gs, pos):
        same_structure(gi, args[p])
    ref = fd_grad(f, args, kwargs, wrt, eps)
    assert_tree_close(g, ref, rtol, atol, "gradient vs central differences:")
    # again, on the cached (shape-specialised) code
    v2, g2 = vg(*copy.deepcopy(args), **kwargs)
    np.testing.assert_allclose(v2, v, rtol=1e-12, atol=0)
    assert_tree_close(g2, g, 1e-12, 0, "second call:")
    if modes:
        check_grads(f, copy.deepcopy(args), wrt=wrt, kwargs=copy.deepcopy(kwargs), modes=modes,
                    rtol=1e-4, atol=1e-6)
    return v, g
