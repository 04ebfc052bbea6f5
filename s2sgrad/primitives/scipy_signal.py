"""scipy.signal: convolve, correlate, fftconvolve, oaconvolve, convolve2d,
correlate2d (N-d arrays, modes 'full', 'same', 'valid').

Imported only when a program uses SciPy (``core.OPTIONAL_RULES``);
generated code calls SciPy through the runtime's ``scipy_signal`` stand-in.

A convolution is bilinear: its tangent is ``convolve(da, b) + convolve(a, db)``
(same mode).  Its transpose in ``a`` embeds the cotangent in zeros of the
'full' shape (``conv_embed``, the transpose of the mode's crop) and
convolves it with ``b`` reversed along every axis in mode 'valid'
(a correlation without conjugation: the cotangent convention is the
transpose, not the conjugate transpose, README "Complex numbers"); the same
in ``b`` with ``a`` reversed.  ``correlate(a, b)`` is
``convolve(a, conj(b) reversed)`` (checked against SciPy for every mode), so
it and the 2-d and FFT forms are composites of the one primitive.
``convolve2d``/``correlate2d`` need ``boundary='fill'`` with
``fillvalue=0`` (the others wrap or mirror the input: refused); their 'same'
is SciPy's: ``correlate2d`` centres it half a sample away from ``correlate``
(a crop of the full correlation starting at ``ceil((full - n) / 2)``).
"""
from __future__ import annotations

import scipy.signal as ss

from .. import runtime
from ..errors import S2SGradError
from ..ir import Const
from .core import defcomposite, defprim, shape_fresh

_PY = "scipy_signal."


def _convolve_vjp(em, g, out, a, b, mode=Const("full"), method=Const("auto")):
    full = em.call("conv_embed", g, a, b, mode)
    valid = Const("valid")
    return [em.call("signal_convolve", full, em.call("flip_all", b), mode=valid, method=method),
            em.call("signal_convolve", full, em.call("flip_all", a), mode=valid, method=method)]


def _convolve_jvp(em, dots, out, a, b, mode=Const("full"), method=Const("auto")):
    da, db = dots
    t = None
    if da is not None:
        t = em.call("signal_convolve", da, b, mode=mode, method=method)
    if db is not None:
        t = em.add_ct(t, em.call("signal_convolve", a, db, mode=mode, method=method))
    return t


defprim("signal_convolve", ss.convolve, sig="in1, in2, /, mode='full', method='auto'",
        vjp=_convolve_vjp, jvp=_convolve_jvp, shape=shape_fresh, pyname=_PY + "convolve",
        doc="scipy.signal.convolve: bilinear; the transpose convolves the zero-padded "
            "cotangent with the other operand reversed ('valid').")

# the crop's transpose and the reversal, as primitives (so derivatives compose)
defprim("conv_embed", runtime.conv_embed, sig="g, a, b, mode, /", pyname="conv_embed",
        vjp=lambda em, h, out, g, a, b, mode: [em.call("conv_crop", h, a, b, mode), None, None],
        jvp=lambda em, dots, out, g, a, b, mode: (
            None if dots[0] is None else em.call("conv_embed", dots[0], a, b, mode)),
        shape=shape_fresh, linear=True,
        doc="runtime helper: a convolution's cotangent placed in zeros of the 'full' shape.")
defprim("conv_crop", runtime.conv_crop, sig="f, a, b, mode, /", pyname="conv_crop",
        vjp=lambda em, h, out, f, a, b, mode: [em.call("conv_embed", h, a, b, mode), None, None],
        jvp=lambda em, dots, out, f, a, b, mode: (
            None if dots[0] is None else em.call("conv_crop", dots[0], a, b, mode)),
        shape=shape_fresh, linear=True,
        doc="runtime helper: the part of a 'full' convolution a mode keeps.")
defprim("flip_all", runtime.flip_all, sig="x, /", pyname="flip_all",
        vjp=lambda em, h, out, x: [em.call("flip_all", h)],
        jvp=lambda em, dots, out, x: em.call("flip_all", dots[0]),
        shape=shape_fresh, linear=True, doc="runtime helper: x reversed along every axis.")


def _correlate(em, a, b, mode=Const("full"), method=Const("auto")):
    return em.call("signal_convolve", a, em.call("flip_all", em.conj_if_complex(b)), mode=mode,
                   method=method)


defcomposite("scipy.signal.correlate", ss.correlate, sig="in1, in2, /, mode='full', method='auto'",
             expand=_correlate, doc="scipy.signal.correlate(a, b) = convolve(a, conj(b) "
                                    "reversed)")


def _fft_form(name):
    def expand(em, a, b, mode=Const("full"), axes=Const(None)):
        if not (isinstance(axes, Const) and axes.value is None):
            raise S2SGradError(f"scipy.signal.{name} with axes= is not supported; use "
                               f"scipy.signal.convolve over all axes")
        return em.call("signal_convolve", a, b, mode=mode, method=Const("fft"))
    return expand


for _name in ("fftconvolve", "oaconvolve"):
    if hasattr(ss, _name):
        defcomposite(f"scipy.signal.{_name}", getattr(ss, _name),
                     sig="in1, in2, /, mode='full', axes=None", expand=_fft_form(_name),
                     doc=f"scipy.signal.{_name}: scipy.signal.convolve with method='fft'")


def _two_d(correlate):
    def expand(em, a, b, mode=Const("full"), boundary=Const("fill"), fillvalue=Const(0)):
        if not (isinstance(boundary, Const) and boundary.value == "fill" and
                isinstance(fillvalue, Const) and fillvalue.value == 0):
            raise S2SGradError("scipy.signal.convolve2d/correlate2d: only boundary='fill' "
                               "with fillvalue=0 is supported")
        if correlate and isinstance(mode, Const) and mode.value == "same":
            # correlate2d centres 'same' at ceil((full - n) / 2), correlate at floor
            full = _correlate(em, a, b, mode=Const("full"), method=Const("direct"))
            return em.call("conv_crop", full, a, b, Const("same2d"))
        if correlate:
            return _correlate(em, a, b, mode=mode, method=Const("direct"))
        return em.call("signal_convolve", a, b, mode=mode, method=Const("direct"))
    return expand


defcomposite("scipy.signal.convolve2d", ss.convolve2d,
             sig="in1, in2, /, mode='full', boundary='fill', fillvalue=0", expand=_two_d(False),
             doc="scipy.signal.convolve2d (boundary 'fill', fillvalue 0)")
defcomposite("scipy.signal.correlate2d", ss.correlate2d,
             sig="in1, in2, /, mode='full', boundary='fill', fillvalue=0", expand=_two_d(True),
             doc="scipy.signal.correlate2d (boundary 'fill', fillvalue 0)")


# scipy.signal.detrend: the data minus its least-squares fit (a constant, or
# a line in the sample index; bp=0), i.e. minus its projection on {1} or
# {1, t}: for 'linear' xc - slope * tc with xc, tc the centred data and
# index and slope = sum(tc xc) / sum(tc^2).  Linear in the data.
def _detrend(em, data, axis=Const(-1), type=Const("linear"), bp=Const(0),
             overwrite_data=None):
    if not (isinstance(type, Const) and type.value in ("linear", "l", "constant", "c")):
        raise S2SGradError("scipy.signal.detrend: type must be a constant 'linear' or "
                           "'constant'")
    if not (isinstance(bp, Const) and isinstance(bp.value, int) and bp.value == 0):
        raise S2SGradError("scipy.signal.detrend: break points (bp=) are not supported; "
                           "detrend each segment separately")
    if not isinstance(axis, Const):
        raise S2SGradError("scipy.signal.detrend: axis must be a constant")
    x = em.moveaxis(data, axis, -1)
    xc = em.subtract(x, em.mean(x, axis=-1, keepdims=True))
    if type.value in ("linear", "l"):
        n = em.call("getitem", em.shape(x), _params={"index": -1})
        t = em.astype(em.arange(n), dtype=em.call("result_type", xc,
                                                    _params={"spelling": ("attr", "dtype")}))
        tc = em.subtract(t, em.mean(t))
        slope = em.divide(em.sum(em.multiply(xc, tc), axis=-1, keepdims=True),
                          em.sum(em.square(tc)))
        xc = em.subtract(xc, em.multiply(slope, tc))
    return em.moveaxis(xc, -1, axis)


defcomposite("scipy.signal.detrend", ss.detrend,
             sig="data, axis=-1, type='linear', bp=0, overwrite_data=False", expand=_detrend,
             doc="scipy.signal.detrend (bp=0): the data minus its least-squares constant "
                 "or line.")


# ------------------------------------------------------------ linear filters
#
# lfilter, sosfilt (zi=None), filtfilt, sosfiltfilt and savgol_filter are
# linear in the signal; the coefficients (b, a, sos) are data (a
# differentiated one is refused, naming it) and the options constants.  The
# value is SciPy's own; the cotangent is M^T g (runtime filter_linear_adjoint:
# a reversed filter for the causal ones, the filter's matrix for the others).


def _fl_vjp(em, g, out, x, **kw):
    return [em.call("filter_linear_adjoint", g, x, **kw)]


def _fl_jvp(em, dots, out, x, **kw):
    return em.call("filter_linear", dots[0], **kw)


def _fla_vjp(em, h, out, g, x, **kw):
    return [em.call("filter_linear", h, **kw), None]


def _fla_jvp(em, dots, out, g, x, **kw):
    return None if dots[0] is None else em.call("filter_linear_adjoint", dots[0], x, **kw)


_FL_SIG = "kind, axis=-1, b=None, a=None, sos=None, opts=()"
defprim("filter_linear", runtime.filter_linear, sig="x, /, " + _FL_SIG, pyname="filter_linear",
        vjp=_fl_vjp, jvp=_fl_jvp, shape=shape_fresh, linear=True,
        doc="scipy.signal's linear filters of x (coefficients data): linear in x.")
defprim("filter_linear_adjoint", runtime.filter_linear_adjoint, sig="g, x, /, " + _FL_SIG,
        pyname="filter_linear_adjoint", vjp=_fla_vjp, jvp=_fla_jvp, shape=shape_fresh,
        linear=True, doc="runtime helper: the transpose of filter_linear.")


def _const_opts(fname, **opts):
    out = []
    for k, v in opts.items():
        if v is None:
            continue
        if not isinstance(v, Const):
            raise S2SGradError(f"scipy.signal.{fname}: {k}= must be a constant")
        out.append((k, v.value))
    return Const(tuple(out))


def _axis_const(fname, axis):
    if axis is not None and not isinstance(axis, Const):
        raise S2SGradError(f"scipy.signal.{fname}: axis must be a constant")
    return axis if axis is not None else Const(-1)


def _lfilter(em, b, a, x, axis=None, zi=None):
    if zi is not None and not (isinstance(zi, Const) and zi.value is None):
        raise S2SGradError("scipy.signal.lfilter with zi= is not supported (it returns the "
                           "final state too); filter from rest, or prepend the history to x")
    return em.call("filter_linear", x, kind=Const("lfilter"), axis=_axis_const("lfilter", axis),
                   b=b, a=a, opts=Const(()))


def _sosfilt(em, sos, x, axis=None, zi=None):
    if zi is not None and not (isinstance(zi, Const) and zi.value is None):
        raise S2SGradError("scipy.signal.sosfilt with zi= is not supported (it returns the "
                           "final state too); filter from rest")
    return em.call("filter_linear", x, kind=Const("sosfilt"), axis=_axis_const("sosfilt", axis),
                   sos=sos, opts=Const(()))


def _filtfilt(em, b, a, x, axis=None, padtype=None, padlen=None, method=None, irlen=None):
    return em.call("filter_linear", x, kind=Const("filtfilt"),
                   axis=_axis_const("filtfilt", axis), b=b, a=a,
                   opts=_const_opts("filtfilt", padtype=padtype, padlen=padlen, method=method,
                                    irlen=irlen))


def _sosfiltfilt(em, sos, x, axis=None, padtype=None, padlen=None):
    return em.call("filter_linear", x, kind=Const("sosfiltfilt"),
                   axis=_axis_const("sosfiltfilt", axis), sos=sos,
                   opts=_const_opts("sosfiltfilt", padtype=padtype, padlen=padlen))


def _savgol(em, x, window_length, polyorder, deriv=None, delta=None, axis=None, mode=None,
            cval=None):
    return em.call("filter_linear", x, kind=Const("savgol_filter"),
                   axis=_axis_const("savgol_filter", axis),
                   opts=_const_opts("savgol_filter", window_length=window_length,
                                    polyorder=polyorder, deriv=deriv, delta=delta, mode=mode,
                                    cval=cval))


defcomposite("scipy.signal.lfilter", ss.lfilter, sig="b, a, x, axis=-1, zi=None",
             expand=_lfilter, doc="scipy.signal.lfilter (zi=None): linear in x; b, a data.")
defcomposite("scipy.signal.sosfilt", ss.sosfilt, sig="sos, x, axis=-1, zi=None",
             expand=_sosfilt, doc="scipy.signal.sosfilt (zi=None): linear in x; sos data.")
defcomposite("scipy.signal.filtfilt", ss.filtfilt,
             sig="b, a, x, axis=-1, padtype='odd', padlen=None, method='pad', irlen=None",
             expand=_filtfilt, doc="scipy.signal.filtfilt: linear in x; b, a data.")
defcomposite("scipy.signal.sosfiltfilt", ss.sosfiltfilt,
             sig="sos, x, axis=-1, padtype='odd', padlen=None", expand=_sosfiltfilt,
             doc="scipy.signal.sosfiltfilt: linear in x; sos data.")
defcomposite("scipy.signal.savgol_filter", ss.savgol_filter,
             sig="x, window_length, polyorder, deriv=0, delta=1.0, axis=-1, mode='interp', "
                 "cval=0.0", expand=_savgol,
             doc="scipy.signal.savgol_filter: linear in x.")
