# Two boards: instance0 serves UDP on its own address, instance1 sends it datagrams.
#   firmware-sim multitest examples/multitest/udp_pair.py   (compares with udp_pair.py.exp)
import usocket as socket

PORT = 8000
COUNT = 3


def instance0():
    multitest.globals(SERVER=multitest.get_network_ip())
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(socket.getaddrinfo("0.0.0.0", PORT)[0][-1])
    multitest.next()
    for _ in range(COUNT):
        data, addr = s.recvfrom(64)
        print("server got", data)
        s.sendto(b"echo " + data, addr)
    multitest.broadcast("server done")
    s.close()


def instance1():
    multitest.next()
    print("own address differs:", multitest.get_network_ip() != SERVER)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    addr = socket.getaddrinfo(SERVER, PORT)[0][-1]
    for i in range(COUNT):
        s.sendto(b"ping %d" % i, addr)
        print("client got", s.recv(64))
    multitest.wait("server done")
    print("client heard: server done")
    s.close()
