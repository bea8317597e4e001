#pragma once

#include <jobs/ModelChoice.h>

#include <base/Result.h>
#include <data/CropExporter.h>
#include <imaging/Image.h>

#include <QFutureWatcher>
#include <QImage>
#include <QMainWindow>
#include <QRect>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>

class QAction;
class QActionGroup;
class QDockWidget;
class QLabel;
class QListWidget;
class QMenu;
class QTabWidget;
class QTemporaryDir;

namespace lightbox::ui {

class ClassifyPanel;
class CompareView;
class CropPanel;
class MeasurementsPanel;
class PacsDock;
class ImageViewer;
class TagBrowser;
class TrainingTab;

/// The application window: the image viewer as the "Viewer" tab of the central tab widget
/// (centralTabs(); further tabs such as training go beside it), a folder strip (left), the
/// crop panel, the classify panel and the DICOM tag tree (right), tools and view actions in a
/// tool bar and menus, and cursor position, pixel values, window and position in the folder
/// in the status bar.
///
/// Files open from File > Open, recent files, drag and drop or the command line; a folder
/// (or the folder of the opened file) becomes the list that Page Down / Page Up step
/// through. Loading runs in the thread pool (QtConcurrent + QFutureWatcher) unless
/// synchronous loading is set (tests, --screenshot); a file that fails to load leaves the
/// current image in place and explains why in the status bar. Keys 0-9 save the crop under
/// the task's labels through data::CropExporter and, optionally, open the next image.
/// Ctrl+R classifies the crop (or the image) with the classify panel's model; the panel
/// runs again when the crop or the image changes and its re-run box is ticked.
class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    /// Loads and shows `path` now, on the calling thread; on failure keeps the current
    /// image and returns false with lastError() set.
    bool openFile(const QString& path);
    /// Loads `path` in the thread pool and shows it when ready (the latest request wins).
    void openFileInBackground(const QString& path);
    /// Lists the images of `dir` and opens the first; false when there are none.
    bool openFolder(const QString& dir);
    /// Steps through the folder list; false at either end.
    bool showNext();
    bool showPrevious();

    /// Saves the crop rectangle under `label` (see data::CropExporter); false with the
    /// reason in the status bar when there is no image, rectangle or data-set folder.
    bool saveCrop(const QString& label);
    /// Undoes the last save and goes back to its image and rectangle.
    bool undoLastSave();

    QString lastError() const { return m_lastError; }
    QString currentPath() const { return m_currentPath; }
    std::shared_ptr<const imaging::Image> image() const { return m_image; }
    QStringList folderFiles() const { return m_files; }
    int folderIndex() const { return m_index; }
    /// The main viewer (the left side of a comparison).
    ImageViewer* viewer() const { return m_viewer; }
    /// The viewer tab: the main viewer, and a second one beside it when comparing.
    CompareView* compareView() const { return m_compare; }
    /// The side the view actions, the classify panel and the exports work on.
    ImageViewer* activeViewer() const;
    PacsDock* pacsDock() const { return m_pacs; }
    TagBrowser* tagBrowser() const { return m_tags; }
    CropPanel* cropPanel() const { return m_cropPanel; }
    MeasurementsPanel* measurementsPanel() const { return m_measurements; }
    /// File > Export View and Export DICOM without their dialogs; false with lastError().
    bool exportViewTo(const QString& path, bool overlays, bool nativeResolution);
    bool exportDicomTo(const QString& path);
    bool exportReportTo(const QString& path, bool identify);
    ClassifyPanel* classifyPanel() const { return m_classifyPanel; }
    /// The central tabs: "Viewer" first.
    QTabWidget* centralTabs() const { return m_tabs; }
    /// The "Training" tab.
    TrainingTab* trainingTab() const { return m_training; }
    /// View > Language: System, 한국어, English (the choice is stored; see Language).
    QMenu* languageMenu() const { return m_languageMenu; }
    /// Stores the interface language `choice` ("system", "ko", "en"); the window says that a
    /// different language applies from the next start.
    void chooseLanguage(const QString& choice);
    /// The action that runs the classifier (Ctrl+R).
    QAction* classifyAction() const { return m_classifyAction; }
    /// The latest status-bar message, also after it timed out (tests).
    QString statusText() const { return m_statusText; }
    /// The cursor position and pixel values shown in the status bar.
    QString cursorText() const;

    /// Restores the window geometry and dock layout of the last interactive session.
    void restoreLayout();

    /// Suppresses modal dialogs (tests, --screenshot); also stops the layout being saved.
    void setInteractive(bool on);
    /// Makes every open (navigation included) synchronous (tests, --screenshot).
    void setSynchronousLoading(bool on);

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;
    void closeEvent(QCloseEvent* event) override;
    void showEvent(QShowEvent* event) override;

private:
    /// What the classify panel needs to pick a model for the current image.
    jobs::ImageContext imageContext() const;
    using LoadResult = std::shared_ptr<Result<imaging::Image>>;
    struct Thumbnail {
        int index = 0;
        QImage image;
    };

    void buildActions();
    void buildDocks();
    void buildPacsDock();
    void buildLanguageMenu(QMenu* view);
    void openDialog();
    void openFolderDialog();
    void open(const QString& path);
    bool applyLoaded(const QString& path, Result<imaging::Image>& result);
    void setFileList(const QStringList& files, int current, const QString& folder);
    bool openIndex(int index);
    void updatePosition();
    void updateWindowStatus();
    void updateRoiInfo();
    void rebuildPresets();
    void updateUndoActions();
    void rebuildLabelActions(const QStringList& labels);
    void rebuildRecentMenu();
    void addRecent(const QString& path);
    void showCursorInfo(const ImageViewer* viewer, QPoint pixel, bool inside);
    /// The active side shows another image: the classify panel, tags and presets follow.
    void activeImageChanged();
    /// The user works in the other side of a comparison now.
    void activeViewerChanged(ImageViewer* viewer);
    void showStatus(const QString& text, int timeoutMs = 0);
    void startThumbnails();
    void stopThumbnails();

    std::shared_ptr<const imaging::Image> m_image;
    QString m_currentPath;
    QString m_lastError;
    QString m_statusText;
    bool m_interactive = true;
    bool m_synchronous = false;
    quint64 m_loadGeneration = 0;
    bool m_loadPending = false; ///< a background load is on its way: the image shown is stale
    std::optional<QRect> m_pendingRoi;

    QStringList m_files;
    QString m_folder;
    int m_index = -1;
    bool m_syncingList = false;
    bool m_docksSized = false;

    data::CropExporter m_exporter;
    QString m_lastSavedPath;
    QRect m_lastSavedRoi;

    QTabWidget* m_tabs = nullptr;
    ImageViewer* m_viewer = nullptr;
    CompareView* m_compare = nullptr;
    QAction* m_compareAction = nullptr;
    ClassifyPanel* m_classifyPanel = nullptr;
    TrainingTab* m_training = nullptr;
    QDockWidget* m_classifyDock = nullptr;
    QAction* m_classifyAction = nullptr;
    TagBrowser* m_tags = nullptr;
    CropPanel* m_cropPanel = nullptr;
    QListWidget* m_fileList = nullptr;
    QDockWidget* m_folderDock = nullptr;
    QDockWidget* m_tagDock = nullptr;
    QDockWidget* m_cropDock = nullptr;
    QLabel* m_cursorLabel = nullptr;
    QLabel* m_windowLabel = nullptr;
    QLabel* m_positionLabel = nullptr;
    QMenu* m_recentMenu = nullptr;
    QMenu* m_presetMenu = nullptr;
    QMenu* m_labelMenu = nullptr;
    QMenu* m_languageMenu = nullptr;
    QAction* m_squareAction = nullptr;
    QAction* m_invertAction = nullptr;
    QAction* m_overlayAction = nullptr;
    QAction* m_undoAction = nullptr;
    QAction* m_redoAction = nullptr;
    bool m_cropUndoable = false;
    quint64 m_actionSerial = 0, m_cropSerial = 0, m_measureSerial = 0; ///< which came last
    MeasurementsPanel* m_measurements = nullptr;
    QDockWidget* m_measureDock = nullptr;
    PacsDock* m_pacs = nullptr;
    std::unique_ptr<QTemporaryDir> m_sendDir; ///< files made to be sent to a PACS
    int m_sendSerial = 0;
    QDockWidget* m_pacsDock = nullptr;
    QActionGroup* m_toolGroup = nullptr;
    QList<QAction*> m_labelActions;
    QFutureWatcher<Thumbnail>* m_thumbWatcher = nullptr;
};

} // namespace lightbox::ui
