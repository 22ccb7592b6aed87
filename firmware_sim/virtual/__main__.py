"""``python -m firmware_sim.virtual [options]`` is ``firmware-sim board [options]``."""

import os
import sys

from ..cli import main

status = main(["board", *sys.argv[1:]])
sys.stdout.flush()
sys.stderr.flush()
os._exit(status)
