"""JUnit XML: one test case per file and variant, the explanation as failure text."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path, PurePath

from lxml import etree

from scenarios.outputs.junit import classname, write
from scenarios.run.runner import ScenarioResult


def written(tmp_path: Path, results: list[ScenarioResult]) -> etree._Element:
    path = tmp_path / "junit.xml"
    write(str(path), results)
    return etree.parse(
        str(path), etree.XMLParser(resolve_entities=False, no_network=True)
    ).getroot()


def test_one_case_per_run_in_file_order(tmp_path: Path, results: list[ScenarioResult]) -> None:
    root = written(tmp_path, results)
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("2", "1", "0")
    cases = root.findall("testsuite/testcase")
    assert [c.get("name") for c in cases] == ["passing [ews]", "support-case [ews]"]
    assert cases[1].get("classname").endswith("docs.screenshots.support-case")
    assert float(cases[1].get("time")) > 0
    assert cases[0].find("failure") is None and cases[0].find("error") is None
    assert "PASS passing.yaml [ews]" in cases[0].findtext("system-out")


def test_the_failure_text_is_the_explanation(tmp_path: Path, results: list[ScenarioResult]) -> None:
    case = written(tmp_path, results).findall("testsuite/testcase")[1]
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message").endswith(
        "support-case.yaml:24: expected user 100 lunch at 2026-01-05 12:00:00, got office "
        "(set by pbx)"
    )
    lines = failure.text.splitlines()
    assert lines[0] == failure.get("message")
    assert lines[1] == (
        "    why: poll at 12:00:00: 'Lunch' was first seen at 11:58:30, 1:30 before its start: "
        "ignored for good by the 3-minute rule (R4)"
    )
    assert any("missing transition: user 100 -> lunch" in line for line in lines[2:])


def test_a_harness_error_is_an_error(tmp_path: Path, results: list[ScenarioResult]) -> None:
    broken = replace(results[0], error="RuntimeError: <boom>\x00", failures=[])
    root = written(tmp_path, [broken])
    assert (root.get("failures"), root.get("errors")) == ("0", "1")
    error = root.find("testsuite/testcase/error")
    assert error is not None and error.get("message") == "harness error: RuntimeError: <boom>\ufffd"


def test_classname_from_the_path() -> None:
    assert (
        classname(PurePath("scenarios/library/r04/phase-00.yaml"))
        == "scenarios.library.r04.phase-00"
    )
    assert classname(PurePath("/tmp/x/case.v2.yaml")) == "tmp.x.case_v2"
    assert classname(PurePath("../case.yaml")) == "case"
