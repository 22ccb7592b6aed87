"""Block-wise transfers for the client (RFC 7959), over one request-and-wait function.

:func:`fetch` follows a response that carries Block2 with the more flag: it asks for each next block
(the same request with Block2 num/0/size), checks the pieces fit (ETag unchanged, offsets in order:
:class:`~network.coap.protocol.blockwise.Block2Receiver`), calls ``on_block(offset, data, last)`` for
each as Zephyr's ``coap_client`` does, and returns the whole body in one response. :func:`upload` sends
a body larger than one block with Block1 (2.31 Continue between blocks, a smaller size when the server
asks for it, 4.13 handled as §2.9.3 says). Both are bounded: at most ``max_size`` bytes, and every
request within the caller's deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..protocol.blockwise import (
    MAX_SZX,
    Block1Sender,
    Block2Receiver,
    BlockError,
    BlockValue,
    Failed,
    Restart,
    TransferError,
)
from ..protocol.codec import Message
from ..protocol.numbers import Option
from .exchange import CoapError, Peer, Response

Options = list[tuple[int, bytes]]
# send(method, options, payload, timeout) -> the response (as a Message) to that one request
Send = Callable[[int, Options, bytes, float | None], tuple[Message, Peer]]
OnBlock = Callable[[int, bytes, bool], object]
BLOCK2, BLOCK1 = int(Option.BLOCK2), int(Option.BLOCK1)


class BlockTransferError(CoapError):
    """A block-wise transfer that could not complete (the message says why)."""


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else max(deadline - time.monotonic(), 0.001)


def _with(options: Options, number: int, value: bytes) -> Options:
    kept = [(n, v) for n, v in options if n != number]
    return [*kept, (number, value)]  # encode() writes options in number order


def fetch(
    send: Send,
    method: int,
    options: Options,
    payload: bytes,
    first: tuple[Message, Peer],
    deadline: float | None,
    on_block: OnBlock | None,
    max_size: int,
    szx: int | None = None,
) -> Response:
    """The whole body of a response whose first part is ``first`` (see the module's docstring)."""
    receiver = Block2Receiver(szx=szx, max_size=max_size)
    msg, peer = first
    while True:
        if msg.code >> 5 != 2:
            return Response.from_message(msg, peer)  # an error mid-way: that is the answer
        try:
            step = receiver.feed(msg)
        except (TransferError, BlockError) as err:
            raise BlockTransferError(f"block-wise response: {err}") from None
        if isinstance(step, Restart):
            block = step.next_block
        else:
            if on_block is not None:
                on_block(step.offset, step.data, step.last)
            if step.last:
                assert step.body is not None
                whole = [(n, v) for n, v in msg.options if n != BLOCK2]
                return Response.from_message(
                    Message(msg.mtype, msg.code, msg.mid, msg.token, whole, step.body), peer
                )
            assert step.next_block is not None
            block = step.next_block
        follow = _with(options, BLOCK2, block.encode())
        msg, peer = send(method, follow, b"" if method == 1 else payload, _left(deadline))


def upload(
    send: Send, method: int, options: Options, body: bytes, deadline: float | None, szx: int
) -> tuple[Message, Peer]:
    """Send ``body`` with Block1 when it needs more than one block; the final response."""
    sender = Block1Sender(body, szx=szx)
    request = sender.request()
    while True:
        extra = list(options)
        for number, value in request.options:
            extra = _with(extra, number, value)
        msg, peer = send(method, extra, request.payload, _left(deadline))
        step = sender.on_response(msg)
        if isinstance(step, Failed):
            if step.response.code >> 5 != 2 and step.response is msg:
                return msg, peer  # the server's refusal is the answer (4.xx/5.xx)
            raise BlockTransferError(f"block-wise request: {step.reason}")
        if isinstance(step, Message):
            return msg, peer
        request = step


def block_of(msg: Message) -> BlockValue | None:
    """The Block2 value of a response (None if it has none or a malformed one)."""
    try:
        return BlockValue.from_message(msg, BLOCK2)
    except BlockError:
        return None


def transfer(
    send: Send,
    method: int,
    options: Options,
    payload: bytes,
    deadline: float | None,
    block_size: int | None,
    on_block: OnBlock | None,
    max_size: int,
) -> Response:
    """One request, block-wise where needed: ``payload`` in Block1 blocks when larger than one block,
    the response followed through its Block2 blocks; a GET asks for ``block_size`` blocks if given."""
    szx = MAX_SZX if block_size is None else szx_of(block_size)
    if block_size is not None and method == 1:
        options = _with(options, BLOCK2, bytes([szx]))
    first = upload(send, method, options, payload, deadline, szx)
    block = block_of(first[0])
    if block is None or (not block.more and block.num == 0):
        if on_block is not None and first[0].code >> 5 == 2:
            on_block(0, first[0].payload, True)
        return Response.from_message(*first)
    return fetch(send, method, options, payload, first, deadline, on_block, max_size, szx)


def szx_of(block_size: int) -> int:
    """The SZX of a block size (16, 32 ... 1024 bytes: RFC 7959 §2.2)."""
    if block_size not in (16, 32, 64, 128, 256, 512, 1024):
        raise ValueError(f"block_size {block_size}: give 16, 32, 64, 128, 256, 512 or 1024 bytes")
    return block_size.bit_length() - 5
