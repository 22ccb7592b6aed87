# The fuzzing target of bench/fuzz_server.py: a Pycom-style CoAP server with resources for every
# built-in handler (GET, PUT, POST, DELETE, ETag, media types, attributes, a value larger than a PDU)
# and a Coap.read() loop. An exception out of read() ends it with a traceback: the fuzzer counts that
# as a crash. It stops by itself after its second argument's seconds.
#
#     python bench/scripts/pycom_fuzz_server.py 127.x.y.z SECONDS
import sys
import time

from network import Coap

Coap.init(sys.argv[1], service_discovery=False)
sensor = Coap.add_resource(
    "sensor", media_type=Coap.MEDIATYPE_TEXT_PLAIN, max_age=60, value="21 C", etag=True
)
sensor.add_attribute("rt", "temperature")
sensor.add_attribute("title", "a sensor")
sensor.callback(Coap.REQUEST_GET | Coap.REQUEST_PUT | Coap.REQUEST_POST, True)
Coap.add_resource("json", media_type=Coap.MEDIATYPE_APP_JSON, value='{"a": 1}').callback(
    Coap.REQUEST_GET | Coap.REQUEST_POST, True
)
Coap.add_resource("big", value=b"b" * 3000).callback(Coap.REQUEST_GET | Coap.REQUEST_PUT, True)
Coap.add_resource("a/b/c", value=7).callback(Coap.REQUEST_GET, True)
for n in range(4):
    Coap.add_resource("victim" + str(n), value=n).callback(Coap.REQUEST_GET | Coap.REQUEST_DELETE, True)
Coap.add_resource("off", value="4.05 to all")
# the health check's resource: GET only, so no fuzzed datagram can change or delete it
Coap.add_resource("alive", value="yes").callback(Coap.REQUEST_GET, True)
print("ready")
end = time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:
    Coap.read(500)
