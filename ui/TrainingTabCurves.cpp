// TrainingTab's live loss and accuracy curves, the data view's gallery, the overlays of
// earlier runs and the runs table (see TrainingTab.cpp).
#include "TrainingTab.h"
#include "TrainingTabPrivate.h"

#include "EvaluationView.h"
#include "Language.h"
#include "PlotStyle.h"
#include "ReplotQueue.h"

#include <data/Loader.h>
#include <data/TaskPreset.h>
#include <jobs/ModelChoice.h>
#include <ml/Model.h>
#include <ml/Runtime.h>

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPixmap>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QThread>
#include <QToolButton>
#include <QVBoxLayout>

#include <qcustomplot.h>

#include <cmath>

namespace lightbox::ui {

using namespace trainingtab;

QWidget* TrainingTab::buildCurves()
{
    m_lossPlot = new QCustomPlot;
    m_accPlot = new QCustomPlot;
    m_batchPlot = new QCustomPlot;
    for (QCustomPlot* p : {m_lossPlot, m_accPlot, m_batchPlot}) {
        stylePlot(p);
        p->setMinimumHeight(120);
        p->xAxis->setLabel(tr("Epoch"));
        p->legend->setVisible(true);
    }
    setPlotTitle(m_lossPlot, tr("Loss per epoch"));
    setPlotTitle(m_accPlot, tr("Accuracy per epoch"));
    setPlotTitle(m_batchPlot, tr("Batch loss (smoothed) and learning rate"));
    m_accPlot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignRight | Qt::AlignBottom);
    m_batchPlot->yAxis2->setVisible(true);
    m_batchPlot->yAxis2->setScaleType(QCPAxis::stLogarithmic);
    m_batchPlot->yAxis2->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    m_batchPlot->yAxis2->setNumberFormat("eb");
    m_batchPlot->yAxis2->setNumberPrecision(0);
    m_batchPlot->yAxis2->setLabel(tr("learning rate"));
    m_batchPlot->yAxis->setLabel(tr("loss"));
    resetCurves();

    m_progress = new QProgressBar;
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_progressLabel = new QLabel(tr("Idle"));
    m_progressLabel->setWordWrap(true);

    auto* w = new QWidget;
    auto* grid = new QGridLayout(w);
    grid->addWidget(m_lossPlot, 0, 0);
    grid->addWidget(m_accPlot, 0, 1);
    grid->addWidget(m_batchPlot, 1, 0, 1, 2);
    grid->addWidget(m_progress, 2, 0, 1, 2);
    grid->addWidget(m_progressLabel, 3, 0, 1, 2);
    grid->setRowStretch(0, 3);
    grid->setRowStretch(1, 2);
    return w;
}

QWidget* TrainingTab::buildDataView()
{
    m_countsPlot = new QCustomPlot;
    stylePlot(m_countsPlot);
    setPlotTitle(m_countsPlot, tr("Images per class and split"));
    m_countsPlot->setMinimumHeight(150);
    m_stats = new QLabel(tr("No data set loaded yet: the data view fills when training starts."));
    m_stats->setWordWrap(true);
    m_stats->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_leakage = new QPlainTextEdit;
    m_leakage->setReadOnly(true);
    m_leakage->setPlaceholderText(
        tr("The leakage check (duplicates and patients across splits) runs before training."));
    auto* box = new QGroupBox(tr("Leakage check"));
    auto* bl = new QVBoxLayout(box);
    bl->addWidget(m_leakage);
    m_shortcutText = new QPlainTextEdit;
    m_shortcutText->setObjectName(QStringLiteral("shortcutText"));
    m_shortcutText->setReadOnly(true);
    m_shortcutText->setPlaceholderText(
        tr("The shortcut check (a network trained on the borders alone, centres blanked) runs before training "
           "when it is ticked in the settings."));
    auto* shortcutBox = new QGroupBox(tr("Shortcut check"));
    auto* sl = new QVBoxLayout(shortcutBox);
    sl->addWidget(m_shortcutText);
    auto* checks = new QHBoxLayout;
    checks->addWidget(box, 1);
    checks->addWidget(shortcutBox, 1);
    m_gallery = new QWidget;
    new QGridLayout(m_gallery);
    auto* galleryScroll = new QScrollArea;
    galleryScroll->setWidget(m_gallery);
    galleryScroll->setWidgetResizable(true);
    galleryScroll->setMinimumWidth(80);
    auto* galleryBox = new QGroupBox(tr("Samples"));
    auto* galleryNote = new QLabel(tr("Training images as stored, then augmented as in training"));
    galleryNote->setWordWrap(true);
    auto* gl = new QVBoxLayout(galleryBox);
    gl->addWidget(galleryNote);
    gl->addWidget(galleryScroll);
    auto* top = new QSplitter(Qt::Horizontal);
    top->addWidget(m_countsPlot);
    top->addWidget(galleryBox);
    top->setStretchFactor(0, 1);
    top->setStretchFactor(1, 1);
    auto* w = new QWidget;
    auto* v = new QVBoxLayout(w);
    v->addWidget(top, 3);
    v->addWidget(m_stats);
    v->addLayout(checks, 1);
    return w;
}

QWidget* TrainingTab::buildRuns()
{
    m_runs = new QTableWidget(0, 10);
    m_runs->setHorizontalHeaderLabels({tr("Run"), tr("Network"), tr("Task"), tr("Epochs"), tr("Best epoch"),
                                       tr("Best val acc"), tr("Val QWK"), tr("Report"), tr("Report acc"),
                                       tr("Report QWK")});
    m_runs->verticalHeader()->setVisible(false);
    m_runs->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_runs->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_runs->setSortingEnabled(true);
    m_runs->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_runs->horizontalHeader()->setStretchLastSection(true);
    connect(m_runs, &QTableWidget::cellDoubleClicked, this, [this](int row, int) {
        if (QTableWidgetItem* item = m_runs->item(row, 0))
            overlayRun(item->data(Qt::UserRole).toString());
    });
    auto* refresh = new QPushButton(tr("Refresh"));
    auto* add = new QPushButton(tr("Add run folder..."));
    auto* clear = new QPushButton(tr("Clear overlays"));
    connect(refresh, &QPushButton::clicked, this, &TrainingTab::refreshRuns);
    connect(add, &QPushButton::clicked, this, [this] {
        if (const QString d = pickFolder(tr("Run folder"), QString()); !d.isEmpty())
            addRunFolder(d);
    });
    connect(clear, &QPushButton::clicked, this, &TrainingTab::clearOverlays);
    auto* row = new QHBoxLayout;
    row->addWidget(refresh);
    row->addWidget(add);
    row->addWidget(clear);
    row->addStretch(1);
    auto* hint = new QLabel(tr("Double-click a run to overlay its curves."));
    auto* w = new QWidget;
    auto* v = new QVBoxLayout(w);
    v->addLayout(row);
    v->addWidget(m_runs, 1);
    v->addWidget(hint);
    return w;
}

// ---------------------------------------------------------------------------------------
// Live curves

void TrainingTab::onBatch(const ml::BatchMetrics& m)
{
    if (!std::isfinite(m.loss))
        return;
    const double x = m.epoch + double(m.batch + 1) / std::max(1, m.batchCount);
    m_smoothedLoss = m_haveSmoothed ? (1 - kSmoothing) * m_smoothedLoss + kSmoothing * m.loss : m.loss;
    m_haveSmoothed = true;
    m_batchPlot->graph(0)->addData(x, m.loss);
    m_batchPlot->graph(1)->addData(x, m_smoothedLoss);
    if (m.learningRate > 0)
        m_batchPlot->graph(2)->addData(x, m.learningRate);
    rescale(m_batchPlot, m_epochsPlanned);
    queueReplot(m_batchPlot);

    const int total = std::max(1, m_epochsPlanned * m.batchCount);
    m_progress->setRange(0, total);
    m_progress->setValue(std::min(total, m.epoch * m.batchCount + m.batch + 1));
    m_progressLabel->setText(tr("Epoch %1/%2, batch %3/%4 · loss %5 · %6 images/s · %7 left")
                                 .arg(m.epoch + 1)
                                 .arg(m_epochsPlanned)
                                 .arg(m.batch + 1)
                                 .arg(m.batchCount)
                                 .arg(fixed(m.loss, 4))
                                 .arg(m.imagesPerSecond, 0, 'f', 0)
                                 .arg(duration(m.secondsLeft)));
    emit batchShown(m.epoch, m.batch);
}

void TrainingTab::plotEpoch(const ml::EpochMetrics& e, double minEpochs)
{
    const double x = e.epoch + 1;
    m_lossPlot->graph(0)->addData(x, e.trainLoss);
    if (std::isfinite(e.valLoss))
        m_lossPlot->graph(1)->addData(x, e.valLoss);
    m_accPlot->graph(0)->addData(x, e.trainAccuracy);
    if (std::isfinite(e.valAccuracy))
        m_accPlot->graph(1)->addData(x, e.valAccuracy);
    if (std::isfinite(e.valQwk))
        m_accPlot->graph(2)->addData(x, e.valQwk);
    for (QCustomPlot* p : {m_lossPlot, m_accPlot}) {
        rescale(p, minEpochs);
        queueReplot(p);
    }
}

void TrainingTab::onEpoch(const ml::EpochMetrics& e)
{
    plotEpoch(e, m_epochsPlanned);
    QString line = tr("Epoch %1: train loss %2, acc %3; val loss %4, acc %5")
                       .arg(e.epoch + 1)
                       .arg(fixed(e.trainLoss, 4), fixed(e.trainAccuracy), fixed(e.valLoss, 4), fixed(e.valAccuracy));
    if (std::isfinite(e.valQwk))
        line += tr(", QWK %1").arg(fixed(e.valQwk));
    line += tr("; lr %1; %2 s, %3 images/s%4")
                .arg(e.learningRate, 0, 'g', 3)
                .arg(e.seconds, 0, 'f', 1)
                .arg(e.imagesPerSecond, 0, 'f', 0)
                .arg(e.best ? tr(" (best so far)") : QString());
    log(line);
    emit epochShown(e.epoch);
}

// ---------------------------------------------------------------------------------------
// Curves, overlays, runs

void TrainingTab::resetCurves()
{
    for (QCustomPlot* p : {m_lossPlot, m_accPlot, m_batchPlot}) {
        p->clearGraphs();
        p->clearItems();
    }
    m_overlays = 0;
    addLine(m_lossPlot, tr("train"), seriesColour(0));
    addLine(m_lossPlot, tr("val"), seriesColour(1));
    addLine(m_accPlot, tr("train"), seriesColour(0));
    addLine(m_accPlot, tr("val"), seriesColour(1));
    addLine(m_accPlot, tr("val QWK"), seriesColour(2));
    QCPGraph* raw = addLine(m_batchPlot, tr("batch loss"), QColor(170, 190, 215), Qt::SolidLine, false);
    raw->setPen(QPen(QColor(170, 190, 215), 1));
    addLine(m_batchPlot, tr("smoothed"), seriesColour(0), Qt::SolidLine, false);
    QCPGraph* lr =
        addLine(m_batchPlot, tr("learning rate"), seriesColour(4), Qt::SolidLine, false, m_batchPlot->yAxis2);
    lr->setPen(QPen(seriesColour(4), 1.5));
    m_accPlot->yAxis->setRange(0, 1);
    for (QCustomPlot* p : {m_lossPlot, m_accPlot, m_batchPlot}) {
        p->xAxis->setRange(0, std::max(1, m_epochs ? m_epochs->value() : 1));
        queueReplot(p);
    }
}

void TrainingTab::loadHistory(const QString& runDir)
{
    auto rows = jobs::readMetricsCsv(QDir(runDir).filePath("metrics.csv").toStdString());
    if (!rows)
        return;
    for (const ml::EpochMetrics& e : rows.value())
        plotEpoch(e, static_cast<double>(rows->size()));
}

bool TrainingTab::overlayRun(const QString& runDir)
{
    auto rows = jobs::readMetricsCsv(QDir(runDir).filePath("metrics.csv").toStdString());
    if (!rows) {
        showError(q(rows.error()));
        return false;
    }
    const QString name = QDir(runDir).dirName();
    const QColor trainColour = seriesColour(2 + m_overlays * 2).lighter(115);
    const QColor valColour = seriesColour(3 + m_overlays * 2).lighter(115);
    ++m_overlays;
    QCPGraph* tl = addLine(m_lossPlot, tr("%1 train").arg(name), trainColour, Qt::DashLine, false);
    QCPGraph* vl = addLine(m_lossPlot, tr("%1 val").arg(name), valColour, Qt::DashLine, false);
    QCPGraph* ta = addLine(m_accPlot, tr("%1 train").arg(name), trainColour, Qt::DashLine, false);
    QCPGraph* va = addLine(m_accPlot, tr("%1 val").arg(name), valColour, Qt::DashLine, false);
    double epochs = 0;
    for (const auto& r : rows.value()) {
        const double x = r.epoch + 1;
        epochs = std::max(epochs, x);
        if (std::isfinite(r.trainLoss))
            tl->addData(x, r.trainLoss);
        if (std::isfinite(r.valLoss))
            vl->addData(x, r.valLoss);
        if (std::isfinite(r.trainAccuracy))
            ta->addData(x, r.trainAccuracy);
        if (std::isfinite(r.valAccuracy))
            va->addData(x, r.valAccuracy);
    }
    for (QCustomPlot* p : {m_lossPlot, m_accPlot}) {
        rescale(p, std::max<double>(epochs, m_epochsPlanned));
        queueReplot(p);
    }
    log(tr("Overlaid %1 (%2 epochs)").arg(runDir).arg(rows->size()));
    return true;
}

void TrainingTab::clearOverlays()
{
    for (QCustomPlot* p : {m_lossPlot, m_accPlot}) {
        const int keep = p == m_lossPlot ? 2 : 3;
        while (p->graphCount() > keep)
            p->removeGraph(p->graphCount() - 1);
        queueReplot(p);
    }
    m_overlays = 0;
}

void TrainingTab::addRunFolder(const QString& dir)
{
    if (!m_extraRuns.contains(dir))
        m_extraRuns << dir;
    refreshRuns();
}

void TrainingTab::refreshRuns()
{
    QStringList dirs = m_extraRuns;
    const QString current = m_runDir.isEmpty() ? m_runDirEdit->text().trimmed() : m_runDir;
    const QString root = current.isEmpty() ? QDir::homePath() + "/lightbox-runs" : QFileInfo(current).absolutePath();
    for (const QFileInfo& fi : QDir(root).entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name))
        if (QFileInfo::exists(fi.filePath() + "/metrics.csv") || QFileInfo::exists(fi.filePath() + "/run.json"))
            if (!dirs.contains(fi.absoluteFilePath()))
                dirs << fi.absoluteFilePath();
    m_runs->setSortingEnabled(false);
    m_runs->setRowCount(0);
    for (const QString& dir : dirs) {
        auto info = jobs::readRunFolder(dir.toStdString());
        if (!info)
            continue;
        const int row = m_runs->rowCount();
        m_runs->insertRow(row);
        auto text = [&](int col, const QString& s) {
            auto* item = new QTableWidgetItem(s);
            m_runs->setItem(row, col, item);
            return item;
        };
        auto value = [&](int col, double v, int decimals) {
            auto* item = new QTableWidgetItem;
            if (std::isfinite(v))
                item->setData(Qt::DisplayRole, std::round(v * std::pow(10.0, decimals)) / std::pow(10.0, decimals));
            else
                item->setText(QStringLiteral("-"));
            item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            m_runs->setItem(row, col, item);
        };
        QTableWidgetItem* name = text(0, QDir(dir).dirName() + (info->resumable ? tr(" (resumable)") : QString()));
        name->setData(Qt::UserRole, dir);
        name->setToolTip(dir);
        text(1,
             q(info->architecture) + (info->worldSize > 1 ? tr(" in %1 processes").arg(info->worldSize) : QString()));
        text(2, q(info->task));
        value(3, info->epochs, 0);
        value(4, info->bestEpoch >= 0 ? info->bestEpoch + 1 : NAN, 0);
        value(5, info->bestEpoch >= 0 ? info->bestValAccuracy : NAN, 4);
        value(6, info->bestValQwk, 4);
        text(7, q(info->reportSplit));
        value(8, info->reportAccuracy, 4);
        value(9, info->reportQwk, 4);
    }
    m_runs->setSortingEnabled(true);
}

} // namespace lightbox::ui
