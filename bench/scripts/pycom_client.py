# A Pycom-style CoAP client: N client sessions to one server, a response handler that sends the next
# GET as soon as a response arrives (so N requests stay in flight), and a Coap.read() loop.
#
#   FIRMWARE_SIM_IP=127.x.y.z python bench/scripts/pycom_client.py SERVER_IP PORT SESSIONS WARMUP SECONDS
#
# Prints one JSON line: {"completed", "seconds", "rate"} for the SECONDS after the WARMUP.
import json
import sys
import time

from network import Coap

server_ip = sys.argv[1]
port = int(sys.argv[2])
n_sessions = int(sys.argv[3])
warmup = float(sys.argv[4])
seconds = float(sys.argv[5])

done = 0


def on_response(code, id, type, token, payload):
    global done
    done += 1
    sessions[token[0]].send_request(Coap.REQUEST_GET, uri_path="bench", token=token)


Coap.init()
Coap.register_response_handler(on_response)
sessions = [Coap.new_client_session(server_ip, port) for _ in range(n_sessions)]
for i, session in enumerate(sessions):
    session.send_request(Coap.REQUEST_GET, uri_path="bench", token=bytes((i,)))

start = time.monotonic()
while time.monotonic() < start + warmup:
    Coap.read(100)
first = done
start = time.monotonic()
while time.monotonic() < start + seconds:
    Coap.read(100)
elapsed = time.monotonic() - start
count = done - first
print(json.dumps({"completed": count, "seconds": elapsed, "rate": count / elapsed}))
