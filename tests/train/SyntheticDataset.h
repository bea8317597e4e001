#pragma once

// A tiny two-class image folder for training tests: grey noise with a bright square in the
// left half ("left") or the right half ("right"), at a random height.

#include <QColor>
#include <QDir>
#include <QImage>
#include <QString>

#include <random>

namespace lightbox::test {

/// Writes `perClass` PNGs of `size` x `size` pixels into `root`/left and `root`/right;
/// returns false when a file could not be written.
inline bool makeSquaresDataset(const QString& root, int perClass, int size = 48, unsigned seed = 7)
{
    std::mt19937 rng(seed);
    const int side = size / 4;
    std::uniform_int_distribution<int> noise(0, 70);
    std::uniform_int_distribution<int> y(1, size - side - 1);
    std::uniform_int_distribution<int> dx(0, size / 2 - side - 2);
    for (const QString& cls : {QStringLiteral("left"), QStringLiteral("right")}) {
        if (!QDir().mkpath(root + "/" + cls))
            return false;
        for (int i = 0; i < perClass; ++i) {
            QImage img(size, size, QImage::Format_Grayscale8);
            for (int r = 0; r < size; ++r) {
                uchar* line = img.scanLine(r);
                for (int c = 0; c < size; ++c)
                    line[c] = static_cast<uchar>(noise(rng));
            }
            const int x0 = (cls == QLatin1String("left") ? 1 : size / 2 + 1) + dx(rng);
            const int y0 = y(rng);
            const int level = 180 + (i % 4) * 20;
            for (int r = y0; r < y0 + side; ++r)
                for (int c = x0; c < x0 + side; ++c)
                    img.scanLine(r)[c] = static_cast<uchar>(level);
            if (!img.save(QString("%1/%2/s%3%4.png").arg(root, cls).arg(i, 3, 10, QChar('0')).arg(cls[0])))
                return false;
        }
    }
    return true;
}

} // namespace lightbox::test
