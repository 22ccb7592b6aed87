"""firmware-sim: simulated Pycom boards, the serial runner, and the ``firmware-sim`` command."""

__version__ = "0.1.0"
