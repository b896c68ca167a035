"""``harness run --junit FILE.xml``: the run as JUnit XML for CI.

One ``<testcase>`` per scenario file and variant, in file order: ``classname``
is the file's path without ``.yaml``, its folders joined by dots
(``scenarios.library.r04-three-minute-rule.phase-00-created-2m59s-before``),
``name`` the file's name and variant (``phase-00-created-2m59s-before [ews]``).
A failed expectation is a ``<failure>`` whose message is the first one
(``FILE:LINE: message``) and whose text is every failure with the engine's
explanation (``why:`` lines); a harness error is an ``<error>``. Each test
case's ``<system-out>`` is its timeline, as ``harness run -v`` prints it.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import PurePath

from scenarios.outputs.report import verdict
from scenarios.outputs.timeline import render as render_text
from scenarios.run.runner import ScenarioResult

SUITE = "harness run"
# Characters XML 1.0 cannot carry, whatever the escaping.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def classname(path: PurePath) -> str:
    """``a/b/c.yaml`` -> ``a.b.c``; a leading ``/`` or ``..`` is left out."""
    parts = [p for p in path.with_suffix("").parts if p not in ("/", "..", ".", "")]
    return ".".join(p.replace(".", "_") for p in parts)


def failure_text(result: ScenarioResult) -> str:
    lines = []
    for failure in result.failures:
        lines.append(f"{result.scenario.path}:{failure.line}: {failure.message}")
        lines.extend(f"    why: {text}" for text in failure.explanation)
    return "\n".join(lines)


def testcase(result: ScenarioResult) -> ET.Element:
    path = PurePath(result.scenario.path)
    case = ET.Element(
        "testcase",
        {
            "classname": classname(path),
            "name": f"{path.stem} [{result.variant}]",
            "file": str(path),
            "time": f"{result.seconds:.3f}",
        },
    )
    outcome = verdict(result)
    if outcome == "error":
        error = ET.SubElement(
            case, "error", {"message": _clean(f"harness error: {result.error}"), "type": "error"}
        )
        error.text = _clean(f"{path}: harness error: {result.error}\n{failure_text(result)}")
    elif outcome == "fail":
        first = result.failures[0]
        failure = ET.SubElement(
            case,
            "failure",
            {
                "message": _clean(f"{path}:{first.line}: {first.message}"),
                "type": "expectation",
            },
        )
        failure.text = _clean(failure_text(result))
    out = ET.SubElement(case, "system-out")
    out.text = _clean(render_text(result))
    return case


def document(results: Sequence[ScenarioResult]) -> ET.ElementTree:
    verdicts = [verdict(r) for r in results]
    counts = {
        "tests": str(len(results)),
        "failures": str(verdicts.count("fail")),
        "errors": str(verdicts.count("error")),
        "skipped": "0",
        "time": f"{sum(r.seconds for r in results):.3f}",
    }
    root = ET.Element("testsuites", {"name": SUITE, **counts})
    suite = ET.SubElement(root, "testsuite", {"name": SUITE, **counts})
    suite.extend(testcase(r) for r in results)
    ET.indent(root)
    return ET.ElementTree(root)


def write(path: str, results: Sequence[ScenarioResult]) -> None:
    document(results).write(path, encoding="utf-8", xml_declaration=True)


__all__ = ["classname", "document", "failure_text", "testcase", "write"]
