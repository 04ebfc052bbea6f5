"""``check_grads``: compare generated derivatives with central finite differences.

For each differentiated argument, a random direction ``v`` (scaled
elementwise by ``max(1, |x|)``, so the step ``eps * v`` is relative to the
argument's magnitude) and a random output cotangent ``u`` are drawn; the generated reverse mode gives
``<J^T u, v>``, and central differences in float64 give
``(<u, f(x + eps v)> - <u, f(x - eps v)>) / (2 eps)``.  The two must agree
to ``rtol``/``atol``.  With ``modes=("rev", "fwd")`` the generated forward
mode (``<u, J v>`` from :func:`s2sgrad.jvp`) is checked the same way, and the
two modes must satisfy the dot-product identity ``<u, J v> = <J^T u, v>``.
Float32 inputs are promoted to float64 for the check, so the comparison
measures the rule, not float32 rounding.

Complex values (README, "Complex numbers") are paired by the real inner
product ``<a, b> = Re(sum(a * b))`` -- no conjugate: s2sgrad's (and JAX's)
cotangent of a complex value ``z`` is ``df/dRe(z) - i df/dIm(z)`` -- and a
complex argument is checked by finite differences in a real direction and
in an imaginary one, separately; complex outputs get complex cotangents.
"""
from __future__ import annotations

import copy

import numpy as np

from . import draws
from . import pytree


class GradientCheckError(AssertionError):
    """The generated derivative disagrees with finite differences."""


def _to64(x):
    if isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating):
        return x.astype(np.float64)
    if isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.complexfloating):
        return x.astype(np.complex128)
    if isinstance(x, np.floating):
        return np.float64(x)        # keep a NumPy scalar (its methods: .clip, .astype, ...)
    if isinstance(x, np.complexfloating):
        return np.complex128(x)
    return x


def _tree_map(f, x):
    leaves, td = pytree.flatten(x)
    return pytree.unflatten(td, [f(v) for v in leaves])


def _inner(a, b):
    la, _ = pytree.flatten(a)
    lb, _ = pytree.flatten(b)
    return float(sum(np.real(np.sum(_wide(x) * _wide(y))) for x, y in zip(la, lb)))


def _wide(x):
    """float64 (complex128 for complex values) for the inner products."""
    return np.asarray(x, dtype=np.complex128 if np.iscomplexobj(x) else np.float64)


def _axpy(t, v, x):
    lx, td = pytree.flatten(x)
    lv, _ = pytree.flatten(v)
    out = []
    for xi, vi in zip(lx, lv):
        r = _wide(xi) + t * vi
        if isinstance(xi, (np.floating, np.complexfloating)):
            out.append(type(xi)(r))          # a NumPy scalar stays one
        elif isinstance(xi, (float, complex)):
            out.append(type(xi)(r))
        else:
            out.append(r)
    return pytree.unflatten(td, out)


def _random_like(rng, x):
    """Random values shaped like ``x``'s leaves: complex where a leaf is complex."""
    lx, td = pytree.flatten(x)
    return pytree.unflatten(td, [rng.standard_normal(np.shape(v)) + 1j * rng.standard_normal(
        np.shape(v)) if np.iscomplexobj(v) else rng.standard_normal(np.shape(v)) for v in lx])


def _directions(rng, x):
    """The directions a finite difference checks for argument ``x``: one random
    real direction, and, when a leaf is complex, also a purely imaginary one."""
    lx, td = pytree.flatten(x)
    real = [rng.standard_normal(np.shape(v)) for v in lx]
    if not any(np.iscomplexobj(v) for v in lx):
        return [("", pytree.unflatten(td, real))]
    imag = [1j * rng.standard_normal(np.shape(v)) if np.iscomplexobj(v) else
            np.zeros(np.shape(v)) for v in lx]
    return [(" (real direction)", pytree.unflatten(td, real)),
            (" (imaginary direction)", pytree.unflatten(td, imag))]


def _relative(v, x):
    """Scale the direction ``v`` elementwise by ``max(1, |x|)``: a finite
    difference step ``eps * v`` is then relative to the argument's magnitude
    (an absolute 1e-6 step at x = 1e8 is lost in the rounding of f(x)); a NaN
    entry of ``x`` (np.nansum's input) keeps the unit scale (``fmax``)."""
    lv, td = pytree.flatten(v)
    lx, _ = pytree.flatten(x)
    return pytree.unflatten(td, [np.asarray(vi) * np.fmax(1.0, np.abs(np.asarray(xi)))
                                 for vi, xi in zip(lv, lx)])


def _zeros_like(x):
    lx, td = pytree.flatten(x)
    return pytree.unflatten(td, [type(v)(0.0) if isinstance(v, (float, complex)) and
                                 not isinstance(v, np.generic) else np.zeros_like(v)
                                 for v in lx])


def check_grads(f, args, wrt=0, kwargs=None, *, eps=1e-6, rtol=1e-5, atol=1e-6, seed=0,
                modes=("rev",), identity_rtol=1e-8):
    """Check ``f``'s generated derivatives against central finite differences.

    ``args`` is the tuple of positional arguments, ``wrt`` as in :func:`grad`
    (a position, a name, or a tuple of them).  ``modes`` selects what is
    checked: ``"rev"`` the generated reverse mode (``<J^T u, v>``),
    ``"fwd"`` the generated forward mode (``<u, J v>``, one ``wrt`` argument
    at a time); with both, the two must also satisfy the dot-product identity
    ``<u, J v> == <J^T u, v>`` to ``identity_rtol`` (both are exact up to
    rounding, so this is much tighter than the finite-difference check).
    Raises :class:`GradientCheckError` (an ``AssertionError``) naming the
    argument and the mode on mismatch; returns ``None`` when all checks pass.

    A function that draws random numbers (``rng.normal(...)``, ``np.random.*``)
    is evaluated with the same draws every time: each evaluation starts from
    the generators' states at the call, and those states are restored at the
    end, so ``check_grads`` leaves every generator as it found it.
    """
    from .api import vjp  # late import: api imports this module's package
    modes = (modes,) if isinstance(modes, str) else tuple(modes)
    unknown = set(modes) - {"rev", "fwd"}
    if unknown or not modes:
        raise ValueError(f"modes must be a non-empty subset of ('rev', 'fwd'), got {modes!r}")
    kwargs = dict(kwargs or {})
    args = tuple(_tree_map(_to64, a) for a in args)
    kwargs = {k: _tree_map(_to64, v) for k, v in kwargs.items()}
    rng = np.random.default_rng(seed)
    fv = vjp(f, wrt=wrt)
    # Every evaluation (of f, of the generated code) starts from the same
    # states of the random generators f draws from, so all see the same
    # draws; they are put back at the end (check_grads draws nothing).
    gens = _generators(fv, args, kwargs)
    with draws.preserved(gens) as keep:
        return _check(f, fv, args, kwargs, wrt, eps, rtol, atol, rng, modes, identity_rtol,
                      keep)


def _generators(fv, args, kwargs):
    from .errors import S2SGradError
    bound = fv._bind(args, kwargs)
    specs = fv._specs(bound)
    try:
        func = fv._compiled(specs).func
    except S2SGradError:
        # no reverse mode (a custom rule with only a forward form, checked with
        # modes=("fwd",)): the function's own IR makes the same draws
        func = fv._primal(specs)
    return draws.generators(func, fv._leaves(bound, specs))


def _check(f, fv, args, kwargs, wrt, eps, rtol, atol, rng, modes, identity_rtol, keep):
    import inspect

    from .higher import jvp

    def fresh(value):
        keep.reset()
        return value

    # f may write into its arguments: each native call gets its own copies
    expected = fresh(f(*copy.deepcopy(args), **copy.deepcopy(kwargs)))

    def same_value(out, what):
        for a, b in zip(pytree.flatten(out)[0], pytree.flatten(expected)[0]):
            if not np.allclose(a, b, rtol=1e-10, atol=1e-12, equal_nan=True):
                raise GradientCheckError(f"the generated {what} value {a!r} differs from "
                                         f"{f.__name__}(...) = {b!r}")

    positions = fv.wrt
    single = not isinstance(wrt, (tuple, list))
    u = _random_like(rng, expected)
    rev = {}
    if "rev" in modes:
        out, pullback = fresh(fv(*args, **kwargs))
        same_value(out, "forward")
        cts = pullback(u)
        rev = dict(zip(positions, (cts,) if single else cts))
    ba = inspect.signature(f).bind(*args, **kwargs)
    ba.apply_defaults()
    names = list(ba.arguments)
    fj = jvp(f, wrt=wrt) if "fwd" in modes else None
    vs = {pos: [(label, _relative(d, ba.arguments[names[pos]]))
                for label, d in _directions(rng, ba.arguments[names[pos]])]
          for pos in positions}
    for pos in positions:
        for which, v in vs[pos]:
            _check_direction(f, ba, names, positions, pos, which, v, u, rev, fj, args, kwargs,
                             modes, eps, rtol, atol, identity_rtol, same_value, fresh)


def _check_direction(f, ba, names, positions, pos, which, v, u, rev, fj, args, kwargs, modes,
                     eps, rtol, atol, identity_rtol, same_value, fresh):
    """Check one argument in one direction ``v``."""
    import inspect
    name = names[pos]
    x = ba.arguments[name]

    def phi(t):
        moved = inspect.BoundArguments(ba.signature, dict(ba.arguments))
        moved.arguments[name] = _axpy(t, v, x)
        return _inner(u, fresh(f(*copy.deepcopy(moved.args), **copy.deepcopy(moved.kwargs))))

    fd = (phi(eps) - phi(-eps)) / (2 * eps)
    found = {}
    if "rev" in modes:
        found["reverse mode <J^T u, v>"] = _inner(rev[pos], v)
    if "fwd" in modes:
        tangents = tuple(v if p == pos else _zeros_like(ba.arguments[names[p]])
                         for p in positions)
        out, out_dot = fresh(fj(args, tangents, **kwargs))
        same_value(out, "jvp primal")
        found["forward mode <u, J v>"] = _inner(u, out_dot)
    for what, lhs in found.items():
        if not abs(lhs - fd) <= atol + rtol * max(abs(lhs), abs(fd)):
            raise GradientCheckError(
                f"{what} of {f.__name__} with respect to '{name}'{which} disagrees with "
                f"central differences: {lhs!r}, finite differences give {fd!r} "
                f"(difference {abs(lhs - fd):.3g})")
    if len(found) == 2:
        a, b = found.values()
        if not abs(a - b) <= identity_rtol * max(1.0, abs(a), abs(b)):
            raise GradientCheckError(
                f"the generated forward and reverse modes of {f.__name__} with respect to "
                f"'{name}'{which} violate the dot-product identity: <u, J v> = {b!r} but "
                f"<J^T u, v> = {a!r} (difference {abs(a - b):.3g})")
