"""``uzlib`` / ``zlib`` on the board: decompression only, as MicroPython 1.11."""

from zlib import decompress  # noqa: F401

# the board's names: all a script sees
__all__ = ["decompress"]
