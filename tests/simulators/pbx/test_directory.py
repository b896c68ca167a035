"""The user directory: add, update, list, look up by extension and e-mail."""

from __future__ import annotations

import pytest

from simulators.pbx import Conflict, InvalidInput, Pbx, Status, UnknownUser, User


def test_users_are_listed_in_extension_order(pbx: Pbx) -> None:
    pbx.add_user(User("99", "Short Number"))
    pbx.add_user(User("1000", "Long Number"))
    assert [u.extension for u in pbx.users()] == ["99", "100", "101", "1000"]


def test_lookup_by_email_ignores_case(pbx: Pbx) -> None:
    user = pbx.user_by_email("grete.mueller@DOMAIN.NET")
    assert user is not None and user.extension == "101"
    assert pbx.user_by_email("nobody@domain.net") is None


def test_lookup_by_extension(pbx: Pbx) -> None:
    assert pbx.user("100").name == "User Test"
    with pytest.raises(UnknownUser):
        pbx.user("555")


def test_new_users_start_in_office_unless_told_otherwise(pbx: Pbx) -> None:
    assert pbx.presence("100").status == Status.OFFICE
    pbx.add_user(User("102", "Away"), status="vacation", set_by="seed")
    presence = pbx.presence("102")
    assert (presence.status, presence.set_by) == (Status.VACATION, "seed")
    assert pbx.journal() == []  # the starting state is not a change


def test_update_changes_settings_and_keeps_the_rest(pbx: Pbx) -> None:
    updated = pbx.update_user("100", language="de", forward_to_mobile=["lunch"], mobile="+49 171 1")
    assert (updated.language, updated.mobile) == ("de", "+49 171 1")
    assert updated.forward_to_mobile == frozenset({Status.LUNCH})
    assert pbx.user("100").email == "user1@domain.net"


@pytest.mark.parametrize(
    ("changes", "error", "field"),
    [
        ({"extension": "200"}, InvalidInput, "extension"),
        ({"language": "fr"}, InvalidInput, "language"),
        ({"email": "not-an-address"}, InvalidInput, "email"),
        ({"email": "GRETE.mueller@domain.net"}, Conflict, "email"),
        ({"auto_back_to_office": "yes"}, InvalidInput, "auto_back_to_office"),
        ({"forward_to_mobile": ["away"]}, InvalidInput, "forward_to_mobile"),
        ({"mobile": "call me"}, InvalidInput, "mobile"),
        ({"colour": "blue"}, InvalidInput, "colour"),
    ],
)
def test_bad_updates_are_refused_and_change_nothing(
    pbx: Pbx, changes: dict[str, object], error: type[Exception], field: str
) -> None:
    before = pbx.user("100")
    with pytest.raises(error) as err:
        pbx.update_user("100", **changes)
    assert getattr(err.value, "field", None) == field
    assert pbx.user("100") == before


def test_extension_and_email_are_unique(pbx: Pbx) -> None:
    with pytest.raises(Conflict):
        pbx.add_user(User("100", "Twin"))
    with pytest.raises(Conflict):
        pbx.add_user(User("300", "Twin", "USER1@domain.net"))
    assert len(pbx.users()) == 2


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"extension": "10a", "name": "X"}, "extension"),
        ({"extension": "", "name": "X"}, "extension"),
        ({"extension": "10", "name": "  "}, "name"),
    ],
)
def test_bad_users_are_refused(fields: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        User(**fields)  # type: ignore[arg-type]
    assert err.value.field == field


def test_calendar_integration_switches(pbx: Pbx) -> None:
    assert pbx.calendar_integration is True
    pbx.calendar_integration = False
    assert pbx.calendar_integration is False
    pbx.update_user("100", calendar_integration=False)
    assert pbx.user("100").calendar_integration is False
    with pytest.raises(InvalidInput):
        pbx.calendar_integration = "no"  # type: ignore[assignment]


def test_a_changed_email_frees_the_old_address_and_finds_the_new(pbx: Pbx) -> None:
    pbx.update_user("100", email="renamed@domain.net")
    assert pbx.user_by_email("RENAMED@domain.net") is not None
    assert pbx.user_by_email("user1@domain.net") is None
    pbx.add_user(User("300", "Newcomer", "user1@domain.net"))  # the old address is free
    assert pbx.user_by_email("user1@domain.net").extension == "300"  # type: ignore[union-attr]
