"""Pycom's ``network`` module for CPython: ``Coap`` over real UDP sockets, ``WLAN`` and ``LTE``.

A plain Python process has every class; a simulated board (``firmware-sim run``) gets the ones its
board kind has (``LTE`` on FiPy and GPy only).
"""

from .coap.api.module import Coap
from .lte import LTE
from .wlan import WLAN

__all__ = ["Coap", "LTE", "WLAN"]
