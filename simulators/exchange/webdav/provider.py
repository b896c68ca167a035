"""wsgidav resources for the Exchange store, used for PROPFIND (and OPTIONS/HEAD).

``ExchangeProvider`` maps a path below its share (/exchange or /public) to a folder,
item or scratch resource through the request's ``Locator`` (the front end puts it in
environ after authentication). Folder and item resources report Exchange properties
with ``b:dt`` datatypes (``props.value`` through ``xmlio.typed_element``) and absolute
hrefs; the mailbox root also carries the well-known folder URLs. Writes to Exchange
data (PROPPATCH, DELETE) are the front end's (``writes``), not wsgidav's.
"""

from __future__ import annotations

import io
from typing import Any

from wsgidav.dav_error import HTTP_FORBIDDEN, HTTP_NOT_FOUND, DAVError
from wsgidav.dav_provider import DAVCollection, DAVNonCollection, DAVProvider

from simulators.exchange.model import Item
from simulators.exchange.webdav.ical import item_mime
from simulators.exchange.webdav.locate import (
    FolderTarget,
    ItemTarget,
    LocateError,
    Locator,
    RootTarget,
    ScratchTarget,
)
from simulators.exchange.webdav.props import Row, known_names, value
from simulators.exchange.webdav.rows import RowBuilder
from simulators.exchange.webdav.scratch import ScratchSpace, scratch_resource
from simulators.exchange.webdav.xmlio import split_name, typed_element

LOCATOR_KEY = "harness.dav_locator"

# Live properties wsgidav computes itself (resourcetype, locks) or that we leave to it.
_WSGIDAV_NAMES = ("{DAV:}resourcetype",)


class ExchangeProvider(DAVProvider):  # type: ignore[misc]
    """Resources of one share (/exchange or /public) of the Exchange store."""

    def __init__(self, scratch: ScratchSpace) -> None:
        super().__init__()
        self.scratch = scratch

    def get_resource_inst(self, path: str, environ: dict[str, Any]) -> Any:
        locator: Locator = environ[LOCATOR_KEY]
        try:
            target = locator.resolve((self.share_path or "") + path)
        except LocateError as exc:
            if exc.status == 403:
                raise DAVError(HTTP_FORBIDDEN, exc.message) from None
            return None
        return resource_for(target, path, environ, locator, self.scratch)


def resource_for(
    target: Any, path: str, environ: dict[str, Any], locator: Locator, scratch: ScratchSpace
) -> Any:
    """The wsgidav resource of a resolved target (None for a free name)."""
    builder = RowBuilder(locator)
    if isinstance(target, RootTarget):
        return ExchangeRoot(path, environ)
    if isinstance(target, FolderTarget):
        return FolderResource(path, environ, builder, target)
    if isinstance(target, ItemTarget):
        row = builder.item_row(target.parent.href, target.item)
        return ItemResource(path, environ, row)
    if isinstance(target, ScratchTarget):
        return scratch_resource(path, environ, scratch, target.mailbox.smtp, target.rest)
    return None


class _RowProps:
    """Exchange properties of a row, on top of wsgidav's live ones."""

    row: Row

    def get_href(self) -> str:
        return self.row.href

    def prevent_locking(self) -> bool:
        return True  # Exchange data is not lockable here (only the scratch area is)

    def get_display_name(self) -> str:
        return self.row.name

    def get_property_names(self, *, is_allprop: bool) -> list[str]:
        names = [f"{{{ns}}}{local}" for ns, local in map(split_name, known_names(self.row))]
        return [*_WSGIDAV_NAMES, *names]

    def get_property_value(self, name: str) -> Any:
        if name in _WSGIDAV_NAMES:
            return super().get_property_value(name)  # type: ignore[misc]
        found = value(self.row, name)
        if found is None:
            raise DAVError(HTTP_NOT_FOUND)
        return typed_element(name, found)

    def set_property_value(self, name: str, value: Any, dry_run: bool = False) -> None:
        raise DAVError(HTTP_FORBIDDEN)


class ExchangeRoot(DAVCollection):  # type: ignore[misc]
    """``/exchange/``: mailboxes are not listed (each is reached by its address)."""

    def get_member_names(self) -> list[str]:
        return []

    def get_display_name(self) -> str:
        return "exchange"

    def get_href(self) -> str:
        return f"{self.environ[LOCATOR_KEY].base}/exchange/"

    def prevent_locking(self) -> bool:
        return True


class FolderResource(_RowProps, DAVCollection):  # type: ignore[misc]
    def __init__(
        self, path: str, environ: dict[str, Any], builder: RowBuilder, target: FolderTarget
    ) -> None:
        super().__init__(path, environ)
        self.builder = builder
        self.target = target
        self.row = builder.folder_row(target)

    def get_member_names(self) -> list[str]:
        store = self.builder.store
        names = [
            f.display_name
            for f in store.children(self.target.folder)
            if f.distinguished != "msgfolderroot"
        ]
        names.extend(self.builder.locator.names.name(i) for i in store.items_in(self.target.folder))
        return names

    def get_member_list(self) -> list[Any]:
        store = self.builder.store
        base = self.path if self.path.endswith("/") else self.path + "/"
        members: list[Any] = []
        for child in store.children(self.target.folder):
            if child.distinguished == "msgfolderroot":
                continue  # NON_IPM_SUBTREE lists what is outside the Top of Information Store
            href = self.builder.locator.folder_href(child)
            target = FolderTarget(child, self.target.mailbox, href)
            members.append(
                FolderResource(base + child.display_name, self.environ, self.builder, target)
            )
        for item in store.items_in(self.target.folder):
            row = self.builder.item_row(self.target.href, item)
            members.append(ItemResource(base + row.name, self.environ, row))
        return members

    def get_member(self, name: str) -> Any:
        base = self.path if self.path.endswith("/") else self.path + "/"
        return self.provider.get_resource_inst(base + name, self.environ)

    def get_etag(self) -> None:
        return None


class ItemResource(_RowProps, DAVNonCollection):  # type: ignore[misc]
    def __init__(self, path: str, environ: dict[str, Any], row: Row) -> None:
        super().__init__(path, environ)
        self.row = row

    @property
    def item(self) -> Item:
        assert self.row.item is not None
        return self.row.item

    def get_content_length(self) -> int:
        return len(item_mime(self.item))

    def get_content_type(self) -> str:
        return "message/rfc822"

    def get_content(self) -> Any:
        return io.BytesIO(item_mime(self.item))

    def get_etag(self) -> str:
        etag = value(self.row, "DAV:getetag")
        return str(etag).strip('"')

    def support_etag(self) -> bool:
        return True

    def get_last_modified(self) -> float:
        return self.item.modified.timestamp()


__all__ = ["LOCATOR_KEY", "ExchangeProvider", "resource_for"]
