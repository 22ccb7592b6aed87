"""Code to a board at its raw prompt (../shared/spec/raw-repl.md §1.4, §1.5): raw-paste mode with its
flow control when the board grants it, standard raw mode otherwise (Pycom 1.20 answers the raw-paste
request with the raw banner). Functions over a :class:`SerialLine`, used by ``ReplSession.send``.
"""

from __future__ import annotations

import struct
import time

from ..replwire import (
    CTRL_A,
    CTRL_D,
    END,
    OK,
    PROMPT,
    RAW_PASTE_GRANTED,
    RAW_PASTE_REFUSED,
    RAW_PROMPT,
    WINDOW_FORMAT,
)
from .errors import BoardTimeout, ProtocolError
from .line import SerialLine

RAW_CHUNK = 256  # standard raw mode: bytes per write, then a pause (the board has no flow control)
RAW_CHUNK_PAUSE = 0.01
_GRANT_LENGTH = len(RAW_PASTE_GRANTED) + struct.calcsize(WINDOW_FORMAT)


def paste_answer(line: SerialLine, timeout: float) -> int:
    """The raw-paste window the board grants to the request just sent, 0 when it refuses (``R\\x00``,
    or the raw banner from firmware without raw-paste). ``ProtocolError`` for anything else."""
    buf = line.buffer

    def find() -> int | None:
        i = buf.find(RAW_PASTE_GRANTED)
        if i >= 0 and len(buf) >= i + _GRANT_LENGTH:
            window = int(struct.unpack_from(WINDOW_FORMAT, buf, i + len(RAW_PASTE_GRANTED))[0])
            del buf[: i + _GRANT_LENGTH]
            return window
        for refusal in (RAW_PASTE_REFUSED, RAW_PROMPT):
            j = buf.find(refusal)
            if j >= 0:
                del buf[: j + len(refusal)]
                return 0
        if len(buf) > 200 or PROMPT in buf or b"=== " in buf:  # not in the raw REPL (any more)
            raise ProtocolError(
                f"unexpected answer to the raw-paste request from {line.port}: {bytes(buf[:80])!r}",
                "retry; if it persists reset the board",
            )
        return None

    return line.wait(find, timeout, "the answer to the raw-paste request")  # type: ignore[return-value]


def paste_write(line: SerialLine, code: bytes, window: int, timeout: float) -> None:
    """Raw-paste data phase: never more than the granted window in flight; the board's ``\\x01`` grants
    another window, its ``\\x04`` means stop. Ends with the end-of-data exchange."""
    remain = window
    i = 0
    stalled = time.monotonic()
    while True:
        line.poll(wait=remain == 0 and i < len(code))
        for byte in line.take(len(line.buffer)):
            if byte == CTRL_A:
                remain += window
            elif byte == CTRL_D:  # the board stops reading (e.g. a syntax error): acknowledge and follow
                line.write(END)
                return
            else:
                raise ProtocolError(
                    f"unexpected byte {bytes([byte])!r} from {line.port} during raw-paste",
                    "retry; if it persists reset the board",
                )
        if i >= len(code):
            break
        if remain == 0:
            if time.monotonic() - stalled > timeout:
                raise BoardTimeout(
                    f"the board on {line.port} stopped taking data (no raw-paste window granted for "
                    f"{timeout:g} s)",
                    "check that the board is still running (power, cable); reset it and retry",
                )
            continue
        piece = code[i : i + remain]
        line.write(piece)
        i += len(piece)
        remain -= len(piece)
        stalled = time.monotonic()
    line.write(END)

    def ack() -> int | None:
        while line.buffer[:1] == bytes((CTRL_A,)):
            del line.buffer[:1]
        if line.buffer[:1] == END:
            del line.buffer[:1]
            return 1
        if line.buffer:
            raise ProtocolError(
                f"unexpected answer from {line.port} at the end of a raw-paste: {bytes(line.buffer[:80])!r}",
                "retry; if it persists reset the board",
            )
        return None

    line.wait(ack, timeout, "the end-of-data acknowledgement of raw-paste")


def raw_write(line: SerialLine, code: bytes, timeout: float) -> None:
    """Standard raw mode: 256-byte pieces with a pause, Ctrl-D, then the board's ``OK``."""
    for i in range(0, len(code), RAW_CHUNK):
        line.write(code[i : i + RAW_CHUNK])
        if i + RAW_CHUNK < len(code):
            time.sleep(RAW_CHUNK_PAUSE)
    line.write(END)
    line.read_until(OK, timeout, "its OK after the code", limit=32)
