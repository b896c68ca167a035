"""The WebDAV compliance suite ``litmus`` (a real client nobody here wrote) against
the scratch area of a mailbox, /exchange/<mailbox>/scratch/, over a real socket."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.simulators.webdav.conftest import ALICE, DavSite

# Group -> number of tests litmus 0.13 runs in it.
GROUPS = {"basic": 16, "copymove": 13, "props": 30, "locks": 41, "http": 4}
SUMMARY = re.compile(r"summary for `(\w+)': of (\d+) tests run: (\d+) passed, (\d+) failed")


@pytest.mark.skipif(shutil.which("litmus") is None, reason="litmus not installed")
def test_litmus_groups_all_pass(dav: DavSite, tmp_path: Path) -> None:
    url = f"{dav.url}/exchange/{ALICE}/scratch/"
    result = subprocess.run(
        ["litmus", url, ALICE, "alicepw"],
        cwd=tmp_path,  # litmus writes debug.log and child.log into its working directory
        env={**os.environ, "TESTS": " ".join(GROUPS)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    summaries = {
        g: (int(run), int(ok), int(bad)) for g, run, ok, bad in SUMMARY.findall(result.stdout)
    }
    assert summaries == {g: (n, n, 0) for g, n in GROUPS.items()}, result.stdout[-3000:]
    assert result.returncode == 0


def test_scratch_area_is_not_exchange_data(dav: DavSite) -> None:
    before = len(dav.store.items)
    assert dav.request("MKCOL", f"/exchange/{ALICE}/scratch/dir/").status_code == 201
    assert dav.request("PUT", f"/exchange/{ALICE}/scratch/dir/f.txt", b"x").status_code == 201
    assert len(dav.store.items) == before
    listing = dav.request("PROPFIND", f"/exchange/{ALICE}/", headers={"Depth": "1"})
    assert "scratch" not in listing.text


def test_reset_empties_the_scratch_area_and_its_properties(dav: DavSite) -> None:
    path = f"/exchange/{ALICE}/scratch/kept.txt"
    assert dav.request("PUT", path, b"x").status_code == 201
    patch = (
        '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:z="urn:test:">'
        "<D:set><D:prop><z:color>blue</z:color></D:prop></D:set></D:propertyupdate>"
    )
    assert dav.request("PROPPATCH", path, patch).status_code == 207
    dav.site.set_webdav_auth("basic")
    assert dav.request("GET", path).status_code == 404
    assert dav.request("PUT", path, b"y").status_code == 201
    found = dav.request("PROPFIND", path, headers={"Depth": "0"})
    assert "blue" not in found.text
