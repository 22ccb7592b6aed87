"""``network.LoRa``'s API as firmware 1.20.2.r6 (``esp32/mods/modlora.c``) has it: the constants and their
values, every wrong argument per region with the firmware's exception and text (the C integer types
included: a ``tx_power`` of 258 is 2), the getters and setters, ``stats()``, ``callback``/``events`` and
the LoRa socket's options and errors. In-process: one LoRa object on a medium of its own, a test member
of that medium as the other radio.
"""

from __future__ import annotations

import time
import uuid

import pytest
from conftest import raises

from network import host
from network.lora import settings
from network.lora.air import RadioParams
from network.lora.airtime import time_on_air_ms
from network.lora.api import LoRa, hard_reset
from network.lora.medium import Medium
from network.lora.socket import SO_CONFIRMED, SO_DR, SOL_LORA, LoRaSocket

pytestmark = pytest.mark.unit

EU868, US915, AS923, AU915, IN865, CN470, EU433 = 5, 8, 0, 1, 7, 2, 4


@pytest.fixture
def lora(ip: str):
    """The LoRa class on a fresh in-process board (a LoPy4 with EU868 in its config block)."""
    host.configure(ip=ip, mapping={})
    settings.configure_board(medium=f"api-{uuid.uuid4().hex}")
    yield LoRa
    hard_reset()
    settings.reset_board()
    host.reset()


def errno_of(info: pytest.ExceptionInfo) -> int:
    return info.value.args[0]


# -- constants ------------------------------------------------------------------------------------------


def test_class_constants_have_the_firmware_values(lora) -> None:
    assert (lora.LORA, lora.LORAWAN, lora.OTAA, lora.ABP) == (0, 1, 0, 1)
    assert (lora.ALWAYS_ON, lora.TX_ONLY, lora.SLEEP) == (0, 1, 2)
    assert (lora.BW_125KHZ, lora.BW_250KHZ, lora.BW_500KHZ) == (0, 1, 2)
    assert (lora.CODING_4_5, lora.CODING_4_6, lora.CODING_4_7, lora.CODING_4_8) == (1, 2, 3, 4)
    assert (lora.RX_PACKET_EVENT, lora.TX_PACKET_EVENT, lora.TX_FAILED_EVENT) == (1, 2, 4)
    assert (lora.CLASS_A, lora.CLASS_C) == (0, 2)
    regions = (lora.AS923, lora.AU915, lora.EU868, lora.US915, lora.CN470, lora.IN865, lora.EU433)
    assert regions == (0, 1, 5, 8, 2, 7, 4)
    assert lora.timeout is TimeoutError


def test_one_object_and_a_bare_constructor_keeps_the_settings(lora) -> None:
    first = lora(mode=lora.LORA, region=lora.EU868, sf=9)
    assert lora() is first
    assert first.sf() == 9  # no keywords: no init
    assert lora(sf=8).sf() == 8


def test_constructor_arguments(lora) -> None:
    with raises(OSError, "resource not available"):
        lora(1, mode=lora.LORA)
    with raises(TypeError, "extra positional arguments given"):
        lora(0, 0)
    with raises(TypeError, "extra keyword arguments given"):
        lora(mode=lora.LORA, spreading_factor=7)
    with raises(TypeError, "can't convert str to int"):
        lora(mode=lora.LORA, sf="7")
    with raises(TypeError, "can't convert float to int"):
        lora(mode=lora.LORA, frequency=868.1e6)
    with raises(TypeError, "extra positional arguments given"):
        lora(mode=lora.LORA).init(lora.LORA)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": 2}, "invalid mode 2"),
        ({"mode": -1}, "invalid mode 255"),  # an uint8_t
        ({"region": 3}, "invalid region 3"),  # CN779: not offered
        ({"region": -1}, "invalid region -1"),
        ({"tx_power": 1}, "Tx power 1 out of range"),
        ({"tx_power": 21}, "Tx power 21 out of range"),
        ({"tx_power": -1}, "Tx power 255 out of range"),
        ({"bandwidth": 3}, "bandwidth 3 not supported"),
        ({"sf": 5}, "spreading factor 5 out of range"),
        ({"sf": 13}, "spreading factor 13 out of range"),
        ({"coding_rate": 0}, "coding rate 0 out of range"),
        ({"coding_rate": 5}, "coding rate 5 out of range"),
        ({"power_mode": 3}, "invalid power mode 3"),
        ({"device_class": 1}, "invalid device_class 1"),  # CLASS_B
    ],
)
def test_init_value_errors(lora, kwargs: dict, message: str) -> None:
    with raises(ValueError, message):
        lora(**{"mode": lora.LORA, "region": lora.EU868, **kwargs})


def test_values_wrap_as_the_firmware_types(lora) -> None:
    radio = lora(mode=257, region=lora.EU868, tx_power=258, sf=263)  # uint8_t: 1, 2, 7
    assert (radio.tx_power(), radio.sf()) == (2, 7)
    assert radio.join is not None
    with raises(OSError, "the requested operation is not possible"):
        lora(mode=lora.LORA).join(activation=lora.OTAA, auth=(b"x" * 8, b"k" * 16))


@pytest.mark.parametrize(
    ("region", "low", "high", "default_freq", "default_power"),
    [
        (EU868, 863_000_000, 870_000_000, 868_000_000, 14),
        (US915, 902_000_000, 928_000_000, 915_000_000, 20),
        (AS923, 915_000_000, 928_000_000, 923_000_000, 20),
        (AU915, 915_000_000, 928_000_000, 915_000_000, 20),
        (IN865, 865_000_000, 867_000_000, 865_000_000, 20),
        (CN470, 470_000_000, 510_000_000, 865_000_000, 14),  # modlora.c's missing break: IN865's default
        (EU433, 433_000_000, 435_000_000, 433_175_000, 12),
    ],
)
def test_frequency_band_and_defaults_per_region(lora, region, low, high, default_freq, default_power) -> None:
    radio = lora(mode=lora.LORA, region=region)
    assert (radio.frequency(), radio.tx_power()) == (default_freq, default_power)
    assert lora(mode=lora.LORA, region=region, frequency=low).frequency() == low
    assert lora(mode=lora.LORA, region=region, frequency=high).frequency() == high
    for wrong in (low - 1, high + 1):
        with raises(ValueError, f"frequency {wrong} out of range"):
            lora(mode=lora.LORA, region=region, frequency=wrong)
    with raises(ValueError, f"frequency {low - 1} out of range"):
        radio.frequency(low - 1)


def test_eu433_and_cn470_are_lopy4_only(lora) -> None:
    settings.configure_board(lopy4=False)  # a LoPy or FiPy
    with raises(ValueError, "invalid region 4"):
        lora(mode=lora.LORA, region=lora.EU433)
    with raises(ValueError, "invalid region 2"):
        lora(mode=lora.LORA, region=lora.CN470)
    assert lora(mode=lora.LORA, region=lora.IN865).frequency() == 865_000_000


def test_region_from_the_config_block(lora) -> None:
    assert lora(mode=lora.LORA).frequency() == 868_000_000  # the config block's EU868
    settings.configure_board(config_region=0xFF)
    with raises(ValueError, "no region specified and no default found in config block"):
        lora(mode=lora.LORA)
    settings.configure_board(config_region=US915)
    assert lora(mode=lora.LORA).frequency() == 915_000_000


def test_frequency_out_of_range_reports_a_negative_as_signed(lora) -> None:
    with raises(ValueError, "frequency -1 out of range"):
        lora(mode=lora.LORA, region=lora.EU868, frequency=-1)
    with raises(OverflowError, "overflow converting long int to machine word"):
        lora(mode=lora.LORA, region=lora.EU868, frequency=2**32)


def test_getters_and_setters(lora) -> None:
    radio = lora(mode=lora.LORA, region=lora.EU868, frequency=868_100_000)
    assert radio.bandwidth() == lora.BW_125KHZ and radio.coding_rate() == lora.CODING_4_5
    assert radio.preamble() == 8 and radio.power_mode() == lora.ALWAYS_ON
    radio.sf(12)
    radio.bandwidth(lora.BW_250KHZ)
    radio.coding_rate(lora.CODING_4_8)
    radio.preamble(300)  # uint8_t, no check
    radio.tx_power(10)
    radio.frequency(869_525_000)
    assert (radio.sf(), radio.bandwidth(), radio.coding_rate()) == (12, 1, 4)
    assert (radio.preamble(), radio.tx_power(), radio.frequency()) == (44, 10, 869_525_000)
    with raises(ValueError, "spreading factor 13 out of range"):
        radio.sf(13)
    with raises(ValueError, "bandwidth 4 not supported"):
        radio.bandwidth(4)
    with raises(ValueError, "coding rate 9 out of range"):
        radio.coding_rate(9)
    with raises(ValueError, "Tx power 22 out of range"):
        radio.tx_power(22)
    with raises(ValueError, "invalid power mode 4"):
        radio.power_mode(4)
    with raises(TypeError, "function expected at most 2 arguments, got 3"):
        radio.sf(7, 8)
    with raises(TypeError, "function doesn't take keyword arguments"):
        radio.sf(sf=7)
    with raises(TypeError, "function takes 1 positional arguments but 2 were given"):
        radio.stats(1)


def test_airtime_uses_the_radio_settings(lora) -> None:
    radio = lora(mode=lora.LORA, region=lora.EU868, sf=12, coding_rate=lora.CODING_4_5)
    assert radio.airtime(51) == time_on_air_ms(51, 12, 125_000, 1)
    radio.sf(7)
    assert radio.airtime(20) == 57  # Semtech's calculator: 56.576 ms
    assert radio.airtime(256) == radio.airtime(0)  # the driver's uint8_t length


def test_mac_is_eight_bytes_in_pycoms_block(lora) -> None:
    mac = lora(mode=lora.LORA).mac()
    assert len(mac) == 8 and mac.hex().startswith("70b3d5499")
    assert mac == lora().mac()


# -- LoRaWAN arguments ---------------------------------------------------------------------------------

APP_EUI, APP_KEY = bytes(range(8)), bytes(range(16))


def test_join_argument_errors(lora) -> None:
    radio = lora(mode=lora.LORAWAN, region=lora.EU868)
    with raises(TypeError, "'activation' argument required"):
        radio.join(auth=(APP_EUI, APP_KEY))
    with raises(TypeError, "'auth' argument required"):
        radio.join(activation=lora.OTAA)
    with raises(TypeError, "extra positional arguments given"):
        radio.join(lora.OTAA, (APP_EUI, APP_KEY))
    with raises(ValueError, "invalid activation type 2"):
        radio.join(activation=2, auth=(APP_EUI, APP_KEY))
    with raises(TypeError, "object 'int' isn't a tuple or list"):
        radio.join(activation=lora.OTAA, auth=5)
    with raises(ValueError, "requested length 3 but object has length 2"):
        radio.join(activation=lora.ABP, auth=(0x26011234, APP_KEY))
    with raises(TypeError, "object with buffer protocol required"):
        radio.join(activation=lora.OTAA, auth=(APP_EUI, 1234))
    with raises(ValueError, "invalid join data rate 6"):
        radio.join(activation=lora.OTAA, auth=(APP_EUI, APP_KEY), dr=6)


@pytest.mark.parametrize(
    ("region", "good", "bad"),
    [
        (EU868, (0, 5), (6,)),
        (US915, (0, 4), (1, 3, 5)),
        (AS923, (2,), (0, 3)),
        (AU915, (0, 6), (2, 5)),
        (CN470, (0, 5), (6,)),
        (IN865, (0, 7), ()),  # modlora.c checks nothing in IN865
    ],
)
def test_join_data_rates_per_region(lora, region, good, bad) -> None:
    radio = lora(mode=lora.LORAWAN, region=region)
    for dr in bad:
        with raises(ValueError, f"invalid join data rate {dr}"):
            radio.join(activation=lora.OTAA, auth=(APP_EUI, APP_KEY), dr=dr, timeout=0)
    for dr in good:
        radio.join(activation=lora.OTAA, auth=(APP_EUI, APP_KEY), dr=dr, timeout=0)


def test_channel_arguments_per_region(lora) -> None:
    radio = lora(mode=lora.LORAWAN, region=lora.EU868)
    with raises(ValueError, "channel 16 out of range"):
        radio.add_channel(16, frequency=868_100_000, dr_min=0, dr_max=5)
    with raises(ValueError, "channel -1 out of range"):
        radio.remove_channel(-1)
    with raises(ValueError, "invalid argument(s) value"):
        radio.add_channel(3, frequency=867_100_000, dr_min=5, dr_max=0)
    with raises(ValueError, "invalid argument(s) value"):
        radio.add_channel(3, frequency=867_100_000, dr_min=0, dr_max=7)
    with raises(TypeError, "'frequency' argument required"):
        radio.add_channel(3, dr_min=0, dr_max=5)
    with raises(TypeError, "extra positional arguments given"):
        radio.add_channel(3, 867_100_000, 0, 5)
    with raises(TypeError, "function takes 2 positional arguments but 1 were given"):
        radio.remove_channel()
    us = lora(mode=lora.LORAWAN, region=lora.US915)
    us.remove_channel(71)
    with raises(ValueError, "channel 72 out of range"):
        us.remove_channel(72)
    with raises(ValueError, "invalid argument(s) value"):
        us.add_channel(8, frequency=903_900_000, dr_min=0, dr_max=5)


def test_compliance_test_state(lora) -> None:
    radio = lora(mode=lora.LORAWAN, region=lora.EU868)
    state = radio.compliance_test()
    assert state == (False, False, 0, False, 0, False, 0, 0)
    assert repr(state).startswith("(enabled=False, running=False, state=0")
    radio.compliance_test(True, 6, True)
    assert radio.compliance_test()[:3] == (True, False, 6) and radio.compliance_test().link_check
    with raises(TypeError, "function expected at most 4 arguments, got 5"):
        radio.compliance_test(True, 1, True, 0)


# -- events, stats and the raw radio -------------------------------------------------------------------


def test_stats_events_and_callback_on_a_received_frame(lora) -> None:
    radio = lora(mode=lora.LORA, region=lora.EU868, frequency=868_100_000)
    seen = []
    radio.callback(trigger=lora.RX_PACKET_EVENT, handler=seen.append)
    medium_name = settings.BOARD.medium
    other = Medium.join(medium_name, "127.0.0.250")
    other.medium.set_path_loss("127.0.0.250", host.own_address(), 135.0)
    other.transmit(b"hello", RadioParams(868_100_000, 7, 125_000), 14.0)
    sock = LoRaSocket()
    sock.settimeout(2)
    assert sock.recv(3) == b"hel" and sock.recvfrom(10) == (b"lo", 0)
    deadline = time.monotonic() + 2
    while not seen and time.monotonic() < deadline:
        time.sleep(0.01)
    assert seen == [radio]  # arg defaults to the LoRa object
    stats = radio.stats()
    assert (stats.rssi, stats.sfrx) == (14 - 135, 7)
    assert stats.snr == -4.0  # -121 dBm over a -117 dBm noise floor, in whole dB
    assert radio.events() == lora.RX_PACKET_EVENT and radio.events() == 0
    other.leave()


def test_socket_options_and_errors(lora) -> None:
    with raises(OSError, "Network card not available"):
        LoRaSocket()
    radio = lora(mode=lora.LORA, region=lora.US915)
    sock = LoRaSocket()
    with pytest.raises(OSError) as info:
        sock.setsockopt(0xFFFF, SO_DR, 3)
    assert errno_of(info) == 95 and str(info.value) == "[Errno 95] EOPNOTSUPP"
    sock.setsockopt(SOL_LORA, SO_DR, 4)
    with pytest.raises(OSError) as info:
        sock.setsockopt(SOL_LORA, SO_DR, 5)  # US915: DR4 at most
    assert errno_of(info) == 95
    sock.setsockopt(SOL_LORA, SO_CONFIRMED, True)
    with pytest.raises(OSError) as info:
        sock.bind(225)
    assert errno_of(info) == 95
    sock.bind(224)
    with pytest.raises(OSError) as info:
        sock.sendto(b"x", ("", 1))
    assert errno_of(info) == 95
    with pytest.raises(OSError) as info:
        sock.send(bytes(256))
    assert str(info.value) == "[Errno 122] EMSGSIZE"
    assert sock.send(b"") == 0
    sock.setblocking(False)
    assert sock.recv(10) == b"" and sock.recvfrom(10) == (b"", 0)
    sock.settimeout(0.05)
    with raises(TimeoutError, "timed out"):
        sock.recv(10)
    radio.power_mode(lora.SLEEP)
    with pytest.raises(OSError) as info:
        sock.send(b"x")
    assert str(info.value) == "[Errno 115] ENETDOWN"
    sock.close()
    with pytest.raises(OSError) as info:
        sock.recv(1)
    assert str(info.value) == "[Errno 9] EBADF"


def test_lorawan_send_before_joining_is_enetdown(lora) -> None:
    lora(mode=lora.LORAWAN, region=lora.EU868)
    sock = LoRaSocket()
    with pytest.raises(OSError) as info:
        sock.send(b"data")
    assert str(info.value) == "[Errno 115] ENETDOWN"


@pytest.mark.parametrize(
    ("region", "channels", "max_dr"),
    [(EU868, 16, 6), (US915, 72, 4), (AS923, 16, 6), (AU915, 72, 6), (IN865, 16, 6), (CN470, 96, 6)],
)
def test_channel_index_and_data_rate_limits_per_region(lora, region, channels, max_dr) -> None:
    radio = lora(mode=lora.LORAWAN, region=region)
    radio.remove_channel(channels - 1)
    with raises(ValueError, f"channel {channels} out of range"):
        radio.remove_channel(channels)
    with raises(ValueError, f"channel {channels} out of range"):
        radio.add_channel(channels, frequency=radio.frequency(), dr_min=0, dr_max=0)
    with raises(ValueError, "invalid argument(s) value"):
        radio.add_channel(channels - 1, frequency=radio.frequency(), dr_min=0, dr_max=max_dr + 1)
    sock = LoRaSocket()
    sock.setsockopt(SOL_LORA, SO_DR, max_dr)
    with pytest.raises(OSError) as info:
        sock.setsockopt(SOL_LORA, SO_DR, max_dr + 1)
    assert str(info.value) == "[Errno 95] EOPNOTSUPP"


def test_eu433_has_no_channel_limit_and_the_socket_default_data_rates(lora) -> None:
    radio = lora(mode=lora.LORA, region=lora.EU433)
    radio.remove_channel(200)  # lora_validate_channel has no EU433 case
    assert repr(LoRaSocket()) == "<socket>"


def test_reset_keeps_the_settings(lora) -> None:
    radio = lora(mode=lora.LORA, region=lora.EU868, sf=11, frequency=869_000_000)
    radio.reset()
    assert (radio.sf(), radio.frequency()) == (11, 869_000_000)
