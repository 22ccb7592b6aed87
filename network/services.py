"""``network.Server`` (Telnet/FTP, ``esp32/mods/modnetwork.c``) and ``network.MDNS`` (``modmdns.c``) of
firmware 1.20: accepted and reported as running, but the simulator opens no such service and sends no
mDNS traffic."""

from __future__ import annotations

from typing import Any


class Server:
    """``Server(id=0, *, login=('micro', 'python'), timeout=300)``; an ``id`` other than 0 raises
    ``OSError("resource not available")`` as in firmware 1.20.2.r6."""

    def __init__(
        self, id: int | None = None, *, login: tuple[str, str] = ("micro", "python"), timeout: int = 300
    ) -> None:
        if id is not None and id != 0:
            raise OSError("resource not available")
        self._login = login
        self._timeout = timeout
        self._running = True

    def init(self, *, login: tuple[str, str] | None = None, timeout: int | None = None) -> None:
        if login is not None:
            self._login = login
        if timeout is not None:
            self._timeout = timeout
        self._running = True

    def deinit(self) -> None:
        self._running = False

    def timeout(self, value: int | None = None) -> int | None:
        if value is None:
            return self._timeout
        self._timeout = value
        return None

    def isrunning(self) -> bool:
        return self._running


class MDNS:
    """The mDNS responder: names and services are kept, queries find nothing."""

    PROTO_TCP, PROTO_UDP = 0, 1
    _services: dict[tuple[str, int], tuple[int, tuple[Any, ...]]] = {}
    _name: tuple[str, str] = ("", "")

    @classmethod
    def init(cls) -> None:
        cls._services = {}

    @classmethod
    def deinit(cls) -> None:
        cls._services = {}

    @classmethod
    def set_name(cls, *, hostname: str, instance_name: str = "") -> None:
        cls._name = (hostname, instance_name)

    @classmethod
    def add_service(cls, service: str, proto: int, port: int, *, txt: tuple[Any, ...] = ()) -> None:
        cls._services[(service, proto)] = (port, txt)

    @classmethod
    def remove_service(cls, service: str, proto: int) -> None:
        cls._services.pop((service, proto), None)

    @classmethod
    def query(cls, service: str, proto: int, *, quantity: int = 1, timeout: int = 5000) -> list[Any]:
        return []
