"""What ``harness serve`` keeps from one start to the next: CA, keys, ports, token.

A real Exchange restarts with the same certificate on the same addresses, so a
running engine simply reconnects. ``ServeState`` gives ``harness serve`` that: with
a folder (``--state-dir``) the CA, the server certificates and their keys, the ports
picked at the first start and the API token are written there and read back on the
next start; without one everything lives in a temporary folder removed at stop.

Files (keys and ``state.json`` mode 0600, the folder 0700):
``ca.pem``/``ca.key`` the CA, ``NAME.pem``/``NAME.key`` a server's chain and key
(reissued only when the names it must carry change), ``state.json`` the ports and
the token, ``engine.toml`` the engine configuration (written by ``serve``),
``pbx.json`` the PBX's presence (``scenarios.commands.pbxstate``), ``store.pickle``
the Exchange store (``scenarios.commands.storestate``).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import trustme

CA_ORGANIZATION = "Exchange harness test CA"
PRIVATE = 0o600


class StateError(Exception):
    """The state folder cannot be used (unreadable, not a folder, a broken file)."""


def write_private(path: Path, data: bytes | str) -> None:
    """Write ``path`` readable by its owner only (it holds a key or a password),
    replacing it in one step so a reader never sees half a file."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(handle, PRIVATE)
        with os.fdopen(handle, "wb") as out:
            out.write(raw)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def move_aside(path: Path) -> str:
    """Rename a kept file that cannot be used to ``NAME.bad-TIME`` (for whoever wants
    to look at it); says where it went, for a log line."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.bad-{stamp}")
    try:
        path.replace(aside)
    except OSError as exc:
        return f"could not be moved aside ({exc.strerror or exc})"
    return f"moved aside to {aside.name}"


def private_to_me(path: Path) -> bool:
    """Whether ``path`` and its folder belong to this user and no one else may write
    them (a kept file that runs code when read must be one)."""
    try:
        for where in (path, path.parent):
            info = where.stat()
            if info.st_uid != os.geteuid() or info.st_mode & 0o022:
                return False
    except OSError:
        return False
    return True


class SaveTrouble:
    """A keeper's saves failing (a full disk): said once when they start failing and
    once when a save works again, not at every round."""

    def __init__(self, log: logging.Logger, path: Path, what: str, again: str) -> None:
        self.log, self.path, self.what, self.again = log, path, what, again
        self.failing = False

    def failed(self, exc: BaseException) -> None:
        if not self.failing:
            reason = getattr(exc, "strerror", None) or exc
            self.log.warning("%s: cannot save %s: %s", self.path, self.what, reason)
        self.failing = True

    def saved(self) -> None:
        if self.failing:
            self.log.info("%s: %s", self.path, self.again)
        self.failing = False


class ServeState:
    """The folder of one ``harness serve`` (kept when given, temporary otherwise)."""

    def __init__(self, folder: str | Path | None) -> None:
        self.kept = folder is not None
        if folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix="harness-serve-"))
        else:
            self.folder = Path(folder)
            try:
                self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError as exc:
                raise StateError(f"--state-dir {folder}: {exc.strerror or exc}") from None
            if not os.access(self.folder, os.W_OK):
                raise StateError(f"--state-dir {folder}: not writable")
        self._data = self._read()
        self._ca: trustme.CA | None = None

    # ------------------------------------------------------------ the CA and keys
    @property
    def ca_path(self) -> Path:
        return self.folder / "ca.pem"

    def ca(self) -> trustme.CA:
        """The CA every served certificate comes from: the kept one, or a new one."""
        if self._ca is not None:
            return self._ca
        cert, key = self.ca_path, self.folder / "ca.key"
        if cert.exists() and key.exists():
            try:
                self._ca = trustme.CA.from_pem(cert.read_bytes(), key.read_bytes())
            except (OSError, ValueError) as exc:
                raise StateError(f"{cert}: not a CA certificate and key ({exc})") from None
        else:
            self._ca = trustme.CA(organization_name=CA_ORGANIZATION)
            write_private(key, self._ca.private_key_pem.bytes())
            self._ca.cert_pem.write_to_path(str(cert))
        return self._ca

    def server_certificate(self, name: str, identities: Sequence[str]) -> tuple[str, str]:
        """(chain PEM path, key PEM path) of the server ``name`` for ``identities``;
        the kept one when it was issued for the same names by the same CA."""
        chain, key = self.folder / f"{name}.pem", self.folder / f"{name}.key"
        issued = self._data.setdefault("certificates", {})
        ca = self.ca()
        if chain.exists() and key.exists() and issued.get(name) == list(identities):
            return str(chain), str(key)
        leaf = ca.issue_cert(*identities)
        write_private(key, leaf.private_key_pem.bytes())
        chain.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
        issued[name] = list(identities)
        self._save()
        return str(chain), str(key)

    @property
    def store_path(self) -> Path:
        """Where the Exchange store is kept (``scenarios.commands.storestate``)."""
        return self.folder / "store.pickle"

    @property
    def pbx_path(self) -> Path:
        """Where the PBX's presence is kept (``scenarios.commands.pbxstate``)."""
        return self.folder / "pbx.json"

    # ------------------------------------------------------------ ports and token
    def port(self, service: str, asked: int | None) -> int:
        """The port to bind ``service`` on: the one asked for, else the one of the last
        start (kept state only), else 0 (a free one)."""
        if asked is not None:
            return asked
        return int(self._data.get("ports", {}).get(service, 0))

    def remember_ports(self, ports: dict[str, int]) -> None:
        if self.kept:
            self._data["ports"] = dict(ports)
            self._save()

    def token(self, asked: str | None, needed: bool) -> str | None:
        """The API token: the one asked for, the kept one, a new one when ``needed``."""
        if asked:
            token: str | None = asked
        else:
            token = self._data.get("token") or (secrets.token_urlsafe(24) if needed else None)
        if token != self._data.get("token"):
            self._data["token"] = token
            self._save()
        return token

    # ------------------------------------------------------------ the file
    def _read(self) -> dict[str, Any]:
        path = self.folder / "state.json"
        if not path.exists():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StateError(f"{path}: unreadable ({exc}); remove it to start afresh") from None
        if not isinstance(data, dict):
            raise StateError(f"{path}: not a JSON object; remove it to start afresh")
        return data

    def _save(self) -> None:
        if self.kept:
            write_private(self.folder / "state.json", json.dumps(self._data, indent=1))

    def close(self) -> None:
        """Remove a temporary folder; a kept one stays for the next start."""
        if not self.kept:
            shutil.rmtree(self.folder, ignore_errors=True)


__all__ = ["ServeState", "StateError", "move_aside", "private_to_me", "write_private"]
