"""Block-wise transfers (RFC 7959) without I/O: the Block option's value, a server's Block2 slices and
Block1 reassembly, a client's Block2 reassembly and Block1 upload. A server answers a :class:`BlockError`
with its ``code``; a client's transfer fails with a :class:`TransferError`. A Block2 server should put
the representation's ETag in every block (§2.4): that is the caller's; :class:`Block2Receiver` checks it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field

from .codec import Message, decode_uint, encode_uint
from .numbers import EXCHANGE_LIFETIME, Code, Option

MAX_NUM = 1 << 20  # NUM is at most 20 bits (§2.2)
MAX_SZX = 6  # 1024 bytes; SZX 7 is reserved (§2.2)
CLIENT_MAX_BODY = 16 * 1024 * 1024  # what a Block2Receiver assembles at most, by default
SERVER_MAX_BODY = 1024 * 1024  # what a Block1Assembler accepts per request body, by default
MAX_ASSEMBLIES = 32  # Block1 bodies a server assembles at once, by default

_BLOCK1, _BLOCK2 = int(Option.BLOCK1), int(Option.BLOCK2)
_SIZE1, _SIZE2, _ETAG = int(Option.SIZE1), int(Option.SIZE2), int(Option.ETAG)
Options = list[tuple[int, bytes]]
Peer = Hashable  # a socket address


class BlockError(ValueError):
    """A Block option a server cannot serve: answer ``code``. Itself: a malformed critical option (over
    3 bytes, or repeated), 4.02 Bad Option (RFC 7252 §5.4.1, §5.4.5)."""

    code = int(Code.BAD_OPTION)


class ReservedSzx(BlockError):
    """SZX 7 "MUST lead to a 4.00 Bad Request response code upon reception in a request" (§2.2)."""

    code = int(Code.BAD_REQUEST)


class BlockOutOfRange(BlockError):
    """A Block2 request for a block past the representation's end. RFC 7959 names no code for it (§2.2
    and §2.4 are silent); 4.02 Bad Option: the option's value cannot be served (RFC 7252 §5.9.2.3).
    aiocoap answers 4.00 here, libcoap 4.3 5.00."""


class TransferError(Exception):
    """A client's block-wise transfer cannot go on."""


class BodyTooLarge(TransferError):
    """The body (or the size the server announces in Size2) exceeds the receiver's bound."""


class ETagChanged(TransferError):
    """The representation kept changing (its ETag differed between blocks, §2.4) past the restarts allowed."""


class BlockSequenceError(TransferError):
    """A block that does not continue the body: wrong offset, wrong length, or Block2 missing mid-way."""


@dataclass(frozen=True, slots=True)
class BlockValue:
    """A Block1/Block2 option value (§2.2): block number, more flag, size exponent."""

    num: int
    more: bool
    szx: int

    def __post_init__(self) -> None:
        if not 0 <= self.num < MAX_NUM or not 0 <= self.szx <= MAX_SZX:
            raise ValueError(f"block {self.num}/{self.szx} out of range")

    @property
    def size(self) -> int:
        return 1 << (self.szx + 4)

    @property
    def offset(self) -> int:
        return self.num << (self.szx + 4)

    def encode(self) -> bytes:
        """The option's 0-3 byte uint: NUM << 4 | M << 3 | SZX (0/0/16 is the empty string)."""
        return encode_uint((self.num << 4) | (int(self.more) << 3) | self.szx)

    @classmethod
    def decode(cls, data: bytes) -> BlockValue:
        """Raises :class:`BlockError` (over 3 bytes) or :class:`ReservedSzx` (SZX 7)."""
        if len(data) > 3:
            raise BlockError(f"block option of {len(data)} bytes")
        value = decode_uint(data)
        if value & 7 == 7:
            raise ReservedSzx("block size exponent 7 is reserved")
        return cls(value >> 4, bool(value & 8), value & 7)

    @classmethod
    def from_message(cls, msg: Message, number: int) -> BlockValue | None:
        """The message's Block1 (27) or Block2 (23) value, or None; errors as :meth:`decode`."""
        values = msg.option_values(number)
        if len(values) > 1:
            raise BlockError("block option repeated")
        return cls.decode(values[0]) if values else None


def _uint_option(msg: Message, number: int) -> int | None:
    raw = msg.option(number)
    return None if raw is None or len(raw) > 4 else decode_uint(raw)


@dataclass(frozen=True, slots=True)
class Block2Part:
    """The payload to send and the options to add (Block2 and/or Size2, none if the body goes whole)."""

    payload: bytes
    options: Options
    block: BlockValue | None


def block2_part(body: bytes, request: Message, *, szx: int = MAX_SZX, announce: bool = True) -> Block2Part:
    """The slice of ``body`` that answers ``request`` (§2.4), in blocks of at most ``2**(szx+4)`` bytes:
    the request's Block2 size, or the server's ``szx`` if smaller (the block number is then scaled so
    the offset stays). A body that fits one block of a request without Block2 goes whole. Size2 (§4) is
    added when the request carried Size2, and (``announce``) in the first block of a block-wise
    body. Raises :class:`BlockError` (:class:`BlockOutOfRange` for a block past the end)."""
    asked = BlockValue.from_message(request, _BLOCK2)  # its M bit is ignored (§2.4)
    size_asked = request.option(_SIZE2) is not None
    if asked is None and len(body) <= 1 << (szx + 4):
        return Block2Part(body, [(_SIZE2, encode_uint(len(body)))] if size_asked else [], None)
    num, use = (0, szx) if asked is None else (asked.num, min(asked.szx, szx))
    if asked is not None and asked.szx > use:
        num <<= asked.szx - use
    start = num << (use + 4)
    if num and start >= len(body):
        raise BlockOutOfRange(f"block {num} of {len(body)} bytes is past the end")
    end = start + (1 << (use + 4))
    block = BlockValue(num, end < len(body), use)
    options: Options = [(_BLOCK2, block.encode())]
    if size_asked or (announce and num == 0):
        options.append((_SIZE2, encode_uint(len(body))))
    return Block2Part(body[start:end], options, block)


@dataclass(frozen=True, slots=True)
class BlockReceived:
    """One block of the body, at ``offset``. Not ``last``: ask for ``next_block`` (with the request's
    other options). ``last``: ``body`` is the whole body."""

    offset: int
    data: bytes
    last: bool
    next_block: BlockValue | None
    body: bytes | None = None
    total: int | None = None  # the server's Size2, when it sent one


@dataclass(frozen=True, slots=True)
class Restart:
    """The representation changed mid-way (§2.4: its ETag differs): ask again from ``next_block``
    (block 0); blocks already delivered are void."""

    next_block: BlockValue


class Block2Receiver:
    """Reassembles a response body from Block2 responses fed in order (§2.4, §3.1)."""

    def __init__(self, *, szx: int | None = None, max_size: int = CLIENT_MAX_BODY, restarts: int = 3) -> None:
        self.szx = szx  # the size asked for; the server may lower it, then it is the one used
        self.max_size, self.max_restarts = max_size, restarts
        self.restarts = self.received = 0
        self._body, self._started = bytearray(), False
        self._etag: bytes | None = None

    def first_block(self) -> BlockValue | None:
        """The Block2 value for the first request: 0/0/size when a size was chosen, else None."""
        return None if self.szx is None else BlockValue(0, False, self.szx)

    def feed(self, response: Message) -> BlockReceived | Restart:
        """Take the next 2.xx response. Raises :class:`TransferError` subclasses or :class:`BlockError`."""
        block = BlockValue.from_message(response, _BLOCK2)
        payload = response.payload
        total = _uint_option(response, _SIZE2)
        if total is not None and total > self.max_size:
            raise BodyTooLarge(f"the server announces {total} bytes, more than {self.max_size}")
        etag = response.option(_ETAG)
        if self._started and etag != self._etag:
            if self.restarts >= self.max_restarts:
                raise ETagChanged(f"ETag changed {self.restarts + 1} times")
            self.restarts += 1
            self.received, self._body, self._started = 0, bytearray(), False
            return Restart(BlockValue(0, False, MAX_SZX if self.szx is None else self.szx))
        if self.received + len(payload) > self.max_size:
            raise BodyTooLarge(f"more than {self.max_size} bytes")
        if block is None:
            if self._started:
                raise BlockSequenceError("a response without Block2 in the middle of a block-wise body")
            self.received = len(payload)
            return BlockReceived(0, payload, True, None, payload, total)
        if block.offset != self.received:
            raise BlockSequenceError(f"block {block} at offset {block.offset}, expected {self.received}")
        if len(payload) > block.size or (block.more and len(payload) != block.size):
            raise BlockSequenceError(f"block {block} carries {len(payload)} bytes")
        self._started, self._etag = True, etag
        if self.szx is None or block.szx < self.szx:
            self.szx = block.szx  # §2.4: later requests use the size the server answered with
        offset = self.received
        self.received += len(payload)
        self._body += payload
        if block.more:
            following = BlockValue(self.received >> (self.szx + 4), False, self.szx)
            return BlockReceived(offset, payload, False, following)
        return BlockReceived(offset, payload, True, None, bytes(self._body), total)


@dataclass(frozen=True, slots=True)
class Block1Request:
    """One request of an upload: its payload and the options to add (Block1, and Size1 in the first)."""

    block: BlockValue | None
    payload: bytes
    options: Options


@dataclass(frozen=True, slots=True)
class Failed:
    """The upload stops: ``response`` is the server's answer, ``reason`` says why."""

    response: Message
    reason: str


class Block1Sender:
    """Sends ``body`` in Block1 requests of ``2**(szx+4)`` bytes (§2.5); a body that fits one goes whole
    (a 4.13 answer to it makes the sender use Block1)."""

    def __init__(self, body: bytes, *, szx: int = MAX_SZX, size1: bool = True) -> None:
        self.body, self.szx, self.size1 = body, szx, size1
        self.offset = 0  # where the current request's block starts
        self.blockwise = len(body) > 1 << (szx + 4)

    def request(self) -> Block1Request:
        """The current request's payload and options."""
        if not self.blockwise:
            return Block1Request(None, self.body, [])
        end = self.offset + (1 << (self.szx + 4))
        block = BlockValue(self.offset >> (self.szx + 4), end < len(self.body), self.szx)
        options: Options = [(_BLOCK1, block.encode())]
        if self.offset == 0 and self.size1:
            options.append((_SIZE1, encode_uint(len(self.body))))
        return Block1Request(block, self.body[self.offset : end], options)

    def on_response(self, response: Message) -> Block1Request | Message | Failed:
        """What the response to the current request means: the next request to send (the next block,
        or the body again in smaller blocks after 4.13), the final response itself, or a failure."""
        code = response.code
        try:
            ack = BlockValue.from_message(response, _BLOCK1)
        except BlockError as err:
            return Failed(response, f"bad Block1 in the response: {err}")
        if code == Code.REQUEST_ENTITY_TOO_LARGE:
            return self._too_large(response, ack)
        current = self.request().block
        last = current is None or not current.more
        if code >> 5 != 2:
            return Failed(response, f"{code >> 5}.{code & 31:02d}")
        if last:
            return Failed(response, "2.31 Continue to the last block") if code == Code.CONTINUE else response
        if ack is None:
            return Failed(response, "no Block1 in the answer to a block that is not the last")
        assert current is not None
        if ack.szx == current.szx and ack.num != current.num:
            return Failed(response, f"block {ack.num} acknowledged, {current.num} sent")
        self.offset += current.size
        if ack.szx < self.szx:
            self.szx = ack.szx  # §2.5: the server prefers smaller blocks; offsets stay multiples
        return self.request()

    def _too_large(self, response: Message, hint: BlockValue | None) -> Block1Request | Failed:
        """4.13 (§2.9.3): Size1 is the most the server takes; a smaller SZX in Block1, or none, is a
        hint to send smaller blocks (§2.5). Each retry lowers the size, so they are bounded."""
        limit = _uint_option(response, _SIZE1)
        if limit is not None and len(self.body) > limit:
            return Failed(response, f"the server takes at most {limit} bytes, the body has {len(self.body)}")
        szx = self.szx if hint is None else min(self.szx, hint.szx)
        if self.blockwise and szx == self.szx:  # no smaller size hinted: try the next smaller one
            if szx == 0:
                return Failed(response, "4.13 with the smallest blocks")
            szx -= 1
        self.szx, self.offset, self.blockwise = szx, 0, True
        return self.request()


@dataclass(frozen=True, slots=True)
class Block1Reply:
    """Answer the request with this now (2.31 Continue, or an error); the handler does not run."""

    code: int
    options: Options
    payload: bytes = b""


@dataclass(frozen=True, slots=True)
class Block1Complete:
    """The last block arrived: run the handler on ``body`` and add ``options`` (Block1) to its response."""

    body: bytes
    options: Options


@dataclass(slots=True)
class _Assembly:
    data: bytearray
    expires: float
    last: tuple[int, int]  # (offset, length) of the last block taken, to re-acknowledge a repeat


AssemblyKey = tuple[Peer, int, tuple[str, ...], tuple[str, ...]]  # peer, method, path, query


@dataclass(kw_only=True)
class Block1Assembler:
    """Assembles request bodies sent with Block1 (§2.5), atomically: 2.31 Continue for each block but
    the last, 4.08 for a block out of sequence (§2.9.2), 4.13 with Size1 past ``max_body`` (§2.9.3,
    §4) or when ``max_assemblies`` are under way. A body unfinished ``lifetime`` after its last block
    (EXCHANGE_LIFETIME, §2.5) is forgotten. Blocks larger than ``szx`` are taken, and the 2.31 asks
    for ``szx`` from then on."""

    szx: int = MAX_SZX
    max_body: int = SERVER_MAX_BODY
    max_assemblies: int = MAX_ASSEMBLIES
    lifetime: float = EXCHANGE_LIFETIME
    _assemblies: OrderedDict[AssemblyKey, _Assembly] = field(
        default_factory=OrderedDict, init=False, repr=False
    )

    def __len__(self) -> int:
        return len(self._assemblies)

    def next_deadline(self) -> float | None:
        return next(iter(self._assemblies.values())).expires if self._assemblies else None

    def expire(self, now: float) -> None:
        """Forget the bodies whose last block is ``lifetime`` old (also done by :meth:`receive`)."""
        while self._assemblies and next(iter(self._assemblies.values())).expires <= now:
            self._assemblies.popitem(last=False)

    def _fail(self, key: AssemblyKey, code: int, why: str, options: Options | None = None) -> Block1Reply:
        """An error answer (with a diagnostic payload); the body under way, if any, is dropped."""
        self._assemblies.pop(key, None)
        return Block1Reply(code, options or [], why.encode())

    def _too_large(self, key: AssemblyKey, why: str) -> Block1Reply:
        return self._fail(key, Code.REQUEST_ENTITY_TOO_LARGE, why, [(_SIZE1, encode_uint(self.max_body))])

    def receive(self, request: Message, peer: Peer, now: float) -> Block1Reply | Block1Complete | None:
        """Take one request: None when it has no Block1 (handle it as usual)."""
        try:
            block = BlockValue.from_message(request, _BLOCK1)
        except BlockError as err:
            return Block1Reply(err.code, [], str(err).encode())
        if block is None:
            return None
        self.expire(now)
        key = (peer, request.code, request.path(), tuple(request.queries()))
        announced = _uint_option(request, _SIZE1)
        if announced is not None and announced > self.max_body:
            return self._too_large(key, f"{announced} bytes announced")
        payload = request.payload
        if len(payload) > block.size or (block.more and len(payload) != block.size):
            return self._fail(key, Code.BAD_REQUEST, f"block {block} carries {len(payload)} bytes")
        if block.num == 0 and not block.more:
            self._assemblies.pop(key, None)
            if len(payload) > self.max_body:
                return self._too_large(key, f"{len(payload)} bytes")
            return Block1Complete(payload, [(_BLOCK1, block.encode())])
        assembly = self._assemblies.get(key)
        if block.num == 0:  # a new sequence replaces an old one from the same peer (§2.5)
            if assembly is None and len(self._assemblies) >= self.max_assemblies:
                return self._fail(key, Code.REQUEST_ENTITY_TOO_LARGE, "too many uploads under way")
            assembly = self._assemblies[key] = _Assembly(bytearray(), 0.0, (-1, 0))
        elif assembly is None:
            return self._fail(key, Code.REQUEST_ENTITY_INCOMPLETE, "no earlier blocks")
        if block.offset != len(assembly.data):  # a repeat of the last block is acknowledged again
            if not block.more or (block.offset, len(payload)) != assembly.last:
                return self._fail(key, Code.REQUEST_ENTITY_INCOMPLETE, f"block {block} out of sequence")
        elif len(assembly.data) + len(payload) > self.max_body:
            return self._too_large(key, f"over {self.max_body} bytes")
        else:
            assembly.data += payload
            assembly.last = (block.offset, len(payload))
        if block.more:
            assembly.expires = now + self.lifetime
            self._assemblies.move_to_end(key)
            ack = BlockValue(block.num, True, min(block.szx, self.szx))
            return Block1Reply(Code.CONTINUE, [(_BLOCK1, ack.encode())])
        del self._assemblies[key]
        final = BlockValue(block.num, False, block.szx)
        return Block1Complete(bytes(assembly.data), [(_BLOCK1, final.encode())])
