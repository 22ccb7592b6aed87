# Polls the sensor board at 192.168.0.10 once a second and prints what it answers.
import _thread
import time

from network import WLAN, Coap

SENSOR = "192.168.0.10"

wlan = WLAN(mode=WLAN.STA)
wlan.connect("my-ssid", auth=(WLAN.WPA2, "my-key"))
Coap.init()


def on_response(code, msg_id, msg_type, token, payload):
    print("client: %d.%02d from the sensor: %s" % (code >> 5, code & 31, payload.decode()))


def serve():
    while True:
        Coap.read(1000)


Coap.register_response_handler(on_response)
_thread.start_new_thread(serve, ())
session = Coap.new_client_session(SENSOR, 5683)
session.send_request(Coap.REQUEST_GET, uri_path=".well-known/core")
while True:
    session.send_request(Coap.REQUEST_GET, uri_path="temperature")
    time.sleep(1)
