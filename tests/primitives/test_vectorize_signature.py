"""np.vectorize(f, signature=...): the generalized-ufunc form, f called once
per loop index on the operands' core slices (broadcast loop dimensions),
against NumPy's values and finite differences."""
import numpy as np
import pytest

import s2sgrad
import s2sgrad.runtime as rt

from .spec import Spec, check_spec, normal, pos


def _dot(a, b):
    return np.sum(a * b)


MATVEC = np.vectorize(lambda A, v: A @ v, signature="(m,n),(n)->(m)")
LOOP = (2, 3)


def _inner(x, y):
    # y's loop dimensions broadcast against x's
    return np.sum(np.vectorize(_dot, signature="(n),(n)->()")(x, y) ** 2)


def _matvec(X, v):
    # a vectorize object made outside the function
    return np.sum(MATVEC(X, v) ** 2)


def _normalize(x):
    # a core output, x used again outside
    return np.sum(np.vectorize(lambda r: r / np.sum(r), signature="(n)->(n)")(x) * x)


def _scalars(x):
    # scalar core dimensions and a Python scalar operand
    return np.sum(np.vectorize(lambda r, s: r * s + r ** 2, signature="(),()->()")(x, 2.0))


def _rows_adjoint(g):
    return np.sum(rt.gufunc_rows_adjoint(g, np.ones((1, 4)), LOOP, k=1) ** 2)


SPECS = [
    Spec(("gufunc_rows", "gufunc_assemble"), _inner, (normal(2, 3, 4), normal(4)), wrt=(0, 1),
         id="vectorize-signature-inner"),
    Spec(("gufunc_rows", "gufunc_assemble"), _matvec, (normal(5, 2, 3), normal(1, 3)),
         wrt=(0, 1), id="vectorize-signature-matvec"),
    Spec(("gufunc_rows", "gufunc_assemble"), _normalize, (pos(3, 4),),
         id="vectorize-signature-core-output"),
    Spec(("gufunc_rows", "gufunc_assemble"), _scalars, (normal(3),),
         id="vectorize-signature-scalars"),
    Spec("gufunc_rows_adjoint", _rows_adjoint, (normal(6, 4),), id="gufunc-rows-adjoint"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_vectorize_signature(spec):
    check_spec(spec)


@pytest.mark.parametrize("spec", SPECS[:4], ids=lambda s: s.id)
def test_values_are_numpys(spec):
    v, _ = s2sgrad.value_and_grad(spec.fn, wrt=spec.wrt)(*spec.args)
    assert v == pytest.approx(spec.fn(*spec.args), rel=1e-13)


def _two_outputs(x):
    a, b = np.vectorize(lambda r: (r, r), signature="()->(),()")(x)
    return np.sum(a)


def _bad_core(x, y):
    return np.sum(np.vectorize(_dot, signature="(n),(n)->()")(x, y))


def test_refusals_and_numpys_errors():
    with pytest.raises(s2sgrad.S2SGradError, match="several outputs"):
        s2sgrad.grad(_two_outputs)(normal(3))
    with pytest.raises(ValueError, match="inconsistent size for core dimension"):
        s2sgrad.grad(_bad_core)(normal(2, 3), normal(4))
