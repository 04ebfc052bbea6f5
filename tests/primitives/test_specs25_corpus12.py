"""Specs of the primitives corpus12 added: ``chebval``, ``legval``,
``hermval``, ``hermeval`` and ``lagval`` of ``np.polynomial`` (composites:
the coefficients against the basis at x), and the basis matrix they use,
``series_vander`` (NumPy's ``<kind>vander``; its derivative in x is the
matrix of the bases' derivatives, so second derivatives raise its order
again) -- in the coefficients and in x, with 1-d and 2-d coefficients,
``tensor=True`` and ``tensor=False``; and the slice of a list built at
run time, ``list_slice`` (``hs[1:-1]``), with its adjoint
``list_slice_add`` (reached by second derivatives); and
``np.maximum/minimum/multiply.reduceat`` (composites: each segment gathered
into a row padded with the ufunc's identity, then np.max/np.min/np.prod),
over axis 0 and 1, with a repeated index (a one-entry segment); and
``np.hypot.reduce`` (a composite: the scaled root of the sum of squares),
over axis 0, 1, None and with keepdims.  Checked against central differences
in float64, in float32, and by the forward/reverse identity
(test_jvp_identity reads SPECS)."""
import numpy as np
import pytest

import s2sgrad
from tests.primitives.spec import Spec, check_spec
from tests.primitives.test_statistics import _wsum

_RNG = np.random.default_rng(2512)


def normal(*shape):
    return _RNG.standard_normal(shape)


def _unit(*shape):
    return _RNG.uniform(-0.9, 0.9, size=shape)


_KINDS = (("chebval", np.polynomial.chebyshev.chebval),
          ("legval", np.polynomial.legendre.legval),
          ("hermval", np.polynomial.hermite.hermval),
          ("hermeval", np.polynomial.hermite_e.hermeval),
          ("lagval", np.polynomial.laguerre.lagval))


def _vander_second(x):
    # the gradient of a chebval in x (series_vander of order 1), differentiated again
    c = np.array([0.3, -0.5, 0.8, 0.2])
    g = s2sgrad.grad(lambda y: np.sum(np.polynomial.chebyshev.chebval(y, c) ** 3))(x)
    return _wsum(g)


def _rows_sliced(x):
    hs = []
    for r in x:                       # a list built at run time
        hs.append(np.tanh(r) * 2.0)
    mid = hs[1:-1]
    return sum(np.sum(h ** 3) for h in mid) + np.sum(np.stack(hs[::2]) ** 2)


def _rows_sliced_second(x):
    return _wsum(s2sgrad.grad(_rows_sliced)(x))


SPECS = [
    Spec("series_vander", _vander_second, (_unit(5),), float32=False,
         id="series_vander-second-order"),
    Spec("list_slice", _rows_sliced, (normal(5, 3),)),
    Spec("list_slice_add", _rows_sliced_second, (normal(4, 2),), float32=False),
]
SPECS += [
    Spec("hypot_reduce", lambda x: _wsum(np.hypot.reduce(x) ** 2), (normal(5),), id="hypot-1d"),
    Spec("hypot_reduce", lambda x: _wsum(np.sin(np.hypot.reduce(x, axis=1))), (normal(3, 4),),
         id="hypot-axis1"),
    Spec("hypot_reduce", lambda x: _wsum(np.hypot.reduce(x, axis=None) * x), (normal(2, 3),),
         id="hypot-all"),
    Spec("hypot_reduce", lambda x: _wsum(np.hypot.reduce(x, keepdims=True) * x),
         (normal(3, 2),), id="hypot-keepdims"),
]
_SEG = np.array([0, 2, 2, 5, 1])
for _uf in (np.maximum, np.minimum, np.multiply):
    SPECS += [
        Spec(f"{_uf.__name__}_reduceat",
             lambda x, uf=_uf: _wsum(uf.reduceat(x, _SEG) ** 2), (normal(7),),
             id=f"{_uf.__name__}_reduceat-1d"),
        Spec(f"{_uf.__name__}_reduceat",
             lambda x, uf=_uf: _wsum(np.sin(uf.reduceat(x, [0, 3, 4], axis=1))),
             (normal(3, 6),), id=f"{_uf.__name__}_reduceat-axis1"),
    ]
for _name, _f in _KINDS:
    SPECS += [
        Spec(_name, lambda x, c, f=_f: _wsum(f(x, c) ** 2), (_unit(2, 3), normal(4)),
             wrt=(0, 1), id=f"{_name}-1d"),
        Spec(_name, lambda x, c, f=_f: _wsum(np.sin(f(x, c))), (_unit(3), normal(4, 2)),
             wrt=(0, 1), id=f"{_name}-tensor"),
        Spec(_name, lambda x, c, f=_f: _wsum(f(x, c, tensor=False) ** 2),
             (_unit(3), normal(4, 3)), wrt=(0, 1), id=f"{_name}-broadcast"),
    ]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_spec(spec):
    check_spec(spec)


@pytest.mark.parametrize("name,f", _KINDS)
def test_values_are_numpys(name, f):
    x, c = _unit(7), normal(5)
    v = s2sgrad.value_and_grad(lambda c: np.sum(f(x, c)))(c)[0]
    np.testing.assert_allclose(v, np.sum(f(x, c)), rtol=1e-13, atol=1e-13)
    v0 = s2sgrad.value_and_grad(lambda x: f(x, c) * 1.0)(0.3)[0]     # a Python float x
    np.testing.assert_allclose(v0, f(0.3, c), rtol=1e-13)
