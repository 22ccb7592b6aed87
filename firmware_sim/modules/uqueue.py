"""``uqueue`` / ``queue`` on the board."""

from queue import Empty, Full, LifoQueue, Queue  # noqa: F401

# the board's names: all a script sees
__all__ = ["Empty", "Full", "LifoQueue", "Queue"]
