"""``firmware-sim coap METHOD URI``: one CoAP request from the command line, printed as libcoap's
``coap-client`` prints it (the tool every Pycom tutorial uses), for machines without libcoap.

On the host client (:mod:`network.coap.client`): the payload of a 2.xx response goes to stdout as it
came, then a newline; a 4.xx/5.xx response prints its code and name on stderr
(``4.04 Not Found``) and nothing on stdout, as coap-client does. Loopback addresses only unless
``--allow-lan``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .usage import UsageError

if TYPE_CHECKING:
    from network.coap.client import Client

METHODS = {"get": 1, "post": 2, "put": 3, "delete": 4, "observe": 1}
# coap-client's -t/-A names (libcoap's coap_media_type names, short forms)
FORMATS = {
    "text": 0, "text/plain": 0, "link": 40, "application/link-format": 40, "xml": 41,
    "application/xml": 41, "octet": 42, "binary": 42, "application/octet-stream": 42, "exi": 47,
    "json": 50, "application/json": 50, "cbor": 60, "application/cbor": 60,
}  # fmt: skip
DEFAULT_WAIT = 90.0  # seconds, as coap-client's -B default

EXAMPLES = """\
examples:
  firmware-sim coap get coap://127.0.0.2/.well-known/core
  firmware-sim coap get coap://127.0.0.2/temperature
  firmware-sim coap put -e 21.5 -t text coap://127.0.0.2/setpoint
  firmware-sim coap post -f reading.json -t json coap://127.0.0.2/readings
  firmware-sim coap observe -s 30 coap://127.0.0.2/temperature     # each notification on a line
  firmware-sim coap get -b 64 coap://127.0.0.2/log                   # block-wise, 64-byte blocks
  firmware-sim coap get -k secretPSK -u sensor1 coaps://127.0.0.2/temperature   # DTLS with a PSK

exit status: 0 for a 2.xx response, 1 for a 4.xx/5.xx response or none within -B seconds (coap-client
exits 0 after an error response), 2 for a usage error.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "coap",
        help="send a CoAP request and print the response, as libcoap's coap-client",
        description="Send one CoAP request (RFC 7252: CON, retransmitted) and print the response's "
        "payload as libcoap's coap-client does; a simulated board's resources, or any CoAP server on "
        "this machine.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "method", choices=sorted(METHODS), metavar="METHOD", help="get, put, post, delete or observe"
    )
    parser.add_argument("uri", metavar="URI", help="coap://ADDRESS[:PORT]/PATH[?QUERY]")
    body = parser.add_mutually_exclusive_group()
    body.add_argument("-e", dest="text", metavar="TEXT", help="the request's payload")
    body.add_argument("-f", dest="file", metavar="FILE", help="the request's payload, read from FILE")
    parser.add_argument(
        "-t", dest="content_format", metavar="FORMAT", help="Content-Format: a number or text, json ..."
    )
    parser.add_argument(
        "-A", dest="accept", metavar="FORMAT", help="Accept: a number or text, json, cbor ..."
    )
    parser.add_argument(
        "-B", dest="wait", metavar="SECONDS", type=float, default=DEFAULT_WAIT,
        help=f"give up after SECONDS without a response (default {DEFAULT_WAIT:g})",
    )  # fmt: skip
    parser.add_argument(
        "-b", dest="block_size", metavar="SIZE", type=int,
        help="block-wise transfer in blocks of SIZE bytes (16 .. 1024; default: as the server sends)",
    )  # fmt: skip
    parser.add_argument(
        "-s", dest="duration", metavar="SECONDS", type=float, default=None,
        help="observe: stop after SECONDS (default: until Ctrl-C)",
    )  # fmt: skip
    parser.add_argument("-k", dest="psk", metavar="KEY", help="coaps://: the pre-shared key (DTLS-PSK)")
    parser.add_argument("-u", dest="identity", metavar="IDENTITY", help="coaps://: the key's identity")
    parser.add_argument("-N", dest="non", action="store_true", help="send a NON request (no retransmission)")
    parser.add_argument(
        "-v", dest="verbose", action="store_true", help="also print the response's code and options"
    )
    parser.add_argument(
        "--allow-lan",
        action="store_true",
        help="let URI name an address off this machine (default: loopback only)",
    )
    parser.set_defaults(handler=cmd_coap)


def media_type(value: str | None, flag: str) -> int | None:
    if value is None:
        return None
    if value.isdigit() and int(value) < 65536:
        return int(value)
    if value.lower() in FORMATS:
        return FORMATS[value.lower()]
    raise UsageError(
        f"{flag} {value}: not a Content-Format; give a number (0-65535) or one of text, link, json, "
        "cbor, xml, octet"
    )


def client_for(args: argparse.Namespace) -> Client:
    """The host client these options ask for (a coaps:// key, the LAN)."""
    from network.coap.client import Client

    key = None if args.psk is None else args.psk.encode()
    identity = None if args.identity is None else args.identity.encode()
    return Client(
        "0.0.0.0" if args.allow_lan else "127.0.0.1", allow_lan=args.allow_lan, psk=key, identity=identity
    )


def cmd_coap(args: argparse.Namespace) -> int:
    from network.coap.client import CoapError, parse_uri

    try:
        parse_uri(args.uri, args.allow_lan)
    except ValueError as err:
        raise UsageError(str(err).replace("pass allow_lan=True", "add --allow-lan")) from None
    if not args.wait > 0:
        raise UsageError(f"-B {args.wait}: must be above 0 seconds")
    payload = b""
    if args.text is not None:
        payload = args.text.encode()
    elif args.file is not None:
        try:
            payload = Path(args.file).read_bytes()
        except OSError as err:
            raise UsageError(f"-f {args.file}: {err.strerror or err}; give a readable file") from None
    content_format = media_type(args.content_format, "-t")
    accept = media_type(args.accept, "-A")
    if args.block_size is not None and args.block_size not in (16, 32, 64, 128, 256, 512, 1024):
        raise UsageError(f"-b {args.block_size}: give a block size of 16, 32, 64, 128, 256, 512 or 1024")
    if args.duration is not None and not args.duration > 0:
        raise UsageError(f"-s {args.duration}: must be above 0 seconds")
    if (args.psk is None) != (args.identity is None):
        raise UsageError("-k and -u go together: the pre-shared key and its identity (coaps://)")
    if args.uri.startswith("coaps:") and args.psk is None:
        raise UsageError(f"{args.uri}: coaps:// needs -k KEY -u IDENTITY (DTLS with a pre-shared key)")
    if args.method == "observe":
        return observe(args, accept)
    with client_for(args) as client:
        try:
            response = client.request(
                METHODS[args.method],
                args.uri,
                payload,
                content_format=content_format,
                accept=accept,
                confirmable=not args.non,
                timeout=args.wait,
                block_size=args.block_size,
            )
        except CoapError as err:
            print(f"firmware-sim: {err}", file=sys.stderr)
            return 1
    if args.verbose:
        options = ", ".join(f"{number}:{value.hex() or '-'}" for number, value in response.options)
        print(f"{response.reason} [{options}]", file=sys.stderr)
    if not response.success:
        if not args.verbose:
            print(response.reason, file=sys.stderr)  # as coap-client: the code, not the payload
        return 1
    if response.payload:  # as coap-client: the payload, then a newline
        sys.stdout.buffer.write(response.payload + b"\n")
        sys.stdout.buffer.flush()
    return 0


def observe(args: argparse.Namespace, accept: int | None) -> int:
    """Print each notification's payload on a line until ``-s`` seconds pass, Ctrl-C, or the server ends
    the observation (then its last response is printed as a GET's is, and the status follows it)."""
    from network.coap.client import CoapError, Response

    ended: list[Response] = []
    errors: list[CoapError] = []

    def notified(response: Response) -> None:
        if response.success:
            sys.stdout.buffer.write(response.payload + b"\n")
            sys.stdout.buffer.flush()
        else:
            print(response.reason, file=sys.stderr, flush=True)
        if response.option(6) is None:  # no Observe: the server ended it (RFC 7641 §3.2)
            ended.append(response)

    with client_for(args) as client:
        handle = client.observe(args.uri, notified, on_error=errors.append, accept=accept)
        try:
            handle.wait_ended(args.duration)  # -s, or until the server ends it (None: no bound)
        except KeyboardInterrupt:
            pass
        if not handle.ended.is_set():
            handle.cancel()
            handle.wait_ended(min(args.wait, 5.0))
    if errors:
        print(f"firmware-sim: {errors[0]}", file=sys.stderr)
        return 1
    return 1 if ended and not ended[-1].success else 0
