#pragma once

#include <base/Result.h>

#include <QString>
#include <QStringList>

#include <optional>
#include <vector>

namespace lightbox::data {

/// One saved crop, as one row of `manifest.csv`. Holds no patient name, ID or birth date:
/// the source is known only by a pseudonymous key (see CropExporter::sourceKey).
struct CropRecord {
    QString sourceKey;      ///< 16 hex chars of SHA-256 (SOP Instance UID, else absolute path)
    QString label;          ///< class name, also the sub-folder
    int roiX = 0, roiY = 0; ///< region in source pixels (stored orientation, no rotation/flip)
    int roiW = 0, roiH = 0;
    double spacingRow = 0.0; ///< source mm per row, 0 when unknown
    double spacingCol = 0.0; ///< source mm per column, 0 when unknown
    int outputWidth = 0, outputHeight = 0;
    int outputBits = 8;  ///< 8: rendered with the window below; 16 (or 8 for 8-bit sources): raw stored values
    QString mode;        ///< "windowed" or "raw"
    QString photometric; ///< source photometric ("MONOCHROME1" means raw values are inverted)
    double windowCenter = 0.0, windowWidth = 0.0; ///< window used for "windowed" crops
    QString file;                                 ///< output path relative to the data-set root, '/' separated
    QString savedAt;                              ///< ISO 8601 UTC time of the save

    bool operator==(const CropRecord& o) const;
};

/// The crop manifest: `manifest.csv` in a data-set root, one row per source image, read by
/// the training side as a data set. Rows are keyed by CropRecord::sourceKey, so cropping a
/// source again replaces its row. save() writes atomically (QSaveFile): a crash leaves the
/// previous manifest intact. Not thread-safe; one writer at a time.
class CropManifest {
public:
    static const char* fileName() { return "manifest.csv"; }
    /// The header line's column names, in order.
    static QStringList columns();

    /// Reads `path`; a missing file is an empty manifest, a malformed one an error.
    static Result<CropManifest> load(const QString& path);
    /// Writes all rows to `path` atomically.
    Result<bool> save(const QString& path) const;

    const std::vector<CropRecord>& records() const { return m_records; }
    std::optional<CropRecord> find(const QString& sourceKey) const;
    /// Inserts `record`, or replaces the row with the same source key (keeping its position).
    void upsert(const CropRecord& record);
    /// Removes the row of `sourceKey`; returns false when there was none.
    bool remove(const QString& sourceKey);

private:
    std::vector<CropRecord> m_records;
};

} // namespace lightbox::data
