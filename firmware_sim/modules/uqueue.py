"""``uqueue`` / ``queue`` on the board."""

from queue import Empty, Full, LifoQueue, Queue  # noqa: F401
