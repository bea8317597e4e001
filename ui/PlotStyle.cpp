#include "PlotStyle.h"

#include "ReplotQueue.h"

#include <qcustomplot.h>

namespace lightbox::ui {

void stylePlot(QCustomPlot* plot)
{
    plot->setBackground(Qt::white);
    plot->setAntialiasedElements(QCP::aeAll);
    QFont tick = plot->font();
    tick.setPointSizeF(8.5);
    for (QCPAxis* axis : {plot->xAxis, plot->yAxis, plot->xAxis2, plot->yAxis2}) {
        axis->setTickLabelFont(tick);
        axis->setLabelFont(tick);
        axis->grid()->setPen(QPen(QColor(225, 225, 225), 1, Qt::SolidLine));
        axis->grid()->setSubGridVisible(false);
    }
    plot->legend->setFont(tick);
    plot->legend->setBrush(QColor(255, 255, 255, 215));
    plot->legend->setBorderPen(QPen(QColor(200, 200, 200)));
    plot->legend->setVisible(false);
    spreadReplots(plot);
}

void setPlotTitle(QCustomPlot* plot, const QString& title)
{
    QCPTextElement* element = nullptr;
    if (plot->plotLayout()->rowCount() > 1)
        element = qobject_cast<QCPTextElement*>(plot->plotLayout()->element(0, 0));
    if (!element) {
        plot->plotLayout()->insertRow(0);
        QFont f = plot->font();
        f.setPointSizeF(9.5);
        f.setBold(true);
        element = new QCPTextElement(plot, title, f);
        plot->plotLayout()->addElement(0, 0, element);
    }
    element->setText(title);
}

QColor seriesColour(int index)
{
    static const QColor colours[] = {QColor(0, 114, 178),   QColor(213, 94, 0),  QColor(0, 158, 115),
                                     QColor(204, 121, 167), QColor(230, 159, 0), QColor(86, 180, 233),
                                     QColor(120, 120, 120), QColor(240, 228, 66)};
    return colours[((index % 8) + 8) % 8];
}

} // namespace lightbox::ui
