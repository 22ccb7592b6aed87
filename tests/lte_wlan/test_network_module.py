"""What ``network`` shows: the firmware's classes (``esp32/mods/modnetwork.c``) and nothing else.

A plain Python process has every simulated class (``WLAN``, ``LoRa``, ``LTE``, ``Server``, ``Coap``,
``MDNS``); a simulated board only those of its kind and firmware: ``LoRa`` on LoPy, LoPy4 and FiPy, ``LTE``
on FiPy and GPy, no ``MDNS`` on 1.20.3.b2
(its build has ``MOD_MDNS_ENABLED`` off). The emulator's own settings (``network.host`` ...) are not
public names.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import run_board

import network


@pytest.mark.unit
def test_plain_python_has_every_simulated_firmware_class() -> None:
    from network import LTE, MDNS, WLAN, Coap, LoRa, Server  # noqa: F401

    assert network.__all__ == ["WLAN", "LoRa", "Sigfox", "LTE", "Server", "Coap", "MDNS"]
    assert not {"host", "addresses", "profile"} & set(network.__all__)


@pytest.mark.unit
def test_network_never_imports_the_simulator() -> None:
    root = Path(network.__file__).parent
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            assert not any(name.split(".")[0] == "firmware_sim" for name in names), path


@pytest.mark.unit
def test_server_and_mdns_are_accepted_and_do_nothing() -> None:
    server = network.Server(login=("user", "secret"), timeout=60)
    assert server.isrunning() and server.timeout() == 60
    server.timeout(30)
    server.deinit()
    assert not server.isrunning() and server.timeout() == 30
    with pytest.raises(OSError, match="resource not available"):
        network.Server(1)
    network.MDNS.init()
    network.MDNS.set_name(hostname="board", instance_name="my board")
    network.MDNS.add_service("_coap", network.MDNS.PROTO_UDP, 5683, txt=(("board", "lopy4"),))
    assert network.MDNS.query("_coap", network.MDNS.PROTO_UDP) == []
    network.MDNS.deinit()


BOARD_MAIN = """\
import network
print(sorted(name for name in dir(network) if not name.startswith('_')))
"""


@pytest.mark.process
@pytest.mark.parametrize(
    ("kind", "firmware", "names"),
    [
        ("lopy4", "docs", ["Coap", "LoRa", "MDNS", "Server", "Sigfox", "WLAN"]),
        ("fipy", "docs", ["Coap", "LTE", "LoRa", "MDNS", "Server", "Sigfox", "WLAN"]),
        ("gpy", "1.20.2.r6", ["Coap", "LTE", "MDNS", "Server", "WLAN"]),
        ("wipy", "1.20.3.b2", ["Coap", "Server", "WLAN"]),
    ],
)
def test_a_board_has_the_classes_of_its_kind_and_firmware(
    kind: str, firmware: str, names: list[str], ip: str, tmp_path: Path
) -> None:
    done = run_board(tmp_path / "flash", BOARD_MAIN, kind=kind, firmware=firmware, ip=ip)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == repr(names)
