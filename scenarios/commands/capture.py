"""``harness capture``: a customer's calendars from their Exchange 2007, as a scenario.

Reads the named mailboxes with the engine's configuration (``integration.capture``:
read-only, EWS or WebDAV as ``[exchange] variant`` says), anonymises them under a
key (``--key`` or ``HARNESS_CAPTURE_KEY``; else a random one, so pseudonyms are
stable within the file only), writes the scenario (``scenarios.commands.scenariofile``),
loads it back to prove it valid, and only then writes it, atomically, never over an
existing file unless ``--force``. Exit 0 written; 2 bad configuration or input,
Exchange unreachable or refusing, or a calendar the format cannot hold (one line on
stderr, no traceback).
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from integration.capture import capture
from integration.capture.anonymise import anonymise, new_key
from integration.capture.model import CaptureError
from integration.config import ConfigError, load_config
from integration.quiet import quieter
from integration.sources.base import SourceError
from scenarios.commands.files import RefusedWrite, write_atomically
from scenarios.commands.scenariofile import choose_zone, render_capture
from scenarios.format import times
from scenarios.format.loader import parse_scenario
from scenarios.format.model import ScenarioError

EXIT_OK, EXIT_INVALID = 0, 2
KEY_VARIABLE = "HARNESS_CAPTURE_KEY"
MAX_DAYS = 3660


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return (
        times.local_instant(datetime.combine(day, time(0)), zone)
        if zone.key != "UTC"
        else (datetime.combine(day, time(0), UTC))
    )


def capture_command(
    config_path: str,
    mailboxes: list[str],
    first: date,
    last: date,
    out_path: str,
    *,
    timezone: str | None = None,
    key: str | None = None,
    force: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Capture ``mailboxes`` from ``first`` to ``last`` (inclusive dates) into ``out_path``."""
    out = out or sys.stdout
    err = err or sys.stderr

    def fail(message: str) -> int:
        print(f"harness capture: {message}", file=err)
        return EXIT_INVALID

    if last < first:
        return fail(f"--to {last} is before --from {first}")
    if (last - first).days > MAX_DAYS:
        return fail(f"--from {first} to --to {last} is more than {MAX_DAYS} days")
    zone = None
    if timezone is not None:
        try:
            zone = times.named_zone(timezone)
        except ValueError as exc:
            return fail(f"--timezone: {exc}")
    target = Path(out_path)
    if target.exists() and not force:
        return fail(f"{target} exists; not overwritten (give another file, or --force)")
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        print(str(exc), file=err)
        return EXIT_INVALID
    exchange = config.exchange
    if not exchange.enabled:
        return fail(f"{config_path}: [exchange] enabled = false: the integration is switched off")
    addresses = list(dict.fromkeys(m.strip() for m in mailboxes if m.strip()))
    if not addresses:
        return fail("name at least one --mailbox")
    # Without a zone, read a day more on each side: the zone comes from the series.
    guess = zone or ZoneInfo("UTC")
    start, end = _midnight(first, guess), _midnight(last + timedelta(days=1), guess)
    read_from, read_to = (
        (start, end) if zone else (start - timedelta(days=1), end + timedelta(days=1))
    )
    try:
        with quieter("httpx", "integration"):  # the file written is the output
            captured = asyncio.run(capture(exchange, addresses, read_from, read_to))
    except (SourceError, CaptureError, ValueError) as exc:
        return fail(f"reading over {exchange.variant} at {exchange.server_url} failed: {exc}")
    zone = zone or choose_zone(captured)
    captured.start = _midnight(first, zone)
    captured.end = _midnight(last + timedelta(days=1), zone)
    secret = (key or os.environ.get(KEY_VARIABLE) or "").encode()
    if not secret:
        secret = new_key()
        print(
            f"harness capture: no --key (or {KEY_VARIABLE}): pseudonyms are stable within "
            "this file only",
            file=err,
        )
    mapping = anonymise(captured, secret)
    text = render_capture(captured, zone, datetime.now(UTC))
    try:
        parse_scenario(text, target)
    except ScenarioError as exc:  # the writer's bug or something the format cannot say
        for problem in exc.problems:
            print(problem, file=err)
        return fail("the captured scenario does not load; nothing written")
    try:
        write_atomically(target, text, replace=force)
    except (RefusedWrite, OSError) as exc:
        return fail(str(exc))
    count = sum(len(m.appointments) for m in captured.mailboxes)
    print(
        f"wrote {target}: {len(captured.mailboxes)} mailbox(es), {count} appointment(s)", file=out
    )
    for real, fake in mapping.items():
        print(f"  {real} is {fake}", file=out)
    return EXIT_OK


__all__ = ["capture_command"]
