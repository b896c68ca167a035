"""The engine's configuration file (TOML), read once and validated whole.

Owns the file format, shaped like the PBX's admin screens ([exchange], [polling],
[pbx], [smtp]; [health] for the engine's own status page), its defaults, and the typed, frozen settings the rest of the engine
receives. Every problem in a file is reported together, one line each, naming the
file, the section and the key (``config.toml: [exchange] server_url: must be an
http(s) URL``), so a support engineer fixes the file without reading code.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar, cast
from urllib.parse import urlsplit

Variant = Literal["ews", "webdav"]
SmtpSecurity = Literal["none", "starttls", "ssl"]

VARIANTS: tuple[Variant, ...] = ("ews", "webdav")
SMTP_SECURITIES: tuple[SmtpSecurity, ...] = ("none", "starttls", "ssl")
# The port an SMTP client uses when the admin leaves it out, by security mode.
SMTP_DEFAULT_PORTS: dict[str, int] = {"none": 25, "starttls": 587, "ssl": 465}

DEFAULT_INTERVAL = timedelta(seconds=30)
DEFAULT_LEAD_TIME = timedelta(minutes=3)
DEFAULT_CONCURRENCY = 50
DEFAULT_REQUEST_TIMEOUT = timedelta(seconds=10)
DEFAULT_SMTP_TIMEOUT = timedelta(seconds=30)
DEFAULT_MAIL_QUEUE = "mail-queue.sqlite3"  # next to the configuration file
MAX_CONCURRENCY = 10_000
MAX_INTERVAL = timedelta(hours=24)  # polling interval and lead time
MAX_TIMEOUT = timedelta(hours=1)  # request and SMTP timeouts


class ConfigError(Exception):
    """A configuration file that cannot be used; ``problems`` holds one line per fault."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ExchangeConfig:
    """How the engine reaches Exchange, with the service account's credentials."""

    enabled: bool
    variant: Variant
    server_url: str
    username: str
    password: str = field(repr=False)
    ca_file: Path | None = None
    verify_tls: bool = True


@dataclass(frozen=True)
class PollingConfig:
    """When calendars are read (R2, R3, R4) and how many reads run at once."""

    interval: timedelta = DEFAULT_INTERVAL
    lead_time: timedelta = DEFAULT_LEAD_TIME
    catch_up: bool = False
    concurrency: int = DEFAULT_CONCURRENCY
    request_timeout: timedelta = DEFAULT_REQUEST_TIMEOUT


@dataclass(frozen=True)
class PbxConfig:
    """The PBX's JSON API (user directory and presence); ``token``, when the API
    asks for one, goes out as ``Authorization: Bearer``."""

    url: str
    token: str | None = None


@dataclass(frozen=True)
class SmtpConfig:
    """Outgoing mail: the server, its security and log-in, and the durable queue
    (``integration.mail``). ``queue_path`` is None only when built in code."""

    server: str
    port: int
    security: SmtpSecurity
    sender: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: Path | None = None
    verify_tls: bool = True
    queue_path: Path | None = None
    timeout: timedelta = DEFAULT_SMTP_TIMEOUT


@dataclass(frozen=True)
class HealthConfig:
    """Where the engine answers ``GET /health`` (each user's polling state)."""

    host: str = "127.0.0.1"
    port: int = 0  # 0: a free port, written to the log


@dataclass(frozen=True)
class EngineConfig:
    """Everything the engine reads from its configuration file."""

    exchange: ExchangeConfig
    polling: PollingConfig = field(default_factory=PollingConfig)
    pbx: PbxConfig | None = None  # None: the engine runs embedded, beside the PBX
    smtp: SmtpConfig | None = None
    health: HealthConfig | None = None  # None: no health endpoint
    path: Path | None = None  # the file it came from, for messages


def load_config(path: str | Path) -> EngineConfig:
    """Read and validate the TOML file at ``path``; relative file names inside it
    (``ca_file``) are taken relative to the file's folder."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: not UTF-8 text"]) from None
    config = load_config_text(text, path.resolve().parent, name=str(path))
    return _replace_path(config, path)


def load_config_text(text: str, base_dir: str | Path, *, name: str = "config.toml") -> EngineConfig:
    """Validate configuration ``text``; ``name`` prefixes every message."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{name}: {_describe_toml_error(exc)}"]) from None
    reader = _Reader(name, Path(base_dir))
    config = reader.engine(data)
    if reader.problems:
        raise ConfigError(reader.problems)
    assert config is not None
    return config


_DURATION = re.compile(r"(-)?(?:(\d{1,15})h)?(?:(\d{1,15})m)?(?:(\d{1,15})s)?")


def parse_duration(text: str) -> timedelta:
    """``30s``, ``3m``, ``1h30m``, ``-40s`` -> timedelta; ValueError otherwise."""
    match = _DURATION.fullmatch(text.strip())
    if not text.strip() or match is None or not any(match.group(2, 3, 4)):
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise ValueError(f"must be a duration such as '30s', '3m' or '1h30m', not {shown!r}")
    hours, minutes, seconds = (int(g or 0) for g in match.group(2, 3, 4))
    try:
        value = timedelta(hours=hours, minutes=minutes, seconds=seconds)
    except OverflowError:  # beyond timedelta's 999999999 days
        raise ValueError(f"is far too long: {text!r}") from None
    return -value if match.group(1) else value


def format_duration(value: timedelta) -> str:
    """The inverse of ``parse_duration`` for whole seconds (``90s`` -> ``1m30s``)."""
    total = int(value.total_seconds())
    sign, total = ("-", -total) if total < 0 else ("", total)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (seconds, "s")) if n]
    return sign + ("".join(parts) or "0s")


def _describe_toml_error(exc: tomllib.TOMLDecodeError) -> str:
    # tomllib ends its message with "(at line N, column M)"; lead with the line instead.
    message = str(exc)
    match = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if match:
        reason = message[: match.start()]
        return f"line {match.group(1)}, column {match.group(2)}: TOML syntax error: {reason}"
    return f"TOML syntax error: {message}"


def _replace_path(config: EngineConfig, path: Path) -> EngineConfig:
    return replace(config, path=path)


T = TypeVar("T")
_MISSING: Any = object()


class _Reader:
    """Walks the parsed TOML, collecting problems instead of stopping at the first."""

    def __init__(self, name: str, base_dir: Path) -> None:
        self.name = name
        self.base_dir = base_dir
        self.problems: list[str] = []

    def problem(self, section: str, key: str | None, message: str) -> None:
        where = f"[{section}] {key}" if key else f"[{section}]"
        self.problems.append(f"{self.name}: {where}: {message}")

    # -- sections ---------------------------------------------------------------------

    def engine(self, data: dict[str, Any]) -> EngineConfig | None:
        known = {"exchange", "polling", "pbx", "smtp", "health"}
        for key in data:
            if key not in known:
                self.problems.append(f"{self.name}: [{key}]: unknown section{_hint(key, known)}")
        exchange = self.section(data, "exchange", self.exchange, required=True)
        polling = self.section(data, "polling", self.polling) or PollingConfig()
        pbx = self.section(data, "pbx", self.pbx)
        smtp = self.section(data, "smtp", self.smtp)
        health = self.section(data, "health", self.health)
        if exchange is None:
            return None
        return EngineConfig(exchange=exchange, polling=polling, pbx=pbx, smtp=smtp, health=health)

    def section(
        self,
        data: dict[str, Any],
        name: str,
        build: Callable[[_Section], T],
        *,
        required: bool = False,
    ) -> T | None:
        table = data.get(name, _MISSING)
        if table is _MISSING:
            if required:
                self.problem(name, None, "missing section")
            return None
        if not isinstance(table, dict):
            self.problems.append(f"{self.name}: {name}: must be a table ([{name}])")
            return None
        section = _Section(self, name, table)
        before = len(self.problems)
        result = build(section)
        section.reject_unknown()
        return result if len(self.problems) == before else None

    def exchange(self, s: _Section) -> ExchangeConfig:
        enabled = s.boolean("enabled", True)
        variant = s.choice("variant", VARIANTS, "ews")
        # With the integration switched off the admin screen may leave the rest blank.
        required = _MISSING if enabled else ""
        server_url = s.url("server_url", required)
        username = s.string("username", required)
        password = s.string("password", required, allow_empty=True)
        verify_tls = s.boolean("verify_tls", True)
        ca_file = s.existing_file("ca_file")
        if ca_file is not None and not verify_tls:
            s.problem("ca_file", "cannot be used with verify_tls = false")
        return ExchangeConfig(
            enabled=enabled,
            variant=variant,
            server_url=server_url,
            username=username,
            password=password,
            ca_file=ca_file,
            verify_tls=verify_tls,
        )

    def polling(self, s: _Section) -> PollingConfig:
        interval = s.duration(
            "interval", DEFAULT_INTERVAL, minimum=timedelta(seconds=1), maximum=MAX_INTERVAL
        )
        lead_time = s.duration(
            "lead_time", DEFAULT_LEAD_TIME, minimum=timedelta(0), maximum=MAX_INTERVAL
        )
        catch_up = s.boolean("catch_up", False)
        concurrency = s.integer("concurrency", DEFAULT_CONCURRENCY, 1, MAX_CONCURRENCY)
        timeout = s.duration(
            "request_timeout",
            DEFAULT_REQUEST_TIMEOUT,
            minimum=timedelta(seconds=1),
            maximum=MAX_TIMEOUT,
        )
        return PollingConfig(
            interval=interval,
            lead_time=lead_time,
            catch_up=catch_up,
            concurrency=concurrency,
            request_timeout=timeout,
        )

    def pbx(self, s: _Section) -> PbxConfig:
        return PbxConfig(url=s.url("url", _MISSING), token=s.string("token", None))

    def health(self, s: _Section) -> HealthConfig:
        listen = s.string("listen", "127.0.0.1:0")
        host, sep, port = listen.rpartition(":")
        host = host.strip("[]")
        if not sep or not host or not port.isdigit() or int(port) > 65535:
            s.problem("listen", f"must be HOST:PORT such as '127.0.0.1:8181', not {listen!r}")
            return HealthConfig()
        return HealthConfig(host=host, port=int(port))

    def smtp(self, s: _Section) -> SmtpConfig:
        server = s.string("server", _MISSING)
        security = s.choice("security", SMTP_SECURITIES, "starttls")
        port = s.integer("port", SMTP_DEFAULT_PORTS.get(security, 25), 1, 65535)
        sender = s.string("sender", _MISSING)
        if sender and not re.fullmatch(r"[^@\s]+@[^@\s]+", sender):
            s.problem("sender", f"must be an e-mail address, not {sender!r}")
        username = s.string("username", None)
        password = s.string("password", None, allow_empty=True)
        if (username is None) != (password is None):
            s.problem("password" if password is None else "username", "give both or neither")
        verify_tls = s.boolean("verify_tls", True)
        ca_file = s.existing_file("ca_file")
        if ca_file is not None and not verify_tls:
            s.problem("ca_file", "cannot be used with verify_tls = false")
        queue_name = s.string("queue_path", DEFAULT_MAIL_QUEUE)
        queue_path = Path(queue_name or DEFAULT_MAIL_QUEUE).expanduser()
        if not queue_path.is_absolute():
            queue_path = self.base_dir / queue_path
        timeout = s.duration(
            "timeout", DEFAULT_SMTP_TIMEOUT, minimum=timedelta(seconds=1), maximum=MAX_TIMEOUT
        )
        return SmtpConfig(
            server=server,
            port=port,
            security=security,
            sender=sender,
            username=username,
            password=password,
            ca_file=ca_file,
            verify_tls=verify_tls,
            queue_path=queue_path,
            timeout=timeout,
        )


def _hint(key: str, known: set[str]) -> str:
    close = difflib.get_close_matches(key, sorted(known), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _toml_type(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    names.update({list: "an array", dict: "a table"})
    return names.get(type(value), type(value).__name__)


class _Section:
    """One table of the file: typed accessors that record each key they consume."""

    def __init__(self, reader: _Reader, name: str, table: dict[str, Any]) -> None:
        self.reader = reader
        self.name = name
        self.table = table
        self.used: set[str] = set()

    def problem(self, key: str, message: str) -> None:
        self.reader.problem(self.name, key, message)

    def reject_unknown(self) -> None:
        for key in self.table:
            if key not in self.used:
                self.problem(key, f"unknown key{_hint(key, self.used)}")

    def raw(self, key: str, default: Any, kind: type, kind_name: str) -> Any:
        self.used.add(key)
        value = self.table.get(key, _MISSING)
        if value is _MISSING:
            if default is _MISSING:
                self.problem(key, "missing (required)")
                return None
            return default
        # bool is an int in Python but never in TOML.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.problem(key, f"must be {kind_name}, not {_toml_type(value)}")
            return None
        return value

    def string(self, key: str, default: Any, *, allow_empty: bool = False) -> Any:
        """A string; ``default`` is returned when absent (``_MISSING``: required)."""
        value = self.raw(key, default, str, "a string")
        if value is None:  # a problem was recorded; the config will not be built
            return "" if default is _MISSING else default
        if key in self.table and not value.strip() and not allow_empty:
            self.problem(key, "must not be empty")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw(key, default, bool, "true or false")
        return default if value is None else bool(value)

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self.raw(key, default, int, "an integer")
        if value is None:
            return default
        if not low <= value <= high:
            self.problem(key, f"must be between {low} and {high}, not {value}")
        return cast(int, value)

    def choice(self, key: str, choices: tuple[T, ...], default: T) -> T:
        value = self.raw(key, default, str, "a string")
        if value is None:
            return default
        if value not in choices:
            options = " | ".join(str(c) for c in choices)
            self.problem(key, f"must be one of {options}, not {value!r}")
            return default
        return cast(T, value)

    def duration(
        self, key: str, default: timedelta, *, minimum: timedelta, maximum: timedelta
    ) -> timedelta:
        value = self.raw(key, None, str, "a duration string such as '30s'")
        if value is None:
            return default
        try:
            parsed = parse_duration(value)
        except ValueError as exc:
            self.problem(key, str(exc))
            return default
        if parsed < minimum:
            self.problem(key, f"must be at least {format_duration(minimum)}, not {value!r}")
        elif parsed > maximum:
            self.problem(key, f"must be at most {format_duration(maximum)}, not {value!r}")
        return parsed

    def url(self, key: str, default: Any) -> str:
        value = self.string(key, default)
        if isinstance(self.table.get(key), str) and value.strip():
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                self.problem(key, f"must be an http(s) URL, not {value!r}")
        return cast(str, value)

    def existing_file(self, key: str) -> Path | None:
        value = self.raw(key, None, str, "a file name")
        if not value:
            return None
        path = Path(value).expanduser()
        if not path.is_absolute():
            path = self.reader.base_dir / path
        try:
            found = path.is_file()
        except OSError as exc:  # e.g. a name longer than the file system allows
            self.problem(key, f"not a usable file name: {exc.strerror or exc}")
            return None
        if not found:
            self.problem(key, f"file not found: {path}")
            return None
        return path
