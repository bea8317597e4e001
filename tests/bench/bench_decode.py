#!/usr/bin/python3
"""Python peer of bench_decode: pydicom (Debian's python3-pydicom, Pillow/OpenJPEG handlers)
reads each file, decodes frame 0 and renders it to 8 bits with the file's first window
(or 1-99 % percentiles), MONOCHROME1 inverted, all with numpy. Prints one line per file:
"name median_ms" or "name ERROR reason"."""
import statistics
import sys
import time
import warnings

import numpy as np
import pydicom

warnings.simplefilter("ignore")


def render(ds):
    arr = ds.pixel_array.astype(np.float32)
    slope = float(getattr(ds, "RescaleSlope", 1) or 1)
    intercept = float(getattr(ds, "RescaleIntercept", 0) or 0)
    arr = arr * slope + intercept
    wc = getattr(ds, "WindowCenter", None)
    ww = getattr(ds, "WindowWidth", None)
    if wc is not None and ww is not None:
        c = float(wc[0] if isinstance(wc, pydicom.multival.MultiValue) else wc)
        w = float(ww[0] if isinstance(ww, pydicom.multival.MultiValue) else ww)
        lo, hi = c - w / 2, c + w / 2
    else:
        lo, hi = np.percentile(arr, [1, 99])
    out = np.clip((arr - lo) / max(hi - lo, 1e-6), 0, 1) * 255.0
    if str(getattr(ds, "PhotometricInterpretation", "")) == "MONOCHROME1":
        out = 255.0 - out
    return out.astype(np.uint8)


def main(iterations, paths):
    for path in paths:
        name = path.rsplit("/", 1)[-1]
        try:
            times = []
            for _ in range(iterations):
                t0 = time.perf_counter()
                img = render(pydicom.dcmread(path))
                times.append((time.perf_counter() - t0) * 1000)
            assert img.size > 0
            print(f"{name} {statistics.median(times):.2f}", flush=True)
        except Exception as e:  # noqa: BLE001
            print(f"{name} ERROR {type(e).__name__}: {str(e)[:80]}", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2:])
