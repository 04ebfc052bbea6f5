"""Walk NumPy's public functions (np.*, np.linalg.*, np.fft.*) and the
scipy.special / scipy.linalg / scipy.stats functions that JAX's
``jax.scipy`` implements, call each inside a function differentiated by
s2sgrad and classify it (session 22, cov9).

For every public callable the probe tries argument lists in turn (``x``,
``p``, ``u``, ``x, y``, ``A``, ...; the inputs of tools/probe_coverage.py)
until plain NumPy/SciPy returns a floating (or complex) result; that call
becomes a row ``np.sum(np.sin(<call>))`` (a tuple result: its first item; a
complex one: its real part) run through tools/probe_coverage.py's checker:

  ok       the value equals NumPy's and the gradient central differences
  refused  s2sgrad raised its own error (the message with ``--refused``)
  wrong    a value or a gradient differs
  crash    s2sgrad raised something else

Functions no argument list fits (I/O, printing, dtype helpers, integer or
boolean results: nothing to differentiate) are counted ``skipped`` and
listed with ``--skipped``.

Run:  PYTHONPATH=. python tools/probe_numpy_api.py [--refused] [--wrong] [--skipped]
                                                  [--only TEXT] [--save FILE]
"""
import argparse
import inspect
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import probe_coverage as pc  # noqa: E402
from s2sgrad.primitives import core  # noqa: E402

# argument lists tried in order (names are probe_coverage.inputs() keys)
CANDIDATES = ["x", "p", "u", "g", "x, y", "p, q", "A", "S", "A, B", "v", "pv", "v, w",
              "A, v[:3]", "A, 2", "x, 2", "x, 1", "x, 0.5", "p, 1.5", "t", "v, 3",
              # (tried last: arguments of functions the lists above do not fit)
              "p + 1.0", "p + 1.0, q", "x, (2, 6)", "x, (2, 3, 4)", "x, 0, 1", "g, g, g",
              "p, q, g", "p, q, p, g", "v, w, 2", "[A, B, S]", "v, w[:3]", "v, 1, w[0]"]

# never called: side effects, I/O, global state, or slow
SKIP = {"save", "savez", "savez_compressed", "savetxt", "load", "loadtxt", "genfromtxt",
        "fromfile", "tofile", "memmap", "seterr", "seterrcall", "setbufsize", "set_printoptions",
        "printoptions", "set_string_function", "show_config", "show_runtime", "info",
        "source", "lookfor", "who", "test", "deprecate", "deprecate_with_doc", "get_include",
        "add_newdoc", "add_docstring", "add_newdoc_ufunc", "copyto", "put", "place", "putmask",
        "fill_diagonal", "put_along_axis", "from_dlpack", "frombuffer", "fromregex",
        "fromstring", "require", "byte_bounds", "recfromcsv", "recfromtxt", "safe_eval",
        "disp", "asmatrix", "bmat", "mat", "nested_iters", "nditer", "broadcast", "vectorize",
        "frompyfunc", "piecewise", "apply_along_axis", "apply_over_axes", "fromfunction",
        "einsum_path", "busday_count", "busday_offset", "is_busday", "datetime_as_string",
        "datetime_data", "setxor1d", "get_printoptions", "geterr", "geterrcall", "getbufsize",
        "empty", "empty_like", "unique_all", "unique_counts", "unique_inverse", "unique_values", "asarray_chkfinite"}

# jax.scipy.special / jax.scipy.linalg names (what a JAX user differentiates)
JAX_SPECIAL = """bernoulli beta betainc betaln digamma entr erf erfc erfinv exp1 expi expit
expn factorial fresnel gamma gammainc gammaincc gammaln gammasgn hyp1f1 hyp2f1 i0 i0e i1 i1e
kl_div log_ndtr log_softmax logit logsumexp multigammaln ndtr ndtri poch polygamma rel_entr
softmax spence xlog1py xlogy zeta sph_harm lpmn""".split()
JAX_LINALG = """block_diag cho_factor cho_solve cholesky det eigh eigh_tridiagonal expm
expm_frechet funm hessenberg hilbert inv lu lu_factor lu_solve polar qr rsf2csf schur solve
solve_triangular sqrtm svd toeplitz""".split()
# jax.scipy.stats distributions and their methods
JAX_STATS = """beta cauchy chi2 expon gamma gennorm gumbel_l gumbel_r laplace logistic norm
pareto t truncnorm uniform vonmises""".split()
STATS_METHODS = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf"]
JAX_STATS_DISCRETE = {"poisson": "p", "geom": "g", "binom": "6, g", "nbinom": "3, g",
                      "bernoulli": "g", "betabinom": "6, p, q"}


def _usable(r):
    """The row expression's suffix for a result ``r`` of plain NumPy, or None."""
    if isinstance(r, tuple) and r:
        s = _usable(r[0])
        return None if s is None else "[0]" + s
    try:
        a = np.asarray(r)
    except Exception:
        return None
    if a.dtype.kind not in "fc" or a.size == 0 or not np.all(np.isfinite(a)):
        return None        # nothing to differentiate, or outside the domain: the next try
    if a.dtype.kind == "f":
        return ""
    if a.dtype.kind == "c":
        return "REAL"
    return None


def _try(call, inp):
    names = pc._names(call)
    env = {"np": np, **{k: inp[k].copy() for k in names}}
    import scipy, scipy.special, scipy.linalg, scipy.stats  # noqa: E401,F401
    env["scipy"] = scipy
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            r = eval(call, env)
        except Exception:
            return None
    return _usable(r)


def _row(qual, args, inp):
    call = f"{qual}({args})"
    suffix = _try(call, inp)
    if suffix is None:
        return None
    if suffix.endswith("REAL"):
        return f"np.real({call}{suffix[:-4]})"
    return call + suffix


def rows(inp):
    """``(rows, skipped)``: ``[(label, expression)]`` and the names no call fits."""
    import scipy.linalg
    import scipy.special
    import scipy.stats
    out, skipped = [], []
    spaces = [("np", np), ("np.linalg", np.linalg), ("np.fft", np.fft)]
    for prefix, mod in spaces:
        for name in sorted(dir(mod)):
            obj = getattr(mod, name)
            if name.startswith("_") or name in SKIP or isinstance(obj, type) or \
                    inspect.ismodule(obj) or not callable(obj):
                continue
            qual = f"{prefix}.{name}"
            cands = CANDIDATES
            if isinstance(obj, np.ufunc):        # no positional out= (np.isnan(x, y))
                cands = [a for a in CANDIDATES if a.count(",") + 1 == obj.nin]
            for args in cands:
                expr = _row(qual, args, inp)
                if expr is not None:
                    out.append((qual, expr))
                    break
            else:
                skipped.append(qual)
    for prefix, names, mod in [("scipy.special", JAX_SPECIAL, scipy.special),
                               ("scipy.linalg", JAX_LINALG, scipy.linalg)]:
        for name in names:
            qual = f"{prefix}.{name}"
            if not hasattr(mod, name):
                skipped.append(qual)
                continue
            for args in CANDIDATES + ["v, v", "p, x", "A, A", "S, v[:3]", "v[:3], w[:3]",
                                      "3, p", "2, x", "x, p", "p + 2.0, 2"]:
                expr = _row(qual, args, inp)
                if expr is not None:
                    out.append((qual, expr))
                    break
            else:
                skipped.append(qual)
    for dist in JAX_STATS:
        d = getattr(scipy.stats, dist)
        shapes = ", ".join(["q"] * d.numargs)
        for m in STATS_METHODS:
            qual = f"scipy.stats.{dist}.{m}"
            arg0 = "g" if m == "ppf" else ("u" if dist in ("beta", "uniform", "truncnorm")
                                           else "p")
            if dist == "truncnorm":
                shapes = "-1.0, 1.5"
            call = f"{arg0}, {shapes}" if shapes else arg0
            for args in [f"{call}, loc=0.1, scale=1.5" if dist not in ("beta", "uniform")
                         else call, call]:
                if dist in ("beta", "uniform") and m != "ppf":
                    args = "g" + args[1:]
                expr = _row(qual, args, inp)
                if expr is not None:
                    out.append((qual, expr))
                    break
            else:
                skipped.append(qual)
    for dist, params in JAX_STATS_DISCRETE.items():
        for m in ("logpmf", "pmf", "cdf", "sf"):
            qual = f"scipy.stats.{dist}.{m}"
            k = "np.array([0.0, 1.0, 2.0, 1.0])" if dist not in ("geom",) else \
                "np.array([1.0, 2.0, 3.0, 1.0])"
            expr = _row(qual, f"{k}, {params.replace('g', 'g[0]').replace('p', 'p[0]')}"
                        if dist != "poisson" else f"{k}, pv", inp)
            (out.append((qual, expr)) if expr is not None else skipped.append(qual))
    return out, skipped


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--refused", action="store_true")
    ap.add_argument("--wrong", action="store_true")
    ap.add_argument("--skipped", action="store_true")
    ap.add_argument("--all", action="store_true")
    ap.add_argument("--only")
    ap.add_argument("--save", help="write every row's status to this file")
    opts = ap.parse_args()
    core.load_optional_rules(force=True)
    inp = pc.inputs()
    table, skipped = rows(inp)
    if opts.only:
        table = [r for r in table if opts.only in r[0]]
    mod, specs = pc.build_module(table)
    res = []
    for label, name, args, coarse in specs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            st, msg = pc.run_one(getattr(mod, name), [inp[a] for a in args], coarse)
        if st == "crash" and msg.startswith("ValueError: s2sgrad"):
            st = "refused"           # a run-time refusal (runtime helpers' ValueError)
        res.append((label, st, msg))
    expr_of = dict(table)
    lines = []
    for label, st, msg in res:
        line = f"{st:8s} {label:34s} {expr_of[label]}  {msg}"
        lines.append(line)
        if opts.all or (opts.refused and st == "refused") or \
                (opts.wrong and st in ("wrong", "crash")):
            print(line)
    if opts.skipped:
        print("skipped (no floating call fits):", " ".join(skipped))
    c = {k: 0 for k in ("ok", "refused", "wrong", "crash", "absent")}
    for _, st, _ in res:
        c[st] += 1
    print(f"{len(res)} public functions probed: {c['ok']} correct, {c['refused']} refused, "
          f"{c['wrong']} wrong, {c['crash']} crashed ({c['absent']} absent); "
          f"{len(skipped)} skipped (no floating call)")
    if opts.save:
        with open(opts.save, "w") as fh:
            fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
