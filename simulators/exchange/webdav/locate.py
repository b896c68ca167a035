"""WebDAV URLs of the Exchange store: which folder or item a path names, and the
absolute href of each.

``/exchange/<mailbox>/`` is the mailbox's Top of Information Store; ``<mailbox>`` is
the SMTP address or the alias, any case; below it folders go by their (localised)
display names, items by ``<name>.EML``. ``/exchange/<mailbox>/NON_IPM_SUBTREE/`` holds
the root's folders outside it, ``/exchange/<mailbox>/##DavMailSubmissionURI##/`` is the
submission URI. ``/public/`` is the public folder tree. Hrefs are absolute, with the
mailbox written as the request named it (Exchange answers under the URL asked; a
mailbox the request did not name is written as its alias), folders ending in '/'. Items keep the name a WebDAV client gave them when it created
them; other items are ``{GUID}.EML`` (``ItemNames``). Resolution checks FullAccess:
another user's mailbox without it is ``Forbidden`` (403), an unknown one ``NotFound``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, unquote, urlsplit

from simulators.exchange.mapi_props import url_name_of
from simulators.exchange.model import Account, Folder, Item, Mailbox
from simulators.exchange.store import ExchangeStore

Tree = Literal["exchange", "public"]
SCRATCH = "scratch"  # /exchange/<mailbox>/scratch/: a plain WebDAV area (compliance tests)


class LocateError(Exception):
    """A path that names nothing (404) or something the caller may not see (403)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class RootTarget:
    """``/exchange/`` itself (no mailbox named)."""


@dataclass(frozen=True)
class FolderTarget:
    folder: Folder
    mailbox: Mailbox | None  # None in the public folder tree
    href: str


@dataclass(frozen=True)
class ItemTarget:
    parent: FolderTarget
    item: Item
    name: str
    href: str


@dataclass(frozen=True)
class MissingTarget:
    """A free name in an existing folder (PROPPATCH creates an item there)."""

    parent: FolderTarget
    name: str
    href: str


@dataclass(frozen=True)
class SubmissionTarget:
    """``/exchange/<mailbox>/##DavMailSubmissionURI##/``: Exchange's mail submission URI
    (a MOVE of a draft there sends it)."""

    mailbox: Mailbox
    href: str


@dataclass(frozen=True)
class ScratchTarget:
    mailbox: Mailbox
    rest: str  # path below /exchange/<mailbox>/scratch, '' or starting with '/'


Target = RootTarget | FolderTarget | ItemTarget | MissingTarget | ScratchTarget | SubmissionTarget

SUBMISSION = "##DavMailSubmissionURI##"  # the submission URI's name, as Exchange 2007 gives it
NON_IPM_SUBTREE = (
    "NON_IPM_SUBTREE"  # the mailbox root's folders outside the Top of Information Store
)


class ItemNames:
    """PR_URL_COMP_NAME of items, and their article numbers (PR_INTERNET_ARTICLE_NUMBER).

    Both belong to the item in the store (``url_name``, ``article``), so a name given
    over WebDAV is the one EWS reports, and the other way round."""

    def name(self, item: Item) -> str:
        return url_name_of(item)

    def assign(self, item: Item, name: str) -> None:
        item.url_name = name

    def article(self, item: Item) -> int:
        return item.article

    def find(self, items: list[Item], name: str) -> Item | None:
        wanted = name.lower()
        for item in items:
            if self.name(item).lower() == wanted:
                return item
        return None


def quote_segment(name: str) -> str:
    return quote(name, safe="@{}!$&'()*+,;=-._~")


class Locator:
    """Resolves paths of one request's caller and writes hrefs for one base URL."""

    def __init__(
        self, store: ExchangeStore, names: ItemNames, account: Account | None, base: str
    ) -> None:
        self.store = store
        self.names = names
        self.account = account
        self.base = base  # scheme://host[:port]
        # How this request named each mailbox: Exchange answers under the URL asked.
        self.asked: dict[str, str] = {}

    # ------------------------------------------------------------ hrefs
    def mailbox_segment(self, mailbox: Mailbox) -> str:
        asked = self.asked.get(mailbox.smtp)
        if asked is not None:
            return asked
        clash = any(
            other.smtp != mailbox.smtp for other in self.store.mailboxes_with_alias(mailbox.alias)
        )
        return mailbox.smtp if clash else mailbox.alias

    def folder_href(self, folder: Folder) -> str:
        names: list[str] = []
        current = folder
        while current.kind not in ("public_root",) and current.distinguished != "msgfolderroot":
            if current.distinguished == "root":  # outside the Top of Information Store
                names.append(NON_IPM_SUBTREE)
                break
            names.append(quote_segment(current.display_name))
            if current.parent_id is None:
                break
            current = self.store.folders[current.parent_id]
        names.reverse()
        if folder.mailbox is None:
            head = f"{self.base}/public/"
        else:
            mailbox = self.store.mailboxes[folder.mailbox]
            head = f"{self.base}/exchange/{quote_segment(self.mailbox_segment(mailbox))}/"
        return head + "".join(n + "/" for n in names)

    def item_href(self, folder: Folder, item: Item) -> str:
        return self.folder_href(folder) + quote_segment(self.names.name(item))

    # ------------------------------------------------------------ resolve
    def resolve_url(self, url: str) -> Target:
        """A path or an absolute URL (a SEARCH scope) to its target."""
        path = urlsplit(url).path if "://" in url else url
        return self.resolve(unquote(path))

    def resolve(self, path: str) -> Target:
        """A decoded path starting with /exchange or /public to its target."""
        segments = [s for s in path.split("/") if s]
        if not segments or segments[0].lower() not in ("exchange", "public"):
            raise LocateError(404, f"{path} is not in /exchange/ or /public/")
        if segments[0].lower() == "public":
            root = self.store.folders[self.store.public_root_id]
            return self._walk(FolderTarget(root, None, self.folder_href(root)), segments[1:])
        if len(segments) == 1:
            return RootTarget()
        mailbox = self.mailbox(segments[1])
        top = self.store.folders[mailbox.folders["msgfolderroot"]]
        rest = segments[2:]
        if rest and rest[0].lower() == SCRATCH:
            return ScratchTarget(mailbox, "/" + "/".join(rest[1:]) if rest[1:] else "")
        if rest and rest[0].lower() == SUBMISSION.lower() and len(rest) == 1:
            return SubmissionTarget(
                mailbox, self.folder_href(top) + quote_segment(SUBMISSION) + "/"
            )
        if rest and rest[0].upper() == NON_IPM_SUBTREE:
            root = self.store.folders[mailbox.folders["root"]]
            return self._walk(FolderTarget(root, mailbox, self.folder_href(root)), rest[1:])
        return self._walk(FolderTarget(top, mailbox, self.folder_href(top)), rest)

    def mailbox(self, segment: str) -> Mailbox:
        """The mailbox a URL segment names (address or alias), with access checked."""
        key = segment.lower()
        mailbox = self.store.mailboxes.get(key)
        if mailbox is None and "@" not in key:
            matches = self.store.mailboxes_with_alias(key)
            mailbox = matches[0] if len(matches) == 1 else None
        if mailbox is None:
            raise LocateError(404, f"no mailbox {segment}")
        if self.account is None or not self.store.has_full_access(self.account, mailbox.smtp):
            raise LocateError(403, f"no FullAccess on mailbox {mailbox.smtp}")
        self.asked.setdefault(mailbox.smtp, segment)
        return mailbox

    def _walk(self, start: FolderTarget, segments: list[str]) -> Target:
        current = start
        for index, segment in enumerate(segments):
            child = next(
                (
                    f
                    for f in self.store.children(current.folder)
                    if f.display_name.lower() == segment.lower()
                    and f.distinguished != "msgfolderroot"  # not below NON_IPM_SUBTREE
                ),
                None,
            )
            if child is not None:
                current = FolderTarget(child, current.mailbox, self.folder_href(child))
                continue
            if index != len(segments) - 1:
                raise LocateError(404, f"no folder {segment}")
            item = self.names.find(self.store.items_in(current.folder), segment)
            href = current.href + quote_segment(segment)
            if item is None:
                return MissingTarget(current, segment, href)
            name = self.names.name(item)
            return ItemTarget(current, item, name, current.href + quote_segment(name))
        return current


__all__ = [
    "SCRATCH",
    "FolderTarget",
    "ItemNames",
    "ItemTarget",
    "LocateError",
    "Locator",
    "MissingTarget",
    "RootTarget",
    "NON_IPM_SUBTREE",
    "SUBMISSION",
    "ScratchTarget",
    "SubmissionTarget",
    "Target",
    "quote_segment",
]
