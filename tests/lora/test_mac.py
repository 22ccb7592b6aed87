"""The sans-I/O LoRaWAN 1.0.2 device (``network.lora.mac``) against hand-checked vectors (FIPS-197,
RFC 4493, the LoRaWAN 1.0.2 formulas, LoRaMac-node's window arithmetic at firmware 1.20.2.r6), and
``peer`` tests against lora-packet (npm), an implementation we did not write: JoinAccept and session
keys, uplinks decrypted and MIC-checked, downlinks built by it (ACK, FOpts MAC commands)."""

from __future__ import annotations

import json
import math

import pytest
from lorapacket_oracle import LoraPacket
from lorapacket_oracle import lorapacket as lorapacket  # the fixture
from macnet import APP_EUI, APP_KEY, APP_SKEY, DEV_ADDR, DEV_EUI, NWK_SKEY, Net, joined_device

from network.lora import crypto, frames
from network.lora.mac import Device
from network.lora.macactions import (
    Deliver,
    Joined,
    JoinFailed,
    OpenWindow,
    SendRefused,
    Transmit,
    TxDone,
    TxFailed,
)

unit = pytest.mark.unit
peer = pytest.mark.peer


# -- cryptography ------------------------------------------------------------------------------------


@unit
def test_aes_and_cmac_vectors() -> None:
    # FIPS-197 appendix C.1; RFC 4493 section 4 examples 1 and 2
    assert crypto.aes_encrypt(bytes(range(16)), bytes.fromhex("00112233445566778899aabbccddeeff")).hex() == (
        "69c4e0d86a7b0430d8cdb78070b4c55a"
    )
    key = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
    assert crypto.cmac(key, b"").hex() == "bb1d6929e95937287fa37d129b756746"
    message = bytes.fromhex("6bc1bee22e409f96e93d7e117393172a")
    assert crypto.cmac(key, message).hex() == "070a16b46b4d4144f79bdd9dd04a287c"


@unit
def test_a_published_uplink_decodes() -> None:
    # lora-packet's README example: DevAddr 49be7df1, FCnt 2, port 1, "test"
    frame = frames.DataFrame.parse(bytes.fromhex("40F17DBE4900020001954378762B11FF0D"))
    nwk = bytes.fromhex("44024241ed4ce9a68c6a8bc055233fd3")
    app = bytes.fromhex("ec925802ae430ca77fd3dd73cb2cc588")
    assert frame is not None and (frame.dev_addr, frame.fcnt16, frame.port) == (0x49BE7DF1, 2, 1)
    assert frame.mic_ok(nwk, 2) and not frame.mic_ok(app, 2)
    assert frame.plain(nwk, app, 2) == b"test"


@unit
def test_session_keys_follow_the_spec_formula() -> None:
    # LoRaWAN 1.0.2 6.2.5: NwkSKey = aes128_encrypt(AppKey, 0x01 | AppNonce | NetID | DevNonce | pad16)
    nonce, net_id, dev_nonce = bytes.fromhex("CDAB00"), bytes.fromhex("130000"), 0x1234
    nwk, app = crypto.session_keys(APP_KEY, nonce, net_id, dev_nonce)
    tail = nonce + net_id + b"\x34\x12" + bytes(7)
    assert nwk == crypto.aes_encrypt(APP_KEY, b"\x01" + tail)
    assert app == crypto.aes_encrypt(APP_KEY, b"\x02" + tail)


# -- OTAA ------------------------------------------------------------------------------------------


@unit
def test_join_request_then_accept_in_rx1() -> None:
    net = Net(Device("EU868", 0.0, seed=3))
    net.take(net.device.join(DEV_EUI, APP_EUI, APP_KEY, 5, 0.0))
    tx = net.transmits[0]
    request = frames.JoinRequest.parse(tx.frame)
    assert request is not None and request.mic_ok(APP_KEY, tx.frame)
    assert (request.dev_eui, request.app_eui) == (DEV_EUI, APP_EUI)
    assert tx.frame[1:9] == APP_EUI[::-1]  # little-endian on air
    assert (tx.dr, tx.sf, tx.bw_hz, tx.at) == (5, 7, 125000, 0.0)
    assert tx.freq_hz in (868_100_000, 868_300_000, 868_500_000)
    assert tx.tx_power_dbm == 13  # floor(16 dBm EIRP - 2.15 dBi)
    rx1 = net.window(0)
    # JOIN_ACCEPT_DELAY1 + offset - 2 ms; SF7: offset ceil(4*1.024 - 24*1.024/2 - 1) = -9 ms
    assert rx1.at == pytest.approx(tx.end + (5000 - 9 - 2) / 1000)
    assert (rx1.freq_hz, rx1.sf, rx1.iq_inverted) == (tx.freq_hz, 7, True)
    accept = frames.join_accept(APP_KEY, 0x00ABCD, 0x13, DEV_ADDR, rx1_dr_offset=1, rx2_dr=3, rx_delay=2)
    net.downlink(accept, rx1)
    joined = net.wait(Joined)
    assert isinstance(joined, Joined) and (joined.dev_addr, joined.net_id) == (DEV_ADDR, 0x13)
    assert net.device.joined and net.device.fcnt_up == 0
    nwk, app = crypto.session_keys(APP_KEY, b"\xcd\xab\x00", b"\x13\x00\x00", request.dev_nonce)
    assert (net.device.session.nwk_skey, net.device.session.app_skey) == (nwk, app)
    p = net.device.params
    assert (p.rx1_dr_offset, p.rx2_dr, p.receive_delay1, p.receive_delay2) == (1, 3, 2000, 3000)
    assert not net.of(OpenWindow)[1:]  # RX2 is not opened once RX1 received


@unit
def test_no_accept_means_a_new_join_request_ten_seconds_later() -> None:
    net = Net(Device("EU868", 0.0, seed=4))
    net.take(net.device.join(DEV_EUI, APP_EUI, APP_KEY, 5, 0.0))
    first = frames.JoinRequest.parse(net.transmits[0].frame)
    rx2 = net.window(1)
    assert (rx2.freq_hz, rx2.dr, rx2.sf) == (869_525_000, 0, 12)
    assert rx2.at == pytest.approx(net.transmits[0].end + (6000 + 32 - 3) / 1000)
    failed = net.wait(JoinFailed)
    assert isinstance(failed, JoinFailed) and failed.status == "RX2_TIMEOUT"
    second = net.until(lambda a: isinstance(a, Transmit))
    assert isinstance(second, Transmit) and second.at == pytest.approx(10.0)  # modlora's 10 s timer
    request = frames.JoinRequest.parse(second.frame)
    assert first is not None and request is not None and request.dev_nonce != first.dev_nonce


@unit
def test_an_accept_under_another_key_is_refused() -> None:
    net = Net(Device("EU868", 0.0, seed=5))
    net.take(net.device.join(DEV_EUI, APP_EUI, APP_KEY, 5, 0.0))
    net.downlink(frames.join_accept(bytes(16), 1, 0x13, DEV_ADDR), net.window(0))
    failed = net.wait(JoinFailed)
    assert isinstance(failed, JoinFailed) and failed.status == "JOIN_FAIL" and not net.device.joined


# -- uplinks and downlinks ---------------------------------------------------------------------------


@unit
def test_unconfirmed_uplinks_count_up_and_decrypt() -> None:
    net, nwk, app = joined_device()
    for n, payload in enumerate((b"hello", bytes(range(40)), b"")):
        net.run(5.0)
        tx = net.send(2, payload) if payload else None
        if tx is None:
            continue
        frame = frames.DataFrame.parse(tx.frame)
        assert frame is not None and frame.kind == frames.UNCONFIRMED_UP
        assert (frame.dev_addr, frame.fcnt16, frame.port, frame.ack) == (DEV_ADDR, n, 2, False)
        assert frame.mic_ok(nwk, n) and frame.plain(nwk, app, n) == payload
        done = net.wait(TxDone)
        assert isinstance(done, TxDone) and done.fcnt_up == n and not done.confirmed
        # no downlink: the exchange ends at the first 1 s state check after RX2's timeout
        assert done.at == pytest.approx(tx.at + 3.0)
    assert net.device.fcnt_up == 2


@unit
def test_rx_windows_of_a_data_uplink_eu868() -> None:
    net, _, _ = joined_device()
    net.run(5.0)
    tx = net.send(1, b"x", dr=5)
    rx1, rx2 = net.window(0), net.window(1)
    assert rx1.at == pytest.approx(tx.end + (1000 - 9 - 1) / 1000)  # RECEIVE_DELAY1 + offset - 1
    assert rx1.length == pytest.approx(72 * 1.024e-3)  # 24 symbols, tripled by Pycom
    assert (rx1.freq_hz, rx1.dr) == (tx.freq_hz, 5)
    assert rx2.at == pytest.approx(tx.end + (2000 + 32 - 2) / 1000)
    assert rx2.length == pytest.approx(18 * 32.768e-3)
    assert (rx2.freq_hz, rx2.dr, rx2.sf, rx2.bw_hz) == (869_525_000, 0, 12, 125000)


def _window(sf: int, bw: int, factor: int = 3) -> tuple[float, int]:
    """LoRaMac-node's RX window: (length s, offset ms) for MIN_RX_SYMBOLS 6, SYSTEM_MAX_RX_ERROR 10."""
    t = (1 << sf) / bw * 1000
    symbols = max(math.ceil((4 * t + 20) / t), 6)
    return symbols * factor * t / 1000, math.ceil(4 * t - symbols * t / 2 - 1)


@unit
@pytest.mark.parametrize(
    ("region", "dr", "rx1", "rx2", "factor"),
    [
        # region, uplink DR, (RX1 DR, SF, BW), (RX2 freq, DR, SF, BW), symbol timeout factor
        ("US915", 0, (10, 10, 500000), (923_300_000, 8, 12, 500000), 3),
        ("US915", 3, (13, 7, 500000), (923_300_000, 8, 12, 500000), 3),
        ("AU915", 2, (10, 10, 500000), (923_300_000, 8, 12, 500000), 3),
        ("AS923", 2, (2, 10, 125000), (923_200_000, 2, 10, 125000), 3),
        ("CN470", 1, (1, 11, 125000), (505_300_000, 0, 12, 125000), 3),
        ("IN865", 4, (4, 8, 125000), (866_550_000, 2, 10, 125000), 1),
    ],
)
def test_rx_windows_per_region(
    region: str, dr: int, rx1: tuple[int, int, int], rx2: tuple[int, int, int, int], factor: int
) -> None:
    net, _, _ = joined_device(region, dr={"US915": 0, "AU915": 0, "AS923": 2}.get(region, 5))
    net.run(5.0)
    tx = net.send(1, b"x", dr=dr)
    assert tx.dr == dr
    first, second = net.window(0), net.window(1)
    length, offset = _window(rx1[1], rx1[2], factor)
    assert (first.dr, first.sf, first.bw_hz) == rx1
    assert first.length == pytest.approx(length)
    assert first.at == pytest.approx(tx.end + (1000 + offset - 1) / 1000)
    if region in ("US915", "AU915"):
        channel = (tx.freq_hz - (902_300_000 if region == "US915" else 915_200_000)) // 200_000
        assert first.freq_hz == 923_300_000 + (channel % 8) * 600_000
    elif region == "CN470":
        assert first.freq_hz == 500_300_000 + ((tx.freq_hz - 470_300_000) // 200_000 % 48) * 200_000
    else:
        assert first.freq_hz == tx.freq_hz
    length, offset = _window(rx2[2], rx2[3], factor)
    assert (second.freq_hz, second.dr, second.sf, second.bw_hz) == rx2
    assert second.length == pytest.approx(length)
    assert second.at == pytest.approx(tx.end + (2000 + offset - 2) / 1000)


@unit
def test_downlink_delivered_on_its_port_in_rx1_and_rx2() -> None:
    net, nwk, app = joined_device()
    net.run(5.0)
    tx = net.send(2, b"ping")
    down = frames.data_frame(frames.UNCONFIRMED_DOWN, DEV_ADDR, 0, nwk, app, port=7, payload=b"pong")
    net.downlink(down, net.window(0), rssi=-71.4, snr=6.6)
    delivered = net.wait(Deliver)
    assert isinstance(delivered, Deliver)
    assert (delivered.port, delivered.payload, delivered.rssi, delivered.snr, delivered.slot) == (
        7,
        b"pong",
        -71,
        7,
        0,
    )
    done = net.wait(TxDone)
    assert done.at == pytest.approx(delivered.at) and done.at < tx.at + 1.2  # RX2 skipped
    net.run(5.0)
    net.send(2, b"again")
    down = frames.data_frame(frames.UNCONFIRMED_DOWN, DEV_ADDR, 1, nwk, app, port=9, payload=bytes(30))
    net.downlink(down, net.window(1))
    delivered = net.wait(Deliver)
    assert isinstance(delivered, Deliver) and (delivered.port, delivered.payload, delivered.slot) == (
        9,
        bytes(30),
        1,
    )
    assert net.device.fcnt_down == 1


@unit
def test_a_frame_caught_late_in_rx2_outlives_the_window() -> None:
    net, nwk, app = joined_device()
    net.run(5.0)
    net.send(2, b"x")
    rx2 = net.window(1)
    down = frames.data_frame(frames.UNCONFIRMED_DOWN, DEV_ADDR, 0, nwk, app, port=6, payload=bytes(20))
    end = rx2.at + 0.5 + 1.3  # its preamble starts late in the window; SF12 lasts
    net.take(net.device.detected(end, rx2.at + 0.55))
    assert not [a for a in net.run(end - net.now - 0.01) if isinstance(a, TxDone)]
    net.now = end
    net.take(net.device.received(down, -80, -3, at=end))
    delivered = net.wait(Deliver)
    assert isinstance(delivered, Deliver) and (delivered.port, delivered.slot) == (6, 1)


@unit
def test_a_detected_frame_never_received_is_lost() -> None:
    net, _, _ = joined_device()
    net.run(5.0)
    tx = net.send(2, b"x")
    rx1 = net.window(0)
    net.take(net.device.detected(rx1.at + 1.5, rx1.at + 0.01))  # RX1 busy when RX2 is due
    done = net.wait(TxDone)
    assert not net.of(OpenWindow)[-1].slot  # RX2 was not opened: the radio was receiving
    assert done.at == pytest.approx(tx.at + 3.0)  # RX error (slot 0) late enough: the next state check


@unit
def test_a_join_request_after_a_long_one_waits_for_the_join_duty_cycle() -> None:
    net = Net(Device("EU868", 0.0, seed=12))
    net.take(net.device.join(DEV_EUI, APP_EUI, APP_KEY, 0, 0.0))
    first = net.transmits[0]
    assert first.dr == 0 and first.airtime > 1.0
    net.wait(JoinFailed)
    second = net.until(lambda a: isinstance(a, Transmit), limit=300)
    # band time-off T * 100 - T (1 % in the first hour, even with the duty cycle off); then a delayed
    # join request is prepared again: a new DevNonce, at the data rate of trial 1 (DR5)
    toa_ms = math.floor(first.airtime * 1000 + 0.999)
    assert isinstance(second, Transmit) and second.at == pytest.approx(
        first.end + 99 * toa_ms / 1000, abs=0.002
    )
    assert second.dr == 5
    one, two = frames.JoinRequest.parse(first.frame), frames.JoinRequest.parse(second.frame)
    assert one is not None and two is not None and one.dev_nonce != two.dev_nonce


@unit
def test_repeated_or_forged_downlinks_are_dropped() -> None:
    net, nwk, app = joined_device()
    down = frames.data_frame(frames.UNCONFIRMED_DOWN, DEV_ADDR, 3, nwk, app, port=1, payload=b"a")
    for frame in (
        down,
        down,
        frames.data_frame(frames.UNCONFIRMED_DOWN, DEV_ADDR, 4, app, nwk, port=1, payload=b"b"),
    ):
        net.run(5.0)
        net.send(2, b"x")
        net.downlink(frame, net.window(0))
        net.wait(TxDone)
    assert [(d.port, d.payload) for d in net.of(Deliver)] == [(1, b"a")]
    assert net.device.fcnt_down == 3


@unit
def test_confirmed_uplink_acked() -> None:
    net, nwk, app = joined_device()
    net.run(5.0)
    tx = net.send(3, b"confirm me", confirmed=True)
    frame = frames.DataFrame.parse(tx.frame)
    assert frame is not None and frame.kind == frames.CONFIRMED_UP
    ack = frames.data_frame(frames.UNCONFIRMED_DOWN, DEV_ADDR, 0, nwk, app, ack=True)
    net.downlink(ack, net.window(0))
    done = net.wait(TxDone)
    assert isinstance(done, TxDone) and done.confirmed and done.ack_received and done.nb_retries == 1
    assert not net.of(Deliver) and net.device.fcnt_up == 1


@unit
def test_confirmed_uplink_retried_then_failed() -> None:
    net, _, _ = joined_device()
    net.run(5.0)
    first = net.send(3, b"nobody listens", confirmed=True, dr=5, retries=3)
    failed = net.wait(TxFailed, limit=60)
    tries = net.transmits[-4:]
    assert tries[0] is first and len({t.frame[:9] for t in tries}) == 1  # same FCnt, same frame
    assert [t.dr for t in tries] == [5, 5, 4, 4]  # one DR lower every second retransmission
    assert isinstance(failed, TxFailed) and failed.status == "RX2_TIMEOUT" and failed.nb_retries == 4
    assert net.device.fcnt_up == 1
    gaps = [b.at - a.end for a, b in zip(tries, tries[1:], strict=False)]
    assert all(3.0 <= gap <= 6.0 for gap in gaps)  # RX2 + ACK_TIMEOUT 2 s +- 1 s, next state check


@unit
def test_confirmed_downlink_is_acked_by_the_next_uplink() -> None:
    net, nwk, app = joined_device()
    net.run(5.0)
    net.send(2, b"x")
    down = frames.data_frame(frames.CONFIRMED_DOWN, DEV_ADDR, 0, nwk, app, port=4, payload=b"need ack")
    net.downlink(down, net.window(0))
    delivered = net.wait(Deliver)
    assert isinstance(delivered, Deliver) and delivered.confirmed
    net.run(5.0)
    frame = frames.DataFrame.parse(net.send(2, b"y").frame)
    assert frame is not None and frame.ack


@unit
def test_too_long_for_the_data_rate_is_refused() -> None:
    net, _, _ = joined_device()
    assert net.device.payload_fits(51, 0) and not net.device.payload_fits(52, 0)
    net.run(5.0)
    actions = net.take(net.device.send(2, bytes(60), net.now, dr=0))
    refused = [a for a in actions if isinstance(a, SendRefused)]
    assert refused and refused[0].msg_size
    # modlora sends an empty frame instead, to flush pending MAC commands: MHDR, FHDR, MIC
    sent = [a for a in actions if isinstance(a, Transmit)]
    frame = frames.DataFrame.parse(sent[0].frame)
    assert frame is not None and frame.port is None and len(sent[0].frame) == 12 and frame.fcnt16 == 0


@unit
def test_downlink_counter_past_16_bits() -> None:
    net, nwk, app = joined_device()
    net.device.session.fcnt_down = 0xFFF0
    net.run(5.0)
    net.send(2, b"x")
    down = frames.data_frame(frames.UNCONFIRMED_DOWN, DEV_ADDR, 0x10005, nwk, app, port=5, payload=b"rolled")
    net.downlink(down, net.window(0))
    assert isinstance(net.wait(Deliver), Deliver) and net.device.fcnt_down == 0x10005


# -- ABP, save and restore -------------------------------------------------------------------------


@unit
def test_abp_and_save_restore() -> None:
    net = Net(Device("EU868", 0.0, seed=9))
    assert net.take(net.device.activate_abp(DEV_ADDR, NWK_SKEY, APP_SKEY, 0.0)) == []
    for _ in range(3):
        net.send(2, b"abp")
        net.wait(TxDone)
    saved = json.loads(json.dumps(net.device.save()))
    again = Net(Device("EU868", 100.0, seed=10))
    again.device.restore(saved)
    assert again.device.joined and again.device.fcnt_up == 3
    frame = frames.DataFrame.parse(again.send(2, b"after reboot").frame)
    assert frame is not None and frame.fcnt16 == 3 and frame.mic_ok(NWK_SKEY, 3)
    assert frame.plain(NWK_SKEY, APP_SKEY, 3) == b"after reboot"
    with pytest.raises(ValueError):
        Device("US915").restore(saved)


# -- lora-packet -------------------------------------------------------------------------------------


@peer
def test_join_with_lora_packet(lorapacket: LoraPacket) -> None:
    net = Net(Device("EU868", 0.0, seed=11))
    net.take(net.device.join(DEV_EUI, APP_EUI, APP_KEY, 5, 0.0))
    request = lorapacket.call("decode", frame=net.transmits[0].frame, app_key=APP_KEY)
    assert request["mtype"] == "Join Request" and request["mic_ok"]
    assert (bytes.fromhex(request["dev_eui"]), bytes.fromhex(request["app_eui"])) == (DEV_EUI, APP_EUI)
    cflist = (
        (867_100_000 // 100).to_bytes(3, "little") + (867_300_000 // 100).to_bytes(3, "little") + bytes(10)
    )
    accept = lorapacket.call(
        "join_accept", app_key=APP_KEY, app_nonce="0a0b0c", net_id="000013", dev_addr=f"{DEV_ADDR:08x}",
        dl_settings=0x12, rx_delay=1, cflist=cflist,
    )  # fmt: skip
    net.downlink(bytes.fromhex(accept["frame"]), net.window(0))
    assert isinstance(net.wait(Joined), Joined) and net.device.dev_addr == DEV_ADDR
    keys = lorapacket.call("session_keys", app_key=APP_KEY, net_id="000013", app_nonce="0a0b0c",
                           dev_nonce=request["dev_nonce"])  # fmt: skip
    assert net.device.session.nwk_skey.hex() == keys["nwk_skey"]
    assert net.device.session.app_skey.hex() == keys["app_skey"]
    assert (net.device.params.rx1_dr_offset, net.device.params.rx2_dr) == (1, 2)
    assert [c.freq for c in net.device.plan.channels[3:6]] == [867_100_000, 867_300_000, 0]


@peer
def test_uplinks_read_by_lora_packet(lorapacket: LoraPacket) -> None:
    net, nwk, app = joined_device()
    for n, payload in enumerate((b"hello", bytes(range(33)), b"\xff" * 51)):
        net.run(5.0)
        tx = net.send(10 + n, payload, dr=0 if len(payload) == 51 else 5)
        seen = lorapacket.call("decode", frame=tx.frame, nwk_skey=nwk, app_skey=app)
        assert (seen["mtype"], seen["dev_addr"], seen["fcnt"], seen["fport"]) == (
            "Unconfirmed Data Up",
            f"{DEV_ADDR:08x}",
            n,
            10 + n,
        )
        assert seen["mic_ok"] and bytes.fromhex(seen["payload"]) == payload
        net.wait(TxDone)
    net.device.session.fcnt_up = 0x1_0002  # past 16 bits: the MIC covers all 32
    net.run(5.0)
    seen = lorapacket.call(
        "decode", frame=net.send(1, b"big").frame, nwk_skey=nwk, app_skey=app, fcnt_msb="0100"
    )
    assert seen["fcnt"] == 2 and seen["mic_ok"] and seen["payload"] == b"big".hex()


@peer
def test_downlinks_built_by_lora_packet(lorapacket: LoraPacket) -> None:
    net, nwk, app = joined_device()
    net.run(5.0)
    confirmed = net.send(3, b"ack me", confirmed=True)
    assert (
        lorapacket.call("decode", frame=confirmed.frame, nwk_skey=nwk, app_skey=app)["mtype"]
        == "Confirmed Data Up"
    )
    # ACK + a confirmed downlink on port 8 with DevStatusReq in FOpts
    down = lorapacket.call(
        "data", mtype="Confirmed Data Down", dev_addr=f"{DEV_ADDR:08x}", fcnt=0, fport=8, payload=b"from lp",
        fopts="06", ack=True, nwk_skey=nwk, app_skey=app,
    )  # fmt: skip
    net.downlink(bytes.fromhex(down["frame"]), net.window(0), snr=9)
    delivered = net.wait(Deliver)
    assert isinstance(delivered, Deliver) and (delivered.port, delivered.payload) == (8, b"from lp")
    done = net.wait(TxDone)
    assert isinstance(done, TxDone) and done.ack_received
    net.run(5.0)
    seen = lorapacket.call("decode", frame=net.send(3, b"next").frame, nwk_skey=nwk, app_skey=app)
    assert seen["ack"] and seen["mic_ok"] and seen["fcnt"] == 1
    assert seen["fopts"] == "06ff09"  # DevStatusAns: battery 255 (no measure), margin = SNR 9
    assert seen["payload"] == b"next".hex()
