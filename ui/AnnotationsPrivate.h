#pragma once
// What the files of the annotation layer share (Annotations.cpp: the annotations, their
// storage, edits and labels; AnnotationsDrawing.cpp: hit tests, drawing with the mouse and
// painting); private to them.

#include "Annotations.h"

#include <QUndoCommand>
#include <QVector>

namespace lightbox::ui {

/// One undoable step: the whole list before and after it (lists are small).
class AnnotationCommand : public QUndoCommand {
public:
    AnnotationCommand(AnnotationLayer* layer, QVector<Annotation> before, QVector<Annotation> after,
                      const QString& text)
        : QUndoCommand(text), m_layer(layer), m_before(std::move(before)), m_after(std::move(after))
    {
    }
    void redo() override { m_layer->apply(m_after); }
    void undo() override { m_layer->apply(m_before); }

private:
    AnnotationLayer* m_layer;
    QVector<Annotation> m_before, m_after;
};

} // namespace lightbox::ui
