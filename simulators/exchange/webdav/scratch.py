"""A plain, writable WebDAV area per mailbox: ``/exchange/<mailbox>/scratch/``.

Not Exchange data: an in-memory tree of collections and files where generic WebDAV
clients (the ``litmus`` compliance suite) can PUT, MKCOL, COPY, MOVE, LOCK and set
dead properties, served by wsgidav's request handling with its lock and property
managers. It is not listed in the mailbox's folders, so Exchange clients never see it.
"""

from __future__ import annotations

import hashlib
import io
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from wsgidav import util
from wsgidav.dav_error import HTTP_FORBIDDEN, DAVError
from wsgidav.dav_provider import DAVCollection, DAVNonCollection


@dataclass
class Node:
    collection: bool
    content: bytes = b""
    content_type: str | None = None
    children: dict[str, Node] = field(default_factory=dict)
    created: float = field(default_factory=time.time)
    modified: float = field(default_factory=time.time)

    def clone(self) -> Node:
        return Node(self.collection, self.content, self.content_type, {}, time.time(), time.time())


class ScratchSpace:
    """The scratch trees of all mailboxes (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._roots: dict[str, Node] = {}

    def clear(self) -> None:
        with self.lock:
            self._roots.clear()

    def node(self, mailbox: str, rest: str) -> Node | None:
        """The node at ``rest`` ('' or '/a/b') in a mailbox's scratch tree."""
        with self.lock:
            current = self._roots.setdefault(mailbox, Node(collection=True))
            for segment in (s for s in rest.split("/") if s):
                if not current.collection:
                    return None
                found = current.children.get(segment)
                if found is None:
                    return None
                current = found
            return current


class _Writer(io.BytesIO):
    """A PUT body buffer that lands in the node when closed."""

    def __init__(self, node: Node, lock: threading.RLock) -> None:
        super().__init__()
        self._node = node
        self._lock = lock

    def close(self) -> None:
        if not self.closed:
            with self._lock:
                self._node.content = self.getvalue()
                self._node.modified = time.time()
        super().close()


def _parent_and_name(provider: Any, path: str, environ: dict[str, Any]) -> tuple[Node, str]:
    parent = provider.get_resource_inst(util.get_uri_parent(path), environ)
    if not isinstance(parent, ScratchCollection):
        raise DAVError(HTTP_FORBIDDEN, "the destination is outside the scratch area")
    return parent.node, util.get_uri_name(path)


class _Common:
    """Live properties shared by scratch collections and files."""

    node: Node
    path: str

    def get_creation_date(self) -> float:
        return self.node.created

    def get_last_modified(self) -> float:
        return self.node.modified

    def get_display_name(self) -> str:
        return util.get_uri_name(self.path)

    def get_href(self) -> str:
        # wsgidav quotes '@' (mailbox addresses); clients compare with the URL they sent.
        full = self.provider.share_path + self.get_preferred_path()  # type: ignore[attr-defined]
        return quote(full, safe="/@!*'(),$-_|.~")


class ScratchCollection(_Common, DAVCollection):  # type: ignore[misc]
    def __init__(self, path: str, environ: dict[str, Any], node: Node, space: ScratchSpace):
        super().__init__(path, environ)
        self.node = node
        self.space = space

    def get_member_names(self) -> list[str]:
        with self.space.lock:
            return sorted(self.node.children)

    def get_member(self, name: str) -> Any:
        return self.provider.get_resource_inst(util.join_uri(self.path, name), self.environ)

    def create_empty_resource(self, name: str) -> Any:
        with self.space.lock:
            self.node.children[name] = Node(collection=False)
            self.node.modified = time.time()
        return self.get_member(name)

    def create_collection(self, name: str) -> None:
        with self.space.lock:
            self.node.children[name] = Node(collection=True)
            self.node.modified = time.time()

    def get_etag(self) -> None:
        return None

    def delete(self) -> None:
        parent, name = _parent_and_name(self.provider, self.path.rstrip("/"), self.environ)
        with self.space.lock:
            parent.children.pop(name, None)
        self.remove_all_properties(recursive=True)
        self.remove_all_locks(recursive=True)

    def copy_move_single(self, dest_path: str, *, is_move: bool) -> None:
        parent, name = _parent_and_name(self.provider, dest_path.rstrip("/"), self.environ)
        with self.space.lock:
            if name not in parent.children or not parent.children[name].collection:
                parent.children[name] = Node(collection=True)
        _copy_dead_properties(self, dest_path, is_move)

    def support_recursive_move(self, dest_path: str) -> bool:
        return False


class ScratchFile(_Common, DAVNonCollection):  # type: ignore[misc]
    def __init__(self, path: str, environ: dict[str, Any], node: Node, space: ScratchSpace):
        super().__init__(path, environ)
        self.node = node
        self.space = space

    def get_content_length(self) -> int:
        return len(self.node.content)

    def get_content_type(self) -> str:
        return self.node.content_type or "application/octet-stream"

    def get_content(self) -> io.BytesIO:
        return io.BytesIO(self.node.content)

    def get_etag(self) -> str:
        digest = hashlib.md5(self.node.content, usedforsecurity=False).hexdigest()
        return f"{digest}-{int(self.node.modified * 1000)}"

    def support_etag(self) -> bool:
        return True

    def support_ranges(self) -> bool:
        return True

    def begin_write(self, *, content_type: str | None = None) -> _Writer:
        self.node.content_type = content_type
        return _Writer(self.node, self.space.lock)

    def delete(self) -> None:
        parent, name = _parent_and_name(self.provider, self.path, self.environ)
        with self.space.lock:
            parent.children.pop(name, None)
        self.remove_all_properties(recursive=True)
        self.remove_all_locks(recursive=True)

    def copy_move_single(self, dest_path: str, *, is_move: bool) -> None:
        parent, name = _parent_and_name(self.provider, dest_path, self.environ)
        with self.space.lock:
            parent.children[name] = self.node.clone()
        _copy_dead_properties(self, dest_path, is_move)

    def support_recursive_move(self, dest_path: str) -> bool:
        return False


def _copy_dead_properties(res: Any, dest_path: str, is_move: bool) -> None:
    manager = res.provider.prop_manager
    if not manager:
        return
    dest = res.provider.get_resource_inst(dest_path, res.environ)
    if is_move:
        manager.move_properties(
            res.get_ref_url(), dest.get_ref_url(), with_children=False, environ=res.environ
        )
    else:
        manager.copy_properties(res.get_ref_url(), dest.get_ref_url(), res.environ)


def scratch_resource(
    path: str, environ: dict[str, Any], space: ScratchSpace, mailbox: str, rest: str
) -> ScratchCollection | ScratchFile | None:
    node = space.node(mailbox, rest)
    if node is None:
        return None
    if node.collection:
        return ScratchCollection(path, environ, node, space)
    return ScratchFile(path, environ, node, space)


__all__ = ["ScratchCollection", "ScratchFile", "ScratchSpace", "scratch_resource"]
