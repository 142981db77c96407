"""Fixtures of the de-identification tests (objects are built in objects.py)."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset

from wadows.deid import Deidentifier

from .objects import KEY, make_ct


@pytest.fixture
def ct() -> Dataset:
    return make_ct()


@pytest.fixture
def deid() -> Deidentifier:
    return Deidentifier(KEY)
