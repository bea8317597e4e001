#pragma once

#include <base/Result.h>
#include <imaging/Image.h>

#include <QImage>
#include <QString>
#include <QStringList>
#include <QVector>

#include <utility>

namespace lightbox::ui {

/// What a one-page report holds. De-identified unless `identify` is set: then the patient's
/// name and ID are printed too. Everything else comes from the view and the classification.
struct ReportData {
    QImage view;                ///< the image with its heat map and measurements, no corner text
    bool drawColourBar = false; ///< draw the heat map's colour bar beside the view (the CLI's view has none)
    QString heatMapTitle;       ///< "Grad-CAM of Pneumonia" (empty: no heat map)
    QString description;        ///< modality, body part, view ("CR CHEST PA"), or the file's format
    bool identify = false;
    QString patientName, patientId, studyDate;
    QString modelName;                                 ///< the bundle's file name
    QString modelSummary;                              ///< ModelInfo::summary()
    QVector<std::pair<QString, double>> probabilities; ///< class and probability, card order
    int topClass = -1;
    QString gradeText; ///< "expected grade 1.6" for ordinal models
    bool oodAvailable = false;
    bool oodFlagged = false;
    QString oodText; ///< "score 41.2, above 99.9 % of validation images"
    QStringList measurements;
    QString version; ///< Lightbox's

    /// Sets the description from `image`, and the patient's name, ID and study date when
    /// `identify` is set (then `identify` too).
    void describe(const imaging::Image& image, bool identify);
};

/// Writes the report as a one-page A4 PDF (QPdfWriter), with "Research software, not for
/// clinical use" at the foot. Needs a QGuiApplication (fonts).
Result<bool> writeReportPdf(const ReportData& data, const QString& path);

} // namespace lightbox::ui
