// The training tab: construction, starting, pausing, resuming and stopping a run in the
// background, its data-set, leakage, shortcut and result panes, and the log. The settings
// form: TrainingTabForm.cpp; the curves, the data view and the runs table: TrainingTabCurves.cpp.
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

TrainingTab::TrainingTab(QWidget* parent) : QWidget(parent)
{
    jobs::registerTrainingMetaTypes();

    m_views = new QTabWidget;
    m_views->addTab(buildCurves(), tr("Curves"));
    m_views->addTab(buildDataView(), tr("Data"));
    m_evaluation = new EvaluationView;
    m_views->addTab(m_evaluation, tr("Evaluation"));
    connect(m_evaluation, &EvaluationView::plotsExported, this, [this](const QString&, const QStringList& files) {
        if (!files.isEmpty())
            log(tr("Wrote %1").arg(files.join(", ")));
        announceFinished();
    });
    m_views->addTab(buildRuns(), tr("Runs"));
    m_log = new QPlainTextEdit;
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(5000);
    m_views->addTab(m_log, tr("Log"));

    auto* splitter = new QSplitter(Qt::Horizontal);
    splitter->addWidget(buildSettings());
    splitter->addWidget(m_views);
    splitter->setStretchFactor(0, 0);
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({370, 900});

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(splitter);
    setRunning(false);
    setPreset(QString());
}

TrainingTab::~TrainingTab()
{
    if (m_worker)
        m_worker->stop();
    if (m_thread) {
        m_thread->quit();
        m_thread->wait();
    }
}

// ---------------------------------------------------------------------------------------
// Construction

// ---------------------------------------------------------------------------------------
// Running

bool TrainingTab::startTraining()
{
    if (isRunning())
        return false;
    jobs::TrainingRequest r = request();
    if (r.dataPath.empty()) {
        showError(tr("Choose a data set folder or CSV first."));
        return false;
    }
    if (!QFileInfo::exists(q(r.dataPath))) {
        showError(tr("The data set %1 does not exist.").arg(q(r.dataPath)));
        return false;
    }
    if (ml::Trainer::canResume(r.config.runDir)) {
        showError(tr("%1 already holds a run: resume it, or choose another run folder.").arg(q(r.config.runDir)));
        return false;
    }
    if (auto empty = jobs::emptyClasses(r); empty && !empty->empty()) {
        // A class of the task without images: never train it silently.
        QStringList names;
        for (const auto& n : empty.value())
            names << q(n);
        const int kept = static_cast<int>(r.config.classNames.size()) - names.size();
        if (kept < 2) {
            showError(tr("The data set has images of fewer than two of the task's classes (none of %1).")
                          .arg(names.join(", ")));
            return false;
        }
        QMessageBox box(
            QMessageBox::Warning, tr("Class without images"),
            tr("The data set has no images of %1. A model cannot learn a class it never sees.").arg(names.join(", ")),
            QMessageBox::NoButton, this);
        box.setObjectName(QStringLiteral("emptyClassDialog"));
        box.setInformativeText(tr("Train on the %1 classes that have images? The model card will say that the "
                                  "model does not cover %2.")
                                   .arg(kept)
                                   .arg(names.join(", ")));
        QPushButton* train = box.addButton(tr("Train on %1 classes").arg(kept), QMessageBox::AcceptRole);
        train->setObjectName(QStringLiteral("trainPresentClasses"));
        box.addButton(QMessageBox::Cancel);
        box.exec();
        if (box.clickedButton() != train)
            return false;
        r.skipEmptyClasses = true;
    }
    resetCurves();
    m_evaluation->clear();
    startWorker(r);
    return true;
}

bool TrainingTab::resumeRun(const QString& runDir)
{
    if (isRunning())
        return false;
    auto r = jobs::TrainingRequest::fromRunFolder(runDir.toStdString());
    if (!r) {
        showError(q(r.error()));
        return false;
    }
    resetCurves();
    m_evaluation->clear();
    loadHistory(runDir);
    m_runDirEdit->setText(runDir);
    r->processes = m_processes->value(); // every rank reads the checkpoint: any number may resume
    startWorker(r.value());
    return true;
}

void TrainingTab::startWorker(const jobs::TrainingRequest& request)
{
    if (m_finishPending) { // the previous run's plots are still being written
        m_finishPending = false;
        emit trainingFinished(m_lastOk);
    }
    m_error.clear();
    m_lastOk = false;
    m_runDir = q(request.config.runDir);
    m_epochsPlanned = request.config.epochs;
    m_classNames = request.config.classNames;
    m_paused = false;
    m_haveSmoothed = false;
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_progressLabel->setText(tr("Starting"));

    auto* worker = new jobs::TrainingWorker(request);
    m_thread = new QThread(this);
    m_thread->setObjectName(QStringLiteral("training"));
    worker->moveToThread(m_thread);
    m_worker = worker;
    connect(m_thread, &QThread::started, worker, &jobs::TrainingWorker::run);
    connect(worker, &jobs::TrainingWorker::finished, m_thread, &QThread::quit);
    connect(worker, &jobs::TrainingWorker::failed, m_thread, &QThread::quit);
    connect(m_thread, &QThread::finished, worker, &QObject::deleteLater);
    connect(m_thread, &QThread::finished, this, &TrainingTab::workerGone);
    const auto queued = Qt::QueuedConnection;
    connect(
        worker, &jobs::TrainingWorker::stageChanged, this,
        [this](const QString& s) {
            setStatus(s);
            log(s);
        },
        queued);
    connect(worker, &jobs::TrainingWorker::logMessage, this, &TrainingTab::log, queued);
    connect(worker, &jobs::TrainingWorker::datasetReady, this, &TrainingTab::onDataset, queued);
    connect(worker, &jobs::TrainingWorker::leakageChecked, this, &TrainingTab::onLeakage, queued);
    connect(worker, &jobs::TrainingWorker::shortcutChecked, this, &TrainingTab::onShortcut, queued);
    connect(worker, &jobs::TrainingWorker::samplesReady, this, &TrainingTab::onSamples, queued);
    connect(worker, &jobs::TrainingWorker::batchProgress, this, &TrainingTab::onBatch, queued);
    connect(worker, &jobs::TrainingWorker::epochCompleted, this, &TrainingTab::onEpoch, queued);
    connect(worker, &jobs::TrainingWorker::finished, this, &TrainingTab::onFinished, queued);
    connect(worker, &jobs::TrainingWorker::failed, this, &TrainingTab::onFailed, queued);
    setRunning(true);
    log(tr("Run folder %1").arg(m_runDir));
    m_views->setCurrentIndex(0);
    m_thread->start();
    emit trainingStarted();
}

void TrainingTab::togglePause()
{
    if (!m_worker)
        return;
    m_paused = !m_paused;
    if (m_paused) {
        m_worker->pause();
        m_pause->setText(tr("Resume"));
        setStatus(tr("Paused (after the current batch)"));
    } else {
        m_worker->resume();
        m_pause->setText(tr("Pause"));
        setStatus(tr("Training"));
    }
}

void TrainingTab::stopTraining()
{
    if (!m_worker)
        return;
    m_worker->stop();
    m_paused = false;
    m_pause->setText(tr("Pause"));
    m_stop->setEnabled(false);
    m_pause->setEnabled(false);
    setStatus(tr("Stopping after the current batch; the last checkpoint is kept"));
}

void TrainingTab::workerGone()
{
    if (m_thread) {
        m_thread->wait();
        m_thread->deleteLater();
        m_thread = nullptr;
    }
    m_worker = nullptr;
    setRunning(false);
    m_finishPending = true;
    announceFinished();
}

void TrainingTab::announceFinished()
{
    if (!m_finishPending || m_thread || m_evaluation->isExporting())
        return;
    m_finishPending = false;
    emit trainingFinished(m_lastOk);
}

void TrainingTab::setRunning(bool running)
{
    m_train->setEnabled(!running);
    m_resumeRun->setEnabled(!running);
    m_pause->setEnabled(running);
    m_stop->setEnabled(running);
    if (!running) {
        m_pause->setText(tr("Pause"));
        m_paused = false;
    }
    for (QWidget* w : std::initializer_list<QWidget*>{
             m_dataPath, m_preset,  m_arch,   m_size,     m_channels,     m_optimizer, m_lr,        m_weightDecay,
             m_schedule, m_batch,   m_epochs, m_patience, m_classWeights, m_balanced,  m_smoothing, m_ordinalSigma,
             m_head,     m_augment, m_device, m_threads,  m_processes,    m_seed,      m_runDirEdit})
        w->setEnabled(!running);
    updateMixedPrecisionBox();
}

void TrainingTab::updateMixedPrecisionBox()
{
    const std::string name = ml::reducedPrecisionName(m_device->currentText().toStdString());
    m_mixed->setEnabled(!name.empty() && m_device->isEnabled());
    m_mixed->setToolTip(name.empty() ? tr("Not available here: needs a GPU, or a CPU with bfloat16 arithmetic "
                                          "(AVX-512 BF16 or AMX)")
                                     : tr("%1 autocast (weights stay float32): about twice as fast, results "
                                          "differ slightly from a float32 run")
                                           .arg(q(name)));
}

void TrainingTab::onDataset(const jobs::DatasetSummary& d)
{
    m_classNames = d.classNames;
    m_countsPlot->clearPlottables();
    auto* group = new QCPBarsGroup(m_countsPlot);
    const QString names[] = {tr("train"), tr("val"), tr("test")};
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    for (size_t c = 0; c < d.classNames.size(); ++c)
        ticker->addTick(static_cast<double>(c), q(d.classNames[c]));
    double top = 1;
    QStringList totals;
    for (size_t s = 0; s < d.countsPerSplit.size() && s < 3; ++s) {
        QVector<double> x, y;
        qint64 total = 0;
        for (size_t c = 0; c < d.countsPerSplit[s].size(); ++c) {
            x << static_cast<double>(c);
            y << static_cast<double>(d.countsPerSplit[s][c]);
            total += d.countsPerSplit[s][c];
            top = std::max(top, y.back());
        }
        totals << QString("%1 %2").arg(names[s]).arg(total);
        auto* bars = new QCPBars(m_countsPlot->xAxis, m_countsPlot->yAxis);
        bars->setName(names[s]);
        bars->setData(x, y);
        bars->setWidth(0.8 / 3.0);
        bars->setBrush(seriesColour(static_cast<int>(s)));
        bars->setPen(Qt::NoPen);
        bars->setBarsGroup(group);
    }
    m_countsPlot->xAxis->setTicker(ticker);
    m_countsPlot->xAxis->setRange(-0.6, static_cast<double>(d.classNames.size()) - 0.4);
    m_countsPlot->xAxis->grid()->setVisible(false);
    m_countsPlot->yAxis->setRange(0, top * 1.15);
    m_countsPlot->yAxis->setLabel(tr("Images"));
    m_countsPlot->legend->setVisible(true);
    m_countsPlot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignRight | Qt::AlignTop);
    queueReplot(m_countsPlot);

    QString text =
        tr("%1: %2 images in %3 classes (%4); %5.")
            .arg(q(d.root))
            .arg(d.samples)
            .arg(d.classNames.size())
            .arg(totals.join(", "), d.hasGivenSplits
                                        ? tr("the data set's own splits (a missing val or test split is carved from "
                                             "train by patient)")
                                        : tr("split 8:1:1, stratified and grouped by patient"));
    if (d.stats.measured > 0)
        text += tr("\nImage size %1-%2 x %3-%4 px, mean %5 x %6 (%7 files measured).")
                    .arg(d.stats.minWidth)
                    .arg(d.stats.maxWidth)
                    .arg(d.stats.minHeight)
                    .arg(d.stats.maxHeight)
                    .arg(d.stats.meanWidth, 0, 'f', 0)
                    .arg(d.stats.meanHeight, 0, 'f', 0)
                    .arg(d.stats.measured);
    if (!d.skipped.empty())
        text += tr("\n%1 entries left out while listing, e.g. %2").arg(d.skipped.size()).arg(q(d.skipped.front()));
    m_stats->setText(text);
    log(text);
}

void TrainingTab::onLeakage(const jobs::LeakageSummary& l)
{
    QString text = q(l.report.summary());
    for (const auto& e : l.report.examples)
        text += "\n  " + q(e);
    if (!l.report.unreadable.empty())
        text += tr("\n%1 file(s) could not be read for the check.").arg(l.report.unreadable.size());
    if (!l.report.clean())
        text += tr("\n\nImages or patients shared between splits make validation and test scores look better than "
                   "they are on new patients.");
    m_leakage->setPlainText(text);
    m_leakage->setStyleSheet(l.report.clean() ? QString() : QStringLiteral("color: #a04000;"));
    log(q(l.report.summary()));
}

void TrainingTab::onShortcut(const jobs::ShortcutReport& s)
{
    QString text = q(s.summary());
    text += tr("\nProbe trained on %1 images, centres blanked (%2 % of width and height).")
                .arg(s.trainSamples)
                .arg(s.blankFraction * 100, 0, 'f', 0);
    for (size_t i = 0; i < s.recall.size() && i < s.classNames.size(); ++i)
        text += tr("\n  %1: recall %2").arg(q(s.classNames[i])).arg(s.recall[i], 0, 'f', 2);
    m_shortcutText->setPlainText(text);
    m_shortcutText->setStyleSheet(s.flagged ? QStringLiteral("color: #a04000;") : QString());
    log(q(s.summary()));
}

void TrainingTab::onSamples(const jobs::SampleGallery& g)
{
    auto* grid = static_cast<QGridLayout*>(m_gallery->layout());
    while (QLayoutItem* item = grid->takeAt(0)) {
        delete item->widget();
        delete item;
    }
    grid->setSpacing(3);
    std::vector<int> column(g.classNames.size(), 0);
    int perClass = 0;
    for (const jobs::Thumbnail& t : g.thumbnails)
        if (!t.augmented && t.label >= 0 && t.label < static_cast<int>(column.size()))
            perClass = std::max(perClass, ++column[t.label]);
    std::fill(column.begin(), column.end(), 0);
    for (size_t c = 0; c < g.classNames.size(); ++c)
        grid->addWidget(new QLabel(q(g.classNames[c])), static_cast<int>(c), 0);
    for (const jobs::Thumbnail& t : g.thumbnails) {
        if (t.label < 0 || t.label >= static_cast<int>(column.size()))
            continue;
        const QImage::Format format = t.channels == 3 ? QImage::Format_RGB888 : QImage::Format_Grayscale8;
        const QImage image(t.pixels.data(), t.width, t.height, t.width * t.channels, format);
        auto* label = new QLabel;
        label->setPixmap(QPixmap::fromImage(image.scaled(48, 48, Qt::KeepAspectRatio, Qt::SmoothTransformation)));
        label->setToolTip(t.augmented ? tr("%1 (augmented: %2)").arg(q(t.id), q(g.augmentPreset)) : q(t.id));
        // Originals first, then a gap, then the same samples augmented.
        const int index = column[t.label]++;
        const int slot = index / 2 + (t.augmented ? perClass + 1 : 0);
        grid->addWidget(label, t.label, 1 + slot);
    }
    grid->setColumnMinimumWidth(1 + perClass, 10);
    grid->setRowStretch(static_cast<int>(g.classNames.size()), 1);
    grid->setColumnStretch(2 + 2 * perClass, 1);
}

void TrainingTab::onFinished(const jobs::TrainingOutcome& o)
{
    const ml::TrainSummary& s = o.summary;
    if (s.cancelled) {
        if (ml::Trainer::canResume(o.runDir))
            setStatus(tr("Stopped after %1 epoch(s). \"Resume run...\" continues from %2.")
                          .arg(s.history.size())
                          .arg(q(o.runDir)));
        else
            setStatus(tr("Stopped before the first epoch finished: nothing to resume."));
        m_progressLabel->setText(tr("Stopped"));
    } else {
        setStatus(tr("Finished: %1 epoch(s)%2, best epoch %3 on %4.")
                      .arg(s.history.size())
                      .arg(s.stoppedEarly ? tr(" (stopped early)") : QString())
                      .arg(s.bestEpoch + 1)
                      .arg(q(s.device)));
        m_progress->setValue(m_progress->maximum());
        m_progressLabel->setText(tr("Done"));
    }
    if (o.report.numClasses > 0) {
        m_evaluation->setReport(o.report, tr("Best epoch (%1) of %2, on its %3 split")
                                              .arg(s.bestEpoch + 1)
                                              .arg(QDir(q(o.runDir)).dirName(), splitName(o.evaluatedSplit)));
        log(tr("Evaluation on the %1 split: accuracy %2").arg(splitName(o.evaluatedSplit), fixed(o.report.accuracy)));
        // The plots' PNG files are written in the background; trainingFinished() waits for them.
        m_evaluation->exportPlotsInBackground(q(o.runDir));
        m_views->setCurrentWidget(m_evaluation);
    }
    if (!s.skipped.empty())
        log(tr("%1 unreadable sample(s) skipped, e.g. %2").arg(s.skipped.size()).arg(q(s.skipped.front())));
    refreshRuns();
    m_lastOk = true; // trainingFinished() once the thread is gone
}

void TrainingTab::onFailed(const QString& message)
{
    showError(message);
    m_progressLabel->setText(tr("Failed"));
    m_lastOk = false;
}

// ---------------------------------------------------------------------------------------
// Messages

QString TrainingTab::pickFolder(const QString& caption, const QString& start)
{
    return m_interactive ? QFileDialog::getExistingDirectory(this, caption, start) : QString();
}

QString TrainingTab::statusText() const
{
    return m_status->text();
}

void TrainingTab::showError(const QString& message)
{
    m_error = message;
    m_status->setStyleSheet(QStringLiteral("color: #b00020;"));
    m_status->setText(message);
    log(tr("Error: %1").arg(message));
}

void TrainingTab::setStatus(const QString& text)
{
    m_status->setStyleSheet(QString());
    m_status->setText(text);
}

QString TrainingTab::logText() const
{
    return m_log->toPlainText();
}

void TrainingTab::log(const QString& text)
{
    m_log->appendPlainText(QDateTime::currentDateTime().toString("HH:mm:ss  ") + text);
}

} // namespace lightbox::ui
