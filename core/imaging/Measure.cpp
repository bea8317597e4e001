#include "Measure.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace lightbox::imaging {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kPi = 3.14159265358979323846;

/// The vector from a to b in physical units (mm, or pixels).
void physical(const Calibration& cal, MeasurePoint a, MeasurePoint b, double& dx, double& dy)
{
    dx = (b.x - a.x) * cal.colMm;
    dy = (b.y - a.y) * cal.rowMm;
}

} // namespace

Calibration calibrationOf(const Image& image)
{
    Calibration c;
    if (image.spacingRow > 0 && image.spacingCol > 0 && std::isfinite(image.spacingRow) &&
        std::isfinite(image.spacingCol)) {
        c.kind = image.spacingSource == "ImagerPixelSpacing" ? Calibration::Kind::Detector : Calibration::Kind::Patient;
        c.rowMm = image.spacingRow;
        c.colMm = image.spacingCol;
    }
    return c;
}

double distance(const Calibration& cal, MeasurePoint a, MeasurePoint b)
{
    double dx = 0, dy = 0;
    physical(cal, a, b, dx, dy);
    return std::hypot(dx, dy);
}

double angleDegrees(const Calibration& cal, MeasurePoint a, MeasurePoint vertex, MeasurePoint c)
{
    double ux = 0, uy = 0, vx = 0, vy = 0;
    physical(cal, vertex, a, ux, uy);
    physical(cal, vertex, c, vx, vy);
    const double nu = std::hypot(ux, uy), nv = std::hypot(vx, vy);
    if (nu <= 0 || nv <= 0)
        return kNaN;
    // atan2 of the cross and dot products: accurate near 0 and 180 degrees too.
    return std::atan2(std::abs(ux * vy - uy * vx), ux * vx + uy * vy) * 180.0 / kPi;
}

double cobbDegrees(const Calibration& cal, MeasurePoint a1, MeasurePoint a2, MeasurePoint b1, MeasurePoint b2)
{
    double ux = 0, uy = 0, vx = 0, vy = 0;
    physical(cal, a1, a2, ux, uy);
    physical(cal, b1, b2, vx, vy);
    if (std::hypot(ux, uy) <= 0 || std::hypot(vx, vy) <= 0)
        return kNaN;
    const double angle = std::atan2(std::abs(ux * vy - uy * vx), ux * vx + uy * vy) * 180.0 / kPi;
    return angle > 90.0 ? 180.0 - angle : angle;
}

RegionStats regionStats(const Image& image, const Calibration& cal, RegionShape shape, MeasurePoint p, MeasurePoint q)
{
    RegionStats s;
    const double x0 = std::min(p.x, q.x), x1 = std::max(p.x, q.x);
    const double y0 = std::min(p.y, q.y), y1 = std::max(p.y, q.y);
    const double w = (x1 - x0) * cal.colMm, h = (y1 - y0) * cal.rowMm;
    s.area = shape == RegionShape::Rectangle ? w * h : kPi * w * h / 4.0;
    if (image.empty() || x1 <= x0 || y1 <= y0)
        return s;

    // Pixels whose centres (i + 0.5, j + 0.5) lie inside the shape.
    const int i0 = std::max(0, static_cast<int>(std::ceil(x0 - 0.5)));
    const int i1 = std::min(image.width() - 1, static_cast<int>(std::floor(x1 - 0.5)));
    const int j0 = std::max(0, static_cast<int>(std::ceil(y0 - 0.5)));
    const int j1 = std::min(image.height() - 1, static_cast<int>(std::floor(y1 - 0.5)));
    if (i1 < i0 || j1 < j0)
        return s;
    const double cx = (x0 + x1) / 2.0, cy = (y0 + y1) / 2.0;
    const double rx = (x1 - x0) / 2.0, ry = (y1 - y0) / 2.0;

    cv::Mat values; // the bounding rows and columns, as doubles
    const cv::Rect box(i0, j0, i1 - i0 + 1, j1 - j0 + 1);
    const int channels = image.channels();
    if (image.isFloat)
        image.pixels(box).convertTo(values, CV_MAKETYPE(CV_64F, channels));
    else
        image.pixels(box).convertTo(values, CV_MAKETYPE(CV_64F, channels), image.rescaleSlope, image.rescaleIntercept);

    // Welford's running mean and variance: stable for large, offset values (CT numbers).
    double mean = 0.0, m2 = 0.0;
    long long n = 0;
    s.min = std::numeric_limits<double>::infinity();
    s.max = -std::numeric_limits<double>::infinity();
    for (int j = j0; j <= j1; ++j) {
        const double* row = values.ptr<double>(j - j0);
        const double dy = (j + 0.5 - cy) / ry;
        for (int i = i0; i <= i1; ++i) {
            if (shape == RegionShape::Ellipse) {
                const double dx = (i + 0.5 - cx) / rx;
                if (dx * dx + dy * dy > 1.0)
                    continue;
            }
            ++s.pixels;
            for (int c = 0; c < channels; ++c) {
                const double v = row[(i - i0) * channels + c];
                ++n;
                const double d = v - mean;
                mean += d / static_cast<double>(n);
                m2 += d * (v - mean);
                s.min = std::min(s.min, v);
                s.max = std::max(s.max, v);
            }
        }
    }
    if (n == 0) {
        s.min = s.max = 0.0;
        return s;
    }
    s.mean = mean;
    s.sd = std::sqrt(m2 / static_cast<double>(n));
    return s;
}

} // namespace lightbox::imaging
