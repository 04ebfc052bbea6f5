"""Port cases the earlier ports did not cover (ports10), by upstream file.

* JAX ``tests/lax_numpy_test.py`` (the gradient tests over the jnp function
  table): ``ediff1d`` with ``to_begin``/``to_end``, ``diff`` with ``n``,
  ``prepend``/``append``, ``trapezoid`` with ``x``/``dx``/``axis``,
  ``convolve``/``correlate`` in every mode (real and complex, the second
  operand longer), ``polyval``/``polymul``/``polyder``/``polyint``,
  ``interp`` with ``left``/``right``/``period``, ``kron``, ``outer`` of
  matrices, ``cross`` with ``axisa``/``axisb``/``axisc`` and 2-vectors,
  ``roll``/``rot90``/``flip``/``tile``/``repeat`` variants, every ``pad``
  mode, ``einsum``/``tensordot`` spellings, ``linalg.norm`` in every ``ord``,
  ``average``/``cov``/``corrcoef`` with weights, ``vander``, ``trace`` with
  offsets, cumulative ops (``nancumsum``, ``cumulative_sum``), sort /
  ``partition`` / ``take_along_axis``, ``unwrap``, ``split`` variants;
* JAX ``tests/lax_autodiff_test.py`` (its NumPy-spelled ops):
  ``clip``/``maximum`` with broadcasting, ``pow`` of a negative base with an
  integer exponent, ``atan2`` in every quadrant, ``rem``/``fmod``,
  ``reduce_window``-like sums written with slicing, ``select``;
* JAX ``tests/scipy_stats_test.py``: logpdf/cdf/sf/ppf gradients in the
  data and the parameters (norm, t, cauchy, logistic, laplace, expon,
  gamma, beta, chi2, poisson, geom, bernoulli, binom, nbinom,
  multivariate_normal in mean and cov, dirichlet, pareto, truncnorm,
  vonmises, gennorm);
* PyTorch OpInfo samples (``common_methods_invocations.py``) for the
  binary elementwise ops: broadcasting pairs ``((S, S), (S,))``,
  ``((S, 1), (1, S))``, 0-d with 1-d, a Python scalar on either side,
  float32 operands; and ``test/test_linalg.py``'s gradient cases
  (``matrix_power`` with n = 0, 1, -2 batched, ``multi_dot`` with 1-d ends,
  ``vecdot``, ``cond``, ``svdvals``, ``eigvalsh`` with ``UPLO``,
  ``tensorinv``/``tensorsolve``, ``pinv(hermitian=True)``,
  ``lstsq``, ``solve`` with a broadcast right-hand side);
* Julia ChainRules.jl (Base: arraymath, mapreduce, fastmath;
  LinearAlgebra: dense, structured, factorization, norm) and Zygote
  ``test/gradcheck.jl``, translated to NumPy: ``sum(abs2, x)``,
  ``sincos``, 3-argument ``hypot``, ``exp10``, ``log(b, x)``, ``sinpi``,
  ``muladd``, ``A / B``, ``A \\ B``, ``logabsdet``, ``tr``, ``normalize``,
  ``norm(x, p)`` in p, ``Diagonal``/``Symmetric``/``UpperTriangular``
  spellings, ``lu``/``qr``/``svd``/``eigen``/``cholesky`` factors,
  Sylvester/Lyapunov solves, ``circshift``, ``permutedims``, ``hcat``/
  ``vcat``, ``prod`` over dims, ``cumsum`` over dims, ``maximum`` over
  dims, ``logsumexp`` over dims, ``mean``/``var``/``std`` over dims.

The facts (which functions, which points, which keyword arguments) are the
upstream tests'; the code is ours.
"""
from __future__ import annotations

import numpy as np

from .harness import source_case

RNG = np.random.default_rng(20261205)

NP = "import numpy as np"
SCIPY = "import numpy as np\nimport scipy.special\nimport scipy.stats\nimport scipy.linalg"


def R(*shape):
    return RNG.standard_normal(shape)


def U(lo, hi, *shape):
    return RNG.uniform(lo, hi, shape)


def C(*shape):
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


def Dist(*shape):
    """Distinct values, a few tenths apart (no ties: sort, max are smooth)."""
    n = int(np.prod(shape))
    return ((RNG.permutation(n) * 0.37 + RNG.uniform(0, 0.1, n)).reshape(shape) - 0.15 * n) * 0.5


def Away(*shape):
    return U(0.3, 2.0, *shape) * np.where(RNG.random(shape) < 0.5, -1.0, 1.0)


def spd(n, batch=()):
    a = R(*batch, n, n)
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def well(n, batch=()):
    return R(*batch, n, n) + 3.0 * np.eye(n)


class _Area:
    def __init__(self, area, header=NP):
        self.area, self.header, self.out = area, header, []

    def __call__(self, name, src, args, wrt=(0,), header=None, **kw):
        if not src.lstrip().startswith(("def ", "import", "from")):
            # a one-expression body over the parameters a, b, c, ...
            params = ", ".join("abcdefgh"[:len(args)])
            src = f"def f({params}):\n    return {src}\n"
        self.out.append(source_case(self.area, name, src, args, wrt,
                                    header=header or self.header, **kw))


# ------------------------------------------------------------------ JAX lax_numpy_test


def laxnumpy_cases():
    s = _Area("jax-laxnp")
    x5, x6, m = R(5), R(6), R(4, 3)
    # ediff1d / diff
    s("ediff1d", "np.ediff1d(a)", (x5,))
    s("ediff1d_begin_end", "np.ediff1d(a, to_begin=b, to_end=np.array([1.0, -2.0]))",
      (x5, 0.7), wrt=(0, 1))
    s("ediff1d_2d", "np.ediff1d(a, to_end=a[0])", (m,))
    s("ediff1d_begin_array", "np.ediff1d(a, to_begin=b)", (x5, R(2)), wrt=(0, 1))
    s("diff_n2", "np.diff(a, n=2)", (x6,))
    s("diff_n3_axis0", "np.diff(a, n=2, axis=0)", (R(5, 3),))
    s("diff_prepend_append", "np.diff(a, prepend=b, append=c)", (x5, R(1), R(2)),
      wrt=(0, 1, 2))
    s("diff_prepend_scalar", "np.diff(a, prepend=0.5)", (x5,))
    s("diff_axis_prepend_2d", "np.diff(a, axis=1, prepend=b)", (m, R(4, 1)), wrt=(0, 1))
    s("diff_n0", "np.diff(a, n=0) * a", (x5,))
    # trapezoid
    s("trapezoid", "np.trapezoid(a)", (x5,))
    s("trapezoid_x", "np.trapezoid(a, b)", (x5, np.cumsum(U(0.2, 1, 5))), wrt=(0, 1))
    s("trapezoid_dx", "np.trapezoid(a, dx=0.3, axis=0)", (m,))
    s("trapezoid_2d_x_axis", "np.trapezoid(a, x=b, axis=0)", (m, np.cumsum(U(0.2, 1, 4))),
      wrt=(0, 1))
    s("trapezoid_x_2d", "np.trapezoid(a, x=b, axis=-1)", (m, np.cumsum(U(0.2, 1, 4, 3), 1)),
      wrt=(0, 1))
    # convolve / correlate in every mode
    a5, v3, v7 = R(5), R(3), R(7)
    for mode in ("full", "same", "valid"):
        s(f"convolve_{mode}", f"np.convolve(a, b, mode='{mode}')", (a5, v3), wrt=(0, 1))
        s(f"convolve_{mode}_longer_v", f"np.convolve(a, b, mode='{mode}')", (a5, v7),
          wrt=(0, 1))
        s(f"correlate_{mode}", f"np.correlate(a, b, mode='{mode}')", (a5, v3), wrt=(0, 1))
        s(f"correlate_{mode}_longer_v", f"np.correlate(a, b, mode='{mode}')", (a5, v7),
          wrt=(0, 1))
        s(f"correlate_{mode}_complex", f"np.correlate(a, b, mode='{mode}')", (C(5), C(3)),
          wrt=(0, 1))
        s(f"convolve_{mode}_complex", f"np.convolve(a, b, mode='{mode}')", (C(4), C(3)),
          wrt=(0, 1))
    s("correlate_mixed_real_complex", "np.correlate(a, b, mode='same')", (R(5), C(3)), wrt=(0, 1))
    s("correlate_mixed_complex_real", "np.correlate(a, b, mode='full')", (C(3), R(5)), wrt=(0, 1))
    s("convolve_mixed_real_complex", "np.convolve(a, b, mode='valid')", (C(5), R(3)), wrt=(0, 1))
    s("convolve_complex_longer_v_same", "np.convolve(a, b, mode='same')", (C(3), C(6)), wrt=(0, 1))
    s("correlate_complex_longer_v_same", "np.correlate(a, b, mode='same')", (C(3), C(6)),
      wrt=(0, 1))
    s("correlate_complex_abs2", "np.sum(np.abs(np.correlate(a, a, mode='full')) ** 2)", (C(4),))
    s("convolve_same_even", "np.convolve(a, b, mode='same')", (R(6), R(4)), wrt=(0, 1))
    s("correlate_same_even", "np.correlate(a, b, mode='same')", (R(6), R(4)), wrt=(0, 1))
    s("convolve_self", "np.convolve(a, a)", (a5,))
    s("convolve_len1", "np.convolve(a, b)", (a5, R(1)), wrt=(0, 1))
    # polynomials
    s("polyval", "np.polyval(a, b)", (R(4), R(6)), wrt=(0, 1))
    s("polyval_scalar_x", "np.polyval(a, b)", (R(3), 0.7), wrt=(0, 1))
    s("polyval_2d_x", "np.polyval(a, b)", (R(3), R(2, 3)), wrt=(0, 1))
    s("polymul", "np.polymul(a, b)", (R(3), R(4)), wrt=(0, 1))
    s("polyadd_unequal", "np.polyadd(a, b)", (R(2), R(4)), wrt=(0, 1))
    s("polysub", "np.polysub(a, b)", (R(4), R(2)), wrt=(0, 1))
    s("polyder", "np.polyder(a, 2)", (R(5),))
    s("polyint", "np.polyint(a, k=0.5)", (R(4),))
    s("polydiv_quotient", "def f(a, b):\n    q, r = np.polydiv(a, b)\n    return q, r\n",
      (R(5), np.array([1.3, 0.4, -0.2])), wrt=(0, 1))
    s("polyfit", "np.polyfit(np.linspace(0, 1, 6), a, 2)", (R(6),))
    # interp
    xp = np.cumsum(U(0.2, 1, 6))
    xq = np.array([xp[0] - 0.5, xp[1] + 0.1, xp[3] - 0.05, xp[5] + 1.0, (xp[2] + xp[3]) / 2])
    s("interp_left_right", "np.interp(a, b, c, left=-1.0, right=2.0)", (xq, xp, R(6)),
      wrt=(0, 2))
    s("interp_outside", "np.interp(a, b, c)", (xq, xp, R(6)), wrt=(0, 2))
    s("interp_period", "np.interp(a, b, c, period=4.0)", (U(-5, 5, 5), np.array([0.3, 1.1, 2.0, 3.5]),
                                                        R(4)), wrt=(0, 2))
    s("interp_xp_diff", "np.interp(a, b, c)", (np.array([0.5, 1.7, 2.2]),
                                               np.array([0.0, 1.0, 2.0, 3.0]), R(4)),
      wrt=(0, 1, 2))
    # kron / outer / cross
    s("kron_1d_2d", "np.kron(a, b)", (R(3), R(2, 2)), wrt=(0, 1))
    s("kron_3d", "np.kron(a, b)", (R(2, 1, 2), R(2, 2)), wrt=(0, 1))
    s("kron_scalar", "np.kron(a, b)", (R(3), 1.5), wrt=(0, 1))
    s("outer_2d", "np.outer(a, b)", (m, R(2, 2)), wrt=(0, 1))
    s("cross_2vec", "np.cross(a, b)", (R(4, 2), R(4, 2)), wrt=(0, 1))
    s("cross_2_3", "np.cross(a, b)", (R(4, 2), R(4, 3)), wrt=(0, 1))
    s("cross_axes", "np.cross(a, b, axisa=0, axisb=1, axisc=0)", (R(3, 4), R(4, 3)), wrt=(0, 1))
    s("cross_axis", "np.cross(a, b, axis=0)", (R(3, 2), R(3, 2)), wrt=(0, 1))
    s("cross_broadcast", "np.cross(a, b)", (R(3), R(5, 3)), wrt=(0, 1))
    s("cross_self", "np.sum(np.cross(a, a[::-1]) ** 2)", (R(3),))
    # roll / rot90 / flip / tile / repeat
    s("roll_tuple", "np.roll(a, (1, -2), axis=(0, 1))", (m,))
    s("roll_none", "np.roll(a, 5)", (m,))
    s("roll_big_neg", "np.roll(a, -13, axis=1)", (m,))
    s("roll_same_axis_twice", "np.roll(a, (1, 2), axis=(0, 0))", (m,))
    for k in (-1, 2, 3, 5):
        s(f"rot90_k{k}", f"np.rot90(a, {k})", (m,))
    s("rot90_axes", "np.rot90(a, 1, axes=(1, 0))", (m,))
    s("rot90_3d", "np.rot90(a, -1, axes=(0, 2))", (R(2, 3, 4),))
    s("flip_none", "np.flip(a)", (R(2, 3, 2),))
    s("flip_tuple", "np.flip(a, axis=(0, 2))", (R(2, 3, 2),))
    s("fliplr_flipud", "np.fliplr(a) * np.flipud(a)", (R(3, 3),))
    s("tile_long_reps", "np.tile(a, (2, 1, 3))", (R(2, 2),))
    s("tile_int", "np.tile(a, 3)", (m,))
    s("tile_short_reps", "np.tile(a, 2)", (R(2, 3, 2),))
    s("repeat_array", "np.repeat(a, [1, 0, 3], axis=1)", (m,))
    s("repeat_none", "np.repeat(a, 2)", (m,))
    s("repeat_axis0", "np.repeat(a, [2, 1, 1, 3], axis=0)", (m,))
    # pad, every mode
    s("pad_constant_values", "np.pad(a, ((1, 2), (0, 1)), constant_values=((0.5, -1.0), (2.0, 3.0)))",
      (m,))
    s("pad_constant_diff_value", "np.pad(a, 2, constant_values=b)", (x5, 0.3), wrt=(0, 1))
    for mode in ("edge", "reflect", "symmetric", "wrap"):
        s(f"pad_{mode}", f"np.pad(a, ((2, 3), (1, 2)), mode='{mode}')", (m,))
        s(f"pad_{mode}_big", f"np.pad(a, (7, 6), mode='{mode}')", (R(3),))
    s("pad_reflect_odd", "np.pad(a, (2, 3), mode='reflect', reflect_type='odd')", (x5,))
    s("pad_symmetric_odd", "np.pad(a, (2, 3), mode='symmetric', reflect_type='odd')", (x5,))
    s("pad_linear_ramp", "np.pad(a, ((2, 1), (1, 3)), mode='linear_ramp', end_values=((1.0, -1.0), (0.5, 2.0)))",
      (m,))
    s("pad_linear_ramp_0", "np.pad(a, 3, mode='linear_ramp')", (x5,))
    s("pad_maximum", "np.pad(a, (2, 1), mode='maximum')", (Dist(5),))
    s("pad_minimum_len", "np.pad(a, (2, 1), mode='minimum', stat_length=2)", (Dist(5),))
    s("pad_mean", "np.pad(a, ((1, 2), (2, 0)), mode='mean')", (m,))
    s("pad_mean_len", "np.pad(a, (3, 2), mode='mean', stat_length=(2, 3))", (x5,))
    s("pad_median", "np.pad(a, (2, 2), mode='median')", (Dist(5),))
    s("pad_empty_mode_width0", "np.pad(a, ((0, 0), (0, 0)), mode='reflect')", (m,))
    # reductions with where= / initial=
    mask = np.array([[True, False, True], [True, True, False], [False, True, True],
                     [True, False, False]])
    ms = repr(mask.tolist())
    s("sum_initial", "np.sum(a, axis=0, initial=2.5)", (m,))
    s("max_initial_above", "np.max(a, axis=1, initial=0.0)", (Dist(4, 3),))
    s("min_initial_where", f"np.min(a, axis=1, initial=5.0, where=np.array({ms}))", (Dist(4, 3),))
    s("max_where_initial_all", f"np.max(a, initial=-10.0, where=np.array({ms}))", (Dist(4, 3),))
    s("prod_where", f"np.prod(a, axis=0, where=np.array({ms}))", (m,))
    s("mean_where_keepdims", f"np.mean(a, axis=1, keepdims=True, where=np.array({ms}))", (m,))
    s("var_where", f"np.var(a, axis=1, where=np.array({ms}))", (R(4, 3),))
    s("std_where_ddof", f"np.std(a, axis=0, ddof=1, where=np.array({ms}))", (R(4, 3),))
    s("amax_amin", "np.amax(a, axis=0) - np.amin(a, axis=1)[:, None]", (Dist(4, 3),))
    s("ptp_axis", "np.ptp(a, axis=1)", (Dist(4, 3),))
    s("nanmax_axis", "np.nanmax(np.where(a > 1.5, np.nan, a), axis=0)", (Dist(4, 3),))
    s("nanargmax_take", "a[np.nanargmax(a)] * a", (Dist(5),))
    s("sum_dtype_where", f"np.sum(a, where=np.array({ms}), dtype=np.float64)", (m,))
    # cumulative
    s("cumsum_none_2d", "np.cumsum(a)", (m,))
    s("cumprod_axis0", "np.cumprod(a, axis=0)", (U(0.5, 1.5, 4, 3),))
    s("nancumsum", "np.nancumsum(np.where(a > 0.8, np.nan, a), axis=1)", (Dist(4, 3),))
    s("nancumprod", "np.nancumprod(np.where(a > 0.8, np.nan, a))", (Dist(5),))
    s("cumulative_sum_initial", "np.cumulative_sum(a, axis=1, include_initial=True)", (m,))
    s("cumulative_prod", "np.cumulative_prod(a, axis=0)", (U(0.5, 1.5, 4, 3),))
    s("cumsum_reverse", "np.cumsum(a[::-1])[::-1]", (x5,))
    s("add_accumulate", "np.add.accumulate(a, axis=1)", (m,))
    s("multiply_accumulate", "np.multiply.accumulate(a)", (U(0.5, 1.5, 5),))
    s("maximum_accumulate", "np.maximum.accumulate(a)", (Dist(6),))
    # sort family
    s("sort_none", "np.sort(a, axis=None)", (Dist(3, 4),))
    s("sort_axis0", "np.sort(a, axis=0)", (Dist(3, 4),))
    s("sort_descending", "-np.sort(-a, axis=-1)", (Dist(3, 4),))
    s("sort_stable", "np.sort(a, kind='stable')", (Dist(6),))
    s("argsort_take_along", "np.take_along_axis(a, np.argsort(a, axis=0), axis=0)", (Dist(3, 4),))
    s("argsort_take_along_none", "np.take_along_axis(a.ravel(), np.argsort(a, axis=None), axis=None)",
      (Dist(3, 4),))
    s("take_along_axis_other", "np.take_along_axis(b, np.argsort(a, axis=1), axis=1)",
      (Dist(3, 4), R(3, 4)), wrt=(1,))
    s("take_along_axis_broadcast_idx", "np.take_along_axis(a, np.array([[0], [2], [1]]), axis=1)",
      (R(3, 4),))
    s("partition_kth", "np.partition(a, 2)[2]", (Dist(6),))
    s("argpartition_take", "a[np.argpartition(a, 3)[:3]].sum()", (Dist(7),))
    s("sort_complex_real", "np.sort(a)[::2]", (Dist(7),))
    s("median_even_axis", "np.median(a, axis=1)", (Dist(3, 4),))
    s("quantile_methods", "np.quantile(a, [0.1, 0.5, 0.9], method='linear')", (Dist(7),))
    s("percentile_nearest", "np.percentile(a, 40.0, method='nearest')", (Dist(7),))
    s("quantile_midpoint", "np.quantile(a, 0.3, axis=0, method='midpoint')", (Dist(5, 2),))
    s("quantile_q_diff", "np.quantile(a, b)", (Dist(7), np.array(0.37)), wrt=(0, 1))
    # einsum / tensordot / products
    sq = R(3, 3)
    for spec, args in (("ii", (sq,)), ("ii->i", (sq,)), ("ij->", (m,)), ("ji", (m,)),
                       ("i,i", (x5, R(5))), ("i,j->ij", (R(3), R(2))),
                       ("...ij,...jk->...ik", (R(2, 2, 3), R(2, 3, 2))),
                       ("bij,bjk->bik", (R(2, 2, 3), R(2, 3, 2))),
                       ("ij,jk,kl->il", (R(2, 3), R(3, 4), R(4, 2))),
                       ("ij,ij->i", (m, R(4, 3))), ("i,i->", (x5, x5)),
                       ("iij->j", (R(3, 3, 2),)), ("ij...,j->i...", (R(2, 3, 2), R(3)))):
        names = ", ".join("abcdefgh"[:len(args)])
        s(f"einsum[{spec}]", f"np.einsum('{spec}', {names})", args, wrt=tuple(range(len(args))))
    s("einsum_optimize", "np.einsum('ij,jk,kl->il', a, b, c, optimize=True)",
      (R(2, 3), R(3, 4), R(4, 2)), wrt=(0, 1, 2))
    s("einsum_same_operand", "np.einsum('ij,jk->ik', a, a)", (sq,))
    s("einsum_sublist", "np.einsum(a, [0, 1], b, [1, 2], [0, 2])", (m, R(3, 2)), wrt=(0, 1))
    s("tensordot_axes0", "np.tensordot(a, b, axes=0)", (R(2, 3), R(2)), wrt=(0, 1))
    s("tensordot_axes2", "np.tensordot(a, b, axes=2)", (R(2, 3, 4), R(3, 4, 2)), wrt=(0, 1))
    s("tensordot_pairs", "np.tensordot(a, b, axes=([1, 0], [0, 1]))", (R(2, 3, 2), R(3, 2, 4)),
      wrt=(0, 1))
    s("tensordot_int1", "np.tensordot(a, b, 1)", (m, R(3)), wrt=(0, 1))
    s("inner_2d", "np.inner(a, b)", (m, R(2, 3)), wrt=(0, 1))
    s("vdot_complex", "np.vdot(a, b)", (C(2, 2), C(2, 2)), wrt=(0, 1))
    s("dot_scalar", "np.dot(a, b)", (m, 2.5), wrt=(0, 1))
    s("matmul_1d_2d", "np.matmul(a, b) + b.T @ a", (R(4), m), wrt=(0, 1))
    s("matmul_broadcast_batch", "a @ b", (R(2, 1, 2, 3), R(3, 3, 2)), wrt=(0, 1))
    s("vecdot", "np.vecdot(a, b)", (m, R(3)), wrt=(0, 1))
    s("matvec", "np.matvec(a, b)", (m, R(2, 3)), wrt=(0, 1))
    s("vecmat", "np.vecmat(a, b)", (R(4), m), wrt=(0, 1))
    # linalg.norm, every ord
    v = Away(5)
    for o in ("0.5", "3", "-1", "-2", "np.inf", "-np.inf", "1", "2", "None"):
        s(f"norm_vec_ord[{o}]", f"np.linalg.norm(a, ord={o})", (v,))
    b2 = well(3, (2,))
    for o in ("1", "-1", "np.inf", "-np.inf", "2", "-2", "'fro'", "'nuc'"):
        s(f"norm_mat_ord[{o}]", f"np.linalg.norm(a, ord={o}, axis=(1, 2))", (b2,))
        s(f"norm_mat_ord_keep[{o}]", f"np.linalg.norm(a, ord={o}, axis=(2, 1), keepdims=True)",
          (b2,))
    s("norm_vec_axis0_ord3", "np.linalg.norm(a, ord=3, axis=0)", (Away(4, 3),))
    s("norm_complex_vec", "np.linalg.norm(a, ord=3)", (C(4),))
    s("norm_complex_fro", "np.linalg.norm(a)", (C(3, 2),))
    s("vector_norm_axis_tuple", "np.linalg.vector_norm(a, ord=4, axis=(0, 2))", (Away(2, 3, 2),))
    s("matrix_norm_nuc", "np.linalg.matrix_norm(a, ord='nuc')", (well(3),))
    # statistics with weights
    s("average_weights", "np.average(a, axis=1, weights=b)", (m, U(0.5, 2, 3)), wrt=(0, 1))
    s("average_returned", "def f(a, w):\n    avg, sw = np.average(a, weights=w, returned=True)\n"
      "    return avg * sw\n", (m, U(0.5, 2, 4, 3)), wrt=(0, 1))
    s("average_keepdims", "np.average(a, axis=0, weights=b, keepdims=True)", (m, U(0.5, 2, 4)),
      wrt=(0, 1))
    s("cov_rowvar", "np.cov(a, rowvar=False)", (R(6, 3),))
    s("cov_aweights", "np.cov(a, aweights=b)", (R(3, 6), U(0.5, 2, 6)), wrt=(0, 1))
    s("cov_fweights_ddof", "np.cov(a, fweights=np.array([1, 2, 1, 3, 1, 2]), ddof=0)",
      (R(3, 6),))
    s("cov_bias_two", "np.cov(a, b, bias=True)", (R(6), R(6)), wrt=(0, 1))
    s("corrcoef_two", "np.corrcoef(a, b)", (R(2, 6), R(6)), wrt=(0, 1))
    s("vander_increasing", "np.vander(a, 4, increasing=True)", (R(3),))
    s("vander_default", "np.vander(a)", (R(4),))
    s("trace_offset", "np.trace(a, offset=1, axis1=0, axis2=2)", (R(3, 2, 4),))
    s("trace_neg_offset", "np.trace(a, -1)", (R(4, 4),))
    s("diagonal_offset_axes", "np.diagonal(a, offset=-1, axis1=2, axis2=0)", (R(3, 2, 4),))
    s("diag_k", "np.diag(a, k=-2)", (R(3),))
    s("diag_extract_k", "np.diag(a, 1)", (R(3, 4),))
    s("diagflat_k", "np.diagflat(a, 1)", (R(2, 2),))
    s("triu_tril_k", "np.triu(a, -1) + np.tril(a, 1) ** 2", (R(4, 3),))
    s("triu_3d", "np.triu(a, 1)", (R(2, 3, 3),))
    # misc elementwise
    s("unwrap", "np.unwrap(a)", (np.cumsum(U(0.5, 2.5, 8)),))
    s("unwrap_period", "np.unwrap(a, period=4.0, axis=0)", (np.cumsum(U(0.5, 1.5, 6, 2), 0),))
    s("sinc", "np.sinc(a)", (R(5),))
    s("i0", "np.i0(a)", (R(5),))
    s("nan_to_num", "np.nan_to_num(a / b, nan=0.5, posinf=1.0)", (R(4), U(0.5, 1, 4)), wrt=(0, 1))
    s("copysign", "np.copysign(a, b)", (Away(5), Away(5)), wrt=(0, 1))
    s("ldexp", "np.ldexp(a, np.array([1, -2, 0, 3, 2]))", (R(5),))
    s("frexp_mantissa", "np.frexp(a)[0]", (Away(5) * 3,))
    s("modf", "np.modf(a)[0] + np.modf(a)[1]", (U(0.1, 0.9, 5) + np.arange(5) - 2,))
    s("float_power", "np.float_power(a, b)", (U(0.5, 2, 4), R(4)), wrt=(0, 1))
    s("fmod_neg", "np.fmod(a, 1.5)", (np.array([-2.2, -0.7, 0.4, 2.9]),))
    s("remainder_neg", "np.remainder(a, b)", (np.array([-2.2, -0.7, 0.4, 2.9]),
                                               np.array([1.5, -1.3, 1.1, -0.9])), wrt=(0, 1))
    s("divmod_parts", "np.divmod(a, 1.3)[1] * 2.0", (np.array([-2.2, -0.7, 0.4, 2.9]),))
    s("heaviside_mult", "np.heaviside(a, 0.5) * a", (Away(5),))
    s("logaddexp2", "np.logaddexp2(a, b)", (R(4), R(4)), wrt=(0, 1))
    s("cbrt_neg", "np.cbrt(a)", (Away(5),))
    s("square_complex", "np.square(a)", (C(4),))
    s("reciprocal", "np.reciprocal(a)", (Away(4),))
    s("positive_negative", "np.positive(a) * np.negative(a)", (R(4),))
    s("deg_rad", "np.degrees(a) + np.radians(a) + np.rad2deg(a)", (R(4),))
    s("angle_deg", "np.angle(a, deg=True)", (C(4),))
    s("real_imag_conj", "np.real(a) * np.imag(a) + np.abs(np.conj(a))", (C(4),))
    # shapes and splits
    s("split_sections", "def f(a):\n    p, q, r = np.split(a, [1, 3], axis=1)\n"
      "    return p * 2.0, q.sum(), r\n", (R(3, 5),))
    s("array_split_uneven", "def f(a):\n    p = np.array_split(a, 3)\n"
      "    return p[0].sum() + 2.0 * p[1].sum() + 3.0 * p[2].sum()\n", (R(7),))
    s("hsplit_vsplit", "np.hsplit(a, 2)[1] * np.vsplit(a, 2)[0].T", (R(4, 4),))
    s("dsplit", "np.dsplit(a, [1])[1]", (R(2, 2, 3),))
    s("stack_family", "np.hstack([a, b]) + np.concatenate([b, a])", (R(3), R(3)), wrt=(0, 1))
    s("vstack_dstack", "np.vstack([a, b]).sum() + np.dstack([a, b])", (R(3), R(3)), wrt=(0, 1))
    s("column_stack", "np.column_stack([a, b])", (R(3), R(3, 2)), wrt=(0, 1))
    s("row_stack", "np.vstack((a, b))", (R(3), R(2, 3)), wrt=(0, 1))
    s("moveaxis_multi", "np.moveaxis(a, [0, 1], [-1, 0])", (R(2, 3, 4),))
    s("expand_dims_tuple", "np.expand_dims(a, (0, 2)) * 2.0", (m,))
    s("squeeze_axis", "np.squeeze(a, axis=(0, 2))", (R(1, 3, 1),))
    s("broadcast_to", "np.broadcast_to(a, (2, 4, 3)) * b", (R(3), R(2, 4, 3)), wrt=(0, 1))
    s("broadcast_arrays", "def f(a, b):\n    p, q = np.broadcast_arrays(a, b)\n"
      "    return p * q + p\n", (R(3, 1), R(4)), wrt=(0, 1))
    s("meshgrid_ij", "def f(a, b):\n    X, Y = np.meshgrid(a, b, indexing='ij')\n"
      "    return X ** 2 * Y\n", (R(3), R(2)), wrt=(0, 1))
    s("meshgrid_xy", "def f(a, b):\n    X, Y = np.meshgrid(a, b)\n    return np.sin(X) * Y\n",
      (R(3), R(2)), wrt=(0, 1))
    s("atleast_3d", "np.atleast_3d(a) * np.atleast_2d(a)[None]", (R(3),))
    s("resize", "np.resize(a, (3, 4))", (R(5),))
    s("swapaxes_transpose", "np.transpose(a, (2, 0, 1)) * np.swapaxes(np.swapaxes(a, 0, 2), 1, 2)", (R(2, 3, 2),))
    s("select", "np.select([a > 0.5, a < -0.5], [a ** 2, np.sin(a)], default=a * 3.0)",
      (np.array([-1.2, -0.1, 0.3, 0.9, 1.7]),))
    s("piecewise", "np.piecewise(a, [a < 0, a >= 0], [lambda t: t ** 2, lambda t: np.exp(t)])",
      (Away(5),))
    s("where_broadcast", "np.where(a > 0, b, a * 2.0)", (Away(3, 1), R(4)), wrt=(0, 1))
    s("clip_array_bounds", "np.clip(a, b, None)", (Dist(5), Dist(5) + 0.11), wrt=(0, 1))
    s("clip_both_arrays", "np.clip(a, -b, b)", (np.array([-2.0, -0.3, 0.2, 1.5]),
                                                   np.array([1.0, 1.0, 1.0, 1.0])), wrt=(0, 1))
    return s.out


# ------------------------------------------------------------------ JAX lax_autodiff_test


def laxautodiff_cases():
    s = _Area("jax-laxad")
    s("pow_neg_base_int", "a ** 3 + a ** -2", (Away(5),))
    s("pow_neg_base_int_array", "np.power(a, np.array([2, 3, -1, 4, -3]))", (Away(5),))
    s("pow_both", "np.power(a, b)", (U(0.5, 2, 4), R(4)), wrt=(0, 1))
    s("pow_scalar_exp_diff", "np.power(a, b)", (U(0.5, 2, 4), 1.7), wrt=(0, 1))
    s("pow_scalar_base_diff", "np.power(b, a)", (R(4), 1.7), wrt=(0, 1))
    quad = np.array([0.5, -0.5, -0.5, 0.5, 0.0001, -1.0]), np.array([0.5, 0.5, -0.5, -0.5, 1.0, 1e-3])
    s("atan2_quadrants", "np.arctan2(a, b)", quad, wrt=(0, 1))
    s("atan2_broadcast", "np.arctan2(a, b)", (R(3, 1), Away(4)), wrt=(0, 1))
    s("rem", "np.fmod(a, b)", (np.array([2.3, -2.3, 0.7]), np.array([0.9, 0.9, -2.0])), wrt=(0, 1))
    s("max_broadcast", "np.maximum(a, b)", (Dist(3, 1), Dist(4) + 0.013), wrt=(0, 1))
    s("min_scalar", "np.minimum(a, 0.25)", (Dist(6) + 0.013,))
    s("clamp_scalar_bounds", "np.clip(a, -0.5, 0.5)", (Dist(6) + 0.013,))
    s("reduce_window_sum", "a[:-2] + a[1:-1] + a[2:]", (R(7),))
    s("reduce_window_max", "np.maximum(np.maximum(a[:-2], a[1:-1]), a[2:])", (Dist(7),))
    s("reduce_window_2d_strided", "a[:-1:2, :-1] + a[1::2, 1:]", (R(5, 4),))
    s("sliding_window_sum", "np.lib.stride_tricks.sliding_window_view(a, 3).sum(axis=-1)", (R(7),))
    s("sliding_window_2d", "np.lib.stride_tricks.sliding_window_view(a, (2, 2)).max(axis=(-1, -2))",
      (Dist(3, 4),))
    s("dynamic_slice", "a[1:4] * a[2]", (R(5),))
    s("dynamic_update_slice", "def f(a, b):\n    c = a.copy()\n    c[1:3] = b\n    return c * a\n",
      (R(5), R(2)), wrt=(0, 1))
    s("gather_2d", "a[np.array([[0, 1], [2, 0]]), np.array([[1, 1], [0, 2]])]", (R(3, 3),))
    s("scatter_add", "def f(a, b):\n    c = np.zeros(4)\n    np.add.at(c, [0, 2, 0, 3], b)\n"
      "    return c * a\n", (R(4), R(4)), wrt=(0, 1))
    s("scatter_mul", "def f(a, b):\n    c = a.copy()\n    np.multiply.at(c, [0, 2, 0], b)\n"
      "    return c\n", (R(4), R(3)), wrt=(0, 1))
    s("scatter_max", "def f(a, b):\n    c = a.copy()\n    np.maximum.at(c, [0, 2, 3], b)\n"
      "    return c\n", (Dist(4), Dist(3) + 0.013), wrt=(0, 1))
    s("cumsum_reverse_axis", "np.flip(np.cumsum(np.flip(a, 1), axis=1), 1)", (R(3, 4),))
    s("cummax", "np.maximum.accumulate(a, axis=0)", (Dist(4, 3),))
    s("cummin", "np.minimum.accumulate(a)", (Dist(6),))
    s("cumlogsumexp", "np.logaddexp.accumulate(a)", (R(6),))
    s("reduce_prod_axes", "np.prod(a, axis=(0, 2))", (U(0.5, 1.5, 2, 3, 2),))
    s("reduce_logsumexp", "np.log(np.sum(np.exp(a), axis=0))", (R(3, 4),))
    s("conj_real", "np.conj(a) * a", (R(4),))
    s("complex_from_parts", "np.abs(a + 1j * b) ** 2", (R(4), R(4)), wrt=(0, 1))
    s("expm1_log1p_small", "np.expm1(a) + np.log1p(a)", (R(4) * 1e-5,))
    s("tan_near", "np.tan(a)", (U(-1.4, 1.4, 5),))
    s("erf_inv", "scipy.special.erfinv(a)", (U(-0.95, 0.95, 5),), header=SCIPY)
    s("lgamma_digamma", "scipy.special.gammaln(a) + scipy.special.digamma(a)", (U(0.2, 5, 5),),
      header=SCIPY)
    s("igamma_a", "scipy.special.gammainc(a, b)", (U(0.5, 3, 4), U(0.2, 4, 4)), wrt=(0, 1),
      header=SCIPY)
    s("igammac", "scipy.special.gammaincc(a, b)", (U(0.5, 3, 4), U(0.2, 4, 4)), wrt=(0, 1),
      header=SCIPY)
    s("betainc_x", "scipy.special.betainc(2.0, 3.0, a)", (U(0.1, 0.9, 4),), header=SCIPY)
    s("bessel_i0e_i1e", "scipy.special.i0e(a) * scipy.special.i1e(a)", (R(5),), header=SCIPY)
    s("round_half", "np.round(a, 1) + a", (U(0.01, 0.04, 4) + np.array([0.1, 0.2, -0.3, 1.0]),))
    s("sign_times", "np.sign(a) * a ** 2", (Away(5),))
    s("integer_pow_0", "a ** 0 + a ** 1", (R(4),))
    s("square_sqrt", "np.sqrt(np.square(a) + 1.0)", (R(4),))
    s("rsqrt", "1.0 / np.sqrt(a)", (U(0.3, 3, 4),))
    s("logistic", "scipy.special.expit(a)", (R(5) * 5,), header=SCIPY)
    s("log_expit", "scipy.special.log_expit(a)", (R(5) * 10,), header=SCIPY)
    s("logit", "scipy.special.logit(a)", (U(0.05, 0.95, 5),), header=SCIPY)
    return s.out


# ------------------------------------------------------------------ JAX scipy_stats_test


def stats_cases():
    s = _Area("jax-stats", SCIPY)
    st = "scipy.stats."
    x, loc, sc = R(4), R(4) * 0.5, U(0.5, 2, 4)
    for fn in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"):
        s(f"norm_{fn}", f"{st}norm.{fn}(a, b, c)", (x, loc, sc), wrt=(0, 1, 2))
    for fn in ("ppf", "isf"):
        s(f"norm_{fn}", f"{st}norm.{fn}(a, b, c)", (U(0.05, 0.95, 4), loc, sc), wrt=(0, 1, 2))
    s("norm_logcdf_tail", f"{st}norm.logcdf(a)", (np.array([-30.0, -8.0, -2.0, 5.0]),))
    s("norm_logsf_tail", f"{st}norm.logsf(a)", (np.array([30.0, 8.0, 2.0, -5.0]),))
    for fn in ("logpdf", "pdf", "cdf", "sf"):
        s(f"t_{fn}", f"{st}t.{fn}(a, b, c, d)", (x, U(1.5, 6, 4), loc, sc), wrt=(0, 2, 3))
    s("t_logpdf_df", f"{st}t.logpdf(a, b, c, d)", (x, U(1.5, 6, 4), loc, sc), wrt=(0, 1, 2, 3))
    for fn in ("logpdf", "cdf", "logcdf", "sf", "logsf"):
        s(f"cauchy_{fn}", f"{st}cauchy.{fn}(a, b, c)", (x, loc, sc), wrt=(0, 1, 2))
    s("cauchy_ppf", f"{st}cauchy.ppf(a, b, c)", (U(0.1, 0.9, 4), loc, sc), wrt=(0, 1, 2))
    for fn in ("logpdf", "pdf", "cdf", "sf", "logcdf", "logsf"):
        s(f"logistic_{fn}", f"{st}logistic.{fn}(a, b, c)", (x * 2, loc, sc), wrt=(0, 1, 2))
    for fn in ("ppf", "isf"):
        s(f"logistic_{fn}", f"{st}logistic.{fn}(a, b, c)", (U(0.1, 0.9, 4), loc, sc),
          wrt=(0, 1, 2))
    xl = loc + Away(4)
    for fn in ("logpdf", "pdf", "cdf", "sf"):
        s(f"laplace_{fn}", f"{st}laplace.{fn}(a, b, c)", (xl, loc, sc), wrt=(0, 1, 2))
    xp = U(0.2, 3, 4)
    for fn in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"):
        s(f"expon_{fn}", f"{st}expon.{fn}(a, b, c)", (xp, np.zeros(4) - 0.1, sc), wrt=(0, 1, 2))
    s("expon_ppf", f"{st}expon.ppf(a, scale=b)", (U(0.1, 0.9, 4), sc), wrt=(0, 1))
    for fn in ("logpdf", "pdf"):
        s(f"gamma_{fn}", f"{st}gamma.{fn}(a, b, c, d)", (xp, U(0.7, 3, 4), np.zeros(4) - 0.1, sc),
          wrt=(0, 1, 2, 3))
    s("gamma_cdf_x", f"{st}gamma.cdf(a, 2.5, scale=b)", (xp, sc), wrt=(0, 1))
    s("gamma_cdf_a", f"{st}gamma.cdf(a, b)", (xp, U(0.7, 3, 4)), wrt=(0, 1))
    s("gamma_sf_a", f"{st}gamma.sf(a, b)", (xp, U(0.7, 3, 4)), wrt=(0, 1))
    s("beta_logpdf_loc_scale", f"{st}beta.logpdf(a, b, c, -0.5, 2.0)",
      (U(-0.4, 1.4, 4), U(0.7, 3, 4), U(0.7, 3, 4)), wrt=(0, 1, 2))
    s("beta_cdf_x", f"{st}beta.cdf(a, 2.0, 3.5)", (U(0.1, 0.9, 4),))
    s("beta_cdf_ab", f"{st}beta.cdf(a, b, c)", (U(0.1, 0.9, 4), U(0.7, 3, 4), U(0.7, 3, 4)),
      wrt=(0, 1, 2))
    for fn in ("logpdf", "pdf", "cdf", "sf"):
        s(f"chi2_{fn}", f"{st}chi2.{fn}(a, b)", (xp * 2, U(1.5, 6, 4)), wrt=(0, 1))
    k = np.array([0.0, 1.0, 3.0, 6.0])
    s("poisson_logpmf", f"{st}poisson.logpmf(np.array({k.tolist()}), a)", (U(0.5, 4, 4),))
    s("poisson_pmf_loc", f"{st}poisson.pmf(np.array({k.tolist()}), a, 1)", (U(0.5, 4, 4),))
    s("poisson_cdf", f"{st}poisson.cdf(np.array({k.tolist()}), a)", (U(0.5, 4, 4),))
    s("geom_logpmf", f"{st}geom.logpmf(np.array([1.0, 2.0, 5.0]), a)", (U(0.1, 0.9, 3),))
    s("bernoulli_logpmf", f"{st}bernoulli.logpmf(np.array([0.0, 1.0, 1.0]), a)",
      (U(0.1, 0.9, 3),))
    s("binom_logpmf", f"{st}binom.logpmf(np.array([0.0, 2.0, 5.0]), 5, a)", (U(0.1, 0.9, 3),))
    s("nbinom_logpmf", f"{st}nbinom.logpmf(np.array([0.0, 2.0, 5.0]), 3, a)", (U(0.1, 0.9, 3),))
    s("nbinom_logpmf_n", f"{st}nbinom.logpmf(np.array([0.0, 2.0, 5.0]), b, a)",
      (U(0.1, 0.9, 3), U(1, 4, 3)), wrt=(0, 1))
    s("betabinom_logpmf", f"{st}betabinom.logpmf(np.array([0.0, 2.0, 5.0]), 5, a, b)",
      (U(0.5, 3, 3), U(0.5, 3, 3)), wrt=(0, 1))
    S3 = spd(3)
    s("mvn_logpdf_x_mean", f"{st}multivariate_normal.logpdf(a, b, np.array({S3.tolist()}))",
      (R(3), R(3)), wrt=(0, 1))
    s("mvn_logpdf_cov", f"{st}multivariate_normal.logpdf(a, b, c)", (R(3), R(3), S3),
      wrt=(0, 1, 2))
    s("mvn_logpdf_batch", f"{st}multivariate_normal.logpdf(a, b, c)", (R(5, 3), R(3), S3),
      wrt=(0, 1, 2))
    s("mvn_pdf", f"{st}multivariate_normal.pdf(a, b, c)", (R(3) * 0.3, R(3) * 0.3, S3),
      wrt=(0, 1, 2))
    s("mvn_logpdf_scalar_cov", f"{st}multivariate_normal.logpdf(a, b, 2.0)", (R(3), R(3)),
      wrt=(0, 1))
    xd = np.array([0.2, 0.3, 0.5])
    s("dirichlet_logpdf", f"{st}dirichlet.logpdf(a, b)", (xd, U(0.5, 3, 3)), wrt=(1,))
    s("dirichlet_pdf_alpha", f"{st}dirichlet.pdf(np.array([0.2, 0.3, 0.5]), a)", (U(0.5, 3, 3),))
    s("pareto_logpdf", f"{st}pareto.logpdf(a, b, 0.0, c)", (U(2.5, 5, 4), U(1, 3, 4), U(0.5, 2, 4)),
      wrt=(0, 1, 2))
    s("uniform_logpdf_scale", f"{st}uniform.pdf(a, -1.0, b)", (U(-0.9, 0.4, 4), U(1.5, 3, 4)),
      wrt=(0, 1))
    s("uniform_cdf", f"{st}uniform.cdf(a, b, 3.0)", (U(-0.5, 1.5, 4), np.zeros(4) - 1.0),
      wrt=(0, 1))
    s("truncnorm_logpdf", f"{st}truncnorm.logpdf(a, -1.0, 2.0, b, c)", (U(-0.5, 1.0, 4), R(4) * 0.1,
                                                                        U(0.8, 1.5, 4)),
      wrt=(0, 1, 2))
    s("truncnorm_logpdf_bounds", f"{st}truncnorm.logpdf(a, b, c)", (U(-0.5, 0.5, 4),
                                                                    U(-2, -1, 4), U(1, 2, 4)),
      wrt=(0, 1, 2))
    s("vonmises_logpdf", f"{st}vonmises.logpdf(a, b)", (U(-2, 2, 4), U(0.5, 3, 4)), wrt=(0, 1))
    s("vonmises_logpdf_loc", f"{st}vonmises.logpdf(a, 2.0, loc=b)", (U(-2, 2, 4), R(4)),
      wrt=(0, 1))
    s("gennorm_logpdf", f"{st}gennorm.logpdf(a, b)", (Away(4), U(0.8, 3, 4)), wrt=(0, 1))
    s("gennorm_cdf_x", f"{st}gennorm.cdf(a, 1.5)", (Away(4),))
    s("lognorm_logpdf", f"{st}lognorm.logpdf(a, b)", (U(0.3, 3, 4), U(0.5, 2, 4)), wrt=(0, 1))
    s("weibull_min_logpdf", f"{st}weibull_min.logpdf(a, b)", (U(0.3, 3, 4), U(0.8, 3, 4)),
      wrt=(0, 1))
    s("gumbel_r_logpdf", f"{st}gumbel_r.logpdf(a, b, c)", (x, loc, sc), wrt=(0, 1, 2))
    s("logsumexp_stats", "scipy.special.logsumexp(a, axis=0, b=b)", (R(3, 2), U(0.5, 2, 3, 2)),
      wrt=(0, 1))
    s("entropy", f"{st}entropy(a)", (U(0.5, 2, 4),))
    s("entropy_qk", f"{st}entropy(a, b)", (U(0.5, 2, 4), U(0.5, 2, 4)), wrt=(0, 1))
    s("zscore", f"{st}zscore(a)", (R(5),))
    return s.out


# ------------------------------------------------------------------ PyTorch OpInfo / test_linalg


def opinfo_cases():
    s = _Area("torch-opinfo10")
    S = 5
    pairs = {
        "SS_S": ((S, S), (S,)),
        "S1_1S": ((S, 1), (1, S)),
        "0d_S": ((), (S,)),
        "S_0d": ((S,), ()),
        "1_SS": ((1,), (S, S)),
    }
    ops = {
        "add": ("a + b", "R", "R"), "sub": ("a - b", "R", "R"), "mul": ("a * b", "R", "R"),
        "div": ("a / b", "R", "A"), "pow": ("a ** b", "P", "R"),
        "atan2": ("np.arctan2(a, b)", "R", "A"), "hypot": ("np.hypot(a, b)", "A", "A"),
        "maximum": ("np.maximum(a, b)", "D", "D2"), "fmin": ("np.fmin(a, b)", "D", "D2"),
        "logaddexp": ("np.logaddexp(a, b)", "R", "R"),
        "copysign": ("np.copysign(a, b)", "R", "A"),
        "xlogy": ("scipy.special.xlogy(a, b)", "R", "P"),
        "fmod": ("np.fmod(a, b)", "R", "Big"),
    }

    def gen(kind, shape):
        if kind == "R":
            return R(*shape)
        if kind == "A":
            return Away(*shape)
        if kind == "P":
            return U(0.5, 2, *shape)
        if kind == "Big":
            return U(3.5, 5, *shape)
        if kind == "D":
            return Dist(*shape) if shape else np.array(0.0123)
        return Dist(*shape) + 0.0061 if shape else np.array(0.2345)

    for op, (expr, ka, kb) in ops.items():
        for label, (sa, sb) in pairs.items():
            s(f"{op}[{label}]", expr, (gen(ka, sa), gen(kb, sb)), wrt=(0, 1), header=SCIPY)
        # a Python scalar on each side (supports_one_python_scalar)
        sa_val = {"R": 0.7, "A": -1.3, "P": 1.4, "D": 0.0123, "Big": 4.1}[ka]
        sb_val = {"R": -0.4, "A": 1.2, "P": 1.4, "D2": 0.2345, "Big": 4.1}[kb]
        s(f"{op}[pyscalar_a]", expr, (sa_val, gen(kb, (S,))), wrt=(0, 1), header=SCIPY)
        s(f"{op}[pyscalar_b]", expr, (gen(ka, (S,)), sb_val), wrt=(0, 1), header=SCIPY)
        s(f"{op}[f32]", expr, (gen(ka, (S, 1)).astype(np.float32),
                               gen(kb, (S,)).astype(np.float32)), wrt=(0, 1), header=SCIPY,
          rtol=2e-3, atol=2e-4)
        s(f"{op}[same_var]", expr.replace("b", "a[::-1]"), (gen(ka, (S,)) if ka != "R" else
                                                             gen("P", (S,)),), header=SCIPY)
    # unary ops: 0-d, empty, float32, noncontiguous views
    un = {"exp": "np.exp(a)", "sin": "np.sin(a)", "tanh": "np.tanh(a)", "log": "np.log(a)",
          "sqrt": "np.sqrt(a)", "rsqrt": "1 / np.sqrt(a)", "sigmoid": "scipy.special.expit(a)",
          "erf": "scipy.special.erf(a)", "lgamma": "scipy.special.gammaln(a)",
          "digamma": "scipy.special.digamma(a)", "log1p": "np.log1p(a)",
          "arcsinh": "np.arcsinh(a)", "arccosh": "np.arccosh(a + 1.0)",
          "arctanh": "np.arctanh(a * 0.3)", "sinc": "np.sinc(a)", "logit": "scipy.special.logit(a / 3.0)",
          "i0": "scipy.special.i0(a)", "ndtri": "scipy.special.ndtri(a / 3.0)",
          "log_ndtr": "scipy.special.log_ndtr(a)", "erfcx": "scipy.special.erfcx(a)",
          "spherical_j0": "scipy.special.spherical_jn(0, a)"}
    for op, expr in un.items():
        s(f"{op}[0d]", expr, (np.array(1.3),), header=SCIPY)
        s(f"{op}[noncontig]", f"def f(a):\n    a = a[::2, 1]\n    return {expr}\n",
          (U(0.5, 2.5, 6, 3),), header=SCIPY)
        s(f"{op}[f32]", expr, (U(0.5, 2.5, 4).astype(np.float32),), header=SCIPY, rtol=2e-3,
          atol=2e-4)
    s("sum_empty", "np.sum(a) + np.sum(b * 2.0)", (np.zeros((0,)), R(3)), wrt=(0, 1))
    s("prod_empty_axis", "np.prod(a, axis=1)", (np.zeros((3, 0)),))
    s("mean_1_0_3", "np.sum(a, axis=1)", (np.zeros((1, 0, 3)),))
    s("var_correction", "np.var(a, axis=1, ddof=2)", (R(3, 5),))
    s("std_mean", "np.std(a, axis=0) + np.mean(a, axis=0)", (R(5, 3),))
    s("logsumexp_dims", "scipy.special.logsumexp(a, axis=(0, 2), keepdims=True)", (R(2, 3, 2),),
      header=SCIPY)
    s("nan_to_num_masked", "np.nan_to_num(np.where(a > 1.0, a, np.nan), nan=0.5) * a",
      (np.array([0.6, 1.4, 0.8, 1.9]),))
    s("polar", "b * np.exp(1j * a)", (R(4), U(0.5, 2, 4)), wrt=(0, 1))
    s("addcmul", "a + 0.5 * b * c", (R(3), R(3, 1), R(3)), wrt=(0, 1, 2))
    s("addcdiv", "a + 0.5 * b / c", (R(3), R(3, 1), Away(3)), wrt=(0, 1, 2))
    s("lerp", "a + c * (b - a)", (R(4), R(4), U(0, 1, 4)), wrt=(0, 1, 2))
    s("renorm", "a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1.0)",
      (R(3, 4) * 2,))
    s("cosine_similarity", "np.sum(a * b, 1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))",
      (R(3, 4), R(3, 4)), wrt=(0, 1))
    s("dist_p3", "np.sum(np.abs(a - b) ** 3) ** (1 / 3)", (R(4), R(4)), wrt=(0, 1))
    s("cdist", "np.sqrt(np.sum((a[:, None, :] - b[None, :, :]) ** 2, -1))", (R(3, 2), R(4, 2) + 3),
      wrt=(0, 1))
    s("trapz_dim", "np.trapezoid(a, dx=2.0, axis=0)", (R(4, 3),))
    s("cumulative_trapezoid", "scipy.integrate.cumulative_trapezoid(a, dx=0.5)", (R(5),),
      header=SCIPY + "\nimport scipy.integrate")
    s("logcumsumexp_dim", "np.logaddexp.accumulate(a, axis=1)", (R(3, 4),))
    s("softmax_dim0", "scipy.special.softmax(a, axis=0)", (R(3, 4),), header=SCIPY)
    s("log_softmax_f32", "scipy.special.log_softmax(a, axis=-1)", (R(3, 4).astype(np.float32),),
      header=SCIPY, rtol=2e-3, atol=2e-4)
    s("index_put_accumulate", "def f(a, b):\n    c = a.copy()\n    np.add.at(c, (np.array([0, 0, 2]), np.array([1, 1, 0])), b)\n"
      "    return c\n", (R(3, 2), R(3)), wrt=(0, 1))
    s("masked_scatter", "def f(a, b):\n    c = a.copy()\n    c[a > 0] = b[:int(np.sum(a > 0))]\n"
      "    return c\n", (Away(5), R(5)), wrt=(0, 1))
    s("masked_fill", "np.where(np.arange(5) % 2 == 0, 3.0, a)", (R(5),))
    s("tril_indices", "a[np.tril_indices(3, -1)]", (R(3, 3),))
    s("triu_indices_from", "a[np.triu_indices_from(a, 1)]", (R(4, 4),))
    return s.out


def linalg_cases():
    s = _Area("torch-linalg10", SCIPY)
    B = well(3, (2,))
    for n in (0, 1, 2, 3, -1, -2):
        s(f"matrix_power[{n}]", f"np.linalg.matrix_power(a, {n})", (B,))
    s("multi_dot_1d_ends", "np.linalg.multi_dot([a, b, c, d])", (R(3), R(3, 4), R(4, 2), R(2)),
      wrt=(0, 1, 2, 3))
    s("multi_dot_2", "np.linalg.multi_dot([a, b])", (R(3, 4), R(4, 2)), wrt=(0, 1))
    s("linalg_vecdot", "np.linalg.vecdot(a, b, axis=0)", (R(3, 2), R(3, 2)), wrt=(0, 1))
    s("linalg_vecdot_complex", "np.linalg.vecdot(a, b)", (C(2, 3), C(2, 3)), wrt=(0, 1))
    s("cond_2", "np.linalg.cond(a)", (well(3),))
    s("cond_fro", "np.linalg.cond(a, 'fro')", (well(3),))
    s("cond_1", "np.linalg.cond(a, 1)", (well(3),))
    s("cond_neg2", "np.linalg.cond(a, -2)", (well(3),))
    s("svdvals", "np.linalg.svdvals(a)", (R(2, 4, 3),))
    s("svd_compute_uv_false", "np.linalg.svd(a, compute_uv=False)", (R(4, 3),))
    s("eigvalsh_upper", "np.linalg.eigvalsh(a, UPLO='U')", (R(2, 3, 3),))
    s("eigh_lower_vectors", "def f(a):\n    w, v = np.linalg.eigh(a)\n"
      "    return w, np.abs(v[:, 0]) * np.sign(v[0, 0])\n", (spd(3),))
    s("tensorinv", "np.linalg.tensorinv(a, ind=1)", (well(4).reshape(4, 2, 2),))
    s("tensorinv_ind2", "np.linalg.tensorinv(a)", (well(4).reshape(2, 2, 2, 2),))
    s("tensorsolve", "np.linalg.tensorsolve(a, b)", (well(6).reshape(2, 3, 6), R(2, 3)),
      wrt=(0, 1))
    s("tensorsolve_axes", "np.linalg.tensorsolve(a, b, axes=(0,))", (well(6).reshape(6, 2, 3), R(2, 3)),
      wrt=(0, 1))
    s("pinv_hermitian", "np.linalg.pinv(a, hermitian=True)", (spd(3),))
    s("pinv_wide", "np.linalg.pinv(a)", (R(2, 4),))
    s("pinv_batch", "np.linalg.pinv(a)", (R(2, 4, 3),))
    s("lstsq_tall", "np.linalg.lstsq(a, b, rcond=None)[0]", (R(5, 3), R(5)), wrt=(0, 1))
    s("lstsq_multi_rhs", "np.linalg.lstsq(a, b)[0]", (R(5, 3), R(5, 2)), wrt=(0, 1))
    s("lstsq_residuals", "np.linalg.lstsq(a, b)[1]", (R(5, 3), R(5, 2)), wrt=(0, 1))
    s("solve_broadcast_b", "np.linalg.solve(a, b)", (well(3, (2,)), R(3, 1)), wrt=(0, 1))
    s("solve_batch_b", "np.linalg.solve(a, b)", (well(3), R(2, 3, 2)), wrt=(0, 1))
    s("solve_vec_batch_a", "np.linalg.solve(a, b[..., None])[..., 0]", (well(3, (2,)), R(2, 3)),
      wrt=(0, 1))
    s("inv_complex", "np.linalg.inv(a)", (well(3) + 1j * R(3, 3) * 0.3,))
    s("det_complex_batch", "np.linalg.det(a)", (well(2, (3,)) + 1j * R(3, 2, 2) * 0.3,))
    s("slogdet_complex", "def f(a):\n    sg, ld = np.linalg.slogdet(a)\n    return ld, np.real(sg)\n",
      (well(3) + 1j * R(3, 3) * 0.3,))
    s("cholesky_upper", "np.linalg.cholesky(a, upper=True)", (spd(3),))
    s("cholesky_complex", "np.linalg.cholesky(a)",
      ((lambda z: z @ z.conj().T + 3 * np.eye(3))(C(3, 3)),))
    s("cholesky_inverse", "def f(a):\n    L = np.linalg.cholesky(a)\n"
      "    Li = np.linalg.inv(L)\n    return Li.T @ Li\n", (spd(3),))
    s("qr_complete", "def f(a):\n    q, r = np.linalg.qr(a, mode='complete')\n"
      "    return q[:, :3] @ r[:3]\n", (R(5, 3),))
    s("qr_wide", "def f(a):\n    q, r = np.linalg.qr(a)\n    return q @ np.diag(np.diag(r)), r\n",
      (R(3, 3),))
    s("householder_product_like", "def f(a):\n    q, r = np.linalg.qr(a)\n    return q * np.sign(np.diag(r))\n",
      (R(4, 3),))
    s("eig_vals_real", "np.sort(np.real(np.linalg.eigvals(a)))", (np.diag([1.0, 2.5, 4.0]) + R(3, 3) * 0.1,))
    s("eig_vectors_abs", "def f(a):\n    w, v = np.linalg.eig(a)\n"
      "    return np.abs(v[:, np.argsort(np.real(w))]) ** 2\n",
      (np.diag([1.0, 2.5, 4.0]) + R(3, 3) * 0.1,))
    s("matrix_exp", "scipy.linalg.expm(a)", (R(3, 3) * 0.5,))
    s("matrix_exp_batch", "scipy.linalg.expm(a)", (R(2, 2, 2) * 0.5,))
    s("linalg_cross", "np.linalg.cross(a, b)", (R(4, 3), R(4, 3)), wrt=(0, 1))
    s("linalg_outer", "np.linalg.outer(a, b)", (R(3), R(2)), wrt=(0, 1))
    s("linalg_diagonal", "np.linalg.diagonal(a, offset=1)", (R(2, 3, 3),))
    s("linalg_trace", "np.linalg.trace(a, offset=-1)", (R(2, 3, 3),))
    s("linalg_matrix_transpose", "np.linalg.matrix_transpose(a) @ a", (R(2, 3, 2),))
    s("linalg_tensordot", "np.linalg.tensordot(a, b, axes=1)", (R(2, 3), R(3, 2)), wrt=(0, 1))
    s("solve_triangular_unit", "scipy.linalg.solve_triangular(a, b, lower=True, unit_diagonal=True)",
      (np.tril(R(3, 3)), R(3, 2)), wrt=(0, 1))
    s("lu_factor_solve", "scipy.linalg.lu_solve(scipy.linalg.lu_factor(a), b, trans=1)",
      (well(3), R(3)), wrt=(0, 1))
    s("ldl_like_sym_solve", "scipy.linalg.solve(a, b, assume_a='pos')", (spd(3), R(3, 2)),
      wrt=(0, 1))
    return s.out


# ------------------------------------------------------------------ ChainRules.jl / Zygote gradcheck.jl


def chainrules_cases():
    s = _Area("chainrules", SCIPY)
    x, y, z = R(4), R(4), R(4)
    A, Bm = well(3), well(3)
    # Base fastmath / arithmetic
    s("abs2_complex", "np.abs(a) ** 2", (C(4),))
    s("abs2_sum", "np.sum(np.abs(a) ** 2)", (C(3, 2),))
    s("sincos", "def f(a):\n    sn, cs = np.sin(a), np.cos(a)\n    return sn * cs, sn - cs\n", (x,))
    s("hypot3", "np.hypot(np.hypot(a, b), c)", (Away(4), Away(4), Away(4)), wrt=(0, 1, 2))
    s("hypot_complex_abs", "np.abs(a + 1j * b)", (Away(4), Away(4)), wrt=(0, 1))
    s("exp10", "10.0 ** a", (x,))
    s("exp2_log2_log10", "np.exp2(a) + np.log2(np.abs(a)) + np.log10(np.abs(a))", (Away(4),))
    s("log_base", "np.log(a) / np.log(b)", (U(0.5, 3, 4), U(1.5, 3, 4)), wrt=(0, 1))
    s("sinpi_cospi", "np.sin(np.pi * a) * np.cos(np.pi * a)", (x,))
    s("muladd", "a * b + c", (x, y, z), wrt=(0, 1, 2))
    s("inv_scalar", "1.0 / a", (Away(4),))
    s("deg2rad_sind", "np.sin(np.deg2rad(a))", (R(4) * 90,))
    s("mod2pi", "np.mod(a, 2 * np.pi)", (np.array([-7.0, -1.0, 2.0, 8.0]),))
    s("rem_div", "a - b * np.trunc(a / b)", (np.array([2.3, -2.3]), np.array([0.9, 0.9])),
      wrt=(0, 1))
    s("clamp", "np.clip(a, -0.3, 0.4)", (Dist(6) + 0.013,))
    s("evalpoly", "def f(a, c):\n    out = np.zeros_like(a)\n    for k in range(len(c) - 1, -1, -1):\n"
      "        out = out * a + c[k]\n    return out\n", (x, R(4)), wrt=(0, 1))
    s("complex_abs_angle", "np.abs(a) * np.angle(a)", (C(4),))
    s("complex_exp_log", "np.log(np.exp(a) + 2.0)", (C(3),))
    s("complex_sqrt", "np.sqrt(a)", (C(3) + 3.0,))
    s("complex_pow", "a ** b", (C(3) + 3.0, C(3) * 0.3), wrt=(0, 1))
    s("complex_trig", "np.sin(a) * np.cosh(a) + np.tan(a * 0.3)", (C(3) * 0.5,))
    # mapreduce
    s("sum_dims", "np.sum(a ** 2, axis=1, keepdims=True)", (R(3, 4),))
    s("sum_f_dims", "np.sum(np.abs(a), axis=0)", (Away(3, 4),))
    s("prod_dims", "np.prod(a, axis=1, keepdims=True)", (U(0.5, 1.5, 3, 4),))
    s("prod_one_zero_dims", "np.prod(a, axis=1)",
      (np.array([[1.3, 0.0, 0.7], [0.5, 2.0, -1.1]]),))
    s("cumsum_dims", "np.cumsum(a, axis=0)", (R(3, 4),))
    s("cumprod_neg", "np.cumprod(a)", (Away(5),))
    s("maximum_dims", "np.max(a, axis=1, keepdims=True)", (Dist(3, 4),))
    s("findmax_value", "a[np.argmax(a)] ** 2", (Dist(5),))
    s("mean_dims", "np.mean(a, axis=(0, 2))", (R(2, 3, 2),))
    s("var_corrected_false", "np.var(a, axis=0)", (R(4, 3),))
    s("std_corrected", "np.std(a, axis=1, ddof=1)", (R(3, 4),))
    s("var_mean_given", "np.sum((a - b) ** 2) / (a.size - 1)", (R(5), 0.3), wrt=(0, 1))
    s("foldl_loop", "def f(a):\n    acc = 1.0\n    for v in a:\n        acc = acc * 0.5 + np.sin(v)\n"
      "    return acc\n", (x,))
    s("mapfoldl_pairs", "def f(a, b):\n    acc = 0.0\n    for p, q in zip(a, b):\n"
      "        acc = acc + p * q - p / (1.0 + q * q)\n    return acc\n", (x, y), wrt=(0, 1))
    s("any_all_where", "np.where(np.all(a > -10), np.sum(a), 0.0)", (x,))
    s("sum_bool_weights", "np.sum(a * (a > 0))", (Away(5),))
    # arraymath / dense linear algebra
    s("mul_mat_vec", "a @ b", (R(3, 4), R(4)), wrt=(0, 1))
    s("rdiv", "a @ np.linalg.inv(b)", (R(2, 3), Bm), wrt=(0, 1))
    s("rdiv_solve", "np.linalg.solve(b.T, a.T).T", (R(2, 3), Bm), wrt=(0, 1))
    s("ldiv_matrix", "np.linalg.solve(a, b)", (A, R(3, 2)), wrt=(0, 1))
    s("ldiv_tall_lstsq", "np.linalg.lstsq(a, b, rcond=None)[0]", (R(5, 2), R(5)), wrt=(0, 1))
    s("ldiv_scalar", "a / b", (R(3, 3), 2.5), wrt=(0, 1))
    s("adjoint_complex", "np.conj(a).T @ a", (C(3, 2),))
    s("transpose_mul", "a.T @ b", (R(3, 2), R(3, 4)), wrt=(0, 1))
    s("dot_complex", "np.sum(np.conj(a) * b)", (C(3), C(3)), wrt=(0, 1))
    s("det", "np.linalg.det(a)", (A,))
    s("logdet_spd", "np.linalg.slogdet(a)[1]", (spd(3),))
    s("logabsdet_neg", "np.linalg.slogdet(a)[1]", (well(3) * np.array([-1.0, 1.0, 1.0]),))
    s("tr", "np.trace(a @ b)", (A, Bm), wrt=(0, 1))
    s("pinv_square", "np.linalg.pinv(a)", (A,))
    s("inv_twice", "np.linalg.inv(np.linalg.inv(a)) * a", (A,))
    s("kron_mat", "np.kron(a, b)", (R(2, 2), R(2, 3)), wrt=(0, 1))
    s("sylvester", "scipy.linalg.solve_sylvester(a, b, c)", (spd(3), spd(2), R(3, 2)),
      wrt=(0, 1, 2))
    s("lyapunov", "scipy.linalg.solve_continuous_lyapunov(a, b)", (-spd(3), R(3, 3)),
      wrt=(0, 1))
    s("sqrtm_spd", "scipy.linalg.sqrtm(a)", (spd(3),))
    s("logm_spd", "scipy.linalg.logm(a)", (spd(3) / 4,))
    s("normalize", "a / np.linalg.norm(a)", (R(4),))
    s("normalize_p1", "a / np.linalg.norm(a, 1)", (Away(4),))
    for p in ("0.5", "1.5", "3.0", "np.inf", "-np.inf", "-1.0"):
        s(f"norm_p[{p}]", f"np.sum(np.abs(a) ** {p}) ** (1.0 / {p})" if "inf" not in p else
          f"np.linalg.norm(a, {p})", (Away(5),))
    s("norm_p_diff", "np.sum(np.abs(a) ** b) ** (1.0 / b)", (Away(5), 2.5), wrt=(0, 1))
    s("norm_complex_inf", "np.linalg.norm(a, np.inf)", (np.array([1 + 1j, 0.3 - 2j, -0.5]),))
    s("norm_matrix_fro_via_vec", "np.linalg.norm(a.ravel())", (R(3, 3),))
    s("opnorm_2", "np.linalg.norm(a, 2)", (A,))
    s("opnorm_1_inf", "np.linalg.norm(a, 1) + np.linalg.norm(a, np.inf)", (A,))
    # structured matrices
    s("diagonal_mul", "np.diag(np.diag(a)) @ b", (A, R(3, 2)), wrt=(0, 1))
    s("diagonal_inv_det", "np.linalg.det(np.diag(a)) + np.sum(1.0 / a)", (U(0.5, 2, 3),))
    s("symmetric_wrap", "def f(a):\n    S = np.triu(a) + np.triu(a, 1).T\n"
      "    return np.linalg.eigvalsh(S)\n", (R(3, 3),))
    s("hermitian_wrap", "def f(a):\n    H = np.triu(a) + np.conj(np.triu(a, 1)).T\n"
      "    H = H - 1j * np.diag(np.imag(np.diag(H)))\n    return np.linalg.eigvalsh(H)\n", (C(3, 3),))
    s("uppertri_det", "np.linalg.det(np.triu(a))", (well(3),))
    s("uppertri_solve", "scipy.linalg.solve_triangular(np.triu(a), b)", (well(3), R(3)),
      wrt=(0, 1))
    s("uppertri_inv", "np.linalg.inv(np.triu(a))", (well(3),))
    s("bidiagonal", "def f(d, e):\n    B = np.diag(d) + np.diag(e, 1)\n    return np.linalg.solve(B, np.ones(3))\n",
      (U(1.5, 3, 3), R(2)), wrt=(0, 1))
    s("tridiagonal_det", "def f(d, e):\n    T = np.diag(d) + np.diag(e, 1) + np.diag(e, -1)\n"
      "    return np.linalg.det(T)\n", (U(2, 3, 4), R(3) * 0.5), wrt=(0, 1))
    s("symtridiag_eig", "scipy.linalg.eigh_tridiagonal(a, b, eigvals_only=True)",
      (U(0, 3, 4), U(0.5, 1, 3)), wrt=(0, 1))
    s("banded_solve", "scipy.linalg.solve_banded((1, 1), a, b)",
      (np.array([[0.0, 0.5, -0.3], [3.0, 2.5, 3.2], [0.4, -0.2, 0.0]]), R(3)), wrt=(0, 1))
    s("toeplitz", "scipy.linalg.toeplitz(a, b)", (R(3), R(3)), wrt=(0, 1))
    s("circulant_solve", "np.linalg.solve(scipy.linalg.circulant(a), b)",
      (np.array([4.0, 0.3, -0.5, 0.2]), R(4)), wrt=(0, 1))
    s("block_diag", "scipy.linalg.block_diag(a, b)", (R(2, 2), R(1, 3)), wrt=(0, 1))
    # factorizations
    s("cholesky_factor", "np.linalg.cholesky(a)", (spd(3),))
    s("cholesky_logdet", "2.0 * np.sum(np.log(np.diag(np.linalg.cholesky(a))))", (spd(4),))
    s("cho_factor_solve", "scipy.linalg.cho_solve(scipy.linalg.cho_factor(a), b)", (spd(3), R(3)),
      wrt=(0, 1))
    s("lu_factors", "def f(a):\n    P, L, U = scipy.linalg.lu(a)\n    return L, U\n", (well(3),))
    s("lu_permute_l", "def f(a):\n    PL, U = scipy.linalg.lu(a, permute_l=True)\n    return PL @ U\n",
      (R(3, 3),))
    s("lu_rect", "def f(a):\n    P, L, U = scipy.linalg.lu(a)\n    return L, U\n", (R(4, 3) + np.eye(4, 3) * 3,))
    s("qr_reduced", "def f(a):\n    Q, R_ = np.linalg.qr(a)\n    return Q, R_\n", (R(4, 3),))
    s("scipy_qr_economic", "def f(a):\n    Q, R_ = scipy.linalg.qr(a, mode='economic')\n"
      "    return Q, R_\n", (R(4, 3),))
    s("svd_factors_abs", "def f(a):\n    U, S, Vt = np.linalg.svd(a, full_matrices=False)\n"
      "    return S, np.abs(U), np.abs(Vt)\n", (R(4, 3),))
    s("svd_reconstruct", "def f(a):\n    U, S, Vt = np.linalg.svd(a, full_matrices=False)\n"
      "    return (U * S) @ Vt\n", (R(3, 4),))
    s("svd_low_rank", "def f(a):\n    U, S, Vt = np.linalg.svd(a, full_matrices=False)\n"
      "    return (U[:, :2] * S[:2]) @ Vt[:2]\n", (R(4, 4),))
    s("eigen_sym", "def f(a):\n    w, V = np.linalg.eigh(a)\n    return w, V @ np.diag(w) @ V.T\n",
      (spd(3),))
    s("eigen_sym_projector", "def f(a):\n    w, V = np.linalg.eigh(a)\n    return np.outer(V[:, 2], V[:, 2])\n",
      (spd(3),))
    s("eigen_general", "def f(a):\n    w, V = np.linalg.eig(a)\n    i = np.argsort(np.real(w))\n"
      "    return np.real(w[i])\n", (np.diag([1.0, 2.0, 4.0]) + R(3, 3) * 0.2,))
    s("eigvals_complex_pair", "np.sort(np.abs(np.linalg.eigvals(a)))",
      (np.array([[0.5, -2.0, 0.1], [2.0, 0.3, 0.0], [0.1, 0.2, 3.0]]),))
    s("scipy_eigh_generalized", "scipy.linalg.eigh(a, b, eigvals_only=True)", (spd(3), spd(3)),
      wrt=(0, 1))
    s("scipy_svd", "scipy.linalg.svdvals(a)", (R(3, 4),))
    s("polar_decomp", "def f(a):\n    u, p = scipy.linalg.polar(a)\n    return u, p\n", (well(3),))
    s("funm_like_expm_frechet", "scipy.linalg.expm(a) @ scipy.linalg.expm(-a)", (R(3, 3) * 0.3,))
    # Zygote gradcheck.jl
    s("zy_logsumexp_dims", "scipy.special.logsumexp(a, axis=1)", (R(3, 4),))
    s("zy_softmax_dims", "scipy.special.softmax(a, axis=0)", (R(3, 4),))
    s("zy_circshift", "np.roll(a, (1, -1), axis=(0, 1))", (R(3, 4),))
    s("zy_permutedims", "np.transpose(a, (1, 2, 0))", (R(2, 3, 4),))
    s("zy_hcat_vcat", "np.hstack([a, b.T]) + np.vstack([a.T, b]).T", (R(3, 2), R(2, 3)), wrt=(0, 1))
    s("zy_cat_dims3", "np.concatenate([a, b], axis=2)", (R(2, 2, 1), R(2, 2, 3)), wrt=(0, 1))
    s("zy_repeat_inner_outer", "np.tile(np.repeat(a, 2, axis=0), (1, 3))", (R(2, 2),))
    s("zy_reverse_dims", "a[::-1, :] + a[:, ::-1]", (R(3, 3),))
    s("zy_view_getindex", "a[1:, ::2] * a[0, 1]", (R(3, 4),))
    s("zy_fill_broadcast", "np.full((3,), 1.0) * a", (R(3),))
    s("zy_broadcast_pow", "a ** b[:, None]", (U(0.5, 2, 4), R(3)), wrt=(0, 1))
    s("zy_broadcast_max", "np.maximum(a, b[:, None])", (Dist(4), Dist(3) + 0.0061), wrt=(0, 1))
    s("zy_ldiv_vec", "np.linalg.solve(a, b)", (well(3), R(3)), wrt=(0, 1))
    s("zy_pinv_tall", "np.linalg.pinv(a)", (R(4, 2),))
    s("zy_kron_vec", "np.kron(a, b)", (R(3), R(2)), wrt=(0, 1))
    s("zy_diag_tr", "np.trace(np.diag(a) @ b)", (R(3), R(3, 3)), wrt=(0, 1))
    s("zy_cumsum_rev", "np.cumsum(a[::-1], axis=0)", (R(4, 2),))
    s("zy_minimum_dims", "np.min(a, axis=0)", (Dist(3, 4),))
    s("zy_var_dims_corrected", "np.var(a, axis=0, ddof=1)", (R(4, 3),))
    s("zy_std_mean_given", "np.sqrt(np.sum((a - np.mean(a)) ** 2) / (a.size - 1))", (R(5),))
    s("zy_prod_with_neg", "np.prod(a)", (Away(5),))
    s("zy_sum_abs2_mat", "np.sum(np.abs(a @ b) ** 2)", (R(2, 3), R(3, 2)), wrt=(0, 1))
    s("zy_dot_self", "a @ a", (R(4),))
    s("zy_reshape_vec", "np.reshape(a, -1) @ b.ravel()", (R(2, 3), R(3, 2)), wrt=(0, 1))
    s("zy_mapreduce_max", "np.max(np.abs(a))", (Away(6),))
    s("zy_conv1d", "np.convolve(a, b, mode='valid')", (R(6), R(3)), wrt=(0, 1))
    s("zy_logdet_complex", "np.linalg.slogdet(a)[1]", (well(3) + 1j * R(3, 3) * 0.3,))
    s("zy_complex_sum_real", "np.sum(np.real(a * np.conj(b)))", (C(3), C(3)), wrt=(0, 1))
    s("zy_complex_imag_loss", "np.imag(np.sum(a ** 2))", (C(3),))
    s("zy_tuple_return", "def f(a):\n    t = (a * 2.0, np.sin(a))\n    return t[0] + t[1]\n", (R(3),))
    s("zy_dict_params", "def f(a, b):\n    p = {'w': a, 'b': b}\n    return np.tanh(p['w'] @ np.ones(3) + p['b'])\n",
      (R(2, 3), R(2)), wrt=(0, 1))
    return s.out


# ------------------------------------------------------------------ edge values and spellings


def edge_cases():
    """Special points and spellings from the same upstream files: JAX's
    GRAD_SPECIAL_VALUE records and lax_numpy FFT tests (odd ``n`` for
    ``irfft``, truncation, ``norm='forward'``, ``hfft``), PyTorch OpInfo's
    edge samples (float32 arithmetic inside the function, ``dtype=``
    reductions, overlapping in-place updates of a copy), N-d ``np.dot``
    (which is not matmul), Zygote's ``x .^ 2`` at 0 and friends."""
    s = _Area("edge10", SCIPY)
    # special values (second order is checked by the sweep)
    s("sinc_at_zero", "np.sinc(a)", (np.array([0.0, 0.5, -1.5]),))
    s("arcsinh_large", "np.arcsinh(a)", (np.array([1000.0, -1000.0, 0.0]),))
    s("arccosh_large", "np.arccosh(a)", (np.array([1000.0, 1.5]),))
    s("arctanh_zero", "np.arctanh(a)", (np.array([0.0, 0.3]),))
    s("logaddexp_far", "np.logaddexp(a, b)", (np.array([800.0, -800.0, 0.0]), np.array([0.0, 0.0, 0.0])),
      wrt=(0, 1))
    s("expit_far", "scipy.special.expit(a)", (np.array([-700.0, 700.0, 0.0]),))
    s("log_ndtr_far", "scipy.special.log_ndtr(a)", (np.array([-40.0, -10.0, 8.0]),))
    s("abs_cubed_at_zero", "np.abs(a) ** 3", (np.array([0.0, 0.5, -1.0]),))
    s("square_at_zero", "a ** 2 + a ** 2.0 + np.square(a)", (np.array([0.0, -0.7]),))
    s("pow_half_pos", "a ** 1.5", (np.array([1e-3, 2.0]),))
    s("x_log_x", "scipy.special.xlogy(a, a)", (np.array([0.3, 1.0, 2.5]),))
    s("entr_one", "scipy.special.entr(a)", (np.array([1.0, 0.5, 2.0]),))
    s("erfc_tail", "scipy.special.erfc(a)", (np.array([5.0, -3.0, 0.0]),))
    s("erfcx_large", "scipy.special.erfcx(a)", (np.array([50.0, 3.0, -1.0]),))
    s("gammaln_neg", "scipy.special.gammaln(a)", (np.array([-0.5, -1.5, 0.3]),))
    s("digamma_neg", "scipy.special.digamma(a)", (np.array([-0.5, -2.3, 4.0]),))
    s("tanh_large", "np.tanh(a)", (np.array([30.0, -30.0, 0.1]),))
    s("softplus_far", "np.logaddexp(0.0, a)", (np.array([-50.0, 50.0, 0.3]),))
    s("log1p_near_neg1", "np.log1p(a)", (np.array([-0.999, 1e-12, 3.0]),))
    s("expm1_tiny", "np.expm1(a)", (np.array([1e-12, -1e-8, 2.0]),))
    s("hypot_one_zero", "np.hypot(a, b)", (np.array([0.0, 3.0]), np.array([2.0, 0.0])), wrt=(0, 1))
    s("arctan2_on_axis", "np.arctan2(a, b)", (np.array([0.0, 1.0, 0.0]), np.array([1.0, 0.0, -1.0])),
      wrt=(0, 1))
    s("norm_cubed_zero", "np.linalg.norm(a) ** 3", (np.zeros(3),))
    # FFT edges
    z4 = np.fft.rfft(R(6))
    for n in (5, 6, 7, 8, 3):
        s(f"irfft_n{n}", f"np.fft.irfft(a, n={n})", (z4,))
    s("irfft_forward", "np.fft.irfft(a, norm='forward')", (z4,))
    s("irfft_ortho_odd", "np.fft.irfft(a, 7, norm='ortho')", (z4,))
    s("rfft_odd_n", "np.fft.rfft(a, n=7)", (R(5),))
    s("rfft_truncate", "np.fft.rfft(a, n=4)", (R(6),))
    s("fft_truncate", "np.fft.fft(a, n=3)", (C(5),))
    s("fft_forward", "np.fft.fft(a, norm='forward')", (R(5),))
    s("ifft_forward", "np.fft.ifft(a, norm='forward')", (C(4),))
    s("hfft", "np.fft.hfft(a)", (C(4),))
    s("hfft_odd", "np.fft.hfft(a, n=7)", (C(4),))
    s("ihfft", "np.fft.ihfft(a)", (R(6),))
    s("ihfft_odd", "np.fft.ihfft(a, n=5)", (R(6),))
    s("irfft2_odd", "np.fft.irfft2(a, s=(4, 5))", (np.fft.rfft2(R(4, 6)),))
    s("irfftn_axes", "np.fft.irfftn(a, s=(3, 5), axes=(0, 2))", (np.fft.rfftn(R(3, 2, 6), axes=(0, 2)),))
    s("rfftn_axes_odd", "np.fft.rfftn(a, axes=(2, 0))", (R(3, 2, 5),))
    s("fft2_axes", "np.fft.fft2(a, axes=(0, 2))", (R(2, 3, 4),))
    s("fftn_s_pad", "np.fft.fftn(a, s=(4, 6))", (C(3, 4),))
    s("fft_power_spectrum", "np.abs(np.fft.rfft(a)) ** 2", (R(8),))
    s("fftshift_freq", "np.fft.fftshift(np.fft.fft(a)) * np.fft.fftfreq(6)", (R(6),))
    s("rfft_irfft_roundtrip", "np.fft.irfft(np.fft.rfft(a) * np.exp(-np.arange(4.0)), n=7)", (R(7),))
    # float32 inside the function, dtype= reductions
    s("astype_f32", "np.sum(a.astype(np.float32) ** 2)", (R(4),), rtol=1e-3, atol=1e-4)
    s("f32_const_mul", "np.float32(2.5) * a", (R(4),))
    s("sum_dtype_f32", "np.sum(a, dtype=np.float32)", (R(4),), rtol=1e-3, atol=1e-4)
    s("mean_dtype", "np.mean(a, axis=0, dtype=np.float64)", (R(3, 2).astype(np.float32),),
      rtol=1e-3, atol=1e-4)
    s("cumsum_dtype", "np.cumsum(a, dtype=np.float64)", (R(4).astype(np.float32),), rtol=1e-3,
      atol=1e-4)
    s("f32_f64_mix", "a * b", (R(3).astype(np.float32), R(3)), wrt=(0, 1), rtol=1e-3, atol=1e-4)
    # overlapping in-place updates on a copy (NumPy copies the overlapping operand)
    s("iadd_overlap_shift", "def f(a):\n    y = a.copy()\n    y[1:] += y[:-1]\n    return y\n",
      (R(5),))
    s("imul_overlap_reverse", "def f(a):\n    y = a * 1.0\n    y *= y[::-1]\n    return y\n",
      (R(5),))
    s("setitem_overlap", "def f(a):\n    y = a.copy()\n    y[1:] = y[:-1] * 2.0\n    return y * a\n",
      (R(5),))
    s("iadd_transpose_self", "def f(a):\n    y = a.copy()\n    y += y.T\n    return y\n",
      (R(3, 3),))
    s("cumsum_out_of_place_loop", "def f(a):\n    y = a.copy()\n    for i in range(1, 5):\n"
      "        y[i] = y[i] + y[i - 1]\n    return y\n", (R(5),))
    # N-d np.dot / inner / outer (not matmul)
    s("dot_3d_1d", "np.dot(a, b)", (R(2, 3, 4), R(4)), wrt=(0, 1))
    s("dot_1d_3d", "np.dot(b, a)", (R(2, 3, 4), R(3)), wrt=(0, 1))
    s("dot_3d_3d", "np.dot(a, b)", (R(2, 3, 4), R(2, 4, 2)), wrt=(0, 1))
    s("dot_2d_3d", "np.dot(a, b)", (R(3, 4), R(2, 4, 2)), wrt=(0, 1))
    s("inner_3d_2d", "np.inner(a, b)", (R(2, 2, 3), R(4, 3)), wrt=(0, 1))
    s("outer_complex", "np.outer(a, b)", (C(3), C(2)), wrt=(0, 1))
    s("tensordot_neg_axes", "np.tensordot(a, b, axes=([-1], [0]))", (R(2, 3), R(3, 2)), wrt=(0, 1))
    s("einsum_ellipsis_broadcast", "np.einsum('...i,...i->...', a, b)", (R(3, 1, 4), R(2, 4)),
      wrt=(0, 1))
    s("matrix_power_5", "np.linalg.matrix_power(a, 5)", (R(3, 3) * 0.5,))
    s("matmul_self_T", "a @ a.T", (R(3, 2),))
    s("matmul_complex_conj", "a @ np.conj(a).T", (C(2, 3),))
    # Zygote / ChainRules points
    s("pow2_at_zero_vec", "np.sum(a ** 2)", (np.zeros(3),))
    s("prod_all_ones", "np.prod(a)", (np.ones(4),))
    s("sum_abs2_complex_zero", "np.sum(np.abs(a) ** 2)", (np.zeros(3, complex) + np.array([0, 1j, 1]),))
    s("max_of_one", "np.max(a)", (np.array([1.5]),))
    s("logsumexp_single", "scipy.special.logsumexp(a)", (np.array([0.7]),))
    s("mean_empty_axis_keep", "np.mean(a, axis=0)", (R(1, 3),))
    s("var_single_obs", "np.var(a, axis=1)", (R(3, 1),))
    s("norm_one_elem", "np.linalg.norm(a)", (np.array([-2.0]),))
    s("det_1x1", "np.linalg.det(a)", (np.array([[3.0]]),))
    s("inv_1x1_batch", "np.linalg.inv(a)", (np.array([[[3.0]], [[-0.5]]]),))
    s("eigh_1x1", "np.linalg.eigh(a)[0]", (np.array([[2.0]]),))
    s("svd_1xn", "np.linalg.svd(a, compute_uv=False)", (R(1, 4),))
    s("cholesky_1x1", "np.linalg.cholesky(a)", (np.array([[4.0]]),))
    s("solve_1x1", "np.linalg.solve(a, b)", (np.array([[2.0]]), np.array([3.0])), wrt=(0, 1))
    return s.out


# ------------------------------------------------------------------ more of the jnp function table


def table_cases():
    """The rest of lax_numpy_test's function table that has a gradient:
    every ``quantile`` method, ``nanquantile``/``nanmedian``, ``gradient``
    with spacings and ``edge_order``, ``interp`` of complex values,
    ``apply_along_axis``, ``bincount`` weights, ``digitize``-selected values,
    ``insert``/``delete``/``append``, ``linspace``/``logspace``/``geomspace``
    with differentiated ends, ``np.polynomial`` classes, ``emath``,
    ``copyto``/``place``/``put``/``fill_diagonal`` on copies, ``unique``
    values, ``trim_zeros``, ``histogram`` weights."""
    s = _Area("jax-laxnp-table", SCIPY)
    d7 = Dist(7)
    for meth in ("inverted_cdf", "averaged_inverted_cdf", "closest_observation",
                 "interpolated_inverted_cdf", "hazen", "weibull", "linear", "median_unbiased",
                 "normal_unbiased", "lower", "higher", "midpoint", "nearest"):
        s(f"quantile_method[{meth}]", f"np.quantile(a, [0.13, 0.5, 0.77], method='{meth}')", (d7,))
        s(f"quantile_method_axis[{meth}]", f"np.quantile(a, 0.37, axis=1, method='{meth}')",
          (Dist(2, 6),))
    nanx = Dist(2, 5)
    s("nanquantile", "np.nanquantile(np.where(a > 0.9, np.nan, a), [0.25, 0.6], axis=1)", (nanx,))
    s("nanmedian_axis", "np.nanmedian(np.where(a > 0.9, np.nan, a), axis=0)", (Dist(5, 3),))
    s("nanpercentile", "np.nanpercentile(np.where(a > 0.9, np.nan, a), 30.0)", (nanx,))
    s("gradient_1d", "np.gradient(a)", (R(6),))
    s("gradient_spacing", "np.gradient(a, 0.5)", (R(6),))
    s("gradient_coords", "np.gradient(a, np.array([0.0, 0.4, 1.1, 1.5, 2.6, 3.0]))", (R(6),))
    s("gradient_coords_diff", "np.gradient(a, b)", (R(6), np.array([0.0, 0.4, 1.1, 1.5, 2.6, 3.0])),
      wrt=(0, 1))
    s("gradient_edge2", "np.gradient(a, edge_order=2)", (R(6),))
    s("gradient_edge2_coords", "np.gradient(a, np.array([0.0, 0.4, 1.1, 1.5, 2.6, 3.0]), edge_order=2)",
      (R(6),))
    s("gradient_2d_axis", "np.gradient(a, axis=1)", (R(3, 4),))
    s("gradient_2d_both", "def f(a):\n    gy, gx = np.gradient(a, 0.5, 2.0)\n    return gy * gx\n",
      (R(3, 4),))
    s("interp_complex_fp", "np.interp(a, np.array([0.0, 1.0, 2.0]), b)", (U(0.1, 1.9, 4), C(3)),
      wrt=(0, 1))
    s("apply_along_axis", "np.apply_along_axis(lambda r: np.sum(r ** 2), 1, a)", (R(3, 4),))
    s("apply_along_axis_vec", "np.apply_along_axis(np.cumsum, 0, a)", (R(3, 4),))
    s("bincount_weights", "np.bincount(np.array([0, 2, 2, 1, 0]), weights=a, minlength=4)", (R(5),))
    s("digitize_select", "a[np.digitize(np.array([0.1, 0.5, 0.9]), np.array([0.2, 0.6]))]", (R(3),))
    s("searchsorted_values", "a[np.searchsorted(np.array([0.0, 1.0, 2.0]), np.array([0.5, 1.5]))]",
      (R(4),))
    s("insert", "np.insert(a, [1, 3], b)", (R(4), R(2)), wrt=(0, 1))
    s("insert_axis", "np.insert(a, 1, b, axis=1)", (R(3, 2), R(3)), wrt=(0, 1))
    s("delete", "np.delete(a, [0, 2], axis=1)", (R(3, 4),))
    s("append_axis", "np.append(a, b, axis=0)", (R(2, 3), R(1, 3)), wrt=(0, 1))
    s("linspace_ends", "np.linspace(a, b, 5)", (0.3, 2.1), wrt=(0, 1))
    s("linspace_array_ends", "np.linspace(a, b, 4, axis=1)", (R(2), R(2)), wrt=(0, 1))
    s("linspace_no_endpoint", "np.linspace(a, b, 4, endpoint=False)", (0.3, 2.1), wrt=(0, 1))
    s("logspace", "np.logspace(a, b, 4)", (0.1, 1.2), wrt=(0, 1))
    s("geomspace", "np.geomspace(a, b, 4)", (0.5, 3.0), wrt=(0, 1))
    s("polynomial_polyval", "np.polynomial.polynomial.polyval(a, b)", (R(4), R(3)), wrt=(0, 1))
    s("polynomial_class", "np.polynomial.Polynomial(b)(a)", (R(4), R(3)), wrt=(0, 1))
    s("chebval", "np.polynomial.chebyshev.chebval(a, b)", (U(-1, 1, 4), R(3)), wrt=(0, 1))
    s("hermval", "np.polynomial.hermite.hermval(a, b)", (R(4), R(3)), wrt=(0, 1))
    s("legval", "np.polynomial.legendre.legval(a, b)", (U(-1, 1, 4), R(3)), wrt=(0, 1))
    s("emath_sqrt_neg", "np.emath.sqrt(a)", (np.array([-2.0, 3.0, -0.5]),))
    s("emath_log_neg", "np.emath.log(a)", (np.array([-2.0, 3.0]),))
    s("copyto_where", "def f(a, b):\n    y = a.copy()\n    np.copyto(y, b, where=b > 0)\n    return y * a\n",
      (R(4), Away(4)), wrt=(0, 1))
    s("place", "def f(a):\n    y = a.copy()\n    np.place(y, y > 0, np.array([9.0, 8.0]))\n    return y * a\n",
      (Away(5),))
    s("put", "def f(a, b):\n    y = a.copy()\n    np.put(y, [0, 3], b)\n    return y\n", (R(5), R(2)),
      wrt=(0, 1))
    s("put_along_axis", "def f(a, b):\n    y = a.copy()\n    np.put_along_axis(y, np.array([[1], [0]]), b, axis=1)\n"
      "    return y\n", (R(2, 3), R(2, 1)), wrt=(0, 1))
    s("fill_diagonal", "def f(a):\n    y = a.copy()\n    np.fill_diagonal(y, 2.0)\n    return y * a\n",
      (R(3, 3),))
    s("unique_values", "np.unique(a)", (np.array([0.5, -1.0, 0.7, 2.0]),))
    s("trim_zeros", "np.trim_zeros(a * np.array([0.0, 1.0, 1.0, 0.0]))", (R(4),))
    s("histogram_weights", "np.histogram(np.array([0.1, 0.4, 0.45, 0.9]), bins=3, range=(0.0, 1.0), weights=a)[0]",
      (R(4),))
    s("sort_complex", "np.real(np.sort_complex(a))", (Dist(4) + 0j,))
    s("real_if_close", "np.real_if_close(a + 0j)", (R(3),))
    s("rint_fix_zero", "np.rint(a) + np.fix(a) + a", (U(0.1, 0.4, 3),))
    s("isclose_mask", "np.where(np.isclose(a, 0.5, atol=0.2), a, 2.0 * a)", (np.array([0.4, 1.0, 0.55]),))
    s("vectorize", "np.vectorize(lambda t: t ** 2 + 1.0)(a)", (R(3),))
    return s.out


# ------------------------------------------------------------------ complex inputs (ChainRules' complex rules)


def complex_cases():
    """ChainRules.jl tests most rules with complex inputs too (``test_rrule``
    over ``ComplexF64``), as does PyTorch's OpInfo (``dtypes=...complex``)
    and autograd's test_complex: the NumPy functions again, complex."""
    s = _Area("complex10", SCIPY)
    z, w, Z = C(4), C(4), C(3, 3)
    un = ["np.exp(a)", "np.log(a)", "np.sqrt(a)", "np.sin(a)", "np.cos(a)", "np.tan(a)",
          "np.sinh(a)", "np.cosh(a)", "np.tanh(a)", "np.arcsin(a)", "np.arccos(a)",
          "np.arctan(a)", "np.arcsinh(a)", "np.arccosh(a)", "np.arctanh(a)", "np.log10(a)",
          "np.log2(a)", "np.log1p(a)", "np.expm1(a)", "np.exp2(a)", "np.square(a)",
          "np.reciprocal(a)", "np.conj(a)", "np.abs(a)", "np.angle(a)", "np.real(a)",
          "np.imag(a)", "a ** 3", "a ** 0.5", "a ** -1.5", "1.0 / a", "np.power(a, 2.5 + 0.5j)",
          "np.cumsum(a)", "np.cumprod(a)", "np.prod(a)", "np.sum(a)", "np.mean(a)",
          "np.var(a)", "np.std(a)", "np.diff(a)", "np.trapezoid(a)", "np.flip(a)", "np.roll(a, 1)",
          "np.sinc(a)", "scipy.special.logsumexp(a)",
          "scipy.special.erf(a)", "np.polyval(a, 0.5 + 0.2j)", "np.polyval(np.array([1.0, 2.0, 3.0]), a)",
          "np.linalg.norm(a)", "np.linalg.norm(a, 1)", "np.linalg.norm(a, 3)", "np.linalg.norm(a, np.inf)",
          "np.fft.fft(a)", "np.fft.ifft(a)", "np.kron(a, a[:2])", "np.outer(a, a)", "np.vdot(a, a)",
          "np.dot(a, a)", "np.inner(a, a[::-1])", "np.einsum('i,i->', a, a)", "np.tile(a, 2)",
          "np.pad(a, 2, mode='reflect')", "np.cumsum(a[::-1])", "np.sum(a * np.conj(a))",
          "np.where(np.real(a) > 0, a, a ** 2)", "np.tensordot(a, a, 0)",
          "np.convolve(a, np.array([1.0, 2.0j]))", "np.interp(np.real(a), np.array([-3.0, 3.0]), np.array([1.0 + 1j, 2.0 - 1j]))"]
    for e in un:
        s(f"c:{e}", e, (z,))
    s("c:arccosh_real_above_1", "np.arccosh(a)", (C(3) + 3.0,))
    bi = ["a * b", "a / b", "a ** b", "np.power(a, b)", "np.dot(a, b)", "np.vdot(a, b)",
          "np.inner(a, b)", "np.outer(a, b)", "np.kron(a, b)", "np.convolve(a, b)",
          "np.correlate(a, b, 'full')", "np.cross(a[:3], b[:3])", "np.linalg.vecdot(a, b)",
          "np.matvec(np.outer(a, b), a)", "np.einsum('i,j->ij', a, b)", "np.where(np.abs(a) > 1, a, b)",
          "np.maximum(np.real(a), np.real(b)) * a", "np.logaddexp(np.real(a), np.real(b)) * b",
          "np.stack([a, b]) * np.concatenate([b, a]).reshape(2, 4)", "np.hypot(np.real(a), np.imag(b))"]
    for e in bi:
        s(f"c2:{e}", e, (z, w), wrt=(0, 1))
    s("c2:cross_2vec", "np.cross(a, b)", (C(3, 2), C(3, 2)), wrt=(0, 1))
    s("c2:cross_axes_real_complex", "np.cross(a, b, axisa=0, axisc=0)", (R(3, 2), C(2, 3)),
      wrt=(0, 1))
    s("c2:cross_broadcast", "np.cross(a, b)", (C(3), C(4, 3)), wrt=(0, 1))
    s("c2:real_times_complex", "a * b", (R(4), w), wrt=(0, 1))
    s("c2:real_matmul_complex", "a @ b", (R(2, 3), C(3, 2)), wrt=(0, 1))
    mats = ["np.linalg.inv(a)", "np.linalg.det(a)", "np.linalg.slogdet(a)[1]", "np.trace(a @ a)",
            "np.linalg.solve(a, a[:, 0])", "np.linalg.matrix_power(a, 3)",
            "np.linalg.matrix_power(a, -2)", "np.linalg.pinv(a)", "np.linalg.norm(a, 'fro')",
            "np.linalg.norm(a, 'nuc')", "np.linalg.norm(a, 2)", "np.linalg.norm(a, 1)",
            "np.linalg.norm(a, -np.inf)", "np.linalg.svd(a, compute_uv=False)",
            "np.linalg.eigvalsh(a + np.conj(a).T)", "np.linalg.cholesky(a @ np.conj(a).T + 3 * np.eye(3))",
            "scipy.linalg.expm(a * 0.3)", "np.conj(a).T @ a", "a.T @ a", "np.triu(a) @ np.tril(a)",
            "np.linalg.qr(a)[1]", "np.abs(np.linalg.qr(a)[0])", "np.linalg.eigh(a + np.conj(a).T)[0]",
            "scipy.linalg.solve_triangular(np.triu(a) + 3 * np.eye(3), a[:, 1])",
            "scipy.linalg.lu_solve(scipy.linalg.lu_factor(a + 3 * np.eye(3)), a[:, 2])",
            "scipy.linalg.sqrtm(a @ np.conj(a).T + np.eye(3))", "np.linalg.lstsq(a, a[:, 0] + 1.0)[0]",
            "np.fft.fft2(a)", "np.fft.ifftn(a, axes=(0,))", "np.diag(a)", "np.diagonal(a, 1)",
            "np.sort(np.abs(np.linalg.eigvals(a)))"]
    for e in mats:
        s(f"cm:{e}", e, (Z + 2.0 * np.eye(3),))
    return s.out


# ------------------------------------------------------------------ ufunc methods (mapreduce)


def ufunc_method_cases():
    """ChainRules' mapreduce rules (``reduce``/``foldl``/``accumulate`` over
    an operator, with ``dims`` and ``init``) and JAX's reducer tests of
    ``jnp.<ufunc>.reduce/accumulate/outer/at``, in NumPy's ufunc-method
    spelling."""
    s = _Area("ufunc10", SCIPY)
    m = R(3, 4)
    for op in ("add", "multiply", "maximum", "minimum", "logaddexp", "hypot", "logaddexp2",
               "fmax", "fmin"):
        x = Dist(3, 4) if op in ("maximum", "minimum", "fmax", "fmin") else (
            U(0.5, 1.5, 3, 4) if op == "multiply" else m)
        s(f"{op}.reduce_axis0", f"np.{op}.reduce(a, axis=0)", (x,))
        s(f"{op}.reduce_none", f"np.{op}.reduce(a, axis=None)", (x,))
        s(f"{op}.reduce_keepdims", f"np.{op}.reduce(a, axis=1, keepdims=True)", (x,))
        s(f"{op}.accumulate", f"np.{op}.accumulate(a, axis=1)", (x,))
        s(f"{op}.outer", f"np.{op}.outer(a, b)", (x[0], x[1] + 0.0123), wrt=(0, 1))
    s("add.reduce_initial_where", "np.add.reduce(a, axis=1, initial=1.5, where=np.array([True, False, True, True]))",
      (m,))
    s("multiply.reduce_initial", "np.multiply.reduce(a, axis=0, initial=2.0)", (U(0.5, 1.5, 3, 4),))
    s("maximum.reduce_initial", "np.maximum.reduce(a, axis=1, initial=0.2)", (Dist(3, 4),))
    s("add.reduce_tuple_axes", "np.add.reduce(a, axis=(0, 2))", (R(2, 3, 2),))
    s("subtract.accumulate", "np.subtract.accumulate(a)", (R(5),))
    s("divide.accumulate", "np.divide.accumulate(a)", (U(0.5, 2, 5),))
    s("true_divide.reduce", "np.divide.reduce(a)", (U(0.5, 2, 4),))
    s("subtract.reduce_axis", "np.subtract.reduce(a, axis=1)", (m,))
    s("power.outer", "np.power.outer(a, b)", (U(0.5, 2, 3), R(2)), wrt=(0, 1))
    s("subtract.outer_2d", "np.subtract.outer(a, b)", (R(2, 2), R(3)), wrt=(0, 1))
    s("arctan2.outer", "np.arctan2.outer(a, b)", (R(3), Away(2)), wrt=(0, 1))
    s("add.reduceat", "np.add.reduceat(a, [0, 2, 3])", (R(6),))
    s("add.reduceat_axis", "np.add.reduceat(a, [0, 1, 3], axis=1)", (m,))
    s("add.reduceat_decreasing", "np.add.reduceat(a, [0, 3, 1, 4])", (R(6),))
    s("multiply.reduceat", "np.multiply.reduceat(a, [0, 2])", (U(0.5, 1.5, 5),))
    s("maximum.reduceat", "np.maximum.reduceat(a, [0, 2, 4])", (Dist(6),))
    s("add.at_2d", "def f(a, b):\n    y = a * 1.0\n    np.add.at(y, (np.array([0, 0, 2]), np.array([1, 1, 3])), b)\n"
      "    return y\n", (m, R(3)), wrt=(0, 1))
    s("subtract.at", "def f(a, b):\n    y = a * 1.0\n    np.subtract.at(y, [1, 1], b)\n    return y\n",
      (R(3), R(2)), wrt=(0, 1))
    s("minimum.at", "def f(a, b):\n    y = a * 1.0\n    np.minimum.at(y, [0, 2, 2], b)\n    return y\n",
      (Dist(3), Dist(3) + 0.0123), wrt=(0, 1))
    s("multiply.at_repeat", "def f(a, b):\n    y = a * 1.0\n    np.multiply.at(y, [1, 1, 2], b)\n    return y\n",
      (R(3), R(3)), wrt=(0, 1))
    s("add.accumulate_dtype", "np.add.accumulate(a, dtype=np.float64)", (R(4).astype(np.float32),),
      rtol=1e-3, atol=1e-4)
    s("logaddexp.accumulate_axis0", "np.logaddexp.accumulate(a, axis=0)", (m,))
    return s.out


ALL = {
    "laxnumpy": laxnumpy_cases,
    "laxautodiff": laxautodiff_cases,
    "stats": stats_cases,
    "opinfo": opinfo_cases,
    "linalg": linalg_cases,
    "chainrules": chainrules_cases,
    "edge": edge_cases,
    "table": table_cases,
    "complex": complex_cases,
    "ufunc": ufunc_method_cases,
}
