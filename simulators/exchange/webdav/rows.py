"""The rows a PROPFIND or SEARCH reports, built from locator targets.

A folder row of a mailbox's Top of Information Store also carries the well-known
folder URLs (``urn:schemas:httpmail:calendar`` and siblings, absolute, no trailing
slash) by which clients find localised folders. ``scope_rows`` lists what one SEARCH
scope covers: shallow (the folder's items and subfolders), deep (everything below)
or hierarchical (subfolders at every level); with a time window, each recurring series
also yields instance rows (occurrences 2, exceptions 3) overlapping the window.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from simulators.exchange.model import CalendarItem, Folder, Item, Occurrence
from simulators.exchange.webdav.locate import (
    NON_IPM_SUBTREE,
    SUBMISSION,
    FolderTarget,
    Locator,
    quote_segment,
)
from simulators.exchange.webdav.props import MAILBOX_FOLDER_PROPS, Row

Window = tuple[datetime, datetime]  # (dtend lower bound, dtstart upper bound)


class RowBuilder:
    """Rows for one request (one locator: one caller, one base URL)."""

    def __init__(self, locator: Locator) -> None:
        self.locator = locator
        self.store = locator.store

    def folder_row(self, target: FolderTarget) -> Row:
        folder = target.folder
        name = NON_IPM_SUBTREE if folder.distinguished == "root" else folder.display_name
        row = Row(href=target.href, name=name, folder=folder, is_folder=True, store=self.store)
        if folder.distinguished == "msgfolderroot" and target.mailbox is not None:
            for prop, dist in MAILBOX_FOLDER_PROPS.items():
                folder_id = target.mailbox.folders.get(dist)
                if folder_id is not None:
                    href = self.locator.folder_href(self.store.folders[folder_id])
                    row.folder_urls[prop] = href.rstrip("/")
            # Exchange's submission URI, with a trailing slash (MS-XWDCAL 4.2.2).
            row.folder_urls["sendmsg"] = target.href + quote_segment(SUBMISSION) + "/"
        versions = ",".join(f"{i.id}:{i.version}" for i in self.store.items_in(folder))
        row._cache["contenttag"] = hashlib.sha1(versions.encode()).hexdigest()[:16]
        return row

    def item_row(self, folder_href: str, item: Item, occurrence: Occurrence | None = None) -> Row:
        names = self.locator.names
        name = names.name(item)
        return Row(
            href=folder_href + quote_segment(name),
            name=name,
            folder=self.store.folders[item.folder_id],
            item=item,
            occurrence=occurrence,
            article=names.article(item),
            store=self.store,
        )

    def scope_rows(self, target: FolderTarget, traversal: str, window: Window | None) -> list[Row]:
        """Rows under ``target`` for one SEARCH scope (the folder itself excluded)."""
        rows: list[Row] = []
        self._collect(
            target.folder, target.href, target.mailbox is not None, traversal, window, rows
        )
        return rows

    def _collect(
        self,
        folder: Folder,
        href: str,
        in_mailbox: bool,
        traversal: str,
        window: Window | None,
        rows: list[Row],
    ) -> None:
        for child in self.store.children(folder):
            if child.distinguished == "msgfolderroot":
                continue  # NON_IPM_SUBTREE lists what is outside the Top of Information Store
            child_href = self.locator.folder_href(child)
            mailbox = self.store.mailboxes.get(child.mailbox or "") if in_mailbox else None
            rows.append(self.folder_row(FolderTarget(child, mailbox, child_href)))
            if traversal in ("deep", "hierarchical"):
                self._collect(child, child_href, in_mailbox, traversal, window, rows)
        if traversal == "hierarchical":
            return
        items = self.store.items_in(folder)
        rows.extend(self.item_row(href, item) for item in items)
        if window is not None and any(
            isinstance(i, CalendarItem) and i.recurrence is not None for i in items
        ):
            lower, upper = window
            for occ in self.store.calendar_view(folder, lower, upper):
                if occ.item_type in ("Occurrence", "Exception"):
                    rows.append(self.item_row(href, occ.master, occ))


__all__ = ["RowBuilder", "Window"]
