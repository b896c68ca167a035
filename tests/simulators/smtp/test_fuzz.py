"""Bounded fuzz of the SMTP sink over a raw socket: any command line, any envelope,
any message bytes get an SMTP reply (or a clean close), and the sink keeps serving."""

from __future__ import annotations

import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulators.smtp import ListenerSpec, SmtpSink
from tests.fuzzing import FUZZ, NASTY_TEXT, no_tracebacks
from tests.simulators.smtp.conftest import USER1, SinkFactory

LINES = st.one_of(
    st.sampled_from(
        [
            b"EHLO x",
            b"HELO",
            b"MAIL FROM:<>",
            b"MAIL FROM:<a@b> SIZE=" + b"9" * 5000,
            b"RCPT TO:<" + USER1.encode() + b">",
            b"RCPT TO:<@@@>",
            b"AUTH PLAIN =",
            b"AUTH LOGIN",
            b"AUTH PLAIN " + b"A" * 5000,
            b"STARTTLS",
            b"DATA",
            b"BDAT 10",
            b"VRFY " + USER1.encode(),
            b"NOOP",
            b"RSET",
            b"X" * 2000,
            b"\x00\xff\xfe",
        ]
    ),
    st.sampled_from(NASTY_TEXT[:14]).map(lambda t: t.encode("utf-8", "replace")),
    st.binary(max_size=80).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
)


def _reply(sock: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\r\n"):
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk
    return data


@pytest.fixture
def sink(make_sink: SinkFactory) -> SmtpSink:
    return make_sink(ListenerSpec("plain", "plain"))


@FUZZ
@given(lines=st.lists(LINES, min_size=1, max_size=6), body=st.binary(max_size=300))
def test_any_conversation_gets_replies(
    sink: SmtpSink, caplog: pytest.LogCaptureFixture, lines: list[bytes], body: bytes
) -> None:
    with socket.create_connection(("127.0.0.1", sink.port("plain")), timeout=5) as sock:
        assert _reply(sock).startswith(b"220")
        for line in lines:
            sock.sendall(line + b"\r\n")
            answer = _reply(sock)
            if not answer:
                break  # the server may close, e.g. after 421
            assert answer[:1] in b"2345" and answer[3:4] in (b" ", b"-"), answer
            if answer.startswith(b"354"):
                sock.sendall(body.replace(b"\r\n.\r\n", b"") + b"\r\n.\r\n")
                assert _reply(sock)[:1] in b"245"
    # The sink still serves the next client.
    with socket.create_connection(("127.0.0.1", sink.port("plain")), timeout=5) as sock:
        assert _reply(sock).startswith(b"220")
        sock.sendall(b"QUIT\r\n")
        assert _reply(sock).startswith(b"221")
    no_tracebacks(caplog)
