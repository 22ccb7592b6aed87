"""Serial ports: the ``devices`` listing and ``auto`` (the one Pycom board plugged in).

Pycom boards sit behind a PIC USB bridge with Microchip's vendor id 0x04D8 (raw-repl.md §4.5);
the product id tells the board it is on. A port whose manufacturer string starts with "Pycom" counts too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .transport import ConnectError

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
        return pycom[0].device
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
