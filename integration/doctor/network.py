"""Reaching a server: name resolution, a TCP connection, and its TLS certificate.

The TLS check does its own handshake with the trust the engine uses (``ca_file``,
or the system's CAs) so that it can say which of the usual faults it is: a
certificate that expired, one from a CA this machine does not trust, or one issued
for another host name.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from integration.doctor.report import Status, fail, ok

Verdict = tuple[Status, str, str]

# OpenSSL's verify codes (X509_V_ERR_*) for the three faults an admin meets.
_EXPIRED = {10}
_UNKNOWN_CA = {2, 18, 19, 20, 21}
_WRONG_NAME = {62, 64}


def endpoint(url: str) -> tuple[str, int, bool]:
    """(host, port, tls) of an http(s) URL."""
    parts = urlsplit(url)
    tls = parts.scheme == "https"
    return parts.hostname or "", parts.port or (443 if tls else 80), tls


async def resolve_and_connect(host: str, port: int, timeout: float, what: str) -> Verdict:
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout
        )
    except (OSError, TimeoutError) as exc:
        return fail(
            f"the name {host} does not resolve ({_words(exc)})",
            f"check the host name in {what}, and this machine's DNS server (nslookup {host})",
        )
    addresses = sorted({str(info[4][0]) for info in infos})
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except ConnectionRefusedError:
        return fail(
            f"{host} ({', '.join(addresses)}) refuses connections on port {port}",
            f"check the port in {what}; on the server, that the service runs and the "
            f"firewall lets port {port} through",
        )
    except (OSError, TimeoutError) as exc:
        return fail(
            f"no connection to {host} port {port} ({_words(exc)})",
            "check the network path and firewalls between the PBX and the server",
        )
    writer.close()
    return ok(f"{host} is {', '.join(addresses)}; port {port} answers")


def trust_context(verify: bool, ca_file: Path | None) -> ssl.SSLContext:
    """The certificate checks the engine makes for these settings."""
    if ca_file is not None:
        return ssl.create_default_context(cafile=str(ca_file))
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


async def check_certificate(
    host: str, port: int, verify: bool, ca_file: Path | None, timeout: float, what: str
) -> Verdict:
    """Handshake with ``host:port`` and judge its certificate as the engine would."""
    context = trust_context(verify, ca_file)
    trusted_by = f"the CA in {ca_file}" if ca_file else "this machine's trusted CAs"
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=context, server_hostname=host), timeout
        )
    except ssl.SSLCertVerificationError as exc:
        return _certificate_fault(exc, host, trusted_by, what)
    except (ssl.SSLError, OSError, TimeoutError) as exc:
        return fail(
            f"no TLS handshake with {host} port {port} ({_words(exc)})",
            f"check that {what} names the HTTPS port (https:// on a plain-HTTP port fails so)",
        )
    peer = writer.get_extra_info("peercert") or {}
    writer.close()
    if not verify and ca_file is None:
        return fail(
            "certificate not checked (verify_tls = false)",
            "set verify_tls = true and ca_file to the CA that issued the server's "
            "certificate; without checks anyone on the path can read the password",
        )
    issuer = _name(peer.get("issuer", ()))
    return ok(f"trusted ({trusted_by}), issued by {issuer or 'an unnamed CA'} for {host}")


def _certificate_fault(
    exc: ssl.SSLCertVerificationError, host: str, trusted_by: str, what: str
) -> Verdict:
    code = exc.verify_code
    if code in _EXPIRED:
        return fail(
            f"the server's certificate has expired ({exc.verify_message})",
            "renew the certificate on the Exchange server (Exchange Management Shell: "
            "New-ExchangeCertificate, then Enable-ExchangeCertificate -Services IIS)",
        )
    if code in _UNKNOWN_CA:
        return fail(
            f"the server's certificate is not from a CA trusted here ({exc.verify_message})",
            f"set ca_file in {what.split(']')[0]}] to the PEM file of the CA that issued the "
            f"server's certificate (now checked against {trusted_by})",
        )
    if code in _WRONG_NAME:
        return fail(
            f"the server's certificate is not issued for {host} ({exc.verify_message})",
            f"use in {what} the host name the certificate names, or issue a certificate "
            f"that includes {host}",
        )
    return fail(
        f"the server's certificate was refused ({exc.verify_message})",
        "check the certificate chain the server sends",
    )


def _name(pairs: object) -> str:
    try:
        found = {k: v for rdn in pairs for (k, v) in rdn}  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return ""
    return str(found.get("organizationName") or found.get("commonName") or "")


def _words(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, socket.gaierror):
        return exc.strerror or str(exc)
    return str(exc) or type(exc).__name__


def now() -> datetime:
    return datetime.now(UTC)


__all__ = ["check_certificate", "endpoint", "resolve_and_connect", "trust_context"]
