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
