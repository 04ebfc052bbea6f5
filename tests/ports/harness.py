"""The checking machinery shared by the ports of peer AD libraries' test suites.

A :class:`Case` is one user-style function (its *source text*, registered in
:mod:`linecache` so s2sgrad can read it, as a user's file would be), the
arguments to call it with and the positions to differentiate.  :func:`run`
checks it in each mode:

* ``"rev"``: ``vjp(f, wrt)(*args)`` -- the value against calling ``f`` with
  NumPy, then ``<pullback(u), v>`` against central differences of
  ``<u, f(x + t v)>`` (``u`` a random cotangent, ``v`` a random direction in
  every differentiated argument at once);
* ``"fwd"``: ``jvp(f, wrt)(args, v)`` -- the value again, and ``<u, J v>``
  against the same differences;
* second order, for a scalar ``f`` (Tangent's and autograd's Hessian-vector
  product configurations): ``"rr"`` reverse over reverse
  (``vjp(grad(f))``), ``"fr"`` forward over reverse (``jvp(grad(f))``),
  ``"hvp"`` (``s2sgrad.hvp``), ``"rf"`` reverse over forward (``vjp`` of a
  user-style function returning ``jvp(f)(args, v)[1]``), ``"ff"`` forward
  over forward (``jvp`` of that function, in the direction ``w``: it gives
  ``<w, H v>`` itself).  Each gives ``H v``;
  ``<w, H v>`` is compared with central differences of ``<w, grad f>`` (the
  first-order gradient, itself checked against differences of ``f`` by the
  first-order modes), with the same Richardson and kink logic; the gradient
  computed on the way (rr, fr) must equal ``grad(f)``'s and rf's value
  ``<grad f, v>``.  A float32 argument gets float32 results, compared with
  the differences taken in float64.

Complex values are paired by ``Re(sum(a * b))`` (s2sgrad's convention, which
is JAX's and autograd's: the cotangent of ``z`` is ``df/dRe z - i df/dIm z``),
and a complex argument gets a complex direction, so one difference checks the
real and the imaginary part together.  Every check also verifies that the
cotangent of an argument has its shape (and is real for a real argument), and
that the caller's arguments are left unchanged.

A check ends in one of: ``ok``; ``refused`` (an :class:`S2SGradError` at
compile time, or one of s2sgrad's run-time refusals); ``wrong`` (a value, a
derivative, a shape or a modified argument differs -- the outcome that must
never happen); ``error`` (any other exception from s2sgrad: not silent, but a
bug); ``n/a`` (the function itself fails under NumPy, e.g. a name NumPy 2
removed, so there is nothing to compare with).  Where the derivative
disagrees with the differences at the usual step, the differences are taken
again at larger steps with Richardson extrapolation; a derivative that
matches none of them is ``wrong`` unless the differences themselves disagree
with each other by more than the tolerance (a point where the function is
not smooth at that scale), which is reported as ``unsmooth`` and listed.
"""
from __future__ import annotations

import copy
import dataclasses
import itertools
import linecache
import traceback
import warnings
import zlib

import numpy as np

import s2sgrad
from s2sgrad import api, pytree

api.STRICT_SPECIALIZE = True     # specialiser errors surface (as in the test suite)

OUTCOMES = ("ok", "refused", "wrong", "error", "unsmooth", "n/a")


@dataclasses.dataclass
class Case:
    """One function and its arguments.  ``src`` defines ``fname``; ``args``
    are its positional arguments; ``wrt`` the positions differentiated."""
    area: str
    name: str
    src: str
    args: tuple
    wrt: tuple = (0,)
    modes: tuple = ("rev", "fwd")
    fname: str = "f"
    rtol: float = 1e-5
    atol: float = 1e-7
    # the derivative is exactly zero (a piecewise-constant function checked at
    # a jump, where differences say nothing): compared with 0, not differences
    zero: bool = False
    # ``custom(f, args) -> (status, detail)`` replaces the standard checks
    # (API-level checks of test_wrappers and friends); modes then name them.
    custom: object = None
    # a function defined in a module file (instead of ``src``)
    func: object = None

    def function(self):
        if self.func is not None:
            return self.func
        return load(self.src, self.fname, f"<port {self.area}: {self.name}>")


@dataclasses.dataclass
class Result:
    case: Case
    mode: str
    status: str
    detail: str = ""


_loaded = {}


def load(src, fname, filename, env=None):
    """Exec ``src`` under ``filename`` (registered in linecache) and return
    ``fname`` from its namespace (which starts with ``env``'s names).  Each
    filename is loaded once."""
    env = env or {}
    key = (filename, src, tuple((k, (v.shape, v.tobytes()) if isinstance(v, np.ndarray) else v)
                                for k, v in sorted(env.items(), key=lambda kv: kv[0])))
    if key not in _loaded:
        # a unique file name per source: s2sgrad keys its caches by code and file
        n = len(_loaded)
        fn = f"{filename[:-1]} #{n}>"
        linecache.cache[fn] = (len(src), None, src.splitlines(True), fn)
        ns = {"__name__": f"port_{n}", **env}
        exec(compile(src, fn, "exec"), ns)
        _loaded[key] = ns
    return _loaded[key][fname]


# ------------------------------------------------------------------ vector spaces


def _is_float_leaf(v):
    return isinstance(v, (float, complex, np.floating, np.complexfloating)) or (
        isinstance(v, np.ndarray) and v.dtype.kind in "fc")


def _wide(x):
    return np.asarray(x, dtype=np.complex128 if np.iscomplexobj(x) else np.float64)


def inner(a, b):
    """``Re(sum(a * b))`` over matching leaves of two pytrees."""
    la, _ = pytree.flatten(a)
    lb, _ = pytree.flatten(b)
    return float(sum(np.real(np.sum(_wide(x) * _wide(y))) for x, y in zip(la, lb)
                     if x is not None and y is not None))


def random_like(rng, x, *, data_zero=True):
    """Random values with ``x``'s structure and shapes (complex where ``x`` is);
    leaves that are not floating (ints, bools, strings) get zeros."""
    leaves, td = pytree.flatten(x)
    out = []
    for v in leaves:
        if _is_float_leaf(v):
            r = rng.standard_normal(np.shape(v))
            if np.iscomplexobj(v):
                r = r + 1j * rng.standard_normal(np.shape(v))
            out.append(r)
        elif isinstance(v, (np.ndarray, np.generic, int, bool)) and data_zero:
            out.append(np.zeros(np.shape(v)))
        else:
            out.append(None)
    return pytree.unflatten(td, out)


def axpy(t, v, x):
    """``x + t v`` leaf by leaf, keeping each leaf's kind (Python float,
    NumPy scalar, array)."""
    lx, td = pytree.flatten(x)
    lv, _ = pytree.flatten(v)
    out = []
    for xi, vi in zip(lx, lv):
        if vi is None or not _is_float_leaf(xi):
            out.append(xi)
            continue
        r = _wide(xi) + t * vi
        if isinstance(xi, (np.generic, float, complex)):
            r = type(xi)(r) if np.iscomplexobj(xi) or not np.iscomplexobj(r) else r
        elif isinstance(xi, np.ndarray):
            r = r.astype(xi.dtype) if xi.dtype.kind == "c" else r.real.astype(xi.dtype)
        out.append(r)
    return pytree.unflatten(td, out)


def same_tree_values(a, b, rtol=1e-9, atol=1e-12):
    """None if pytrees ``a`` (s2sgrad's) and ``b`` (NumPy's) hold the same
    values, else a description of the difference."""
    la, ta = pytree.flatten(a)
    lb, tb = pytree.flatten(b)
    if ta != tb:
        return f"structure {_tree_str(ta)} != NumPy's {_tree_str(tb)}"
    for i, (x, y) in enumerate(zip(la, lb)):
        if isinstance(y, (str, bytes, type(None))):
            if x != y:
                return f"leaf {i}: {x!r} != {y!r}"
            continue
        if np.shape(x) != np.shape(y):
            return f"leaf {i}: shape {np.shape(x)} != NumPy's {np.shape(y)}"
        xa, ya = np.asarray(x), np.asarray(y)
        if ya.dtype.kind in "biuf" and xa.dtype.kind == "c" and np.any(np.imag(xa) != 0):
            return f"leaf {i}: complex value where NumPy's is real"
        if ya.dtype.kind == "c" and xa.dtype.kind in "biuf" and np.any(np.imag(ya) != 0):
            return f"leaf {i}: real value where NumPy's is complex"
        try:
            ok = np.allclose(xa, ya, rtol=rtol, atol=atol, equal_nan=True)
        except TypeError:
            ok = bool(np.all(xa == ya))
        if not ok:
            return f"leaf {i}: {_short(x)} != NumPy's {_short(y)}"
    return None


def _tree_str(td):
    if td.kind == "leaf":
        return "*"
    inner = ", ".join(_tree_str(c) for c in td.children)
    return {"tuple": f"({inner})", "list": f"[{inner}]", "dict": f"{{{inner}}}"}.get(
        td.kind, f"{td.kind}({inner})")


def _short(x):
    s = np.array2string(np.asarray(x), precision=6, threshold=8)
    return s.replace("\n", " ")


def snapshot(args):
    return copy.deepcopy(args)


def unchanged(args, before):
    la, _ = pytree.flatten(args)
    lb, _ = pytree.flatten(before)
    for x, y in zip(la, lb):
        if isinstance(x, np.ndarray) and not np.array_equal(x, y, equal_nan=True):
            return False
    return True


# ------------------------------------------------------------------ checks


def is_refusal(exc):
    """s2sgrad's refusals: compile-time errors, and the run-time checks that
    refuse a value a rule does not handle (a complex matrix, ...)."""
    if isinstance(exc, s2sgrad.S2SGradError):
        return True
    return isinstance(exc, (TypeError, ValueError, NotImplementedError)) and \
        str(exc).startswith("s2sgrad")


def run(case, modes=None):
    """Check ``case`` in each of its modes; a list of :class:`Result`."""
    modes = case.modes if modes is None else modes
    try:
        f = case.function()
    except Exception as exc:               # the source itself is broken: a port bug
        return [Result(case, m, "error", f"loading: {exc!r}") for m in modes]
    if case.custom is not None:
        out = []
        for m in modes:
            try:
                status, detail = case.custom(f, case.args, m)
            except Exception as exc:
                status = "refused" if is_refusal(exc) else "error"
                detail = _describe(exc)
            out.append(Result(case, m, status, detail))
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = f(*copy.deepcopy(case.args))
        except Exception as exc:
            if is_refusal(exc):          # f itself calls s2sgrad (a nested grad), which refused
                return [Result(case, m, "refused", _describe(exc)) for m in modes]
            return [Result(case, m, "n/a", f"NumPy: {exc!r}") for m in modes]
        return [_check(case, f, expected, m) for m in modes]


def _describe(exc):
    lines = traceback.format_exception_only(type(exc), exc)
    return "".join(lines).strip().splitlines()[-1][:400]


def _check(case, f, expected, mode):
    rng = np.random.default_rng(zlib.crc32(f"{case.area}:{case.name}".encode()))
    args = copy.deepcopy(case.args)
    before = snapshot(args)
    wrt = tuple(case.wrt)
    if mode in SECOND_ORDER:
        return _check_second(case, f, expected, mode, rng, args, before, wrt)
    u = random_like(rng, expected)
    vs = {w: random_like(rng, args[w], data_zero=False) for w in wrt}
    # the cotangent and the tangents are the caller's too: left unchanged
    # (a checkpointed step once wrote into the cotangent)
    seeds = snapshot((u, vs))
    try:
        if mode == "rev":
            out, pullback = s2sgrad.vjp(f, wrt=wrt)(*args)
            cts = pullback(u)
            got = 0.0
            for w, ct in zip(wrt, cts):
                bad = _bad_cotangent(ct, args[w])
                if bad:
                    return Result(case, mode, "wrong", f"cotangent of argument {w}: {bad}")
                got += inner(ct, vs[w])
        elif mode == "fwd":
            out, dot = s2sgrad.jvp(f, wrt=wrt)(tuple(args), tuple(vs[w] for w in wrt))
            bad = _bad_tangent(dot, expected)
            if bad:
                return Result(case, mode, "wrong", f"tangent: {bad}")
            got = inner(u, dot)
        else:
            raise ValueError(mode)
    except Exception as exc:
        return Result(case, mode, "refused" if is_refusal(exc) else "error", _describe(exc))
    diff = same_tree_values(out, expected)
    if diff:
        return Result(case, mode, "wrong", f"value: {diff}")
    if not unchanged(args, before):
        return Result(case, mode, "wrong", "an argument was modified")
    if not unchanged((u, vs), seeds):
        return Result(case, mode, "wrong", "the cotangent or a tangent passed in was modified")
    if case.zero:
        return Result(case, mode, "ok") if got == 0 else Result(
            case, mode, "wrong", f"derivative {got!r}, must be exactly 0")
    if any(_f32(args[w]) for w in wrt):
        # float32 arguments: the differences are taken in float64 (the case's
        # rtol says how close the float32 derivative must be)
        case = dataclasses.replace(case, args=_widened(case.args, wrt))
    return _compare(case, f, mode, got, u, vs, wrt)


SECOND_ORDER = ("rr", "fr", "hvp", "rf", "ff")


def _directional(f, nargs, wrt):
    """A user-style function ``d(*args, *tangents)`` returning the directional
    derivative ``jvp(f)(args, tangents)[1]`` (for reverse over forward)."""
    params = [f"x{i}" for i in range(nargs)]
    dots = [f"x{w}_dot" for w in wrt]
    src = ("import s2sgrad\n\n\n"
           f"def d({', '.join(params + dots)}):\n"
           f"    return s2sgrad.jvp(inner, wrt={tuple(wrt)!r})(({', '.join(params)},), "
           f"({', '.join(dots)},))[1]\n")
    return load(src, "d", f"<port directional: {getattr(f, '__name__', 'f')}>", {"inner": f})


def _is_scalar(v):
    return _is_float_leaf(v) and np.ndim(v) == 0 and not np.iscomplexobj(v)


def _widened(args, wrt):
    """float32 differentiated arguments as float64 (for the reference)."""
    out = list(args)
    for w in wrt:
        lx, td = pytree.flatten(out[w])
        out[w] = pytree.unflatten(td, [x.astype(np.float64) if isinstance(x, np.ndarray) and
                                       x.dtype in (np.float32, np.float16) else x for x in lx])
    return tuple(out)


def _f32(tree):
    leaves, _ = pytree.flatten(tree)
    # (float16 too: its differences are taken in float64 as well)
    return any(isinstance(x, (np.ndarray, np.generic)) and x.dtype in (np.float32, np.float16)
               for x in leaves)


def _leaf_paths(td, path="o"):
    """Source expressions for the leaves of an output with treedef ``td``
    (``o[0]``, ``o['k']``...), or None for a structure the port does not pair."""
    if td.kind == "leaf":
        return [path]
    if td.kind in ("tuple", "list", "namedtuple"):
        keys = range(len(td.children))
    elif td.kind == "dict" and all(isinstance(k, str) for k in td.keys):
        keys = td.keys
    else:
        return None
    out = []
    for k, c in zip(keys, td.children):
        sub = _leaf_paths(c, f"{path}[{k!r}]")
        if sub is None:
            return None
        out += sub
    return out


def scalarised(f, expected, rng, nargs):
    """A user-style function ``s(*args) = Re(sum(u * f(*args)))`` for a
    random cotangent ``u`` of ``f``'s output (autograd's ``check_grads``
    checks the second order of a non-scalar function through its vjp: the
    derivative of ``<u, f(x)>``), or None when the output has no floating
    leaf or a structure the port does not pair."""
    leaves, td = pytree.flatten(expected)
    paths = _leaf_paths(td)
    if paths is None:
        return None
    params = [f"x{i}" for i in range(nargs)]
    terms, env = [], {"inner": f}
    for i, (leaf, path) in enumerate(zip(leaves, paths)):
        if not _is_float_leaf(leaf):
            continue
        u = rng.standard_normal(np.shape(leaf))
        if np.iscomplexobj(leaf):
            u = u + 1j * rng.standard_normal(np.shape(leaf))
            terms.append(f"np.real(np.sum(u{i} * {path}))")
        else:
            terms.append(f"np.sum(u{i} * {path})")
        env[f"u{i}"] = np.asarray(u)
    if not terms:
        return None
    src = ("import numpy as np\n\n\n"
           f"def s({', '.join(params)}):\n"
           f"    o = inner({', '.join(params)})\n"
           f"    return {' + '.join(terms)}\n")
    return load(src, "s", f"<port scalarised: {getattr(f, '__name__', 'f')}>", env)


def _check_second(case, f, expected, mode, rng, args, before, wrt):
    """``<w, H v>`` by ``mode`` against differences of the first-order gradient
    (of ``<u, f>`` for a random ``u`` when ``f``'s output is not a real scalar)."""
    if not _is_scalar(expected):
        s = scalarised(f, expected, rng, len(args))
        if s is None:
            return Result(case, mode, "error", f"port: second order needs floating outputs, "
                          f"got {type(expected).__name__}")
        f = s
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = f(*copy.deepcopy(args))
    vt = tuple(random_like(rng, args[w], data_zero=False) for w in wrt)
    wt = tuple(random_like(rng, args[w], data_zero=False) for w in wrt)
    f32 = any(_f32(args[w]) for w in wrt)
    try:
        first = s2sgrad.grad(f, wrt=wrt)
        ref_grads = first(*copy.deepcopy(args))
        if mode == "rr":
            grads, pullback = s2sgrad.vjp(s2sgrad.grad(f, wrt=wrt), wrt=wrt)(*args)
            hv = pullback(vt)
        elif mode == "fr":
            grads, hv = s2sgrad.jvp(s2sgrad.grad(f, wrt=wrt), wrt=wrt)(tuple(args), vt)
        elif mode == "hvp":
            grads, hv = ref_grads, s2sgrad.hvp(f, wrt=wrt)(tuple(args), vt)
        elif mode == "ff":
            d = _directional(f, len(args), wrt)
            dd, wHv = s2sgrad.jvp(d, wrt=wrt)(tuple(args) + vt, wt)
            want = inner(ref_grads, vt)
            if not _close(float(dd), want, 1e-6 if not f32 else 1e-4, 1e-9):
                return Result(case, mode, "wrong", f"value: directional derivative {dd!r} != "
                              f"<grad f, v> {want!r}")
            if not _is_scalar(wHv) and not (isinstance(wHv, np.ndarray) and wHv.shape == ()):
                return Result(case, mode, "wrong", f"second directional derivative: a "
                              f"scalar expected, got {wHv!r}")
            if not unchanged(args, before):
                return Result(case, mode, "wrong", "an argument was modified")
            ref_args = _widened(case.args, wrt) if f32 else case.args
            got = float(wHv)
            if case.zero:
                return Result(case, mode, "ok") if got == 0 else Result(
                    case, mode, "wrong", f"second derivative {got!r}, must be exactly 0")
            return _compare(dataclasses.replace(case, args=ref_args), s2sgrad.grad(f, wrt=wrt),
                            mode, got, wt, dict(zip(wrt, vt)), wrt)
        else:
            d = _directional(f, len(args), wrt)
            dd, pullback = s2sgrad.vjp(d, wrt=wrt)(*args, *vt)
            hv = pullback(1.0)
            grads = ref_grads
            want = inner(ref_grads, vt)
            if not _close(float(dd), want, 1e-6 if not f32 else 1e-4, 1e-9):
                return Result(case, mode, "wrong", f"value: directional derivative {dd!r} != "
                              f"<grad f, v> {want!r}")
    except Exception as exc:
        return Result(case, mode, "refused" if is_refusal(exc) else "error", _describe(exc))
    if not isinstance(hv, tuple) or len(hv) != len(wrt):
        return Result(case, mode, "wrong", f"H v: expected a tuple of {len(wrt)}, got {hv!r}")
    for w, h in zip(wrt, hv):
        bad = _bad_cotangent(h, args[w])
        if bad:
            return Result(case, mode, "wrong", f"H v of argument {w}: {bad}")
        if f32 and _f32(args[w]) and not _f32(h):
            return Result(case, mode, "wrong", f"H v of float32 argument {w} is not float32")
    diff = same_tree_values(grads, ref_grads, rtol=1e-6 if f32 else 1e-9)
    if diff:
        return Result(case, mode, "wrong", f"gradient on the way: {diff}")
    if not unchanged(args, before):
        return Result(case, mode, "wrong", "an argument was modified")
    got = inner(hv, wt)
    if case.zero:
        return Result(case, mode, "ok") if got == 0 else Result(
            case, mode, "wrong", f"second derivative {got!r}, must be exactly 0")
    ref_args = _widened(case.args, wrt) if f32 else case.args
    ref = s2sgrad.grad(f, wrt=wrt)
    vs = dict(zip(wrt, vt))
    return _compare(dataclasses.replace(case, args=ref_args), ref, mode, got, wt, vs, wrt)


def _bad_cotangent(ct, x):
    lc, tc = pytree.flatten(ct)
    lx, tx = pytree.flatten(x)
    if len(lc) != len(lx):
        return f"structure {tc} != argument's {tx}"
    for c, xi in zip(lc, lx):
        if not _is_float_leaf(xi):
            continue
        if np.shape(c) != np.shape(xi):
            return f"shape {np.shape(c)} != argument's {np.shape(xi)}"
        if np.iscomplexobj(c) and not np.iscomplexobj(xi):
            return "complex cotangent of a real argument"
    return None


def _bad_tangent(dot, out):
    ld, _ = pytree.flatten(dot)
    lo, _ = pytree.flatten(out)
    if len(ld) != len(lo):
        return "structure differs from the output's"
    for d, o in zip(ld, lo):
        if _is_float_leaf(o) and np.shape(d) != np.shape(o):
            return f"shape {np.shape(d)} != output's {np.shape(o)}"
        if _is_float_leaf(o) and not np.iscomplexobj(o) and np.iscomplexobj(d) and \
                np.any(np.imag(d) != 0):
            return "complex tangent of a real output"
    return None


def _fd(f, args, wrt, vs, u, h):
    def phi(t):
        moved = list(copy.deepcopy(args))
        for w in wrt:
            moved[w] = axpy(t, vs[w], moved[w])
        return inner(u, f(*moved))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p, m = phi(h), phi(-h)
    return (p - m) / (2 * h), abs(p) + abs(m)


def _one_sided(f, args, wrt, vs, u, h=1e-6):
    """Richardson-extrapolated forward and backward differences at ``args``."""
    def phi(t):
        moved = list(copy.deepcopy(args))
        for w in wrt:
            moved[w] = axpy(t, vs[w], moved[w])
        return inner(u, f(*moved))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            p0 = phi(0.0)
            out = []
            for sgn in (1, -1):
                d1 = (phi(sgn * 2 * h) - p0) / (sgn * 2 * h)
                d2 = (phi(sgn * h) - p0) / (sgn * h)
                out.append(2 * d2 - d1)
            return tuple(out)
        except Exception:
            return None


def _close(a, b, rtol, atol):
    return abs(a - b) <= atol + rtol * max(abs(a), abs(b))


def _compare(case, f, mode, got, u, vs, wrt):
    args = case.args
    fd, mag = _fd(f, args, wrt, vs, u, 1e-6)
    noise = 1e-15 * mag / 1e-6 * 50
    if np.isfinite(got) and _close(got, fd, case.rtol, case.atol + noise):
        return Result(case, mode, "ok")
    # Richardson extrapolation at larger steps: exact to h**4 for smooth functions
    estimates = [fd]
    for h in (1e-3, 1e-4):
        d1, _ = _fd(f, args, wrt, vs, u, h)
        d2, _ = _fd(f, args, wrt, vs, u, h / 2)
        estimates.append((4 * d2 - d1) / 3)
    if np.isfinite(got) and any(_close(got, e, case.rtol, case.atol + noise) for e in estimates):
        return Result(case, mode, "ok")
    # a kink (a branch decided at this very point, a tie of max/min): the central
    # difference averages the two sides at every step, so it is consistent but
    # is neither side's derivative.  One-sided differences tell; a derivative that
    # is one side's is a valid choice there.
    sides = _one_sided(f, args, wrt, vs, u)
    if sides is not None:
        plus, minus = sides
        if not _close(plus, minus, 1e-4, case.atol + noise):
            if any(_close(got, d, 1e-4, case.atol + noise) for d in (plus, minus)):
                return Result(case, mode, "ok")
            return Result(case, mode, "unsmooth",
                          f"s2sgrad {got!r}; one-sided differences {plus!r}, {minus!r}")
    spread = max(estimates) - min(estimates)
    if not all(np.isfinite(estimates)) or spread > case.atol + 1e-3 * max(map(abs, estimates)):
        return Result(case, mode, "unsmooth",
                      f"s2sgrad {got!r}; differences {', '.join(f'{e:.8g}' for e in estimates)}")
    return Result(case, mode, "wrong",
                  f"derivative {got!r}, finite differences {fd!r} (Richardson {estimates[1]!r})")


# ------------------------------------------------------------------ building cases


class Src:
    """Source text written into a generated function as is (a literal that
    ``repr`` would not give, or an expression)."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text


def literal(v):
    """Python source for a static argument value."""
    if isinstance(v, Src):
        return v.text
    if v is Ellipsis:
        return "..."
    if isinstance(v, (bool, type(None), int, str)):
        return repr(v)
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    if isinstance(v, tuple):
        inside = ", ".join(literal(x) for x in v)
        return f"({inside},)" if len(v) == 1 else f"({inside})"
    if isinstance(v, list):
        return "[" + ", ".join(literal(x) for x in v) + "]"
    raise TypeError(f"no literal for {v!r}")


def is_data(v):
    """An argument passed to the generated function (rather than written
    into its source): arrays, and containers holding arrays."""
    leaves, _ = pytree.flatten(v)
    return any(isinstance(x, (np.ndarray, np.generic, complex)) for x in leaves)


def call_case(area, name, callee, args, kwargs=None, wrt=(0,), header="import numpy as np",
              modes=("rev", "fwd"), post=None, **opts):
    """A case calling ``callee`` (source text, e.g. ``"np.transpose"``) on
    ``args``/``kwargs``: differentiated and array arguments become parameters,
    other values literals in the source.  ``post`` wraps the call (a format
    string with ``{}``, e.g. ``"np.sum({})"``)."""
    kwargs = kwargs or {}
    params, values, pos_src, kw_src = [], [], [], []
    new_wrt = []
    for i, a in enumerate(args):
        if i in wrt or is_data(a) or (isinstance(a, float) and not isinstance(a, Src)):
            pname = f"x{i}"
            if i in wrt:
                new_wrt.append(len(params))
            params.append(pname)
            values.append(a)
            pos_src.append(pname)
        else:
            pos_src.append(literal(a))
    for k, a in kwargs.items():
        if is_data(a):
            params.append(k)
            values.append(a)
            kw_src.append(f"{k}={k}")
        else:
            kw_src.append(f"{k}={literal(a)}")
    call = f"{callee}({', '.join(pos_src + kw_src)})"
    body = post.format(call) if post else call
    src = f"{header}\n\n\ndef f({', '.join(params)}):\n    return {body}\n"
    return Case(area, name, src, tuple(values), tuple(new_wrt), modes=modes, **opts)


def combos(area, base, callee, arg_lists, kw_lists=None, wrt=(0,), **opts):
    """autograd's ``combo_check``: one case per element of the product of the
    positional argument lists and keyword value lists."""
    kw_lists = kw_lists or {}
    keys = list(kw_lists)
    out = []
    for n, vals in enumerate(itertools.product(*arg_lists, *(kw_lists[k] for k in keys))):
        args = vals[:len(arg_lists)]
        kwargs = dict(zip(keys, vals[len(arg_lists):]))
        label = ",".join([_label(a) for a in args] + [f"{k}={_label(v)}" for k, v in
                                                       kwargs.items()])
        out.append(call_case(area, f"{base}[{label}]", callee, args, kwargs, wrt=wrt, **opts))
    return out


def _label(v):
    if isinstance(v, np.ndarray):
        return ("c" if v.dtype.kind == "c" else "") + "x".join(map(str, v.shape)) or "0d"
    if isinstance(v, (tuple, list)) and any(isinstance(x, np.ndarray) for x in v):
        return "(" + "|".join(_label(x) for x in v) + ")"
    if isinstance(v, complex):
        return "c"
    if isinstance(v, float):
        return "f"
    return literal(v) if not isinstance(v, np.generic) else repr(v)


def source_case(area, name, src, args, wrt=(0,), header="import numpy as np", **opts):
    """A case written out as source text (``src`` defines ``f``)."""
    return Case(area, name, header + "\n\n\n" + src.strip("\n") + "\n", tuple(args),
                tuple(wrt), **opts)


# ------------------------------------------------------------------ running and reporting


def run_all(cases, progress=False):
    results = []
    for i, c in enumerate(cases):
        results.extend(run(c))
        if progress and i % 200 == 199:
            print(f"  ... {i + 1}/{len(cases)} cases", flush=True)
    return results


def table(results, title):
    """Counts by area: checks (n/a excluded), ok, refused, wrong, error, unsmooth."""
    areas = {}
    for r in results:
        areas.setdefault(r.case.area, {k: 0 for k in OUTCOMES})[r.status] += 1
    cols = ["ok", "refused", "wrong", "error", "unsmooth"]
    lines = [title, f"{'area':<14}{'checks':>8}" + "".join(f"{c:>10}" for c in cols) +
             f"{'n/a':>6}"]
    total = {k: 0 for k in OUTCOMES}
    for area in sorted(areas):
        row = areas[area]
        for k in OUTCOMES:
            total[k] += row[k]
        lines.append(_row(area, row, cols))
    lines.append(_row("total", total, cols))
    n = sum(total[k] for k in cols)
    if n:
        lines.append(f"refused {100 * total['refused'] / n:.1f} %, wrong {total['wrong']}, "
                     f"error {total['error']}")
    return "\n".join(lines)


def _row(name, row, cols):
    n = sum(row[k] for k in cols)
    return f"{name:<14}{n:>8}" + "".join(f"{row[c]:>10}" for c in cols) + f"{row['n/a']:>6}"


def failures(results, statuses=("wrong", "error", "unsmooth", "refused")):
    return [r for r in results if r.status in statuses]


def report(results, title, show=("wrong", "error", "unsmooth", "n/a", "refused"), limit=None):
    print(table(results, title))
    for st in show:
        rs = [r for r in results if r.status == st]
        if not rs:
            continue
        print(f"\n{st} ({len(rs)}):")
        for r in rs[:limit]:
            print(f"  [{r.case.area}] {r.case.name} ({r.mode}): {r.detail}")


def main(argv, all_cases, order2_of, label):
    """A port's command line: ``python -m tests.ports.<port> [areas] [--order2]``
    runs its cases (those of the named areas; with ``--order2`` each case's
    second-order form, ``order2_of(case)``) and prints the report."""
    areas = set(a for a in argv if not a.startswith("--")) or None
    cases = all_cases(areas)
    if "--order2" in argv:
        cases = [c for c in map(order2_of, cases) if c is not None]
    results = run_all(cases, progress=True)
    report(results, f"{label}: {len(cases)} cases" +
           (" (second order)" if "--order2" in argv else ""))
    return 0


def order2(case, modes=("rr", "fr")):
    """``case`` checked in second order (``modes``), as autograd's and JAX's
    ``check_grads(order=2)`` and PyTorch's ``gradgradcheck`` check their
    functions; None for API checks and cases that check second order
    already."""
    if case.custom is not None or set(case.modes) & set(SECOND_ORDER):
        return None
    return dataclasses.replace(case, modes=modes)


def check(case, reason):
    """The pytest check of one port case: no ``wrong``/``error``/``unsmooth``/
    ``n/a`` outcome in any mode, and a refusal only where ``reason(case)``
    names why (then the case is an expected failure carrying that reason)."""
    import pytest
    results = run(case)
    bad = [r for r in results if r.status in ("wrong", "error", "unsmooth", "n/a")]
    assert not bad, "; ".join(f"{r.mode}: {r.status}: {r.detail}" for r in bad)
    refused = [r for r in results if r.status == "refused"]
    if refused:
        why = reason(case)
        assert why, "; ".join(f"{r.mode}: refused: {r.detail}" for r in refused)
        pytest.xfail(f"{why} ({refused[0].detail})")


def reason_by_prefix(*tables):
    """A ``reason(case)`` for :func:`check`: the reason of the first table's
    first entry that ``case.name`` starts with (tables asked in order), or
    None -- each port's intended refusals, by case name prefix."""
    def reason(case):
        for table in tables:
            for prefix, why in table.items():
                if case.name.startswith(prefix):
                    return why
        return None
    return reason


def order2_sample(cases, stride, offset, regressions, skip):
    """The second-order checks (:func:`order2`) of every ``stride``-th case
    (from ``offset``) and of the cases naming a regression, but those naming
    a ``skip`` part (kinks, boolean outputs)."""
    out = [order2(c) for i, c in enumerate(cases)
           if (i % stride == offset or any(r in c.name for r in regressions)) and
           not any(k in c.name for k in skip)]
    return [c for c in out if c is not None]
