"""Raw LoRa (``LoRa(mode=LoRa.LORA)``) as firmware 1.20.2.r6 does it: a blocking send holds the script for
the frame's time on air, a non-blocking one returns at once (``EAGAIN`` once 7 frames wait), listen
before talk defers a frame while the channel is busy, ``TX_ONLY`` starts listening after its first
frame, ``ischannel_free`` leaves the radio asleep, and inverted IQ is heard only by inverted IQ.

Then real boards: two simulated LoPy4 (``firmware-sim run`` processes on one medium) playing Pycom's
lopy-lopy ping-pong with the RSSI their path loss gives, a third board on another spreading factor that
hears nothing, and two boards out of each other's range sending at once to a third: both frames are lost.
"""

from __future__ import annotations

import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from conftest import free_loopback_ip

from firmware_sim.testing import eventually
from network import host
from network.lora import settings
from network.lora.air import RadioParams
from network.lora.airtime import time_on_air
from network.lora.api import LoRa, hard_reset
from network.lora.medium import Medium
from network.lora.socket import LoRaSocket

FREQ = 868_100_000
SF7 = RadioParams(FREQ, 7, 125_000)
SF12 = RadioParams(FREQ, 12, 125_000)


@pytest.fixture
def radio(ip: str):
    """(LoRa class, medium name, this board's member id) on a fresh in-process board."""
    name = f"raw-{uuid.uuid4().hex}"
    host.configure(ip=ip, mapping={})
    settings.configure_board(medium=name)
    yield LoRa, name, ip
    hard_reset()
    settings.reset_board()
    host.reset()


def wait_until(predicate, timeout: float = 5.0) -> bool:
    return eventually(predicate, timeout, interval=0.01)


@pytest.mark.unit
def test_blocking_send_lasts_the_time_on_air_and_non_blocking_returns_at_once(radio) -> None:
    lora_class, name, me = radio
    lora = lora_class(mode=lora_class.LORA, frequency=FREQ, sf=10)
    heard = []
    peer = Medium.join(name, "peer", heard.append)
    peer.listen(RadioParams(FREQ, 10, 125_000))
    sock = LoRaSocket()
    started = time.monotonic()
    assert sock.send(b"x" * 20) == 20
    took = time.monotonic() - started
    assert time_on_air(20, 10, 125_000, 1) <= took < time_on_air(20, 10, 125_000, 1) + 0.3
    assert lora.stats().tx_time_on_air == lora.airtime(20) and lora.stats().tx_counter == 1
    assert lora.events() == lora_class.TX_PACKET_EVENT
    sock.setblocking(False)
    started = time.monotonic()
    sock.send(b"y" * 20)
    assert time.monotonic() - started < 0.1
    assert wait_until(lambda: len(heard) == 2)
    assert [r.payload for r in heard] == [b"x" * 20, b"y" * 20] and heard[0].sender == me
    peer.leave()


@pytest.mark.unit
def test_a_full_command_queue_is_eagain(radio) -> None:
    lora_class, name, _ = radio
    lora_class(mode=lora_class.LORA, frequency=FREQ, sf=12)
    watcher = Medium.join(name, "watcher")
    sock = LoRaSocket()
    sock.setblocking(False)
    sock.send(b"first")
    assert wait_until(lambda: watcher.medium.on_air())  # the task took it: on the air for ~1 s
    for _ in range(7):
        sock.send(b"queued")
    with pytest.raises(OSError) as info:
        sock.send(b"one too many")
    assert str(info.value) == "[Errno 11] EAGAIN"
    watcher.leave()


@pytest.mark.unit
def test_listen_before_talk_waits_for_a_busy_channel(radio) -> None:
    lora_class, name, me = radio
    lora_class(mode=lora_class.LORA, frequency=FREQ, sf=7)
    other = Medium.join(name, "neighbour")
    other.medium.set_path_loss("neighbour", me, 60.0)  # -46 dBm here: above LBT's -85 dBm
    busy = other.transmit(b"z" * 40, SF12, 14.0)
    sock = LoRaSocket()
    sock.send(b"after you")
    assert time.monotonic() >= busy.end
    other.leave()


@pytest.mark.unit
def test_tx_only_listens_after_its_first_frame_and_ischannel_free_sleeps(radio) -> None:
    lora_class, name, me = radio
    lora = lora_class(mode=lora_class.LORA, frequency=FREQ, power_mode=lora_class.TX_ONLY)
    other = Medium.join(name, "other")
    sock = LoRaSocket()
    sock.settimeout(0.5)
    other.transmit(b"unheard", SF7, 14.0)
    with pytest.raises(TimeoutError):
        sock.recv(20)
    sock.send(b"ping")  # E_LORA_STATE_TX_DONE: the receiver is on from now on, even in TX_ONLY
    other.transmit(b"heard", SF7, 14.0)
    assert sock.recv(20) == b"heard"
    assert lora.ischannel_free(-100, 20) is True
    other.transmit(b"asleep", SF7, 14.0)  # SX1276IsChannelFree leaves the radio in sleep
    with pytest.raises(TimeoutError):
        sock.recv(20)
    busy = other.transmit(b"b" * 30, SF12, 14.0)
    assert lora.ischannel_free(-100, 200) is False
    assert time.monotonic() < busy.end
    other.leave()


@pytest.mark.unit
def test_inverted_iq_is_heard_by_inverted_iq_only(radio) -> None:
    lora_class, name, _ = radio
    lora_class(mode=lora_class.LORA, frequency=FREQ, tx_iq=True)
    plain, inverted = [], []
    for member_id, into, iq in (("plain", plain, False), ("inverted", inverted, True)):
        Medium.join(name, member_id, into.append).listen(RadioParams(FREQ, 7, 125_000, 1, iq))
    LoRaSocket().send(b"iq")
    assert wait_until(lambda: inverted) and [r.payload for r in inverted] == [b"iq"]
    time.sleep(0.1)
    assert plain == []


@pytest.mark.unit
def test_tx_callback_gets_the_lora_object(radio) -> None:
    lora_class, _, _ = radio
    lora = lora_class(mode=lora_class.LORA, frequency=FREQ)
    calls = []
    trigger = lora_class.TX_PACKET_EVENT | lora_class.RX_PACKET_EVENT
    lora.callback(trigger, lambda arg: calls.append(arg), "me")
    LoRaSocket().send(b"cb")
    assert wait_until(lambda: calls == ["me"])
    lora.callback(None)
    LoRaSocket().send(b"no cb")
    time.sleep(0.1)
    assert calls == ["me"]


# -- real boards --------------------------------------------------------------------------------------

PONG = """\
from network import LoRa
import socket
import time

lora = LoRa(mode=LoRa.LORA, frequency=868100000)
s = socket.socket(socket.AF_LORA, socket.SOCK_RAW)
s.setblocking(False)

while True:
    if s.recv(64) == b'Ping':
        print('Ping from B, rssi %d snr %d' % (lora.stats().rssi, lora.stats().snr))
        s.send('Pong')
    time.sleep(0.2)
"""

PING = """\
from network import LoRa
import socket
import time

lora = LoRa(mode=LoRa.LORA, frequency=868100000)
s = socket.socket(socket.AF_LORA, socket.SOCK_RAW)
s.setblocking(False)

pongs = 0
for i in range(8):
    s.send('Ping')
    time.sleep(1)
    if s.recv(64) == b'Pong':
        pongs += 1
        print('Pong %d, rssi %d, sfrx %d' % (pongs, lora.stats().rssi, lora.stats().sfrx))
    if pongs == 3:
        break
print('done', pongs)
"""

LISTENER = """\
from network import LoRa
import socket
import time

lora = LoRa(mode=LoRa.LORA, frequency=868100000, sf=%d)
s = socket.socket(socket.AF_LORA, socket.SOCK_RAW)
s.setblocking(False)
print('listening')
heard = 0
while True:
    data = s.recv(64)
    if data:
        heard += 1
        print('heard %%s (%%d)' %% (data, heard))
    time.sleep(0.05)
"""


def board(spawn, tmp_path: Path, name: str, script: str, ip: str, medium: str, *extra: str):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(script))
    args = [sys.executable, "-m", "firmware_sim", "run", "--ip", ip, "--lora-medium", medium, *extra]
    return spawn([*args, "--timeout", "40", str(path)])


@pytest.mark.process
def test_lopy_to_lopy_ping_pong_with_rssi_and_another_sf_hears_nothing(spawn, tmp_path: Path) -> None:
    medium = f"pingpong-{uuid.uuid4().hex}"
    a, b, c = free_loopback_ip(), free_loopback_ip(), free_loopback_ip()
    listener = board(spawn, tmp_path, "c", LISTENER % 9, c, medium)
    assert listener.wait_for(lambda out: "listening" in out, timeout=20)
    pong = board(spawn, tmp_path, "a", PONG, a, medium, "--lora-link", f"{b}=100dB")
    ping = board(spawn, tmp_path, "b", PING, b, medium, "--lora-link", f"{a}=100dB")
    assert ping.wait_for(lambda out: "done" in out, timeout=30), ping.output + pong.output
    assert "done 3" in ping.output, ping.output + pong.output
    assert "Pong 1, rssi -86, sfrx 7" in ping.output  # 14 dBm - 100 dB
    assert "Ping from B, rssi -86 snr 10" in pong.output  # the SX1276 reports at most about 10 dB
    time.sleep(0.5)
    assert "heard" not in listener.output  # SF9 hears none of the SF7 frames


SENDER = """\
import time
from network import LoRa
import socket

lora = LoRa(mode=LoRa.LORA, frequency=868100000, sf=12)
s = socket.socket(socket.AF_LORA, socket.SOCK_RAW)
print('ready')
while time.time() < %d:
    time.sleep_ms(2)
s.send('%s' * 20)
print('sent')
if %d:
    time.sleep(4)
    s.send('again')
    print('sent again')
"""


@pytest.mark.process
def test_two_boards_sending_at_once_collide(spawn, tmp_path: Path) -> None:
    """Two senders out of each other's range (no listen before talk between them), as strong at the
    receiver: the overlapping SF12 frames are both lost; a frame alone later gets through."""
    medium = f"collide-{uuid.uuid4().hex}"
    r, s1, s2 = free_loopback_ip(), free_loopback_ip(), free_loopback_ip()
    receiver = board(spawn, tmp_path, "r", LISTENER % 12, r, medium, "--lora-link", f"{s1}=110dB",
                     "--lora-link", f"{s2}=110dB")  # fmt: skip
    assert receiver.wait_for(lambda out: "listening" in out, timeout=20)
    at = int(time.time()) + 6
    first = board(spawn, tmp_path, "s1", SENDER % (at, "1", 1), s1, medium, "--lora-link", f"{s2}=160dB",
                  "--lora-link", f"{r}=110dB")  # fmt: skip
    second = board(spawn, tmp_path, "s2", SENDER % (at, "2", 0), s2, medium, "--lora-link", f"{s1}=160dB",
                   "--lora-link", f"{r}=110dB")  # fmt: skip
    assert first.wait_for(lambda out: "sent again" in out, timeout=30), first.output
    assert second.wait_for(lambda out: "sent" in out, timeout=5), second.output
    assert receiver.wait_for(lambda out: "heard" in out, timeout=10), receiver.output
    time.sleep(0.5)
    heard = [line for line in receiver.lines if line.startswith("heard")]
    assert heard == ["heard b'again' (1)"], receiver.output


# -- firmware-sim up: the file's medium and its [[link]] path losses -----------------------------------

UP_FILE = """\
lora_medium = "{medium}"

[[board]]
name = "pong"
path = "pong.py"

[[board]]
name = "ping"
path = "ping.py"
delay = 1

[[board]]
name = "far"
path = "far.py"
lora_link = {{ ping = "2km" }}

[[link]]
boards = ["ping", "pong"]
path_loss = 100
"""


@pytest.mark.unit
def test_up_file_gives_each_board_its_medium_and_links(tmp_path: Path) -> None:
    import argparse

    from firmware_sim.cli import up
    from firmware_sim.cli.options import UsageError

    for name in ("pong", "ping", "far"):
        (tmp_path / f"{name}.py").write_text("pass\n")
    path = tmp_path / "boards.toml"
    path.write_text(UP_FILE.format(medium="lab-1"))
    args = argparse.Namespace(timeout=None, time_scale=None)
    pong, ping, far = up.plan(path, args)
    address = {p.name: p.command[p.command.index("--ip") + 1] for p in (pong, ping, far)}

    def links(planned) -> list[str]:
        return [planned.command[i + 1] for i, arg in enumerate(planned.command) if arg == "--lora-link"]

    assert all(p.command[p.command.index("--lora-medium") + 1] == "lab-1" for p in (pong, ping, far))
    assert links(ping) == [f"{address['pong']}=100.0dB"] and links(pong) == [f"{address['ping']}=100.0dB"]
    assert links(far) == [f"{address['ping']}=2000.0m"]
    path.write_text(UP_FILE.format(medium="lab-1").replace('"pong"]', '"nobody"]'))
    with raises_usage(UsageError, "link 1: key 'boards': no board is named 'nobody'"):
        up.plan(path, args)
    path.write_text(UP_FILE.format(medium="lab-1").replace("path_loss = 100", "path_loss = 1\ndistance = 2"))
    with raises_usage(UsageError, "link 1: give either path_loss (dB) or distance (metres), not both"):
        up.plan(path, args)
    path.write_text(UP_FILE.format(medium="no spaces"))
    with raises_usage(UsageError, "key 'lora_medium': 'no spaces' is not a medium name"):
        up.plan(path, args)


def raises_usage(kind, fragment: str):
    import re

    return pytest.raises(kind, match=re.escape(fragment))


@pytest.mark.process
def test_up_boards_hear_each_other_with_the_links_path_loss(spawn, tmp_path: Path) -> None:
    (tmp_path / "pong.py").write_text(textwrap.dedent(PONG))
    (tmp_path / "ping.py").write_text(textwrap.dedent(PING))
    (tmp_path / "far.py").write_text(textwrap.dedent(LISTENER % 7))
    path = tmp_path / "boards.toml"
    path.write_text(UP_FILE.format(medium=f"up-{uuid.uuid4().hex}"))
    run = spawn([sys.executable, "-m", "firmware_sim", "up", "--timeout", "30", str(path)])
    assert run.wait_for(lambda out: "done" in out, timeout=40), run.output
    assert "[ping] Pong 1, rssi -86, sfrx 7" in run.output
    assert "[far ] heard b'Ping'" in run.output  # 2 km away, still above SF7's floor


KINDS_SCRIPT = """\
import socket
try:
    from network import LoRa
except ImportError as e:
    print('no LoRa:', e)
    LoRa = None
try:
    socket.socket(socket.AF_LORA, socket.SOCK_RAW)
except OSError as e:
    print('socket:', e)
if LoRa is not None:
    lora = LoRa(mode=LoRa.LORA, region=LoRa.EU868)
    print(lora, socket.socket(socket.AF_LORA, socket.SOCK_RAW), hex(socket.SOL_LORA), hex(socket.SO_DR))
    try:
        socket.socket(socket.AF_LORA, socket.SOCK_DGRAM)
    except OSError as e:
        print('dgram:', e)
    try:
        LoRa(region=LoRa.EU433)
    except ValueError as e:
        print(e)
"""


@pytest.mark.process
@pytest.mark.parametrize("kind", ["wipy", "fipy"])
def test_lora_exists_on_the_kinds_that_have_it(tmp_path: Path, kind: str) -> None:
    from conftest import run_board

    done = run_board(tmp_path / "flash", KINDS_SCRIPT, kind=kind, lora_medium=f"kinds-{uuid.uuid4().hex}")
    assert done.returncode == 0, done.stderr
    if kind == "wipy":
        assert "no LoRa: cannot import name LoRa" in done.stdout
        assert "socket: Network card not available" in done.stdout
    else:
        assert "<LoRa> <socket> 0xfff05 0xf0003" in done.stdout
        assert "dgram: incorrect socket type" in done.stdout
        assert "invalid region 4" in done.stdout  # EU433: LoPy4 only
