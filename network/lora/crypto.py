"""LoRaWAN 1.0.2 cryptography: AES-128 blocks, AES-CMAC MICs, FRMPayload encryption, the join's keys.

What LoRaMac-node's ``LoRaMacCrypto.c`` does in the firmware (``lib/lora/mac/LoRaMacCrypto.c`` at
v1.20.2.r6), on the package ``cryptography``: a MIC is the first four bytes of the AES-CMAC, read
little-endian; FRMPayload is XORed with AES(key, A_i) blocks (spec 4.3.3.1); a JoinAccept is
"decrypted" with AES *encryption* (the network server encrypts it with AES decryption, spec 6.2.5),
and the session keys are AES(AppKey, 0x01|0x02 | AppNonce | NetID | DevNonce | pad) (spec 6.2.5).
``encrypt_join_accept`` is the network server's side, for tests and the virtual network.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC

__all__ = [
    "UP",
    "DOWN",
    "aes_decrypt",
    "aes_encrypt",
    "cmac",
    "data_mic",
    "decrypt_join_accept",
    "encrypt_join_accept",
    "join_mic",
    "payload_cipher",
    "session_keys",
]

UP = 0
"""Direction byte of uplinks in the A and B0 blocks."""
DOWN = 1
"""Direction byte of downlinks."""


def _check_key(key: bytes) -> None:
    if len(key) != 16:
        raise ValueError("a LoRaWAN key is 16 bytes")


def aes_encrypt(key: bytes, data: bytes) -> bytes:
    """AES-128-ECB encryption of whole 16-byte blocks."""
    _check_key(key)
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def aes_decrypt(key: bytes, data: bytes) -> bytes:
    """AES-128-ECB decryption of whole 16-byte blocks."""
    _check_key(key)
    decryptor = Cipher(algorithms.AES(key), modes.ECB()).decryptor()
    return decryptor.update(data) + decryptor.finalize()


def cmac(key: bytes, data: bytes) -> bytes:
    """AES-CMAC (RFC 4493) of ``data``: 16 bytes."""
    _check_key(key)
    mac = CMAC(algorithms.AES(key))
    mac.update(data)
    return mac.finalize()


def _block(first: int, direction: int, dev_addr: int, fcnt: int, last: int) -> bytes:
    """The A / B0 block: ``first`` | 4 zero bytes | dir | DevAddr | FCnt (32 bits) | 0 | ``last``."""
    return (
        bytes([first, 0, 0, 0, 0, direction])
        + (dev_addr & 0xFFFFFFFF).to_bytes(4, "little")
        + (fcnt & 0xFFFFFFFF).to_bytes(4, "little")
        + bytes([0, last & 0xFF])
    )


def data_mic(key: bytes, frame: bytes, dev_addr: int, direction: int, fcnt: int) -> bytes:
    """The 4-byte MIC of a data frame (``frame`` = MHDR .. FRMPayload, without the MIC):
    CMAC(NwkSKey, B0 | frame)[0:4] (``LoRaMacComputeMic``)."""
    b0 = _block(0x49, direction, dev_addr, fcnt, len(frame))
    return cmac(key, b0 + frame)[:4]


def join_mic(key: bytes, frame: bytes) -> bytes:
    """The 4-byte MIC of a JoinRequest or (decrypted) JoinAccept: CMAC(AppKey, frame)[0:4]."""
    return cmac(key, frame)[:4]


def payload_cipher(key: bytes, data: bytes, dev_addr: int, direction: int, fcnt: int) -> bytes:
    """FRMPayload encryption, which is also its decryption (``LoRaMacPayloadEncrypt``): ``data``
    XOR AES(key, A_1) | AES(key, A_2) ..., A_i = 0x01 | 0000 | dir | DevAddr | FCnt | 0 | i."""
    if not data:
        return b""
    count = (len(data) + 15) // 16
    stream = aes_encrypt(
        key, b"".join(_block(0x01, direction, dev_addr, fcnt, i) for i in range(1, count + 1))
    )
    return bytes(a ^ b for a, b in zip(data, stream[: len(data)], strict=True))


def decrypt_join_accept(app_key: bytes, frame: bytes) -> bytes:
    """The JoinAccept as the device reads it: MHDR, then AES-*encrypt*(AppKey) of the rest
    (``LoRaMacJoinDecrypt``), MIC included. The rest must be 16 or 32 bytes."""
    body = frame[1:]
    if len(body) not in (16, 32):
        raise ValueError("a JoinAccept is 17 or 33 bytes")
    return frame[:1] + aes_encrypt(app_key, body)


def encrypt_join_accept(app_key: bytes, plain: bytes) -> bytes:
    """The network server's side: MHDR | AppNonce .. CFList | MIC in clear -> the frame on air
    (AES-*decrypt* of everything after MHDR)."""
    body = plain[1:]
    if len(body) not in (16, 32):
        raise ValueError("a JoinAccept is 17 or 33 bytes")
    return plain[:1] + aes_decrypt(app_key, body)


def session_keys(app_key: bytes, app_nonce: bytes, net_id: bytes, dev_nonce: int) -> tuple[bytes, bytes]:
    """(NwkSKey, AppSKey) of an OTAA join (``LoRaMacJoinComputeSKeys``): ``app_nonce`` and
    ``net_id`` are the 3-byte fields as sent (little-endian), ``dev_nonce`` the 16-bit value."""
    tail = app_nonce + net_id + dev_nonce.to_bytes(2, "little")
    pad = bytes(16 - 1 - len(tail))
    nwk = aes_encrypt(app_key, b"\x01" + tail + pad)
    app = aes_encrypt(app_key, b"\x02" + tail + pad)
    return nwk, app
