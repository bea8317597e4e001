#pragma once
// Helpers shared by the files of MainWindow (MainWindow.cpp, MainWindowMenus.cpp,
// MainWindowFiles.cpp); private to them.

#include <imaging/ImageLoader.h>

#include <QString>

#include <cmath>

namespace lightbox::ui::mainwindow {

constexpr int kMaxRecent = 10;
constexpr int kThumbSize = 56;
constexpr int kPacsDockWidth = 580; ///< the PACS dock's width when it is shown

/// What the viewer loads: the pixels and every tag (for the tag browser).
inline imaging::LoadOptions viewerLoadOptions()
{
    imaging::LoadOptions o;
    o.tags = true;
    return o;
}

/// A value for the status bar and presets: whole numbers without decimals, small float values
/// (0.0015 mm²/s) with their digits.
inline QString number(double v)
{
    if (std::abs(v - std::round(v)) < 1e-9)
        return QString::number(static_cast<long long>(std::llround(v)));
    return QString::number(v, 'g', 6);
}

} // namespace lightbox::ui::mainwindow
