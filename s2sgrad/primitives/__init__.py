"""The primitive table.  Rule modules are imported here, in a fixed order,
and nowhere else; ``core.REGISTRY`` is complete once this package is imported."""
from . import core
from . import elementwise       # noqa: F401  arithmetic, exp/log, trig, kinks, comparisons
from . import special           # noqa: F401  hypot, sinc, arcsinh, nan_to_num, ... (more ufuncs)
from . import runtime_prims     # noqa: F401  unbroadcast, unreduce, ... (helpers rules emit)
from . import structural        # noqa: F401  tuples, globals, metadata, casts
from . import indexing          # noqa: F401  x[...] and its scatter-add adjoint
from . import mutation          # noqa: F401  y[idx] = v
from . import lists             # noqa: F401  runtime lists: append, stack, pop
from . import reductions        # noqa: F401  sum, mean, max, ...
from . import shape_ops         # noqa: F401  reshape, transpose, stack, concatenate, ...
from . import creation          # noqa: F401  zeros, arange, argmax, ... (data, not differentiated)
from . import control           # noqa: F401  cond, loops, stacks (structured control flow)
from . import linalg            # noqa: F401  matmul, dot, einsum, np.linalg
from . import complex           # noqa: F401  conj, real, imag, angle (and complex helpers)
from . import fft               # noqa: F401  np.fft
from . import decompositions    # noqa: F401  cholesky, eigh, svd, qr, pinv, lstsq, eig, ...
from . import axis_concat       # noqa: F401  np.r_ / np.c_ items
from . import random            # noqa: F401  np.random draws, Generator/RandomState methods
from . import assembly          # noqa: F401  pad, tile, repeat, take, meshgrid, linspace, ...
from . import statistics        # noqa: F401  cumprod, diff, quantiles, cov, nan*, kron, convolve
from . import data              # noqa: F401  any, nonzero, unique, searchsorted, bincount, ...
from . import interpolation   # noqa: F401  np.interp
from . import array_api         # noqa: F401  np.linalg.vecdot, vector_norm, cumulative_sum, ...
from . import extras            # noqa: F401  np.block, np.i0, poly*, unwrap, unstack
from . import buffers           # noqa: F401  empty_like, ascontiguousarray, asanyarray, ...
from . import polynomials       # noqa: F401  np.polymul
from . import functional        # noqa: F401  helpers of np.apply_over_axes, ...
from . import more_numpy        # noqa: F401  matvec, vecmat, compress, windows, round()
from . import user_rules        # noqa: F401  the run-time check of user rules' results

# SciPy's rules (scipy_special, scipy_stats) are imported on demand, once the
# program has imported SciPy (core.OPTIONAL_RULES, core.lookup_object).

REGISTRY = core.REGISTRY
