# A TMP36 analog temperature sensor on an ADC pin: 10 mV per degree C, 500 mV at 0 C.
# Its datasheet range is -40 C (100 mV) .. 125 C (1750 mV): a reading outside it means a fault
# (a loose wire, a short), and read() returns None for it.
from machine import ADC

LOW_MV = 100
HIGH_MV = 1750


class TMP36:
    def __init__(self, pin):
        adc = ADC(bits=12)
        self.channel = adc.channel(pin=pin, attn=ADC.ATTN_11DB)

    def millivolts(self):
        return self.channel.voltage()

    def read(self):
        mv = self.millivolts()
        if mv < LOW_MV or mv > HIGH_MV:
            return None
        return (mv - 500) / 10.0
