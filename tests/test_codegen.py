"""Code generation: the three source printers (astor, ``ast.unparse``, the
fast one) agree.

s2sgrad prints generated code with its own fast printer, falling back to
astor where it works (Python < 3.14) and to the standard library's
``ast.unparse`` elsewhere; all must give byte-identical source.
``codegen.PRINTER = "check"`` prints every statement every way and raises
on a difference: these tests compile the
golden functions, the examples' losses and fuzzed programs (every mode:
grad, vjp, jvp, hvp, hessian, jacobian, specialised and polymorphic) that
way, and compare whole sources printed by each printer alone.
"""
import ast

import numpy as np
import pytest

import s2sgrad
from s2sgrad import codegen
from tests import golden_functions as gf
from tests import test_fuzz

astor_missing = codegen.astor is None


def _sources(make, args):
    """Every source a fresh transformation generates for ``args`` (the
    polymorphic and the specialised version)."""
    t = make()
    t(*args)
    return [t._last.source, t.source]


def _all_modes(f, args, wrt=0):
    """Sources of every transformation of ``f`` (a scalar function)."""
    out = []
    out += _sources(lambda: s2sgrad.grad(f, wrt=wrt), args)
    out += _sources(lambda: s2sgrad.value_and_grad(f, wrt=wrt), args)
    v = s2sgrad.vjp(f, wrt=wrt)
    y, pb = v(*args)
    pb(np.ones_like(y) if isinstance(y, np.ndarray) else 1.0)
    out.append(v.source)
    tan = tuple(np.ones_like(args[w]) if isinstance(args[w], np.ndarray) else 1.0
                for w in (wrt if isinstance(wrt, tuple) else (wrt,)))
    j = s2sgrad.jvp(f, wrt=wrt)
    j(tuple(args), tan)
    out.append(j.source)
    h = s2sgrad.hvp(f, wrt=wrt)
    h(tuple(args), tan[0] if not isinstance(wrt, tuple) else tan)
    out.append(h.source)
    H = s2sgrad.hessian(f, wrt=wrt)
    H(*args)
    out.append(H.source)
    return out


R = np.random.default_rng(0)
GOLDEN = [
    (gf.f_xyz, (-2.0, 5.0, -4.0), (0, 1, 2)),
    (gf.logistic, (R.standard_normal(3), R.standard_normal((5, 3)), np.ones(5)), 0),
    (gf.rnn, (R.standard_normal((2, 2)), R.standard_normal((2, 3)),
              R.standard_normal((4, 3)), np.zeros(2)), (0, 1)),
    (gf.relu_branch, (R.standard_normal(3),), 0),
]


@pytest.mark.skipif(astor_missing, reason="astor is not installed (Python 3.14+)")
@pytest.mark.parametrize("case", range(len(GOLDEN)), ids=lambda i: GOLDEN[i][0].__name__)
def test_printers_agree_on_golden_functions(case, monkeypatch):
    f, args, wrt = GOLDEN[case]
    monkeypatch.setattr(codegen, "PRINTER", "check")    # raises on any difference
    checked = _all_modes(f, args, wrt)
    monkeypatch.setattr(codegen, "PRINTER", "astor")
    by_astor = _all_modes(f, args, wrt)
    monkeypatch.setattr(codegen, "PRINTER", "unparse")
    by_unparse = _all_modes(f, args, wrt)
    monkeypatch.setattr(codegen, "PRINTER", "fast")
    by_fast = _all_modes(f, args, wrt)
    assert by_astor == by_unparse == by_fast == checked
    assert all(s.startswith("def ") for s in checked)


FUZZ_SEEDS = range(20240601, 20240621)


@pytest.mark.skipif(astor_missing, reason="astor is not installed (Python 3.14+)")
def test_printers_agree_on_fuzzed_programs(monkeypatch):
    """20 random programs (loops, branches, lists, indexing, pytrees): every
    statement of every mode (value_and_grad, vjp, jvp, and hessian for half
    of them; polymorphic and specialised) printed identically by both
    printers."""
    monkeypatch.setattr(codegen, "PRINTER", "check")    # raises AssertionError on a difference
    compiled = 0
    for seed in FUZZ_SEEDS:
        src, specs, _ = test_fuzz.generate(seed)
        f = test_fuzz.load(src)
        args = test_fuzz.make_args(specs, seed)
        wrt = tuple(i for i, (_, k, _, _) in enumerate(specs)
                    if k not in ("int", "idx", "default"))
        tan = tuple(args[i] for i in wrt)
        calls = [lambda: s2sgrad.value_and_grad(f, wrt=wrt)(*args),
                 lambda: s2sgrad.vjp(f, wrt=wrt)(*args)[1](1.0),
                 lambda: s2sgrad.jvp(f, wrt=wrt)(tuple(args), tan),
                 lambda: s2sgrad.hessian(f, wrt=wrt[0])(*args)][:4 if seed % 2 else 3]
        for call in calls:
            try:
                call()
            except AssertionError:
                raise
            except Exception:      # noqa: BLE001 -- a random point outside the domain
                continue
            compiled += 1
    assert compiled >= 45          # the code of most programs and modes was printed


def test_unparse_printer_matches_golden_files(monkeypatch):
    """The fallback printer alone reproduces the golden snapshots (which
    were written by astor)."""
    from tests.test_golden import CASES, HERE
    monkeypatch.setattr(codegen, "PRINTER", "unparse")
    for name, (fn, args) in sorted(CASES.items()):
        fresh = type(fn)(fn.__wrapped__, wrt=fn.wrt if not fn._single else fn.wrt[0])
        fresh(*args)
        assert fresh._last.source == (HERE / f"{name}.py.txt").read_text(), name
        assert fresh.source == (HERE / f"{name}.specialized.py.txt").read_text(), name


@pytest.mark.parametrize("src, expected", [
    ("return (a, b)", "return a, b"),
    ("return (a,)", "return a,"),
    ("x, y = f(a)", "x, y = f(a)"),
    ("t = (n, -1)", "t = n, -1"),
    ("y = x ** -0.5", "y = x ** -0.5"),
    ("y = (a + b) * -c", "y = (a + b) * -c"),
    ("if_ = a if b else c", "if_ = a if b else c"),
])
def test_statement_spelling(src, expected, monkeypatch):
    node = ast.parse(src).body[0]
    for printer in (["fast", "astor", "unparse"] if not astor_missing else ["fast", "unparse"]):
        monkeypatch.setattr(codegen, "PRINTER", printer)
        assert codegen._to_source(node) == expected, printer


def test_lone_expressions_print_without_parentheses(monkeypatch):
    for printer in (["fast", "astor", "unparse"] if not astor_missing else ["fast", "unparse"]):
        monkeypatch.setattr(codegen, "PRINTER", printer)
        for src in ("a < b", "-1", "3.0", "not a", "x[1:2, ::3]", "(2, 3)"):
            assert codegen._to_source(ast.parse(src, mode="eval").body) == src, (printer, src)


# What the fast printer prints itself (the rest falls back to astor or
# ast.unparse): every operator and precedence case of ast.unparse's rules.
FAST_CASES = [
    "y = a - (b - c)", "y = (a - b) - c", "y = a ** b ** c", "y = (a ** b) ** c",
    "y = -a ** 2", "y = (-a) ** 2", "y = a * -b", "y = -(a + b)", "y = ~a & b | c ^ d",
    "y = a @ b.T", "y = (a @ b).T", "y = a[1:2, ::3]", "y = a[:, None]", "y = a[(1, 2)]",
    "y = a[i,]", "y = a[...]", "y = f(a, b=(1, 2), c=[x, y])", "y = (1,)", "y = ()",
    "y = not a", "y = not (a and b)", "y = a and b or c", "y = a and (b or c)",
    "y = (a if b else c) + d", "y = a if b else c if d else e", "y = (a < b) == c",
    "y = a < b < c", "y = a is not None", "y = x ** -2", "y = x ** -0.5 * 3",
    "y = 1e-05 + 0.1 + 1e+20", "y = 'abc'", "y = None", "y = True", "y //= 2", "x[i] += v",
    "np.exp(t, out=t)", "return a, b", "return", "y = a % b << c >> d",
    "y = f(a)(b)[c].d", "y = (a + b)[0]", "y = (-a).T", "y = (a, b)[0]",
]


@pytest.mark.skipif(astor_missing, reason="astor is not installed (Python 3.14+)")
@pytest.mark.parametrize("src", FAST_CASES)
def test_fast_printer_agrees(src, monkeypatch):
    node = ast.parse(src).body[0]
    fast = codegen._print_node(node, codegen._fast)         # (no fallback)
    assert fast == codegen._print_node(node, codegen._astor_expr)
    assert fast == codegen._print_node(node, codegen._unparse_expr)


def test_fast_printer_falls_back(monkeypatch):
    """Nodes it does not print itself (a string with quotes, a star
    argument, an infinite float) are printed by the slow printer."""
    monkeypatch.setattr(codegen, "PRINTER", "fast")
    slow = codegen._unparse_expr if astor_missing else codegen._astor_expr
    for src in ('y = "it\'s"', "y = f(*a)", "y = 1e999", "y = 3 .real", "y = f(**k)"):
        node = ast.parse(src).body[0]
        with pytest.raises(codegen._NotFast):
            codegen._print_node(node, codegen._fast)
        assert codegen._to_source(node) == codegen._print_node(node, slow), src
