"""``ujson`` / ``json`` on the board, as extmod/modujson.c (MicroPython 1.11).

``dumps(obj)``/``dump(obj, stream)`` take no keyword (no ``indent``, ``separators``: ``TypeError:
function doesn't take keyword arguments``) and write non-ASCII characters as they are (no ``\\u00e9``);
``loads``/``load`` of malformed text raise ``ValueError: syntax error in JSON``.
"""

from __future__ import annotations

import json
from typing import Any

from network.coap.api.mpargs import check_count

# the board's names: all a script sees
__all__ = ["dump", "dumps", "load", "loads"]


def dumps(*args: Any, **kwargs: Any) -> str:
    check_count(args, kwargs, 1, 1)
    return json.dumps(args[0], ensure_ascii=False)


def dump(*args: Any, **kwargs: Any) -> None:
    check_count(args, kwargs, 2, 2)
    args[1].write(json.dumps(args[0], ensure_ascii=False))


def loads(*args: Any, **kwargs: Any) -> Any:
    check_count(args, kwargs, 1, 1)
    text = args[0]
    if not isinstance(text, str):
        text = bytes(text).decode()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise ValueError("syntax error in JSON") from None


def load(*args: Any, **kwargs: Any) -> Any:
    check_count(args, kwargs, 1, 1)
    return loads(args[0].read())
