"""Everything a board printed, as text, with a cursor for ``expect`` (pexpect's way: each match
consumes the output up to its end, so the next ``expect`` looks only at what came after).

Bytes are decoded as UTF-8 with ``surrogateescape`` (any byte survives, and a bytes pattern matches
the same bytes), and ``\\r\\n`` becomes ``\\n`` so that ``$`` with ``re.M`` works on the board's lines.
"""

from __future__ import annotations

import codecs
import re

Pattern = str | bytes | re.Pattern[str] | re.Pattern[bytes]


def as_text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape").replace("\r\n", "\n")


def compile_pattern(pattern: Pattern) -> re.Pattern[str]:
    """A str regex for ``pattern``: a str or compiled str pattern as it is; a bytes one (plain or
    compiled) as its text, with ASCII semantics as bytes patterns have."""
    if isinstance(pattern, re.Pattern):
        if isinstance(pattern.pattern, bytes):
            return re.compile(as_text(pattern.pattern), (pattern.flags & ~re.UNICODE) | re.ASCII)
        return pattern
    if isinstance(pattern, bytes):
        return re.compile(as_text(pattern), re.ASCII)
    return re.compile(pattern)


class Transcript:
    """The board's output so far and the expect cursor."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        self._pending_cr = False
        self.text = ""
        self.cursor = 0

    def feed(self, data: bytes) -> None:
        chunk = self._decoder.decode(data)
        if self._pending_cr:
            chunk = "\r" + chunk
        self._pending_cr = chunk.endswith("\r")
        if self._pending_cr:
            chunk = chunk[:-1]
        self.text += chunk.replace("\r\n", "\n")

    def search(self, regex: re.Pattern[str], consume: bool = True) -> re.Match[str] | None:
        found = regex.search(self.text, self.cursor)
        if found is not None and consume:
            self.cursor = found.end()
        return found

    def printable(self) -> str:
        """The whole output, safe to print (undecodable bytes shown as U+FFFD)."""
        return self.text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")

    def tail(self, lines: int = 20) -> str:
        return "\n".join(self.printable().rstrip("\n").split("\n")[-lines:])
