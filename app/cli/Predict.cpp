#include "Commands.h"
#include "Shared.h"

#include <data/ModelInput.h>
#include <imaging/ImageLoader.h>
#include <imaging/ImageWriter.h>
#include <jobs/PredictJob.h>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cstdio>
#include <optional>

namespace lightbox::cli {

int runPredict(const QStringList& argv)
{
    CommandLine cl("predict", "FILE...",
                   "Classifies each image (rendered with its default window, optionally cropped) with a model bundle "
                   "or TorchScript file, and says whether the image is out of distribution when the model has a "
                   "detector.");
    cl.option("model", "M", "Model bundle (.lbx) or TorchScript file.", true);
    addDeviceOption(cl);
    cl.option("roi", "X,Y,W,H", "Classify this rectangle (image pixels) instead of the whole image.");
    cl.option("cam", "OUT.png", "Write a Grad-CAM overlay (OUT-<name>.png for several files).");
    cl.option("cam-method", "M", "gradcam (default) or gradcam++.");
    cl.option("class", "N", "The class the map explains (default: the top class).");
    cl.option("layer", "NAME", "The layer the map is taken at (default: the last convolutional stage).");
    cl.option("threads", "N", "LibTorch CPU threads (0 to 1024; 0 = all cores, the default).");
    addFrameOption(cl);
    cl.flag("reduced-precision",
            "float16 on a GPU, bfloat16 on a CPU with AVX-512 BF16 or AMX (faster, slightly different).");
    cl.flag("tta", "Test-time augmentation: the image also mirrored and shifted as the model's task was trained, "
                   "probabilities and maps averaged.");
    cl.flag("json", "Print JSON.");
    if (!cl.parse(argv, 1, -1))
        return cl.exitCode();

    ml::ClassifierOptions copts;
    if (cl.has("device"))
        copts.device = cl.text("device");
    QString method = QStringLiteral("gradcam");
    cv::Rect roi;
    imaging::LoadOptions lopts;
    if (!cl.integer("threads", 0, 1024, copts.threads) || !cl.choice("cam-method", {"gradcam", "gradcam++"}, method) ||
        !roiOption(cl, roi) || !cl.integer("frame", 0, CommandLine::kIntMax, lopts.frame))
        return cl.exitCode();
    copts.halfPrecision = cl.has("reduced-precision");
    auto classifier = ml::Classifier::load(cl.text("model"), copts);
    if (!classifier)
        return fail(cl.value("model"), classifier.error());
    const ml::ModelCard& card = classifier->card();

    ml::PredictOptions popts;
    if (cl.has("cam")) {
        popts.cam = method == QLatin1String("gradcam++") ? ml::CamMethod::GradCamPlusPlus : ml::CamMethod::GradCam;
        popts.layer = cl.text("layer");
        if (!cl.integer("class", 0, card.numClasses() - 1, popts.targetClass))
            return cl.exitCode();
    }
    if (cl.has("tta"))
        popts.tta = jobs::ttaFor(card, /*fallbackFlip=*/true);

    const bool json = cl.has("json");
    QJsonArray results;
    int failures = 0;
    for (const QString& file : cl.positional()) {
        auto img = imaging::loadImage(file.toStdString(), lopts);
        if (!img) {
            fail(file, img.error());
            ++failures;
            continue;
        }
        // The model sees what the reader sees: the default window, MONOCHROME1 inverted.
        std::optional<cv::Rect> cropRect;
        if (cl.has("roi"))
            cropRect = roi;
        auto view = data::modelView(img.value(), cropRect);
        if (!view) {
            fail(file, view.error());
            ++failures;
            continue;
        }
        const cv::Mat& shown = view.value();
        const ml::RawImage raw = data::toRawImage(shown);
        auto p = classifier->predictRaw(raw, popts);
        if (!p) {
            fail(file, p.error());
            ++failures;
            continue;
        }
        QString camFile;
        if (popts.cam != ml::CamMethod::None) {
            camFile = camPath(cl.value("cam"), file, cl.positional().size() > 1);
            auto w = imaging::writePng(camOverlay(shown, p->camUpsampled), camFile.toStdString());
            if (!w) {
                fail(camFile, w.error());
                ++failures;
            }
        }
        if (json) {
            QJsonObject o{{"file", file},
                          {"class", p->topClass},
                          {"className", QString::fromStdString(p->topClassName)},
                          {"probability", p->topProbability},
                          {"device", QString::fromStdString(p->device)},
                          {"latencyMs", p->latencyMs}};
            QJsonObject probs;
            for (size_t i = 0; i < p->probabilities.size(); ++i)
                probs[QString::fromStdString(card.classNames[i])] = p->probabilities[i];
            o["probabilities"] = probs;
            if (card.ordinal)
                o["expectedGrade"] = p->expectedGrade;
            if (!card.cutPoints.empty()) {
                o["grade"] = p->grade;
                o["gradeName"] = QString::fromStdString(card.classNames[static_cast<size_t>(p->grade)]);
            }
            if (p->temperature != 1.0)
                o["temperature"] = p->temperature;
            if (p->memberProbabilities.size() > 1) {
                QJsonArray members;
                for (const auto& m : p->memberProbabilities) {
                    QJsonArray probs;
                    for (float v : m)
                        probs.append(v);
                    members.append(probs);
                }
                o["members"] = QJsonObject{
                    {"probabilities", members}, {"agreeing", p->membersAgreeing}, {"spread", p->memberSpread}};
            }
            if (p->views > 1) {
                o["views"] = p->views;
                o["ttaExtraMs"] = std::max(0.0, p->latencyMs - p->singleViewMs);
            }
            if (p->ood.available)
                o["ood"] = QJsonObject{{"score", p->ood.score},
                                       {"percentile", p->ood.percentile},
                                       {"flagged", p->ood.flagged},
                                       {"method", QString::fromStdString(p->ood.method)}};
            if (!camFile.isEmpty())
                o["cam"] = QJsonObject{{"file", camFile},
                                       {"method", ml::toString(popts.cam)},
                                       {"class", p->camClass},
                                       {"layer", QString::fromStdString(p->camLayer)}};
            results.append(o);
        } else {
            std::printf("%s: %s (%.1f %%)", qPrintable(file), p->topClassName.c_str(), 100.0 * p->topProbability);
            if (card.ordinal)
                std::printf(", expected grade %.2f", p->expectedGrade);
            if (!card.cutPoints.empty())
                std::printf(" -> %s under the model's cut points",
                            card.classNames[static_cast<size_t>(p->grade)].c_str());
            if (p->views > 1)
                std::printf("  [%.1f ms on %s: %d views of test-time augmentation, %.1f ms for one]\n", p->latencyMs,
                            p->device.c_str(), p->views, p->singleViewMs);
            else
                std::printf("  [%.1f ms on %s]\n", p->latencyMs, p->device.c_str());
            if (p->memberProbabilities.size() > 1)
                std::printf("  %d of %zu networks of the ensemble agree; their %s probabilities spread +-%.1f %%\n",
                            p->membersAgreeing, p->memberProbabilities.size(), p->topClassName.c_str(),
                            100.0 * p->memberSpread);
            if (p->ood.available && p->ood.flagged)
                std::printf("  OUT OF DISTRIBUTION: this image is unlike the images this model was trained on "
                            "(%s score above %.1f %% of its validation images); do not trust the probabilities\n",
                            p->ood.method.c_str(), p->ood.percentile);
            else if (p->ood.available)
                std::printf("  in distribution (%s score at the %.0fth percentile of the validation images)\n",
                            p->ood.method.c_str(), p->ood.percentile);
            for (const auto& n : card.notCovered)
                std::printf("  (the model does not cover %s: it was trained without images of it)\n", n.c_str());
            for (size_t i = 0; i < p->probabilities.size(); ++i)
                std::printf("  %-20s %6.2f %%\n", card.classNames[i].c_str(), 100.0 * p->probabilities[i]);
            if (!camFile.isEmpty())
                std::printf("  %s map of class %d at %s -> %s\n", ml::toString(popts.cam), p->camClass,
                            p->camLayer.c_str(), qPrintable(camFile));
        }
    }
    if (json) {
        QJsonObject doc{{"model", cl.value("model")},
                        {"architecture", QString::fromStdString(card.architecture)},
                        {"task", QString::fromStdString(card.task)},
                        {"results", results}};
        if (!card.notCovered.empty()) {
            QJsonArray uncovered;
            for (const auto& n : card.notCovered)
                uncovered.append(QString::fromStdString(n));
            doc["notCovered"] = uncovered;
        }
        std::printf("%s", QJsonDocument(doc).toJson(QJsonDocument::Indented).constData());
    }
    return failures ? 1 : 0;
}

} // namespace lightbox::cli
