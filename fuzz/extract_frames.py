#!/usr/bin/env python3
"""Writes the JPEG 2000 (and HTJ2K) frames of DICOM files as bare codestreams, the seeds of
fuzz_jpeg2000. Usage: extract_frames.py OUT_DIR FILE...  (needs Debian's python3-pydicom)"""
import os
import sys

import pydicom
from pydicom.encaps import generate_pixel_data_frame

J2K = ("1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.201",
       "1.2.840.10008.1.2.4.202", "1.2.840.10008.1.2.4.203")

out = sys.argv[1]
written = 0
for path in sys.argv[2:]:
    try:
        ds = pydicom.dcmread(path)
        if str(ds.file_meta.TransferSyntaxUID) not in J2K or "PixelData" not in ds:
            continue
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        for i, frame in enumerate(generate_pixel_data_frame(ds.PixelData, frames)):
            if i >= 4:
                break
            name = "%s-f%d.j2k" % (os.path.splitext(os.path.basename(path))[0], i)
            with open(os.path.join(out, name), "wb") as f:
                f.write(frame)
            written += 1
    except Exception as e:  # a file pydicom cannot split is simply not a seed
        print("%s: %s" % (path, e), file=sys.stderr)
print("%d frames" % written)
