"""``ure`` / ``re`` on the board."""

from re import compile, match, search, sub  # noqa: F401
