"""Checks shared by the corpus10 test files (not a test module).

``check(f, args, wrt, kwargs, ...)`` runs corpus9's ``run_case`` (value
against the plain NumPy function on copies, the gradient leaf by leaf against
central differences, structure and dtypes of the gradient, arguments
unchanged, the cached second call, the forward mode) and then:

* a call of the same compiled object **at another point** (every float leaf
  of the differentiated arguments moved by a fixed random amount): value
  against NumPy and gradient against central differences there, so cached,
  shape-specialised code cannot reuse values of the first point;
* unless ``f32=False``, the **float32** version of the differentiated array
  arguments: the value against NumPy's float32 run, the gradient of dtype
  float32 and close (float32 tolerance) to the float64 gradient;
* ``order2=True``: the Hessian-vector product against central differences of
  the gradient (first array argument differentiated).

A refusal (``S2SGradError``) is not caught here: the test files list the
refusals they expect with the reason and check the user's line is named.
"""
import copy

import numpy as np

from s2sgrad import grad, hvp, value_and_grad
from tests.corpus9_harness import (_positions, assert_tree_close, fd_grad, leaves, replace,
                                   run_case, same_structure)


def _moved(args, pos, seed=11, scale=0.05):
    """Copies of ``args`` with every float leaf of the positions ``pos`` moved."""
    rng = np.random.default_rng(seed)
    out = list(copy.deepcopy(args))
    for p in pos:
        tree = out[p]
        for path, leaf in leaves(tree):
            if isinstance(leaf, float):
                tree = replace(tree, path, leaf + scale * float(rng.normal()))
            elif isinstance(leaf, np.ndarray) and leaf.dtype.kind == "f":
                tree = replace(tree, path, (leaf + scale * rng.normal(size=leaf.shape))
                               .astype(leaf.dtype))
        out[p] = tree
    return tuple(out)


def _to32(args, pos):
    out = list(copy.deepcopy(args))
    for p in pos:
        tree = out[p]
        for path, leaf in leaves(tree):
            if isinstance(leaf, np.ndarray) and leaf.dtype == np.float64:
                tree = replace(tree, path, leaf.astype(np.float32))
        out[p] = tree
    return tuple(out)


def check(f, args, wrt=0, kwargs=None, *, modes=("rev", "fwd"), f32=True, order2=False,
          rtol=1e-5, atol=1e-7, eps=1e-6, vrtol=1e-10, f32_rtol=2e-3, f32_atol=2e-4):
    kwargs = kwargs or {}
    args = tuple(args)
    v, g = run_case(f, args, wrt, kwargs, modes=modes, rtol=rtol, atol=atol, eps=eps,
                    vrtol=vrtol)
    single, pos = _positions(f, wrt)
    vg = value_and_grad(f, wrt=wrt)
    vg(*copy.deepcopy(args), **copy.deepcopy(kwargs))
    # another point, same compiled object
    other = _moved(args, pos)
    expected = f(*copy.deepcopy(other), **copy.deepcopy(kwargs))
    snap = copy.deepcopy(other)
    call = copy.deepcopy(other)
    v2, g2 = vg(*call, **copy.deepcopy(kwargs))
    np.testing.assert_allclose(v2, expected, rtol=vrtol, atol=1e-12, err_msg="value, 2nd point")
    for (p_, a), (_, b) in zip(leaves(snap), leaves(call)):
        if isinstance(a, np.ndarray):
            assert np.array_equal(a, b, equal_nan=True), f"argument {p_} modified (2nd point)"
    ref2 = fd_grad(f, other, kwargs, wrt, eps)
    assert_tree_close(g2, ref2, rtol, atol, "gradient at the 2nd point:")
    if f32:
        a32 = _to32(args, pos)
        exp32 = f(*copy.deepcopy(a32), **copy.deepcopy(kwargs))
        v32, g32 = value_and_grad(f, wrt=wrt)(*copy.deepcopy(a32), **copy.deepcopy(kwargs))
        np.testing.assert_allclose(np.float64(v32), np.float64(exp32), rtol=f32_rtol,
                                   atol=f32_atol, err_msg="float32 value")
        gs32 = (g32,) if single else g32
        for gi, p in zip(gs32, pos):
            same_structure(gi, a32[p])
        scale = max([1.0] + [float(np.max(np.abs(x))) for _, x in leaves(g)
                             if np.size(x)])
        assert_tree_close(g32, g, f32_rtol * 5, f32_atol * scale * 5, "float32 gradient:")
    if order2:
        p = next(i for i in pos if isinstance(args[i], np.ndarray))
        x = np.asarray(args[p], dtype=np.float64)
        vdir = np.random.default_rng(5).normal(size=x.shape)

        def at(xx):
            a = list(copy.deepcopy(args))
            a[p] = xx
            return a
        gr = grad(f, wrt=p)
        e = 1e-5
        fd = (gr(*at(x + e * vdir), **kwargs) - gr(*at(x - e * vdir), **kwargs)) / (2 * e)
        hv = hvp(f, wrt=p)(tuple(at(x.copy())), vdir, **kwargs)
        sc = max(1.0, float(np.max(np.abs(fd))))
        np.testing.assert_allclose(hv, fd, rtol=1e-4, atol=1e-5 * sc, err_msg="hvp")
    return v, g


def run_table(cases, name):
    """One entry of a CASES table: (f, args, wrt, kwargs[, options])."""
    entry = cases[name]
    f, args, wrt, kwargs = entry[:4]
    opts = entry[4] if len(entry) > 4 else {}
    return check(f, args, wrt, kwargs, **opts)
