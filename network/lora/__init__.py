"""Pycom's ``network.LoRa`` for CPython (firmware 1.20.2.r6, ``esp32/mods/modlora.c``): region tables,
time on air, the simulated air between boards, the LoRaWAN MAC and the ``LoRa`` class built on them."""
