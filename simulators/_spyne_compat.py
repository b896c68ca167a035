"""Make spyne 2.14 importable on Python 3.12 and later.

spyne 2.14 vendors an old copy of ``six`` at ``spyne.util.six`` whose lazy
``six.moves`` importer relies on ``find_module``/``load_module``, which Python
3.12 removed from the import system. Every ``from spyne.util.six.moves import x``
then fails. The shim answers every import of ``spyne.util.six.moves[.x]`` with
the matching module of the current ``six`` distribution (which speaks the modern
``find_spec`` protocol); the rest of spyne's copy, which has helpers of its own
such as ``get_function_name``, stays in use. spyne also imports ``cgi``, removed in 3.13; the
``legacy-cgi`` distribution puts it back. Both are declared as dependencies
for those Python versions only.

On 3.11 nothing is changed: spyne's own copy works there.

``tune()`` also turns off spyne's forced ``gc.collect()`` after a request (at most
once per ``MIN_GC_INTERVAL`` seconds, by the wall clock). It exists to close
uploaded files early; EWS requests carry none, and under a frozen scenario clock
that jumps 30 s per poll it ran on every request, costing ~20 ms each.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType

_PREFIX = "spyne.util.six.moves"


class _SixAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serve ``spyne.util.six.moves[.x]`` from ``six.moves[.x]``."""

    def find_spec(
        self,
        fullname: str,
        path: object = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname == _PREFIX or fullname.startswith(_PREFIX + "."):
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module("six.moves" + spec.name[len(_PREFIX) :])

    def exec_module(self, module: ModuleType) -> None:
        """The aliased module is already executed."""


def needed() -> bool:
    return sys.version_info >= (3, 12)


def install() -> None:
    """Install the alias once; a no-op on Python 3.11."""
    if not needed():
        return
    if any(isinstance(f, _SixAlias) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _SixAlias())


def tune() -> None:
    """spyne settings for an EWS front end (call after importing spyne)."""
    import spyne.const

    spyne.const.MIN_GC_INTERVAL = float("inf")
