# The "Usage Example of CoAp Client in blocking mode" of Pycom's network.Coap documentation, unchanged.
# The server address 192.168.0.234 is mapped onto loopback by the simulator:
#   FIRMWARE_SIM_MAP=192.168.0.234=127.0.0.3 python examples/docs/client_blocking.py

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
        # Using Coap.read() without timeout value means that if no new packet arrives to any of the client sessions registered before this is called, then this function will never return
        Coap.read()


# Connect to the network
wlan = WLAN(mode=WLAN.STA)
wlan.connect("your-ssid", auth=(WLAN.WPA2, "your-key"))

# Initialize Coap module
Coap.init(str(wlan.ifconfig()[0]), service_discovery=True)

# Register the response handler for the requests the module initiates as a Coap Client
Coap.register_response_handler(response_callback)

# As the Coap.read() will be called in a form that it blocks until no new data arrives to the socket, it is only safe
# to create new client sessions before Coap.read() is called
session = Coap.new_client_session("192.168.0.234", 5683)

# Start a new thread which calls Coap.read() which will block until no new packet arrives to the socket
_thread.start_new_thread(coap_thread, ())

# After this point it is not safe to create new Coap Client Session as they might not be handled by Coap.read()

# Request to a normal CoAp Server
id = session.send_request(
    Coap.REQUEST_GET, uri_path=".well-known/core", payload="payload", token="token1", include_options=True
)
print(id)
# Request to a normal CoAp Server
id = session.send_request(
    Coap.REQUEST_GET, uri_path="time", payload="payload", token="token2", include_options=True
)
print(id)
# Request to a normal CoAp Server
id = session.send_request(
    Coap.REQUEST_PUT,
    uri_path="time",
    content_format=Coap.MEDIATYPE_TEXT_PLAIN,
    payload="ABCD",
    token="token3",
    include_options=True,
)
print(id)
# Request to a Dish Telemetry server, payload is the AMQP message, token is maximum 8 bytes containing the IMEI or IMSI id, no options should be present
imei = int("359738090028145").to_bytes(8, "big")
id = session.send_request(
    Coap.REQUEST_GET,
    payload="amqp://artemis:5672/dish.app1.FjhBV78.telemetry",
    token=imei,
    include_options=False,
)
print(id)
