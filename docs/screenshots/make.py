"""Make docs/screenshots/report.png: the report of support-case.yaml in headless Chromium.

    python docs/screenshots/make.py            # from the repository root

It runs ``docs/screenshots/support-case.yaml`` (it fails, as the case in
``docs/reports.md`` says) the way ``harness run --report`` does, writes the
report into a temporary folder, opens it in Debian's headless ``chromium``
(through ``chromedriver`` and Selenium, both of the test extras) and saves the
top of the page down to the end of the decisions table. Exit 2, with the reason,
when Chromium or its driver is missing.
"""

from __future__ import annotations

import base64
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CASE = "docs/screenshots/support-case.yaml"
OUT = ROOT / "docs" / "screenshots" / "report.png"
WIDTH = 1400


def report(folder: Path) -> Path:
    from scenarios.format.loader import load_paths
    from scenarios.outputs.report import write
    from scenarios.run.environment import Environment
    from scenarios.run.runner import run_scenario, variants_for

    results = []
    with Environment() as env:
        for scenario in load_paths([CASE]):  # relative: the report names it so
            results.extend(run_scenario(scenario, v, env) for v in variants_for(scenario))
    page = folder / "report.html"
    write(str(page), results)
    return page


def shoot(page: Path, profile: Path, out: Path) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or ""
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--window-size={WIDTH},1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    service = Service(executable_path=shutil.which("chromedriver") or "")
    driver = webdriver.Chrome(service=service, options=options)
    try:
        driver.get(page.as_uri())
        bottom = driver.execute_script(
            "const t = document.querySelector('details.run .decisions');"
            "return Math.ceil(t.getBoundingClientRect().bottom + window.scrollY + 8)"
        )
        shot = driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": WIDTH, "height": bottom, "scale": 1},
            },
        )
        out.write_bytes(base64.b64decode(shot["data"]))
    finally:
        driver.quit()


def main() -> int:
    missing = [name for name in ("chromium", "chromedriver") if shutil.which(name) is None]
    if missing:
        print(
            f"make.py: {' and '.join(missing)} not installed "
            "(Debian: apt-get install chromium chromium-driver)",
            file=sys.stderr,
        )
        return 2
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shoot(report(folder), folder / "profile", OUT)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
