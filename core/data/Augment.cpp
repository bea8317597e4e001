#include "Loader.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace lightbox::data {

bool AugmentOptions::enabled() const
{
    return rotationDeg > 0 || shift > 0 || shearDeg > 0 || zoom > 0 || horizontalFlip || verticalFlip ||
           brightness > 0 || contrast > 0;
}

std::vector<std::string> AugmentOptions::presetNames()
{
    return {"none", "light", "standard", "medical-safe", "dermoscopy"};
}

bool AugmentOptions::fromPreset(const std::string& name, AugmentOptions& out)
{
    AugmentOptions o;
    if (name == "none" || name.empty()) {
        // identity
    } else if (name == "light") {
        o.rotationDeg = 5;
        o.shift = 0.03;
        o.zoom = 0.05;
        o.horizontalFlip = true;
        o.brightness = 0.05;
        o.contrast = 0.05;
    } else if (name == "standard") {
        // Close to the Keras ImageDataGenerator settings of the original notebooks.
        o.rotationDeg = 10;
        o.shift = 0.1;
        o.shearDeg = 5;
        o.zoom = 0.1;
        o.horizontalFlip = true;
        o.brightness = 0.1;
        o.contrast = 0.1;
    } else if (name == "medical-safe") {
        o.rotationDeg = 5;
        o.horizontalFlip = true;
        o.brightness = 0.1;
        o.contrast = 0.1;
        o.keepContent = true;
    } else if (name == "dermoscopy") {
        o.rotationDeg = 10;
        o.horizontalFlip = true;
        o.verticalFlip = true;
        o.brightness = 0.1;
        o.contrast = 0.1;
        o.keepContent = true;
    } else {
        return false;
    }
    out = o;
    return true;
}

cv::Mat augment(const cv::Mat& view8, const AugmentOptions& o, std::mt19937& rng)
{
    if (view8.empty() || !o.enabled())
        return view8;
    const auto uniform = [&rng](double range) {
        return range > 0 ? std::uniform_real_distribution<double>(-range, range)(rng) : 0.0;
    };
    constexpr double degToRad = 3.14159265358979323846 / 180.0;
    const double angle = uniform(o.rotationDeg) * degToRad;
    const double shear = uniform(o.shearDeg) * degToRad;
    double scale = 1.0 + uniform(o.zoom);
    double tx = uniform(o.shift) * view8.cols;
    double ty = uniform(o.shift) * view8.rows;
    const bool flip = o.horizontalFlip && std::bernoulli_distribution(0.5)(rng);
    // Drawn after the horizontal flip so presets without it keep their random sequence.
    const bool vflip = o.verticalFlip && std::bernoulli_distribution(0.5)(rng);
    const double brightness = uniform(o.brightness) * 255.0;
    const double contrast = 1.0 + uniform(o.contrast);

    const double w = view8.cols, h = view8.rows;
    if (o.keepContent)
        scale = std::min(scale, 1.0);
    // Linear part: rotation * shear (x' = x + tan(shear) * y) * scale.
    const double c = std::cos(angle), s = std::sin(angle), k = std::tan(shear);
    double a00 = c * scale, a01 = (c * k - s) * scale;
    double a10 = s * scale, a11 = (s * k + c) * scale;
    if (o.keepContent) {
        // Half-extents of the transformed frame; shrink until it fits, then allow only the
        // shift that the remaining margin leaves.
        const double ex = (std::abs(a00) * w + std::abs(a01) * h) / 2, ey = (std::abs(a10) * w + std::abs(a11) * h) / 2;
        const double fit = std::min({1.0, (w / 2) / ex, (h / 2) / ey});
        a00 *= fit;
        a01 *= fit;
        a10 *= fit;
        a11 *= fit;
        const double mx = std::max(0.0, w / 2 - ex * fit), my = std::max(0.0, h / 2 - ey * fit);
        tx = std::clamp(tx, -mx, mx);
        ty = std::clamp(ty, -my, my);
    }
    const bool geometric = angle != 0 || shear != 0 || a00 != 1.0 || a11 != 1.0 || tx != 0 || ty != 0;

    cv::Mat out;
    if (geometric) {
        // Pixel centres: rotate about the image centre ((w - 1) / 2, (h - 1) / 2).
        const double cx = (w - 1) / 2, cy = (h - 1) / 2;
        double m[6] = {a00, a01, 0, a10, a11, 0};
        if (flip) { // mirror first: x -> w - 1 - x
            m[0] = -a00;
            m[3] = -a10;
        }
        m[2] = cx + tx - m[0] * cx - m[1] * cy;
        m[5] = cy + ty - m[3] * cx - m[4] * cy;
        cv::warpAffine(view8, out, cv::Mat(2, 3, CV_64F, m), view8.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
    } else if (flip) {
        cv::flip(view8, out, 1);
    } else {
        out = view8.clone();
    }
    if (vflip)
        cv::flip(out, out, 0);
    if (brightness != 0 || contrast != 1.0) {
        // Contrast about the image mean, so it does not shift the overall brightness.
        const cv::Scalar mean = cv::mean(out);
        const double mu = (mean[0] + mean[1] + mean[2]) / std::max(1, out.channels());
        out.convertTo(out, out.type(), contrast, brightness + mu * (1.0 - contrast));
    }
    return out;
}

void blankCentre(cv::Mat& view8, double fraction)
{
    if (view8.empty() || !(fraction > 0))
        return;
    const double f = std::min(1.0, fraction);
    const int w = static_cast<int>(std::lround(view8.cols * f)), h = static_cast<int>(std::lround(view8.rows * f));
    if (w < 1 || h < 1)
        return;
    view8(cv::Rect((view8.cols - w) / 2, (view8.rows - h) / 2, w, h)).setTo(cv::Scalar::all(0));
}

} // namespace lightbox::data
