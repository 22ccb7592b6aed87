"""``ucollections`` / ``collections`` on the board, as MicroPython 1.11 builds it for Pycom 1.20.

``namedtuple`` and ``deque`` (``MICROPY_PY_COLLECTIONS_DEQUE`` 1 in esp32/mpconfigport.h); no
``OrderedDict`` (``MICROPY_PY_COLLECTIONS_ORDEREDDICT`` defaults to 0 in py/mpconfig.h), so
``from collections import OrderedDict`` is an ImportError on the board.
"""

from __future__ import annotations

from collections import namedtuple  # noqa: F401
from typing import Any

from network.coap.api.mpargs import to_int

# the board's names: all a script sees
__all__ = ["deque", "namedtuple"]

_CHECK_OVERFLOW = 1


class deque:  # noqa: N801 - the board's name
    """py/objdeque.c (1.11): ``deque((), maxlen[, flags])``, a ring of ``maxlen`` items with ``append``
    (dropping the oldest when full, or ``IndexError: full`` with flags 1), ``popleft``, ``len`` and
    truth; it starts empty (any other iterable is a ``ValueError``) and cannot be iterated."""

    __slots__ = ("_items", "_maxlen", "_flags")

    def __init__(self, iterable: Any, maxlen: Any, flags: Any = 0) -> None:
        if type(iterable) is not tuple or iterable:
            raise ValueError
        limit = to_int(maxlen)
        if limit < 0:
            raise ValueError
        self._items: list[Any] = []
        self._maxlen = limit
        self._flags = to_int(flags)

    def append(self, item: Any) -> None:
        if len(self._items) >= self._maxlen:
            if self._flags & _CHECK_OVERFLOW:
                raise IndexError("full")
            if self._items:
                self._items.pop(0)
            else:
                return
        self._items.append(item)

    def popleft(self) -> Any:
        if not self._items:
            raise IndexError("empty")
        return self._items.pop(0)

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __repr__(self) -> str:
        return f"<deque object at {id(self):x}>"
