"""``python -m s2sgrad ...``: the command line (see :mod:`s2sgrad.cli`)."""
from .cli import main

raise SystemExit(main())
