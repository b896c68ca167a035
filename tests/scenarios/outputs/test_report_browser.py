"""The report of a failing scenario in headless Chromium, as a person sees it: the
failing run first and open, a lane per user, the failure marked at its instant
with its explanation, the passing run folded, and the filters working."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scenarios.outputs.report import write
from scenarios.run.runner import ScenarioResult
from tests.browser import chromium, needs_chromium

FAILING = "#run-1"  # the support case, second in file order, shown first


def visible_texts(driver: Any, selector: str) -> list[str]:
    """The text of each element matching ``selector`` that is shown (not in a folded
    ``<details>``, not hidden by a filter)."""
    return list(
        driver.execute_script(
            "return [...document.querySelectorAll(arguments[0])]"
            ".filter(e => e.checkVisibility({visibilityProperty: true}))"
            ".map(e => e.textContent.trim())",
            selector,
        )
    )


def centre_x(driver: Any, element: Any) -> float:
    return float(
        driver.execute_script(
            "const r = arguments[0].getBoundingClientRect(); return r.left + r.width / 2", element
        )
    )


@needs_chromium
def test_a_person_sees_the_lanes_the_failure_and_why(
    tmp_path: Path, results: list[ScenarioResult]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select

    page = tmp_path / "report.html"
    write(str(page), results)
    with chromium(tmp_path / "profile", "--window-size=1400,1200") as driver:
        driver.get(page.as_uri())
        runs = driver.find_elements(By.CSS_SELECTOR, "details.run")
        assert [r.get_attribute("id") for r in runs] == ["run-1", "run-0"]
        assert runs[0].find_element(By.TAG_NAME, "summary").text.startswith("FAIL")
        assert "1 passed, 1 failed" in driver.find_element(By.ID, "summary").text

        # One lane per user, named, in the open failing run; the passing run is folded.
        names = visible_texts(driver, f"{FAILING} g.tl-lane > g > text.tl-h")
        assert names == ["Anna Berg", "Ben Hart"]
        assert visible_texts(driver, "#run-0 g.tl-lane") == []

        # The failure is marked on Anna's lane, under 12:00 on the axis, and labelled.
        marks = driver.find_elements(
            By.CSS_SELECTOR, f'{FAILING} g.tl-lane[data-user="100"] g.tl-failure'
        )
        assert marks and marks[0].is_displayed()
        assert not driver.find_elements(
            By.CSS_SELECTOR, f'{FAILING} g.tl-lane[data-user="101"] g.tl-failure'
        )
        labels = visible_texts(driver, f'{FAILING} g.tl-lane[data-user="100"] text.tl-faillabel')
        assert labels[0].startswith("line 24: expected user 100 lunch")
        (noon,) = [
            t
            for t in driver.find_elements(By.CSS_SELECTOR, f"{FAILING} svg text.tl-t")
            if t.text == "12:00"
        ]
        line = marks[0].find_element(By.CSS_SELECTOR, "line.tl-failline")
        assert abs(centre_x(driver, line) - centre_x(driver, noon)) < 2

        # Its explanation, in words, beside it.
        why = visible_texts(driver, f"{FAILING} ol.failures ul.why li")
        assert why[0] == (
            "poll at 12:00:00: 'Lunch' was first seen at 11:58:30, 1:30 before its start: "
            "ignored for good by the 3-minute rule (R4)"
        )
        # The decision that made it stands out in the decisions table.
        near = visible_texts(driver, f"{FAILING} .decisions tr.near")
        assert len(near) == 1 and "ignored" in near[0] and "R4" in near[0]

        # The filter: words, then a user.
        block = driver.find_element(
            By.CSS_SELECTOR, f'{FAILING} .filterable[data-table="decisions"]'
        )
        every = len(block.find_elements(By.CSS_SELECTOR, "tbody tr"))
        block.find_element(By.CSS_SELECTOR, "input[type=search]").send_keys("ignored")
        shown = visible_texts(driver, f'{FAILING} .filterable[data-table="decisions"] tbody tr')
        assert len(shown) == 1 and "ignored" in shown[0]
        assert block.find_element(By.CSS_SELECTOR, ".count").text == f"1 of {every} rows"
        block.find_element(By.CSS_SELECTOR, "input[type=search]").clear()
        Select(block.find_element(By.TAG_NAME, "select")).select_by_value("101")
        users = driver.execute_script(
            "return [...arguments[0].querySelectorAll('tbody tr')]"
            ".filter(r => !r.hidden).map(r => r.dataset.user)",
            block,
        )
        assert users and set(users) == {"101"}

        # "failing runs only" hides the passing run.
        driver.find_element(By.ID, "failing-only").click()
        assert not runs[1].is_displayed() and runs[0].is_displayed()
