"""np.fft: the transforms (fft, ifft, rfft, irfft, hfft, ihfft and their 2-d
and n-d forms), fftshift/ifftshift, and fftfreq/rfftfreq as data.

Every transform is linear, so its tangent is the same transform of the
tangent, with the same ``n``/``s``/``axis``/``axes``/``norm``.  Its
cotangent is the transpose (in the complex-number convention of
``complex.py``), one runtime helper for all of them: ``fft_vjp(g, x,
kind, s, axes, norm)`` (see :mod:`s2sgrad.runtime_linalg` for the math,
including the doubled interior bins of a real transform's half spectrum).
``fft_vjp``'s own transpose is the forward transform, so derivatives of
any order stay within these primitives.

``hfft(a)`` is NumPy's ``irfft(conj(a))`` with the norm swapped and
``ihfft(a)`` is ``conj(rfft(a))`` likewise; their rules are built the same
way.  The options must be constants known when the gradient is compiled.
"""
from __future__ import annotations

import numpy as np

from .. import runtime, runtime_linalg
from ..errors import S2SGradError
from ..ir import Const, Var
from .core import defprim, needs_static, shape_fresh, shape_of

_ONE_D = "a, /, n=None, axis=-1, norm=None"
_TWO_D = "a, /, s=None, axes=(-2, -1), norm=None"
_N_D = "a, /, s=None, axes=None, norm=None"


def _static(v, what, name):
    if v is None:
        return None
    if isinstance(v, Const):
        val = v.value
        return tuple(val) if isinstance(val, list) else val
    needs_static(v)
    raise S2SGradError(f"np.fft.{name}: '{what}' must be a constant known when the gradient "
                       f"is compiled, not a computed value")


def _plan(name, kw, em=None):
    """(kind, s, axes, norm, conj_in, conj_out) of ``np.fft.<name>(a, **kw)``:
    the transform is ``conj_out(kind(conj_in(a), s, axes, norm))``.  With an
    emitter, computed lengths (``n=len(x)``, ``s=x.shape``) stay run-time
    values: fft_vjp reads them when it runs."""
    norm = _static(kw.get("norm"), "norm", name)
    if "axis" in kw or name in ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft"):
        n = kw.get("n")
        axis = _static(kw.get("axis"), "axis", name)
        if em is not None and isinstance(n, Var):
            s = em.make_tuple(n)
        else:
            n = _static(n, "n", name)
            s = None if n is None else (n,)
        axes = (-1 if axis is None else axis,)
    else:
        s = kw.get("s")
        if em is None or not isinstance(s, Var):
            s = _static(s, "s", name)
        axes = _static(kw.get("axes"), "axes", name)
        if name.endswith("2") and axes is None and "axes" not in kw:
            axes = (-2, -1)
    base = name.rstrip("2n")
    if base == "hfft":
        return "irfft", s, axes, runtime_linalg.swap_norm(norm), True, False
    if base == "ihfft":
        return "rfft", s, axes, runtime_linalg.swap_norm(norm), False, True
    return base, s, axes, norm, False, False


# name -> the n-d transform that runs kind K (fft_vjp's transpose)
_ND = {"fft": "fftn", "ifft": "ifftn", "rfft": "rfftn", "irfft": "irfftn"}


def _fft_vjp(name):
    def vjp(em, g, out, a, **kw):
        kind, s, axes, norm, conj_in, conj_out = _plan(name, kw, em)
        if conj_out:
            g = em.conjugate(g)
        ct = em.fft_vjp(g, a, kind=kind, s=s, axes=axes, norm=norm)
        return [em.conjugate(ct) if conj_in else ct]
    return vjp


def _fft_jvp(name):
    def jvp(em, dots, out, a, **kw):
        return em.call(name, dots[0], **kw)
    return jvp


for _name, _sig in [("fft", _ONE_D), ("ifft", _ONE_D), ("rfft", _ONE_D), ("irfft", _ONE_D),
                    ("hfft", _ONE_D), ("ihfft", _ONE_D),
                    ("fft2", _TWO_D), ("ifft2", _TWO_D), ("rfft2", _TWO_D), ("irfft2", _TWO_D),
                    ("fftn", _N_D), ("ifftn", _N_D), ("rfftn", _N_D), ("irfftn", _N_D)]:
    defprim(_name, getattr(np.fft, _name), sig=_sig, pyname=f"np.fft.{_name}",
            vjp=_fft_vjp(_name), jvp=_fft_jvp(_name), shape=shape_fresh, linear=True,
            doc=f"np.fft.{_name}: linear; the cotangent is its transpose (fft_vjp).")


def _fft_vjp_vjp(em, h, out, g, x, kind, s=None, axes=None, norm=None):
    # fft_vjp is linear in g; its transpose is the forward transform (of the
    # real part of h where fft_vjp's result is real: the cotangent of x in rfft)
    if kind.value == "rfft":
        h = em.real_if_complex(h)
    return [em.call(_ND[kind.value], h, s=s, axes=axes, norm=norm), None]


defprim("fft_vjp", runtime.fft_vjp, sig="g, x, /, kind, s=None, axes=None, norm=None",
        pyname="fft_vjp", vjp=_fft_vjp_vjp,
        # (x only supplies a shape: its tangent adds nothing; g's may be zero)
        jvp=lambda em, dots, out, g, x, **kw: (
            None if dots[0] is None else em.fft_vjp(dots[0], x, **kw)),
        shape=lambda args, kwargs: shape_of(args[1]), linear=True,
        doc="runtime helper: the cotangent of the input of an FFT.")


# fftshift and ifftshift are inverse permutations: each one's transpose is the other.
defprim("fftshift", np.fft.fftshift, sig="x, /, axes=None", pyname="np.fft.fftshift",
        vjp=lambda em, g, out, x, **kw: [em.ifftshift(g, **kw)],
        jvp=lambda em, dots, out, x, **kw: em.fftshift(dots[0], **kw),
        shape=lambda args, kwargs: shape_of(args[0]), linear=True,
        doc="np.fft.fftshift: a roll; the cotangent is ifftshift(g).")
defprim("ifftshift", np.fft.ifftshift, sig="x, /, axes=None", pyname="np.fft.ifftshift",
        vjp=lambda em, g, out, x, **kw: [em.fftshift(g, **kw)],
        jvp=lambda em, dots, out, x, **kw: em.ifftshift(dots[0], **kw),
        shape=lambda args, kwargs: shape_of(args[0]), linear=True,
        doc="np.fft.ifftshift: a roll; the cotangent is fftshift(g).")

# sample frequencies: data
defprim("fftfreq", np.fft.fftfreq, sig="n, /, d=1.0", pyname="np.fft.fftfreq", nondiff=True,
        shape=shape_fresh)
defprim("rfftfreq", np.fft.rfftfreq, sig="n, /, d=1.0", pyname="np.fft.rfftfreq",
        nondiff=True, shape=shape_fresh)
