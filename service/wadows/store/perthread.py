"""What one server thread remembers between the calls retrieval makes for one request.

Retrieval calls, on one thread and before the response starts, ``lookup`` then ``check`` for each
document, then ``open`` for each while the response streams. Two things save round trips there:

- a *confirmation*: the archive just said the instance exists (a query or a fetch this thread made
  for it); the next ``check`` on this thread uses it up instead of asking again. So does any answer
  from the archive to this thread in the last fraction of a second (the documents of one request
  are checked in a burst). A lookup answered from the cache confirms nothing, so an archive that
  went away since the last request is found out per document, before the response starts, not in
  the middle of it.
- a *parked fetch*: the WADO-RS answer a lookup or check started (to learn the transfer syntax, or
  as the check itself), kept unread for the ``open`` that follows. One per thread, briefly: a
  parked answer holds a connection, and for a large object one of the archive's worker threads.
"""

from __future__ import annotations

import threading
import time

from .partstream import PartStream

CONFIRMATION_SECONDS = 5.0
# An archive that answered this thread this recently is taken to be up. It bounds the window in
# which an archive that has just died cuts a response instead of failing documents one by one.
IN_TOUCH_SECONDS = 0.2
# A parked answer older than this is from an earlier request whose open() never came.
PARK_SECONDS = 10.0


class Confirmations:
    def __init__(self) -> None:
        self._local = threading.local()

    def add(self, uids: list[str]) -> None:
        fresh = getattr(self._local, "uids", None)
        now = time.monotonic()
        if fresh is None or len(fresh) > 4 * len(uids) + 10000:
            fresh = self._local.uids = {}
        for uid in uids:
            fresh[uid] = now
        self._local.contact = now

    def touch(self) -> None:
        """The archive answered this thread just now."""
        self._local.contact = time.monotonic()

    def take(self, uid: str) -> bool:
        """Whether ``uid`` may be taken as there: confirmed to this thread moments ago, or this
        thread heard from the archive within IN_TOUCH_SECONDS (documents 2..N of one request:
        the archive is up, and the cached lookup says where the instance is)."""
        fresh = getattr(self._local, "uids", None) or {}
        now = time.monotonic()
        when = fresh.pop(uid, None)
        if when is not None and now - when < CONFIRMATION_SECONDS:
            return True
        return now - getattr(self._local, "contact", float("-inf")) < IN_TOUCH_SECONDS


class Parking:
    def __init__(self) -> None:
        self._local = threading.local()

    def free(self) -> bool:
        """Whether this thread may park an answer now (a stale one is discarded to make room)."""
        slot = getattr(self._local, "slot", None)
        if slot is None:
            return True
        if time.monotonic() - slot[2] > PARK_SECONDS:
            self._local.slot = None
            slot[1].discard()
            return True
        return False

    def park(self, uid: str, part: PartStream) -> None:
        old = getattr(self._local, "slot", None)
        self._local.slot = (uid, part, time.monotonic())
        if old is not None:
            old[1].discard()

    def take(self, uid: str) -> PartStream | None:
        slot = getattr(self._local, "slot", None)
        if slot is None or slot[0] != uid:
            return None
        self._local.slot = None
        if time.monotonic() - slot[2] > PARK_SECONDS:
            slot[1].discard()
            return None
        return slot[1]
