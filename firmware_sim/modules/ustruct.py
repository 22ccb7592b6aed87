"""``ustruct`` / ``struct`` on the board."""

from struct import calcsize, pack, pack_into, unpack, unpack_from  # noqa: F401

# the board's names: all a script sees
__all__ = ["calcsize", "pack", "pack_into", "unpack", "unpack_from"]
