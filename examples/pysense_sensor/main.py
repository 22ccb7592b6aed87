# A Pysense 1.0/2.0 X sensor: one reading of each chip, with our own small drivers (lib/sensors.py).
# Simulated:
#   firmware-sim run --shield pysense --environment examples/pysense_sensor/env.json \
#       examples/pysense_sensor
from sensors import Coproc, acceleration, humidity, light, pressure, temperature

py = Coproc()
print("Temperature: %.2f deg C" % temperature(py.i2c))
print("Humidity: %.2f %%RH" % humidity(py.i2c))
print("Light: %d %d" % light(py.i2c))
print("Pressure: %.2f Pa" % pressure(py.i2c))
print("Acceleration: %.3f %.3f %.3f" % acceleration(py.i2c))
print("Battery: %.2f V" % py.battery())
