"""``ucrypto`` / ``crypto`` on the board: ``getrandbits(bits)`` returns random bytes (Pycom)."""

import os

# the board's names: all a script sees
__all__ = ["getrandbits"]


def getrandbits(bits: int) -> bytes:
    return os.urandom((int(bits) + 7) // 8)
