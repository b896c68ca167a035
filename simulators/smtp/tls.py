"""TLS material for the SMTP sink: a server certificate issued by a trustme CA.

One CA can serve the whole fake site (pass the site's ``trustme.CA``, so a client
that trusts the IIS site also trusts the SMTP server); without one the sink
makes its own. The CA certificate is written to a PEM file because external
clients (swaks, the engine) verify against a file, not an object.
"""

from __future__ import annotations

import shutil
import ssl
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import trustme

LOCAL_NAMES = ("127.0.0.1", "::1", "localhost")
_WILDCARD_HOSTS = ("", "0.0.0.0", "::")


@dataclass
class TlsMaterial:
    """A CA, the PEM file holding its certificate, and the server's SSL context."""

    ca: trustme.CA
    ca_cert_pem: str
    server_context: ssl.SSLContext
    _tmpdir: str | None = field(default=None, repr=False)

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this CA and checks host names."""
        # A bare client context (verification and host names on by default), not
        # create_default_context: that loads the system CA store, ~60 ms each time.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.ca.configure_trust(context)
        return context

    def cleanup(self) -> None:
        """Remove the PEM file written for external clients."""
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None


def certificate_names(host: str, server_name: str) -> list[str]:
    """Subject alternative names: the bound host, the banner name, and loopback."""
    names = [server_name] if server_name else []
    if host not in _WILDCARD_HOSTS and host not in names:
        names.append(host)
    names.extend(n for n in LOCAL_NAMES if n not in names)
    return names


def make_tls_material(
    names: Sequence[str],
    ca: trustme.CA | None = None,
    certificate: tuple[str, str] | None = None,
) -> TlsMaterial:
    """Issue a server certificate for ``names`` from ``ca`` (a fresh CA when None),
    or serve ``certificate`` (chain PEM, key PEM paths) that ``ca`` issued."""
    authority = ca or trustme.CA(organization_name="Exchange harness SMTP test CA")
    # A server context does not ask for client certificates (CERT_NONE), which is
    # what aiosmtpd expects of a tls_context.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if certificate is not None and ca is not None:
        context.load_cert_chain(*certificate)
    else:
        authority.issue_cert(*names).configure_cert(context)
    tmpdir = tempfile.mkdtemp(prefix="harness-smtp-")
    ca_path = str(Path(tmpdir, "ca.pem"))
    authority.cert_pem.write_to_path(ca_path)
    return TlsMaterial(ca=authority, ca_cert_pem=ca_path, server_context=context, _tmpdir=tmpdir)


__all__ = ["TlsMaterial", "certificate_names", "make_tls_material"]
