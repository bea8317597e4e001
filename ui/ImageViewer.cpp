#include "ImageViewer.h"

#include "Annotations.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QPolygonF>
#include <QWheelEvent>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace lightbox::ui {
namespace {

constexpr double kMinZoom = 0.01;
constexpr double kMaxZoom = 64.0;
constexpr double kHandleRadius = 7.0;
constexpr int kMaxLevels = 8;

QString formatDate(const std::string& dicomDate)
{
    const QString d = QString::fromStdString(dicomDate).trimmed();
    if (d.size() == 8 && d.toInt() > 0)
        return d.left(4) + QLatin1Char('-') + d.mid(4, 2) + QLatin1Char('-') + d.mid(6, 2);
    return d;
}

QString tag(const imaging::Image& img, const char* keyword)
{
    return QString::fromStdString(img.keyTag(keyword)).trimmed();
}

int sign(int v)
{
    return v < 0 ? -1 : 1;
}

int cvColormap(ImageViewer::Colormap map)
{
    switch (map) {
    case ImageViewer::Colormap::Jet: return cv::COLORMAP_JET;
    case ImageViewer::Colormap::Inferno: return cv::COLORMAP_INFERNO;
    case ImageViewer::Colormap::Turbo: break;
    }
    return cv::COLORMAP_TURBO;
}

/// 8-bit values through an OpenCV colormap, as an RGB QImage.
QImage colourise(const cv::Mat& values8, ImageViewer::Colormap map)
{
    cv::Mat bgr;
    cv::applyColorMap(values8, bgr, cvColormap(map));
    return QImage(bgr.data, bgr.cols, bgr.rows, static_cast<qsizetype>(bgr.step), QImage::Format_BGR888)
        .convertToFormat(QImage::Format_RGB32);
}

} // namespace

ImageViewer::ImageViewer(QWidget* parent) : QWidget(parent)
{
    setAttribute(Qt::WA_OpaquePaintEvent);
    setMouseTracking(true);
    setFocusPolicy(Qt::StrongFocus);
    setMinimumSize(200, 200);
    setCursor(Qt::CrossCursor);
    m_annotations = new AnnotationLayer(this);
    connect(m_annotations, &AnnotationLayer::changed, this, qOverload<>(&QWidget::update));
}

void ImageViewer::setAnnotationsVisible(bool on)
{
    m_annotationsVisible = on;
    update();
}

namespace {

std::optional<AnnotationLayer::Mode> annotationMode(ImageViewer::Tool tool)
{
    using T = ImageViewer::Tool;
    using M = AnnotationLayer::Mode;
    switch (tool) {
    case T::Ruler: return M::Ruler;
    case T::Angle: return M::Angle;
    case T::Cobb: return M::Cobb;
    case T::Rectangle: return M::Rectangle;
    case T::Ellipse: return M::Ellipse;
    case T::Arrow: return M::Arrow;
    case T::Select: return M::Select;
    default: return std::nullopt;
    }
}

} // namespace

ImageViewer::~ImageViewer() = default;

void ImageViewer::setImage(std::shared_ptr<const imaging::Image> image)
{
    m_image = std::move(image);
    m_levels.clear();
    m_levelImage = {};
    m_rendered.release();
    m_params = {};
    if (hasImage()) {
        m_params.window = m_image->defaultWindow();
        if (!m_params.window.valid())
            m_params.window = imaging::computeAutoWindow(*m_image);
        m_params.useVoiLut = m_image->fileWindows.empty() && m_image->voiLut.valid();
    }
    invalidateLut();
    m_rotation = 0;
    m_flipH = m_flipV = false;
    m_fit = true;
    m_zoom = fitZoom(size());
    m_pan = {};
    m_drag = Drag::None;
    if (m_roi && (!hasImage() || !QRect(0, 0, m_image->width(), m_image->height()).contains(*m_roi)))
        setRoiInternal(std::nullopt);
    clearHeatMap(); // it explained the previous image
    m_annotations->setImage(m_image);
    update();
    emit windowChanged(m_params.window);
    emit viewChanged();
    emit imageSet();
}

// ---------------------------------------------------------------------------------------
// View

QTransform ImageViewer::transformFor(QSize size) const
{
    QTransform t;
    if (!hasImage())
        return t;
    t.translate(size.width() / 2.0 + m_pan.x(), size.height() / 2.0 + m_pan.y());
    t.scale(m_flipH ? -1.0 : 1.0, m_flipV ? -1.0 : 1.0);
    t.rotate(90.0 * m_rotation);
    t.scale(m_zoom, m_zoom);
    t.translate(-m_image->width() / 2.0, -m_image->height() / 2.0);
    return t;
}

QTransform ImageViewer::imageToWidget() const
{
    return transformFor(size());
}

QPointF ImageViewer::widgetToImage(QPointF widgetPoint) const
{
    return imageToWidget().inverted().map(widgetPoint);
}

double ImageViewer::fitZoom(QSize size) const
{
    if (!hasImage())
        return 1.0;
    const bool quarter = m_rotation % 2 == 1;
    const double w = quarter ? m_image->height() : m_image->width();
    const double h = quarter ? m_image->width() : m_image->height();
    return std::clamp(std::min(size.width() / w, size.height() / h), kMinZoom, kMaxZoom);
}

void ImageViewer::fitToWindow()
{
    m_fit = true;
    m_zoom = fitZoom(size());
    m_pan = {};
    update();
    emit viewChanged();
}

void ImageViewer::actualSize()
{
    m_fit = false;
    m_zoom = 1.0;
    m_pan = {};
    update();
    emit viewChanged();
}

void ImageViewer::setZoom(double zoom, std::optional<QPointF> anchor)
{
    if (!hasImage())
        return;
    const QPointF a = anchor.value_or(QPointF(width() / 2.0, height() / 2.0));
    const QPointF fixed = widgetToImage(a);
    m_zoom = std::clamp(zoom, kMinZoom, kMaxZoom);
    m_fit = false;
    m_pan += a - imageToWidget().map(fixed);
    update();
    emit viewChanged();
}

void ImageViewer::setPan(QPointF pan)
{
    m_pan = pan;
    m_fit = false;
    update();
    emit viewChanged();
}

ImageViewer::LinkedView ImageViewer::linkedView() const
{
    LinkedView v;
    v.fit = m_fit;
    if (!hasImage())
        return v;
    v.zoomToFit = m_zoom / fitZoom(size());
    const bool quarter = m_rotation % 2 == 1;
    const double w = m_zoom * (quarter ? m_image->height() : m_image->width());
    const double h = m_zoom * (quarter ? m_image->width() : m_image->height());
    v.pan = QPointF(m_pan.x() / w, m_pan.y() / h);
    return v;
}

void ImageViewer::setLinkedView(const LinkedView& view)
{
    if (!hasImage())
        return;
    if (view.fit) {
        fitToWindow();
        return;
    }
    m_fit = false;
    m_zoom = std::clamp(view.zoomToFit * fitZoom(size()), kMinZoom, kMaxZoom);
    const bool quarter = m_rotation % 2 == 1;
    const double w = m_zoom * (quarter ? m_image->height() : m_image->width());
    const double h = m_zoom * (quarter ? m_image->width() : m_image->height());
    m_pan = QPointF(view.pan.x() * w, view.pan.y() * h);
    update();
    emit viewChanged();
}

void ImageViewer::rotate(int quarterTurns)
{
    m_rotation = ((m_rotation + quarterTurns) % 4 + 4) % 4;
    if (m_fit)
        m_zoom = fitZoom(size());
    update();
    emit viewChanged();
}

void ImageViewer::flipHorizontal()
{
    m_flipH = !m_flipH;
    update();
    emit viewChanged();
}

void ImageViewer::flipVertical()
{
    m_flipV = !m_flipV;
    update();
    emit viewChanged();
}

void ImageViewer::resetView()
{
    m_rotation = 0;
    m_flipH = m_flipV = false;
    if (hasImage()) {
        m_params.invert = false;
        m_params.window = m_image->defaultWindow();
        if (!m_params.window.valid())
            m_params.window = imaging::computeAutoWindow(*m_image);
        m_params.useVoiLut = m_image->fileWindows.empty() && m_image->voiLut.valid();
        invalidateLut();
        emit windowChanged(m_params.window);
    }
    fitToWindow();
}

void ImageViewer::resizeEvent(QResizeEvent*)
{
    if (m_fit) {
        m_zoom = fitZoom(size());
        m_pan = {};
        emit viewChanged();
    }
}

// ---------------------------------------------------------------------------------------
// Window / level

void ImageViewer::invalidateLut()
{
    m_lut.reset();
}

void ImageViewer::setWindow(const imaging::Window& window)
{
    if (!window.valid())
        return;
    m_params.window = window;
    m_params.useVoiLut = false;
    invalidateLut();
    update();
    emit windowChanged(m_params.window);
}

void ImageViewer::useVoiLut()
{
    if (!hasImage() || !m_image->voiLut.valid())
        return;
    m_params.useVoiLut = true;
    invalidateLut();
    update();
    emit windowChanged(m_params.window);
}

void ImageViewer::setAutoWindow()
{
    if (!hasImage())
        return;
    imaging::Window w = m_image->autoWindow.valid() ? m_image->autoWindow : imaging::computeAutoWindow(*m_image);
    setWindow(w);
}

void ImageViewer::setInverted(bool on)
{
    if (m_params.invert == on)
        return;
    m_params.invert = on;
    invalidateLut();
    update();
    emit windowChanged(m_params.window);
}

// ---------------------------------------------------------------------------------------
// Tools, overlay, ROI

void ImageViewer::setTool(Tool tool)
{
    if (m_tool != tool)
        m_annotations->cancelDrawing();
    m_tool = tool;
    setCursor(tool == Tool::Pan      ? Qt::OpenHandCursor
              : tool == Tool::Window ? Qt::SizeAllCursor
              : tool == Tool::Select ? Qt::ArrowCursor
                                     : Qt::CrossCursor);
}

void ImageViewer::setOverlayVisible(bool on)
{
    m_overlayVisible = on;
    update();
}

void ImageViewer::setOverlayExtra(const QStringList& lines)
{
    m_overlayExtra = lines;
    update();
}

// ---------------------------------------------------------------------------------------
// Heat map

void ImageViewer::setHeatMap(const cv::Mat& values, const QRect& rect, const QString& title)
{
    if (values.empty() || rect.isEmpty() || values.channels() != 1) {
        clearHeatMap();
        return;
    }
    values.convertTo(m_heatValues, CV_32F);
    cv::min(cv::max(m_heatValues, 0.0), 1.0, m_heatValues);
    cv::Mat v8;
    m_heatValues.convertTo(v8, CV_8U, 255.0);
    m_heatImage = colourise(v8, m_colormap);
    m_heatRect = rect;
    m_heatTitle = title;
    update();
    emit heatMapChanged();
}

void ImageViewer::clearHeatMap()
{
    if (m_heatValues.empty())
        return;
    m_heatValues.release();
    m_heatImage = {};
    m_heatRect = {};
    m_heatTitle.clear();
    update();
    emit heatMapChanged();
}

void ImageViewer::setHeatMapVisible(bool on)
{
    if (m_heatVisible == on)
        return;
    m_heatVisible = on;
    update();
    emit heatMapChanged();
}

void ImageViewer::setHeatMapOpacity(double opacity)
{
    opacity = std::clamp(opacity, 0.0, 1.0);
    if (opacity == m_heatOpacity)
        return;
    m_heatOpacity = opacity;
    update();
    emit heatMapChanged();
}

void ImageViewer::setHeatMapColormap(Colormap map)
{
    if (map == m_colormap)
        return;
    m_colormap = map;
    if (hasHeatMap()) {
        cv::Mat v8;
        m_heatValues.convertTo(v8, CV_8U, 255.0);
        m_heatImage = colourise(v8, m_colormap);
    }
    update();
    emit heatMapChanged();
}

QColor ImageViewer::colormapColor(Colormap map, double value)
{
    cv::Mat one(1, 1, CV_8UC1, cv::Scalar(std::clamp(static_cast<int>(std::lround(value * 255.0)), 0, 255)));
    return QColor(colourise(one, map).pixel(0, 0));
}

void ImageViewer::setSquareCrop(bool on)
{
    m_square = on;
    if (on && m_roi) {
        const int side = std::min(m_roi->width(), m_roi->height());
        const QPoint c = m_roi->center();
        setRoiInternal(clampRoi(QRect(c.x() - side / 2, c.y() - side / 2, side, side)));
    }
}

QRect ImageViewer::clampRoi(QRect r) const
{
    if (!hasImage())
        return r;
    const int w = m_image->width(), h = m_image->height();
    r.setWidth(std::min(r.width(), w));
    r.setHeight(std::min(r.height(), h));
    r.moveLeft(std::clamp(r.left(), 0, w - r.width()));
    r.moveTop(std::clamp(r.top(), 0, h - r.height()));
    return r;
}

void ImageViewer::setRoiInternal(std::optional<QRect> r)
{
    if (r && (r->width() < 1 || r->height() < 1))
        r.reset();
    if (r == m_roi)
        return;
    m_roi = r;
    update();
    emit roiChanged();
}

void ImageViewer::setRoi(const QRect& roi)
{
    if (!hasImage())
        return;
    setRoiInternal(clampRoi(roi.normalized()));
}

void ImageViewer::clearRoi()
{
    setRoiInternal(std::nullopt);
}

void ImageViewer::nudgeRoi(int dx, int dy)
{
    if (m_roi)
        setRoiInternal(clampRoi(m_roi->translated(dx, dy)));
}

std::vector<std::pair<int, QPointF>> ImageViewer::handlePositions() const
{
    std::vector<std::pair<int, QPointF>> out;
    if (!m_roi)
        return out;
    const double l = m_roi->x(), t = m_roi->y(), r = l + m_roi->width(), b = t + m_roi->height();
    const double cx = (l + r) / 2.0, cy = (t + b) / 2.0;
    const QTransform m = imageToWidget();
    out = {{Left | Top, m.map(QPointF(l, t))},     {Top, m.map(QPointF(cx, t))},
           {Right | Top, m.map(QPointF(r, t))},    {Right, m.map(QPointF(r, cy))},
           {Right | Bottom, m.map(QPointF(r, b))}, {Bottom, m.map(QPointF(cx, b))},
           {Left | Bottom, m.map(QPointF(l, b))},  {Left, m.map(QPointF(l, cy))}};
    return out;
}

int ImageViewer::hitRoi(QPointF pos) const
{
    if (!m_roi)
        return 0;
    for (const auto& [edges, p] : handlePositions())
        if (std::abs(p.x() - pos.x()) <= kHandleRadius && std::abs(p.y() - pos.y()) <= kHandleRadius)
            return edges;
    const QPolygonF poly = imageToWidget().map(QPolygonF(QRectF(*m_roi)));
    return poly.containsPoint(pos, Qt::OddEvenFill) ? -1 : 0;
}

void ImageViewer::updateRoiDrag(QPointF ip)
{
    const int W = m_image->width(), H = m_image->height();
    const int px = std::clamp(static_cast<int>(std::lround(ip.x())), 0, W);
    const int py = std::clamp(static_cast<int>(std::lround(ip.y())), 0, H);
    if (m_drag == Drag::NewRoi) {
        const int ax = static_cast<int>(m_anchorImage.x()), ay = static_cast<int>(m_anchorImage.y());
        int dx = px - ax, dy = py - ay;
        if (m_square) {
            int side = std::max(std::abs(dx), std::abs(dy));
            side = std::min({side, dx >= 0 ? W - ax : ax, dy >= 0 ? H - ay : ay});
            dx = sign(dx) * side;
            dy = sign(dy) * side;
        }
        setRoiInternal(QRect(std::min(ax, ax + dx), std::min(ay, ay + dy), std::abs(dx), std::abs(dy)));
    } else if (m_drag == Drag::MoveRoi) {
        const QPointF d = ip - m_anchorImage;
        setRoiInternal(clampRoi(
            m_roiAtPress.translated(static_cast<int>(std::lround(d.x())), static_cast<int>(std::lround(d.y())))));
    } else if (m_drag == Drag::ResizeRoi) {
        int l = m_roiAtPress.x(), t = m_roiAtPress.y();
        int r = l + m_roiAtPress.width(), b = t + m_roiAtPress.height();
        const int e = m_resizeEdges;
        if (e & Left)
            l = std::min(px, r - 1);
        if (e & Right)
            r = std::max(px, l + 1);
        if (e & Top)
            t = std::min(py, b - 1);
        if (e & Bottom)
            b = std::max(py, t + 1);
        if (m_square) {
            const bool horizontal = e & (Left | Right), vertical = e & (Top | Bottom);
            if (horizontal && vertical) {
                // Corner: the larger side wins, the opposite corner stays put.
                int side = std::max(r - l, b - t);
                side = std::min({side, (e & Left) ? r : W - l, (e & Top) ? b : H - t});
                if (e & Left)
                    l = r - side;
                else
                    r = l + side;
                if (e & Top)
                    t = b - side;
                else
                    b = t + side;
            } else {
                // Edge: the other side follows, centred on the rectangle's middle.
                const int side = std::min({horizontal ? r - l : b - t, W, H});
                if (horizontal) {
                    const int cy = (m_roiAtPress.top() * 2 + m_roiAtPress.height()) / 2;
                    t = cy - side / 2;
                    b = t + side;
                    l = (e & Left) ? r - side : l;
                    r = l + side;
                } else {
                    const int cx = (m_roiAtPress.left() * 2 + m_roiAtPress.width()) / 2;
                    l = cx - side / 2;
                    r = l + side;
                    t = (e & Top) ? b - side : t;
                    b = t + side;
                }
            }
        }
        setRoiInternal(clampRoi(QRect(l, t, r - l, b - t)));
    }
}

// ---------------------------------------------------------------------------------------
// Input

void ImageViewer::wheelEvent(QWheelEvent* event)
{
    if (!hasImage())
        return;
    const int delta = event->angleDelta().y() != 0 ? event->angleDelta().y() : event->angleDelta().x();
    if (delta == 0)
        return;
    setZoom(m_zoom * std::pow(1.0015, delta), event->position());
    event->accept();
}

void ImageViewer::mousePressEvent(QMouseEvent* event)
{
    setFocus(Qt::MouseFocusReason);
    if (!hasImage() || m_drag != Drag::None)
        return;
    const QPointF pos = event->position();
    const Qt::MouseButton b = event->button();
    m_pressPos = m_lastPos = pos;
    m_dragButton = b;
    if (b == Qt::MiddleButton || (b == Qt::LeftButton && m_tool == Tool::Pan)) {
        m_drag = Drag::Pan;
        setCursor(Qt::ClosedHandCursor);
    } else if (b == Qt::RightButton || (b == Qt::LeftButton && m_tool == Tool::Window)) {
        m_drag = Drag::Window;
        m_windowAtPress = m_params.window;
    } else if (b == Qt::LeftButton && annotationMode(m_tool)) {
        if (!m_annotations->press(*annotationMode(m_tool), pos, imageToWidget())) {
            m_dragButton = Qt::NoButton;
            return;
        }
        m_drag = Drag::Annotation;
    } else if (b == Qt::LeftButton && m_tool == Tool::Crop) {
        const int hit = hitRoi(pos);
        if (hit > 0) {
            m_drag = Drag::ResizeRoi;
            m_resizeEdges = hit;
            m_roiAtPress = *m_roi;
        } else if (hit < 0) {
            m_drag = Drag::MoveRoi;
            m_anchorImage = widgetToImage(pos);
            m_roiAtPress = *m_roi;
        } else {
            m_drag = Drag::NewRoi;
            const QPointF ip = widgetToImage(pos);
            m_anchorImage = QPointF(std::clamp(std::lround(ip.x()), 0L, long(m_image->width())),
                                    std::clamp(std::lround(ip.y()), 0L, long(m_image->height())));
            setRoiInternal(std::nullopt);
        }
    } else {
        m_dragButton = Qt::NoButton;
        return;
    }
    event->accept();
}

void ImageViewer::mouseMoveEvent(QMouseEvent* event)
{
    const QPointF pos = event->position();
    if (hasImage()) {
        const QPointF ip = widgetToImage(pos);
        const QPoint pixel(static_cast<int>(std::floor(ip.x())), static_cast<int>(std::floor(ip.y())));
        emit cursorMoved(pixel, pixel.x() >= 0 && pixel.y() >= 0 && pixel.x() < m_image->width() &&
                                    pixel.y() < m_image->height());
    }
    switch (m_drag) {
    case Drag::Annotation: m_annotations->move(pos, imageToWidget()); break;
    case Drag::None:
        if (m_annotations->drawing()) // the second arm of an angle follows the pointer
            m_annotations->move(pos, imageToWidget());
        if (m_tool == Tool::Crop && hasImage()) {
            const int hit = hitRoi(pos);
            setCursor(hit > 0 ? Qt::PointingHandCursor : hit < 0 ? Qt::SizeAllCursor : Qt::CrossCursor);
        }
        break;
    case Drag::Pan:
        m_pan += pos - m_lastPos;
        m_fit = false;
        update();
        emit viewChanged();
        break;
    case Drag::Window: {
        // Sensitivity follows the image's dynamic range: ~300 px of drag spans the
        // automatic window.
        const double range = m_image->autoWindow.valid() ? m_image->autoWindow.width : m_windowAtPress.width;
        const double sens = std::max(range / 300.0, 0.01);
        const QPointF d = pos - m_pressPos;
        imaging::Window w;
        w.width = std::max(1.0, m_windowAtPress.width + d.x() * sens);
        w.center = m_windowAtPress.center + d.y() * sens;
        w.explanation = "USER";
        setWindow(w);
        break;
    }
    case Drag::NewRoi:
    case Drag::MoveRoi:
    case Drag::ResizeRoi: updateRoiDrag(widgetToImage(pos)); break;
    }
    m_lastPos = pos;
}

void ImageViewer::mouseReleaseEvent(QMouseEvent* event)
{
    if (event->button() != m_dragButton || m_drag == Drag::None)
        return;
    const QPointF moved = event->position() - m_pressPos;
    if (m_drag == Drag::Annotation)
        m_annotations->release(event->position(), imageToWidget());
    else if (m_drag == Drag::NewRoi && std::abs(moved.x()) < 3 && std::abs(moved.y()) < 3)
        setRoiInternal(std::nullopt); // a click, not a drag
    else if (m_drag != Drag::Pan && m_drag != Drag::Window)
        updateRoiDrag(widgetToImage(event->position()));
    m_drag = Drag::None;
    m_dragButton = Qt::NoButton;
    setTool(m_tool); // restores the tool's cursor
    event->accept();
}

void ImageViewer::keyPressEvent(QKeyEvent* event)
{
    if (m_annotations->key(event->key()))
        return;
    const int step = (event->modifiers() & Qt::ShiftModifier) ? 10 : 1;
    int sx = 0, sy = 0;
    switch (event->key()) {
    case Qt::Key_Left: sx = -1; break;
    case Qt::Key_Right: sx = 1; break;
    case Qt::Key_Up: sy = -1; break;
    case Qt::Key_Down: sy = 1; break;
    case Qt::Key_Escape:
        if (m_roi) {
            clearRoi();
            return;
        }
        QWidget::keyPressEvent(event);
        return;
    case Qt::Key_Plus:
    case Qt::Key_Equal: setZoom(m_zoom * 1.25); return;
    case Qt::Key_Minus: setZoom(m_zoom / 1.25); return;
    default: QWidget::keyPressEvent(event); return;
    }
    if (!m_roi) {
        setPan(m_pan - QPointF(sx, sy) * 20.0 * step);
        return;
    }
    // Arrow keys move the rectangle in screen directions, whatever the rotation or flips.
    const QTransform inv = imageToWidget().inverted();
    const QPointF d = (inv.map(QPointF(sx, sy)) - inv.map(QPointF(0, 0))) * m_zoom;
    nudgeRoi(static_cast<int>(std::lround(d.x())) * step, static_cast<int>(std::lround(d.y())) * step);
}

void ImageViewer::leaveEvent(QEvent*)
{
    emit cursorLeft();
}

// ---------------------------------------------------------------------------------------
// Painting

int ImageViewer::levelFor(double z) const
{
    if (!hasImage())
        return 0;
    const int depth = m_image->pixels.depth();
    if (depth != CV_8U && depth != CV_16U && depth != CV_16S)
        return 0;
    int level = 0;
    while (level < kMaxLevels && z * std::pow(2.0, level + 1) <= 1.0 &&
           std::min(m_image->width(), m_image->height()) >> (level + 1) >= 16)
        ++level;
    return level;
}

const cv::Mat& ImageViewer::levelPixels(int level)
{
    if (m_levels.empty())
        m_levels.push_back(m_image->pixels);
    while (static_cast<int>(m_levels.size()) <= level) {
        const cv::Mat& prev = m_levels.back();
        cv::Mat next;
        cv::resize(prev, next, cv::Size((prev.cols + 1) / 2, (prev.rows + 1) / 2), 0, 0, cv::INTER_AREA);
        m_levels.push_back(next);
    }
    return m_levels[static_cast<std::size_t>(level)];
}

void ImageViewer::paintImage(QPainter& p, QSize size, double devicePixelRatio)
{
    if (!hasImage())
        return;
    const QTransform t = transformFor(size);
    const int W = m_image->width(), H = m_image->height();
    const QRectF visible = t.inverted().mapRect(QRectF(0, 0, size.width(), size.height())) & QRectF(0, 0, W, H);
    if (visible.isEmpty())
        return;
    // On a high-DPI screen a logical pixel holds several device pixels: pick a finer level.
    const int level = levelFor(m_zoom * std::max(1.0, devicePixelRatio));
    const cv::Mat& lv = levelPixels(level);
    const double sx = double(W) / lv.cols, sy = double(H) / lv.rows;
    const int x0 = std::max(0, static_cast<int>(std::floor(visible.left() / sx)) - 1);
    const int y0 = std::max(0, static_cast<int>(std::floor(visible.top() / sy)) - 1);
    const int x1 = std::min(lv.cols, static_cast<int>(std::ceil(visible.right() / sx)) + 1);
    const int y1 = std::min(lv.rows, static_cast<int>(std::ceil(visible.bottom() / sy)) + 1);
    if (x1 <= x0 || y1 <= y0)
        return;
    if (!m_lut)
        m_lut = std::make_unique<imaging::DisplayLut>(*m_image, m_params);
    m_levelImage.pixels = lv;
    const cv::Rect region(x0, y0, x1 - x0, y1 - y0);
    m_lut->apply(m_levelImage, m_rendered, region);
    const QImage view(m_rendered.data, m_rendered.cols, m_rendered.rows, static_cast<qsizetype>(m_rendered.step),
                      m_rendered.channels() == 3 ? QImage::Format_RGB888 : QImage::Format_Grayscale8);
    p.save();
    p.setTransform(t);
    p.setRenderHint(QPainter::SmoothPixmapTransform, m_zoom < 4.0);
    p.drawImage(QRectF(x0 * sx, y0 * sy, region.width * sx, region.height * sy), view);
    p.restore();
}

void ImageViewer::paintRoi(QPainter& p, QSize size)
{
    if (!m_roi || !hasImage())
        return;
    const QTransform t = transformFor(size);
    const QPolygonF poly = t.map(QPolygonF(QRectF(*m_roi)));
    p.save();
    p.setRenderHint(QPainter::Antialiasing, true);
    QPainterPath outside;
    outside.addRect(QRectF(0, 0, size.width(), size.height()));
    QPainterPath inside;
    inside.addPolygon(poly);
    p.fillPath(outside.subtracted(inside), QColor(0, 0, 0, 90));
    p.setPen(QPen(QColor(0, 0, 0, 160), 3.0));
    p.drawPolygon(poly);
    p.setPen(QPen(QColor(255, 214, 0), 1.5));
    p.drawPolygon(poly);
    p.setPen(QPen(Qt::black, 1.0));
    p.setBrush(QColor(255, 214, 0));
    if (size == this->size())
        for (const auto& h : handlePositions())
            p.drawRect(QRectF(h.second - QPointF(3.5, 3.5), QSizeF(7, 7)));
    QString text = QStringLiteral("%1 × %2 px").arg(m_roi->width()).arg(m_roi->height());
    if (m_image->spacingRow > 0 && m_image->spacingCol > 0)
        text += QStringLiteral("  ·  %1 × %2 mm")
                    .arg(m_roi->width() * m_image->spacingCol, 0, 'f', 1)
                    .arg(m_roi->height() * m_image->spacingRow, 0, 'f', 1);
    const QRectF box = poly.boundingRect();
    QFont f = font();
    f.setPixelSize(13);
    p.setFont(f);
    const QPointF at(box.left(), std::max(14.0, box.top() - 6.0));
    p.setPen(Qt::black);
    p.drawText(at + QPointF(1, 1), text);
    p.setPen(QColor(255, 214, 0));
    p.drawText(at, text);
    p.restore();
}

void ImageViewer::paintOverlay(QPainter& p, QSize size)
{
    if (!m_overlayVisible || !hasImage())
        return;
    const imaging::Image& img = *m_image;
    QStringList topLeft, topRight, bottomLeft, bottomRight;
    if (img.format == "DICOM") {
        QString name = tag(img, "PatientName");
        name.replace(QLatin1Char('^'), QLatin1Char(' '));
        topLeft << name.simplified();
        if (const QString id = tag(img, "PatientID"); !id.isEmpty())
            topLeft << tr("ID: %1").arg(id);
        QString born = formatDate(img.keyTag("PatientBirthDate"));
        if (const QString sex = tag(img, "PatientSex"); !sex.isEmpty())
            born = born.isEmpty() ? sex : born + QStringLiteral("  ") + sex;
        if (!born.isEmpty())
            topLeft << tr("Born: %1").arg(born);
        topRight << tag(img, "InstitutionName") << tag(img, "StudyDescription") << tag(img, "SeriesDescription");
        topRight << formatDate(img.keyTag("StudyDate"));
        topRight << QStringList({tag(img, "Modality"), tag(img, "BodyPartExamined"), tag(img, "ViewPosition")})
                        .join(QLatin1Char(' '))
                        .simplified();
    } else {
        topLeft << QString::fromStdString(img.format);
    }
    if (m_params.useVoiLut && img.voiLut.valid())
        bottomLeft << tr("VOI LUT %1").arg(QString::fromStdString(img.voiLut.explanation));
    else
        bottomLeft << tr("W %1  L %2").arg(m_params.window.width, 0, 'f', 0).arg(m_params.window.center, 0, 'f', 0) +
                          (m_params.window.explanation.empty()
                               ? QString()
                               : QStringLiteral("  (%1)").arg(QString::fromStdString(m_params.window.explanation)));
    bottomLeft << tr("Zoom %1%").arg(m_zoom * 100.0, 0, 'f', 0);
    QStringList state;
    if (m_rotation)
        state << tr("Rot %1°").arg(m_rotation * 90);
    if (m_flipH)
        state << tr("Flip H");
    if (m_flipV)
        state << tr("Flip V");
    if (m_params.invert)
        state << tr("Inverted");
    if (!state.isEmpty())
        bottomLeft << state.join(QStringLiteral("  "));
    bottomRight << tr("%1 × %2  %3-bit %4")
                       .arg(img.width())
                       .arg(img.height())
                       .arg(img.bitsStored)
                       .arg(QString::fromLatin1(imaging::toString(img.photometric)));
    if (img.spacingRow > 0)
        bottomRight << tr("%1 mm/px").arg(img.spacingRow, 0, 'f', 3);
    bottomRight << m_overlayExtra;
    topLeft.removeAll(QString());
    topRight.removeAll(QString());

    p.save();
    QFont f = font();
    f.setPixelSize(13);
    p.setFont(f);
    const QFontMetrics fm(f);
    const int lh = fm.height(), margin = 8;
    auto draw = [&](const QStringList& lines, bool right, bool bottom) {
        for (int i = 0; i < lines.size(); ++i) {
            const int row = bottom ? lines.size() - 1 - i : i;
            const int y = bottom ? size.height() - margin - row * lh - fm.descent() : margin + fm.ascent() + i * lh;
            const int w = fm.horizontalAdvance(lines[i]);
            const int x = right ? size.width() - margin - w : margin;
            p.setPen(QColor(0, 0, 0, 200));
            p.drawText(x + 1, y + 1, lines[i]);
            p.setPen(QColor(235, 235, 200));
            p.drawText(x, y, lines[i]);
        }
    };
    draw(topLeft, false, false);
    draw(topRight, true, false);
    draw(bottomLeft, false, true);
    draw(bottomRight, true, true);
    p.restore();
}

void ImageViewer::paintHeatMap(QPainter& p, QSize size)
{
    if (!hasHeatMap() || !m_heatVisible || m_heatOpacity <= 0.0 || !hasImage())
        return;
    p.save();
    p.setTransform(transformFor(size));
    p.setOpacity(m_heatOpacity);
    p.setRenderHint(QPainter::SmoothPixmapTransform, true);
    p.drawImage(QRectF(m_heatRect), m_heatImage);
    p.restore();
}

void ImageViewer::paintColourBar(QPainter& p, QSize size)
{
    if (!hasHeatMap() || !m_heatVisible || !hasImage())
        return;
    const int barW = 14, margin = 10;
    const int barH = std::clamp(size.height() / 3, 60, 240);
    const QRect bar(size.width() - margin - barW, (size.height() - barH) / 2, barW, barH);
    cv::Mat ramp(barH, 1, CV_8UC1);
    for (int i = 0; i < barH; ++i)
        ramp.at<uint8_t>(i) = static_cast<uint8_t>(std::lround(255.0 * (barH - 1 - i) / std::max(1, barH - 1)));
    p.save();
    p.drawImage(bar, colourise(ramp, m_colormap));
    p.setPen(QPen(QColor(0, 0, 0, 200), 1.0));
    p.drawRect(bar.adjusted(-1, -1, 0, 0));
    QFont f = font();
    f.setPixelSize(12);
    p.setFont(f);
    const QFontMetrics fm(f);
    auto label = [&](const QString& text, int x, int y) {
        p.setPen(QColor(0, 0, 0, 200));
        p.drawText(x + 1, y + 1, text);
        p.setPen(QColor(235, 235, 200));
        p.drawText(x, y, text);
    };
    const QString one = QStringLiteral("1"), zero = QStringLiteral("0");
    label(one, bar.left() - 4 - fm.horizontalAdvance(one), bar.top() + fm.ascent() - 2);
    label(zero, bar.left() - 4 - fm.horizontalAdvance(zero), bar.bottom() + 1);
    if (!m_heatTitle.isEmpty()) {
        const QString title = fm.elidedText(m_heatTitle, Qt::ElideRight, std::max(40, size.width() / 2));
        label(title, size.width() - margin - fm.horizontalAdvance(title), bar.top() - fm.descent() - 6);
    }
    p.restore();
}

void ImageViewer::paintAll(QPainter& p, QSize size, double devicePixelRatio)
{
    p.fillRect(QRect(QPoint(0, 0), size), Qt::black);
    paintImage(p, size, devicePixelRatio);
    paintHeatMap(p, size);
    paintRoi(p, size);
    if (m_annotationsVisible)
        m_annotations->paint(p, transformFor(size), 13);
    paintOverlay(p, size);
    paintColourBar(p, size);
}

void ImageViewer::paintEvent(QPaintEvent*)
{
    QPainter p(this);
    if (!hasImage()) {
        p.fillRect(rect(), Qt::black);
        p.setPen(QColor(150, 150, 150));
        p.drawText(rect(), Qt::AlignCenter,
                   tr("Open an X-ray or DICOM file (Ctrl+O), a folder (Ctrl+Shift+O), or drop one here"));
        return;
    }
    paintAll(p, size(), devicePixelRatioF());
}

void ImageViewer::renderTo(QImage& target)
{
    QPainter p(&target);
    paintAll(p, target.size(), target.devicePixelRatio());
}

QImage ImageViewer::renderView(bool overlays, bool nativeResolution, bool cornerText)
{
    if (!hasImage())
        return {};
    const double zoom = m_zoom;
    const QPointF pan = m_pan;
    const bool fit = m_fit, overlay = m_overlayVisible, annotations = m_annotationsVisible, heat = m_heatVisible;
    QSize size = this->size();
    if (nativeResolution) {
        size = m_rotation % 2 ? QSize(m_image->height(), m_image->width()) : QSize(m_image->width(), m_image->height());
        m_zoom = 1.0;
        m_pan = {};
        m_fit = false;
    }
    const std::optional<QRect> roi = m_roi;
    if (!overlays) {
        m_overlayVisible = m_annotationsVisible = m_heatVisible = false;
        m_roi.reset(); // the crop rectangle too
    }
    if (!cornerText)
        m_overlayVisible = false;
    QImage out(size, QImage::Format_RGB32);
    {
        QPainter p(&out);
        paintAll(p, size, 1.0);
    }
    m_zoom = zoom;
    m_pan = pan;
    m_fit = fit;
    m_overlayVisible = overlay;
    m_annotationsVisible = annotations;
    m_heatVisible = heat;
    m_roi = roi;
    return out;
}

} // namespace lightbox::ui
