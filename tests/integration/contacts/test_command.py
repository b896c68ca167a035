"""``harness contacts --config FILE QUERY``: table, exit codes, clear failures."""

from __future__ import annotations

import io
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from integration.contacts import ContactHit
from integration.contacts.command import contacts_command, format_table
from tests.conftest import SERVICE_PASSWORD, SERVICE_USER, EwsServer


def write_config(
    tmp_path: Path, url: str, password: str = SERVICE_PASSWORD, extra: str = ""
) -> str:
    path = tmp_path / "engine.toml"
    path.write_text(
        "[exchange]\n"
        'variant = "ews"\n'
        f'server_url = "{url}"\n'
        f'username = "{SERVICE_USER}"\n'
        f'password = "{password}"\n' + extra,
        encoding="utf-8",
    )
    return str(path)


def command(config: str, query: str, limit: int = 50) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = contacts_command(config, query, limit, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_hits_print_a_table_and_exit_0(ews: EwsServer, tmp_path: Path) -> None:
    code, out, err = command(write_config(tmp_path, ews.url), "kunde")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["Name", "Company", "Phones", "Folder"]
    assert set(lines[1]) <= {"-", " "}
    assert lines[2].startswith(
        "Carla Customer  Kunde GmbH  business +49 30 5550; mobile +49 171 555"
    )
    assert lines[2].endswith("Customers")
    assert lines[3].startswith("Dieter Kunde    Kunde GmbH  home +49 30 777")
    assert lines[4] == "2 contacts"


def test_the_limit_is_said_when_reached(ews: EwsServer, tmp_path: Path) -> None:
    code, out, _ = command(write_config(tmp_path, ews.url), "s", limit=1)
    assert code == 0
    assert out.splitlines()[-1] == "1 contact (limit reached; narrow the query)"


def test_no_hit_exits_1(ews: EwsServer, tmp_path: Path) -> None:
    code, out, err = command(write_config(tmp_path, ews.url), "Old Contact")
    assert (code, err) == (1, "")
    assert out == "no contact in the first-level public folders matches 'Old Contact'\n"


def test_wrong_password_exits_2_saying_so(ews: EwsServer, tmp_path: Path) -> None:
    code, out, err = command(write_config(tmp_path, ews.url, password="nope"), "carla")
    assert (code, out) == (2, "")
    assert err == (
        f"harness contacts: public folder search over EWS at {ews.url} failed: "
        f"service account credentials refused for {SERVICE_USER} (HTTP 401)\n"
    )


def test_unreachable_exits_2_naming_the_url(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/EWS/Exchange.asmx"
    code, _, err = command(write_config(tmp_path, url), "carla")
    assert code == 2
    assert err.startswith(f"harness contacts: public folder search over EWS at {url} failed: ")
    assert f"cannot connect to {url}" in err


def test_bad_config_exits_2_with_the_file_section_and_key(tmp_path: Path) -> None:
    config = write_config(tmp_path, "ftp://x")
    code, out, err = command(config, "carla")
    assert (code, out) == (2, "")
    assert f"{config}: [exchange] server_url: must be an http(s) URL, not 'ftp://x'" in err


def test_missing_config_file_exits_2(tmp_path: Path) -> None:
    code, _, err = command(str(tmp_path / "absent.toml"), "carla")
    assert code == 2
    assert "absent.toml: cannot read" in err


def test_switched_off_integration_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "off.toml"
    path.write_text("[exchange]\nenabled = false\n", encoding="utf-8")
    code, _, err = command(str(path), "carla")
    assert code == 2
    assert "[exchange] enabled = false" in err


@pytest.mark.parametrize(("query", "message"), [("", "must not be empty"), ("a\x00", "control")])
def test_unusable_query_exits_2(ews: EwsServer, tmp_path: Path, query: str, message: str) -> None:
    code, _, err = command(write_config(tmp_path, ews.url), query)
    assert code == 2
    assert err.startswith("harness contacts: ") and message in err
    assert ews.site.journal.count(service="ews") == 0


def test_names_cannot_smuggle_terminal_escapes() -> None:
    table = format_table([ContactHit("Evil\x1b[2J", company="Co\rX", folder="F\n")])
    assert "\x1b" not in table and "\r" not in table
    assert table.splitlines()[2].split() == ["Evil?[2J", "Co?X", "F?"]


def test_the_harness_command_line(ews: EwsServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, ews.url)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "scenarios.commands.cli",
            "contacts",
            "--config",
            config,
            "SUPPLIER",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Sam Supplier" in done.stdout and "Suppliers" in done.stdout
    assert done.stderr == ""
    none = subprocess.run(
        [sys.executable, "-m", "scenarios.commands.cli", "contacts", "--config", config, "zzz"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert none.returncode == 1
