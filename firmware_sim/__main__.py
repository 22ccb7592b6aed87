"""``python -m firmware_sim`` is the ``firmware-sim`` command."""

import os
import sys

from .cli import main

status = main()
sys.stdout.flush()
sys.stderr.flush()
os._exit(status)  # a board's threads end with the board
