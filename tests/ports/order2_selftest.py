"""A function whose first derivative is right and whose second is wrong
(its rule's cosine is taken of a detached ``x``, so differentiating the
rule again gives 0 instead of ``-sin``): the port's second-order checks of
a non-scalar output must report it (test_autograd_port)."""
import numpy as np

import s2sgrad


@s2sgrad.custom_jvp
def bad_sin(x):
    return np.sin(x)


@bad_sin.defjvp
def bad_sin_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return np.sin(x), np.cos(s2sgrad.stop_gradient(x)) * t


def f(x):
    return bad_sin(x) * 2.0


def good(x):
    return np.sin(x) * 2.0
