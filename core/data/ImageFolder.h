#pragma once

#include <QString>
#include <QStringList>

namespace lightbox::data {

/// Lists the images a viewer can step through in one folder: DICOM files (by extension, or
/// by content for files without one, as PACS exports often have) and PNG, JPEG, TIFF and
/// BMP files, sorted in natural order ("img2" before "img10"). Does not recurse and does
/// not open the files beyond sniffing their first bytes.
class ImageFolder {
public:
    /// Scans `dir`; an unreadable or missing folder gives an empty list.
    static QStringList list(const QString& dir);

    /// True when `path` looks like an image the viewer can open (extension or content).
    static bool isImageFile(const QString& path);
};

} // namespace lightbox::data
