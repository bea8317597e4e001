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

/// The crop tool's side panel: the task (a preset that sets the labels and output size in
/// one click), the data-set folder, the task's class labels as buttons
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
    /// Labels that differ from the chosen task's classes switch the task picker to "Custom".
    void setLabels(const QStringList& labels);
    /// Chooses a task preset (data::taskPresets() id): its classes become the label buttons
    /// and keys, its input size the output size. An unknown id or "" selects "Custom".
    void setTask(const QString& presetId);
    /// The chosen preset's id, or "" for custom labels.
    QString task() const;
    /// The task when one was chosen in this session (the picker, or setTask()), else "": the
    /// remembered or default task says nothing about the images being read.
    QString chosenTask() const { return m_taskChosen ? task() : QString(); }
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
    void taskChanged(const QString& presetId);

private:
    bool m_taskChosen = false;
    void chooseRoot();
    void rebuildButtons();
    void store() const;

    QStringList m_labels;
    QComboBox* m_task = nullptr;
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
