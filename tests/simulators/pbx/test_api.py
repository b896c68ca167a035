"""The HTTP JSON API over a real socket with a real client (httpx)."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest

from simulators.pbx import Pbx
from simulators.pbx.server import PbxServer

from .conftest import ManualClock


@pytest.fixture
def server(pbx: Pbx) -> Iterator[PbxServer]:
    with PbxServer(pbx, port=0) as running:
        yield running


@pytest.fixture
def client(server: PbxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=5) as http:
        yield http


def test_server_listens_on_a_free_loopback_port_and_stops(pbx: Pbx) -> None:
    server = PbxServer(pbx).start()
    host, port = server.address
    assert host == "127.0.0.1" and port > 0
    assert httpx.get(f"{server.url}api/system").status_code == 200
    server.stop()
    server.stop()  # twice is harmless
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{server.url}api/system", timeout=2)


def test_system_settings(client: httpx.Client) -> None:
    body = client.get("/api/system").json()
    assert body == {
        "calendar_integration": True,
        "timezone": "Europe/Berlin",
        "now": "2026-01-05T11:50:00+01:00",
    }


def test_users_list_everything_the_engine_needs(client: httpx.Client) -> None:
    users = client.get("/api/users").json()["users"]
    assert [u["extension"] for u in users] == ["100", "101"]
    assert users[1] == {
        "extension": "101",
        "name": "Grete Müller",
        "email": "Grete.Mueller@Domain.net",
        "language": "de",
        "auto_back_to_office": False,
        "calendar_integration": True,
        "mobile": "+4917012345678",
        "forward_to_mobile": ["sick"],
    }
    assert client.get("/api/users/100/").json()["name"] == "User Test"  # trailing slash


def test_set_and_get_presence_as_the_engine_does(
    client: httpx.Client, pbx: Pbx, clock: ManualClock
) -> None:
    body = {
        "status": "lunch",
        "return_time": "2026-01-05T12:00:00Z",
        "set_by": "exchange",
        "reason": "appointment 'Lunch' started",
    }
    answer = client.put("/api/users/100/presence", json=body)
    assert answer.status_code == 200
    assert answer.json() == {
        "extension": "100",
        "status": "lunch",
        "return_time": "2026-01-05T13:00:00+01:00",
        "set_by": "exchange",
        "since": "2026-01-05T11:50:00+01:00",
        "extensions": 0,
    }
    clock.advance(minutes=70)  # 13:00 Berlin: return time reached once
    presence = client.get("/api/users/100/presence").json()
    assert (presence["return_time"], presence["set_by"], presence["extensions"]) == (
        "2026-01-05T13:15:00+01:00",
        "exchange",
        1,
    )
    assert pbx.journal("100")[0].reason == "appointment 'Lunch' started"
    everyone = client.get("/api/presence").json()["presence"]
    assert [(p["extension"], p["status"]) for p in everyone] == [
        ("100", "lunch"),
        ("101", "office"),
    ]


def test_manual_change_defaults_to_the_client(client: httpx.Client) -> None:
    answer = client.put("/api/users/101/presence", json={"status": "office"})
    assert answer.json()["set_by"] == "client"


def test_journal_over_http(client: httpx.Client, clock: ManualClock) -> None:
    client.put(
        "/api/users/100/presence",
        json={
            "status": "meeting",
            "return_time": "2026-01-05T12:00:00+01:00",
            "set_by": "exchange",
        },
    )
    clock.advance(minutes=20)
    journal = client.get("/api/journal", params={"user": "100"}).json()["journal"]
    assert [(e["cause"], e["at"], e["set_by"], e["transition"]) for e in journal] == [
        ("set", "2026-01-05T11:50:00+01:00", "exchange", True),
        ("extension", "2026-01-05T12:00:00+01:00", "pbx", False),
    ]
    assert journal[1]["return_time"] == "2026-01-05T12:15:00+01:00"
    only = client.get("/api/journal", params={"transitions_only": "true"}).json()["journal"]
    assert [e["new_status"] for e in only] == ["meeting"]
    since = client.get("/api/journal", params={"since": "2026-01-05T11:00:00Z"}).json()
    assert [e["cause"] for e in since["journal"]] == ["extension"]


def test_calls_and_voicemail_over_http(client: httpx.Client) -> None:
    client.put(
        "/api/users/101/presence",
        json={"status": "vacation", "return_time": "2026-01-12T08:00:00+01:00"},
    )
    answer = client.post("/api/calls", json={"to": "101", "from": "+49305550"})
    assert answer.status_code == 200
    call = answer.json()
    assert call["routed_to"] == "voicemail" and call["voicemail_id"] == 1
    assert call["announcement"].startswith("Grete Müller ist bis zum 12. Januar um 8:00 Uhr")
    messages = client.get("/api/voicemails", params={"user": "101"}).json()["voicemails"]
    assert [(m["id"], m["from"]) for m in messages] == [(1, "+49305550")]
    audio = client.get(messages[0]["audio_url"])
    assert audio.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(audio.content), "rb") as wav:
        assert wav.getnframes() == 3 * 8000
    assert client.post("/api/calls", json={"to": "100", "from": "101"}).json()["routed_to"] == (
        "extension"
    )
    assert [c["to"] for c in client.get("/api/calls").json()["calls"]] == ["101", "100"]


JSON = {"Content-Type": "application/json"}

BAD_REQUESTS: list[tuple[str, str, str, dict[str, str], object, int, str | None]] = [
    # (name, method, path, headers, body, status, field)
    ("unknown path", "GET", "/api/nothing", {}, None, 404, None),
    ("unknown extension", "GET", "/api/users/999", {}, None, 404, "extension"),
    ("unknown extension presence", "GET", "/api/users/999/presence", {}, None, 404, "extension"),
    ("put to unknown", "PUT", "/api/users/999/presence", JSON, b'{"status":"office"}', 404, "extension"),
    ("wrong method", "DELETE", "/api/users/100", {}, None, 405, None),
    ("post to users", "POST", "/api/users", JSON, b"{}", 405, None),
    ("not json type", "PUT", "/api/users/100/presence", {"Content-Type": "text/plain"}, b"status=lunch", 415, "body"),
    ("no content type", "PUT", "/api/users/100/presence", {}, b'{"status":"lunch"}', 415, "body"),
    ("broken json", "PUT", "/api/users/100/presence", JSON, b'{"status":', 400, "body"),
    ("not utf-8", "PUT", "/api/users/100/presence", JSON, b'{"status":"\xff"}', 400, "body"),
    ("array body", "PUT", "/api/users/100/presence", JSON, b'["lunch"]', 400, "body"),
    ("NaN", "POST", "/api/calls", JSON, b'{"to":"100","from":"1","message_seconds":NaN}', 400, "body"),
    ("empty body", "PUT", "/api/users/100/presence", JSON, b"", 400, "body"),
    ("missing status", "PUT", "/api/users/100/presence", JSON, b"{}", 400, "status"),
    ("unknown status", "PUT", "/api/users/100/presence", JSON, b'{"status":"away"}', 400, "status"),
    ("status not a string", "PUT", "/api/users/100/presence", JSON, b'{"status":1}', 400, "status"),
    ("unknown field", "PUT", "/api/users/100/presence", JSON, b'{"status":"lunch","until":"x"}', 400, "until"),
    ("naive return time", "PUT", "/api/users/100/presence", JSON, b'{"status":"lunch","return_time":"2026-01-05T13:00:00"}', 400, "return_time"),
    ("garbage return time", "PUT", "/api/users/100/presence", JSON, b'{"status":"lunch","return_time":"soon"}', 400, "return_time"),
    ("numeric return time", "PUT", "/api/users/100/presence", JSON, b'{"status":"lunch","return_time":13}', 400, "return_time"),
    ("office with return", "PUT", "/api/users/100/presence", JSON, b'{"status":"office","return_time":"2026-01-05T13:00:00Z"}', 400, "return_time"),
    ("set_by not a string", "PUT", "/api/users/100/presence", JSON, b'{"status":"lunch","set_by":false}', 400, "set_by"),
    ("empty set_by", "PUT", "/api/users/100/presence", JSON, b'{"status":"lunch","set_by":""}', 400, "set_by"),
    ("reason not a string", "PUT", "/api/users/100/presence", JSON, b'{"status":"lunch","reason":[]}', 400, "reason"),
    ("call without to", "POST", "/api/calls", JSON, b'{"from":"200"}', 400, "to"),
    ("call without from", "POST", "/api/calls", JSON, b'{"to":"100"}', 400, "from"),
    ("call empty from", "POST", "/api/calls", JSON, b'{"to":"100","from":" "}', 400, "from"),
    ("call to unknown", "POST", "/api/calls", JSON, b'{"to":"999","from":"200"}', 404, "to"),
    ("call bad length", "POST", "/api/calls", JSON, b'{"to":"100","from":"2","message_seconds":"3"}', 400, "message_seconds"),
    ("call unknown field", "POST", "/api/calls", JSON, b'{"to":"100","from":"2","via":"x"}', 400, "via"),
    ("journal unknown user", "GET", "/api/journal?user=999", {}, None, 404, "user"),
    ("journal naive since", "GET", "/api/journal?since=2026-01-05T10:00", {}, None, 400, "since"),
    ("journal bad flag", "GET", "/api/journal?transitions_only=maybe", {}, None, 400, "transitions_only"),
    ("journal unknown param", "GET", "/api/journal?who=100", {}, None, 400, "who"),
    ("journal repeated param", "GET", "/api/journal?user=100&user=101", {}, None, 400, "user"),
    ("voicemails unknown user", "GET", "/api/voicemails?user=999", {}, None, 404, "user"),
    ("unknown voicemail", "GET", "/api/voicemails/7/audio", {}, None, 404, "id"),
    ("non-numeric voicemail", "GET", "/api/voicemails/x/audio", {}, None, 404, "id"),
    ("query on users", "GET", "/api/users?all=1", {}, None, 400, "all"),
    ("body too large", "PUT", "/api/users/100/presence", JSON, b'{"reason":"' + b"x" * 70000 + b'"}', 413, "body"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "status", "field"),
    [case[1:] for case in BAD_REQUESTS],
    ids=[case[0] for case in BAD_REQUESTS],
)
def test_bad_requests_get_a_json_error(
    client: httpx.Client,
    pbx: Pbx,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes | None,
    status: int,
    field: str | None,
) -> None:
    answer = client.request(method, path, headers=headers, content=body)
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("application/json")
    error = answer.json()
    assert error["field"] == field
    assert isinstance(error["error"], str) and "Traceback" not in error["error"]
    if status == 405:
        assert answer.headers["allow"]
    assert pbx.journal() == [] and pbx.calls() == []  # nothing changed


def test_a_bug_answers_500_without_a_traceback(
    client: httpx.Client, pbx: Pbx, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode() -> list[object]:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(pbx, "users", explode)
    answer = client.get("/api/users")
    assert answer.status_code == 500
    assert answer.json() == {"error": "internal error", "field": None}


def test_times_in_any_offset_are_accepted(client: httpx.Client, pbx: Pbx) -> None:
    client.put(
        "/api/users/100/presence",
        json={"status": "break", "return_time": "2026-01-05T06:30:00-05:00"},
    )
    presence = pbx.presence("100")
    assert presence.return_time == datetime.fromisoformat("2026-01-05T11:30:00+00:00")
