#pragma once

#include <data/CropExporter.h>

#include <QStringList>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QGridLayout;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;

namespace lightbox::ui {

/// The crop tool's side panel: the data-set folder, the task's class labels as buttons
/// (keys 0-9 press them through MainWindow's actions), output size and bit depth, the
/// square toggle, whether the next image opens after a save, the rectangle's size and the
/// last save with its undo. Remembers its settings (QSettings, group "crop"). It edits
/// settings only; MainWindow saves the crop through data::CropExporter.
class CropPanel : public QWidget {
    Q_OBJECT
public:
    explicit CropPanel(QWidget* parent = nullptr);

    /// Root, output size and raw flag (the render parameters are the viewer's).
    data::CropSettings settings() const;
    QStringList labels() const { return m_labels; }
    /// Replaces the class labels (the active task's classes); invalid names are dropped.
    void setLabels(const QStringList& labels);
    void setDatasetRoot(const QString& path);
    QString datasetRoot() const;
    void setOutputSize(int pixels);
    void setRaw(bool raw);
    void setSquare(bool on);
    bool square() const;
    bool advanceAfterSave() const;
    void setAdvanceAfterSave(bool on);

    void setRoiInfo(const QString& text);
    QString roiInfo() const;
    void setLastSaved(const QString& text);
    void setUndoEnabled(bool on);

signals:
    void labelChosen(const QString& label);
    void undoRequested();
    void squareToggled(bool on);
    void labelsChanged(const QStringList& labels);

private:
    void chooseRoot();
    void rebuildButtons();
    void store() const;

    QStringList m_labels;
    QLineEdit* m_root = nullptr;
    QLineEdit* m_classes = nullptr;
    QGridLayout* m_buttons = nullptr;
    QSpinBox* m_size = nullptr;
    QComboBox* m_mode = nullptr;
    QCheckBox* m_square = nullptr;
    QCheckBox* m_advance = nullptr;
    QLabel* m_roiInfo = nullptr;
    QLabel* m_lastSaved = nullptr;
    QPushButton* m_undo = nullptr;
};

} // namespace lightbox::ui
