"""Survey: which functions autograd and JAX differentiate does s2sgrad support?

The name lists below were written by hand from autograd's rule modules
(autograd/numpy/numpy_vjps.py, numpy/linalg.py, numpy/fft.py,
autograd/scipy/{special,stats/*,signal,linalg,integrate,misc}.py) and from
the JAX namespaces users commonly differentiate (jax.numpy, jax.numpy.linalg,
jax.numpy.fft, jax.scipy.special, jax.scipy.stats, jax.scipy.linalg).  Each
name is looked up in the installed NumPy/SciPy and checked against s2sgrad's
rule table (``core.lookup_object``; for ``scipy.stats`` the registered bound
methods).  Constructs lowered by the compiler rather than by a table entry
(``sorted(key=...)``, ``np.vectorize``, 2-d ``np.gradient``, ...) are checked
by compiling a small gradient (``PROBES``).

Run:  PYTHONPATH=. python tools/survey_coverage.py [--missing]
Prints counts (supported / refused / absent from the installed library) by
module, and with ``--missing`` the refused names.
"""
import argparse
import functools

import numpy as np
import scipy.integrate
import scipy.linalg
from scipy.integrate import odeint

import s2sgrad
from s2sgrad.primitives import core
from s2sgrad.supported import _module

AUTOGRAD = {
    "numpy": """where nan_to_num add multiply subtract divide maximum minimum fmax fmin
        logaddexp logaddexp2 true_divide mod remainder power negative abs fabs absolute
        reciprocal exp exp2 expm1 log log2 log10 log1p sin cos tan arcsin arccos arctan
        sinh cosh tanh arcsinh arccosh arctanh rad2deg degrees deg2rad radians square sqrt
        sinc reshape roll array_split split vsplit hsplit dsplit ravel expand_dims squeeze
        diag flipud fliplr rot90 trace full triu tril clip swapaxes moveaxis rollaxis
        real_if_close real imag conj conjugate angle cross linspace diff repeat tile kron
        transpose sum mean prod var std max min amax amin cumsum inner matmul dot tensordot
        outer concatenate sort partition atleast_1d atleast_2d atleast_3d einsum diagonal
        array stack hstack vstack dstack column_stack""",
    "numpy.linalg": "det slogdet inv pinv solve norm eigh eig cholesky svd",
    "numpy.fft": """fft ifft fft2 ifft2 fftn ifftn rfft irfft rfft2 irfft2 rfftn irfftn
        fftshift ifftshift""",
    "scipy.special": """beta betainc betaln polygamma psi digamma gamma gammaln gammainc
        gammaincc gammasgn rgamma multigammaln j0 y0 j1 y1 jn yn i0 i1 iv ive erf erfc
        erfinv erfcinv logit expit logsumexp""",
    "scipy.linalg": "sqrtm solve_sylvester solve_triangular cho_factor cho_solve",
    "scipy.signal": "convolve",
    "scipy.integrate": "odeint",
    "scipy.stats": """beta.cdf beta.logpdf beta.pdf chi2.cdf chi2.logpdf chi2.pdf
        dirichlet.logpdf dirichlet.pdf gamma.cdf gamma.logpdf gamma.pdf
        multivariate_normal.logpdf multivariate_normal.pdf multivariate_normal.entropy
        norm.pdf norm.cdf norm.logpdf norm.logcdf norm.sf norm.logsf
        poisson.cdf poisson.logpmf poisson.pmf t.pdf t.cdf t.logpdf t.logcdf""",
}

JAX = {
    "numpy": """arctan2 hypot cbrt copysign float_power logaddexp i0 sinc heaviside ldexp
        fmod modf frexp divmod floor_divide positive pow acos asin atan atan2 acosh asinh
        atanh nansum nanmean nanmax nanmin nanprod nanstd nanvar nanmedian nancumsum
        nancumprod nanpercentile nanquantile cumprod cumulative_sum cumulative_prod average
        median percentile quantile ptp cov corrcoef convolve correlate interp polyval
        polyfit polyder polyint polymul polyadd polysub vander trapezoid gradient ediff1d
        select piecewise take take_along_axis put_along_axis block pad apply_along_axis
        vectorize meshgrid diagflat flip unwrap insert delete append resize broadcast_to
        broadcast_arrays fill_diagonal matrix_transpose vecdot vdot logspace geomspace
        full_like copy asarray histogram bincount permute_dims concat unique unstack
        apply_over_axes tril_indices triu_indices diag_indices searchsorted argsort argmax
        digitize isclose""",
    "numpy.linalg": """cholesky det eigh eigvalsh inv lstsq matrix_power norm pinv qr
        slogdet solve svd svdvals tensorinv tensorsolve multi_dot matrix_norm vector_norm
        cond eig eigvals matrix_rank vecdot outer cross trace diagonal tensordot""",
    "numpy.fft": "hfft ihfft fftfreq rfftfreq",
    "scipy.special": """entr exp1 expi expit expn factorial gammainc gammaincc i0e i1e
        kl_div log_ndtr logit logsumexp ndtr ndtri poch polygamma rel_entr spence xlog1py
        xlogy zeta hyp1f1 hyp2f1 log_softmax softmax bernoulli sph_harm_y lpmv gamma
        loggamma gammasgn comb erfcx""",
    "scipy.linalg": """block_diag cho_factor cho_solve cholesky det eigh eigvalsh expm
        expm_frechet funm hessenberg inv lu lu_factor lu_solve polar qr schur solve
        solve_triangular sqrtm svd toeplitz pinv norm lstsq logm svdvals""",
    "scipy.signal": "convolve correlate fftconvolve convolve2d correlate2d",
    "scipy.stats": """bernoulli.logpmf bernoulli.pmf bernoulli.cdf beta.logpdf beta.pdf
        beta.cdf beta.logcdf beta.sf beta.logsf betabinom.logpmf betabinom.pmf binom.logpmf
        binom.pmf cauchy.logpdf cauchy.pdf cauchy.cdf cauchy.logcdf cauchy.sf cauchy.logsf
        cauchy.ppf cauchy.isf chi2.logpdf chi2.pdf chi2.cdf chi2.logcdf chi2.sf chi2.logsf
        dirichlet.logpdf dirichlet.pdf expon.logpdf expon.pdf expon.cdf expon.logcdf
        expon.sf expon.logsf expon.ppf gamma.logpdf gamma.pdf gamma.cdf gamma.logcdf
        gamma.sf gamma.logsf gennorm.logpdf gennorm.pdf gennorm.cdf geom.logpmf geom.pmf
        gumbel_l.logpdf gumbel_l.pdf gumbel_l.cdf gumbel_l.logcdf gumbel_l.sf gumbel_l.logsf
        gumbel_l.ppf gumbel_r.logpdf gumbel_r.pdf gumbel_r.cdf gumbel_r.logcdf gumbel_r.sf
        gumbel_r.logsf gumbel_r.ppf laplace.logpdf laplace.pdf laplace.cdf logistic.logpdf
        logistic.pdf logistic.cdf logistic.sf logistic.isf logistic.ppf lognorm.logpdf
        lognorm.pdf lognorm.cdf multinomial.logpmf multinomial.pmf
        multivariate_normal.logpdf multivariate_normal.pdf nbinom.logpmf nbinom.pmf
        nbinom.cdf norm.logpdf norm.pdf norm.cdf norm.logcdf norm.sf norm.logsf norm.ppf
        norm.isf pareto.logpdf pareto.pdf poisson.logpmf poisson.pmf poisson.cdf t.logpdf
        t.pdf truncnorm.logpdf truncnorm.pdf truncnorm.cdf truncnorm.logcdf truncnorm.sf
        truncnorm.logsf uniform.logpdf uniform.pdf uniform.cdf uniform.ppf vonmises.logpdf
        vonmises.pdf wrapcauchy.logpdf wrapcauchy.pdf""",
}


# constructs the compiler lowers itself: (label, function, args)
def _p_gradient2d(x):
    gy, gx = np.gradient(x)
    return np.sum(gy * gx)


def _p_sorted_key(x):
    xs = [x[0, 0], x[1, 1], x[2, 2]]
    return sum(v * i for i, v in enumerate(sorted(xs, key=lambda v: -v)))


def _p_block(x):
    return np.sum(np.block([[x, x], [x, x]]) ** 2)


def _p_piecewise(x):
    return np.sum(np.piecewise(x, [x < 0, x >= 0], [lambda v: -v, lambda v: v ** 2]))


def _p_apply(x):
    return np.sum(np.apply_along_axis(lambda r: np.sum(r ** 2), 1, x))


def _p_vectorize(x):
    return np.sum(np.vectorize(lambda v: v ** 2 + 1.0)(x))


def _p_i0(x):
    return np.sum(np.i0(x))


def _p_mgrid(x):
    a, b = np.mgrid[0:3, 0:3]
    return np.sum(x * a + x * b)


def _p_ogrid(x):
    a, b = np.ogrid[0:3, 0:3]
    return np.sum(x * a + x * b)


def _p_eigvalsh(x):
    return np.sum(scipy.linalg.eigvalsh(x + x.T) ** 2)


def _p_odeint(x):
    ys = odeint(lambda y, t, a: -a * y, np.ones(3), np.array([0.0, 1.0]), args=(x[0, 0],))
    return np.sum(ys)


def _p_vectorize_signature(x):
    return np.sum(np.vectorize(lambda r, s: np.sum(r * s), signature="(n),(n)->()")(x, x[0]))


def _p_partial(x):
    return np.sum(functools.partial(np.sum, axis=0)(x) ** 2)


def _p_ufunc_out(x):
    c = np.empty_like(x)
    np.exp(x, out=c)
    return np.sum(c)


def _p_layout(x):
    return np.sum(np.ascontiguousarray(x.T) * np.asfortranarray(x))


def _p_gradient_nd(x):
    g = np.gradient(x, 0.5, edge_order=2)
    return np.sum(g[0] * g[1]) + np.sum(np.stack(np.gradient(x)) ** 2)


def _p_ufunc_at(x):
    y = x.copy()
    np.multiply.at(y, [0, 0, 2], x[1])
    np.maximum.at(y, [1, 1], x[2])
    np.minimum.at(y, [2], x[0])
    return np.sum(y ** 2)


def _p_complex_vdot_cov(x):
    z = x + 1j * x.T
    return np.real(np.vdot(z, z * (1 + 2j))) + np.real(np.sum(np.cov(z)))


def _p_logm(x):
    return np.sum(scipy.linalg.logm(x @ x.T + np.eye(3)))


PROBES = [("np.gradient 2-d", _p_gradient2d), ("np.gradient N-d, g[k]", _p_gradient_nd),
          ("multiply/maximum/minimum.at", _p_ufunc_at),
          ("complex vdot, cov", _p_complex_vdot_cov), ("scipy.linalg.logm", _p_logm), ("sorted(key=)", _p_sorted_key),
          ("np.block", _p_block), ("np.piecewise", _p_piecewise),
          ("np.apply_along_axis", _p_apply), ("np.vectorize", _p_vectorize),
          ("np.i0", _p_i0), ("np.mgrid", _p_mgrid), ("np.ogrid", _p_ogrid),
          ("scipy.linalg.eigvalsh", _p_eigvalsh), ("scipy.integrate.odeint", _p_odeint),
          ("np.vectorize signature=", _p_vectorize_signature),
          ("functools.partial", _p_partial), ("ufunc out=, empty_like", _p_ufunc_out),
          ("np.ascontiguousarray", _p_layout)]


def status(modname, name):
    """'supported', 'refused' or 'absent' (not in the installed library)."""
    mod = _module(modname)
    obj = mod
    for part in name.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return "absent"
    try:
        if core.lookup_object(obj) is not None:
            return "supported"
    except TypeError:
        pass
    # lowered by the compiler itself: functions that call the user's function
    # (np.vectorize, ...), in-place writers (np.put_along_axis, ...)
    from s2sgrad.lower.builtins import BUILTIN_CALLS
    from s2sgrad.lower.calls import inplace_function_of
    hit = BUILTIN_CALLS.get(id(obj))
    if (hit is not None and hit[0] is obj) or inplace_function_of(obj) is not None:
        return "supported"
    return "refused"


def probe(fn):
    x = np.array([[0.3, -1.2, 0.7], [1.1, 0.4, -0.5], [0.2, 0.9, -0.8]])
    try:
        s2sgrad.check_grads(fn, (x,))
        return "supported"
    except (s2sgrad.S2SGradError, ValueError, NotImplementedError) as e:
        return "refused (" + str(e).splitlines()[0][:70] + ")"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--missing", action="store_true", help="list the refused names")
    opts = ap.parse_args()
    core.load_optional_rules(force=True)
    totals = {}
    for source, table in (("autograd", AUTOGRAD), ("jax", JAX)):
        print(f"== {source}")
        for modname, names in table.items():
            res = {}
            for n in names.split():
                res.setdefault(status(modname, n), []).append(n)
            for k, v in res.items():
                totals[k] = totals.get(k, 0) + len(v)
            n = {k: len(res.get(k, [])) for k in ("supported", "refused", "absent")}
            print(f"  {modname:16s} supported {n['supported']:3d}  refused {n['refused']:3d}  "
                  f"absent {n['absent']:2d}")
            if opts.missing and res.get("refused"):
                print("      refused: " + " ".join(res["refused"]))
    print("== constructs (compiled probes)")
    for label, fn in PROBES:
        st = probe(fn)
        key = st.split()[0]
        totals[key] = totals.get(key, 0) + 1
        print(f"  {label:24s} {st}")
    print(f"== total: supported {totals.get('supported', 0)}, refused "
          f"{totals.get('refused', 0)}, absent from installed libraries {totals.get('absent', 0)}")


if __name__ == "__main__":
    main()
