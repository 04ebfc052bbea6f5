"""Every script in examples/ runs to completion (each asserts its own numbers)."""
import os
import pathlib
import subprocess
import sys

import pytest

EXAMPLES_DIR = pathlib.Path(__file__).resolve().parent.parent / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.py"))


def test_examples_found():
    assert (EXAMPLES_DIR / "logistic_regression.py") in EXAMPLES


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script, tmp_path):
    env = dict(os.environ)
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("MKL_NUM_THREADS", "1")
    # the s2sgrad of this checkout, whatever else is installed
    env["PYTHONPATH"] = os.pathsep.join([str(EXAMPLES_DIR.parent)] +
                                        [p for p in [env.get("PYTHONPATH")] if p])
    # run from a scratch directory so examples cannot depend on the caller's cwd
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (
        f"{script.name} exited with {proc.returncode}\n"
        f"--- stdout (tail) ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-6000:]}")
    assert "OK" in proc.stdout.splitlines()[-1:], f"{script.name} did not print OK last"
