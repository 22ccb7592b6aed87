"""``ucollections`` / ``collections`` on the board."""

from collections import OrderedDict, deque, namedtuple  # noqa: F401

# the board's names: all a script sees
__all__ = ["OrderedDict", "deque", "namedtuple"]
