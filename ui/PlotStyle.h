#pragma once

#include <QColor>
#include <QString>

class QCustomPlot;

namespace lightbox::ui {

/// One look for every QCustomPlot of the training tab and the evaluation report: light
/// grid, readable fonts, legend inside the axis rect (hidden until a caller shows it); its
/// redraws on resize are spread over the event loop (spreadReplots()).
void stylePlot(QCustomPlot* plot);
/// Puts (or replaces) a small bold title above the axis rect.
void setPlotTitle(QCustomPlot* plot, const QString& title);
/// A colour-blind-friendly series colour (Okabe-Ito order), cycling after eight.
QColor seriesColour(int index);

} // namespace lightbox::ui
