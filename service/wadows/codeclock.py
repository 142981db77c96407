"""One lock per codec library that is not safe to call from several threads at once.

pylibjpeg-openjpeg 2.x corrupts the heap when two threads encode at the same time (seen as a
segfault in the server with two concurrent JPEG 2000 transcodes; reproduced with 8 threads calling
pydicom's JPEG 2000 encoder directly). Its decoder, and the libjpeg and RLE plugins, survive the
same stress. Every caller of an encoder takes the lock for the encoder's library, so a request
can never take the process down, whatever path encodes: retrieval (transfer syntax), pixel
blanking (de-identification) or rendering.
"""

from __future__ import annotations

import os
import threading
from contextlib import nullcontext
from typing import ContextManager

from pydicom.uid import HTJ2K, JPEG2000, UID, HTJ2KLossless, HTJ2KLosslessRPCL, JPEG2000Lossless

_OPENJPEG = threading.Lock()


def _new_lock_after_fork() -> None:
    """A worker process (workers.py) forked while some thread of its parent held the lock would
    otherwise inherit it held, by a thread that does not exist there, and never encode again."""
    global _OPENJPEG
    _OPENJPEG = threading.Lock()


os.register_at_fork(after_in_child=_new_lock_after_fork)
_OPENJPEG_SYNTAXES = frozenset({JPEG2000Lossless, JPEG2000, HTJ2KLossless, HTJ2KLosslessRPCL, HTJ2K})


def encoding(target: str) -> ContextManager[object]:
    """Held around one call into the encoder for ``target`` (a transfer syntax UID)."""
    return _OPENJPEG if UID(target) in _OPENJPEG_SYNTAXES else nullcontext()
