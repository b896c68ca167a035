"""Loading the call, voicemail, mail and contact steps, ``smtp:`` and ``forward_to_mobile``.

Invalid files are a table as in ``test_model``: the text, a ``#!`` comment on the
line the problem must name, and a fragment of the message.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scenarios.format.loader import load_scenario, parse_scenario
from scenarios.format.model import (
    Call,
    CheckMail,
    ExpectCall,
    ExpectContacts,
    ExpectMail,
    ExpectNoMail,
    LeaveVoicemail,
    ScenarioError,
    SearchContacts,
    SmtpSettings,
)

B = """\
name: t
timezone: Europe/Berlin
start: 2026-01-05 11:50
users:
  - {extension: "100", name: Anna Berg, email: user1@domain.net, mobile: "+49 170 1"}
  - {extension: "200", email: user2@domain.net, mailbox: false}
"""
CALL = 'steps:\n  - at: "12:00"\n    call: {to: "100", from: "+49 30 5550", id: c1}\n'
SEARCH = 'steps:\n  - at: "12:00"\n    search_contacts: {query: carla, id: s1}\n'

VALID = (
    B
    + """\
smtp: {security: ssl, username: PBX, password: pw}
steps:
  - at: "12:00"
    call: {to: "100", from: "+49 30 5550", id: c1}
  - at: "12:00"
    leave_voicemail: {to: "100", from: Reception, seconds: 2.5}
  - at: "12:00"
    expect_call: {call: c1, routed_to: voicemail, announcement: "Anna Berg is at lunch."}
  - at: "12:00"
    expect_call: {to: "100", routed_to: mobile, destination: "+49 170 1"}
  - at: "12:00"
    expect_call: {announcement_contains: lunch}
  - at: "12:00"
    expect_mail: {to: USER1@domain.net, subject: S, attachment: audio/wav, within: 1m30s}
  - at: "12:00"
    expect_no_mail: {to: user1@domain.net, subject_contains: Voicemail}
  - at: "12:01"
    check_mail: {to: partner@example.com, expect: RELAY_DENIED}
  - at: "12:01"
    check_mail: {to: user1@domain.net}
  - at: "12:02"
    search_contacts: {query: "  carla ", id: s1, limit: 5}
  - at: "12:02"
    search_contacts: {query: otto}
  - at: "12:03"
    expect_contacts: {search: s1, names: [Carla Customer], count: 1}
  - at: "12:03"
    expect_contacts: {count: 0}
"""
)


def at(hour: int, minute: int) -> datetime:
    return datetime(2026, 1, 5, hour - 1, minute, tzinfo=UTC)  # Berlin is UTC+1 in January


def test_every_new_step_kind_loads_with_its_arguments() -> None:
    scenario = parse_scenario(VALID)
    steps = scenario.steps
    assert [s.verb for s in steps] == [
        "call",
        "leave_voicemail",
        "expect_call",
        "expect_call",
        "expect_call",
        "expect_mail",
        "expect_no_mail",
        "check_mail",
        "check_mail",
        "search_contacts",
        "search_contacts",
        "expect_contacts",
        "expect_contacts",
    ]
    call, leave, by_id, by_to, last, mail, no_mail, relay, check, s1, s2, by_search, by_last = steps
    assert call == Call(at=at(12, 0), line=9, to="100", caller="+49 30 5550", id="c1")
    assert isinstance(leave, LeaveVoicemail) and (leave.caller, leave.seconds) == ("Reception", 2.5)
    assert leave.id is None and isinstance(leave, Call)
    assert isinstance(by_id, ExpectCall) and by_id.is_expectation
    assert (by_id.call, by_id.call_line, by_id.routed_to) == ("c1", 9, "voicemail")
    assert by_id.announcement == "Anna Berg is at lunch."
    # `to` and "the last call" resolve to the call step above them in the file.
    assert isinstance(by_to, ExpectCall) and (by_to.to, by_to.call_line) == ("100", 11)
    assert by_to.destination == "+49 170 1"
    assert isinstance(last, ExpectCall) and last.call_line == 11
    assert last.announcement_contains == "lunch" and last.routed_to is None
    assert isinstance(mail, ExpectMail) and not isinstance(mail, ExpectNoMail)
    assert (mail.to, mail.subject, mail.attachment) == ("user1@domain.net", "S", "audio/wav")
    assert mail.within == timedelta(seconds=90) and mail.until == at(12, 1) + timedelta(seconds=30)
    assert isinstance(no_mail, ExpectNoMail) and no_mail.within == timedelta(0)
    assert no_mail.until == no_mail.at and no_mail.subject_contains == "Voicemail"
    assert relay == CheckMail(
        at=at(12, 1), line=23, to="partner@example.com", expect="relay_denied"
    )
    assert isinstance(check, CheckMail) and check.expect == "delivered"
    assert s1 == SearchContacts(at=at(12, 2), line=27, query="carla", id="s1", limit=5)
    assert isinstance(s2, SearchContacts) and (s2.id, s2.limit) == (None, 50)
    assert isinstance(by_search, ExpectContacts) and by_search.search_line == 27
    assert (by_search.names, by_search.count) == (("Carla Customer",), 1)
    assert isinstance(by_last, ExpectContacts) and by_last.search_line == 29
    assert (by_last.names, by_last.count) == (None, 0)
    assert scenario.smtp == SmtpSettings(security="ssl", username="PBX", password="pw")
    assert scenario.end == at(12, 3)  # the last step


def test_the_derived_end_covers_the_last_wait() -> None:
    text = B + 'steps:\n  - at: "12:00"\n    expect_mail: {to: user1@domain.net, within: 10m}\n'
    assert parse_scenario(text).end == at(12, 10)


def test_defaults_forward_to_mobile_and_smtp() -> None:
    scenario = parse_scenario(
        B.replace('mobile: "+49 170 1"}', 'mobile: "+49 170 1", forward_to_mobile: [Sick, sick]}')
    )
    assert scenario.user("100").forward_to_mobile == ("sick",)
    assert scenario.user("200").forward_to_mobile == ()
    assert scenario.smtp == SmtpSettings()
    assert parse_scenario(B + 'smtp: {username: ""}').smtp.username == ""


INVALID: list[tuple[str, str, str]] = [
    (
        "call-unknown-user",
        B + 'steps:\n  - at: "12:00"\n    call: {to: "101", from: x}  #!\n',
        "unknown user '101' (users are extensions; known: 100, 200)",
    ),
    (
        "call-without-from",
        B + 'steps:\n  - at: "12:00"\n    call: {to: "100"}  #!\n',
        "call needs 'from'",
    ),
    (
        "call-long-from",
        B + 'steps:\n  - at: "12:00"\n    call: {to: "100", from: ' + "9" * 65 + "}  #!\n",
        "from is longer than 64 characters",
    ),
    (
        "call-id-twice",
        B + CALL + '  - at: "12:01"\n    leave_voicemail: {to: "100", from: x, id: c1}  #!\n',
        "call id 'c1' is already used at line 8",
    ),
    (
        "voicemail-seconds-zero",
        B + 'steps:\n  - at: "12:00"\n    leave_voicemail: {to: "100", from: x, seconds: 0}  #!\n',
        "seconds must be more than 0 and at most 600",
    ),
    (
        "voicemail-seconds-word",
        B + 'steps:\n  - at: "12:00"\n    leave_voicemail: {to: "100", from: x, seconds: 5s}  #!\n',
        "seconds must be a number of seconds, not '5s'",
    ),
    (
        "expect-call-unknown-id",
        B + CALL + '  - at: "12:00"\n    expect_call: {call: c2, routed_to: voicemail}  #!\n',
        "no call has the id 'c2'; one of: c1",
    ),
    (
        "expect-call-id-of-a-later-call",
        B
        + 'steps:\n  - at: "12:00"\n    expect_call: {call: c1, routed_to: mobile}  #!\n'
        + '  - at: "12:00"\n    call: {to: "100", from: x, id: c1}\n',
        "no call has the id 'c1' (no earlier call or leave_voicemail step has an id)",
    ),
    (
        "expect-call-user-not-called",
        B + CALL + '  - at: "12:00"\n    expect_call: {to: "200", routed_to: voicemail}  #!\n',
        "no call to 200 before this step",
    ),
    (
        "expect-call-no-call",
        B + 'steps:\n  - at: "12:00"\n    expect_call: {routed_to: voicemail}  #!\n',
        "no call before this step",
    ),
    (
        "expect-call-both-names",
        B
        + CALL
        + '  - at: "12:00"\n    expect_call: {call: c1, to: "100", routed_to: mobile}  #!\n',
        "names a call by 'call' (its id) or 'to', not both",
    ),
    (
        "expect-call-route",
        B + CALL + '  - at: "12:00"\n    expect_call: {routed_to: voicemal}  #!\n',
        "unknown expect_call routed_to 'voicemal' (did you mean 'voicemail'?)",
    ),
    (
        "expect-call-extension-announced",
        B
        + CALL
        + '  - at: "12:00"\n    expect_call: {routed_to: extension, announcement: x}  #!\n',
        "a call that rings the extension has no announcement",
    ),
    (
        "expect-call-nothing",
        B + CALL + '  - at: "12:00"\n    expect_call: {call: c1}  #!\n',
        "expect_call checks nothing",
    ),
    (
        "expect-call-two-announcements",
        B
        + CALL
        + '  - at: "12:00"\n    expect_call: {announcement: a, announcement_contains: b}  #!\n',
        "give announcement (the exact text) or announcement_contains, not both",
    ),
    (
        "expect-mail-unknown-mailbox",
        B + 'steps:\n  - at: "12:00"\n    expect_mail: {to: user3@domain.net}  #!\n',
        "no user has the mailbox 'user3@domain.net'",
    ),
    (
        "expect-mail-no-mailbox",
        B + 'steps:\n  - at: "12:00"\n    expect_no_mail: {to: user2@domain.net}  #!\n',
        "user 200 has mailbox: false, so no mail reaches 'user2@domain.net'",
    ),
    (
        "expect-mail-negative-within",
        B + 'steps:\n  - at: "12:00"\n    expect_mail:\n      to: user1@domain.net\n'
        "      within: -1m  #!\n",
        "expect_mail within must be zero or more",
    ),
    (
        "expect-mail-after-end",
        B.replace("start: 2026-01-05 11:50", "start: 2026-01-05 11:50\nend: 2026-01-05 12:05")
        + 'steps:\n  - at: "12:00"\n    expect_mail: {to: user1@domain.net, within: 6m}  #!\n',
        "expect_mail looks until 2026-01-05 12:06:00, after the scenario end",
    ),
    (
        "expect-mail-without-to",
        B + 'steps:\n  - at: "12:00"\n    expect_mail: {subject: x}  #!\n',
        "expect_mail needs 'to'",
    ),
    (
        "check-mail-address",
        B + 'steps:\n  - at: "12:00"\n    check_mail: {to: somebody}  #!\n',
        "'somebody' is not an e-mail address",
    ),
    (
        "check-mail-outcome",
        B + 'steps:\n  - at: "12:00"\n    check_mail: {to: a@b.c, expect: relay_deny}  #!\n',
        "unknown check_mail expect 'relay_deny' (did you mean 'relay_denied'?)",
    ),
    (
        "search-empty",
        B + 'steps:\n  - at: "12:00"\n    search_contacts: {query: "  "}  #!\n',
        "search_contacts query must not be empty",
    ),
    (
        "search-limit",
        B + 'steps:\n  - at: "12:00"\n    search_contacts: {query: a, limit: 0}  #!\n',
        "limit must be between 1 and 1000, not 0",
    ),
    (
        "search-id-twice",
        B + SEARCH + '  - at: "12:01"\n    search_contacts: {query: b, id: s1}  #!\n',
        "search id 's1' is already used at line 8",
    ),
    (
        "expect-contacts-unknown-id",
        B + SEARCH + '  - at: "12:01"\n    expect_contacts: {search: s2, count: 0}  #!\n',
        "no search has the id 's2'; one of: s1",
    ),
    (
        "expect-contacts-no-search",
        B + 'steps:\n  - at: "12:00"\n    expect_contacts: {count: 0}  #!\n',
        "no search_contacts before this step",
    ),
    (
        "expect-contacts-disagree",
        B + SEARCH + '  - at: "12:01"\n    expect_contacts:\n      names: [a, b]\n'
        "      count: 1  #!\n",
        "count 1 but 2 names are listed",
    ),
    (
        "expect-contacts-nothing",
        B + SEARCH + '  - at: "12:01"\n    expect_contacts: {search: s1}  #!\n',
        "expect_contacts checks nothing; give names and/or count",
    ),
    (
        "forward-office",
        B.replace(
            'mobile: "+49 170 1"}', 'mobile: "+49 170 1",\n     forward_to_mobile: [office]}  #!'
        ),
        "calls in office ring the extension",
    ),
    (
        "forward-without-mobile",
        B.replace(", mailbox: false}", ", mailbox: false,\n     forward_to_mobile: [sick]}  #!"),
        "forward_to_mobile needs a mobile number",
    ),
    (
        "forward-unknown-status",
        B.replace(
            'mobile: "+49 170 1"}', 'mobile: "+49 170 1",\n     forward_to_mobile: [ill]}  #!'
        ),
        "unknown forward_to_mobile status 'ill'",
    ),
    (
        "smtp-security",
        B + "smtp: {security: tls}  #!\n",
        "unknown smtp security 'tls'; one of: starttls, ssl, none",
    ),
    ("smtp-unknown-key", B + "smtp: {server: x}  #!\n", "unknown key 'server' in smtp"),
]


def expected_line(text: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if "#!" in line:
            return number
    return 1


@pytest.mark.parametrize(
    ("text", "fragment"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_invalid_steps_name_file_line_and_problem(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    prefix = f"{path}:{expected_line(text)}: "
    matching = [p for p in caught.value.problems if p.startswith(prefix) and fragment in p]
    assert matching, f"no problem {prefix}...{fragment!r} in {caught.value.problems}"


def test_table_names_are_unique() -> None:
    assert len({name for name, _, _ in INVALID}) == len(INVALID) >= 30


MUTATIONS = ["[1, 2]", "{a: 1}", "~", "yes", "'zz'", "-3", "2026-01-05", "''"]


def test_any_value_replaced_gives_problems_not_tracebacks() -> None:
    """Each value inside the new steps replaced by each odd value: only ScenarioError."""
    spots = [m.end() for m in re.finditer(r"(?<=[{,] )\w+: ", VALID)]
    checked = 0
    for spot in spots:
        end = min(i for i in (VALID.find(",", spot), VALID.find("}", spot)) if i > 0)
        for odd in MUTATIONS:
            text = VALID[:spot] + odd + VALID[end:]
            try:
                parse_scenario(text, "m.yaml")
            except ScenarioError as exc:
                assert all(re.match(r"m\.yaml:\d+: \S", p) for p in exc.problems), exc.problems
            checked += 1
    assert checked > 150
