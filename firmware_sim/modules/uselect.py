"""``uselect`` / ``select`` on the board: ``poll()`` on sockets and on ``Coap.socket()``; timeouts in
board milliseconds (scaled with ``--time-scale``)."""

from __future__ import annotations

import select as _host

from network import host as sim_host

# the board's names: all a script sees
__all__ = ["POLLIN", "POLLOUT", "POLLERR", "POLLHUP", "poll", "select"]

POLLIN, POLLOUT, POLLERR, POLLHUP = 1, 4, 8, 16


class poll:  # noqa: N801  (board API)
    def __init__(self) -> None:
        self._poll = _host.poll()
        self._objects: dict[int, object] = {}

    def register(self, obj, eventmask: int = POLLIN | POLLOUT) -> None:
        fd = obj.fileno()
        self._objects[fd] = obj
        self._poll.register(fd, eventmask)

    def modify(self, obj, eventmask: int) -> None:
        self._poll.modify(obj.fileno(), eventmask)

    def unregister(self, obj) -> None:
        fd = obj.fileno()
        self._objects.pop(fd, None)
        self._poll.unregister(fd)

    def poll(self, timeout: int = -1) -> list[tuple]:
        host_ms = None if timeout is None or timeout < 0 else timeout / sim_host.time_scale()
        return [(self._objects[fd], event) for fd, event in self._poll.poll(host_ms) if fd in self._objects]

    def ipoll(self, timeout: int = -1, flags: int = 0):
        return iter(self.poll(timeout))


def select(rlist, wlist, xlist, timeout: float | None = None):
    host_timeout = None if timeout is None else timeout / sim_host.time_scale()
    return _host.select(rlist, wlist, xlist, host_timeout)
