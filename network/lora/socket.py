"""LoRa sockets (``socket.socket(socket.AF_LORA, socket.SOCK_RAW)``) as firmware 1.20.2.r6 has them: the
``lora_socket_*`` functions of ``esp32/mods/modlora.c`` behind the raw socket type of
``esp32/mods/modusocket.c`` (whose methods are only ``close``, ``send``, ``sendto``, ``recv``,
``recvfrom``, ``settimeout``, ``bind``, ``setblocking`` and ``setsockopt``).

- A socket needs ``LoRa(...)`` first (``OSError: Network card not available``). It starts blocking, on
  port 2, at the region's default data rate (DR5; DR4 in US915/AU915; DR0 in IN865), unconfirmed.
- ``send``: raw LoRa queues the frame for the LoRa task; a blocking socket (or one with a timeout) waits
  until the frame has been on the air, a non-blocking one returns at once (``EAGAIN`` when 7 frames are
  already queued). LoRaWAN needs a joined network (``ENETDOWN``) and blocks until the MAC confirms the
  uplink (after its receive windows; a confirmed uplink when the ack came): a failed uplink is
  ``EAGAIN`` (``TimeoutError`` with a timeout), a payload too long for the data rate ``EMSGSIZE``.
  More than 255 bytes is ``EMSGSIZE``; ``power_mode=LoRa.SLEEP`` is ``ENETDOWN``; an empty buffer sends
  nothing and returns 0.
- ``recv``/``recvfrom``: the next frame (a part of it, the rest on the next call); ``recvfrom`` gives its
  port (0 in raw LoRa). Non-blocking with nothing there: ``b''`` (and port 0); with a timeout:
  ``TimeoutError: timed out``.
- ``setsockopt(socket.SOL_LORA, socket.SO_CONFIRMED | socket.SO_DR, value)``, ``bind(port)`` (0..224):
  anything else is ``EOPNOTSUPP``; ``sendto`` is ``EOPNOTSUPP``; a closed socket is ``EBADF``.
"""

from __future__ import annotations

import struct
from typing import Any

from ..coap.api.mpargs import check_count, get_array_fixed_n, to_int
from .args import LORA as MODE_LORA
from .args import PAYLOAD_MAX, SLEEP, SOCKET_DR_DEFAULT, TIMED_OUT, data_rate_ok, readable
from .args import to_float as get_float
from .control import Control, existing
from .task import COMPLETED, ERROR, MSG_SIZE

__all__ = ["AF_LORA", "SOCK_RAW", "SOL_LORA", "SO_CONFIRMED", "SO_DR", "LoRaSocket", "can_open"]

AF_LORA = 0xA0
SOCK_RAW = 3
SOL_LORA = 0xFFF05
SO_CONFIRMED = 0xF0002  # SO_LORAWAN_CONFIRMED
SO_DR = 0xF0003  # SO_LORAWAN_DR
NO_CARD = "Network card not available"
POLL_RD, POLL_WR = 0x0001, 0x0004  # MP_STREAM_POLL_RD / _WR


# the ESP-IDF newlib values the firmware raises (MicroPython's MICROPY_USE_INTERNAL_ERRNO is off)
EBADF, EAGAIN, EOPNOTSUPP, ENETDOWN, EMSGSIZE = 9, 11, 95, 115, 122
_NAMES = {EBADF: "EBADF", EAGAIN: "EAGAIN", EOPNOTSUPP: "EOPNOTSUPP", ENETDOWN: "ENETDOWN",
          EMSGSIZE: "EMSGSIZE"}  # fmt: skip


def _oserror(code: int) -> OSError:
    """``OSError: [Errno 115] ENETDOWN`` as the board prints it."""
    return OSError(code, _NAMES[code])


def can_open() -> Control:
    """``mod_network_find_nic`` + ``lora_socket_socket``'s check: the board's ``lora_obj``."""
    ctl = existing()
    if ctl is None or not ctl.registered:
        raise OSError(NO_CARD)
    if not ctl.initialised:
        raise _oserror(ENETDOWN)
    return ctl


class LoRaSocket:
    """One LoRa socket: its ``sd`` fields (port, data rate, confirmed) and timeout."""

    def __init__(self) -> None:
        ctl = can_open()
        self._ctl = ctl
        self._open = True
        self._port = 2
        self._dr = SOCKET_DR_DEFAULT.get(ctl.config.region, 0)
        self._confirmed = False
        self._timeout_ms = -1  # blocking

    def __repr__(self) -> str:
        return "<socket>"

    def _check(self) -> None:
        if not self._open:
            raise _oserror(EBADF)

    def close(self) -> None:
        self._open = False

    # -- sending ---------------------------------------------------------------------------------------

    def send(self, data: Any) -> int:
        """``lora_socket_send`` through ``socket_send``'s error mapping."""
        payload = readable(data)
        self._check()
        ctl = self._ctl
        if ctl.config.power_mode == SLEEP:
            raise _oserror(ENETDOWN)
        if len(payload) > PAYLOAD_MAX:
            raise _oserror(EMSGSIZE)
        if not payload:
            return 0
        if ctl.config.stack_mode == MODE_LORA:
            sent = self._send_raw(payload)
        elif ctl.stack.joined:
            sent = self._send_lorawan(payload)
        else:
            raise _oserror(ENETDOWN)
        if sent == 0:
            if self._timeout_ms > 0:
                raise TimeoutError(TIMED_OUT)
            raise _oserror(EAGAIN)
        if sent < 0:
            raise _oserror(EMSGSIZE)
        return sent

    def _queue_wait(self) -> float | None:
        """The queue wait ``xQueueSend`` gets: the timeout as an ``uint32_t`` of ms (-1: for ever)."""
        return None if self._timeout_ms < 0 else self._timeout_ms / 1000

    def _send_raw(self, payload: bytes) -> int:
        """``lora_send``: queue the frame; unless non-blocking, wait until it has been sent."""
        ctl = self._ctl
        radio = ctl.radio
        radio.status.clear(COMPLETED | ERROR | MSG_SIZE)
        if not radio.task.submit(lambda: radio.raw_tx_command(payload), self._queue_wait()):
            return 0
        radio.sftx = ctl.config.sf
        if self._timeout_ms != 0:
            radio.status.wait(COMPLETED | ERROR | MSG_SIZE)
        with radio.lock:
            radio.tx_time_on_air = radio.airtime_ms(len(payload))
            radio.tx_counter += 1
            radio.tx_frequency = ctl.config.frequency
        return len(payload)

    def _send_lorawan(self, payload: bytes) -> int:
        """``lorawan_send``: queue the uplink, check its size for the data rate, wait for the MAC."""
        ctl = self._ctl
        stack, radio = ctl.stack, ctl.radio
        port, confirmed = self._port, self._confirmed
        test = stack.compliance
        if test.enabled and test.running:
            port, confirmed = 224, test.tx_confirmed
        radio.status.clear(COMPLETED | ERROR | MSG_SIZE)
        dr = self._dr
        queued = radio.task.submit(
            lambda: stack.send_command(payload, port, confirmed, dr), self._queue_wait()
        )
        if not queued:
            return 0
        if not stack.payload_fits(len(payload), dr):
            return -1
        if self._timeout_ms != 0:
            result = radio.status.wait(COMPLETED | ERROR | MSG_SIZE)
            if result & MSG_SIZE:
                return -1
            if result & ERROR:
                return 0
        return len(payload)

    def sendto(self, data: Any, address: Any) -> int:
        readable(data)
        items = get_array_fixed_n(address, 2)
        if not isinstance(items[0], (str, bytes)):
            raise TypeError(f"can't convert '{type(items[0]).__name__}' object to str implicitly")
        to_int(items[1])
        self._check()
        raise _oserror(EOPNOTSUPP)

    # -- receiving ---------------------------------------------------------------------------------------

    def _recv(self, size: int) -> tuple[bytes, int] | None:
        self._check()
        got = self._ctl.radio.recv(size, self._timeout_ms)
        if got is None and self._timeout_ms > 0:
            raise TimeoutError(TIMED_OUT)
        return got

    def recv(self, size: Any) -> bytes:
        got = self._recv(to_int(size))
        return b"" if got is None else got[0]

    def recvfrom(self, size: Any) -> tuple[bytes, int]:
        got = self._recv(to_int(size))
        return (b"", 0) if got is None else got

    # -- options ----------------------------------------------------------------------------------------

    def setsockopt(self, *args: Any) -> None:
        """``setsockopt(level, option, value)``: an int or bool, else a buffer (its first bytes)."""
        check_count(args, {}, 3, 3)
        level, option = to_int(args[0]), to_int(args[1])
        value = args[2]
        if isinstance(value, int):
            number = value & 0xFFFF_FFFF
        else:
            raw = readable(value)
            number = struct.unpack("<I", raw[:4].ljust(4, b"\x00"))[0]
        self._check()
        if level != SOL_LORA:
            raise _oserror(EOPNOTSUPP)
        if option == SO_CONFIRMED:
            self._confirmed = bool(number & 0xFF)
        elif option == SO_DR:
            if not data_rate_ok(number, self._ctl.config.region):
                raise _oserror(EOPNOTSUPP)
            self._dr = number & 0xFF
        else:
            raise _oserror(EOPNOTSUPP)

    def settimeout(self, value: Any) -> None:
        """None blocks, 0 never blocks, else seconds (kept as ms)."""
        timeout = -1 if value is None else int(1000 * get_float(value))
        self._check()
        self._timeout_ms = timeout

    def setblocking(self, flag: Any) -> None:
        self.settimeout(None if flag else 0)

    def bind(self, address: Any) -> None:
        """``bind(port)`` or ``bind((address, port))``: the LoRaWAN port of the uplinks (up to 224)."""
        if isinstance(address, int) and not isinstance(address, bool):
            port = to_int(address)
        else:
            items = get_array_fixed_n(address, 2)
            if not isinstance(items[0], (str, bytes)):
                raise TypeError(f"can't convert '{type(items[0]).__name__}' object to str implicitly")
            port = to_int(items[1])
        self._check()
        if port & 0xFFFF_FFFF > 224:
            raise _oserror(EOPNOTSUPP)
        self._port = port & 0xFF

    def poll(self, flags: int) -> int:
        """``lora_socket_ioctl(MP_STREAM_POLL)``: readable when a frame waits, writable when the
        command queue has room."""
        self._check()
        ready = 0
        if flags & POLL_RD and self._ctl.radio.rx_any():
            ready |= POLL_RD
        if flags & POLL_WR and self._ctl.radio.task.has_space():
            ready |= POLL_WR
        return ready
