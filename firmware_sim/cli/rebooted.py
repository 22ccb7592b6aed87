"""What a board watched by ``run --expect-text/--fail-text`` re-executes at a reboot
(``python -m firmware_sim.cli.rebooted``): the same board, with what is still to be seen
(:mod:`firmware_sim.cli.expect`), carried in the environment."""

from __future__ import annotations

import sys

from ..runtime.state import BoardState
from .expect import Watch, boot_watching


def main() -> None:
    state, watch = BoardState.from_env(), Watch.from_env()
    if state is None or watch is None:
        sys.exit("firmware-sim: this module boots a board prepared by `firmware-sim run`; use that command")
    boot_watching(state, watch)


if __name__ == "__main__":
    main()
