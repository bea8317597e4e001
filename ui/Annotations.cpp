#include "Annotations.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFontMetrics>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPainter>
#include <QPainterPath>
#include <QSaveFile>
#include <QStandardPaths>
#include <QUndoCommand>
#include <QUndoStack>

#include <cmath>

namespace lightbox::ui {
namespace {

constexpr int kSidecarFormat = 1;
constexpr double kHandleRadius = 6.0;  ///< screen pixels a point can be grabbed from
constexpr double kBodyTolerance = 5.0; ///< screen pixels from a line that still hit it
constexpr double kMinDrawPixels = 3.0; ///< shorter drags are clicks
const QColor kLineColour(255, 214, 0); ///< as the crop rectangle
const QColor kSelectedColour(0, 220, 255);
const QColor kTextColour(235, 235, 200); ///< the corner text's
const QColor kShadow(0, 0, 0, 200);

imaging::MeasurePoint mp(QPointF p)
{
    return {p.x(), p.y()};
}

double distanceToSegment(QPointF p, QPointF a, QPointF b)
{
    const QPointF d = b - a;
    const double len2 = QPointF::dotProduct(d, d);
    const double t = len2 > 0 ? std::clamp(QPointF::dotProduct(p - a, d) / len2, 0.0, 1.0) : 0.0;
    const QPointF q = a + t * d;
    return std::hypot(p.x() - q.x(), p.y() - q.y());
}

/// "1021", "121.3", "0.0042", "-1000": values of any range with a sensible number of digits.
QString value(double v)
{
    const double a = std::abs(v);
    if ((v == std::round(v) && a < 1e9) || a >= 1000)
        return QString::number(v, 'f', 0);
    if (a >= 1)
        return QString::number(v, 'f', 1);
    return QString::number(v, 'g', 3);
}

/// The file's SHA-256: of its bytes, or of a file over 16 MB its size, first and last 4 MB
/// (the viewer keys sidecars by it when an image opens: this keeps that under 50 ms).
QByteArray fileHash(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    QCryptographicHash h(QCryptographicHash::Sha256);
    constexpr qint64 kWhole = qint64(16) << 20, kPart = qint64(4) << 20;
    if (f.size() <= kWhole) {
        h.addData(&f);
    } else {
        h.addData(QByteArray::number(f.size()));
        h.addData(f.read(kPart));
        f.seek(f.size() - kPart);
        h.addData(f.read(kPart));
    }
    return h.result().toHex();
}

} // namespace

// ---------------------------------------------------------------------------------------
// Annotation

int Annotation::pointCount(Kind kind)
{
    switch (kind) {
    case Kind::Angle: return 3;
    case Kind::Cobb: return 4;
    default: return 2;
    }
}

QString Annotation::kindKey(Kind kind)
{
    switch (kind) {
    case Kind::Ruler: return QStringLiteral("ruler");
    case Kind::Angle: return QStringLiteral("angle");
    case Kind::Cobb: return QStringLiteral("cobb");
    case Kind::Rectangle: return QStringLiteral("rectangle");
    case Kind::Ellipse: return QStringLiteral("ellipse");
    case Kind::Arrow: return QStringLiteral("arrow");
    }
    return {};
}

std::optional<Annotation::Kind> Annotation::kindFromKey(const QString& key)
{
    for (Kind k : {Kind::Ruler, Kind::Angle, Kind::Cobb, Kind::Rectangle, Kind::Ellipse, Kind::Arrow})
        if (kindKey(k) == key)
            return k;
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------
// Undo

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

// ---------------------------------------------------------------------------------------
// AnnotationLayer

// The stack is a child too (deleted by m_undo first), so that findChildren() finds it.
AnnotationLayer::AnnotationLayer(QObject* parent) : QObject(parent), m_undo(std::make_unique<QUndoStack>(this)) {}

AnnotationLayer::~AnnotationLayer() = default;

void AnnotationLayer::setImage(std::shared_ptr<const imaging::Image> image)
{
    m_pending.reset();
    m_editIndex = -1;
    m_undo->clear();
    m_image = std::move(image);
    m_items.clear();
    m_selected = -1;
    m_key.clear();
    m_loadProblem.clear();
    m_userMmPerPixel = 0.0;
    m_cal = m_image ? imaging::calibrationOf(*m_image) : imaging::Calibration{};
    if (m_image && !m_image->empty()) {
        const std::string uid = m_image->keyTag("SOPInstanceUID");
        if (!uid.empty())
            m_key = QStringLiteral("uid-") +
                    QString::fromLatin1(
                        QCryptographicHash::hash(QByteArray::fromStdString(uid).trimmed(), QCryptographicHash::Sha256)
                            .toHex()
                            .left(32));
        else if (const QByteArray h = fileHash(QString::fromStdString(m_image->sourcePath)); !h.isEmpty())
            m_key = QStringLiteral("file-") + QString::fromLatin1(h.left(32));
        load();
    }
    emit selectionChanged(-1);
    emit changed();
}

QString AnnotationLayer::storageFolder()
{
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation))
        .filePath(QStringLiteral("annotations"));
}

QString AnnotationLayer::sidecarPath() const
{
    return m_key.isEmpty() ? QString() : QDir(storageFolder()).filePath(m_key + QStringLiteral(".json"));
}

void AnnotationLayer::load()
{
    const auto problem = [this](const QString& text) {
        m_loadProblem = text;
        emit message(text);
    };
    const QString path = sidecarPath();
    QFile f(path);
    if (path.isEmpty() || !f.exists())
        return;
    if (!f.open(QIODevice::ReadOnly)) {
        problem(tr("Cannot read the measurements of this image (%1): %2").arg(path, f.errorString()));
        return;
    }
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &error);
    const QJsonObject root = doc.object();
    if (doc.isNull() || root.value(QStringLiteral("format")).toInt() < 1) {
        problem(tr("The measurements saved for this image are damaged and were not loaded (%1)").arg(path));
        return;
    }
    if (root.value(QStringLiteral("format")).toInt() > kSidecarFormat) {
        problem(tr("The measurements of this image were saved by a newer Lightbox and were not loaded"));
        return;
    }
    const QJsonObject img = root.value(QStringLiteral("image")).toObject();
    if (img.value(QStringLiteral("width")).toInt() != m_image->width() ||
        img.value(QStringLiteral("height")).toInt() != m_image->height()) {
        problem(tr("The measurements saved for this image are for another size and were not loaded"));
        return;
    }
    if (const double mm = root.value(QStringLiteral("calibration_mm_per_pixel")).toDouble(); mm > 0 && mm < 1e3) {
        m_userMmPerPixel = mm;
        m_cal = {imaging::Calibration::Kind::User, mm, mm};
    }
    for (const QJsonValue& v : root.value(QStringLiteral("annotations")).toArray()) {
        const QJsonObject o = v.toObject();
        const auto kind = Annotation::kindFromKey(o.value(QStringLiteral("kind")).toString());
        if (!kind)
            continue;
        Annotation a;
        a.kind = *kind;
        a.text = o.value(QStringLiteral("text")).toString();
        for (const QJsonValue& p : o.value(QStringLiteral("points")).toArray()) {
            const QJsonArray xy = p.toArray();
            const double x = xy.at(0).toDouble(std::nan("")), y = xy.at(1).toDouble(std::nan(""));
            if (std::isfinite(x) && std::isfinite(y))
                a.points << QPointF(x, y);
        }
        if (a.points.size() == Annotation::pointCount(a.kind))
            m_items << a;
    }
}

void AnnotationLayer::save()
{
    const QString path = sidecarPath();
    if (path.isEmpty())
        return;
    if (m_items.isEmpty() && m_userMmPerPixel <= 0) {
        QFile::remove(path);
        return;
    }
    QJsonArray items;
    for (const Annotation& a : m_items) {
        QJsonArray points;
        for (const QPointF& p : a.points)
            points.append(QJsonArray{p.x(), p.y()});
        QJsonObject o{{QStringLiteral("kind"), Annotation::kindKey(a.kind)}, {QStringLiteral("points"), points}};
        if (!a.text.isEmpty())
            o.insert(QStringLiteral("text"), a.text);
        items.append(o);
    }
    QJsonObject image{{QStringLiteral("width"), m_image->width()},
                      {QStringLiteral("height"), m_image->height()},
                      {QStringLiteral("file"), QFileInfo(QString::fromStdString(m_image->sourcePath)).fileName()}};
    QJsonObject root{{QStringLiteral("format"), kSidecarFormat},
                     {QStringLiteral("image"), image},
                     {QStringLiteral("annotations"), items}};
    if (m_userMmPerPixel > 0)
        root.insert(QStringLiteral("calibration_mm_per_pixel"), m_userMmPerPixel);
    QSaveFile f(path);
    const QByteArray bytes = QJsonDocument(root).toJson();
    if (!QDir().mkpath(storageFolder()) || !f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size() ||
        !f.commit())
        emit message(tr("Cannot save the measurements of this image (%1): %2").arg(path, f.errorString()));
}

void AnnotationLayer::apply(const QVector<Annotation>& items)
{
    m_items = items;
    if (m_selected >= m_items.size()) {
        m_selected = -1;
        emit selectionChanged(-1);
    }
    save();
    emit changed();
}

int AnnotationLayer::add(const Annotation& a)
{
    QVector<Annotation> after = m_items;
    after << a;
    m_undo->push(new AnnotationCommand(this, m_items, after, tr("Add %1").arg(Annotation::kindKey(a.kind))));
    select(static_cast<int>(m_items.size()) - 1);
    return m_selected;
}

void AnnotationLayer::remove(int index)
{
    if (index < 0 || index >= m_items.size())
        return;
    QVector<Annotation> after = m_items;
    after.removeAt(index);
    m_selected = -1;
    m_undo->push(new AnnotationCommand(this, m_items, after, tr("Delete")));
    emit selectionChanged(-1);
}

void AnnotationLayer::setText(int index, const QString& text)
{
    if (index < 0 || index >= m_items.size() || m_items[index].text == text)
        return;
    QVector<Annotation> after = m_items;
    after[index].text = text;
    m_undo->push(new AnnotationCommand(this, m_items, after, tr("Edit text")));
}

void AnnotationLayer::replaceAll(const QVector<Annotation>& items, const QString& what)
{
    m_undo->push(new AnnotationCommand(this, m_items, items, what));
}

bool AnnotationLayer::calibrate(int index, double mm)
{
    if (!m_image)
        return false;
    if (mm <= 0) {
        m_userMmPerPixel = 0.0;
        m_cal = imaging::calibrationOf(*m_image);
    } else {
        if (index < 0 || index >= m_items.size() || m_items[index].kind != Annotation::Kind::Ruler)
            return false;
        const imaging::Calibration pixels;
        const double px = imaging::distance(pixels, mp(m_items[index].points[0]), mp(m_items[index].points[1]));
        if (px <= 0)
            return false;
        m_userMmPerPixel = mm / px;
        m_cal = {imaging::Calibration::Kind::User, m_userMmPerPixel, m_userMmPerPixel};
    }
    save();
    emit changed();
    return true;
}

void AnnotationLayer::select(int index)
{
    if (index < -1 || index >= m_items.size())
        index = -1;
    if (index == m_selected)
        return;
    m_selected = index;
    emit selectionChanged(index);
    emit changed();
}

QString AnnotationLayer::valueUnit() const
{
    if (!m_image)
        return {};
    return QString::fromStdString(m_image->rescaleType);
}

QStringList AnnotationLayer::label(int index) const
{
    if (index < 0 || index >= m_items.size())
        return {};
    return labelFor(m_items[index]);
}

QStringList AnnotationLayer::labelFor(const Annotation& a) const
{
    if (!m_image || a.points.size() != Annotation::pointCount(a.kind))
        return {};
    const auto& pts = a.points;
    const QString unit = QString::fromLatin1(m_cal.unit());
    const QString where = m_cal.kind == imaging::Calibration::Kind::Detector ? tr(" (at detector)")
                          : m_cal.kind == imaging::Calibration::Kind::Pixels ? tr(" (no pixel spacing)")
                          : m_cal.kind == imaging::Calibration::Kind::User   ? tr(" (calibrated)")
                                                                             : QString();
    switch (a.kind) {
    case Annotation::Kind::Ruler: {
        const double d = imaging::distance(m_cal, mp(pts[0]), mp(pts[1]));
        return {QStringLiteral("%1 %2%3").arg(d, 0, 'f', d < 10 ? 2 : 1).arg(unit, where)};
    }
    case Annotation::Kind::Angle:
        return {QStringLiteral("%1°").arg(imaging::angleDegrees(m_cal, mp(pts[0]), mp(pts[1]), mp(pts[2])), 0, 'f', 1)};
    case Annotation::Kind::Cobb:
        return {
            tr("Cobb %1°").arg(imaging::cobbDegrees(m_cal, mp(pts[0]), mp(pts[1]), mp(pts[2]), mp(pts[3])), 0, 'f', 1)};
    case Annotation::Kind::Rectangle:
    case Annotation::Kind::Ellipse: {
        const auto shape =
            a.kind == Annotation::Kind::Rectangle ? imaging::RegionShape::Rectangle : imaging::RegionShape::Ellipse;
        const imaging::RegionStats s = imaging::regionStats(*m_image, m_cal, shape, mp(pts[0]), mp(pts[1]));
        const QString vu = valueUnit().isEmpty() ? QString() : QLatin1Char(' ') + valueUnit();
        QStringList lines;
        if (s.pixels > 0) {
            lines << tr("Mean %1  SD %2%3").arg(value(s.mean), value(s.sd), vu);
            lines << tr("Min %1  Max %2").arg(value(s.min), value(s.max));
        }
        // "²" right after a placeholder would read as a digit of it: the unit is one argument.
        lines << tr("Area %1 %2").arg(s.area, 0, 'f', s.area < 100 ? 1 : 0).arg(unit + QStringLiteral("²") + where);
        return lines;
    }
    case Annotation::Kind::Arrow: return a.text.isEmpty() ? QStringList() : QStringList{a.text};
    }
    return {};
}

QString AnnotationLayer::summary(int index) const
{
    if (index < 0 || index >= m_items.size())
        return {};
    static const char* names[] = {QT_TR_NOOP("Ruler"),     QT_TR_NOOP("Angle"),   QT_TR_NOOP("Cobb angle"),
                                  QT_TR_NOOP("Rectangle"), QT_TR_NOOP("Ellipse"), QT_TR_NOOP("Arrow")};
    const QString name = tr(names[static_cast<int>(m_items[index].kind)]);
    const QStringList lines = label(index);
    return lines.isEmpty() ? name : tr("%1: %2").arg(name, lines.join(QStringLiteral("; ")));
}

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
