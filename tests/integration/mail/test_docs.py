"""docs/email-forwarding.md stays true: its settings load, its sample output is what
check-mail prints, and every outcome is in its table."""

from __future__ import annotations

import asyncio
from pathlib import Path

from integration.config import load_config_text
from integration.mail.check import check_mail, report
from integration.mail.outcome import Outcome
from tests.integration.mail.conftest import USER1, MailRig

DOC = Path(__file__).parents[3] / "docs" / "email-forwarding.md"


def blocks(kind: str) -> list[str]:
    """The fenced blocks tagged ``kind`` ('' for untagged), in order."""
    found: list[str] = []
    current: list[str] | None = None
    tag = ""
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("```") and current is None:
            current, tag = [], line[3:].strip()
        elif line.startswith("```") and current is not None:
            if tag == kind:
                found.append("\n".join(current) + "\n")
            current = None
        elif current is not None:
            current.append(line)
    return found


def test_the_settings_example_loads(tmp_path: Path) -> None:
    (tmp_path / "smtp-ca.pem").write_text("x")
    exchange = '[exchange]\nserver_url = "https://h/ews/exchange.asmx"\nusername = "u"\n'
    config = load_config_text(exchange + 'password = "p"\n' + blocks("toml")[0], tmp_path)
    smtp = config.smtp
    assert smtp is not None and smtp.ca_file == tmp_path / "smtp-ca.pem"
    assert smtp.queue_path == tmp_path / "mail-queue.sqlite3"
    assert (smtp.security, smtp.port, smtp.verify_tls) == ("starttls", 587, True)


def test_the_sample_output_is_what_check_mail_prints(rig: MailRig) -> None:
    config = rig.config(password="wrong")
    printed = report(config, USER1, asyncio.run(check_mail(config, USER1))).splitlines()
    documented = blocks("")[1].splitlines()
    assert documented[0].startswith("Test mail from") and printed[0].startswith("Test mail from")
    assert printed[1:] == documented[1:]


def test_every_outcome_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert all(f"| `{outcome.value}` |" in text for outcome in Outcome)
