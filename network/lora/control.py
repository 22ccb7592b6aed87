"""The board's one ``lora_obj`` (``modlora.c``, firmware 1.20.2.r6): the radio, the LoRaWAN stack, and the
commands the ``LoRa`` methods and the LoRa sockets send the LoRa task (``lora_send_cmd``): INIT, JOIN,
CONFIG_CHANNEL, SLEEP and WAKE_UP. Shared by :mod:`.api` (the class) and :mod:`.socket` (the sockets).

``E_LORA_CMD_INIT`` in LoRaWAN mode initialises the MAC afresh (``LoRaMacInitialization``): a device
that had joined loses its session unless ``nvram_restore`` found one, in which case the stored session
comes back (as an ABP join) and the stored ``JOINED`` flag is cleared until the next ``nvram_save``.
Every INIT leaves ``has_joined()`` False until that restore completes.
"""

from __future__ import annotations

import threading
from typing import Any

from .args import LORAWAN, OPERATION_FAILED, InitConfig
from .lorawan import Stack
from .nvram import JOINED, REGION, SESSION, nvram
from .radio import Radio
from .task import COMPLETED, ERROR, MSG_SIZE, RESET_DONE

__all__ = ["Control", "control", "existing", "forget"]


class Control:
    """``lora_obj`` and the NIC registration (``mod_network_register_nic``)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()  # one LoRa call at a time (the GIL)
        self.radio = Radio()
        self.stack = Stack(self.radio)
        self.initialised = False  # state != E_LORA_STATE_NOINIT
        self.registered = False  # a socket(AF_LORA) finds the NIC
        self.resetting = False

    @property
    def config(self) -> InitConfig:
        return self.radio.config

    def send_cmd(self, command: Any) -> None:
        """``lora_send_cmd``: queue ``command``, wait until it completes; an error is ``OSError``."""
        status = self.radio.status
        status.clear(COMPLETED | ERROR | MSG_SIZE)

        def guarded() -> None:
            try:
                command()
            except Exception:  # a failing step of the model: the call fails rather than waiting for ever
                status.set(ERROR)
                raise

        self.radio.task.submit(guarded)
        if status.wait(COMPLETED | ERROR) & ERROR:
            raise OSError(OPERATION_FAILED)

    def init(self, config: InitConfig) -> None:
        """Send ``E_LORA_CMD_INIT`` with ``config`` and wait for it."""
        self.send_cmd(lambda: self._init_command(config))
        self.initialised = True

    def reinit(self) -> None:
        """INIT with the present configuration (``lora_get_config``), as the setters do."""
        self.init(InitConfig(**vars(self.config)))

    def _init_command(self, config: InitConfig) -> None:
        radio = self.radio
        is_reset, self.resetting = self.resetting, False
        radio.config = config
        radio.tx_power = config.tx_power
        radio.task.cancel_all()
        radio.task.set_busy(False)
        if config.stack_mode == LORAWAN:
            radio.sleep()
            restored = self.stack.initialize(config, restore=self.stack.joined)
        else:
            self.stack.shutdown()
            radio.setup()
            restored = False
        self.stack.joined = False
        if restored:
            self.stack.join_restored()  # E_LORA_STATE_JOIN: an ABP join with the stored session
        else:
            radio.status.set(COMPLETED)
        if is_reset:
            radio.status.set(RESET_DONE)

    # -- nvram (LORA_NVM) ---------------------------------------------------------------------------

    def nvram_save(self) -> None:
        store = nvram()
        if store.get(REGION) != self.config.region:
            store.erase_all()
        store.set(**{SESSION: self.stack.save_session(), REGION: self.config.region,
                     JOINED: int(self.stack.joined)})  # fmt: skip

    def nvram_restore(self) -> None:
        joined = nvram().get(JOINED)
        if joined is None:
            self.stack.joined = False
            return
        self.stack.joined = bool(joined)
        if not joined:
            return
        region = nvram().get(REGION)
        if region is None:
            return
        if region == self.config.region:
            self.reinit()
        else:
            nvram().erase_all()
            self.stack.joined = False

    def close(self) -> None:
        self.stack.shutdown()
        self.radio.close()


_CONTROL: Control | None = None
_CONTROL_LOCK = threading.Lock()


def control() -> Control:
    """The board's ``lora_obj`` (made on first use: ``modlora_init0``)."""
    global _CONTROL
    with _CONTROL_LOCK:
        if _CONTROL is None:
            _CONTROL = Control()
        return _CONTROL


def existing() -> Control | None:
    """The board's ``lora_obj`` if ``LoRa`` was ever used (nothing is started)."""
    with _CONTROL_LOCK:
        return _CONTROL


def forget() -> None:
    """A fresh radio and stack (tests; a new process has one by itself)."""
    global _CONTROL
    with _CONTROL_LOCK:
        if _CONTROL is not None:
            _CONTROL.close()
        _CONTROL = None
