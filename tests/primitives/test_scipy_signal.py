"""scipy.signal convolutions against finite differences, for every mode, N-d
shapes, either operand the larger, complex operands, and SciPy's own values."""
import numpy as np
import pytest

ss = pytest.importorskip("scipy.signal")

import s2sgrad  # noqa: E402
import s2sgrad.runtime as rt  # noqa: E402
from s2sgrad.primitives import core  # noqa: E402

from .spec import RNG, Spec, check_spec, normal  # noqa: E402
from .test_runtime_prims import check_hvp  # noqa: E402

core.load_optional_rules()      # register the rules (test_coverage needs them)


def cnormal(*shape):
    return normal(*shape) + 1j * normal(*shape)


W5 = normal(5)
W3 = normal(3)
W23 = normal(2, 3)

SPECS = [
    Spec("signal_convolve", lambda a, b: np.sum(ss.convolve(a, b) * W5), (normal(4), normal(2)),
         wrt=(0, 1), id="convolve-full-1d"),
    Spec("signal_convolve", lambda a, b: np.sum(ss.convolve(a, b, mode="same") ** 2),
         (normal(4, 3), normal(2, 2)), wrt=(0, 1), id="convolve-same-2d"),
    Spec("signal_convolve", lambda a, b: np.sum(np.sin(ss.convolve(a, b, "valid"))),
         (normal(6, 7), normal(4, 1)), wrt=(0, 1), id="convolve-valid-2d"),
    Spec("signal_convolve", lambda a, b: np.sum(ss.convolve(a, b, "valid") ** 2),
         (normal(3, 5), normal(4, 6)), wrt=(0, 1), id="convolve-valid-second-larger"),
    Spec("signal_convolve", lambda a, b: np.sum(ss.convolve(a, b, "same", method="direct") ** 3),
         (normal(2), normal(5)), wrt=(0, 1), id="convolve-same-second-larger"),
    Spec(("signal_convolve", "scipy.signal.correlate"),
         lambda a, b: np.sum(np.abs(ss.correlate(a, b, "same")) ** 2), (cnormal(5), cnormal(3)),
         wrt=(0, 1), id="correlate-complex"),
    Spec(("signal_convolve", "scipy.signal.fftconvolve", "scipy.signal.oaconvolve"),
         lambda a, b: np.sum(ss.fftconvolve(a, b, "full") * ss.oaconvolve(a, b)),
         (normal(3, 4), normal(2, 2)), wrt=(0, 1), id="fftconvolve-oaconvolve"),
    Spec(("signal_convolve", "scipy.signal.convolve2d", "scipy.signal.correlate2d"),
         lambda a, b: np.sum(ss.convolve2d(a, b, "same") * ss.correlate2d(a, b, "same")),
         (normal(4, 5), normal(2, 3)), wrt=(0, 1), id="convolve2d-correlate2d"),
    Spec(("conv_embed", "conv_crop"),
         lambda g: np.sum(rt.conv_crop(rt.conv_embed(g, W5, W3, "same") ** 2, W5, W3,
                                       "valid")), (normal(5),), id="embed-crop"),
    Spec("flip_all", lambda x: np.sum(rt.flip_all(x) * W23), (normal(2, 3),)),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.id)
def test_scipy_signal(spec):
    check_spec(spec)


@pytest.mark.parametrize("spec", SPECS[:4], ids=lambda s: s.id)
def test_scipy_signal_hvp(spec):
    """Forward-over-reverse: the convolution rules differentiated again."""
    check_hvp(spec)


def _boundary(a, b):
    return np.sum(ss.convolve2d(a, b, boundary="wrap"))


def test_other_boundaries_are_refused():
    with pytest.raises(s2sgrad.S2SGradError, match="boundary='fill'"):
        s2sgrad.grad(_boundary)(normal(3, 3), normal(2, 2))
