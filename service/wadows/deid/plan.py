"""What de-identifying one object will do, decided before anything in it changes.

The profile's ``Plan`` (profile.py) says what the table does to any object; an ``ObjectPlan`` is
that applied to one object's original values: whether it is refused (raised while planning), the
pixel rule that blanks its burned-in text, its UID map and date shift. PS3.18 §8.1.7 wants the new
identifiers in the response metadata before the object is sent, and a refusal must become a
per-document error rather than a cut connection, so planning and applying are two public steps;
the streaming writer (stream.py) plans from the header, then applies to it alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from pydicom.dataset import Dataset

from .pixels import PixelRule
from .walk import Context


@dataclass(frozen=True, slots=True)
class ObjectPlan:
    context: Context
    pixel_rule: PixelRule | None  # None: the pixel data is kept as it is
    already_deidentified: bool  # Patient Identity Removed was YES on arrival
    _apply: Callable[[Dataset, ObjectPlan], Dataset]

    def apply(self, ds: Dataset) -> Dataset:
        """Change ``ds`` in place as planned (pixels blanked by the rule, when it has pixel data), and
        return it. ``ds`` is the object the plan was made from, or the same header read again."""
        return self._apply(ds, self)


class Planner(Protocol):
    """What the streaming writer needs of a de-identifier (engine.Deidentifier is one)."""

    def plan_object(self, ds: Dataset) -> ObjectPlan: ...

    def deidentify(self, ds: Dataset) -> Dataset: ...
