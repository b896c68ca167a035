"""``harness bench`` end to end at a tiny size: the engine and the simulators in processes
of their own over HTTPS, figures printed and written as JSON (not a timing test: it
checks that every figure is there and plausible, never how fast)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scenarios.bench import population
from scenarios.commands.cli import main


def test_sizes_part_writes_every_figure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench.json"
    code = main(
        ["bench", "--variant", "ews", "--sizes", "40", "--cycles", "1", "--sim-processes", "2"]
        + ["--concurrency", "5", "--json", str(out)]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    result = json.loads(out.read_text())["sizes"]["ews"]
    size = result["sizes"][0]
    assert size["size"] == 40 and size["sim_processes"] == 2 and size["engine_processes"] == 2
    cycle = size["cycles"][0]
    assert cycle["polls"] == 40 and cycle["failed_polls"] == 0
    assert cycle["engine_cpu_ms_per_poll"] > 0 and cycle["simulator_cpu_ms_per_poll"] > 0
    assert 0 < cycle["p50_ms"] <= cycle["p99_ms"]
    assert cycle["connections_opened"] == 0  # kept alive from the first cycle on
    assert size["first_cycle"]["connections_opened"] >= 2  # each shard opened its own
    assert size["fits_30s"] and "load average" in cycle["load"]
    assert "cycle 1: 40 polls" in printed and "fits 30 s" in printed


def test_partitions_split_the_mailboxes_without_overlap() -> None:
    parts = [population.partition(300, part, 3) for part in range(3)]
    emails = [u.email for part in parts for u in part]
    assert sorted(emails) == sorted(u.email for u in population.partition(300, 0, 1))
    assert all(len(part) > 50 for part in parts)


def test_every_mailbox_has_its_own_series() -> None:
    from datetime import date

    series = [
        (a.recurrence, a.start)
        for i in range(50)
        for a in population.appointments(population.user(i), date(2026, 3, 16))
        if a.recurrence is not None
    ]
    assert len(series) == 100 and len(set(series)) == 100


def test_every_day_of_the_week_has_singles_ahead() -> None:
    from datetime import UTC, date, datetime, time, timedelta

    # A Friday evening and a Sunday too: the look-ahead (24 h) is never empty.
    for day in (date(2026, 12, 4), date(2026, 12, 6), date(2026, 12, 7)):
        now = datetime.combine(day, time(20, 0), UTC)
        ahead = [
            a
            for a in population.appointments(population.user(7), day)
            if a.recurrence is None and now <= a.start < now + timedelta(hours=24)
        ]
        assert ahead, day


def test_webdav_floor_answers_every_poll(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The floor serves fixed answers to each request the WebDAV source makes, its
    # authentication probe (a GET) included: a floor whose polls fail measures nothing.
    out = tmp_path / "bench.json"
    code = main(
        ["bench", "--variant", "webdav", "--floor", "--sizes", "20", "--cycles", "1"]
        + ["--concurrency", "4", "--json", str(out)]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    floor = json.loads(out.read_text())["floor"]["webdav"]
    for side in ("floor", "simulator"):
        cycle = floor[side]["cycles"][0]
        assert cycle["polls"] == 20 and cycle["failed_polls"] == 0, (side, cycle)
    assert floor["ratio_cpu"] > 0 and "simulator / floor" in printed
