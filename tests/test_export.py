"""Export (s2sgrad/export.py): gradients written as modules that need only NumPy.

Exported modules are imported in a fresh virtual environment that has NumPy
and nothing else (no s2sgrad, no astor, no scipy: ``import s2sgrad`` is
checked to fail there), called with the same arguments as the in-process
transformation, and every result compared with the in-process one: the
values, and the types, dtypes, shapes and containers.
"""
from __future__ import annotations

import ast
import collections
import os
import pickle
import subprocess
import sys
import textwrap
import venv

import numpy as np
import pytest

import s2sgrad
from s2sgrad import (export, grad, hessian, hessp, hvp, jacobian, jvp, value_and_grad, vjp)
from s2sgrad.export import ExportError
from tests import golden_functions as gf
from tests import test_fuzz

R = np.random.default_rng(7)


# ---------------------------------------------------------------- a NumPy-only Python


@pytest.fixture(scope="session")
def numpy_only_python(tmp_path_factory):
    """A virtual environment (no pip, no site packages) that sees only the
    numpy package, through a directory of symlinks on a .pth path."""
    root = tmp_path_factory.mktemp("numpy_only")
    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(env_dir)
    python = env_dir / "bin" / "python"
    exposed = root / "numpy_only"
    exposed.mkdir()
    site = os.path.dirname(os.path.dirname(np.__file__))
    for name in ("numpy", "numpy.libs"):
        if os.path.exists(os.path.join(site, name)):
            os.symlink(os.path.join(site, name), exposed / name)
    purelib = subprocess.run([str(python), "-c", "import sysconfig; "
                              "print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True, env=_clean_env()).stdout
    with open(os.path.join(purelib.strip(), "numpy_only.pth"), "w") as fh:
        fh.write(str(exposed) + "\n")
    check = subprocess.run(
        [str(python), "-c", textwrap.dedent("""
            import numpy
            for name in ("s2sgrad", "astor", "scipy", "pytest"):
                try:
                    __import__(name)
                except ImportError:
                    continue
                raise SystemExit(name + " is importable")
            print("numpy", numpy.__version__)
            """)],
        capture_output=True, text=True, env=_clean_env(), cwd=root)
    assert check.returncode == 0, check.stderr + check.stdout
    assert check.stdout.startswith("numpy ")
    return python, root


def _clean_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["OPENBLAS_NUM_THREADS"] = "1"
    return env


_DRIVER = textwrap.dedent("""
    import importlib.util, pickle, sys, traceback
    cases = pickle.load(open(sys.argv[1], "rb"))
    out = {}
    for key, path, fname, calls in cases:
        spec = importlib.util.spec_from_file_location("exported_" + key, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        f = getattr(module, fname)
        results = []
        for kind, args, kwargs, extra in calls:
            try:
                r = f(*args, **kwargs)
                if kind == "vjp":
                    r = (r[0], r[1](extra)) + tuple(r[2:])
                results.append(("ok", r))
            except Exception as exc:
                results.append(("error", type(exc).__name__, str(exc)))
        out[key] = results
    assert not any(m.split(".")[0] in ("s2sgrad", "astor", "scipy") for m in sys.modules)
    pickle.dump(out, open(sys.argv[2], "wb"))
    """)


def run_exported(python_root, cases):
    """Run ``cases`` -- ``(key, module source, function name, calls)`` -- in
    the NumPy-only Python; ``{key: [("ok", result) | ("error", type, msg)]}``."""
    python, root = python_root
    work = root / f"run{next(_runs)}"
    work.mkdir()
    entries = []
    for key, source, fname, calls in cases:
        path = work / f"{key}.py"
        path.write_text(source)
        entries.append((key, str(path), fname, calls))
    (work / "driver.py").write_text(_DRIVER)
    with open(work / "cases.pkl", "wb") as fh:
        pickle.dump(entries, fh)
    proc = subprocess.run([str(python), str(work / "driver.py"), str(work / "cases.pkl"),
                           str(work / "out.pkl")], capture_output=True, text=True,
                          env=_clean_env(), cwd=work, timeout=300)
    assert proc.returncode == 0, proc.stderr
    with open(work / "out.pkl", "rb") as fh:
        return pickle.load(fh)


_runs = iter(range(10 ** 6))


def assert_same(a, b, where="result", rtol=1e-12):
    """Same containers, types, dtypes and shapes; values equal to rounding."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k!r}]", rtol)
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]", rtol)
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and np.shape(a) == np.shape(b), \
            f"{where}: {a.dtype}{np.shape(a)} vs {b.dtype}{np.shape(b)}"
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-14, err_msg=where)
    elif isinstance(a, float):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-14, err_msg=where)
    else:
        assert a == b, where


def in_process(tf, kind, args, kwargs, extra):
    r = tf(*args, **kwargs)
    if kind == "vjp":
        r = (r[0], r[1](extra)) + tuple(r[2:])
    return r


def public_name(source):
    """The exported module's public function: its ``__all__``, one name,
    defined after the last section line."""
    tree = ast.parse(source)
    alls = [n for n in tree.body if isinstance(n, ast.Assign) and
            [t.id for t in n.targets if isinstance(t, ast.Name)] == ["__all__"]]
    assert len(alls) == 1
    publics = ast.literal_eval(alls[0].value)
    assert len(publics) == 1, publics
    names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert publics[0] in names and source.rfind(f"def {publics[0]}(") > \
        source.rfind("# ----------------------------------------")
    return publics[0]


# ---------------------------------------------------------------- the functions exported

LAMBDA = 0.05
CENTRE = np.array([0.5, -0.25, 0.125])
Point = collections.namedtuple("Point", "x y")


def logistic(w, X, y, lam=0.1):
    margin = y * (X @ w)
    return np.mean(np.log1p(np.exp(-margin))) + lam * np.sum(w ** 2)


def mlp(params, X, y, n_layers=2, mask=None):
    h = X
    for i in range(n_layers):
        h = np.tanh(h @ params["W"][i] + params["b"][i])
    if mask is not None:
        h = h * mask
    return np.mean((np.sum(h, axis=1) - y) ** 2)


def with_globals(x):
    return np.sum((x - CENTRE) ** 2) * LAMBDA


def make_closure(scale, offset):
    def f(x):
        return np.sum(np.sin(x * scale) + offset)
    return f


def keywords(x, y=2.0, *, power=3.0):
    return np.sum(x ** power) * y


def with_aux(x, W):
    z = np.tanh(W @ x)
    return np.sum(z ** 2), {"z": z, "norm": np.linalg.norm(x)}


def vector_out(x, W):
    return np.tanh(W @ x), np.sum(x)


def branchy(x, t):
    if np.sum(x) > t:
        y = np.exp(x)
    else:
        y = x ** 2
    return np.sum(y * x)


def _mlp_params(rng, sizes=(4, 4)):
    return {"W": [rng.standard_normal(sizes) * 0.5 for _ in range(2)],
            "b": [rng.standard_normal(sizes[1]) * 0.1 for _ in range(2)]}


def _cases():
    """(key, transformation, example_args or None, calls) where calls are
    (kind, args, kwargs, cotangent-for-vjp)."""
    w, X, y = R.standard_normal(5), R.standard_normal((40, 5)), np.sign(R.standard_normal(40))
    X2, y2 = R.standard_normal((17, 5)), np.sign(R.standard_normal(17))
    params = _mlp_params(R)
    Xm, ym = R.standard_normal((6, 4)), R.standard_normal(6)
    x3 = R.standard_normal(3)
    W34 = R.standard_normal((4, 3))
    rnn_args = (R.standard_normal((3, 3)), R.standard_normal((3, 2)), R.standard_normal((5, 2)),
                np.zeros(3))
    plain = lambda *a, **k: ("plain", a, k, None)           # noqa: E731
    return [
        ("logistic_grad", grad(logistic), None,
         [plain(w, X, y), plain(w, X2, y2, lam=0.3), plain(w.astype(np.float32),
                                                             X.astype(np.float32), y)]),
        ("logistic_grad_spec", grad(logistic), (w, X, y),
         [plain(w, X, y), plain(w, X2, y2), plain(w, X, y, 0.5),
          plain(w.astype(np.float32), X, y)]),
        ("logistic_vg", value_and_grad(logistic, wrt=(0, 3)), (w, X, y, 0.1),
         [plain(w, X, y, 0.1), plain(w, X2, y2, 0.2)]),
        ("mlp_grad", grad(mlp), (params, Xm, ym),
         [plain(params, Xm, ym), plain(_mlp_params(R), Xm[:3], ym[:3])]),
        ("mlp_mask", value_and_grad(mlp, wrt=(0, 1)), (params, Xm, ym, 2, np.ones(4)),
         [plain(params, Xm, ym, 2, np.ones(4)), plain(params, Xm, ym, 2, R.standard_normal(4))]),
        ("globals", grad(with_globals), (x3,), [plain(x3), plain(x3 * 2)]),
        ("closure", grad(make_closure(1.5, 0.25)), None, [plain(x3), plain(np.float32(0.5))]),
        ("keywords", grad(keywords, wrt=(0, 1)), None,
         [plain(x3), plain(x3, 3.0), plain(x3, y=0.5, power=2.0)]),
        ("aux_vg", value_and_grad(with_aux, has_aux=True, wrt=(0, 1)), (x3, W34),
         [plain(x3, W34)]),
        ("aux_grad", grad(with_aux, has_aux=True), None, [plain(x3, W34)]),
        ("vjp", vjp(vector_out, wrt=(0, 1)), (x3, W34),
         [("vjp", (x3, W34), {}, (R.standard_normal(4), 0.5)),
          ("vjp", (x3[:2], W34[:, :2]), {}, (np.ones(4), 1.0))]),
        ("vjp_aux", vjp(vector_out, wrt=1, has_aux=True), None,
         [("vjp", (x3, W34), {}, R.standard_normal(4))]),
        ("vjp_rnn", vjp(gf.rnn, wrt=(0, 1)), rnn_args,
         [("vjp", rnn_args, {}, 1.0), ("vjp", rnn_args[:2] + (rnn_args[2][:2], rnn_args[3]),
                                       {}, 2.0)]),
        ("rnn_grad", grad(gf.rnn, wrt=(0, 1, 3)), rnn_args,
         [plain(*rnn_args), plain(*rnn_args[:2], rnn_args[2][:3], rnn_args[3])]),
        ("branchy", grad(branchy), (x3, 0.0), [plain(x3, 0.0), plain(x3, 100.0)]),
        ("jvp", jvp(mlp, wrt=0), ((params, Xm, ym), (params,)),
         [plain((params, Xm, ym), (params,)), plain((params, Xm[:2], ym[:2]), (params,))]),
        ("jvp_aux", jvp(with_aux, wrt=(0, 1), has_aux=True), None,
         [plain((x3, W34), (x3, W34))]),
        ("hvp", hvp(logistic, wrt=(0, 3)), ((w, X, y, 0.1), (w, 1.0)),
         [plain((w, X, y, 0.1), (w, 1.0)), plain((w, X2, y2, 0.1), (x3.sum() * w, 0.0))]),
        ("hessp", hessp(logistic), (w, w, X, y), [plain(w, w * 2, X, y), plain(w, w, X2, y2)]),
        ("hessian", hessian(logistic, wrt=(0, 3)), None,
         [plain(w, X, y, 0.1), plain(w, X2, y2, 0.3)]),
        ("hessian_tree", hessian(mlp), (params, Xm, ym), [plain(params, Xm, ym)]),
        ("jacobian_auto", jacobian(vector_out, wrt=(0, 1)), None,
         [plain(x3, W34), plain(R.standard_normal(6), R.standard_normal((2, 6)))]),
        ("jacobian_rev", jacobian(lambda x: np.cumsum(np.sin(x)), mode="reverse"), None,
         [plain(x3)]),
        ("jacobian_rnn", jacobian(gf.rnn, wrt=1), None, [plain(*rnn_args)]),
        ("grad_grad", grad(grad(lambda x, a: np.sin(x) * a ** 2)), None,
         [plain(0.3, 2.0), plain(np.float64(0.3), 2.0)]),
        ("rnn_sqrt", grad(gf.rnn, wrt=(0, 1), checkpoint="sqrt"), rnn_args,
         [plain(*rnn_args), plain(*rnn_args[:2], rnn_args[2][:3], rnn_args[3])]),
        ("rnn_binomial", vjp(gf.rnn, wrt=0, checkpoint=s2sgrad.Binomial(2)), None,
         [("vjp", rnn_args, {}, 1.5)]),
    ]


CASES = _cases()


def test_exported_modules_match_in_process_results(numpy_only_python):
    jobs, expected = [], {}
    for key, tf, example, calls in CASES:
        source = export(tf, example_args=example)
        jobs.append((key, source, public_name(source), calls))
        expected[key] = []
        for kind, args, kwargs, extra in calls:
            try:
                expected[key].append(("ok", in_process(tf, kind, args, kwargs, extra)))
            except Exception as exc:            # noqa: BLE001
                expected[key].append(("error", type(exc).__name__, str(exc)))
    got = run_exported(numpy_only_python, jobs)
    for key, _, _, calls in CASES:
        for i, (exp, res) in enumerate(zip(expected[key], got[key])):
            assert res[0] == exp[0] == "ok", (key, i, res, exp)
            assert_same(res[1], exp[1], f"{key} call {i}")


FUZZ_SEEDS = range(20240601, 20240616)


def test_exported_fuzzed_programs_match(numpy_only_python):
    """Random programs (loops, branches, lists, indexing, pytrees, static
    ints): value_and_grad exported with the program's arguments as example,
    called at those arguments and at other values of the same shapes."""
    jobs, expected = [], {}
    for seed in FUZZ_SEEDS:
        src, specs, _ = test_fuzz.generate(seed)
        f = test_fuzz.load(src)
        args = test_fuzz.make_args(specs, seed)
        other = test_fuzz.make_args(specs, seed + 1000)
        diff = tuple(i for i, (_, k, _, _) in enumerate(specs)
                     if k not in ("int", "idx", "default"))
        tf = value_and_grad(f, wrt=diff)
        try:
            want = [tf(*args), tf(*other)]
        except Exception:                       # noqa: BLE001 -- an invalid random point
            continue
        key = f"fuzz{seed}"
        source = export(tf, example_args=args)
        jobs.append((key, source, public_name(source),
                     [("plain", tuple(args), {}, None), ("plain", tuple(other), {}, None)]))
        expected[key] = want
    assert len(jobs) >= 10
    got = run_exported(numpy_only_python, jobs)
    for key in expected:
        for i, (res, exp) in enumerate(zip(got[key], expected[key])):
            assert res[0] == "ok", (key, res)
            assert_same(res[1], exp, f"{key} call {i}", rtol=1e-10)


# ---------------------------------------------------------------- the module itself


def test_module_imports_only_numpy_and_says_where_it_came_from():
    w, X, y = R.standard_normal(3), R.standard_normal((8, 3)), np.ones(8)
    source = export(grad(logistic), example_args=(w, X, y))
    tree = ast.parse(source)
    imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert [(type(n).__name__, [a.name for a in n.names]) for n in imports] == \
        [("Import", ["numpy"])]
    doc = ast.get_docstring(tree)
    assert "test_export.py, function logistic" in doc
    assert "grad(logistic, wrt=0)" in doc and f"s2sgrad {s2sgrad.__version__}" in doc
    assert "float64 (3,), float64 (8, 3)" in doc          # what the specialisation is for
    names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert {"logistic_grad", "logistic_grad_generic", "logistic_grad_specialised",
            "unbroadcast", "matmul_vjp_b"} <= names
    # the public function has the user's signature
    sig = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name ==
               "logistic_grad")
    assert ast.unparse(sig.args) == "w, X, y, lam=0.1"


def test_generic_code_is_the_polymorphic_source():
    g = grad(logistic)
    g.generic_source        # noqa: B018 -- compiles the default structure
    source = export(g)
    assert g.generic_source.replace("def logistic_grad(", "def logistic_grad_generic(") \
        in source


def test_output_is_deterministic_across_processes(tmp_path):
    """Byte-identical modules from separate processes (other hash seeds, other
    allocation histories)."""
    script = textwrap.dedent("""
        import sys, numpy as np
        sys.path.insert(0, %r)
        import s2sgrad
        from tests import golden_functions as gf, test_export as te
        if sys.argv[1] == "1":
            s2sgrad.grad(lambda x: np.sum(np.cos(x)))(np.ones(3))    # other ids first
        rnn = (np.ones((3, 3)), np.ones((3, 2)), np.ones((5, 2)), np.zeros(3))
        out = [s2sgrad.export(s2sgrad.vjp(gf.rnn, wrt=(0, 1)), example_args=rnn),
               s2sgrad.export(s2sgrad.hessian(te.mlp), example_args=(te._mlp_params(
                   np.random.default_rng(0)), np.ones((2, 4)), np.ones(2))),
               s2sgrad.export(s2sgrad.value_and_grad(te.with_aux, has_aux=True),
                              example_args=(np.ones(3), np.ones((4, 3))))]
        sys.stdout.write("\\n=====\\n".join(out))
        """) % os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    (tmp_path / "det.py").write_text(script)
    outs = []
    for i, seed in enumerate(("1", "2")):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        proc = subprocess.run([sys.executable, str(tmp_path / "det.py"), str(i)],
                              capture_output=True, text=True, env=env, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        outs.append(proc.stdout)
    assert outs[0] == outs[1]
    assert "def rnn_bwd_generic(" in outs[0]


def test_written_to_a_file_and_importable(tmp_path):
    path = tmp_path / "loss_grad.py"
    text = export(grad(logistic), path)
    assert path.read_text() == text
    ns: dict = {}
    exec(compile(text, str(path), "exec"), ns)
    w, X, y = R.standard_normal(3), R.standard_normal((8, 3)), np.ones(8)
    assert_same(ns["logistic_grad"](w, X, y), grad(logistic)(w, X, y))


def _load(source):
    ns: dict = {}
    exec(compile(source, "<exported>", "exec"), ns)
    return ns


def test_wrong_structure_is_an_error_never_a_wrong_number():
    params, Xm, ym = _mlp_params(R), R.standard_normal((6, 4)), R.standard_normal(6)
    ns = _load(export(grad(mlp), example_args=(params, Xm, ym)))
    f = ns["mlp_grad"]
    assert_same(f(params, Xm, ym), grad(mlp)(params, Xm, ym))
    with pytest.raises(TypeError, match="'params' must be a dict with keys \\['W', 'b'\\]"):
        f({"W": params["W"]}, Xm, ym)
    with pytest.raises(TypeError, match="'params' must be"):
        f(dict(params, W=params["W"][:1]), Xm, ym)
    with pytest.raises(TypeError, match="n_layers=2 \\(a compile-time constant"):
        f(params, Xm, ym, 3)
    with pytest.raises(TypeError, match="mask=None"):
        f(params, Xm, ym, 2, np.ones(4))
    with pytest.raises(TypeError, match="cannot differentiate with respect to 'x'"):
        _load(export(grad(with_globals)))["with_globals_grad"](np.arange(3))


def test_namedtuple_arguments_keep_their_class():
    def f(p, s):
        return np.sum(p.x * p.y) * s
    p = Point(R.standard_normal(3), R.standard_normal(3))
    ns = _load(export(grad(f), example_args=(p, 2.0)))
    g = ns["f_grad"](p, 2.0)
    assert type(g) is Point
    assert_same(g, grad(f)(p, 2.0))
    with pytest.raises(TypeError, match="'p' must be a Point namedtuple"):
        ns["f_grad"]((p.x, p.y), 2.0)


def test_globals_are_frozen_as_exact_literals():
    source = export(grad(with_globals))
    assert "LAMBDA = 0.05" in source
    assert "CENTRE = np.array([0.5, -0.25, 0.125], dtype=np.float64)" in source
    weird = np.array([1 / 3, np.nan, -np.inf, 1e-310], dtype=np.float64)

    def f(x):
        return np.sum(x * weird[0]) + np.sum(x * weird[3])
    ns = _load(export(grad(f)))
    assert np.array_equal(ns["weird"], weird, equal_nan=True)
    x = R.standard_normal(2)
    assert_same(ns["f_grad"](x), grad(f)(x), rtol=0)


def test_large_and_unwritable_globals_are_refused():
    big = np.ones(20_001)

    def f(x):
        return np.sum(x * big[:3])
    with pytest.raises(ExportError, match="variable 'big' is an array of shape \\(20001,\\).*"
                                          "pass it as an argument"):
        export(grad(f))
    assert "big = np.array(" in export(grad(f), max_constant_size=30_000)

    class Box:
        value = 2.0
    box = Box()

    def g(x):
        return np.sum(x) * box.value
    # a value read through an object is frozen at export, as globals are ...
    assert "box_value = 2.0" in export(grad(g))
    box.big = big

    def h(x):
        return np.sum(x * box.big[:3])
    # ... and refused when it has no literal the module can hold
    with pytest.raises(ExportError, match="'box.big' is an array of shape \\(20001,\\)"):
        export(grad(h))


def test_refused_signatures():
    def f(x, *rest):
        return np.sum(x)
    with pytest.raises(ExportError, match="\\*rest"):
        export(grad(f))
    with pytest.raises(TypeError, match="transformed function"):
        export(logistic)
    # An example argument where the file name goes: a clear error, no file.
    with pytest.raises(TypeError, match="example_args=\\(\\.\\.\\.\\)"):
        export(grad(logistic), np.ones(3))


def test_specialised_code_runs_only_for_its_signature():
    w, X, y = R.standard_normal(3), R.standard_normal((8, 3)), np.ones(8)
    ns = _load(export(grad(logistic), example_args=(w, X, y)))
    ran = []
    for name in ("logistic_grad_generic", "logistic_grad_specialised"):
        ns[name] = (lambda f, n: lambda *a: ran.append(n) or f(*a))(ns[name], name)
    f = ns["logistic_grad"]
    assert_same(f(w, X, y), grad(logistic)(w, X, y))
    f(w, X[:5], y[:5])                           # another batch size
    f(w.astype(np.float32), X, y)                # another dtype
    f(w, X, y, 1)                                # an int instead of a float
    assert ran == ["logistic_grad_specialised"] + ["logistic_grad_generic"] * 3


def test_without_examples_the_last_calls_structure_is_exported():
    params, Xm, ym = _mlp_params(R), R.standard_normal((6, 4)), R.standard_normal(6)
    g = grad(mlp)
    g(params, Xm, ym)                        # a dict of lists, n_layers=2, mask=None
    source = export(g)
    assert "mlp_grad_specialised" not in source          # no examples: no specialisation
    assert_same(_load(source)["mlp_grad"](params, Xm, ym), g(params, Xm, ym))


def test_exported_modules_define_every_name_they_use():
    """Static check (pyflakes, where installed): no undefined names in any
    exported module (helpers are copied with everything they call)."""
    pyflakes_api = pytest.importorskip("pyflakes.api")
    from pyflakes import reporter as pyflakes_reporter
    import io
    for key, tf, example, _ in CASES:
        out = io.StringIO()
        pyflakes_api.check(export(tf, example_args=example), key,
                           pyflakes_reporter.Reporter(out, out))
        problems = [ln for ln in out.getvalue().splitlines() if "undefined name" in ln]
        assert not problems, problems


def test_scipy_calls_import_scipy():
    special = pytest.importorskip("scipy.special")

    def f(x):
        return np.sum(special.gammaln(x) * x)
    x = np.array([0.5, 1.5, 3.0])
    source = export(grad(f), example_args=(x,))
    assert "import scipy\nimport scipy.special\n" in source
    assert "This module needs NumPy and SciPy (the function calls it)" in source
    assert_same(_load(source)["f_grad"](x), grad(f)(x))


# ---------------------------------------------------------------- reads through objects


def _scaled_sin(x, scale=2.5, shift=-0.75):
    return np.sum(np.sin(x * scale) + shift * x)


class _Settings:
    def __init__(self):
        self.lr = 0.3


SETTINGS = _Settings()


class _Model:
    def __init__(self, W):
        self.W = W
        self.decay = 0.125

    def loss(self, x):
        return np.sum(np.tanh(self.W @ x)) + self.decay * np.sum(x ** 2)


def _uses_helper_default(x):
    return _scaled_sin(x) + SETTINGS.lr * np.sum(x ** 3)


def _fd_grad(f, x, h=1e-6):
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def test_reads_through_objects_are_frozen_at_export(numpy_only_python):
    """A helper's float default (read live in process as
    ``helper.__defaults__[0]``), an attribute of a global object and the
    attributes of a bound method's ``self`` are written into the module as
    their values at export time; the module runs with NumPy alone."""
    x = R.standard_normal(3)
    model = _Model(R.standard_normal((2, 3)))
    cases = [("helper_default", value_and_grad(_uses_helper_default), _uses_helper_default),
             ("bound_method", value_and_grad(model.loss), model.loss)]
    jobs = []
    for key, tf, f in cases:
        source = export(tf)
        if key == "helper_default":
            assert "scaled_sin_defaults_0 = 2.5" in source
            assert "SETTINGS_lr = 0.3" in source
            assert "__defaults__" not in source.split("generated code")[1]
        jobs.append((key, source, public_name(source), [("plain", (x,), {}, None)]))
    got = run_exported(numpy_only_python, jobs)
    for key, tf, f in cases:
        status, (value, g) = got[key][0]
        assert status == "ok", got[key]
        assert_same((value, g), tf(x), key)
        np.testing.assert_allclose(value, f(x), rtol=1e-13)          # plain NumPy
        np.testing.assert_allclose(g, _fd_grad(f, x), rtol=1e-6, atol=1e-8)
    # the export is of the values at export time (as for globals)
    source = export(value_and_grad(_uses_helper_default))
    SETTINGS.lr = 0.5
    try:
        ns = _load(source)
        assert ns[public_name(source)](x)[0] == pytest.approx(
            _scaled_sin(x) + 0.3 * np.sum(x ** 3), rel=1e-13)
    finally:
        SETTINGS.lr = 0.3


def test_objects_passed_as_arguments_export_only_their_data():
    """An object passed as an argument whose arrays the code reads exports
    (read from the argument by the module); one whose methods or ints were
    resolved while compiling is refused: the module could not check them."""
    class Holder:
        def __init__(self, W):
            self.W = W

    def reads(x, h):
        return np.sum(np.tanh(h.W @ x))

    x, W = R.standard_normal(3), R.standard_normal((2, 3))
    tf = grad(reads)
    want = tf(x, Holder(W))
    ns = _load(export(tf))
    assert_same(ns["reads_grad"](x, Holder(W)), want)
    model = _Model(W)
    tf = grad(lambda x, m: m.loss(x))
    tf(x, model)
    with pytest.raises(ExportError, match="_Model object passed as 'm'.*m.loss.__func__"):
        export(tf)
