"""The hardware around the module: buses and the chips on them, the expansion boards (shields).

Below ``firmware_sim/modules`` (``machine.I2C`` talks to a bus of :mod:`.i2c`) and above
``firmware_sim/runtime`` (a chip reads what it measures from :mod:`firmware_sim.runtime.environment` on
the board's clock). Each chip model is a file of its own, at its register level from its datasheet, so
Pycom's public driver libraries run on it unchanged; :mod:`.shields` says which chips an expansion board
(``--shield``) puts on which pins.
"""
