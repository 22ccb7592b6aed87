"""CoAP for the emulator, in layers.

- ``protocol``: RFC 7252 / RFC 6690 without I/O (numbers, codec, message layer, link format).
- ``firmware``: what Pycom's modcoap does, without I/O (resource handlers, request building).
- ``engine``: the I/O layer (UDP sockets and ``selectors``), on the board clock; ``irq``: the thread
  firmware 1.20.3 runs the response handler in.
- ``api``: the ``network.Coap`` facade with the firmware's signatures and errors.
"""
