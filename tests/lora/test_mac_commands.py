"""The LoRaWAN 1.0.2 MAC commands as LoRaMac-node answers them (``ProcessMacCommands``,
``AddMacCommand``, ``Region*LinkAdrReq`` ... at firmware 1.20.2.r6): a downlink carries the request,
the next uplink's FOpts the answer, and what the answer says is what the device does afterwards."""

from __future__ import annotations

import pytest
from macnet import DEV_ADDR, joined_device

from network.lora import frames
from network.lora.macactions import LinkChecked, OpenWindow, ScheduleUplink, SendRefused, Transmit, TxDone

pytestmark = pytest.mark.unit


def freq3(hz: int) -> str:
    return (hz // 100).to_bytes(3, "little").hex()


class Session:
    """A joined device and the network side of its session."""

    def __init__(self, region: str = "EU868", adr: bool = False, dr: int = 5) -> None:
        self.net, self.nwk, self.app = joined_device(region, dr=dr)
        self.net.device.adr = adr
        self.fcnt_down = 0

    def command(self, fopts: str, port: int | None = None, payload: bytes = b"", snr: float = 7.0) -> None:
        """An uplink, answered in RX1 by a downlink with ``fopts`` (hex) in FOpts."""
        self.net.run(5.0)
        self.net.send(2, b"up")
        down = frames.data_frame(frames.UNCONFIRMED_DOWN, DEV_ADDR, self.fcnt_down, self.nwk, self.app,
                                 port=port, payload=payload, fopts=bytes.fromhex(fopts))  # fmt: skip
        self.fcnt_down += 1
        self.net.downlink(down, self.net.window(0), snr=snr)
        self.net.wait(TxDone)

    def uplink(self, payload: bytes = b"up", **kw: int) -> frames.DataFrame:
        self.net.run(5.0)
        frame = frames.DataFrame.parse(self.net.send(2, payload, **kw).frame)
        assert frame is not None and frame.mic_ok(self.nwk, self.net.device.fcnt_up)
        self.net.wait(TxDone)
        return frame

    def answers(self) -> str:
        """FOpts of the next uplink, hex."""
        return self.uplink().fopts.hex()


def test_link_check() -> None:
    s = Session()
    s.net.take(s.net.device.link_check(s.net.now))
    assert s.answers() == "02"  # LinkCheckReq rides on the next uplink; no answer: no confirm
    assert not s.net.of(LinkChecked)
    s.net.take(s.net.device.link_check(s.net.now))
    s.command("021403")  # the uplink carries LinkCheckReq; LinkCheckAns: margin 20 dB, 3 gateways
    assert frames.DataFrame.parse(s.net.transmits[-1].frame).fopts == b"\x02"  # type: ignore[union-attr]
    checked = s.net.of(LinkChecked)
    assert [(c.margin, c.gateways) for c in checked] == [(20, 3)]


def test_link_adr_with_adr_on() -> None:
    s = Session(adr=True)
    s.command("03" + "52" + "0700" + "01")  # DR5, TXPower 2, channels 0..2, ChMaskCntl 0, NbRep 1
    assert s.answers() == "0307"
    assert (s.net.device.params.datarate, s.net.device.params.tx_power) == (5, 2)
    s.net.run(5.0)
    tx = s.net.send(2, b"x")
    assert (tx.dr, tx.tx_power_dbm) == (5, 9)  # floor(16 - 2 * 2 - 2.15)
    frame = frames.DataFrame.parse(tx.frame)
    assert frame is not None and frame.adr


def test_link_adr_refusals() -> None:
    s = Session(adr=True)
    s.command("03" + "52" + "0F00" + "01")  # channel 3 is not defined: channel mask KO
    assert s.answers() == "0306"
    s.command("03" + "52" + "0800" + "01")  # and then no enabled channel takes DR5 either
    assert s.answers() == "0304"
    s.command("03" + "F2" + "0700" + "01")  # DR15 is no data rate: data rate KO
    assert s.answers() == "0305"
    s.command("03" + "5F" + "0700" + "01")  # TXPower 15 is past TX_POWER_7: power KO
    assert s.answers() == "0303"
    s.command("0352070001" + "0352070001")  # two blocks, two answers (the last block's status)
    assert s.answers() == "03070307"


def test_link_adr_with_adr_off() -> None:
    s = Session(adr=False)
    s.command("03" + "52" + "0700" + "01")  # ADR off: only DR/power 0xF may change the mask
    assert s.answers() == "0300"
    assert s.net.device.params.tx_power == 0
    s.command("03" + "FF" + "0300" + "02")  # keep DR and power, channels 0..1, NbRep 2
    assert s.answers() == "0307"
    assert s.net.device.plan.mask == [0b011] and s.net.device.params.nb_rep == 2
    s.net.run(5.0)
    before = len(s.net.transmits)
    s.net.send(2, b"twice")
    s.net.wait(TxDone)
    sent = s.net.transmits[before:]
    assert len(sent) == 2 and sent[0].frame == sent[1].frame  # NbRep: the same frame again
    assert {t.freq_hz for t in sent} <= {868_100_000, 868_300_000}


def test_duty_cycle() -> None:
    s = Session()
    s.command("0402")  # MaxDCycle 2: on air 1/4 of the time in aggregate
    assert s.answers() == "04"
    long = s.uplink(bytes(40), dr=0)  # about 2 s on air at SF12: the exchange ends before T * 3 passed
    assert long.port == 2
    actions = s.net.take(s.net.device.send(2, b"too soon", s.net.now, dr=0))
    assert not [a for a in actions if isinstance(a, Transmit)]  # LoRaMac-node delays it (TX_DELAYED)
    refused = s.net.take(s.net.device.send(2, b"meanwhile", s.net.now, dr=0))
    assert [a.status for a in refused if isinstance(a, SendRefused)] == ["BUSY"]


def test_rx_param_setup_is_sticky() -> None:
    s = Session()
    s.command("05" + "23" + freq3(869_525_000))  # RX1 offset 2, RX2 DR3
    assert s.net.of(ScheduleUplink)  # modlora prints "Trying to send uplink"
    assert s.answers() == "0507"
    assert s.answers() == "0507"  # repeated until a downlink comes
    p = s.net.device.params
    assert (p.rx1_dr_offset, p.rx2_dr, p.rx2_freq) == (2, 3, 869_525_000)
    s.net.run(5.0)
    tx = s.net.send(2, b"x", dr=5)
    rx1, rx2 = s.net.window(0), s.net.window(1)
    assert (tx.dr, rx1.dr, rx2.dr, rx2.sf) == (5, 3, 3, 9)
    s.net.wait(TxDone)
    s.command("")  # any downlink ends the repetition
    assert s.answers() == ""
    s.command("05" + "09" + freq3(869_525_000))  # DR9 is no EU868 data rate
    assert s.answers() == "0505"
    assert s.net.device.params.rx2_dr == 3


def test_dev_status() -> None:
    s = Session()
    s.command("06", snr=-5)
    assert s.answers() == "06fffb"  # 255: no measure; the SNR as the firmware gives it, a byte
    s.net.device.battery = 100  # LoRa.set_battery_level(100)
    s.command("06", snr=8)
    assert s.answers() == "066408"


def test_new_channel() -> None:
    s = Session()
    s.command("07" + "03" + freq3(867_100_000) + "50")  # channel 3 at 867.1 MHz, DR0..5
    assert s.answers() == "0703"
    assert (s.net.device.plan.channels[3].freq, s.net.device.plan.mask[0]) == (867_100_000, 0b1111)
    s.command("07" + "04" + freq3(900_000_000) + "50")  # not an EU868 frequency
    assert s.answers() == "0702"
    s.command("07" + "04" + freq3(867_300_000) + "05")  # max DR below min DR
    assert s.answers() == "0701"
    s.command("07" + "03" + "000000" + "00")  # frequency 0 removes channel 3
    assert s.answers() == "0703"
    assert s.net.device.plan.channels[3].freq == 0
    s.command("07" + "00" + "000000" + "00")  # a default channel cannot go
    assert s.answers() == "0700"


def test_rx_timing_setup() -> None:
    s = Session()
    s.command("0803")
    assert s.answers() == "08"
    s.net.run(5.0)
    tx = s.net.send(2, b"x", dr=5)
    assert s.net.window(0).at == pytest.approx(tx.end + (3000 - 9 - 1) / 1000)
    assert s.net.window(1).at == pytest.approx(tx.end + (4000 + 32 - 2) / 1000)
    s.net.wait(TxDone)
    s.command("0800")  # 0 means 1 s
    assert s.net.device.params.receive_delay1 == 1000


def test_tx_param_setup_only_in_as923() -> None:
    s = Session()
    s.command("093F")
    assert s.answers() == ""  # EU868 ignores it: no answer
    a = Session("AS923", dr=2)
    a.command("0905")  # no dwell limits, max EIRP 16 dBm
    assert a.answers() == "09"
    assert (a.net.device.params.uplink_dwell, a.net.device.params.max_eirp) == (0, 16)


def test_dl_channel() -> None:
    s = Session()
    s.command("0A" + "00" + freq3(869_100_000))
    assert s.answers() == "0a03"
    assert s.net.device.plan.channels[0].rx1_freq == 869_100_000
    s.command("0A" + "05" + freq3(868_900_000))  # channel 5 has no uplink frequency
    assert s.answers() == "0a01"
    s.command("0A" + "01" + freq3(800_000_000))
    assert s.answers() == "0a02"
    s.net.device.plan.mask = [0b001]  # only channel 0: its RX1 is elsewhere now
    s.net.run(5.0)
    tx = s.net.send(2, b"x")
    window = s.net.window(0)
    assert isinstance(window, OpenWindow) and (tx.freq_hz, window.freq_hz) == (868_100_000, 869_100_000)


def test_commands_on_port_0_and_an_unknown_one() -> None:
    s = Session()
    s.command("", port=0, payload=bytes.fromhex("06"))  # in FRMPayload, encrypted with NwkSKey
    assert s.answers().startswith("06ff")
    s.command("060B06")  # 0x0B is no 1.0.2 command: the parsing stops there
    assert s.answers().startswith("06ff") and len(s.answers()) == 0


def test_answers_too_long_for_fopts_go_on_port_0() -> None:
    s = Session()
    s.command("06" * 6)  # six DevStatusAns: 18 bytes, more than FOpts holds
    s.net.run(5.0)
    tx = s.net.send(2, b"app data")
    frame = frames.DataFrame.parse(tx.frame)
    assert frame is not None and frame.port == 0 and frame.fopts == b""
    commands = frame.plain(s.nwk, s.app, s.net.device.fcnt_up)
    assert commands == bytes.fromhex("06ff07") * 6  # the application's payload is not sent


def test_us915_sub_band_by_link_adr() -> None:
    s = Session("US915", adr=True, dr=0)
    # as a US915 network server selects sub-band 1: all 125 kHz off (ChMaskCntl 7), then 0..7 on
    s.command("03" + "30" + "0000" + "71" + "03" + "30" + "FF00" + "01")
    assert s.answers() == "03070307"
    assert s.net.device.plan.mask[:5] == [0x00FF, 0, 0, 0, 0]
    freqs = []
    for _ in range(8):
        s.net.run(5.0)
        freqs.append(s.net.send(2, b"hop").freq_hz)
        s.net.wait(TxDone)
    assert sorted(freqs) == [902_300_000 + i * 200_000 for i in range(8)]  # each channel once
    s.command("07" + "03" + freq3(903_100_000) + "30")  # no NewChannelReq in a fixed plan
    assert s.answers() == "0700"
    s.command("03" + "30" + "0100" + "01")  # one 125 kHz channel is not enough (FCC 15.247)
    assert s.answers() == "0306"
