"""scipy.linalg: solve_triangular, cho_factor/cho_solve, cholesky, expm,
lu_factor/lu_solve, solve (assume_a), inv, det, eigh, solve_sylvester, sqrtm;
eigvalsh, svd, svdvals, qr, pinv, norm, lstsq and lu as composites of the
NumPy primitives; block_diag and toeplitz (linear).

Imported only when a program uses SciPy (``core.OPTIONAL_RULES``); generated
code calls SciPy through the runtime's ``scipy_linalg`` stand-in, which
imports it when first used.

Conventions, beyond those of ``decompositions.py`` (what SciPy reads is
what is differentiated):

* ``solve_triangular`` reads one triangle of ``a`` (not its diagonal with
  ``unit_diagonal=True``): the gradient lives there.  ``trans`` 'C' is 'T'
  for real matrices.
* ``cho_factor`` returns the factor in one triangle and ``a``'s own entries
  in the other (SciPy leaves them there): their derivative is ``a``'s.
  ``cho_solve`` and ``lu_solve`` read the factor triangles only.
  ``lu_factor``'s pivots are data; the LU derivative needs a square,
  non-singular ``a`` (2-d).
* ``expm``: exact Frechet derivative, ``expm([[A, E], [0, A]])``'s top-right
  block (its transpose is the same at ``A^T``), so every derivative order
  is ``expm`` of a larger block matrix.
* ``solve``: ``assume_a`` general (default), 'sym'/'her'/'pos' (one
  triangle read, ``lower`` as SciPy); others are refused.
* ``eigvalsh``/``svd``/``svdvals``/``qr``/``pinv``/``norm``/``lstsq``/``lu``
  print as NumPy's routines (the same LAPACK drivers); SciPy-only options
  (``qr(pivoting=True)``, ``qr`` modes 'r'/'raw', ``pinv(atol=)``,
  ``eigvalsh(b=...)``/``subset_by_*``, ``lu(p_indices=True)``, ``svd``'s
  ``lapack_driver='gesvd'``) are refused.  ``lu``'s ``P`` is data and needs a
  square matrix (as ``lu_factor``'s derivative).
* ``toeplitz`` is differentiated for real ``c`` and ``r`` (1-d); without
  ``r`` the matrix is symmetric in ``c``; ``r[0]`` is not read.
"""
from __future__ import annotations

import scipy.linalg as sl

from .. import runtime
from ..errors import S2SGradError
from ..ir import Const
from . import printing
from .core import defcomposite, defprim, register_object, shape_fresh, shape_of
from .decompositions import (_H, _T, _cholesky_jvp, _cholesky_vjp, _eigh_jvp, _eigh_vjp,
                             _eigvalsh_jvp, _eigvalsh_vjp, _flag, _mm, _read_cotangent,
                             _read_tangent, _real)
from .linalg import (_det_jvp, _det_vjp, _inv_jvp, _inv_vjp, _norm_jvp, _norm_shape,
                     _norm_vjp)

_PY = "scipy_linalg."


def _drop(kw, *names):
    return {k: v for k, v in kw.items() if k not in names}


def _tri(em, m, lower, unit=False):
    """The part of ``m`` a triangular routine reads: one triangle (without the
    diagonal for a unit diagonal)."""
    d = 0.0 if unit else 1.0
    return em.tril_part(m, diag=d) if lower else _T(em, em.tril_part(_T(em, m), diag=d))


def _strict_other(em, m, lower):
    """The strict triangle opposite to ``lower``'s."""
    return _tri(em, m, not lower, unit=True)


# ---------------------------------------------------------------- solve_triangular
#
# x = op(A)^-1 b, op(A) = A or A^T:  dx = op(A)^-1 (db - op(dA) x);
# b_bar = op(A)^-T x_bar,  op(A)_bar = -b_bar x^T (on the triangle read).


def _tri_opts(trans=None, lower=None, unit_diagonal=None):
    t = _flag(trans, 0)
    if t not in (0, 1, 2, "N", "T", "C"):
        raise S2SGradError(f"scipy.linalg.solve_triangular: trans={t!r}")
    return t in (1, 2, "T", "C"), _flag(lower, False), _flag(unit_diagonal, False)


def _solve_tri(em, a, b, transposed, lower, unit):
    return em.solve_triangular(a, b, trans=1 if transposed else 0, lower=lower,
                               unit_diagonal=unit)


def _solve_triangular_jvp(em, dots, out, a, b, **kw):
    t, lower, unit = _tri_opts(**_drop(kw, "overwrite_b", "check_finite"))
    a = _real(em, a, "scipy.linalg.solve_triangular")
    da, db = dots
    rhs = db
    if da is not None:
        dA = _tri(em, da, lower, unit)
        dAx = em.negative(_mm(em, _T(em, dA) if t else dA, out))
        rhs = dAx if rhs is None else em.add(rhs, dAx)
    return _solve_tri(em, a, rhs, t, lower, unit)


def _solve_triangular_vjp(em, g, out, a, b, **kw):
    t, lower, unit = _tri_opts(**_drop(kw, "overwrite_b", "check_finite"))
    a = _real(em, a, "scipy.linalg.solve_triangular")
    bbar = _solve_tri(em, a, g, not t, lower, unit)
    abar = em.negative(em.matmul_vjp_a(bbar, a, out))
    return [_tri(em, _T(em, abar) if t else abar, lower, unit), bbar]


defprim("solve_triangular", sl.solve_triangular,
        sig="a, b, /, trans=0, lower=False, unit_diagonal=False, overwrite_b=False, "
            "check_finite=True",
        pyname=_PY + "solve_triangular", vjp=_solve_triangular_vjp, jvp=_solve_triangular_jvp,
        shape=shape_fresh,
        doc="scipy.linalg.solve_triangular: x_bar -> b_bar = op(A)^-T x_bar, "
            "A_bar = -b_bar x^T on the triangle read.")


# ---------------------------------------------------------------- cholesky, cho_factor, cho_solve


def _chol_upper(kw):
    return Const(not _flag(kw.get("lower"), False))


defprim("scipy_cholesky", sl.cholesky, sig="a, /, lower=False, overwrite_a=False, "
        "check_finite=True", pyname=_PY + "cholesky",
        vjp=lambda em, g, out, a, **kw: _cholesky_vjp(em, g, out, a, upper=_chol_upper(kw)),
        jvp=lambda em, dots, out, a, **kw: _cholesky_jvp(em, dots, out, a,
                                                         upper=_chol_upper(kw)),
        shape=lambda args, kwargs: shape_of(args[0]),
        doc="scipy.linalg.cholesky (upper by default): numpy's cholesky rules.")


def _cho_factor_jvp(em, dots, out, a, lower=None):
    low = _flag(lower, False)
    factor = _tri(em, out, low)
    dF = _cholesky_jvp(em, dots, factor, a, upper=Const(not low))
    return em.add(dF, _strict_other(em, dots[0], low))


def _cho_factor_vjp(em, g, out, a, lower=None):
    low = _flag(lower, False)
    factor = _tri(em, out, low)
    (abar,) = _cholesky_vjp(em, _tri(em, g, low), factor, a, upper=Const(not low))
    return [em.add(abar, _strict_other(em, g, low))]


_CHO_C = defprim("cho_factor_c", runtime.cho_factor_c, sig="a, /, lower=False",
                 pyname="cho_factor_c", vjp=_cho_factor_vjp, jvp=_cho_factor_jvp,
                 shape=lambda args, kwargs: shape_of(args[0]),
                 doc="runtime helper: the array of scipy.linalg.cho_factor.")


def _cho_factor_expand(em, a, lower=None, overwrite_a=None, check_finite=None):
    # (c, lower): the flag is the static option, so cho_solve sees it as one
    low = Const(_flag(lower, False))
    return em.call(_CHO_C, a, lower=low), low


defprim("cho_factor", sl.cho_factor, sig="a, /, lower=False, overwrite_a=False, check_finite=True",
        expand=_cho_factor_expand,
        doc="scipy.linalg.cho_factor: (c, lower), c through cho_factor_c.")


def _pair(name, what):
    def canonicalize(args, kwargs):
        if not args:
            return args, kwargs
        first = args[0]
        items = getattr(first, "items", None)
        if not isinstance(items, list) or len(items) != 2:
            raise S2SGradError(f"scipy.linalg.{name}: pass its first argument as the pair "
                               f"{what} (the result of the factorisation, or a tuple written "
                               f"in the call)")
        return (items[0],) + tuple(args[1:]), dict(kwargs, _second=items[1])
    return canonicalize


def _cho_solve_canonical(args, kwargs):
    args, kwargs = _pair("cho_solve", "(c, lower)")(args, kwargs)
    low = kwargs.pop("_second")
    if not isinstance(low, Const):
        raise S2SGradError("scipy.linalg.cho_solve: the 'lower' flag of (c, lower) must be "
                           "known when the gradient is compiled")
    return args, dict(kwargs, lower=low)


def _pair_printer(name, second):
    def printer(args, kwargs, eqn):
        import ast
        kw = dict(kwargs)
        pair = ast.Tuple(elts=[args[0], kw.pop(second) if second in kw else args[1]],
                         ctx=ast.Load())
        rest = list(args[1:]) if second in kwargs else list(args[2:])
        return printing.call(_PY + name, [pair] + rest, kw)
    return printer


# A = L L^T (or U^T U):  dx = A^-1 (db - dA x);  b_bar = A^-1 x_bar, A_bar = -b_bar x^T,
# L_bar = (A_bar + A_bar^T) L (U_bar = U (A_bar + A_bar^T)) on the factor's triangle.


def _cho_factor_of(em, c, low):
    return _tri(em, _real(em, c, "scipy.linalg.cho_solve"), low)


def _cho_solve_jvp(em, dots, out, c, b, lower=None, **kw):
    low = _flag(lower, False)
    dc, db = dots
    rhs = db
    if dc is not None:
        F, dF = _cho_factor_of(em, c, low), _tri(em, dc, low)
        # A = F F^T (lower) or F^T F (upper)
        dA = em.add(_mm(em, dF, _T(em, F)), _mm(em, F, _T(em, dF))) if low else \
            em.add(_mm(em, _T(em, dF), F), _mm(em, _T(em, F), dF))
        dAx = em.negative(_mm(em, dA, out))
        rhs = dAx if rhs is None else em.add(rhs, dAx)
    return em.cho_solve(c, rhs, lower=lower)


def _cho_solve_vjp(em, g, out, c, b, lower=None, **kw):
    low = _flag(lower, False)
    bbar = em.cho_solve(c, g, lower=lower)
    abar = em.negative(em.matmul_vjp_a(bbar, c, out))
    sym = em.add(abar, _T(em, abar))
    F = _cho_factor_of(em, c, low)
    cbar = _tri(em, _mm(em, sym, F) if low else _mm(em, F, sym), low)
    return [cbar, bbar]


defprim("cho_solve", sl.cho_solve,
        sig="c, b, /, lower=False, overwrite_b=False, check_finite=True",
        canonicalize=_cho_solve_canonical, printer=_pair_printer("cho_solve", "lower"),
        vjp=_cho_solve_vjp, jvp=_cho_solve_jvp, shape=shape_fresh,
        doc="scipy.linalg.cho_solve((c, lower), b): the factor triangle of c and b.")


# ---------------------------------------------------------------- lu_factor, lu_solve
#
# P A = L U (L unit lower, U upper, packed in one array; P from the pivots):
#   X = L^-1 P dA U^-1,  dL = L tril(X, -1),  dU = triu(X) U;
#   A_bar = P^T L^-T (tril(L^T L_bar, -1) + triu(U_bar U^T)) U^-T.


def _lu_parts(em, lu):
    lu = _real(em, lu, "scipy.linalg.lu_factor/lu_solve")
    n = em.call("getitem", em.shape(lu), _params={"index": -1})
    eye = em.eye(n, dtype=em.call("result_type", lu, _params={"spelling": ("attr", "dtype")}))
    return em.add(em.tril_part(lu, diag=0.0), eye), _tri(em, lu, lower=False)


# An m x n matrix (k = min(m, n)): A = P L U with L m x k unit lower, U k x n
# upper.  The rules work with square completions (JAX's lu_jvp does the
# same): L~ (m x m) = L's strict lower part zero-padded or cropped, plus I_m;
# U~ (n x n) = U's upper triangle zero-padded or cropped, plus the identity on
# the trailing n - k diagonal entries.  With X = L~^-1 P^T dA U~^-1,
# d lu = L~ tril(X, -1) + triu(X) U~ (the strict lower part is dL, the upper
# dU, each in the packed m x n layout); its transpose is the vjp.  For a
# square matrix L~ = L, U~ = U.
def _lu_square_parts(em, lu, piv):
    lu = _real(em, lu, "scipy.linalg.lu_factor/lu")
    dtype = em.call("result_type", lu, _params={"spelling": ("attr", "dtype")})
    m = em.call("getitem", em.shape(lu), _params={"index": -2})
    n = em.call("getitem", em.shape(lu), _params={"index": -1})
    L = em.add(em.tril_part(em.resize_axis(lu, lu, axis=-1, like_axis=-2), diag=0.0),
               em.eye(m, dtype=dtype))
    eye_n = em.eye(n, dtype=dtype)
    first_k = em.resize_axis(em.resize_axis(eye_n, piv, axis=-1, like_axis=-1), eye_n,
                             axis=-1, like_axis=-1)
    U = em.add(_tri(em, em.resize_axis(lu, lu, axis=-2, like_axis=-1), lower=False),
               em.subtract(eye_n, first_k))
    return L, U


def _lu_factor_jvp(em, dots, out, a, **kw):
    lu, piv = out
    L, U = _lu_square_parts(em, lu, piv)
    Y = em.solve(L, em.apply_pivots(dots[0], piv))
    X = _T(em, em.solve(_T(em, U), _T(em, Y)))
    dlu = em.add(_mm(em, L, em.tril_part(X, diag=0.0)), _mm(em, _tri(em, X, lower=False), U))
    return dlu, None


def _lu_factor_vjp(em, g, out, a, **kw):
    (lu, piv), (lubar, _) = out, g
    if lubar is None:
        return [None]
    L, U = _lu_square_parts(em, lu, piv)
    Xbar = em.add(em.tril_part(_mm(em, _T(em, L), em.tril_part(lubar, diag=0.0)), diag=0.0),
                  _tri(em, _mm(em, _tri(em, lubar, lower=False), _T(em, U)), lower=False))
    Z = em.solve(_T(em, L), Xbar)
    return [em.unapply_pivots(_T(em, em.solve(U, _T(em, Z))), piv)]


defprim("lu_factor", sl.lu_factor, sig="a, /, overwrite_a=False, check_finite=True",
        pyname=_PY + "lu_factor", vjp=_lu_factor_vjp, jvp=_lu_factor_jvp, nouts=2,
        shape=lambda args, kwargs: (shape_of(args[0]), shape_fresh(args, kwargs)),
        doc="scipy.linalg.lu_factor (square or m x n): (lu, piv); piv is data.")


def _lu_solve_canonical(args, kwargs):
    args, kwargs = _pair("lu_solve", "(lu, piv)")(args, kwargs)
    piv = kwargs.pop("_second")
    return (args[0], piv) + tuple(args[1:]), kwargs


def _lu_trans(trans):
    t = _flag(trans, 0)
    if t not in (0, 1, 2):
        raise S2SGradError(f"scipy.linalg.lu_solve: trans={t!r}")
    return t != 0


def _lu_solve_jvp(em, dots, out, lu, piv, b, trans=None, **kw):
    t = _lu_trans(trans)
    dlu, _, db = dots
    rhs = db
    if dlu is not None:
        L, U = _lu_parts(em, lu)
        dL, dU = em.tril_part(dlu, diag=0.0), _tri(em, dlu, lower=False)
        dA = em.unapply_pivots(em.add(_mm(em, dL, U), _mm(em, L, dU)), piv)
        dAx = em.negative(_mm(em, _T(em, dA) if t else dA, out))
        rhs = dAx if rhs is None else em.add(rhs, dAx)
    return em.lu_solve(lu, piv, rhs, trans=1 if t else 0)


def _lu_solve_vjp(em, g, out, lu, piv, b, trans=None, **kw):
    t = _lu_trans(trans)
    bbar = em.lu_solve(lu, piv, g, trans=0 if t else 1)
    abar = em.negative(em.matmul_vjp_a(bbar, lu, out))
    PA = em.apply_pivots(_T(em, abar) if t else abar, piv)
    L, U = _lu_parts(em, lu)
    lubar = em.add(em.tril_part(_mm(em, PA, _T(em, U)), diag=0.0),
                   _tri(em, _mm(em, _T(em, L), PA), lower=False))
    return [lubar, None, bbar]


defprim("lu_solve", sl.lu_solve,
        sig="lu, piv, b, /, trans=0, overwrite_b=False, check_finite=True",
        canonicalize=_lu_solve_canonical, printer=_pair_printer("lu_solve", "piv"),
        vjp=_lu_solve_vjp, jvp=_lu_solve_jvp, shape=shape_fresh,
        doc="scipy.linalg.lu_solve((lu, piv), b, trans): the factors in lu and b.")

for _name, _other in (("apply_pivots", "unapply_pivots"), ("unapply_pivots", "apply_pivots")):
    defprim(_name, getattr(runtime, _name), sig="x, piv, /", pyname=_name,
            vjp=(lambda o: lambda em, h, out, x, piv: [em.call(o, h, piv), None])(_other),
            jvp=(lambda n: lambda em, dots, out, x, piv: em.call(n, dots[0], piv))(_name),
            shape=lambda args, kwargs: shape_of(args[0]), linear=True,
            doc=f"runtime helper: the row interchanges of an LU factorisation "
                f"({'undone' if _name.startswith('un') else 'applied'}).")


# ---------------------------------------------------------------- expm
#
# expm([[A, E], [0, A]]) = [[expm(A), L(A, E)], [0, expm(A)]], L the Frechet
# derivative; its transpose is L(A^T, .).


defprim("expm", sl.expm, sig="A, /", pyname=_PY + "expm",
        vjp=lambda em, g, out, a: [em.top_right(em.expm(em.frechet_block(_T(em, a), g)))],
        jvp=lambda em, dots, out, a: em.top_right(em.expm(em.frechet_block(a, dots[0]))),
        shape=lambda args, kwargs: shape_of(args[0]),
        doc="scipy.linalg.expm: the exact Frechet derivative by the block-matrix identity.")


# logm, the same way: logm([[A, E], [0, A]]) = [[logm(A), L(A, E)], [0, logm(A)]]
# (any primary matrix function, Higham, Functions of Matrices, thm 3.6); A is
# checked first (matfun_domain: not singular; a complex A with no eigenvalue on
# the branch cut), so a point without a derivative raises instead of giving
# inf/NaN or a one-sided value.  Every order is logm of a larger block matrix.


def _logm_at(em, a, e):
    return em.top_right(em.logm(em.frechet_block(em.matfun_domain(a, fname=Const("logm")),
                                                 e)))


defprim("logm", sl.logm, sig="A, /", pyname=_PY + "logm",
        vjp=lambda em, g, out, a: [_logm_at(em, _T(em, a), g)],
        jvp=lambda em, dots, out, a: _logm_at(em, a, dots[0]),
        shape=lambda args, kwargs: shape_of(args[0]),
        doc="scipy.linalg.logm: the exact Frechet derivative by the block-matrix identity "
            "(refused at a singular matrix and on the branch cut).")
defprim("matfun_domain", runtime.matfun_domain, sig="a, /, fname='logm'",
        pyname="matfun_domain",
        vjp=lambda em, h, out, a, fname=None: [h],
        jvp=lambda em, dots, out, a, fname=None: dots[0],
        shape=lambda args, kwargs: shape_of(args[0]), linear=True,
        doc="runtime helper: its argument, checked to be where logm/sqrtm has a derivative.")


# ---------------------------------------------------------------- solve_sylvester, sqrtm
#
# X = sylv(A, B, Q) solves A X + X B = Q:  A dX + dX B = dQ - dA X - X dB, so
#   dX = sylv(A, B, dQ - dA X - X dB);
# the transpose of Q -> X is Y -> sylv(A^T, B^T, Y) (plain transposes: the
# cotangent convention pairs without conjugation), so with L = sylv(A^T, B^T, G)
#   Q_bar = L,  A_bar = -L X^T,  B_bar = -X^T L.
# S = sqrtm(A): S dS + dS S = dA, i.e. dS = sylv(S, S, dA); A_bar = sylv(S^T, S^T, G).
# 2-d matrices (SciPy's solve_sylvester and sqrtm are).


def _sylvester_vjp(em, g, out, a, b, q):
    lam = em.solve_sylvester(_T(em, a), _T(em, b), g)
    return [em.negative(_mm(em, lam, _T(em, out))), em.negative(_mm(em, _T(em, out), lam)),
            lam]


def _sylvester_jvp(em, dots, out, a, b, q):
    da, db, dq = dots
    rhs = dq
    if da is not None:
        rhs = _add(em, rhs, em.negative(_mm(em, da, out)))
    if db is not None:
        rhs = _add(em, rhs, em.negative(_mm(em, out, db)))
    return None if rhs is None else em.solve_sylvester(a, b, rhs)


def _add(em, a, b):
    return em.add_ct(a, b)


if hasattr(sl, "solve_sylvester"):
    defprim("solve_sylvester", sl.solve_sylvester, sig="a, b, q, /",
            pyname=_PY + "solve_sylvester", vjp=_sylvester_vjp, jvp=_sylvester_jvp,
            shape=lambda args, kwargs: shape_of(args[2]),
            doc="scipy.linalg.solve_sylvester: A X + X B = Q differentiated implicitly.")
def _sqrtm_checked(em, a, out):
    """``out`` (= sqrtm(a)) after checking ``a`` (matfun_domain): at a singular
    ``a`` the Sylvester operator S X + X S is singular and the derivative
    infinite, which the solve would return as huge numbers or a LAPACK error."""
    return em.call("sqrtm_checked", em.matfun_domain(a, fname=Const("sqrtm")), out)


defprim("sqrtm_checked", runtime.sqrtm_checked, sig="a, s, /", pyname="sqrtm_checked",
        vjp=lambda em, h, out, a, s: [None, h], jvp=lambda em, dots, out, a, s: dots[1],
        shape=lambda args, kwargs: shape_of(args[1]),
        doc="runtime helper: its second argument, once the first is checked (sqrtm).")


if hasattr(sl, "sqrtm"):
    defprim("sqrtm", sl.sqrtm, sig="A, /",
            pyname=_PY + "sqrtm",
            vjp=lambda em, g, out, a: [em.solve_sylvester(_T(em, _sqrtm_checked(em, a, out)),
                                                          _T(em, out), g)],
            jvp=lambda em, dots, out, a: em.solve_sylvester(_sqrtm_checked(em, a, out), out,
                                                            dots[0]),
            shape=lambda args, kwargs: shape_of(args[0]),
            doc="scipy.linalg.sqrtm: S dS + dS S = dA, solved as a Sylvester equation.")


def _frechet_block_vjp(em, h, out, a, e):
    return [em.unbroadcast(em.diag_blocks_sum(h), a), em.unbroadcast(em.top_right(h), e)]


def _frechet_block_jvp(em, dots, out, a, e):
    da, de = dots
    return em.frechet_block(em.zeros_like(a) if da is None else da,
                            em.zeros_like(e) if de is None else de)


defprim("frechet_block", runtime.frechet_block, sig="a, e, /", pyname="frechet_block",
        vjp=_frechet_block_vjp, jvp=_frechet_block_jvp, shape=shape_fresh, linear=True,
        doc="runtime helper: the block matrix [[a, e], [0, a]].")
defprim("top_right", runtime.top_right, sig="m, /", pyname="top_right",
        vjp=lambda em, h, out, m: [em.frechet_block(em.zeros_like(h), h)],
        jvp=lambda em, dots, out, m: em.top_right(dots[0]),
        shape=shape_fresh, linear=True, doc="runtime helper: the top-right quarter.")
defprim("diag_blocks_sum", runtime.diag_blocks_sum, sig="m, /", pyname="diag_blocks_sum",
        vjp=lambda em, h, out, m: [em.frechet_block(h, em.zeros_like(h))],
        jvp=lambda em, dots, out, m: em.diag_blocks_sum(dots[0]),
        shape=shape_fresh, linear=True,
        doc="runtime helper: the sum of the two diagonal blocks.")


# ---------------------------------------------------------------- solve, inv, det, eigh

_GENERAL = (None, "gen", "general")
_SYMMETRIC = ("sym", "symmetric", "her", "hermitian", "pos", "positive definite")


# assume_a kinds for which SciPy reads only part of ``a`` (its value is the
# solve with the rest zeroed): (sub-, super-)diagonals read, None for all
# below / above the diagonal.  'banded' finds the band from the data, so its
# value is the general solve's (and so are its derivatives).
_MASKED = {"diagonal": (0, 0), "tridiagonal": (1, 1), "lower triangular": (None, 0),
           "upper triangular": (0, None)}


def _solve_opts(lower=None, assume_a=None, transposed=None, **_):
    kind = _flag(assume_a, None)
    if kind not in _GENERAL + _SYMMETRIC + tuple(_MASKED) + ("banded",):
        raise S2SGradError(f"scipy.linalg.solve(assume_a={kind!r}) is not differentiated; use "
                           f"the default (general), 'sym', 'her', 'pos', 'diagonal', "
                           f"'tridiagonal', 'banded', 'lower triangular' or 'upper triangular'")
    return kind in _SYMMETRIC, _flag(lower, False), _flag(transposed, False), \
        _MASKED.get(kind), kind


def _band(em, x, band):
    """``x`` with the entries ``solve`` does not read (for ``band``) zeroed."""
    below, above = band
    if below is not None:
        x = em.triu(x, k=-below)
    if above is not None:
        x = em.tril(x, k=above)
    return x


def _solve_call(em, a, b, sym, lower, transposed, band=None, kind=None):
    if band is not None:
        # the same partial read of a (transposed: of its transpose)
        return em.scipy_solve(a, b, assume_a=kind, transposed=transposed) if transposed \
            else em.scipy_solve(a, b, assume_a=kind)
    # the symmetric matrix's own kind: 'pos' (Cholesky) only for a matrix the
    # user declared positive definite -- a 'sym'/'her' one may be indefinite
    # (its derivatives failed with "singular matrix" there)
    kw = {"assume_a": ("pos" if kind in ("pos", "positive definite") else "sym") if sym
          else "gen", "lower": lower}
    if transposed and not sym:
        kw["transposed"] = True
    return em.scipy_solve(a, b, **kw)


def _scipy_solve_jvp(em, dots, out, a, b, **kw):
    sym, lower, tr, band, kind = _solve_opts(**kw)
    a = _real(em, a, "scipy.linalg.solve")
    da, db = dots
    rhs = db
    if da is not None:
        dA = _read_tangent(em, da, not lower) if sym else \
            _band(em, da, band) if band is not None else da
        dAx = em.negative(_mm(em, _T(em, dA) if tr and not sym else dA, out))
        rhs = dAx if rhs is None else em.add(rhs, dAx)
    return _solve_call(em, a, rhs, sym, lower, tr, band, kind)


def _scipy_solve_vjp(em, g, out, a, b, **kw):
    sym, lower, tr, band, kind = _solve_opts(**kw)
    a = _real(em, a, "scipy.linalg.solve")
    bbar = _solve_call(em, a, g, sym, lower, not tr, band, kind)
    m = em.negative(em.matmul_vjp_a(bbar, a, out))
    if sym:
        return [_read_cotangent(em, m, not lower), bbar]
    m = _T(em, m) if tr else m
    return [_band(em, m, band) if band is not None else m, bbar]


defprim("scipy_solve", sl.solve,
        sig="a, b, /, lower=False, overwrite_a=False, overwrite_b=False, check_finite=True, "
            "assume_a=None, transposed=False",
        pyname=_PY + "solve", vjp=_scipy_solve_vjp, jvp=_scipy_solve_jvp, shape=shape_fresh,
        doc="scipy.linalg.solve: general (also 'banded'), one triangle read for assume_a "
            "'sym'/'her'/'pos', the part read for 'diagonal'/'tridiagonal'/triangular.")


def _general_only(kw, name):
    kind = _flag(kw.get("assume_a"), None)
    if kind not in _GENERAL:
        raise S2SGradError(f"scipy.linalg.{name}(assume_a={kind!r}) is not differentiated; "
                           f"use the default")


def _inv_rules():
    def vjp(em, g, out, a, **kw):
        _general_only(kw, "inv")
        return _inv_vjp(em, g, out, a)

    def jvp(em, dots, out, a, **kw):
        _general_only(kw, "inv")
        return _inv_jvp(em, dots, out, a)
    return vjp, jvp


_v, _j = _inv_rules()
defprim("scipy_inv", sl.inv, sig="a, /, overwrite_a=False, check_finite=True, *, assume_a=None, "
        "lower=False", pyname=_PY + "inv", vjp=_v, jvp=_j,
        shape=lambda args, kwargs: shape_of(args[0]), doc="scipy.linalg.inv: numpy's rules.")
defprim("scipy_det", sl.det, sig="a, /, overwrite_a=False, check_finite=True",
        pyname=_PY + "det",
        vjp=lambda em, g, out, a, **kw: _det_vjp(em, g, out, a),
        jvp=lambda em, dots, out, a, **kw: _det_jvp(em, dots, out, a),
        shape=shape_fresh, doc="scipy.linalg.det: numpy's rules.")


def _eigh_opts(b=None, lower=None, eigvals_only=None, type=None, subset_by_index=None,
               subset_by_value=None, **_):
    if any(v is not None and not (isinstance(v, Const) and v.value is None)
           for v in (b, subset_by_index, subset_by_value)) or _flag(type, 1) != 1:
        raise S2SGradError("scipy.linalg.eigh is differentiated for the standard problem "
                           "(b=None, type=1) with all eigenvalues (no subset_by_*)")
    return Const("L" if _flag(lower, True) else "U"), _flag(eigvals_only, False)


def _scipy_eigh_vjp(em, g, out, a, **kw):
    uplo, only = _eigh_opts(**kw)
    return _eigvalsh_vjp(em, g, out, a, UPLO=uplo) if only else \
        _eigh_vjp(em, g, out, a, UPLO=uplo)


def _scipy_eigh_jvp(em, dots, out, a, **kw):
    uplo, only = _eigh_opts(**kw)
    return _eigvalsh_jvp(em, dots, out, a, UPLO=uplo) if only else \
        _eigh_jvp(em, dots, out, a, UPLO=uplo)


def _scipy_eigh_nouts(args, kwargs):
    only = kwargs.get("eigvals_only")
    return 1 if isinstance(only, Const) and only.value else 2


defprim("scipy_eigh", sl.eigh,
        sig="a, /, b=None, *, lower=True, eigvals_only=False, overwrite_a=False, "
            "overwrite_b=False, type=1, check_finite=True, subset_by_index=None, "
            "subset_by_value=None, driver=None",
        pyname=_PY + "eigh", vjp=_scipy_eigh_vjp, jvp=_scipy_eigh_jvp, nouts=_scipy_eigh_nouts,
        shape=lambda args, kwargs: shape_fresh(args, kwargs)
        if _scipy_eigh_nouts(args, kwargs) == 1 else (shape_fresh(args, kwargs),
                                                       shape_of(args[0])),
        doc="scipy.linalg.eigh (lower by default): numpy's eigh/eigvalsh rules.")


# ---------------------------------------------------------------- NumPy's rules under SciPy's names
#
# scipy.linalg.eigvalsh, svd, svdvals, qr, pinv, norm, lstsq and lu are
# composites of the NumPy primitives (same LAPACK routines, so the same
# values up to rounding; the generated code calls NumPy's).  Options SciPy
# has and NumPy lacks are refused unless they are the default.


def _only_default(name, **opts):
    for k, (v, default) in opts.items():
        if v is None or (isinstance(v, Const) and v.value == default):
            continue
        raise S2SGradError(f"scipy.linalg.{name}: {k}= other than {default!r} is not "
                           f"differentiated (use the default)")


def _eigvalsh_expand(em, a, b=None, *, lower=None, overwrite_a=None, overwrite_b=None,
                     type=None, check_finite=None, subset_by_index=None,
                     subset_by_value=None, driver=None):
    _eigh_opts(b=b, lower=lower, type=type, subset_by_index=subset_by_index,
               subset_by_value=subset_by_value)
    return em.eigvalsh(a, UPLO="L" if _flag(lower, True) else "U")


defcomposite("scipy_eigvalsh", sl.eigvalsh, expand=_eigvalsh_expand,
             sig="a, /, b=None, *, lower=True, overwrite_a=False, overwrite_b=False, type=1, "
                 "check_finite=True, subset_by_index=None, subset_by_value=None, driver=None",
             doc="scipy.linalg.eigvalsh (lower by default): np.linalg.eigvalsh's rules.")


def _svd_expand(em, a, full_matrices=None, compute_uv=None, overwrite_a=None,
                check_finite=None, lapack_driver=None):
    _only_default("svd", lapack_driver=(lapack_driver, "gesdd"))
    out = em.svd(a, full_matrices=_flag(full_matrices, True),
                 compute_uv=_flag(compute_uv, True))
    return tuple(out) if isinstance(out, (tuple, list)) else out


defcomposite("scipy_svd", sl.svd, expand=_svd_expand,
             sig="a, /, full_matrices=True, compute_uv=True, overwrite_a=False, "
                 "check_finite=True, lapack_driver='gesdd'",
             doc="scipy.linalg.svd: np.linalg.svd's rules.")
defcomposite("scipy_svdvals", sl.svdvals,
             expand=lambda em, a, overwrite_a=None, check_finite=None:
             em.svd(a, compute_uv=False),
             sig="a, /, overwrite_a=False, check_finite=True",
             doc="scipy.linalg.svdvals: np.linalg.svd(a, compute_uv=False)'s rules.")


def _qr_expand(em, a, overwrite_a=None, lwork=None, mode=None, pivoting=None,
               check_finite=None):
    _only_default("qr", pivoting=(pivoting, False))
    m = _flag(mode, "full")
    if m not in ("full", "economic"):
        raise S2SGradError(f"scipy.linalg.qr: mode={m!r} is not differentiated "
                           f"(use 'full' or 'economic')")
    return tuple(em.qr(a, mode="complete" if m == "full" else "reduced"))


defcomposite("scipy_qr", sl.qr, expand=_qr_expand,
             sig="a, /, overwrite_a=False, lwork=None, mode='full', pivoting=False, "
                 "check_finite=True",
             doc="scipy.linalg.qr (modes 'full', 'economic'): np.linalg.qr's rules.")


def _pinv_expand(em, a, *, atol=None, rtol=None, return_rank=None, check_finite=None):
    _only_default("pinv", atol=(atol, None), return_rank=(return_rank, False))
    return em.pinv(a) if rtol is None or (isinstance(rtol, Const) and rtol.value is None) \
        else em.pinv(a, rtol=rtol)


defcomposite("scipy_pinv", sl.pinv, expand=_pinv_expand,
             sig="a, /, *, atol=None, rtol=None, return_rank=False, check_finite=True",
             doc="scipy.linalg.pinv (rtol; atol refused): np.linalg.pinv's rules.")


# scipy.linalg.pinvh: the pseudo-inverse from eigh of the lower triangle, as
# np.linalg.pinv(hermitian=True) (which reads the lower triangle too), with
# SciPy's default cutoff max(M, N) * eps * max|w| (NumPy's rtol=None).
def _pinvh_expand(em, a, atol=None, rtol=None, lower=None, return_rank=None,
                  check_finite=None):
    _only_default("pinvh", atol=(atol, None), lower=(lower, True),
                  return_rank=(return_rank, False))
    if rtol is None or (isinstance(rtol, Const) and rtol.value is None):
        return em.pinv(a, hermitian=True, rtol=Const(None))
    return em.pinv(a, hermitian=True, rtol=rtol)


if hasattr(sl, "pinvh"):
    defcomposite("scipy_pinvh", sl.pinvh, expand=_pinvh_expand,
                 sig="a, atol=None, rtol=None, lower=True, return_rank=False, "
                     "check_finite=True",
                 doc="scipy.linalg.pinvh (rtol; atol, lower=False refused): "
                     "np.linalg.pinv(hermitian=True)'s rules.")


def _np_norm_kw(kw):
    return {k: v for k, v in kw.items() if k in ("ord", "axis", "keepdims")}


# A primitive of its own (not np.linalg.norm expanded): SciPy's value is not
# NumPy's where it matters -- a vector's 2-norm by BLAS nrm2, which scales
# (norm(x * 1e-200) * 1e200 is |x|, NumPy's sqrt(x . x) underflows to 0) --
# and the rules below use the value computed.
defprim("scipy_norm", sl.norm, sig="a, /, ord=None, axis=None, keepdims=False, check_finite=True",
        pyname=_PY + "norm",
        vjp=lambda em, g, out, a, **kw: _norm_vjp(em, g, out, a, **_np_norm_kw(kw)),
        jvp=lambda em, dots, out, a, **kw: _norm_jvp(em, dots, out, a, **_np_norm_kw(kw)),
        shape=_norm_shape,
        doc="scipy.linalg.norm: its own value (BLAS nrm2 for vectors), np.linalg.norm's "
            "rules.")


def _lstsq_expand(em, a, b, cond=None, overwrite_a=None, overwrite_b=None, check_finite=None,
                  lapack_driver=None):
    kw = {} if cond is None or (isinstance(cond, Const) and cond.value is None) else \
        {"rcond": cond}
    x, res, rank, s = em.lstsq(a, b, **kw)
    return x, em.call("scipy_lstsq_residues", res, b), rank, s


# scipy_lstsq_residues(res, b): NumPy's residues (shape (1,) for a 1-d b) in
# SciPy's shape (a scalar then).  Linear in res; b only supplies its rank.
defprim("scipy_lstsq_residues", runtime.scipy_lstsq_residues, sig="res, b, /",
        pyname="scipy_lstsq_residues",
        vjp=lambda em, h, out, res, b: [em.reshape(h, shape=em.shape(res)), None],
        jvp=lambda em, dots, out, res, b: (
            None if dots[0] is None else em.call("scipy_lstsq_residues", dots[0], b)),
        shape=shape_fresh, linear=True,
        doc="runtime helper: lstsq's residues in scipy.linalg.lstsq's shape (a scalar "
            "for a 1-d b).")


defcomposite("scipy_lstsq", sl.lstsq, expand=_lstsq_expand,
             sig="a, b, /, cond=None, overwrite_a=False, overwrite_b=False, check_finite=True, "
                 "lapack_driver=None",
             doc="scipy.linalg.lstsq: np.linalg.lstsq's rules (x, residues, rank, s).")


def _lu_expand(em, a, permute_l=None, overwrite_a=None, check_finite=None, p_indices=None):
    _only_default("lu", p_indices=(p_indices, False))
    lu, piv = em.lu_factor(a)
    Ls, Us = _lu_square_parts(em, lu, piv)
    # L: the first k columns of L~, U: the first k rows of U~ (k = len(piv))
    L = em.resize_axis(Ls, piv, axis=-1, like_axis=-1)
    U = em.resize_axis(Us, piv, axis=-2, like_axis=-1)
    if _flag(permute_l, False):
        return em.unapply_pivots(L, piv), U
    m = em.call("getitem", em.shape(lu), _params={"index": -2})
    P = em.unapply_pivots(em.eye(m, dtype=em.call("result_type", lu, _params={
        "spelling": ("attr", "dtype")})), piv)
    return P, L, U


defcomposite("scipy_lu", sl.lu, expand=_lu_expand,
             sig="a, /, permute_l=False, overwrite_a=False, check_finite=True, p_indices=False",
             doc="scipy.linalg.lu (square or m x n): P, L, U from lu_factor's rules "
                 "(P is data).")


# ---------------------------------------------------------------- block_diag, toeplitz


def _block_diag_vjp(em, g, out, *arrs):
    if len(arrs) == 1:
        return [em.reshape(g, shape=em.shape(arrs[0]))]
    return list(em.call("unblock_diag", g, *arrs))


def _block_diag_jvp(em, dots, out, *arrs):
    if all(d is None for d in dots):
        return None
    return em.call("block_diag", *[d if d is not None else em.zeros_like(x)
                                   for d, x in zip(dots, arrs)])


defprim("block_diag", sl.block_diag, sig="*arrs", pyname=_PY + "block_diag",
        vjp=_block_diag_vjp, jvp=_block_diag_jvp, linear=True, shape=shape_fresh,
        doc="scipy.linalg.block_diag: the cotangent's diagonal blocks.")


def _unblock_diag_vjp(em, hs, out, g, *arrs):
    hs = hs if isinstance(hs, tuple) else (hs,)
    if all(h is None for h in hs):
        return [None] * (1 + len(arrs))
    return [em.call("block_diag", *[h if h is not None else em.zeros_like(x)
                                    for h, x in zip(hs, arrs)])] + [None] * len(arrs)


defprim("unblock_diag", runtime.unblock_diag, sig="g, /, *arrs", pyname="unblock_diag",
        vjp=_unblock_diag_vjp,
        jvp=lambda em, dots, out, g, *arrs: None if dots[0] is None else
        em.call("unblock_diag", dots[0], *arrs),
        linear=True, nouts=lambda args, kwargs: len(args) - 1,
        shape=lambda args, kwargs: tuple(shape_of(x) for x in args[1:]),
        doc="runtime helper: the adjoint of scipy.linalg.block_diag (one output per block).")


def _toeplitz_vjp(em, g, out, c, r=None):
    if r is None or (isinstance(r, Const) and r.value is None):
        return [em.call("untoeplitz", g, c, r=Const(None)), None]
    gc, gr = em.call("untoeplitz_cr", g, c, r)
    return [gc, gr]


def _toeplitz_jvp(em, dots, out, c, r=None):
    dc, dr = dots if len(dots) == 2 else (dots[0], None)
    no_r = r is None or (isinstance(r, Const) and r.value is None)
    if dc is None and dr is None:
        return None
    dc = dc if dc is not None else em.zeros_like(c)
    if no_r:
        return em.toeplitz(dc)
    return em.toeplitz(dc, dr if dr is not None else em.zeros_like(r))


defprim("toeplitz", sl.toeplitz, sig="c, r=None, /", pyname=_PY + "toeplitz",
        vjp=_toeplitz_vjp, jvp=_toeplitz_jvp, linear=True, shape=shape_fresh,
        doc="scipy.linalg.toeplitz (1-d c, r; real): the cotangent's diagonals summed.")
defprim("untoeplitz", runtime.untoeplitz, sig="g, c, /, r=None", pyname="untoeplitz",
        vjp=lambda em, h, out, g, c, r=None: [em.toeplitz(h), None],
        jvp=lambda em, dots, out, g, c, r=None: None if dots[0] is None else
        em.call("untoeplitz", dots[0], c, r=Const(None)),
        linear=True, shape=lambda args, kwargs: shape_of(args[1]),
        doc="runtime helper: the adjoint of scipy.linalg.toeplitz(c) (symmetric).")


def _untoeplitz_cr_vjp(em, hs, out, g, c, r):
    hc, hr = hs
    if hc is None and hr is None:
        return [None, None, None]
    return [em.toeplitz(hc if hc is not None else em.zeros_like(c),
                        hr if hr is not None else em.zeros_like(r)), None, None]


defprim("untoeplitz_cr", runtime.untoeplitz_cr, sig="g, c, r, /", pyname="untoeplitz_cr",
        vjp=_untoeplitz_cr_vjp,
        jvp=lambda em, dots, out, g, c, r: None if dots[0] is None else
        tuple(em.call("untoeplitz_cr", dots[0], c, r)),
        linear=True, nouts=2, shape=lambda args, kwargs: (shape_of(args[1]), shape_of(args[2])),
        doc="runtime helper: the adjoint of scipy.linalg.toeplitz(c, r) (r[0] unused).")


# ---------------------------------------------------------------- expm_frechet, polar


def _expm_frechet_expand(em, A, E, method=None, compute_expm=None, check_finite=None):
    # in SciPy's dtype (it computes float32 operands in float64)
    dt = em.call("numpy_result_dtype", Const("expm_frechet"), A, E)
    L = em.astype(em.top_right(em.expm(em.frechet_block(A, E))), dtype=dt)
    if not _flag(compute_expm, True):
        return L
    return em.astype(em.expm(A), dtype=dt), L


defcomposite("scipy_expm_frechet", sl.expm_frechet, expand=_expm_frechet_expand,
             sig="A, E, /, method=None, compute_expm=True, check_finite=True",
             doc="scipy.linalg.expm_frechet: (expm(A), L(A, E)) by the block-matrix identity "
                 "(the values are expm's, equal to SciPy's up to rounding).")


def _polar_expand(em, a, side=None):
    s = _flag(side, "right")
    if s not in ("right", "left"):
        raise S2SGradError(f"scipy.linalg.polar: side={s!r}")
    w, sv, vh = em.svd(a, full_matrices=False)
    u = _mm(em, w, vh)
    # p = V S V^H (right) or W S W^H (left) as SciPy computes it, written as
    # the Hermitian part of u^H a (a u^H): the same matrix up to rounding, and
    # a function of the polar factor, whose derivative exists at repeated
    # singular values (an orthogonal a), where V S V^H's through the singular
    # vectors is NaN (on main 0.08 off, silently)
    if s == "right":       # a = u p
        p = _mm(em, _H(em, u), a)
    else:                  # a = p u
        p = _mm(em, a, _H(em, u))
    return u, em.multiply(em.add(p, _H(em, p)), 0.5)


defcomposite("scipy_polar", sl.polar, expand=_polar_expand, sig="a, /, side='right'",
             doc="scipy.linalg.polar: from the thin SVD (as SciPy computes it), "
                 "np.linalg.svd's rules.")


# ---------------------------------------------------------------- refused with advice
#
# schur/hessenberg: the factors are not functions of the matrix (Z's columns
# are fixed only up to sign, up to rotations within a block of equal
# eigenvalues, and the real form's 2x2 blocks are LAPACK's choice; Q of the
# Hessenberg form is fixed only by Householder sign choices), so SciPy's
# output has no derivative to match; JAX and autograd do not differentiate
# them either.  funm: its Schur-Parlett recurrence divides by differences of
# eigenvalues, so funm of the block matrix [[A, E], [0, A]] (every eigenvalue
# twice) -- the Frechet derivative of any other primary function here -- is
# not accurate in SciPy, and funm's func would need its own derivative.

from .core import explain_refusal  # noqa: E402

_FACTORS = ("is not differentiated: its factors are not unique ({what}), so they are "
            "not a smooth function of the matrix (JAX and autograd do not differentiate it either); use "
            "np.linalg.eigvals/eig (eigh for a symmetric matrix) for eigenvalues, "
            "np.linalg.qr for an orthonormal basis, or scipy.linalg.expm/logm/sqrtm for a "
            "matrix function")
explain_refusal("scipy", "schur", "scipy.linalg.schur", _FACTORS.format(
    what="signs, rotations within equal eigenvalues, LAPACK's choice of 2x2 blocks"))
explain_refusal("scipy", "hessenberg", "scipy.linalg.hessenberg",
                _FACTORS.format(what="Q is fixed only by LAPACK's Householder sign choices"))
explain_refusal("scipy", "funm", "scipy.linalg.funm",
                "is not differentiated: SciPy's Schur-Parlett recurrence divides by "
                "differences of eigenvalues, so it is inaccurate on the block matrix that "
                "carries the derivative, and func's own derivative would be needed; use "
                "scipy.linalg.expm/logm/sqrtm (differentiated exactly), or for a symmetric "
                "A with distinct eigenvalues: w, V = np.linalg.eigh(A); V @ np.diag(f(w)) @ "
                "V.T (NaN at repeated ones)")


# ---------------------------------------------------------------- found by the wider probes
#
# scipy.linalg.eig / eigvals: np.linalg.eig's rules (LAPACK's geev, the same
# eigenvector normalisation), the eigenvalues complex as SciPy returns them;
# khatri_rao, circulant, hankel, companion: gathers and products of the
# entries; solve_continuous_lyapunov: solve_sylvester(a, a^H, q), as SciPy
# defines it; sinm/cosm/sinhm/coshm/tanhm from expm as SciPy computes them.


def _eig_expand(em, a, b=None, left=None, right=None, overwrite_a=None, overwrite_b=None,
                check_finite=None, homogeneous_eigvals=None):
    _only_default("eig", b=(b, None), left=(left, False),
                  homogeneous_eigvals=(homogeneous_eigvals, False))
    if not (right is None or isinstance(right, Const)):
        raise S2SGradError("scipy.linalg.eig: right= must be a constant")
    if right is not None and not right.value:
        return em.add(em.eigvals(a), Const(0j))
    w, v = em.eig(a)
    return em.add(w, Const(0j)), v


defcomposite("scipy_eig", sl.eig, expand=_eig_expand,
             sig="a, /, b=None, left=False, right=True, overwrite_a=False, overwrite_b=False, "
                 "check_finite=True, homogeneous_eigvals=False",
             doc="scipy.linalg.eig (b=None, left=False): np.linalg.eig's rules, complex "
                 "eigenvalues.")


def _eigvals_expand(em, a, b=None, overwrite_a=None, check_finite=None,
                    homogeneous_eigvals=None):
    _only_default("eigvals", b=(b, None), homogeneous_eigvals=(homogeneous_eigvals, False))
    return em.add(em.eigvals(a), Const(0j))


defcomposite("scipy_eigvals", sl.eigvals, expand=_eigvals_expand,
             sig="a, /, b=None, overwrite_a=False, check_finite=True, homogeneous_eigvals=False",
             doc="scipy.linalg.eigvals (b=None): np.linalg.eigvals's rules, complex.")


def _khatri_rao(em, a, b):
    c = em.multiply(em.expand_dims(a, axis=-2), em.expand_dims(b, axis=-3))
    # (..., m, n, k) -> (-1, k) as SciPy reshapes (2-d operands)
    return em.reshape(c, shape=em.make_tuple(Const(-1), em.call(
        "getitem", em.shape(c), _params={"index": -1})))


defcomposite("scipy_khatri_rao", sl.khatri_rao, expand=_khatri_rao, sig="a, b, /",
             doc="scipy.linalg.khatri_rao: the column-wise Kronecker product.")


def _circulant(em, c):
    n = em.call("getitem", em.shape(c), _params={"index": -1})
    i = em.arange(n)
    idx = em.remainder(em.subtract(em.expand_dims(i, axis=1), em.expand_dims(i, axis=0)), n)
    return em.take(c, idx, axis=-1)


defcomposite("scipy_circulant", sl.circulant, expand=_circulant, sig="c, /",
             doc="scipy.linalg.circulant: c[(i - j) % n] (a gather).")


def _hankel(em, c, r=None):
    c = em.ravel(c)
    r = em.zeros_like(c) if r is None or (isinstance(r, Const) and r.value is None) \
        else em.ravel(r)
    vals = em.concatenate(c, em.call("getitem", r, _params={"index": slice(1, None)}), axis=0)
    idx = em.add(em.expand_dims(em.arange(em.len(c)), axis=1),
                 em.expand_dims(em.arange(em.len(r)), axis=0))
    return em.take(vals, idx)


defcomposite("scipy_hankel", sl.hankel, expand=_hankel, sig="c, r=None, /",
             doc="scipy.linalg.hankel: concatenate(c, r[1:])[i + j] (a gather).")


def _companion(em, a):
    n = em.len(a)
    first = em.negative(em.divide(em.call("getitem", a, _params={"index": slice(1, None)}),
                                  em.call("getitem", a, _params={"index": 0})))
    rest = em.eye(em.subtract(n, 2), em.subtract(n, 1), dtype=em.call(
        "result_type", first, _params={"spelling": ("attr", "dtype")}))
    return em.concatenate(em.expand_dims(first, axis=0), rest, axis=0)


defcomposite("scipy_companion", sl.companion, expand=_companion, sig="a, /",
             doc="scipy.linalg.companion (1-d a): first row -a[1:] / a[0], ones below "
                 "the diagonal.")

if hasattr(sl, "solve_continuous_lyapunov"):
    defcomposite("scipy_solve_continuous_lyapunov", sl.solve_continuous_lyapunov,
                 expand=lambda em, a, q: em.call("solve_sylvester", a, em.swapaxes(
                     em.conj_if_complex(a), axis1=-1, axis2=-2), q),
                 sig="a, q, /", doc="scipy.linalg.solve_continuous_lyapunov: "
                                    "solve_sylvester(a, a^H, q).")


def _trig_m(name):
    def expand(em, A):
        if name in ("cosm", "sinm"):
            # SciPy: 0.5 (expm(iA) + expm(-iA)) and 0.5j (expm(-iA) - expm(iA)); for a
            # real A the real (imaginary) part of expm(iA), which this equals
            ep, en = em.expm(em.multiply(A, Const(1j))), em.expm(em.multiply(A, Const(-1j)))
            e = em.multiply(0.5, em.add(ep, en)) if name == "cosm" else \
                em.multiply(Const(0.5j), em.subtract(en, ep))
            return em.call("real_like", e, A)
        ep, en = em.expm(A), em.expm(em.negative(A))
        if name == "sinhm":
            return em.multiply(0.5, em.subtract(ep, en))
        if name == "coshm":
            return em.multiply(0.5, em.add(ep, en))
        return em.call("scipy_solve", em.multiply(0.5, em.add(ep, en)),
                       em.multiply(0.5, em.subtract(ep, en)))
    return expand


for _name in ("cosm", "sinm", "sinhm", "coshm", "tanhm"):
    defcomposite(f"scipy_{_name}", getattr(sl, _name), expand=_trig_m(_name), sig="A, /",
                 doc=f"scipy.linalg.{_name} from expm (real matrices for cosm/sinm).")


# Banded systems: the dense matrix the band storage describes (entry (i, j)
# at ab[u + i - j, j]; solveh_banded's symmetric/Hermitian form from its upper
# or lower band), then solve's rules.  Same solution as LAPACK's banded
# solvers up to rounding; memory n^2 instead of the band's.
def _band_dense(em, ab, l, u):
    n = em.call("getitem", em.shape(ab), _params={"index": -1})
    i = em.expand_dims(em.arange(n), axis=1)
    j = em.expand_dims(em.arange(n), axis=0)
    r = em.add(em.subtract(i, j), u)
    top = em.add(l, u)
    inside = em.logical_and(em.greater_equal(r, 0), em.less_equal(r, top))
    rows = em.minimum(em.maximum(r, 0), top)
    vals = em.take_along_axis(ab, rows, axis=0)
    return em.where(inside, vals, 0)


def _solve_banded(em, l_and_u, ab, b, overwrite_ab=None, overwrite_b=None, check_finite=None):
    if not (isinstance(l_and_u, Const) and len(l_and_u.value) == 2):
        raise S2SGradError("scipy.linalg.solve_banded: (l, u) must be constant integers")
    l, u = (int(k) for k in l_and_u.value)
    return em.call("scipy_solve", _band_dense(em, ab, l, u), b)


def _solveh_banded(em, ab, b, overwrite_ab=None, overwrite_b=None, lower=Const(False),
                   check_finite=None):
    if not isinstance(lower, Const):
        raise S2SGradError("scipy.linalg.solveh_banded: lower= must be a constant")
    k = em.subtract(em.call("getitem", em.shape(ab), _params={"index": 0}), 1)
    band = _band_dense(em, ab, 0, k) if not lower.value else _band_dense(em, ab, k, 0)
    # the triangle read, completed to the symmetric (Hermitian) matrix
    diag = em.multiply(band, em.eye(em.call("getitem", em.shape(ab), _params={"index": -1})))
    other = em.swapaxes(em.conj_if_complex(band), axis1=-1, axis2=-2)
    full = em.subtract(em.add(band, other), em.real_if_complex(diag))
    return em.call("scipy_solve", full, b, assume_a=Const("pos"))


defcomposite("scipy_solve_banded", sl.solve_banded, expand=_solve_banded,
             sig="l_and_u, ab, b, /, overwrite_ab=False, overwrite_b=False, check_finite=True",
             doc="scipy.linalg.solve_banded: solve with the dense band matrix.")
defcomposite("scipy_solveh_banded", sl.solveh_banded, expand=_solveh_banded,
             sig="ab, b, /, overwrite_ab=False, overwrite_b=False, lower=False, "
                 "check_finite=True",
             doc="scipy.linalg.solveh_banded: solve with the dense symmetric band matrix.")


def _fractional_matrix_power(em, A, t):
    if not (isinstance(t, Const) and isinstance(t.value, (int, float))):
        raise S2SGradError("scipy.linalg.fractional_matrix_power: the power t must be a "
                           "constant number")
    if float(t.value).is_integer():
        from .decompositions import _matrix_power_expand
        return _matrix_power_expand(em, A, Const(int(t.value)))
    # A^t = expm(t logm(A)) (the principal power; logm's domain and rules)
    return em.expm(em.multiply(float(t.value), em.logm(A)))


defcomposite("scipy_fractional_matrix_power", sl.fractional_matrix_power,
             expand=_fractional_matrix_power, sig="A, t, /",
             doc="scipy.linalg.fractional_matrix_power: expm(t logm(A)) (integer t: "
                 "matrix_power).")


def _solve_discrete_lyapunov(em, a, q, method=None):
    # SciPy's 'bilinear' reduction to the continuous equation (its method for
    # n >= 10; 'direct' solves the same equation by a Kronecker system)
    if method is not None and not isinstance(method, Const):
        raise S2SGradError("scipy.linalg.solve_discrete_lyapunov: method= must be a constant")
    n = em.len(a)
    eye = em.eye(n)
    aH = em.swapaxes(em.conj_if_complex(a), axis1=-1, axis2=-2)
    aHI_inv = em.inv(em.add(aH, eye))
    b = em.matmul(em.subtract(aH, eye), aHI_inv)
    c = em.multiply(2.0, em.matmul(em.matmul(em.inv(em.add(a, eye)), q), aHI_inv))
    bH = em.swapaxes(em.conj_if_complex(b), axis1=-1, axis2=-2)
    return em.call("solve_sylvester", bH, em.swapaxes(em.conj_if_complex(bH), axis1=-1,
                                                        axis2=-2), em.negative(c))


defcomposite("scipy_solve_discrete_lyapunov", sl.solve_discrete_lyapunov,
             expand=_solve_discrete_lyapunov, sig="a, q, /, method=None",
             doc="scipy.linalg.solve_discrete_lyapunov: SciPy's bilinear reduction to "
                 "solve_sylvester.")


# ---------------------------------------------------------------- session 21 (cov8)
#
# eigh(a, b) / eigvalsh(a, b): the generalized symmetric-definite problem
# A V = B V diag(w), V^T B V = I (type=1; real matrices, one triangle of each
# read as SciPy does).  With M = V^T dA V, N = V^T dB V, F_ij = 1/(w_j - w_i):
#   dw = diag(M) - diag(N) w,   dV = V X,  X = F o (M - N diag(w)) - diag(N)/2
# and the transpose, with P = diag(w_bar) + F o (V^T V_bar):
#   A_bar = V P V^T,   B_bar = -V (P diag(w) + diag(V^T V_bar)/2) V^T
# (then onto the triangle read).  Repeated eigenvalues, also numerically
# repeated ones: decompositions._pair_F (NaN unless the pair's coupling is 0).

from .decompositions import _cols, _diag_embed, _diagonal, _pair_F  # noqa: E402


def _gen_eigh_vectors(em, a, b, lower, driver):
    return em.call("scipy_eigh_gen", a, b, lower=lower, driver=driver)[1]


def _gen_eigh_jvp(em, dots, out, a, b, lower=None, eigvals_only=None, driver=None):
    up = not _flag(lower, True)
    only = _flag(eigvals_only, False)
    if only:
        w, V = out, _gen_eigh_vectors(em, a, b, lower, driver)
    else:
        w, V = out
    V = _real(em, V, "scipy.linalg.eigh(a, b)")
    K = dN = None
    if dots[0] is not None:
        K = _mm(em, _T(em, V), _mm(em, _read_tangent(em, dots[0], up), V))
    if dots[1] is not None:
        N = _mm(em, _T(em, V), _mm(em, _read_tangent(em, dots[1], up), V))
        dN = _diagonal(em, N)
        NW = em.negative(_cols(em, N, w))
        K = NW if K is None else em.add(K, NW)
    dw = _diagonal(em, K)
    if only:
        return dw
    X = em.multiply(_pair_F(em, w, K, K), K)
    if dN is not None:
        X = em.subtract(X, _diag_embed(em, em.multiply(dN, 0.5)))
    return dw, _mm(em, V, X)


def _gen_eigh_vjp(em, g, out, a, b, lower=None, eigvals_only=None, driver=None):
    up = not _flag(lower, True)
    only = _flag(eigvals_only, False)
    if only:
        (w, V), (wbar, Vbar) = (out, _gen_eigh_vectors(em, a, b, lower, driver)), (g, None)
    else:
        (w, V), (wbar, Vbar) = out, g
    V = _real(em, V, "scipy.linalg.eigh(a, b)")
    P = None if wbar is None else _diag_embed(em, wbar)
    half = None
    if Vbar is not None:
        G = _mm(em, _T(em, V), Vbar)
        # B_bar's pair term F_ij G_ij w_j does not cancel at a tie when
        # G_ij - G_ji does (its limit is G_ji): a tie is 0 only where G_ij is
        # exactly 0 (scale 0), NaN otherwise
        P = _add_ct(em, P, em.multiply(_pair_F(em, w, G, 0.0), G))
        half = _diag_embed(em, em.multiply(_diagonal(em, G), 0.5))
    if P is None:
        return [None, None]
    Vt = _T(em, V)
    abar = _mm(em, V, _mm(em, P, Vt))
    inner = _cols(em, P, w)
    if half is not None:
        inner = em.add(inner, half)
    bbar = em.negative(_mm(em, V, _mm(em, inner, Vt)))
    return [_read_cotangent(em, abar, up), _read_cotangent(em, bbar, up)]


def _add_ct(em, a, b):
    return b if a is None else em.add(a, b)


def _gen_eigh_nouts(args, kwargs):
    only = kwargs.get("eigvals_only")
    return 1 if isinstance(only, Const) and only.value else 2


def _gen_eigh_impl(a, b, lower=True, eigvals_only=False, driver=None):
    return sl.eigh(a, b, lower=lower, eigvals_only=eigvals_only, driver=driver)


defprim("scipy_eigh_gen", _gen_eigh_impl, sig="a, b, /, lower=True, eigvals_only=False, "
        "driver=None", pyname=_PY + "eigh", vjp=_gen_eigh_vjp, jvp=_gen_eigh_jvp,
        nouts=_gen_eigh_nouts,
        shape=lambda args, kwargs: shape_fresh(args, kwargs)
        if _gen_eigh_nouts(args, kwargs) == 1 else (shape_fresh(args, kwargs),
                                                    shape_of(args[0])),
        doc="scipy.linalg.eigh(a, b): the generalized symmetric-definite problem (type=1, "
            "real), differentiated in a and b.")


def _none(v):
    return v is None or (isinstance(v, Const) and v.value is None)


def _eigh_dispatch(em, a, b=None, *, lower=None, eigvals_only=None, overwrite_a=None,
                   overwrite_b=None, type=None, check_finite=None, subset_by_index=None,
                   subset_by_value=None, driver=None):
    if _none(b):
        kw = {k: v for k, v in dict(lower=lower, eigvals_only=eigvals_only, type=type,
                                    subset_by_index=subset_by_index,
                                    subset_by_value=subset_by_value, driver=driver).items()
              if v is not None}
        out = em.call("scipy_eigh", a, **kw)
        return tuple(out) if isinstance(out, (tuple, list)) else out
    if _flag(type, 1) != 1 or not _none(subset_by_index) or not _none(subset_by_value):
        raise S2SGradError("scipy.linalg.eigh(a, b) is differentiated for type=1 with all "
                           "eigenvalues (no subset_by_*)")
    out = em.call("scipy_eigh_gen", a, b, lower=True if lower is None else lower,
                  eigvals_only=False if eigvals_only is None else eigvals_only,
                  driver=driver)
    return tuple(out) if isinstance(out, (tuple, list)) else out


_EIGH_SIG = ("a, b=None, *, lower=True, eigvals_only=False, overwrite_a=False, "
             "overwrite_b=False, type=1, check_finite=True, subset_by_index=None, "
             "subset_by_value=None, driver=None")
register_object(sl.eigh, defcomposite("scipy_eigh_public", None, sig=_EIGH_SIG,
                                      expand=_eigh_dispatch,
                                      doc="scipy.linalg.eigh: the standard or the "
                                          "generalized (b=) problem."), replace=True)
register_object(sl.eigvalsh, defcomposite(
    "scipy_eigvalsh_public", None, sig=_EIGH_SIG.replace("eigvals_only=False, ", ""),
    expand=lambda em, a, b=None, **kw: _eigvalsh_expand(em, a, **kw) if _none(b)
    else _eigh_dispatch(em, a, b, eigvals_only=Const(True), **kw),
    doc="scipy.linalg.eigvalsh: the standard or the generalized (b=) problem."), replace=True)


# rq(a) = (R, Q), a = R Q: with phi(X) = J X^T J (J the exchange matrix;
# linear, its own transpose and inverse), phi(a) = phi(Q) phi(R) is a QR
# decomposition (phi(Q) orthonormal columns, phi(R) upper triangular), so
# the rules are np.linalg.qr's at SciPy's own factors carried through phi:
# modes 'economic' <-> 'reduced', 'full' <-> 'complete' (the complement of a
# wide matrix's Q as the complete QR's), 'r' (the full R) through the full factors.

def _phi(em, x):
    return None if x is None else em.flip(_T(em, x), axis=(-2, -1))


def _rq_mode(mode):
    m = _flag(mode, "full")
    if m not in ("full", "economic", "r"):
        raise S2SGradError(f"scipy.linalg.rq: mode={m!r} is not differentiated (use 'full', "
                           f"'economic' or 'r')")
    return m


def _rq_factors(em, a, out, m):
    R, Q = em.call("scipy_rq", a, mode="full") if m == "r" else out
    return Const("reduced" if m == "economic" else "complete"), (_phi(em, Q), _phi(em, R))


def _rq_jvp(em, dots, out, a, mode=None, **_):
    from .decompositions import _qr_jvp
    m = _rq_mode(mode)
    qmode, qr_out = _rq_factors(em, a, out, m)
    dQ, dR = _qr_jvp(em, [_phi(em, dots[0])], qr_out, _phi(em, a), mode=qmode)
    return _phi(em, dR) if m == "r" else (_phi(em, dR), _phi(em, dQ))


def _rq_vjp(em, g, out, a, mode=None, **_):
    from .decompositions import _qr_vjp
    m = _rq_mode(mode)
    qmode, qr_out = _rq_factors(em, a, out, m)
    Rbar, Qbar = (g, None) if m == "r" else g
    [ct] = _qr_vjp(em, (_phi(em, Qbar), _phi(em, Rbar)), qr_out, _phi(em, a), mode=qmode)
    return [_phi(em, ct)]


def _rq_nouts(args, kwargs):
    mode = kwargs.get("mode")
    return 1 if isinstance(mode, Const) and mode.value == "r" else 2


defprim("scipy_rq", sl.rq, sig="a, /, overwrite_a=False, lwork=None, mode='full', "
        "check_finite=True", pyname=_PY + "rq", vjp=_rq_vjp, jvp=_rq_jvp, nouts=_rq_nouts,
        shape=lambda args, kwargs: shape_fresh(args, kwargs) if _rq_nouts(args, kwargs) == 1
        else (shape_fresh(args, kwargs), shape_fresh(args, kwargs)),
        doc="scipy.linalg.rq: np.linalg.qr's rules through a = R Q <-> phi(a) = "
            "phi(Q) phi(R), phi(X) = J X^T J.")


# orth(A) = U[:, :r], null_space(A) = Vh[r:, :]^H (r the numerical rank, as
# SciPy computes it, data): np.linalg.svd's rules -- the null space's
# vectors past min(m, n) through the full SVD's complement rule (exact for a
# one-dimensional complement; a larger one is LAPACK's basis and refused).
from .indexing import Slot  # noqa: E402

defprim("svd_rank", runtime.svd_rank, sig="s, u, vh, /, rcond=None", nondiff=True,
        pyname="svd_rank", shape=shape_fresh,
        doc="runtime helper: scipy.linalg.orth/null_space's numerical rank (data).")


def _orth_expand(em, A, rcond=None):
    u, s, vh = em.svd(A, full_matrices=False)
    num = em.call("svd_rank", s, u, vh, rcond=rcond)
    return em.call("getitem", u, num, _params={"index": (slice(None), slice(None, Slot(0)))})


def _null_space_expand(em, A, rcond=None, *, overwrite_a=None, check_finite=None,
                       lapack_driver=None):
    _only_default("null_space", lapack_driver=(lapack_driver, "gesdd"))
    u, s, vh = em.svd(A, full_matrices=True)
    num = em.call("svd_rank", s, u, vh, rcond=rcond)
    rows = em.call("getitem", vh, num, _params={"index": (slice(Slot(0), None), slice(None))})
    return _H(em, rows)


defcomposite("scipy_orth", sl.orth, sig="A, rcond=None", expand=_orth_expand,
             doc="scipy.linalg.orth: the leading columns of np.linalg.svd's U.")
defcomposite("scipy_null_space", sl.null_space,
             sig="A, rcond=None, *, overwrite_a=False, check_finite=True, "
                 "lapack_driver='gesdd'",
             expand=_null_space_expand,
             doc="scipy.linalg.null_space: the trailing rows of np.linalg.svd's Vh.")


# ---------------------------------------------------------------- session 23 (linalg10)
#
# eigh_tridiagonal(d, e): the eigenproblem of the symmetric tridiagonal T =
# diag(d) + diag(e, 1) + diag(e, -1), with SciPy's own eigenvalues and vectors
# (its LAPACK driver, its signs): eigh's rules with the tangent tridiag(dd, de)
# and the cotangent read back from the diagonals of the symmetric A_bar
# (d_bar = diag(M), e_bar = diag(M, 1) + diag(M, -1)).  Ties as eigh's
# (decompositions._pair_F).  select='a' only (a subset's count can change).


def _eigh_tri_opts(select=None, eigvals_only=None, **kw):
    if _flag(select, "a") != "a":
        raise S2SGradError("scipy.linalg.eigh_tridiagonal is differentiated with select='a' "
                           "(all eigenvalues) only: the count of a selection can jump; "
                           "select the eigenvalues from the full result")
    return _flag(eigvals_only, False)


def _eigh_tri_vectors(em, d, e, out, only, kw):
    if not only:
        return out
    keep = {k: v for k, v in kw.items() if k in ("tol", "lapack_driver", "check_finite")}
    w, V = em.call("scipy_eigh_tridiagonal_inner", d, e, **keep)
    return w, V


def _eigh_tri_jvp(em, dots, out, d, e, **kw):
    only = _eigh_tri_opts(**kw)
    w, V = _eigh_tri_vectors(em, d, e, out, only, kw)
    dd, de = dots
    S = None
    if dd is not None:
        S = em.diag(dd)
    if de is not None:
        off = em.add(em.diag(de, k=1), em.diag(de, k=-1))
        S = off if S is None else em.add(S, off)
    C = _mm(em, _T(em, V), _mm(em, S, V))
    dw = _diagonal(em, C)
    if only:
        return dw
    return dw, _mm(em, V, em.multiply(_pair_F(em, w, C, C), C))


def _eigh_tri_vjp(em, g, out, d, e, strict=False, **kw):
    only = _eigh_tri_opts(**kw)
    w, V = _eigh_tri_vectors(em, d, e, out, only, kw)
    wbar, Vbar = (g, None) if only else g
    inner = None if wbar is None else _diag_embed(em, wbar)
    if Vbar is not None:
        G = _mm(em, _T(em, V), Vbar)
        F = _pair_F(em, w, em.subtract(G, _T(em, G)), 0.0 if strict else G, wbar)
        inner = _add_ct(em, inner, em.multiply(F, G))
    if inner is None:
        return [None, None]
    M = _mm(em, V, _mm(em, inner, _T(em, V)))
    return [em.diag(M), em.add(em.diag(M, k=1), em.diag(M, k=-1))]


def _eigh_tri_nouts(args, kwargs):
    only = kwargs.get("eigvals_only")
    return 1 if isinstance(only, Const) and only.value else 2


_EIGH_TRI = defprim(
    "scipy_eigh_tridiagonal", sl.eigh_tridiagonal,
    sig="d, e, /, eigvals_only=False, select='a', select_range=None, check_finite=True, "
        "tol=0.0, lapack_driver='auto'",
    pyname=_PY + "eigh_tridiagonal", vjp=_eigh_tri_vjp, jvp=_eigh_tri_jvp,
    nouts=_eigh_tri_nouts,
    shape=lambda args, kwargs: shape_fresh(args, kwargs)
    if _eigh_tri_nouts(args, kwargs) == 1 else (shape_fresh(args, kwargs),
                                                shape_fresh(args, kwargs)),
    doc="scipy.linalg.eigh_tridiagonal(d, e): eigh's rules on the tridiagonal matrix, "
        "with SciPy's eigenvalues and vectors (select='a').")
register_object(sl.eigh_tridiagonal, _EIGH_TRI, replace=True)
# the vectors recomputed for eigvals_only=True's rules (decompositions.eigh_inner's note)
def _eigh_tri_inner(d, e, eigvals_only=False, select="a", select_range=None, check_finite=True,
                    tol=0.0, lapack_driver="auto"):
    return sl.eigh_tridiagonal(d, e, eigvals_only=eigvals_only, select=select,
                               select_range=select_range, check_finite=check_finite, tol=tol,
                               lapack_driver=lapack_driver)


defprim("scipy_eigh_tridiagonal_inner", _eigh_tri_inner,
        sig="d, e, /, eigvals_only=False, select='a', select_range=None, check_finite=True, "
            "tol=0.0, lapack_driver='auto'",
        pyname=_PY + "eigh_tridiagonal", jvp=_eigh_tri_jvp, nouts=_eigh_tri_nouts,
        vjp=lambda em, g, out, d, e, **kw: _eigh_tri_vjp(em, g, out, d, e, strict=True, **kw),
        shape=lambda args, kwargs: shape_fresh(args, kwargs)
        if _eigh_tri_nouts(args, kwargs) == 1 else (shape_fresh(args, kwargs),
                                                    shape_fresh(args, kwargs)),
        doc="scipy.linalg.eigh_tridiagonal recomputed inside a rule: ties strict in reverse "
            "mode.")
