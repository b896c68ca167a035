"""Reading and writing the extended (MAPI) properties of folders and items.

The store's half of ``mapi``: a write of a bound property (PR_SUBJECT) changes the
model field, a write of a computed one (PR_CONTENT_COUNT) is ErrorInvalidPropertySet,
anything else is kept in the object's ``extended`` bag with the type it was written
with. A write changes the item like any other change (new change key, modified time).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from simulators.exchange import mapi_props
from simulators.exchange.mapi import PropKey, coerce
from simulators.exchange.model import Folder, ItemBase, Occurrence
from simulators.exchange.store_errors import StoreError

if TYPE_CHECKING:
    from simulators.exchange.store import ExchangeStore

Target = Folder | ItemBase | Occurrence
PropertyWrite = tuple[PropKey, str, Any]  # (key, EWS property type, value)


class PropertyOperations:
    """Mixed into ``ExchangeStore``."""

    _lock: threading.RLock

    def get_property(self, obj: Target, key: PropKey, type_name: str | None = None) -> Any:
        """The value of ``key`` on ``obj``, None when it has none."""
        with self._lock:
            return mapi_props.read(self._self(), obj, key, type_name)

    def set_properties(self, obj: Target, writes: Iterable[PropertyWrite]) -> None:
        """Set properties on a folder, item or occurrence, all or none."""
        store = self._self()
        with self._lock:
            changes: dict[str, Any] = {}
            stored: dict[PropKey, tuple[str, Any]] = {}
            for key, type_name, value in writes:
                prop = self._plan(obj, key)
                if prop is None:
                    stored[key] = (type_name, value)
                else:
                    assert prop.field is not None
                    changes.update(
                        mapi_props.field_changes(obj, prop.field, coerce(prop.type, value))
                    )
            self._apply(store, obj, changes, stored, ())

    def remove_properties(self, obj: Target, keys: Iterable[PropKey]) -> None:
        """Delete properties: a bound one is emptied, a stored one forgotten."""
        store = self._self()
        with self._lock:
            changes: dict[str, Any] = {}
            gone: list[PropKey] = []
            for key in keys:
                prop = self._plan(obj, key)
                if prop is None:
                    gone.append(key)
                else:
                    assert prop.field is not None
                    empty: Any = [] if prop.type.endswith("Array") else None
                    if prop.field in ("start", "end", "all_day", "busy_number"):
                        raise StoreError(
                            "ErrorInvalidPropertyDelete", "This property cannot be deleted."
                        )
                    changes.update(mapi_props.field_changes(obj, prop.field, empty))
            self._apply(store, obj, changes, {}, gone)

    # ----------------------------------------------------------------- helpers
    def _self(self) -> ExchangeStore:
        return self  # type: ignore[return-value]

    def _plan(self, obj: Target, key: PropKey) -> mapi_props.Prop | None:
        try:
            return mapi_props.write_plan(self._self(), obj, key)
        except mapi_props.ReadOnlyProperty as exc:
            raise StoreError("ErrorInvalidPropertySet", str(exc)) from None

    @staticmethod
    def _apply(
        store: ExchangeStore,
        obj: Target,
        changes: dict[str, Any],
        stored: dict[PropKey, tuple[str, Any]],
        gone: Iterable[PropKey],
    ) -> None:
        if isinstance(obj, Folder):
            for name, value in changes.items():
                setattr(obj, name, value if value is not None else "")
            obj.extended.update(stored)
            for key in gone:
                obj.extended.pop(key, None)
            return
        bag = obj.master.extended if isinstance(obj, Occurrence) else obj.extended
        bag.update(stored)
        for key in gone:
            bag.pop(key, None)
        if changes:
            store.update_item(obj.id, **changes)
        elif stored or gone:
            item = obj.master if isinstance(obj, Occurrence) else obj
            item.modified = store.clock.now()
            item.version += 1


__all__ = ["PropertyOperations", "PropertyWrite"]
