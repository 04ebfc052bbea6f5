"""Random list/loop programs aimed at session 19's performance rewrites
(trust6; not a test module): in-place ``list_append``/``list_pop``, the
``_ListOf`` length/element facts, list_arrays.py (``np.stack(hs)`` /
``np.array(hs)`` / ``np.vstack`` / ``sum(hs)`` / a losses list read as a view
of the state tape or as an array of its own), the scaled per-step mean loss
and the nested (inner loop) tapes of tapes.py, the peephole's factoring, and
ufunc.at with repeated indices.

The programs append in loops of constant, variable and zero trip count,
append conditionally, alias the list (a second name, a dict, a helper that
appends, a list of lists), append views and the same state twice, mutate the
list or its elements after stacking, write into the stacked result, rebind
or mutate the state in place, break/continue, keep mean losses with several
scalings and dtypes, run inner loops with carried state and mix float32,
int and bool values.

``program(seed)`` writes the source of ``f(x, W, T)``; ``check(seed)``
compares value_and_grad (one compiled object, trip counts 3, 0, 1, 2, 3,
gradient in ``x`` and in ``W``) with plain NumPy running the same source
and with central differences.  A program s2sgrad refuses (S2SGradError)
counts as 'refused', one NumPy rejects (or whose differences are not
smooth) as 'invalid' -- never as a pass or a failure.

    PYTHONPATH=. nice -n 10 python -m tests.trust6_harness 0 300
"""
import linecache
import random
import sys

import numpy as np

from s2sgrad import S2SGradError
from tests.trust5_harness import check_function

_FUNCS = ["np.tanh", "np.sin", "np.cos"]

# module-level helpers the programs may call (they see the same globals)
_HELPERS = '''
def push2(lst, v):
    lst.append(v * 2.0)


def build(x, n):
    out = []
    for i in range(n):
        out.append(x * (i + 1.0))
    return out


def pass_through(lst):
    return lst


def last_of(lst):
    return lst[-1]
'''


def _expr(r, h):
    f = r.choice(_FUNCS)
    return r.choice([
        f"{f}(W @ {h}) * 0.9",
        f"{f}({h}) * x",
        f"{h} * 0.5 + {f}(x)",
        f"{f}(W @ {h} + x)",
        f"{h} * {f}({h}[0])",
        f"{f}({h} * x[t % 3])",
    ])


def _append(r, lst="hs"):
    return r.choice([
        [f"{lst}.append(h)"],
        [f"{lst}.append(h)"],
        [f"{lst}.append(h)"],
        [f"{lst}.append(h * 1.0)"],
        [f"{lst}.append(h)", f"{lst}.append(h)"],
        [f"{lst}.append(h)", f"{lst}.append(2.0 * h)"],
        [f"{lst}.append(W[t % 3])"],
        [f"{lst}.append(x)"],
        [f"{lst}.append(h[::-1])"],
        [f"{lst}.append(np.tanh(h))"],
        ["if t % 2 == 0:", f"    {lst}.append(h)"],
        ["if t % 2 == 1:", f"    {lst}.append(h)", "else:", f"    {lst}.append(-h)"],
        ["if np.sum(h) > 0:", f"    {lst}.append(h)"],
        [f"push2({lst}, h)"],
    ])


def _loss(r):
    return r.choice([
        "losses.append(np.sum(h ** 2))",
        "losses.append(np.mean(h * x))",
        "losses.append(np.sum(h * x) * 0.5)",
        "losses.append(np.sum(h.astype(np.float32) ** 2))",
        "losses.append(float(np.sum(h)))",
        "losses.append(np.sum(h ** 2) / 3.0)",
        "losses.append(np.sum((h - 0.1) ** 2) * x[0])",
        "if t % 2 == 0:\n    losses.append(np.sum(h ** 2))",
    ])


def _body_stmt(r, depth, ind):
    k = r.randrange(20)
    if k in (0, 1, 2):
        return [f"h = {_expr(r, 'h')}"]
    if k == 3:
        return [f"h += {_expr(r, 'h')} * 0.3"]
    if k == 4:
        return [f"h[{r.randrange(3)}] = np.sin(h[{r.randrange(3)}]) * x[{r.randrange(3)}]"]
    if k == 5:
        return ["h *= 0.9"]
    if k in (6, 7, 8):
        return _append(r)
    if k in (9, 10):
        return _loss(r).split("\n")
    if k == 11:
        return ["s = s + np.sum(h * x)"]
    if k == 12 and depth == 0:
        m = r.choice(["2", "T", "0", "3", "t"])
        body = [f"for j in range({m}):",
                f"    g = {_expr(r, 'g').replace('[t % 3]', '[j % 3]')}"]
        body.append(r.choice(["    inner.append(g)", "    s = s + np.sum(g ** 2)",
                              "    inner.append(g)\n    s = s + np.sum(g * x)",
                              "    hs.append(g)"]))
        body.append(r.choice(["h = h + g * 0.5", "h = g", "s = s + np.sum(g)"]))
        out = []
        for b in body:
            out += b.split("\n")
        return ["g = h * 1.0"] + out
    if k == 13:
        return [r.choice(["if t == 1:", "if t >= 2:", "if np.sum(h) > 1.5:"]),
                "    " + r.choice(["break", "continue"])]
    if k == 14:
        return [r.choice(["np.add.at(acc, idx, h)", "np.multiply.at(acc, idx, 1.0 + 0.1 * h)",
                          "np.maximum.at(acc, idx, h)", "np.minimum.at(acc, idx, h)",
                          "np.add.at(acc, [0, 0, 1], h * x)",
                          "np.subtract.at(acc, idx, h * 0.5)"])]
    if k == 15:
        return [r.choice(["masks.append(h > 0)", "ks.append(t)", "ks.append(t * 2 + 1)",
                          "masks.append(h > 0.1)"])]
    if k == 16:
        return r.choice(["hs.pop()", "if len(hs) > 1:\n    hs.pop()", "hs.append(h)"]).split("\n") \
            if r.random() < 0.3 else _append(r)
    if k == 17:
        return [r.choice(["d['k'].append(h)", "gs.append(h)", "gs.append(h)",
                          "hh[0].append(h)" if r.random() < 0.3 else "gs.append(h * x)"])]
    if k == 18:
        return r.choice([["h = h * 1.0", "h[1] += s * 0.1"],
                         ["hs = hs + [h]"], ["hs += [h, h * 0.5]"],
                         ["tgt = hs if t % 2 == 0 else gs", "tgt.append(h)"],
                         ["if t % 2 == 0:", "    other = hs", "else:", "    other = gs",
                          "other.append(h)"],
                         ["g = h * 1.0", "hs.append(g)", "h = g"],
                         ["ks2 = hs", "if len(hs) > 2:", "    v = hs.pop()",
                          "    s = s + np.sum(v * x) + len(ks2)"]])
    return ["h = np.where(h > 0, h, h * 0.5)"]


def _init(r):
    return r.choice(["h = x", "h = x * 1.0", "h = x.copy()", "h = np.zeros(3)", "h = W[0]",
                     "h = W[:, 1] * x", "h = x[::-1]"])


def _head(r):
    kind = r.randrange(9)
    if kind in (0, 1, 2):
        return "for t in range(T):", []
    if kind == 3:
        return "for t in range(3):", []
    if kind == 4:
        return "for t in range(0):", []
    if kind == 5:
        return "for t in range(T - 1):", []
    if kind == 6:
        return "for t in range(1, T + 1):", []
    if kind == 7:
        return "for t, w in enumerate(W[:T]):", ["h = h + w * 0.1"]
    return "while t < T:", ["t += 1"]


_STACKS = ["np.stack(hs)", "np.array(hs)", "np.vstack(hs)", "sum(hs)",
           "np.stack(hs, axis=1)", "np.concatenate(hs)", "np.asarray(hs)",
           "np.stack(hs)[::-1]", "np.stack(hs).T", "np.sum(hs, axis=0)", "np.mean(hs, axis=0)"]


def _appended(name, used) -> bool:
    return any(f"{name}{c}" in used for c in (".append", ".pop", ")", ",")) or \
        name == "hs" and any(a in used for a in ("gs.append", "d['k']", "hh[0]"))


def _after(r, used):
    """Statements after the loop(s): reads of the lists, mutations after
    stacking, writes into stacked results.  Each guarded so that an empty
    list is not stacked."""
    out = []
    st = r.choice(_STACKS)
    out += ["if len(hs) > 0:", f"    H = {st}"]
    mut = r.randrange(14)
    if mut == 0:
        out += ["    H[0] = 0.0"]
    elif mut == 1:
        out += ["    H *= 2.0"]
    elif mut == 2:
        out += ["    hs.append(x)"]
    elif mut == 3:
        out += ["    hs[0] *= 2.0"]
    elif mut == 4:
        out += ["    h[...] = 0.5"]
    elif mut == 5:
        out += ["    hs[-1][0] = 3.0"]
    elif mut == 6:
        out += ["    H += x[0]"]
    elif mut == 7 and r.random() < 0.2:
        out += ["    hs.clear()"]
    elif mut == 8:
        out += ["    H2 = H", "    H2 -= 1.0"]
    elif mut == 9:
        out += ["    hs[0] = hs[0] + 1.0"]
    elif mut == 10 and r.random() < 0.2:
        out += ["    hs.reverse()"]
    elif mut == 11:
        out += ["    H = np.stack(hs + [x])"]
    elif mut == 12:
        out += ["    h += 0.25"]
    out += [r.choice(["    s = s + np.sum(H ** 2)", "    s = s + np.sum(H * H[..., :1])",
                      "    s = s + np.sum(np.sin(H))"])]
    if mut in (2, 3, 5, 7, 9, 10):
        out += ["    if len(hs) > 0:",
                "        s = s + np.sum(np.stack([np.sum(v) for v in hs]) ** 2)"]
    if r.random() < 0.4:
        out += ["if len(hs) > 0:", "    s = s + np.sum(hs[-1] * hs[0])"]
    if r.random() < 0.3:
        out += ["if len(hs) > 0:", "    s = s + np.sum(last_of(pass_through(hs)))"]
    if r.random() < 0.2:
        out += ["s = s + np.sum(np.stack(build(h, 3)) ** 2)"]
    if r.random() < 0.2:
        out += ["s = s + np.sum(gs2[0] if len(gs2) else x)"]
    if not _appended("hs", used):
        del out[:]          # (never appended: a dead branch reading an empty list)
    # losses
    scale = r.choice(["np.mean(losses)", "sum(losses) / len(losses)", "np.sum(losses) / T",
                      "np.mean(np.array(losses))", "sum(losses)", "np.sum(np.stack(losses))",
                      "np.mean(losses) * 2.0", "sum(losses) / 3.0", "-np.mean(losses)",
                      "np.mean(np.array(losses, dtype=np.float32))"])
    if "/ T" in scale:
        out += ["if len(losses) > 0 and T > 0:", f"    s = s + {scale}"]
    else:
        out += ["if len(losses) > 0:", f"    s = s + {scale}"]
    if "losses" not in used:
        del out[-2:]
    inn = r.choice(["np.sum(np.stack(inner) ** 2)", "np.sum(sum(inner))",
                    "np.sum(np.array(inner) * x)"])
    for name, line in (("inner", "    s = s + " + inn),
                       ("masks", "    s = s + np.sum(np.array(masks) * x)"),
                       ("ks", "    s = s + np.sum(x[np.array(ks) % 3]) + np.sum(np.array(ks) * 0.5)"),
                       ("gs", "    s = s + np.sum(np.stack(gs) ** 2)")):
        if name in used:
            out += [f"if len({name}) > 0:", line]
    if "acc" in used:
        out += ["s = s + np.sum(acc ** 2)"]
    return out


RNN_SEEDS = 1_000_000


def rnn_program(seed):
    """Seeds from RNN_SEEDS: the spellings list_arrays.py and tapes.py
    rewrite (the state appended once per step of a range loop, stacked after
    it -- a view of the state tape; a per-step loss list, its mean scaled
    after the loop), then the writes and reads that must not see the tape
    through the view."""
    r = random.Random(seed)
    lines = ["def f(x, W, T):", f"    {_init(r)}", "    hs = []", "    losses = []"]
    lines.append("    for t in " + r.choice(["range(T):", "range(T):", "range(3):",
                                             "range(len(W)):"]))
    body = []
    if r.random() < 0.3:
        body.append(r.choice(["h = h * 1.0", "u = h * 2.0", "hs2 = 0"]))
    body.append(f"h = {_expr(r, 'h')}")
    if r.random() < 0.2:
        body.append(f"h = {_expr(r, 'h')}")
    body.append(r.choice(["hs.append(h)"] * 4 + ["hs.append(h * 1.0)", "hs.append(np.sin(h))"]))
    if r.random() < 0.6:
        body.append(r.choice(["losses.append(np.mean((h - x) ** 2))",
                              "losses.append(np.sum(h * x))",
                              "losses.append(np.mean(h ** 2) * 0.5)",
                              "losses.append(np.sum((h - W[t % 3]) ** 2) / 3.0)"]))
    if r.random() < 0.25:
        body += ["g = h * 1.0", f"for j in range({r.choice(['2', '3', 'T'])}):",
                 "    g = np.tanh(W @ g + x[j % 3])", "h = h + 0.5 * g"]
    lines += ["        " + b for b in body]
    lines.append("    H = " + r.choice(["np.stack(hs)", "np.array(hs)", "np.vstack(hs)",
                                       "np.stack(hs, axis=0)", "np.asarray(hs)"]))
    lines += ["    " + m for m in r.choice([
        [], [], ["H[0] = 0.0"], ["H *= 2.0"], ["H += x"], ["H[1:] = H[:-1] * 2.0"],
        ["h[...] = 0.5"], ["h = h + 1.0"], ["H2 = H[1:]", "H2 -= 1.0"], ["np.copyto(H, H * 0.5)"],
        ["H.sort(axis=1)"], ["np.add.at(H, [0, 0], x)"], ["hs.append(x)"],
        ["G = H.T", "G[0] = x[0]"], ["H = H[::-1]"], ["H = H * 3.0", "H[0, 0] = 1.0"]])]
    ret = ["np.sum(H ** 2)", r.choice(["np.sum(h * x)", "np.sum(H[-1] * h)", "0.0"])]
    if any("losses" in b for b in body):
        ret.append(r.choice(["np.mean(losses)", "sum(losses) / len(losses)", "np.sum(losses)",
                             "np.mean(np.array(losses)) * 2.0"]))
    lines.append("    return " + " + ".join(ret))
    return "\n".join(lines) + "\n"


def program(seed):
    if seed >= RNN_SEEDS:
        return rnn_program(seed)
    r = random.Random(seed)
    lines = ["def f(x, W, T):", f"    {_init(r)}", "    s = 0.0",
             "    hs = " + r.choice(["[]", "[]", "[]", "[x]", "[x * 1.0]", "list()"]),
             "    losses = []", "    inner = []", "    masks = []", "    ks = []",
             "    acc = " + r.choice(["np.ones(3)", "x * 1.0", "np.zeros(3) + 0.5"]),
             "    idx = " + r.choice(["np.array([0, 0, 2])", "[1, 1, 1]", "np.array([2, 0, 0])"])]
    alias = r.randrange(6)
    if alias == 0:
        lines += ["    gs = hs"]
    else:
        lines += ["    gs = []"]
    lines += ["    d = {'k': " + ("hs" if r.random() < 0.3 else "[]") + "}"]
    lines += ["    hh = [" + ("hs" if r.random() < 0.3 else "[]") + "]"]
    lines += ["    gs2 = " + ("hs" if r.random() < 0.2 else "[]")]
    nloops = r.choice([1, 1, 1, 2])
    for _ in range(nloops):
        head, extra = _head(r)
        if head.startswith("while"):
            lines += ["    t = 0"]
        lines.append("    " + head)
        body = list(extra if not head.startswith("while") else [])
        for _ in range(r.randint(1, 5)):
            body += _body_stmt(r, 0, 2)
        if head.startswith("while"):
            # the increment first so that 'continue' cannot loop forever
            body = ["t += 1"] + body
        lines += ["        " + b for b in body]
        if r.random() < 0.2:
            lines += ["    " + r.choice(["h = h * 1.0", "h = np.tanh(h)", "h += 0.1"])]
    used = "\n".join(lines[14:])
    for a in ("gs = hs", "d = {'k': hs}", "hh = [hs]"):
        if "    " + a not in lines:
            used = used.replace(a.split(" = ")[0].replace("d", "d['k']").replace("hh", "hh[0]"),
                                "_unaliased")
    if "    gs = hs" in lines:
        used += " gs"
    lines += ["    " + a for a in _after(r, used)]
    lines.append("    return s + np.sum(h ** 2)")
    return "\n".join(lines) + "\n"


_loaded = [0]


def load(src):
    _loaded[0] += 1
    filename = f"<trust6 program {_loaded[0]}>"
    full = _HELPERS + "\n\n" + src
    linecache.cache[filename] = (len(full), None, full.splitlines(True), filename)
    ns = {"np": np, "__name__": f"trust6_{_loaded[0]}"}
    exec(compile(full, filename, "exec"), ns)
    return ns["f"]


def check(seed, Ts=(3, 0, 1, 2, 3, 4)):
    """'ok', 'refused', 'invalid' or ('fail', message)."""
    if seed >= RNN_SEEDS:
        Ts = tuple(T for T in Ts if T) or (3,)     # (np.stack of no states: NumPy raises)
    return check_source(program(seed), seed, Ts)


def check_source(src, seed, Ts=(3, 0, 1, 2, 3, 4)):
    # (grad as well: tapes.py's scaled rows are made under grad only)
    return check_function(load(src), seed, Ts, f32="float32" in src, also_grad=True)


def minimise(src, seed):
    """Drop lines (a block header with its block) while the program still
    fails: for reports and regression tests."""
    def fails(s):
        try:
            r = check_source(s, seed)
        except (SyntaxError, S2SGradError):
            return False
        return not isinstance(r, str)
    lines = src.splitlines()
    changed = True
    while changed:
        changed = False
        i = 1
        while i < len(lines) - 1:
            ind = len(lines[i]) - len(lines[i].lstrip())
            j = i + 1
            while j < len(lines) and len(lines[j]) - len(lines[j].lstrip()) > ind:
                j += 1
            for cut in ((i, j), (i, i + 1)):
                trial = lines[:cut[0]] + lines[cut[1]:]
                if fails("\n".join(trial) + "\n"):
                    lines = trial
                    changed = True
                    break
            else:
                i += 1
    return "\n".join(lines) + "\n"


def main(lo, hi, show=True):
    counts = {}
    fails = []
    for s in range(lo, hi):
        if (s - lo) % 100 == 0 and s > lo:
            print(s, counts, flush=True)
        try:
            res = check(s)
        except S2SGradError:
            res = "refused"
        st = res if isinstance(res, str) else res[0]
        counts[st] = counts.get(st, 0) + 1
        if st == "fail":
            fails.append(s)
            if show:
                print(s, res[1][:400], flush=True)
    print(counts, flush=True)
    return counts, fails


if __name__ == "__main__":
    if sys.argv[1] == "min":
        for a in sys.argv[2:]:
            print(a)
            print(minimise(program(int(a)), int(a)))
    else:
        main(int(sys.argv[1]), int(sys.argv[2]))
