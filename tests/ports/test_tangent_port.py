"""The port of Google Tangent's test suite and of its fork tangent-ad's
feature tests (``tests/ports/tangent_cases.py``, the corpus in
``tangent_functions.py``): first order in reverse and forward mode, second
order in Tangent's Hessian-vector-product configurations (reverse over
reverse, forward over reverse, reverse over forward, ``s2sgrad.hvp``),
values against NumPy and derivatives against central differences.

The pytest run checks one input per function (Tangent's ``--short``: the
scalar 2.0, the smallest vector and image) in every area (the corpus's
second order: every ``STRIDE``-th function); refusals are
``xfail`` only where listed in ``INTENDED_REFUSALS`` with the reason, any
other refusal fails.  The command line runs every input combination and
prints the table by area and every failure::

    python -m tests.ports.test_tangent_port                   # all areas
    python -m tests.ports.test_tangent_port tangent-ad        # some areas
    python -m tests.ports.test_tangent_port --short           # the pytest sample
"""
from __future__ import annotations

import sys

import numpy as np
import pytest

import s2sgrad

from . import harness, tangent_cases
from . import tangent_functions as tf

pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning")]

# refusals that are the right answer (a clear error naming the construct), by case name prefix
_FORK_REJECTS = " (tangent-ad rejects it too, test_feature_matrix.py / its own tests)"
_SYNTAX = "a construct refused at compile time with the file:line and what to write instead"
INTENDED_REFUSALS = {
    # reverse over forward: jvp called inside the differentiated function with a
    # tuple/dict argument whose tangent is an argument of that function
    "tangent-2nd:unpacking_args_saxpy": "jvp inside a differentiated function of a container "
                            "argument: the tangent's structure is not known there "
                            "(refused naming the call; vjp(grad(f)) and hvp work)",
    "tangent-2nd:dict_saxpy": "as for unpacking_args_saxpy",
    "tangent-2nd:dict_wrapper": "as for unpacking_args_saxpy",
    "tangent-2nd:passthru_unpack": "as for unpacking_args_saxpy",
    "tangent-2nd:nested_dict": "as for unpacking_args_saxpy",
    "augassign_attribute": "a.real += x: " + _SYNTAX + _FORK_REJECTS,
    "walrus": "x := ...: " + _SYNTAX + _FORK_REJECTS,
    "raise": "raise inside the differentiated function: " + _SYNTAX + _FORK_REJECTS,
    "try_except": "try/except: " + _SYNTAX + _FORK_REJECTS,
    "class_def": "a class statement inside the function: " + _SYNTAX + _FORK_REJECTS,
    "global_stmt": "a global statement: " + _SYNTAX + _FORK_REJECTS,
    "setcomp": "set comprehensions: " + _SYNTAX + " (tangent-ad unrolls constant ones)",
    "list_sort": "list.sort: " + _SYNTAX + _FORK_REJECTS,
    "nested_list_append": "append to a list inside a list (ys[0].append): " + _SYNTAX +
                          _FORK_REJECTS,
    "list_pop_front_loop": "pop(0) from a list grown in a loop (pop() of the last item and "
                           "pop(i) of a literal list work): " + _SYNTAX,
    "class_instance_inside": "an instance of a plain class made inside the function: refused "
                             "naming the class, saying to make it a dataclass or to create it "
                             "outside (class_instance_global: its methods are inlined)",
    "container_": "reverse over forward of a container argument: as for unpacking_args_saxpy",
    # Zygote's features.jl
    "zygote:tuple_argument": "as for unpacking_args_saxpy (reverse over forward only)",
    "zygote:tuple_of_array": "tuple() of an array (its length is data): " + _SYNTAX,
    "zygote:object_attribute_set": "an instance of a user class made inside the "
                                   "differentiated function: refused naming the class "
                                   "(dataclasses and NamedTuples work)",
}


def _reason(case):
    for prefix, why in INTENDED_REFUSALS.items():
        if f"{case.area}:{case.name}".startswith(prefix) or \
                (":" not in prefix and case.area == "tangent-ad" and case.name.startswith(prefix)):
            return why
    return None


# second order of the corpus: every STRIDE-th function in the pytest run (the
# command line checks all); every case of the other areas
STRIDE = 3


def _sample():
    cases = tangent_cases.all_cases(short=True)
    second = [c for c in cases if c.area == "tangent-2nd"]
    keep = {id(c) for c in second[::STRIDE]}
    return [c for c in cases if c.area != "tangent-2nd" or id(c) in keep]


@pytest.mark.parametrize("case", _sample(), ids=lambda c: f"{c.area}:{c.name}")
def test_tangent_port(case):
    harness.check(case, _reason)


def test_second_order_check_can_fail(monkeypatch):
    """The second-order modes report a wrong Hessian-vector product (here
    s2sgrad.hvp doubled) as ``wrong``, not ``ok``."""
    real = s2sgrad.hvp

    def doubled(f, wrt=0, **kw):
        h = real(f, wrt=wrt, **kw)
        return lambda args, v: tuple(2 * x for x in h(args, v))

    monkeypatch.setattr(s2sgrad, "hvp", doubled)
    case = harness.Case("tangent-2nd", "third_pow", None, (1.5,), (0,), modes=("hvp",),
                        func=tf.third_pow)
    (r,) = harness.run(case)
    assert r.status == "wrong", r
    case = harness.Case("tangent-2nd", "f_calltree", None, (np.linspace(-1, 1, 5),), (0,),
                        modes=("hvp",), func=tangent_cases.hvp_cases()[0].function())
    (r,) = harness.run(case)
    assert r.status == "wrong", r


def main(argv):
    short = "--short" in argv
    areas = set(a for a in argv if not a.startswith("--")) or None
    cases = tangent_cases.all_cases(short=short, areas=areas)
    results = harness.run_all(cases, progress=True)
    harness.report(results, f"Tangent port: {len(cases)} cases")
    print("\nadapted:", *(f"  {k}: {v}" for k, v in tf.ADAPTED.items()), sep="\n")
    print("out of scope:", *(f"  {k}: {v}" for k, v in tf.OUT_OF_SCOPE.items()), sep="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
