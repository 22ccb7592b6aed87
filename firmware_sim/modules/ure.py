"""``ure`` / ``re`` on the board."""

from re import compile, match, search, sub  # noqa: F401

# the board's names: all a script sees
__all__ = ["compile", "match", "search", "sub"]
