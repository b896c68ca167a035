"""How the site answers on the wire, as IIS 7 does: ``Server: Microsoft-IIS/7.0`` and
``X-Powered-By: ASP.NET`` on every answer, IIS error pages (never wsgidav's, which
name wsgidav, its version and the exception), and a small answer (status line,
headers and body) in one send: over TLS, one record."""

from __future__ import annotations

import socket
import ssl
import time

import pytest

from tests.conftest import ALICE, EwsServer


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/EWS/Exchange.asmx"),
        ("PROPFIND", "/exchange/alice/"),
        ("GET", "/owa/"),
        ("GET", "/public/"),
        ("GET", "/nowhere"),
    ],
)
def test_every_answer_names_iis(ews: EwsServer, method: str, path: str) -> None:
    for auth in (None, ("OSOMX@w03ex07.net", "secret")):
        response = ews.post(b"<x/>", method=method, path=path, auth=auth)
        assert response.headers["server"] == "Microsoft-IIS/7.0"
        assert response.headers["x-powered-by"] == "ASP.NET"


def test_webdav_errors_are_iis_pages(ews: EwsServer) -> None:
    missing = ews.post(b"", method="PROPFIND", path=f"/exchange/{ALICE}/scratch/none/x")
    assert missing.status_code == 404
    assert "404 - File or directory not found." in missing.text
    assert "wsgidav" not in missing.text.lower() and "Traceback" not in missing.text
    refused = ews.post(b"", method="PROPPATCH", path=f"/exchange/{ALICE}/scratch/none/x")
    assert "wsgidav" not in refused.text.lower() and refused.status_code >= 400


def test_a_small_answer_is_one_tls_record(ews_tls: EwsServer) -> None:
    site = ews_tls.site
    context = ssl.create_default_context(cafile=site.ca_cert_pem)
    raw = socket.create_connection((site.host, site.port), timeout=10)
    with context.wrap_socket(raw, server_hostname=site.host) as tls:
        tls.sendall(
            f"GET /EWS/Exchange.asmx HTTP/1.1\r\nHost: {site.host}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        time.sleep(0.3)  # let everything the server sends arrive
        first = tls.recv(65536)  # one call returns at most one TLS record's data
    head, _, body = first.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 401")
    length = int(
        next(
            v
            for k, _, v in (h.partition(b": ") for h in head.split(b"\r\n"))
            if k.lower() == b"content-length"
        )
    )
    assert len(body) == length > 0


HOSTILE_HOSTS = ('evil", Basic realm="elsewhere', "a b", 'x\\"y:80', "")


@pytest.mark.parametrize("path", ["/EWS/Exchange.asmx", f"/exchange/{ALICE}/", "/public/"])
@pytest.mark.parametrize("host", HOSTILE_HOSTS)
def test_a_hostile_host_header_cannot_shape_the_realm(ews: EwsServer, path: str, host: str) -> None:
    port = ews.site.port
    request = (
        f"PROPFIND {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n"
        "Connection: close\r\n\r\n"
    ).encode("latin-1")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(request)
        answer = b""
        while chunk := raw.recv(65536):
            answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    assert head.startswith("HTTP/1.1 401"), head
    challenges = [line for line in head.split("\r\n") if line.lower().startswith("www-auth")]
    # One challenge, the realm the server's own name: nothing of the Host header.
    assert challenges == ['WWW-Authenticate: Basic realm="127.0.0.1"'], head


def test_the_realm_is_the_host_asked_for(ews: EwsServer) -> None:
    answer = ews.post(b"<x/>", auth=None, headers={"Host": "mail.w03ex07.net:8443"})
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == 'Basic realm="mail.w03ex07.net"'


def test_a_bug_inside_webdav_is_iis_500_without_internals(
    ews: EwsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simulators.exchange.webdav.provider import ExchangeProvider

    def broken(self: object, path: str, environ: object) -> object:
        raise RuntimeError("secret-internal-detail at /srv/store.py")

    monkeypatch.setattr(ExchangeProvider, "get_resource_inst", broken)
    answer = ews.post(b"", method="PROPFIND", path=f"/exchange/{ALICE}/")
    assert answer.status_code == 500
    assert "500 - Internal server error." in answer.text
    for leak in ("secret-internal-detail", "RuntimeError", "wsgidav", "Traceback", ".py"):
        assert leak not in answer.text, leak
    assert answer.headers["server"] == "Microsoft-IIS/7.0"
