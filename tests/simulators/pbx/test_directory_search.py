"""The PBX's directory search: its users first, then the injected external source."""

from __future__ import annotations

import pytest

from simulators.pbx import InvalidInput, Pbx, User
from simulators.pbx.directory import DirectoryEntry, DirectoryUnavailable


@pytest.fixture
def pbx() -> Pbx:
    pbx = Pbx()
    pbx.add_user(
        User(extension="100", name="Carla Berg", email="carla@domain.net", mobile="+49171")
    )
    pbx.add_user(User(extension="101", name="Ben Marx"))
    return pbx


def test_internal_users_match_name_extension_or_email(pbx: Pbx) -> None:
    assert [e.name for e in pbx.search_directory("CARLA")[0]] == ["Carla Berg"]
    assert [e.name for e in pbx.search_directory("101")[0]] == ["Ben Marx"]
    (carla,), _ = pbx.search_directory("domain.net")
    assert carla.numbers == (("extension", "100"), ("mobile", "+49171"))


def test_external_entries_follow_within_the_limit(pbx: Pbx) -> None:
    asked: list[tuple[str, int]] = []

    def external(query: str, limit: int) -> list[DirectoryEntry]:
        asked.append((query, limit))
        return [DirectoryEntry(f"Carl {i}", "exchange") for i in range(5)]

    pbx.external_directory = external
    entries, problem = pbx.search_directory("carl", limit=3)
    assert problem is None
    assert [e.name for e in entries] == ["Carla Berg", "Carl 0", "Carl 1"]
    assert asked == [("carl", 2)]


def test_external_failure_is_reported_not_raised(pbx: Pbx) -> None:
    def broken(query: str, limit: int) -> list[DirectoryEntry]:
        raise DirectoryUnavailable("Exchange contact search failed: connection refused")

    pbx.external_directory = broken
    entries, problem = pbx.search_directory("carla")
    assert [e.name for e in entries] == ["Carla Berg"]
    assert problem == "Exchange contact search failed: connection refused"


@pytest.mark.parametrize(
    ("query", "limit", "field"), [("", 5, "q"), ("x", 0, "limit"), ("x", 500, "limit")]
)
def test_bad_searches_name_the_field(pbx: Pbx, query: str, limit: int, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        pbx.search_directory(query, limit)
    assert caught.value.field == field
