"""A network server for the tests of the sans-I/O LoRaWAN device (``network.lora.mac``): it plays the
radio and the time for one device -- ticks it from deadline to deadline, keeps what it transmitted
and which windows it opened, and puts a downlink into a window as a gateway would (the frame starts
just after the receiver opened, and ends after its time on air)."""

from __future__ import annotations

from collections.abc import Callable

from network.lora import airtime, frames
from network.lora.mac import Device
from network.lora.macactions import Action, Joined, OpenWindow, Transmit

APP_KEY = bytes.fromhex("2B7E151628AED2A6ABF7158809CF4F3C")
DEV_EUI = bytes.fromhex("70B3D5499A1B2C3D")  # as printed (most significant first), as LoRa.join takes it
APP_EUI = bytes.fromhex("70B3D57ED0001234")
DEV_ADDR = 0x26011BDA
NWK_SKEY = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
APP_SKEY = bytes.fromhex("F0E0D0C0B0A090807060504030201000")


class Net:
    """One device and the clock; ``actions`` is everything it asked for, in order."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self.actions: list[Action] = []
        self.seen = 0  # actions before this one were looked at by ``until``
        self.now = device.now_ms / 1000.0

    def take(self, actions: list[Action]) -> list[Action]:
        self.actions += actions
        return actions

    @property
    def transmits(self) -> list[Transmit]:
        return [a for a in self.actions if isinstance(a, Transmit)]

    def of(self, kind: type) -> list:
        return [a for a in self.actions if isinstance(a, kind)]

    def step(self) -> list[Action]:
        """Tick to the next deadline."""
        deadline = self.device.next_deadline()
        assert deadline is not None, "the device has nothing to do"
        self.now = max(self.now, deadline)
        return self.take(self.device.tick(self.now))

    def until(self, done: Callable[[Action], bool], limit: float = 120.0) -> Action:
        """The next action (after the last one found) that satisfies ``done``, stepping as needed."""
        end = self.now + limit
        while True:
            while self.seen < len(self.actions):
                action = self.actions[self.seen]
                self.seen += 1
                if done(action):
                    return action
            if self.now >= end or self.device.next_deadline() is None:
                raise AssertionError(f"nothing came within {limit} s: {self.actions[-5:]}")
            self.step()

    def wait(self, kind: type, limit: float = 120.0) -> Action:
        return self.until(lambda a: isinstance(a, kind), limit)

    def window(self, slot: int, limit: float = 30.0) -> OpenWindow:
        window = self.until(lambda a: isinstance(a, OpenWindow) and a.slot == slot, limit)
        assert isinstance(window, OpenWindow)
        return window

    def run(self, seconds: float) -> list[Action]:
        """Everything until ``now + seconds``."""
        end = self.now + seconds
        out: list[Action] = []
        while (deadline := self.device.next_deadline()) is not None and deadline <= end:
            out += self.step()
        self.now = end
        return out + self.take(self.device.tick(end))

    def downlink(
        self, frame: bytes, window: OpenWindow, rssi: float = -60.0, snr: float = 7.0
    ) -> list[Action]:
        """``frame`` sent into ``window``: caught at its start, reported at its end."""
        start = window.at + 0.001
        length = (
            0.01 if window.sf == 0 else airtime.time_on_air(len(frame), window.sf, window.bw_hz, 1, crc=False)
        )
        self.now = start + length
        return self.take(self.device.received(frame, rssi, snr, at=self.now, start=start))

    def send(
        self, port: int, payload: bytes, confirmed: bool = False, dr: int | None = None, **kw: int
    ) -> Transmit:
        """The script's send; the frame it put on air."""
        before = len(self.transmits)
        self.take(self.device.send(port, payload, self.now, confirmed=confirmed, dr=dr, **kw))
        if len(self.transmits) == before:
            self.wait(Transmit)
        return self.transmits[before]


def joined_device(
    region: str = "EU868", dr: int = 5, seed: int = 7, **accept: int
) -> tuple[Net, bytes, bytes]:
    """A device joined by OTAA in RX1 (DevAddr ``DEV_ADDR``, NetID 0x13); (net, NwkSKey, AppSKey)."""
    net = Net(Device(region, 0.0, seed=seed))
    net.take(net.device.join(DEV_EUI, APP_EUI, APP_KEY, dr, net.now))
    request = frames.JoinRequest.parse(net.transmits[-1].frame)
    assert request is not None
    accept.setdefault("rx2_dr", net.device.figures.rx2_dr)  # what the network keeps by default
    frame = frames.join_accept(APP_KEY, 0x00ABCD, 0x13, DEV_ADDR, **accept)
    net.downlink(frame, net.window(0))
    net.wait(Joined)
    keys = frames.JoinAccept.open(frame, APP_KEY)
    assert keys is not None
    nwk, app = keys.session_keys(APP_KEY, request.dev_nonce)
    return net, nwk, app
