"""``ucrypto`` / ``crypto`` on the board: ``getrandbits(bits)`` returns random bytes (Pycom)."""

import os


def getrandbits(bits: int) -> bytes:
    return os.urandom((int(bits) + 7) // 8)
