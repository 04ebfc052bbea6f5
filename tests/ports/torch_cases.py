"""PyTorch's OpInfo gradient tests, as s2sgrad cases.

In the spirit of ``torch/testing/_internal/common_methods_invocations.py``
and ``opinfo/definitions/{linalg,special,fft}.py`` (PyTorch 2.x): for each
OpInfo whose ``ref=`` is a NumPy (or SciPy) function, its sample inputs --
``S = 5``-sized shapes, 0-d tensors, empty tensors (``(0,)``, ``(1, 0, 3)``),
broadcasting pairs, Python-scalar operands (``supports_one_python_scalar``),
``dim``/``keepdim``, ``correction`` for var/std, ``p``/``ord`` for norms, the
``diagonal`` offset of tril/triu/diagonal, ``clamp`` with a ``None`` bound,
``roll`` shifts, ``flip`` dims, ``take_along_dim`` indices, ``nan_to_num``'s
replacements, ``polar``, ``cross``, ``kron``, ``linalg.*``, ``special.*``
and the FFTs -- in NumPy's spelling.  ``gradcheck`` is reverse mode,
forward-mode AD is ``jvp``, and ``gradgradcheck`` is a reverse-mode or
forward-mode check of a function that itself returns ``s2sgrad.grad`` of a
weighted sum of the op (reverse-over-reverse and forward-over-reverse).

The facts are PyTorch's (which ops, which samples, which kwargs); the code
is ours: every check is a user-style function written as source text and
compared with NumPy's value and central differences by
:mod:`tests.ports.harness`.  Random data comes from a fixed seed; where
PyTorch draws from ``[-9, 9]`` we draw from the op's domain (PyTorch's
``domain=`` and ``low``/``high``), away from kinks and poles.
"""
from __future__ import annotations

import numpy as np

from .harness import Src, call_case, source_case
from .jax_cases import f32_only

RNG = np.random.default_rng(20260304)

A = "torch"
S = 5
M = 3
SCIPY = "import numpy as np\nimport scipy.special"
SCIPY_LINALG = "import numpy as np\nimport scipy.linalg"


def R(*shape):
    return RNG.standard_normal(shape)


def U(lo, hi, *shape):
    return RNG.uniform(lo, hi, shape)


def P(*shape):
    return RNG.uniform(0.5, 2.0, shape)


def Away(*shape):
    """Nonzero, |x| in [0.3, 2]: away from the kink of abs, sign, ..."""
    return U(0.3, 2.0, *shape) * np.where(RNG.random(shape) < 0.5, -1.0, 1.0)


def Dist(*shape):
    """Distinct values (no ties: max, sort, median are smooth there)."""
    n = int(np.prod(shape))
    return (RNG.permutation(n) * 0.37 + RNG.uniform(0, 0.1, n)).reshape(shape) - 0.15 * n


def Frac(*shape):
    """Away from integers (floor, round, frac are smooth there)."""
    return np.floor(U(-4, 4, *shape)) + U(0.15, 0.45, *shape)


def C(*shape):
    return R(*shape) + 1j * R(*shape)


def tag(shape):
    return "x".join(map(str, shape)) or "0d"


def lit(v):
    """Source text for a float keyword (inf spelled np.inf)."""
    if isinstance(v, float) and np.isinf(v):
        return Src("np.inf" if v > 0 else "-np.inf")
    return v


# PyTorch's sample_inputs_elementwise_unary + the empty and 0-d reference inputs
UNARY_SHAPES = [(), (S,), (S, S), (1, 0, 3)]

# name (NumPy/SciPy callee), data maker, complex too (torch tests the op's complex dtypes)
UNARY = [
    ("np.abs", Away, True), ("np.arccos", lambda *s: U(-0.9, 0.9, *s), True),
    ("np.arccosh", lambda *s: U(1.2, 4, *s), False),
    ("np.arcsin", lambda *s: U(-0.9, 0.9, *s), True), ("np.arcsinh", R, True),
    ("np.arctan", R, True), ("np.arctanh", lambda *s: U(-0.9, 0.9, *s), True),
    ("np.ceil", Frac, False), ("np.cos", R, True), ("np.cosh", R, True),
    ("np.deg2rad", R, False), ("np.rad2deg", R, False), ("np.exp", R, True),
    ("np.exp2", R, False), ("np.expm1", R, True), ("np.floor", Frac, False),
    ("np.fix", Frac, False), ("np.trunc", Frac, False), ("np.round", Frac, False),
    ("np.rint", Frac, False), ("np.log", P, True), ("np.log10", P, True),
    ("np.log1p", lambda *s: U(-0.5, 2, *s), True), ("np.log2", P, True),
    ("np.negative", R, True), ("np.positive", R, True), ("np.reciprocal", Away, True),
    ("np.sign", Away, False), ("np.sin", R, True), ("np.sinc", R, True),
    ("np.sinh", R, True), ("np.sqrt", P, True), ("np.square", R, True),
    ("np.tan", lambda *s: U(-1.2, 1.2, *s), True), ("np.tanh", R, True),
    ("np.conj", R, True), ("np.real", R, True), ("np.imag", R, True),
    ("np.angle", Away, True), ("np.nan_to_num", R, True), ("np.i0", R, False),
    ("np.signbit", R, False), ("np.fabs", Away, False), ("np.cbrt", Away, False),
    ("scipy.special.erf", R, False), ("scipy.special.erfc", R, False),
    ("scipy.special.erfinv", lambda *s: U(-0.9, 0.9, *s), False),
    ("scipy.special.erfcx", lambda *s: U(-2, 5, *s), False),
    ("scipy.special.gammaln", P, False), ("scipy.special.digamma", P, False),
    ("scipy.special.expit", R, False), ("scipy.special.logit", lambda *s: U(0.1, 0.9, *s), False),
    ("scipy.special.i0", R, False), ("scipy.special.i0e", Away, False),
    ("scipy.special.i1", R, False), ("scipy.special.i1e", R, False),
    ("scipy.special.ndtr", R, False), ("scipy.special.ndtri", lambda *s: U(0.05, 0.95, *s), False),
    ("scipy.special.log_ndtr", lambda *s: U(-4, 4, *s), False),
    ("scipy.special.entr", lambda *s: U(0.1, 3, *s), False),
    ("scipy.special.sinc", R, False), ("scipy.special.spherical_jn", R, False),
]


def _header(callee):
    return SCIPY if callee.startswith("scipy.special") else "import numpy as np"


def unary_cases():
    out = []
    for callee, mk, cplx in UNARY:
        name = callee.replace("np.", "").replace("scipy.", "")
        if name == "special.spherical_jn":
            continue                          # takes an order first: below
        h = _header(callee)
        for s in UNARY_SHAPES:
            out.append(call_case(A, f"{name}[{tag(s)}]", callee, (np.asarray(mk(*s)),),
                                 header=h))
        # a Python scalar and a NumPy scalar (torch's number inputs)
        v = float(np.asarray(mk(1))[0])
        out.append(call_case(A, f"{name}[pyscalar]", callee, (v,), header=h))
        # a non-contiguous input (torch's noncontiguous samples): a transposed view
        out.append(source_case(A, f"{name}[noncontig]", f"def f(x):\n    return {callee}(x.T)",
                               (np.asarray(mk(3, 4)),), header=h))
        if cplx:
            z = C(S, 2)
            if name in ("log", "log10", "log2", "sqrt", "log1p"):
                z = z + 3.0               # away from the branch cut
            if name in ("arcsin", "arccos", "arctanh"):
                z = 0.4 * z + 0.1j
            if name in ("abs", "angle", "reciprocal"):
                z = z + 0.5 + 0.5j
            out.append(call_case(A, f"{name}[complex]", callee, (z,), header=h))
    # special.polygamma: n in 1..5 over (S, S) and 0-d (sample_inputs_polygamma), n = 0 too
    for n in (0, 1, 2, 3, 4, 5):
        for s in ((S, S), ()):
            out.append(call_case(A, f"polygamma[n={n},{tag(s)}]", "scipy.special.polygamma",
                                 (n, np.asarray(P(*s))), wrt=(1,), header=SCIPY))
    # mvlgamma (multigammaln) with p = 1, 3, 5: x > (p - 1) / 2
    for p in (1, 3, 5):
        out.append(call_case(A, f"multigammaln[p={p}]", "scipy.special.multigammaln",
                             (U(p, p + 2, S)[0] * 1.0 + 0.0, p), header=SCIPY))
    # i0 with a zero in the input (sample_inputs_i0_i1's gradient sample)
    x = R(S)
    x[0] = 0.0
    for name in ("i0", "i1", "i1e"):
        out.append(call_case(A, f"{name}[at0]", f"scipy.special.{name}", (x,), header=SCIPY))
    out.append(call_case(A, "np.i0[at0]", "np.i0", (x,)))
    # sigmoid / logit with eps (torch.logit(x, eps) clamps to [eps, 1 - eps] first)
    out.append(source_case(A, "logit[eps]", "def f(x):\n"
                           "    return scipy.special.logit(np.clip(x, 0.05, 0.95))",
                           (U(0.1, 0.9, S, S),), header=SCIPY))
    # nan_to_num with its replacement kwargs, on data holding nan and infinities
    xn = R(S, S)
    xn[0, 0], xn[1, 1], xn[2, 2] = np.nan, np.inf, -np.inf
    for kw in ({}, {"nan": 0.5}, {"nan": 1.0, "posinf": 2.0}, {"neginf": -3.0},
               {"nan": 0.0, "posinf": 9.0, "neginf": -9.0}):
        # (clipped: the default replacements of +-inf, +-1.8e308, overflow differences)
        out.append(call_case(A, f"nan_to_num{sorted(kw.items())}", "np.nan_to_num", (xn,), kw,
                             post="np.clip({}, -10.0, 10.0)"))
    # frac: x - trunc(x); rsqrt; sigmoid spelled by hand; sgn of a complex
    out.append(source_case(A, "frac", "def f(x):\n    return x - np.trunc(x)", (Frac(S, S),)))
    out.append(source_case(A, "rsqrt", "def f(x):\n    return 1 / np.sqrt(x)", (P(S, S),)))
    out.append(source_case(A, "rsqrt[power]", "def f(x):\n    return x ** -0.5", (P(S, S),)))
    out.append(source_case(A, "sgn[complex]", "def f(z):\n    return z / np.abs(z)",
                           (C(S) + 0.5,)))
    out.append(source_case(A, "exp2[complex]", "def f(z):\n    return 2.0 ** z", (C(S),)))
    out.append(source_case(A, "square[complex-pow]", "def f(z):\n    return z ** 2", (C(S),)))
    out.append(source_case(A, "spherical_jn", "def f(x):\n"
                           "    return scipy.special.spherical_jn(1, x)", (P(S),), header=SCIPY))
    return out


# torch's sample_inputs_elementwise_binary shapes (generic ones + broadcasting + empty)
BINARY_SHAPES = [((S, S, S), (S, S, S)), ((S, S, S), (S,)), ((), ()), ((S,), ()),
                 ((), (S,)), ((S, 1, S), (M, S)), ((M, 1, S), (1, M, 1)), ((0,), (0,)),
                 ((1, 0, 3), (3,))]

# callee, lhs maker, rhs maker, wrt, supports a Python scalar on the right
BINARY = [
    ("np.add", R, R, (0, 1)), ("np.subtract", R, R, (0, 1)), ("np.multiply", R, R, (0, 1)),
    ("np.divide", R, Away, (0, 1)), ("np.true_divide", R, Away, (0, 1)),
    ("np.power", P, R, (0, 1)), ("np.float_power", P, R, (0, 1)),
    ("np.arctan2", R, Away, (0, 1)), ("np.hypot", Away, Away, (0, 1)),
    ("np.fmod", lambda *s: U(2, 9, *s), lambda *s: U(0.7, 1.9, *s), (0, 1)),
    ("np.remainder", lambda *s: U(2, 9, *s), lambda *s: U(0.7, 1.9, *s), (0, 1)),
    ("np.maximum", Dist, R, (0, 1)), ("np.minimum", Dist, R, (0, 1)),
    ("np.fmax", Dist, R, (0, 1)), ("np.fmin", Dist, R, (0, 1)),
    ("np.copysign", R, Away, (0,)), ("np.logaddexp", R, R, (0, 1)),
    ("np.logaddexp2", R, R, (0, 1)), ("scipy.special.xlogy", R, P, (0, 1)),
    ("scipy.special.xlog1py", R, lambda *s: U(-0.9, 2, *s), (0, 1)),
    ("np.heaviside", Away, R, (0, 1)),
]


def _data(mk, shape):
    return np.asarray(mk(*shape)) if shape else np.asarray(mk(1)[0])


def binary_cases():
    out = []
    for callee, ml, mr, wrt in BINARY:
        name = callee.replace("np.", "").replace("scipy.", "")
        h = _header(callee)
        for sl, sr in BINARY_SHAPES:
            out.append(call_case(A, f"{name}[{tag(sl)},{tag(sr)}]", callee,
                                 (_data(ml, sl), _data(mr, sr)), wrt=wrt, header=h))
        # supports_one_python_scalar: a Python number on either side
        out.append(call_case(A, f"{name}[arr,pyscalar]", callee,
                             (ml(S, S), float(mr(1)[0])), wrt=wrt, header=h))
        out.append(call_case(A, f"{name}[pyscalar,arr]", callee,
                             (float(ml(1)[0]), mr(S, S)), wrt=wrt, header=h))
        # a Python scalar that is a literal (not differentiated)
        out.append(call_case(A, f"{name}[arr,literal]", callee,
                             (ml(S, S), Src(repr(float(mr(1)[0])))), wrt=(0,), header=h))
    # torch.add/sub with alpha, torch.pow with a scalar exponent and a negative base
    out.append(source_case(A, "add[alpha]", "def f(x, y):\n    return np.add(x, 2.5 * y)",
                           (R(S, S), R(S)), wrt=(0, 1)))
    out.append(source_case(A, "sub[alpha]", "def f(x, y):\n    return x - 0.5 * y",
                           (R(S, S), R(S, 1)), wrt=(0, 1)))
    for e in (2, 3, -1, -2, 0.5, 0, 1.5):
        data = R(S, S) if isinstance(e, int) else P(S, S)
        out.append(call_case(A, f"pow[scalar-exp={e}]", "np.power", (data, Src(repr(e)))))
    out.append(call_case(A, "pow[scalar-base]", "np.power", (Src("2.5"), R(S, S)), wrt=(1,)))
    out.append(call_case(A, "pow[neg-base-int-exp]", "np.power",
                         (-P(S, S), np.full((S, S), 3.0)), wrt=(0,)))
    out.append(call_case(A, "pow[complex]", "np.power", (C(S) + 2, C(S) * 0.3), wrt=(0, 1)))
    out.append(call_case(A, "pow[0-base-exp=2]", "np.power", (np.array([0.0, 1.5, -2.0]),
                                                              Src("2.0"))))
    out.append(call_case(A, "mul[complex]", "np.multiply", (C(S, S), C(S)), wrt=(0, 1)))
    out.append(call_case(A, "div[complex]", "np.divide", (C(S, S), C(S) + 2), wrt=(0, 1)))
    out.append(call_case(A, "div[rounding-floor]", "np.floor_divide",
                         (Frac(S, S) * 3, np.full((S, S), 2.0)), wrt=(0, 1)))
    out.append(call_case(A, "ldexp", "np.ldexp", (R(S, S), np.arange(S * S).reshape(S, S) % 4 - 2)))
    # torch.lerp(start, end, weight): start + weight * (end - start)
    out.append(source_case(A, "lerp", "def f(a, b, w):\n    return a + w * (b - a)",
                           (R(S, S), R(S, S), U(0, 1, S)), wrt=(0, 1, 2)))
    # addcmul / addcdiv: x + value * t1 * t2, x + value * t1 / t2
    out.append(source_case(A, "addcmul", "def f(x, a, b):\n    return x + 0.5 * a * b",
                           (R(S, S), R(S, 1), R(S)), wrt=(0, 1, 2)))
    out.append(source_case(A, "addcdiv", "def f(x, a, b):\n    return x + 0.5 * a / b",
                           (R(S, S), R(S, 1), Away(S)), wrt=(0, 1, 2)))
    # torch.where with scalars and broadcasting (sample_inputs_where)
    cond = R(S, S) > 0
    out.append(call_case(A, "where[bcast]", "np.where", (cond, R(S, S), R(S)), wrt=(1, 2)))
    out.append(call_case(A, "where[scalar-other]", "np.where", (cond, R(S, S), Src("0.5")),
                         wrt=(1,)))
    out.append(call_case(A, "where[scalar-self]", "np.where", (cond, Src("-1.0"), R(S, S)),
                         wrt=(2,)))
    out.append(call_case(A, "where[0d]", "np.where", (np.array(True), R(S), np.asarray(R())),
                         wrt=(1, 2)))
    out.append(call_case(A, "where[empty]", "np.where", (np.zeros(0, bool), R(0), R(0)),
                         wrt=(1, 2)))
    # clamp / clip: None bounds, tensor bounds, min > max (sample_inputs_clamp)
    x = Dist(S, S) * 0.2
    for lo, hi in ((-0.5, 0.5), (None, 0.5), (-0.5, None), (0.8, -0.8)):
        out.append(call_case(A, f"clip[{lo},{hi}]", "np.clip", (x, Src(repr(lo)), Src(repr(hi)))))
    lo_t, hi_t = -P(S) * 0.4, P(S, 1) * 0.4
    out.append(call_case(A, "clip[tensor-bounds]", "np.clip", (x, lo_t, hi_t), wrt=(0, 1, 2)))
    out.append(call_case(A, "clip[tensor-lo,none]", "np.clip", (x, lo_t, None), wrt=(0, 1)))
    out.append(call_case(A, "clip[none,tensor-hi]", "np.clip", (x, None, hi_t), wrt=(0, 2)))
    out.append(call_case(A, "clip[kw]", "np.clip", (x,), {"min": -0.3, "max": 0.3}))
    out.append(call_case(A, "clip[0d]", "np.clip", (np.array(0.2), -0.5, 0.5)))
    out.append(call_case(A, "clip[empty]", "np.clip", (R(0, 3), -0.5, 0.5)))
    # polar(abs, angle) = abs * exp(i angle); complex(real, imag); view_as_real
    out.append(source_case(A, "polar", "def f(r, t):\n    return r * np.exp(1j * t)",
                           (P(S, S), R(S, S)), wrt=(0, 1)))
    out.append(source_case(A, "polar[cos-sin]", "def f(r, t):\n"
                           "    return r * np.cos(t) + 1j * (r * np.sin(t))",
                           (P(S), R(S)), wrt=(0, 1)))
    out.append(source_case(A, "complex", "def f(a, b):\n    return a + 1j * b",
                           (R(S, S), R(S)), wrt=(0, 1)))
    out.append(source_case(A, "complex[lax]", "def f(a, b):\n    return np.vectorize(complex)(a, b)",
                           (R(S), R(S)), wrt=(0, 1)))
    out.append(source_case(A, "view_as_real", "def f(z):\n"
                           "    return np.stack([z.real, z.imag], axis=-1)", (C(S, 2),)))
    out.append(source_case(A, "view_as_complex", "def f(x):\n"
                           "    return x[..., 0] + 1j * x[..., 1]", (R(S, 2),)))
    return out


# ------------------------------------------------------------------ reductions


def reduction_cases():
    out = []
    x = Dist(S, M, 4) * 0.2 + 1.3
    dims = [None, 0, -1, (0, 2), (), (-1, 0)]
    for name in ("sum", "mean", "prod", "amax", "amin", "nansum", "nanmean", "max", "min",
                 "nanmax", "nanmin"):
        for d in dims:
            if d == () and name in ("amax", "amin", "max", "min", "nanmax", "nanmin"):
                continue
            for kd in (False, True):
                out.append(call_case(A, f"{name}[dim={d},keepdim={kd}]", f"np.{name}", (x,),
                                     {"axis": d, "keepdims": kd}))
        out.append(call_case(A, f"{name}[0d]", f"np.{name}", (np.array(1.3),)))
        out.append(call_case(A, f"{name}[0d,dim=0]", f"np.{name}", (np.array(1.3),),
                             {"axis": Src("None")}))
        if name in ("sum", "prod", "nansum"):
            out.append(call_case(A, f"{name}[empty]", f"np.{name}", (R(0, 3),), {"axis": 0}))
            out.append(call_case(A, f"{name}[empty-all]", f"np.{name}", (R(1, 0, 3),)))
    # amax / amin with ties: torch spreads the gradient evenly over the tied elements
    tie = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.5]])
    for name in ("amax", "amin", "max", "min"):
        out.append(call_case(A, f"{name}[ties,axis=1]", f"np.{name}", (tie,), {"axis": 1}))
    # prod with zeros (sample_inputs_prod: one zero, two zeros)
    for lab, d in (("one-zero", np.array([[1.5, 0.0, 2.0], [1.0, 2.0, 3.0]])),
                   ("two-zeros", np.array([[1.5, 0.0, 0.0], [0.0, 2.0, 3.0]])),
                   ("all-zeros", np.zeros((2, 3)))):
        out.append(call_case(A, f"prod[{lab}]", "np.prod", (d,), {"axis": 1}))
        out.append(call_case(A, f"prod[{lab},all]", "np.prod", (d,)))
    # var / std with correction (torch's correction = NumPy's ddof) and dims
    for name in ("var", "std", "nanvar", "nanstd"):
        for corr in (0, 1, 2):
            for d, kd in ((None, False), (1, True), ((0, 2), False), (-1, False)):
                out.append(call_case(A, f"{name}[correction={corr},dim={d},kd={kd}]",
                                     f"np.{name}", (x,),
                                     {"axis": d, "ddof": corr, "keepdims": kd}))
        out.append(call_case(A, f"{name}[0d]", f"np.{name}", (np.array(1.3),)))
        out.append(call_case(A, f"{name}[1d]", f"np.{name}", (R(S),)))
        out.append(call_case(A, f"{name}[fractional-correction]", f"np.{name}", (R(S, S),),
                             {"axis": 1, "ddof": 0.5}))
    # var_mean / std_mean: a (var, mean) tuple
    for name in ("var", "std"):
        out.append(source_case(A, f"{name}_mean", f"def f(x):\n"
                               f"    return np.{name}(x, axis=1, ddof=1), np.mean(x, axis=1)",
                               (R(S, S),)))
    # logsumexp (scipy.special.logsumexp: dim, keepdim), incl. -inf entries and empty
    for d in (None, 0, 1, -1, (0, 1)):
        for kd in (False, True):
            out.append(call_case(A, f"logsumexp[dim={d},kd={kd}]", "scipy.special.logsumexp",
                                 (R(S, S),), {"axis": d, "keepdims": kd}, header=SCIPY))
    out.append(call_case(A, "logsumexp[0d]", "scipy.special.logsumexp", (np.array(0.7),),
                         header=SCIPY))
    out.append(call_case(A, "logsumexp[large]", "scipy.special.logsumexp",
                         (R(S, S) * 5 + 300.0,), {"axis": 1}, header=SCIPY))
    xi = R(S, S)
    xi[0, :2] = -np.inf
    out.append(call_case(A, "logsumexp[-inf]", "scipy.special.logsumexp", (xi,),
                         {"axis": 1}, header=SCIPY, modes=("rev",)))
    out.append(call_case(A, "logsumexp[b]", "scipy.special.logsumexp", (R(S, S),),
                         {"axis": 1, "b": Src("np.arange(1.0, 6.0)")}, header=SCIPY))
    out.append(call_case(A, "logsumexp[return_sign]", "scipy.special.logsumexp", (R(S, S),),
                         {"axis": 0, "return_sign": True}, header=SCIPY, post="{}[0]"))
    # softmax / log_softmax (torch.nn.functional, ref scipy.special)
    for name in ("softmax", "log_softmax"):
        for d in (0, 1, -1):
            out.append(call_case(A, f"{name}[dim={d}]", f"scipy.special.{name}", (R(S, M, 2),),
                                 {"axis": d}, header=SCIPY))
        out.append(call_case(A, f"{name}[0d]", f"scipy.special.{name}", (np.array(0.3),),
                             header=SCIPY))
    # cumulative ops (sample_inputs_cumulative_ops): dims, 0-d, empty, zeros for cumprod
    x3 = U(-1, 1, S, S, S)
    for name in ("cumsum", "cumprod", "nancumsum", "nancumprod"):
        for d in (0, 1, 2, -1, None):
            out.append(call_case(A, f"{name}[dim={d}]", f"np.{name}", (x3,), {"axis": d}))
        for s in ((), (1,), (0,)):
            out.append(call_case(A, f"{name}[{tag(s)}]", f"np.{name}", (U(-1, 1, *s),),
                                 {"axis": 0} if s else {}))
    z = U(-1, 1, S, S, S)
    z[0, 1, :] = 0.0
    z[2, 3, :] = 0.0
    z[4, 3, :] = 0.0
    for d in (0, 1):
        out.append(call_case(A, f"cumprod[zeros,dim={d}]", "np.cumprod", (z,), {"axis": d}))
    # cummax / cummin: np.maximum.accumulate; logcumsumexp: np.logaddexp.accumulate
    for uf in ("maximum", "minimum", "logaddexp"):
        for d in (0, 1, -1):
            out.append(call_case(A, f"{uf}.accumulate[dim={d}]", f"np.{uf}.accumulate",
                                 (Dist(S, S, 2) * 0.1,), {"axis": d}))
        out.append(call_case(A, f"{uf}.accumulate[1d]", f"np.{uf}.accumulate", (Dist(S) * 0.1,)))
    # median / nanmedian / quantile with torch's interpolation modes
    xd = Dist(S, 4) * 0.1
    for name in ("median", "nanmedian"):
        for d, kd in ((None, False), (0, False), (1, True), (-1, False)):
            out.append(call_case(A, f"{name}[dim={d},kd={kd}]", f"np.{name}", (xd,),
                                 {"axis": d, "keepdims": kd}))
        out.append(call_case(A, f"{name}[0d]", f"np.{name}", (np.array(0.4),)))
    for name in ("quantile", "nanquantile"):
        for method in ("linear", "lower", "higher", "midpoint", "nearest"):
            for q in (Src("0.3"), Src("[0.0, 0.5, 1.0]")):
                out.append(call_case(A, f"{name}[q={q.text},{method}]", f"np.{name}", (xd, q),
                                     {"axis": 1, "method": method}))
        out.append(call_case(A, f"{name}[q-tensor,keepdim]", f"np.{name}",
                             (xd, np.array([0.25, 0.75])), {"axis": 0, "keepdims": True}))
    # norm over the whole tensor / along a dim, torch.norm's p (np.linalg.norm of the flat array)
    for p in (2.0, 1.0, 3.0, 0.5, np.inf, -np.inf, -1.5):
        out.append(call_case(A, f"norm[p={p}]", "np.linalg.norm", (Away(S * 4),), {"ord": lit(p)}))
        out.append(call_case(A, f"norm[p={p},dim=1,keepdim]", "np.linalg.norm", (Away(S, 4),),
                             {"ord": lit(p), "axis": 1, "keepdims": True}))
    out.append(call_case(A, "norm[p=0]", "np.linalg.norm", (Away(S),), {"ord": 0}))
    out.append(call_case(A, "norm[0d]", "np.linalg.norm", (np.array([1.3]),)))
    out.append(call_case(A, "norm[zeros]", "np.linalg.norm", (np.zeros(S),), modes=("fwd",),
                         zero=False))
    # mean / sum with dtype=, where=, and the method spellings torch's Tensor methods map to
    out.append(call_case(A, "sum[dtype]", "np.sum", (x,), {"axis": 1, "dtype": Src("np.float64")}))
    out.append(call_case(A, "mean[dtype]", "np.mean", (x,), {"axis": 0, "dtype": Src("np.float64")}))
    for m in ("sum", "mean", "prod", "var", "std", "max", "min", "cumsum", "cumprod"):
        out.append(source_case(A, f"x.{m}(axis=1)", f"def f(x):\n    return x.{m}(axis=1)", (x,)))
    # aminmax / ptp
    out.append(source_case(A, "aminmax", "def f(x):\n"
                           "    return np.min(x, axis=0), np.max(x, axis=0)", (x,)))
    out.append(call_case(A, "ptp", "np.ptp", (x,), {"axis": -1}))
    # count_nonzero / all / any are data: mixing them in keeps the derivative
    out.append(source_case(A, "count_nonzero", "def f(x):\n"
                           "    return x * np.count_nonzero(x > 1.5, axis=0)", (x,)))
    return out


# ------------------------------------------------------------------ shape and indexing


def shape_cases():
    out = []
    c = out.append
    x = R(S, M, 4)
    # flip (dims), fliplr, flipud, rot90 (k, dims)
    for d in ((0,), (1,), (-1,), (0, 2), (0, 1, 2), None, ()):
        c(call_case(A, f"flip[{d}]", "np.flip", (x,), {"axis": d}))
    c(call_case(A, "flip[0d]", "np.flip", (np.array(0.5),), {"axis": ()}))
    c(call_case(A, "flip[empty]", "np.flip", (R(0, 3),), {"axis": 0}))
    c(call_case(A, "fliplr", "np.fliplr", (x,)))
    c(call_case(A, "flipud", "np.flipud", (x,)))
    for k in (1, 2, 3, -1, 4, 0):
        for ax in ((0, 1), (1, 2), (2, 0)):
            c(call_case(A, f"rot90[k={k},{ax}]", "np.rot90", (x, k, ax)))
    # roll (sample_inputs_roll): scalar/tuple shifts, dims None/int/tuple, negative, large
    for shifts, dims in ((0, None), (-1, 0), (S + 1, 1), (2, -1), ((0, 1, 2), (0, 1, 2)),
                         ((1, 2), (0, 2)), ((-3, 7), (1, 1)), (3, None)):
        c(call_case(A, f"roll[{shifts},{dims}]", "np.roll", (x, shifts), {"axis": dims}))
    c(call_case(A, "roll[0d]", "np.roll", (np.array(0.5), 1)))
    c(call_case(A, "roll[empty]", "np.roll", (R(0, 3), 1), {"axis": 1}))
    # diagonal (offset, dim1, dim2), diag (1-d -> 2-d and back), diag_embed
    m = R(S, 4)
    for off in (0, 1, -1, 2, -3, 6):
        c(call_case(A, f"diagonal[offset={off}]", "np.diagonal", (m,), {"offset": off}))
        c(call_case(A, f"diag[2d,{off}]", "np.diag", (m, off)))
        c(call_case(A, f"diag[1d,{off}]", "np.diag", (R(S), off)))
    for off, a1, a2 in ((0, 0, 2), (1, 2, 0), (-1, -1, 1), (2, 1, -1)):
        c(call_case(A, f"diagonal[3d,{off},{a1},{a2}]", "np.diagonal", (x,),
                    {"offset": off, "axis1": a1, "axis2": a2}))
    c(source_case(A, "diag_embed", "def f(v):\n    n = v.shape[-1]\n"
                  "    return v[..., :, None] * np.eye(n)", (R(2, S),)))
    # tril / triu with diagonal offsets, batched
    for name in ("tril", "triu"):
        for k in (0, 1, -1, 3, -4, 10):
            c(call_case(A, f"{name}[diagonal={k}]", f"np.{name}", (R(2, S, 4),), {"k": k}))
        c(call_case(A, f"{name}[empty]", f"np.{name}", (R(0, 3),)))
    # trace (2-d), with offsets
    for off in (0, 1, -2):
        c(call_case(A, f"trace[{off}]", "np.trace", (R(S, 4),), {"offset": off}))
    c(call_case(A, "trace[3d,axes]", "np.trace", (x,), {"axis1": 0, "axis2": 2}))
    # movedim / permute / transpose / swapaxes / squeeze / unsqueeze / expand / reshape
    c(call_case(A, "movedim[1,0]", "np.moveaxis", (x, 1, 0)))
    c(call_case(A, "movedim[(0,1),(2,0)]", "np.moveaxis", (x, (0, 1), (2, 0))))
    c(call_case(A, "permute", "np.transpose", (x, (2, 0, 1))))
    c(call_case(A, "permute[0d]", "np.transpose", (np.array(0.5), ())))
    c(call_case(A, "swapaxes", "np.swapaxes", (x, -1, 0)))
    c(call_case(A, "squeeze", "np.squeeze", (R(1, S, 1),)))
    c(call_case(A, "squeeze[dim]", "np.squeeze", (R(1, S, 1),), {"axis": 2}))
    c(call_case(A, "squeeze[0d]", "np.squeeze", (np.array(0.5),)))
    c(call_case(A, "unsqueeze[-1]", "np.expand_dims", (x, -1)))
    c(call_case(A, "unsqueeze[0d]", "np.expand_dims", (np.array(0.5), 0)))
    c(call_case(A, "expand", "np.broadcast_to", (R(S, 1), (M, S, 4))))
    c(call_case(A, "expand[0d]", "np.broadcast_to", (np.array(0.5), (M, 2))))
    c(call_case(A, "expand[empty]", "np.broadcast_to", (R(1, 3), (0, 3))))
    for sh in ((-1,), (4, -1), (S * M * 4,), (1, S, 1, M, 4)):
        c(call_case(A, f"reshape{sh}", "np.reshape", (x, sh)))
    c(call_case(A, "reshape[0d]", "np.reshape", (np.array(0.5), (1, 1))))
    c(call_case(A, "reshape[empty]", "np.reshape", (R(0, 3), (3, 0))))
    c(source_case(A, "flatten", "def f(x):\n    return x.flatten()", (x,)))
    c(source_case(A, "unflatten", "def f(x):\n    return x.reshape(x.shape[0], 2, 2, 3)",
                  (R(S, 12),)))
    c(call_case(A, "ravel", "np.ravel", (x,)))
    for name in ("atleast_1d", "atleast_2d", "atleast_3d"):
        for s in ((), (S,), (S, 2)):
            c(call_case(A, f"{name}[{tag(s)}]", f"np.{name}", (np.asarray(R(*s)),)))
    # repeat (np.tile), repeat_interleave (np.repeat: int, array, with/without dim)
    for reps in ((2,), (2, 1, 1), (1, 2, 3, 1), (3, 1, 2)):
        c(call_case(A, f"tile{reps}", "np.tile", (x, reps)))
    c(call_case(A, "tile[0d]", "np.tile", (np.array(0.5), (2, 3))))
    c(call_case(A, "repeat_interleave[2]", "np.repeat", (x, 2)))
    c(call_case(A, "repeat_interleave[2,dim=1]", "np.repeat", (x, 2), {"axis": 1}))
    c(call_case(A, "repeat_interleave[array,dim=0]", "np.repeat",
                (x, Src("[1, 0, 2, 3, 1]")), {"axis": 0}))
    c(call_case(A, "repeat_interleave[0d]", "np.repeat", (np.array(0.5), 3)))
    # take_along_dim (np.take_along_axis), gather, index_select (np.take), take
    idx = RNG.integers(0, 4, (S, M, 2))
    c(call_case(A, "take_along_dim[dim=-1]", "np.take_along_axis", (x, idx), {"axis": -1}))
    c(call_case(A, "take_along_dim[dim=0]", "np.take_along_axis",
                (x, RNG.integers(0, S, (2, M, 4))), {"axis": 0}))
    c(call_case(A, "take_along_dim[bcast]", "np.take_along_axis",
                (x, RNG.integers(0, M, (1, 2, 4))), {"axis": 1}))
    c(call_case(A, "take_along_dim[None]", "np.take_along_axis",
                (x, RNG.integers(0, S * M * 4, (7,))), {"axis": None}))
    c(call_case(A, "take_along_dim[argsort]", "np.take_along_axis",
                (Dist(S, 4), Src("np.argsort(x0, axis=1)")), {"axis": 1}))
    c(call_case(A, "take_along_dim[repeated]", "np.take_along_axis",
                (R(S, 4), np.zeros((S, 3), int)), {"axis": 1}))
    c(call_case(A, "gather[dim=1]", "np.take_along_axis",
                (R(M, S), np.array([[0, 1, 1], [4, 4, 0], [2, 3, 1]])), {"axis": 1}))
    for ax in (0, 1, -1):
        c(call_case(A, f"index_select[dim={ax}]", "np.take", (x, Src("[2, 0, 0, 1]")),
                    {"axis": ax}))
    c(call_case(A, "index_select[0d-index]", "np.take", (x, 1), {"axis": 1}))
    c(call_case(A, "index_select[empty-index]", "np.take", (x, Src("np.zeros(0, int)")),
                {"axis": 0}))
    c(call_case(A, "take", "np.take", (x, Src("[[0, 59], [7, 7]]"))))
    c(call_case(A, "take[0d]", "np.take", (np.array(0.5), 0)))
    c(source_case(A, "masked_select", "def f(x, m):\n    return x[m]",
                  (x, R(S, M, 4) > 0), wrt=(0,)))
    c(source_case(A, "masked_select[bcast]", "def f(x, m):\n"
                  "    return np.broadcast_to(x, m.shape)[m]", (R(M, 4), R(S, M, 4) > 0)))
    c(source_case(A, "masked_fill", "def f(x, m):\n    return np.where(m, 2.5, x)",
                  (x, R(S, M, 4) > 0)))
    c(source_case(A, "masked_scatter", "def f(x, m, s):\n    y = x.copy()\n"
                  "    y[m] = s[:np.count_nonzero(m)]\n    return y",
                  (R(S, 4), R(S, 4) > 0, R(S * 4)), wrt=(0, 2)))
    c(source_case(A, "index_put[accumulate]", "def f(x, v):\n    y = x.copy()\n"
                  "    np.add.at(y, ([0, 2, 0], [1, 1, 1]), v)\n    return y",
                  (R(M, 4), R(3)), wrt=(0, 1)))
    c(source_case(A, "index_put", "def f(x, v):\n    y = x.copy()\n"
                  "    y[[0, 2], [1, 3]] = v\n    return y", (R(M, 4), R(2)), wrt=(0, 1)))
    c(source_case(A, "index_add", "def f(x, v):\n    y = x.copy()\n"
                  "    y[[0, 2, 0]] += v\n    return y", (R(M, 4), R(3, 4)), wrt=(0, 1)))
    c(source_case(A, "scatter_add", "def f(x, src):\n    y = x.copy()\n"
                  "    np.add.at(y, (np.array([[0, 1], [1, 1]]), np.arange(2)[None, :]), src)\n"
                  "    return y", (R(M, 2), R(2, 2)), wrt=(0, 1)))
    c(source_case(A, "narrow", "def f(x):\n    return x[:, 1:3]", (x,)))
    c(source_case(A, "select", "def f(x):\n    return x[:, -1]", (x,)))
    c(source_case(A, "unfold", "def f(x):\n"
                  "    return np.lib.stride_tricks.sliding_window_view(x, 3, axis=-1)",
                  (R(M, 6),)))
    # split / chunk / tensor_split / hsplit / vsplit / dsplit
    c(source_case(A, "chunk[3]", "def f(x):\n    a, b, c = np.array_split(x, 3, axis=0)\n"
                  "    return a * 2, c - b[:1]", (x,)))
    c(source_case(A, "tensor_split[indices]", "def f(x):\n"
                  "    return np.array_split(x, [1, 3], axis=2)", (x,)))
    c(source_case(A, "split[sizes]", "def f(x):\n    return np.split(x, [2, 4], axis=0)", (x,)))
    c(source_case(A, "split[empty-part]", "def f(x):\n    return np.split(x, [0, 4], axis=2)",
                  (x,)))
    c(source_case(A, "hsplit", "def f(x):\n    return np.hsplit(x, 3)", (x,)))
    c(source_case(A, "vsplit", "def f(x):\n    return np.vsplit(x, [1])", (x,)))
    c(source_case(A, "dsplit", "def f(x):\n    return np.dsplit(x, 2)", (x,)))
    # cat / stack and friends, with an empty tensor in the list (torch's legacy cat rule)
    a, b = R(2, M), R(S, M)
    c(call_case(A, "cat", "np.concatenate", ([a, b],), wrt=(0,)))
    c(call_case(A, "cat[dim=1]", "np.concatenate", ([R(M, 2), R(M, S)],), {"axis": 1}))
    c(call_case(A, "cat[empty]", "np.concatenate", ([R(0, M), b],)))
    c(call_case(A, "cat[dim=None]", "np.concatenate", ([a, R(4)],), {"axis": None}))
    for name in ("stack", "hstack", "vstack", "dstack", "column_stack", "row_stack"):
        if not hasattr(np, name):
            continue
        c(call_case(A, f"{name}", f"np.{name}", ([R(M, 2), R(M, 2), R(M, 2)],)))
    c(call_case(A, "stack[dim=-1]", "np.stack", ([R(M), R(M)],), {"axis": -1}))
    c(call_case(A, "stack[0d]", "np.stack", ([np.array(0.5), np.array(1.5)],)))
    c(call_case(A, "hstack[1d]", "np.hstack", ([R(M), R(2)],)))
    c(call_case(A, "column_stack[1d]", "np.column_stack", ([R(M), R(M, 2)],)))
    c(call_case(A, "block", "np.block", ([[R(2, 2), R(2, 3)], [R(1, 5)]],)))
    # meshgrid (indexing ij / xy), broadcast_tensors
    for ind in ("ij", "xy"):
        c(source_case(A, f"meshgrid[{ind}]", "def f(a, b, c):\n"
                      f"    p, q, r = np.meshgrid(a, b, c, indexing='{ind}')\n"
                      "    return p * q + r", (R(M), R(2), R(4)), wrt=(0, 1, 2)))
    c(source_case(A, "broadcast_tensors", "def f(a, b):\n"
                  "    p, q = np.broadcast_arrays(a, b)\n    return p - 2 * q",
                  (R(M, 1), R(1, 4)), wrt=(0, 1)))
    # sort / argsort / topk / msort / kthvalue on distinct values
    xs = Dist(S, 4)
    for d in (0, 1, -1):
        c(call_case(A, f"sort[dim={d}]", "np.sort", (xs,), {"axis": d}))
    c(call_case(A, "sort[None]", "np.sort", (xs,), {"axis": None}))
    c(source_case(A, "sort[descending]", "def f(x):\n    return -np.sort(-x, axis=1)", (xs,)))
    c(source_case(A, "topk", "def f(x):\n    return np.sort(x, axis=-1)[..., ::-1][..., :2]", (xs,)))
    c(source_case(A, "kthvalue", "def f(x):\n    return np.partition(x, 2, axis=1)[:, 2]", (xs,)))
    c(source_case(A, "argsort-take", "def f(x):\n"
                  "    i = np.argsort(x, axis=0)\n    return np.take_along_axis(x, i, axis=0)",
                  (xs,)))
    c(call_case(A, "sort[0d]", "np.sort", (np.array(0.5),), {"axis": None}))
    # diff (n, dim, prepend/append) and gradient
    for n in (1, 2):
        for d in (0, -1):
            c(call_case(A, f"diff[n={n},dim={d}]", "np.diff", (x,), {"n": n, "axis": d}))
    c(call_case(A, "diff[prepend,append]", "np.diff", (R(S, 4),),
                {"axis": 1, "prepend": R(S, 1), "append": R(S, 2)}, wrt=(0,)))
    c(source_case(A, "diff[prepend-tensor]", "def f(x, p):\n"
                  "    return np.diff(x, axis=0, prepend=p)", (R(S, 4), R(2, 4)), wrt=(0, 1)))
    c(call_case(A, "diff[n=0]", "np.diff", (x,), {"n": 0}))
    for kw in ({}, {"axis": 0}, {"edge_order": 2}, {"axis": (0, 1)}):
        c(call_case(A, f"gradient{sorted(kw.items())}", "np.gradient", (R(S, 4),), kw,
                    post="np.stack({})" if kw.get("axis") == (0, 1) or not kw.get("axis") and
                    "axis" not in kw else "{}"))
    c(call_case(A, "gradient[spacing]", "np.gradient", (R(S), 0.5), wrt=(0,)))
    # trapezoid / cumulative_trapezoid
    c(call_case(A, "trapezoid", "np.trapezoid", (R(S, 4),), {"dx": 0.5}))
    c(call_case(A, "trapezoid[x]", "np.trapezoid", (R(S, 4), np.sort(R(4))), {"axis": -1},
                wrt=(0, 1)))
    c(call_case(A, "cumulative_trapezoid", "scipy.integrate.cumulative_trapezoid", (R(S, 4),),
                {"dx": 0.5, "axis": 0}, header="import numpy as np\nimport scipy.integrate"))
    # pad (constant / reflect / replicate / circular)
    for mode in ("constant", "reflect", "edge", "wrap"):
        c(call_case(A, f"pad[{mode}]", "np.pad", (R(M, 4), ((1, 2), (2, 1))), {"mode": mode}))
    c(call_case(A, "pad[constant-value]", "np.pad", (R(M, 4), 1),
                {"mode": "constant", "constant_values": 0.5}))
    return out


# ------------------------------------------------------------------ products


def product_cases():
    out = []
    c = out.append
    # matmul (sample_inputs_matmul): 1-d x 1-d, 2-d x 1-d, batched broadcasting, empty
    for sl, sr in (((S,), (S,)), ((S,), (S, M)), ((M, S), (S,)), ((M, S), (S, 2)),
                   ((2, M, S), (S, 2)), ((S,), (2, S, M)), ((2, 1, M, S), (3, S, 2)),
                   ((0, S), (S, 2)), ((M, 0), (0, 2)), ((1, M, S), (2, S, 2))):
        c(call_case(A, f"matmul[{tag(sl)},{tag(sr)}]", "np.matmul", (R(*sl), R(*sr)),
                    wrt=(0, 1)))
    c(source_case(A, "matmul[@]", "def f(a, b):\n    return a @ b", (R(M, S), R(S, 2)),
                  wrt=(0, 1)))
    c(call_case(A, "matmul[complex]", "np.matmul", (C(M, S), C(S, 2)), wrt=(0, 1)))
    # mm, mv, bmm, addmm, addmv, addbmm, baddbmm, dot, vdot, inner, outer, ger, chain_matmul
    c(source_case(A, "addmm", "def f(x, a, b):\n    return 0.5 * x + 2.0 * (a @ b)",
                  (R(M, 2), R(M, S), R(S, 2)), wrt=(0, 1, 2)))
    c(source_case(A, "addmm[bcast]", "def f(x, a, b):\n    return x + a @ b",
                  (R(2), R(M, S), R(S, 2)), wrt=(0, 1, 2)))
    c(source_case(A, "addmv", "def f(x, a, v):\n    return x + a @ v",
                  (R(M), R(M, S), R(S)), wrt=(0, 1, 2)))
    c(source_case(A, "addr", "def f(x, a, b):\n    return x + np.outer(a, b)",
                  (R(M, S), R(M), R(S)), wrt=(0, 1, 2)))
    c(source_case(A, "baddbmm", "def f(x, a, b):\n    return x + a @ b",
                  (R(2, M, 2), R(2, M, S), R(2, S, 2)), wrt=(0, 1, 2)))
    c(source_case(A, "addbmm", "def f(x, a, b):\n    return x + np.sum(a @ b, axis=0)",
                  (R(M, 2), R(2, M, S), R(2, S, 2)), wrt=(0, 1, 2)))
    c(call_case(A, "dot", "np.dot", (R(S), R(S)), wrt=(0, 1)))
    c(call_case(A, "dot[complex]", "np.dot", (C(S), C(S)), wrt=(0, 1)))
    c(call_case(A, "vdot", "np.vdot", (C(S), C(S)), wrt=(0, 1)))
    c(call_case(A, "vdot[real]", "np.vdot", (R(S), R(S)), wrt=(0, 1)))
    c(call_case(A, "inner", "np.inner", (R(M, S), R(2, S)), wrt=(0, 1)))
    c(call_case(A, "inner[0d]", "np.inner", (np.array(1.5), R(M, 2)), wrt=(0, 1)))
    c(call_case(A, "outer", "np.outer", (R(M), R(S)), wrt=(0, 1)))
    c(call_case(A, "outer[0d]", "np.outer", (np.array(1.5), R(S)), wrt=(0, 1)))
    c(call_case(A, "multi_dot", "np.linalg.multi_dot", ([R(M, S), R(S, 2), R(2, 4)],)))
    # tensordot (dims int and lists), einsum
    c(call_case(A, "tensordot[2]", "np.tensordot", (R(M, S, 2), R(S, 2, 4)), {"axes": 2},
                wrt=(0, 1)))
    c(call_case(A, "tensordot[lists]", "np.tensordot", (R(M, S, 2), R(2, 4, S)),
                {"axes": ([1, 2], [2, 0])}, wrt=(0, 1)))
    c(call_case(A, "tensordot[0]", "np.tensordot", (R(M), R(2)), {"axes": 0}, wrt=(0, 1)))
    for eq, shapes in (("i,i->", ((S,), (S,))), ("ij,jk->ik", ((M, S), (S, 2))),
                       ("bij,bjk->bik", ((2, M, S), (2, S, 2))), ("ii->i", ((M, M),)),
                       ("ii", ((M, M),)), ("ij->ji", ((M, S),)), ("i,j->ij", ((M,), (S,))),
                       ("...ij,...jk", ((2, M, S), (S, 2))), ("ijk,ikl,ilm->jm",
                                                              ((2, M, S), (2, S, 4), (2, 4, 3)))):
        args = tuple(R(*s) for s in shapes)
        ps = ", ".join(f"x{i}" for i in range(len(args)))
        c(source_case(A, f"einsum[{eq}]", f"def f({ps}):\n"
                      f"    return np.einsum('{eq}', {ps})", args, wrt=tuple(range(len(args)))))
    # kron (2-d, mixed ranks), cross (dim, broadcasting), cartesian_prod, cdist
    c(call_case(A, "kron", "np.kron", (R(2, M), R(M, 2)), wrt=(0, 1)))
    c(call_case(A, "kron[1d,2d]", "np.kron", (R(M), R(2, 2)), wrt=(0, 1)))
    c(call_case(A, "kron[3d]", "np.kron", (R(2, 1, 2), R(2, 2)), wrt=(0, 1)))
    c(call_case(A, "kron[0d]", "np.kron", (np.array(1.5), R(2, 2)), wrt=(0, 1)))
    c(call_case(A, "cross[dim=-1]", "np.cross", (R(S, 3), R(S, 3)), wrt=(0, 1)))
    c(call_case(A, "cross[dim=0]", "np.cross", (R(3, S), R(3, S)), {"axis": 0}, wrt=(0, 1)))
    c(call_case(A, "cross[bcast]", "np.cross", (R(S, 1, 3), R(M, 3)), wrt=(0, 1)))
    c(call_case(A, "cross[axisa]", "np.cross", (R(3, S), R(S, 3)), {"axisa": 0}, wrt=(0, 1)))
    c(call_case(A, "linalg.cross", "np.linalg.cross", (R(2, S, 3), R(S, 3)), wrt=(0, 1)))
    c(source_case(A, "cdist", "def f(a, b):\n    d = a[:, None, :] - b[None, :, :]\n"
                  "    return np.sqrt(np.sum(d * d, axis=-1))", (R(M, 4), R(S, 4)), wrt=(0, 1)))
    # (the pairs are taken before the sqrt: sqrt's derivative at the zero diagonal is
    # inf, and inf * 0 is NaN in every AD tool; torch.pdist never forms the diagonal)
    c(source_case(A, "pdist", "def f(a):\n    d = a[:, None, :] - a[None, :, :]\n"
                  "    i, j = np.triu_indices(a.shape[0], 1)\n"
                  "    return np.sqrt(np.sum(d * d, axis=-1)[i, j])", (R(S, 4),)))
    # cov / corrcoef (correction, fweights, aweights)
    xc = R(M, S)
    for kw in ({}, {"ddof": 0}, {"ddof": 2}, {"rowvar": False}, {"bias": True}):
        c(call_case(A, f"cov{sorted(kw.items())}", "np.cov", (xc,), kw))
    c(call_case(A, "cov[fweights]", "np.cov", (xc,), {"fweights": Src("[1, 2, 1, 3, 1]")}))
    c(call_case(A, "cov[aweights]", "np.cov", (xc,), {"aweights": Src("np.linspace(0.5, 2, 5)")}))
    c(call_case(A, "cov[1d]", "np.cov", (R(S),)))
    c(call_case(A, "corrcoef", "np.corrcoef", (xc,)))
    c(call_case(A, "corrcoef[2args]", "np.corrcoef", (R(S), R(S)), wrt=(0, 1)))
    # vander, polyval
    c(call_case(A, "vander", "np.vander", (R(S),)))
    c(call_case(A, "vander[N,increasing]", "np.vander", (R(S), 3), {"increasing": True}))
    return out


# ------------------------------------------------------------------ linalg


def _spd(n, batch=()):
    a = R(*batch, n, n)
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _wc(n, batch=()):
    return R(*batch, n, n) + 3 * np.eye(n)


def _distinct_sv(m, n, batch=()):
    """make_fullrank_matrices_with_distinct_singular_values."""
    k = min(m, n)
    u, _ = np.linalg.qr(R(*batch, m, m))
    v, _ = np.linalg.qr(R(*batch, n, n))
    s = np.linspace(1.0, 2.0 * k, k)
    mid = np.zeros((*batch, m, n))
    idx = np.arange(k)
    mid[..., idx, idx] = s
    return u @ mid @ v


BATCHES = ((), (2,), (2, 1))


def linalg_cases():
    out = []
    c = out.append
    for b in BATCHES + ((0,),):
        for n in (0, 1, S):
            if b == (0,) and n == 0:
                continue
            t = f"{b},{n}"
            c(call_case(A, f"det[{t}]", "np.linalg.det", (_wc(n, b),)))
            c(call_case(A, f"slogdet[{t}]", "np.linalg.slogdet", (_wc(n, b),), post="{}[1]"))
            c(call_case(A, f"inv[{t}]", "np.linalg.inv", (_wc(n, b),)))
            c(call_case(A, f"solve[{t}]", "np.linalg.solve", (_wc(n, b), R(*b, n, 2)),
                        wrt=(0, 1)))
            c(call_case(A, f"cholesky[{t}]", "np.linalg.cholesky", (_spd(n, b),)))
            c(call_case(A, f"eigvalsh[{t}]", "np.linalg.eigvalsh", (_spd(n, b),)))
            c(call_case(A, f"pinv[{t}]", "np.linalg.pinv", (_wc(n, b),)))
            c(call_case(A, f"matrix_power[{t},2]", "np.linalg.matrix_power", (_wc(n, b) / 3, 2)))
    # det of singular matrices (rank n-1, n-2) -- torch's sample_inputs_linalg_det_singular
    for rank in (S - 1, S - 2):
        u, _ = np.linalg.qr(R(S, S))
        v, _ = np.linalg.qr(R(S, S))
        s = np.r_[np.linspace(1, 2, rank), np.zeros(S - rank)]
        c(call_case(A, f"det[singular-rank{rank}]", "np.linalg.det", ((u * s) @ v,),
                    rtol=1e-4, atol=1e-6))
    # slogdet's sign, and the complex case
    c(call_case(A, "slogdet[sign]", "np.linalg.slogdet", (_wc(M),), post="{}[0]"))
    c(call_case(A, "det[complex]", "np.linalg.det", (C(M, M) + 3 * np.eye(M),)))
    c(call_case(A, "slogdet[complex]", "np.linalg.slogdet", (C(M, M) + 3 * np.eye(M),),
                post="{}[1]"))
    c(call_case(A, "inv[complex]", "np.linalg.inv", (C(M, M) + 3 * np.eye(M),)))
    # solve: vector b, batched broadcasting, left=False (X A = B: solve(A.T, B.T).T)
    c(call_case(A, "solve[vector-b]", "np.linalg.solve", (_wc(M), R(M)), wrt=(0, 1)))
    c(call_case(A, "solve[bcast-a]", "np.linalg.solve", (_wc(M), R(2, M, 4)), wrt=(0, 1)))
    c(call_case(A, "solve[bcast-b]", "np.linalg.solve", (_wc(M, (2, 1)), R(3, M, 1)),
                wrt=(0, 1)))
    c(source_case(A, "solve[left=False]", "def f(a, b):\n"
                  "    return np.linalg.solve(np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2))"
                  ".swapaxes(-1, -2)", (_wc(M), R(2, M)), wrt=(0, 1)))
    c(call_case(A, "solve_triangular[lower]", "scipy.linalg.solve_triangular",
                (np.tril(_wc(M)), R(M, 2)), {"lower": True}, wrt=(0, 1), header=SCIPY_LINALG,
                post="{}"))
    c(source_case(A, "solve_triangular[upper]", "def f(a, b):\n"
                  "    return scipy.linalg.solve_triangular(np.triu(a), b)",
                  (_wc(M), R(M)), wrt=(0, 1), header=SCIPY_LINALG))
    # matrix_power: n = 0, 1, 2, 3, -1, -2, batched
    for n in (0, 1, 3, -1, -2, 6):
        c(call_case(A, f"matrix_power[n={n}]", "np.linalg.matrix_power", (_wc(M, (2,)) / 3, n)))
    # pinv: rectangular, batched, hermitian, rtol (torch's atol/rtol; NumPy's rcond/rtol)
    c(call_case(A, "pinv[tall]", "np.linalg.pinv", (_distinct_sv(S, M),)))
    c(call_case(A, "pinv[wide,batch]", "np.linalg.pinv", (_distinct_sv(M, S, (2,)),)))
    c(call_case(A, "pinv[rcond]", "np.linalg.pinv", (_distinct_sv(S, M),), {"rcond": 1e-5}))
    c(call_case(A, "pinv[rtol]", "np.linalg.pinv", (_distinct_sv(S, M),), {"rtol": 1e-5}))
    c(source_case(A, "pinv[hermitian]", "def f(a):\n"
                  "    return np.linalg.pinv(a + a.T, hermitian=True)", (_wc(M) + 2 * np.eye(M),)))
    # hermitian=True on a non-symmetric input: NumPy reads the lower triangle only
    c(call_case(A, "pinv[hermitian,lower-only,batch]", "np.linalg.pinv",
                (_wc(M, (2,)) + 2 * np.eye(M),), {"hermitian": True}))
    c(call_case(A, "pinv[hermitian,complex]", "np.linalg.pinv",
                (C(M, M) + 4 * np.eye(M),), {"hermitian": True}))
    # lstsq of a wide matrix (the minimum-norm solution), det of a batch with a
    # singular member, slogdet of a negative determinant, cond's other ords
    c(call_case(A, "lstsq[wide]", "np.linalg.lstsq", (_distinct_sv(M, S), R(M, 2)),
                {"rcond": None}, wrt=(0, 1), post="{}[0]"))
    sing = _wc(M, (3,))
    sing[1] = np.diag([1.0, 2.0, 0.0]) @ R(M, M)
    c(call_case(A, "det[batch-singular]", "np.linalg.det", (sing,), rtol=1e-4, atol=1e-6))
    c(call_case(A, "slogdet[negative-det]", "np.linalg.slogdet", (np.stack([_wc(M), -_wc(M)]),),
                post="{}[1]"))
    for p in ("-2", "np.inf", "'nuc'", "-1"):
        c(call_case(A, f"cond[{p}]", "np.linalg.cond", (_wc(M), Src(p))))
    # linalg.norm: vector ords (sample_inputs_linalg_vector_norm) and matrix ords
    for shape in ((S,), (2, 2)):
        for ordv in (None, 0, 0.9, 1, -2.1, np.inf, -np.inf, 2, 3):
            for d in (None, (0,), (-1, 0)):
                if d == (-1, 0) and len(shape) == 1:
                    continue
                if d is None and len(shape) == 2:
                    fn = "np.linalg.vector_norm"
                else:
                    fn = "np.linalg.vector_norm"
                kw = {"axis": d}
                if ordv is not None:
                    kw["ord"] = lit(float(ordv))
                c(call_case(A, f"vector_norm[{tag(shape)},ord={ordv},dim={d}]", fn,
                            (Away(*shape),), kw))
    c(call_case(A, "vector_norm[keepdim]", "np.linalg.vector_norm", (Away(2, M, 4),),
                {"axis": (0, 2), "keepdims": True, "ord": 3}))
    c(call_case(A, "vector_norm[0d]", "np.linalg.vector_norm", (np.array(-1.5),)))
    c(call_case(A, "vector_norm[empty]", "np.linalg.vector_norm", (R(0, 3),), {"axis": 1}))
    for ordv in ("'fro'", "'nuc'", "np.inf", "-np.inf", "1", "-1", "2", "-2"):
        for kd in (False, True):
            c(call_case(A, f"matrix_norm[ord={ordv},kd={kd}]", "np.linalg.matrix_norm",
                        (_distinct_sv(M, 4, (2,)) + 0.01 * Dist(2, M, 4),),
                        {"ord": Src(ordv), "keepdims": kd}))
            c(call_case(A, f"norm[mat,ord={ordv},kd={kd}]", "np.linalg.norm",
                        (_distinct_sv(M, 4) + 0.01 * Dist(M, 4),),
                        {"ord": Src(ordv), "keepdims": kd}))
        c(call_case(A, f"norm[mat,ord={ordv},dim=(0,2)]", "np.linalg.norm",
                    (_distinct_sv(M, 4, (2,)).transpose(1, 0, 2) + 0.01 * Dist(M, 2, 4),),
                    {"ord": Src(ordv), "axis": (0, 2)}))
    c(call_case(A, "norm[default,3d]", "np.linalg.norm", (R(2, M, 4),)))
    c(call_case(A, "norm[complex]", "np.linalg.norm", (C(M, 4),)))
    c(call_case(A, "norm[complex,ord=1]", "np.linalg.norm", (C(M, 4) + 0.3,), {"ord": 1}))
    c(call_case(A, "vector_norm[complex,ord=3]", "np.linalg.vector_norm", (C(M),),
                {"ord": 3.0}))
    # eigh / eigvalsh (UPLO), eigenvectors up to sign (torch's gauge-invariant check)
    for uplo in ("L", "U"):
        c(source_case(A, f"eigh[{uplo}]", "def f(a):\n"
                      f"    w, v = np.linalg.eigh(a, UPLO='{uplo}')\n"
                      "    return w, np.abs(v)", (_spd(S) + np.diag(np.arange(S) * 3.0),)))
        c(source_case(A, f"eigh[{uplo},lower-only]", "def f(a):\n"
                      f"    return np.linalg.eigvalsh(a, UPLO='{uplo}')", (R(S, S) + 8 * np.eye(S),)))
    c(source_case(A, "eigh[batch,gauge]", "def f(a):\n    s = a + np.swapaxes(a, -1, -2)\n"
                  "    w, v = np.linalg.eigh(s)\n    return v * v, w", (R(2, M, M),)))
    c(source_case(A, "eigh[recon]", "def f(a):\n    s = a + a.T\n    w, v = np.linalg.eigh(s)\n"
                  "    return (v * w) @ v.T", (R(M, M),)))
    c(source_case(A, "eigh[complex,abs]", "def f(a):\n    h = a + a.conj().T\n"
                  "    w, v = np.linalg.eigh(h)\n    return w, np.abs(v)", (C(M, M),)))
    # eig / eigvals on matrices with distinct real eigenvalues
    ae = np.diag([1.0, 2.5, 4.0, -1.5]) + 0.1 * R(4, 4)
    c(source_case(A, "eigvals", "def f(a):\n    return np.linalg.eigvals(a)", (ae,)))
    c(source_case(A, "eig[vectors-ratio]", "def f(a):\n    w, v = np.linalg.eig(a)\n"
                  "    return w, v / v[:1]", (ae,)))
    # svd / svdvals (full_matrices, batched), up to sign; reconstruction
    for shape in ((S, M), (M, S), (2, M, M), (M, M)):
        a = _distinct_sv(*shape[-2:], shape[:-2])
        c(call_case(A, f"svdvals[{tag(shape)}]", "np.linalg.svdvals", (a,)))
        c(source_case(A, f"svd[{tag(shape)},gauge]", "def f(a):\n"
                      "    u, s, vh = np.linalg.svd(a, full_matrices=False)\n"
                      "    return s, u * np.swapaxes(vh, -1, -2)[..., :u.shape[-2], :]"
                      if shape[-1] >= shape[-2] else "def f(a):\n"
                      "    u, s, vh = np.linalg.svd(a, full_matrices=False)\n"
                      "    return s, np.abs(u), np.abs(vh)", (a,)))
        c(source_case(A, f"svd[{tag(shape)},recon]", "def f(a):\n"
                      "    u, s, vh = np.linalg.svd(a, full_matrices=False)\n"
                      "    return (u * s[..., None, :]) @ vh", (a,)))
    c(source_case(A, "svd[full_matrices,square]", "def f(a):\n"
                  "    u, s, vh = np.linalg.svd(a)\n    return s, np.abs(u), np.abs(vh)",
                  (_distinct_sv(M, M),)))
    c(source_case(A, "svd[full_matrices,tall]", "def f(a):\n"
                  "    u, s, vh = np.linalg.svd(a)\n    return s, np.abs(vh), np.abs(u[:, :3])",
                  (_distinct_sv(S, M),)))
    c(source_case(A, "svd[complex,vals]", "def f(a):\n"
                  "    return np.linalg.svd(a, compute_uv=False)", (C(M, 4),)))
    # qr (modes reduced/complete/r), tall/wide/batched
    for shape in ((S, M), (M, M), (2, S, M), (M, S)):
        for mode in ("reduced", "complete", "r"):
            if mode == "complete" and shape[-2] > shape[-1]:
                continue
            body = ("    return np.linalg.qr(a, mode='r')" if mode == "r" else
                    f"    q, r = np.linalg.qr(a, mode='{mode}')\n    return q, r")
            c(source_case(A, f"qr[{tag(shape)},{mode}]", f"def f(a):\n{body}", (R(*shape),)))
    # cholesky (upper=True), cholesky_inverse, cholesky_solve
    c(call_case(A, "cholesky[upper]", "np.linalg.cholesky", (_spd(S),), {"upper": True}))
    c(source_case(A, "cholesky[sym-input]", "def f(a):\n"
                  "    return np.linalg.cholesky(a @ a.T + np.eye(3))", (R(M, M),)))
    c(source_case(A, "cholesky_inverse", "def f(a):\n    l = np.linalg.cholesky(a @ a.T + np.eye(3))\n"
                  "    return np.linalg.inv(l @ l.T)", (R(M, M),)))
    c(source_case(A, "cholesky_solve", "def f(a, b):\n"
                  "    c, low = scipy.linalg.cho_factor(a @ a.T + np.eye(3))\n"
                  "    return scipy.linalg.cho_solve((c, low), b)", (R(M, M), R(M, 2)), wrt=(0, 1),
                  header=SCIPY_LINALG))
    # lstsq (tall, square, batched, vector b), its residuals
    c(call_case(A, "lstsq", "np.linalg.lstsq", (R(S, M), R(S, 2)), {"rcond": None},
                wrt=(0, 1), post="{}[0]"))
    c(call_case(A, "lstsq[vector-b]", "np.linalg.lstsq", (R(S, M), R(S)), {"rcond": None},
                wrt=(0, 1), post="{}[0]"))
    c(call_case(A, "lstsq[square]", "np.linalg.lstsq", (_wc(M), R(M, 2)), {"rcond": None},
                wrt=(0, 1), post="{}[0]"))
    c(call_case(A, "lstsq[residuals]", "np.linalg.lstsq", (R(S, M), R(S, 2)), {"rcond": None},
                wrt=(0, 1), post="{}[1]"))
    c(call_case(A, "lstsq[scipy]", "scipy.linalg.lstsq", (R(S, M), R(S, 2)), wrt=(0, 1),
                post="{}[0]", header=SCIPY_LINALG))
    # tensorinv / tensorsolve, cond, matrix_exp, multi_dot, householder-free lu
    c(call_case(A, "tensorinv", "np.linalg.tensorinv", (_wc(6).reshape(6, 2, 3),), {"ind": 1}))
    c(call_case(A, "tensorsolve", "np.linalg.tensorsolve", (_wc(6).reshape(2, 3, 6), R(2, 3)),
                wrt=(0, 1)))
    c(call_case(A, "cond", "np.linalg.cond", (_wc(M),)))
    c(call_case(A, "cond[fro]", "np.linalg.cond", (_wc(M), "fro")))
    c(call_case(A, "cond[1]", "np.linalg.cond", (_wc(M), 1)))
    c(call_case(A, "matrix_exp", "scipy.linalg.expm", (R(M, M) * 0.5,), header=SCIPY_LINALG))
    c(call_case(A, "matrix_exp[batch]", "scipy.linalg.expm", (R(2, M, M) * 0.5,),
                header=SCIPY_LINALG))
    c(source_case(A, "lu", "def f(a):\n    p, l, u = scipy.linalg.lu(a)\n    return l, u",
                  (_wc(M) + np.diag([3.0, 0, -3.0]),), header=SCIPY_LINALG))
    c(source_case(A, "lu_factor_solve", "def f(a, b):\n"
                  "    return scipy.linalg.lu_solve(scipy.linalg.lu_factor(a), b)",
                  (_wc(M), R(M, 2)), wrt=(0, 1), header=SCIPY_LINALG))
    c(call_case(A, "vecdot", "np.linalg.vecdot", (R(M, S), R(S)), wrt=(0, 1)))
    c(call_case(A, "vecdot[complex]", "np.linalg.vecdot", (C(M, S), C(S)), wrt=(0, 1)))
    c(call_case(A, "linalg.diagonal", "np.linalg.diagonal", (R(2, M, 4),), {"offset": 1}))
    c(call_case(A, "matrix_rank-data", "np.linalg.matrix_rank", (R(M, M),), post="{} * 1.0",
                modes=("rev",), zero=True))
    return out


# ------------------------------------------------------------------ special (binary and more)


def special_cases():
    out = []
    c = out.append
    h = SCIPY
    # zeta(x, q): torch differentiates q only (x has no formula); x > 1, q > 0
    c(call_case(A, "zeta[q]", "scipy.special.zeta", (Src("3.0"), P(S, S)), wrt=(1,), header=h))
    c(call_case(A, "zeta[x-array,q]", "scipy.special.zeta", (np.full((S,), 2.5), P(S)),
                wrt=(1,), header=h))
    c(call_case(A, "zeta[q,bcast]", "scipy.special.zeta", (np.array([2.0, 3.5, 5.0])[:, None],
                                                            P(1, 4)), wrt=(1,), header=h))
    c(call_case(A, "zeta[x-wrt]", "scipy.special.zeta", (U(2, 4, S), P(S)), wrt=(0, 1),
                header=h))
    # xlogy / xlog1py at x = 0 (torch: 0 where x == 0, gradient in y is 0 there)
    xz = np.array([0.0, 1.5, 0.0, 2.0])
    c(call_case(A, "xlogy[x=0]", "scipy.special.xlogy", (xz, P(4)), wrt=(0, 1), header=h))
    c(call_case(A, "xlogy[x=0,y=0]", "scipy.special.xlogy", (xz, np.array([0.0, 1.0, 2.0, 3.0])),
                wrt=(1,), header=h, modes=("rev",)))
    c(call_case(A, "xlog1py[x=0]", "scipy.special.xlog1py", (xz, U(-0.5, 1, 4)), wrt=(0, 1),
                header=h))
    c(call_case(A, "xlogy[scalar-x]", "scipy.special.xlogy", (Src("2.0"), P(S)), wrt=(1,), header=h))
    # entr: x > 0, x = 0 (value 0), x < 0 (-inf)
    c(call_case(A, "entr[mixed]", "scipy.special.entr", (np.array([0.5, 1.5, 2.0]),),
                header=h))
    # polygamma at 0-d and larger n; gammaln / digamma at negative non-integers
    c(call_case(A, "gammaln[negative]", "scipy.special.gammaln", (np.array([-0.5, -1.5, -2.3]),),
                header=h))
    c(call_case(A, "digamma[negative]", "scipy.special.digamma", (np.array([-0.5, -1.5, -2.3]),),
                header=h))
    c(call_case(A, "gamma", "scipy.special.gamma", (U(0.5, 3, S),), header=h))
    c(call_case(A, "loggamma", "scipy.special.loggamma", (U(0.5, 3, S),), header=h))
    # erfinv near +-1, ndtri near 0/1, log_ndtr in the tails
    c(call_case(A, "erfinv[tails]", "scipy.special.erfinv", (np.array([-0.999, 0.99, 0.0]),),
                header=h, rtol=1e-4))
    c(call_case(A, "ndtri[tails]", "scipy.special.ndtri", (np.array([1e-3, 0.5, 0.999]),),
                header=h, rtol=1e-4))
    c(call_case(A, "log_ndtr[tails]", "scipy.special.log_ndtr", (np.array([-30.0, -5.0, 8.0]),),
                header=h))
    # i0e / i1e: even and odd, large arguments
    c(call_case(A, "i0e[large]", "scipy.special.i0e", (np.array([-40.0, 25.0, 0.3]),), header=h))
    c(call_case(A, "i1e[large]", "scipy.special.i1e", (np.array([-40.0, 25.0, 0.3]),), header=h))
    # expit / logit at the ends; sinc at 0 and integers
    c(call_case(A, "expit[large]", "scipy.special.expit", (np.array([-40.0, 0.0, 40.0]),),
                header=h))
    c(call_case(A, "sinc[at-integers]", "np.sinc", (np.array([0.0, 1.0, -2.0, 0.5]),)))
    # betaln, gammainc / gammaincc (torch.igamma / igammac: gradient in x only)
    c(call_case(A, "gammainc[x]", "scipy.special.gammainc", (Src("2.5"), P(S)), wrt=(1,), header=h))
    c(call_case(A, "gammaincc[x]", "scipy.special.gammaincc", (Src("2.5"), P(S)), wrt=(1,),
                header=h))
    c(call_case(A, "gammainc[a,x]", "scipy.special.gammainc", (P(S) + 1, P(S)), wrt=(0, 1),
                header=h, rtol=1e-4))
    c(call_case(A, "betaln", "scipy.special.betaln", (P(S), P(S)), wrt=(0, 1), header=h))
    # softplus / log_expit (torch.nn.functional.softplus, logsigmoid)
    c(call_case(A, "log_expit", "scipy.special.log_expit", (R(S, S) * 3,), header=h))
    c(call_case(A, "softplus", "scipy.special.softplus", (R(S, S) * 3,), header=h))
    c(source_case(A, "softplus[beta,threshold]", "def f(x):\n"
                  "    return np.where(2 * x > 20, x, np.log1p(np.exp(2 * x)) / 2)",
                  (R(S, S) * 4,)))
    return out


# ------------------------------------------------------------------ fft


def fft_cases():
    out = []
    c = out.append
    x = R(S, 6)
    for fn in ("fft", "ifft", "rfft", "ihfft"):
        for kw in ({}, {"n": 4}, {"n": 9}, {"axis": 0}, {"norm": "ortho"}, {"norm": "forward"},
                   {"norm": "backward"}):
            c(call_case(A, f"fft.{fn}[{sorted(kw.items())}]", f"np.fft.{fn}", (x,), kw))
        c(call_case(A, f"fft.{fn}[1d]", f"np.fft.{fn}", (R(7),)))
    z = C(S, 6)
    for fn in ("fft", "ifft", "irfft", "hfft"):
        for kw in ({}, {"n": 4}, {"n": 11}, {"axis": 0}, {"norm": "ortho"}, {"norm": "forward"}):
            c(call_case(A, f"fft.{fn}[complex,{sorted(kw.items())}]", f"np.fft.{fn}", (z,), kw))
    for fn in ("fft2", "ifft2", "rfft2", "fftn", "ifftn", "rfftn"):
        for kw in ({}, {"s": (3, 8)}, {"axes": (0, 2)}, {"norm": "ortho"},
                   {"s": (2, 4), "axes": (-1, 0)}):
            if fn.endswith("2") and "s" in kw and "axes" not in kw:
                pass
            c(call_case(A, f"fft.{fn}[{sorted(kw.items())}]", f"np.fft.{fn}", (R(2, 4, 6),), kw))
    for fn in ("irfft2", "irfftn", "fft2", "ifftn"):
        for kw in ({}, {"s": (4, 10)}, {"norm": "ortho"}):
            c(call_case(A, f"fft.{fn}[complex,{sorted(kw.items())}]", f"np.fft.{fn}",
                        (C(2, 4, 6),), kw))
    for fn in ("fftshift", "ifftshift"):
        for kw in ({}, {"axes": 0}, {"axes": (0, 1)}, {"axes": -1}):
            c(call_case(A, f"fft.{fn}[{sorted(kw.items())}]", f"np.fft.{fn}", (R(M, S),), kw))
    c(call_case(A, "fft.fft[0-length-pad]", "np.fft.fft", (R(S, 1),), {"n": 3}))
    return out


# ------------------------------------------------------------------ gradgradcheck


GRADGRAD = [  # the op applied to x (source), data
    ("np.sin(x)", R(S, M)), ("np.exp(x)", R(S, M)), ("np.log(x)", P(S, M)),
    ("np.tanh(x)", R(S, M)), ("x ** 3", R(S, M)), ("np.sqrt(x)", P(S, M)),
    ("scipy.special.erf(x)", R(S, M)), ("scipy.special.gammaln(x)", P(S, M)),
    ("scipy.special.digamma(x)", P(S, M)), ("scipy.special.expit(x)", R(S, M)),
    ("scipy.special.logsumexp(x, axis=1)", R(S, M)), ("scipy.special.log_softmax(x, axis=0)", R(S, M)),
    ("scipy.special.i0e(x)", Away(S, M)), ("scipy.special.ndtri(x)", U(0.1, 0.9, S, M)),
    ("scipy.special.xlogy(x, x + 2)", P(S, M)), ("np.cumprod(x, axis=1)", U(0.5, 1.5, S, M)),
    ("np.prod(x, axis=0)", U(0.5, 1.5, S, M)), ("np.var(x, axis=0, ddof=1)", R(S, M)),
    ("np.std(x, axis=1)", R(S, M)), ("np.linalg.norm(x, axis=1)", R(S, M)),
    ("np.linalg.norm(x, ord=3, axis=0)", Away(S, M)),
    ("np.linalg.det(x)", _wc(M)), ("np.linalg.slogdet(x)[1]", _wc(M)),
    ("np.linalg.inv(x)", _wc(M)), ("np.linalg.solve(x, np.arange(3.0))", _wc(M)),
    ("np.linalg.cholesky(x @ x.T + np.eye(3))", R(M, M)),
    ("np.linalg.eigvalsh(x + x.T)", R(M, M)), ("np.linalg.pinv(x)", _distinct_sv(S, M)),
    ("np.linalg.svd(x, compute_uv=False)", _distinct_sv(S, M)),
    ("np.linalg.qr(x)[1]", R(S, M)), ("np.linalg.matrix_power(x, 3)", R(M, M)),
    ("np.kron(x, x)", R(2, 2)), ("np.cross(x, x[::-1])", R(2, 3)),
    ("np.clip(x, -0.5, 0.5) * x", Dist(S, M) * 0.2), ("np.maximum(x, 0.1) ** 2", Dist(S, M) * 0.2),
    ("np.abs(x) ** 3", Away(S, M)), ("np.take_along_axis(x, np.argsort(x, axis=1), axis=1) ** 2",
                                     Dist(S, M)),
    ("np.fft.rfft(x, axis=0)", R(S, M)), ("np.fft.fft2(x * x)", R(S, M)),
    ("np.roll(np.flip(x, axis=0), 2) ** 3", R(S, M)), ("np.polyval(x[0], x[1])", R(2, 4)),
    ("np.arctan2(x, x ** 2 + 1)", R(S, M)), ("np.hypot(x, 1.5)", R(S, M)),
    ("np.logaddexp(x, -x)", R(S, M)), ("scipy.special.polygamma(2, x)", P(S, M)),
    ("np.cumsum(x ** 2, axis=0)", R(S, M)), ("np.sinc(x)", R(S, M)),
    ("np.nan_to_num(np.log(x))", P(S, M)), ("np.diagonal(x @ x.T, offset=1)", R(M, M)),
    ("np.tril(x, -1) ** 2", R(M, M)), ("np.einsum('ij,jk->ik', x, x.T)", R(M, 2)),
]


def gradgrad_cases():
    """``gradgradcheck``: f returns the gradient of ``sum(w * op(x))`` (``w``
    fixed weights of the op's output shape); the harness then checks f's
    reverse mode (reverse-over-reverse) and forward mode (forward-over-
    reverse, the Hessian-vector product)."""
    import scipy.special                  # noqa: F401 -- the expressions' namespace
    out = []
    for expr, data in GRADGRAD:
        with np.errstate(all="ignore"):
            shape = np.shape(eval(expr, {"np": np, "scipy": scipy, "x": data}))
        src = (f"W = np.cos(np.arange(1.0, {int(np.prod(shape)) + 1}.0)).reshape({shape!r})\n\n\n"
               "def inner(x):\n"
               f"    y = {expr}\n"
               "    return np.real(np.sum(W * y))\n\n\n"
               "def f(x):\n"
               "    return s2sgrad.grad(inner)(x)\n")
        out.append(source_case(A, f"gradgrad[{expr}]", src, (data,),
                               header="import numpy as np\nimport scipy.special\nimport s2sgrad"))
    # float32 twins (torch's gradgradcheck runs float64 only; the value and the
    # derivative keep the argument's dtype, as the top-level gradient does)
    return out + f32_only(out[::2])


# ------------------------------------------------------------------ complex dtypes


def complex_cases():
    """torch's gradcheck of complex128 samples (``supports_complex_autograd``):
    Wirtinger calculus there, the same checks here in s2sgrad's convention
    (a real loss's cotangent pairs with a complex direction by Re(sum(a b)))."""
    out = []
    c = out.append
    z, w = C(S, M), C(M)
    for name in ("sum", "mean", "prod", "cumsum", "cumprod"):
        for ax in (None, 0, -1):
            c(call_case(A, f"{name}[complex,dim={ax}]", f"np.{name}", (z * 0.5,), {"axis": ax}))
    for name in ("var", "std"):
        for corr in (0, 1):
            c(call_case(A, f"{name}[complex,correction={corr}]", f"np.{name}", (z,),
                        {"axis": 0, "ddof": corr}))
    for name in ("add", "subtract", "multiply", "true_divide"):
        c(call_case(A, f"{name}[complex,bcast]", f"np.{name}", (z, w + 2), wrt=(0, 1)))
        c(call_case(A, f"{name}[complex,real]", f"np.{name}", (z, P(M)), wrt=(0, 1)))
    c(call_case(A, "power[complex,int]", "np.power", (z, Src("3"))))
    c(call_case(A, "power[complex,real-exp]", "np.power", (z + 3, Src("0.7"))))
    c(call_case(A, "where[complex]", "np.where", (R(S, M) > 0, z, w), wrt=(1, 2)))
    c(call_case(A, "sinc[complex]", "np.sinc", (z * 0.5,)))
    c(call_case(A, "expm1[complex]", "np.expm1", (z,)))
    c(call_case(A, "log1p[complex]", "np.log1p", (z * 0.3,)))
    c(call_case(A, "square[complex]", "np.square", (z,)))
    c(call_case(A, "matmul[complex,real]", "np.matmul", (z, R(M, 2)), wrt=(0, 1)))
    c(call_case(A, "kron[complex]", "np.kron", (C(2, 2), C(2, 3)), wrt=(0, 1)))
    c(call_case(A, "outer[complex]", "np.outer", (C(M), C(2)), wrt=(0, 1)))
    c(call_case(A, "inner[complex]", "np.inner", (C(M), C(M)), wrt=(0, 1)))
    c(call_case(A, "tensordot[complex]", "np.tensordot", (C(M, S), C(S, 2)), {"axes": 1},
                wrt=(0, 1)))
    c(source_case(A, "einsum[complex]", "def f(a, b):\n    return np.einsum('ij,jk->ik', a, b)",
                  (C(M, S), C(S, 2)), wrt=(0, 1)))
    c(call_case(A, "flip[complex]", "np.flip", (z,), {"axis": 0}))
    c(call_case(A, "roll[complex]", "np.roll", (z, 2)))
    c(call_case(A, "take_along_dim[complex]", "np.take_along_axis",
                (z, RNG.integers(0, M, (S, 2))), {"axis": 1}))
    c(call_case(A, "tril[complex]", "np.tril", (C(M, M),)))
    c(call_case(A, "diagonal[complex]", "np.diagonal", (C(M, 4),), {"offset": 1}))
    c(call_case(A, "trace[complex]", "np.trace", (C(M, M),)))
    c(call_case(A, "concatenate[complex-real]", "np.concatenate", ([C(2, M), R(1, M)],)))
    c(call_case(A, "stack[complex]", "np.stack", ([C(M), C(M)],), {"axis": 1}))
    c(call_case(A, "pad[complex]", "np.pad", (C(M, 2), 1)))
    c(call_case(A, "repeat[complex]", "np.repeat", (C(M), 2)))
    c(call_case(A, "tile[complex]", "np.tile", (C(M), (2, 1))))
    c(call_case(A, "diff[complex]", "np.diff", (C(S, M),), {"axis": 0}))
    c(call_case(A, "cov[complex]", "np.cov", (C(M, S),)))
    c(call_case(A, "real[complex-2d]", "np.real", (C(M, M),)))
    c(call_case(A, "angle[complex-2d]", "np.angle", (C(M, M) + 0.5,)))
    c(call_case(A, "abs[complex-2d]", "np.abs", (C(M, M) + 0.5,)))
    c(call_case(A, "vdot[complex-real]", "np.vdot", (R(M), R(M)), wrt=(0, 1)))
    c(call_case(A, "solve[complex,batch]", "np.linalg.solve",
                (C(2, M, M) + 3 * np.eye(M), C(2, M, 1)), wrt=(0, 1)))
    c(call_case(A, "pinv[complex]", "np.linalg.pinv", (C(S, M),)))
    c(call_case(A, "matrix_power[complex,3]", "np.linalg.matrix_power", (C(M, M) * 0.5, 3)))
    c(call_case(A, "matrix_power[complex,-1]", "np.linalg.matrix_power",
                (C(M, M) + 3 * np.eye(M), -1)))
    c(call_case(A, "det[complex,batch]", "np.linalg.det", (C(2, M, M) + 2 * np.eye(M),)))
    c(call_case(A, "slogdet[complex,sign]", "np.linalg.slogdet", (C(M, M) + 3 * np.eye(M),),
                post="{}[0]"))
    c(source_case(A, "svd[complex,recon]", "def f(a):\n"
                  "    u, s, vh = np.linalg.svd(a, full_matrices=False)\n"
                  "    return (u * s[..., None, :]) @ vh", (C(S, M),)))
    c(source_case(A, "svd[complex,gauge]", "def f(a):\n"
                  "    u, s, vh = np.linalg.svd(a, full_matrices=False)\n"
                  "    return s, np.abs(u), np.abs(vh)", (C(M, M),)))
    c(call_case(A, "svdvals[complex]", "np.linalg.svdvals", (C(2, M, 4),)))
    c(source_case(A, "eigh[complex,recon]", "def f(a):\n    h = a + a.conj().T\n"
                  "    w, v = np.linalg.eigh(h)\n    return (v * w) @ v.conj().T", (C(M, M),)))
    c(source_case(A, "eigvals[complex]", "def f(a):\n    return np.linalg.eigvals(a)",
                  (np.diag([1.0, 2.5j, -2.0]) + 0.1 * C(M, M),)))
    c(source_case(A, "eig[complex,recon]", "def f(a):\n    w, v = np.linalg.eig(a)\n"
                  "    return (v * w) @ np.linalg.inv(v)", (np.diag([1.0, 2.5j, -2.0]) + 0.1 * C(M, M),)))
    c(call_case(A, "lstsq[complex]", "np.linalg.lstsq", (C(S, M), C(S, 2)), {"rcond": None},
                wrt=(0, 1), post="{}[0]"))
    for ordv in ("'fro'", "'nuc'", "2", "-2", "1", "np.inf"):
        c(call_case(A, f"matrix_norm[complex,{ordv}]", "np.linalg.matrix_norm",
                    (C(2, M, 4),), {"ord": Src(ordv)}))
    for ordv in (1.0, 3.0, np.inf, -np.inf, 0.5):
        c(call_case(A, f"vector_norm[complex,{ordv}]", "np.linalg.vector_norm", (C(S, M),),
                    {"ord": lit(ordv), "axis": 1}))
    c(source_case(A, "cholesky[complex]", "def f(a):\n"
                  "    return np.linalg.cholesky(a @ a.conj().T + 3 * np.eye(3))", (C(M, M),)))
    return out


# ------------------------------------------------------------------ masked reductions (_masked.py)


def masked_cases():
    """torch.masked.* (``opinfo/definitions/_masked.py``): reductions and
    normalisations over the entries a mask keeps -- NumPy's ``where=`` (with
    ``initial=`` for amax/amin), and the masked softmax family written out."""
    out = []
    c = out.append
    x = Dist(S, 4) * 0.2 + 1.2
    mask = RNG.random((S, 4)) > 0.4
    mask[:, :2] = True                 # two kept per row: var with correction=1 is finite
    mlit = f"np.asarray({mask.astype(int).tolist()!r}) > 0"
    hdr = f"import numpy as np\n\nM = {mlit}"
    for name, extra in (("sum", ""), ("mean", ""), ("prod", ""), ("var", ", ddof=1"),
                        ("std", ""), ("max", ", initial=-9.0"), ("min", ", initial=9.0"),
                        ("nansum", ""), ("nanmean", ""), ("nanvar", "")):
        for ax, kd in ((1, False), (0, True), (None, False)):
            if ax == 0 and name in ("var", "std", "nanvar"):
                continue
            c(source_case(A, f"masked.{name}[dim={ax},kd={kd}]",
                          f"def f(x):\n    return np.{name}(x, axis={ax}, keepdims={kd}, "
                          f"where=M{extra})", (x,), header=hdr))
    c(source_case(A, "masked.norm[2]", "def f(x):\n"
                  "    return np.sqrt(np.sum(x * x, axis=1, where=M))", (x,), header=hdr))
    c(source_case(A, "masked.logsumexp", "def f(x):\n"
                  "    m = np.max(x, axis=1, where=M, initial=-np.inf, keepdims=True)\n"
                  "    return m[:, 0] + np.log(np.sum(np.exp(x - m), axis=1, where=M))",
                  (x,), header=hdr))
    c(source_case(A, "masked.softmax", "def f(x):\n"
                  "    e = np.where(M, np.exp(x - np.max(x, axis=1, keepdims=True)), 0.0)\n"
                  "    return e / np.sum(e, axis=1, keepdims=True)", (x,), header=hdr))
    c(source_case(A, "masked.log_softmax", "def f(x):\n"
                  "    return np.where(M, x - scipy.special.logsumexp(np.where(M, x, -np.inf), "
                  "axis=1, keepdims=True), 0.0)", (x,),
                  header=hdr.replace("numpy as np", "numpy as np\nimport scipy.special")))
    c(source_case(A, "masked.normalize", "def f(x):\n    y = np.where(M, x, 0.0)\n"
                  "    return y / np.maximum(np.linalg.norm(y, axis=1, keepdims=True), 1e-12)",
                  (x,), header=hdr))
    c(source_case(A, "masked.cumsum", "def f(x):\n    return np.cumsum(np.where(M, x, 0.0), "
                  "axis=1)", (x,), header=hdr))
    c(source_case(A, "masked.cumprod", "def f(x):\n    return np.cumprod(np.where(M, x, 1.0), "
                  "axis=0)", (x,), header=hdr))
    c(source_case(A, "masked.median", "def f(x):\n"
                  "    return np.nanmedian(np.where(M, x, np.nan), axis=1)", (x,), header=hdr))
    c(source_case(A, "masked.amax[all-masked-row]", "def f(x):\n"
                  "    m = M.copy()\n    m[0] = False\n"
                  "    return np.max(x, axis=1, where=m, initial=-1.0)", (x,), header=hdr))
    # nan-reductions on data holding NaNs (torch's nansum/nanmean/nanmedian samples)
    xn = x.copy()
    xn[1, 2] = np.nan
    xn[3, :2] = np.nan
    for name in ("nansum", "nanmean", "nanvar", "nanstd", "nanmax", "nanmin", "nanmedian",
                 "nanprod", "nancumsum", "nancumprod"):
        for ax in (None, 1, 0):
            c(call_case(A, f"{name}[nan,dim={ax}]", f"np.{name}", (xn,), {"axis": ax},
                        post="np.nan_to_num({})"))
    c(call_case(A, "nanquantile[nan]", "np.nanquantile", (xn, Src("[0.2, 0.7]")), {"axis": 1}))
    return out


# ------------------------------------------------------------------ scatter / gather family


def scatter_cases():
    """torch.scatter / scatter_add / scatter_reduce / index_* / put / index_fill
    in NumPy's spellings: np.put_along_axis, ufunc.at, np.put, fancy writes."""
    out = []
    c = out.append
    x = R(M, 4)
    idx = np.array([[0, 1, 3], [2, 2, 0], [1, 3, 3]])
    uniq = np.array([[0, 1, 3], [2, 1, 0], [1, 3, 2]])
    c(source_case(A, "scatter[put_along_axis]", "def f(x, v):\n    y = x.copy()\n"
                  f"    np.put_along_axis(y, np.asarray({uniq.tolist()!r}), v, axis=1)\n"
                  "    return y", (x, R(M, 3)), wrt=(0, 1)))
    c(source_case(A, "scatter[value]", "def f(x):\n    y = x.copy()\n"
                  f"    np.put_along_axis(y, np.asarray({uniq.tolist()!r}), 0.5, axis=1)\n"
                  "    return y", (x,)))
    c(source_case(A, "scatter_add[dim=1]", "def f(x, v):\n    y = x.copy()\n"
                  f"    i = np.asarray({idx.tolist()!r})\n"
                  "    np.add.at(y, (np.arange(3)[:, None], i), v)\n    return y",
                  (x, R(M, 3)), wrt=(0, 1)))
    c(source_case(A, "scatter_add[dim=0]", "def f(x, v):\n    y = x.copy()\n"
                  "    np.add.at(y, ([0, 2, 0, 0], slice(None)), v)\n    return y",
                  (x, R(4, 4)), wrt=(0, 1)))
    for uf in ("multiply", "maximum", "minimum"):
        c(source_case(A, f"scatter_reduce[{uf}]", "def f(x, v):\n    y = x.copy()\n"
                      f"    np.{uf}.at(y, ([0, 2, 1], [1, 1, 3]), v)\n    return y",
                      (Dist(M, 4) * 0.3, Dist(3) * 0.5 + 0.05), wrt=(0, 1)))
    c(source_case(A, "index_reduce[mean]", "def f(x, v):\n    s = np.zeros_like(x)\n"
                  "    n = np.zeros(x.shape[0])\n    i = [0, 2, 0]\n"
                  "    np.add.at(s, i, v)\n    np.add.at(n, i, 1.0)\n"
                  "    return (x + s) / (1.0 + n)[:, None]", (x, R(3, 4)), wrt=(0, 1)))
    c(source_case(A, "put", "def f(x, v):\n    y = x.copy()\n"
                  "    np.put(y, [0, 5, 11], v)\n    return y", (x, R(3)), wrt=(0, 1)))
    c(source_case(A, "put[accumulate]", "def f(x, v):\n    y = x.ravel().copy()\n"
                  "    np.add.at(y, [0, 5, 5], v)\n    return y.reshape(x.shape)", (x, R(3)),
                  wrt=(0, 1)))
    c(source_case(A, "index_fill", "def f(x):\n    y = x.copy()\n    y[:, [0, 2]] = -1.0\n"
                  "    return y * x", (x,)))
    c(source_case(A, "index_copy", "def f(x, v):\n    y = x.copy()\n    y[[2, 0]] = v\n"
                  "    return y", (x, R(2, 4)), wrt=(0, 1)))
    c(source_case(A, "index_put[bool]", "def f(x, v):\n    y = x.copy()\n"
                  "    y[x > 0.3] = v\n    return y", (x, np.array(1.5)), wrt=(0, 1)))
    c(source_case(A, "masked_scatter[where]", "def f(x, v):\n"
                  "    return np.where(x > 0, v, x)", (x, R(4)), wrt=(0, 1)))
    c(source_case(A, "diagonal_scatter", "def f(x, d):\n    y = x.copy()\n"
                  "    i = np.arange(3)\n    y[i, i + 1] = d\n    return y",
                  (x, R(3)), wrt=(0, 1)))
    c(source_case(A, "select_scatter", "def f(x, v):\n    y = x.copy()\n    y[:, 1] = v\n"
                  "    return y", (x, R(M)), wrt=(0, 1)))
    c(source_case(A, "slice_scatter", "def f(x, v):\n    y = x.copy()\n    y[1:, ::2] = v\n"
                  "    return y", (x, R(2, 2)), wrt=(0, 1)))
    c(source_case(A, "fill_diagonal", "def f(x):\n    y = x.copy()\n"
                  "    np.fill_diagonal(y, 2.0)\n    return y * x", (R(M, M),)))
    c(source_case(A, "unbind", "def f(x):\n    a, b, c = x\n    return a * b - c",
                  (x,)))
    c(source_case(A, "block_diag", "def f(a, b):\n    return scipy.linalg.block_diag(a, b)",
                  (R(2, 2), R(1, 3)), wrt=(0, 1), header=SCIPY_LINALG))
    c(source_case(A, "cartesian_prod", "def f(a, b):\n    p, q = np.meshgrid(a, b, indexing='ij')\n"
                  "    return np.stack([p.ravel(), q.ravel()], axis=1)", (R(M), R(2)), wrt=(0, 1)))
    c(source_case(A, "dist[p=3]", "def f(a, b):\n"
                  "    return np.linalg.norm((a - b).ravel(), ord=3)", (R(M, 4), R(4)),
                  wrt=(0, 1)))
    c(source_case(A, "logdet", "def f(a):\n    return np.log(np.linalg.det(a))",
                  (_spd(M),)))
    c(call_case(A, "round[decimals=2]", "np.round", (Frac(S) * 0.37,), {"decimals": 2}))
    c(call_case(A, "fmod[negative]", "np.fmod", (U(-9, -2, S), U(0.7, 1.9, S)), wrt=(0, 1)))
    c(call_case(A, "remainder[negative]", "np.remainder", (U(-9, -2, S), U(0.7, 1.9, S)),
                wrt=(0, 1)))
    c(call_case(A, "msort", "np.sort", (Dist(S, M),), {"axis": 0}))
    c(source_case(A, "clamp_min[tensor]", "def f(x, lo):\n    return np.maximum(x, lo)",
                  (Dist(S, M) * 0.2, R(M) * 0.1), wrt=(0, 1)))
    c(source_case(A, "normalize", "def f(x):\n"
                  "    return x / np.maximum(np.linalg.norm(x, ord=2, axis=1, keepdims=True), "
                  "1e-12)", (R(S, M),)))
    c(source_case(A, "cdist[p=1]", "def f(a, b):\n"
                  "    return np.sum(np.abs(a[:, None, :] - b[None, :, :]), axis=-1)",
                  (R(M, 4), R(S, 4)), wrt=(0, 1)))
    c(source_case(A, "cdist[p=inf]", "def f(a, b):\n"
                  "    return np.max(np.abs(a[:, None, :] - b[None, :, :]), axis=-1)",
                  (Dist(M, 4), Dist(S, 4) * 0.7), wrt=(0, 1)))
    return out


# ------------------------------------------------------------------ empty and size-1 tensors


def empty_cases():
    """torch's reference inputs hold empty tensors and size-1 dimensions for
    nearly every op: the derivative of an empty result is an empty (or zero)
    array of the argument's shape, never an error."""
    out = []
    c = out.append
    e03, e30, e103 = R(0, 3), R(3, 0), R(1, 0, 3)
    for name, args, kw in (
            ("sum", (e03,), {"axis": 1}), ("sum", (e30,), {"axis": 1, "keepdims": True}),
            ("prod", (e30,), {"axis": 1}), ("cumsum", (e03,), {"axis": 1}),
            ("cumprod", (e30,), {"axis": 0}), ("mean", (e03,), {"axis": 1}),
            ("var", (e03,), {"axis": 1}), ("max", (e03,), {"axis": 1}),
            ("sort", (e03,), {"axis": 0}), ("flip", (e103,), {"axis": 1}),
            ("transpose", (e103,), {}), ("diff", (e03,), {"axis": 1}),
            ("tile", (e03, (2, 1)), {}), ("repeat", (e03, 2), {"axis": 1}),
            ("squeeze", (e103,), {"axis": 0}), ("expand_dims", (e03, 1), {}),
            ("cumsum", (e103,), {"axis": 2}), ("exp", (e103,), {}), ("tanh", (e03,), {}),
            ("trace", (e30,), {}), ("diagonal", (e30,), {}), ("tril", (e30,), {}),
            ("pad", (e03, 1), {}), ("kron", (e03, R(2, 2)), {}), ("outer", (R(0), R(M)), {}),
            ("dot", (e30, R(0, 2)), {}), ("einsum", (Src("'ij,jk->ik'"), e30, R(0, 2)), {}),
            ("tensordot", (e30, R(0, 2)), {"axes": 1}), ("cross", (R(0, 3), R(0, 3)), {}),
            ("concatenate", ([e03, R(2, 3)],), {}), ("stack", ([e03, e03],), {}),
            ("where", (np.zeros((0, 3), bool), e03, 1.0), {}),
            ("take_along_axis", (R(M, 4), np.zeros((M, 0), int)), {"axis": 1}),
            ("linalg.norm", (e03,), {}), ("linalg.norm", (e03,), {"axis": 1}),
            ("linalg.det", (R(2, 0, 0),), {}), ("linalg.inv", (R(0, M, M),), {}),
            ("linalg.solve", (R(0, M, M), R(0, M, 1)), {}), ("matmul", (R(2, 0), R(0, 3)), {}),
            ("fft.fftshift", (e03,), {}), ("maximum", (e03, R(3)), {}),
            ("power", (R(0, 3) ** 2, R(1, 3)), {}), ("clip", (e03, -1.0, 1.0), {}),
            ("split", (e03, [0, 1]), {"axis": 1}), ("broadcast_to", (R(1, 3), (0, 3)), {}),
            ("reshape", (e103, (0, 3)), {}), ("moveaxis", (e103, 0, -1), {})):
        data = [i for i, a in enumerate(args) if isinstance(a, np.ndarray) and a.dtype.kind == "f"
                or isinstance(a, list) and isinstance(a[0], np.ndarray)]
        c(call_case(A, f"{name}[empty,{len(out)}]", f"np.{name}", args, kw, wrt=tuple(data)))
    # size-1 dimensions against full ones (torch's broadcasting reference inputs)
    for name in ("add", "multiply", "divide", "maximum", "arctan2", "hypot", "power"):
        c(call_case(A, f"{name}[1x1,1x{S}x1]", f"np.{name}", (P(1, 1), P(1, S, 1)), wrt=(0, 1)))
        c(call_case(A, f"{name}[1,{M}x{S}]", f"np.{name}", (P(1), P(M, S)), wrt=(0, 1)))
    for name in ("sum", "mean", "max", "var", "cumsum", "prod"):
        c(call_case(A, f"{name}[1x1x1]", f"np.{name}", (P(1, 1, 1),), {"axis": 1}))
    c(call_case(A, "matmul[1x1]", "np.matmul", (R(1, 1), R(1, S)), wrt=(0, 1)))
    c(call_case(A, "det[1x1]", "np.linalg.det", (P(1, 1),)))
    c(call_case(A, "inv[1x1]", "np.linalg.inv", (P(1, 1),)))
    c(source_case(A, "svd[1x1]", "def f(a):\n    u, s, vh = np.linalg.svd(a)\n"
                  "    return s, u * vh", (P(1, 1),)))
    c(source_case(A, "eigh[1x1]", "def f(a):\n    w, v = np.linalg.eigh(a)\n"
                  "    return w, v ** 2", (P(1, 1),)))
    c(call_case(A, "qr[1xN]", "np.linalg.qr", (P(1, S),), post="{}[1]"))
    return out


# ------------------------------------------------------------------ scipy.linalg (torch.linalg's other refs)


def scipy_linalg_cases():
    """The torch.linalg OpInfos whose reference is scipy.linalg (solve_triangular,
    cholesky, eigh, matrix_exp, ...), with the options that read one triangle of
    the input only (lower=, assume_a='sym'/'pos'/'her', unit_diagonal=, trans=):
    the derivative in the other triangle is 0, as NumPy's values say."""
    cs = []
    c = cs.append
    H = SCIPY_LINALG
    c(call_case(A, "st[lower,full-a]", "scipy.linalg.solve_triangular", (_wc(M), R(M, 2)), {"lower": True}, wrt=(0, 1), header=H))
    c(call_case(A, "st[upper,full-a]", "scipy.linalg.solve_triangular", (_wc(M), R(M, 2)), wrt=(0, 1), header=H))
    c(call_case(A, "st[unit_diagonal]", "scipy.linalg.solve_triangular", (_wc(M), R(M, 2)), {"lower": True, "unit_diagonal": True}, wrt=(0, 1), header=H))
    c(call_case(A, "st[trans=T]", "scipy.linalg.solve_triangular", (_wc(M), R(M, 2)), {"trans": "T"}, wrt=(0, 1), header=H))
    c(call_case(A, "st[trans=1,lower]", "scipy.linalg.solve_triangular", (_wc(M), R(M)), {"trans": 1, "lower": True}, wrt=(0, 1), header=H))
    c(call_case(A, "solve[sym]", "scipy.linalg.solve", (_wc(M), R(M, 2)), {"assume_a": "sym"}, wrt=(0, 1), header=H))
    c(call_case(A, "solve[pos]", "scipy.linalg.solve", (_spd(M) + R(M, M) * 0.1, R(M, 2)), {"assume_a": "pos"}, wrt=(0, 1), header=H))
    c(call_case(A, "solve[pos,lower]", "scipy.linalg.solve", (_spd(M) + R(M, M) * 0.1, R(M, 2)), {"assume_a": "pos", "lower": True}, wrt=(0, 1), header=H))
    c(call_case(A, "solve[her,complex]", "scipy.linalg.solve", (C(M, M) + 4 * np.eye(M), R(M, 2)), {"assume_a": "her"}, wrt=(0, 1), header=H))
    c(call_case(A, "solve[transposed]", "scipy.linalg.solve", (_wc(M), R(M, 2)), {"transposed": True}, wrt=(0, 1), header=H))
    c(call_case(A, "solve[diagonal]", "scipy.linalg.solve", (_wc(M), R(M, 2)), {"assume_a": "diagonal"}, wrt=(0, 1), header=H))
    c(call_case(A, "solve[tridiagonal]", "scipy.linalg.solve", (_wc(M), R(M, 2)), {"assume_a": "tridiagonal"}, wrt=(0, 1), header=H))
    c(call_case(A, "solve[lower-tri]", "scipy.linalg.solve", (_wc(M), R(M, 2)), {"assume_a": "lower triangular"}, wrt=(0, 1), header=H))
    c(call_case(A, "solve[upper-tri]", "scipy.linalg.solve", (_wc(M), R(M, 2)), {"assume_a": "upper triangular"}, wrt=(0, 1), header=H))
    c(call_case(A, "solve[banded]", "scipy.linalg.solve", (_wc(M), R(M, 2)), {"assume_a": "banded"}, wrt=(0, 1), header=H))
    c(call_case(A, "cholesky[scipy,upper]", "scipy.linalg.cholesky", (_spd(M) + R(M, M) * 0.1,), header=H))
    c(call_case(A, "cholesky[scipy,lower]", "scipy.linalg.cholesky", (_spd(M) + R(M, M) * 0.1,), {"lower": True}, header=H))
    c(source_case(A, "cho_factor", "def f(a):\n    c, low = scipy.linalg.cho_factor(a)\n    return np.triu(c)", (_spd(M) + R(M, M) * 0.1,), header=H))
    c(source_case(A, "cho_factor[lower]", "def f(a):\n    c, low = scipy.linalg.cho_factor(a, lower=True)\n    return np.tril(c)", (_spd(M) + R(M, M) * 0.1,), header=H))
    c(source_case(A, "cho_factor[raw-c]", "def f(a):\n    c, low = scipy.linalg.cho_factor(a)\n    return c", (_spd(M) + R(M, M) * 0.1,), header=H))
    c(source_case(A, "cho_solve[full-c]", "def f(c, b):\n    return scipy.linalg.cho_solve((c, False), b)", (_spd(M) + R(M, M) * 0.1, R(M, 2)), wrt=(0, 1), header=H))
    c(source_case(A, "cho_solve[full-c,lower]", "def f(c, b):\n    return scipy.linalg.cho_solve((c, True), b)", (_spd(M) + R(M, M) * 0.1, R(M, 2)), wrt=(0, 1), header=H))
    c(call_case(A, "eigh[scipy,upper]", "scipy.linalg.eigh", (R(M, M) + 5 * np.diag([0., 1., 2.]),), {"lower": False, "eigvals_only": True}, header=H))
    c(call_case(A, "eigh[scipy]", "scipy.linalg.eigh", (R(M, M) + 5 * np.diag([0., 1., 2.]),), {"eigvals_only": True}, header=H))
    c(call_case(A, "eigvalsh[scipy,upper]", "scipy.linalg.eigvalsh", (R(M, M) + 5 * np.diag([0., 1., 2.]),), {"lower": False}, header=H))
    c(call_case(A, "pinv[scipy]", "scipy.linalg.pinv", (R(S, M),), header=H))
    c(call_case(A, "pinvh", "scipy.linalg.pinvh", (R(M, M) + 4*np.eye(M),), header=H))
    c(call_case(A, "pinv[scipy,atol]", "scipy.linalg.pinv", (R(S, M),), {"atol": 1e-8}, header=H))
    c(call_case(A, "inv[scipy]", "scipy.linalg.inv", (_wc(M),), header=H))
    c(call_case(A, "det[scipy]", "scipy.linalg.det", (_wc(M),), header=H))
    c(call_case(A, "sqrtm", "scipy.linalg.sqrtm", (_spd(M),), header=H))
    c(call_case(A, "expm_frechet", "scipy.linalg.expm_frechet", (R(M, M)*0.3, R(M, M)), {"compute_expm": False}, wrt=(0, 1), header=H))
    c(call_case(A, "solve_sylvester", "scipy.linalg.solve_sylvester", (_wc(M), _wc(2), R(M, 2)), wrt=(0, 1, 2), header=H))
    c(call_case(A, "norm[scipy,1]", "scipy.linalg.norm", (R(S, M),), {"ord": 1}, header=H))
    c(call_case(A, "svdvals[scipy]", "scipy.linalg.svdvals", (R(S, M),), header=H))
    c(call_case(A, "toeplitz", "scipy.linalg.toeplitz", (R(M), R(4)), wrt=(0, 1), header=H))
    c(call_case(A, "toeplitz[1]", "scipy.linalg.toeplitz", (R(M),), header=H))
    c(source_case(A, "polar", "def f(a):\n    u, p = scipy.linalg.polar(a)\n    return u, p", (_wc(M),), header=H))
    c(source_case(A, "polar[left]", "def f(a):\n    u, p = scipy.linalg.polar(a, side='left')\n    return u, p", (_wc(M),), header=H))
    c(source_case(A, "qr[scipy,economic]", "def f(a):\n    q, r = scipy.linalg.qr(a, mode='economic')\n    return q, r", (R(S, M),), header=H))
    c(source_case(A, "svd[scipy]", "def f(a):\n    u, s, vh = scipy.linalg.svd(a, full_matrices=False)\n    return (u * s) @ vh", (R(S, M),), header=H))
    c(source_case(A, "block_diag3", "def f(a, b, c):\n    return scipy.linalg.block_diag(a, b, c)", (R(2, 2), R(3), np.array(1.5)), wrt=(0, 1, 2), header=H))
    c(call_case(A, "lstsq[scipy,residues]", "scipy.linalg.lstsq", (R(S, M), R(S)), wrt=(0, 1), post="{}[1]", header=H))
    c(source_case(A, "lu_solve[trans]", "def f(a, b):\n"
                  "    return scipy.linalg.lu_solve(scipy.linalg.lu_factor(a), b, trans=1)",
                  (_wc(M), R(M, 2)), wrt=(0, 1), header=SCIPY_LINALG))
    c(source_case(A, "lu[square]", "def f(a):\n    p, l, u = scipy.linalg.lu(a)\n    return l, u",
                  (_wc(M),), header=SCIPY_LINALG))
    # assume_a's structured kinds (SciPy >= 1.15) read part of a: transposed too,
    # second order, and 'banded' on a banded matrix (its band found from the
    # zeros); data from a generator of their own (the cases above keep theirs)
    rng = np.random.default_rng(20261204)
    a5 = rng.standard_normal((5, 5)) + 4 * np.eye(5)
    b5 = rng.standard_normal((5, 2))
    for kind, label in (("diagonal", "diagonal"), ("tridiagonal", "tridiagonal"),
                        ("lower triangular", "lower-tri"), ("upper triangular", "upper-tri"),
                        ("banded", "banded")):
        c(call_case(A, f"solve[{label},transposed]", "scipy.linalg.solve", (a5, b5),
                    {"assume_a": kind, "transposed": True}, wrt=(0, 1), header=H,
                    modes=("rev", "fwd", "rr", "fr")))
        c(call_case(A, f"solve[{label},1d-b]", "scipy.linalg.solve", (a5, b5[:, 0]),
                    {"assume_a": kind}, wrt=(0, 1), header=H, modes=("rev", "fwd", "rr", "fr")))
    band = np.triu(np.tril(a5, 2), -1)
    c(call_case(A, "solve[banded,band-data]", "scipy.linalg.solve", (band, b5),
                {"assume_a": "banded"}, wrt=(0, 1), header=H))
    return cs


ALL = {
    "unary": unary_cases,
    "binary": binary_cases,
    "reductions": reduction_cases,
    "shapes": shape_cases,
    "products": product_cases,
    "linalg": linalg_cases,
    "special": special_cases,
    "fft": fft_cases,
    "gradgrad": gradgrad_cases,
    "complex": complex_cases,
    "masked": masked_cases,
    "scatter": scatter_cases,
    "empty": empty_cases,
    "scipy_linalg": scipy_linalg_cases,
}
