"""``check_grads``: compare generated derivatives with central finite differences.

For each differentiated argument, a random direction ``v`` and a random
output cotangent ``u`` are drawn; the generated reverse mode gives
``<J^T u, v>``, and central differences in float64 give
``(<u, f(x + eps v)> - <u, f(x - eps v)>) / (2 eps)``.  The two must agree
to ``rtol``/``atol``.  Float32 inputs are promoted to float64 for the check,
so the comparison measures the rule, not float32 rounding.
"""
from __future__ import annotations

import numpy as np

from . import pytree


class GradientCheckError(AssertionError):
    """The generated derivative disagrees with finite differences."""


def _to64(x):
    if isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating):
        return x.astype(np.float64)
    if isinstance(x, np.floating):
        return float(x)
    return x


def _tree_map(f, x):
    leaves, td = pytree.flatten(x)
    return pytree.unflatten(td, [f(v) for v in leaves])


def _inner(a, b):
    la, _ = pytree.flatten(a)
    lb, _ = pytree.flatten(b)
    return float(sum(np.sum(np.asarray(x, dtype=np.float64) * np.asarray(y, dtype=np.float64))
                     for x, y in zip(la, lb)))


def _axpy(t, v, x):
    lx, td = pytree.flatten(x)
    lv, _ = pytree.flatten(v)
    out = []
    for xi, vi in zip(lx, lv):
        r = np.asarray(xi, dtype=np.float64) + t * vi
        out.append(float(r) if isinstance(xi, float) else r)
    return pytree.unflatten(td, out)


def _random_like(rng, x):
    lx, td = pytree.flatten(x)
    return pytree.unflatten(td, [rng.standard_normal(np.shape(v)) for v in lx])


def check_grads(f, args, wrt=0, kwargs=None, *, eps=1e-6, rtol=1e-5, atol=1e-6, seed=0,
                modes=("rev",)):
    """Check ``f``'s generated derivatives against central finite differences.

    ``args`` is the tuple of positional arguments, ``wrt`` as in :func:`grad`
    (a position, a name, or a tuple of them).  Raises
    :class:`GradientCheckError` (an ``AssertionError``) naming the argument
    on mismatch; returns ``None`` when all checks pass.
    """
    from .api import vjp  # late import: api imports this module's package
    kwargs = dict(kwargs or {})
    args = tuple(_tree_map(_to64, a) for a in args)
    kwargs = {k: _tree_map(_to64, v) for k, v in kwargs.items()}
    rng = np.random.default_rng(seed)
    fv = vjp(f, wrt=wrt)
    out, pullback = fv(*args, **kwargs)
    expected = f(*args, **kwargs)
    for a, b in zip(pytree.flatten(out)[0], pytree.flatten(expected)[0]):
        if not np.allclose(a, b, rtol=1e-10, atol=1e-12, equal_nan=True):
            raise GradientCheckError(f"the generated forward value {a!r} differs from "
                                     f"{f.__name__}(...) = {b!r}")
    u = _random_like(rng, out)
    cts = pullback(u)
    single = not isinstance(wrt, (tuple, list))
    positions = fv.wrt
    if single:
        cts = (cts,)
    import inspect
    ba = inspect.signature(f).bind(*args, **kwargs)
    ba.apply_defaults()
    names = list(ba.arguments)
    for pos, ct in zip(positions, cts):
        name = names[pos]
        x = ba.arguments[name]
        v = _random_like(rng, x)
        lhs = _inner(ct, v)

        def phi(t):
            moved = inspect.BoundArguments(ba.signature, dict(ba.arguments))
            moved.arguments[name] = _axpy(t, v, x)
            return _inner(u, f(*moved.args, **moved.kwargs))

        fd = (phi(eps) - phi(-eps)) / (2 * eps)
        if not abs(lhs - fd) <= atol + rtol * max(abs(lhs), abs(fd)):
            raise GradientCheckError(
                f"gradient of {f.__name__} with respect to '{name}' disagrees with central "
                f"differences: <J^T u, v> = {lhs!r}, finite differences give {fd!r} "
                f"(difference {abs(lhs - fd):.3g})")
