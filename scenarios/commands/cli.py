"""The ``harness`` command: run scenarios, serve the simulators, run the engine.

Exit codes of ``harness run`` (the contract): 0 every expectation held, 1 an
expectation failed, 2 a file was invalid (nothing ran) or the harness failed.
Other commands: 0 success, 2 bad configuration or input.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from datetime import date

from integration.service import ServiceError
from scenarios.format.model import ScenarioError

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="harness",
        description="Test harness for the PBX's Exchange 2007 calendar integration.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run scenario files (folders recursively)")
    run.add_argument("paths", nargs="+", metavar="PATH")
    run.add_argument("--variant", choices=("ews", "webdav", "both"), help="override the files")
    loudness = run.add_mutually_exclusive_group()
    loudness.add_argument(
        "-v", "--verbose", action="store_true", help="every run's timeline, with every poll"
    )
    loudness.add_argument(
        "-q", "--quiet", action="store_true", help="only failed runs and the summary"
    )
    run.add_argument(
        "-k",
        dest="keyword",
        metavar="PATTERN",
        help="only runs whose path or name contains PATTERN (words with and/or/not, as pytest)",
    )
    run.add_argument("-x", "--exitfirst", action="store_true", help="stop at the first failure")
    run.add_argument(
        "-j",
        "--jobs",
        type=_workers,
        metavar="N",
        help="runs in N worker processes (default: one per core; 1: in this process)",
    )
    run.add_argument(
        "--explain",
        metavar="USER",
        help="print, per poll, the engine's decision on each appointment of USER (extension)",
    )
    from scenarios.outputs.write import output_file

    run.add_argument("--report", type=output_file, metavar="FILE.html", help="an HTML report")
    run.add_argument("--junit", type=output_file, metavar="FILE.xml", help="JUnit XML for CI")
    run.add_argument("--json", type=output_file, metavar="FILE", help="every result as JSON")

    serve = commands.add_parser("serve", help="run the simulators in real time")
    serve.add_argument("--seed", metavar="FILE", help="scenario or seed file to load")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_port, help="HTTPS port (0: a free one)")
    serve.add_argument("--smtp-port", type=_port, help="SMTP port, STARTTLS (0: a free one)")
    serve.add_argument("--smtps-port", type=_port, help="SMTP port, implicit TLS (0: free)")
    serve.add_argument("--pbx-port", type=_port, help="the PBX API's port (0: a free one)")
    serve.add_argument("--control-port", type=_port, help="the control API's port (0: free)")
    serve.add_argument(
        "--state-dir",
        metavar="DIR",
        help="keep the CA, keys, ports and token here: serving again looks like a restart",
    )
    serve.add_argument(
        "--token", help="the PBX and control APIs' token (made up when bound off loopback)"
    )
    serve.add_argument("--ready-file", metavar="PATH", help="write the endpoints here as JSON")

    engine = commands.add_parser("engine", help="run the sync engine in real time")
    engine.add_argument("--config", required=True, metavar="FILE")
    engine.add_argument(
        "--shard", metavar="I/N", help="poll only shard I (0..N-1) of N of the users"
    )

    contacts = commands.add_parser("contacts", help="search the public folder contacts")
    contacts.add_argument("--config", required=True, metavar="FILE")
    contacts.add_argument("--limit", type=int, default=50, help="most contacts shown (50)")
    contacts.add_argument("query", metavar="QUERY")

    check_mail = commands.add_parser("check-mail", help="send a test mail through [smtp]")
    check_mail.add_argument("--config", required=True, metavar="FILE")
    check_mail.add_argument("--to", required=True, metavar="ADDRESS")

    capture = commands.add_parser(
        "capture", help="read calendars from a real Exchange (read-only) into a scenario file"
    )
    capture.add_argument("--config", required=True, metavar="FILE", help="the engine's config")
    capture.add_argument("--mailbox", required=True, action="append", metavar="ADDRESS")
    capture.add_argument("--from", required=True, dest="first", type=_date, metavar="DATE")
    capture.add_argument("--to", required=True, dest="last", type=_date, metavar="DATE")
    capture.add_argument("--out", required=True, metavar="FILE")
    capture.add_argument("--timezone", metavar="ZONE", help="the scenario's zone (IANA)")
    capture.add_argument("--key", help="pseudonym key (else $HARNESS_CAPTURE_KEY or random)")
    capture.add_argument("--force", action="store_true", help="overwrite --out if it exists")

    ics = commands.add_parser(
        "import-ics", help="add an Outlook/OWA calendar export (.ics) to a seed or scenario file"
    )
    ics.add_argument("ics", metavar="FILE.ics")
    ics.add_argument("--mailbox", required=True, metavar="ADDRESS")
    target = ics.add_mutually_exclusive_group()
    target.add_argument("--into", metavar="SEED.yaml", help="add to this file, in place")
    target.add_argument("--out", metavar="FILE", help="write a new seed file")
    ics.add_argument("--timezone", metavar="ZONE", help="the new seed's zone (IANA)")

    doctor = commands.add_parser("doctor", help="check the Exchange, PBX and SMTP setup")
    doctor.add_argument("--config", required=True, metavar="FILE")
    doctor.add_argument("--mailbox", metavar="ADDRESS", help="the mailbox to try rights on")

    from scenarios.commands.bench import add_arguments

    add_arguments(commands.add_parser("bench", help="measure engine and simulators at scale"))
    return parser


def _workers(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of workers (1 or more)")
    return count


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port (0..65535)")
    return port


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx logs every request at INFO; the engine's own lines (a presence change, a
    # recovery, a failure) are what an operator reads.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        if args.command == "run":
            from scenarios.commands.runcmd import RunOptions, run_command

            return run_command(
                RunOptions(
                    args.paths,
                    args.variant,
                    verbose=args.verbose,
                    quiet=args.quiet,
                    explain=args.explain,
                    keyword=args.keyword,
                    exit_first=args.exitfirst,
                    jobs=args.jobs,
                    outputs={"report": args.report, "junit": args.junit, "json": args.json},
                )
            )
        if args.command == "serve":
            from scenarios.commands.serve import ServeOptions, serve

            options = ServeOptions(
                host=args.host,
                port=args.port,
                smtp_port=args.smtp_port,
                smtps_port=args.smtps_port,
                pbx_port=args.pbx_port,
                control_port=args.control_port,
                state_dir=args.state_dir,
                token=args.token,
            )
            return serve(args.seed, ready_file=args.ready_file, options=options)
        if args.command == "engine":
            return _engine(args.config, args.shard)
        if args.command == "bench":
            from scenarios.commands.bench import bench, options_from

            return bench(options_from(args))
        if args.command == "contacts":  # exit 0 found, 1 none, 2 bad config/unreachable
            from integration.contacts.command import contacts_command

            return contacts_command(args.config, args.query, args.limit)
        if args.command == "check-mail":  # exit 0 delivered, 1 not delivered, 2 bad config
            from integration.mail.command import check_mail_command

            return check_mail_command(args.config, args.to)
        if args.command == "capture":  # exit 0 written, 2 bad config/input/unreachable
            from scenarios.commands.capture import capture_command

            return capture_command(
                args.config,
                args.mailbox,
                args.first,
                args.last,
                args.out,
                timezone=args.timezone,
                key=args.key,
                force=args.force,
            )
        if args.command == "import-ics":  # exit 0 done, 2 a broken file or bad arguments
            from scenarios.commands.importics import import_ics_command

            return import_ics_command(
                args.ics, args.mailbox, into=args.into, out_path=args.out, timezone=args.timezone
            )
        if args.command == "doctor":  # exit 0 all passed, 1 a check failed, 2 bad config
            from integration.doctor.command import doctor_command

            return doctor_command(args.config, args.mailbox)
    except ServiceError as exc:
        print(f"harness: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except ScenarioError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        return EXIT_OK
    return EXIT_INVALID  # pragma: no cover - argparse requires a command


def _engine(config_path: str, shard_text: str | None = None) -> int:
    from integration.config import ConfigError, load_config
    from integration.service import run_engine
    from integration.shard import Shard

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_INVALID
    try:
        shard = Shard.parse(shard_text) if shard_text else None
    except ValueError as exc:
        print(f"harness engine: --shard: {exc}", file=sys.stderr)
        return EXIT_INVALID

    async def forever() -> None:
        stop, reload = asyncio.Event(), asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        loop.add_signal_handler(signal.SIGHUP, reload.set)  # re-read the configuration
        await run_engine(
            config, stop, shard=shard, reload=reload, load=lambda: load_config(config_path)
        )

    asyncio.run(forever())
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
