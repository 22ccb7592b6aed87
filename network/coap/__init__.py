"""CoAP for the emulator, in layers.

- ``protocol``: RFC 7252 / RFC 6690 without I/O (numbers, codec, message layer, link format).
- ``firmware``: what Pycom's modcoap does, without I/O (resource handlers, request building).
- ``engine``: the I/O layer (UDP sockets and ``selectors``).
- ``api``: the ``network.Coap`` facade with the firmware's signatures and errors.
"""
