# The "Example of CoAp Client" of Pycom's CoAP tutorial for firmware 1.20.3.b3/b4 (API C), unchanged. On
# those versions it stops at new_client_session(): its port is keyword-only there (TypeError: extra
# positional arguments given). Under the docs profile it runs (the server mapped onto loopback):
#   firmware-sim run --firmware 1.20.3.b4 --map 192.168.0.234=127.0.0.3 examples/docs/api_c_client.py

from network import WLAN
from network import Coap
import _thread

# Address of the CoAp Server which this Client Session wants to connect 
COAP_SERVER_ADDRESS = "192.168.0.234"
# Port of the CoAp Server which this Client Session wants to connect 
COAP_SERVER_PORT = 5683

# Callback handling the responses to the requests sent to a Coap Server
def response_callback(code, id_param, type_param, token, payload):
    print("Code: {}".format(code))
    # The ID can be used to pair the requests with the responses
    print("ID: {}".format(id_param))
    print("Type: {}".format(type_param))
    print("Token: {}".format(token))
    print("Payload: {}".format(payload))

# Connect to the network
wlan = WLAN(mode=WLAN.STA)
wlan.connect('your-ssid', auth=(WLAN.WPA2, 'your-key'))

# Initialize Coap module
Coap.init(str(wlan.ifconfig()[0]), service_discovery=True)

# Register the response handler for the requests the module initiates as a Coap Client
Coap.register_response_handler(response_callback)

# Create a new Client Session
session = Coap.new_client_session(COAP_SERVER_ADDRESS, COAP_SERVER_PORT)

# Send a GET Request to the CoAp Server asking for all resources via URI ".well-known/core"
id = session.send_request(Coap.REQUEST_GET, uri_path=".well-known/core", payload="payload", token="token1", include_options=True)
# The id can be used to match the request with the response in the response_callback
print(id)
# Send a GET Request to the CoAp Server asking for resource with URI "time"
id = session.send_request(Coap.REQUEST_GET, uri_path="time", payload="payload", token="token2", include_options=True)
print(id)
# Send a PUT request to the CoAp Server updating the resource with URI "time" to new value "ABCD"
id = session.send_request(Coap.REQUEST_PUT, uri_path="time",content_format=Coap.MEDIATYPE_TEXT_PLAIN, payload="ABCD", token="token3", include_options=True)
print(id)
