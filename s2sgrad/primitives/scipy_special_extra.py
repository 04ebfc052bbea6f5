"""scipy.special: ``lpmv`` (associated Legendre functions) and
``bernoulli`` (Bernoulli numbers, data).

``lpmv(m, v, x)`` is differentiable in ``x`` (the order ``m`` and degree
``v`` are data, as ``jv``'s order is): SciPy's ``P_v^m`` (with the
Condon-Shortley phase) satisfies ``(1 - x^2) dP_v^m/dx = (v + m) P_{v-1}^m
- v x P_v^m`` on ``-1 < x < 1``, so the derivative is that quotient,
infinite or NaN at ``x = +-1`` where the function itself has a branch point.
Imported with the other ``scipy.special`` rules (``core.OPTIONAL_RULES``).
"""
from __future__ import annotations

import scipy.special as sc

from .core import defprim, shape_fresh
from .scipy_special import def_with_data


def _lpmv_partials(em, out, x, m, v):
    lower = em.call("lpmv", x, m=m, v=em.subtract(v, 1))
    num = em.subtract(em.multiply(em.add(v, m), lower), em.multiply(em.multiply(v, x), out))
    return [em.divide(num, em.subtract(1, em.multiply(x, x)))]


def_with_data("lpmv", getattr(sc, "lpmv", None), ("m", "v", "x"), ("m", "v"), _lpmv_partials)

if hasattr(sc, "bernoulli"):
    defprim("scipy.special.bernoulli", sc.bernoulli, sig="n, /", nondiff=True,
            pyname="scipy.special.bernoulli", shape=shape_fresh,
            doc="scipy.special.bernoulli(n): the Bernoulli numbers B_0..B_n (data).")
