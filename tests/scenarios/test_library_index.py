"""The library's README indexes every scenario file, under its folder's heading."""

from __future__ import annotations

import re
from pathlib import Path

LIBRARY = Path(__file__).resolve().parents[2] / "scenarios" / "library"


def sections() -> dict[str, str]:
    """README text by the folder its heading names (``## ... (`folder/`)``)."""
    text = (LIBRARY / "README.md").read_text(encoding="utf-8")
    found: dict[str, str] = {}
    for match in re.finditer(r"^## [^\n]*\(`([\w-]+)/`\)\n(.*?)(?=^## |\Z)", text, re.M | re.S):
        found[match.group(1)] = found.get(match.group(1), "") + match.group(2)
    return found


def test_every_scenario_file_is_listed_under_its_folder() -> None:
    index = sections()
    missing = [
        str(path.relative_to(LIBRARY))
        for path in sorted(LIBRARY.rglob("*.yaml"))
        if f"`{path.name}`" not in index.get(path.parent.name, "")
    ]
    assert missing == []


def test_every_listed_file_exists() -> None:
    for folder, body in sections().items():
        for name in re.findall(r"^- `([\w.-]+\.yaml)`", body, re.M):
            assert (LIBRARY / folder / name).is_file(), f"{folder}/{name}"
