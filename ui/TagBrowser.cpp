#include "TagBrowser.h"

#include <QHeaderView>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QStandardItemModel>
#include <QTreeView>
#include <QVBoxLayout>

#include <vector>

namespace lightbox::ui {

TagBrowser::TagBrowser(QWidget* parent) : QWidget(parent)
{
    m_search = new QLineEdit;
    m_search->setPlaceholderText(tr("Search tags (name, number or value)"));
    m_search->setClearButtonEnabled(true);
    m_model = new QStandardItemModel(this);
    m_model->setHorizontalHeaderLabels({tr("Tag"), tr("Name"), tr("VR"), tr("Value")});
    m_proxy = new QSortFilterProxyModel(this);
    m_proxy->setSourceModel(m_model);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_proxy->setFilterKeyColumn(-1);
    m_proxy->setRecursiveFilteringEnabled(true);
    m_view = new QTreeView;
    m_view->setModel(m_proxy);
    m_view->setUniformRowHeights(true);
    m_view->setAlternatingRowColors(true);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->header()->setStretchLastSection(true);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    layout->addWidget(m_search);
    layout->addWidget(m_view);
    connect(m_search, &QLineEdit::textChanged, this, [this](const QString& t) {
        m_proxy->setFilterFixedString(t);
        if (!t.isEmpty())
            m_view->expandAll();
    });
}

void TagBrowser::setImage(const imaging::Image& image)
{
    m_model->removeRows(0, m_model->rowCount());
    std::vector<QStandardItem*> parents; // parents[d]: the last SQ row at depth d
    for (const imaging::TagEntry& e : image.tags) {
        QList<QStandardItem*> row = {
            new QStandardItem(QString::fromStdString(e.tagString())), new QStandardItem(QString::fromStdString(e.name)),
            new QStandardItem(QString::fromStdString(e.vr)), new QStandardItem(QString::fromStdString(e.value))};
        const auto depth = static_cast<std::size_t>(std::max(0, e.depth));
        QStandardItem* parent = depth > 0 && depth <= parents.size() ? parents[depth - 1] : nullptr;
        if (parent)
            parent->appendRow(row);
        else
            m_model->appendRow(row);
        if (e.vr == "SQ") {
            parents.resize(depth + 1);
            parents[depth] = row.front();
        }
    }
    m_view->resizeColumnToContents(0);
    m_view->resizeColumnToContents(2);
    m_view->setColumnWidth(1, 125);
    if (!m_search->text().isEmpty())
        m_view->expandAll();
}

void TagBrowser::setFilter(const QString& text)
{
    m_search->setText(text);
}

int TagBrowser::visibleTopLevelRows() const
{
    return m_proxy->rowCount();
}

} // namespace lightbox::ui
