// The classify panel: its widgets, settings and runs. The model list and the automatic pick
// are in ClassifyPanelModels.cpp, the shown result (bars, banners, heat map) in
// ClassifyPanelResults.cpp.
#include "ClassifyPanel.h"
#include "ClassifyPanelPrivate.h"

#include "Language.h"
#include "SettingsWriter.h"

#include <ml/Runtime.h>

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSettings>
#include <QSlider>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>

namespace lightbox::ui {

using namespace classifypanel;

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

} // namespace lightbox::ui
