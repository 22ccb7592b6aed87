"""The sensor and its display on two simulated boards, with the network between them in the test's
hands (the `link` fixture): the display says when the sensor is lost and when it is back."""

import re


def test_the_display_shows_the_sensor_and_copes_with_a_cut(boards, link):
    sensor = boards("sensor")  # this folder, as pymakr.conf selects it
    sensor.expect("serving /temperature")
    cable = link(sensor)  # the sensor's CoAP port behind a relay the test controls
    display = boards("display", project="display", map={"192.168.1.20": cable.address})
    display.expect(r"display: -?\d+\.\d")

    cable.partition()
    display.expect("display: sensor lost")
    cable.heal()
    display.expect("display: sensor back")
    display.expect(r"display: -?\d+\.\d")
    assert cable.stats["to_target"]["dropped"] > 0


def test_the_display_follows_the_sensor_over_a_lossy_link(boards, link):
    sensor = boards("sensor")
    sensor.expect("serving /temperature")
    cable = link(sensor, seed=7)
    cable.impair(loss=0.2, duplicate=0.2, delay=0.01)
    display = boards("display", project="display", map={"192.168.1.20": cable.address})
    sensor.environment("voltage/P16", 1.2)
    sensor.expect("temperature now 70.0")
    display.expect("display: 70.0", timeout=20)  # CoAP retransmits what the link loses
    assert not re.search("Traceback", display.output + sensor.output)
