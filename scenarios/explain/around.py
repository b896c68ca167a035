"""Why a user's presence was what it was at an instant: the decisions around it.

``why(polls, user, instant, clock, expected=...)`` answers a failed expectation
with sentences: polls that failed just before, then, for every appointment that
mattered near the instant, the engine's latest decision up to it (each sentence
says which poll decided). An appointment matters when it is in progress at the
instant, starts or ends within ``NEAR`` of it, or asks for the status the
expectation wanted. ``trace(polls, user, clock)`` is the per-poll account that
``harness run --explain USER`` prints.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from integration.decisions import Decision
from integration.scheduler import PollEvent
from scenarios.explain.sentences import Clock, sentence, short

NEAR = timedelta(minutes=10)  # an appointment this close to the instant matters
LOOKBACK = timedelta(minutes=30)  # how far back decisions and failures are read


def _matters(d: Decision, instant: datetime, expected: str | None) -> bool:
    if d.start <= instant < d.end:
        return True
    if abs(d.start - instant) <= NEAR or abs(d.end - instant) <= NEAR:
        return True
    return expected is not None and d.status == expected


def _failures(events: Sequence[PollEvent], clock: Clock) -> list[str]:
    """Runs of polls that did not succeed, one sentence per run."""
    lines: list[str] = []
    run: list[PollEvent] = []

    def close() -> None:
        if run:
            first, last = run[0], run[-1]
            when = (
                f"at {clock.at(first.at)}"
                if len(run) == 1
                else f"from {clock.at(first.at)} to {clock.at(last.at)} (x{len(run)})"
            )
            lines.append(f"the poll {when} {first.outcome}: {first.detail}")
            run.clear()

    for event in events:
        if event.outcome == "ok" or (run and run[-1].detail != event.detail):
            close()
        if event.outcome != "ok":
            run.append(event)
    close()
    return lines


def why(
    polls: Iterable[PollEvent],
    user: str,
    instant: datetime,
    clock: Clock,
    *,
    expected: str | None = None,
) -> list[str]:
    """Sentences on what the engine saw and decided for ``user`` up to ``instant``."""
    clock = clock.on(instant)
    mine = [p for p in polls if p.extension == user and p.at <= instant]
    if not mine:
        return [f"user {user} had not been polled by {clock.at(instant)}"]
    recent = [p for p in mine if p.at >= instant - LOOKBACK]
    lines = _failures(recent, clock)
    latest: dict[str, tuple[PollEvent, Decision]] = {}
    for event in recent:
        for decision in event.decisions:
            latest[decision.appointment_id] = (event, decision)
    chosen = sorted(
        (pair for pair in latest.values() if _matters(pair[1], instant, expected)),
        key=lambda pair: (pair[1].start, pair[1].appointment_id),
    )
    for event, decision in chosen:
        lines.append(f"poll at {clock.poll(event.at)}: {sentence(decision, clock)}")
    if not chosen and mine[-1].outcome == "ok":
        lines.append(
            f"no appointment near {clock.at(instant)} was in user {user}'s calendar reads "
            f"(last poll {clock.at(mine[-1].at)})"
        )
    elif mine[-1].outcome != "ok" and not recent:
        lines.append(f"the last poll of user {user}, at {clock.at(mine[-1].at)}, did not succeed")
    return lines


def trace(polls: Iterable[PollEvent], user: str, clock: Clock) -> list[str]:
    """Per poll of ``user``, each appointment's decision in full when it differs from
    that appointment's decision at the previous poll. Polls that changed nothing
    (same appointments, same verdicts, same outcome) are folded into the line of the
    first of them, with their count and the last one's time."""
    lines: list[str] = []
    previous: dict[str, Decision] = {}
    folded: list[PollEvent] = []  # polls that repeat the head of the current block
    head = ""

    def flush() -> None:
        if folded:
            last = folded[-1]
            lines.append(f"  {clock.at(last.at)}  poll {user}: same as above (x{len(folded)})")
            folded.clear()

    for event in polls:
        if event.extension != user:
            continue
        day = clock.on(event.at)
        if event.outcome != "ok":
            key = f"{event.outcome} {event.detail}"
            if key == head:
                folded.append(event)
                continue
            flush()
            head = key
            lines.append(f"  {clock.at(event.at)}  poll {user}: {key}")
            continue
        fresh = [
            d
            for d in event.decisions
            if (before := previous.get(d.appointment_id)) is None
            or (before.verdict, before.subject, before.start, before.end)
            != (d.verdict, d.subject, d.start, d.end)
        ]
        ids = ",".join(d.appointment_id for d in event.decisions)
        key = f"ok {ids}"
        previous = {d.appointment_id: d for d in event.decisions}
        if not fresh and key == head:
            folded.append(event)
            continue
        flush()
        head = key
        if not event.decisions:
            lines.append(f"  {clock.at(event.at)}  poll {user}: ok, no appointments")
            continue
        lines.append(f"  {clock.poll(event.at)}  poll {user}: ok")
        for decision in event.decisions:
            text = sentence(decision, day) if decision in fresh else short(decision)
            lines.append(f"      {text}")
    flush()
    return lines
