"""The runner's mail side: voicemail mailed over real SMTP, retries on the scenario clock,
``expect_mail``/``expect_no_mail`` and ``check_mail``, failures naming their line."""

from __future__ import annotations

import io
import logging
import wave
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from scenarios.format.loader import parse_scenario
from scenarios.run.environment import Environment
from scenarios.run.runner import ScenarioResult, run_scenario
from simulators.smtp.inspection import parse_message

HEAD = """\
name: mail
timezone: Europe/Berlin
start: "2026-01-05 12:00"
end: "2026-01-05 12:30"
engine: {poll_offset: 15s}
users:
  - {extension: "100", name: Anna Berg, email: user1@domain.net,
     presence: {status: meeting, return_time: "14:00"}}
  - {extension: "101", name: Bernd Krüger, email: user2@domain.net, language: de}
steps:
"""
VOICEMAIL = '  - at: "12:10"\n    leave_voicemail: {to: "100", from: "+49 30 5550", seconds: 5}\n'


def berlin(clock: str) -> datetime:
    local = datetime.fromisoformat(f"2026-01-05 {clock}").replace(tzinfo=ZoneInfo("Europe/Berlin"))
    return local.astimezone(UTC)


def run(environment: Environment, text: str, variant: str = "ews") -> ScenarioResult:
    result = run_scenario(parse_scenario(text, "case.yaml"), variant, environment)
    assert result.error is None, result.error
    return result


def lines(result: ScenarioResult) -> list[int]:
    return [f.line for f in result.failures]


def test_a_voicemail_is_mailed_over_starttls_with_the_wav_attached(
    environment: Environment,
) -> None:
    text = (
        HEAD + VOICEMAIL + '  - at: "12:10"\n    expect_mail: {to: user1@domain.net,'
        ' subject: "Voicemail from +49 30 5550 (0:05)", attachment: audio/wav}\n'
    )
    result = run(environment, text)
    assert result.passed, result.failures
    (summary,) = environment.sink.inspector.messages("user1@domain.net")
    assert summary.received == berlin("12:10:00")
    assert summary.transaction is not None
    assert summary.transaction.tls and summary.transaction.login == "OSOMX@domain.net"
    (attachment,) = parse_message(summary).attachments
    assert attachment.filename == "voicemail-100-20260105-121000.wav"
    with wave.open(io.BytesIO(attachment.data)) as recording:
        assert recording.getnframes() == 5 * recording.getframerate()
    assert [(a.at, a.text) for a in result.activity if "mail 1" in a.text] == [
        (berlin("12:10:00"), "voicemail for 100 (5 s) queued as mail 1"),
        (
            berlin("12:10:00"),
            "mail 1 to user1@domain.net ('Voicemail from +49 30 5550 (0:05)'): delivered",
        ),
    ]


def test_a_failing_expect_mail_names_its_line_and_what_the_mailbox_holds(
    environment: Environment,
) -> None:
    text = (
        HEAD
        + VOICEMAIL
        + '  - at: "12:11"\n    expect_mail: {to: user1@domain.net, subject: Voicemail}\n'
        + '  - at: "12:12"\n    expect_mail: {to: user1@domain.net, attachment: "*.mp3"}\n'
        + '  - at: "12:13"\n    expect_mail: {to: user2@domain.net, within: 1m}\n'
    )
    result = run(environment, text)
    assert lines(result) == [13, 15, 17]  # the lines of the steps' `at`
    first, second, third = (f.message for f in result.failures)
    assert first == (
        "expected a mail to user1@domain.net with subject 'Voicemail' by 2026-01-05 12:11:00; "
        "the mailbox has 1 mail(s): 'Voicemail from +49 30 5550 (0:05)' "
        "[audio/wav voicemail-100-20260105-121000.wav]"
    )
    assert second.startswith("expected a mail to user1@domain.net with an attachment '*.mp3'")
    assert third == (
        "expected a mail to user2@domain.net by 2026-01-05 12:14:00; the mailbox is empty"
    )


def test_the_queue_retries_at_its_own_instants_while_smtp_is_down(
    environment: Environment,
) -> None:
    # Polls at :15/:45; the retries fall on :00/:30 and the runner visits them.
    text = (
        HEAD
        + '  - at: "12:09"\n    fault: {service: smtp, kind: unavailable, duration: 5m}\n'
        + VOICEMAIL
        + '  - at: "12:10"\n    expect_no_mail: {to: user1@domain.net, within: 7m29s}\n'
        + '  - at: "12:10"\n    expect_mail: {to: user1@domain.net, within: 7m30s}\n'
        + '  - at: "12:10"\n    expect_mail: {to: user1@domain.net, within: 7m29s}\n'
    )
    result = run(environment, text)
    tries = [a.at for a in result.activity if a.text.startswith("mail 1 ")]
    assert tries == [berlin(t) for t in ("12:10:00", "12:10:30", "12:11:30", "12:13:30")] + [
        berlin("12:17:30")
    ]
    attempts = [a.text for a in result.activity if a.text.startswith("mail 1 ")]
    assert "attempt 1 failed (connection refused" in attempts[0]
    assert attempts[0].endswith("next try at 2026-01-05 12:10:30")
    assert attempts[-1].endswith("delivered")
    assert lines(result) == [19]  # only the wait one second too short
    message = result.failures[0].message
    assert message.startswith("expected a mail to user1@domain.net by 2026-01-05 12:17:29;")
    assert "the queue holds mail 1 'Voicemail from +49 30 5550 (0:05)': pending after 4" in message
    assert "connection refused" in message


def test_expect_no_mail_fails_when_one_arrives(environment: Environment) -> None:
    text = (
        HEAD
        + '  - at: "12:05"\n    expect_no_mail: {to: user1@domain.net, within: 10m}\n'
        + VOICEMAIL
    )
    result = run(environment, text)
    assert lines(result) == [11]
    assert result.failures[0].message == (
        "expected no mail to user1@domain.net until 2026-01-05 12:15:00; "
        "'Voicemail from +49 30 5550 (0:05)' [audio/wav voicemail-100-20260105-121000.wav] "
        "arrived at 2026-01-05 12:10:00"
    )


def test_a_call_that_hangs_up_leaves_nothing_to_mail(environment: Environment) -> None:
    text = (
        HEAD
        + '  - at: "12:10"\n    call: {to: "100", from: "+49 30 5550"}\n'
        + '  - at: "12:10"\n    expect_no_mail: {to: user1@domain.net, within: 5m}\n'
    )
    result = run(environment, text)
    assert result.passed, result.failures
    assert environment.sink.inspector.messages("user1@domain.net") == []


def test_leave_voicemail_that_rings_the_extension_fails_its_line(
    environment: Environment,
) -> None:
    text = HEAD + '  - at: "12:10"\n    leave_voicemail: {to: "101", from: "+49 30 5550"}\n'
    result = run(environment, text)
    assert lines(result) == [11]
    assert result.failures[0].message == (
        "expected the call to 101 at 2026-01-05 12:10:00 to reach voicemail, but it went to "
        "the extension (presence office); no message was left"
    )
    assert environment.sink.inspector.messages("user2@domain.net") == []


def test_check_mail_outcomes_and_the_relay_policy_per_scenario(
    environment: Environment,
) -> None:
    text = HEAD + '  - at: "12:01"\n    check_mail: {to: partner@example.com, expect: delivered}\n'
    denied = run(environment, text)
    assert lines(denied) == [11]
    assert denied.failures[0].message.startswith(
        "expected check_mail to partner@example.com to end delivered at 2026-01-05 12:01:00, "
        "got relay_denied: relay denied; server replied '550 5.7.1 Unable to relay'"
    )
    allowed = run(environment, text.replace("steps:\n", "exchange: {allow_relay: true}\nsteps:\n"))
    assert allowed.passed, allowed.failures
    # The next scenario starts without relaying again.
    assert lines(run(environment, text)) == [11]


def test_smtp_settings_reach_the_engine(environment: Environment) -> None:
    check = '  - at: "12:01"\n    check_mail: {to: user1@domain.net, expect: %s}\n'
    cases = {
        "smtp: {password: wrong}": "auth_refused",
        "smtp: {security: none}": "tls_required",
        'smtp: {security: none, username: ""}': "delivered",
        "smtp: {security: ssl}": "delivered",
    }
    for setting, outcome in cases.items():
        text = HEAD.replace("steps:\n", f"{setting}\nsteps:\n") + check % outcome
        result = run(environment, text)
        assert result.passed, (setting, result.failures)
    (summary,) = environment.sink.inspector.messages("user1@domain.net")
    assert summary.transaction is not None and summary.transaction.listener == "smtps"


def test_a_refused_login_fails_the_voicemail_mail_for_good_quietly(
    environment: Environment,
) -> None:
    text = (
        HEAD.replace("steps:\n", "smtp: {password: wrong}\nsteps:\n")
        + VOICEMAIL
        + '  - at: "12:10"\n    expect_no_mail: {to: user1@domain.net, within: 15m}\n'
    )
    before = logging.getLogger("integration.mail").level
    result = run(environment, text)
    assert result.passed, result.failures
    tries = [a for a in result.activity if a.text.startswith("mail 1 ")]
    assert len(tries) == 1 and "FAILED for good: authentication refused" in tries[0].text
    assert logging.getLogger("integration.mail").level == before


def test_german_voicemail_mail(environment: Environment) -> None:
    text = (
        HEAD.replace("language: de}", "language: de, presence: {status: lunch}}")
        + '  - at: "12:20"\n    leave_voicemail: {to: "101", from: "+49 30 5550", seconds: 65}\n'
        + '  - at: "12:20"\n    expect_mail: {to: user2@domain.net,'
        ' subject: "Sprachnachricht von +49 30 5550 (1:05)", attachment: "voicemail-101-*.WAV"}\n'
    )
    result = run(environment, text, "webdav")
    assert result.passed, result.failures
