"""``python -m firmware_sim.virtual``: serve a virtual board (see :mod:`firmware_sim.virtual.relay`)."""

import sys

from .relay import main

sys.exit(main())
