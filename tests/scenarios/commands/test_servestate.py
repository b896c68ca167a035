"""What ``harness serve --state-dir`` keeps: one CA, server certificates reissued only
for other names, ports, the token; private files; broken state as a clear error."""

from __future__ import annotations

import json
import ssl
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from scenarios.commands.servestate import ServeState, StateError, write_private


def test_the_ca_and_a_server_certificate_are_kept(tmp_path: Path) -> None:
    first = ServeState(tmp_path / "state")
    chain, key = first.server_certificate("site", ["127.0.0.1", "localhost"])
    ca = first.ca_path.read_bytes()
    again = ServeState(tmp_path / "state")
    assert again.server_certificate("site", ["127.0.0.1", "localhost"]) == (chain, key)
    assert again.ca_path.read_bytes() == ca
    # The chain verifies against the kept CA, for the names it was issued for.
    assert handshake(str(again.ca_path), chain, key, "localhost")
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(str(again.ca_path), chain, key, "elsewhere.example")


def handshake(ca: str, chain: str, key: str, name: str) -> bool:
    """A TLS handshake in memory: a client trusting ``ca`` against the server's chain."""
    client = ssl.create_default_context(cafile=ca)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(chain, key)
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    tls_client = client.wrap_bio(c_in, c_out, server_hostname=name)
    tls_server = server.wrap_bio(s_in, s_out, server_side=True)
    done = {"client": False, "server": False}
    for _ in range(10):
        for side, tls in (("client", tls_client), ("server", tls_server)):
            if not done[side]:
                try:
                    tls.do_handshake()
                    done[side] = True
                except ssl.SSLWantReadError:
                    pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if all(done.values()):
            return True
    return False


def test_other_names_get_a_new_certificate_from_the_same_ca(tmp_path: Path) -> None:
    state = ServeState(tmp_path / "state")
    chain, _key = state.server_certificate("site", ["127.0.0.1"])
    before = Path(chain).read_bytes()
    ca = state.ca_path.read_bytes()
    ServeState(tmp_path / "state").server_certificate("site", ["192.0.2.7", "127.0.0.1"])
    assert Path(chain).read_bytes() != before
    assert state.ca_path.read_bytes() == ca


def test_ports_are_remembered_and_an_asked_port_wins(tmp_path: Path) -> None:
    state = ServeState(tmp_path / "state")
    assert state.port("pbx", None) == 0
    state.remember_ports({"pbx": 8080, "site": 8443})
    again = ServeState(tmp_path / "state")
    assert again.port("pbx", None) == 8080
    assert again.port("pbx", 9090) == 9090
    assert again.port("pbx", 0) == 0  # 0 asks for a free one, whatever was kept
    assert again.port("control", None) == 0


def test_without_a_folder_nothing_is_kept(tmp_path: Path) -> None:
    state = ServeState(None)
    state.remember_ports({"pbx": 8080})
    state.ca()
    folder = state.folder
    assert (folder / "ca.pem").exists() and not (folder / "state.json").exists()
    state.close()
    assert not folder.exists()


def test_private_files_are_0600_and_the_folder_0700(tmp_path: Path) -> None:
    state = ServeState(tmp_path / "state")
    state.server_certificate("smtp", ["localhost"])
    state.token(None, needed=True)
    assert stat.S_IMODE(state.folder.stat().st_mode) == 0o700
    for name in ("ca.key", "smtp.key", "state.json"):
        assert stat.S_IMODE((state.folder / name).stat().st_mode) == 0o600, name
    target = tmp_path / "secret.toml"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o644)
    write_private(target, 'password = "x"')
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # tightened when replaced
    assert target.read_text(encoding="utf-8") == 'password = "x"'


def test_a_broken_state_file_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    (folder / "state.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(StateError, match="state.json: unreadable .*remove it to start afresh"):
        ServeState(folder)
    (folder / "state.json").write_text(json.dumps([1]), encoding="utf-8")
    with pytest.raises(StateError, match="not a JSON object"):
        ServeState(folder)


def test_a_broken_ca_is_a_clear_error(tmp_path: Path) -> None:
    state = ServeState(tmp_path / "state")
    state.ca()
    (state.folder / "ca.key").write_bytes(b"garbage")
    with pytest.raises(StateError, match="not a CA certificate and key"):
        ServeState(tmp_path / "state").ca()


def test_harness_serve_with_an_unusable_state_dir_exits_2(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "scenarios.commands.cli", "serve", "--state-dir", str(blocker)],
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2
    error = done.stderr.decode()
    assert error.startswith(f"harness serve: --state-dir {blocker}:"), error
    assert "Traceback" not in error


def test_a_ready_file_that_cannot_be_written_exits_2(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "ready.json"
    done = subprocess.run(
        [sys.executable, "-m", "scenarios.commands.cli", "serve", "--ready-file", str(target)],
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2
    error = done.stderr.decode()
    assert error.splitlines()[-1] == (
        f"harness serve: --ready-file {target}: No such file or directory"
    )
    assert "Traceback" not in error
