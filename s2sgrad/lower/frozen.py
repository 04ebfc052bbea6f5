"""Frozen scipy.stats distributions built inside the differentiated function
(session 22, cov9): ``d = scipy.stats.norm(mu, sigma); d.logpdf(x)`` is
``scipy.stats.norm.logpdf(x, mu, sigma)``, so it differentiates in the
parameters as the unfrozen method does.

A call of a distribution object that has differentiated methods
(``scipy.stats.norm``, ``gamma``, ``multivariate_normal``, ...) lowers to a
:class:`FrozenDist` holding the lowered parameters; ``d.method`` is a
:class:`FrozenMethod`, which calls ``dist.method`` with the call's own
arguments first and the frozen ones after (SciPy's ``rv_frozen`` passes
them the same way: ``self.dist.logpdf(x, *self.args, **self.kwds)``).  A
method s2sgrad has no rule for (``d.mean()``, ``d.rvs()``) is refused naming
the methods it has.
"""
from __future__ import annotations

from ..primitives import core as P
from .functional import Partial
from .values import Static


class FrozenDist:
    """``scipy.stats.<dist>(*args, **kwargs)`` made inside the function."""
    __slots__ = ("dist", "args", "kwargs")

    def __init__(self, dist, args, kwargs):
        self.dist = dist
        self.args = list(args)
        self.kwargs = dict(kwargs)

    def method(self, name):
        return FrozenMethod(Static(getattr(self.dist, name)), self.args, self.kwargs)


class FrozenMethod(Partial):
    """``d.logpdf`` of a :class:`FrozenDist`: the frozen parameters follow
    the call's arguments."""
    __slots__ = ()

    def bound(self, args, kwargs):
        return self.fn, list(args) + self.args, {**self.kwargs, **kwargs}


def is_distribution(obj):
    """``obj`` is a scipy.stats distribution with differentiated methods."""
    mod = getattr(type(obj), "__module__", "") or ""
    if not mod.startswith("scipy.stats") or isinstance(obj, type):
        return False
    return any(inst is obj for inst, _, _ in P.registered_methods())


def _registered_like(dist):
    """The registered distribution instance of ``dist``'s class (a frozen
    distribution holds its own copy of it: ``rv_frozen.dist``), or None."""
    for inst, _, _ in P.registered_methods():
        if type(inst) is type(dist):
            return inst
    return None


def frozen_method_call(lw, method, args, kwargs, node, path):
    """``PRIOR.logpdf(x)`` with ``PRIOR = scipy.stats.norm(0.0, 2.0)`` made
    outside the function (a global, a closed-over value): the registered
    distribution's method with the frozen parameters appended, each read as
    the function's own globals are (arrays live, through ``path``).  None if
    ``method`` is not a method of such an object."""
    fz = getattr(method, "__self__", None)
    mod = getattr(type(fz), "__module__", "") or ""
    if fz is None or not mod.startswith("scipy.stats") or \
            not isinstance(getattr(fz, "args", None), tuple) or \
            not isinstance(getattr(fz, "kwds", None), dict) or not hasattr(fz, "dist"):
        return None
    inst = _registered_like(fz.dist)
    if inst is None:
        return None
    fpath = path.attr("__self__") if path is not None else None
    items = [lw.static_value(v, fpath.attr("args").item(i) if fpath is not None else None, node)
             for i, v in enumerate(fz.args)]
    kw = {k: lw.static_value(v, fpath.attr("kwds").item(k) if fpath is not None else None,
                             node) for k, v in fz.kwds.items()}
    return lw.call_value(Static(getattr(inst, method.__name__)), list(args) + items,
                         {**kw, **kwargs}, node)
