"""``machine.mem8``, ``mem16`` and ``mem32`` (MicroPython 1.11's ``extmod/machine_mem.c``, which Pycom
1.20.2.r6 puts in ``machine``): the board's memory by address, ``mem32[addr]`` to read and
``mem32[addr] = value`` to write, ``addr`` aligned to the access size.

The simulated memory is plain RAM, byte-addressed, little-endian as the ESP32's: what a script wrote
reads back (a ``mem32`` write is four ``mem8`` bytes), anything never written reads 0, for every
address. No peripheral register behind an address is modelled, and an address the ESP32 would fault on
(a reset with a Guru Meditation) reads 0 here. The memory lasts a session (a soft reset clears it).
"""

from __future__ import annotations

from typing import Any

from .state import machine_part


def _address(index: Any, align: int) -> int:
    """``machine_mem_get_addr``: the address as a 32-bit word, aligned (a non-int index, which the
    firmware reads as garbage, is a TypeError here)."""
    if not isinstance(index, int):
        raise TypeError(f"can't convert {type(index).__name__} to int")
    addr = int(index) & 0xFFFFFFFF
    if addr & (align - 1):
        raise ValueError(f"address {addr:08x} is not aligned to {align} bytes")
    return addr


def _memory() -> dict[int, int]:
    """The session's written bytes, by address."""
    found: dict[int, int] = machine_part().one(("mem",), dict)
    return found


class mem:  # noqa: N801 - the firmware's type name (MP_QSTR_mem)
    """One of ``mem8``/``mem16``/``mem32``: reads and writes of ``size`` bytes."""

    def __init__(self, size: int) -> None:
        self._size = size

    def __getitem__(self, index: Any) -> int:
        addr = _address(index, self._size)
        memory = _memory()
        return int.from_bytes(bytes(memory.get(addr + i, 0) for i in range(self._size)), "little")

    def __setitem__(self, index: Any, value: Any) -> None:
        addr = _address(index, self._size)
        if not isinstance(value, int):  # mp_obj_get_int_truncated
            raise TypeError(f"can't convert {type(value).__name__} to int")
        data = (int(value) & ((1 << (8 * self._size)) - 1)).to_bytes(self._size, "little")
        memory = _memory()
        for i, byte in enumerate(data):
            memory[addr + i] = byte

    def __delitem__(self, index: Any) -> None:
        raise TypeError("'mem' object doesn't support item deletion")

    def __repr__(self) -> str:
        return f"<{8 * self._size}-bit memory>"


mem8, mem16, mem32 = mem(1), mem(2), mem(4)
