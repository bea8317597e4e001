#pragma once

#include <imaging/Image.h>

#include <QMainWindow>
#include <QString>

class QLabel;
class QScrollArea;

namespace lightbox::ui {

/// The application window: opens a radiograph and shows it with its default window.
/// Loading runs off the GUI thread only in later viewer work; this window loads
/// synchronously and reports failures in the status bar (and a dialog when interactive).
class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);

    /// Loads and shows `path`; on failure keeps the current image and returns false with
    /// lastError() set.
    bool openFile(const QString& path);
    QString lastError() const { return m_lastError; }
    const imaging::Image& image() const { return m_image; }
    /// Suppresses modal dialogs (tests, --screenshot).
    void setInteractive(bool on) { m_interactive = on; }

private:
    void openDialog();
    void refresh();

    imaging::Image m_image;
    QString m_lastError;
    bool m_interactive = true;
    QScrollArea* m_scroll = nullptr;
    QLabel* m_view = nullptr;
};

} // namespace lightbox::ui
