"""``urandom`` / ``random`` on the board."""

from random import choice, getrandbits, randint, random, randrange, seed, uniform  # noqa: F401
