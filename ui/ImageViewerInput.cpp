// The image viewer's input: the crop box (handles, nudges, square crops) and the mouse,
// wheel and keys of each tool.
#include "ImageViewer.h"

#include "Annotations.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QPolygonF>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>

namespace lightbox::ui {

namespace {

constexpr double kHandleRadius = 7.0;

int sign(int v)
{
    return v < 0 ? -1 : 1;
}

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

} // namespace lightbox::ui
