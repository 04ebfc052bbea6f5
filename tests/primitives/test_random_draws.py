"""Specs of the draws with pathwise derivatives (normal, uniform): the
location and scale of a draw from a generator made inside the function, so
every evaluation of the finite-difference check draws the same numbers."""
import numpy as np
import pytest

from .spec import Spec, check_spec, normal, pos
from .test_runtime_prims import check_hvp


def _gen_normal(mu, sigma):
    rng = np.random.default_rng(0)
    return np.sum(np.sin(rng.normal(mu, sigma, size=(2, 3))) * np.arange(1.0, 4.0))


def _gen_normal_kw(mu):
    return np.sum(np.random.default_rng(1).normal(loc=mu, size=3) ** 3)


def _gen_uniform(lo, hi):
    rng = np.random.default_rng(2)
    return np.sum(rng.uniform(lo, hi, size=(4, 3)) ** 2)


def _rs_normal(mu, sigma):
    rs = np.random.RandomState(3)
    return np.sum(np.cos(rs.normal(mu, sigma)))


def _rs_uniform(hi):
    return np.sum(np.random.RandomState(4).uniform(high=hi, size=(2, 3)) ** 3)


SPECS = [
    Spec("Generator.normal", _gen_normal, (normal(3), pos()), wrt=(0, 1), id="gen-normal"),
    Spec("Generator.normal", _gen_normal_kw, (normal(3),), id="gen-normal-kw"),
    Spec("Generator.uniform", _gen_uniform, (normal(3), 3.0 + pos(4, 1)), wrt=(0, 1),
         id="gen-uniform-broadcast"),
    Spec("RandomState.normal", _rs_normal, (normal(2, 2), pos(2, 1)), wrt=(0, 1),
         id="rs-normal"),
    Spec("RandomState.uniform", _rs_uniform, (pos(3),), id="rs-uniform"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_draw_spec(spec):
    check_spec(spec)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_draw_hvp(spec):
    check_hvp(spec)
