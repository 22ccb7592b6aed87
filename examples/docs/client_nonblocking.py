# The "Usage Example of CoAp Client in non-blocking mode" of Pycom's network.Coap documentation, unchanged.
# Its two servers, 192.168.0.234 and 192.168.0.236, are mapped onto loopback by the simulator:
#   FIRMWARE_SIM_MAP=192.168.0.234=127.0.0.3,192.168.0.236=127.0.0.4 python examples/docs/client_nonblocking.py

from network import WLAN
from network import Coap
import _thread


# Callback handling the responses to the requests sent to a Coap Server
def response_callback(code, id_param, type_param, token, payload):
    print("Code: {}".format(code))
    # The ID can be used to pair the requests with the responses
    print("ID: {}".format(id_param))
    print("Type: {}".format(type_param))
    print("Token: {}".format(token))
    print("Payload: {}".format(payload))


# Thread handling the sockets
def coap_thread():
    while True:
        # Wait only 3 seconds for new packets then return back
        # In the next call it will also handle any new CoAp Client Sessions created during the previous call
        Coap.read(3000)


# Connect to the network
wlan = WLAN(mode=WLAN.STA)
wlan.connect("your-ssid", auth=(WLAN.WPA2, "your-key"))

# Initialize Coap module, to be used only as a CoAp Client
Coap.init()

# Start a new thread which handles the CoAp, it is safe to start as soon as possible as the Coap.read() has timeout specified
# After this point it is safe to create new CoAp Client Sessions, it will be processed by the coap_thread correctly as Coap.read() is used with timeout value
_thread.start_new_thread(coap_thread, ())

# Register the response handler for the requests the module initiates as a Coap Client
Coap.register_response_handler(response_callback)

# Create a new client session on demand
session1 = Coap.new_client_session("192.168.0.234", 5683)

# Request to a normal CoAp Server via CoAp Client Session: session1
id = session1.send_request(Coap.REQUEST_GET, uri_path=".well-known/core", token="session1")
print(id)
# Request to a normal CoAp Server via CoAp Client Session: session1
id = session1.send_request(Coap.REQUEST_GET, uri_path="time", token="session1")
print(id)

# Create again a new CoAp Client Session on demand, without restriction
session2 = Coap.new_client_session("192.168.0.236", 5683)

# Request to a normal CoAp server via CoAp Client Session: session2
id = session2.send_request(Coap.REQUEST_GET, uri_path=".well-known/core")
print(id)
# Request to a normal CoAp server via CoAp Client Session: session2
id = session2.send_request(Coap.REQUEST_GET, uri_path="resource1")
print(id)
# Request to a normal CoAp server via CoAp Client Session: session2
id = session2.send_request(Coap.REQUEST_POST, uri_path="resource1", payload="new_value")
print(id)
