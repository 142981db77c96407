"""One process-wide lock per codec library that is not safe to call from two threads at once.

pylibjpeg-openjpeg 2.6 corrupts the heap when two threads encode at once (segfault in libpython,
reproduced with 8 threads x 50 encodes of one 256x256 frame; tests/retrieve/test_codec_lock.py).
Its Cython entry points hold the GIL for the whole call (no ``nogil`` section), so serializing them
costs no parallelism; decodes share the lock because they run the same wrapper code. RLE
(pylibjpeg-rle) and libjpeg were not seen to fail and run unlocked.
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager, nullcontext

from pydicom.uid import UID, HTJ2K, JPEG2000, HTJ2KLossless, HTJ2KLosslessRPCL, JPEG2000Lossless

_OPENJPEG = threading.Lock()
_OPENJPEG_SYNTAXES = frozenset({JPEG2000Lossless, JPEG2000, HTJ2KLossless, HTJ2KLosslessRPCL, HTJ2K})


def codec_lock(uid: UID) -> AbstractContextManager[object]:
    """The lock to hold around one call into the codec for ``uid`` (a no-op where none is needed)."""
    return _OPENJPEG if uid in _OPENJPEG_SYNTAXES else nullcontext()
