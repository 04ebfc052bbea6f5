"""Specs of the runtime helpers np.prod's, np.cumprod's and np.linalg.det's
derivatives are written with (exact at zeros; checked conditioning): each
called directly, as the generated first derivative calls it, so that its
own rules -- a second derivative of np.prod/np.cumprod/det -- are checked
against central differences, by the forward/reverse dot-product identity
(test_jvp_identity), in float32, with axis= and repeated use."""
import numpy as np
import pytest

from s2sgrad import runtime, runtime_linalg
from tests.primitives.spec import Spec, check_spec, normal
from tests.primitives.test_statistics import ZEROS, _wsum

X = normal(3, 4)
T = normal(3, 4)
G = normal(3, 4)
A = normal(3, 3) + 3 * np.eye(3)

SPECS = [
    Spec("prod_others", lambda x: _wsum(runtime.prod_others(x, axis=1)), (X,)),
    Spec("prod_others", lambda x: _wsum(runtime.prod_others(x, axis=0)), (ZEROS,),
         id="prod_others-zeros"),
    Spec("prod_others", lambda x: _wsum(runtime.prod_others(x)) + _wsum(x * runtime.prod_others(x)),
         (X,), id="prod_others-flat-twice"),
    Spec("prod_pairs", lambda x, t: _wsum(runtime.prod_pairs(x, t, axis=1)), (X, T),
         wrt=(0, 1)),
    Spec("prod_pairs", lambda t, x: _wsum(runtime.prod_pairs(x, t, axis=0)), (T, ZEROS),
         id="prod_pairs-zeros-in-t"),
    Spec("require_nonzero", lambda x: _wsum(runtime.require_nonzero(x, what="this") * x), (X,)),
    Spec("cumprod_vjp_core",
         lambda g, x: _wsum(runtime.cumprod_vjp_core(g, np.cumprod(x, axis=1), x, axis=1)),
         (G, X), wrt=(0, 1)),
    Spec("cumprod_jvp_core",
         lambda t, x: _wsum(runtime.cumprod_jvp_core(t, np.cumprod(x, axis=0), x, axis=0)),
         (T, X), wrt=(0, 1)),
    Spec("require_nonsingular",
         lambda a: _wsum(runtime_linalg.require_nonsingular(a, what="det") @ a), (A,)),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_spec(spec):
    check_spec(spec)


def test_values_are_the_helpers():
    import s2sgrad
    for spec in SPECS:
        value, _ = s2sgrad.vjp(spec.fn, wrt=spec.wrt)(*spec.args)
        np.testing.assert_allclose(value, spec.fn(*spec.args), rtol=1e-12, atol=1e-13)


def test_require_helpers_refuse():
    with pytest.raises(ValueError, match="exactly 0"):
        runtime.require_nonzero(ZEROS, what="a third derivative of np.prod")
    with pytest.raises(Exception, match="det"):
        runtime_linalg.require_nonsingular(np.ones((3, 3)), what="det")
