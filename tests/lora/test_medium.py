"""The LoRa air (``network.lora.medium``): who hears a frame, collisions and the capture effect, the link
budget (RSSI from path loss, SNR from the noise floor, the SF's demodulation floor), receive windows,
and two real ``python`` processes joining one medium name on loopback and exchanging frames.

In-process tests drive a medium with their own clock (``threaded=False`` and ``poll()``), so timing is
exact and nothing sleeps; one test runs the delivering thread on the host clock.
"""

from __future__ import annotations

import math
import textwrap
import threading
import time
import uuid

import pytest
from conftest import free_loopback_ip, python_script

from network.lora.air import decode, encode
from network.lora.airtime import time_on_air
from network.lora.medium import (
    DEMOD_FLOOR_DB,
    SNR_CEILING_DB,
    Medium,
    RadioParams,
    Reception,
    Transmission,
    free_space_path_loss,
    noise_floor_dbm,
)

CH1 = RadioParams(868_100_000, 7, 125_000)
T0 = 1000.0


class Air:
    """A medium on a clock the test moves, and what each member received."""

    def __init__(self) -> None:
        self.now = T0
        self.medium = Medium("test", clock=lambda: self.now, threaded=False)
        self.got: dict[str, list[Reception]] = {}

    def join(self, name: str, *listen: RadioParams):
        self.got[name] = []
        member = self.medium.member(name, self.got[name].append)
        if listen:
            member.listen(*listen)
        return member

    def run_to(self, moment: float) -> None:
        self.now = moment
        self.medium.poll()

    def payloads(self, name: str) -> list[bytes]:
        return [r.payload for r in self.got[name]]


@pytest.fixture
def air() -> Air:
    return Air()


@pytest.mark.unit
def test_a_receiver_with_the_same_settings_hears_the_frame_at_its_end(air: Air) -> None:
    sender, _ = air.join("a"), air.join("b", CH1)
    tx = sender.transmit(b"hello", CH1, 14)
    assert tx.end - tx.start == pytest.approx(time_on_air(5, 7, 125_000, 1))
    air.run_to(tx.end - 0.001)
    assert air.got["b"] == []
    air.run_to(tx.end + 0.05)
    (frame,) = air.got["b"]
    assert (frame.payload, frame.freq, frame.sf, frame.bw) == (b"hello", 868_100_000, 7, 125_000)
    assert (frame.at, frame.sender) == (tx.end, "a")
    assert air.got["a"] == []  # a radio never hears itself


@pytest.mark.unit
@pytest.mark.parametrize(
    "rx",
    [
        RadioParams(868_300_000, 7, 125_000),  # another channel
        RadioParams(868_100_000, 8, 125_000),  # another SF
        RadioParams(868_100_000, 7, 250_000),  # another bandwidth
        RadioParams(868_100_000, 7, 125_000, iq_inverted=True),  # IQ must match (SX127x)
    ],
)
def test_other_settings_hear_nothing(air: Air, rx: RadioParams) -> None:
    sender, _ = air.join("a"), air.join("b", rx)
    tx = sender.transmit(b"x", CH1)
    air.run_to(tx.end + 1)
    assert air.got["b"] == []


@pytest.mark.unit
def test_inverted_iq_is_heard_by_an_inverted_receiver_and_the_coding_rate_is_in_the_header(air: Air) -> None:
    down = RadioParams(869_525_000, 9, 125_000, cr=1, iq_inverted=True)
    gateway = air.join("gw")
    air.join("node", RadioParams(869_525_000, 9, 125_000, cr=4, iq_inverted=True))
    air.join("plain", RadioParams(869_525_000, 9, 125_000))
    tx = gateway.transmit(b"downlink", down)
    air.run_to(tx.end + 1)
    assert air.payloads("node") == [b"downlink"]
    assert air.got["node"][0].cr == 1
    assert air.got["plain"] == []


@pytest.mark.unit
def test_rssi_is_power_minus_path_loss_and_snr_is_against_the_noise_floor(air: Air) -> None:
    sender, _ = air.join("a"), air.join("b", CH1)
    air.medium.set_path_loss("a", "b", 125)
    tx = sender.transmit(b"far", CH1, 14)
    air.run_to(tx.end + 1)
    (frame,) = air.got["b"]
    assert frame.rssi == pytest.approx(-111)
    floor = -174 + 10 * math.log10(125_000) + 6
    assert noise_floor_dbm(125_000) == pytest.approx(floor)
    assert frame.snr == pytest.approx(-111 - floor)  # about +6 dB


@pytest.mark.unit
def test_the_default_path_loss_is_free_space_at_ten_metres(air: Air) -> None:
    sender, _ = air.join("a"), air.join("b", CH1)
    tx = sender.transmit(b"near", CH1, 14)
    air.run_to(tx.end + 1)
    expected = 14 - free_space_path_loss(10, 868_100_000)
    assert air.got["b"][0].rssi == pytest.approx(expected)
    assert -40 < expected < -35
    assert air.got["b"][0].snr == SNR_CEILING_DB


@pytest.mark.unit
@pytest.mark.parametrize("sf", [7, 12])
def test_a_frame_below_the_demodulation_floor_of_its_sf_is_lost(air: Air, sf: int) -> None:
    params = RadioParams(868_100_000, sf, 125_000)
    sender, _ = air.join("a"), air.join("b", params)
    floor = noise_floor_dbm(125_000)
    for margin in (+0.5, -0.5):  # SNR half a dB above, then below, the floor
        air.medium.set_path_loss("a", "b", 14 - (floor + DEMOD_FLOOR_DB[sf] + margin))
        tx = sender.transmit(b"edge", params, 14, start=air.now)
        air.run_to(tx.end + 1)
    (frame,) = air.got["b"]
    assert frame.snr == pytest.approx(DEMOD_FLOOR_DB[sf] + 0.5)


@pytest.mark.unit
def test_overlapping_frames_of_equal_strength_collide(air: Air) -> None:
    a, b = air.join("a"), air.join("b")
    air.join("rx", CH1)
    first = a.transmit(b"one", CH1)
    air.now = first.start + 0.01
    second = b.transmit(b"two", CH1)
    air.run_to(second.end + 1)
    assert air.got["rx"] == []


@pytest.mark.unit
def test_capture_effect_the_frame_six_db_stronger_survives(air: Air) -> None:
    a, b = air.join("a"), air.join("b")
    air.join("rx", CH1)
    air.medium.set_path_loss("a", "rx", 80)
    air.medium.set_path_loss("b", "rx", 86)  # b arrives exactly 6 dB weaker
    strong = a.transmit(b"strong", CH1)
    b.transmit(b"weak", CH1, start=strong.start + 0.005)
    air.run_to(strong.end + 1)
    assert air.payloads("rx") == [b"strong"]


@pytest.mark.unit
def test_capture_needs_six_db(air: Air) -> None:
    a, b = air.join("a"), air.join("b")
    air.join("rx", CH1)
    air.medium.set_path_loss("a", "rx", 80)
    air.medium.set_path_loss("b", "rx", 85.5)
    strong = a.transmit(b"strong", CH1)
    b.transmit(b"weak", CH1, start=strong.start + 0.005)
    air.run_to(strong.end + 1)
    assert air.got["rx"] == []


@pytest.mark.unit
def test_other_spreading_factors_and_frames_after_the_end_do_not_collide(air: Air) -> None:
    sf9 = RadioParams(868_100_000, 9, 125_000)
    a, b = air.join("a"), air.join("b")
    air.join("rx7", CH1)
    air.join("rx9", sf9)
    one = a.transmit(b"sf7", CH1)
    b.transmit(b"sf9", sf9, start=one.start)
    a.transmit(b"again", CH1, start=one.end)  # back to back: no overlap
    air.run_to(one.start + 10)
    assert air.payloads("rx7") == [b"sf7", b"again"]
    assert air.payloads("rx9") == [b"sf9"]


@pytest.mark.unit
def test_a_transmitting_radio_cannot_receive(air: Air) -> None:
    a = air.join("a")
    b = air.join("b", CH1)
    frame = a.transmit(b"to b", CH1)
    own = b.transmit(b"b talks", RadioParams(868_300_000, 7, 125_000), start=frame.start + 0.01)
    assert b.receiving(own.start) == ()
    assert b.transmitting(own.start) == own
    assert b.receiving(own.end + 1) == (CH1,)  # back to listening after TxDone
    later = a.transmit(b"later", CH1, start=own.end + 0.5)
    air.run_to(later.end + 1)
    assert air.payloads("b") == [b"later"]


@pytest.mark.unit
def test_an_rx_window_catches_a_preamble_and_receives_past_its_end(air: Air) -> None:
    a, b = air.join("a"), air.join("b")
    tx = a.transmit(b"downlink!", CH1, start=T0 + 1.0)
    b.open_window(CH1, start=T0 + 0.99, length=0.02)  # ends long before the frame does
    late = a.transmit(b"too late", CH1, start=T0 + 1.5)
    air.run_to(late.end + 1)
    assert air.payloads("b") == [b"downlink!"]
    assert b.receiving(tx.start) == (CH1,)
    assert b.receiving(T0 + 1.2) == ()


@pytest.mark.unit
def test_a_window_opened_after_the_preamble_misses_the_frame(air: Air) -> None:
    a, b = air.join("a"), air.join("b")
    tx = a.transmit(b"missed", CH1, start=T0 + 1.0)
    b.open_window(CH1, start=tx.preamble_end + 0.001, length=1.0)
    air.run_to(tx.end + 1)
    assert air.got["b"] == []


@pytest.mark.unit
def test_standby_during_a_frame_loses_it_and_listening_again_does_not_abort(air: Air) -> None:
    a, b = air.join("a"), air.join("b", CH1)
    first = a.transmit(b"first", CH1)
    b.listen(CH1, at=first.start + 0.01)  # already listening so: nothing changes
    air.run_to(first.end + 0.1)
    second = a.transmit(b"second", CH1)
    b.standby(second.start + 0.02)
    air.run_to(second.end + 1)
    assert air.payloads("b") == [b"first"]
    assert b.receiving() == ()


@pytest.mark.unit
def test_channel_rssi_reads_the_strongest_frame_on_the_channel(air: Air) -> None:
    a, b = air.join("a"), air.join("b")
    air.medium.set_path_loss("a", "b", 100)
    assert b.channel_rssi(868_100_000) == pytest.approx(noise_floor_dbm(125_000))
    tx = a.transmit(b"busy", CH1, 14)
    assert b.channel_rssi(868_100_000, at=tx.start + 0.001) == pytest.approx(-86)
    assert b.channel_rssi(868_500_000, at=tx.start + 0.001) == pytest.approx(noise_floor_dbm(125_000))


@pytest.mark.unit
def test_member_ids_are_unique_and_a_member_that_left_hears_nothing(air: Air) -> None:
    a, b = air.join("a"), air.join("b", CH1)
    with pytest.raises(ValueError, match="already a member"):
        air.medium.member("b")
    b.leave()
    tx = a.transmit(b"gone", CH1)
    air.run_to(tx.end + 1)
    assert air.got["b"] == []
    assert air.medium.members() == ["a"]


@pytest.mark.unit
def test_the_wire_format_round_trips_and_refuses_garbage() -> None:
    tx = Transmission("gw", 869_525_000, 9, 125_000, 1, True, 27.0, bytes(range(200)), 5.0, 5.5, 8, False)
    assert decode(encode(tx)) == tx
    for bad in (b"", b"{}", b"not json", b'{"v": 2}', encode(tx).replace(b'"sf":9', b'"sf":99')):
        with pytest.raises(ValueError):
            decode(bad)


@pytest.mark.unit
def test_the_thread_delivers_on_the_host_clock() -> None:
    medium = Medium.named(f"unit-{uuid.uuid4().hex}")
    try:
        got: list[Reception] = []
        arrived = threading.Event()

        def receive(frame: Reception) -> None:
            got.append(frame)
            arrived.set()

        sender = Medium.join(medium.name, "a")
        Medium.join(medium.name, "b", receive).listen(CH1)
        tx = sender.transmit(b"live", CH1)
        assert arrived.wait(5)
        assert time.monotonic() >= tx.end
        assert got[0].at == tx.end and got[0].payload == b"live"
    finally:
        medium.close()


# -- across processes --------------------------------------------------------------------------------

PEER = textwrap.dedent(
    """
    import sys, threading, time
    from network.lora.medium import Medium, RadioParams

    name, me, address, role = sys.argv[1:5]
    ch = RadioParams(868_100_000, 7, 125_000)
    got = threading.Event()
    frames = []

    def receive(frame):
        frames.append(frame)
        print("got %s rssi=%.1f snr=%.1f from %s" % (frame.payload.decode(), frame.rssi, frame.snr,
              frame.sender), flush=True)
        got.set()

    member = Medium.join(name, me, receive, across_processes=True, address=address)
    member.listen(ch)
    print("ready", flush=True)
    if role == "pinger":
        deadline = time.monotonic() + 10
        while not member.medium.peers() and time.monotonic() < deadline:
            time.sleep(0.01)
        member.transmit(b"ping", ch)
    if not got.wait(10):
        print("nothing heard", flush=True)
        sys.exit(1)
    if role == "ponger":
        member.transmit(b"pong", ch)
        time.sleep(0.3)  # stay on the air until the frame has ended
    """
)


@pytest.mark.process
def test_two_processes_on_one_medium_exchange_frames(tmp_path, spawn) -> None:
    script = tmp_path / "peer.py"
    script.write_text(PEER)
    name = f"xproc-{uuid.uuid4().hex}"
    ponger = spawn([*python_script(script), name, "pong-node", free_loopback_ip(0), "ponger"])
    assert ponger.wait_for(lambda out: "ready" in out, 20), ponger.output
    pinger = spawn([*python_script(script), name, "ping-node", free_loopback_ip(0), "pinger"])
    assert pinger.wait_for(lambda out: "got pong" in out, 20), pinger.output + ponger.output
    assert ponger.wait_for(lambda out: "got ping" in out, 5), ponger.output
    assert "from ping-node" in ponger.output and "from pong-node" in pinger.output
    assert "rssi=-37.2 snr=10.0" in ponger.output  # free space at 10 m, 14 dBm
    assert pinger.wait(10) == 0 and ponger.wait(10) == 0


@pytest.mark.process
def test_processes_on_different_medium_names_never_meet(tmp_path, spawn) -> None:
    script = tmp_path / "peer.py"
    script.write_text(
        PEER.replace("got.wait(10)", "got.wait(1.5)").replace("monotonic() + 10", "monotonic() + 1")
    )
    ponger = spawn([*python_script(script), f"a-{uuid.uuid4().hex}", "x", free_loopback_ip(0), "ponger"])
    assert ponger.wait_for(lambda out: "ready" in out, 20), ponger.output
    pinger = spawn([*python_script(script), f"b-{uuid.uuid4().hex}", "y", free_loopback_ip(0), "pinger"])
    assert pinger.wait(20) == 1 and ponger.wait(20) == 1
    assert "nothing heard" in pinger.output and "nothing heard" in ponger.output


SENDER = textwrap.dedent(
    """
    import sys, time
    from network.lora.medium import Medium, RadioParams

    name, me, address, payload, first, second, power_second = sys.argv[1:8]
    ch = RadioParams(868_100_000, 7, 125_000)
    member = Medium.join(name, me, across_processes=True, address=address)
    deadline = time.monotonic() + 10
    while not member.medium.peers() and time.monotonic() < deadline:
        time.sleep(0.01)
    member.transmit(payload.encode(), ch, 14, start=float(first))
    last = member.transmit(payload.encode(), ch, float(power_second), start=float(second))
    time.sleep(max(last.end - time.monotonic(), 0) + 0.2)
    print("sent", flush=True)
    """
)


@pytest.mark.process
def test_frames_from_two_processes_collide_unless_one_is_six_db_stronger(tmp_path, spawn) -> None:
    script = tmp_path / "sender.py"
    script.write_text(SENDER)
    name = f"collide-{uuid.uuid4().hex}"
    got: list[Reception] = []
    medium = Medium.named(name, across_processes=True, address=free_loopback_ip(0))
    try:
        medium.member("gateway", got.append).listen(CH1)
        first = time.monotonic() + 3.0  # both processes have started and met the medium by then
        second = first + 0.5
        for me, power in (("loud", "14"), ("quiet", "7")):
            args = [name, me, free_loopback_ip(0), me, str(first), str(second), power]
            spawn([*python_script(script), *args])
        deadline = second + 5
        while not got and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        assert {tx.sender for tx in medium.on_air(first + 0.01)} == {"loud", "quiet"}  # both on the air
        assert [(r.payload, r.sender) for r in got] == [(b"loud", "loud")]  # the first pair collided
        assert got[0].at == pytest.approx(second + time_on_air(4, 7, 125_000, 1))
    finally:
        medium.close()
