"""Test-wide settings: errors of the shape specialiser are raised, not
silently replaced by the polymorphic code as they are for users.

Slow sweeps are sampled (:mod:`tests.sampling`): the cases a sample leaves
out are marked ``slow`` and deselected, unless ``S2SGRAD_FULL_TESTS=1`` (the
whole sweep) or a ``-m`` expression naming ``slow`` (``-m slow``: only them)."""
from s2sgrad import api
from tests import sampling

api.STRICT_SPECIALIZE = True


def pytest_collection_modifyitems(config, items):
    if sampling.FULL or "slow" in (config.getoption("markexpr") or ""):
        return
    # (a case named on the command line, with its parameters, runs)
    named = [a.replace("\\", "/") for a in config.args if "[" in a]

    def left_out(it):
        return it.get_closest_marker("slow") is not None and \
            not any(a.endswith(it.nodeid) or it.nodeid.endswith(a) for a in named)
    drop = [it for it in items if left_out(it)]
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = [it for it in items if not left_out(it)]
