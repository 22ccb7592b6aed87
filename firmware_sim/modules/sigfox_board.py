"""Sigfox on a simulated board: the backend ``network.Sigfox`` talks to (``network/sigfox_radio.py``'s
:class:`~network.sigfox_radio.Backend` hook), made of the board's own files.

* Uplinks (and downlinks received, ``test_mode``/``cw`` calls) are lines of the board's outputs
  timeline, ``/flash/.firmware-sim/peripherals.jsonl``, with ``"source": "Sigfox"``::

      {"t": 1.25, "source": "Sigfox", "event": "uplink", "id": "00a1b2c3", "sequence": 1, "rcz": 1,
       "frequency": 868130000, "oob": false, "data": "010203", "tx_repeat": 2, "downlink_requested": false}

* A downlink request is answered from the environment (``--environment FILE`` or the hidden
  ``environment.json``): ``{"sigfox": {"downlink": "0011223344556677"}}`` (hex, or a list of byte
  values; 8 bytes, shorter is padded with zeros; a timeline too). No value: no answer, and the script's
  ``send`` raises ``OSError(ENETDOWN)`` after the receive window, as on the board.

:func:`attach_sigfox` is what the board's ``network`` module calls on a LoPy4, SiPy or FiPy: it also says
whether the firmware has FSK (SiPy only) and forgets the radio at a soft reset.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from network import sigfox, sigfox_radio

from ..runtime import current, environment
from ..runtime.board import Board

__all__ = ["BoardBackend", "attach_sigfox", "downlink_bytes"]


def downlink_bytes(value: Any) -> bytes | None:
    """The environment's ``sigfox/downlink`` value as bytes: hex text or a list of byte values."""
    if isinstance(value, str):
        try:
            return bytes.fromhex(value.replace(" ", "").replace(":", ""))
        except ValueError:
            return None
    if isinstance(value, list) and all(isinstance(b, int) and 0 <= b <= 255 for b in value):
        return bytes(value)
    return None


class BoardBackend(sigfox_radio.Backend):
    """The Sigfox network of one board: its outputs timeline and its environment."""

    def __init__(self, board: Board) -> None:
        self._board = weakref.ref(board)

    def record(self, **fields: Any) -> None:
        board = self._board()
        if board is not None:
            environment.record("Sigfox", board=board, **fields)

    def downlink(self, device_id: bytes) -> bytes | None:
        board = self._board()
        if board is None:
            return None
        return downlink_bytes(environment.reading("sigfox/downlink", board=board))

    def task_started(self, thread: threading.Thread) -> None:
        board = self._board()
        if board is not None and thread.ident is not None:
            board.own_threads.add(thread.ident)


class SigfoxSession:
    """The radio of one session: a soft reset powers it off (``close``), as the firmware's reset does."""

    def __init__(self, board: Board) -> None:
        sigfox.configure(fsk=board.kind.key == "sipy")
        sigfox_radio.attach(BoardBackend(board))

    def close(self) -> None:
        sigfox.hard_reset()


def attach_sigfox(board: Board | None = None) -> None:
    """Give ``network.Sigfox`` this board's backend (once per session)."""
    (current() if board is None else board).part(SigfoxSession, per_session=True)
