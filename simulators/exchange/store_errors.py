"""``StoreError``: a failure of the store, with the Exchange response code that names it.

Its own module so that the store's parts (``store``, ``store_props``, ``store_mail``)
share it; import it from ``simulators.exchange.store`` as before.
"""

from __future__ import annotations


class StoreError(Exception):
    """A failure with the Exchange response code that names it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


__all__ = ["StoreError"]
