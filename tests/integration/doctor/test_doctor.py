"""``harness doctor`` against the simulators, one misconfiguration per case; each
case's output is an example in docs/doctor.md, compared here line by line (only
ports and paths may differ)."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from scenarios.commands.cli import main
from simulators.exchange.seed import ServiceAccount
from tests.conftest import CAROL, SERVICE_PASSWORD, SERVICE_USER, default_seed
from tests.integration.doctor.conftest import BadCertServer, Rig

DOCS = Path(__file__).resolve().parents[3] / "docs" / "doctor.md"
EXAMPLE = re.compile(r"<!-- doctor-example: (?P<name>[\w-]+) -->\n```text\n(?P<body>.*?)```", re.S)


def examples() -> dict[str, str]:
    return {m["name"]: m["body"] for m in EXAMPLE.finditer(DOCS.read_text(encoding="utf-8"))}


def normalised(text: str, rig: Rig) -> str:
    text = text.replace(str(rig.tmp), "TMP").replace(str(rig.ca_file), "SITE_CA")
    text = text.replace("/etc/pbx/exchange-ca.pem", "SITE_CA")  # the docs' name for it
    # What a build of the site calls itself is not the doctor's business.
    text = re.sub(r"Server: [^;\n]+", "Server: SERVER", text)
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
    text = re.sub(r"port \d+", "port PORT", text)
    return text.strip()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _reseed(rig: Rig, **account: object) -> None:
    seed = default_seed()
    seed.service_account = ServiceAccount(
        user=SERVICE_USER,
        password=SERVICE_PASSWORD,
        **account,  # type: ignore[arg-type]
    )
    rig.ews.seed(seed)


# name -> (how to misconfigure the rig, returning the config file; the exit code)
Case = Callable[[Rig, "BadCertServer | None", "Path | None"], Path]


def all_good(rig: Rig, *_: object) -> Path:
    _reseed(rig)  # every right, every mailbox
    return rig.config()


def default_seed_denies_carol(rig: Rig, *_: object) -> Path:
    return rig.config()


def name_not_found(rig: Rig, *_: object) -> Path:
    return rig.config(server_url="https://exchange.invalid/EWS/Exchange.asmx", smtp=None)


def port_refused(rig: Rig, *_: object) -> Path:
    return rig.config(server_url=f"https://127.0.0.1:{closed_port()}/EWS/Exchange.asmx", smtp=None)


def unknown_ca(rig: Rig, *_: object) -> Path:
    return rig.config(ca_file=None, smtp=None)


def wrong_name(rig: Rig, server: BadCertServer | None, ca: Path | None) -> Path:
    assert server is not None
    url = f"https://127.0.0.1:{server.port}/EWS/Exchange.asmx"
    return rig.config(server_url=url, ca_file=ca, smtp=None)


def wrong_password(rig: Rig, *_: object) -> Path:
    return rig.config(password="not-the-password", smtp=None)


def no_server_right(rig: Rig, *_: object) -> Path:
    _reseed(rig, impersonation_on_server=False)
    return rig.config(smtp=None)


def no_mailbox_right(rig: Rig, *_: object) -> Path:
    _reseed(rig, impersonation=False, impersonation_on_server=True)
    return rig.config(smtp=None)


def webdav_no_full_access(rig: Rig, *_: object) -> Path:
    _reseed(rig, full_access=False)
    return rig.config(variant="webdav", smtp=None)


def webdav_good(rig: Rig, *_: object) -> Path:
    _reseed(rig)
    return rig.config(variant="webdav", smtp=None)


def smtp_auth_refused(rig: Rig, *_: object) -> Path:
    _reseed(rig)
    return rig.config(smtp="refused")


CASES: dict[str, tuple[Case, int, tuple[str, ...]]] = {
    "all-good": (all_good, 0, ()),
    "denied-mailbox": (default_seed_denies_carol, 1, ()),
    "name-not-found": (name_not_found, 1, ()),
    "port-refused": (port_refused, 1, ()),
    "unknown-ca": (unknown_ca, 1, ()),
    "wrong-password": (wrong_password, 1, ()),
    "no-server-right": (no_server_right, 1, ()),
    "no-mailbox-right": (no_mailbox_right, 1, ("--mailbox", CAROL)),
    "webdav-good": (webdav_good, 0, ()),
    "webdav-no-full-access": (webdav_no_full_access, 1, ()),
    "smtp-auth-refused": (smtp_auth_refused, 1, ()),
}
CERT_CASES = {"wrong-name": False, "expired": True}


def test_every_case_has_a_docs_example_and_back() -> None:
    assert set(examples()) == set(CASES) | set(CERT_CASES)


def _check(
    rig: Rig,
    name: str,
    config: Path,
    code: int,
    args: tuple[str, ...],
    capsys: pytest.CaptureFixture[str],
) -> None:
    found, out = rig.run(config, *args, capsys=capsys)
    shown = "$ harness doctor --config engine.toml" + "".join(f" {a}" for a in args)
    actual = normalised(shown + "\n" + out, rig)
    expected = normalised(examples()[name], rig)
    assert actual == expected, f"docs/doctor.md example {name!r} differs:\n{actual}"
    assert found == code


@pytest.mark.parametrize("name", sorted(CASES))
def test_doctor_example(name: str, rig: Rig, capsys: pytest.CaptureFixture[str]) -> None:
    make, code, args = CASES[name]
    _check(rig, name, make(rig, None, None), code, args, capsys)


@pytest.mark.parametrize(
    ("name", "bad_cert"), [(n, e) for n, e in CERT_CASES.items()], indirect=["bad_cert"]
)
def test_doctor_certificate_example(
    name: str, bad_cert: tuple[BadCertServer, Path], rig: Rig, capsys: pytest.CaptureFixture[str]
) -> None:
    server, ca = bad_cert
    _check(rig, name, wrong_name(rig, server, ca), 1, (), capsys)


def test_a_bad_config_file_is_exit_2(rig: Rig, capsys: pytest.CaptureFixture[str]) -> None:
    path = rig.tmp / "bad.toml"
    path.write_text('[exchange]\nserver_url = "ftp://x"\n', encoding="utf-8")
    code = main(["doctor", "--config", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "bad.toml: [exchange] server_url: must be an http(s) URL, not 'ftp://x'" in err
