#include "MainWindow.h"

#include "Annotations.h"
#include "BackgroundPool.h"
#include "ClassifyPanel.h"
#include "CompareView.h"
#include "CropPanel.h"
#include "ImageConversion.h"
#include "ImageViewer.h"
#include "Language.h"
#include "MeasurementsPanel.h"
#include "SettingsWriter.h"
#include "TagBrowser.h"
#include "TrainingTab.h"
#include "ViewExport.h"

#include <data/CropManifest.h>
#include <data/ImageFolder.h>
#include <imaging/ImageLoader.h>
#include <imaging/Render.h>

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCheckBox>
#include <QCloseEvent>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QListWidget>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QScrollArea>
#include <QSettings>
#include <QStatusBar>
#include <QTabWidget>
#include <QToolBar>
#include <QUndoStack>
#include <QtConcurrent/QtConcurrent>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace lightbox::ui {
namespace {

constexpr int kMaxRecent = 10;
constexpr int kThumbSize = 56;

imaging::LoadOptions viewerLoadOptions()
{
    imaging::LoadOptions o;
    o.tags = true;
    return o;
}

QString number(double v)
{
    if (std::abs(v - std::round(v)) < 1e-9)
        return QString::number(static_cast<long long>(std::llround(v)));
    return QString::number(v, 'g', 6); // small float values (0.0015 mm²/s) keep their digits
}

} // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent)
{
    setWindowTitle(tr("Lightbox"));
    resize(1280, 900);
    setAcceptDrops(true);

    m_viewer = new ImageViewer;
    m_tabs = new QTabWidget;
    m_tabs->setDocumentMode(true);
    m_tabs->setTabBarAutoHide(true); // the bar shows once a second tab joins the viewer
    m_compare = new CompareView(m_viewer);
    m_tabs->addTab(m_compare, tr("Viewer"));
    m_training = new TrainingTab;
    m_tabs->addTab(m_training, tr("Training"));
    setCentralWidget(m_tabs);
    buildDocks();
    buildActions();

    m_cursorLabel = new QLabel;
    m_cursorLabel->setMinimumWidth(260);
    m_windowLabel = new QLabel;
    m_positionLabel = new QLabel;
    statusBar()->addPermanentWidget(m_cursorLabel);
    statusBar()->addPermanentWidget(m_windowLabel);
    statusBar()->addPermanentWidget(m_positionLabel);
    showStatus(tr("Ready"));

    for (ImageViewer* v : {m_compare->primary(), m_compare->secondary()}) {
        connect(v, &ImageViewer::cursorMoved, this, [this, v](QPoint p, bool inside) { showCursorInfo(v, p, inside); });
        connect(v, &ImageViewer::cursorLeft, m_cursorLabel, &QLabel::clear);
        connect(v, &ImageViewer::windowChanged, this, &MainWindow::updateWindowStatus);
        connect(v, &ImageViewer::viewChanged, this, &MainWindow::updateWindowStatus);
        connect(v, &ImageViewer::roiChanged, this, [this, v] {
            if (v == activeViewer())
                m_classifyPanel->roiChanged();
        });
        v->setSquareCrop(m_cropPanel->square());
    }
    connect(m_viewer, &ImageViewer::roiChanged, this, &MainWindow::updateRoiInfo);
    connect(m_compare, &CompareView::activeChanged, this, &MainWindow::activeViewerChanged);
    connect(m_compare, &CompareView::secondaryImageChanged, this, [this] {
        if (activeViewer() == m_compare->secondary())
            activeImageChanged();
    });
    connect(m_compare, &CompareView::message, this, [this](const QString& text) { showStatus(text, 8000); });
    m_viewer->setFocus();
}

MainWindow::~MainWindow()
{
    stopThumbnails();
    settings::flush(); // recent files and the panels' choices, for the next window
}

// ---------------------------------------------------------------------------------------
// Construction

void MainWindow::buildDocks()
{
    m_fileList = new QListWidget;
    m_fileList->setIconSize(QSize(kThumbSize, kThumbSize));
    m_fileList->setUniformItemSizes(true);
    m_folderDock = new QDockWidget(tr("Folder"), this);
    m_folderDock->setObjectName(QStringLiteral("folderDock"));
    m_folderDock->setWidget(m_fileList);
    addDockWidget(Qt::LeftDockWidgetArea, m_folderDock);
    connect(m_fileList, &QListWidget::currentRowChanged, this, [this](int row) {
        if (!m_syncingList && row >= 0 && row != m_index)
            openIndex(row);
    });
    m_fileList->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_fileList, &QListWidget::customContextMenuRequested, this, [this](QPoint at) {
        const int row = m_fileList->indexAt(at).row();
        if (row < 0 || row >= m_files.size())
            return;
        QMenu menu;
        menu.addAction(tr("Compare with This Image"), this, [this, row] { m_compare->openSecondary(m_files[row]); });
        menu.exec(m_fileList->viewport()->mapToGlobal(at));
    });

    m_cropPanel = new CropPanel;
    m_cropDock = new QDockWidget(tr("Crop and label"), this);
    m_cropDock->setObjectName(QStringLiteral("cropDock"));
    m_cropDock->setWidget(m_cropPanel);
    addDockWidget(Qt::RightDockWidgetArea, m_cropDock);
    connect(m_cropPanel, &CropPanel::labelChosen, this, [this](const QString& l) { saveCrop(l); });
    connect(m_cropPanel, &CropPanel::undoRequested, this, [this] { undoLastSave(); });
    connect(m_cropPanel, &CropPanel::taskChanged, this, [this] {
        if (activeViewer()->hasImage())
            m_classifyPanel->setImageContext(imageContext(), true);
    });

    m_classifyPanel = new ClassifyPanel;
    m_classifyPanel->setViewer(m_viewer);
    m_classifyDock = new QDockWidget(tr("Classify"), this);
    m_classifyDock->setObjectName(QStringLiteral("classifyDock"));
    auto* classifyScroll = new QScrollArea; // the panel is tall: let the dock be shorter
    classifyScroll->setWidget(m_classifyPanel);
    classifyScroll->setWidgetResizable(true);
    classifyScroll->setFrameShape(QFrame::NoFrame);
    classifyScroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_classifyDock->setWidget(classifyScroll);
    addDockWidget(Qt::RightDockWidgetArea, m_classifyDock);

    m_measurements = new MeasurementsPanel(m_viewer->annotations());
    m_measureDock = new QDockWidget(tr("Measurements"), this);
    m_measureDock->setObjectName(QStringLiteral("measureDock"));
    m_measureDock->setWidget(m_measurements);
    addDockWidget(Qt::LeftDockWidgetArea, m_measureDock);
    for (ImageViewer* v : {m_compare->primary(), m_compare->secondary()}) {
        AnnotationLayer* layer = v->annotations();
        layer->setTextProvider([this] { return MeasurementsPanel::askText(this, QString()); });
        connect(layer, &AnnotationLayer::message, this, [this](const QString& text) { showStatus(text, 10000); });
        connect(layer->undoStack(), &QUndoStack::indexChanged, this, [this, layer](int index) {
            if (index == layer->undoStack()->count() && index > 0)
                m_measureSerial = ++m_actionSerial; // a new step (or one redone): newest
            updateUndoActions();
        });
    }

    m_tags = new TagBrowser;
    m_tagDock = new QDockWidget(tr("DICOM tags"), this);
    m_tagDock->setObjectName(QStringLiteral("tagDock"));
    m_tagDock->setWidget(m_tags);
    tabifyDockWidget(m_classifyDock, m_tagDock);
    m_classifyDock->raise();
}

void MainWindow::buildActions()
{
    QToolBar* bar = addToolBar(tr("Tools"));
    bar->setObjectName(QStringLiteral("toolBar"));
    bar->setToolButtonStyle(Qt::ToolButtonTextOnly);
    bar->setMovable(false);

    // File
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* open = file->addAction(tr("&Open..."), this, &MainWindow::openDialog);
    open->setShortcut(QKeySequence::Open);
    QAction* openDir = file->addAction(tr("Open &Folder..."), this, &MainWindow::openFolderDialog);
    openDir->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
    m_recentMenu = file->addMenu(tr("Open &Recent"));
    connect(m_recentMenu, &QMenu::aboutToShow, this, &MainWindow::rebuildRecentMenu);
    file->addSeparator();
    QAction* next = file->addAction(tr("&Next Image"), this, [this] { showNext(); });
    next->setShortcut(QKeySequence(Qt::Key_PageDown));
    QAction* prev = file->addAction(tr("&Previous Image"), this, [this] { showPrevious(); });
    prev->setShortcut(QKeySequence(Qt::Key_PageUp));
    file->addAction(tr("First Image"), QKeySequence(Qt::Key_Home), this, [this] { openIndex(0); });
    file->addAction(tr("Last Image"), QKeySequence(Qt::Key_End), this,
                    [this] { openIndex(static_cast<int>(m_files.size()) - 1); });
    file->addSeparator();
    QMenu* exportView = file->addMenu(tr("&Export View"));
    for (const auto& [name, overlays, native] : {std::tuple{tr("As on Screen, with Overlays..."), true, false},
                                                 std::tuple{tr("As on Screen, Image Only..."), false, false},
                                                 std::tuple{tr("Native Resolution, with Overlays..."), true, true},
                                                 std::tuple{tr("Native Resolution, Image Only..."), false, true}}) {
        exportView->addAction(name, this, [this, overlays = overlays, native = native] {
            if (!activeViewer()->hasImage())
                return;
            const QString path = QFileDialog::getSaveFileName(this, tr("Export View"), QString(), tr("PNG (*.png)"));
            if (!path.isEmpty())
                exportViewTo(path, overlays, native);
        });
    }
    file->addAction(tr("Export &Report (PDF)..."), this, [this] {
        if (!activeViewer()->hasImage())
            return;
        QMessageBox ask(QMessageBox::Question, tr("Export Report"),
                        tr("The report is de-identified unless you include the patient's name and ID."),
                        QMessageBox::Ok | QMessageBox::Cancel, this);
        auto* identify = new QCheckBox(tr("Include the patient's name and ID"));
        ask.setCheckBox(identify);
        if (ask.exec() != QMessageBox::Ok)
            return;
        const QString path = QFileDialog::getSaveFileName(this, tr("Export Report"), QString(), tr("PDF (*.pdf)"));
        if (!path.isEmpty())
            exportReportTo(path, identify->isChecked());
    });
    file->addAction(tr("Export &DICOM Secondary Capture..."), this, [this] {
        if (!activeViewer()->hasImage())
            return;
        const QString path =
            QFileDialog::getSaveFileName(this, tr("Export DICOM Secondary Capture"), QString(), tr("DICOM (*.dcm)"));
        if (!path.isEmpty())
            exportDicomTo(path);
    });
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), qApp, &QApplication::quit);
    quit->setShortcut(QKeySequence::Quit);

    // Edit
    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    // One Undo for both: the newest of the measurements' steps and the last crop save.
    m_undoAction = edit->addAction(tr("&Undo"), this, [this] {
        QUndoStack* stack = activeViewer()->annotations()->undoStack();
        if (stack->canUndo() && (m_measureSerial > m_cropSerial || !m_cropUndoable))
            stack->undo();
        else if (m_cropUndoable)
            undoLastSave();
    });
    m_undoAction->setShortcut(QKeySequence::Undo);
    m_undoAction->setEnabled(false);
    m_redoAction = edit->addAction(tr("&Redo"), this, [this] { activeViewer()->annotations()->undoStack()->redo(); });
    m_redoAction->setShortcuts({QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z), QKeySequence(Qt::CTRL | Qt::Key_Y)});
    m_redoAction->setEnabled(false);

    // Tools
    QMenu* tools = menuBar()->addMenu(tr("&Tools"));
    m_toolGroup = new QActionGroup(this);
    auto addTool = [&](const QString& name, const QKeySequence& key, ImageViewer::Tool tool, const QString& tip) {
        QAction* a = tools->addAction(name);
        a->setShortcut(key);
        a->setCheckable(true);
        a->setToolTip(tip);
        a->setData(static_cast<int>(tool));
        m_toolGroup->addAction(a);
        connect(a, &QAction::triggered, this, [this, tool] {
            m_compare->primary()->setTool(tool);
            m_compare->secondary()->setTool(tool);
        });
        return a;
    };
    QAction* pan = addTool(tr("&Pan"), QKeySequence(Qt::Key_P), ImageViewer::Tool::Pan,
                           tr("Left drag pans (middle drag always does)"));
    QAction* wl = addTool(tr("&Window/Level"), QKeySequence(Qt::Key_W), ImageViewer::Tool::Window,
                          tr("Left drag sets window/level (right drag always does)"));
    QAction* crop = addTool(tr("&Crop"), QKeySequence(Qt::Key_C), ImageViewer::Tool::Crop,
                            tr("Left drag draws the crop rectangle; drag its handles to resize, arrows nudge"));
    crop->setChecked(true);
    m_compare->primary()->setTool(ImageViewer::Tool::Crop);
    m_compare->secondary()->setTool(ImageViewer::Tool::Crop);
    QMenu* measure = tools->addMenu(tr("&Measure"));
    const auto addMeasure = [&](const QString& name, Qt::Key key, ImageViewer::Tool tool, const QString& tip) {
        QAction* a = addTool(name, QKeySequence(key), tool, tip);
        tools->removeAction(a);
        measure->addAction(a);
        return a;
    };
    addMeasure(tr("&Ruler"), Qt::Key_D, ImageViewer::Tool::Ruler,
               tr("Drag to measure a length: mm from Pixel Spacing, at the detector from Imager Pixel Spacing, else "
                  "pixels"));
    addMeasure(tr("&Angle"), Qt::Key_G, ImageViewer::Tool::Angle,
               tr("Drag the first arm to the vertex, then click the end of the second arm"));
    addMeasure(tr("&Cobb Angle"), Qt::Key_B, ImageViewer::Tool::Cobb, tr("Drag one line, then the other"));
    addMeasure(tr("Rectangle &Region"), Qt::Key_Q, ImageViewer::Tool::Rectangle,
               tr("Drag a rectangle: mean, SD, minimum and maximum of the values, and its area"));
    addMeasure(tr("&Ellipse Region"), Qt::Key_E, ImageViewer::Tool::Ellipse,
               tr("Drag an ellipse: mean, SD, minimum and maximum of the values, and its area"));
    addMeasure(tr("Arro&w with Text"), Qt::Key_T, ImageViewer::Tool::Arrow,
               tr("Drag from the finding to where the text goes"));
    addMeasure(tr("&Select and Edit"), Qt::Key_L, ImageViewer::Tool::Select,
               tr("Click a measurement to select it, drag it or its points; Delete removes it"));
    tools->addSeparator();
    m_squareAction = tools->addAction(tr("&Square Rectangle"));
    m_squareAction->setShortcut(QKeySequence(Qt::Key_S));
    m_squareAction->setCheckable(true);
    m_squareAction->setChecked(m_cropPanel->square());
    connect(m_squareAction, &QAction::toggled, m_cropPanel, &CropPanel::setSquare);
    connect(m_cropPanel, &CropPanel::squareToggled, this, [this](bool on) {
        m_squareAction->setChecked(on);
        m_compare->primary()->setSquareCrop(on);
        m_compare->secondary()->setSquareCrop(on);
    });
    tools->addAction(tr("Clear Rectangle"), this, [this] { activeViewer()->clearRoi(); });
    m_labelMenu = tools->addMenu(tr("Save Crop &As"));
    rebuildLabelActions(m_cropPanel->labels());
    connect(m_cropPanel, &CropPanel::labelsChanged, this, &MainWindow::rebuildLabelActions);
    tools->addSeparator();
    m_classifyAction = tools->addAction(tr("C&lassify"), this, [this] {
        m_classifyDock->show();
        m_classifyDock->raise();
        m_classifyPanel->run();
    });
    m_classifyAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    m_classifyAction->setToolTip(tr("Run the classify panel's model on the crop, or on the whole image (Ctrl+R)"));

    // View
    QMenu* view = menuBar()->addMenu(tr("&View"));
    // The view actions work on the active side of a comparison (the only one otherwise).
    QAction* fit =
        view->addAction(tr("&Fit to Window"), QKeySequence(Qt::Key_F), this, [this] { activeViewer()->fitToWindow(); });
    QAction* one = view->addAction(tr("&Actual Pixels (1:1)"), QKeySequence(Qt::CTRL | Qt::Key_0), this,
                                   [this] { activeViewer()->actualSize(); });
    view->addAction(tr("Zoom &In"), QKeySequence::ZoomIn, this,
                    [this] { activeViewer()->setZoom(activeViewer()->zoom() * 1.25); });
    view->addAction(tr("Zoom &Out"), QKeySequence::ZoomOut, this,
                    [this] { activeViewer()->setZoom(activeViewer()->zoom() / 1.25); });
    view->addSeparator();
    QAction* rotR =
        view->addAction(tr("Rotate &Right"), QKeySequence(Qt::Key_R), this, [this] { activeViewer()->rotate(1); });
    view->addAction(tr("Rotate &Left"), QKeySequence(Qt::SHIFT | Qt::Key_R), this,
                    [this] { activeViewer()->rotate(-1); });
    QAction* flipH = view->addAction(tr("Flip &Horizontal"), QKeySequence(Qt::Key_H), this,
                                     [this] { m_compare->mirror(activeViewer()); });
    view->addAction(tr("Flip &Vertical"), QKeySequence(Qt::Key_V), this, [this] { activeViewer()->flipVertical(); });
    view->addSeparator();
    m_invertAction = view->addAction(tr("&Invert"));
    m_invertAction->setShortcut(QKeySequence(Qt::Key_I));
    m_invertAction->setCheckable(true);
    connect(m_invertAction, &QAction::toggled, this, [this](bool on) { activeViewer()->setInverted(on); });
    m_presetMenu = view->addMenu(tr("Window &Presets"));
    QAction* autoWin = view->addAction(tr("&Automatic Window"), QKeySequence(Qt::Key_A), this,
                                       [this] { activeViewer()->setAutoWindow(); });
    QAction* reset = view->addAction(tr("R&eset View"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R), this, [this] {
        activeViewer()->resetView();
        m_invertAction->setChecked(false);
    });
    view->addSeparator();
    m_compareAction = view->addAction(tr("&Compare Side by Side"));
    m_compareAction->setShortcut(QKeySequence(Qt::Key_X));
    m_compareAction->setCheckable(true);
    m_compareAction->setToolTip(tr("Show a second image beside this one (the folder's next image, or one you choose); "
                                   "zoom, pan and window/level are linked"));
    connect(m_compareAction, &QAction::toggled, m_compare, &CompareView::setComparing);
    connect(m_compare, &CompareView::comparingChanged, m_compareAction, &QAction::setChecked);
    view->addAction(tr("Compare &With..."), this, [this] {
        const QString dir = m_currentPath.isEmpty() ? QString() : QFileInfo(m_currentPath).absolutePath();
        const QString path = QFileDialog::getOpenFileName(
            this, tr("Compare with"), dir,
            tr("Images (*.dcm *.DCM *.dicom *.png *.jpg *.jpeg *.tif *.tiff *.bmp);;All files (*)"));
        if (!path.isEmpty())
            m_compare->openSecondary(path);
    });
    QAction* link = view->addAction(tr("&Link Compared Views"));
    link->setCheckable(true);
    link->setChecked(m_compare->linked());
    link->setToolTip(tr("Zoom, pan and window/level of the two sides move together"));
    connect(link, &QAction::toggled, m_compare, &CompareView::setLinked);
    connect(m_compare, &CompareView::linkedChanged, link, &QAction::setChecked);
    view->addSeparator();
    m_overlayAction = view->addAction(tr("Corner &Text"));
    m_overlayAction->setShortcut(QKeySequence(Qt::Key_O));
    m_overlayAction->setCheckable(true);
    m_overlayAction->setChecked(true);
    m_overlayAction->setToolTip(tr("Show or hide patient and study text (hide it for anonymous screenshots)"));
    connect(m_overlayAction, &QAction::toggled, this, [this](bool on) {
        m_compare->primary()->setOverlayVisible(on);
        m_compare->secondary()->setOverlayVisible(on);
    });
    QAction* heat = view->addAction(tr("&Heat Map"), QKeySequence(Qt::Key_M), this,
                                    [this] { m_classifyPanel->setOverlayShown(!m_classifyPanel->overlayShown()); });
    heat->setToolTip(tr("Show or hide the classifier's heat map (the Show box of the Classify dock)"));
    view->addSeparator();
    view->addAction(m_folderDock->toggleViewAction());
    view->addAction(m_cropDock->toggleViewAction());
    view->addAction(m_classifyDock->toggleViewAction());
    view->addAction(m_tagDock->toggleViewAction());
    view->addSeparator();
    buildLanguageMenu(view);
    rebuildPresets();

    bar->addAction(open);
    bar->addAction(openDir);
    bar->addAction(prev);
    bar->addAction(next);
    bar->addSeparator();
    bar->addAction(pan);
    bar->addAction(wl);
    bar->addAction(crop);
    bar->addAction(m_squareAction);
    bar->addSeparator();
    bar->addAction(fit);
    bar->addAction(one);
    bar->addAction(rotR);
    bar->addAction(flipH);
    bar->addAction(m_invertAction);
    bar->addAction(autoWin);
    bar->addAction(reset);
    bar->addSeparator();
    bar->addAction(m_overlayAction);
    bar->addAction(m_compareAction);
    bar->addSeparator();
    bar->addAction(m_classifyAction);
    prev->setText(tr("Previous"));
    next->setText(tr("Next"));
    one->setIconText(tr("1:1"));
    rotR->setIconText(tr("Rotate"));
    flipH->setIconText(tr("Flip"));
    autoWin->setIconText(tr("Auto W/L"));
    m_overlayAction->setIconText(tr("Text"));
    m_classifyAction->setIconText(tr("Classify"));
    m_compareAction->setIconText(tr("Compare"));
    m_squareAction->setIconText(tr("Square"));
    // Tool bar texts without the menus' accelerators (Korean menus write them as "(&P)").
    pan->setIconText(tr("Pan"));
    wl->setIconText(tr("Window/Level"));
    crop->setIconText(tr("Crop"));
    fit->setIconText(tr("Fit to Window"));
    m_invertAction->setIconText(tr("Invert"));
    reset->setIconText(tr("Reset View"));
    open->setIconText(tr("Open"));
    openDir->setIconText(tr("Folder"));
}

void MainWindow::buildLanguageMenu(QMenu* view)
{
    m_languageMenu = view->addMenu(tr("&Language"));
    auto* group = new QActionGroup(this);
    const QString chosen = Language::choice();
    const QString system = QStringLiteral("system");
    const QList<std::pair<QString, QString>> entries = {
        {system, tr("System (%1)").arg(Language::nativeName(Language::resolve(system)))},
        {QStringLiteral("ko"), Language::nativeName(QStringLiteral("ko"))},
        {QStringLiteral("en"), Language::nativeName(QStringLiteral("en"))}};
    for (const auto& [code, text] : entries) {
        QAction* a = m_languageMenu->addAction(text);
        a->setCheckable(true);
        a->setChecked(code == chosen);
        a->setData(code);
        group->addAction(a);
        connect(a, &QAction::triggered, this, [this, code = code] { chooseLanguage(code); });
    }
}

void MainWindow::chooseLanguage(const QString& choice)
{
    Language::setChoice(choice);
    const QString language = Language::resolve(choice);
    if (language == Language::active()) {
        showStatus(tr("Interface language: %1").arg(Language::nativeName(language)), 8000);
        return;
    }
    // Widgets keep the texts they were built with: the new language applies from the next start.
    const QString text =
        tr("The interface will be in %1 the next time Lightbox starts.").arg(Language::nativeName(language));
    showStatus(text);
    if (m_interactive)
        QMessageBox::information(this, tr("Language"), text);
}

void MainWindow::rebuildLabelActions(const QStringList& labels)
{
    for (QAction* a : m_labelActions) {
        removeAction(a);
        delete a;
    }
    m_labelActions.clear();
    m_labelMenu->clear();
    for (int i = 0; i < labels.size(); ++i) {
        const QString label = labels[i];
        auto* a = new QAction(tr("Label \"%1\"").arg(label), this);
        if (i < 10)
            a->setShortcut(QKeySequence(Qt::Key_0 + i));
        connect(a, &QAction::triggered, this, [this, label] { saveCrop(label); });
        addAction(a); // active whenever the window is, menu open or not
        m_labelMenu->addAction(a);
        m_labelActions << a;
    }
}

void MainWindow::rebuildPresets()
{
    m_presetMenu->clear();
    ImageViewer* viewer = activeViewer();
    const std::shared_ptr<const imaging::Image> image = viewer->image();
    if (!image) {
        m_presetMenu->setEnabled(false);
        return;
    }
    m_presetMenu->setEnabled(true);
    int n = 0;
    for (const imaging::Window& w : image->fileWindows) {
        const QString name =
            w.explanation.empty() ? tr("File window %1").arg(n + 1) : QString::fromStdString(w.explanation);
        QAction* a = m_presetMenu->addAction(tr("%1  (W %2 L %3)").arg(name, number(w.width), number(w.center)), viewer,
                                             [viewer, w] { viewer->setWindow(w); });
        if (n < 8)
            a->setShortcut(QKeySequence(Qt::Key_F2 + n));
        ++n;
    }
    if (image->voiLut.valid())
        m_presetMenu->addAction(tr("VOI LUT %1").arg(QString::fromStdString(image->voiLut.explanation)), viewer,
                                &ImageViewer::useVoiLut);
    const imaging::Window a = image->autoWindow;
    m_presetMenu->addAction(tr("Automatic  (W %1 L %2)").arg(number(a.width), number(a.center)), viewer,
                            &ImageViewer::setAutoWindow);
}

// ---------------------------------------------------------------------------------------
// Opening

void MainWindow::openDialog()
{
    const QString dir = m_currentPath.isEmpty() ? QString() : QFileInfo(m_currentPath).absolutePath();
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open image"), dir,
        tr("Images (*.dcm *.DCM *.dicom *.png *.jpg *.jpeg *.tif *.tiff *.bmp);;All files (*)"));
    if (!path.isEmpty())
        open(path);
}

void MainWindow::openFolderDialog()
{
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Open folder"), m_folder);
    if (!dir.isEmpty())
        openFolder(dir);
}

void MainWindow::open(const QString& path)
{
    if (QFileInfo(path).isDir()) {
        openFolder(path);
        return;
    }
    if (m_synchronous)
        openFile(path);
    else
        openFileInBackground(path);
}

bool MainWindow::openFile(const QString& path)
{
    ++m_loadGeneration; // anything still loading in the background is now stale
    m_loadPending = false;
    Result<imaging::Image> result = imaging::loadImage(path.toStdString(), viewerLoadOptions());
    return applyLoaded(path, result);
}

void MainWindow::openFileInBackground(const QString& path)
{
    const quint64 generation = ++m_loadGeneration;
    auto* watcher = new QFutureWatcher<LoadResult>(this);
    connect(watcher, &QFutureWatcher<LoadResult>::finished, this, [this, watcher, path, generation] {
        watcher->deleteLater();
        if (generation != m_loadGeneration)
            return; // a newer request superseded this one
        m_loadPending = false;
        LoadResult r = watcher->result();
        applyLoaded(path, *r);
    });
    m_loadPending = true;
    showStatus(tr("Loading %1…").arg(QFileInfo(path).fileName()));
    const std::string file = path.toStdString();
    watcher->setFuture(QtConcurrent::run(backgroundPool(), [file] {
        return std::make_shared<Result<imaging::Image>>(imaging::loadImage(file, viewerLoadOptions()));
    }));
}

jobs::ImageContext MainWindow::imageContext() const
{
    jobs::ImageContext c;
    c.presetId = m_cropPanel->chosenTask().toStdString();
    const bool second = activeViewer() == m_compare->secondary();
    const std::shared_ptr<const imaging::Image> image = activeViewer()->image();
    const QString path = second ? m_compare->secondaryPath() : m_currentPath;
    if (!image)
        return c;
    c.bodyPart = image->keyTag("BodyPartExamined");
    c.modality = image->keyTag("Modality");
    c.patientAge = image->keyTag("PatientAge");
    c.birthDate = image->keyTag("PatientBirthDate");
    c.studyDate = image->keyTag("StudyDate");
    c.path = path.toStdString();
    c.colour = image->channels() == 3;
    c.dicom = image->format == "DICOM";
    // The folders beside the image's folder: class folders when it sits in a data set.
    QDir parent = QFileInfo(path).absoluteDir();
    if (parent.cdUp())
        for (const QString& f : parent.entryList(QDir::Dirs | QDir::NoDotAndDotDot))
            c.siblingFolders.push_back(f.toStdString());
    return c;
}

bool MainWindow::applyLoaded(const QString& path, Result<imaging::Image>& result)
{
    const QFileInfo info(path);
    if (!result) {
        m_lastError = QString::fromStdString(result.error());
        showStatus(tr("Cannot open %1: %2").arg(info.fileName(), m_lastError));
        m_pendingRoi.reset();
        return false;
    }
    m_lastError.clear();
    m_image = std::make_shared<const imaging::Image>(std::move(result).value());
    m_currentPath = info.absoluteFilePath();
    m_viewer->setImage(m_image);
    if (m_pendingRoi) {
        m_viewer->setRoi(*m_pendingRoi);
        m_pendingRoi.reset();
    }
    m_compare->setPrimaryPath(m_currentPath);
    if (activeViewer() == m_viewer)
        activeImageChanged();
    setWindowTitle(tr("Lightbox - %1").arg(info.fileName()));
    addRecent(m_currentPath);

    const QString folder = info.absolutePath();
    const int inList = static_cast<int>(m_files.indexOf(m_currentPath));
    if (inList >= 0) {
        m_index = inList;
    } else if (folder != m_folder || m_files.isEmpty()) {
        const QStringList files = data::ImageFolder::list(folder);
        setFileList(files, static_cast<int>(files.indexOf(m_currentPath)), folder);
    }
    updatePosition();
    const imaging::Image& img = *m_image;
    QString what = tr("%1 × %2, %3").arg(img.width()).arg(img.height()).arg(QString::fromStdString(img.format));
    if (!img.transferSyntaxName.empty())
        what += QStringLiteral(" (") + QString::fromStdString(img.transferSyntaxName) + QLatin1Char(')');
    const QString problem = m_viewer->annotations()->loadProblem();
    showStatus(problem.isEmpty() ? tr("Opened %1: %2").arg(info.fileName(), what)
                                 : tr("Opened %1. %2").arg(info.fileName(), problem),
               problem.isEmpty() ? 8000 : 0);
    updateRoiInfo();
    return true;
}

bool MainWindow::openFolder(const QString& dir)
{
    const QStringList files = data::ImageFolder::list(dir);
    if (files.isEmpty()) {
        m_lastError = tr("no images in %1").arg(dir);
        showStatus(tr("No DICOM or image files in %1").arg(dir));
        return false;
    }
    setFileList(files, -1, QFileInfo(dir).absoluteFilePath());
    return openIndex(0);
}

void MainWindow::setFileList(const QStringList& files, int current, const QString& folder)
{
    stopThumbnails();
    m_files = files;
    m_folder = folder;
    m_index = current;
    m_syncingList = true;
    m_fileList->clear();
    for (const QString& f : files)
        m_fileList->addItem(QFileInfo(f).fileName());
    m_fileList->setCurrentRow(current);
    m_syncingList = false;
    m_compare->setFolderFiles(files);
    updatePosition();
    startThumbnails();
}

bool MainWindow::openIndex(int index)
{
    if (index < 0 || index >= m_files.size())
        return false;
    m_index = index;
    updatePosition();
    if (m_synchronous)
        return openFile(m_files[index]);
    openFileInBackground(m_files[index]);
    return true;
}

bool MainWindow::showNext()
{
    if (m_index + 1 >= m_files.size()) {
        if (!m_files.isEmpty())
            showStatus(tr("Last image of the folder"), 4000);
        return false;
    }
    return openIndex(m_index + 1);
}

bool MainWindow::showPrevious()
{
    if (m_index <= 0) {
        if (!m_files.isEmpty())
            showStatus(tr("First image of the folder"), 4000);
        return false;
    }
    return openIndex(m_index - 1);
}

void MainWindow::updatePosition()
{
    m_syncingList = true;
    m_fileList->setCurrentRow(m_index);
    m_syncingList = false;
    const QString pos =
        m_files.isEmpty() || m_index < 0 ? QString() : QStringLiteral("%1 / %2").arg(m_index + 1).arg(m_files.size());
    m_positionLabel->setText(pos);
    m_viewer->setOverlayExtra(pos.isEmpty() ? QStringList() : QStringList{pos});
}

// ---------------------------------------------------------------------------------------
// Thumbnails: decoded in the thread pool, one folder at a time, cancelled on change.

void MainWindow::startThumbnails()
{
    if (m_files.isEmpty())
        return;
    m_thumbWatcher = new QFutureWatcher<Thumbnail>(this);
    QFutureWatcher<Thumbnail>* watcher = m_thumbWatcher;
    connect(watcher, &QFutureWatcher<Thumbnail>::resultReadyAt, this, [this, watcher](int i) {
        if (watcher != m_thumbWatcher)
            return;
        const Thumbnail t = watcher->resultAt(i);
        if (QListWidgetItem* item = m_fileList->item(t.index))
            item->setIcon(QIcon(QPixmap::fromImage(t.image)));
    });
    const QStringList files = m_files;
    // Nearest to the current image first: in a long folder those are the ones in view.
    std::vector<int> order(static_cast<std::size_t>(files.size()));
    std::iota(order.begin(), order.end(), 0);
    const int from = std::max(0, m_index);
    std::stable_sort(order.begin(), order.end(),
                     [from](int a, int b) { return std::abs(a - from) < std::abs(b - from); });
    watcher->setFuture(QtConcurrent::run(backgroundPool(), [files, order](QPromise<Thumbnail>& promise) {
        for (const int i : order) {
            if (promise.isCanceled())
                return;
            auto loaded = imaging::loadImage(files[i].toStdString());
            if (!loaded)
                continue;
            cv::Mat small = imaging::render8(loaded.value());
            const double s = double(kThumbSize) / std::max(small.cols, small.rows);
            if (s < 1.0)
                cv::resize(small, small, cv::Size(std::max(1, int(small.cols * s)), std::max(1, int(small.rows * s))),
                           0, 0, cv::INTER_AREA);
            promise.addResult(Thumbnail{i, toQImage(small)});
        }
    }));
}

void MainWindow::stopThumbnails()
{
    if (!m_thumbWatcher)
        return;
    QFutureWatcher<Thumbnail>* w = m_thumbWatcher;
    m_thumbWatcher = nullptr;
    // The task holds only its file list and its promise: cancel it and let it end on its own
    // rather than wait on the GUI thread for the file it is decoding.
    w->disconnect(this);
    w->cancel();
    w->deleteLater();
}

// ---------------------------------------------------------------------------------------
// Recent files, drag and drop

void MainWindow::addRecent(const QString& path)
{
    QStringList recent = settings::value(QStringLiteral("recentFiles")).toStringList();
    recent.removeAll(path);
    recent.prepend(path);
    while (recent.size() > kMaxRecent)
        recent.removeLast();
    settings::set(QStringLiteral("recentFiles"), recent);
}

void MainWindow::rebuildRecentMenu()
{
    m_recentMenu->clear();
    const QStringList recent = settings::value(QStringLiteral("recentFiles")).toStringList();
    for (const QString& path : recent)
        m_recentMenu->addAction(QFileInfo(path).fileName(), this, [this, path] { open(path); })->setToolTip(path);
    if (recent.isEmpty())
        m_recentMenu->addAction(tr("(none)"))->setEnabled(false);
    else {
        m_recentMenu->addSeparator();
        m_recentMenu->addAction(tr("Clear"), this, [] { settings::remove(QStringLiteral("recentFiles")); });
    }
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event)
{
    if (event->mimeData()->hasUrls())
        for (const QUrl& u : event->mimeData()->urls())
            if (u.isLocalFile()) {
                event->acceptProposedAction();
                return;
            }
}

void MainWindow::dropEvent(QDropEvent* event)
{
    QStringList files;
    for (const QUrl& u : event->mimeData()->urls())
        if (u.isLocalFile())
            files << QFileInfo(u.toLocalFile()).absoluteFilePath();
    if (files.isEmpty())
        return;
    event->acceptProposedAction();
    if (files.size() == 1) {
        open(files.front());
        return;
    }
    // Several files: they become the list to step through.
    QStringList images;
    for (const QString& f : files)
        if (data::ImageFolder::isImageFile(f))
            images << f;
    if (images.isEmpty())
        return;
    setFileList(images, -1, QString());
    openIndex(0);
}

void MainWindow::showEvent(QShowEvent* event)
{
    QMainWindow::showEvent(event);
    if (m_docksSized)
        return;
    // Docks size themselves from their contents' hints; give the image the room instead.
    m_docksSized = true;
    resizeDocks({m_folderDock, m_cropDock}, {190, 340}, Qt::Horizontal);
    resizeDocks({m_cropDock, m_classifyDock}, {330, 500}, Qt::Vertical);
}

void MainWindow::setInteractive(bool on)
{
    m_interactive = on;
    m_classifyPanel->setInteractive(on);
    m_compare->setInteractive(on);
}

void MainWindow::setSynchronousLoading(bool on)
{
    m_synchronous = on;
    m_compare->setSynchronousLoading(on);
}

void MainWindow::restoreLayout()
{
    QSettings s;
    const QByteArray geometry = s.value(QStringLiteral("window/geometry")).toByteArray();
    const QByteArray state = s.value(QStringLiteral("window/state")).toByteArray();
    if (!geometry.isEmpty())
        restoreGeometry(geometry);
    if (!state.isEmpty() && restoreState(state))
        m_docksSized = true;
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    stopThumbnails();
    if (m_interactive) {
        QSettings s;
        s.setValue(QStringLiteral("window/geometry"), saveGeometry());
        s.setValue(QStringLiteral("window/state"), saveState());
    }
    QMainWindow::closeEvent(event);
}

// ---------------------------------------------------------------------------------------
// Status bar

void MainWindow::showStatus(const QString& text, int timeoutMs)
{
    m_statusText = text;
    statusBar()->showMessage(text, timeoutMs);
}

QString MainWindow::cursorText() const
{
    return m_cursorLabel->text();
}

void MainWindow::showCursorInfo(const ImageViewer* viewer, QPoint p, bool inside)
{
    const std::shared_ptr<const imaging::Image> image = viewer->image();
    if (!image || !inside) {
        m_cursorLabel->setText(image ? tr("x %1  y %2").arg(p.x()).arg(p.y()) : QString());
        return;
    }
    QString value;
    if (image->channels() == 3) {
        auto at = [&](int c) { return image->sampleAt(p.x(), p.y(), c); };
        value = tr("RGB %1, %2, %3").arg(number(at(0)), number(at(1)), number(at(2)));
    } else {
        const double stored = image->sampleAt(p.x(), p.y());
        value = tr("stored %1  value %2").arg(number(stored), number(image->toModality(stored)));
        if (!image->rescaleType.empty())
            value += QLatin1Char(' ') + QString::fromStdString(image->rescaleType);
    }
    m_cursorLabel->setText(tr("x %1  y %2   %3").arg(p.x()).arg(p.y()).arg(value));
}

void MainWindow::updateWindowStatus()
{
    const ImageViewer* viewer = activeViewer();
    if (!viewer->hasImage()) {
        m_windowLabel->clear();
        return;
    }
    QString w;
    if (viewer->usingVoiLut())
        w = tr("VOI LUT");
    else
        w = tr("W %1  L %2")
                .arg(number(std::round(viewer->window().width)), number(std::round(viewer->window().center)));
    m_windowLabel->setText(tr("%1   zoom %2%").arg(w).arg(viewer->zoom() * 100.0, 0, 'f', 0));
}

ImageViewer* MainWindow::activeViewer() const
{
    return m_compare->active();
}

void MainWindow::activeImageChanged()
{
    ImageViewer* viewer = activeViewer();
    m_classifyPanel->setImageContext(imageContext());
    m_classifyPanel->imageChanged();
    if (viewer->hasImage())
        m_tags->setImage(*viewer->image());
    m_invertAction->setChecked(viewer->inverted());
    rebuildPresets();
    updateWindowStatus();
}

void MainWindow::activeViewerChanged(ImageViewer* viewer)
{
    // Each side keeps its result, heat map and measurements; the docks follow the active one.
    m_classifyPanel->setViewer(viewer);
    if (viewer->hasImage()) {
        m_classifyPanel->setImageContext(imageContext());
        m_tags->setImage(*viewer->image());
    }
    m_measurements->setLayer(viewer->annotations());
    {
        const QSignalBlocker block(m_invertAction);
        m_invertAction->setChecked(viewer->inverted());
    }
    rebuildPresets();
    updateWindowStatus();
    updateUndoActions();
}

void MainWindow::updateRoiInfo()
{
    const auto roi = m_viewer->roi();
    if (!roi || !m_image) {
        m_cropPanel->setRoiInfo(tr("Drag a rectangle over the image (crop tool, C)"));
        return;
    }
    QString text =
        tr("Rectangle %1 × %2 px at (%3, %4)").arg(roi->width()).arg(roi->height()).arg(roi->x()).arg(roi->y());
    if (m_image->spacingRow > 0 && m_image->spacingCol > 0)
        text += tr(", %1 × %2 mm")
                    .arg(roi->width() * m_image->spacingCol, 0, 'f', 1)
                    .arg(roi->height() * m_image->spacingRow, 0, 'f', 1);
    m_cropPanel->setRoiInfo(text);
}

// ---------------------------------------------------------------------------------------
// Crop export

bool MainWindow::saveCrop(const QString& label)
{
    if (!m_image) {
        showStatus(tr("Open an image first"));
        return false;
    }
    if (m_loadPending) {
        // A second key press before the next image arrived would label the previous one
        // again and skip an image.
        showStatus(tr("Still loading the next image: not saved"));
        return false;
    }
    const auto roi = m_viewer->roi();
    if (!roi) {
        showStatus(tr("Drag a rectangle over the image first (crop tool: C)"));
        return false;
    }
    data::CropSettings settings = m_cropPanel->settings();
    if (settings.datasetRoot.isEmpty() && m_interactive) {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Data-set folder for the crops"));
        if (!dir.isEmpty())
            m_cropPanel->setDatasetRoot(dir);
        settings = m_cropPanel->settings();
    }
    settings.render = m_viewer->renderParams();
    const cv::Rect r(roi->x(), roi->y(), roi->width(), roi->height());
    auto saved = m_exporter.save(*m_image, r, label, settings);
    if (!saved) {
        m_lastError = QString::fromStdString(saved.error());
        showStatus(tr("Crop not saved: %1").arg(m_lastError));
        return false;
    }
    m_lastSavedPath = m_currentPath;
    m_lastSavedRoi = *roi;
    const auto manifest = data::CropManifest::load(
        QDir(settings.datasetRoot).filePath(QString::fromLatin1(data::CropManifest::fileName())));
    const int count = manifest ? static_cast<int>(manifest->records().size()) : 0;
    const QString msg = tr("Saved %1 as \"%2\" (%3 in the data set)").arg(saved->file, label).arg(count);
    m_cropPanel->setLastSaved(msg);
    m_cropPanel->setUndoEnabled(true);
    m_cropUndoable = true;
    m_cropSerial = ++m_actionSerial;
    updateUndoActions();
    showStatus(msg, 8000);
    if (m_cropPanel->advanceAfterSave() && m_index >= 0 && m_index + 1 < m_files.size())
        showNext();
    return true;
}

bool MainWindow::undoLastSave()
{
    const auto last = m_exporter.lastSaved();
    auto undone = m_exporter.undo();
    m_cropPanel->setUndoEnabled(false);
    m_cropUndoable = false;
    updateUndoActions();
    if (!undone) {
        showStatus(tr("Cannot undo: %1").arg(QString::fromStdString(undone.error())));
        return false;
    }
    m_cropPanel->setLastSaved(tr("Undone: %1").arg(last ? last->file : QString()));
    showStatus(tr("Undid the save of %1").arg(last ? last->file : QString()), 8000);
    if (!m_lastSavedPath.isEmpty() && m_lastSavedPath != m_currentPath) {
        m_pendingRoi = m_lastSavedRoi;
        const int i = static_cast<int>(m_files.indexOf(m_lastSavedPath));
        if (i >= 0)
            openIndex(i);
        else
            open(m_lastSavedPath);
    } else if (m_image) {
        m_viewer->setRoi(m_lastSavedRoi);
    }
    return true;
}

void MainWindow::updateUndoActions()
{
    if (!m_undoAction)
        return;
    QUndoStack* stack = activeViewer()->annotations()->undoStack();
    const bool measureFirst = stack->canUndo() && (m_measureSerial > m_cropSerial || !m_cropUndoable);
    m_undoAction->setEnabled(stack->canUndo() || m_cropUndoable);
    m_undoAction->setText(measureFirst     ? tr("&Undo %1").arg(stack->undoText())
                          : m_cropUndoable ? tr("&Undo Last Crop Save")
                                           : tr("&Undo"));
    m_redoAction->setEnabled(stack->canRedo());
}

bool MainWindow::exportViewTo(const QString& path, bool overlays, bool nativeResolution)
{
    const auto done = exportViewPng(activeViewer(), path, overlays, nativeResolution);
    if (!done) {
        m_lastError = QString::fromStdString(done.error());
        showStatus(tr("View not exported: %1").arg(m_lastError));
        return false;
    }
    showStatus(tr("Exported the view to %1").arg(path), 8000);
    return true;
}

bool MainWindow::exportDicomTo(const QString& path)
{
    const auto done = exportSecondaryCapture(activeViewer(), path);
    if (!done) {
        m_lastError = QString::fromStdString(done.error());
        showStatus(tr("DICOM not exported: %1").arg(m_lastError));
        return false;
    }
    showStatus(done->deidentified
                   ? tr("Exported a de-identified Secondary Capture to %1 (the image is no DICOM)").arg(path)
                   : tr("Exported a Secondary Capture in the image's study to %1").arg(path),
               8000);
    return true;
}

bool MainWindow::exportReportTo(const QString& path, bool identify)
{
    const auto done =
        exportReport(activeViewer(), m_classifyPanel, path, identify, QCoreApplication::applicationVersion());
    if (!done) {
        m_lastError = QString::fromStdString(done.error());
        showStatus(tr("Report not exported: %1").arg(m_lastError));
        return false;
    }
    showStatus(identify ? tr("Exported the report to %1").arg(path)
                        : tr("Exported the de-identified report to %1").arg(path),
               8000);
    return true;
}

} // namespace lightbox::ui
