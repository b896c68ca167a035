"""``fault:`` steps: the catalogue's vocabulary, triggers and values; FILE:LINE for bad ones."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from scenarios.format.loader import load_scenario
from scenarios.format.model import Fault, ScenarioError
from tests.scenarios.format.test_model import B, expected_line, write


def fault_file(spec: str) -> str:
    return B + f"steps:\n  - at: '12:00'\n    fault: {spec}  #!\n"


def test_every_field_is_read(tmp_path: Path) -> None:
    scenario = load_scenario(
        write(
            tmp_path,
            fault_file(
                "{service: ews, kind: ErrorServerBusy, duration: 2m, first: 3, every: 2,"
                " user: '100', probability: 0.5, seed: 42, back_off: 15s}"
            ),
        )
    )
    (step,) = scenario.steps
    assert isinstance(step, Fault)
    assert (step.service, step.kind, step.duration) == (
        "ews",
        "ErrorServerBusy",
        timedelta(minutes=2),
    )
    assert (step.first, step.every, step.mailbox) == (3, 2, "user1@domain.net")
    assert (step.probability, step.seed, step.back_off) == (0.5, 42, timedelta(seconds=15))


def test_old_names_are_read_as_the_catalogue_names_them(tmp_path: Path) -> None:
    text = B + (
        "steps:\n  - at: '12:00'\n    fault: {service: smtp, kind: unavailable}\n"
        "  - at: '12:01'\n    fault: {service: ews, kind: busy, duration: 1m}\n"
        "  - at: '12:02'\n    fault: {service: pbx, kind: slow, latency: 200ms, mailbox: A@B.C}\n"
    )
    kinds = [(s.service, s.kind) for s in load_scenario(write(tmp_path, text)).steps]
    assert kinds == [("smtp", "refused"), ("ews", "ErrorServerBusy"), ("pbx", "slow")]


BAD = [
    ("{service: imap, kind: refused}", "unknown fault service 'imap'; one of: ews, webdav"),
    (
        "{service: smtp, kind: ErrorServerBusy}",
        "unknown fault kind 'ErrorServerBusy'; one of: smtp_421",
    ),
    (
        "{service: ews, kind: http_500, first: 0}",
        "fault first must be between 1 and 1000000, not 0",
    ),
    ("{service: ews, kind: http_500, every: many}", "fault every must be a whole number"),
    ("{service: ews, kind: http_500, probability: 2}", "fault probability must be 0..1, not '2'"),
    ("{service: ews, kind: http_500, seed: 3}", "fault seed goes with probability"),
    ("{service: ews, kind: http_500, user: '999'}", "unknown user '999'"),
    ("{service: ews, kind: http_500, mailbox: bob}", "fault mailbox must be an e-mail address"),
    (
        "{service: ews, kind: http_500, latency: 2s}",
        "ews http_500 does not take latency (it takes no values)",
    ),
    ("{service: ews, kind: latency, latency: 6m}", "fault latency must be positive and at most 5m"),
    (
        "{service: ews, kind: http_503, retry_after: -1}",
        "fault retry_after must be between 0 and 86400",
    ),
    ("{service: ews, kind: refused, duration: 0s}", "fault duration must be positive"),
    ("{service: ews, kind: refused, when: now}", "unknown key 'when' in fault"),
    ("{service: smtp, kind: unavailable, first: 1}", "fault refused shuts the port for the whole"),
]


@pytest.mark.parametrize(("spec", "fragment"), BAD, ids=[b[1][:30] for b in BAD])
def test_bad_values_name_file_and_line(tmp_path: Path, spec: str, fragment: str) -> None:
    text = fault_file(spec)
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    prefix = f"{path}:{expected_line(text)}: "
    assert any(p.startswith(prefix) and fragment in p for p in caught.value.problems), (
        caught.value.problems
    )


def test_the_example_of_docs_faults_md_loads(tmp_path: Path) -> None:
    import re

    docs = Path(__file__).resolve().parents[3] / "docs" / "faults.md"
    (example,) = re.findall(r"```yaml\n(.*?)```", docs.read_text("utf-8"), re.S)
    steps = load_scenario(write(tmp_path, B + example)).steps
    assert [(s.service, s.kind) for s in steps if isinstance(s, Fault)] == [
        ("ews", "ErrorServerBusy"),
        ("smtp", "smtp_451"),
        ("webdav", "http_500"),
        ("pbx", "refused"),
    ]
