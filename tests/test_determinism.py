"""Deterministic output: the same program gives byte-identical generated
source in every process, whatever the hash seed (and so whatever the order
of sets and of dicts keyed by object identity).

The child (``python -m tests.test_determinism SEEDS``) builds every
transformation s2sgrad offers -- grad, value_and_grad, vjp (both halves),
jvp, hvp, hessian, jacobian (forward and reverse, with their batched linear
parts), and the shape-specialised versions the calls ran -- of a few fixed
programs and of random programs of the fuzzer, and prints a digest of each
source.  The test runs the child under three ``PYTHONHASHSEED`` values and
compares.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import warnings

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# fuzz seeds the test compiles (the command line takes any range)
FUZZ_SEEDS = range(20240601, 20240609)


def _fixed_programs():
    from tests import golden_functions as gf
    r = np.random.default_rng(0)
    return [
        ("logistic", gf.logistic, (r.standard_normal(3), r.standard_normal((5, 3)), np.ones(5))),
        ("rnn", gf.rnn, (r.standard_normal((2, 2)), r.standard_normal((2, 3)),
                         r.standard_normal((4, 3)), np.zeros(2))),
        ("relu_branch", gf.relu_branch, (r.standard_normal(3),)),
        ("f_xyz", gf.f_xyz, (-2.0, 5.0, -4.0)),
    ]


def _sources(f, args):
    """Every transformation's source for ``f`` at ``args`` (wrt the first
    float argument), as (name, text) pairs; transformations that refuse the
    program are skipped (the refusal is deterministic too: its message)."""
    import s2sgrad
    out = []

    def run(name, make):
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                out.append((name, make()))
        except Exception as exc:                  # noqa: BLE001 -- recorded
            out.append((name, f"refused: {type(exc).__name__}: {exc}"))

    x = args[0]

    def grad_src():
        g = s2sgrad.grad(f)
        generic = g.generic_source
        g(*args)
        return generic + g.source

    def vag_src():
        g = s2sgrad.value_and_grad(f)
        g(*args)
        return g.generic_source + g.source

    def vjp_src():
        v = s2sgrad.vjp(f)
        out_, pb = v(*args)
        pb(np.ones_like(out_) if isinstance(out_, np.ndarray) else 1.0)
        return v._last.source + v.source

    def jvp_src():
        j = s2sgrad.jvp(f)
        j(tuple(args), (np.ones_like(x) if isinstance(x, np.ndarray) else 1.0,))
        return j.generic_source + j.source

    def hvp_src():
        h = s2sgrad.hvp(f)
        h(tuple(args), np.ones_like(x) if isinstance(x, np.ndarray) else 1.0)
        return h.generic_source + h.source

    def hess_src():
        h = s2sgrad.hessian(f)
        h(*args)
        return h.source

    def jac_src(mode):
        j = s2sgrad.jacobian(f, mode=mode)
        j(*args)
        return j.source

    def grad_grad_src():
        gg = s2sgrad.grad(s2sgrad.grad(f))
        gg(*args)
        return gg.source

    run("grad", grad_src)
    run("value_and_grad", vag_src)
    run("vjp", vjp_src)
    run("jvp", jvp_src)
    run("hvp", hvp_src)
    run("hessian", hess_src)
    run("jacobian-forward", lambda: jac_src("forward"))
    run("jacobian-reverse", lambda: jac_src("reverse"))
    if not isinstance(x, np.ndarray):
        run("grad-grad", grad_grad_src)
    return out


def digests(fuzz_seeds):
    from tests import test_fuzz as tf
    programs = _fixed_programs()
    for seed in fuzz_seeds:
        src, specs, _ = tf.generate(seed)
        f = tf.load(src)
        args = tf.make_args(specs, seed)
        if not args or not isinstance(args[0], (np.ndarray, float)):
            continue
        programs.append((f"fuzz{seed}", f, tuple(args)))
    lines = []
    for name, f, args in programs:
        for what, text in _sources(f, args):
            text = text.replace(ROOT, "<root>")
            lines.append(f"{name} {what} {hashlib.sha1(text.encode()).hexdigest()[:16]}")
    return lines


def _child(hashseed, fuzz_seeds):
    env = dict(os.environ, PYTHONHASHSEED=str(hashseed))
    r = subprocess.run([sys.executable, "-m", "tests.test_determinism",
                        str(fuzz_seeds.start), str(fuzz_seeds.stop)],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout.splitlines()


def test_sources_identical_across_hash_seeds():
    runs = {seed: _child(seed, FUZZ_SEEDS) for seed in (0, 1, 12345)}
    base = runs[0]
    assert len(base) > 40, "the child compiled too few transformations"
    for seed, lines in runs.items():
        diff = [(a, b) for a, b in zip(base, lines) if a != b]
        assert len(lines) == len(base) and not diff, \
            f"PYTHONHASHSEED={seed} gave different sources: {diff[:5]}"


if __name__ == "__main__":
    start, stop = (int(a) for a in sys.argv[1:3])
    print("\n".join(digests(range(start, stop))))
