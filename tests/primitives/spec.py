"""The per-primitive spec table harness.

Every differentiable primitive in ``s2sgrad.primitives.core.REGISTRY`` must
be covered by at least one :class:`Spec` in some ``tests/primitives/test_*.py``
module's ``SPECS`` list (``test_coverage.py`` enforces it).  A spec is a
small Python function that uses the primitive, with explicit inputs drawn
from the primitive's domain; it is checked against central finite
differences in float64 (``s2sgrad.check_grads``), and for float32 inputs the
gradient must come back float32 with the argument's shape.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import s2sgrad

RNG = np.random.default_rng(1234)


def normal(*shape):
    return RNG.standard_normal(shape)


def pos(*shape, lo=0.5, hi=2.0):
    """Positive inputs (log, sqrt, ...)."""
    return RNG.uniform(lo, hi, size=shape)


def unit(*shape):
    """Inputs in (-0.9, 0.9) (arcsin, arccos, ...)."""
    return RNG.uniform(-0.9, 0.9, size=shape)


def distinct(*shape):
    """Well-separated values (max/min/sort without ties)."""
    n = int(np.prod(shape)) if shape else 1
    return (RNG.permutation(n).astype(float) + RNG.uniform(0.1, 0.4, n)).reshape(shape)


@dataclass
class Spec:
    prims: tuple            # primitive names this spec exercises
    fn: object              # a Python function using them
    args: tuple             # float64 inputs (and non-differentiated extras)
    wrt: object = 0
    id: str = ""
    float32: bool = True    # also run with float32 inputs and check the dtype
    kwargs: dict = field(default_factory=dict)

    def __post_init__(self):
        if isinstance(self.prims, str):
            self.prims = (self.prims,)
        if not self.id:
            self.id = "-".join(self.prims)


def check_spec(spec: Spec):
    s2sgrad.check_grads(spec.fn, spec.args, wrt=spec.wrt, kwargs=spec.kwargs)
    if spec.float32:
        args32 = tuple(to32(a) for a in spec.args)
        out = s2sgrad.vjp(spec.fn, wrt=spec.wrt)(*args32, **spec.kwargs)
        value, pullback = out
        ct = _ones_like_tree(value)
        grads = pullback(ct)
        wrt = spec.wrt if isinstance(spec.wrt, tuple) else (spec.wrt,)
        grads = grads if isinstance(spec.wrt, tuple) else (grads,)
        for w, g in zip(wrt, grads):
            x = args32[w]
            if isinstance(x, np.ndarray):
                assert g.dtype == x.dtype, (spec.id, g.dtype, x.dtype)
                assert g.shape == x.shape, (spec.id, g.shape, x.shape)


def to32(a):
    """float64 -> float32 and complex128 -> complex64 arrays; anything else as is."""
    if isinstance(a, np.ndarray) and a.dtype == np.float64:
        return a.astype(np.float32)
    if isinstance(a, np.ndarray) and a.dtype == np.complex128:
        return a.astype(np.complex64)
    return a


def _ones_like_tree(v):
    if isinstance(v, tuple):
        return tuple(_ones_like_tree(x) for x in v)
    if isinstance(v, list):
        return [_ones_like_tree(x) for x in v]
    return np.ones_like(v)
