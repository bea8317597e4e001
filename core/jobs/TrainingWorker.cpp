#include "TrainingWorker.h"

#include <data/Loader.h>
#include <ml/Bundle.h>
#include <ml/Json.h>
#include <ml/Runtime.h>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QTextStream>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <sstream>

namespace lightbox::jobs {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

QString q(const std::string& s)
{
    return QString::fromStdString(s);
}

std::string joinPath(const std::string& dir, const char* name)
{
    return QDir(q(dir)).filePath(QString::fromLatin1(name)).toStdString();
}

bool readText(const std::string& path, std::string& out)
{
    QFile f(q(path));
    if (!f.open(QIODevice::ReadOnly))
        return false;
    out = f.readAll().toStdString();
    return true;
}

bool writeText(const std::string& path, const std::string& text)
{
    QSaveFile f(q(path));
    if (!f.open(QIODevice::WriteOnly))
        return false;
    f.write(text.data(), static_cast<qint64>(text.size()));
    return f.commit();
}

ml::Json stringArray(const std::vector<std::string>& v)
{
    ml::Json::Array a;
    for (const auto& s : v)
        a.emplace_back(s);
    return ml::Json(a);
}

std::vector<std::string> toStrings(const ml::Json& j)
{
    std::vector<std::string> out;
    for (const auto& e : j.array())
        out.push_back(e.toString());
    return out;
}

std::vector<data::Sample> samplesOf(const data::Dataset& dataset, data::Split split)
{
    std::vector<data::Sample> out;
    for (const auto& s : dataset.samples)
        if (split == data::Split::Unassigned || s.split == split)
            out.push_back(s);
    return out;
}

const char* splitName(data::Split split)
{
    return split == data::Split::Unassigned ? "all" : data::toString(split);
}

/// The card metrics key prefix for a split ("test_", "val_").
std::string metricPrefix(const std::string& split)
{
    return split + "_";
}

double finiteOr(double v, double fallback)
{
    return std::isfinite(v) ? v : fallback;
}

/// The names the request gives the data set's classes (the preset's display names, else the
/// folder or label names).
std::vector<std::string> displayNames(const TrainingRequest& req, const std::vector<std::string>& classNames)
{
    return req.config.classNames.size() == classNames.size() ? req.config.classNames : classNames;
}

} // namespace

// ---------------------------------------------------------------------------------------
// Requests

std::string TrainingRequest::toJsonText() const
{
    ml::Json::Object o;
    o["format"] = 1;
    o["dataPath"] = dataPath;
    o["presetId"] = presetId;
    ml::Json::Object ds;
    ds["classes"] = stringArray(dataset.classes);
    ml::Json::Array aliases;
    for (const auto& [a, c] : dataset.aliases)
        aliases.emplace_back(ml::Json::Array{ml::Json(a), ml::Json(c)});
    ds["aliases"] = ml::Json(aliases);
    ds["csvPathColumn"] = dataset.csvPathColumn;
    ds["csvLabelColumn"] = dataset.csvLabelColumn;
    ds["csvPathPattern"] = dataset.csvPathPattern;
    ds["imageDir"] = dataset.imageDir;
    ds["patientPattern"] = dataset.patientPattern;
    o["dataset"] = ml::Json(ds);
    o["split"] = ml::Json(ml::Json::Object{{"train", split.train},
                                           {"val", split.val},
                                           {"test", split.test},
                                           {"seed", static_cast<double>(split.seed)},
                                           {"groupByPatient", split.groupByPatient},
                                           {"keepGivenSplits", split.keepGivenSplits}});
    ml::Json config;
    std::string error;
    if (ml::Json::parse(this->config.toJsonText(), config, error))
        o["config"] = config;
    o["batchSize"] = batchSize;
    o["balanced"] = balanced;
    o["classWeightsFromCounts"] = classWeightsFromCounts;
    o["augmentPreset"] = augmentPreset;
    o["loaderThreads"] = loaderThreads;
    o["cacheMiB"] = cacheMiB;
    o["checkLeakage"] = checkLeakage;
    o["skipEmptyClasses"] = skipEmptyClasses;
    o["checkShortcut"] = checkShortcut;
    return ml::Json(o).dump(2);
}

Result<TrainingRequest> TrainingRequest::fromJsonText(const std::string& text)
{
    ml::Json j;
    std::string error;
    if (!ml::Json::parse(text, j, error) || !j.isObject())
        return Result<TrainingRequest>::failure("run.json is not valid JSON: " + error);
    TrainingRequest r;
    r.dataPath = j["dataPath"].toString();
    r.presetId = j["presetId"].toString();
    const ml::Json& ds = j["dataset"];
    r.dataset.classes = toStrings(ds["classes"]);
    for (const auto& pair : ds["aliases"].array())
        if (pair.array().size() == 2)
            r.dataset.aliases.emplace_back(pair.array()[0].toString(), pair.array()[1].toString());
    r.dataset.csvPathColumn = ds["csvPathColumn"].toString();
    r.dataset.csvLabelColumn = ds["csvLabelColumn"].toString();
    r.dataset.csvPathPattern = ds["csvPathPattern"].toString();
    r.dataset.imageDir = ds["imageDir"].toString();
    r.dataset.patientPattern = ds["patientPattern"].toString();
    const ml::Json& sp = j["split"];
    r.split.train = sp["train"].toNumber(0.8);
    r.split.val = sp["val"].toNumber(0.1);
    r.split.test = sp["test"].toNumber(0.1);
    r.split.seed = static_cast<uint64_t>(sp["seed"].toNumber(42));
    r.split.groupByPatient = sp["groupByPatient"].toBool(true);
    r.split.keepGivenSplits = sp["keepGivenSplits"].toBool(true);
    if (!j.contains("config"))
        return Result<TrainingRequest>::failure("run.json has no training configuration");
    auto config = ml::TrainConfig::fromJsonText(j["config"].dump(2));
    if (!config)
        return Result<TrainingRequest>::failure("run.json: " + config.error());
    r.config = config.value();
    r.batchSize = j["batchSize"].toInt(32);
    r.balanced = j["balanced"].toBool(false);
    r.classWeightsFromCounts = j["classWeightsFromCounts"].toBool(false);
    r.augmentPreset = j["augmentPreset"].toString("light");
    r.loaderThreads = j["loaderThreads"].toInt(0);
    r.cacheMiB = j["cacheMiB"].toInt(1024);
    r.checkLeakage = j["checkLeakage"].toBool(true);
    r.skipEmptyClasses = j["skipEmptyClasses"].toBool(false);
    r.checkShortcut = j["checkShortcut"].toBool(false);
    if (r.dataPath.empty())
        return Result<TrainingRequest>::failure("run.json names no data set");
    return r;
}

Result<TrainingRequest> TrainingRequest::fromRunFolder(const std::string& runDir)
{
    std::string text;
    if (!QFileInfo(q(runDir)).isDir())
        return Result<TrainingRequest>::failure(runDir + ": no such run folder");
    if (!readText(joinPath(runDir, "run.json"), text))
        return Result<TrainingRequest>::failure(runDir + ": not a Lightbox run folder (no run.json)");
    auto r = fromJsonText(text);
    if (!r)
        return Result<TrainingRequest>::failure(runDir + ": " + r.error());
    r->config.runDir = runDir;
    // A run stopped before its first epoch was committed starts again from epoch 1.
    r->resume = ml::Trainer::canResume(runDir);
    return r;
}

ml::PreprocessSpec defaultPreprocess(int channels, int size)
{
    ml::PreprocessSpec spec;
    spec.width = spec.height = size;
    spec.channels = channels;
    if (channels == 1) {
        spec.mean = {0.449f};
        spec.std = {0.226f};
    }
    return spec;
}

data::DatasetOptions datasetOptionsForModel(const data::TaskPreset* preset, const ml::ModelCard& card)
{
    data::DatasetOptions o = datasetOptionsFor(preset);
    if (!preset) {
        o.classes = card.classNames;
        return o;
    }
    if (card.notCovered.empty())
        return o;
    std::vector<std::string> kept;
    for (size_t i = 0; i < preset->classes.size(); ++i) {
        const std::string& shown = i < preset->displayNames.size() ? preset->displayNames[i] : preset->classes[i];
        if (std::find(card.notCovered.begin(), card.notCovered.end(), shown) == card.notCovered.end() &&
            std::find(card.notCovered.begin(), card.notCovered.end(), preset->classes[i]) == card.notCovered.end())
            kept.push_back(preset->classes[i]);
    }
    o.classes = kept;
    return o;
}

Result<std::vector<std::string>> emptyClasses(const TrainingRequest& request)
{
    data::DatasetOptions listing = request.dataset;
    listing.groupIdenticalFiles = false; // counting needs the listing alone, not every file's bytes
    auto loaded = data::loadDataset(request.dataPath, listing);
    if (!loaded)
        return Result<std::vector<std::string>>::failure(loaded.error());
    const std::vector<std::string> names = displayNames(request, loaded->classNames);
    std::vector<std::string> out;
    for (size_t i : loaded->emptyClasses())
        out.push_back(names[i]);
    return out;
}

data::DatasetOptions datasetOptionsFor(const data::TaskPreset* preset)
{
    data::DatasetOptions o;
    if (!preset)
        return o;
    o.classes = preset->classes;
    o.aliases = preset->aliases;
    o.csvPathColumn = preset->csvPathColumn;
    o.csvLabelColumn = preset->csvLabelColumn;
    o.csvPathPattern = preset->csvPathPattern;
    o.patientPattern = preset->patientPattern;
    return o;
}

void applyPreset(const data::TaskPreset& preset, TrainingRequest& request)
{
    request.presetId = preset.id;
    request.dataset = datasetOptionsFor(&preset);
    ml::TrainConfig& c = request.config;
    c.task = preset.id;
    c.classNames = preset.displayNames.size() == preset.classes.size() ? preset.displayNames : preset.classes;
    c.ordinal = preset.ordinal;
    c.preprocess = defaultPreprocess(preset.channels, preset.inputSize);
    if (!preset.architecture.empty())
        c.architecture = preset.architecture;
    if (!preset.augmentation.empty())
        request.augmentPreset = preset.augmentation;
}

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

// ---------------------------------------------------------------------------------------
// Worker

void registerTrainingMetaTypes()
{
    qRegisterMetaType<DatasetSummary>("lightbox::jobs::DatasetSummary");
    qRegisterMetaType<LeakageSummary>("lightbox::jobs::LeakageSummary");
    qRegisterMetaType<ShortcutReport>("lightbox::jobs::ShortcutReport");
    qRegisterMetaType<SampleGallery>("lightbox::jobs::SampleGallery");
    qRegisterMetaType<TrainingOutcome>("lightbox::jobs::TrainingOutcome");
    qRegisterMetaType<ml::BatchMetrics>("lightbox::ml::BatchMetrics");
    qRegisterMetaType<ml::EpochMetrics>("lightbox::ml::EpochMetrics");
}

TrainingWorker::TrainingWorker(TrainingRequest request, QObject* parent)
    : QObject(parent), m_request(std::move(request))
{
    registerTrainingMetaTypes();
    m_batchClock.start();
}

TrainingWorker::~TrainingWorker() = default;

void TrainingWorker::pause()
{
    m_control.pause = true;
}

void TrainingWorker::resume()
{
    m_control.pause = false;
}

void TrainingWorker::stop()
{
    m_control.stop = true;
    m_control.pause = false;
}

bool TrainingWorker::isPaused() const
{
    return m_control.pause.load();
}

bool TrainingWorker::isStopRequested() const
{
    return m_control.stop.load();
}

void TrainingWorker::batchFinished(const ml::BatchMetrics& metrics)
{
    const qint64 now = m_batchClock.elapsed();
    const int rate = std::max(1, m_request.batchSignalsPerSecond);
    const bool last = metrics.batch + 1 >= metrics.batchCount;
    if (!last && now - m_lastBatchSignalMs < 1000 / rate)
        return;
    m_lastBatchSignalMs = now;
    emit batchProgress(metrics);
}

void TrainingWorker::epochFinished(const ml::EpochMetrics& metrics)
{
    emit epochCompleted(metrics);
}

void TrainingWorker::message(const std::string& text)
{
    emit logMessage(q(text));
}

void TrainingWorker::run()
{
    Result<TrainingOutcome> r = Result<TrainingOutcome>::failure("training did not start");
    try {
        r = runJob();
    } catch (const std::exception& e) {
        r = Result<TrainingOutcome>::failure(std::string("training failed: ") + e.what());
    } catch (...) {
        r = Result<TrainingOutcome>::failure("training failed with an unknown error");
    }
    if (r)
        emit finished(r.value());
    else
        emit failed(q(r.error()));
}

Result<TrainingOutcome> TrainingWorker::runJob()
{
    using R = Result<TrainingOutcome>;
    TrainingRequest& req = m_request;
    ml::TrainConfig& config = req.config;
    if (config.runDir.empty())
        return R::failure("no run folder given");
    if (req.batchSize < 1)
        return R::failure("the batch size must be at least 1");

    emit stageChanged(tr("Loading data set"));
    auto loaded = data::loadDataset(req.dataPath, req.dataset);
    if (!loaded)
        return R::failure(loaded.error());
    data::Dataset& dataset = loaded.value();
    if (const std::vector<size_t> empty = dataset.emptyClasses(); !empty.empty()) {
        // A class without images cannot be learnt: refuse, or leave it out on request.
        const std::vector<std::string> names = displayNames(req, dataset.classNames);
        std::string list;
        for (size_t i : empty)
            list += (list.empty() ? "" : ", ") + names[i];
        const size_t kept = names.size() - empty.size();
        if (!req.skipEmptyClasses)
            return R::failure("the data set has no images of " + list + ": a model cannot learn a class it never " +
                              "sees. Train on the " + std::to_string(kept) +
                              " classes that have images (--skip-empty-classes), and the model card will say " +
                              "that it does not cover " + list);
        if (kept < 2)
            return R::failure("the data set has images of fewer than two classes (none of " + list + ")");
        dataset.removeEmptyClasses();
        config.classNames.clear();
        for (size_t i = 0; i < names.size(); ++i)
            (std::binary_search(empty.begin(), empty.end(), i) ? config.notCovered : config.classNames)
                .push_back(names[i]);
        req.dataset.classes = dataset.classNames; // run.json: a resumed run reads the same classes
        emit logMessage(tr("No images of %1: training on the %2 classes that have images; the model will not "
                           "cover %1")
                            .arg(q(list))
                            .arg(kept));
    }
    const bool splitsFromRun = req.resume && readSplits(dataset, config.runDir);
    if (!splitsFromRun)
        data::assignSplits(dataset, req.split);
    if (config.classNames.empty())
        config.classNames = dataset.classNames;
    if (config.classNames.size() != dataset.classNames.size())
        return R::failure("the data set has " + std::to_string(dataset.classNames.size()) + " classes, the task " +
                          std::to_string(config.classNames.size()));

    DatasetSummary ds;
    ds.root = dataset.root;
    ds.classNames = config.classNames;
    ds.hasGivenSplits = dataset.hasGivenSplits;
    ds.samples = static_cast<int64_t>(dataset.samples.size());
    ds.skipped = dataset.skipped;
    for (data::Split s : {data::Split::Train, data::Split::Val, data::Split::Test})
        ds.countsPerSplit.push_back(dataset.classCounts(s));
    ds.stats = data::datasetStats(dataset, 500);
    emit datasetReady(ds);
    if (req.galleryPerClass > 0)
        emit samplesReady(
            sampleGallery(dataset, config.classNames, req.augmentPreset, req.galleryPerClass, config.seed));
    if (dataset.inSplit(data::Split::Train).empty())
        return R::failure("the data set has no training samples");
    {
        // A class with a handful of training images is learnt barely, if at all: say so.
        const std::vector<int64_t> train = dataset.classCounts(data::Split::Train);
        for (size_t i = 0; i < train.size() && i < config.classNames.size(); ++i)
            if (train[i] < 10)
                emit logMessage(tr("Only %1 training image(s) of %2: the model will hardly learn it")
                                    .arg(train[i])
                                    .arg(q(config.classNames[i])));
        if (dataset.conflictingDuplicates > 0)
            emit logMessage(tr("%1 set(s) of identical images filed under different classes were left out "
                               "(contradictory labels)")
                                .arg(dataset.conflictingDuplicates));
    }
    if (req.classWeightsFromCounts && !req.resume) {
        // w_c = N / (K * n_c): a class with half the samples weighs twice as much.
        const std::vector<int64_t> counts = dataset.classCounts(data::Split::Train);
        int64_t total = 0;
        for (int64_t n : counts)
            total += n;
        // Capped at kMaxClassWeight: two images of a class must not outweigh hundreds of others
        // in every batch they appear in (the ISIC set keeps 2 seborrheic keratoses).
        constexpr double kMaxClassWeight = 10.0;
        config.classWeights.clear();
        for (size_t c = 0; c < counts.size(); ++c) {
            const int64_t n = counts[c];
            double w = n > 0 ? double(total) / (double(counts.size()) * double(n)) : 0.0;
            if (w > kMaxClassWeight) {
                emit logMessage(tr("The class weight of %1 (%2 training images) is capped at %3 instead of %4")
                                    .arg(c < config.classNames.size() ? q(config.classNames[c]) : QString::number(c))
                                    .arg(n)
                                    .arg(kMaxClassWeight)
                                    .arg(w, 0, 'f', 1));
                w = kMaxClassWeight;
            }
            config.classWeights.push_back(static_cast<float>(w));
        }
    }
    if (dataset.inSplit(data::Split::Val).empty())
        emit logMessage(tr("No validation split: the last epoch counts as the best and early stopping is off"));

    if (req.checkLeakage && !m_control.stop) {
        emit stageChanged(tr("Checking for leakage"));
        LeakageSummary leak;
        leak.checked = true;
        leak.report = data::checkLeakage(dataset);
        emit leakageChecked(leak);
    }

    TrainingOutcome outcome;
    outcome.runDir = config.runDir;
    if (req.checkShortcut && !req.resume && !m_control.stop) {
        emit stageChanged(tr("Checking for shortcuts (image centres blanked)"));
        ShortcutOptions so;
        so.channels = config.preprocess.channels;
        so.device = config.device;
        so.threads = config.threads;
        so.loaderThreads = req.loaderThreads;
        so.seed = config.seed;
        auto sc = checkShortcut(dataset, config.classNames, so, &m_control);
        if (sc) {
            outcome.shortcut = sc.value();
            if (sc->checked)
                emit shortcutChecked(sc.value());
        } else {
            emit logMessage(tr("The shortcut check failed: %1").arg(q(sc.error())));
        }
    }
    if (m_control.stop) {
        outcome.summary.cancelled = true;
        return outcome;
    }

    if (!QDir().mkpath(q(config.runDir)))
        return R::failure(config.runDir + ": cannot create the run folder");
    if (!writeSplits(dataset, config.runDir) || !writeText(joinPath(config.runDir, "run.json"), req.toJsonText()))
        return R::failure(config.runDir + ": cannot write into the run folder");

    data::AugmentOptions augment;
    if (!data::AugmentOptions::fromPreset(req.augmentPreset, augment))
        return R::failure("unknown augmentation preset '" + req.augmentPreset + "'");
    data::LoaderOptions trainOptions;
    trainOptions.batchSize = req.batchSize;
    trainOptions.shuffle = true;
    trainOptions.balanced = req.balanced;
    trainOptions.augment = augment;
    trainOptions.threads = req.loaderThreads;
    trainOptions.seed = config.seed;
    trainOptions.cacheMiB = req.cacheMiB;
    data::LoaderOptions valOptions = trainOptions;
    valOptions.shuffle = false;
    valOptions.balanced = false;
    valOptions.augment = data::AugmentOptions{};

    data::ImageBatchSource trainSource(samplesOf(dataset, data::Split::Train), config.preprocess, trainOptions);
    std::vector<data::Sample> valSamples = samplesOf(dataset, data::Split::Val);
    const bool haveVal = !valSamples.empty();
    data::ImageBatchSource valSource(std::move(valSamples), config.preprocess, valOptions);

    emit stageChanged(tr("Training"));
    m_batchClock.restart();
    m_lastBatchSignalMs = -1000000;
    auto trained = ml::Trainer::run(config, trainSource, haveVal ? &valSource : nullptr, this, &m_control, req.resume);
    if (!trained)
        return R::failure(trained.error());
    outcome.summary = trained.value();
    if (outcome.summary.cancelled || outcome.summary.bestBundle.empty())
        return outcome;

    const data::Split evalSplit = !dataset.inSplit(data::Split::Test).empty() ? data::Split::Test : data::Split::Val;
    if (dataset.inSplit(evalSplit).empty()) {
        emit logMessage(tr("No test or validation split: nothing to evaluate on"));
        return outcome;
    }
    emit stageChanged(tr("Evaluating on the %1 split").arg(QLatin1String(data::toString(evalSplit))));
    auto ev =
        evaluateBundle(outcome.summary.bestBundle, dataset, evalSplit, config.device, config.threads, req.batchSize);
    if (!ev)
        return R::failure("evaluation failed: " + ev.error());
    auto files = writeReportFiles(ev.value(), config.runDir);
    if (!files)
        return R::failure(files.error());
    outcome.report = ev->report;
    outcome.evaluatedSplit = ev->split;
    outcome.reportFiles = files.value();

    // The bundle's card carries the metrics it earned on the held-out split.
    if (auto best = ml::loadModel(outcome.summary.bestBundle)) {
        ml::ModelCard card = best->card;
        recordMetrics(card, metricPrefix(ev->split), ev->report);
        if (outcome.shortcut.checked)
            outcome.shortcut.recordIn(card);
        std::ostringstream summary;
        summary << "data " << req.dataPath << "; train/val/test samples " << dataset.inSplit(data::Split::Train).size()
                << "/" << dataset.inSplit(data::Split::Val).size() << "/" << dataset.inSplit(data::Split::Test).size()
                << (dataset.hasGivenSplits ? " (given splits)" : " (stratified, grouped by patient)") << "; "
                << outcome.summary.history.size() << " epochs, best " << outcome.summary.bestEpoch + 1 << "; "
                << config.optimizer << " lr " << config.learningRate << ", batch " << req.batchSize << ", augment "
                << req.augmentPreset;
        card.trainingSummary = summary.str();
        auto saved = ml::saveBundle(best->model, card, outcome.summary.bestBundle, &best->gaussians);
        if (!saved)
            emit logMessage(tr("Could not record the metrics in the bundle: %1").arg(q(saved.error())));
    }
    return outcome;
}

} // namespace lightbox::jobs
