#pragma once
// Measurements on an image, in image pixel coordinates (continuous: pixel (i, j) covers
// [i, i+1) x [j, j+1)): lengths calibrated by the file's pixel spacing, angles, and the
// statistics of the modality values inside a rectangle or an ellipse. Qt-free; the viewer's
// annotation layer (ui/Annotations) draws and labels them.

#include "Image.h"

#include <string>

namespace lightbox::imaging {

struct MeasurePoint {
    double x = 0.0;
    double y = 0.0;
};

/// How lengths on an image are calibrated.
struct Calibration {
    enum class Kind {
        Patient,  ///< Pixel Spacing: mm in the patient
        Detector, ///< Imager Pixel Spacing only: mm at the detector (magnified)
        Pixels,   ///< no spacing: lengths in pixels
        User,     ///< calibrated by the user on an object of known length
    };
    Kind kind = Kind::Pixels;
    double rowMm = 1.0; ///< mm between rows (1 for Pixels)
    double colMm = 1.0; ///< mm between columns (1 for Pixels)

    bool inMm() const { return kind != Kind::Pixels; }
    /// "mm" or "px"; areas add "²".
    const char* unit() const { return inMm() ? "mm" : "px"; }
};

/// The calibration of `image`: Pixel Spacing, else Imager Pixel Spacing, else pixels.
Calibration calibrationOf(const Image& image);

/// The distance from `a` to `b` in the calibration's unit.
double distance(const Calibration& cal, MeasurePoint a, MeasurePoint b);

/// The angle at `vertex` between the rays to `a` and `c`, in degrees (0..180), measured in
/// physical space (pixels can be anisotropic). NaN when a ray has no length.
double angleDegrees(const Calibration& cal, MeasurePoint a, MeasurePoint vertex, MeasurePoint c);

/// The Cobb angle between line a1-a2 and line b1-b2: the acute angle between the lines, in
/// degrees (0..90), physical space. NaN when a line has no length.
double cobbDegrees(const Calibration& cal, MeasurePoint a1, MeasurePoint a2, MeasurePoint b1, MeasurePoint b2);

enum class RegionShape { Rectangle, Ellipse };

/// Statistics of the modality values (stored * slope + intercept; float data as stored) of
/// the pixels whose centres lie inside a region, over all channels (one value per sample).
struct RegionStats {
    long long pixels = 0; ///< pixels inside
    double mean = 0.0;
    double sd = 0.0; ///< population standard deviation (numpy's default)
    double min = 0.0;
    double max = 0.0;
    double area = 0.0; ///< of the shape itself, in the calibration's unit squared
};

/// The region spanned by corners `p` and `q` (either order): the rectangle, or the ellipse
/// inscribed in it. The region is clipped to the image.
RegionStats regionStats(const Image& image, const Calibration& cal, RegionShape shape, MeasurePoint p, MeasurePoint q);

} // namespace lightbox::imaging
