"""corpus9, part 5: second order on programs of the corpus -- the
Hessian-vector product (forward over reverse) against central differences
of the gradient (itself checked against differences of the value by the
other corpus9 files), and the full Hessian of the smallest ones against
``hvp`` on the basis vectors.
"""
import copy

import numpy as np
import pytest

from s2sgrad import grad, hessian, hvp
from tests import test_corpus9 as nn
from tests import test_corpus9_idioms as idioms
from tests import test_corpus9_science as sci

# (module, case name, position differentiated)
PICKS = [
    (nn, "focal_loss", 0), (nn, "triplet_loss", 0), (nn, "label_smoothing", 0),
    (nn, "conv1d_same_pad", 0), (nn, "conv2d_loops", 0), (nn, "listnet", 0),
    (nn, "attention_padding_mask", 0), (nn, "mdn", 1),
    (sci, "rosenbrock_loop", 0), (sci, "ackley", 0), (sci, "poisson_glm", 0),
    (sci, "cox_partial", 0), (sci, "soft_dtw", 0), (sci, "sinkhorn_log_while", 0),
    (sci, "heat_equation", 0), (sci, "linear_flow_slogdet", 0), (sci, "volume_render", 0),
    (sci, "kalman_loglik", 1), (sci, "gp_cho_factor", 0), (sci, "ridge_hyper", 0),
    (idioms, "fixed_point_while", 0), (idioms, "power_iteration", 0),
    (idioms, "eigh_smallest", 0), (idioms, "cholesky_tril_indices", 0),
    (nn, "dropout_rng", 0), (nn, "gumbel_softmax", 0), (sci, "nbody_energy", 0),
]


def _case(mod, name, pos):
    f, args, wrt, kwargs = mod.CASES[name]
    if isinstance(args[pos], (dict, list, tuple)) or isinstance(args[pos], float):
        # a pytree or a Python float: take an array argument instead
        pos = next(i for i, a in enumerate(args)
                   if isinstance(a, np.ndarray) and a.dtype.kind == "f")
    return f, args, pos, kwargs


@pytest.mark.parametrize("mod,name,pos", PICKS, ids=[p[1] for p in PICKS])
def test_hvp_against_differences_of_the_gradient(mod, name, pos):
    f, args, pos, kwargs = _case(mod, name, pos)
    rng = np.random.default_rng(5)
    x = np.asarray(args[pos], dtype=np.float64)
    v = rng.normal(size=x.shape)

    def at(xx):
        a = list(copy.deepcopy(args))
        a[pos] = xx
        return a

    g = grad(f, wrt=pos)
    eps = 1e-5
    fd = (g(*at(x + eps * v), **kwargs) - g(*at(x - eps * v), **kwargs)) / (2 * eps)
    hv = hvp(f, wrt=pos)(tuple(at(x.copy())), v, **kwargs)
    scale = max(1.0, np.max(np.abs(fd)))
    np.testing.assert_allclose(hv, fd, rtol=1e-4, atol=1e-5 * scale)


@pytest.mark.parametrize("mod,name", [(sci, "rosenbrock"), (sci, "beale"), (sci, "ackley"),
                                      (nn, "focal_loss"), (sci, "two_link_arm")])
def test_hessian_equals_hvp_columns(mod, name):
    f, args, pos, kwargs = _case(mod, name, 0)
    x = np.asarray(args[pos], dtype=np.float64)
    H = hessian(f, wrt=pos)(*args, **kwargs)
    cols = []
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = 1.0
        cols.append(hvp(f, wrt=pos)(tuple(args), e.reshape(x.shape), **kwargs).ravel())
    np.testing.assert_allclose(H.reshape(x.size, x.size), np.stack(cols, axis=1), rtol=1e-10,
                               atol=1e-10)
    np.testing.assert_allclose(H.reshape(x.size, x.size), H.reshape(x.size, x.size).T,
                               rtol=1e-8, atol=1e-10)
