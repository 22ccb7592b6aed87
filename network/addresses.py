"""Loopback addresses for boards: the address map's rules, and race-free reservation of free ones.

Internal to the simulator (``network.host`` re-exports it). The map sends what a script names to
loopback: the left side is one IPv4/IPv6 address or a host name (scripts name servers by name), the
right side one loopback address. Ports and networks are not mapped; each is refused with a sentence
saying what to write instead.

Reservation is race-free across processes: an address is taken by binding the abstract Unix socket
``firmware-sim/address/<ip>`` (Linux), which only one process can hold and which the kernel frees when
the holder dies, leaving no file behind; only an address whose UDP port is also free is chosen. Two
``firmware-sim run`` started at the same moment never get the same default address.
"""

from __future__ import annotations

import ipaddress
import random
import re
import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_HOST_NAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")


class AddressError(ValueError):
    """An address the simulator cannot use; the message says what to write instead."""


def unsupported_source(source: str) -> str | None:
    """Why ``source`` cannot be the left side of a map entry, or None if it can (an address or a host
    name)."""
    if not source:
        return "nothing before '=': give the address or host name the script uses"
    try:
        ipaddress.ip_address(source)
        return None
    except ValueError:
        pass
    if "://" in source:
        return f"'{source}' is a URL; map its host alone (coap://sensor.local/x: sensor.local=127.0.0.2)"
    if "/" in source:
        return (
            f"'{source}' is a network; only single addresses are mapped: give one entry per address "
            "the script uses (e.g. 192.168.0.10=127.0.0.2)"
        )
    host, sep, port = source.rpartition(":")
    if sep and port.isdigit() and host:
        return (
            f"'{source}' has a port; ports are not mapped (the script's port is kept): map the address "
            f"alone, e.g. {host}=127.0.0.2"
        )
    if not _HOST_NAME.match(source.lower().rstrip(".")) or source.replace(".", "").isdigit():
        return f"'{source}' is neither an IP address nor a host name"
    return None


def check_loopback(address: str) -> str:
    """``address`` if it is a loopback address (127.0.0.0/8, ::1), else AddressError saying what to give."""
    try:
        loopback = ipaddress.ip_address(address).is_loopback
    except ValueError:
        raise AddressError(
            f"'{address}' is not an IP address; give a loopback address such as 127.0.0.2"
        ) from None
    if not loopback:
        raise AddressError(
            f"'{address}' is not a loopback address: the simulator only uses loopback addresses "
            "(127.0.0.0/8 and ::1); pick one such as 127.0.0.2"
        )
    return address


def check_destination(destination: str) -> str:
    """The loopback address ``destination`` (the right side of a map entry), or AddressError."""
    if not destination:
        raise AddressError("nothing after '=': give a loopback address such as 127.0.0.2")
    host, sep, port = destination.rpartition(":")
    if sep and port.isdigit() and "." in host:
        raise AddressError(
            f"'{destination}' has a port; ports are not mapped (the script's port is kept): "
            f"write {host} alone"
        )
    return check_loopback(destination)


def check_map(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The map of ``pairs`` (script's address or host name -> loopback address), or AddressError naming
    the entry. Host names are kept lower-case."""
    mapping: dict[str, str] = {}
    for source, destination in pairs:
        why = unsupported_source(source)
        if why is not None:
            raise AddressError(f"{source}={destination}: {why}")
        try:
            checked = check_destination(destination)
        except AddressError as err:
            raise AddressError(f"{source}={destination}: {err}") from None
        try:
            key = str(ipaddress.ip_address(source))
        except ValueError:
            key = source.lower().rstrip(".")
        mapping[key] = checked
    return mapping


# -- reservation -----------------------------------------------------------------------------------


@dataclass
class Reservation:
    """A loopback address held for this process (and, with ``keep_across_exec``, its re-executions)."""

    ip: str
    holder: socket.socket
    released: bool = field(default=False)

    def keep_across_exec(self) -> None:
        self.holder.set_inheritable(True)

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.holder.close()
            with _held_lock:
                if self in _held:
                    _held.remove(self)


_held: list[Reservation] = []  # every reservation not released: held for the life of the process
_held_lock = threading.Lock()


def _try_hold(ip: str) -> socket.socket | None:
    """The holder of ``ip``'s reservation, or None when another process holds it."""
    holder = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        holder.bind(f"\0firmware-sim/address/{ip}")
    except OSError:
        holder.close()
        return None
    return holder


def _port_free(ip: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((ip, port))
        except OSError:
            return False
    return True


def reserve_address(port: int = 5683, *, first_free: bool = False, taken: Iterable[str] = ()) -> Reservation:
    """Reserve a loopback address where UDP ``port`` is free: the first free 127.0.0.x (x >= 2) with
    ``first_free`` (easy to read and type), else a random 127.x.y.z. No other process reserving at the
    same time gets it; release it when done (or let the process end)."""
    rng = random.SystemRandom()
    skip = set(taken)
    sequential = (f"127.0.0.{last}" for last in range(2, 255)) if first_free else iter(())
    for _ in range(2000):
        ip = (
            next(sequential, None)
            or f"127.{rng.randrange(1, 255)}.{rng.randrange(256)}.{rng.randrange(2, 255)}"
        )
        if ip in skip:
            continue
        holder = _try_hold(ip)
        if holder is None:
            continue
        if not _port_free(ip, port):
            holder.close()
            continue
        reservation = Reservation(ip, holder)
        with _held_lock:
            _held.append(reservation)
        return reservation
    raise OSError(f"firmware-sim: no loopback address with UDP port {port} free")


def free_address(port: int = 5683, *, first_free: bool = False, taken: Iterable[str] = ()) -> str:
    """A reserved loopback address (see :func:`reserve_address`), held until this process ends."""
    return reserve_address(port, first_free=first_free, taken=taken).ip
