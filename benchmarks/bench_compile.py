"""Compile time: the first ``grad`` call of functions of N statements.

For N in (25, 100, 250, 500, 1000) this writes a module with a function of N
statements -- a mix of what loss functions are made of (a dense layer, an
elementwise update, a reduction kept for broadcasting, a division by it) --
and times, in a fresh process per N, the first call of ``s2sgrad.grad`` of
it (reading and lowering the source, reverse mode, the optimisation passes,
shape specialisation to the call's arguments, code generation, compiling the
generated Python, and running it once) and a second call (the generated
code only).  Times are the process's CPU time (this is one thread: on a
shared machine the wall clock also counts waiting for a processor); the
median of ``--rounds`` fresh processes.  The stage breakdown comes from
``S2SGRAD_VERBOSE``-style timing of the passes (s2sgrad.verbose); "(peephole
N)" after specialize is the part of it spent in the peephole rounds
(s2sgrad.peephole.scale_chains); "verify" the IR checks between the passes
(s2sgrad.ir.verify, four per first call); "rest" what no stage holds --
building the guards and the call's fast path, the first run of the
generated code, the compile sessions (the slow-compile watcher thread is
started by the first compile of the process) -- about 3-4 ms of a
25-statement RNN's first call (measured, session 23).

    python benchmarks/bench_compile.py [--sizes 25 100 250 500 1000] [--rounds 3]
                                       [--shape straight loops branches rnn | all]
                                       [--against OTHER_CHECKOUT]

``--shape`` (one or more, ``all`` for the four): ``straight`` (the default)
is the straight-line function above; ``loops`` the same statements in a
sequence of short ``for`` loops (five statements each), ``branches`` in a
sequence of ``if``/``else`` on a computed condition, ``rnn`` one loop over
the rows of ``xs`` whose body has the N statements (an RNN step and a
summed loss, in turn) -- the shapes where a pass that scans a loop body per
loop carry, or the function per loop, would be quadratic.  Each shape's
table ends with its growth: the time per statement at the largest size
over the time per statement at 250 (or the smallest size), 1.0 when linear.

``--against DIR``: also time the s2sgrad package of another checkout (the
directory holding its ``s2sgrad/``), in the same run: the rounds alternate
between the two, so both see the same machine load.

``--callgrind``: instead of CPU time, count the instructions of the first
call under ``valgrind --tool=callgrind`` (millions; a child that stops
before the call is counted too and subtracted: what is left is the first
call alone).  Slow (about 50 times), but the same number on a loaded
machine; one round.

Targets: 20 ms at 25 statements, 1 s at 1,000, linear in between.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

STATEMENTS = [
    "h = np.tanh(h @ W + b)",
    "h = h * 0.5 + np.sin(h)",
    "r = np.exp(-h)",
    "h = h + r ** 2",
    "s = np.sum(h, axis=1, keepdims=True)",
    "h = h / (1.0 + s)",
]


def source(n, shape="straight"):
    lines = ["import numpy as np", "", "", "def f(x, W, b):", "    h = x"]
    if shape == "straight":
        lines += ["    " + STATEMENTS[i % len(STATEMENTS)] for i in range(n - 2)]
    elif shape == "loops":
        for _ in range(max(1, (n - 2) // 6)):
            lines += ["    for t in range(3):"] + ["        " + st for st in STATEMENTS[1:]]
    elif shape == "branches":
        for _ in range(max(1, (n - 2) // 6)):
            lines += ["    if np.sum(h) > 0:", "        " + STATEMENTS[0], "        h = h * 0.5",
                      "    else:", "        h = np.sin(h) + b",
                      "    h = h / (1.0 + np.sum(h, axis=1, keepdims=True))"]
    elif shape == "rnn":
        lines = ["import numpy as np", "", "", "def f(x, W, b):", "    h = np.zeros(3)",
                 "    loss = 0.0", "    for t in range(x.shape[0]):"]
        step = ["h = np.tanh(W @ h + x[t] + b)", "loss = loss + np.sum(h ** 2)"]
        lines += ["        " + step[i % 2] for i in range(max(2, n - 3))]
        lines.append("    return loss + np.sum(h)")
    else:
        raise ValueError(f"unknown shape {shape!r}")
    if shape != "rnn":
        lines.append("    return np.sum(h)")
    return "\n".join(lines) + "\n"


def child(n, shape="straight", root=None, skip_call=False):
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, root or os.path.join(here, ".."))
    import numpy as np
    import s2sgrad
    from s2sgrad import api, verbose
    d = tempfile.mkdtemp()
    with open(os.path.join(d, f"compiled_{n}.py"), "w") as fh:
        fh.write(source(n, shape))
    sys.path.insert(0, d)
    mod = __import__(f"compiled_{n}")
    x, W, b = np.full((4 if shape != "rnn" else 5, 3), 0.1), 0.1 * np.eye(3), np.zeros(3)
    stages = {}
    orig = verbose.traced

    def timed(name, fn):
        def run(*a, **k):
            t = time.process_time()
            try:
                return fn(*a, **k)
            finally:
                stages[name] = stages.get(name, 0.0) + time.process_time() - t
        return run
    for name in ("lower_function", "detach_shifts", "grad_func", "optimize", "_specialize",
                 "generate", "verify"):
        setattr(api, name, timed(name, getattr(api, name)))
    # (the peephole rounds, part of specialize: the largest pass in it)
    from s2sgrad import specialize as sp
    if hasattr(sp, "scale_chains"):
        sp.scale_chains = timed("scale_chains", sp.scale_chains)
    g = s2sgrad.grad(mod.f)
    if skip_call:                   # (--callgrind: everything but the call)
        print(json.dumps({"n": n}))
        return
    t0, w0 = time.process_time(), time.perf_counter()
    g(x, W, b)
    first, first_wall = time.process_time() - t0, time.perf_counter() - w0
    t0 = time.process_time()
    g(x, W, b)
    second = time.process_time() - t0
    del orig
    print(json.dumps({"n": n, "first": first, "wall": first_wall, "second": second,
                      "stages": stages}))


SHAPES = ["straight", "loops", "branches", "rnn"]
NAMES = {"lower_function": "lower", "detach_shifts": "invariance", "grad_func": "reverse",
         "optimize": "optimize", "_specialize": "specialize", "generate": "codegen",
         "scale_chains": "peephole", "verify": "verify"}
ORDER = ["lower_function", "detach_shifts", "grad_func", "optimize", "_specialize",
         "scale_chains", "generate", "verify"]


def _run(n, shape, root):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", str(n), "--shape", shape]
    if root:
        cmd += ["--root", root]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _instructions(n, shape, root, skip_call=False):
    """Instructions callgrind counts in a child (see ``--callgrind``)."""
    import re
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
           sys.executable, os.path.abspath(__file__), "--child", str(n), "--shape", shape]
    if root:
        cmd += ["--root", root]
    if skip_call:
        cmd.append("--skip-call")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
    m = re.search(r"Collected\s*:\s*(\d+)", out.stderr)
    if m is None:
        raise RuntimeError(f"no instruction count from valgrind:\n{out.stderr[-2000:]}")
    return int(m.group(1))


def callgrind_main(a, shapes, roots):
    print("first grad() call: millions of instructions (callgrind; the same child "
          "stopped before the call subtracted)")
    for shape in shapes:
        print(f"\n{shape} function")
        print(f"{'statements':>10} " + " ".join(f"{label:>10}" for label, _ in roots) +
              ("   this/against" if len(roots) > 1 else ""))
        for n in a.sizes:
            counts = []
            for _, root in roots:
                # (a run outside valgrind first: the bytecode caches are written)
                subprocess.run([sys.executable, os.path.abspath(__file__), "--child", str(n),
                                "--shape", shape, "--skip-call"] +
                               (["--root", root] if root else []), capture_output=True,
                               check=True)
                counts.append((_instructions(n, shape, root) -
                               _instructions(n, shape, root, skip_call=True)) / 1e6)
            print(f"{n:>10} " + " ".join(f"{c:>10.1f}" for c in counts) +
                  (f"   {counts[0] / counts[1]:.3f}" if len(counts) > 1 else ""), flush=True)
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[25, 100, 250, 500, 1000])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--shape", nargs="+", choices=SHAPES + ["all"], default=["straight"])
    ap.add_argument("--against", default=None,
                    help="another checkout to time in the same run (rounds alternate)")
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--root", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--callgrind", action="store_true",
                    help="count instructions under valgrind instead of CPU time")
    ap.add_argument("--skip-call", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    shapes = SHAPES if "all" in a.shape else a.shape
    if a.child is not None:
        child(a.child, shapes[0], a.root, a.skip_call)
        return 0
    here = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    roots = [("this", None)] + ([("against", os.path.abspath(a.against))] if a.against else [])
    if a.callgrind:
        return callgrind_main(a, shapes, roots)
    print(f"first grad() call: compile, specialise, generate, run (median CPU time of "
          f"{a.rounds} fresh processes; range); {len(STATEMENTS)} kinds of statement in turn"
          + (f"; 'this' is {here}, 'against' {roots[1][1]}" if a.against else ""))
    for shape in shapes:
        print(f"\n{shape} function")
        print(f"{'statements':>10} {'':>7} {'first call':>12} {'range':>17} {'per statement':>14} "
              f"{'second call':>12}   stages (median, ms)")
        per: dict = {}
        for n in a.sizes:
            runs: dict = {label: [] for label, _ in roots}
            for _ in range(a.rounds):
                for label, root in roots:           # (alternating: the same load for both)
                    runs[label].append(_run(n, shape, root))
            for label, _ in roots:
                rs = runs[label]
                firsts = [r["first"] for r in rs]
                med = statistics.median(firsts)
                per.setdefault(label, {})[n] = med / n
                stages = {k: statistics.median(r["stages"].get(k, 0.0) for r in rs)
                          for k in ORDER if k in rs[0]["stages"]}
                st = " ".join(f"({NAMES[k]} {v * 1e3:.0f})" if k == "scale_chains" else
                              f"{NAMES[k]} {v * 1e3:.0f}" for k, v in stages.items())
                # what no stage holds: building the guards and the call's fast
                # path, the first run of the generated code, the compile
                # sessions (s2sgrad.verbose: the slow-compile watcher thread,
                # once per process; the garbage collector's pause)
                rest = [r["first"] - sum(v for k, v in r["stages"].items() if k != "scale_chains")
                        for r in rs]
                st += f" rest {statistics.median(rest) * 1e3:.0f}"
                print(f"{n:>10} {label if a.against else '':>7} {med * 1e3:>9.1f} ms "
                      f"{min(firsts) * 1e3:>7.1f}-{max(firsts) * 1e3:<7.1f} "
                      f"{med / n * 1e3:>11.2f} ms "
                      f"{statistics.median(r['second'] for r in rs) * 1e3:>9.2f} ms   {st}")
        if len(a.sizes) > 1:
            big = max(a.sizes)
            small = 250 if 250 in a.sizes and big > 250 else min(a.sizes)
            for label, _ in roots:
                print(f"growth {label if a.against else ''}: time per statement at {big} / at "
                      f"{small} = {per[label][big] / per[label][small]:.2f} (1.0: linear)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
