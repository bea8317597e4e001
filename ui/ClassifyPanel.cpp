#include "ClassifyPanel.h"

#include "BackgroundPool.h"
#include "Language.h"
#include "SettingsWriter.h"

#include <ml/Bundle.h>
#include <ml/Runtime.h>

#include <QCheckBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSlider>
#include <QTimer>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrent>

#include <opencv2/core.hpp>

#include <algorithm>

#ifndef LIGHTBOX_SOURCE_MODELS_DIR
#define LIGHTBOX_SOURCE_MODELS_DIR ""
#endif

namespace lightbox::ui {
namespace {

constexpr int kBarSteps = 1000;
constexpr int kRerunDelayMs = 200; // a crop drag emits many changes: run once it pauses
const QColor kTopColour(230, 126, 34);
const QColor kOtherColour(90, 140, 190);
const QColor kDistrustedColour(160, 160, 160); ///< bars of an out-of-distribution result

/// Marks the "Open model file..." entry of the picker.
const QString kOpenEntry = QStringLiteral("::open");

/// The class names to show: the card's display names in the interface language where it has
/// them (ml::ModelCard::classDisplayNames), else its class names.
QStringList shownClassNames(const jobs::ModelInfo& info)
{
    const std::string language = Language::active().toStdString();
    QStringList names;
    for (int i = 0; i < info.card.numClasses(); ++i)
        names << QString::fromStdString(info.card.displayName(i, language));
    return names;
}

} // namespace

ClassifyPanel::ClassifyPanel(QWidget* parent) : QWidget(parent), m_job(new jobs::PredictJob(this))
{
    QSettings s;
    s.beginGroup(QStringLiteral("classify"));

    m_model = new QComboBox;
    m_model->setObjectName(QStringLiteral("classifyModel"));
    m_model->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_model->setMinimumContentsLength(16);
    m_model->setToolTip(tr("Model bundles (*.lbx) and TorchScript files (*.pt) of the models folders"));
    m_card = new QLabel;
    m_card->setWordWrap(true);
    m_card->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont small = m_card->font();
    small.setPointSizeF(small.pointSizeF() * 0.9);
    m_card->setFont(small);

    const int cudaDevices = ml::cudaDeviceCount();
    m_device = new QComboBox;
    m_device->addItem(tr("Auto"), QStringLiteral("auto"));
    m_device->addItem(tr("CPU"), QStringLiteral("cpu"));
    for (int i = 0; i < cudaDevices; ++i)
        m_device->addItem(QStringLiteral("CUDA:%1").arg(i), QStringLiteral("cuda:%1").arg(i));
    m_device->setToolTip(tr("Auto: the first GPU when there is one, else the CPU. LibTorch %1")
                             .arg(QString::fromStdString(ml::torchSummary())));
    m_half = new QCheckBox(tr("Reduced precision"));
    m_half->setObjectName(QStringLiteral("reducedPrecision"));
    m_half->setChecked(s.value(QStringLiteral("half"), false).toBool());
    auto* deviceRow = new QHBoxLayout;
    deviceRow->addWidget(m_device, 1);
    deviceRow->addWidget(m_half);

    m_run = new QPushButton(tr("Run"));
    m_run->setObjectName(QStringLiteral("classifyRun"));
    m_run->setToolTip(tr("Classify the crop, or the whole image when there is none (Ctrl+R)"));
    m_auto = new QCheckBox(tr("Re-run when the crop changes"));
    m_auto->setChecked(s.value(QStringLiteral("autoRerun"), true).toBool());
    m_tta = new QCheckBox(tr("Test-time augmentation"));
    m_tta->setObjectName(QStringLiteral("testTimeAugmentation"));
    m_tta->setToolTip(tr("Also classify the image mirrored and slightly shifted, as the model saw its training "
                         "images, and average: steadier probabilities, a few times slower"));
    m_tta->setChecked(s.value(QStringLiteral("tta"), false).toBool());
    auto* runRow = new QHBoxLayout;
    runRow->addWidget(m_run);
    runRow->addWidget(m_auto, 1);

    m_autoPick = new QCheckBox(tr("Pick the model for each image"));
    m_autoPick->setObjectName(QStringLiteral("autoPickModel"));
    m_autoPick->setToolTip(tr("Choose the listed model whose task fits: the crop panel's task, else the DICOM body "
                              "part or modality, else the image's folder"));
    m_autoPick->setChecked(s.value(QStringLiteral("autoPick"), true).toBool());
    m_pickReason = new QLabel;
    m_pickReason->setObjectName(QStringLiteral("pickReason"));
    m_pickReason->setWordWrap(true);
    m_pickReason->setFont(small);
    m_pickReason->setTextInteractionFlags(Qt::TextSelectableByMouse);

    // The pick's reason and the card summary in one column: wrapped labels in separate form
    // rows left a gap between them.
    for (QLabel* l : {m_pickReason, m_card}) {
        l->setAlignment(Qt::AlignLeft | Qt::AlignTop);
        l->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Maximum);
    }
    auto* about = new QVBoxLayout;
    about->setSpacing(4);
    about->addWidget(m_autoPick);
    about->addWidget(m_pickReason);
    about->addWidget(m_card);
    auto* form = new QFormLayout;
    form->addRow(tr("Model"), m_model);
    form->addRow(QString(), about);
    form->addRow(tr("Device"), deviceRow);

    // Results
    auto* results = new QGroupBox(tr("Probabilities"));
    m_bars = new QGridLayout;
    m_bars->setColumnStretch(1, 1);
    m_bars->setVerticalSpacing(3);
    m_oodBanner = new QLabel;
    m_oodBanner->setObjectName(QStringLiteral("oodBanner"));
    m_oodBanner->setWordWrap(true);
    m_oodBanner->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_oodBanner->setStyleSheet(QStringLiteral("QLabel#oodBanner { background: #f0ad4e; color: #1a1a1a; "
                                              "border: 1px solid #c77c0e; border-radius: 3px; padding: 5px; "
                                              "font-weight: bold; }"));
    m_oodBanner->hide();
    m_grade = new QLabel;
    m_grade->setWordWrap(true);
    m_info = new QLabel;
    m_info->setWordWrap(true); // the trust notes make it long: it must not widen the dock
    m_info->setObjectName(QStringLiteral("classifyInfo"));
    m_info->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_error = new QLabel;
    m_error->setWordWrap(true);
    m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_error->setStyleSheet(QStringLiteral("color: #d9534f;"));
    m_error->hide();
    auto* resultsLayout = new QVBoxLayout(results);
    resultsLayout->addWidget(m_oodBanner);
    resultsLayout->addLayout(m_bars);
    resultsLayout->addWidget(m_grade);
    resultsLayout->addWidget(m_info);
    resultsLayout->addWidget(m_error);

    // Heat map
    auto* heat = new QGroupBox(tr("Heat map"));
    m_camMethod = new QComboBox;
    m_camMethod->addItem(tr("Off"), static_cast<int>(ml::CamMethod::None));
    m_camMethod->addItem(tr("Grad-CAM"), static_cast<int>(ml::CamMethod::GradCam));
    m_camMethod->addItem(tr("Grad-CAM++"), static_cast<int>(ml::CamMethod::GradCamPlusPlus));
    m_camMethod->setCurrentIndex(std::clamp(s.value(QStringLiteral("camMethod"), 1).toInt(), 0, 2));
    m_camClass = new QComboBox;
    m_camClass->addItem(tr("Top-1"), -1);
    m_camClass->setToolTip(tr("The class the map explains"));
    m_camLayer = new QComboBox;
    m_camLayer->addItem(tr("Last block"), QString());
    m_camLayer->setToolTip(tr("The block whose activations the map is taken from (later: coarser, more semantic)"));
    m_overlay = new QCheckBox(tr("Show"));
    m_overlay->setToolTip(tr("Show the heat map over the image"));
    m_overlay->setChecked(s.value(QStringLiteral("overlay"), true).toBool());
    m_colormap = new QComboBox;
    m_colormap->addItem(tr("Turbo"), static_cast<int>(ImageViewer::Colormap::Turbo));
    m_colormap->addItem(tr("Jet"), static_cast<int>(ImageViewer::Colormap::Jet));
    m_colormap->addItem(tr("Inferno"), static_cast<int>(ImageViewer::Colormap::Inferno));
    m_colormap->setCurrentIndex(std::clamp(s.value(QStringLiteral("colormap"), 0).toInt(), 0, 2));
    m_opacity = new QSlider(Qt::Horizontal);
    m_opacity->setObjectName(QStringLiteral("classifyOpacity"));
    m_opacity->setRange(0, 100);
    m_opacity->setToolTip(tr("Opacity of the heat map"));
    m_opacity->setValue(std::clamp(s.value(QStringLiteral("opacity"), 45).toInt(), 0, 100));
    m_opacityLabel = new QLabel;
    m_opacityLabel->setMinimumWidth(QFontMetrics(m_opacityLabel->font()).horizontalAdvance(QStringLiteral("100 %")));
    // Three rows: the map and its class, the layer, how it shows.
    auto* heatGrid = new QGridLayout(heat);
    heatGrid->setColumnStretch(1, 1);
    heatGrid->setColumnStretch(3, 1);
    heatGrid->addWidget(new QLabel(tr("Map")), 0, 0);
    heatGrid->addWidget(m_camMethod, 0, 1);
    heatGrid->addWidget(new QLabel(tr("of")), 0, 2);
    heatGrid->addWidget(m_camClass, 0, 3);
    heatGrid->addWidget(new QLabel(tr("Layer")), 1, 0);
    heatGrid->addWidget(m_camLayer, 1, 1, 1, 3);
    auto* showRow = new QHBoxLayout;
    showRow->addWidget(m_overlay);
    showRow->addWidget(m_colormap);
    showRow->addWidget(m_opacity, 1);
    showRow->addWidget(m_opacityLabel);
    heatGrid->addLayout(showRow, 2, 0, 1, 4);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addLayout(runRow);
    layout->addWidget(m_tta);
    layout->addWidget(results);
    layout->addWidget(heat);
    layout->addStretch(1);

    m_rerunTimer = new QTimer(this);
    m_rerunTimer->setSingleShot(true);
    m_rerunTimer->setInterval(kRerunDelayMs);
    connect(m_rerunTimer, &QTimer::timeout, this, &ClassifyPanel::run);

    const QString device = s.value(QStringLiteral("device"), QStringLiteral("auto")).toString();
    m_openedFiles = s.value(QStringLiteral("openedModels")).toStringList();
    const QString lastModel = s.value(QStringLiteral("model")).toString();
    s.endGroup();
    if (!setDevice(device))
        setDevice(QStringLiteral("auto"));
    updateHalfEnabled();
    m_opacityLabel->setText(QStringLiteral("%1 %").arg(m_opacity->value()));

    connect(m_run, &QPushButton::clicked, this, &ClassifyPanel::run);
    connect(m_model, QOverload<int>::of(&QComboBox::activated), this, &ClassifyPanel::modelActivated);
    connect(m_autoPick, &QCheckBox::toggled, this, [this](bool on) {
        store();
        if (on)
            repick();
    });
    connect(m_device, QOverload<int>::of(&QComboBox::currentIndexChanged), this, [this] {
        updateHalfEnabled();
        store();
        if (!m_updating) {
            describeModel();
            rerunIfArmed();
        }
    });
    connect(m_half, &QCheckBox::toggled, this, [this] {
        store();
        rerunIfArmed();
    });
    connect(m_auto, &QCheckBox::toggled, this, [this] { store(); });
    connect(m_tta, &QCheckBox::toggled, this, [this] {
        store();
        rerunIfArmed();
    });
    for (QComboBox* c : {m_camMethod, m_camClass, m_camLayer})
        connect(c, QOverload<int>::of(&QComboBox::currentIndexChanged), this, [this] {
            store();
            if (!m_updating)
                rerunIfArmed();
        });
    connect(m_overlay, &QCheckBox::toggled, this, [this](bool on) {
        store();
        if (m_viewer)
            m_viewer->setHeatMapVisible(on);
    });
    connect(m_colormap, QOverload<int>::of(&QComboBox::currentIndexChanged), this, [this] {
        store();
        if (m_viewer)
            m_viewer->setHeatMapColormap(colormap());
    });
    connect(m_opacity, &QSlider::valueChanged, this, [this](int v) {
        m_opacityLabel->setText(QStringLiteral("%1 %").arg(v));
        store();
        if (m_viewer)
            m_viewer->setHeatMapOpacity(v / 100.0);
    });
    connect(m_job, &jobs::PredictJob::predicted, this, &ClassifyPanel::resultArrived);
    connect(m_job, &jobs::PredictJob::modelLoaded, this, &ClassifyPanel::applyModelInfo);
    connect(m_job, &jobs::PredictJob::modelFailed, this, &ClassifyPanel::modelFailed);
    connect(m_job, &jobs::PredictJob::busyChanged, this,
            [this](bool busy) { m_run->setText(busy ? tr("Running…") : tr("Run")); });

    m_folders = defaultModelFolders();
    rescan();
    const int last = lastModel.isEmpty() ? -1 : m_model->findData(lastModel);
    if (last >= 0)
        m_model->setCurrentIndex(last);
    m_lastModelIndex = m_model->currentIndex();
    clearResult(tr("Choose a model and press Run (Ctrl+R)."));
    if (!modelPath().isEmpty())
        describeModel();
}

ClassifyPanel::~ClassifyPanel()
{
    settings::flush(); // the next panel reads what this one chose
}

void ClassifyPanel::setViewer(ImageViewer* viewer)
{
    if (viewer == m_viewer)
        return;
    if (m_viewer && m_result && m_result->ok())
        m_kept.insert(m_viewer, Kept{m_viewer->image(), *m_result});
    m_rerunTimer->stop();
    m_viewer = viewer;
    m_result.reset();
    if (!m_viewer)
        return;
    m_viewer->setHeatMapVisible(m_overlay->isChecked());
    m_viewer->setHeatMapOpacity(m_opacity->value() / 100.0);
    m_viewer->setHeatMapColormap(colormap());
    const auto kept = m_kept.constFind(m_viewer);
    if (kept != m_kept.constEnd() && kept->image && kept->image == m_viewer->image()) {
        const jobs::PredictResult result = kept->result;
        m_kept.remove(m_viewer);
        applyResult(result);
    } else {
        m_kept.remove(m_viewer);
        clearResult(m_viewer->hasImage() ? tr("Press Run (Ctrl+R) to classify this image.") : QString(), false);
    }
}

void ClassifyPanel::resultArrived(const jobs::PredictResult& result)
{
    if (m_runViewer == m_viewer) {
        applyResult(result);
        return;
    }
    // Asked for by the viewer that was followed before: it keeps the result and its map,
    // unless it shows another image by now.
    if (m_runViewer && result.ok() && m_runViewer->image() == m_runImage) {
        m_kept.insert(m_runViewer, Kept{m_runImage, result});
        showHeatMap(m_runViewer, result);
    }
}

// ---------------------------------------------------------------------------------------
// Models

QStringList ClassifyPanel::defaultModelFolders()
{
    QStringList candidates{
        QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("../share/lightbox/models")),
        QStringLiteral(LIGHTBOX_SOURCE_MODELS_DIR)};
    const QString env = qEnvironmentVariable("LIGHTBOX_MODELS");
    if (!env.isEmpty())
        candidates += env.split(QLatin1Char(':'), Qt::SkipEmptyParts);
    QStringList folders;
    for (const QString& c : candidates) {
        if (c.isEmpty() || !QFileInfo(c).isDir())
            continue;
        const QString canonical = QFileInfo(c).canonicalFilePath();
        if (!folders.contains(canonical))
            folders << canonical;
    }
    return folders;
}

void ClassifyPanel::setModelFolders(const QStringList& folders)
{
    m_folders = folders;
    rescan();
}

void ClassifyPanel::rescan()
{
    const QString current = modelPath();
    if (m_cardScan) {
        // The files may have changed: the scan under way is not waited for (reading the
        // shipped cards takes 300-400 ms), it ends on its own and its result is dropped.
        m_cardScan->disconnect(this);
        if (m_cardScan->isFinished())
            m_cardScan->deleteLater();
        else
            connect(m_cardScan, &QFutureWatcherBase::finished, m_cardScan, &QObject::deleteLater);
        m_cardScan = nullptr;
    }
    m_tasks.clear(); // files may have changed
    m_updating = true;
    m_model->clear();
    QStringList seen;
    auto add = [&](const QString& path) {
        const QString abs = QFileInfo(path).absoluteFilePath();
        if (seen.contains(abs))
            return;
        seen << abs;
        m_model->addItem(QFileInfo(abs).fileName(), abs);
        m_model->setItemData(m_model->count() - 1, abs, Qt::ToolTipRole);
    };
    for (const QString& folder : m_folders) {
        const QFileInfoList files =
            QDir(folder).entryInfoList({QStringLiteral("*.lbx"), QStringLiteral("*.pt")}, QDir::Files, QDir::Name);
        for (const QFileInfo& f : files)
            add(f.absoluteFilePath());
    }
    for (const QString& f : m_openedFiles)
        if (QFileInfo::exists(f))
            add(f);
    if (!current.isEmpty() && !seen.contains(current) && QFileInfo::exists(current))
        add(current);
    if (m_model->count() > 0)
        m_model->insertSeparator(m_model->count());
    m_model->addItem(tr("Open model file…"), kOpenEntry);
    const int at = current.isEmpty() ? -1 : m_model->findData(current);
    m_model->setCurrentIndex(at >= 0 ? at : (seen.isEmpty() ? -1 : 0));
    m_updating = false;
    m_lastModelIndex = m_model->currentIndex();
    // The cards' tasks, for picking a model per image: off the GUI thread (each read parses
    // a whole bundle), then pick again for the image shown.
    m_cardScan = new QFutureWatcher<QHash<QString, QString>>(this);
    connect(m_cardScan, &QFutureWatcher<QHash<QString, QString>>::finished, this, [this] {
        finishCardScan();
        if (m_autoPick->isChecked())
            repick();
    });
    m_cardScan->setFuture(QtConcurrent::run(backgroundPool(), [paths = seen] {
        QHash<QString, QString> tasks;
        for (const QString& p : paths) {
            auto card = ml::readModelCard(p.toStdString());
            tasks.insert(p, card ? QString::fromStdString(card->task) : QString());
        }
        return tasks;
    }));
    if (seen.isEmpty())
        m_card->setText(m_folders.isEmpty()
                            ? tr("No models folder found: open a model file.")
                            : tr("No models in %1: open a model file.").arg(m_folders.join(QStringLiteral(", "))));
}

QStringList ClassifyPanel::modelPaths() const
{
    QStringList out;
    for (int i = 0; i < m_model->count(); ++i) {
        const QString p = m_model->itemData(i).toString();
        if (!p.isEmpty() && p != kOpenEntry)
            out << p;
    }
    return out;
}

QString ClassifyPanel::modelPath() const
{
    const QString p = m_model->currentData().toString();
    return p == kOpenEntry ? QString() : p;
}

bool ClassifyPanel::selectModel(const QString& path)
{
    const QFileInfo f(path);
    if (!f.isFile()) {
        showError(tr("The model file %1 does not exist.").arg(path));
        return false;
    }
    const QString abs = f.absoluteFilePath();
    if (m_model->findData(abs) < 0) {
        m_openedFiles.removeAll(abs);
        m_openedFiles.prepend(abs);
        while (m_openedFiles.size() > 10)
            m_openedFiles.removeLast();
        m_updating = true;
        m_model->insertItem(0, f.fileName(), abs);
        m_model->setItemData(0, abs, Qt::ToolTipRole);
        if (m_model->count() == 2) // only "Open model file..." was there
            m_model->insertSeparator(1);
        m_updating = false;
    }
    m_model->setCurrentIndex(m_model->findData(abs));
    m_lastModelIndex = m_model->currentIndex();
    store();
    describeModel();
    return true;
}

void ClassifyPanel::modelActivated(int index)
{
    if (m_model->itemData(index).toString() == kOpenEntry) {
        QString path;
        if (m_interactive)
            path = QFileDialog::getOpenFileName(this, tr("Open model"), QString(),
                                                tr("Models (*.lbx *.pt);;All files (*)"));
        if (path.isEmpty()) {
            m_model->setCurrentIndex(m_lastModelIndex);
            return;
        }
        selectModel(path);
        rerunIfArmed();
        return;
    }
    if (index == m_lastModelIndex)
        return;
    m_lastModelIndex = index;
    // A model chosen by hand stays: stop picking one per image.
    m_autoPick->setChecked(false);
    m_pickReason->setText(tr("Chosen by hand."));
    store();
    describeModel();
    rerunIfArmed();
}

QString ClassifyPanel::taskOf(const QString& path)
{
    finishCardScan();
    const QString abs = QFileInfo(path).absoluteFilePath();
    auto it = m_tasks.find(abs);
    if (it != m_tasks.end())
        return it.value();
    auto card = ml::readModelCard(abs.toStdString());
    const QString task = card ? QString::fromStdString(card->task) : QString();
    m_tasks.insert(abs, task);
    return task;
}

void ClassifyPanel::setImageContext(const jobs::ImageContext& context, bool rerun)
{
    m_context = context;
    m_haveContext = true;
    if (!m_autoPick->isChecked())
        return;
    if (rerun)
        repick();
    else
        pickModel();
}

void ClassifyPanel::repick()
{
    const QString before = modelPath();
    pickModel();
    if (modelPath() != before)
        rerunIfArmed();
}

void ClassifyPanel::setAutoPick(bool on)
{
    m_autoPick->setChecked(on);
}

bool ClassifyPanel::autoPick() const
{
    return m_autoPick->isChecked();
}

QString ClassifyPanel::pickReason() const
{
    return m_pickReason->text();
}

void ClassifyPanel::finishCardScan()
{
    if (!m_cardScan)
        return;
    m_cardScan->disconnect(this);
    m_cardScan->waitForFinished();
    const QHash<QString, QString> tasks = m_cardScan->result();
    for (auto it = tasks.begin(); it != tasks.end(); ++it)
        m_tasks.insert(it.key(), it.value());
    m_cardScan->deleteLater();
    m_cardScan = nullptr;
}

void ClassifyPanel::pickModelNow()
{
    finishCardScan();
    pickModel();
}

void ClassifyPanel::pickModel()
{
    if (!m_haveContext)
        return;
    if (m_cardScan) {
        if (!m_synchronous)
            return; // picked when the cards are read
        finishCardScan();
    }
    std::vector<jobs::ModelCandidate> candidates;
    const QStringList paths = modelPaths();
    for (const QString& p : paths)
        candidates.push_back({p.toStdString(), taskOf(p).toStdString()});
    const jobs::ModelChoice choice = jobs::chooseModel(candidates, m_context);
    const QString reason = QString::fromStdString(choice.reason);
    if (choice.index < 0) {
        m_pickReason->setText(reason.isEmpty() ? tr("Nothing tells this image's task: keeping the model chosen.")
                                               : tr("No model picked: %1.").arg(reason));
        return;
    }
    const QString path = paths[choice.index];
    m_pickReason->setText(tr("Picked %1 because %2.").arg(QFileInfo(path).fileName(), reason));
    if (path == modelPath())
        return;
    const int at = m_model->findData(path);
    if (at < 0)
        return;
    m_model->setCurrentIndex(at);
    m_lastModelIndex = at;
    store();
    describeModel();
}

void ClassifyPanel::describeModel()
{
    const QString path = modelPath();
    if (path.isEmpty())
        return;
    m_job->discardPending(); // a result still on its way is from the previous model or device
    m_error->hide();
    m_card->setText(tr("Loading…"));
    if (m_synchronous) {
        auto info = m_job->loadModelNow(path, device(), m_half->isChecked() && m_half->isEnabled());
        if (info)
            applyModelInfo(info.value());
        else
            modelFailed(path, QString::fromStdString(info.error()));
        return;
    }
    m_job->loadModel(path, device(), m_half->isChecked() && m_half->isEnabled());
}

void ClassifyPanel::modelFailed(const QString& path, const QString& message)
{
    if (QFileInfo(path).absoluteFilePath() != modelPath())
        return;
    m_describedPath.clear();
    m_card->setText(tr("Cannot load this model."));
    m_card->setToolTip(path);
    showError(tr("Cannot load the model: %1").arg(message));
    emit modelDescribed(false);
}

void ClassifyPanel::applyModelInfo(const jobs::ModelInfo& info)
{
    if (QFileInfo(info.path).absoluteFilePath() != modelPath())
        return;
    m_describedPath = info.path;
    m_card->setText(info.summary());
    m_card->setToolTip(info.details());
    m_model->setToolTip(info.details());
    m_error->hide();

    // Map options follow the model's classes and layers; keep the choice where it still exists.
    m_updating = true;
    const int cls = m_camClass->currentData().toInt();
    const QString layer = m_camLayer->currentData().toString();
    m_camClass->clear();
    m_camClass->addItem(tr("Top-1"), -1);
    const QStringList names = shownClassNames(info);
    for (int i = 0; i < names.size(); ++i)
        m_camClass->addItem(names[i], i);
    m_camClass->setCurrentIndex(std::max(0, m_camClass->findData(cls)));
    m_camLayer->clear();
    m_camLayer->addItem(info.layers.isEmpty() ? tr("(none: no map)") : tr("Last block (%1)").arg(info.layers.back()),
                        QString());
    for (const QString& l : info.layers)
        m_camLayer->addItem(l, l);
    m_camLayer->setCurrentIndex(std::max(0, m_camLayer->findData(layer)));
    m_updating = false;
    if (names != m_classNames)
        rebuildBars(names);
    emit modelDescribed(true);
}

// ---------------------------------------------------------------------------------------
// Settings

QString ClassifyPanel::device() const
{
    return m_device->currentData().toString();
}

bool ClassifyPanel::setDevice(const QString& device)
{
    const int i = m_device->findData(device.trimmed().toLower());
    if (i < 0)
        return false;
    m_device->setCurrentIndex(i);
    return true;
}

void ClassifyPanel::setTestTimeAugmentation(bool on)
{
    m_tta->setChecked(on);
}

bool ClassifyPanel::setReducedPrecision(bool on)
{
    m_half->setChecked(on);
    return !on || m_half->isEnabled();
}

void ClassifyPanel::updateHalfEnabled()
{
    const std::string d = device().toStdString();
    const std::string name = ml::reducedPrecisionName(d);
    m_half->setEnabled(!name.empty());
    m_half->setToolTip(name.empty() ? tr("Not available here: needs a GPU, or a CPU with bfloat16 arithmetic "
                                         "(AVX-512 BF16 or AMX)")
                                    : tr("%1 arithmetic: faster, probabilities differ slightly from the float32 "
                                         "figures on the model card")
                                          .arg(QString::fromStdString(name)));
}

void ClassifyPanel::setCamMethod(ml::CamMethod method)
{
    m_camMethod->setCurrentIndex(std::max(0, m_camMethod->findData(static_cast<int>(method))));
}

ml::CamMethod ClassifyPanel::camMethod() const
{
    return static_cast<ml::CamMethod>(m_camMethod->currentData().toInt());
}

void ClassifyPanel::setCamClass(int classIndex)
{
    m_camClass->setCurrentIndex(std::max(0, m_camClass->findData(classIndex)));
}

void ClassifyPanel::setAutoRerun(bool on)
{
    m_auto->setChecked(on);
}

bool ClassifyPanel::autoRerun() const
{
    return m_auto->isChecked();
}

void ClassifyPanel::setOverlayShown(bool on)
{
    m_overlay->setChecked(on);
}

bool ClassifyPanel::overlayShown() const
{
    return m_overlay->isChecked();
}

void ClassifyPanel::setOpacity(double opacity)
{
    m_opacity->setValue(static_cast<int>(std::lround(std::clamp(opacity, 0.0, 1.0) * 100.0)));
}

double ClassifyPanel::opacity() const
{
    return m_opacity->value() / 100.0;
}

ImageViewer::Colormap ClassifyPanel::colormap() const
{
    return static_cast<ImageViewer::Colormap>(m_colormap->currentData().toInt());
}

void ClassifyPanel::store() const
{
    if (m_updating)
        return;
    const QString g = QStringLiteral("classify/");
    if (!modelPath().isEmpty())
        settings::set(g + QStringLiteral("model"), modelPath());
    settings::set(g + QStringLiteral("openedModels"), m_openedFiles);
    settings::set(g + QStringLiteral("device"), device());
    settings::set(g + QStringLiteral("half"), m_half->isChecked());
    settings::set(g + QStringLiteral("autoRerun"), m_auto->isChecked());
    settings::set(g + QStringLiteral("tta"), m_tta->isChecked());
    settings::set(g + QStringLiteral("autoPick"), m_autoPick->isChecked());
    settings::set(g + QStringLiteral("camMethod"), m_camMethod->currentIndex());
    settings::set(g + QStringLiteral("overlay"), m_overlay->isChecked());
    settings::set(g + QStringLiteral("colormap"), m_colormap->currentIndex());
    settings::set(g + QStringLiteral("opacity"), m_opacity->value());
}

// ---------------------------------------------------------------------------------------
// Running

jobs::PredictRequest ClassifyPanel::request() const
{
    jobs::PredictRequest r;
    r.modelPath = modelPath();
    r.device = device();
    r.halfPrecision = m_half->isChecked() && m_half->isEnabled();
    r.tta = m_tta->isChecked();
    if (m_viewer) {
        r.image = m_viewer->image();
        r.roi = m_viewer->roi();
    }
    r.options.cam = camMethod();
    r.options.targetClass = m_camClass->currentData().toInt();
    r.options.layer = m_camLayer->currentData().toString().toStdString();
    return r;
}

bool ClassifyPanel::isRunning() const
{
    return m_job->isBusy();
}

void ClassifyPanel::run()
{
    m_rerunTimer->stop();
    if (!m_viewer || !m_viewer->hasImage()) {
        showError(tr("Open an image first."));
        return;
    }
    if (modelPath().isEmpty()) {
        showError(tr("Choose a model first (or open a model file)."));
        return;
    }
    m_armed = true;
    const jobs::PredictRequest r = request();
    m_runViewer = m_viewer;
    m_runImage = m_viewer->image();
    if (m_synchronous) {
        applyResult(m_job->predictNow(r));
        return;
    }
    m_info->setText(r.roi ? tr("Classifying the %1 × %2 crop…").arg(r.roi->width()).arg(r.roi->height())
                          : tr("Classifying the whole image…"));
    m_job->predict(r);
}

void ClassifyPanel::rerunIfArmed()
{
    if (m_armed && m_viewer && m_viewer->hasImage())
        m_rerunTimer->start();
}

void ClassifyPanel::imageChanged()
{
    m_job->discardPendingPredictions(); // a model picked for this image may still be loading
    m_rerunTimer->stop();
    clearResult(tr("New image: press Run (Ctrl+R)."));
    if (m_auto->isChecked())
        rerunIfArmed();
}

void ClassifyPanel::roiChanged()
{
    if (m_auto->isChecked())
        rerunIfArmed();
}

void ClassifyPanel::applyResult(const jobs::PredictResult& result)
{
    m_result = result;
    if (!result.ok()) {
        clearResult(QString());
        showError(result.error.left(1).toUpper() + result.error.mid(1));
        emit resultApplied(result);
        return;
    }
    m_error->hide();
    if (result.model.path == modelPath() && m_describedPath != result.model.path)
        applyModelInfo(result.model);
    const QStringList names = shownClassNames(result.model);
    if (names != m_classNames)
        rebuildBars(names);
    m_highlighted = result.topClass;
    // An image unlike the training images: say so first, and grey the probabilities out.
    const bool distrusted = result.ood.available && result.ood.flagged;
    if (distrusted) {
        m_oodBanner->setText(tr("This image is unlike the images this model was trained on: its %1 score is "
                                "above %2 % of the model's validation images. Do not trust these probabilities.")
                                 .arg(result.ood.method == "energy" ? tr("energy") : tr("Mahalanobis"))
                                 .arg(result.ood.percentile, 0, 'f', 1));
        m_oodBanner->show();
    } else {
        m_oodBanner->clear();
        m_oodBanner->hide();
    }
    for (std::size_t i = 0; i < m_barValues.size() && i < result.probabilities.size(); ++i) {
        const double p = result.probabilities[i];
        QProgressBar* bar = m_barValues[i];
        bar->setValue(static_cast<int>(std::lround(p * kBarSteps)));
        bar->setFormat(QStringLiteral("%1 %").arg(100.0 * p, 0, 'f', 1));
        const bool top = static_cast<int>(i) == result.topClass;
        QPalette pal = bar->palette();
        pal.setColor(QPalette::Highlight, distrusted ? kDistrustedColour : top ? kTopColour : kOtherColour);
        bar->setPalette(pal);
        bar->setEnabled(!distrusted);
        m_barNames[i]->setEnabled(!distrusted);
        QFont f = m_barNames[i]->font();
        f.setBold(top && !distrusted);
        m_barNames[i]->setFont(f);
    }
    m_grade->setEnabled(!distrusted);
    if (result.model.card.ordinal && result.expectedGrade >= 0 && !result.model.card.cutPoints.empty())
        m_grade->setText(tr("Grade %1 (expected grade %2 under the model's cut points; top: %3, %4 %)")
                             .arg(names.value(result.grade))
                             .arg(result.expectedGrade, 0, 'f', 2)
                             .arg(names.value(result.topClass))
                             .arg(100.0 * result.probabilities[static_cast<std::size_t>(result.topClass)], 0, 'f', 1));
    else if (result.model.card.ordinal && result.expectedGrade >= 0)
        m_grade->setText(tr("Expected grade %1 (top: %2, %3 %)")
                             .arg(result.expectedGrade, 0, 'f', 2)
                             .arg(names.value(result.topClass))
                             .arg(100.0 * result.probabilities[static_cast<std::size_t>(result.topClass)], 0, 'f', 1));
    else
        m_grade->setText(tr("Top: %1 (%2 %)")
                             .arg(names.value(result.topClass))
                             .arg(100.0 * result.probabilities[static_cast<std::size_t>(result.topClass)], 0, 'f', 1));
    const QString where = result.camRect.isValid() && m_viewer && m_viewer->roi() == result.camRect
                              ? tr("crop %1 × %2").arg(result.camRect.width()).arg(result.camRect.height())
                              : QString();
    QString trust;
    if (result.ood.available && !distrusted)
        trust = tr(" · like the training images (%1th percentile)").arg(result.ood.percentile, 0, 'f', 0);
    if (result.model.card.head == "corn")
        trust += tr(" · ordinal head (CORN)");
    if (result.temperature != 1.0)
        trust += tr(" · calibrated (T = %1)").arg(result.temperature, 0, 'f', 2);
    if (result.members > 1)
        trust += tr(" · %1 of %2 networks agree (spread ±%3 %)")
                     .arg(result.membersAgreeing)
                     .arg(result.members)
                     .arg(100.0 * result.memberSpread, 0, 'f', 0);
    if (result.views > 1)
        trust += tr(" · TTA %1 views (+%2 ms)")
                     .arg(result.views)
                     .arg(std::max(0.0, result.latencyMs - result.singleViewMs), 0, 'f', 0);
    m_info->setText(
        tr("%1 · %2 ms%3%4%5")
            .arg(result.device)
            .arg(result.latencyMs, 0, 'f', 1)
            .arg(result.model.loadMs > 0 ? tr(" (+ %1 ms load)").arg(result.model.loadMs, 0, 'f', 0) : QString())
            .arg(where.isEmpty() ? QString() : QStringLiteral(" · ") + where)
            .arg(trust));
    if (m_viewer)
        showHeatMap(m_viewer, result);
    emit resultApplied(result);
}

void ClassifyPanel::showHeatMap(ImageViewer* viewer, const jobs::PredictResult& result) const
{
    if (!result.hasCam()) {
        viewer->clearHeatMap();
        return;
    }
    const QStringList names = shownClassNames(result.model);
    const cv::Mat values(result.cam.height, result.cam.width, CV_32F, const_cast<float*>(result.cam.values.data()));
    const QString method = result.camMethod == ml::CamMethod::GradCamPlusPlus ? tr("Grad-CAM++") : tr("Grad-CAM");
    QString title = tr("%1, class %2").arg(method, names.value(result.camClass));
    if (result.ood.available && result.ood.flagged) // the map explains a decision the model is not fit to make here
        title = tr("Out of distribution, not reliable: %1").arg(title);
    viewer->setHeatMap(values, result.camRect, title); // copies the values
}

void ClassifyPanel::rebuildBars(const QStringList& names)
{
    for (QLabel* l : m_barNames)
        delete l;
    for (QProgressBar* b : m_barValues)
        delete b;
    m_barNames.clear();
    m_barValues.clear();
    m_classNames = names;
    for (int i = 0; i < names.size(); ++i) {
        auto* name = new QLabel(names[i]);
        auto* bar = new QProgressBar;
        bar->setRange(0, kBarSteps);
        bar->setValue(0);
        bar->setTextVisible(true);
        bar->setFormat(QStringLiteral("–"));
        bar->setAlignment(Qt::AlignCenter);
        bar->setMaximumHeight(QFontMetrics(bar->font()).height() + 6);
        m_bars->addWidget(name, i, 0);
        m_bars->addWidget(bar, i, 1);
        m_barNames.push_back(name);
        m_barValues.push_back(bar);
    }
    m_highlighted = -1;
}

void ClassifyPanel::clearResult(const QString& status, bool clearMap)
{
    for (std::size_t i = 0; i < m_barValues.size(); ++i) {
        m_barValues[i]->setValue(0);
        m_barValues[i]->setFormat(QStringLiteral("–"));
        QFont f = m_barNames[i]->font();
        f.setBold(false);
        m_barNames[i]->setFont(f);
    }
    m_highlighted = -1;
    m_grade->clear();
    m_oodBanner->clear();
    m_oodBanner->hide();
    m_info->setText(status);
    if (m_viewer && clearMap)
        m_viewer->clearHeatMap();
}

void ClassifyPanel::showError(const QString& text)
{
    m_error->setText(text);
    m_error->setVisible(!text.isEmpty());
}

QString ClassifyPanel::oodBannerText() const
{
    return m_oodBanner->isHidden() ? QString() : m_oodBanner->text();
}

QString ClassifyPanel::errorText() const
{
    return m_error->isHidden() ? QString() : m_error->text();
}

QString ClassifyPanel::infoText() const
{
    return m_info->text();
}

QString ClassifyPanel::expectedGradeText() const
{
    return m_grade->text();
}

QString ClassifyPanel::modelSummary() const
{
    return m_card->text();
}

std::vector<double> ClassifyPanel::barValues() const
{
    std::vector<double> out;
    for (const QProgressBar* b : m_barValues)
        out.push_back(100.0 * b->value() / kBarSteps);
    return out;
}

QStringList ClassifyPanel::barLabels() const
{
    QStringList out;
    for (const QLabel* l : m_barNames)
        out << l->text();
    return out;
}

} // namespace lightbox::ui
