"""Products and linear algebra: matmul, dot, inner, outer, tensordot, einsum,
trace, diag, and np.linalg (norm, inv, solve, det, slogdet).

Reverse rules are the usual matrix-calculus identities.  Where NumPy decides
by the operands' ranks what a product means (1-d promotion in ``matmul``,
``dot`` of N-d arrays, which axes ``tensordot``'s ``axes=2`` names), the two
cotangents are small helpers in :mod:`s2sgrad.runtime` that are primitives
themselves, so generated code can be differentiated again.  ``einsum``'s
cotangents are einsums, built from the subscripts at compile time.

Conventions (documented in the README too):

* ``np.linalg.norm``: at a zero vector (or matrix) the 2-norm/Frobenius norm
  has derivative 0, a valid subgradient (the true derivative does not
  exist there), and a second derivative there is refused at run time (the
  chain rule through that subgradient gives 0 for the Hessian of
  ``norm(x) ** 2`` at 0, which is 2 I; ``np.hypot`` at (0, 0) likewise); the 1-norm uses ``sign(x)`` (0 at zero entries); the
  inf-norm (-inf-norm) splits the sensitivity equally among the entries
  tied for the largest (smallest) absolute value, as ``np.max`` does;
  ``ord=0`` (a count) has derivative 0; a general ``ord=p`` uses
  ``sign(x) * (|x| / norm) ** (p - 1)`` (also 0 at a zero vector for
  ``p > 1``; NaN at zero entries for ``p < 1``, where it is infinite).
  Complex vectors: ``conj(x) / norm`` (the convention of ``complex.py``).
  Matrix norms (``'nuc'``, and 2, -2, 1, -1, inf, -inf with ``axis=(a, b)``)
  of real matrices: the nuclear norm's gradient is ``U V^T``; the spectral
  norm's ``u1 v1^T`` (ties among the largest/smallest singular values split
  equally); the 1/inf norms' ``sign(x)`` on the column/row of extreme
  absolute sum (ties split equally).  ``norm(x, ord)`` with ord 1, -1, 2,
  -2, inf or -inf and no ``axis`` is a vector norm of a 1-d ``x`` and a
  matrix norm of a 2-d ``x``, as NumPy decides by ``x.ndim``: the weight is
  chosen at run time (``runtime.norm_ord_weight``, the same subgradients);
  its second derivative (``runtime.norm_ord_hvp``) is exact for real ``x``
  (0 for the piecewise-linear norms; the matrix 2/-2 norms through the
  SVD's perturbation, raising at a repeated extreme singular value), raises
  at run time for complex ``x`` (pass ``axis=``, whose rules differentiate
  again); a third derivative is refused.  Other numeric ords without ``axis`` are vector norms,
  checked at run time to be of a 1-d ``x`` (NumPy refuses them for 2-d).
* ``det``'s derivative is the cofactor matrix, computed from the SVD, so
  it exists at a singular ``A`` too (second derivatives use ``inv(A)``);
  ``slogdet`` uses ``inv(A)`` (at a singular ``A`` ``inv`` raises
  ``LinAlgError``: log|det| is -inf there).
  ``slogdet``'s ``sign`` is piecewise constant for a real matrix (derivative
  0); for a complex one it turns: ``d sign = sign * i Im tr(A^-1 dA)``.
* ``solve(a, b)``: whether ``b`` is a vector is decided at run time the way
  the installed NumPy decides it (>= 2: only when 1-d).
* ``einsum``: every NumPy form -- subscripts with ``...`` anywhere, an
  implicit output, the operand/sublist form (made a subscripts string when
  lowered, ``Primitive.canonicalize``), repeated labels (``'ii->i'``, ``'ii'``), labels of size 1
  broadcast against longer ones, ``optimize=``.
"""
from __future__ import annotations

import ast
import string

import numpy as np

from . import printing
from .. import runtime
from ..errors import S2SGradError
from ..ir import Const
from .core import (SCALAR, const_value, defmethod, defprim, is_one, numpy_result,
                   shape_elementwise, shape_fresh, shape_of)


def _given(v):
    """An option that was passed and is not None."""
    return v is not None and not (isinstance(v, Const) and v.value is None)


def _lin(fn, t, *args, **kw):
    """The tangent of a helper that is linear in its first operand (the others
    only supply shapes or a permutation): zero when that operand's is."""
    return None if t is None else fn(t, *args, **kw)


# ---------------------------------------------------------------- bilinear products
#
# A product P(a, b) that is linear in each operand has the cotangents
#   A(g, a, b) = d<g, P(a, b)>/da,   B(g, a, b) = d<g, P(a, b)>/db,
# where A's ``a`` and B's ``b`` only supply a shape.  A and B are primitives
# (NumPy's rank rules are applied at run time) with rules that close over
# the same three functions, so any derivative order stays within them:
#   <h, A(dg, a, b)> = <P(h, b), dg>,   <h, A(g, a, db)> = <B(g, h, b), db>
#   <h, B(dg, a, b)> = <P(a, h), dg>,   <h, B(g, da, b)> = <A(g, da, h), da>


def def_bilinear(name, impl, vjp_a_impl, vjp_b_impl, *, options="", sum_to_g=False,
                 doc="", **kw):
    """Register the product ``name`` and its two cotangent helpers
    ``<name>_vjp_a``/``<name>_vjp_b`` (printed by their runtime names).
    ``options`` are keyword options passed on to all three (``axes=2``).
    ``sum_to_g``: P(h, b) may broadcast beyond g's shape (matmul's batch
    dimensions), so it is summed back with ``unbroadcast``."""
    a_name, b_name = f"{name}_vjp_a", f"{name}_vjp_b"
    sig = "a, b, /" + (", " + options if options else "")
    hsig = "g, a, b, /" + (", " + options if options else "")

    def vjp(em, g, out, a, b, **o):
        return [em.call(a_name, g, a, b, **o), em.call(b_name, g, a, b, **o)]

    def jvp(em, dots, out, a, b, **o):
        da, db = dots
        t = None
        if da is not None:
            t = em.call(name, da, b, **o)
        if db is not None:
            t = em.add_ct(t, em.call(name, a, db, **o))
        return t

    def to_g(em, v, g):
        return em.unbroadcast(v, g) if sum_to_g else v

    def a_vjp(em, h, out, g, a, b, **o):
        return [to_g(em, em.call(name, h, b, **o), g), None, em.call(b_name, g, h, b, **o)]

    def a_jvp(em, dots, out, g, a, b, **o):
        dg, _, db = dots
        t = em.call(a_name, dg, a, b, **o) if dg is not None else None
        if db is not None:
            t = em.add_ct(t, em.call(a_name, g, a, db, **o))
        return t

    def b_vjp(em, h, out, g, a, b, **o):
        return [to_g(em, em.call(name, a, h, **o), g), em.call(a_name, g, a, h, **o), None]

    def b_jvp(em, dots, out, g, a, b, **o):
        dg, da, _ = dots
        t = em.call(b_name, dg, a, b, **o) if dg is not None else None
        if da is not None:
            t = em.add_ct(t, em.call(b_name, g, da, b, **o))
        return t

    prim = defprim(name, impl, sig=sig, vjp=vjp, jvp=jvp, shape=shape_fresh, doc=doc, **kw)
    defprim(a_name, vjp_a_impl, sig=hsig, pyname=vjp_a_impl.__name__, vjp=a_vjp, jvp=a_jvp,
            shape=lambda args, kwargs: shape_of(args[1]),
            doc=f"runtime helper: the cotangent of the first operand of {prim.pyname}.")
    defprim(b_name, vjp_b_impl, sig=hsig, pyname=vjp_b_impl.__name__, vjp=b_vjp, jvp=b_jvp,
            shape=lambda args, kwargs: shape_of(args[2]),
            doc=f"runtime helper: the cotangent of the second operand of {prim.pyname}.")
    return prim


def_bilinear("matmul", np.matmul, runtime.matmul_vjp_a, runtime.matmul_vjp_b, sum_to_g=True,
             printer=printing.binop(ast.MatMult()),
             doc="a @ b: cotangents g @ b.T and a.T @ g, with 1-d operands promoted as "
                 "NumPy does.")
DOT = def_bilinear("dot", np.dot, runtime.dot_vjp_a, runtime.dot_vjp_b,
                   doc="np.dot / a.dot(b): matmul for 1-d and 2-d operands, a sum over the "
                       "last axis of a and the second-to-last of b for N-d, a product with "
                       "a scalar.")
defmethod("dot", DOT)
def_bilinear("inner", np.inner, runtime.inner_vjp_a, runtime.inner_vjp_b,
             doc="np.inner: a sum over the last axes of both operands.")
def_bilinear("outer", np.outer, runtime.outer_vjp_a, runtime.outer_vjp_b,
             doc="np.outer: the outer product of the flattened operands.")
def_bilinear("tensordot", np.tensordot, runtime.tensordot_vjp_a, runtime.tensordot_vjp_b,
             options="axes=2",
             doc="np.tensordot(a, b, axes): axes an int or a pair of axis lists "
                 "(constants).")


# ---------------------------------------------------------------- einsum
#
# Every NumPy form is accepted and brought to one: the operand/sublist form
# np.einsum(a, [0, 1], b, [1, 2], [0, 2]) becomes the subscripts string
# 'AB,BC->AC' when the call is lowered (labels 0..25 -> 'A'..'Z', 26..51 ->
# 'a'..'z', NumPy's own order, so an implicit output is sorted the same
# way).  Subscripts may hold '...' anywhere, an implicit output (no '->'),
# repeated labels (diagonals, traces), any number of operands, and labels or
# ellipsis dimensions of size 1 broadcast against longer ones.

_SUBLIST_LABELS = string.ascii_uppercase + string.ascii_lowercase


def _sublist_term(sub, what):
    """A sublist (a list literal of constants while lowering, or a constant
    list) as subscript letters."""
    items = getattr(sub, "items", None)
    if isinstance(items, list) and all(isinstance(i, Const) for i in items):
        v = [i.value for i in items]
    else:
        v = sub.value if isinstance(sub, Const) else None
    if not isinstance(v, (list, tuple)):
        raise S2SGradError(f"np.einsum in its operand/sublist form needs {what} to be a list of "
                           f"constant ints (and Ellipsis), known when the gradient is compiled")
    out = []
    for i in v:
        if i is Ellipsis:
            out.append("...")
        elif isinstance(i, (int, np.integer)) and not isinstance(i, bool) and 0 <= i < 52:
            out.append(_SUBLIST_LABELS[int(i)])
        else:
            raise S2SGradError(f"np.einsum sublist {list(v)!r}: labels must be ints in "
                               f"[0, 52) or Ellipsis")
    return "".join(out)


def _einsum_canonical(args, kwargs):
    """np.einsum(op0, sub0, op1, sub1, ..., [out]) -> ('subscripts', op0, op1, ...)."""
    if not args or (isinstance(args[0], Const) and isinstance(args[0].value, str)):
        return args, kwargs
    n = len(args) // 2
    ops = args[0:2 * n:2]
    terms = [_sublist_term(s, f"the sublist of operand {i}")
             for i, s in enumerate(args[1:2 * n:2])]
    spec = ",".join(terms)
    if len(args) % 2:
        spec += "->" + _sublist_term(args[-1], "the output sublist")
    return (Const(spec),) + tuple(ops), kwargs


def _einsum_terms(spec, nops):
    """Parse einsum subscripts into token lists (letters and '...') for the
    operands and the output (made explicit)."""
    if not isinstance(spec, str):
        raise S2SGradError("np.einsum's subscripts must be a constant string known when the "
                           "gradient is compiled")
    s = spec.replace(" ", "")

    def tokens(term):
        out, i = [], 0
        while i < len(term):
            if term.startswith("...", i):
                out.append("...")
                i += 3
            elif term[i] in string.ascii_letters:
                out.append(term[i])
                i += 1
            else:
                raise S2SGradError(f"np.einsum subscripts {spec!r}: unexpected {term[i]!r}")
        if out.count("...") > 1:
            raise S2SGradError(f"np.einsum subscripts {spec!r}: more than one '...' in {term!r}")
        return out

    if "->" in s:
        ins, outs = s.split("->", 1)
        out_t = tokens(outs)
    else:
        ins, out_t = s, None
    terms = [tokens(t) for t in ins.split(",")]
    if len(terms) != nops:
        raise S2SGradError(f"np.einsum subscripts {spec!r} name {len(terms)} operand(s), "
                           f"but {nops} were passed")
    if out_t is None:   # implicit mode: letters used once, sorted; '...' first
        letters = [t for term in terms for t in term if t != "..."]
        out_t = (["..."] if any("..." in term for term in terms) else []) + \
            sorted(l for l in set(letters) if letters.count(l) == 1)
    return terms, out_t


def _spec(in_terms, out_t):
    return ",".join("".join(t) for t in in_terms) + "->" + "".join(out_t)


def _einsum_vjp(em, g, out, subscripts, *ops, **kw):
    spec = subscripts.value if isinstance(subscripts, Const) else None
    terms, out_t = _einsum_terms(spec, len(ops))
    fresh = iter(l for l in string.ascii_letters if l not in spec)
    cts = [None]
    for k, x in enumerate(ops):
        if isinstance(x, Const):
            cts.append(None)
            continue
        term = terms[k]
        if "..." in term and term[0] != "...":
            # an ellipsis after some labels: work with x's axes moved so that
            # it comes first ('i...j' -> '...ij'), then move them back
            p = term.index("...")
            q = len(term) - p - 1
            back = tuple(range(-(p + q), -q))
            xf = em.moveaxis(x, source=tuple(range(p)), destination=back)
            ct = _einsum_ct(em, g, out_t, terms, ops, k, ["..."] + term[:p] + term[p + 1:],
                            xf, fresh, kw)
            ct = em.moveaxis(ct, source=back, destination=tuple(range(p)))
        else:
            ct = _einsum_ct(em, g, out_t, terms, ops, k, term, x, fresh, kw)
        cts.append(ct)
    return cts


def _einsum_ct(em, g, out_t, terms, ops, k, term, x, fresh, kw):
    """The cotangent of operand ``k`` (subscripts ``term``, value ``x``; an
    ellipsis, if any, comes first in ``term``): an einsum of the output
    cotangent with the other operands."""
    # a repeated label ('ii') reads a diagonal: the cotangent is written on
    # the diagonal, through an identity-matrix operand
    target, eyes, seen = [], [], set()
    for pos, tok in enumerate(term):
        if tok != "..." and tok in seen:
            new = next(fresh, None)
            if new is None:
                raise S2SGradError("np.einsum: too many repeated labels to differentiate")
            target.append(new)
            eyes.append((tok, new, pos - len(term) if "..." in term else pos))
        else:
            target.append(tok)
            seen.add(tok)
    operands = [(out_t, g)] + [(terms[j], ops[j]) for j in range(len(ops)) if j != k]
    avail = {t for tt, _ in operands for t in tt} | {t for e in eyes for t in e[:2]}
    if any(t not in avail for t in target if t != "...") or \
            ("..." in term and "..." not in out_t):
        # a label summed over inside this operand alone: broadcast over it
        operands.append((target, em.ones_like(x)))
    for tok, new, axis in eyes:
        n = em.call("getitem", em.shape(x), _params={"index": axis})
        operands.append(([tok, new], em.eye(n, dtype=em.call("result_type", x, _params={
            "spelling": ("attr", "dtype")}))))
    if "..." not in target and any("..." in t for t, _ in operands):
        # the ellipsis dimensions of the others are summed: keep them in the
        # einsum (NumPy cannot sum over '...') and sum them below
        target = ["..."] + target
    if len(operands) == 1 and out_t == target:
        ct = g
    else:
        ct = em.einsum(_spec([t for t, _ in operands], target),
                       *[v for _, v in operands], **kw)
    # summed back over broadcast dimensions: extra ellipsis dimensions, and
    # labels or ellipsis dimensions where x has size 1 and another operand not;
    # broadcast where another operand has size 1 and x not ('ab,b->a', a's b
    # of size 1: the einsum above gives b's cotangent that size)
    return em.call("fit_shape", ct, x)


def _einsum_jvp(em, dots, out, subscripts, *ops, **kw):
    total = None
    for k, d in enumerate(dots[1:]):
        if d is not None:
            args = list(ops)
            args[k] = d
            total = em.add_ct(total, em.einsum(subscripts, *args, **kw))
    return total


defprim("einsum", np.einsum, sig="subscripts, /, *operands, optimize=False",
        vjp=_einsum_vjp, jvp=_einsum_jvp, shape=shape_fresh, canonicalize=_einsum_canonical,
        doc="np.einsum in every form (subscripts, implicit output, '...', operand/sublist): "
            "each operand's cotangent is an einsum of the output cotangent with the other "
            "operands.")


# ---------------------------------------------------------------- trace, diag


def _trace_kw(offset=None, axis1=None, axis2=None):
    return {k: v for k, v in (("offset", offset), ("axis1", axis1), ("axis2", axis2))
            if v is not None}


TRACE = defprim(
    "trace", np.trace, sig="a, /, offset=None, axis1=None, axis2=None, dtype=None",
    vjp=lambda em, g, out, a, offset=None, axis1=None, axis2=None, dtype=None: [
        em.trace_vjp(g, a, **_trace_kw(offset, axis1, axis2))],
    jvp=lambda em, dots, out, a, offset=None, axis1=None, axis2=None, dtype=None:
        em.trace(dots[0], **_trace_kw(offset, axis1, axis2)),
    shape=shape_fresh, linear=True,
    doc="np.trace / x.trace(): the cotangent is g on the traced diagonal.")


def _trace_method_adapter(args, kwargs):
    names = ("offset", "axis1", "axis2", "dtype")
    kwargs = dict(kwargs)
    for n, v in zip(names, args[1:]):
        kwargs[n] = v
    return [args[0]], kwargs


defmethod("trace", TRACE, _trace_method_adapter)
defprim("trace_vjp", runtime.trace_vjp, sig="g, a, /, offset=0, axis1=0, axis2=1",
        pyname="trace_vjp",
        vjp=lambda em, h, out, g, a, **kw: [em.trace(h, **kw), None],
        jvp=lambda em, dots, out, g, a, **kw: _lin(em.trace_vjp, dots[0], a, **kw),
        shape=lambda args, kwargs: shape_of(args[1]), linear=True,
        doc="runtime helper: the adjoint of np.trace.")

defprim("diag", np.diag, sig="v, /, k=0",
        vjp=lambda em, g, out, v, **kw: [em.diag_vjp(g, v, **kw)],
        jvp=lambda em, dots, out, v, **kw: em.diag(dots[0], **kw),
        shape=shape_fresh, linear=True,
        doc="np.diag(v, k): builds a matrix from a 1-d v, takes a diagonal of a 2-d v; "
            "the adjoint does the other.")
defprim("diag_vjp", runtime.diag_vjp, sig="g, v, /, k=0", pyname="diag_vjp",
        vjp=lambda em, h, out, g, v, **kw: [em.diag(h, **kw), None],
        jvp=lambda em, dots, out, g, v, **kw: _lin(em.diag_vjp, dots[0], v, **kw),
        shape=lambda args, kwargs: shape_of(args[1]), linear=True,
        doc="runtime helper: the adjoint of np.diag.")


# ---------------------------------------------------------------- np.linalg


def _mT(em, x):
    """Transpose of the last two axes (a stack of matrices)."""
    return em.swapaxes(x, axis1=-1, axis2=-2)


# inv: d(A^-1) = -A^-1 dA A^-1, so A_bar = -A^-T g A^-T.
def _inv_vjp(em, g, out, a):
    t = _mT(em, out)
    return [em.negative(em.matmul(em.matmul(t, g), t))]


def _inv_jvp(em, dots, out, a):
    return em.negative(em.matmul(em.matmul(out, dots[0]), out))


defprim("inv", np.linalg.inv, sig="a, /", pyname="np.linalg.inv", vjp=_inv_vjp, jvp=_inv_jvp,
        shape=lambda args, kwargs: shape_of(args[0]),
        doc="np.linalg.inv: A_bar = -inv(A).T @ g @ inv(A).T (stacks of matrices too).")


# solve: x = A^-1 b.  With X, B, G the right-hand side, solution and output
# cotangent as stacks of matrices (NumPy treats a vector b as one column, which
# depends on the ranks: rhs_as_matrix / rhs_from_matrix decide at run time),
#   Y = solve(A^T, G),  B_bar = Y,  A_bar = -Y X^T.
def _solve_vjp(em, g, out, a, b):
    y = em.solve(_mT(em, a), em.rhs_as_matrix(g, a, b))
    a_bar = em.negative(em.matmul(y, _mT(em, em.rhs_as_matrix(out, a, b))))
    return [em.unbroadcast(a_bar, a), em.unbroadcast(em.rhs_from_matrix(y, a, b), b)]


def _solve_jvp(em, dots, out, a, b):
    da, db = dots
    rhs = db
    if da is not None:
        # dX = solve(A, dB - dA X)
        dax = em.rhs_from_matrix(em.matmul(da, em.rhs_as_matrix(out, a, b)), a, b)
        rhs = em.subtract(db, dax) if db is not None else em.negative(dax)
    t = em.rhs_from_matrix(em.solve(a, em.rhs_as_matrix(rhs, a, b)), a, b)
    return em.broadcast_like(t, out)


defprim("solve", np.linalg.solve, sig="a, b, /", pyname="np.linalg.solve",
        vjp=_solve_vjp, jvp=_solve_jvp, shape=shape_fresh,
        doc="np.linalg.solve(A, b): b_bar = solve(A.T, g), A_bar = -b_bar @ x.T.")

# rhs_as_matrix(v, a, b) / rhs_from_matrix(v, a, b): add / drop the column axis
# of a vector right-hand side.  Linear in v and each other's adjoint.
defprim("rhs_as_matrix", runtime.rhs_as_matrix, sig="v, a, b, /", pyname="rhs_as_matrix",
        vjp=lambda em, h, out, v, a, b: [em.rhs_from_matrix(h, a, b), None, None],
        jvp=lambda em, dots, out, v, a, b: _lin(em.rhs_as_matrix, dots[0], a, b),
        shape=shape_fresh, linear=True,
        doc="runtime helper: a solve right-hand side as a stack of matrices.")
defprim("rhs_from_matrix", runtime.rhs_from_matrix, sig="v, a, b, /", pyname="rhs_from_matrix",
        vjp=lambda em, h, out, v, a, b: [em.rhs_as_matrix(h, a, b), None, None],
        jvp=lambda em, dots, out, v, a, b: _lin(em.rhs_from_matrix, dots[0], a, b),
        shape=shape_fresh, linear=True,
        doc="runtime helper: the inverse of rhs_as_matrix.")


# det: d det(A) = sum(C * dA), C the cofactor matrix (det(A) A^-T where A is
# invertible; det_cofactor computes it from the SVD, so a singular A -- JAX's
# testDetGradOfSingularMatrix -- has its derivative too), A_bar = g C.
def _det_vjp(em, g, out, a):
    return [em.einsum("...,...ij->...ij", g, em.call("det_cofactor", a))]


def _det_jvp(em, dots, out, a):
    return em.einsum("...ij,...ij->...", em.call("det_cofactor", a), dots[0])


# det_cofactor(A) = det(A) A^-T: dC = C tr(A^-1 dA) - det(A) (A^-1 dA A^-1)^T, and
# A_bar = sum(H * C) A^-T - det(A) (A^-1 H A^-1)^T.  (Second derivatives use
# A^-1: they need an invertible A.)
defprim("require_nonsingular", runtime.require_nonsingular, sig="a, /, what=''",
        pyname="require_nonsingular",
        vjp=lambda em, h, out, a, **kw: [h], jvp=lambda em, dots, out, a, **kw: dots[0],
        shape=lambda args, kwargs: shape_of(args[0]), linear=True,
        doc="runtime helper: a, refused if a matrix of it is exactly singular (a derivative "
            "using its inverse).")


def _checked_inv(em, a):
    return em.inv(em.call("require_nonsingular", a,
                          what="a second derivative of np.linalg.det"))


def _cof_jvp(em, dots, out, a):
    ainv = _checked_inv(em, a)
    tau = em.einsum("...ij,...ji->...", ainv, dots[0])
    inner = em.matmul(em.matmul(ainv, dots[0]), ainv)
    return em.subtract(em.einsum("...ij,...->...ij", out, tau),
                       em.einsum("...,...ji->...ij", em.det(a), inner))


def _cof_vjp(em, h, out, a):
    ainv = _checked_inv(em, a)
    s = em.einsum("...ij,...ij->...", h, out)
    inner = em.matmul(em.matmul(ainv, h), ainv)
    return [em.subtract(em.einsum("...,...ji->...ij", s, ainv),
                        em.einsum("...,...ji->...ij", em.det(a), inner))]


defprim("det_cofactor", runtime.det_cofactor, sig="a, /", pyname="det_cofactor",
        vjp=_cof_vjp, jvp=_cof_jvp, shape=lambda args, kwargs: shape_of(args[0]),
        doc="runtime helper: the cofactor matrix, det's derivative (singular matrices too).")


defprim("det", np.linalg.det, sig="a, /", pyname="np.linalg.det", vjp=_det_vjp, jvp=_det_jvp,
        shape=shape_fresh,
        doc="np.linalg.det: A_bar = g * cofactor(A) (det(A) inv(A).T; from the SVD, so "
            "singular matrices too).")


# slogdet: (sign, log|det A|).  With tau = tr(A^-1 dA) = d log det A,
# d log|det A| = Re tau and d sign = sign * i Im tau: zero for a real A (sign is
# piecewise constant), a rotation of the unit-modulus sign for a complex one.
# ``w - real_if_complex(w)`` is i Im w for a complex w and an exact real 0 for a
# real one, so a real A keeps real (co)tangents.
def _slogdet_vjp(em, g, out, a):
    g_sign, g_logdet = g
    # logabsdet is real: only the real part of a (complex) cotangent pairs with it
    coef = None if g_logdet is None else em.real_if_complex(g_logdet)
    if g_sign is not None:
        w = em.multiply(g_sign, out[0])
        rot = em.subtract(w, em.real_if_complex(w))
        coef = rot if coef is None else em.add(coef, rot)
    if coef is None:
        return [None]
    return [em.einsum("...,...ji->...ij", coef, em.inv(a))]


def _slogdet_jvp(em, dots, out, a):
    tau = em.einsum("...ij,...ji->...", em.inv(a), dots[0])
    re = em.real_if_complex(tau)
    return (em.multiply(out[0], em.subtract(tau, re)), re)


defprim("slogdet", np.linalg.slogdet, sig="a, /", pyname="np.linalg.slogdet",
        vjp=_slogdet_vjp, jvp=_slogdet_jvp, nouts=2, out_fields=("sign", "logabsdet"),
        out_type=numpy_result("linalg.slogdet"),
        shape=lambda args, kwargs: (shape_fresh(args, kwargs), shape_fresh(args, kwargs)),
        doc="np.linalg.slogdet: (sign, logabsdet); A_bar = (g_logabsdet + i Im(g_sign "
            "sign)) * inv(A).T: a real sign has derivative 0, a complex one turns with "
            "Im tr(inv(A) dA).")


# ---------------------------------------------------------------- norm


def _norm_kind(ord, axis):
    """('two' | 'one' | 'inf' | '-inf' | 'zero' | 'p', p, needs a 1-d check)."""
    o = const_value(ord, "the ord of np.linalg.norm") if _given(ord) else None
    ax = const_value(axis, "the axis of np.linalg.norm") if _given(axis) else None
    matrix = isinstance(ax, (tuple, list)) and len(ax) == 2
    if o is None or o == "fro":
        return "two", 2.0, False
    if o == "nuc" or matrix:
        if o not in ("nuc", 1, -1, 2, -2, np.inf, -np.inf):
            raise S2SGradError(f"np.linalg.norm(x, ord={o!r}, axis={ax!r}): not a matrix norm "
                               f"NumPy computes")
        return "matrix", o, tuple(ax) if matrix else (-2, -1)
    if isinstance(o, str):
        raise S2SGradError(f"np.linalg.norm(x, ord={o!r}): unknown ord")
    p = float(o)
    check = ax is None   # numeric ord, no axis: a matrix norm if x is 2-d
    if p == 2:
        return "two", p, check
    if p == 1:
        return "one", p, check
    if p == np.inf:
        return "inf", p, check
    if p == -np.inf:
        return "-inf", p, check
    if p == 0:
        return "zero", p, check
    return "p", p, check


def _norm_setup(em, x, ord, axis, keepdims):
    kind, p, check = _norm_kind(ord, axis)      # (not "matrix": see _matrix_norm_*)
    if check:
        x = em.vector_norm_arg(x)
    keep = _given(keepdims) and bool(const_value(keepdims, "keepdims"))
    red = {"axis": axis} if _given(axis) else {}

    def expand(v):
        """A reduced value made to broadcast against x."""
        return em.unreduce(v, x, **red) if red and not keep else v

    def reduce_(v):
        return em.sum(v, **red, **({"keepdims": True} if keep else {}))

    return kind, p, x, expand, reduce_


def _safe(em, out):
    # the norm is 0 only where x is all zeros; dividing by 1 there gives the
    # subgradient 0 (x * anything == 0) instead of 0 / 0
    return em.where(em.equal(out, 0.0), 1.0, out)


# norm_scale(x, s, r) = x * s, for a norm's derivative x * (g / r) (the
# subgradient 0 where the norm r is 0, since x is 0 there).  Differentiated
# again in x, a zero norm loses the limit of g / r: the Hessian of
# norm(x) ** 2 at 0 would come out 0, not 2 I.  So its derivative in x,
# norm_scale_checked(t, s, r) (the same product), refuses a tangent or
# cotangent t that is nonzero where r is 0 -- and passes one that is 0 there
# (a pairwise difference x_i - x_i, whose tangent is 0: kernels stay exact).
def _opts(complex_only, axis, keepdims, center, tangent=False):
    kw = {"complex_only": True} if complex_only else {}
    if tangent:
        kw["tangent"] = True
    if axis is not None:
        kw["axis"] = axis
        kw["keepdims"] = keepdims
    if center:
        kw["center"] = True
    return kw


def _norm_scale_jvp(em, dots, out, x, s, r, what="", complex_only=False, axis=None,
                    keepdims=True, center=False, tangent=False):
    dx, ds = dots[0], dots[1]
    acc = None
    if dx is not None:
        acc = em.call("norm_scale_checked", dx, s, r, what=what,
                      **_opts(complex_only, axis, keepdims, center))
    if ds is not None:
        acc = em.add_ct(acc, em.multiply(x, ds))
    return None if acc is None else em.broadcast_like(acc, out)


def _norm_scale_vjp(em, h, out, x, s, r, what="", complex_only=False, axis=None,
                    keepdims=True, center=False, tangent=False):
    # a jvp's product (tangent=True: s is the forward tangent), differentiated
    # in reverse: s must not move the zero (reverse over forward)
    return [em.unbroadcast(em.call("norm_scale_checked", h, s, r, what=what,
                                   **_opts(complex_only, axis, keepdims, center,
                                           tangent)), x),
            em.unbroadcast(em.multiply(h, x), s), None]


for _name, _impl in (("norm_scale", runtime.norm_scale),
                     ("norm_scale_checked", runtime.norm_scale_checked)):
    defprim(_name, _impl, sig="x, s, r, /, what='', complex_only=False, axis=None, "
                              "keepdims=True, center=False, tangent=False", pyname=_name,
            vjp=_norm_scale_vjp, jvp=_norm_scale_jvp,
            shape=lambda args, kwargs: shape_elementwise(args[:2], kwargs),
            doc="runtime helper: x * s, a norm's derivative with the norm r" + (
                "" if _name == "norm_scale" else
                ", refused where r is 0 and x is not (a second derivative at a zero vector)"))


def _norm_weight(em, kind, p, x, out, expand, axis):
    """d out / d x for the norms other than the 2-norm (broadcasting against x);
    csign(x) is sign(x) for real x, conj(x) / |x| for complex x."""
    if kind == "one":
        return em.csign(x)
    if kind in ("inf", "-inf"):
        # the sensitivity is split equally among the entries tied for the extreme
        hit = em.equal(em.absolute(x), expand(out))
        count = em.sum(hit, **({"axis": axis} if _given(axis) else {}), keepdims=True)
        return em.divide(em.multiply(em.csign(x), hit), count)
    # general p: sign(x) * (|x| / norm) ** (p - 1)
    return em.multiply(em.csign(x), em.power(em.divide(em.absolute(x), expand(_safe(em, out))),
                                             p - 1.0))


def _real_ct(em, g):
    """A real output's cotangent: real (complex.py's convention)."""
    return g if isinstance(g, Const) else em.real_if_complex(g)


# ord in (1, -1, 2, -2, inf, -inf) and no axis: a vector norm of a 1-d x, a
# matrix norm of a 2-d x (NumPy decides by x.ndim); the generic code does not
# know the rank, so the weight W (d out = Re <W, dx>) is chosen at run time by
# runtime.norm_ord_weight, with the subgradients of the two rules above.  Its
# own derivative is refused (a second derivative: pass axis= to get the rules
# above, which differentiate again).
_BY_RANK = (1, -1, 2, -2, np.inf, -np.inf)


def _by_rank(ord, axis):
    if _given(axis) or not _given(ord):
        return None
    o = const_value(ord, "the ord of np.linalg.norm")
    return o if not isinstance(o, str) and o in _BY_RANK else None


def _reduced(axis, keepdims):
    """norm_scale's options for a norm reduced over ``axis`` (none: a scalar)."""
    if not _given(axis):
        return {}
    return {"axis": axis, "keepdims": _given(keepdims) and bool(const_value(keepdims, "keepdims"))}


def _norm_vjp(em, g, out, x, ord=None, axis=None, keepdims=None):
    o = _by_rank(ord, axis)
    if o is not None:
        w = em.norm_ord_weight(x, out, ord=o)
        return [w if is_one(g) else em.call("norm_scale", w, _real_ct(em, g), out,
                                            what=f"np.linalg.norm(x, ord={o!r})")]
    if _norm_kind(ord, axis)[0] == "matrix":
        return [_matrix_norm_vjp(em, g, x, ord, axis, keepdims)]
    kind, p, xv, expand, _ = _norm_setup(em, x, ord, axis, keepdims)
    if kind == "zero":
        return [None]
    g = _real_ct(em, g)
    if kind == "two":
        return [em.call("norm_scale", em.conj_if_complex(xv), expand(em.divide(g, _safe(em, out))),
                        out, what="np.linalg.norm", **_reduced(axis, keepdims))]
    w = _norm_weight(em, kind, p, xv, out, expand, axis)
    if is_one(g):       # the seed 1.0 of grad: w already has x's shape
        return [w]
    return [em.multiply(expand(g), w)]


def _norm_jvp(em, dots, out, x, ord=None, axis=None, keepdims=None):
    o = _by_rank(ord, axis)
    if o is not None:
        keep = _given(keepdims) and bool(const_value(keepdims, "keepdims"))
        w = em.norm_ord_weight(x, out, ord=o)
        return em.sum(em.real_if_complex(em.multiply(w, dots[0])),
                      **({"keepdims": True} if keep else {}))
    if _norm_kind(ord, axis)[0] == "matrix":
        return _matrix_norm_jvp(em, dots[0], x, ord, axis, keepdims)
    kind, p, xv, expand, reduce_ = _norm_setup(em, x, ord, axis, keepdims)
    (dx,) = dots
    if kind == "zero":
        return None
    if kind == "two":
        return em.divide(reduce_(em.real_if_complex(em.call(
            "norm_scale", em.conj_if_complex(xv), dx, out, what="np.linalg.norm", tangent=True,
            **_reduced(axis, keepdims)))), _safe(em, out))
    return reduce_(em.real_if_complex(em.multiply(
        _norm_weight(em, kind, p, xv, out, expand, axis), dx)))


# Matrix norms over two axes (a, b): in a frame where they are the last two,
# d out = <W, dx> with
#   'nuc': W = U V^T;   2 / -2: W = U diag(w) V^T, w = 1 on the largest /
#   smallest singular value (ties split equally);   1 / -1 (inf / -inf):
#   W = sign(x) on the column (row) of largest / smallest absolute sum (ties
#   split equally).  Complex matrices: W in the cotangent convention
#   (conj(U V^H), csign(x) = conj(x) / |x|), the tangent Re <W, dx>.


defprim("extreme_weights", runtime.extreme_weights, sig="s, /, largest=True",
        pyname="extreme_weights", nondiff=True, shape=lambda args, kwargs: shape_of(args[0]),
        doc="runtime helper: 1 / k on the k singular values tied (up to rounding) with the "
            "largest (smallest), 0 elsewhere; data.")


def _matrix_norm_weight(em, x2, o):
    if o in ("nuc", 2, -2):
        # d s_i = Re (U^H dA V)_ii: the weight is conj(U diag(w) V^H) in the
        # cotangent convention (conj_if_complex: nothing for real matrices)
        U, sv, Vh = em.call("svd_inner", x2, full_matrices=False)
        if o == "nuc":
            return em.conj_if_complex(em.matmul(U, Vh))
        # ties split equally, numerical ones too (runtime.extreme_weights)
        w = em.call("extreme_weights", sv, largest=o == 2)
        return em.conj_if_complex(em.matmul(em.multiply(U, em.expand_dims(w, axis=-2)), Vh))
    along = -2 if o in (1, -1) else -1          # column sums for 1, row sums for inf
    sums = em.sum(em.absolute(x2), axis=along, keepdims=True)
    other = -1 if along == -2 else -2
    ext = em.max(sums, axis=other, keepdims=True) if o in (1, np.inf) else \
        em.min(sums, axis=other, keepdims=True)
    hit = em.equal(sums, ext)
    return em.multiply(em.csign(x2), em.divide(hit, em.sum(hit, axis=other, keepdims=True)))


def _matrix_norm_frame(em, x, ord, axis, keepdims):
    _, o, axes = _norm_kind(ord, axis)
    keep = _given(keepdims) and bool(const_value(keepdims, "keepdims"))
    x2 = em.moveaxis(x, source=axes, destination=(-2, -1))
    return o, axes, keep, x2


def _matrix_norm_vjp(em, g, x, ord, axis, keepdims):
    o, axes, keep, x2 = _matrix_norm_frame(em, x, ord, axis, keepdims)
    g = _real_ct(em, g)
    if not isinstance(g, Const):
        g = em.moveaxis(g, source=axes, destination=(-2, -1)) if keep else \
            em.expand_dims(g, axis=(-2, -1))
    ct = em.multiply(_matrix_norm_weight(em, x2, o), g)
    return em.moveaxis(ct, source=(-2, -1), destination=axes)


def _matrix_norm_jvp(em, dx, x, ord, axis, keepdims):
    o, axes, keep, x2 = _matrix_norm_frame(em, x, ord, axis, keepdims)
    dx2 = em.moveaxis(dx, source=axes, destination=(-2, -1))
    t = em.sum(em.real_if_complex(em.multiply(_matrix_norm_weight(em, x2, o), dx2)),
               axis=(-2, -1), keepdims=keep)
    return em.moveaxis(t, source=(-2, -1), destination=axes) if keep else t


def _norm_shape(args, kwargs):
    if not _given(kwargs.get("axis")) and not (
            _given(kwargs.get("keepdims")) and getattr(kwargs["keepdims"], "value", True)):
        return SCALAR
    return shape_fresh(args, kwargs)


defprim("norm", np.linalg.norm, sig="x, /, ord=None, axis=None, keepdims=None",
        pyname="np.linalg.norm", vjp=_norm_vjp, jvp=_norm_jvp, shape=_norm_shape,
        doc="np.linalg.norm: vector p-norms (ord, axis, keepdims) and the Frobenius norm; "
            "the gradient at a zero vector is 0 (a subgradient).")
# norm_ord_weight(x, out) is d out/dx with out = norm(x, ord) (the rule passes
# them together), so its derivative is taken in x alone, through out too:
# norm_ord_hvp, symmetric (a Hessian), linear in its first operand; a third
# derivative (x differentiated in norm_ord_hvp) is refused by data_args.
defprim("norm_ord_weight", runtime.norm_ord_weight, sig="x, out, /, ord=2",
        pyname="norm_ord_weight", shape=lambda args, kwargs: shape_of(args[0]),
        vjp=lambda em, h, w, x, out, ord=None: [em.norm_ord_hvp(h, x, out, ord=ord), None],
        jvp=lambda em, dots, w, x, out, ord=None: (
            None if dots[0] is None else em.norm_ord_hvp(dots[0], x, out, ord=ord)),
        doc="runtime helper: d np.linalg.norm(x, ord)/dx without axis, a vector norm's "
            "(1-d x) or a matrix norm's (2-d x).")
defprim("norm_ord_hvp", runtime.norm_ord_hvp, sig="t, x, out, /, ord=2", pyname="norm_ord_hvp",
        shape=lambda args, kwargs: shape_of(args[1]), data_args=lambda i: i > 0,
        vjp=lambda em, h, o, t, x, out, ord=None: [em.norm_ord_hvp(h, x, out, ord=ord),
                                                   None, None],
        jvp=lambda em, dots, o, t, x, out, ord=None: (
            None if dots[0] is None else em.norm_ord_hvp(dots[0], x, out, ord=ord)),
        doc="runtime helper: the Hessian of np.linalg.norm(x, ord) (no axis) applied to t; "
            "x is data (a third derivative is refused).")
defprim("vector_norm_arg", runtime.vector_norm_arg, sig="x, /", pyname="vector_norm_arg",
        vjp=lambda em, h, out, x: [h], jvp=lambda em, dots, out, x: dots[0],
        shape=lambda args, kwargs: shape_of(args[0]), linear=True,
        doc="runtime helper: x itself, checked to be 1-d (a vector norm).")
