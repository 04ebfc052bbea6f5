"""The ports13 cases (``tests/ports/ports13_cases.py``): PyTorch test_autograd /
test_view_ops in-place and view semantics as NumPy programs (views of views,
every NumPy view function seeing its base's later writes, in-place methods,
overlapping updates), JAX lax_numpy_indexing_test (basic, advanced, mixed
indexing; ``.at[]`` updates as ``np.add.at``/setitem/``np.put``/
``put_along_axis``), lax_numpy_einsum_test, lax_numpy_reducers_test
(``where=``, ``initial=``, ``dtype=``, nan-reducers, ``ptp``, argmax
selections), autograd's test_complex, and float16/float32 inputs mixed with
Python numbers.

Every case is checked in reverse and forward mode; every other case in
reverse over reverse and forward over reverse; every seventh in reverse over
forward, forward over forward and ``hvp`` (a deterministic sample, for the
time budget), all by :mod:`tests.ports.harness`.  Refusals are ``xfail``
only where listed with the reason.  The command line prints the table::

    python -m tests.ports.test_ports13_port                 # all areas
    python -m tests.ports.test_ports13_port views --order2
"""
from __future__ import annotations

import sys

import pytest

pytestmark = [pytest.mark.filterwarnings("ignore::RuntimeWarning")]

from . import harness, ports13_cases

_CASES = {}


def all_cases(areas=None):
    """The cases of ``areas`` (all by default), each area made once per
    process in a fixed order (one seeded generator)."""
    if not _CASES:
        for name, make in ports13_cases.ALL.items():
            _CASES[name] = make()
    return [c for name in ports13_cases.ALL if areas is None or name in areas
            for c in _CASES[name]]


_PIECES = ("writing through a piece of np.split/np.array_split (a view) is refused naming the "
           "line: NumPy writes into the array; write into the array itself (y[:2] *= ...)")
_NAN_WHERE = ("the nan-reducers (nanmax, nanmin, nanprod, nanvar, nanstd) take no where= in "
              "s2sgrad: refused naming the call; mask with np.where(w, a, np.nan) instead")
_LIST_ITEM = ("a write into an array while a row of it read out of a list built at run time "
              "may still be read is refused naming the line (which list item shares which "
              "memory is known at run time only); stack the rows first (np.stack)")
_LIST_HELD = ("a write into an array while a list built at run time holding views of it may "
              "still be read is refused naming the line; stack the rows (np.stack) or copy")
_BRANCH_VIEW = ("a write through a view chosen by a branch taken at run time (v = y[1:] if c "
                "else y[:-1]; v *= 2) is refused naming the line: which array it reaches is "
                "known at run time only")
INTENDED_REFUSALS = {
    "split_pieces": _PIECES,
    "array_split_rows": _PIECES,
    "list_of_row_views": "an in-place update of an array held by a list built at run time is "
                         "refused naming the line (s2sgrad cannot tell which entries share "
                         "it); rows[0] = rows[0] * 2.0 stores a new array",
    "diag_einsum_view": "writing through np.einsum('ii->i', y) (a view NumPy returns) is "
                        "refused naming the line; the view seeing writes into y is supported",
    "real_view_write": "writing through np.real(y)/y.real is refused naming the line",
    "nan_to_num_in_place": "np.nan_to_num(x, copy=False) writes into x: refused naming the "
                           "line; x[...] = np.nan_to_num(x) is supported",
    "read_bool_0d": "np.True_/np.False_ as an index (a 0-d boolean index) is refused naming "
                    "the object; index with a boolean array",
    "at_subtract_divide": "np.divide.at has no rule (np.add/subtract/multiply/minimum/"
                          "maximum.at have): refused naming the call",
    "nanprod_where": _NAN_WHERE, "nanmax_where": _NAN_WHERE, "nanmin_where": _NAN_WHERE,
    "nanvar_where": _NAN_WHERE, "nanstd_where": _NAN_WHERE,
    "list_comp_rows": _LIST_ITEM, "zip_rows": _LIST_ITEM, "enumerate_rows": _LIST_ITEM,
    "fftconvolve_axes": "scipy.signal.fftconvolve(..., axes=) is refused naming the call; "
                        "scipy.signal.convolve over all axes is supported",
    "comp_": _LIST_HELD, "loop_append_": _LIST_HELD, "enumerate_": _LIST_HELD,
    "star_unpack": "'+' on a list built at run time is refused naming the line",
    "branch_view_choice": _BRANCH_VIEW, "branch_mT_choice": _BRANCH_VIEW,
    "clip_out_self": "the method form y.clip(lo, hi, out=y) is refused naming the line; "
                     "np.clip(y, lo, hi, out=y) is supported",
}
_reason = harness.reason_by_prefix(INTENDED_REFUSALS)


def _order2_cases():
    out = [harness.order2(c) for i, c in enumerate(all_cases()) if i % 2 == 0]
    return [c for c in out if c is not None]


def _rf_cases():
    out = [harness.order2(c, modes=("rf", "ff", "hvp")) for i, c in enumerate(all_cases())
           if i % 7 == 3]
    return [c for c in out if c is not None]


@pytest.mark.parametrize("case", all_cases(), ids=lambda c: f"{c.area}:{c.name}")
def test_ports13(case):
    harness.check(case, _reason)


@pytest.mark.parametrize("case", _order2_cases(), ids=lambda c: f"{c.area}:{c.name}")
def test_ports13_order2(case):
    harness.check(case, _reason)


@pytest.mark.parametrize("case", _rf_cases(), ids=lambda c: f"{c.area}:{c.name}")
def test_ports13_order2_rf(case):
    harness.check(case, _reason)


def main(argv):
    return harness.main(argv, all_cases, harness.order2, "ports13")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
