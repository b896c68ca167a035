"""``harness bench``: how many mailboxes the engine and the simulators handle, measured.

Each part runs on its own and prints its figures as it goes; all of them are also
written as JSON (``--json``, default ``bench-results.json``):

- sizes (``--variant ews|webdav|both --sizes 1000,5000,10000 --cycles 3``): per size
  the simulators (``--sim-processes P``, mailboxes partitioned, each with its own
  engine shard) and the engine in processes of their own over HTTPS; a first cycle
  (new connections, WebDAV's PROPFIND per mailbox), then ``--cycles`` cycles of every
  mailbox polled once as fast as the engine's pool allows. Per cycle: polls/s, engine
  and simulator CPU ms per poll, p50/p99 read latency, connections the site accepted,
  listen drops (machine-wide), failed polls; per size: seeding time and memory per
  mailbox of both sides, and whether a cycle fits the 30 s interval. ``--grow`` goes
  on to larger sizes while a cycle fits.
- ``--floor``: the same cycles against a fixed answer of the same size served by the
  same HTTP server: the serving floor the simulator is compared with.
- ``--realtime`` (``--realtime-mailboxes 2000 --realtime-seconds 300``): the engine's
  real-time loop at its 30 s cadence with one "Lunch" probe per mailbox starting on
  the minutes of the run; every probe's presence must be set inside its start minute.
- ``--library``: wall time of ``pytest -n 2 scenarios`` and ``harness run -j 2
  scenarios/library``.

Without a part named, the sizes run. Figures taken on a busy machine are noisy: the
load average is printed and stored with each.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing as mp
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scenarios.bench import engine as engine_side
from scenarios.bench import population
from scenarios.bench import simulator as simulator_side
from scenarios.bench.figures import fmt_spread, listen_drops, load, percentile, spread

INTERVAL = 30.0


@dataclass
class BenchOptions:
    variants: list[str] = field(default_factory=lambda: ["ews", "webdav"])
    sizes: list[int] = field(default_factory=lambda: [1000, 5000, 10000])
    cycles: int = 3
    concurrency: int = 50
    timeout: float = 10.0
    sim_processes: int = 1
    sim_threads: int = 16
    engine_processes: int = 1
    grow: bool = False
    floor: bool = False
    realtime: bool = False
    realtime_mailboxes: int = 2000
    realtime_seconds: float = 300.0
    library: bool = False
    sizes_part: bool = True
    json_path: str = "bench-results.json"
    profile_dir: str | None = None


class Fleet:
    """The simulator and engine processes of one measurement; stop() ends them all."""

    def __init__(self, options: BenchOptions, variant: str, size: int, floor: bool = False) -> None:
        self.context = mp.get_context("spawn")
        self.parts = options.sim_processes
        shards = max(options.engine_processes, self.parts)
        self.sims: list[tuple[Any, Any]] = []
        self.engines: list[tuple[Any, Any]] = []
        self.ready: list[dict[str, Any]] = []
        floor_requests = _floor_requests(variant) if floor else None
        for part in range(self.parts):
            spec = {"size": size, "part": part, "parts": self.parts, "variant": variant}
            spec["threads"] = options.sim_threads
            spec["floor"] = floor_requests
            self.sims.append(self._start(simulator_side.serve, spec))
        self.ready = [conn.recv() for _, conn in self.sims]
        for shard in range(shards):
            served = self.ready[shard % self.parts]
            spec = {
                "variant": variant,
                "ews": served["ews"],
                "webdav": served["webdav"],
                "pbx": served["pbx"],
                "ca": served["ca"],
                "concurrency": options.concurrency,
                "timeout": options.timeout,
                "interval": INTERVAL,
                "shard": f"{shard}/{shards}" if shards > 1 else None,
            }
            self.engines.append(self._start(engine_side.run, spec))
        self.engine_start = [conn.recv() for _, conn in self.engines]

    def _start(self, target: Any, spec: dict[str, Any]) -> tuple[Any, Any]:
        ours, theirs = self.context.Pipe()
        process = self.context.Process(target=target, args=(theirs, spec), daemon=True)
        process.start()
        return process, ours

    def sim_stats(self) -> list[dict[str, Any]]:
        for _, conn in self.sims:
            conn.send(("stats",))
        return [conn.recv() for _, conn in self.sims]

    def engines_do(self, *request: Any) -> list[dict[str, Any]]:
        for _, conn in self.engines:
            conn.send(request)
        return [conn.recv() for _, conn in self.engines]

    def stop(self) -> None:
        for _, conn in self.sims + self.engines:
            with contextlib.suppress(BrokenPipeError, OSError):
                conn.send(("stop",))
        for process, _ in self.sims + self.engines:
            process.join(timeout=15)
            if process.is_alive():
                process.terminate()


def _floor_requests(variant: str) -> list[Any]:
    """The requests whose real answers the floor serves (mailbox 0 of the population)."""
    import base64

    who = population.user(0)
    now = datetime.now(UTC)
    token = base64.b64encode(
        f"{population.SERVICE_USER}:{population.SERVICE_PASSWORD}".encode()
    ).decode()
    auth = {"Authorization": f"Basic {token}"}
    if variant == "ews":
        from integration.sources.ews import EwsCalendarSource

        source = EwsCalendarSource("https://x/EWS/Exchange.asmx", "u", "p")
        body = source.request_body(who.email, now, now + timedelta(hours=24))
        return [
            (
                "POST",
                "/EWS/Exchange.asmx",
                body,
                {"Content-Type": "text/xml; charset=utf-8", **auth},
            )
        ]
    from integration.sources.webdav import WebDavCalendarSource
    from integration.sources.webdav_xml import PROPFIND_CALENDAR

    dav = WebDavCalendarSource("https://x/exchange/", "u", "p")
    folder = f"/exchange/{who.email}/Calendar/"
    return [
        # The source's first request: the authentication probe, a GET of the root with
        # no credentials (the site answers 401 and a Basic challenge).
        ("GET", "/exchange/", b"", {}),
        (
            "PROPFIND",
            f"/exchange/{who.email}/",
            PROPFIND_CALENDAR,
            {"Content-Type": "text/xml", "Depth": "0", **auth},
        ),
        (
            "SEARCH",
            folder,
            dav.request_body(folder, now, now + timedelta(hours=24)),
            {"Content-Type": "text/xml", "Range": "rows=0-199", **auth},
        ),
    ]


def _cycle(fleet: Fleet) -> dict[str, Any]:
    sims_before = fleet.sim_stats()
    drops_before = listen_drops()
    results = fleet.engines_do("cycle")
    drops = listen_drops() - drops_before
    sims_after = fleet.sim_stats()
    reads = [r for result in results for r in result["reads"]]
    polls = len(reads)
    wall = max(r["wall"] for r in results)
    latencies = [(end - start) * 1000 for _, start, end in reads]
    sim_cpu = sum(a["cpu"] - b["cpu"] for a, b in zip(sims_after, sims_before, strict=True))
    return {
        "polls": polls,
        "wall_s": wall,
        "polls_per_s": polls / wall if wall else 0.0,
        "engine_cpu_ms_per_poll": sum(r["cpu"] for r in results) / max(polls, 1) * 1000,
        "simulator_cpu_ms_per_poll": sim_cpu / max(polls, 1) * 1000,
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
        "connections_opened": sum(
            a["accepted"] - b["accepted"] for a, b in zip(sims_after, sims_before, strict=True)
        ),
        "pbx_connections_opened": sum(
            a["pbx_accepted"] - b["pbx_accepted"]
            for a, b in zip(sims_after, sims_before, strict=True)
        ),
        "listen_drops": drops,
        "failed_polls": sum(r["failed"] for r in results),
        "failures": [f for r in results for f in r["failures"]][:5],
        "engine_rss": sum(r["rss"] for r in results),
        "load": load(),
    }


def _profile(options: BenchOptions, fleet: Fleet, label: str) -> list[Any]:
    """py-spy recording each process of ``fleet`` (``--profile DIR``), raw stacks."""
    if not options.profile_dir:
        return []
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        raise SystemExit("harness bench: --profile needs py-spy (pip install py-spy)")
    folder = Path(options.profile_dir)
    folder.mkdir(parents=True, exist_ok=True)
    pids = [("simulator", s["pid"]) for s in fleet.ready]
    pids += [("engine", e["pid"]) for e in fleet.engine_start]
    spies = []
    for n, (side, pid) in enumerate(pids):
        out = folder / f"{label}-{side}-{n}.txt"
        command = [spy, "record", "--gil", "--nonblocking", "-p", str(pid), "-f", "raw"]
        command += ["-r", "250", "-o", str(out)]
        spies.append(
            subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )
    time.sleep(1.0)  # py-spy attaches
    return spies


def _stop_profiles(spies: list[Any]) -> None:
    for spy in spies:
        spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
    for spy in spies:
        try:
            spy.wait(timeout=30)
        except subprocess.TimeoutExpired:
            spy.kill()


def _print_cycle(label: str, c: dict[str, Any]) -> None:
    print(
        f"  {label:>7}: {c['polls']} polls in {c['wall_s']:.2f} s = {c['polls_per_s']:.0f}/s"
        f"  engine {c['engine_cpu_ms_per_poll']:.2f} ms/poll"
        f"  simulator {c['simulator_cpu_ms_per_poll']:.2f} ms/poll"
        f"  read p50 {c['p50_ms']:.1f} ms p99 {c['p99_ms']:.1f} ms"
        f"  connections {c['connections_opened']} (PBX {c['pbx_connections_opened']})"
        f"  listen drops {c['listen_drops']}"
        f"  failed {c['failed_polls']}  [{c['load']}]",
        flush=True,
    )
    for failure in c["failures"]:
        print(f"           failed: {failure}", flush=True)


def measure_size(options: BenchOptions, variant: str, size: int, floor: bool = False) -> dict:
    what = "floor (fixed answer)" if floor else "simulator"
    print(
        f"{variant} N={size} against the {what}: {options.sim_processes} simulator and "
        f"{max(options.engine_processes, options.sim_processes)} engine process(es), "
        f"concurrency {options.concurrency} [{load()}]",
        flush=True,
    )
    fleet = Fleet(options, variant, size, floor)
    try:
        seeded = fleet.ready
        seeding = max(s["seeding_s"] for s in seeded)
        sim_memory = sum(s["rss_seeded"] - s["rss_start"] for s in seeded)
        print(
            f"  seeding {seeding:.2f} s (CPU {max(s['seeding_cpu_s'] for s in seeded):.2f} s),"
            f" simulator memory {sim_memory / size / 1024:.1f} KB/mailbox",
            flush=True,
        )
        engine_rss_start = sum(e["rss"] for e in fleet.engine_start)
        first = _cycle(fleet)
        _print_cycle("first", first)
        cycles = []
        spies = _profile(options, fleet, f"{variant}-{size}{'-floor' if floor else ''}")
        try:
            for n in range(options.cycles):
                cycles.append(_cycle(fleet))
                _print_cycle(f"cycle {n + 1}", cycles[-1])
        finally:
            _stop_profiles(spies)
        engine_memory = (cycles[-1]["engine_rss"] if cycles else first["engine_rss"]) - (
            engine_rss_start
        )
    finally:
        fleet.stop()
    keys = (
        "wall_s",
        "polls_per_s",
        "engine_cpu_ms_per_poll",
        "simulator_cpu_ms_per_poll",
        "p50_ms",
        "p99_ms",
        "connections_opened",
        "listen_drops",
        "failed_polls",
    )
    steady = {k: spread([c[k] for c in cycles]) for k in keys} if cycles else {}
    result = {
        "variant": variant,
        "size": size,
        "floor": floor,
        "sim_processes": options.sim_processes,
        "engine_processes": max(options.engine_processes, options.sim_processes),
        "concurrency": options.concurrency,
        "seeding_s": seeding,
        "simulator_kb_per_mailbox": sim_memory / size / 1024,
        "engine_kb_per_mailbox": engine_memory / size / 1024,
        "first_cycle": first,
        "cycles": cycles,
        "steady": steady,
        "fits_30s": bool(steady) and steady["wall_s"]["median"] <= INTERVAL,
        "load": load(),
    }
    if steady:
        print(
            f"  => cycle {fmt_spread(steady['wall_s'], 2, ' s')},"
            f" {fmt_spread(steady['polls_per_s'], 0, '/s')} polls,"
            f" engine {fmt_spread(steady['engine_cpu_ms_per_poll'], 2, ' ms')},"
            f" simulator {fmt_spread(steady['simulator_cpu_ms_per_poll'], 2, ' ms')} CPU/poll,"
            f" engine {result['engine_kb_per_mailbox']:.1f} KB/mailbox;"
            f" {'fits' if result['fits_30s'] else 'does NOT fit'} 30 s",
            flush=True,
        )
    return result


def measure_sizes(options: BenchOptions, variant: str) -> dict[str, Any]:
    results = [measure_size(options, variant, size) for size in options.sizes]
    while options.grow and results and results[-1]["fits_30s"]:
        results.append(measure_size(options, variant, int(results[-1]["size"] * 1.5)))
    fitting = [r["size"] for r in results if r["fits_30s"]]
    largest = results[-1]
    rate = largest["steady"]["polls_per_s"]["median"] if largest["steady"] else 0.0
    summary = {
        "largest_measured_fitting": max(fitting) if fitting else 0,
        "estimated_largest_n_per_30s": int(rate * INTERVAL),
    }
    print(
        f"{variant}: largest N measured to fit 30 s: {summary['largest_measured_fitting']};"
        f" at {rate:.0f} polls/s about {summary['estimated_largest_n_per_30s']} per 30 s",
        flush=True,
    )
    return {"sizes": results, **summary}


def measure_floor(options: BenchOptions, variant: str) -> dict[str, Any]:
    size = options.sizes[0]
    floor = measure_size(options, variant, size, floor=True)
    real = measure_size(options, variant, size)
    ratio_rate = ratio_cpu = 0.0
    if floor["steady"] and real["steady"]:
        ratio_rate = (
            real["steady"]["polls_per_s"]["median"] / floor["steady"]["polls_per_s"]["median"]
        )
        floor_cpu = floor["steady"]["simulator_cpu_ms_per_poll"]["median"]
        ratio_cpu = floor_cpu / real["steady"]["simulator_cpu_ms_per_poll"]["median"]
    print(
        f"{variant}: simulator / floor = {ratio_rate:.2f} in polls/s,"
        f" {ratio_cpu:.2f} in CPU per poll (1.0: as cheap as a fixed answer)",
        flush=True,
    )
    return {"floor": floor, "simulator": real, "ratio_polls": ratio_rate, "ratio_cpu": ratio_cpu}


def measure_realtime(options: BenchOptions, variant: str) -> dict[str, Any]:
    size, seconds = options.realtime_mailboxes, options.realtime_seconds
    print(
        f"{variant} real time: {size} mailboxes, {seconds:.0f} s at a {INTERVAL:.0f} s cadence"
        f" [{load()}]",
        flush=True,
    )
    fleet = Fleet(options, variant, size)
    try:
        began = datetime.now(UTC)
        first_minute = (began + timedelta(seconds=60)).replace(second=0, microsecond=0)
        first_minute += timedelta(minutes=1)
        starts = []
        while first_minute + timedelta(seconds=45) < began + timedelta(seconds=seconds):
            starts.append(first_minute)
            first_minute += timedelta(minutes=1)
        if not starts:
            raise SystemExit("harness bench: --realtime-seconds must be at least 180")
        probes: dict[str, datetime] = {}
        for part, (_, conn) in enumerate(fleet.sims):
            users = population.partition(size, part, fleet.parts)
            appointments = population.probe_appointments(users, starts, began - timedelta(hours=1))
            probes.update({u.extension: a.start for u, a in zip(users, appointments, strict=True)})
            conn.send(("probes", appointments))
            conn.recv()
        results = fleet.engines_do("realtime", seconds)
        entries: list[Any] = []
        for _, conn in fleet.sims:
            conn.send(("journal", list(probes)))
            entries.extend(conn.recv())
    finally:
        fleet.stop()
    set_at: dict[str, datetime] = {}
    for extension, at, status, set_by in entries:
        if status == "lunch" and set_by == "engine" and extension not in set_at:
            set_at[extension] = at
    missed = [
        ext
        for ext, start in probes.items()
        if not (start <= set_at.get(ext, start - timedelta(1)) < start + timedelta(seconds=60))
    ]
    delays = [(set_at[e] - probes[e]).total_seconds() for e in probes if e in set_at]
    lags = _cycle_lags([r for result in results for r in result["reads"]], size)
    result = {
        "variant": variant,
        "mailboxes": size,
        "seconds": seconds,
        "probes": len(probes),
        "probes_missed": len(missed),
        "missed_examples": missed[:5],
        "probe_delay_s": {"p50": percentile(delays, 0.5), "max": max(delays, default=0.0)},
        "polls": sum(len(r["reads"]) for r in results),
        "failed_polls": sum(r["failed"] for r in results),
        "failures": [f for r in results for f in r["failures"]][:5],
        "engine_cpu_ms_per_poll": sum(r["cpu"] for r in results)
        / max(1, sum(len(r["reads"]) for r in results))
        * 1000,
        "cycle_lag_ms": lags,
        "load": load(),
    }
    print(
        f"  {result['polls']} polls, {result['failed_polls']} failed;"
        f" probes {len(probes)}, missed {len(missed)};"
        f" presence set {result['probe_delay_s']['p50']:.1f} s after start (median),"
        f" {result['probe_delay_s']['max']:.1f} s at most;"
        f" engine {result['engine_cpu_ms_per_poll']:.2f} ms CPU/poll",
        flush=True,
    )
    print(f"  lag of each cycle (ms past its 30 s): {', '.join(f'{x:.0f}' for x in lags)}")
    return result


def _cycle_lags(reads: list[tuple[str, float, float]], size: int) -> list[float]:
    """Per cycle: how long after its first read's start + the interval its last read ended."""
    ordered = sorted(reads, key=lambda r: r[1])
    lags = []
    for at in range(0, len(ordered) - size + 1, size):
        cycle = ordered[at : at + size]
        lags.append((max(r[2] for r in cycle) - cycle[0][1] - INTERVAL) * 1000)
    return lags


def measure_library() -> dict[str, Any]:
    figures: dict[str, Any] = {"load_before": load()}
    commands = {
        "pytest -n 2 scenarios": [
            sys.executable,
            "-m",
            "pytest",
            "-n",
            "2",
            "-q",
            "-p",
            "no:cacheprovider",
            "scenarios",
        ],
        "harness run -j 2 scenarios/library": [
            sys.executable,
            "-m",
            "scenarios.commands.cli",
            "run",
            "-j",
            "2",
            "scenarios/library",
        ],
    }
    for name, command in commands.items():
        began = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - began
        tail = (done.stdout.strip().splitlines() or [""])[-1]
        figures[name] = {"wall_s": wall, "exit": done.returncode, "summary": tail}
        print(f"{name}: {wall:.1f} s (exit {done.returncode}: {tail}) [{load()}]", flush=True)
    return figures


def bench(options: BenchOptions) -> int:
    results: dict[str, Any] = {"started": datetime.now(UTC).isoformat(), "load": load()}
    print(f"harness bench [{load()}]", flush=True)
    for variant in options.variants if options.sizes_part else ():
        results.setdefault("sizes", {})[variant] = measure_sizes(options, variant)
    for variant in options.variants if options.floor else ():
        results.setdefault("floor", {})[variant] = measure_floor(options, variant)
    for variant in options.variants if options.realtime else ():
        results.setdefault("realtime", {})[variant] = measure_realtime(options, variant)
    if options.library:
        results["library"] = measure_library()
    Path(options.json_path).write_text(json.dumps(results, indent=1, default=str))
    print(f"figures written to {options.json_path}")
    measured = [s for v in results.get("sizes", {}).values() for s in v["sizes"]]
    # A floor whose polls fail measures nothing: its failures count like the simulator's.
    measured += [
        f[side]
        for f in results.get("floor", {}).values()
        for side in f
        if side in ("floor", "simulator")
    ]
    failed = any(c["failed_polls"] for s in measured for c in s["cycles"]) or any(
        r["probes_missed"] for r in results.get("realtime", {}).values()
    )
    return 1 if failed else 0


def add_arguments(parser: Any) -> None:
    """``harness bench``'s options (the subparser cli.py makes)."""
    parser.add_argument("--variant", choices=("ews", "webdav", "both"), default="both")
    parser.add_argument("--sizes", default="1000,5000,10000", help="mailbox counts (1000,...)")
    parser.add_argument("--cycles", type=int, default=3, help="measured cycles per size (3)")
    parser.add_argument("--concurrency", type=int, default=50, help="engine's reads at once")
    parser.add_argument("--timeout", type=float, default=10.0, help="engine's read timeout (s)")
    parser.add_argument(
        "--sim-processes", type=int, default=1, help="simulator processes, mailboxes split"
    )
    parser.add_argument("--engine-processes", type=int, default=1, help="engine processes (shards)")
    parser.add_argument(
        "--sim-threads", type=int, default=16, help="worker threads of each simulator site"
    )
    parser.add_argument("--grow", action="store_true", help="larger sizes while a cycle fits")
    parser.add_argument("--floor", action="store_true", help="the fixed-answer serving floor")
    parser.add_argument("--realtime", action="store_true", help="the real-time probe run")
    parser.add_argument("--realtime-mailboxes", type=int, default=2000)
    parser.add_argument("--realtime-seconds", type=float, default=300.0)
    parser.add_argument("--library", action="store_true", help="the scenario library's time")
    parser.add_argument(
        "--json", default="bench-results.json", metavar="FILE", help="where figures go"
    )
    parser.add_argument(
        "--profile", metavar="DIR", help="py-spy each process during the measured cycles"
    )


def options_from(args: Any) -> BenchOptions:
    """BenchOptions from parsed arguments; SystemExit(2) with the reason if absurd."""
    try:
        sizes = [int(s) for s in str(args.sizes).split(",") if s.strip()]
    except ValueError:
        raise SystemExit(f"harness bench: --sizes: not a list of numbers: {args.sizes!r}") from None
    if not sizes or min(sizes) < 1 or args.cycles < 0 or args.sim_processes < 1:
        raise SystemExit("harness bench: sizes, cycles and process counts must be positive")
    named = args.floor or args.realtime or args.library
    explicit_sizes = "--sizes" in sys.argv or "--cycles" in sys.argv
    return BenchOptions(
        variants=["ews", "webdav"] if args.variant == "both" else [args.variant],
        sizes=sizes,
        cycles=args.cycles,
        concurrency=args.concurrency,
        timeout=args.timeout,
        sim_processes=args.sim_processes,
        engine_processes=args.engine_processes,
        sim_threads=args.sim_threads,
        grow=args.grow,
        floor=args.floor,
        realtime=args.realtime,
        realtime_mailboxes=args.realtime_mailboxes,
        realtime_seconds=args.realtime_seconds,
        library=args.library,
        sizes_part=explicit_sizes or not named,
        json_path=args.json,
        profile_dir=args.profile,
    )


__all__ = ["BenchOptions", "add_arguments", "bench", "options_from"]
