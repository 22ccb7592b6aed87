"""A sans-I/O model of the Sequans Monarch LTE modem of the FiPy and GPy.

``SequansModem.command(text, now)`` takes one command line as the ESP32 writes it to the modem's UART
and returns the raw bytes (as ``str``) the modem answers, framed as a V.250 modem in verbose mode does
(:mod:`.at`): information lines and then the result code ``OK`` / ``ERROR`` / ``CONNECT`` /
``NO CARRIER``. ``now`` is the board's clock in seconds; registration completes ``attach_time``
seconds after the radio was turned on (``AT+CFUN=1``). Nothing here does I/O: the caller passes the
time and sets :attr:`address`.

Basic commands (``ATE``, ``ATI``, ``ATH``, ``ATO``) are here; the extended ones are in
:mod:`.commands` and :mod:`.socketcmds`, the ``AT!="..."`` directives in :mod:`.directives`.
``ATI1`` answers ``UE5.0.0.0d`` / ``LR5.1.1.0-41065`` as a modem with current firmware. Errors are
the plain ``ERROR`` of ``AT+CMEE=0`` (``+CME ERROR: <n>`` after ``AT+CMEE=1``). A command this model
does not know answers ``ERROR``; text not starting with ``AT`` gets no answer, as the modem ignores it.

Sockets (:mod:`.sockets`) add two data phases: after the prompt of ``AT+SQNSSENDEXT`` the next bytes
written are the data (the rest of that write is read as commands again), and in online data mode
(``AT+SQNSD`` with <connMode> 0, ``AT+SQNSO``) every write goes to the socket until ``+++``. What
the modem writes on its own (URCs, the late result of ``AT+SQNSD``, online data) collects in
``modem.sockets.take_output()``; losing registration closes the sockets.
"""

from __future__ import annotations

import re

from .at import (
    CONNECT,
    ERROR,
    LATER,
    NO_CARRIER,
    OK,
    PROMPT,
    Args,
    frame,
    info,
    split_args,
    split_chain,
    to_bytes,
    to_text,
    unquote,
    worded,
)
from .commands import COMMANDS
from .directives import directive
from .socketcmds import SOCKET_COMMANDS
from .state import ATTACH_TIME_S, ModemState

__all__ = ["ATTACH_TIME_S", "SequansModem"]
_EXTENDED = re.compile(r"([+^][A-Za-z]+)(.*)")
_BASIC = re.compile(r"([A-Za-z&])(\d*)")


class SequansModem(ModemState):
    """The modem: its state (:class:`.state.ModemState`) behind its UART."""

    def command(self, text: str, now: float) -> str:
        """The modem's answer to one command line (``\\r`` optional), framed as on its UART."""
        sockets = self.sockets
        if sockets.collecting():  # the data after AT+SQNSSENDEXT's prompt
            result, rest = sockets.feed(to_bytes(text))
            if result is None:
                return ""
            answer = frame([], worded(result, self.cmee))
            return answer + (self.command(to_text(rest), now) if rest else "")
        if sockets.online is not None:  # online data mode: the UART carries the socket's bytes
            if text == "+++":
                sockets.escape()
                return frame([], OK)
            sockets.write_online(to_bytes(text))
            return ""
        line = text.rstrip("\r\n")
        if line == "+++":  # the escape sequence: only meaningful in data mode
            if self.data_mode:
                self.data_mode = False
                return frame([], OK)
            return ""
        if self.data_mode:
            return ""  # PPP bytes, not a command
        echoed = line + "\r" if self.echo else ""
        if line[:2].upper() != "AT":
            return echoed
        lines: list[str] = []
        result = OK
        for part in split_chain(line[2:]):
            try:
                result = self._one(part, now, lines)
            except (ValueError, IndexError):
                result = ERROR
            if result != OK:
                break
        if sockets.any_open() and not self.registered(now):
            sockets.network_lost()
        if result in (PROMPT, LATER):
            return echoed + info(lines) + result
        return echoed + frame(lines, worded(result, self.cmee))

    def _one(self, cmd: str, now: float, out: list[str]) -> str:
        """Run one command of a line (``+CSQ``, ``E0``, ``!="..."``); info lines go to ``out``."""
        if cmd == "":
            return OK
        if cmd.startswith("!="):
            return directive(self, unquote(cmd[2:]), now, out)
        match = _EXTENDED.fullmatch(cmd)
        if match:
            name, rest = match[1].upper(), match[2]
            args: Args = []
            if rest == "":
                form = "exec"
            elif rest == "?":
                form = "read"
            elif rest == "=?":
                form = "test"
            elif rest.startswith("="):
                form, args = "set", split_args(rest[1:])
            else:
                return ERROR
            handler = COMMANDS.get(name) or SOCKET_COMMANDS.get(name)
            if handler is None:
                return ERROR
            return handler(self, form, args, now, out)
        match = _BASIC.fullmatch(cmd)
        if match:
            return self._basic(match[1].upper(), int(match[2] or 0), now, out)
        return ERROR

    def _basic(self, name: str, value: int, now: float, out: list[str]) -> str:
        ident = self.identity
        if name == "E" and value in (0, 1):
            self.echo = value == 1
            return OK
        if name == "I" and value == 0:
            out += ["SEQUANS Communications", "VZM20Q", ident.ue_version]
            return OK
        if name == "I" and value == 1:
            out += [ident.ue_version, ident.lr_version]
            return OK
        if name == "H" and value == 0:
            self.drop_session()
            return OK
        if name == "O" and value == 0:  # back to the data session +++ left
            if self.session_cid is not None and self.registered(now):
                self.data_mode = True
                return CONNECT
            return NO_CARRIER
        return ERROR
