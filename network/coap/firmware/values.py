"""How modcoap stores a resource value (``resource_update_value``, same in 1.20.1 to 1.20.3.b4).

Values are always bytes: str as UTF-8, buffers as-is, and an int as the little-endian low bytes of
its 32-bit pattern, 2 bytes when above 0xFF and 1 byte otherwise (the 4-byte branch is unreachable in
the firmware). So the default value 0 is ``b'\\x00'`` and ``300`` is ``b'\\x2c\\x01'``.
"""

from __future__ import annotations


def encode_value(value: object) -> bytes:
    if isinstance(value, int):  # bool included: True -> b'\x01'
        pattern = int(value) & 0xFFFFFFFF
        return (pattern & 0xFFFF).to_bytes(2, "little") if pattern > 0xFF else bytes((pattern,))
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError("object with buffer protocol required")
