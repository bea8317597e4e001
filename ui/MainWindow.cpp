// The main window: construction and docks, window events, the status bar and the active
// side of a comparison. Menus and actions: MainWindowMenus.cpp; opening files, the folder
// strip, crop saving and exports: MainWindowFiles.cpp.
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
#include <QTemporaryDir>
#include <QToolBar>
#include <QUndoStack>
#include <QtConcurrent/QtConcurrent>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace lightbox::ui {

using namespace mainwindow;

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
    // The widgets below are destroyed after this body, when the window is a plain QWidget:
    // what they signal on the way out (an undo stack cleared) must not reach this window's
    // slots any more (UndefinedBehaviorSanitizer: a member call on a destroyed MainWindow).
    for (QObject* child : findChildren<QObject*>())
        disconnect(child, nullptr, this, nullptr);
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
    buildPacsDock();
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

} // namespace lightbox::ui
