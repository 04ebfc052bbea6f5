"""The numpy-gradient checks of JAX's test suite, as s2sgrad cases.

In the spirit of ``tests/lax_numpy_test.py``, ``lax_numpy_reducers_test.py``,
``lax_numpy_operators_test.py``, ``linalg_test.py`` and
``lax_autodiff_test.py`` (JAX 0.4): for each ``jax.numpy`` function with a
NumPy counterpart that s2sgrad differentiates, ``grad`` (reverse) and
``jvp`` (forward) against finite differences, over the shapes JAX's tests
sweep -- Python scalars, NumPy scalars, 0-d arrays, ``(4,)``, ``(3, 4)``,
``(2, 3, 4)``, broadcasting pairs such as ``(3, 1)`` with ``(1, 4)`` --,
``axis`` None / int / negative / tuple, ``keepdims``, and float32 (the value
keeps NumPy's dtype, the derivative comes back float32 and agrees with the
float64 one to float32 accuracy).  JAX's special-value gradient checks
(``GRAD_SPECIAL_VALUE_TEST_RECORDS``: ``arcsinh`` at 0, ``sinc`` at 0...)
are kept.  The facts are JAX's (which functions, shapes, axes, modes); the
code is ours: every check is a user-style function written as source text,
compared with NumPy's value and with central differences by
:mod:`tests.ports.harness`.  Random data comes from a fixed seed.
"""
from __future__ import annotations

import dataclasses

import numpy as np

import s2sgrad

from . import harness
from .harness import Src, call_case, combos, source_case

RNG = np.random.default_rng(20250131)

A = "jax"


def R(*shape):
    return RNG.standard_normal(shape)


def P(*shape):
    """Positive data, away from 0."""
    return RNG.uniform(0.5, 2.0, shape)


def U(lo, hi, *shape):
    return RNG.uniform(lo, hi, shape)


def Dist(*shape):
    """Distinct values (no ties: sort, max, median are smooth there)."""
    n = int(np.prod(shape))
    return (RNG.permutation(n) * 0.37 + RNG.uniform(0, 0.1, n)).reshape(shape) - 0.2 * n


# JAX's shape sweeps (jtu.NUMPY_SCALAR_SHAPE, PYTHON_SCALAR_SHAPE, array shapes)
SHAPES = [(), (4,), (3, 4), (2, 3, 4)]
BCAST = [((), (3, 4)), ((4,), (3, 4)), ((3, 1), (1, 4)), ((2, 1, 4), (3, 1)),
         ((3, 4), (3, 4)), ((1,), (2, 3, 4))]


# ------------------------------------------------------------------ float32


def _to32(a):
    if isinstance(a, np.ndarray) and a.dtype == np.float64:
        return a.astype(np.float32)
    if isinstance(a, np.ndarray) and a.dtype == np.complex128:
        return a.astype(np.complex64)
    if isinstance(a, (list, tuple)):
        return type(a)(_to32(x) for x in a)
    return a


def _close_trees(a, b, rtol, atol):
    la, _ = s2sgrad.pytree.flatten(a)
    lb, _ = s2sgrad.pytree.flatten(b)
    if len(la) != len(lb):
        return "structure"
    for x, y in zip(la, lb):
        if x is None or y is None:
            continue
        x64 = np.asarray(x, np.complex128 if np.iscomplexobj(x) else np.float64)
        y64 = np.asarray(y, np.complex128 if np.iscomplexobj(y) else np.float64)
        if x64.shape != y64.shape:
            return f"shape {x64.shape} != {y64.shape}"
        scale = max(1.0, float(np.max(np.abs(y64), initial=0.0)))
        if not np.allclose(x64, y64, rtol=rtol, atol=atol * scale, equal_nan=True):
            return f"{harness._short(x)} != {harness._short(y)}"
    return None


def _dtypes(tree):
    leaves, _ = s2sgrad.pytree.flatten(tree)
    return [np.asarray(x).dtype for x in leaves if x is not None]


def f32_check(wrt, rtol=2e-3):
    """A custom check: the function on float32 inputs keeps NumPy's value and
    dtype; its derivative is float32 (for float32 arguments) and agrees with
    the float64 derivative at float32 accuracy."""
    def check(f, args, mode):
        a32 = tuple(_to32(a) for a in args)
        try:
            expected = f(*a32)
        except Exception as exc:            # nothing to compare with
            return "n/a", f"NumPy: {exc!r}"
        rng = np.random.default_rng(5)
        if mode == "rev":
            out, pb = s2sgrad.vjp(f, wrt=wrt)(*a32)
            u = harness.random_like(rng, expected)
            u = s2sgrad.pytree.unflatten(
                s2sgrad.pytree.flatten(u)[1],
                [None if x is None else np.asarray(x, dtype=np.asarray(e).dtype)
                 for x, e in zip(s2sgrad.pytree.flatten(u)[0],
                                 s2sgrad.pytree.flatten(expected)[0])])
            got = pb(u)
            out64, pb64 = s2sgrad.vjp(f, wrt=wrt)(*args)
            ref = pb64(u)
            for w, g in zip(wrt, got):
                x = a32[w]
                if isinstance(x, np.ndarray) and x.dtype == np.float32:
                    if np.asarray(g).dtype != np.float32:
                        return "wrong", f"cotangent dtype {np.asarray(g).dtype} for float32"
        else:
            vs = tuple(harness.random_like(rng, a32[w], data_zero=False) for w in wrt)
            vs32 = tuple(_to32(v) for v in vs)
            out, got = s2sgrad.jvp(f, wrt=wrt)(a32, vs32)
            _, ref = s2sgrad.jvp(f, wrt=wrt)(tuple(args), vs)
            if _dtypes(got) != _dtypes(expected):
                return "wrong", f"tangent dtypes {_dtypes(got)} != value's {_dtypes(expected)}"
        if _dtypes(out) != _dtypes(expected):
            return "wrong", f"value dtypes {_dtypes(out)} != NumPy's {_dtypes(expected)}"
        bad = _close_trees(out, expected, 1e-5, 1e-6)
        if bad:
            return "wrong", f"value: {bad}"
        bad = _close_trees(got, ref, rtol, rtol)
        if bad:
            return "wrong", f"derivative vs float64: {bad}"
        return "ok", ""
    return check


def with_f32(cases):
    """Each case, and its float32 twin (for cases with float64 array data)."""
    out = []
    for c in cases:
        out.append(c)
        if any(isinstance(a, np.ndarray) and a.dtype == np.float64 and a.ndim > 0
               for a in c.args):
            out.append(dataclasses.replace(c, name=c.name + "[f32]",
                                           custom=f32_check(c.wrt)))
    return out


def f32_only(cases):
    return [dataclasses.replace(c, name=c.name + "[f32]", custom=f32_check(c.wrt))
            for c in cases]


# ------------------------------------------------------------------ elementwise


UNARY = [  # name, data maker
    ("abs", lambda *s: R(*s) + np.sign(R(*s)) * 0.3), ("negative", R), ("positive", R),
    ("sin", R), ("cos", R), ("tan", lambda *s: U(-1.2, 1.2, *s)),
    ("arcsin", lambda *s: U(-0.9, 0.9, *s)), ("arccos", lambda *s: U(-0.9, 0.9, *s)),
    ("arctan", R), ("sinh", R), ("cosh", R), ("tanh", R), ("arcsinh", R),
    ("arccosh", lambda *s: U(1.2, 3, *s)), ("arctanh", lambda *s: U(-0.9, 0.9, *s)),
    ("exp", R), ("exp2", R), ("expm1", R), ("log", P), ("log2", P), ("log10", P),
    ("log1p", lambda *s: U(-0.5, 2, *s)), ("sqrt", P), ("cbrt", P), ("square", R),
    ("reciprocal", P), ("deg2rad", R), ("rad2deg", R), ("degrees", R), ("radians", R),
    ("sinc", R), ("fabs", lambda *s: P(*s) * np.sign(R(*s))), ("conj", R), ("real", R),
    ("conjugate", R), ("asin", lambda *s: U(-0.9, 0.9, *s)), ("atan", R),
    ("acosh", lambda *s: U(1.2, 3, *s)), ("nan_to_num", R),
]

BINARY = [  # name, lhs maker, rhs maker, wrt
    ("add", R, R, (0, 1)), ("subtract", R, R, (0, 1)), ("multiply", R, R, (0, 1)),
    ("divide", R, P, (0, 1)), ("true_divide", R, P, (0, 1)), ("power", P, R, (0, 1)),
    ("float_power", P, R, (0, 1)), ("arctan2", R, R, (0, 1)), ("hypot", R, R, (0, 1)),
    ("logaddexp", R, R, (0, 1)), ("logaddexp2", R, R, (0, 1)),
    ("maximum", Dist, R, (0, 1)), ("minimum", Dist, R, (0, 1)), ("fmax", Dist, R, (0, 1)),
    ("fmin", Dist, R, (0, 1)), ("copysign", R, R, (0,)), ("fmod", lambda *s: P(*s) * 3, P, (0,)),
    ("remainder", lambda *s: P(*s) * 3, P, (0,)), ("mod", lambda *s: P(*s) * 3, P, (0,)),
    ("atan2", R, R, (0, 1)), ("pow", P, R, (0, 1)),
]


def elementwise_cases():
    out = []
    for name, mk in UNARY:
        for s in SHAPES:
            out.append(call_case(A, f"{name}[{'x'.join(map(str, s)) or '0d'}]", f"np.{name}",
                                 (np.asarray(mk(*s)),)))
        v = float(np.asarray(mk(1))[0])
        out.append(call_case(A, f"{name}[pyscalar]", f"np.{name}", (v,)))
        out.append(call_case(A, f"{name}[npscalar]", f"np.{name}", (np.float64(v),)))
    for name, ml, mr, wrt in BINARY:
        for sl, sr in BCAST + [(s2, s1) for s1, s2 in BCAST[:4]]:
            a = np.asarray(ml(*sl)) if sl else np.asarray(ml(1))[0] * np.ones(())
            b = np.asarray(mr(*sr)) if sr else np.asarray(mr(1))[0] * np.ones(())
            out.append(call_case(A, f"{name}[{sl},{sr}]", f"np.{name}", (a, b), wrt=wrt))
        # Python scalar on either side (JAX's weak types)
        x = ml(3, 4)
        out.append(call_case(A, f"{name}[arr,pyscalar]", f"np.{name}",
                             (x, float(np.asarray(mr(1))[0])), wrt=wrt))
        out.append(call_case(A, f"{name}[pyscalar,arr]", f"np.{name}",
                             (float(np.asarray(ml(1))[0]), mr(3, 4)), wrt=wrt))
    # operators on arrays with Python scalars (weak types keep float32)
    for op in ("+", "-", "*", "/", "**"):
        out.append(source_case(A, f"op{op}[scalar]",
                               f"def f(x, y):\n    return (x {op} 2.5) * (1.5 {op} x) + y {op} x",
                               (P(3, 4), P(3, 4)), wrt=(0, 1)))
    out.append(call_case(A, "clip[arr-bounds]", "np.clip", (R(3, 4), -0.5 * P(4), 0.5 * P(3, 1)),
                         wrt=(0, 1, 2)))
    out.append(call_case(A, "clip[scalar-bounds]", "np.clip", (R(3, 4), -0.5, 0.5)))
    out.append(call_case(A, "clip[none-lo]", "np.clip", (R(3, 4), None, 0.3)))
    out.append(call_case(A, "clip[none-hi]", "np.clip", (R(3, 4), -0.3, None)))
    out.append(call_case(A, "where[bcast]", "np.where", (R(3, 1) > 0, R(1, 4), R(3, 4)),
                         wrt=(1, 2)))
    out.append(call_case(A, "where[scalar]", "np.where", (R(3, 4) > 0, R(3, 4), 0.0),
                         wrt=(1,)))
    out.append(call_case(A, "ldexp", "np.ldexp", (R(3, 4), np.arange(12).reshape(3, 4) % 3 - 1)))
    out.append(call_case(A, "frexp", "np.frexp", (R(3, 4),), post="{}[0]"))
    out.append(call_case(A, "modf", "np.modf", (R(3, 4) * 3,), post="{}[0]"))
    out.append(call_case(A, "divmod", "np.divmod", (P(3, 4) * 5, P(4)), post="{}[1]"))
    return with_f32(out)


def special_value_cases():
    """JAX's GRAD_SPECIAL_VALUE_TEST_RECORDS and the single-point gradient tests."""
    pts = [("arcsinh", 0.0), ("arcsinh", 1000.0), ("arccosh", 1000.0), ("arctanh", 0.0),
           ("sinh", 0.0), ("cosh", 0.0), ("tanh", 0.0), ("sin", 0.0), ("cos", 0.0),
           ("tan", 0.0), ("sinc", 0.0), ("sinc", 1.0), ("expm1", 0.0), ("log1p", 0.0),
           ("exp2", 0.0), ("cbrt", 8.0)]
    out = []
    for name, v in pts:
        for arg in (v, np.array(v), np.array([v, v + 0.25])):
            out.append(call_case(A, f"{name}@{v}[{type(arg).__name__}{np.ndim(arg)}]",
                                 f"np.{name}", (arg,)))
    out.append(call_case(A, "logaddexp@equal", "np.logaddexp", (np.zeros(3), np.zeros(3)),
                         wrt=(0, 1)))
    out.append(call_case(A, "logaddexp@-inf", "np.logaddexp", (np.array([-np.inf, 1.0]),
                                                              np.array([0.5, -np.inf])),
                         wrt=(0, 1), modes=("rev",), post="{}", rtol=1e-5))
    # sinc at 0: derivative 0, second derivative -pi**2/3 (JAX's testSincAtZero)
    out.append(source_case(A, "sinc-grad@0",
                           "import s2sgrad\n\ndef f(x):\n    return s2sgrad.grad(np.sinc)(x)",
                           (0.25,)))
    out.append(source_case(A, "sinc-grad@0-exact",
                           "import s2sgrad\n\ndef f(x):\n    return s2sgrad.grad(np.sinc)(x) + x",
                           (0.0,)))
    # the same through a user function (what s2sgrad differentiates)
    for v in (0.0, 0.25):
        out.append(source_case(A, f"sinc-def-grad@{v}",
                               "import s2sgrad\n\ndef sinc1(x):\n    return np.sinc(x)\n\n\n"
                               "def f(x):\n    return s2sgrad.grad(sinc1)(x) + x", (v,)))
    return out


# ------------------------------------------------------------------ reductions


REDUCERS = ["sum", "prod", "mean", "var", "std", "max", "min", "amax", "amin", "ptp",
            "nansum", "nanprod", "nanmean", "nanvar", "nanstd", "nanmax", "nanmin",
            "median", "nanmedian", "average"]

AXES3 = [None, 0, 1, -1, (0, 2), (-1, 0), ()]


def reducer_cases():
    out = []
    x3 = Dist(2, 3, 4) * 0.1 + 1.5
    for name in REDUCERS:
        kws = {"keepdims": [False, True]} if name != "average" else {"keepdims": [False, True]}
        for ax in AXES3:
            if name in ("median", "nanmedian", "average", "ptp") and ax == ():
                continue
            for kd in kws["keepdims"]:
                out.append(call_case(A, f"{name}[axis={ax},keepdims={kd}]", f"np.{name}",
                                     (x3,), {"axis": ax, "keepdims": kd}))
        out.append(call_case(A, f"{name}[1d]", f"np.{name}", (Dist(5) * 0.1 + 1.5,)))
        out.append(call_case(A, f"{name}[0d]", f"np.{name}", (np.array(1.3),)))
        out.append(call_case(A, f"{name}[pyscalar]", f"np.{name}", (1.3,)))
        # method spelling
        if name in ("sum", "prod", "mean", "var", "std", "max", "min"):
            out.append(source_case(A, f"x.{name}[axis=-1,keepdims]",
                                   f"def f(x):\n    return x.{name}(axis=-1, keepdims=True)",
                                   (x3,)))
    for name in ("var", "std", "nanvar", "nanstd"):
        for ddof in (0, 1, 2):
            out.append(call_case(A, f"{name}[ddof={ddof}]", f"np.{name}", (x3,),
                                 {"axis": (0, 2), "ddof": ddof}))
    # initial=, where= (lax_numpy_reducers_test's testReducerInitial / testReducerWhere)
    mask = R(2, 3, 4) > -0.5
    mask[:, :, 0] = True
    for name in ("sum", "prod", "max", "min", "mean", "var", "std", "nansum", "nanmean"):
        kw = {"where": Src("m")}
        out.append(source_case(A, f"{name}[where,axis=1]",
                               f"m = np.asarray({mask.astype(int).tolist()!r}) > 0\n\n"
                               f"def f(x):\n    return np.{name}(x, axis=-1, where=m"
                               + (", initial=-5.0)" if name == "max" else
                                  ", initial=5.0)" if name == "min" else ")"),
                               (x3,)))
        del kw
    for name in ("sum", "prod", "max", "min"):
        out.append(call_case(A, f"{name}[initial]", f"np.{name}", (x3,),
                             {"axis": 1, "initial": 1.7 if name != "min" else 1.2}))
    for label, w, kw in (("axis=1", P(3), "axis=1"), ("full", P(2, 3, 4), "axis=None"),
                         ("returned", P(4), "axis=-1, returned=True"),
                         ("keepdims", P(2, 3, 4), "axis=(0, 2), keepdims=True")):
        out.append(source_case(A, f"average[weights,{label}]",
                               f"def f(x, w):\n    return np.average(x, weights=w, {kw})",
                               (x3, w), wrt=(0, 1)))
    # cumulative reductions (testCumSumProd)
    for name in ("cumsum", "cumprod", "nancumsum", "nancumprod"):
        for ax in (None, 0, 1, -1):
            out.append(call_case(A, f"{name}[axis={ax}]", f"np.{name}", (x3 * 0.5,),
                                 {"axis": ax}))
        out.append(call_case(A, f"{name}[0d]", f"np.{name}", (np.array(1.3),)))
    out.append(call_case(A, "cumprod[zero]", "np.cumprod", (np.array([1.5, 0.0, 2.0, 3.0]),)))
    out.append(call_case(A, "cumprod[two-zeros]", "np.cumprod",
                         (np.array([[1.5, 0.0, 2.0, 0.0], [0.0, 1.0, 2.0, 3.0]]),),
                         {"axis": 1}))
    out.append(call_case(A, "prod[zero]", "np.prod", (np.array([[1.5, 0.0, 2.0], [1., 2., 3.]]),),
                         {"axis": 1}))
    out.append(call_case(A, "prod[two-zeros]", "np.prod",
                         (np.array([[1.5, 0.0, 0.0], [1., 2., 3.]]),), {"axis": 1}))
    # quantiles (testQuantile / testPercentile / testMedian)
    x = Dist(3, 5) * 0.1
    for name in ("quantile", "nanquantile"):
        for q in (0.3, np.array([0.1, 0.5, 0.95]), np.array(0.5)):
            for ax in (None, 0, -1, (0, 1)):
                for kd in (False, True):
                    out.append(call_case(A, f"{name}[q={harness._label(q) if isinstance(q, np.ndarray) else q},axis={ax},kd={kd}]",
                                         f"np.{name}", (x, Src(repr(q.tolist()) if isinstance(q, np.ndarray) else repr(q))),
                                         {"axis": ax, "keepdims": kd}))
    for method in ("linear", "lower", "higher", "midpoint", "nearest", "inverted_cdf",
                   "averaged_inverted_cdf", "closest_observation",
                   "interpolated_inverted_cdf", "hazen", "weibull", "median_unbiased",
                   "normal_unbiased"):
        out.append(call_case(A, f"quantile[method={method}]", "np.quantile",
                             (x, Src("[0.2, 0.5, 0.77]")), {"axis": 1, "method": method}))
    for name in ("percentile", "nanpercentile"):
        out.append(call_case(A, f"{name}[axis=0]", f"np.{name}", (x, Src("[10.0, 50.0, 90.0]")),
                             {"axis": 0}))
        out.append(call_case(A, f"{name}[scalar]", f"np.{name}", (x, 35.0)))
    out.append(call_case(A, "quantile[q-data]", "np.quantile", (x, np.array([0.3, 0.6])),
                         {"axis": 1}, wrt=(0, 1)))
    out.append(call_case(A, "median[even]", "np.median", (Dist(4, 6),), {"axis": 1}))
    xn = x3.copy()
    xn[0, 1, 2] = np.nan
    xn[1, 0, :] = np.nan
    for name in ("nansum", "nanmean", "nanmax", "nanmin", "nanprod", "nanvar", "nanstd",
                 "nanmedian", "nancumsum", "nancumprod"):
        out.append(call_case(A, f"{name}[nan,axis=-1]", f"np.{name}", (xn,), {"axis": -1},
                             post="np.nan_to_num({})"))
    return with_f32(out)


# ------------------------------------------------------------------ shapes and assembly


def shape_cases():
    x = R(2, 3, 4)
    out = []
    c = out.append
    for sh in ((24,), (4, 6), (-1, 2), (2, 12), (4, 3, 2)):
        c(call_case(A, f"reshape{sh}", "np.reshape", (x, sh)))
    c(call_case(A, "reshape[order=F]", "np.reshape", (x, (4, 6)), {"order": "F"}))
    c(source_case(A, "x.reshape(varargs)", "def f(x):\n    return x.reshape(6, 4)", (x,)))
    c(call_case(A, "ravel[order=F]", "np.ravel", (x,), {"order": "F"}))
    for axes in (None, (2, 0, 1), (-1, -3, -2)):
        c(call_case(A, f"transpose{axes}", "np.transpose", (x, axes)))
    c(source_case(A, "x.T", "def f(x):\n    return x.T", (x,)))
    for src_, dst in ((0, -1), ((0, 1), (-1, 0)), (-1, 0)):
        c(call_case(A, f"moveaxis{src_},{dst}", "np.moveaxis", (x, src_, dst)))
    c(call_case(A, "swapaxes", "np.swapaxes", (x, 0, -1)))
    c(call_case(A, "rollaxis", "np.rollaxis", (x, 2, 1)))
    for ax in (0, -1, (0, 2), (-1, 1)):
        c(call_case(A, f"expand_dims[{ax}]", "np.expand_dims", (x, ax)))
    for ax in (None, 1, (0, 2)):
        c(call_case(A, f"squeeze[{ax}]", "np.squeeze", (R(1, 1, 1, 3),), {"axis": ax}))
    c(call_case(A, "broadcast_to", "np.broadcast_to", (R(3, 1), (2, 3, 4))))
    c(call_case(A, "broadcast_to[scalar]", "np.broadcast_to", (np.array(1.5), (3,))))
    c(source_case(A, "broadcast_arrays", "def f(a, b):\n    p, q = np.broadcast_arrays(a, b)\n"
                  "    return p * 2 + q", (R(3, 1), R(4)), wrt=(0, 1)))
    for ax in (None, 0, -1, (0, 2)):
        c(call_case(A, f"flip[{ax}]", "np.flip", (x,), {"axis": ax}))
    c(call_case(A, "fliplr", "np.fliplr", (x,)))
    c(call_case(A, "flipud", "np.flipud", (x,)))
    for k in (0, 1, 2, 3, -1, 5):
        c(call_case(A, f"rot90[k={k}]", "np.rot90", (x,), {"k": k}))
    c(call_case(A, "rot90[axes=(2,0)]", "np.rot90", (x,), {"k": 1, "axes": (2, 0)}))
    c(call_case(A, "rot90[axes=(-1,-2)]", "np.rot90", (x,), {"k": 3, "axes": (-1, -2)}))
    for shift, ax in ((2, None), (-1, 0), (5, -1), ((1, 2), (0, 2)), ((1, -1), (1, 1)),
                      (0, None)):
        c(call_case(A, f"roll[{shift},{ax}]", "np.roll", (x, shift), {"axis": ax}))
    for reps in (2, (2,), (2, 1), (1, 2, 1, 2), (3, 1, 1), ()):
        c(call_case(A, f"tile[{reps}]", "np.tile", (x, reps)))
    c(call_case(A, "tile[0d]", "np.tile", (np.array(1.5), (2, 3))))
    for rep, ax in ((2, None), (3, 0), (2, -1), ([1, 0, 2], 1), ([2, 1, 0, 3], -1)):
        c(call_case(A, f"repeat[{rep},{ax}]", "np.repeat", (x, rep), {"axis": ax}))
    c(source_case(A, "x.repeat", "def f(x):\n    return x.repeat(2, axis=1)", (x,)))
    c(call_case(A, "repeat[0d]", "np.repeat", (np.array(1.5), 3)))
    # pad (testPad, testPadStatValues, testPadLinearRamp, testPadReflect...)
    x2 = R(3, 4)
    for mode, extra in (("constant", {}), ("constant", {"constant_values": 1.5}),
                        ("edge", {}), ("reflect", {}), ("symmetric", {}), ("wrap", {}),
                        ("reflect", {"reflect_type": "odd"}),
                        ("symmetric", {"reflect_type": "odd"}),
                        ("linear_ramp", {}), ("linear_ramp", {"end_values": (1.0, -2.0)}),
                        ("maximum", {}), ("minimum", {}), ("mean", {}), ("median", {}),
                        ("mean", {"stat_length": 2}), ("maximum", {"stat_length": ((1, 2), (2, 1))}),
                        ("empty", {})):
        for pw in (2, ((1, 2), (0, 3)), ((0, 0), (5, 6)), (1, 2)):
            if mode == "empty":
                continue
            name = f"pad[{mode},{pw},{','.join(f'{k}={v}' for k, v in extra.items())}]"
            c(call_case(A, name, "np.pad", (Dist(3, 4) * 0.1 if mode in
                                             ("maximum", "minimum", "median") else x2, pw),
                        {"mode": mode, **extra}))
    c(call_case(A, "pad[constant-data]", "np.pad", (x2, 1, "constant"),
                {"constant_values": np.array(0.7)}, wrt=(0,)))
    c(call_case(A, "pad[0d]", "np.pad", (np.array(1.5), 0)))
    c(call_case(A, "pad[1d-long-reflect]", "np.pad", (R(3), 7), {"mode": "reflect"}))
    c(call_case(A, "pad[1d-long-wrap]", "np.pad", (R(3), 7), {"mode": "wrap"}))
    c(call_case(A, "pad[1d-long-symmetric]", "np.pad", (R(3), 7), {"mode": "symmetric"}))
    # diff (testDiff, testDiffPrepend)
    for n, ax in ((1, -1), (2, 0), (3, -1), (0, 1), (1, 1)):
        c(call_case(A, f"diff[n={n},axis={ax}]", "np.diff", (x,), {"n": n, "axis": ax}))
    c(call_case(A, "diff[prepend]", "np.diff", (x, ), {"axis": 1, "prepend": R(2, 1, 4)}))
    c(call_case(A, "diff[append-scalar]", "np.diff", (x,), {"append": 0.5}))
    c(source_case(A, "diff[prepend-data]", "def f(x, p):\n    return np.diff(x, n=2, prepend=p)",
                  (x, R(2, 3, 1)), wrt=(0, 1)))
    # gradient, trapezoid
    c(call_case(A, "gradient[axis=1]", "np.gradient", (x,), {"axis": 1}))
    c(call_case(A, "gradient[spacing]", "np.gradient", (R(6), 0.5)))
    c(call_case(A, "gradient[edge_order=2]", "np.gradient", (R(6),), {"edge_order": 2}))
    c(call_case(A, "trapezoid", "np.trapezoid", (x,), {"axis": 1}))
    c(call_case(A, "trapezoid[x]", "np.trapezoid", (R(3, 4), np.cumsum(P(4)))))
    c(call_case(A, "trapezoid[x-data]", "np.trapezoid", (R(3, 4), np.cumsum(P(4))), wrt=(0, 1)))
    c(call_case(A, "trapezoid[dx]", "np.trapezoid", (R(5),), {"dx": 0.3}))
    # take / take_along_axis (testTake, testTakeAlongAxis)
    idx = np.array([[0, 2], [1, 1]])
    c(call_case(A, "take[flat]", "np.take", (x, idx)))
    c(call_case(A, "take[axis=1]", "np.take", (x, idx), {"axis": 1}))
    c(call_case(A, "take[axis=-1,repeat]", "np.take", (x, np.array([3, 3, 0])), {"axis": -1}))
    c(call_case(A, "take[neg-index]", "np.take", (x, np.array([-1, 0])), {"axis": 0}))
    c(call_case(A, "take[mode=clip]", "np.take", (x, np.array([5, -3, 1])),
                {"axis": 2, "mode": "clip"}))
    c(call_case(A, "take[mode=wrap]", "np.take", (x, np.array([5, -3, 1])),
                {"axis": 2, "mode": "wrap"}))
    c(call_case(A, "take[scalar-index]", "np.take", (x, 2), {"axis": 1}))
    for ax in (0, 1, -1, None):
        xi = x if ax is not None else x
        if ax is None:
            ind = RNG.integers(0, 24, 7)
        else:
            shp = list(x.shape)
            shp[ax] = 5
            ind = RNG.integers(0, x.shape[ax], shp)
        c(call_case(A, f"take_along_axis[{ax}]", "np.take_along_axis", (xi, ind), {"axis": ax}))
    c(call_case(A, "take_along_axis[argsort]", "np.take_along_axis",
                (x, np.argsort(x, axis=1)), {"axis": 1}))
    c(call_case(A, "take_along_axis[bcast]", "np.take_along_axis",
                (x, np.array([[[0], [2], [1]]])), {"axis": 2}))
    # split family (testSplit, testArraySplit, testHVDSplit)
    for fn, arg, kw in (("split", 2, {"axis": 0}), ("split", [1, 3], {"axis": -1}),
                        ("split", 3, {"axis": 1}), ("array_split", 3, {"axis": -1}),
                        ("array_split", [1, 5], {"axis": 2}), ("hsplit", [1], {}),
                        ("vsplit", 2, {}), ("dsplit", [1, 3], {}), ("split", [], {}),
                        ("split", 1, {"axis": 1}), ("array_split", 1, {}), ("hsplit", 1, {}),
                        ("vsplit", [], {}),
                        ("array_split", 5, {"axis": 1})):
            c(call_case(A, f"{fn}[{arg},{kw}]", f"np.{fn}", (x, arg), kw,
                        post="[p * (k + 1.0) for k, p in enumerate({})]"))
    c(source_case(A, "split-unpack", "def f(x):\n    a, b = np.split(x, 2, axis=-1)\n"
                  "    return a * b", (x,)))
    c(source_case(A, "split-sum", "def f(x):\n    return sum(np.split(x, 3, axis=1))", (x,)))
    # concatenation (testConcatenate, testStack, testHVDStack, testAppend...)
    y = R(2, 3, 4)
    for fn, kw in (("concatenate", {"axis": 0}), ("concatenate", {"axis": -1}),
                   ("concatenate", {"axis": None}), ("stack", {"axis": 0}),
                   ("stack", {"axis": -1}), ("stack", {"axis": 2}), ("hstack", {}),
                   ("vstack", {}), ("dstack", {}), ("column_stack", {}), ("concat", {})):
        c(call_case(A, f"{fn}[{kw}]", f"np.{fn}", ([x, y],), kw, wrt=(0,)))
    for fn in ("hstack", "vstack", "dstack", "column_stack", "stack"):
        c(call_case(A, f"{fn}[1d]", f"np.{fn}", ((R(3), R(3), R(3)),), wrt=(0,)))
        c(call_case(A, f"{fn}[0d]", f"np.{fn}", ((np.array(1.0), np.array(2.0)),), wrt=(0,)))
    c(call_case(A, "append[axis]", "np.append", (x, y), {"axis": 1}, wrt=(0, 1)))
    c(call_case(A, "append[flat]", "np.append", (x, R(5)), wrt=(0, 1)))
    c(call_case(A, "insert", "np.insert", (R(6), 2, R(1)), wrt=(0, 2)))
    c(call_case(A, "insert[axis]", "np.insert", (x, [0, 2], R(2, 2, 4)), {"axis": 1},
                wrt=(0, 2)))
    c(call_case(A, "delete", "np.delete", (x, [0, 2]), {"axis": 2}))
    c(call_case(A, "delete[flat]", "np.delete", (x, 3)))
    for fn in ("atleast_1d", "atleast_2d", "atleast_3d"):
        for a in (np.array(1.5), R(3), R(2, 3)):
            c(call_case(A, f"{fn}[{a.ndim}]", f"np.{fn}", (a,)))
    # meshgrid (testMeshGrid)
    for kw in ({}, {"indexing": "ij"}, {"sparse": True}, {"indexing": "ij", "sparse": True},
               {"copy": False}):
        c(call_case(A, f"meshgrid[{kw}]", "np.meshgrid", (R(3), R(4), R(2)), kw, wrt=(0, 1, 2),
                    post="[g * (k + 1.0) for k, g in enumerate({})]"))
    c(call_case(A, "meshgrid[2]", "np.meshgrid", (R(3), R(4)), wrt=(0, 1)))
    c(call_case(A, "meshgrid[0d]", "np.meshgrid", (np.array(1.5), R(2)), wrt=(0, 1)))
    # linspace (testLinspace: start/stop arrays, endpoint, axis, num 1)
    for num, ep, ax in ((5, True, 0), (5, False, 0), (1, True, 0), (4, True, -1),
                        (3, False, 1), (2, True, 0)):
        c(call_case(A, f"linspace[{num},{ep},{ax}]", "np.linspace", (R(2), R(2) + 3, num),
                    {"endpoint": ep, "axis": ax}, wrt=(0, 1)))
    c(call_case(A, "linspace[scalar]", "np.linspace", (0.5, 2.5, 6), wrt=(0, 1)))
    c(call_case(A, "linspace[bcast]", "np.linspace", (R(3, 1), R(4), 5), wrt=(0, 1)))
    c(call_case(A, "linspace[retstep]", "np.linspace", (R(2), R(2) + 3, 5),
                {"retstep": True}, wrt=(0, 1)))
    c(call_case(A, "linspace[0]", "np.linspace", (0.5, 2.5, 0), wrt=(0, 1)))
    # diag/diagonal/trace/tril/triu (testDiag, testDiagonal, testTrace, testTri)
    for k in (0, 1, -2, 5):
        c(call_case(A, f"diag[2d,k={k}]", "np.diag", (R(3, 4), k)))
        c(call_case(A, f"diag[1d,k={k}]", "np.diag", (R(3), k)))
        c(call_case(A, f"tril[k={k}]", "np.tril", (x, k)))
        c(call_case(A, f"triu[k={k}]", "np.triu", (x, k)))
    for off, a1, a2 in ((0, 0, 1), (1, 0, 1), (-1, 1, 2), (2, -1, 0), (0, 2, 0)):
        c(call_case(A, f"diagonal[{off},{a1},{a2}]", "np.diagonal", (x, off, a1, a2)))
        c(call_case(A, f"trace[{off},{a1},{a2}]", "np.trace", (x, off, a1, a2)))
    c(call_case(A, "tril[1d]", "np.tril", (R(4),)))
    # sort (testSort / testPartition) and select
    for ax in (0, -1, None):
        c(call_case(A, f"sort[{ax}]", "np.sort", (Dist(2, 3, 4),), {"axis": ax}))
    c(call_case(A, "sort[stable]", "np.sort", (Dist(6),), {"kind": "stable"}))
    c(call_case(A, "partition", "np.partition", (Dist(3, 6), 2), {"axis": -1}))
    c(call_case(A, "partition[axis0]", "np.partition", (Dist(5, 3), (1, 3)), {"axis": 0}))
    c(source_case(A, "select", "def f(x, y):\n"
                  "    return np.select([x > 0.5, x < -0.5], [x, y * 2], default=0.3)",
                  (x, y), wrt=(0, 1)))
    c(source_case(A, "select[list-variable]", "def f(x, y):\n    conds = [x > 0.5, x < -0.5]\n"
                  "    return np.select(conds, [x, y * 2], default=0.3)", (x, y), wrt=(0, 1)))
    c(call_case(A, "copy", "np.copy", (x,)))
    c(call_case(A, "array[nested]", "np.array", ([[R(), R()], [R(), R()]],), wrt=(0,)))
    return with_f32(out)


# ------------------------------------------------------------------ products


def product_cases():
    out = []
    c = out.append
    pairs = [((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 5)), ((3, 4), (4, 5)),
             ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)), ((1, 3, 4), (2, 4, 5)),
             ((2, 3, 4), (4,)), ((4,), (2, 4, 5))]
    for sl, sr in pairs:
        c(call_case(A, f"matmul[{sl},{sr}]", "np.matmul", (R(*sl), R(*sr)), wrt=(0, 1)))
        c(source_case(A, f"@[{sl},{sr}]", "def f(a, b):\n    return a @ b", (R(*sl), R(*sr)),
                      wrt=(0, 1)))
    for sl, sr in [((4,), (4,)), ((3, 4), (4,)), ((3, 4), (4, 5)), ((2, 3, 4), (4, 5)),
                   ((2, 3, 4), (5, 4, 2)), ((), (3,)), ((3, 4), ())]:
        c(call_case(A, f"dot[{sl},{sr}]", "np.dot", (np.asarray(R(*sl)), np.asarray(R(*sr))),
                    wrt=(0, 1)))
    for sl, sr in [((4,), (4,)), ((3, 4), (5, 4)), ((2, 3, 4), (4,)), ((), (3, 4))]:
        c(call_case(A, f"inner[{sl},{sr}]", "np.inner", (np.asarray(R(*sl)), np.asarray(R(*sr))),
                    wrt=(0, 1)))
    c(call_case(A, "outer", "np.outer", (R(3), R(4)), wrt=(0, 1)))
    c(call_case(A, "outer[2d]", "np.outer", (R(2, 3), R(4)), wrt=(0, 1)))
    c(call_case(A, "vdot", "np.vdot", (R(3, 4), R(12)), wrt=(0, 1)))
    for axes in (0, 1, 2, ([1, 2], [0, 1]), ((2,), (1,)), [[0, 2], [2, 0]]):
        b = R(3, 4, 5) if axes != [[0, 2], [2, 0]] else R(4, 3, 2)
        if axes == 0:
            b = R(2)
        if axes == 1:
            b = R(4, 2)
        if axes == ((2,), (1,)):
            b = R(3, 4, 5)
        c(call_case(A, f"tensordot[{axes}]", "np.tensordot", (R(2, 3, 4), b),
                    {"axes": axes}, wrt=(0, 1)))
    # einsum (testEinsum*)
    for spec, shapes in (("ij,jk->ik", ((3, 4), (4, 5))), ("ij,jk", ((3, 4), (4, 5))),
                         ("i,i->", ((4,), (4,))), ("i,j->ij", ((3,), (4,))),
                         ("ii->i", ((3, 3),)), ("ii", ((3, 3),)), ("ij->", ((3, 4),)),
                         ("ij->ji", ((3, 4),)), ("bij,bjk->bik", ((2, 3, 4), (2, 4, 5))),
                         ("...ij,...jk->...ik", ((2, 3, 4), (4, 5))),
                         ("i...->...", ((3, 2, 4),)), ("ij,ij->i", ((3, 4), (3, 4))),
                         ("ijk,kj->i", ((2, 3, 4), (4, 3))), ("i,i,i->", ((4,), (4,), (4,))),
                         ("iij->j", ((3, 3, 2),)), ("ij,jk,kl->il", ((2, 3), (3, 4), (4, 5))),
                         ("ab,b->a", ((3, 1), (4,))), ("i,->i", ((3,), ())),
                         ("ijj->ij", ((2, 3, 3),)), ("bi,bi->b", ((1, 4), (3, 4)))):
        args = tuple(np.asarray(R(*s)) for s in shapes)
        c(call_case(A, f"einsum[{spec}]", "np.einsum", (spec,) + args,
                    wrt=tuple(range(1, len(args) + 1))))
    c(call_case(A, "einsum[optimize]", "np.einsum", ("ij,jk,kl->il", R(2, 3), R(3, 4), R(4, 5)),
                {"optimize": True}, wrt=(1, 2, 3)))
    c(source_case(A, "einsum[same-operand]", "def f(x):\n    return np.einsum('ij,ij->', x, x)",
                  (R(3, 4),)))
    # kron, cross (testKron, testCross)
    for sl, sr in (((2,), (3,)), ((2, 3), (3, 2)), ((2, 1, 2), (3, 2)), ((), (3,)),
                   ((2, 2), (3,))):
        c(call_case(A, f"kron[{sl},{sr}]", "np.kron", (np.asarray(R(*sl)), np.asarray(R(*sr))),
                    wrt=(0, 1)))
    for sl, sr, kw in (((3,), (3,), {}), ((2,), (2,), {}), ((4, 3), (3,), {}),
                       ((3, 4), (4, 3), {"axisa": 0, "axisb": 1}),
                       ((2, 3), (2, 3), {"axisc": 0}), ((5, 2), (5, 3), {}),
                       ((3, 2, 3), (2, 3), {"axis": -1}), ((3, 2), (3, 2), {"axis": 0}),
                       ((2, 3), (2,), {})):
        c(call_case(A, f"cross[{sl},{sr},{kw}]", "np.cross", (R(*sl), R(*sr)), kw,
                    wrt=(0, 1)))
    # convolve / correlate (testConvolutions)
    for mode in ("full", "same", "valid"):
        for nl, nr in ((6, 3), (3, 6), (5, 5), (1, 4), (4, 2)):
            c(call_case(A, f"convolve[{nl},{nr},{mode}]", "np.convolve", (R(nl), R(nr)),
                        {"mode": mode}, wrt=(0, 1)))
            c(call_case(A, f"correlate[{nl},{nr},{mode}]", "np.correlate", (R(nl), R(nr)),
                        {"mode": mode}, wrt=(0, 1)))
    c(call_case(A, "correlate[default]", "np.correlate", (R(5), R(3)), wrt=(0, 1)))
    # cov / corrcoef (testCov, testCorrCoef)
    for shape in ((3, 5), (5,), (1, 4), (4, 3)):
        for kw in ({}, {"rowvar": False}, {"bias": True}, {"ddof": 0}, {"ddof": 2}):
            if shape == (1, 4) and kw.get("rowvar") is False:
                continue                    # one observation: NaN
            c(call_case(A, f"cov[{shape},{kw}]", "np.cov", (R(*shape),), kw))
    c(call_case(A, "cov[y]", "np.cov", (R(2, 5), R(5)), wrt=(0, 1)))
    c(call_case(A, "cov[y,rowvar=F]", "np.cov", (R(5, 2), R(5, 3)), {"rowvar": False},
                wrt=(0, 1)))
    c(call_case(A, "cov[fweights]", "np.cov", (R(3, 5),), {"fweights": np.array([1, 2, 1, 3, 1])}))
    c(source_case(A, "cov[aweights]", "def f(x, w):\n    return np.cov(x, aweights=w)",
                  (R(3, 5), P(5)), wrt=(0, 1)))
    c(call_case(A, "cov[aweights,fweights,ddof]", "np.cov", (R(3, 5),),
                {"aweights": P(5), "fweights": np.array([1, 2, 1, 3, 1]), "ddof": 1}))
    for shape in ((3, 5), (1, 4)):
        for kw in ({}, {"rowvar": False}):
            if shape == (1, 4) and kw:
                continue
            c(call_case(A, f"corrcoef[{shape},{kw}]", "np.corrcoef", (R(*shape),), kw))
    c(call_case(A, "corrcoef[y]", "np.corrcoef", (R(2, 5), R(5)), wrt=(0, 1)))
    # bincount / histogram weights
    c(call_case(A, "bincount[weights]", "np.bincount", (np.array([0, 2, 2, 5, 1]), R(5)),
                wrt=(1,)))
    c(call_case(A, "bincount[minlength]", "np.bincount", (np.array([0, 2, 2]), R(3)),
                {"minlength": 6}, wrt=(1,)))
    return with_f32(out)


# ------------------------------------------------------------------ linalg (linalg_test)


def _spd(n, batch=()):
    a = R(*batch, n, n)
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _wellcond(n, batch=()):
    return R(*batch, n, n) + 3 * np.eye(n)


def linalg_cases():
    out = []
    c = out.append
    for b in ((), (2,), (2, 1)):
        for n in (1, 3):
            tag = f"{b},{n}"
            c(call_case(A, f"inv[{tag}]", "np.linalg.inv", (_wellcond(n, b),)))
            c(call_case(A, f"det[{tag}]", "np.linalg.det", (_wellcond(n, b),)))
            c(call_case(A, f"slogdet[{tag}]", "np.linalg.slogdet", (_wellcond(n, b),),
                        post="{}[1]"))
            c(call_case(A, f"slogdet-tuple[{tag}]", "np.linalg.slogdet", (_wellcond(n, b),),
                        post="{}.logabsdet"))
            c(call_case(A, f"cholesky[{tag}]", "np.linalg.cholesky", (_spd(n, b),),
                        post="np.tril({})"))
            c(call_case(A, f"eigvalsh[{tag}]", "np.linalg.eigvalsh", (_spd(n, b),)))
            c(call_case(A, f"pinv[{tag}]", "np.linalg.pinv", (_wellcond(n, b),)))
            c(call_case(A, f"matrix_power[{tag},3]", "np.linalg.matrix_power",
                        (_wellcond(n, b) / 3, 3)))
            c(call_case(A, f"matrix_power[{tag},-2]", "np.linalg.matrix_power",
                        (_wellcond(n, b), -2)))
            c(call_case(A, f"matrix_power[{tag},0]", "np.linalg.matrix_power",
                        (_wellcond(n, b), 0)))
            c(call_case(A, f"solve[{tag}]", "np.linalg.solve",
                        (_wellcond(n, b), R(*b, n, 2)), wrt=(0, 1)))
    # testDetGradOfSingularMatrixCorank1 / Corank2
    c(call_case(A, "det[singular-corank1]", "np.linalg.det",
                (np.array([[50.0, -30, 45], [-30, 90, -81], [45, -81, 81]]),), rtol=1e-4,
                atol=1e-2))
    c(call_case(A, "det[singular-corank2]", "np.linalg.det",
                (np.array([[36.0, -42, 18], [-42, 49, -21], [18, -21, 9]]),), atol=1e-2))
    c(call_case(A, "det[zero]", "np.linalg.det", (np.zeros((2, 2)),)))
    # cholesky as JAX checks it: of a symmetrised input
    c(source_case(A, "cholesky[sym-input]", "def f(a):\n    return np.linalg.cholesky("
                  "a @ a.T + 3 * np.eye(3))", (R(3, 3),)))
    c(call_case(A, "solve[vector-b]", "np.linalg.solve", (_wellcond(3), R(3)), wrt=(0, 1)))
    c(call_case(A, "solve[batched-column]", "np.linalg.solve", (_wellcond(3, (2,)), R(2, 3, 1)),
                wrt=(0, 1)))
    c(call_case(A, "solve[bcast-b]", "np.linalg.solve", (_wellcond(3, (2,)), R(3, 4)),
                wrt=(0, 1)))
    c(call_case(A, "solve[bcast-a]", "np.linalg.solve", (_wellcond(3), R(2, 3, 4)),
                wrt=(0, 1)))
    c(call_case(A, "pinv[rect]", "np.linalg.pinv", (R(4, 2),)))
    c(call_case(A, "pinv[wide-batch]", "np.linalg.pinv", (R(2, 2, 4),)))
    c(source_case(A, "pinv[hermitian]", "def f(a):\n"
                  "    return np.linalg.pinv(a + a.T + 8 * np.eye(3), hermitian=True)", (R(3, 3),)))
    # eigh as JAX checks it: symmetrised input, eigenvectors up to sign
    for uplo in ("L", "U"):
        c(source_case(A, f"eigh[{uplo}]", "def f(a):\n    s = a + a.T\n"
                      f"    w, v = np.linalg.eigh(s, UPLO='{uplo}')\n"
                      "    return w, np.abs(v)", (R(4, 4),)))
        c(source_case(A, f"eigvalsh[{uplo}]", "def f(a):\n"
                      f"    return np.linalg.eigvalsh(a + a.T, UPLO='{uplo}')",
                      (R(4, 4),)))
    c(source_case(A, "eigh[batch]", "def f(a):\n    s = a + np.swapaxes(a, -1, -2)\n"
                  "    w, v = np.linalg.eigh(s)\n    return w, v * v", (R(2, 3, 3),)))
    c(source_case(A, "eigh[result]", "def f(a):\n    r = np.linalg.eigh(a + a.T)\n"
                  "    return r.eigenvalues * 2 + np.sum(r.eigenvectors ** 2, axis=0)",
                  (R(3, 3),)))
    c(source_case(A, "eig[eigvals]", "def f(a):\n    return np.real(np.linalg.eigvals(a))",
                  (np.diag([1.0, 2.5, 4.0]) + 0.1 * R(3, 3),)))
    c(source_case(A, "eig[vecs]", "def f(a):\n    w, v = np.linalg.eig(a)\n"
                  "    return np.abs(v[0] / v[1])", (np.diag([1.0, 2.5, 4.0]) + 0.1 * R(3, 3),)))
    # svd (testSingularValues, testSVDGrad)
    for shape in ((3, 3), (4, 2), (2, 4), (2, 3, 2)):
        c(call_case(A, f"svd[vals,{shape}]", "np.linalg.svd", (R(*shape),),
                    {"compute_uv": False}))
        for fm in (False, True):
            if fm and shape[-1] != shape[-2]:
                continue
            c(source_case(A, f"svd[uv,{shape},full={fm}]", "def f(a):\n"
                          f"    u, s, vt = np.linalg.svd(a, full_matrices={fm})\n"
                          "    return s, np.abs(u), np.abs(vt)", (R(*shape),)))
        c(source_case(A, f"svd[reconstruct,{shape}]", "def f(a):\n"
                      "    u, s, vt = np.linalg.svd(a, full_matrices=False)\n"
                      "    return (u * s[..., None, :]) @ vt", (R(*shape),)))
    c(source_case(A, "svd[result-attr]", "def f(a):\n    r = np.linalg.svd(a)\n"
                  "    return r.S", (R(3, 2),)))
    # qr (testQr)
    for shape in ((3, 3), (4, 2), (2, 3, 2)):
        for mode in ("reduced", "r", "complete"):
            if mode == "complete" and shape[-2] > shape[-1]:
                continue
            if mode == "r":
                c(call_case(A, f"qr[{shape},r]", "np.linalg.qr", (R(*shape),), {"mode": mode}))
            else:
                c(source_case(A, f"qr[{shape},{mode}]", "def f(a):\n"
                              f"    q, r = np.linalg.qr(a, mode='{mode}')\n    return q, r",
                              (R(*shape),)))
    c(source_case(A, "qr[wide]", "def f(a):\n    q, r = np.linalg.qr(a)\n    return q, r",
                  (R(2, 4),)))
    # norm (testNorm: ord x axis x keepdims)
    x = R(3, 4)
    for ordv in (None, 1, 2, np.inf, -np.inf, 3, 0.5, -1):
        for ax in (None, 0, -1):
            if ax is None and ordv not in (None,):
                vec = R(5)
                c(call_case(A, f"norm[vec,ord={ordv}]", "np.linalg.norm",
                            (vec, Src(repr(ordv) if np.isfinite(ordv) else
                                      ("np.inf" if ordv > 0 else "-np.inf")))))
                continue
            c(call_case(A, f"norm[ord={ordv},axis={ax}]", "np.linalg.norm",
                        (x, Src(repr(ordv) if ordv is None or np.isfinite(ordv) else
                                ("np.inf" if ordv > 0 else "-np.inf"))),
                        {"axis": ax, "keepdims": True}))
    for ordv in ("'fro'", "'nuc'", "1", "-1", "2", "-2", "np.inf", "-np.inf", "None"):
        for ax in ((0, 1), (-1, -2)):
            c(call_case(A, f"norm[mat,ord={ordv},axis={ax}]", "np.linalg.norm",
                        (Dist(3, 4) * 0.3, Src(ordv)), {"axis": ax}))
        c(call_case(A, f"norm[mat3,ord={ordv}]", "np.linalg.norm",
                    (Dist(2, 3, 4) * 0.3, Src(ordv)), {"axis": (1, 2), "keepdims": True}))
    c(call_case(A, "norm[3d-none]", "np.linalg.norm", (R(2, 3, 4),)))
    c(call_case(A, "norm[0d-vec]", "np.linalg.norm", (R(1),)))
    # lstsq, multi_dot (testLstsq, testMultiDot)
    c(call_case(A, "lstsq", "np.linalg.lstsq", (R(5, 3), R(5)), {"rcond": None},
                wrt=(0, 1), post="{}[0]"))
    c(call_case(A, "lstsq[2d-b]", "np.linalg.lstsq", (R(5, 3), R(5, 2)), {"rcond": None},
                wrt=(0, 1), post="{}[0]"))
    c(call_case(A, "lstsq[residuals]", "np.linalg.lstsq", (R(5, 3), R(5)), {"rcond": None},
                wrt=(0, 1), post="{}[1]"))
    c(call_case(A, "lstsq[sv]", "np.linalg.lstsq", (R(5, 3), R(5)), {"rcond": None},
                wrt=(0, 1), post="{}[3]"))
    for shapes in (((3, 4), (4, 5)), ((4,), (4, 5), (5, 2)), ((3, 4), (4, 5), (5,)),
                   ((4,), (4, 3), (3,)), ((2, 3), (3, 4), (4, 5), (5, 2))):
        args = tuple(R(*s) for s in shapes)
        c(call_case(A, f"multi_dot[{shapes}]", "np.linalg.multi_dot", (list(args),), wrt=(0,)))
    # complex matrices (JAX tests complex64/128)
    ca = R(3, 3) + 1j * R(3, 3) + 3 * np.eye(3)
    c(call_case(A, "inv[complex]", "np.linalg.inv", (ca,)))
    c(call_case(A, "det[complex]", "np.linalg.det", (ca,)))
    c(call_case(A, "solve[complex]", "np.linalg.solve", (ca, R(3, 2) + 1j * R(3, 2)),
                wrt=(0, 1)))
    c(source_case(A, "slogdet[complex]", "def f(a):\n    s, l = np.linalg.slogdet(a)\n"
                  "    return l", (ca,)))
    c(source_case(A, "slogdet[complex-sign]", "def f(a):\n    s, l = np.linalg.slogdet(a)\n"
                  "    return s", (ca,)))
    c(source_case(A, "svd[complex-vals]", "def f(a):\n"
                  "    return np.linalg.svd(a, compute_uv=False)", (ca,)))
    c(source_case(A, "eigvalsh[complex]", "def f(a):\n"
                  "    return np.linalg.eigvalsh(a + a.conj().T)", (ca,)))
    c(source_case(A, "norm[complex]", "def f(a):\n    return np.linalg.norm(a)", (ca,)))
    c(source_case(A, "cholesky[complex]", "def f(a):\n"
                  "    return np.linalg.cholesky(a @ a.conj().T + np.eye(3))", (ca,)))
    c(source_case(A, "qr[complex]", "def f(a):\n    q, r = np.linalg.qr(a)\n"
                  "    return q @ np.diag(np.diag(r))", (ca,)))
    return with_f32(out)


def fft_cases():
    out = []
    c = out.append
    x = R(4, 6)
    for fn in ("fft", "ifft", "rfft", "hfft", "ihfft"):
        for kw in ({}, {"n": 5}, {"n": 8}, {"axis": 0}, {"norm": "ortho"}, {"norm": "forward"}):
            c(call_case(A, f"fft.{fn}[{kw}]", f"np.fft.{fn}", (x,), kw))
    c(call_case(A, "fft.irfft", "np.fft.irfft", (R(4, 6) + 1j * R(4, 6),)))
    c(call_case(A, "fft.irfft[n=9]", "np.fft.irfft", (R(4, 6) + 1j * R(4, 6),), {"n": 9}))
    for fn in ("fft2", "ifft2", "rfft2", "fftn", "ifftn", "rfftn"):
        for kw in ({}, {"s": (3, 8)}, {"axes": (0, -1)}, {"norm": "ortho"}):
            c(call_case(A, f"fft.{fn}[{kw}]", f"np.fft.{fn}", (R(2, 4, 6),), kw))
    for fn in ("irfft2", "irfftn"):
        c(call_case(A, f"fft.{fn}", f"np.fft.{fn}", (R(2, 4, 6) + 1j * R(2, 4, 6),)))
    for fn in ("fftshift", "ifftshift"):
        for kw in ({}, {"axes": 0}, {"axes": (-1,)}):
            c(call_case(A, f"fft.{fn}[{kw}]", f"np.fft.{fn}", (R(3, 5),), kw))
    return with_f32(out)


def composite_cases():
    """lax_autodiff_test-style compositions and JAX's regression checks."""
    out = []
    c = out.append
    x = R(3, 4)
    c(source_case(A, "softmax", "def f(x):\n    e = np.exp(x - np.max(x, axis=-1, keepdims=True))\n"
                  "    return e / np.sum(e, axis=-1, keepdims=True)", (x,)))
    c(source_case(A, "logsumexp-stable", "def f(x):\n    m = np.max(x, axis=0)\n"
                  "    return m + np.log(np.sum(np.exp(x - m), axis=0))", (x,)))
    c(source_case(A, "where-nan-safe", "def f(x):\n    safe = np.where(x > 0, x, 1.0)\n"
                  "    return np.where(x > 0, np.log(safe), 0.0)", (x,)))
    c(source_case(A, "sqrt-of-sumsq", "def f(x):\n    return np.sqrt(np.sum(x * x))", (x,)))
    c(source_case(A, "power-int", "def f(x):\n    return x ** 3 + x ** -2 + x ** 0", (P(3, 4),)))
    c(source_case(A, "power-negative-base", "def f(x):\n    return x ** 3 + np.power(x, 2)",
                  (R(3, 4),)))
    c(source_case(A, "power-zero-base", "def f(x):\n    return x ** 2.0 + np.power(x, 3.0)",
                  (np.array([0.0, 1.5, -1.0]),)))
    c(source_case(A, "abs-sq", "def f(x):\n    return np.abs(x) ** 2", (x,)))
    c(source_case(A, "index-update", "def f(x):\n    y = x.copy()\n    y[1:, ::2] = 2 * x[:2, 1::2]\n"
                  "    return y", (x,)))
    c(source_case(A, "fancy-index", "def f(x):\n    return x[[0, 2, 2], [1, 3, 3]]", (x,)))
    c(source_case(A, "bool-index", "def f(x):\n    return x[x > 0.2]", (x,)))
    c(source_case(A, "newaxis-ellipsis", "def f(x):\n    return x[None, ..., 1:] * x[:, None, 1:]",
                  (x,)))
    c(source_case(A, "negative-step", "def f(x):\n    return x[::-1, -2::-2]", (x,)))
    c(source_case(A, "astype", "def f(x):\n    return x.astype(np.float64) * x + x.astype(float)",
                  (x,)))
    c(source_case(A, "max-ties", "def f(x):\n    return np.max(x)",
                  (np.array([1.0, 3.0, 3.0, 2.0]),)))
    c(source_case(A, "std-of-const-row", "def f(x):\n    return np.std(x + 1e-3 * np.arange(4))",
                  (np.ones(4),)))
    c(source_case(A, "argmax-take", "def f(x):\n    i = np.argmax(x, axis=1)\n"
                  "    return np.take_along_axis(x, i[:, None], axis=1)", (Dist(3, 4),)))
    c(source_case(A, "sort-then-diff", "def f(x):\n    return np.diff(np.sort(x))", (Dist(6),)))
    c(source_case(A, "cumsum-reverse", "def f(x):\n    return np.cumsum(x[::-1], axis=0)[::-1]",
                  (x,)))
    c(source_case(A, "median-of-pad", "def f(x):\n    return np.median(np.pad(x, 1, mode='reflect'))",
                  (Dist(3, 4) * 0.1,)))
    c(source_case(A, "kron-eye", "def f(x):\n    return np.kron(np.eye(2), x)", (x,)))
    c(source_case(A, "cov-of-tile", "def f(x):\n    return np.cov(np.tile(x, (1, 2)))", (x,)))
    c(source_case(A, "roll-flip-rot", "def f(x):\n    return np.rot90(np.flip(np.roll(x, 1, axis=0)))",
                  (x,)))
    c(source_case(A, "meshgrid-radial", "def f(a, b):\n    X, Y = np.meshgrid(a, b)\n"
                  "    return np.sqrt(X ** 2 + Y ** 2)", (P(3), P(4)), wrt=(0, 1)))
    c(source_case(A, "linspace-interp", "def f(a):\n    t = np.linspace(0.0, 1.0, 5)\n"
                  "    return a * t + (1 - t) * a ** 2", (1.5,)))
    c(source_case(A, "quantile-of-abs", "def f(x):\n    return np.quantile(np.abs(x), 0.7)",
                  (Dist(3, 4) * 0.1 + 2,)))
    c(source_case(A, "repeat-cumprod", "def f(x):\n    return np.cumprod(np.repeat(x, 2))",
                  (P(3),)))
    c(source_case(A, "einsum-trace-sq", "def f(x):\n    return np.einsum('ij,ji->', x, x)",
                  (R(3, 3),)))
    c(source_case(A, "cross-norm", "def f(a, b):\n    return np.linalg.norm(np.cross(a, b), axis=-1)",
                  (R(4, 3), R(4, 3)), wrt=(0, 1)))
    c(source_case(A, "det-of-inv", "def f(a):\n    return np.linalg.det(np.linalg.inv(a))",
                  (_wellcond(3),)))
    c(source_case(A, "solve-trace", "def f(a, b):\n    return np.trace(np.linalg.solve(a, b))",
                  (_wellcond(3), R(3, 3)), wrt=(0, 1)))
    c(source_case(A, "split-concat", "def f(x):\n    parts = np.array_split(x, 3, axis=1)\n"
                  "    return np.concatenate(parts[::-1], axis=1)", (x,)))
    c(source_case(A, "diff-prepend-self", "def f(x):\n    return np.diff(x, prepend=x[:1])",
                  (R(5),)))
    c(source_case(A, "tile-take", "def f(x):\n    return np.take(np.tile(x, 2), [0, 5, 7])",
                  (R(4),)))
    c(source_case(A, "unique-values", "def f(x):\n    return np.unique(x) ** 2", (Dist(5),)))
    c(source_case(A, "unique-inverse", "def f(x):\n    u, inv = np.unique(np.round(x), "
                  "return_inverse=True)\n    return x * inv + np.sum(u)", (Dist(5),)))
    c(source_case(A, "arange-float-start", "def f(a):\n    return np.arange(a, 4.0)", (0.25,)))
    c(source_case(A, "gradient-spacing", "def f(x, h):\n    return np.gradient(x, h)",
                  (R(5), 0.5), wrt=(0, 1)))
    return with_f32(out)


def array_api_cases():
    """jnp's array-API spellings (NumPy 2 has them too)."""
    out = []
    c = out.append
    x = R(2, 3, 4)
    for ax, kd, o in ((None, False, 2), (1, False, 2), (-1, True, 1), (0, False, np.inf),
                      (2, True, 3), ((1,), False, 2)):
        ords = "np.inf" if o is np.inf else repr(o)
        c(call_case(A, f"vector_norm[{ax},{kd},{o}]", "np.linalg.vector_norm", (x,),
                    {"axis": ax, "keepdims": kd, "ord": Src(ords)}))
    for o, kd in (("'fro'", False), ("'nuc'", True), ("1", False), ("np.inf", True), ("2", False)):
        c(call_case(A, f"matrix_norm[{o},{kd}]", "np.linalg.matrix_norm", (Dist(2, 3, 4) * 0.3,),
                    {"ord": Src(o), "keepdims": kd}))
    for name in ("cumulative_sum", "cumulative_prod"):
        for ax, init in ((0, False), (-1, True), (1, True)):
            c(call_case(A, f"{name}[{ax},{init}]", f"np.{name}", (x * 0.5,),
                        {"axis": ax, "include_initial": init}))
        c(call_case(A, f"{name}[1d,init]", f"np.{name}", (R(5),), {"include_initial": True}))
    c(call_case(A, "linalg.vecdot", "np.linalg.vecdot", (x, R(4)), wrt=(0, 1)))
    c(call_case(A, "linalg.vecdot[axis]", "np.linalg.vecdot", (x, R(3, 1)), {"axis": -2},
                wrt=(0, 1)))
    c(call_case(A, "vecdot", "np.vecdot", (x, R(4)), wrt=(0, 1)))
    c(call_case(A, "vecdot[complex]", "np.vecdot", (R(3) + 1j * R(3), R(3) + 1j * R(3)),
                wrt=(0, 1)))
    c(call_case(A, "linalg.matmul", "np.linalg.matmul", (x, R(4, 2)), wrt=(0, 1)))
    c(call_case(A, "linalg.tensordot", "np.linalg.tensordot", (x, R(3, 4, 2)), wrt=(0, 1)))
    c(call_case(A, "linalg.tensordot[axes=1]", "np.linalg.tensordot", (x, R(4, 2)),
                {"axes": 1}, wrt=(0, 1)))
    c(call_case(A, "linalg.outer", "np.linalg.outer", (R(3), R(4)), wrt=(0, 1)))
    c(call_case(A, "linalg.trace", "np.linalg.trace", (R(2, 3, 3),), {"offset": 1}))
    c(call_case(A, "linalg.diagonal", "np.linalg.diagonal", (R(2, 3, 4),), {"offset": -1}))
    c(call_case(A, "linalg.cross", "np.linalg.cross", (R(4, 3), R(4, 3)), wrt=(0, 1)))
    c(call_case(A, "linalg.svdvals", "np.linalg.svdvals", (R(2, 4, 3),)))
    c(call_case(A, "matrix_transpose", "np.matrix_transpose", (x,)))
    c(call_case(A, "linalg.matrix_transpose", "np.linalg.matrix_transpose", (x,)))
    c(source_case(A, "x.mT", "def f(x):\n    return x.mT @ x", (x,)))
    # lax_autodiff_test's cumulative reductions (cumsum, cumprod, cummax, cummin)
    # in NumPy's spelling: ufunc.accumulate; and ufunc.reduce
    for ax in (0, 1, -1):
        for uf in ("add", "multiply", "maximum", "minimum"):
            c(call_case(A, f"{uf}.accumulate[{ax}]", f"np.{uf}.accumulate", (Dist(2, 3, 4) * 0.1,),
                        {"axis": ax}))
            c(call_case(A, f"{uf}.reduce[{ax}]", f"np.{uf}.reduce", (Dist(2, 3, 4) * 0.1,),
                        {"axis": ax}))
    c(call_case(A, "add.reduce[None]", "np.add.reduce", (x,), {"axis": None}))
    # testDiagFlat, testVander, polyval (lax_numpy_polynomial_test)
    c(call_case(A, "diagflat", "np.diagflat", (R(2, 2), -1)))
    c(call_case(A, "vander", "np.vander", (R(4),)))
    c(call_case(A, "vander[N,increasing]", "np.vander", (R(4), 3), {"increasing": True}))
    c(call_case(A, "polyval", "np.polyval", (R(4), R(2, 3)), wrt=(0, 1)))
    c(call_case(A, "polyval[at0]", "np.polyval", (R(3), np.array([0.0, 1.0])), wrt=(0, 1)))
    c(call_case(A, "linalg.cond", "np.linalg.cond", (R(2, 3, 3) + 3 * np.eye(3),)))
    c(call_case(A, "linalg.cond[fro]", "np.linalg.cond", (R(3, 3) + 3 * np.eye(3), "fro")))
    c(call_case(A, "multiply.reduce[keepdims]", "np.multiply.reduce", (x,),
                {"axis": 1, "keepdims": True}))
    return with_f32(out)


def api_cases():
    """api_test.py's gradient checks (JAX 0.4: ``test_grad_argnums``,
    ``test_value_and_grad_argnums``, ``test_grad_and_aux_basic/_nested/
    _constant``, ``test_holomorphic_grad``, ``test_nonholomorphic_grad``,
    ``test_hessian``, ``test_hessian_on_pytrees``, ``test_jacobian`` with
    pytree outputs, ``test_jvp``/``test_vjp`` of a tuple-valued function),
    each compared with its closed form (and the transformed function's own
    derivatives with differences where the test differentiates it)."""
    out = []
    hdr = "import numpy as np\nimport s2sgrad"

    def api(name, src, check):
        out.append(harness.Case(A, name, hdr + "\n\n\n" + src.strip("\n") + "\n", (), (0,),
                                modes=("api",), custom=check))

    def close(got, want, rtol=1e-10, atol=1e-12):
        d = harness.same_tree_values(got, want, rtol=rtol, atol=atol)
        return ("ok", "") if d is None else ("wrong", d)

    def all_ok(*rs):
        return next((r for r in rs if r[0] != "ok"), ("ok", ""))

    fa = "def f(x, y, z, flag=False):\n    assert flag\n    return 1.0 * x * y * z\n"

    def argnums(f, args, mode):
        g = s2sgrad.grad
        return all_ok(close(g(f)(1.0, 2.0, 3.0, flag=True), 6.0),
                      close(g(f, wrt=1)(1.0, 2.0, 3.0, flag=True), 3.0),
                      close(g(f, wrt=(0, 1))(1.0, 2.0, 3.0, flag=True), (6.0, 3.0)),
                      close(s2sgrad.value_and_grad(f, wrt=(0, 1, 2))(1.0, 2.0, 3.0, flag=True),
                            (6.0, (6.0, 3.0, 2.0))))
    api("grad_argnums", fa, argnums)

    def aux_basic(f, args, mode):
        return close(s2sgrad.grad(f, has_aux=True)(3.0), (27.0, [9.0]))
    api("grad_and_aux_basic", "def f(x):\n    return x ** 3, [x ** 2]\n", aux_basic)

    def aux_constant(f, args, mode):
        return all_ok(close(s2sgrad.grad(f, has_aux=True)(4.0), (8.0, [4.0])),
                      close(s2sgrad.value_and_grad(f, has_aux=True)(4.0), ((16.0, [4.0]), 8.0)))
    api("grad_and_aux_constant", "def f(x):\n    return x ** 2, [4.0]\n", aux_constant)

    def aux_nested(f, args, mode):
        ns = f.__globals__
        # g(x) = aux of grad(f3) = x ** 3: its gradient 3 x ** 2, and grad of grad 6 x
        return all_ok(close(s2sgrad.grad(ns["g"])(2.0), 12.0),
                      close(s2sgrad.grad(s2sgrad.grad(ns["g"]))(2.0), 12.0))
    api("grad_and_aux_nested", "def f3(x):\n    return x ** 3, [x ** 3]\n\n\n"
        "def g(x):\n    return s2sgrad.grad(f3, has_aux=True)(x)[1][0]\n\n\n"
        "def f(x):\n    return g(x)\n", aux_nested)
    zs = np.array([1 + 2j, -0.5 + 0.3j, 0.2 - 1.1j])

    def holomorphic(f, args, mode):
        # a complex scalar output is seeded with 1: f'(z) = cos(z) (jax's holomorphic=True)
        return close(s2sgrad.grad(f)(zs), np.cos(zs))
    api("holomorphic_grad", "def f(x):\n    return np.sum(np.sin(x))\n", holomorphic)

    def nonholomorphic(f, args, mode):
        # a real output of complex z: df/dRe z - i df/dIm z = -sin|z| conj(z) / |z|
        return close(s2sgrad.grad(f)(zs), -np.sin(np.abs(zs)) * np.conj(zs) / np.abs(zs))
    api("nonholomorphic_grad", "def f(z):\n    return np.sum(np.cos(np.abs(z)))\n",
        nonholomorphic)
    Am = np.array([[1.0, 2.0, -1.0], [0.5, 3.0, 0.2], [-2.0, 0.1, 4.0]])

    def hessian(f, args, mode):
        x = np.array([0.3, -0.2, 1.1])
        return close(s2sgrad.hessian(f)(x, Am), Am + Am.T)
    api("hessian", "def f(x, A):\n    return x @ A @ x\n", hessian)

    def hessian_pytree(f, args, mode):
        return close(s2sgrad.hessian(f)((1.0, 2.0)), ((2.0, 0.0), (0.0, 2.0)))
    api("hessian_on_pytrees", "def f(x):\n    return np.sum(np.array(x) ** 2)\n",
        hessian_pytree)

    def jac_pytree(f, args, mode):
        x = np.array([0.3, 0.7])
        want = {"a": 2.0 * np.eye(2), "b": (np.diag(np.cos(x)), np.array([x[1], x[0]]))}
        return all_ok(*(close(s2sgrad.jacobian(f, mode=m)(x), want)
                        for m in ("forward", "reverse", "auto")))
    api("jacobian_pytree_output", "def f(x):\n    return {'a': x * 2.0, "
        "'b': (np.sin(x), x[0] * x[1])}\n", jac_pytree)

    def jvp_vjp_tuple(f, args, mode):
        x, y, tx, ty = 0.7, -1.3, 0.5, 2.0
        out, dot = s2sgrad.jvp(f, wrt=(0, 1))((x, y), (tx, ty))
        r = all_ok(close(out, (np.sin(x) * y, x * y)),
                   close(dot, (np.cos(x) * y * tx + np.sin(x) * ty, y * tx + x * ty)))
        if r[0] != "ok":
            return r
        _, pb = s2sgrad.vjp(f, wrt=(0, 1))(x, y)
        u = (1.5, -0.25)
        return close(pb(u), (u[0] * np.cos(x) * y + u[1] * y, u[0] * np.sin(x) + u[1] * x))
    api("jvp_vjp_tuple_output", "def f(x, y):\n    return np.sin(x) * y, x * y\n",
        jvp_vjp_tuple)
    return out


ALL = {
    "elementwise": elementwise_cases,
    "special": special_value_cases,
    "reducers": reducer_cases,
    "shapes": shape_cases,
    "products": product_cases,
    "linalg": linalg_cases,
    "fft": fft_cases,
    "composite": composite_cases,
    "array_api": array_api_cases,
    "api": api_cases,
}
