"""``harness check-mail --config FILE --to ADDRESS``: the 'Check e-mail forwarding' button.

Exit codes: 0 the server accepted the test mail, 1 it did not (the report says
why, with the server's reply), 2 the configuration or the address is unusable.
"""

from __future__ import annotations

import asyncio
import sys

from integration.config import ConfigError, load_config
from integration.mail.check import check_mail, is_address, report

EXIT_DELIVERED, EXIT_NOT_DELIVERED, EXIT_BAD_CONFIG = 0, 1, 2


def check_mail_command(config_path: str, to: str) -> int:
    """Send the test mail and print the verdict; the exit code."""
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_CONFIG
    if config.smtp is None:
        print(f"{config_path}: [smtp]: missing section (check-mail needs it)", file=sys.stderr)
        return EXIT_BAD_CONFIG
    if not is_address(to):
        print(f"check-mail: --to: not an e-mail address: {to!r}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    result = asyncio.run(check_mail(config.smtp, to))
    print(report(config.smtp, to, result), flush=True)
    return EXIT_DELIVERED if result.delivered else EXIT_NOT_DELIVERED
