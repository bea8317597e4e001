#!/usr/bin/python3
"""Writes small DICOM files of the kinds tst_dicom checks beyond pydicom's own test files, with
known pixel values, and what pydicom (Debian's python3-pydicom) decodes from them:

  unsigned 32-bit samples (grey and RGB, little and big endian, planar, RLE, with a rescale),
  Float and Double Float Pixel Data (little and big endian, multi-frame, a NaN),
  and an implicit VR data set behind a meta header that says explicit VR.

Usage: make_decode_kinds.py OUT_DIR. For each checked frame F of each file N.dcm it writes
  N.F.known    the values the file was written with (float64 little endian, rows x cols x
               samples), when known independently
  N.F.pydicom  pydicom's pixel_array of that frame
and a line in OUT_DIR/manifest.txt:
  "N F rows cols samples slope intercept known|- pydicom|ERROR:message"
"""
import os
import sys
import warnings

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.pixel_data_handlers.rle_handler import rle_encode_frame
from pydicom.uid import (ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian, RLELossless,
                         generate_uid)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pydicom_reference import decode  # noqa: E402

warnings.simplefilter("ignore")
PALETTES = os.path.join(os.path.dirname(pydicom.__file__), "data", "palettes")
rng = np.random.default_rng(20261205)
manifest = []


def base(rows, cols, photometric, samples=1, frames=1, syntax=ExplicitVRLittleEndian):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"  # Secondary Capture
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = syntax
    ds = Dataset()
    ds.file_meta = meta
    ds.is_little_endian = syntax != ExplicitVRBigEndian
    ds.is_implicit_VR = syntax == ImplicitVRLittleEndian
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "OT"
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = samples
    ds.PhotometricInterpretation = photometric
    if samples > 1:
        ds.PlanarConfiguration = 0
    if frames > 1:
        ds.NumberOfFrames = frames
    return ds


def save(out, name, ds, known, frames=(0,), slope=1.0, intercept=0.0):
    """Saves ds as name.dcm and records each frame: known[f] and pydicom's decode."""
    path = os.path.join(out, name + ".dcm")
    ds.save_as(path, write_like_original=False)
    for f in frames:
        rows, cols = int(ds.Rows), int(ds.Columns)
        samples = int(ds.SamplesPerPixel)
        if known is not None:
            k = np.asarray(known[f], dtype="<f8").reshape(rows, cols, -1)
            samples = k.shape[2]
            k.tofile(os.path.join(out, f"{name}.{f}.known"))
        try:
            ref = decode(path, f).astype("<f8")
            ref.tofile(os.path.join(out, f"{name}.{f}.pydicom"))
            status = "pydicom"
        except Exception as e:  # noqa: BLE001 - recorded, and the test fails on it
            status = "ERROR:" + (type(e).__name__ + ":" + str(e)).replace(" ", "_")[:150]
        manifest.append(f"{name} {f} {rows} {cols} {samples} {slope!r} {intercept!r} "
                        f"{'known' if known is not None else '-'} {status}")


def to_bytes(arr, little):
    return arr.astype(arr.dtype.newbyteorder("<" if little else ">")).tobytes()


def uint32(out):
    rows, cols, frames = 6, 9, 2
    grey = rng.integers(0, 2**32, size=(frames, rows, cols), dtype=np.uint64).astype(np.uint32)
    grey[0, 0, :6] = [0, 1, 2**31 - 1, 2**31, 2**32 - 2, 2**32 - 1]  # both sides of 2^31
    for little, syntax in ((True, ExplicitVRLittleEndian), (False, ExplicitVRBigEndian)):
        ds = base(rows, cols, "MONOCHROME2", frames=frames, syntax=syntax)
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 32, 32, 31, 0
        ds.RescaleSlope, ds.RescaleIntercept = "0.5", "-1000"
        ds.PixelData = to_bytes(grey, little)
        ds["PixelData"].VR = "OW"
        save(out, f"u32_grey_{'le' if little else 'be'}", ds, grey, (0, 1), 0.5, -1000.0)

    rgb = rng.integers(0, 2**32, size=(1, rows, cols, 3), dtype=np.uint64).astype(np.uint32)
    rgb[0, 0, 0] = [0, 2**31, 2**32 - 1]
    for little, syntax, planar in ((True, ExplicitVRLittleEndian, 0), (False, ExplicitVRBigEndian, 0),
                                   (True, ExplicitVRLittleEndian, 1)):
        ds = base(rows, cols, "RGB", samples=3, syntax=syntax)
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 32, 32, 31, 0
        ds.PlanarConfiguration = planar
        data = rgb[0].transpose(2, 0, 1) if planar else rgb[0]
        ds.PixelData = to_bytes(np.ascontiguousarray(data), little)
        ds["PixelData"].VR = "OW"
        save(out, f"u32_rgb_{'le' if little else 'be'}{'_planar' if planar else ''}", ds, rgb)

    # pydicom's compress() allows RLE up to 16 bits; its frame encoder does 32.
    ds = base(rows, cols, "MONOCHROME2", frames=frames, syntax=RLELossless)
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 32, 32, 31, 0
    ds.PixelData = encapsulate([rle_encode_frame(f) for f in grey])
    ds["PixelData"].is_undefined_length = True
    save(out, "u32_grey_rle", ds, grey, (0, 1))


def floats(out):
    rows, cols, frames = 5, 7, 2
    f32 = rng.normal(0.0, 1000.0, size=(frames, rows, cols)).astype(np.float32)
    f32[0, 0, :5] = [0.0, -0.0, 1e-30, -3.4e38, 0.1]
    f32[1, 4, 6] = np.nan  # no value: shown black, left out of the automatic window
    f64 = rng.normal(0.0, 1.0, size=(frames, rows, cols))
    f64[0, 0, :4] = [0.1, 1.0 / 3.0, -2.0**-1000, 1e300]  # not representable as float32
    for little, syntax in ((True, ExplicitVRLittleEndian), (False, ExplicitVRBigEndian)):
        e = "le" if little else "be"
        ds = base(rows, cols, "MONOCHROME2", frames=frames, syntax=syntax)
        ds.BitsAllocated = 32
        ds.FloatPixelData = to_bytes(f32, little)
        save(out, f"float_{e}", ds, f32.astype(np.float64), (0, 1))

        ds = base(rows, cols, "MONOCHROME2", frames=frames, syntax=syntax)
        ds.BitsAllocated = 64
        ds.DoubleFloatPixelData = to_bytes(f64, little)
        save(out, f"double_{e}", ds, f64, (0, 1))

    # A parametric map of small values (an ADC map in mm^2/s): the window must follow them.
    adc = np.linspace(0.0005, 0.003, rows * cols, dtype=np.float32).reshape(1, rows, cols)
    ds = base(rows, cols, "MONOCHROME2")
    ds.BitsAllocated = 32
    ds.FloatPixelData = adc.tobytes()
    save(out, "float_adc", ds, adc.astype(np.float64))


def implicit_under_explicit(out):
    """An implicit VR data set behind a meta header that says Explicit VR Little Endian."""
    rows, cols = 6, 5
    px = rng.integers(0, 4096, size=(1, rows, cols), dtype=np.uint16)
    ds = base(rows, cols, "MONOCHROME2", syntax=ImplicitVRLittleEndian)
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = px.tobytes()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    path = os.path.join(out, "implicit_under_explicit_meta.dcm")
    ds.save_as(path, write_like_original=True)
    rows_, cols_ = rows, cols
    px[0].astype("<f8").reshape(rows_, cols_, 1).tofile(os.path.join(out, "implicit_under_explicit_meta.0.known"))
    try:
        decode(path, 0).astype("<f8").tofile(os.path.join(out, "implicit_under_explicit_meta.0.pydicom"))
        status = "pydicom"
    except Exception as e:  # noqa: BLE001
        status = "ERROR:" + (type(e).__name__ + ":" + str(e)).replace(" ", "_")[:150]
    manifest.append(f"implicit_under_explicit_meta 0 {rows} {cols} 1 1.0 0.0 known {status}")


def main(out):
    os.makedirs(out, exist_ok=True)
    uint32(out)
    floats(out)
    implicit_under_explicit(out)
    with open(os.path.join(out, "manifest.txt"), "w") as f:
        f.write("\n".join(manifest) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
