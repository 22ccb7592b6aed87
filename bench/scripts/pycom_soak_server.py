# The server of bench/soak_memory.py: a Pycom-style CoAP server with N resources (v0 ... vN-1), GET and
# PUT enabled, and a Coap.read() loop. It stops by itself after its third argument's seconds.
#
#     python bench/scripts/pycom_soak_server.py 127.x.y.z N SECONDS
import sys
import time

from network import Coap

Coap.init(sys.argv[1])
for n in range(int(sys.argv[2])):
    Coap.add_resource("v" + str(n), value="initial").callback(Coap.REQUEST_GET | Coap.REQUEST_PUT, True)
print("ready")
end = time.monotonic() + float(sys.argv[3])
while time.monotonic() < end:
    Coap.read(500)
