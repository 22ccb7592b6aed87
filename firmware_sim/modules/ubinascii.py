"""``ubinascii`` / ``binascii`` on the board (``hexlify`` takes MicroPython's optional separator)."""

from binascii import a2b_base64, b2a_base64, crc32, unhexlify  # noqa: F401
from binascii import hexlify as _hexlify

# the board's names: all a script sees
__all__ = ["a2b_base64", "b2a_base64", "crc32", "hexlify", "unhexlify"]


def hexlify(data: bytes, sep: bytes | str | None = None) -> bytes:
    if sep is None:
        return _hexlify(data)
    return _hexlify(data, sep)
