"""Ports: the ``devices`` listing, ``auto`` (the one Pycom board plugged in), and which network ports
the runner may open.

Pycom boards sit behind a PIC USB bridge with Microchip's vendor id 0x04D8 (raw-repl.md §4.5);
the product id tells the board it is on. A port whose manufacturer string starts with "Pycom" counts too.

``socket://HOST:PORT`` and ``rfc2217://HOST:PORT`` reach only this machine (127.0.0.0/8, ::1,
``localhost``) unless the user opts in (``--allow-lan``): :func:`check_on_this_machine` refuses any
other host before a connection is attempted, and looks up no host name.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from .errors import ConnectError

PYCOM_VID = 0x04D8
PYCOM_PIDS = {
    0xEF98: "Expansion Board 3",
    0xF012: "Pysense",
    0xF013: "Pytrack",
    0xEF38: "Pyscan",
    0xED14: "Pygate",
}


def comports() -> list[Any]:
    """pyserial's ports (``ListPortInfo``), sorted by device name."""
    from serial.tools import list_ports

    return sorted(list_ports.comports(), key=lambda p: p.device)


def pycom_board(port: Any) -> str | None:
    """The Pycom carrier of a port ("Pysense", ...), "Pycom" for a Pycom manufacturer string, or None."""
    if port.vid == PYCOM_VID and port.pid in PYCOM_PIDS:
        return PYCOM_PIDS[port.pid]
    if (port.manufacturer or "").lower().startswith("pycom"):
        return "Pycom"
    return None


def describe(port: Any) -> str:
    """One line as ``mpremote connect list`` prints it: device serial vid:pid manufacturer product."""
    ids = f"{port.vid:04x}:{port.pid:04x}" if port.vid is not None and port.pid is not None else "-"
    fields = [port.device, port.serial_number or "-", ids, port.manufacturer or "-", port.product or "-"]
    board = pycom_board(port)
    line = " ".join(str(f) for f in fields)
    return f"{line}  [Pycom: {board}]" if board else line


def select_auto(ports: Sequence[Any] | None = None) -> str:
    """The device of the only Pycom board present; ``ConnectError`` listing the candidates otherwise."""
    ports = comports() if ports is None else list(ports)
    pycom = [p for p in ports if pycom_board(p)]
    if len(pycom) == 1:
        return str(pycom[0].device)
    if len(pycom) > 1:
        listing = "; ".join(describe(p) for p in pycom)
        raise ConnectError(
            f"--port auto: {len(pycom)} Pycom boards are connected ({listing})",
            f"choose one with --port, e.g. --port {pycom[0].device}",
        )
    usb = [p for p in ports if p.vid is not None and p.pid is not None]
    if usb:
        listing = "; ".join(describe(p) for p in usb)
        raise ConnectError(
            f"--port auto: no Pycom board found (USB vendor 04d8); other serial ports: {listing}",
            f"if your board is one of them, pass it with --port, e.g. --port {usb[0].device}",
        )
    raise ConnectError(
        "--port auto: no Pycom board found (no USB serial port at all)",
        "plug the board in (Expansion Board, Pysense, Pytrack...) and check `firmware-sim devices`, or "
        "pass a device path or socket://host:port with --port",
    )


def resolve_port(port: str, ports: Sequence[Any] | None = None) -> str:
    """``auto`` becomes the Pycom board's device; anything else is used as given (path or URL)."""
    if port.strip().lower() == "auto":
        return select_auto(ports)
    return port


NETWORK_SCHEMES = ("socket", "rfc2217")  # pyserial's URL handlers that open a TCP connection
LOOPBACK_NAMES = ("localhost",)
OPT_IN = "--allow-lan"


def network_host(port: str) -> str | None:
    """The host of a ``socket://`` or ``rfc2217://`` port ("" when it has none or cannot be read),
    None for any other port (a device path, ``loop://`` ...)."""
    scheme, sep, _ = port.strip().partition("://")
    if not sep or scheme.lower() not in NETWORK_SCHEMES:
        return None
    try:
        return urlsplit(port.strip()).hostname or ""
    except ValueError:  # e.g. an unclosed [ of an IPv6 address
        return ""


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` is this machine by its text alone: a loopback address or ``localhost``."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def check_on_this_machine(port: str, allow_lan: bool = False) -> None:
    """``ConnectError`` (exit 2) when ``port`` is a network port whose host is not loopback and
    ``allow_lan`` is false. Decided from the text alone: nothing is sent, no name is looked up."""
    host = network_host(port)
    if host is None or allow_lan or is_loopback_host(host):
        return
    if not host:
        raise ConnectError(
            f"{port}: no host the serial runner can read in it", "give e.g. socket://127.0.0.1:4000"
        )
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ConnectError(
            f"{port} names the host {host}: the serial runner only connects to loopback (127.0.0.0/8, ::1, "
            f"localhost) and looks up no host names unless you pass {OPT_IN}"
        ) from None
    raise ConnectError(
        f"{port} is not on this machine: the serial runner only connects to loopback unless you pass {OPT_IN}"
    )
