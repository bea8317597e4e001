// Evaluation of a bundle on a split, its report files, and what a run folder holds: splits,
// metrics.csv, the run's summary and a gallery of its samples.
#include "TrainingWorker.h"
#include "TrainingWorkerPrivate.h"

#include <data/Loader.h>
#include <ml/Bundle.h>
#include <ml/Json.h>
#include <ml/Runtime.h>

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <sstream>

namespace lightbox::jobs {

using namespace trainingworker;

namespace {

double finiteOr(double v, double fallback)
{
    return std::isfinite(v) ? v : fallback;
}

} // namespace

// ---------------------------------------------------------------------------------------
// Evaluation and reports

Result<EvaluationResult> evaluateBundle(const std::string& modelPath, const data::Dataset& dataset, data::Split split,
                                        const std::string& device, int threads, int batchSize, bool reducedPrecision,
                                        const ml::TtaOptions& tta)
{
    using R = Result<EvaluationResult>;
    auto loaded = ml::loadModel(modelPath);
    if (!loaded)
        return R::failure(loaded.error());
    const ml::ModelCard& card = loaded->card;
    if (card.numClasses() != static_cast<int>(dataset.classNames.size()))
        return R::failure("the model has " + std::to_string(card.numClasses()) + " classes, the data set " +
                          std::to_string(dataset.classNames.size()));
    const bool needFeatures = card.ood.valid() && card.ood.method == "mahalanobis";
    auto run =
        runOnSplit(loaded.value(), dataset, split, device, threads, batchSize, reducedPrecision, needFeatures, tta);
    if (!run)
        return R::failure(run.error());
    const ml::EvaluationOutput& out = run->out;
    EvaluationResult result;
    result.views = tta.views();
    std::vector<std::vector<float>> probabilities = out.probabilities;
    if (out.logits.size() == out.labels.size())
        for (size_t i = 0; i < out.logits.size(); ++i)
            probabilities[i] = ml::softmax(out.logits[i], card.temperature);
    if (card.ood.valid() && out.logits.size() == out.labels.size()) {
        result.oodMethod = card.ood.method;
        static const std::vector<float> none;
        for (size_t i = 0; i < out.logits.size(); ++i) {
            const auto& f = i < out.features.size() ? out.features[i] : none;
            result.ood.push_back(ml::scoreOod(card.ood, loaded->gaussians, f, out.logits[i]));
            result.oodFlagged += result.ood.back().flagged ? 1 : 0;
        }
    }
    result.report = ml::computeReport(out.labels, probabilities, card.classNames, card.ordinal, card.cutPoints);
    if (card.temperature != 1.0) {
        result.report.temperature = card.temperature;
        result.report.uncalibrated = ml::calibrationReport(out.labels, out.probabilities);
    }
    result.split = splitName(split);
    result.seconds = out.seconds;
    result.skipped = run->skipped;
    result.device = device;
    result.precision = reducedPrecision ? ml::reducedPrecisionName(device) : std::string();
    if (result.precision.empty())
        result.precision = "float32";
    return result;
}

Result<SplitOutput> runOnSplit(const ml::LoadedModel& model, const data::Dataset& dataset, data::Split split,
                               const std::string& device, int threads, int batchSize, bool reducedPrecision,
                               bool withFeatures, const ml::TtaOptions& tta)
{
    using R = Result<SplitOutput>;
    std::vector<data::Sample> samples = samplesOf(dataset, split);
    if (samples.empty())
        return R::failure(std::string("the data set has no samples in the ") + splitName(split) + " split");
    data::LoaderOptions lo;
    lo.batchSize = std::max(1, batchSize);
    lo.shuffle = false;
    lo.balanced = false;
    lo.dropLast = false;
    lo.cacheMiB = 0;
    data::ImageBatchSource source(std::move(samples), model.card.preprocess, lo);
    auto out = ml::evaluateModel(model.model, source, device, threads, reducedPrecision, withFeatures, tta);
    if (!out)
        return R::failure(out.error());
    if (out->labels.empty())
        return R::failure(std::string("no sample of the ") + splitName(split) + " split could be read");
    return SplitOutput{std::move(out.value()), source.skipped()};
}

void recordMetrics(ml::ModelCard& card, const std::string& prefix, const ml::ClassificationReport& rep)
{
    card.metrics[prefix + "accuracy"] = rep.accuracy;
    card.metrics[prefix + "macro_f1"] = rep.macroF1;
    card.metrics[prefix + "balanced_accuracy"] = rep.balancedAccuracy;
    if (std::isfinite(rep.macroAuc))
        card.metrics[prefix + "auc"] = rep.macroAuc;
    if (rep.ordinal) {
        if (std::isfinite(rep.quadraticKappa))
            card.metrics[prefix + "qwk"] = rep.quadraticKappa;
        card.metrics[prefix + "mae"] = rep.meanAbsoluteError;
    }
    card.metrics[prefix + "samples"] = static_cast<double>(rep.samples);
}

double EvaluationResult::oodFlaggedShare() const
{
    return ood.empty() ? kNaN : double(oodFlagged) / double(ood.size());
}

ml::Json EvaluationResult::toJson() const
{
    ml::Json::Object doc = report.toJson().object();
    auto number = [](double v) { return std::isfinite(v) ? ml::Json(v) : ml::Json(); };
    doc["views"] = views;
    if (!oodMethod.empty()) {
        doc["ood_method"] = oodMethod;
        doc["ood_flagged"] = static_cast<long long>(oodFlagged);
        doc["ood_flagged_share"] = number(oodFlaggedShare());
    }
    return ml::Json(doc);
}

Result<std::vector<std::string>> writeReportFiles(const EvaluationResult& result, const std::string& dir)
{
    using R = Result<std::vector<std::string>>;
    if (!QDir().mkpath(q(dir)))
        return R::failure(dir + ": cannot create the folder");
    ml::Json::Object doc = result.toJson().object();
    doc["split"] = result.split;
    doc["seconds"] = result.seconds;
    doc["skipped"] = stringArray(result.skipped);
    const std::vector<std::pair<const char*, std::string>> files = {{"report.json", ml::Json(doc).dump(2)},
                                                                    {"per_class.csv", result.report.perClassCsv()},
                                                                    {"confusion.csv", result.report.confusionCsv()}};
    std::vector<std::string> written;
    for (const auto& [name, text] : files) {
        const std::string path = joinPath(dir, name);
        if (!writeText(path, text))
            return R::failure(path + ": cannot write");
        written.push_back(path);
    }
    return written;
}

bool writeSplits(const data::Dataset& dataset, const std::string& runDir)
{
    std::string text = "id,split\n";
    for (const auto& s : dataset.samples)
        text += s.id + "," + data::toString(s.split) + "\n";
    return writeText(joinPath(runDir, "splits.csv"), text);
}

bool readSplits(data::Dataset& dataset, const std::string& runDir)
{
    std::string text;
    if (!readText(joinPath(runDir, "splits.csv"), text))
        return false;
    std::map<std::string, data::Split> byId;
    std::istringstream in(text);
    std::string line;
    std::getline(in, line); // header
    while (std::getline(in, line)) {
        const auto comma = line.rfind(',');
        if (comma == std::string::npos)
            continue;
        const std::string name = line.substr(comma + 1);
        data::Split s = data::Split::Unassigned;
        for (data::Split c : {data::Split::Train, data::Split::Val, data::Split::Test})
            if (name == data::toString(c))
                s = c;
        byId[line.substr(0, comma)] = s;
    }
    bool any = false;
    for (auto& s : dataset.samples) {
        auto it = byId.find(s.id);
        if (it != byId.end()) {
            s.split = it->second;
            any = true;
        }
    }
    return any;
}

Result<std::vector<ml::EpochMetrics>> readMetricsCsv(const std::string& path)
{
    using R = Result<std::vector<ml::EpochMetrics>>;
    std::string text;
    if (!readText(path, text))
        return R::failure(path + ": cannot read");
    std::istringstream in(text);
    std::string line;
    if (!std::getline(in, line))
        return R::failure(path + ": empty");
    auto split = [](const std::string& l) {
        std::vector<std::string> out;
        std::stringstream ss(l);
        std::string cell;
        while (std::getline(ss, cell, ','))
            out.push_back(cell);
        return out;
    };
    const std::vector<std::string> header = split(line);
    auto column = [&](std::initializer_list<const char*> names) {
        for (const char* n : names)
            for (size_t i = 0; i < header.size(); ++i)
                if (QString::fromStdString(header[i]).trimmed().compare(QLatin1String(n), Qt::CaseInsensitive) == 0)
                    return static_cast<int>(i);
        return -1;
    };
    const int cEpoch = column({"epoch"});
    const int cTl = column({"train_loss", "loss"});
    const int cTa = column({"train_accuracy", "train_acc", "accuracy"});
    const int cVl = column({"val_loss"});
    const int cVa = column({"val_accuracy", "val_acc"});
    const int cVq = column({"val_qwk", "qwk"});
    const int cLr = column({"learning_rate", "lr"});
    const int cSec = column({"seconds"});
    const int cIps = column({"images_per_second"});
    const int cBest = column({"best"});
    if (cEpoch < 0 || cTl < 0)
        return R::failure(path + ": not a metrics.csv (no epoch and train_loss columns)");
    std::vector<ml::EpochMetrics> rows;
    while (std::getline(in, line)) {
        if (line.empty() || line == "\r")
            continue;
        const auto cells = split(line);
        auto at = [&](int c) {
            if (c < 0 || c >= static_cast<int>(cells.size()))
                return kNaN;
            bool ok = false;
            const double v = QString::fromStdString(cells[c]).trimmed().toDouble(&ok);
            return ok ? v : kNaN;
        };
        ml::EpochMetrics r;
        r.epoch = static_cast<int>(finiteOr(at(cEpoch), static_cast<double>(rows.size())));
        r.trainLoss = at(cTl);
        r.trainAccuracy = at(cTa);
        r.valLoss = at(cVl);
        r.valAccuracy = at(cVa);
        r.valQwk = at(cVq);
        r.learningRate = at(cLr);
        r.seconds = at(cSec);
        r.imagesPerSecond = at(cIps);
        r.best = at(cBest) == 1.0;
        rows.push_back(r);
    }
    return rows;
}

Result<RunInfo> readRunFolder(const std::string& dir)
{
    using R = Result<RunInfo>;
    RunInfo info;
    info.dir = dir;
    std::string text;
    ml::TrainConfig config;
    bool haveConfig = false;
    if (readText(joinPath(dir, "run.json"), text)) {
        if (auto r = TrainingRequest::fromJsonText(text)) {
            config = r->config;
            haveConfig = true;
        }
        ml::Json j;
        std::string error;
        if (ml::Json::parse(text, j, error) && j.isObject())
            info.worldSize = std::max(1, j["worldSize"].toInt(1));
    }
    if (!haveConfig && readText(joinPath(dir, "config.json"), text)) {
        if (auto c = ml::TrainConfig::fromJsonText(text)) {
            config = c.value();
            haveConfig = true;
        }
    }
    auto rows = readMetricsCsv(joinPath(dir, "metrics.csv"));
    if (!haveConfig && !rows)
        return R::failure(dir + ": not a run folder (no config.json or metrics.csv)");
    info.architecture = haveConfig ? config.architecture : std::string("?");
    info.task = config.task;
    info.bestValQwk = kNaN;
    if (rows) {
        info.epochs = static_cast<int>(rows->size());
        // The epoch the trainer kept (the last one flagged best, as best.lbx); without flags
        // the one with the highest val accuracy.
        const ml::EpochMetrics* best = nullptr;
        for (const auto& row : rows.value())
            if (row.best)
                best = &row;
        for (const auto& row : rows.value())
            if (!best || (!best->best && std::isfinite(row.valAccuracy) &&
                          (!std::isfinite(best->valAccuracy) || row.valAccuracy > best->valAccuracy)))
                best = &row;
        if (best) {
            info.bestEpoch = best->epoch;
            info.bestValAccuracy = best->valAccuracy;
            info.bestValQwk = best->valQwk;
        }
    }
    info.reportAccuracy = kNaN;
    info.reportQwk = kNaN;
    if (readText(joinPath(dir, "report.json"), text)) {
        ml::Json j;
        std::string error;
        if (ml::Json::parse(text, j, error)) {
            info.reportAccuracy = j["accuracy"].toNumber(kNaN);
            if (j["ordinal"].toBool(false))
                info.reportQwk = j["quadraticKappa"].toNumber(j["quadratic_kappa"].toNumber(kNaN));
            info.reportSplit = j["split"].toString();
        }
    }
    info.resumable = ml::Trainer::canResume(dir);
    return info;
}

SampleGallery sampleGallery(const data::Dataset& dataset, const std::vector<std::string>& classNames,
                            const std::string& augmentPreset, int perClass, uint64_t seed, int maxSide)
{
    SampleGallery gallery;
    gallery.classNames = classNames;
    gallery.augmentPreset = augmentPreset;
    std::vector<data::Sample> train = samplesOf(dataset, data::Split::Train);
    std::mt19937_64 rng(seed);
    std::shuffle(train.begin(), train.end(), rng);
    std::vector<data::Sample> picked;
    std::vector<int> taken(classNames.size(), 0);
    for (const auto& s : train)
        if (s.label >= 0 && s.label < static_cast<int>(taken.size()) && taken[s.label] < perClass) {
            ++taken[s.label];
            picked.push_back(s);
        }
    std::stable_sort(picked.begin(), picked.end(),
                     [](const data::Sample& a, const data::Sample& b) { return a.label < b.label; });
    data::LoaderOptions lo;
    lo.threads = 1;
    lo.cacheMiB = 64;
    if (!data::AugmentOptions::fromPreset(augmentPreset, lo.augment))
        lo.augment = data::AugmentOptions{};
    ml::PreprocessSpec spec; // previews ignore it
    const data::ImageBatchSource plain(picked, spec, [&] {
        data::LoaderOptions o = lo;
        o.augment = data::AugmentOptions{};
        return o;
    }());
    const data::ImageBatchSource augmented(picked, spec, lo);
    auto thumbnail = [&](const cv::Mat& m, const data::Sample& s, bool aug) {
        Thumbnail t;
        t.label = s.label;
        t.id = s.id;
        t.augmented = aug;
        // Box-average by a whole factor so the thumbnail fits maxSide (no imgproc here).
        const int factor = std::max(1, (std::max(m.cols, m.rows) + maxSide - 1) / std::max(1, maxSide));
        t.width = m.cols / factor;
        t.height = m.rows / factor;
        t.channels = m.channels();
        if (t.width < 1 || t.height < 1 || (t.channels != 1 && t.channels != 3) || m.depth() != CV_8U)
            return t;
        t.pixels.resize(static_cast<size_t>(t.width) * t.height * t.channels);
        for (int y = 0; y < t.height; ++y)
            for (int x = 0; x < t.width; ++x)
                for (int c = 0; c < t.channels; ++c) {
                    int sum = 0;
                    for (int dy = 0; dy < factor; ++dy) {
                        const uint8_t* row = m.ptr<uint8_t>(y * factor + dy);
                        for (int dx = 0; dx < factor; ++dx)
                            sum += row[(x * factor + dx) * t.channels + c];
                    }
                    t.pixels[(static_cast<size_t>(y) * t.width + x) * t.channels + c] =
                        static_cast<uint8_t>(sum / (factor * factor));
                }
        return t;
    };
    for (int i = 0; i < static_cast<int>(picked.size()); ++i) {
        auto a = plain.preview(i, seed + i);
        auto b = augmented.preview(i, seed + i);
        if (!a || !b)
            continue;
        Thumbnail ta = thumbnail(a.value(), picked[i], false);
        Thumbnail tb = thumbnail(b.value(), picked[i], true);
        if (!ta.pixels.empty() && !tb.pixels.empty()) {
            gallery.thumbnails.push_back(std::move(ta));
            gallery.thumbnails.push_back(std::move(tb));
        }
    }
    return gallery;
}

} // namespace lightbox::jobs
