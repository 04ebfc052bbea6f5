"""Ports of peer AD libraries' test suites (autograd, Tangent), run against s2sgrad."""
