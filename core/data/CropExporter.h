#pragma once

#include "CropManifest.h"

#include <base/Result.h>
#include <imaging/Image.h>
#include <imaging/Render.h>

#include <QByteArray>
#include <QSet>
#include <QString>
#include <QStringList>

#include <opencv2/core/mat.hpp>
#include <opencv2/core/types.hpp>

#include <optional>

namespace lightbox::data {

/// How a crop is written.
struct CropSettings {
    QString datasetRoot;   ///< crops go to <datasetRoot>/<label>/<sourceKey>.png
    int outputWidth = 224; ///< resized with cv::INTER_AREA
    int outputHeight = 224;
    bool raw = false;             ///< keep stored values (16-bit PNG for 16-bit sources)
    imaging::RenderParams render; ///< window/inversion for the default 8-bit rendering
};

/// Saves hand-drawn crops of a radiograph into a labelled, de-identified data set: the
/// region of the RAW stored pixels, rendered with the viewer's window (8-bit) or kept raw,
/// resized to the output size with cv::INTER_AREA, written as PNG (OpenCV's writer adds no
/// text chunks, so no metadata travels) and recorded in `manifest.csv` (CropManifest).
///
/// File names and the manifest know the source only by sourceKey(); patient name, ID and
/// birth date never leave the Image. Saving the same source again replaces its row and
/// deletes its previous file. The last save can be undone once, which restores the row and
/// the file it replaced. Does not apply the viewer's rotation or flips: crops keep the stored
/// orientation so that the ROI in the manifest addresses source pixels. Synchronous and
/// GUI-free; one exporter per data-set writer.
class CropExporter {
public:
    /// 16 hex chars of SHA-256 of the SOP Instance UID, or of the canonical absolute path
    /// for files without one.
    static QString sourceKey(const imaging::Image& image);

    /// The pixels a save would write (what a preview shows), or why it cannot be made.
    static Result<cv::Mat> cropPixels(const imaging::Image& image, cv::Rect roi, const CropSettings& settings);

    /// True when `label` is usable as a folder name ("0", "KL2", "pneumonia").
    static bool isValidLabel(const QString& label);

    /// Writes the crop of `roi` (source pixels; clipped to the image) under `label` and
    /// records it in the manifest. Returns the manifest row.
    Result<CropRecord> save(const imaging::Image& image, cv::Rect roi, const QString& label,
                            const CropSettings& settings);

    bool canUndo() const { return m_undo.has_value(); }
    /// The row the last save wrote, while it can still be undone.
    std::optional<CropRecord> lastSaved() const;
    /// Undoes the last save: deletes its file and restores the replaced row and file, if any.
    Result<bool> undo();

    /// Removes what an interrupted save left under `root`: temporary files, and crop files
    /// (Lightbox's names only) that no manifest row names. Called once per data set by save().
    /// Returns the paths removed, relative to `root`.
    static QStringList removeLeftovers(const QString& root, const CropManifest& manifest);

private:
    struct UndoEntry {
        QString root;
        CropRecord saved;
        std::optional<CropRecord> previous;
        QByteArray previousBytes; ///< the file `previous` pointed to, as it was
    };
    std::optional<UndoEntry> m_undo;
    QSet<QString> m_recovered; ///< data sets whose leftovers were removed
};

} // namespace lightbox::data
