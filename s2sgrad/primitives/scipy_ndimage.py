"""scipy.ndimage: map_coordinates (order=1), registered once the program has
imported scipy.ndimage (core.OPTIONAL_RULES); the rules are in more_numpy.py."""
from .more_numpy import _register_map_coordinates

_register_map_coordinates()
