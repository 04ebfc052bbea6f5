"""The checks of HIPS autograd's test suite, as s2sgrad cases.

Each function below mirrors one of autograd's test files (1.9.1):
``test_systematic.py`` (``stat_check``, ``unary_ufunc_check``,
``binary_ufunc_check``, ``combo_check`` over argument combinations),
``test_numpy.py``, ``test_scipy.py``, ``test_linalg.py``, ``test_fft.py``,
``test_complex.py``, ``test_binary_ops.py``, ``test_scalar_ops.py``,
``test_graphs.py``, ``test_wrappers.py``, ``test_direct.py``,
``test_builtins.py``, ``test_dict.py``/``test_list.py``/``test_tuple.py``,
``test_logic.py`` and ``test_truediv.py``.  The facts are autograd's (which
functions, which argument shapes, broadcasting pairs, axis/keepdims
variants, scalar arguments, input ranges); the code is ours: every check is
a user-style function written as source text (``harness.call_case`` /
``source_case``), differentiated by s2sgrad in reverse and forward mode and
compared with finite differences and with NumPy's value.

Where autograd's test uses an autograd-only API (``autograd.scipy.signal``'s
``axes``/``dot_axes``, ``np.make_diagonal``, ``primitive``, ``defvjp``,
``const_graph``, ``elementwise_grad``, ``make_ggnvp``...), the check is
ported to the closest s2sgrad/NumPy/SciPy equivalent where one exists and
otherwise left out (listed in ``OUT_OF_SCOPE``).  Random data comes from a
fixed seed, so every run checks the same points.
"""
from __future__ import annotations

import itertools

import numpy as np

from .harness import Case, Src, call_case, combos, source_case

RNG = np.random.default_rng(20240611)


def R(*shape):
    """Standard normal data; ``R()`` is a Python float (as ``npr.randn()``)."""
    return float(RNG.standard_normal()) if not shape else RNG.standard_normal(shape)


def C(*shape):
    return R(*shape) + 1j * R(*shape) if shape else complex(R(), R())


def U(lo, hi, shape=None):
    return float(RNG.uniform(lo, hi)) if shape is None else RNG.uniform(lo, hi, shape)


def rand(*shape):
    return float(RNG.uniform()) if not shape else RNG.uniform(size=shape)


def T(lims, x):
    return x * (lims[1] - lims[0]) + lims[0]


OUT_OF_SCOPE = {
    "autograd.scipy.signal.convolve(axes=, dot_axes=)": "autograd's own generalised "
    "convolution; SciPy's convolve has no axes/dot_axes (the plain 1-d/2-d forms are ported)",
    "np.make_diagonal": "autograd-only function (np.diagonal is ported)",
    "test_msort": "np.msort was removed in NumPy 2",
    "primitive/defvjp/defgrad/defvjp_is_zero": "autograd's rule-definition API "
    "(s2sgrad's custom rules are another engineer's area)",
    "const_graph, elementwise_grad, make_ggnvp, checkpoint_memory, grad.__name__/__doc__":
        "autograd-specific helpers without an s2sgrad counterpart",
    "test_vspaces, test_core, test_tests, test_ufunc_dispatch, test_jacobian's "
    "vspace checks": "autograd's internal vector-space and box machinery",
}


# ------------------------------------------------------------------ test_systematic


def stat_check(name, callee, test_complex=True):
    x, A = 3.5, R()
    B, Cm, D = R(3), R(2, 3), R(1, 3)
    out = []
    out += combos("systematic", name, callee, [[x, A]])
    out += combos("systematic", name, callee, [[B, Cm, D]],
                  {"axis": [None, 0], "keepdims": [True, False]})
    out += combos("systematic", name, callee, [[Cm, D]],
                  {"axis": [None, 0, 1], "keepdims": [True, False]})
    if test_complex:
        c = complex(R(), 0.1 * R())
        E = R(2, 3) + 0.1j * R(2, 3)
        out += combos("systematic", name + "_c", callee, [[x, c, A]])
        out += combos("systematic", name + "_c", callee, [[B, Cm, D, E]],
                      {"axis": [None, 0], "keepdims": [True, False]})
    return out


def unary_check(name, callee, lims=(-2, 2), test_complex=True, post=None, area="systematic",
                header="import numpy as np"):
    scalar = T(lims, 0.4)
    vector = T(lims, rand(2))
    mat = T(lims, rand(3, 2))
    mat2 = T(lims, rand(1, 2))
    out = combos(area, name, callee, [[scalar, vector, mat, mat2]], post=post, header=header)
    if test_complex:
        comp = complex(T(lims, 0.4), 0.1 * T(lims, 0.3))
        matc = T(lims, rand(3, 2)) + 0.1j * rand(3, 2)
        out += combos(area, name + "_c", callee, [[comp, matc]], post=post, header=header)
    return out


def binary_check(name, callee, lims_A=(-2, 2), lims_B=(-2, 2), test_complex=True,
                 same_args=True, header="import numpy as np"):
    TA = lambda v: T(lims_A, v)
    TB = lambda v: T(lims_B, v)
    if same_args:
        s1 = s2 = 0.6
        v1 = v2 = rand(2)
        m11 = m12 = rand(3, 2)
        m21 = m22 = rand(1, 2)
    else:
        s1, s2 = 0.6, 0.7
        v1, v2 = rand(2), rand(2)
        m11, m12 = rand(3, 2), rand(3, 2)
        m21, m22 = rand(1, 2), rand(1, 2)
    out = combos("systematic", name, callee,
                 [[TA(s1), TA(v1), TA(m11), TA(m21)], [TB(s2), TB(v2), TB(m12), TB(m22)]],
                 wrt=(0, 1), header=header)
    if test_complex:
        if same_args:
            c1 = c2 = 0.6 + 0.3j
            mc1 = mc2 = rand(3, 2) + 0.1j * rand(3, 2)
        else:
            c1, c2 = 0.6 + 0.3j, 0.1 + 0.2j
            mc1, mc2 = rand(3, 2) + 0.1j * rand(3, 2), rand(3, 2) + 0.1j * rand(3, 2)
        out += combos("systematic", name + "_c", callee,
                      [[TA(s1), TA(c1), TA(v1), TA(mc1), TA(m21)],
                       [TB(s2), TB(c2), TB(v2), TB(mc2), TB(m22)]], wrt=(0, 1), header=header)
    return out


def systematic():
    out = []
    for n in ("max", "mean", "min", "sum", "prod", "var", "std"):
        out += stat_check(n, f"np.{n}")
    u = unary_check
    out += u("sin", "np.sin")
    out += u("abs", "np.abs", lims=(0.1, 4.0))
    out += u("absolute", "np.absolute", lims=(0.1, 4.0))
    out += u("arccosh", "np.arccosh", lims=(1.1, 4.0))
    out += u("arcsinh", "np.arcsinh", lims=(-0.9, 0.9))
    out += u("arctanh", "np.arctanh", lims=(-0.9, 0.9))
    out += u("ceil", "np.ceil", lims=(-1.5, 1.5), test_complex=False)
    out += u("cos", "np.cos")
    out += u("cosh", "np.cosh")
    out += u("deg2rad", "np.deg2rad", test_complex=False)
    out += u("degrees", "np.degrees", test_complex=False, post="{} / 50.0")
    out += u("exp", "np.exp")
    out += u("exp2", "np.exp2")
    out += u("expm1", "np.expm1")
    out += u("fabs", "np.fabs", test_complex=False)
    out += u("floor", "np.floor", lims=(-1.5, 1.5), test_complex=False)
    out += u("log", "np.log", lims=(0.2, 2.0))
    out += u("log10", "np.log10", lims=(0.2, 2.0))
    out += u("log1p", "np.log1p", lims=(0.2, 2.0))
    out += u("log2", "np.log2", lims=(0.2, 2.0))
    out += u("rad2deg", "np.rad2deg", test_complex=False, post="{} / 50.0")
    out += u("radians", "np.radians", test_complex=False)
    out += u("sign", "np.sign", test_complex=False)
    out += u("sinh", "np.sinh")
    out += u("sqrt", "np.sqrt", lims=(1.0, 3.0))
    out += u("square", "np.square", test_complex=False)
    out += u("tan", "np.tan", lims=(-1.1, 1.1))
    out += u("tanh", "np.tanh")
    out += u("real", "np.real")
    out += u("real_if_close", "np.real_if_close")
    out += u("imag", "np.imag")
    out += u("conj", "np.conj")
    out += u("conjugate", "np.conjugate")
    out += u("angle", "np.angle")

    b = binary_check
    out += b("add", "np.add")
    out += b("logaddexp", "np.logaddexp", test_complex=False)
    out += b("logaddexp2", "np.logaddexp2", test_complex=False)
    out += b("remainder", "np.remainder", lims_A=(-0.9, 0.9), lims_B=(0.7, 1.9),
             test_complex=False, same_args=False)
    out += b("true_divide", "np.true_divide", lims_B=(0.8, 1.2), test_complex=False)
    out += b("mod", "np.mod", lims_B=(0.8, 2.1), test_complex=False, same_args=False)
    out += b("true_divide_neg", "np.true_divide", lims_B=(-0.3, -2.0), test_complex=False)
    out += b("mod_neg", "np.mod", lims_B=(-0.3, -2.0), test_complex=False, same_args=False)
    op = "import operator as op\nimport numpy as np"
    out += b("op.mul", "op.mul", header=op)
    out += b("op.add", "op.add", header=op)
    out += b("op.sub", "op.sub", header=op)
    out += b("op.mod", "op.mod", lims_B=(0.3, 2.0), test_complex=False, same_args=False,
             header=op)
    out += b("op.mod_neg", "op.mod", lims_B=(-0.3, -2.0), test_complex=False,
             same_args=False, header=op)

    S = "systematic"

    def cc(name, callee, arg_lists, wrt=(0,), **kw):
        return combos(S, name, callee, arg_lists, kw, wrt=wrt)

    out += cc("transpose", "np.transpose", [[R(2, 3, 4)]],
              axes=[None, [0, 1, 2], [0, 2, 1], [2, 0, 1], [2, 1, 0], [1, 0, 2], [1, 2, 0]])
    out += cc("moveaxis", "np.moveaxis", [[R(2, 3, 4)]], source=[0, 1, 2],
              destination=[0, 1, 2])
    out += cc("repeat", "np.repeat", [[R(2, 3, 4), R(3, 1)]], repeats=[0, 1, 2],
              axis=[None, 0, 1])
    out += cc("diff", "np.diff", [[R(5, 5), R(5, 5, 5)]], n=[1, 2], axis=[0, 1])
    out += cc("diff", "np.diff", [[R(1), R(1, 1)]], axis=[0])
    out += cc("diff", "np.diff", [[R(1, 1), R(3, 1)]], axis=[1])
    out += cc("gradient", "np.gradient", [[R(5, 5), R(5, 5, 5)]], axis=[None, 0, 1, -1])
    out += cc("gradient", "np.gradient", [[R(5, 5, 5)]], axis=[(0, 1), (0, -1)])
    out += cc("tile", "np.tile", [[R(2, 1, 3, 1)]], reps=[(1, 4, 1, 2)])
    out += cc("tile", "np.tile", [[R(1, 2)]], reps=[(1, 2), (2, 3), (3, 2, 1)])
    out += cc("tile", "np.tile", [[R(1)]], reps=[(2,), 2])
    out += cc("kron", "np.kron", [[R(5, 5), R(4, 4), R(5), R(5, 1), R(1, 5), R(), C(5, 5)],
                                  [R(3, 3), R(2, 2), R(3), R(1, 3), R(3, 1), R(), C(3, 3)]],
              wrt=(0, 1))
    out += cc("inner", "np.inner", [[1.5, R(3), R(2, 3)], [0.3, R(3), R(4, 3)]], wrt=(0, 1))
    out += cc("dot", "np.dot", [[1.5, R(3), R(2, 3), R(2, 2, 3), C(3), C(2, 3)],
                                [0.3, R(3), R(3, 4), R(2, 3, 4), C(3)]], wrt=(0, 1))
    out += cc("outer", "np.outer", [[R(3), C(3)], [R(3), C(3)]], wrt=(0, 1))
    out += cc("matmul", "np.matmul", [[R(3), R(2, 3), R(2, 2, 3), C(3), C(2, 3)],
                                      [R(3), R(3, 4), R(2, 3, 4), C(3), C(3, 4)]], wrt=(0, 1))
    out += cc("matmul_broadcast", "np.matmul", [[R(1, 2, 2)], [R(3, 2, 1)]], wrt=(0, 1))
    td = "np.tensordot"
    out += cc("tensordot_1", td, [[R(1, 3), R(2, 3, 2), C(1, 3)], [R(3), R(3, 1), R(3, 4, 2),
                                                                 C(3)]],
              wrt=(0, 1), axes=[[(1,), (0,)]])
    out += cc("tensordot_2", td, [[R(3), R(3, 1), R(3, 4, 2)], [R(1, 3), R(2, 3, 2)]],
              wrt=(0, 1), axes=[[(0,), (1,)]])
    out += cc("tensordot_3", td, [[R(2, 3), R(2, 3, 4)], [R(1, 2, 3), R(2, 2, 3, 4)]],
              wrt=(0, 1), axes=[[(0, 1), (1, 2)], [(1, 0), (2, 1)]])
    out += cc("tensordot_4", td, [[R(2, 2), R(4, 2, 2)], [R(2, 2), R(2, 2, 4)]], wrt=(0, 1),
              axes=[1, 2])
    out += cc("tensordot_5", td, [[R(4)], [R()]], wrt=(0, 1), axes=[0])
    out += cc("tensordot_6", td, [[R(2, 6)], [R(6, 3)]], wrt=(0, 1), axes=[[[-1], [0]]])
    out += cc("tensordot_7", td, [[R(2, 6)], [R(6, 3)]], wrt=(0, 1), axes=[[-1, 0]])
    out += cc("tensordot_8", td, [[R(2)], [R(2, 2)]], wrt=(0, 1), axes=[[0, 1]])
    for n in ("maximum", "fmax", "minimum", "fmin"):
        out += cc(n, f"np.{n}", [[R(1), R(1, 4), R(3, 4)], [R(1), R(1, 4), R(3, 4)]],
                  wrt=(0, 1))
    out += cc("sort", "np.sort", [[R(1), R(7)]])
    out += cc("partition", "np.partition", [[R(7), R(14)]], kth=[0, 3, 6])
    atl = [1.2, R(1), R(7), R(1, 4), R(2, 4), R(2, 4, 5)]
    out += cc("atleast_1d", "np.atleast_1d", [atl])
    out += cc("atleast_2d", "np.atleast_2d", [atl])
    out += cc("atleast_3d", "np.atleast_3d", [atl + [R(2, 4, 3, 5)]])
    es = "np.einsum"
    out += cc("einsum_transpose", es, [["ij->ji"], [R(1, 1), R(4, 4), R(3, 4)]], wrt=(1,))
    out += cc("einsum_matmult", es, [["ij,jk->ik"], [R(2, 3), C(2, 3)], [R(3, 4), C(3, 4)]],
              wrt=(1, 2))
    out += cc("einsum_matmult_broadcast", es, [["...ij,...jk->...ik"], [R(2, 3), R(2, 2, 3)],
                                               [R(3, 4), R(2, 3, 4)]], wrt=(1, 2))
    out += cc("einsum_matmult_broadcast_leadzero", es,
              [["...ij,...jk->...ik"], [R(0, 2, 3)], [R(0, 3, 4)]], wrt=(1, 2))
    out += cc("einsum_covsum", es, [["ijk,lji->lki"], [R(3, 4, 4)], [R(4, 4, 3)]], wrt=(1, 2))
    out += cc("einsum_ellipses", es, [["...jk,...lj->...lk", "...,...->..."],
                                      [R(4, 4), R(3, 4, 4)], [R(4, 4), R(3, 4, 4)]], wrt=(1, 2))
    out += cc("einsum_ellipses_tail", es, [["jk...,lj...->lk..."], [R(3, 2), R(3, 2, 4)],
                                           [R(2, 3), R(2, 3, 4)]], wrt=(1, 2))
    out += cc("einsum_ellipses_center", es, [["j...k,lj...->lk..."], [R(2, 2), R(2, 2, 2)],
                                             [R(2, 2), R(2, 2, 2)]], wrt=(1, 2))
    out += cc("einsum_three_args", es, [["ijk,lji,lli->lki"], [R(3, 4, 4)], [R(4, 4, 3)],
                                        [R(4, 4, 3)]], wrt=(1, 2))
    out += cc("einsum2_transpose", es, [[R(1, 1), R(4, 4), R(3, 4)], [(0, 1)], [(1, 0)]])
    out += cc("einsum2_matmult", es, [[R(2, 3)], [(0, 1)], [R(3, 4)], [(1, 2)], [(0, 2)]],
              wrt=(0, 2))
    out += cc("einsum2_matmult_broadcast", es,
              [[R(2, 3), R(2, 2, 3)], [(Ellipsis, 0, 1)], [R(3, 4), R(2, 3, 4)],
               [(Ellipsis, 1, 2)], [(Ellipsis, 0, 2)]], wrt=(0, 2))
    out += cc("einsum2_covsum", es, [[R(3, 4, 4)], [(0, 1, 2)], [R(4, 4, 3)], [(3, 1, 0)],
                                     [(3, 2, 0)]], wrt=(0, 2))
    out += cc("einsum2_three_args", es, [[R(3, 4, 4)], [(0, 1, 2)], [R(4, 4, 3)], [(3, 1, 0)],
                                         [R(4, 4, 3)], [(3, 3, 0)], [(3, 2, 0)]], wrt=(0, 2))
    out += cc("einsum_naked_sum", es, [["k,nk->"], [R(5)], [R(10, 5)]], wrt=(1, 2))
    out += cc("einsum_naked_sum2", es, [["abcd->bd"], [R(3, 2, 3, 2)]], wrt=(1,))
    out += cc("einsum_naked_sum_ellipsis", es, [["...k,...nk->..."], [R(3, 5)],
                                                [R(3, 10, 5)]], wrt=(1, 2))
    out += cc("einsum_no_output_indices", es, [["ij,k"], [R(3, 4)], [R(3)]], wrt=(1, 2))
    out += cc("trace", "np.trace", [[R(5, 5), R(4, 5), R(5, 4), R(3, 4, 5)]],
              offset=[-1, 0, 1])
    out += cc("diag", "np.diag", [[R(5, 5)]], k=[-1, 0, 1])
    out += cc("diag_flat", "np.diag", [[R(5)]], k=[-1, 0, 1])
    out += cc("tril", "np.tril", [[R(5, 5)]], k=[-1, 0, 1])
    out += cc("triu", "np.triu", [[R(5, 5)]], k=[-1, 0, 1])
    out += cc("tril_3d", "np.tril", [[R(5, 5, 4)]], k=[-1, 0, 1])
    out += cc("triu_3d", "np.triu", [[R(5, 5, 4)]], k=[-1, 0, 1])
    out += cc("swapaxes", "np.swapaxes", [[R(3, 4, 5)]], axis1=[0, 1, 2], axis2=[0, 1, 2])
    out += cc("rollaxis", "np.rollaxis", [[R(2, 3, 4)]], axis=[0, 1, 2], start=[0, 1, 2])
    out += cc("cross", "np.cross", [[R(3, 3)], [R(3, 3)]], wrt=(0, 1), axisa=[-1, 0, 1],
              axisb=[-1, 0, 1], axisc=[-1, 0, 1], axis=[None, -1, 0, 1])
    out += cc("vsplit_2d", "np.vsplit", [[R(4, 8)], [4, [1, 2]]])
    out += cc("vsplit_3d", "np.vsplit", [[R(4, 4, 4)], [2, [1, 2]]])
    out += cc("hsplit_2d", "np.hsplit", [[R(4, 8)], [4, [1, 2]]])
    out += cc("hsplit_3d", "np.hsplit", [[R(4, 4, 4)], [2, [1, 2]]])
    out += cc("dsplit_3d", "np.dsplit", [[R(4, 4, 4)], [2, [1, 2]]])
    out += cc("split_1d", "np.split", [[R(1), R(7)], [1]], axis=[0])
    out += cc("split_2d", "np.split", [[R(4, 8)], [4, [1, 2]]], axis=[0, 1])
    out += cc("split_3d", "np.split", [[R(4, 4, 4)], [2, [1, 2]]], axis=[0, 1, 2])
    out += cc("array_split_1d", "np.array_split", [[R(1), R(7)], [1, 3]], axis=[0])
    out += cc("array_split_2d", "np.array_split", [[R(7, 7)], [4, [3, 5]]], axis=[0, 1])
    out += cc("array_split_3d", "np.array_split", [[R(7, 7, 7)], [4, [3, 5]]],
              axis=[0, 1, 2])
    out += cc("concatenate_list", "np.concatenate", [[(R(1), R(3))]], axis=[0])
    out += cc("concatenate_tuple", "np.concatenate", [[[R(1), R(3)]]], axis=[0])
    out += cc("concatenate_2d", "np.concatenate", [[(R(2, 2), R(2, 2))]], axis=[0, 1])
    out += cc("concatenate_3d", "np.concatenate", [[(R(2, 2, 2), R(2, 2, 2))]],
              axis=[0, 1, 2])
    out += cc("vstack_1d", "np.vstack", [[R(2), (R(2), R(2))]])
    out += cc("vstack_2d", "np.vstack", [[R(2, 3), (R(2, 4), R(1, 4))]])
    out += cc("vstack_3d", "np.vstack", [[R(2, 3, 4), (R(2, 3, 4), R(5, 3, 4))]])
    out += cc("hstack_1d", "np.hstack", [[R(2), (R(2), R(2))]])
    out += cc("hstack_2d", "np.hstack", [[R(3, 2), (R(3, 4), R(3, 5))]])
    out += cc("hstack_3d", "np.hstack", [[R(2, 3, 4), (R(2, 1, 4), R(2, 5, 4))]])
    out += cc("stack_1d", "np.stack", [[(R(2),), (R(2), R(2))]], axis=[0, 1])
    out += cc("row_stack_1d", "np.row_stack", [[R(2), (R(2), R(2))]])
    out += cc("row_stack_2d", "np.row_stack", [[R(2, 3), (R(2, 4), R(1, 4))]])
    out += cc("column_stack_1d", "np.column_stack", [[R(2), (R(2), R(2))]])
    out += cc("column_stack_2d", "np.column_stack", [[R(2, 2), (R(2, 2), R(2, 2))]])
    out += cc("select", "np.select", [[[R(3, 4, 5) > 0, R(3, 4, 5) > 0, R(3, 4, 5) > 0]],
                                      [[R(3, 4, 5), R(3, 4, 5), R(3, 4, 5)]]], wrt=(1,),
              default=[0.0, 1.1])
    out += cc("pad", "np.pad", [[R(2, 2)], [0, 3, (3,), (3, 2), ((3, 2),), ((1, 2), (3, 4)),
                                            ((0, 0), (0, 0))], ["constant"]])
    return out


# ------------------------------------------------------------------ test_numpy


def _src(name, body, args, wrt=(0,), area="numpy", **opts):
    return source_case(area, name, body, args, wrt=wrt, **opts)


def numpy_cases():
    out = []
    mat1, mat2, vect1, vect2, vect3 = R(10, 11), R(10, 11), R(10), R(11), R(11)
    dot = "def f(x, y):\n    return np.dot(x, y)\n"
    for i, (a, b) in enumerate([(mat1, vect2), (mat1, mat2.T), (vect1, mat1), (vect2, vect3)]):
        out.append(_src(f"dot_{i}", dot, (a, b), wrt=(0, 1)))
    f1 = R()
    for i, (a, b) in enumerate([(mat1, f1), (f1, mat1), (vect1, f1), (f1, vect1)]):
        out.append(_src(f"dot_with_floats_{i}", dot, (a, b), wrt=(0, 1)))
    outer = "def f(x, y):\n    return np.outer(x, y)\n"
    for i, (a, b) in enumerate([(vect2, vect3), (vect2.T, vect3), (vect2.T, vect3.T)]):
        out.append(_src(f"outer_{i}", outer, (a, b), wrt=(0, 1)))
    one = [
        ("max", "np.max(x)", R(10, 11)),
        ("max_axis", "np.max(x, axis=1)", R(3, 4, 5)),
        ("max_axis_keepdims", "np.max(x, axis=1, keepdims=True)", R(3, 4, 5)),
        ("min", "np.min(x)", R(10, 11)),
        ("min_axis", "np.min(x, axis=1)", R(3, 4, 5)),
        ("min_axis_keepdims", "np.min(x, axis=1, keepdims=True)", R(3, 4, 5)),
        ("sum_1", "np.sum(x)", R(10, 11)),
        ("sum_2", "np.sum(x, axis=0)", R(10, 11)),
        ("sum_3", "np.sum(x, axis=0, keepdims=True)", R(10, 11)),
        ("sum_with_axis_tuple", "np.sum(x, axis=(1, 2))", R(10, 11, 7)),
        ("flipud", "np.flipud(x)", R(10, 11)),
        ("fliplr", "np.fliplr(x)", R(10, 11)),
        ("rot90", "np.rot90(x)", R(10, 11)),
        ("cumsum_axis0", "np.cumsum(x, axis=0)", R(10, 11)),
        ("cumsum_axis1", "np.cumsum(x, axis=1)", R(10, 11)),
        ("cumsum_1d", "np.cumsum(x)", R(10)),
        ("cumsum_no_axis", "np.cumsum(x)", R(10, 11)),
        ("mean_1", "np.mean(x)", R(10, 11)),
        ("mean_2", "np.mean(x, axis=0)", R(10, 11)),
        ("mean_3", "np.mean(x, axis=0, keepdims=True)", R(10, 11)),
        ("index_ints", "x[3, 0, 1]", R(5, 6, 4)),
        ("index_slice", "x[::-1, 2:4, :]", R(5, 6, 4)),
        ("index_lists", "x[[0, 1, 2], :, :]", R(5, 6, 4)),
        ("index_mixed", "x[3, 2:, [1, 3]]", R(5, 6, 4)),
        ("vector_slice", "x[2:4]", R(5)),
        ("reshape_method", "x.reshape((5 * 4, 6))", R(5, 6, 4)),
        ("reshape_call", "np.reshape(x, (5 * 4, 6))", R(5, 6, 4)),
        ("reshape_method_nolist", "x.reshape(5 * 4, 6)", R(5, 6, 4)),
        ("ravel_method", "x.ravel()", R(5, 6, 4)),
        ("ravel_call", "np.ravel(x)", R(5, 6, 4)),
        ("flatten_method", "x.flatten()", R(5, 6, 4)),
        ("diag", "np.diag(x)", R(10, 10)),
        ("transpose", "x.T", R(8, 8)),
        ("roll", "np.roll(x, 2, axis=1)", R(4, 5)),
        ("roll_no_axis", "np.roll(x, 2)", R(4, 5)),
        ("triu", "np.triu(x, k=2)", R(5, 5)),
        ("tril", "np.tril(x, k=2)", R(5, 5)),
        ("clip", "np.clip(x, a_min=0.1, a_max=1.1)", R(5, 5)),
        ("prod_1", "np.prod(x)", R(2, 3) ** 2 / 10.0 + 0.1),
        ("prod_2", "np.prod(x, axis=0)", R(2, 3) ** 2 + 0.1),
        ("prod_3", "np.prod(x, axis=0, keepdims=True)", R(2, 3) ** 2 + 0.1),
        ("prod_4", "np.prod(x)", R(7) ** 2 + 0.1),
        ("1d_array", "np.array([x, x * 1.0, x + 2.5])", 3.0),
        ("2d_array", "np.array([[x, x * 1.0, x + 2.5], [x ** 2, x, x / 2.0]])", 3.0),
        ("array_from_scalar", "np.array(x)", 3.0),
        ("array_from_arrays", "np.array([x, x])", R(3, 2)),
        ("array_from_arrays_2", "np.array([[2 * x, x + 1], [x, x]])", R(3, 2)),
        ("squeeze_func", "np.squeeze(x)", R(5, 1, 4)),
        ("squeeze_method", "x.squeeze()", R(5, 1, 4)),
        ("repeat", "np.repeat(x, 2, axis=1)", R(5, 3, 4)),
        ("repeat_axis1_rep1", "np.repeat(x, 1, axis=1)", R(5, 3, 4)),
        ("repeat_axis0", "np.repeat(x, 2, axis=0)", R(5, 3)),
        ("repeat_1d_axis0", "np.repeat(x, 2, axis=0)", R(5)),
        ("repeat_axis0_rep1", "np.repeat(x, 1, axis=0)", R(5, 1)),
        ("expand_dims", "np.expand_dims(x, 2)", R(5, 1, 4)),
        ("multi_index", "np.sum(x[[0, 0]])", R(3)),
        ("multi_index2", "np.sum(x[[0, 1, 0]])", R(3)),
        ("index_dot_slices", "np.dot(x[:2], x[2:])", R(4)),
        ("diagonal_2d", "np.diagonal(x, axis1=-1, axis2=-2)", R(4, 4)),
        ("diagonal_3d", "np.diagonal(x, axis1=-1, axis2=-2)", R(3, 4, 4)),
        ("max_equal_values", "np.max(np.array([x, x]))", 1.0),
        ("maximum_equal_values", "np.maximum(x, x)", 1.0),
    ]
    for name, expr, a in one:
        out.append(_src(name, f"def f(x):\n    return {expr}\n", (a,)))
    off = int(RNG.integers(-9, 11))
    out.append(_src("trace", f"def f(x):\n    return np.trace(x, offset={off})\n", (R(10, 11),)))
    off = int(RNG.integers(-9, 11))
    out.append(_src("trace2", f"def f(x):\n    return np.trace(x, offset={off})\n",
                    (R(11, 10),)))
    off = int(RNG.integers(-5, 6))
    out.append(_src("trace_extradims", f"def f(x):\n    return np.trace(x, offset={off})\n",
                    (R(5, 6, 4, 3),)))
    for v in (1.0, -1.0):
        out.append(_src(f"max_equal_values_2d[{v}]",
                        "def f(x):\n    return np.max(np.array([[x, x], [x, 0.5]]), axis=1)\n",
                        (v,)))
        out.append(_src(f"min_3_way_equality[{v}]",
                        "def f(x):\n    return np.min(np.array([[x, x, x], [x, 0.5, 0.5], "
                        "[0.5, 0.5, 0.5], [x, x, 0.5]]), axis=0)\n", (v,)))
    for v in (1.0, -1.0, 2.0):
        out.append(_src(f"maximum_equal_values_2d[{v}]",
                        "def f(x):\n    return np.maximum(np.array([x, x, 0.5]), "
                        "np.array([[x, 0.5, x], [x, x, 0.5]]))\n", (v,)))
    out.append(_src("non_numpy_sum", "def f(x, y):\n    return sum([x, y])\n",
                    (R(10, 11), R(10, 11)), wrt=(0, 1)))
    for n, expr in [("mean", "np.mean"), ("std", "np.std"), ("var", "np.var")]:
        out.append(_src(f"{n}_list_of_boxes", f"def f(x):\n    return {expr}([x, x + 2])\n",
                        (0.0,)))
        out.append(_src(f"{n}_tuple_of_boxes", f"def f(x):\n    return {expr}((x, x + 2))\n",
                        (0.0,)))
    out.append(_src("index_slice_fanout",
                    "def f(x):\n    y = x[::-1, 2:4, :]\n    z = x[::-1, 3:5, :]\n"
                    "    return y + z\n", (R(5, 6, 4),)))
    out.append(_src("index_multiple_slices",
                    "def f(x):\n    y = x[2:6]\n    z = y[1:3]\n    return z\n", (R(7),)))
    out.append(_src("1d_array_fanout",
                    "def f(x):\n    A = np.array([x, x * 1.0, x + 2.5])\n    return A + A\n",
                    (3.0,)))
    out.append(_src("2d_array_fanout",
                    "def f(x):\n    A = np.array([[x, x * 1.0, x + 2.5], [x ** 2, x, x / 2.0]])"
                    "\n    return A + A\n", (3.0,)))
    out.append(_src("scalar_array_box_attributes",
                    "def f(x):\n    assert np.shape(x) == ()\n    assert np.ndim(x) == 0\n"
                    "    assert np.size(x) == 1\n    return x ** 2\n", (3.0,)))
    out.append(_src("len", "def f(x):\n    assert len(x) == 3\n    return x\n", (R(3, 2),)))
    out.append(_src("simple_append_list", "def f(A, b):\n    return np.append(A, b)\n",
                    ([1.0, 2.0, 3.0], 4.0), wrt=(0, 1)))
    out.append(_src("simple_append_arr", "def f(A, b):\n    return np.append(A, b)\n",
                    (np.array([1.0, 2.0, 3.0]), 4.0), wrt=(0, 1)))
    out.append(_src("simple_append_list_2D",
                    "def f(A, B):\n    return np.append(A, B, axis=0)\n",
                    ([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], [[7.0, 8.0, 9.0]]), wrt=(0, 1)))
    A, B = R(5, 6, 4), R(4, 6, 4)
    out.append(_src("simple_concatenate", "def f(x, A):\n    return np.concatenate((A, x))\n",
                    (B, A)))
    B = R(5, 6, 4)
    for name, call in [("concatenate_axis_0", "np.concatenate((B, x, B))"),
                       ("concatenate_axis_1", "np.concatenate((B, x, B), axis=1)"),
                       ("concatenate_axis_1_unnamed", "np.concatenate((B, x, B), 1)")]:
        out.append(_src(name, f"def f(x, B):\n    return {call}\n", (R(5, 6, 4), B)))
    c32 = R(3, 2)
    out.append(_src("no_relation", "def f(x, c):\n    return c\n", (R(3, 2), c32)))
    r_ = [("r_basic", "np.r_[x]"), ("r_double", "np.r_[x, x]"),
          ("r_no_relation", "np.r_[c]"), ("r_node_and_const", "np.r_[x, c]"),
          ("r_mixed", "np.r_[x, c, x]"), ("c_", "np.c_[x, c, x]"),
          ("c_mixed", "np.c_[x, c, x]")]
    for name, expr in r_:
        out.append(_src(name, f"def f(x, c):\n    b = {expr}\n    return b\n", (R(3, 2), c32)))
    out.append(_src("r_slicing", "def f(x, c):\n    b = np.r_[x, c, 1:10]\n    return b\n",
                    (R(10), R(10))))
    B3, C34, D13 = R(3), R(3, 4), R(1, 3)
    for fn in ("var", "std"):
        out += combos("numpy", f"{fn}_ddof", f"np.{fn}", [[B3, C34, D13]],
                      {"axis": [None], "keepdims": [True, False], "ddof": [0, 1]})
        out += combos("numpy", f"{fn}_ddof", f"np.{fn}", [[C34, D13]],
                      {"axis": [None, 1], "keepdims": [True, False], "ddof": [2]})
    cond = R(4, 5) > 0
    out.append(_src("where", "def f(x, y, C):\n    return np.where(C, x, y)\n",
                    (R(4, 5), R(4, 5), cond), wrt=(0, 1)))
    out.append(_src("tensordot_kwargs_by_position",
                    "def f(x):\n    return np.tensordot(x * np.ones((2, 2)), "
                    "x * np.ones((2, 2)), 2)\n", (1.0,)))
    inds = np.ones(5)[:, None]
    out.append(_src("cast_to_int",
                    "def f(W, inds):\n    glued_together = np.concatenate((W, inds), axis=1)\n"
                    "    new_W = W[:, :-1]\n    new_inds = np.int64(W[:, -1])\n"
                    "    assert new_inds.dtype == np.int64\n    return new_W[new_inds].sum()\n",
                    (R(5, 10), inds)))
    y = np.array([0.0, np.nan, np.inf, -np.inf])
    out.append(_src("nan_to_num", "def f(x, y):\n    return np.sum(np.sin(np.nan_to_num(x + y)))\n",
                    (R(4), y)))
    for num in (0, 1, 5):
        for a, b in ((1.2, 3.4), (1.2, -3.4), (1.2, 1.2)):
            out.append(_src(f"linspace[{num},{a},{b}]",
                            f"def f(x, y):\n    return np.linspace(x, y, {num})\n", (a, b),
                            wrt=(0, 1)))
    out.append(_src("astype", "def f(x):\n    return np.sum(np.sin(x.astype('float64')))\n",
                    (np.arange(3, dtype="float32"),), rtol=1e-3))
    for sh in ((10,), (10, 10), (10, 10, 10)):
        out.append(_src(f"gradient[{sh}]", "def f(x):\n    return np.gradient(x)\n", (R(*sh),)))
    for a in (None, 0, 1, -1, (0, 1), (0, -1)):
        out.append(_src(f"gradient_axis[{a}]",
                        f"def f(x):\n    return np.gradient(x, axis={a!r})\n", (R(10, 10, 10),)))
    base = np.abs(R(5)) + 0.5
    for red in ("sum", "prod", "max", "min"):
        out.append(_src(f"plain_reduction_{red}",
                        f"def f(a, base):\n    return np.{red}(np.exp(a) * base)\n", (0.7, base)))
    return out


# ------------------------------------------------------------------ test_scipy

SP = "import numpy as np\nimport scipy.special as special\nimport scipy.stats as stats\n" \
     "import scipy.linalg as spla\nimport scipy.signal as signal\nimport scipy.integrate as integrate"


def scipy_cases():
    out = []

    def cc(name, callee, arg_lists, wrt=(0,), kw=None, modes=("rev", "fwd"), **opts):
        return combos("scipy", name, callee, arg_lists, kw or {}, wrt=wrt, header=SP,
                      modes=modes, **opts)

    pos = lambda *s: R(*s) ** 2 + 1.1
    out += cc("chi2_pdf", "stats.chi2.pdf", [[pos(4)], [1, 2, 3]])
    out += cc("chi2_cdf", "stats.chi2.cdf", [[pos(4)], [1, 2, 3]])
    out += cc("chi2_logpdf", "stats.chi2.logpdf", [[pos(4)], [1, 2, 3]])
    out += cc("beta_cdf", "stats.beta.cdf", [[U(0.0, 1.0, 4)], [pos(4)], [pos(4)]])
    out += cc("beta_pdf", "stats.beta.pdf", [[U(0.0, 1.0, 4)], [pos(4)], [pos(4)]],
              wrt=(0, 1, 2))
    out += cc("beta_logpdf", "stats.beta.logpdf", [[U(0.0, 1.0, 4)], [pos(4)], [pos(4)]],
              wrt=(0, 1, 2))
    out += cc("gamma_cdf", "stats.gamma.cdf", [[pos(4)], [pos(4)]])
    out += cc("gamma_pdf", "stats.gamma.pdf", [[pos(4)], [pos(4)]], wrt=(0, 1))
    out += cc("gamma_logpdf", "stats.gamma.logpdf", [[pos(4)], [pos(4)]], wrt=(0, 1))
    for fn in ("pdf", "cdf", "sf", "logpdf", "logcdf", "logsf"):
        out += cc(f"norm_{fn}", f"stats.norm.{fn}", [[R(4)], [R(4)], [pos(4)]], wrt=(0, 1, 2))
    for fn in ("pdf", "cdf", "cdf", "logpdf", "logcdf", "logcdf"):
        out += cc(f"norm_{fn}_broadcast", f"stats.norm.{fn}", [[R(4, 3)], [R(1, 3)], [pos(4, 1)]],
                  wrt=(0, 1, 2))
    for fn in ("cdf", "logpmf", "pmf"):
        out += cc(f"poisson_{fn}", f"stats.poisson.{fn}", [[np.round(R(4) ** 2)], [pos(4)]],
                  wrt=(1,))
        out += cc(f"poisson_{fn}_broadcast", f"stats.poisson.{fn}",
                  [[np.round(R(4, 3) ** 2)], [pos(4, 1)]], wrt=(1,))
    dfp = lambda *s: R(*s) ** 2 + 2.1
    for fn, wrt in (("pdf", (0, 1, 2, 3)), ("cdf", (0, 2)), ("logpdf", (0, 1, 2, 3)),
                    ("logcdf", (0, 2))):
        out += cc(f"t_{fn}", f"stats.t.{fn}", [[R(4)], [dfp(4)], [R(4)], [dfp(4)]], wrt=wrt)
        out += cc(f"t_{fn}_broadcast", f"stats.t.{fn}",
                  [[R(4, 3)], [dfp(1, 3)], [R(4, 3)], [dfp(4, 1)]], wrt=wrt)

    def psd(mat):
        return mat.T @ mat + np.eye(mat.shape[0])

    sym = "def f(x, mean, cov):\n    cov = 0.5 * (cov + np.swapaxes(cov, -1, -2))\n" \
          "    return stats.multivariate_normal.{fn}(x, mean, cov{extra})\n"
    for fn in ("pdf", "logpdf"):
        out.append(Case("scipy", f"mvn_{fn}", SP + "\n\n\n" + sym.format(
            fn=fn, extra=", allow_singular=False"), (R(4), R(4), psd(R(4, 4))), (0, 1, 2)))
        out.append(Case("scipy", f"mvn_{fn}_broadcast", SP + "\n\n\n" + sym.format(
            fn=fn, extra=""), (R(5, 4), R(4), psd(R(4, 4))), (0, 1, 2)))
    out.append(Case("scipy", "mvn_entropy", SP + "\n\n\ndef f(mean, cov):\n"
                    "    cov = 0.5 * (cov + np.swapaxes(cov, -1, -2))\n"
                    "    return stats.multivariate_normal.entropy(mean, cov)\n",
                    (10 * R(4), psd(R(4, 4))), (0, 1)))
    cov = np.zeros((4, 4))
    cov[0, 0] = cov[1, 1] = 1
    for fn in ("pdf", "logpdf"):
        out.append(Case("scipy", f"mvn_sing_cov_{fn}", SP + "\n\n\ndef f(x, mean, cov):\n"
                        "    x = np.concatenate([x[:2], mean[2:]])\n"
                        "    cov = 0.5 * (cov + np.swapaxes(cov, -1, -2))\n"
                        f"    return stats.multivariate_normal.{fn}(x, mean, cov, "
                        "allow_singular=True)\n",
                        (np.concatenate((R(2), np.zeros(2))),
                         np.concatenate((R(2), np.zeros(2))), cov), (0, 1)))
    alpha = RNG.uniform(size=4) ** 2 + 1.2
    x = RNG.dirichlet(alpha)
    norm_src = "def f(x, alpha):\n    return stats.dirichlet.{fn}(x / sum(x), alpha)\n"
    for fn in ("pdf", "logpdf"):
        out.append(Case("scipy", f"dirichlet_{fn}_x", SP + "\n\n\n" + norm_src.format(fn=fn),
                        (x, alpha), (0,)))
        out.append(Case("scipy", f"dirichlet_{fn}_alpha", SP + "\n\n\ndef f(x, alpha):\n"
                        f"    return stats.dirichlet.{fn}(x, alpha)\n", (x, alpha), (1,)))
    lse = "special.logsumexp"
    out += cc("logsumexp1", lse, [[np.array([1.1]), R(4), R(3, 4)]],
              kw={"axis": [None, 0], "keepdims": [True, False]})
    out += cc("logsumexp2", lse, [[R(3, 4), R(4, 5, 6), R(1, 5)]],
              kw={"axis": [None, 0, 1], "keepdims": [True, False]})
    out += cc("logsumexp3", lse, [[R(4)]],
              kw={"b": [np.exp(R(4))], "axis": [None, 0], "keepdims": [True, False]})
    out += cc("logsumexp4", lse, [[R(3, 4)]],
              kw={"b": [np.exp(R(3, 4))], "axis": [None, 0, 1], "keepdims": [True, False]})
    out += cc("logsumexp5", lse, [[R(2, 3, 4)]],
              kw={"b": [np.exp(R(2, 3, 4))], "axis": [None, 0, 1], "keepdims": [True, False]})
    out.append(Case("scipy", "logsumexp6", SP + "\n\n\ndef f(a):\n"
                    "    return special.logsumexp(a, axis=1, keepdims=True)\n", (R(1, 5),)))
    out += cc("convolve", "signal.convolve", [[R(4), R(5), R(6)], [R(2), R(3), R(4)]],
              wrt=(0, 1), kw={"mode": ["full", "valid", "same"]})
    out += cc("convolve_2d", "signal.convolve", [[R(4, 3), R(5, 4), R(6, 7)],
                                                [R(2, 2), R(3, 2), R(4, 2), R(4, 1)]],
              wrt=(0, 1), kw={"mode": ["full", "valid", "same"]})
    out += cc("beta", "special.beta", [[pos(4)], [pos(4)]], wrt=(0, 1))
    out += cc("betainc", "special.betainc", [[pos(4)], [pos(4)], [U(0.0, 1.0, 4)]], wrt=(2,))
    out += cc("betaln", "special.betaln", [[pos(4)], [pos(4)]], wrt=(0, 1))
    pos3 = R(4) ** 2 + 1.3
    out += cc("gammainc", "special.gammainc", [[1], [pos3]], wrt=(1,))
    out += cc("gammaincc", "special.gammaincc", [[1], [pos3]], wrt=(1,))
    out += cc("polygamma", "special.polygamma", [[0], [pos3]], wrt=(1,))
    out += cc("jn", "special.jn", [[2], [pos3]], wrt=(1,))
    out += cc("yn", "special.yn", [[2], [pos3]], wrt=(1,))
    for n in ("psi", "digamma", "gamma", "gammaln", "gammasgn", "rgamma"):
        out += unary_check(n, f"special.{n}", lims=(0.3, 2.0), test_complex=False,
                           area="scipy", header=SP)
    out += cc("multigammaln", "special.multigammaln", [[U(4.0, 5.0), U(4.0, 5.0, (2, 3))],
                                                       [1, 2, 3]])
    for n in ("j0", "j1", "y0", "y1", "i0", "i1"):
        out += unary_check(n, f"special.{n}", lims=(0.2, 20.0), test_complex=False,
                           area="scipy", header=SP)
    out += cc("iv", "special.iv", [[U(1.0, 50.0, 4)], [pos3]], wrt=(1,))
    out += cc("ive", "special.ive", [[U(1.0, 50.0, 4)], [pos3]], wrt=(1,))
    out += unary_check("erf", "special.erf", lims=(-3.0, 3.0), test_complex=True,
                       area="scipy", header=SP)
    out += unary_check("erfc", "special.erfc", lims=(-3.0, 3.0), test_complex=True,
                       area="scipy", header=SP)
    out += unary_check("erfinv", "special.erfinv", lims=(-0.95, 0.95), test_complex=False,
                       area="scipy", header=SP)
    out += unary_check("erfcinv", "special.erfcinv", lims=(0.05, 1.95), test_complex=False,
                       area="scipy", header=SP)
    out += unary_check("logit", "special.logit", lims=(0.10, 0.90), test_complex=False,
                       area="scipy", header=SP)
    out += unary_check("expit", "special.expit", lims=(-4.05, 4.95), test_complex=False,
                       area="scipy", header=SP)
    out.append(Case("scipy", "odeint", SP + "\n\n\ndef func(y, t, arg1, arg2):\n"
                    "    return -np.sqrt(t) - y + arg1 - np.mean((y + arg2) ** 2)\n\n\n"
                    "def f(y0, t, arg1, arg2):\n"
                    "    return integrate.odeint(func, y0, t, args=(arg1, arg2))\n",
                    (R(3), np.linspace(0.1, 0.2, 4), R(3), R(3)), (0, 2, 3)))
    out.append(Case("scipy", "sqrtm", SP + "\n\n\ndef f(A):\n"
                    "    return spla.sqrtm(0.5 * (A + A.T))\n", (psd(R(3, 3)),)))
    out.append(Case("scipy", "solve_sylvester", SP + "\n\n\ndef f(a, b, q):\n"
                    "    return spla.solve_sylvester(a, b, q)\n", (R(3, 3), R(3, 3), R(3, 3)),
                    (0, 1, 2)))
    out.append(Case("scipy", "solve_banded", SP + "\n\n\ndef f(ab, b):\n"
                    "    return spla.solve_banded((1, 1), ab, b)\n", (R(3, 5), R(5)), (0, 1)))
    return out


def scipy_more_cases():
    """test_scipy.py's checks added after the first port (``norm.ppf`` /
    ``norm.isf`` and their broadcasting forms; ``logsumexp6``'s gradient of
    a one-element output, differentiated again), with data from a generator
    of their own (so the earlier cases keep theirs)."""
    rng = np.random.default_rng(20261204)
    Rn = lambda *s: rng.standard_normal(s)
    Un = lambda lo, hi, s: rng.uniform(lo, hi, s)
    out = []

    def cc(name, callee, arg_lists, wrt=(0,)):
        return combos("scipy", name, callee, arg_lists, {}, wrt=wrt, header=SP,
                      modes=("rev", "fwd", "rr", "fr"))
    for fn in ("ppf", "isf"):
        out += cc(f"norm_{fn}", f"stats.norm.{fn}", [[Un(0.05, 0.95, 4)], [Rn(4)],
                                                     [Rn(4) ** 2 + 1.1]], wrt=(0, 1, 2))
        out += cc(f"norm_{fn}_broadcast", f"stats.norm.{fn}",
                  [[Un(0.05, 0.95, (4, 3))], [Rn(1, 3)], [Rn(4, 1) ** 2 + 1.1]], wrt=(0, 1, 2))
    out.append(Case("scipy", "logsumexp6_grad", SP + "\nfrom s2sgrad import grad\n\n\n"
                    "def g(a):\n    return special.logsumexp(a, axis=1, keepdims=True)\n\n\n"
                    "def f(a):\n    return grad(g)(a)\n", (Rn(1, 5),), (0,),
                    modes=("rev", "fwd", "rr", "fr")))
    return out


# ------------------------------------------------------------------ test_linalg


def linalg_cases():
    out = []
    L = "linalg"

    def src(name, body, args, wrt=(0,), **opts):
        out.append(source_case(L, name, body, args, wrt=wrt, **opts))

    def rand_psd(D):
        m = R(D, D)
        return m @ m.T

    sym = "    L = np.tril(x)\n    x = (L + np.swapaxes(L, -1, -2)) / 2.0\n"
    D = 8
    mat = R(D, D)
    src("inv", "def f(x):\n    return np.linalg.inv(x)\n", (mat @ mat + np.eye(D),))
    N = 5
    for M in range(N // 2, N + N // 2 + 1):
        src(f"pinv[{N}x{M}]", "def f(x):\n    return np.linalg.pinv(x)\n", (R(N, M),))
        src(f"pinv_stacked[2x{N}x{M}]", "def f(x):\n    return np.linalg.pinv(x)\n",
            (R(2, N, M),))
        src(f"pinv_low_rank[{N}x{M}]",
            "def f(x):\n    return np.linalg.pinv(np.swapaxes(x, -1, -2) @ x)\n", (R(N, M),))
        src(f"pinv_low_rank_stacked[2x{N}x{M}]",
            "def f(x):\n    return np.linalg.pinv(np.swapaxes(x, -1, -2) @ x)\n", (R(2, N, M),))
    src("inv_3d", "def f(x):\n    return np.linalg.inv(x)\n", (R(4, 4, 4) + 5 * np.eye(4),))
    src("inv_4d", "def f(x):\n    return np.linalg.inv(x)\n", (R(4, 4, 4, 4) + 5 * np.eye(4),))
    A, B = R(8, 8) + 10.0 * np.eye(8), R(8, 7)
    src("solve_arg1", "def f(a, B):\n    return np.linalg.solve(a, B)\n", (A, B))
    src("solve_arg1_1d", "def f(a, B):\n    return np.linalg.solve(a, B)\n", (A, R(8)))
    A6 = R(6, 6) + np.eye(6)
    src("solve_arg2", "def f(b, A):\n    return np.linalg.solve(A, b)\n", (R(6, 5), A6))
    A3 = R(5, 4, 4) + 5 * np.eye(4)
    src("solve_arg1_3d", "def f(A, B):\n    return np.linalg.solve(A, B[..., None])[..., 0]\n",
        (A3, R(5, 4)))
    src("solve_arg1_3d_3d", "def f(A, B):\n    return np.linalg.solve(A, B)\n",
        (A3, R(5, 4, 6)))
    src("det", "def f(x):\n    return np.linalg.det(x)\n", (R(6, 6),))
    src("det_3d", "def f(x):\n    return np.linalg.det(x)\n", (R(3, 3, 3),))
    m6 = R(6, 6)
    for i, m in enumerate((m6, -m6)):
        src(f"slogdet[{i}]", "def f(x):\n    sign, logdet = np.linalg.slogdet(x)\n"
            "    return logdet\n", (m,))
    src("slogdet_3d", "def f(x):\n    return np.sum(np.linalg.slogdet(x)[1])\n",
        (np.stack([rand_psd(5) + 5 * np.eye(5) for _ in range(3)]),))
    norm = "def f(x):\n    return np.linalg.norm(x{})\n"
    src("vector_2norm", norm.format(""), (R(6),))
    src("vector_2norm_complex", norm.format(""), (C(6),))
    src("frobenius_norm", norm.format(""), (R(6, 5),))
    src("frobenius_norm_complex", norm.format(""), (C(6, 5),))
    src("frobenius_norm_axis", norm.format(", axis=(0, 1)"), (R(6, 5, 4),))
    src("frobenius_norm_axis_complex", norm.format(", axis=(0, 1)"), (C(6, 5, 4),))
    for o in range(2, 5):
        src(f"vector_norm_ord[{o}]", norm.format(f", ord={o}"), (R(6),))
        src(f"vector_norm_ord_complex[{o}]", norm.format(f", ord={o}"), (C(6),))
    for ax in range(3):
        src(f"norm_axis[{ax}]", norm.format(f", axis={ax}"), (R(6, 5, 4),))
        src(f"norm_axis_complex[{ax}]", norm.format(f", axis={ax}"), (C(6, 5, 4),))
    src("norm_nuclear", norm.format(", ord='nuc'"), (R(6, 5),))
    src("norm_nuclear_complex", norm.format(", ord='nuc'"), (C(6, 5),))
    src("norm_nuclear_axis", norm.format(", ord='nuc', axis=(0, 1)"), (R(6, 5, 4),))
    src("norm_nuclear_axis_complex", norm.format(", ord='nuc', axis=(0, 1)"), (C(6, 5, 4),))
    src("norm_list_of_boxes", "def f(x):\n    return np.linalg.norm([x, x + 2])\n", (0.0,))
    src("norm_tuple_of_boxes", "def f(x):\n    return np.linalg.norm((x, x + 2))\n", (0.0,))
    eigh = "def f(x):\n" + sym + "    w, v = np.linalg.eigh(x{})\n    return (w, {})\n"
    src("eigvalh_lower", eigh.format("", "v"), (R(6, 6),))
    src("eigvalh_upper", eigh.format(", 'U'", "v"), (R(6, 6),))
    big = R(2, 3, 6, 6) + 10 * np.eye(6)
    hmat = np.einsum("...ij,...kj->...ik", big, big)
    src("eigvalh_lower_broadcasting", eigh.format("", "v"), (hmat,))
    src("eigvalh_upper_broadcasting", eigh.format(", 'U'", "v"), (hmat,))
    herm = "def f(x):\n    L = np.tril(x)\n    x = (L + np.conj(np.swapaxes(L, -1, -2))) / 2.0\n" \
           "    w, v = np.linalg.eigh(x{})\n    return (w, np.abs(v))\n"
    src("eigvalh_lower_complex", herm.format(""), (C(6, 6),))
    src("eigvalh_upper_complex", herm.format(", 'U'"), (C(6, 6),))
    src("eig_real", "def f(x):\n    w, v = np.linalg.eig(x)\n    return (np.abs(w), np.abs(v))\n",
        (R(8, 8),))
    src("eig_complex", "def f(x):\n    w, v = np.linalg.eig(x)\n    return (w, np.abs(v))\n",
        (C(8, 8),))
    src("eig_batched", "def f(x):\n    w, v = np.linalg.eig(x)\n    return (w, np.abs(v))\n",
        (C(5, 8, 8),))
    chol = "def f(x):\n" + sym + "    return np.linalg.cholesky(x)\n"
    src("cholesky", chol, (rand_psd(6),))
    src("cholesky_broadcast", chol, (np.stack([rand_psd(6) for _ in range(3)]),))
    src("cholesky_reparameterization_trick",
        "def f(x):\n" + sym + "    rng = np.random.RandomState(0)\n"
        "    z = np.dot(np.linalg.cholesky(x), rng.randn(x.shape[0]))\n"
        "    return np.linalg.norm(z)\n", (rand_psd(6),))
    svd = "def f(x):\n    u, s, v = np.linalg.svd(x, full_matrices=False)\n    return (u, s, v)\n"
    svdc = "def f(x):\n    u, s, v = np.linalg.svd(x, full_matrices=False)\n" \
           "    return (np.abs(u), s, np.abs(v))\n"
    for shape_name, shp in (("wide_2d", (3, 5)), ("wide_3d", (4, 3, 5)), ("square_2d", (4, 4)),
                            ("square_3d", (3, 4, 4)), ("tall_2d", (5, 3)),
                            ("tall_3d", (4, 5, 3))):
        src(f"svd_{shape_name}", svd, (R(*shp),))
        src(f"svd_{shape_name}_complex", svdc, (C(*shp),))
    only_s = "def f(x):\n    return np.linalg.svd(x, full_matrices=False, compute_uv=False)\n"
    for shape_name, shp in (("2d", (5, 3)), ("3d", (4, 5, 3))):
        src(f"svd_only_s_{shape_name}", only_s, (R(*shp),))
        src(f"svd_only_s_{shape_name}_complex", only_s, (C(*shp),))
    return out


# ------------------------------------------------------------------ test_fft


def fft_cases():
    out = []

    def src(name, body, args):
        out.append(source_case("fft", name, body, args))

    one = "def f(x):\n    return {}\n"
    src("fft", one.format("np.fft.fft(x)"), (R(5, 5),))
    src("fft_ortho", one.format("np.fft.fft(x, norm='ortho')"), (R(5, 5),))
    src("fft_axis", one.format("np.fft.fft(x, axis=0)"), (R(5, 5),))
    for fn, D in (("fft", 5), ("ifft", 5), ("rfft", 4), ("irfft", 4)):
        for n, label in ((-2, "smaller"), (2, "bigger")):
            mat = R(D, D)
            if fn.startswith("ir"):
                mat = np.fft.rfft(mat)
            src(f"{fn}_n_{label}", one.format(f"np.fft.{fn}(x, {D + n})"), (mat,))
    for fn, D in (("fft2", 5), ("ifft2", 5), ("fftn", 5), ("ifftn", 5), ("rfft2", 4),
                  ("irfft2", 4), ("rfftn", 4), ("irfftn", 4)):
        mat = R(D, D, D) / 10.0
        if fn.startswith("ir"):
            mat = getattr(np.fft, fn[1:])(mat)
        src(f"{fn}_s", one.format(f"np.fft.{fn}(x, s=[{D + 2}, {D - 2}], axes=[0, 2])"), (mat,))
    src("ifft", one.format("np.fft.ifft(x)"), (R(5, 5),))
    src("fft2", one.format("np.fft.fft2(x)"), (R(5, 5) / 10.0,))
    src("ifft2", one.format("np.fft.ifft2(x)"), (R(5, 5),))
    src("fftn", one.format("np.fft.fftn(x)"), (R(5, 5) / 10.0,))
    src("ifftn", one.format("np.fft.ifftn(x)"), (R(5, 5),))
    src("rfft", one.format("np.fft.rfft(x)"), (R(4, 4) / 10.0,))
    src("rfft_ortho", one.format("np.fft.rfft(x, norm='ortho')"), (R(4, 4) / 10.0,))
    src("rfft_axes", one.format("np.fft.rfft(x, axis=0)"), (R(4, 4) / 10.0,))
    src("irfft", one.format("np.fft.irfft(x)"), (np.fft.rfft(R(4, 4) / 10.0),))
    src("irfft_ortho", one.format("np.fft.irfft(x, norm='ortho')"),
        (np.fft.rfft(R(4, 4) / 10.0),))
    src("rfft2", one.format("np.fft.rfft2(x)"), (R(4, 4) / 10.0,))
    src("irfft2", one.format("np.fft.irfft2(x)"), (np.fft.rfft2(R(4, 4) / 10.0),))
    src("rfftn", one.format("np.fft.rfftn(x)"), (R(4, 4, 4) / 10.0,))
    src("rfftn_odd", one.format("np.fft.rfftn(x)"), (R(5, 5, 5) / 10.0,))
    src("rfftn_subset", one.format("np.fft.rfftn(x)[(0, 1, 0), (3, 3, 2)]"),
        (R(4, 4, 4) / 10.0,))
    src("rfftn_axes", one.format("np.fft.rfftn(x, axes=(0, 2))"), (R(4, 4, 4) / 10.0,))
    src("irfftn", one.format("np.fft.irfftn(x)"), (np.fft.rfftn(R(4, 4, 4) / 10.0),))
    src("irfftn_subset", one.format("np.fft.irfftn(x)[(0, 1, 0), (3, 3, 2)]"),
        (np.fft.rfftn(R(4, 4, 4) / 10.0),))
    for name, expr, D in (("fftshift", "np.fft.fftshift(x)", 5),
                          ("fftshift_even", "np.fft.fftshift(x)", 4),
                          ("fftshift_axes", "np.fft.fftshift(x, axes=1)", 5),
                          ("ifftshift", "np.fft.ifftshift(x)", 5),
                          ("ifftshift_even", "np.fft.ifftshift(x)", 4),
                          ("ifftshift_axes", "np.fft.ifftshift(x, axes=1)", 5)):
        src(name, one.format(expr), (R(D, D),))
    return out


# ------------------------------------------------------------------ test_complex, test_graphs


def complex_cases():
    out = []

    def src(name, body, args, wrt=(0,)):
        out.append(source_case("complex", name, body, args, wrt=wrt))

    src("real_type", "def f(x):\n    return np.sum(np.real(x))\n", (2.0,))
    src("real_type_complex", "def f(x):\n    return np.sum(np.real(x))\n", (1.0j,))
    src("angle_real", "def f(x):\n    return np.angle(x)\n", (rand(),))
    src("angle_complex", "def f(x):\n    return np.angle(x)\n", (complex(rand(), rand()),))
    src("abs_real", "def f(x):\n    return np.abs(x)\n", (1.1,))
    src("abs_complex", "def f(x):\n    return np.abs(x)\n", (1.1 + 1.2j,))
    src("falseyness_real", "def f(x):\n    return np.real(x ** 2 if np.iscomplex(x) else "
        "np.sum(x))\n", (2.0,))
    src("falseyness_complex", "def f(x):\n    return np.real(x ** 2 if np.iscomplex(x) else "
        "np.sum(x))\n", (2.0 + 1j,))
    return out


def graphs_cases():
    out = []

    def src(name, body, args, wrt=(0,)):
        out.append(source_case("graphs", name, body, args, wrt=wrt,
                               header="import numpy as np\nfrom s2sgrad import grad"))

    src("grad_fanout", "def f(x):\n    return np.sin(np.sin(x) + np.sin(x))\n", (R(),))
    src("grad_const", "def f(x):\n    return 1.0\n", (2.0,))
    src("grad_identity", "def f(x):\n    return x\n", (2.0,))
    randv = R(10)
    src("hess_vector_prod", "def f(x, randv):\n    return np.sin(np.dot(x, randv))\n",
        (R(10), randv))
    src("mutating_outgrad", "def f(a):\n    b = a + 1.0\n    c = b + 1.5\n    d = a + b\n"
        "    e = d + c\n    return e\n", (R(5),))
    src("mutating_outgrad_from_indexing", "def f(a):\n    b = a + 1.0\n    c = b[0] + 1.5\n"
        "    d = a + b\n    e = d + c\n    return e\n", (R(5),))
    src("complex_mutating_outgrad_from_indexing",
        "def f(a):\n    b = a + 1.0j\n    c = b[0] + 1.5\n    d = a + b\n    e = d + c\n"
        "    return np.sum(np.sin(np.real(e)))\n", (R(5),))
    src("complex_separate_real_and_imaginary",
        "def f(a):\n    r, i = np.real(a), np.imag(a)\n"
        "    a = np.abs(r) ** 1.4 + np.abs(i) ** 1.3\n    return np.sum(np.sin(a))\n",
        (R(5, 3) + 0.1j * R(5, 3),))
    src("third_derivative_other_args", "def f(x, y):\n    return np.sin(np.sin(x) + np.sin(y))\n",
        (R(), R()), wrt=(0, 1))
    for name, ax, kd, shp in (("singleton_array_output", None, True, (3, 3)),
                              ("singleton_array_output_axis0", 0, False, (3, 1)),
                              ("singleton_array_output_axis1", 1, False, (1, 3)),
                              ("singleton_array_output_axis0_keepdims", 0, True, (3, 1)),
                              ("singleton_array_output_axis1_keepdims", 1, True, (1, 3))):
        axs = "" if ax is None else f"axis={ax}, "
        src(name, f"def f(x):\n    return np.sum(np.sin(x), {axs}keepdims={kd})\n", (R(*shp),))
    src("enclosing_scope_ref", "def f(x):\n    inner_fun = lambda y: x * y\n"
        "    return x * grad(inner_fun)(2.0)\n", (1.0,))
    src("enclosing_scope_ref_2", "def f(x):\n    inner_fun = lambda y: y * x\n"
        "    return x * grad(inner_fun)(2.0)\n", (1.0,))
    return out


# ------------------------------------------------------------------ test_binary_ops, test_truediv


def _arg_pairs():
    allargs = [2.0, R(4), R(3, 4), R(1, 4)]
    return list(itertools.product(range(4), range(4))), allargs


def binary_ops_cases():
    out = []
    idx, allargs = _arg_pairs()
    gap = lambda x: np.sqrt(np.asarray(x) ** 2 + 0.5) if np.ndim(x) else float(np.sqrt(x ** 2 + 0.5))
    positive = lambda x: np.abs(x) + 1.1

    def lab(i, j):
        return f"[{_shape_label(allargs[i])},{_shape_label(allargs[j])}]"

    def add(name, expr, a, b, area="binary_ops"):
        out.append(source_case(area, name, f"def f(x, y):\n    return {expr}\n", (a, b),
                               wrt=(0, 1)))

    for i, j in idx:
        a, b = allargs[i], allargs[j]
        add("mul" + lab(i, j), "x * y", a, b)
        add("add" + lab(i, j), "x + y", a, b)
        add("sub" + lab(i, j), "x - y", a, b)
        add("div" + lab(i, j), "x / y", gap(a), gap(b))
        add("truediv" + lab(i, j), "x / y", gap(a), gap(b), area="truediv")
        if i != j:
            add("mod" + lab(i, j), "x % y", gap(a), gap(b))
        add("pow" + lab(i, j), "x ** y", positive(a), b)
        add("arctan2" + lab(i, j), "np.arctan2(x, y)", a, b)
        add("hypot" + lab(i, j), "np.hypot(x, y)", a, b)
        for k, cmp in enumerate(("x < x", "x <= y", "x > y", "x >= y", "x == y", "x != y")):
            out.append(source_case("binary_ops", f"comparison_{k}" + lab(i, j),
                                   f"def f(x, y):\n    return np.sum({cmp}) + 0.0\n", (a, b),
                                   wrt=(0, 1), zero=True))
    return out


def _shape_label(v):
    return "x".join(map(str, np.shape(v))) or "f"


# ------------------------------------------------------------------ test_scalar_ops


def scalar_ops_cases():
    out = []

    def src(name, body, args, wrt=(0,)):
        out.append(source_case("scalar_ops", name, body, args, wrt=wrt))

    three = "def f(x):\n    return 3.0 * np.{}(x)\n"
    for fn, points in (("abs", (1.1, -1.1)), ("absolute", (1.1, -1.1)), ("sign", (1.1, -1.1)),
                       ("sin", (R(),)), ("exp", (R(),)), ("log", (abs(R()),)),
                       ("log2", (abs(R()),)), ("log10", (abs(R()),)), ("log1p", (abs(R()),)),
                       ("expm1", (abs(R()),)), ("exp2", (abs(R()),)), ("cos", (R(),)),
                       ("tan", (R(),)), ("cosh", (R(),)), ("sinh", (R(),)), ("tanh", (R(),)),
                       ("arccos", (0.1,)), ("arcsin", (0.1,)), ("arctan", (0.2,)),
                       ("arccosh", (R() ** 2 + 1.2,)), ("arcsinh", (R(),)),
                       ("arctanh", (0.2,)), ("sqrt", (10.0 * rand(),)),
                       ("rad2deg", (10.0 * rand(),)), ("deg2rad", (10.0 * rand(),)),
                       ("radians", (10.0 * rand(),)), ("degrees", (10.0 * rand(),)),
                       ("sinc", (10.0 * rand(),))):
        for k, p in enumerate(points):
            src(f"{fn}[{k}]", three.format(fn), (p,))
    src("abs_at_0", three.format("abs"), (0.0,), )
    src("neg", "def f(x):\n    return 3.0 * -x\n", (R(),))
    src("power_arg0", "def f(x, y):\n    return np.power(x, y)\n", (rand() ** 2 + 1.0,
                                                                    R() ** 2 + 1.0))
    src("power_arg0_y0", "def f(x, y):\n    return np.power(x, y)\n", (0.0, 0.0))
    src("power_arg1", "def f(y, x):\n    return np.power(x, y)\n", (rand() ** 2, R() ** 2))
    src("power_arg1_zero", "def f(y):\n    return np.power(0.0, y)\n", (rand() ** 2,))
    for fn in ("mod", "divide", "multiply", "true_divide"):
        for k in (0, 1):
            src(f"{fn}_arg{k}", f"def f(x, y):\n    return np.{fn}(x, y)\n", (rand(), rand()),
                wrt=(k,))
    src("reciprocal", "def f(x):\n    return np.reciprocal(x)\n", (rand(),))
    src("negative", "def f(x):\n    return np.negative(x)\n", (rand(),))
    return out


# ------------------------------------------------------------------ containers, logic, builtins


def containers_cases():
    out = []
    A = "containers"
    hdr = "import numpy as np\nfrom s2sgrad import grad"

    def src(name, body, args, wrt=(0,)):
        out.append(source_case(A, name, body, args, wrt=wrt, header=hdr))

    d = {"item_1": R(5, 6), "item_2": R(4, 3), "item_X": R(2, 4)}
    src("dict_getter", "def f(d):\n    A = np.sum(d['item_1'])\n    B = np.sum(d['item_2'])\n"
        "    C = np.sum(d['item_2'])\n    return A + B + C\n", (d,))
    grads = "def g(d):\n    A = np.sum(np.sin(d['item_1']))\n    B = np.sum(np.cos(d['item_2']))\n" \
            "    return A + B\n\n\n"
    src("dict_grads", grads + "def f(d):\n    return g(d)\n", (d,))
    d_fun = "def f(d):\n    gr = grad(g)(d)\n    A = np.sum(gr['item_1'])\n" \
            "    B = np.sum(np.sin(gr['item_1']))\n    C = np.sum(np.sin(gr['item_2']))\n" \
            "    return A + B + C\n"
    src("dict_grads_d_fun", grads + d_fun, (d,))
    it = "def g(d):\n    A = 0.0\n    B = 0.0\n    for i, k in enumerate(sorted(d)):\n" \
         "        A = A + np.sum(np.sin(d[k])) * (i + 1.0)\n        B = B + np.sum(np.cos(d[k]))\n" \
         "    return A + B\n\n\n"
    src("dict_iter", it + "def f(d):\n    return g(d)\n", (d,))
    src("dict_iter_d_fun", it + d_fun, (d,))
    ivk = "def g(d):\n    A = 0.0\n    B = 0.0\n" \
          "    for i, (k, v) in enumerate(sorted(d.items(), key=op.itemgetter(0))):\n" \
          "        A = A + np.sum(np.sin(v)) * (i + 1.0)\n        B = B + np.sum(np.cos(v))\n" \
          "    for v in d.values():\n        A = A + np.sum(np.sin(v))\n" \
          "    for k in sorted(d.keys()):\n        A = A + np.sum(np.cos(d[k]))\n" \
          "    return A + B\n\n\n"
    out.append(source_case(A, "dict_items_values_keys", ivk + "def f(d):\n    return g(d)\n",
                           (d,), header=hdr + "\nimport operator as op"))
    get = "def f(d, x):\n    return d.get('item_1', x) ** 2\n"
    for k, dd in enumerate(({"item_1": 3.0}, {"item_2": 4.0}, {})):
        src(f"dict_get[{k}]", get, (dd, 2.0), wrt=(0, 1))
    src("make_dict", "def f(x):\n    return dict([('a', x)], b=x)\n", (1.0,))
    src("make_dict_2", "def f(x):\n    return dict({'a': x})\n", (1.0,))
    src("dict_isinstance", "def f(x):\n    assert isinstance(x, dict)\n    return x['x']\n",
        ({"x": 1.0},))
    lst = [R(5, 6), R(4, 3), R(2, 4)]
    tup = (R(5, 6), R(4, 3), R(2, 4))
    for kind, val in (("list", lst), ("tuple", tup)):
        src(f"{kind}_getter", "def f(x):\n    A = np.sum(x[0])\n    B = np.sum(x[1])\n"
            "    C = np.sum(x[1])\n    return A + B + C\n", (val,))
        lg = "def g(x):\n    A = np.sum(np.sin(x[0]))\n    B = np.sum(np.cos(x[1]))\n" \
             "    return A + B\n\n\n"
        src(f"{kind}_grads", lg + "def f(x):\n    return g(x)\n", (val,))
        src(f"{kind}_grads_d_fun", lg + "def f(x):\n    gr = grad(g)(x)\n    A = np.sum(gr[0])\n"
            "    B = np.sum(np.sin(gr[0]))\n    C = np.sum(np.sin(gr[1]))\n    return A + B + C\n",
            (val,))
    src("list_slices", "def f(x):\n    s = slice(None, -1, None)\n    y = x[s]\n    return y[0]\n",
        ([1.0, 2.0, 3.0],))
    src("list_slices_2", "def f(x):\n    y = x[1:3]\n    return y[0]\n", ([1.0, 2.0, 3.0],))
    src("nested_list", "def f(x):\n    return x[1:][0]\n", ([[1.0], 2.0, 1.5],))
    src("make_list", "def f(x):\n    return list((x, x))\n", (1.0,))
    src("list_isinstance", "def f(x):\n    assert isinstance(x, list)\n    return x[0]\n",
        ([1.0, 2.0, 3.0],))
    src("tuple_isinstance", "def f(x):\n    assert isinstance(x, tuple)\n    return x[0]\n",
        ((1.0, 2.0, 3.0),))
    nho = "def inner_fun(y):\n    return y[0] * y[1]\n\n\n" \
          "def f(x):\n    return np.sum(np.sin(np.array(grad(inner_fun)((x, x)))))\n"
    src("tuple_nested_higher_order", nho, (5.0,))
    return out


def logic_cases():
    out = []
    out.append(source_case("logic", "assert", "def f(x):\n"
                           "    assert np.allclose(x, (x * 3.0) / 3.0)\n    return np.sum(x)\n",
                           (np.array([1.0, 2.0, 3.0]),)))
    for k, ex in enumerate(([1.0, 2.0], np.zeros(1) + 0.5, (1.0, 2.0))):
        out.append(source_case("builtins", f"isinstance[{k}]", "def f(x):\n"
                               "    if isinstance(x, (tuple, list)):\n"
                               "        return x[0] * 2.0\n"
                               "    return np.sum(x) * 3.0\n", (ex,)))
    out.append(source_case("graphs", "assignment_into_argument",
                           "def f(A, b):\n    A[1] = b\n    return A\n", (R(5), 3.0),
                           wrt=(0, 1)))
    return out


# ------------------------------------------------------------------ test_numpy_interp


def interp_cases():
    """``test_numpy_interp.py``: ``np.interp`` differentiated in the values
    ``fp`` (first and second order: autograd checks ``grad`` of the gradient),
    inside and outside the table (``left=``/``right=``); the query points
    ``x`` and ``period=`` as JAX's interp tests add them."""
    out = []
    A = "interp"
    O2 = ("rev", "fwd", "rr", "fr")
    x = np.arange(-20, 20, 0.1)
    xp = np.arange(10) * 1.0
    yp = xp ** 0.5 + R(10)
    out.append(source_case(A, "interp", "def f(yp, x, xp):\n    return np.interp(x, xp, yp)\n",
                           (yp, x, xp), modes=O2))
    out.append(source_case(A, "interp_edge", "def f(yp, x, xp):\n"
                           "    return np.interp(x, xp, yp, left=-1, right=-1)\n",
                           (yp, x, xp), modes=O2))
    out.append(source_case(A, "interp_sum_of_squares", "def f(yp, x, xp):\n"
                           "    return np.sum(np.interp(x, xp, yp) ** 2)\n", (yp, x, xp),
                           modes=O2 + ("hvp", "rf", "ff")))
    # the query points: off the knots (the derivative is the slope there)
    xq = np.arange(-2.05, 11.0, 0.3)
    out.append(source_case(A, "interp_x", "def f(x, xp, yp):\n    return np.interp(x, xp, yp)\n",
                           (xq, xp, yp), modes=O2))
    out.append(source_case(A, "interp_x_and_fp", "def f(x, yp, xp):\n"
                           "    return np.interp(x, xp, np.sin(yp)) * x\n", (xq, yp, xp),
                           wrt=(0, 1), modes=O2))
    out.append(source_case(A, "interp_scalar_x", "def f(x, xp, yp):\n"
                           "    return np.interp(x, xp, yp)\n", (3.3, xp, yp), wrt=(0, 2),
                           modes=O2))
    out.append(source_case(A, "interp_period", "def f(x, yp):\n"
                           "    xp = np.array([190.0, -190.0, 350.0, -350.0])\n"
                           "    return np.interp(x, xp, yp, period=360)\n",
                           (np.array([-180.5, -170.5, -185.5, -5.5, 10.5, 175.5, 180.5]),
                            np.array([5.0, 10.0, 3.0, 4.0])), wrt=(0, 1), modes=O2))
    out.append(source_case(A, "interp_f32", "def f(yp, x, xp):\n    return np.interp(x, xp, yp)\n",
                           (yp.astype(np.float32), x, xp), rtol=1e-4))
    return out


# ------------------------------------------------------------------ test_jacobian, test_forward,
# test_graphs's higher derivatives


def jacobian_cases():
    import s2sgrad as sg
    out = []
    A = "jacobian"
    hdr = "import numpy as np\nfrom s2sgrad import grad, jacobian"

    def api(name, src, args, check):
        out.append(Case(A, name, hdr + "\n\n\n" + src.strip("\n") + "\n", tuple(args), (0,),
                        modes=("api",), custom=check))

    def against_grad(f, args, mode):
        (a,) = args
        g, J = sg.grad(f)(a), sg.jacobian(f)(a)
        if J.shape != (1, 1) + a.shape:
            return "wrong", f"jacobian shape {J.shape}"
        return _eq(J.reshape(a.shape), g)
    api("jacobian_against_grad", "def f(x):\n    return np.sum(np.sin(x), axis=1, keepdims=True)\n",
        (R(1, 3),), against_grad)

    def scalar_to_vector(f, args, mode):
        (v,) = args
        return _eq(sg.jacobian(f)(v), np.array([1.0, 2 * v, 3 * v ** 2]))
    api("jacobian_scalar_to_vector", "def f(x):\n    return np.array([x, x ** 2, x ** 3])\n",
        (R(),), scalar_to_vector)
    stacked = """
def s1(x):
    return np.sum(x ** 3)


def s2(x):
    return np.prod(np.sin(x) + np.sin(x))


def s3(x):
    return grad(lambda y: np.exp(y) * np.tanh(x[0]))(x[1])


def f(x):
    return np.array([g(x) for g in [s1, s2, s3]])
"""

    def against_stacked(f, args, mode):
        (x,) = args
        ns = f.__globals__
        grads = [sg.grad(ns[n])(x) for n in ("s1", "s2", "s3")]
        # s3's gradient by hand: d/dx0 = exp(x1) (1 - tanh(x0)^2), d/dx1 = exp(x1) tanh(x0)
        want3 = np.zeros_like(x)
        want3[0] = np.exp(x[1]) * (1 - np.tanh(x[0]) ** 2)
        want3[1] = np.exp(x[1]) * np.tanh(x[0])
        r = _eq(grads[2], want3)
        return r if r[0] != "ok" else _eq(sg.jacobian(f)(x), np.vstack(grads))
    api("jacobian_against_stacked_grads", stacked, (R(5),), against_stacked)
    higher = "def f(x):\n    return np.sin(np.outer(x, x)) + np.cos(np.dot(x, x))\n"

    def higher_order(f, args, mode):
        (x,) = args
        J = sg.jacobian(f)(x)
        JJ = sg.jacobian(sg.jacobian(f))(x)
        if J.shape != (2, 2, 2) or JJ.shape != (2, 2, 2, 2):
            return "wrong", f"shapes {J.shape}, {JJ.shape}"
        # each column of the second Jacobian against central differences of the first
        h = 1e-6
        for k in range(2):
            e = np.zeros(2)
            e[k] = h
            fd = (sg.jacobian(f)(x + e) - sg.jacobian(f)(x - e)) / (2 * h)
            r = _eq(JJ[..., k], fd, rtol=1e-6, atol=1e-7)
            if r[0] != "ok":
                return r
        # and in forward / reverse mode alike
        JJr = sg.jacobian(sg.jacobian(f, mode="reverse"), mode="reverse")(x)
        return _eq(JJr, JJ)
    api("jacobian_higher_order", higher, (R(2),), higher_order)
    jsrc = "def fun(x):\n    return np.sin(np.outer(x, x)) + np.cos(np.dot(x, x))\n\n\n"
    out.append(source_case(A, "grad_of_jacobian", jsrc +
                           "def f(x):\n    return np.sum(np.sin(jacobian(fun)(x)))\n", (R(2),),
                           header=hdr, modes=("rev", "fwd", "rr", "fr")))
    out.append(source_case(A, "grad_of_jacobian_of_jacobian", jsrc +
                           "def f(x):\n    return np.sum(np.sin(jacobian(jacobian(fun))(x)))\n",
                           (R(2),), header=hdr))
    out.append(source_case(A, "jacobian_reverse_inside", jsrc +
                           "def f(x):\n    return jacobian(fun, mode='reverse')(x) * x\n", (R(2),),
                           header=hdr))
    return out


def higher_order_cases():
    """test_graphs's gradients of gradients (``hess_vector_prod``'s
    ``vector_product``, third derivatives, ``grad`` of a one-element
    output) and test_forward's forward over forward / reverse over forward /
    forward over reverse, each checked against differences of the
    first-order gradient."""
    import s2sgrad as sg
    out = []
    A = "higher"
    hdr = "import numpy as np\nfrom s2sgrad import grad, jvp"
    ALL2 = ("rev", "fwd", "rr", "fr", "hvp", "rf", "ff")

    def src(name, body, args, wrt=(0,), modes=("rev", "fwd"), **kw):
        out.append(source_case(A, name, body, args, wrt=wrt, header=hdr, modes=modes, **kw))

    fun = "def fun(x, r):\n    return np.sin(np.dot(x, r))\n\n\n"
    src("vector_product", fun + "def f(x, v, r):\n    return np.sin(np.dot(v, grad(fun)(x, r)))\n",
        (R(10), R(10), R(10)), wrt=(0, 1), modes=ALL2)
    g1 = "def g(x):\n    return np.sin(np.sin(x) + np.sin(x))\n\n\n"
    src("grad_fanout_2nd", g1 + "def f(x):\n    return grad(g)(x)\n", (rand(),), modes=ALL2)
    src("third_derivative", g1 + "def f(x):\n    return grad(grad(g))(x)\n", (rand(),),
        modes=ALL2)
    g2 = "def g(x, y):\n    return np.sin(np.sin(x) + np.sin(y))\n\n\n"
    src("third_derivative_other_args", g2 + "def f(x, y):\n    return grad(grad(g, wrt=1))(x, y)\n",
        (R(), R()), wrt=(0, 1), modes=ALL2)
    src("third_derivative_other_args2", g2 +
        "def f(x, y):\n    return grad(grad(g), wrt=1)(x, y)\n", (R(), R()), wrt=(0, 1), modes=ALL2)
    src("fourth_derivative", g1 + "def f(x):\n    return grad(grad(grad(g)))(x)\n", (rand(),))
    for name, ax, kd, shp in (("singleton_array_output", None, True, (3, 3)),
                              ("singleton_array_output_axis0", 0, True, (3, 1)),
                              ("singleton_array_output_axis1", 1, True, (1, 3)),
                              ("singleton_array_output_axis0_nokd", 0, False, (3, 1)),
                              ("singleton_array_output_axis1_nokd", 1, False, (1, 3))):
        axs = "" if ax is None else f"axis={ax}, "
        src(f"grad_of_{name}", f"def fs(x):\n    return np.sum(np.sin(x), {axs}keepdims={kd})\n\n\n"
            "def f(x):\n    return np.sum(grad(fs)(x))\n", (R(*shp),), modes=ALL2)
    src("complex_mutating_outgrad_from_indexing_2nd",
        "def g(a):\n    b = a + 1.0j\n    c = b[0] + 1.5\n    d = a + b\n    e = d + c\n"
        "    return np.sum(np.sin(np.real(e)))\n\n\ndef f(a):\n    return np.sum(grad(g)(a))\n",
        (R(5),), modes=ALL2)
    src("complex_separate_real_and_imaginary_2nd",
        "def g(a):\n    r, i = np.real(a), np.imag(a)\n"
        "    a = np.abs(r) ** 1.4 + np.abs(i) ** 1.3\n    return np.sum(np.sin(a))\n\n\n"
        "def f(a):\n    return np.sum(np.real(grad(g)(a)))\n", (R(5, 3) + 0.1j * R(5, 3),))
    # test_forward: forward over forward, reverse over forward, forward over reverse
    fw = "def f(x, y):\n    return x ** 3 + x * y + y ** 4\n"
    src("fwd", "def f(x, y):\n    return x ** 3 + x * y + y\n", (1.23, 4.56), wrt=(0, 1),
        modes=ALL2)
    src("fwd_fwd", fw, (1.23, 4.56), wrt=(0, 1), modes=ALL2)
    for k in (0, 1):
        src(f"fwd_grad[{k}]", "def g(x, y):\n    return x ** 3 + x * y + y ** 4\n\n\n"
            f"def f(x, y):\n    return jvp(g, wrt={k})((x, y), (1.0,))[1]\n", (1.23, 4.56),
            wrt=(0, 1), modes=ALL2)
        src(f"rev_grad[{k}]", "def g(x, y):\n    return x ** 3 + x * y + y ** 4\n\n\n"
            f"def f(x, y):\n    return grad(g, wrt={k})(x, y)\n", (1.23, 4.56), wrt=(0, 1),
            modes=ALL2)

    def identity2(f, args, mode):
        d, dd = sg.grad(f)(2.0), sg.grad(sg.grad(f))(2.0)
        return ("ok", "") if d == 1.0 and dd == 0.0 else ("wrong", f"grad {d}, grad of grad {dd}")
    out.append(Case(A, "grad_identity_2nd", "import numpy as np\n\n\ndef f(x):\n    return x\n",
                    (), (0,), modes=("api",), custom=identity2))
    return out


# ------------------------------------------------------------------ test_wrappers, test_direct
#
# These test autograd's API functions; each is ported to s2sgrad's
# counterpart (value_and_grad, grad with a tuple wrt, hessian, hvp, jacobian,
# vjp, jvp, has_aux) and compared with what it must equal.


def _api(name, src, args, check, modes=("api",), area="wrappers"):
    return Case(area, name, "import numpy as np\n\n\n" + src.strip("\n") + "\n", tuple(args),
                (0,), modes=modes, custom=check)


def _eq(a, b, rtol=1e-7, atol=1e-9):
    from .harness import same_tree_values
    diff = same_tree_values(a, b, rtol=rtol, atol=atol)
    return ("ok", "") if diff is None else ("wrong", diff)


def wrappers_cases():
    import s2sgrad as sg
    out = []

    def return_both(f, args, mode):
        v, d = sg.value_and_grad(f)(*args)
        if v != f(*args):
            return "wrong", f"value {v} != {f(*args)}"
        return _eq(d, sg.grad(f)(*args))
    out.append(_api("return_both", "def f(x):\n    return 3.0 * x ** 3.2\n", (1.7,), return_both))

    def vg(f, args, mode):
        v, d = sg.value_and_grad(f)(*args)
        r = _eq(v, f(*args))
        if r[0] != "ok":
            return r
        return _eq(d, sg.grad(f)(*args))
    out.append(_api("value_and_grad", "def f(x):\n    return np.sum(np.sin(x) ** 2)\n", (R(5),),
                    vg))
    out.append(source_case("wrappers", "value_and_grad_inside",
                           "def g(x):\n    return np.sum(np.sin(x) ** 2)\n\n\n"
                           "def f(x):\n    return value_and_grad(g)(x)[0]\n", (R(5),),
                           header="import numpy as np\nfrom s2sgrad import value_and_grad"))
    H = R(5, 5)

    def hess(f, args, mode):
        return _eq(sg.hessian(f)(*args), H + H.T)
    out.append(_api("hessian", "def f(x, H):\n    return np.dot(np.dot(x, H), x)\n", (R(5), H),
                    hess))
    cf = "def f(a, b, c, d, e, f=1.1, g=9.0):\n" \
         "    return a + np.sin(b) + np.cosh(c) + np.cos(d) + np.tan(e) + f + g\n"
    vals = (0.5, -0.3, 0.2, -1.1, 0.7)

    def multigrad(f, args, mode):
        got = sg.grad(f, wrt=(3, 1))(*vals, f=0.6, g=-0.1)
        want = (-np.sin(-1.1), np.cos(-0.3))
        return _eq(got, want)
    out.append(_api("multigrad", cf, (), multigrad))

    def value_multigrad(f, args, mode):
        v, got = sg.value_and_grad(f, wrt=(3, 1))(*vals, f=0.6, g=-0.1)
        r = _eq(v, f(*vals, f=0.6, g=-0.1))
        return r if r[0] != "ok" else _eq(got, sg.grad(f, wrt=(3, 1))(*vals, f=0.6, g=-0.1))
    out.append(_api("value_and_multigrad", cf, (), value_multigrad))
    out.append(source_case("wrappers", "multigrad_kwargs", cf, vals + (0.6, -0.1),
                           wrt=(3, 1)))

    def onearg(f, args, mode):
        A, B = args
        got = sg.grad(f, wrt=(0,))(A, B)
        return _eq(got, (np.ones_like(A),))
    out.append(_api("multigrad_onearg", "def f(x, y):\n    return np.sum(x + np.sin(y))\n",
                    (R(3), R(3)), onearg))

    def elementwise(f, args, mode):
        a = args[0]
        out_, pb = sg.vjp(f)(a)
        wrapped = pb(np.ones_like(out_))
        explicit = np.array([sg.grad(f)(float(ai)) for ai in a])
        return _eq(wrapped, explicit)
    out.append(_api("elementwise_grad_by_vjp",
                    "def f(a):\n    return a + np.sin(a) + np.cosh(a)\n", (R(10),), elementwise))
    sumsin = "def f(a):\n    return np.sum(np.sin(a))\n"

    def hvp_check(f, args, mode):
        a, v = args
        Hm = sg.hessian(f)(a)
        got = sg.hvp(f)((a,), v)
        return _eq(got, np.tensordot(Hm, v, axes=np.ndim(v)))
    for shp in ((5,), (5, 4), (5, 4, 3)):
        out.append(_api(f"hessian_tensor_product{shp}", sumsin, (R(*shp), R(*shp)), hvp_check))
    roll = "def f(a):\n    return np.roll(np.sin(a), 1)\n"

    def tjp(f, args, mode):
        a, V = args
        J = sg.jacobian(f)(a)
        o, pb = sg.vjp(f)(a)
        return _eq(pb(V), np.tensordot(V, J, axes=np.ndim(V)))
    for shp, vshp in (((5,), (5,)), ((5, 4), (5, 4)), ((5, 4, 3), (5, 4, 3))):
        out.append(_api(f"tensor_jacobian_product{shp}", roll, (R(*shp), R(*vshp)), tjp))

    def partial_check(f, args, mode):
        import functools
        return _eq(sg.grad(functools.partial(f, y=1))(2.0), 1.0)
    out.append(_api("partial", "def f(x, y):\n    return x\n", (), partial_check))

    def dtypes(f, args, mode):
        for dt in (np.float32, np.float16, np.longdouble):
            y = R(10, 10).astype(dt)
            g = sg.grad(f)(y)
            if g.dtype != y.dtype:
                return "wrong", f"gradient of a {np.dtype(dt)} argument is {g.dtype}"
            if not np.allclose(np.asarray(g, dtype=np.float64), 2 * y.astype(np.float64),
                               rtol=1e-2):
                return "wrong", f"gradient of a {np.dtype(dt)} argument: wrong values"
        y = (R(10, 10) + 1j * R(10, 10)).astype(np.clongdouble)
        g = sg.grad(f)(y)
        if g.dtype != y.dtype:
            return "wrong", f"gradient of a clongdouble argument is {g.dtype}"
        return _eq(np.asarray(g, np.complex128), 2 * np.asarray(y, np.complex128), rtol=1e-6)
    out.append(_api("dtypes", "def f(x):\n    return np.real(np.sum(x ** 2))\n", (), dtypes))
    A35 = R(3, 5)

    def make_jvp(f, args, mode):
        x, v, A = args
        J = sg.jacobian(f)(x, A)
        o, d = sg.jvp(f)((x, A), (v,))
        r = _eq(o, f(x, A))
        return r if r[0] != "ok" else _eq(d, J @ v)
    out.append(_api("make_jvp", "def f(x, A):\n    return np.tanh(np.dot(A, x))\n",
                    (R(5), R(5), A35), make_jvp))
    A54 = R(5, 4)

    def aux(f, args, mode):
        x, A = args
        g, a = sg.grad(f, has_aux=True)(x, A)
        r = _eq(a, x ** 2)
        return r if r[0] != "ok" else _eq(g, np.sum(A, axis=0))
    out.append(_api("grad_and_aux", "def f(x, A):\n    return np.sum(np.dot(A, x)), x ** 2\n",
                    (R(4), A54), aux))

    def elementwise_multi(f, args, mode):
        a, b = args
        out_, pb = sg.vjp(f, wrt=1)(a, b)
        wrapped = pb(np.ones_like(out_))
        explicit = np.array([sg.grad(f, wrt=1)(a, float(bi)) for bi in b])
        return _eq(wrapped, explicit)
    out.append(_api("elementwise_grad_multiple_args",
                    "def f(a, b):\n    return a + np.sin(a) + np.cosh(b)\n", (0.9, R(10)),
                    elementwise_multi))
    ck = """
import s2sgrad


def bar(x, y):
    return 2 * x + y + 5


@s2sgrad.checkpoint
def cbar(x, y):
    return 2 * x + y + 5


def baz(*args):
    return sum(args)


@s2sgrad.checkpoint
def cbaz(*args):
    return sum(args)


def foo(x):
    return bar(x, x / 3.0) + bar(x, x ** 2)


def f(x):
    return cbar(x, x / 3.0) + cbar(x, x ** 2)


def foobaz(x):
    return baz(x, x / 3.0)


def foobaz2(x):
    return cbaz(x, x / 3.0)
"""

    def checkpoint_correctness(f, args, mode):
        ns = f.__globals__
        for plain, ckd in (("foo", "f"), ("foobaz", "foobaz2")):
            r = _eq(ns[ckd](3.0), ns[plain](3.0))
            if r[0] == "ok":
                r = _eq(sg.grad(ns[ckd])(3.0), sg.grad(ns[plain])(3.0))
            if r[0] == "ok":
                r = _eq(sg.grad(ns[ckd])(3.0), 4.0 + 1.0 / 3.0 + 2 * 3.0 if plain == "foo"
                        else 1.0 + 1.0 / 3.0)
            if r[0] != "ok":
                return r
        return "ok", ""
    out.append(_api("checkpoint_correctness", ck, (), checkpoint_correctness))
    out.append(source_case("wrappers", "checkpoint_in_grad", ck, (1.7,)))

    fun = "def f(x):\n    return (x + np.sin(x ** 2)) * x\n"
    out.append(_api("grad", fun, (1.3,), lambda f, a, m: ("ok", "") if abs(
        sg.grad(f)(1.3) - 3.190948746871) < 1e-6 else ("wrong", str(sg.grad(f)(1.3))),
        area="direct"))
    out.append(_api("deriv", fun, (1.3,), lambda f, a, m: ("ok", "") if abs(
        sg.jvp(f)((1.3,), (1.0,))[1] - 3.190948746871) < 1e-6 else ("wrong", "jvp"),
        area="direct"))

    def holo(f, args, mode):
        g = sg.grad(f)(1.0 + 0.0j)
        return _eq(g, 1.0 + 0.2j)
    out.append(_api("holomorphic_grad", "def f(x):\n    return x * (1.0 + 0.2j)\n", (), holo,
                    area="direct"))

    def pow0(f, args, mode):
        g = sg.grad(f)(0.0, 0.0)
        gg = sg.grad(sg.grad(f))(0.0, 0.0)
        if g != 0.0 or gg != 0.0:
            return "wrong", f"grad {g}, grad of grad {gg} (both must be 0)"
        return "ok", ""
    out.append(_api("power_y0_at_0", "def f(x, y):\n    return np.power(x, y)\n", (), pow0,
                    area="scalar_ops"))

    def nograd(f, args, mode):
        try:
            sg.grad(f)(np.array([1.0, 2.0, 3.0]))
        except (s2sgrad_errors(), TypeError):
            return "ok", ""
        return "wrong", "grad of a function returning a bool did not raise"
    out.append(_api("nograd", "def f(x):\n    return np.allclose(x, (x * 3.0) / 3.0)\n", (),
                    nograd, area="logic"))
    return out


def s2sgrad_errors():
    import s2sgrad
    return s2sgrad.S2SGradError
