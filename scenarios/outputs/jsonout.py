"""``harness run --json FILE``: every result, presence change, poll and decision.

One document (``results.schema.json`` beside this module describes it, and a test
holds the two together): a summary, then per scenario file and variant, in file
order, its verdict, its failed expectations with their explanation, every PBX
presence change (``transition`` tells a status change from a moved return
time), every poll with its commands and every decision the engine made (the
facts the rule weighed and the sentence that words it), the activity (calls,
mails, contact searches), the request journal and the timeline
(``scenarios.outputs.lanes.to_json``).

Instants are ISO 8601 UTC. A poll's ``at`` is the PBX clock's reading (what the
engine took for now); ``scenario_at`` is the same poll on the scenario clock.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from integration.decisions import Decision
from integration.scheduler import PollEvent
from scenarios.explain.sentences import Clock, sentence
from scenarios.outputs.lanes import to_json as timeline_json
from scenarios.outputs.report import verdict
from scenarios.run.runner import ScenarioResult, pbx_clock_for
from simulators.pbx import JournalEntry

FORMAT = "harness-run-results"
VERSION = 1


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def plain(value: Any) -> Any:
    """A dataclass, enum or instant as JSON-ready data."""
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, Enum):
        return str(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _change(entry: JournalEntry) -> dict[str, Any]:
    return {
        "at": _iso(entry.at),
        "user": entry.user,
        "old_status": str(entry.old_status),
        "new_status": str(entry.new_status),
        "old_return_time": _iso(entry.old_return_time),
        "return_time": _iso(entry.return_time),
        "set_by": entry.set_by,
        "cause": entry.cause,
        "reason": entry.reason,
        "transition": entry.is_transition,
    }


def _decision(decision: Decision, clock: Clock) -> dict[str, Any]:
    data = plain(decision)
    data["sentence"] = sentence(decision, clock)
    return data


def _poll(event: PollEvent, scenario_at: datetime, clock: Clock) -> dict[str, Any]:
    day = clock.on(event.at)
    return {
        "at": _iso(event.at),
        "scenario_at": _iso(scenario_at),
        "user": event.extension,
        "mailbox": event.mailbox,
        "outcome": event.outcome,
        "detail": event.detail,
        "commands": [{"kind": type(c).__name__, **plain(c)} for c in event.commands],
        "decisions": [_decision(d, day) for d in event.decisions],
    }


def result_json(result: ScenarioResult) -> dict[str, Any]:
    scenario = result.scenario
    pbx = pbx_clock_for(scenario)
    clock = Clock(scenario.timezone, pbx_true=None if pbx.is_true else pbx.true)
    recording = result.recording
    return {
        "file": str(scenario.path),
        "name": scenario.name,
        "variant": result.variant,
        "verdict": verdict(result),
        "passed": result.passed,
        "error": result.error,
        "seconds": round(result.seconds, 3),
        "timezone": str(scenario.timezone),
        "start": _iso(scenario.start),
        "end": _iso(scenario.end),
        "failures": [
            {
                "line": f.line,
                "location": f"{scenario.path}:{f.line}",
                "message": f.message,
                "explanation": list(f.explanation),
                "user": f.user,
                "at": _iso(f.at),
            }
            for f in result.failures
        ],
        "transitions": [_change(e) for e in result.journal],
        "polls": [_poll(p, pbx.true(p.at), clock) for p in result.polls],
        "activity": [{"at": _iso(a.at), "text": a.text} for a in result.activity],
        "requests": [plain(r) for r in recording.requests] if recording else [],
        "timeline": timeline_json(recording.timeline) if recording else None,
    }


def document(results: Sequence[ScenarioResult]) -> dict[str, Any]:
    verdicts = [verdict(r) for r in results]
    return {
        "format": FORMAT,
        "version": VERSION,
        "summary": {
            "runs": len(results),
            "passed": verdicts.count("pass"),
            "failed": verdicts.count("fail"),
            "errors": verdicts.count("error"),
        },
        "results": [result_json(r) for r in results],
    }


def write(path: str, results: Sequence[ScenarioResult]) -> None:
    with open(path, "w", encoding="utf-8") as out:
        json.dump(document(results), out, ensure_ascii=False, separators=(",", ":"))
        out.write("\n")


__all__ = ["FORMAT", "VERSION", "document", "plain", "result_json", "write"]
