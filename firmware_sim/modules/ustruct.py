"""``ustruct`` / ``struct`` on the board."""

from struct import calcsize, pack, pack_into, unpack, unpack_from  # noqa: F401
