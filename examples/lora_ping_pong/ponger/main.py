# Raw LoRa between two LoPy4 boards: this one answers every ping it hears (see ../boards.toml).
import socket
import time

from network import LoRa

lora = LoRa(mode=LoRa.LORA, region=LoRa.EU868, sf=7)
s = socket.socket(socket.AF_LORA, socket.SOCK_RAW)
s.setblocking(False)

while True:
    data = s.recv(64)
    if data.startswith(b"Ping"):
        print("heard", data, "RSSI", lora.stats().rssi, "dBm")
        s.send("Pong")
    time.sleep_ms(50)
