"""``network.LoRa``'s constants and argument checks, as ``esp32/mods/modlora.c`` (firmware 1.20.2.r6) has
them: the class constants and their values, ``lora_init_args``, and every ``lora_validate_*`` with its
exception text, including the C integer types the values pass through (a ``tx_power`` of 258 is an
``uint8_t`` 2, valid; a ``frequency`` of -1 is reported as ``-1`` but compared as 4294967295).

MicroPython's ``mp_arg_parse_all`` (py/argcheck.c, 1.11) converts each argument as it reaches it, in the
table's order: :func:`parse` does the same (an ``int`` argument given a ``str`` raises ``TypeError`` at
that argument, before later ones are looked at).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from ..coap.api.mpargs import to_int

# -- the class constants (lora_locals_dict_table) -------------------------------------------------------
LORA, LORAWAN = 0, 1  # lora_stack_mode_t
OTAA, ABP = 0, 1  # lora_activation_t
ALWAYS_ON, TX_ONLY, SLEEP = 0, 1, 2  # lora_mode_t
BW_125KHZ, BW_250KHZ, BW_500KHZ = 0, 1, 2  # lora_bandwidth_t
CODING_4_5, CODING_4_6, CODING_4_7, CODING_4_8 = 1, 2, 3, 4  # lora_coding_rate_t
RX_PACKET_EVENT, TX_PACKET_EVENT, TX_FAILED_EVENT = 0x01, 0x02, 0x04  # MODLORA_*_EVENT
CLASS_A, CLASS_C = 0, 2  # DeviceClass_t (lib/lora/mac/LoRaMac.h; CLASS_B is 1, not offered)
# LoRaMacRegion_t (lib/lora/mac/LoRaMac.h)
AS923, AU915, CN470, CN779, EU433, EU868, KR920, IN865, US915, US915_HYBRID = range(10)
NO_REGION = 0xFF  # config_get_lora_region() of a config block without one

REGION_NAMES = {AS923: "AS923", AU915: "AU915", CN470: "CN470", EU433: "EU433", EU868: "EU868",
                IN865: "IN865", US915: "US915", US915_HYBRID: "US915_HYBRID"}  # fmt: skip
BANDWIDTH_HZ = {BW_125KHZ: 125_000, BW_250KHZ: 250_000, BW_500KHZ: 500_000}

# -- the firmware's messages (esp32/util/mpexception.c and modlora.c) ----------------------------------
RESOURCE_NOT_AVAILABLE = "resource not available"
OPERATION_FAILED = "the requested operation failed"
REQUEST_NOT_POSSIBLE = "the requested operation is not possible"
INVALID_ARGUMENTS = "invalid argument(s) value"
NO_DEFAULT_REGION = "no region specified and no default found in config block"
TIMED_OUT = "timed out"

TX_POWER_MIN, TX_POWER_MAX = 2, 20  # TX_OUTPUT_POWER_MIN/MAX, dBm
SF_MIN, SF_MAX = 6, 12  # LORA_SPREADING_FACTOR_MIN/MAX
PAYLOAD_MAX = 255  # LORA_PAYLOAD_SIZE_MAX
QUEUE_SIZE = 7  # LORA_CMD_QUEUE_SIZE_MAX, LORA_DATA_QUEUE_SIZE_MAX


def u8(value: int) -> int:
    return value & 0xFF


def u32(value: int) -> int:
    return value & 0xFFFF_FFFF


def s32(value: int) -> int:
    """How ``%d`` prints a 32-bit value."""
    return ((value & 0xFFFF_FFFF) ^ 0x8000_0000) - 0x8000_0000


def s16(value: int) -> int:
    return ((value & 0xFFFF) ^ 0x8000) - 0x8000


# -- mp_arg_parse_all ------------------------------------------------------------------------------------
OBJ, INT, BOOL = "obj", "int", "bool"  # MP_ARG_OBJ, MP_ARG_INT, MP_ARG_BOOL
REQUIRED: Any = object()


class Arg(NamedTuple):
    """One ``mp_arg_t``: name, kind, default (``REQUIRED``), keyword-only."""

    name: str
    kind: str = OBJ
    default: Any = None
    keyword_only: bool = True


def parse(args: tuple[Any, ...], kwargs: dict[str, Any], table: tuple[Arg, ...]) -> list[Any]:
    """``mp_arg_parse_all``: each argument converted (``mp_obj_get_int``, ``mp_obj_is_true``) as it is
    reached; then the extra positional / keyword arguments are refused."""
    values: list[Any] = []
    used = 0
    for i, arg in enumerate(table):
        if i < len(args):
            if arg.keyword_only:
                raise TypeError("extra positional arguments given")
            given = args[i]
        elif arg.name in kwargs:
            given = kwargs[arg.name]
            used += 1
        elif arg.default is REQUIRED:
            raise TypeError(f"'{arg.name}' argument required")
        else:
            values.append(arg.default)
            continue
        if arg.kind == INT:
            given = to_int(given)
        elif arg.kind == BOOL:
            given = bool(given)
        values.append(given)
    if len(args) > len(table):
        raise TypeError("extra positional arguments given")
    if used < len(kwargs):
        raise TypeError("extra keyword arguments given")
    return values


def to_float(obj: object) -> float:
    """``mp_obj_get_float``."""
    if isinstance(obj, (int, float)):
        return float(obj)
    raise TypeError(f"can't convert {type(obj).__name__} to float")


def readable(obj: object) -> bytes:
    """``mp_get_buffer_raise(obj, MP_BUFFER_READ)``: bytes, bytearray, memoryview, array, or a str's UTF-8."""
    if isinstance(obj, str):
        return obj.encode("utf-8")
    if isinstance(obj, (bytes, bytearray, memoryview)) or type(obj).__name__ == "array":
        return bytes(memoryview(obj).cast("B"))  # type: ignore[arg-type]
    raise TypeError("object with buffer protocol required")


def fixed(data: bytes, size: int) -> bytes:
    """``memcpy(dst, buf, size)`` from a buffer that may be shorter: the firmware reads past its end; the
    simulator reads zeros there."""
    return data[:size].ljust(size, b"\x00")


# -- lora_init_args (after ``id``) -----------------------------------------------------------------------
INIT_ARGS = (
    Arg("mode", INT, LORA),
    Arg("frequency", OBJ, None),
    Arg("tx_power", OBJ, None),
    Arg("bandwidth", INT, BW_125KHZ),
    Arg("sf", INT, 7),
    Arg("preamble", INT, 8),
    Arg("coding_rate", INT, CODING_4_5),
    Arg("power_mode", INT, ALWAYS_ON),
    Arg("tx_iq", BOOL, False),
    Arg("rx_iq", BOOL, False),
    Arg("adr", BOOL, False),
    Arg("public", BOOL, True),
    Arg("tx_retries", INT, 2),
    Arg("device_class", INT, CLASS_A),
    Arg("region", OBJ, None),
)
MAKE_NEW_ARGS = (Arg("id", INT, 0, keyword_only=False), *INIT_ARGS)


@dataclass
class InitConfig:
    """``lora_init_cmd_data_t``: the radio's and the stack's configuration, in the firmware's types."""

    stack_mode: int = LORA
    region: int = EU868
    frequency: int = 868_000_000
    tx_power: int = 14
    bandwidth: int = BW_125KHZ
    sf: int = 7
    preamble: int = 8
    coding_rate: int = CODING_4_5
    power_mode: int = ALWAYS_ON
    txiq: bool = False
    rxiq: bool = False
    adr: bool = False
    public: bool = True
    tx_retries: int = 2
    device_class: int = CLASS_A

    @property
    def bandwidth_hz(self) -> int:
        return BANDWIDTH_HZ[self.bandwidth]


# lora_init_helper's defaults per region (CN470 falls through to IN865's 865 MHz: no break in modlora.c)
DEFAULT_FREQUENCY = {AS923: 923_000_000, AU915: 915_000_000, US915: 915_000_000,
                     US915_HYBRID: 915_000_000, EU868: 868_000_000, EU433: 433_175_000,
                     CN470: 865_000_000, IN865: 865_000_000}  # fmt: skip
DEFAULT_TX_POWER = {AS923: 20, AU915: 20, US915: 20, IN865: 20, US915_HYBRID: 20, CN470: 14, EU868: 14,
                    EU433: 12}  # fmt: skip
FREQUENCY_RANGE = {AS923: (915_000_000, 928_000_000), AU915: (915_000_000, 928_000_000),
                   US915: (902_000_000, 928_000_000), US915_HYBRID: (902_000_000, 928_000_000),
                   CN470: (470_000_000, 510_000_000), IN865: (865_000_000, 867_000_000),
                   EU433: (433_000_000, 435_000_000), EU868: (863_000_000, 870_000_000)}  # fmt: skip
MAX_NB_CHANNELS = {AS923: 16, AU915: 72, US915: 72, US915_HYBRID: 72, EU868: 16, CN470: 96, IN865: 16}
JOIN_DR_DEFAULT = {AS923: 2, AU915: 6, US915: 4, US915_HYBRID: 4, CN470: 5, EU868: 5, EU433: 5, IN865: 5}
SOCKET_DR_DEFAULT = {AS923: 5, EU868: 5, EU433: 5, CN470: 5, AU915: 4, US915: 4, US915_HYBRID: 4}


def validate_mode(mode: int) -> None:
    if mode > LORAWAN:
        raise ValueError(f"invalid mode {mode}")


def validate_region(region: int, lopy4: bool) -> None:
    """AS923, AU915, EU868, US915, IN865, and on the LoPy4 also EU433 and CN470."""
    allowed = {AS923, AU915, EU868, US915, IN865} | ({EU433, CN470} if lopy4 else set())
    if region not in allowed:
        raise ValueError(f"invalid region {s32(region)}")


def validate_frequency(frequency: int, region: int, lopy4: bool) -> None:
    """``frequency`` (an ``uint32_t``) within the region's band; CN470 and EU433 on the LoPy4 only."""
    low_high = FREQUENCY_RANGE.get(region)
    if low_high is None:
        return
    if region in (CN470, EU433) and not lopy4:
        raise ValueError(f"frequency {s32(frequency)} out of range")
    if not low_high[0] <= frequency <= low_high[1]:
        raise ValueError(f"frequency {s32(frequency)} out of range")


def validate_channel(index: int, region: int) -> None:
    limit = MAX_NB_CHANNELS.get(region)
    if limit is not None and u32(index) >= limit:
        raise ValueError(f"channel {s32(index)} out of range")


def validate_power(tx_power: int) -> None:
    if not TX_POWER_MIN <= tx_power <= TX_POWER_MAX:
        raise ValueError(f"Tx power {tx_power} out of range")


def data_rate_ok(data_rate: int, region: int) -> bool:
    """``lora_validate_data_rate``: up to DR6, DR4 in US915."""
    return u32(data_rate) <= (4 if region in (US915, US915_HYBRID) else 6)


def validate_bandwidth(bandwidth: int) -> None:
    if bandwidth > BW_500KHZ:
        raise ValueError(f"bandwidth {bandwidth} not supported")


def validate_sf(sf: int) -> None:
    if not SF_MIN <= sf <= SF_MAX:
        raise ValueError(f"spreading factor {sf} out of range")


def validate_coding_rate(coding_rate: int) -> None:
    if not CODING_4_5 <= coding_rate <= CODING_4_8:
        raise ValueError(f"coding rate {coding_rate} out of range")


def validate_power_mode(power_mode: int) -> None:
    if power_mode > SLEEP:
        raise ValueError(f"invalid power mode {power_mode}")


def validate_device_class(device_class: int) -> None:
    if device_class not in (CLASS_A, CLASS_C):
        raise ValueError(f"invalid device_class {s32(device_class)}")


def validate_join_dr(dr: int, region: int) -> None:
    """The join data rates ``lora_join`` accepts per region (IN865: any)."""
    allowed = {AS923: (2,), AU915: (0, 6), US915: (0, 4), US915_HYBRID: (0, 4)}.get(region)
    bad = u32(dr) not in allowed if allowed is not None else region in (EU433, CN470, EU868) and u32(dr) > 5
    if bad:
        raise ValueError(f"invalid join data rate {s32(dr)}")


def check_init(values: list[Any], config_region: int, lopy4: bool, on_region: Any = None) -> InitConfig:
    """``lora_init_helper``'s checks of the :data:`INIT_ARGS` values, in its order; ``on_region(region)``
    is called once the region is known and valid (the firmware stores it before the other checks)."""
    (mode, frequency, tx_power, bandwidth, sf, preamble, coding_rate, power_mode, txiq, rxiq, adr, public,
     tx_retries, device_class, region) = values  # fmt: skip
    config = InitConfig(stack_mode=u8(mode))
    validate_mode(config.stack_mode)
    if region is None:
        if config_region == NO_REGION:
            raise ValueError(NO_DEFAULT_REGION)
        config.region = config_region
    else:
        config.region = u32(to_int(region))
    validate_region(config.region, lopy4)
    if on_region is not None:
        on_region(config.region)
    if frequency is None:
        config.frequency = DEFAULT_FREQUENCY.get(config.region, 0)
    else:
        config.frequency = u32(to_int(frequency))
        validate_frequency(config.frequency, config.region, lopy4)
    if tx_power is None:
        config.tx_power = DEFAULT_TX_POWER.get(config.region, 0)
    else:
        config.tx_power = u8(to_int(tx_power))
        validate_power(config.tx_power)
    config.bandwidth = u8(bandwidth)
    validate_bandwidth(config.bandwidth)
    config.sf = u8(sf)
    validate_sf(config.sf)
    config.preamble = u8(preamble)
    config.coding_rate = u8(coding_rate)
    validate_coding_rate(config.coding_rate)
    config.power_mode = u8(power_mode)
    validate_power_mode(config.power_mode)
    config.txiq, config.rxiq, config.adr, config.public = txiq, rxiq, adr, public
    config.tx_retries = u8(tx_retries)
    config.device_class = u32(device_class)
    validate_device_class(config.device_class)
    return config
