"""The text of the modem's UART, as a V.250 modem in verbose mode writes and reads it.

Result codes, framing (information lines ``\\r\\n<line>\\r\\n``, then ``\\r\\n<result>\\r\\n``), and
the parsing of a command line: ``;``-chained commands, comma-separated arguments (commas inside
quotes kept, an empty argument is ``None``), quoted strings and decimal numbers. No state here.
"""

from __future__ import annotations

OK = "OK"
ERROR = "ERROR"
CONNECT = "CONNECT"
NO_CARRIER = "NO CARRIER"

Args = list[str | None]


def frame(lines: list[str], result: str) -> str:
    """Information ``lines`` and the ``result`` code, framed as the modem sends them."""
    body = "\r\n" + "\r\n".join(lines) + "\r\n" if lines else ""
    return f"{body}\r\n{result}\r\n"


def split_chain(text: str) -> list[str]:
    """``+CEREG=2;+CEREG?`` -> the commands of one line (``;`` outside quotes)."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == ";" and not quoted:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return parts


def split_args(text: str) -> Args:
    """Comma-separated arguments (commas inside quotes kept); an empty argument is ``None``."""
    args: Args = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            args.append("".join(current).strip() or None)
            current = []
        else:
            current.append(char)
    args.append("".join(current).strip() or None)
    return args


def unquote(text: str | None) -> str:
    """``"abc"`` -> ``abc``; an unquoted or missing argument as it is (``None``: empty)."""
    text = (text or "").strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    return text


def number(text: str | None) -> int:
    """A decimal argument; ValueError when it is missing or not a number (the modem answers ERROR)."""
    if text is None:
        raise ValueError("missing argument")
    return int(text, 10)
