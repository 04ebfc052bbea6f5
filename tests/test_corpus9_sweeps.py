"""corpus9, part 7: sweeps over every program of the corpus.

* values track the inputs: one ``value_and_grad`` object is called at the
  corpus point, then at a second point (the differentiated arrays moved),
  and must give the plain function's value and the central differences
  there (cached, shape-specialised code must not keep anything of the
  first call);
* float32: every float64 array argument made float32; the gradient has the
  arguments' dtypes, and equals the float64 gradient to float32 accuracy.
"""
import copy
import inspect

import numpy as np
import pytest

from s2sgrad import value_and_grad
from tests import test_corpus9 as nn
from tests import test_corpus9_classes as classes
from tests import test_corpus9_control as control
from tests import test_corpus9_idioms as idioms
from tests import test_corpus9_more as more
from tests import test_corpus9_science as sci
from tests import test_corpus9_training as training
from tests import sampling
from tests.corpus9_harness import _positions, assert_tree_close, fd_grad, leaves, replace

ALL = {}
for _mod in (nn, sci, idioms):
    for _name, _case in _mod.CASES.items():
        ALL[f"{_mod.__name__.rsplit('.', 1)[1]}:{_name}"] = _case
for _mod in (more, classes, training, control):
    for _i, _case in enumerate(_mod.CASES):
        _name = getattr(_case[0], "__qualname__", type(_case[0]).__name__)
        ALL[f"{_mod.__name__.rsplit('.', 1)[1]}:{_name}:{_i}"] = _case

# programs whose value is not a smooth function of the inputs near the
# corpus point once they move (a kink crossed: trimmed mean's order, the
# hinge losses' margins) are moved by less
SMALL_MOVE = {"test_corpus9_idioms:sort_trimmed_mean", "test_corpus9:pairwise_hinge",
              "test_corpus9:triplet_loss", "test_corpus9:hinge_svm", "test_corpus9:tukey_biweight",
              "test_corpus9:maxpool_cnn", "test_corpus9:maxpool1d_loop",
              "test_corpus9_idioms:clip_sign_abs", "test_corpus9_more:leaky_mask",
              "test_corpus9_more:np_median", "test_corpus9_more:argsort_gather",
              "test_corpus9_science:cox_partial", "test_corpus9:pinball"}


def _moved(f, args, wrt, scale, seed):
    rng = np.random.default_rng(seed)
    _, pos = _positions(f, wrt)
    out = list(copy.deepcopy(args))
    for p in pos:
        for path, leaf in leaves(out[p]):
            if isinstance(leaf, float):
                out[p] = replace(out[p], path, leaf + scale * rng.normal())
            elif isinstance(leaf, np.ndarray) and leaf.dtype.kind == "f":
                out[p] = replace(out[p], path, leaf + scale * rng.normal(size=leaf.shape))
    return tuple(out)


def _strata(name):
    """What a program exercises: its source's calls, options, operators and
    statements (:func:`tests.sampling.source_strata`), its corpus module and
    its arguments' kinds."""
    f, args, _, _ = ALL[name]
    try:
        src = inspect.getsource(f)
    except (OSError, TypeError):
        src = inspect.getsource(type(f))         # a callable object: its class
    return sampling.source_strata(src) | {f"module:{name.split(':')[0]}"} | \
        sampling.value_kinds(args)


# each sweep checks a sample covering every stratum of _strata in the default
# run (tests/sampling.py; S2SGRAD_FULL_TESTS=1: every program)
@pytest.mark.parametrize("name", sampling.params("corpus9_values", sorted(ALL), ids=str,
                                                 strata=_strata))
def test_values_track_inputs(name):
    f, args, wrt, kwargs = ALL[name]
    vg = value_and_grad(f, wrt=wrt)
    vg(*copy.deepcopy(args), **kwargs)
    small = name in SMALL_MOVE or name.rsplit(":", 1)[0] in SMALL_MOVE
    moved = _moved(f, args, wrt, 1e-3 if small else 0.05, seed=len(name))
    v, g = vg(*copy.deepcopy(moved), **kwargs)
    np.testing.assert_allclose(v, f(*copy.deepcopy(moved), **copy.deepcopy(kwargs)),
                               rtol=1e-10, atol=1e-12)
    assert_tree_close(g, fd_grad(f, moved, kwargs, wrt), 1e-5, 1e-7, "at the moved point:")


def _to32(x):
    if isinstance(x, np.ndarray) and x.dtype == np.float64:
        return x.astype(np.float32)
    if isinstance(x, dict):
        return {k: _to32(v) for k, v in x.items()}
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(*[_to32(v) for v in x])
    if isinstance(x, (list, tuple)):
        return type(x)(_to32(v) for v in x)
    return x


# programs float32 cannot run to float32 accuracy (a tolerance below float32's
# resolution: the iteration runs to its cap), with the reason
F32_LOOSE = {"test_corpus9_science:sinkhorn_log_while", "test_corpus9_idioms:fixed_point_while",
             "test_corpus9_idioms:kepler_newton"}


@pytest.mark.parametrize("name", sampling.params("corpus9_float32", sorted(ALL), ids=str,
                                                 strata=_strata))
def test_float32_arguments(name):
    f, args, wrt, kwargs = ALL[name]
    if name in F32_LOOSE:
        pytest.skip("iterates to a tolerance below float32's resolution")
    args32 = _to32(copy.deepcopy(args))
    kw32 = _to32(copy.deepcopy(kwargs))
    v64, g64 = value_and_grad(f, wrt=wrt)(*copy.deepcopy(args), **copy.deepcopy(kwargs))
    with np.errstate(all="ignore"):
        v32, g32 = value_and_grad(f, wrt=wrt)(*copy.deepcopy(args32), **kw32)
        ref32 = f(*copy.deepcopy(args32), **copy.deepcopy(kw32))
    np.testing.assert_allclose(v32, ref32, rtol=2e-5, atol=1e-6)
    single, pos = _positions(f, wrt)
    gs32 = (g32,) if single else g32
    gs64 = (g64,) if single else g64
    for p, a, b in zip(pos, gs32, gs64):
        for (path, x32), (_, x64), (_, arg) in zip(leaves(a), leaves(b), leaves(args32[p])):
            if isinstance(arg, np.ndarray):
                assert np.asarray(x32).dtype == arg.dtype, (path, np.asarray(x32).dtype, arg.dtype)
            scale = max(1.0, float(np.max(np.abs(x64))) if np.size(x64) else 1.0)
            np.testing.assert_allclose(np.asarray(x32, dtype=np.float64), x64, rtol=2e-2,
                                       atol=2e-3 * scale, err_msg=f"float32 leaf {path}")
