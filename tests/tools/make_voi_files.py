#!/usr/bin/python3
"""Writes two DICOM files with a known VOI for tst_dicom, from pydicom's CT_small.dcm:
<out>/two_windows.dcm (Window Center/Width with two values and explanations) and
<out>/voi_lut.dcm (a VOI LUT Sequence mapping stored values 0..4095 through a square-root
curve to 0..65535 (16-bit entries), no windows)."""
import os
import sys

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence


def main(src, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    ds = pydicom.dcmread(src)
    ds.WindowCenter = [40, 400]
    ds.WindowWidth = [350, 1800]
    ds.WindowCenterWidthExplanation = ["SOFT", "BONE"]
    ds.save_as(os.path.join(out_dir, "two_windows.dcm"))

    ds = pydicom.dcmread(src)
    for kw in ("WindowCenter", "WindowWidth", "WindowCenterWidthExplanation"):
        if kw in ds:
            delattr(ds, kw)
    # The LUT takes modality values (after rescale): first mapped value -1024, 4096 entries.
    entries = 4096
    lut = np.sqrt(np.arange(entries) / (entries - 1.0)) * 65535.0
    item = Dataset()
    item.LUTDescriptor = [entries, -1024 & 0xFFFF, 16]
    item.LUTExplanation = "SQRT"
    item.LUTData = np.round(lut).astype("<u2").tobytes()
    ds.VOILUTSequence = Sequence([item])
    ds.save_as(os.path.join(out_dir, "voi_lut.dcm"))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
