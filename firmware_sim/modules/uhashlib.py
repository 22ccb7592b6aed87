"""``uhashlib`` / ``hashlib`` on the board: sha1, sha224, sha256, sha384, sha512, md5."""

from hashlib import md5, sha1, sha224, sha256, sha384, sha512  # noqa: F401
