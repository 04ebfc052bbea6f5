"""The command line: ``python -m s2sgrad`` or ``s2sgrad`` (a thin layer over the API).

    s2sgrad show   model.py:loss [--wrt 0,1] [--mode grad] [--ir] [--args "w=(5,) X=(100,5)"]
    s2sgrad export model.py:loss -o loss_grad.py [same options]
    s2sgrad graph  model.py:loss [-o loss.svg|loss.dot] [--values "x=-2 y=5 z=-4"] [--backward]
    s2sgrad check  model.py:loss --args "w=(5,) X=(100,5) y=(100,)"

``FILE:FUNCTION`` names a function in a Python file (the file is run as a
module, with its directory first on ``sys.path``; a function decorated with
``@grad`` & co. stands for the function it decorates) or in an importable
module (``package.module:function``).

``--args`` / ``--values``: the arguments, separated by spaces, each
``name=VALUE`` or positional ``VALUE``; a VALUE is a shape ``(100,5)``
(random normal numbers of that shape), a number ``-2`` / ``0.5`` (a Python
float; ``3:int`` is a Python int, a compile-time constant such as a loop
count, as in the API), or a list ``[1,2,3]``, each optionally followed by
``:dtype`` (``:float32``).  Random numbers are drawn with ``--seed``
(default 0).

Exit codes (scripts can rely on them):

    0  success
    1  check: the derivatives disagree with finite differences
    2  usage: a bad option, or a bad --args / --values string
    3  the file or the function cannot be found or loaded
    4  s2sgrad cannot differentiate the function (the message names the
       user's file and line)
    5  running failed: the function raised on the given arguments, or
       rendering needs Graphviz's `dot` program, which is missing
"""
from __future__ import annotations

import argparse
import ast
import importlib
import importlib.util
import os
import sys

import numpy as np

EXIT_OK, EXIT_CHECK, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_COMPILE, EXIT_RUN = 0, 1, 2, 3, 4, 5

MODES = ("grad", "value_and_grad", "vjp", "jvp", "hvp", "hessian", "jacobian")


class CLIError(Exception):
    """A failure reported as ``s2sgrad: <message>`` with exit code ``code``."""

    def __init__(self, message, code):
        super().__init__(message)
        self.code = code


# ---------------------------------------------------------------- arguments


def _split_items(text):
    """Split at spaces outside brackets: "w=(5, 3) y=(2,)" -> ["w=(5, 3)", "y=(2,)"]."""
    items, cur, depth = [], "", 0
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch.isspace() and depth == 0:
            if cur:
                items.append(cur)
            cur = ""
        else:
            cur += ch
    if depth != 0:
        raise CLIError(f"unbalanced brackets in {text!r}", EXIT_USAGE)
    if cur:
        items.append(cur)
    return items


def parse_values(text, rng):
    """``"w=(5,) X=(100,5):float32 lam=0.1"`` -> (positional values, keyword values)."""
    args, kwargs = [], {}
    for item in _split_items(text or ""):
        name, sep, spec = item.partition("=")
        if not sep:
            name, spec = None, item
        elif not name.isidentifier():
            raise CLIError(f"bad argument {item!r}: expected name=VALUE", EXIT_USAGE)
        value = _value(spec, rng, item)
        if name is None:
            if kwargs:
                raise CLIError(f"positional argument {item!r} after keyword arguments",
                               EXIT_USAGE)
            args.append(value)
        else:
            kwargs[name] = value
    return args, kwargs


def _value(spec, rng, item):
    dtype = None
    head, colon, tail = spec.rpartition(":")
    if colon and tail and not tail.startswith(("(", "[")) and head:
        if tail == "int":                        # a Python int
            try:
                return int(ast.literal_eval(head))
            except (ValueError, SyntaxError, TypeError):
                raise CLIError(f"bad int {head!r} in {item!r}", EXIT_USAGE) from None
        try:
            dtype = np.dtype(tail)
        except TypeError:
            raise CLIError(f"bad dtype {tail!r} in {item!r}", EXIT_USAGE) from None
        spec = head
    try:
        lit = ast.literal_eval(spec)
    except (ValueError, SyntaxError):
        raise CLIError(f"bad value {spec!r} in {item!r}: expected a shape like (100,5), a "
                       f"number or a list", EXIT_USAGE) from None
    if isinstance(lit, tuple):
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in lit):
            raise CLIError(f"bad shape {spec!r} in {item!r}: a tuple of sizes like (100,5)",
                           EXIT_USAGE)
        dtype = dtype or np.dtype(np.float64)
        if dtype.kind in "iu":
            return rng.integers(0, 10, size=lit).astype(dtype)
        if dtype.kind == "b":
            return rng.random(lit) < 0.5
        return rng.standard_normal(lit).astype(dtype)
    if isinstance(lit, list):
        try:
            return np.array(lit, dtype=dtype if dtype is not None else float)
        except (TypeError, ValueError) as exc:
            raise CLIError(f"bad list in {item!r}: {exc}", EXIT_USAGE) from None
    if isinstance(lit, bool):
        return lit
    if isinstance(lit, (int, float)):
        return dtype.type(lit) if dtype is not None else float(lit)
    raise CLIError(f"bad value {spec!r} in {item!r}: expected a shape, a number or a list",
                   EXIT_USAGE)


def parse_wrt(text):
    if text is None:
        return 0
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise CLIError("--wrt needs argument positions or names, e.g. 0,1 or w,b", EXIT_USAGE)
    out = tuple(int(p) if p.lstrip("-").isdigit() else p for p in parts)
    return out[0] if len(out) == 1 else out


# ---------------------------------------------------------------- the function


def load_target(target):
    """``file.py:name`` or ``package.module:name`` -> the function (unwrapped
    from a transformation it is decorated with)."""
    from .api import _Transformed
    path, sep, name = target.rpartition(":")
    if not sep or not path or not name:
        raise CLIError(f"expected FILE:FUNCTION (e.g. model.py:loss), got {target!r}",
                       EXIT_USAGE)
    if path.endswith(".py") or os.sep in path or os.path.exists(path):
        if not os.path.isfile(path):
            raise CLIError(f"no such file: {path}", EXIT_NOT_FOUND)
        module = _run_file(path)
    else:
        try:
            module = importlib.import_module(path)
        except ImportError as exc:
            raise CLIError(f"cannot import module {path!r}: {exc}", EXIT_NOT_FOUND) from None
    obj = module
    for part in name.split("."):
        if not hasattr(obj, part):
            names = sorted(n for n, v in vars(module).items()
                           if callable(v) and not n.startswith("_") and
                           getattr(v, "__module__", None) == module.__name__)
            raise CLIError(f"{path} has no function {name!r}"
                           + (f" (functions: {', '.join(names)})" if names else ""),
                           EXIT_NOT_FOUND)
        obj = getattr(obj, part)
    while isinstance(obj, _Transformed):
        obj = obj.fn
    if not callable(obj):
        raise CLIError(f"{target} is not a function", EXIT_NOT_FOUND)
    return obj


def _run_file(path):
    path = os.path.abspath(path)
    name = os.path.splitext(os.path.basename(path))[0]
    modname = name if name.isidentifier() and name not in sys.modules else f"_s2sgrad_cli_{name}"
    sys.path.insert(0, os.path.dirname(path))
    spec = importlib.util.spec_from_file_location(modname, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:                 # noqa: BLE001 -- the user's file failed
        raise CLIError(f"running {path} failed: {type(exc).__name__}: {exc}",
                       EXIT_NOT_FOUND) from None
    return module


def transformation(fn, mode, wrt):
    import s2sgrad
    if mode in ("hessian", "hvp", "jacobian", "grad", "value_and_grad", "vjp", "jvp"):
        return getattr(s2sgrad, mode)(fn, wrt=wrt)
    raise CLIError(f"unknown mode {mode!r}", EXIT_USAGE)


def call_args(tf, mode, args, kwargs, rng):
    """The arguments to call the transformation with, from f's arguments:
    (primals, tangents) for jvp, (args, v) for hvp."""
    if mode not in ("jvp", "hvp"):
        return tuple(args), kwargs
    bound = tf._bind(tuple(args), kwargs)
    vs = []
    for w in tf.wrt:
        x = bound[w][1]
        vs.append(_like(x, rng))
    primals = tuple(v for _, v in bound)        # every argument, positionally
    if mode == "jvp":
        return (primals, tuple(vs)), {}
    return (primals, vs[0] if tf._single else tuple(vs)), {}


def _like(x, rng):
    from . import pytree
    leaves, td = pytree.flatten(x)
    out = [float(rng.standard_normal()) if isinstance(l, float) else
           np.asarray(rng.standard_normal(np.shape(l))).astype(np.result_type(l)) for l in leaves]
    return pytree.unflatten(td, out)


# ---------------------------------------------------------------- commands


def cmd_show(ns):
    fn = load_target(ns.target)
    tf = transformation(fn, ns.mode, parse_wrt(ns.wrt))
    rng = np.random.default_rng(ns.seed)
    if ns.args is not None:
        args, kwargs = parse_values(ns.args, rng)
        a, k = call_args(tf, ns.mode, args, kwargs, rng)
        _run(lambda: tf(*a, **k), fn)
    text = _run(lambda: str(tf.ir) if ns.ir else (tf.generic_source if ns.generic
                                                   else tf.source), fn)
    print(text.rstrip("\n"))
    return EXIT_OK


def cmd_export(ns):
    from .export import export
    fn = load_target(ns.target)
    tf = transformation(fn, ns.mode, parse_wrt(ns.wrt))
    example, kwargs = None, None
    if ns.args is not None:
        rng = np.random.default_rng(ns.seed)
        args, kw = parse_values(ns.args, rng)
        example, kwargs = call_args(tf, ns.mode, args, kw, rng)
    text = _run(lambda: export(tf, example_args=example, example_kwargs=kwargs,
                               max_constant_size=ns.max_constant_size), fn)
    if ns.output in (None, "-"):
        sys.stdout.write(text)
    else:
        with open(ns.output, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        print(f"wrote {ns.output}", file=sys.stderr)
    return EXIT_OK


def cmd_graph(ns):
    from .graph import graph
    fn = load_target(ns.target)
    wrt = parse_wrt(ns.wrt) if ns.wrt is not None else None
    values = None
    if ns.values is not None:
        values = parse_values(ns.values, np.random.default_rng(ns.seed))
    g = _run(lambda: graph(fn, wrt=wrt, args=values[0] if values else None,
                           kwargs=values[1] if values else None, backward=ns.backward), fn)
    if ns.output in (None, "-"):
        sys.stdout.write(g.dot)
        return EXIT_OK
    try:
        g.save(ns.output)
    except RuntimeError as exc:
        raise CLIError(str(exc), EXIT_RUN) from None
    print(f"wrote {ns.output}", file=sys.stderr)
    return EXIT_OK


def cmd_check(ns):
    from .check import GradientCheckError, check_grads
    fn = load_target(ns.target)
    args, kwargs = parse_values(ns.args, np.random.default_rng(ns.seed))
    if kwargs:
        import inspect
        try:
            bound = inspect.signature(fn).bind(*args, **kwargs)
        except TypeError as exc:
            raise CLIError(f"--args do not fit {fn.__name__}: {exc}", EXIT_USAGE) from None
        bound.apply_defaults()
        args = list(bound.arguments.values())
    wrt = parse_wrt(ns.wrt)
    try:
        _run(lambda: check_grads(fn, tuple(args), wrt=wrt, modes=("rev", "fwd")), fn,
             passthrough=(GradientCheckError,))
    except GradientCheckError as exc:
        print(f"s2sgrad: check of {fn.__name__} FAILED: {exc}", file=sys.stderr)
        return EXIT_CHECK
    print(f"OK: the derivatives of {fn.__name__} agree with finite differences "
          f"(reverse and forward mode, wrt={wrt!r})")
    return EXIT_OK


def _run(thunk, fn, passthrough=()):
    from .errors import S2SGradError
    try:
        return thunk()
    except passthrough:
        raise
    except CLIError:
        raise
    except S2SGradError as exc:
        raise CLIError(str(exc), EXIT_COMPILE) from None
    except TypeError as exc:
        if str(exc).startswith(f"{getattr(fn, '__name__', '')}(): "):    # binding --args
            raise CLIError(f"--args do not fit {exc}", EXIT_USAGE) from None
        raise CLIError(f"running {getattr(fn, '__name__', fn)} failed: "
                       f"{type(exc).__name__}: {exc}", EXIT_RUN) from None
    except Exception as exc:                 # noqa: BLE001 -- the user's function raised
        raise CLIError(f"running {getattr(fn, '__name__', fn)} failed: "
                       f"{type(exc).__name__}: {exc}", EXIT_RUN) from None


# ---------------------------------------------------------------- the parser


def parser():
    p = argparse.ArgumentParser(
        prog="s2sgrad", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Source-to-source automatic differentiation for Python + NumPy: show, "
                    "export, draw and check the derivatives of a function.",
        epilog=__doc__[__doc__.index("``--args``"):].replace("``", "'"))
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def common(sp, args_help):
        sp.add_argument("target", metavar="FILE:FUNCTION",
                        help="the function, e.g. model.py:loss or package.module:loss")
        sp.add_argument("--wrt", help="the arguments to differentiate: positions or names, "
                                      "comma-separated (default: the first)")
        sp.add_argument("--args", help=args_help)
        sp.add_argument("--seed", type=int, default=0, help="seed of random --args (0)")

    s = sub.add_parser("show", help="print the generated derivative code",
                       description="Print the generated source (or its IR) of a derivative.")
    common(s, "example arguments: the code printed is then the one specialised to their "
              "shapes, e.g. \"w=(5,) X=(100,5):float32 y=(100,)\"")
    s.add_argument("--mode", choices=MODES, default="grad", help="the transformation (grad)")
    s.add_argument("--ir", action="store_true", help="print the SSA IR instead of Python")
    s.add_argument("--generic", action="store_true",
                   help="print the shape-polymorphic code even when --args is given")
    s.set_defaults(run=cmd_show)

    e = sub.add_parser("export", help="write a derivative as a module that needs only NumPy",
                       description="Write a derivative as a Python module that imports only "
                                   "NumPy (see s2sgrad.export).")
    common(e, "example arguments: the module then also holds code specialised to their "
              "shapes (and the argument structure follows them)")
    e.add_argument("--mode", choices=MODES, default="grad", help="the transformation (grad)")
    e.add_argument("-o", "--output", help="the module's file (default: standard output)")
    e.add_argument("--max-constant-size", type=int, default=10_000,
                   help="largest global array written into the module (elements)")
    e.set_defaults(run=cmd_export)

    g = sub.add_parser("graph", help="draw the computation graph (Graphviz)",
                       description="Draw the computation graph: .dot text, or .svg/.png/.pdf "
                                   "rendered by Graphviz's dot program.")
    g.add_argument("target", metavar="FILE:FUNCTION", help="the function, e.g. model.py:f")
    g.add_argument("-o", "--output", help="file to write: .dot, .svg, .png, ... (default: the "
                                          "DOT text on standard output)")
    g.add_argument("--values", help="arguments: every edge shows its value and gradient, e.g. "
                                    "\"x=-2 y=5 z=-4\"")
    g.add_argument("--backward", action="store_true", help="draw the adjoint program")
    g.add_argument("--wrt", help="the arguments differentiated (default: every float one)")
    g.add_argument("--seed", type=int, default=0, help="seed of random --values (0)")
    g.set_defaults(run=cmd_graph)

    c = sub.add_parser("check", help="check derivatives against finite differences",
                       description="Check reverse and forward mode against central finite "
                                   "differences at random arguments of the given shapes.")
    c.add_argument("target", metavar="FILE:FUNCTION", help="the function, e.g. model.py:loss")
    c.add_argument("--args", required=True, help="the arguments, e.g. \"w=(5,) X=(100,5)\"")
    c.add_argument("--wrt", help="the arguments to check (default: the first)")
    c.add_argument("--seed", type=int, default=0, help="seed of random --args (0)")
    c.set_defaults(run=cmd_check)
    return p


def main(argv=None) -> int:
    ns = parser().parse_args(argv)
    try:
        return ns.run(ns)
    except CLIError as exc:
        print(f"s2sgrad: {exc}", file=sys.stderr)
        return exc.code
