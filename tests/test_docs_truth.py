"""The README and the docs say what is true today.

Counts a reader relies on (how many scenario files the library holds), the rule ids
(R1..R14, as the contract names them), the Debian packages the optional tests need
(the ones ``.ci/run`` installs) and every relative link are checked against the tree,
so a change that makes them wrong fails here rather than misleading a newcomer.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / "scenarios" / "library"
DOCUMENTS = [
    ROOT / "README.md",
    LIBRARY / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _library_files() -> int:
    return len(list(LIBRARY.rglob("*.yaml")))


def _library_runs() -> int:
    from scenarios.format.loader import load_paths
    from scenarios.run.runner import variants_for

    return sum(len(variants_for(s)) for s in load_paths([str(LIBRARY)]))


def test_the_readme_gives_the_librarys_size() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    counts = [int(n) for n in re.findall(r"(\d+) scenario files", text)]
    assert counts, "README.md should say how many scenario files the library holds"
    assert set(counts) == {_library_files()}
    runs = [int(n) for n in re.findall(r"(\d+) runs", text)]
    assert runs, "README.md should say how many runs the library makes"
    assert set(runs) == {_library_runs()}


def test_the_rule_ids_are_r1_to_r14_everywhere() -> None:
    stale = []
    for path in [*DOCUMENTS, *sorted((ROOT / "integration").rglob("*.py"))]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for found in re.findall(r"R1\.\.R(\d+)", line):
                if found != "14":
                    stale.append(f"{path.relative_to(ROOT)}:{number}: R1..R{found}")
    assert stale == []
    rules = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    for rule in range(1, 15):
        assert re.search(rf"^#+ .*\bR{rule}\b", rules, re.M), f"docs/rules.md lacks R{rule}"


def test_the_readme_names_the_debian_packages_ci_installs() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    packages = re.search(r'APT_PACKAGES="([^"]+)"', ci)
    assert packages is not None
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [p for p in packages.group(1).split() if f"`{p}`" not in readme]
    assert missing == []


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_at_a_file(document: Path) -> None:
    broken = []
    for target in LINK.findall(document.read_text(encoding="utf-8")):
        if "://" in target or target.startswith("mailto:"):
            continue
        if not (document.parent / target).exists():
            broken.append(target)
    assert broken == []
