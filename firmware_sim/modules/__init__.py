"""The MicroPython modules a simulated board's scripts import (``utime``, ``uos``, ``machine`` ...)."""
