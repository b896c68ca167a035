"""The examples of docs/scenario-format.md for calls, mail, contacts, zones and clocks do
what they say:
each one runs and passes (``test_model`` only loads every example)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scenarios.format.loader import parse_scenario
from scenarios.outputs.timeline import render
from scenarios.run.environment import Environment
from scenarios.run.runner import run_scenario

DOCS = Path(__file__).resolve().parents[2] / "docs" / "scenario-format.md"
NEW_KINDS = re.compile(
    r"^\s+(call|leave_voicemail|check_mail|search_contacts|expect_\w+mail|timezone_rules"
    r"|restart_engine|restart_exchange|grant|revoke|add_user|client_set_presence"
    r"|cancel_meeting):"
    r"|^(pbx):",
    re.M,
)


def examples() -> list[tuple[int, str]]:
    text = DOCS.read_text(encoding="utf-8")
    return [
        (text.count("\n", 0, m.start()) + 2, m.group(1))
        for m in re.finditer(r"```yaml\n(.*?)```", text, re.S)
        if NEW_KINDS.search(m.group(1))
    ]


def test_every_new_step_kind_has_a_running_example() -> None:
    found = " ".join(example for _, example in examples())
    for verb in (
        "call",
        "leave_voicemail",
        "expect_call",
        "expect_mail",
        "expect_no_mail",
        "check_mail",
        "search_contacts",
        "expect_contacts",
        "forward_to_mobile",
        "smtp",
        "pbx",
        "timezone_rules",
        "modified",
        "restart_engine",
        "restart_exchange",
        "grant",
        "revoke",
        "add_user",
        "client_set_presence",
        "cancel_meeting",
        "meeting",
        "rights_delay",
    ):
        assert f"{verb}:" in found, verb


@pytest.mark.parametrize(("line", "example"), examples(), ids=lambda v: str(v)[:12])
def test_docs_example_passes(line: int, example: str, environment: Environment) -> None:
    scenario = parse_scenario(example, f"{DOCS.name} (example at line {line})")
    result = run_scenario(scenario, "ews", environment)
    assert result.passed, render(result)
