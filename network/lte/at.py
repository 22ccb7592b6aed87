"""The text of the modem's UART, as a V.250 modem in verbose mode writes and reads it.

Result codes, framing (information lines ``\\r\\n<line>\\r\\n``, then ``\\r\\n<result>\\r\\n``), the
``+CME ERROR`` wording of ``AT+CMEE`` (3GPP TS 27.007 §9.1), and the parsing of a command line:
``;``-chained commands, comma-separated arguments (commas inside quotes kept, an empty argument is
``None``), quoted strings and decimal numbers. The UART carries bytes; a script's ``str`` is their
UTF-8 (``send_at_cmd`` takes either, as ``mp_obj_str_get_data`` does), so bytes that are not UTF-8
travel as surrogate escapes (:func:`to_text`, :func:`to_bytes`). No state here.
"""

from __future__ import annotations

OK = "OK"
ERROR = "ERROR"
CONNECT = "CONNECT"
NO_CARRIER = "NO CARRIER"
# the data prompt of AT+SQNSSENDEXT / AT+SQNSSEND: <CR><LF>> and a space, no line end after it
PROMPT = "\r\n> "
# a handler's result when the final result code comes later (AT+SQNSD waits for its connection)
LATER = ""
CME = "+CME ERROR: "
# TS 27.007 §9.2.1 verbose texts of the codes this model gives
CME_TEXT = {3: "operation not allowed", 4: "operation not supported", 50: "incorrect parameters"}

Args = list[str | None]


def frame(lines: list[str], result: str) -> str:
    """Information ``lines`` and the ``result`` code, framed as the modem sends them."""
    body = "\r\n" + "\r\n".join(lines) + "\r\n" if lines else ""
    return f"{body}\r\n{result}\r\n"


def info(lines: list[str]) -> str:
    """Information lines without a result code (a prompt or a final result still to come)."""
    return "\r\n" + "\r\n".join(lines) + "\r\n" if lines else ""


def urc(line: str) -> str:
    """An unsolicited result code as the modem writes it between commands."""
    return f"\r\n{line}\r\n"


def worded(result: str, cmee: int) -> str:
    """A result code as ``AT+CMEE=<cmee>`` words it: a ``+CME ERROR: <n>`` is plain ``ERROR`` with
    0 (the modem's default), its number with 1, its TS 27.007 text with 2."""
    if not result.startswith(CME):
        return result
    if cmee == 0:
        return ERROR
    if cmee == 2:
        code = int(result[len(CME) :])
        return CME + CME_TEXT.get(code, "unknown")
    return result


def to_text(data: bytes) -> str:
    """Bytes on the UART as the ``str`` a script gets (non-UTF-8 bytes as surrogate escapes)."""
    return data.decode("utf-8", "surrogateescape")


def to_bytes(text: str) -> bytes:
    """A script's ``str`` as the bytes written on the UART (the inverse of :func:`to_text`)."""
    return text.encode("utf-8", "surrogateescape")


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
