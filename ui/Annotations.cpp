// The annotation layer: measurements and marks on an image (rulers, angles, Cobb angles,
// rectangles, ellipses, arrows), their values in mm or px, undo, calibration and the sidecar
// file they are kept in. Hit tests, drawing and painting are in AnnotationsDrawing.cpp.
#include "Annotations.h"
#include "AnnotationsPrivate.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QStandardPaths>
#include <QUndoStack>

#include <cmath>

namespace lightbox::ui {

namespace {

constexpr int kSidecarFormat = 1;

imaging::MeasurePoint mp(QPointF p)
{
    return {p.x(), p.y()};
}

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

} // namespace lightbox::ui
