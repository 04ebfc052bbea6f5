"""scipy.fft: the complex and real discrete Fourier transforms, the shifts
and frequencies (NumPy's transforms: the same definitions and signatures,
so np.fft's rules; ``workers=`` and ``overwrite_x=`` change no value and are
accepted, ``plan=`` is refused), and the real-to-real transforms
``dct``/``idct``/``dst``/``idst`` (all types and norms, ``n``, ``axis``,
``orthogonalize``) and their n-d forms.

A real-to-real transform is linear along each axis: ``y = M x`` with ``M``
the ``(n_out, n_in)`` matrix the transform makes of the identity.  The
generated code calls SciPy's own transform; the tangent is the transform of
the tangent, the cotangent ``M^T g`` (``M`` made by SciPy from ``eye(n_in)``,
so every type, norm and length convention is SciPy's own).  Imported once
the program imports scipy.fft (``core.OPTIONAL_RULES``).
"""
from __future__ import annotations

import scipy.fft as sf

from .. import runtime_numpy
from ..errors import S2SGradError
from ..ir import Const
from .core import defcomposite, defprim, register_object, shape_fresh, REGISTRY


def _given(v):
    return v is not None and not (isinstance(v, Const) and v.value is None)


def _basic(name, nd):
    def expand(em, x, *args, **kw):
        names = ("s", "axes", "norm") if nd else ("n", "axis", "norm")
        opts = dict(zip(names, args[:3]))
        if len(args) > 3:
            kw.setdefault("overwrite_x", args[3])
        if len(args) > 4:
            kw.setdefault("workers", args[4])
        for k in names:
            if k in kw:
                opts[k] = kw.pop(k)
        if _given(kw.pop("plan", None)):
            raise S2SGradError(f"scipy.fft.{name}(..., plan=...) is not supported; drop plan=")
        kw.pop("overwrite_x", None)
        kw.pop("workers", None)
        if kw:
            raise S2SGradError(f"scipy.fft.{name}: unsupported arguments {sorted(kw)}")
        opts = {k: v for k, v in opts.items() if _given(v)}
        if name.endswith("2") and "axes" not in opts:
            opts["axes"] = Const((-2, -1))
        return em.call(name, x, **opts)
    return expand


_ONE = "x, n=None, axis=-1, norm=None, overwrite_x=False, workers=None, *, plan=None"
_TWO = "x, s=None, axes=(-2, -1), norm=None, overwrite_x=False, workers=None, *, plan=None"
_N = "x, s=None, axes=None, norm=None, overwrite_x=False, workers=None, *, plan=None"
for _name, _sig in [("fft", _ONE), ("ifft", _ONE), ("rfft", _ONE), ("irfft", _ONE),
                    ("hfft", _ONE), ("ihfft", _ONE), ("fft2", _TWO), ("ifft2", _TWO),
                    ("rfft2", _TWO), ("irfft2", _TWO), ("fftn", _N), ("ifftn", _N),
                    ("rfftn", _N), ("irfftn", _N)]:
    if hasattr(sf, _name):
        defcomposite(f"scipy.fft.{_name}", getattr(sf, _name), sig=_sig,
                     expand=_basic(_name, _sig is not _ONE),
                     doc=f"scipy.fft.{_name}: np.fft.{_name}'s rules.")

for _name in ("fftshift", "ifftshift"):
    if hasattr(sf, _name):
        register_object(getattr(sf, _name), REGISTRY[_name])
for _name in ("fftfreq", "rfftfreq"):
    if hasattr(sf, _name):
        defprim(f"scipy.fft.{_name}", getattr(sf, _name), sig="n, d=1.0, *, xp=None, device=None",
                nondiff=True, shape=shape_fresh, pyname=f"scipy.fft.{_name}",
                doc=f"scipy.fft.{_name}: sample frequencies, data.")


# ---------------------------------------------------------------- real-to-real transforms

_R2R = ("dct", "idct", "dst", "idst")
_R2R_N = ("dctn", "idctn", "dstn", "idstn")


def _r2r_vjp(em, g, out, x, **kw):
    return [em.call("r2r_adjoint", g, x, **kw)]


def _r2r_jvp(em, dots, out, x, **kw):
    return em.call("r2r", dots[0], **kw)


def _r2r_adj_vjp(em, h, out, g, x, **kw):
    return [em.call("r2r", h, **kw), None]


def _r2r_adj_jvp(em, dots, out, g, x, **kw):
    # linear in g; x gives only the shape
    return None if dots[0] is None else em.call("r2r_adjoint", dots[0], x, **kw)


_OPTS = "kind, type=2, n=None, axis=-1, norm=None, orthogonalize=None"
defprim("r2r", runtime_numpy.r2r, sig="x, /, " + _OPTS, pyname="r2r",
        vjp=_r2r_vjp, jvp=_r2r_jvp, shape=shape_fresh, linear=True,
        doc="scipy.fft's dct/idct/dst/idst (one or more axes): linear; the cotangent "
            "is M^T g (r2r_adjoint).")
defprim("r2r_adjoint", runtime_numpy.r2r_adjoint, sig="g, x, /, " + _OPTS,
        pyname="r2r_adjoint", vjp=_r2r_adj_vjp, jvp=_r2r_adj_jvp, shape=shape_fresh,
        linear=True, doc="runtime helper: the transpose of r2r along its axes.")


def _r2r_expand(kind, nd):
    def expand(em, x, type=Const(2), n=None, axis=None, norm=None, overwrite_x=None,
               workers=None, orthogonalize=None, s=None, axes=None):
        for k, v in (("type", type), ("norm", norm), ("orthogonalize", orthogonalize),
                     ("n", n), ("axis", axis), ("s", s), ("axes", axes)):
            if v is not None and not isinstance(v, Const):
                raise S2SGradError(f"scipy.fft.{kind}: {k}= must be a constant")
        kw = {"kind": Const(kind), "type": type}
        if nd:
            kw["n"] = s if s is not None else Const(None)
            kw["axis"] = axes if axes is not None else Const(None)
        else:
            kw["n"] = n if n is not None else Const(None)
            kw["axis"] = axis if axis is not None else Const(-1)
        kw["norm"] = norm if norm is not None else Const(None)
        kw["orthogonalize"] = orthogonalize if orthogonalize is not None else Const(None)
        return em.call("r2r", x, **kw)
    return expand


for _name in _R2R:
    if hasattr(sf, _name):
        defcomposite(f"scipy.fft.{_name}", getattr(sf, _name),
                     sig="x, type=2, n=None, axis=-1, norm=None, overwrite_x=False, "
                         "workers=None, orthogonalize=None",
                     expand=_r2r_expand(_name, False),
                     doc=f"scipy.fft.{_name}: linear (r2r).")
for _name in _R2R_N:
    if hasattr(sf, _name):
        defcomposite(f"scipy.fft.{_name}", getattr(sf, _name),
                     sig="x, type=2, s=None, axes=None, norm=None, overwrite_x=False, "
                         "workers=None, *, orthogonalize=None",
                     expand=_r2r_expand(_name, True),
                     doc=f"scipy.fft.{_name}: linear (r2r).")
