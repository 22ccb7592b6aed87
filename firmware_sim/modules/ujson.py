"""``ujson`` / ``json`` on the board."""

from json import dump, dumps, load, loads  # noqa: F401

# the board's names: all a script sees
__all__ = ["dump", "dumps", "load", "loads"]
