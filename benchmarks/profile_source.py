"""Time each statement of a generated gradient (a tool for reading ``.source``).

    python benchmarks/profile_source.py logistic large
    python benchmarks/profile_source.py mlp small

Instruments the generated function with a timer around every statement,
runs it many times on the benchmark's data, and prints the statements with
their share of the time, plus the cost of the ``grad`` wrapper itself (the
difference between calling the decorated function and the bare generated
function).  Problems and sizes are those of ``bench_core.py``.
"""
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import ast  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import s2sgrad  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_core  # noqa: E402


def instrument(fn, source):
    """A copy of generated function ``fn`` that adds each statement's time to ``acc``."""
    tree = ast.parse(source)
    fdef = tree.body[0]
    stmts = fdef.body
    texts = [ast.unparse(s) for s in stmts]
    body = [ast.parse("_pc = __import__('time').perf_counter").body[0]]
    for i, s in enumerate(stmts):
        if isinstance(s, ast.Return):
            body += ast.parse(f"_t_ = _pc()\n__r = {ast.unparse(s.value)}\n"
                              f"_acc_[{i}] += _pc() - _t_\nreturn __r").body
        else:
            body += [ast.parse("_t_ = _pc()").body[0], s,
                     ast.parse(f"_acc_[{i}] += _pc() - _t_").body[0]]
    fdef.body = body
    fdef.name = "_instrumented"
    acc = [0.0] * len(stmts)
    glb = dict(fn.__globals__)
    # the generated function reaches np and the runtime helpers through its closure
    for var, cell in zip(fn.__code__.co_freevars, fn.__closure__ or ()):
        glb[var] = cell.cell_contents
    glb["_acc_"] = acc
    exec(compile(ast.fix_missing_locations(tree), "<instrumented>", "exec"), glb)
    return glb["_instrumented"], texts, acc


def main(argv):
    name = argv[0] if argv else "logistic"
    which = argv[1] if len(argv) > 1 else "large"
    for pname, loss, hand, make, sizes in bench_core.PROBLEMS + bench_core.MORE_PROBLEMS:
        if pname.startswith(name):
            break
    else:
        raise SystemExit(f"unknown problem {name!r}")
    size_name, size = sizes[0] if which == "small" else sizes[1]
    fargs, wrt = make(*size, np.random.default_rng(0))
    g = s2sgrad.grad(loss, wrt=wrt if len(wrt) > 1 else wrt[0])
    g(*fargs)
    g(*fargs)                              # the second call specialises to the shapes
    compiled = g._last_run                 # the compiled gradient the last call ran
    raw = compiled.fn
    calls = 2000 if which == "small" else 50

    def per_call(f):
        f()
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(calls):
                f()
            best = min(best, (time.perf_counter() - t0) / calls)
        return best

    t_wrapped = per_call(lambda: g(*fargs))
    t_raw = per_call(lambda: raw(*fargs))
    t_hand = per_call(lambda: hand(*fargs))
    inst, texts, acc = instrument(raw, g.source)
    for _ in range(calls):
        inst(*fargs)
    total = sum(acc)
    print(f"{pname} {size_name}: hand {t_hand * 1e6:.1f} us, grad() call {t_wrapped * 1e6:.1f} us, "
          f"generated function alone {t_raw * 1e6:.1f} us "
          f"(wrapper overhead {(t_wrapped - t_raw) * 1e6:.1f} us)\n")
    print("per statement (us per call, share of instrumented total):")
    for text, t in zip(texts, acc):
        print(f"  {t / calls * 1e6:9.1f}  {100 * t / total:5.1f}%  {text}")


if __name__ == "__main__":
    main(sys.argv[1:])
