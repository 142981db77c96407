"""How wadows names itself in the File Meta Information of every object it writes (PS3.10 §7.1):
one Implementation Class UID for the transcoder and the de-identifier alike, since both are the
same application as far as a receiver is concerned. A fixed "2.25." UID (PS3.5 §B.2)."""

from . import __version__

IMPLEMENTATION_CLASS_UID = "2.25.263508733542208766339931318342233063921"
# VR SH, at most 16 characters.
IMPLEMENTATION_VERSION_NAME = f"WADOWS_{__version__}"[:16]
