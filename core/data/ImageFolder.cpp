#include "ImageFolder.h"

#include <imaging/ImageLoader.h>

#include <QDir>
#include <QFileInfo>

#include <algorithm>

namespace lightbox::data {
namespace {

/// Natural order, case-insensitive: digit runs compare by value ("img2" < "img10"). Written
/// out because QCollator's numeric mode is unavailable in the C locale.
bool naturalLess(const QString& a, const QString& b)
{
    int i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
        if (a[i].isDigit() && b[j].isDigit()) {
            int ie = i, je = j;
            while (ie < a.size() && a[ie].isDigit())
                ++ie;
            while (je < b.size() && b[je].isDigit())
                ++je;
            QStringView na = QStringView(a).mid(i, ie - i), nb = QStringView(b).mid(j, je - j);
            while (na.size() > 1 && na.front() == QLatin1Char('0'))
                na = na.mid(1);
            while (nb.size() > 1 && nb.front() == QLatin1Char('0'))
                nb = nb.mid(1);
            if (na.size() != nb.size())
                return na.size() < nb.size();
            if (const int c = na.compare(nb); c != 0)
                return c < 0;
            i = ie;
            j = je;
            continue;
        }
        const QChar ca = a[i].toCaseFolded(), cb = b[j].toCaseFolded();
        if (ca != cb)
            return ca < cb;
        ++i;
        ++j;
    }
    if ((a.size() - i) != (b.size() - j))
        return (a.size() - i) < (b.size() - j);
    return a < b; // equal ignoring case and leading zeros: any stable order
}

} // namespace

bool ImageFolder::isImageFile(const QString& path)
{
    const QFileInfo info(path);
    if (!info.isFile())
        return false;
    if (info.fileName().compare(QLatin1String("DICOMDIR"), Qt::CaseInsensitive) == 0)
        return false; // a media directory, not an image
    static const QStringList known = {"dcm", "dicom", "dic", "png", "jpg", "jpeg", "tif", "tiff", "bmp"};
    const QString suffix = info.suffix().toLower();
    if (known.contains(suffix))
        return true;
    if (!suffix.isEmpty() && suffix.size() <= 4 && !suffix.front().isDigit())
        return false; // manifest.csv, notes.txt, ...: not worth sniffing
    // No (or a numeric) extension: "IM000123", "1.2.840.113619.2.55.3.1": sniff the content.
    const imaging::FileKind kind = imaging::sniffFile(info.absoluteFilePath().toStdString());
    return kind != imaging::FileKind::Unknown && kind != imaging::FileKind::Empty;
}

QStringList ImageFolder::list(const QString& dir)
{
    QStringList out;
    const QDir d(dir);
    if (!d.exists())
        return out;
    const QFileInfoList entries = d.entryInfoList(QDir::Files | QDir::Readable | QDir::NoDotAndDotDot);
    for (const QFileInfo& info : entries)
        if (isImageFile(info.absoluteFilePath()))
            out << info.absoluteFilePath();
    std::sort(out.begin(), out.end(), naturalLess);
    return out;
}

} // namespace lightbox::data
