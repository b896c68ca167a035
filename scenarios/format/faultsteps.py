"""``fault:`` steps: a fault of the catalogue (``simulators.faults.catalogue``) from now.

    fault: {service: ews, kind: ErrorServerBusy, duration: 2m, first: 1, back_off: 30s}

``service`` and ``kind`` name a row of the catalogue (old names ``unavailable`` and
``busy`` included); ``duration`` (default: to the end of the scenario) is the window;
the triggers ``first``, ``every``, ``mailbox`` or ``user``, ``probability`` with
``seed`` pick the requests in it; ``latency``, ``retry_after`` and ``back_off`` are
the values the kind takes. Everything is checked here, so a bad value is a
``FILE:LINE`` error before anything runs.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from yaml.nodes import Node

from scenarios.format.model import Fault, Step
from scenarios.format.stepcontext import StepContext
from scenarios.format.yamlnodes import Fields
from simulators.faults.catalogue import SERVICES, aliases_of, kinds_of, resolve
from simulators.faults.injector import MAX_LATENCY, REFUSED_WHOLE

KEYS = (
    "service",
    "kind",
    "duration",
    "first",
    "every",
    "mailbox",
    "user",
    "probability",
    "seed",
    "latency",
    "retry_after",
    "back_off",
)
MAX_COUNT = 1_000_000


def read_fault(ctx: StepContext, node: Node, at: datetime, line: int) -> Step | None:
    reader = ctx.reader
    fields = reader.mapping(node, "fault", KEYS, required=("service", "kind"))
    if fields is None:
        return None
    service = fields.choice("service", SERVICES)
    kind = None
    if service is not None and "kind" in fields:
        kind = fields.choice("kind", [*kinds_of(service), *aliases_of(service)])
    ok = service is not None and kind is not None
    row = resolve(service, kind) if service is not None and kind is not None else None
    duration = None
    if "duration" in fields:
        duration = fields.duration("duration", timedelta(0))
        if duration is not None and duration <= timedelta(0):
            reader.error(fields.key_line("duration"), "fault duration must be positive")
            duration = None
        ok = ok and duration is not None
    first = fields.integer("first", 1, MAX_COUNT)
    every = fields.integer("every", 1, MAX_COUNT)
    seed = fields.integer("seed", 0, 2**31 - 1)
    ok = ok and ("first" not in fields or first is not None)
    ok = ok and ("every" not in fields or every is not None)
    ok = ok and ("seed" not in fields or seed is not None)
    probability = _probability(ctx, fields)
    ok = ok and ("probability" not in fields or probability is not None)
    if "seed" in fields and "probability" not in fields:
        reader.error(fields.key_line("seed"), "fault seed goes with probability")
        ok = False
    mailbox = _mailbox(ctx, fields)
    ok = ok and mailbox is not False
    if row is not None and row.action == "refuse":
        given = [k for k in ("first", "every", "mailbox", "user", "probability") if k in fields]
        if given:
            reader.error(fields.key_line(given[0]), f"fault {REFUSED_WHOLE}")
            ok = False
    values: dict[str, object] = {}
    for name in ("latency", "retry_after", "back_off"):
        if name not in fields:
            continue
        if row is not None and name not in row.values:
            takes = ", ".join(row.values) or "no values"
            reader.error(
                fields.key_line(name),
                f"{service} {row.kind} does not take {name} (it takes {takes})",
            )
            ok = False
            continue
        value = _value(ctx, fields, name)
        if value is None:
            ok = False
        values[name] = value
    if not ok or row is None:
        return None
    return Fault(
        at=at,
        line=line,
        service=row.service,
        kind=row.kind,
        duration=duration,
        first=first,
        every=every,
        mailbox=mailbox if isinstance(mailbox, str) else None,
        probability=probability,
        seed=seed or 0,
        latency=values.get("latency"),  # type: ignore[arg-type]
        retry_after=values.get("retry_after"),  # type: ignore[arg-type]
        back_off=values.get("back_off"),  # type: ignore[arg-type]
    )


def _probability(ctx: StepContext, fields: Fields) -> float | None:
    raw = fields.text("probability")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        ctx.reader.error(
            fields.key_line("probability"), f"fault probability must be 0..1, not {raw!r}"
        )
        return None
    return value


def _mailbox(ctx: StepContext, fields: Fields) -> str | None | bool:
    """The mailbox a ``mailbox`` or ``user`` names; False after reporting a problem."""
    if "mailbox" in fields and "user" in fields:
        ctx.reader.error(fields.key_line("user"), "fault takes mailbox or user, not both")
        return False
    if "user" in fields:
        node = fields.get("user")
        assert node is not None
        extension = ctx.extension(node)
        if extension is None:
            return False
        user = ctx.users[extension]
        return (user.email or extension).lower()
    if "mailbox" in fields:
        raw = fields.text("mailbox")
        if raw is None or "@" not in raw:
            ctx.reader.error(
                fields.key_line("mailbox"), f"fault mailbox must be an e-mail address, not {raw!r}"
            )
            return False
        return raw.strip().lower()
    return None


def _value(ctx: StepContext, fields: Fields, name: str) -> object:
    line = fields.key_line(name)
    if name == "retry_after":
        return fields.integer(name, 0, 86_400)
    raw = fields.text(name) or ""
    if name == "latency" and raw.strip().endswith("ms") and raw.strip()[:-2].isdigit():
        value: timedelta | None = timedelta(milliseconds=int(raw.strip()[:-2]))
    else:  # latency also takes milliseconds: a real-time delay is often below a second
        value = fields.duration(name, timedelta(0))
    if value is None:
        return None
    if name == "latency" and not timedelta(0) < value <= MAX_LATENCY:
        ctx.reader.error(line, "fault latency must be positive and at most 5m")
        return None
    if name == "back_off" and not timedelta(0) <= value <= timedelta(days=1):
        ctx.reader.error(line, "fault back_off must be between 0s and 1d")
        return None
    return value


__all__ = ["KEYS", "read_fault"]
