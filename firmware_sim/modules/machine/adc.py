"""``machine.ADC`` and its ``ADCChannel`` (Pycom 1.20.2.r6, ``esp32/mods/pybadc.c``): ADC1 of the ESP32.

Its 8 channels are pins ``P13``..``P20`` (channel 0 ``P13``, 1 ``P14``, 2 ``P15``, 3 ``P16``, 4 ``P19``,
5 ``P20``, 6 ``P18``, 7 ``P17``). The voltage on a pin is what the test sets for ``voltage/<pin>``
(volts, :mod:`firmware_sim.runtime.environment`; 0 V when none is set).

The simulated chip's conversion is the curve ESP-IDF's ``esp_adc_cal`` (the firmware's IDF, 3394ee5)
characterises for an ESP32 whose reference is the nominal 1100 mV: ``value()`` is the raw reading whose
calibrated voltage is nearest to the pin's, clipped to the range (at ``ATTN_0DB`` about 75..1039 mV, at
``ATTN_11DB`` about 142..3134 mV), at the ADC's ``bits`` (9..12, the 12-bit reading shifted down).
``voltage()`` and ``value_to_voltage()`` compute millivolts as the firmware does: ``esp_adc_cal`` with
the default-Vref characterisation (linear, plus the lookup table above raw 2880 at 11 dB), from the
``vref`` the script set (default 1100), so a script's calibrated ``vref`` shifts them as on a board
without eFuse calibration. The arithmetic is the C code's (unsigned 32-bit, the returned small int).
"""

from __future__ import annotations

import bisect
import functools
from typing import Any

from network.coap.api.mpargs import Param, check_count, parse, to_int

from ...runtime import environment, pins
from .consts import INVALID_ARGUMENTS, RESOURCE_NOT_AVAILABLE
from .pin import find
from .spi import REQUEST_NOT_POSSIBLE
from .state import machine_part

CHANNEL_PINS = ("P13", "P14", "P15", "P16", "P19", "P20", "P18", "P17")  # pyb_adc_channel_obj
ATTN_0DB, ATTN_2_5DB, ATTN_6DB, ATTN_11DB = 0, 1, 2, 3
V_REF_NOM = 1100
_VREF_PINS = {27: "P6", 26: "P21", 25: "P22"}  # adc2_vref_to_gpio: GPIO 25, 26, 27 only

# esp_adc_cal.c (ADC1, default/eFuse Vref characterisation and the 11 dB lookup tables)
_SCALE = (57431, 76236, 105481, 196602)
_OFFSET = (75, 78, 107, 142)
_LUT_LOW = (2240, 2297, 2352, 2405, 2457, 2512, 2564, 2616, 2664, 2709,
            2754, 2795, 2832, 2868, 2903, 2937, 2969, 3000, 3030, 3060)  # fmt: skip
_LUT_HIGH = (2667, 2706, 2745, 2780, 2813, 2844, 2873, 2901, 2928, 2956,
             2982, 3006, 3032, 3059, 3084, 3110, 3135, 3160, 3184, 3209)  # fmt: skip
_LUT_LOW_THRESH, _LUT_STEP, _LUT_VREF_LOW, _LUT_VREF_HIGH = 2880, 64, 1000, 1200
_U32 = 0xFFFFFFFF
_NULL = object()  # MP_OBJ_NULL: the argument was not given


def _int32(value: int) -> int:
    value &= _U32
    return value - (1 << 32) if value & 0x80000000 else value


class Characteristics:
    """``esp_adc_cal_characteristics_t`` from ``esp_adc_cal_characterize(ADC_UNIT_1, ...)``."""

    def __init__(self, attn: int, width: int, vref: int) -> None:
        self.attn, self.width, self.vref = attn, width, vref & _U32
        self.coeff_a = (self.vref * _SCALE[attn] & _U32) // 4096
        self.coeff_b = _OFFSET[attn]

    def _linear(self, raw: int) -> int:
        return ((((self.coeff_a * raw) & _U32) + 32768) & _U32) // 65536 + self.coeff_b & _U32

    def _lut(self, raw: int) -> int:
        i = (raw - _LUT_LOW_THRESH) // _LUT_STEP
        x2, x1 = _int32(_LUT_VREF_HIGH - self.vref), _int32(self.vref - _LUT_VREF_LOW)
        y2 = (i + 1) * _LUT_STEP + _LUT_LOW_THRESH - raw
        y1 = raw - (i * _LUT_STEP + _LUT_LOW_THRESH)
        q11, q12, q21, q22 = _LUT_LOW[i], _LUT_LOW[i + 1], _LUT_HIGH[i], _LUT_HIGH[i + 1]
        voltage = _int32(q11 * x2 * y2 + q21 * x1 * y2 + q12 * x2 * y1 + q22 * x1 * y1)
        voltage = _int32(voltage + (_LUT_VREF_HIGH - _LUT_VREF_LOW) * _LUT_STEP // 2)
        quotient = abs(voltage) // ((_LUT_VREF_HIGH - _LUT_VREF_LOW) * _LUT_STEP)  # C truncates
        return (quotient if voltage >= 0 else -quotient) & _U32

    def raw_to_voltage(self, raw: int) -> int:
        """``esp_adc_cal_raw_to_voltage``: millivolts (uint32) for a reading at this width."""
        raw = (raw & _U32) << (12 - self.width) & _U32
        raw = min(raw, 4095)
        if self.attn == ATTN_11DB and raw >= _LUT_LOW_THRESH:
            lut = self._lut(raw)
            if raw > _LUT_LOW_THRESH + _LUT_STEP:
                return lut
            linear, x = self._linear(raw), raw - _LUT_LOW_THRESH
            return ((linear * _LUT_STEP + lut * x - linear * x + _LUT_STEP // 2) & _U32) // _LUT_STEP
        return self._linear(raw)


@functools.lru_cache(maxsize=4)
def _chip_curve(attn: int) -> list[int]:
    """The simulated chip: millivolts of each 12-bit reading (a chip whose Vref is the nominal one)."""
    chars = Characteristics(attn, 12, V_REF_NOM)
    curve = [chars.raw_to_voltage(raw) for raw in range(4096)]
    for raw in range(1, 4096):  # non-decreasing, for the search
        curve[raw] = max(curve[raw], curve[raw - 1])
    return curve


def raw_reading(millivolts: float, attn: int, width: int) -> int:
    """What ADC1 reads at ``width`` bits for ``millivolts`` on a pin (clipped to the range)."""
    curve = _chip_curve(attn)
    raw = bisect.bisect_left(curve, millivolts)
    if raw >= 4096:
        raw = 4095
    elif raw > 0 and millivolts - curve[raw - 1] <= curve[raw] - millivolts:
        raw -= 1
    return raw >> (12 - width)


def _small_int(value: int) -> int:
    """``MP_OBJ_NEW_SMALL_INT`` of a uint32 on the ESP32: 31 bits, sign-extended."""
    value &= 0x7FFFFFFF
    return value - (1 << 31) if value & 0x40000000 else value


class ADC:
    """``machine.ADC(id=0, *, bits=12)``: the one ADC block."""

    ATTN_0DB, ATTN_2_5DB, ATTN_6DB, ATTN_11DB = ATTN_0DB, ATTN_2_5DB, ATTN_6DB, ATTN_11DB

    _width: int
    _vref: int
    _enabled: bool

    def __new__(cls, *args: Any, **kwargs: Any) -> ADC:
        adc_id, bits = (to_int(v) for v in parse(args, kwargs, (Param("id", 0), Param("bits", 12, True))))
        if adc_id != 0:
            raise OSError(RESOURCE_NOT_AVAILABLE)
        if not 9 <= bits <= 12:
            raise ValueError(INVALID_ARGUMENTS)
        self = machine_part().one(("ADC", 0), lambda: cls._made())
        self._width, self._enabled = bits, True
        return self

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """All done by ``__new__`` (the firmware's ``make_new``)."""

    @classmethod
    def _made(cls) -> ADC:
        adc = object.__new__(cls)
        adc._width, adc._vref, adc._enabled = 12, V_REF_NOM, False
        return adc

    def init(self, *args: Any, **kwargs: Any) -> None:
        """``init(*, bits=12)``."""
        (bits,) = parse(args, kwargs, (Param("bits", 12, True),))
        bits = to_int(bits)
        if not 9 <= bits <= 12:
            raise ValueError(INVALID_ARGUMENTS)
        self._width, self._enabled = bits, True

    def deinit(self, *args: Any, **kwargs: Any) -> None:
        check_count((self, *args), kwargs, 1, 1)
        self._enabled = False

    def vref(self, *args: Any, **kwargs: Any) -> int | None:
        """``vref()`` is the reference (mV) the calibration uses; ``vref(mV)`` sets it, and every channel
        re-calibrates at its next ``voltage()``."""
        check_count((self, *args), kwargs, 1, 2)
        if not args:
            return self._vref
        self._vref = to_int(args[0]) & 0xFFFF  # uint16_t
        for channel in range(len(CHANNEL_PINS)):
            _channel(channel)._calibrate = True
        return None

    def vref_to_pin(self, *args: Any, **kwargs: Any) -> None:
        """Route the internal reference to ``P6``, ``P21`` or ``P22`` (to measure it)."""
        check_count((self, *args), kwargs, 2, 2)
        name = find(machine_part(), args[0]).id()
        if pins.GPIO[name] not in _VREF_PINS:
            raise ValueError("only pins P6, P21 and P22 are able to output VREF")
        environment.record("ADC", board=machine_part().board, vref_pin=name, volts=V_REF_NOM / 1000)

    def channel(self, *args: Any, **kwargs: Any) -> ADCChannel:
        """``channel(id, *, attn=ADC.ATTN_0DB, pin)``: by channel number or by pin (``pin='P16'``)."""
        ch_arg, attn, pin_arg = parse(
            args, kwargs, (Param("id", _NULL), Param("attn", ATTN_0DB, True), Param("pin", None, True))
        )
        attn = to_int(attn)
        machine = machine_part()
        if ch_arg is not _NULL:
            ch_id = to_int(ch_arg)
            if not 0 <= ch_id < len(CHANNEL_PINS):  # the firmware checks the top only
                raise ValueError(RESOURCE_NOT_AVAILABLE)
            if pin_arg is not None and CHANNEL_PINS[ch_id] != find(machine, pin_arg).id():
                raise ValueError(INVALID_ARGUMENTS)
        else:
            name = find(machine, pin_arg).id()
            if name not in CHANNEL_PINS:
                raise OSError(RESOURCE_NOT_AVAILABLE)
            ch_id = CHANNEL_PINS.index(name)
        if not ATTN_0DB <= attn <= ATTN_11DB:
            raise ValueError(INVALID_ARGUMENTS)
        channel = _channel(ch_id)
        channel._attn, channel._adc = attn, self
        channel._setup()
        return channel

    def __repr__(self) -> str:
        return f"ADC(0, bits={self._width})" if self._enabled else "ADC(0)"


class ADCChannel:
    """An ADC channel (``ADC.channel(...)``); calling it is ``value()``."""

    _channel: int
    _attn: int
    _adc: ADC | None
    _chars: Characteristics | None
    _calibrate: bool
    _enabled: bool

    def __new__(cls, *args: Any, **kwargs: Any) -> ADCChannel:
        raise TypeError("cannot create 'ADCChannel' instances")

    @classmethod
    def _made(cls, channel: int) -> ADCChannel:
        made = object.__new__(cls)
        made._channel, made._attn, made._adc = channel, ATTN_0DB, None
        made._chars, made._calibrate, made._enabled = None, False, False
        return made

    def _setup(self) -> None:
        """``pyb_adc_channel_init``: the ADC block must be on; characterise at its width and vref."""
        adc = self._adc
        if adc is None or not adc._enabled:
            raise OSError(REQUEST_NOT_POSSIBLE)
        self._chars = Characteristics(self._attn, adc._width, adc._vref)
        self._enabled = True

    def _check(self) -> None:
        if not self._enabled:
            raise OSError(REQUEST_NOT_POSSIBLE)

    def init(self, *args: Any, **kwargs: Any) -> None:
        check_count((self, *args), kwargs, 1, 1)
        self._setup()

    def deinit(self, *args: Any, **kwargs: Any) -> None:
        check_count((self, *args), kwargs, 1, 1)
        self._enabled = False

    def _raw(self) -> int:
        """``adc1_get_raw``: the pin's voltage now, read at the ADC's current width."""
        pin = CHANNEL_PINS[self._channel]
        board = machine_part().board
        volts = environment.reading(f"voltage/{pin}", 0.0, board=board)
        if not isinstance(volts, (int, float)) or isinstance(volts, bool):
            volts = 0.0
        width = self._adc._width if self._adc is not None else 12
        return raw_reading(float(volts) * 1000.0, self._attn, width)

    def value(self, *args: Any, **kwargs: Any) -> int:
        """The raw reading (0 .. 2**bits - 1)."""
        check_count((self, *args), kwargs, 1, 1)
        self._check()
        return self._raw()

    def __call__(self, *args: Any, **kwargs: Any) -> int:
        check_count(args, kwargs, 0, 0)
        return self.value()

    def voltage(self, *args: Any, **kwargs: Any) -> int:
        """The calibrated reading in millivolts (``esp_adc_cal_get_voltage``)."""
        check_count((self, *args), kwargs, 1, 1)
        self._check()
        if self._calibrate and self._adc is not None:
            self._calibrate = False
            self._chars = Characteristics(self._attn, self._adc._width, self._adc._vref)
        assert self._chars is not None
        return _small_int(self._chars.raw_to_voltage(self._raw()))

    def value_to_voltage(self, *args: Any, **kwargs: Any) -> int:
        """Millivolts of a raw reading, with the channel's calibration."""
        check_count((self, *args), kwargs, 2, 2)
        self._check()
        assert self._chars is not None
        return _small_int(self._chars.raw_to_voltage(to_int(args[0])))

    def __repr__(self) -> str:
        if self._enabled:
            return f"ADCChannel({self._channel}, pin={CHANNEL_PINS[self._channel]}, attn={self._attn})"
        return f"ADCChannel({self._channel})"


def _channel(ch_id: int) -> ADCChannel:
    """The session's channel object ``ch_id`` (the firmware's are static: one per channel)."""
    return machine_part().one(("ADCChannel", ch_id), lambda: ADCChannel._made(ch_id))
