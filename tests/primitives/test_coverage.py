"""Every differentiable primitive has a finite-difference spec."""
import importlib
import pkgutil

import tests.primitives as pkg
from s2sgrad.primitives.core import REGISTRY


def all_specs():
    specs = []
    for m in pkgutil.iter_modules(pkg.__path__):
        if m.name.startswith("test_") and m.name != "test_coverage":
            mod = importlib.import_module(f"tests.primitives.{m.name}")
            specs += getattr(mod, "SPECS", [])
    return specs


def test_every_differentiable_primitive_has_a_spec():
    covered = {p for s in all_specs() for p in s.prims}
    missing = sorted(name for name, p in REGISTRY.items()
                     if p.differentiable and name not in covered
                     and not getattr(p, "user_rule", False))     # (s2sgrad.defrule's)
    assert not missing, f"differentiable primitives without a spec: {missing}"
