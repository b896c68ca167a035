"""Writing files the user keeps: never half-written, never over something unasked.

``write_atomically`` writes beside the target and renames over it, so a crash or a
full disk leaves the old file (or none) and never a torn one; it keeps the
target's permissions when it replaces one.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


class RefusedWrite(Exception):
    """The target exists and was not to be replaced, or cannot be written."""


def write_atomically(path: Path, text: str, *, replace: bool) -> None:
    """Write ``text`` to ``path``; an existing file only when ``replace``."""
    if path.exists() and not replace:
        raise RefusedWrite(f"{path} exists; not overwritten (give another file, or --force)")
    if path.is_dir():
        raise RefusedWrite(f"{path} is a folder")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise RefusedWrite(f"{folder} is not a folder")
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else None
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


__all__ = ["RefusedWrite", "write_atomically"]
