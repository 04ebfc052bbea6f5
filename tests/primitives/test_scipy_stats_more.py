"""scipy.stats gumbel_r, gumbel_l, vonmises, wrapcauchy, gennorm, truncnorm,
nbinom, betabinom, multinomial and cauchy's quantiles
(s2sgrad/primitives/scipy_stats.py): specs, values against SciPy."""
import numpy as np
import pytest

st = pytest.importorskip("scipy.stats")

import s2sgrad  # noqa: E402
from s2sgrad.primitives import core  # noqa: E402

from .spec import RNG, Spec, check_spec  # noqa: E402

core.load_optional_rules()      # register the rules (test_coverage needs them)

X = RNG.normal(size=5) * 1.5
Q = RNG.uniform(0.1, 0.9, 5)
XT = X * 0.3
XTAIL = np.abs(X) * 0.3 + 2.1
XW = np.abs(X) + 0.1
K = np.array([0.0, 1, 2, 5, 3])
COUNTS = np.array([[1.0, 2, 3], [0, 5, 1]])
P3 = np.array([0.2, 0.5, 0.3])

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::RuntimeWarning")

SPECS = [
    Spec("scipy.stats.gumbel_r.logpdf",
         lambda x, loc, s: np.sum(st.gumbel_r.logpdf(x, loc, s)), (X, 0.3, 1.7),
         wrt=(0, 1, 2)),
    Spec("scipy.stats.gumbel_r.pdf",
         lambda x, loc, s: np.sum(st.gumbel_r.pdf(x, loc, s)), (X, 0.3, 1.7),
         wrt=(0, 1, 2)),
    Spec("scipy.stats.gumbel_r.cdf",
         lambda x, loc, s: np.sum(st.gumbel_r.cdf(x, loc, s)), (X, 0.3, 1.7),
         wrt=(0, 1, 2)),
    Spec("scipy.stats.gumbel_r.logcdf",
         lambda x, loc, s: np.sum(st.gumbel_r.logcdf(x, loc, s)), (X, 0.3, 1.7),
         wrt=(0, 1, 2)),
    Spec("scipy.stats.gumbel_r.sf",
         lambda x, loc, s: np.sum(st.gumbel_r.sf(x, loc, s)), (X, 0.3, 1.7),
         wrt=(0, 1, 2)),
    Spec("scipy.stats.gumbel_r.logsf",
         lambda x, loc, s: np.sum(st.gumbel_r.logsf(x, loc, s)), (X, 0.3, 1.7),
         wrt=(0, 1, 2)),
    Spec("scipy.stats.gumbel_r.ppf",
         lambda q, loc, s: np.sum(st.gumbel_r.ppf(q, loc, s)), (Q, 0.3, 1.7),
         wrt=(0, 1, 2)),
    Spec("scipy.stats.gumbel_r.isf",
         lambda q, loc, s: np.sum(st.gumbel_r.isf(q, loc, s)), (Q, 0.3, 1.7),
         wrt=(0, 1, 2)),
    Spec("scipy.stats.gumbel_l.logpdf",
         lambda x, loc, s: np.sum(st.gumbel_l.logpdf(x, loc, s)), (X, 0.3, 1.7),
         wrt=(0, 1, 2)),
    Spec("scipy.stats.gumbel_l.pdf",
         lambda x, loc, s: np.sum(st.gumbel_l.pdf(x, loc, s)), (X, 0.3, 1.7),
         wrt=(0, 1, 2)),
    Spec("scipy.stats.gumbel_l.cdf",
         lambda x, loc, s: np.sum(st.gumbel_l.cdf(x, loc, s)), (X, 0.3, 1.7),
         wrt=(0, 1, 2)),
    Spec("scipy.stats.gumbel_l.logcdf",
         lambda x, loc, s: np.sum(st.gumbel_l.logcdf(x, loc, s)), (X, 0.3, 1.7),
         wrt=(0, 1, 2)),
    Spec("scipy.stats.gumbel_l.sf",
         lambda x, loc, s: np.sum(st.gumbel_l.sf(x, loc, s)), (X, 0.3, 1.7),
         wrt=(0, 1, 2)),
    Spec("scipy.stats.gumbel_l.logsf",
         lambda x, loc, s: np.sum(st.gumbel_l.logsf(x, loc, s)), (X, 0.3, 1.7),
         wrt=(0, 1, 2)),
    Spec("scipy.stats.gumbel_l.ppf",
         lambda q, loc, s: np.sum(st.gumbel_l.ppf(q, loc, s)), (Q, 0.3, 1.7),
         wrt=(0, 1, 2)),
    Spec("scipy.stats.gumbel_l.isf",
         lambda q, loc, s: np.sum(st.gumbel_l.isf(q, loc, s)), (Q, 0.3, 1.7),
         wrt=(0, 1, 2)),
    Spec("scipy.stats.cauchy.ppf",
         lambda q, loc, s: np.sum(st.cauchy.ppf(q, loc, s)), (Q, 0.3, 1.7),
         wrt=(0, 1, 2)),
    Spec("scipy.stats.cauchy.isf",
         lambda q, loc, s: np.sum(st.cauchy.isf(q, loc, s)), (Q, 0.3, 1.7),
         wrt=(0, 1, 2)),
    Spec("scipy.stats.vonmises.logpdf", lambda x, k, loc: np.sum(st.vonmises.logpdf(x, k, loc)),
         (X, 2.5, 0.2), wrt=(0, 1, 2)),
    Spec("scipy.stats.wrapcauchy.logpdf",
         lambda x, c: np.sum(st.wrapcauchy.logpdf(x, c)), (XW, 0.4),
         wrt=(0, 1)),
    Spec("scipy.stats.gennorm.logpdf", lambda x, b, s: np.sum(st.gennorm.logpdf(x, b, 0.1, s)),
         (X, 1.7, 1.3), wrt=(0, 1, 2)),
    Spec("scipy.stats.vonmises.pdf", lambda x, k, loc: np.sum(st.vonmises.pdf(x, k, loc)),
         (X, 2.5, 0.2), wrt=(0, 1, 2)),
    Spec("scipy.stats.wrapcauchy.pdf", lambda x, c: np.sum(st.wrapcauchy.pdf(x, c)), (XW, 0.4),
         wrt=(0, 1)),
    Spec("scipy.stats.gennorm.pdf", lambda x, b, s: np.sum(st.gennorm.pdf(x, b, 0.1, s)),
         (X, 1.7, 1.3), wrt=(0, 1, 2)),
    Spec("scipy.stats.gennorm.cdf", lambda x, s: np.sum(st.gennorm.cdf(x, 1.7, 0.1, s)), (X, 1.3),
         wrt=(0, 1)),
    Spec("scipy.stats.gennorm.sf", lambda x, s: np.sum(st.gennorm.sf(x, 1.7, 0.1, s)), (X, 1.3),
         wrt=(0, 1)),
    Spec("scipy.stats.truncnorm.logpdf",
         lambda x, a, b, loc, s: np.sum(st.truncnorm.logpdf(x, a, b, loc, s)),
         (XT, -1.2, 1.5, 0.1, 1.1), wrt=(0, 1, 2, 3, 4)),
    Spec("scipy.stats.truncnorm.logpdf", lambda x, a, b: np.sum(st.truncnorm.logpdf(x, a, b)),
         (XTAIL, 2.0, 4.0), wrt=(0, 1, 2), id="truncnorm-tail-logpdf"),
    Spec("scipy.stats.truncnorm.pdf",
         lambda x, a, b, loc, s: np.sum(st.truncnorm.pdf(x, a, b, loc, s)),
         (XT, -1.2, 1.5, 0.1, 1.1), wrt=(0, 1, 2, 3, 4)),
    Spec("scipy.stats.truncnorm.pdf", lambda x, a, b: np.sum(st.truncnorm.pdf(x, a, b)),
         (XTAIL, 2.0, 4.0), wrt=(0, 1, 2), id="truncnorm-tail-pdf"),
    Spec("scipy.stats.truncnorm.cdf",
         lambda x, a, b, loc, s: np.sum(st.truncnorm.cdf(x, a, b, loc, s)),
         (XT, -1.2, 1.5, 0.1, 1.1), wrt=(0, 1, 2, 3, 4)),
    Spec("scipy.stats.truncnorm.cdf", lambda x, a, b: np.sum(st.truncnorm.cdf(x, a, b)),
         (XTAIL, 2.0, 4.0), wrt=(0, 1, 2), id="truncnorm-tail-cdf"),
    Spec("scipy.stats.truncnorm.sf",
         lambda x, a, b, loc, s: np.sum(st.truncnorm.sf(x, a, b, loc, s)),
         (XT, -1.2, 1.5, 0.1, 1.1), wrt=(0, 1, 2, 3, 4)),
    Spec("scipy.stats.truncnorm.sf", lambda x, a, b: np.sum(st.truncnorm.sf(x, a, b)),
         (XTAIL, 2.0, 4.0), wrt=(0, 1, 2), id="truncnorm-tail-sf"),
    Spec("scipy.stats.truncnorm.logcdf",
         lambda x, a, b, loc, s: np.sum(st.truncnorm.logcdf(x, a, b, loc, s)),
         (XT, -1.2, 1.5, 0.1, 1.1), wrt=(0, 1, 2, 3, 4)),
    Spec("scipy.stats.truncnorm.logcdf", lambda x, a, b: np.sum(st.truncnorm.logcdf(x, a, b)),
         (XTAIL, 2.0, 4.0), wrt=(0, 1, 2), id="truncnorm-tail-logcdf"),
    Spec("scipy.stats.truncnorm.logsf",
         lambda x, a, b, loc, s: np.sum(st.truncnorm.logsf(x, a, b, loc, s)),
         (XT, -1.2, 1.5, 0.1, 1.1), wrt=(0, 1, 2, 3, 4)),
    Spec("scipy.stats.truncnorm.logsf", lambda x, a, b: np.sum(st.truncnorm.logsf(x, a, b)),
         (XTAIL, 2.0, 4.0), wrt=(0, 1, 2), id="truncnorm-tail-logsf"),
    Spec("scipy.stats.nbinom.logpmf", lambda n, p: np.sum(st.nbinom.logpmf(K, n, p)), (3.5, 0.4),
         wrt=(0, 1)),
    Spec("scipy.stats.betabinom.logpmf",
         lambda a, b: np.sum(st.betabinom.logpmf(K, 5, a, b)), (1.5, 2.5),
         wrt=(0, 1)),
    # p normalised inside: finite differences step off the simplex, where SciPy
    # replaces the last probability (a FutureWarning; NaN from SciPy 1.18)
    Spec("scipy.stats.multinomial.logpmf",
         lambda p: np.sum(st.multinomial.logpmf(COUNTS, 6, p / np.sum(p))), (P3,)),
    Spec("scipy.stats.nbinom.pmf", lambda n, p: np.sum(st.nbinom.pmf(K, n, p)), (3.5, 0.4),
         wrt=(0, 1)),
    Spec("scipy.stats.betabinom.pmf", lambda a, b: np.sum(st.betabinom.pmf(K, 5, a, b)), (1.5, 2.5),
         wrt=(0, 1)),
    Spec("scipy.stats.multinomial.pmf", lambda p: np.sum(st.multinomial.pmf(COUNTS, 6, p / np.sum(p))), (P3,)),
    Spec("scipy.stats.nbinom.cdf", lambda p: np.sum(st.nbinom.cdf(K, 3.5, p)), (0.4,)),
    Spec("scipy.stats.nbinom.sf", lambda p: np.sum(st.nbinom.sf(K, 3.5, p)), (0.4,)),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_spec(spec):
    check_spec(spec)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_value_matches_scipy(spec):
    out, _ = s2sgrad.vjp(spec.fn, wrt=spec.wrt)(*spec.args)
    np.testing.assert_allclose(out, spec.fn(*spec.args), rtol=1e-10)


def _tail_values(x):
    return st.gumbel_r.cdf(x) + st.gumbel_l.sf(-x) + st.truncnorm.logpdf(x, -1.0, 1.0)


def test_values_outside_the_support_and_far_tails():
    # -inf/0 outside truncnorm's [a, b]; gumbel's cdf at -800 is 0 with derivative 0
    x = np.array([-800.0, -3.0, 0.5, 2.0, 40.0])
    v, pull = s2sgrad.vjp(_tail_values)(x)
    np.testing.assert_allclose(v, _tail_values(x), rtol=1e-12)
    g = pull(np.ones_like(v))
    assert g[0] == 0 and np.all(np.isfinite(g))
    # beyond truncnorm's [a, b] only the gumbel terms have a derivative
    e = np.exp(-x[1])
    np.testing.assert_allclose(g[1], 2 * np.exp(-e) * e, rtol=1e-12)


def test_shape_parameters_as_data_are_refused():
    with pytest.raises(s2sgrad.S2SGradError):
        s2sgrad.grad(lambda n: np.sum(st.nbinom.cdf(K, n, 0.4)))(3.5)
