# The "Usage Example of CoAp Server" of Pycom's network.Coap documentation, unchanged.
# Run on a PC: FIRMWARE_SIM_IP=127.0.0.2 python examples/docs/server.py
#   then: coap-client-notls -m get coap://127.0.0.2/.well-known/core

from network import WLAN
from network import Coap
import _thread


# Thread handling the CoAp Server
def coap_thread():
    while True:
        # Call Coap.read() without specyfing timeout value, in this way it handled all requests sent to the CoAp Server silently
        Coap.read()


# Connect to the network
wlan = WLAN(mode=WLAN.STA)
wlan.connect("your-ssid", auth=(WLAN.WPA2, "your-key"))

# Initialize Coap module as CoAp Server
Coap.init(str(wlan.ifconfig()[0]), service_discovery=True)

# Add a resource with default value and plain text content format
r = Coap.add_resource("resource1", media_type=Coap.MEDIATYPE_TEXT_PLAIN, value="default_value")
# Add an attribute to the resource
r.add_attribute("title", "resource1")
# Add an attribute to the resource
r.add_attribute("ct", str(Coap.MEDIATYPE_TEXT_PLAIN))
# Configure the possible operations on the resource
r.callback(Coap.REQUEST_GET | Coap.REQUEST_POST | Coap.REQUEST_PUT, True)

# Add a resource without default value, XML content format and E-Tag enabled
r = Coap.add_resource("resource2", media_type=Coap.MEDIATYPE_APP_XML, etag=True)
# Configure the possible operations on the resource
r.callback(Coap.REQUEST_GET | Coap.REQUEST_POST | Coap.REQUEST_PUT | Coap.REQUEST_DELETE, True)

# Start a new thread which handles the CoAp Server
_thread.start_new_thread(coap_thread, ())
