// TrainingTab's settings form: the data set, task preset, network and recipe, and the
// request they make (see TrainingTab.cpp).
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

// ---------------------------------------------------------------------------------------
// The settings form

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
    m_processes = new QSpinBox;
    m_processes->setObjectName(QStringLiteral("trainProcesses"));
    m_processes->setRange(1, 64);
    m_processes->setValue(1);
    m_processes->setToolTip(tr("Data-parallel training in this many processes on this machine (c10d: Gloo on the "
                               "CPU, NCCL on GPUs): each reads a share of every epoch, the batch size is per process, "
                               "and CPU threads count per process"));
    form->addRow(tr("Processes"), m_processes);
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
    r.processes = m_processes->value();
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

} // namespace lightbox::ui
