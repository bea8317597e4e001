#include "Shared.h"

#include <data/ModelInput.h>
#include <imaging/ImageLoader.h>
#include <jobs/TrainingWorker.h>
#include <ml/Bundle.h>

#include <opencv2/imgproc.hpp>

#include <QFileInfo>

#include <algorithm>
#include <cmath>
#include <map>

namespace lightbox::cli {

void addDeviceOption(CommandLine& cl)
{
    cl.option("device", "D", "auto (default: a GPU when there is one), cpu, cuda or cuda:N.");
}

void addFrameOption(CommandLine& cl)
{
    cl.option("frame", "N", "The frame of a multi-frame file (0-based).");
}

bool windowOption(CommandLine& cl, imaging::RenderParams& p)
{
    if (!cl.has("window"))
        return true;
    const QStringList cw = cl.value("window").split(',');
    bool okC = false, okW = false;
    double center = 0, width = 0;
    if (cw.size() == 2) {
        center = cw[0].toDouble(&okC);
        width = cw[1].toDouble(&okW);
    }
    if (!okC || !okW || !std::isfinite(center) || !std::isfinite(width) || width <= 0) {
        cl.usageError(QStringLiteral("--window needs CENTER,WIDTH with WIDTH > 0 (got '%1')").arg(cl.value("window")));
        return false;
    }
    p.window.center = center;
    p.window.width = width;
    p.useVoiLut = false;
    return true;
}

bool roiOption(CommandLine& cl, cv::Rect& out)
{
    if (!cl.has("roi"))
        return true;
    const QStringList r = cl.value("roi").split(',');
    bool ok = r.size() == 4;
    int v[4] = {0, 0, 0, 0};
    for (int i = 0; ok && i < 4; ++i)
        v[i] = r[i].trimmed().toInt(&ok);
    if (!ok || v[2] < 1 || v[3] < 1) {
        cl.usageError(
            QStringLiteral("--roi needs X,Y,W,H in image pixels with W, H > 0 (got '%1')").arg(cl.value("roi")));
        return false;
    }
    out = cv::Rect(v[0], v[1], v[2], v[3]);
    return true;
}

QString camPath(const QString& out, const QString& input, bool several)
{
    if (!several)
        return out;
    const QFileInfo o(out);
    const QString stem = QFileInfo(input).completeBaseName();
    return o.path() + "/" + o.completeBaseName() + "-" + stem + "." + (o.suffix().isEmpty() ? "png" : o.suffix());
}

cv::Mat camOverlay(const cv::Mat& crop8, const ml::CamMap& cam)
{
    cv::Mat map(cam.height, cam.width, CV_32F, const_cast<float*>(cam.values.data()));
    cv::Mat resized, map8, colour, base;
    cv::resize(map, resized, crop8.size(), 0, 0, cv::INTER_LINEAR);
    resized.convertTo(map8, CV_8U, 255.0);
    cv::applyColorMap(map8, colour, cv::COLORMAP_JET);
    cv::cvtColor(colour, colour, cv::COLOR_BGR2RGB);
    if (crop8.channels() == 1)
        cv::cvtColor(crop8, base, cv::COLOR_GRAY2RGB);
    else
        base = crop8;
    cv::Mat out;
    cv::addWeighted(base, 0.6, colour, 0.4, 0.0, out);
    return out;
}

int loadReaderView(CommandLine& cl, imaging::Image& img, cv::Mat& view)
{
    const QString file = cl.positional().front();
    imaging::LoadOptions lopts;
    if (!cl.integer("frame", 0, CommandLine::kIntMax, lopts.frame))
        return cl.exitCode();
    auto loaded = imaging::loadImage(file.toStdString(), lopts);
    if (!loaded)
        return fail(file, loaded.error());
    auto shown = data::modelView(loaded.value(), std::nullopt);
    if (!shown)
        return fail(file, shown.error());
    img = std::move(loaded.value());
    view = shown.value();
    return 0;
}

int classifyWithCam(const CommandLine& cl, const cv::Mat& view, ml::Prediction& prediction, ml::ModelCard& card)
{
    ml::ClassifierOptions copts;
    if (cl.has("device"))
        copts.device = cl.text("device");
    auto classifier = ml::Classifier::load(cl.text("model"), copts);
    if (!classifier)
        return fail(cl.value("model"), classifier.error());
    ml::PredictOptions popts;
    popts.cam = ml::CamMethod::GradCam;
    auto p = classifier->predictRaw(data::toRawImage(view), popts);
    if (!p)
        return fail(cl.positional().front(), p.error());
    prediction = std::move(p.value());
    card = classifier->card();
    return 0;
}

std::string number(double v, const char* format)
{
    if (!std::isfinite(v))
        return "-";
    char buf[32];
    std::snprintf(buf, sizeof buf, format, v);
    return buf;
}

void printReport(const ml::ClassificationReport& r, FILE* out)
{
    std::fprintf(out, "samples %lld  accuracy %s  balanced accuracy %s  macro F1 %s  macro AUC %s\n",
                 static_cast<long long>(r.samples), number(r.accuracy).c_str(), number(r.balancedAccuracy).c_str(),
                 number(r.macroF1).c_str(), number(r.macroAuc).c_str());
    if (r.ordinal)
        std::fprintf(out, "quadratic weighted kappa %s  mean absolute error %s (grades)\n",
                     number(r.quadraticKappa).c_str(), number(r.meanAbsoluteError).c_str());
    size_t nameWidth = 5;
    for (const auto& n : r.classNames)
        nameWidth = std::max(nameWidth, n.size());
    const int w = static_cast<int>(std::min<size_t>(nameWidth, 40));
    std::fprintf(out, "%-*s  precision  recall  f1      support  auc     predicted\n", w, "class");
    for (int c = 0; c < r.numClasses; ++c) {
        const ml::ClassScores s = c < static_cast<int>(r.perClass.size()) ? r.perClass[c] : ml::ClassScores{};
        const double auc = c < static_cast<int>(r.roc.size()) ? r.roc[c].auc : NAN;
        const long long predicted = c < static_cast<int>(r.predictedCounts.size()) ? r.predictedCounts[c] : 0;
        std::fprintf(out, "%-*s  %-9s  %-6s  %-6s  %7lld  %-6s  %9lld\n", w, r.classNames[c].c_str(),
                     number(s.precision, "%.3f").c_str(), number(s.recall, "%.3f").c_str(),
                     number(s.f1, "%.3f").c_str(), static_cast<long long>(s.support), number(auc, "%.3f").c_str(),
                     predicted);
    }
    std::fprintf(out, "confusion matrix (rows: true, columns: predicted)\n");
    for (int t = 0; t < static_cast<int>(r.confusion.size()); ++t) {
        std::fprintf(out, "%-*s ", w, r.classNames[t].c_str());
        for (int64_t v : r.confusion[t])
            std::fprintf(out, " %6lld", static_cast<long long>(v));
        std::fprintf(out, "\n");
    }
}

Result<std::string> applyModelSplits(const CommandLine& cl, data::Dataset& dataset, int seed, bool* carved)
{
    if (carved)
        *carved = false;
    QString dir = cl.has("splits") ? cl.value("splits") : QFileInfo(cl.value("model")).absolutePath();
    if (QFileInfo(dir).isFile())
        dir = QFileInfo(dir).absolutePath();
    const std::string runDir = dir.toStdString();
    if (cl.has("splits") && !QFileInfo::exists(dir + "/splits.csv"))
        return Result<std::string>::failure("no splits.csv in " + runDir);
    if (jobs::readSplits(dataset, runDir))
        return cl.has("splits") ? "splits.csv in " + runDir : std::string("splits.csv of the run folder");
    data::SplitOptions so;
    so.seed = static_cast<uint64_t>(seed);
    data::assignSplits(dataset, so);
    if (carved)
        *carved = !dataset.hasGivenSplits;
    return dataset.hasGivenSplits ? std::string("given splits")
                                  : "split 8:1:1 by patient, seed " + std::to_string(seed);
}

Result<std::string> writeEnsemble(const std::vector<std::string>& paths, const std::string& out)
{
    using R = Result<std::string>;
    std::vector<ml::Model> models;
    ml::ModelCard card;
    for (const auto& path : paths) {
        auto m = ml::loadModel(path);
        if (!m)
            return R::failure(path + ": " + m.error());
        if (models.empty()) {
            card = m->card;
        } else if (m->card.classNames != card.classNames || m->card.task != card.task ||
                   m->card.preprocess.width != card.preprocess.width ||
                   m->card.preprocess.height != card.preprocess.height ||
                   m->card.preprocess.channels != card.preprocess.channels ||
                   m->card.preprocess.mean != card.preprocess.mean || m->card.preprocess.std != card.preprocess.std) {
            return R::failure(path + ": its task, classes or preprocessing differ from " + paths[0] + "'s");
        }
        models.push_back(m->model);
    }
    auto ensemble = ml::makeEnsemble(models);
    if (!ensemble)
        return R::failure(ensemble.error());
    std::map<std::string, double> kept;
    for (const auto& [k, v] : card.metrics)
        if (k.rfind("shortcut_", 0) == 0)
            kept[k] = v;
    card.metrics = kept;
    card.temperature = 1.0;
    card.cutPoints.clear();
    card.ood = ml::OodCard();
    card.created = ml::isoTimestampUtc();
    std::string summary = "ensemble of " + std::to_string(paths.size()) + " networks averaged:";
    for (const auto& path : paths)
        summary += " " + QFileInfo(QString::fromStdString(path)).fileName().toStdString();
    card.trainingSummary = summary + "; first member: " + card.trainingSummary;
    if (auto saved = ml::saveBundle(ensemble.value(), card, out); !saved)
        return R::failure(saved.error());
    return out;
}

} // namespace lightbox::cli
