"""A module of the user's for tests/test_corpus11_fixes.py (a function
imported inside a differentiated function, swapped between calls)."""
import numpy as np


def act(z):
    return np.tanh(z)
