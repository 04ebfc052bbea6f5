"""NumPy functions users of autograd and JAX differentiate that the other
rule modules lack: ``np.block``, ``np.i0``, the ``np.poly*`` arithmetic
(``polyadd``, ``polysub``, ``polymul``, ``polyder``, ``polyint``),
``np.unwrap`` and ``np.unstack``.

* ``np.block``: the nested list literal is flattened into operands and its
  nesting kept as a constant (``structure``); the cotangent of each block
  is the piece of ``g`` it filled (``runtime.unblock``), the tangent is
  ``np.block`` of the tangents.  No broadcasting, as in NumPy.
* ``np.i0``: derivative ``I1(x)``, which NumPy lacks; ``runtime.bessel_i1``
  sums its power series (all terms of one sign, so relatively exact); the
  derivative of ``I1`` is ``I0(x) - I1(x) / x`` (1/2 at 0, by its Taylor
  polynomial near 0), so every order works.
* ``polyadd``/``polysub``: the shorter coefficient array is padded at the
  front (the high powers), as NumPy does; ``polymul`` is ``np.convolve``;
  ``polyder``/``polyint`` (``m`` a constant, ``polyint``'s ``k`` data or
  differentiable) are linear: products with constant factors.
* ``np.unwrap``: ``p`` plus a piecewise-constant correction (multiples of
  the period), which is data: derivative 1.
* ``np.unstack``: ``x[i]`` along the axis, one result per element (the
  length must be known when compiling: it is the number of targets the
  result is unpacked into, or refused).
"""
from __future__ import annotations

import ast

import numpy as np

from ..errors import S2SGradError
from ..ir import Const
from .. import runtime
from .core import SCALAR, const_value, defcomposite, defprim, shape_fresh, shape_of
from .shape_ops import _zeros_for_none

# ---------------------------------------------------------------- np.block


def _structure(v):
    """``(leaves, structure)`` of a nested Seq (None for a leaf)."""
    from ..lower.values import Seq
    if isinstance(v, Seq) and v.kind in ("list",):
        leaves, parts = [], []
        for item in v.items:
            ls, s = _structure(item)
            leaves += ls
            parts.append(s)
        return leaves, tuple(parts)
    if isinstance(v, Seq):
        raise S2SGradError("np.block takes nested lists (NumPy refuses tuples)")
    return [v], None


def _block_canonicalize(args, kwargs):
    from ..lower.values import Seq
    if len(args) != 1 or kwargs:
        raise S2SGradError("np.block takes one argument, a nested list literal of arrays")
    if not isinstance(args[0], Seq):
        raise S2SGradError("np.block of a computed list: pass a nested list literal, "
                           "e.g. np.block([[A, B], [C, D]])")
    leaves, structure = _structure(args[0])
    if not leaves or structure is None:
        raise S2SGradError("np.block needs a (nested) list with at least one array")
    return [Seq("list", leaves)], {"structure": Const(structure)}


def _block_printer(args, kwargs, eqn):
    structure = eqn.kwargs["structure"].value
    it = iter(args)

    def build(s):
        return next(it) if s is None else ast.List(elts=[build(x) for x in s], ctx=ast.Load())
    return ast.Call(func=ast.Attribute(value=ast.Name(id="np", ctx=ast.Load()), attr="block",
                                       ctx=ast.Load()), args=[build(structure)], keywords=[])


def _block_vjp(em, g, out, *xs, structure):
    if len(xs) == 1:
        return [em.reshape(g, shape=em.shape(xs[0]))]
    return list(em.call("unblock", g, *xs, structure=structure))


def _block_jvp(em, dots, out, *xs, structure):
    if all(d is None for d in dots):
        return None
    return em.call("block", *_zeros_for_none(em, dots, xs), structure=structure)


defprim("block", runtime.block, sig="*arrays, structure=None", seq_arg=True,
        aliases=(np.block,), canonicalize=_block_canonicalize, printer=_block_printer,
        vjp=_block_vjp, jvp=_block_jvp, linear=True, shape=shape_fresh,
        doc="np.block of a nested list literal: the cotangent is cut back into the blocks.")


def _unblock_vjp(em, hs, out, g, *xs, structure):
    hs = hs if isinstance(hs, tuple) else (hs,)
    if all(h is None for h in hs):
        return [None] * (1 + len(xs))
    filled = [h if h is not None else em.zeros_like(x) for h, x in zip(hs, xs)]
    return [em.call("block", *filled, structure=structure)] + [None] * len(xs)


def _unblock_jvp(em, dots, out, g, *xs, structure):
    if dots[0] is None:
        return None
    return em.call("unblock", dots[0], *xs, structure=structure)


defprim("unblock", runtime.unblock, sig="g, /, *xs, structure=None", pyname="unblock",
        vjp=_unblock_vjp, jvp=_unblock_jvp, linear=True,
        nouts=lambda args, kwargs: len(args) - 1,
        shape=lambda args, kwargs: tuple(shape_of(x) for x in args[1:]),
        doc="runtime helper: the adjoint of np.block (one output per block).")


# ---------------------------------------------------------------- np.i0

from .elementwise import def_elementwise  # noqa: E402

_SMALL = 1e-4


def _i1_over_x(em, f, x):
    """``I1(x) / x``: near 0 its Taylor polynomial 1/2 + x^2/16 + x^4/384
    (error < 1e-26 for |x| < 1e-4), exact to the fourth derivative at 0."""
    small = em.less(em.absolute(x), _SMALL)
    far = em.divide(f, em.where(small, 1.0, x))
    x2 = em.square(x)
    near = em.add(0.5, em.multiply(x2, em.add(1.0 / 16.0, em.multiply(x2, 1.0 / 384.0))))
    return em.where(small, near, far)


def_elementwise("np_i0", np.i0, 1, lambda em, out, x: [em.call("bessel_i1", x)],
                aliases=(np.i0,), pyname="np.i0",
                doc="np.i0: derivative I1(x) (runtime.bessel_i1).")
def_elementwise("bessel_i1", runtime.bessel_i1, 1,
                lambda em, out, x: [em.subtract(em.call("np_i0", x), _i1_over_x(em, out, x))],
                pyname="bessel_i1",
                doc="runtime helper: the modified Bessel function I1 (np.i0's derivative).")


# ---------------------------------------------------------------- np.unwrap


def _unwrap_vjp(em, g, out, p, **kw):
    return [g]


def _unwrap_jvp(em, dots, out, p, **kw):
    return dots[0]


defprim("unwrap", np.unwrap, sig="p, /, discont=None, axis=-1, *, period=6.283185307179586",
        aliases=(np.unwrap,), pyname="np.unwrap", vjp=_unwrap_vjp, jvp=_unwrap_jvp,
        shape=lambda args, kwargs: shape_of(args[0]),
        doc="np.unwrap: p plus multiples of the period (piecewise constant): derivative 1.")


# ---------------------------------------------------------------- np.mgrid, np.ogrid (data)


def _grid_nouts(args, kwargs):
    kind = const_value(kwargs["kind"])
    n = len(const_value(kwargs["slices"]))
    return n if kind == "ogrid" and n > 1 else 1


def _grid_printer(args, kwargs, eqn):
    kind = eqn.kwargs["kind"].value
    triples = eqn.kwargs["slices"].value

    def bound(v):
        return None if v is None else ast.Constant(value=v)
    sl = [ast.Slice(lower=bound(a), upper=bound(b), step=bound(c)) for a, b, c in triples]
    index = sl[0] if len(sl) == 1 else ast.Tuple(elts=sl, ctx=ast.Load())
    return ast.Subscript(value=ast.Attribute(value=ast.Name(id="np", ctx=ast.Load()), attr=kind,
                                             ctx=ast.Load()), slice=index, ctx=ast.Load())


defprim("index_grid", runtime.index_grid, sig="*, kind='mgrid', slices=()", nondiff=True,
        printer=_grid_printer, nouts=_grid_nouts, pyname="index_grid",
        out_kind=type(np.ogrid[0:1, 0:1]).__name__,
        shape=lambda args, kwargs: shape_fresh(args, kwargs) if _grid_nouts(args, kwargs) == 1
        else tuple(shape_fresh(args, kwargs) for _ in range(_grid_nouts(args, kwargs))),
        doc="np.mgrid[...] / np.ogrid[...] with constant bounds (data).")


# ---------------------------------------------------------------- require_ndim


defprim("require_ndim", runtime.require_ndim, sig="x, /, ndim=1, what=''", pyname="require_ndim",
        vjp=lambda em, g, out, x, **kw: [g], jvp=lambda em, dots, out, x, **kw: dots[0],
        shape=lambda args, kwargs: shape_of(args[0]), linear=True,
        doc="runtime helper: x, checked to have ndim axes (gy, gx = np.gradient(f) "
            "compiles for a 2-d f).")


# ---------------------------------------------------------------- np.apply_along_axis helpers
# (lower/functional.py lowers the loop; these move the slices in and out)

from .signatures import def_linear_helper  # noqa: E402

def_linear_helper("along_axis_rows", runtime.along_axis_rows, "x, /, axis=0",
                  lambda em, h, x, **kw: em.call("along_axis_unrows", h, x, **kw),
                  shape_arg=None,
                  doc="runtime helper: the 1-d slices along axis as rows (np.apply_along_axis).")
def_linear_helper("along_axis_unrows", runtime.along_axis_unrows, "g, x, /, axis=0",
                  lambda em, h, g, x, **kw: em.call("along_axis_rows", h, **kw),
                  doc="runtime helper: the adjoint of along_axis_rows.")
def_linear_helper("along_axis_assemble", runtime.along_axis_assemble, "st, x, /, axis=0",
                  lambda em, h, st, x, **kw: em.call("along_axis_unassemble", h, st, x, **kw),
                  shape_arg=None,
                  doc="runtime helper: np.apply_along_axis's result from the stacked results.")
def_linear_helper("along_axis_unassemble", runtime.along_axis_unassemble,
                  "g, st, x, /, axis=0",
                  lambda em, h, g, st, x, **kw: em.call("along_axis_assemble", h, x, **kw),
                  doc="runtime helper: the adjoint of along_axis_assemble.")


# ---------------------------------------------------------------- refused with advice

from .core import explain_refusal  # noqa: E402

_ODE = ("has no derivative rule in s2sgrad (its derivative is an adjoint ODE through your "
        "dynamics function, not implemented); write the integrator in NumPy inside the "
        "function -- a fixed-step RK4 loop differentiates, and s2sgrad.checkpointed keeps "
        "long horizons' memory small")
for _n in ("quad_vec", "ode"):
    explain_refusal("scipy", _n, f"scipy.integrate.{_n}", _ODE)


# ---------------------------------------------------------------- np.polyadd, polysub, polyder,
# polyint (polymul, polydiv: primitives/polynomials.py)


def _polyadd_vjp(em, g, out, a1, a2):
    return [em.call("poly_tail", g, a1), em.call("poly_tail", g, a2)]


def _polyadd_jvp(em, dots, out, a1, a2):
    if all(d is None for d in dots):
        return None
    return em.call("polyadd", *_zeros_for_none(em, dots, (a1, a2)))


defprim("polyadd", np.polyadd, sig="a1, a2, /", aliases=(np.polyadd,), pyname="np.polyadd",
        vjp=_polyadd_vjp, jvp=_polyadd_jvp, linear=True, shape=shape_fresh,
        doc="np.polyadd: the shorter operand padded at the front; each operand's cotangent "
            "is the tail of g.")
defcomposite("polysub", np.polysub, sig="a1, a2, /",
             expand=lambda em, a1, a2: em.call("polyadd", a1, em.negative(a2)),
             doc="np.polysub: np.polyadd(a1, -a2) (the same numbers).")
def_linear_helper("poly_tail", runtime.poly_tail, "g, a, /",
                  lambda em, h, g, a: em.call("poly_pad", h, g), shape_arg=1,
                  doc="runtime helper: the last size(a) coefficients of g (np.polyadd's "
                      "adjoint).")
def_linear_helper("poly_pad", runtime.poly_pad, "h, like, /",
                  lambda em, k, h, like: em.call("poly_tail", k, h), shape_arg=None,
                  doc="runtime helper: h padded at the front with zeros to len(like).")


def _m_of(m):
    return m if m is not None else Const(1)


defprim("polyder", np.polyder, sig="p, /, m=1", aliases=(np.polyder,), pyname="np.polyder",
        vjp=lambda em, g, out, p, m=None: [em.call("polyder_adjoint", g, p, m=_m_of(m))],
        jvp=lambda em, dots, out, p, m=None: None if dots[0] is None else
        em.call("polyder", dots[0], m=_m_of(m)),
        linear=True, shape=shape_fresh,
        doc="np.polyder (1-d coefficients, constant m): linear, constant factors.")
def_linear_helper("polyder_adjoint", runtime.polyder_adjoint, "g, p, /, m=1",
                  lambda em, h, g, p, **kw: em.call("polyder", h, **kw), shape_arg=1,
                  doc="runtime helper: the adjoint of np.polyder.")


def _polyint_vjp(em, g, out, p, m=None, k=None):
    return [em.call("polyint_adjoint", g, p, m=_m_of(m))]


def _polyint_jvp(em, dots, out, p, m=None, k=None):
    return None if dots[0] is None else em.call("polyint", dots[0], m=_m_of(m))


defprim("polyint", np.polyint, sig="p, /, m=1, k=None", aliases=(np.polyint,),
        pyname="np.polyint", vjp=_polyint_vjp, jvp=_polyint_jvp, shape=shape_fresh,
        doc="np.polyint (1-d coefficients, constant m; the constants k are data): "
            "linear in p.")
def_linear_helper("polyint_adjoint", runtime.polyint_adjoint, "g, p, /, m=1",
                  lambda em, h, g, p, **kw: em.call("polyint", h, **kw), shape_arg=1,
                  doc="runtime helper: the adjoint of p -> np.polyint(p, m).")
# np.emath.sqrt/log/log10/log2 of real data: NumPy's function when no entry
# is negative (checked when the code runs: an effect, kept by dead-code
# elimination); a negative entry would make the result complex.
EMATH_REAL = defprim("emath_real", runtime.emath_real, sig="x, /, name='sqrt', where=''",
                     pyname="emath_real", nondiff=True, nouts=0,
                     shape=lambda args, kwargs: None,
                     doc="runtime helper: refuses np.emath.<f> of real data with a negative "
                         "entry (its result would be complex).")
EMATH_REAL.effect = True


def _emath(name):
    def expand(em, x):
        em.call("emath_real", x, name=Const(name), where=Const(str(em.loc)))
        return em.call(name, x)
    return expand


for _name in ("sqrt", "log", "log10", "log2"):
    defcomposite(f"emath_{_name}", getattr(np.emath, _name), sig="x, /", expand=_emath(_name),
                 doc=f"np.emath.{_name}: np.{_name} (real data checked to have no negative "
                     f"entry when the code runs; complex data as np.{_name}).")


defprim("unpack_index", runtime.unpack_index, sig="x, /, n=1", pyname="unpack_index",
        nondiff=True, shape=lambda args, kwargs: SCALAR,
        doc="runtime helper: 0, after checking x has n entries along its first axis "
            "(a, b = np.unstack(x) indexes its first piece with it).")


# ---------------------------------------------------------------- np.fill_diagonal (a write)

from .indexing import Slot  # noqa: E402
from .mutation import _cycled  # noqa: E402


def _fill_diagonal(em, a, val, wrap=None):
    ind = em.call("fill_diagonal_index", a, wrap=wrap if wrap is not None else Const(False))
    flat = em.call("ravel", a)
    new = em.call("setitem", flat, _cycled(em, val, ind), ind, _params={"index": Slot(0)})
    return em.call("reshape", new, em.call("shape", a))


defprim("fill_diagonal_update", None, sig="a, val, /, wrap=False", expand=_fill_diagonal,
        doc="np.fill_diagonal(y, v, wrap): y.flat[diagonal positions] = v, v cycled as NumPy.")
defprim("fill_diagonal_index", runtime.fill_diagonal_index, sig="a, /, wrap=False",
        nondiff=True, pyname="fill_diagonal_index", shape=shape_fresh,
        doc="runtime helper: the flat positions np.fill_diagonal writes (data).")
