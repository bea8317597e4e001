#pragma once

// Small synthetic images for the core/data suites: smooth, structured pictures (blobs on a
// gradient) whose perceptual hashes differ from seed to seed.

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QString>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <random>

namespace lightbox::testing {

inline cv::Mat syntheticImage(int seed, int width = 64, int height = 64, int channels = 1)
{
    std::mt19937 rng(uint32_t(seed) * 2654435761u + 17u);
    std::uniform_int_distribution<int> px(0, width - 1), py(0, height - 1), pr(width / 10 + 1, width / 3 + 2),
        pv(0, 255);
    cv::Mat img(height, width, CV_8UC(channels));
    const double gx = std::uniform_real_distribution<double>(-2, 2)(rng);
    const double gy = std::uniform_real_distribution<double>(-2, 2)(rng);
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x)
            for (int c = 0; c < channels; ++c)
                img.ptr<uint8_t>(y)[x * channels + c] =
                    cv::saturate_cast<uint8_t>(128 + gx * (x - width / 2) + gy * (y - height / 2) + 10 * c);
    for (int k = 0; k < 6; ++k) {
        const cv::Scalar colour(pv(rng), pv(rng), pv(rng));
        cv::ellipse(img, cv::Point(px(rng), py(rng)), cv::Size(pr(rng), pr(rng)), pv(rng), 0, 360, colour, cv::FILLED);
    }
    cv::GaussianBlur(img, img, cv::Size(0, 0), width / 40.0 + 0.5);
    return img;
}

/// Writes `img` (grey, or RGB which is stored as BGR) to `path`, creating folders.
inline bool writeImage(const QString& path, const cv::Mat& img, const std::vector<int>& params = {})
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    cv::Mat out = img;
    if (img.channels() == 3)
        cv::cvtColor(img, out, cv::COLOR_RGB2BGR);
    return cv::imwrite(path.toStdString(), out, params);
}

inline bool writeBytes(const QString& path, const QByteArray& bytes)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
}

} // namespace lightbox::testing
