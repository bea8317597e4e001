#pragma once

#include <QWidget>

class QListWidget;
class QToolButton;

namespace lightbox::ui {

class AnnotationLayer;

/// The measurements dock: the image's measurements and marks, one line each with its value;
/// choosing a line selects it in the viewer, Delete removes it, double-clicking an arrow
/// edits its text. Follows the annotation layer it is given.
class MeasurementsPanel : public QWidget {
    Q_OBJECT
public:
    explicit MeasurementsPanel(AnnotationLayer* layer, QWidget* parent = nullptr);

    /// Follows another layer (the active side of a comparison).
    void setLayer(AnnotationLayer* layer);
    AnnotationLayer* layer() const { return m_layer; }
    QListWidget* list() const { return m_list; }
    /// Asks for an arrow's text (a dialog); tests replace it.
    static QString askText(QWidget* parent, const QString& current);

private:
    void refresh();

    AnnotationLayer* m_layer = nullptr;
    QListWidget* m_list;
    QToolButton* m_delete;
    QToolButton* m_calibrate;
    bool m_syncing = false;
};

} // namespace lightbox::ui
