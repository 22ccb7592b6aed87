"""CoRE link format (RFC 6690): rendering ``/.well-known/core`` and its query filtering (§4.1)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Attributes whose value is a space-separated list of tokens: a filter matches any one token.
_TOKEN_LIST_ATTRIBUTES = frozenset({"rel", "rt", "if"})


@dataclass(slots=True)
class Link:
    """``</target>;name=value;...``: attributes are printed in the order given (None: bare name)."""

    target: str
    attributes: Sequence[tuple[str, str | None]] = ()

    def render(self) -> str:
        parts = [f"<{self.target}>"]
        for name, value in self.attributes:
            parts.append(name if value is None else f"{name}={value}")
        return ";".join(parts)


def render(links: Iterable[Link]) -> str:
    """Links joined by ``,`` with no spaces, as libcoap prints them."""
    return ",".join(link.render() for link in links)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _value_matches(candidate: str, wanted: str) -> bool:
    if wanted.endswith("*"):
        return candidate.startswith(wanted[:-1])
    return candidate == wanted


def _filter_matches(link: Link, name: str, wanted: str | None) -> bool:
    if name == "href":  # like libcoap, a leading '/' is optional on either side
        return wanted is not None and _value_matches(link.target.removeprefix("/"), wanted.removeprefix("/"))
    for attr, value in link.attributes:
        if attr != name:
            continue
        if wanted is None or wanted == "*":
            return True
        if value is None:
            continue
        value = _unquote(value)
        if name in _TOKEN_LIST_ATTRIBUTES:
            if any(_value_matches(token, wanted) for token in value.split()):
                return True
        elif _value_matches(value, wanted):
            return True
    return False


def matches(link: Link, queries: Iterable[str]) -> bool:
    """True when ``link`` passes every ``name=value`` filter (a trailing ``*`` is a prefix match)."""
    for query in queries:
        if not query:
            continue
        name, sep, wanted = query.partition("=")
        if not _filter_matches(link, name, wanted if sep else None):
            return False
    return True
