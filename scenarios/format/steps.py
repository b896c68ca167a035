"""``steps:`` and ``expect_transitions:`` of a scenario file.

A step is ``at`` plus exactly one verb with its arguments (``verb: {...}``).
``STEP_KINDS`` maps each verb to the function that reads its arguments into a
step object of ``scenarios.format.model``; a new kind of step is a dataclass there, a
reader here (or in ``scenarios.format.commsteps`` for calls, mail and contacts) and
one row in the table. Steps are read in file order, so the readers can check
ids against what earlier steps created, moved, deleted, called or searched.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from yaml.nodes import Node, SequenceNode

from scenarios.format import (
    accesssteps,
    clientsteps,
    commsteps,
    faultsteps,
    meetingsteps,
    restartsteps,
    times,
)
from scenarios.format.appointments import (
    BUSY_STATUSES,
    ONE_DAY,
    all_day_bound,
    check_order,
    midnight,
    read_appointment,
)
from scenarios.format.model import (
    STATUSES,
    CreateAppointment,
    DeleteAppointment,
    ExpectPresence,
    ExpectTransition,
    SetPresence,
    Step,
    UpdateAppointment,
)
from scenarios.format.stepcontext import Handle, StepContext
from scenarios.format.yamlnodes import Fields, Reader, line_of

StepReader = Callable[[StepContext, Node, datetime, int], Step | None]


def _create(ctx: StepContext, node: Node, at: datetime, line: int) -> Step | None:
    result = read_appointment(ctx.reader, node, "create_appointment", ctx.mailboxes, None)
    if result is None:
        return None
    handle, appt = result
    state = Handle.of(line, appt)
    if handle is not None and not ctx.add_handle(node, handle, state):
        return None
    return CreateAppointment(at=at, line=line, id=handle, appointment=appt)


UPDATE_KEYS = ("id", "subject", "start", "end", "all_day", "busy_status", "location")


def _update(ctx: StepContext, node: Node, at: datetime, line: int) -> Step | None:
    reader = ctx.reader
    fields = reader.mapping(node, "update_appointment", UPDATE_KEYS, required=("id",))
    if fields is None:
        return None
    before = len(reader.problems)
    found = ctx.handle(fields)
    busy = fields.choice("busy_status", tuple(BUSY_STATUSES))
    all_day = fields.flag("all_day", found[1].all_day) if found else False
    if len(reader.problems) > before or found is None:
        return None
    handle, state = found
    if all_day != state.all_day and "start" not in fields:
        reader.error(fields.key_line("all_day"), "changing all_day needs a new start (and end)")
        return None
    with reader.zoned(state.zone):  # moved times are in the appointment's own zone
        start, end = _new_times(reader, fields, state, all_day)
    if len(reader.problems) > before:
        return None
    if not check_order(reader, fields, start or state.start, end or state.end):
        return None
    if len([k for k in fields.entries if k != "id"]) == 0:
        reader.error(node, "update_appointment changes nothing; give " + ", ".join(UPDATE_KEYS[1:]))
        return None
    state.start, state.end, state.all_day = start or state.start, end or state.end, all_day
    return UpdateAppointment(
        at=at,
        line=line,
        id=handle,
        subject=fields.text("subject"),
        start=start,
        end=end,
        all_day=all_day if "all_day" in fields else None,
        busy_status=BUSY_STATUSES[busy] if busy else None,
        location=fields.text("location"),
    )


def _new_times(
    reader: Reader, fields: Fields, state: Handle, all_day: bool
) -> tuple[datetime | None, datetime | None]:
    """The moved start/end; a new start alone keeps the duration (as dragging does)."""
    duration = state.end - state.start
    if all_day:
        if not state.all_day:
            duration = ONE_DAY
        first = (
            all_day_bound(reader, n, "start", reader.day) if (n := fields.get("start")) else None
        )
        last = all_day_bound(reader, n, "end", reader.day) if (n := fields.get("end")) else None
        start = midnight(first, reader) if first else None
        end = midnight(last, reader) if last else None
    else:
        if state.all_day and "start" in fields and "end" not in fields:
            reader.error(fields.line, "an all-day appointment made timed needs a new end")
            return None, None
        start, end = fields.moment("start"), fields.moment("end")
    if start is not None and end is None:
        end = start + duration
    return start, end


def _delete(ctx: StepContext, node: Node, at: datetime, line: int) -> Step | None:
    fields = ctx.reader.mapping(node, "delete_appointment", ("id",), required=("id",))
    found = None if fields is None else ctx.handle(fields)
    if found is None:
        return None
    found[1].deleted_at = line
    return DeleteAppointment(at=at, line=line, id=found[0])


def _presence_fields(ctx: StepContext, node: Node, verb: str) -> tuple[str, str, Fields] | None:
    fields = ctx.reader.mapping(
        node, verb, ("user", "status", "return_time"), required=("user", "status")
    )
    if fields is None:
        return None
    user = ctx.user(fields)
    status = fields.choice("status", STATUSES)
    if user is None or status is None:
        return None
    return user, status, fields


def _set_presence(ctx: StepContext, node: Node, at: datetime, line: int) -> Step | None:
    read = _presence_fields(ctx, node, "set_presence")
    if read is None:
        return None
    user, status, fields = read
    return SetPresence(
        at=at, line=line, user=user, status=status, return_time=fields.moment("return_time")
    )


def _expect_presence(ctx: StepContext, node: Node, at: datetime, line: int) -> Step | None:
    read = _presence_fields(ctx, node, "expect_presence")
    if read is None:
        return None
    user, status, fields = read
    return ExpectPresence(
        at=at, line=line, user=user, status=status, return_time=fields.moment("return_time")
    )


# verb -> reader of its arguments. Add a row (and a dataclass in scenarios.format.model) for a new kind.
STEP_KINDS: dict[str, StepReader] = {
    "create_appointment": _create,
    "update_appointment": _update,
    "delete_appointment": _delete,
    "set_presence": _set_presence,
    "expect_presence": _expect_presence,
    "fault": faultsteps.read_fault,
    # Calls, voicemail, mail and contacts (scenarios.format.commsteps).
    "call": commsteps.read_call,
    "leave_voicemail": commsteps.read_leave_voicemail,
    "expect_call": commsteps.read_expect_call,
    "expect_mail": commsteps.read_expect_mail,
    "expect_no_mail": commsteps.read_expect_no_mail,
    "check_mail": commsteps.read_check_mail,
    "search_contacts": commsteps.read_search_contacts,
    "expect_contacts": commsteps.read_expect_contacts,
    # Restarts of the engine and of Exchange (scenarios.format.restartsteps).
    "restart_engine": restartsteps.read_restart_engine,
    "restart_exchange": restartsteps.read_restart_exchange,
    # Rights as Exchange applies them, users added later (scenarios.format.accesssteps).
    "grant": accesssteps.read_grant,
    "revoke": accesssteps.read_revoke,
    "add_user": accesssteps.read_add_user,
    # The PBX client writes its presence into the calendar (scenarios.format.clientsteps).
    "client_set_presence": clientsteps.read_client_set_presence,
    # Meetings: a cancellation Exchange keeps in the calendar (scenarios.format.meetingsteps).
    "cancel_meeting": meetingsteps.read_cancel_meeting,
}


def read_steps(
    ctx: StepContext, nodes: list[Node], start: datetime, end: datetime | None
) -> list[Step]:
    """Every step in order; ``end`` is the file's explicit end (None: derived later)."""
    reader = ctx.reader
    steps: list[Step] = []
    previous: tuple[datetime, int] | None = None
    for node in nodes:
        fields = reader.mapping(node, "step", ("at", *STEP_KINDS), required=("at",))
        if fields is None:
            continue
        verbs = [k for k in fields.entries if k != "at"]
        given = len(getattr(node, "value", ())) - ("at" in fields.entries)
        if len(verbs) > 1:
            reader.error(node, f"a step does one thing; this one has {' and '.join(verbs)}")
        elif not verbs and given == 0:
            reader.error(node, "a step needs one of: " + ", ".join(STEP_KINDS))
        at = fields.moment("at")
        line = line_of(node)
        if at is not None:
            shown = times.describe(at, reader.zone)
            if previous is not None and at < previous[0]:
                reader.error(
                    fields.key_line("at"),
                    f"steps must be in time order: {shown} is before the step at line "
                    f"{previous[1]} ({times.describe(previous[0], reader.zone)})",
                )
            else:
                previous = (at, line)
            if at < start:
                reader.error(fields.key_line("at"), f"step at {shown} is before the scenario start")
            if end is not None and at > end:
                reader.error(fields.key_line("at"), f"step at {shown} is after the scenario end")
        if at is None or len(verbs) != 1:
            continue
        args = fields.get(verbs[0])
        if args is None:
            reader.error(fields.key_line(verbs[0]), f"{verbs[0]} needs its arguments")
            continue
        step = STEP_KINDS[verbs[0]](ctx, args, at, line)
        if step is None:
            continue
        if end is not None and step.at <= end < step.until:
            reader.error(
                fields.key_line(verbs[0]),
                f"{step.verb} looks until {times.describe(step.until, reader.zone)}, "
                "after the scenario end",
            )
        steps.append(step)
    restartsteps.check_down_windows(reader, steps)
    return steps


TRANSITION_KEYS = ("user", "status", "between", "return_time")


def read_transitions(
    ctx: StepContext, nodes: list[Node], start: datetime, end: datetime | None
) -> list[ExpectTransition]:
    reader = ctx.reader
    found: list[ExpectTransition] = []
    last_of_user: dict[str, ExpectTransition] = {}
    for node in nodes:
        fields = reader.mapping(
            node, "transition", TRANSITION_KEYS, required=("user", "status", "between")
        )
        if fields is None:
            continue
        user = ctx.user(fields)
        status = fields.choice("status", STATUSES)
        between = _between(reader, fields, start, end)
        return_time = fields.moment("return_time")
        if user is None or status is None or between is None:
            continue
        item = ExpectTransition(user, status, between, return_time, line_of(node))
        earlier = last_of_user.get(user)
        if earlier is not None and between[1] < earlier.between[0]:
            reader.error(
                node,
                f"transitions of user {user} must be in order: this window ends before the "
                f"one at line {earlier.line} begins",
            )
        last_of_user[user] = item
        found.append(item)
    return found


def _between(
    reader: Reader, fields: Fields, start: datetime, end: datetime | None
) -> tuple[datetime, datetime] | None:
    node = fields.get("between")
    if node is None:
        return None
    bounds = reader.sequence(node, "between")
    if len(bounds) != 2:
        if isinstance(node, SequenceNode):
            reader.error(node, f"between needs two times [from, to], not {len(bounds)}")
        return None
    first, last = (reader.moment(b, "between") for b in bounds)
    if first is None or last is None:
        return None
    zone = reader.zone
    if last < first:
        reader.error(node, f"between ends ({times.describe(last, zone)}) before it begins")
        return None
    if last < start:
        reader.error(node, "between ends before the scenario start")
    if end is not None and first > end:
        reader.error(node, "between begins after the scenario end")
    return first, last
