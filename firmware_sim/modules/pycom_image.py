"""Whether a firmware image would boot: ESP-IDF 3.3's ``esp_image_verify`` on an app image.

Pycom firmware 1.20.2.r6 checks an image this way twice: ``pycom.ota_verify()`` (``updater_verify`` in
``esp32/ftp/updater.c``, over the bytes written since ``ota_start()``) and the bootloader, when the boot
info says a new image waits (``IMG_STATUS_CHECK``, ``esp32/bootloader/bootloader.c``): if it fails, the
board goes back to the previous partition. The checks, from ESP-IDF's app image format:

* a 24-byte header: magic ``0xE9``, the segment count (at most 16), byte 23 ``hash_appended``;
* each segment: an 8-byte header (load address, length: a multiple of 4, under 16 MB), then its data; a
  segment the cache maps (load address in IROM ``0x400D0000-0x40400000`` or DROM
  ``0x3F400000-0x3F800000``) must sit at the same offset modulo 64 KB in flash as in memory;
* then padding to 16 bytes with the checksum last: ``0xEF`` XOR every data byte of every segment;
* with ``hash_appended``, the SHA-256 of everything before it, 32 bytes;
* the whole must fit the partition (for ``ota_verify()``: the bytes written).
"""

from __future__ import annotations

import hashlib
import struct

HEADER_LEN = 24
SEGMENT_HEADER_LEN = 8
MAGIC = 0xE9
MAX_SEGMENTS = 16
CHECKSUM_SEED = 0xEF
HASH_LEN = 32
SIXTEEN_MB = 0x1000000
MMU_PAGE = 0x10000
_MAPPED = ((0x400D0000, 0x40400000), (0x3F400000, 0x3F800000))  # SOC_IROM, SOC_DROM


def xor_fold(data: bytes) -> int:
    """Every byte of ``data`` XORed together (halving it as big integers: fast on a whole image)."""
    while len(data) > 1:
        if len(data) % 2:
            data += b"\0"
        half = len(data) // 2
        data = (int.from_bytes(data[:half], "big") ^ int.from_bytes(data[half:], "big")).to_bytes(half, "big")
    return data[0] if data else 0


def _mapped(address: int) -> bool:
    return any(low <= address < high for low, high in _MAPPED)


def image_error(image: bytes, partition_size: int, partition_offset: int) -> str | None:
    """Why ``image`` (the partition's bytes, from its start) would not boot, or None if it would."""
    if len(image) < HEADER_LEN or image[0] != MAGIC:
        return f"image at 0x{partition_offset:x} has invalid magic byte"
    segments, hash_appended = image[1], image[23] == 1
    if segments > MAX_SEGMENTS:
        return f"image at 0x{partition_offset:x} segment count {segments} exceeds max {MAX_SEGMENTS}"
    position, checksum = HEADER_LEN, CHECKSUM_SEED
    for index in range(segments):
        if position + SEGMENT_HEADER_LEN > len(image):
            return f"segment {index} header is past the end of the image"
        load, length = struct.unpack_from("<II", image, position)
        data_at = position + SEGMENT_HEADER_LEN
        if length % 4 or length >= SIXTEEN_MB:
            return f"invalid segment length 0x{length:x}"
        if _mapped(load) and (partition_offset + data_at) % MMU_PAGE != load % MMU_PAGE:
            return f"segment {index} load address 0x{load:08x} does not match its flash offset"
        data = image[data_at : data_at + length]
        if len(data) != length:
            return f"segment {index} is past the end of the image"
        checksum ^= xor_fold(data)
        position = data_at + length
    unpadded = position
    length = (unpadded + 1 + 15) & ~15  # the checksum byte ends a whole 16-byte block
    if length > len(image):
        return "image ends before its checksum"
    if image[length - 1] != checksum:
        return f"Checksum failed. Calculated 0x{checksum:x} read 0x{image[length - 1]:x}"
    if hash_appended:
        if length + HASH_LEN > len(image):
            return "image ends before its hash"
        if hashlib.sha256(image[:length]).digest() != image[length : length + HASH_LEN]:
            return "Image hash failed - image is corrupt"
        length += HASH_LEN
    if length > partition_size:
        return f"Image length {length} doesn't fit in partition length {partition_size}"
    return None
