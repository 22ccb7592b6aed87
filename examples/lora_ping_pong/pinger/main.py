# Raw LoRa between two LoPy4 boards: this one pings, the other answers (see ../boards.toml).
import socket
import time

from network import LoRa

lora = LoRa(mode=LoRa.LORA, region=LoRa.EU868, sf=7)
s = socket.socket(socket.AF_LORA, socket.SOCK_RAW)
s.setblocking(False)

count = 0
while True:
    s.send("Ping %d" % count)
    time.sleep(1)
    reply = s.recv(64)
    if reply:
        print("answer:", reply, "RSSI", lora.stats().rssi, "dBm")
    else:
        print("no answer to ping", count)
    count += 1
    time.sleep(2)
