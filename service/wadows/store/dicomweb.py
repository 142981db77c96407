"""A DICOMweb archive (Orthanc, dcm4chee-arc, cloud imaging APIs) as a
:class:`~wadows.store.base.Backend`: QIDO-RS finds an instance by its SOP Instance UID
(PS3.18 §10.6), WADO-RS returns it (§10.4) as the archive stores it, streamed.

Round trips are the cost here, so:
- where an instance lives is cached briefly, and the second instance asked from one study fetches
  the whole study's list with one query, so a request for a 200-instance study makes three
  queries, not 200;
- the stored transfer syntax comes from AvailableTransferSyntaxUID (0008,3002) when the archive
  gives it; otherwise (Orthanc) from the object's own file meta, read by starting to fetch it; that
  answer is remembered as well;
- ``check`` costs nothing when the instance was seen moments ago, which is what retrieval does.

``open`` returns a non-seekable stream of the Part-10 bytes (retrieval spools it when it must seek).
"""

from __future__ import annotations

import io
import logging
import time
from collections import Counter
from typing import TYPE_CHECKING, BinaryIO

from pydicom.dataset import Dataset

from ..security.uids import is_valid_uid, require_uid
from .base import StoredInstance
from .errors import ArchiveAnswerError, ArchiveError, InstanceChanged, InstanceGone
from .header import header_from_stream
from .identity import sop_instance_uid
from .http import ArchiveClient, HttpSettings, json_of, secret_from, without_credentials
from .multipart import MultipartReader, boundary_of
from .part10meta import NotPart10, read_meta
from .partstream import PartStream
from .perthread import Confirmations, Parking
from ..ttlcache import TTLCache

if TYPE_CHECKING:
    from ..config import DicomwebConfig

log = logging.getLogger("wadows.archive")

DICOM_JSON = "application/dicom+json"
# PS3.18 §8.7.3.5.2: "*" asks for the object in the syntax it is stored in.
AS_STORED = 'multipart/related; type="application/dicom"; transfer-syntax=*'
ARCHIVE_DEFAULT = 'multipart/related; type="application/dicom"'
_STUDY_UID, _SERIES_UID, _SOP_CLASS_UID, _SOP_INSTANCE_UID = "0020000D", "0020000E", "00080016", "00080018"
_AVAILABLE_TS = "00083002"


def _first(item: dict, tag: str) -> str | None:
    values = (item.get(tag) or {}).get("Value") or []
    value = values[0] if values else None
    return value if isinstance(value, str) else None


class DicomwebStore:
    """Backend over a DICOMweb service root (``.../dicom-web``); safe to share between threads."""

    def __init__(self, url: str, client: ArchiveClient, *, cache_seconds: float = 60.0, cache_size: int = 10000,
                 chunk_size: int = 1 << 20) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError("the DICOMweb URL must start with http:// or https://")
        self.url = url.rstrip("/")
        self.client = client
        self.chunk_size = chunk_size
        self._accept = AS_STORED
        self._instances: TTLCache[str, StoredInstance] = TTLCache(cache_size, cache_seconds)
        self._syntaxes: TTLCache[str, str] = TTLCache(cache_size, cache_seconds)
        self._confirmations = Confirmations()
        self._parking = Parking()
        # Headers as bytes (a few kB each, parsed again per use: callers may change what they get).
        self._header_bytes: TTLCache[str, bytes] = TTLCache(min(cache_size, 4096), cache_seconds)
        self._study_lookups: TTLCache[str, int] = TTLCache(1024, cache_seconds)
        self.round_trips: Counter[str] = Counter()  # by kind: for tests and benches

    @classmethod
    def from_config(cls, cfg: DicomwebConfig, *, pool_size: int = 16, chunk_size: int = 1 << 20) -> DicomwebStore:
        settings = HttpSettings(
            connect_timeout=float(cfg.connect_timeout), read_timeout=float(cfg.read_timeout),
            retries=max(0, cfg.retries), verify=cfg.verify, ca_bundle=cfg.ca_bundle,
            username=cfg.username, password=secret_from(cfg.password, cfg.password_file),
            token=secret_from(cfg.token, cfg.token_file), pool_size=pool_size,
        )
        return cls(cfg.url, ArchiveClient(settings), cache_seconds=float(cfg.cache_seconds),
                   cache_size=cfg.cache_size, chunk_size=chunk_size)

    # -- Backend -----------------------------------------------------------------------------------
    def lookup(self, sop_instance_uid: str) -> StoredInstance | None:
        uid = require_uid(sop_instance_uid)
        found = self._instances.get(uid)
        if found is None:
            found = self._query_instance(uid)
            if found is None:
                return None
            self._note_study(found.study_uid)
        if not found.transfer_syntax_uid:
            syntax = self._syntaxes.get(uid) or self._learn_transfer_syntax(found)
            found = StoredInstance(found.study_uid, found.series_uid, found.sop_instance_uid, found.sop_class_uid,
                                   syntax, found.size, found.location)
        self._instances.put(uid, found)
        return found

    def check(self, instance: StoredInstance) -> None:
        uid = instance.sop_instance_uid
        if self._confirmations.take(uid):
            return
        if self._parking.free():
            # The fetch open() will need anyway: its answer is the check.
            self._parking.park(uid, self._fetch(instance))
            return
        again = self._query_instance(uid, remember=False)
        self._confirmations.take(uid)
        if again is None or again.location != instance.location:
            self._instances.discard(uid)
            raise InstanceGone("the archive no longer has the document")

    def open(self, instance: StoredInstance) -> BinaryIO:
        part = self._parking.take(instance.sop_instance_uid) or self._fetch(instance)
        try:
            announced = part.announced_syntax
            prefix, syntax = read_meta(part.read)
            if (announced and announced != instance.transfer_syntax_uid) or syntax != instance.transfer_syntax_uid:
                # The bytes would be sent under a transfer syntax they are not in.
                self._syntaxes.discard(instance.sop_instance_uid)
                self._instances.discard(instance.sop_instance_uid)
                raise ArchiveAnswerError("the archive returned the object in another transfer syntax than it announced")
            prefix = self._check_identity(part, prefix, instance.sop_instance_uid)
            part.unread(prefix)
        except NotPart10:
            part.close()
            raise ArchiveAnswerError("the archive returned something that is not a DICOM Part-10 object") from None
        except BaseException:
            part.close()
            raise
        return io.BufferedReader(part, buffer_size=self.chunk_size)

    def _check_identity(self, part: PartStream, prefix: bytes, uid: str) -> bytes:
        """The part must be the instance asked for (an archive answering another one would have it
        served as Success); returns everything read, to hand back to the part."""
        got = bytearray(prefix)

        def read_at(n: int, offset: int) -> bytes:
            while len(got) < offset + n:
                piece = part.read(offset + n - len(got))
                if not piece:
                    break
                got.extend(piece)
            return bytes(got[offset:offset + n])

        if sop_instance_uid(read_at) != uid:
            self._instances.discard(uid)
            self._header_bytes.discard(uid)
            raise InstanceChanged("the archive returned another instance than the one asked for")
        return bytes(got)

    def header(self, instance: StoredInstance) -> Dataset:
        uid = instance.sop_instance_uid
        known = self._header_bytes.get(uid)
        if known is not None:
            return header_from_stream(io.BytesIO(known).read).dataset
        part = self._parking.take(uid) or self._fetch(instance)
        try:
            found = header_from_stream(part.read)
            if found.dataset.get("SOPInstanceUID") != uid:
                self._instances.discard(uid)
                raise InstanceChanged("the archive returned another instance than the one asked for")
        except BaseException:
            part.close()
            raise
        self._header_bytes.put(uid, found.prefix[:found.length])
        if self._parking.free():
            part.unread(found.prefix)
            self._parking.park(uid, part)
        else:
            part.discard()
        return found.dataset

    def health(self) -> dict[str, object]:
        started = time.monotonic()
        base = {"kind": "dicomweb", "archive": without_credentials(self.url)}
        try:
            resp = self.client.get(f"{self.url}/studies", params={"limit": "1"}, headers={"Accept": DICOM_JSON},
                                   ok=(200, 204), use_cool_down=False,
                                   timeout=(self.client.timeout[0], min(self.client.timeout[1], 5.0)))
            status = resp.status_code
            resp.close()
        except ArchiveError as exc:
            return {**base, "ok": False, "error": type(exc).__name__}
        ok = status in (200, 204)
        out = {**base, "ok": ok, "latency_ms": round((time.monotonic() - started) * 1000, 1)}
        if not ok:
            out["error"] = f"HTTP {status}"
        return out

    def close(self) -> None:
        self.client.close()

    # -- QIDO-RS -----------------------------------------------------------------------------------
    def _query(self, path: str, params: dict[str, str]) -> list[dict]:
        resp = self.client.get(f"{self.url}/{path}", params=params, headers={"Accept": DICOM_JSON}, ok=(200, 204))
        if resp.status_code in (204, 404, 410):
            # 204: no match (PS3.18 §8.3.3.1.1); a 404 for a study-level query means the study is gone.
            resp.close()
            return []
        items = json_of(resp)
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise ArchiveAnswerError("the archive's query answer is not a DICOM JSON array")
        return items

    def _instance_of(self, item: dict) -> StoredInstance | None:
        study, series, sop_class, sop = (_first(item, t) for t in (_STUDY_UID, _SERIES_UID, _SOP_CLASS_UID,
                                                                       _SOP_INSTANCE_UID))
        if not all(v and is_valid_uid(v) for v in (study, series, sop_class, sop)):
            return None
        syntax = _first(item, _AVAILABLE_TS) or ""
        if syntax and not is_valid_uid(syntax):
            syntax = ""
        # The size is not known before fetching; nothing downstream relies on it for this backend.
        return StoredInstance(study, series, sop, sop_class, syntax, 0,
                              f"studies/{study}/series/{series}/instances/{sop}")

    def _query_instance(self, uid: str, *, remember: bool = True) -> StoredInstance | None:
        self.round_trips["qido-instance"] += 1
        items = self._query("instances", {"SOPInstanceUID": uid, "includefield": _AVAILABLE_TS})
        # Matched again here: an archive that ignores an unknown filter must not answer another instance.
        found = [i for i in map(self._instance_of, items) if i is not None and i.sop_instance_uid == uid]
        if not found:
            return None
        self._confirmations.add([uid])
        if remember:
            self._instances.put(uid, found[0])
        return found[0]

    def _note_study(self, study_uid: str) -> None:
        """On the second instance of a study looked up one by one, list the whole study: one
        query answers the rest of the burst."""
        count = (self._study_lookups.get(study_uid) or 0) + 1
        self._study_lookups.put(study_uid, 0 if count >= 2 else count)
        if count < 2:
            return
        self.round_trips["qido-study"] += 1
        try:
            items = self._query(f"studies/{study_uid}/instances", {"includefield": _AVAILABLE_TS})
        except ArchiveError as exc:
            log.info("study-level query failed (%s); looking instances up one by one", type(exc).__name__)
            return
        listed = [inst for inst in map(self._instance_of, items) if inst is not None and inst.study_uid == study_uid]
        self._confirmations.add([inst.sop_instance_uid for inst in listed])
        for inst in listed:
            if self._instances.get(inst.sop_instance_uid) is None:
                self._instances.put(inst.sop_instance_uid, inst)

    # -- WADO-RS -----------------------------------------------------------------------------------
    def _fetch(self, instance: StoredInstance) -> PartStream:
        self.round_trips["wado"] += 1
        url = f"{self.url}/{instance.location}"
        resp = self.client.get(url, stream=True, ok=(200, 406),
                               headers={"Accept": self._accept, "Accept-Encoding": "identity"})
        if resp.status_code == 406 and self._accept == AS_STORED:
            # An archive that cannot send "as stored" sends its default syntax; the transfer syntax
            # is then learned from those bytes, the same ones open() will get.
            resp.close()
            log.warning("the archive does not offer transfer-syntax=*; asking for its default syntax")
            self._accept = ARCHIVE_DEFAULT
            resp = self.client.get(url, stream=True, headers={"Accept": self._accept, "Accept-Encoding": "identity"})
        if resp.status_code == 406:
            resp.close()
            raise ArchiveAnswerError("the archive cannot send the object as application/dicom")
        if resp.status_code in (404, 410):
            resp.close()
            self._instances.discard(instance.sop_instance_uid)
            raise InstanceGone("the archive no longer has the document")
        try:
            reader = MultipartReader(resp.raw.read, boundary_of(resp.headers.get("Content-Type", "")),
                                     chunk_size=self.chunk_size)
            stream = PartStream(resp, reader)
        except BaseException:
            resp.close()
            raise
        stream.start()
        self._confirmations.touch()
        return stream

    def _learn_transfer_syntax(self, instance: StoredInstance) -> str:
        """Start fetching the object and read its header: the transfer syntax is remembered, and
        the header's bytes for the :meth:`header` call Anonymize makes; the answer is parked for
        the :meth:`open` that follows when this thread has room for it."""
        part = self._fetch(instance)
        try:
            found = header_from_stream(part.read)
            meta = getattr(found.dataset, "file_meta", None)
            syntax = str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""
            if part.announced_syntax and part.announced_syntax != syntax:
                raise ArchiveAnswerError("the archive announced another transfer syntax than the object's own")
            if not is_valid_uid(syntax):
                raise ArchiveAnswerError("the archive's object has no valid transfer syntax in its file meta")
        except BaseException:
            part.close()
            raise
        uid = instance.sop_instance_uid
        if self._parking.free():
            part.unread(found.prefix)
            self._parking.park(uid, part)
        else:
            part.discard()
        self._syntaxes.put(uid, syntax)
        self._header_bytes.put(uid, found.prefix[:found.length])
        self._confirmations.add([uid])
        return syntax
