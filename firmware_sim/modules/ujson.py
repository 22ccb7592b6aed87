"""``ujson`` / ``json`` on the board."""

from json import dump, dumps, load, loads  # noqa: F401
