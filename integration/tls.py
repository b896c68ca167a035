"""TLS for the engine's pooled connections, done over a plain asyncio transport.

asyncio's own TLS transport gives every connection a 256 KiB read buffer (written
through on creation, so resident): the engine's pool of 50 connections to Exchange
then holds 12.5 MiB of buffers, most of the engine's memory at 1,000 mailboxes. A
``TlsSession`` is the same TLS (``ssl.SSLObject`` over two ``ssl.MemoryBIO``, the
context, certificate checks and host name checks of the pool's ``SSLContext``)
with no buffer of its own: decrypted data goes straight to the connection's.

The connection feeds it what the socket received and writes what it returns; it
never touches the socket itself, so it owns no state but OpenSSL's.
"""

from __future__ import annotations

import contextlib
import ssl

_RECORD = 16 * 1024  # a TLS record's largest plaintext: one read's size


class TlsSession:
    """One client-side TLS session: handshake, then encrypt and decrypt."""

    def __init__(self, context: ssl.SSLContext, server_hostname: str) -> None:
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = context.wrap_bio(
            self._incoming, self._outgoing, server_side=False, server_hostname=server_hostname
        )
        self.established = False
        self.peer_closed = False  # the server sent close_notify

    def handshake(self, received: bytes = b"") -> bytes:
        """Go on with the handshake on ``received``; the bytes to send. Raises
        ``ssl.SSLError`` (``ssl.SSLCertVerificationError`` for a bad certificate)."""
        if received:
            self._incoming.write(received)
        try:
            self._tls.do_handshake()
            self.established = True
        except ssl.SSLWantReadError:
            pass
        return self._outgoing.read()

    def decrypt(self, received: bytes) -> tuple[bytes, bytes]:
        """(plaintext, bytes to send) from ``received``; what to send is rare (a key
        update's answer). Raises ``ssl.SSLError`` on a broken record."""
        self._incoming.write(received)
        parts: list[bytes] = []
        while True:
            try:
                chunk = self._tls.read(_RECORD)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:
                self.peer_closed = True
                break
            if not chunk:
                self.peer_closed = True
                break
            parts.append(chunk)
        plaintext = parts[0] if len(parts) == 1 else b"".join(parts)
        return plaintext, self._outgoing.read()

    def encrypt(self, plaintext: bytes) -> bytes:
        """The records that carry ``plaintext``."""
        self._tls.write(plaintext)
        return self._outgoing.read()

    def close_notify(self) -> bytes:
        """The alert that ends the session cleanly (empty if it cannot be made)."""
        # The server's own close_notify is not awaited: the socket closes next.
        with contextlib.suppress(ssl.SSLError, ValueError):
            self._tls.unwrap()
        return self._outgoing.read()


__all__ = ["TlsSession"]
