"""``harness doctor --config FILE [--mailbox ADDRESS]``.

Exit codes: 0 every check passed, 1 a check failed (the output says what to do),
2 the configuration file is unusable (each problem on stderr, naming the key).
"""

from __future__ import annotations

import asyncio
import sys

from integration.config import ConfigError, load_config
from integration.doctor.checks import run_checks
from integration.doctor.report import all_passed, render
from integration.mail.check import is_address

EXIT_OK, EXIT_FAILED, EXIT_BAD_CONFIG = 0, 1, 2


def doctor_command(config_path: str, mailbox: str | None) -> int:
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_CONFIG
    if mailbox is not None and not is_address(mailbox):
        print(f"doctor: --mailbox: not an e-mail address: {mailbox!r}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    if not config.exchange.enabled:
        print(f"{config_path}: [exchange] enabled = false: nothing to check", file=sys.stderr)
        return EXIT_BAD_CONFIG
    exchange = config.exchange
    print(
        f"harness doctor: {exchange.variant.upper()} at {exchange.server_url} "
        f"as {exchange.username}",
        flush=True,
    )
    results = asyncio.run(run_checks(config, mailbox))
    print(render(results), flush=True)
    return EXIT_OK if all_passed(results) else EXIT_FAILED


__all__ = ["doctor_command"]
