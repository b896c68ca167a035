"""The files ``harness run`` writes after the run: ``--report``, ``--junit``, ``--json``.

``output_file`` checks a path when the command line is read (its folder exists,
it is not a folder), so a typo stops the command before hours of scenarios run;
``write_outputs`` writes each file asked for and says on stderr which one could
not be written, and why, without a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scenarios.run.runner import ScenarioResult

EXIT_OK, EXIT_INVALID = 0, 2
# Option -> the module whose ``write(path, results)`` makes it (imported when used:
# reading the command line stays cheap).
WRITERS: tuple[tuple[str, str], ...] = (
    ("report", "scenarios.outputs.report"),
    ("junit", "scenarios.outputs.junit"),
    ("json", "scenarios.outputs.jsonout"),
)


def output_file(text: str) -> str:
    """An argparse ``type``: a file that can be made, in a folder that exists."""
    if not text:
        raise argparse.ArgumentTypeError("an empty path")
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text} is a folder, not a file")
    folder = os.path.dirname(os.path.abspath(text))
    if not os.path.isdir(folder):
        raise argparse.ArgumentTypeError(f"{text}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise argparse.ArgumentTypeError(f"{text}: the folder {folder} is not writable")
    return text


def write_outputs(
    results: Sequence[ScenarioResult],
    *,
    report: str | None = None,
    junit: str | None = None,
    json: str | None = None,
) -> int:
    """Write the files asked for; 0 when all were written, 2 when one was not."""
    paths = {"report": report, "junit": junit, "json": json}
    code = EXIT_OK
    for option, module in WRITERS:
        path = paths[option]
        if path is None:
            continue
        try:
            import_module(module).write(path, results)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            print(f"harness run: cannot write --{option} {path}: {reason}", file=sys.stderr)
            code = EXIT_INVALID
    return code


__all__ = ["output_file", "write_outputs"]
