"""Matrix decompositions and friends in np.linalg: cholesky, eigh, eigvalsh,
svd, qr, pinv, lstsq, eig, eigvals; matrix_rank as data; matrix_power and
multi_dot as composites (expanded into matmul and inv when lowered).

Every rule is matrix calculus written with other primitives (matmul,
solve, einsum, ...), so it works on stacks of matrices where NumPy does and
can be differentiated again.  Real or complex matrices (complex ones with
JAX's conventions: Hermitian for cholesky/eigh/eigvalsh, the eigenvectors'
and QR's phases as LAPACK fixes them or, for eigh, as JAX does).

Conventions (README, "Linear algebra"):

* What NumPy reads is what is differentiated.  ``cholesky``, ``eigh`` and
  ``eigvalsh`` read one triangle of the input (the lower one; the upper one
  for ``upper=True`` / ``UPLO='U'``), so the derivative is that of the
  symmetric matrix built from it: the gradient is triangular, with the
  off-diagonal sensitivity on the triangle read.  For an input built
  symmetric (``A = X @ X.T``) every upstream gradient is the same as with
  a symmetrised rule (JAX, autograd).
* Repeated eigenvalues (eigh, eig) and singular values (svd), exactly or
  numerically (a gap ``<= sqrt(eps) max|w|``: LAPACK splits an exact tie by
  a few eps): the eigenvectors (singular vectors) are not unique there and
  ``1 / (w_j - w_i)`` is infinite or rounding noise.  A function that does
  not depend on the basis chosen within the cluster (a projector onto the
  eigenspace, a function of the cluster's span) has a zero coupling for the
  pair, whose term is then exactly 0: its derivative is finite and right.
  Where the coupling is not zero to rounding (the function depends on
  LAPACK's arbitrary basis: no derivative), or the function also reads the
  tied values (a matrix function ``V g(w) V^T``: its derivative needs g',
  which the eigenvectors cannot give), the term is NaN, as in JAX (never a
  finite wrong number).  Forward mode sees only the direction: NaN unless
  it does not mix the pair.  Through the eigenvalues only (``eigvalsh``,
  ``eigh(a)[0]`` alone, ``svd(a, compute_uv=False)``) the gradient
  ``V diag(w_bar) V^T`` is finite: exact for functions symmetric in the
  repeated values (sum, sum of squares, log det), one of the one-sided
  derivatives otherwise.  A singular value that is zero up to rounding
  (``<= sqrt(eps) max(s)``) is treated alike where ``1 / s`` appears: 0 when
  the function does not read its singular vectors beyond rounding (``U U^T``
  of a square U, the range part ``U[:, :r]``), NaN when it does.
* ``svd(full_matrices=True)``, ``qr(mode='complete')``: the columns beyond
  the first ``min(m, n)`` are any orthonormal completion (not unique): the
  gradient flows through the thin part only; the extra columns' tangent is
  0 and their cotangent is ignored.  ``svd(hermitian=True)`` and
  ``qr(mode='raw')`` are refused.
* ``eig``: eigenvectors come normalised as LAPACK makes them (unit norm,
  largest component real); the tangent keeps that normalisation, so it
  matches finite differences of NumPy's own eigenvectors (ties for the
  largest component excepted).
* ``qr`` needs the leading ``min(m, n)`` columns to be linearly
  independent; ``pinv``/``lstsq`` differentiate where the rank is locally
  constant (the pseudo-inverse jumps where it changes); lstsq's residuals
  are differentiated by the envelope theorem (exact at the minimiser), its
  rank is data, its singular values are svd's.
"""
from __future__ import annotations

import numpy as np

from .. import runtime
from ..errors import S2SGradError
from ..ir import Const
from .core import defprim, needs_static, numpy_result, shape_fresh, shape_of

# ---------------------------------------------------------------- small helpers


def _T(em, x):
    return em.swapaxes(x, axis1=-1, axis2=-2)


def _mm(em, a, b):
    return em.matmul(a, b)


def _len(em, x, axis=-1):
    return em.call("getitem", em.shape(x), _params={"index": axis})


def _dtype(em, x):
    return em.call("result_type", x, _params={"spelling": ("attr", "dtype")})


def _diagonal(em, x):
    return em.einsum("...ii->...i", x)


def _diag_embed(em, v):
    """A stack of diagonal matrices with diagonal ``v``."""
    return em.multiply(em.expand_dims(v, axis=-1), em.eye(_len(em, v), dtype=_dtype(em, v)))


def _cols(em, m, v):
    """``m @ diag(v)``: column j scaled by v_j."""
    return em.multiply(m, em.expand_dims(v, axis=-2))


def _rows(em, v, m):
    """``diag(v) @ m``: row i scaled by v_i."""
    return em.multiply(em.expand_dims(v, axis=-1), m)


defprim("tie_mask", runtime.tie_mask, sig="w, c, scale, wbar=0.0, /, kind='diff'",
        pyname="tie_mask", nondiff=True, shape=lambda args, kwargs: shape_of(args[1]),
        doc="runtime helper: the multiplier of the pair terms 1 / (w_j - w_i) of the "
            "eigen/singular-vector rules: 1, or at a (numerical) tie 0 where the coupling "
            "is zero to rounding and NaN where it is not; data.")


def _pair_F(em, w, c, scale, wbar=None, kind="diff"):
    """F_ij = 1 / (w_j - w_i) (kind 'diff') or 1 / (w_j + w_i) (kind 'sum'),
    0 on the diagonal, with the ties decided by ``tie_mask`` for the coupling
    ``c`` that F multiplies: 0 where the tied pair's coupling is zero to
    rounding (a function invariant under rotations within the cluster), NaN
    where it is not (no derivative), never 1 / (a rounding-level gap).  The
    mask is data, so F's derivative in w is that of 1 / (w_j -+ w_i) on the
    pairs kept and 0 on the others (second order)."""
    kw = {"kind": kind} if kind != "diff" else {}
    m = em.tie_mask(w, c, scale, wbar, **kw) if wbar is not None else em.tie_mask(w, c, scale, **kw)
    wi, wj = em.expand_dims(w, axis=-1), em.expand_dims(w, axis=-2)
    d = em.add(wj, wi) if kind == "sum" else em.subtract(wj, wi)
    return em.multiply(em.divide(1, em.where(em.equal(m, 1), d, 1)), m)


defprim("small_mask", runtime.small_mask, sig="s, scale, scale2, /, *couplings",
        pyname="small_mask", nondiff=True, shape=lambda args, kwargs: shape_of(args[0]),
        doc="runtime helper: the multiplier of 1 / s_i in svd's rules: 1, or for a "
            "singular value zero up to rounding 0 where its couplings are zero to "
            "rounding and NaN where they are not; data.")


def _sinv(em, s, scale, scale2, *couplings):
    """1 / s_i, with a singular value that is zero up to rounding decided by
    ``small_mask`` (0 where the function does not read its singular vectors
    beyond rounding, NaN where it does: no derivative) rather than 1 / (a
    rounding-level number).  Data mask: second order sees 1 / s on the kept
    entries."""
    m = em.small_mask(s, scale, scale2, *couplings)
    return em.multiply(em.divide(1, em.where(em.equal(m, 1), s, 1)), m)


def _sym_from_lower(em, d):
    """P(d) + P(d)^H with P = tril_part(., 0.5): the symmetric (Hermitian)
    matrix NumPy reads from the lower triangle, tril(d, -1) + tril(d, -1)^H +
    Re diag(d) (LAPACK ignores the imaginary part of a Hermitian matrix's
    diagonal; for real d this is tril(d) + tril(d, -1)^T, exactly)."""
    half = em.tril_part(d, diag=0.5)
    return em.add(half, _H(em, half))


def _lower_from_sym(em, m):
    """The transpose of ``_sym_from_lower`` under <a, b> = Re sum(a * b):
    P(m) + P(m^H)."""
    return em.add(em.tril_part(m, diag=0.5), em.tril_part(_H(em, m), diag=0.5))


def _read_tangent(em, da, upper):
    """The tangent of the symmetric (Hermitian) matrix read from one triangle
    of ``a`` (the upper one: the lower one of a^H)."""
    return _sym_from_lower(em, _H(em, da) if upper else da)


def _read_cotangent(em, m, upper):
    """The cotangent of ``a`` given that of the matrix read from it (the
    conjugate transpose is its own transpose under that pairing)."""
    return _H(em, _lower_from_sym(em, m)) if upper else _lower_from_sym(em, m)


def _cj(em, x):
    """conj(x) for complex x, x itself for real x (dropped by specialisation).
    The rules below are written for the standard (conjugate) cotangent and
    convert from and to s2sgrad's (README, "Complex numbers") with it."""
    return None if x is None else em.conj_if_complex(x)


def _flag(v, default=False):
    if v is None:
        return default
    if isinstance(v, Const):
        return v.value
    needs_static(v)
    raise S2SGradError("this option must be a constant known when the gradient is compiled")


def _add(em, a, b):
    return em.add_ct(a, b)


# ---------------------------------------------------------------- complement_guard / _nan
# (runtime helpers of the full SVD's rules; identities where they do not
# refuse or give NaN, so their rules pass cotangents and tangents through;
# ``s`` is read only for its length: derivative 0)
defprim("complement_guard", runtime.complement_guard, sig="ct, s, /, axis=-1, what=''",
        pyname="complement_guard",
        vjp=lambda em, h, out, ct, s, **kw: [h, None],
        # the tangent of a checked-zero cotangent must be zero too (a second
        # derivative through the arbitrary complement basis is refused alike)
        jvp=lambda em, dots, out, ct, s, **kw: None if dots[0] is None else em.call(
            "complement_guard", dots[0], s, **kw),
        shape=lambda args, kwargs: shape_of(args[0]),
        doc="runtime helper: a full factor's complement cotangent, refused when the "
            "complement has more than one column and the cotangent is nonzero.")
defprim("complement_mask", runtime.complement_mask, sig="f, s, /, axis=-1",
        pyname="complement_mask",
        vjp=lambda em, h, out, f, s, **kw: [em.call("complement_mask", h, s, **kw), None],
        jvp=lambda em, dots, out, f, s, **kw: None if dots[0] is None else em.call(
            "complement_mask", dots[0], s, **kw),
        shape=lambda args, kwargs: shape_of(args[0]),
        doc="runtime helper: a full factor with its complement zeroed when that has more "
            "than one column (where it meets a cotangent complement_guard checked is 0).")
defprim("complement_nan", runtime.complement_nan, sig="t, s, /, axis=-1",
        pyname="complement_nan",
        vjp=lambda em, h, out, t, s, **kw: [h, None],
        jvp=lambda em, dots, out, t, s, **kw: dots[0],
        shape=lambda args, kwargs: shape_of(args[0]),
        doc="runtime helper: a full factor's complement tangent, NaN when the "
            "complement has more than one column.")


# ---------------------------------------------------------------- tril_part, resize_axis

defprim("tril_part", runtime.tril_part, sig="x, /, diag=1.0", pyname="tril_part",
        vjp=lambda em, h, out, x, **kw: [em.tril_part(h, **kw)],
        jvp=lambda em, dots, out, x, **kw: em.tril_part(dots[0], **kw),
        shape=lambda args, kwargs: shape_of(args[0]), linear=True,
        doc="runtime helper: the strict lower triangle plus diag * the diagonal.")


def _resize_vjp(em, h, out, v, like, axis=None, like_axis=None):
    a = -1 if axis is None else axis
    return [em.resize_axis(h, v, axis=a, like_axis=a), None]


defprim("resize_axis", runtime.resize_axis, sig="v, like, /, axis=-1, like_axis=-1",
        pyname="resize_axis", vjp=_resize_vjp,
        jvp=lambda em, dots, out, v, like, **kw: None if dots[0] is None else em.resize_axis(
            dots[0], like, **kw),
        shape=shape_fresh, linear=True,
        doc="runtime helper: crop or zero-pad one axis to another array's length.")


# ---------------------------------------------------------------- cholesky
#
# A = L L^H with L lower (a real positive diagonal); L^-1 dA L^-H = K + K^H
# for K = L^-1 dL lower, so
#   dL = L Phi(L^-1 dA L^-H),  Phi = lower triangle with the diagonal halved;
#   A_bar = L^-H Phi(L^H L_bar) L^-1  (standard cotangents; then onto the
#   triangle read).  Real matrices: ^H is ^T.
# upper=True returns U = L^H from the upper triangle: the same, transposed.


def _real(em, x, what):
    """x, refused at run time if complex (scipy.linalg's rules that are for
    real matrices only use it)."""
    return em.require_real(x, what=what)


def _cholesky_jvp(em, dots, out, a, upper=None):
    up = _flag(upper)
    L = _H(em, out) if up else out
    S = _read_tangent(em, dots[0], up)
    Y = em.solve(L, S)                                   # L^-1 S
    X = _H(em, em.solve(L, _H(em, Y)))                   # L^-1 S L^-H
    dL = _mm(em, L, em.tril_part(X, diag=0.5))
    return _H(em, dL) if up else dL


def _cholesky_vjp(em, g, out, a, upper=None):
    up = _flag(upper)
    L = _H(em, out) if up else out
    Lbar = _cj(em, _H(em, g) if up else g)              # the standard cotangent
    P = em.tril_part(_mm(em, _H(em, L), Lbar), diag=0.5)
    Q = em.solve(_H(em, L), P)                           # L^-H P
    M = _H(em, em.solve(_H(em, L), _H(em, Q)))           # L^-H P L^-1
    return [_read_cotangent(em, _cj(em, M), up)]


defprim("cholesky", np.linalg.cholesky, sig="a, /, *, upper=False",
        pyname="np.linalg.cholesky", vjp=_cholesky_vjp, jvp=_cholesky_jvp,
        shape=lambda args, kwargs: shape_of(args[0]),
        doc="np.linalg.cholesky: dL = L Phi(L^-1 dA L^-H) of the triangle NumPy reads "
            "(real or complex Hermitian).")


# ---------------------------------------------------------------- eigh, eigvalsh
#
# A = V diag(w) V^H:  C = V^H dA V,  dw = Re diag(C),  dV = V (F o C),
# F_ij = 1 / (w_j - w_i);  A_bar = V (diag(w_bar) + F o (V^H V_bar)) V^H
# (standard cotangents).  For a complex Hermitian A each eigenvector's phase
# is free; as in JAX, the tangent has no component along the phase
# (Im diag(V^H dV) = 0), so only phase-invariant functions of V (|V|,
# V diag(c) V^H, ...) match finite differences of NumPy's vectors.


def _uplo_upper(UPLO):
    u = _flag(UPLO, "L")
    if u not in ("L", "U", "l", "u"):
        raise S2SGradError(f"np.linalg.eigh: UPLO must be 'L' or 'U', not {u!r}")
    return u in ("U", "u")


def _eigh_jvp(em, dots, out, a, UPLO=None):
    w, V = out
    S = _read_tangent(em, dots[0], _uplo_upper(UPLO))
    C = _mm(em, _H(em, V), _mm(em, S, V))
    return em.real_if_complex(_diagonal(em, C)), _mm(em, V, em.multiply(_pair_F(em, w, C, C), C))


def _eigh_vjp(em, g, out, a, UPLO=None, strict=False):
    (w, V), (wbar, Vbar) = out, g
    inner = None
    if wbar is not None:
        wbar = em.real_if_complex(wbar)
        inner = _diag_embed(em, wbar)
    if Vbar is not None:
        # only the antisymmetric part G - G^H of the coupling survives the
        # symmetric read: it decides the ties
        G = _mm(em, _H(em, V), _cj(em, Vbar))
        F = _pair_F(em, w, em.subtract(G, _H(em, G)), 0.0 if strict else G, wbar)
        inner = _add(em, inner, em.multiply(F, G))
    if inner is None:
        return [None]
    M = _mm(em, V, _mm(em, inner, _H(em, V)))
    return [_read_cotangent(em, _cj(em, M), _uplo_upper(UPLO))]


def _uplo_kw(UPLO):
    return {} if UPLO is None else {"UPLO": UPLO}


defprim("eigh", np.linalg.eigh, sig="a, /, UPLO='L'", pyname="np.linalg.eigh",
        vjp=_eigh_vjp, jvp=_eigh_jvp, nouts=2, out_fields=("eigenvalues", "eigenvectors"),
        out_type=numpy_result("linalg.eigh"),
        shape=lambda args, kwargs: (shape_fresh(args, kwargs), shape_of(args[0])),
        doc="np.linalg.eigh: dw = Re diag(V^H dA V), dV = V (F o V^H dA V) (real or "
            "complex Hermitian); (numerically) repeated eigenvalues: 0 or NaN (README).")

# The eigenvectors a rule recomputes (eigvalsh's V diag(g) V^H, eigvals', a
# norm's or lstsq's singular vectors) feed matrix-function-like products
# whose factor g (a cotangent) depends on the eigenvalues through another
# node: differentiated again in reverse mode, the coupling of a tie is
# rounding-level although the term's limit (a divided difference of g) is
# not 0, and no w_bar of theirs says so (the Hessian of sum(eigvalsh(A) ** 2)
# by nested grad was 3.24 for 4 at a near tie).  These twins keep a tie's
# term 0 only where its coupling is exactly 0, NaN otherwise.
def _eigh_inner(a, UPLO="L"):
    return np.linalg.eigh(a, UPLO)


def _svd_inner(a, full_matrices=True, compute_uv=True, hermitian=False):
    return np.linalg.svd(a, full_matrices, compute_uv, hermitian)


def _eig_inner(a):
    return np.linalg.eig(a)


defprim("eigh_inner", _eigh_inner, sig="a, /, UPLO='L'", pyname="np.linalg.eigh",
        vjp=lambda em, g, out, a, **kw: _eigh_vjp(em, g, out, a, strict=True, **kw),
        jvp=_eigh_jvp, nouts=2,
        shape=lambda args, kwargs: (shape_fresh(args, kwargs), shape_of(args[0])),
        doc="np.linalg.eigh recomputed inside a rule: ties strict in reverse mode.")


def _eigvalsh_jvp(em, dots, out, a, UPLO=None):
    _, V = em.call("eigh_inner", a, **_uplo_kw(UPLO))
    S = _read_tangent(em, dots[0], _uplo_upper(UPLO))
    return em.real_if_complex(em.einsum("...ji,...jk,...ki->...i", _cj(em, V), S, V))


def _eigvalsh_vjp(em, g, out, a, UPLO=None):
    _, V = em.call("eigh_inner", a, **_uplo_kw(UPLO))
    M = _mm(em, _cols(em, V, em.real_if_complex(g)), _H(em, V))
    return [_read_cotangent(em, _cj(em, M), _uplo_upper(UPLO))]


defprim("eigvalsh", np.linalg.eigvalsh, sig="a, /, UPLO='L'", pyname="np.linalg.eigvalsh",
        vjp=_eigvalsh_vjp, jvp=_eigvalsh_jvp, shape=shape_fresh,
        doc="np.linalg.eigvalsh: A_bar = V diag(w_bar) V^H (eigenvectors from eigh).")


# ---------------------------------------------------------------- svd
#
# Thin A = U diag(s) V^H (k = min(m, n)), dP = U^H dA V:
#   ds = Re diag(dP)
#   dU = U (F o (dP S + S dP^H) + diag(i Im dP_ii / s_i)) + (I - U U^H) dA V S^-1
#   dV = V (F o (S dP + dP^H S)) + (I - V V^H) dA^H U S^-1,  F_ij = 1 / (s_j^2 - s_i^2)
# full_matrices=True: the columns of U (rows of V^H) past k span the
# complement of the thin part; their derivative is taken in the gauge
# U_perp^H dU_perp = 0 (no rotation within the complement):
#   dU_perp = -U S^-1 V^H dA^H U_perp,   dV_perp = -V S^-1 U^H dA V_perp,
# exact when the complement has dimension 1 (a null vector, up to its sign).
# A larger complement's basis is LAPACK's choice, with no derivative to
# match: a nonzero cotangent there is refused at run time (complement_guard)
# and the forward tangent there is NaN (complement_nan).  (Before session 21
# these columns' derivatives were silently 0.)
# (for complex A the phase of each pair (u_i, v_i) is free: the diagonal term
# fixes it as LAPACK does not, so only phase-invariant functions -- |U|, s,
# U diag(s) V^H -- match finite differences of NumPy's vectors; for real A
# it is 0).  The transpose, with the conjugate (standard) cotangents
# Ub = conj(U_bar), Vb = conj(V_bar):
#   A_b = U [diag(s_bar) + (J_U + J_U^H) S + S (J_V + J_V^H) + diag(i Im (U^H Ub)_ii / s_i)] V^H
#         + (I - U U^H) Ub S^-1 V^H + U S^-1 Vb^H (I - V V^H),
#   J_U = F o (U^H Ub),  J_V = F o (V^H Vb),
# and s2sgrad's cotangent of A is conj(A_b) (README, "Complex numbers").
# conj_if_complex is the identity on real values (and dropped by shape
# specialisation), so real matrices pay nothing for it.


def _H(em, x):
    """The conjugate transpose of (a stack of) matrices."""
    return em.conj_if_complex(_T(em, x))


def _phase_diag(em, d, sinv):
    """diag(i Im(d) / s) as (d - conj(d)) / (2 s): exactly 0 for real d."""
    return _diag_embed(em, em.multiply(em.subtract(d, em.conj_if_complex(d)),
                                       em.multiply(sinv, 0.5)))


def _svd_opts(full_matrices=None, compute_uv=None, hermitian=None):
    if _flag(hermitian):
        raise S2SGradError("np.linalg.svd(..., hermitian=True) is not differentiated; use "
                           "hermitian=False (the same singular values) or np.linalg.eigh")
    return _flag(full_matrices, True), _flag(compute_uv, True)


def _svd_thin(em, a, out, full, uv):
    """(U, s, Vh) of the thin SVD: cropped from a full one, or computed."""
    if not uv:
        U, s, Vh = em.call("svd_inner", a, full_matrices=False)
    else:
        U, s, Vh = out
        if full:
            U = em.resize_axis(U, s, axis=-1, like_axis=-1)
            Vh = em.resize_axis(Vh, s, axis=-2, like_axis=-1)
    return U, s, Vh


def _svd_jvp(em, dots, out, a, **kw):
    full, uv = _svd_opts(**kw)
    U, s, Vh = _svd_thin(em, a, out, full, uv)
    dA = dots[0]
    V = _H(em, Vh)
    dAV = _mm(em, dA, V)
    dP = _mm(em, _H(em, U), dAV)
    dp = _diagonal(em, dP)
    ds = em.real_if_complex(dp)
    if not uv:
        return ds
    # F o (dP S + S dP^H) = (Fm o Sym + Fp o Anti) / 2 and F o (S dP + dP^H S) =
    # (Fm o Sym - Fp o Anti) / 2, F = 1 / (s_j^2 - s_i^2), Fm = 1 / (s_j - s_i),
    # Fp = 1 / (s_j + s_i), Sym/Anti = dP +- dP^H: a tie of s_i, s_j only
    # touches the Sym term (a pair of zeros the Anti one too)
    dPh = _H(em, dP)
    compU = em.subtract(dAV, _mm(em, U, dP))               # (I - U U^H) dA V
    dAhU = _mm(em, _H(em, dA), U)
    compV = em.subtract(dAhU, _mm(em, V, dPh))             # (I - V V^H) dA^H U
    phase = em.expand_dims(em.subtract(dp, em.conj_if_complex(dp)), axis=-2)
    sinv = _sinv(em, s, dAV, dAhU, compU, compV, phase)
    Sym, Anti = em.add(dP, dPh), em.subtract(dP, dPh)
    hm = em.multiply(em.multiply(_pair_F(em, s, Sym, dP), Sym), 0.5)
    hp = em.multiply(em.multiply(_pair_F(em, s, Anti, dP, kind="sum"), Anti), 0.5)
    inner = em.add(em.add(hm, hp), _phase_diag(em, dp, sinv))
    dU = em.add(_mm(em, U, inner), _cols(em, compU, sinv))
    dV = em.add(_mm(em, V, em.subtract(hm, hp)), _cols(em, compV, sinv))
    dVh = _H(em, dV)
    if full:
        Uf, Vhf = out[0], out[2]
        dU = em.resize_axis(dU, Uf, axis=-1, like_axis=-1)
        dVh = em.resize_axis(dVh, Vhf, axis=-2, like_axis=-2)
        # the complement: dU_perp = -U S^-1 V^H dA^H U_perp, dVh_perp =
        # -V_perp^H dA^H U S^-1 V^H (the columns/rows past k of the products
        # with the full factors)
        Us = _cols(em, U, sinv)
        dU = em.add(dU, em.complement_nan(_past_k(em, em.negative(
            _mm(em, Us, _mm(em, _H(em, dAV), Uf))), s, -1), s, axis=-1))
        dVh = em.add(dVh, em.complement_nan(_past_k(em, em.negative(_mm(em, Vhf, _mm(
            em, _H(em, dA), _mm(em, Us, Vh)))), s, -2), s, axis=-2))
    return dU, ds, dVh


def _svd_vjp(em, g, out, a, strict=False, **kw):
    full, uv = _svd_opts(**kw)
    U, s, Vh = _svd_thin(em, a, out, full, uv)
    if not uv:
        return [em.conj_if_complex(_mm(em, _cols(em, U, em.real_if_complex(g)), Vh))]
    Ubar, sbar, Vhbar = g
    Ub_p = Vhb_p = None
    if full:
        # the complement (see _svd_jvp): A_b -= U_perp Ub_perp^H U S^-1 V^H
        # + U S^-1 V^H Vb_perp V_perp^H (standard cotangents)
        if Ubar is not None:
            Ub_p = em.complement_guard(_past_k(em, em.conj_if_complex(Ubar), s, -1), s,
                                       axis=-1, what="np.linalg.svd(full_matrices=True)'s U")
        if Vhbar is not None:
            Vhb_p = em.complement_guard(_past_k(em, em.conj_if_complex(Vhbar), s, -2), s,
                                        axis=-2, what="np.linalg.svd(full_matrices=True)'s Vh")
        Ubar = None if Ubar is None else em.resize_axis(Ubar, s, axis=-1, like_axis=-1)
        Vhbar = None if Vhbar is None else em.resize_axis(Vhbar, s, axis=-2, like_axis=-1)
    if sbar is not None:
        sbar = em.real_if_complex(sbar)
    inner = None if sbar is None else _diag_embed(em, sbar)
    extra = None
    Uh = _H(em, U)
    # the pair terms: with aU = GU - GU^H, aV = GV - GV^H (GU = U^H Ub, GV =
    # V^H Vb), F o (aU S + S aV) = (Fm o (aU + aV) + Fp o (aU - aV)) / 2,
    # F = 1 / (s_j^2 - s_i^2), Fm = 1 / (s_j - s_i), Fp = 1 / (s_j + s_i): a
    # tie of s_i, s_j needs aU + aV (a rotation of both bases) to vanish, a
    # pair of zeros also aU - aV.  The terms with 1 / s_i read column i of
    # their couplings (compU, compV, the phase, the complement's): a
    # singular value zero up to rounding is decided on them (_sinv).
    aU = aV = scale = Ub = Vb = UhUb = compU = compV = None
    couplings = []
    if Ubar is not None:
        Ub = em.conj_if_complex(Ubar)
        UhUb = _mm(em, Uh, Ub)
        aU, scale = em.subtract(UhUb, _H(em, UhUb)), em.absolute(UhUb)
        compU = em.subtract(Ub, _mm(em, U, UhUb))
        d = _diagonal(em, UhUb)
        couplings += [compU, em.expand_dims(em.subtract(d, em.conj_if_complex(d)), axis=-2)]
    if Vhbar is not None:
        Vb, V = _H(em, em.conj_if_complex(Vhbar)), _H(em, Vh)
        GV = _mm(em, Vh, Vb)
        aV = em.subtract(GV, _H(em, GV))
        scale = _add(em, scale, em.absolute(GV))
        compV = em.subtract(Vb, _mm(em, V, GV))
        couplings.append(compV)
    if Ub_p is not None:
        couplings.append(_mm(em, _H(em, Ub_p), U))
    if Vhb_p is not None:
        couplings.append(_mm(em, Vhb_p, _H(em, Vh)))
    sinv = None
    if couplings:
        sinv = _sinv(em, s, 0.0 if Ub is None or strict else Ub,
                     0.0 if Vb is None or strict else Vb, *couplings)
    perp = None
    if Ub_p is not None:
        Uf = em.call("complement_mask", out[0], s, axis=-1)
        perp = _mm(em, _mm(em, Uf, _H(em, Ub_p)), _mm(em, _cols(em, U, sinv), Vh))
    if Vhb_p is not None:
        Vhf = em.call("complement_mask", out[2], s, axis=-2)
        perp = _add(em, perp, _mm(em, _mm(em, _cols(em, U, sinv), Vh),
                                  _mm(em, _H(em, Vhb_p), Vhf)))
    if Ub is not None:
        inner = _add(em, inner, _phase_diag(em, _diagonal(em, UhUb), sinv))
        extra = _mm(em, _cols(em, compU, sinv), Vh)
    if Vb is not None:
        extra = _add(em, extra, _mm(em, U, _rows(em, sinv, _H(em, compV))))
    if aU is not None or aV is not None:
        plus = aV if aU is None else (aU if aV is None else em.add(aU, aV))
        minus = em.negative(aV) if aU is None else (aU if aV is None else em.subtract(aU, aV))
        if strict:
            scale = 0.0
        pair = em.add(em.multiply(_pair_F(em, s, plus, scale, sbar), plus),
                      em.multiply(_pair_F(em, s, minus, scale, sbar, kind="sum"), minus))
        inner = _add(em, inner, em.multiply(pair, 0.5))
    ct = None if inner is None else _mm(em, U, _mm(em, inner, Vh))
    ct = _add(em, ct, extra)
    if perp is not None:
        ct = em.negative(perp) if ct is None else em.subtract(ct, perp)
    return [None if ct is None else em.conj_if_complex(ct)]


def _past_k(em, m, s, axis, like_axis=-1):
    """``m`` with its first k entries along ``axis`` zeroed, k = the length of
    ``s`` along ``like_axis`` (the columns, or rows, of a full SVD or QR
    factor past the thin part)."""
    thin = em.resize_axis(m, s, axis=axis, like_axis=like_axis)
    return em.subtract(m, em.resize_axis(thin, m, axis=axis, like_axis=axis))


def _svd_nouts(args, kwargs):
    uv = kwargs.get("compute_uv")
    return 1 if isinstance(uv, Const) and not uv.value else 3


defprim("svd", np.linalg.svd, sig="a, /, full_matrices=True, compute_uv=True, hermitian=False",
        pyname="np.linalg.svd", vjp=_svd_vjp, jvp=_svd_jvp, nouts=_svd_nouts,
        out_fields=("U", "S", "Vh"), out_type=numpy_result("linalg.svd"),
        shape=lambda args, kwargs: shape_fresh(args, kwargs) if _svd_nouts(args, kwargs) == 1
        else tuple(shape_fresh(args, kwargs) for _ in range(3)),
        doc="np.linalg.svd: thin-SVD rules (full_matrices: through the thin part); "
            "(numerically) repeated singular values: 0 or NaN (README).")
defprim("svd_inner", _svd_inner,
        sig="a, /, full_matrices=True, compute_uv=True, hermitian=False",
        pyname="np.linalg.svd", vjp=lambda em, g, out, a, **kw: _svd_vjp(em, g, out, a,
                                                                            strict=True, **kw),
        jvp=_svd_jvp, nouts=_svd_nouts,
        shape=lambda args, kwargs: shape_fresh(args, kwargs) if _svd_nouts(args, kwargs) == 1
        else tuple(shape_fresh(args, kwargs) for _ in range(3)),
        doc="np.linalg.svd recomputed inside a rule (eigh_inner's note): ties strict in "
            "reverse mode.")


# ---------------------------------------------------------------- qr
#
# Thin A = Q R (Q: m x k, R: k x n, k = min(m, n)); R1 = the leading k x k block
# of R, dA1 = the leading k columns of dA.  With C = dA1 R1^-1, D = Q^H C and
# Omega = tril(D, -1) - tril(D, -1)^H + i Im diag(D) (skew-Hermitian; the
# diagonal term keeps R's diagonal real, as LAPACK makes it, and is 0 for
# real A):
#   dQ = Q (Omega - D) + C,   dR = Q^H dA - Omega R,
# and the transpose (standard cotangents), with M = Q^H Q_bar - R_bar R^H and
# N = tril(M - M^H, -1) + i Im diag(M):
#   A_bar = Q R_bar + [Q N + (I - Q Q^H) Q_bar] R1^-H   (in the leading k columns).
# mode='complete' of a tall matrix: Q's columns past k, in the gauge
# Q_perp^H dQ_perp = 0, dQ_perp = -Q C^H Q_perp (exact for one such column;
# more are LAPACK's basis: refused / NaN as the full SVD's complement).


def _qr_mode(mode):
    m = _flag(mode, "reduced")
    if m not in ("reduced", "complete", "r"):
        raise S2SGradError(f"np.linalg.qr(mode={m!r}) is not differentiated; use 'reduced', "
                           f"'complete' or 'r'")
    return m


def _qr_core_jvp(em, dA, Q, R):
    R1 = em.resize_axis(R, R, axis=-1, like_axis=-2)
    dA1 = em.resize_axis(dA, R, axis=-1, like_axis=-2)
    C = _H(em, em.solve(_H(em, R1), _H(em, dA1)))
    D = _mm(em, _H(em, Q), C)
    lo = em.tril_part(D, diag=0.0)
    Om = em.add(em.subtract(lo, _H(em, lo)), _imag_diag(em, D))
    dQ = em.add(_mm(em, Q, em.subtract(Om, D)), C)
    dR = em.subtract(_mm(em, _H(em, Q), dA), _mm(em, Om, R))
    return dQ, dR


def _imag_diag(em, m):
    """diag(i Im m_ii) as (d - conj(d)) / 2: exactly 0 for real m."""
    d = _diagonal(em, m)
    return _diag_embed(em, em.multiply(em.subtract(d, em.conj_if_complex(d)), 0.5))


def _qr_core_vjp(em, Qbar, Rbar, a, Q, R):
    Qbar, Rbar = _cj(em, Qbar), _cj(em, Rbar)          # the standard cotangents
    M = None if Qbar is None else _mm(em, _H(em, Q), Qbar)
    if Rbar is not None:
        RRt = _mm(em, Rbar, _H(em, R))
        M = em.negative(RRt) if M is None else em.subtract(M, RRt)
    ct = None if Rbar is None else _mm(em, Q, Rbar)
    if M is None:
        return _cj(em, ct)
    N = em.add(em.tril_part(em.subtract(M, _H(em, M)), diag=0.0), _imag_diag(em, M))
    Cbar = _mm(em, Q, N)
    if Qbar is not None:
        Cbar = em.add(Cbar, em.subtract(Qbar, _mm(em, Q, _mm(em, _H(em, Q), Qbar))))
    R1 = em.resize_axis(R, R, axis=-1, like_axis=-2)
    lead = _H(em, em.solve(R1, _H(em, Cbar)))          # Cbar R1^-H
    return _cj(em, _add(em, ct, em.resize_axis(lead, a, axis=-1, like_axis=-1)))


def _qr_thin(em, a, out, mode):
    Q, R = out if mode == "reduced" else em.qr(a)
    return Q, R


def _qr_jvp(em, dots, out, a, mode=None):
    m = _qr_mode(mode)
    Q, R = _qr_thin(em, a, out, m)
    dQ, dR = _qr_core_jvp(em, dots[0], Q, R)
    if m == "r":
        return dR
    if m == "complete":
        Qf = out[0]
        dQ = em.resize_axis(dQ, Qf, axis=-1, like_axis=-1)
        dR = em.resize_axis(dR, out[1], axis=-2, like_axis=-2)
        # the complement (tall a): dQ_perp = -Q C^H Q_perp, C = dA1 R1^-1
        R1 = em.resize_axis(R, R, axis=-1, like_axis=-2)
        dA1 = em.resize_axis(dots[0], R, axis=-1, like_axis=-2)
        Ch = em.solve(_H(em, R1), _H(em, dA1))
        t = _past_k(em, em.negative(_mm(em, Q, _mm(em, Ch, Qf))), R, -1, like_axis=-2)
        dQ = em.add(dQ, em.complement_nan(t, _diagonal(em, R1), axis=-1))
    return dQ, dR


def _qr_vjp(em, g, out, a, mode=None):
    m = _qr_mode(mode)
    Q, R = _qr_thin(em, a, out, m)
    if m == "r":
        Qbar, Rbar = None, g
    else:
        Qbar, Rbar = g
    perp = None
    if m == "complete":
        if Qbar is not None:
            # the complement (see _qr_jvp): A_b -= Q_perp Qb_perp^H Q R1^-H (standard)
            R1 = em.resize_axis(R, R, axis=-1, like_axis=-2)
            Qb_p = em.complement_guard(_past_k(em, em.conj_if_complex(Qbar), R, -1,
                                               like_axis=-2), _diagonal(em, R1), axis=-1,
                                       what="np.linalg.qr(mode='complete')'s Q")
            Qf = em.call("complement_mask", out[0], _diagonal(em, R1), axis=-1)
            X = _mm(em, _mm(em, Qf, _H(em, Qb_p)), Q)
            perp = em.resize_axis(_H(em, em.solve(R1, _H(em, X))), a, axis=-1, like_axis=-1)
        Qbar = None if Qbar is None else em.resize_axis(Qbar, Q, axis=-1, like_axis=-1)
        Rbar = None if Rbar is None else em.resize_axis(Rbar, R, axis=-2, like_axis=-2)
    ct = _qr_core_vjp(em, Qbar, Rbar, a, Q, R)
    if perp is not None:
        perp = em.conj_if_complex(perp)
        ct = em.negative(perp) if ct is None else em.subtract(ct, perp)
    return [ct]


def _qr_nouts(args, kwargs):
    mode = kwargs.get("mode")
    return 1 if isinstance(mode, Const) and mode.value == "r" else 2


defprim("qr", np.linalg.qr, sig="a, /, mode='reduced'", pyname="np.linalg.qr",
        vjp=_qr_vjp, jvp=_qr_jvp, nouts=_qr_nouts, out_fields=("Q", "R"),
        out_type=numpy_result("linalg.qr",
                              refuse=lambda kw: _flag(kw.get("mode"), "reduced") == "raw"),
        shape=lambda args, kwargs: shape_fresh(args, kwargs) if _qr_nouts(args, kwargs) == 1
        else tuple(shape_fresh(args, kwargs) for _ in range(2)),
        doc="np.linalg.qr: modes 'reduced', 'complete' (through the thin part) and 'r'.")


# ---------------------------------------------------------------- pinv
#
# Where the rank is locally constant (Golub & Pereyra), with P = pinv(A):
#   dP = -P dA P + P P^H dA^H (I - A P) + (I - P A) dA^H P^H P
#   A_bar = -P^H G P^H + (I - A P) G^H P P^H + P^H P G^H (I - P A)
# (standard cotangents; real matrices: ^H is ^T).


def _pinv_tangent(em, P, A, dA):
    dAt = _H(em, dA)
    t1 = em.negative(_mm(em, P, _mm(em, dA, P)))
    X = em.subtract(dAt, _mm(em, _mm(em, dAt, A), P))                 # dA^H (I - A P)
    t2 = _mm(em, _mm(em, P, _H(em, P)), X)
    Y = _mm(em, dAt, _mm(em, _H(em, P), P))                            # dA^H P^H P
    t3 = em.subtract(Y, _mm(em, P, _mm(em, A, Y)))
    return em.add(em.add(t1, t2), t3)


def _pinv_cotangent(em, P, A, G):
    G = _cj(em, G)                                                     # the standard cotangent
    Gt, Pt = _H(em, G), _H(em, P)
    t1 = em.negative(_mm(em, Pt, _mm(em, G, Pt)))
    Y = _mm(em, Gt, _mm(em, P, Pt))                                    # G^H P P^H
    t2 = em.subtract(Y, _mm(em, A, _mm(em, P, Y)))
    Z = _mm(em, _mm(em, Pt, P), Gt)                                    # P^H P G^H
    t3 = em.subtract(Z, _mm(em, _mm(em, Z, P), A))
    return _cj(em, em.add(em.add(t1, t2), t3))


# hermitian=True: NumPy takes the pseudo-inverse of the Hermitian matrix read
# from a's lower triangle (svd(hermitian=True) is eigh), so the derivative is
# that of pinv(sym(a)), sym as for eigh; the upper triangle has derivative 0.


def _pinv_vjp(em, g, out, a, hermitian=None, **kw):
    if not _flag(hermitian):
        return [_pinv_cotangent(em, out, a, g)]
    return [_read_cotangent(em, _pinv_cotangent(em, out, _sym_from_lower(em, a), g), False)]


def _pinv_jvp(em, dots, out, a, hermitian=None, **kw):
    if not _flag(hermitian):
        return _pinv_tangent(em, out, a, dots[0])
    return _pinv_tangent(em, out, _sym_from_lower(em, a), _read_tangent(em, dots[0], False))


defprim("pinv", np.linalg.pinv, sig="a, /, rcond=None, hermitian=False, *, rtol=None",
        pyname="np.linalg.pinv", vjp=_pinv_vjp, jvp=_pinv_jvp,
        shape=shape_fresh,
        doc="np.linalg.pinv: the Golub-Pereyra derivative (rank locally constant).")


# ---------------------------------------------------------------- lstsq
#
# x = pinv(A) b (the minimum-norm least-squares solution), so x's rules are
# pinv's and matmul's.  residuals = sum(|b - A x|^2, axis=0) when A has full
# column rank and more rows than columns (else an empty array): at the
# minimiser A^H r = 0, so d residuals = 2 Re sum(conj(r) (db - dA x), axis=0).
# rank is data; sv are the singular values of A (svd's rule).


def _lstsq_pinv(em, a, rcond):
    P = em.pinv(a) if rcond is None or (isinstance(rcond, Const) and rcond.value is None) \
        else em.pinv(a, rcond=rcond)
    return P


def _lstsq_jvp(em, dots, out, a, b, rcond=None):
    x, res, _, _ = out
    da, db = dots
    P = _lstsq_pinv(em, a, rcond)
    dx = None if db is None else _mm(em, P, db)
    dres = None if db is None else em.multiply(db, 2.0)
    dsv = None
    if da is not None:
        dx = _add(em, dx, _mm(em, _pinv_tangent(em, P, a, da), b))
        dres = _add(em, dres, em.multiply(_mm(em, da, x), -2.0))
        U, _, Vh = em.call("svd_inner", a, full_matrices=False)
        dsv = em.real_if_complex(em.einsum("...ji,...jk,...ik->...i", _cj(em, U), da,
                                           _cj(em, Vh)))
    r = _cj(em, em.subtract(b, _mm(em, a, x)))
    return dx, em.real_if_complex(em.lstsq_res_t(dres, r, res)), None, dsv


def _lstsq_vjp(em, g, out, a, b, rcond=None):
    x, res, _, _ = out
    xbar, resbar, _, svbar = g
    abar = bbar = None
    if xbar is not None:
        P = _lstsq_pinv(em, a, rcond)
        bbar = em.matmul_vjp_b(xbar, P, b)
        abar = _pinv_cotangent(em, P, a, em.matmul_vjp_a(xbar, P, b))
    if resbar is not None:
        r = _cj(em, em.subtract(b, _mm(em, a, x)))
        w = em.multiply(em.lstsq_res_ct(em.real_if_complex(resbar), r), 2.0)
        bbar = _add(em, bbar, w)
        abar = _add(em, abar, em.negative(em.matmul_vjp_a(w, a, x)))
    if svbar is not None:
        U, _, Vh = em.call("svd_inner", a, full_matrices=False)
        abar = _add(em, abar, _cj(em, _mm(em, _cols(em, U, em.real_if_complex(svbar)), Vh)))
    return [abar, bbar]


defprim("lstsq", np.linalg.lstsq, sig="a, b, /, rcond=None", pyname="np.linalg.lstsq",
        vjp=_lstsq_vjp, jvp=_lstsq_jvp, nouts=4,
        shape=lambda args, kwargs: tuple(shape_fresh(args, kwargs) for _ in range(4)),
        doc="np.linalg.lstsq: (x, residuals, rank, sv); x through pinv, residuals by the "
            "envelope theorem, rank as data.")


def _res_ct_vjp(em, h, out, g, r):
    return [em.lstsq_res_t(h, r, g), em.lstsq_res_ct(g, h)]


def _res_ct_jvp(em, dots, out, g, r):
    dg, dr = dots
    t = None if dg is None else em.lstsq_res_ct(dg, r)
    return _add(em, t, None if dr is None else em.lstsq_res_ct(g, dr))


def _res_t_vjp(em, k, out, h, r, like):
    return [em.lstsq_res_ct(k, r), em.lstsq_res_ct(k, h), None]


def _res_t_jvp(em, dots, out, h, r, like):
    dh, dr, _ = dots
    t = None if dh is None else em.lstsq_res_t(dh, r, like)
    return _add(em, t, None if dr is None else em.lstsq_res_t(h, dr, like))


defprim("lstsq_res_ct", runtime.lstsq_res_ct, sig="g, r, /", pyname="lstsq_res_ct",
        vjp=_res_ct_vjp, jvp=_res_ct_jvp, shape=lambda args, kwargs: shape_of(args[1]),
        doc="runtime helper: r * g for lstsq's residual cotangent g (0 if it is empty).")
defprim("lstsq_res_t", runtime.lstsq_res_t, sig="h, r, like, /", pyname="lstsq_res_t",
        vjp=_res_t_vjp, jvp=_res_t_jvp, shape=lambda args, kwargs: shape_of(args[2]),
        doc="runtime helper: sum(r * h, axis=0) shaped like lstsq's residuals.")


# ---------------------------------------------------------------- eig, eigvals
#
# A = V diag(w) V^-1 (complex in general):  C = V^-1 dA V,  dw = diag(C),
#   dV0 = V (F o C),  F_ij = 1 / (w_j - w_i),
# then LAPACK's normalisation: unit columns (dV1 = dV0 - V Re(diag(V^H dV0)))
# whose largest component is real (dV = dV1 - i V diag(theta), theta_j =
# Im(dV1_pj / V_pj) at that component p).  The cotangent transposes the three
# steps: A_bar = V^-T (diag(w_bar) + F o (V^T V_bar0)) V^T.


def _eig_pivot(em, V):
    """A 0/1 mask of each column's largest-modulus entry, and those entries."""
    mag = em.absolute(V)
    mask = em.equal(mag, em.max(mag, axis=-2, keepdims=True))
    return mask, em.sum(em.multiply(V, mask), axis=-2)


def _eig_jvp(em, dots, out, a):
    w, V = out
    C = _mm(em, em.inv(V), _mm(em, dots[0], V))
    dV0 = _mm(em, V, em.multiply(_pair_F(em, w, C, C), C))
    nrm = em.real(em.sum(em.multiply(em.conj_if_complex(V), dV0), axis=-2))
    dV1 = em.subtract(dV0, _cols(em, V, nrm))
    mask, vp = _eig_pivot(em, V)
    theta = em.imag(em.divide(em.sum(em.multiply(dV1, mask), axis=-2), vp))
    return _diagonal(em, C), em.subtract(dV1, em.multiply(_cols(em, V, theta), 1j))


def _eig_vjp(em, g, out, a, strict=False):
    (w, V), (wbar, Vbar) = out, g
    inner = None if wbar is None else _diag_embed(em, wbar)
    if Vbar is not None:
        mask, vp = _eig_pivot(em, V)
        c = em.imag(em.sum(em.multiply(Vbar, V), axis=-2))
        Vbar1 = em.add(Vbar, em.multiply(mask, em.expand_dims(
            em.multiply(em.divide(c, vp), -1j), axis=-2)))
        rho = em.real(em.sum(em.multiply(Vbar1, V), axis=-2))
        Vbar0 = em.subtract(Vbar1, _cols(em, em.conj_if_complex(V), rho))
        G = _mm(em, _T(em, V), Vbar0)
        inner = _add(em, inner, em.multiply(_pair_F(em, w, G, 0.0 if strict else G, wbar), G))
    if inner is None:
        return [None]
    return [_mm(em, _T(em, em.inv(V)), _mm(em, inner, _T(em, V)))]


defprim("eig", np.linalg.eig, sig="a, /", pyname="np.linalg.eig", vjp=_eig_vjp, jvp=_eig_jvp,
        nouts=2, out_fields=("eigenvalues", "eigenvectors"), out_type=numpy_result("linalg.eig"),
        shape=lambda args, kwargs: (shape_fresh(args, kwargs), shape_of(args[0])),
        doc="np.linalg.eig: dw = diag(V^-1 dA V), dV = V (F o V^-1 dA V) kept normalised "
            "as LAPACK normalises; complex results.")
defprim("eig_inner", _eig_inner, sig="a, /", pyname="np.linalg.eig",
        vjp=lambda em, g, out, a: _eig_vjp(em, g, out, a, strict=True), jvp=_eig_jvp,
        nouts=2, shape=lambda args, kwargs: (shape_fresh(args, kwargs), shape_of(args[0])),
        doc="np.linalg.eig recomputed inside a rule (eigh_inner's note): ties strict in "
            "reverse mode.")


def _eigvals_jvp(em, dots, out, a):
    _, V = em.call("eig_inner", a)
    return em.einsum("...ij,...jk,...ki->...i", em.inv(V), dots[0], V)


def _eigvals_vjp(em, g, out, a):
    _, V = em.call("eig_inner", a)
    return [_mm(em, _T(em, em.inv(V)), _rows(em, g, _T(em, V)))]


defprim("eigvals", np.linalg.eigvals, sig="a, /", pyname="np.linalg.eigvals",
        vjp=_eigvals_vjp, jvp=_eigvals_jvp, shape=shape_fresh,
        doc="np.linalg.eigvals: A_bar = V^-T diag(w_bar) V^T.")


# ---------------------------------------------------------------- data

defprim("matrix_rank", np.linalg.matrix_rank, sig="A, /, tol=None, hermitian=False, *, rtol=None",
        pyname="np.linalg.matrix_rank", nondiff=True, shape=shape_fresh)


# ---------------------------------------------------------------- composites
#
# Calls that lower to other primitives (Primitive.expand), so their
# derivatives are those of matmul and inv.


def _matrix_power_expand(em, a, n):
    """NumPy's own algorithm for a constant int n (the same products in the
    same order, so the same rounding): inv first for n < 0, the identity
    (stacked like a) for n == 0, binary powering for n > 3."""
    if not (isinstance(n, Const) and isinstance(n.value, (int, np.integer))
            and not isinstance(n.value, bool)):
        raise S2SGradError("np.linalg.matrix_power: the exponent must be an int known when "
                           "the gradient is compiled")
    n = int(n.value)
    if n == 0:
        return em.add(em.zeros_like(a), em.eye(_len(em, a), dtype=_dtype(em, a)))
    if n < 0:
        a, n = em.inv(a), -n
    if n == 1:
        return a
    if n == 2:
        return em.matmul(a, a)
    if n == 3:
        return em.matmul(em.matmul(a, a), a)
    z = result = None
    while n > 0:
        z = a if z is None else em.matmul(z, z)
        n, bit = divmod(n, 2)
        if bit:
            result = z if result is None else em.matmul(result, z)
    return result


defprim("matrix_power", np.linalg.matrix_power, sig="a, n, /", expand=_matrix_power_expand,
        doc="np.linalg.matrix_power(a, n), n a constant int: products of a (or inv(a)).")


def _multi_dot_expand(em, *arrays, out=None):
    """Left to right (NumPy may group the products differently: the same value
    up to rounding); a 1-d first/last array is a row/column vector."""
    if out is not None and not (isinstance(out, Const) and out.value is None):
        raise S2SGradError("np.linalg.multi_dot(..., out=...) is not supported; use the result")
    result = arrays[0]
    for a in arrays[1:]:
        result = em.matmul(result, a)
    return result


defprim("multi_dot", np.linalg.multi_dot, sig="*arrays, out=None", seq_arg=True,
        expand=_multi_dot_expand,
        doc="np.linalg.multi_dot([a, b, c]): a @ b @ c.")


# ---------------------------------------------------------------- tensorinv, tensorsolve
# Composites, as NumPy computes them: a reshape to a matrix, inv / solve,
# and a reshape back (the shapes from a runtime helper, data).

def _tensorinv_expand(em, a, ind=None):
    mat, out = em.call("tensorinv_shapes", a, ind=2 if ind is None else ind)
    return em.reshape(em.inv(em.reshape(a, mat)), out)


def _tensorsolve_expand(em, a, b, axes=None):
    if axes is not None and not (isinstance(axes, Const) and axes.value is None):
        if not isinstance(axes, Const):
            raise S2SGradError("np.linalg.tensorsolve's axes must be a constant")
        k = len(axes.value)
        a = em.moveaxis(a, source=tuple(axes.value), destination=tuple(range(-k, 0)))
    mat, out = em.call("tensorsolve_shapes", a, b)
    return em.reshape(em.solve(em.reshape(a, mat), em.ravel(b)), out)


defprim("tensorinv_shapes", runtime.tensorinv_shapes, sig="a, /, ind=2", nondiff=True,
        pyname="tensorinv_shapes", nouts=2,
        shape=lambda args, kwargs: (shape_fresh(args, kwargs), shape_fresh(args, kwargs)),
        doc="runtime helper: the matrix and result shapes of np.linalg.tensorinv, data.")
defprim("tensorsolve_shapes", runtime.tensorsolve_shapes, sig="a, b, /", nondiff=True,
        pyname="tensorsolve_shapes", nouts=2,
        shape=lambda args, kwargs: (shape_fresh(args, kwargs), shape_fresh(args, kwargs)),
        doc="runtime helper: the matrix and result shapes of np.linalg.tensorsolve, data.")
defprim("tensorinv", np.linalg.tensorinv, sig="a, ind=2", expand=_tensorinv_expand,
        doc="np.linalg.tensorinv: inv of a reshaped to a matrix, reshaped back.")
defprim("tensorsolve", np.linalg.tensorsolve, sig="a, b, axes=None", expand=_tensorsolve_expand,
        doc="np.linalg.tensorsolve: solve with a reshaped to a matrix and b raveled.")
