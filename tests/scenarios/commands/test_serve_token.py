"""``harness serve`` with a token: the PBX, control and mail APIs and the site's live
view refuse requests without it, the engine's configuration carries it, and the
engine's PBX client sends it (real servers on loopback, httpx)."""

from __future__ import annotations

import asyncio
import ssl
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from integration.config import load_config
from integration.pbx import HttpPbxGateway, PbxError
from scenarios.commands.serve import ServeOptions, _demo, start_serving
from scenarios.commands.servestate import ServeState

TOKEN = "token-for-the-test"


@pytest.fixture(scope="module")
def ready() -> Iterator[dict[str, str]]:
    _served, ready, stop = start_serving(_demo(), options=ServeOptions(token=TOKEN))
    try:
        yield ready
    finally:
        stop()


def test_the_ready_file_and_the_engine_config_carry_the_token(ready: dict[str, str]) -> None:
    assert ready["token"] == TOKEN
    config = load_config(ready["engine_config"])
    assert config.pbx is not None and config.pbx.token == TOKEN
    assert stat.S_IMODE(Path(ready["engine_config"]).stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "key,path", [("pbx", "api/users"), ("control", "status"), ("mail", "mailboxes")]
)
def test_every_harness_api_needs_the_token(ready: dict[str, str], key: str, path: str) -> None:
    url = ready[key] + path
    assert httpx.get(url).status_code == 401
    answer = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text


def test_the_sites_live_view_needs_it_but_exchange_does_not(ready: dict[str, str]) -> None:
    tls = ssl.create_default_context(cafile=ready["ca_cert"])
    site = ready["ews"].rsplit("/EWS/", 1)[0]
    assert httpx.get(site + "/_harness/control/status", verify=tls).status_code == 401
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.get(site + "/_harness/control/status", verify=tls, headers=auth).is_success
    # Exchange itself answers its own way (Basic), untouched by the harness's token.
    assert httpx.post(ready["ews"], content=b"<x/>", verify=tls).status_code == 401
    assert httpx.get(ready["owa"], verify=tls).status_code in (200, 302, 401, 440)


def test_the_engines_pbx_client_sends_the_token(ready: dict[str, str]) -> None:
    async def users(token: str | None) -> list[str]:
        gateway = HttpPbxGateway(ready["pbx"], token=token)
        try:
            return [u.extension for u in await gateway.users()]
        finally:
            await gateway.aclose()

    assert asyncio.run(users(TOKEN)) == ["100", "101"]
    with pytest.raises(PbxError, match="401"):
        asyncio.run(users(None))


def test_loopback_without_token_stays_open_off_loopback_one_is_made(tmp_path: Path) -> None:
    state = ServeState(tmp_path / "state")
    assert state.token(None, needed=False) is None
    made = state.token(None, needed=True)
    assert made and len(made) >= 32
    # Kept for the next start, so the engine's configuration stays valid.
    assert ServeState(tmp_path / "state").token(None, needed=True) == made
    assert ServeState(tmp_path / "state").token("given", needed=True) == "given"


def test_the_openapi_description_names_the_bearer_scheme(ready: dict[str, str]) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    spec = httpx.get(ready["control"] + "openapi.json", headers=auth).json()
    assert spec["components"]["securitySchemes"]["token"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["token"]["description"],
    }
    assert {"token": []} in spec["security"]


def test_off_loopback_a_token_is_made_up_and_required(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Served on loopback all the same (tests reach nothing else); only the decision
    # whether the address is loopback is made to answer as for a LAN address.
    import scenarios.commands.serve as serve_module

    monkeypatch.setattr(serve_module, "is_loopback", lambda host: False)
    options = ServeOptions(state_dir=str(tmp_path / "state"))
    _served, ready, stop = start_serving(_demo(), options=options)
    try:
        token = ready["token"]
        assert len(token) >= 32
        assert httpx.get(ready["pbx"] + "api/users").status_code == 401
        assert httpx.get(ready["control"] + "status").status_code == 401
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.get(ready["pbx"] + "api/users", headers=auth).status_code == 200
        config = load_config(ready["engine_config"])
        assert config.pbx is not None and config.pbx.token == token
    finally:
        stop()
    # The next start keeps it: the engine's configuration stays valid.
    _served, again, stop = start_serving(_demo(), options=options)
    try:
        assert again["token"] == token
    finally:
        stop()
