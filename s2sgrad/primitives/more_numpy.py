"""NumPy callables found refused by the wider coverage probes
(tools/probe_table.py, session 20): np.matvec / np.vecmat (NumPy 2.2),
np.compress / np.extract, the window functions, np.gcd / np.lcm and np.ix_
(data), and Python's round() and divmod() on arrays and numbers.

* ``np.matvec(A, v)`` is ``(A @ v[..., None])[..., 0]`` and ``np.vecmat(v, A)``
  is ``(conj(v)[..., None, :] @ A)[..., 0, :]`` (NumPy's definitions), so
  matmul's rules differentiate them (broadcasting over the stacks included).
* ``np.compress(condition, a, axis)`` is ``np.take(a, np.flatnonzero(condition),
  axis)`` and ``np.extract(condition, arr)`` is ``np.take(arr,
  np.flatnonzero(condition))``: the condition is data, the values are
  gathered (their cotangent is scattered back, repeated entries none).
* ``np.hamming/hanning/blackman/bartlett``, ``np.gcd/lcm`` and
  ``np.isposinf/isneginf`` are data (integer, boolean or constant results:
  derivative 0, as in JAX); ``np.kaiser`` in ``M`` too (a differentiated
  ``beta`` is refused, naming the np.i0 formula).  ``np.ix_`` is linear: of
  float arrays its results are their values, reshaped (session 22: it was
  data, a silently zero derivative).
* ``round(x)`` / ``round(x, n)`` runs Python's own round (so a Python number
  rounds exactly as Python does, a NumPy scalar as its ``__round__``): data.
  ``divmod(a, b)`` is ``np.divmod``'s rules (floor quotient data, remainder
  ``a - floor(a / b) b``).
"""
from __future__ import annotations

import builtins

import numpy as np

from ..errors import S2SGradError
from ..ir import Const
from .core import REGISTRY, defprim, register_object, shape_fresh


def _given(v):
    return v is not None and not (isinstance(v, Const) and v.value is None)


# ---------------------------------------------------------------- matvec / vecmat


def _matvec(em, x1, x2, axes=None, axis=None):
    if _given(axes) or _given(axis):
        raise S2SGradError("np.matvec(..., axes=/axis=) is not supported; move the axes "
                           "with np.moveaxis first")
    return em.squeeze(em.matmul(x1, em.expand_dims(x2, axis=-1)), axis=-1)


def _vecmat(em, x1, x2, axes=None, axis=None):
    if _given(axes) or _given(axis):
        raise S2SGradError("np.vecmat(..., axes=/axis=) is not supported; move the axes "
                           "with np.moveaxis first")
    row = em.expand_dims(em.conj_if_complex(x1), axis=-2)
    return em.squeeze(em.matmul(row, x2), axis=-2)


if hasattr(np, "matvec"):
    defprim("matvec", np.matvec, sig="x1, x2, /, *, axes=None, axis=None", expand=_matvec,
            doc="np.matvec(A, v): (A @ v[..., None])[..., 0] (matmul's rules).")
if hasattr(np, "vecmat"):
    defprim("vecmat", np.vecmat, sig="x1, x2, /, *, axes=None, axis=None", expand=_vecmat,
            doc="np.vecmat(v, A): (conj(v)[..., None, :] @ A)[..., 0, :] (matmul's rules).")


# ---------------------------------------------------------------- compress / extract


def _compress(em, condition, a, axis=None):
    idx = em.flatnonzero(condition)
    if _given(axis):
        return em.take(a, idx, axis=axis)
    return em.take(a, idx)


def _extract(em, condition, arr):
    return em.take(arr, em.flatnonzero(condition))


defprim("compress", np.compress, sig="condition, a, /, axis=None", expand=_compress,
        doc="np.compress: np.take(a, np.flatnonzero(condition), axis) (the condition is data).")
defprim("extract", np.extract, sig="condition, arr, /", expand=_extract,
        doc="np.extract: np.take(arr, np.flatnonzero(condition)) (the condition is data).")


# ---------------------------------------------------------------- data


def _data(name, impl, sig, doc, **kw):
    return defprim(name, impl, sig=sig, nondiff=True, shape=shape_fresh, doc=doc, **kw)


for _name in ("hamming", "hanning", "blackman", "bartlett"):
    _data(_name, getattr(np, _name), "M, /", f"np.{_name}: a window, data.")
# np.kaiser(M, beta) is smooth in beta: not data (a differentiated beta would
# get derivative 0); refused naming the rewrite until it has rules
defprim("kaiser", np.kaiser, sig="M, beta, /", opaque=True, shape=shape_fresh,
        doc="np.kaiser: a window (data in M; refused for a differentiated beta).")
REGISTRY["kaiser"].no_derivative = (
    "np.kaiser is not differentiated in beta; write the window with np.i0: "
    "n = np.arange(M); a = (M - 1) / 2; "
    "np.i0(beta * np.sqrt(1 - ((n - a) / a) ** 2)) / np.i0(beta)")
_data("gcd", np.gcd, "x1, x2, /", "np.gcd: integers, data.")
_data("isposinf", np.isposinf, "x, /", "np.isposinf: a mask, data.")
_data("isneginf", np.isneginf, "x, /", "np.isneginf: a mask, data.")
_data("lcm", np.lcm, "x1, x2, /", "np.lcm: integers, data.")


def _ix_count(args, kwargs):
    if len(args) < 2:
        raise S2SGradError("np.ix_ of a single array is not supported (it returns a 1-tuple); "
                           "use a[:, None] or the array itself")
    return len(args)


# np.ix_(a, b, ...) reshapes each 1-d operand (a boolean one: its nonzero
# indices, data) to lie along its own axis: of float operands, their values
# (a silently zero derivative when it was data), so linear: each cotangent
# reshaped back, each tangent reshaped like its result
defprim("ix_", np.ix_, sig="*args",
        vjp=lambda em, gs, outs, *xs: [None if g is None else em.reshape(g, shape=em.shape(x))
                                       for g, x in zip(gs, xs)],
        jvp=lambda em, dots, outs, *xs: None if all(d is None for d in dots) else tuple(
            None if d is None else em.reshape(d, shape=em.shape(o)) for d, o in zip(dots, outs)),
        linear=True, nouts=_ix_count,
        shape=lambda args, kwargs: tuple(shape_fresh(args, kwargs)
                                         for _ in range(_ix_count(args, kwargs))),
        doc="np.ix_: each operand reshaped along its own axis (boolean operands: their "
            "nonzero indices, data); the cotangents are reshaped back.")


# ---------------------------------------------------------------- Python's round / divmod

_data("py_round", builtins.round, "number, /, ndigits=None",
      "round(x[, n]): Python's round (ndarray.__round__ for arrays), data.", pyname="round")
register_object(builtins.divmod, REGISTRY["divmod"])


# ---------------------------------------------------------------- session 21 (cov8)
#
# * ``x.compress(condition, axis)`` is np.compress's composite.
# * ``x.item()`` / ``x.item(i)``: the element as a Python number (linear: the
#   cotangent goes back to that element); ``x.itemsize`` / ``x.nbytes`` data.
# * ``np.choose(a, [c0, c1, ...])`` (a list literal of choices): each choice's
#   cotangent is ``g`` where ``a`` (after mode='wrap'/'clip') picks it; ``a``
#   is data.
# * ``np.sort_complex(a)``: the values gathered in sorted order (ties have
#   equal values), as complex.
# * ``np.histogram_bin_edges``: np.histogram's edges (and their derivative
#   through min/max when computed from the data); ``np.histogram2d(x, y,
#   bins=<int>)``: the counts are piecewise constant (derivative 0), the
#   edges as np.histogram's per coordinate; weights=, density=, range= and
#   non-integer bins are refused.
# * ``np.trim_zeros(filt, trim)`` (1-d): a slice, bounds from the values (data).
# * ``np.poly(roots)`` (1-d real roots): d coef / d r_j = -[0, poly(r without
#   r_j)]; ``np.roots(p)``: dr_i = -sum_k dp_k r_i^(n-k) / p'(r_i)
#   (holomorphic; infinite at a multiple root).  Their Jacobians are runtime
#   helpers, not differentiated again (a second derivative is refused).
# * ``math.isfinite/isnan/isinf/isclose``: booleans, data.
import math  # noqa: E402

from .. import runtime  # noqa: E402
from .core import SCALAR, defattr, defmethod, shape_of  # noqa: E402
from .indexing import Slot  # noqa: E402


def _compress_method(args, kwargs):
    self_, rest = args[0], list(args[1:])
    kwargs = dict(kwargs)
    names = ("condition", "axis")
    for name, v in zip(names, rest):
        kwargs[name] = v
    if "condition" not in kwargs:
        raise TypeError("missing required argument 'condition'")
    return [kwargs.pop("condition"), self_], kwargs


defmethod("compress", REGISTRY["compress"], _compress_method)


def _item_impl(x, *args):
    return np.asarray(x).item(*args) if not isinstance(x, (int, float, complex)) else x


def _item_vjp(em, g, out, x, *args):
    return [em.call("item_ct", g, x, *args)] + [None] * len(args)


def _item_jvp(em, dots, out, x, *args):
    return None if dots[0] is None else em.call("item", dots[0], *args)


defprim("item", _item_impl, sig="x, /, *args", vjp=_item_vjp, jvp=_item_jvp, pyname="item_of",
        printer=lambda args, kwargs, eqn: __import__("ast").Call(
            func=__import__("ast").Attribute(value=args[0], attr="item",
                                             ctx=__import__("ast").Load()),
            args=list(args[1:]), keywords=[]),
        shape=lambda args, kwargs: SCALAR, data_args=lambda i: i > 0, linear=True,
        doc="x.item(*index): the element as a Python number (linear).")
defprim("item_ct", runtime.item_ct, sig="g, x, /, *args", pyname="item_ct",
        vjp=lambda em, h, out, g, x, *args: [em.call("item", h, *args), None]
        + [None] * len(args),
        jvp=lambda em, dots, out, g, x, *args: None if dots[0] is None
        else em.call("item_ct", dots[0], x, *args),
        shape=lambda args, kwargs: shape_of(args[1]), data_args=lambda i: i > 1, linear=True,
        doc="runtime helper: zeros like x with g at the position x.item(*args) reads (x is "
            "read for its shape only: derivative 0).")
defmethod("item", REGISTRY["item"])
_data("itemsize_of", lambda x: np.asarray(x).itemsize, "x, /", "x.itemsize: data.",
      printer=lambda args, kwargs, eqn: __import__("ast").Attribute(
          value=args[0], attr="itemsize", ctx=__import__("ast").Load()))
_data("nbytes_of", lambda x: np.asarray(x).nbytes, "x, /", "x.nbytes: data.",
      printer=lambda args, kwargs, eqn: __import__("ast").Attribute(
          value=args[0], attr="nbytes", ctx=__import__("ast").Load()))
defattr("itemsize", REGISTRY["itemsize_of"])
defattr("nbytes", REGISTRY["nbytes_of"])


# ---- choose

def _choose_canonical(args, kwargs):
    from ..lower import Seq
    from .signatures import keyword_operands
    pos, kw = keyword_operands(np.choose, ("a", "choices"), {})(args, kwargs)
    a, choices = pos
    if not isinstance(choices, Seq):
        raise S2SGradError("np.choose needs its choices written as a list literal ([x, y]), "
                           "so their number is known when compiling")
    if _given(kw.get("out")):
        raise S2SGradError("np.choose(..., out=) is not supported; assign the result")
    kw.pop("out", None)
    kw["n"] = Const(len(choices.items))
    return [a] + list(choices.items), kw


def _choose_impl(a, *choices, n, mode="raise"):
    return np.choose(a, list(choices), mode=mode)


def _choose_index(em, a, n, mode):
    m = mode.value if isinstance(mode, Const) else "raise"
    if isinstance(a, Const) and isinstance(a.value, (list, tuple)):
        a = Const(np.asarray(a.value))      # (a list literal: `%` is printed)
    if m == "wrap":
        return em.remainder(a, n)
    if m == "clip":
        return em.minimum(em.maximum(a, 0), n - 1)
    return a


def _choose_vjp(em, g, out, a, *choices, n, mode=None):
    idx = _choose_index(em, a, n.value, mode)
    return [None] + [em.unbroadcast(em.where(em.equal(idx, i), g, 0.0), c)
                     for i, c in enumerate(choices)]


def _choose_jvp(em, dots, out, a, *choices, n, mode=None):
    ts = dots[1:]
    if all(t is None for t in ts):
        return None
    kw = {} if mode is None else {"mode": mode}
    t = em.call("choose", a, *[d if d is not None else 0.0 for d in ts], n=n, **kw)
    return em.broadcast_like(t, out)


def _choose_printer(args, kwargs, eqn):
    import ast
    kws = [ast.keyword(arg="mode", value=kwargs["mode"])] if "mode" in kwargs else []
    return ast.Call(func=printing.dotted("np.choose"),
                    args=[args[0], ast.List(elts=list(args[1:]), ctx=ast.Load())],
                    keywords=kws)


from . import printing  # noqa: E402

defprim("choose", _choose_impl, sig="a, /, *choices, n, mode='raise'", aliases=(np.choose,),
        canonicalize=_choose_canonical, vjp=_choose_vjp, jvp=_choose_jvp,
        printer=_choose_printer, data_args=lambda i: i == 0, shape=shape_fresh,
        doc="np.choose(a, [c0, c1, ...]): each choice's cotangent where a picks it.")


# ---- sort_complex

def _sort_complex(em, a):
    # in NumPy's result dtype (a float32 array gives complex128, as NumPy; + 0j
    # alone gave complex64)
    order = em.argsort(a, axis=-1)
    out = em.add(em.take_along_axis(a, order, axis=-1), 0j)
    return em.astype(out, dtype=em.call("numpy_result_dtype", Const("sort_complex"), a))


defprim("sort_complex", np.sort_complex, sig="a, /", expand=_sort_complex,
        doc="np.sort_complex: the values gathered in sorted order, as complex.")


# ---- histogram_bin_edges / histogram2d

def _bin_edges(em, a, bins=None, range=None, weights=None):
    kw = {k: v for k, v in dict(bins=bins, range=range).items() if _given(v)}
    return em.histogram(a, weights if _given(weights) else Const(None), **kw)[1]


defprim("histogram_bin_edges", np.histogram_bin_edges, sig="a, bins=10, range=None, "
        "weights=None", expand=_bin_edges,
        doc="np.histogram_bin_edges: np.histogram's edges (and their derivative).")


def _histogram2d(em, x, y, bins=None, range=None, density=None, weights=None):
    b = 10 if bins is None else (bins.value if isinstance(bins, Const) else None)
    if not isinstance(b, (int, np.integer)) or isinstance(b, bool) or _given(range) \
            or _given(weights) or (_given(density) and not (isinstance(density, Const)
                                                            and not density.value)):
        raise S2SGradError("np.histogram2d is differentiated with an integer bins= only "
                           "(no range=, weights=, density=); for those use np.histogram "
                           "per coordinate, or compute it outside the differentiated function")
    xe = em.histogram(x, Const(None), bins=Const(int(b)))[1]
    ye = em.histogram(y, Const(None), bins=Const(int(b)))[1]
    h = em.call("histogram2d_counts", x, y, em.stop_gradient(xe), em.stop_gradient(ye))
    return h, xe, ye


_data("histogram2d_counts", runtime.histogram2d_counts,
      "x, y, xe, ye, /", "runtime helper: np.histogram2d's counts for given edges (data).",
      pyname="histogram2d_counts")
defprim("histogram2d", np.histogram2d, sig="x, y, bins=10, range=None, density=None, "
        "weights=None", expand=_histogram2d,
        doc="np.histogram2d(x, y, bins=<int>): counts piecewise constant, edges from the data.")


# ---- trim_zeros

def _trim_zeros(em, filt, trim=None, axis=None):
    if _given(axis):
        raise S2SGradError("np.trim_zeros(..., axis=) is not supported; use a 1-d array")
    sl = em.call("trim_zeros_slice", filt, trim=trim if trim is not None else Const("fb"))
    return em.call("getitem", filt, sl, _params={"index": Slot(0)})


_data("trim_zeros_slice", runtime.trim_zeros_slice, "filt, /, trim='fb'",
      "runtime helper: the slice np.trim_zeros keeps (data).", pyname="trim_zeros_slice")
defprim("trim_zeros", np.trim_zeros, sig="filt, trim='fb', axis=None", expand=_trim_zeros,
        doc="np.trim_zeros (1-d): a slice of the values; its bounds are data.")


# ---- poly / roots

def _jac_prim(name, impl, jac_name, jac_impl, doc):
    def vjp(em, g, out, x):
        return [em.matmul(em.call(jac_name, x), g)]         # J^T g with J stored transposed

    def jvp(em, dots, out, x):
        return em.matmul(dots[0], em.call(jac_name, x))
    defprim(jac_name, jac_impl, sig="x, /", opaque=True, pyname=jac_name, shape=shape_fresh,
            doc=f"runtime helper: the (transposed) Jacobian of {name} (not differentiated).")
    defprim(name, impl, sig="x, /", vjp=vjp, jvp=jvp, pyname=f"np.{name}", shape=shape_fresh,
            doc=doc)


_jac_prim("poly", np.poly, "poly_jac", runtime.poly_jac,
          "np.poly(roots) (1-d, real): d coef / d r_j = -[0, poly(roots without r_j)].")
_jac_prim("roots", np.roots, "roots_jac", runtime.roots_jac,
          "np.roots(p): dr_i = -sum_k dp_k r_i^(n-k) / p'(r_i) (holomorphic).")


# ---- math predicates (data)

for _name in ("isfinite", "isnan", "isinf"):
    _data(f"math_{_name}", getattr(math, _name), "x, /", f"math.{_name}: a bool, data.",
          pyname=f"math.{_name}")
    register_object(getattr(math, _name), REGISTRY[f"math_{_name}"])
# math.comb(n, k), math.perm, math.factorial of ints known when the code runs
# (n = len(ctrl) - 1 in a Bernstein basis): integers, data.
for _name, _sig in (("comb", "n, k, /"), ("perm", "n, k=None, /"), ("factorial", "n, /")):
    _data(f"math_{_name}", getattr(math, _name), _sig, f"math.{_name}: an int, data.",
          pyname=f"math.{_name}")
    register_object(getattr(math, _name), REGISTRY[f"math_{_name}"])
_data("math_isclose", math.isclose, "a, b, /, *, rel_tol=1e-09, abs_tol=0.0",
      "math.isclose: a bool, data.", pyname="math.isclose")
register_object(math.isclose, REGISTRY["math_isclose"])


# math.fsum([a, b, ...]) (a list literal of numbers): the exactly rounded sum;
# every term's cotangent is g.
def _fsum_jvp(em, dots, out, *xs):
    total = None
    for d in dots:
        if d is not None:
            total = em.add_ct(total, em.call("float", d))
    return total


defprim("math_fsum", math.fsum, sig="*xs", seq_arg=True, pyname="math.fsum",
        vjp=lambda em, g, out, *xs: [g for _ in xs], jvp=_fsum_jvp, linear=True,
        shape=lambda args, kwargs: SCALAR,
        doc="math.fsum([a, b, ...]): the exactly rounded sum; each term's derivative is 1.")


# np.lib.stride_tricks.sliding_window_view(x, window_shape, axis=None): for
# each windowed axis a, np.take(x, i[:, None] + j[None, :], axis=a) with the
# window dimension moved last (NumPy's layout); the index is data, the values
# gathered (their cotangents scatter-added back: overlapping windows sum).
# A copy where NumPy returns a read-only view (writing to it is an error there).

def _sliding_window(em, x, window_shape, axis=None, subok=None, writeable=None):
    if _given(writeable) and not (isinstance(writeable, Const) and not writeable.value):
        raise S2SGradError("sliding_window_view(..., writeable=True) is not supported")
    from ..lower import Seq
    # the window sizes may be computed ints (k = w.shape[0]): the gather index
    # is data either way; only the number of windowed axes must be known
    if isinstance(window_shape, Const):
        ws = window_shape.value
        ws = (ws,) if isinstance(ws, (int, np.integer)) else tuple(ws)
    elif isinstance(window_shape, Seq):
        ws = tuple(w.value if isinstance(w, Const) else w for w in window_shape.items)
    else:
        # a tuple of computed ints, (k, k), is a make_tuple of the current block
        made = [e for e in em.block.eqns if window_shape in e.outs]
        if made and made[-1].prim.name == "make_tuple":
            ws = tuple(w.value if isinstance(w, Const) else w for w in made[-1].args)
        elif axis is None:
            # an int or a tuple known when the code runs (kernel.shape): the
            # windows are a gather of the flat values at NumPy's own window
            # layout of their positions (data), whatever the number of axes
            idx = em.call("window_flat_index", x, window_shape)
            return em.take(em.call("ravel", x), idx)
        else:
            ws = (window_shape,)       # one int (window_index checks it is)
    ax = None if axis is None else (axis.value if isinstance(axis, Const) else "?")
    if ax == "?":
        raise S2SGradError("np.lib.stride_tricks.sliding_window_view needs a constant axis")
    if ax is None:
        axes = tuple(range(len(ws)))       # NumPy: one window size per axis of x
        x = em.call("require_ndim", x, ndim=len(ws),
                    what="sliding_window_view with axis=None and this window_shape")
    else:
        axes = (ax,) if isinstance(ax, (int, np.integer)) else tuple(ax)
    if len(axes) != len(ws):
        raise S2SGradError("sliding_window_view: window_shape and axis must have the same "
                           "length")
    for a, w in zip(axes, ws):
        idx = em.call("window_index", x, w=int(w) if isinstance(w, (int, np.integer)) else w,
                      axis=int(a))
        x = em.take(x, idx, axis=int(a))
        x = em.moveaxis(x, int(a) + 1 if a >= 0 else int(a), -1)
    return x


_data("window_flat_index", runtime.window_flat_index, "x, window_shape, /",
      "runtime helper: the flat positions of sliding_window_view(x, window_shape) (data).",
      pyname="window_flat_index")
_data("window_index", runtime.window_index, "x, /, w=1, axis=0",
      "runtime helper: the gather index of a sliding window (data).", pyname="window_index")
defprim("sliding_window_view", np.lib.stride_tricks.sliding_window_view,
        sig="x, window_shape, axis=None, *, subok=False, writeable=False",
        expand=_sliding_window,
        doc="sliding_window_view: np.take of a window index per axis (copies).")


# scipy.ndimage.map_coordinates(input, coordinates, order=1, mode=...) (mode
# 'constant', 'grid-constant' or 'nearest'): multilinear interpolation, the
# value SciPy's; the input's cotangent is g scattered with the weights, the
# coordinates' g times the spatial gradient (runtime helpers, which give NaN
# where their interpolation does not reproduce SciPy's value); other orders
# and modes are refused when differentiated.  Second derivatives are refused.
def _mc_opts(kw):
    """order/mode/cval with SciPy's defaults filled in (order=3: refused by the
    helpers), so the helpers never assume an option the call did not have."""
    out = {"order": Const(3), "mode": Const("constant"), "cval": Const(0.0)}
    out.update({k: v for k, v in kw.items() if k in out and v is not None})
    for k in ("output", "prefilter"):
        if _given(kw.get(k)) and not (k == "prefilter" and isinstance(kw[k], Const)):
            raise S2SGradError(f"scipy.ndimage.map_coordinates: {k}= is not supported when "
                               f"differentiated")
    o, m = out["order"], out["mode"]
    if (isinstance(o, Const) and o.value != 1) or (
            isinstance(m, Const) and m.value not in ("constant", "grid-constant", "nearest")):
        raise S2SGradError("scipy.ndimage.map_coordinates is differentiated with order=1 and "
                           "mode 'constant', 'grid-constant' or 'nearest' only (the default "
                           "order=3 spline is not); pass order=1")
    return out


def _mc_vjp(em, g, out, input, coordinates, **kw):
    kw = _mc_opts(kw)
    ct_in = em.call("mc_input_ct", g, input, coordinates, **kw)
    ct_c = em.multiply(em.expand_dims(g, axis=0), em.call("mc_grad", input, coordinates, **kw))
    return [ct_in, ct_c]


def _mc_jvp(em, dots, out, input, coordinates, **kw):
    kw = _mc_opts(kw)
    t = None
    if dots[0] is not None:
        t = em.call("mc_input_t", dots[0], coordinates, **kw)
    if dots[1] is not None:
        t = em.add_ct(t, em.sum(em.multiply(dots[1], em.call("mc_grad", input, coordinates,
                                                               **kw)), axis=0))
    return t


def _mc_input_t(t, coords, order=1, mode="constant", cval=0.0):
    import scipy.ndimage as nd
    runtime._mc_check(mode, order)
    return nd.map_coordinates(t, coords, order=1, mode=mode, cval=0.0)


def _register_map_coordinates():
    import scipy.ndimage as nd
    defprim("mc_grad", runtime.mc_grad, sig="input, coords, /, order=1, mode='constant', "
            "cval=0.0", opaque=True, pyname="mc_grad", shape=shape_fresh,
            doc="runtime helper: map_coordinates(order=1)'s spatial gradient.")
    defprim("mc_input_ct", runtime.mc_input_ct, sig="g, input, coords, /, order=1, "
            "mode='constant', cval=0.0", opaque=True, pyname="mc_input_ct",
            shape=lambda args, kwargs: shape_of(args[1]),
            doc="runtime helper: map_coordinates(order=1)'s input cotangent.")
    defprim("mc_input_t", _mc_input_t, sig="t, coords, /, order=1, mode='constant', cval=0.0",
            opaque=True, pyname="scipy.ndimage.map_coordinates",
            printer=lambda args, kwargs, eqn: printing.call(
                "scipy.ndimage.map_coordinates", list(args),
                dict(kwargs, cval=__import__("ast").Constant(value=0.0))),
            shape=shape_fresh,
            doc="map_coordinates of a tangent (linear in the input).")
    defprim("map_coordinates", nd.map_coordinates,
            sig="input, coordinates, /, output=None, order=3, mode='constant', cval=0.0, "
                "prefilter=True", pyname="scipy.ndimage.map_coordinates",
            vjp=_mc_vjp, jvp=_mc_jvp, shape=shape_fresh,
            doc="scipy.ndimage.map_coordinates (order=1, mode constant/grid-constant/nearest "
                "differentiated).")


# ---------------------------------------------------------------- set operations
# np.union1d / np.setdiff1d are NumPy's own compositions of np.unique (whose
# values' derivative goes to the first occurrence) and a mask (data); the
# same steps here.  (np.intersect1d's values are in both operands: not a
# smooth function of either.)

def _union1d(em, ar1, ar2):
    return em.call("unique", em.call("concatenate", ar1, ar2, axis=Const(None)))


def _setdiff1d(em, ar1, ar2, assume_unique=None):
    if assume_unique is not None and not isinstance(assume_unique, Const):
        raise S2SGradError("np.setdiff1d's assume_unique must be a constant")
    if assume_unique is not None and assume_unique.value:
        u = em.ravel(ar1)
    else:
        u = em.call("unique", ar1)
        ar2 = em.call("unique", ar2)
    keep = em.call("isin", u, ar2, assume_unique=Const(True), invert=Const(True))
    return em.take(u, em.flatnonzero(keep))


defprim("union1d", np.union1d, sig="ar1, ar2, /", expand=_union1d,
        doc="np.union1d: np.unique(np.concatenate((ar1, ar2), axis=None)), as NumPy.")
defprim("setdiff1d", np.setdiff1d, sig="ar1, ar2, /, assume_unique=False", expand=_setdiff1d,
        doc="np.setdiff1d: np.unique(ar1) where not in ar2 (the mask is data), as NumPy.")


# ---------------------------------------------------------------- a ufunc's dtype=
# np.exp(x, dtype=np.float32): the operands cast to the loop's dtype
# (lower/calls.py, ufunc_out), with astype's rules (derivative through a
# float target, cast back to the operand's dtype)
from .shape_ops import _astype_jvp, _astype_vjp  # noqa: E402
from .. import runtime as _runtime  # noqa: E402

defprim("ufunc_cast", _runtime.ufunc_cast, sig="x, /, dtype", pyname="ufunc_cast",
        vjp=_astype_vjp, jvp=_astype_jvp, shape=lambda args, kwargs: shape_of(args[0]),
        doc="runtime helper: an operand of a ufunc called with dtype=, cast as the ufunc "
            "casts it ('same_kind').")

defprim("numpy_result_dtype", _runtime.numpy_result_dtype, sig="name, /, *operands",
        pyname="numpy_result_dtype", nondiff=True, shape=lambda args, kwargs: SCALAR,
        doc="runtime helper: the dtype NumPy's function gives for operands of these dtypes.")
