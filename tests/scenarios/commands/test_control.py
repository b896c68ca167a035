"""The control API of ``harness serve`` on real sockets (in-process): its index, the
OpenAPI description kept in step with the router, reset, seed, clock, journal, and the
live view's data; answers checked against the schemas the description declares."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from lxml import etree

from scenarios.commands.control import ControlApi
from scenarios.commands.serve import start_serving
from scenarios.commands.served import Loaded, Served
from scenarios.format.loader import parse_scenario

SEED = """\
name: Control API seed
timezone: Europe/Berlin
start: 2026-01-05 08:00
users:
  - {extension: "100", name: Anna Berg, email: user1@domain.net, auto_back_to_office: true}
  - {extension: "101", name: Ben Krause, email: user2@domain.net, language: de}
appointments:
  - {id: lunch, mailbox: user1@domain.net, subject: Lunch, start: "12:00", end: "13:00"}
  - mailbox: user2@domain.net
    subject: Standup
    start: "09:00"
    end: "09:15"
    recurrence: {pattern: daily, count: 5}
    exceptions:
      - {date: 2026-01-07, subject: Standup (late), start: "10:00", end: "10:15"}
"""

OTHER = """\
name: Another seed
timezone: UTC
start: 2026-02-02 08:00
exchange: {webdav_auth: forms}
users:
  - {extension: "200", name: Carla, email: carla@domain.net}
"""


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[Served, dict[str, str]]]:
    loaded = Loaded.from_scenario(parse_scenario(SEED, "seed.yaml"), "seed.yaml")
    served, ready, stop = start_serving(loaded)
    try:
        yield served, ready
    finally:
        stop()


@pytest.fixture
def served(running: tuple[Served, dict[str, str]]) -> Iterator[Served]:
    served = running[0]
    first = served.loaded
    yield served
    served.clock.set_real()
    served.load(first)


@pytest.fixture
def ready(running: tuple[Served, dict[str, str]], served: Served) -> dict[str, str]:
    return running[1]


@pytest.fixture
def control(ready: dict[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ready["dashboard"], timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def openapi(running: tuple[Served, dict[str, str]]) -> dict[str, Any]:
    return httpx.get(running[1]["control"] + "openapi.json").json()


def check(openapi: dict[str, Any], path: str, method: str, response: httpx.Response) -> Any:
    """The answer's JSON, validated against the schema the description declares for it."""
    declared = openapi["paths"][path][method.lower()]["responses"]
    assert str(response.status_code) in declared, (path, method, response.status_code)
    content = declared[str(response.status_code)]["content"]
    assert "application/json" in content, response.headers["content-type"]
    assert response.headers["content-type"].startswith("application/json")
    schema = {**content["application/json"]["schema"], "components": openapi["components"]}
    body = response.json()
    Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(body)
    return body


def send_mail(ready: dict[str, str], to: str, subject: str) -> None:
    host, port = ready["smtp"].rsplit(":", 1)
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "pbx@domain.net", to, subject
    message.set_content("Hello")
    message.add_attachment(b"RIFF0000WAVE", maintype="audio", subtype="wav", filename="vm.wav")
    with smtplib.SMTP(host, int(port), timeout=10) as client:
        client.starttls(context=ssl.create_default_context(cafile=ready["ca_cert"]))
        client.login("OSOMX@domain.net", "secret")
        client.send_message(message)


# ---------------------------------------------------------------- the index
def test_index_links_every_resource(control: httpx.Client, openapi: dict[str, Any]) -> None:
    for path in ("/control/", "/control"):
        body = check(openapi, "/control/", "GET", control.get(path))
        hrefs = {link["href"] for link in body["links"]}
        assert {"/", "/control/openapi.json", "/control/status", "/control/clock"} <= hrefs
    page = control.get("/control/", headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html")
    assert '<a href="/control/reset">reset</a>' in page.text


# ------------------------------------------------------------- the OpenAPI
def test_openapi_lists_exactly_the_routes_the_router_answers(
    served: Served, openapi: dict[str, Any]
) -> None:
    assert openapi["openapi"].startswith("3.1")
    routes = ControlApi(served).routes
    documented = {p: ops for p, ops in openapi["paths"].items() if p.startswith("/control/")}
    assert set(documented) == set(routes)
    for path, methods in routes.items():
        assert {m.lower() for m in methods} == set(documented[path]), path
        for method, route in methods.items():
            operation = documented[path][method.lower()]
            params = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
            assert params == set(route.query), (path, method)
            assert operation["responses"], (path, method)


def test_every_schema_reference_resolves(openapi: dict[str, Any]) -> None:
    text = str(openapi)
    for name in openapi["components"]["schemas"]:
        Draft202012Validator.check_schema(openapi["components"]["schemas"][name])
    refs = {part.split("'")[0] for part in text.split("#/components/schemas/")[1:]}
    assert refs <= set(openapi["components"]["schemas"])


def test_documented_mail_routes_answer(
    control: httpx.Client, ready: dict[str, str], openapi: dict[str, Any]
) -> None:
    send_mail(ready, "user2@domain.net", "Documented")
    check(openapi, "/api/mail/mailboxes", "GET", control.get("/api/mail/mailboxes"))
    listed = check(openapi, "/api/mail/messages", "GET", control.get("/api/mail/messages"))
    (message,) = listed["messages"]
    detail = control.get(f"/api/mail/messages/{message['id']}")
    body = check(openapi, "/api/mail/messages/{id}", "GET", detail)
    assert body["attachments"][0]["filename"] == "vm.wav"
    attachment = control.get(f"/api/mail/messages/{message['id']}/attachments/0")
    assert attachment.content == b"RIFF0000WAVE"
    # Untrusted content: downloaded, never run as a page of this site.
    assert attachment.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in attachment.headers["content-security-policy"]
    raw = control.get(f"/api/mail/messages/{message['id']}/raw")
    assert raw.headers["content-type"] == "message/rfc822" and b"Subject: Documented" in raw.content
    check(openapi, "/api/mail/outbound", "GET", control.get("/api/mail/outbound"))
    missing = control.get("/api/mail/messages/nope")
    check(openapi, "/api/mail/messages/{id}", "GET", missing)


# ---------------------------------------------------------------- status
def test_status_and_ready_file_keys(
    control: httpx.Client, ready: dict[str, str], openapi: dict[str, Any]
) -> None:
    assert {"ews", "webdav", "owa", "smtp", "smtps", "pbx", "control", "mail", "dashboard"} <= set(
        ready
    )
    assert ready["webdav"].endswith("/exchange/") and ready["owa"].endswith("/owa/")
    body = check(openapi, "/control/status", "GET", control.get("/control/status"))
    assert body["services"]["webdav"] == ready["webdav"]
    assert body["seed"]["name"] == "Control API seed" and body["seed"]["users"] == 2
    assert body["seed"]["appointments"] == 2
    assert body["clock"]["mode"] == "real"


def test_serve_starts_with_the_seeds_webdav_auth() -> None:
    loaded = Loaded.from_scenario(parse_scenario(OTHER, "other.yaml"), "other.yaml")
    _served, ready, stop = start_serving(loaded)
    try:
        tls = ssl.create_default_context(cafile=ready["ca_cert"])
        dav = httpx.request("PROPFIND", ready["webdav"] + "carla@domain.net/", verify=tls)
        assert dav.status_code == 440  # forms-based log-in, as the seed says
    finally:
        stop()
    assert not Path(ready["engine_config"]).exists()  # its files go with it


# ---------------------------------------------------------------- reset
def test_reset_empties_journals_faults_and_mail_and_restores_the_seed(
    served: Served, control: httpx.Client, ready: dict[str, str], openapi: dict[str, Any]
) -> None:
    send_mail(ready, "user1@domain.net", "Before reset")
    created = control.post(
        "/control/faults", json={"service": "ews", "kind": "http_503", "duration": "5m"}
    )
    check(openapi, "/control/faults", "POST", created)
    httpx.put(ready["pbx"] + "api/users/100/presence", json={"status": "sick", "set_by": "client"})
    (lunch,) = [i for i in served.store.all_calendar_items() if i.subject == "Lunch"]
    served.store.delete_item(lunch.id)
    assert control.get("/control/journal").json()["requests"]

    body = check(openapi, "/control/reset", "POST", control.post("/control/reset"))
    assert body["seed"]["name"] == "Control API seed"
    assert control.get("/control/faults").json() == {"faults": [], "applied": []}
    assert control.get("/control/journal").json() == {"requests": []}
    assert control.get("/api/mail/messages").json() == {"messages": []}
    assert [u["status"] for u in control.get("/control/users").json()["users"]] == [
        "office",
        "office",
    ]
    assert [i.subject for i in served.store.all_calendar_items()] == ["Lunch", "Standup"]
    assert httpx.get(ready["pbx"] + "api/users/100/presence").json()["status"] == "office"


# ------------------------------------------------------------------ seed
def test_seed_by_path_and_as_posted_yaml(
    served: Served,
    control: httpx.Client,
    ready: dict[str, str],
    tmp_path: Path,
    openapi: dict[str, Any],
) -> None:
    seed = tmp_path / "other.yaml"
    seed.write_text(OTHER, encoding="utf-8")
    body = check(
        openapi, "/control/seed", "POST", control.post("/control/seed", json={"path": str(seed)})
    )
    assert body["seed"] == {
        **body["seed"],
        "name": "Another seed",
        "source": str(seed),
        "users": 1,
        "timezone": "UTC",
    }
    users = httpx.get(ready["pbx"] + "api/users").json()["users"]
    assert [u["extension"] for u in users] == ["200"]
    assert served.store.mailboxes.keys() == {"carla@domain.net"}
    # The seed's webdav_auth holds: forms-based log-in (440 without a session).
    tls = ssl.create_default_context(cafile=ready["ca_cert"])
    dav = httpx.request("PROPFIND", ready["webdav"] + "carla@domain.net/", verify=tls)
    assert dav.status_code == 440
    # The engine configuration follows the seed.
    assert 'interval = "30s"' in Path(ready["engine_config"]).read_text()

    posted = control.post(
        "/control/seed", content=SEED.encode(), headers={"Content-Type": "application/yaml"}
    )
    assert check(openapi, "/control/seed", "POST", posted)["seed"]["source"] is None
    assert [u["extension"] for u in httpx.get(ready["pbx"] + "api/users").json()["users"]] == [
        "100",
        "101",
    ]
    dav = httpx.request("PROPFIND", ready["webdav"] + "user1@domain.net/", verify=tls)
    assert dav.status_code == 401  # basic again
    assert (
        check(openapi, "/control/seed", "GET", control.get("/control/seed"))["seed"]["users"] == 2
    )


def test_a_rejected_seed_says_file_and_line_and_changes_nothing(
    served: Served, control: httpx.Client, tmp_path: Path, openapi: dict[str, Any]
) -> None:
    bad = "name: bad\nstart: 2026-01-05 08:00\nusers:\n  - {extension: 1x, nmae: A}\n"
    answer = control.post(
        "/control/seed", content=bad.encode(), headers={"Content-Type": "text/yaml"}
    )
    body = check(openapi, "/control/seed", "POST", answer)
    assert answer.status_code == 400 and body["error"] == "the seed was rejected"
    assert body["problems"] and all(p.startswith("<posted>:4: ") for p in body["problems"])
    missing = control.post("/control/seed", json={"path": str(tmp_path / "nope.yaml")})
    body = check(openapi, "/control/seed", "POST", missing)
    assert body["problems"] == [
        f"{tmp_path / 'nope.yaml'}:1: cannot read the file: No such file or directory"
    ]
    form = control.post("/control/seed", content=b"x", headers={"Content-Type": "text/plain"})
    assert form.status_code == 415
    check(openapi, "/control/seed", "POST", form)
    unknown = control.post("/control/seed", json={"file": "x.yaml"})
    assert check(openapi, "/control/seed", "POST", unknown)["error"].startswith("unknown field")
    assert served.loaded.name == "Control API seed"
    assert len(control.get("/control/users").json()["users"]) == 2


# ----------------------------------------------------------------- clock
def test_clock_modes_drive_the_site_the_store_the_sink_and_the_pbx(
    served: Served, control: httpx.Client, ready: dict[str, str], openapi: dict[str, Any]
) -> None:
    at = datetime(2026, 1, 5, 11, 58, 30, tzinfo=UTC)
    frozen = control.post("/control/clock", json={"mode": "frozen", "at": at.isoformat()})
    body = check(openapi, "/control/clock", "POST", frozen)
    assert body["mode"] == "frozen"
    assert datetime.fromisoformat(body["now"]) == at
    assert body["now"].endswith("+01:00")  # in the seed's zone
    pbx_now = httpx.get(ready["pbx"] + "api/system").json()["now"]
    assert datetime.fromisoformat(pbx_now) == at
    assert served.store.clock.now() == at
    send_mail(ready, "user2@domain.net", "Frozen")
    (mail,) = control.get("/api/mail/messages").json()["messages"]
    assert datetime.fromisoformat(mail["received"]) == at
    httpx.get(ready["pbx"] + "api/users")
    requests = control.get("/control/journal?service=pbx").json()["requests"]
    assert [r["operation"] for r in requests] == ["system", "users"]
    assert {datetime.fromisoformat(r["at"]) for r in requests} == {at}

    advanced = check(
        openapi, "/control/clock", "POST", control.post("/control/clock", json={"advance": "1m30s"})
    )
    assert datetime.fromisoformat(advanced["now"]) == at + timedelta(minutes=1, seconds=30)
    offset = control.post("/control/clock", json={"mode": "offset", "offset": "-1h"})
    body = check(openapi, "/control/clock", "POST", offset)
    assert (body["mode"], body["offset_seconds"]) == ("offset", -3600)
    to = control.post("/control/clock", json={"mode": "offset", "at": at.isoformat()})
    assert abs(datetime.fromisoformat(to.json()["now"]) - at) < timedelta(seconds=3)
    real = check(
        openapi, "/control/clock", "POST", control.post("/control/clock", json={"mode": "real"})
    )
    assert real["mode"] == "real" and real["offset_seconds"] == 0
    assert check(openapi, "/control/clock", "GET", control.get("/control/clock"))["mode"] == "real"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"mode": "sideways"},
        {"mode": "frozen", "advance": "1m"},
        {"mode": "frozen", "at": "2026-01-05T12:00:00"},  # no offset
        {"mode": "frozen", "offset": "1h"},
        {"mode": "offset"},
        {"mode": "real", "at": "2026-01-05T12:00:00Z"},
        {"advance": "soon"},
        {"advance": "99999999999999h"},
        {"mode": "frozen", "at": "9999-12-31T23:59:59-01:00"},
        {"mode": "offset", "offset": "100000h"},
        {"tick": "1m"},
    ],
)
def test_bad_clock_settings_are_refused_plainly(
    served: Served, control: httpx.Client, openapi: dict[str, Any], body: dict[str, Any]
) -> None:
    answer = control.post("/control/clock", json=body)
    assert answer.status_code == 400, answer.text
    check(openapi, "/control/clock", "POST", answer)
    assert "Traceback" not in answer.text
    assert served.clock.mode == "real"


# --------------------------------------------------------------- journal
def test_journal_filters_and_limits(
    control: httpx.Client, ready: dict[str, str], openapi: dict[str, Any]
) -> None:
    for _ in range(3):
        httpx.get(ready["pbx"] + "api/users/100/presence")
    body = check(openapi, "/control/journal", "GET", control.get("/control/journal?service=pbx"))
    assert [r["operation"] for r in body["requests"]] == ["presence"] * 3
    assert {r["mailbox"] for r in body["requests"]} == {"user1@domain.net"}
    limited = control.get("/control/journal", params={"limit": "2", "mailbox": "user1@domain.net"})
    assert len(check(openapi, "/control/journal", "GET", limited)["requests"]) == 2
    for bad in ("since=yesterday", "limit=0", "colour=red", "service=pbx&service=ews"):
        answer = control.get(f"/control/journal?{bad}")
        assert answer.status_code == 400, bad
        check(openapi, "/control/journal", "GET", answer)
    activity = check(openapi, "/control/activity", "GET", control.get("/control/activity?limit=2"))
    assert [row["service"] for row in activity["activity"]] == ["pbx", "pbx"]


def test_activity_shows_smtp_beside_http(
    control: httpx.Client, ready: dict[str, str], openapi: dict[str, Any]
) -> None:
    send_mail(ready, "user2@domain.net", "Seen in activity")
    body = check(openapi, "/control/activity", "GET", control.get("/control/activity?service=smtp"))
    (row,) = body["activity"]
    assert row["mailbox"] == "user2@domain.net" and "TLS" in row["summary"]


# ------------------------------------------------------------ users, faults
def test_users_and_faults(
    control: httpx.Client, ready: dict[str, str], openapi: dict[str, Any]
) -> None:
    later = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    httpx.put(
        ready["pbx"] + "api/users/101/presence",
        json={"status": "lunch", "return_time": later.isoformat(), "set_by": "engine"},
    )
    users = check(openapi, "/control/users", "GET", control.get("/control/users"))["users"]
    ben = users[1]
    assert (ben["status"], ben["set_by"]) == ("lunch", "engine")
    assert datetime.fromisoformat(ben["return_time"]) == later
    assert ben["return_time"].endswith(("+01:00", "+02:00"))  # in the PBX's zone
    for spec in (
        {"service": "imap", "duration": "1m"},
        {"kind": "http_500"},
        {"service": "ews", "kind": "nonsense"},
        {"service": "ews", "duration": "0s"},
        {"service": "smtp", "kind": "ErrorServerBusy", "duration": "1m"},
        {"service": "ews", "kind": "http_500", "duration": "1m", "latency": "2s"},
        {"service": "ews", "kind": "http_500", "duration": "1m", "first": 0},
        {"service": "ews", "kind": "http_500", "duration": "1m", "probability": 2},
    ):
        answer = control.post("/control/faults", json=spec)
        assert answer.status_code == 400, spec
        check(openapi, "/control/faults", "POST", answer)
    control.post("/control/faults", json={"service": "ews", "kind": "busy", "duration": "2m"})
    body = check(openapi, "/control/faults", "GET", control.get("/control/faults"))
    assert [(f["service"], f["kind"]) for f in body["faults"]] == [("ews", "ErrorServerBusy")]
    assert check(openapi, "/control/faults", "DELETE", control.delete("/control/faults")) == {
        "faults": [],
        "applied": [],
    }


# -------------------------------------------------------------- timeline
def test_timeline_model_and_svg(
    served: Served, control: httpx.Client, ready: dict[str, str], openapi: dict[str, Any]
) -> None:
    httpx.put(
        ready["pbx"] + "api/users/100/presence",
        json={"status": "meeting", "set_by": "client", "return_time": None},
    )
    control.post(
        "/control/faults", json={"service": "webdav", "kind": "http_503", "duration": "1m"}
    )
    tls = ssl.create_default_context(cafile=ready["ca_cert"])
    refused = httpx.request("SEARCH", ready["webdav"] + "user1@domain.net/Calendar/", verify=tls)
    assert refused.status_code == 503
    model = check(openapi, "/control/timeline", "GET", control.get("/control/timeline"))
    assert model["notes"] == [
        "1 request(s) refused by a fault before the mailbox was known: the fault windows "
        "show when; their polls are missing from the lanes"
    ]
    anna = model["lanes"][0]
    assert (anna["user"], anna["title"], anna["mailbox"]) == (
        "100",
        "Anna Berg",
        "user1@domain.net",
    )
    assert [s["status"] for s in anna["presence"]][-1] == "meeting"
    assert [v["subject"] for t in anna["appointments"] for v in t["versions"]] == ["Lunch"]
    assert [f["service"] for f in model["faults"]] == ["webdav"]
    window = {"from": "2026-01-05T11:00:00+01:00", "to": "2026-01-05T14:00:00+01:00"}
    svg = control.get("/control/timeline.svg", params={**window, "width": "900"})
    assert svg.headers["content-type"].startswith("image/svg+xml")
    root = etree.fromstring(svg.content, etree.XMLParser(resolve_entities=False, no_network=True))
    assert root.get("width") == "900"
    assert "Lunch 12:00-13:00" in "".join(root.itertext())
    for bad in (
        {"from": "x"},
        {**window, "to": "2026-01-05T10:00:00+01:00"},
        {"width": "5"},
        {"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"},
    ):
        answer = control.get("/control/timeline.svg", params=bad)
        assert answer.status_code == 400, bad
        check(openapi, "/control/timeline.svg", "GET", answer)


def test_timeline_draws_a_series_occurrences_with_their_exception(
    control: httpx.Client, openapi: dict[str, Any]
) -> None:
    window = {"from": "2026-01-06T06:00:00+01:00", "to": "2026-01-07T12:00:00+01:00"}
    model = check(
        openapi, "/control/timeline", "GET", control.get("/control/timeline", params=window)
    )
    ben = model["lanes"][1]
    rows = [
        (t["occurrence"], [(v["change"], v["subject"], v["start"]) for v in t["versions"]])
        for t in ben["appointments"]
    ]
    assert sorted(rows, key=lambda r: r[1][0][2]) == [
        (True, [("created", "Standup", "2026-01-06T08:00:00+00:00")]),
        (
            True,
            [
                ("created", "Standup", "2026-01-07T08:00:00+00:00"),
                ("moved, renamed", "Standup (late)", "2026-01-07T09:00:00+00:00"),
            ],
        ),
    ]


# ------------------------------------------------------------ plain errors
def test_unknown_paths_wrong_methods_and_bugs_answer_json_without_details(
    served: Served, control: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = control.get("/control/nothing")
    assert missing.status_code == 404 and missing.json() == {
        "error": "no such resource: /control/nothing"
    }
    wrong = control.put("/control/clock", json={})
    assert wrong.status_code == 405 and wrong.headers["allow"] == "GET, POST"
    not_json = control.post(
        "/control/clock", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 400 and not_json.json() == {"error": "the body is not JSON"}

    def broken(self: object, request: object) -> object:
        raise RuntimeError("secret detail of a bug")

    monkeypatch.setattr(ControlApi, "_users", broken)
    api = ControlApi(served)  # a router built with the broken handler
    answers: list[str] = []
    body = b"".join(
        api(
            {"PATH_INFO": "/control/users", "REQUEST_METHOD": "GET", "QUERY_STRING": ""},
            lambda status, headers: answers.append(status),
        )
    )
    assert answers == ["500 Internal Server Error"]
    assert b"secret" not in body and b"internal error" in body


# ------------------------------------------------------ the site's /_harness/
def test_the_live_view_on_the_site_is_read_only_unjournaled_and_never_faulted(
    control: httpx.Client, ready: dict[str, str]
) -> None:
    site = ready["ews"].split("/EWS/")[0]
    tls = ssl.create_default_context(cafile=ready["ca_cert"])
    with httpx.Client(base_url=site, verify=tls, timeout=10) as client:
        control.post(
            "/control/faults", json={"service": "ews", "kind": "http_503", "duration": "5m"}
        )
        page = client.get("/_harness/")
        assert page.status_code == 200 and "harness serve" in page.text
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert client.get("/_HARNESS/control/status").json()["services"]["ews"] == ready["ews"]
        assert client.get("/_harness").status_code == 301
        assert (
            client.get("/_harness/static/dashboard.js")
            .headers["content-type"]
            .startswith("text/javascript")
        )
        assert client.get("/_harness/static/../serve.py").status_code == 404
        refused = client.post("/_harness/control/reset")
        assert refused.status_code == 405 and "control server" in refused.json()["error"]
        assert client.post("/EWS/Exchange.asmx", content=b"<x/>").status_code == 503
    journal = control.get("/control/journal").json()["requests"]
    assert [r["path"] for r in journal if r["service"] != "pbx"] == ["/EWS/Exchange.asmx"]
    assert control.get("/").headers["content-type"].startswith("text/html")
