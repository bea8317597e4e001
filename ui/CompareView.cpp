#include "CompareView.h"

#include "BackgroundPool.h"
#include "ImageViewer.h"

#include <imaging/ImageLoader.h>

#include <QComboBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFocusEvent>
#include <QFrame>
#include <QHBoxLayout>
#include <QLabel>
#include <QMimeData>
#include <QSplitter>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrent>

#include <algorithm>

namespace lightbox::ui {
namespace {

imaging::LoadOptions loadOptions()
{
    imaging::LoadOptions o;
    o.tags = true;
    return o;
}

QString firstLocalFile(const QMimeData* mime)
{
    if (!mime || !mime->hasUrls())
        return {};
    for (const QUrl& u : mime->urls())
        if (u.isLocalFile())
            return u.toLocalFile();
    return {};
}

QToolButton* toolButton(const QString& text, const QString& tip, bool checkable = false)
{
    auto* b = new QToolButton;
    b->setText(text);
    b->setToolTip(tip);
    b->setCheckable(checkable);
    b->setAutoRaise(true);
    return b;
}

} // namespace

CompareView::CompareView(ImageViewer* primary, QWidget* parent) : QWidget(parent)
{
    m_viewers[0] = primary;
    m_viewers[1] = new ImageViewer;
    m_viewers[1]->setObjectName(QStringLiteral("compareViewer"));
    m_viewers[1]->setAcceptDrops(true);

    // Headers: the main image's name, and the second image's chooser with the link.
    m_primaryName = new QLabel;
    m_primaryName->setTextFormat(Qt::PlainText);
    m_mirror[0] = toolButton(tr("Mirror"), tr("Flip this side left-right (to lay a left knee over a right one)"), true);
    m_mirror[1] = toolButton(tr("Mirror"), m_mirror[0]->toolTip(), true);
    m_chooser = new QComboBox;
    m_chooser->setObjectName(QStringLiteral("compareChooser"));
    m_chooser->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_chooser->setMinimumContentsLength(8);
    m_chooser->setToolTip(tr("The image to compare with: another image of the folder"));
    QToolButton* open = toolButton(tr("Open…"), tr("Compare with any image or DICOM file"));
    m_link = toolButton(tr("Linked"),
                        tr("Zoom, pan and window/level follow the other side; untick to move each side "
                           "alone"),
                        true);
    m_link->setChecked(true);
    QToolButton* close = toolButton(tr("Close"), tr("Back to one image"));
    m_errorLabel = new QLabel;
    m_errorLabel->setTextFormat(Qt::PlainText);
    m_errorLabel->setWordWrap(true);
    m_errorLabel->setStyleSheet(QStringLiteral("color: #d9534f;"));
    m_errorLabel->hide();

    m_splitter = new QSplitter(Qt::Horizontal);
    m_splitter->setChildrenCollapsible(false);
    for (int side = 0; side < 2; ++side) {
        m_frames[side] = new QFrame;
        m_frames[side]->setObjectName(QStringLiteral("comparePane"));
        m_headers[side] = new QWidget;
        auto* h = new QHBoxLayout(m_headers[side]);
        h->setContentsMargins(4, 0, 4, 0);
        if (side == 0) {
            h->addWidget(m_primaryName, 1);
            h->addWidget(m_mirror[0]);
        } else {
            h->addWidget(m_chooser, 1);
            h->addWidget(open);
            h->addWidget(m_mirror[1]);
            h->addWidget(m_link);
            h->addWidget(close);
        }
        auto* v = new QVBoxLayout(m_frames[side]);
        v->setContentsMargins(0, 0, 0, 0);
        v->setSpacing(0);
        v->addWidget(m_headers[side]);
        if (side == 1)
            v->addWidget(m_errorLabel);
        v->addWidget(m_viewers[side], 1);
        m_splitter->addWidget(m_frames[side]);
        m_viewers[side]->installEventFilter(this);

        // clicked, not toggled: the button also follows View > Flip Horizontal.
        connect(m_mirror[side], &QToolButton::clicked, this, [this, side] { mirror(m_viewers[side]); });
        connect(m_viewers[side], &ImageViewer::viewChanged, this, [this, side] {
            syncView(side);
            updateMirrorButtons();
        });
        connect(m_viewers[side], &ImageViewer::windowChanged, this, [this, side] { syncWindow(side); });
        connect(m_viewers[side], &ImageViewer::imageSet, this, [this, side] { imageSet(side); });
        m_current[side] = m_viewers[side]->image().get();
    }
    m_splitter->setStretchFactor(0, 1);
    m_splitter->setStretchFactor(1, 1);
    m_headers[0]->setFixedHeight(m_headers[1]->sizeHint().height()); // both images start at the same height
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_splitter);

    connect(open, &QToolButton::clicked, this, &CompareView::openFileDialog);
    connect(close, &QToolButton::clicked, this, [this] { setComparing(false); });
    connect(m_link, &QToolButton::toggled, this, &CompareView::setLinked);
    connect(m_chooser, &QComboBox::activated, this, [this](int index) {
        const QString path = m_chooser->itemData(index).toString();
        if (!path.isEmpty() && path != m_secondaryPath)
            openSecondary(path);
    });

    m_frames[1]->hide();
    m_headers[0]->hide();
    updateFrames();
}

CompareView::~CompareView() = default;

ImageViewer* CompareView::active() const
{
    return m_viewers[m_comparing ? m_active : 0];
}

int CompareView::sideOf(const QObject* o) const
{
    return o == m_viewers[0] ? 0 : o == m_viewers[1] ? 1 : -1;
}

void CompareView::setActive(ImageViewer* viewer)
{
    const int side = sideOf(viewer);
    if (side < 0 || (side == 1 && !m_comparing) || side == m_active)
        return;
    m_active = side;
    updateFrames();
    if (!viewer->hasFocus() && window()->isActiveWindow())
        viewer->setFocus(Qt::OtherFocusReason); // keys (arrows, Delete) go to the side worked in
    emit activeChanged(viewer);
}

void CompareView::setComparing(bool on)
{
    if (on == m_comparing)
        return;
    m_comparing = on;
    m_frames[1]->setVisible(on);
    m_headers[0]->setVisible(on);
    if (on) { // two equal halves, once the second one is laid out
        const auto halves = [this] {
            const int half = std::max(1, (m_splitter->width() - m_splitter->handleWidth()) / 2);
            m_splitter->setSizes({half, half});
        };
        halves();
        QTimer::singleShot(0, this, halves);
    }
    if (!on && m_active != 0) {
        m_active = 0;
        emit activeChanged(m_viewers[0]);
    }
    updateFrames();
    updateHeaders();
    emit comparingChanged(on);
    if (on && !m_viewers[1]->hasImage() && m_secondaryPath.isEmpty()) {
        // The folder's next image (or the one before the last): a prior, or the other side.
        const int i = static_cast<int>(m_files.indexOf(m_primaryPath));
        const int pick = i < 0 ? -1 : i + 1 < m_files.size() ? i + 1 : i - 1;
        if (pick >= 0)
            openSecondary(m_files[pick]);
        else {
            m_errorLabel->setText(tr("Choose an image to compare with: Open…, or drop a file here."));
            m_errorLabel->setStyleSheet(QString());
            m_errorLabel->show();
        }
    }
}

void CompareView::setLinked(bool on)
{
    if (on == m_linked)
        return;
    m_linked = on;
    m_link->setChecked(on);
    if (on && m_comparing) {
        // Linking again lines the second side up with the active one.
        syncView(m_active);
        syncWindow(m_active);
    }
    emit linkedChanged(on);
}

void CompareView::mirror(ImageViewer* viewer)
{
    if (sideOf(viewer) < 0 || !viewer->hasImage())
        return;
    m_syncing = true; // a mirror is one side's own: the other does not follow
    viewer->flipHorizontal();
    m_syncing = false;
    updateMirrorButtons();
}

bool CompareView::openSecondary(const QString& path)
{
    const quint64 generation = ++m_generation;
    if (!m_comparing)
        setComparing(true);
    if (m_synchronous) {
        Result<imaging::Image> result = imaging::loadImage(path.toStdString(), loadOptions());
        const bool ok = static_cast<bool>(result);
        applyLoaded(path, result);
        return ok;
    }
    auto* watcher = new QFutureWatcher<LoadResult>(this);
    connect(watcher, &QFutureWatcher<LoadResult>::finished, this, [this, watcher, path, generation] {
        watcher->deleteLater();
        if (generation == m_generation)
            applyLoaded(path, *watcher->result());
    });
    m_errorLabel->hide();
    emit message(tr("Loading %1 to compare…").arg(QFileInfo(path).fileName()));
    const std::string file = path.toStdString();
    watcher->setFuture(QtConcurrent::run(backgroundPool(), [file] {
        return std::make_shared<Result<imaging::Image>>(imaging::loadImage(file, loadOptions()));
    }));
    return true;
}

void CompareView::applyLoaded(const QString& path, Result<imaging::Image>& result)
{
    const QFileInfo info(path);
    if (!result) {
        m_error = QString::fromStdString(result.error());
        m_errorLabel->setText(tr("Cannot open %1: %2").arg(info.fileName(), m_error));
        m_errorLabel->setStyleSheet(QStringLiteral("color: #d9534f;"));
        m_errorLabel->show();
        emit message(m_errorLabel->text());
        updateChooser(); // back to the image shown
        return;
    }
    m_error.clear();
    m_errorLabel->hide();
    m_secondaryPath = info.absoluteFilePath();
    m_viewers[1]->setImage(std::make_shared<const imaging::Image>(std::move(result).value()));
    updateChooser();
    emit message(tr("Comparing with %1").arg(info.fileName()));
    emit secondaryImageChanged();
}

void CompareView::openFileDialog()
{
    if (!m_interactive)
        return;
    const QString dir = !m_secondaryPath.isEmpty() ? QFileInfo(m_secondaryPath).absolutePath()
                                                   : QFileInfo(m_primaryPath).absolutePath();
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Compare with"), dir,
        tr("Images (*.dcm *.DCM *.dicom *.png *.jpg *.jpeg *.tif *.tiff *.bmp);;All files (*)"));
    if (!path.isEmpty())
        openSecondary(path);
}

void CompareView::setFolderFiles(const QStringList& files)
{
    m_files = files;
    updateChooser();
}

void CompareView::setPrimaryPath(const QString& path)
{
    m_primaryPath = path;
    updateHeaders();
}

void CompareView::imageSet(int side)
{
    ImageViewer* viewer = m_viewers[side];
    m_current[side] = viewer->image().get();
    ImageViewer* other = m_viewers[1 - side];
    if (m_comparing && m_linked && viewer->hasImage() && other->hasImage()) {
        // A new image on this side takes the other side's view rather than resetting it;
        // it keeps its own window, as two images need not share their value ranges.
        m_syncing = true;
        viewer->setLinkedView(other->linkedView());
        m_syncing = false;
    }
    updateHeaders();
}

bool CompareView::shouldSync(int from) const
{
    const ImageViewer* source = m_viewers[from];
    return !m_syncing && m_comparing && m_linked && source->hasImage() && m_viewers[1 - from]->hasImage() &&
           m_current[from] == source->image().get();
}

void CompareView::syncView(int from)
{
    if (!shouldSync(from))
        return;
    ImageViewer* other = m_viewers[1 - from];
    const ImageViewer::LinkedView view = m_viewers[from]->linkedView();
    if (other->linkedView() == view)
        return;
    m_syncing = true;
    other->setLinkedView(view);
    m_syncing = false;
}

void CompareView::syncWindow(int from)
{
    if (!shouldSync(from))
        return;
    ImageViewer* source = m_viewers[from];
    ImageViewer* other = m_viewers[1 - from];
    m_syncing = true;
    if (!source->usingVoiLut())
        other->setWindow(source->window());
    other->setInverted(source->inverted());
    m_syncing = false;
}

void CompareView::updateFrames()
{
    for (int side = 0; side < 2; ++side) {
        const bool outlined = m_comparing && side == m_active;
        m_frames[side]->setStyleSheet(
            !m_comparing ? QString()
            : outlined   ? QStringLiteral("QFrame#comparePane { border: 2px solid palette(highlight); }")
                         : QStringLiteral("QFrame#comparePane { border: 2px solid transparent; }"));
    }
}

void CompareView::updateHeaders()
{
    m_primaryName->setText(m_primaryPath.isEmpty() ? tr("(no image)") : QFileInfo(m_primaryPath).fileName());
    updateMirrorButtons();
}

void CompareView::updateChooser()
{
    // Rebuilt only when the folder or the second image changes: a folder can hold thousands.
    const auto nameOf = [](const QString& path) { return QFileInfo(path).fileName(); };
    m_chooser->clear();
    for (const QString& f : m_files)
        m_chooser->addItem(nameOf(f), f);
    int current = static_cast<int>(m_files.indexOf(m_secondaryPath));
    if (current < 0 && !m_secondaryPath.isEmpty()) {
        m_chooser->insertItem(0, nameOf(m_secondaryPath), m_secondaryPath);
        m_chooser->setItemData(0, m_secondaryPath, Qt::ToolTipRole);
        current = 0;
    }
    m_chooser->setCurrentIndex(current);
}

void CompareView::updateMirrorButtons()
{
    for (int side = 0; side < 2; ++side) {
        m_mirror[side]->setEnabled(m_viewers[side]->hasImage());
        m_mirror[side]->setChecked(m_viewers[side]->flippedHorizontally());
    }
}

bool CompareView::eventFilter(QObject* watched, QEvent* event)
{
    const int side = sideOf(watched);
    if (side >= 0) {
        switch (event->type()) {
        case QEvent::MouseButtonPress:
        case QEvent::Wheel: setActive(m_viewers[side]); break;
        case QEvent::FocusIn: {
            // Tabbing in moves the work there; the window regaining focus does not.
            const Qt::FocusReason why = static_cast<QFocusEvent*>(event)->reason();
            if (why == Qt::TabFocusReason || why == Qt::BacktabFocusReason)
                setActive(m_viewers[side]);
            break;
        }
        case QEvent::DragEnter:
            if (side == 1 && !firstLocalFile(static_cast<QDragEnterEvent*>(event)->mimeData()).isEmpty()) {
                static_cast<QDragEnterEvent*>(event)->acceptProposedAction();
                return true;
            }
            break;
        case QEvent::Drop:
            if (side == 1) {
                const QString path = firstLocalFile(static_cast<QDropEvent*>(event)->mimeData());
                if (!path.isEmpty()) {
                    static_cast<QDropEvent*>(event)->acceptProposedAction();
                    openSecondary(path);
                    return true;
                }
            }
            break;
        default: break;
        }
    }
    return QWidget::eventFilter(watched, event);
}

} // namespace lightbox::ui
