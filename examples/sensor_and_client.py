"""A Pycom-style script that is a CoAP sensor and its own client, run on a PC.

    python examples/sensor_and_client.py

It serves ``/temperature`` (GET, PUT, ETag) and ``/.well-known/core`` on the board's address,
then talks to itself through a client session exactly as a second board would: discovery, a GET,
a PUT, and a GET of the new value. Everything goes over real UDP on loopback, so real CoAP tools
can talk to such a script too (``coap-client-notls -m get coap://127.0.0.1/temperature``).
"""

import _thread
import time

from network import WLAN, Coap

responses = []
running = True


def on_response(code, msg_id, msg_type, token, payload):
    print(
        "  <- %d.%02d id=%s type=%s token=%s payload=%s"
        % (code >> 5, code & 31, msg_id, msg_type, token, payload)
    )
    responses.append(code)


def serve():
    while running:
        Coap.read(100)


wlan = WLAN(mode=WLAN.STA)
wlan.connect("my-ssid", auth=(WLAN.WPA2, "my-key"))
address = wlan.ifconfig()[0]
print("board address:", address)

Coap.init(address)
sensor = Coap.add_resource(
    "temperature", media_type=Coap.MEDIATYPE_TEXT_PLAIN, max_age=60, value="21.5", etag=True
)
sensor.add_attribute("rt", "temperature-c")
sensor.add_attribute("title", "Room")
sensor.callback(Coap.REQUEST_GET | Coap.REQUEST_PUT, True)
Coap.register_response_handler(on_response)
_thread.start_new_thread(serve, ())

session = Coap.new_client_session(address, 5683)
steps = [
    ("GET /.well-known/core", dict(uri_path=".well-known/core")),
    ("GET /temperature", dict(uri_path="temperature", token="t1")),
    (
        "PUT /temperature 22.0",
        dict(uri_path="temperature", payload="22.0", content_format=Coap.MEDIATYPE_TEXT_PLAIN),
    ),
    ("GET /temperature", dict(uri_path="temperature", token="t2")),
]
methods = {"GET": Coap.REQUEST_GET, "PUT": Coap.REQUEST_PUT}
for label, kwargs in steps:
    print("->", label)
    session.send_request(methods[label.split()[0]], **kwargs)
    time.sleep(0.2)  # a PUT's 2.04 has no payload, so the handler is not called (as on the board)

print("sensor value on the board:", sensor.value())
print("%d responses with payload received" % len(responses))
running = False  # the read thread ends, and so does the script (a board would keep it running)
