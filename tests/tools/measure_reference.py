#!/usr/bin/python3
"""Files with known pixel spacing for the measurement tests, and numpy's statistics of a region.

  measure_reference.py make OUT_DIR
      OUT_DIR/spaced.dcm    400 x 300, 16-bit, Pixel Spacing 0.15 (rows) \\ 0.2 (columns) mm,
                            Rescale Slope 2, Intercept -1000, type HU, seeded random values
      OUT_DIR/detector.dcm  the same pixels with Imager Pixel Spacing 0.143 \\ 0.143 only

  measure_reference.py stats FILE rectangle|ellipse X0 Y0 X1 Y1
      prints {"pixels", "mean", "sd", "min", "max"} of the modality values (pydicom's
      pixel_array * slope + intercept) of the pixels whose centres (i + 0.5, j + 0.5) lie inside
      the shape spanned by the corners; numpy's population SD (ddof 0).
"""
import json
import os
import sys

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid


def make(out):
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(20261205)
    pixels = rng.integers(0, 4096, size=(300, 400), dtype=np.uint16)
    for name, spacing_tag in (("spaced.dcm", "PixelSpacing"), ("detector.dcm", "ImagerPixelSpacing")):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1"  # CR
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID = meta.MediaStorageSOPClassUID
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID = generate_uid()
        ds.SeriesInstanceUID = generate_uid()
        ds.PatientName = "Measure^Test"
        ds.PatientID = "MEASURE-1"
        ds.Modality = "CR"
        ds.Rows, ds.Columns = pixels.shape
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated = 16
        ds.BitsStored = 12
        ds.HighBit = 11
        ds.PixelRepresentation = 0
        ds.RescaleSlope = 2
        ds.RescaleIntercept = -1000
        ds.RescaleType = "HU"
        if spacing_tag == "PixelSpacing":
            ds.PixelSpacing = [0.15, 0.2]
        else:
            ds.ImagerPixelSpacing = [0.143, 0.143]
        ds.PixelData = pixels.tobytes()
        ds.is_little_endian = True
        ds.is_implicit_VR = False
        ds.save_as(os.path.join(out, name), write_like_original=False)


def stats(path, shape, x0, y0, x1, y1):
    ds = pydicom.dcmread(path)
    values = ds.pixel_array.astype(np.float64) * float(ds.get("RescaleSlope", 1)) + float(
        ds.get("RescaleIntercept", 0))
    x0, x1 = sorted((x0, x1))
    y0, y1 = sorted((y0, y1))
    rows, cols = values.shape
    cy, cx = np.mgrid[0:rows, 0:cols] + 0.5
    inside = (cx >= x0) & (cx <= x1) & (cy >= y0) & (cy <= y1)
    if shape == "ellipse":
        rx, ry = (x1 - x0) / 2, (y1 - y0) / 2
        inside = ((cx - (x0 + x1) / 2) / rx) ** 2 + ((cy - (y0 + y1) / 2) / ry) ** 2 <= 1.0
    v = values[inside]
    print(json.dumps({"pixels": int(v.size), "mean": float(v.mean()), "sd": float(v.std()), "min": float(v.min()),
                      "max": float(v.max())}))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        stats(sys.argv[2], sys.argv[3], *map(float, sys.argv[4:8]))
