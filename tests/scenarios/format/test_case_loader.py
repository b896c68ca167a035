"""Loading the steps and keys for customer cases: restarts, rights, users added later,
the client's writes, meetings and their cancellation, ``exchange.rights_delay``.

Invalid files are a table as in ``test_comm_loader``: the text, a ``#!`` comment on
the line the problem must name, and a fragment of the message.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scenarios.format.accesssteps import AddUser, Grant, Revoke
from scenarios.format.clientsteps import ClientSetPresence
from scenarios.format.loader import load_scenario, parse_scenario
from scenarios.format.meetingsteps import CancelMeeting
from scenarios.format.model import ScenarioError
from scenarios.format.restartsteps import RestartEngine, RestartExchange
from simulators.exchange.model import ALL_MAILBOXES
from simulators.exchange.seed import SeedMeeting

B = """\
name: t
timezone: Europe/Berlin
start: 2026-01-05 11:50
users:
  - {extension: "100", name: Anna Berg, email: user1@domain.net}
  - {extension: "101", email: user2@domain.net, language: de}
  - {extension: "200", email: user3@domain.net, mailbox: false}
"""

VALID = (
    B
    + """\
exchange: {rights_delay: 2m}
appointments:
  - {id: review, mailbox: user1@domain.net, subject: Review, start: "13:00", end: "14:00",
     meeting: {organizer: boss@domain.net, response: tentative}}
  - {id: gone, mailbox: user2@domain.net, subject: Besprechung, start: "13:00", end: "14:00",
     meeting: {cancelled: true}}
steps:
  - at: "12:00"
    restart_engine: {}
  - at: "12:01"
    restart_engine: {down_for: 5m}
  - at: "12:02"
    restart_exchange: {down_for: 1m30s}
  - at: "12:10"
    grant: {right: full_access, mailbox: user1@domain.net}
  - at: "12:10"
    revoke: {right: impersonation, mailbox: ALL, to: user2@domain.net}
  - at: "12:10"
    grant: {right: impersonation_on_server}
  - at: "12:11"
    add_user: {extension: "103", name: Dora Neu, email: user4@domain.net, language: de}
  - at: "12:12"
    create_appointment: {id: new, mailbox: user4@domain.net, subject: Mittag, start: "12:30",
                         end: "13:00", meeting: {organizer: boss@domain.net, response: none}}
  - at: "12:12"
    grant: {right: full_access, mailbox: USER4@domain.net}
  - at: "12:13"
    client_set_presence: {user: "103", status: lunch, until: "13:00"}
  - at: "12:14"
    cancel_meeting: {id: review}
  - at: "12:15"
    expect_presence: {user: "103", status: lunch}
expect_transitions:
  - {user: "103", status: lunch, between: ["12:30", "12:30"]}
"""
)


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2026, 1, 5, hour - 1, minute, second, tzinfo=UTC)  # Berlin: UTC+1


def test_every_new_step_and_key_loads() -> None:
    scenario = parse_scenario(VALID)
    assert scenario.exchange.rights_delay == timedelta(minutes=2)
    review, gone = scenario.seed.appointments
    assert review.meeting == SeedMeeting("boss@domain.net", "Tentative", False)
    assert gone.meeting == SeedMeeting("organizer@domain.net", "Accept", True)
    steps = scenario.steps
    assert [s.verb for s in steps] == [
        "restart_engine",
        "restart_engine",
        "restart_exchange",
        "grant",
        "revoke",
        "grant",
        "add_user",
        "create_appointment",
        "grant",
        "client_set_presence",
        "cancel_meeting",
        "expect_presence",
    ]
    now, later, exchange, grant, revoke, server, add, create, grant4, client, cancel, _ = steps
    assert now == RestartEngine(at=at(12, 0), line=15, down_for=timedelta(0))
    assert now.back == now.at and now.until == now.at
    assert isinstance(later, RestartEngine) and later.back == at(12, 6)
    assert isinstance(exchange, RestartExchange) and exchange.until == at(12, 3, 30)
    assert grant == Grant(
        at=at(12, 10),
        line=21,
        right="full_access",
        account="OSOMX@domain.net",
        mailbox="user1@domain.net",
    )
    assert grant.grant and isinstance(revoke, Revoke) and not revoke.grant
    assert (revoke.right, revoke.account, revoke.mailbox) == (
        "impersonation",
        "user2@domain.net",
        ALL_MAILBOXES,
    )
    assert isinstance(server, Grant) and (server.right, server.mailbox) == (
        "impersonation_on_server",
        None,
    )
    assert isinstance(add, AddUser)
    assert (add.user.extension, add.user.email, add.user.language) == (
        "103",
        "user4@domain.net",
        "de",
    )
    assert scenario.users[-1].extension == "200"  # the PBX starts without the added user
    assert create.appointment.meeting == SeedMeeting(  # type: ignore[attr-defined]
        "boss@domain.net", "NoResponseReceived", False
    )
    assert isinstance(grant4, Grant) and grant4.mailbox == "user4@domain.net"
    assert client == ClientSetPresence(
        at=at(12, 13),
        line=34,
        user="103",
        status="lunch",
        end=at(13, 0),
        mailbox="user4@domain.net",
        subject="Mittag",
    )
    assert cancel == CancelMeeting(at=at(12, 14), line=36, id="review")


def test_english_keyword_of_each_status_for_the_client() -> None:
    text = (
        B
        + 'steps:\n  - at: "12:00"\n    client_set_presence: {user: "100", status: out_of_office, until: "13:00"}\n'
    )
    (step,) = parse_scenario(text).steps
    assert isinstance(step, ClientSetPresence) and step.subject == "Out of Office"


INVALID: list[tuple[str, str, str]] = [
    (
        "restart-negative",
        B + 'steps:\n  - at: "12:00"\n    restart_engine:\n      down_for: -1m  #!\n',
        "restart_engine down_for must be zero or more",
    ),
    (
        "restart-unknown-key",
        B + 'steps:\n  - at: "12:00"\n    restart_exchange: {for: 1m}  #!\n',
        "unknown key 'for' in restart_exchange",
    ),
    (
        "restart-overlap",
        B + 'steps:\n  - at: "12:00"\n    restart_engine: {down_for: 5m}\n'
        '  - at: "12:03"  #!\n    restart_engine: {}\n',
        "restart_engine at 2026-01-05 12:03:00: it is still down after the restart_engine at line 9",
    ),
    (
        "engine-step-while-down",
        B + 'steps:\n  - at: "12:00"\n    restart_engine: {down_for: 5m}\n'
        '  - at: "12:01"  #!\n    check_mail: {to: user1@domain.net}\n',
        "check_mail is the engine's, and the engine is down at 2026-01-05 12:01:00",
    ),
    (
        "restart-after-end",
        B.replace("start: 2026-01-05 11:50", "start: 2026-01-05 11:50\nend: 2026-01-05 12:05")
        + 'steps:\n  - at: "12:00"\n    restart_exchange: {down_for: 10m}  #!\n',
        "restart_exchange looks until 2026-01-05 12:10:00, after the scenario end",
    ),
    (
        "rights-delay-negative",
        B + "exchange:\n  rights_delay: -1m  #!\n",
        "rights_delay must be zero or more",
    ),
    (
        "grant-unknown-right",
        B + 'steps:\n  - at: "12:00"\n    grant: {right: send_as, mailbox: all}  #!\n',
        "unknown grant right 'send_as'",
    ),
    (
        "grant-without-mailbox",
        B + 'steps:\n  - at: "12:00"\n    grant: {right: full_access}  #!\n',
        "grant needs 'mailbox'",
    ),
    (
        "server-right-with-mailbox",
        B + 'steps:\n  - at: "12:00"\n    revoke:\n      right: impersonation_on_server\n'
        "      mailbox: user1@domain.net  #!\n",
        "impersonation_on_server is a right on the Client Access server, not on a mailbox",
    ),
    (
        "grant-unknown-mailbox",
        B
        + 'steps:\n  - at: "12:00"\n    grant: {right: full_access, mailbox: user9@domain.net}  #!\n',
        "no user has the mailbox 'user9@domain.net'",
    ),
    (
        "grant-unknown-account",
        B
        + 'steps:\n  - at: "12:00"\n    grant: {right: full_access, mailbox: all, to: admin@domain.net}  #!\n',
        "no account 'admin@domain.net': rights go to the service account or a user's own account",
    ),
    (
        "add-user-extension-taken",
        B
        + 'steps:\n  - at: "12:00"\n    add_user: {extension: "100", email: user9@domain.net}  #!\n',
        "extension 100 is already used at line 5",
    ),
    (
        "add-user-email-taken",
        B
        + 'steps:\n  - at: "12:00"\n    add_user: {extension: "104", email: User2@domain.net}  #!\n',
        "e-mail User2@domain.net is already used at line 6",
    ),
    (
        "add-user-bad-key",
        B + 'steps:\n  - at: "12:00"\n    add_user: {extension: "104", mail: x@y.z}  #!\n',
        "unknown key 'mail' in user",
    ),
    (
        "step-before-add-user",
        B + 'steps:\n  - at: "12:00"\n    expect_presence: {user: "104", status: office}  #!\n'
        '  - at: "12:01"\n    add_user: {extension: "104", email: user9@domain.net}\n',
        "unknown user '104'",
    ),
    (
        "client-office",
        B + 'steps:\n  - at: "12:00"\n    client_set_presence:\n      user: "100"\n'
        '      status: office  #!\n      until: "13:00"\n',
        "the client writes no appointment for office",
    ),
    (
        "client-until-before",
        B + 'steps:\n  - at: "12:00"\n    client_set_presence:\n      user: "100"\n'
        '      status: lunch\n      until: "11:00"  #!\n',
        "until 2026-01-05 11:00:00 is not after the step's time 2026-01-05 12:00:00",
    ),
    (
        "client-no-mailbox",
        B + 'steps:\n  - at: "12:00"\n    client_set_presence:\n      user: "200"  #!\n'
        '      status: lunch\n      until: "13:00"\n',
        "user 200 has no mailbox, so the client has no calendar to write to",
    ),
    (
        "client-needs-until",
        B + 'steps:\n  - at: "12:00"\n    client_set_presence: {user: "100", status: lunch}  #!\n',
        "client_set_presence needs 'until'",
    ),
    (
        "meeting-bad-response",
        B + 'appointments:\n  - mailbox: user1@domain.net\n    start: "13:00"\n    end: "14:00"\n'
        "    meeting: {response: declined}  #!\n",
        "unknown meeting response 'declined'",
    ),
    (
        "meeting-bad-organizer",
        B + 'appointments:\n  - mailbox: user1@domain.net\n    start: "13:00"\n    end: "14:00"\n'
        "    meeting: {organizer: boss}  #!\n",
        "'boss' is not an e-mail address",
    ),
    (
        "meeting-own-organizer",
        B + 'appointments:\n  - mailbox: user1@domain.net\n    start: "13:00"\n    end: "14:00"\n'
        "    meeting: {organizer: USER1@domain.net}  #!\n",
        "the organizer's own copy is an appointment",
    ),
    (
        "cancel-not-a-meeting",
        B + 'appointments:\n  - {id: a, mailbox: user1@domain.net, start: "13:00", end: "14:00"}\n'
        'steps:\n  - at: "12:00"\n    cancel_meeting: {id: a}  #!\n',
        "appointment 'a' is not a meeting",
    ),
    (
        "cancel-twice",
        B
        + 'appointments:\n  - {id: a, mailbox: user1@domain.net, start: "13:00", end: "14:00", meeting: {}}\n'
        'steps:\n  - at: "12:00"\n    cancel_meeting: {id: a}\n  - at: "12:01"\n    cancel_meeting: {id: a}  #!\n',
        "meeting 'a' is already cancelled at line 11",
    ),
    (
        "cancel-seeded-cancelled",
        B + 'appointments:\n  - {id: a, mailbox: user1@domain.net, start: "13:00", end: "14:00",\n'
        "     meeting: {cancelled: true}}\n"
        'steps:\n  - at: "12:00"\n    cancel_meeting: {id: a}  #!\n',
        "meeting 'a' is already cancelled in the file",
    ),
    (
        "cancel-unknown-id",
        B + 'steps:\n  - at: "12:00"\n    cancel_meeting: {id: nope}  #!\n',
        "no appointment has the id 'nope'",
    ),
    (
        "expect-no-mail-count",
        B + 'steps:\n  - at: "12:00"\n    expect_no_mail: {to: user1@domain.net, count: 1}  #!\n',
        "unknown key 'count' in expect_no_mail",
    ),
    (
        "expect-mail-count-negative",
        B
        + 'steps:\n  - at: "12:00"\n    expect_mail:\n      to: user1@domain.net\n      count: -1  #!\n',
        "count must be between 0 and 10000",
    ),
]


def expected_line(text: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if "#!" in line:
            return number
    return 1


@pytest.mark.parametrize(("name", "text", "fragment"), INVALID, ids=[i[0] for i in INVALID])
def test_invalid_uses_name_file_line_and_problem(
    tmp_path: Path, name: str, text: str, fragment: str
) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    prefix = f"{path}:{expected_line(text)}: "
    matching = [p for p in caught.value.problems if p.startswith(prefix) and fragment in p]
    assert matching, f"no problem {prefix}...{fragment!r} in {caught.value.problems}"


def test_table_names_are_unique() -> None:
    names = [i[0] for i in INVALID]
    assert len(names) == len(set(names))
