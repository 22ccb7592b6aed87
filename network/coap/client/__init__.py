"""The host-side CoAP client (:mod:`.core`); see :class:`Client`."""

from .core import Client
from .exchange import (
    CoapCancelled,
    CoapError,
    CoapReset,
    CoapTimeout,
    Exchange,
    Response,
    dotted,
    parse_uri,
)
from .observing import Observing
from .transfer import BlockTransferError

__all__ = [
    "BlockTransferError",
    "Client",
    "CoapCancelled",
    "CoapError",
    "CoapReset",
    "CoapTimeout",
    "Exchange",
    "Observing",
    "Response",
    "dotted",
    "parse_uri",
]
