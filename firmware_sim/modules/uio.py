"""``uio`` / ``io`` on the board."""

from io import BytesIO, StringIO  # noqa: F401

from ..runtime import current

# the board's names: all a script sees
__all__ = ["BytesIO", "StringIO", "open"]


def open(file, mode="r", *args, **kwargs):  # noqa: A001  (board API)
    return current().flash.open(file, mode, *args, **kwargs)
