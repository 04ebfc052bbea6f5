"""The samples of the slow sweeps (:mod:`tests.sampling`): each covers every
stratum of its sweep (every area, every function called, every option,
operator and argument kind), keeps the cases named as regressions, is the
same in every process and whatever the order of the cases, and the cases it
leaves out are still collected (marked ``slow``), so ``S2SGRAD_FULL_TESTS=1``
runs the whole sweep."""
import importlib
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests import sampling

ROOT = Path(__file__).parent.parent

# the modules whose sweeps are sampled (importing one registers its samples)
SWEEP_MODULES = ["tests.ports.test_ports9_port", "tests.ports.test_ports10_port",
                 "tests.ports.test_ports11_port", "tests.primitives.test_jvp_identity",
                 "tests.test_fuzz", "tests.test_corpus9_sweeps"]


def _samples():
    for m in SWEEP_MODULES:
        importlib.import_module(m)
    return dict(sampling.REGISTRY)


def test_every_sweep_module_registers_a_sample():
    samples = _samples()
    for m in SWEEP_MODULES:
        short = m.rsplit(".", 1)[1]
        assert any(s.items for s in samples.values()), short
    assert len(samples) >= len(SWEEP_MODULES)


@pytest.mark.parametrize("name", sorted(_samples()))
def test_sample_covers_every_stratum(name):
    s = sampling.REGISTRY[name]
    missing = s.all_strata() - s.covered()
    assert not missing, f"{name}: strata with no case in the sample: {sorted(missing)[:20]}"
    assert any(s.kept), name
    # every case has a stratum beyond its area (else the cover says nothing about it)
    thin = [i for i, st in zip(s.ids, s.strata) if not any(not x.startswith("area:")
                                                          for x in st)]
    assert not thin, f"{name}: cases with no stratum but their area: {thin[:10]}"


@pytest.mark.parametrize("name", sorted(_samples()))
def test_sample_is_the_same_in_any_order(name):
    s = sampling.REGISTRY[name]
    order = list(range(len(s.ids)))
    random.Random(1).shuffle(order)
    kept = sampling.choose([s.ids[k] for k in order], [s.strata[k] for k in order],
                           stride=s.stride, always=s.always, salt=name)
    assert {s.ids[k] for k, kk in zip(order, kept) if kk} == \
        {i for i, kk in zip(s.ids, s.kept) if kk}


@pytest.mark.parametrize("name", sorted(_samples()))
def test_sample_keeps_the_regressions(name):
    s = sampling.REGISTRY[name]
    for i, kk in zip(s.ids, s.kept):
        if any(a in i for a in s.always):
            assert kk, f"{name}: regression {i} left out of the sample"


def test_choose_covers_every_stratum_of_a_synthetic_sweep():
    rng = random.Random(0)
    names = [f"f{k}" for k in range(40)]
    ids = [f"case{k}" for k in range(300)]
    strata = [frozenset(rng.sample(names, rng.randint(1, 3))) | {f"area:{k % 7}"}
              for k in range(300)]
    kept = sampling.choose(ids, strata, stride=None, always=("case17",))
    covered = set().union(*(s for s, k in zip(strata, kept) if k))
    assert covered == set().union(*strata)
    assert kept[17]
    assert sum(kept) < 100          # a sample, not the sweep
    # a stratum only one case has is always kept
    strata[123] = strata[123] | {"only-here"}
    assert sampling.choose(ids, strata, stride=None)[123]


def test_params_mark_what_the_sample_leaves_out():
    ps = sampling.params("synthetic", list(range(50)), ids=lambda x: f"x{x}",
                         strata=lambda x: {f"r{x % 5}"}, stride=None)
    s = sampling.REGISTRY.pop("synthetic")
    assert [p.values[0] for p in ps] == list(range(50))       # the whole sweep is collected
    for p, k in zip(ps, s.kept):
        assert (not k) == any(m.name == "slow" for m in p.marks)
    assert sum(s.kept) == 5


def test_source_strata_name_calls_options_and_operators():
    src = ("import numpy as np\n\n\ndef f(a, b):\n"
           "    for i in range(3):\n"
           "        a = np.pad(a, 1, mode='reflect') @ b.T\n"
           "    return np.linalg.norm(a, axis=0, keepdims=True).sum() ** 2\n")
    st = sampling.source_strata(src)
    assert {"call:np.pad", "call:np.pad|mode='reflect'", "call:np.linalg.norm",
            "call:np.linalg.norm|axis", "call:np.linalg.norm|keepdims=True", "call:.sum",
            "op:MatMult", "op:Pow", "stmt:For", "call:range"} <= st


_COLLECT = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--collect-only",
            "tests/ports/test_ports9_port.py"]


def _collected(full):
    env = {k: v for k, v in os.environ.items() if k != "S2SGRAD_FULL_TESTS"}
    env["PYTHONPATH"] = str(ROOT)
    if full:
        env["S2SGRAD_FULL_TESTS"] = "1"
    out = subprocess.run(_COLLECT, capture_output=True, text=True, cwd=ROOT, env=env,
                         timeout=600)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    return {ln.split("::", 1)[1] for ln in out.stdout.splitlines() if "::" in ln}


def test_default_run_deselects_and_full_run_collects_everything():
    """The default run collects exactly the samples; S2SGRAD_FULL_TESTS=1 every case."""
    importlib.import_module("tests.ports.test_ports9_port")
    want = {f"{test}[{i}]" for name, test in (("ports9", "test_ports9"),
                                              ("ports9_order2", "test_ports9_order2"))
            for i, k in zip(sampling.REGISTRY[name].ids, sampling.REGISTRY[name].kept) if k}
    every = {f"{test}[{i}]" for name, test in (("ports9", "test_ports9"),
                                               ("ports9_order2", "test_ports9_order2"))
             for i in sampling.REGISTRY[name].ids}
    default = _collected(False)
    full = _collected(True)
    assert {t for t in default if t.startswith("test_ports9")} == want
    assert {t for t in full if t.startswith("test_ports9")} == every
    assert default - want == full - every           # the file's other tests: in both runs
