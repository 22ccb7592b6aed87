# A plain Pycom-style CoAP server, as a board would run it: one resource, the built-in GET handler,
# and a Coap.read() loop. The benchmark runs it as `python bench/scripts/pycom_server.py 127.x.y.z`.
import sys

from network import Coap

Coap.init(sys.argv[1])
r = Coap.add_resource("bench", value="bench-value")
r.callback(Coap.REQUEST_GET, True)
print("ready")
while True:
    Coap.read()
