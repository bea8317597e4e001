#include "ViewExport.h"

#include "Annotations.h"
#include "ClassifyPanel.h"
#include "ImageViewer.h"
#include "Report.h"

#include <imaging/ImageWriter.h>

#include <opencv2/core.hpp>

#include <QFileInfo>

namespace lightbox::ui {
namespace {

/// An RGB32 QImage as an 8-bit RGB matrix (a copy).
cv::Mat toRgb(const QImage& image)
{
    const QImage rgb = image.convertToFormat(QImage::Format_RGB888);
    return cv::Mat(rgb.height(), rgb.width(), CV_8UC3, const_cast<uchar*>(rgb.constBits()),
                   static_cast<size_t>(rgb.bytesPerLine()))
        .clone();
}

} // namespace

QString describeView(ImageViewer* viewer)
{
    if (!viewer || !viewer->hasImage())
        return {};
    const auto& img = *viewer->image();
    QStringList parts;
    const imaging::Window w = viewer->window();
    if (viewer->usingVoiLut())
        parts << QStringLiteral("VOI LUT");
    else
        parts << QStringLiteral("window W %1 L %2").arg(w.width, 0, 'f', 0).arg(w.center, 0, 'f', 0);
    if (viewer->inverted())
        parts << QStringLiteral("inverted");
    if (viewer->rotation())
        parts << QStringLiteral("rotated %1 degrees").arg(viewer->rotation());
    if (viewer->hasHeatMap() && viewer->heatMapVisible())
        parts << QStringLiteral("heat map (%1)").arg(viewer->heatMapTitle());
    const auto count = viewer->annotations()->annotations().size();
    if (count > 0 && viewer->annotationsVisible())
        parts << QStringLiteral("%1 measurement(s) and marks").arg(count);
    const QString source = img.format == "DICOM" ? QString::fromStdString(img.keyTag("SOPInstanceUID"))
                                                 : QStringLiteral("a %1 file").arg(QString::fromStdString(img.format));
    return QStringLiteral("Lightbox view of %1: %2").arg(source, parts.join(QStringLiteral(", ")));
}

Result<bool> exportViewPng(ImageViewer* viewer, const QString& path, bool overlays, bool nativeResolution)
{
    if (!viewer || !viewer->hasImage())
        return Result<bool>::failure("no image to export");
    const QImage view = viewer->renderView(overlays, nativeResolution);
    return imaging::writePng(toRgb(view), path.toStdString());
}

Result<imaging::WrittenSecondaryCapture> exportSecondaryCapture(ImageViewer* viewer, const QString& path)
{
    using R = Result<imaging::WrittenSecondaryCapture>;
    if (!viewer || !viewer->hasImage())
        return R::failure("no image to export");
    const QImage view = viewer->renderView(true, true);
    imaging::SecondaryCaptureInfo info;
    info.derivation = describeView(viewer).toStdString();
    info.seriesDescription = "Lightbox view";
    return imaging::writeSecondaryCapture(toRgb(view), *viewer->image(), info, path.toStdString());
}

Result<bool> exportReport(ImageViewer* viewer, const ClassifyPanel* panel, const QString& path, bool identify,
                          const QString& version)
{
    if (!viewer || !viewer->hasImage())
        return Result<bool>::failure("no image for the report");
    const auto& img = *viewer->image();
    ReportData d;
    d.view = viewer->renderView(true, true, /*cornerText=*/false);
    d.version = version;
    d.describe(img, identify);
    if (viewer->hasHeatMap() && viewer->heatMapVisible())
        d.heatMapTitle = viewer->heatMapTitle();
    if (panel && panel->lastResult() && panel->lastResult()->ok()) {
        const jobs::PredictResult& r = *panel->lastResult();
        d.modelName = QFileInfo(r.model.path).fileName();
        d.modelSummary = r.model.summary();
        const QStringList names = r.model.classNames();
        for (size_t i = 0; i < r.probabilities.size(); ++i)
            d.probabilities.push_back({names.value(static_cast<int>(i)), r.probabilities[i]});
        d.topClass = r.topClass;
        if (r.expectedGrade >= 0)
            d.gradeText = QStringLiteral("Expected grade %1").arg(r.expectedGrade, 0, 'f', 2);
        d.oodAvailable = r.ood.available;
        d.oodFlagged = r.ood.flagged;
        d.oodText = QStringLiteral("score %1, percentile %2 of the validation images")
                        .arg(r.ood.score, 0, 'f', 1)
                        .arg(r.ood.percentile, 0, 'f', 1);
    }
    const AnnotationLayer* layer = viewer->annotations();
    for (int i = 0; i < layer->annotations().size(); ++i)
        d.measurements << layer->summary(i);
    return writeReportPdf(d, path);
}

} // namespace lightbox::ui
