"""``firmware-sim gateway``: a virtual LoRa gateway on a LoRa medium, forwarding what it hears to a
network server over Semtech's UDP packet-forwarder protocol (``network/lora/gateway.py``), so simulated
nodes talk to ChirpStack or The Things Stack unchanged.

The server must be on loopback unless ``--allow-lan``; anything else is refused with one line before
anything is sent. :func:`gateway_command` turns an ``up`` file's gateway table into this command.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from ..children import stop_on
from . import options
from .lora_options import check_lora_links, check_lora_medium, split_link_entry
from .usage import UsageError

EXAMPLES = """\
examples:
  firmware-sim gateway --server 127.0.0.1:1700
      the default medium ($FIRMWARE_SIM_LORA_MEDIUM, else 'lora'), EU868's 8 channels, SF7..SF12
  firmware-sim gateway --medium lab --server 127.0.0.1:1700 --region US915 --time-scale 10
  firmware-sim gateway --medium lab --server 192.168.1.20:1700 --allow-lan
      a network server on another machine (ChirpStack's gateway bridge, The Things Stack): opt in

Boards on the same medium (firmware-sim run --lora-medium lab ...) are heard on the gateway's channels;
what the server sends back (PULL_RESP) goes on the air at its tmst, the gateway's microsecond counter.
"""

# the keys of a gateway table in an ``up`` file (see gateway_command)
GATEWAY_KEYS = {"name", "server", "region", "channels", "eui", "ip", "lora_medium", "lora_link", "allow_lan"}
GATEWAY_KEYS |= {"time_scale", "keepalive", "stat_interval", "delay"}


def add_parser(sub: argparse._SubParsersAction) -> None:
    gateway = sub.add_parser(
        "gateway",
        help="a virtual LoRa gateway forwarding a LoRa medium to a network server (Semtech UDP protocol)",
        description="A virtual LoRa gateway (Semtech packet forwarder, protocol v2): it listens on a LoRa "
        "medium's channels, forwards each frame to the network server (PUSH_DATA), keeps the downlink "
        "route open (PULL_DATA), and transmits each PULL_RESP at its tmst with a TX_ACK.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    gateway.add_argument(
        "--server", metavar="HOST:PORT", required=True, help="the network server's UDP address"
    )
    gateway.add_argument("--medium", metavar="NAME", help="the LoRa medium (default: as boards, 'lora')")
    gateway.add_argument("--region", default="EU868", help="channel plan and transmit band (default EU868)")
    gateway.add_argument("--channels", metavar="MHZ,...", help="receive channels instead of the region's")
    gateway.add_argument("--eui", metavar="HEX", help="the gateway EUI, 8 bytes (default: from its address)")
    gateway.add_argument("--ip", metavar="ADDRESS", help="its loopback address (default: a free 127.0.0.x)")
    gateway.add_argument(
        "--lora-link",
        metavar="PEER=LOSS",
        action="append",
        help="the radio path to the board at loopback address PEER: 120dB or 2km; repeatable",
    )
    gateway.add_argument("--keepalive", metavar="S", type=float, default=10.0, help="PULL_DATA period (10)")
    gateway.add_argument("--stat-interval", metavar="S", type=float, default=30.0, help="stat period (30)")
    gateway.add_argument("--time-scale", metavar="N", help="its counter runs N times faster, as boards do")
    gateway.add_argument("--timeout", metavar="SECONDS", type=float, help="stop after this many seconds")
    gateway.add_argument(
        "--allow-lan", action="store_true", help="allow a network server that is not on this machine"
    )
    gateway.add_argument("--quiet", action="store_true", help="print nothing but errors")
    gateway.set_defaults(handler=cmd_gateway)


def _links(items: list[str] | None) -> dict[str, tuple[str, float]]:
    try:
        pairs: list[tuple[str, object]] = [split_link_entry(item) for item in items or []]
        return check_lora_links(pairs)
    except ValueError as err:
        raise UsageError(f"--lora-link: {err}") from None


def _channels(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        found = tuple(round(float(part) * 1_000_000) for part in text.split(",") if part.strip())
    except ValueError:
        found = ()
    if not found or not all(100_000_000 < f < 1_100_000_000 for f in found):
        raise UsageError(f"--channels {text}: give frequencies in MHz, e.g. 868.1,868.3,868.5")
    return found


def build(args: argparse.Namespace) -> Any:
    """The gateway the arguments describe (not started), or UsageError naming the argument."""
    from network import host
    from network.lora.gateway import REGION_CHANNELS, Gateway, GatewayError, check_server
    from network.lora.gwmp import GwmpError, parse_eui
    from network.lora.medium import default_name

    try:
        server = check_server(args.server, allow_remote=args.allow_lan)
    except GatewayError as err:
        raise UsageError(f"--server {err}") from None
    if args.region not in REGION_CHANNELS:
        raise UsageError(f"--region {args.region}: not a region; give one of {', '.join(REGION_CHANNELS)}")
    medium = args.medium or default_name()
    try:
        check_lora_medium(medium)
    except ValueError as err:
        raise UsageError(f"--medium {err}") from None
    try:
        eui = parse_eui(args.eui) if args.eui else None
    except GwmpError as err:
        raise UsageError(f"--eui {err}") from None
    scale = 1.0
    if args.time_scale is not None:
        try:
            scale = options.check_scale(args.time_scale)
        except ValueError as err:
            raise UsageError(f"--time-scale {args.time_scale}: {err}") from None
    for flag, value in (("--keepalive", args.keepalive), ("--stat-interval", args.stat_interval)):
        if not value > 0:
            raise UsageError(f"{flag} {value}: must be above 0 seconds")
    if args.timeout is not None and not args.timeout > 0:
        raise UsageError(f"--timeout {args.timeout}: must be above 0 seconds")
    try:
        ip = host.check_loopback(args.ip) if args.ip else options.BoardOptions().reserve_ip()
    except host.AddressError as err:
        raise UsageError(f"--ip {err}") from None
    quiet = args.quiet

    def log(line: str) -> None:
        if not quiet:
            print(line, flush=True)

    try:
        return Gateway(
            medium,
            server,
            eui=eui,
            region=args.region,
            channels=_channels(args.channels),
            keepalive=args.keepalive,
            stat_interval=args.stat_interval,
            time_scale=scale,
            bind=ip,
            across_processes=True,
            links=_links(args.lora_link),
            log=log,
        )
    except GatewayError as err:
        raise UsageError(str(err)) from None


def cmd_gateway(args: argparse.Namespace) -> int:
    gateway = build(args)
    done = threading.Event()
    with stop_on((signal.SIGTERM, signal.SIGHUP)):
        try:
            gateway.start()
        except OSError as err:
            raise UsageError(f"the gateway cannot start: {err.strerror or err}") from None
        try:
            done.wait(args.timeout)
        except KeyboardInterrupt:
            pass
        finally:
            gateway.stop()
            if not args.quiet:
                stats = gateway.stats()
                summary = ", ".join(f"{k} {stats[k]}" for k in ("rx_forwarded", "push_acked", "tx_emitted"))
                print(f"gateway stopped: {summary}", file=sys.stdout, flush=True)
    return 0


def gateway_command(
    table: dict[str, Any],
    where: str,
    *,
    ip: str,
    medium: str,
    links: dict[str, tuple[str, float]],
    scale: float,
    timeout: float | None,
) -> list[str]:
    """The ``firmware-sim gateway`` command line of an ``up`` file's gateway table (keys:
    :data:`GATEWAY_KEYS`; ``links`` by peer address from the file's ``[[link]]`` tables), or
    UsageError naming the file, the gateway and the key."""
    unknown = sorted(set(table) - GATEWAY_KEYS)
    if unknown:
        raise UsageError(
            f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(GATEWAY_KEYS))}"
        )
    if not isinstance(table.get("server"), str):
        raise UsageError(f'{where}: no server; add server = "127.0.0.1:1700" (the network server, HOST:PORT)')
    command = [sys.executable, "-m", "firmware_sim", "gateway", "--server", table["server"], "--ip", ip]
    command += [
        "--medium",
        str(table.get("lora_medium", medium)),
        "--time-scale",
        repr(table.get("time_scale", scale)),
    ]
    for key in ("region", "eui", "keepalive", "stat_interval"):
        if key in table:
            command += [f"--{key.replace('_', '-')}", str(table[key])]
    if "channels" in table:
        channels = table["channels"]
        if not isinstance(channels, list):
            raise UsageError(f"{where}: key 'channels': give MHz values, e.g. channels = [868.1, 868.3]")
        command += ["--channels", ",".join(str(c) for c in channels)]
    for peer, (kind, amount) in links.items():
        command += ["--lora-link", f"{peer}={amount!r}{'dB' if kind == 'loss' else 'm'}"]
    if table.get("allow_lan") is True:
        command.append("--allow-lan")
    if timeout is not None:
        command += ["--timeout", repr(timeout)]
    try:  # every mistake now, as one line naming the gateway and the key, before anything starts
        build(build_parser_for_check().parse_args(command[3:]))
    except UsageError as err:
        text = str(err).replace("unless you pass --allow-lan", "unless you set allow_lan = true")
        flag, _, rest = text.partition(" ")
        if flag.startswith("--") and flag[2:].replace("-", "_") in GATEWAY_KEYS | {"medium"}:
            key = "lora_medium" if flag == "--medium" else flag[2:].replace("-", "_")
            text = f"key '{key}': {rest}"
        raise UsageError(f"{where}: {text}") from None
    return command


def build_parser_for_check() -> argparse.ArgumentParser:
    """A parser of the gateway's arguments alone (to check an ``up`` file's table)."""

    class Raising(argparse.ArgumentParser):
        def error(self, message: str) -> Any:
            raise UsageError(message)

    parser = Raising(prog="firmware-sim gateway")
    sub = parser.add_subparsers(dest="command")
    add_parser(sub)
    return parser
