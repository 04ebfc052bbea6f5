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

__all__ = ["real_if_complex", "conj_if_complex", "csign", "require_real", "check_real",
           "real_like", "grad_like"]


# ---------------------------------------------------------------- complex numbers


def real_if_complex(x):
    """The real part of a complex ``x``; a real ``x`` itself.  (The cotangent
    of a real value is real: an imaginary part pairs with no direction.)"""
    return np.real(x) if np.iscomplexobj(x) else x


def conj_if_complex(x):
    """The complex conjugate of a complex ``x``; a real ``x`` itself (no copy)."""
    return np.conjugate(x) if np.iscomplexobj(x) else x


def real_like(t, like):
    """The real part of ``t`` where ``like`` is real, else ``t``: the tangent of
    a value whose type is decided at run time (np.real_if_close)."""
    if np.iscomplexobj(t) and not np.iscomplexobj(like):
        return np.real(t)
    return t


def grad_like(g, x):
    """``g`` as the gradient of the argument ``x`` (what ``api._fix_grad`` does
    at the top level, for a gradient taken inside a differentiated function):
    its real part where ``x`` is real, in ``x``'s floating dtype (a float32
    argument's gradient is float32 although float64 constants met it)."""
    if np.iscomplexobj(g) and not np.iscomplexobj(x):
        g = np.real(g)
    xd = getattr(x, "dtype", None)
    if xd is not None and xd.kind in "fc" and isinstance(g, (np.ndarray, np.generic)) \
            and g.dtype.kind in "fc" and g.dtype != xd:
        g = g.astype(xd)
    return g


def require_real(x, what=""):
    """``x`` itself; a complex ``x`` is refused (a rule written for real
    matrices would give a wrong derivative)."""
    if np.iscomplexobj(x):
        raise TypeError(f"s2sgrad differentiates {what} of real matrices only, not of "
                        f"{np.result_type(x)} ones; for complex input use np.linalg.eig, or "
                        f"write the real and imaginary parts as a real block matrix")
    return x


def check_real(x, what=""):
    """Refuse a complex ``x`` flowing into ``what``, an operation whose
    derivative s2sgrad takes as 0 -- right for real values only (``np.sign``
    of a complex ``z`` is ``z / |z|``)."""
    if np.iscomplexobj(x):
        raise TypeError(f"s2sgrad differentiates {what} of real values only (its derivative "
                        f"is 0 there), not of {np.result_type(x)} ones, whose derivative is "
                        f"not 0; write np.sign(z) as z / np.abs(z) to differentiate it")


def csign(x):
    """d|x|/dx as the cotangent convention needs it: ``sign(x)`` for a real
    ``x``, ``conj(z) / |z|`` for a complex ``z``; 0 at 0."""
    if not np.iscomplexobj(x):
        return np.sign(x)
    r = np.abs(x)
    return np.conjugate(x) / np.where(r == 0, 1, r)


# ---------------------------------------------------------------- FFT
#
# Every np.fft transform is one of four n-dimensional kinds -- "fft" and
# "ifft" (complex to complex), "rfft" (real to half-spectrum), "irfft"
# (half-spectrum to real) -- over some axes, after zero-padding or cropping
# the input to the lengths ``s``.  ``fft_vjp`` is the transpose of each
# (paired by <a, b> = Re(sum(a * b))):
#
# * the DFT matrix is symmetric, so fftn's transpose is fftn (ifftn's is
#   ifftn), followed by undoing the pad/crop;
# * rfftn keeps the first n // 2 + 1 bins of the last axis of a real input:
#   its transpose is Re(fftn(zero-padded g)), computed as a real transform,
#   irfftn(conj(g) / a) with the weights a = 2 on the bins that stand for two
#   (1 .. ceil(n/2) - 1; not the DC bin, nor the Nyquist bin of an even n);
# * irfftn reads those bins as a Hermitian spectrum (each interior bin
#   counted twice, the imaginary parts of the DC and Nyquist bins dropped):
#   its transpose is a * conj(rfftn(g)).
# The scale factors match with the norm swapped ("backward" <-> "forward").

__all__ += ["fft_vjp"]

_SWAP_NORM = {None: "forward", "backward": "forward", "ortho": "ortho", "forward": "backward"}


def swap_norm(norm):
    return _SWAP_NORM[norm]


def fft_plan(shape, kind, s, axes):
    """NumPy's transform lengths and (non-negative) axes for an input of ``shape``."""
    nd = len(shape)
    if axes is None:
        axes = tuple(range(nd - len(s), nd)) if s is not None else tuple(range(nd))
    axes = tuple(a % nd for a in axes)
    if s is None:
        s = [shape[a] for a in axes]
        if kind == "irfft":
            s[-1] = 2 * (shape[axes[-1]] - 1)
    return list(s), axes


def fit_axes(v, shape, axes):
    """``v`` cropped or zero-padded at the end of each of ``axes`` to ``shape``'s
    lengths there (the transpose of the same operation the other way)."""
    for a in axes:
        n, m = v.shape[a], shape[a]
        if n > m:
            v = v[(slice(None),) * a + (slice(0, m),)]
        elif n < m:
            pad = [(0, 0)] * v.ndim
            pad[a] = (0, m - n)
            v = np.pad(v, pad)
    return v


def _scale_interior_bins(v, n, axis, c):
    """``v`` with the bins 1 .. ceil(n/2) - 1 along ``axis`` multiplied by ``c``."""
    w = np.ones(v.shape[axis], dtype=np.result_type(v.real.dtype, np.float32))
    w[1:(n + 1) // 2] = c
    return v * w.reshape((-1,) + (1,) * (v.ndim - 1 - axis))


def fft_vjp(g, x, kind, s=None, axes=None, norm=None):
    """The cotangent of ``x`` in the n-dimensional transform ``kind`` ("fft",
    "ifft", "rfft", "irfft") of ``x`` with lengths ``s`` over ``axes``, given
    the output cotangent ``g``."""
    g = np.asarray(g)
    shape = np.shape(x)
    s, axes = fft_plan(shape, kind, s, axes)
    if kind == "fft":
        ct = np.fft.fftn(g, axes=axes, norm=norm)
    elif kind == "ifft":
        ct = np.fft.ifftn(g, axes=axes, norm=norm)
    elif kind == "rfft":
        z = _scale_interior_bins(np.conjugate(g), s[-1], axes[-1], 0.5)
        ct = np.fft.irfftn(z, s=s, axes=axes, norm=swap_norm(norm))
    elif kind == "irfft":      # (a real output's cotangent is real: its real part)
        z = np.fft.rfftn(real_if_complex(g), s=s, axes=axes, norm=swap_norm(norm))
        ct = _scale_interior_bins(np.conjugate(z), s[-1], axes[-1], 2.0)
    else:
        raise ValueError(f"unknown FFT kind {kind!r}")
    return fit_axes(ct, shape, axes)


# ---------------------------------------------------------------- matrix decompositions

__all__ += ["tril_part", "resize_axis", "lstsq_res_ct", "lstsq_res_t"]


def tril_part(x, diag=1.0):
    """The strictly lower triangle of (a stack of) matrices ``x`` plus ``diag``
    times its diagonal; zeros above.  A diagonal mask: its own transpose."""
    out = np.tril(x, -1)
    if diag != 0:
        n = min(np.shape(x)[-2:])
        i = np.arange(n)
        d = np.asarray(x)[..., i, i]
        out[..., i, i] = d if diag == 1 else d * diag
    return out


def resize_axis(v, like, axis=-1, like_axis=-1):
    """``v`` cropped or zero-padded at the end of ``axis`` to the length of
    ``like`` along ``like_axis`` (crop and pad are each other's transposes)."""
    v = np.asarray(v)
    axis = axis % v.ndim
    m = np.shape(like)[like_axis]
    return fit_axes(v, v.shape[:axis] + (m,) + v.shape[axis + 1:], (axis,))


def lstsq_res_ct(g, r):
    """``r * g`` for the cotangent ``g`` of lstsq's residuals (``g`` of shape
    (k,) or (1,)), or zeros when lstsq returned no residuals (``g`` empty)."""
    g = np.asarray(g)
    if g.size == 0:
        return np.zeros_like(r)
    return r * g if np.ndim(r) == 2 else r * g[0]


def lstsq_res_t(h, r, like):
    """The transpose of :func:`lstsq_res_ct` in ``g``: ``sum(r * h, axis=0)``
    shaped like the residuals ``like`` (empty when they are)."""
    like = np.asarray(like)
    if like.size == 0:
        return np.zeros(like.shape, dtype=np.result_type(h, r))
    s = np.sum(r * h, axis=0)
    return np.reshape(s, like.shape)


# ---------------------------------------------------------------- scipy.linalg
#
# Generated code calls SciPy through ``scipy_linalg``, a stand-in for the
# module that imports it at its first use (s2sgrad itself never imports
# SciPy; these helpers run only in programs that use it).

__all__ += ["scipy_linalg", "frechet_block", "top_right", "diag_blocks_sum", "apply_pivots",
            "unapply_pivots", "cho_factor_c", "matfun_domain", "sqrtm_checked"]


class _LazyModule:
    """``scipy_linalg.expm`` is ``scipy.linalg.expm``, imported when first used."""

    def __init__(self, name):
        self._name = name

    def __getattr__(self, attr):
        import importlib
        return getattr(importlib.import_module(self._name), attr)

    def __repr__(self):
        return f"<module {self._name!r}, imported when first used>"


scipy_linalg = _LazyModule("scipy.linalg")


def frechet_block(a, e):
    """The block matrix [[a, e], [0, a]] (stacks too): expm of it holds the
    Frechet derivative of expm at a in the direction e in its top-right block."""
    a, e = np.asarray(a), np.asarray(e)
    n = a.shape[-1]
    batch = np.broadcast_shapes(a.shape[:-2], e.shape[:-2])
    out = np.zeros(batch + (2 * n, 2 * n), dtype=np.result_type(a, e))
    out[..., :n, :n] = a
    out[..., n:, n:] = a
    out[..., :n, n:] = e
    return out


def matfun_domain(a, fname="logm"):
    """``a`` itself, checked to be a point where ``scipy.linalg.<fname>``
    (``logm``, ``sqrtm``: principal branches) has a derivative: no
    eigenvalue 0 (numerically: below n * eps * the largest modulus; the
    function is singular there, its derivative infinite) and, for a complex
    ``a``, none on the negative real axis (the branch cut, where it jumps).
    A real ``a`` may have negative eigenvalues: SciPy's result is then
    complex, and smooth along real perturbations (a simple real eigenvalue
    stays real)."""
    a = np.asarray(a)
    w = np.linalg.eigvals(a)
    if w.size:
        mod = np.abs(w)
        eps = np.finfo(np.result_type(a.dtype, np.float32)).eps
        tol = eps * a.shape[-1] * np.max(mod, axis=-1, keepdims=True)
        if np.any(mod <= tol):
            raise ValueError(f"s2sgrad: the derivative of scipy.linalg.{fname} is undefined at "
                             f"a singular matrix (an eigenvalue is 0 to working precision, "
                             f"where the derivative is infinite); SciPy's {fname} may warn "
                             f"there and its value is not accurate")
        if np.iscomplexobj(a) and np.any((w.imag == 0) & (w.real < 0)):
            raise ValueError(f"s2sgrad: the derivative of scipy.linalg.{fname} is undefined at "
                             f"a complex matrix with an eigenvalue on the negative real axis "
                             f"(the branch cut of the principal {fname[:-1]})")
    return a


def sqrtm_checked(a, s):
    """``s`` (sqrtm of ``a``), returned after ``a`` was checked: ``a`` is
    :func:`matfun_domain`'s result, so the check runs before the derivative."""
    return s


def top_right(m):
    """The top-right quarter of (a stack of) 2n x 2n matrices."""
    n = np.shape(m)[-1] // 2
    return m[..., :n, n:]


def diag_blocks_sum(m):
    """The sum of the two diagonal n x n blocks of 2n x 2n matrices."""
    n = np.shape(m)[-1] // 2
    return m[..., :n, :n] + m[..., n:, n:]


def apply_pivots(x, piv):
    """``P @ x`` for the row interchanges ``piv`` of LAPACK's LU (row i swapped
    with row piv[i], in order)."""
    x = np.array(x, copy=True)
    for i, p in enumerate(np.asarray(piv).tolist()):
        if p != i:
            x[[i, p]] = x[[p, i]]
    return x


def unapply_pivots(x, piv):
    """``P.T @ x``: the interchanges undone, in reverse order."""
    x = np.array(x, copy=True)
    for i, p in reversed(list(enumerate(np.asarray(piv).tolist()))):
        if p != i:
            x[[i, p]] = x[[p, i]]
    return x


def cho_factor_c(a, lower=False):
    """The array of ``scipy.linalg.cho_factor(a, lower)`` (its flag is static)."""
    return scipy_linalg.cho_factor(a, lower=lower)[0]


# ---------------------------------------------------------------- scipy.signal
#
# A convolution in mode 'full' has shape na + nb - 1 per axis; 'same' keeps
# the centred na of it, 'valid' the centred |na - nb| + 1 (SciPy's _centered:
# start (full - n) // 2; correlate2d's 'same' starts at ceil((full - n) / 2),
# mode "same2d" here).  The transpose of the crop is the embedding into zeros
# of the full shape.

__all__ += ["scipy_signal", "conv_embed", "conv_crop", "flip_all"]

scipy_signal = _LazyModule("scipy.signal")


def _conv_window(a, b, mode):
    sa, sb = np.shape(a), np.shape(b)
    full = tuple(p + q - 1 for p, q in zip(sa, sb))
    if mode == "full":
        keep = full
    elif mode in ("same", "same2d"):
        keep = sa
    elif mode == "valid":
        keep = tuple(abs(p - q) + 1 for p, q in zip(sa, sb))
    else:
        raise ValueError(f"unknown convolution mode {mode!r}")
    # "same2d": correlate2d centres the other way, start ceil((full - n) / 2)
    up = 1 if mode == "same2d" else 0
    return full, tuple(slice((f - k + up) // 2, (f - k + up) // 2 + k)
                       for f, k in zip(full, keep))


def conv_embed(g, a, b, mode):
    """``g`` (shaped like ``convolve(a, b, mode)``) placed in zeros shaped like
    the 'full' convolution of ``a`` and ``b``."""
    full, window = _conv_window(a, b, mode)
    out = np.zeros(full, dtype=np.result_type(g))
    out[window] = g
    return out


def conv_crop(f, a, b, mode):
    """The part of a 'full'-shaped ``f`` that ``convolve(a, b, mode)`` keeps."""
    return f[_conv_window(a, b, mode)[1]]


def flip_all(x):
    """``x`` reversed along every axis."""
    return np.asarray(x)[(slice(None, None, -1),) * np.ndim(x)]


def det_cofactor(a):
    """The cofactor matrix ``C`` of (a stack of) square matrices, ``d det(A) =
    sum(C * dA)``: ``det(A) inv(A).T`` where ``A`` is invertible, and still
    the derivative where it is not (a singular matrix has a cofactor matrix,
    zero when its rank is below n - 1).  From the SVD ``A = U S Vh``:
    ``C = det(U) det(Vh) conj(U) adj(S) conj(Vh)``, ``adj(S)_i`` the product
    of the other singular values (exclusive prefix and suffix products, no
    division)."""
    a = np.asarray(a)
    n = a.shape[-1]
    if n == 0:
        return np.zeros_like(a, dtype=np.result_type(a, np.float32))
    u, s, vh = np.linalg.svd(a)
    ones = np.ones(s.shape[:-1] + (1,), dtype=s.dtype)
    before = np.cumprod(np.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)
    after = np.flip(np.cumprod(np.concatenate([ones, np.flip(s[..., 1:], -1)], axis=-1),
                               axis=-1), -1)
    adj_s = before * after
    phase = np.linalg.det(u) * np.linalg.det(vh)
    c = np.matmul(np.conj(u) * adj_s[..., None, :], np.conj(vh))
    out = phase[..., None, None] * c
    return out if np.iscomplexobj(a) else np.real(out).astype(np.result_type(a, np.float32))


__all__ += ["det_cofactor"]


#: The condition number above which a derivative computed through ``inv(a)``
#: is refused (require_nonsingular): its terms grow like ``cond(a)`` and
#: cancel, leaving an error of about ``cond(a) * eps`` relative to the result
#: (2e-8 here), as at a singular matrix, where they are not defined at all.
NONSINGULAR_COND = 1e8


def require_nonsingular(a, what=""):
    """``a`` itself, checked to be well enough conditioned for ``what``'s
    derivative, which uses ``inv(a)``: a singular or nearly singular matrix
    in the stack (condition number above ``NONSINGULAR_COND``) is refused
    naming ``what``, rather than giving a wrong number or failing in NumPy."""
    if np.size(a):
        with np.errstate(all="ignore"):
            cond = np.linalg.cond(a)
        if not np.all(cond <= NONSINGULAR_COND):
            raise ValueError(f"s2sgrad: {what} is not supported at a singular or nearly "
                             f"singular matrix (condition number {np.max(cond):.3g}; it uses "
                             f"the inverse); the first derivative is exact there")
    return a


__all__ += ["require_nonsingular"]


__all__ += ["tensorinv_shapes", "tensorsolve_shapes"]


def tensorinv_shapes(a, ind=2):
    """``(matrix shape, result shape)`` of ``np.linalg.tensorinv(a, ind)``:
    ``inv(a.reshape(matrix shape)).reshape(result shape)``."""
    shape = np.shape(a)
    rows = int(np.prod(shape[:ind]))
    return (rows, -1), shape[ind:] + shape[:ind]


def tensorsolve_shapes(a, b):
    """``(matrix shape, result shape)`` of ``np.linalg.tensorsolve(a, b)``
    (its axes already moved to the end): ``solve(a.reshape(matrix shape),
    b.ravel()).reshape(result shape)``."""
    shape = np.shape(a)
    out = shape[-(len(shape) - np.ndim(b)):]
    return (-1, int(np.prod(out))), out


# ---------------------------------------------------------------- block_diag, toeplitz adjoints


def _as_block(x):
    """How scipy.linalg.block_diag sees an argument: 0-d and 1-d as one row."""
    x = np.asarray(x)
    return x.reshape((1, -1)) if x.ndim < 2 else x


def unblock_diag(g, *arrs):
    """The adjoint of ``scipy.linalg.block_diag``: each argument's diagonal
    block of ``g``, shaped like the argument."""
    out, r, c = [], 0, 0
    for a in arrs:
        m, n = _as_block(a).shape
        out.append(np.asarray(g)[r:r + m, c:c + n].reshape(np.shape(a)))
        r, c = r + m, c + n
    return tuple(out)


def _diag_sums(g, offsets):
    """``[sum of g's diagonal k for k in offsets]`` (k > 0 above the main one)."""
    g = np.asarray(g)
    dt = g.dtype if g.dtype.kind in "fc" else np.float64
    return np.array([np.trace(g, offset=k) if -g.shape[0] < k < g.shape[1] else 0
                     for k in offsets], dtype=dt)


def untoeplitz_cr(g, c, r):
    """The adjoint of ``scipy.linalg.toeplitz(c, r)`` (real): column ``c``
    fills the diagonals at and below the main one, ``r[1:]`` those above
    (``r[0]`` is not read)."""
    if np.ndim(g) > 2:
        # SciPy >= 1.17 takes an n-d c/r as a batch of 1-d ones (their last
        # axes; the batch axes broadcast): one Toeplitz matrix per batch entry
        from .runtime import unbroadcast
        c, r, g = np.asarray(c), np.asarray(r), np.asarray(g)
        batch = g.shape[:-2]
        nc, nr = c.shape[-1], r.shape[-1]
        gc = np.stack([untoeplitz_cr(g[i], np.empty(nc), np.empty(nr))[0]
                       for i in np.ndindex(batch)])
        gr = np.stack([untoeplitz_cr(g[i], np.empty(nc), np.empty(nr))[1]
                       for i in np.ndindex(batch)])
        return (unbroadcast(gc.reshape(batch + (nc,)), c),
                unbroadcast(gr.reshape(batch + (nr,)), r))
    nc, nr = np.size(c), np.size(r)
    gc = _diag_sums(g, [-k for k in range(nc)])
    gr = _diag_sums(g, range(nr))
    if nr:
        gr[0] = 0
    return gc.reshape(np.shape(c)), gr.reshape(np.shape(r))


def untoeplitz(g, c, r=None):
    """The adjoint of ``scipy.linalg.toeplitz(c)`` (real: ``r`` is ``c``)."""
    nc = np.size(c)
    if np.ndim(g) > 2:                     # a batch (SciPy >= 1.17): r is c
        gc, gr = untoeplitz_cr(g, c, c)
        return gc + gr
    gc, gr = untoeplitz_cr(g, np.ravel(c), np.ravel(c))
    return (gc + gr).reshape(np.shape(c)) if nc else gc.reshape(np.shape(c))


__all__ += ["unblock_diag", "untoeplitz_cr", "untoeplitz"]


def scipy_lstsq_residues(res, b):
    """np.linalg.lstsq's residues as scipy.linalg.lstsq returns them: for a
    1-d ``b`` the one residual is a scalar (NumPy's is an array of shape
    (1,)); an empty array (no residual) and a 2-d ``b``'s stay as they are."""
    if np.ndim(b) == 1 and np.size(res) == 1:
        return res[0]
    return res


__all__ += ["scipy_lstsq_residues"]


# ---------------------------------------------------------------- norm by rank
#
# np.linalg.norm(x, ord) with a numeric ord and no axis is a vector norm of a
# 1-d x and a matrix norm of a 2-d x; the rank is not known when the rule is
# written (generic code serves every shape), so the weight W of
# d norm = Re <W, dx> (the cotangent convention: x_bar = g W) is chosen here.
# Subgradients: at ties the sensitivity is split equally among the entries
# (inf/-inf), singular values (2/-2) or columns/rows (1/-1, inf/-inf of a
# matrix) tied for the extreme; a zero vector's 2-norm gives 0.


def _split(hit, axis):
    return hit / np.sum(hit, axis=axis, keepdims=True)


def norm_ord_weight(x, out, ord):
    """d np.linalg.norm(x, ord) / dx (no axis, numeric ord) for 1-d or 2-d x,
    in x's floating dtype."""
    x = np.asarray(x)
    w = _norm_ord_weight(x, out, ord)
    return np.asarray(w).astype(np.result_type(x.dtype, np.float32), copy=False)


def _norm_ord_weight(x, out, ord):
    n = np.reshape(out, ())
    if x.ndim == 1:
        if ord == 2:
            return conj_if_complex(x) / (n if n != 0 else 1)
        if ord == 1:
            return csign(x)
        if ord in (np.inf, -np.inf):
            return csign(x) * _split(np.abs(x) == n, None)
        p = float(ord)      # -1, -2: sign(x) (|x| / norm) ** (p - 1), as the vector rule
        return csign(x) * (np.abs(x) / (n if n != 0 else 1)) ** (p - 1.0)
    if x.ndim != 2:
        raise ValueError(f"np.linalg.norm(x, ord={ord!r}) needs a 1-d or 2-d x, not shape "
                         f"{x.shape}")
    if ord in (2, -2):
        U, s, Vh = np.linalg.svd(x, full_matrices=False)
        w = extreme_weights(s, ord == 2)      # ties, numerical ones too, split equally
        return conj_if_complex((U * w) @ Vh)
    along = 0 if ord in (1, -1) else 1          # column sums for 1, row sums for inf
    sums = np.sum(np.abs(x), axis=along, keepdims=True)
    ext = sums.max() if ord in (1, np.inf) else sums.min()
    return csign(x) * _split(sums == ext, None)


def _dcsign(x, t):
    """The derivative of csign(x) along t: 0 for real x (away from 0);
    conj(t) / |x| - conj(x) Re(conj(x) t) / |x|^3 for complex x (0 at 0)."""
    if not np.iscomplexobj(x):
        return np.zeros(np.broadcast_shapes(np.shape(x), np.shape(t)), np.result_type(x, t))
    r = np.abs(x)
    safe = np.where(r == 0, 1, r)
    d = np.conjugate(t) / safe - np.conjugate(x) * np.real(np.conjugate(x) * t) / safe ** 3
    return np.where(r == 0, 0, d)


def norm_ord_hvp(t, x, out, ord):
    """The derivative of :func:`norm_ord_weight` along ``t``: the Hessian of
    the norm applied to ``t``, which is symmetric (``Re <D W[a], b> =
    Re <D W[b], a>``), so it is its own adjoint.  0 for the piecewise-linear
    norms of real x (1, inf, -inf; a matrix's 1, -1, inf, -inf); for a
    vector's 2-norm ``conj(t) / n - conj(x) dn / n^2`` (0 at a zero vector);
    the p-norm's for -1, -2; a matrix's 2/-2 norms through the SVD's
    perturbation (real matrices; a complex one raises: pass axis=)."""
    x = np.asarray(x)
    dt = np.result_type(x.dtype, np.asarray(t).dtype, np.float32)
    t = np.broadcast_to(t, x.shape)
    n = np.reshape(out, ()).real
    if x.ndim == 2 and ord in (2, -2):
        if np.iscomplexobj(x) or np.iscomplexobj(t):
            raise ValueError(f"s2sgrad takes a second derivative of np.linalg.norm(x, "
                             f"ord={ord!r}) without axis= only for a real matrix; pass "
                             f"axis=(-2, -1)")
        return _spectral_hvp(t, x, ord).astype(dt, copy=False)
    w = norm_ord_weight(x, out, ord)
    if x.ndim == 2 or ord in (1, np.inf, -np.inf):
        # W = csign(x) times a locally constant split of the extreme entries/columns/rows
        mask = np.ones(x.shape) if ord == 1 and x.ndim == 1 else \
            np.where(x == 0, 0, np.real(w * x) / np.where(x == 0, 1, np.abs(x)))
        return (_dcsign(x, t) * mask).astype(dt, copy=False)
    if n == 0:
        # a zero vector: the weight is the subgradient 0, and its derivative
        # by the chain rule is no derivative of a smooth composite (norm ** 2)
        # (refused for a direction that moves x; 0 for one that does not)
        if np.any(t != 0):
            raise ValueError(f"s2sgrad: a second derivative of np.linalg.norm(x, ord={ord!r}) "
                             f"where it is exactly 0 (a zero vector), in a direction that "
                             f"moves it, is not supported: it is not differentiable there, "
                             f"and the chain rule through its subgradient would give a wrong "
                             f"value (the Hessian of norm(x) ** 2 at 0 would be 0, not 2 I); "
                             f"write a squared norm as np.sum(x ** 2) or x @ x")
        return np.zeros(x.shape, dt)
    dn = np.sum(np.real(w * t))
    if ord == 2:
        return (np.conjugate(t) / n - np.conjugate(x) * dn / n ** 2).astype(dt, copy=False)
    p = float(ord)
    r = np.abs(x)
    a = r / n
    dr = np.real(np.conjugate(x) * t) / np.where(r == 0, 1, r)
    da = dr / n - r * dn / n ** 2
    cs = csign(x)
    return (_dcsign(x, t) * a ** (p - 1.0) + cs * (p - 1.0) * a ** (p - 2.0) * da
            ).astype(dt, copy=False)


def _spectral_hvp(t, x, ord):
    """d(u_i v_i^T) along t for the largest (2) or smallest (-2) singular value
    s_i of a real matrix, from the SVD's perturbation: with P = U^T t V,
    du_i = sum_j!=i u_j (s_i P_ji + s_j P_ij) / (s_i^2 - s_j^2) + (I - U U^T) t v_i / s_i,
    dv_i = sum_j!=i v_j (s_j P_ji + s_i P_ij) / (s_i^2 - s_j^2) + (I - V V^T) t^T u_i / s_i.
    A tie at the extreme singular value (no derivative) raises."""
    U, s, Vh = np.linalg.svd(x, full_matrices=False)
    V = Vh.T
    i = int(np.argmax(s) if ord == 2 else np.argmin(s))
    if np.sum(extreme_weights(s, ord == 2) > 0) > 1 or s[i] == 0:
        # (repeated up to rounding too: 1 / (s_i^2 - s_j^2) of an LAPACK-split tie)
        raise ValueError(f"np.linalg.norm(x, ord={ord!r}): the extreme singular value is "
                         f"repeated (up to rounding) or 0, where the norm has no second "
                         f"derivative")
    P = U.T @ t @ V
    d = s[i] ** 2 - s ** 2
    d[i] = 1.0
    cu = (s[i] * P[:, i] + s * P[i, :]) / d
    cv = (s * P[:, i] + s[i] * P[i, :]) / d
    cu[i] = cv[i] = 0.0
    u, v = U[:, i], V[:, i]
    du = U @ cu + (t @ v - U @ (U.T @ (t @ v))) / s[i]
    dv = V @ cv + (t.T @ u - V @ (V.T @ (t.T @ u))) / s[i]
    return np.outer(du, v) + np.outer(u, dv)


__all__ += ["norm_ord_weight", "norm_ord_hvp"]


# ---------------------------------------------------------------- scipy.special.sph_harm_y
# SciPy's own derivatives of the spherical harmonics in (theta, phi): the
# gradient (diff_n=1) on a last axis of 2, the Hessian (diff_n=2) on two.

_scipy_special = _LazyModule("scipy.special")


def sph_harm_y_jac(theta, phi, n=0, m=0):
    """d sph_harm_y(n, m, theta, phi) / d(theta, phi), on a last axis of 2."""
    return _scipy_special.sph_harm_y(n, m, theta, phi, diff_n=1)[1]


def sph_harm_y_hess(theta, phi, n=0, m=0):
    """The second derivatives in (theta, phi), on two last axes of 2."""
    return _scipy_special.sph_harm_y(n, m, theta, phi, diff_n=2)[2]


__all__ += ["sph_harm_y_jac", "sph_harm_y_hess"]


# ---------------------------------------------------------------- incomplete gamma/beta parameters
# d P(a, x) / da and d I_x(a, b) / da, db (the regularised incomplete gamma and
# beta functions in their parameters) have no closed form: they are integrals
# of the density times log t (minus the normalising constant's digamma
# terms), computed per element by adaptive quadrature (scipy.integrate.quad,
# relative tolerance 1e-12) after substitutions that remove the endpoint
# singularities: t = x s^(1/a) on [0, x] (t^(a-1) dt = x^a / a ds), and for
# the beta function's upper tail 1 - t = (1 - x) s^(1/b).  The tail nearer to
# the result (P <= 1/2: [0, x]; else [x, inf) with the opposite sign) is
# integrated, so the small derivatives of a function near 1 keep their
# relative accuracy.  Outside the domain (a <= 0, x < 0, NaN): NaN; at x = 0
# (and x = 1 or inf) the function is constant in the parameters: 0.

def _quad(f, lo, hi):
    import warnings
    from scipy.integrate import quad
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return quad(f, lo, hi, epsabs=0.0, epsrel=1e-12, limit=400)[0]


def _gammainc_da_one(a, x):
    import math
    if not (a > 0) or math.isinf(a) or math.isnan(x) or x < 0:
        return math.nan
    if x == 0 or math.isinf(x):
        return 0.0
    lg, psi = float(_scipy_special.gammaln(a)), float(_scipy_special.digamma(a))
    if _scipy_special.gammainc(a, x) <= 0.5:
        c = a * math.log(x) - lg - math.log(a)
        lx = math.log(x) - psi

        def f(s):
            return (lx + math.log(s) / a) * math.exp(c - x * s ** (1.0 / a)) if s > 0 else 0.0
        return _quad(f, 0.0, 1.0)

    def g(u):
        lt = math.log(x + u)
        return (lt - psi) * math.exp((a - 1.0) * lt - (x + u) - lg)
    return -_quad(g, 0.0, math.inf)


def _betainc_da_one(a, b, x):
    import math
    if not (a > 0 and b > 0) or math.isinf(a) or math.isinf(b) or math.isnan(x) \
            or x < 0 or x > 1:
        return math.nan
    if x == 0 or x == 1:
        return 0.0
    lb = float(_scipy_special.betaln(a, b))
    d = float(_scipy_special.digamma(a) - _scipy_special.digamma(a + b))
    if _scipy_special.betainc(a, b, x) <= 0.5:
        c = a * math.log(x) - lb - math.log(a)
        lx = math.log(x) - d

        def f(s):
            if s <= 0:
                return 0.0
            t = x * s ** (1.0 / a)
            return (lx + math.log(s) / a) * math.exp(c + (b - 1.0) * math.log1p(-t))
        return _quad(f, 0.0, 1.0)
    c = b * math.log1p(-x) - lb - math.log(b)

    def g(s):
        lt = math.log1p(-(1.0 - x) * s ** (1.0 / b))
        return (lt - d) * math.exp(c + (a - 1.0) * lt)
    return -_quad(g, 0.0, 1.0)


def _param_derivative(one, *args):
    args = [np.asarray(v) for v in args]
    dt = np.result_type(*args)
    dt = dt if np.issubdtype(dt, np.floating) else np.dtype(np.float64)
    bs = np.broadcast_arrays(*[v.astype(np.float64) for v in args])
    out = np.empty(bs[0].shape, dtype=np.float64)
    for idx in np.ndindex(out.shape):
        out[idx] = one(*[float(v[idx]) for v in bs])
    return out.astype(dt, copy=False) if out.ndim else dt.type(out[()])


def gammainc_da(a, x):
    """d gammainc(a, x) / da (elementwise, by quadrature)."""
    return _param_derivative(_gammainc_da_one, a, x)


def betainc_da(a, b, x):
    """d betainc(a, b, x) / da (elementwise, by quadrature)."""
    return _param_derivative(_betainc_da_one, a, b, x)


def betainc_db(a, b, x):
    """d betainc(a, b, x) / db = -d betainc(b, a, 1 - x) / d(first parameter)."""
    return -betainc_da(b, a, np.subtract(1, x))


__all__ += ["gammainc_da", "betainc_da", "betainc_db"]


# ---------------------------------------------------------------- full SVD / complete QR
# The columns of a full factor past the thin part k span the complement of
# its range; with one such column it is fixed up to sign and differentiated
# exactly; with more the basis is LAPACK's choice (no derivative to match).

def complement_guard(ct, s, axis=-1, what=""):
    """``ct`` (the cotangent of the complement columns/rows, the thin part
    zeroed); refused when the complement has more than one column and the
    cotangent is not zero."""
    ct = np.asarray(ct)
    dim = ct.shape[axis] - np.shape(s)[-1]
    if dim > 1 and np.any(ct != 0):
        raise ValueError(f"s2sgrad: {what}: the {dim} vectors past min(m, n) are an arbitrary "
                         f"basis of the complement (LAPACK's choice), which has no derivative; "
                         f"use the thin factors (full_matrices=False / mode='reduced'), or "
                         f"the projector I - U U^T built from them")
    return ct


def complement_nan(t, s, axis=-1):
    """``t`` (the tangent of the complement, the thin part zeroed), NaN in
    the complement when it has more than one column (no derivative)."""
    t = np.asarray(t)
    k = np.shape(s)[-1]
    if t.shape[axis] - k <= 1:
        return t
    t = t.copy()
    idx = [slice(None)] * t.ndim
    idx[axis % t.ndim] = slice(k, None)
    t[tuple(idx)] = np.nan
    return t


def complement_mask(f, s, axis=-1):
    """A full factor ``f`` with its complement columns (``axis=-1``) or rows
    zeroed when the complement has more than one: the factor as the full
    rules' complement terms read it, where it meets a cotangent that
    complement_guard has checked to be zero there.  (Its tangent, masked the
    same way, then carries no NaN from complement_nan into a second
    derivative: NaN times that zero cotangent would be NaN.)"""
    f = np.asarray(f)
    k = np.shape(s)[-1]
    if f.shape[axis] - k <= 1:
        return f
    f = f.copy()
    idx = [slice(None)] * f.ndim
    idx[axis % f.ndim] = slice(k, None)
    f[tuple(idx)] = 0
    return f


__all__ += ["complement_guard", "complement_nan", "complement_mask"]


def svd_rank(s, u, vh, rcond=None):
    """scipy.linalg.orth/null_space's numerical rank: the number of singular
    values above max(s) * rcond (rcond = eps * max(M, N) by default)."""
    s = np.asarray(s)
    if rcond is None:
        rcond = np.finfo(s.dtype).eps * max(np.shape(u)[0], np.shape(vh)[1])
    tol = np.amax(s, initial=0.) * rcond
    return int(np.sum(s > tol, dtype=int))


__all__ += ["svd_rank"]


def tie_mask(w, c, scale, wbar=0.0, kind="diff"):
    """The multiplier of the pair terms ``F_ij = 1 / (w_j - w_i)`` (kind
    'diff'; ``1 / (w_j + w_i)`` for kind 'sum', singular values) in the rules
    of eigh, eig, svd and the generalized eigh, for the coupling ``c`` that
    F multiplies: 1 for a pair that is not a tie; 0 on the diagonal; for a
    tie, 0 where the coupling is zero to rounding and NaN where it is not.

    A tie is a gap ``|w_j -+ w_i| <= sqrt(eps) max|w|`` (per matrix): below it
    the computed gap and the coupling are both at the level of rounding (an
    exactly repeated eigenvalue comes out of LAPACK split by a few eps), so
    ``c_ij / gap`` has fewer correct digits than a finite difference; above
    it the amplified rounding error of the pair's term is at most about
    ``n sqrt(eps)`` relative.  The coupling is zero to rounding when
    ``|c_ij| <= 64 n eps max|scale|`` (``scale`` the whole coupling matrix,
    whose rounding error the antisymmetric part inherits; tight, so that a
    small but real coupling, whose true term ``c_ij / gap`` may be large, is
    NaN rather than 0) and the function
    does not depend on the pair's values (``wbar_i == wbar_j == 0``): then it
    is invariant under rotations of the basis within the cluster (projectors,
    functions of the eigenspace), whose pair term is exactly 0.  Otherwise
    the derivative does not exist (the function depends on LAPACK's arbitrary
    basis) or is not computable from the eigenvectors (a matrix function
    ``V g(w) V^T`` with g varying on the cluster needs g', the limit of the
    divided difference): NaN, as at an exact tie."""
    w = np.asarray(w)
    c = np.asarray(c)
    ft = w.dtype if np.issubdtype(w.dtype, np.inexact) else np.dtype(np.float64)
    eps = np.finfo(ft).eps
    root = np.sqrt(eps)
    wi, wj = w[..., :, None], w[..., None, :]
    gap = np.abs(wj + wi) if kind == "sum" else np.abs(wj - wi)
    big = np.max(np.abs(w), axis=-1, keepdims=True)[..., None] if w.shape[-1] else 0.0
    n = w.shape[-1]
    eye = np.eye(n, dtype=bool)
    tie = (gap <= root * big) & ~eye
    rdt = np.finfo(ft).dtype
    mask = np.where(eye, rdt.type(0), rdt.type(1))
    mask = np.broadcast_to(mask, np.broadcast_shapes(tie.shape, c.shape)).copy()
    if not np.any(tie):
        return mask
    sc = np.abs(np.asarray(scale))
    noise = 64 * n * eps          # rounding of V^T V_bar and of what V_bar came from
    nu = np.max(sc, axis=(-2, -1), keepdims=True) * noise if sc.ndim >= 2 else sc * noise
    zero = np.abs(c) <= nu
    wb = np.asarray(wbar)
    if wb.ndim:
        nz = wb != 0
        zero = zero & ~(nz[..., :, None] | nz[..., None, :])
    elif wb != 0:
        zero = np.zeros_like(zero)
    tie = np.broadcast_to(tie, mask.shape)
    mask[tie] = np.where(np.broadcast_to(zero, mask.shape)[tie], 0.0, np.nan)
    return mask


__all__ += ["tie_mask"]


def small_mask(s, scale, scale2, *couplings):
    """The multiplier of ``1 / s_i`` in svd's rules (the complement terms
    ``(I - U U^H) U_bar S^-1`` and the like): 1 where ``s_i > sqrt(eps)
    max(s)``; for a singular value that is zero up to rounding, 0 where
    every coupling's column i (an array ``(..., r, k)``) is
    zero to rounding (``<= 64 k eps max(|scale|, |scale2|)``: the function does not read
    that singular vector beyond rounding, e.g. ``U U^T`` of a square matrix),
    NaN where it is not (the singular vectors of a zero singular value are
    LAPACK's arbitrary basis: no derivative).  Exact zeros are treated the
    same way."""
    s = np.asarray(s)
    ft = s.dtype if np.issubdtype(s.dtype, np.inexact) else np.dtype(np.float64)
    rdt = np.finfo(ft).dtype
    root = np.sqrt(np.finfo(ft).eps)
    big = np.max(np.abs(s), axis=-1, keepdims=True) if s.shape[-1] else 0.0
    small = np.abs(s) <= root * big
    mask = np.ones(s.shape, dtype=rdt)
    if not np.any(small):
        return mask
    nu = 0.0
    for sc in (scale, scale2):
        sc = np.abs(np.asarray(sc))
        nu = np.maximum(nu, np.max(sc, axis=(-2, -1))[..., None] if sc.ndim >= 2 else sc)
    nu = nu * 64 * s.shape[-1] * np.finfo(ft).eps      # rounding, as tie_mask
    zero = np.ones(s.shape, dtype=bool)
    for c in couplings:       # each (..., r, k): column i couples with 1 / s_i
        c = np.abs(np.asarray(c))
        if c.ndim < 2:         # a coupling simplified to a scalar (0 for real input)
            col = c
        else:
            col = np.max(c, axis=-2) if c.shape[-2] else np.zeros(c.shape[:-2] + c.shape[-1:])
        zero = zero & (col <= nu)
    shape = np.broadcast_shapes(s.shape, np.shape(zero))    # a batch of cotangents
    mask = np.broadcast_to(mask, shape).copy()
    small = np.broadcast_to(small, shape)
    mask[small] = np.where(np.broadcast_to(zero, shape)[small], 0.0, np.nan)
    return mask


__all__ += ["small_mask"]


def extreme_weights(s, largest=True):
    """The weights of the largest (smallest) singular values for the matrix
    2-norm's (-2's) gradient ``U diag(w) V^H``: 1 / k on the k values within
    ``8 r eps max(s)`` (r = min(m, n) singular values) of the extreme, 0 elsewhere.  An exact tie
    comes out of LAPACK split by a few eps (measured <= 20 eps max(s) for
    n <= 100), and the tie convention (split equally, as np.max) must see it:
    with only the computed largest, the weight went to one vector of LAPACK's
    arbitrary basis of the tied space (the gradient of norm(Q, 2) for an
    orthogonal Q was u_1 v_1^T, not Q / n)."""
    s = np.asarray(s)
    ft = s.dtype if np.issubdtype(s.dtype, np.inexact) else np.dtype(np.float64)
    rdt = np.finfo(ft).dtype
    if s.shape[-1] == 0:
        return np.zeros(s.shape, rdt)
    tol = 8 * s.shape[-1] * np.finfo(ft).eps * np.max(np.abs(s), axis=-1, keepdims=True)
    ext = np.max(s, axis=-1, keepdims=True) if largest else np.min(s, axis=-1, keepdims=True)
    hit = (np.abs(s - ext) <= tol).astype(rdt)
    return hit / np.sum(hit, axis=-1, keepdims=True)


__all__ += ["extreme_weights"]
