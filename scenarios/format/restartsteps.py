"""The restart steps of a scenario file: ``restart_engine`` and ``restart_exchange``.

``restart_engine: {down_for: 5m}`` ends the engine's process (its memory of every
user is lost) and starts a new one with the same configuration and mail queue file
``down_for`` later (default ``0s``: at once); the PBX keeps its presence.
``restart_exchange: {down_for: 2m}`` stops the Exchange site and the SMTP sink and
starts them again on the same addresses with the same certificates; the store is
kept. ``check_down_windows`` rejects what cannot happen while the engine is down (its
own test mail and contact search) and a restart of what is already down.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from yaml.nodes import Node

from scenarios.format import times
from scenarios.format.model import CheckMail, SearchContacts, Step
from scenarios.format.stepcontext import StepContext
from scenarios.format.yamlnodes import Reader


@dataclass(frozen=True, kw_only=True)
class Restart(Step):
    """Something goes down at ``at`` and is back at ``until`` (``at + down_for``)."""

    down_for: timedelta = timedelta(0)

    @property
    def until(self) -> datetime:
        return self.at + self.down_for

    @property
    def back(self) -> datetime:
        return self.until


@dataclass(frozen=True, kw_only=True)
class RestartEngine(Restart):
    """The engine's process ends; a new one starts ``down_for`` later."""

    verb: ClassVar[str] = "restart_engine"


@dataclass(frozen=True, kw_only=True)
class RestartExchange(Restart):
    """The Exchange site and the SMTP sink go down and come back ``down_for`` later."""

    verb: ClassVar[str] = "restart_exchange"


def _down_for(ctx: StepContext, node: Node, verb: str) -> timedelta | None:
    fields = ctx.reader.mapping(node, verb, ("down_for",))
    if fields is None:
        return None
    down_for = fields.duration("down_for", timedelta(0))
    if down_for is not None and down_for < timedelta(0):
        ctx.reader.error(fields.key_line("down_for"), f"{verb} down_for must be zero or more")
        return None
    return down_for


def read_restart_engine(ctx: StepContext, node: Node, at: datetime, line: int) -> Step | None:
    down_for = _down_for(ctx, node, "restart_engine")
    return None if down_for is None else RestartEngine(at=at, line=line, down_for=down_for)


def read_restart_exchange(ctx: StepContext, node: Node, at: datetime, line: int) -> Step | None:
    down_for = _down_for(ctx, node, "restart_exchange")
    return None if down_for is None else RestartExchange(at=at, line=line, down_for=down_for)


# Steps the engine itself performs: they cannot run while it is down.
ENGINE_STEPS: tuple[type[Step], ...] = (CheckMail, SearchContacts)


def check_down_windows(reader: Reader, steps: Sequence[Step]) -> None:
    """Report overlapping restarts of one thing, and engine steps while it is down."""
    last: dict[type[Step], Restart] = {}
    for step in steps:
        if isinstance(step, Restart):
            before = last.get(type(step))
            if before is not None and step.at < before.back:
                reader.error(
                    step.line,
                    f"{step.verb} at {times.describe(step.at, reader.zone)}: it is still down "
                    f"after the {before.verb} at line {before.line} (back at "
                    f"{times.describe(before.back, reader.zone)})",
                )
                continue
            last[type(step)] = step
        elif isinstance(step, ENGINE_STEPS):
            down = last.get(RestartEngine)
            if down is not None and down.at <= step.at < down.back:
                reader.error(
                    step.line,
                    f"{step.verb} is the engine's, and the engine is down at "
                    f"{times.describe(step.at, reader.zone)} (restart_engine at line "
                    f"{down.line}, back at {times.describe(down.back, reader.zone)})",
                )


__all__ = [
    "ENGINE_STEPS",
    "Restart",
    "RestartEngine",
    "RestartExchange",
    "check_down_windows",
    "read_restart_engine",
    "read_restart_exchange",
]
