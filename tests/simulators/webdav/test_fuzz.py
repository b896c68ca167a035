"""Bounded fuzz of WebDAV: SQL (LIKE, dates, CAST), Range headers, methods on odd
paths. Never a 5xx, never a logged traceback, never a slow answer."""

from __future__ import annotations

import time
from urllib.parse import quote
from xml.sax.saxutils import escape

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzzing import FUZZ, NASTY_TEXT, TEXT, no_tracebacks
from tests.simulators.webdav.conftest import ALICE, DavSite

CALENDAR = f"/exchange/{ALICE}/Calendar/"
LITERALS = st.one_of(
    st.sampled_from(["'9999/12/31 23:59:59'", "'0001/01/01 00:00:00'", "'2026/03/16 09:00:00'"]),
    st.builds(lambda t: "'" + t.replace("'", "''") + "'", TEXT),
    st.builds(lambda t: f"CAST(\"{t}\" as 'dateTime.tz')", st.sampled_from(NASTY_TEXT[:8])),
    st.integers(-(10**30), 10**30).map(str),
)


def _ok(status: int, started: float) -> None:
    assert status < 500, status
    assert time.monotonic() - started < 5.0


@FUZZ
@given(
    prop=st.sampled_from(
        ['"urn:schemas:httpmail:subject"', '"urn:schemas:calendar:dtstart"', '"DAV:x"']
    ),
    op=st.sampled_from(["=", "<", ">", "<>", "LIKE", "NOT LIKE"]),
    literal=LITERALS,
    rows=st.one_of(
        st.none(),
        st.sampled_from(["rows=0-" + "9" * 5000, "rows=5-1", "rows=-3", "bytes=0-1"]),
        st.builds(lambda a, b: f"rows={a}-{b}", st.integers(0, 10**20), st.integers(0, 10**20)),
    ),
)
def test_search(
    dav: DavSite,
    caplog: pytest.LogCaptureFixture,
    prop: str,
    op: str,
    literal: str,
    rows: str | None,
) -> None:
    sql = (
        'SELECT "urn:schemas:httpmail:subject" FROM Scope(\'SHALLOW TRAVERSAL OF '
        f'"{CALENDAR}"\') WHERE {prop} {op} {literal}'
    )
    body = f'<?xml version="1.0"?><g:searchrequest xmlns:g="DAV:"><g:sql>{escape(sql)}</g:sql></g:searchrequest>'
    started = time.monotonic()
    response = dav.request("SEARCH", CALENDAR, body, headers={"Range": rows} if rows else None)
    _ok(response.status_code, started)
    no_tracebacks(caplog)


@FUZZ
@given(
    method=st.sampled_from(
        ["GET", "PROPFIND", "PROPPATCH", "DELETE", "PUT", "MKCOL", "SEARCH", "LOCK"]
    ),
    segment=st.one_of(
        st.sampled_from(
            ["%c0%ae", "%ff", "..", "%2e%2e", "%00", "scratch/%c0%ae", "Contacts", "x.EML"]
        ),
        TEXT.map(lambda t: quote(t, safe="")),
    ),
    depth=st.sampled_from(["0", "1", "infinity", "7", ""]),
)
def test_methods_on_odd_paths(
    dav: DavSite, caplog: pytest.LogCaptureFixture, method: str, segment: str, depth: str
) -> None:
    body = None
    if method == "PROPFIND":
        body = '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>'
    elif method == "PUT":
        body = "x"
    started = time.monotonic()
    response = dav.request(method, f"/exchange/{ALICE}/{segment}", body, headers={"Depth": depth})
    _ok(response.status_code, started)
    no_tracebacks(caplog)
