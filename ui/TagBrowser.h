#pragma once

#include <imaging/Image.h>

#include <QWidget>

class QLineEdit;
class QSortFilterProxyModel;
class QStandardItemModel;
class QTreeView;

namespace lightbox::ui {

/// The DICOM tag tree of the current image (imaging::Image::tags, loaded with
/// LoadOptions::tags): tag, name, VR and value, sequences as expandable rows, with a search
/// box that filters on any column (case-insensitive, keeping the parents of matches).
/// Shows nothing for plain raster images, which have no tags. Read-only.
class TagBrowser : public QWidget {
    Q_OBJECT
public:
    explicit TagBrowser(QWidget* parent = nullptr);

    /// Replaces the tree with `image`'s tags (an empty tree for an image without any).
    void setImage(const imaging::Image& image);
    /// Filters the rows; an empty string shows every tag.
    void setFilter(const QString& text);
    /// Rows visible at the top level after filtering (for tests).
    int visibleTopLevelRows() const;

private:
    QLineEdit* m_search = nullptr;
    QTreeView* m_view = nullptr;
    QStandardItemModel* m_model = nullptr;
    QSortFilterProxyModel* m_proxy = nullptr;
};

} // namespace lightbox::ui
