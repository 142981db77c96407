"""Fixtures: one corpus per session, and one de-identification run of it per set of Options, shared by the tests.

The engine (``wadows.deid``) lands concurrently with these tests: when it is missing the engine tests fail, they
do not skip, so its absence cannot pass for a clean audit.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
import pytest

from .corpus import Corpus, corpus_for_tests

KEY = b"phi-audit-key-0123456789abcdef!!"
_HERE = Path(__file__).parent


def pytest_collection_modifyitems(items):
    # The corpus deliberately uses attributes newer than pydicom 3.0's dictionary; its reader says so each time.
    for item in items:
        if _HERE in Path(item.fspath).parents:
            item.add_marker(pytest.mark.filterwarnings("ignore:VR lookup failed:UserWarning"))
            item.add_marker(pytest.mark.filterwarnings("ignore:Expected implicit VR:UserWarning"))


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Corpus:
    return corpus_for_tests(tmp_path_factory.mktemp("phi-corpus"), seed=0)


@pytest.fixture(scope="session")
def corpus_digests(corpus) -> dict[str, str]:
    return {name: hashlib.sha256(o.path.read_bytes()).hexdigest() for name, o in corpus.objects.items()}


@pytest.fixture(scope="session")
def deid():
    try:
        import wadows.deid as engine

        for name in ("Deidentifier", "parse_options", "DeidentificationRefused"):
            getattr(engine, name)
    except (ImportError, AttributeError) as e:
        pytest.fail(f"wadows.deid engine API not importable: {e!r}")
    return engine


@dataclass
class Run:
    """All corpus objects de-identified with one set of Options."""

    options: frozenset[str]
    engine: object
    outputs: dict[str, Path] = field(default_factory=dict)  # object name -> output file
    new_uids: dict[str, str] = field(default_factory=dict)  # object name -> what deidentify_file returned
    errors: dict[str, BaseException] = field(default_factory=dict)

    def read(self, name: str) -> pydicom.Dataset:
        return pydicom.dcmread(self.outputs[name])

    def produced(self) -> dict[str, Path]:
        return {n: p for n, p in self.outputs.items() if n not in self.errors and p.is_file()}


@pytest.fixture(scope="session")
def run_for(deid, corpus, corpus_digests, tmp_path_factory):
    runs: dict[frozenset[str], Run] = {}

    def run(options=()) -> Run:
        key = frozenset(options)
        if key not in runs:
            out = tmp_path_factory.mktemp("deid-" + ("-".join(sorted(key)) or "basic")[:60])
            engine = deid.Deidentifier(KEY, sorted(key))
            r = Run(key, engine)
            for name, obj in corpus.objects.items():
                dst = out / f"{name}.dcm"
                r.outputs[name] = dst
                try:
                    r.new_uids[name] = engine.deidentify_file(obj.path, dst)
                except Exception as e:  # reported by test_every_object_is_deidentified
                    r.errors[name] = e
            runs[key] = r
        return runs[key]

    return run
