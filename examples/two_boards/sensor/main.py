# A CoAP temperature sensor: serves /temperature and updates it every second.
import _thread
import time

from network import WLAN, Coap

wlan = WLAN(mode=WLAN.STA)
wlan.connect("my-ssid", auth=(WLAN.WPA2, "my-key"))
print("sensor: up at", wlan.ifconfig()[0])

Coap.init(wlan.ifconfig()[0])
temperature = Coap.add_resource(
    "temperature", media_type=Coap.MEDIATYPE_TEXT_PLAIN, max_age=5, value="21.0", etag=True
)
temperature.add_attribute("rt", "temperature-c")
temperature.callback(Coap.REQUEST_GET, True)


def serve():
    while True:
        Coap.read()


_thread.start_new_thread(serve, ())

reading = 21.0
while True:
    time.sleep(1)
    reading += 0.5
    temperature.value("%.1f" % reading)
    print("sensor: temperature now", reading)
