# Small drivers for the Pysense / Pytrack chips (I2C on P22/P21), as a project would write them.
import struct
import time

from machine import I2C

PIC = 8


class Coproc:
    def __init__(self):
        self.i2c = I2C(0, mode=I2C.MASTER, pins=("P22", "P21"))
        self.fw = self.cmd(bytes([0x11]), 2)
        self.fw = self.fw[0] + (self.fw[1] << 8)

    def cmd(self, data, n=0):
        self.i2c.writeto(PIC, data)
        while self.i2c.readfrom(PIC, 1)[0] != 0xFF:
            time.sleep_ms(1)
        return self.i2c.readfrom(PIC, n + 1)[1:]

    def peek(self, addr):
        return self.cmd(bytes([0, addr & 0xFF, addr >> 8]), 1)[0]

    def poke(self, addr, value):
        self.cmd(bytes([1, addr & 0xFF, addr >> 8, value]))

    def battery(self):
        self.poke(0x9D, (6 << 2) | 1)
        self.poke(0x9E, 0x60)
        self.poke(0x9D, (6 << 2) | 3)
        while self.peek(0x9D) & 2:
            time.sleep_ms(1)
        adc = (self.peek(0x9C) << 2) + (self.peek(0x9B) >> 6)
        return adc * 3.3 * 280 / 1023 / 180 + 0.01

    def wake_reason(self):
        return self.peek(0x64C)

    def sleep_left(self):
        return self.peek(0x64D) + (self.peek(0x64E) << 8) + (self.peek(0x64F) << 16)

    def sleep(self, seconds):
        self.cmd(bytes([0x20, seconds & 0xFF, (seconds >> 8) & 0xFF, seconds >> 16]))
        if self.fw < 16:
            self.i2c.writeto(PIC, bytes([0x21]))
        else:
            self.i2c.writeto(PIC, bytes([0x23, 0x0F]))


def temperature(i2c):
    i2c.writeto(0x40, bytes([0xF3]))
    time.sleep_ms(20)
    d = i2c.readfrom(0x40, 3)
    return 175.72 * ((d[0] << 8) + d[1]) / 65536 - 46.85


def humidity(i2c):
    i2c.writeto(0x40, bytes([0xF5]))
    time.sleep_ms(20)
    d = i2c.readfrom(0x40, 2)
    return 125.0 * ((d[0] << 8) + d[1]) / 65536 - 6


def light(i2c):
    i2c.writeto_mem(0x29, 0x80, bytes([0x01]))
    time.sleep_ms(10)
    ch1 = i2c.readfrom_mem(0x29, 0x88, 2)
    ch0 = i2c.readfrom_mem(0x29, 0x8A, 2)
    return (ch0[0] + (ch0[1] << 8), ch1[0] + (ch1[1] << 8))


def pressure(i2c):
    i2c.writeto_mem(0x60, 0x26, bytes([0x38]))
    i2c.writeto_mem(0x60, 0x26, bytes([0x39]))
    status = bytearray(1)
    while not status[0] & 0x04:
        time.sleep_ms(10)
        i2c.readfrom_mem_into(0x60, 0x00, status)
    p = i2c.readfrom_mem(0x60, 0x01, 3)
    return (p[0] << 10) + (p[1] << 2) + (p[2] >> 6) + ((p[2] >> 4) & 3) / 4.0


def acceleration(i2c):
    if i2c.readfrom_mem(0x1E, 0x0F, 1)[0] != 0x41:
        raise ValueError("no LIS2HH12")
    i2c.writeto_mem(0x1E, 0x20, bytes([0x27]))
    i2c.writeto_mem(0x1E, 0x23, bytes([0x24]))
    x, y, z = struct.unpack("<hhh", i2c.readfrom_mem(0x1E, 0x28, 6))
    return (x * 4.0 / 32768, y * 4.0 / 32768, z * 4.0 / 32768)


def position(i2c, timeout_ms=5000):
    # what waits in the receiver is old: let it go, then read the next fix's GGA
    while i2c.readfrom(0x10, 255).strip(b"\n"):
        pass
    start = time.ticks_ms()
    buf = b""
    while time.ticks_diff(time.ticks_ms(), start) < timeout_ms:
        buf += i2c.readfrom(0x10, 64)
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if not line.startswith(b"$GNGGA"):
                continue
            f = line.strip().decode().split(",")
            if f[6] == "0":
                return None
            lat = int(f[2][:2]) + float(f[2][2:]) / 60
            lon = int(f[4][:3]) + float(f[4][3:]) / 60
            return (-lat if f[3] == "S" else lat, -lon if f[5] == "W" else lon, float(f[9]))
        time.sleep_ms(20)
    return None
