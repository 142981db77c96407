"""spyne 2.14 on Python 3.12+: the meta-path finder of soap/spyne_compat.py, and only there."""

from __future__ import annotations

import collections.abc
import subprocess
import sys
import urllib.parse

from wadows.soap import spyne_compat


def _finders() -> list[object]:
    return [f for f in sys.meta_path if isinstance(f, spyne_compat.SpyneSixFinder)]


def test_installed_exactly_where_the_import_system_needs_it():
    assert spyne_compat.NEEDED == (sys.version_info >= (3, 12))
    assert len(_finders()) == (1 if spyne_compat.NEEDED else 0)
    assert spyne_compat.install() == spyne_compat.NEEDED
    assert len(_finders()) == (1 if spyne_compat.NEEDED else 0)  # installing twice adds nothing


def test_spyne_sees_six_moves_and_its_own_helper():
    from spyne.util import six as spyne_six
    from spyne.util.six.moves.collections_abc import MutableSet
    from spyne.util.six.moves.urllib.parse import quote

    assert MutableSet is collections.abc.MutableSet
    assert quote is urllib.parse.quote
    assert spyne_six.get_function_name(test_spyne_sees_six_moves_and_its_own_helper) == \
        "test_spyne_sees_six_moves_and_its_own_helper"
    assert spyne_six.string_types == (str,) and spyne_six.PY3


def test_the_moves_are_six_own_modules_where_the_finder_is_needed():
    from spyne.util import six as spyne_six

    if not spyne_compat.NEEDED:  # 3.11: spyne's vendored copy, as it was tested with
        assert spyne_six.__file__.endswith("spyne/util/six.py")
        return
    import six

    import spyne.util.six.moves.urllib.parse as parse

    assert sys.modules["spyne.util.six.moves"] is six.moves
    assert parse is sys.modules["six.moves.urllib.parse"]
    finder = spyne_compat.SpyneSixFinder()
    assert finder.find_spec("spyne.util.sixth") is None
    assert finder.find_spec("spyne.util.six.movesx") is None
    assert finder.find_spec("six.moves") is None


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_a_spyne_application_builds_after_importing_wadows_soap():
    # A fresh interpreter: the import order is the one any user of the package gets.
    run = _run("import wadows.soap.dispatch as d, spyne; print(spyne.__version__)")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().startswith("2.14")


def test_without_the_finder_spyne_imports_only_on_311():
    # The reason the module exists; when a spyne release imports by itself on 3.12+, this fails.
    run = _run("import spyne")
    if spyne_compat.NEEDED:
        assert run.returncode != 0 and "spyne.util.six.moves" in run.stderr, run.stderr
    else:
        assert run.returncode == 0, run.stderr
