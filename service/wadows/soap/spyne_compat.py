"""Lets spyne 2.14 import on Python 3.12 and later, without forking it.

spyne's last release vendors six 1.14 as ``spyne.util.six``. That copy serves its ``moves`` package
through ``find_module``/``load_module`` on ``sys.meta_path``, import hooks that Python 3.12 removed
(PEP 451's ``find_spec`` is the only one left), so ``import spyne`` fails with
``No module named 'spyne.util.six.moves'``. The maintained ``six`` package speaks ``find_spec``.

This module puts one finder in front of ``sys.meta_path`` that answers only for
``spyne.util.six`` and the names below it:

- ``spyne.util.six`` becomes a module of its own holding six's public names plus
  ``get_function_name``, the one helper spyne added to its copy (it calls it when an
  Application is built);
- ``spyne.util.six.moves`` and every ``spyne.util.six.moves.X.Y`` are the very module objects
  six gives for ``six.moves.X.Y``, so spyne and six share one ``moves`` tree.

On 3.11 nothing is installed: spyne's own copy still works there and is what it was tested with.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import operator
import sys
import types
from typing import Sequence

SPYNE_SIX = "spyne.util.six"

#: Interpreters whose import system no longer calls spyne's vendored ``load_module`` hooks.
NEEDED = sys.version_info >= (3, 12)


def _fill_six(module: types.ModuleType) -> None:
    import six

    for name in dir(six):
        if not name.startswith("__"):
            setattr(module, name, getattr(six, name))
    # spyne's addition to its copy of six (spyne/util/six.py): the function object's name.
    module.get_function_name = operator.attrgetter("__name__")
    module.__path__ = []  # a package, so ``spyne.util.six.moves`` can be imported below it


class _SixLoader(importlib.abc.Loader):
    """Builds ``spyne.util.six`` itself; aliases every name below it onto six's module."""

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return None  # the default empty module; exec_module fills or replaces it

    def exec_module(self, module: types.ModuleType) -> None:
        name = module.__name__
        if name == SPYNE_SIX:
            _fill_six(module)
            return
        target = importlib.import_module("six" + name[len(SPYNE_SIX):])
        # The import system returns whatever sys.modules holds once exec_module is done
        # (importlib._bootstrap._load_unlocked), so the alias is six's own object, whose
        # __spec__ and __name__ stay untouched.
        sys.modules[name] = target


class SpyneSixFinder(importlib.abc.MetaPathFinder):
    """Answers for ``spyne.util.six`` and ``spyne.util.six.moves...`` only."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname == SPYNE_SIX or fullname.startswith(SPYNE_SIX + ".moves"):
            rest = fullname[len(SPYNE_SIX + ".moves"):]
            if rest and not rest.startswith("."):
                return None  # e.g. spyne.util.six.movesfoo: not ours
            return importlib.machinery.ModuleSpec(fullname, _SixLoader(), is_package=True)
        return None


def install() -> bool:
    """Puts the finder first on ``sys.meta_path`` where it is needed; True when it is there."""
    if not NEEDED:
        return False
    if not any(isinstance(f, SpyneSixFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, SpyneSixFinder())
    return True


install()
