// MainWindow opening images and folders (in the background), the folder strip's
// thumbnails, saving crops with undo, and the exports (see MainWindow.cpp).
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
#include "PacsDock.h"
#include "SettingsWriter.h"
#include "TagBrowser.h"
#include "TrainingTab.h"
#include "ViewExport.h"

#include <data/CropManifest.h>
#include <data/ImageFolder.h>
#include <imaging/DicomWriter.h>
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
#include <QFile>
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

// ---------------------------------------------------------------------------------------
// PACS

void MainWindow::buildPacsDock()
{
    m_pacs = new PacsDock;
    m_pacsDock = new QDockWidget(tr("PACS"), this);
    m_pacsDock->setObjectName(QStringLiteral("pacsDock"));
    auto* scroll = new QScrollArea;
    scroll->setWidget(m_pacs);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    m_pacsDock->setWidget(scroll);
    addDockWidget(Qt::LeftDockWidgetArea, m_pacsDock);
    tabifyDockWidget(m_measureDock, m_pacsDock);
    m_measureDock->raise();
    // The search tree needs room: shown, the dock takes most of the left side.
    connect(m_pacsDock, &QDockWidget::visibilityChanged, this, [this](bool visible) {
        if (!visible || m_pacsDock->isFloating() || m_pacsDock->width() >= kPacsDockWidth)
            return;
        resizeDocks({m_pacsDock}, {kPacsDockWidth}, Qt::Horizontal);
        resizeDocks({m_folderDock, m_pacsDock}, {160, std::max(400, height() - 260)}, Qt::Vertical);
    });
    // A retrieved series opens in the viewer, and its folder in the folder list.
    connect(m_pacs, &PacsDock::filesRetrieved, this, [this](const QStringList& files) { openFile(files.first()); });

    // What Send sends. The Secondary Capture and the report are written to a folder that
    // lives as long as the window.
    const auto scratch = [this](const QString& name) {
        if (!m_sendDir)
            m_sendDir = std::make_unique<QTemporaryDir>();
        return m_sendDir->isValid() ? m_sendDir->filePath(name) : QString();
    };
    PacsDock::SendSources sources;
    sources.currentFile = [this](QString* error) {
        const ImageViewer* v = activeViewer();
        if (!v->hasImage())
            return QString();
        if (v->image()->format != "DICOM") {
            *error = tr("the image shown is no DICOM file; send the view as a Secondary Capture");
            return QString();
        }
        return QString::fromStdString(v->image()->sourcePath);
    };
    sources.secondaryCapture = [this, scratch](QString* error) {
        if (!activeViewer()->hasImage())
            return QString();
        const QString path = scratch(QStringLiteral("view-%1.dcm").arg(++m_sendSerial));
        if (path.isEmpty() || !exportDicomTo(path)) {
            *error = m_lastError.isEmpty() ? tr("cannot write a temporary file") : m_lastError;
            return QString();
        }
        return path;
    };
    sources.report = [this, scratch](QString* error) {
        const ImageViewer* v = activeViewer();
        if (!v->hasImage())
            return QString();
        const QString pdf = scratch(QStringLiteral("report-%1.pdf").arg(++m_sendSerial));
        if (pdf.isEmpty() || !exportReportTo(pdf, true)) {
            *error = m_lastError.isEmpty() ? tr("cannot write a temporary file") : m_lastError;
            return QString();
        }
        QFile f(pdf);
        if (!f.open(QIODevice::ReadOnly)) {
            *error = f.errorString();
            return QString();
        }
        const QByteArray bytes = f.readAll();
        const QString dcm = QString(pdf).replace(QStringLiteral(".pdf"), QStringLiteral(".dcm"));
        auto written =
            imaging::writeEncapsulatedPdf(bytes.toStdString(), *v->image(), "Lightbox report", dcm.toStdString());
        if (!written) {
            *error = QString::fromStdString(written.error());
            return QString();
        }
        return dcm;
    };
    m_pacs->setSendSources(std::move(sources));
}

} // namespace lightbox::ui
