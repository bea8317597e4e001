#include "MeasurementsPanel.h"

#include "Annotations.h"

#include <QHBoxLayout>
#include <QInputDialog>
#include <QLabel>
#include <QListWidget>
#include <QToolButton>
#include <QUndoStack>
#include <QVBoxLayout>

namespace lightbox::ui {

MeasurementsPanel::MeasurementsPanel(AnnotationLayer* layer, QWidget* parent)
    : QWidget(parent), m_list(new QListWidget), m_delete(new QToolButton), m_calibrate(new QToolButton)
{
    // Tool buttons: the dock stays as narrow as the folder list beside it.
    m_delete->setText(tr("Delete"));
    m_calibrate->setText(tr("Calibrate…"));
    m_calibrate->setToolTip(tr("Give the selected ruler's true length (an object of known size): lengths in this "
                               "image are then measured in mm from it"));
    auto* hint = new QLabel(tr("Ruler D, angle G, Cobb B, rectangle Q, ellipse E, arrow T; select and move L. "
                               "Delete removes, Ctrl+Z undoes."));
    hint->setWordWrap(true);
    hint->setStyleSheet(QStringLiteral("color: palette(mid);"));
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_calibrate);
    buttons->addStretch();
    buttons->addWidget(m_delete);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_list, 1);
    layout->addLayout(buttons);
    layout->addWidget(hint);

    setLayer(layer);
    connect(m_list, &QListWidget::currentRowChanged, this, [this](int row) {
        if (!m_syncing)
            m_layer->select(row);
        m_delete->setEnabled(row >= 0);
    });
    connect(m_delete, &QToolButton::clicked, this, [this] { m_layer->remove(m_layer->selected()); });
    connect(m_calibrate, &QToolButton::clicked, this, [this] {
        bool ok = false;
        const double mm = QInputDialog::getDouble(this, tr("Calibrate"),
                                                  tr("True length of the selected ruler in mm (0 goes back to the "
                                                     "file's pixel spacing):"),
                                                  10.0, 0.0, 10000.0, 2, &ok);
        if (ok)
            m_layer->calibrate(m_layer->selected(), mm);
    });
    connect(m_list, &QListWidget::itemDoubleClicked, this, [this](QListWidgetItem* item) {
        const int row = m_list->row(item);
        if (row < 0 || row >= m_layer->annotations().size() ||
            m_layer->annotations()[row].kind != Annotation::Kind::Arrow)
            return;
        const QString text = askText(this, m_layer->annotations()[row].text);
        if (!text.isNull())
            m_layer->setText(row, text);
    });
}

void MeasurementsPanel::setLayer(AnnotationLayer* layer)
{
    if (layer == m_layer)
        return;
    if (m_layer)
        disconnect(m_layer, nullptr, this, nullptr);
    m_layer = layer;
    connect(m_layer, &AnnotationLayer::changed, this, &MeasurementsPanel::refresh);
    connect(m_layer, &AnnotationLayer::selectionChanged, this, [this](int index) {
        m_syncing = true;
        m_list->setCurrentRow(index);
        m_syncing = false;
        m_delete->setEnabled(index >= 0);
    });
    refresh();
}

QString MeasurementsPanel::askText(QWidget* parent, const QString& current)
{
    bool ok = false;
    const QString text =
        QInputDialog::getText(parent, tr("Arrow text"), tr("Text beside the arrow:"), QLineEdit::Normal, current, &ok);
    return ok ? text : QString();
}

void MeasurementsPanel::refresh()
{
    m_syncing = true;
    const int count = static_cast<int>(m_layer->annotations().size());
    while (m_list->count() > count)
        delete m_list->takeItem(m_list->count() - 1);
    for (int i = 0; i < count; ++i) {
        const QString text = m_layer->summary(i);
        if (i < m_list->count())
            m_list->item(i)->setText(text);
        else
            m_list->addItem(text);
    }
    m_list->setCurrentRow(m_layer->selected());
    m_delete->setEnabled(m_layer->selected() >= 0);
    const int sel = m_layer->selected();
    m_calibrate->setEnabled(sel >= 0 && m_layer->annotations()[sel].kind == Annotation::Kind::Ruler);
    m_syncing = false;
}

} // namespace lightbox::ui
