"""Products and linear algebra: matmul, dot, ... and np.linalg.

Reverse rules are the usual matrix-calculus identities, written with
``matmul``/``swapaxes`` so they work for stacks of matrices too; 1-d
operands (vector-matrix, matrix-vector, vector-vector) are handled by
promoting to 2-d where NumPy's ``matmul`` does, then dropping the axis.
"""
from __future__ import annotations

import ast

import numpy as np

from . import printing
from .. import runtime
from .core import defprim, shape_fresh, shape_of


def _matmul_vjp(em, g, out, a, b):
    return [em.call("matmul_vjp_a", g, a, b), em.call("matmul_vjp_b", g, a, b)]


def _matmul_jvp(em, dots, out, a, b):
    da, db = dots
    t = None
    if da is not None:
        t = em.matmul(da, b)
    if db is not None:
        t = em.add_ct(t, em.matmul(a, db))
    return t


defprim("matmul", np.matmul, sig="a, b, /", vjp=_matmul_vjp, jvp=_matmul_jvp,
        printer=printing.binop(ast.MatMult()), shape=shape_fresh,
        doc="a @ b: cotangents g @ b.T and a.T @ g, with 1-d operands promoted as NumPy does.")


# The two halves of matmul's reverse rule are primitives of their own (rank
# dispatch happens at run time in s2sgrad.runtime).  Both are bilinear, so
# their rules close over the same three functions:
#   A(g, a, b) = a_bar, B(g, a, b) = b_bar.
#   <h, A(dg, a, b)> = <h @ b, dg>,   <h, A(g, a, db)> = <B(g, h, b), db>
#   <h, B(dg, a, b)> = <a @ h, dg>,   <h, B(g, da, b)> = <A(g, da, h), da>
def _vjp_a_vjp(em, h, out, g, a, b):
    return [em.unbroadcast(em.matmul(h, b), g), None, em.call("matmul_vjp_b", g, h, b)]


def _vjp_a_jvp(em, dots, out, g, a, b):
    dg, _, db = dots
    t = em.call("matmul_vjp_a", dg, a, b) if dg is not None else None
    if db is not None:
        t = em.add_ct(t, em.call("matmul_vjp_a", g, a, db))
    return t


def _vjp_b_vjp(em, h, out, g, a, b):
    return [em.unbroadcast(em.matmul(a, h), g), em.call("matmul_vjp_a", g, a, h), None]


def _vjp_b_jvp(em, dots, out, g, a, b):
    dg, da, _ = dots
    t = em.call("matmul_vjp_b", dg, a, b) if dg is not None else None
    if da is not None:
        t = em.add_ct(t, em.call("matmul_vjp_b", g, da, b))
    return t


defprim("matmul_vjp_a", runtime.matmul_vjp_a, sig="g, a, b, /", pyname="matmul_vjp_a",
        vjp=_vjp_a_vjp, jvp=_vjp_a_jvp, shape=lambda args, kw: shape_of(args[1]))
defprim("matmul_vjp_b", runtime.matmul_vjp_b, sig="g, a, b, /", pyname="matmul_vjp_b",
        vjp=_vjp_b_vjp, jvp=_vjp_b_jvp, shape=lambda args, kw: shape_of(args[2]))
