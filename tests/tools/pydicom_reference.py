#!/usr/bin/python3
"""Decodes DICOM files with pydicom (Debian's python3-pydicom) and writes frame 0 of each as
reference pixels for tst_dicom: <out>/<name>.bin (int64 little endian, rows x cols x samples,
samples interleaved) and <out>/index.txt lines "name rows cols samples photometric" (YBR is converted to RGB with
pydicom's convert_color_space and noted as RGB_from_YBR_...) or
"name ERROR message". Files pydicom cannot decode here (no plugin) are listed as errors and
simply not compared."""
import os
import sys
import warnings

import numpy as np
import pydicom
from pydicom.pixel_data_handlers.util import apply_color_lut, convert_color_space

warnings.simplefilter("ignore")


def decode(path, frame=0):
    """pydicom's pixel_array of one frame as rows x cols x samples; PALETTE COLOR goes
    through its palette (apply_color_lut), giving RGB."""
    ds = pydicom.dcmread(path, force=True)
    arr = ds.pixel_array
    if int(getattr(ds, "NumberOfFrames", 1) or 1) > 1:
        arr = arr[frame]
    if str(getattr(ds, "PhotometricInterpretation", "")) == "PALETTE COLOR":
        arr = apply_color_lut(arr, ds)
    if arr.ndim == 2:
        arr = arr.reshape(arr.shape[0], arr.shape[1], 1)
    return arr


def main(src_dir, out_dir, names):
    os.makedirs(out_dir, exist_ok=True)
    lines = []
    for name in names:
        path = os.path.join(src_dir, name)
        try:
            ds = pydicom.dcmread(path, force=True)
            arr = ds.pixel_array
            frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
            samples = int(getattr(ds, "SamplesPerPixel", 1) or 1)
            if frames > 1:
                arr = arr[0]
            if samples == 1:
                arr = arr.reshape(arr.shape[0], arr.shape[1], 1)
            photometric = str(getattr(ds, "PhotometricInterpretation", "")).replace(" ", "_")
            if samples == 3 and photometric.startswith("YBR"):
                # pydicom leaves YCbCr as stored; Lightbox shows RGB, so compare in RGB.
                arr = convert_color_space(arr, photometric, "RGB")
                photometric = "RGB_from_" + photometric
            arr.astype("<i8").tofile(os.path.join(out_dir, name + ".bin"))
            lines.append(f"{name} {arr.shape[0]} {arr.shape[1]} {arr.shape[2]} {photometric}")
        except Exception as e:  # noqa: BLE001 - any failure means "no reference"
            msg = str(e).replace("\n", " ")[:200]
            lines.append(f"{name} ERROR {type(e).__name__}: {msg}")
    with open(os.path.join(out_dir, "index.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
