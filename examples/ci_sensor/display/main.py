# CI sensor's display: another board that polls the sensor at 192.168.1.20 over CoAP once a second,
# prints each temperature, and says when the sensor stops answering and when it is back.
import _thread
import time

from network import WLAN, Coap

SENSOR = "192.168.1.20"
LOST_AFTER = 5  # seconds without an answer

wlan = WLAN(mode=WLAN.STA)
wlan.connect("my-ssid", auth=(WLAN.WPA2, "my-key"))
while not wlan.isconnected():
    time.sleep_ms(50)
Coap.init()

last_answer = time.time()
lost = False


def on_response(code, msg_id, msg_type, token, payload):
    global last_answer, lost
    last_answer = time.time()
    if lost:
        lost = False
        print("display: sensor back")
    print("display: %s" % payload.decode())


def serve():
    while True:
        Coap.read(1000)


Coap.register_response_handler(on_response)
_thread.start_new_thread(serve, ())
session = Coap.new_client_session(SENSOR, 5683)
while True:
    session.send_request(Coap.REQUEST_GET, uri_path="temperature")
    time.sleep(1)
    if not lost and time.time() - last_answer > LOST_AFTER:
        lost = True
        print("display: sensor lost")
