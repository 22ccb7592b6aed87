"""Regional parameters (``network.lora.regions``), checked against the firmware's LoRaMac-node tables
(``lib/lora/mac/region/Region*.h``/``.c``, ``RegionCommon.c``, firmware 1.20.2.r6) and the LoRaWAN
1.0.2 regional parameters they implement.
"""

from __future__ import annotations

import pytest

from network.lora.regions import REGIONS, Channel, DataRate, region

pytestmark = pytest.mark.unit

MHZ = 1_000_000


def test_the_six_regions_pycom_offers() -> None:
    assert REGIONS == ("EU868", "US915", "AS923", "AU915", "CN470", "IN865")
    with pytest.raises(KeyError):
        region("EU433")


def test_eu868() -> None:
    eu = region("EU868")
    assert eu.default_channels == (
        Channel(868_100_000, 0, 5, 1),
        Channel(868_300_000, 0, 5, 1),
        Channel(868_500_000, 0, 5, 1),
    )
    assert [eu.datarate(dr) for dr in (0, 5, 6, 7)] == [
        DataRate(12, 125000),
        DataRate(7, 125000),
        DataRate(7, 250000),
        DataRate(0, 0, 50),
    ]
    assert [eu.max_payload_of(dr) for dr in range(8)] == [51, 51, 51, 115, 242, 242, 242, 242]
    assert eu.max_payload_of(4, repeater=True) == 222
    assert eu.rx2 == (869_525_000, 0)
    assert [eu.rx1_datarate(5, offset) for offset in range(6)] == [5, 4, 3, 2, 1, 0]
    assert eu.rx1_datarate(1, 3) == 0
    assert eu.rx1_frequency(2, 868_500_000) == 868_500_000
    assert eu.tx_powers() == (16, 14, 12, 10, 8, 6, 4, 2)
    assert eu.phy_tx_power(0) == 13 and eu.phy_tx_power(7) == -1  # floor(EIRP - 2.15 dBi)
    assert eu.dr_of(7, 125000) == 5 and eu.dr_of(7, 250000) == 6
    assert eu.duty_cycle_enabled


@pytest.mark.parametrize(
    ("freq", "band", "duty"),
    [
        (868_100_000, 1, 100),
        (868_000_000, 0, 100),
        (867_100_000, 0, 100),
        (864_000_000, 2, 1000),
        (868_800_000, 2, 1000),
        (869_525_000, 3, 10),
        (869_850_000, 4, 100),
    ],
)
def test_eu868_bands_follow_verify_tx_freq(freq: int, band: int, duty: int) -> None:
    eu = region("EU868")
    assert eu.band_of(freq) == band
    assert eu.bands[band].duty_cycle == duty


@pytest.mark.parametrize("freq", [862_900_000, 868_650_000, 869_300_000, 870_100_000])
def test_eu868_has_gaps_where_nothing_is_sent(freq: int) -> None:
    assert region("EU868").band_of(freq) is None


def test_us915() -> None:
    us = region("US915")
    channels = us.default_channels
    assert len(channels) == 72
    assert channels[0] == Channel(902_300_000, 0, 3) and channels[63].freq_hz == 914_900_000
    assert channels[64] == Channel(903_000_000, 4, 4) and channels[71].freq_hz == 914_200_000
    assert us.datarate(0) == DataRate(10, 125000) and us.datarate(4) == DataRate(8, 500000)
    assert us.datarate(8) == DataRate(12, 500000) and us.datarate(13) == DataRate(7, 500000)
    with pytest.raises(ValueError, match="US915 has no data rate DR5"):
        us.datarate(5)
    assert [us.max_payload_of(dr) for dr in range(5)] == [11, 53, 125, 242, 242]
    assert us.rx2 == (923_300_000, 8)
    assert [us.rx1_datarate(0, offset) for offset in range(4)] == [10, 9, 8, 8]
    assert us.rx1_datarate(4, 0) == 13
    assert us.rx1_frequency(9, 903_900_000) == 923_900_000  # channel 9 % 8 = 1
    assert us.rx1_frequency(64, 903_000_000) == 923_300_000
    assert us.phy_tx_power(0) == 30 and us.phy_tx_power(0, dr=4) == 26  # DR4: at most 26 dBm
    assert us.phy_tx_power(0, channels_125=8) == 20  # under 50 channels: at most 21 dBm
    assert us.dr_of(12, 500000, uplink=False) == 8
    assert not us.duty_cycle_enabled


def test_as923_uses_dwell_time_one() -> None:
    asia = region("AS923")
    assert asia.default_dr == 2
    assert asia.default_channels == (Channel(923_200_000, 0, 5), Channel(923_400_000, 0, 5))
    assert asia.rx2 == (923_200_000, 2)
    assert [asia.max_payload_of(dr) for dr in range(6)] == [0, 0, 11, 53, 125, 242]
    assert asia.max_payload_of(0, uplink_dwell=0) == 51
    assert asia.rx1_datarate(2, 0) == 2
    assert asia.rx1_datarate(0, 0) == 2  # not below DR2 with downlink dwell time 1
    assert asia.rx1_datarate(0, 0, downlink_dwell=0) == 0
    assert asia.rx1_datarate(5, 6) == 5 and asia.rx1_datarate(3, 7) == 5  # offsets 6, 7 raise the DR
    assert asia.band_of(923_200_000) == 0 and asia.band_of(914_000_000) is None


def test_au915() -> None:
    au = region("AU915")
    assert au.default_channels[0] == Channel(915_200_000, 0, 5)
    assert au.default_channels[64] == Channel(915_900_000, 6, 6)
    assert au.datarate(6) == DataRate(8, 500000) and au.datarate(0) == DataRate(12, 125000)
    assert au.rx1_datarate(5, 0) == 13 and au.rx1_datarate(0, 5) == 8
    assert au.rx2 == (923_300_000, 8)
    assert au.rx1_frequency(15, 916_700_000) == 927_500_000


def test_cn470() -> None:
    cn = region("CN470")
    assert len(cn.default_channels) == 96
    assert cn.default_channels[0].freq_hz == 470_300_000 and cn.default_channels[95].freq_hz == 489_300_000
    assert cn.rx1_frequency(50, 480_300_000) == 500_700_000  # 50 % 48 = 2
    assert cn.rx2 == (505_300_000, 0)
    assert [cn.max_payload_of(dr) for dr in range(6)] == [51, 51, 51, 115, 222, 222]
    assert cn.phy_tx_power(0) == 17


def test_in865() -> None:
    india = region("IN865")
    assert [c.freq_hz for c in india.default_channels] == [865_062_500, 865_402_500, 865_985_000]
    assert india.rx2 == (866_550_000, 2)
    assert india.rx1_datarate(5, 6) == 5 and india.rx1_datarate(0, 7) == 2
    assert india.tx_powers()[0] == 30 and len(india.tx_powers()) == 11
    with pytest.raises(ValueError):
        india.rx1_datarate(5, 8)
