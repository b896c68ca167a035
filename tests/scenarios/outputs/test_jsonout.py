"""``--json``: every result, presence change, poll and decision, valid against the
schema beside the writer (and the schema is strict enough to catch a wrong one)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from integration.decisions import Verdict
from scenarios.outputs.jsonout import write
from scenarios.run.runner import ScenarioResult


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    text = resources.files("scenarios.outputs").joinpath("results.schema.json").read_text()
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def document(tmp_path: Path, results: list[ScenarioResult]) -> Any:
    path = tmp_path / "results.json"
    write(str(path), results)
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_output_is_valid(
    tmp_path: Path, results: list[ScenarioResult], validator: Draft202012Validator
) -> None:
    data = document(tmp_path, results)
    assert [e.message for e in validator.iter_errors(data)] == []
    assert data["summary"] == {"runs": 2, "passed": 1, "failed": 1, "errors": 0}


def test_every_result_transition_and_decision(
    tmp_path: Path, results: list[ScenarioResult]
) -> None:
    passing, failing = document(tmp_path, results)["results"]
    assert (passing["verdict"], failing["verdict"]) == ("pass", "fail")
    first = failing["failures"][0]
    assert first["location"].endswith("support-case.yaml:24")
    assert first["user"] == "100" and first["at"] == "2026-01-05T11:00:00+00:00"
    assert "ignored for good by the 3-minute rule (R4)" in first["explanation"][0]
    assert [(t["user"], t["new_status"]) for t in failing["transitions"]] == [
        ("101", "meeting"),
        ("101", "office"),
    ]
    assert len(failing["polls"]) == len(results[1].polls)
    decisions = [d for p in failing["polls"] for d in p["decisions"]]
    assert len(decisions) == sum(len(p.decisions) for p in results[1].polls)
    lunch = [d for d in decisions if d["subject"] == "Lunch"]
    assert {d["verdict"] for d in lunch} == {"ignored"}
    assert lunch[0]["first_seen"] == "2026-01-05T10:58:30+00:00"
    failed = [p for p in failing["polls"] if p["outcome"] == "failed"]
    assert len(failed) == 4 and "cannot connect" in failed[0]["detail"]
    set_meeting = [c for p in failing["polls"] for c in p["commands"]]
    assert set_meeting[0]["kind"] == "SetPresence" and set_meeting[0]["status"] == "meeting"
    assert [lane["user"] for lane in failing["timeline"]["lanes"]] == ["100", "101"]
    assert failing["requests"][0]["service"] == "ews"


def test_the_schema_catches_a_wrong_document(
    tmp_path: Path, results: list[ScenarioResult], validator: Draft202012Validator
) -> None:
    data = document(tmp_path, results)
    data["results"][1]["verdict"] = "maybe"
    data["results"][1]["polls"][0]["at"] = "12:00"
    del data["results"][0]["failures"]
    problems = {e.message for e in validator.iter_errors(data)}
    assert any("'maybe' is not one of" in p for p in problems)
    assert any("'12:00'" in p for p in problems)
    assert "'failures' is a required property" in problems


def test_the_schema_knows_every_verdict(validator: Draft202012Validator) -> None:
    verdicts = validator.schema["$defs"]["decision"]["properties"]["verdict"]["enum"]
    assert sorted(verdicts) == sorted(v.value for v in Verdict)
