"""What Pycom's firmware never had, for a simulated board's ``network.Coap`` server, opt in only:
Observe (RFC 7641) and Block2 (RFC 7959), so a test of a gateway or backend can observe a simulated
device and read a large resource block by block.

Off unless ``FIRMWARE_SIM_COAP_EXTENSIONS`` lists them (``observe``, ``block2``; the board option
``--coap-extensions observe,block2`` sets it): firmware 1.20.x answers a GET with Observe as a plain GET
and fails a response larger than one datagram, and a script that works only with these on would fail on
the board. Turning them on prints one warning saying so.

With ``observe``: every resource GET with Observe=0 registers (:class:`~.protocol.observe.ObserveRegistry`:
bounded, NON notifications with a CON at least every 24 h, deregistration by GET Observe=1 or RST); each
change of a resource's value (the script's ``value()``, a PUT or POST) notifies its observers with what a
GET would answer them now. With ``block2``: a response larger than 1,024 bytes, or any request with
Block2, is served block-wise (:func:`~.protocol.blockwise.block2_part`), ``/.well-known/core`` included.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..host import ENV_COAP_EXTENSIONS, board_time
from .firmware.resources import Resource, ResourceTable
from .protocol.codec import Message, encode_uint
from .protocol.exchange import RequestReceived
from .protocol.numbers import Code, Option

if TYPE_CHECKING:
    from .engine import Engine
    from .protocol.observe import ObserveRegistry

ENV_EXTENSIONS = ENV_COAP_EXTENSIONS
KNOWN = ("observe", "block2")
WARNING = (
    "firmware-sim: warning: CoAP extensions on ({names}): Pycom firmware 1.20 has neither Observe nor "
    "Block2; a script or peer that relies on them will not work with a real board"
)
Reply = tuple[int, list[tuple[int, bytes]], bytes]
Send = Callable[[Message, Any], None]  # the server endpoint's send: (message, peer)


def server_extensions(engine: Engine) -> ServerExtensions | None:
    """The extensions the environment asks for, wired to ``engine``'s server, or None (the default)."""
    names = wanted()
    if not names:
        return None

    def send(msg: Message, peer: Any) -> None:
        if engine.server is not None:
            engine.send_request(engine.server, msg, peer)

    def next_mid() -> int:
        return 0 if engine.server is None else engine.server.layer.next_mid()

    return ServerExtensions(names, engine.resources, send, next_mid)


def wanted() -> tuple[str, ...]:
    """The extensions the environment turns on (unknown names are ignored)."""
    given = os.environ.get(ENV_EXTENSIONS, "")
    return tuple(name for name in KNOWN if name in {part.strip().lower() for part in given.split(",")})


class ServerExtensions:
    """Observe and/or Block2 for one engine's server (see the module's docstring)."""

    def __init__(
        self, names: tuple[str, ...], resources: ResourceTable, send: Send, next_mid: Callable[[], int]
    ) -> None:
        # loaded only when the extensions are on (an engine imports this module; most never use them)
        from .protocol.blockwise import BlockError, block2_part
        from .protocol.observe import ObserveRegistry, Registered

        self._block2_part, self._block_error, self._registered = block2_part, BlockError, Registered
        self.observe = "observe" in names
        self.block2 = "block2" in names
        self.resources = resources
        self.send = send
        self.next_mid = next_mid
        self.registry: ObserveRegistry = ObserveRegistry()
        resources.blockwise = self.block2
        if self.observe:
            resources.watcher = self.changed
        print(WARNING.format(names=", ".join(names)), file=sys.stderr, flush=True)

    def shape(self, event: RequestReceived, reply: Reply, now: float) -> Reply:
        """The reply to a request as the extensions make it: registered (with Observe), sliced."""
        code, options, payload = reply
        msg = event.message
        if self.observe and msg.code == Code.GET:
            path = [
                value.decode("utf-8", "replace") for number, value in msg.options if number == Option.URI_PATH
            ]
            key = self.resources.key_for(path)
            outcome = self.registry.on_request(msg, event.peer, code, now, resource=key)
            if isinstance(outcome, self._registered):
                options = [*options, outcome.option()]  # encode() writes options in number order
        if self.block2 and code >> 5 == 2:
            try:
                part = self._block2_part(payload, msg)
            except self._block_error as err:
                return err.code, [], str(err).encode()
            options, payload = [*options, *part.options], part.payload
        return code, options, payload

    def changed(self, resource: Resource) -> None:
        """``resource``'s value changed: notify its observers (each gets what a GET would answer it)."""
        now = board_time()
        for note in self.registry.notify(resource.key, now, self.next_mid):
            request = note.observer.request
            segments = [part for part in resource.uri.strip("/").split("/") if part]
            options: list[tuple[int, bytes]] = [(Option.URI_PATH, part.encode()) for part in segments]
            options += [(Option.URI_QUERY, q.encode()) for q in request.query]
            if request.accept is not None:
                options.append((Option.ACCEPT, encode_uint(request.accept)))
            get = Message(1, Code.GET, 0, note.observer.token, options)
            reply = self.resources.handle(get)
            if reply is None:
                continue
            code, body_options, payload = reply
            if self.block2:
                part = self._block2_part(payload, get)  # §3.4 of RFC 7959: the first block only
                body_options, payload = [*body_options, *part.options], part.payload
            self.send(note.message(body_options, payload), note.observer.peer)
