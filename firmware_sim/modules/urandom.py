"""``urandom`` / ``random`` on the board."""

from random import choice, getrandbits, randint, random, randrange, seed, uniform  # noqa: F401

# the board's names: all a script sees
__all__ = ["choice", "getrandbits", "randint", "random", "randrange", "seed", "uniform"]
