"""Embedding a gradient: export it as a module that needs only NumPy.

The README's main example, ``loss(w, X, y, lam)``, is differentiated and
written out with ``s2sgrad.export`` as examples/exported/loss_grad.py: the
generated gradient (shape-polymorphic, plus a version specialised to X of
shape (200, 5)), the few helpers it calls, and ``loss_grad(w, X, y,
lam=0.1)`` with the loss's own signature.  The module is then imported in a
fresh Python where s2sgrad cannot be imported, and its gradients compared
with s2sgrad's, at the example's shapes and at others.

Run:  python examples/export_gradient.py           # checks examples/exported/ is current
      python examples/export_gradient.py --write   # (re)writes it
"""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

import s2sgrad

OUT = Path(__file__).resolve().parent / "exported" / "loss_grad.py"


def loss(w, X, y, lam=0.1):
    margin = y * (X @ w)
    return np.mean(np.log1p(np.exp(-margin))) + lam * np.sum(w ** 2)


def example_data(n=200, d=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(d), rng.standard_normal((n, d)), np.sign(rng.standard_normal(n))


CHECK = """
import sys
sys.modules["s2sgrad"] = None            # s2sgrad cannot be imported here
sys.modules["astor"] = None
import numpy as np
sys.path.insert(0, sys.argv[1])
import loss_grad
data = np.load(sys.argv[2])
for n in (200, 37):
    g = loss_grad.loss_grad(data["w"], data[f"X{n}"], data[f"y{n}"])
    np.save(sys.argv[3] + f"_{n}.npy", g)
print("imported from s2sgrad's world:",
      sorted(m for m, v in sys.modules.items()
             if v is not None and m.split(".")[0] in ("loss_grad", "s2sgrad", "astor")))
"""


def main():
    w, X, y = example_data()
    text = s2sgrad.export(s2sgrad.grad(loss), example_args=(w, X, y))
    if "--write" in sys.argv or os.environ.get("S2SGRAD_UPDATE_GOLDEN"):
        OUT.parent.mkdir(exist_ok=True)
        OUT.write_text(text, encoding="utf-8")
        print("wrote", OUT)
    else:
        assert OUT.read_text(encoding="utf-8") == text, \
            "examples/exported/loss_grad.py is out of date: run with --write"
    print(text[:text.index('"""', 3) + 3])          # its header

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "loss_grad.py").write_text(text, encoding="utf-8")
        _, X37, y37 = example_data(37, seed=1)
        np.savez(os.path.join(tmp, "data.npz"), w=w, X200=X, y200=y, X37=X37, y37=y37)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        proc = subprocess.run([sys.executable, "-c", CHECK, tmp, os.path.join(tmp, "data.npz"),
                               os.path.join(tmp, "g")], capture_output=True, text=True, env=env)
        assert proc.returncode == 0, proc.stderr
        print(proc.stdout.strip())
        for n, (Xn, yn) in ((200, (X, y)), (37, (X37, y37))):
            got = np.load(os.path.join(tmp, f"g_{n}.npy"))
            want = s2sgrad.grad(loss)(w, Xn, yn)
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
            print(f"n = {n}: exported gradient = s2sgrad's: {np.round(got, 4)}")
    print("OK")


if __name__ == "__main__":
    main()
