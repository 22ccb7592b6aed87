"""Pycom's ``network`` module for CPython: ``Coap`` over real UDP sockets, and ``WLAN``."""

from .coap.api.module import Coap
from .wlan import WLAN

__all__ = ["Coap", "WLAN"]
