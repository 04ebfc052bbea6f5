"""Runtime helpers of the complex-number, FFT and matrix-decomposition rules.

Part of :mod:`s2sgrad.runtime` (which re-exports every name in ``__all__``),
kept in a file of its own because it is long.  Plain NumPy; SciPy is
imported inside the few helpers that call it, so it is needed only when a
user's function uses SciPy.  Each helper is a primitive with its own rules
(``primitives/complex.py``, ``fft.py``, ``decompositions.py``,
``scipy_linalg.py``), so generated code that calls it can be
differentiated again.
"""
from __future__ import annotations

import numpy as np

__all__ = ["real_if_complex", "conj_if_complex"]


# ---------------------------------------------------------------- complex numbers


def real_if_complex(x):
    """The real part of a complex ``x``; a real ``x`` itself.  (The cotangent
    of a real value is real: an imaginary part pairs with no direction.)"""
    return np.real(x) if np.iscomplexobj(x) else x


def conj_if_complex(x):
    """The complex conjugate of a complex ``x``; a real ``x`` itself (no copy)."""
    return np.conjugate(x) if np.iscomplexobj(x) else x
