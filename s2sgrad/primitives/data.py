"""Functions whose results are data: any, all, searchsorted, digitize,
nonzero (and one-argument where), flatnonzero, argwhere, unique, isclose,
allclose, array_equal, array_equiv, count_nonzero, argpartition, lexsort,
nanargmax, nanargmin, isin, the index constructors (tri, tril_indices,
triu_indices(_from), diag_indices(_from), indices, unravel_index,
ravel_multi_index) -- and the three with a differentiable part,
bincount (in its weights), histogram (in its weights, and in the data
through the bin edges it computes from the data's min and max) and unique
(its values: each is its first occurrence's).  np.unique_values (values in
an unspecified order) refuses a differentiated input.

A data result is piecewise constant in its operands (a count, an index, a
mask), so its derivative is zero wherever it exists: these primitives are
``nondiff``, never refused.  A differentiated operand is simply cut off, and
the results can be used as indices later (``x[np.nonzero(m)]``,
``x[np.argwhere(m)[:, 0]]``), where the indexing rules take over.

``np.nonzero(x)`` (and ``np.where(x)``) has one result per axis of ``x``,
a number not known when compiling: its result is kept as one value (the
tuple), which indexes (``x[idx]``) and unpacks (``rows, cols = ...``) as
NumPy's does; so are the results of the other tuple-valued index
functions (``np.triu_indices``, ``np.unravel_index``, ...).

Conventions (also in the README):

* ``bincount(x, weights)``: the cotangent of ``weights[i]`` is ``g[x[i]]``.
* ``histogram``: the counts are piecewise constant in the data; the
  weighted counts are linear in ``weights`` (``density=True`` divides by
  their total and the bin widths, differentiated too); bin edges computed
  from the data (``bins`` a number or a rule name, no ``range``) are
  ``(1 - t) min + t max``, differentiated through ``min``/``max`` with their
  tie rule, which also gives ``density``'s dependence on the data.
"""
from __future__ import annotations

import numpy as np

from .. import runtime
from ..ir import Const
from .core import SCALAR, defmethod, defprim, fresh_shape, numpy_result, shape_fresh
from .indexing import Slot
from .reductions import _maxmin_jvp, _maxmin_vjp, positional_adapter
from .signatures import (def_linear_helper, keyword_operands, keyword_printer, method_adapter,
                         options)


def _absent(v):
    return v is None or (isinstance(v, Const) and v.value is None)


def _data(name, impl, sig, doc, **kw):
    return defprim(name, impl, sig=sig, nondiff=True, shape=kw.pop("shape", shape_fresh),
                   doc=doc, **kw)


# ---------------------------------------------------------------- masks and tests

ANY = _data("any", np.any, "a, /, axis=None, *, keepdims=None",
            "np.any / x.any: data (derivative 0).")
ALL = _data("all", np.all, "a, /, axis=None, *, keepdims=None",
            "np.all / x.all: data (derivative 0).")
defmethod("any", ANY, positional_adapter("axis", "out", "keepdims"))
defmethod("all", ALL, positional_adapter("axis", "out", "keepdims"))
_data("isclose", np.isclose, "a, b, /, rtol=1e-05, atol=1e-08, equal_nan=False",
      "np.isclose: a mask, data.")
_data("allclose", np.allclose, "a, b, /, rtol=1e-05, atol=1e-08, equal_nan=False",
      "np.allclose: a bool, data.")
_data("array_equal", np.array_equal, "a1, a2, /, equal_nan=False",
      "np.array_equal: a bool, data.")
_data("array_equiv", np.array_equiv, "a1, a2, /", "np.array_equiv: a bool, data.")
_data("count_nonzero", np.count_nonzero, "a, /, axis=None, *, keepdims=False",
      "np.count_nonzero: a count, data.")
_data("isin", np.isin, "element, test_elements, /, assume_unique=False, invert=False, *, "
                       "kind=None", "np.isin: a mask, data.")


# ---------------------------------------------------------------- indices

SEARCHSORTED = _data("searchsorted", np.searchsorted, "a, v, /, side='left', sorter=None",
                     "np.searchsorted / x.searchsorted: indices, data.")
defmethod("searchsorted", SEARCHSORTED, method_adapter(("v",), ("side", "sorter")))
_data("digitize", np.digitize, "x, bins, /, right=False", "np.digitize: indices, data.")
NONZERO = _data("nonzero", np.nonzero, "a, /",
                "np.nonzero / x.nonzero / np.where(c): a tuple of index arrays, data.")
defmethod("nonzero", NONZERO)
_data("flatnonzero", np.flatnonzero, "a, /", "np.flatnonzero: indices, data.")
_data("argwhere", np.argwhere, "a, /", "np.argwhere: indices, data.")
ARGPARTITION = _data("argpartition", np.argpartition, "a, /, kth, axis=-1, kind=None",
                     "np.argpartition / x.argpartition: indices, data.")
defmethod("argpartition", ARGPARTITION, positional_adapter("kth", "axis", "kind", "order"))
_data("nanargmax", np.nanargmax, "a, /, axis=None, *, keepdims=None",
      "np.nanargmax: an index, data.")
_data("nanargmin", np.nanargmin, "a, /, axis=None, *, keepdims=None",
      "np.nanargmin: an index, data.")


# index constructors: the tuple-valued ones are one value (the tuple), like np.nonzero's
_data("tri", np.tri, "N, /, M=None, k=0, dtype=float", "np.tri: a mask, data.")
_data("tril_indices", np.tril_indices, "n, /, k=0, m=None", "np.tril_indices: indices, data.")
_data("triu_indices", np.triu_indices, "n, /, k=0, m=None", "np.triu_indices: indices, data.")
_data("tril_indices_from", np.tril_indices_from, "arr, /, k=0",
      "np.tril_indices_from: indices, data.")
_data("triu_indices_from", np.triu_indices_from, "arr, /, k=0",
      "np.triu_indices_from: indices, data.")
_data("diag_indices", np.diag_indices, "n, /, ndim=2", "np.diag_indices: indices, data.")
_data("diag_indices_from", np.diag_indices_from, "arr, /",
      "np.diag_indices_from: indices, data.")
_data("indices", np.indices, "dimensions, /, dtype=int, sparse=False", "np.indices: data.")
_data("unravel_index", np.unravel_index, "indices, shape, /, order='C'",
      "np.unravel_index: indices, data.")
_data("ravel_multi_index", np.ravel_multi_index, "multi_index, dims, /, mode='raise', order='C'",
      "np.ravel_multi_index: indices, data.")


def _lexsort_canonical(args, kwargs):
    from ..lower import Seq  # late import: lower imports the primitive table
    if args and isinstance(args[0], Seq):
        return list(args[0].items) + list(args[1:]), dict(kwargs, spread=Const(True))
    return args, kwargs


def _lexsort_impl(*keys, axis=-1, spread=False):
    return np.lexsort(keys if spread else keys[0], axis=axis)


def _lexsort_printer(args, kwargs, eqn):
    import ast
    from . import printing
    kwargs = dict(kwargs)
    spread = kwargs.pop("spread", None)
    first = ast.Tuple(elts=list(args), ctx=ast.Load()) if spread is not None else args[0]
    return printing.call("np.lexsort", [first], kwargs)


_data("lexsort", _lexsort_impl, "*keys, axis=-1, spread=False", "np.lexsort: indices, data.",
      aliases=(np.lexsort,), canonicalize=_lexsort_canonical, printer=_lexsort_printer)


# ---------------------------------------------------------------- unique


def _unique_nouts(args, kwargs):
    n = 1
    for flag in ("return_index", "return_inverse", "return_counts"):
        v = kwargs.get(flag)
        if v is not None:
            if not isinstance(v, Const):
                from ..errors import S2SGradError
                raise S2SGradError(f"np.unique's {flag} must be a constant (True/False), so the "
                                   f"number of results is known when compiling")
            n += bool(v.value)
    return n


# np.unique's values are the input's values: the cotangent of each goes to
# its first occurrence (as np.unique(return_index=True) names it; repeats get
# 0, a choice among equal values as at a tie of max); the indices, inverse and
# counts are data.  Flattened input only (axis=None).
def _unique_opts(em, axis, equal_nan, sorted):
    if axis is not None and not (isinstance(axis, Const) and axis.value is None):
        from ..errors import S2SGradError
        raise S2SGradError("np.unique(..., axis=...) is differentiated only without axis "
                           "(unique values of the flattened array)")
    return options(equal_nan=equal_nan, sorted=sorted)


def _unique_vjp(em, g, out, ar, return_index=None, return_inverse=None, return_counts=None,
                axis=None, equal_nan=None, sorted=None):
    gv = g[0] if isinstance(g, tuple) else g
    kw = _unique_opts(em, axis, equal_nan, sorted)
    return [None if gv is None else em.call("unique_adjoint", gv, ar, **kw)]


def _unique_jvp(em, dots, out, ar, return_index=None, return_inverse=None, return_counts=None,
                axis=None, equal_nan=None, sorted=None):
    kw = _unique_opts(em, axis, equal_nan, sorted)
    t = em.call("unique_tangent", dots[0], ar, **kw)
    return (t,) + (None,) * (len(out) - 1) if isinstance(out, tuple) else t


defprim("unique", np.unique, sig="ar, /, return_index=False, return_inverse=False, "
                                 "return_counts=False, axis=None, *, equal_nan=True, sorted=True",
        vjp=_unique_vjp, jvp=_unique_jvp, nouts=_unique_nouts,
        doc="np.unique (and its return_* forms): each value's derivative goes to its first "
            "occurrence; the indices and counts are data.",
        shape=lambda args, kwargs: (fresh_shape() if _unique_nouts(args, kwargs) == 1 else
                                    tuple(fresh_shape() for _ in range(_unique_nouts(args,
                                                                                     kwargs)))))
def_linear_helper("unique_tangent", runtime.unique_tangent, "t, ar, /, equal_nan=True, "
                  "sorted=True", lambda em, h, _t, ar, **kw: em.call("unique_adjoint", h, ar, **kw),
                  shape_arg=None, doc="runtime helper: the tangent of np.unique's values.")
def_linear_helper("unique_adjoint", runtime.unique_adjoint, "g, ar, /, equal_nan=True, "
                  "sorted=True", lambda em, h, _g, ar, **kw: em.call("unique_tangent", h, ar, **kw),
                  doc="runtime helper: the adjoint of np.unique's values.")
# np.unique_values: the order of its values is unspecified, so its values,
# differentiated, are refused (opaque); np.unique's are differentiable
if getattr(np, "unique_values", None) is not None:
    defprim("unique_values", np.unique_values, sig="x, /", opaque=True, shape=shape_fresh,
            doc="np.unique_values: data (its values, differentiated, are refused).")


# np.unique_all / unique_counts / unique_inverse (the array API's spellings):
# np.unique with the matching return_* flags and equal_nan=False, as NumPy
# defines them; their values are np.unique's (differentiable, see above), the
# indices and counts data; the result is NumPy's namedtuple (.values, .counts).
def _unique_spelling(name, fields, flags):
    fn = getattr(np, name, None)
    if fn is None:
        return

    def expand(em, x):
        return em.unique(x, **{f: True for f in flags}, equal_nan=False)

    defprim(name, fn, sig="x, /", expand=expand, out_fields=fields,
            out_type=numpy_result(name),
            doc=f"np.{name}: np.unique(x, {', '.join(f + '=True' for f in flags)}, "
                f"equal_nan=False); values differentiable, the rest data.")


_unique_spelling("unique_all", ("values", "indices", "inverse_indices", "counts"),
                 ("return_index", "return_inverse", "return_counts"))
_unique_spelling("unique_counts", ("values", "counts"), ("return_counts",))
_unique_spelling("unique_inverse", ("values", "inverse_indices"), ("return_inverse",))


# ---------------------------------------------------------------- bincount


def _bincount_impl(x, weights=None, minlength=0):
    return np.bincount(x, weights, minlength)


def _gather(em, g, idx):
    """``g[idx]`` (the cotangent a scatter-add's operand receives)."""
    return em.call("getitem", g, idx, _params={"index": Slot(0)})


defprim("bincount", _bincount_impl, sig="x, weights, /, minlength=0", aliases=(np.bincount,),
        canonicalize=keyword_operands(np.bincount, ("x", "weights")),
        vjp=lambda em, g, out, x, weights, minlength=None: [None, _gather(em, g, x)],
        jvp=lambda em, dots, out, x, weights, minlength=None: (
            None if dots[1] is None else em.bincount(x, dots[1], **options(minlength=minlength))),
        shape=shape_fresh, printer=keyword_printer("np.bincount", ("x", "weights")),
        doc="np.bincount: counts are data; with weights, weights[i]'s cotangent is g[x[i]].")


# ---------------------------------------------------------------- histogram


def _histogram_impl(a, weights=None, bins=10, range=None, density=None):
    return np.histogram(a, bins, range, density, weights)


def _edges_from_data(bins, range_):
    """Whether np.histogram computes the edges from the data's min and max:
    True, False, or None when only known at run time (``bins`` computed)."""
    if not _absent(range_):
        return False
    if bins is None:
        return True
    if isinstance(bins, Const):
        return isinstance(bins.value, (int, np.integer, str))
    return None


def _data_edge_scale(em, t, bins, range_):
    """``t`` where the edges come from the data (``None``: they do not)."""
    known = _edges_from_data(bins, range_)
    if known is False or t is None:
        return None
    if known is None:
        return em.multiply(t, em.call("histogram_data_edges", bins))
    return t


def _density(density):
    return isinstance(density, Const) and bool(density.value)


def _counts(em, a, weights, edges):
    """Weighted counts for the edges ``edges`` (piecewise constant in them)."""
    return em.histogram(a, weights, bins=em.stop_gradient(edges))[0]


def _hist_parts(em, a, weights, edges):
    """(weighted counts, their total, the bin widths) for these edges."""
    c = _counts(em, a, weights, edges)
    return c, em.sum(c), em.diff(edges, Const(None), Const(None))


def _edge_span(em, edges):
    last = em.call("getitem", edges, _params={"index": -1})
    first = em.call("getitem", edges, _params={"index": 0})
    return em.subtract(last, first)


def _histogram_vjp(em, gs, outs, a, weights, bins=None, range=None, density=None):
    g_h, g_e = gs
    hist, edges = outs
    ct_w = None
    if g_h is not None:
        idx = em.call("histogram_bin_index", a, edges)
        inside = em.greater_equal(idx, 0)
        if _density(density):
            c, total, width = _hist_parts(em, a, weights, edges)
            per_bin = em.divide(g_h, em.multiply(total, width))
            shift = em.divide(em.sum(em.multiply(g_h, hist)), total)
            ct_w = em.where(inside, em.subtract(em.take(per_bin, idx), shift), 0.0)
        else:
            ct_w = em.where(inside, em.take(g_h, idx), 0.0)
    ct_a = None
    if _edges_from_data(bins, range) is not False:
        # edges = (1 - t) min(a) + t max(a); density also divides by the width
        ct_lo = ct_hi = None
        if g_e is not None:
            ct_lo, ct_hi = em.call("unlinspace", g_e, 0.0, 0.0, num=em.size(edges))
        if g_h is not None and _density(density):
            s = em.divide(em.sum(em.multiply(g_h, hist)), _edge_span(em, edges))
            ct_lo = em.add_ct(ct_lo, s)
            ct_hi = em.add_ct(ct_hi, em.negative(s))
        if ct_lo is not None:
            ct_a = _data_edge_scale(em, em.add(_maxmin_vjp(em, ct_lo, em.min(a), a)[0],
                                               _maxmin_vjp(em, ct_hi, em.max(a), a)[0]),
                                    bins, range)
    return [ct_a, None if _absent(weights) else ct_w]


def _histogram_jvp(em, dots, outs, a, weights, bins=None, range=None, density=None):
    da, dw = dots
    hist, edges = outs
    t_h = t_e = None
    if dw is not None:
        dc = _counts(em, a, dw, edges)
        if _density(density):
            c, total, width = _hist_parts(em, a, weights, edges)
            t_h = em.subtract(em.divide(dc, em.multiply(total, width)),
                              em.multiply(hist, em.divide(em.sum(dc), total)))
        else:
            t_h = dc
    if da is not None and _edges_from_data(bins, range) is not False:
        d_lo = _data_edge_scale(em, _maxmin_jvp(em, [da], em.min(a), a), bins, range)
        d_hi = _data_edge_scale(em, _maxmin_jvp(em, [da], em.max(a), a), bins, range)
        t_e = em.linspace(d_lo, d_hi, num=em.size(edges))
        if _density(density):
            t_h = em.add_ct(t_h, em.negative(em.multiply(
                hist, em.divide(em.subtract(d_hi, d_lo), _edge_span(em, edges)))))
    if t_h is None and t_e is None:
        return None
    return (t_h, t_e)


defprim("histogram", _histogram_impl, sig="a, weights, /, bins=10, range=None, density=None",
        aliases=(np.histogram,), canonicalize=keyword_operands(np.histogram, ("a", "weights")),
        vjp=_histogram_vjp, jvp=_histogram_jvp, nouts=2,
        shape=lambda args, kwargs: (fresh_shape(), fresh_shape()),
        printer=keyword_printer("np.histogram", ("a", "weights"), order=("bins",)),
        doc="np.histogram: counts are data; differentiable in weights, and in the data "
            "through edges computed from its min and max.")
defprim("histogram_bin_index", runtime.histogram_bin_index, sig="a, edges, /", nondiff=True,
        pyname="histogram_bin_index", shape=shape_fresh,
        doc="runtime helper: the bin of each element (-1 outside), data.")
defprim("histogram_data_edges", runtime.histogram_data_edges, sig="bins, /", nondiff=True,
        pyname="histogram_data_edges", shape=lambda args, kwargs: SCALAR,
        doc="runtime helper: 1.0 if np.histogram computes its edges from the data, data.")
