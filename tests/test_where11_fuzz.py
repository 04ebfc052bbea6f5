"""where11: a differential check of s2sgrad.masking on random elementwise
programs with masks (``np.where`` with a constant, another value or a
non-finite branch; ``nansum``), against the same compiler with the pass
switched off.

Where the gradient without the pass is finite, the two must agree (the pass
only changes masked positions); where the pass turned a NaN/inf finite, the
new number must match central differences wherever those are meaningful
(both one-sided quotients agree, the function is moderate there).  First
order (``grad``) and the diagonal of ``hessian`` (shape-generic code).
"""
import random
import warnings

import numpy as np
import pytest

import s2sgrad
from s2sgrad import masking, reverse

UNARY = ["np.sqrt({a})", "np.log({a})", "np.exp(0.3 * {a})", "np.sin({a})", "1.0 / {a}",
         "{a} ** 2", "np.abs({a})", "np.tanh({a})", "{a} * np.log({a})", "np.arcsin({a})"]
BINARY = ["{a} * {b}", "{a} + {b}", "{a} - {b}", "{a} / {b}"]
CONDS = ["{a} > 0", "{a} != 0", "{a} < 0.5", "m", "np.isfinite({a})", "{a} >= -0.2"]


def program(rng, k):
    lines = [f"def f{k}(x, y, m):"]
    vals = ["x", "y"]
    for i in range(rng.randint(3, 7)):
        a, b = rng.choice(vals), rng.choice(vals)
        r = rng.random()
        if r < 0.35:
            e = rng.choice(UNARY).format(a=a)
        elif r < 0.6:
            e = rng.choice(BINARY).format(a=a, b=b)
        else:
            c = rng.choice(CONDS).format(a=rng.choice(vals))
            br = rng.choice(UNARY).format(a=a)
            other = rng.choice(["0.0", "-1.0", rng.choice(vals), "1e9"])
            e = f"np.where({c}, {br}, {other})" if rng.random() < 0.7 else \
                f"np.where({c}, {other}, {br})"
        lines.append(f"    t{i} = {e}")
        vals.append(f"t{i}")
    outs = rng.sample(vals[2:], min(2, len(vals) - 2))
    red = "np.nansum" if rng.random() < 0.3 else "np.sum"
    lines.append(f"    return {red}({' + '.join(outs)})")
    return "\n".join(lines)


def compiled(src, name, tmp_path, tag):
    # (a file per compilation: s2sgrad reads the source back)
    path = tmp_path / f"{name}_{tag}.py"
    path.write_text("import numpy as np\n\n\n" + src + "\n")
    ns = {"__name__": f"where11_fuzz_{name}_{tag}", "__file__": str(path)}
    exec(compile(path.read_text(), str(path), "exec"), ns)
    return ns[name]


def gradients(f, x, y, m):
    g = s2sgrad.grad(f, wrt=(0, 1))(x, y, m)
    h = np.diag(s2sgrad.hessian(f, wrt=0)(x, y, m))
    return np.concatenate([g[0], g[1]]), h


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("seed", [11, 24])
def test_against_the_pass_switched_off(seed, tmp_path, monkeypatch):
    rng = random.Random(seed)
    r = np.random.default_rng(seed)
    x, y, m = r.normal(size=6), r.normal(size=6) * 2, r.random(6) > 0.3
    x[0] = y[1] = 0.0
    x[2] = -0.0
    changed = 0
    for k in range(25):
        src = program(rng, k)
        name = f"f{k}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            g_on, h_on = gradients(compiled(src, name, tmp_path, "on"), x, y, m)
            with monkeypatch.context() as mp:
                mp.setattr(reverse, "sink_masks", lambda f: f)
                mp.setattr(masking, "sink_masks", lambda f: f)
                g_off, h_off = gradients(compiled(src, name, tmp_path, "off"), x, y, m)
        for on, off in ((g_on, g_off), (h_on, h_off)):
            fin = np.isfinite(off)
            np.testing.assert_allclose(on[fin], off[fin], rtol=1e-9, atol=1e-12, err_msg=src)
        new = np.where(~np.isfinite(g_off) & np.isfinite(g_on))[0]
        changed += len(new)
        f = compiled(src, name, tmp_path, "plain")
        xy = np.concatenate([x, y])
        for i in new:
            def F(v):
                z = xy.copy()
                z[i] = v
                return f(z[:6], z[6:], m)
            eps = 1e-6
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                p, q0, q = F(xy[i] + eps), F(xy[i]), F(xy[i] - eps)
            if not (np.isfinite(p) and np.isfinite(q) and np.isfinite(q0) and abs(q0) < 1e5):
                continue
            left, right, fd = (q0 - q) / eps, (p - q0) / eps, (p - q) / (2 * eps)
            if abs(left - right) < 1e-3 * max(1.0, abs(fd)) and abs(fd) < 1e6:
                assert abs(fd - g_on[i]) <= 1e-4 * max(1.0, abs(fd)), (src, i, g_on[i], fd)
    assert changed > 0          # (the programs do hit masked non-finite partials)
