"""CoRE link format (RFC 6690): rendering and ``/.well-known/core`` query filtering (§4.1).

First the link-format module on its own, then the server's ``/.well-known/core`` answer built from the
resource table (no sockets), as libcoap 4.1 on firmware 1.20.1-1.20.2 prints it (firmware-coap.md §7.2).
"""

from __future__ import annotations

import pytest

from network.coap.firmware.resources import REQUEST_GET, ResourceTable
from network.coap.protocol.codec import Message
from network.coap.protocol.linkformat import Link, matches, render
from network.profile import FirmwareProfile

pytestmark = pytest.mark.unit

SENSOR = Link(
    "/sensors/temp", [("rt", '"temperature-c sensor"'), ("if", "core.s"), ("ct", "0"), ("obs", None)]
)
LIGHT = Link(
    "/lights/1", [("rt", "light dimmer"), ("if", '"core.a core.p"'), ("ct", "50"), ("title", '"Lamp"')]
)
ROOT = Link("/", [])


# -- rendering ----------------------------------------------------------------------------------------


def test_render_one_link() -> None:
    assert SENSOR.render() == '</sensors/temp>;rt="temperature-c sensor";if=core.s;ct=0;obs'
    assert Link("/a").render() == "</a>"


def test_render_joins_links_with_commas_and_no_spaces() -> None:
    text = render([Link("/a", [("ct", "0")]), Link("/b"), Link("/c", [("sz", None)])])
    assert text == "</a>;ct=0,</b>,</c>;sz"
    assert render([]) == ""


# -- filtering ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "sensor", "light"),
    [
        ("rt=sensor", True, False),  # one token of a quoted token list
        ("rt=temperature-c", True, False),
        ("rt=temperature", False, False),  # a token is matched whole
        ("rt=temp*", True, False),  # trailing '*': prefix of a token
        ("rt=dim*", False, True),
        ("rt=light dimmer", False, False),  # the whole list is not one token
        ("rt=*", True, True),  # present at all
        ("if=core.s", True, False),
        ("if=core.p", False, True),  # token list inside quotes
        ("if=core.*", True, True),
        ("ct=0", True, False),
        ("ct=50", False, True),
        ("ct=5", False, False),
        ("ct=5*", False, True),
        ("title=Lamp", False, True),  # quotes are not part of the value
        ("title=La*", False, True),
        ("title=lamp", False, False),  # case matters
        ("sz=*", False, False),  # an attribute neither has
        ("href=/sensors/temp", True, False),
        ("href=/sensors/*", True, False),
        ("href=/*", True, True),
        ("href=/lights/1", False, True),
        ("href=/lights", False, False),
        ("rt", True, True),  # a bare name: the attribute is present
        ("obs", True, False),
    ],
)
def test_single_filter(query: str, sensor: bool, light: bool) -> None:
    assert matches(SENSOR, [query]) is sensor
    assert matches(LIGHT, [query]) is light


def test_no_filter_matches_everything() -> None:
    assert matches(SENSOR, [])
    assert matches(ROOT, [""])


def test_every_filter_must_match() -> None:
    assert matches(SENSOR, ["rt=sensor", "ct=0"])
    assert not matches(SENSOR, ["rt=sensor", "ct=50"])


def test_repeated_attribute_any_occurrence_matches() -> None:
    link = Link("/x", [("rt", "a"), ("rt", "b")])
    assert matches(link, ["rt=a"]) and matches(link, ["rt=b"])
    assert not matches(link, ["rt=c"])


def test_other_attributes_are_not_token_lists() -> None:
    link = Link("/x", [("title", '"two words"'), ("rel", "next alternate")])
    assert not matches(link, ["title=two"])
    assert matches(link, ["title=two words"])
    assert matches(link, ["rel=alternate"])  # rel is a token list like rt and if


# -- /.well-known/core from the resource table --------------------------------------------------------


def _table(*specs: tuple[str, list[tuple[str, str]]]) -> ResourceTable:
    table = ResourceTable(FirmwareProfile(name="test", warn=False))
    for uri, attributes in specs:
        resource = table.add(uri, -1, -1, 0, False)
        assert resource is not None
        resource.attributes.extend(attributes)
    return table


def _well_known(table: ResourceTable, *queries: str, mtype: int = 0) -> tuple[int, list, bytes]:
    options = [(11, b".well-known"), (11, b"core")] + [(15, q.encode()) for q in queries]
    reply = table.handle(Message(mtype, 1, 1, b"", options))
    assert reply is not None
    return reply


def test_well_known_core_lists_newest_first_with_attributes_reversed() -> None:
    # the documentation's own example (firmware-coap.md §7.2)
    table = _table(("resource1", [("title", "resource1"), ("ct", "0")]), ("resource2", []))
    code, options, payload = _well_known(table)
    assert code == 69
    assert options == [(12, bytes((40,)))]  # Content-Format application/link-format
    assert payload == b"</resource2>,</resource1>;ct=0;title=resource1"


def test_well_known_core_filters() -> None:
    table = _table(
        ("sensors/temp", [("ct", "0"), ("rt", '"temperature-c sensor"')]),
        ("sensors/light", [("ct", "0"), ("rt", "light-lux sensor")]),
        ("actuators/led", [("ct", "50"), ("rt", "led")]),
    )
    assert _well_known(table, "rt=sensor")[2] == (
        b'</sensors/light>;rt=light-lux sensor;ct=0,</sensors/temp>;rt="temperature-c sensor";ct=0'
    )
    assert _well_known(table, "rt=temperature-c")[2] == b'</sensors/temp>;rt="temperature-c sensor";ct=0'
    assert _well_known(table, "rt=le*")[2] == b"</actuators/led>;rt=led;ct=50"
    assert _well_known(table, "ct=50")[2] == b"</actuators/led>;rt=led;ct=50"
    assert _well_known(table, "href=/sensors/*")[2].count(b"</sensors/") == 2
    assert _well_known(table, "href=/actuators/led")[2] == b"</actuators/led>;rt=led;ct=50"


def test_well_known_core_href_without_leading_slash() -> None:
    # libcoap (every version, coap_print_wellknown) drops a leading '/' of the href pattern and matches
    # it against the resource's path, which has no leading slash, so both spellings find the resource
    table = _table(("sensors/temp", []), ("other", []))
    assert _well_known(table, "href=/sensors/temp")[2] == b"</sensors/temp>"
    for query in ("href=sensors/temp", "href=sens*"):
        code, _, payload = _well_known(table, query)
        assert (code, payload) == (69, b"</sensors/temp>"), query


def test_well_known_core_nothing_to_list_is_4_00_without_payload() -> None:
    assert _well_known(_table()) == (128, [], b"")
    table = _table(("a", [("rt", "x")]))
    assert _well_known(table, "rt=y") == (128, [], b"")


def test_well_known_core_other_methods_are_4_05() -> None:
    table = _table(("a", []))
    for code in (2, 3, 4):
        reply = table.handle(Message(0, code, 1, b"", [(11, b".well-known"), (11, b"core")], b"p"))
        assert reply == (133, [], b"Method Not Allowed")


def test_well_known_core_link_of_a_slash_uri_is_printed_as_given() -> None:
    # "</" + uri + ">" exactly: add_resource("/sensor") prints as <//sensor> (firmware-coap.md §7.1)
    table = _table(("/sensor", []))
    assert _well_known(table)[2] == b"<//sensor>"


def test_well_known_core_shadowed_by_a_resource_with_get() -> None:
    table = _table((".well-known/core", []))
    resource = table.get(".well-known/core")
    assert resource is not None
    resource.value = b"mine"
    # without GET enabled the built-in answer is used
    assert _well_known(table)[0] == 69
    assert _well_known(table)[2] == b"</.well-known/core>"
    resource.methods |= REQUEST_GET
    assert _well_known(table)[2] == b"mine"
