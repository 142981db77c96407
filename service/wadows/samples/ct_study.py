"""A full-size CT study for benchmarks and load tests (W1: ~0.5 MB per 512 x 512 slice)."""

from __future__ import annotations

from pathlib import Path

from pydicom.uid import ExplicitVRLittleEndian

from . import pixels
from .headers import Series, Study, layout_path, write_part10
from .identifiers import sample_uid
from .images import ct_image
from .people import SPRINGFIELD, numbered_patient

_SLICE_MM = 1.25
_FIELD_OF_VIEW_MM = 380.0


def generate_ct_study(out_dir: Path, n_instances: int = 200, rows: int = 512, cols: int = 512, *,
                      seed: int = 0) -> list[Path]:
    """One axial CT series of ``n_instances`` slices; ``seed`` picks the patient and every UID,
    so studies with different seeds can share a store without colliding."""
    if n_instances < 1 or rows < 1 or cols < 1:
        raise ValueError("n_instances, rows and cols must be positive")
    patient = numbered_patient(seed)
    study = Study(sample_uid("ct-study", seed, "study"), "20240610", "140233", f"{9000 + seed}",
                  f"ACC-FAKE-R{seed:04d}", "CT THORAX ABDOMEN",
                  ("74177", "C4", "CT abdomen and pelvis with contrast"),
                  ("TAP-ROUTINE", "99FAKEVENDOR", "Thorax-abdomen-pelvis routine"), "Staging (fake)")
    series = Series(sample_uid("ct-study", seed, "series"), 2, "CT", "Abdomen 1.25 B30f", "140301",
                    "TAP ROUTINE", "ABDOMEN", sample_uid("ct-study", seed, "frame-of-reference"))
    spacing = _FIELD_OF_VIEW_MM / cols
    written = []
    for n in range(1, n_instances + 1):
        z = (n_instances / 2 - n) * _SLICE_MM  # feet-first numbering, centred on the kidneys
        ds = ct_image(patient, SPRINGFIELD, study, series, sop_instance_uid=sample_uid("ct-study", seed, n),
                      instance_number=n, content_time=_time_of_slice(n),
                      pixels=pixels.ct_slice(rows, cols, z, key=(seed << 20) + n, field_of_view_mm=_FIELD_OF_VIEW_MM),
                      image_type=["ORIGINAL", "PRIMARY", "AXIAL"],
                      position_mm=[-_FIELD_OF_VIEW_MM / 2, -_FIELD_OF_VIEW_MM * rows / cols / 2, z],
                      orientation=[1.0, 0.0, 0.0, 0.0, 1.0, 0.0], pixel_spacing_mm=spacing,
                      slice_thickness_mm=_SLICE_MM)
        written.append(write_part10(ds, layout_path(out_dir, ds), ExplicitVRLittleEndian))
    return written


def _time_of_slice(n: int) -> str:
    """TM of slice ``n`` of a helical scan that starts at 14:03:05, ten slices per second."""
    tenths = (14 * 3600 + 3 * 60 + 5) * 10 + n
    seconds, tenth = divmod(tenths, 10)
    hours, rest = divmod(seconds, 3600)
    return f"{hours % 24:02d}{rest // 60:02d}{rest % 60:02d}.{tenth}"
