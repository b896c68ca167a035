"""The engine configuration file: defaults, and every bad file named by its key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from integration.config import (
    ConfigError,
    EngineConfig,
    load_config,
    load_config_text,
    parse_duration,
)

MINIMAL = """
[exchange]
server_url = "https://198.6.125.99/ews/exchange.asmx"
username = "OSOMX@w03ex07.net"
password = "secret"
"""

FULL = """
[exchange]
enabled = true
variant = "webdav"
server_url = "https://198.6.125.99/exchange/"
username = "OSOMX@w03ex07.net"
password = "secret"
ca_file = "ca.pem"

[polling]
interval = "1m"
lead_time = "1h30m"
catch_up = true
concurrency = 200
request_timeout = "5s"

[pbx]
url = "http://127.0.0.1:8080/"

[smtp]
server = "198.6.125.99"
port = 2525
security = "ssl"
username = "OSOMX"
password = "secret"
sender = "OSOMX@w03ex07.net"
"""


def test_minimal_file_gets_the_documented_defaults(tmp_path: Path) -> None:
    config = load_config_text(MINIMAL, tmp_path)
    assert config.exchange.enabled is True
    assert config.exchange.variant == "ews"
    assert config.exchange.server_url == "https://198.6.125.99/ews/exchange.asmx"
    assert config.exchange.username == "OSOMX@w03ex07.net"
    assert config.exchange.password == "secret"
    assert config.exchange.ca_file is None
    assert config.exchange.verify_tls is True
    assert config.polling.interval == timedelta(seconds=30)
    assert config.polling.lead_time == timedelta(minutes=3)
    assert config.polling.catch_up is False
    assert config.polling.concurrency == 50
    assert config.polling.request_timeout == timedelta(seconds=10)
    assert config.pbx is None
    assert config.smtp is None


def test_full_file_from_disk_resolves_ca_file_next_to_it(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("not checked here\n")
    path = tmp_path / "engine.toml"
    path.write_text(FULL)
    config = load_config(path)
    assert isinstance(config, EngineConfig)
    assert config.path == path
    assert config.exchange.variant == "webdav"
    assert config.exchange.ca_file == tmp_path / "ca.pem"
    assert config.polling.interval == timedelta(minutes=1)
    assert config.polling.lead_time == timedelta(hours=1, minutes=30)
    assert config.polling.catch_up is True
    assert config.polling.concurrency == 200
    assert config.polling.request_timeout == timedelta(seconds=5)
    assert config.pbx is not None and config.pbx.url == "http://127.0.0.1:8080/"
    assert config.smtp is not None
    assert (config.smtp.server, config.smtp.port, config.smtp.security) == (
        "198.6.125.99",
        2525,
        "ssl",
    )
    assert (config.smtp.username, config.smtp.sender) == ("OSOMX", "OSOMX@w03ex07.net")


def test_settings_are_frozen_and_passwords_stay_out_of_repr(tmp_path: Path) -> None:
    config = load_config_text(FULL.replace('ca_file = "ca.pem"\n', ""), tmp_path)
    with pytest.raises(AttributeError):
        config.exchange.password = "x"  # type: ignore[misc]
    assert "secret" not in repr(config)


@pytest.mark.parametrize(("security", "port"), [("none", 25), ("starttls", 587), ("ssl", 465)])
def test_smtp_port_defaults_by_security(tmp_path: Path, security: str, port: int) -> None:
    text = MINIMAL + f'[smtp]\nserver = "mx"\nsecurity = "{security}"\nsender = "a@b.c"\n'
    config = load_config_text(text, tmp_path)
    assert config.smtp is not None and config.smtp.port == port


def test_smtp_tls_and_queue_keys(tmp_path: Path) -> None:
    base = MINIMAL + '[smtp]\nserver = "mx"\nsender = "a@b.c"\n'
    default = load_config_text(base, tmp_path).smtp
    assert default is not None and default.verify_tls and default.ca_file is None
    assert default.queue_path == tmp_path / "mail-queue.sqlite3"
    assert default.timeout == timedelta(seconds=30)
    (tmp_path / "ca.pem").write_text("x")
    extra = 'ca_file = "ca.pem"\nqueue_path = "state/q.db"\ntimeout = "5s"\n'
    smtp = load_config_text(base + extra, tmp_path).smtp
    assert smtp is not None and smtp.ca_file == tmp_path / "ca.pem"
    assert (smtp.queue_path, smtp.timeout) == (tmp_path / "state/q.db", timedelta(seconds=5))


def test_disabled_exchange_needs_no_server(tmp_path: Path) -> None:
    config = load_config_text("[exchange]\nenabled = false\n", tmp_path)
    assert config.exchange.enabled is False
    assert config.exchange.server_url == ""


def test_verify_tls_may_be_switched_off(tmp_path: Path) -> None:
    config = load_config_text(MINIMAL + "verify_tls = false\n", tmp_path)
    assert config.exchange.verify_tls is False


def _replace(old: str, new: str, text: str = MINIMAL) -> str:
    assert old in text
    return text.replace(old, new)


BAD_CONFIGS: list[tuple[str, str, str]] = [
    # (case, file text, expected fragment of the message)
    ("no exchange section", "[polling]\n", "[exchange]: missing section"),
    ("unknown section", MINIMAL + "[ldap]\n", "[ldap]: unknown section"),
    (
        "unknown key with a hint",
        MINIMAL + 'sever_url = "x"\n',
        "[exchange] sever_url: unknown key (did you mean server_url?)",
    ),
    (
        "missing server_url",
        _replace('server_url = "https://198.6.125.99/ews/exchange.asmx"\n', ""),
        "[exchange] server_url: missing (required)",
    ),
    (
        "missing username",
        _replace('username = "OSOMX@w03ex07.net"\n', ""),
        "[exchange] username: missing (required)",
    ),
    (
        "missing password",
        _replace('password = "secret"\n', ""),
        "[exchange] password: missing (required)",
    ),
    (
        "server_url not a URL",
        _replace("https://198.6.125.99/ews/exchange.asmx", "198.6.125.99"),
        "[exchange] server_url: must be an http(s) URL",
    ),
    (
        "server_url ftp",
        _replace("https://", "ftp://"),
        "[exchange] server_url: must be an http(s) URL",
    ),
    (
        "server_url wrong type",
        _replace('"https://198.6.125.99/ews/exchange.asmx"', "42"),
        "[exchange] server_url: must be a string, not an integer",
    ),
    (
        "bad variant",
        MINIMAL + 'variant = "mapi"\n',
        "[exchange] variant: must be one of ews | webdav",
    ),
    (
        "enabled not a boolean",
        MINIMAL + 'enabled = "yes"\n',
        "[exchange] enabled: must be true or false, not a string",
    ),
    (
        "empty username",
        _replace('"OSOMX@w03ex07.net"', '""'),
        "[exchange] username: must not be empty",
    ),
    ("ca_file not found", MINIMAL + 'ca_file = "nope.pem"\n', "[exchange] ca_file: file not found"),
    (
        "ca_file with verification off",
        MINIMAL + 'ca_file = "ca.pem"\nverify_tls = false\n',
        "[exchange] ca_file: cannot be used with verify_tls = false",
    ),
    (
        "interval as a number",
        MINIMAL + "[polling]\ninterval = 30\n",
        "[polling] interval: must be a duration string such as '30s', not an integer",
    ),
    (
        "interval unparsable",
        MINIMAL + '[polling]\ninterval = "30 seconds"\n',
        "[polling] interval: must be a duration such as '30s'",
    ),
    (
        "interval zero",
        MINIMAL + '[polling]\ninterval = "0s"\n',
        "[polling] interval: must be at least 1s",
    ),
    (
        "interval beyond timedelta (was a traceback)",
        MINIMAL + '[polling]\ninterval = "99999999999h"\n',
        "[polling] interval: is far too long: '99999999999h'",
    ),
    (
        "interval of 5000 digits",
        MINIMAL + '[polling]\ninterval = "' + "9" * 5000 + 'h"\n',
        "[polling] interval: must be a duration such as '30s', '3m' or '1h30m', not '9999",
    ),
    (
        "ca_file name too long for the file system (was a traceback)",
        MINIMAL + 'ca_file = "' + "x" * 5000 + '"\n',
        "[exchange] ca_file: not a usable file name: File name too long",
    ),
    (
        "interval over a day",
        MINIMAL + '[polling]\ninterval = "25h"\n',
        "[polling] interval: must be at most 24h, not '25h'",
    ),
    (
        "request timeout over an hour",
        MINIMAL + '[polling]\nrequest_timeout = "2h"\n',
        "[polling] request_timeout: must be at most 1h, not '2h'",
    ),
    (
        "negative lead time",
        MINIMAL + '[polling]\nlead_time = "-1m"\n',
        "[polling] lead_time: must be at least 0s",
    ),
    (
        "catch_up not a boolean",
        MINIMAL + "[polling]\ncatch_up = 1\n",
        "[polling] catch_up: must be true or false, not an integer",
    ),
    (
        "concurrency zero",
        MINIMAL + "[polling]\nconcurrency = 0\n",
        "[polling] concurrency: must be between 1 and 10000",
    ),
    (
        "concurrency boolean",
        MINIMAL + "[polling]\nconcurrency = true\n",
        "[polling] concurrency: must be an integer, not a boolean",
    ),
    (
        "request timeout unparsable",
        MINIMAL + '[polling]\nrequest_timeout = "soon"\n',
        "[polling] request_timeout: must be a duration",
    ),
    ("pbx without url", MINIMAL + "[pbx]\n", "[pbx] url: missing (required)"),
    ("pbx url not http", MINIMAL + '[pbx]\nurl = "tcp://x"\n', "[pbx] url: must be an http(s) URL"),
    (
        "smtp bad security",
        MINIMAL + '[smtp]\nserver = "mx"\nsender = "a@b.c"\nsecurity = "tls"\n',
        "[smtp] security: must be one of none | starttls | ssl",
    ),
    (
        "smtp port out of range",
        MINIMAL + '[smtp]\nserver = "mx"\nsender = "a@b.c"\nport = 70000\n',
        "[smtp] port: must be between 1 and 65535",
    ),
    ("smtp no server", MINIMAL + '[smtp]\nsender = "a@b.c"\n', "[smtp] server: missing (required)"),
    (
        "smtp bad sender",
        MINIMAL + '[smtp]\nserver = "mx"\nsender = "OSOMX"\n',
        "[smtp] sender: must be an e-mail address",
    ),
    (
        "smtp user without password",
        MINIMAL + '[smtp]\nserver = "mx"\nsender = "a@b.c"\nusername = "u"\n',
        "[smtp] password: give both or neither",
    ),
    (
        "smtp ca_file without verification",
        MINIMAL
        + '[smtp]\nserver = "mx"\nsender = "a@b.c"\nca_file = "ca.pem"\nverify_tls = false\n',
        "[smtp] ca_file: cannot be used with verify_tls = false",
    ),
    ("a section name as a key", MINIMAL + 'pbx = "x"\n', "[exchange] pbx: unknown key"),
    ("top-level key", 'pbx = "x"\n' + MINIMAL, "pbx: must be a table ([pbx])"),
    (
        "TOML syntax error with its line",
        MINIMAL + "[polling\n",
        "config.toml: line 6, column 9: TOML syntax error",
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in BAD_CONFIGS], ids=[c[0] for c in BAD_CONFIGS]
)
def test_bad_config_is_rejected_naming_the_key(tmp_path: Path, text: str, expected: str) -> None:
    (tmp_path / "ca.pem").write_text("x")
    with pytest.raises(ConfigError) as caught:
        load_config_text(text, tmp_path)
    message = str(caught.value)
    assert expected in message
    assert all(line.startswith("config.toml: ") for line in message.splitlines())


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = '[exchange]\nvariant = "x"\n[polling]\ninterval = "x"\n'
    with pytest.raises(ConfigError) as caught:
        load_config_text(text, tmp_path)
    keys = ["variant", "server_url", "username", "password", "interval"]
    assert len(caught.value.problems) == len(keys)
    for key, problem in zip(keys, caught.value.problems, strict=True):
        assert f" {key}: " in problem


def test_messages_name_the_file_read(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text(MINIMAL + 'variant = "owa"\n')
    with pytest.raises(ConfigError, match=r"site\.toml: \[exchange\] variant: "):
        load_config(path)


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="missing.toml: cannot read"):
        load_config(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("3m", timedelta(minutes=3)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1h2m3s", timedelta(hours=1, minutes=2, seconds=3)),
        ("-40s", timedelta(seconds=-40)),
        ("0s", timedelta(0)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "30", "3m30", "1m1h", "s", "1.5m", "-", "3 m"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="must be a duration"):
        parse_duration(text)


def test_the_documented_example_loads(tmp_path: Path) -> None:
    doc = Path(__file__).parents[2] / "docs" / "engine-config.md"
    example = doc.read_text().split("```toml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "ca.pem").write_text("x")
    config = load_config_text(example, tmp_path)
    assert config.exchange.ca_file == tmp_path / "ca.pem"
    assert config.polling.concurrency == 50
    assert config.pbx is not None and config.smtp is not None
    assert config.smtp.security == "starttls" and config.smtp.port == 587


def test_health_section(tmp_path: Path) -> None:
    assert load_config_text(MINIMAL, tmp_path).health is None
    config = load_config_text(MINIMAL + '\n[health]\nlisten = "0.0.0.0:8181"\n', tmp_path)
    assert config.health is not None and (config.health.host, config.health.port) == (
        "0.0.0.0",
        8181,
    )
    default = load_config_text(MINIMAL + "\n[health]\n", tmp_path).health
    assert default is not None and (default.host, default.port) == ("127.0.0.1", 0)
    for bad in ("8181", "host:", "host:99999", ":80"):
        with pytest.raises(ConfigError) as caught:
            load_config_text(MINIMAL + f'\n[health]\nlisten = "{bad}"\n', tmp_path)
        assert caught.value.problems == [
            f"config.toml: [health] listen: must be HOST:PORT such as '127.0.0.1:8181', not {bad!r}"
        ]
