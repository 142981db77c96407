"""Every Part-10 file pydicom ships plus pydicom-data, read by pydicom (the same list the real-data
suite uses), with the ones pydicom cannot read counted rather than dropped."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pydicom
from pydicom.data import get_testdata_files
from pydicom.dataset import Dataset

from realdata.corpus import samples
from support.needs import unavailable


@dataclass(frozen=True)
class Corpus:
    read: tuple[tuple[Path, Dataset], ...]
    unreadable: tuple[tuple[Path, str], ...]
    not_part10: int   # entries of get_testdata_files() that are no Part-10 file (dirs, JSON, no preamble)


@cache
def corpus() -> Corpus:
    paths = [s.path for s in samples()]
    if not any("data_store" in p.parts for p in paths):
        unavailable("pydicom-data is not installed (the test extra installs it)")
    read, unreadable = [], []
    for path in paths:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                read.append((path, pydicom.dcmread(path)))
        except Exception as exc:  # noqa: BLE001 - counted and reported by the tests
            unreadable.append((path, type(exc).__name__))
    return Corpus(tuple(read), tuple(unreadable), len(set(get_testdata_files())) - len(paths))
