// MainWindow's menus, tool bar and actions, the window presets, the label keys and the
// recent files (see MainWindow.cpp).
#include "MainWindow.h"
#include "MainWindowPrivate.h"

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

using namespace mainwindow;

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
    file->addSeparator();
    file->addAction(tr("Query &PACS..."), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_P), this, [this] {
        m_pacsDock->show();
        m_pacsDock->raise();
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
    view->addAction(tr("Compare &With..."), m_compare, &CompareView::openFileDialog);
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
    view->addAction(m_pacsDock->toggleViewAction());
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
// Recent files

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

} // namespace lightbox::ui
