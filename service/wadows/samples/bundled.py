"""The small sample set shipped with wadows (so `wadows serve` has something to serve).

Two patients, chosen to exercise what retrieval and de-identification must get right:

* Jane Doe, a CT abdomen study (ISO_IR 100): a topogram in RLE Lossless, four axial slices in
  Explicit VR Little Endian that reference the topogram, and a coronal reformat in JPEG 2000
  Lossless that references the axial slices.
* Yamada Tarou, a head MR study in ISO_IR 192 (UTF-8; his name has ideographic and phonetic
  component groups, PS3.5 Annex H): three T2 slices in Implicit VR Little Endian and a
  multi-frame (8 frames) Grayscale Word Secondary Capture cine.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, JPEG2000Lossless, RLELossless

from . import pixels
from .headers import CT_IMAGE_STORAGE, Series, Study, layout_path, write_part10
from .identifiers import sample_uid
from .images import ct_image, mr_image, multiframe_secondary_capture
from .people import JANE_DOE, MUSTERSTADT, SPRINGFIELD, YAMADA_TAROU

_AXIAL = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
_CORONAL = [1.0, 0.0, 0.0, 0.0, 0.0, -1.0]


def generate_samples(out_dir: Path) -> list[Path]:
    """Write the bundled sample set under ``out_dir``; the same bytes on every run."""
    return sorted(_ct_study(Path(out_dir)) + _mr_study(Path(out_dir)))


def _series(key: str, number: int, modality: str, description: str, time: str, protocol: str,
            body_part: str, frame_of_reference: str) -> Series:
    return Series(sample_uid("bundled", key, "series"), number, modality, description, time, protocol,
                  body_part, frame_of_reference)


def _ct_study(out: Path) -> list[Path]:
    study = Study(sample_uid("bundled", "ct", "study"), "20240305", "101512", "4711", "ACC-FAKE-0001",
                  "CT ABDOMEN W CONTRAST", ("74177", "C4", "CT abdomen and pelvis with contrast"),
                  ("ABD-ROUTINE", "99FAKEVENDOR", "Abdomen routine"),
                  "Suspected appendicitis (fake)")
    frame = sample_uid("bundled", "ct", "frame-of-reference")
    topogram = _series("ct-topogram", 1, "CT", "Topogram 0.6 T20s", "101530", "ABD ROUTINE", "ABDOMEN", frame)
    axial = _series("ct-axial", 2, "CT", "Abdomen 5.0 B30f", "101602", "ABD ROUTINE", "ABDOMEN", frame)
    coronal = _series("ct-coronal", 3, "CT", "Cor MPR 3.0", "102015", "ABD ROUTINE", "ABDOMEN", frame)
    size, fov = 256, 380.0
    common = dict(patient=JANE_DOE, site=SPRINGFIELD, study=study, pixel_spacing_mm=fov / size)
    written = []

    topogram_uid = sample_uid("bundled", "ct-topogram", 1)
    ds = ct_image(**common, series=topogram, sop_instance_uid=topogram_uid, instance_number=1,
                  content_time="101531", pixels=pixels.coronal_ct(size, size, key=100),
                  image_type=["ORIGINAL", "PRIMARY", "LOCALIZER"], position_mm=[-fov / 2, 0.0, fov / 2],
                  orientation=_CORONAL, slice_thickness_mm=0.6)
    written.append(write_part10(ds, layout_path(out, ds), RLELossless))

    axial_uids = []
    for n in range(1, 5):
        z = -10.0 * (n - 1)
        uid = sample_uid("bundled", "ct-axial", n)
        axial_uids.append(uid)
        ds = ct_image(**common, series=axial, sop_instance_uid=uid, instance_number=n,
                      content_time=f"1016{2 + n:02d}", pixels=pixels.ct_slice(size, size, z, key=200 + n),
                      image_type=["ORIGINAL", "PRIMARY", "AXIAL"], position_mm=[-fov / 2, -fov / 2, z],
                      orientation=_AXIAL, slice_thickness_mm=5.0,
                      referenced_images=[(CT_IMAGE_STORAGE, topogram_uid)])
        written.append(write_part10(ds, layout_path(out, ds), ExplicitVRLittleEndian))

    ds = ct_image(**common, series=coronal, sop_instance_uid=sample_uid("bundled", "ct-coronal", 1),
                  instance_number=1, content_time="102016", pixels=pixels.coronal_ct(size, size, key=300),
                  image_type=["DERIVED", "SECONDARY", "MPR"], position_mm=[-fov / 2, 0.0, fov / 2],
                  orientation=_CORONAL, slice_thickness_mm=3.0,
                  source_images=[(CT_IMAGE_STORAGE, uid) for uid in axial_uids])
    ds.DerivationDescription = "Multiplanar reformat of series 2"
    written.append(write_part10(ds, layout_path(out, ds), JPEG2000Lossless))
    return written


def _mr_study(out: Path) -> list[Path]:
    study = Study(sample_uid("bundled", "mr", "study"), "20240412", "083015", "815", "ACC-FAKE-0002",
                  "MRT Schädel nativ", ("70551", "C4", "MRI brain without contrast"),
                  ("HEAD-NATIVE", "99FAKEVENDOR", "Kopf nativ"),
                  "Kopfschmerzen seit 3 Wochen (fake)")
    frame = sample_uid("bundled", "mr", "frame-of-reference")
    t2 = _series("mr-t2", 1, "MR", "t2_tse_tra", "083120", "t2_tse_tra_Kopf", "HEAD", frame)
    cine = _series("mr-cine", 2, "MR", "Perfusion Cine (SC)", "084500", "ep2d_perf", "HEAD", frame)
    size, fov = 128, 240.0
    common = dict(patient=YAMADA_TAROU, site=MUSTERSTADT, study=study)
    written = []
    for n in range(1, 4):
        z = 5.0 * (n - 2)
        ds = mr_image(**common, series=t2, sop_instance_uid=sample_uid("bundled", "mr-t2", n), instance_number=n,
                      content_time=f"0831{20 + n:02d}", pixels=pixels.mr_slice(size, size, z, key=400 + n),
                      position_mm=[-fov / 2, -fov / 2, z], pixel_spacing_mm=fov / size, slice_thickness_mm=5.0)
        written.append(write_part10(ds, layout_path(out, ds), ImplicitVRLittleEndian))

    frames = np.stack([pixels.mr_slice(size, size, -20.0 + 5.0 * k, key=500 + k) for k in range(8)])
    ds = multiframe_secondary_capture(**common, series=cine, sop_instance_uid=sample_uid("bundled", "mr-cine", 1),
                                      instance_number=1, content_time="084501", frames=frames)
    written.append(write_part10(ds, layout_path(out, ds), ExplicitVRLittleEndian))
    return written

