"""``harness serve`` with the seed's account lock-out policy: a locked account unlocks
when the control API moves the served clock past the lock-out duration."""

from __future__ import annotations

import ssl

import httpx

from scenarios.commands.serve import start_serving
from scenarios.commands.served import Loaded
from scenarios.format.loader import parse_scenario

SEED = """\
name: Lock-out served
start: 2026-03-02 09:00
exchange:
  account_lockout: {threshold: 2, observation_window: 5m, duration: 10m}
users:
  - {extension: "100", name: Anna, email: user1@domain.net}
"""


def test_a_locked_account_unlocks_on_the_served_clock() -> None:
    loaded = Loaded.from_scenario(parse_scenario(SEED, "seed.yaml"), "seed.yaml")
    _served, ready, stop = start_serving(loaded)
    try:
        tls = ssl.create_default_context(cafile=ready["ca_cert"])

        def ews(password: str) -> int:
            answer = httpx.post(
                ready["ews"], content=b"<x/>", auth=("user1@domain.net", password), verify=tls
            )
            return answer.status_code

        assert ews("secret") != 401
        assert [ews("wrong"), ews("wrong")] == [401, 401]
        assert ews("secret") == 401  # locked
        moved = httpx.post(ready["control"] + "clock", json={"advance": "9m"})
        assert moved.status_code == 200, moved.text
        assert ews("secret") == 401
        httpx.post(ready["control"] + "clock", json={"advance": "1m"})
        assert ews("secret") != 401
        # A reset restores the seed: counts and lock-outs start afresh.
        assert [ews("wrong"), ews("wrong"), ews("secret")] == [401, 401, 401]
        assert httpx.post(ready["control"] + "reset").status_code == 200
        assert ews("secret") != 401
    finally:
        stop()
