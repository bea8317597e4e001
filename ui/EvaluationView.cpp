#include "EvaluationView.h"

#include "BackgroundPool.h"
#include "PlotStyle.h"
#include "ReplotQueue.h"

#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFutureWatcher>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSaveFile>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrent>

#include <qcustomplot.h>

#include <cmath>

namespace lightbox::ui {
namespace {

QString percent(double v)
{
    return std::isfinite(v) ? QString::number(100.0 * v, 'f', 1) + " %" : QStringLiteral("-");
}

QString fixed(double v, int decimals = 3)
{
    return std::isfinite(v) ? QString::number(v, 'f', decimals) : QStringLiteral("-");
}

bool writeFile(const QString& path, const std::string& text)
{
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        return false;
    f.write(text.data(), static_cast<qint64>(text.size()));
    return f.commit();
}

QSharedPointer<QCPAxisTickerText> classTicker(const std::vector<std::string>& names)
{
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    for (size_t i = 0; i < names.size(); ++i)
        ticker->addTick(static_cast<double>(i), QString::fromStdString(names[i]));
    return ticker;
}

} // namespace

EvaluationView::EvaluationView(QWidget* parent) : QWidget(parent)
{
    m_captionLabel = new QLabel;
    m_captionLabel->setWordWrap(true);
    m_summary = new QLabel;
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont big = m_summary->font();
    big.setPointSizeF(big.pointSizeF() * 1.15);
    big.setBold(true);
    m_summary->setFont(big);

    m_export = new QPushButton(tr("Export..."));
    m_export->setToolTip(tr("Save report.json, per_class.csv, confusion.csv and the plots as PNG into a folder"));
    m_export->setEnabled(false);
    connect(m_export, &QPushButton::clicked, this, &EvaluationView::exportDialog);

    m_table = new QTableWidget(0, 6);
    m_table->setHorizontalHeaderLabels(
        {tr("Class"), tr("Precision"), tr("Recall"), tr("F1"), tr("Support"), tr("AUC")});
    m_table->verticalHeader()->setVisible(false);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_table->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setStretchLastSection(false);

    m_confusion = new QCustomPlot;
    m_roc = new QCustomPlot;
    m_distribution = new QCustomPlot;
    m_reliability = new QCustomPlot;
    m_reliability->setObjectName(QStringLiteral("reliabilityPlot"));
    for (QCustomPlot* p : {m_confusion, m_roc, m_distribution, m_reliability}) {
        stylePlot(p);
        p->setMinimumSize(110, 140);
    }
    setPlotTitle(m_confusion, tr("Confusion matrix (row-normalised, counts)"));
    setPlotTitle(m_roc, tr("ROC, one class against the rest"));
    setPlotTitle(m_distribution, tr("True and predicted class counts"));
    setPlotTitle(m_reliability, tr("Reliability: accuracy against confidence (15 bins)"));

    auto* top = new QHBoxLayout;
    auto* text = new QVBoxLayout;
    text->addWidget(m_captionLabel);
    text->addWidget(m_summary);
    top->addLayout(text, 1);
    top->addWidget(m_export, 0, Qt::AlignTop);

    auto* grid = new QGridLayout;
    grid->addWidget(m_table, 0, 0);
    grid->addWidget(m_confusion, 0, 1);
    grid->addWidget(m_reliability, 0, 2);
    grid->addWidget(m_roc, 1, 0);
    grid->addWidget(m_distribution, 1, 1, 1, 2);
    grid->setColumnStretch(0, 1);
    grid->setColumnStretch(1, 1);
    grid->setColumnStretch(2, 1);
    grid->setRowStretch(0, 1);
    grid->setRowStretch(1, 1);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addLayout(grid, 1);
    clear();
}

EvaluationView::~EvaluationView()
{
    finishExport();
}

void EvaluationView::clear()
{
    finishExport(); // the export under way draws the report it was asked for
    m_report = ml::ClassificationReport{};
    m_caption.clear();
    m_captionLabel->setText(tr("No evaluation yet: it appears when a run finishes."));
    m_summary->clear();
    m_table->setRowCount(0);
    for (QCustomPlot* p : {m_confusion, m_roc, m_distribution, m_reliability}) {
        p->clearPlottables();
        p->clearItems();
        p->legend->setVisible(false);
        queueReplot(p);
    }
    m_export->setEnabled(false);
}

QString EvaluationView::summaryText() const
{
    return m_summary->text();
}

void EvaluationView::setReport(const ml::ClassificationReport& report, const QString& caption)
{
    clear();
    m_report = report;
    m_caption = caption;
    m_captionLabel->setText(caption.isEmpty() ? tr("Evaluation") : caption);
    QString s = tr("Accuracy %1 on %2 images · balanced accuracy %3 · macro F1 %4 · macro AUC %5")
                    .arg(percent(report.accuracy))
                    .arg(report.samples)
                    .arg(percent(report.balancedAccuracy), fixed(report.macroF1), fixed(report.macroAuc));
    if (report.ordinal)
        s += tr("\nQuadratic weighted kappa %1 · mean absolute error %2 grades")
                 .arg(fixed(report.quadraticKappa), fixed(report.meanAbsoluteError, 2));
    // Graded reports continue the kappa line; the others start a second line.
    s += (report.ordinal ? tr(" · Calibration error (ECE) %1") : tr("\nCalibration error (ECE) %1"))
             .arg(fixed(report.calibration.ece));
    if (report.temperature != 1.0)
        s += tr(" with temperature %1 (%2 without)")
                 .arg(report.temperature, 0, 'f', 2)
                 .arg(fixed(report.uncalibrated.ece));
    m_summary->setText(s);

    const int n = report.numClasses;
    m_table->setRowCount(n);
    for (int c = 0; c < n; ++c) {
        const ml::ClassScores sc =
            c < static_cast<int>(report.perClass.size()) ? report.perClass[c] : ml::ClassScores{};
        const double auc = c < static_cast<int>(report.roc.size()) ? report.roc[c].auc : NAN;
        const QStringList cells = {QString::fromStdString(report.classNames[c]),
                                   fixed(sc.precision),
                                   fixed(sc.recall),
                                   fixed(sc.f1),
                                   QString::number(sc.support),
                                   fixed(auc)};
        for (int col = 0; col < cells.size(); ++col) {
            auto* item = new QTableWidgetItem(cells[col]);
            if (col > 0)
                item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            m_table->setItem(c, col, item);
        }
    }
    fillConfusion();
    fillRoc();
    fillDistribution();
    fillReliability();
    m_export->setEnabled(n > 0);
}

void EvaluationView::fillConfusion()
{
    const int n = m_report.numClasses;
    if (n <= 0 || static_cast<int>(m_report.confusion.size()) != n)
        return;
    auto* map = new QCPColorMap(m_confusion->xAxis, m_confusion->yAxis);
    map->data()->setSize(n, n);
    map->data()->setRange(QCPRange(0, n - 1), QCPRange(0, n - 1));
    map->setInterpolate(false);
    QCPColorGradient gradient;
    gradient.setColorStopAt(0.0, QColor(247, 251, 255));
    gradient.setColorStopAt(0.5, QColor(107, 174, 214));
    gradient.setColorStopAt(1.0, QColor(8, 48, 107));
    map->setGradient(gradient);
    map->setDataRange(QCPRange(0, 1));
    for (int t = 0; t < n; ++t) {
        int64_t rowTotal = 0;
        for (int64_t v : m_report.confusion[t])
            rowTotal += v;
        for (int p = 0; p < n && p < static_cast<int>(m_report.confusion[t].size()); ++p) {
            const int64_t count = m_report.confusion[t][p];
            const double frac = rowTotal > 0 ? double(count) / double(rowTotal) : 0.0;
            map->data()->setCell(p, t, frac);
            auto* label = new QCPItemText(m_confusion);
            label->position->setCoords(p, t);
            label->setText(QString::number(count));
            label->setColor(frac > 0.55 ? Qt::white : Qt::black);
            QFont f = label->font();
            f.setPointSizeF(n > 6 ? 7.5 : 9.5);
            label->setFont(f);
        }
    }
    m_confusion->xAxis->setTicker(classTicker(m_report.classNames));
    m_confusion->yAxis->setTicker(classTicker(m_report.classNames));
    m_confusion->xAxis->setLabel(tr("Predicted"));
    m_confusion->yAxis->setLabel(tr("True"));
    m_confusion->xAxis->setRange(-0.5, n - 0.5);
    m_confusion->yAxis->setRange(-0.5, n - 0.5);
    m_confusion->yAxis->setRangeReversed(true);
    m_confusion->xAxis->grid()->setVisible(false);
    m_confusion->yAxis->grid()->setVisible(false);
    if (n > 4)
        m_confusion->xAxis->setTickLabelRotation(30);
    queueReplot(m_confusion);
}

void EvaluationView::fillRoc()
{
    auto* diagonal = m_roc->addGraph();
    diagonal->setData({0.0, 1.0}, {0.0, 1.0});
    diagonal->setPen(QPen(QColor(160, 160, 160), 1, Qt::DashLine));
    diagonal->removeFromLegend();
    for (int c = 0; c < m_report.numClasses && c < static_cast<int>(m_report.roc.size()); ++c) {
        const ml::RocCurve& roc = m_report.roc[c];
        if (roc.fpr.empty() || roc.fpr.size() != roc.tpr.size())
            continue;
        // Two-class reports carry mirror-image curves: one is enough.
        if (m_report.numClasses == 2 && c == 0)
            continue;
        auto* curve = new QCPCurve(m_roc->xAxis, m_roc->yAxis);
        curve->setData(QVector<double>(roc.fpr.begin(), roc.fpr.end()),
                       QVector<double>(roc.tpr.begin(), roc.tpr.end()));
        curve->setPen(QPen(seriesColour(c), 2));
        curve->setName(tr("%1 (AUC %2)").arg(QString::fromStdString(m_report.classNames[c]), fixed(roc.auc)));
    }
    m_roc->xAxis->setLabel(tr("False positive rate"));
    m_roc->yAxis->setLabel(tr("True positive rate"));
    m_roc->xAxis->setRange(0, 1);
    m_roc->yAxis->setRange(0, 1.02);
    m_roc->legend->setVisible(true);
    m_roc->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignRight | Qt::AlignBottom);
    queueReplot(m_roc);
}

void EvaluationView::fillDistribution()
{
    const int n = m_report.numClasses;
    auto* group = new QCPBarsGroup(m_distribution);
    QVector<double> x, truth, predicted;
    double top = 1;
    for (int c = 0; c < n; ++c) {
        x << c;
        truth << (c < static_cast<int>(m_report.trueCounts.size()) ? double(m_report.trueCounts[c]) : 0.0);
        predicted << (c < static_cast<int>(m_report.predictedCounts.size()) ? double(m_report.predictedCounts[c])
                                                                            : 0.0);
        top = std::max({top, truth.back(), predicted.back()});
    }
    auto* t = new QCPBars(m_distribution->xAxis, m_distribution->yAxis);
    t->setData(x, truth);
    t->setName(tr("True"));
    t->setBrush(seriesColour(0));
    t->setPen(Qt::NoPen);
    auto* p = new QCPBars(m_distribution->xAxis, m_distribution->yAxis);
    p->setData(x, predicted);
    p->setName(tr("Predicted"));
    p->setBrush(seriesColour(1));
    p->setPen(Qt::NoPen);
    for (QCPBars* b : {t, p}) {
        b->setWidth(0.38);
        b->setBarsGroup(group);
    }
    m_distribution->xAxis->setTicker(classTicker(m_report.classNames));
    m_distribution->xAxis->setRange(-0.6, n - 0.4);
    m_distribution->xAxis->grid()->setVisible(false);
    if (n > 4)
        m_distribution->xAxis->setTickLabelRotation(30);
    m_distribution->yAxis->setRange(0, top * 1.4); // room for the legend
    m_distribution->yAxis->setLabel(tr("Images"));
    m_distribution->legend->setVisible(true);
    m_distribution->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignRight | Qt::AlignTop);
    queueReplot(m_distribution);
}

void EvaluationView::fillReliability()
{
    auto* diagonal = m_reliability->addGraph();
    diagonal->setData({0.0, 1.0}, {0.0, 1.0});
    diagonal->setPen(QPen(QColor(160, 160, 160), 1, Qt::DashLine));
    diagonal->setName(tr("Perfect calibration"));
    auto series = [&](const ml::CalibrationReport& cal, const QString& name, const QColor& colour, double width) {
        QVector<double> x, y;
        for (const auto& b : cal.bins) {
            if (b.count == 0)
                continue;
            x << 0.5 * (b.lower + b.upper);
            y << b.accuracy;
        }
        if (x.isEmpty())
            return;
        auto* bars = new QCPBars(m_reliability->xAxis, m_reliability->yAxis);
        bars->setData(x, y);
        bars->setWidth(width);
        bars->setName(name);
        bars->setBrush(colour);
        bars->setPen(QPen(colour.darker(130)));
    };
    const bool scaled = m_report.temperature != 1.0 && !m_report.uncalibrated.bins.empty();
    if (scaled)
        series(m_report.uncalibrated, tr("Before temperature (ECE %1)").arg(fixed(m_report.uncalibrated.ece)),
               QColor(200, 200, 200, 200), 1.0 / 15.0);
    series(m_report.calibration,
           scaled ? tr("T = %1 (ECE %2)").arg(m_report.temperature, 0, 'f', 2).arg(fixed(m_report.calibration.ece))
                  : tr("Accuracy (ECE %1)").arg(fixed(m_report.calibration.ece)),
           seriesColour(0), scaled ? 0.6 / 15.0 : 0.9 / 15.0);
    m_reliability->xAxis->setLabel(tr("Confidence (top-class probability)"));
    m_reliability->yAxis->setLabel(tr("Accuracy"));
    m_reliability->xAxis->setRange(0, 1);
    m_reliability->yAxis->setRange(0, 1.45); // room above the bars for the legend
    m_reliability->legend->setVisible(true);
    m_reliability->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignLeft | Qt::AlignTop);
    queueReplot(m_reliability);
}

QStringList EvaluationView::exportData(const QString& dir) const
{
    QStringList written;
    if (!hasReport() || !QDir().mkpath(dir))
        return written;
    const QDir d(dir);
    const std::pair<const char*, std::string> files[] = {{"report.json", m_report.toJson().dump(2)},
                                                         {"per_class.csv", m_report.perClassCsv()},
                                                         {"confusion.csv", m_report.confusionCsv()}};
    for (const auto& [name, text] : files) {
        const QString path = d.filePath(QString::fromLatin1(name));
        if (writeFile(path, text))
            written << path;
    }
    return written;
}

namespace {

constexpr const char* kPlotFiles[] = {"confusion.png", "roc.png", "distribution.png", "reliability.png"};
constexpr int kPlotWidth = 640, kPlotHeight = 480;

} // namespace

QList<QCustomPlot*> EvaluationView::exportedPlots() const
{
    return {m_confusion, m_roc, m_distribution, m_reliability}; // in the order of kPlotFiles
}

QStringList EvaluationView::exportPlots(const QString& dir) const
{
    QStringList written;
    if (!hasReport() || !QDir().mkpath(dir))
        return written;
    const QDir d(dir);
    const QList<QCustomPlot*> plots = exportedPlots();
    for (int i = 0; i < plots.size(); ++i) {
        const QString path = d.filePath(QString::fromLatin1(kPlotFiles[i]));
        if (plots[i]->savePng(path, kPlotWidth, kPlotHeight))
            written << path;
    }
    return written;
}

void EvaluationView::exportPlotsInBackground(const QString& dir)
{
    finishExport();
    ++m_exports;
    if (!hasReport() || !QDir().mkpath(dir)) {
        --m_exports;
        emit plotsExported(dir, {});
        return;
    }
    m_pending = PendingExport{dir, {}, {}};
    for (const char* name : kPlotFiles)
        m_pending->paths << QDir(dir).filePath(QString::fromLatin1(name));
    if (!m_exportTimer) {
        m_exportTimer = new QTimer(this);
        m_exportTimer->setSingleShot(true);
        m_exportTimer->setInterval(0);
        connect(m_exportTimer, &QTimer::timeout, this, &EvaluationView::drawNextExport);
    }
    m_exportTimer->start();
}

void EvaluationView::drawNextExport()
{
    if (!m_pending)
        return;
    // What savePng(path, 640, 480) draws, 96 dpi included.
    QImage image =
        exportedPlots().at(static_cast<int>(m_pending->images.size()))->toPixmap(kPlotWidth, kPlotHeight).toImage();
    image.setDotsPerMeterX(qRound(96 / 0.0254));
    image.setDotsPerMeterY(qRound(96 / 0.0254));
    m_pending->images << image;
    if (m_pending->images.size() < m_pending->paths.size()) {
        m_exportTimer->start();
        return;
    }
    // All drawn: PNG encoding (zlib) and writing take the longer part, off the GUI thread.
    const PendingExport done = std::move(*m_pending);
    m_pending.reset();
    auto* watcher = new QFutureWatcher<QStringList>(this);
    connect(watcher, &QFutureWatcher<QStringList>::finished, this, [this, watcher, dir = done.dir] {
        watcher->deleteLater();
        --m_exports;
        emit plotsExported(dir, watcher->result());
    });
    watcher->setFuture(QtConcurrent::run(backgroundPool(), [done] {
        QStringList written;
        for (int i = 0; i < done.images.size(); ++i)
            if (done.images[i].save(done.paths[i], "PNG"))
                written << done.paths[i];
        return written;
    }));
}

void EvaluationView::finishExport()
{
    while (m_pending)
        drawNextExport();
    if (m_exportTimer)
        m_exportTimer->stop();
}

void EvaluationView::exportDialog()
{
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Export the evaluation into"));
    if (dir.isEmpty())
        return;
    const QStringList files = exportData(dir) + exportPlots(dir);
    m_captionLabel->setText(m_caption + tr("  (exported %1 files to %2)").arg(files.size()).arg(dir));
}

} // namespace lightbox::ui
