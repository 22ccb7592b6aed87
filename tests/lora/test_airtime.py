"""Time on air (``network.lora.airtime``) against figures worked out by hand from the SX1276 datasheet's
formula (rev. 7, section 4.1.1.7) and, for the first two, Semtech's LoRa calculator:

    Ts = 2**SF / BW;  Tpreamble = (Npreamble + 4.25) Ts
    Npayload = 8 + max(ceil((8 PL - 4 SF + 28 + 16 CRC - 20 IH) / (4 (SF - 2 DE))) (CR + 4), 0)

The firmware (``SX1276GetTimeOnAir``) returns whole milliseconds rounded up, which ``time_on_air_ms``
reproduces.
"""

from __future__ import annotations

import pytest

from network.lora.airtime import (
    low_dr_optimize_default,
    payload_symbols,
    preamble_time,
    symbol_time,
    time_on_air,
    time_on_air_ms,
)

pytestmark = pytest.mark.unit

CASES = [
    # payload, SF, BW, CR, preamble, implicit, CRC -> milliseconds; how
    # Semtech LoRa calculator: 56.6 ms. Ts 1.024; preamble 12.25 Ts; ceil(176/28) = 7 -> 8 + 35 = 43 Ts
    ((20, 7, 125000, 1, 8, False, True), 56.576),
    # Semtech LoRa calculator: 2465.8 ms (low data rate optimisation on). Ts 32.768; ceil(404/40) = 11
    ((51, 12, 125000, 1, 8, False, True), 2465.792),
    # a 13-byte LoRaWAN frame at DR2: Ts 8.192; ceil(108/40) = 3 -> 8 + 15 = 23 Ts; 12.25 + 23 = 35.25 Ts
    ((13, 10, 125000, 1, 8, False, True), 288.768),
    # US915 DR4, SF8/500: Ts 0.512; ceil(92/32) = 3 -> 23 Ts; 35.25 Ts
    ((10, 8, 500000, 1, 8, False, True), 18.048),
    # SF7/250, CR 4/8, implicit header, no CRC: Ts 0.512; ceil(492/28) = 18 -> 8 + 144 = 152 Ts; 164.25 Ts
    ((64, 7, 250000, 4, 8, True, False), 84.096),
    # SF11/125 (DE on), CR 4/6, 1 byte: Ts 16.384; ceil(8/36) = 1 -> 8 + 6 = 14 Ts; 26.25 Ts
    ((1, 11, 125000, 2, 8, False, True), 430.08),
    # SF9/125, preamble 12 (a longer preamble): Ts 4.096; ceil(168/36) = 5 -> 8 + 25 = 33 Ts; 16.25 + 33 Ts
    ((20, 9, 125000, 1, 12, False, True), 201.728),
]


@pytest.mark.parametrize(("args", "ms"), CASES)
def test_time_on_air_matches_the_datasheet_formula(args: tuple, ms: float) -> None:
    assert time_on_air(*args) * 1000 == pytest.approx(ms, abs=1e-9)
    assert time_on_air_ms(*args) == -int(-ms // 1)  # the firmware rounds up to whole ms


def test_the_firmware_rounds_up_to_whole_milliseconds() -> None:
    assert time_on_air_ms(20, 7, 125000, 1) == 57
    assert time_on_air_ms(51, 12, 125000, 1) == 2466


def test_low_data_rate_optimisation_follows_the_driver() -> None:
    # SX1276SetTxConfig: on at 125 kHz for SF11 and SF12, at 250 kHz for SF12 (a symbol over 16 ms)
    on = {
        (sf, bw) for sf in range(6, 13) for bw in (125000, 250000, 500000) if low_dr_optimize_default(sf, bw)
    }
    assert on == {(11, 125000), (12, 125000), (12, 250000)}
    forced_off = time_on_air(51, 12, 125000, 1, low_dr_optimize=False)
    assert forced_off < time_on_air(51, 12, 125000, 1)


def test_payload_symbols_never_go_below_eight() -> None:
    assert payload_symbols(0, 12, 1, implicit=True, crc=False) == 8
    assert symbol_time(7, 125000) == pytest.approx(0.001024)
    assert preamble_time(7, 125000) == pytest.approx(0.012544)


@pytest.mark.parametrize(
    "args",
    [(10, 5, 125000, 1), (10, 13, 125000, 1), (10, 7, 125000, 0), (10, 7, 125000, 5), (256, 7, 125000, 1)],
)
def test_impossible_settings_are_refused(args: tuple) -> None:
    with pytest.raises(ValueError):
        time_on_air(*args)
