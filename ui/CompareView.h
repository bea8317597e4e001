#pragma once

#include <base/Result.h>
#include <imaging/Image.h>

#include <QFutureWatcher>
#include <QString>
#include <QStringList>
#include <QWidget>

#include <memory>

class QComboBox;
class QFrame;
class QLabel;
class QSplitter;
class QToolButton;

namespace lightbox::ui {

class ImageViewer;

/// The viewer tab: the main viewer alone, or two viewports side by side when comparing
/// (left against right knee, prior against current). The second viewport shows another image
/// of the folder (its chooser) or any file (Open…, or a file dropped on it). While the views
/// are linked, zoom, pan and window/level follow whichever side the user works in: zoom as a
/// multiple of fitting the viewport and pan as a share of the image's size, so that two
/// images of different sizes stay aligned; a newly opened image keeps its own window. One
/// click mirrors either side (left-right), independently of the link.
///
/// The side last clicked or focused is the active one (outlined): the view actions,
/// classification and the heat map, the measurements dock and the exports work on it.
/// MainWindow listens to activeChanged() and secondaryImageChanged().
class CompareView : public QWidget {
    Q_OBJECT
public:
    /// `primary` is the main viewer; this widget takes it over as its left side.
    explicit CompareView(ImageViewer* primary, QWidget* parent = nullptr);
    ~CompareView() override;

    ImageViewer* primary() const { return m_viewers[0]; }
    ImageViewer* secondary() const { return m_viewers[1]; }
    /// The side the actions apply to: the primary unless comparing and the second was chosen.
    ImageViewer* active() const;
    /// Makes `viewer` (one of the two) the active side; the second only while comparing.
    void setActive(ImageViewer* viewer);

    bool comparing() const { return m_comparing; }
    /// Shows or hides the second viewport. Starting with no image there opens the folder's
    /// image after the current one, if any.
    void setComparing(bool on);
    bool linked() const { return m_linked; }
    void setLinked(bool on);
    /// Flips `viewer` (one of the two sides) left-right.
    void mirror(ImageViewer* viewer);

    /// Opens `path` in the second viewport and starts comparing. In the background unless
    /// loading is synchronous, in which case the return says whether it loaded; a failure
    /// keeps the image there and shows the reason in the viewport's header (secondaryError()).
    bool openSecondary(const QString& path);
    QString secondaryPath() const { return m_secondaryPath; }
    QString secondaryError() const { return m_error; }
    /// The images the second viewport's chooser lists (the folder of the main image), and
    /// the main image's path (for the header and the default choice).
    void setFolderFiles(const QStringList& files);
    void setPrimaryPath(const QString& path);
    /// Asks for a file to compare with (Open…, View > Compare With…); nothing when not interactive.
    void openFileDialog();

    void setSynchronousLoading(bool on) { m_synchronous = on; }
    /// Lets Open… show a file dialog (off in tests and screenshots).
    void setInteractive(bool on) { m_interactive = on; }

signals:
    void activeChanged(lightbox::ui::ImageViewer* viewer);
    /// The second viewport shows another image (or the same one again).
    void secondaryImageChanged();
    void comparingChanged(bool on);
    void linkedChanged(bool on);
    /// A message for the status bar.
    void message(const QString& text);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    using LoadResult = std::shared_ptr<Result<imaging::Image>>;
    void applyLoaded(const QString& path, Result<imaging::Image>& result);
    void imageSet(int side);
    bool shouldSync(int from) const;
    void syncView(int from);
    void syncWindow(int from);
    void updateFrames();
    void updateHeaders();
    void updateChooser();
    void updateMirrorButtons();
    int sideOf(const QObject* o) const;

    QSplitter* m_splitter = nullptr;
    ImageViewer* m_viewers[2] = {nullptr, nullptr};
    QFrame* m_frames[2] = {nullptr, nullptr};
    QWidget* m_headers[2] = {nullptr, nullptr};
    QLabel* m_primaryName = nullptr;
    QComboBox* m_chooser = nullptr;
    QLabel* m_errorLabel = nullptr;
    QToolButton* m_link = nullptr;
    QToolButton* m_mirror[2] = {nullptr, nullptr};
    /// The image each side showed when it last reported imageSet(): the window and view
    /// signals of setImage() itself come before it and are not changes to pass on.
    const imaging::Image* m_current[2] = {nullptr, nullptr};
    int m_active = 0;
    bool m_comparing = false;
    bool m_linked = true;
    bool m_syncing = false;
    bool m_synchronous = false;
    bool m_interactive = true;
    quint64 m_generation = 0;
    QString m_secondaryPath;
    QString m_primaryPath;
    QString m_error;
    QStringList m_files;
};

} // namespace lightbox::ui
