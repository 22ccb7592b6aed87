"""``network.LoRa`` as Pycom firmware 1.20.2.r6 has it (``esp32/mods/modlora.c``): one object whatever the
number of ``LoRa(...)`` calls, its constructor and ``init`` arguments and their checks per region, every
method of ``lora_locals_dict_table`` with its arity and errors, and the class constants with the
firmware's values.

``LoRa(...)`` runs ``init`` when keywords are given or the radio was never set up (a bare ``LoRa()``
later returns the object as it is). Raw LoRa (``mode=LoRa.LORA``) sends and receives on the board's
medium (:mod:`.radio`); LoRaWAN (``mode=LoRa.LORAWAN``) goes through the MAC (:mod:`.lorawan`). The
setters (``sf(9)``, ``frequency(...)`` ...) re-run INIT with the new value, as the firmware does.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..coap.api.mpargs import check_count, get_array, get_array_fixed_n, to_int
from . import args as A
from .args import (
    INIT_ARGS,
    MAKE_NEW_ARGS,
    RESOURCE_NOT_AVAILABLE,
    Arg,
    check_init,
    parse,
    u8,
    u32,
)
from .control import Control, control, forget
from .settings import BOARD, lora_mac
from .task import RESET_DONE

__all__ = ["ComplianceTest", "LoRa", "LoRaStats", "hard_reset"]


def attrtuple_repr(value: tuple[Any, ...]) -> str:
    """How MicroPython prints an attrtuple: ``(name=value, ...)``."""
    fields = getattr(value, "_fields", ())
    return "(" + ", ".join(f"{name}={item!r}" for name, item in zip(fields, value, strict=True)) + ")"


class LoRaStats(NamedTuple):
    """``stats()``: an attrtuple on the board."""

    rx_timestamp: int
    rssi: int
    snr: float
    sfrx: int
    sftx: int
    tx_trials: int
    tx_power: int
    tx_time_on_air: int
    tx_counter: int
    tx_frequency: int

    def __repr__(self) -> str:
        return attrtuple_repr(self)


class ComplianceTest(NamedTuple):
    """``compliance_test()``: an attrtuple on the board."""

    enabled: bool
    running: bool
    state: int
    tx_confirmed: bool
    downlink_counter: int
    link_check: bool
    demod_margin: int
    nbr_gateways: int

    def __repr__(self) -> str:
        return attrtuple_repr(self)


_JOIN = (Arg("activation", A.INT, A.REQUIRED, False), Arg("auth", A.OBJ, A.REQUIRED),
         Arg("dr", A.OBJ, None), Arg("timeout", A.OBJ, None))  # fmt: skip
_ADD_CHANNEL = (Arg("index", A.INT, A.REQUIRED, False), Arg("frequency", A.INT, A.REQUIRED),
                Arg("dr_min", A.INT, A.REQUIRED), Arg("dr_max", A.INT, A.REQUIRED))  # fmt: skip
_CALLBACK = (Arg("trigger", A.OBJ, A.REQUIRED, False), Arg("handler", A.OBJ, None, False),
             Arg("arg", A.OBJ, None, False))  # fmt: skip
_MULTICAST = (Arg("mcAddress", A.INT, A.REQUIRED, False), Arg("mcNwkKey", A.OBJ, A.REQUIRED, False),
              Arg("mcAppKey", A.OBJ, A.REQUIRED, False))  # fmt: skip
JOIN_WAIT_S = 0.05  # LORA_JOIN_WAIT_MS


def hard_reset() -> None:
    """A fresh LoRa object, radio and stack (tests; a new process has them by itself)."""
    LoRa._instance = None
    forget()


def _sleep(seconds: float) -> None:
    import time

    from .. import host

    time.sleep(host.host_seconds(seconds))


class LoRa:
    """The LoRa radio of the LoPy, LoPy4 and FiPy (``network.LoRa``)."""

    LORA, LORAWAN = A.LORA, A.LORAWAN
    OTAA, ABP = A.OTAA, A.ABP
    ALWAYS_ON, TX_ONLY, SLEEP = A.ALWAYS_ON, A.TX_ONLY, A.SLEEP
    BW_125KHZ, BW_250KHZ, BW_500KHZ = A.BW_125KHZ, A.BW_250KHZ, A.BW_500KHZ
    CODING_4_5, CODING_4_6, CODING_4_7, CODING_4_8 = A.CODING_4_5, A.CODING_4_6, A.CODING_4_7, A.CODING_4_8
    RX_PACKET_EVENT, TX_PACKET_EVENT = A.RX_PACKET_EVENT, A.TX_PACKET_EVENT
    TX_FAILED_EVENT = A.TX_FAILED_EVENT
    CLASS_A, CLASS_C = A.CLASS_A, A.CLASS_C
    AS923, AU915, EU868, US915 = A.AS923, A.AU915, A.EU868, A.US915
    CN470, IN865, EU433 = A.CN470, A.IN865, A.EU433
    timeout = TimeoutError

    _instance: LoRa | None = None

    def __new__(cls, *args: Any, **kwargs: Any) -> LoRa:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """``LoRa(id=0, *, mode=LoRa.LORA, frequency, tx_power, bandwidth=LoRa.BW_125KHZ, sf=7, preamble=8,
        coding_rate=LoRa.CODING_4_5, power_mode=LoRa.ALWAYS_ON, tx_iq=False, rx_iq=False, adr=False,
        public=True, tx_retries=2, device_class=LoRa.CLASS_A, region)``."""
        values = parse(args, kwargs, MAKE_NEW_ARGS)
        ctl = control()
        if values[0] != 0:
            raise OSError(RESOURCE_NOT_AVAILABLE)
        with ctl.lock:
            if kwargs or not ctl.initialised:
                self._init_helper(ctl, values[1:])
                ctl.registered = True

    def __repr__(self) -> str:
        return "<LoRa>"

    @staticmethod
    def _init_helper(ctl: Control, values: list[Any]) -> None:
        def keep_region(region: int) -> None:
            ctl.radio.config.region = region  # lora_obj.region, set before the other checks

        config = check_init(values, BOARD.config_region, BOARD.lopy4, keep_region)
        ctl.init(config)

    def init(self, *args: Any, **kwargs: Any) -> None:
        """``init(*, mode, region, frequency, ...)``: the constructor's keywords (no ``id``)."""
        values = parse(args, kwargs, INIT_ARGS)
        ctl = control()
        with ctl.lock:
            self._init_helper(ctl, values)

    # -- LoRaWAN: join ------------------------------------------------------------------------------

    def join(self, *args: Any, **kwargs: Any) -> None:
        """``join(activation, *, auth, dr=None, timeout=None)``: OTAA ``auth=(app_eui, app_key)`` (the
        board's MAC as DevEUI) or ``(dev_eui, app_eui, app_key)``; ABP ``(dev_addr, nwk_skey, app_skey)``.
        ``timeout`` (ms) waits for the join (``TimeoutError``); 0 returns at once."""
        ctl = control()
        if ctl.config.stack_mode != A.LORAWAN:
            raise OSError(A.REQUEST_NOT_POSSIBLE)
        activation, auth, dr_obj, timeout_obj = parse(args, kwargs, _JOIN)
        activation = u32(activation)
        if activation > A.ABP:
            raise ValueError(f"invalid activation type {A.s32(activation)}")
        if activation == A.OTAA:
            items = get_array(auth)
            if len(items) == 2:
                app_eui, app_key = A.readable(items[0]), A.readable(items[1])
                dev_eui = lora_mac()
            else:
                dev_eui = A.readable(items[0]) if items else A.readable(None)
                if len(items) < 3:
                    raise TypeError("object with buffer protocol required")  # the firmware reads past the end
                app_eui, app_key = A.readable(items[1]), A.readable(items[2])
            keys: tuple[Any, ...] = (A.fixed(dev_eui, 8), A.fixed(app_eui, 8), A.fixed(app_key, 16))
        else:
            items = get_array_fixed_n(auth, 3)
            nwk_skey, app_skey = A.readable(items[1]), A.readable(items[2])
            keys = (u32(to_int(items[0])), A.fixed(nwk_skey, 16), A.fixed(app_skey, 16))
        region = ctl.config.region
        dr = A.JOIN_DR_DEFAULT.get(region, 0)
        if dr_obj is not None:
            dr = u32(to_int(dr_obj))
            A.validate_join_dr(dr, region)
        timeout = 0x7FFF_FFFF if timeout_obj is None else to_int(timeout_obj)
        with ctl.lock:
            ctl.send_cmd(lambda: ctl.stack.join_command(activation, keys, dr))
        if timeout > 0:
            while not ctl.stack.joined and timeout >= 0:
                _sleep(JOIN_WAIT_S)
                timeout -= int(JOIN_WAIT_S * 1000)
            if timeout <= 0:
                ctl.stack.stop_join_timer()
                raise TimeoutError(A.TIMED_OUT)

    def has_joined(self, *args: Any, **kwargs: Any) -> bool:
        check_count((self, *args), kwargs, 1, 1)
        return control().stack.joined

    def join_multicast_group(self, *args: Any, **kwargs: Any) -> bool:
        """``join_multicast_group(mcAddress, mcNwkKey, mcAppKey)``: downlinks to that address are received."""
        address, nwk, app = parse(args, kwargs, _MULTICAST)
        keys = (A.fixed(A.readable(nwk), 16), A.fixed(A.readable(app), 16))
        return control().stack.add_multicast(u32(address), *keys)

    def leave_multicast_group(self, *args: Any, **kwargs: Any) -> bool:
        check_count((self, *args), kwargs, 2, 2)
        return control().stack.remove_multicast(u32(to_int(args[0])))

    # -- the radio's settings ---------------------------------------------------------------------------

    def _setting(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], name: str, check: Any, cast: Any
    ) -> int | None:
        """A getter/setter of ``lora_obj``'s ``name``; setting re-runs INIT with the new value."""
        check_count((self, *args), kwargs, 1, 2)
        ctl = control()
        if not args:
            return int(ctl.radio.tx_power if name == "tx_power" else getattr(ctl.config, name))
        value = cast(to_int(args[0]))
        if check is not None:
            check(value)
        with ctl.lock:
            ctl.init(A.InitConfig(**{**vars(ctl.config), name: value}))
        return None

    def tx_power(self, *args: Any, **kwargs: Any) -> int | None:
        return self._setting(args, kwargs, "tx_power", A.validate_power, u8)

    def coding_rate(self, *args: Any, **kwargs: Any) -> int | None:
        return self._setting(args, kwargs, "coding_rate", A.validate_coding_rate, u8)

    def preamble(self, *args: Any, **kwargs: Any) -> int | None:
        return self._setting(args, kwargs, "preamble", None, u8)

    def bandwidth(self, *args: Any, **kwargs: Any) -> int | None:
        return self._setting(args, kwargs, "bandwidth", A.validate_bandwidth, u8)

    def sf(self, *args: Any, **kwargs: Any) -> int | None:
        return self._setting(args, kwargs, "sf", A.validate_sf, u8)

    def frequency(self, *args: Any, **kwargs: Any) -> int | None:
        ctl = control()

        def check(value: int) -> None:
            A.validate_frequency(value, ctl.config.region, BOARD.lopy4)

        return self._setting(args, kwargs, "frequency", check, u32)

    def power_mode(self, *args: Any, **kwargs: Any) -> int | None:
        """``power_mode([mode])``: ALWAYS_ON wakes the receiver, TX_ONLY and SLEEP put the radio to sleep."""
        check_count((self, *args), kwargs, 1, 2)
        ctl = control()
        if not args:
            return ctl.config.power_mode
        mode = u8(to_int(args[0]))
        A.validate_power_mode(mode)
        ctl.config.power_mode = mode
        with ctl.lock:
            ctl.send_cmd(ctl.stack.wake_command if mode == A.ALWAYS_ON else ctl.stack.sleep_command)
        return None

    # -- figures -------------------------------------------------------------------------------------------

    def stats(self, *args: Any, **kwargs: Any) -> LoRaStats:
        """``(rx_timestamp, rssi, snr, sfrx, sftx, tx_trials, tx_power, tx_time_on_air, tx_counter,
        tx_frequency)`` of the last frame received and sent."""
        check_count((self, *args), kwargs, 1, 1)
        r = control().radio
        raw = r.snr_raw & 0xFF
        snr = -float(((~raw + 1) & 0xFF) // 4) if raw & 0x80 else float(raw // 4)
        return LoRaStats(r.rx_timestamp, r.rssi, snr, r.sfrx, r.sftx, r.tx_trials, r.tx_power,
                         r.tx_time_on_air, r.tx_counter, r.tx_frequency)  # fmt: skip

    def airtime(self, *args: Any, **kwargs: Any) -> int:
        """``airtime(length)``: ms on air of a frame of ``length`` bytes with the radio's settings."""
        check_count((self, *args), kwargs, 2, 2)
        return control().radio.airtime_ms(to_int(args[0]))

    def mac(self, *args: Any, **kwargs: Any) -> bytes:
        check_count((self, *args), kwargs, 1, 1)
        return lora_mac()

    def ischannel_free(self, *args: Any, **kwargs: Any) -> bool:
        """``ischannel_free(rssi_threshold, time_ms)``: False as soon as the channel reads above the
        threshold within ``time_ms``; the radio sleeps afterwards (``SX1276IsChannelFree``)."""
        check_count((self, *args), kwargs, 3, 3)
        threshold = A.s16(to_int(args[0]))
        left = u32(to_int(args[1]))
        radio = control().radio
        _sleep(0.001)
        free = True
        while True:
            if radio.channel_rssi() > threshold:
                free = False
                break
            _sleep(0.001)
            left = u32(left - 1)
            if left == 0:
                break
        radio.sleep()
        return free

    # -- events ---------------------------------------------------------------------------------------------

    def callback(self, *args: Any, **kwargs: Any) -> None:
        """``callback(trigger, handler=None, arg=None)``: ``handler(arg)`` (``arg`` default: this object)
        on the events in ``trigger``; no handler (or trigger None) disables it."""
        trigger, handler, arg = parse(args, kwargs, _CALLBACK)
        radio = control().radio
        with radio.lock:
            if trigger is not None and handler is not None:
                radio.trigger = u8(to_int(trigger))
                radio.handler = handler
                radio.handler_arg = self if arg is None else arg
            else:
                radio.trigger = 0
                radio.handler = radio.handler_arg = None

    def events(self, *args: Any, **kwargs: Any) -> int:
        """The events since the last call (``RX_PACKET_EVENT`` ...), then cleared."""
        check_count((self, *args), kwargs, 1, 1)
        radio = control().radio
        with radio.lock:
            events, radio.events = radio.events, 0
        return events

    # -- LoRaWAN's channels, battery, compliance, nvram -----------------------------------------------------

    def add_channel(self, *args: Any, **kwargs: Any) -> None:
        """``add_channel(index, *, frequency, dr_min, dr_max)``."""
        index, frequency, dr_min, dr_max = parse(args, kwargs, _ADD_CHANNEL)
        ctl = control()
        region = ctl.config.region
        A.validate_channel(index, region)
        dr_min, dr_max = u32(dr_min), u32(dr_max)
        if dr_min > dr_max or not A.data_rate_ok(dr_min, region) or not A.data_rate_ok(dr_max, region):
            raise ValueError(A.INVALID_ARGUMENTS)
        with ctl.lock:
            ctl.send_cmd(lambda: ctl.stack.channel_command(u8(index), u32(frequency), u8(dr_min), u8(dr_max)))

    def remove_channel(self, *args: Any, **kwargs: Any) -> None:
        check_count((self, *args), kwargs, 2, 2)
        ctl = control()
        index = u32(to_int(args[0]))
        A.validate_channel(index, ctl.config.region)
        with ctl.lock:
            ctl.send_cmd(lambda: ctl.stack.channel_command(u8(index), None, 0, 0))

    def set_battery_level(self, *args: Any, **kwargs: Any) -> None:
        """The level (0 external power, 1..254, 255 unknown) the MAC reports in DevStatusAns."""
        check_count((self, *args), kwargs, 2, 2)
        control().stack.battery = u8(to_int(args[0]))

    def compliance_test(self, *args: Any, **kwargs: Any) -> ComplianceTest | None:
        """``compliance_test()`` reads the LoRaWAN certification test state; ``compliance_test(enable
        [, state [, link_check]])`` sets it."""
        check_count((self, *args), kwargs, 1, 4)
        test = control().stack.compliance
        if not args:
            return ComplianceTest(test.enabled, test.running, test.state, test.tx_confirmed,
                                  test.downlink_counter, test.link_check, test.demod_margin,
                                  test.nbr_gateways)  # fmt: skip
        control().stack.set_compliance(bool(args[0]))
        if len(args) > 1:
            test.state = u8(to_int(args[1]))
            if len(args) > 2:
                test.link_check = bool(args[2])
        return None

    def nvram_save(self, *args: Any, **kwargs: Any) -> None:
        check_count((self, *args), kwargs, 1, 1)
        ctl = control()
        with ctl.lock:
            ctl.nvram_save()

    def nvram_restore(self, *args: Any, **kwargs: Any) -> None:
        check_count((self, *args), kwargs, 1, 1)
        ctl = control()
        with ctl.lock:
            ctl.nvram_restore()

    def nvram_erase(self, *args: Any, **kwargs: Any) -> None:
        check_count((self, *args), kwargs, 1, 1)
        from .nvram import nvram

        nvram().erase_all()

    def reset(self, *args: Any, **kwargs: Any) -> None:
        """Flush the command queue and initialise the radio (and MAC) again with the same settings."""
        check_count((self, *args), kwargs, 1, 1)
        ctl = control()
        with ctl.lock:
            ctl.radio.task.flush()
            ctl.resetting = True
            ctl.reinit()
            ctl.radio.status.wait(RESET_DONE)
