#pragma once

class QCustomPlot;

namespace lightbox::ui {

/// Asks for `plot` to be redrawn soon, in place of `replot(QCustomPlot::rpQueuedReplot)`. The
/// plots that asked are drawn one per turn of the event loop, so that several plots changing
/// at once (the curves when a run starts, the four plots of an evaluation) never hold the GUI
/// thread for the sum of their drawing (10-20 ms each at 1280 x 820); a plot that is hidden (a
/// tab not shown) is drawn when it is shown. A plot asking twice before it is drawn is drawn
/// once. It does not draw anything itself: call `plot->replot()` where the pixels are needed
/// at once (a grab for a screenshot; savePng() and toPixmap() draw on their own).
void queueReplot(QCustomPlot* plot);

/// Makes the redraws that `plot` does on its own when it is resized (a tab shown for the first
/// time, a splitter dragged) go through queueReplot() too. stylePlot() calls it.
void spreadReplots(QCustomPlot* plot);

} // namespace lightbox::ui
