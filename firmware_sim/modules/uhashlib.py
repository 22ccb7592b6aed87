"""``uhashlib`` / ``hashlib`` on the board: sha1, sha224, sha256, sha384, sha512, md5."""

from hashlib import md5, sha1, sha224, sha256, sha384, sha512  # noqa: F401

# the board's names: all a script sees
__all__ = ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"]
