"""``network.LTE`` for the FiPy and GPy, in layers (as ``coap`` is):

- ``at``: the modem UART's text (V.250 framing and command-line parsing), no state.
- ``state``, ``commands``, ``modem``: a sans-I/O model of the Sequans Monarch modem
  (:class:`SequansModem`): its state, its extended AT commands, and its UART; ``sockets`` and
  ``socketcmds`` its six sockets (``AT+SQNSD`` ...), ``directives`` its ``AT!="..."`` shell.
- ``link``: lteppp's side (``esp32/lte/lteppp.c``): the object's state and the UART to the modem;
  ``radio`` the modem's network side, the real sockets behind its connections (loopback only).
- ``queries``, ``api``: the ``LTE`` class with modlte.c's signatures, AT sequences and errors.

:func:`hard_reset` and :func:`modem` are the simulator's (a fresh board; the modem a test inspects),
not part of the API scripts see.

The board's address on LTE is ``network.host.own_address()``, what ``AT+CGPADDR=1`` answers once
attached. The PPP session is a state: sockets use the board's loopback address. The modem's own
sockets (``AT+SQNSD``) are real, bound to that address, and reach what the script dials through the
address map; nothing leaves 127.0.0.0/8.
Board time is ``network.host.board_time()``: the simulator's one scaled clock, which the simulator
(or a test) sets with ``network.host.configure(clock=...)``.
"""

from __future__ import annotations

from .api import LTE, PSMInfo, hard_reset
from .link import modem
from .modem import ATTACH_TIME_S, SequansModem

__all__ = ["ATTACH_TIME_S", "LTE", "PSMInfo", "SequansModem", "hard_reset", "modem"]
