#include "CropManifest.h"

#include <base/FaultInjection.h>

#include <QFile>
#include <QSaveFile>
#include <QTextStream>

namespace lightbox::data {
namespace {

QString quoted(const QString& field)
{
    if (!field.contains(QLatin1Char(',')) && !field.contains(QLatin1Char('"')) && !field.contains(QLatin1Char('\n')))
        return field;
    QString f = field;
    f.replace(QLatin1String("\""), QLatin1String("\"\""));
    return QLatin1Char('"') + f + QLatin1Char('"');
}

/// Splits one CSV line (RFC 4180 quoting, no embedded newlines).
QStringList splitCsv(const QString& line)
{
    QStringList out;
    QString cur;
    bool inQuotes = false;
    for (int i = 0; i < line.size(); ++i) {
        const QChar c = line[i];
        if (inQuotes) {
            if (c == QLatin1Char('"')) {
                if (i + 1 < line.size() && line[i + 1] == QLatin1Char('"')) {
                    cur += c;
                    ++i;
                } else {
                    inQuotes = false;
                }
            } else {
                cur += c;
            }
        } else if (c == QLatin1Char('"')) {
            inQuotes = true;
        } else if (c == QLatin1Char(',')) {
            out << cur;
            cur.clear();
        } else {
            cur += c;
        }
    }
    out << cur;
    return out;
}

QString num(double v)
{
    return QString::number(v, 'g', 10);
}

} // namespace

bool CropRecord::operator==(const CropRecord& o) const
{
    return sourceKey == o.sourceKey && label == o.label && roiX == o.roiX && roiY == o.roiY && roiW == o.roiW &&
           roiH == o.roiH && spacingRow == o.spacingRow && spacingCol == o.spacingCol && outputWidth == o.outputWidth &&
           outputHeight == o.outputHeight && outputBits == o.outputBits && mode == o.mode &&
           photometric == o.photometric && windowCenter == o.windowCenter && windowWidth == o.windowWidth &&
           file == o.file && savedAt == o.savedAt;
}

QStringList CropManifest::columns()
{
    return {"source_key",     "label",          "roi_x",        "roi_y",         "roi_w",       "roi_h",
            "spacing_row_mm", "spacing_col_mm", "output_width", "output_height", "output_bits", "mode",
            "photometric",    "window_center",  "window_width", "file",          "saved_at"};
}

Result<CropManifest> CropManifest::load(const QString& path)
{
    using R = Result<CropManifest>;
    CropManifest m;
    QFile f(path);
    if (!f.exists())
        return m;
    if (!f.open(QIODevice::ReadOnly | QIODevice::Text))
        return R::failure("cannot read " + path.toStdString() + ": " + f.errorString().toStdString());
    QTextStream in(&f);
    in.setEncoding(QStringConverter::Utf8);
    const QStringList header = splitCsv(in.readLine().trimmed());
    const QStringList expected = columns();
    std::vector<int> index;
    for (const QString& c : expected) {
        const int i = static_cast<int>(header.indexOf(c));
        if (i < 0)
            return R::failure(path.toStdString() + ": not a crop manifest (no column " + c.toStdString() + ")");
        index.push_back(i);
    }
    int lineNo = 1;
    while (!in.atEnd()) {
        const QString line = in.readLine();
        ++lineNo;
        if (line.trimmed().isEmpty())
            continue;
        const QStringList f = splitCsv(line);
        if (f.size() < header.size())
            return R::failure(path.toStdString() + ":" + std::to_string(lineNo) + ": too few fields");
        auto at = [&](int col) { return f[index[static_cast<std::size_t>(col)]]; };
        CropRecord r;
        r.sourceKey = at(0);
        r.label = at(1);
        r.roiX = at(2).toInt();
        r.roiY = at(3).toInt();
        r.roiW = at(4).toInt();
        r.roiH = at(5).toInt();
        r.spacingRow = at(6).toDouble();
        r.spacingCol = at(7).toDouble();
        r.outputWidth = at(8).toInt();
        r.outputHeight = at(9).toInt();
        r.outputBits = at(10).toInt();
        r.mode = at(11);
        r.photometric = at(12);
        r.windowCenter = at(13).toDouble();
        r.windowWidth = at(14).toDouble();
        r.file = at(15);
        r.savedAt = at(16);
        m.upsert(r);
    }
    return m;
}

Result<bool> CropManifest::save(const QString& path) const
{
    using R = Result<bool>;
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Text))
        return R::failure("cannot write " + path.toStdString() + ": " + f.errorString().toStdString());
    QTextStream out(&f);
    out.setEncoding(QStringConverter::Utf8);
    out << columns().join(QLatin1Char(',')) << '\n';
    for (const CropRecord& r : m_records) {
        const QStringList fields = {quoted(r.sourceKey),
                                    quoted(r.label),
                                    QString::number(r.roiX),
                                    QString::number(r.roiY),
                                    QString::number(r.roiW),
                                    QString::number(r.roiH),
                                    num(r.spacingRow),
                                    num(r.spacingCol),
                                    QString::number(r.outputWidth),
                                    QString::number(r.outputHeight),
                                    QString::number(r.outputBits),
                                    quoted(r.mode),
                                    quoted(r.photometric),
                                    num(r.windowCenter),
                                    num(r.windowWidth),
                                    quoted(r.file),
                                    quoted(r.savedAt)};
        out << fields.join(QLatin1Char(',')) << '\n';
    }
    out.flush();
    base::faultPoint("manifest-write");
    if (!f.commit())
        return R::failure("cannot write " + path.toStdString() + ": " + f.errorString().toStdString());
    return true;
}

std::optional<CropRecord> CropManifest::find(const QString& sourceKey) const
{
    for (const CropRecord& r : m_records)
        if (r.sourceKey == sourceKey)
            return r;
    return std::nullopt;
}

void CropManifest::upsert(const CropRecord& record)
{
    for (CropRecord& r : m_records)
        if (r.sourceKey == record.sourceKey) {
            r = record;
            return;
        }
    m_records.push_back(record);
}

bool CropManifest::remove(const QString& sourceKey)
{
    for (auto it = m_records.begin(); it != m_records.end(); ++it)
        if (it->sourceKey == sourceKey) {
            m_records.erase(it);
            return true;
        }
    return false;
}

} // namespace lightbox::data
