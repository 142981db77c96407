"""A few top-level attributes of an object as its de-identified copy carries them, without the copy.

A reader that needs only some values of the de-identified object (the rendered operation's
annotation: a name, an ID, dates, descriptions) would otherwise walk the whole header to read them
back. The walker (walk.py) decides a top-level element from that element alone, the plan's action
for its tag and the object's context (key, UID map, date shift), with three exceptions: a private
element depends on its block's creator (PS3.15 E.3.10), a curve or overlay element on its group's
other elements, and a code value on the Coding Scheme Designator beside it (walk._scheme); and
the marking (Patient Identity Removed, the method, its codes, the temporal flag: marking.py) is
written after the walk. Any other tag is walked here on its own, with the Specific Character Set its value is decoded with
(walked too: if the profile removed it, the de-identified copy decodes without it), and comes out
as in the whole walk's result: the dummy, the keyed pseudonym, the shifted date, the cleaned text,
or nothing when the attribute is removed. The stored values are never returned.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from .marking import MARKING_TAGS
from .plan import ObjectPlan
from .walk import CODE_VALUE_TAGS, Walker

_SPECIFIC_CHARACTER_SET = 0x00080005


def walked_alone(tag: int) -> bool:
    """Whether the walk decides ``tag`` at the top level from its own element (see above)."""
    group = tag >> 16
    return not (group & 1 or 0x5000 <= group <= 0x60FF or tag in CODE_VALUE_TAGS or tag in MARKING_TAGS)


def deidentified_attributes(ds: Dataset, plan: ObjectPlan, tags: Iterable[int]) -> Dataset:
    """A new data set with the top-level ``tags`` of ``ds`` (and its Specific Character Set) as
    applying ``plan`` (made from ``ds``: engine.decide / plan_object) leaves them; ``ds`` is not
    changed. Raises ValueError for a tag the walk does not decide alone."""
    wanted = {int(t) for t in tags} | {_SPECIFIC_CHARACTER_SET}
    refused = sorted(t for t in wanted if not walked_alone(t))
    if refused:
        raise ValueError(f"not decided from the element alone: {', '.join(f'{t:08X}' for t in refused)}")
    part = Dataset()
    for tag in sorted(wanted):
        elem = ds._dict.get(tag)  # as stored, raw or decoded
        if isinstance(elem, DataElement) and elem.VR == "SQ":
            elem = copy.deepcopy(elem)  # the walk changes a sequence's items in place; other elements it replaces
        if elem is not None:
            part._dict[BaseTag(tag)] = elem
    Walker(plan.context).walk(part)
    return part
