# The "Example of CoAp Server" of Pycom's CoAP tutorial for firmware 1.20.3.b3/b4 (API C: no Coap.read(),
# dynamic resources created by PUT, register_new_resource_handler, get_details/set_details), unchanged.
# On a simulated board (the module's task serves it after the script ends):
#   firmware-sim run --firmware 1.20.3.b4 --ip 127.0.0.2 examples/docs/api_c_server.py
#   then: coap-client-notls -m put -e hello coap://127.0.0.2/new_resource

from network import WLAN
from network import Coap

# Callback to be called when a new resource has been added via PUT
def new_resource_callback(new_resource):
    details = new_resource.get_details()
    print("New resource has been created!")
    print("URI: {}".format(details[0]))
    print("Mediatype: {}".format(details[1]))
    print("Max Age: {}".format(details[2]))
    print("ETAG: {}".format(details[3]))
    print("ETAG value: {}".format(details[4]))
    print("Value: {}".format(new_resource.value()))
    # Configure the properties of the new resource
	# Mediatype, max_age and etag depends on the use-case, for this example set them randomly
    new_resource.set_details(mediatype=Coap.MEDIATYPE_TEXT_PLAIN, max_age=100, etag=True)

# Connect to the network
wlan = WLAN(mode=WLAN.STA)
wlan.connect('your-ssid', auth=(WLAN.WPA2, 'your-key'))

# Initialize Coap module as CoAp Server, enable service discovery and new resources to be added via PUT 
Coap.init(str(wlan.ifconfig()[0]), service_discovery=True, dynamic_resources=True)
# Register callback which will be called when new resource is added via PUT
Coap.register_new_resource_handler(new_resource_callback)

# Add an example resource with default value and plain text content format
r = Coap.add_resource("resource1", media_type=Coap.MEDIATYPE_TEXT_PLAIN, value="default_value")
# Add an attribute to the resource
r.add_attribute("title", "resource1")
# Add an attribute to the resource
r.add_attribute("ct", str(Coap.MEDIATYPE_TEXT_PLAIN))
# Configure the possible operations on the resource
r.callback(Coap.REQUEST_GET | Coap.REQUEST_POST | Coap.REQUEST_PUT, True)

# Add another example resource without default value, XML content format and E-Tag enabled
r = Coap.add_resource("resource2", media_type=Coap.MEDIATYPE_APP_XML, etag=True)
# Configure the possible operations on the resource
r.callback(Coap.REQUEST_GET | Coap.REQUEST_POST | Coap.REQUEST_PUT | Coap.REQUEST_DELETE, True)
