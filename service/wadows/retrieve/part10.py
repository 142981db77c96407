"""Who wrote a Part-10 file we produce (PS3.10 §7.1 File Meta Information)."""

# 2.25 root from a UUID generated once for wadows (PS3.5 §B.2).
IMPLEMENTATION_CLASS_UID = "2.25.263508733542208766339931318342233063921"
IMPLEMENTATION_VERSION_NAME = "WADOWS_0_1"
