#!/usr/bin/python3
"""Writes the High-Throughput JPEG 2000 (HTJ2K) DICOM files of tests/data/htj2k, which
tst_dicom decodes and compares with the pixel formulas below. pydicom 2.3.1 cannot decode
HTJ2K, so the files are checked against the values they were made from.

Needs ojph_compress from Debian 12's openjph-tools (OpenJPH 0.9.0), which the tests do not:
the files are committed. Made with:
    apt-get install openjph-tools
    tests/tools/make_htj2k_files.py tests/data/htj2k

  htj2k_lossless_grey12.dcm  1.2.840.10008.1.2.4.201  64 x 48, 12 bits stored in 16, 2 frames
  htj2k_rpcl_rgb8.dcm        1.2.840.10008.1.2.4.202  64 x 48 RGB, 8 bits, reversible colour
                                                       transform, RPCL progression
  htj2k_lossy_grey12.dcm     1.2.840.10008.1.2.4.203  the first frame above, irreversible 9/7
                                                       wavelet (qstep 0.002): close, not equal

No signed file: OpenJPEG 2.5.0 decodes OpenJPH 0.9.0's signed HTJ2K codestreams wrongly (negative
samples come back clamped, and through the wavelet their neighbours too; ojph_expand gets them
back), and without a third decoder here it is not clear which side is at fault, so Lightbox's
signed HTJ2K decoding is untested.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import generate_uid
from pydicom._uid_dict import UID_dictionary

# pydicom 2.3.1 predates the HTJ2K transfer syntaxes (2023): teach it their names so that it
# writes them as encapsulated.
for uid, name in (("1.2.840.10008.1.2.4.201", "High-Throughput JPEG 2000 Image Compression (Lossless Only)"),
                  ("1.2.840.10008.1.2.4.202", "High-Throughput JPEG 2000 with RPCL Options Image Compression "
                                              "(Lossless Only)"),
                  ("1.2.840.10008.1.2.4.203", "High-Throughput JPEG 2000 Image Compression")):
    UID_dictionary.setdefault(uid, (name, "Transfer Syntax", "", "", ""))

ROWS, COLS = 48, 64


def grey12(frame):
    """The 12-bit grey pattern of a frame: tst_dicom computes the same."""
    y, x = np.mgrid[0:ROWS, 0:COLS]
    return ((x * 61 + y * 127 + (x * y) % 97 + frame * 1000) % 4096).astype(np.uint16)


def rgb8():
    """The 8-bit RGB pattern: tst_dicom computes the same."""
    y, x = np.mgrid[0:ROWS, 0:COLS]
    return np.stack([(x * 4) % 256, (y * 5) % 256, (x * y) % 256], axis=-1).astype(np.uint8)


def write_pnm(path, arr, maxval):
    """PGM (grey) or PPM (RGB), 16-bit samples big endian as Netpbm has them."""
    magic = b"P6" if arr.ndim == 3 else b"P5"
    with open(path, "wb") as f:
        f.write(magic + b"\n%d %d\n%d\n" % (arr.shape[1], arr.shape[0], maxval))
        f.write(arr.astype(">u2" if maxval > 255 else "u1").tobytes())


def compress(arr, maxval, args):
    """An HTJ2K codestream of arr (through a Netpbm file)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.j2c")
        src = os.path.join(tmp, "in.ppm" if arr.ndim == 3 else "in.pgm")
        write_pnm(src, arr, maxval)
        subprocess.run(["ojph_compress", "-i", src, "-o", out] + args, check=True, stdout=subprocess.DEVNULL)
        with open(out, "rb") as f:
            return f.read()


def save(path, syntax, frames, codestreams, samples, bits_stored, bits_allocated):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"  # Secondary Capture
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = syntax
    ds = Dataset()
    ds.file_meta = meta
    ds.is_little_endian, ds.is_implicit_VR = True, False
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "OT"
    ds.Rows, ds.Columns = ROWS, COLS
    ds.SamplesPerPixel = samples
    ds.PhotometricInterpretation = "RGB" if samples == 3 else "MONOCHROME2"
    if samples == 3:
        ds.PlanarConfiguration = 0
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = bits_allocated, bits_stored, bits_stored - 1
    ds.PixelRepresentation = 0
    ds.PixelData = encapsulate(codestreams)
    ds["PixelData"].is_undefined_length = True
    ds["PixelData"].VR = "OB"
    ds.save_as(path, write_like_original=False)


def main(out):
    os.makedirs(out, exist_ok=True)
    lossless = ["-reversible", "true", "-num_decomps", "3"]
    save(os.path.join(out, "htj2k_lossless_grey12.dcm"), "1.2.840.10008.1.2.4.201", 2,
         [compress(grey12(f), 4095, lossless) for f in (0, 1)], 1, 12, 16)
    save(os.path.join(out, "htj2k_rpcl_rgb8.dcm"), "1.2.840.10008.1.2.4.202", 1,
         [compress(rgb8(), 255, lossless + ["-prog_order", "RPCL", "-colour_trans", "true"])], 3, 8, 8)
    save(os.path.join(out, "htj2k_lossy_grey12.dcm"), "1.2.840.10008.1.2.4.203", 1,
         [compress(grey12(0), 4095, ["-qstep", "0.002", "-num_decomps", "3"])], 1, 12, 16)


if __name__ == "__main__":
    main(sys.argv[1])
