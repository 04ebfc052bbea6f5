"""The command line (s2sgrad/cli.py): commands, argument strings, errors and exit codes."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from s2sgrad import cli

EXAMPLES = Path(__file__).parent.parent / "examples"
XYZ = f"{EXAMPLES / 'seed_f_xyz.py'}:f"
LR = f"{EXAMPLES / 'logistic_regression.py'}:loss"
LR_ARGS = "w=(4,) b=0.1 X=(20,4) y=(20,) lam=0.01"


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_show_prints_the_generated_source(capsys):
    code, out, err = run(capsys, "show", XYZ, "--wrt", "0,1,2")
    assert code == 0 and err == ""
    assert out.startswith("def f_grad(x, y, z):") and "unbroadcast" in out
    # with example arguments: the code specialised to them
    code, out, _ = run(capsys, "show", XYZ, "--wrt", "x,y,z", "--args", "x=-2 y=5 z=-4")
    assert code == 0 and "unbroadcast" not in out and "return _t0, _t0, _t1" in out
    code, out, _ = run(capsys, "show", XYZ, "--args", "-2 5 -4", "--generic")
    assert code == 0 and "unbroadcast" in out
    code, out, _ = run(capsys, "show", XYZ, "--ir")
    assert code == 0 and out.startswith("func f_grad(x.") and "= add(x." in out


@pytest.mark.parametrize("mode, name", [("value_and_grad", "loss_value_and_grad"),
                                        ("vjp", "loss_fwd"), ("jvp", "loss_jvp"),
                                        ("hvp", "loss_hvp_jvp"), ("hessian", "loss_hessian_primal"),
                                        ("jacobian", "loss_fwd")])
def test_show_every_mode(capsys, mode, name):
    code, out, err = run(capsys, "show", LR, "--mode", mode, "--args", LR_ARGS)
    assert code == 0, err
    assert out.startswith(f"def {name}(")


def test_export_writes_a_numpy_only_module(capsys, tmp_path):
    target = tmp_path / "lr_grad.py"
    code, out, err = run(capsys, "export", LR, "--wrt", "w,b", "--args", LR_ARGS,
                         "-o", str(target))
    assert code == 0 and f"wrote {target}" in err
    ns = {}
    exec(compile(target.read_text(), str(target), "exec"), ns)
    rng = np.random.default_rng(0)
    w, X, y = rng.standard_normal(4), rng.standard_normal((20, 4)), rng.standard_normal(20)
    import s2sgrad
    sys.path.insert(0, str(EXAMPLES))
    import logistic_regression
    want = s2sgrad.grad(logistic_regression.loss, wrt=("w", "b"))(w, 0.1, X, y, 0.01)
    got = ns["loss_grad"](w, 0.1, X, y, 0.01)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    assert got[1] == pytest.approx(want[1], rel=1e-12)
    assert "loss_grad_specialised" in target.read_text()
    code, out, _ = run(capsys, "export", XYZ, "--mode", "jvp")
    assert code == 0 and "def f_jvp(primals, tangents, **kwargs):" in out


def test_graph_dot_and_values(capsys, tmp_path):
    code, out, _ = run(capsys, "graph", XYZ, "--values", "x=-2 y=5 z=-4")
    assert code == 0 and out.startswith('digraph "f"') and "q = 3" in out
    assert "∂f/∂x = -4" in out and "f = -12" in out
    code, out, _ = run(capsys, "graph", XYZ, "--values", "-2 5 -4", "--backward")
    assert code == 0 and "x_bar = -4" in out
    code, _, err = run(capsys, "graph", XYZ, "-o", str(tmp_path / "f.dot"))
    assert code == 0 and (tmp_path / "f.dot").read_text().startswith('digraph "f"')


def test_graph_svg_needs_graphviz(capsys, tmp_path, monkeypatch):
    import shutil
    monkeypatch.setattr(shutil, "which", lambda name: None)
    code, _, err = run(capsys, "graph", XYZ, "-o", str(tmp_path / "f.svg"))
    assert code == cli.EXIT_RUN and "Graphviz" in err


def test_check(capsys, tmp_path):
    code, out, _ = run(capsys, "check", LR, "--args", LR_ARGS, "--wrt", "w,b")
    assert code == 0 and out.startswith("OK: the derivatives of loss agree")
    bad = tmp_path / "bad.py"
    bad.write_text("import numpy as np\n\ndef f(x):\n    return np.sum(np.floor(x * 1e6) / 1e6 "
                   "* x)\n")
    code, _, err = run(capsys, "check", f"{bad}:f", "--args", "x=[0.3,0.4,0.5]")
    assert code == cli.EXIT_CHECK and "FAILED" in err


@pytest.mark.parametrize("argv, code, message", [
    (["show", "missing.py:f"], cli.EXIT_NOT_FOUND, "no such file: missing.py"),
    (["show", f"{EXAMPLES / 'seed_f_xyz.py'}:nope"], cli.EXIT_NOT_FOUND,
     "has no function 'nope' (functions: f"),
    (["show", "no_such_module_xyz:f"], cli.EXIT_NOT_FOUND, "cannot import module"),
    (["show", "model.py"], cli.EXIT_USAGE, "expected FILE:FUNCTION"),
    (["show", XYZ, "--args", "x=(3,"], cli.EXIT_USAGE, "unbalanced brackets"),
    (["show", XYZ, "--args", "x=(3,-1)"], cli.EXIT_USAGE, "bad shape '(3,-1)'"),
    (["show", XYZ, "--args", "x=(3,):flot"], cli.EXIT_USAGE, "bad dtype 'flot'"),
    (["show", XYZ, "--args", "x=abc"], cli.EXIT_USAGE, "bad value 'abc'"),
    (["show", XYZ, "--args", "x=1 2"], cli.EXIT_USAGE, "positional argument '2' after"),
    (["show", XYZ, "--args", "x=1 y=2"], cli.EXIT_USAGE, "missing a required argument: 'z'"),
    (["check", XYZ, "--args", "x=1 y=2 z=3", "--wrt", "q"], cli.EXIT_RUN, "no parameter"),
])
def test_errors_and_exit_codes(capsys, argv, code, message):
    got, _, err = run(capsys, *argv)
    assert got == code, err
    assert message in err and err.startswith("s2sgrad: ")


def test_cannot_differentiate_is_exit_code_4(capsys, tmp_path):
    src = tmp_path / "model.py"
    src.write_text("import numpy as np\n\n\ndef f(x):\n    try:\n        return np.sum(x)\n"
                   "    finally:\n        pass\n")
    code, _, err = run(capsys, "show", f"{src}:f")
    assert code == cli.EXIT_COMPILE and "model.py:5" in err and "try" in err


def test_parse_values():
    rng = np.random.default_rng(0)
    args, kwargs = cli.parse_values("(2, 3) w=(5,):float32 n=3:int lam=0.5 v=[1,2] s=2:float32",
                                    rng)
    assert args[0].shape == (2, 3) and args[0].dtype == np.float64
    assert kwargs["w"].dtype == np.float32 and kwargs["w"].shape == (5,)
    assert kwargs["n"] == 3 and type(kwargs["n"]) is int
    assert kwargs["lam"] == 0.5 and type(kwargs["lam"]) is float
    np.testing.assert_array_equal(kwargs["v"], [1.0, 2.0])
    assert type(kwargs["s"]) is np.float32
    assert cli.parse_wrt("0,2") == (0, 2) and cli.parse_wrt("w") == "w"


def test_help_everywhere(capsys):
    for argv in (["--help"], ["show", "--help"], ["export", "--help"], ["graph", "--help"],
                 ["check", "--help"]):
        with pytest.raises(SystemExit) as exc:
            cli.main(argv)
        assert exc.value.code == 0
        assert capsys.readouterr().out.startswith("usage: s2sgrad"), argv


def test_module_entry_point():
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parent.parent))
    top = subprocess.run([sys.executable, "-m", "s2sgrad", "--help"], capture_output=True,
                         text=True, env=env)
    assert top.returncode == 0 and top.stdout.startswith("usage: s2sgrad")
    assert "Exit codes" in top.stdout
    assert "3  the file or the function cannot be found" in top.stdout
    proc = subprocess.run([sys.executable, "-m", "s2sgrad"], capture_output=True, text=True,
                          env=env)
    assert proc.returncode == 2 and "required" in proc.stderr


def test_console_script_is_declared():
    text = (Path(__file__).parent.parent / "pyproject.toml").read_text()
    assert '[project.scripts]\ns2sgrad = "s2sgrad.cli:main"' in text
