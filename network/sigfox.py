"""``network.Sigfox`` and its ``AF_SIGFOX`` sockets, as Pycom firmware 1.20.2.r6 has them.

The class table, arguments and the constructor are ``esp32/mods/modsigfox_api.c``; the methods, socket
options and errors are ``esp32/sigfox/modsigfox.c`` (open source until 2018, prebuilt since with the same
Python bindings). The radio, its task and where uplinks go are :mod:`.sigfox_radio`.

* ``Sigfox(id=0, mode=Sigfox.SIGFOX, rcz=Sigfox.RCZ1)`` is the board's one object; it initialises the
  radio when keywords are given or it never was. ``id`` other than 0: ``OSError: resource not
  available``; a mode other than SIGFOX: ``ValueError: invalid mode`` (FSK and ``frequency`` only on
  the SiPy, :func:`configure`); an RCZ above RCZ4: ``ValueError: invalid RCZ``.
* ``mac()`` (8 bytes, the LPWAN MAC), ``id()`` (4 bytes), ``pac()`` (8 bytes): from the board's
  address, so every board has its own. ``frequencies()``, ``config()``, ``public_key()``, ``rssi()``,
  ``rssi_offset()``, ``freq_offset()``, ``info()``, ``reset()``, ``version()``, ``test_mode()``,
  ``cw()`` as the firmware answers them.
* Sockets (:class:`SigfoxSocket`, made by :func:`open_socket` for ``usocket``): ``send`` of up to 12
  bytes (64 in FSK; more: ``OSError(EMSGSIZE)``), blocking until the frame and its repeats are out, and
  with ``SO_RX`` until the downlink came (none: ``OSError(ENETDOWN)``); non-blocking it queues (a full
  queue: ``EAGAIN``). ``recv`` reads downlinks; ``setsockopt(SOL_SIGFOX, SO_RX | SO_TX_REPEAT | SO_OOB |
  SO_BIT, value)``, another level or option ``OSError(EOPNOTSUPP)``, a repeat above 2 too.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from . import host
from . import sigfox_radio as sr
from .coap.api.mpargs import Param, check_count, get_array_fixed_n, parse, to_int
from .lora.args import readable
from .lora.settings import lora_mac

__all__ = ["AF_SIGFOX", "SOL_SIGFOX", "SO_BIT", "SO_OOB", "SO_RX", "SO_TX_REPEAT", "Sigfox", "SigfoxSocket"]
__all__ += ["configure", "device_id", "hard_reset", "open_socket"]

AF_SIGFOX, SOCK_RAW, SOL_SIGFOX = 0xA1, 3, 0xFFF06  # modusocket.h
SO_RX, SO_TX_REPEAT, SO_OOB, SO_BIT = 0xF0004, 0xF0005, 0xF0006, 0xF0007
EBADF, EAGAIN, EOPNOTSUPP, ENETDOWN, EMSGSIZE = 9, 11, 95, 115, 122  # ESP-IDF's newlib values

NOT_AVAILABLE = "resource not available"
OPERATION_FAILED = "the requested operation failed"
SIGFOX_MAX, FSK_MAX = 12, 64  # SIGFOX_TX_PAYLOAD_SIZE_MAX, FSK_TX_PAYLOAD_SIZE_MAX
FSK_RANGE = (863000000, 928000000)
TEST_MODE_TX_SYNTH, TEST_MODE_MANUAL_TX = 5, 8  # SFX_TEST_MODE_TX_SYNTH, E_MODSIGOFX_TEST_MODE_MANUAL_TX
# the standard configuration words of the Sigfox library per RCZ (RCZ1 has none)
CONFIG_WORDS = ((0, 0, 0), (0x1, 0x0, 0x0), (0x3, 0x1388, 0x0), (0x0, 0x40000000, 0x0))
LIBRARY_VERSION = "v2.8.0"  # SIGFOX_API_get_version(): not observable in the source

_fsk_capable = False
_lock = threading.RLock()


def configure(*, fsk: bool | None = None) -> None:
    """Which board this is (the simulator's call): ``fsk`` True on a SiPy, whose firmware has
    ``Sigfox.FSK`` and the ``frequency`` argument (not on the LoPy4 or FiPy)."""
    global _fsk_capable
    if fsk is not None:
        _fsk_capable = fsk
        if fsk:
            setattr(Sigfox, "FSK", 1)  # noqa: B010 - a class attribute on the SiPy only
        elif "FSK" in Sigfox.__dict__:
            delattr(Sigfox, "FSK")


def _identity(label: bytes, size: int) -> bytes:
    return hashlib.sha256(label + host.own_address().encode()).digest()[:size]


def device_id() -> bytes:
    """The board's 4-byte Sigfox ID (from its address: each board its own)."""
    return bytes([0x00]) + _identity(b"sigfox-id", 3)


def _radio() -> sr.Radio:
    return sr.radio(device_id())


def _init_args() -> tuple[Param, ...]:
    params = (Param("mode", 0), Param("rcz", 0))
    return params + ((Param("frequency", None, True),) if _fsk_capable else ())


class Sigfox:
    """The board's Sigfox radio (one object, whatever the number of calls)."""

    SIGFOX = 0  # FSK = 1 on the SiPy only (configure())
    RCZ1, RCZ2, RCZ3, RCZ4 = 0, 1, 2, 3

    _instance: Sigfox | None = None

    def __new__(cls, *args: Any, **kwargs: Any) -> Sigfox:
        with _lock:
            if cls._instance is None:
                cls._instance = super().__new__(cls)
            return cls._instance

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        values = parse(args, kwargs, (Param("id", 0), *_init_args()))
        if to_int(values[0]) != 0:
            raise OSError(NOT_AVAILABLE)
        if kwargs or not _radio().initialised:
            self._init(values[1:])

    def __repr__(self) -> str:
        return "<Sigfox>"

    def init(self, *args: Any, **kwargs: Any) -> None:
        self._init(parse(args, kwargs, _init_args()))

    def _init(self, values: list[Any]) -> None:
        """``sigfox_init_helper``: mode and RCZ are bytes (``uint8_t``), as the C code takes them."""
        mode, rcz = to_int(values[0]) & 0xFF, to_int(values[1]) & 0xFF
        frequency = values[2] if len(values) > 2 else None
        if mode > (1 if _fsk_capable else self.SIGFOX):
            raise ValueError("invalid mode")
        if mode == self.SIGFOX:
            if rcz > self.RCZ4:
                raise ValueError("invalid RCZ")
            if frequency is not None:
                raise ValueError("frequency is only valid in FSK mode")
            freq = 0
        else:
            freq = to_int(frequency)
            if not FSK_RANGE[0] <= freq <= FSK_RANGE[1]:
                raise ValueError(f"frequency {freq} out of range")
        radio = _radio()
        with _lock:
            radio.mode, radio.frequency = mode, freq
            if mode == self.SIGFOX:
                radio.rcz = rcz
                radio.config_words = CONFIG_WORDS[rcz]
                radio.reset_channel()
            radio.initialised = True

    def mac(self, *args: Any, **kwargs: Any) -> bytes:
        check_count((self, *args), kwargs, 1, 1)
        return lora_mac()

    def id(self, *args: Any, **kwargs: Any) -> bytes:
        check_count((self, *args), kwargs, 1, 1)
        return device_id()

    def pac(self, *args: Any, **kwargs: Any) -> bytes:
        check_count((self, *args), kwargs, 1, 1)
        return _identity(b"sigfox-pac", 8)

    def frequencies(self, *args: Any, **kwargs: Any) -> tuple[int, int]:
        """(uplink, downlink) frequency of the RCZ in Hz."""
        check_count((self, *args), kwargs, 1, 1)
        return sr.RCZ_FREQUENCIES[_radio().rcz]

    def config(self, *args: Any, **kwargs: Any) -> tuple[int, int, int] | None:
        """The three configuration words (RCZ2..4), or set them; RCZ1 has none."""
        check_count((self, *args), kwargs, 1, 2)
        radio = _radio()
        if not args:
            return None if radio.rcz == self.RCZ1 else radio.config_words
        if radio.rcz == self.RCZ1:
            raise OSError("configuration not possible for RCZ1")
        words = [to_int_truncated(w) & 0xFFFFFFFF for w in get_array_fixed_n(args[0], 3)]
        radio.config_words = (words[0], words[1], words[2])
        return None

    def public_key(self, *args: Any, **kwargs: Any) -> bool | None:
        check_count((self, *args), kwargs, 1, 2)
        if not args:
            return _radio().public_key
        _radio().public_key = bool(args[0])
        return None

    def rssi(self, *args: Any, **kwargs: Any) -> int:
        """RSSI of the last downlink (the firmware's ``rssi - 100``)."""
        check_count((self, *args), kwargs, 1, 1)
        return _radio().last_rssi

    def rssi_offset(self, *args: Any, **kwargs: Any) -> int | None:
        check_count((self, *args), kwargs, 1, 2)
        if not args:
            return _radio().rssi_offset
        value = to_int(args[0])
        _radio().rssi_offset = (value + 0x8000) % 0x10000 - 0x8000  # kept as an int16 in nv memory
        return None

    def freq_offset(self, *args: Any, **kwargs: Any) -> int | None:
        check_count((self, *args), kwargs, 1, 2)
        if not args:
            return _radio().freq_offset
        value = to_int(args[0])
        if not -32768 <= value <= 32767:
            raise ValueError("the freq offset is out of range (-32768 < freq_offset < 32767)")
        _radio().freq_offset = value
        return None

    def version(self, *args: Any, **kwargs: Any) -> str:
        check_count((self, *args), kwargs, 1, 1)
        return LIBRARY_VERSION

    def info(self, *args: Any, **kwargs: Any) -> tuple[int, int] | None:
        """RCZ2/4: (FCC channel not default, free micro-channels); RCZ3: (frames sent, carrier sense
        attempts); RCZ1: None."""
        check_count((self, *args), kwargs, 1, 1)
        rcz = _radio().rcz
        if rcz == self.RCZ1:
            return None
        return (0, 0) if rcz == self.RCZ3 else (0, 0b11110000)

    def reset(self, *args: Any, **kwargs: Any) -> None:
        check_count((self, *args), kwargs, 1, 1)
        if _radio().rcz in (self.RCZ2, self.RCZ4):
            _radio().reset_channel()

    def test_mode(self, *args: Any, **kwargs: Any) -> None:
        check_count((self, *args), kwargs, 3, 3)
        mode, config = to_int(args[0]) & 0xFFFFFFFF, to_int(args[1]) & 0xFFFFFFFF
        if mode > TEST_MODE_TX_SYNTH and mode != TEST_MODE_MANUAL_TX:
            raise ValueError("invalid test mode")
        sr.backend().record(event="test_mode", mode=mode, config=config)

    def cw(self, *args: Any, **kwargs: Any) -> None:
        check_count((self, *args), kwargs, 3, 3)
        frequency = to_int(args[0])
        sr.backend().record(event="cw", frequency=frequency, start=bool(args[1]))


def to_int_truncated(obj: object) -> int:
    """``mp_obj_get_int_truncated``: any int, its low machine word."""
    if isinstance(obj, int):
        return int(obj)
    raise TypeError(f"can't convert {type(obj).__name__} to int")


def open_socket(sock_type: int = SOCK_RAW) -> SigfoxSocket:
    """``socket.socket(AF_SIGFOX[, type])`` (``socket_make_new``): only ``SOCK_RAW``, and only once the
    board's ``Sigfox`` object exists."""
    if sock_type != SOCK_RAW:
        raise OSError("incorrect socket type")
    if Sigfox._instance is None or not _radio().initialised:
        raise OSError("Network card not available")
    return SigfoxSocket()


class SigfoxSocket:
    """An ``AF_SIGFOX`` socket (``sigfox_socket_*`` of modsigfox.c); blocking by default."""

    def __init__(self) -> None:
        self._open = True
        self._timeout_ms = -1
        self._rx = 0
        self._tx_repeat = 2
        self._oob = 0
        self._bit = 0

    def __repr__(self) -> str:
        return "<socket>"

    def _check(self) -> None:
        if not self._open:
            raise OSError(EBADF)

    def close(self) -> None:
        self._open = False

    def settimeout(self, value: float | None) -> None:
        self._check()
        self._timeout_ms = -1 if value is None else int(1000 * float(value))

    def setblocking(self, flag: object) -> None:
        self.settimeout(None if flag else 0)

    def setsockopt(self, *args: Any, **kwargs: Any) -> None:
        check_count((self, *args), kwargs, 4, 4)
        level, option = to_int(args[0]), to_int(args[1])
        value = args[2]
        if isinstance(value, int):  # int or bool: the option reads its low byte
            byte = int(value) & 0xFF
        else:
            buffer = readable(value)
            byte = buffer[0] if buffer else 0
        self._check()
        if level != SOL_SIGFOX:
            raise OSError(EOPNOTSUPP)
        if option == SO_RX:
            self._rx = byte
        elif option == SO_TX_REPEAT:
            if byte > 2:
                raise OSError(EOPNOTSUPP)
            self._tx_repeat = byte
        elif option == SO_OOB:
            self._oob = byte & 0x0F
        elif option == SO_BIT:
            self._bit = byte & 0x0F
        else:
            raise OSError(EOPNOTSUPP)

    def send(self, data: Any) -> int:
        """Send an uplink (``sigfox_socket_send``); an empty buffer sends the ``SO_BIT`` bit."""
        payload = readable(data)
        self._check()
        radio = _radio()
        if len(payload) > (SIGFOX_MAX if radio.mode == 0 else FSK_MAX):
            raise OSError(EMSGSIZE)
        frame = sr.Frame(payload, self._tx_repeat, bool(self._rx), bool(self._oob), bool(self._bit))
        timeout = self._timeout_ms
        if not radio.submit(frame, None if timeout < 0 else timeout / 1000):
            if timeout > 0:
                raise TimeoutError("timed out")
            raise OSError(EAGAIN)
        if timeout != 0:
            while not frame.done.wait(0.05):
                pass
            if frame.failed:
                raise OSError(ENETDOWN)
        return len(payload)

    def recv(self, size: Any) -> bytes:
        """A downlink (or what is left of one): blocking waits, non-blocking gives ``b''``, a
        timeout ``TimeoutError``."""
        length = to_int(size)
        self._check()
        radio = _radio()
        deadline = None if self._timeout_ms < 0 else host.board_time() + self._timeout_ms / 1000
        with radio.lock:
            while not radio.partial and not radio.received:
                if deadline is not None and host.board_time() >= deadline:
                    if self._timeout_ms > 0:
                        raise TimeoutError("timed out")
                    return b""
                left = (
                    0.05 if deadline is None else min(0.05, host.host_seconds(deadline - host.board_time()))
                )
                radio.lock.wait(max(left, 0.0))
            source = radio.partial or radio.received.popleft()
            taken, radio.partial = source[: max(length, 0)], source[max(length, 0) :]
        return taken

    def sendto(self, *args: Any) -> int:
        raise OSError(EOPNOTSUPP)  # the firmware's Sigfox card has no sendto (a NULL function)

    def recvfrom(self, *args: Any) -> tuple[bytes, Any]:
        raise OSError(EOPNOTSUPP)

    def bind(self, *args: Any) -> None:
        raise OSError(EOPNOTSUPP)


def hard_reset() -> None:
    """A fresh board: the radio off and not initialised, the object forgotten (not a script's call)."""
    with _lock:
        sr.hard_reset()
        Sigfox._instance = None
