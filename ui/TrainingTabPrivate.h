#pragma once
// Helpers shared by the files of TrainingTab (TrainingTab.cpp, TrainingTabForm.cpp,
// TrainingTabCurves.cpp); private to them.

#include "TrainingTab.h"

#include <QColor>
#include <QString>

#include <qcustomplot.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace lightbox::ui::trainingtab {

inline constexpr double kSmoothing = 0.15; ///< weight of the newest batch in the smoothed loss

inline QString q(const std::string& s)
{
    return QString::fromStdString(s);
}

inline QString duration(double seconds)
{
    if (!std::isfinite(seconds) || seconds < 0)
        return QStringLiteral("?");
    const qint64 t = std::llround(seconds);
    if (t >= 3600)
        return TrainingTab::tr("%1 h %2 min").arg(t / 3600).arg((t / 60) % 60, 2, 10, QChar('0'));
    if (t >= 60)
        return TrainingTab::tr("%1 min %2 s").arg(t / 60).arg(t % 60, 2, 10, QChar('0'));
    return TrainingTab::tr("%1 s").arg(t);
}

/// A split's name ("train", "val", "test") in the interface language.
inline QString splitName(const std::string& split)
{
    if (split == "train")
        return TrainingTab::tr("train");
    if (split == "val")
        return TrainingTab::tr("val");
    if (split == "test")
        return TrainingTab::tr("test");
    return QString::fromStdString(split);
}

inline QString fixed(double v, int decimals = 3)
{
    return std::isfinite(v) ? QString::number(v, 'f', decimals) : QStringLiteral("-");
}

inline QCPGraph* addLine(QCustomPlot* plot, const QString& name, const QColor& colour,
                         Qt::PenStyle style = Qt::SolidLine, bool markers = true, QCPAxis* valueAxis = nullptr)
{
    QCPGraph* g = plot->addGraph(plot->xAxis, valueAxis ? valueAxis : plot->yAxis);
    g->setName(name);
    g->setPen(QPen(colour, style == Qt::SolidLine ? 2.0 : 1.5, style));
    if (markers)
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, colour, Qt::white, 5));
    return g;
}

/// Fits the value axis to the visible data and the key axis to [0, max(epochs, data)].
inline void rescale(QCustomPlot* plot, double minKeyRange)
{
    plot->rescaleAxes(true);
    QCPRange key = plot->xAxis->range();
    plot->xAxis->setRange(0, std::max(key.upper, minKeyRange) + 0.2);
    for (QCPAxis* axis : {plot->yAxis, plot->yAxis2}) {
        if (!axis->visible())
            continue;
        if (axis->scaleType() == QCPAxis::stLogarithmic) {
            // A constant learning rate would make a degenerate log range: span at least 10x.
            double lo = 0, hi = 0;
            for (QCPGraph* g : axis->graphs()) {
                bool found = false;
                const QCPRange r = g->getValueRange(found, QCP::sdPositive);
                if (found) {
                    lo = lo > 0 ? std::min(lo, r.lower) : r.lower;
                    hi = std::max(hi, r.upper);
                }
            }
            if (lo > 0 && hi > 0)
                axis->setRange(lo / 3.0, hi * 3.0);
        } else {
            const QCPRange r = axis->range();
            const double pad = std::max(1e-3, (r.upper - r.lower) * 0.08);
            axis->setRange(r.lower - pad, r.upper + pad);
        }
    }
}

} // namespace lightbox::ui::trainingtab
