# CI sensor: a TMP36 on P16 read every second, its temperature served over CoAP at /temperature.
# "fault" is served while the reading is out of the sensor's range.
import _thread
import time

from tmp36 import TMP36

from network import WLAN, Coap

wlan = WLAN(mode=WLAN.STA)
wlan.connect("my-ssid", auth=(WLAN.WPA2, "my-key"))
while not wlan.isconnected():
    time.sleep_ms(50)
address = wlan.ifconfig()[0]

sensor = TMP36("P16")


def as_text(celsius):
    if celsius is None:
        return "fault"
    return "%.1f" % celsius


current = as_text(sensor.read())
Coap.init(address)
resource = Coap.add_resource(
    "temperature", media_type=Coap.MEDIATYPE_TEXT_PLAIN, max_age=1, value=current, etag=True
)
resource.callback(Coap.REQUEST_GET, True)


def serve():
    while True:
        Coap.read()


_thread.start_new_thread(serve, ())
print("sensor: serving /temperature on %s: %s" % (address, current))

while True:
    time.sleep(1)
    text = as_text(sensor.read())
    if text != current:
        current = text
        resource.value(current)
        if text == "fault":
            print("sensor: reading out of range (%d mV)" % sensor.millivolts())
        else:
            print("sensor: temperature now %s" % current)
