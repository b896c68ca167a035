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
    run.add_argument("-v", "--verbose", action="store_true", help="show every poll")

    serve = commands.add_parser("serve", help="run the simulators in real time")
    serve.add_argument("--seed", metavar="FILE", help="scenario or seed file to load")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="HTTPS port (0: a free one)")
    serve.add_argument("--ready-file", metavar="PATH", help="write the endpoints here as JSON")

    engine = commands.add_parser("engine", help="run the sync engine in real time")
    engine.add_argument("--config", required=True, metavar="FILE")

    contacts = commands.add_parser("contacts", help="search the public folder contacts")
    contacts.add_argument("--config", required=True, metavar="FILE")
    contacts.add_argument("--limit", type=int, default=50, help="most contacts shown (50)")
    contacts.add_argument("query", metavar="QUERY")

    check_mail = commands.add_parser("check-mail", help="send a test mail through [smtp]")
    check_mail.add_argument("--config", required=True, metavar="FILE")
    check_mail.add_argument("--to", required=True, metavar="ADDRESS")

    doctor = commands.add_parser("doctor", help="check the Exchange, PBX and SMTP setup")
    doctor.add_argument("--config", required=True, metavar="FILE")
    doctor.add_argument("--mailbox", metavar="ADDRESS", help="the mailbox to try rights on")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        if args.command == "run":
            return _run(args.paths, args.variant, args.verbose)
        if args.command == "serve":
            from scenarios.commands.serve import serve

            return serve(args.seed, args.host, args.port, args.ready_file)
        if args.command == "engine":
            return _engine(args.config)
        if args.command == "contacts":  # exit 0 found, 1 none, 2 bad config/unreachable
            from integration.contacts.command import contacts_command

            return contacts_command(args.config, args.query, args.limit)
        if args.command == "check-mail":  # exit 0 delivered, 1 not delivered, 2 bad config
            from integration.mail.command import check_mail_command

            return check_mail_command(args.config, args.to)
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


def _run(paths: list[str], variant: str | None, verbose: bool) -> int:
    from scenarios.format.loader import load_paths
    from scenarios.outputs.timeline import render
    from scenarios.run.environment import Environment
    from scenarios.run.runner import run_scenario, variants_for

    scenarios = load_paths(paths)  # raises ScenarioError: nothing runs
    logging.getLogger().setLevel(logging.ERROR)  # the timeline says what matters
    worst = EXIT_OK
    passed = failed = 0
    with Environment() as env:
        for scenario in scenarios:
            for name in variants_for(scenario, variant):
                result = run_scenario(scenario, name, env)
                print(render(result, verbose=verbose), flush=True)
                if result.passed:
                    passed += 1
                else:
                    failed += 1
                    worst = max(worst, EXIT_INVALID if result.error else EXIT_FAILED)
    print(f"{passed} passed, {failed} failed")
    return worst


def _engine(config_path: str) -> int:
    from integration.config import ConfigError, load_config
    from integration.service import run_engine

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_INVALID

    async def forever() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_engine(config, stop)

    asyncio.run(forever())
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
