"""``ucollections`` / ``collections`` on the board."""

from collections import OrderedDict, deque, namedtuple  # noqa: F401
