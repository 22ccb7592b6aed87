"""The module's state for one boot (:class:`Context`): the engine, the facade objects handed to the
script, and what the facade remembers between calls."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from ...profile import BACKGROUND_TASK, EMPTY_URI_PATH, HANDLER_REENTRY, SWAPPED_IDS, FirmwareProfile
from ..engine import Endpoint, Engine
from ..firmware.requests import fit_request
from ..firmware.resources import Resource
from ..irq import in_response_handler
from ..protocol.codec import Message
from .objects import CoapResource

if TYPE_CHECKING:
    from .objects import CoapClientSession


class Context:
    """One ``Coap.init()``: the engine and the facade objects handed to the script."""

    def __init__(self, engine: Engine, profile: FirmwareProfile) -> None:
        self.engine = engine
        self.profile = profile
        self.resources: dict[Resource, CoapResource] = {}
        self.sessions: list[CoapClientSession] = []
        # per-request differences between versions, computed once
        self.swapped_ids = profile.has(SWAPPED_IDS)
        self.empty_uri_path = profile.has(EMPTY_URI_PATH)
        self.api_c = profile.has(BACKGROUND_TASK)  # 1.20.3.b3/b4: no read(), their signatures
        self.task: threading.Thread | None = None  # TASK_MODCOAP (1.20.3.b3/b4)
        self._c_feature: str | None = None  # the first 1.20.3.b3+ feature the script used
        self._read = False  # the script has called read()
        self._task_lock = threading.Lock()  # the docs profile's task: started or stopped once
        engine.resource_object = self.facade  # what a dynamic PUT's new-resource handler gets

    def entered(self, function: str) -> None:
        """Called by the 1.20.1-1.20.2 functions that take modcoap's semaphore: there, calling them from
        the response handler deadlocks. (Client sessions are 1.20.3-only, where the handler runs in a
        thread of its own, so their functions do not call this.)"""
        if in_response_handler():
            self.profile.quirk(HANDLER_REENTRY, function=function)

    def uses_api_c(self, feature: str) -> None:
        """The script used a feature of 1.20.3.b3/b4 (API C). In the docs profile a script written for
        those versions gets their background task (the tutorial's server never calls ``read()``) until
        it calls ``read()``; that mix (what the docs page describes; no release has it) is said once."""
        with self._task_lock:
            if self._c_feature is None:
                self._c_feature = feature
                if self.task is None and not self._read:
                    self.task = self.engine.serve_in_background()
            read = self._read
        if read:
            self.profile.quirk(BACKGROUND_TASK, feature=feature)

    def reading(self) -> None:
        """The script calls ``read()`` (not 1.20.3.b3/b4): the docs profile's task, if any, stops first."""
        task = None
        if not self._read:
            with self._task_lock:
                self._read = True
                task, self.task = self.task, None
            if task is not None:
                self.engine.stop_serving()
                if task is not threading.current_thread():
                    task.join()  # within one coap_run_once (100 board ms)
        if self._c_feature is not None:
            self.profile.quirk(BACKGROUND_TASK, feature=self._c_feature)

    def send(self, endpoint: Endpoint, request: Message, peer: tuple[str, int], pdu_limit: int) -> int:
        """Send ``request``; its message id as the firmware returns it (1.20.1-1.20.2: byte-swapped).
        A request larger than ``pdu_limit`` loses its payload (strict profiles), one larger than a
        datagram raises ``OSError``: either way before anything is queued."""
        fit_request(request, pdu_limit, self.profile)
        with self.engine.lock:
            request.mid = mid = endpoint.layer.next_mid()
            self.engine.send_request(endpoint, request, peer)
        return ((mid & 0xFF) << 8) | (mid >> 8) if self.swapped_ids else mid

    def facade(self, resource: Resource) -> CoapResource:
        obj = self.resources.get(resource)
        if obj is None:
            obj = self.resources[resource] = CoapResource(resource, self)
        return obj
