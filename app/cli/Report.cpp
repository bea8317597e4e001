#include "Commands.h"
#include "Shared.h"

#include <Report.h>

#include <QFileInfo>
#include <QImage>

#include <cstdio>

namespace lightbox::cli {

/// report --model M --out OUT.pdf [--identify] FILE: the one-page PDF report of the image
/// classified by the model, with its Grad-CAM map, de-identified unless --identify.
int runReport(const QStringList& argv)
{
    CommandLine cl("report", "FILE",
                   "A one-page PDF: the image with the model's Grad-CAM map, the probabilities, the model and its "
                   "out-of-distribution verdict; de-identified unless --identify.");
    cl.option("model", "M", "Model bundle.", true);
    cl.option("out", "OUT.pdf", "The file to write.", true);
    cl.flag("identify", "Include the patient's name and ID.");
    addDeviceOption(cl);
    addFrameOption(cl);
    if (!cl.parse(argv, 1, 1))
        return cl.exitCode();
    imaging::Image image;
    cv::Mat view;
    ml::Prediction pred;
    ml::ModelCard card;
    if (const int rc = loadReaderView(cl, image, view))
        return rc;
    if (const int rc = classifyWithCam(cl, view, pred, card))
        return rc;
    const cv::Mat rgb = camOverlay(view, pred.camUpsampled);

    ui::ReportData d;
    d.view = QImage(rgb.data, rgb.cols, rgb.rows, static_cast<qsizetype>(rgb.step), QImage::Format_RGB888).copy();
    d.drawColourBar = true;
    d.heatMapTitle = QStringLiteral("Grad-CAM of %1").arg(QString::fromStdString(pred.topClassName));
    d.describe(image, cl.has("identify"));
    d.modelName = QFileInfo(cl.value("model")).fileName();
    d.modelSummary = QStringLiteral("%1, %2, %3 classes")
                         .arg(QString::fromStdString(card.task), QString::fromStdString(card.architecture))
                         .arg(card.numClasses());
    for (size_t i = 0; i < pred.probabilities.size(); ++i)
        d.probabilities.push_back({QString::fromStdString(card.classNames[i]), pred.probabilities[i]});
    d.topClass = pred.topClass;
    if (card.ordinal)
        d.gradeText = QStringLiteral("Expected grade %1").arg(pred.expectedGrade, 0, 'f', 2);
    d.oodAvailable = pred.ood.available;
    d.oodFlagged = pred.ood.flagged;
    d.oodText = QStringLiteral("score %1, percentile %2 of the validation images")
                    .arg(pred.ood.score, 0, 'f', 1)
                    .arg(pred.ood.percentile, 0, 'f', 1);
    d.version = QStringLiteral(LIGHTBOX_VERSION);
    auto written = ui::writeReportPdf(d, cl.value("out"));
    if (!written)
        return fail(cl.value("out"), written.error());
    std::printf("%s\n", qPrintable(cl.value("out")));
    return 0;
}

} // namespace lightbox::cli
