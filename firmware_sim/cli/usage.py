"""``UsageError``: a command-line or boards-file problem, printed as one line (the message says what is
wrong and how to fix it) with exit status 2. Its own module so the command line can catch it before it
knows which command runs."""

from __future__ import annotations


class UsageError(Exception):
    """A command-line or boards-file problem: the message says what is wrong and how to fix it."""
