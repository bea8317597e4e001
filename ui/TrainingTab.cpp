#include "TrainingTab.h"

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
namespace {

constexpr double kSmoothing = 0.15; ///< weight of the newest batch in the smoothed loss

QString q(const std::string& s)
{
    return QString::fromStdString(s);
}

QString duration(double seconds)
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
QString splitName(const std::string& split)
{
    if (split == "train")
        return TrainingTab::tr("train");
    if (split == "val")
        return TrainingTab::tr("val");
    if (split == "test")
        return TrainingTab::tr("test");
    return QString::fromStdString(split);
}

QString fixed(double v, int decimals = 3)
{
    return std::isfinite(v) ? QString::number(v, 'f', decimals) : QStringLiteral("-");
}

QCPGraph* addLine(QCustomPlot* plot, const QString& name, const QColor& colour, Qt::PenStyle style = Qt::SolidLine,
                  bool markers = true, QCPAxis* valueAxis = nullptr)
{
    QCPGraph* g = plot->addGraph(plot->xAxis, valueAxis ? valueAxis : plot->yAxis);
    g->setName(name);
    g->setPen(QPen(colour, style == Qt::SolidLine ? 2.0 : 1.5, style));
    if (markers)
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, colour, Qt::white, 5));
    return g;
}

/// Fits the value axis to the visible data and the key axis to [0, max(epochs, data)].
void rescale(QCustomPlot* plot, double minKeyRange)
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

} // namespace

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

QWidget* TrainingTab::buildSettings()
{
    auto* form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);

    m_dataPath = new QLineEdit;
    m_dataPath->setPlaceholderText(tr("folder with one sub-folder per class, or a CSV"));
    auto* browseDir = new QToolButton;
    browseDir->setText(tr("Folder..."));
    auto* browseCsv = new QToolButton;
    browseCsv->setText(tr("CSV..."));
    connect(browseDir, &QToolButton::clicked, this, [this] {
        if (const QString d = pickFolder(tr("Data set folder"), m_dataPath->text()); !d.isEmpty()) {
            m_dataPath->setText(d);
            guessPreset();
        }
    });
    connect(browseCsv, &QToolButton::clicked, this, [this] {
        if (!m_interactive)
            return;
        const QString f = QFileDialog::getOpenFileName(this, tr("Data set CSV"), m_dataPath->text(),
                                                       tr("CSV files (*.csv);;All files (*)"));
        if (!f.isEmpty()) {
            m_dataPath->setText(f);
            guessPreset();
        }
    });
    connect(m_dataPath, &QLineEdit::editingFinished, this, &TrainingTab::guessPreset);
    auto* dataRow = new QHBoxLayout;
    dataRow->addWidget(m_dataPath, 1);
    dataRow->addWidget(browseDir);
    dataRow->addWidget(browseCsv);
    form->addRow(tr("Data set"), dataRow);

    m_preset = new QComboBox;
    m_preset->addItem(tr("Custom (folder names are the classes)"), QString());
    for (const auto& p : data::taskPresets())
        m_preset->addItem(Language::taskText(p.title), q(p.id));
    form->addRow(tr("Task"), m_preset);
    m_presetNote = new QLabel;
    m_presetNote->setWordWrap(true);
    m_presetNote->setStyleSheet(QStringLiteral("color: #555;"));
    form->addRow(QString(), m_presetNote);
    connect(m_preset, qOverload<int>(&QComboBox::currentIndexChanged), this,
            [this](int i) { setPreset(m_preset->itemData(i).toString()); });

    m_arch = new QComboBox;
    for (const auto& a : ml::modelArchitectures())
        m_arch->addItem(q(a));
    form->addRow(tr("Network"), m_arch);

    m_size = new QSpinBox;
    m_size->setRange(16, 1024);
    m_size->setValue(224);
    m_size->setSuffix(tr(" px"));
    m_channels = new QComboBox;
    m_channels->addItem(tr("grey"), 1);
    m_channels->addItem(tr("RGB"), 3);
    auto* inputRow = new QHBoxLayout;
    inputRow->addWidget(m_size, 1);
    inputRow->addWidget(m_channels);
    form->addRow(tr("Input"), inputRow);

    m_optimizer = new QComboBox;
    m_optimizer->addItems({"adamw", "adam", "sgd"});
    form->addRow(tr("Optimiser"), m_optimizer);
    m_lr = new QDoubleSpinBox;
    m_lr->setDecimals(6);
    m_lr->setRange(1e-6, 1.0);
    m_lr->setSingleStep(1e-4);
    m_lr->setValue(1e-3);
    form->addRow(tr("Learning rate"), m_lr);
    m_weightDecay = new QDoubleSpinBox;
    m_weightDecay->setDecimals(6);
    m_weightDecay->setRange(0.0, 1.0);
    m_weightDecay->setSingleStep(1e-4);
    m_weightDecay->setValue(1e-4);
    form->addRow(tr("Weight decay"), m_weightDecay);
    m_schedule = new QComboBox;
    m_schedule->addItem(tr("reduce on plateau"), "plateau");
    m_schedule->addItem(tr("cosine"), "cosine");
    m_schedule->addItem(tr("constant"), "none");
    form->addRow(tr("Schedule"), m_schedule);
    m_batch = new QSpinBox;
    m_batch->setRange(1, 1024);
    m_batch->setValue(32);
    form->addRow(tr("Batch size"), m_batch);
    m_epochs = new QSpinBox;
    m_epochs->setRange(1, 1000);
    m_epochs->setValue(20);
    form->addRow(tr("Epochs"), m_epochs);
    m_patience = new QSpinBox;
    m_patience->setRange(0, 1000);
    m_patience->setValue(5);
    m_patience->setSpecialValueText(tr("never stop early"));
    form->addRow(tr("Patience"), m_patience);
    m_classWeights = new QCheckBox(tr("Class weights (inverse frequency)"));
    m_balanced = new QCheckBox(tr("Balanced sampler"));
    form->addRow(QString(), m_classWeights);
    form->addRow(QString(), m_balanced);
    m_shortcut = new QCheckBox(tr("Shortcut check (centres blanked)"));
    m_shortcut->setObjectName(QStringLiteral("shortcutCheck"));
    m_shortcut->setToolTip(tr("Before training, train a small network for a few epochs on the images with their "
                              "centre blanked: if it still reads the labels, they can be told from borders, "
                              "markers, text or the source hospital rather than the anatomy"));
    form->addRow(QString(), m_shortcut);
    m_smoothing = new QDoubleSpinBox;
    m_smoothing->setRange(0.0, 0.5);
    m_smoothing->setSingleStep(0.05);
    m_smoothing->setDecimals(2);
    form->addRow(tr("Label smoothing"), m_smoothing);
    m_ordinalSigma = new QDoubleSpinBox;
    m_ordinalSigma->setRange(0.0, 2.0);
    m_ordinalSigma->setSingleStep(0.25);
    m_ordinalSigma->setDecimals(2);
    m_ordinalSigma->setSpecialValueText(tr("off (one-hot)"));
    m_ordinalSigma->setSuffix(tr(" grades"));
    m_ordinalSigma->setToolTip(tr("Graded tasks only (e.g. KL grade): learn from Gaussian soft labels this many "
                                  "grades wide, so one grade off costs less than three"));
    form->addRow(tr("Ordinal soft labels"), m_ordinalSigma);
    m_head = new QComboBox;
    m_head->setObjectName(QStringLiteral("headCombo"));
    m_head->addItem(tr("Softmax"), QStringLiteral("softmax"));
    m_head->addItem(tr("CORN (ordinal)"), QStringLiteral("corn"));
    m_head->setToolTip(tr("Graded tasks only: a CORN head learns P(grade > k) for each k, so the grades' "
                          "probabilities stay in rank order"));
    form->addRow(tr("Classifier head"), m_head);
    m_augment = new QComboBox;
    for (const auto& a : data::AugmentOptions::presetNames())
        m_augment->addItem(q(a));
    form->addRow(tr("Augmentation"), m_augment);
    m_device = new QComboBox;
    m_device->addItems({"auto", "cpu"});
    for (int i = 0; i < ml::cudaDeviceCount(); ++i)
        m_device->addItem(QString("cuda:%1").arg(i));
    form->addRow(tr("Device"), m_device);
    m_mixed = new QCheckBox(tr("Mixed precision"));
    m_mixed->setObjectName(QStringLiteral("mixedPrecision"));
    connect(m_device, &QComboBox::currentTextChanged, this, &TrainingTab::updateMixedPrecisionBox);
    updateMixedPrecisionBox();
    form->addRow(QString(), m_mixed);
    m_threads = new QSpinBox;
    m_threads->setRange(0, 256);
    m_threads->setSpecialValueText(tr("all cores"));
    // One core stays free for the GUI and the loader: on a busy machine LibTorch's threads
    // spinning against other work cost far more than the extra core gains.
    m_threads->setValue(std::max(1, QThread::idealThreadCount() - 1));
    m_threads->setToolTip(tr("LibTorch CPU threads (not used on a GPU)"));
    form->addRow(tr("CPU threads"), m_threads);
    m_seed = new QSpinBox;
    m_seed->setRange(0, 1 << 30);
    m_seed->setValue(42);
    form->addRow(tr("Seed"), m_seed);

    m_runDirEdit = new QLineEdit;
    m_runDirEdit->setPlaceholderText(tr("new folder under ~/lightbox-runs"));
    auto* browseRun = new QToolButton;
    browseRun->setText(tr("..."));
    connect(browseRun, &QToolButton::clicked, this, [this] {
        if (const QString d = pickFolder(tr("Run folder"), m_runDirEdit->text()); !d.isEmpty())
            m_runDirEdit->setText(d);
    });
    auto* runRow = new QHBoxLayout;
    runRow->addWidget(m_runDirEdit, 1);
    runRow->addWidget(browseRun);
    form->addRow(tr("Run folder"), runRow);

    m_train = new QPushButton(tr("Train"));
    m_train->setDefault(true);
    m_pause = new QPushButton(tr("Pause"));
    m_stop = new QPushButton(tr("Stop"));
    m_resumeRun = new QPushButton(tr("Resume run..."));
    m_overlay = new QPushButton(tr("Overlay run..."));
    connect(m_train, &QPushButton::clicked, this, [this] { startTraining(); });
    connect(m_pause, &QPushButton::clicked, this, &TrainingTab::togglePause);
    connect(m_stop, &QPushButton::clicked, this, &TrainingTab::stopTraining);
    connect(m_resumeRun, &QPushButton::clicked, this, [this] {
        if (const QString d = pickFolder(tr("Run folder to resume"), m_runDirEdit->text()); !d.isEmpty())
            resumeRun(d);
    });
    connect(m_overlay, &QPushButton::clicked, this, [this] {
        if (const QString d = pickFolder(tr("Run folder to overlay"), m_runDirEdit->text()); !d.isEmpty())
            overlayRun(d);
    });
    auto* buttons = new QGridLayout;
    buttons->addWidget(m_train, 0, 0);
    buttons->addWidget(m_pause, 0, 1);
    buttons->addWidget(m_stop, 0, 2);
    buttons->addWidget(m_resumeRun, 1, 0, 1, 2);
    buttons->addWidget(m_overlay, 1, 2);

    m_status = new QLabel;
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);

    for (QComboBox* combo : {m_preset, m_arch, m_channels, m_optimizer, m_schedule, m_augment, m_device}) {
        combo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        combo->setMinimumContentsLength(6);
    }
    m_dataPath->setMinimumWidth(80);
    m_runDirEdit->setMinimumWidth(80);
    auto* inner = new QWidget;
    auto* v = new QVBoxLayout(inner);
    v->addLayout(form);
    v->addLayout(buttons);
    v->addWidget(m_status);
    v->addStretch(1);
    auto* scroll = new QScrollArea;
    scroll->setWidget(inner);
    scroll->setWidgetResizable(true);
    scroll->setMinimumWidth(200);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff); // the form wraps to the panel's width
    scroll->setFrameShape(QFrame::NoFrame);
    return scroll;
}

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
// Settings

QString TrainingTab::presetNoteText() const
{
    return m_presetNote->text();
}

void TrainingTab::guessPreset()
{
    if (!m_preset->currentData().toString().isEmpty())
        return; // a task was chosen: the user's choice stays
    const QString path = m_dataPath->text().trimmed();
    const QFileInfo info(path);
    if (path.isEmpty() || !info.exists())
        return;
    jobs::ImageContext c;
    c.path = QDir::cleanPath(info.absoluteFilePath()).toStdString() + "/";
    // The class folders: the data set's own, or those under its train/ folder.
    QDir dir(info.isDir() ? info.absoluteFilePath() : info.absolutePath());
    if (dir.exists(QStringLiteral("train")))
        dir.cd(QStringLiteral("train"));
    for (const QString& f : dir.entryList(QDir::Dirs | QDir::NoDotAndDotDot))
        c.siblingFolders.push_back(f.toStdString());
    const jobs::ModelChoice guess = jobs::chooseTask(c);
    if (guess.task.empty() || m_preset->findData(q(guess.task)) < 0)
        return;
    setPreset(q(guess.task));
    m_presetNote->setText(tr("Task chosen from the data set: %1.\n%2").arg(q(guess.reason), m_presetNote->text()));
    log(tr("Task %1 chosen because %2").arg(q(guess.task), q(guess.reason)));
}

void TrainingTab::setPreset(const QString& presetId)
{
    const data::TaskPreset* p = data::findTaskPreset(presetId.toStdString());
    const int index = m_preset->findData(p ? presetId : QString());
    if (index >= 0 && index != m_preset->currentIndex()) {
        m_preset->setCurrentIndex(index); // comes back here through the signal
        return;
    }
    if (!p) {
        m_presetNote->setText(tr("Classes: the data set's folder names or label values."));
        return;
    }
    QStringList names;
    for (const auto& n : p->displayNames.empty() ? p->classes : p->displayNames)
        names << q(n);
    m_presetNote->setText(
        tr("Classes: %1%2\n%3")
            .arg(names.join(", "), p->ordinal ? tr(" (graded: QWK and MAE)") : QString(), Language::taskText(p->note)));
    if (const int a = m_arch->findText(q(p->architecture)); a >= 0)
        m_arch->setCurrentIndex(a);
    if (const int a = m_augment->findText(q(p->augmentation)); a >= 0)
        m_augment->setCurrentIndex(a);
    m_size->setValue(p->inputSize);
    m_channels->setCurrentIndex(m_channels->findData(p->channels));
}

jobs::TrainingRequest TrainingTab::request() const
{
    jobs::TrainingRequest r;
    r.dataPath = m_dataPath->text().trimmed().toStdString();
    const QString presetId = m_preset->currentData().toString();
    if (const data::TaskPreset* p = data::findTaskPreset(presetId.toStdString()))
        jobs::applyPreset(*p, r);
    ml::TrainConfig& c = r.config;
    c.architecture = m_arch->currentText().toStdString();
    c.preprocess = jobs::defaultPreprocess(m_channels->currentData().toInt(), m_size->value());
    c.optimizer = m_optimizer->currentText().toStdString();
    c.learningRate = m_lr->value();
    c.weightDecay = m_weightDecay->value();
    c.schedule = m_schedule->currentData().toString().toStdString();
    c.epochs = m_epochs->value();
    c.earlyStopPatience = m_patience->value();
    c.labelSmoothing = m_smoothing->value();
    c.ordinalSigma = m_ordinalSigma->value();
    c.head = m_head->currentData().toString().toStdString();
    c.device = m_device->currentText().toStdString();
    c.mixedPrecision = m_mixed->isChecked() && m_mixed->isEnabled();
    c.threads = m_threads->value();
    c.seed = static_cast<uint64_t>(m_seed->value());
    r.split.seed = c.seed;
    r.batchSize = m_batch->value();
    r.balanced = m_balanced->isChecked();
    r.classWeightsFromCounts = m_classWeights->isChecked();
    r.checkShortcut = m_shortcut->isChecked();
    r.augmentPreset = m_augment->currentText().toStdString();
    QString runDir = m_runDirEdit->text().trimmed();
    if (runDir.isEmpty())
        runDir = QDir(QDir::homePath() + "/lightbox-runs")
                     .filePath(QDateTime::currentDateTime().toString("yyyyMMdd-HHmmss") + "-" + m_arch->currentText());
    c.runDir = runDir.toStdString();
    return r;
}

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
             m_head,     m_augment, m_device, m_threads,  m_seed,         m_runDirEdit})
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
        text(1, q(info->architecture));
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

void TrainingTab::log(const QString& text)
{
    m_log->appendPlainText(QDateTime::currentDateTime().toString("HH:mm:ss  ") + text);
}

} // namespace lightbox::ui
