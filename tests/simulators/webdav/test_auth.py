"""Authentication of /exchange/ and /public/: IIS Basic, and OWA 2007 forms-based
log-in with its quirks (cookies even for a wrong password, 440 Login Timeout, idle
expiry on the Exchange clock), switchable per site at run time."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.simulators.webdav.conftest import ALICE, ALICE_AUTH, SERVICE, DavSite

PROPFIND = (
    '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:displayname/></D:prop></D:propfind>'
)


def _logon(client: httpx.Client, user: str, password: str, destination: str) -> httpx.Response:
    form = {
        "destination": destination,
        "flags": "4",
        "forcedownlevel": "0",
        "trusted": "4",
        "isutf8": "1",
        "username": user,
        "password": password,
    }
    return client.post("/owa/auth/owaauth.dll", data=form)


def test_basic_without_or_with_wrong_credentials_is_401(dav: DavSite) -> None:
    for auth in (None, (ALICE, "wrong")):
        response = dav.request("PROPFIND", f"/exchange/{ALICE}/", PROPFIND, auth=auth)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Basic realm="127.0.0.1"'


def test_basic_accepts_upn_alias_and_domain_backslash_alias(dav: DavSite) -> None:
    for user in (ALICE, "alice", "DOMAIN\\alice"):
        response = dav.request("PROPFIND", f"/exchange/{ALICE}/", PROPFIND, auth=(user, "alicepw"))
        assert response.status_code == 207, user


def test_forms_mode_redirects_a_cookieless_get_and_times_out_webdav(dav: DavSite) -> None:
    dav.site.set_webdav_auth("forms")
    get = dav.request("GET", f"/exchange/{ALICE}/", auth=None)
    assert get.status_code == 302
    location = urlsplit(get.headers["location"])
    assert location.path == "/owa/auth/logon.aspx"
    query = parse_qs(location.query)
    assert query["reason"] == ["0"] and query["url"] == [f"{dav.url}/exchange/{ALICE}/"]
    propfind = dav.request("PROPFIND", f"/exchange/{ALICE}/", PROPFIND, auth=None)
    assert propfind.status_code == 440
    assert propfind.reason_phrase == "Login Timeout"
    # Basic credentials do not count in forms mode: clients tell the modes apart by this.
    assert (
        dav.request("PROPFIND", f"/exchange/{ALICE}/", PROPFIND, auth=ALICE_AUTH).status_code == 440
    )


def test_forms_log_in_sets_cookies_and_the_session_works(dav: DavSite) -> None:
    dav.site.set_webdav_auth("forms")
    with dav.client() as client:
        response = _logon(client, *ALICE_AUTH, destination=f"{dav.url}/exchange/{ALICE}/")
        assert response.status_code == 302
        assert response.headers["location"] == f"{dav.url}/exchange/{ALICE}/"
        assert {"sessionid", "cadata", "UserContext"} <= set(client.cookies.keys())
        found = client.request(
            "PROPFIND", f"/exchange/{ALICE}/", content=PROPFIND, headers={"Depth": "0"}
        )
        assert found.status_code == 207
    [entry] = dav.site.journal.entries(service="webdav", status=207)
    assert entry.account == ALICE


def test_wrong_password_still_gets_cookies_then_the_next_request_fails(dav: DavSite) -> None:
    dav.site.set_webdav_auth("forms")
    with dav.client() as client:
        response = _logon(client, ALICE, "wrong", destination="/owa/")
        assert response.status_code == 302
        assert response.headers["location"] == f"{dav.url}/owa/"
        assert "cadata" in client.cookies
        follow = client.get("/owa/")
        assert follow.status_code == 302
        assert parse_qs(urlsplit(follow.headers["location"]).query)["reason"] == ["2"]
        cleared = follow.headers.get_list("set-cookie")
        assert any(c.startswith("cadata=;") and "1970" in c for c in cleared)
    with dav.client() as client:
        _logon(client, ALICE, "wrong", destination="/owa/")
        failed = client.request("PROPFIND", f"/exchange/{ALICE}/", content=PROPFIND)
        assert failed.status_code == 440
        cleared = failed.headers.get_list("set-cookie")
        assert any(c.startswith("sessionid=;") and "1970" in c for c in cleared)


def test_password_checked_at_log_on_when_configured(dav: DavSite) -> None:
    dav.site.set_webdav_auth("forms")
    assert dav.site.auth is not None
    dav.site.auth.check_password_at_logon = True
    try:
        with dav.client() as client:
            response = _logon(client, ALICE, "wrong", destination="/owa/")
            assert "reason=2" in response.headers["location"]
            assert "cadata" not in client.cookies
    finally:
        dav.site.auth.check_password_at_logon = False


def test_session_expires_after_30_idle_minutes_of_exchange_time(dav: DavSite) -> None:
    dav.site.set_webdav_auth("forms")
    with dav.client() as client:
        _logon(client, *SERVICE, destination="/owa/")
        dav.store.clock.skew = timedelta(minutes=29)
        assert (
            client.request("PROPFIND", f"/exchange/{ALICE}/", content=PROPFIND).status_code == 207
        )
        dav.store.clock.skew = timedelta(minutes=29 + 29)  # idle time restarted at the last use
        assert (
            client.request("PROPFIND", f"/exchange/{ALICE}/", content=PROPFIND).status_code == 207
        )
        dav.store.clock.skew = timedelta(minutes=29 + 29 + 30)
        expired = client.request("PROPFIND", f"/exchange/{ALICE}/", content=PROPFIND)
        assert expired.status_code == 440
        # The session is gone for good, even if the clock went back.
        dav.store.clock.skew = timedelta(0)
        assert (
            client.request("PROPFIND", f"/exchange/{ALICE}/", content=PROPFIND).status_code == 440
        )


def test_forged_cookies_are_440(dav: DavSite) -> None:
    dav.site.set_webdav_auth("forms")
    with dav.client() as client:
        _logon(client, *SERVICE, destination="/owa/")
        client.cookies.set("cadata", "forged")
        assert (
            client.request("PROPFIND", f"/exchange/{ALICE}/", content=PROPFIND).status_code == 440
        )


def test_switching_back_to_basic_ends_sessions(dav: DavSite) -> None:
    dav.site.set_webdav_auth("forms")
    with dav.client() as client:
        _logon(client, *SERVICE, destination="/owa/")
        dav.site.set_webdav_auth("basic")
        assert (
            client.request("PROPFIND", f"/exchange/{ALICE}/", content=PROPFIND).status_code == 401
        )
        dav.site.set_webdav_auth("forms")
        assert (
            client.request("PROPFIND", f"/exchange/{ALICE}/", content=PROPFIND).status_code == 440
        )


def test_destination_off_site_goes_to_owa(dav: DavSite) -> None:
    dav.site.set_webdav_auth("forms")
    with dav.client() as client:
        response = _logon(client, *SERVICE, destination="https://evil.example/steal")
        assert response.headers["location"] == f"{dav.url}/owa/"


def test_unknown_auth_mode_is_refused(dav: DavSite) -> None:
    try:
        dav.site.set_webdav_auth("ntlm")
    except ValueError as exc:
        assert "ntlm" in str(exc)
    else:  # pragma: no cover - the assertion below reports it
        raise AssertionError("ntlm was accepted")


def test_forms_log_in_over_https_marks_cookies_secure() -> None:
    from simulators.clock import Clock
    from simulators.exchange.store import ExchangeStore
    from simulators.site import start_site
    from tests.simulators.webdav.conftest import reseed

    site = start_site(ExchangeStore(Clock(), domain="domain.net"), "127.0.0.1", 0, True)
    try:
        reseed(site)
        site.set_webdav_auth("forms")
        with httpx.Client(base_url=site.url, verify=site.ca_cert_pem or True, timeout=10) as client:
            response = _logon(client, *SERVICE, destination=f"{site.url}/exchange/{ALICE}/")
            assert response.status_code == 302
            cookies = response.headers.get_list("set-cookie")
            assert all("; secure" in c for c in cookies if c.startswith(("sessionid", "cadata")))
            found = client.request("PROPFIND", f"/exchange/{ALICE}/", content=PROPFIND)
            assert found.status_code == 207
            assert f"<D:href>{site.url}/exchange/{ALICE}/</D:href>" in found.text
    finally:
        site.stop()


def test_propfind_on_exchange_root_lists_no_mailboxes(dav: DavSite) -> None:
    response = dav.request("PROPFIND", "/exchange/", PROPFIND, headers={"Depth": "1"})
    assert response.status_code == 207
    assert response.text.count("<D:response") == 1
    assert f"<D:href>{dav.url}/exchange/</D:href>" in response.text
