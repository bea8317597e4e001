#!/usr/bin/python3
"""Writes small DICOM files of the kinds tst_dicom checks beyond pydicom's own test files, with
known pixel values, and what pydicom (Debian's python3-pydicom) decodes from them:

  unsigned 32-bit samples (grey and RGB, little and big endian, planar, RLE, with a rescale),
  Float and Double Float Pixel Data (little and big endian, multi-frame, a NaN),
  PALETTE COLOR with 8- and 16-bit tables, plain and segmented, signed indices, RLE, big endian,
  and an implicit VR data set behind a meta header that says explicit VR.

Usage: make_decode_kinds.py OUT_DIR. For each checked frame F of each file N.dcm it writes
  N.F.known    the values the file was written with (float64 little endian, rows x cols x
               samples; for PALETTE COLOR the RGB the palette gives), when known independently
  N.F.pydicom  pydicom's pixel_array of that frame (after apply_color_lut for PALETTE COLOR)
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
        samples = 3 if known is None and ds.PhotometricInterpretation == "PALETTE COLOR" else int(ds.SamplesPerPixel)
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


def lut_apply(idx, first, luts):
    n = len(luts[0])
    i = np.clip(idx.astype(np.int64) - first, 0, n - 1)
    return np.stack([np.asarray(lut)[i] for lut in luts], axis=-1)


def palette_base(rows, cols, bits, entries, first, lut_bits, signed=False, syntax=ExplicitVRLittleEndian, frames=1):
    ds = base(rows, cols, "PALETTE COLOR", frames=frames, syntax=syntax)
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = bits, bits, bits - 1
    ds.PixelRepresentation = 1 if signed else 0
    for c in ("Red", "Green", "Blue"):
        ds.add_new(pydicom.datadict.tag_for_keyword(f"{c}PaletteColorLookupTableDescriptor"),
                   "SS" if signed else "US", [entries % 65536, first, lut_bits])
    return ds


def set_lut(ds, luts, little, segmented=False):
    for c, lut in zip(("Red", "Green", "Blue"), luts):
        kw = f"Segmented{c}PaletteColorLookupTableData" if segmented else f"{c}PaletteColorLookupTableData"
        ds.add_new(pydicom.datadict.tag_for_keyword(kw), "OW", lut)


def palettes(out):
    rows, cols = 8, 10
    # 8-bit indices through a standard 8-bit palette (hot iron: 256 byte entries).
    hot = pydicom.dcmread(os.path.join(PALETTES, "hotiron.dcm"))
    luts = [np.frombuffer(hot[f"{c}PaletteColorLookupTableData"].value, np.uint8)
            for c in ("Red", "Green", "Blue")]
    idx = rng.integers(0, 256, size=(1, rows, cols), dtype=np.uint8)
    idx[0, 0, :2] = [0, 255]
    for little, syntax in ((True, ExplicitVRLittleEndian), (False, ExplicitVRBigEndian)):
        ds = palette_base(rows, cols, 8, 256, 0, 8, syntax=syntax)
        set_lut(ds, [lut.tobytes() for lut in luts], little)
        ds.PixelData = idx.tobytes()
        save(out, f"palette8_{'le' if little else 'be'}", ds, lut_apply(idx, 0, luts))
    ds = palette_base(rows, cols, 8, 256, 0, 8)
    set_lut(ds, [lut.tobytes() for lut in luts], True)
    ds.compress(RLELossless, idx[0])
    save(out, "palette8_rle", ds, lut_apply(idx, 0, luts))

    # 16-bit indices, 16-bit entries, first mapped 100: indices below take entry 0, above
    # the last entry; two frames, little and big endian, and RLE.
    entries, first = 4096, 100
    luts16 = [rng.integers(0, 65536, size=entries, dtype=np.uint16) for _ in range(3)]
    idx16 = rng.integers(0, 5000, size=(2, rows, cols), dtype=np.uint16)
    idx16[0, 0, :4] = [0, 99, 100, 4195]
    known = lut_apply(idx16, first, luts16)
    for little, syntax in ((True, ExplicitVRLittleEndian), (False, ExplicitVRBigEndian)):
        ds = palette_base(rows, cols, 16, entries, first, 16, syntax=syntax, frames=2)
        set_lut(ds, [to_bytes(lut, little) for lut in luts16], little)
        ds.PixelData = to_bytes(idx16, little)
        ds["PixelData"].VR = "OW"
        save(out, f"palette16_{'le' if little else 'be'}", ds, known, (0, 1))
    ds = palette_base(rows, cols, 16, entries, first, 16, frames=2)
    set_lut(ds, [lut.tobytes() for lut in luts16], True)
    ds.compress(RLELossless, idx16)
    save(out, "palette16_rle", ds, known, (0, 1))

    # Signed 16-bit indices with a negative first mapped value (SS descriptor).
    sidx = rng.integers(-300, 4000, size=(1, rows, cols), dtype=np.int16)
    sidx[0, 0, :3] = [-300, -100, -99]
    ds = palette_base(rows, cols, 16, entries, -100, 16, signed=True)
    set_lut(ds, [lut.tobytes() for lut in luts16], True)
    ds.PixelData = sidx.tobytes()
    ds["PixelData"].VR = "OW"
    save(out, "palette16_signed", ds, lut_apply(sidx, -100, luts16))

    # Segmented 8-bit tables: the standard SPRING palette as pydicom ships it (red 255, green
    # rising 0..255, blue falling 255..0) and SUMMER (linear segments with fractional steps).
    for name in ("spring", "summer"):
        pal = pydicom.dcmread(os.path.join(PALETTES, name + ".dcm"))
        ds = palette_base(rows, cols, 8, 256, 0, 8)
        set_lut(ds, [pal[f"Segmented{c}PaletteColorLookupTableData"].value for c in ("Red", "Green", "Blue")],
                True, segmented=True)
        ds.PixelData = idx.tobytes()
        ramp = np.arange(256)
        known = lut_apply(idx, 0, [np.full(256, 255), ramp, 255 - ramp]) if name == "spring" else None
        save(out, f"palette8_segmented_{name}", ds, known)

    # Segmented 8-bit tables with an indirect segment whose offset (6 entries in) is written
    # as two words in the data set's byte order: discrete [5], linear to 9 over 2, discrete
    # [10, 20, 30], linear to 50 over 4, then the last two segments again (indirect).
    for little, syntax in ((True, ExplicitVRLittleEndian), (False, ExplicitVRBigEndian)):
        offset = [6, 0, 0, 0] if little else [0, 6, 0, 0]
        red = bytes([0, 1, 5, 1, 2, 9, 0, 3, 10, 20, 30, 1, 4, 50, 2, 2] + offset)
        red_lut = [5, 7, 9, 10, 20, 30, 35, 40, 45, 50, 10, 20, 30, 35, 40, 45, 50]
        blue_lut = list(range(100, 117))
        blue = bytes([0, 17] + blue_lut + [0])  # padded to an even length
        ds = palette_base(rows, cols, 8, 17, 0, 8, syntax=syntax)
        set_lut(ds, [red, red, blue], little, segmented=True)
        small = (idx % 20).astype(np.uint8)  # 17..19 take the last entry
        ds.PixelData = small.tobytes()
        save(out, f"palette8_segmented_indirect_{'le' if little else 'be'}", ds,
             lut_apply(small, 0, [red_lut, red_lut, blue_lut]))

    # Segmented 16-bit tables with discrete, linear (exact steps) and indirect segments;
    # 200 entries, written little and big endian, RLE too.
    #   red:   discrete [0, 500], linear 98 entries to 49500 (step 500), linear 100 to 0
    #   green: discrete [65535], linear 99 to 65535 - 99*500, then an indirect segment that
    #          repeats those two segments (offset 0)
    #   blue:  discrete [7], linear 199 entries to 7 (flat)
    red = [0, 2, 0, 500, 1, 98, 49500, 1, 100, 0]
    green = [0, 1, 65535, 1, 99, 65535 - 99 * 500, 2, 2, 0, 0]
    blue = [0, 1, 7, 1, 199, 7]
    red_lut = [0, 500] + [500 * (k + 2) for k in range(98)] + [49500 - 495 * (k + 1) for k in range(100)]
    green_lut = ([65535] + [65535 - 500 * (k + 1) for k in range(99)]) * 2
    blue_lut = [7] * 200
    assert len(red_lut) == len(green_lut) == len(blue_lut) == 200
    sluts = [red_lut, green_lut, blue_lut]
    sidx16 = rng.integers(0, 220, size=(1, rows, cols), dtype=np.uint16)
    for little, syntax in ((True, ExplicitVRLittleEndian), (False, ExplicitVRBigEndian)):
        ds = palette_base(rows, cols, 16, 200, 0, 16, syntax=syntax)
        set_lut(ds, [to_bytes(np.array(s, np.uint16), little) for s in (red, green, blue)], little, segmented=True)
        ds.PixelData = to_bytes(sidx16, little)
        ds["PixelData"].VR = "OW"
        save(out, f"palette16_segmented_{'le' if little else 'be'}", ds, lut_apply(sidx16, 0, sluts))
    ds = palette_base(rows, cols, 16, 200, 0, 16)
    set_lut(ds, [np.array(s, np.uint16).tobytes() for s in (red, green, blue)], True, segmented=True)
    ds.compress(RLELossless, sidx16[0])
    save(out, "palette16_segmented_rle", ds, lut_apply(sidx16, 0, sluts))


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
    palettes(out)
    implicit_under_explicit(out)
    with open(os.path.join(out, "manifest.txt"), "w") as f:
        f.write("\n".join(manifest) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
