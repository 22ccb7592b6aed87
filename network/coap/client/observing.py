"""Observing a resource from the client (RFC 7641): :class:`Observing`, the handle
:meth:`Client.observe <network.coap.client.core.Client.observe>` returns.

The GET with Observe=0 registers; every fresh notification (the §3.4 rule, in
:class:`~network.coap.protocol.observe.Observation`) goes to ``callback(response)`` in order, stale ones
are dropped; when the last notification's Max-Age runs out without a newer one the client registers
again with the same token (§3.3.1). :meth:`Observing.cancel` deregisters with a GET Observe=1 (§3.6),
or with ``active=False`` forgets: the next notification is answered with RST. The observation ends
when the server answers without Observe (or with an error code: the response goes to the callback),
or the registration gets no answer (``on_error``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..protocol.codec import Message
from ..protocol.observe import Ended, Notified, Observation, Reject
from .exchange import CoapError, Exchange, Peer, Response

if TYPE_CHECKING:
    from .core import Client

Notify = Callable[[Response], object]
OnError = Callable[[CoapError], object]


class Observing(Exchange):
    """An observation under way: ``notifications`` counts what went to the callback; ``ended`` is set
    once it is over (cancelled, ended by the server, or failed: ``error``)."""

    persistent = True

    def __init__(
        self,
        client: Client,
        peer: Peer,
        request: Message,
        what: str,
        callback: Notify,
        on_error: OnError | None,
    ) -> None:
        super().__init__(client, peer, request.token, what, None)
        self.observation = Observation(request)
        self.callback = callback
        self.on_error = on_error
        self.notifications = 0
        self._cancelled = False
        self.ended = threading.Event()
        self._lock = threading.Lock()

    def deliver(self, msg: Message, peer: Peer, now: float) -> None:
        with self._lock:
            event = self.observation.receive(msg, now)
        if isinstance(event, Notified):
            self.notifications += 1
            self.callback(Response.from_message(msg, peer))
        elif isinstance(event, Ended):
            if not self._cancelled:  # the server ended it: its last response goes to the callback
                self.callback(Response.from_message(msg, peer))
            self._end(None)  # (after cancel(): the answer to the GET with Observe=1)
        elif isinstance(event, Reject):
            self.client.unlisten(self)  # the next one is answered RST by the message layer

    def next_time(self) -> float | None:
        with self._lock:
            return None if self.ended.is_set() else self.observation.reregister_at()

    def on_time(self, now: float) -> None:
        with self._lock:
            if not self.observation.reregister_due(now):
                return
            self.observation.fresh_until = None  # once per Max-Age: the answer sets it again

        def build(mid: int) -> Message:
            with self._lock:
                return self.observation.reregistration(mid)

        self.client.send_built(self, build)

    def fail(self, error: CoapError) -> None:
        """The registration (or a re-registration) got no answer, or the client closed."""
        if self.on_error is not None and not self._cancelled:
            self.on_error(error)
        self._end(error)

    def finish(self, response: Response | None, error: CoapError | None) -> None:
        if error is not None:
            self.fail(error)

    def cancel(self, active: bool = True) -> None:
        """Stop observing: ``active`` sends the GET with Observe=1 the server deregisters on (its answer
        ends the observation; the callback gets no more notifications); else forget at once."""
        self._cancelled = True
        if not active or self.ended.is_set():
            with self._lock:
                self.observation.forget()
            self.client.unlisten(self)
            self._end(None)
            return

        def build(mid: int) -> Message:
            with self._lock:
                return self.observation.cancel(mid)

        self.client.send_built(self, build)

    def _end(self, error: CoapError | None) -> None:
        if self.ended.is_set():
            return
        self.error = error
        self.client.unlisten(self)
        self.client.forget(self)
        self.ended.set()

    def wait_ended(self, timeout: float | None = None) -> bool:
        """Until the observation is over; False if it still runs after ``timeout`` seconds."""
        return self.ended.wait(timeout)
