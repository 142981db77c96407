"""One frame decoded on its own, from the data set or from the file, equal to that frame of
pydicom's whole-object decode; the file path reads only that frame's bytes."""

from __future__ import annotations

import io
from pathlib import Path
import warnings

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.pixels import convert_color_space
from pydicom.uid import MPEG4HP41

from wadows.dicom.frames import FrameError, UnsupportedFrame, decode_frame, frame_count


def load(name: str, **kw) -> pydicom.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(get_testdata_file(name), **kw)


@pytest.mark.parametrize("name", ["emri_small.dcm", "emri_small_jpeg_2k_lossless.dcm", "emri_small_RLE.dcm",
                                  "emri_small_big_endian.dcm"])
def test_each_frame_equals_the_whole_decode(name):
    ds = load(name)
    whole = ds.pixel_array
    assert frame_count(ds) == len(whole) == 10
    for index in (0, 4, 9):
        frame = decode_frame(ds, index)
        assert frame.pixels.dtype.byteorder in ("=", "<", "|")
        assert np.array_equal(frame.pixels, whole[index]) and frame.photometric == "MONOCHROME2"


class CountingFile(io.FileIO):
    read_bytes = 0

    def read(self, size=-1):
        data = super().read(size)
        self.read_bytes += len(data)
        return data

    def readinto(self, b):
        n = super().readinto(b)
        self.read_bytes += n or 0
        return n


@pytest.mark.parametrize("name", ["emri_small.dcm", "emri_small_jpeg_2k_lossless.dcm"])
def test_from_the_file_only_that_frame_is_read(name):
    path = get_testdata_file(name)
    ds = load(name, defer_size=1024)
    raw = ds._dict[0x7FE00010]          # still on disk: a RawDataElement with its value's offset
    assert raw.value is None
    value_length = Path(path).stat().st_size - raw.value_tell
    whole = load(name).pixel_array
    with CountingFile(path, "rb") as f:
        def open_value():
            f.seek(raw.value_tell)
            f.read_bytes = 0
            return f
        frame = decode_frame(ds, 7, open_value=open_value)
        assert np.array_equal(frame.pixels, whole[7])
        assert f.read_bytes < value_length / 3   # 1 frame of 10, plus item headers / offset table


def test_colour_space_is_reported_not_converted():
    ds = load("SC_ybr_full_uncompressed.dcm")
    frame = decode_frame(ds, 0)
    assert frame.photometric == "YBR_FULL"
    assert np.array_equal(convert_color_space(frame.pixels, "YBR_FULL", "RGB"), ds.pixel_array)


def test_errors():
    ds = load("CT_small.dcm")
    with pytest.raises(FrameError):
        decode_frame(ds, 1)
    with pytest.raises(UnsupportedFrame):
        decode_frame(load("rtplan.dcm"), 0)
    ds.file_meta.TransferSyntaxUID = MPEG4HP41
    with pytest.raises(UnsupportedFrame):
        decode_frame(ds, 0)
    with pytest.raises(FrameError) as e:
        decode_frame(load("MR_truncated.dcm"), 0)
    assert "MR" not in str(e.value) or "frame" in str(e.value)
