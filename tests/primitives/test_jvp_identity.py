"""Forward mode against every primitive spec.

For every :class:`Spec` in every ``tests/primitives/test_*.py`` ``SPECS`` list
(discovered like ``test_coverage.py`` does, so new spec modules are picked up
automatically):

1. the generated JVP ``<u, J v>`` agrees with central finite differences in
   a random direction (float64), one ``wrt`` argument at a time;
2. the generated JVP and the generated VJP satisfy the dot-product identity
   ``<u, J v> = <J^T u, v>`` (both are exact up to rounding, so this checks
   each primitive's jvp rule against its vjp rule far more tightly than
   finite differences can).
"""
import importlib
import pkgutil

import numpy as np
import pytest

import s2sgrad
import tests.primitives as pkg
from tests import sampling
from s2sgrad.check import GradientCheckError
from tests.primitives.spec import to32


def _all_specs():
    found = []
    for m in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if m.name.startswith("test_") and m.name not in ("test_coverage", "test_jvp_identity"):
            mod = importlib.import_module(f"tests.primitives.{m.name}")
            for spec in getattr(mod, "SPECS", []):
                found.append(pytest.param(m.name, spec, id=f"{m.name[5:]}:{spec.id}"))
    return found


CASES = _all_specs()   # (not named SPECS: test_coverage.py collects SPECS lists)


def _run(module, spec, what, check):
    """Run ``check()``; on failure, fail with a message naming the spec."""
    try:
        check()
        return
    except s2sgrad.S2SGradError as exc:
        msg = (f"spec {spec.id!r} from tests/primitives/{module}.py (primitives "
               f"{', '.join(spec.prims)}): {what}\n  {type(exc).__name__}: {exc}")
    except (GradientCheckError, ValueError, TypeError, IndexError) as exc:
        msg = (f"spec {spec.id!r} from tests/primitives/{module}.py (primitives "
               f"{', '.join(spec.prims)}): {what}\n  {type(exc).__name__}: {exc}")
    pytest.fail(msg, pytrace=False)


def _sampled_fd_cases():
    """The cases of the seed-1 finite-difference check: a sample keeping
    every primitive and every spec module (:mod:`tests.sampling`); the dot-product
    identity test below checks every spec's JVP against differences too (at
    seed 2), and ``S2SGRAD_FULL_TESTS=1`` runs this one on every spec."""
    ps = sampling.params("jvp_identity_fd", [p.values for p in CASES],
                         ids=lambda ms: f"{ms[0][5:]}:{ms[1].id}",
                         strata=lambda ms: {f"prim:{q}" for q in ms[1].prims} |
                         {f"module:{ms[0]}"})
    return [pytest.param(*p.values[0], id=p.id, marks=p.marks) for p in ps]


@pytest.mark.parametrize("module, spec", _sampled_fd_cases())
def test_jvp_against_finite_differences(module, spec):
    _run(module, spec, "the generated JVP disagrees with finite differences",
         lambda: s2sgrad.check_grads(spec.fn, spec.args, wrt=spec.wrt, kwargs=spec.kwargs,
                                     modes=("fwd",), seed=1))


@pytest.mark.parametrize("module, spec", CASES)
def test_jvp_vjp_dot_product_identity(module, spec):
    _run(module, spec, "the generated JVP and VJP violate <u, J v> = <J^T u, v>",
         lambda: s2sgrad.check_grads(spec.fn, spec.args, wrt=spec.wrt, kwargs=spec.kwargs,
                                     modes=("rev", "fwd"), seed=2))


@pytest.mark.parametrize("module, spec", [p for p in CASES if p.values[1].float32])
def test_jvp_float32_keeps_dtype_and_shape(module, spec):
    args32 = tuple(to32(a) for a in spec.args)
    wrt = spec.wrt if isinstance(spec.wrt, tuple) else (spec.wrt,)
    tangents = tuple(np.ones_like(args32[w]) if isinstance(args32[w], np.ndarray) else 1.0
                     for w in wrt)
    res = []
    _run(module, spec, "jvp failed on float32 inputs",
         lambda: res.append(s2sgrad.jvp(spec.fn, wrt=spec.wrt)(args32, tangents, **spec.kwargs)))
    out, out_dot = res[0]
    for o, d in zip(_leaves(out), _leaves(out_dot)):
        if isinstance(o, np.ndarray) and np.issubdtype(o.dtype, np.inexact):
            assert d.dtype == o.dtype and d.shape == o.shape, (
                f"spec {spec.id!r}: out_dot {d.dtype}{d.shape} for out {o.dtype}{o.shape}")


def _leaves(x):
    return s2sgrad.pytree.flatten(x)[0]


def test_specs_were_found():
    assert len(CASES) > 30
