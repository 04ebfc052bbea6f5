"""Test-wide settings: errors of the shape specialiser are raised, not
silently replaced by the polymorphic code as they are for users."""
from s2sgrad import api

api.STRICT_SPECIALIZE = True
