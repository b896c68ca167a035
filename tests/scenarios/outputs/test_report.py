"""The HTML report: self-contained, a summary, failing runs first and open, their
explanation, one SVG lane per user, filterable tables, everything escaped."""

from __future__ import annotations

import re
from dataclasses import replace

from lxml import html

from scenarios.outputs.report import failing_first, render, verdict
from scenarios.run.runner import ScenarioResult


def page(results: list[ScenarioResult]) -> html.HtmlElement:
    return html.fromstring(render(results))


def test_the_page_fetches_nothing(results: list[ScenarioResult]) -> None:
    text = render(results)
    root = html.fromstring(text)
    assert root.xpath("//link") == [] and root.xpath("//img") == []
    assert root.xpath("//script[@src]") == []
    assert root.xpath("//style") and root.xpath("//script")
    # No address outside the page (the SVG's namespace is a name, not a fetch).
    addresses = re.findall(r"""(?:src|href)=["']([^"']+)""", text)
    assert addresses and all(a.startswith("#") for a in addresses), addresses
    assert "url(" not in text and "@import" not in text


def test_summary_and_failing_runs_first(results: list[ScenarioResult]) -> None:
    root = page(results)
    summary = root.get_element_by_id("summary").text_content()
    assert "1 passed, 1 failed, 0 harness errors" in summary
    assert "of 2 runs" in summary
    assert root.findtext(".//title") == "harness run: 1 of 2 failed"
    runs = root.xpath("//details[contains(@class, 'run')]")
    assert [r.get("data-verdict") for r in runs] == ["fail", "pass"]
    assert runs[0].get("open") is not None and runs[1].get("open") is None
    # The index links to each run, the failing one first with its first failure.
    index = root.get_element_by_id("index").xpath(".//tbody/tr")
    assert [row.xpath("string(.//a/@href)") for row in index] == ["#run-1", "#run-0"]
    assert "support-case.yaml:24: expected user 100 lunch" in index[0].text_content()


def test_the_failure_with_its_explanation_and_a_lane_per_user(
    results: list[ScenarioResult],
) -> None:
    root = page(results)
    failing = root.get_element_by_id("run-1")
    failures = failing.xpath(".//ol[@class='failures']/li")
    assert len(failures) == 2
    assert failures[0].get("data-user") == "100"
    why = failures[0].xpath(".//ul[@class='why']/li")
    assert [li.text_content() for li in why] == [
        "poll at 12:00:00: 'Lunch' was first seen at 11:58:30, 1:30 before its start: ignored "
        "for good by the 3-minute rule (R4)"
    ]
    lanes = failing.xpath(".//*[local-name()='g'][@class='tl-lane']")
    assert [lane.get("data-user") for lane in lanes] == ["100", "101"]
    marks = lanes[0].xpath(".//*[local-name()='g'][@class='tl-failure']")
    assert len(marks) == 2
    assert "ignored for good by the 3-minute rule (R4)" in marks[0].text_content()
    assert lanes[1].xpath(".//*[local-name()='g'][@class='tl-failure']") == []


def test_decisions_requests_and_presence_are_filterable_tables(
    results: list[ScenarioResult],
) -> None:
    root = page(results)
    failing = root.get_element_by_id("run-1")
    blocks = failing.xpath(".//div[@class='filterable']")
    assert [b.get("data-table") for b in blocks] == ["decisions", "presence", "requests"]
    for block in blocks:
        assert block.xpath(".//input[@type='search']")
        assert block.xpath(".//select/option/@value") == ["", "100", "101"]
    decisions = blocks[0].xpath(".//tbody/tr")
    ignored = [r for r in decisions if "ignored" in r.text_content()]
    assert len(ignored) == 1 and ignored[0].get("data-user") == "100"
    # The row that decided, named by the explanation, stands out.
    assert ignored[0].get("class") == "near"
    assert [r for r in decisions if r.get("class") == "near"] == ignored
    assert "11:58:30 .. " in ignored[0].text_content()
    requests = blocks[2].xpath(".//tbody/tr")
    assert len(requests) == len(results[1].recording.requests)  # type: ignore[union-attr]
    finds = [r for r in requests if "(FindItem)" in r.text_content()]
    assert finds and {r.get("data-user") for r in finds} == {"100", "101"}
    presence = blocks[1].text_content()
    assert "office -> meeting until 12:25:00" in presence
    assert "call +49 30 5550 -> 101: voicemail" in presence


def test_names_are_escaped(results: list[ScenarioResult]) -> None:
    text = render(results)
    assert "Lunch <sets> presence" not in text
    assert "Lunch &lt;sets&gt; presence &amp; returns" in text


def test_a_harness_error_comes_first_and_says_so(results: list[ScenarioResult]) -> None:
    broken = replace(results[0], error="RuntimeError: boom", recording=None)
    ordered = failing_first([results[0], results[1], broken])
    assert [(i, verdict(r)) for i, r in ordered] == [(2, "error"), (1, "fail"), (0, "pass")]
    root = page([results[0], broken])
    run = root.get_element_by_id("run-1")
    assert run.get("data-verdict") == "error" and run.get("open") is not None
    assert "harness error: RuntimeError: boom" in run.text_content()
    assert "no recording of this run" in run.text_content()
    assert (
        "1 passed, 0 failed, 1 harness errors" in root.get_element_by_id("summary").text_content()
    )


def test_all_passed() -> None:
    root = html.fromstring(render([]))
    assert root.findtext(".//title") == "harness run: all passed"
    assert root.xpath("//input[@id='failing-only']") == []


def test_a_report_of_one_passing_run_shows_it_open(results: list[ScenarioResult]) -> None:
    passing = [r for r in results if verdict(r) == "pass"]
    (run,) = page(passing).xpath("//details[contains(@class, 'run')]")
    assert run.get("data-verdict") == "pass" and run.get("open") is not None
