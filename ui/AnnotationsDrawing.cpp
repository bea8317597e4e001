// The annotation layer's drawing: hit tests on handles and bodies, drawing and editing with
// the mouse and keys, and painting over the image.
#include "Annotations.h"
#include "AnnotationsPrivate.h"

#include <QFontMetrics>
#include <QPainter>

#include <cmath>

namespace lightbox::ui {

namespace {

constexpr double kHandleRadius = 6.0;  ///< screen pixels a point can be grabbed from
constexpr double kBodyTolerance = 5.0; ///< screen pixels from a line that still hit it
constexpr double kMinDrawPixels = 3.0; ///< shorter drags are clicks
const QColor kLineColour(255, 214, 0); ///< as the crop rectangle
const QColor kSelectedColour(0, 220, 255);
const QColor kTextColour(235, 235, 200); ///< the corner text's
const QColor kShadow(0, 0, 0, 200);

double distanceToSegment(QPointF p, QPointF a, QPointF b)
{
    const QPointF d = b - a;
    const double len2 = QPointF::dotProduct(d, d);
    const double t = len2 > 0 ? std::clamp(QPointF::dotProduct(p - a, d) / len2, 0.0, 1.0) : 0.0;
    const QPointF q = a + t * d;
    return std::hypot(p.x() - q.x(), p.y() - q.y());
}

/// "1021", "121.3", "0.0042", "-1000": values of any range with a sensible number of digits.

} // namespace

// ---------------------------------------------------------------------------------------
// Input

int AnnotationLayer::hitHandle(QPointF pos, const QTransform& toWidget, int& pointIndex) const
{
    // The selected annotation's points first, then the others, newest first.
    QVector<int> order;
    if (m_selected >= 0)
        order << m_selected;
    for (int i = static_cast<int>(m_items.size()) - 1; i >= 0; --i)
        if (i != m_selected)
            order << i;
    for (int i : order)
        for (int k = 0; k < m_items[i].points.size(); ++k) {
            const QPointF w = toWidget.map(m_items[i].points[k]);
            if (std::hypot(w.x() - pos.x(), w.y() - pos.y()) <= kHandleRadius) {
                pointIndex = k;
                return i;
            }
        }
    return -1;
}

int AnnotationLayer::hitBody(QPointF pos, const QTransform& toWidget) const
{
    for (int i = static_cast<int>(m_items.size()) - 1; i >= 0; --i) {
        const Annotation& a = m_items[i];
        QVector<QPointF> w;
        for (const QPointF& p : a.points)
            w << toWidget.map(p);
        QVector<std::pair<QPointF, QPointF>> segments;
        switch (a.kind) {
        case Annotation::Kind::Ruler:
        case Annotation::Kind::Arrow: segments = {{w[0], w[1]}}; break;
        case Annotation::Kind::Angle: segments = {{w[0], w[1]}, {w[1], w[2]}}; break;
        case Annotation::Kind::Cobb: segments = {{w[0], w[1]}, {w[2], w[3]}}; break;
        case Annotation::Kind::Rectangle:
        case Annotation::Kind::Ellipse: {
            // Inside the shape (its image-space bounding rectangle) counts.
            const QRectF r = QRectF(a.points[0], a.points[1]).normalized();
            const QPointF ip = toWidget.inverted().map(pos);
            if (r.contains(ip))
                return i;
            break;
        }
        }
        for (const auto& [p, q] : segments)
            if (distanceToSegment(pos, p, q) <= kBodyTolerance)
                return i;
    }
    return -1;
}

bool AnnotationLayer::press(Mode mode, QPointF pos, const QTransform& toWidget)
{
    if (!m_image || m_image->empty())
        return false;
    const QPointF ip = toWidget.inverted().map(pos);
    if (mode == Mode::Select) {
        int point = -1;
        int hit = hitHandle(pos, toWidget, point);
        if (hit < 0) {
            hit = hitBody(pos, toWidget);
            point = -1;
        }
        select(hit);
        if (hit < 0)
            return false;
        m_editIndex = hit;
        m_editPoint = point;
        m_editAnchor = ip;
        m_beforeEdit = m_items;
        m_edited = false;
        return true;
    }
    if (m_pending) {
        // The second stage of an angle (its second arm) or of a Cobb angle (its second line).
        if (m_pending->kind == Annotation::Kind::Angle) {
            m_pending->points[2] = ip;
        } else if (m_pending->kind == Annotation::Kind::Cobb) {
            m_pending->points[2] = m_pending->points[3] = ip;
        }
        m_pendingDragging = true;
        emit changed();
        return true;
    }
    static const Annotation::Kind kinds[] = {Annotation::Kind::Ruler,   Annotation::Kind::Angle,
                                             Annotation::Kind::Cobb,    Annotation::Kind::Rectangle,
                                             Annotation::Kind::Ellipse, Annotation::Kind::Arrow};
    Annotation a;
    a.kind = kinds[static_cast<int>(mode)];
    a.points = QVector<QPointF>(Annotation::pointCount(a.kind), ip);
    m_pending = a;
    m_pendingFixed = 1;
    m_pendingDragging = true;
    select(-1);
    emit changed();
    return true;
}

bool AnnotationLayer::move(QPointF pos, const QTransform& toWidget)
{
    const QPointF ip = toWidget.inverted().map(pos);
    if (m_editIndex >= 0 && m_editIndex < m_items.size()) {
        Annotation& a = m_items[m_editIndex];
        if (m_editPoint >= 0) {
            a.points[m_editPoint] = ip;
        } else {
            const QPointF d = ip - m_editAnchor;
            for (QPointF& p : a.points)
                p += d;
            m_editAnchor = ip;
        }
        m_edited = true;
        emit changed();
        return true;
    }
    if (!m_pending)
        return false;
    auto& pts = m_pending->points;
    switch (m_pending->kind) {
    case Annotation::Kind::Angle:
        if (m_pendingFixed == 1)
            pts[1] = pts[2] = ip; // dragging the first arm: its end becomes the vertex
        else
            pts[2] = ip; // the second arm follows the pointer
        break;
    case Annotation::Kind::Cobb:
        if (m_pendingFixed == 1)
            pts[1] = ip;
        else if (m_pendingDragging)
            pts[3] = ip;
        break;
    default: pts[1] = ip; break;
    }
    emit changed();
    return true;
}

bool AnnotationLayer::release(QPointF pos, const QTransform& toWidget)
{
    if (m_editIndex >= 0) {
        move(pos, toWidget);
        if (m_edited)
            m_undo->push(new AnnotationCommand(this, m_beforeEdit, m_items, tr("Move")));
        m_editIndex = m_editPoint = -1;
        m_beforeEdit.clear();
        return true;
    }
    if (!m_pending)
        return false;
    move(pos, toWidget);
    auto& pts = m_pending->points;
    const auto screenLength = [&](QPointF a, QPointF b) {
        const QPointF d = toWidget.map(a) - toWidget.map(b);
        return std::hypot(d.x(), d.y());
    };
    Annotation done = *m_pending;
    const Annotation::Kind kind = done.kind;
    if ((kind == Annotation::Kind::Angle || kind == Annotation::Kind::Cobb) && m_pendingFixed == 1) {
        if (screenLength(pts[0], pts[1]) < kMinDrawPixels) {
            cancelDrawing();
            return true;
        }
        m_pendingFixed = 2; // now the second arm or line
        m_pendingDragging = false;
        if (kind == Annotation::Kind::Cobb)
            pts[2] = pts[3] = pts[1];
        emit changed();
        return true;
    }
    const bool tooShort = kind == Annotation::Kind::Angle  ? screenLength(pts[1], pts[2]) < kMinDrawPixels
                          : kind == Annotation::Kind::Cobb ? screenLength(pts[2], pts[3]) < kMinDrawPixels
                                                           : screenLength(pts[0], pts[1]) < kMinDrawPixels;
    if (tooShort) {
        if (kind == Annotation::Kind::Angle || kind == Annotation::Kind::Cobb) {
            m_pendingDragging = false; // a click: wait for a real second arm or line
            return true;
        }
        cancelDrawing();
        return true;
    }
    m_pending.reset();
    m_pendingDragging = false;
    if (kind == Annotation::Kind::Arrow && m_textProvider)
        done.text = m_textProvider();
    add(done);
    return true;
}

bool AnnotationLayer::key(int key)
{
    if (key == Qt::Key_Escape && m_pending) {
        cancelDrawing();
        return true;
    }
    if ((key == Qt::Key_Delete || key == Qt::Key_Backspace) && m_selected >= 0 && !m_pending) {
        remove(m_selected);
        return true;
    }
    return false;
}

void AnnotationLayer::cancelDrawing()
{
    if (!m_pending)
        return;
    m_pending.reset();
    m_pendingDragging = false;
    emit changed();
}

// ---------------------------------------------------------------------------------------
// Painting

void AnnotationLayer::paint(QPainter& p, const QTransform& toWidget, int fontPixels) const
{
    if (!m_image)
        return;
    p.save();
    p.setRenderHint(QPainter::Antialiasing, true);
    QFont f = p.font();
    f.setPixelSize(fontPixels);
    p.setFont(f);
    const QFontMetrics fm(f);

    const auto drawLines = [&](const QVector<QLineF>& lines, const QColor& colour) {
        p.setPen(QPen(kShadow, 3.0));
        p.drawLines(lines);
        p.setPen(QPen(colour, 1.5));
        p.drawLines(lines);
    };
    const QRect bounds = p.viewport();
    const auto drawText = [&](const QStringList& lines, QPointF at) {
        // Kept inside the view: a label that would run off the right edge moves left.
        int widest = 0;
        for (const QString& line : lines)
            widest = std::max(widest, fm.horizontalAdvance(line));
        at.setX(std::max<double>(bounds.left() + 4, std::min<double>(at.x(), bounds.right() - 4 - widest)));
        at.setY(std::max<double>(bounds.top() + 4,
                                 std::min<double>(at.y(), bounds.bottom() - 4 - lines.size() * fm.height())));
        for (int i = 0; i < lines.size(); ++i) {
            const QPointF base = at + QPointF(0, fm.ascent() + i * fm.height());
            p.setPen(kShadow);
            p.drawText(base + QPointF(1, 1), lines[i]);
            p.setPen(kTextColour);
            p.drawText(base, lines[i]);
        }
    };

    const auto paintOne = [&](const Annotation& a, const QStringList& label, bool selected) {
        const QColor colour = selected ? kSelectedColour : kLineColour;
        QVector<QPointF> w;
        for (const QPointF& pt : a.points)
            w << toWidget.map(pt);
        QPointF labelAt;
        switch (a.kind) {
        case Annotation::Kind::Ruler: {
            QVector<QLineF> lines{QLineF(w[0], w[1])};
            // Ticks across both ends.
            QLineF normal = QLineF(w[0], w[1]).normalVector();
            if (normal.length() > 0) {
                normal.setLength(5.0);
                const QPointF n = normal.p2() - normal.p1();
                lines << QLineF(w[0] - n, w[0] + n) << QLineF(w[1] - n, w[1] + n);
            }
            drawLines(lines, colour);
            labelAt = (w[0] + w[1]) / 2.0 + QPointF(8, 4);
            break;
        }
        case Annotation::Kind::Angle:
            drawLines({QLineF(w[1], w[0]), QLineF(w[1], w[2])}, colour);
            labelAt = w[1] + QPointF(10, 4);
            break;
        case Annotation::Kind::Cobb:
            drawLines({QLineF(w[0], w[1]), QLineF(w[2], w[3])}, colour);
            labelAt = (w[0] + w[1] + w[2] + w[3]) / 4.0 + QPointF(10, 0);
            break;
        case Annotation::Kind::Rectangle:
        case Annotation::Kind::Ellipse: {
            p.save();
            p.setTransform(toWidget, true);
            const QRectF r = QRectF(a.points[0], a.points[1]).normalized();
            for (const auto& [pen, width] : {std::pair{kShadow, 3.0}, std::pair{colour, 1.5}}) {
                QPen outline(pen, width);
                outline.setCosmetic(true);
                p.setPen(outline);
                p.setBrush(Qt::NoBrush);
                if (a.kind == Annotation::Kind::Rectangle)
                    p.drawRect(r);
                else
                    p.drawEllipse(r);
            }
            p.restore();
            const QRectF box = toWidget.mapRect(QRectF(a.points[0], a.points[1]).normalized());
            labelAt = box.topRight() + QPointF(6, 0);
            break;
        }
        case Annotation::Kind::Arrow: {
            QLineF shaft(w[1], w[0]); // tail to head
            QVector<QLineF> lines{shaft};
            if (shaft.length() > 0) {
                const double angle = std::atan2(w[1].y() - w[0].y(), w[1].x() - w[0].x());
                for (double side : {-0.45, 0.45})
                    lines << QLineF(w[0], w[0] + QPointF(std::cos(angle + side), std::sin(angle + side)) * 12.0);
            }
            drawLines(lines, colour);
            labelAt = w[1] + QPointF(w[1].x() >= w[0].x() ? 6 : -6 - fm.horizontalAdvance(a.text), -fm.height() / 2.0);
            break;
        }
        }
        if (selected) {
            p.setPen(QPen(kShadow, 1.0));
            p.setBrush(kSelectedColour);
            for (const QPointF& pt : w)
                p.drawRect(QRectF(pt - QPointF(3, 3), QSizeF(6, 6)));
            p.setBrush(Qt::NoBrush);
        }
        drawText(label, labelAt);
    };

    for (int i = 0; i < m_items.size(); ++i)
        paintOne(m_items[i], label(i), i == m_selected);
    if (m_pending) {
        // The drawing in progress, labelled live.
        const bool secondStage = m_pendingFixed >= 2;
        Annotation shown = *m_pending;
        const bool lineOnly = shown.kind == Annotation::Kind::Cobb && !secondStage;
        if (lineOnly)
            shown.points[2] = shown.points[3] = shown.points[1]; // no second line yet
        paintOne(shown, lineOnly ? QStringList() : labelFor(*m_pending), true);
    }
    p.restore();
}

} // namespace lightbox::ui
