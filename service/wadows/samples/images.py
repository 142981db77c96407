"""The modality-specific image modules: CT Image (C.8.2.1), MR Image (C.8.3.1) and the
Secondary Capture modules (C.8.6) of the generated objects."""

from __future__ import annotations

from pydicom import Dataset
from pydicom.sequence import Sequence

from .headers import (
    CT_IMAGE_STORAGE,
    MR_IMAGE_STORAGE,
    MULTIFRAME_WORD_SC_STORAGE,
    Series,
    Study,
    base_dataset,
    code,
    item,
    set_pixels,
)
from .people import FakePatient, FakeSite


def ct_image(patient: FakePatient, site: FakeSite, study: Study, series: Series, *, sop_instance_uid: str,
             instance_number: int, content_time: str, pixels, image_type: list[str], position_mm: list[float],
             orientation: list[float], pixel_spacing_mm: float, slice_thickness_mm: float,
             referenced_images: list[tuple[str, str]] = (),
             source_images: list[tuple[str, str]] = ()) -> Dataset:
    """A CT Image Storage instance as a 2020s multi-slice scanner writes one."""
    ds = base_dataset(patient, site, study, series, sop_class_uid=CT_IMAGE_STORAGE,
                      sop_instance_uid=sop_instance_uid, instance_number=instance_number,
                      manufacturer_model="SynthoScan 64 (FAKE)", content_time=content_time)
    _frame_of_reference(ds, series)
    ds.ImageType = image_type
    ds.AcquisitionNumber = 1
    ds.ImagePositionPatient = [_ds(v) for v in position_mm]
    ds.ImageOrientationPatient = [_ds(v) for v in orientation]
    ds.SliceLocation = _ds(position_mm[2])
    ds.SliceThickness = _ds(slice_thickness_mm)
    ds.PixelSpacing = [_ds(pixel_spacing_mm)] * 2
    ds.KVP = "120"
    ds.DataCollectionDiameter = "500"
    ds.ReconstructionDiameter = _ds(pixel_spacing_mm * int(pixels.shape[-1]))
    ds.DistanceSourceToDetector = "1085.6"
    ds.DistanceSourceToPatient = "595"
    ds.GantryDetectorTilt = "0"
    ds.TableHeight = "160"
    ds.RotationDirection = "CW"
    ds.ExposureTime = "500"
    ds.XRayTubeCurrent = 180
    ds.Exposure = 90
    ds.FilterType = "BODY"
    ds.GeneratorPower = 22
    ds.FocalSpots = "1.2"
    ds.ConvolutionKernel = "B30f"
    ds.CTDIvol = 8.42
    ds.CTDIPhantomTypeCodeSequence = Sequence([code("113691", "DCM", "IEC Body Dosimetry Phantom")])
    ds.RescaleIntercept = "-1024"
    ds.RescaleSlope = "1"
    if "LOCALIZER" not in image_type:  # a localizer's values are attenuation, not HU (C.8.2.1.1.8)
        ds.RescaleType = "HU"
    ds.WindowCenter = ["40", "-600"]
    ds.WindowWidth = ["400", "1500"]
    ds.WindowCenterWidthExplanation = ["ABDOMEN", "LUNG"]
    ds.BurnedInAnnotation = "NO"
    if referenced_images:
        ds.ReferencedImageSequence = _references(referenced_images)
    if source_images:
        ds.SourceImageSequence = _references(source_images)
    set_pixels(ds, pixels)
    return ds


def mr_image(patient: FakePatient, site: FakeSite, study: Study, series: Series, *, sop_instance_uid: str,
             instance_number: int, content_time: str, pixels, position_mm: list[float],
             pixel_spacing_mm: float, slice_thickness_mm: float) -> Dataset:
    """An MR Image Storage instance: a T2-weighted turbo spin echo axial slice."""
    ds = base_dataset(patient, site, study, series, sop_class_uid=MR_IMAGE_STORAGE,
                      sop_instance_uid=sop_instance_uid, instance_number=instance_number,
                      manufacturer_model="SynthoMag 1.5T (FAKE)", content_time=content_time)
    _frame_of_reference(ds, series)
    ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "NORM"]
    ds.AcquisitionNumber = 1
    ds.ScanningSequence = "SE"
    ds.SequenceVariant = ["SK", "SP"]
    ds.ScanOptions = "PFP"
    ds.MRAcquisitionType = "2D"
    ds.SequenceName = "*tse2d1_15"
    ds.SliceThickness = _ds(slice_thickness_mm)
    ds.RepetitionTime = "5000"
    ds.EchoTime = "98"
    ds.NumberOfAverages = "1"
    ds.ImagingFrequency = "63.676"
    ds.ImagedNucleus = "1H"
    ds.EchoNumbers = 1
    ds.MagneticFieldStrength = "1.5"
    ds.SpacingBetweenSlices = _ds(slice_thickness_mm * 1.2)
    ds.EchoTrainLength = 15
    ds.PercentSampling = "100"
    ds.PercentPhaseFieldOfView = "100"
    ds.PixelBandwidth = "190"
    ds.ReceiveCoilName = "Head_16"
    ds.TransmitCoilName = "Body"
    ds.AcquisitionMatrix = [0, 128, 128, 0]
    ds.InPlanePhaseEncodingDirection = "ROW"
    ds.FlipAngle = "150"
    ds.SAR = "0.8"
    ds.PatientPosition = "HFS"
    ds.ImagePositionPatient = [_ds(v) for v in position_mm]
    ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
    ds.SliceLocation = _ds(position_mm[2])
    ds.PixelSpacing = [_ds(pixel_spacing_mm)] * 2
    ds.WindowCenter = "1300"
    ds.WindowWidth = "2600"
    set_pixels(ds, pixels)
    return ds


def multiframe_secondary_capture(patient: FakePatient, site: FakeSite, study: Study, series: Series, *,
                                 sop_instance_uid: str, instance_number: int, content_time: str,
                                 frames=None, number_of_frames: int | None = None,
                                 rows: int | None = None, columns: int | None = None) -> Dataset:
    """A Multi-frame Grayscale Word Secondary Capture Image (A.8.4), e.g. a perfusion cine a
    workstation exported. With ``frames=None`` the Pixel Data is left for the caller to stream."""
    ds = base_dataset(patient, site, study, series, sop_class_uid=MULTIFRAME_WORD_SC_STORAGE,
                      sop_instance_uid=sop_instance_uid, instance_number=instance_number,
                      manufacturer_model="SynthoStation (FAKE)", content_time=content_time)
    ds.ConversionType = "WSD"  # SC Equipment (C.8.6.1): workstation
    ds.ImageType = ["DERIVED", "SECONDARY"]
    ds.PatientOrientation = ["L", "P"]  # no Image Plane module, so General Image needs it (C.7.6.1)
    ds.BurnedInAnnotation = "NO"
    ds.PresentationLUTShape = "IDENTITY"
    ds.RescaleIntercept = "0"
    ds.RescaleSlope = "1"
    ds.RescaleType = "US"
    # SC Multi-frame Image (C.8.6.3) and Cine (C.7.6.5): frames 100 ms apart.
    ds.FrameIncrementPointer = 0x00181063  # Frame Time
    ds.FrameTime = "100"
    ds.WindowCenter = "1300"
    ds.WindowWidth = "2600"
    if frames is not None:
        set_pixels(ds, frames)
    else:
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows, ds.Columns = rows, columns
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.NumberOfFrames = number_of_frames
    return ds


def _frame_of_reference(ds: Dataset, series: Series) -> None:
    """Frame of Reference (C.7.4.1): slices of one acquisition share patient coordinates."""
    ds.FrameOfReferenceUID = series.frame_of_reference_uid
    ds.PositionReferenceIndicator = ""


def _references(instances: list[tuple[str, str]]) -> Sequence:
    """Image SOP Instance Reference Macro items (PS3.3 Table 10-3) for (class, instance) pairs."""
    return Sequence([item(ReferencedSOPClassUID=c, ReferencedSOPInstanceUID=i) for c, i in instances])


def _ds(value: float) -> str:
    """A Decimal String formatted here, not by pydicom, so the bytes never depend on its version."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text
