"""Pycom's expansion boards (``--shield``): which chips each puts on which pins of the module.

Every chip of these boards sits on one I2C bus, SDA on P22 and SCL on P21 (the pins Pycom's libraries
default to: ``I2C(0, mode=I2C.MASTER, pins=('P22', 'P21'))``), at the addresses of their datasheets:

========== ======================================================================================
pysense    Pysense 1.0: PIC (8, firmware 8, product id 0xF012), SI7006-A20 (0x40), LTR-329ALS-01
           (0x29), MPL3115A2 (0x60), LIS2HH12 (0x1E, INT1 on P13)
pysense2   Pysense 2.0 X: the same chips, its PIC version 2 (firmware 16, CMD_GO_NAP, CMD_RESET),
           RC1 wired to P9
pytrack    Pytrack 1.0: PIC (8, firmware 8, product id 0xF013), L76-L GNSS (0x10), LIS2HH12 (0x1E,
           INT1 on P13)
pytrack2   Pytrack 2.0 X: the same chips, its PIC version 2, RC1 wired to P9
========== ======================================================================================

The chips are fitted when the board's I2C buses are first used (:class:`.i2c.I2CBuses` calls
:func:`fit`), so a board without a shield, or a script that never touches I2C, pays nothing. What they
measure comes from the environment (:mod:`firmware_sim.runtime.environment`); the chip files say which
keys each reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..runtime.board import Board
    from .i2c import I2CBuses

SDA, SCL = "P22", "P21"  # the expansion boards' I2C bus
ACCEL_INT = "P13"  # the LIS2HH12's INT1 (also the PIC's RA5)
PIC_RC1 = "P9"  # version 2 boards: the module's P9 is the PIC's RC1 (pycoproc_2's wake_up())
PYSENSE_ID, PYTRACK_ID = 0xF012, 0xF013  # the boards' USB product ids, as the PIC reports them


@dataclass(frozen=True)
class Shield:
    """An expansion board: its name (``--shield``), PIC version and product id, and its sensors."""

    name: str
    version: int
    product_id: int
    sensing: bool  # Pysense's sensors (else Pytrack's GNSS)


SHIELDS = {
    "pysense": Shield("pysense", 1, PYSENSE_ID, sensing=True),
    "pysense2": Shield("pysense2", 2, PYSENSE_ID, sensing=True),
    "pytrack": Shield("pytrack", 1, PYTRACK_ID, sensing=False),
    "pytrack2": Shield("pytrack2", 2, PYTRACK_ID, sensing=False),
}


def fit(board: Board, buses: I2CBuses) -> None:
    """Put the chips of ``board.state.shield`` on ``buses`` (nothing for ``none``)."""
    shield = SHIELDS.get(board.state.shield)
    if shield is None:
        return
    # the chip models load only for a board with a shield (a board without one pays nothing)
    from .l76 import L76
    from .lis2hh12 import LIS2HH12
    from .ltr329 import LTR329
    from .mpl3115a2 import MPL3115A2
    from .pic import PIC
    from .si7006 import SI7006

    def pic_on_bus(on: bool) -> None:
        if on:
            buses.attach(SDA, SCL, pic)
        else:
            buses.detach(SDA, SCL, pic.address)

    rc1 = PIC_RC1 if shield.version == 2 else None
    pic = PIC(board, shield.version, shield.product_id, pic_on_bus, rc1_pin=rc1)
    chips: list[object] = [pic, LIS2HH12(board, int1_pin=ACCEL_INT)]
    chips += [SI7006(board), LTR329(board), MPL3115A2(board)] if shield.sensing else [L76(board)]
    for chip in chips:
        buses.attach(SDA, SCL, chip)  # type: ignore[arg-type]
    pic.resume()
