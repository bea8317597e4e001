#include "Commands.h"
#include "Shared.h"

#include <imaging/DicomWriter.h>

#include <opencv2/imgproc.hpp>

#include <QFileInfo>

#include <cmath>
#include <cstdio>

namespace lightbox::cli {

/// export-sc FILE --out OUT.dcm [--model M]: the image as the reader sees it (its default
/// window), with the model's Grad-CAM map over it when a model is given, as a DICOM Secondary
/// Capture in the image's study (de-identified placeholders for other images).
int runExportSc(const QStringList& argv)
{
    CommandLine cl("export-sc", "FILE",
                   "The image (default window), with the model's Grad-CAM map when one is given, as a DICOM Secondary "
                   "Capture in its study: patient and study kept, new series and instance, a Derivation Description "
                   "(de-identified placeholders for an image that is no DICOM).");
    cl.option("out", "OUT.dcm", "The file to write.", true);
    cl.option("model", "M", "Model bundle whose Grad-CAM map is drawn over the image.");
    addDeviceOption(cl);
    addFrameOption(cl);
    if (!cl.parse(argv, 1, 1))
        return cl.exitCode();
    imaging::Image image;
    cv::Mat view;
    if (const int rc = loadReaderView(cl, image, view))
        return rc;
    cv::Mat rgb;
    if (view.channels() == 1)
        cv::cvtColor(view, rgb, cv::COLOR_GRAY2RGB);
    else
        rgb = view;
    const imaging::Window w = image.defaultWindow();
    std::string derivation =
        "Lightbox view of " +
        (image.format == "DICOM" ? image.keyTag("SOPInstanceUID") : "a " + image.format + " file") + ": window W " +
        std::to_string(std::lround(w.width)) + " L " + std::to_string(std::lround(w.center));
    if (cl.has("model")) {
        ml::Prediction pred;
        ml::ModelCard card;
        if (const int rc = classifyWithCam(cl, view, pred, card))
            return rc;
        rgb = camOverlay(view, pred.camUpsampled);
        char prob[32];
        std::snprintf(prob, sizeof prob, "%.3f", pred.topProbability);
        derivation += ", Grad-CAM heat map of " + pred.topClassName + " (p " + prob + ") by " +
                      QFileInfo(cl.value("model")).fileName().toStdString() +
                      (pred.ood.flagged ? ", out of distribution: not reliable" : "");
    }
    imaging::SecondaryCaptureInfo info;
    info.derivation = derivation;
    info.seriesDescription = "Lightbox view";
    auto written = imaging::writeSecondaryCapture(rgb, image, info, cl.value("out").toStdString());
    if (!written)
        return fail(cl.value("out"), written.error());
    std::printf("%s\nstudy %s\nseries %s\ninstance %s%s\n", qPrintable(cl.value("out")),
                written->studyInstanceUid.c_str(), written->seriesInstanceUid.c_str(), written->sopInstanceUid.c_str(),
                written->deidentified ? "\nde-identified (the image is no DICOM)" : "");
    return 0;
}

} // namespace lightbox::cli
