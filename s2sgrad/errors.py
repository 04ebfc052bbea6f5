"""Error types.  Every compile-time refusal is an :class:`S2SGradError` whose
message starts with the user's ``file:line:`` and says what to do instead."""
from __future__ import annotations


class S2SGradError(Exception):
    """Base class of everything s2sgrad refuses to differentiate.

    ``filename``/``lineno``/``construct`` locate the offending code when known.
    """

    def __init__(self, message, *, filename=None, lineno=None, col=None, construct=None):
        self.bare_message = message
        self.filename = filename
        self.lineno = lineno
        self.col = col
        self.construct = construct
        super().__init__(self._format())

    def _format(self):
        if self.filename is not None and self.lineno is not None:
            return f"{self.filename}:{self.lineno}: {self.bare_message}"
        return self.bare_message

    def located(self, filename, lineno, col=None):
        """Attach a location if the error has none yet; returns self."""
        if self.lineno is None:
            self.filename, self.lineno, self.col = filename, lineno, col
            self.args = (self._format(),)
        return self


class UnsupportedSyntaxError(S2SGradError):
    """A Python construct s2sgrad does not differentiate (yet)."""


class UnknownFunctionError(S2SGradError):
    """A call to something that is neither a known primitive nor Python source."""


class UnresolvedNameError(S2SGradError):
    """A name that is not a local, a closure variable, a global or a builtin."""


class SourceNotFoundError(S2SGradError):
    """The function's source code is not available to ``inspect``."""


class NonDifferentiableError(S2SGradError):
    """A value flows into an operand that has no derivative rule."""


class OutputError(S2SGradError):
    """The differentiated function returned something ``grad`` cannot seed."""


class SharedArgumentsError(S2SGradError, ValueError):
    """Two arguments share memory and the function writes into one of them
    (found when the compiled code runs: ``runtime.check_unshared``)."""


class DataRefusedError(S2SGradError, ValueError):
    """Data the compiled code refuses when it runs, where NumPy's result
    would take a path s2sgrad does not follow (``np.emath.sqrt`` of a
    negative entry: a complex result; ``zip()`` of a sequence shorter than
    the functions it was unrolled over)."""


class OutputTypeError(OutputError, TypeError):
    """``grad`` of a function whose output is boolean or integer (found when
    the gradient runs: ``runtime.scalar_seed``)."""
